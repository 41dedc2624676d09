/* policy.c - the policies of aipm.yaml: their defaults, their loaders
 * (called by config.c's typed pass), and their canonical form and version
 * (config.h). */
#include "config/config_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void aipm_config__model_defaults(aipm_model_policy *m)
{
    m->min_trained = 10;
    m->max_backtest_wape = NAN;
}

void aipm_data_policy_defaults(aipm_data_policy *p)
{
    p->max_quarantine_share = 0.05;
    p->schema_change_blocks = 0;
    p->max_staleness_hours = 48;
    p->volume_low = 0.5;
    p->volume_high = 2.0;
    p->max_quarantine_samples = 10000;
}

static const aipm_decision_policy default_rule = {"*", 1, 0, NAN, NAN};

const aipm_decision_policy *
aipm_config_decision_rule(const aipm_config *cfg, const char *kind, int *index)
{
    int i, star = -1;

    for (i = 0; i < cfg->n_decision_rules; i++) {
        if (strcmp(cfg->decision_rules[i].kind, kind) == 0) {
            if (index)
                *index = i;
            return &cfg->decision_rules[i];
        }
        if (strcmp(cfg->decision_rules[i].kind, "*") == 0)
            star = i;
    }
    if (index)
        *index = star;
    return star >= 0 ? &cfg->decision_rules[star] : &default_rule;
}

int aipm_config_pii_marked(const aipm_config *cfg, const char *ds_column)
{
    const char *dot = strchr(ds_column, '.');
    int i;

    for (i = 0; i < cfg->n_pii; i++)
        if (strcmp(cfg->pii[i], ds_column) == 0 ||
            (dot && strcmp(cfg->pii[i], dot + 1) == 0))
            return 1;
    return 0;
}

json_t *aipm_config_policies_json(const aipm_config *cfg)
{
    const aipm_data_policy *p = &cfg->data;
    json_t *rules = json_array(), *pii = json_array(), *fair = json_array(), *o;
    int i;

    for (i = 0; fair && i < cfg->n_fairness; i++)
        json_array_append_new(
            fair, json_pack("{s:s, s:s, s:f, s:f}", "metric",
                            cfg->fairness[i].metric, "by", cfg->fairness[i].by,
                            "max_gap", cfg->fairness[i].max_gap, "min_units",
                            cfg->fairness[i].min_units));

    for (i = 0; rules && i < cfg->n_decision_rules; i++) {
        const aipm_decision_policy *r = &cfg->decision_rules[i];

        json_array_append_new(rules,
                              json_pack("{s:s, s:i, s:s, s:o}", "kind", r->kind,
                                        "approvals", r->approvals, "role",
                                        r->admin_only ? "admin" : "approver",
                                        "auto_approve_confidence",
                                        isnan(r->auto_confidence)
                                            ? json_null()
                                            : json_real(r->auto_confidence)));
        json_object_set_new(json_array_get(rules, json_array_size(rules) - 1),
                            "auto_approve_max_risk",
                            isnan(r->auto_max_risk)
                                ? json_null()
                                : json_real(r->auto_max_risk));
    }
    for (i = 0; pii && i < cfg->n_pii; i++)
        json_array_append_new(pii, json_string(cfg->pii[i]));
    o = json_pack("{s:{s:f, s:f, s:f, s:s, s:f, s:f}, s:o, s:o, s:o}", "data",
                  "max_quarantine_samples", p->max_quarantine_samples,
                  "max_quarantine_share", p->max_quarantine_share,
                  "max_staleness_hours", p->max_staleness_hours,
                  "on_schema_change",
                  p->schema_change_blocks ? "block" : "warn", "volume_high",
                  p->volume_high, "volume_low", p->volume_low, "decisions",
                  rules ? rules : json_array(), "pii", pii ? pii : json_array(),
                  "fairness", fair ? fair : json_array());
    if (o)
        json_object_set_new(
            o, "models",
            json_pack("{s:f, s:o}", "min_trained", cfg->models.min_trained,
                      "max_backtest_wape",
                      isnan(cfg->models.max_backtest_wape)
                          ? json_null()
                          : json_real(cfg->models.max_backtest_wape)));
    return o;
}

void aipm_config_policy_sha256(const aipm_config *cfg, char out[65])
{
    json_t *o = aipm_config_policies_json(cfg);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS |
                                       JSON_REAL_PRECISION(15))
                   : NULL;
    uint8_t d[32];

    aipm_sha256_oneshot(d, text ? text : "", text ? strlen(text) : 0);
    aipm_hex(out, d, 32);
    free(text);
    json_decref(o);
}

