/* views.c - the JSON documents of the read commands (views.h), for the
 * CLI's --json and the HTTP API.
 *
 * Each view walks a store listing with a callback that appends one
 * object per row to an array, then wraps the array in its document. A
 * view keeps all its state on its stack and in what it returns, so
 * concurrent calls on different stores do not meet; the commands' human
 * output keeps its own callbacks. */
#include "views.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared ---- */

/* The end of a list view: *out = {key: arr} when the listing went well
 * (rc), else arr dropped and rc returned. A NULL arr (json_array
 * failed; the listing was not run) is out of memory. */
static int finish(json_t **out, const char *key, json_t *arr, int rc,
                  aipm_error *err)
{
    json_t *doc;

    if (rc == AIPM_OK && arr == NULL)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if (rc != AIPM_OK) {
        json_decref(arr);
        return rc;
    }
    if ((doc = json_pack("{s:o}", key, arr)) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    *out = doc;
    return AIPM_OK;
}

int view_check_dataset(const char *dataset, aipm_error *err)
{
    if (dataset && !aipm_ingest_dataset_known(dataset))
        return aipm_error_set(err, AIPM_EINVALID,
                              "unknown dataset '%s' (events, backlog, "
                              "feedback, signals, graph)",
                              dataset);
    return AIPM_OK;
}

int view_check_reason(const char *reason, aipm_error *err)
{
    if (reason && !aipm_ingest_reason_known(reason))
        return aipm_error_set(err, AIPM_EINVALID,
                              "unknown reason code '%s'; see `aipm "
                              "quarantine -h` for the list",
                              reason);
    return AIPM_OK;
}

/* ---- quality, quarantine, lineage ---- */

static int quality_one(void *ctx, const aipm_batch_info *b)
{
    json_error_t jerr;
    json_t *r = b->report ? json_loads(b->report, 0, &jerr) : NULL;

    if (r) {
        json_object_set_new(r, "status", json_string(b->status));
        json_array_append_new(ctx, r);
    }
    return 0;
}

/* The batch views: quality (the latest of each dataset) and versions. */
static int batch_doc(aipm_store *st, const char *dataset, int latest_only,
                     aipm_batch_cb one, const char *key, json_t **out,
                     aipm_error *err)
{
    json_t *arr = json_array();
    int rc = view_check_dataset(dataset, err);

    if (rc == AIPM_OK && arr)
        rc = aipm_store_batch_list(st, dataset, latest_only, one, arr, err);
    return finish(out, key, arr, rc, err);
}

int view_quality(aipm_store *st, const char *dataset, json_t **out,
                 aipm_error *err)
{
    return batch_doc(st, dataset, 1, quality_one, "datasets", out, err);
}

static int quarantine_one(void *ctx, const aipm_quarantine_row *r)
{
    json_array_append_new(
        ctx, json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:o}", "batch_id",
                       (json_int_t)r->batch_id, "dataset", r->dataset, "file",
                       r->file, "line", (json_int_t)r->line, "reason",
                       r->reason, "detail", r->detail ? r->detail : "", "raw",
                       cli_raw_json(r->raw, r->raw_len)));
    return 0;
}

int view_quarantine(aipm_store *st, const char *reason, int64_t batch,
                    int64_t limit, json_t **out, aipm_error *err)
{
    json_t *arr = json_array();
    int rc = view_check_reason(reason, err);

    if (rc == AIPM_OK && arr)
        rc = aipm_store_quarantine_list(st, reason, batch, limit,
                                        quarantine_one, arr, err);
    return finish(out, "rows", arr, rc, err);
}

static int run_one(void *ctx, const aipm_run_row *r)
{
    json_error_t jerr;
    json_t *in = json_loads(r->inputs ? r->inputs : "[]", 0, &jerr);
    json_t *outs = json_loads(r->outputs ? r->outputs : "[]", 0, &jerr);
    char started[32], ended[32];

    aipm_time_format(started, r->started_ms);
    aipm_time_format(ended, r->ended_ms);
    json_array_append_new(
        ctx, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "run_id", r->id,
                       "job", r->job, "state", r->state, "started", started,
                       "ended", ended, "inputs", in ? in : json_array(),
                       "outputs", outs ? outs : json_array()));
    return 0;
}

int view_lineage_runs(aipm_store *st, json_t **out, aipm_error *err)
{
    json_t *arr = json_array();
    int rc = arr ? aipm_store_run_list(st, run_one, arr, err) : AIPM_OK;

    return finish(out, "runs", arr, rc, err);
}

