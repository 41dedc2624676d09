/* test_text.c - the tokenizer and the BM25 index.
 *
 * Expected terms are worked by hand: utf8proc's NFKD + case fold + mark
 * stripping (Unicode's own tables: U+FB01 LATIN SMALL LIGATURE FI is
 * "fi", U+FF25 FULLWIDTH E is "e"), then the Porter 2 (Snowball English)
 * rules: "running" -> "run" (step 1b: -ing deleted, double n undoubled),
 * "exports" -> "export" (step 1a: -s deleted), "connections" -> "connect"
 * (step 1a, then -ion deleted in step 4 after t). BM25 scores are the
 * formula of bm25.c evaluated by hand (python3, shown next to them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aipm/text.h"

typedef struct terms {
    char all[512];
    int n;
} terms;

static int collect(void *ctx, const char *term, size_t len)
{
    terms *t = ctx;
    size_t used = strlen(t->all);

    assert_int_equal(strlen(term), len);
    snprintf(t->all + used, sizeof(t->all) - used, "%s%s", t->n ? " " : "",
             term);
    t->n++;
    return 0;
}

static void expect_terms(const char *text, size_t len, const char *want)
{
    aipm_tokenizer *tok;
    aipm_error err = {0};
    terms t = {{0}, 0};

    assert_int_equal(aipm_tokenizer_new(&tok, &err), AIPM_OK);
    assert_int_equal(aipm_tokenize(tok, text, len, collect, &t), 0);
    if (strcmp(t.all, want) != 0)
        print_error("tokens of \"%.*s\": got \"%s\", want \"%s\"\n", (int)len,
                    text, t.all, want);
    assert_string_equal(t.all, want);
    aipm_tokenizer_free(tok);
}

#define EXPECT(text, want) expect_terms(text, sizeof(text) - 1, want)

static void test_tokens(void **state)
{
    (void)state;
    /* Stop words (the, s, are, and) go; "'" and "-" and "!" separate. */
    EXPECT("The Café's \xef\xac\x81le-Exports are RUNNING!",
           "cafe file export run");
    EXPECT("connections", "connect");
    /* Fullwidth letters fold to ASCII. */
    EXPECT("\xef\xbc\xa5\xef\xbc\xb8\xef\xbc\xb0\xef\xbc\xaf\xef\xbc\xb2"
           "\xef\xbc\xb4",
           "export");
    /* Digits are word characters; an invalid byte separates. */
    EXPECT("v2 ab\xff"
           "cd",
           "v2 ab cd");
    /* A combining acute (U+0301) is stripped, not a separator. */
    EXPECT("cafe\xcc\x81 menu", "cafe menu");
    /* A truncated sequence at the end is a separator, not a read past. */
    EXPECT("pdf \xe2\x82", "pdf");
    EXPECT("", "");
    EXPECT("the and of", "");
}

static void test_long_word(void **state)
{
    char text[200];

    (void)state;
    memset(text, 'x', 100);
    memcpy(text + 100, " pdf", 5);
    /* A 100-letter word is over AIPM_TERM_MAX: dropped. */
    expect_terms(text, strlen(text), "pdf");
}

static void test_stopwords(void **state)
{
    (void)state;
    assert_true(aipm_text_stopword("the", 3));
    assert_true(aipm_text_stopword("yourselves", 10));
    assert_true(aipm_text_stopword("a", 1));
    assert_false(aipm_text_stopword("export", 6));
    assert_false(aipm_text_stopword("", 0));
}

/* A tokenizer and an index of n documents. */
static void build(aipm_tokenizer **tok, aipm_bm25 **ix, const char *const *docs,
                  int n)
{
    aipm_error err = {0};
    int i;

    assert_int_equal(aipm_tokenizer_new(tok, &err), AIPM_OK);
    assert_int_equal(aipm_bm25_new(ix, &err), AIPM_OK);
    for (i = 0; i < n; i++)
        assert_int_equal(
            aipm_bm25_add(*ix, *tok, docs[i], strlen(docs[i]), &err), AIPM_OK);
    assert_int_equal(aipm_bm25_finish(*ix, &err), AIPM_OK);
    assert_int_equal(aipm_bm25_n_docs(*ix), n);
}

