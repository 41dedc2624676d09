/* test_forecast.c - the Bass fit and the series parser.
 *
 * References: the US home VCR sales series 1980-1989 (thousand units) and
 * its density-form fit m = 6.798e4, p = 6.594e-3, q = 0.6381 (Cowpertwait
 * and Metcalfe, Introductory Time Series with R, 2009, section 3.3.4);
 * more digits and the standard errors from scipy.optimize.curve_fit on the
 * same model (python3 lines next to the constants); simulated series for
 * recovery; the forecast's bounds and the Bass fit's plausibility
 * check on hand-computed cases.
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

#include "aipm/forecast.h"
#include "forecast/forecast_int.h"

#define REL(a, b, tol) assert_true(fabs((a) - (b)) <= (tol)*fabs(b))

static const double vcr[] = {840,   1470,  2110, 4000, 7590,
                             10950, 10530, 9470, 7790, 5890};

/* curve_fit(dens, t, y, p0=[60630, 0.03, 0.38]):
 *   M 67980.91791380472, P 0.006593965708902803, Q 0.6380910774850753,
 *   sqrt(diag(pcov)) 3127.51925154311, 0.0014302603003043413,
 *   0.04139597117690325; RSS 3701668.589100081. */
static void test_vcr_density(void **state)
{
    aipm_bass b;
    aipm_error err = {0};

    (void)state;
    assert_int_equal(aipm_bass_fit(&b, vcr, 10, AIPM_BASS_DENSITY, &err),
                     AIPM_OK);
    /* The book's rounded figures. */
    REL(b.m, 6.798e4, 1e-3);
    REL(b.p, 6.594e-3, 1e-3);
    REL(b.q, 0.6381, 1e-3);
    /* scipy's, to more digits. */
    REL(b.m, 67980.91791380472, 1e-5);
    REL(b.p, 0.006593965708902803, 1e-4);
    REL(b.q, 0.6380910774850753, 1e-5);
    REL(b.se_m, 3127.51925154311, 1e-3);
    REL(b.se_p, 0.0014302603003043413, 1e-3);
    REL(b.se_q, 0.04139597117690325, 1e-3);
    REL(b.rss, 3701668.589100081, 1e-6);
}

/* The per-period form, m (F(t) - F(t - 1)), curve_fit: M
 * 67660.03423160732, P 0.008788969888433692, Q 0.6421587158295623. */
static void test_vcr_per_period(void **state)
{
    aipm_bass b;
    aipm_error err = {0};

    (void)state;
    assert_int_equal(aipm_bass_fit(&b, vcr, 10, AIPM_BASS_PER_PERIOD, &err),
                     AIPM_OK);
    REL(b.m, 67660.03423160732, 1e-5);
    REL(b.p, 0.008788969888433692, 1e-4);
    REL(b.q, 0.6421587158295623, 1e-5);
    REL(b.se_m, 3070.9073195190444, 1e-3);
}

/* Noise-free series from known p, q, m are recovered exactly; with 5%
 * multiplicative noise (a fixed pseudo-random sequence), closely. */
static void test_recovery(void **state)
{
    static const double truth[][3] = {
        {0.01, 0.4, 10000}, {0.003, 0.8, 500000}, {0.03, 0.2, 2000}};
    uint64_t x = 42;
    int c, t;

    (void)state;
    for (c = 0; c < 3; c++) {
        aipm_bass truth_b = {
            .p = truth[c][0], .q = truth[c][1], .m = truth[c][2]};
        double y[30], noisy[30];
        aipm_bass b;
        aipm_error err = {0};

        for (t = 0; t < 30; t++) {
            double u;

            y[t] = aipm_bass_period(AIPM_BASS_PER_PERIOD, &truth_b, t + 1);
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            u = (double)(x >> 11) / 9007199254740992.0;
            noisy[t] = y[t] * (1 + 0.05 * (2 * u - 1) * sqrt(3.0));
        }
        assert_int_equal(aipm_bass_fit(&b, y, 30, AIPM_BASS_PER_PERIOD, &err),
                         AIPM_OK);
        REL(b.p, truth[c][0], 1e-4);
        REL(b.q, truth[c][1], 1e-4);
        REL(b.m, truth[c][2], 1e-4);
        assert_int_equal(
            aipm_bass_fit(&b, noisy, 30, AIPM_BASS_PER_PERIOD, &err), AIPM_OK);
        REL(b.p, truth[c][0], 0.25);
        REL(b.q, truth[c][1], 0.10);
        REL(b.m, truth[c][2], 0.05);
        assert_true(b.se_p > 0 && b.se_q > 0 && b.se_m > 0);
    }
}

