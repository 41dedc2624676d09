/* test_experiment.c - the experiment SQL and engine on a hand-made store.
 *
 * Eight users, four per variation, with metric event counts chosen so that
 * every moment below is a hand calculation: control counts after exposure
 * 0, 1, 2, 10; treatment 1, 1, 3, 5. One more user sees both variations
 * (excluded, counted); events before exposure, after the end, or of other
 * names do not count.
 *
 * Accounts (group calls): A1 = {c1, c2, c5}, A2 = {c3}, A3 = {c4}, B1 =
 * {t1, t2}, B2 = {t3}, B3 = {t4}, M = {b1}. c5 is never exposed but makes
 * 2 Clicks after A1's exposure; t2 first sat in A2 and moved to B1 (the
 * newest group call wins). Over accounts, control counts A1 = 0 + 1 + 2,
 * A2 = 2, A3 = 10 and treatment B1 = 1 + 1, B2 = 3, B3 = 5; M is in both
 * variations (excluded, counted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aipm/config.h"
#include "aipm/experiment.h"
#include "aipm/ingest.h"
#include "aipm/metrics.h"
#include "aipm/store.h"
#include "testutil.h"

static const char yaml[] =
    "metrics:\n"
    "  - {key: clicks, type: count, event: Click}\n"
    "  - {key: clicked, type: conversion, event: Click}\n"
    "  - {key: clicks_cap4, type: count, event: Click, cap: {value: 4}}\n"
    "  - {key: clicks_p50, type: count, event: Click, cap: {percentile: "
    "0.5}}\n"
    "  - {key: others, type: count, event: Other}\n"
    "  - {key: clicks_per_other, type: ratio, numerator: clicks, "
    "denominator: others}\n"
    "  - {key: acct_clicks, type: count, event: Click, unit: account}\n"
    "  - {key: other_pro, type: count, event: Other, where: {plan: pro}}\n"
    "  - {key: clicks_per_other_pro, type: ratio, numerator: clicks, "
    "denominator: other_pro}\n"
    "  - {key: acct_clicked, type: conversion, event: Click, unit: account}\n"
    "experiments:\n"
    "  - key: exp\n"
    "    variations: [control, treatment]\n"
    "    metrics: [clicks, clicks_per_other]\n"
    "    start: 2026-10-01\n"
    "    end: 2026-10-31\n";

typedef tu_ws fx;

static void add_event(aipm_buf *b, const char *id, const char *user,
                      const char *event, const char *ts, const char *props)
{
    aipm_buf_printf(b,
                    "{\"type\":\"track\",\"messageId\":\"%s\",\"userId\":"
                    "\"%s\",\"event\":\"%s\",\"timestamp\":\"%s\","
                    "\"properties\":%s}\n",
                    id, user, event, ts, props ? props : "{}");
}

static void add_group(aipm_buf *b, const char *id, const char *user,
                      const char *account, const char *ts)
{
    aipm_buf_printf(b,
                    "{\"type\":\"group\",\"messageId\":\"%s\",\"userId\":"
                    "\"%s\",\"groupId\":\"%s\",\"timestamp\":\"%s\","
                    "\"traits\":{\"plan\":\"%s\"}}\n",
                    id, user, account, ts, account[0] == 'A' ? "pro" : "free");
}

static int setup(void **state)
{
    static const char *const users[] = {"c1", "c2", "c3", "c4",
                                        "t1", "t2", "t3", "t4"};
    static const int clicks[] = {0, 1, 2, 10, 1, 1, 3, 5};
    fx *f = calloc(1, sizeof(*f));
    aipm_buf b;
    aipm_error err = {0};
    aipm_ingest_result res;
    char id[32];
    int u, k, n = 0;

    if (f == NULL || tu_ws_open(f) != 0)
        return -1;
    aipm_buf_init(&b, 1 << 20);
    for (u = 0; u < 8; u++) {
        char props[128];

        snprintf(props, sizeof(props),
                 "{\"experiment_id\":\"exp\",\"variation_id\":\"%s\"}",
                 u < 4 ? "control" : "treatment");
        snprintf(id, sizeof(id), "x%d", n++);
        add_event(&b, id, users[u], "Experiment Viewed", "2026-10-05T12:00:00Z",
                  props);
        for (k = 0; k < clicks[u]; k++) {
            snprintf(id, sizeof(id), "x%d", n++);
            add_event(&b, id, users[u], "Click", "2026-10-06T10:00:00Z", NULL);
        }
        /* Not counted: before exposure, after the end, another event. */
        snprintf(id, sizeof(id), "x%d", n++);
        add_event(&b, id, users[u], "Click", "2026-10-05T11:00:00Z", NULL);
        snprintf(id, sizeof(id), "x%d", n++);
        add_event(&b, id, users[u], "Click", "2026-11-02T10:00:00Z", NULL);
        snprintf(id, sizeof(id), "x%d", n++);
        add_event(&b, id, users[u], "Other", "2026-10-06T10:00:00Z", NULL);
    }
    /* Accounts, and c5: a member of A1 who is never exposed. */
    {
        static const char *const member[][2] = {
            {"c1", "A1"}, {"c2", "A1"}, {"c5", "A1"}, {"c3", "A2"},
            {"c4", "A3"}, {"t1", "B1"}, {"t2", "B1"}, {"t3", "B2"},
            {"t4", "B3"}, {"b1", "M"}};

        add_group(&b, "g-old", "t2", "A2", "2026-09-01T00:00:00Z");
        for (u = 0; u < 10; u++) {
            snprintf(id, sizeof(id), "g%d", u);
            add_group(&b, id, member[u][0], member[u][1],
                      "2026-09-02T00:00:00Z");
        }
        add_event(&b, "c5a", "c5", "Click", "2026-10-06T10:00:00Z", NULL);
        add_event(&b, "c5b", "c5", "Click", "2026-10-07T10:00:00Z", NULL);
    }
    /* A user in both variations: excluded. */
    add_event(&b, "both1", "b1", "Experiment Viewed", "2026-10-05T12:00:00Z",
              "{\"experiment_id\":\"exp\",\"variation_id\":\"control\"}");
    add_event(&b, "both2", "b1", "Experiment Viewed", "2026-10-06T12:00:00Z",
              "{\"experiment_id\":\"exp\",\"variation_id\":\"treatment\"}");
    if (tu_ws_ingest(f, "events", "ev.ndjson", b.ptr, b.len, NULL, &res,
                     &err) != AIPM_OK) {
        aipm_buf_free(&b);
        return -1;
    }
    aipm_buf_free(&b);
    aipm_ingest_result_clear(&res);
    if (tu_ws_config(f, yaml) != 0)
        return -1;
    *state = f;
    return 0;
}

