/* tokens.c - the HTTP API's tokens in SQLite (store.h: api_tokens).
 *
 * One row per token: its owner, a name, the SHA-256 of the token and a
 * hint, never the token. Revoking fills the revoked_* columns and keeps
 * the row. Every statement is prepared with parameters.
 */
#include "store/sqlite/sqlite_int.h"

#define COLUMNS                                                                \
    "id, user_name, name, token_sha256, hint, created_ms, created_by, "        \
    "revoked_ms, revoked_by, revoke_reason"

static int prepare(sqlite_store *s, const char *sql, sqlite3_stmt **st,
                   aipm_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    return AIPM_OK;
}

int sq_token_put(aipm_store *base, const aipm_token_row *row, int64_t *id_out,
                 aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    *id_out = 0;
    if ((rc = prepare(s,
                      "INSERT INTO api_tokens(user_name, name, token_sha256, "
                      "hint, created_ms, created_by) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                      &st, err)) != 0)
        return rc;
    aipm_sqlite__bind_text(st, 1, row->user);
    aipm_sqlite__bind_text(st, 2, row->name);
    aipm_sqlite__bind_text(st, 3, row->token_sha256);
    aipm_sqlite__bind_text(st, 4, row->hint);
    sqlite3_bind_int64(st, 5, row->created_ms);
    aipm_sqlite__bind_text(st, 6, row->created_by);
    rc = sqlite3_step(st) == SQLITE_DONE ? AIPM_OK
                                         : aipm_sqlite__db_error(s, err);
    sqlite3_finalize(st);
    if (rc == AIPM_OK)
        *id_out = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static int token_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_token_row row;

    row.id = sqlite3_column_int64(st, 0);
    row.user = (const char *)sqlite3_column_text(st, 1);
    row.name = (const char *)sqlite3_column_text(st, 2);
    row.token_sha256 = (const char *)sqlite3_column_text(st, 3);
    row.hint = (const char *)sqlite3_column_text(st, 4);
    row.created_ms = sqlite3_column_int64(st, 5);
    row.created_by = (const char *)sqlite3_column_text(st, 6);
    row.revoked_ms = sqlite3_column_int64(st, 7); /* NULL: 0 */
    row.revoked_by = (const char *)sqlite3_column_text(st, 8);
    row.revoke_reason = (const char *)sqlite3_column_text(st, 9);
    return ((aipm_token_cb)r->cb)(r->ctx, &row);
}

int sq_token_find(aipm_store *base, const char *token_sha256, aipm_token_cb cb,
                  void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = prepare(s,
                      "SELECT " COLUMNS " FROM api_tokens "
                      "WHERE token_sha256 = ?1",
                      &st, err)) != 0)
        return rc;
    aipm_sqlite__bind_text(st, 1, token_sha256);
    return aipm_sqlite__each_row(
        s, st, token_each, &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

int sq_token_list(aipm_store *base, const char *user, aipm_token_cb cb,
                  void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = prepare(s,
                      "SELECT " COLUMNS " FROM api_tokens "
                      "WHERE ?1 IS NULL OR user_name = ?1 ORDER BY id",
                      &st, err)) != 0)
        return rc;
    aipm_sqlite__bind_text(st, 1, user);
    return aipm_sqlite__each_row(
        s, st, token_each, &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

int sq_token_revoke(aipm_store *base, int64_t id, int64_t now_ms,
                    const char *by, const char *reason, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int64_t state = 0;
    int rc;

    /* 0: no such token, 1: live, 2: revoked */
    if ((rc = prepare(s,
                      "SELECT coalesce((SELECT CASE WHEN revoked_ms IS NULL "
                      "THEN 1 ELSE 2 END FROM api_tokens WHERE id = ?1), 0)",
                      &st, err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    if ((rc = aipm_sqlite__step_count(s, st, &state, err)) != AIPM_OK)
        return rc;
    if (state == 0)
        return aipm_error_set(err, AIPM_ENOTFOUND, "no token %lld",
                              (long long)id);
    if (state == 2)
        return aipm_error_set(err, AIPM_EINVALID, "token %lld already revoked",
                              (long long)id);
    if ((rc = prepare(s,
                      "UPDATE api_tokens SET revoked_ms = ?2, revoked_by = ?3, "
                      "revoke_reason = ?4 WHERE id = ?1 AND revoked_ms IS NULL",
                      &st, err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now_ms);
    aipm_sqlite__bind_text(st, 3, by);
    aipm_sqlite__bind_text(st, 4, reason);
    rc = sqlite3_step(st) == SQLITE_DONE ? AIPM_OK
                                         : aipm_sqlite__db_error(s, err);
    sqlite3_finalize(st);
    return rc;
}
