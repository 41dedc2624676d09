/* test_ch_store.c - unit tests of the ClickHouse events backend: its wire
 * helpers (SQL literals, RowBinary), and, with the ClickHouse test cluster
 * ($AIPM_TEST_CH_DIR, CTest's fixture ch), its experiment and population
 * moments computed in ClickHouse against the SQLite backend's on the same
 * events, so that this C code runs under the sanitizers too.
 *
 * The world: 240 users over 30 days; each views experiment "exp1" (a
 * fifth see both variations: multi-exposed, left out) and does "click"
 * events worth a property `amount` (whole and half numbers, some as JSON
 * strings, some true or absent) and "buy" events with a `plan`. Every value
 * summed is a multiple of 1/2, exact in any order of summation, so the
 * moments must match to the bit. The references are the SQLite backend's
 * statements (sqlite/metrics.c) on a plain store holding the same rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aipm/store.h"
#include "store/ch/ch_int.h"
#include "testutil.h"

#define DAY_MS 86400000LL
#define T0 1767225600000LL /* 2026-01-01 */

/* ---- the wire ---- */

static void test_literal(void **state)
{
    ch_buf b = {0};

    (void)state;
    aipm_ch__lit(&b, "it's a\\b\n'); DROP TABLE x; --");
    assert_string_equal(b.p, "'it\\x27s a\\x5cb\\x0a\\x27\\x29\\x3b DROP TABLE "
                             "x\\x3b --'");
    b.n = 0;
    aipm_ch__lit(&b, NULL);
    assert_string_equal(b.p, "NULL");
    b.n = 0;
    aipm_ch__lit(&b, "caf\xc3\xa9");
    assert_string_equal(b.p, "'caf\\xc3\\xa9'");
    aipm_ch__buf_free(&b);
}

static void test_rowbinary(void **state)
{
    static const size_t lens[] = {0, 1, 127, 128, 300, 16384, 20000};
    ch_buf b = {0};
    char *text = malloc(20000);
    ch_rd r;
    const char *s;
    size_t n, i;
    int64_t v;

    (void)state;
    assert_non_null(text);
    for (i = 0; i < 20000; i++)
        text[i] = (char)('a' + i % 26);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        aipm_ch__rb_str(&b, text, lens[i]);
    aipm_ch__rb_i64(&b, -2);
    aipm_ch__rb_i64(&b, INT64_MIN);
    /* LEB128: 127 is one byte, 128 two (0x80 0x01) */
    assert_int_equal((unsigned char)b.p[0], 0);
    assert_int_equal((unsigned char)b.p[1], 1);
    assert_int_equal((unsigned char)b.p[3], 127);
    assert_int_equal((unsigned char)b.p[4 + 127], 0x80);
    assert_int_equal((unsigned char)b.p[5 + 127], 0x01);
    r.p = (const unsigned char *)b.p;
    r.end = r.p + b.n;
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        assert_int_equal(aipm_ch__get_str(&r, &s, &n), 0);
        assert_int_equal(n, lens[i]);
        assert_memory_equal(s, text, n);
    }
    assert_int_equal(aipm_ch__get_i64(&r, &v), 0);
    assert_int_equal(v, -2);
    assert_int_equal(aipm_ch__get_i64(&r, &v), 0);
    assert_true(v == INT64_MIN);
    assert_true(r.p == r.end);
    /* cut anywhere inside a value: not enough bytes, nothing consumed */
    r.p = (const unsigned char *)b.p + 4 + 127; /* the 128-byte string */
    r.end = r.p + 100;
    assert_int_equal(aipm_ch__get_str(&r, &s, &n), -1);
    r.end = r.p + 1; /* half its length */
    assert_int_equal(aipm_ch__get_str(&r, &s, &n), -1);
    r.end = r.p;
    assert_int_equal(aipm_ch__get_i64(&r, &v), -1);
    aipm_ch__buf_free(&b);
    free(text);
}

/* Rows fed as libcurl hands them over, in pieces of every size from one
 * byte: each row reaches the callback once, whole and in order, and a row
 * cut short at the end stays unparsed. */
typedef struct seen {
    int n;
    int64_t sum; /* of the Int64 column */
    char names[64];
} seen;

