/* test_config.c - unit tests of aipm_config_load (aipm.yaml).
 *
 * Each case writes a YAML file to a temporary directory and loads it. The
 * expected values are the ones written in the YAML text of the test (or in
 * the template's text, read by eye); error cases check the code and that
 * the message names the file and the line of the offending value, counted
 * by hand in the text below (1-based, as config.h promises).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aipm/config.h"

#include <jansson.h>
#include "testutil.h"

typedef struct tmp {
    char dir[256];
    char path[300];
} tmp;

static int setup(void **state)
{
    tmp *t = calloc(1, sizeof(*t));

    if (t == NULL || tu_mkdtemp(t->dir, sizeof(t->dir)) == NULL)
        return -1;
    snprintf(t->path, sizeof(t->path), "%s/aipm.yaml", t->dir);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tmp *t = *state;

    tu_rmtree(t->dir);
    free(t);
    return 0;
}

static int load(tmp *t, const char *yaml, aipm_config **cfg, aipm_error *err)
{
    memset(err, 0, sizeof(*err));
    assert_int_equal(tu_write(t->path, yaml, strlen(yaml)), 0);
    return aipm_config_load(cfg, t->path, err);
}

/* The load fails with EINVALID and the message names path:line. */
static void expect_error(tmp *t, const char *yaml, int line)
{
    aipm_config *cfg = (aipm_config *)1;
    aipm_error err;
    char where[400];

    assert_int_equal(load(t, yaml, &cfg, &err), AIPM_EINVALID);
    assert_null(cfg);
    snprintf(where, sizeof(where), "%s:%d:", t->path, line);
    if (strstr(err.msg, where) == NULL)
        print_error("want '%s' in '%s'\n", where, err.msg);
    assert_non_null(strstr(err.msg, where));
}

static void test_template(void **state)
{
    tmp *t = *state;
    aipm_config *cfg = NULL;
    aipm_error err;
    const aipm_feature *f;

    assert_int_equal(load(t, aipm_config_template(), &cfg, &err), AIPM_OK);
    assert_non_null(cfg);
    assert_string_equal(cfg->product, "My Product");
    assert_string_equal(cfg->store, "aipm.db");
    assert_int_equal(cfg->n_catalog, 1);
    f = &cfg->catalog[0];
    assert_string_equal(f->key, "export");
    assert_string_equal(f->name, "Report export");
    assert_string_equal(f->area, "reporting");
    assert_int_equal(f->n_events, 1);
    assert_string_equal(f->events[0], "Report Exported");
    assert_string_equal(f->launched_at, "2026-03-01");
    assert_int_equal(f->n_depends_on, 0);
    /* policies.data as written in the template. */
    assert_true(cfg->data.max_quarantine_share == 0.05);
    assert_int_equal(cfg->data.schema_change_blocks, 0);
    assert_true(cfg->data.max_staleness_hours == 48);
    assert_true(cfg->data.volume_low == 0.5);
    assert_true(cfg->data.volume_high == 2.0);
    aipm_config_free(cfg);
    aipm_config_free(NULL);
}

static void test_policy_values(void **state)
{
    tmp *t = *state;
    aipm_config *cfg = NULL;
    aipm_error err;

    assert_int_equal(load(t,
                          "product: P\n"
                          "policies:\n"
                          "  data:\n"
                          "    max_quarantine_share: 0.2\n"
                          "    on_schema_change: block\n"
                          "    max_staleness_hours: 12.5\n"
                          "    volume_low: 0.25\n"
                          "    volume_high: 4\n",
                          &cfg, &err),
                     AIPM_OK);
    assert_true(cfg->data.max_quarantine_share == 0.2);
    assert_int_equal(cfg->data.schema_change_blocks, 1);
    assert_true(cfg->data.max_staleness_hours == 12.5);
    assert_true(cfg->data.volume_low == 0.25);
    assert_true(cfg->data.volume_high == 4.0);
    assert_int_equal(cfg->n_catalog, 0);
    assert_null(cfg->store);
    aipm_config_free(cfg);

    /* The flow style of DESIGN.md section 5.1. */
    assert_int_equal(load(t,
                          "policies:\n"
                          "  data: {max_quarantine_share: 0.05, "
                          "on_schema_change: warn}\n",
                          &cfg, &err),
                     AIPM_OK);
    assert_true(cfg->data.max_quarantine_share == 0.05);
    assert_int_equal(cfg->data.schema_change_blocks, 0);
    aipm_config_free(cfg);
}

