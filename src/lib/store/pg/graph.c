/* graph.c - the knowledge graph's reads (store.h) in PostgreSQL's
 * dialect: the store's version (its batches and newest rows) and the rows
 * a graph is built from, in full or as the delta since a mark; statement
 * for statement the SQLite backend's (sqlite/graph.c, which explains each
 * part).
 *
 * A mark's positions are the events' and the graph table's rid (SQLite:
 * the events rowid and the graph rid). Both are taken from a sequence
 * while the writer holds the store's lock, so the rows of a batch made
 * after a mark all lie after its positions, whatever was rolled back or
 * is still loading when the mark is read. A delta statement binds the
 * mark ($2 its batch, $3 its row) after the newest batch read ($1); a
 * full one binds $1 alone. Orders that compare text compare bytes
 * (COLLATE "C", as SQLite's BINARY), and NULL sorts first, as in SQLite.
 */
#include "store/pg/pg_int.h"

#include <math.h>

#define RELAY(cb, ctx) (&(aipm_pg__relay){(void (*)(void))(cb), (ctx)})

/* The accepted batches up to $1, and after $2 for a delta. */
#define UP_TO " IN (SELECT id FROM batches WHERE " PG_ACCEPTED " AND id <= $1)"
#define SINCE                                                                  \
    " IN (SELECT id FROM batches WHERE " PG_ACCEPTED " AND id > $2"            \
    " AND id <= $1)"

/* One statement, so one snapshot: the batches and, as of the same moment,
 * the newest rows. */
static const char version_sql[] =
    "SELECT b.id, b.dataset, b.status, coalesce(b.content_sha256, ''),"
    " (SELECT coalesce(max(rid), 0) FROM events),"
    " (SELECT coalesce(max(rid), 0) FROM graph)"
    " FROM batches b ORDER BY b.id";

static const char firsts_sql[] =
    "SELECT user_id, event, min(ts) FROM events"
    " WHERE user_id IS NOT NULL AND batch_id" UP_TO " GROUP BY user_id, event"
    " ORDER BY user_id COLLATE \"C\", event COLLATE \"C\" NULLS FIRST";

static const char firsts_delta_sql[] =
    "SELECT user_id, event, min(ts) FROM events"
    " WHERE rid > $3 AND user_id IS NOT NULL AND batch_id" SINCE
    " GROUP BY user_id, event"
    " ORDER BY user_id COLLATE \"C\", event COLLATE \"C\" NULLS FIRST";

static const char members_sql[] =
    "SELECT user_id, group_id, min(ts) FROM events"
    " WHERE type = 'group' AND user_id IS NOT NULL AND group_id IS NOT NULL"
    " AND batch_id" UP_TO " GROUP BY user_id, group_id"
    " ORDER BY user_id COLLATE \"C\", group_id COLLATE \"C\"";

static const char members_delta_sql[] =
    "SELECT user_id, group_id, min(ts) FROM events"
    " WHERE rid > $3 AND type = 'group' AND user_id IS NOT NULL"
    " AND group_id IS NOT NULL AND batch_id" SINCE " GROUP BY user_id, group_id"
    " ORDER BY user_id COLLATE \"C\", group_id COLLATE \"C\"";

static const char graph_sql[] = "SELECT src, relation, dst, weight FROM graph"
                                " WHERE batch_id" UP_TO " ORDER BY rid";

static const char graph_delta_sql[] =
    "SELECT src, relation, dst, weight FROM graph"
    " WHERE rid > $3 AND batch_id" SINCE " ORDER BY rid";

typedef struct version_relay {
    aipm_pg__relay r;
    aipm_store_mark *mark;
} version_relay;

static int batch_each(PGresult *r, void *ctx)
{
    version_relay *v = ctx;
    aipm_batch_state row = {aipm_pg__col_int(r, 0), aipm_pg__col(r, 1),
                            aipm_pg__col(r, 2), aipm_pg__col(r, 3)};

    v->mark->batch = row.id;
    v->mark->event_row = aipm_pg__col_int(r, 4);
    v->mark->graph_row = aipm_pg__col_int(r, 5);
    return ((aipm_batch_state_cb)v->r.cb)(v->r.ctx, &row);
}

int pg_batch_states(aipm_store *base, aipm_batch_state_cb cb, void *ctx,
                    aipm_store_mark *mark, aipm_error *err)
{
    mark->batch = mark->event_row = mark->graph_row = 0;
    return aipm_pg__each_row((pg_store *)base, version_sql, NULL, batch_each,
                             &(version_relay){{(void (*)(void))cb, ctx}, mark},
                             err);
}

/* Run the full statement, or the delta one from mark since (its row
 * position since_row), up to batch through, handing each row to fn. */
static int read_range(pg_store *s, const char *full_sql, const char *delta_sql,
                      int64_t through, const aipm_store_mark *since,
                      int64_t since_row, aipm_pg__row_fn fn,
                      aipm_pg__relay *relay, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__int(&p, through);
    if (since) {
        aipm_pg__int(&p, since->batch);
        aipm_pg__int(&p, since_row);
    }
    return aipm_pg__each_row(s, since ? delta_sql : full_sql, &p, fn, relay,
                             err);
}

static int first_use_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_first_use row = {aipm_pg__col(r, 0), aipm_pg__col(r, 1),
                          aipm_pg__col_int(r, 2)};

    return ((aipm_first_use_cb)rl->cb)(rl->ctx, &row);
}

int pg_first_uses(aipm_store *base, int64_t through_batch,
                  const aipm_store_mark *since, aipm_first_use_cb cb, void *ctx,
                  aipm_error *err)
{
    return read_range((pg_store *)base, firsts_sql, firsts_delta_sql,
                      through_batch, since, since ? since->event_row : 0,
                      first_use_each, RELAY(cb, ctx), err);
}

static int membership_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_membership row = {aipm_pg__col(r, 0), aipm_pg__col(r, 1),
                           aipm_pg__col_int(r, 2)};

    return ((aipm_membership_cb)rl->cb)(rl->ctx, &row);
}

int pg_first_memberships(aipm_store *base, int64_t through_batch,
                         const aipm_store_mark *since, aipm_membership_cb cb,
                         void *ctx, aipm_error *err)
{
    return read_range((pg_store *)base, members_sql, members_delta_sql,
                      through_batch, since, since ? since->event_row : 0,
                      membership_each, RELAY(cb, ctx), err);
}

static int graph_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_graph_csv_row row = {
        aipm_pg__col(r, 0), aipm_pg__col(r, 1), aipm_pg__col(r, 2),
        aipm_pg__col(r, 3) ? aipm_pg__col_real(r, 3) : NAN};

    return ((aipm_graph_csv_cb)rl->cb)(rl->ctx, &row);
}

int pg_graph_rows(aipm_store *base, int64_t through_batch,
                  const aipm_store_mark *since, aipm_graph_csv_cb cb, void *ctx,
                  aipm_error *err)
{
    return read_range((pg_store *)base, graph_sql, graph_delta_sql,
                      through_batch, since, since ? since->graph_row : 0,
                      graph_each, RELAY(cb, ctx), err);
}
