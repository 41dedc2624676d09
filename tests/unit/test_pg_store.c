/* test_pg_store.c - unit tests of the PostgreSQL store backend (store/pg),
 * each against the SQLite backend, the reference, on the same inputs: the
 * command-level suite runs the PostgreSQL store too, but not under the
 * sanitizers; this test does, in every preset (test_pg_reads.c does the
 * same for the analyses' push-down reads).
 *
 * Each test opens a SQLite store in a temporary directory and a PostgreSQL
 * store in a fresh database of the test server (pgtest.h), does the same
 * operations on both and compares what they return, record against record.
 * Where store.h fixes a value (a duplicate is 0, an order, a count) the
 * test also checks it, so the two backends cannot agree on a wrong answer
 * there. Payloads and bytes are handed over in allocations of exactly
 * their length, without a NUL after them: code that reads them as C
 * strings overruns under AddressSanitizer. The tests that read text back
 * in order run again in a database whose collation is ICU's en-US, not
 * byte order. Without $AIPM_TEST_PG_DIR (the binary run by hand) every
 * test skips.
 */
#include "pgtest.h"

#include <time.h>

#define MB (1 << 20)

/* ---- strings that are hard to carry (COPY's text format escapes tab,
 * newline, carriage return and backslash; \N is its NULL, \. its end) ---- */

#define T_TAB "tab\there\t"
#define T_NL "line\nbreak\n"
#define T_CR "cr\rlf\r\n"
#define T_BS "back\\slash\\"
#define T_COPY_NULL "\\N"
#define T_COPY_END "\\."
#define T_QUOTE "quote'\"double\"'"
#define T_UTF8 "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"
#define T_CTRL "\x01\x1f\x7f ctrl"
#define T_SPACES "  spaced  "

/* A JSON object of exactly len bytes, one string inside, holding every few
 * hundred bytes the characters COPY escapes and a two-byte character. */
static char *big_payload(size_t len, int seed)
{
    static const char esc[] = "\t\n\r\\\"";
    char *v = malloc(len);
    size_t i;

    assert_non_null(v);
    memcpy(v, "{\"k\":\"", 6);
    for (i = 6; i < len - 2; i++) {
        size_t k = (i + (size_t)seed) % 499;

        if (k < 5)
            v[i] = esc[k];
        else if (k == 250 && i + 1 < len - 2) {
            v[i++] = (char)0xc3; /* é */
            v[i] = (char)0xa9;
        } else
            v[i] = (char)('a' + (i * 7 + (size_t)seed) % 26);
    }
    v[len - 2] = '"';
    v[len - 1] = '}';
    return v;
}

/* 1 MB of backslashes and tabs only: twice its size once escaped. */
static char *escapes_payload(size_t len)
{
    char *v = malloc(len);
    size_t i;

    assert_non_null(v);
    for (i = 0; i < len; i++)
        v[i] = i % 3 == 2 ? '\t' : '\\';
    return v;
}

typedef struct ev {
    const char *message_id, *type, *user_id, *anonymous_id, *event, *group_id;
    int64_t ts_ms;
    const char *payload; /* NULL: none; else its text up to payload_len */
    size_t payload_len;
} ev;

/* rows[] from evs[], each payload in an exact allocation (freed by
 * free_rows). */
static aipm_event_row *make_rows(const ev *evs, size_t n)
{
    aipm_event_row *rows = calloc(n, sizeof(*rows));
    size_t i;

    assert_non_null(rows);
    for (i = 0; i < n; i++) {
        rows[i].message_id = evs[i].message_id;
        rows[i].type = evs[i].type;
        rows[i].user_id = evs[i].user_id;
        rows[i].anonymous_id = evs[i].anonymous_id;
        rows[i].event = evs[i].event;
        rows[i].group_id = evs[i].group_id;
        rows[i].ts_ms = evs[i].ts_ms;
        if (evs[i].payload) {
            rows[i].payload = exact(evs[i].payload, evs[i].payload_len);
            rows[i].payload_len = evs[i].payload_len;
        }
    }
    return rows;
}

static void free_rows(aipm_event_row *rows, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free((char *)rows[i].payload);
    free(rows);
}

#define P(s) s, sizeof(s) - 1

/* ---- 1. opening ---- */

/* CREATE on a fresh database, CREATE again, a database with no store, an
 * unreachable server, passwords in the URL: the same codes as SQLite's,
 * one-line messages, no password in them. */
static void test_open(void **state)
{
    pair *p = need(state);
    static const char pw[] = "Secr3t-pw";
    aipm_error err;
    aipm_store *st = NULL;
    char path[400], url[600], empty[512], foreign[512];
    const char *db;
    int rc_sq, rc_pg;

    /* the same logical schema version as the reference */
    assert_int_equal(aipm_store_schema_version(p->st[1]),
                     aipm_store_schema_version(p->st[0]));
    assert_true(aipm_store_schema_version(p->st[1]) > 0);
    assert_int_equal(
        strncmp(aipm_store_namespace(p->st[1]), "postgresql://", 13), 0);

    /* CREATE where a store is: EEXISTS on both */
    rc_sq = RC(aipm_store_open(&st, p->path, AIPM_STORE_CREATE, &err));
    assert_null(st);
    assert_int_equal(rc_sq, AIPM_EEXISTS);
    rc_pg = RC(aipm_store_open(&st, p->url, AIPM_STORE_CREATE, &err));
    assert_null(st);
    assert_int_equal(rc_pg, rc_sq);
    one_line(err.msg);

    /* no store: ENOTFOUND, read-write and read-only; nothing is made, so
     * CREATE works afterwards */
    snprintf(path, sizeof(path), "%s/none.db", p->dir);
    assert_int_equal(new_db(empty, sizeof(empty)), 0);
    rc_sq = RC(aipm_store_open(&st, path, 0, &err));
    assert_int_equal(rc_sq, AIPM_ENOTFOUND);
    rc_pg = RC(aipm_store_open(&st, empty, 0, &err));
    assert_null(st);
    assert_int_equal(rc_pg, rc_sq);
    one_line(err.msg);
    rc_sq = RC(aipm_store_open(&st, path, AIPM_STORE_READONLY, &err));
    rc_pg = RC(aipm_store_open(&st, empty, AIPM_STORE_READONLY, &err));
    assert_null(st);
    assert_int_equal(rc_sq, AIPM_ENOTFOUND);
    assert_int_equal(rc_pg, rc_sq);
    one_line(err.msg);
    OK(aipm_store_open(&st, empty, AIPM_STORE_CREATE, &err));
    aipm_store_close(st);
    st = NULL;

    /* an unreachable server (nothing listens on port 1): EIO, one line */
    rc_pg =
        RC(aipm_store_open(&st, "postgresql://aipm@127.0.0.1:1/aipm", 0, &err));
    assert_null(st);
    assert_int_equal(rc_pg, AIPM_EIO);
    one_line(err.msg);
    assert_non_null(strstr(err.msg, "127.0.0.1"));

    /* a password is never shown: unreachable, in the user part and in a
     * query parameter */
    snprintf(url, sizeof(url), "postgresql://aipm:%s@127.0.0.1:1/aipm", pw);
    rc_pg = RC(aipm_store_open(&st, url, 0, &err));
    assert_int_equal(rc_pg, AIPM_EIO);
    one_line(err.msg);
    assert_null(strstr(err.msg, pw));
    assert_non_null(strstr(err.msg, "***"));
    snprintf(url, sizeof(url),
             "postgresql://aipm@127.0.0.1:1/aipm?password=%s&connect_"
             "timeout=5",
             pw);
    rc_pg = RC(aipm_store_open(&st, url, 0, &err));
    assert_int_equal(rc_pg, AIPM_EIO);
    one_line(err.msg);
    assert_null(strstr(err.msg, pw));
    /* the live server (trust: any password is taken) and a database that
     * does not exist */
    with_password(url, sizeof(url), p->url, pw, "no_such_database");
    rc_pg = RC(aipm_store_open(&st, url, 0, &err));
    assert_null(st);
    assert_int_equal(rc_pg, AIPM_EIO);
    one_line(err.msg);
    assert_null(strstr(err.msg, pw));
    /* the live server, a store that exists: CREATE's message */
    db = strrchr(p->url, '/') + 1;
    with_password(url, sizeof(url), p->url, pw, db);
    rc_pg = RC(aipm_store_open(&st, url, AIPM_STORE_CREATE, &err));
    assert_int_equal(rc_pg, AIPM_EEXISTS);
    assert_null(strstr(err.msg, pw));
    /* and a database with no store */
    assert_int_equal(new_db(empty, sizeof(empty)), 0);
    with_password(url, sizeof(url), empty, pw, strrchr(empty, '/') + 1);
    rc_pg = RC(aipm_store_open(&st, url, 0, &err));
    assert_int_equal(rc_pg, AIPM_ENOTFOUND);
    assert_null(strstr(err.msg, pw));

    /* a schema "aipm" of another application: EINVALID, left as it was */
    assert_int_equal(new_db(foreign, sizeof(foreign)), 0);
    raw_sql(foreign, "CREATE SCHEMA aipm; CREATE TABLE aipm.t(x int);"
                     " INSERT INTO aipm.t VALUES (42)");
    rc_pg = RC(aipm_store_open(&st, foreign, AIPM_STORE_CREATE, &err));
    assert_null(st);
    assert_int_equal(rc_pg, AIPM_EINVALID);
    one_line(err.msg);
    raw_sql(foreign, "SELECT 1/(x - 41) FROM aipm.t"); /* still there */
}