/* d0 "export report pdf" (dl 3), d1 "export csv" (2), d2 "dashboard
 * share" (2): N = 3, avgdl = 7/3, k1 = 1.2, b = 0.75. Query "exports to
 * PDF": idf(export) = log(1 + 1.5/2.5), idf(pdf) = log(1 + 2.5/1.5).
 *   w = idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * dl / avgdl))
 * python3: d0 = w(2,1,3) + w(1,1,3) = 1.2990015341142391,
 *          d1 = w(2,1,2) = 0.4991762683023676; d2 no match. */
static void test_bm25(void **state)
{
    static const char *const docs[] = {"export report pdf", "export csv",
                                       "dashboard share"};
    aipm_tokenizer *tok;
    aipm_bm25 *ix;
    aipm_bm25_hit hits[3];
    int n;

    (void)state;
    build(&tok, &ix, docs, 3);

    n = aipm_bm25_query(ix, tok, "exports to PDF", 14, hits, 3);
    assert_int_equal(n, 2);
    assert_int_equal(hits[0].doc, 0);
    assert_true(fabs(hits[0].score - 1.2990015341142391) < 1e-12);
    assert_int_equal(hits[1].doc, 1);
    assert_true(fabs(hits[1].score - 0.4991762683023676) < 1e-12);

    /* A repeated query term counts once; k = 1 keeps the best. */
    n = aipm_bm25_query(ix, tok, "pdf pdf export", 14, hits, 1);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].doc, 0);
    assert_true(fabs(hits[0].score - 1.2990015341142391) < 1e-12);

    /* The scratch scores were reset: the same query, the same scores. */
    n = aipm_bm25_query(ix, tok, "exports to PDF", 14, hits, 3);
    assert_true(n == 2 && fabs(hits[1].score - 0.4991762683023676) < 1e-12);

    /* No known term: no hit. */
    assert_int_equal(aipm_bm25_query(ix, tok, "kanban", 6, hits, 3), 0);
    aipm_bm25_free(ix);
    aipm_tokenizer_free(tok);
}

/* A term in two documents with tf 2 in the longer one: d0 "pdf pdf
 * export" (dl 3), d1 "pdf csv" (2), d2 "share" (1), avgdl = 2. python3:
 * d0 = w(n=2, tf=2, dl=3) = 0.5665797174469143, d1 = w(2, 1, 2) =
 * 0.47000362924573563. */
static void test_bm25_tf(void **state)
{
    static const char *const docs[] = {"pdf pdf export", "pdf csv", "share"};
    aipm_tokenizer *tok;
    aipm_bm25 *ix;
    aipm_bm25_hit hits[3];

    (void)state;
    build(&tok, &ix, docs, 3);
    assert_int_equal(aipm_bm25_query(ix, tok, "pdf", 3, hits, 3), 2);
    assert_int_equal(hits[0].doc, 0);
    assert_true(fabs(hits[0].score - 0.5665797174469143) < 1e-12);
    assert_int_equal(hits[1].doc, 1);
    assert_true(fabs(hits[1].score - 0.47000362924573563) < 1e-12);
    aipm_bm25_free(ix);
    aipm_tokenizer_free(tok);
}

/* A random corpus with a skewed vocabulary (some terms in most
 * documents), every query's top 5 against scores computed here from the
 * formula over all documents; terms in more than half of the documents
 * are stop words (text.h). */
