/* records.c - the PostgreSQL store's records of what happened: lineage
 * runs, the audit log and its frontier, decision records, people and
 * their approvals, policy versions and feedback-link corrections (the
 * semantics of sqlite/records.c; rid stands for SQLite's rowid where rows
 * keep their insertion order). */
#include "store/pg/pg_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RELAY(cb, ctx) (&(aipm_pg__relay){(void (*)(void))(cb), (ctx)})

int pg_run_put(aipm_store *base, const aipm_run_row *run, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, run->id);
    aipm_pg__text(&p, run->job);
    aipm_pg__text(&p, run->state);
    aipm_pg__int(&p, run->started_ms);
    aipm_pg__int(&p, run->ended_ms);
    aipm_pg__text(&p, run->inputs);
    aipm_pg__text(&p, run->outputs);
    aipm_pg__text(&p, run->facets);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO runs(id, job, state, started_ms,"
                         " ended_ms, inputs, outputs, facets)"
                         " VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
                         &p, NULL, err);
}

static int run_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_run_row run;

    run.id = aipm_pg__col(r, 0);
    run.job = aipm_pg__col(r, 1);
    run.state = aipm_pg__col(r, 2);
    run.started_ms = aipm_pg__col_int(r, 3);
    run.ended_ms = aipm_pg__col_int(r, 4);
    run.inputs = aipm_pg__col(r, 5);
    run.outputs = aipm_pg__col(r, 6);
    run.facets = aipm_pg__col(r, 7);
    return ((aipm_run_cb)rl->cb)(rl->ctx, &run);
}

int pg_run_list(aipm_store *base, aipm_run_cb cb, void *ctx, aipm_error *err)
{
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT id, job, state, started_ms, ended_ms,"
                             " inputs, outputs, facets FROM runs"
                             " ORDER BY started_ms, rid",
                             NULL, run_each, RELAY(cb, ctx), err);
}

int pg_audit_put(aipm_store *base, const aipm_audit_row *row, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__int(&p, row->seq);
    aipm_pg__bytes(&p, row->entry, row->entry_len);
    aipm_pg__bytes(&p, row->leaf, 32);
    aipm_pg__bytes(&p, row->root, 32);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO audit(seq, entry, leaf, root)"
                         " VALUES($1, $2, $3, $4)",
                         &p, NULL, err);
}

static int audit_each(PGresult *r, void *ctx)
{
    static const uint8_t zero[32];
    aipm_pg__relay *rl = ctx;
    aipm_audit_row row;
    unsigned char *entry, *leaf, *root;
    size_t n_leaf, n_root;
    int rc;

    row.seq = aipm_pg__col_int(r, 0);
    entry = aipm_pg__col_bytes(r, 1, &row.entry_len);
    leaf = aipm_pg__col_bytes(r, 2, &n_leaf);
    root = aipm_pg__col_bytes(r, 3, &n_root);
    row.entry = entry ? (const char *)entry : "";
    row.leaf = leaf && n_leaf == 32 ? leaf : zero;
    row.root = root && n_root == 32 ? root : zero;
    rc = ((aipm_audit_cb)rl->cb)(rl->ctx, &row);
    free(entry);
    free(leaf);
    free(root);
    return rc;
}

int pg_audit_list(aipm_store *base, aipm_audit_cb cb, void *ctx,
                  aipm_error *err)
{
    /* Storage order is seq order (sqlite/records.c says why). */
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT seq, entry, leaf, root FROM audit"
                             " ORDER BY seq",
                             NULL, audit_each, RELAY(cb, ctx), err);
}

typedef struct last {
    int64_t *seq;
    uint8_t *root;
    int *found;
} last;

static int last_row(PGresult *r, void *ctx)
{
    last *l = ctx;
    size_t n;
    unsigned char *root = aipm_pg__col_bytes(r, 1, &n);

    *l->found = 1;
    *l->seq = aipm_pg__col_int(r, 0);
    if (root && n == 32)
        memcpy(l->root, root, 32);
    else
        memset(l->root, 0, 32);
    free(root);
    return 0;
}

int pg_audit_last(aipm_store *base, int64_t *seq, uint8_t root[32], int *found,
                  aipm_error *err)
{
    last l = {seq, root, found};

    *found = 0;
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT seq, root FROM audit ORDER BY seq DESC"
                             " LIMIT 1",
                             NULL, last_row, &l, err);
}

typedef struct frontier {
    int64_t *size;
    void *buf;
    size_t cap, *len;
    int *found;
} frontier;

