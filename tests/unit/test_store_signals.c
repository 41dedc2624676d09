/* test_store_signals.c - unit tests of the prioritizer's push-down reads
 * (store.h, "push-down reads for prioritize (signals)").
 *
 * A fresh store gets a few rows written through the store's own API, in
 * an accepted batch and in a rejected one, and each read is checked
 * against what its header comment says, worked out by hand from those
 * rows: which rows are seen, NAN for empty numbers, the day of a
 * timestamp before 1970, the order the rows come in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <math.h>

#include "aipm/store.h"
#include "testutil.h"

#define DAY 86400000LL

typedef struct fixture {
    char dir[256];
    char db[300];
    aipm_store *st;
} fixture;

/* Rows seen by a callback, flattened to one line of text each. */
typedef struct seen {
    char rows[16][160];
    int n;
} seen;

static void add(seen *s, const char *line)
{
    assert_true(s->n < 16);
    snprintf(s->rows[s->n++], sizeof(s->rows[0]), "%s", line);
}

/* Whether line is one of the rows seen (for reads in no set order). */
static int has(const seen *s, const char *line)
{
    int i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->rows[i], line) == 0)
            return 1;
    return 0;
}

static int64_t new_batch(aipm_store *st, const char *dataset)
{
    aipm_error err = {0};
    int64_t id = 0;

    assert_int_equal(
        aipm_store_batch_new(st, &id, dataset, "test", "", NULL, 0, &err),
        AIPM_OK);
    return id;
}

static void set_status(aipm_store *st, int64_t id, const char *status)
{
    aipm_error err = {0};

    assert_int_equal(aipm_store_batch_set_status(st, id, status, &err),
                     AIPM_OK);
}

/* A backlog row: id, title, area, effort, status, created_at, shipped_at,
 * reach (NULL: empty); the other columns empty. */
static void backlog(aipm_store *st, int64_t batch, const char *id,
                    const char *title, const char *area, const char *effort,
                    const char *reach)
{
    const char *v[12] = {id,     title,     NULL,         area,
                         effort, "shipped", "2026-01-02", "2026-02-03",
                         NULL,   reach,     NULL,         NULL};
    aipm_error err = {0};
    char sha[80];
    int inserted = 0;

    snprintf(sha, sizeof(sha), "%s-%s", id, title);
    assert_int_equal(
        aipm_store_row_put(st, "backlog", batch, id, sha, v, &inserted, &err),
        AIPM_OK);
    assert_int_equal(inserted, 1);
}

static void put_signal(aipm_store *st, int64_t batch, const char *date,
                       const char *value, const char *area)
{
    const char *v[4] = {date, "searches", value, area};
    aipm_error err = {0};
    char sha[80];
    int inserted = 0;

    snprintf(sha, sizeof(sha), "%s-%s-%s", date, value, area ? area : "");
    assert_int_equal(
        aipm_store_row_put(st, "signals", batch, sha, sha, v, &inserted, &err),
        AIPM_OK);
}

/* An event: type, user (NULL: anonymous), event name or group id, time,
 * payload. */