/* policies.models.promote and policies.monitor: the values as written,
 * the defaults where not, and the errors at the lines counted below. */
static void test_model_policies(void **state)
{
    tmp *t = *state;
    aipm_config *cfg = NULL;
    aipm_error err;
    const aipm_promote_rule *r;
    json_t *pol;

    assert_int_equal(
        load(t,
             "policies:\n"
             "  models:\n"
             "    promote:\n"
             "      - model: adoption\n"
             "        min: {auc: 0.6, coverage_80: 0.7}\n"
             "        max: {ece: 0.05}\n"
             "        fairness: {metric: auc, max_gap: 0.15}\n"
             "        max_segment_ece: 0.1\n"
             "        on_alert: rollback\n"
             "      - {model: value, min: {spearman: 0.3}}\n"
             "  monitor:\n"
             "    max_ece: 0.08\n"
             "    features:\n"
             "      - {model: value, feature: reach, test: psi, threshold: "
             "0.2}\n",
             &cfg, &err),
        AIPM_OK);
    assert_int_equal(cfg->models.n_promote, 2);
    r = aipm_config_promote_rule(cfg, "adoption");
    assert_non_null(r);
    assert_int_equal(r->n_bounds, 3);
    assert_string_equal(r->bounds[0].metric, "auc");
    assert_true(r->bounds[0].bound == 0.6 && !r->bounds[0].is_max);
    assert_string_equal(r->bounds[2].metric, "ece");
    assert_true(r->bounds[2].bound == 0.05 && r->bounds[2].is_max);
    assert_string_equal(r->gap_metric, "auc");
    assert_true(r->max_gap == 0.15 && r->min_rows == 30);
    assert_true(r->max_segment_ece == 0.1 && r->on_alert_rollback);
    r = aipm_config_promote_rule(cfg, "value");
    assert_non_null(r);
    assert_false(r->on_alert_rollback);
    assert_true(isnan(r->max_segment_ece) && r->gap_metric == NULL);
    assert_int_equal(cfg->monitor.set, 1);
    assert_true(cfg->monitor.max_ece == 0.08);
    assert_true(cfg->monitor.dataset_drift_share == 0.5); /* default */
    assert_int_equal(cfg->monitor.n_features, 1);
    assert_string_equal(cfg->monitor.features[0].test, "psi");
    assert_true(cfg->monitor.features[0].threshold == 0.2);
    /* Both appear in the policy version's JSON. */
    pol = aipm_config_policies_json(cfg);
    assert_non_null(json_object_get(json_object_get(pol, "models"), "promote"));
    assert_non_null(json_object_get(pol, "monitor"));
    json_decref(pol);
    aipm_config_free(cfg);

    /* policies.scenarios: the values, in the policy version */
    assert_int_equal(
        load(t, "policies:\n  scenarios: {risk_aversion: 0.3}\n", &cfg, &err),
        AIPM_OK);
    assert_true(cfg->scenarios.set && cfg->scenarios.risk_aversion == 0.3 &&
                cfg->scenarios.tail == 0.05);
    pol = aipm_config_policies_json(cfg);
    assert_true(
        json_real_value(json_object_get(json_object_get(pol, "scenarios"),
                                        "risk_aversion")) == 0.3);
    json_decref(pol);
    aipm_config_free(cfg);
    expect_error(t, "policies:\n  scenarios:\n    tail: 0\n", 3);
    expect_error(t, "policies:\n  scenarios:\n    risk_aversion: 2\n", 3);
    expect_error(t, "policies:\n  scenarios:\n    risk: 0.2\n", 3);

    /* Unset, they leave the policy version as it was: no keys at all. */
    assert_int_equal(load(t, "product: P\n", &cfg, &err), AIPM_OK);
    assert_true(!cfg->scenarios.set && cfg->scenarios.risk_aversion == 0.5);
    pol = aipm_config_policies_json(cfg);
    assert_null(json_object_get(json_object_get(pol, "models"), "promote"));
    assert_null(json_object_get(pol, "monitor"));
    assert_null(json_object_get(pol, "scenarios"));
    assert_null(aipm_config_promote_rule(cfg, "value"));
    json_decref(pol);
    aipm_config_free(cfg);

    /* A metric the model does not report (line 4), an unknown model (3),
     * a second rule for one model (4), a bad on_alert (3), an unknown
     * drift test (5), a monitor share out of range (2). */
    expect_error(t,
                 "policies:\n  models:\n    promote:\n"
                 "      - {model: value, min: {auc: 0.6}}\n",
                 4);
    expect_error(t, "policies:\n  models:\n    promote:\n      - {model: x}\n",
                 4);
    expect_error(t,
                 "policies:\n  models:\n    promote:\n"
                 "      - {model: value}\n      - {model: value}\n",
                 5);
    expect_error(t,
                 "policies:\n  models:\n    promote:\n"
                 "      - {model: value, on_alert: revert}\n",
                 4);
    expect_error(t,
                 "policies:\n  monitor:\n    features:\n"
                 "      - {model: value, feature: reach,\n"
                 "         test: kolmogorov}\n",
                 5);
    expect_error(t, "policies:\n  monitor: {dataset_drift_share: 1.5}\n", 2);
}