static int frontier_row(PGresult *r, void *ctx)
{
    frontier *f = ctx;
    size_t n;
    unsigned char *nodes = aipm_pg__col_bytes(r, 1, &n);

    if (nodes && n <= f->cap) {
        *f->size = aipm_pg__col_int(r, 0);
        if (n)
            memcpy(f->buf, nodes, n);
        *f->len = n;
        *f->found = 1;
    }
    free(nodes);
    return 0;
}

int pg_audit_frontier_get(aipm_store *base, int64_t *size, void *buf,
                          size_t cap, size_t *len, int *found, aipm_error *err)
{
    frontier f = {size, buf, cap, len, found};

    *found = 0;
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT size, nodes FROM audit_frontier"
                             " WHERE id = 1",
                             NULL, frontier_row, &f, err);
}

int pg_audit_frontier_put(aipm_store *base, int64_t size, const void *buf,
                          size_t len, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__int(&p, size);
    aipm_pg__bytes(&p, buf, len);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO audit_frontier(id, size, nodes)"
                         " VALUES(1, $1, $2) ON CONFLICT (id) DO UPDATE"
                         " SET size = excluded.size, nodes = excluded.nodes",
                         &p, NULL, err);
}

int pg_decision_put(aipm_store *base, const aipm_decision_row *row,
                    aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, row->id);
    aipm_pg__int(&p, row->time_ms);
    aipm_pg__text(&p, row->kind);
    aipm_pg__text(&p, row->subject);
    aipm_pg__text(&p, row->decision);
    aipm_pg__text(&p, row->inputs);
    aipm_pg__text(&p, row->params);
    aipm_pg__text(&p, row->output_sha256);
    aipm_pg__text(&p, row->output);
    aipm_pg__text(&p, row->model);
    aipm_pg__text(&p, row->rationale);
    aipm_pg__stored_real(&p, row->confidence);
    aipm_pg__text(&p, row->code_version);
    aipm_pg__text(&p, row->policy_sha256);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO decisions(id, time_ms, kind, subject,"
                         " decision, inputs, params, output_sha256, output,"
                         " model, rationale, confidence, code_version,"
                         " policy_sha256) VALUES($1, $2, $3, $4, $5, $6, $7,"
                         " $8, $9, $10, $11, $12, $13, $14)",
                         &p, NULL, err);
}

static int decision_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_decision_row row;

    row.id = aipm_pg__col(r, 0);
    row.time_ms = aipm_pg__col_int(r, 1);
    row.kind = aipm_pg__col(r, 2);
    row.subject = aipm_pg__col(r, 3);
    row.decision = aipm_pg__col(r, 4);
    row.inputs = aipm_pg__col(r, 5);
    row.params = aipm_pg__col(r, 6);
    row.output_sha256 = aipm_pg__col(r, 7);
    row.status = aipm_pg__col(r, 8);
    row.output = aipm_pg__col(r, 9);
    row.model = aipm_pg__col(r, 10);
    row.rationale = aipm_pg__col(r, 11);
    row.confidence = aipm_pg__col(r, 12) ? aipm_pg__col_real(r, 12) : NAN;
    row.code_version = aipm_pg__col(r, 13);
    row.policy_sha256 = aipm_pg__col(r, 14);
    return ((aipm_decision_cb)rl->cb)(rl->ctx, &row);
}

int pg_decision_list(aipm_store *base, const aipm_decision_filter *f,
                     aipm_decision_cb cb, void *ctx, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, f ? f->id : NULL);
    aipm_pg__text(&p, f ? f->kind : NULL);
    aipm_pg__text(&p, f ? f->status : NULL);
    aipm_pg__int(&p, f ? f->with_output != 0 : 0);
    return aipm_pg__each_row(
        (pg_store *)base,
        "SELECT id, time_ms, kind, subject, decision, inputs, params,"
        " output_sha256, status, CASE WHEN $4::int <> 0 THEN output END,"
        " model, rationale, confidence, code_version, policy_sha256"
        " FROM decisions WHERE ($1::text IS NULL OR id = $1) AND"
        " ($2::text IS NULL OR kind = $2) AND"
        " ($3::text IS NULL OR status = $3) ORDER BY time_ms, rid",
        &p, decision_each, RELAY(cb, ctx), err);
}

int pg_decision_input_put(aipm_store *base, const char *decision_id,
                          int64_t batch_id, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__int(&p, batch_id);
    aipm_pg__text(&p, decision_id);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO decision_inputs(batch_id, decision_id)"
                         " VALUES($1, $2) ON CONFLICT DO NOTHING",
                         &p, NULL, err);
}

