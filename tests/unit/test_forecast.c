/* test_forecast.c - the Bass fit and the series parser.
 *
 * References: the US home VCR sales series 1980-1989 (thousand units) and
 * its density-form fit m = 6.798e4, p = 6.594e-3, q = 0.6381 (Cowpertwait
 * and Metcalfe, Introductory Time Series with R, 2009, section 3.3.4);
 * more digits and the standard errors from scipy.optimize.curve_fit on the
 * same model (python3 lines next to the constants); simulated series for
 * recovery.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aipm/forecast.h"

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
        aipm_bass truth_b = {truth[c][0], truth[c][1], truth[c][2], 0,
                             0,           0,           0,           0};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vcr_density),
        cmocka_unit_test(test_vcr_per_period),
        cmocka_unit_test(test_recovery),
        cmocka_unit_test(test_bad_series),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_bad),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