/* The analysis window: October 2026. */
static void october(int64_t *start, int64_t *end)
{
    assert_int_equal(aipm_time_parse(start, "2026-10-01", 10, 1), AIPM_OK);
    assert_int_equal(aipm_time_parse(end, "2026-11-01", 10, 1), AIPM_OK);
}

static void moments(fx *f, const char *metric, aipm_exposures *ex)
{
    aipm_error err = {0};
    int64_t start, end;

    october(&start, &end);
    assert_int_equal(
        aipm_metrics_experiment(
            ex, f->st, f->cfg, aipm_config_experiment(f->cfg, "exp"),
            aipm_config_metric(f->cfg, metric), start, end, 1, &err),
        AIPM_OK);
}

/* Counts 0,1,2,10 and 1,1,3,5: sums 13 and 10, squares 105 and 36. The
 * pre-exposure window (1 day) holds one Click per user. */
static void test_count_moments(void **state)
{
    aipm_exposures ex;

    moments(*state, "clicks", &ex);
    assert_int_equal(ex.n_groups, 2);
    assert_string_equal(ex.groups[0].variation, "control");
    assert_true(ex.groups[0].n == 4 && ex.groups[1].n == 4);
    assert_true(ex.groups[0].sum == 13 && ex.groups[0].sum_sq == 105);
    assert_true(ex.groups[1].sum == 10 && ex.groups[1].sum_sq == 36);
    assert_true(ex.groups[0].x_sum == 4 && ex.groups[0].x_sum_sq == 4);
    /* sum of x*y: 1 * (0 + 1 + 2 + 10) */
    assert_true(ex.groups[0].xy_sum == 13);
    assert_int_equal(ex.multi_exposed, 1);
}

