/* policy.c - policy versions and the policy check (policy.h). */
#include "aipm/policy.h"

#include "aipm/audit.h"
#include "aipm/prioritize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct latest {
    int found;
    char sha[65];
} latest;

static int take_latest(void *ctx, const aipm_policy_row *r)
{
    latest *l = ctx;

    l->found = 1;
    snprintf(l->sha, sizeof(l->sha), "%s", r->policy_sha256);
    return 0;
}

int aipm_policy_record(aipm_store *st, const aipm_config *cfg,
                       const char *reason, int64_t now_ms,
                       const char *checkpoint, int *recorded, aipm_error *err)
{
    json_t *pol = aipm_config_policies_json(cfg), *detail = NULL;
    char sha[65], *pol_s = NULL, *detail_s = NULL;
    aipm_policy_row row;
    latest l = {0, ""};
    uint8_t head[32];
    uint64_t size = 0;
    int rc;

    *recorded = 0;
    if (pol == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    aipm_config_policy_sha256(cfg, sha);
    /* The common case, nothing changed, costs one read and no write. */
    if (reason == NULL) {
        if ((rc = aipm_store_policy_list(st, 1, take_latest, &l, err)) != 0 ||
            (l.found && strcmp(l.sha, sha) == 0))
            goto done;
        l.found = 0;
    }
    if ((rc = aipm_store_begin(st, err)) != AIPM_OK)
        goto done;
    /* Looked up under the write lock, so two commands never both record
     * the same edit. */
    if ((rc = aipm_store_policy_list(st, 1, take_latest, &l, err)) != 0 ||
        (reason == NULL && l.found && strcmp(l.sha, sha) == 0)) {
        aipm_store_rollback(st);
        goto done;
    }
    pol_s = json_dumps(pol,
                       JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    detail = json_pack("{s:s, s:O, s:s, s:s?, s:b}", "policy_sha256", sha,
                       "policies", pol, "reason",
                       reason ? reason
                              : "aipm.yaml changed (found by the next "
                                "command)",
                       "previous", l.found ? l.sha : NULL, "changed",
                       !l.found || strcmp(l.sha, sha) != 0);
    detail_s = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS |
                                               JSON_REAL_PRECISION(15))
                      : NULL;
    if (pol_s == NULL || detail_s == NULL) {
        aipm_store_rollback(st);
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    rc = aipm_audit_append(st, "policy", sha, detail_s, &size, head, err);
    if (rc == AIPM_OK) {
        row.seq = (int64_t)size;
        row.time_ms = now_ms;
        row.policy_sha256 = sha;
        row.policies = pol_s;
        row.actor = aipm_audit_actor();
        row.reason = json_string_value(json_object_get(detail, "reason"));
        rc = aipm_store_policy_put(st, &row, err);
    }
    if (rc == AIPM_OK)
        rc = aipm_audit_commit(st, checkpoint, size, head, err);
    if (rc != AIPM_OK)
        aipm_store_rollback(st);
    else
        *recorded = 1;
done:
    json_decref(pol);
    json_decref(detail);
    free(pol_s);
    free(detail_s);
    return rc;
}

/* ---- the check ---- */

static int count_versions(void *ctx, const aipm_policy_row *r)
{
    (void)r;
    (*(int *)ctx)++;
    return 0;
}

/* Batches a data gate holds: staged ones (blocked, awaiting a person). */
static int held_batch(void *ctx, const aipm_batch_info *b)
{
    if (strcmp(b->status, "staged") == 0)
        json_array_append_new((json_t *)ctx,
                              json_pack("{s:I, s:s, s:s}", "batch",
                                        (json_int_t)b->id, "dataset",
                                        b->dataset, "verdict", b->verdict));
    return 0;
}

typedef struct held_ctx {
    aipm_store *st;
    const aipm_config *cfg;
    json_t *by_rule; /* rule name -> [held records] */
    int rc;
    aipm_error *err;
} held_ctx;

static int count_approvals(void *ctx, const aipm_approval_row *r)
{
    if (strcmp(r->action, "approve") == 0)
        (*(int *)ctx)++;
    return 0;
}

static void rule_name(const aipm_decision_policy *r, int idx, char *out,
                      size_t cap)
{
    if (idx >= 0)
        snprintf(out, cap, "decisions[%s]", r->kind);
    else
        snprintf(out, cap, "decisions (default)");
}

/* A proposed record waits on the rule for its kind. */
static int held_record(void *ctx, const aipm_decision_row *d)
{
    held_ctx *h = ctx;
    const aipm_decision_policy *r;
    char name[64];
    json_t *arr;
    int idx, have = 0;

    r = aipm_config_decision_rule(h->cfg, d->kind, &idx);
    rule_name(r, idx, name, sizeof(name));
    if ((h->rc = aipm_store_approval_list(h->st, d->id, count_approvals, &have,
                                          h->err)) != AIPM_OK)
        return 1;
    if ((arr = json_object_get(h->by_rule, name)) == NULL) {
        arr = json_array();
        json_object_set_new(h->by_rule, name, arr);
    }
    json_array_append_new(
        arr, json_pack("{s:s, s:s, s:s, s:i, s:i}", "decision", d->id, "kind",
                       d->kind, "subject", d->subject, "approvals", have,
                       "approvals_needed", r->approvals));
    return 0;
}

static json_t *decision_rule_json(const aipm_decision_policy *r,
                                  const char *name, json_t *held)
{
    return json_pack(
        "{s:s, s:b, s:i, s:s, s:o, s:O}", "rule", name, "satisfied", 1,
        "approvals", r->approvals, "role", r->admin_only ? "admin" : "approver",
        "auto_approve_confidence",
        isnan(r->auto_confidence) ? json_null() : json_real(r->auto_confidence),
        "holds", held ? held : json_array());
}

/* Proposed experiment records a fairness rule kept from counting
 * without review: their output's "fairness" entry for the rule is held. */
static int fair_held(void *ctx, const aipm_decision_row *d)
{
    json_t *rules = ctx, *doc, *f, *r;
    json_error_t jerr;
    size_t i, j;

    if (d->output == NULL || (doc = json_loads(d->output, 0, &jerr)) == NULL)
        return 0;
    json_array_foreach(json_object_get(doc, "fairness"), i, f)
    {
        if (!json_is_true(json_object_get(f, "held")))
            continue;
        json_array_foreach(rules, j, r)
        {
            if (json_equal(json_object_get(r, "metric"),
                           json_object_get(f, "metric")) &&
                json_equal(json_object_get(r, "by"), json_object_get(f, "by")))
                json_array_append_new(
                    json_object_get(r, "holds"),
                    json_pack("{s:s, s:s, s:O}", "decision", d->id, "subject",
                              d->subject, "gap", json_object_get(f, "gap")));
        }
    }
    json_decref(doc);
    return 0;
}

typedef struct model_ctx {
    double bound;
    json_t *holds;
} model_ctx;

/* Proposed forecasts whose model's backtest WAPE is over the bound (or
 * that have no backtest): they wait for people. */
static int model_held(void *ctx, const aipm_decision_row *d)
{
    model_ctx *mc = ctx;
    json_error_t jerr;
    json_t *doc, *w;
    char key[48];

    if (d->output == NULL || (doc = json_loads(d->output, 0, &jerr)) == NULL)
        return 0;
    snprintf(key, sizeof(key), "%s_wape",
             json_string_value(json_object_get(doc, "model"))
                 ? json_string_value(json_object_get(doc, "model"))
                 : "");
    w = json_object_get(json_object_get(doc, "backtest"), key);
    if (json_object_get(doc, "model") &&
        (!json_is_number(w) || json_number_value(w) > mc->bound))
        json_array_append_new(mc->holds,
                              json_pack("{s:s, s:s, s:O}", "decision", d->id,
                                        "subject", d->subject, "backtest_wape",
                                        w ? w : json_null()));
    json_decref(doc);
    return 0;
}

int aipm_policy_check(aipm_store *st, const aipm_config *cfg, json_t **out,
                      int *violated, aipm_error *err)
{
    aipm_decision_filter f = {NULL, NULL, "proposed", 0};
    json_t *rules = json_array(), *staged = json_array(), *pii_bad;
    held_ctx h = {st, cfg, json_object(), AIPM_OK, err};
    latest l = {0, ""};
    char sha[65], name[64];
    int rc, i, versions = 0, has_star = 0;

    *out = NULL;
    *violated = 0;
    pii_bad = json_array();
    if (!rules || !staged || !h.by_rule || !pii_bad) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    aipm_config_policy_sha256(cfg, sha);
    if ((rc = aipm_store_policy_list(st, 1, take_latest, &l, err)) != 0 ||
        (rc = aipm_store_policy_list(st, 0, count_versions, &versions, err)) !=
            0 ||
        (rc = aipm_store_batch_list(st, NULL, 0, held_batch, staged, err)) != 0)
        goto done;
    rc = aipm_store_decision_list(st, &f, held_record, &h, err);
    if (rc == 1)
        rc = h.rc;
    if (rc)
        goto done;
    /* data: the ingest gates; a staged batch is held until a person
     * accepts or rejects it */
    json_array_append_new(
        rules, json_pack("{s:s, s:b, s:f, s:s, s:O}", "rule", "data",
                         "satisfied", 1, "max_quarantine_share",
                         cfg->data.max_quarantine_share, "on_schema_change",
                         cfg->data.schema_change_blocks ? "block" : "warn",
                         "holds", staged));
    for (i = 0; i < cfg->n_decision_rules; i++) {
        const aipm_decision_policy *r = &cfg->decision_rules[i];

        rule_name(r, i, name, sizeof(name));
        has_star |= strcmp(r->kind, "*") == 0;
        json_array_append_new(
            rules,
            decision_rule_json(r, name, json_object_get(h.by_rule, name)));
    }
    if (!has_star) {
        const aipm_decision_policy *r =
            aipm_config_decision_rule(cfg, "none", &i);

        rule_name(r, -1, name, sizeof(name));
        json_array_append_new(
            rules,
            decision_rule_json(r, name, json_object_get(h.by_rule, name)));
    }
    /* fairness: the records each rule holds back from counting without
     * review */
    {
        aipm_decision_filter ff = {NULL, "experiment", "proposed", 1};
        json_t *fr = json_array();

        for (i = 0; fr && i < cfg->n_fairness; i++) {
            const aipm_fairness_policy *fp = &cfg->fairness[i];

            snprintf(name, sizeof(name), "fairness[%s by %s]", fp->metric,
                     fp->by);
            json_array_append_new(
                fr, json_pack("{s:s, s:b, s:s, s:s, s:f, s:f, s:[]}", "rule",
                              name, "satisfied", 1, "metric", fp->metric, "by",
                              fp->by, "max_gap", fp->max_gap, "min_units",
                              fp->min_units, "holds"));
        }
        if (fr == NULL) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        if (json_array_size(fr) &&
            (rc = aipm_store_decision_list(st, &ff, fair_held, fr, err)) != 0) {
            json_decref(fr);
            goto done;
        }
        json_array_extend(rules, fr);
        json_decref(fr);
    }
    /* models: when the ranking model is used; which forecasts wait */
    {
        aipm_decision_filter mf = {NULL, "forecast", "proposed", 1};
        model_ctx mc = {cfg->models.max_backtest_wape, json_array()};

        if (mc.holds == NULL) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        if (!isnan(mc.bound) && (rc = aipm_store_decision_list(
                                     st, &mf, model_held, &mc, err)) != 0) {
            json_decref(mc.holds);
            goto done;
        }
        json_array_append_new(
            rules,
            json_pack("{s:s, s:b, s:f, s:o, s:o}", "rule", "models",
                      "satisfied", 1, "min_trained", cfg->models.min_trained,
                      "max_backtest_wape",
                      isnan(mc.bound) ? json_null() : json_real(mc.bound),
                      "holds", mc.holds));
    }
    /* pii: no model feature reads a marked column */
    for (i = 0; aipm_pz_feature_columns[i]; i++)
        if (aipm_config_pii_marked(cfg, aipm_pz_feature_columns[i]))
            json_array_append_new(
                pii_bad, json_pack("{s:s, s:s}", "model", "prioritize",
                                   "column", aipm_pz_feature_columns[i]));
    {
        json_t *names = json_array();

        for (i = 0; names && i < cfg->n_pii; i++)
            json_array_append_new(names, json_string(cfg->pii[i]));
        json_array_append_new(
            rules,
            json_pack("{s:s, s:b, s:o, s:O}", "rule", "pii", "satisfied",
                      json_array_size(pii_bad) == 0, "names",
                      names ? names : json_array(), "violations", pii_bad));
        *violated += json_array_size(pii_bad) > 0;
    }
    *out = json_pack("{s:s, s:b, s:i, s:O}", "policy_sha256", sha, "recorded",
                     l.found && strcmp(l.sha, sha) == 0, "versions", versions,
                     "rules", rules);
    if (*out == NULL)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
done:
    json_decref(rules);
    json_decref(staged);
    json_decref(pii_bad);
    json_decref(h.by_rule);
    return rc;
}
