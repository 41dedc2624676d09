/* link.c - feedback rows linked to backlog items (see feedback.h).
 *
 * Order of work:
 *  1. the backlog (the newest accepted version of each item) becomes a BM25
 *     index of titles and descriptions; the corrections a string map;
 *  2. a first pass over the feedback keeps the labelled rows: a correction
 *     to an item or a given item_id of the backlog (about that item), or an
 *     unlink (about no item); their text and item;
 *  3. the labelled rows are split in N_FOLDS folds by a hash of their id;
 *     for each fold, and for all of them, a second BM25 index holds per
 *     item the text of its labelled rows outside the fold (customers' own
 *     words for it), and one more document the unlinked rows' text;
 *  4. from the same rows, learnt associations of customers' words with
 *     item-text words ("voice" with "phone" and "calls"): they carry a
 *     word learnt on one item to its siblings that nobody labelled;
 *  5. a query is the text's distinct terms; a word that no index knows is
 *     replaced by the known words within a typo or two (fuzzy.c, on the
 *     words as written, before stemming), with a weight below an exact
 *     match; the associations add the item-text terms its terms stand for;
 *  6. the candidates are the best CAND_TOP items of the item index, the
 *     labelled-text index and the associations; each gets four features
 *     (item-text score, labelled-text score, the log of its share of the
 *     labels, the associations' score), and "none" three (its
 *     labelled-text score against the unlinked rows, a constant,
 *     log(1 + terms)); a conditional logit (McFadden) over the candidates
 *     and "none" gives the confidences;
 *  7. its six weights are fitted by Newton's method on the held-out rows
 *     of every fold (each scored against the fold's indexes, so a row never
 *     sees its own text): the true item (or "none" for an unlinked row) is
 *     the answer; the same row with its item taken out of the candidates,
 *     weighted NEG_WEIGHT, has "none" as the answer (a row about an item
 *     that is not in the backlog is what chatter looks like to the model);
 *     and the same row with its item's labels hidden, weighted
 *     COLD_WEIGHT, has its item as the answer (an item nobody has labelled
 *     yet must still win on its own words);
 *  8. the held-out predictions give the threshold (the lowest confidence at
 *     which the links are still AIPM_LINK_TARGET_PRECISION right, ending
 *     in a right link) and the reported accuracy;
 *  9. a second pass streams every row through the model with the indexes
 *     of all labelled rows; a text of several sentences also has each
 *     sentence scored, and each sentence's best item above the threshold
 *     is linked too.
 * Memory holds the backlog and the labelled rows, never the other rows.
 * The associations (step 4, and their use in queries) are in
 * link_assoc.c; what the two share is in link_int.h.
 */
#include "aipm/audit.h"
#include "aipm/feedback.h"
#include "aipm/text.h"
#include "prioritize/link_int.h"
#include "prioritize/prioritize_int.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int has_item(const int *items, int n, int item)
{
    int i;

    for (i = 0; i < n; i++)
        if (items[i] == item)
            return 1;
    return 0;
}

const char *aipm_link_status_name(aipm_link_status s)
{
    switch (s) {
    case AIPM_LINK_GIVEN:
        return "given";
    case AIPM_LINK_LINKED:
        return "linked";
    case AIPM_LINK_REVIEW:
        return "needs_review";
    case AIPM_LINK_CORRECTED:
        return "corrected";
    }
    return "?";
}

/* ---- loading ---- */

/* A word of the vocabulary, for the typo matcher, and its stem. The
 * matcher compares words as written, not stems: a typo changes how a word
 * stems ("chages" -> "chage", "changes" -> "chang": two edits apart as
 * stems, one as words). */
static int surf_term(void *ctx, const char *term, size_t len)
{
    linker *L = ctx;
    size_t wlen;
    const char *word = aipm_tokenizer_word(L->tok, &wlen);
    int idx, added, rc;

    if (aipm_fuzzy_max_distance(wlen) == 0)
        return 0; /* never corrected, never a correction's target */
    if ((rc = aipm_strmap_put(&L->surf, word, wlen, &idx, &added)) != 0)
        return aipm_error_set(L->err, rc, "out of memory");
    if (!added)
        return 0;
    if (aipm_grow(&L->surf_stem, &L->cap_surf, (size_t)idx + 1,
                  sizeof(*L->surf_stem)) != 0 ||
        (L->surf_stem[idx] = strndup(term, len)) == NULL)
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    return aipm_fuzzy_add(L->fuzzy, word, wlen, L->err);
}

static int add_item(void *ctx, const aipm_backlog_text *r)
{
    linker *L = ctx;
    aipm_buf doc;
    int idx, added, rc;

    if (r->id == NULL)
        return 0;
    if ((rc = aipm_strmap_put(&L->items, r->id, strlen(r->id), &idx, &added)) !=
        0) {
        L->failed = 1;
        return aipm_error_set(L->err, rc,
                              rc == AIPM_EINVALID ? "more than %d backlog items"
                                                  : "out of memory",
                              MAX_ITEMS);
    }
    if (!added) /* the same id twice in the newest rows: keep the first */
        return 0;
    if (aipm_grow(&L->titles, &L->cap_titles, (size_t)idx + 1,
                  sizeof(*L->titles)) != 0 ||
        (L->titles[idx] = strdup(r->title ? r->title : "")) == NULL) {
        L->failed = 1;
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    }
    aipm_buf_init(&doc, (size_t)1 << 24);
    if (aipm_buf_printf(&doc, "%s\n%s", r->title ? r->title : "",
                        r->description) != 0) {
        aipm_buf_free(&doc);
        L->failed = 1;
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    }
    rc = aipm_bm25_add(L->ix, L->tok, doc.ptr, doc.len, L->err);
    if (rc == AIPM_OK)
        rc = aipm_tokenize(L->tok, doc.ptr, doc.len, surf_term, L);
    aipm_buf_free(&doc);
    if (rc)
        L->failed = 1;
    return rc;
}

