/* models.c - the model registry's tables in SQLite (store.h: versions,
 * aliases and the log of their moves, monitoring runs). */
#include "store/sqlite/sqlite_int.h"

/* Prepare sql, or report the connection's error. */
static int prepare(sqlite_store *s, const char *sql, sqlite3_stmt **st,
                   aipm_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    return AIPM_OK;
}

/* Step a write to its end and finalize it. */
static int done(sqlite_store *s, sqlite3_stmt *st, aipm_error *err)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? AIPM_OK
                                             : aipm_sqlite__db_error(s, err);

    sqlite3_finalize(st);
    return rc;
}

int sq_model_put(aipm_store *base, const aipm_model_row *row, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = prepare(s,
                      "INSERT INTO model_versions(name, version, seq, "
                      "time_ms, actor, artifact_sha256, artifact, card) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                      &st, err)) != 0)
        return rc;
    aipm_sqlite__bind_text(st, 1, row->name);
    sqlite3_bind_int64(st, 2, row->version);
    sqlite3_bind_int64(st, 3, row->seq);
    sqlite3_bind_int64(st, 4, row->time_ms);
    aipm_sqlite__bind_text(st, 5, row->actor);
    aipm_sqlite__bind_text(st, 6, row->artifact_sha256);
    aipm_sqlite__bind_text(st, 7, row->artifact);
    aipm_sqlite__bind_text(st, 8, row->card);
    return done(s, st, err);
}

static int model_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_model_row row;

    row.name = (const char *)sqlite3_column_text(st, 0);
    row.version = sqlite3_column_int64(st, 1);
    row.seq = sqlite3_column_int64(st, 2);
    row.time_ms = sqlite3_column_int64(st, 3);
    row.actor = (const char *)sqlite3_column_text(st, 4);
    row.artifact_sha256 = (const char *)sqlite3_column_text(st, 5);
    row.artifact = (const char *)sqlite3_column_text(st, 6);
    row.card = (const char *)sqlite3_column_text(st, 7);
    return ((aipm_model_cb)r->cb)(r->ctx, &row);
}

int sq_model_list(aipm_store *base, const char *name, int64_t version,
                  aipm_model_cb cb, void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = prepare(s,
                      "SELECT name, version, seq, time_ms, actor, "
                      "artifact_sha256, artifact, card FROM model_versions "
                      "WHERE (?1 IS NULL OR name = ?1) AND (?2 = 0 OR "
                      "version = ?2) ORDER BY name, version",
                      &st, err)) != 0)
        return rc;
    aipm_sqlite__bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, version);
    return aipm_sqlite__each_row(
        s, st, model_each, &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

int sq_alias_move(aipm_store *base, const aipm_alias_move_row *row,
                  aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = prepare(s,
                      "INSERT INTO model_alias_moves(seq, name, alias, "
                      "from_version, to_version, time_ms, actor, reason) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                      &st, err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, row->seq);
    aipm_sqlite__bind_text(st, 2, row->name);
    aipm_sqlite__bind_text(st, 3, row->alias);
    sqlite3_bind_int64(st, 4, row->from_version);
    sqlite3_bind_int64(st, 5, row->to_version);
    sqlite3_bind_int64(st, 6, row->time_ms);
    aipm_sqlite__bind_text(st, 7, row->actor);
    aipm_sqlite__bind_text(st, 8, row->reason);
    if ((rc = done(s, st, err)) != 0)
        return rc;
    if ((rc = prepare(s,
                      row->to_version > 0
                          ? "INSERT INTO model_aliases(name, alias, version) "
                            "VALUES(?1, ?2, ?3) ON CONFLICT(name, alias) DO "
                            "UPDATE SET version = excluded.version"
                          : "DELETE FROM model_aliases WHERE name = ?1 AND "
                            "alias = ?2 AND ?3 = 0",
                      &st, err)) != 0)
        return rc;
    aipm_sqlite__bind_text(st, 1, row->name);
    aipm_sqlite__bind_text(st, 2, row->alias);
    sqlite3_bind_int64(st, 3, row->to_version);
    return done(s, st, err);
}

static int move_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_alias_move_row row;

    row.seq = sqlite3_column_int64(st, 0);
    row.name = (const char *)sqlite3_column_text(st, 1);
    row.alias = (const char *)sqlite3_column_text(st, 2);
    row.from_version = sqlite3_column_int64(st, 3);
    row.to_version = sqlite3_column_int64(st, 4);
    row.time_ms = sqlite3_column_int64(st, 5);
    row.actor = (const char *)sqlite3_column_text(st, 6);
    row.reason = (const char *)sqlite3_column_text(st, 7);
    return ((aipm_alias_move_cb)r->cb)(r->ctx, &row);
}

int sq_alias_moves(aipm_store *base, const char *name, aipm_alias_move_cb cb,
                   void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = prepare(s,
                      "SELECT seq, name, alias, from_version, to_version, "
                      "time_ms, actor, reason FROM model_alias_moves WHERE "
                      "?1 IS NULL OR name = ?1 ORDER BY seq",
                      &st, err)) != 0)
        return rc;
    aipm_sqlite__bind_text(st, 1, name);
    return aipm_sqlite__each_row(
        s, st, move_each, &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

int sq_alias_get(aipm_store *base, const char *name, const char *alias,
                 int64_t *version, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    *version = 0;
    if ((rc = prepare(s,
                      "SELECT coalesce((SELECT version FROM model_aliases "
                      "WHERE name = ?1 AND alias = ?2), 0)",
                      &st, err)) != 0)
        return rc;
    aipm_sqlite__bind_text(st, 1, name);
    aipm_sqlite__bind_text(st, 2, alias);
    return aipm_sqlite__step_count(s, st, version, err);
}

int sq_monitor_put(aipm_store *base, const aipm_monitor_row *row,
                   aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = prepare(s,
                      "INSERT INTO monitor_runs(seq, time_ms, status, report) "
                      "VALUES(?1, ?2, ?3, ?4)",
                      &st, err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, row->seq);
    sqlite3_bind_int64(st, 2, row->time_ms);
    aipm_sqlite__bind_text(st, 3, row->status);
    aipm_sqlite__bind_text(st, 4, row->report);
    return done(s, st, err);
}

static int monitor_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_monitor_row row;

    row.seq = sqlite3_column_int64(st, 0);
    row.time_ms = sqlite3_column_int64(st, 1);
    row.status = (const char *)sqlite3_column_text(st, 2);
    row.report = (const char *)sqlite3_column_text(st, 3);
    return ((aipm_monitor_cb)r->cb)(r->ctx, &row);
}

int sq_monitor_list(aipm_store *base, int64_t limit, aipm_monitor_cb cb,
                    void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = prepare(s,
                      "SELECT seq, time_ms, status, report FROM monitor_runs "
                      "ORDER BY seq DESC LIMIT CASE WHEN ?1 > 0 THEN ?1 ELSE "
                      "-1 END",
                      &st, err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, limit);
    return aipm_sqlite__each_row(s, st, monitor_each,
                                 &(aipm_sqlite__relay){(void (*)(void))cb, ctx},
                                 err);
}
