/* test_sim_run.c - the sensitivity estimator of `aipm simulate`
 * (aipm_sim_first_order, sim_run.h) against closed forms.
 *
 * y = 2 x1 + x2 with x1, x2 independent standard normals: x1's true
 * first-order share is 4/5. Conditional means over 20 equal-probability
 * bins see E[x1 | bin] only, whose variance is
 * sum_b (20 (phi(a_b) - phi(a_b+1)))^2 / 20 = 0.98330614286243720
 * (a_b the normal's 20-quantiles; scipy.stats.norm, Debian 12's
 * python3-scipy 1.10.1), so the estimator's expectation is 4/5 of that
 * for x1 and 1/5 of it for x2. The tornado's bar for x1 is
 * 2 E[x1 | x1 < z_0.1] = -2 phi(z_0.1) / 0.1 = -3.5099666386497366
 * (and its mirror). Standard errors: the between-bin variance of n =
 * 400,000 draws has a standard error near 0.0014 of the share here; the
 * tolerance is 0.007 (5 of them). A bar is a mean of 40,000 draws of sd
 * sqrt(1 + 4 x 0.169) = 1.30 (0.169 the variance of x1 in its lowest
 * tenth): standard error 0.0065, tolerance 0.033.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>

#include "aipm/prioritize.h"
#include "aipm/scenario.h"
#include "aipm/sim_run.h"
#include "aipm/simulate.h"
#include "testutil.h"

#include <jansson.h>
#include <string.h>

#define N 400000
#define BINNED_VAR 0.98330614286243720
#define LOW_BAR (-3.5099666386497366)

static double *normals(uint32_t stream)
{
    double *x = malloc(N * sizeof(double));
    aipm_error err = {0};

    assert_non_null(x);
    assert_int_equal(aipm_sim_normals(x, N, 99, stream, 0, &err), AIPM_OK);
    return x;
}

static void test_linear_shares(void **state)
{
    double *x1 = normals(1), *x2 = normals(2), *x3 = normals(3);
    double *y = malloc(N * sizeof(double)), *u = malloc(N * sizeof(double));
    double s, lo, hi;
    size_t k;

    (void)state;
    assert_non_null(y);
    assert_non_null(u);
    for (k = 0; k < N; k++)
        y[k] = 2 * x1[k] + x2[k];
    for (k = 0; k < N; k++)
        u[k] = gsl_cdf_ugaussian_P(x1[k]);
    s = aipm_sim_first_order(y, u, N, 20, &lo, &hi);
    assert_true(fabs(s - 0.8 * BINNED_VAR) < 0.007);
    assert_true(fabs(lo - LOW_BAR) < 0.033);
    assert_true(fabs(hi + LOW_BAR) < 0.033);
    for (k = 0; k < N; k++)
        u[k] = gsl_cdf_ugaussian_P(x2[k]);
    s = aipm_sim_first_order(y, u, N, 20, &lo, &hi);
    assert_true(fabs(s - 0.2 * BINNED_VAR) < 0.007);
    assert_true(fabs(lo - LOW_BAR / 2) < 0.033);
    /* an input y does not depend on: its share is the bins' noise, which
     * the correction takes out */
    for (k = 0; k < N; k++)
        u[k] = gsl_cdf_ugaussian_P(x3[k]);
    s = aipm_sim_first_order(y, u, N, 20, &lo, &hi);
    assert_true(s >= 0 && s < 0.002);
    assert_true(fabs(lo) < 0.04 && fabs(hi) < 0.04);
    free(x1), free(x2), free(x3), free(y), free(u);
}