/* Conversion: did any Click after exposure: 3 of 4 in control, 4 of 4 in
 * treatment. */
static void test_conversion_moments(void **state)
{
    aipm_exposures ex;

    moments(*state, "clicked", &ex);
    assert_true(ex.groups[0].sum == 3 && ex.groups[0].sum_sq == 3);
    assert_true(ex.groups[1].sum == 4);
}

/* Capping: at 4, control 0,1,2,4 (sum 7, squares 21), treatment 1,1,3,4
 * (9, 27). At the pooled median: values 0,1,1,1,2,3,5,10, the value at
 * offset floor(0.5 * 7) = 3 is 1, so every value is capped at 1: control
 * 0,1,1,1 (3, 3), treatment 1,1,1,1 (4, 4). */
static void test_capping(void **state)
{
    aipm_exposures ex;

    moments(*state, "clicks_cap4", &ex);
    assert_true(ex.capped && ex.cap == 4);
    assert_true(ex.groups[0].sum == 7 && ex.groups[0].sum_sq == 21);
    assert_true(ex.groups[1].sum == 9 && ex.groups[1].sum_sq == 27);
    moments(*state, "clicks_p50", &ex);
    assert_true(ex.capped && ex.cap == 1);
    assert_true(ex.groups[0].sum == 3 && ex.groups[0].sum_sq == 3);
    assert_true(ex.groups[1].sum == 4 && ex.groups[1].sum_sq == 4);
}

/* Over accounts: control 3, 2, 10 (sum 15, squares 9 + 4 + 100 = 113),
 * treatment 2, 3, 5 (10, 4 + 9 + 25 = 38); M saw both. The pre-exposure
 * day holds one Click per exposed member: A1 2, A2 1, A3 1; B1 2, B2 1,
 * B3 1 (sums 4, squares 6; xy control 2*3 + 2 + 10 = 18). Conversion:
 * every account clicked. */
static void test_account_moments(void **state)
{
    aipm_exposures ex;

    moments(*state, "acct_clicks", &ex);
    assert_true(ex.groups[0].n == 3 && ex.groups[1].n == 3);
    assert_true(ex.groups[0].sum == 15 && ex.groups[0].sum_sq == 113);
    assert_true(ex.groups[1].sum == 10 && ex.groups[1].sum_sq == 38);
    assert_true(ex.groups[0].x_sum == 4 && ex.groups[0].x_sum_sq == 6);
    assert_true(ex.groups[0].xy_sum == 18);
    assert_true(ex.groups[1].x_sum == 4 &&
                ex.groups[1].xy_sum == 2 * 2 + 3 + 5);
    assert_int_equal(ex.multi_exposed, 1);
    moments(*state, "acct_clicked", &ex);
    assert_true(ex.groups[0].n == 3 && ex.groups[0].sum == 3);
    assert_true(ex.groups[1].n == 3 && ex.groups[1].sum == 3);
}

/* The population of accounts active in October (for power): every
 * user's events there: c1..c4 and t1..t4 their clicks plus the one before
 * exposure, c5 2, b1 none. A1 = 1 + 2 + 2, A2 = 3, A3 = 11, B1 = 2 + 2,
 * B2 = 4, B3 = 6, M = 0: n 7, sum 33, squares 25 + 9 + 121 + 16 + 16 + 36
 * = 223. */