static void test_bad_series(void **state)
{
    static const double neg[] = {1, 2, -3, 4, 5};
    static const double zero[] = {0, 0, 0, 0, 0};
    aipm_bass b;
    aipm_error err = {0};

    (void)state;
    assert_int_equal(aipm_bass_fit(&b, vcr, 3, AIPM_BASS_DENSITY, &err),
                     AIPM_EINVALID);
    aipm_error_clear(&err);
    assert_int_equal(aipm_bass_fit(&b, neg, 5, AIPM_BASS_DENSITY, &err),
                     AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "period 3"));
    assert_int_equal(aipm_bass_fit(&b, zero, 5, AIPM_BASS_DENSITY, &err),
                     AIPM_EINVALID);
}

static void test_parse(void **state)
{
    static const char ok[] = "period,adopters\r\n1980, 840\n\n1981,1470.5\n"
                             " 1982 ,2110\n";
    aipm_series s;
    aipm_error err = {0};

    (void)state;
    assert_int_equal(aipm_series_parse(&s, ok, sizeof(ok) - 1, &err), AIPM_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.labels[0], "1980");
    assert_string_equal(s.labels[2], "1982");
    assert_true(s.values[1] == 1470.5);
    aipm_series_free(&s);
}

static void expect_bad(const char *text, const char *want)
{
    aipm_series s;
    aipm_error err = {0};

    assert_int_equal(aipm_series_parse(&s, text, strlen(text), &err),
                     AIPM_EINVALID);
    if (strstr(err.msg, want) == NULL)
        print_error("got '%s', want '%s'\n", err.msg, want);
    assert_non_null(strstr(err.msg, want));
    assert_null(s.labels);
}

static void test_parse_bad(void **state)
{
    (void)state;
    expect_bad("", "empty series");
    expect_bad("t,n\n1,2\n", "line 1: the header");
    expect_bad("period,adopters\n1,2,3\n", "line 2: expected two fields");
    expect_bad("period,adopters\n1,x\n", "line 2: adopters must be");
    expect_bad("period,adopters\n1,5\n2,-1\n", "line 3: adopters must be");
    expect_bad("period,adopters\n1,nan\n", "line 2");
    expect_bad("period,adopters\n,5\n", "line 2: the period label");
    expect_bad("period,adopters\n\"a\",5\n", "line 2");
    expect_bad("period,adopters\n\xff,5\n", "line 2: not UTF-8");
}

/* ---- the hazard model ----
 *
 * 60 users' runs drawn by numpy (default_rng(7); alpha -2, beta 3, pi
 * 0.6, 1 + Poisson(6) active days, the signal stepping up by 0.25 or 0.5
 * with probability 0.3 a day). The references maximise the same
 * penalised marginal log-likelihood (normal prior sd 20 on alpha and
 * beta) with scipy.optimize.minimize(method='BFGS', gtol 1e-10), the
 * standard errors from the inverse of its numerical Hessian:
 *   cure:    alpha -1.8011118288, beta 2.2300256442, pi 0.7035964002,
 *            loglik -98.7508387220, se 0.377111 0.862923
 *   no cure: alpha -2.0608223366, beta 0.5896685976,
 *            loglik -101.7577733508 */