static void test_bm25_random_corpora(void **state)
{
    enum { DOCS = 300, VOCAB = 40, QUERIES = 300, K = 5 };
    static char docs[DOCS][200];
    static int tf[DOCS][VOCAB], dl[DOCS];
    const char *ptrs[DOCS];
    aipm_tokenizer *tok;
    aipm_bm25 *ix;
    uint64_t x = 12345;
    int d, q, v, df[VOCAB] = {0};
    double avgdl = 0;

    (void)state;
    for (d = 0; d < DOCS; d++) {
        int n = 3 + (int)((x = x * 6364136223846793005ULL + 1) >> 33) % 10;
        size_t len = 0;

        for (v = 0; v < n; v++) {
            double u = (double)((x = x * 6364136223846793005ULL + 1) >> 11) /
                       9007199254740992.0;
            int w = (int)(VOCAB * u * u * u); /* skewed to low ids */

            len += (size_t)snprintf(docs[d] + len, sizeof(docs[d]) - len,
                                    "%sq%dz", v ? " " : "", w);
            if (tf[d][w]++ == 0)
                df[w]++;
        }
        dl[d] = n;
        avgdl += n;
        ptrs[d] = docs[d];
    }
    avgdl /= DOCS;
    build(&tok, &ix, ptrs, DOCS);
    for (q = 0; q < QUERIES; q++) {
        char query[200];
        int seen[VOCAB] = {0}, n = 1 + (q % 8), best[K], nb = 0, i, got;
        double ref[DOCS];
        aipm_bm25_hit hits[K];
        size_t len = 0;

        for (v = 0; v < n; v++) {
            int w = (int)(((x = x * 6364136223846793005ULL + 1) >> 33) % VOCAB);

            len += (size_t)snprintf(query + len, sizeof(query) - len, "%sq%dz",
                                    v ? " " : "", w);
            seen[w] = 1;
        }
        for (d = 0; d < DOCS; d++) {
            ref[d] = 0;
            for (v = 0; v < VOCAB; v++)
                if (seen[v] && tf[d][v] && 2 * df[v] <= DOCS) {
                    double idf = log(1 + (DOCS - df[v] + 0.5) / (df[v] + 0.5));

                    ref[d] += idf * tf[d][v] * 2.2 /
                              (tf[d][v] + 1.2 * (0.25 + 0.75 * dl[d] / avgdl));
                }
        }
        for (i = 0; i < K; i++) { /* the top K by (score desc, doc asc) */
            int arg = -1;

            for (d = 0; d < DOCS; d++) {
                int used = 0, j;

                for (j = 0; j < nb; j++)
                    used |= best[j] == d;
                if (!used && ref[d] > 0 && (arg < 0 || ref[d] > ref[arg]))
                    arg = d;
            }
            if (arg >= 0)
                best[nb++] = arg;
        }
        got = aipm_bm25_query(ix, tok, query, len, hits, K);
        assert_int_equal(got, nb);
        for (i = 0; i < nb; i++) {
            assert_true(fabs(hits[i].score - ref[best[i]]) < 1e-9);
            /* Ties may order differently only among equal scores. */
            assert_true(hits[i].doc == best[i] ||
                        fabs(ref[hits[i].doc] - ref[best[i]]) < 1e-12);
        }
    }
    aipm_bm25_free(ix);
    aipm_tokenizer_free(tok);
}

/* Queries by term id, weighted, and one document's score, on the corpus of
 * test_bm25. python3 (the formula above): w(export, d0) =
 * 0.42081720292932145, w(pdf, d0) = 0.8781843311849177, so export + 0.5 *
 * pdf on d0 = 0.8599093685217802; d1 = w(export, d1) = 0.4991762683023676. */