static void test_catalog_depends(void **state)
{
    tmp *t = *state;
    aipm_config *cfg = NULL;
    aipm_error err;

    assert_int_equal(load(t,
                          "catalog:\n"
                          "  - key: export\n"
                          "    events: [Report Exported, Report Shared]\n"
                          "  - key: schedule\n"
                          "    events: [Report Scheduled]\n"
                          "    depends_on: [export]\n"
                          "metrics: []\n",
                          &cfg, &err),
                     AIPM_OK);
    assert_int_equal(cfg->n_catalog, 2);
    assert_int_equal(cfg->catalog[0].n_events, 2);
    assert_string_equal(cfg->catalog[0].events[1], "Report Shared");
    assert_int_equal(cfg->catalog[1].n_depends_on, 1);
    assert_string_equal(cfg->catalog[1].depends_on[0], "export");
    aipm_config_free(cfg);
}

/* metrics, kpis and experiments (DESIGN.md section 5.1's keys). */
static void test_metrics_experiments(void **state)
{
    tmp *t = *state;
    aipm_config *cfg = NULL;
    aipm_error err;
    const aipm_experiment_def *e;
    const aipm_metric *m;

    assert_int_equal(
        load(t,
             "metrics:\n"
             "  - {key: exports, type: count, event: Report Exported}\n"
             "  - {key: purchase, type: conversion, event: Order Completed,"
             " window_days: 14}\n"
             "  - {key: revenue, type: sum, event: Order Completed, property:"
             " revenue, cap: {percentile: 0.99}, where: {plan: pro}}\n"
             "  - {key: d7, type: retention, from_day: 7, to_day: 13}\n"
             "  - {key: rps, type: ratio, numerator: revenue, denominator:"
             " exports}\n"
             "  - {key: churn, type: count, event: Cancelled, direction: down,"
             " unit: account}\n"
             "kpis:\n"
             "  - {key: activation, metric: purchase, target: 0.40,"
             " direction: up}\n"
             "experiments:\n"
             "  - key: onboarding\n"
             "    variations: [control, a, b]\n"
             "    weights: [0.5, 0.25, 0.25]\n"
             "    metrics: [purchase, revenue]\n"
             "    guardrails: [d7]\n"
             "    start: 2026-05-01\n",
             &cfg, &err),
        AIPM_OK);
    assert_int_equal(cfg->n_metrics, 6);
    m = aipm_config_metric(cfg, "purchase");
    assert_non_null(m);
    assert_int_equal(m->type, AIPM_METRIC_CONVERSION);
    assert_int_equal(m->window_days, 14);
    m = aipm_config_metric(cfg, "revenue");
    assert_string_equal(m->property, "revenue");
    assert_true(m->cap_percentile == 0.99);
    assert_string_equal(m->where_key, "plan");
    assert_string_equal(m->where_value, "pro");
    m = aipm_config_metric(cfg, "churn");
    assert_int_equal(m->direction_down, 1);
    assert_int_equal(m->unit_account, 1);
    assert_int_equal(aipm_config_metric(cfg, "d7")->to_day, 13);
    assert_int_equal(cfg->n_kpis, 1);
    assert_true(cfg->kpis[0].target == 0.40);
    e = aipm_config_experiment(cfg, "onboarding");
    assert_non_null(e);
    assert_int_equal(e->n_variations, 3);
    /* weights as written: 0.5, 0.25, 0.25 (exact in binary) */
    assert_true(e->weights[0] == 0.5 && e->weights[1] == 0.25);
    assert_int_equal(e->n_guardrails, 1);
    assert_int_equal(e->end_ms, 0); /* open-ended */
    /* 2026-05-01T00:00Z = 1777593600 s (python: datetime(2026,5,1,
     * tzinfo=timezone.utc).timestamp()) */
    assert_true(e->start_ms == 1777593600000LL);
    aipm_config_free(cfg);

    /* An experiment naming an unknown metric is refused. */
    assert_int_not_equal(
        load(t,
             "metrics: [{key: a, type: count, event: E}]\n"
             "experiments: [{key: x, variations: [c, t], metrics: [b]}]\n",
             &cfg, &err),
        AIPM_OK);
    assert_non_null(strstr(err.msg, "unknown metric"));
    /* A bad metric type names its line. */
    assert_int_not_equal(
        load(t, "metrics:\n  - {key: a, type: median, event: E}\n", &cfg, &err),
        AIPM_OK);
    assert_non_null(strstr(err.msg, ":2:"));
}

