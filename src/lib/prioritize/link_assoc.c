/* link_assoc.c - the linker's learnt term associations (see link.c, step
 * 4, and link_int.h). */
#include "prioritize/link_int.h"

#include "aipm/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- learnt term associations ----
 *
 * A customer's word for a thing ("voice" for phone calls, "gamification"
 * for team goals) is learnt from the labelled rows that hold it: the item
 * terms that most of their items' texts share. Unlike a labelled row's
 * text, which speaks for one item, an association speaks for every item
 * whose text holds the item terms, so a word learnt from the rows of one
 * item carries to its siblings (the same surface, the same feature) that
 * no row was labelled with. Each fold's associations come from the rows
 * outside it, as its label index does. */

typedef struct urow {
    int u, item, fold;
} urow;

typedef struct ucollect {
    const aipm_bm25 *lab;
    int ids[MAX_Q];
    int n;
} ucollect;

static int u_term(void *ctx, const char *term, size_t len)
{
    ucollect *c = ctx;
    int id = aipm_bm25_term_id(c->lab, term, len), i;

    if (id < 0 || c->n == MAX_Q)
        return 0;
    for (i = 0; i < c->n; i++)
        if (c->ids[i] == id)
            return 0;
    c->ids[c->n++] = id;
    return 0;
}

/* Item j's terms: fwd[start[j] .. start[j + 1]) (a transpose of the item
 * index's postings). */
static int item_terms(const aipm_bm25 *ix, int n_items, size_t **start,
                      int **fwd)
{
    int n_v = aipm_bm25_n_terms(ix), v, j;
    size_t k, n, *fill;

    *start = calloc((size_t)n_items + 2, sizeof(**start));
    if (*start == NULL)
        return -1;
    for (v = 0; v < n_v; v++) {
        const aipm_bm25_posting *p;

        n = aipm_bm25_postings(ix, v, &p);
        for (k = 0; k < n; k++)
            (*start)[p[k].doc + 1]++;
    }
    for (j = 0; j < n_items; j++)
        (*start)[j + 1] += (*start)[j];
    *fwd = malloc(((*start)[n_items] ? (*start)[n_items] : 1) * sizeof(**fwd));
    fill = malloc(((size_t)n_items + 1) * sizeof(*fill));
    if (*fwd == NULL || fill == NULL) {
        free(fill);
        return -1;
    }
    memcpy(fill, *start, ((size_t)n_items + 1) * sizeof(*fill));
    for (v = 0; v < n_v; v++) {
        const aipm_bm25_posting *p;

        n = aipm_bm25_postings(ix, v, &p);
        for (k = 0; k < n; k++)
            (*fwd)[fill[p[k].doc]++] = v;
    }
    free(fill);
    return 0;
}

typedef struct top_v {
    int v;
    double a, key; /* the share; share times log(lift) */
} top_v;

/* Insert (v, a, key) into the ASSOC_K of highest key, best first (ties:
 * the higher share). */
static void top_put(top_v *top, int *n, int v, double a, double key)
{
    int k;

    if (*n == ASSOC_K && (key < top[*n - 1].key ||
                          (key == top[*n - 1].key && a <= top[*n - 1].a)))
        return;
    k = *n < ASSOC_K ? (*n)++ : ASSOC_K - 1;
    for (; k > 0 && (top[k - 1].key < key ||
                     (top[k - 1].key == key && top[k - 1].a < a));
         k--)
        top[k] = top[k - 1];
    top[k].v = v;
    top[k].a = a;
    top[k].key = key;
}

/* Append term u's strongest associations (its entries end at
 * start[u + 1]); cap[0], cap[1]: the capacities of v and a. */
static int assoc_append(assoc *x, size_t *cap, int u, const top_v *top, int n)
{
    size_t at = x->start[u], i;

    if (aipm_grow(&x->v, &cap[0], at + (size_t)n, sizeof(*x->v)) != 0 ||
        aipm_grow(&x->a, &cap[1], at + (size_t)n, sizeof(*x->a)) != 0)
        return -1;
    for (i = 0; i < (size_t)n; i++) {
        x->v[at + i] = top[i].v;
        x->a[at + i] = (float)top[i].a;
    }
    x->start[u + 1] = at + (size_t)n;
    return 0;
}