static void test_bm25_ids(void **state)
{
    static const char *const docs[] = {"export report pdf", "export csv",
                                       "dashboard share"};
    aipm_tokenizer *tok;
    aipm_bm25 *ix;
    aipm_bm25_hit hits[3];
    int ids[3];
    double w[3] = {1, 0.5, 1};
    int n;

    (void)state;
    build(&tok, &ix, docs, 3);
    ids[0] = aipm_bm25_term_id(ix, "export", 6);
    ids[1] = aipm_bm25_term_id(ix, "pdf", 3);
    ids[2] = aipm_bm25_term_id(ix, "kanban", 6);
    assert_true(ids[0] >= 0 && ids[1] >= 0);
    assert_int_equal(ids[2], -1);
    assert_string_equal(aipm_bm25_term(ix, ids[1], NULL), "pdf");
    n = aipm_bm25_query_ids(ix, ids, w, 3, hits, 3);
    assert_int_equal(n, 2);
    assert_int_equal(hits[0].doc, 0);
    assert_true(fabs(hits[0].score - 0.8599093685217802) < 1e-12);
    assert_true(fabs(hits[1].score - 0.4991762683023676) < 1e-12);
    assert_true(fabs(aipm_bm25_doc_score(ix, ids, w, 3, 0) -
                     0.8599093685217802) < 1e-12);
    assert_true(fabs(aipm_bm25_doc_score(ix, ids, w, 3, 1) -
                     0.4991762683023676) < 1e-12);
    assert_true(aipm_bm25_doc_score(ix, ids, w, 3, 2) == 0);
    aipm_bm25_free(ix);
    aipm_tokenizer_free(tok);
}

/* Optimal string alignment distances, by hand: one swap, one drop, one
 * substitution; kitten/sitting is 3 (two substitutions, one insertion);
 * "ca" to "abc" is 3 in OSA (true Damerau-Levenshtein would say 2: the
 * swapped pair cannot be edited again), the case that tells them apart. */
/* The postings of a term, and the word a stem came from. */
static void test_bm25_postings(void **state)
{
    static const char *const docs[] = {"export report pdf", "export csv",
                                       "dashboard share"};
    aipm_tokenizer *tok;
    aipm_bm25 *ix;
    const aipm_bm25_posting *p;
    size_t n;

    (void)state;
    build(&tok, &ix, docs, 3);
    n = aipm_bm25_postings(ix, aipm_bm25_term_id(ix, "export", 6), &p);
    assert_int_equal(n, 2);
    assert_int_equal(p[0].doc, 0);
    assert_int_equal(p[1].doc, 1);
    /* idf log(1 + 1.5 / 2.5); tf 1; lengths 3 and 2, average 7/3 (python:
     * idf * 2.2 / (1 + 1.2 * (0.25 + 0.75 * dl / (7 / 3)))). */
    assert_true(fabs(p[0].w - 0.42081720292932145) < 1e-12);
    assert_true(fabs(p[1].w - 0.4991762683023676) < 1e-12);
    assert_int_equal(aipm_bm25_postings(ix, -1, &p), 0);
    assert_null(p);
    aipm_bm25_free(ix);
    aipm_tokenizer_free(tok);
}

typedef struct words {
    aipm_tokenizer *t;
    char out[256];
    size_t len;
} words;

/* Appends "term<-word " for each term. */
static int word_of(void *ctx, const char *term, size_t len)
{
    words *w = ctx;
    size_t wlen;
    const char *word = aipm_tokenizer_word(w->t, &wlen);
    int n = snprintf(w->out + w->len, sizeof(w->out) - w->len, "%.*s<-%.*s ",
                     (int)len, term, (int)wlen, word);

    if (n > 0 && (size_t)n < sizeof(w->out) - w->len)
        w->len += (size_t)n;
    return 0;
}

static void test_tokenizer_word(void **state)
{
    aipm_error err = {0, ""};
    words w = {NULL, "", 0};

    (void)state;
    assert_int_equal(aipm_tokenizer_new(&w.t, &err), AIPM_OK);
    /* Snowball English: "changes" -> "chang", "Chages" (a typo) ->
     * "chage"; the words come case-folded, the stop word "the" not at
     * all. */
    aipm_tokenize(w.t, "Apply the changes, Chages", 25, word_of, &w);
    assert_string_equal(w.out, "appli<-apply chang<-changes chage<-chages ");
    aipm_tokenizer_free(w.t);
}

