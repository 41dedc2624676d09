/* models.c - the model registry's tables in PostgreSQL (store.h: versions,
 * aliases and the log of their moves; the semantics of sqlite/models.c).
 *
 * Every statement is parameterized: names, aliases, actors, reasons and
 * the artifacts travel as parameters, never inside the SQL. A move is two
 * statements, the log row and then the alias, in the caller's transaction.
 */
#include "store/pg/pg_int.h"

#define RELAY(cb, ctx) (&(aipm_pg__relay){(void (*)(void))(cb), (ctx)})

int pg_model_put(aipm_store *base, const aipm_model_row *row, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, row->name);
    aipm_pg__int(&p, row->version);
    aipm_pg__int(&p, row->seq);
    aipm_pg__int(&p, row->time_ms);
    aipm_pg__text(&p, row->actor);
    aipm_pg__text(&p, row->artifact_sha256);
    aipm_pg__text(&p, row->artifact);
    aipm_pg__text(&p, row->card);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO model_versions(name, version, seq,"
                         " time_ms, actor, artifact_sha256, artifact, card)"
                         " VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
                         &p, NULL, err);
}

static int model_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_model_row row;

    row.name = aipm_pg__col(r, 0);
    row.version = aipm_pg__col_int(r, 1);
    row.seq = aipm_pg__col_int(r, 2);
    row.time_ms = aipm_pg__col_int(r, 3);
    row.actor = aipm_pg__col(r, 4);
    row.artifact_sha256 = aipm_pg__col(r, 5);
    row.artifact = aipm_pg__col(r, 6);
    row.card = aipm_pg__col(r, 7);
    return ((aipm_model_cb)rl->cb)(rl->ctx, &row);
}

/* Ordered by name in byte order (COLLATE "C"), as SQLite's BINARY
 * collation orders it, whatever the database's default collation. */
int pg_model_list(aipm_store *base, const char *name, int64_t version,
                  aipm_model_cb cb, void *ctx, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, name);
    aipm_pg__int(&p, version);
    return aipm_pg__each_row(
        (pg_store *)base,
        "SELECT name, version, seq, time_ms, actor, artifact_sha256,"
        " artifact, card FROM model_versions"
        " WHERE ($1::text IS NULL OR name = $1) AND ($2 = 0 OR version = $2)"
        " ORDER BY name COLLATE \"C\", version",
        &p, model_each, RELAY(cb, ctx), err);
}

int pg_alias_move(aipm_store *base, const aipm_alias_move_row *row,
                  aipm_error *err)
{
    pg_store *s = (pg_store *)base;
    pg_params log = {0}, alias = {0};
    int rc;

    aipm_pg__int(&log, row->seq);
    aipm_pg__text(&log, row->name);
    aipm_pg__text(&log, row->alias);
    aipm_pg__int(&log, row->from_version);
    aipm_pg__int(&log, row->to_version);
    aipm_pg__int(&log, row->time_ms);
    aipm_pg__text(&log, row->actor);
    aipm_pg__text(&log, row->reason);
    if ((rc = aipm_pg__exec(s,
                            "INSERT INTO model_alias_moves(seq, name, alias,"
                            " from_version, to_version, time_ms, actor,"
                            " reason) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
                            &log, NULL, err)) != 0)
        return rc;
    aipm_pg__text(&alias, row->name);
    aipm_pg__text(&alias, row->alias);
    aipm_pg__int(&alias, row->to_version);
    return aipm_pg__exec(s,
                         row->to_version > 0
                             ? "INSERT INTO model_aliases(name, alias, version)"
                               " VALUES($1, $2, $3) ON CONFLICT (name, alias)"
                               " DO UPDATE SET version = excluded.version"
                             : "DELETE FROM model_aliases WHERE name = $1"
                               " AND alias = $2 AND $3 = 0",
                         &alias, NULL, err);
}

static int move_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_alias_move_row row;

    row.seq = aipm_pg__col_int(r, 0);
    row.name = aipm_pg__col(r, 1);
    row.alias = aipm_pg__col(r, 2);
    row.from_version = aipm_pg__col_int(r, 3);
    row.to_version = aipm_pg__col_int(r, 4);
    row.time_ms = aipm_pg__col_int(r, 5);
    row.actor = aipm_pg__col(r, 6);
    row.reason = aipm_pg__col(r, 7);
    return ((aipm_alias_move_cb)rl->cb)(rl->ctx, &row);
}

int pg_alias_moves(aipm_store *base, const char *name, aipm_alias_move_cb cb,
                   void *ctx, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, name);
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT seq, name, alias, from_version,"
                             " to_version, time_ms, actor, reason"
                             " FROM model_alias_moves"
                             " WHERE $1::text IS NULL OR name = $1"
                             " ORDER BY seq",
                             &p, move_each, RELAY(cb, ctx), err);
}

int pg_alias_get(aipm_store *base, const char *name, const char *alias,
                 int64_t *version, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, name);
    aipm_pg__text(&p, alias);
    return aipm_pg__int64((pg_store *)base,
                          "SELECT coalesce((SELECT version FROM model_aliases"
                          " WHERE name = $1 AND alias = $2), 0)",
                          &p, version, err);
}

int pg_monitor_put(aipm_store *base, const aipm_monitor_row *row,
                   aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__int(&p, row->seq);
    aipm_pg__int(&p, row->time_ms);
    aipm_pg__text(&p, row->status);
    aipm_pg__text(&p, row->report);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO monitor_runs(seq, time_ms, status,"
                         " report) VALUES($1, $2, $3, $4)",
                         &p, NULL, err);
}

static int monitor_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_monitor_row row;

    row.seq = aipm_pg__col_int(r, 0);
    row.time_ms = aipm_pg__col_int(r, 1);
    row.status = aipm_pg__col(r, 2);
    row.report = aipm_pg__col(r, 3);
    return ((aipm_monitor_cb)rl->cb)(rl->ctx, &row);
}

int pg_monitor_list(aipm_store *base, int64_t limit, aipm_monitor_cb cb,
                    void *ctx, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__int(&p, limit);
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT seq, time_ms, status, report FROM"
                             " monitor_runs ORDER BY seq DESC"
                             " LIMIT CASE WHEN $1 > 0 THEN $1 END",
                             &p, monitor_each, RELAY(cb, ctx), err);
}