int aipm_link__build_assoc(linker *L)
{
    const aipm_bm25 *lab = L->lab[N_FOLDS];
    int n_items = L->items.n_keys, n_u = aipm_bm25_n_terms(lab);
    int n_v = aipm_bm25_n_terms(L->ix), f, u, rc = AIPM_OK;
    size_t *fstart = NULL, *ustart = NULL, n_rows = 0, cap_rows = 0, i, k;
    size_t cap[N_FOLDS + 1][2] = {{0}};
    int *fwd = NULL, *touched = NULL;
    urow *rows = NULL, *sorted = NULL;
    double *base = NULL;
    int *acc = NULL;

    if (n_items == 0 || L->n_lab_rows == 0)
        return AIPM_OK;
    if (item_terms(L->ix, n_items, &fstart, &fwd) != 0)
        goto nomem;
    /* Each labelled row's distinct terms. */
    for (i = 0; i < L->n_lab_rows; i++) {
        const labelled *r = &L->lab_rows[i];
        ucollect c;
        int m, x;

        if (r->n_items == 0)
            continue;
        c.lab = lab;
        c.n = 0;
        aipm_tokenize(L->tok, r->text, strlen(r->text), u_term, &c);
        if (aipm_grow(&rows, &cap_rows,
                      n_rows + (size_t)c.n * (size_t)r->n_items,
                      sizeof(*rows)) != 0)
            goto nomem;
        for (x = 0; x < r->n_items; x++)
            for (m = 0; m < c.n; m++) {
                rows[n_rows].u = c.ids[m];
                rows[n_rows].item = r->items[x];
                rows[n_rows++].fold = r->fold;
            }
    }
    /* ... in term order (a counting sort). */
    ustart = calloc((size_t)n_u + 2, sizeof(*ustart));
    sorted = malloc((n_rows ? n_rows : 1) * sizeof(*sorted));
    if (ustart == NULL || sorted == NULL)
        goto nomem;
    for (i = 0; i < n_rows; i++)
        ustart[rows[i].u + 1]++;
    for (u = 0; u < n_u; u++)
        ustart[u + 1] += ustart[u];
    for (i = 0; i < n_rows; i++)
        sorted[ustart[rows[i].u]++] = rows[i];
    memmove(ustart + 1, ustart, (size_t)n_u * sizeof(*ustart));
    ustart[0] = 0;
    free(rows);
    rows = NULL;
    /* The base share of each item term in each fold's labelled rows. */
    base = calloc((size_t)(n_v ? n_v : 1) * (N_FOLDS + 1), sizeof(*base));
    acc = calloc((size_t)(n_v ? n_v : 1) * (N_FOLDS + 1), sizeof(*acc));
    touched = malloc((size_t)(n_v ? n_v : 1) * sizeof(*touched));
    if (base == NULL || acc == NULL || touched == NULL)
        goto nomem;
    for (f = 0; f <= N_FOLDS; f++)
        for (u = 0; u < n_items; u++)
            for (k = fstart[u]; k < fstart[u + 1]; k++)
                base[(size_t)fwd[k] * (N_FOLDS + 1) + (size_t)f] +=
                    (double)L->n_lab[f][u] /
                    (double)(L->lab_total[f] ? L->lab_total[f] : 1);
    for (f = 0; f <= N_FOLDS; f++) {
        L->ax[f].start = calloc((size_t)n_u + 1, sizeof(size_t));
        if (L->ax[f].start == NULL)
            goto nomem;
    }
    /* Per term: acc[v][fold] counts its rows in each fold whose item holds
     * v, acc[v][N_FOLDS] all of them. */
    for (u = 0; u < n_u; u++) {
        int n_t = 0, t, per[N_FOLDS + 1] = {0};

        for (i = ustart[u]; i < ustart[u + 1]; i++) {
            const urow *r = &sorted[i];

            per[r->fold]++;
            per[N_FOLDS]++;
            for (k = fstart[r->item]; k < fstart[r->item + 1]; k++) {
                int *a = &acc[(size_t)fwd[k] * (N_FOLDS + 1)];

                if (a[N_FOLDS] == 0)
                    touched[n_t++] = fwd[k];
                a[r->fold]++;
                a[N_FOLDS]++;
            }
        }
        for (f = 0; f <= N_FOLDS; f++) {
            top_v top[ASSOC_K];
            int n_top = 0;
            double support = f < N_FOLDS ? per[N_FOLDS] - per[f] : per[N_FOLDS];

            for (t = 0; support >= ASSOC_SUPPORT && t < n_t; t++) {
                const int *a = &acc[(size_t)touched[t] * (N_FOLDS + 1)];
                double b = base[(size_t)touched[t] * (N_FOLDS + 1) + (size_t)f];
                double cnt = f < N_FOLDS ? a[N_FOLDS] - a[f] : a[N_FOLDS];
                double sh = (cnt + ASSOC_PRIOR * b) / (support + ASSOC_PRIOR);

                if (b > 0 && sh >= ASSOC_MIN && sh >= ASSOC_LIFT * b)
                    top_put(top, &n_top, touched[t], sh, sh * log(sh / b));
            }
            if (assoc_append(&L->ax[f], cap[f], u, top, n_top) != 0)
                goto nomem;
        }
        for (t = 0; t < n_t; t++)
            memset(&acc[(size_t)touched[t] * (N_FOLDS + 1)], 0,
                   (N_FOLDS + 1) * sizeof(*acc));
    }
    L->x_at = calloc((size_t)(n_v ? n_v : 1), sizeof(*L->x_at));
    L->xs = calloc((size_t)n_items, sizeof(*L->xs));
    L->xs_touched = malloc((size_t)n_items * sizeof(*L->xs_touched));
    if (L->x_at == NULL || L->xs == NULL || L->xs_touched == NULL)
        goto nomem;
    goto done;
nomem:
    rc = aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
done:
    free(fstart);
    free(fwd);
    free(rows);
    free(sorted);
    free(ustart);
    free(base);
    free(acc);
    free(touched);
    return rc;
}