static void test_osa(void **state)
{
    (void)state;
    assert_int_equal(aipm_osa_distance("wtihout", 7, "without", 7, 2), 1);
    assert_int_equal(aipm_osa_distance("impotr", 6, "import", 6, 2), 1);
    assert_int_equal(aipm_osa_distance("notiyf", 6, "notify", 6, 2), 1);
    assert_int_equal(aipm_osa_distance("expor", 5, "export", 6, 2), 1);
    assert_int_equal(aipm_osa_distance("exporrt", 7, "export", 6, 2), 1);
    assert_int_equal(aipm_osa_distance("kitten", 6, "sitting", 7, 3), 3);
    assert_int_equal(aipm_osa_distance("kitten", 6, "sitting", 7, 2), 3);
    assert_int_equal(aipm_osa_distance("ca", 2, "abc", 3, 5), 3);
    assert_int_equal(aipm_osa_distance("same", 4, "same", 4, 0), 0);
}

/* The typo matcher: Lucene's distances (1 edit from 5 bytes, 2 from 8),
 * the nearest first, a known term never its own match. */
static void test_fuzzy(void **state)
{
    static const char *const vocab[] = {"export", "import",    "notify",
                                        "report", "dashboard", "pdf"};
    aipm_fuzzy *f;
    aipm_fuzzy_hit h[3];
    aipm_error err = {0, ""};
    size_t i;

    (void)state;
    assert_int_equal(aipm_fuzzy_new(&f, &err), AIPM_OK);
    for (i = 0; i < sizeof(vocab) / sizeof(vocab[0]); i++)
        assert_int_equal(aipm_fuzzy_add(f, vocab[i], strlen(vocab[i]), &err),
                         AIPM_OK);
    assert_int_equal(aipm_fuzzy_match(f, "impotr", 6, h, 3), 1);
    assert_string_equal(h[0].term, "import");
    assert_int_equal(h[0].distance, 1);
    assert_int_equal(aipm_fuzzy_match(f, "notiyf", 6, h, 3), 1);
    assert_string_equal(h[0].term, "notify");
    /* "exprot": export (a swap); import is 3 edits away. */
    assert_int_equal(aipm_fuzzy_match(f, "exprot", 6, h, 3), 1);
    assert_string_equal(h[0].term, "export");
    /* 8 bytes or more: two edits ("dashbrd": 7 bytes, 2 drops: none). */
    assert_int_equal(aipm_fuzzy_match(f, "dshbaord", 8, h, 3), 1);
    assert_string_equal(h[0].term, "dashboard");
    assert_int_equal(h[0].distance, 2);
    assert_int_equal(aipm_fuzzy_match(f, "dashbrd", 7, h, 3), 0);
    /* "eport" is one edit from both export and report: both, in the order
     * they were added. */
    assert_int_equal(aipm_fuzzy_match(f, "eport", 5, h, 3), 2);
    assert_string_equal(h[0].term, "export");
    assert_string_equal(h[1].term, "report");
    /* Short words and known terms: no match. */
    assert_int_equal(aipm_fuzzy_match(f, "pfd", 3, h, 3), 0);
    assert_int_equal(aipm_fuzzy_match(f, "export", 6, h, 3), 0);
    aipm_fuzzy_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_long_word),
        cmocka_unit_test(test_stopwords),
        cmocka_unit_test(test_bm25),
        cmocka_unit_test(test_bm25_tf),
        cmocka_unit_test(test_bm25_random_corpora),
        cmocka_unit_test(test_bm25_ids),
        cmocka_unit_test(test_bm25_postings),
        cmocka_unit_test(test_tokenizer_word),
        cmocka_unit_test(test_osa),
        cmocka_unit_test(test_fuzzy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
