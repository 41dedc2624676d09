/* events.c - the event dataset: NDJSON (or CSV) lines to the events table.
 *
 * Per line: length and UTF-8 checks, the contract (ndjson.c), the learned
 * property schema, then the insert, whose ignore-on-conflict on messageId
 * is the dedupe. Schema inference keeps, per (event, property), the set of
 * JSON types seen; a type outside that set is a schema change: accepted and
 * recorded under `on_schema_change: warn`, quarantined as type_mismatch
 * under `block`. Identify and group traits are learned under the names
 * "$identify" and "$group". Nulls never change a schema; they feed the null
 * rate. The maps are bounded (MAX_PROPS), so hostile keys cannot grow memory.
 *
 * This file is the parser side of the pipeline (pipeline.c): rows to store
 * and rows to quarantine are queued to the writer thread, which keeps the
 * counters of what was stored.
 */
#include "ingest/batch.h"
#include "ingest/pipeline.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decode a stored type list ("number|string") into a mask. */
static unsigned mask_of(const char *types)
{
    unsigned mask = 0;
    int t;

    for (t = 1; t < AIPM_J_COUNT; t++) {
        const char *p = strstr(types, aipm_jtype_names[t]);
        size_t n = strlen(aipm_jtype_names[t]);

        if (p && (p == types || p[-1] == '|') && (p[n] == '\0' || p[n] == '|'))
            mask |= 1u << t;
    }
    return mask;
}

static void types_of(char *out, size_t cap, unsigned mask)
{
    int t;
    size_t len = 0;

    out[0] = '\0';
    for (t = 1; t < AIPM_J_COUNT; t++)
        if (mask & (1u << t))
            len +=
                (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s",
                                 len ? "|" : "", aipm_jtype_names[t]);
    if (len == 0)
        snprintf(out, cap, "null");
}

static int grow_arrays(batch *b)
{
    /* Arrays sized to the maps' maximum on first use: a few MB at most. */
    if (b->event_rows == NULL &&
        (b->event_rows = calloc(MAX_EVENT_NAMES, sizeof(int64_t))) == NULL)
        return AIPM_ENOMEM;
    if (b->prop_stats == NULL &&
        (b->prop_stats = calloc(MAX_PROPS, sizeof(prop_stat))) == NULL)
        return AIPM_ENOMEM;
    return AIPM_OK;
}

/* Index of the (ns, property) stat, adding it; -1 when the map is full. */
/* The map key of (namespace, property): "ns\x1fproperty" in key (512
 * bytes); its length, or 0 when it does not fit (the property is then not
 * tracked). */
static size_t prop_key(char key[512], const batch *b, int ns_idx,
                       const char *prop)
{
    size_t ns_len = b->events.key_lens[ns_idx], plen = strlen(prop);

    if (ns_len + 1 + plen > 512)
        return 0;
    memcpy(key, b->events.keys[ns_idx], ns_len);
    key[ns_len] = '\x1f';
    memcpy(key + ns_len + 1, prop, plen);
    return ns_len + 1 + plen;
}

static int prop_index(batch *b, int ns_idx, const char *prop, int *added)
{
    char key[512];
    size_t len = prop_key(key, b, ns_idx, prop);
    int idx;

    if (len == 0 || aipm_strmap_put(&b->props, key, len, &idx, added) != 0)
        return -1;
    if (*added) {
        memset(&b->prop_stats[idx], 0, sizeof(prop_stat));
        b->prop_stats[idx].event_idx = ns_idx;
        b->prop_stats[idx].version = 1;
        b->prop_stats[idx].dirty = 1;
    }
    return idx;
}

static int ns_index(batch *b, const char *ns)
{
    int idx, added;

    if (aipm_strmap_put(&b->events, ns, strlen(ns), &idx, &added) != 0)
        return -1;
    (void)added; /* event_rows is zeroed at allocation */
    return idx;
}

static int load_one(void *ctx, const char *event, const char *property,
                    const char *type, int version)
{
    batch *b = ctx;
    int ns = ns_index(b, event), idx, added;

    if (ns < 0 || (idx = prop_index(b, ns, property, &added)) < 0)
        return 0; /* over the bound: not tracked */
    b->prop_stats[idx].allowed = mask_of(type);
    b->prop_stats[idx].version = version;
    b->prop_stats[idx].dirty = 0;
    return 0;
}