/* ---- batches ---- */

json_t *view_batch_json(const aipm_batch_info *b, int with_report)
{
    char when[32];
    json_t *o;

    aipm_time_format(when, b->created_ms);
    o = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, "
        "s:s, s:s}",
        "batch_id", (json_int_t)b->id, "dataset", b->dataset, "status",
        b->status, "verdict", b->verdict, "source", b->source ? b->source : "",
        "source_sha256", b->source_sha256, "content_sha256", b->content_sha256,
        "read", (json_int_t)b->n_read, "accepted", (json_int_t)b->n_accepted,
        "duplicates", (json_int_t)b->n_duplicates, "quarantined",
        (json_int_t)b->n_quarantined, "created", when, "run_id", b->run_id);
    if (o && with_report && b->report) {
        json_error_t jerr;
        json_t *r = json_loads(b->report, 0, &jerr);

        if (r)
            json_object_set_new(o, "report", r);
    }
    return o;
}

static int batch_one(void *ctx, const aipm_batch_info *b)
{
    json_array_append_new(ctx, view_batch_json(b, 0));
    return 0;
}

int view_batches(aipm_store *st, const char *dataset, json_t **out,
                 aipm_error *err)
{
    return batch_doc(st, dataset, 0, batch_one, "batches", out, err);
}

int view_batch(aipm_store *st, int64_t id, json_t **out, aipm_error *err)
{
    aipm_batch_info b;
    json_t *o;
    int rc;

    if ((rc = aipm_store_batch_get(st, &b, id, err)) != AIPM_OK) {
        /* Say where the ids are rather than the store's own words. */
        if (rc == AIPM_ENOTFOUND) {
            aipm_error_clear(err);
            aipm_error_set(err, AIPM_ENOTFOUND,
                           "no batch %lld; list them with `aipm data "
                           "versions`",
                           (long long)id);
        }
        return rc;
    }
    o = view_batch_json(&b, 1);
    aipm_batch_info_clear(&b);
    if (o == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    *out = o;
    return AIPM_OK;
}

/* ---- audit ---- */

static int entry_one(void *ctx, const aipm_audit_row *r)
{
    json_error_t jerr;
    json_t *e = json_loadb(r->entry, r->entry_len, 0, &jerr);
    char leaf[65];

    aipm_hex(leaf, r->leaf, 32);
    json_array_append_new(
        ctx, json_pack("{s:I, s:o, s:s}", "seq", (json_int_t)r->seq, "entry",
                       e ? e : cli_raw_json(r->entry, r->entry_len),
                       "leaf_hash", leaf));
    return 0;
}

int view_audit_entries(aipm_store *st, json_t **out, aipm_error *err)
{
    json_t *arr = json_array();
    int rc = arr ? aipm_store_audit_list(st, entry_one, arr, err) : AIPM_OK;

    return finish(out, "entries", arr, rc, err);
}

/* The problems verify finds, each into the array ctx. */
static void decision_problem(void *ctx, const char *id, const char *problem)
{
    json_array_append_new(
        ctx, json_pack("{s:s, s:s}", "decision", id, "problem", problem));
}

static void batch_problem(void *ctx, const char *object, const char *problem)
{
    /* object is "batch:N" */
    json_array_append_new(
        ctx, json_pack("{s:s, s:s}", "batch", object + 6, "problem", problem));
}

static void signature_problem(void *ctx, const char *where, const char *problem)
{
    json_array_append_new(
        ctx, json_pack("{s:s, s:s}", "at", where, "problem", problem));
}

/* The kept checkpoint's part of verify's document. */
static json_t *kept_json(const char *kept, const aipm_audit_report *rep)
{
    static const char *const sig[] = {"unchecked", "ok", "not_signed", "bad"};
    json_t *o = json_pack("{s:s, s:I, s:b}", "file", kept, "entries",
                          (json_int_t)rep->kept_size, "signed", rep->kept_note);

    if (o && rep->kept_note) {
        json_object_set_new(o, "origin", json_string(rep->kept_origin));
        json_object_set_new(o, "signature",
                            json_string(sig[rep->kept_signature & 3]));
    }
    return o;
}

/* Signatures: people, keys and acts replayed from the log (govern.h),
 * into o's "signatures"; the number of problems into *bad. */
static int check_signatures(aipm_store *st, json_t *o, int64_t *bad,
                            aipm_error *err)
{
    aipm_govern_check gc;
    json_t *problems = json_array();
    int rc;

    if ((rc = aipm_govern_verify(st, &gc, signature_problem, problems, err)) !=
        AIPM_OK) {
        json_decref(problems);
        return rc;
    }
    json_object_set_new(
        o, "signatures",
        json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:o}", "intact", gc.bad == 0,
                  "users", (json_int_t)gc.users, "keys", (json_int_t)gc.keys,
                  "acts", (json_int_t)gc.acts, "valid",
                  (json_int_t)gc.signatures, "bootstrap",
                  (json_int_t)gc.bootstrap, "problems",
                  problems ? problems : json_array()));
    *bad = gc.bad;
    return AIPM_OK;
}

