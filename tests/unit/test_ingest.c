/* test_ingest.c - unit tests of aipm_ingest_file and aipm_data_transition.
 *
 * Each file of tests/data is ingested into a fresh store in a temporary
 * directory and its counts are compared with its hand-written
 * *.expect.json manifest (read with jansson). The expected verdicts follow
 * from the documented default policy (max_quarantine_share 0.05,
 * DESIGN.md section 5.1 and config.c's defaults as documented in
 * config.h); source hashes are python3 hashlib over the file bytes. The
 * store is also read back (batch rows, quarantine rows, visible counts,
 * raw SQLite) so a count in the report cannot disagree with what was
 * stored. AIPM_NOW is fixed in main: the data's timestamps rely on it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>

#include "aipm/audit.h"
#include "aipm/ingest.h"
#include "aipm/store.h"
#include "testutil.h"

typedef struct ws {
    char dir[256];
    char db[300];
    char checkpoint[300];
    aipm_store *st;
} ws;

static int ws_setup(void **state)
{
    ws *w = calloc(1, sizeof(*w));
    aipm_error err = {0};

    if (w == NULL || tu_mkdtemp(w->dir, sizeof(w->dir)) == NULL)
        return -1;
    snprintf(w->db, sizeof(w->db), "%s/aipm.db", w->dir);
    snprintf(w->checkpoint, sizeof(w->checkpoint), "%s/checkpoint", w->dir);
    if (aipm_store_open(&w->st, w->db, 1, &err) != AIPM_OK) {
        print_error("store open: %s\n", err.msg);
        return -1;
    }
    *state = w;
    return 0;
}

static int ws_teardown(void **state)
{
    ws *w = *state;

    if (w) {
        aipm_store_close(w->st);
        tu_rmtree(w->dir);
        free(w);
    }
    return 0;
}

/* Reopen-free helpers reading the store. */

static int64_t visible(ws *w, const char *dataset)
{
    aipm_error err = {0};
    int64_t n = -1;

    assert_int_equal(aipm_store_count_visible(w->st, dataset, &n, &err),
                     AIPM_OK);
    return n;
}

static int count_batch(void *ctx, const aipm_batch_info *info)
{
    (void)info;
    (*(int *)ctx)++;
    return 0;
}

static int n_batches_listed(ws *w)
{
    aipm_error err = {0};
    int n = 0;

    assert_int_equal(
        aipm_store_batch_list(w->st, NULL, 0, count_batch, &n, &err), AIPM_OK);
    return n;
}