static void test_account_population(void **state)
{
    fx *f = *state;
    aipm_moments mo;
    aipm_error err = {0};
    int64_t start, end;

    october(&start, &end);
    assert_int_equal(
        aipm_metrics_population(&mo, f->st, f->cfg,
                                aipm_config_metric(f->cfg, "acct_clicks"),
                                start, end, &err),
        AIPM_OK);
    assert_true(mo.n == 7 && mo.sum == 33 && mo.sum_sq == 223);
}

/* By the account trait plan: A accounts are "pro" (all control), B and M
 * "free" (all treatment; M excluded): two levels of 3 accounts each. */
static void test_account_by_trait(void **state)
{
    fx *f = *state;
    aipm_levels L;
    aipm_error err = {0};
    int64_t start, end;

    october(&start, &end);
    assert_int_equal(
        aipm_metrics_experiment_by(&L, f->st, f->cfg,
                                   aipm_config_experiment(f->cfg, "exp"),
                                   aipm_config_metric(f->cfg, "acct_clicks"),
                                   "plan", start, end, 0, &err),
        AIPM_OK);
    assert_int_equal(L.n, 2);
    assert_string_equal(L.levels[0].level, "free");
    assert_true(L.levels[0].ex.groups[0].n == 0);
    assert_true(L.levels[0].ex.groups[1].n == 3);
    assert_true(L.levels[0].ex.groups[1].sum == 10);
    assert_string_equal(L.levels[1].level, "pro");
    assert_true(L.levels[1].ex.groups[0].n == 3);
    assert_true(L.levels[1].ex.groups[0].sum == 15);
}

/* A ratio metric: clicks per Other event, per unit the numerator in y and
 * the denominator (one Other after exposure for every user) in x: control
 * y = 0,1,2,10, x = 1,1,1,1: sums 13 and 4, sum of xy 13; treatment y =
 * 1,1,3,5: sums 10 and 4. The ratio of sums is 13/4 and 10/4. */
static void test_ratio_moments(void **state)
{
    aipm_exposures ex;

    moments(*state, "clicks_per_other", &ex);
    assert_true(ex.groups[0].sum == 13 && ex.groups[0].x_sum == 4);
    assert_true(ex.groups[0].x_sum_sq == 4 && ex.groups[0].xy_sum == 13);
    assert_true(ex.groups[1].sum == 10 && ex.groups[1].x_sum == 4);
    assert_true(ex.groups[1].xy_sum == 10);
}

/* The denominator's own filter holds in a ratio: the Other events carry
 * no plan, so no unit has a denominator event (x = 0 for all), while the
 * numerator is that of test_ratio_moments. */
static void test_ratio_filtered_denominator(void **state)
{
    aipm_exposures ex;

    moments(*state, "clicks_per_other_pro", &ex);
    assert_true(ex.groups[0].sum == 13 && ex.groups[0].x_sum == 0);
    assert_true(ex.groups[0].n == 4 && ex.groups[0].xy_sum == 0);
    assert_true(ex.groups[1].sum == 10 && ex.groups[1].x_sum == 0);
}

/* The engine on those moments: control mean 3.25, sd^2 = (105 - 13^2/4)/3
 * = 20.9167; treatment 2.5, (36 - 25)/3 = 3.6667: relative lift
 * 2.5/3.25 - 1 = -0.230769; with 4 units a variation the verdict is not
 * "invalid" (weights 50/50, 4 vs 4) and nothing is significant. */