static int ref_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;

    return ((aipm_decision_ref_cb)rl->cb)(rl->ctx, aipm_pg__col(r, 0),
                                          aipm_pg__col(r, 1));
}

int pg_decisions_reading(aipm_store *base, int64_t batch_id,
                         aipm_decision_ref_cb cb, void *ctx, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__int(&p, batch_id);
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT d.id, d.status FROM decision_inputs i"
                             " JOIN decisions d ON d.id = i.decision_id"
                             " WHERE i.batch_id = $1 ORDER BY d.time_ms,"
                             " d.rid",
                             &p, ref_each, RELAY(cb, ctx), err);
}

int pg_decision_set_status(aipm_store *base, const char *id, const char *status,
                           aipm_error *err)
{
    pg_params p = {0};
    int64_t changed = 0;
    int rc;

    aipm_pg__text(&p, id);
    aipm_pg__text(&p, status);
    rc = aipm_pg__exec((pg_store *)base,
                       "UPDATE decisions SET status = $2 WHERE id = $1", &p,
                       &changed, err);
    if (rc == AIPM_OK && changed == 0)
        return aipm_error_set(err, AIPM_ENOTFOUND, "no decision %s", id);
    return rc;
}

int pg_user_put(aipm_store *base, const aipm_user_row *row, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, row->name);
    aipm_pg__text(&p, row->role);
    aipm_pg__text(&p, row->verifier_key);
    aipm_pg__int(&p, row->time_ms);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO people(name, role, verifier_key,"
                         " time_ms) VALUES($1, $2, $3, $4)"
                         " ON CONFLICT (name) DO UPDATE SET"
                         " role = excluded.role,"
                         " verifier_key = excluded.verifier_key,"
                         " time_ms = excluded.time_ms",
                         &p, NULL, err);
}

static int user_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_user_row row;

    row.name = aipm_pg__col(r, 0);
    row.role = aipm_pg__col(r, 1);
    row.verifier_key = aipm_pg__col(r, 2);
    row.time_ms = aipm_pg__col_int(r, 3);
    return ((aipm_user_cb)rl->cb)(rl->ctx, &row);
}

int pg_user_list(aipm_store *base, const char *name, aipm_user_cb cb, void *ctx,
                 aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, name);
    /* COLLATE "C": byte order, as SQLite's BINARY collation sorts. */
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT name, role, verifier_key, time_ms FROM"
                             " people WHERE $1::text IS NULL OR name = $1"
                             " ORDER BY name COLLATE \"C\"",
                             &p, user_each, RELAY(cb, ctx), err);
}

int pg_approval_put(aipm_store *base, const aipm_approval_row *row,
                    aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__int(&p, row->seq);
    aipm_pg__text(&p, row->decision_id);
    aipm_pg__text(&p, row->action);
    aipm_pg__text(&p, row->user);
    aipm_pg__int(&p, row->time_ms);
    aipm_pg__text(&p, row->reason);
    aipm_pg__text(&p, row->value);
    aipm_pg__text(&p, row->message);
    aipm_pg__text(&p, row->signature);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO approvals(seq, decision_id, action,"
                         " \"user\", time_ms, reason, value, message,"
                         " signature) VALUES($1, $2, $3, $4, $5, $6, $7, $8,"
                         " $9)",
                         &p, NULL, err);
}

static int approval_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_approval_row row;

    row.seq = aipm_pg__col_int(r, 0);
    row.decision_id = aipm_pg__col(r, 1);
    row.action = aipm_pg__col(r, 2);
    row.user = aipm_pg__col(r, 3);
    row.time_ms = aipm_pg__col_int(r, 4);
    row.reason = aipm_pg__col(r, 5);
    row.value = aipm_pg__col(r, 6);
    row.message = aipm_pg__col(r, 7);
    row.signature = aipm_pg__col(r, 8);
    return ((aipm_approval_cb)rl->cb)(rl->ctx, &row);
}

int pg_approval_list(aipm_store *base, const char *decision_id,
                     aipm_approval_cb cb, void *ctx, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, decision_id);
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT seq, decision_id, action, \"user\","
                             " time_ms, reason, value, message, signature"
                             " FROM approvals WHERE $1::text IS NULL OR"
                             " decision_id = $1 ORDER BY seq",
                             &p, approval_each, RELAY(cb, ctx), err);
}

typedef struct setting {
    char *buf;
    size_t cap;
} setting;

static int setting_row(PGresult *r, void *ctx)
{
    setting *v = ctx;
    const char *c = aipm_pg__col(r, 0);

    if (v->cap)
        snprintf(v->buf, v->cap, "%s", c ? c : "");
    return 0;
}

