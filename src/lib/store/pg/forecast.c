/* forecast.c - the adoption forecasts' reads (store.h) in PostgreSQL's
 * dialect: the days with events, every user's event times in user order,
 * and each user's segmenting trait, their own or their account's;
 * statement for statement the SQLite backend's (sqlite/forecast.c).
 *
 * A trait is a key of the events' payload, bound by name. Where SQLite
 * takes the bare column beside max(ts) (the newest row), this takes
 * DISTINCT ON (...) ORDER BY ts DESC, rid: ties go to the row stored
 * first (the contract leaves ties open).
 *
 * The trait's text is, by contract, SQLite's CAST(json_extract(...) AS
 * TEXT): numbers in SQLite's own format, true "1", objects and arrays as
 * SQLite renders them. The statements read the value with the json type
 * (not jsonb, which would respell numbers and reorder keys), as the text
 * it has in the payload; a string without escapes, nearly every trait, is
 * that text without its quotes, and any other value is handed to SQLite's
 * JSON functions in an in-memory database, so that it prints exactly as
 * the reference does. One difference is left: of a key given twice in one
 * object, PostgreSQL reads the last and SQLite the first.
 */
#include "store/pg/pg_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define RELAY(cb, ctx) (&(aipm_pg__relay){(void (*)(void))(cb), (ctx)})

static const char range_sql[] =
    "SELECT min(v.day), max(v.day) FROM daily_volume v"
    " JOIN batches b ON b.id = v.batch_id"
    " WHERE v.dataset = 'events' AND b." PG_ACCEPTED;

static const char scan_sql[] =
    "SELECT user_id, ts FROM events WHERE user_id IS NOT NULL"
    " AND batch_id IN (SELECT id FROM batches WHERE " PG_ACCEPTED ")"
    " ORDER BY user_id COLLATE \"C\"";

/* The trait ($1, a key) of row e's payload as json (t.v), NULL when
 * missing; HAS_TRAIT: neither missing nor JSON null. */
#define TRAIT_OF_E " CROSS JOIN LATERAL (SELECT e.payload::json -> $1 AS v) t"
#define HAS_TRAIT " json_typeof(t.v) <> 'null'"

/* A user's newest identify trait before $2 ... */
static const char user_trait_sql[] =
    "SELECT DISTINCT ON (e.user_id) e.user_id, t.v::text"
    " FROM v_events e" TRAIT_OF_E " WHERE e.type = 'identify'"
    " AND e.user_id IS NOT NULL AND e.ts < $2 AND" HAS_TRAIT
    " ORDER BY e.user_id, e.ts DESC, e.rid";

/* ... else the newest trait, before $2, of their newest account then. */
static const char account_trait_sql[] =
    "WITH ua AS MATERIALIZED (SELECT DISTINCT ON (user_id) user_id,"
    "  group_id AS acct FROM v_events"
    "  WHERE type = 'group' AND user_id IS NOT NULL AND group_id IS NOT NULL"
    "  AND ts < $2 ORDER BY user_id, ts DESC, rid),"
    " at AS MATERIALIZED (SELECT DISTINCT ON (e.group_id) e.group_id AS acct,"
    "  t.v::text AS lvl FROM v_events e" TRAIT_OF_E " WHERE"
    "  e.type = 'group' AND e.ts < $2 AND" HAS_TRAIT
    "  ORDER BY e.group_id, e.ts DESC, e.rid)"
    " SELECT ua.user_id, at.lvl FROM ua JOIN at ON at.acct = ua.acct";

typedef struct day_range {
    int64_t first, last;
    int found;
} day_range;

static int range_row(PGresult *r, void *ctx)
{
    day_range *d = ctx;

    if (aipm_pg__col(r, 0) && aipm_pg__col(r, 1)) {
        d->first = aipm_pg__col_int(r, 0);
        d->last = aipm_pg__col_int(r, 1);
        d->found = 1;
    }
    return 0;
}

int pg_event_day_range(aipm_store *base, int64_t *first_day, int64_t *last_day,
                       int *found, aipm_error *err)
{
    day_range d = {0, 0, 0};
    int rc = aipm_pg__each_row((pg_store *)base, range_sql, NULL, range_row, &d,
                               err);

    *first_day = d.first;
    *last_day = d.last;
    *found = d.found;
    return rc;
}

