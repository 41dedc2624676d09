/* test_forecast.c - the Bass fit, the series parser, the hazard model and
 * the registry's adoption model.
 *
 * References: the US home VCR sales series 1980-1989 (thousand units) and
 * its density-form fit m = 6.798e4, p = 6.594e-3, q = 0.6381 (Cowpertwait
 * and Metcalfe, Introductory Time Series with R, 2009, section 3.3.4);
 * more digits and the standard errors from scipy.optimize.curve_fit on the
 * same model (python3 lines next to the constants); simulated series for
 * recovery; the forecast's bounds and the Bass fit's plausibility
 * check on hand-computed cases. The adoption model: a hand-made store
 * whose hazard data and predictions are worked out by hand below, and
 * the demo product (aipm_demo_generate), whose adoption has a planted
 * graph effect. A forecast by a registered version: against the
 * version's artifact and a forecast fitted in the run.
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

#include "aipm/decision.h"
#include "aipm/demo.h"
#include "aipm/forecast.h"
#include "aipm/ingest.h"
#include "forecast/forecast_int.h"
#include "testutil.h"

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

/* ---- the adoption model of the registry ---- */

static double jnum(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_number(v))
        fail_msg("%s is not a number", key);
    return json_number_value(v);
}

typedef struct evbuf {
    char *s;
    size_t n, cap;
    int id;
} evbuf;

/* An event of user on day (days from 2026-03-01) at hour: a track event,
 * or with event NULL a group call into account X. */
static void ev_add(evbuf *b, const char *user, const char *event, int day,
                   int hour)
{
    char ts[32], line[300];
    int64_t ms;
    int len;

    assert_int_equal(aipm_time_parse(&ms, "2026-03-01", 10, 1), AIPM_OK);
    aipm_time_format(ts, ms + day * 86400000LL + hour * 3600000LL);
    if (event)
        len = snprintf(line, sizeof(line),
                       "{\"type\":\"track\",\"messageId\":\"m%d\",\"userId\":"
                       "\"%s\",\"event\":\"%s\",\"timestamp\":\"%s\","
                       "\"properties\":{}}\n",
                       ++b->id, user, event, ts);
    else
        len = snprintf(line, sizeof(line),
                       "{\"type\":\"group\",\"messageId\":\"m%d\",\"userId\":"
                       "\"%s\",\"groupId\":\"X\",\"timestamp\":\"%s\","
                       "\"traits\":{}}\n",
                       ++b->id, user, ts);
    assert_true(len > 0 && (size_t)len < sizeof(line));
    assert_int_equal(aipm_grow(&b->s, &b->cap, b->n + (size_t)len + 1, 1),
                     AIPM_OK);
    memcpy(b->s + b->n, line, (size_t)len + 1);
    b->n += (size_t)len;
}

/* An identify call of user on day at hour 8 with the trait plan. */
static void plan_add(evbuf *b, const char *user, const char *plan, int day)
{
    char ts[32], line[300];
    int64_t ms;
    int len;

    assert_int_equal(aipm_time_parse(&ms, "2026-03-01", 10, 1), AIPM_OK);
    aipm_time_format(ts, ms + day * 86400000LL + 8 * 3600000LL);
    len = snprintf(line, sizeof(line),
                   "{\"type\":\"identify\",\"messageId\":\"m%d\","
                   "\"userId\":\"%s\",\"timestamp\":\"%s\",\"traits\":"
                   "{\"plan\":\"%s\"}}\n",
                   ++b->id, user, ts, plan);
    assert_true(len > 0 && (size_t)len < sizeof(line));
    assert_int_equal(aipm_grow(&b->s, &b->cap, b->n + (size_t)len + 1, 1),
                     AIPM_OK);
    memcpy(b->s + b->n, line, (size_t)len + 1);
    b->n += (size_t)len;
}

/* Ingest b's events into w as the batch name, then free b's text. */
static void ingest_buf(tu_ws *w, evbuf *b, const char *name)
{
    aipm_ingest_result res;
    aipm_error err = {0};

    if (tu_ws_ingest(w, "events", name, b->s, b->n, NULL, &res, &err) !=
        AIPM_OK)
        fail_msg("ingest: %s", err.msg);
    aipm_ingest_result_clear(&res);
    free(b->s);
    b->s = NULL;
}
/* The hand-made product: 50 days from 2026-03-01 (days 0..49), cutoff
 * day 40 (2026-04-10), so the holdout and the window are days 40..49.
 * Users a, b, c, d joined account X on day 0 (each the others'
 * neighbours from day 0) and are active every day; e, f, g, h have no
 * account and are active on even days. Export adoptions: a day 3, e day
 * 6, d day 9 (before the cutoff), b day 44, f day 46 (in the window); c,
 * g, h never. */
