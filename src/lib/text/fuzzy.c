/* fuzzy.c - the vocabulary terms within a few typos of a word.
 *
 * Customers write "impotr" and "notiyf". A term that no item knows is
 * matched to the vocabulary's terms within Lucene FuzzyQuery's distance:
 * 1 edit for a term of 5 to 7 bytes, 2 for 8 or more, none below 5 (short
 * words have too many neighbours). An edit is an insertion, a deletion, a
 * substitution or a swap of two adjacent bytes (the optimal string
 * alignment distance, Damerau's transposition counted once).
 *
 * The search is Wolf Garbe's symmetric delete (SymSpell): every vocabulary
 * term is stored under itself and every string made by deleting up to two
 * of its bytes; a query generates its own deletes and looks them up. Two
 * strings within distance d share a delete of at most d bytes each, so
 * every match is among the candidates found, and each candidate's true
 * distance is then checked. One limit: deletes of two bytes are stored
 * only for terms of 7 bytes or more, so a 2-edit match to a term of 6
 * bytes (a short stem, a weak signal through two typos) may be missed.
 */
#include "aipm/text.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FUZZY_KEYS (1 << 26)

struct aipm_fuzzy {
    aipm_strmap vocab;   /* the terms */
    aipm_strmap deletes; /* a term or a delete of it -> list head */
    int *head;           /* by delete index: first entry, -1 none */
    size_t cap_head;
    int *next, *term; /* entries: next in list, vocabulary index */
    size_t n_ent, cap_next, cap_term;
};