int aipm_ingest__schema_load(batch *b, aipm_error *err)
{
    if (grow_arrays(b) != 0)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    return aipm_store_schema_load(b->st, load_one, b, err);
}

int aipm_ingest__schema_save(batch *b, aipm_error *err)
{
    int i, rc;
    char types[128];

    for (i = 0; i < b->props.n_keys; i++) {
        prop_stat *s = &b->prop_stats[i];
        const char *key = b->props.keys[i];
        const char *sep = strchr(key, '\x1f');
        char ns[512];

        if (!s->dirty || sep == NULL)
            continue;
        snprintf(ns, sizeof(ns), "%.*s", (int)(sep - key), key);
        types_of(types, sizeof(types), s->allowed);
        rc = aipm_store_schema_put(b->st, ns, sep + 1, types, s->version, b->id,
                                   err);
        if (rc)
            return rc;
    }
    return AIPM_OK;
}

/* Check the row's property types against the learned schema; apply what
 * it teaches unless it must be quarantined. Returns the name of the first
 * property whose type breaks the schema under a blocking policy, or NULL. */
static const char *check_schema(batch *b, int ns, const aipm_event *ev)
{
    int i, added;

    b->rows_parsed++;
    if (b->policy.schema_change_blocks)
        for (i = 0; i < ev->n_props; i++) {
            aipm_jtype t = ev->props[i].type;
            char key[512];
            size_t len = prop_key(key, b, ns, ev->props[i].key);
            int idx;
            unsigned allowed;

            if (t == AIPM_J_NULL || len == 0 ||
                (idx = aipm_strmap_find(&b->props, key, len)) < 0)
                continue;
            allowed = b->prop_stats[idx].allowed;
            if (allowed && !(allowed & (1u << t)))
                return ev->props[i].key;
        }
    for (i = 0; i < ev->n_props; i++) {
        aipm_jtype t = ev->props[i].type;
        int idx = prop_index(b, ns, ev->props[i].key, &added);
        prop_stat *s;

        b->prop_idx[i] = idx;
        if (idx < 0) {
            b->untracked_props++;
            continue;
        }
        s = &b->prop_stats[idx];
        /* A key repeated inside one object counts once: the first. */
        if (s->seen_row == b->rows_parsed) {
            b->prop_idx[i] = -1;
            continue;
        }
        s->seen_row = b->rows_parsed;
        if (t == AIPM_J_NULL || (s->allowed & (1u << t)))
            continue;
        if (s->allowed != 0 && !added) {
            char from[128];

            types_of(from, sizeof(from), s->allowed);
            s->version++;
            json_array_append_new(
                b->schema_changes,
                json_pack("{s:s, s:s, s:s, s:s, s:i}", "event",
                          b->events.keys[ns], "property", ev->props[i].key,
                          "from", from, "to", aipm_jtype_names[t], "version",
                          s->version));
        }
        s->allowed |= 1u << t;
        s->dirty = 1;
    }
    return NULL;
}

static int quarantine(batch *b, uint64_t lineno, enum reason why,
                      const char *detail, const char *raw, size_t raw_len,
                      aipm_error *err)
{
    return aipm_pipe__quarantine(b->pipe, lineno, why, detail, raw, raw_len,
                                 err);
}

/* One line of NDJSON (or a CSV record rewritten as NDJSON). */
static int event_line(batch *b, aipm_event_parser *parser, aipm_event *ev,
                      uint64_t lineno, const char *text, size_t len,
                      const char *raw, size_t raw_len, aipm_error *err)
{
    const char *code, *detail, *bad_prop, *ns_name;
    int ns;

    code = aipm_event_parser__parse(parser, text, len,
                                    aipm_time_add_years(b->now_ms, -20),
                                    b->now_ms + 86400000LL, ev, &detail);
    if (code)
        return quarantine(b, lineno, aipm_ingest__reason(code), detail, raw,
                          raw_len, err);
    ns_name = ev->event ? ev->event : ev->group_id ? "$group" : "$identify";
    if ((ns = ns_index(b, ns_name)) < 0)
        ns = -1;
    if (ns >= 0 && (bad_prop = check_schema(b, ns, ev)) != NULL) {
        char msg[300];

        snprintf(msg, sizeof(msg),
                 "property '%.100s' of '%.100s' has a type its schema does "
                 "not allow (on_schema_change: block)",
                 bad_prop, ns_name);
        return quarantine(b, lineno, R_TYPE_MISMATCH, msg, raw, raw_len, err);
    }
    if (ns < 0)
        b->untracked_props++;
    return aipm_pipe__event(b->pipe, lineno, ev, ns, b->prop_idx, err);
}