/* ---- 2. events: the COPY path and the row-at-a-time path ---- */

static void test_events(void **state)
{
    pair *p = need(state);
    /* 10 rows: duplicates of an earlier row of the call at 3 and 8 */
    static const ev first[] = {
        {"m0", "track", T_TAB, NULL, T_NL, NULL, 1700000000000LL,
         P("{\"s\":\"" T_CR T_BS T_QUOTE "\",\"u\":\"" T_UTF8 "\"}")},
        {"m1\t\n\r\\", "identify", T_UTF8, "", NULL, NULL, -1, P("{}")},
        {T_COPY_NULL, "group", NULL, "a" T_COPY_NULL, NULL, T_COPY_END,
         INT64_MAX, P(T_COPY_END)},
        {"m0", "track", "other", NULL, "dup", NULL, 5, P("{\"d\":1}")},
        {"m\xf0\x9f\x98\x80", "track", "", "", "", "", INT64_MIN, "", 0},
        {"m5", "track", T_QUOTE, NULL, "\\\\t" T_SPACES, NULL, 0, NULL, 0},
        {"m6", "track", "u6", NULL, "big", NULL, 6, NULL, 0},
        {"m7", "track", "u7", NULL, "big", NULL, 7, NULL, 0},
        {"m1\t\n\r\\", "track", "x", NULL, NULL, NULL, 8, P("{}")},
        {"", "track", T_CTRL, NULL, T_SPACES, NULL, 9, "{\"a\":1}GARBAGE", 7},
    };
    static const unsigned char first_expected[] = {1, 1, 1, 0, 1,
                                                   1, 1, 1, 0, 1};
    /* a stored row, a new one twice, a stored one, all-NULL options */
    static const ev second[] = {
        {T_COPY_NULL, "track", "u", NULL, "e", NULL, 1, P("{}")},
        {"m10", "track", "u10", NULL, "e", NULL, 10, P("{\"n\":10}")},
        {"m10", "track", "u10", NULL, "e", NULL, 11, P("{\"n\":11}")},
        {"m0", "track", "u0", NULL, "e", NULL, 12, P("{}")},
        {"m11", "identify", NULL, NULL, NULL, NULL, 13, NULL, 0},
    };
    static const unsigned char second_expected[] = {0, 1, 0, 0, 1};
    aipm_error err;
    aipm_event_row *rows1, *rows2;
    unsigned char ins[2][N_ELEMS(first)];
    rec r[2] = {{0}}, cached[2] = {{0}};
    int64_t batch1, batch2, n_stored = 0;
    size_t i;
    int b;

    rows1 = make_rows(first, N_ELEMS(first));
    free((char *)rows1[6].payload);
    rows1[6].payload = big_payload(MB, 1);
    rows1[6].payload_len = MB;
    free((char *)rows1[7].payload);
    rows1[7].payload = escapes_payload(MB);
    rows1[7].payload_len = MB;
    rows2 = make_rows(second, N_ELEMS(second));

    /* batch 1 through aipm_store_event_put_many (COPY on PostgreSQL) */
    begin_both(p);
    batch1 = new_batch(p, "events", 1000);
    for (b = 0; b < 2; b++) {
        memset(ins[b], 9, sizeof(ins[b]));
        OK(aipm_store_event_put_many(p->st[b], batch1, rows1, N_ELEMS(first),
                                     ins[b], &err));
    }
    assert_memory_equal(ins[0], first_expected, N_ELEMS(first));
    assert_memory_equal(ins[1], ins[0], N_ELEMS(first));
    for (b = 0; b < 2; b++) {
        memset(ins[b], 9, sizeof(ins[b]));
        OK(aipm_store_event_put_many(p->st[b], batch1, rows2, N_ELEMS(second),
                                     ins[b], &err));
    }
    assert_memory_equal(ins[0], second_expected, N_ELEMS(second));
    assert_memory_equal(ins[1], ins[0], N_ELEMS(second));
    /* n = 0 does nothing */
    for (b = 0; b < 2; b++)
        OK(aipm_store_event_put_many(p->st[b], batch1, rows2, 0, ins[b], &err));
    /* the digest of the batch being loaded (hashed as it was written) */
    for (b = 0; b < 2; b++)
        OK(aipm_store_rows_digest(p->st[b], "events", batch1, on_digest,
                                  &cached[b], &err));
    same(cached, "events digest of batch 1 while loading");
    commit_both(p);

    /* batch 2 a row at a time (aipm_store_event_put): the first rows
     * again under other ids, and a row of batch 1 (a duplicate) */
    begin_both(p);
    batch2 = new_batch(p, "events", 2000);
    for (i = 0; i < N_ELEMS(first) + 1; i++) {
        aipm_event_row row;
        char id[64];
        int one[2] = {9, 9};

        if (i < N_ELEMS(first)) {
            row = rows1[i];
            snprintf(id, sizeof(id), "s-%s", rows1[i].message_id);
            row.message_id = id;
        } else {
            row = rows1[0]; /* m0: stored in batch 1 */
        }
        for (b = 0; b < 2; b++)
            OK(aipm_store_event_put(p->st[b], batch2, &row, &one[b], &err));
        assert_int_equal(one[0], i < N_ELEMS(first) ? first_expected[i] : 0);
        assert_int_equal(one[1], one[0]);
    }
    for (b = 0; b < 2; b++)
        OK(aipm_store_rows_digest(p->st[b], "events", batch2, on_digest,
                                  &cached[b], &err));
    same(cached, "events digests while loading");
    commit_both(p);

    /* read back from the tables, on new connections: the same digests as
     * the reference, and as each backend hashed while writing */
    reopen(p, 0);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_rows_digest(p->st[b], "events", batch1, on_digest, &r[b],
                                  &err));
        OK(aipm_store_rows_digest(p->st[b], "events", batch2, on_digest, &r[b],
                                  &err));
        assert_int_equal(r[b].len, cached[b].len);
        assert_memory_equal(r[b].p, cached[b].p, r[b].len);
    }
    same(r, "events digests read back");
    recs_free(r);
    same_digests(p, "events", 0, "events digests of every batch");

    /* visible once accepted */
    for (i = 0; i < N_ELEMS(first); i++)
        n_stored += 2 * first_expected[i];
    for (i = 0; i < N_ELEMS(second); i++)
        n_stored += second_expected[i];
    same_count(p, "events", 0);
    assert_int_equal(set_status(p, batch1, "accepted"), AIPM_OK);
    assert_int_equal(set_status(p, batch2, "accepted"), AIPM_OK);
    same_count(p, "events", n_stored);
    /* the user ids and events as a read gives them back */
    for (b = 0; b < 2; b++)
        OK(aipm_store_first_uses(p->st[b], INT64_MAX, NULL, on_first_use, &r[b],
                                 &err));
    assert_true(r[0].rows > 5);
    same(r, "first uses");
    recs_free(r);
    recs_free(cached);
    free_rows(rows1, N_ELEMS(first));
    free_rows(rows2, N_ELEMS(second));
}

/* ---- 3. the CSV datasets ---- */

