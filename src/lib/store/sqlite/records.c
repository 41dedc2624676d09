/* records.c - the SQLite store's records of what happened: lineage
 * runs, the audit log and its frontier, decision records and people's
 * feedback-link corrections (the operations of store_int.h's table that
 * are not datasets). */
#include "store/sqlite/sqlite_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sq_run_put(aipm_store *base, const aipm_run_row *run, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = aipm_sqlite__stmt(s, S_RUN_PUT, err);

    if (st == NULL)
        return AIPM_ERROR;
    aipm_sqlite__bind_text(st, 1, run->id);
    aipm_sqlite__bind_text(st, 2, run->job);
    aipm_sqlite__bind_text(st, 3, run->state);
    sqlite3_bind_int64(st, 4, run->started_ms);
    sqlite3_bind_int64(st, 5, run->ended_ms);
    aipm_sqlite__bind_text(st, 6, run->inputs);
    aipm_sqlite__bind_text(st, 7, run->outputs);
    aipm_sqlite__bind_text(st, 8, run->facets);
    return aipm_sqlite__step_done(s, st, err);
}

static int run_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_run_row run;

    run.id = (const char *)sqlite3_column_text(st, 0);
    run.job = (const char *)sqlite3_column_text(st, 1);
    run.state = (const char *)sqlite3_column_text(st, 2);
    run.started_ms = sqlite3_column_int64(st, 3);
    run.ended_ms = sqlite3_column_int64(st, 4);
    run.inputs = (const char *)sqlite3_column_text(st, 5);
    run.outputs = (const char *)sqlite3_column_text(st, 6);
    run.facets = (const char *)sqlite3_column_text(st, 7);
    return ((aipm_run_cb)r->cb)(r->ctx, &run);
}