/* CSV events: map the header to the Segment fields and rewrite each
 * record as one JSON line, so both formats share one validator. */
static const char *const csv_fields[] = {"type",        "messageId",  "userId",
                                         "anonymousId", "timestamp",  "event",
                                         "groupId",     "properties", "traits"};
#define N_CSV_FIELDS 9

/* The properties/traits cells are pasted into the line as they are, so
 * each must be exactly one JSON object: a cell such as {},"messageId":"x"
 * would otherwise override the row's own columns. Returns the name of the
 * first bad cell's column, or NULL. */
static const char *bad_object_cell(const aipm_csv_record *rec,
                                   const int *col_of)
{
    int i;

    for (i = 7; i < N_CSV_FIELDS; i++) {
        json_error_t jerr;
        json_t *v;
        const char *cell;
        int ok;

        if (col_of[i] < 0 || col_of[i] >= rec->n_fields)
            continue;
        cell = rec->fields[col_of[i]];
        if (*cell == '\0')
            continue;
        v = json_loads(cell, JSON_DECODE_ANY, &jerr);
        ok = v && json_is_object(v);
        json_decref(v);
        if (!ok)
            return csv_fields[i];
    }
    return NULL;
}

static int csv_to_json(aipm_buf *out, const aipm_csv_record *rec,
                       const int *col_of)
{
    int i, rc = 0, first = 1;

    aipm_buf_reset(out);
    rc = aipm_buf_put(out, "{", 1);
    for (i = 0; rc == 0 && i < N_CSV_FIELDS; i++) {
        const char *v;

        if (col_of[i] < 0 || col_of[i] >= rec->n_fields)
            continue;
        v = rec->fields[col_of[i]];
        if (*v == '\0')
            continue;
        if (!first)
            rc = aipm_buf_put(out, ",", 1);
        first = 0;
        if (rc == 0)
            rc = aipm_buf_put_json_str(out, csv_fields[i],
                                       strlen(csv_fields[i]));
        if (rc == 0)
            rc = aipm_buf_put(out, ":", 1);
        if (rc == 0)
            rc = i >= 7 ? aipm_buf_puts(out, v) /* JSON object text */
                        : aipm_buf_put_json_str(out, v, strlen(v));
    }
    if (rc == 0)
        rc = aipm_buf_put(out, "}", 1);
    return rc;
}

static int events_csv(batch *b, aipm_event_parser *parser, aipm_event *ev,
                      aipm_error *err)
{
    aipm_csv *csv = NULL;
    aipm_csv_record rec;
    int col_of[N_CSV_FIELDS], n_header = 0, i, j, rc;
    const char *bad_cell;

    if ((rc = aipm_ingest__csv_header(b, &csv, &rec, err)) != 0)
        goto done;
    n_header = rec.n_fields;
    aipm_csv__expect_fields(csv, n_header);
    for (i = 0; i < N_CSV_FIELDS; i++) {
        col_of[i] = -1;
        for (j = 0; j < rec.n_fields; j++)
            if (strcmp(rec.fields[j], csv_fields[i]) == 0)
                col_of[i] = j;
    }
    if (col_of[0] < 0 || col_of[1] < 0 || col_of[4] < 0) {
        const char *guess = aipm_ingest__guess_dataset(
            (const char *const *)rec.fields, rec.n_fields, "events");

        if (guess)
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "%s: the CSV header lacks the event columns "
                                "type, messageId and timestamp; its columns "
                                "look like the %s dataset: did you mean "
                                "`aipm ingest %s`?",
                                b->path, guess, guess);
        else
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "%s: the CSV header needs the columns type, "
                                "messageId and timestamp (and userId or "
                                "anonymousId)",
                                b->path);
        goto done;
    }
    while ((rc = aipm_csv__next(csv, &rec, err)) == 1) {
        aipm_ingest__row_read(b);
        if (rec.error) {
            rc = quarantine(b, rec.lineno, aipm_ingest__reason(rec.error),
                            rec.detail, rec.raw, rec.raw_len, err);
        } else if (rec.n_fields != n_header) {
            char msg[96];

            snprintf(msg, sizeof(msg), "expected %d fields, got %d", n_header,
                     rec.n_fields);
            rc = quarantine(b, rec.lineno, R_MALFORMED_CSV, msg, rec.raw,
                            rec.raw_len, err);
        } else if ((bad_cell = bad_object_cell(&rec, col_of)) != NULL) {
            char msg[96];

            snprintf(msg, sizeof(msg), "%s: not one JSON object", bad_cell);
            rc = quarantine(b, rec.lineno, R_BAD_VALUE, msg, rec.raw,
                            rec.raw_len, err);
        } else if ((rc = csv_to_json(&b->scratch, &rec, col_of)) != 0) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        } else {
            rc = event_line(b, parser, ev, rec.lineno, b->scratch.ptr,
                            b->scratch.len, rec.raw, rec.raw_len, err);
        }
        if (rc)
            goto done;
    }
