/* rows.c - the CSV datasets (backlog, feedback, signals, graph).
 *
 * The header row maps column names (any order) onto the dataset contract
 * of datasets.c; a missing required column makes the whole file unusable,
 * an unknown column is ignored and reported. Each record is validated
 * column by column in contract order, dates are normalised to RFC 3339
 * UTC, and the record is stored under its key with a SHA-256 of its
 * normalised values: an identical re-send is a duplicate, a changed row
 * under the same key is a new version (counted as a key conflict when both
 * come from the same file). Numbers must be plain decimals. The same
 * contract is accepted as NDJSON (one object per line, keys = column
 * names), read with jansson. A header (or a first NDJSON object) that fits
 * another dataset, or NDJSON given as CSV, refuses the file with a hint.
 */
#include "ingest/batch.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 64

typedef struct row_check {
    enum reason why;
    char detail[200];
} row_check;

static int set_bad(row_check *c, enum reason why, const char *col,
                   const char *what, const char *value)
{
    c->why = why;
    snprintf(c->detail, sizeof(c->detail), "%s: %s%s%.60s%s", col, what,
             value ? " '" : "", value ? value : "", value ? "'" : "");
    return -1;
}

static int check_number(const aipm_column *col, const char *v, row_check *c)
{
    double d = 0;

    /* Plain decimals only: strtod alone would also take hex (0x10), inf,
     * nan and leading spaces, which then reached the store as text. */
    if (!aipm_decimal_valid(v))
        return set_bad(c, R_BAD_VALUE, col->name,
                       "not a decimal number (like 3, -0.5 or 1e3)", v);
    if (aipm_decimal_parse(v, &d) != 0)
        return set_bad(c, R_BAD_VALUE, col->name,
                       "too large for a number (beyond 1.8e308)", v);
    if (!isnan(col->min_exclusive) && !(d > col->min_exclusive))
        return set_bad(c, R_BAD_VALUE, col->name, "must be greater than 0", v);
    if (!isnan(col->min_inclusive) && d < col->min_inclusive)
        return set_bad(c, R_BAD_VALUE, col->name, "must not be negative", v);
    return 0;
}

static int check_enum(const aipm_column *col, const char *v, row_check *c)
{
    const char *p = col->enum_values;
    size_t n = strlen(v);

    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);

        if (len == n && memcmp(p, v, n) == 0)
            return 0;
        p = bar ? bar + 1 : NULL;
    }
    c->why = R_BAD_VALUE;
    snprintf(c->detail, sizeof(c->detail), "%s: '%.40s' is not one of %s",
             col->name, v, col->enum_values);
    return -1;
}

static int check_node(const aipm_column *col, const char *v, row_check *c)
{
    static const char *const prefixes[] = {"user:", "account:", "feature:"};
    int i;

    for (i = 0; i < 3; i++) {
        size_t n = strlen(prefixes[i]);

        if (strncmp(v, prefixes[i], n) == 0 && v[n] != '\0')
            return 0;
    }
    return set_bad(c, R_BAD_VALUE, col->name,
                   "not a typed node id (user:, account:, feature:)", v);
}

/* Validate values[] (NULL = empty) in place; dates are rewritten into
 * date_buf. Returns 0 or -1 with *c filled. */
static int check_row(const aipm_dataset_def *def, const char **values,
                     char date_buf[][32], row_check *c)
{
    int i;

    for (i = 0; i < def->n_cols; i++) {
        const aipm_column *col = &def->cols[i];
        const char *v = values[i];
        int64_t ms;

        if (v == NULL) {
            if (col->required)
                return set_bad(c, R_MISSING_FIELD, col->name,
                               "required value is empty", NULL);
            continue;
        }
        switch (col->type) {
        case AIPM_COL_NUMBER:
            if (check_number(col, v, c))
                return -1;
            break;
        case AIPM_COL_ENUM:
            if (check_enum(col, v, c))
                return -1;
            break;
        case AIPM_COL_NODE:
            if (check_node(col, v, c))
                return -1;
            break;
        case AIPM_COL_DATE:
            if (aipm_time_parse(&ms, v, strlen(v), 1) != 0)
                return set_bad(c, R_BAD_TIMESTAMP, col->name,
                               "not a date (YYYY-MM-DD or RFC 3339)", v);
            aipm_time_format(date_buf[i], ms);
            values[i] = date_buf[i];
            break;
        case AIPM_COL_TEXT:
            break;
        }
    }
    /* backlog: a shipped item needs its ship date. */
    if (strcmp(def->name, "backlog") == 0 && values[5] &&
        strcmp(values[5], "shipped") == 0 && values[7] == NULL)
        return set_bad(c, R_MISSING_FIELD, "shipped_at",
                       "a shipped item needs shipped_at", NULL);
    return 0;
}