static const char *const csv_texts[] = {
    T_TAB, T_NL,    T_CR,   T_BS,   T_COPY_NULL, T_COPY_END,
    "",    T_QUOTE, T_UTF8, T_CTRL, T_SPACES,    "plain",
};
/* empty (NULL), a subnormal, a decimal fraction, negative zero, the
 * extremes of a double's range, an integer past 2^53 */
static const char *const csv_numbers[] = {
    "1e-310", "0.1",
    "-0.0",   NULL,
    "1e308",  "-123.456e-7",
    "42",     "4.9406564584124654e-324",
    "0",      "123456789012345678",
    "-2.5",
};

#define CSV_ROWS 14

/* The values of row r of a dataset: every column cycles through the
 * texts or numbers above; optional columns are sometimes empty. */
static void csv_values(const aipm_dataset_def *def, int r, const char **v)
{
    int c;

    for (c = 0; c < def->n_cols; c++) {
        int k = r * 3 + c;

        if (def->cols[c].type == AIPM_COL_NUMBER)
            v[c] = csv_numbers[k % (int)N_ELEMS(csv_numbers)];
        else if (!def->cols[c].required && k % 4 == 0)
            v[c] = NULL;
        else
            v[c] = csv_texts[k % (int)N_ELEMS(csv_texts)];
    }
}

static void test_csv_rows(void **state)
{
    pair *p = need(state);
    static const char *const names[] = {"backlog", "feedback", "signals",
                                        "graph"};
    aipm_error err;
    int64_t batch[4];
    rec r[2] = {{0}};
    size_t d;
    int b, i;

    for (d = 0; d < N_ELEMS(names); d++) {
        const aipm_dataset_def *def = aipm_dataset_find(names[d]);
        const char *v[32];

        assert_non_null(def);
        assert_true(def->n_cols <= 32);
        begin_both(p);
        batch[d] = new_batch(p, names[d], 100 + (int64_t)d);
        /* rows 0..CSV_ROWS-1 are new (keys k0..k9, the last four keys
         * again with other contents); then row 2 and row 11 again:
         * duplicates */
        for (i = 0; i < CSV_ROWS + 2; i++) {
            int row = i < CSV_ROWS ? i : i == CSV_ROWS ? 2 : 11;
            char key[32], sha[32];
            int one[2] = {9, 9};

            snprintf(key, sizeof(key), "k%d\t%s", row % 10, names[d]);
            snprintf(sha, sizeof(sha), "sha-%d", row);
            csv_values(def, row, v);
            for (b = 0; b < 2; b++)
                OK(aipm_store_row_put(p->st[b], names[d], batch[d], key, sha, v,
                                      &one[b], &err));
            assert_int_equal(one[0], i < CSV_ROWS);
            assert_int_equal(one[1], one[0]);
        }
        same_digests(p, names[d], batch[d], "CSV digest while loading");
        commit_both(p);
    }
    /* an unknown dataset: EINVALID on both */
    for (b = 0; b < 2; b++) {
        const char *v[4] = {"a", "b", "c", "d"};
        int one = 9;

        assert_int_equal(RC(aipm_store_row_put(p->st[b], "nope", batch[0], "k",
                                               "s", v, &one, &err)),
                         AIPM_EINVALID);
    }

    reopen(p, 0);
    for (d = 0; d < N_ELEMS(names); d++) {
        same_digests(p, names[d], batch[d], "CSV digest read back");
        same_digests(p, names[d], 0, "CSV digests of every batch");
        same_count(p, names[d], 0);
        assert_int_equal(set_status(p, batch[d], "accepted"), AIPM_OK);
        same_count(p, names[d], CSV_ROWS);
    }

    /* the typed reads give back the same rows */
    for (b = 0; b < 2; b++)
        OK(aipm_store_backlog_items(p->st[b], on_backlog_item, &r[b], &err));
    assert_int_equal(r[0].rows, 10); /* the newest row of each key */
    same(r, "backlog items");
    recs_free(r);
    for (b = 0; b < 2; b++)
        OK(aipm_store_backlog_texts(p->st[b], on_backlog_text, &r[b], &err));
    same(r, "backlog texts");
    recs_free(r);
    for (b = 0; b < 2; b++)
        OK(aipm_store_feedback_texts(p->st[b], on_feedback_text, &r[b], &err));
    same(r, "feedback texts");
    recs_free(r);
    for (b = 0; b < 2; b++)
        OK(aipm_store_market_signals(p->st[b], on_signal, &r[b], &err));
    assert_int_equal(r[0].rows, CSV_ROWS); /* every version */
    same(r, "market signals");
    recs_free(r);
    for (b = 0; b < 2; b++)
        OK(aipm_store_graph_rows(p->st[b], INT64_MAX, NULL, on_graph_row, &r[b],
                                 &err));
    same(r, "graph rows");
    recs_free(r);
    {
        int64_t n[2];
        int found[2];

        for (b = 0; b < 2; b++) {
            OK(aipm_store_feedback_count(p->st[b], &n[b], &err));
            OK(aipm_store_row_visible(p->st[b], "backlog", T_TAB, &found[b],
                                      &err));
        }
        assert_int_equal(n[0], 10);
        assert_int_equal(n[1], n[0]);
        assert_int_equal(found[1], found[0]);
    }
}

/* ---- 4. batch status changes ---- */

static void put_events(pair *p, int64_t batch, const char *const *ids, size_t n,
                       const unsigned char *expected)
{
    aipm_error err;
    aipm_event_row rows[8];
    unsigned char ins[2][8];
    size_t i;
    int b;

    assert_true(n <= 8);
    memset(rows, 0, sizeof(rows));
    for (i = 0; i < n; i++) {
        rows[i].message_id = ids[i];
        rows[i].type = "track";
        rows[i].user_id = "u";
        rows[i].event = "e";
        rows[i].ts_ms = (int64_t)i;
        rows[i].payload = "{}";
        rows[i].payload_len = 2;
    }
    for (b = 0; b < 2; b++)
        OK(aipm_store_event_put_many(p->st[b], batch, rows, n, ins[b], &err));
    assert_memory_equal(ins[0], expected, n);
    assert_memory_equal(ins[1], ins[0], n);
}

static void put_backlog(pair *p, int64_t batch, const char *const *ids,
                        size_t n, int expected)
{
    aipm_error err;
    size_t i;
    int b;

    for (i = 0; i < n; i++) {
        const char *v[12] = {ids[i],       "title", NULL, NULL, "1",  "idea",
                             "2024-01-01", NULL,    NULL, NULL, NULL, NULL};
        int one[2];

        for (b = 0; b < 2; b++)
            OK(aipm_store_row_put(p->st[b], "backlog", batch, ids[i], "same", v,
                                  &one[b], &err));
        assert_int_equal(one[0], expected);
        assert_int_equal(one[1], one[0]);
    }
}

static void put_backlog_one(aipm_store *st, int64_t batch, int *rc,
                            aipm_error *err)
{
    const char *v[12] = {"b9",         "t",  NULL, NULL, "1",  "idea",
                         "2024-01-01", NULL, NULL, NULL, NULL, NULL};
    int one = 9;

    memset(err, 0, sizeof(*err));
    *rc = aipm_store_row_put(st, "backlog", batch, "b9", "x", v, &one, err);
}

static void same_batches(pair *p, const char *what)
{
    aipm_error err;
    rec r[2] = {{0}};
    int b;

    for (b = 0; b < 2; b++) {
        OK(aipm_store_batch_list(p->st[b], NULL, 0, on_batch, &r[b], &err));
        OK(aipm_store_batch_list(p->st[b], NULL, 1, on_batch, &r[b], &err));
        OK(aipm_store_batch_list(p->st[b], "events", 0, on_batch, &r[b], &err));
    }
    same(r, what);
    recs_free(r);
}

/* accepted -> reverted -> accepted again; and again after a newer batch
 * took the keys: EINVALID on both, nothing changed. */
