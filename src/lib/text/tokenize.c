/* tokenize.c - UTF-8 text to normalised, stemmed terms.
 *
 * One pass over the bytes: each code point is decoded (an invalid byte is
 * a separator), mapped by utf8proc to its compatibility decomposition,
 * case-folded, with combining marks stripped ("Café" -> "cafe", "ﬁle" ->
 * "file"), and appended to the current word while it is a letter or a
 * digit. At the end of a word, stop words are dropped and the rest go
 * through the Snowball English stemmer.
 */
#include "aipm/text.h"

#include <libstemmer.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* utf8proc's mapping: NFKD, case folded, marks stripped, default
 * ignorables (soft hyphen, zero-width joiner, ...) removed. */
#define MAP_OPTIONS                                                            \
    (UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |                \
     UTF8PROC_STRIPMARK | UTF8PROC_IGNORE)

/* A decomposition longer than this (none in Unicode 15 is) is dropped. */
#define MAX_DECOMPOSED 18

/* The stop words as an open-addressing hash set (a power of two, at
 * least twice their number), filled once: the set is asked once per word
 * of every text, where a binary search took 7 string compares. */
#define STOP_SLOTS 512

static const char *stop_set[STOP_SLOTS];
static pthread_once_t stop_once = PTHREAD_ONCE_INIT;

struct aipm_tokenizer {
    struct sb_stemmer *stemmer;
    char word[AIPM_TERM_MAX + 8];
    size_t len;
    int too_long;   /* the current word passed AIPM_TERM_MAX: drop it */
    size_t flushed; /* length of the word handed to the callback */
};

/* English function words: articles, pronouns, auxiliaries, prepositions,
 * conjunctions and the commonest adverbs. */
static const char *const stopwords[] = {
    "a",         "about",   "above",   "after",  "again",      "against",
    "all",       "am",      "an",      "and",    "any",        "are",
    "as",        "at",      "be",      "been",   "before",     "being",
    "below",     "between", "both",    "but",    "by",         "can",
    "could",     "did",     "do",      "does",   "doing",      "down",
    "during",    "each",    "few",     "for",    "from",       "further",
    "had",       "has",     "have",    "having", "he",         "her",
    "here",      "hers",    "herself", "him",    "himself",    "his",
    "how",       "i",       "if",      "in",     "into",       "is",
    "it",        "its",     "itself",  "just",   "me",         "more",
    "most",      "my",      "myself",  "no",     "nor",        "not",
    "now",       "of",      "off",     "on",     "once",       "only",
    "or",        "other",   "our",     "ours",   "ourselves",  "out",
    "over",      "own",     "s",       "same",   "she",        "should",
    "so",        "some",    "such",    "t",      "than",       "that",
    "the",       "their",   "theirs",  "them",   "themselves", "then",
    "there",     "these",   "they",    "this",   "those",      "through",
    "to",        "too",     "under",   "until",  "up",         "very",
    "was",       "we",      "were",    "what",   "when",       "where",
    "which",     "while",   "who",     "whom",   "why",        "will",
    "with",      "would",   "you",     "your",   "yours",      "yourself",
    "yourselves"};

/* FNV-1a. */
static uint32_t hash_word(const char *w, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++)
        h = (h ^ (unsigned char)w[i]) * 16777619u;
    return h;
}

static void fill_stop_set(void)
{
    size_t k;

    for (k = 0; k < sizeof(stopwords) / sizeof(stopwords[0]); k++) {
        const char *w = stopwords[k];
        uint32_t i = hash_word(w, strlen(w)) & (STOP_SLOTS - 1);

        while (stop_set[i])
            i = (i + 1) & (STOP_SLOTS - 1);
        stop_set[i] = w;
    }
}

/* The set's lookup, once it is filled. */
static int is_stop(const char *word, size_t len)
{
    uint32_t i;

    for (i = hash_word(word, len) & (STOP_SLOTS - 1); stop_set[i];
         i = (i + 1) & (STOP_SLOTS - 1))
        if (strncmp(stop_set[i], word, len) == 0 && stop_set[i][len] == '\0')
            return 1;
    return 0;
}