static const int64_t hz_start[] = {
    0,  2,  4,  5,  5,  6,  7,  8,  8,  10, 13, 15, 17, 20, 21, 23,
    24, 26, 28, 28, 29, 31, 33, 34, 34, 36, 37, 38, 40, 42, 45, 47,
    48, 50, 52, 54, 56, 56, 59, 60, 62, 64, 64, 66, 69, 71, 72, 74,
    75, 78, 78, 81, 82, 83, 85, 87, 88, 89, 93, 94, 94};
static const double hz_s[] = {
    0.0,  0.5,  0.25, 0.5,  0.0,  0.25, 0.5,  0.5,  0.0, 0.25, 0.0,  0.25,
    0.75, 0.5,  1.0,  0.0,  0.5,  0.25, 0.5,  1.0,  0.0, 0.0,  0.25, 0.0,
    0.0,  0.5,  0.25, 0.5,  0.0,  0.5,  1.0,  0.0,  0.5, 0.0,  0.5,  1.0,
    0.25, 0.25, 0.25, 0.75, 0.5,  1.0,  0.0,  0.5,  1.0, 0.0,  0.25, 0.25,
    0.0,  0.25, 0.0,  0.25, 0.0,  0.25, 0.0,  0.25, 0.0, 0.25, 0.5,  0.0,
    0.0,  0.5,  0.25, 0.75, 0.0,  0.5,  0.0,  0.5,  1.0, 0.0,  0.5,  0.0,
    0.0,  0.5,  0.0,  0.0,  0.25, 0.5,  0.25, 0.75, 1.0, 0.0,  0.0,  0.0,
    0.5,  0.0,  0.5,  0.0,  0.5,  0.0,  0.25, 0.75, 1.0, 0.25};
static const int32_t hz_days[] = {
    4, 2, 4, 1, 2, 2, 1, 3, 4, 1, 5, 2, 1, 3, 3, 4, 3, 1, 1, 2, 3, 1, 2, 7,
    1, 1, 1, 1, 2, 5, 1, 4, 2, 3, 1, 5, 2, 5, 3, 4, 1, 8, 1, 1, 1, 9, 2, 8,
    5, 2, 1, 1, 3, 1, 1, 1, 1, 2, 1, 4, 6, 1, 1, 1, 1, 3, 1, 1, 6, 1, 1, 1,
    4, 1, 1, 1, 1, 3, 1, 1, 4, 4, 1, 3, 3, 1, 2, 1, 1, 3, 1, 1, 2, 2};
static const double hz_event[] = {
    NAN, 0.75, 0.0,  0.5, 0.25, 0.5, NAN, 0.0,  NAN, NAN,  NAN,  NAN,
    NAN, NAN,  0.25, NAN, 0.5,  0.5, 0.5, 0.0,  1.0, NAN,  0.0,  0.0,
    NAN, 0.25, 0.25, NAN, NAN,  1.0, NAN, NAN,  NAN, 0.25, NAN,  0.5,
    0.5, 0.5,  NAN,  NAN, 0.75, 0.0, 0.5, NAN,  0.5, 0.0,  0.5,  0.25,
    NAN, 0.0,  NAN,  NAN, 0.25, NAN, 1.0, 0.25, 1.0, NAN,  0.25, 0.5};

static void test_hazard_reference(void **state)
{
    aipm_hazard_data d = {60, hz_start, hz_s, hz_days, hz_event};
    aipm_hazard h;
    aipm_error err = {0};
    double w[60];
    int i;

    (void)state;
    assert_int_equal(aipm_hazard_fit(&h, &d, 0, w, &err), AIPM_OK);
    assert_int_equal(h.n_events, 35);
    assert_true(fabs(h.alpha - -1.8011118288) < 2e-4);
    assert_true(fabs(h.beta - 2.2300256442) < 5e-4);
    assert_true(fabs(h.pi - 0.7035964002) < 1e-4);
    assert_true(fabs(h.loglik - -98.7508387220) < 1e-6);
    REL(h.se_alpha, 0.377111, 0.02);
    REL(h.se_beta, 0.862923, 0.02);
    for (i = 0; i < 60; i++) /* adopters are eligible; the rest less so */
        assert_true(isnan(hz_event[i]) ? w[i] < h.pi + 1e-9 : w[i] == 1);
    assert_true(h.ame > 0);
    assert_int_equal(aipm_hazard_fit(&h, &d, 1, NULL, &err), AIPM_OK);
    assert_true(fabs(h.alpha - -2.0608223366) < 1e-5);
    assert_true(fabs(h.beta - 0.5896685976) < 1e-5);
    assert_true(fabs(h.loglik - -101.7577733508) < 1e-6);
    assert_true(h.pi == 1 && h.se_pi == 0);
}