/* count(*) of a table through a second SQLite connection. */
static int64_t raw_count(ws *w, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;

    if (sqlite3_open(w->db, &h) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static uint64_t audit_size(ws *w, const char *checkpoint)
{
    aipm_audit_report r;
    aipm_error err = {0};

    assert_int_equal(aipm_audit_verify(w->st, checkpoint, &r, &err), AIPM_OK);
    if (r.first_bad != 0)
        print_error("audit: first bad %lld: %s\n", (long long)r.first_bad,
                    r.problem);
    assert_int_equal(r.first_bad, 0);
    return r.size;
}

typedef struct q_count {
    int64_t n, with_raw;
} q_count;

static int count_quarantine(void *ctx, const aipm_quarantine_row *row)
{
    q_count *q = ctx;

    q->n++;
    if (row->raw_len > 0)
        q->with_raw++;
    return 0;
}

static q_count quarantined_rows(ws *w, const char *reason, int64_t batch_id)
{
    aipm_error err = {0};
    q_count q = {0, 0};

    assert_int_equal(aipm_store_quarantine_list(w->st, reason, batch_id, 0,
                                                count_quarantine, &q, &err),
                     AIPM_OK);
    return q;
}

/* ---- manifests ---- */

/* The manifest object of name; path is "a.b" into nested objects (one
 * level is enough here). The caller decrefs the returned root. */
static json_t *manifest(const char *name, json_t **root)
{
    char path[1024];
    json_error_t jerr;

    tu_data(path, sizeof(path), name);
    *root = json_load_file(path, 0, &jerr);
    if (*root == NULL)
        print_error("%s: %s\n", path, jerr.text);
    assert_non_null(*root);
    return *root;
}

static int64_t jint(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    assert_non_null(v);
    assert_true(json_is_integer(v));
    return (int64_t)json_integer_value(v);
}

/* Compare a result and its report with the manifest object m. */
static void check_counts(const aipm_ingest_result *res, json_t *m)
{
    json_t *report, *reasons, *want, *v;
    json_error_t jerr;
    const char *key;

    assert_int_equal(res->read, jint(m, "read"));
    assert_int_equal(res->accepted, jint(m, "accepted"));
    assert_int_equal(res->duplicates, jint(m, "duplicates"));
    assert_int_equal(res->quarantined, jint(m, "quarantined"));
    /* DESIGN.md section 4 invariant. */
    assert_int_equal(res->read,
                     res->accepted + res->duplicates + res->quarantined);

    assert_non_null(res->report_json);
    report = json_loads(res->report_json, 0, &jerr);
    assert_non_null(report);
    assert_int_equal(jint(report, "read"), res->read);
    assert_int_equal(jint(report, "accepted"), res->accepted);
    assert_int_equal(jint(report, "duplicates"), res->duplicates);
    assert_int_equal(jint(report, "quarantined"), res->quarantined);
    reasons = json_object_get(report, "quarantine_reasons");
    assert_non_null(reasons);
    want = json_object_get(m, "reasons");
    assert_non_null(want);
    /* Both ways: every expected reason with its count, and no other. */
    json_object_foreach(want, key, v)
    {
        json_t *got = json_object_get(reasons, key);

        if (got == NULL || json_integer_value(got) != json_integer_value(v))
            print_error("reason %s: want %lld got %lld\n", key,
                        (long long)json_integer_value(v),
                        got ? (long long)json_integer_value(got) : -1LL);
        assert_non_null(got);
        assert_int_equal(json_integer_value(got), json_integer_value(v));
    }
    json_object_foreach(reasons, key, v)
    {
        if (json_integer_value(v) != 0 && json_object_get(want, key) == NULL)
            print_error("unexpected reason %s: %lld\n", key,
                        (long long)json_integer_value(v));
        assert_true(json_integer_value(v) == 0 ||
                    json_object_get(want, key) != NULL);
    }
    if ((v = json_object_get(m, "schema_changes")) != NULL) {
        json_t *changes = json_object_get(report, "schema_changes");

        assert_non_null(changes);
        assert_true(json_is_array(changes));
        assert_int_equal(json_array_size(changes), json_integer_value(v));
    }
    json_decref(report);
}

/* The verdict the default policy must give: blocked (staged) above a
 * quarantine share of 0.05, else accepted. */
static void check_default_status(const aipm_ingest_result *res)
{
    double share = res->read ? (double)res->quarantined / (double)res->read : 0;

    if (share > 0.05) {
        assert_string_equal(res->verdict, "blocked");
        assert_string_equal(res->status, "staged");
    } else {
        assert_string_not_equal(res->verdict, "blocked");
        assert_string_equal(res->status, "accepted");
    }
}

/* ---- one file against its manifest ---- */

typedef struct file_case {
    const char *file; /* under tests/data, or ../../examples/... */
    const char *dataset;
    const char *manifest; /* *.expect.json */
    const char *sha256;   /* python3 hashlib.sha256(file bytes) */
    int may_refuse;       /* the manifest allows rejecting the whole file */
} file_case;

static const file_case cases[] = {
    {"bad_events.ndjson", "events", "bad_events.expect.json",
     "502b79f32361c38bc7e055b7d95b22d4f4f78198762fc6066801181a80430d79", 0},
    {"bad_events.ndjson.gz", "events", "bad_events.expect.json",
     "5f39d0ad936256122a66414dd8efd85ad94196a4310a63343a9f446d312e3e79", 0},
    {"schema_a.ndjson", "events", "schema_a.expect.json",
     "fca09a6795a74d07922aaea656978630d508edc81d9d7182e5f8cfdbc7f7556e", 0},
    {"events.csv", "events", "events.csv.expect.json",
     "87e7a8bc197e89fd88e715c1f5412e03f8bc17a3bb69f39a6ad592454ad054fc", 0},
    {"bad_backlog.csv", "backlog", "bad_backlog.expect.json",
     "4996e6c39d8501a90bdc78653ecf32da213dc498a5014ea7598ba890a0b39b64", 0},
    {"bad_feedback.csv", "feedback", "bad_feedback.expect.json",
     "29e28ca19e230179cb19e017cfd580a855800e37b30f8a8f7ad92791ca88206d", 0},
    {"bad_signals.csv", "signals", "bad_signals.expect.json",
     "a12ef7a5251dcbd83509ffada58d935383f2ca1a65d64019cd98fc318e0baffc", 0},
    {"bad_graph.csv", "graph", "bad_graph.expect.json",
     "953bb1bdeb79547d80f7f4e2538bd811c16e98468f85f3327fe07c1e8068b0fd", 0},
    {"binary.bin", "events", "binary.expect.json",
     "28b5ed8d08d0447e599ad453d7182105cd74c6fa69d2a48ab52a359d985c7ea6", 1},
    {"../../examples/events.ndjson", "events", "examples_events.expect.json",
     "d7dc37051851b06a385c62efc6ef3d72811e38844623c17c8e5d1a0a4f38c003", 0},
};

static void nothing_stored(ws *w, uint64_t audit_before)
{
    assert_int_equal(n_batches_listed(w), 0);
    assert_int_equal(raw_count(w, "SELECT count(*) FROM batches"), 0);
    assert_int_equal(raw_count(w, "SELECT count(*) FROM events"), 0);
    assert_int_equal(raw_count(w, "SELECT count(*) FROM quarantine"), 0);
    assert_int_equal(visible(w, "events"), 0);
    assert_int_equal(audit_size(w, NULL), audit_before);
}

static void run_case(const file_case *c)
{
    ws *w = NULL;
    aipm_ingest_opts opts;
    aipm_ingest_result res;
    aipm_batch_info info;
    aipm_error err = {0};
    json_t *root, *m;
    char path[1024];
    uint64_t audit_before;
    int rc;

    assert_int_equal(ws_setup((void **)&w), 0);
    audit_before = audit_size(w, NULL);
    memset(&opts, 0, sizeof(opts));
    opts.dataset = c->dataset;
    tu_data(path, sizeof(path), c->file);
    rc = aipm_ingest_file(w->st, path, &opts, &res, &err);
    if (rc != AIPM_OK && c->may_refuse) {
        /* binary.expect.json: rejecting the file up front is allowed. */
        assert_int_equal(rc, AIPM_EINVALID);
        nothing_stored(w, audit_before);
        ws_teardown((void **)&w);
        return;
    }
    if (rc != AIPM_OK)
        print_error("%s: %s\n", c->file, err.msg);
    assert_int_equal(rc, AIPM_OK);
    m = manifest(c->manifest, &root);
    check_counts(&res, m);
    check_default_status(&res);

    /* The stored batch agrees with the result. */
    assert_int_equal(aipm_store_batch_get(w->st, &info, res.batch_id, &err),
                     AIPM_OK);
    assert_string_equal(info.dataset, c->dataset);
    assert_string_equal(info.status, res.status);
    assert_string_equal(info.verdict, res.verdict);
    assert_string_equal(info.source_sha256, c->sha256);
    assert_int_equal(info.n_read, res.read);
    assert_int_equal(info.n_accepted, res.accepted);
    assert_int_equal(info.n_duplicates, res.duplicates);
    assert_int_equal(info.n_quarantined, res.quarantined);
    aipm_batch_info_clear(&info);
    assert_int_equal(n_batches_listed(w), 1);
    assert_int_equal(quarantined_rows(w, NULL, res.batch_id).n,
                     res.quarantined);
    {
        json_t *reasons = json_object_get(m, "reasons"), *v;
        const char *key;

        json_object_foreach(reasons, key, v) assert_int_equal(
            quarantined_rows(w, key, res.batch_id).n, json_integer_value(v));
    }
    /* Accepted rows are visible unless the batch is staged. */
    assert_int_equal(visible(w, c->dataset),
                     strcmp(res.status, "accepted") == 0 ? res.accepted : 0);
    /* One audit entry per ingest, and the log verifies. */
    assert_int_equal(audit_size(w, NULL), audit_before + 1);
    json_decref(root);
    aipm_ingest_result_clear(&res);
    assert_null(res.report_json);
    ws_teardown((void **)&w);
}

static void test_ingest_manifests(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  case %s\n", cases[i].file);
        run_case(&cases[i]);
    }
}

static void test_ingest_max_line_variant(void **state)
{
    ws *w = *state;
    aipm_ingest_opts opts;
    aipm_ingest_result res;
    aipm_error err = {0};
    json_t *root, *m;
    char path[1024];

    memset(&opts, 0, sizeof(opts));
    opts.dataset = "events";
    opts.max_line = 1024;
    tu_data(path, sizeof(path), "bad_events.ndjson");
    assert_int_equal(aipm_ingest_file(w->st, path, &opts, &res, &err), AIPM_OK);
    manifest("bad_events.expect.json", &root);
    m = json_object_get(json_object_get(root, "variants"),
                        "max_line_length=1024");
    assert_non_null(m);
    check_counts(&res, m);
    json_decref(root);
    aipm_ingest_result_clear(&res);
}

static void test_ingest_reingest(void **state)
{
    ws *w = *state;
    aipm_data_policy policy;
    aipm_ingest_opts opts;
    aipm_ingest_result first, second;
    aipm_error err = {0};
    char path[1024];

    /* A permissive policy so the first batch is accepted and visible. */
    aipm_data_policy_defaults(&policy);
    policy.max_quarantine_share = 1.0;
    memset(&opts, 0, sizeof(opts));
    opts.dataset = "events";
    opts.policy = &policy;
    tu_data(path, sizeof(path), "bad_events.ndjson");
    assert_int_equal(aipm_ingest_file(w->st, path, &opts, &first, &err),
                     AIPM_OK);
    assert_string_equal(first.status, "accepted");
    assert_int_equal(first.accepted, 60); /* bad_events.expect.json */
    assert_int_equal(visible(w, "events"), 60);
    assert_int_equal(aipm_ingest_file(w->st, path, &opts, &second, &err),
                     AIPM_OK);
    /* Every valid line is now a duplicate; the bad ones are bad again. */
    assert_int_equal(second.read, 95);
    assert_int_equal(second.accepted, 0);
    assert_int_equal(second.duplicates, first.accepted + first.duplicates);
    assert_int_equal(second.quarantined, 32);
    assert_true(second.batch_id != first.batch_id);
    assert_int_equal(visible(w, "events"), 60);
    assert_int_equal(n_batches_listed(w), 2);
    aipm_ingest_result_clear(&first);
    aipm_ingest_result_clear(&second);
}

static void ingest_ok(ws *w, const char *file, const aipm_data_policy *p,
                      aipm_ingest_result *res)
{
    aipm_ingest_opts opts;
    aipm_error err = {0};
    char path[1024];

    memset(&opts, 0, sizeof(opts));
    opts.dataset = "events";
    opts.policy = p;
    tu_data(path, sizeof(path), file);
    if (aipm_ingest_file(w->st, path, &opts, res, &err) != AIPM_OK)
        print_error("%s: %s\n", file, err.msg);
    assert_non_null(res->report_json);
}

static void test_ingest_schema_warn(void **state)
{
    ws *w = *state;
    aipm_data_policy policy;
    aipm_ingest_result a, b;
    json_t *root, *m, *report, *changes, *change;
    json_error_t jerr;

    aipm_data_policy_defaults(&policy);
    policy.schema_change_blocks = 0;
    ingest_ok(w, "schema_a.ndjson", &policy, &a);
    check_counts(&a, manifest("schema_a.expect.json", &root));
    json_decref(root);
    ingest_ok(w, "schema_b.ndjson", &policy, &b);
    m = json_object_get(manifest("schema_b.expect.json", &root), "warn");
    check_counts(&b, m);
    json_decref(root);
    assert_string_equal(b.status, "accepted");
    assert_string_not_equal(b.verdict, "blocked");
    /* The one change is seats: number -> string (README, schema_b). */
    report = json_loads(b.report_json, 0, &jerr);
    assert_non_null(report);
    changes = json_object_get(report, "schema_changes");
    assert_int_equal(json_array_size(changes), 1);
    change = json_array_get(changes, 0);
    {
        char *text = json_dumps(change, JSON_COMPACT);

        assert_non_null(text);
        assert_non_null(strstr(text, "\"seats\""));
        assert_non_null(strstr(text, "Plan Changed"));
        free(text);
    }
    json_decref(report);
    assert_int_equal(visible(w, "events"), 20);
    aipm_ingest_result_clear(&a);
    aipm_ingest_result_clear(&b);
}

static void test_ingest_schema_block(void **state)
{
    ws *w = *state;
    aipm_data_policy policy;
    aipm_ingest_result a, b;
    json_t *root, *m;

    aipm_data_policy_defaults(&policy);
    policy.schema_change_blocks = 1;
    ingest_ok(w, "schema_a.ndjson", &policy, &a);
    assert_string_equal(a.status, "accepted");
    ingest_ok(w, "schema_b.ndjson", &policy, &b);
    m = json_object_get(manifest("schema_b.expect.json", &root), "block");
    check_counts(&b, m);
    json_decref(root);
    assert_int_equal(b.quarantined, 5);
    assert_string_equal(b.verdict, "blocked");
    assert_string_equal(b.status, "staged");
    /* Only schema_a's rows are visible; b's five good rows are staged. */
    assert_int_equal(visible(w, "events"), 10);
    assert_int_equal(quarantined_rows(w, "type_mismatch", b.batch_id).n, 5);
    aipm_ingest_result_clear(&a);
    aipm_ingest_result_clear(&b);
}

static void test_ingest_schema_b_alone_block(void **state)
{
    ws *w = *state;
    aipm_data_policy policy;
    aipm_ingest_result b;
    json_t *root;

    /* schema_b.expect.json: "Load schema_a.ndjson first (or not: same
     * result)". */
    aipm_data_policy_defaults(&policy);
    policy.schema_change_blocks = 1;
    ingest_ok(w, "schema_b.ndjson", &policy, &b);
    check_counts(
        &b, json_object_get(manifest("schema_b.expect.json", &root), "block"));
    json_decref(root);
    aipm_ingest_result_clear(&b);
}

static void refused(ws *w, const char *path, int want_rc, const char *needle)
{
    aipm_ingest_opts opts;
    aipm_ingest_result res;
    aipm_error err = {0};
    uint64_t before = audit_size(w, NULL);

    memset(&opts, 0, sizeof(opts));
    opts.dataset = "events";
    memset(&res, 0x5a, sizeof(res));
    assert_int_equal(aipm_ingest_file(w->st, path, &opts, &res, &err), want_rc);
    assert_true(strlen(err.msg) > 0);
    if (needle)
        assert_non_null(strstr(err.msg, needle));
    assert_null(res.report_json);
    nothing_stored(w, before);
}

static void test_ingest_refused(void **state)
{
    ws *w = *state;
    char path[1024];

    /* ingest.h: AIPM_ENOTFOUND or AIPM_EINVALID, nothing stored. */
    refused(w, tu_data(path, sizeof(path), "empty.ndjson"), AIPM_EINVALID,
            NULL);
    refused(w, tu_data(path, sizeof(path), ""), AIPM_EINVALID, NULL);
    refused(w, tu_data(path, sizeof(path), "missing.ndjson"), AIPM_ENOTFOUND,
            NULL);
    refused(w, tu_data(path, sizeof(path), "truncated.ndjson.gz"),
            AIPM_EINVALID, "truncated");
    /* An unknown dataset is refused before anything is read. */
    {
        aipm_ingest_opts opts;
        aipm_ingest_result res;
        aipm_error err = {0};

        memset(&opts, 0, sizeof(opts));
        opts.dataset = "nope";
        assert_int_equal(
            aipm_ingest_file(w->st,
                             tu_data(path, sizeof(path), "schema_a.ndjson"),
                             &opts, &res, &err),
            AIPM_EINVALID);
        nothing_stored(w, 0);
    }
    /* The store still works after the failures. */
    {
        aipm_ingest_result res;

        ingest_ok(w, "schema_a.ndjson", NULL, &res);
        assert_int_equal(res.accepted, 10);
        assert_int_equal(n_batches_listed(w), 1);
        aipm_ingest_result_clear(&res);
    }
}

static void test_ingest_quarantine_raw_ndjson(void **state)
{
    ws *w = *state;
    aipm_ingest_result res;
    q_count q;

    /* DESIGN.md section 4: each quarantined row keeps its raw text. */
    ingest_ok(w, "bad_events.ndjson", NULL, &res);
    q = quarantined_rows(w, NULL, res.batch_id);
    assert_int_equal(q.n, 32);
    assert_int_equal(q.with_raw, 32);
    aipm_ingest_result_clear(&res);
}

/* Regression (fixed in csv.c bad_record; see test_reader.c
 * test_csv_bad_record_keeps_raw): CSV rows quarantined as malformed_csv or
 * invalid_utf8 by the CSV splitter are stored with empty raw text. In
 * bad_backlog.csv that is 3 of the 17 quarantined rows: `ab"c`,
 * `"quoted"junk` and the \xff row (the too-many/too-few-columns rows are
 * caught later, in rows.c, and keep theirs). */
static void test_ingest_quarantine_raw_csv(void **state)
{
    ws *w = *state;
    aipm_ingest_opts opts;
    aipm_ingest_result res;
    aipm_error err = {0};
    char path[1024];
    q_count q;

    memset(&opts, 0, sizeof(opts));
    opts.dataset = "backlog";
    assert_int_equal(
        aipm_ingest_file(w->st, tu_data(path, sizeof(path), "bad_backlog.csv"),
                         &opts, &res, &err),
        AIPM_OK);
    q = quarantined_rows(w, NULL, res.batch_id);
    assert_int_equal(q.n, 17); /* bad_backlog.expect.json */
    aipm_ingest_result_clear(&res);
    assert_int_equal(q.with_raw, 17);
}

/* The timestamp window. tests/data/README.md: with now =
 * 2026-11-27T00:00:00Z "the valid timestamp window is
 * [2006-11-27T00:00:00Z, 2026-11-28T00:00:00Z]" (DESIGN.md section 4:
 * [now - 20 years, now + 1 day]). Both ends are inside, one millisecond
 * past either end is bad_timestamp.
 * Regression (fixed in events.c): the lower end was now - 20 * 365.2425
 * days, 2006-11-27T03:36:00Z, so the first line below is quarantined. */
static void test_ingest_time_window(void **state)
{
    static const char text[] =
        "{\"type\":\"track\",\"messageId\":\"w-1\",\"userId\":\"u\","
        "\"event\":\"E\",\"timestamp\":\"2006-11-27T00:00:00Z\"}\n"
        "{\"type\":\"track\",\"messageId\":\"w-2\",\"userId\":\"u\","
        "\"event\":\"E\",\"timestamp\":\"2026-11-28T00:00:00Z\"}\n"
        "{\"type\":\"track\",\"messageId\":\"w-3\",\"userId\":\"u\","
        "\"event\":\"E\",\"timestamp\":\"2006-11-26T23:59:59.999Z\"}\n"
        "{\"type\":\"track\",\"messageId\":\"w-4\",\"userId\":\"u\","
        "\"event\":\"E\",\"timestamp\":\"2026-11-28T00:00:00.001Z\"}\n";
    ws *w = *state;
    aipm_ingest_opts opts;
    aipm_ingest_result res;
    aipm_error err = {0};
    char path[400];

    snprintf(path, sizeof(path), "%s/window.ndjson", w->dir);
    assert_int_equal(tu_write(path, text, strlen(text)), 0);
    memset(&opts, 0, sizeof(opts));
    opts.dataset = "events";
    assert_int_equal(aipm_ingest_file(w->st, path, &opts, &res, &err), AIPM_OK);
    {
        /* Read everything, free, then assert (no leak on failure). */
        int64_t read = res.read, accepted = res.accepted;
        int64_t quarantined = res.quarantined;
        int64_t bad_ts = quarantined_rows(w, "bad_timestamp", res.batch_id).n;

        aipm_ingest_result_clear(&res);
        assert_int_equal(read, 4);
        assert_int_equal(bad_ts, quarantined);
        assert_int_equal(quarantined, 2);
        assert_int_equal(accepted, 2);
    }
}

typedef struct last_entry {
    char action[32];
    char object[48];
} last_entry;

/* action and object of the newest audit entry, read from the raw table. */
static void newest_entry(ws *w, last_entry *out)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    json_t *e = NULL;
    json_error_t jerr;

    memset(out, 0, sizeof(*out));
    assert_int_equal(sqlite3_open(w->db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT entry FROM audit ORDER BY "
                                        "seq DESC LIMIT 1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    e = json_loadb(sqlite3_column_blob(st, 0),
                   (size_t)sqlite3_column_bytes(st, 0), 0, &jerr);
    assert_non_null(e);
    snprintf(out->action, sizeof(out->action), "%s",
             json_string_value(json_object_get(e, "action")));
    snprintf(out->object, sizeof(out->object), "%s",
             json_string_value(json_object_get(e, "object")));
    json_decref(e);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void expect_status(ws *w, int64_t id, const char *status)
{
    aipm_batch_info info;
    aipm_error err = {0};

    assert_int_equal(aipm_store_batch_get(w->st, &info, id, &err), AIPM_OK);
    assert_string_equal(info.status, status);
    aipm_batch_info_clear(&info);
}

static void test_transitions(void **state)
{
    ws *w = *state;
    aipm_ingest_result res, res2;
    aipm_error err = {0};
    last_entry last;
    char object[48];
    uint64_t n;

    /* bad_events under the default policy: share 32/95 > 0.05, staged. */
    ingest_ok(w, "bad_events.ndjson", NULL, &res);
    assert_string_equal(res.status, "staged");
    assert_int_equal(visible(w, "events"), 0);
    snprintf(object, sizeof(object), "batch:%lld", (long long)res.batch_id);
    n = audit_size(w, NULL);

#define TRANSITION(action, reason, want)                                       \
    do {                                                                       \
        memset(&err, 0, sizeof(err));                                          \
        assert_int_equal(aipm_data_transition(w->st, res.batch_id, action,     \
                                              reason, w->checkpoint, &err),    \
                         want);                                                \
    } while (0)

    TRANSITION("accept", "checked by hand", AIPM_OK);
    expect_status(w, res.batch_id, "accepted");
    assert_int_equal(visible(w, "events"), 60);
    assert_int_equal(audit_size(w, w->checkpoint), ++n);
    newest_entry(w, &last);
    assert_string_equal(last.action, "accept");
    assert_string_equal(last.object, object);

    /* Not applicable: nothing changes, nothing is audited. */
    TRANSITION("accept", "again", AIPM_EINVALID);
    TRANSITION("reject", "too late", AIPM_EINVALID);
    TRANSITION("frobnicate", "no such action", AIPM_EINVALID);
    TRANSITION("revert", "", AIPM_EINVALID);
    TRANSITION("revert", NULL, AIPM_EINVALID);
    expect_status(w, res.batch_id, "accepted");
    assert_int_equal(audit_size(w, w->checkpoint), n);

    TRANSITION("revert", "bad source", AIPM_OK);
    expect_status(w, res.batch_id, "reverted");
    assert_int_equal(visible(w, "events"), 0);
    assert_int_equal(audit_size(w, w->checkpoint), ++n);
    newest_entry(w, &last);
    assert_string_equal(last.action, "revert");
    TRANSITION("revert", "twice", AIPM_EINVALID);

    /* ingest.h: a reverted batch can be accepted again. */
    TRANSITION("accept", "changed my mind", AIPM_OK);
    assert_int_equal(visible(w, "events"), 60);
    assert_int_equal(audit_size(w, w->checkpoint), ++n);

    /* No such batch. */
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        aipm_data_transition(w->st, 999999, "accept", "x", w->checkpoint, &err),
        AIPM_ENOTFOUND);

    /* A second staged batch rejected stays invisible. */
    {
        aipm_ingest_opts opts;
        char path[1024];

        memset(&opts, 0, sizeof(opts));
        opts.dataset = "backlog";
        memset(&err, 0, sizeof(err));
        assert_int_equal(
            aipm_ingest_file(w->st,
                             tu_data(path, sizeof(path), "bad_backlog.csv"),
                             &opts, &res2, &err),
            AIPM_OK);
    }
    assert_string_equal(res2.status, "staged"); /* 17/24 > 0.05 */
    n = audit_size(w, NULL);
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_data_transition(w->st, res2.batch_id, "reject",
                                          "junk", w->checkpoint, &err),
                     AIPM_OK);
    expect_status(w, res2.batch_id, "rejected");
    assert_int_equal(visible(w, "backlog"), 0);
    assert_int_equal(audit_size(w, w->checkpoint), n + 1);
    /* The checkpoint written by the last transition matches the log. */
    {
        char *text = tu_read(w->checkpoint, NULL);
        char want[16];

        assert_non_null(text);
        snprintf(want, sizeof(want), "%llu ", (unsigned long long)(n + 1));
        assert_memory_equal(text, want, strlen(want));
        free(text);
    }
#undef TRANSITION
    aipm_ingest_result_clear(&res);
    aipm_ingest_result_clear(&res2);
}

