/* graph.c - the knowledge graph's reads (store.h): the store's version
 * (its batches and newest rows) and the rows a graph is built from, in
 * full or as the delta since a mark.
 *
 * A mark's positions are the events rowid and the graph table's rid. A
 * delta statement binds the mark (?2 its batch, ?3 its row) after the
 * newest batch read (?1); a full one binds ?1 alone. */
#include "store/sqlite/sqlite_int.h"

#include <math.h>
#include <sqlite3.h>

/* One statement, so one read of the store: the batches and, as of the
 * same moment, the newest rows. */
static const char version_sql[] =
    "SELECT b.id, b.dataset, b.status, coalesce(b.content_sha256, ''),"
    " (SELECT coalesce(max(rowid), 0) FROM events),"
    " (SELECT coalesce(max(rid), 0) FROM graph)"
    " FROM batches b ORDER BY b.id";

/* Each user's first time for each event name (rows grouped by user; the
 * analysis index events(user_id, event, ts, batch_id), when the store has
 * it, serves them in order without a sort), each (user, account) of the
 * group calls from the first, and graph.csv in ingest order. Every read
 * stops at the newest batch listed for the version (?1), so what the
 * graph holds is exactly what its version says, whatever is ingested
 * meanwhile. */
static const char firsts_sql[] =
    "SELECT user_id, event, min(ts) FROM events"
    " WHERE user_id IS NOT NULL AND batch_id IN (SELECT id FROM batches"
    "  WHERE " SQ_ACCEPTED " AND id <= ?1)"
    " GROUP BY user_id, event";

static const char members_sql[] =
    "SELECT user_id, group_id, min(ts) FROM events"
    " WHERE type = 'group' AND user_id IS NOT NULL AND group_id IS NOT NULL"
    "  AND batch_id IN (SELECT id FROM batches"
    "   WHERE " SQ_ACCEPTED " AND id <= ?1)"
    " GROUP BY user_id, group_id";

static const char graph_sql[] = "SELECT src, relation, dst, weight FROM graph"
                                " WHERE batch_id IN (SELECT id FROM batches"
                                "  WHERE " SQ_ACCEPTED " AND id <= ?1)"
                                " ORDER BY rid";

/* The same over the rows a snapshot lacks: those of the batches after its
 * newest (?2) up to ?1, which lie after its newest row (?3), read by
 * rowid (NOT INDEXED keeps the planner off the analysis index, which
 * would scan every row for the order). */
static const char firsts_delta_sql[] =
    "SELECT user_id, event, min(ts) FROM events NOT INDEXED"
    " WHERE rowid > ?3 AND user_id IS NOT NULL"
    "  AND batch_id IN (SELECT id FROM batches"
    "   WHERE " SQ_ACCEPTED " AND id > ?2 AND id <= ?1)"
    " GROUP BY user_id, event";

static const char members_delta_sql[] =
    "SELECT user_id, group_id, min(ts) FROM events NOT INDEXED"
    " WHERE rowid > ?3 AND type = 'group' AND user_id IS NOT NULL"
    "  AND group_id IS NOT NULL AND batch_id IN (SELECT id FROM batches"
    "   WHERE " SQ_ACCEPTED " AND id > ?2 AND id <= ?1)"
    " GROUP BY user_id, group_id";

static const char graph_delta_sql[] =
    "SELECT src, relation, dst, weight FROM graph"
    " WHERE rid > ?3 AND batch_id IN (SELECT id FROM batches"
    "  WHERE " SQ_ACCEPTED " AND id > ?2 AND id <= ?1)"
    " ORDER BY rid";

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

typedef struct version_relay {
    aipm_sqlite__relay r;
    aipm_store_mark *mark;
} version_relay;

static int batch_each(sqlite3_stmt *st, void *ctx)
{
    version_relay *v = ctx;
    aipm_batch_state row = {sqlite3_column_int64(st, 0), col(st, 1), col(st, 2),
                            col(st, 3)};

    v->mark->batch = row.id;
    v->mark->event_row = sqlite3_column_int64(st, 4);
    v->mark->graph_row = sqlite3_column_int64(st, 5);
    return ((aipm_batch_state_cb)v->r.cb)(v->r.ctx, &row);
}

int sq_batch_states(aipm_store *base, aipm_batch_state_cb cb, void *ctx,
                    aipm_store_mark *mark, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    mark->batch = mark->event_row = mark->graph_row = 0;
    if (sqlite3_prepare_v2(s->db, version_sql, -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    return aipm_sqlite__each_row(
        s, st, batch_each, &(version_relay){{(void (*)(void))cb, ctx}, mark},
        err);
}

/* Run the full statement, or the delta one from mark since (its row
 * position since_row), up to batch through, handing each row to fn. */
static int read_range(sqlite_store *s, const char *full_sql,
                      const char *delta_sql, int64_t through,
                      const aipm_store_mark *since, int64_t since_row,
                      aipm_sqlite__row_fn fn, aipm_sqlite__relay *relay,
                      aipm_error *err)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db, since ? delta_sql : full_sql, -1, &st,
                           NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    sqlite3_bind_int64(st, 1, through);
    if (since) {
        sqlite3_bind_int64(st, 2, since->batch);
        sqlite3_bind_int64(st, 3, since_row);
    }
    return aipm_sqlite__each_row(s, st, fn, relay, err);
}

static int first_use_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_first_use row = {col(st, 0), col(st, 1), sqlite3_column_int64(st, 2)};

    return ((aipm_first_use_cb)r->cb)(r->ctx, &row);
}

int sq_first_uses(aipm_store *base, int64_t through_batch,
                  const aipm_store_mark *since, aipm_first_use_cb cb, void *ctx,
                  aipm_error *err)
{
    return read_range((sqlite_store *)base, firsts_sql, firsts_delta_sql,
                      through_batch, since, since ? since->event_row : 0,
                      first_use_each,
                      &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

static int membership_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_membership row = {col(st, 0), col(st, 1), sqlite3_column_int64(st, 2)};

    return ((aipm_membership_cb)r->cb)(r->ctx, &row);
}

int sq_first_memberships(aipm_store *base, int64_t through_batch,
                         const aipm_store_mark *since, aipm_membership_cb cb,
                         void *ctx, aipm_error *err)
{
    return read_range((sqlite_store *)base, members_sql, members_delta_sql,
                      through_batch, since, since ? since->event_row : 0,
                      membership_each,
                      &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

static int graph_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_graph_csv_row row = {col(st, 0), col(st, 1), col(st, 2),
                              sqlite3_column_type(st, 3) == SQLITE_NULL
                                  ? NAN
                                  : sqlite3_column_double(st, 3)};

    return ((aipm_graph_csv_cb)r->cb)(r->ctx, &row);
}

int sq_graph_rows(aipm_store *base, int64_t through_batch,
                  const aipm_store_mark *since, aipm_graph_csv_cb cb, void *ctx,
                  aipm_error *err)
{
    return read_range((sqlite_store *)base, graph_sql, graph_delta_sql,
                      through_batch, since, since ? since->graph_row : 0,
                      graph_each,
                      &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}