static int seen_row(ch_rd *r, void *ctx)
{
    seen *w = ctx;
    const char *s;
    size_t n;
    int64_t v;

    if (aipm_ch__get_str(r, &s, &n) || aipm_ch__get_i64(r, &v))
        return CH_ROW_CUT;
    w->n++;
    w->sum += v;
    if (strlen(w->names) + n < sizeof(w->names))
        strncat(w->names, s, n);
    return v == 99 ? AIPM_EINVALID : 0; /* the callback's error: stop */
}

static void test_rows_in_pieces(void **state)
{
    static const char *const name[] = {"a", "bb", "", "ccc"};
    static const int64_t val[] = {1, -20, 300, 4000};
    ch_buf b = {0};
    size_t piece, at, i;

    (void)state;
    for (i = 0; i < 4; i++) {
        aipm_ch__rb_str(&b, name[i], strlen(name[i]));
        aipm_ch__rb_i64(&b, val[i]);
    }
    aipm_ch__rb_str(&b, "dd", 2); /* a fifth row, its Int64 cut off */
    for (piece = 1; piece <= b.n; piece++) {
        seen w = {0, 0, ""};
        ch_rows rs = {{0}, seen_row, &w, 0};

        for (at = 0; at < b.n; at += piece)
            assert_int_equal(
                aipm_ch__rows_feed(&rs, b.p + at,
                                   b.n - at < piece ? b.n - at : piece),
                0);
        assert_int_equal(w.n, 4);
        assert_true(w.sum == 1 - 20 + 300 + 4000);
        assert_string_equal(w.names, "abbccc");
        assert_int_equal(rs.body.n, 3); /* "dd" with its length byte */
        aipm_ch__buf_free(&rs.body);
    }
    /* A row the callback refuses stops the walk, and later bytes too. */
    {
        seen w = {0, 0, ""};
        ch_rows rs = {{0}, seen_row, &w, 0};
        ch_buf c = {0};

        aipm_ch__rb_str(&c, "x", 1);
        aipm_ch__rb_i64(&c, 99);
        aipm_ch__rb_str(&c, "y", 1);
        aipm_ch__rb_i64(&c, 5);
        assert_int_equal(aipm_ch__rows_feed(&rs, c.p, c.n), AIPM_EINVALID);
        assert_int_equal(aipm_ch__rows_feed(&rs, c.p, c.n), AIPM_EINVALID);
        assert_int_equal(w.n, 1);
        aipm_ch__buf_free(&rs.body);
        aipm_ch__buf_free(&c);
    }
    aipm_ch__buf_free(&b);
}

/* ---- against SQLite, with the test cluster ---- */

typedef struct pair {
    char dir[512];
    aipm_store *st[2]; /* SQLite; SQLite with its events in ClickHouse */
} pair;

static const char *ch_dir(void)
{
    const char *d = getenv("AIPM_TEST_CH_DIR");

    return d && *d ? d : NULL;
}

/* A fresh database on every shard; the events store URL over both. */
static int new_db(char *url, size_t cap)
{
    const char *script = getenv("AIPM_TEST_CH_SERVER");
    char cmd[1024], first[256], path[600], *urls, *p;
    FILE *f;
    int ok;

    if (script == NULL || *script == '\0')
        script = "tests/ch/server.sh";
    snprintf(cmd, sizeof(cmd), "'%s' newdb '%s' unit_%ld", script, ch_dir(),
             (long)getpid());
    if ((f = popen(cmd, "r")) == NULL)
        return -1;
    ok = fgets(first, sizeof(first), f) != NULL;
    if (pclose(f) != 0 || !ok)
        return -1;
    first[strcspn(first, "\r\n")] = '\0';
    snprintf(path, sizeof(path), "%s/urls", ch_dir());
    if ((urls = tu_read(path, NULL)) == NULL)
        return -1;
    for (p = urls; *p; p++)
        if (*p == '\n')
            *p = p[1] ? ',' : '\0';
    snprintf(url, cap, "%s?cluster=aipm&shards=%s", first, urls);
    /* the shards as HOST:PORT */
    while ((p = strstr(url, "http://")) != NULL)
        memmove(p, p + 7, strlen(p + 7) + 1);
    free(urls);
    return 0;
}