/* A hidden batch lets its keys go. Reverting the batch of schema_a.ndjson
 * (10 events, tests/data/schema_a.expect.json) and sending the same file
 * again stores the 10 rows anew (accepted 10, duplicates 0), where a
 * re-send of a live batch counts 10 duplicates. Accepting the reverted
 * batch again must then fail: the new batch holds its messageIds. */
static void test_resend_after_revert(void **state)
{
    ws *w = *state;
    aipm_ingest_result first, dup, again;
    aipm_error err = {0};

    ingest_ok(w, "schema_a.ndjson", NULL, &first);
    assert_int_equal(first.accepted, 10);
    ingest_ok(w, "schema_a.ndjson", NULL, &dup);
    assert_int_equal(dup.accepted, 0);
    assert_int_equal(dup.duplicates, 10);
    assert_int_equal(aipm_data_transition(w->st, first.batch_id, "revert",
                                          "wrong source", NULL, &err),
                     AIPM_OK);
    assert_int_equal(visible(w, "events"), 0);
    ingest_ok(w, "schema_a.ndjson", NULL, &again);
    assert_int_equal(again.accepted, 10);
    assert_int_equal(again.duplicates, 0);
    assert_int_equal(visible(w, "events"), 10);
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_data_transition(w->st, first.batch_id, "accept",
                                          "back", NULL, &err),
                     AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "newer batch"));
    expect_status(w, first.batch_id, "reverted");
    assert_int_equal(visible(w, "events"), 10);
    /* Reverting the new batch frees the keys; the old one comes back. */
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_data_transition(w->st, again.batch_id, "revert",
                                          "use the first", NULL, &err),
                     AIPM_OK);
    assert_int_equal(aipm_data_transition(w->st, first.batch_id, "accept",
                                          "back", NULL, &err),
                     AIPM_OK);
    assert_int_equal(visible(w, "events"), 10);
    aipm_ingest_result_clear(&first);
    aipm_ingest_result_clear(&dup);
    aipm_ingest_result_clear(&again);
}

