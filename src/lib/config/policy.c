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

void aipm_config__monitor_defaults(aipm_monitor_policy *m)
{
    m->dataset_drift_share = 0.5;
    m->max_ece = 0.1;
    m->max_mape = 0.5;
    m->min_coverage_80 = 0.5;
}

void aipm_config__scenario_defaults(aipm_scenario_policy *p)
{
    p->risk_aversion = 0.5; /* AIPM_SCENARIO_DEFAULT_RISK_AVERSION */
    p->tail = 0.05;         /* AIPM_SCENARIO_DEFAULT_TAIL */
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
    /* Only when set, so that the policy version of a workspace without
     * promotion rules is what it was before they existed. */
    if (o && cfg->models.n_promote > 0) {
        json_t *arr = json_array();

        for (i = 0; arr && i < cfg->models.n_promote; i++) {
            const aipm_promote_rule *r = &cfg->models.promote[i];
            json_t *min = json_object(), *max = json_object();
            int j;

            for (j = 0; j < r->n_bounds; j++)
                json_object_set_new(r->bounds[j].is_max ? max : min,
                                    r->bounds[j].metric,
                                    json_real(r->bounds[j].bound));
            json_array_append_new(
                arr,
                json_pack(
                    "{s:s, s:o, s:o, s:o, s:o, s:s}", "model", r->model, "min",
                    min, "max", max, "fairness",
                    r->gap_metric
                        ? json_pack("{s:s, s:f, s:f}", "metric", r->gap_metric,
                                    "max_gap", r->max_gap, "min_rows",
                                    r->min_rows)
                        : json_null(),
                    "max_segment_ece",
                    isnan(r->max_segment_ece) ? json_null()
                                              : json_real(r->max_segment_ece),
                    "on_alert", r->on_alert_rollback ? "rollback" : "alert"));
        }
        json_object_set_new(json_object_get(o, "models"), "promote",
                            arr ? arr : json_array());
    }
    if (o && cfg->scenarios.set)
        json_object_set_new(o, "scenarios",
                            json_pack("{s:f, s:f}", "risk_aversion",
                                      cfg->scenarios.risk_aversion, "tail",
                                      cfg->scenarios.tail));
    if (o && cfg->monitor.set) {
        const aipm_monitor_policy *m = &cfg->monitor;
        json_t *feats = json_array();

        for (i = 0; feats && i < m->n_features; i++)
            json_array_append_new(
                feats, json_pack("{s:s, s:s, s:s?, s:o}", "model",
                                 m->features[i].model, "feature",
                                 m->features[i].feature, "test",
                                 m->features[i].test, "threshold",
                                 isnan(m->features[i].threshold)
                                     ? json_null()
                                     : json_real(m->features[i].threshold)));
        json_object_set_new(
            o, "monitor",
            json_pack("{s:f, s:f, s:f, s:f, s:o}", "dataset_drift_share",
                      m->dataset_drift_share, "max_ece", m->max_ece, "max_mape",
                      m->max_mape, "min_coverage_80", m->min_coverage_80,
                      "features", feats ? feats : json_array()));
    }
    return o;
}