static void put_events(aipm_store *st, const aipm_event_row *rows, size_t n)
{
    aipm_error err = {0, ""};
    unsigned char *ins = malloc(n);
    int64_t id;
    size_t i;

    assert_non_null(ins);
    assert_int_equal(aipm_store_begin(st, &err), 0);
    assert_int_equal(
        aipm_store_batch_new(st, &id, "events", "test", "", NULL, T0, &err), 0);
    assert_int_equal(aipm_store_event_put_many(st, id, rows, n, ins, &err), 0);
    for (i = 0; i < n; i++)
        assert_int_equal(ins[i], i + 1 < n ? 1 : 0); /* the last re-sends */
    assert_int_equal(aipm_store_batch_set_status(st, id, "accepted", &err), 0);
    assert_int_equal(aipm_store_commit(st, &err), 0);
    free(ins);
}

/* The world's rows (names and payloads in static storage). */
static aipm_event_row *world(size_t *n_out)
{
    static char ids[4000][16], users[240][12], pay[4000][96];
    aipm_event_row *rows = calloc(4000, sizeof(*rows));
    size_t n = 0;
    int u, k;

    assert_non_null(rows);
    for (u = 0; u < 240; u++) {
        int64_t t = T0 + (u % 20) * DAY_MS + u * 1000;

        snprintf(users[u], sizeof(users[u]), "u%03d", u);
        for (k = 0; k < (u % 5 == 0 ? 2 : 1); k++) {
            snprintf(ids[n], sizeof(ids[n]), "x%d-%d", u, k);
            snprintf(pay[n], sizeof(pay[n]),
                     "{\"experiment_id\":\"exp1\",\"variation_id\":\"%s\"}",
                     (u + k) % 2 ? "b" : "a");
            rows[n] = (aipm_event_row){
                ids[n], "track",       users[u], NULL, "Experiment Viewed",
                NULL,   t + k * 60000, pay[n],   0};
            n++;
        }
        for (k = 0; k < u % 7; k++) {
            int v = k + u % 3;

            snprintf(ids[n], sizeof(ids[n]), "c%d-%d", u, k);
            switch (k % 5) { /* a half, a string, whole, true, absent */
            case 0:
                snprintf(pay[n], sizeof(pay[n]), "{\"amount\":%d.5}", v);
                break;
            case 1:
                snprintf(pay[n], sizeof(pay[n]), "{\"amount\":\"%d\"}", v);
                break;
            case 2:
                snprintf(pay[n], sizeof(pay[n]), "{\"amount\":%d}", v);
                break;
            case 3:
                snprintf(pay[n], sizeof(pay[n]), "{\"amount\":true,\"n\":%d}",
                         v);
                break;
            default:
                snprintf(pay[n], sizeof(pay[n]), "{\"other\":%d}", v);
            }
            rows[n] = (aipm_event_row){ids[n],
                                       "track",
                                       users[u],
                                       NULL,
                                       "click",
                                       NULL,
                                       t + (k - 2) * DAY_MS / 3,
                                       pay[n],
                                       0};
            n++;
        }
        if (u % 3 == 0) {
            snprintf(ids[n], sizeof(ids[n]), "b%d", u);
            snprintf(pay[n], sizeof(pay[n]), "{\"plan\":\"%s\",\"price\":%d}",
                     u % 2 ? "pro" : "free", 10 + u % 4);
            rows[n] =
                (aipm_event_row){ids[n], "track",    users[u], NULL, "buy",
                                 NULL,   t + DAY_MS, pay[n],   0};
            n++;
        }
        snprintf(ids[n], sizeof(ids[n]), "i%d", u);
        rows[n] = (aipm_event_row){
            ids[n],     "identify",           users[u], NULL, NULL, NULL,
            t - DAY_MS, "{\"plan\":\"pro\"}", 0};
        n++;
    }
    rows[n] = rows[0]; /* a re-send: a duplicate on both */
    n++;
    for (k = 0; k < (int)n; k++)
        rows[k].payload_len = rows[k].payload ? strlen(rows[k].payload) : 0;
    *n_out = n;
    return rows;
}

static int setup(void **state)
{
    pair *p;
    char url[1024], path[700], meta[1800];
    aipm_error err = {0, ""};
    aipm_event_row *rows;
    size_t n;
    int b;

    if (ch_dir() == NULL) {
        *state = NULL;
        return 0;
    }
    p = calloc(1, sizeof(*p));
    assert_non_null(p);
    assert_non_null(tu_mkdtemp(p->dir, sizeof(p->dir)));
    assert_int_equal(new_db(url, sizeof(url)), 0);
    snprintf(path, sizeof(path), "%s/plain.db", p->dir);
    snprintf(meta, sizeof(meta), "%s/meta.db#events=%s", p->dir, url);
    assert_int_equal(aipm_store_open(&p->st[0], path, AIPM_STORE_CREATE, &err),
                     0);
    if (aipm_store_open(&p->st[1], meta, AIPM_STORE_CREATE, &err) != 0)
        fail_msg("open %s: %s", meta, err.msg);
    rows = world(&n);
    for (b = 0; b < 2; b++)
        put_events(p->st[b], rows, n);
    free(rows);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    pair *p = *state;

    if (p == NULL)
        return 0;
    aipm_store_close(p->st[0]);
    aipm_store_close(p->st[1]);
    tu_rmtree(p->dir);
    free(p);
    return 0;
}