/* ---- regressions from the code review ---- */

/* Ingest text (written to a file in the workspace) as dataset. */
static void ingest_text(ws *w, const char *dataset, const char *name,
                        const char *text, const aipm_data_policy *p,
                        aipm_ingest_result *res)
{
    aipm_ingest_opts opts;
    aipm_error err = {0};
    char path[400];

    snprintf(path, sizeof(path), "%s/%s", w->dir, name);
    assert_int_equal(tu_write(path, text, strlen(text)), 0);
    memset(&opts, 0, sizeof(opts));
    opts.dataset = dataset;
    opts.policy = p;
    if (aipm_ingest_file(w->st, path, &opts, res, &err) != AIPM_OK)
        print_error("%s: %s\n", name, err.msg);
    assert_non_null(res->report_json);
}

static size_t n_schema_changes(const aipm_ingest_result *res)
{
    json_error_t jerr;
    json_t *r = json_loads(res->report_json, 0, &jerr);
    size_t n = json_array_size(json_object_get(r, "schema_changes"));

    json_decref(r);
    return n;
}

#define EV(id, value)                                                          \
    "{\"type\":\"track\",\"messageId\":\"" id "\",\"userId\":\"u\","           \
    "\"event\":\"E\",\"timestamp\":\"2026-11-01T00:00:00Z\","                  \
    "\"properties\":{\"p\":" value "}}\n"