static void test_edges(void **state)
{
    double y[40], u[40], lo = 0, hi = 0;
    size_t k;

    (void)state;
    for (k = 0; k < 40; k++)
        y[k] = 3, u[k] = (k + 0.5) / 40;
    /* a constant objective has no variance to share */
    assert_true(isnan(aipm_sim_first_order(y, u, 40, 20, &lo, &hi)));
    assert_true(lo == 3 && hi == 3);
    /* fewer than two draws a bin */
    for (k = 0; k < 40; k++)
        y[k] = (double)k;
    assert_true(isnan(aipm_sim_first_order(y, u, 39, 20, NULL, NULL)));
    assert_true(isnan(aipm_sim_first_order(y, u, 40, 1, NULL, NULL)));
    /* y a function of u alone: all of its variance, up to the bins */
    assert_true(aipm_sim_first_order(y, u, 40, 20, &lo, &hi) > 0.99);
    assert_true(lo == 1.5 && hi == 37.5);
}

/* ---- aipm_simulate and aipm_plan on a demo store ---- */

/* The tests' demo (800 users, 60 days to 2026-11-27, seed 3) with a KPI
 * on the metric its planted winning experiment moves. */
static int demo_setup(void **state)
{
    tu_ws *w = calloc(1, sizeof(*w));

    if (w == NULL || tu_ws_open(w) != 0 ||
        tu_ws_demo(w, 800, 60, 3, "2026-11-27",
                   "  - {key: engagement, metric: dashboards_viewed, "
                   "direction: up}\n"
                   "  - {key: engagement_down, metric: dashboards_viewed, "
                   "direction: down}\n",
                   "  - {key: pdf, name: PDF export, area: reporting, "
                   "events: [PDF Exported]}\n") != 0)
        return -1;
    *state = w;
    return 0;
}

static int64_t now_ms(void)
{
    int64_t t = 0;

    aipm_time_parse(&t, "2026-11-28", 10, 1);
    return t;
}

static aipm_scenario_file *load(const char *text)
{
    aipm_scenario_file *f = NULL;
    aipm_error err = {0, ""};

    if (aipm_scenario_file_load_buffer(&f, text, strlen(text), "t.yaml",
                                       &err) != AIPM_OK)
        fail_msg("load: %s", err.msg);
    return f;
}

static json_t *simulate(tu_ws *w, aipm_scenario_file *f, int threads,
                        size_t draws)
{
    aipm_simulate_opts o;
    aipm_error err = {0, ""};
    json_t *doc = NULL;

    aipm_simulate_opts_init(&o);
    o.threads = threads;
    o.draws = draws;
    o.now_ms = now_ms();
    if (aipm_simulate(&doc, w->st, w->cfg, f, &o, &err) != AIPM_OK)
        fail_msg("simulate: %s", err.msg);
    return doc;
}

static const json_t *scen(const json_t *doc, const char *name)
{
    size_t i;
    const json_t *s;

    json_array_foreach(
        json_object_get(doc, "scenarios"), i,
        s) if (strcmp(json_string_value(json_object_get(s, "name")), name) ==
               0) return s;
    fail_msg("no scenario %s", name);
    return NULL;
}

