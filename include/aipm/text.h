/* text.h - text matching: normalised, stemmed tokens and BM25 retrieval.
 *
 * The tokenizer turns UTF-8 text into the terms that feedback is matched
 * on: Unicode compatibility decomposition, case folding and removal of
 * combining marks (utf8proc), split on anything that is not a letter or a
 * digit, English stop words dropped, each word reduced to its Snowball
 * (Porter 2) stem (libstemmer). Invalid UTF-8 bytes separate words; they
 * are never an error.
 *
 * The BM25 index holds a fixed set of documents (backlog items) and
 * scores a query (a feedback text) against all of them at once, with the
 * Okapi BM25 weight of Robertson and Zaragoza, "The Probabilistic
 * Relevance Framework: BM25 and Beyond" (2009), eq. 3.15, and the
 * non-negative idf log(1 + (N - n + 0.5) / (n + 0.5)) that Lucene uses.
 */
#ifndef AIPM_TEXT_H
#define AIPM_TEXT_H

#include "aipm/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest term kept, in bytes; longer words are dropped. */
#define AIPM_TERM_MAX 64

typedef struct aipm_tokenizer aipm_tokenizer;

int aipm_tokenizer_new(aipm_tokenizer **out, aipm_error *err);
void aipm_tokenizer_free(aipm_tokenizer *t);

/* Called once per term, in text order; term is NUL-terminated and valid
 * during the call. A non-zero return stops the walk and is returned. */
typedef int (*aipm_term_fn)(void *ctx, const char *term, size_t len);

/* The terms of text[0..len). Not thread-safe on one tokenizer. */
int aipm_tokenize(aipm_tokenizer *t, const char *text, size_t len,
                  aipm_term_fn fn, void *ctx);

/* Inside an aipm_term_fn called by aipm_tokenize: the word the term was
 * stemmed from (case-folded, marks stripped; NUL-terminated), e.g. a typo
 * to correct before its stem is taken. */
const char *aipm_tokenizer_word(const aipm_tokenizer *t, size_t *len);

/* 1 when word (already case-folded) is an English stop word. */
int aipm_text_stopword(const char *word, size_t len);

/* ---- BM25 ---- */

#define AIPM_BM25_K1 1.2
#define AIPM_BM25_B 0.75

typedef struct aipm_bm25 aipm_bm25;

typedef struct aipm_bm25_hit {
    int doc; /* index in the order documents were added */
    double score;
} aipm_bm25_hit;

int aipm_bm25_new(aipm_bm25 **out, aipm_error *err);
void aipm_bm25_free(aipm_bm25 *ix);

/* Add the next document (its index is the number added before it). */
int aipm_bm25_add(aipm_bm25 *ix, aipm_tokenizer *t, const char *text,
                  size_t len, aipm_error *err);

/* Freeze the index: term statistics, lengths, postings. No adds after. */
int aipm_bm25_finish(aipm_bm25 *ix, aipm_error *err);

int aipm_bm25_n_docs(const aipm_bm25 *ix);

/* In an index of at least this many documents, a term found in more than
 * half of them is a stop word of that corpus: queries ignore it (its idf
 * is below log 2; scikit-learn calls this max_df = 0.5). */
#define AIPM_BM25_COMMON_MIN_DOCS 50

/* The k best documents for a query, best first (score > 0 only); returns
 * how many were found (0..k) or a negative aipm error code. Each distinct
 * query term counts once. Not thread-safe on one index (a scratch array
 * is reused). */
int aipm_bm25_query(aipm_bm25 *ix, aipm_tokenizer *t, const char *text,
                    size_t len, aipm_bm25_hit *hits, int k);

/* The term ids of a frozen index, for queries built by the caller (a
 * term weighted below 1, e.g. a typo's correction). The id of term, or -1
 * when the index does not hold it or holds it as a corpus stop word. */
int aipm_bm25_term_id(const aipm_bm25 *ix, const char *term, size_t len);
int aipm_bm25_n_terms(const aipm_bm25 *ix);
/* Term id's text (NUL-terminated) and its length. */
const char *aipm_bm25_term(const aipm_bm25 *ix, int id, size_t *len);

/* aipm_bm25_query with the query given as n distinct term ids (-1 ids are
 * skipped), each posting weight multiplied by w[i] (w NULL: 1). */
int aipm_bm25_query_ids(aipm_bm25 *ix, const int *ids, const double *w, int n,
                        aipm_bm25_hit *hits, int k);

/* The score of one document for such a query (0 when no term is in it):
 * a binary search in each term's postings. */
double aipm_bm25_doc_score(const aipm_bm25 *ix, const int *ids, const double *w,
                           int n, int doc);

/* One posting of a term: a document holding it and the term's BM25 weight
 * there. */
typedef struct aipm_bm25_posting {
    int doc;
    double w;
} aipm_bm25_posting;

/* The postings of term id in a frozen index, in document order, into *out;
 * returns how many (0 for a corpus stop word, as aipm_bm25_term_id). */
size_t aipm_bm25_postings(const aipm_bm25 *ix, int id,
                          const aipm_bm25_posting **out);

/* ---- fuzzy term matching (fuzzy.c) ---- */

/* Vocabulary terms within a few typos of a word: optimal string alignment
 * distance (insert, delete, substitute, swap adjacent) of at most
 * aipm_fuzzy_max_distance(len) - Lucene FuzzyQuery's 1 edit for 5 to 7
 * bytes, 2 for 8 or more, 0 below 5. */
typedef struct aipm_fuzzy aipm_fuzzy;

typedef struct aipm_fuzzy_hit {
    int id;           /* vocabulary index, in the order terms were added */
    int distance;     /* 1 or 2 */
    const char *term; /* the vocabulary's text, valid with the matcher */
} aipm_fuzzy_hit;

int aipm_fuzzy_new(aipm_fuzzy **out, aipm_error *err);
void aipm_fuzzy_free(aipm_fuzzy *f);
/* Add a vocabulary term (again: no effect; shorter than 4 bytes: never a
 * match for anything, not stored). */
int aipm_fuzzy_add(aipm_fuzzy *f, const char *term, size_t len,
                   aipm_error *err);
/* The k nearest vocabulary terms within the distance, nearest first (the
 * term itself, when in the vocabulary, is not a match). Returns 0..k. */
int aipm_fuzzy_match(aipm_fuzzy *f, const char *term, size_t len,
                     aipm_fuzzy_hit *hits, int k);
int aipm_fuzzy_max_distance(size_t len);
/* The distance of a and b, or max + 1 when above max. */
int aipm_osa_distance(const char *a, size_t la, const char *b, size_t lb,
                      int max);

#ifdef __cplusplus
}
#endif
#endif