static int add_correction(void *ctx, const char *feedback_id,
                          const char *item_id)
{
    linker *L = ctx;
    correction *c;
    int idx, added, rc, doc;

    if (feedback_id == NULL)
        return 0;
    if ((rc = aipm_strmap_put(&L->corr, feedback_id, strlen(feedback_id), &idx,
                              &added)) != 0) {
        L->failed = 1;
        return aipm_error_set(L->err, rc, "too many feedback corrections");
    }
    if (aipm_grow(&L->corr_of, &L->n_corr_cap, (size_t)idx + 1,
                  sizeof(*L->corr_of)) != 0) {
        L->failed = 1;
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    }
    c = &L->corr_of[idx];
    if (added)
        memset(c, 0, sizeof(*c));
    if (item_id == NULL || item_id[0] == '\0') {
        c->none = 1;
        return 0;
    }
    /* An item no longer in the backlog links nothing. */
    doc = aipm_strmap_find(&L->items, item_id, strlen(item_id));
    if (doc >= 0 && c->n < AIPM_LINK_MAX_ITEMS && !has_item(c->item, c->n, doc))
        c->item[c->n++] = doc;
    return 0;
}

/* The items a row is known to be about, into items[] (how many returned):
 * a person's corrections, else its own item_id when the backlog has it.
 * *how tells which rule applied (AIPM_LINK_REVIEW: none); *none is 1 when
 * a person said the row is about no item. */
static int known_items(const linker *L, const aipm_feedback_text *r,
                       aipm_link_status *how, int *items, int *none)
{
    int c, doc;

    *none = 0;
    if ((c = aipm_strmap_find(&L->corr, r->id, strlen(r->id))) >= 0) {
        const correction *k = &L->corr_of[c];

        *how = AIPM_LINK_CORRECTED;
        *none = k->none && k->n == 0;
        memcpy(items, k->item, (size_t)k->n * sizeof(*items));
        return k->n;
    }
    if (r->item_id && (doc = aipm_strmap_find(&L->items, r->item_id,
                                              strlen(r->item_id))) >= 0) {
        *how = AIPM_LINK_GIVEN;
        items[0] = doc;
        return 1;
    }
    *how = AIPM_LINK_REVIEW;
    return 0;
}

static void sift_down(labelled *a, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        labelled x;

        if (l < n && a[l].key > a[m].key)
            m = l;
        if (r < n && a[r].key > a[m].key)
            m = r;
        if (m == i)
            return;
        x = a[i];
        a[i] = a[m];
        a[m] = x;
        i = m;
    }
}

/* The labelled rows as a max-heap on their keys: built whole when they
 * first fill it (top 0), restored from the top after a replacement
 * (top 1). */
static void heap_fix(labelled *a, size_t n, int top)
{
    size_t i;

    if (top) {
        sift_down(a, n, 0);
        return;
    }
    for (i = n / 2; i-- > 0;)
        sift_down(a, n, i);
}

static int keep_labelled(void *ctx, const aipm_feedback_text *fb)
{
    linker *L = ctx;
    aipm_link_status how;
    labelled *r;
    uint64_t h, key;
    char *t;
    int items[AIPM_LINK_MAX_ITEMS], n_items, none;

    if (fb->id == NULL || fb->text == NULL)
        return 0;
    /* An unlink (a correction to no item) is labelled too: about none. */
    if ((n_items = known_items(L, fb, &how, items, &none)) == 0 && !none)
        return 0;
    h = aipm_strmap_hash(fb->id, strlen(fb->id));
    key = h * UINT64_C(0x9E3779B97F4A7C15); /* other bits than the fold's */
    L->stats.eval.labelled++;
    /* Beyond max_lab rows, a sample of max_lab: those whose keys are the
     * smallest (the same sample whatever the order), so memory does not
     * grow with the data. */
    if (L->n_lab_rows == L->max_lab) {
        /* Full: a max-heap on the key; this row replaces the top when its
         * key is smaller. */
        if (key >= L->lab_rows[0].key)
            return 0;
        if ((t = strdup(fb->text)) == NULL)
            return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
        free(L->lab_rows[0].text);
        r = &L->lab_rows[0];
    } else {
        if (aipm_grow(&L->lab_rows, &L->cap_lab_rows, L->n_lab_rows + 1,
                      sizeof(*L->lab_rows)) != 0 ||
            (t = strdup(fb->text)) == NULL)
            return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
        r = &L->lab_rows[L->n_lab_rows++];
    }
    r->text = t;
    r->key = key;
    r->n_items = n_items;
    memcpy(r->items, items, (size_t)n_items * sizeof(*items));
    /* The fold and the CV sample from the id's hash: the same rows every
     * run, whatever the order. */
    r->fold = (int)(h % N_FOLDS);
    r->cv = 0;
    if (L->n_lab_rows == L->max_lab)
        heap_fix(L->lab_rows, L->max_lab, r == L->lab_rows);
    return 0;
}

/* The labelled-text indexes: per fold (its rows left out) and for all.
 * Document j < n_items holds the text of item j's labelled rows; document
 * n_items that of the unlinked rows (about no item), which the "none"
 * option is scored against, as an item against its own. */