static void test_errors(void **state)
{
    tmp *t = *state;

    /* line 4: the value 2 */
    expect_error(t,
                 "product: P\n"
                 "policies:\n"
                 "  data:\n"
                 "    max_quarantine_share: 2\n",
                 4);
    /* line 5: maybe */
    expect_error(t,
                 "product: P\n"
                 "policies:\n"
                 "  data:\n"
                 "    max_quarantine_share: 0.1\n"
                 "    on_schema_change: maybe\n",
                 5);
    /* line 3: not a number */
    expect_error(t,
                 "policies:\n"
                 "  data:\n"
                 "    max_staleness_hours: soon\n",
                 3);
    /* The second feature (line 4) has no events. */
    expect_error(t,
                 "catalog:\n"
                 "  - key: export\n"
                 "    events: [Report Exported]\n"
                 "  - key: schedule\n"
                 "    name: Scheduling\n",
                 4);
    /* launched_at: Feb 30 on line 4. */
    expect_error(t,
                 "catalog:\n"
                 "  - key: export\n"
                 "    events: [Report Exported]\n"
                 "    launched_at: 2026-02-30\n",
                 4);
    /* A duplicate key: the second feature, line 4. */
    expect_error(t,
                 "catalog:\n"
                 "  - key: export\n"
                 "    events: [A]\n"
                 "  - key: export\n"
                 "    events: [B]\n",
                 4);
    /* Malformed YAML: a tab cannot start a token (line 3). */
    expect_error(t,
                 "product: P\n"
                 "store: s\n"
                 "\tbad: 1\n",
                 3);
    /* Not a mapping at the top. */
    expect_error(t, "- a\n- b\n", 1);
}

static void test_error_depends_on_unknown(void **state)
{
    tmp *t = *state;
    aipm_config *cfg = (aipm_config *)1;
    aipm_error err;
    char on_feature[400], on_item[400];

    /* The second feature (line 4) depends on 'nothing' (line 6). The
     * message must name the file and a line of the offending feature:
     * its start (4) or its depends_on (6), not the catalog's first line. */
    assert_int_equal(load(t,
                          "catalog:\n"
                          "  - key: export\n"
                          "    events: [A]\n"
                          "  - key: schedule\n"
                          "    events: [B]\n"
                          "    depends_on: [nothing]\n",
                          &cfg, &err),
                     AIPM_EINVALID);
    assert_null(cfg);
    assert_non_null(strstr(err.msg, "nothing"));
    snprintf(on_feature, sizeof(on_feature), "%s:4:", t->path);
    snprintf(on_item, sizeof(on_item), "%s:6:", t->path);
    if (!strstr(err.msg, on_feature) && !strstr(err.msg, on_item))
        print_error("error names the wrong line: %s\n", err.msg);
    assert_true(strstr(err.msg, on_feature) || strstr(err.msg, on_item));
}

/* Load yaml; expect EINVALID with path:line: and every piece of want[] in
 * the message (issue 12: a typo must never change a decision silently). */
static void expect_message(tmp *t, const char *yaml, int line,
                           const char *const *want)
{
    aipm_config *cfg = (aipm_config *)1;
    aipm_error err;

    expect_error(t, yaml, line);
    assert_int_equal(load(t, yaml, &cfg, &err), AIPM_EINVALID);
    for (; *want; want++) {
        if (strstr(err.msg, *want) == NULL)
            print_error("want '%s' in '%s'\n", *want, err.msg);
        assert_non_null(strstr(err.msg, *want));
    }
}

/* Unknown keys at every level are errors with a did-you-mean; before the
 * fix each of these loaded (the guardrail typo dropped the guardrail). */