static int time_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;

    return ((aipm_user_time_cb)rl->cb)(rl->ctx, aipm_pg__col(r, 0),
                                       aipm_pg__col_int(r, 1));
}

int pg_user_event_times(aipm_store *base, aipm_user_time_cb cb, void *ctx,
                        aipm_error *err)
{
    return aipm_pg__each_row((pg_store *)base, scan_sql, NULL, time_each,
                             RELAY(cb, ctx), err);
}

/* ---- a JSON value's text as SQLite shows it ---- */

typedef struct trait_relay {
    aipm_pg__relay r;
    char *buf; /* a plain string's text */
    size_t cap;
    sqlite3 *db; /* opened on the first value that is not one */
    sqlite3_stmt *cast;
    int failed; /* AIPM_ENOMEM, or AIPM_ERROR: SQLite failed */
} trait_relay;

/* The text of raw (a JSON value's text) into *out, borrowed until the
 * next call (NULL: no text, as SQLite's NULL); 0, or the error (also in
 * t->failed). */
static int trait_text(trait_relay *t, const char *raw, const char **out)
{
    size_t n = strlen(raw);

    if (n >= 2 && raw[0] == '"' && memchr(raw, '\\', n) == NULL) {
        if (aipm_grow(&t->buf, &t->cap, n - 1, 1) != 0)
            return t->failed = AIPM_ENOMEM;
        memcpy(t->buf, raw + 1, n - 2);
        t->buf[n - 2] = '\0';
        *out = t->buf;
        return 0;
    }
    if (t->db == NULL &&
        (sqlite3_open_v2(":memory:", &t->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY,
                         NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(t->db, "SELECT CAST(json_extract(?1, '$') AS TEXT)",
                            -1, &t->cast, NULL) != SQLITE_OK))
        return t->failed = AIPM_ERROR;
    sqlite3_reset(t->cast);
    if (sqlite3_bind_text(t->cast, 1, raw, (int)n, SQLITE_STATIC) !=
            SQLITE_OK ||
        sqlite3_step(t->cast) != SQLITE_ROW)
        return t->failed = AIPM_ERROR;
    *out = (const char *)sqlite3_column_text(t->cast, 0);
    return 0;
}

static int value_each(PGresult *r, void *ctx)
{
    trait_relay *t = ctx;
    const char *raw = aipm_pg__col(r, 1), *text = NULL;
    int rc;

    if (raw == NULL)
        return 0;
    if ((rc = trait_text(t, raw, &text)) != 0 || text == NULL)
        return rc;
    return ((aipm_user_value_cb)t->r.cb)(t->r.ctx, aipm_pg__col(r, 0), text);
}

/* Run a trait statement: $1 the trait's name, $2 before_ms. */
static int read_traits(pg_store *s, const char *sql, const char *trait,
                       int64_t before_ms, aipm_user_value_cb cb, void *ctx,
                       aipm_error *err)
{
    trait_relay t = {{(void (*)(void))cb, ctx}, NULL, 0, NULL, NULL, 0};
    pg_params p = {0};
    int rc;

    aipm_pg__text(&p, trait);
    aipm_pg__int(&p, before_ms);
    rc = aipm_pg__each_row(s, sql, &p, value_each, &t, err);
    if (t.failed == AIPM_ENOMEM)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    else if (t.failed)
        rc = aipm_error_set(
            err, AIPM_ERROR, "store '%s': cannot read trait '%s' as text: %s",
            s->url, trait, t.db ? sqlite3_errmsg(t.db) : "out of memory");
    sqlite3_finalize(t.cast);
    sqlite3_close(t.db);
    free(t.buf);
    return rc;
}

int pg_user_traits(aipm_store *base, const char *trait, int64_t before_ms,
                   aipm_user_value_cb cb, void *ctx, aipm_error *err)
{
    return read_traits((pg_store *)base, user_trait_sql, trait, before_ms, cb,
                       ctx, err);
}

int pg_account_traits(aipm_store *base, const char *trait, int64_t before_ms,
                      aipm_user_value_cb cb, void *ctx, aipm_error *err)
{
    return read_traits((pg_store *)base, account_trait_sql, trait, before_ms,
                       cb, ctx, err);
}