static int build_label_indexes(linker *L)
{
    int n_items = L->items.n_keys, f, rc = AIPM_OK;
    int *order = NULL;
    size_t i, n = 0, *at = NULL, *start = NULL;
    int g, k;
    aipm_buf doc;

    /* The (row, item) pairs by group (item + 1; 0: no item) by a counting
     * sort: group g is the rows order[start[g] .. start[g + 1]). A row of
     * several items is in each of their groups. */
    for (i = 0; i < L->n_lab_rows; i++)
        n += L->lab_rows[i].n_items ? (size_t)L->lab_rows[i].n_items : 1;
    aipm_buf_init(&doc, (size_t)1 << 30);
    order = malloc((n ? n : 1) * sizeof(*order));
    at = calloc((size_t)n_items + 2, sizeof(*at));
    start = calloc((size_t)n_items + 2, sizeof(*start));
    if (order == NULL || at == NULL || start == NULL) {
        rc = aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < L->n_lab_rows; i++) {
        const labelled *r = &L->lab_rows[i];

        if (r->n_items == 0)
            at[1]++;
        for (k = 0; k < r->n_items; k++)
            at[r->items[k] + 2]++;
    }
    for (g = 0; g <= n_items; g++)
        at[g + 1] += at[g];
    memcpy(start, at, ((size_t)n_items + 2) * sizeof(*start));
    for (i = 0; i < L->n_lab_rows; i++) {
        const labelled *r = &L->lab_rows[i];

        if (r->n_items == 0)
            order[at[0]++] = (int)i;
        for (k = 0; k < r->n_items; k++)
            order[at[r->items[k] + 1]++] = (int)i;
    }
    for (f = 0; f <= N_FOLDS && rc == AIPM_OK; f++) {
        if ((rc = aipm_bm25_new(&L->lab[f], L->err)) != 0)
            break;
        L->n_lab[f] = calloc((size_t)n_items + 1, sizeof(int64_t));
        if (L->n_lab[f] == NULL) {
            rc = aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
            break;
        }
        /* Items first (documents 0 .. n_items - 1), then no item. */
        for (g = 1; rc == AIPM_OK && g <= n_items + 1; g++) {
            int grp = g <= n_items ? g : 0, j = grp - 1 < 0 ? n_items : grp - 1;

            aipm_buf_reset(&doc);
            for (i = start[grp]; i < start[grp + 1]; i++) {
                const labelled *r = &L->lab_rows[order[i]];

                if (r->fold == f)
                    continue;
                L->n_lab[f][j]++;
                if (grp > 0)
                    L->lab_total[f]++;
                if (aipm_buf_printf(&doc, "%s\n", r->text) != 0) {
                    rc = aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
                    break;
                }
            }
            if (rc == AIPM_OK)
                rc = aipm_bm25_add(L->lab[f], L->tok, doc.ptr ? doc.ptr : "",
                                   doc.len, L->err);
        }
        if (rc == AIPM_OK)
            rc = aipm_bm25_finish(L->lab[f], L->err);
    }
done:
    aipm_buf_free(&doc);
    free(order);
    free(at);
    free(start);
    return rc;
}

/* The words of the labelled rows join the items' in the typo matcher. */
static int build_fuzzy(linker *L)
{
    size_t i;
    int rc;

    for (i = 0; i < L->n_lab_rows; i++)
        if ((rc = aipm_tokenize(L->tok, L->lab_rows[i].text,
                                strlen(L->lab_rows[i].text), surf_term, L)) !=
            0)
            return rc;
    return AIPM_OK;
}

/* ---- queries and the model ---- */

typedef struct qbuild {
    linker *L;
    const aipm_bm25 *lab;
    query *q;
} qbuild;

static void q_put(query *q, int id_item, int id_lab, int id_u, double w)
{
    int i;

    if (id_item < 0 && id_lab < 0)
        return;
    for (i = 0; i < q->n; i++)
        if (q->id_item[i] == id_item && q->id_lab[i] == id_lab) {
            if (w > q->w[i])
                q->w[i] = w;
            return;
        }
    if (q->n == MAX_Q)
        return;
    q->id_item[q->n] = id_item;
    q->id_lab[q->n] = id_lab;
    q->id_u[q->n] = id_u;
    q->w[q->n++] = w;
}

static int q_term(void *ctx, const char *term, size_t len)
{
    qbuild *b = ctx;
    query *q = b->q;
    int a = aipm_bm25_term_id(b->L->ix, term, len);
    int c = aipm_bm25_term_id(b->lab, term, len);

    q->n_terms++;
    if (a >= 0 || c >= 0) {
        q_put(q, a, c, aipm_bm25_term_id(b->L->lab[N_FOLDS], term, len), 1);
    } else {
        size_t wlen;
        const char *word = aipm_tokenizer_word(b->L->tok, &wlen);
        aipm_fuzzy_hit hits[FUZZY_K];
        int k = aipm_fuzzy_max_distance(wlen) > 0
                    ? aipm_fuzzy_match(b->L->fuzzy, word, wlen, hits, FUZZY_K)
                    : 0,
            i;

        /* Only the nearest: "impotr" is "import", not also "importer". */
        for (i = 0; i < k && hits[i].distance == hits[0].distance; i++) {
            int s = aipm_strmap_find(&b->L->surf, hits[i].term,
                                     strlen(hits[i].term));
            const char *st = s >= 0 ? b->L->surf_stem[s] : hits[i].term;
            size_t tl = strlen(st);

            q_put(q, aipm_bm25_term_id(b->L->ix, st, tl),
                  aipm_bm25_term_id(b->lab, st, tl),
                  aipm_bm25_term_id(b->L->lab[N_FOLDS], st, tl),
                  hits[i].distance == 1 ? FUZZY_W1 : FUZZY_W2);
        }
    }
    return 0;
}