/* A rejected batch must not swallow what later batches learn: p is first
 * seen in a batch that is rejected, learned again by an accepted batch,
 * and a third batch that sends p as a string is a schema change (by
 * construction: number then string is one change). */
static void test_schema_after_reject(void **state)
{
    ws *w = *state;
    aipm_ingest_result r1, r2, r3;
    aipm_error err = {0};

    ingest_text(w, "events", "a.ndjson", EV("a1", "1") "garbage\n", NULL, &r1);
    assert_string_equal(r1.status, "staged"); /* 1 of 2 quarantined */
    assert_int_equal(
        aipm_data_transition(w->st, r1.batch_id, "reject", "bad", NULL, &err),
        AIPM_OK);
    ingest_text(w, "events", "b.ndjson", EV("b1", "2"), NULL, &r2);
    assert_string_equal(r2.status, "accepted");
    assert_int_equal(n_schema_changes(&r2), 0);
    ingest_text(w, "events", "c.ndjson", EV("c1", "\"x\""), NULL, &r3);
    assert_int_equal(n_schema_changes(&r3), 1);
    assert_string_equal(r3.verdict, "warn");
    aipm_ingest_result_clear(&r1);
    aipm_ingest_result_clear(&r2);
    aipm_ingest_result_clear(&r3);
}

