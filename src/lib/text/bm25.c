/* bm25.c - an in-memory BM25 index over a fixed set of documents.
 *
 * Documents are added one by one; each is tokenized into term ids (a
 * string map) and kept as (term, doc, tf) triples. aipm_bm25_finish turns
 * the triples into postings by a counting sort on the term id (CSR: the
 * postings of term t are post[start[t] .. start[t + 1])), with each
 * posting's BM25 weight precomputed:
 *
 *   w(t, d) = idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
 *   idf(t)  = log(1 + (N - n_t + 0.5) / (n_t + 0.5))
 *
 * so a query is a sum of weights over the postings of its distinct terms,
 * accumulated into a per-document score array that is reset through the
 * list of documents it touched.
 */
#include "aipm/text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TERMS (1 << 24)
/* Distinct terms kept per document or query (in text order); a feedback
 * text or an item description has far fewer. */
#define MAX_QUERY_TERMS 1024

typedef struct triple {
    int term, doc, tf;
} triple;

typedef aipm_bm25_posting posting;

struct aipm_bm25 {
    aipm_strmap terms;
    triple *tri; /* while adding */
    size_t n_tri, cap_tri;
    int *doc_len;
    int n_docs;
    size_t cap_docs;
    /* after finish */
    size_t *start; /* n_terms + 1 */
    posting *post;
    double *score; /* scratch, n_docs */
    int *touched;
    unsigned char *common; /* per term: in more than half the documents */
    int finished;
};

/* The terms of one document or query, as ids with counts. */
typedef struct bag {
    aipm_bm25 *ix;
    int add; /* add unknown terms (a document) or skip them (a query) */
    int ids[MAX_QUERY_TERMS];
    int tf[MAX_QUERY_TERMS];
    int n, total, failed;
} bag;