int view_audit_verify(aipm_store *st, const char *checkpoint, const char *kept,
                      const aipm_key *vkey, int data, json_t **out,
                      view_verify_result *res, aipm_error *err)
{
    view_verify_result mine, *r = res ? res : &mine;
    aipm_audit_report *rep = &r->report;
    json_t *data_bad = NULL, *o = NULL;
    char head[65];
    int rc;

    memset(r, 0, sizeof(*r));
    if ((rc = aipm_audit_verify_signed(st, checkpoint, kept, vkey, rep, err)) !=
        AIPM_OK)
        return rc;
    data_bad = json_array();
    if (data && rep->first_bad == 0 &&
        ((rc = aipm_decision_verify(st, &r->decisions, decision_problem,
                                    data_bad, err)) != AIPM_OK ||
         (rc = aipm_batch_verify(st, &r->batches, batch_problem, data_bad,
                                 err)) != AIPM_OK))
        goto done;
    if (rep->kept_bad)
        snprintf(r->problem, sizeof(r->problem),
                 "against the kept checkpoint %s: %s", kept, rep->problem);
    else
        snprintf(r->problem, sizeof(r->problem), "%s", rep->problem);
    aipm_hex(head, rep->head, 32);
    o = json_pack("{s:b, s:I, s:s}", "intact", rep->first_bad == 0, "entries",
                  (json_int_t)rep->size, "tree_head", head);
    if (o == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if (data)
        json_object_set_new(
            o, "data",
            json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:o}", "intact",
                      r->decisions.bad == 0 && r->batches.bad == 0, "decisions",
                      (json_int_t)r->decisions.records, "not_stored",
                      (json_int_t)r->decisions.not_stored, "batches",
                      (json_int_t)r->batches.batches, "rows",
                      (json_int_t)r->batches.rows, "batches_not_hashed",
                      (json_int_t)r->batches.not_hashed, "problems",
                      data_bad ? json_incref(data_bad) : json_array()));
    if (kept)
        json_object_set_new(o, "kept_checkpoint", kept_json(kept, rep));
    if (rep->first_bad) {
        json_object_set_new(o, "first_bad_entry", json_integer(rep->first_bad));
        json_object_set_new(o, "problem", json_string(r->problem));
    } else {
        json_object_set_new(
            o, "checkpoint",
            json_string(rep->checkpoint == AIPM_CHECKPOINT_MISSING  ? "missing"
                        : rep->checkpoint == AIPM_CHECKPOINT_BEHIND ? "behind"
                                                                    : "ok"));
        if ((rc = check_signatures(st, o, &r->signature_problems, err)) !=
            AIPM_OK)
            goto done;
    }
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(data_bad);
    return rc;
}

/* ---- decisions ---- */

/* A record's fields as JSON (inputs and params parsed). */
static json_t *record_json(const aipm_decision_row *r, int full)
{
    char when[32];
    json_t *o;

    aipm_time_format(when, r->time_ms);
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", r->id, "time",
                  when, "kind", r->kind, "subject", r->subject, "decision",
                  r->decision, "status", r->status ? r->status : "proposed",
                  "output_sha256", r->output_sha256);
    if (o && full) {
        json_error_t jerr;
        json_t *in = r->inputs ? json_loads(r->inputs, 0, &jerr) : NULL;
        json_t *pa = r->params ? json_loads(r->params, 0, &jerr) : NULL;
        json_t *out = r->output ? json_loads(r->output, 0, &jerr) : NULL;

        json_object_set_new(o, "model",
                            r->model ? json_string(r->model) : json_null());
        json_object_set_new(o, "rationale",
                            r->rationale ? json_string(r->rationale)
                                         : json_null());
        json_object_set_new(o, "confidence",
                            isnan(r->confidence) ? json_null()
                                                 : json_real(r->confidence));
        json_object_set_new(o, "code_version",
                            r->code_version ? json_string(r->code_version)
                                            : json_null());
        json_object_set_new(o, "policy_sha256",
                            r->policy_sha256 ? json_string(r->policy_sha256)
                                             : json_null());
        json_object_set_new(o, "inputs", in ? in : json_null());
        json_object_set_new(o, "params", pa ? pa : json_null());
        json_object_set_new(o, "output", out ? out : json_null());
    }
    return o;
}