/* Keys tracked per file for key_conflicts: past this many, new keys are
 * not tracked, so the table never passes 2^21 slots of 16 bytes (32 MiB). */
#define MAX_FILE_KEYS ((size_t)1 << 20)
#define MAX_CONFLICT_SAMPLES 10

/* The slot of a key hash in a table of 2^bits slots (Fibonacci hashing:
 * the multiply spreads FNV-1a's bits into the top ones we keep). */
static size_t key_slot(uint64_t kh, size_t slots)
{
    int bits = 0;

    while (((size_t)1 << bits) < slots)
        bits++;
    return (size_t)((kh * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

/* Open addressing, linear probing, load at most 1/2: slot i holds the
 * key's 64-bit hash (low bit set, so 0 means empty) and the first 8 bytes
 * of its row hash. Returns AIPM_OK or AIPM_ENOMEM. */
static int key_table_grow(batch *b)
{
    size_t slots = b->key_slots ? 2 * b->key_slots : 4096, i, mask = slots - 1;
    uint64_t *t = calloc(2 * slots, sizeof(*t));

    if (t == NULL)
        return AIPM_ENOMEM;
    for (i = 0; i < b->key_slots; i++) {
        uint64_t kh = b->key_table[2 * i];
        size_t j = key_slot(kh, slots);

        if (kh == 0)
            continue;
        while (t[2 * j])
            j = (j + 1) & mask;
        t[2 * j] = kh;
        t[2 * j + 1] = b->key_table[2 * i + 1];
    }
    free(b->key_table);
    b->key_table = t;
    b->key_slots = slots;
    return AIPM_OK;
}

/* A conflicting key as a person reads it: the key values joined by ", ",
 * "-" for an empty one (the stored key of a multi-column key is
 * length-prefixed, `24:2024-01-01T00:00:00.000Z;1:s;-;`). Added to the
 * report's samples unless already there: a key changed three times is
 * listed once. */
static void sample_key(batch *b, const char *const *values)
{
    const aipm_dataset_def *def = b->def;
    aipm_buf text;
    size_t i, n = json_array_size(b->conflict_samples);
    int k;

    if (n >= MAX_CONFLICT_SAMPLES)
        return;
    aipm_buf_init(&text, 0);
    for (k = 0; k < def->n_key_cols; k++) {
        const char *v = values[def->key_cols[k]];

        aipm_buf_printf(&text, "%s%s", k ? ", " : "", v ? v : "-");
    }
    for (i = 0; i < n; i++) {
        json_t *old = json_array_get(b->conflict_samples, i);

        if (json_string_length(old) == text.len &&
            memcmp(json_string_value(old), aipm_buf_cstr(&text), text.len) == 0)
            break;
    }
    if (i == n)
        json_array_append_new(b->conflict_samples,
                              json_stringn(aipm_buf_cstr(&text), text.len));
    aipm_buf_free(&text);
}

/* A key met earlier in this file with other content (b->scratch holds the
 * key) is counted: the store keeps both as versions, which is right across
 * files but in one file usually means an export joined two snapshots. Keys
 * are compared by a 64-bit hash, contents by 64 bits of their SHA-256. */
static int track_key(batch *b, const char *const *values,
                     const uint8_t digest[32], aipm_error *err)
{
    uint64_t kh = aipm_strmap_hash(b->scratch.ptr, b->scratch.len) | 1, rh = 0;
    size_t i, mask;
    int k;

    if (b->n_file_keys >= b->key_slots / 2 && b->n_file_keys < MAX_FILE_KEYS &&
        key_table_grow(b) != 0)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (k = 0; k < 8; k++)
        rh = rh << 8 | digest[k];
    mask = b->key_slots - 1;
    for (i = key_slot(kh, b->key_slots); b->key_table[2 * i];
         i = (i + 1) & mask) {
        if (b->key_table[2 * i] != kh)
            continue;
        if (b->key_table[2 * i + 1] != rh) {
            b->key_conflicts++;
            b->key_table[2 * i + 1] = rh;
            sample_key(b, values);
        }
        return AIPM_OK;
    }
    if (b->n_file_keys < MAX_FILE_KEYS) {
        b->key_table[2 * i] = kh;
        b->key_table[2 * i + 1] = rh;
        b->n_file_keys++;
    }
    return AIPM_OK;
}

/* Store one validated row. */
static int put_row(batch *b, uint64_t lineno, const char **values,
                   const char *raw, size_t raw_len, aipm_error *err)
{
    const aipm_dataset_def *def = b->def;
    char date_buf[MAX_COLS][32], sha_hex[65];
    row_check c;
    aipm_sha256 h;
    uint8_t digest[32];
    int i, inserted, rc;
    int64_t ts = 0;

    if (check_row(def, values, date_buf, &c) != 0)
        return aipm_ingest__quarantine(b, lineno, c.why, c.detail, raw, raw_len,
                                       err);
    /* Both the key and the row hash are length-prefixed, so no choice of
     * separator inside a value can make two different rows collide. A
     * one-column key is the value itself (what a person would look for). */
    aipm_buf_reset(&b->scratch);
    for (i = 0; i < def->n_key_cols; i++) {
        const char *v = values[def->key_cols[i]];

        if (def->n_key_cols == 1)
            aipm_buf_puts(&b->scratch, v ? v : "");
        else if (v)
            aipm_buf_printf(&b->scratch, "%zu:%s;", strlen(v), v);
        else
            aipm_buf_puts(&b->scratch, "-;");
    }
    aipm_sha256_init(&h);
    for (i = 0; i < def->n_cols; i++) {
        /* 8-byte big-endian length, then the bytes; all ones for empty. */
        uint64_t n = values[i] ? strlen(values[i]) : UINT64_MAX;
        uint8_t len[8];
        int k;

        for (k = 0; k < 8; k++)
            len[k] = (uint8_t)(n >> (56 - 8 * k));
        aipm_sha256_update(&h, len, 8);
        if (values[i])
            aipm_sha256_update(&h, values[i], (size_t)n);
    }
    aipm_sha256_final(&h, digest);
    aipm_hex(sha_hex, digest, 32);
    if ((rc = track_key(b, (const char *const *)values, digest, err)) != 0)
        return rc;
    rc = aipm_store_row_put(b->st, def->name, b->id, aipm_buf_cstr(&b->scratch),
                            sha_hex, (const char *const *)values, &inserted,
                            err);
    if (rc)
        return rc;
    if (!inserted) {
        b->duplicates++;
        return AIPM_OK;
    }
    for (i = 0; i < def->n_cols; i++)
        if (values[i])
            b->col_nonnull[i]++;
    if (def->time_col >= 0 && values[def->time_col])
        aipm_time_parse(&ts, values[def->time_col],
                        strlen(values[def->time_col]), 1);
    aipm_ingest__accepted(b, b->scratch.ptr, b->scratch.len,
                          def->time_col >= 0 && values[def->time_col], ts);
    return AIPM_OK;
}

static int has_name(const char *const *names, int n, const char *name)
{
    int i;

    for (i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

const char *aipm_ingest__guess_dataset(const char *const *names, int n,
                                       const char *not_this)
{
    static const char *const csv_sets[] = {"backlog", "feedback", "signals",
                                           "graph"};
    int d, i;

    if (strcmp(not_this, "events") != 0 && has_name(names, n, "messageId") &&
        (has_name(names, n, "event") || has_name(names, n, "type")))
        return "events";
    for (d = 0; d < 4; d++) {
        const aipm_dataset_def *def = aipm_dataset_find(csv_sets[d]);
        int fits = 1;

        if (strcmp(csv_sets[d], not_this) == 0)
            continue;
        for (i = 0; i < def->n_cols && fits; i++)
            fits =
                !def->cols[i].required || has_name(names, n, def->cols[i].name);
        if (fits)
            return csv_sets[d];
    }
    return NULL;
}

/* A JSON object's keys (at most max of them) into names[]. */
static int json_keys(json_t *obj, const char **names, int max)
{
    const char *key;
    json_t *v;
    int n = 0;

    json_object_foreach(obj, key, v)
    {
        if (n == max)
            break;
        names[n++] = key;
    }
    return n;
}

/* A CSV header that is really a JSON object: say so, and which command
 * the file is for when its keys tell. */
static int ndjson_as_csv(batch *b, const aipm_csv_record *rec, aipm_error *err)
{
    json_t *obj = json_loadb(rec->raw, rec->raw_len, 0, NULL);
    const char *names[MAX_COLS], *guess = NULL;
    int n, rc;

    if (obj && json_is_object(obj)) {
        n = json_keys(obj, names, MAX_COLS);
        guess = aipm_ingest__guess_dataset(names, n, b->dataset);
    }
    if (guess)
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "%s: this looks like NDJSON (a JSON object per "
                            "line), not CSV, with the %s dataset's fields: "
                            "did you mean `aipm ingest %s`?",
                            b->path, guess, guess);
    else
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "%s: this looks like NDJSON (a JSON object per "
                            "line), not CSV: pass --format ndjson or name "
                            "the file .ndjson",
                            b->path);
    json_decref(obj);
    return rc;
}

int aipm_ingest__csv_header(batch *b, aipm_csv **csv, aipm_csv_record *rec,
                            aipm_error *err)
{
    size_t i = 0;
    int rc;

    if ((rc = aipm_csv__new(csv, b->reader, b->opts->max_line, err)) != 0)
        return rc;
    rc = aipm_csv__next(*csv, rec, err);
    if (rc == 0)
        return aipm_error_set(err, AIPM_EINVALID, "%s: empty file", b->path);
    while (rc > 0 && i < rec->raw_len &&
           (rec->raw[i] == ' ' || rec->raw[i] == '\t'))
        i++;
    if (rc > 0 && i < rec->raw_len && rec->raw[i] == '{')
        return ndjson_as_csv(b, rec, err);
    if (rc > 0 && rec->error)
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s: the header row is unreadable (%s)", b->path,
                              rec->error);
    return rc < 0 ? rc : AIPM_OK;
}

static int rows_csv(batch *b, aipm_error *err)
{
    const aipm_dataset_def *def = b->def;
    aipm_csv *csv = NULL;
    aipm_csv_record rec;
    const char *values[MAX_COLS];
    int col_of[MAX_COLS], n_header, i, j, rc;
    aipm_buf missing;

    aipm_buf_init(&missing, 4096);
    if ((rc = aipm_ingest__csv_header(b, &csv, &rec, err)) != 0)
        goto done;
    n_header = rec.n_fields;
    aipm_csv__expect_fields(csv, n_header);
    for (i = 0; i < def->n_cols; i++) {
        col_of[i] = -1;
        for (j = 0; j < rec.n_fields; j++)
            if (strcmp(rec.fields[j], def->cols[i].name) == 0)
                col_of[i] = j;
        if (col_of[i] < 0 && def->cols[i].required)
            aipm_buf_printf(&missing, "%s%s", missing.len ? ", " : "",
                            def->cols[i].name);
    }
    if (missing.len) {
        const char *guess = aipm_ingest__guess_dataset(
            (const char *const *)rec.fields, rec.n_fields, def->name);

        if (guess)
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "%s: the header lacks the %s column(s) %s; "
                                "its columns look like the %s dataset: did "
                                "you mean `aipm ingest %s`?",
                                b->path, def->name, aipm_buf_cstr(&missing),
                                guess, guess);
        else
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "%s: the header lacks the %s column(s) %s; "
                                "is this a %s file?",
                                b->path, def->name, aipm_buf_cstr(&missing),
                                def->name);
        goto done;
    }
    for (j = 0; j < rec.n_fields; j++) {
        int known = 0;

        for (i = 0; i < def->n_cols; i++)
            known |= col_of[i] == j;
        if (!known)
            json_array_append_new(b->ignored_columns,
                                  json_string(rec.fields[j]));
    }
    while ((rc = aipm_csv__next(csv, &rec, err)) == 1) {
        aipm_ingest__row_read(b);
        if (rec.error) {
            rc = aipm_ingest__quarantine(b, rec.lineno,
                                         aipm_ingest__reason(rec.error),
                                         rec.detail, rec.raw, rec.raw_len, err);
        } else if (rec.n_fields != n_header) {
            char msg[96];

            snprintf(msg, sizeof(msg), "expected %d fields, got %d", n_header,
                     rec.n_fields);
            rc = aipm_ingest__quarantine(b, rec.lineno, R_MALFORMED_CSV, msg,
                                         rec.raw, rec.raw_len, err);
        } else {
            for (i = 0; i < def->n_cols; i++)
                values[i] = col_of[i] >= 0 && rec.fields[col_of[i]][0]
                                ? rec.fields[col_of[i]]
                                : NULL;
            rc = put_row(b, rec.lineno, values, rec.raw, rec.raw_len, err);
        }
        if (rc)
            goto done;
    }
done:
    aipm_buf_free(&missing);
    aipm_csv__free(csv);
    return rc < 0 ? rc : AIPM_OK;
}