static void hand_store(tu_ws *w)
{
    static const char *const users[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    static const struct {
        const char *user;
        int day;
    } adopt[] = {{"a", 3}, {"e", 6}, {"d", 9}, {"b", 44}, {"f", 46}};
    evbuf b = {NULL, 0, 0, 0};
    aipm_ingest_result res;
    aipm_error err = {0};
    int u, d, i;

    assert_int_equal(tu_ws_open(w), 0);
    for (u = 0; u < 8; u++) {
        if (u < 4)
            ev_add(&b, users[u], NULL, 0, 9);
        for (d = 0; d < 50; d++)
            if (u < 4 || d % 2 == 0)
                ev_add(&b, users[u], "Login", d, 12);
    }
    for (i = 0; i < 5; i++)
        ev_add(&b, adopt[i].user, "Export", adopt[i].day, 15);
    if (tu_ws_ingest(w, "events", "ev.ndjson", b.s, b.n, NULL, &res, &err) !=
        AIPM_OK)
        fail_msg("ingest: %s", err.msg);
    aipm_ingest_result_clear(&res);
    free(b.s);
    assert_int_equal(
        tu_ws_config(w, "catalog:\n  - {key: export, area: reporting, "
                        "events: [Export], launched_at: 2026-03-01}\n"),
        0);
}

/* The hazard data of the hand-made store at the cutoff, by hand (users in
 * id order; a run is days at one signal, the signal on day t being the
 * share of the user's neighbours adopted before t):
 *   a: days 0-2 at 0, adopts on day 3 at 0;
 *   b, c: days 0-3 at 0, 4-9 at 1/3 (a adopted on day 3), 10-39 at 2/3
 *         (d on day 9), not adopted by the cutoff;
 *   d: days 0-3 at 0, 4-8 at 1/3, adopts on day 9 at 1/3;
 *   e: days 0, 2, 4 at 0 (no neighbours), adopts on day 6 at 0;
 *   f, g, h: the 20 even days 0-38 at 0, not adopted by the cutoff. */
#define T1 (1.0 / 3.0)
#define T2 (2.0 / 3.0)
static const int64_t hand_start[] = {0, 1, 4, 7, 9, 10, 11, 12, 13};
static const double hand_s[] = {0, 0, T1, T2, 0, T1, T2, 0, T1, 0, 0, 0, 0};
static const int32_t hand_days[] = {3, 4, 6, 30, 4, 6, 30, 4, 5, 3, 20, 20, 20};
static const double hand_event[] = {0, NAN, NAN, T1, 0, NAN, NAN, NAN};

/* The forecast's rule: pi fitted, refitted at 1 above PI_BOUND. */
static void fit_like_forecast(aipm_hazard *h, const aipm_hazard_data *d)
{
    aipm_error err = {0};

    assert_int_equal(aipm_hazard_fit(h, d, 0, NULL, &err), AIPM_OK);
    if (h->pi > PI_BOUND)
        assert_int_equal(aipm_hazard_fit(h, d, 1, NULL, &err), AIPM_OK);
}

/* The model on the hand-made store, against the fit of the hand-built
 * data and the predictions worked out from it. At risk at the cutoff: b,
 * c (signal 2/3: a and d of their three neighbours adopted), f, g, h
 * (signal 0). Every user's first day is day 0, so the segment's activity
 * curve is its pooled rate (fewer than 30 users at every age): over the
 * ages 28-39 seen before the cutoff, (4 x 12 + 4 x 6) / (8 x 12) = 0.75,
 * so each expects k = 10 x 0.75 = 7.5 active days in the window. With S_b
 * = (1 - h(0))^4 (1 - h(1/3))^6 (1 - h(2/3))^30 and S_f = (1 - h(0))^20,
 * w = pi S / (1 - pi + pi S) and P = w (1 - (1 - h(s))^7.5); outcomes b
 * 1, c 0, f 1, g 0, h 0. */
static void test_model_by_hand(void **state)
{
    aipm_hazard_data d = {8, hand_start, hand_s, hand_days, hand_event};
    aipm_hazard h;
    aipm_model_fit fit;
    aipm_error err = {0};
    tu_ws w;
    json_t *seg, *act;
    double hz[3], S[2], p[5], brier = 0, ll = 0, wins = 0;
    static const int y[5] = {1, 0, 1, 0, 0}; /* b, c, f, g, h */
    int64_t cut;
    int i, j;

    (void)state;
    hand_store(&w);
    fit_like_forecast(&h, &d);
    assert_int_equal(aipm_time_parse(&cut, "2026-04-10", 10, 1), AIPM_OK);
    if (aipm_adoption_model_train(&fit, w.st, w.cfg, NULL, cut, 10, NULL,
                                  &err) != AIPM_OK)
        fail_msg("train: %s", err.msg);
    /* the artifact holds the fit of the hand-built data */
    seg = json_object_get(
        json_object_get(
            json_object_get(json_object_get(fit.artifact, "features"),
                            "export"),
            "segments"),
        "all");
    assert_non_null(seg);
    assert_true(fabs(jnum(seg, "alpha") - h.alpha) <= 1e-8 * fabs(h.alpha));
    assert_true(fabs(jnum(seg, "beta") - h.beta) <= 1e-8 * fabs(h.beta) + 1e-9);
    assert_true(fabs(jnum(seg, "pi") - h.pi) <= 1e-8);
    assert_int_equal((int)jnum(seg, "n_events"), 3);
    assert_int_equal((int)jnum(seg, "n_users"), 8);
    assert_int_equal(json_array_size(json_object_get(seg, "cov")), 9);
    assert_int_equal((int64_t)jnum(fit.data, "train_rows"), h.n_days);
    assert_int_equal((int)jnum(fit.data, "holdout_rows"), 5);
    assert_int_equal((int)jnum(fit.data, "horizon"), 10);
    assert_string_equal(json_string_value(json_object_get(fit.data, "cutoff")),
                        "2026-04-10");
    act = json_object_get(json_object_get(fit.artifact, "activity"), "all");
    assert_int_equal(json_array_size(act), 1);
    assert_true(fabs(json_number_value(json_array_get(act, 0)) - 0.75) < 1e-12);
    /* the predictions, by hand from the fit */
    for (i = 0; i < 3; i++)
        hz[i] = aipm_hazard_prob(h.alpha, h.beta, i / 3.0);
    S[0] = pow(1 - hz[0], 4) * pow(1 - hz[1], 6) * pow(1 - hz[2], 30);
    S[1] = pow(1 - hz[0], 20);
    for (i = 0; i < 5; i++) {
        double s = i < 2 ? S[0] : S[1], hs = i < 2 ? hz[2] : hz[0];
        double wt = h.pi * s / (1 - h.pi + h.pi * s);

        p[i] = wt * (1 - pow(1 - hs, 7.5));
        brier += (p[i] - y[i]) * (p[i] - y[i]) / 5;
        ll -= (y[i] ? log(p[i]) : log(1 - p[i])) / 5;
    }
    for (i = 0; i < 5; i++) /* positives against negatives, ties half */
        for (j = 0; j < 5; j++)
            if (y[i] && !y[j])
                wins += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
    print_message("hand: alpha %.4f beta %.4f pi %.4f; P(b) %.4f P(f) %.4f; "
                  "AUC %.4f Brier %.5f\n",
                  h.alpha, h.beta, h.pi, p[0], p[2], jnum(fit.metrics, "auc"),
                  jnum(fit.metrics, "brier"));
    assert_int_equal((int)jnum(fit.metrics, "n"), 5);
    assert_int_equal((int)jnum(fit.metrics, "positives"), 2);
    /* the reference sample: every scored pair (5 < AIPM_MODEL_REF_MAX), in
     * scoring order b, c, f, g, h - the signals above, the shares of
     * active days over days 12-39 (b, c every day: 28 of 28; f, g, h the
     * 14 even ones), segment 0 ("all"), the predictions above */
    {
        static const double sig[5] = {T2, T2, 0, 0, 0};
        static const double share[5] = {1, 1, 0.5, 0.5, 0.5};
        json_t *ref = json_object_get(fit.artifact, "reference");
        json_t *fl = json_object_get(ref, "features");
        json_t *segs = json_object_get(fit.artifact, "segments");

        assert_int_equal(json_array_size(segs), 1);
        assert_string_equal(json_string_value(json_array_get(segs, 0)), "all");
        assert_int_equal(json_array_size(fl), 3);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(fl, 0), "name")),
            "graph_signal");
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(fl, 1), "name")),
            "active_share");
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(fl, 2), "name")),
            "segment");
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(fl, 2), "kind")),
            "categorical");
        for (i = 0; i < 5; i++) {
            json_t *v0 = json_object_get(json_array_get(fl, 0), "values");
            json_t *v1 = json_object_get(json_array_get(fl, 1), "values");
            json_t *v2 = json_object_get(json_array_get(fl, 2), "values");
            double got = json_number_value(
                json_array_get(json_object_get(ref, "score"), i));

            assert_true(fabs(json_number_value(json_array_get(v0, i)) -
                             sig[i]) < 1e-15);
            assert_true(json_number_value(json_array_get(v1, i)) == share[i]);
            assert_int_equal(json_integer_value(json_array_get(v2, i)), 0);
            assert_true(fabs(got - p[i]) <= 1e-9 * p[i]);
        }
        assert_int_equal(json_array_size(json_object_get(ref, "score")), 5);
    }
    assert_true(fabs(jnum(fit.metrics, "brier") - brier) <= 1e-9 * brier);
    assert_true(fabs(jnum(fit.metrics, "log_loss") - ll) <= 1e-9 * ll);
    assert_true(fabs(jnum(fit.metrics, "auc") - wins / 6) < 1e-12);
    /* one segment, "all"; one feature */
    assert_int_equal(json_array_size(fit.segments), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(fit.segments, 0), "segment")),
                        "all");
    assert_string_equal(
        json_string_value(json_object_get(fit.card, "segments_by")), "all");
    {
        json_t *cov = json_object_get(fit.metrics, "coverage_80");

        assert_true(json_is_null(cov) || (json_number_value(cov) >= 0 &&
                                          json_number_value(cov) <= 1));
    }
    assert_string_equal(fit.datasets[0], "events");
    assert_string_equal(fit.datasets[1], "graph");
    assert_null(fit.datasets[2]);
    aipm_model_fit_free(&fit);
    tu_ws_close(&w);
}

/* Too little data is AIPM_EINVALID with a one-line message, and the fit
 * is left empty: a cutoff past the data, a negative horizon, a catalog
 * whose features nobody used before the cutoff, an empty store. */
