/* tokens.c - the HTTP API's tokens in PostgreSQL (store.h: api_tokens;
 * the semantics of sqlite/tokens.c).
 *
 * Every statement is parameterized: users, names, digests and reasons
 * travel as parameters, never inside the SQL. A new token's id is the
 * highest plus one under the store's write lock, as SQLite numbers rows,
 * so a rolled-back creation leaves no gap (a sequence would).
 */
#include "store/pg/pg_int.h"

#include <string.h>

#define RELAY(cb, ctx) (&(aipm_pg__relay){(void (*)(void))(cb), (ctx)})

#define COLUMNS                                                                \
    "id, user_name, name, token_sha256, hint, created_ms, created_by,"         \
    " revoked_ms, revoked_by, revoke_reason"

int pg_token_put(aipm_store *base, const aipm_token_row *row, int64_t *id_out,
                 aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, row->user);
    aipm_pg__text(&p, row->name);
    aipm_pg__text(&p, row->token_sha256);
    aipm_pg__text(&p, row->hint);
    aipm_pg__int(&p, row->created_ms);
    aipm_pg__text(&p, row->created_by);
    return aipm_pg__int64((pg_store *)base,
                          "INSERT INTO api_tokens(id, user_name, name,"
                          " token_sha256, hint, created_ms, created_by)"
                          " VALUES((SELECT coalesce(max(id), 0) + 1 FROM"
                          " api_tokens), $1, $2, $3, $4, $5, $6)"
                          " RETURNING id",
                          &p, id_out, err);
}

static int token_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_token_row row;

    row.id = aipm_pg__col_int(r, 0);
    row.user = aipm_pg__col(r, 1);
    row.name = aipm_pg__col(r, 2);
    row.token_sha256 = aipm_pg__col(r, 3);
    row.hint = aipm_pg__col(r, 4);
    row.created_ms = aipm_pg__col_int(r, 5);
    row.created_by = aipm_pg__col(r, 6);
    row.revoked_ms = aipm_pg__col_int(r, 7); /* NULL: 0 */
    row.revoked_by = aipm_pg__col(r, 8);
    row.revoke_reason = aipm_pg__col(r, 9);
    return ((aipm_token_cb)rl->cb)(rl->ctx, &row);
}

int pg_token_find(aipm_store *base, const char *token_sha256, aipm_token_cb cb,
                  void *ctx, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, token_sha256);
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT " COLUMNS " FROM api_tokens"
                             " WHERE token_sha256 = $1",
                             &p, token_each, RELAY(cb, ctx), err);
}

int pg_token_list(aipm_store *base, const char *user, aipm_token_cb cb,
                  void *ctx, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, user);
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT " COLUMNS " FROM api_tokens"
                             " WHERE $1::text IS NULL OR user_name = $1"
                             " ORDER BY id",
                             &p, token_each, RELAY(cb, ctx), err);
}

int pg_token_revoke(aipm_store *base, int64_t id, int64_t now_ms,
                    const char *by, const char *reason, aipm_error *err)
{
    pg_store *s = (pg_store *)base;
    pg_params p = {0};
    int64_t state = 0;
    int rc;

    /* 0: no such token, 1: live, 2: revoked */
    aipm_pg__int(&p, id);
    if ((rc = aipm_pg__int64(s,
                             "SELECT coalesce((SELECT CASE WHEN revoked_ms IS"
                             " NULL THEN 1 ELSE 2 END FROM api_tokens"
                             " WHERE id = $1), 0)",
                             &p, &state, err)) != AIPM_OK)
        return rc;
    if (state == 0)
        return aipm_error_set(err, AIPM_ENOTFOUND, "no token %lld",
                              (long long)id);
    if (state == 2)
        return aipm_error_set(err, AIPM_EINVALID, "token %lld already revoked",
                              (long long)id);
    memset(&p, 0, sizeof(p));
    aipm_pg__int(&p, id);
    aipm_pg__int(&p, now_ms);
    aipm_pg__text(&p, by);
    aipm_pg__text(&p, reason);
    return aipm_pg__exec(s,
                         "UPDATE api_tokens SET revoked_ms = $2,"
                         " revoked_by = $3, revoke_reason = $4"
                         " WHERE id = $1 AND revoked_ms IS NULL",
                         &p, NULL, err);
}