static void test_batch_status(void **state)
{
    pair *p = need(state);
    static const char *const ids_a[] = {"m1", "m2", "m3"};
    static const char *const ids_b[] = {"m1", "m2", "m4"};
    static const unsigned char all[] = {1, 1, 1}, none[] = {0, 0, 0};
    aipm_error err;
    int64_t ev_a, ev_b, bl_a, bl_b;
    int b;

    begin_both(p);
    ev_a = new_batch(p, "events", 1);
    put_events(p, ev_a, ids_a, 3, all);
    bl_a = new_batch(p, "backlog", 2);
    put_backlog(p, bl_a, ids_a, 3, 1);
    commit_both(p);
    assert_int_equal(set_status(p, ev_a, "accepted"), AIPM_OK);
    assert_int_equal(set_status(p, bl_a, "accepted"), AIPM_OK);
    same_count(p, "events", 3);
    same_count(p, "backlog", 3);

    /* while A holds its keys, a re-send is all duplicates */
    begin_both(p);
    ev_b = new_batch(p, "events", 3);
    put_events(p, ev_b, ids_a, 3, none);
    commit_both(p);

    /* reverted: hidden, and its keys let go */
    assert_int_equal(set_status(p, ev_a, "reverted"), AIPM_OK);
    assert_int_equal(set_status(p, bl_a, "reverted"), AIPM_OK);
    same_count(p, "events", 0);
    same_count(p, "backlog", 0);
    /* accepted again: back */
    assert_int_equal(set_status(p, ev_a, "accepted"), AIPM_OK);
    assert_int_equal(set_status(p, bl_a, "accepted"), AIPM_OK);
    same_count(p, "events", 3);
    same_count(p, "backlog", 3);
    same_batches(p, "batches after accept, revert, accept");

    /* reverted, then a newer batch takes m1 and m2 */
    assert_int_equal(set_status(p, ev_a, "reverted"), AIPM_OK);
    assert_int_equal(set_status(p, bl_a, "reverted"), AIPM_OK);
    begin_both(p);
    ev_b = new_batch(p, "events", 4);
    put_events(p, ev_b, ids_b, 3, all);
    bl_b = new_batch(p, "backlog", 5);
    put_backlog(p, bl_b, ids_b, 3, 1);
    commit_both(p);
    assert_int_equal(set_status(p, ev_b, "accepted"), AIPM_OK);
    assert_int_equal(set_status(p, bl_b, "accepted"), AIPM_OK);
    same_count(p, "events", 3);

    /* A cannot be accepted again: EINVALID, its status left reverted */
    assert_int_equal(set_status(p, ev_a, "accepted"), AIPM_EINVALID);
    assert_int_equal(set_status(p, bl_a, "accepted"), AIPM_EINVALID);
    for (b = 0; b < 2; b++) {
        aipm_batch_info info;

        OK(aipm_store_batch_get(p->st[b], &info, ev_a, &err));
        assert_string_equal(info.status, "reverted");
        aipm_batch_info_clear(&info);
    }
    same_count(p, "events", 3);
    same_count(p, "backlog", 3);
    /* once B is reverted, A can */
    assert_int_equal(set_status(p, ev_b, "reverted"), AIPM_OK);
    assert_int_equal(set_status(p, bl_b, "reverted"), AIPM_OK);
    assert_int_equal(set_status(p, ev_a, "accepted"), AIPM_OK);
    assert_int_equal(set_status(p, bl_a, "accepted"), AIPM_OK);
    same_count(p, "events", 3);
    same_count(p, "backlog", 3);

    /* no such batch: ENOTFOUND */
    assert_int_equal(set_status(p, 999, "accepted"), AIPM_ENOTFOUND);

    /* a batch's outcome, recorded and read back */
    for (b = 0; b < 2; b++) {
        aipm_batch_info info, got;

        memset(&info, 0, sizeof(info));
        info.id = ev_b;
        snprintf(info.status, sizeof(info.status), "staged");
        snprintf(info.verdict, sizeof(info.verdict), "warn");
        snprintf(info.source_sha256, sizeof(info.source_sha256), "%064d", 7);
        snprintf(info.content_sha256, sizeof(info.content_sha256), "%064d", 8);
        snprintf(info.rows_sha256, sizeof(info.rows_sha256), "%064d", 9);
        info.n_read = 5;
        info.n_accepted = 3;
        info.n_duplicates = 1;
        info.n_quarantined = 1;
        info.report = "{\"r\":\"" T_NL T_UTF8 "\"}";
        OK(aipm_store_begin(p->st[b], &err));
        OK(aipm_store_batch_finish(p->st[b], &info, &err));
        OK(aipm_store_commit(p->st[b], &err));
        OK(aipm_store_batch_get(p->st[b], &got, ev_b, &err));
        assert_string_equal(got.status, "staged");
        assert_string_equal(got.report, info.report);
        aipm_batch_info_clear(&got);
        assert_int_equal(RC(aipm_store_batch_get(p->st[b], &got, 999, &err)),
                         AIPM_ENOTFOUND);
        aipm_batch_info_clear(&got);
    }
    same_batches(p, "batches at the end");
}

/* ---- 5. reads of more rows than one fetch (5,000) ---- */

#define N_QUARANTINE 12000
#define N_AUDIT 10000 /* two fetches exactly, then an empty one */

static void fill_audit(pair *p, int n)
{
    aipm_error err;
    int b, k;

    for (b = 0; b < 2; b++) {
        OK(aipm_store_begin(p->st[b], &err));
        for (k = 1; k <= n; k++) {
            uint8_t leaf[32], root[32];
            char text[64];
            size_t len;
            char *entry;
            aipm_audit_row a;
            int j;

            for (j = 0; j < 32; j++) {
                leaf[j] = (uint8_t)(k * 31 + j);
                root[j] = (uint8_t)(k * 17 - j);
            }
            /* a NUL and a byte over 0x7f inside the entry */
            len = (size_t)snprintf(text, sizeof(text), "{\"seq\":%d}_\xff", k);
            text[len - 2] = '\0';
            entry = exact(text, len);
            a.seq = k;
            a.entry = entry;
            a.entry_len = len;
            a.leaf = leaf;
            a.root = root;
            OK(aipm_store_audit_put(p->st[b], &a, &err));
            free(entry);
        }
        OK(aipm_store_commit(p->st[b], &err));
    }
}

static void test_big_reads(void **state)
{
    pair *p = need(state);
    aipm_error err;
    rec r[2] = {{0}};
    int64_t batch, seq[2];
    uint8_t root[2][32];
    int b, k, found[2];

    begin_both(p);
    batch = new_batch(p, "events", 1);
    for (b = 0; b < 2; b++) {
        for (k = 0; k < N_QUARANTINE; k++) {
            unsigned char raw[64];
            char detail[64];
            aipm_quarantine_row q;
            char *bytes;
            int j, len = k % 50;

            for (j = 0; j < len; j++)
                raw[j] = (unsigned char)(k + j * 13); /* NULs included */
            snprintf(detail, sizeof(detail), "line %d:\t" T_UTF8, k);
            bytes = exact((const char *)raw, (size_t)len);
            q.batch_id = k % 3 ? batch : batch + 1;
            q.dataset = "events";
            q.file = "in\\put\n.ndjson";
            q.line = k + 1;
            q.reason = k % 2 ? "bad_json" : "schema";
            q.detail = k % 7 ? detail : NULL;
            q.raw = bytes;
            q.raw_len = (size_t)len;
            OK(aipm_store_quarantine_put(p->st[b], &q, &err));
            free(bytes);
        }
    }
    commit_both(p);
    fill_audit(p, N_AUDIT);

    /* all of them, newest first */
    for (b = 0; b < 2; b++)
        OK(aipm_store_quarantine_list(p->st[b], NULL, 0, 0, on_quarantine,
                                      &r[b], &err));
    assert_int_equal(r[0].rows, N_QUARANTINE);
    assert_non_null(strstr(r[0].p, "|i12000|")); /* line 12000 first */
    same(r, "12,000 quarantine rows");
    recs_free(r);
    /* filtered, and limits across and at a fetch's size */
    for (b = 0; b < 2; b++) {
        OK(aipm_store_quarantine_list(p->st[b], "bad_json", 0, 7000,
                                      on_quarantine, &r[b], &err));
        OK(aipm_store_quarantine_list(p->st[b], NULL, batch, 5000,
                                      on_quarantine, &r[b], &err));
        OK(aipm_store_quarantine_list(p->st[b], "schema", batch + 1, 0,
                                      on_quarantine, &r[b], &err));
    }
    assert_int_equal(r[0].rows, 6000 + 5000 + N_QUARANTINE / 6);
    same(r, "quarantine rows filtered");
    recs_free(r);

    /* the audit log, in order */
    for (b = 0; b < 2; b++)
        OK(aipm_store_audit_list(p->st[b], on_audit, &r[b], &err));
    assert_int_equal(r[0].rows, N_AUDIT);
    assert_int_equal(strncmp(r[0].p, "i1|", 3), 0);
    same(r, "10,000 audit rows");
    recs_free(r);
    for (b = 0; b < 2; b++)
        OK(aipm_store_audit_last(p->st[b], &seq[b], root[b], &found[b], &err));
    assert_int_equal(found[0], 1);
    assert_int_equal(found[1], 1);
    assert_int_equal(seq[0], N_AUDIT);
    assert_int_equal(seq[1], seq[0]);
    assert_memory_equal(root[1], root[0], 32);
}