static void test_model_refuses(void **state)
{
    aipm_model_fit fit;
    aipm_error err = {0};
    tu_ws w, empty;
    int64_t cut;

    (void)state;
    hand_store(&w);
    assert_int_equal(aipm_time_parse(&cut, "2026-05-01", 10, 1), AIPM_OK);
    assert_int_equal(
        aipm_adoption_model_train(&fit, w.st, w.cfg, NULL, cut, 10, NULL, &err),
        AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "after the last day with data"));
    assert_null(fit.artifact);
    aipm_error_clear(&err);
    assert_int_equal(
        aipm_adoption_model_train(&fit, w.st, w.cfg, NULL, 0, -1, NULL, &err),
        AIPM_EINVALID);
    aipm_error_clear(&err);
    /* features nobody used, launched or not: nothing to train on */
    aipm_config_free(w.cfg);
    w.cfg = NULL;
    assert_int_equal(tu_ws_config(&w, "catalog:\n  - {key: later, events: "
                                      "[Nope], launched_at: 2026-04-15}\n"
                                      "  - {key: unused, events: [Nah]}\n"),
                     0);
    assert_int_equal(aipm_time_parse(&cut, "2026-03-03", 10, 1), AIPM_OK);
    /* a cutoff on day 2 leaves 2 days before it, under a week */
    assert_int_equal(
        aipm_adoption_model_train(&fit, w.st, w.cfg, NULL, cut, 10, NULL, &err),
        AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "less than a week of data before it"));
    aipm_error_clear(&err);
    assert_int_equal(aipm_time_parse(&cut, "2026-04-10", 10, 1), AIPM_OK);
    assert_int_equal(
        aipm_adoption_model_train(&fit, w.st, w.cfg, NULL, cut, 10, NULL, &err),
        AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "no catalog feature has an adopter"));
    assert_null(strchr(err.msg, '\n'));
    assert_null(fit.metrics);
    aipm_error_clear(&err);
    /* everyone adopted on their first day: nobody left at risk */
    aipm_config_free(w.cfg);
    w.cfg = NULL;
    assert_int_equal(
        tu_ws_config(&w, "catalog:\n  - {key: login, events: [Login]}\n"), 0);
    assert_int_equal(
        aipm_adoption_model_train(&fit, w.st, w.cfg, NULL, cut, 10, NULL, &err),
        AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "no user is at risk"));
    aipm_error_clear(&err);
    tu_ws_close(&w);
    assert_int_equal(tu_ws_open(&empty), 0);
    assert_int_equal(tu_ws_config(&empty, "catalog:\n  - {key: x, events: "
                                          "[X]}\n"),
                     0);
    assert_int_equal(aipm_adoption_model_train(&fit, empty.st, empty.cfg, NULL,
                                               0, 0, NULL, &err),
                     AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "no events"));
    tu_ws_close(&empty);
}

static json_t *as_stored(const json_t *artifact);

/* The demo product (3000 users, 120 days, seed 1; by plan, the last 28
 * days held out), whose adoption has a planted graph effect: the
 * predictions rank adopters above non-adopters (AUC above 0.6), every
 * figure is in range, the ECE is the one its decile table gives
 * (recomputed here), the groups add up, and the artifact holds the
 * alpha, beta and pi that aipm_hazard_fit gives on each segment's
 * user-days of feature query at the cutoff (built by the forecast's own
 * code, fitted here). */
static void test_model_demo(void **state)
{
    aipm_demo_opts o;
    aipm_model_fit fit;
    aipm_error err = {0};
    tu_ws w;
    aipm_ingest_result res;
    aipm_ingest_opts io;
    aipm_adoption *a = NULL;
    struct aipm_forecast__run r;
    json_t *bin, *row, *segs;
    char gen[400], path[500];
    double n, ece = 0, sum_n = 0, prev_hi = -1, cov;
    size_t i;
    int k, checked = 0;

    (void)state;
    assert_int_equal(tu_ws_open(&w), 0);
    snprintf(gen, sizeof(gen), "%s/gen", w.dir);
    aipm_demo_opts_init(&o);
    o.users = 3000;
    o.days = 120;
    o.seed = 1;
    aipm_time_parse(&o.end_ms, "2026-11-27", 10, 1);
    assert_int_equal(aipm_demo_generate(gen, &o, NULL, &err), AIPM_OK);
    memset(&io, 0, sizeof(io));
    io.dataset = "events";
    snprintf(path, sizeof(path), "%s/events.ndjson.gz", gen);
    assert_int_equal(aipm_ingest_file(w.st, path, &io, &res, &err), AIPM_OK);
    aipm_ingest_result_clear(&res);
    io.dataset = "graph";
    snprintf(path, sizeof(path), "%s/graph.csv", gen);
    assert_int_equal(aipm_ingest_file(w.st, path, &io, &res, &err), AIPM_OK);
    aipm_ingest_result_clear(&res);
    snprintf(path, sizeof(path), "%s/aipm.yaml", gen);
    assert_int_equal(aipm_config_load(&w.cfg, path, &err), AIPM_OK);

    if (aipm_adoption_model_train(&fit, w.st, w.cfg, "plan", 0, 0, NULL,
                                  &err) != AIPM_OK)
        fail_msg("train: %s", err.msg);
    n = jnum(fit.metrics, "n");
    cov = jnum(fit.metrics, "coverage_80");
    print_message("demo: n %.0f positives %.0f AUC %.4f log loss %.5f Brier "
                  "%.5f ECE %.5f coverage_80 %.3f\n",
                  n, jnum(fit.metrics, "positives"), jnum(fit.metrics, "auc"),
                  jnum(fit.metrics, "log_loss"), jnum(fit.metrics, "brier"),
                  jnum(fit.metrics, "ece"), cov);
    assert_true(n > 1000);
    assert_true(jnum(fit.metrics, "positives") > 0);
    assert_true(jnum(fit.metrics, "auc") > 0.6);
    assert_true(jnum(fit.metrics, "log_loss") > 0 &&
                jnum(fit.metrics, "log_loss") < log(2));
    assert_true(jnum(fit.metrics, "brier") > 0 &&
                jnum(fit.metrics, "brier") < 0.25);
    assert_true(jnum(fit.metrics, "ece") >= 0 && jnum(fit.metrics, "ece") <= 1);
    assert_true(cov >= 0 && cov <= 1);
    assert_int_equal((int)jnum(fit.metrics, "ece_bins"), 10);
    assert_int_equal((int)jnum(fit.data, "holdout_rows"), (int)n);
    assert_true(jnum(fit.data, "train_rows") > 0);
    /* the ECE from the decile table: sum of n_b / n |mean_p - mean_y| */
    assert_int_equal(
        json_array_size(json_object_get(fit.metrics, "calibration")), 10);
    json_array_foreach(json_object_get(fit.metrics, "calibration"), i, bin)
    {
        double nb = jnum(bin, "n");

        assert_true(jnum(bin, "lo") >= prev_hi &&
                    jnum(bin, "lo") <= jnum(bin, "hi"));
        assert_true(jnum(bin, "mean_p") >= jnum(bin, "lo") - 1e-15 &&
                    jnum(bin, "mean_p") <= jnum(bin, "hi") + 1e-15);
        prev_hi = jnum(bin, "hi");
        ece += nb / n * fabs(jnum(bin, "mean_p") - jnum(bin, "mean_y"));
        sum_n += nb;
    }
    assert_true(sum_n == n);
    assert_true(fabs(ece - jnum(fit.metrics, "ece")) < 1e-12);
    /* the plan segments and the features each add up to the whole */
    sum_n = 0;
    assert_int_equal(json_array_size(fit.segments), 3);
    json_array_foreach(fit.segments, i, row)
    {
        assert_non_null(strstr(
            json_string_value(json_object_get(row, "segment")), "plan="));
        sum_n += jnum(row, "n");
    }
    assert_true(sum_n == n);
    sum_n = 0;
    json_array_foreach(json_object_get(fit.metrics, "features"), i, row)
        sum_n += jnum(row, "n");
    assert_true(sum_n == n);
    assert_string_equal(
        json_string_value(json_object_get(fit.card, "segments_by")), "plan");

    /* the artifact against aipm_hazard_fit on the same user-days */
    assert_int_equal(aipm_adoption_open(&a, w.st, w.cfg, "plan",
                                        (int)jnum(fit.data, "holdout_days"),
                                        NULL, &err),
                     AIPM_OK);
    memset(&r, 0, sizeof(r));
    r.a = a;
    r.err = &err;
    r.segs = calloc((size_t)a->n_segs, sizeof(*r.segs));
    r.adopt = malloc((size_t)a->n * sizeof(int32_t));
    r.ta = malloc(MAX_NEIGHBOURS * sizeof(int32_t));
    r.tf = malloc(MAX_NEIGHBOURS * sizeof(int32_t));
    assert_true(r.segs && r.adopt && r.ta && r.tf);
    assert_int_equal(aipm_forecast__feature_days(
                         &r, aipm_config_feature(w.cfg, "query"), &r.launch),
                     AIPM_OK);
    assert_int_equal(aipm_forecast__fit_at(&r, a->cut, 2), AIPM_OK);
    segs = json_object_get(
        json_object_get(json_object_get(fit.artifact, "features"), "query"),
        "segments");
    for (k = 0; k < a->n_segs; k++) {
        struct aipm_forecast__seg *s = &r.segs[k];
        aipm_hazard_data d = {s->nu, s->start, s->rs, s->rd, s->ev};
        aipm_hazard h;
        json_t *got = json_object_get(segs, a->seg_names[k]);
        int events = 0, j;

        for (j = 0; j < s->nu; j++)
            events += !isnan(s->ev[j]);
        if (events == 0) { /* no adopter: no fit, none kept */
            assert_true(json_is_null(got));
            continue;
        }
        fit_like_forecast(&h, &d);
        assert_true(json_is_object(got));
        assert_true(fabs(jnum(got, "alpha") - h.alpha) <= 1e-9 * fabs(h.alpha));
        assert_true(fabs(jnum(got, "beta") - h.beta) <= 1e-9 * fabs(h.beta));
        assert_true(fabs(jnum(got, "pi") - h.pi) <= 1e-9);
        assert_int_equal((int)jnum(got, "n_events"), h.n_events);
        assert_true(h.beta > 0); /* the planted graph effect */
        print_message("demo query %s: alpha %.4f beta %.4f pi %.4f (%d "
                      "events)\n",
                      a->seg_names[k], h.alpha, h.beta, h.pi, h.n_events);
        checked++;
    }
    assert_true(checked >= 2);
    /* The reading of the same data: by plan, its performance window is
     * the trainer's holdout (the segments as known before the cutoff, as
     * the trainer took them), figure for figure; the reference and the
     * current sample are AIPM_MODEL_REF_MAX rows of the 3 features. */
    {
        static const char *const keys[] = {"n",        "positives", "auc",
                                           "log_loss", "brier",     "ece"};
        aipm_model_reading rd;
        json_t *art = as_stored(fit.artifact),
               *ref = json_object_get(art, "reference"), *v;
        int64_t t0 = aipm_clock_ms();

        if (aipm_adoption_model_reading(&rd, w.st, w.cfg, art, NULL, 0, &err) !=
            AIPM_OK)
            fail_msg("reading: %s", err.msg);
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (jnum(rd.performance, keys[i]) != jnum(fit.metrics, keys[i]))
                fail_msg("%s: reading %.17g, trainer %.17g", keys[i],
                         jnum(rd.performance, keys[i]),
                         jnum(fit.metrics, keys[i]));
        assert_true(json_equal(json_object_get(rd.performance, "calibration"),
                               json_object_get(fit.metrics, "calibration")));
        assert_int_equal(json_array_size(json_object_get(ref, "score")),
                         AIPM_MODEL_REF_MAX);
        assert_int_equal(json_array_size(json_object_get(rd.current, "score")),
                         AIPM_MODEL_REF_MAX);
        json_array_foreach(json_object_get(ref, "features"), i, v)
            assert_int_equal(json_array_size(json_object_get(v, "values")),
                             AIPM_MODEL_REF_MAX);
        print_message("demo reading (%lld ms): performance n %.0f AUC %.4f "
                      "ECE %.5f, as trained\n",
                      (long long)(aipm_clock_ms() - t0),
                      jnum(rd.performance, "n"), jnum(rd.performance, "auc"),
                      jnum(rd.performance, "ece"));
        aipm_model_reading_free(&rd);
        json_decref(art);
    }
    for (k = 0; k < a->n_segs; k++)
        aipm_forecast__seg_clear(&r.segs[k]);
    free(r.segs);
    free(r.adopt);
    free(r.ta);
    free(r.tf);
    free(r.cum);
    free(r.pre);
    aipm_adoption_free(a);
    aipm_model_fit_free(&fit);
    tu_ws_close(&w);
}

