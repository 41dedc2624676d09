/* yaml_strict.c - the strict YAML passes shared by aipm.yaml's loader and
 * the scenario file's.
 *
 * The event pass reads the bytes once with libyaml's event parser and
 * stops at the first level deeper than the profile allows (an 80,000-deep
 * sequence used to cost half a minute as a tree), at an alias (a node
 * reachable twice, or from itself) and at a second document (it would be
 * ignored). The key check walks the loaded tree against a table of known
 * keys; a repeated key is found by comparing with the keys before it, which
 * are all known, so the check is linear in the file for a fixed table.
 * Every message is one line naming the file and the line at fault; what
 * differs between the loaders comes from their aipm_yaml_profile.
 */
#include "aipm/yaml_strict.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int aipm_yaml_vbad(const aipm_yaml_walk *w, unsigned long line, const char *fmt,
                   va_list ap)
{
    char msg[sizeof(((aipm_error *)0)->msg)];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    return aipm_error_set(w->err, AIPM_EINVALID, "%s:%lu: %s", w->path, line,
                          msg);
}

int aipm_yaml_bad(const aipm_yaml_walk *w, const yaml_node_t *n,
                  const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = aipm_yaml_vbad(w, n ? (unsigned long)n->start_mark.line + 1 : 0UL, fmt,
                        ap);
    va_end(ap);
    return rc;
}

const char *aipm_yaml_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
                                            : NULL;
}

yaml_node_t *aipm_yaml_get(const aipm_yaml_walk *w, yaml_node_t *map,
                           const char *key)
{
    yaml_node_pair_t *p;

    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k =
            aipm_yaml_scalar(yaml_document_get_node(w->doc, p->key));

        if (k && strcmp(k, key) == 0)
            return yaml_document_get_node(w->doc, p->value);
    }
    return NULL;
}

const char *aipm_yaml_shown(char *out, size_t cap, const char *s)
{
    size_t n = aipm_utf8_cut(s, strlen(s), cap - 1), i;

    for (i = 0; i < n; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
    out[n] = '\0';
    return out;
}

/* Optimal string alignment distance (Damerau-Levenshtein without
 * repeated edits of one substring), case-insensitive: a swap, a missing,
 * extra or wrong letter each count 1. Words over 63 bytes: 99. */
static int edit_distance(const char *a, const char *b)
{
    int d[64][64];
    size_t la = strlen(a), lb = strlen(b), i, j;

    if (la > 63 || lb > 63)
        return 99;
    for (i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (i = 1; i <= la; i++)
        for (j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]),
                cb = tolower((unsigned char)b[j - 1]);
            int best = d[i - 1][j - 1] + (ca != cb);

            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

void aipm_yaml_closer(const char *word, const char *cand, const char **best,
                      int *best_d)
{
    int dist = edit_distance(word, cand);

    if (dist < *best_d && dist < (int)strlen(word)) {
        *best = cand;
        *best_d = dist;
    }
}

static int unknown_key(const aipm_yaml_walk *w, const yaml_node_t *k,
                       const char *key, const aipm_yaml_keyspec *spec,
                       const char *where, const aipm_yaml_profile *p)
{
    const char *near = NULL, *in = *where ? " in " : "";
    const char *kind =
        *where || !(p->flags & AIPM_YAML_SECTIONS) ? "key" : "section";
    const aipm_yaml_keyspec *s;
    char known[300] = "", name[61];
    size_t used = 0;
    int best_d = 3;

    if (p->flags & AIPM_YAML_SHOWN_KEYS)
        aipm_yaml_shown(name, sizeof(name), key);
    else
        snprintf(name, sizeof(name), "%.60s", key);
    for (s = spec; s->name; s++)
        aipm_yaml_closer(key, s->name, &near, &best_d);
    if (near)
        return aipm_yaml_bad(w, k,
                             "unknown %s '%s'%s%s; did you mean '%s'? "
                             "(%s lists every key)",
                             kind, name, in, where, near, p->docs);
    /* A key of the mapping below, written one level too high. */
    for (s = spec; (p->flags & AIPM_YAML_HINT_BELOW) && s->name; s++) {
        const aipm_yaml_keyspec *t;

        for (t = s->sub; t && t->name; t++)
            if (strcmp(t->name, key) == 0)
                return aipm_yaml_bad(w, k,
                                     "unknown %s '%s'%s%s; it belongs under "
                                     "'%s:' (%s)",
                                     kind, name, in, where, s->name, p->docs);
    }
    for (s = spec; s->name && used < sizeof(known); s++) {
        int n = snprintf(known + used, sizeof(known) - used, "%s%s",
                         used ? ", " : "", s->name);

        if (n < 0)
            break;
        used += (size_t)n;
    }
    return aipm_yaml_bad(w, k,
                         "unknown %s '%s'%s%s; the known ones are %s (%s)",
                         kind, name, in, where, known, p->docs);
}

int aipm_yaml_check_keys(const aipm_yaml_walk *w, yaml_node_t *n,
                         const aipm_yaml_keyspec *spec, const char *where,
                         const aipm_yaml_profile *p)
{
    yaml_node_pair_t *pair, *q;
    int rc;

    if (n == NULL)
        return AIPM_OK;
    if (n->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *it;

        for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            yaml_node_t *item = yaml_document_get_node(w->doc, *it);

            if (item == NULL || (item->type != YAML_MAPPING_NODE &&
                                 !(p->flags & AIPM_YAML_NESTED_LISTS)))
                continue;
            if ((rc = aipm_yaml_check_keys(w, item, spec, where, p)) != 0)
                return rc;
        }
        return AIPM_OK;
    }
    if (n->type != YAML_MAPPING_NODE)
        return AIPM_OK;
    for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top;
         pair++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
        const char *key = aipm_yaml_scalar(k);
        const aipm_yaml_keyspec *s;
        char inner[128];

        if (key == NULL)
            return aipm_yaml_bad(w, k ? k : n, "a key must be plain text");
        for (s = spec; s->name && strcmp(s->name, key) != 0; s++)
            ;
        if (s->name == NULL)
            return unknown_key(w, k, key, spec, where, p);
        /* Only known keys reach here, so this is at most |spec| long. */
        for (q = n->data.mapping.pairs.start; q < pair; q++) {
            yaml_node_t *first = yaml_document_get_node(w->doc, q->key);

            if (strcmp(aipm_yaml_scalar(first), key) == 0)
                return aipm_yaml_bad(
                    w, k,
                    "'%s' is given twice%s%s (first on line %lu); keep one",
                    key, *where ? " in " : "", where,
                    (unsigned long)first->start_mark.line + 1);
        }
        if (s->sub == NULL)
            continue;
        snprintf(inner, sizeof(inner), "%s%s%s", where, *where ? "." : "",
                 s->name);
        if ((rc = aipm_yaml_check_keys(
                 w, yaml_document_get_node(w->doc, pair->value), s->sub, inner,
                 p)) != 0)
            return rc;
    }
    return AIPM_OK;
}