static int decision_one(void *ctx, const aipm_decision_row *r)
{
    json_array_append_new(ctx, record_json(r, 0));
    return 0;
}

int view_decisions(aipm_store *st, const char *kind, const char *status,
                   json_t **out, aipm_error *err)
{
    aipm_decision_filter f = {NULL, NULL, NULL, 0};
    json_t *arr = json_array();
    int rc = AIPM_OK;

    f.kind = kind;
    f.status = status;
    if (arr)
        rc = aipm_store_decision_list(st, &f, decision_one, arr, err);
    return finish(out, "decisions", arr, rc, err);
}

/* The ids that start with a prefix: how many (up to 2) and the first two. */
typedef struct prefix_match {
    const char *prefix;
    size_t len;
    int n;
    char first[37];
    char second[37];
} prefix_match;

static int match_one(void *ctx, const aipm_decision_row *r)
{
    prefix_match *m = ctx;

    if (strncmp(r->id, m->prefix, m->len) != 0)
        return 0;
    if (++m->n > 1) {
        snprintf(m->second, sizeof(m->second), "%s", r->id);
        return 1; /* ambiguous: stop */
    }
    snprintf(m->first, sizeof(m->first), "%s", r->id);
    return 0;
}

int view_decision_id(aipm_store *st, const char *prefix, char id_out[37],
                     aipm_error *err)
{
    aipm_decision_filter f = {NULL, NULL, NULL, 0};
    prefix_match m;
    int rc;

    memset(&m, 0, sizeof(m));
    m.prefix = prefix;
    m.len = strlen(prefix);
    if (m.len == 36)
        f.id = prefix; /* a whole id: one indexed lookup */
    rc = aipm_store_decision_list(st, &f, match_one, &m, err);
    if (rc != AIPM_OK && rc != 1)
        return rc;
    if (m.n == 0)
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "no decision record '%s' (`aipm decisions "
                              "list` shows them)",
                              prefix);
    if (m.n > 1)
        return aipm_error_set(err, AIPM_EINVALID,
                              "'%s' is the start of several decision ids "
                              "(%s, %s, ...): give more of it",
                              prefix, m.first, m.second);
    snprintf(id_out, 37, "%s", m.first);
    return AIPM_OK;
}

/* The one record, with its output and the check of its digest. */
static int full_one(void *ctx, const aipm_decision_row *r)
{
    json_t **doc = ctx;

    *doc = record_json(r, 1);
    if (*doc)
        json_object_set_new(*doc, "output_check",
                            json_string(aipm_decision_output_check(r)));
    return 0;
}

static int act_one(void *ctx, const aipm_approval_row *a)
{
    char when[32];
    json_error_t jerr;
    json_t *v = a->value ? json_loads(a->value, 0, &jerr) : NULL;

    aipm_time_format(when, a->time_ms);
    json_array_append_new(ctx,
                          json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "seq",
                                    (json_int_t)a->seq, "action", a->action,
                                    "user", a->user, "time", when, "reason",
                                    a->reason, "value", v ? v : json_null()));
    return 0;
}

int view_decision(aipm_store *st, const char *id, json_t **out, aipm_error *err)
{
    aipm_decision_filter f = {NULL, NULL, NULL, 1};
    json_t *doc = NULL, *acts = NULL;
    char whole[37];
    int rc;

    /* Resolve the prefix without reading outputs, then read the one. */
    if ((rc = view_decision_id(st, id, whole, err)) != AIPM_OK)
        return rc;
    f.id = whole;
    rc = aipm_store_decision_list(st, &f, full_one, &doc, err);
    if (rc == AIPM_OK && (acts = json_array()) != NULL)
        rc = aipm_store_approval_list(st, whole, act_one, acts, err);
    if (rc == AIPM_OK && (doc == NULL || acts == NULL))
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if (rc != AIPM_OK) {
        json_decref(doc);
        json_decref(acts);
        return rc;
    }
    json_object_set_new(doc, "acts", acts);
    *out = doc;
    return AIPM_OK;
}

