/* decision.c - decision records (see decision.h). */
#include "aipm/decision.h"

#include "aipm/audit.h"
#include "aipm_gitversion.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *aipm_code_version(void)
{
    return AIPM_GIT_DESCRIBE;
}

typedef struct inputs_ctx {
    json_t *arr; /* the dataset's batches, for the record */
    json_t *ids; /* every batch id read, for decision_inputs */
} inputs_ctx;

static int add_batch(void *ctx, const aipm_batch_info *b)
{
    inputs_ctx *in = ctx;

    if (strcmp(b->status, "accepted") != 0)
        return 0;
    json_array_append_new(in->arr,
                          json_pack("{s:I, s:s?}", "id", (json_int_t)b->id,
                                    "rows_sha256",
                                    b->rows_sha256[0] ? b->rows_sha256 : NULL));
    json_array_append_new(in->ids, json_integer(b->id));
    return 0;
}

int aipm_decision_inputs(aipm_store *st, const char *const *datasets,
                         json_t *inputs, json_t *ids, aipm_error *err)
{
    char name[64];
    int i, rc = AIPM_OK;

    for (i = 0; rc == AIPM_OK && datasets && datasets[i]; i++) {
        inputs_ctx in = {json_array(), ids};

        if (in.arr == NULL)
            return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        rc = aipm_store_batch_list(st, datasets[i], 0, add_batch, &in, err);
        snprintf(name, sizeof(name), "%s_batches", datasets[i]);
        json_object_set_new(inputs, name, in.arr);
    }
    return rc;
}

void aipm_decision_digest(const char *output, char sha_out[65])
{
    uint8_t dig[32];

    aipm_sha256_oneshot(dig, output, strlen(output));
    aipm_hex(sha_out, dig, 32);
}

typedef struct older_ctx {
    const char *subject;
    json_t *ids;
} older_ctx;

/* Earlier records of the kind and subject, still proposed. */
static int add_older(void *ctx, const aipm_decision_row *r)
{
    older_ctx *o = ctx;

    if (strcmp(r->subject, o->subject) == 0)
        json_array_append_new(o->ids, json_string(r->id));
    return 0;
}

/* The record's risk, 0 to 1, from its output (NAN when the analysis has
 * none): for a ranking, the share of the top item's expected value its
 * downside takes (expected minus risk-adjusted, over expected); for an
 * experiment that ships, the chance the shipped treatment is not better
 * (1 - its chance to win on the first metric). */
static double record_risk(const aipm_decision_spec *spec)
{
    const json_t *doc = spec->doc;

    if (strcmp(spec->kind, "prioritize") == 0) {
        json_t *it = json_array_get(json_object_get(doc, "items"), 0);
        double ev = json_number_value(json_object_get(it, "expected_value"));
        double ra =
            json_number_value(json_object_get(it, "risk_adjusted_value"));

        if (it == NULL || !(ev > 0))
            return NAN;
        return fmin(1, fmax(0, (ev - ra) / ev));
    }
    if (strcmp(spec->kind, "experiment") == 0 &&
        strcmp(spec->decision, "ship") == 0) {
        json_t *m = json_array_get(json_object_get(doc, "metrics"), 0), *v;
        double best = NAN;
        size_t i;

        json_array_foreach(json_object_get(m, "variations"), i, v)
        {
            json_t *c = json_object_get(v, "chance_to_win");

            if (i > 0 && json_is_number(c) &&
                (isnan(best) || json_number_value(c) > best))
                best = json_number_value(c);
        }
        return isnan(best) ? NAN : 1 - best;
    }
    return NAN;
}

/* What keeps the record from counting without review, whatever its
 * confidence: a fairness rule it breaks (its output's "fairness"), a
 * forecast whose model did worse in its backtest than policies.models
 * allows. A new array (empty: nothing), NULL without memory. */
static json_t *holds(const aipm_decision_spec *spec, const aipm_config *cfg)
{
    json_t *out = json_array(), *fr;
    double bound = cfg->models.max_backtest_wape;
    size_t k;

    if (out == NULL)
        return NULL;
    json_array_foreach(json_object_get(spec->doc, "fairness"), k, fr)
    {
        if (json_is_true(json_object_get(fr, "held")))
            json_array_append_new(
                out,
                json_sprintf("fairness[%s by %s]",
                             json_string_value(json_object_get(fr, "metric")),
                             json_string_value(json_object_get(fr, "by"))));
    }
    if (strcmp(spec->kind, "forecast") == 0 && !isnan(bound)) {
        const char *model =
            json_string_value(json_object_get(spec->doc, "model"));
        char key[48];
        json_t *w;

        snprintf(key, sizeof(key), "%s_wape", model ? model : "");
        w = json_object_get(json_object_get(spec->doc, "backtest"), key);
        if (!json_is_number(w) || json_number_value(w) > bound)
            json_array_append_new(out, json_string("models.max_backtest_wape"));
    }
    return out;
}