static void test_analyze(void **state)
{
    fx *f = *state;
    aipm_analysis_opts o;
    aipm_error err = {0};
    char *out = NULL;
    json_t *d, *v;
    json_error_t jerr;

    aipm_analysis_opts_init(&o);
    aipm_time_parse(&o.now_ms, "2026-11-27", 10, 1);
    assert_int_equal(
        aipm_experiment_analyze(&out, f->st, f->cfg, "exp", &o, &err), AIPM_OK);
    d = json_loads(out, 0, &jerr);
    free(out);
    assert_non_null(d);
    v = json_array_get(
        json_object_get(json_array_get(json_object_get(d, "metrics"), 0),
                        "variations"),
        1);
    assert_true(fabs(json_real_value(json_object_get(v, "lift_rel")) -
                     (2.5 / 3.25 - 1)) < 1e-12);
    assert_true(json_is_true(json_object_get(json_object_get(d, "srm"), "ok")));
    /* The ratio metric: (10/4) / (13/4) - 1 = 10/13 - 1. */
    v = json_array_get(
        json_object_get(json_array_get(json_object_get(d, "metrics"), 1),
                        "variations"),
        1);
    assert_true(fabs(json_real_value(json_object_get(v, "lift_rel")) -
                     (10.0 / 13 - 1)) < 1e-12);
    /* 4 units per variation is below the 8 needed. */
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(d, "verdict"), "decision")),
                        "keep_running");
    json_decref(d);
    assert_int_equal(
        aipm_experiment_analyze(&out, f->st, f->cfg, "nope", &o, &err),
        AIPM_ENOTFOUND);
}

/* Issue 12: an event of aipm.yaml that never occurs. The store's count
 * by hand from setup(): Click = the 23 counted (0+1+2+10+1+1+3+5) + 2 a
 * user (before exposure, after the end) x 8 + c5's 2 = 41; Other = 8;
 * Clik = 0. The analysis warns about Clik (a guardrail and, through the
 * ratio, a metric's denominator) and never about Click. */
static void test_unseen_events(void **state)
{
    fx *f = *state;
    aipm_analysis_opts o;
    aipm_error err = {0};
    char *out = NULL;
    int64_t n = -1;
    json_t *d, *w;
    json_error_t jerr;

    assert_int_equal(aipm_store_event_count(f->st, "Click", 0, &n, &err),
                     AIPM_OK);
    assert_int_equal(n, 41);
    assert_int_equal(aipm_store_event_count(f->st, "Click", 1, &n, &err),
                     AIPM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(aipm_store_event_count(f->st, "Other", 100, &n, &err),
                     AIPM_OK);
    assert_int_equal(n, 8);
    assert_int_equal(aipm_store_event_count(f->st, "Clik", 0, &n, &err),
                     AIPM_OK);
    assert_int_equal(n, 0);

    aipm_config_free(f->cfg);
    f->cfg = NULL;
    assert_int_equal(
        tu_ws_config(f, "metrics:\n"
                        "  - {key: clicks, type: count, event: Click}\n"
                        "  - {key: typo, type: count, event: Clik}\n"
                        "  - {key: per_typo, type: ratio, numerator: "
                        "clicks, denominator: typo}\n"
                        "experiments:\n"
                        "  - key: exp\n"
                        "    variations: [control, treatment]\n"
                        "    metrics: [clicks, per_typo]\n"
                        "    guardrails: [typo]\n"
                        "    start: 2026-10-01\n"
                        "    end: 2026-10-31\n"),
        0);
    aipm_analysis_opts_init(&o);
    o.record = 0;
    aipm_time_parse(&o.now_ms, "2026-11-27", 10, 1);
    assert_int_equal(
        aipm_experiment_analyze(&out, f->st, f->cfg, "exp", &o, &err), AIPM_OK);
    d = json_loads(out, 0, &jerr);
    free(out);
    assert_non_null(d);
    w = json_object_get(d, "warnings");
    assert_int_equal(json_array_size(w), 2);
    assert_non_null(strstr(json_string_value(json_array_get(w, 0)),
                           "metric per_typo: event 'Clik' never occurs"));
    assert_non_null(strstr(json_string_value(json_array_get(w, 1)),
                           "guardrail typo: event 'Clik' never occurs"));
    /* 4 units a variation: not enough traffic comes first, never ship. */
    assert_string_not_equal(json_string_value(json_object_get(
                                json_object_get(d, "verdict"), "decision")),
                            "ship");
    json_decref(d);
}

/* The Bayesian analysis's cell of (metric, variation) as numbers. The
 * reference is the analysis's own JSON: lift_rel, and se_rel from the
 * credible interval at alpha 0.05, lift -/+ z se with z = 1.959963984540054
 * (scipy.stats.norm.ppf(0.975)). */
static json_t *bayes_cell(json_t *doc, const char *metric, int variation)
{
    json_t *m;
    size_t i;

    json_array_foreach(json_object_get(doc, "metrics"), i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "metric")), metric) ==
            0)
            return json_array_get(json_object_get(m, "variations"),
                                  (size_t)variation);
    }
    return NULL;
}