/* Recovery on simulated user-days: 40000 users, pi 0.5, alpha -4.5,
 * beta 2.5 (h from 1.1% at s = 0 to 11.9% at s = 1), 1 + Poisson(20)
 * active days each, the signal a random walk up by 0.1 with probability
 * 0.15 a day. Each estimate within 4 standard errors of the truth, and
 * the standard errors small enough for that to mean something. */
static void test_hazard_recovery(void **state)
{
    enum { N = 40000 };
    const double a0 = -4.5, b0 = 2.5, pi0 = 0.5;
    int64_t *start = malloc((N + 1) * sizeof(int64_t)), n_runs = 0, cap = 0;
    double *rs = NULL, *ev = malloc(N * sizeof(double));
    int32_t *rd = NULL;
    uint64_t x = 2024;
    aipm_hazard h;
    aipm_error err = {0};
    int i, t;

#define UNIF()                                                                 \
    (x = x * 6364136223846793005ULL + 1442695040888963407ULL,                  \
     (double)(x >> 11) / 9007199254740992.0)
    (void)state;
    assert_non_null(start);
    assert_non_null(ev);
    start[0] = 0;
    for (i = 0; i < N; i++) {
        int eligible = UNIF() < pi0, days = 1;
        double s = 0, l = exp(-20), p = 1;

        while ((p *= UNIF()) > l) /* Knuth's Poisson(20) */
            days++;
        ev[i] = NAN;
        for (t = 0; t < days; t++) {
            if (UNIF() < 0.15 && s < 0.95)
                s += 0.1;
            if (eligible && UNIF() < aipm_hazard_prob(a0, b0, s)) {
                ev[i] = s;
                break;
            }
            if (n_runs > start[i] && rs[n_runs - 1] == s) {
                rd[n_runs - 1]++;
                continue;
            }
            if (n_runs == cap) {
                cap = cap ? 2 * cap : 4096;
                rs = realloc(rs, (size_t)cap * sizeof(double));
                rd = realloc(rd, (size_t)cap * sizeof(int32_t));
                assert_true(rs && rd);
            }
            rs[n_runs] = s;
            rd[n_runs++] = 1;
        }
        start[i + 1] = n_runs;
    }
#undef UNIF
    {
        aipm_hazard_data d = {N, start, rs, rd, ev};

        assert_int_equal(aipm_hazard_fit(&h, &d, 0, NULL, &err), AIPM_OK);
    }
    assert_true(h.se_alpha < 0.15 && h.se_beta < 0.2 && h.se_pi < 0.08);
    assert_true(fabs(h.alpha - a0) < 4 * h.se_alpha);
    assert_true(fabs(h.beta - b0) < 4 * h.se_beta);
    assert_true(fabs(h.pi - pi0) < 4 * h.se_pi);
    free(start);
    free(rs);
    free(rd);
    free(ev);
}

/* The point forecast inside its own intervals. 50 draws with no count
 * noise, the estimate (draw 0) at 100 and the 49 others at 200: the
 * mixture puts 1/50 = 2% of its mass at 100, less than the 2.5% below the
 * 95% interval, so every quantile is 200 (by hand) and the estimate lay
 * outside both intervals before they were widened to include it. */
