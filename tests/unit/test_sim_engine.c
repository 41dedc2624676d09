/* test_sim_engine.c - the scenario Monte Carlo (aipm/sim_engine.h) against
 * closed forms, a draw-by-draw recomputation, and itself across threads.
 *
 * The ONE_* and CRN_* constants are printed by
 * tests/unit/sim_engine_ref.py (Debian 12's python3-scipy 1.10.1), which
 * says how: the Student t predictive of the value model with p = 1 for the
 * value's mean, quantiles and CVaR and their standard errors, the
 * lognormal's closed forms for effort. Monte Carlo checks use 1e6 draws of
 * a fixed seed and allow 5 standard errors (p < 6e-7 each). The
 * draw-by-draw test recomputes the objective of every draw from
 * aipm/simulate.h's streams and the C library's expm1 and exp, following
 * the layout the header documents, so the layout and the engine's own
 * expm1 and exp are both checked against an independent computation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aipm/sim_engine.h"

#define N 1000000
#define SEED 0x5EED5EED12345678ull

/* tests/unit/sim_engine_ref.py */
#define ONE_MEAN 4.2544596266247963
#define ONE_MEAN_SE 0.0032649904409627487
#define ONE_P10 1.1935741118336407
#define ONE_P10_SE 0.0021341477808052957
#define ONE_P50 3.481689070338065
#define ONE_P50_SE 0.0030990477380570935
#define ONE_P90 8.1565344497970376
#define ONE_P90_SE 0.0089084738785354875
#define ONE_CVAR 0.4352257004798355
#define ONE_CVAR_SE 0.001854417723754494
#define ONE_EFFORT_MEAN 4.5325938122673053
#define ONE_EFFORT_MEAN_SE 0.0024156021328435246
#define ONE_P_OVER 0.2087028733844713
#define ONE_P_OVER_SE 0.00040638157441687315
#define ONE_SHORTFALL 0.46077160030133668
#define ONE_SHORTFALL_SE 0.0013830617262822976
#define CRN_VAR1 10.660162579578124
#define CRN_VAR2 2.1271160812161662
#define CRN_VAR2_SE 0.0080128634861443386

/* Within 5 standard errors. */
static void within(double got, double want, double se, const char *what)
{
    if (!(fabs(got - want) <= 5 * se))
        fail_msg("%s: got %.10g, want %.10g, %.2f standard errors off", what,
                 got, want, (got - want) / se);
}

static void run_ok(aipm_sim_result **r, const aipm_sim_problem *pb, size_t n,
                   uint64_t seed, int threads)
{
    aipm_error err = {0};
    int rc = aipm_sim_run(r, pb, n, seed, threads, &err);

    if (rc != AIPM_OK)
        fail_msg("aipm_sim_run: %d %s", rc, err.msg);
}

static void summarize_ok(aipm_sim_result *r, size_t baseline, int threads)
{
    aipm_error err = {0};
    int rc = aipm_sim_result_summarize(r, baseline, 0.05, threads, &err);

    if (rc != AIPM_OK)
        fail_msg("aipm_sim_result_summarize: %d %s", rc, err.msg);
}