/* The event pass: refuse nesting deeper than p->max_depth before any tree
 * is built (the parser stops at the first level too many, so a deep file
 * costs microseconds), aliases, and a second document. YAML syntax errors
 * are reported here, with their line. */
static int check_events(const char *data, size_t len, const char *name,
                        const aipm_yaml_profile *p, aipm_error *err)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int depth = 0, docs = 0, done = 0, rc = AIPM_OK;

    if (!yaml_parser_initialize(&parser))
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    while (!done && rc == AIPM_OK) {
        unsigned long line;

        if (!yaml_parser_parse(&parser, &ev)) {
            rc = aipm_error_set(err, AIPM_EINVALID, "%s:%lu: %s", name,
                                (unsigned long)parser.problem_mark.line + 1,
                                parser.problem ? parser.problem : "bad YAML");
            break;
        }
        line = (unsigned long)ev.start_mark.line + 1;
        switch (ev.type) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > p->max_depth)
                rc = aipm_error_set(err, AIPM_EINVALID,
                                    "%s:%lu: nested more than %d levels "
                                    "deep; %s needs %s (%s)",
                                    name, line, p->max_depth, p->a_file,
                                    p->needs, p->docs);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_ALIAS_EVENT:
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "%s:%lu: YAML aliases (*%.40s) are not "
                                "supported in %s; write the value out",
                                name, line, (const char *)ev.data.alias.anchor,
                                p->file);
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                rc = aipm_error_set(err, AIPM_EINVALID,
                                    "%s:%lu: a second YAML document (---); "
                                    "%s holds one, remove the rest",
                                    name, line, p->file);
            break;
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

int aipm_yaml_load(yaml_document_t *doc, const char *data, size_t len,
                   const char *name, const aipm_yaml_profile *p,
                   aipm_error *err)
{
    yaml_parser_t parser;
    int rc;

    if (len > p->max_bytes)
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s: %zu bytes, over the %zu %s may have; is it "
                              "the right file?",
                              name, len, p->max_bytes, p->a_file);
    if ((rc = check_events(data, len, name, p, err)) != 0)
        return rc;
    if (!yaml_parser_initialize(&parser))
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, doc))
        rc = aipm_error_set(err, AIPM_EINVALID, "%s:%lu: %s", name,
                            (unsigned long)parser.problem_mark.line + 1,
                            parser.problem ? parser.problem : "bad YAML");
    yaml_parser_delete(&parser);
    return rc;
}