static void test_unknown_keys(void **state)
{
    tmp *t = *state;
    aipm_config *cfg = NULL;
    aipm_error err;

    /* The case: guardrail: on line 8. Damerau-Levenshtein
     * distance to "guardrails" is 1 (one letter missing). */
    expect_message(t,
                   "metrics:\n"
                   "  - {key: a, type: count, event: E}\n"
                   "  - {key: g, type: count, event: G}\n"
                   "experiments:\n"
                   "  - key: x\n"
                   "    variations: [c, t]\n"
                   "    metrics: [a]\n"
                   "    guardrail: [g]\n",
                   8,
                   (const char *const[]){"unknown key 'guardrail'",
                                         "in experiments",
                                         "did you mean 'guardrails'", NULL});
    /* A top-level section (line 2): "polcies" lacks an i, distance 1. */
    expect_message(t, "product: P\npolcies: {}\n", 2,
                   (const char *const[]){"unknown section 'polcies'",
                                         "did you mean 'policies'", NULL});
    /* A transposition counts 1 (OSA): "stroe" -> "store", line 1. */
    expect_message(t, "stroe: x.db\n", 1,
                   (const char *const[]){"did you mean 'store'", NULL});
    /* A section nothing is near: the known ones are listed (line 3). */
    expect_message(t, "product: P\nstore: s\nlater_section: {a: 1}\n", 3,
                   (const char *const[]){"unknown section 'later_section'",
                                         "product, store, catalog", NULL});
    /* policies.data, line 4: max_quarantine_shares (one extra letter). */
    expect_message(t,
                   "policies:\n"
                   "  data:\n"
                   "    on_schema_change: block\n"
                   "    max_quarantine_shares: 0.1\n",
                   4,
                   (const char *const[]){"in policies.data",
                                         "did you mean 'max_quarantine_share'",
                                         NULL});
    /* policies itself, line 2. */
    expect_message(
        t, "policies:\n  dta: {}\n", 2,
        (const char *const[]){"in policies", "did you mean 'data'", NULL});
    /* A catalog feature (line 3): event -> events. */
    expect_message(
        t,
        "catalog:\n"
        "  - key: export\n"
        "    event: [Report Exported]\n",
        3, (const char *const[]){"in catalog", "did you mean 'events'", NULL});
    /* A metric's cap (line 2), case differs: Percentile -> percentile. */
    expect_message(t,
                   "metrics:\n"
                   "  - {key: r, type: sum, event: E, property: v, cap: "
                   "{Percentile: 0.99}}\n",
                   2,
                   (const char *const[]){"in metrics.cap",
                                         "did you mean 'percentile'", NULL});
    /* A KPI (line 2): traget -> target. */
    expect_message(
        t,
        "metrics: [{key: a, type: count, event: E}]\n"
        "kpis: [{key: k, metric: a, traget: 3}]\n",
        2, (const char *const[]){"in kpis", "did you mean 'target'", NULL});
    /* A one-letter key suggests nothing (a suggestion must be closer
     * than the key's own length), the known keys are listed instead. */
    expect_message(
        t, "metrics: [{key: a, type: count, event: E, x: 1}]\n", 1,
        (const char *const[]){"unknown key 'x'", "the known ones", NULL});
    /* A value that is not a mapping where one is expected would hide its
     * keys from the check: cap: 0.99 (line 2), policies: block (line 1). */
    expect_message(t,
                   "metrics:\n"
                   "  - {key: r, type: sum, event: E, property: v, cap: "
                   "0.99}\n",
                   2, (const char *const[]){"cap: {percentile", NULL});
    expect_message(t, "policies: block\n", 1,
                   (const char *const[]){"policies: expected a mapping", NULL});
    /* policies: with nothing under it is no policy. */
    assert_int_equal(load(t, "policies:\n", &cfg, &err), AIPM_OK);
    aipm_config_free(cfg);
    /* The ingest's quarantine bound (another branch) is a known key, and
     * where: takes any property name. */
    assert_int_equal(load(t,
                          "policies:\n"
                          "  data: {max_quarantine_samples: 100}\n"
                          "metrics: [{key: a, type: count, event: E, "
                          "where: {plan: pro}}]\n",
                          &cfg, &err),
                     AIPM_OK);
    aipm_config_free(cfg);
}

/* A key given twice in one mapping is an error naming both lines; before
 * the fix the first one won silently. */