static void make_query(linker *L, int f, const char *text, size_t len, query *q)
{
    qbuild b = {L, L->lab[f], q};

    q->n = q->n_terms = 0;
    aipm_tokenize(L->tok, text, len, q_term, &b);
    aipm_link__expand(L, f, q);
}

/* The features of item j for query q against label index f. */
static void features(const linker *L, int f, const query *q, int j, double *x)
{
    x[0] = aipm_bm25_doc_score(L->ix, q->id_item, q->w, q->n, j);
    x[1] = aipm_bm25_doc_score(L->lab[f], q->id_lab, q->w, q->n, j);
    x[2] = log(((double)L->n_lab[f][j] + 1) /
               ((double)L->lab_total[f] + L->items.n_keys));
    x[3] = x[4] = 0;
    x[5] = L->xs ? L->xs[j] : 0;
}

static void add_option(const linker *L, int f, const query *q, example *e,
                       int item)
{
    int i;

    for (i = 0; i < e->n_opt; i++)
        if (e->opt[i].item == item)
            return;
    e->opt[e->n_opt].item = item;
    if (item < 0) {
        memset(e->opt[e->n_opt].x, 0, sizeof(e->opt[e->n_opt].x));
        if (L->lab[f] != NULL && L->n_lab[f][L->items.n_keys] > 0)
            e->opt[e->n_opt].x[1] = aipm_bm25_doc_score(
                L->lab[f], q->id_lab, q->w, q->n, L->items.n_keys);
        e->opt[e->n_opt].x[3] = 1;
        e->opt[e->n_opt].x[4] = log1p((double)q->n_terms);
    } else {
        features(L, f, q, item, e->opt[e->n_opt].x);
    }
    e->n_opt++;
}

/* The candidates of a query (best of each index and of the associations)
 * and "none", first. L->xs stays filled for more options of the same
 * query until assoc_clear. */
static int candidates(linker *L, int f, const query *q, example *e)
{
    aipm_bm25_hit hits[CAND_TOP], xhits[CAND_TOP];
    int k, i, nx = aipm_link__assoc_scores(L, q, xhits);

    e->n_opt = 0;
    add_option(L, f, q, e, -1);
    k = aipm_bm25_query_ids(L->ix, q->id_item, q->w, q->n, hits, CAND_TOP);
    if (k < 0)
        return k;
    for (i = 0; i < k; i++)
        add_option(L, f, q, e, hits[i].doc);
    k = aipm_bm25_query_ids(L->lab[f], q->id_lab, q->w, q->n, hits, CAND_TOP);
    if (k < 0)
        return k;
    for (i = 0; i < k; i++)
        if (hits[i].doc < L->items.n_keys) /* not the unlinked rows' */
            add_option(L, f, q, e, hits[i].doc);
    for (i = 0; i < nx; i++)
        add_option(L, f, q, e, xhits[i].doc);
    return AIPM_OK;
}

/* Probabilities of the options under weights w, into p; returns the
 * log-sum-exp. */
static double softmax(const example *e, const double *w, double *p)
{
    double top = -INFINITY, sum = 0;
    int i, k;

    for (i = 0; i < e->n_opt; i++) {
        double s = 0;

        for (k = 0; k < N_W; k++)
            s += w[k] * e->opt[i].x[k];
        p[i] = s;
        if (s > top)
            top = s;
    }
    for (i = 0; i < e->n_opt; i++)
        sum += (p[i] = exp(p[i] - top));
    for (i = 0; i < e->n_opt; i++)
        p[i] /= sum;
    return top + log(sum);
}

/* Solve (A) x = b for a symmetric positive definite n x n A (Cholesky);
 * 0 or -1 when A is not positive definite. */
static int spd_solve(double A[N_W][N_W], const double *b, double *x)
{
    double Lm[N_W][N_W], y[N_W];
    int i, j, k;

    memset(Lm, 0, sizeof(Lm));
    for (i = 0; i < N_W; i++)
        for (j = 0; j <= i; j++) {
            double s = A[i][j];

            for (k = 0; k < j; k++)
                s -= Lm[i][k] * Lm[j][k];
            if (i == j) {
                if (s <= 0)
                    return -1;
                Lm[i][i] = sqrt(s);
            } else {
                Lm[i][j] = s / Lm[j][j];
            }
        }
    for (i = 0; i < N_W; i++) {
        double s = b[i];

        for (k = 0; k < i; k++)
            s -= Lm[i][k] * y[k];
        y[i] = s / Lm[i][i];
    }
    for (i = N_W - 1; i >= 0; i--) {
        double s = y[i];

        for (k = i + 1; k < N_W; k++)
            s -= Lm[k][i] * x[k];
        x[i] = s / Lm[i][i];
    }
    return 0;
}

/* Maximum a posteriori weights of the conditional logit by Newton's
 * method with step halving (the log-likelihood is concave). The ridge is a
 * normal prior of variance 1 on the weights, almost none on the "none"
 * constant: it keeps the weights finite when a few labelled rows separate
 * the items perfectly (they would grow without bound and every confidence
 * would be 0 or 1), and is negligible against thousands of rows. */
static const double ridge[N_W] = {1, 1, 1, 0.01, 1, 1};