static double num(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

/* The value objective: an assumed value is that value in every draw, the
 * same seed gives the same document on 1 and 3 threads, an item that
 * another scenario builds under an assumption keeps its draws, and P(loss)
 * is the baseline beating the scenario. */
static void test_simulate_value(void **state)
{
    tu_ws *w = *state;
    aipm_pz_sim_inputs *in = NULL;
    aipm_error err = {0, ""};
    const char *a = NULL, *b = NULL;
    char text[1024];
    aipm_scenario_file *f;
    json_t *d1, *d3;
    char *s1, *s3;
    int i;

    assert_int_equal(
        aipm_pz_sim_inputs_new(&in, w->st, w->cfg, -1, now_ms(), &err),
        AIPM_OK);
    for (i = 0; i < in->n_items && !b; i++) {
        if (!in->items[i].open)
            continue;
        if (a == NULL)
            a = in->items[i].id;
        else
            b = in->items[i].id;
    }
    assert_non_null(b);
    snprintf(text, sizeof(text),
             "objective: {kpi: value, horizon_days: 30}\n"
             "capacity: {weeks_per_period: 20}\n"
             "scenarios:\n  - name: none\n"
             "  - name: one\n    build: [%s]\n"
             "  - name: fixed\n    build: [%s, %s]\n"
             "    assume: {value: {%s: 50}, effort: {%s: 1}}\n",
             a, a, b, b, a);
    f = load(text);
    d1 = simulate(w, f, 1, 3000);
    d3 = simulate(w, f, 3, 3000);
    s1 = json_dumps(d1, JSON_SORT_KEYS);
    s3 = json_dumps(d3, JSON_SORT_KEYS);
    assert_string_equal(s1, s3);
    assert_true(num(scen(d1, "none"), "mean") == 0);
    /* fixed = a (its own draws, earlier by one week's effort at most) +
     * 50 for b over the days it is live: at least the 50's share */
    assert_true(num(scen(d1, "fixed"), "p10") >= 0);
    assert_true(num(json_object_get(json_object_get(d1, "beats"), "none"),
                    "one") == num(scen(d1, "one"), "p_loss"));
    assert_int_equal(
        json_array_size(json_object_get(scen(d1, "fixed"), "assumptions")), 2);
    assert_non_null(json_object_get(d1, "sensitivity"));
    /* "none" is 0 in every draw: one bin of its histogram holds all
     * 3000 (the edges are the others' 0.5% and 99.5% quantiles, the
     * lowest of which is 0, none's own) */
    {
        const json_t *h = json_object_get(scen(d1, "none"), "histogram"), *c;
        size_t k, full = 0;

        assert_int_equal(json_array_size(json_object_get(
                             json_object_get(d1, "histogram"), "edges")),
                         41);
        json_array_foreach(json_object_get(h, "counts"), k, c)
        {
            assert_true(json_integer_value(c) == 0 ||
                        json_integer_value(c) == 3000);
            full += json_integer_value(c) == 3000;
        }
        assert_int_equal(full, 1);
        assert_int_equal(json_integer_value(json_object_get(h, "below")) +
                             json_integer_value(json_object_get(h, "above")),
                         0);
    }
    free(s1);
    free(s3);
    json_decref(d1);
    json_decref(d3);
    /* a record's parameters: one made before the histograms (no
     * histogram_bins) replays without them, so its digest still
     * matches; one made since, with them */
    {
        aipm_scenario_file *rf = NULL;
        aipm_simulate_opts o;
        json_t *params, *doc = NULL;
        char *canon = NULL;
        size_t k;
        const json_t *sc;

        assert_int_equal(aipm_scenario_file_json(&canon, NULL, f, &err),
                         AIPM_OK);
        params = json_pack("{s:o, s:i, s:i}", "scenario",
                           json_loads(canon, 0, NULL), "draws", 500, "seed", 3);
        assert_non_null(params);
        aipm_simulate_opts_init(&o);
        assert_int_equal(o.histogram, 1);
        assert_int_equal(aipm_simulate_from_params(&rf, &o, params, &err),
                         AIPM_OK);
        assert_int_equal(o.histogram, 0);
        o.now_ms = now_ms();
        assert_int_equal(aipm_simulate(&doc, w->st, w->cfg, rf, &o, &err),
                         AIPM_OK);
        assert_null(json_object_get(doc, "histogram"));
        json_array_foreach(json_object_get(doc, "scenarios"), k, sc)
            assert_null(json_object_get(sc, "histogram"));
        json_decref(doc);
        aipm_scenario_file_free(rf);
        rf = NULL;
        json_object_set_new(params, "histogram_bins", json_integer(40));
        assert_int_equal(aipm_simulate_from_params(&rf, &o, params, &err),
                         AIPM_OK);
        assert_int_equal(o.histogram, 1);
        aipm_scenario_file_free(rf);
        json_decref(params);
        free(canon);
    }
    aipm_scenario_file_free(f);
    /* an unknown item names its line */
    f = load("objective: {kpi: value, horizon_days: 30}\nscenarios:\n"
             "  - name: x\n    build: [NOPE-1]\n");
    {
        aipm_simulate_opts o;
        json_t *doc = NULL;

        aipm_simulate_opts_init(&o);
        o.now_ms = now_ms();
        aipm_error_clear(&err);
        assert_int_equal(aipm_simulate(&doc, w->st, w->cfg, f, &o, &err),
                         AIPM_EINVALID);
        assert_null(doc);
        assert_non_null(strstr(err.msg, "t.yaml:4: build: item 'NOPE-1'"));
    }
    aipm_scenario_file_free(f);
    aipm_pz_sim_inputs_free(in);
}

/* A KPI: shipping the planted winner multiplies the KPI by 1 + lift, so it
 * beats not shipping it exactly when the lift is positive: P(beats) is
 * Phi(lift / se) up to the Monte Carlo's error (5 standard errors). */
static void test_simulate_kpi(void **state)
{
    tu_ws *w = *state;
    aipm_scenario_file *f =
        load("objective: {kpi: engagement, horizon_days: 40}\nscenarios:\n"
             "  - name: without\n  - name: with\n    experiments: "
             "[{experiment: onboarding_checklist, ship: treatment}]\n");
    json_t *d = simulate(w, f, 2, 20000), *lift;
    double p, c;

    lift = json_array_get(
        json_object_get(json_object_get(d, "models"), "experiments"), 0);
    assert_non_null(lift);
    c = gsl_cdf_ugaussian_P(num(lift, "lift_rel") / num(lift, "se_rel"));
    p = num(json_object_get(json_object_get(d, "beats"), "with"), "without");
    if (!(fabs(p - c) <= 5 * sqrt(c * (1 - c) / 20000) + 1e-4))
        fail_msg("P(with beats without) %g, Phi(lift / se) %g", p, c);
    json_decref(d);
    aipm_scenario_file_free(f);

    /* the same KPI, lower is better: summaries and the tornado's bars in
     * the KPI's own units (the level's bar rises with the level), and the
     * worst tail the upper one */
    {
        const json_t *sq, *in;
        json_t *up, *down;
        size_t i;

        f = load("objective: {kpi: engagement, horizon_days: 40}\n"
                 "scenarios:\n  - name: a\n");
        up = simulate(w, f, 2, 20000);
        aipm_scenario_file_free(f);
        f = load("objective: {kpi: engagement_down, horizon_days: 40}\n"
                 "scenarios:\n  - name: a\n");
        down = simulate(w, f, 2, 20000);
        aipm_scenario_file_free(f);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(down, "objective"), "better")),
                            "lower");
        sq = scen(down, "a");
        assert_true(num(sq, "p10") < num(sq, "p50") &&
                    num(sq, "p50") < num(sq, "p90"));
        assert_true(num(sq, "cvar") > num(sq, "p90"));
        /* the same model (its draws on the other KPI's streams): the
         * same distribution, within a twentieth of its 80% band */
        assert_true(fabs(num(sq, "p50") - num(scen(up, "a"), "p50")) <
                    0.05 * (num(sq, "p90") - num(sq, "p10")));
        json_array_foreach(
            json_object_get(json_object_get(down, "sensitivity"), "inputs"), i,
            in) if (strcmp(json_string_value(json_object_get(in, "kind")),
                           "kpi_level") == 0)
            assert_true(num(in, "low") < num(in, "high"));
        /* one scenario: its own 0.5% and 99.5% quantiles are the edges,
         * so of 20000 distinct draws exactly 100 lie below (type 7 at
         * 0.005: h = 19999 x 0.005 = 99.995, between the 100th and 101st
         * smallest) and 100 above - in the KPI's units when lower is
         * better too (edges from the negated draws' quantiles, negated
         * back) */
        for (i = 0; i < 2; i++) {
            const json_t *sa = scen(i ? down : up, "a"),
                         *h = json_object_get(sa, "histogram"),
                         *e = json_object_get(
                             json_object_get(i ? down : up, "histogram"),
                             "edges");

            assert_int_equal(json_integer_value(json_object_get(h, "below")),
                             100);
            assert_int_equal(json_integer_value(json_object_get(h, "above")),
                             100);
            assert_true(
                json_number_value(json_array_get(e, 0)) < num(sa, "p10") &&
                num(sa, "p90") < json_number_value(json_array_get(e, 40)));
        }
        json_decref(up);
        json_decref(down);
    }
}