/* policies.decisions: a list of rules, one per kind (or "*"). */
static int load_decision_rules(walk *w, aipm_config *cfg, yaml_node_t *n)
{
    static const char *const kinds[] = {"experiment", "prioritize", "forecast",
                                        "*"};
    yaml_node_item_t *it;
    int rc, i, j;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_SEQUENCE_NODE)
        return aipm_config__bad(
            w, n,
            "policies.decisions: expected a list of rules, e.g. "
            "- {kind: prioritize, approvals: 2}");
    cfg->decision_rules = calloc(
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) + 1,
        sizeof(aipm_decision_policy));
    if (cfg->decision_rules == NULL)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *x = yaml_document_get_node(w->doc, *it);
        aipm_decision_policy *r = &cfg->decision_rules[cfg->n_decision_rules];
        double approvals = 1, conf = NAN, risk = NAN;
        char *role = NULL;
        int known = 0;

        if (x == NULL || x->type != YAML_MAPPING_NODE)
            return aipm_config__bad(
                w, x, "policies.decisions: each rule is a mapping");
        cfg->n_decision_rules++;
        r->auto_confidence = NAN;
        r->auto_max_risk = NAN;
        if ((rc = aipm_config__get_str(w, x, "kind", &r->kind)) != 0 ||
            (rc = aipm_config__get_num(w, x, "approvals", &approvals)) != 0 ||
            (rc = aipm_config__get_num(w, x, "auto_approve_confidence",
                                       &conf)) != 0 ||
            (rc = aipm_config__get_num(w, x, "auto_approve_max_risk", &risk)) !=
                0 ||
            (rc = aipm_config__get_str(w, x, "role", &role)) != 0) {
            free(role);
            return rc;
        }
        if (r->kind == NULL) {
            free(role);
            return aipm_config__bad(
                w, x,
                "policies.decisions: a rule needs kind "
                "(experiment, prioritize, forecast or \"*\")");
        }
        for (j = 0; j < 4; j++)
            known |= strcmp(r->kind, kinds[j]) == 0;
        if (!known) {
            free(role);
            return aipm_config__bad(
                w, aipm_config__get(w, x, "kind"),
                "kind must be experiment, prioritize, forecast or "
                "\"*\"");
        }
        for (i = 0; i + 1 < cfg->n_decision_rules; i++)
            if (strcmp(cfg->decision_rules[i].kind, r->kind) == 0) {
                free(role);
                return aipm_config__bad(
                    w, aipm_config__get(w, x, "kind"),
                    "policies.decisions: a second rule for this kind");
            }
        if (approvals < 1 || approvals > 100 || approvals != floor(approvals)) {
            free(role);
            return aipm_config__bad(
                w, aipm_config__get(w, x, "approvals"),
                "approvals must be a whole number from 1 to 100");
        }
        r->approvals = (int)approvals;
        if (role && strcmp(role, "admin") == 0)
            r->admin_only = 1;
        else if (role && strcmp(role, "approver") != 0) {
            free(role);
            return aipm_config__bad(w, aipm_config__get(w, x, "role"),
                                    "role must be approver or admin");
        }
        free(role);
        if (!isnan(conf) && (conf < 0 || conf > 1))
            return aipm_config__bad(
                w, aipm_config__get(w, x, "auto_approve_confidence"),
                "auto_approve_confidence must be between 0 and 1");
        r->auto_confidence = conf;
        if (!isnan(risk) && (risk < 0 || risk > 1))
            return aipm_config__bad(
                w, aipm_config__get(w, x, "auto_approve_max_risk"),
                "auto_approve_max_risk must be between 0 and 1");
        if (!isnan(risk) && isnan(conf))
            return aipm_config__bad(
                w, aipm_config__get(w, x, "auto_approve_max_risk"),
                "auto_approve_max_risk bounds auto_approve_confidence: "
                "set that too");
        r->auto_max_risk = risk;
    }
    return AIPM_OK;
}

/* policies.fairness: a list of {metric, by, max_gap[, min_units]}. */
static int load_fairness(walk *w, aipm_config *cfg, yaml_node_t *n)
{
    yaml_node_item_t *it;
    int rc;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_SEQUENCE_NODE)
        return aipm_config__bad(
            w, n,
            "policies.fairness: expected a list of rules, e.g. - "
            "{metric: purchase, by: plan, max_gap: 0.1}");
    cfg->fairness = calloc(
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) + 1,
        sizeof(aipm_fairness_policy));
    if (cfg->fairness == NULL)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *x = yaml_document_get_node(w->doc, *it);
        aipm_fairness_policy *f = &cfg->fairness[cfg->n_fairness];

        if (x == NULL || x->type != YAML_MAPPING_NODE)
            return aipm_config__bad(
                w, x, "policies.fairness: each rule is a mapping");
        cfg->n_fairness++;
        f->max_gap = NAN;
        f->min_units = 30;
        if ((rc = aipm_config__get_str(w, x, "metric", &f->metric)) != 0 ||
            (rc = aipm_config__get_str(w, x, "by", &f->by)) != 0 ||
            (rc = aipm_config__get_num(w, x, "max_gap", &f->max_gap)) != 0 ||
            (rc = aipm_config__get_num(w, x, "min_units", &f->min_units)) != 0)
            return rc;
        if (f->metric == NULL || f->by == NULL || isnan(f->max_gap))
            return aipm_config__bad(
                w, x,
                "policies.fairness: a rule needs metric, by and "
                "max_gap");
        if (aipm_config_metric(cfg, f->metric) == NULL)
            return aipm_config__bad(
                w, aipm_config__get(w, x, "metric"),
                "policies.fairness: no such metric in metrics:");
        if (!(f->max_gap > 0))
            return aipm_config__bad(
                w, aipm_config__get(w, x, "max_gap"),
                "max_gap must be above 0 (a relative lift gap, e.g. "
                "0.1)");
        if (f->min_units < 2 || f->min_units != floor(f->min_units))
            return aipm_config__bad(
                w, aipm_config__get(w, x, "min_units"),
                "min_units must be a whole number, 2 or more");
    }
    return AIPM_OK;
}