static double loglik(const example *ex, size_t n, const double *w)
{
    double ll = 0, p[MAX_CAND + 1];
    size_t i;

    for (i = 0; i < n; i++) {
        const example *e = &ex[i];
        double lse = softmax(e, w, p), s = 0;
        int k;

        for (k = 0; k < N_W; k++)
            s += w[k] * e->opt[e->answer].x[k];
        ll += e->weight * (s - lse);
    }
    for (i = 0; i < N_W; i++)
        ll -= 0.5 * ridge[i] * w[i] * w[i];
    return ll;
}

static void fit(const example *ex, size_t n, double *w)
{
    double ll = loglik(ex, n, w);
    int it;

    for (it = 0; it < 50; it++) {
        double g[N_W] = {0}, H[N_W][N_W], step[N_W], p[MAX_CAND + 1], t = 1;
        double trial[N_W], ll2 = ll;
        size_t i;
        int a, b, k;

        memset(H, 0, sizeof(H));
        for (i = 0; i < n; i++) {
            const example *e = &ex[i];
            double mean[N_W] = {0};

            softmax(e, w, p);
            for (k = 0; k < e->n_opt; k++)
                for (a = 0; a < N_W; a++)
                    mean[a] += p[k] * e->opt[k].x[a];
            for (a = 0; a < N_W; a++)
                g[a] += e->weight * (e->opt[e->answer].x[a] - mean[a]);
            for (k = 0; k < e->n_opt; k++)
                for (a = 0; a < N_W; a++)
                    for (b = 0; b <= a; b++)
                        H[a][b] += e->weight * p[k] *
                                   (e->opt[k].x[a] - mean[a]) *
                                   (e->opt[k].x[b] - mean[b]);
        }
        for (a = 0; a < N_W; a++) {
            for (b = 0; b < a; b++)
                H[b][a] = H[a][b];
            H[a][a] += ridge[a];
            g[a] -= ridge[a] * w[a]; /* the ridge's gradient */
        }
        if (spd_solve(H, g, step) != 0)
            break;
        for (; t > 1e-4; t /= 2) {
            for (a = 0; a < N_W; a++)
                trial[a] = w[a] + t * step[a];
            if ((ll2 = loglik(ex, n, trial)) >= ll)
                break;
        }
        if (t <= 1e-4)
            break;
        memcpy(w, trial, sizeof(trial));
        if (ll2 - ll < 1e-9 * (1 + fabs(ll))) {
            ll = ll2;
            break;
        }
        ll = ll2;
    }
}

typedef struct pred {
    double conf; /* of the best item (not none) */
    int right, in3;
    int none; /* the row is about no item (unlinked) */
} pred;

static int cmp_pred(const void *a, const void *b)
{
    const pred *x = a, *y = b;

    if (x->conf != y->conf)
        return x->conf > y->conf ? -1 : 1;
    return 0;
}

/* The n best items of an example (indexes of options, best first, ties
 * by option order); "none" is never one. Returns how many (0..n). */
static int best_items(const example *e, const double *p, int *order, int n)
{
    int i, k, m = 0;

    for (i = 0; i < e->n_opt; i++) {
        if (e->opt[i].item < 0)
            continue;
        if (m == n && p[order[n - 1]] >= p[i])
            continue;
        k = m < n ? m++ : n - 1;
        for (; k > 0 && p[order[k - 1]] < p[i]; k--)
            order[k] = order[k - 1];
        order[k] = i;
    }
    return m;
}

/* Steps 6 and 7: the held-out examples, the fit, the threshold, the
 * figures. */