/* A key repeated inside one properties object counts once (the first):
 * two rows, one with {"p":1,"p":"x"} and one with {"q":1}, give p a null
 * rate of 1 - 1/2 = 0.5 and no schema change. */
static void test_repeated_property_key(void **state)
{
    ws *w = *state;
    aipm_ingest_result r;
    json_error_t jerr;
    json_t *rep, *v;
    size_t i;
    double rate = -1;

    ingest_text(w, "events", "dup.ndjson",
                "{\"type\":\"track\",\"messageId\":\"d1\",\"userId\":\"u\","
                "\"event\":\"E\",\"timestamp\":\"2026-11-01T00:00:00Z\","
                "\"properties\":{\"p\":1,\"p\":\"x\"}}\n"
                "{\"type\":\"track\",\"messageId\":\"d2\",\"userId\":\"u\","
                "\"event\":\"E\",\"timestamp\":\"2026-11-01T00:00:00Z\","
                "\"properties\":{\"q\":1}}\n",
                NULL, &r);
    assert_int_equal(r.accepted, 2);
    assert_int_equal(n_schema_changes(&r), 0);
    rep = json_loads(r.report_json, 0, &jerr);
    json_array_foreach(json_object_get(rep, "null_rates"), i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "property")), "p") == 0)
            rate = json_real_value(json_object_get(v, "null_rate"));
    }
    json_decref(rep);
    aipm_ingest_result_clear(&r);
    assert_true(rate > 0.499 && rate < 0.501);
}