static double sample_var(const double *x, size_t n)
{
    double mean = 0, ss = 0;
    size_t i;

    for (i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    return ss / (double)(n - 1);
}

/* The posterior of the closed-form tests: p = 1, mn 1, L 0.3, an 20,
 * bn 5 (sim_engine_ref.py). */
static aipm_sim_posterior post1(void)
{
    aipm_sim_posterior po;

    memset(&po, 0, sizeof(po));
    po.p = 1;
    po.mn[0] = 1.0;
    po.chol[0] = 0.3;
    po.an = 20;
    po.bn = 5;
    po.stream = 900;
    return po;
}

static aipm_sim_item item1(double x, double effort, uint32_t stream)
{
    aipm_sim_item it;

    memset(&it, 0, sizeof(it));
    it.x[0] = x;
    it.effort = effort;
    it.stream = stream;
    return it;
}

/* One item (x 1.5, effort 4, effort sd 0.5): its value against the t
 * predictive, its effort against capacity 6 against the lognormal; a
 * second scenario builds it at weight 0.5 (half the value, draw by draw,
 * and the full effort). */
static void test_one_item(void **state)
{
    aipm_sim_posterior po = post1();
    aipm_sim_item it = item1(1.5, 4, 7);
    double w1 = 1, w2 = 0.5;
    aipm_sim_scenario sc[2] = {{&w1, NULL, 6, NULL}, {&w2, NULL, 0, NULL}};
    aipm_sim_problem pb = {.posterior = &po,
                           .items = &it,
                           .n_items = 1,
                           .effort_log_sd = 0.5,
                           .scenarios = sc,
                           .n_scenarios = 2};
    aipm_sim_result *r = NULL;
    const aipm_sim_summary *s;
    size_t k;

    (void)state;
    run_ok(&r, &pb, N, SEED, 2);
    summarize_ok(r, 0, 2);
    s = &r->summary[0];
    within(s->mean, ONE_MEAN, ONE_MEAN_SE, "mean");
    within(s->p10, ONE_P10, ONE_P10_SE, "P10");
    within(s->p50, ONE_P50, ONE_P50_SE, "P50");
    within(s->p90, ONE_P90, ONE_P90_SE, "P90");
    within(s->cvar, ONE_CVAR, ONE_CVAR_SE, "CVaR 5%");
    within(r->effort_mean[0], ONE_EFFORT_MEAN, ONE_EFFORT_MEAN_SE,
           "effort mean");
    within(r->p_over[0], ONE_P_OVER, ONE_P_OVER_SE, "P(over capacity)");
    within(r->shortfall_mean[0], ONE_SHORTFALL, ONE_SHORTFALL_SE,
           "mean shortfall");
    /* no capacity: nothing over, nothing drawn */
    assert_true(r->p_over[1] == 0 && r->shortfall_mean[1] == 0);
    for (k = 0; k < N; k++)
        if (r->draws[1][k] != 0.5 * r->draws[0][k])
            fail_msg("draw %zu: half weight gives %.17g, not half of %.17g", k,
                     r->draws[1][k], r->draws[0][k]);
    /* half the value is never more: a loss in every draw with value > 0 */
    assert_true(r->p_loss[1] > 0.99 && r->p_loss[0] == 0);
    assert_true(r->beats[0 * 2 + 1] == r->p_loss[1]);
    aipm_sim_result_free(r);
}

/* Units in the last place between got and want. */
static double ulps(double got, double want)
{
    double ulp = nextafter(fabs(want), INFINITY) - fabs(want);

    return fabs(got - want) / ulp;
}

/* Every draw of three scenarios recomputed from the streams the header
 * documents, with the C library's expm1 and exp: items with p = 3
 * (one with a wide spread of y, so expm1 is met over [0, ~40]), a fixed
 * value, shared inputs, fractional weights; and the efforts' summaries. */
#define DD_N 3000
#define DD_ITEMS 4
#define DD_SHARED 2
#define DD_SCEN 3
static void test_draw_by_draw(void **state)
{
    static const double X[DD_ITEMS][3] = {
        {1, 0.5, -1.2}, {1, -0.3, 0.8}, {1, 2.0, 1.5}, {1, 0, 0}};
    static const double W[DD_SCEN][DD_ITEMS] = {
        {1, 1, 0, 1}, {0.25, 0, 1, 0}, {0, 0.75, 1, 1}};
    static const double C[DD_SCEN][DD_SHARED] = {{1, 0}, {0, 0}, {2.5, -1}};
    static const double CAP[DD_SCEN] = {9, 0, 14};
    aipm_sim_posterior po;
    aipm_sim_item items[DD_ITEMS];
    aipm_sim_shared sh[DD_SHARED] = {{3, 2, 500}, {-1, 0.5, 501}};
    aipm_sim_scenario sc[DD_SCEN];
    aipm_sim_problem pb = {.posterior = &po,
                           .items = items,
                           .n_items = DD_ITEMS,
                           .effort_log_sd = 0.4,
                           .shared = sh,
                           .n_shared = DD_SHARED,
                           .scenarios = sc,
                           .n_scenarios = DD_SCEN};
    aipm_sim_result *r = NULL;
    double *s2 = malloc(DD_N * sizeof(double));
    double *z = malloc(3 * DD_N * sizeof(double));
    double *e = malloc(DD_ITEMS * DD_N * sizeof(double));
    double *h = malloc(DD_ITEMS * DD_N * sizeof(double));
    double *u = malloc(DD_SHARED * DD_N * sizeof(double));
    double eff_sum[DD_SCEN] = {0}, short_sum[DD_SCEN] = {0};
    size_t over[DD_SCEN] = {0}, i, j, k, s;
    int rc = 0;

    (void)state;
    assert_true(s2 && z && e && h && u);
    memset(&po, 0, sizeof(po));
    po.p = 3;
    po.mn[0] = 1.2;
    po.mn[1] = 0.4;
    po.mn[2] = -0.2;
    /* L lower, row-major stride p; chol[8] large: item 2's y spreads */
    po.chol[0] = 0.3;
    po.chol[3] = 0.1;
    po.chol[4] = 0.25;
    po.chol[6] = -0.2;
    po.chol[7] = 0.05;
    po.chol[8] = 4.0;
    po.an = 6;
    po.bn = 3;
    po.stream = 77;
    for (i = 0; i < DD_ITEMS; i++) {
        memset(&items[i], 0, sizeof(items[i]));
        memcpy(items[i].x, X[i], sizeof(X[i]));
        items[i].effort = 2 + (double)i;
        items[i].stream = 1000 + (uint32_t)i * 3;
    }
    items[3].flags = AIPM_SIM_VALUE_FIXED | AIPM_SIM_EFFORT_FIXED;
    items[3].value = 2.5;
    items[3].effort = 1.5;
    for (s = 0; s < DD_SCEN; s++) {
        sc[s].weight = W[s];
        sc[s].coef = C[s];
        sc[s].capacity = CAP[s];
        sc[s].built = NULL;
    }
    /* the header's layout */
    rc |= aipm_sim_inv_gammas(s2, DD_N, po.an, po.bn, SEED, po.stream, 0, NULL);
    for (j = 0; j < 3; j++)
        rc |= aipm_sim_normals(z + j * DD_N, DD_N, SEED, po.stream,
                               (uint64_t)j << 56, NULL);
    for (i = 0; i < DD_ITEMS; i++) {
        rc |= aipm_sim_normals(e + i * DD_N, DD_N, SEED, items[i].stream, 0,
                               NULL);
        rc |= aipm_sim_normals(h + i * DD_N, DD_N, SEED, items[i].stream,
                               (uint64_t)1 << 63, NULL);
    }
    for (j = 0; j < DD_SHARED; j++)
        rc |= aipm_sim_normals(u + j * DD_N, DD_N, SEED, sh[j].stream, 0, NULL);
    assert_int_equal(rc, 0);
    run_ok(&r, &pb, DD_N, SEED, 1);
    for (k = 0; k < DD_N; k++) {
        double value[DD_ITEMS], effort[DD_ITEMS], sd = sqrt(s2[k]);

        for (i = 0; i < DD_ITEMS; i++) {
            double y = 0, beta;
            int a, b;

            for (a = 0; a < 3; a++) { /* x' (mn + sd L z) */
                beta = po.mn[a];
                for (b = 0; b <= a; b++)
                    beta += sd * po.chol[a * 3 + b] * z[(size_t)b * DD_N + k];
                y += X[i][a] * beta;
            }
            y += sd * e[i * DD_N + k];
            value[i] = y > 0 ? expm1(y) : 0;
            effort[i] = items[i].effort * exp(0.4 * h[i * DD_N + k]);
        }
        value[3] = 2.5;
        effort[3] = 1.5;
        for (s = 0; s < DD_SCEN; s++) {
            double want = 0, eff = 0, got = r->draws[s][k], d;

            for (i = 0; i < DD_ITEMS; i++) {
                want += W[s][i] * value[i];
                eff += W[s][i] > 0 ? effort[i] : 0;
            }
            for (j = 0; j < DD_SHARED; j++)
                want += C[s][j] * (sh[j].mean + sh[j].sd * u[j * DD_N + k]);
            /* the sums differ from the engine's only by the order of the
             * terms and x' L z's grouping: relative 1e-13 */
            if (!(fabs(got - want) <= 1e-13 * (fabs(want) + 10)))
                fail_msg("scenario %zu draw %zu: got %.17g, want %.17g", s, k,
                         got, want);
            if (CAP[s] > 0) {
                d = eff - CAP[s];
                eff_sum[s] += eff;
                short_sum[s] += d > 0 ? d : 0;
                over[s] += d > 0;
            }
        }
    }
    for (s = 0; s < DD_SCEN; s++) {
        if (CAP[s] == 0) {
            assert_true(r->p_over[s] == 0 && r->effort_mean[s] == 0);
            continue;
        }
        assert_true(fabs(r->effort_mean[s] - eff_sum[s] / DD_N) <=
                    1e-12 * eff_sum[s] / DD_N);
        assert_true(fabs(r->shortfall_mean[s] - short_sum[s] / DD_N) <=
                    1e-12 * (short_sum[s] / DD_N) + 1e-300);
        assert_true(r->p_over[s] == (double)over[s] / DD_N);
        assert_true(over[s] > 0 && over[s] < DD_N);
    }
    aipm_sim_result_free(r);
    free(s2);
    free(z);
    free(e);
    free(h);
    free(u);
}

/* The engine's expm1 and exp over a wide range, through one-item
 * scenarios: a fixed s2 is impossible, but with L x large the draws of y
 * spread over about [-60, 60]; every value is compared with the C
 * library's expm1 of the same y recomputed in the engine's order
 * (m + s (a z + e)), so only the functions differ. */
static void test_expm1_accuracy(void **state)
{
    enum { n = 200000 };
    aipm_sim_posterior po = post1();
    aipm_sim_item it = item1(1, 1, 8);
    double w = 1, worst = 0;
    aipm_sim_scenario sc = {&w, NULL, 0, NULL};
    aipm_sim_problem pb = {.posterior = &po,
                           .items = &it,
                           .n_items = 1,
                           .effort_log_sd = 0.5,
                           .scenarios = &sc,
                           .n_scenarios = 1};
    aipm_sim_result *r = NULL;
    double *s2 = malloc(n * sizeof(double)), *z = malloc(n * sizeof(double));
    double *e = malloc(n * sizeof(double));
    size_t k, n_pos = 0;
    double y_max = 0;

    (void)state;
    assert_true(s2 && z && e);
    po.mn[0] = 0.5;
    po.chol[0] = 6.0; /* a = 6 */
    po.an = 3;
    po.bn = 6;
    run_ok(&r, &pb, n, SEED, 1);
    assert_int_equal(
        aipm_sim_inv_gammas(s2, n, po.an, po.bn, SEED, po.stream, 0, NULL), 0);
    assert_int_equal(aipm_sim_normals(z, n, SEED, po.stream, 0, NULL), 0);
    assert_int_equal(aipm_sim_normals(e, n, SEED, it.stream, 0, NULL), 0);
    for (k = 0; k < n; k++) {
        double s = sqrt(s2[k]), y = 0.5 + s * (6.0 * z[k] + e[k]), want, d;

        if (y > 700)
            continue; /* clamped at 709; never reached with these draws */
        want = y > 0 ? expm1(y) : 0;
        if (y > 0) {
            n_pos++;
            y_max = y > y_max ? y : y_max;
            d = ulps(r->draws[0][k], want);
            worst = d > worst ? d : worst;
        } else {
            assert_true(r->draws[0][k] == 0);
        }
    }
    print_message("expm1: %zu values over (0, %.1f], worst %.2f ulp\n", n_pos,
                  y_max, worst);
    assert_true(n_pos > n / 3 && y_max > 40);
    assert_true(worst <= 3); /* 2.5 at most: 2^n q + (2^n - 1), n = 1 */
    aipm_sim_result_free(r);
    free(s2);
    free(z);
    free(e);
}

/* Overrides: fixed values and efforts give constants, with no posterior
 * at all. */
static void test_overrides(void **state)
{
    aipm_sim_item items[2];
    double w[2] = {1, 0.5};
    aipm_sim_scenario sc[2] = {{w, NULL, 5, NULL}, {w, NULL, 3.5, NULL}};
    aipm_sim_problem pb = {.items = items,
                           .n_items = 2,
                           .effort_log_sd = 0.5,
                           .scenarios = sc,
                           .n_scenarios = 2};
    aipm_sim_result *r = NULL;
    size_t k;

    (void)state;
    memset(items, 0, sizeof(items));
    items[0].flags = AIPM_SIM_VALUE_FIXED | AIPM_SIM_EFFORT_FIXED;
    items[0].value = 7;
    items[0].effort = 3;
    items[0].stream = 1;
    items[1].flags = AIPM_SIM_VALUE_FIXED | AIPM_SIM_EFFORT_FIXED;
    items[1].value = 4;
    items[1].effort = 1;
    items[1].stream = 2;
    run_ok(&r, &pb, 1000, SEED, 2);
    for (k = 0; k < 1000; k++)
        assert_true(r->draws[0][k] == 9 && r->draws[1][k] == 9);
    assert_true(r->effort_mean[0] == 4 && r->p_over[0] == 0);
    assert_true(r->p_over[1] == 1 && r->shortfall_mean[1] == 0.5);
    aipm_sim_result_free(r);
}

/* Common random numbers. A = items 1 and 2, B = item 1: with common draws
 * A - B is item 2's value, whose variance the t predictive gives
 * (CRN_VAR2); drawn independently (B at another seed) the difference's
 * variance is Var(A) + Var(B). C = item 1 + shared input 0, D = item 1 +
 * shared input 1: C - D = the inputs' difference, variance sd0^2 + sd1^2
 * = 6.25, against 2 Var(item 1) + 6.25 independently. */
static void test_crn(void **state)
{
    aipm_sim_posterior po = post1();
    aipm_sim_item items[2] = {item1(1.5, 4, 7), item1(0.8, 3, 8)};
    aipm_sim_shared sh[2] = {{5, 2, 20}, {4, 1.5, 21}};
    double wa[2] = {1, 1}, wb[2] = {1, 0}, ca[2] = {1, 0}, cb[2] = {0, 1};
    aipm_sim_scenario sc[4] = {{wa, NULL, 0, NULL},
                               {wb, NULL, 0, NULL},
                               {wb, ca, 0, NULL},
                               {wb, cb, 0, NULL}};
    aipm_sim_problem pb = {.posterior = &po,
                           .items = items,
                           .n_items = 2,
                           .effort_log_sd = 0.5,
                           .shared = sh,
                           .n_shared = 2,
                           .scenarios = sc,
                           .n_scenarios = 4};
    aipm_sim_result *r = NULL, *other = NULL;
    double *d = malloc(N * sizeof(double));
    double var_crn, var_ind, var_a, var_b, var_cd, var_cd_ind;
    size_t k;

    (void)state;
    assert_non_null(d);
    run_ok(&r, &pb, N, SEED, 2);
    run_ok(&other, &pb, N, SEED + 1, 2);
    for (k = 0; k < N; k++)
        d[k] = r->draws[0][k] - r->draws[1][k];
    var_crn = sample_var(d, N);
    within(var_crn, CRN_VAR2, CRN_VAR2_SE, "Var(A - B), common draws");
    for (k = 0; k < N; k++)
        d[k] = r->draws[0][k] - other->draws[1][k];
    var_ind = sample_var(d, N);
    var_a = sample_var(r->draws[0], N);
    var_b = sample_var(r->draws[1], N);
    /* independent: no covariance left (2% allows the heavy tails' noise) */
    assert_true(fabs(var_ind - (var_a + var_b)) < 0.02 * (var_a + var_b));
    within(var_b, CRN_VAR1, 0.01 * CRN_VAR1 / 5, "Var(B)");
    print_message("Var(A - B): %.4f common, %.4f independent (%.1fx)\n",
                  var_crn, var_ind, var_ind / var_crn);
    assert_true(var_crn < 0.25 * var_ind);

    for (k = 0; k < N; k++)
        d[k] = r->draws[2][k] - r->draws[3][k];
    var_cd = sample_var(d, N);
    /* a normal's sample variance: se = var sqrt(2 / N) */
    within(var_cd, 6.25, 6.25 * sqrt(2.0 / N), "Var(C - D), common draws");
    for (k = 0; k < N; k++)
        d[k] = r->draws[2][k] - other->draws[3][k];
    var_cd_ind = sample_var(d, N);
    assert_true(fabs(var_cd_ind - (2 * CRN_VAR1 + 6.25)) <
                0.02 * (2 * CRN_VAR1 + 6.25));
    aipm_sim_result_free(r);
    aipm_sim_result_free(other);
    free(d);
}

/* A problem with everything in it: 9 items on p = 4 (two overridden),
 * 5 scenarios with fractional weights, 3 shared inputs, capacities. */
typedef struct big {
    aipm_sim_posterior po;
    aipm_sim_item items[9];
    aipm_sim_shared sh[3];
    double w[5][9], c[5][3];
    aipm_sim_scenario sc[5];
    aipm_sim_problem pb;
} big;

static void big_init(big *b)
{
    size_t i, j, s;

    memset(b, 0, sizeof(*b));
    b->po.p = 4;
    for (i = 0; i < 4; i++) {
        b->po.mn[i] = 0.5 - 0.2 * (double)i;
        for (j = 0; j <= i; j++)
            b->po.chol[i * 4 + j] = i == j ? 0.2 : 0.03 * (double)(i + j);
    }
    b->po.an = 15;
    b->po.bn = 4;
    b->po.stream = 4242;
    for (i = 0; i < 9; i++) {
        b->items[i].x[0] = 1;
        for (j = 1; j < 4; j++)
            b->items[i].x[j] = sin((double)(i * 4 + j));
        b->items[i].effort = 1 + (double)(i % 4);
        b->items[i].stream = 10 + (uint32_t)i;
    }
    b->items[2].flags = AIPM_SIM_VALUE_FIXED;
    b->items[2].value = 3;
    b->items[5].flags = AIPM_SIM_EFFORT_FIXED;
    for (j = 0; j < 3; j++) {
        b->sh[j].mean = (double)j;
        b->sh[j].sd = 1 + 0.5 * (double)j;
        b->sh[j].stream = 100 + (uint32_t)j;
    }
    for (s = 0; s < 5; s++) {
        for (i = 0; i < 9; i++)
            b->w[s][i] = (i + s) % 3 == 0 ? 0 : (i + s) % 3 == 1 ? 1 : 0.4;
        for (j = 0; j < 3; j++)
            b->c[s][j] = (s + j) % 2 ? 0.5 * (double)j : 0;
        b->sc[s].weight = b->w[s];
        b->sc[s].coef = b->c[s];
        b->sc[s].capacity = s == 3 ? 0 : 10 + (double)s;
    }
    b->pb.posterior = &b->po;
    b->pb.items = b->items;
    b->pb.n_items = 9;
    b->pb.effort_log_sd = 0.5;
    b->pb.shared = b->sh;
    b->pb.n_shared = 3;
    b->pb.scenarios = b->sc;
    b->pb.n_scenarios = 5;
}

static void same_result(const aipm_sim_result *a, const aipm_sim_result *b,
                        int summaries)
{
    size_t m = a->n_scenarios, s;

    assert_int_equal(m, b->n_scenarios);
    for (s = 0; s < m; s++)
        assert_memory_equal(a->draws[s], b->draws[s],
                            a->n_draws * sizeof(double));
    assert_memory_equal(a->effort_mean, b->effort_mean, m * sizeof(double));
    assert_memory_equal(a->p_over, b->p_over, m * sizeof(double));
    assert_memory_equal(a->shortfall_mean, b->shortfall_mean,
                        m * sizeof(double));
    if (!summaries)
        return;
    assert_memory_equal(a->summary, b->summary, m * sizeof(*a->summary));
    assert_memory_equal(a->p_loss, b->p_loss, m * sizeof(double));
    assert_memory_equal(a->beats, b->beats, m * m * sizeof(double));
}

/* 1, 2 and 3 threads give the same bits, draws and summaries, over a
 * draw count that is not a whole number of blocks. */
static void test_threads_identical(void **state)
{
    big b;
    aipm_sim_result *r1 = NULL, *r2 = NULL, *r3 = NULL;
    size_t n = 100003, s, a;

    (void)state;
    big_init(&b);
    run_ok(&r1, &b.pb, n, SEED, 1);
    run_ok(&r2, &b.pb, n, SEED, 2);
    run_ok(&r3, &b.pb, n, SEED, 3);
    summarize_ok(r1, 0, 1);
    summarize_ok(r2, 0, 2);
    summarize_ok(r3, 0, 3);
    same_result(r1, r2, 1);
    same_result(r1, r3, 1);
    /* the summaries are those of the parts they are made of */
    for (s = 0; s < 5; s++) {
        aipm_sim_summary one;
        double loss;

        assert_int_equal(aipm_sim_summarize(&one, r1->draws[s], n, 0.05, NULL),
                         0);
        assert_memory_equal(&one, &r1->summary[s], sizeof(one));
        assert_int_equal(
            aipm_sim_prob_loss(&loss, r1->draws[s], r1->draws[0], n, NULL), 0);
        assert_true(loss == r1->p_loss[s]);
    }
    {
        double beats[25];

        assert_int_equal(aipm_sim_prob_beats(beats,
                                             (const double *const *)r1->draws,
                                             5, n, NULL),
                         0);
        for (a = 0; a < 25; a++)
            assert_true(beats[a] == r1->beats[a]);
    }
    /* another seed, other draws */
    aipm_sim_result_free(r3);
    run_ok(&r3, &b.pb, n, SEED + 1, 2);
    assert_true(memcmp(r1->draws[0], r3->draws[0], n * sizeof(double)) != 0);
    aipm_sim_result_free(r1);
    aipm_sim_result_free(r2);
    aipm_sim_result_free(r3);
}

/* Scenario {A, B} = scenario {A} + scenario {B}, draw by draw and exactly
 * (whole and fractional weights: each scenario adds its items' w value to
 * 0 in item order). Adding a scenario, or an item no scenario builds,
 * changes no other draw: every number has its own place. */
static void test_additive(void **state)
{
    big b, b2;
    aipm_sim_result *r = NULL, *r2 = NULL;
    size_t n = 20000, k, s;

    (void)state;
    big_init(&b);
    for (s = 0; s < 5; s++)
        b.c[s][0] = b.c[s][1] = b.c[s][2] = 0;
    memset(b.w, 0, sizeof(b.w));
    b.w[0][0] = b.w[0][4] = 1; /* A + B */
    b.w[1][0] = 1;             /* A */
    b.w[2][4] = 1;             /* B */
    b.w[3][0] = 0.3;           /* 0.3 A + 0.7 B */
    b.w[3][4] = 0.7;
    b.w[4][0] = 0.3; /* 0.3 A */
    run_ok(&r, &b.pb, n, SEED, 2);
    for (k = 0; k < n; k++) {
        assert_true(r->draws[0][k] == r->draws[1][k] + r->draws[2][k]);
        assert_true(r->draws[3][k] == r->draws[4][k] + 0.7 * r->draws[2][k]);
    }
    /* B alone again, with the other scenarios gone: the same draws */
    b2 = b;
    b2.pb.posterior = &b2.po;
    b2.pb.items = b2.items;
    b2.pb.shared = b2.sh;
    b2.pb.scenarios = b2.sc + 2;
    b2.sc[2].weight = b2.w[2];
    b2.sc[2].coef = b2.c[2];
    b2.pb.n_scenarios = 1;
    run_ok(&r2, &b2.pb, n, SEED, 1);
    assert_memory_equal(r2->draws[0], r->draws[2], n * sizeof(double));
    aipm_sim_result_free(r);
    aipm_sim_result_free(r2);
}

static void expect_invalid(const aipm_sim_problem *pb, size_t n,
                           const char *what)
{
    aipm_sim_result *r = (aipm_sim_result *)1;
    aipm_error err = {0};
    int rc = aipm_sim_run(&r, pb, n, SEED, 1, &err);

    if (rc != AIPM_EINVALID)
        fail_msg("%s: got %d, want AIPM_EINVALID", what, rc);
    assert_null(r);
    assert_true(err.msg[0] != 0);
}

/* Two items on one stream draw the same noise: an item's variant under
 * an effort assumption has the value draws of the item itself, so a
 * scenario building the one and a scenario building the other differ by
 * nothing, draw by draw. */
static void test_items_share_stream(void **state)
{
    big b;
    aipm_sim_result *r = NULL;
    size_t k;

    (void)state;
    big_init(&b);
    memcpy(b.items[1].x, b.items[0].x, sizeof(b.items[0].x));
    b.items[1].stream = b.items[0].stream;
    b.items[1].flags = AIPM_SIM_EFFORT_FIXED;
    b.items[1].effort = 7;
    memset(b.w, 0, sizeof(b.w));
    memset(b.c, 0, sizeof(b.c));
    b.w[0][0] = 1;
    b.w[1][1] = 1;
    run_ok(&r, &b.pb, 5000, SEED, 1);
    for (k = 0; k < 5000; k++)
        if (r->draws[0][k] != r->draws[1][k])
            fail_msg("draw %zu: %.17g and %.17g", k, r->draws[0][k],
                     r->draws[1][k]);
    assert_true(r->draws[0][0] > 0 || r->draws[0][1] > 0);
    /* the fixed effort is 7 in every draw; the item's own varies */
    assert_true(fabs(r->effort_mean[1] - 7) < 1e-12);
    assert_true(fabs(r->effort_mean[0] - 7) > 1e-6);
    aipm_sim_result_free(r);
    /* built but live after the horizon (weight 0): no value, the effort
     * still counts */
    {
        unsigned char built[9] = {0, 1};

        b.w[1][1] = 0;
        b.sc[1].built = built;
        run_ok(&r, &b.pb, 5000, SEED, 1);
        for (k = 0; k < 5000; k++)
            assert_true(r->draws[1][k] == 0);
        assert_true(fabs(r->effort_mean[1] - 7) < 1e-12);
        aipm_sim_result_free(r);
    }
}

static void test_bad_input(void **state)
{
    big b;
    aipm_sim_result *r = NULL;
    aipm_error err = {0};

    (void)state;
    big_init(&b);
    expect_invalid(&b.pb, 0, "no draws");
    b.items[4].stream = b.sh[1].stream;
    expect_invalid(&b.pb, 10, "an item on a shared input's stream");
    b.items[4].stream = b.po.stream;
    expect_invalid(&b.pb, 10, "an item on the posterior's stream");
    big_init(&b);
    b.w[2][3] = 1.5;
    expect_invalid(&b.pb, 10, "weight above 1");
    big_init(&b);
    b.sc[1].capacity = NAN;
    expect_invalid(&b.pb, 10, "NaN capacity");
    big_init(&b);
    b.po.p = 13;
    expect_invalid(&b.pb, 10, "p 13");
    big_init(&b);
    b.po.an = 0;
    expect_invalid(&b.pb, 10, "an 0");
    big_init(&b);
    b.pb.posterior = NULL;
    expect_invalid(&b.pb, 10, "no posterior");
    big_init(&b);
    b.items[0].effort = 0;
    expect_invalid(&b.pb, 10, "effort 0");
    big_init(&b);
    b.sh[1].sd = -1;
    expect_invalid(&b.pb, 10, "negative sd");
    big_init(&b);
    b.pb.n_scenarios = 0;
    expect_invalid(&b.pb, 10, "no scenarios");
    big_init(&b);
    assert_int_equal(aipm_sim_run(&r, &b.pb, 10, SEED, 0, &err), AIPM_EINVALID);
    run_ok(&r, &b.pb, 10, SEED, 1);
    aipm_error_clear(&err);
    assert_int_equal(aipm_sim_result_summarize(r, 5, 0.05, 1, &err),
                     AIPM_EINVALID);
    aipm_error_clear(&err);
    assert_int_equal(aipm_sim_result_summarize(r, 0, 0, 1, &err),
                     AIPM_EINVALID);
    aipm_sim_result_free(r);
    aipm_sim_result_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_item),
        cmocka_unit_test(test_draw_by_draw),
        cmocka_unit_test(test_expm1_accuracy),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_crn),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_additive),
        cmocka_unit_test(test_items_share_stream),
        cmocka_unit_test(test_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
