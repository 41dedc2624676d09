/* yaml_strict.h - the strict YAML machinery the library's file loaders
 * share (aipm.yaml in src/lib/config, the scenario file in
 * src/lib/simulate).
 *
 * A loader reads its file in three passes: aipm_yaml_load refuses, before
 * any tree is built, a file over its size, nesting deeper than its limit,
 * aliases and a second document, then loads the one document;
 * aipm_yaml_check_keys checks every mapping against the loader's table of
 * known keys (an unknown or repeated key is an error naming its line, with
 * a did-you-mean); the loader's own typed pass then reads the values with
 * aipm_yaml_get and aipm_yaml_scalar and reports through aipm_yaml_bad.
 * What differs between the loaders - the limits, the name of the file and
 * its documentation page in messages, and a few choices of the key check -
 * is an aipm_yaml_profile, so each keeps its messages to the letter.
 * Library-internal: not part of aipm.h, and the front-ends do not use it.
 */
#ifndef AIPM_YAML_STRICT_H
#define AIPM_YAML_STRICT_H

#include "aipm/core.h"

#include <stdarg.h>
#include <stddef.h>
#include <yaml.h>

/* The typed pass over one document; borrowed pointers. */
typedef struct aipm_yaml_walk {
    yaml_document_t *doc;
    const char *path;
    aipm_error *err;
} aipm_yaml_walk;

/* The known keys of one mapping, ended by {NULL, NULL}. sub: the keys of
 * the mapping the value holds (or of each mapping in the list it holds);
 * NULL: the value's keys, if any, are its loader's to check. */
typedef struct aipm_yaml_keyspec {
    const char *name;
    const struct aipm_yaml_keyspec *sub;
} aipm_yaml_keyspec;

enum {
    /* A top-level key is a "section" in messages ("unknown section"). */
    AIPM_YAML_SECTIONS = 1 << 0,
    /* An unknown key that belongs to the mapping below says so ("it
     * belongs under 'assume:'"). */
    AIPM_YAML_HINT_BELOW = 1 << 1,
    /* An unknown key is shown cut at a character boundary with control
     * bytes as '?' (aipm_yaml_shown); otherwise its first 60 bytes. */
    AIPM_YAML_SHOWN_KEYS = 1 << 2,
    /* The key check also walks lists held in lists; otherwise only the
     * mappings a list holds. */
    AIPM_YAML_NESTED_LISTS = 1 << 3
};

/* One kind of file. The messages read "... not supported in <file>",
 * "<file> holds one", "over the N <a_file> may have", "<a_file> needs
 * <needs> (<docs>)", "(<docs> lists every key)". */
typedef struct aipm_yaml_profile {
    const char *file;   /* "aipm.yaml" */
    const char *a_file; /* "an aipm.yaml" */
    const char *needs;  /* how deep a real file goes: "a few" */
    const char *docs;   /* "docs/config.md" */
    size_t max_bytes;
    int max_depth;
    int flags; /* AIPM_YAML_* */
} aipm_yaml_profile;

/* Fill w->err with "<path>:<line>: <message>" and return AIPM_EINVALID.
 * aipm_yaml_bad takes the line of n (0 when n is NULL). */
int aipm_yaml_vbad(const aipm_yaml_walk *w, unsigned long line, const char *fmt,
                   va_list ap) __attribute__((format(printf, 3, 0)));
int aipm_yaml_bad(const aipm_yaml_walk *w, const yaml_node_t *n,
                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* n's text when it is a scalar, else NULL (borrowed from the document). */
const char *aipm_yaml_scalar(const yaml_node_t *n);

/* The value of key in mapping map, or NULL (also when map is NULL or not a
 * mapping). */
yaml_node_t *aipm_yaml_get(const aipm_yaml_walk *w, yaml_node_t *map,
                           const char *key);

/* s for a message in out: at most cap - 1 bytes, cut at a character
 * boundary, control bytes as '?' (a message is one line). Returns out. */
const char *aipm_yaml_shown(char *out, size_t cap, const char *s);

/* Keep cand in *best when it is within *best_d - 1 edits of word (start
 * with 3), closer than the best so far and than word's own length (so "x"
 * suggests nothing). The distance is the optimal string alignment distance
 * (Damerau-Levenshtein without repeated edits of one substring),
 * case-insensitive; words over 63 bytes are 99 apart. */
void aipm_yaml_closer(const char *word, const char *cand, const char **best,
                      int *best_d);

/* Check the keys of n (a mapping, or a list of mappings) against spec;
 * where names the mapping in messages ("" at the top). The shapes of the
 * values are the typed pass's; the depth is bounded by aipm_yaml_load.
 * Returns AIPM_OK or AIPM_EINVALID with w->err filled. */
int aipm_yaml_check_keys(const aipm_yaml_walk *w, yaml_node_t *n,
                         const aipm_yaml_keyspec *spec, const char *where,
                         const aipm_yaml_profile *p);

/* Load the one document of data (len bytes, named name in messages) into
 * *doc after the event pass has refused what p forbids; YAML syntax errors
 * name their line. On AIPM_OK the caller deletes *doc with
 * yaml_document_delete; on error (AIPM_EINVALID, AIPM_ENOMEM) *doc holds
 * nothing to free. */
int aipm_yaml_load(yaml_document_t *doc, const char *data, size_t len,
                   const char *name, const aipm_yaml_profile *p,
                   aipm_error *err);

#endif