const aipm_promote_rule *aipm_config_promote_rule(const aipm_config *cfg,
                                                  const char *model)
{
    int i;

    for (i = 0; cfg && i < cfg->models.n_promote; i++)
        if (strcmp(cfg->models.promote[i].model, model) == 0)
            return &cfg->models.promote[i];
    return NULL;
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
                                        "model", "*"};
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
                "(experiment, prioritize, forecast, model or \"*\")");
        }
        for (j = 0; j < (int)(sizeof(kinds) / sizeof(kinds[0])); j++)
            known |= strcmp(r->kind, kinds[j]) == 0;
        if (!known) {
            free(role);
            return aipm_config__bad(
                w, aipm_yaml_get(w, x, "kind"),
                "kind must be experiment, prioritize, forecast, model or "
                "\"*\"");
        }
        for (i = 0; i + 1 < cfg->n_decision_rules; i++)
            if (strcmp(cfg->decision_rules[i].kind, r->kind) == 0) {
                free(role);
                return aipm_config__bad(
                    w, aipm_yaml_get(w, x, "kind"),
                    "policies.decisions: a second rule for this kind");
            }
        if (approvals < 1 || approvals > 100 || approvals != floor(approvals)) {
            free(role);
            return aipm_config__bad(
                w, aipm_yaml_get(w, x, "approvals"),
                "approvals must be a whole number from 1 to 100");
        }
        r->approvals = (int)approvals;
        if (role && strcmp(role, "admin") == 0)
            r->admin_only = 1;
        else if (role && strcmp(role, "approver") != 0) {
            free(role);
            return aipm_config__bad(w, aipm_yaml_get(w, x, "role"),
                                    "role must be approver or admin");
        }
        free(role);
        if (!isnan(conf) && (conf < 0 || conf > 1))
            return aipm_config__bad(
                w, aipm_yaml_get(w, x, "auto_approve_confidence"),
                "auto_approve_confidence must be between 0 and 1");
        r->auto_confidence = conf;
        if (!isnan(risk) && (risk < 0 || risk > 1))
            return aipm_config__bad(
                w, aipm_yaml_get(w, x, "auto_approve_max_risk"),
                "auto_approve_max_risk must be between 0 and 1");
        if (!isnan(risk) && isnan(conf))
            return aipm_config__bad(
                w, aipm_yaml_get(w, x, "auto_approve_max_risk"),
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
                w, aipm_yaml_get(w, x, "metric"),
                "policies.fairness: no such metric in metrics:");
        if (!(f->max_gap > 0))
            return aipm_config__bad(
                w, aipm_yaml_get(w, x, "max_gap"),
                "max_gap must be above 0 (a relative lift gap, e.g. "
                "0.1)");
        if (f->min_units < 2 || f->min_units != floor(f->min_units))
            return aipm_config__bad(
                w, aipm_yaml_get(w, x, "min_units"),
                "min_units must be a whole number, 2 or more");
    }
    return AIPM_OK;
}

/* The holdout metrics each model reports (models.h): what min:, max: and
 * fairness: may name. */
static const char *const value_metrics[] = {"mae", "rmse", "spearman",
                                            "p10_p90_coverage", NULL};
static const char *const adoption_metrics[] = {"auc", "log_loss",    "brier",
                                               "ece", "coverage_80", NULL};

static const char *const *metrics_of(const char *model)
{
    if (strcmp(model, "value") == 0)
        return value_metrics;
    if (strcmp(model, "adoption") == 0)
        return adoption_metrics;
    return NULL;
}

static int known_metric(const char *const *names, const char *m)
{
    for (; *names; names++)
        if (strcmp(*names, m) == 0)
            return 1;
    return 0;
}

static int metric_error(walk *w, yaml_node_t *n, const char *model,
                        const char *m)
{
    const char *const *names = metrics_of(model);
    char msg[300];
    size_t used;

    used = (size_t)snprintf(msg, sizeof(msg),
                            "policies.models.promote: %s reports no metric "
                            "'%s'; it has ",
                            model, m);
    for (; *names && used < sizeof(msg); names++)
        used +=
            (size_t)snprintf(msg + used, sizeof(msg) - used, "%s%s",
                             names == metrics_of(model) ? "" : ", ", *names);
    return aipm_config__bad(w, n, msg);
}

/* min: or max: {metric: bound, ...} of a promotion rule. */
static int load_bounds(walk *w, aipm_promote_rule *r, yaml_node_t *n,
                       int is_max)
{
    yaml_node_pair_t *pr;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_MAPPING_NODE)
        return aipm_config__bad(w, n,
                                is_max ? "max: expected {metric: ceiling}, "
                                         "e.g. {ece: 0.05}"
                                       : "min: expected {metric: floor}, "
                                         "e.g. {auc: 0.6}");
    for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(w->doc, pr->value);
        const char *ks = aipm_yaml_scalar(k), *vs = aipm_yaml_scalar(v);
        aipm_metric_bound *b = &r->bounds[r->n_bounds];
        double x;

        if (ks == NULL || !known_metric(metrics_of(r->model), ks))
            return metric_error(w, k, r->model, ks ? ks : "?");
        if (vs == NULL || aipm_decimal_parse(vs, &x) != AIPM_OK || !isfinite(x))
            return aipm_config__bad(w, v, "a metric bound must be a number");
        if ((b->metric = strdup(ks)) == NULL)
            return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
        b->bound = x;
        b->is_max = is_max;
        r->n_bounds++;
    }
    return AIPM_OK;
}