/* CSV events: a properties cell must be exactly one JSON object; a cell
 * that smuggles in a second top-level key is a bad_value, and the row it
 * tried to overwrite (m1) is stored untouched. */
static void test_csv_properties_cell_injection(void **state)
{
    ws *w = *state;
    aipm_ingest_result r;

    ingest_text(w, "events", "ev.csv",
                "type,messageId,userId,timestamp,event,properties\n"
                "track,m1,u,2026-11-01T00:00:00Z,E,{}\n"
                "track,m2,u,2026-11-01T00:00:00Z,E,\"{},\"\"messageId\"\":"
                "\"\"m1\"\"\"\n",
                NULL, &r);
    assert_int_equal(r.read, 2);
    assert_int_equal(r.accepted, 1);
    assert_int_equal(r.quarantined, 1);
    assert_int_equal(raw_count(w, "SELECT count(*) FROM quarantine WHERE "
                                  "reason = 'bad_value'"),
                     1);
    aipm_ingest_result_clear(&r);
}

/* CSV datasets: values are length-prefixed in the row hash, so moving a
 * 0x1f byte from the end of one value to the start of the next is a new
 * version, not a duplicate. */
static void test_row_hash_no_separator_collision(void **state)
{
    ws *w = *state;
    aipm_ingest_result r1, r2;

    ingest_text(w, "feedback", "f1.csv",
                "id,created_at,source,text,user_id\n"
                "f1,2026-11-01,app,p\x1f,q\n",
                NULL, &r1);
    ingest_text(w, "feedback", "f2.csv",
                "id,created_at,source,text,user_id\n"
                "f1,2026-11-01,app,p,\x1fq\n",
                NULL, &r2);
    assert_int_equal(r1.accepted, 1);
    assert_int_equal(r2.accepted, 1);
    assert_int_equal(r2.duplicates, 0);
    aipm_ingest_result_clear(&r1);
    aipm_ingest_result_clear(&r2);
}

/* Issue 12: at most max_quarantine_samples raw rows per reason are stored
 * per batch, every row is counted, and every stored raw text is cut to
 * 4 KiB whatever its reason. Hand count: 30 rows whose value is a word
 * (bad_value), cap 10 -> 30 counted, 10 stored, 20 not stored; one more row
 * with an empty value and a 9,000-byte area (missing_field, its own reason
 * under the cap) is stored with 4096 bytes of raw text. */
static void test_ingest_quarantine_samples_cap(void **state)
{
    ws *w = *state;
    aipm_ingest_opts opts;
    aipm_ingest_result res;
    aipm_data_policy policy;
    aipm_error err = {0};
    aipm_buf text;
    char path[400];
    json_t *report;
    int i;

    aipm_buf_init(&text, 1 << 20);
    aipm_buf_puts(&text, "date,signal,area,value\n");
    for (i = 0; i < 30; i++)
        aipm_buf_printf(&text, "2026-09-01,s%d,,many\n", i);
    aipm_buf_puts(&text, "2026-09-01,long,");
    for (i = 0; i < 9000; i++)
        aipm_buf_put(&text, "a", 1);
    aipm_buf_puts(&text, ",\n");
    snprintf(path, sizeof(path), "%s/capped.csv", w->dir);
    assert_int_equal(tu_write(path, text.ptr, text.len), 0);
    aipm_buf_free(&text);
    aipm_data_policy_defaults(&policy);
    assert_true(policy.max_quarantine_samples == 10000); /* README */
    policy.max_quarantine_samples = 10;
    memset(&opts, 0, sizeof(opts));
    opts.dataset = "signals";
    opts.policy = &policy;
    assert_int_equal(aipm_ingest_file(w->st, path, &opts, &res, &err), AIPM_OK);
    report = json_loads(res.report_json, 0, NULL);
    {
        int64_t quarantined = res.quarantined;
        json_int_t not_stored = json_integer_value(json_object_get(
            json_object_get(report, "quarantine_not_stored"), "bad_value"));

        json_decref(report);
        aipm_ingest_result_clear(&res);
        assert_int_equal(quarantined, 31);
        assert_int_equal(not_stored, 20);
    }
    assert_int_equal(raw_count(w,
                               "SELECT count(*) FROM quarantine WHERE reason = "
                               "'bad_value'"),
                     10);
    assert_int_equal(raw_count(w, "SELECT length(raw) FROM quarantine WHERE "
                                  "reason = 'missing_field'"),
                     4096);
}