int aipm_fuzzy_new(aipm_fuzzy **out, aipm_error *err)
{
    aipm_fuzzy *f = calloc(1, sizeof(*f));

    *out = NULL;
    if (f == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    aipm_strmap_init(&f->vocab, MAX_FUZZY_KEYS);
    aipm_strmap_init(&f->deletes, MAX_FUZZY_KEYS);
    *out = f;
    return AIPM_OK;
}

void aipm_fuzzy_free(aipm_fuzzy *f)
{
    if (f == NULL)
        return;
    aipm_strmap_free(&f->vocab);
    aipm_strmap_free(&f->deletes);
    free(f->head);
    free(f->next);
    free(f->term);
    free(f);
}

/* File term (vocabulary index v) under the string key[0..len). */
static int file_under(aipm_fuzzy *f, const char *key, size_t len, int v)
{
    int idx, added, e;

    if (aipm_strmap_put(&f->deletes, key, len, &idx, &added) != 0)
        return AIPM_ENOMEM;
    if (added) {
        if (aipm_grow(&f->head, &f->cap_head, (size_t)idx + 1,
                      sizeof(*f->head)) != 0)
            return AIPM_ENOMEM;
        f->head[idx] = -1;
    }
    /* The same delete twice from one term ("sleep" minus either e): once. */
    for (e = f->head[idx]; e >= 0; e = f->next[e])
        if (f->term[e] == v)
            return AIPM_OK;
    if (aipm_grow(&f->next, &f->cap_next, f->n_ent + 1, sizeof(*f->next)) !=
            0 ||
        aipm_grow(&f->term, &f->cap_term, f->n_ent + 1, sizeof(*f->term)) != 0)
        return AIPM_ENOMEM;
    f->term[f->n_ent] = v;
    f->next[f->n_ent] = f->head[idx];
    f->head[idx] = (int)f->n_ent++;
    return AIPM_OK;
}

/* What each_delete calls on each string: 0 to go on. */
typedef int (*delete_fn)(void *ctx, const char *key, size_t key_len);

/* Call fn(ctx, key, key_len) on term[0..len) itself, then on every string
 * made by deleting one of its bytes and, when max_deletes is 2, two of
 * them: each single delete followed by the double deletes that extend it
 * (deleting byte i, then a byte at or after i of what is left, so each pair
 * of positions once). The same string may come more than once ("sleep"
 * minus either e). Stops at the first nonzero return of fn and returns it;
 * 0 when all were called. len is at most AIPM_TERM_MAX. */
static int each_delete(const char *term, size_t len, int max_deletes,
                       delete_fn fn, void *ctx)
{
    char d1[AIPM_TERM_MAX], d2[AIPM_TERM_MAX];
    size_t i, j;
    int rc = fn(ctx, term, len);

    for (i = 0; rc == 0 && i < len; i++) {
        memcpy(d1, term, i);
        memcpy(d1 + i, term + i + 1, len - i - 1);
        rc = fn(ctx, d1, len - 1);
        for (j = i; rc == 0 && max_deletes >= 2 && j < len - 1; j++) {
            memcpy(d2, d1, j);
            memcpy(d2 + j, d1 + j + 1, len - 2 - j);
            rc = fn(ctx, d2, len - 2);
        }
    }
    return rc;
}

typedef struct filing {
    aipm_fuzzy *f;
    int v; /* the vocabulary index of the term being added */
} filing;

static int file_delete(void *ctx, const char *key, size_t len)
{
    filing *fl = ctx;

    return file_under(fl->f, key, len, fl->v);
}

int aipm_fuzzy_add(aipm_fuzzy *f, const char *term, size_t len, aipm_error *err)
{
    filing fl;
    int added;

    if (len < 4 || len > AIPM_TERM_MAX)
        return AIPM_OK; /* never the answer for a 5-byte query */
    if (aipm_strmap_put(&f->vocab, term, len, &fl.v, &added) != 0)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if (!added)
        return AIPM_OK;
    fl.f = f;
    /* Deletes of two bytes only from terms of 7 or more (file header). */
    if (each_delete(term, len, len >= 7 ? 2 : 1, file_delete, &fl) != 0)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    return AIPM_OK;
}

int aipm_fuzzy_max_distance(size_t len)
{
    return len >= 8 ? 2 : len >= 5 ? 1 : 0;
}

int aipm_osa_distance(const char *a, size_t la, const char *b, size_t lb,
                      int max)
{
    /* Three rows of the dynamic programme; a distance above max is
     * reported as max + 1 as soon as a whole row exceeds it. */
    int rows[3][AIPM_TERM_MAX + 1], *pp = rows[0], *p = rows[1], *c = rows[2];
    size_t i, j;

    if (la > AIPM_TERM_MAX || lb > AIPM_TERM_MAX)
        return max + 1;
    if ((la > lb ? la - lb : lb - la) > (size_t)max)
        return max + 1;
    for (j = 0; j <= lb; j++)
        p[j] = (int)j;
    for (i = 1; i <= la; i++) {
        int low;
        int *t;

        c[0] = (int)i;
        low = c[0];
        for (j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = p[j] + 1;

            if (c[j - 1] + 1 < v)
                v = c[j - 1] + 1;
            if (p[j - 1] + cost < v)
                v = p[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            c[j] = v;
            if (v < low)
                low = v;
        }
        if (low > max)
            return max + 1;
        t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[lb] > max ? max + 1 : p[lb];
}

typedef struct found {
    aipm_fuzzy *f;
    aipm_fuzzy_hit *hits;
    int n, k, max;
    const char *q;
    size_t lq;
} found;

/* The terms filed under key[0..len) that are within fd->max of the query,
 * into fd's hits. Always 0: an each_delete callback that never stops. */
static int consider(void *ctx, const char *key, size_t len)
{
    found *fd = ctx;
    aipm_fuzzy *f = fd->f;
    int idx = aipm_strmap_find(&f->deletes, key, len), e;

    if (idx < 0)
        return 0;
    for (e = f->head[idx]; e >= 0; e = f->next[e]) {
        int v = f->term[e], d, i, pos;

        for (i = 0; i < fd->n; i++)
            if (fd->hits[i].id == v)
                break;
        if (i < fd->n)
            continue;
        d = aipm_osa_distance(fd->q, fd->lq, f->vocab.keys[v],
                              f->vocab.key_lens[v], fd->max);
        if (d > fd->max || d == 0)
            continue;
        /* Keep the k nearest, nearest first, ties by vocabulary order. */
        if (fd->n == fd->k) {
            const aipm_fuzzy_hit *last = &fd->hits[fd->k - 1];

            if (last->distance < d || (last->distance == d && last->id < v))
                continue;
            pos = fd->k - 1;
        } else {
            pos = fd->n++;
        }
        while (pos > 0 && (fd->hits[pos - 1].distance > d ||
                           (fd->hits[pos - 1].distance == d &&
                            fd->hits[pos - 1].id > v))) {
            fd->hits[pos] = fd->hits[pos - 1];
            pos--;
        }
        fd->hits[pos].id = v;
        fd->hits[pos].distance = d;
        fd->hits[pos].term = f->vocab.keys[v];
    }
    return 0;
}

int aipm_fuzzy_match(aipm_fuzzy *f, const char *term, size_t len,
                     aipm_fuzzy_hit *hits, int k)
{
    found fd;

    fd.f = f;
    fd.hits = hits;
    fd.n = 0;
    fd.k = k;
    fd.q = term;
    fd.lq = len;
    fd.max = aipm_fuzzy_max_distance(len);
    if (fd.max == 0 || k <= 0 || len > AIPM_TERM_MAX)
        return 0;
    each_delete(term, len, fd.max, consider, &fd);
    return fd.n;
}