/* ---- the adoption model's monitoring reading ---- */

/* The artifact as the registry keeps it: canonical JSON (sorted keys, 17
 * significant digits) read back. */
static json_t *as_stored(const json_t *artifact)
{
    char *text = json_dumps(artifact, JSON_COMPACT | JSON_SORT_KEYS |
                                          JSON_REAL_PRECISION(17));
    json_t *back = text ? json_loads(text, 0, NULL) : NULL;

    free(text);
    assert_non_null(back);
    return back;
}

static json_t *feature_named(json_t *list, const char *name)
{
    json_t *f;
    size_t i;

    json_array_foreach(
        list, i, f) if (strcmp(json_string_value(json_object_get(f, "name")),
                               name) == 0) return f;
    fail_msg("no feature %s", name);
    return NULL;
}

/* h(s) by hand, not through aipm_hazard_prob. */
static double logistic(double alpha, double beta, double s)
{
    return 1 / (1 + exp(-(alpha + beta * s)));
}

/* (a) Trained with the cutoff at end - H on the hand-made store, the
 * reading's performance window is the trainer's holdout, and its figures
 * are the trainer's, equal to the last bit (the artifact read back from
 * its canonical text). (b) The current sample has the reference's
 * features, and its values by hand: at the end (day 50) c, g and h are
 * at risk; c's neighbours a, d and b all adopted (signal 1), its runs
 * days 0-3 at 0, 4-9 at 1/3, 10-44 at 2/3 and 45-49 at 1 (b adopted on
 * day 44), every day of 22-49 active; g and h: the 25 even days 0-48 at
 * signal 0, 14 of 28 active. k = 10 x 0.75 (the artifact's activity). */
