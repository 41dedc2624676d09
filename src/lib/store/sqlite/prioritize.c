/* prioritize.c - the push-down reads of the backlog prioritizer (store.h,
 * "push-down reads for prioritize (signals)").
 *
 * The statements, with the mapping of their columns to typed rows. Each is
 * prepared for its call (they run once or a few times a run) and reads through
 * the v_* views, so it sees the accepted batches only. A number column read as
 * text first, as the old generic rows did, keeps its exact meaning: empty is
 * NAN, anything else is SQLite's conversion to a real.
 */
#include "store/sqlite/sqlite_int.h"

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>

/* The newest accepted version of each backlog item, in the order stored. */
static const char items_sql[] =
    "SELECT id, title, area, feature_key, status, effort, created_at,"
    " shipped_at, reach, impact, confidence FROM v_backlog WHERE rid IN"
    " (SELECT max(rid) FROM v_backlog GROUP BY key) ORDER BY rid";

/* Rows come out in day order: GROUP BY on an expression sorts. */
static const char dau_sql[] =
    "SELECT ts / 86400000, count(DISTINCT user_id) FROM v_events"
    " WHERE user_id IS NOT NULL GROUP BY 1";

/* ?1: [[event, label], ...]. MATERIALIZED makes the pairs one small table
 * the events are joined to, instead of json_each per event row. */
static const char key_users_sql[] =
    "WITH fe(ev, k) AS MATERIALIZED (SELECT json_extract(value, '$[0]'),"
    " json_extract(value, '$[1]') FROM json_each(?1))"
    " SELECT fe.k, e.ts / 86400000, count(DISTINCT e.user_id)"
    " FROM v_events e JOIN fe ON fe.ev = e.event"
    " WHERE e.user_id IS NOT NULL GROUP BY 1, 2";

/* The LIKE skips the JSON parse of every payload without the key. */
static const char item_users_sql[] =
    "SELECT json_extract(payload, '$.item_id'), ts / 86400000,"
    " count(DISTINCT user_id) FROM v_events"
    " WHERE type = 'track' AND user_id IS NOT NULL"
    " AND payload LIKE '%\"item\\_id\"%' ESCAPE '\\' GROUP BY 1, 2";

/* Every version of every row, in the order of the table scan (rid). */
static const char signals_sql[] =
    "SELECT coalesce(area, ''), signal, date, value FROM v_signals";

/* Each account's newest group traits before ?1 (the as-of time): with
 * max(ts), SQLite takes the bare columns from the row that holds it. */
static const char accounts_sql[] =
    "SELECT group_id, json_extract(payload, '$.arr'),"
    " json_extract(payload, '$.plan'), max(ts) FROM v_events"
    " WHERE type = 'group' AND group_id IS NOT NULL AND ts < ?1"
    " GROUP BY group_id";

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* A number column: NAN when NULL or empty text, else its value as a real
 * (a text value converted as SQLite converts text to a number). */
static double num_or_nan(sqlite3_stmt *st, int i)
{
    const char *text = col(st, i);

    return text && *text ? sqlite3_column_double(st, i) : NAN;
}

/* Prepare sql, bind ?1 to *int1 or to text1 (whichever is not NULL; both
 * NULL: the statement has no parameter), and hand each row to fn, which
 * maps it and calls cb with ctx. */
static int run(sqlite_store *s, const char *sql, const int64_t *int1,
               const char *text1, aipm_sqlite__row_fn fn, void (*cb)(void),
               void *ctx, aipm_error *err)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    if (int1)
        sqlite3_bind_int64(st, 1, *int1);
    if (text1)
        aipm_sqlite__bind_text(st, 1, text1);
    return aipm_sqlite__each_row(s, st, fn, &(aipm_sqlite__relay){cb, ctx},
                                 err);
}

static int item_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_backlog_item row;

    row.id = col(st, 0);
    row.title = col(st, 1);
    row.area = col(st, 2);
    row.feature_key = col(st, 3);
    row.status = col(st, 4);
    row.effort = num_or_nan(st, 5);
    row.created_at = col(st, 6);
    row.shipped_at = col(st, 7);
    row.reach = num_or_nan(st, 8);
    row.impact = num_or_nan(st, 9);
    row.confidence = num_or_nan(st, 10);
    return ((aipm_backlog_item_cb)r->cb)(r->ctx, &row);
}

int sq_backlog_items(aipm_store *base, aipm_backlog_item_cb cb, void *ctx,
                     aipm_error *err)
{
    return run((sqlite_store *)base, items_sql, NULL, NULL, item_each,
               (void (*)(void))cb, ctx, err);
}

/* A (key, day, users) row, or (day, users) for a statement without a key
 * column. A NULL key (an item_id that is JSON null, or only nested in the
 * properties) is no key: the row is not reported. */
static int users_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    int k = sqlite3_column_count(st) == 3;
    aipm_daily_users row;

    row.key = k ? col(st, 0) : NULL;
    row.day = sqlite3_column_int64(st, k);
    row.users = sqlite3_column_int64(st, k + 1);
    if (k && row.key == NULL)
        return 0;
    return ((aipm_daily_users_cb)r->cb)(r->ctx, &row);
}

int sq_daily_active_users(aipm_store *base, aipm_daily_users_cb cb, void *ctx,
                          aipm_error *err)
{
    return run((sqlite_store *)base, dau_sql, NULL, NULL, users_each,
               (void (*)(void))cb, ctx, err);
}

int sq_event_daily_users(aipm_store *base, const char *const *events,
                         const char *const *labels, int n,
                         aipm_daily_users_cb cb, void *ctx, aipm_error *err)
{
    char *pairs = aipm_store__label_pairs_json(events, labels, n);
    int rc;

    if (pairs == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    rc = run((sqlite_store *)base, key_users_sql, NULL, pairs, users_each,
             (void (*)(void))cb, ctx, err);
    free(pairs);
    return rc;
}

int sq_item_daily_users(aipm_store *base, aipm_daily_users_cb cb, void *ctx,
                        aipm_error *err)
{
    return run((sqlite_store *)base, item_users_sql, NULL, NULL, users_each,
               (void (*)(void))cb, ctx, err);
}

static int signal_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_market_signal row;

    row.area = col(st, 0);
    row.signal = col(st, 1);
    row.date = col(st, 2);
    row.value = num_or_nan(st, 3);
    return ((aipm_market_signal_cb)r->cb)(r->ctx, &row);
}

int sq_market_signals(aipm_store *base, aipm_market_signal_cb cb, void *ctx,
                      aipm_error *err)
{
    return run((sqlite_store *)base, signals_sql, NULL, NULL, signal_each,
               (void (*)(void))cb, ctx, err);
}

static int account_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_account_arr_plan row;

    row.account_id = col(st, 0);
    row.arr = num_or_nan(st, 1);
    row.plan = col(st, 2);
    row.time_ms = sqlite3_column_int64(st, 3);
    return ((aipm_account_arr_plan_cb)r->cb)(r->ctx, &row);
}

int sq_account_arr_plan(aipm_store *base, int64_t before_ms,
                        aipm_account_arr_plan_cb cb, void *ctx, aipm_error *err)
{
    return run((sqlite_store *)base, accounts_sql, &before_ms, NULL,
               account_each, (void (*)(void))cb, ctx, err);
}
