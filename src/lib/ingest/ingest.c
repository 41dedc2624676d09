/* ingest.c - one file, one batch: the transaction, the gates, the report.
 *
 * Order of work: open the reader (errors here mean nothing is stored), begin
 * the transaction, create the batch row, run the dataset loop, then compute
 * the gates from the counters, write the learned schema, daily volumes,
 * lineage run and audit entry, and commit. Any failure rolls everything
 * back, so a killed or failed ingest leaves no partial batch; a failed run
 * is still recorded (state FAIL) in a transaction of its own.
 *
 * Gates (policies.data): quarantine share (blocked above the maximum, warn
 * when any row was quarantined), schema (type changes: warn or, under
 * block, type_mismatch rows and a blocked batch), freshness (warn when the
 * newest row is older than max_staleness_hours) and volume (warn when the
 * batch's mean rows per day falls outside [volume_low, volume_high] times
 * the trailing 28-day mean of accepted batches). The verdict is the worst.
 *
 * Quarantine is bounded: every bad row is counted, but only the first
 * max_quarantine_samples of each reason in a batch are stored, each with
 * at most AIPM_RAW_KEEP bytes of raw text; the report's
 * quarantine_not_stored says how many per reason were counted only.
 */
#include "ingest/batch.h"

#include "aipm/audit.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define PRODUCER "urn:aipm:" AIPM_VERSION

const char *const aipm_ingest__reasons[R_COUNT] = {
    "malformed_json", "malformed_csv", "missing_field",
    "bad_timestamp",  "type_mismatch", "unsupported_type",
    "bad_value",      "invalid_utf8",  "line_too_long"};

enum reason aipm_ingest__reason(const char *code)
{
    int i;

    for (i = 0; i < R_COUNT; i++)
        if (strcmp(code, aipm_ingest__reasons[i]) == 0)
            return (enum reason)i;
    return R_BAD_VALUE;
}

int aipm_ingest_reason_known(const char *code)
{
    int i;

    for (i = 0; i < R_COUNT; i++)
        if (strcmp(code, aipm_ingest__reasons[i]) == 0)
            return 1;
    return 0;
}

int aipm_ingest_dataset_known(const char *name)
{
    return strcmp(name, "events") == 0 || aipm_dataset_find(name) != NULL;
}

void aipm_ingest__row_read(batch *b)
{
    b->read++;
    if (b->opts->progress && ++b->lines_since_progress >= 8192) {
        b->lines_since_progress = 0;
        b->opts->progress(b->opts->progress_ctx,
                          aipm_reader__raw_read(b->reader),
                          aipm_reader__raw_size(b->reader));
    }
}

int aipm_ingest__quarantine(batch *b, uint64_t lineno, enum reason why,
                            const char *detail, const char *raw, size_t raw_len,
                            aipm_error *err)
{
    aipm_quarantine_row q;

    b->quarantined++;
    b->reasons[why]++;
    /* Bounded store: the counts are complete, the samples are not (a
     * 558 KB gzip of bad lines once added 366 MB of quarantine). */
    if ((double)(b->reasons[why] - b->not_stored[why]) >
        b->policy.max_quarantine_samples) {
        b->not_stored[why]++;
        return AIPM_OK;
    }
    /* Cut on a character boundary: a split character would make the
     * whole kept text invalid UTF-8. */
    raw_len = aipm_utf8_cut(raw, raw_len, AIPM_RAW_KEEP);
    q.batch_id = b->id;
    q.dataset = b->dataset;
    q.file = b->source;
    q.line = (int64_t)lineno;
    q.reason = aipm_ingest__reasons[why];
    q.detail = detail;
    q.raw = raw;
    q.raw_len = raw_len;
    return aipm_store_quarantine_put(b->st, &q, err);
}

void aipm_ingest__accepted(batch *b, const char *key, size_t key_len,
                           int have_ts, int64_t ts_ms)
{
    b->accepted++;
    aipm_sha256_update(&b->content, key, key_len);
    aipm_sha256_update(&b->content, "\n", 1);
    if (have_ts) {
        int64_t day =
            ts_ms >= 0 ? ts_ms / DAY_MS : -((-ts_ms + DAY_MS - 1) / DAY_MS);
        int idx, added;

        if (!b->have_ts || ts_ms > b->max_ts)
            b->max_ts = ts_ms;
        if (!b->have_ts || ts_ms < b->min_ts)
            b->min_ts = ts_ms;
        b->have_ts = 1;
        if (aipm_strmap_put(&b->days, (const char *)&day, sizeof(day), &idx,
                            &added) == 0) {
            if (added)
                b->day_rows[idx] = 0;
            b->day_rows[idx]++;
        }
    }
}