static void test_reading_by_hand(void **state)
{
    aipm_model_fit fit;
    aipm_model_reading rd;
    aipm_error err = {0};
    tu_ws w;
    json_t *art, *perf, *cur, *ref, *seg;
    double al, be, pi, S[2], P[2];
    static const char *const keys[] = {
        "n", "positives", "auc", "log_loss", "brier", "ece", "ece_bins"};
    int64_t cut;
    size_t i;

    (void)state;
    hand_store(&w);
    assert_int_equal(aipm_time_parse(&cut, "2026-04-10", 10, 1), AIPM_OK);
    if (aipm_adoption_model_train(&fit, w.st, w.cfg, NULL, cut, 10, NULL,
                                  &err) != AIPM_OK)
        fail_msg("train: %s", err.msg);
    art = as_stored(fit.artifact);
    if (aipm_adoption_model_reading(&rd, w.st, w.cfg, art, NULL, 0, &err) !=
        AIPM_OK)
        fail_msg("reading: %s", err.msg);
    perf = rd.performance;
    assert_true(json_is_object(perf));
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *a = json_object_get(perf, keys[i]),
               *b = json_object_get(fit.metrics, keys[i]);

        assert_true(json_is_number(a) && json_is_number(b));
        if (json_number_value(a) != json_number_value(b))
            fail_msg("%s: reading %.17g, trainer %.17g", keys[i],
                     json_number_value(a), json_number_value(b));
    }
    assert_true(json_equal(json_object_get(perf, "calibration"),
                           json_object_get(fit.metrics, "calibration")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(perf, "window"), "from")),
                        "2026-04-10");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(perf, "window"), "to")),
                        "2026-04-19");
    print_message("reading at the training's own data: n %.0f AUC %.4f "
                  "Brier %.5f ECE %.5f (trainer's: %.4f %.5f %.5f)\n",
                  jnum(perf, "n"), jnum(perf, "auc"), jnum(perf, "brier"),
                  jnum(perf, "ece"), jnum(fit.metrics, "auc"),
                  jnum(fit.metrics, "brier"), jnum(fit.metrics, "ece"));

    /* (b) current: the reference's names and kinds, in its order */
    cur = rd.current;
    ref = json_object_get(fit.artifact, "reference");
    assert_int_equal(json_array_size(json_object_get(cur, "features")),
                     json_array_size(json_object_get(ref, "features")));
    for (i = 0; i < json_array_size(json_object_get(ref, "features")); i++) {
        json_t *rf = json_array_get(json_object_get(ref, "features"), i);
        json_t *cf = json_array_get(json_object_get(cur, "features"), i);

        assert_string_equal(json_string_value(json_object_get(rf, "name")),
                            json_string_value(json_object_get(cf, "name")));
        assert_string_equal(json_string_value(json_object_get(rf, "kind")),
                            json_string_value(json_object_get(cf, "kind")));
        assert_int_equal(json_array_size(json_object_get(cf, "values")), 3);
    }
    seg = json_object_get(
        json_object_get(
            json_object_get(json_object_get(art, "features"), "export"),
            "segments"),
        "all");
    al = jnum(seg, "alpha");
    be = jnum(seg, "beta");
    pi = jnum(seg, "pi");
    S[0] = pow(1 - logistic(al, be, 0), 4) *
           pow(1 - logistic(al, be, 1.0 / 3), 6) *
           pow(1 - logistic(al, be, 2.0 / 3), 35) *
           pow(1 - logistic(al, be, 1), 5);
    S[1] = pow(1 - logistic(al, be, 0), 25);
    P[0] = pi * S[0] / (1 - pi + pi * S[0]) *
           (1 - pow(1 - logistic(al, be, 1), 7.5));
    P[1] = pi * S[1] / (1 - pi + pi * S[1]) *
           (1 - pow(1 - logistic(al, be, 0), 7.5));
    {
        static const double sig[3] = {1, 0, 0}, share[3] = {1, 0.5, 0.5};
        json_t *vs = json_object_get(
            feature_named(json_object_get(cur, "features"), "graph_signal"),
            "values");
        json_t *va = json_object_get(
            feature_named(json_object_get(cur, "features"), "active_share"),
            "values");
        json_t *vg = json_object_get(
            feature_named(json_object_get(cur, "features"), "segment"),
            "values");
        json_t *sc = json_object_get(cur, "score");

        assert_int_equal(json_array_size(sc), 3);
        for (i = 0; i < 3; i++) {
            double want = i == 0 ? P[0] : P[1];
            double got = json_number_value(json_array_get(sc, i));

            assert_true(json_number_value(json_array_get(vs, i)) == sig[i]);
            assert_true(json_number_value(json_array_get(va, i)) == share[i]);
            assert_int_equal(json_integer_value(json_array_get(vg, i)), 0);
            if (!(fabs(got - want) <= 1e-9 * want))
                fail_msg("current score %zu: %.12g, by hand %.12g", i, got,
                         want);
        }
        print_message("current: P(c) %.5f, P(g) = P(h) %.5f\n", P[0], P[1]);
    }
    /* no forecast recorded: none compared */
    assert_true(json_is_array(rd.forecasts));
    assert_int_equal(json_array_size(rd.forecasts), 0);
    aipm_model_reading_free(&rd);
    json_decref(art);
    aipm_model_fit_free(&fit);
    tu_ws_close(&w);
}

/* A forecast decision record: forecast as JSON text, by null or a trait. */
static void record_forecast(tu_ws *w, const char *subject, const char *doc_s,
                            char id[37])
{
    aipm_decision_spec spec;
    aipm_error err = {0};
    json_t *doc = json_loads(doc_s, 0, NULL);

    assert_non_null(doc);
    memset(&spec, 0, sizeof(spec));
    spec.kind = "forecast";
    spec.subject = subject;
    spec.decision = "adoption forecast";
    spec.doc = doc;
    spec.model = "adoption-hazard/1";
    spec.confidence = NAN;
    if (aipm_decision_record(w->st, &spec, 1000, NULL, id, &err) != AIPM_OK)
        fail_msg("record: %s", err.msg);
    json_decref(doc);
}

/* (c) The forecasts against what happened, by hand. On the hand-made
 * store (days 0-49), record A forecasts export (by null) for days 44-54
 * in segment "all", and 2 days of a segment "ghost" nobody is in; then
 * days 50-52 are ingested, c adopting on day 51 and g on 52, so days
 * 44-52 are observed (the end is day 53). Observed cumulative adopters
 * (a 3, e 6, d 9, b 44, f 46, c 51, g 52): day 44-45 4, 46-50 5, 51 6,
 * 52 7. Rows (day: point [lo80, hi80] observed):
 *   44: 3.5 [3, 4] 4 (APE 0.125, in)     45: 4 [3, 5] 4 (0, in)
 *   46: 4 [3.5, 4.5] 5 (0.2, out)        47: 5 [4, 6] 5 (0, in)
 *   48: 5 [4, 6] 5 (0, in)               49: 6 [5, 7] 5 (0.2, in)
 *   50: 5 [5, 5] 5 (0, in)               51: 5 [4, 5.5] 6 (1/6, out)
 *   52: 7 [6, 8] 7 (0, in)               53, 54: not observed
 *   ghost 45: 1 [0, 2] 0 (in, no APE)    ghost 46: 0 [0, 0] 0 (in)
 * so 9 days, 11 points, MAPE (0.125 + 0.2 + 0.2 + 1/6) / 9, coverage
 * 9 / 11. Record B, by plan (made when nobody had one: one segment
 * "(none)"; on day 52 h, who never adopts, identifies as plan pro, so the
 * data can be segmented by plan - a trait nobody has is refused - and
 * "(none)" keeps every adopter): day 52 at 7 [7, 7] (observed 7: APE 0,
 * in) and segment "all", which by plan is nobody (0 in [0, 2]): 1 day,
 * 2 points, MAPE 0, coverage 1.
 * Left out: an earlier record of A's subject (superseded by A), a Bass
 * series forecast (no segments), a record whose output is not JSON, and
 * one whose only day (2026-05-30) is still to come. */