done:
    aipm_csv__free(csv);
    return rc;
}

/* The first NDJSON object acts as a header, as for the CSV datasets: when
 * it lacks the Segment fields (messageId and type) and its keys fit a CSV
 * dataset's columns (feedback NDJSON given to `ingest events`), the file
 * is the wrong one: refuse it before anything is stored rather than
 * quarantine every row as missing_field. */
static int first_object_check(batch *b, const char *text, size_t len,
                              aipm_error *err)
{
    json_t *obj = json_loadb(text, len, 0, NULL), *v;
    const char *names[64], *key, *guess = NULL;
    int n = 0;

    if (obj && json_is_object(obj) &&
        !(json_object_get(obj, "messageId") && json_object_get(obj, "type"))) {
        json_object_foreach(obj, key, v)
        {
            if (n == (int)(sizeof(names) / sizeof(names[0])))
                break;
            names[n++] = key;
        }
        guess = aipm_ingest__guess_dataset(names, n, "events");
    }
    if (guess) {
        int rc = aipm_error_set(err, AIPM_EINVALID,
                                "%s: its first row has the %s dataset's "
                                "fields, not an event's (messageId, type): "
                                "did you mean `aipm ingest %s`?",
                                b->path, guess, guess);

        json_decref(obj);
        return rc;
    }
    json_decref(obj);
    return AIPM_OK;
}

int aipm_ingest__events(batch *b, int csv, aipm_error *err)
{
    int first = 1;

    aipm_event_parser *parser = NULL;
    aipm_event *ev = NULL;
    aipm_line line;
    int rc;

    if ((rc = grow_arrays(b)) != 0)
        return aipm_error_set(err, rc, "out of memory");
    if ((b->schema_changes = json_array()) == NULL ||
        (ev = malloc(sizeof(*ev))) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if ((rc = aipm_event_parser__new(&parser, err)) != 0 ||
        (rc = aipm_pipe__start(&b->pipe, b, err)) != 0)
        goto done;
    if (csv) {
        rc = events_csv(b, parser, ev, err);
        goto done;
    }
    while ((rc = aipm_reader__next(b->reader, &line, err)) == 1) {
        if (!line.too_long && aipm_ingest__blank(line.ptr, line.len))
            continue;
        aipm_ingest__row_read(b);
        if (line.too_long) {
            char msg[96];

            snprintf(msg, sizeof(msg),
                     "line of %llu bytes (the limit is %zu); first %zu kept",
                     (unsigned long long)line.full_len,
                     b->opts->max_line ? b->opts->max_line
                                       : AIPM_DEFAULT_MAX_LINE,
                     line.len);
            rc = quarantine(b, line.lineno, R_LINE_TOO_LONG, msg, line.ptr,
                            line.len, err);
        } else if (!aipm_utf8_valid(line.ptr, line.len)) {
            rc =
                quarantine(b, line.lineno, R_INVALID_UTF8,
                           "bytes that are not UTF-8", line.ptr, line.len, err);
        } else if (first &&
                   (rc = first_object_check(b, line.ptr, line.len, err)) != 0) {
            goto done;
        } else {
            rc = event_line(b, parser, ev, line.lineno, line.ptr, line.len,
                            line.ptr, line.len, err);
        }
        first = 0;
        if (rc)
            goto done;
    }
done:
    if (rc >= 0 && b->pipe)
        rc = aipm_pipe__finish(b->pipe, err);
    aipm_pipe__free(b->pipe);
    b->pipe = NULL;
    aipm_event_parser__free(parser);
    free(ev);
    return rc < 0 ? rc : AIPM_OK;
}