static int64_t day_of(batch *b, int idx)
{
    int64_t day;

    memcpy(&day, b->days.keys[idx], sizeof(day));
    return day;
}

/* ---- the gates and the report ---- */

typedef struct gates {
    int verdict; /* 0 pass, 1 warn, 2 blocked */
    json_t *list;
} gates;

static void gate(gates *g, const char *name, int result, json_t *detail)
{
    static const char *const names[] = {"pass", "warn", "blocked"};

    if (result > g->verdict)
        g->verdict = result;
    json_object_set_new(detail, "gate", json_string(name));
    json_object_set_new(detail, "result", json_string(names[result]));
    json_array_append_new(g->list, detail);
}

static json_t *null_rates(batch *b)
{
    json_t *arr = json_array();
    int i;

    if (b->def) {
        for (i = 0; i < b->def->n_cols; i++)
            json_array_append_new(
                arr, json_pack("{s:s, s:f}", "property", b->def->cols[i].name,
                               "null_rate",
                               b->accepted ? 1.0 - (double)b->col_nonnull[i] /
                                                       (double)b->accepted
                                           : 0.0));
        return arr;
    }
    for (i = 0; i < b->props.n_keys && json_array_size(arr) < 500; i++) {
        prop_stat *s = &b->prop_stats[i];
        int64_t rows = b->event_rows[s->event_idx];
        const char *key = b->props.keys[i], *sep = strchr(key, '\x1f');
        char types[128];
        int t, len = 0;

        if (rows == 0 || sep == NULL)
            continue;
        types[0] = '\0';
        for (t = 1; t < AIPM_J_COUNT; t++)
            if (s->allowed & (1u << t))
                len += snprintf(types + len, sizeof(types) - (size_t)len,
                                "%s%s", len ? "|" : "", aipm_jtype_names[t]);
        json_array_append_new(
            arr, json_pack("{s:s%, s:s, s:s, s:f}", "event", key,
                           (size_t)(sep - key), "property", sep + 1, "type",
                           len ? types : "null", "null_rate",
                           1.0 - (double)s->nonnull / (double)rows));
    }
    return arr;
}

static json_t *catalog_coverage(batch *b)
{
    const aipm_config *cfg = b->opts->config;
    json_t *arr = json_array();
    int i, j;

    if (cfg == NULL || b->def)
        return arr;
    for (i = 0; i < cfg->n_catalog; i++) {
        int64_t rows = 0;

        for (j = 0; j < cfg->catalog[i].n_events; j++) {
            const char *e = cfg->catalog[i].events[j];
            int idx = aipm_strmap_find(&b->events, e, strlen(e));

            if (idx >= 0)
                rows += b->event_rows[idx];
        }
        json_array_append_new(arr, json_pack("{s:s, s:I}", "feature",
                                             cfg->catalog[i].key, "rows",
                                             (json_int_t)rows));
    }
    return arr;
}

