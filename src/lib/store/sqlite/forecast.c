/* forecast.c - the adoption forecasts' reads (store.h): the days with
 * events, every user's event times in user order, and each user's
 * segmenting trait, their own or their account's.
 *
 * A trait is a key of the events' payload (the traits object); its JSON
 * path, $."<trait>", is made here, where SQLite's JSON functions read it.
 */
#include "store/sqlite/sqlite_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static const char range_sql[] =
    "SELECT min(v.day), max(v.day) FROM daily_volume v"
    " JOIN batches b ON b.id = v.batch_id"
    " WHERE v.dataset = 'events' AND b." SQ_ACCEPTED;

static const char scan_sql[] =
    "SELECT user_id, ts FROM events WHERE user_id IS NOT NULL"
    " AND batch_id IN (SELECT id FROM batches WHERE " SQ_ACCEPTED ")"
    " ORDER BY user_id";

/* A user's newest identify trait (?1, a JSON path) before ?2 ... */
static const char user_trait_sql[] =
    "SELECT user_id, CAST(json_extract(payload, ?1) AS TEXT), max(ts)"
    " FROM v_events WHERE type = 'identify' AND user_id IS NOT NULL"
    " AND ts < ?2 AND json_extract(payload, ?1) IS NOT NULL GROUP BY user_id";

/* ... else the newest trait, before ?2, of their newest account then. */
static const char account_trait_sql[] =
    "WITH ua AS (SELECT user_id, group_id AS acct, max(ts) FROM v_events"
    "  WHERE type = 'group' AND user_id IS NOT NULL AND group_id IS NOT NULL"
    "  AND ts < ?2 GROUP BY user_id),"
    " at AS (SELECT group_id AS acct,"
    "  CAST(json_extract(payload, ?1) AS TEXT) AS lvl, max(ts) FROM v_events"
    "  WHERE type = 'group' AND ts < ?2"
    "  AND json_extract(payload, ?1) IS NOT NULL GROUP BY group_id)"
    " SELECT ua.user_id, at.lvl FROM ua JOIN at ON at.acct = ua.acct";

int sq_event_day_range(aipm_store *base, int64_t *first_day, int64_t *last_day,
                       int *found, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    *first_day = *last_day = 0;
    *found = 0;
    if (sqlite3_prepare_v2(s->db, range_sql, -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
        sqlite3_column_type(st, 1) != SQLITE_NULL) {
        *first_day = sqlite3_column_int64(st, 0);
        *last_day = sqlite3_column_int64(st, 1);
        *found = 1;
    }
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? AIPM_OK
                                               : aipm_sqlite__db_error(s, err);
    sqlite3_finalize(st);
    return rc;
}

static int time_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;

    return ((aipm_user_time_cb)r->cb)(r->ctx,
                                      (const char *)sqlite3_column_text(st, 0),
                                      sqlite3_column_int64(st, 1));
}

int sq_user_event_times(aipm_store *base, aipm_user_time_cb cb, void *ctx,
                        aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db, scan_sql, -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    return aipm_sqlite__each_row(
        s, st, time_each, &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

static int value_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;

    return ((aipm_user_value_cb)r->cb)(
        r->ctx, (const char *)sqlite3_column_text(st, 0),
        (const char *)sqlite3_column_text(st, 1));
}

/* Run a trait statement: ?1 the trait's JSON path, ?2 before_ms. */
static int read_traits(sqlite_store *s, const char *sql, const char *trait,
                       int64_t before_ms, aipm_user_value_cb cb, void *ctx,
                       aipm_error *err)
{
    size_t n = strlen(trait);
    char *path = malloc(n + 5);
    sqlite3_stmt *st = NULL;

    if (path == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    memcpy(path, "$.\"", 3);
    memcpy(path + 3, trait, n);
    memcpy(path + 3 + n, "\"", 2);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        free(path);
        return aipm_sqlite__db_error(s, err);
    }
    sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, before_ms);
    free(path);
    return aipm_sqlite__each_row(
        s, st, value_each, &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

int sq_user_traits(aipm_store *base, const char *trait, int64_t before_ms,
                   aipm_user_value_cb cb, void *ctx, aipm_error *err)
{
    return read_traits((sqlite_store *)base, user_trait_sql, trait, before_ms,
                       cb, ctx, err);
}

int sq_account_traits(aipm_store *base, const char *trait, int64_t before_ms,
                      aipm_user_value_cb cb, void *ctx, aipm_error *err)
{
    return read_traits((sqlite_store *)base, account_trait_sql, trait,
                       before_ms, cb, ctx, err);
}