/* adopters:FEATURE of a feature nobody uses yet: the status quo has
 * none, a rollout later than another never has more in any draw (the
 * same draws of each segment, its curve shifted), and a rollout of a
 * feature in use is refused. */
static void test_simulate_adopters(void **state)
{
    tu_ws *w = *state;
    aipm_scenario_file *f =
        load("objective: {kpi: 'adopters:pdf', horizon_days: 30}\n"
             "scenarios:\n  - name: none\n"
             "  - name: now\n    rollouts: [{feature: pdf, start: "
             "2026-11-28}]\n"
             "  - name: later\n    rollouts: [{feature: pdf, start: "
             "2026-12-05, ramp_days: 6}]\n");
    json_t *d = simulate(w, f, 2, 4000);
    aipm_simulate_opts o;
    aipm_error err = {0, ""};

    assert_true(num(scen(d, "none"), "p90") == 0);
    assert_true(num(scen(d, "now"), "mean") > 0);
    assert_true(
        num(json_object_get(json_object_get(d, "beats"), "later"), "now") == 0);
    json_decref(d);
    aipm_scenario_file_free(f);
    f = load("objective: {kpi: 'adopters:export', horizon_days: 30}\n"
             "scenarios:\n  - name: a\n    rollouts: [{feature: export, "
             "start: 2026-12-01}]\n");
    aipm_simulate_opts_init(&o);
    o.now_ms = now_ms();
    d = NULL;
    assert_int_equal(aipm_simulate(&d, w->st, w->cfg, f, &o, &err),
                     AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "export is already in use"));
    aipm_scenario_file_free(f);
}