static int evaluate(batch *b, gates *g, aipm_error *err)
{
    const aipm_data_policy *p = &b->policy;
    double share = b->read ? (double)b->quarantined / (double)b->read : 0;
    int i, rc;

    g->verdict = 0;
    g->list = json_array();

    gate(g, "quarantine_share",
         share > p->max_quarantine_share ? 2
         : b->quarantined                ? 1
                                         : 0,
         json_pack("{s:f, s:f}", "value", share, "threshold",
                   p->max_quarantine_share));
    if (b->def == NULL) {
        size_t changes = json_array_size(b->schema_changes);
        int64_t mismatches = b->reasons[R_TYPE_MISMATCH];

        gate(g, "schema",
             mismatches ? 2
             : changes  ? 1
                        : 0,
             json_pack("{s:I, s:I, s:s}", "changes", (json_int_t)changes,
                       "type_mismatch_rows", (json_int_t)mismatches,
                       "on_schema_change",
                       p->schema_change_blocks ? "block" : "warn"));
    }
    if (b->have_ts) {
        double age_h = (double)(b->now_ms - b->max_ts) / 3600000.0;
        char newest[32];

        aipm_time_format(newest, b->max_ts);
        /* Rows dated after now are no age: freshness says 0 h, and rows
         * more than 5 minutes ahead (a clock's drift) are a warning of
         * their own. */
        if (age_h < 0) {
            if (-age_h > 5.0 / 60)
                gate(g, "future_timestamps", 1,
                     json_pack("{s:s, s:f}", "newest", newest, "hours_ahead",
                               -age_h));
            age_h = 0;
        }
        /* Only telemetry is expected to be fresh; a backlog or a feedback
         * export may rightly be weeks old, so for them it is reported but
         * not gated. */
        if (b->def == NULL)
            gate(g, "freshness", age_h > p->max_staleness_hours ? 1 : 0,
                 json_pack("{s:s, s:f, s:f}", "newest", newest, "age_hours",
                           age_h, "max_age_hours", p->max_staleness_hours));
        else
            gate(g, "freshness", 0,
                 json_pack("{s:s, s:f, s:s}", "newest", newest, "age_hours",
                           age_h, "note", "reported, not gated"));
    }
    if (b->have_ts && b->days.n_keys > 0) {
        int64_t first = day_of(b, 0), days = 0;
        double trailing = 0, mine;

        for (i = 1; i < b->days.n_keys; i++)
            if (day_of(b, i) < first)
                first = day_of(b, i);
        rc = aipm_store_volume_mean(b->st, b->dataset, first - 28, first,
                                    &trailing, &days, err);
        if (rc)
            return rc;
        mine = (double)b->accepted / (double)b->days.n_keys;
        if (days == 0) {
            gate(g, "volume", 0,
                 json_pack("{s:f, s:n, s:I, s:s}", "batch_daily_mean", mine,
                           "trailing_daily_mean", "trailing_days",
                           (json_int_t)0, "note",
                           "no accepted history in the 28 days before"));
        } else {
            double ratio = mine / trailing;

            gate(g, "volume",
                 ratio < p->volume_low || ratio > p->volume_high ? 1 : 0,
                 json_pack("{s:f, s:f, s:I, s:f, s:f, s:f}", "batch_daily_mean",
                           mine, "trailing_daily_mean", trailing,
                           "trailing_days", (json_int_t)days, "ratio", ratio,
                           "low", p->volume_low, "high", p->volume_high));
        }
    }
    return AIPM_OK;
}

static json_t *facet(const char *schema)
{
    return json_pack("{s:s, s:s}", "_producer", PRODUCER, "_schemaURL", schema);
}

#define SCHEMA_FACET                                                           \
    "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json"         \
    "#/$defs/SchemaDatasetFacet"
#define DQ_FACET                                                               \
    "https://openlineage.io/spec/facets/1-0-2/"                                \
    "DataQualityMetricsInputDatasetFacet.json"                                 \
    "#/$defs/DataQualityMetricsInputDatasetFacet"
#define STATS_FACET                                                            \
    "https://openlineage.io/spec/facets/1-0-2/"                                \
    "OutputStatisticsOutputDatasetFacet.json"                                  \
    "#/$defs/OutputStatisticsOutputDatasetFacet"
#define VERSION_FACET                                                          \
    "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json" \
    "#/$defs/DatasetVersionDatasetFacet"

/* The OpenLineage datasets of this run: the file read (with its schema
 * and data quality metrics) and the store dataset written. */