int aipm_text_stopword(const char *word, size_t len)
{
    pthread_once(&stop_once, fill_stop_set);
    return is_stop(word, len);
}

int aipm_tokenizer_new(aipm_tokenizer **out, aipm_error *err)
{
    aipm_tokenizer *t = calloc(1, sizeof(*t));

    *out = NULL;
    if (t == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    pthread_once(&stop_once, fill_stop_set);
    t->stemmer = sb_stemmer_new("english", "UTF_8");
    if (t->stemmer == NULL) {
        free(t);
        return aipm_error_set(err, AIPM_ERROR,
                              "libstemmer has no English UTF-8 stemmer");
    }
    *out = t;
    return AIPM_OK;
}

const char *aipm_tokenizer_word(const aipm_tokenizer *t, size_t *len)
{
    *len = t->flushed;
    return t->word;
}

void aipm_tokenizer_free(aipm_tokenizer *t)
{
    if (t == NULL)
        return;
    sb_stemmer_delete(t->stemmer);
    free(t);
}

/* End the current word: drop it or hand its stem to fn. */
static int flush(aipm_tokenizer *t, aipm_term_fn fn, void *ctx)
{
    const sb_symbol *stem;
    size_t len = t->len;
    int too_long = t->too_long;

    t->len = 0;
    t->too_long = 0;
    if (len == 0 || too_long)
        return 0;
    t->word[len] = '\0';
    t->flushed = len;
    if (is_stop(t->word, len)) /* filled by aipm_tokenizer_new */
        return 0;
    stem = sb_stemmer_stem(t->stemmer, (const sb_symbol *)t->word, (int)len);
    if (stem == NULL) /* out of memory in the stemmer: keep the word */
        return fn(ctx, t->word, len);
    len = (size_t)sb_stemmer_length(t->stemmer);
    if (len == 0 || len > AIPM_TERM_MAX)
        return 0;
    return fn(ctx, (const char *)stem, len);
}

static int is_word_char(utf8proc_int32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               (c >= 'A' && c <= 'Z');
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

/* Append one mapped code point to the word (or end the word). */
static int put(aipm_tokenizer *t, utf8proc_int32_t c, aipm_term_fn fn,
               void *ctx)
{
    utf8proc_uint8_t enc[4];
    utf8proc_ssize_t n;

    if (!is_word_char(c))
        return flush(t, fn, ctx);
    if (c < 0x80) {
        if (t->len >= AIPM_TERM_MAX)
            t->too_long = 1;
        else
            t->word[t->len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        return 0;
    }
    n = utf8proc_encode_char(c, enc);
    if (t->len + (size_t)n > AIPM_TERM_MAX)
        t->too_long = 1;
    else {
        memcpy(t->word + t->len, enc, (size_t)n);
        t->len += (size_t)n;
    }
    return 0;
}

int aipm_tokenize(aipm_tokenizer *t, const char *text, size_t len,
                  aipm_term_fn fn, void *ctx)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
    size_t i = 0;
    int rc;

    t->len = 0;
    t->too_long = 0;
    while (i < len) {
        utf8proc_int32_t c, mapped[MAX_DECOMPOSED];
        utf8proc_ssize_t n, k;
        int boundclass = 0;

        if (p[i] < 0x80) { /* ASCII: no mapping beyond case */
            if ((rc = put(t, p[i], fn, ctx)) != 0)
                return rc;
            i++;
            continue;
        }
        n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
        if (n < 1) { /* an invalid byte: a separator */
            if ((rc = flush(t, fn, ctx)) != 0)
                return rc;
            i++;
            continue;
        }
        i += (size_t)n;
        k = utf8proc_decompose_char(c, mapped, MAX_DECOMPOSED, MAP_OPTIONS,
                                    &boundclass);
        if (k < 0 || k > MAX_DECOMPOSED) {
            if ((rc = flush(t, fn, ctx)) != 0)
                return rc;
            continue;
        }
        for (n = 0; n < k; n++)
            if ((rc = put(t, mapped[n], fn, ctx)) != 0)
                return rc;
    }
    return flush(t, fn, ctx);
}