typedef struct rec {
    char text[4096];
    size_t len;
} rec;

static int on_moments(void *ctx, const char *level, const char *var,
                      const aipm_unit_moments *m)
{
    rec *r = ctx;

    r->len += (size_t)snprintf(r->text + r->len, sizeof(r->text) - r->len,
                               "%s|%s|%a %a %a %a %a %a\n", level ? level : "-",
                               var ? var : "(multi)", m->n, m->sum, m->sum_sq,
                               m->x_sum, m->x_sum_sq, m->xy_sum);
    return 0;
}

static void test_moments(void **state)
{
    pair *p = *state;
    static const char *const clicks[] = {"click"}, *const buys[] = {"buy"},
                             *const both[] = {"click", "buy"};
    aipm_event_measure click = {0, clicks, 1, NULL, NULL, NULL},
                       amount = {0, clicks, 1, "amount", NULL, NULL},
                       any = {1, NULL, 0, NULL, NULL, NULL},
                       pro = {0, buys, 1, "price", "plan", "pro"},
                       two = {0, both, 2, NULL, NULL, NULL};
    struct {
        aipm_event_measure y;
        const aipm_event_measure *x;
        int64_t pre;
        int conversion;
        double cap;
    } shapes[] = {
        {click, NULL, 0, 0, NAN},
        {amount, NULL, 0, 0, NAN},
        {amount, NULL, 7 * DAY_MS, 0, NAN},
        {amount, &two, 0, 0, 3.5},
        {any, NULL, 0, 0, NAN},
        {pro, NULL, 0, 0, NAN},
        {click, NULL, 0, 1, NAN},
        {two, &any, 0, 0, NAN},
    };
    aipm_error err = {0, ""};
    size_t i;
    int b;

    if (p == NULL) {
        skip();
        return;
    }
    for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        aipm_exposure_query q = {"exp1",           T0,
                                 T0 + 40 * DAY_MS, 0,
                                 shapes[i].y,      0,
                                 14 * DAY_MS,      shapes[i].pre,
                                 shapes[i].x,      shapes[i].conversion,
                                 shapes[i].cap};
        rec r[2];
        double qv[2];

        memset(r, 0, sizeof(r));
        for (b = 0; b < 2; b++) {
            if (aipm_store_exposure_moments(p->st[b], &q, NULL, on_moments,
                                            &r[b], &err) != 0)
                fail_msg("shape %zu, store %d: %s", i, b, err.msg);
            if (aipm_store_exposure_quantile(p->st[b], &q, 0.9, &qv[b], &err) !=
                0)
                fail_msg("shape %zu, store %d: %s", i, b, err.msg);
        }
        if (strcmp(r[0].text, r[1].text) != 0)
            fail_msg("shape %zu:\nSQLite:\n%sClickHouse:\n%s", i, r[0].text,
                     r[1].text);
        assert_true(r[0].len > 40); /* two variations and the multi row */
        assert_true(qv[0] == qv[1]);
    }
    for (i = 0; i < 3; i++) {
        const aipm_event_measure *m = i == 0 ? &amount : i == 1 ? &any : &pro;
        aipm_unit_moments o[2];

        for (b = 0; b < 2; b++)
            if (aipm_store_population_moments(p->st[b], m, 0, i == 2,
                                              T0 + 2 * DAY_MS, T0 + 15 * DAY_MS,
                                              &o[b], &err) != 0)
                fail_msg("population %zu, store %d: %s", i, b, err.msg);
        assert_true(o[0].n > 0);
        assert_true(o[0].n == o[1].n && o[0].sum == o[1].sum &&
                    o[0].sum_sq == o[1].sum_sq);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test(test_rowbinary),
        cmocka_unit_test(test_rows_in_pieces),
        cmocka_unit_test_setup_teardown(test_moments, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