static void lineage(batch *b, json_t **inputs, json_t **outputs)
{
    json_t *fields = json_array(), *metrics = json_object();
    json_t *schema, *dq, *in, *out, *stats, *version;
    char vbuf[32];
    int i;

    if (b->def) {
        for (i = 0; i < b->def->n_cols; i++) {
            const aipm_column *c = &b->def->cols[i];
            static const char *const tn[] = {"string", "number", "date", "enum",
                                             "node"};

            json_array_append_new(
                fields,
                json_pack("{s:s, s:s}", "name", c->name, "type", tn[c->type]));
            json_object_set_new(
                metrics, c->name,
                json_pack("{s:I}", "nullCount",
                          (json_int_t)(b->accepted - b->col_nonnull[i])));
        }
    } else {
        static const char *const cols[][2] = {
            {"messageId", "string"},    {"type", "string"},
            {"userId", "string"},       {"anonymousId", "string"},
            {"event", "string"},        {"groupId", "string"},
            {"timestamp", "timestamp"}, {"properties", "object"}};

        for (i = 0; i < 8; i++)
            json_array_append_new(fields,
                                  json_pack("{s:s, s:s}", "name", cols[i][0],
                                            "type", cols[i][1]));
        for (i = 0; i < b->props.n_keys && i < 500; i++) {
            prop_stat *s = &b->prop_stats[i];
            int64_t rows = b->event_rows[s->event_idx];
            char name[600];
            const char *key = b->props.keys[i], *sep = strchr(key, '\x1f');

            if (rows == 0 || sep == NULL)
                continue;
            snprintf(name, sizeof(name), "%.*s.properties.%s", (int)(sep - key),
                     key, sep + 1);
            json_object_set_new(metrics, name,
                                json_pack("{s:I}", "nullCount",
                                          (json_int_t)(rows - s->nonnull)));
        }
    }
    schema = facet(SCHEMA_FACET);
    json_object_set(schema, "fields", fields);
    dq = facet(DQ_FACET);
    json_object_set_new(dq, "rowCount", json_integer(b->read));
    json_object_set_new(
        dq, "bytes",
        json_integer((json_int_t)aipm_reader__raw_size(b->reader)));
    json_object_set_new(dq, "fileCount", json_integer(1));
    json_object_set_new(dq, "columnMetrics", metrics);
    in = json_pack("{s:s, s:s, s:{s:o}, s:{s:o}}", "namespace", "file", "name",
                   b->source, "facets", "schema", schema, "inputFacets",
                   "dataQualityMetrics", dq);
    stats = facet(STATS_FACET);
    json_object_set_new(stats, "rowCount", json_integer(b->accepted));
    version = facet(VERSION_FACET);
    snprintf(vbuf, sizeof(vbuf), "batch-%lld", (long long)b->id);
    json_object_set_new(version, "datasetVersion", json_string(vbuf));
    schema = facet(SCHEMA_FACET);
    json_object_set_new(schema, "fields", fields);
    out = json_pack("{s:s, s:s, s:{s:o, s:o}, s:{s:o}}", "namespace",
                    aipm_store_namespace(b->st), "name", b->dataset, "facets",
                    "schema", schema, "version", version, "outputFacets",
                    "outputStatistics", stats);
    *inputs = json_pack("[o]", in);
    *outputs = json_pack("[o]", out);
}

#define ERROR_FACET                                                            \
    "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json"       \
    "#/$defs/ErrorMessageRunFacet"

static int record_run(batch *b, const char *state, json_t *inputs,
                      json_t *outputs, json_t *facets, aipm_error *err)
{
    aipm_run_row run;
    char *in = inputs ? json_dumps(inputs, JSON_COMPACT) : NULL;
    char *out = outputs ? json_dumps(outputs, JSON_COMPACT) : NULL;
    char *fac = facets ? json_dumps(facets, JSON_COMPACT) : NULL;
    char job[64];
    int rc;

    snprintf(job, sizeof(job), "ingest.%s", b->dataset);
    run.id = b->run_id;
    run.job = job;
    run.state = state;
    run.started_ms = b->started_ms;
    run.ended_ms = aipm_now_ms();
    run.inputs = in ? in : "[]";
    run.outputs = out ? out : "[]";
    run.facets = fac;
    rc = aipm_store_run_put(b->st, &run, err);
    free(in);
    free(out);
    free(fac);
    return rc;
}

/* A failed ingest stores nothing but this: a FAIL run naming the file and
 * the error (OpenLineage's errorMessage run facet), in its own
 * transaction. Its own failure is ignored: there is nothing left to undo. */
static void record_failure(batch *b, const aipm_error *err)
{
    json_t *inputs, *facets, *msg;

    if (aipm_store_begin(b->st, NULL) != 0)
        return;
    msg = facet(ERROR_FACET);
    json_object_set_new(msg, "message",
                        json_string(err && err->msg[0] ? err->msg : "error"));
    json_object_set_new(msg, "programmingLanguage", json_string("C"));
    facets = json_pack("{s:o}", "errorMessage", msg);
    inputs = json_pack("[{s:s, s:s, s:{}}]", "namespace", "file", "name",
                       b->source[0] ? b->source : b->path, "facets");
    if (record_run(b, "FAIL", inputs, NULL, facets, NULL) == 0)
        aipm_store_commit(b->st, NULL);
    else
        aipm_store_rollback(b->st);
    json_decref(inputs);
    json_decref(facets);
}