static void test_reading_forecasts(void **state)
{
    static const char doc_a[] =
        "{\"feature\": \"export\", \"by\": null, \"model\": \"hazard\", "
        "\"segments\": [{\"segment\": \"all\", \"forecast\": ["
        "{\"day\": \"2026-04-14\", \"adopters\": 3.5, \"lo80\": 3, \"hi80\": "
        "4},"
        "{\"day\": \"2026-04-15\", \"adopters\": 4, \"lo80\": 3, \"hi80\": 5},"
        "{\"day\": \"2026-04-16\", \"adopters\": 4, \"lo80\": 3.5, \"hi80\": "
        "4.5},"
        "{\"day\": \"2026-04-17\", \"adopters\": 5, \"lo80\": 4, \"hi80\": 6},"
        "{\"day\": \"2026-04-18\", \"adopters\": 5, \"lo80\": 4, \"hi80\": 6},"
        "{\"day\": \"2026-04-19\", \"adopters\": 6, \"lo80\": 5, \"hi80\": 7},"
        "{\"day\": \"2026-04-20\", \"adopters\": 5, \"lo80\": 5, \"hi80\": 5},"
        "{\"day\": \"2026-04-21\", \"adopters\": 5, \"lo80\": 4, \"hi80\": "
        "5.5},"
        "{\"day\": \"2026-04-22\", \"adopters\": 7, \"lo80\": 6, \"hi80\": 8},"
        "{\"day\": \"2026-04-23\", \"adopters\": 8, \"lo80\": 7, \"hi80\": 9},"
        "{\"day\": \"2026-04-24\", \"adopters\": 9, \"lo80\": 8, \"hi80\": "
        "10}]},"
        "{\"segment\": \"ghost\", \"forecast\": ["
        "{\"day\": \"2026-04-15\", \"adopters\": 1, \"lo80\": 0, \"hi80\": 2},"
        "{\"day\": \"2026-04-16\", \"adopters\": 0, \"lo80\": 0, \"hi80\": "
        "0}]}]}";
    static const char doc_b[] =
        "{\"feature\": \"export\", \"by\": \"plan\", \"segments\": ["
        "{\"segment\": \"(none)\", \"forecast\": [{\"day\": \"2026-04-22\", "
        "\"adopters\": 7, \"lo80\": 7, \"hi80\": 7}]},"
        "{\"segment\": \"all\", \"forecast\": [{\"day\": \"2026-04-22\", "
        "\"adopters\": 1, \"lo80\": 0, \"hi80\": 2}]}]}";
    static const char doc_old[] =
        "{\"feature\": \"export\", \"by\": null, \"segments\": ["
        "{\"segment\": \"all\", \"forecast\": [{\"day\": \"2026-04-14\", "
        "\"adopters\": 100, \"lo80\": 90, \"hi80\": 110}]}]}";
    static const char doc_later[] =
        "{\"feature\": \"export\", \"by\": null, \"segments\": ["
        "{\"segment\": \"all\", \"forecast\": [{\"day\": \"2026-05-30\", "
        "\"adopters\": 9, \"lo80\": 8, \"hi80\": 10}]}]}";
    aipm_model_fit fit;
    aipm_model_reading rd;
    aipm_error err = {0};
    aipm_decision_row garbage = {"00000000-0000-4000-8000-000000000001",
                                 2000,
                                 "forecast",
                                 "export",
                                 "?",
                                 "{}",
                                 "{\"feature\": \"export\"}",
                                 "0000",
                                 "{\"feature\": \"export\", \"segments\": [",
                                 NULL,
                                 NULL,
                                 NULL,
                                 NAN,
                                 "v0",
                                 NULL};
    evbuf more = {NULL, 0, 0, 10000};
    char id_old[37], id_a[37], id_b[37], id_bass[37], id_later[37];
    json_t *e;
    double mape;
    tu_ws w;
    int64_t cut;
    int u, d;

    (void)state;
    hand_store(&w);
    assert_int_equal(aipm_time_parse(&cut, "2026-04-10", 10, 1), AIPM_OK);
    if (aipm_adoption_model_train(&fit, w.st, w.cfg, NULL, cut, 10, NULL,
                                  &err) != AIPM_OK)
        fail_msg("train: %s", err.msg);
    record_forecast(&w, "export", doc_old, id_old);
    record_forecast(&w, "export", doc_a, id_a); /* supersedes the old one */
    record_forecast(&w, "export by plan", doc_b, id_b);
    record_forecast(&w, "series.csv", "{\"p\": 0.01, \"q\": 0.3, \"m\": 100}",
                    id_bass);
    record_forecast(&w, "export later", doc_later, id_later);
    if (aipm_store_decision_put(w.st, &garbage, &err) != AIPM_OK)
        fail_msg("put: %s", err.msg);

    /* days 50-52: everyone logs in; c adopts on day 51, g on 52 */
    for (u = 0; u < 8; u++)
        for (d = 50; d < 53; d++) {
            char user[2] = {(char)('a' + u), '\0'};

            ev_add(&more, user, "Login", d, 12);
        }
    ev_add(&more, "c", "Export", 51, 15);
    ev_add(&more, "g", "Export", 52, 15);
    plan_add(&more, "h", "pro", 52);
    ingest_buf(&w, &more, "more.ndjson");

    if (aipm_adoption_model_reading(&rd, w.st, w.cfg, fit.artifact, NULL, 0,
                                    &err) != AIPM_OK)
        fail_msg("reading: %s", err.msg);
    assert_int_equal(json_array_size(rd.forecasts), 2);
    e = json_array_get(rd.forecasts, 0);
    assert_string_equal(json_string_value(json_object_get(e, "decision")),
                        id_a);
    assert_string_equal(json_string_value(json_object_get(e, "feature")),
                        "export");
    assert_int_equal((int)jnum(e, "days"), 9);
    assert_int_equal((int)jnum(e, "points"), 11);
    mape = (0.125 + 0.2 + 0.2 + 1.0 / 6) / 9;
    assert_true(fabs(jnum(e, "mape") - mape) < 1e-12);
    assert_true(fabs(jnum(e, "coverage_80") - 9.0 / 11) < 1e-12);
    print_message("forecast A: %d days, %d points, MAPE %.6f (by hand "
                  "%.6f), coverage %.6f (9/11)\n",
                  (int)jnum(e, "days"), (int)jnum(e, "points"), jnum(e, "mape"),
                  mape, jnum(e, "coverage_80"));
    e = json_array_get(rd.forecasts, 1);
    assert_string_equal(json_string_value(json_object_get(e, "decision")),
                        id_b);
    assert_int_equal((int)jnum(e, "days"), 1);
    assert_int_equal((int)jnum(e, "points"), 2);
    assert_true(jnum(e, "mape") == 0);
    assert_true(jnum(e, "coverage_80") == 1);
    /* the newest labelled window is now days 43-52 */
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(rd.performance, "window"), "from")),
                        "2026-04-13");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(rd.performance, "window"), "to")),
                        "2026-04-22");
    aipm_model_reading_free(&rd);
    aipm_model_fit_free(&fit);
    tu_ws_close(&w);
}

/* (d) A malformed artifact is refused with one line naming what is
 * wrong, the reading left empty; no data gives an empty current sample
 * and no performance; no configuration is refused. */
static void test_reading_refuses(void **state)
{
    static const char *const edits[] = {
        "[1, 2]",
        "{\"horizon\": \"10\"}",
        "{\"horizon\": 0}",
        "{\"horizon\": 100000}",
        "{\"by\": 3}",
        "{\"segments\": null}",
        "{\"segments\": [\"all\", \"all\"]}",
        "{\"segments\": [7]}",
        "{\"activity\": {\"all\": []}}",
        "{\"activity\": {\"all\": [2]}}",
        "{\"activity\": {\"other\": [0.5]}}",
        "{\"features\": {}}",
        "{\"features\": {\"export\": {\"segments\": [1]}}}",
        "{\"features\": {\"export\": {\"segments\": {\"all\": {\"alpha\": "
        "\"x\", \"beta\": 1, \"pi\": 0.5}}}}}",
        "{\"features\": {\"export\": {\"segments\": {\"all\": {\"alpha\": 1, "
        "\"beta\": 1, \"pi\": 1.5}}}}}",
        "{\"features\": {\"export\": {\"segments\": {\"all\": {\"alpha\": 1, "
        "\"pi\": 0.5}}}}}",
    };
    aipm_model_fit fit;
    aipm_model_reading rd;
    aipm_error err = {0};
    tu_ws w, empty;
    int64_t cut;
    size_t i;

    (void)state;
    hand_store(&w);
    assert_int_equal(aipm_time_parse(&cut, "2026-04-10", 10, 1), AIPM_OK);
    if (aipm_adoption_model_train(&fit, w.st, w.cfg, NULL, cut, 10, NULL,
                                  &err) != AIPM_OK)
        fail_msg("train: %s", err.msg);
    for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        json_t *patch = json_loads(edits[i], 0, NULL), *bad;

        assert_non_null(patch);
        if (json_is_object(patch)) {
            bad = json_deep_copy(fit.artifact);
            assert_int_equal(json_object_update(bad, patch), 0);
        } else {
            bad = json_incref(patch);
        }
        aipm_error_clear(&err);
        memset(&rd, 0x5a, sizeof(rd));
        if (aipm_adoption_model_reading(&rd, w.st, w.cfg, bad, NULL, 0, &err) !=
            AIPM_EINVALID)
            fail_msg("edit %zu (%s) was not refused", i, edits[i]);
        assert_non_null(strstr(err.msg, "malformed"));
        assert_null(strchr(err.msg, '\n'));
        assert_null(rd.current);
        assert_null(rd.performance);
        assert_null(rd.forecasts);
        json_decref(patch);
        json_decref(bad);
    }
    print_message("refused: %s\n", err.msg);
    aipm_error_clear(&err);
    assert_int_equal(aipm_adoption_model_reading(&rd, w.st, NULL, fit.artifact,
                                                 NULL, 0, &err),
                     AIPM_EINVALID);
    /* an empty store: nobody to score, nothing labelled */
    assert_int_equal(tu_ws_open(&empty), 0);
    assert_int_equal(
        tu_ws_config(&empty, "catalog:\n  - {key: export, events: [Export]}\n"),
        0);
    if (aipm_adoption_model_reading(&rd, empty.st, empty.cfg, fit.artifact,
                                    NULL, 0, &err) != AIPM_OK)
        fail_msg("empty: %s", err.msg);
    assert_true(json_is_null(rd.performance));
    assert_int_equal(json_array_size(json_object_get(rd.current, "score")), 0);
    assert_int_equal(json_array_size(json_object_get(rd.current, "features")),
                     3);
    assert_int_equal(json_array_size(rd.forecasts), 0);
    aipm_model_reading_free(&rd);
    tu_ws_close(&empty);
    aipm_model_fit_free(&fit);
    tu_ws_close(&w);
}