static void same_as_analysis(fx *f, json_t *doc, const char *metric,
                             aipm_experiment_lift *lift)
{
    const double z = 1.959963984540054;
    aipm_error err = {0};
    int64_t now;
    json_t *v = bayes_cell(doc, metric, 1);

    int rc;

    aipm_time_parse(&now, "2026-11-27", 10, 1);
    assert_non_null(v);
    rc = aipm_experiment_lift_get(lift, f->st, f->cfg, "exp", "treatment",
                                  metric, now, &err);
    if (rc != AIPM_OK)
        print_error("%s: %s\n", metric, err.msg);
    assert_int_equal(rc, AIPM_OK);
    assert_true(fabs(lift->lift_rel -
                     json_real_value(json_object_get(v, "lift_rel"))) < 1e-12);
    assert_true(
        fabs(lift->se_rel - (json_real_value(json_object_get(v, "ci_high")) -
                             json_real_value(json_object_get(v, "ci_low"))) /
                                (2 * z)) < 1e-9);
    assert_true(fabs(lift->mean_variation -
                     json_real_value(json_object_get(v, "mean"))) < 1e-12);
}

/* With the moments of test_count_moments: clicks control 0,1,2,10 (mean
 * 3.25, var 20.9167), treatment 1,1,3,5 (2.5, 3.6667), 4 units each, so
 * se_rel^2 = vt/mc^2 + mt^2 vc/mc^4 with vc = 251/12/4, vt = 11/3/4 (the
 * delta method). The ratio clicks_per_other: 13/4 and 10/4 (the Other
 * event once a user). The guardrail clicked (a conversion): 3 of 4 and
 * 4 of 4; clicks_down is clicks, better when lower. clicks_per_other_pro
 * has no denominator event: no estimate. */