static int cross_validate(linker *L)
{
    aipm_link_eval *ev = &L->stats.eval;
    example *ex = NULL;
    pred *pr = NULL;
    size_t n_cv = 0, i, n_ex = 0, stride;
    int rc = AIPM_OK;

    ev->learnt_from = (int64_t)L->n_lab_rows;
    if (L->n_lab_rows < AIPM_LINK_MIN_LABELLED)
        return AIPM_OK;
    stride = (L->n_lab_rows + CV_MAX_ROWS - 1) / CV_MAX_ROWS;
    for (i = 0; i < L->n_lab_rows; i += stride) {
        L->lab_rows[i].cv = 1;
        n_cv++;
    }
    ex = malloc(EX_PER_ROW * n_cv * sizeof(*ex));
    pr = L->pred = malloc(n_cv * sizeof(*pr));
    if (ex == NULL || pr == NULL) {
        rc = aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < L->n_lab_rows; i++) {
        const labelled *r = &L->lab_rows[i];
        example *pos = &ex[n_ex], *neg, *cold;
        query q;
        int k, j, item = r->n_items ? r->items[0] : -1;

        if (!r->cv)
            continue;
        make_query(L, r->fold, r->text, strlen(r->text), &q);
        if ((rc = candidates(L, r->fold, &q, pos)) != 0) {
            rc = aipm_error_set(L->err, rc, "text index not ready");
            goto done;
        }
        /* The answer is the row's first item (any of its items is right in
         * the figures below). */
        k = pos->n_opt;
        if (item >= 0)
            add_option(L, r->fold, &q, pos, item);
        aipm_link__assoc_clear(L);
        pos->added = pos->n_opt > k;
        pos->weight = 1;
        pos->row = (int)i;
        if (item < 0) {
            /* An unlinked row: "none" is the answer; nothing to take out
             * or to make cold. */
            pos->answer = 0;
            ex[n_ex + 1] = ex[n_ex + 2] = *pos;
            ex[n_ex + 1].weight = ex[n_ex + 2].weight = 0;
            n_ex += EX_PER_ROW;
            continue;
        }
        for (k = 0; k < pos->n_opt; k++)
            if (pos->opt[k].item == item)
                pos->answer = k;
        neg = &ex[n_ex + 1];
        neg->n_opt = 0;
        neg->weight = NEG_WEIGHT;
        neg->answer = 0; /* none is option 0 */
        neg->added = 0;
        for (k = 0, j = 0; k < pos->n_opt; k++)
            if (!has_item(r->items, r->n_items, pos->opt[k].item))
                neg->opt[j++] = pos->opt[k];
        neg->n_opt = j;
        cold = &ex[n_ex + 2];
        *cold = *pos;
        cold->weight = COLD_WEIGHT;
        cold->opt[cold->answer].x[1] = 0;
        cold->opt[cold->answer].x[2] =
            log(1 / ((double)L->lab_total[r->fold] + L->items.n_keys));
        n_ex += EX_PER_ROW;
    }
    fit(ex, n_ex, L->w);
    ev->fitted = 1;
    /* The held-out predictions. The answer was added to the candidates for
     * the fit; a prediction sees only what retrieval found. */
    for (i = 0; i < n_ex; i += EX_PER_ROW) {
        example e = ex[i];
        double p[MAX_CAND + 1];
        int order[3], m, k;
        pred *d = &pr[i / EX_PER_ROW];
        const labelled *r = &L->lab_rows[e.row];

        if (e.added)
            e.n_opt--; /* retrieval did not find it */
        softmax(&e, L->w, p);
        m = best_items(&e, p, order, 3);
        d->conf = m ? p[order[0]] : 0;
        d->none = r->n_items == 0;
        d->right = m && has_item(r->items, r->n_items, e.opt[order[0]].item);
        d->in3 = 0;
        for (k = 0; k < m; k++)
            d->in3 |= has_item(r->items, r->n_items, e.opt[order[k]].item);
    }
    ev->cv_rows = (int64_t)n_cv;
    {
        size_t n_right = 0, n_in3 = 0, n_about = 0, best_n = 0, run_right = 0;
        double best_t = 1.01;

        for (i = 0; i < n_cv; i++) {
            n_right += (size_t)pr[i].right;
            n_in3 += (size_t)pr[i].in3;
            n_about += (size_t)!pr[i].none;
        }
        ev->cv_none = (int64_t)(n_cv - n_about);
        ev->top1 = n_about ? (double)n_right / (double)n_about : NAN;
        ev->top3 = n_about ? (double)n_in3 / (double)n_about : NAN;
        /* The threshold: the longest prefix, by falling confidence, whose
         * links are at least the target precision right (ties kept
         * together) and that ends in a right link: wrong links below the
         * last right one would spend the precision for no recall (a row
         * people unlinked at a confidence of 0.0001 would set the
         * threshold there). */
        qsort(pr, n_cv, sizeof(*pr), cmp_pred);
        for (i = 0; i < n_cv; i++) {
            size_t before = run_right;

            run_right += (size_t)pr[i].right;
            for (; i + 1 < n_cv && pr[i + 1].conf == pr[i].conf; i++)
                run_right += (size_t)pr[i + 1].right;
            if (pr[i].conf > 0 && run_right > before &&
                (double)run_right >=
                    AIPM_LINK_TARGET_PRECISION * (double)(i + 1)) {
                best_n = i + 1;
                best_t = pr[i].conf;
            }
        }
        ev->threshold_cv = best_n > 0;
        L->threshold = best_t;
        L->n_pred = n_cv;
    }
done:
    free(ex);
    return rc;
}

/* Precision and recall of the held-out rows at the threshold in use
 * (chosen or given). */
static void cv_figures(linker *L)
{
    aipm_link_eval *ev = &L->stats.eval;
    size_t i, linked = 0, linked_right = 0, review = 0, review_right = 0;
    size_t about = 0, review_about = 0;

    if (!ev->fitted || L->n_pred == 0)
        return;
    for (i = 0; i < L->n_pred; i++) {
        const pred *d = &L->pred[i];

        about += (size_t)!d->none;
        if (d->conf > 0 && d->conf >= L->threshold) {
            linked++; /* an unlinked row linked is a wrong link */
            linked_right += (size_t)d->right;
        } else {
            review++;
            review_about += (size_t)!d->none;
            review_right += (size_t)d->right;
        }
    }
    /* Recall and the review queue's top-1 are over the rows about an item;
     * precision and the review share over all. */
    ev->linked_precision = linked ? (double)linked_right / (double)linked : NAN;
    ev->linked_recall = about ? (double)linked_right / (double)about : NAN;
    ev->review_share = (double)review / (double)L->n_pred;
    ev->review_top1 =
        review_about ? (double)review_right / (double)review_about : NAN;
}

/* ---- step 8: every row ---- */

/* The model on text against the index of all labelled rows: the
 * candidates with their probabilities, best item first in order[]. */
static int score_text(linker *L, const char *text, size_t len, example *e,
                      double *p, int *order, int n_order, query *q)
{
    int rc;

    make_query(L, N_FOLDS, text, len, q);
    rc = candidates(L, N_FOLDS, q, e);
    aipm_link__assoc_clear(L);
    if (rc != 0)
        return -1;
    softmax(e, L->w, p);
    return best_items(e, p, order, n_order);
}

/* Sentences of a text: split at . ! ? ; and new lines, and before
 * "also". Fills starts/lens; returns how many (at most MAX_SEGMENTS, the
 * last one taking the rest). */