static void test_duplicate_keys(void **state)
{
    tmp *t = *state;

    expect_message(t,
                   "product: P\n"
                   "catalog: []\n"
                   "store: s\n"
                   "catalog: []\n",
                   4,
                   (const char *const[]){"'catalog' is given twice",
                                         "first on line 2", NULL});
    expect_message(
        t,
        "metrics:\n"
        "  - {key: a, type: count, event: E, event: F}\n",
        2, (const char *const[]){"'event' is given twice", "in metrics", NULL});
}

/* Weights: positive, one per variation, summing to 1 within 1e-6. Each
 * sum below is by hand. Before the fix [0.3, 0.3, 0.3] was normalised,
 * [1.5, -0.25, -0.25] and [0.5, half, 0.5] (half read as 0) loaded. */
static void test_weights(void **state)
{
    tmp *t = *state;
    aipm_config *cfg = NULL;
    aipm_error err;
    const char *head = "metrics: [{key: a, type: count, event: E}]\n"
                       "experiments:\n"
                       "  - key: x\n"
                       "    variations: [c, t, u]\n"
                       "    metrics: [a]\n";
    char yaml[512];

    /* 0.3 + 0.3 + 0.3 = 0.9: refused on the weights line (6). */
    snprintf(yaml, sizeof(yaml), "%s    weights: [0.3, 0.3, 0.3]\n", head);
    expect_message(t, yaml, 6,
                   (const char *const[]){"sum to 0.9", "not 1", NULL});
    /* 2 weights for 3 variations (line 6). */
    snprintf(yaml, sizeof(yaml), "%s    weights: [0.5, 0.5]\n", head);
    expect_message(t, yaml, 6,
                   (const char *const[]){"2 weights for 3 variations", NULL});
    /* 1.5 - 0.25 - 0.25 = 1 but two are negative: the first named. */
    snprintf(yaml, sizeof(yaml), "%s    weights: [1.5, -0.25, -0.25]\n", head);
    expect_message(t, yaml, 6,
                   (const char *const[]){"'-0.25' is not a positive", NULL});
    /* A zero weight and a word (block list: the item's own line, 8). */
    snprintf(yaml, sizeof(yaml),
             "%s    weights:\n      - 0.5\n      - half\n      - 0.5\n", head);
    expect_message(t, yaml, 8,
                   (const char *const[]){"'half' is not a positive", NULL});
    snprintf(yaml, sizeof(yaml), "%s    weights: [0.5, 0, 0.5]\n", head);
    expect_message(t, yaml, 6,
                   (const char *const[]){"'0' is not a positive", NULL});
    /* 0.3333333 * 3 = 0.9999999, 1e-7 from 1: inside the tolerance. */
    snprintf(yaml, sizeof(yaml),
             "%s    weights: [0.3333333, 0.3333333, 0.3333333]\n", head);
    assert_int_equal(load(t, yaml, &cfg, &err), AIPM_OK);
    assert_true(fabs(cfg->experiments[0].weights[2] - 1.0 / 3) < 1e-12);
    aipm_config_free(cfg);
    /* 0.333333 * 2 + 0.333330 = 0.999996, 4e-6 from 1: outside. */
    snprintf(yaml, sizeof(yaml),
             "%s    weights: [0.333333, 0.333333, 0.33333]\n", head);
    expect_message(t, yaml, 6, (const char *const[]){"sum to 0.999996", NULL});
    /* Absent: equal weights, 1/3 each. */
    assert_int_equal(load(t, head, &cfg, &err), AIPM_OK);
    assert_true(fabs(cfg->experiments[0].weights[1] - 1.0 / 3) < 1e-15);
    aipm_config_free(cfg);
}

static double seconds_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Review finding: a key repeated in kpis, experiments or an experiment's
 * variations loaded (analysis took the first; the copy was ignored). Now
 * refused on the copy's line, naming the first's; metrics and catalog
 * name both lines too. Line numbers by counting the literals below. */