int sq_run_list(aipm_store *base, aipm_run_cb cb, void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, job, state, started_ms, ended_ms, "
                           "inputs, outputs, facets FROM runs "
                           "ORDER BY started_ms, rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    return aipm_sqlite__each_row(
        s, st, run_each, &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

int sq_audit_put(aipm_store *base, const aipm_audit_row *row, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = aipm_sqlite__stmt(s, S_AUDIT_PUT, err);

    if (st == NULL)
        return AIPM_ERROR;
    sqlite3_bind_int64(st, 1, row->seq);
    sqlite3_bind_blob(st, 2, row->entry, (int)row->entry_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, row->leaf, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, row->root, 32, SQLITE_STATIC);
    return aipm_sqlite__step_done(s, st, err);
}

static int audit_each(sqlite3_stmt *st, void *ctx)
{
    static const uint8_t zero[32];
    aipm_sqlite__relay *r = ctx;
    aipm_audit_row row;

    row.seq = sqlite3_column_int64(st, 0);
    row.entry = sqlite3_column_blob(st, 1);
    row.entry_len = (size_t)sqlite3_column_bytes(st, 1);
    row.leaf =
        sqlite3_column_bytes(st, 2) == 32 ? sqlite3_column_blob(st, 2) : zero;
    row.root =
        sqlite3_column_bytes(st, 3) == 32 ? sqlite3_column_blob(st, 3) : zero;
    if (row.entry == NULL)
        row.entry = "";
    return ((aipm_audit_cb)r->cb)(r->ctx, &row);
}

int sq_audit_list(aipm_store *base, aipm_audit_cb cb, void *ctx,
                  aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    /* seq is the rowid, so this is seq order: a reordering or deletion
     * shows as an entry whose own seq field disagrees with its position,
     * or as a gap (audit.c's verify). */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, entry, leaf, root FROM audit "
                           "ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    return aipm_sqlite__each_row(
        s, st, audit_each, &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

int sq_audit_last(aipm_store *base, int64_t *seq, uint8_t root[32], int *found,
                  aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = aipm_sqlite__stmt(s, S_AUDIT_LAST, err);
    int rc;

    if (st == NULL)
        return AIPM_ERROR;
    rc = sqlite3_step(st);
    *found = 0;
    if (rc == SQLITE_ROW) {
        *found = 1;
        *seq = sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == 32)
            memcpy(root, sqlite3_column_blob(st, 1), 32);
        else
            memset(root, 0, 32);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? AIPM_OK : aipm_sqlite__db_error(s, err);
}

int sq_decision_put(aipm_store *base, const aipm_decision_row *row,
                    aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO decisions(id, time_ms, kind, subject, "
                           "decision, inputs, params, output_sha256, output, "
                           "model, rationale, confidence, code_version, "
                           "policy_sha256) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                           "?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    aipm_sqlite__bind_text(st, 1, row->id);
    sqlite3_bind_int64(st, 2, row->time_ms);
    aipm_sqlite__bind_text(st, 3, row->kind);
    aipm_sqlite__bind_text(st, 4, row->subject);
    aipm_sqlite__bind_text(st, 5, row->decision);
    aipm_sqlite__bind_text(st, 6, row->inputs);
    aipm_sqlite__bind_text(st, 7, row->params);
    aipm_sqlite__bind_text(st, 8, row->output_sha256);
    aipm_sqlite__bind_text(st, 9, row->output);
    aipm_sqlite__bind_text(st, 10, row->model);
    aipm_sqlite__bind_text(st, 11, row->rationale);
    if (isnan(row->confidence))
        sqlite3_bind_null(st, 12);
    else
        sqlite3_bind_double(st, 12, row->confidence);
    aipm_sqlite__bind_text(st, 13, row->code_version);
    aipm_sqlite__bind_text(st, 14, row->policy_sha256);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? AIPM_OK : aipm_sqlite__db_error(s, err);
}

static int decision_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_decision_row row;

    row.id = (const char *)sqlite3_column_text(st, 0);
    row.time_ms = sqlite3_column_int64(st, 1);
    row.kind = (const char *)sqlite3_column_text(st, 2);
    row.subject = (const char *)sqlite3_column_text(st, 3);
    row.decision = (const char *)sqlite3_column_text(st, 4);
    row.inputs = (const char *)sqlite3_column_text(st, 5);
    row.params = (const char *)sqlite3_column_text(st, 6);
    row.output_sha256 = (const char *)sqlite3_column_text(st, 7);
    row.status = (const char *)sqlite3_column_text(st, 8);
    row.output = (const char *)sqlite3_column_text(st, 9);
    row.model = (const char *)sqlite3_column_text(st, 10);
    row.rationale = (const char *)sqlite3_column_text(st, 11);
    row.confidence = sqlite3_column_type(st, 12) == SQLITE_NULL
                         ? NAN
                         : sqlite3_column_double(st, 12);
    row.code_version = (const char *)sqlite3_column_text(st, 13);
    row.policy_sha256 = (const char *)sqlite3_column_text(st, 14);
    return ((aipm_decision_cb)r->cb)(r->ctx, &row);
}

int sq_decision_list(aipm_store *base, const aipm_decision_filter *f,
                     aipm_decision_cb cb, void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(
            s->db,
            "SELECT id, time_ms, kind, subject, decision, inputs, params,"
            " output_sha256, status, CASE WHEN ?4 THEN output END, model,"
            " rationale, confidence, code_version, policy_sha256"
            " FROM decisions WHERE (?1 IS NULL OR id = ?1) AND"
            " (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR status = ?3)"
            " ORDER BY time_ms, rowid",
            -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    aipm_sqlite__bind_text(st, 1, f ? f->id : NULL);
    aipm_sqlite__bind_text(st, 2, f ? f->kind : NULL);
    aipm_sqlite__bind_text(st, 3, f ? f->status : NULL);
    sqlite3_bind_int(st, 4, f && f->with_output);
    return aipm_sqlite__each_row(s, st, decision_each,
                                 &(aipm_sqlite__relay){(void (*)(void))cb, ctx},
                                 err);
}

int sq_decision_input_put(aipm_store *base, const char *decision_id,
                          int64_t batch_id, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO decision_inputs(batch_id, "
                           "decision_id) VALUES(?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    sqlite3_bind_int64(st, 1, batch_id);
    aipm_sqlite__bind_text(st, 2, decision_id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? AIPM_OK : aipm_sqlite__db_error(s, err);
}

static int ref_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;

    return ((aipm_decision_ref_cb)r->cb)(
        r->ctx, (const char *)sqlite3_column_text(st, 0),
        (const char *)sqlite3_column_text(st, 1));
}

int sq_decisions_reading(aipm_store *base, int64_t batch_id,
                         aipm_decision_ref_cb cb, void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT d.id, d.status FROM decision_inputs i JOIN "
                           "decisions d ON d.id = i.decision_id WHERE "
                           "i.batch_id = ?1 ORDER BY d.time_ms, d.rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    sqlite3_bind_int64(st, 1, batch_id);
    return aipm_sqlite__each_row(
        s, st, ref_each, &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

int sq_decision_set_status(aipm_store *base, const char *id, const char *status,
                           aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "UPDATE decisions SET status = ?2 WHERE id = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    aipm_sqlite__bind_text(st, 1, id);
    aipm_sqlite__bind_text(st, 2, status);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return aipm_sqlite__db_error(s, err);
    if (sqlite3_changes(s->db) == 0)
        return aipm_error_set(err, AIPM_ENOTFOUND, "no decision %s", id);
    return AIPM_OK;
}

int sq_user_put(aipm_store *base, const aipm_user_row *row, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO people(name, role, "
                           "verifier_key, time_ms) VALUES(?1, ?2, ?3, ?4)",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    aipm_sqlite__bind_text(st, 1, row->name);
    aipm_sqlite__bind_text(st, 2, row->role);
    aipm_sqlite__bind_text(st, 3, row->verifier_key);
    sqlite3_bind_int64(st, 4, row->time_ms);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? AIPM_OK : aipm_sqlite__db_error(s, err);
}

static int user_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_user_row row;

    row.name = (const char *)sqlite3_column_text(st, 0);
    row.role = (const char *)sqlite3_column_text(st, 1);
    row.verifier_key = (const char *)sqlite3_column_text(st, 2);
    row.time_ms = sqlite3_column_int64(st, 3);
    return ((aipm_user_cb)r->cb)(r->ctx, &row);
}

int sq_user_list(aipm_store *base, const char *name, aipm_user_cb cb, void *ctx,
                 aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT name, role, verifier_key, time_ms FROM "
                           "people WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    aipm_sqlite__bind_text(st, 1, name);
    return aipm_sqlite__each_row(
        s, st, user_each, &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

int sq_approval_put(aipm_store *base, const aipm_approval_row *row,
                    aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO approvals(seq, decision_id, action, "
                           "user, time_ms, reason, value, message, signature)"
                           " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    sqlite3_bind_int64(st, 1, row->seq);
    aipm_sqlite__bind_text(st, 2, row->decision_id);
    aipm_sqlite__bind_text(st, 3, row->action);
    aipm_sqlite__bind_text(st, 4, row->user);
    sqlite3_bind_int64(st, 5, row->time_ms);
    aipm_sqlite__bind_text(st, 6, row->reason);
    aipm_sqlite__bind_text(st, 7, row->value);
    aipm_sqlite__bind_text(st, 8, row->message);
    aipm_sqlite__bind_text(st, 9, row->signature);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? AIPM_OK : aipm_sqlite__db_error(s, err);
}

static int approval_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_approval_row row;

    row.seq = sqlite3_column_int64(st, 0);
    row.decision_id = (const char *)sqlite3_column_text(st, 1);
    row.action = (const char *)sqlite3_column_text(st, 2);
    row.user = (const char *)sqlite3_column_text(st, 3);
    row.time_ms = sqlite3_column_int64(st, 4);
    row.reason = (const char *)sqlite3_column_text(st, 5);
    row.value = (const char *)sqlite3_column_text(st, 6);
    row.message = (const char *)sqlite3_column_text(st, 7);
    row.signature = (const char *)sqlite3_column_text(st, 8);
    return ((aipm_approval_cb)r->cb)(r->ctx, &row);
}

int sq_approval_list(aipm_store *base, const char *decision_id,
                     aipm_approval_cb cb, void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(
            s->db,
            "SELECT seq, decision_id, action, user, time_ms, reason, value,"
            " message, signature FROM approvals"
            " WHERE ?1 IS NULL OR decision_id = ?1 ORDER BY seq",
            -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    aipm_sqlite__bind_text(st, 1, decision_id);
    return aipm_sqlite__each_row(s, st, approval_each,
                                 &(aipm_sqlite__relay){(void (*)(void))cb, ctx},
                                 err);
}

/* A link adds (feedback, item) and drops a "no item" mark; an unlink
 * drops (feedback, item) and, when no item is left, marks the row about
 * no item (''). One statement each, in the caller's transaction. */
int sq_link_put(aipm_store *base, const char *feedback_id, const char *item_id,
                int unlink, const char *actor, int64_t time_ms, aipm_error *err)
{
    static const char *const link_sql[] = {
        "DELETE FROM feedback_links WHERE feedback_id = ?1 AND item_id = ''",
        "INSERT OR REPLACE INTO feedback_links(feedback_id, item_id, actor,"
        " time_ms) VALUES(?1, ?2, ?3, ?4)"};
    static const char *const unlink_sql[] = {
        "DELETE FROM feedback_links WHERE feedback_id = ?1 AND item_id = ?2",
        "INSERT OR REPLACE INTO feedback_links(feedback_id, item_id, actor,"
        " time_ms) SELECT ?1, '', ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM"
        " feedback_links WHERE feedback_id = ?1)"};
    const char *const *sql = unlink ? unlink_sql : link_sql;
    sqlite_store *s = (sqlite_store *)base;
    int k, rc = SQLITE_DONE;

    for (k = 0; k < 2 && rc == SQLITE_DONE; k++) {
        sqlite3_stmt *st = NULL;

        if (sqlite3_prepare_v2(s->db, sql[k], -1, &st, NULL) != SQLITE_OK)
            return aipm_sqlite__db_error(s, err);
        /* A parameter a statement does not use is ignored by its bind. */
        aipm_sqlite__bind_text(st, 1, feedback_id);
        if (sqlite3_bind_parameter_count(st) >= 2)
            aipm_sqlite__bind_text(st, 2, item_id);
        if (sqlite3_bind_parameter_count(st) >= 3) {
            aipm_sqlite__bind_text(st, 3, actor);
            sqlite3_bind_int64(st, 4, time_ms);
        }
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    return rc == SQLITE_DONE ? AIPM_OK : aipm_sqlite__db_error(s, err);
}

int sq_audit_frontier_get(aipm_store *base, int64_t *size, void *buf,
                          size_t cap, size_t *len, int *found, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st;
    int rc;

    *found = 0;
    if (s->base.schema_version < 6)
        return AIPM_OK; /* no frontier kept yet: read the log */
    if ((st = aipm_sqlite__stmt(s, S_FRONTIER_GET, err)) == NULL)
        return AIPM_ERROR;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 1);

        if (n <= cap) {
            *size = sqlite3_column_int64(st, 0);
            if (n)
                memcpy(buf, sqlite3_column_blob(st, 1), n);
            *len = n;
            *found = 1;
        }
        rc = SQLITE_DONE;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? AIPM_OK : aipm_sqlite__db_error(s, err);
}

int sq_audit_frontier_put(aipm_store *base, int64_t size, const void *buf,
                          size_t len, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st;

    if (s->base.schema_version < 6)
        return AIPM_OK;
    if ((st = aipm_sqlite__stmt(s, S_FRONTIER_PUT, err)) == NULL)
        return AIPM_ERROR;
    sqlite3_bind_int64(st, 1, size);
    sqlite3_bind_blob(st, 2, buf, (int)len, SQLITE_STATIC);
    return aipm_sqlite__step_done(s, st, err);
}

int sq_setting_get(aipm_store *base, const char *key, char *buf, size_t cap,
                   aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if (cap)
        *buf = '\0';
    if (s->base.schema_version < 10)
        return AIPM_OK; /* no settings kept yet */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT value FROM store_settings WHERE key = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    aipm_sqlite__bind_text(st, 1, key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);

        if (cap)
            snprintf(buf, cap, "%s", v ? v : "");
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? AIPM_OK : aipm_sqlite__db_error(s, err);
}

int sq_setting_put(aipm_store *base, const char *key, const char *value,
                   aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO store_settings(key, value) "
                           "VALUES(?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    aipm_sqlite__bind_text(st, 1, key);
    aipm_sqlite__bind_text(st, 2, value);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? AIPM_OK : aipm_sqlite__db_error(s, err);
}

int sq_policy_put(aipm_store *base, const aipm_policy_row *row, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO policy_versions(seq, time_ms, "
                           "policy_sha256, policies, actor, reason) "
                           "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    sqlite3_bind_int64(st, 1, row->seq);
    sqlite3_bind_int64(st, 2, row->time_ms);
    aipm_sqlite__bind_text(st, 3, row->policy_sha256);
    aipm_sqlite__bind_text(st, 4, row->policies);
    aipm_sqlite__bind_text(st, 5, row->actor);
    aipm_sqlite__bind_text(st, 6, row->reason);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? AIPM_OK : aipm_sqlite__db_error(s, err);
}

static int policy_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_policy_row row;

    row.seq = sqlite3_column_int64(st, 0);
    row.time_ms = sqlite3_column_int64(st, 1);
    row.policy_sha256 = (const char *)sqlite3_column_text(st, 2);
    row.policies = (const char *)sqlite3_column_text(st, 3);
    row.actor = (const char *)sqlite3_column_text(st, 4);
    row.reason = (const char *)sqlite3_column_text(st, 5);
    return ((aipm_policy_cb)r->cb)(r->ctx, &row);
}

int sq_policy_list(aipm_store *base, int latest_only, aipm_policy_cb cb,
                   void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, time_ms, policy_sha256, policies, "
                           "actor, reason FROM policy_versions ORDER BY seq "
                           "DESC LIMIT CASE WHEN ?1 THEN 1 ELSE -1 END",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    sqlite3_bind_int(st, 1, latest_only);
    return aipm_sqlite__each_row(s, st, policy_each,
                                 &(aipm_sqlite__relay){(void (*)(void))cb, ctx},
                                 err);
}