static int segments(const char *t, size_t len, size_t *starts, size_t *lens)
{
    size_t i, s = 0;
    int n = 0;

    for (i = 0; i <= len && n < MAX_SEGMENTS; i++) {
        int mark = i < len && strchr(".!?;\n", t[i]) != NULL;
        int also = !mark && i < len && i > s && i + 4 <= len &&
                   t[i - 1] == ' ' && strncasecmp(t + i, "also", 4) == 0 &&
                   (i + 4 == len || !isalpha((unsigned char)t[i + 4]));

        if (!mark && !also && i < len)
            continue;
        if (i > s) {
            starts[n] = s;
            lens[n++] = i - s;
        }
        /* A mark ends its sentence; "also" begins the next one. */
        s = mark ? i + 1 : i;
    }
    if (n == MAX_SEGMENTS && starts[n - 1] + lens[n - 1] < len)
        lens[n - 1] = len - starts[n - 1];
    return n;
}

static void add_link(aipm_link *l, const char *item, double conf)
{
    int i;

    for (i = 0; i < l->n_items; i++)
        if (strcmp(l->items[i], item) == 0)
            return;
    if (l->n_items == AIPM_LINK_MAX_ITEMS)
        return;
    l->items[l->n_items] = item;
    l->item_conf[l->n_items++] = conf;
}

static int link_row(void *ctx, const aipm_feedback_text *fb)
{
    linker *L = ctx;
    example e;
    query q;
    double p[MAX_CAND + 1];
    int order[AIPM_LINK_CANDS], m, i, n_known, none;
    int known[AIPM_LINK_MAX_ITEMS];
    aipm_link l;
    aipm_link_status how;
    const char *body;
    size_t blen;

    if (fb->id == NULL)
        return 0;
    body = fb->text ? fb->text : "";
    blen = strlen(body);
    memset(&l, 0, sizeof(l));
    l.feedback_id = fb->id;
    l.text = body;
    l.account_id = fb->account_id;
    l.created_at = fb->created_at;
    l.score = NAN;
    l.confidence = NAN;
    if ((m = score_text(L, body, blen, &e, p, order, AIPM_LINK_CANDS, &q)) < 0)
        return aipm_error_set(L->err, AIPM_EINVALID, "text index not ready");
    for (i = 0; i < m; i++) {
        l.cands[i].item_id = L->items.keys[e.opt[order[i]].item];
        l.cands[i].title = L->titles[e.opt[order[i]].item];
        l.cands[i].confidence = p[order[i]];
    }
    l.n_cands = m;
    l.model_item = m ? l.cands[0].item_id : NULL;
    l.confidence = m ? p[order[0]] : NAN;
    n_known = known_items(L, fb, &how, known, &none);
    if (how != AIPM_LINK_REVIEW) {
        l.status = how;
        for (i = 0; i < n_known; i++)
            add_link(&l, L->items.keys[known[i]], NAN);
        if (how == AIPM_LINK_CORRECTED)
            L->stats.corrected++;
        else
            L->stats.given++;
    } else {
        if (m && p[order[0]] >= L->threshold)
            add_link(&l, l.model_item, p[order[0]]);
    }
    /* Several asks: each sentence's own best item. A person's correction
     * stands alone. */
    if (how != AIPM_LINK_CORRECTED) {
        size_t st[MAX_SEGMENTS], ln[MAX_SEGMENTS];
        int ns = segments(body, blen, st, ln), s;

        for (s = 0; ns > 1 && s < ns; s++) {
            example es;
            query qs;
            double ps[MAX_CAND + 1];
            int os[1];

            if (score_text(L, body + st[s], ln[s], &es, ps, os, 1, &qs) > 0 &&
                qs.n_terms >= 2 && ps[os[0]] >= L->threshold)
                add_link(&l, L->items.keys[es.opt[os[0]].item], ps[os[0]]);
        }
    }
    if (how == AIPM_LINK_REVIEW) {
        l.status = l.n_items ? AIPM_LINK_LINKED : AIPM_LINK_REVIEW;
        if (l.status == AIPM_LINK_LINKED)
            L->stats.linked++;
        else
            L->stats.review++;
    }
    if (l.n_items) {
        int doc = aipm_strmap_find(&L->items, l.items[0], strlen(l.items[0]));

        l.item_id = l.items[0];
        if (doc >= 0)
            l.score = aipm_bm25_doc_score(L->ix, q.id_item, q.w, q.n, doc);
    } else if (l.status == AIPM_LINK_REVIEW) {
        l.item_id = l.model_item; /* the suggestion to review */
    }
    if (l.n_items > 1)
        L->stats.multi++;
    L->stats.rows++;
    if (L->o && L->o->progress && (L->stats.rows & 4095) == 0)
        L->o->progress(L->o->progress_ctx, (uint64_t)L->stats.rows,
                       (uint64_t)L->total);
    return L->cb(L->ctx, &l);
}