static size_t pairs_of(yaml_node_t *n)
{
    return n && n->type == YAML_MAPPING_NODE
               ? (size_t)(n->data.mapping.pairs.top -
                          n->data.mapping.pairs.start)
               : 0;
}

/* policies.models.promote: a list of rules, one per model. */
static int load_promote(walk *w, aipm_model_policy *m, yaml_node_t *n)
{
    yaml_node_item_t *it;
    int rc;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_SEQUENCE_NODE)
        return aipm_config__bad(w, n,
                                "policies.models.promote: expected a list of "
                                "rules, e.g. - {model: adoption, min: {auc: "
                                "0.6}}");
    m->promote = calloc(
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) + 1,
        sizeof(aipm_promote_rule));
    if (m->promote == NULL)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *x = yaml_document_get_node(w->doc, *it), *f, *oa;
        aipm_promote_rule *r = &m->promote[m->n_promote];
        int j;

        if (x == NULL || x->type != YAML_MAPPING_NODE)
            return aipm_config__bad(
                w, x, "policies.models.promote: each rule is a mapping");
        m->n_promote++;
        r->max_gap = r->max_segment_ece = NAN;
        r->min_rows = 30;
        if ((rc = aipm_config__get_str(w, x, "model", &r->model)) != 0 ||
            (rc = aipm_config__get_num(w, x, "max_segment_ece",
                                       &r->max_segment_ece)) != 0)
            return rc;
        if (r->model == NULL || metrics_of(r->model) == NULL)
            return aipm_config__bad(
                w, r->model ? aipm_yaml_get(w, x, "model") : x,
                "policies.models.promote: model must be value or adoption");
        for (j = 0; j < m->n_promote - 1; j++)
            if (strcmp(m->promote[j].model, r->model) == 0)
                return aipm_config__bad(w, x,
                                        "policies.models.promote: a second "
                                        "rule for the same model");
        r->bounds = calloc(pairs_of(aipm_yaml_get(w, x, "min")) +
                               pairs_of(aipm_yaml_get(w, x, "max")) + 1,
                           sizeof(aipm_metric_bound));
        if (r->bounds == NULL)
            return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
        if ((rc = load_bounds(w, r, aipm_yaml_get(w, x, "min"), 0)) != 0 ||
            (rc = load_bounds(w, r, aipm_yaml_get(w, x, "max"), 1)) != 0)
            return rc;
        if (!isnan(r->max_segment_ece) &&
            !(r->max_segment_ece > 0 && r->max_segment_ece <= 1))
            return aipm_config__bad(w, aipm_yaml_get(w, x, "max_segment_ece"),
                                    "max_segment_ece must be in (0, 1]");
        if ((f = aipm_yaml_get(w, x, "fairness")) != NULL) {
            if (f->type != YAML_MAPPING_NODE)
                return aipm_config__bad(w, f,
                                        "fairness: expected {metric, max_gap"
                                        "[, min_rows]}");
            if ((rc = aipm_config__get_str(w, f, "metric", &r->gap_metric)) !=
                    0 ||
                (rc = aipm_config__get_num(w, f, "max_gap", &r->max_gap)) !=
                    0 ||
                (rc = aipm_config__get_num(w, f, "min_rows", &r->min_rows)) !=
                    0)
                return rc;
            if (r->gap_metric == NULL || isnan(r->max_gap))
                return aipm_config__bad(w, f,
                                        "fairness: needs metric and max_gap");
            if (!known_metric(metrics_of(r->model), r->gap_metric))
                return metric_error(w, aipm_yaml_get(w, f, "metric"), r->model,
                                    r->gap_metric);
            if (!(r->max_gap > 0))
                return aipm_config__bad(w, aipm_yaml_get(w, f, "max_gap"),
                                        "max_gap must be above 0");
            if (r->min_rows < 1 || r->min_rows != floor(r->min_rows))
                return aipm_config__bad(w, aipm_yaml_get(w, f, "min_rows"),
                                        "min_rows must be a whole number, 1 "
                                        "or more");
        }
        if ((oa = aipm_yaml_get(w, x, "on_alert")) != NULL) {
            const char *s = aipm_yaml_scalar(oa);

            if (s && strcmp(s, "rollback") == 0)
                r->on_alert_rollback = 1;
            else if (!(s && strcmp(s, "alert") == 0))
                return aipm_config__bad(w, oa,
                                        "on_alert must be rollback or alert");
        }
    }
    return AIPM_OK;
}