/* ---- 6. a read inside a read's callback ---- */

typedef struct nest {
    aipm_store *st;
    rec *r;
    int calls;
    int stop_after; /* the inner audit walk stops here (0: never) */
} nest;

static int count_audit(void *ctx, const aipm_audit_row *a)
{
    nest *n = ctx;

    n->calls++;
    rec_int(n->r, a->seq);
    rec_mem(n->r, a->root, 32);
    return n->stop_after && n->calls == n->stop_after ? 7 : 0;
}

static int inner_decision(void *ctx, const aipm_decision_row *d)
{
    nest *n = ctx;
    aipm_error err;
    aipm_batch_info info;

    on_decision(n->r, d);
    /* a third level: a batch read inside the decision read */
    OK(aipm_store_batch_get(n->st, &info, 1, &err));
    rec_batch(n->r, &info);
    aipm_batch_info_clear(&info);
    return 0;
}

static int outer_batch(void *ctx, const aipm_batch_info *info)
{
    nest *n = ctx;
    aipm_error err;
    nest inner = {n->st, n->r, 0, 0};
    int64_t count = 0;

    rec_batch(n->r, info);
    OK(aipm_store_decision_list(n->st, NULL, inner_decision, &inner, &err));
    /* an inner walk of two fetches, one that stops early */
    OK(aipm_store_audit_list(n->st, count_audit, &inner, &err));
    inner.calls = 0;
    inner.stop_after = 5001;
    assert_int_equal(
        RC(aipm_store_audit_list(n->st, count_audit, &inner, &err)), 7);
    OK(aipm_store_count_visible(n->st, "events", &count, &err));
    rec_int(n->r, count);
    /* the outer row's strings are still those of its row */
    rec_batch(n->r, info);
    rec_end(n->r);
    n->calls++;
    return 0;
}

static int begin_inside(void *ctx, const aipm_batch_info *info)
{
    aipm_error err;

    (void)info;
    /* PostgreSQL: a cursor walk is under way; no transaction may begin */
    assert_int_not_equal(RC(aipm_store_begin(ctx, &err)), AIPM_OK);
    one_line(err.msg);
    return 0;
}

static void test_nested_reads(void **state)
{
    pair *p = need(state);
    static const char *const ids[] = {"m1", "m2"};
    static const unsigned char all[] = {1, 1};
    aipm_error err;
    rec r[2] = {{0}};
    int b, i, in_tx;

    begin_both(p);
    for (i = 0; i < 3; i++)
        new_batch(p, i == 1 ? "backlog" : "events", i);
    put_events(p, 1, ids, 2, all);
    for (b = 0; b < 2; b++)
        for (i = 0; i < 3; i++) {
            char id[16];
            aipm_decision_row d = {id,   100 - i, "experiment", "s",  "ship",
                                   "{}", "{}",    "sha",        NULL, NULL,
                                   NULL, NULL,    NAN,          "v1", NULL};

            snprintf(id, sizeof(id), "d%d", i);
            OK(aipm_store_decision_put(p->st[b], &d, &err));
        }
    commit_both(p);
    for (i = 1; i <= 3; i++)
        assert_int_equal(set_status(p, i, i == 2 ? "rejected" : "accepted"),
                         AIPM_OK);
    fill_audit(p, 6000);

    /* outside a transaction, then inside one */
    for (in_tx = 0; in_tx < 2; in_tx++) {
        for (b = 0; b < 2; b++) {
            nest n = {p->st[b], &r[b], 0, 0};

            if (in_tx)
                OK(aipm_store_begin(p->st[b], &err));
            OK(aipm_store_batch_list(p->st[b], NULL, 0, outer_batch, &n, &err));
            assert_int_equal(n.calls, 3);
            if (in_tx)
                OK(aipm_store_commit(p->st[b], &err));
            assert_int_equal(aipm_store_in_transaction(p->st[b]), 0);
        }
        same(r, in_tx ? "nested reads in a transaction" : "nested reads");
        recs_free(r);
    }
    /* the connection is still usable after all that */
    same_count(p, "events", 2);
    OK(aipm_store_batch_list(p->st[1], NULL, 0, begin_inside, p->st[1], &err));
    OK(aipm_store_begin(p->st[1], &err));
    OK(aipm_store_commit(p->st[1], &err));
}

/* ---- 7. decisions, people, approvals, policies, the audit log ---- */