static void test_duplicate_list_keys(void **state)
{
    tmp *t = *state;

    expect_message(t,
                   "metrics: [{key: a, type: count, event: E}]\n"
                   "kpis:\n"
                   "  - {key: act, metric: a}\n"
                   "  - {key: act, metric: a, target: 2}\n",
                   4,
                   (const char *const[]){"kpis: key 'act' is given twice",
                                         "first on line 3", NULL});
    expect_message(t,
                   "metrics: [{key: a, type: count, event: E}]\n"
                   "experiments:\n"
                   "  - {key: x, variations: [c, t], metrics: [a]}\n"
                   "  - {key: y, variations: [c, t], metrics: [a]}\n"
                   "  - {key: x, variations: [c, u], metrics: [a]}\n",
                   5,
                   (const char *const[]){"experiments: key 'x' is given twice",
                                         "first on line 3", NULL});
    expect_message(
        t,
        "metrics: [{key: a, type: count, event: E}]\n"
        "experiments:\n"
        "  - key: x\n"
        "    variations:\n"
        "      - c\n"
        "      - t\n"
        "      - c\n"
        "    metrics: [a]\n",
        7,
        (const char *const[]){"experiments: variation 'c' is given twice",
                              "first on line 5", NULL});
    expect_message(t,
                   "metrics:\n"
                   "  - {key: a, type: count, event: E}\n"
                   "  - {key: a, type: count, event: F}\n",
                   3,
                   (const char *const[]){"metrics: key 'a' is given twice",
                                         "first on line 2", NULL});
    expect_message(t,
                   "catalog:\n"
                   "  - {key: export, events: [A]}\n"
                   "  - {key: export, events: [B]}\n",
                   3,
                   (const char *const[]){"feature key 'export' is given twice",
                                         "first on line 2", NULL});
}

/* Review finding: get_num and the weights took hex (strtod reads
 * 0x1p-1 as 0.5); only plain decimals now, as in the data. 1e-310 (a
 * subnormal, strtod's ERANGE) is a number. */
static void test_decimal_only(void **state)
{
    tmp *t = *state;
    aipm_config *cfg = NULL;
    aipm_error err;

    expect_message(t,
                   "policies:\n"
                   "  data:\n"
                   "    max_staleness_hours: 0x30\n",
                   3, (const char *const[]){"expected a decimal number", NULL});
    expect_message(t,
                   "metrics: [{key: a, type: count, event: E}]\n"
                   "experiments:\n"
                   "  - key: x\n"
                   "    variations: [c, t]\n"
                   "    metrics: [a]\n"
                   "    weights: [0x1p-1, 0x1p-1]\n",
                   6,
                   (const char *const[]){"'0x1p-1' is not a positive", NULL});
    assert_int_equal(load(t,
                          "metrics: [{key: a, type: count, event: E}]\n"
                          "kpis: [{key: k, metric: a, target: 1e-310}]\n",
                          &cfg, &err),
                     AIPM_OK);
    assert_true(cfg->kpis[0].target > 0 && cfg->kpis[0].target < 1e-300);
    aipm_config_free(cfg);
}

/* Review finding: the catalog's duplicate-key and depends_on checks were
 * quadratic; an 860 KB file (10,000 features, one depends_on of about
 * 100,000 names) took 3.1 s to load. Here: 810 KB, 10,001 features and
 * 90,000 names (9e8 string compares before the fix). With a hash map the
 * load is mostly libyaml's (about 0.3 s of CPU). The bound, 0.5 s of
 * process CPU time (other processes' load does not count) at the best of
 * 3 runs, is the brief's generous one; 4x under AddressSanitizer, whose
 * malloc is slower. */
#if defined(__SANITIZE_ADDRESS__)
#define LOAD_BOUND 2.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOAD_BOUND 2.0
#endif
#endif
#ifndef LOAD_BOUND
#define LOAD_BOUND 0.5
#endif

static void test_catalog_large(void **state)
{
    tmp *t = *state;
    aipm_config *cfg = NULL;
    aipm_error err;
    size_t cap = 1000000, len = 0;
    char *yaml = malloc(cap);
    double best = 1e9;
    int i, run;

    assert_non_null(yaml);
    len += (size_t)snprintf(yaml + len, cap - len, "catalog:\n");
    for (i = 0; i < 10000; i++)
        len += (size_t)snprintf(yaml + len, cap - len,
                                "- {key: x%d, events: [e]}\n", i);
    len += (size_t)snprintf(yaml + len, cap - len,
                            "- {key: last, events: [e], depends_on: [");
    for (i = 0; i < 90000; i++)
        len += (size_t)snprintf(yaml + len, cap - len, "%sx%d", i ? "," : "",
                                i % 10000);
    len += (size_t)snprintf(yaml + len, cap - len, "]}\n");
    assert_true(len < cap - 1);
    for (run = 0; run < 3; run++) {
        clock_t c0 = clock();
        double used;

        assert_int_equal(load(t, yaml, &cfg, &err), AIPM_OK);
        used = (double)(clock() - c0) / CLOCKS_PER_SEC;
        if (used < best)
            best = used;
        assert_int_equal(cfg->n_catalog, 10001);
        assert_int_equal(cfg->catalog[10000].n_depends_on, 90000);
        aipm_config_free(cfg);
        cfg = NULL;
    }
    free(yaml);
    if (best >= LOAD_BOUND)
        print_error("loading took %.3f s of CPU (bound %.1f)\n", best,
                    LOAD_BOUND);
    assert_true(best < LOAD_BOUND);
}