/* ---- people, policies, tokens ---- */

static int user_one(void *ctx, const aipm_user_row *r)
{
    json_array_append_new(ctx,
                          json_pack("{s:s, s:s, s:s?}", "name", r->name, "role",
                                    r->role, "key", r->verifier_key));
    return 0;
}

int view_users(aipm_store *st, json_t **out, aipm_error *err)
{
    json_t *arr = json_array();
    int rc = arr ? aipm_store_user_list(st, NULL, user_one, arr, err) : AIPM_OK;

    return finish(out, "users", arr, rc, err);
}

static int policy_one(void *ctx, const aipm_policy_row *r)
{
    char when[32];
    /* what the version held, as recorded (null if the row's text does
     * not parse: shown, never guessed) */
    json_t *held = r->policies ? json_loads(r->policies, 0, NULL) : NULL;

    aipm_time_format(when, r->time_ms);
    json_array_append_new(
        ctx, json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "seq",
                       (json_int_t)r->seq, "time", when, "policy_sha256",
                       r->policy_sha256, "actor", r->actor, "reason", r->reason,
                       "policies", held ? held : json_null()));
    return 0;
}

int view_policy_versions(aipm_store *st, json_t **out, aipm_error *err)
{
    json_t *arr = json_array();
    int rc =
        arr ? aipm_store_policy_list(st, 0, policy_one, arr, err) : AIPM_OK;

    return finish(out, "versions", arr, rc, err);
}

typedef struct token_listing {
    json_t *roles; /* user -> role now */
    json_t *arr;
} token_listing;

static int role_one(void *ctx, const aipm_user_row *r)
{
    json_object_set_new(ctx, r->name, json_string(r->role));
    return 0;
}

static int token_one(void *ctx, const aipm_token_row *r)
{
    token_listing *l = ctx;
    const char *role = json_string_value(json_object_get(l->roles, r->user));
    char created[32], revoked[32] = "-";

    aipm_time_format(created, r->created_ms);
    if (r->revoked_ms)
        aipm_time_format(revoked, r->revoked_ms);
    json_array_append_new(
        l->arr,
        json_pack("{s:I, s:s, s:s?, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?}",
                  "id", (json_int_t)r->id, "user", r->user, "role", role,
                  "name", r->name, "hint", r->hint, "created", created,
                  "created_by", r->created_by, "revoked",
                  r->revoked_ms ? revoked : NULL, "revoked_by", r->revoked_by,
                  "revoke_reason", r->revoke_reason));
    return 0;
}

int view_tokens(aipm_store *st, const char *user, json_t **out, aipm_error *err)
{
    token_listing l = {json_object(), json_array()};
    int rc = AIPM_OK;

    if (l.roles == NULL)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    else if (l.arr && (rc = aipm_store_user_list(st, NULL, role_one, l.roles,
                                                 err)) == AIPM_OK)
        rc = aipm_store_token_list(st, user, token_one, &l, err);
    json_decref(l.roles);
    return finish(out, "tokens", l.arr, rc, err);
}

/* ---- feedback links ---- */

static json_t *num_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* One row's links, with its text and account. NULL when out of
 * memory. */