static void event(aipm_store *st, int64_t batch, const char *type,
                  const char *user, const char *name, int64_t ts,
                  const char *payload)
{
    static int seq;
    aipm_event_row row;
    aipm_error err = {0};
    char id[32];
    int inserted = 0;

    snprintf(id, sizeof(id), "m%d", ++seq);
    memset(&row, 0, sizeof(row));
    row.message_id = id;
    row.type = type;
    row.user_id = user;
    row.anonymous_id = user ? NULL : "anon";
    if (strcmp(type, "group") == 0)
        row.group_id = name;
    else
        row.event = name;
    row.ts_ms = ts;
    row.payload = payload;
    row.payload_len = strlen(payload);
    assert_int_equal(aipm_store_event_put(st, batch, &row, &inserted, &err),
                     AIPM_OK);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    aipm_error err = {0};
    int64_t ok, no, ev;

    if (f == NULL || tu_mkdtemp(f->dir, sizeof(f->dir)) == NULL)
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/aipm.db", f->dir);
    if (aipm_store_open(&f->st, f->db, AIPM_STORE_CREATE, &err) != AIPM_OK ||
        aipm_store_begin(f->st, &err) != AIPM_OK)
        return -1;
    ok = new_batch(f->st, "backlog");
    backlog(f->st, ok, "BL-1", "old title", "search", "2.5", "3");
    backlog(f->st, ok, "BL-2", "two", NULL, "1", NULL);
    backlog(f->st, ok, "BL-1", "new title", "search", "4", "5");
    set_status(f->st, ok, "accepted");
    no = new_batch(f->st, "backlog");
    backlog(f->st, no, "BL-3", "rejected", "x", "1", "1");
    set_status(f->st, no, "rejected");

    ok = new_batch(f->st, "signals");
    put_signal(f->st, ok, "2026-01-01", "10", "search");
    put_signal(f->st, ok, "2026-01-02", "12", NULL);
    set_status(f->st, ok, "accepted");

    ev = new_batch(f->st, "events");
    /* Day 0: u1, u2, and u3 at -1 ms, which is day 0 too (truncated
     * toward zero); day 1: u1 twice; day 2: an anonymous event only. */
    event(f->st, ev, "track", "u1", "open", 1000, "{\"item_id\":\"BL-1\"}");
    event(f->st, ev, "track", "u2", "open", 2000, "{\"item_id\":\"BL-1\"}");
    event(f->st, ev, "track", "u3", "share", -1, "{}");
    event(f->st, ev, "track", "u1", "open", DAY + 5, "{\"item_id\":7}");
    event(f->st, ev, "track", "u1", "share", DAY + 6,
          "{\"item_id\":null,\"x\":{\"item_id\":\"BL-2\"}}");
    event(f->st, ev, "track", NULL, "open", 2 * DAY, "{\"item_id\":\"BL-1\"}");
    /* Accounts: acct-b's newest trait before 10 days is its string ARR;
     * acct-a has no arr. A later event of acct-b is after the cut. */
    event(f->st, ev, "group", "u1", "acct-b", 3 * DAY,
          "{\"arr\":100,\"plan\":\"pro\"}");
    event(f->st, ev, "group", "u1", "acct-b", 4 * DAY,
          "{\"arr\":\" 5000\",\"plan\":\"enterprise\"}");
    event(f->st, ev, "group", "u2", "acct-a", 4 * DAY, "{\"plan\":1}");
    event(f->st, ev, "group", "u1", "acct-b", 20 * DAY, "{\"arr\":1}");
    set_status(f->st, ev, "accepted");
    if (aipm_store_commit(f->st, &err) != AIPM_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    aipm_store_close(f->st);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

static int item_cb(void *ctx, const aipm_backlog_item *r)
{
    char line[160];

    snprintf(line, sizeof(line), "%s|%s|%s|%g|%s|%s|%g|%d", r->id, r->title,
             r->area ? r->area : "(null)", r->effort, r->created_at,
             r->shipped_at, r->reach, isnan(r->impact) ? 1 : 0);
    add(ctx, line);
    return 0;
}

/* The newest accepted row of each id, in the order stored: BL-2 was
 * stored before BL-1's second version; BL-3's batch is rejected. */
static void test_backlog_items(void **state)
{
    fixture *f = *state;
    aipm_error err = {0};
    seen s = {0};

    assert_int_equal(aipm_store_backlog_items(f->st, item_cb, &s, &err),
                     AIPM_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.rows[0],
                        "BL-2|two|(null)|1|2026-01-02|2026-02-03|nan|1");
    assert_string_equal(s.rows[1],
                        "BL-1|new title|search|4|2026-01-02|2026-02-03|5|1");
}

static int users_cb(void *ctx, const aipm_daily_users *r)
{
    char line[160];

    snprintf(line, sizeof(line), "%s|%lld|%lld", r->key ? r->key : "(null)",
             (long long)r->day, (long long)r->users);
    add(ctx, line);
    return 0;
}

/* Days in order; day 2 has no user_id; group events count too. */
static void test_daily_active_users(void **state)
{
    fixture *f = *state;
    aipm_error err = {0};
    seen s = {0};

    assert_int_equal(aipm_store_daily_active_users(f->st, users_cb, &s, &err),
                     AIPM_OK);
    assert_int_equal(s.n, 5);
    assert_string_equal(s.rows[0], "(null)|0|3");
    assert_string_equal(s.rows[1], "(null)|1|1");
    assert_string_equal(s.rows[2], "(null)|3|1");
    assert_string_equal(s.rows[3], "(null)|4|2");
    assert_string_equal(s.rows[4], "(null)|20|1");
}

/* "both" labels open and share: day 0 has u1, u2 (open) and u3 (share);
 * a repeated pair counts once; a NULL event is ignored. */
static void test_event_daily_users(void **state)
{
    fixture *f = *state;
    const char *events[] = {"open", "share", "open", "share", NULL};
    const char *labels[] = {"both", "both", "opens", "both", "none"};
    aipm_error err = {0};
    seen s = {0};

    assert_int_equal(aipm_store_event_daily_users(f->st, events, labels, 5,
                                                  users_cb, &s, &err),
                     AIPM_OK);
    assert_int_equal(s.n, 4);
    assert_true(has(&s, "both|0|3"));
    assert_true(has(&s, "both|1|1"));
    assert_true(has(&s, "opens|0|2"));
    assert_true(has(&s, "opens|1|1"));
    s.n = 0;
    assert_int_equal(aipm_store_event_daily_users(f->st, events, labels, 0,
                                                  users_cb, &s, &err),
                     AIPM_OK);
    assert_int_equal(s.n, 0);
}

/* BL-1 on day 0 (u1, u2; the anonymous event is not counted), the number
 * 7 as "7" on day 1; a null and a nested item_id are no item_id. */
static void test_item_daily_users(void **state)
{
    fixture *f = *state;
    aipm_error err = {0};
    seen s = {0};

    assert_int_equal(aipm_store_item_daily_users(f->st, users_cb, &s, &err),
                     AIPM_OK);
    assert_int_equal(s.n, 2);
    assert_true(has(&s, "BL-1|0|2"));
    assert_true(has(&s, "7|1|1"));
}

static int signal_cb(void *ctx, const aipm_market_signal *r)
{
    char line[160];

    snprintf(line, sizeof(line), "%s|%s|%s|%g", r->area, r->signal, r->date,
             r->value);
    add(ctx, line);
    return 0;
}

static void test_market_signals(void **state)
{
    fixture *f = *state;
    aipm_error err = {0};
    seen s = {0};

    assert_int_equal(aipm_store_market_signals(f->st, signal_cb, &s, &err),
                     AIPM_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.rows[0], "search|searches|2026-01-01|10");
    assert_string_equal(s.rows[1], "|searches|2026-01-02|12");
}

static int account_cb(void *ctx, const aipm_account_arr_plan *r)
{
    char line[160];

    snprintf(line, sizeof(line), "%s|%g|%s|%lld", r->account_id, r->arr,
             r->plan ? r->plan : "(null)", (long long)(r->time_ms / DAY));
    add(ctx, line);
    return 0;
}

/* Before day 10: acct-a (plan 1 as text, no arr), then acct-b with the
 * string " 5000" read as 5000 from its newest event, in id order. */
static void test_account_arr_plan(void **state)
{
    fixture *f = *state;
    aipm_error err = {0};
    seen s = {0};

    assert_int_equal(
        aipm_store_account_arr_plan(f->st, 10 * DAY, account_cb, &s, &err),
        AIPM_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.rows[0], "acct-a|nan|1|4");
    assert_string_equal(s.rows[1], "acct-b|5000|enterprise|4");
}

/* A callback's non-zero return stops the read and is returned. */
static int stop_cb(void *ctx, const aipm_daily_users *r)
{
    (void)r;
    (*(int *)ctx)++;
    return 42;
}

static void test_callback_stops(void **state)
{
    fixture *f = *state;
    aipm_error err = {0};
    int calls = 0;

    assert_int_equal(
        aipm_store_daily_active_users(f->st, stop_cb, &calls, &err), 42);
    assert_int_equal(calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backlog_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daily_active_users, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_event_daily_users, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_item_daily_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_market_signals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_arr_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_stops, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