/* The record's writes, in the open transaction: the row, its inputs, the
 * records it supersedes, its audit entry. */
static int write_record(aipm_store *st, const aipm_decision_row *d, json_t *ids,
                        json_t *older, const char *detail, uint64_t *size,
                        uint8_t head[32], aipm_error *err)
{
    size_t i;
    json_t *v;
    int rc;

    if ((rc = aipm_store_decision_put(st, d, err)) != 0)
        return rc;
    if (strcmp(d->status, "proposed") != 0 &&
        (rc = aipm_store_decision_set_status(st, d->id, d->status, err)) != 0)
        return rc;
    json_array_foreach(ids, i, v)
    {
        if ((rc = aipm_store_decision_input_put(st, d->id,
                                                json_integer_value(v), err)))
            return rc;
    }
    json_array_foreach(older, i, v)
    {
        if ((rc = aipm_store_decision_set_status(st, json_string_value(v),
                                                 "superseded", err)))
            return rc;
    }
    return aipm_audit_append(st, "decision", d->id, detail, size, head, err);
}

int aipm_decision_record(aipm_store *st, const aipm_decision_spec *spec,
                         int64_t now_ms, const char *checkpoint,
                         char id_out[37], aipm_error *err)
{
    aipm_decision_filter f = {NULL, spec->kind, "proposed", 0};
    aipm_decision_row d;
    json_t *inputs = json_object(), *ids = json_array(), *older = json_array();
    char *text = json_dumps(spec->doc, JSON_COMPACT | JSON_SORT_KEYS);
    char *inputs_s = NULL, *params_s = NULL, *detail = NULL, sha[65];
    char policy_sha[65];
    const aipm_decision_policy *rule;
    aipm_config *defaults = NULL;
    json_t *auto_ok = NULL, *held = NULL;
    double risk;
    older_ctx oc;
    uint8_t head[32];
    uint64_t size;
    int i, rc = AIPM_OK;

    if (!inputs || !ids || !older || !text) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = aipm_decision_inputs(st, spec->datasets, inputs, ids, err)) != 0)
        goto done;
    inputs_s = json_dumps(inputs, JSON_COMPACT | JSON_SORT_KEYS);
    params_s = spec->params
                   ? json_dumps(spec->params, JSON_COMPACT | JSON_SORT_KEYS)
                   : NULL;
    if (inputs_s == NULL || (spec->params && params_s == NULL)) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    aipm_decision_digest(text, sha);
    /* The policies in force: the workspace's, else the defaults. */
    if (spec->config == NULL &&
        (rc = aipm_config_new_default(&defaults, err)) != 0)
        goto done;
    aipm_config_policy_sha256(spec->config ? spec->config : defaults,
                              policy_sha);
    rule = aipm_config_decision_rule(spec->config ? spec->config : defaults,
                                     spec->kind, &i);
    /* A rule may let a confident enough record, of low enough risk,
     * count without review, unless another rule holds it. */
    risk = record_risk(spec);
    held = holds(spec, spec->config ? spec->config : defaults);
    if (held == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if (json_array_size(held) == 0 && !isnan(rule->auto_confidence) &&
        !isnan(spec->confidence) && spec->confidence >= rule->auto_confidence &&
        (isnan(rule->auto_max_risk) ||
         (!isnan(risk) && risk <= rule->auto_max_risk)))
        auto_ok = json_pack("{s:s, s:f, s:f}", "rule", rule->kind,
                            "auto_approve_confidence", rule->auto_confidence,
                            "confidence", spec->confidence);
    aipm_uuid4(id_out);
    memset(&d, 0, sizeof(d));
    d.id = id_out;
    d.time_ms = now_ms;
    d.kind = spec->kind;
    d.subject = spec->subject;
    d.decision = spec->decision;
    d.inputs = inputs_s;
    d.params = params_s;
    d.output_sha256 = sha;
    d.output = text;
    d.status = auto_ok ? "approved" : "proposed";
    d.model = spec->model;
    d.rationale = spec->rationale;
    d.confidence = spec->confidence;
    d.code_version = aipm_code_version();
    d.policy_sha256 = policy_sha;
    if ((rc = aipm_store_begin(st, err)) != 0)
        goto done;
    oc.subject = spec->subject;
    oc.ids = older;
    rc = aipm_store_decision_list(st, &f, add_older, &oc, err);
    if (rc == 0) {
        json_t *dj = json_pack(
            "{s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:O, s:O?}", "kind",
            spec->kind, "subject", spec->subject, "decision", spec->decision,
            "output_sha256", sha, "model", spec->model, "code_version",
            d.code_version, "policy_sha256", policy_sha, "supersedes", older,
            "auto_approved", auto_ok);

        if (dj) {
            json_object_set_new(dj, "risk",
                                isnan(risk) ? json_null() : json_real(risk));
            if (json_array_size(held))
                json_object_set(dj, "held", held);
        }

        detail = dj ? json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(dj);
        if (detail == NULL)
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    if (rc == 0)
        rc = write_record(st, &d, ids, older, detail, &size, head, err);
    if (rc == 0)
        rc = aipm_audit_commit(st, checkpoint, size, head, err);
    if (rc)
        aipm_store_rollback(st);
done:
    json_decref(inputs);
    json_decref(ids);
    json_decref(older);
    json_decref(auto_ok);
    json_decref(held);
    aipm_config_free(defaults);
    free(detail);
    free(text);
    free(inputs_s);
    free(params_s);
    return rc;
}

/* ---- verification against the data and the audit log ---- */

const char *aipm_decision_output_check(const aipm_decision_row *r)
{
    char sha[65];

    if (r->output == NULL)
        return "not stored";
    aipm_decision_digest(r->output, sha);
    return strcmp(sha, r->output_sha256) == 0 ? "ok" : "differs";
}

typedef struct vctx {
    json_t *audited; /* record id -> the digest its audit entry holds */
    aipm_decision_check *out;
    aipm_decision_problem_fn fn;
    void *ctx;
} vctx;

static int collect_entry(void *ctx, const aipm_audit_row *r)
{
    vctx *v = ctx;
    json_error_t jerr;
    json_t *e = json_loadb(r->entry, r->entry_len, 0, &jerr);
    const char *action = json_string_value(json_object_get(e, "action"));
    const char *object = json_string_value(json_object_get(e, "object"));
    json_t *sha =
        json_object_get(json_object_get(e, "detail"), "output_sha256");

    if (action && object && strcmp(action, "decision") == 0 &&
        json_is_string(sha))
        json_object_set(v->audited, object, sha);
    json_decref(e);
    return 0;
}

static void problem(vctx *v, const char *id, const char *what)
{
    v->out->bad++;
    if (v->fn)
        v->fn(v->ctx, id, what);
}

static int check_record(void *ctx, const aipm_decision_row *r)
{
    vctx *v = ctx;
    const char *logged = json_string_value(json_object_get(v->audited, r->id));
    const char *check = aipm_decision_output_check(r);

    v->out->records++;
    if (strcmp(check, "not stored") == 0) {
        v->out->not_stored++;
        return 0;
    }
    if (strcmp(check, "ok") != 0)
        problem(v, r->id,
                "its stored output does not hash to its recorded digest (the "
                "output was edited)");
    else if (logged == NULL)
        problem(v, r->id,
                "no audit entry records it (it was added outside "
                "aipm, or its entry was removed)");
    else if (strcmp(logged, r->output_sha256) != 0)
        problem(v, r->id,
                "its digest differs from the one its audit entry holds (the "
                "output and its digest were edited together)");
    return 0;
}

int aipm_decision_verify(aipm_store *st, aipm_decision_check *out,
                         aipm_decision_problem_fn fn, void *ctx,
                         aipm_error *err)
{
    aipm_decision_filter f = {NULL, NULL, NULL, 1};
    vctx v;
    int rc;

    memset(out, 0, sizeof(*out));
    v.audited = json_object();
    v.out = out;
    v.fn = fn;
    v.ctx = ctx;
    if (v.audited == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    rc = aipm_store_audit_list(st, collect_entry, &v, err);
    if (rc == AIPM_OK)
        rc = aipm_store_decision_list(st, &f, check_record, &v, err);
    json_decref(v.audited);
    return rc;
}