int pg_setting_get(aipm_store *base, const char *key, char *buf, size_t cap,
                   aipm_error *err)
{
    pg_params p = {0};
    setting v = {buf, cap};

    if (cap)
        *buf = '\0';
    aipm_pg__text(&p, key);
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT value FROM store_settings WHERE key = $1",
                             &p, setting_row, &v, err);
}

int pg_setting_put(aipm_store *base, const char *key, const char *value,
                   aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__text(&p, key);
    aipm_pg__text(&p, value);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO store_settings(key, value)"
                         " VALUES($1, $2) ON CONFLICT (key) DO UPDATE"
                         " SET value = excluded.value",
                         &p, NULL, err);
}

int pg_policy_put(aipm_store *base, const aipm_policy_row *row, aipm_error *err)
{
    pg_params p = {0};

    aipm_pg__int(&p, row->seq);
    aipm_pg__int(&p, row->time_ms);
    aipm_pg__text(&p, row->policy_sha256);
    aipm_pg__text(&p, row->policies);
    aipm_pg__text(&p, row->actor);
    aipm_pg__text(&p, row->reason);
    return aipm_pg__exec((pg_store *)base,
                         "INSERT INTO policy_versions(seq, time_ms,"
                         " policy_sha256, policies, actor, reason)"
                         " VALUES($1, $2, $3, $4, $5, $6)",
                         &p, NULL, err);
}

static int policy_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_policy_row row;

    row.seq = aipm_pg__col_int(r, 0);
    row.time_ms = aipm_pg__col_int(r, 1);
    row.policy_sha256 = aipm_pg__col(r, 2);
    row.policies = aipm_pg__col(r, 3);
    row.actor = aipm_pg__col(r, 4);
    row.reason = aipm_pg__col(r, 5);
    return ((aipm_policy_cb)rl->cb)(rl->ctx, &row);
}

int pg_policy_list(aipm_store *base, int latest_only, aipm_policy_cb cb,
                   void *ctx, aipm_error *err)
{
    return aipm_pg__each_row(
        (pg_store *)base,
        latest_only ? "SELECT seq, time_ms, policy_sha256, policies, actor,"
                      " reason FROM policy_versions ORDER BY seq DESC LIMIT 1"
                    : "SELECT seq, time_ms, policy_sha256, policies, actor,"
                      " reason FROM policy_versions ORDER BY seq DESC",
        NULL, policy_each, RELAY(cb, ctx), err);
}

/* A link adds (feedback, item) and drops a "no item" mark; an unlink
 * drops (feedback, item) and, when no item is left, marks the row about
 * no item (''). Two statements, in the caller's transaction. */
int pg_link_put(aipm_store *base, const char *feedback_id, const char *item_id,
                int unlink, const char *actor, int64_t time_ms, aipm_error *err)
{
    pg_store *s = (pg_store *)base;
    pg_params one = {0}, all = {0};
    int rc;

    aipm_pg__text(&one, feedback_id);
    aipm_pg__text(&one, item_id);
    aipm_pg__text(&all, feedback_id);
    aipm_pg__text(&all, item_id);
    aipm_pg__text(&all, actor);
    aipm_pg__int(&all, time_ms);
    if (!unlink) {
        rc = aipm_pg__exec(s,
                           "DELETE FROM feedback_links WHERE feedback_id = $1"
                           " AND item_id = '' AND $2::text IS NOT NULL",
                           &one, NULL, err);
        return rc ? rc
                  : aipm_pg__exec(s,
                                  "INSERT INTO feedback_links(feedback_id,"
                                  " item_id, actor, time_ms)"
                                  " VALUES($1, $2, $3, $4)"
                                  " ON CONFLICT (feedback_id, item_id) DO"
                                  " UPDATE SET actor = excluded.actor,"
                                  " time_ms = excluded.time_ms",
                                  &all, NULL, err);
    }
    rc = aipm_pg__exec(s,
                       "DELETE FROM feedback_links WHERE feedback_id = $1"
                       " AND item_id = $2",
                       &one, NULL, err);
    return rc ? rc
              : aipm_pg__exec(s,
                              "INSERT INTO feedback_links(feedback_id,"
                              " item_id, actor, time_ms)"
                              " SELECT $1, '', $3, $4 WHERE $2::text IS NOT"
                              " NULL AND NOT EXISTS (SELECT 1 FROM"
                              " feedback_links WHERE feedback_id = $1)",
                              &all, NULL, err);
}