/* policies.models: {min_trained, max_backtest_wape}. */
static int load_models(walk *w, aipm_config *cfg, yaml_node_t *n)
{
    aipm_model_policy *m = &cfg->models;
    int rc;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_MAPPING_NODE)
        return aipm_config__bad(w, n,
                                "policies.models: expected a mapping, e.g. "
                                "{min_trained: 10}");
    if ((rc = aipm_config__get_num(w, n, "min_trained", &m->min_trained)) !=
            0 ||
        (rc = aipm_config__get_num(w, n, "max_backtest_wape",
                                   &m->max_backtest_wape)) != 0)
        return rc;
    if (m->min_trained < 3 || m->min_trained != floor(m->min_trained))
        return aipm_config__bad(
            w, aipm_config__get(w, n, "min_trained"),
            "min_trained must be a whole number, 3 or more");
    if (!isnan(m->max_backtest_wape) && !(m->max_backtest_wape > 0))
        return aipm_config__bad(w, aipm_config__get(w, n, "max_backtest_wape"),
                                "max_backtest_wape must be above 0 (0.3: 30%)");
    return AIPM_OK;
}

int aipm_config__load_policies(walk *w, aipm_config *cfg, yaml_node_t *n)
{
    yaml_node_t *data = aipm_config__get(w, n, "data"), *osc;
    aipm_data_policy *p = &cfg->data;
    int rc;

    /* policies: with nothing under it is no policy; any other value that
     * is not a mapping would hide its policies, so it is refused. */
    if (n && n->type != YAML_MAPPING_NODE &&
        !(n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0))
        return aipm_config__bad(
            w, n, "policies: expected a mapping, e.g. data: {...}");
    if ((rc = load_decision_rules(w, cfg,
                                  aipm_config__get(w, n, "decisions"))) != 0 ||
        (rc = load_fairness(w, cfg, aipm_config__get(w, n, "fairness"))) != 0 ||
        (rc = load_models(w, cfg, aipm_config__get(w, n, "models"))) != 0 ||
        (rc = aipm_config__get_list(w, n, "pii", &cfg->pii, &cfg->n_pii)) != 0)
        return rc;
    if (data == NULL)
        return AIPM_OK;
    if (data->type != YAML_MAPPING_NODE)
        return aipm_config__bad(w, data, "policies.data: expected a mapping");
    if ((rc = aipm_config__get_num(w, data, "max_quarantine_share",
                                   &p->max_quarantine_share)) != 0 ||
        (rc = aipm_config__get_num(w, data, "max_staleness_hours",
                                   &p->max_staleness_hours)) != 0 ||
        (rc = aipm_config__get_num(w, data, "volume_low", &p->volume_low)) !=
            0 ||
        (rc = aipm_config__get_num(w, data, "volume_high", &p->volume_high)) !=
            0 ||
        (rc = aipm_config__get_num(w, data, "max_quarantine_samples",
                                   &p->max_quarantine_samples)) != 0)
        return rc;
    if (p->max_quarantine_samples < 0 ||
        p->max_quarantine_samples != floor(p->max_quarantine_samples))
        return aipm_config__bad(
            w, aipm_config__get(w, data, "max_quarantine_samples"),
            "max_quarantine_samples must be a whole number, 0 or more");
    if (p->max_quarantine_share < 0 || p->max_quarantine_share > 1)
        return aipm_config__bad(
            w, aipm_config__get(w, data, "max_quarantine_share"),
            "max_quarantine_share must be between 0 and 1");
    osc = aipm_config__get(w, data, "on_schema_change");
    if (osc) {
        const char *s = aipm_config__scalar(osc);

        if (s && strcmp(s, "block") == 0)
            p->schema_change_blocks = 1;
        else if (s && strcmp(s, "warn") == 0)
            p->schema_change_blocks = 0;
        else
            return aipm_config__bad(w, osc,
                                    "on_schema_change must be warn or block");
    }
    return AIPM_OK;
}

void aipm_config__free_policies(aipm_config *cfg)
{
    int i;

    for (i = 0; i < cfg->n_decision_rules; i++)
        free(cfg->decision_rules[i].kind);
    free(cfg->decision_rules);
    for (i = 0; i < cfg->n_pii; i++)
        free(cfg->pii[i]);
    free(cfg->pii);
    for (i = 0; i < cfg->n_fairness; i++) {
        free(cfg->fairness[i].metric);
        free(cfg->fairness[i].by);
    }
    free(cfg->fairness);
}