/* One NDJSON object to contract values; text is kept in `store`. */
static int json_values(const aipm_dataset_def *def, json_t *obj,
                       const char **values, char store[][64], row_check *c)
{
    int i;

    for (i = 0; i < def->n_cols; i++) {
        json_t *v = json_object_get(obj, def->cols[i].name);

        values[i] = NULL;
        if (v == NULL || json_is_null(v))
            continue;
        if (json_is_string(v)) {
            values[i] = json_string_value(v)[0] ? json_string_value(v) : NULL;
        } else if (json_is_integer(v)) {
            snprintf(store[i], 64, "%lld", (long long)json_integer_value(v));
            values[i] = store[i];
        } else if (json_is_real(v)) {
            snprintf(store[i], 64, "%.17g", json_real_value(v));
            values[i] = store[i];
        } else if (json_is_boolean(v)) {
            values[i] = json_is_true(v) ? "true" : "false";
        } else {
            return set_bad(c, R_BAD_VALUE, def->cols[i].name,
                           "an object or array where a value belongs", NULL);
        }
    }
    return 0;
}

/* The first object of an NDJSON file acts as its header: when it lacks
 * some required column and either fits another dataset or has none of
 * this one's columns at all, the file is the wrong one (events fed to
 * `ingest backlog`, say): refuse it rather than quarantine every row. */