static void test_records(void **state)
{
    pair *p = need(state);
    /* confidences: none (NAN), a fraction, a subnormal, 0, 1, -0.0 */
    static const double conf[] = {NAN, 0.1, 1e-310, 0.0, 1.0, -0.0};
    static const char *const names[] = {"bob",        "Alice",        "alice",
                                        "Zo\xc3\xab", "\xc3\xa9mile", "_x"};
    aipm_error err;
    rec r[2] = {{0}};
    int b, i;
    int64_t batch, batch2;

    begin_both(p);
    batch = new_batch(p, "events", 1);
    batch2 = new_batch(p, "events", 2);
    for (b = 0; b < 2; b++) {
        for (i = 0; i < (int)N_ELEMS(conf); i++) {
            char id[40];
            aipm_decision_row d;

            snprintf(id, sizeof(id), "dec-%d-%s", i, i % 2 ? T_UTF8 : "x");
            memset(&d, 0, sizeof(d));
            d.id = id;
            d.time_ms = i == 4 ? 10 : 10 + i % 3; /* ties: insertion order */
            d.kind = i % 2 ? "experiment" : "prioritize";
            d.subject = T_QUOTE;
            d.decision = "ship";
            d.inputs = i == 3 ? NULL : "[{\"batch\":1}]";
            d.params = i == 2 ? NULL : "{\"p\":\"" T_BS "\"}";
            d.output_sha256 = "0123abcd";
            d.output = i == 1 ? NULL : "{\"out\":\"" T_NL T_TAB "\"}";
            d.model = i == 0 ? NULL : "model/1";
            d.rationale = i == 5 ? NULL : T_CR;
            d.confidence = conf[i];
            d.code_version = "v0.1-3-gabc";
            d.policy_sha256 = i == 0 ? NULL : "pol";
            OK(aipm_store_decision_put(p->st[b], &d, &err));
            OK(aipm_store_decision_input_put(p->st[b], id, batch, &err));
            OK(aipm_store_decision_input_put(p->st[b], id, batch, &err));
        }
        OK(aipm_store_decision_set_status(p->st[b], "dec-2-x", "approved",
                                          &err));
        assert_int_equal(RC(aipm_store_decision_set_status(p->st[b], "nope",
                                                           "approved", &err)),
                         AIPM_ENOTFOUND);

        for (i = 0; i < (int)N_ELEMS(names); i++) {
            aipm_user_row u = {names[i], i % 2 ? "approver" : "viewer",
                               i % 3 ? "aipm+key+" T_UTF8 : NULL, 1000 + i};

            OK(aipm_store_user_put(p->st[b], &u, &err));
        }
        {
            aipm_user_row u = {"bob", "admin", "k2", 5000}; /* replaced */

            OK(aipm_store_user_put(p->st[b], &u, &err));
        }
        for (i = 0; i < 4; i++) {
            aipm_approval_row a = {20 + i,
                                   i % 2 ? "dec-1-" T_UTF8 : "dec-2-x",
                                   i == 3 ? "override" : "approve",
                                   names[i],
                                   2000 + i,
                                   T_TAB,
                                   i == 3 ? "{\"v\":1}" : NULL,
                                   "I approve\n" T_UTF8,
                                   "c2lnbmF0dXJl"};

            OK(aipm_store_approval_put(p->st[b], &a, &err));
        }
        for (i = 0; i < 3; i++) {
            aipm_policy_row pv = {30 + i,
                                  3000 + i,
                                  i ? "sha-b" : "sha-a",
                                  "{\"max\":\"" T_BS "\"}",
                                  names[i],
                                  i == 1 ? "" : T_NL};

            OK(aipm_store_policy_put(p->st[b], &pv, &err));
        }
        for (i = 0; i < 3; i++) {
            char id[40];
            aipm_run_row run = {id,
                                "aipm.ingest",
                                i ? "COMPLETE" : "FAIL",
                                500 - (i == 2) * 100,
                                600,
                                "[\"" T_BS "\"]",
                                "[]",
                                i == 1 ? NULL : "{\"f\":\"" T_UTF8 "\"}"};

            snprintf(id, sizeof(id), "0000-%d", i);
            OK(aipm_store_run_put(p->st[b], &run, &err));
        }
        OK(aipm_store_link_put(p->st[b], "f1", "item-1", 0, "ann", 10, &err));
        OK(aipm_store_link_put(p->st[b], "f1", "item-2", 0, "ann", 11, &err));
        OK(aipm_store_link_put(p->st[b], "f1", "item-1", 1, "bob", 12, &err));
        OK(aipm_store_link_put(p->st[b], "f2", "item-3", 1, "bob", 12, &err));
        OK(aipm_store_link_put(p->st[b], "f3", T_UTF8, 0, "bob", 9, &err));
        OK(aipm_store_schema_put(p->st[b], "Clicked", "plan", "string", 1,
                                 batch, &err));
        OK(aipm_store_schema_put(p->st[b], "Clicked", "plan", "number", 2,
                                 batch2, &err));
        OK(aipm_store_volume_put(p->st[b], "events", 19000, batch, 7, &err));
        OK(aipm_store_volume_put(p->st[b], "events", 19001, batch, 4, &err));
    }
    commit_both(p);
    assert_int_equal(set_status(p, batch, "accepted"), AIPM_OK);
    assert_int_equal(set_status(p, batch2, "accepted"), AIPM_OK);

    for (b = 0; b < 2; b++) {
        aipm_decision_filter all = {NULL, NULL, NULL, 1},
                             some = {NULL, "experiment", "proposed", 0},
                             one = {"dec-2-x", NULL, NULL, 1};

        OK(aipm_store_decision_list(p->st[b], &all, on_decision, &r[b], &err));
        OK(aipm_store_decision_list(p->st[b], &some, on_decision, &r[b], &err));
        OK(aipm_store_decision_list(p->st[b], &one, on_decision, &r[b], &err));
        OK(aipm_store_decision_list(p->st[b], NULL, on_decision, &r[b], &err));
    }
    assert_int_equal(r[0].rows, 6 + 3 + 1 + 6);
    assert_non_null(strstr(r[0].p, "|nan|")); /* confidence NAN */
    same(r, "decisions");
    recs_free(r);
    for (b = 0; b < 2; b++)
        OK(aipm_store_decisions_reading(p->st[b], batch, on_ref, &r[b], &err));
    assert_int_equal(r[0].rows, 6);
    same(r, "decisions reading a batch");
    recs_free(r);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_user_list(p->st[b], NULL, on_user, &r[b], &err));
        OK(aipm_store_user_list(p->st[b], "bob", on_user, &r[b], &err));
    }
    assert_int_equal(r[0].rows, 7);
    assert_int_equal(strncmp(r[0].p, "s5:Alice|", 9), 0); /* byte order */
    same(r, "users");
    recs_free(r);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_approval_list(p->st[b], NULL, on_approval, &r[b], &err));
        OK(aipm_store_approval_list(p->st[b], "dec-2-x", on_approval, &r[b],
                                    &err));
    }
    assert_int_equal(r[0].rows, 6);
    same(r, "approvals");
    recs_free(r);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_policy_list(p->st[b], 0, on_policy, &r[b], &err));
        OK(aipm_store_policy_list(p->st[b], 1, on_policy, &r[b], &err));
    }
    assert_int_equal(r[0].rows, 4);
    same(r, "policy versions");
    recs_free(r);
    for (b = 0; b < 2; b++)
        OK(aipm_store_run_list(p->st[b], on_run, &r[b], &err));
    same(r, "runs");
    recs_free(r);
    for (b = 0; b < 2; b++)
        OK(aipm_store_link_list(p->st[b], on_link, &r[b], &err));
    same(r, "link corrections");
    recs_free(r);
    for (b = 0; b < 2; b++)
        OK(aipm_store_schema_load(p->st[b], on_schema, &r[b], &err));
    assert_int_equal(r[0].rows, 1);
    same(r, "learned schema");
    recs_free(r);
    {
        double mean[2];
        int64_t days[2];

        for (b = 0; b < 2; b++)
            OK(aipm_store_volume_mean(p->st[b], "events", 18000, 20000,
                                      &mean[b], &days[b], &err));
        assert_int_equal(days[0], 2);
        assert_int_equal(days[1], days[0]);
        assert_true(mean[0] == 5.5 && mean[1] == mean[0]);
    }

    /* the audit log and its frontier */
    fill_audit(p, 3);
    for (b = 0; b < 2; b++)
        OK(aipm_store_audit_list(p->st[b], on_audit, &r[b], &err));
    same(r, "audit rows");
    recs_free(r);
    for (b = 0; b < 2; b++) {
        static const uint8_t nodes1[] = {0, 1, 2, 0xff, 0};
        uint8_t nodes2[96], buf[128];
        int64_t size = -1;
        size_t len = 0;
        int found = 9, j;

        for (j = 0; j < 96; j++)
            nodes2[j] = (uint8_t)(j * 7);
        OK(aipm_store_audit_frontier_get(p->st[b], &size, buf, sizeof(buf),
                                         &len, &found, &err));
        assert_int_equal(found, 0);
        OK(aipm_store_begin(p->st[b], &err));
        OK(aipm_store_audit_frontier_put(p->st[b], 3, nodes1, sizeof(nodes1),
                                         &err));
        OK(aipm_store_audit_frontier_put(p->st[b], 6, nodes2, sizeof(nodes2),
                                         &err));
        OK(aipm_store_commit(p->st[b], &err));
        OK(aipm_store_audit_frontier_get(p->st[b], &size, buf, sizeof(buf),
                                         &len, &found, &err));
        assert_int_equal(found, 1);
        rec_int(&r[b], size);
        rec_mem(&r[b], buf, len);
        rec_end(&r[b]);
        /* too big for the caller's buffer: not found */
        found = 9;
        OK(aipm_store_audit_frontier_get(p->st[b], &size, buf, 95, &len, &found,
                                         &err));
        assert_int_equal(found, 0);
    }
    same(r, "audit frontier");
    assert_int_equal(r[0].len, strlen("i6|b96:|\n") + 96);
    recs_free(r);
}

/* ---- 8. the write lock (PostgreSQL; SQLite has its own tests) ---- */