/* Issue 12: numbers are decimals only and are stored as REAL. 0x10 passed
 * strtod and was stored as TEXT. Hand count: BL-1 (2) and BL-2 (1e1) are
 * stored as real, BL-3 (0x10) and BL-4 (inf) are bad_value. */
static void test_ingest_numbers_decimal_real(void **state)
{
    static const char text[] = "id,title,effort,status,created_at\n"
                               "BL-1,a,2,idea,2026-09-01\n"
                               "BL-2,b,1e1,idea,2026-09-01\n"
                               "BL-3,c,0x10,idea,2026-09-01\n"
                               "BL-4,d,inf,idea,2026-09-01\n";
    ws *w = *state;
    aipm_ingest_opts opts;
    aipm_ingest_result res;
    aipm_error err = {0};
    char path[400];
    int64_t accepted, quarantined;

    snprintf(path, sizeof(path), "%s/numbers.csv", w->dir);
    assert_int_equal(tu_write(path, text, strlen(text)), 0);
    memset(&opts, 0, sizeof(opts));
    opts.dataset = "backlog";
    assert_int_equal(aipm_ingest_file(w->st, path, &opts, &res, &err), AIPM_OK);
    accepted = res.accepted;
    quarantined = res.quarantined;
    aipm_ingest_result_clear(&res);
    assert_int_equal(accepted, 2);
    assert_int_equal(quarantined, 2);
    assert_int_equal(raw_count(w, "SELECT count(*) FROM backlog WHERE "
                                  "typeof(effort) = 'real'"),
                     2);
    assert_int_equal(raw_count(w, "SELECT count(*) FROM quarantine WHERE "
                                  "reason = 'bad_value'"),
                     2);
}

/* Issue 12: events fed to a CSV dataset are refused (EINVALID, no batch),
 * not stored as a batch of quarantined rows. */
static void test_ingest_wrong_dataset_refused(void **state)
{
    static const char text[] =
        "{\"type\":\"track\",\"messageId\":\"m-1\",\"userId\":\"u\","
        "\"event\":\"E\",\"timestamp\":\"2026-10-01T00:00:00Z\"}\n";
    ws *w = *state;
    aipm_ingest_opts opts;
    aipm_ingest_result res;
    aipm_error err = {0};
    char path[400];
    int rc;

    snprintf(path, sizeof(path), "%s/events.ndjson", w->dir);
    assert_int_equal(tu_write(path, text, strlen(text)), 0);
    memset(&opts, 0, sizeof(opts));
    opts.dataset = "backlog";
    rc = aipm_ingest_file(w->st, path, &opts, &res, &err);
    assert_int_equal(rc, AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "aipm ingest events"));
    assert_int_equal(n_batches_listed(w), 0);
    assert_int_equal(raw_count(w, "SELECT count(*) FROM quarantine"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_manifests),
        cmocka_unit_test_setup_teardown(test_ingest_max_line_variant, ws_setup,
                                        ws_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_reingest, ws_setup,
                                        ws_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_schema_warn, ws_setup,
                                        ws_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_schema_block, ws_setup,
                                        ws_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_schema_b_alone_block,
                                        ws_setup, ws_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_refused, ws_setup,
                                        ws_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_quarantine_raw_ndjson,
                                        ws_setup, ws_teardown),
        /* regression: csv.c keeps a bad record's raw text */
        cmocka_unit_test_setup_teardown(test_ingest_quarantine_raw_csv,
                                        ws_setup, ws_teardown),
        /* regression: the window is calendar years */
        cmocka_unit_test_setup_teardown(test_ingest_time_window, ws_setup,
                                        ws_teardown),
        cmocka_unit_test_setup_teardown(test_schema_after_reject, ws_setup,
                                        ws_teardown),
        cmocka_unit_test_setup_teardown(test_repeated_property_key, ws_setup,
                                        ws_teardown),
        cmocka_unit_test_setup_teardown(test_csv_properties_cell_injection,
                                        ws_setup, ws_teardown),
        cmocka_unit_test_setup_teardown(test_row_hash_no_separator_collision,
                                        ws_setup, ws_teardown),
        cmocka_unit_test_setup_teardown(test_resend_after_revert, ws_setup,
                                        ws_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_quarantine_samples_cap,
                                        ws_setup, ws_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_numbers_decimal_real,
                                        ws_setup, ws_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_wrong_dataset_refused,
                                        ws_setup, ws_teardown),
        cmocka_unit_test_setup_teardown(test_transitions, ws_setup,
                                        ws_teardown),
    };

    setenv("AIPM_NOW", "2026-11-27T00:00:00Z", 1);
    setenv("AIPM_ACTOR", "tester", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
