/* text_fuzzer.c - libFuzzer target for the tokenizer, the BM25 index and
 * the typo matcher.
 *
 * The first half of the input (split at the first NUL, or the middle) is
 * cut into documents at each newline and indexed; the second half is the
 * query. Every term is checked to be NUL-terminated at its length, at
 * most AIPM_TERM_MAX bytes and valid UTF-8, and every hit to name a
 * document and carry a positive finite score, so the sanitizers see any
 * read past the text or any bad write in the postings. Every term of the
 * index is then a vocabulary term of the typo matcher, and every term of
 * the query is matched against it: each match must be a vocabulary term
 * within the allowed distance, nearest first.
 *
 * Linked with replay_main.c into replay_text_fuzzer, which ctest runs over
 * tests/fuzz/corpus/text_fuzzer/.
 */
#include "aipm/text.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_term(void *ctx, const char *term, size_t len)
{
    (void)ctx;
    if (len == 0 || len > AIPM_TERM_MAX || term[len] != '\0' ||
        strlen(term) != len || !aipm_utf8_valid(term, len))
        abort();
    return 0;
}

typedef struct fz {
    aipm_fuzzy *f;
} fz;

static int check_fuzzy(void *ctx, const char *term, size_t len)
{
    fz *z = ctx;
    aipm_fuzzy_hit h[3];
    int n = aipm_fuzzy_match(z->f, term, len, h, 3), k;
    int max = aipm_fuzzy_max_distance(len);

    for (k = 0; k < n; k++)
        if (h[k].distance < 1 || h[k].distance > max ||
            aipm_osa_distance(term, len, h[k].term, strlen(h[k].term), max) !=
                h[k].distance ||
            (k > 0 && h[k].distance < h[k - 1].distance))
            abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t split = nul ? (size_t)(nul - text) : size / 2, i, start = 0;
    aipm_tokenizer *tok = NULL;
    aipm_bm25 *ix = NULL;
    aipm_bm25_hit hits[4];
    aipm_error err = {0};
    int n, k;

    if (aipm_tokenizer_new(&tok, &err) != AIPM_OK)
        return 0;
    aipm_tokenize(tok, text, size, check_term, NULL);
    if (aipm_bm25_new(&ix, &err) != AIPM_OK)
        goto done;
    for (i = 0; i <= split; i++)
        if (i == split || text[i] == '\n') {
            if (aipm_bm25_add(ix, tok, text + start, i - start, &err) != 0)
                goto done;
            start = i + 1;
        }
    if (aipm_bm25_finish(ix, &err) != AIPM_OK)
        goto done;
    i = split < size ? split + 1 : size;
    n = aipm_bm25_query(ix, tok, text + i, size - i, hits, 4);
    for (k = 0; k < n; k++)
        if (hits[k].doc < 0 || hits[k].doc >= aipm_bm25_n_docs(ix) ||
            !(hits[k].score > 0) || !isfinite(hits[k].score) ||
            (k > 0 && hits[k].score > hits[k - 1].score))
            abort();
    {
        fz z = {NULL};
        int t;

        if (aipm_fuzzy_new(&z.f, &err) != AIPM_OK)
            goto done;
        for (t = 0; t < aipm_bm25_n_terms(ix); t++) {
            size_t len;
            const char *term = aipm_bm25_term(ix, t, &len);

            if (aipm_fuzzy_add(z.f, term, len, &err) != AIPM_OK)
                break;
        }
        aipm_tokenize(tok, text + i, size - i, check_fuzzy, &z);
        aipm_fuzzy_free(z.f);
    }
done:
    aipm_bm25_free(ix);
    aipm_tokenizer_free(tok);
    return 0;
}