static const char *format_of(const char *path, const char *forced)
{
    size_t n = strlen(path);

    if (forced)
        return forced;
    if (strcmp(path, "-") == 0)
        return "auto"; /* standard input: decided by its first byte */
    if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
        n -= 3;
    if (n >= 4 && strncmp(path + n - 4, ".csv", 4) == 0)
        return "csv";
    if ((n >= 7 && strncmp(path + n - 7, ".ndjson", 7) == 0) ||
        (n >= 6 && strncmp(path + n - 6, ".jsonl", 6) == 0) ||
        (n >= 5 && strncmp(path + n - 5, ".json", 5) == 0))
        return "ndjson";
    /* No known extension (f.txt, none): the content decides, as for
     * standard input; reading a CSV as NDJSON quarantined every row. */
    return "auto";
}

static void batch_free(batch *b)
{
    aipm_reader__free(b->reader);
    aipm_strmap_free(&b->days);
    aipm_strmap_free(&b->events);
    aipm_strmap_free(&b->props);
    free(b->day_rows);
    free(b->event_rows);
    free(b->prop_stats);
    json_decref(b->schema_changes);
    json_decref(b->ignored_columns);
    free(b->key_table);
    json_decref(b->conflict_samples);
    aipm_buf_free(&b->scratch);
    free(b);
}

/* The rows digest of the one batch read (aipm_store_rows_digest). */
static int take_rows_digest(void *ctx, int64_t id, int64_t rows,
                            const uint8_t sha[32])
{
    (void)id;
    (void)rows;
    aipm_hex(ctx, sha, 32);
    return 0;
}