static void test_write_lock(void **state)
{
    pair *p = need(state);
    static const char pw[] = "Lock-pw-77";
    aipm_error err;
    aipm_store *other = NULL, *third = NULL;
    char url[600];
    struct timespec t0, t1;
    double waited;
    int rc, rc_sq;

    aipm_store_set_wait(0, NULL, NULL);
    /* a second connection, with a password the message must not show */
    with_password(url, sizeof(url), p->url, pw, strrchr(p->url, '/') + 1);
    OK(aipm_store_open(&other, url, 0, &err));
    OK(aipm_store_begin(p->st[1], &err));
    rc = RC(aipm_store_begin(other, &err));
    assert_int_not_equal(rc, AIPM_OK);
    one_line(err.msg);
    assert_non_null(strstr(err.msg, "locked"));
    assert_null(strstr(err.msg, pw));
    assert_int_equal(aipm_store_in_transaction(other), 0);

    /* a store opened while another connection writes: as on SQLite */
    OK(aipm_store_begin(p->st[0], &err));
    rc_sq = RC(aipm_store_open(&third, p->path, 0, &err));
    aipm_store_close(third);
    aipm_store_rollback(p->st[0]);
    third = NULL;
    rc = RC(aipm_store_open(&third, url, 0, &err));
    aipm_store_close(third);
    if (rc != rc_sq)
        fail_msg("opening a store while another connection writes: "
                 "sqlite %d, postgresql %d (%s)",
                 rc_sq, rc, err.msg);

    /* waiting a bounded time: the wait runs out, the same message */
    aipm_store_set_wait(0.5, NULL, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = RC(aipm_store_begin(other, &err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    waited = (double)(t1.tv_sec - t0.tv_sec) +
             (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_int_not_equal(rc, AIPM_OK);
    one_line(err.msg);
    assert_non_null(strstr(err.msg, "locked"));
    assert_null(strstr(err.msg, pw));
    assert_true(waited >= 0.4);
    aipm_store_set_wait(0, NULL, NULL);

    /* released by the first's commit: the second writes */
    OK(aipm_store_commit(p->st[1], &err));
    OK(aipm_store_begin(other, &err));
    assert_int_equal(aipm_store_in_transaction(other), 1);
    rc = RC(aipm_store_begin(p->st[1], &err));
    assert_int_not_equal(rc, AIPM_OK);
    aipm_store_rollback(other);
    OK(aipm_store_begin(p->st[1], &err));
    aipm_store_rollback(p->st[1]);
    aipm_store_close(other);
    aipm_store_set_wait(-1, NULL, NULL);
}

/* ---- 9. read-only ---- */

static void test_readonly(void **state)
{
    pair *p = need(state);
    aipm_error err;
    rec r[2] = {{0}};
    int64_t batch;
    int b;

    begin_both(p);
    batch = new_batch(p, "backlog", 1);
    put_backlog(p, batch, (const char *const[]){"b1", "b2"}, 2, 1);
    commit_both(p);
    assert_int_equal(set_status(p, batch, "accepted"), AIPM_OK);

    reopen(p, AIPM_STORE_READONLY);
    /* reads work */
    same_count(p, "backlog", 2);
    same_batches(p, "batches read-only");
    same_digests(p, "backlog", 0, "digests read-only");
    for (b = 0; b < 2; b++)
        OK(aipm_store_backlog_texts(p->st[b], on_backlog_text, &r[b], &err));
    assert_int_equal(r[0].rows, 2);
    same(r, "backlog texts read-only");
    recs_free(r);
    /* a write fails, with a message; the store is unchanged */
    for (b = 0; b < 2; b++) {
        aipm_user_row u = {"eve", "admin", NULL, 1};
        int rc = RC(aipm_store_begin(p->st[b], &err));

        if (rc == AIPM_OK) {
            rc = RC(aipm_store_user_put(p->st[b], &u, &err));
            aipm_store_rollback(p->st[b]);
        }
        if (rc == AIPM_OK)
            fail_msg("%s: a write on a read-only store succeeded", backend[b]);
        one_line(err.msg);
        OK(aipm_store_user_list(p->st[b], NULL, on_user, &r[b], &err));
        assert_int_equal(r[b].rows, 0);
    }
    recs_free(r);
    /* every kind of write fails the same way: a batch, events (COPY on
     * PostgreSQL), a CSV row, a decision */
    for (b = 0; b < 2; b++) {
        aipm_event_row row = {"e1", "track", "u", NULL, "x", NULL, 1, "{}", 2};
        aipm_decision_row d = {"d1", 1,    "k",  "s",  "d", NULL, NULL, "sha",
                               NULL, NULL, NULL, NULL, NAN, NULL, NULL};
        unsigned char ins = 9;
        int64_t id = 0;
        int k, rc;

        for (k = 0; k < 4; k++) {
            if (k == 0)
                rc = RC(aipm_store_batch_new(p->st[b], &id, "events", "s", "x",
                                             NULL, 1, &err));
            else if (k == 1)
                rc = RC(aipm_store_event_put_many(p->st[b], batch, &row, 1,
                                                  &ins, &err));
            else if (k == 2)
                rc = RC(aipm_store_decision_put(p->st[b], &d, &err));
            else
                put_backlog_one(p->st[b], batch, &rc, &err);
            assert_int_equal(rc, AIPM_EIO);
            one_line(err.msg);
            assert_non_null(strstr(err.msg, "read-only"));
        }
    }
    /* and reads still work afterwards */
    same_count(p, "backlog", 2);
}

/* ---- 10. the model registry: versions, aliases and their moves ---- */

static void rec_model(rec *r, const aipm_model_row *m)
{
    rec_str(r, m->name);
    rec_int(r, m->version);
    rec_int(r, m->seq);
    rec_int(r, m->time_ms);
    rec_str(r, m->actor);
    rec_str(r, m->artifact_sha256);
    rec_str(r, m->artifact);
    rec_str(r, m->card);
    rec_end(r);
}

static int on_model(void *ctx, const aipm_model_row *m)
{
    rec_model(ctx, m);
    return 0;
}

static void rec_move(rec *r, const aipm_alias_move_row *mv)
{
    rec_int(r, mv->seq);
    rec_str(r, mv->name);
    rec_str(r, mv->alias);
    rec_int(r, mv->from_version);
    rec_int(r, mv->to_version);
    rec_int(r, mv->time_ms);
    rec_str(r, mv->actor);
    rec_str(r, mv->reason);
    rec_end(r);
}

static int on_move(void *ctx, const aipm_alias_move_row *mv)
{
    rec_move(ctx, mv);
    return 0;
}

/* What a read returned (got) is exactly the rows put (want). */
static void want_rec(const rec *want, const rec *got, const char *what,
                     const char *name)
{
    assert_int_equal(got->rows, want->rows);
    if (got->len != want->len || memcmp(got->p, want->p, want->len) != 0)
        fail_msg("%s on %s: not the rows put:\n%s\nwant:\n%s", what, name,
                 got->p ? got->p : "", want->p ? want->p : "");
}

/* Two versions of "value" and one of "Winrate" (put last, listed first:
 * byte order, 'W' 0x57 < 'v' 0x76, in any database collation), read back
 * whole and filtered; "production" of "value" moved to 1, to 2 and
 * removed, with alias_get after each move; a move of "Winrate" logged
 * with an earlier seq, listed first. The reference is the rows put. */
static void test_models(void **state)
{
    static const aipm_model_row models[] = {
        {"value", 2, 11, 2000, "bob", "sha-v2", "{\"w\":[2,\"" T_BS "\"]}",
         "{\"card\":\"" T_UTF8 "\"}"},
        {"value", 1, 10, 1000, "ann", "sha-v1", "{\"w\":[1]}",
         "{\"card\":\"" T_NL T_TAB "\"}"},
        {"Winrate", 1, 12, 3000, "ann", "sha-w1", "{}",
         "{\"q\":\"" T_QUOTE "\"}"},
    };
    static const aipm_alias_move_row moves[] = {
        {20, "value", "production", 0, 1, 4000, "ann", "first " T_UTF8},
        {21, "value", "production", 1, 2, 5000, "bob", T_CR},
        {22, "value", "production", 2, 0, 6000, "ann", ""},
        {5, "Winrate", "candidate", 0, 1, 7000, "bob", "early seq"},
    };
    static const int64_t after[] = {1, 2, 0, 1}; /* alias_get, each move */
    pair *p = need(state);
    aipm_error err;
    rec r[2] = {{0}}, want = {0};
    int64_t v[2];
    size_t i;
    int b;

    for (b = 0; b < 2; b++) {
        OK(aipm_store_alias_get(p->st[b], "value", "production", &v[b], &err));
        assert_int_equal(v[b], 0); /* never set */
        OK(aipm_store_begin(p->st[b], &err));
        for (i = 0; i < N_ELEMS(models); i++)
            OK(aipm_store_model_put(p->st[b], &models[i], &err));
        OK(aipm_store_commit(p->st[b], &err));
    }
    reopen(p, 0);

    /* every model: by name (byte order), then version */
    rec_model(&want, &models[2]);
    rec_model(&want, &models[1]);
    rec_model(&want, &models[0]);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_model_list(p->st[b], NULL, 0, on_model, &r[b], &err));
        want_rec(&want, &r[b], "every model", backend[b]);
    }
    same(r, "every model");
    recs_free(r);
    rec_free(&want);
    /* by name */
    rec_model(&want, &models[1]);
    rec_model(&want, &models[0]);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_model_list(p->st[b], "value", 0, on_model, &r[b], &err));
        want_rec(&want, &r[b], "models by name", backend[b]);
    }
    same(r, "models by name");
    recs_free(r);
    rec_free(&want);
    /* by version, any name */
    rec_model(&want, &models[0]);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_model_list(p->st[b], NULL, 2, on_model, &r[b], &err));
        want_rec(&want, &r[b], "models by version", backend[b]);
    }
    same(r, "models by version");
    recs_free(r);
    rec_free(&want);
    /* by name and version; an unknown name: nothing */
    rec_model(&want, &models[1]);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_model_list(p->st[b], "value", 1, on_model, &r[b], &err));
        OK(aipm_store_model_list(p->st[b], "nope", 0, on_model, &r[b], &err));
        want_rec(&want, &r[b], "models by name and version", backend[b]);
    }
    same(r, "models by name and version");
    recs_free(r);
    rec_free(&want);

    /* the moves, each in a transaction of its own, read back after each */
    for (i = 0; i < N_ELEMS(moves); i++) {
        for (b = 0; b < 2; b++) {
            OK(aipm_store_begin(p->st[b], &err));
            OK(aipm_store_alias_move(p->st[b], &moves[i], &err));
            OK(aipm_store_commit(p->st[b], &err));
            OK(aipm_store_alias_get(p->st[b], moves[i].name, moves[i].alias,
                                    &v[b], &err));
            assert_int_equal(v[b], after[i]);
        }
    }
    reopen(p, 0);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_alias_get(p->st[b], "value", "production", &v[b], &err));
        assert_int_equal(v[b], 0); /* removed */
        OK(aipm_store_alias_get(p->st[b], "Winrate", "candidate", &v[b], &err));
        assert_int_equal(v[b], 1);
        OK(aipm_store_alias_get(p->st[b], "value", "candidate", &v[b], &err));
        assert_int_equal(v[b], 0); /* another model's alias */
    }
    /* the log, by seq: Winrate's (seq 5) first */
    rec_move(&want, &moves[3]);
    for (i = 0; i < 3; i++)
        rec_move(&want, &moves[i]);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_alias_moves(p->st[b], NULL, on_move, &r[b], &err));
        want_rec(&want, &r[b], "every alias move", backend[b]);
    }
    same(r, "every alias move");
    recs_free(r);
    rec_free(&want);
    for (i = 0; i < 3; i++)
        rec_move(&want, &moves[i]);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_alias_moves(p->st[b], "value", on_move, &r[b], &err));
        want_rec(&want, &r[b], "alias moves by name", backend[b]);
    }
    same(r, "alias moves by name");
    recs_free(r);
    rec_free(&want);
}