/* policies.monitor: {dataset_drift_share, max_ece, max_mape,
 * min_coverage_80, features: [{model, feature, test, threshold}]}. */
static int load_scenarios(walk *w, aipm_scenario_policy *p, yaml_node_t *n)
{
    int rc;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_MAPPING_NODE)
        return aipm_config__bad(w, n,
                                "policies.scenarios: expected a mapping, e.g. "
                                "{risk_aversion: 0.5, tail: 0.05}");
    p->set = 1;
    if ((rc = aipm_config__get_num(w, n, "risk_aversion", &p->risk_aversion)) !=
            0 ||
        (rc = aipm_config__get_num(w, n, "tail", &p->tail)) != 0)
        return rc;
    if (!(p->risk_aversion >= 0 && p->risk_aversion <= 1))
        return aipm_config__bad(w, aipm_yaml_get(w, n, "risk_aversion"),
                                "policies.scenarios.risk_aversion must be in "
                                "[0, 1]");
    if (!(p->tail > 0 && p->tail <= 1))
        return aipm_config__bad(w, aipm_yaml_get(w, n, "tail"),
                                "policies.scenarios.tail must be in (0, 1], "
                                "e.g. 0.05");
    return AIPM_OK;
}

static int load_monitor(walk *w, aipm_monitor_policy *m, yaml_node_t *n)
{
    static const char *const tests[] = {
        "ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi", NULL};
    yaml_node_t *fs;
    yaml_node_item_t *it;
    int rc, j;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_MAPPING_NODE)
        return aipm_config__bad(w, n,
                                "policies.monitor: expected a mapping, e.g. "
                                "{max_ece: 0.1}");
    m->set = 1;
    if ((rc = aipm_config__get_num(w, n, "dataset_drift_share",
                                   &m->dataset_drift_share)) != 0 ||
        (rc = aipm_config__get_num(w, n, "max_ece", &m->max_ece)) != 0 ||
        (rc = aipm_config__get_num(w, n, "max_mape", &m->max_mape)) != 0 ||
        (rc = aipm_config__get_num(w, n, "min_coverage_80",
                                   &m->min_coverage_80)) != 0)
        return rc;
    if (!(m->dataset_drift_share > 0 && m->dataset_drift_share <= 1))
        return aipm_config__bad(w, aipm_yaml_get(w, n, "dataset_drift_share"),
                                "dataset_drift_share must be in (0, 1]");
    if (!(m->max_ece > 0 && m->max_ece <= 1))
        return aipm_config__bad(w, aipm_yaml_get(w, n, "max_ece"),
                                "max_ece must be in (0, 1]");
    if (!(m->max_mape > 0))
        return aipm_config__bad(w, aipm_yaml_get(w, n, "max_mape"),
                                "max_mape must be above 0 (0.5: 50%)");
    if (!(m->min_coverage_80 >= 0 && m->min_coverage_80 <= 1))
        return aipm_config__bad(w, aipm_yaml_get(w, n, "min_coverage_80"),
                                "min_coverage_80 must be in [0, 1]");
    if ((fs = aipm_yaml_get(w, n, "features")) == NULL)
        return AIPM_OK;
    if (fs->type != YAML_SEQUENCE_NODE)
        return aipm_config__bad(w, fs,
                                "policies.monitor.features: expected a list, "
                                "e.g. - {model: value, feature: reach, test: "
                                "psi, threshold: 0.2}");
    m->features = calloc(
        (size_t)(fs->data.sequence.items.top - fs->data.sequence.items.start) +
            1,
        sizeof(aipm_monitor_feature));
    if (m->features == NULL)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    for (it = fs->data.sequence.items.start; it < fs->data.sequence.items.top;
         it++) {
        yaml_node_t *x = yaml_document_get_node(w->doc, *it);
        aipm_monitor_feature *f = &m->features[m->n_features];
        int known = 0;

        if (x == NULL || x->type != YAML_MAPPING_NODE)
            return aipm_config__bad(w, x,
                                    "policies.monitor.features: each entry "
                                    "is a mapping");
        m->n_features++;
        f->threshold = NAN;
        if ((rc = aipm_config__get_str(w, x, "model", &f->model)) != 0 ||
            (rc = aipm_config__get_str(w, x, "feature", &f->feature)) != 0 ||
            (rc = aipm_config__get_str(w, x, "test", &f->test)) != 0 ||
            (rc = aipm_config__get_num(w, x, "threshold", &f->threshold)) != 0)
            return rc;
        if (f->model == NULL || f->feature == NULL)
            return aipm_config__bad(w, x,
                                    "policies.monitor.features: an entry "
                                    "needs model and feature");
        if (metrics_of(f->model) == NULL)
            return aipm_config__bad(w, aipm_yaml_get(w, x, "model"),
                                    "model must be value or adoption");
        for (j = 0; f->test && tests[j]; j++)
            known |= strcmp(f->test, tests[j]) == 0;
        if (f->test && !known)
            return aipm_config__bad(w, aipm_yaml_get(w, x, "test"),
                                    "test must be ks, chisquare, z, "
                                    "wasserstein, jensenshannon or psi");
        if (!isnan(f->threshold) && !(f->threshold > 0))
            return aipm_config__bad(w, aipm_yaml_get(w, x, "threshold"),
                                    "threshold must be above 0");
    }
    return AIPM_OK;
}

