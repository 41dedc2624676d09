/* test_experiment.c - the experiment SQL and engine on a hand-made store.
 *
 * Eight users, four per variation, with metric event counts chosen so that
 * every moment below is a hand calculation: control counts after exposure
 * 0, 1, 2, 10; treatment 1, 1, 3, 5. One more user sees both variations
 * (excluded, counted); events before exposure, after the end, or of other
 * names do not count.
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

static int teardown(void **state)
{
    fx *f = *state;

    if (f) {
        tu_ws_close(f);
        free(f);
    }
    return 0;
}

static void moments(fx *f, const char *metric, aipm_exposures *ex)
{
    aipm_error err = {0};
    int64_t start, end;

    assert_int_equal(aipm_time_parse(&start, "2026-10-01", 10, 1), AIPM_OK);
    assert_int_equal(aipm_time_parse(&end, "2026-11-01", 10, 1), AIPM_OK);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_count_moments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversion_moments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_capping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratio_moments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_analyze, setup, teardown),
    };

    setenv("AIPM_NOW", "2026-11-27T00:00:00Z", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