/* Depth, size, aliases, a second document, a FIFO: refused quickly. */
static void test_limits(void **state)
{
    tmp *t = *state;
    aipm_config *cfg = (aipm_config *)1;
    aipm_error err;
    size_t depth = 80000, i;
    char *deep = malloc(2 * depth + 2);
    double t0, elapsed;

    /* The file: 80,000 [ then 80,000 ] (took 33 s before). */
    assert_non_null(deep);
    for (i = 0; i < depth; i++) {
        deep[i] = '[';
        deep[depth + i] = ']';
    }
    deep[2 * depth] = '\n';
    deep[2 * depth + 1] = '\0';
    t0 = seconds_now();
    expect_message(t, deep, 1,
                   (const char *const[]){"nested more than 64 levels", NULL});
    elapsed = seconds_now() - t0;
    /* Both loads of expect_message together; each took 33 s before. */
    assert_true(elapsed < 1.0);
    /* From memory too. */
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        aipm_config_load_buffer(&cfg, deep, strlen(deep), "mem.yaml", &err),
        AIPM_EINVALID);
    assert_null(cfg);
    assert_non_null(strstr(err.msg, "mem.yaml:1:"));
    /* product: + 63 [ is 64 levels with the top mapping: past the depth
     * check, refused by the loader as not text; 64 [ is 65 levels. */
    memcpy(deep, "product: ", 9);
    for (i = 0; i < 63; i++) {
        deep[9 + i] = '[';
        deep[9 + 63 + i] = ']';
    }
    memcpy(deep + 9 + 126, "\n", 2);
    expect_message(t, deep, 1,
                   (const char *const[]){"expected a text value", NULL});
    for (i = 0; i < 64; i++) {
        deep[9 + i] = '[';
        deep[9 + 64 + i] = ']';
    }
    memcpy(deep + 9 + 128, "\n", 2);
    expect_message(t, deep, 1,
                   (const char *const[]){"nested more than 64", NULL});
    free(deep);

    /* 1 MiB + 1 byte of comment: refused by size (the message has no
     * line: the name and "bytes"). */
    {
        size_t big = AIPM_CONFIG_MAX_BYTES + 1;
        char *text = malloc(big + 1);

        assert_non_null(text);
        memset(text, '#', big);
        text[big - 1] = '\n';
        text[big] = '\0';
        memset(&err, 0, sizeof(err));
        assert_int_equal(load(t, text, &cfg, &err), AIPM_EINVALID);
        assert_non_null(strstr(err.msg, "1048577 bytes"));
        /* Exactly 1 MiB of comment loads (all defaults). */
        text[big - 2] = '\n';
        text[big - 1] = '\0';
        assert_int_equal(load(t, text, &cfg, &err), AIPM_OK);
        aipm_config_free(cfg);
        free(text);
    }

    /* An alias (line 2) and a second document (line 2). */
    expect_message(t, "product: &p P\nstore: *p\n", 2,
                   (const char *const[]){"aliases", NULL});
    expect_message(t, "product: P\n---\nproduct: Q\n", 2,
                   (const char *const[]){"second YAML document", NULL});

    /* A FIFO named aipm.yaml: an error, not a hang. */
    unlink(t->path);
    assert_int_equal(mkfifo(t->path, 0600), 0);
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_config_load(&cfg, t->path, &err), AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "not a regular file"));
    unlink(t->path);
}

static void test_missing_file(void **state)
{
    tmp *t = *state;
    aipm_config *cfg = (aipm_config *)1;
    aipm_error err = {0};
    char path[400];

    snprintf(path, sizeof(path), "%s/nope.yaml", t->dir);
    assert_int_equal(aipm_config_load(&cfg, path, &err), AIPM_ENOTFOUND);
    assert_null(cfg);
    assert_non_null(strstr(err.msg, "nope.yaml"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_template, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_experiments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_catalog_depends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        /* regression: the error names the feature's line */
        cmocka_unit_test_setup_teardown(test_error_depends_on_unknown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weights, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_list_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_decimal_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catalog_large, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