/* policies.models: {min_trained, max_backtest_wape, promote}. */
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
                                   &m->max_backtest_wape)) != 0 ||
        (rc = load_promote(w, m, aipm_yaml_get(w, n, "promote"))) != 0)
        return rc;
    if (m->min_trained < 3 || m->min_trained != floor(m->min_trained))
        return aipm_config__bad(
            w, aipm_yaml_get(w, n, "min_trained"),
            "min_trained must be a whole number, 3 or more");
    if (!isnan(m->max_backtest_wape) && !(m->max_backtest_wape > 0))
        return aipm_config__bad(w, aipm_yaml_get(w, n, "max_backtest_wape"),
                                "max_backtest_wape must be above 0 (0.3: 30%)");
    return AIPM_OK;
}

int aipm_config__load_policies(walk *w, aipm_config *cfg, yaml_node_t *n)
{
    yaml_node_t *data = aipm_yaml_get(w, n, "data"), *osc;
    aipm_data_policy *p = &cfg->data;
    int rc;

    /* policies: with nothing under it is no policy; any other value that
     * is not a mapping would hide its policies, so it is refused. */
    if (n && n->type != YAML_MAPPING_NODE &&
        !(n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0))
        return aipm_config__bad(
            w, n, "policies: expected a mapping, e.g. data: {...}");
    if ((rc = load_decision_rules(w, cfg, aipm_yaml_get(w, n, "decisions"))) !=
            0 ||
        (rc = load_fairness(w, cfg, aipm_yaml_get(w, n, "fairness"))) != 0 ||
        (rc = load_models(w, cfg, aipm_yaml_get(w, n, "models"))) != 0 ||
        (rc = load_monitor(w, &cfg->monitor, aipm_yaml_get(w, n, "monitor"))) !=
            0 ||
        (rc = load_scenarios(w, &cfg->scenarios,
                             aipm_yaml_get(w, n, "scenarios"))) != 0 ||
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
            w, aipm_yaml_get(w, data, "max_quarantine_samples"),
            "max_quarantine_samples must be a whole number, 0 or more");
    if (p->max_quarantine_share < 0 || p->max_quarantine_share > 1)
        return aipm_config__bad(w,
                                aipm_yaml_get(w, data, "max_quarantine_share"),
                                "max_quarantine_share must be between 0 and 1");
    osc = aipm_yaml_get(w, data, "on_schema_change");
    if (osc) {
        const char *s = aipm_yaml_scalar(osc);

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
    for (i = 0; i < cfg->models.n_promote; i++) {
        aipm_promote_rule *r = &cfg->models.promote[i];
        int j;

        for (j = 0; j < r->n_bounds; j++)
            free(r->bounds[j].metric);
        free(r->bounds);
        free(r->model);
        free(r->gap_metric);
    }
    free(cfg->models.promote);
    for (i = 0; i < cfg->monitor.n_features; i++) {
        free(cfg->monitor.features[i].model);
        free(cfg->monitor.features[i].feature);
        free(cfg->monitor.features[i].test);
    }
    free(cfg->monitor.features);
}
