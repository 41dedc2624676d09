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

#include "aipm/config.h"
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
                          "metrics: []\n"
                          "later_section: {anything: 1}\n",
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
             "    weights: [2, 1, 1]\n"
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
    /* weights normalised: 2/4, 1/4, 1/4 */
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
        cmocka_unit_test_setup_teardown(test_metrics_experiments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_catalog_depends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        /* regression: the error names the feature's line */
        cmocka_unit_test_setup_teardown(test_error_depends_on_unknown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