static int finish(batch *b, const char *format, aipm_ingest_result *res,
                  aipm_error *err)
{
    static const char *const verdicts[] = {"pass", "warn", "blocked"};
    json_t *report = NULL, *reasons = json_object(), *inputs = NULL,
           *outputs = NULL, *detail = NULL, *not_stored = NULL;
    aipm_batch_info info;
    gates g = {0, NULL};
    char src_sha[65], content_sha[65], rows_sha[65], object[48],
        *text = NULL, *detail_text = NULL;
    uint8_t digest[32];
    aipm_buf note;
    int i, rc;

    aipm_buf_init(&note, 1024);
    if ((rc = evaluate(b, &g, err)) != 0)
        goto done;
    aipm_reader__sha256(b->reader, src_sha);
    aipm_sha256_final(&b->content, digest);
    aipm_hex(content_sha, digest, 32);
    for (i = 0; i < R_COUNT; i++)
        if (b->reasons[i])
            json_object_set_new(reasons, aipm_ingest__reasons[i],
                                json_integer(b->reasons[i]));
    report = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:O, "
        "s:o, s:o, s:o, s:o, s:s, s:s, s:f}",
        "batch_id", (json_int_t)b->id, "dataset", b->dataset, "source",
        b->source, "format", format, "source_sha256", src_sha, "content_sha256",
        content_sha, "run_id", b->run_id, "read", (json_int_t)b->read,
        "accepted", (json_int_t)b->accepted, "duplicates",
        (json_int_t)b->duplicates, "quarantined", (json_int_t)b->quarantined,
        "quarantine_reasons", reasons, "schema_changes",
        b->schema_changes ? json_incref(b->schema_changes) : json_array(),
        "null_rates", null_rates(b), "catalog_coverage", catalog_coverage(b),
        "gates", g.list, "verdict", verdicts[g.verdict], "status",
        g.verdict == 2 ? "staged" : "accepted", "elapsed_s",
        (double)(aipm_clock_ms() - b->clock_start_ms) / 1000.0);
    g.list = NULL; /* the report owns it now (or it was freed with it) */
    if (report == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < R_COUNT; i++)
        if (b->not_stored[i]) {
            if (not_stored == NULL)
                not_stored = json_object();
            json_object_set_new(not_stored, aipm_ingest__reasons[i],
                                json_integer(b->not_stored[i]));
        }
    if (not_stored) {
        json_object_set_new(report, "quarantine_not_stored", not_stored);
        json_object_set_new(
            report, "max_quarantine_samples",
            json_integer((json_int_t)b->policy.max_quarantine_samples));
    }
    if (b->untracked_props)
        json_object_set_new(report, "untracked_properties",
                            json_integer(b->untracked_props));
    if (b->def) {
        json_object_set_new(report, "key_conflicts",
                            json_integer(b->key_conflicts));
        if (b->key_conflicts)
            json_object_set(report, "key_conflict_samples",
                            b->conflict_samples);
    }
    if (b->ignored_columns && json_array_size(b->ignored_columns))
        json_object_set(report, "ignored_columns", b->ignored_columns);
    if (b->format_sniffed) {
        /* Say how the format was chosen: the name did not tell. */
        json_object_set_new(report, "format_from", json_string("content"));
        aipm_buf_printf(&note,
                        "read as %s, detected from the content (%s); "
                        "--format sets it",
                        strcmp(format, "csv") == 0 ? "CSV" : "NDJSON",
                        strcmp(b->path, "-") == 0
                            ? "standard input"
                            : "no .csv, .ndjson or .jsonl extension");
    }
    if (b->accepted == 0 && b->duplicates > 0)
        aipm_buf_printf(&note,
                        "%snothing new: every valid row was already "
                        "stored (re-sent data)",
                        note.len ? "; " : "");
    if (note.len)
        json_object_set_new(report, "note",
                            json_stringn(aipm_buf_cstr(&note), note.len));
    text = json_dumps(report, JSON_COMPACT);
    if (text == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }

    memset(&info, 0, sizeof(info));
    info.id = b->id;
    snprintf(info.status, sizeof(info.status), "%s",
             g.verdict == 2 ? "staged" : "accepted");
    snprintf(info.verdict, sizeof(info.verdict), "%s", verdicts[g.verdict]);
    snprintf(info.content_sha256, sizeof(info.content_sha256), "%s",
             content_sha);
    snprintf(info.source_sha256, sizeof(info.source_sha256), "%s", src_sha);
    info.n_read = b->read;
    info.n_accepted = b->accepted;
    info.n_duplicates = b->duplicates;
    info.n_quarantined = b->quarantined;
    info.report = text;
    /* The digest of the rows as stored, for decision records and `audit
     * verify --data`: none stored is the digest of nothing. */
    aipm_sha256_oneshot(digest, "", 0);
    aipm_hex(rows_sha, digest, 32);
    if ((rc = aipm_store_rows_digest(b->st, b->dataset, b->id, take_rows_digest,
                                     rows_sha, err)) != 0)
        goto done;
    snprintf(info.rows_sha256, sizeof(info.rows_sha256), "%s", rows_sha);
    if ((rc = aipm_store_batch_finish(b->st, &info, err)) != 0)
        goto done;
    if (b->def == NULL && (rc = aipm_ingest__schema_save(b, err)) != 0)
        goto done;
    for (i = 0; i < b->days.n_keys; i++)
        if ((rc = aipm_store_volume_put(b->st, b->dataset, day_of(b, i), b->id,
                                        b->day_rows[i], err)) != 0)
            goto done;
    lineage(b, &inputs, &outputs);
    if ((rc = record_run(b, "COMPLETE", inputs, outputs, NULL, err)) != 0)
        goto done;
    detail = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, "
        "s:s}",
        "dataset", b->dataset, "source", b->source, "source_sha256", src_sha,
        "content_sha256", content_sha, "rows_sha256", rows_sha, "run_id",
        b->run_id, "read", (json_int_t)b->read, "accepted",
        (json_int_t)b->accepted, "duplicates", (json_int_t)b->duplicates,
        "quarantined", (json_int_t)b->quarantined, "verdict",
        verdicts[g.verdict], "status", info.status);
    detail_text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    snprintf(object, sizeof(object), "batch:%lld", (long long)b->id);
    if (detail_text == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = aipm_audit_append(b->st, "ingest", object, detail_text,
                                &b->audit_size, b->audit_head, err)) != 0)
        goto done;

    res->batch_id = b->id;
    snprintf(res->verdict, sizeof(res->verdict), "%s", verdicts[g.verdict]);
    snprintf(res->status, sizeof(res->status), "%s", info.status);
    res->read = b->read;
    res->accepted = b->accepted;
    res->duplicates = b->duplicates;
    res->quarantined = b->quarantined;
    res->report_json = text;
    text = NULL;