static void test_lift(void **state)
{
    fx *f = *state;
    aipm_analysis_opts o;
    aipm_experiment_lift lift;
    aipm_error err = {0};
    char *out = NULL;
    json_t *d;
    json_error_t jerr;
    double vc = 251.0 / 12 / 4, vt = 11.0 / 3 / 4;

    aipm_config_free(f->cfg);
    f->cfg = NULL;
    assert_int_equal(tu_ws_config(f, "metrics:\n"
                                     "  - {key: clicks, type: count, event: "
                                     "Click}\n"
                                     "  - {key: clicked, type: conversion, "
                                     "event: Click}\n"
                                     "  - {key: others, type: count, event: "
                                     "Other}\n"
                                     "  - {key: clicks_down, type: count, "
                                     "event: Click, direction: down}\n"
                                     "  - {key: other_pro, type: count, "
                                     "event: Other, where: {plan: pro}}\n"
                                     "  - {key: clicks_per_other, type: ratio, "
                                     "numerator: clicks, denominator: "
                                     "others}\n"
                                     "  - {key: clicks_per_other_pro, type: "
                                     "ratio, numerator: clicks, denominator: "
                                     "other_pro}\n"
                                     "experiments:\n"
                                     "  - key: exp\n"
                                     "    variations: [control, treatment]\n"
                                     "    metrics: [clicks, clicks_per_other]\n"
                                     "    guardrails: [clicked, clicks_down, "
                                     "clicks_per_other_pro]\n"
                                     "    start: 2026-10-01\n"
                                     "    end: 2026-10-31\n"),
                     0);
    aipm_analysis_opts_init(&o);
    o.engine = AIPM_ENGINE_BAYESIAN;
    o.record = 0;
    aipm_time_parse(&o.now_ms, "2026-11-27", 10, 1);
    assert_int_equal(
        aipm_experiment_analyze(&out, f->st, f->cfg, "exp", &o, &err), AIPM_OK);
    d = json_loads(out, 0, &jerr);
    free(out);
    assert_non_null(d);

    same_as_analysis(f, d, "clicks", &lift);
    assert_true(lift.mean_control == 3.25 && lift.mean_variation == 2.5);
    assert_true(lift.units_control == 4 && lift.units_variation == 4);
    assert_true(fabs(lift.lift_rel - (2.5 / 3.25 - 1)) < 1e-12);
    assert_true(fabs(lift.se_rel -
                     sqrt(vt / (3.25 * 3.25) + 2.5 * 2.5 * vc / pow(3.25, 4))) <
                1e-12);
    assert_true(!lift.guardrail && !lift.direction_down);

    same_as_analysis(f, d, "clicks_per_other", &lift);
    assert_true(fabs(lift.mean_control - 13.0 / 4) < 1e-12);
    assert_true(fabs(lift.mean_variation - 10.0 / 4) < 1e-12);
    assert_true(fabs(lift.lift_rel - (10.0 / 13 - 1)) < 1e-12);

    same_as_analysis(f, d, "clicked", &lift);
    assert_true(lift.mean_control == 0.75 && lift.mean_variation == 1);
    assert_true(lift.guardrail && !lift.direction_down);

    same_as_analysis(f, d, "clicks_down", &lift);
    assert_true(lift.guardrail && lift.direction_down);
    json_decref(d);

    /* The control: no change, with its own moments. */
    assert_int_equal(aipm_experiment_lift_get(&lift, f->st, f->cfg, "exp",
                                              "control", "clicks", o.now_ms,
                                              &err),
                     AIPM_OK);
    assert_true(lift.lift_rel == 0 && lift.se_rel == 0);
    assert_true(lift.mean_control == 3.25 && lift.units_control == 4);

    /* The errors, each naming what is wrong. */
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_experiment_lift_get(&lift, f->st, f->cfg, "nope",
                                              "treatment", "clicks", o.now_ms,
                                              &err),
                     AIPM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'nope'"));
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_experiment_lift_get(&lift, f->st, f->cfg, "exp",
                                              "blue", "clicks", o.now_ms, &err),
                     AIPM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'blue'"));
    assert_non_null(strstr(err.msg, "control, treatment"));
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_experiment_lift_get(&lift, f->st, f->cfg, "exp",
                                              "treatment", "other_pro",
                                              o.now_ms, &err),
                     AIPM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'other_pro'"));
    assert_non_null(strstr(err.msg, "clicks, clicks_per_other, clicked, "
                                    "clicks_down, clicks_per_other_pro"));
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        aipm_experiment_lift_get(&lift, f->st, f->cfg, "exp", "treatment",
                                 "clicks_per_other_pro", o.now_ms, &err),
        AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "no estimate"));
    assert_non_null(strstr(err.msg, "clicks_per_other_pro"));
}

/* Analyse exp with o->by, its code, the document (NULL when refused) and
 * the message in err. */
static int analyze_by(fx *f, const char *by, json_t **doc, aipm_error *err)
{
    aipm_analysis_opts o;
    char *out = NULL;
    int rc;

    aipm_analysis_opts_init(&o);
    aipm_time_parse(&o.now_ms, "2026-11-27", 10, 1);
    o.record = 0;
    o.by = by;
    aipm_error_clear(err);
    rc = aipm_experiment_analyze(&out, f->st, f->cfg, "exp", &o, err);
    *doc = out ? json_loads(out, 0, NULL) : NULL;
    free(out);
    return rc;
}

/* The configuration with a policies.fairness rule on clicks by trait. */
static void fairness_by(fx *f, const char *trait)
{
    char text[sizeof(yaml) + 200];

    snprintf(text, sizeof(text),
             "%spolicies:\n  fairness:\n    - {metric: clicks, by: %s, "
             "min_units: 2, max_gap: 0.1}\n",
             yaml, trait);
    assert_int_equal(tu_ws_config(f, text), 0);
}