static void linker_free(linker *L)
{
    size_t i;
    int f;

    aipm_bm25_free(L->ix);
    for (f = 0; f <= N_FOLDS; f++) {
        aipm_bm25_free(L->lab[f]);
        free(L->n_lab[f]);
    }
    aipm_fuzzy_free(L->fuzzy);
    for (f = 0; f <= N_FOLDS; f++) {
        free(L->ax[f].start);
        free(L->ax[f].v);
        free(L->ax[f].a);
    }
    free(L->x_at);
    free(L->xs);
    free(L->xs_touched);
    aipm_tokenizer_free(L->tok);
    for (i = 0; i < (size_t)L->items.n_keys && i < L->cap_titles; i++)
        free(L->titles[i]);
    free(L->titles);
    aipm_strmap_free(&L->items);
    free(L->corr_of);
    aipm_strmap_free(&L->corr);
    for (i = 0; i < (size_t)L->surf.n_keys && i < L->cap_surf; i++)
        free(L->surf_stem[i]);
    free(L->surf_stem);
    aipm_strmap_free(&L->surf);
    for (i = 0; i < L->n_lab_rows; i++)
        free(L->lab_rows[i].text);
    free(L->lab_rows);
    free(L->pred);
}

int aipm_feedback_links(aipm_store *st, const aipm_link_opts *o,
                        aipm_link_cb cb, void *ctx, aipm_link_stats *stats,
                        aipm_error *err)
{
    /* The weights when nothing is learnt: the item-text BM25 score against
     * a "none" of AIPM_LINK_NONE_SCORE (the linker before labels). */
    static const double fixed[N_W] = {1, 0, 0, AIPM_LINK_NONE_SCORE, 0, 0};
    linker L;
    int rc;

    memset(&L, 0, sizeof(L));
    L.o = o;
    L.err = err;
    L.cb = cb;
    L.ctx = ctx;
    memcpy(L.w, fixed, sizeof(L.w));
    L.threshold = AIPM_LINK_THRESHOLD;
    L.max_lab = o && o->max_labelled > 0 ? (size_t)o->max_labelled
                                         : AIPM_LINK_MAX_LABELLED;
    aipm_strmap_init(&L.items, MAX_ITEMS);
    aipm_strmap_init(&L.corr, MAX_CORRECTIONS);
    aipm_strmap_init(&L.surf, MAX_SURF);
    if ((rc = aipm_tokenizer_new(&L.tok, err)) != 0 ||
        (rc = aipm_fuzzy_new(&L.fuzzy, err)) != 0 ||
        (rc = aipm_bm25_new(&L.ix, err)) != 0)
        goto done;
    rc = aipm_store_backlog_texts(st, add_item, &L, err);
    if (rc == AIPM_OK)
        rc = aipm_bm25_finish(L.ix, err);
    if (rc == AIPM_OK)
        rc = aipm_store_link_list(st, add_correction, &L, err);
    if (rc == AIPM_OK)
        rc = aipm_store_feedback_texts(st, keep_labelled, &L, err);
    if (rc == AIPM_OK)
        rc = build_label_indexes(&L);
    if (rc == AIPM_OK)
        rc = aipm_link__build_assoc(&L);
    if (rc == AIPM_OK)
        rc = build_fuzzy(&L);
    if (rc == AIPM_OK)
        rc = cross_validate(&L);
    if (rc == AIPM_OK && o && o->threshold > 0)
        L.threshold = o->threshold;
    if (rc == AIPM_OK)
        cv_figures(&L);
    L.stats.eval.threshold = L.threshold;
    memcpy(L.stats.eval.weights, L.w, sizeof(L.w));
    if (rc == AIPM_OK && o && o->progress)
        rc = aipm_store_feedback_count(st, &L.total, err);
    L.stats.items = aipm_bm25_n_docs(L.ix);
    if (rc == AIPM_OK)
        rc = aipm_store_feedback_texts(st, link_row, &L, err);
    if (rc == AIPM_OK && o && o->progress)
        o->progress(o->progress_ctx, (uint64_t)L.stats.rows, (uint64_t)L.total);
done:
    if (stats)
        *stats = L.stats;
    linker_free(&L);
    return rc;
}

int aipm_feedback_correct(aipm_store *st, const char *feedback_id,
                          const char *item_id, int unlink,
                          const char *checkpoint_path, aipm_error *err)
{
    json_t *detail = NULL;
    char *text = NULL, object[300];
    uint64_t size = 0;
    uint8_t head[32];
    int rc, found;

    if ((rc = aipm_store_begin(st, err)) != 0)
        return rc;
    rc = aipm_store_row_visible(st, "feedback", feedback_id, &found, err);
    if (rc == AIPM_OK && !found)
        rc = aipm_error_set(err, AIPM_ENOTFOUND,
                            "no feedback row %s in the accepted data",
                            feedback_id);
    if (rc == AIPM_OK)
        rc = aipm_store_row_visible(st, "backlog", item_id, &found, err);
    if (rc == AIPM_OK && !found)
        rc = aipm_error_set(err, AIPM_ENOTFOUND,
                            "no backlog item %s in the accepted data", item_id);
    if (rc == AIPM_OK)
        rc = aipm_store_link_put(st, feedback_id, item_id, unlink,
                                 aipm_audit_actor(), aipm_now_ms(), err);
    if (rc == AIPM_OK) {
        detail = json_pack("{s:s, s:s}", unlink ? "not_item" : "item", item_id,
                           "actor", aipm_audit_actor());
        text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
        if (text == NULL)
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    if (rc == AIPM_OK) {
        snprintf(object, sizeof(object), "feedback:%s", feedback_id);
        rc = aipm_audit_append(st, unlink ? "feedback.unlink" : "feedback.link",
                               object, text, &size, head, err);
    }
    /* The checkpoint is written under its lock, held across the commit. */
    if (rc == AIPM_OK)
        rc = aipm_audit_commit(st, checkpoint_path, size, head, err);
    if (rc)
        aipm_store_rollback(st);
    json_decref(detail);
    free(text);
    return rc;
}