static json_t *link_json(const aipm_link *l)
{
    json_t *items = json_array(), *cands = json_array(), *o;
    int i;

    for (i = 0; items && i < l->n_items; i++)
        json_array_append_new(items, json_pack("{s:s, s:o}", "item_id",
                                               l->items[i], "confidence",
                                               num_or_null(l->item_conf[i])));
    for (i = 0; cands && i < l->n_cands; i++)
        json_array_append_new(
            cands, json_pack("{s:s, s:s, s:o}", "item_id", l->cands[i].item_id,
                             "title", l->cands[i].title, "confidence",
                             num_or_null(l->cands[i].confidence)));
    o = json_pack(
        "{s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o}", "feedback_id",
        l->feedback_id, "item_id",
        l->item_id ? json_string(l->item_id) : json_null(), "score",
        num_or_null(l->score), "confidence", num_or_null(l->confidence),
        "status", aipm_link_status_name(l->status), "model_item",
        l->model_item ? json_string(l->model_item) : json_null(), "items",
        items ? items : json_null(), "candidates", cands ? cands : json_null());
    if (o &&
        (json_object_set_new(
             o, "text", l->text ? json_string(l->text) : json_null()) != 0 ||
         json_object_set_new(o, "account_id",
                             l->account_id ? json_string(l->account_id)
                                           : json_null()) != 0)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static json_t *eval_json(const aipm_link_eval *e)
{
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:b, s:f, s:s, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:[ffffff]}",
        "labelled", (json_int_t)e->labelled, "learnt_from",
        (json_int_t)e->learnt_from, "cv_rows", (json_int_t)e->cv_rows,
        "cv_none", (json_int_t)e->cv_none, "fitted", e->fitted, "threshold",
        e->threshold, "threshold_from",
        e->threshold_cv ? "cross-validation" : "default or --threshold", "top1",
        num_or_null(e->fitted ? e->top1 : NAN), "top3",
        num_or_null(e->fitted ? e->top3 : NAN), "linked_precision",
        num_or_null(e->fitted ? e->linked_precision : NAN), "linked_recall",
        num_or_null(e->fitted ? e->linked_recall : NAN), "review_share",
        num_or_null(e->fitted ? e->review_share : NAN), "review_top1",
        num_or_null(e->fitted ? e->review_top1 : NAN), "weights", e->weights[0],
        e->weights[1], e->weights[2], e->weights[3], e->weights[4],
        e->weights[5]);
}

typedef struct link_listing {
    const char *item;
    int review, summary;
    int64_t shown;
    json_t *arr;
    aipm_error *err;
} link_listing;

int view_link_kept(const aipm_link *l, const char *item, int review)
{
    int i;

    if (review && l->status != AIPM_LINK_REVIEW)
        return 0;
    if (item) {
        for (i = 0; i < l->n_items; i++)
            if (strcmp(l->items[i], item) == 0)
                return 1;
        return 0;
    }
    return 1;
}

static int link_one(void *ctx, const aipm_link *l)
{
    link_listing *s = ctx;
    json_t *o;

    if (!view_link_kept(l, s->item, s->review) || s->summary)
        return 0;
    s->shown++;
    if ((o = link_json(l)) == NULL || json_array_append_new(s->arr, o) != 0)
        return aipm_error_set(s->err, AIPM_ENOMEM, "out of memory");
    return 0;
}

int view_check_item(aipm_store *st, const char *item, aipm_error *err)
{
    int found = 0, rc;

    if (item == NULL)
        return AIPM_OK;
    if ((rc = aipm_store_row_visible(st, "backlog", item, &found, err)) != 0)
        return rc;
    return found ? AIPM_OK
                 : aipm_error_set(err, AIPM_ENOTFOUND,
                                  "no backlog item %s in the accepted data",
                                  item);
}

int view_feedback_links(aipm_store *st, const char *item, int review,
                        double threshold, int summary,
                        aipm_progress_fn progress, void *progress_ctx,
                        json_t **out, aipm_error *err)
{
    link_listing s = {item, review, summary, 0, json_array(), err};
    aipm_link_opts o;
    aipm_link_stats stats;
    json_t *sum = NULL, *doc = NULL;
    int rc;

    if (threshold != 0 && !(threshold > 0 && threshold <= 1))
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "the threshold is a number in (0, 1]");
    else if (s.arr == NULL)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    else
        rc = view_check_item(st, item, err);
    if (rc != AIPM_OK)
        goto done;
    memset(&o, 0, sizeof(o));
    o.threshold = threshold;
    o.progress = progress;
    o.progress_ctx = progress_ctx;
    if ((rc = aipm_feedback_links(st, &o, link_one, &s, &stats, err)) != 0)
        goto done;
    sum =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:o}", "rows",
                  (json_int_t)stats.rows, "shown", (json_int_t)s.shown, "given",
                  (json_int_t)stats.given, "linked", (json_int_t)stats.linked,
                  "needs_review", (json_int_t)stats.review, "corrected",
                  (json_int_t)stats.corrected, "items", (json_int_t)stats.items,
                  "several_items", (json_int_t)stats.multi, "threshold",
                  stats.eval.threshold, "model", eval_json(&stats.eval));
    if (sum == NULL || (doc = json_pack("{s:O, s:O}", "links", s.arr, "summary",
                                        sum)) == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    *out = doc;
done:
    json_decref(sum);
    json_decref(s.arr);
    return rc;
}