static void test_bounds_hold_the_point(void **state)
{
    double mu[50], var[50], b[5];
    int d;

    (void)state;
    for (d = 0; d < 50; d++) {
        mu[d] = d == 0 ? 100 : 200;
        var[d] = 0;
    }
    aipm_forecast__bounds(mu, var, 50, 0, b);
    assert_true(fabs(b[0] - 100) < 1e-6); /* point */
    assert_true(fabs(b[1] - 100) < 1e-6); /* lo80 */
    assert_true(fabs(b[2] - 200) < 1e-6); /* hi80 */
    assert_true(fabs(b[3] - 100) < 1e-6); /* lo95 */
    assert_true(fabs(b[4] - 200) < 1e-6); /* hi95 */
    assert_true(b[3] <= b[1] && b[1] <= b[0] && b[0] <= b[2] && b[2] <= b[4]);
}

/* One draw N(100, 10^2): the normal quantiles, from python3
 * statistics.NormalDist(100, 10).inv_cdf(p) for p = 0.1, 0.9, 0.025,
 * 0.975: 87.184484344554, 112.815515655446, 80.40036015459947,
 * 119.59963984540053. With 12 adopters counted and a draw at 10, every
 * figure is 12 (never below the counted). */
static void test_bounds_normal_and_base(void **state)
{
    double mu = 100, var = 100, b[5];

    (void)state;
    aipm_forecast__bounds(&mu, &var, 1, 0, b);
    assert_true(fabs(b[0] - 100) < 1e-9);
    assert_true(fabs(b[1] - 87.184484344554) < 1e-6);
    assert_true(fabs(b[2] - 112.815515655446) < 1e-6);
    assert_true(fabs(b[3] - 80.40036015459947) < 1e-6);
    assert_true(fabs(b[4] - 119.59963984540053) < 1e-6);
    mu = 10;
    var = 0;
    aipm_forecast__bounds(&mu, &var, 1, 12, b);
    for (int i = 0; i < 5; i++)
        assert_true(fabs(b[i] - 12) < 1e-6);
}

/* An implausible Bass m is rejected with a reason: below the adopters
 * counted (m 50 < 60), more than BASS_MAX_M_PER_USER (10) times the
 * users (3e11 > 10 x 1000, the backtest's case; 10001 > 10000), or not
 * finite; 9999 of 1000 users with 10 counted is kept. */
static void test_bass_reject(void **state)
{
    aipm_bass b;
    char why[160];

    (void)state;
    memset(&b, 0, sizeof(b));
    b.m = 50;
    assert_int_equal(aipm_forecast__bass_reject(&b, 60, 1000, why, sizeof(why)),
                     1);
    assert_non_null(strstr(why, "below the 60 adopters already counted"));
    b.m = 3e11;
    assert_int_equal(aipm_forecast__bass_reject(&b, 60, 1000, why, sizeof(why)),
                     1);
    assert_non_null(strstr(why, "more than 10 times the segment's 1000"));
    b.m = 10001;
    assert_int_equal(aipm_forecast__bass_reject(&b, 10, 1000, why, sizeof(why)),
                     1);
    b.m = NAN;
    assert_int_equal(aipm_forecast__bass_reject(&b, 10, 1000, why, sizeof(why)),
                     1);
    b.m = 9999;
    assert_int_equal(aipm_forecast__bass_reject(&b, 10, 1000, why, sizeof(why)),
                     0);
    assert_string_equal(why, "");
    b.m = 60; /* exactly the counted: the series saturated, kept */
    assert_int_equal(aipm_forecast__bass_reject(&b, 60, 1000, why, sizeof(why)),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vcr_density),
        cmocka_unit_test(test_vcr_per_period),
        cmocka_unit_test(test_recovery),
        cmocka_unit_test(test_bad_series),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_hazard_reference),
        cmocka_unit_test(test_hazard_recovery),
        cmocka_unit_test(test_bounds_hold_the_point),
        cmocka_unit_test(test_bounds_normal_and_base),
        cmocka_unit_test(test_bass_reject),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