done:
    aipm_buf_free(&note);
    json_decref(g.list);
    free(text);
    free(detail_text);
    json_decref(detail);
    json_decref(report);
    json_decref(reasons);
    json_decref(inputs);
    json_decref(outputs);
    return rc;
}

int aipm_ingest_file(aipm_store *st, const char *path,
                     const aipm_ingest_opts *opts, aipm_ingest_result *res,
                     aipm_error *err)
{
    batch *b;
    const char *format;
    int rc, in_tx = 0, csv;

    memset(res, 0, sizeof(*res));
    if (!aipm_ingest_dataset_known(opts->dataset))
        return aipm_error_set(err, AIPM_EINVALID,
                              "unknown dataset '%s' (events, backlog, "
                              "feedback, signals, graph)",
                              opts->dataset);
    format = format_of(path, opts->format);
    if (strcmp(format, "csv") != 0 && strcmp(format, "ndjson") != 0 &&
        strcmp(format, "auto") != 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "unknown format '%s' (ndjson or csv)", format);
    if ((b = calloc(1, sizeof(*b))) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    b->st = st;
    b->opts = opts;
    b->dataset = opts->dataset;
    b->path = path;
    if (opts->policy)
        b->policy = *opts->policy;
    else
        aipm_data_policy_defaults(&b->policy);
    b->started_ms = aipm_now_ms();
    b->clock_start_ms = aipm_clock_ms();
    b->now_ms = b->started_ms;
    aipm_sha256_init(&b->content);
    aipm_strmap_init(&b->days, MAX_DAYS);
    aipm_strmap_init(&b->events, MAX_EVENT_NAMES);
    aipm_strmap_init(&b->props, MAX_PROPS);
    aipm_buf_init(&b->scratch, (size_t)1 << 30);
    aipm_uuid4(b->run_id);
    if ((b->day_rows = calloc(MAX_DAYS, sizeof(int64_t))) == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if (strcmp(path, "-") == 0)
        snprintf(b->source, sizeof(b->source), "(stdin)");
    else if (realpath(path, b->source) == NULL)
        snprintf(b->source, sizeof(b->source), "%s", path);
    if ((rc = aipm_reader__open_file(&b->reader, path, opts->max_line, err)) !=
        0) {
        record_failure(b, err);
        goto done;
    }
    if (strcmp(format, "auto") == 0) {
        int first;

        if ((rc = aipm_reader__peek(b->reader, &first, err)) != 0) {
            record_failure(b, err);
            goto done;
        }
        format = first == '{' ? "ndjson" : "csv";
        b->format_sniffed = 1;
    }
    csv = strcmp(format, "csv") == 0;

    if ((rc = aipm_store_begin(st, err)) != 0)
        goto done;
    in_tx = 1;
    /* The source hash is known only at the end; the row is updated then. */
    if ((rc = aipm_store_batch_new(st, &b->id, b->dataset, b->source, "",
                                   b->run_id, b->started_ms, err)) != 0)
        goto done;
    if (strcmp(b->dataset, "events") == 0) {
        if ((rc = aipm_ingest__schema_load(b, err)) != 0)
            goto done;
        rc = aipm_ingest__events(b, csv, err);
    } else {
        rc = aipm_ingest__rows(b, csv, err);
    }
    if (rc)
        goto done;
    if (aipm_reader__raw_read(b->reader) == 0) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "%s: empty file, nothing to ingest", path);
        goto done;
    }
    if (b->read == 0) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "%s: no rows (only blank lines or a header)", path);
        goto done;
    }
    if (opts->progress)
        opts->progress(opts->progress_ctx, aipm_reader__raw_read(b->reader),
                       aipm_reader__raw_size(b->reader));
    if ((rc = finish(b, format, res, err)) != 0)
        goto done;
    /* The checkpoint is written under its lock, held across the commit. */
    if ((rc = aipm_audit_commit(st, opts->checkpoint_path, b->audit_size,
                                b->audit_head, err)) != 0)
        goto done;
    in_tx = 0;
done:
    if (in_tx) {
        aipm_store_rollback(st);
        record_failure(b, err);
    }
    if (rc)
        aipm_ingest_result_clear(res);
    batch_free(b);
    return rc;
}

void aipm_ingest_result_clear(aipm_ingest_result *res)
{
    free(res->report_json);
    memset(res, 0, sizeof(*res));
}