int aipm_bm25_new(aipm_bm25 **out, aipm_error *err)
{
    aipm_bm25 *ix = calloc(1, sizeof(*ix));

    *out = NULL;
    if (ix == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    aipm_strmap_init(&ix->terms, MAX_TERMS);
    *out = ix;
    return AIPM_OK;
}

void aipm_bm25_free(aipm_bm25 *ix)
{
    if (ix == NULL)
        return;
    aipm_strmap_free(&ix->terms);
    free(ix->tri);
    free(ix->doc_len);
    free(ix->start);
    free(ix->post);
    free(ix->score);
    free(ix->touched);
    free(ix->common);
    free(ix);
}

int aipm_bm25_n_docs(const aipm_bm25 *ix)
{
    return ix->n_docs;
}

/* Count term (by id) in the bag; a linear scan, as a document or query
 * has few distinct terms. */
static int bag_count(bag *g, int id)
{
    int i;

    for (i = 0; i < g->n; i++)
        if (g->ids[i] == id) {
            g->tf[i]++;
            return 0;
        }
    if (g->n == MAX_QUERY_TERMS) /* a longer text: ignore the excess */
        return 0;
    g->ids[g->n] = id;
    g->tf[g->n++] = 1;
    return 0;
}

static int bag_term(void *ctx, const char *term, size_t len)
{
    bag *g = ctx;
    int id, added;

    g->total++;
    if (g->add) {
        if (aipm_strmap_put(&g->ix->terms, term, len, &id, &added) != 0) {
            g->failed = 1;
            return 1;
        }
    } else if ((id = aipm_strmap_find(&g->ix->terms, term, len)) < 0 ||
               g->ix->common[id])
        return 0;
    return bag_count(g, id);
}

int aipm_bm25_add(aipm_bm25 *ix, aipm_tokenizer *t, const char *text,
                  size_t len, aipm_error *err)
{
    bag g;
    int i;

    AIPM_ASSERT(!ix->finished, err);
    memset(&g, 0, sizeof(g));
    g.ix = ix;
    g.add = 1;
    aipm_tokenize(t, text, len, bag_term, &g);
    if (g.failed)
        return aipm_error_set(err, AIPM_ENOMEM,
                              "out of memory (or more than %d terms) in the "
                              "text index",
                              MAX_TERMS);
    if (aipm_grow(&ix->doc_len, &ix->cap_docs, (size_t)ix->n_docs + 1,
                  sizeof(*ix->doc_len)) != 0 ||
        aipm_grow(&ix->tri, &ix->cap_tri, ix->n_tri + (size_t)g.n,
                  sizeof(*ix->tri)) != 0)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (i = 0; i < g.n; i++) {
        triple *x = &ix->tri[ix->n_tri++];

        x->term = g.ids[i];
        x->doc = ix->n_docs;
        x->tf = g.tf[i];
    }
    ix->doc_len[ix->n_docs++] = g.total;
    return AIPM_OK;
}

int aipm_bm25_finish(aipm_bm25 *ix, aipm_error *err)
{
    int n_terms = ix->terms.n_keys, t;
    size_t i, *fill = NULL;
    double avgdl = 0;

    AIPM_ASSERT(!ix->finished, err);
    ix->start = calloc((size_t)n_terms + 1, sizeof(*ix->start));
    fill = calloc((size_t)n_terms + 1, sizeof(*fill));
    ix->post = malloc((ix->n_tri ? ix->n_tri : 1) * sizeof(*ix->post));
    ix->score = calloc((size_t)(ix->n_docs ? ix->n_docs : 1), sizeof(double));
    ix->touched = malloc((size_t)(ix->n_docs ? ix->n_docs : 1) * sizeof(int));
    ix->common = calloc((size_t)n_terms + 1, 1);
    if (!ix->start || !fill || !ix->post || !ix->score || !ix->touched ||
        !ix->common) {
        free(fill);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    for (i = 0; i < (size_t)ix->n_docs; i++)
        avgdl += ix->doc_len[i];
    if (ix->n_docs > 0)
        avgdl /= ix->n_docs;
    if (avgdl <= 0)
        avgdl = 1;
    for (i = 0; i < ix->n_tri; i++)
        ix->start[ix->tri[i].term + 1]++;
    for (t = 0; t < n_terms; t++)
        ix->start[t + 1] += ix->start[t];
    memcpy(fill, ix->start, ((size_t)n_terms + 1) * sizeof(*fill));
    for (i = 0; i < ix->n_tri; i++) {
        const triple *x = &ix->tri[i];
        size_t n_t = ix->start[x->term + 1] - ix->start[x->term];
        double idf =
            log(1 + (ix->n_docs - (double)n_t + 0.5) / ((double)n_t + 0.5));
        double norm =
            AIPM_BM25_K1 *
            (1 - AIPM_BM25_B + AIPM_BM25_B * ix->doc_len[x->doc] / avgdl);
        posting *p = &ix->post[fill[x->term]++];

        p->doc = x->doc;
        p->w = idf * x->tf * (AIPM_BM25_K1 + 1) / (x->tf + norm);
        if (ix->n_docs >= AIPM_BM25_COMMON_MIN_DOCS &&
            2 * n_t > (size_t)ix->n_docs)
            ix->common[x->term] = 1; /* too common: a stop word here */
    }
    free(fill);
    free(ix->tri);
    ix->tri = NULL;
    ix->n_tri = ix->cap_tri = 0;
    ix->finished = 1;
    return AIPM_OK;
}

static int cmp_hit(const void *a, const void *b)
{
    const aipm_bm25_hit *x = a, *y = b;

    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->doc - y->doc;
}

int aipm_bm25_term_id(const aipm_bm25 *ix, const char *term, size_t len)
{
    int id;

    if (!ix->finished || (id = aipm_strmap_find(&ix->terms, term, len)) < 0 ||
        ix->common[id])
        return -1;
    return id;
}

int aipm_bm25_n_terms(const aipm_bm25 *ix)
{
    return ix->terms.n_keys;
}

const char *aipm_bm25_term(const aipm_bm25 *ix, int id, size_t *len)
{
    if (len)
        *len = ix->terms.key_lens[id];
    return ix->terms.keys[id];
}

double aipm_bm25_doc_score(const aipm_bm25 *ix, const int *ids, const double *w,
                           int n, int doc)
{
    double score = 0;
    int i;

    if (!ix->finished)
        return 0;
    for (i = 0; i < n; i++) {
        /* A term's postings are in document order (added so, and the
         * counting sort is stable). */
        size_t lo, hi;

        if (ids[i] < 0)
            continue;
        lo = ix->start[ids[i]];
        hi = ix->start[ids[i] + 1];
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (ix->post[mid].doc < doc)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < ix->start[ids[i] + 1] && ix->post[lo].doc == doc)
            score += ix->post[lo].w * (w ? w[i] : 1);
    }
    return score;
}

size_t aipm_bm25_postings(const aipm_bm25 *ix, int id,
                          const aipm_bm25_posting **out)
{
    *out = NULL;
    if (!ix->finished || id < 0 || id >= ix->terms.n_keys || ix->common[id])
        return 0;
    *out = &ix->post[ix->start[id]];
    return ix->start[id + 1] - ix->start[id];
}

int aipm_bm25_query_ids(aipm_bm25 *ix, const int *ids, const double *w, int n,
                        aipm_bm25_hit *hits, int k)
{
    int i, n_touched = 0, n_hits = 0;

    if (!ix->finished)
        return AIPM_EINVALID;
    if (k <= 0)
        return 0;
    for (i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        size_t j;

        if (ids[i] < 0)
            continue;
        for (j = ix->start[ids[i]]; j < ix->start[ids[i] + 1]; j++) {
            const posting *p = &ix->post[j];

            if (ix->score[p->doc] == 0)
                ix->touched[n_touched++] = p->doc;
            ix->score[p->doc] += p->w * wi;
        }
    }
    /* Keep the k best in hits[], sorted, by insertion. */
    for (i = 0; i < n_touched; i++) {
        aipm_bm25_hit h = {ix->touched[i], ix->score[ix->touched[i]]};
        int j;

        ix->score[h.doc] = 0;
        if (n_hits == k && cmp_hit(&h, &hits[k - 1]) >= 0)
            continue;
        j = n_hits < k ? n_hits++ : k - 1;
        while (j > 0 && cmp_hit(&h, &hits[j - 1]) < 0) {
            hits[j] = hits[j - 1];
            j--;
        }
        hits[j] = h;
    }
    return n_hits;
}

int aipm_bm25_query(aipm_bm25 *ix, aipm_tokenizer *t, const char *text,
                    size_t len, aipm_bm25_hit *hits, int k)
{
    bag g;

    if (!ix->finished)
        return AIPM_EINVALID;
    g.ix = ix;
    g.add = 0;
    g.n = g.total = g.failed = 0;
    aipm_tokenize(t, text, len, bag_term, &g);
    return aipm_bm25_query_ids(ix, g.ids, NULL, g.n, hits, k);
}