/* The planner writes a file that loads, within the capacity, and stops
 * on a round whose moves do not improve the plan. */
static void test_plan(void **state)
{
    tu_ws *w = *state;
    aipm_plan_opts o;
    aipm_error err = {0, ""};
    aipm_scenario_file *f = NULL;
    json_t *d = NULL, *rounds;
    char path[400];

    snprintf(path, sizeof(path), "%s/plan.yaml", w->dir);
    aipm_plan_opts_init(&o);
    o.objective = "value";
    o.capacity_weeks = 3;
    o.horizon_days = 45;
    o.draws = 1000;
    o.threads = 2;
    o.now_ms = now_ms();
    o.out_path = path;
    if (aipm_plan(&d, w->st, w->cfg, &o, &err) != AIPM_OK)
        fail_msg("plan: %s", err.msg);
    rounds = json_object_get(d, "rounds");
    assert_true(json_array_size(rounds) >= 1);
    assert_true(json_is_null(json_object_get(
        json_array_get(rounds, json_array_size(rounds) - 1), "move")));
    assert_int_equal(aipm_scenario_file_load(&f, path, &err), AIPM_OK);
    assert_int_equal(f->n_scenarios, 3);
    assert_true(f->has_capacity && f->weeks_per_period == 3);
    aipm_scenario_file_free(f);
    json_decref(d);
    /* the KPI: the planted winner's variation */
    o.objective = "engagement";
    o.out_path = NULL;
    if (aipm_plan(&d, w->st, w->cfg, &o, &err) != AIPM_OK)
        fail_msg("plan: %s", err.msg);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(d, "plan"), "plan"),
                           0),
            "experiment")),
        "onboarding_checklist");
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_shares),
        cmocka_unit_test(test_edges),
    };
    const struct CMUnitTest demo[] = {
        cmocka_unit_test(test_simulate_value),
        cmocka_unit_test(test_simulate_kpi),
        cmocka_unit_test(test_simulate_adopters),
        cmocka_unit_test(test_plan),
    };

    return cmocka_run_group_tests(tests, NULL, NULL) +
           cmocka_run_group_tests_name("simulate on a demo", demo, demo_setup,
                                       tu_ws_teardown);
}