/* The item terms the query's terms are associated with in fold f, each
 * weighted by the term's weight times the association's strength (the
 * strongest when several terms give the same item term). */
void aipm_link__expand(linker *L, int f, query *q)
{
    const assoc *x = &L->ax[f];
    int i;
    size_t k;

    q->nx = 0;
    if (x->start == NULL)
        return;
    for (i = 0; i < q->n; i++) {
        if (q->id_u[i] < 0)
            continue;
        for (k = x->start[q->id_u[i]]; k < x->start[q->id_u[i] + 1]; k++) {
            double w = q->w[i] * x->a[k];
            int *at = &L->x_at[x->v[k]];

            if (*at) {
                if (w > q->xw[*at - 1])
                    q->xw[*at - 1] = w;
            } else if (q->nx < MAX_X) {
                q->xid[q->nx] = x->v[k];
                q->xw[q->nx++] = w;
                *at = q->nx;
            }
        }
    }
    for (i = 0; i < q->nx; i++)
        L->x_at[q->xid[i]] = 0;
}

/* The associations' score of every item for query q, into L->xs (the
 * items touched in L->xs_touched), and the CAND_TOP best into hits. */
int aipm_link__assoc_scores(linker *L, const query *q, aipm_bm25_hit *hits)
{
    int i, n_hits = 0;
    size_t k, n;

    L->n_xs = 0;
    if (L->xs == NULL)
        return 0;
    for (i = 0; i < q->nx; i++) {
        const aipm_bm25_posting *p;

        n = aipm_bm25_postings(L->ix, q->xid[i], &p);
        for (k = 0; k < n; k++) {
            if (L->xs[p[k].doc] == 0)
                L->xs_touched[L->n_xs++] = p[k].doc;
            L->xs[p[k].doc] += p[k].w * q->xw[i];
        }
    }
    for (i = 0; i < L->n_xs; i++) {
        aipm_bm25_hit h = {L->xs_touched[i], L->xs[L->xs_touched[i]]};
        int j;

        if (n_hits == CAND_TOP && (h.score < hits[CAND_TOP - 1].score ||
                                   (h.score == hits[CAND_TOP - 1].score &&
                                    h.doc > hits[CAND_TOP - 1].doc)))
            continue;
        j = n_hits < CAND_TOP ? n_hits++ : CAND_TOP - 1;
        for (; j > 0 &&
               (hits[j - 1].score < h.score ||
                (hits[j - 1].score == h.score && hits[j - 1].doc > h.doc));
             j--)
            hits[j] = hits[j - 1];
        hits[j] = h;
    }
    return n_hits;
}

/* Clear L->xs after an example's features are taken. */
void aipm_link__assoc_clear(linker *L)
{
    int i;

    for (i = 0; i < L->n_xs; i++)
        L->xs[L->xs_touched[i]] = 0;
    L->n_xs = 0;
}