/* ---- a forecast by a registered version ---- */

/* A copy of a forecast document without what may differ between two runs
 * of the same forecast: the fit's wall-clock time and the registry. */
static json_t *without_registry(const json_t *doc)
{
    json_t *c = json_deep_copy(doc);

    assert_non_null(c);
    json_object_del(c, "fit_seconds");
    json_object_del(c, "registry");
    return c;
}

/* The segment named name of a forecast document. */
static json_t *doc_segment(json_t *doc, const char *name)
{
    json_t *sg;
    size_t i;

    json_array_foreach(json_object_get(doc, "segments"), i, sg)
    {
        if (strcmp(json_string_value(json_object_get(sg, "segment")), name) ==
            0)
            return sg;
    }
    fail_msg("no segment %s", name);
    return NULL;
}

/* Whether JSON value v equals the JSON text want. */
static int equals_text(const json_t *v, const char *want)
{
    json_t *w = json_loads(want, 0, NULL);
    int same;

    assert_non_null(w);
    same = json_equal((json_t *)v, w);
    json_decref(w);
    return same;
}

static json_t *run_ok(aipm_adoption *a, const aipm_adoption_opts *o)
{
    aipm_error err = {0};
    json_t *doc = NULL;

    if (aipm_adoption_run(&doc, a, "export", o, &err) != AIPM_OK)
        fail_msg("forecast (model_version %lld): %s",
                 (long long)o->model_version, err.msg);
    return doc;
}

/* Versions trained on the hand-made store at day 40 - by nothing, and by
 * plan when only h, who never adopts, had one (plan free; everyone else
 * "(none)") - then days
 * 50-52 ingested: c adopts on day 51, g on 52, and a, b and d identify
 * as plan pro. (a) A forecast by the first version has the artifact's
 * alpha, beta and pi in its segment "all" to the bit, and the standard
 * errors of the artifact's covariance (square roots of its diagonal, the
 * delta method for pi: pi (1 - pi) sd(logit pi)); a forecast fitted in
 * the run (-1) has other ones, the data having changed; the model choice,
 * the backtest and the intervals' calibration are the run's in both. (b)
 * By plan, the plan version's "(none)" fit is taken and "pro", which it
 * lacks, keeps the run's fit (the -1 run's, figure for figure), as does
 * "free" (h alone, no adopter: the version has no fit of it). (c) A
 * version of another segmentation is not used, and the forecast is the
 * -1 run's. (d) No production alias: fitted in the run. (e) A malformed
 * artifact is AIPM_EINVALID in one line, an unknown version
 * AIPM_ENOTFOUND, and a backtest never takes a version. */