static int ndjson_header(batch *b, json_t *obj, aipm_error *err)
{
    const aipm_dataset_def *def = b->def;
    const char *names[MAX_COLS], *guess;
    int n = json_keys(obj, names, MAX_COLS), i, missing = 0, known = 0;

    for (i = 0; i < def->n_cols; i++) {
        int here = json_object_get(obj, def->cols[i].name) != NULL;

        known += here;
        missing += def->cols[i].required && !here;
    }
    if (missing == 0)
        return AIPM_OK;
    guess = aipm_ingest__guess_dataset(names, n, def->name);
    if (guess)
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s: its first row has the %s dataset's fields, "
                              "not the %s columns: did you mean `aipm ingest "
                              "%s`?",
                              b->path, guess, def->name, guess);
    if (known == 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s: its first row has none of the %s columns; "
                              "is this a %s file?",
                              b->path, def->name, def->name);
    return AIPM_OK;
}

static int rows_ndjson(batch *b, aipm_error *err)
{
    const char *values[MAX_COLS];
    char store[MAX_COLS][64];
    aipm_line line;
    row_check c;
    int rc, first = 1;

    while ((rc = aipm_reader__next(b->reader, &line, err)) == 1) {
        json_t *obj;
        json_error_t jerr;

        if (!line.too_long && aipm_ingest__blank(line.ptr, line.len))
            continue;
        aipm_ingest__row_read(b);
        if (line.too_long) {
            rc = aipm_ingest__quarantine(b, line.lineno, R_LINE_TOO_LONG,
                                         "line longer than the limit", line.ptr,
                                         line.len, err);
        } else if (!aipm_utf8_valid(line.ptr, line.len)) {
            rc = aipm_ingest__quarantine(b, line.lineno, R_INVALID_UTF8,
                                         "bytes that are not UTF-8", line.ptr,
                                         line.len, err);
        } else if ((obj = json_loadb(line.ptr, line.len, JSON_DECODE_ANY,
                                     &jerr)) == NULL ||
                   !json_is_object(obj)) {
            json_decref(obj);
            rc = aipm_ingest__quarantine(b, line.lineno, R_MALFORMED_JSON,
                                         obj ? "not a JSON object" : jerr.text,
                                         line.ptr, line.len, err);
        } else if (first && (rc = ndjson_header(b, obj, err)) != 0) {
            json_decref(obj);
        } else {
            first = 0;
            if (json_values(b->def, obj, values, store, &c) != 0)
                rc = aipm_ingest__quarantine(b, line.lineno, c.why, c.detail,
                                             line.ptr, line.len, err);
            else
                rc = put_row(b, line.lineno, values, line.ptr, line.len, err);
            json_decref(obj);
        }
        if (rc)
            return rc;
    }
    return rc < 0 ? rc : AIPM_OK;
}

int aipm_ingest__rows(batch *b, int csv, aipm_error *err)
{
    b->def = aipm_dataset_find(b->dataset);
    if (b->def == NULL || b->def->n_cols > MAX_COLS)
        return aipm_error_set(err, AIPM_EINVALID, "unknown dataset '%s'",
                              b->dataset);
    if ((b->ignored_columns = json_array()) == NULL ||
        (b->conflict_samples = json_array()) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    return csv ? rows_csv(b, err) : rows_ndjson(b, err);
}