/* ---- 11. the API tokens ---- */

static void rec_token(rec *r, const aipm_token_row *t)
{
    rec_int(r, t->id);
    rec_str(r, t->user);
    rec_str(r, t->name);
    rec_str(r, t->token_sha256);
    rec_str(r, t->hint);
    rec_int(r, t->created_ms);
    rec_str(r, t->created_by);
    rec_int(r, t->revoked_ms);
    rec_str(r, t->revoked_by);
    rec_str(r, t->revoke_reason);
    rec_end(r);
}

static int on_token(void *ctx, const aipm_token_row *t)
{
    rec_token(ctx, t);
    return 0;
}

/* Three tokens (bob's two, "Ann"'s one: byte order does not matter, the
 * lists are by id), one rolled back (its id is used again: no gap), one
 * revoked; each read back by id order, by user, by digest, and the
 * revoke's refusals; both backends give the rows put. */
static void test_tokens(void **state)
{
    static const aipm_token_row tokens[] = {
        {0, "bob", "default", "sha-1", "aipm_AAAA", NULL, NULL, NULL, 1000, 0},
        {0, "Ann", "ci " T_UTF8, "sha-2", "aipm_BBBB", "alice", NULL, NULL,
         2000, 0},
        {0, "bob", "laptop" T_QUOTE, "sha-3", "aipm_CCCC", "bob", NULL, NULL,
         3000, 0},
    };
    static const aipm_token_row rolled_back = {
        0, "bob", "gone", "sha-x", "aipm_XXXX", NULL, NULL, NULL, 1500, 0};
    pair *p = need(state);
    aipm_error err;
    rec r[2] = {{0}}, want = {0};
    aipm_token_row t;
    int64_t id[2];
    size_t i;
    int b;

    for (b = 0; b < 2; b++) {
        OK(aipm_store_begin(p->st[b], &err));
        OK(aipm_store_token_put(p->st[b], &tokens[0], &id[b], &err));
        assert_int_equal(id[b], 1);
        OK(aipm_store_commit(p->st[b], &err));
        OK(aipm_store_begin(p->st[b], &err));
        OK(aipm_store_token_put(p->st[b], &rolled_back, &id[b], &err));
        assert_int_equal(id[b], 2);
        aipm_store_rollback(p->st[b]);
        OK(aipm_store_begin(p->st[b], &err));
        for (i = 1; i < N_ELEMS(tokens); i++) {
            OK(aipm_store_token_put(p->st[b], &tokens[i], &id[b], &err));
            assert_int_equal(id[b], (int64_t)i + 1);
        }
        OK(aipm_store_commit(p->st[b], &err));
        /* a digest is stored once */
        OK(aipm_store_begin(p->st[b], &err));
        assert_int_not_equal(
            RC(aipm_store_token_put(p->st[b], &tokens[1], &id[b], &err)),
            AIPM_OK);
        aipm_store_rollback(p->st[b]);
        /* revoke the second; again, and an unknown id, refused */
        OK(aipm_store_begin(p->st[b], &err));
        OK(aipm_store_token_revoke(p->st[b], 2, 9000, "alice", "leaked " T_NL,
                                   &err));
        OK(aipm_store_commit(p->st[b], &err));
        assert_int_equal(
            RC(aipm_store_token_revoke(p->st[b], 2, 9001, "x", "y", &err)),
            AIPM_EINVALID);
        assert_int_equal(
            RC(aipm_store_token_revoke(p->st[b], 7, 9001, "x", "y", &err)),
            AIPM_ENOTFOUND);
    }
    reopen(p, 0);

    /* every token, by id */
    for (i = 0; i < N_ELEMS(tokens); i++) {
        t = tokens[i];
        t.id = (int64_t)i + 1;
        if (i == 1) {
            t.revoked_ms = 9000;
            t.revoked_by = "alice";
            t.revoke_reason = "leaked " T_NL;
        }
        rec_token(&want, &t);
    }
    for (b = 0; b < 2; b++) {
        OK(aipm_store_token_list(p->st[b], NULL, on_token, &r[b], &err));
        want_rec(&want, &r[b], "every token", backend[b]);
    }
    same(r, "every token");
    recs_free(r);
    rec_free(&want);

    /* bob's, by id */
    t = tokens[0];
    t.id = 1;
    rec_token(&want, &t);
    t = tokens[2];
    t.id = 3;
    rec_token(&want, &t);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_token_list(p->st[b], "bob", on_token, &r[b], &err));
        OK(aipm_store_token_list(p->st[b], "nobody", on_token, &r[b], &err));
        want_rec(&want, &r[b], "tokens by user", backend[b]);
    }
    same(r, "tokens by user");
    recs_free(r);
    rec_free(&want);

    /* by digest: one row, or none */
    t = tokens[2];
    t.id = 3;
    rec_token(&want, &t);
    for (b = 0; b < 2; b++) {
        OK(aipm_store_token_find(p->st[b], "sha-3", on_token, &r[b], &err));
        OK(aipm_store_token_find(p->st[b], "sha-x", on_token, &r[b], &err));
        want_rec(&want, &r[b], "token by digest", backend[b]);
    }
    same(r, "token by digest");
    recs_free(r);
    rec_free(&want);
}

/* The tests that read text back in order, in an ICU database. */
static void test_events_icu(void **state)
{
    test_events(state);
}

static void test_csv_rows_icu(void **state)
{
    test_csv_rows(state);
}

static void test_batch_status_icu(void **state)
{
    test_batch_status(state);
}

static void test_records_icu(void **state)
{
    test_records(state);
}

static void test_models_icu(void **state)
{
    test_models(state);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pair_setup, pair_teardown)
#define ICU(f) cmocka_unit_test_setup_teardown(f, icu_setup, pair_teardown)
    const struct CMUnitTest tests[] = {
        T(test_open),           T(test_events),
        T(test_csv_rows),       T(test_batch_status),
        T(test_big_reads),      T(test_nested_reads),
        T(test_records),        T(test_write_lock),
        T(test_readonly),       ICU(test_events_icu),
        ICU(test_csv_rows_icu), ICU(test_batch_status_icu),
        ICU(test_records_icu),  T(test_models),
        ICU(test_models_icu),   T(test_tokens),
    };
#undef T
#undef ICU

    return cmocka_run_group_tests(tests, NULL, NULL);
}