static void test_forecast_by_version(void **state)
{
    aipm_model_fit fit, fit_plan, bad;
    aipm_error err = {0};
    evbuf more = {NULL, 0, 0, 20000};
    aipm_adoption *a = NULL, *ap = NULL, *bt = NULL;
    aipm_adoption_opts o = {10, AIPM_ADOPTION_HAZARD, 20, 1, 0};
    json_t *doc, *own, *reg, *hz, *art_fit, *cov, *x, *y;
    int64_t cut, v_all = 0, v_plan = 0, v_bad = 0;
    double c0, c4, c8, pi;
    evbuf early = {NULL, 0, 0, 10000};
    int u, d;
    tu_ws w;

    (void)state;
    hand_store(&w);
    assert_int_equal(aipm_time_parse(&cut, "2026-04-10", 10, 1), AIPM_OK);
    if (aipm_adoption_model_train(&fit, w.st, w.cfg, NULL, cut, 10, NULL,
                                  &err) != AIPM_OK)
        fail_msg("train: %s", err.msg);
    /* h, who never adopts, the one user with a plan (a trait no user has
     * is refused): by plan, everyone else is "(none)" */
    plan_add(&early, "h", "free", 2);
    ingest_buf(&w, &early, "early.ndjson");
    if (aipm_adoption_model_train(&fit_plan, w.st, w.cfg, "plan", cut, 10, NULL,
                                  &err) != AIPM_OK)
        fail_msg("train: %s", err.msg);
    if (aipm_model_register(w.st, "adoption", &fit, 1, 1000, NULL, &v_all,
                            &err) != AIPM_OK ||
        aipm_model_register(w.st, "adoption", &fit_plan, 1, 2000, NULL, &v_plan,
                            &err) != AIPM_OK)
        fail_msg("register: %s", err.msg);
    /* a version whose artifact's "by" is not a string */
    bad = fit;
    bad.artifact = json_deep_copy(fit.artifact);
    assert_non_null(bad.artifact);
    json_object_set_new(bad.artifact, "by", json_integer(3));
    if (aipm_model_register(w.st, "adoption", &bad, 1, 3000, NULL, &v_bad,
                            &err) != AIPM_OK)
        fail_msg("register: %s", err.msg);
    json_decref(bad.artifact);
    assert_int_equal(v_all, 1);
    assert_int_equal(v_plan, 2);
    assert_int_equal(v_bad, 3);

    /* the data after the training */
    for (u = 0; u < 8; u++)
        for (d = 50; d < 53; d++) {
            char user[2] = {(char)('a' + u), '\0'};

            ev_add(&more, user, "Login", d, 12);
        }
    ev_add(&more, "c", "Export", 51, 15);
    ev_add(&more, "g", "Export", 52, 15);
    plan_add(&more, "a", "pro", 50);
    plan_add(&more, "b", "pro", 50);
    plan_add(&more, "d", "pro", 50);
    ingest_buf(&w, &more, "more.ndjson");

    /* (a) by nothing: the version's fit against the run's */
    assert_int_equal(aipm_adoption_open(&a, w.st, w.cfg, NULL, 0, NULL, &err),
                     AIPM_OK);
    o.model_version = -1;
    own = run_ok(a, &o);
    assert_true(json_is_null(json_object_get(own, "registry")));
    o.model_version = v_all;
    doc = run_ok(a, &o);
    reg = json_object_get(doc, "registry");
    assert_true(equals_text(reg,
                            "{\"name\": \"adoption\", \"version\": 1, "
                            "\"used\": true, \"segments\": [\"all\"], "
                            "\"refitted\": [], \"cutoff\": \"2026-04-10\"}"));
    art_fit = json_object_get(
        json_object_get(
            json_object_get(json_object_get(fit.artifact, "features"),
                            "export"),
            "segments"),
        "all");
    hz = json_object_get(doc_segment(doc, "all"), "hazard");
    assert_true(jnum(hz, "alpha") == jnum(art_fit, "alpha"));
    assert_true(jnum(hz, "beta") == jnum(art_fit, "beta"));
    assert_true(jnum(hz, "pi") == jnum(art_fit, "pi"));
    assert_true(jnum(doc_segment(doc, "all"), "graph_coef") ==
                jnum(art_fit, "beta"));
    cov = json_object_get(art_fit, "cov");
    c0 = json_number_value(json_array_get(cov, 0));
    c4 = json_number_value(json_array_get(cov, 4));
    c8 = json_number_value(json_array_get(cov, 8));
    pi = jnum(art_fit, "pi");
    assert_true(c0 > 0 && c4 > 0);
    assert_true(fabs(jnum(hz, "se_alpha") - sqrt(c0)) <= 1e-15 * sqrt(c0));
    assert_true(fabs(jnum(hz, "se_beta") - sqrt(c4)) <= 1e-15 * sqrt(c4));
    assert_true(fabs(jnum(hz, "se_pi") - pi * (1 - pi) * sqrt(c8)) <= 1e-15);
    /* the data changed: the run's own fit is another */
    x = json_object_get(doc_segment(own, "all"), "hazard");
    assert_true(jnum(x, "alpha") != jnum(art_fit, "alpha"));
    assert_true(jnum(x, "beta") != jnum(art_fit, "beta"));
    print_message("export: version alpha %.6f beta %.6f pi %.4f; refitted on "
                  "days 0-52 alpha %.6f beta %.6f pi %.4f\n",
                  jnum(hz, "alpha"), jnum(hz, "beta"), jnum(hz, "pi"),
                  jnum(x, "alpha"), jnum(x, "beta"), jnum(x, "pi"));
    /* the same users at risk, the same choice and calibration */
    assert_int_equal((int)jnum(hz, "events"), (int)jnum(x, "events"));
    assert_int_equal((int)jnum(hz, "user_days"), (int)jnum(x, "user_days"));
    assert_true(json_equal(json_object_get(doc, "model"),
                           json_object_get(own, "model")));
    assert_true(json_equal(json_object_get(doc, "backtest"),
                           json_object_get(own, "backtest")));
    assert_true(jnum(doc, "variance_scale") == jnum(own, "variance_scale"));
    x = json_object_get(doc_segment(own, "all"), "forecast");
    y = json_object_get(doc_segment(doc, "all"), "forecast");
    assert_int_equal(json_array_size(x), 10);
    assert_true(jnum(json_array_get(x, 9), "adopters") !=
                jnum(json_array_get(y, 9), "adopters"));
    json_decref(doc);

    /* (c) a version by plan for a forecast by nothing: not used */
    o.model_version = v_plan;
    doc = run_ok(a, &o);
    reg = json_object_get(doc, "registry");
    assert_true(equals_text(reg, "{\"name\": \"adoption\", \"version\": 2, "
                                 "\"used\": false, \"why\": \"trained by plan, "
                                 "this forecast is by all\"}"));
    x = without_registry(doc);
    y = without_registry(own);
    assert_true(json_equal(x, y));
    json_decref(x);
    json_decref(y);
    json_decref(doc);
    json_decref(own);

    /* (d) no production alias: fitted in the run */
    o.model_version = 0;
    doc = run_ok(a, &o);
    assert_true(json_is_null(json_object_get(doc, "registry")));
    json_decref(doc);

    /* (e) a malformed artifact, a version that does not exist */
    o.model_version = v_bad;
    doc = NULL;
    assert_int_equal(aipm_adoption_run(&doc, a, "export", &o, &err),
                     AIPM_EINVALID);
    assert_null(doc);
    assert_non_null(strstr(err.msg, "malformed"));
    assert_null(strchr(err.msg, '\n'));
    print_message("malformed: %s\n", err.msg);
    aipm_error_clear(&err);
    o.model_version = 99;
    assert_int_equal(aipm_adoption_run(&doc, a, "export", &o, &err),
                     AIPM_ENOTFOUND);
    assert_null(doc);
    aipm_error_clear(&err);

    /* (b) by plan: "(none)" from the version, "pro" fitted in the run */
    assert_int_equal(
        aipm_adoption_open(&ap, w.st, w.cfg, "plan", 0, NULL, &err), AIPM_OK);
    o.model_version = -1;
    own = run_ok(ap, &o);
    o.model_version = v_plan;
    doc = run_ok(ap, &o);
    reg = json_object_get(doc, "registry");
    assert_true(equals_text(reg, "{\"name\": \"adoption\", \"version\": 2, "
                                 "\"used\": true, \"segments\": [\"(none)\"], "
                                 "\"refitted\": [\"pro\", \"free\"], "
                                 "\"cutoff\": \"2026-04-10\"}"));
    art_fit = json_object_get(
        json_object_get(
            json_object_get(json_object_get(fit_plan.artifact, "features"),
                            "export"),
            "segments"),
        "(none)");
    hz = json_object_get(doc_segment(doc, "(none)"), "hazard");
    assert_true(jnum(hz, "alpha") == jnum(art_fit, "alpha"));
    assert_true(jnum(hz, "beta") == jnum(art_fit, "beta"));
    assert_true(jnum(hz, "pi") == jnum(art_fit, "pi"));
    assert_true(jnum(json_object_get(doc_segment(own, "(none)"), "hazard"),
                     "alpha") != jnum(art_fit, "alpha"));
    assert_true(
        json_is_object(json_object_get(doc_segment(own, "pro"), "hazard")));
    assert_true(json_equal(json_object_get(doc_segment(doc, "pro"), "hazard"),
                           json_object_get(doc_segment(own, "pro"), "hazard")));
    json_decref(doc);
    json_decref(own);

    /* a backtest measures fitting before its cutoff: never a version */
    assert_int_equal(aipm_adoption_open(&bt, w.st, w.cfg, NULL, 7, NULL, &err),
                     AIPM_OK);
    o.model_version = v_all;
    doc = run_ok(bt, &o);
    assert_true(json_is_null(json_object_get(doc, "registry")));
    json_decref(doc);

    aipm_adoption_free(a);
    aipm_adoption_free(ap);
    aipm_adoption_free(bt);
    aipm_model_fit_free(&fit);
    aipm_model_fit_free(&fit_plan);
    tu_ws_close(&w);
}

/* Segments by a trait no user has are refused, never one segment
 * "(none)": on the hand-made store (no identify call; group calls without
 * traits) plan is a trait no event carries, and the learned schema knows
 * none; after h identifies as plan pro on day 45, a backtest holding out
 * 10 of the 50 days (cutoff day 40, 2026-04-10; h was first seen on day
 * 0, so h's segment is read before the cutoff) has nobody with a plan,
 * while the forecast over all the data has h in "pro". */
static void test_segments_refused(void **state)
{
    evbuf more = {NULL, 0, 0, 30000};
    aipm_error err = {0};
    aipm_adoption *a = NULL;
    tu_ws w;

    (void)state;
    hand_store(&w);
    assert_int_equal(aipm_adoption_open(&a, w.st, w.cfg, "plan", 0, NULL, &err),
                     AIPM_EINVALID);
    assert_null(a);
    assert_string_equal(err.msg,
                        "no user or account has the trait 'plan' (traits come "
                        "from identify and group events; none is in the "
                        "accepted data)");
    plan_add(&more, "h", "pro", 45);
    ingest_buf(&w, &more, "plan.ndjson");
    aipm_error_clear(&err);
    assert_int_equal(
        aipm_adoption_open(&a, w.st, w.cfg, "plan", 10, NULL, &err),
        AIPM_EINVALID);
    assert_string_equal(err.msg,
                        "no user as of the cutoff 2026-04-10 has the trait "
                        "'plan', though accepted identify or group events "
                        "carry it: a breakdown by it would be one segment, "
                        "(none)");
    aipm_error_clear(&err);
    assert_int_equal(
        aipm_adoption_open(&a, w.st, w.cfg, "plann", 0, NULL, &err),
        AIPM_EINVALID);
    assert_string_equal(err.msg,
                        "no user or account has the trait 'plann' (traits "
                        "come from identify and group events; known: plan)");
    aipm_error_clear(&err);
    assert_int_equal(aipm_adoption_open(&a, w.st, w.cfg, "plan", 0, NULL, &err),
                     AIPM_OK);
    aipm_adoption_free(a);
    tu_ws_close(&w);
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
        cmocka_unit_test(test_model_by_hand),
        cmocka_unit_test(test_model_refuses),
        cmocka_unit_test(test_model_demo),
        cmocka_unit_test(test_reading_by_hand),
        cmocka_unit_test(test_reading_forecasts),
        cmocka_unit_test(test_reading_refuses),
        cmocka_unit_test(test_forecast_by_version),
        cmocka_unit_test(test_segments_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