/* --by a trait no unit has is refused, never a breakdown into the one
 * level "(none)". By plan (setup: no identify calls, so every user takes
 * their account's group trait) the users of A1-A3 (control) are "pro",
 * those of B1-B3 (treatment) "free". A trait no event carries is
 * AIPM_EINVALID naming the traits the learned schema knows (the group
 * calls' plan; then also beta); beta, which only c5 (never exposed)
 * identifies with, is AIPM_EINVALID saying the exposed units lack it. A
 * policies.fairness rule by a trait no event carries refuses the analysis
 * too; one by beta leaves the rule's gap unknown (null) and the analysis
 * stands. */
static void test_by_unknown_trait(void **state)
{
    static const char id_c5[] =
        "{\"type\":\"identify\",\"messageId\":\"i-c5\",\"userId\":\"c5\","
        "\"timestamp\":\"2026-10-06T10:00:00Z\",\"traits\":{\"beta\":"
        "\"yes\"}}\n";
    fx *f = *state;
    aipm_error err = {0};
    aipm_ingest_result res;
    json_t *d, *lv;
    int i;

    assert_int_equal(analyze_by(f, "plan", &d, &err), AIPM_OK);
    lv = json_object_get(
        json_object_get(json_array_get(json_object_get(d, "metrics"), 0), "by"),
        "levels");
    assert_int_equal(json_array_size(lv), 2);
    for (i = 0; i < 2; i++)
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(lv, i), "level")),
            i == 0 ? "free" : "pro");
    json_decref(d);

    assert_int_equal(analyze_by(f, "nosuch", &d, &err), AIPM_EINVALID);
    assert_null(d);
    assert_string_equal(err.msg,
                        "no user or account has the trait 'nosuch' (traits "
                        "come from identify and group events; known: plan)");

    assert_int_equal(tu_ws_ingest(f, "events", "id.ndjson", id_c5,
                                  strlen(id_c5), NULL, &res, &err),
                     AIPM_OK);
    aipm_ingest_result_clear(&res);
    assert_int_equal(analyze_by(f, "beta", &d, &err), AIPM_EINVALID);
    assert_null(d);
    assert_string_equal(err.msg,
                        "no user or account exposed to experiment exp has the "
                        "trait 'beta', though accepted identify or group "
                        "events carry it: a breakdown by it would be one "
                        "segment, (none)");
    assert_int_equal(analyze_by(f, "plann", &d, &err), AIPM_EINVALID);
    assert_string_equal(err.msg, "no user or account has the trait 'plann' "
                                 "(traits come from identify and group "
                                 "events; known: beta, plan)");

    /* policies.fairness */
    fairness_by(f, "regoin");
    assert_int_equal(analyze_by(f, NULL, &d, &err), AIPM_EINVALID);
    assert_null(d);
    assert_string_equal(err.msg,
                        "policies.fairness: no user or account has the trait "
                        "'regoin' (traits come from identify and group "
                        "events; known: beta, plan)");
    fairness_by(f, "beta");
    assert_int_equal(analyze_by(f, NULL, &d, &err), AIPM_OK);
    lv = json_array_get(json_object_get(d, "fairness"), 0);
    assert_string_equal(json_string_value(json_object_get(lv, "by")), "beta");
    assert_true(json_is_null(json_object_get(lv, "gap")));
    assert_true(json_is_false(json_object_get(lv, "held")));
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_count_moments, setup,
                                        tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_conversion_moments, setup,
                                        tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_capping, setup, tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_ratio_moments, setup,
                                        tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_ratio_filtered_denominator, setup,
                                        tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_account_moments, setup,
                                        tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_account_by_trait, setup,
                                        tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_account_population, setup,
                                        tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_analyze, setup, tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_unseen_events, setup,
                                        tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_lift, setup, tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_by_unknown_trait, setup,
                                        tu_ws_teardown),
    };

    setenv("AIPM_NOW", "2026-11-27T00:00:00Z", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
