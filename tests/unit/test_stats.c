/* test_stats.c - every statistic against an independent reference.
 *
 * The constants come from tests/unit/stats_reference.py, run with
 * Debian's python3-scipy 1.10.1 and python3-statsmodels 0.13.5: scipy's
 * ttest_ind_from_stats and chisquare, numerical integration for the
 * Bayesian risks, statsmodels' multipletests and NormalIndPower, and
 * numpy's polyfit for CUPED. The chance to win is also checked by a
 * seeded Monte Carlo here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>

#include "aipm/stats.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* Control mean 10, sd 4, n 1000; treatment 10.5, 4.4, 1100. */
static void test_welch_and_delta(void **state)
{
    aipm_compare c;

    (void)state;
    assert_int_equal(
        aipm_stats_compare(&c, 10.0, 16.0, 1000, 10.5, 19.36, 1100, 0.05),
        AIPM_OK);
    /* scipy ttest_ind_from_stats(equal_var=False): t = 2.72772362795,
     * p = 0.00643043723537; Welch df = 2097.99999567. */
    NEAR(c.lift_abs / c.se_abs, 2.72772362795, 1e-9);
    NEAR(c.df, 2097.99999567, 1e-6);
    /* Relative lift by the delta method, t with Welch df (scipy t):
     * se 0.0187723200484, p 0.0077924798708,
     * CI (0.0131856903333, 0.0868143096667). */
    NEAR(c.lift_rel, 0.05, 1e-12);
    NEAR(c.se_rel, 0.0187723200484, 1e-12);
    NEAR(c.p_value, 0.0077924798708, 1e-10);
    NEAR(c.ci_low, 0.0131856903333, 1e-9);
    NEAR(c.ci_high, 0.0868143096667, 1e-9);
    /* Not enough units, or a zero control mean: no estimate. */
    assert_int_equal(aipm_stats_compare(&c, 10, 16, 1, 10, 16, 100, 0.05),
                     AIPM_EINVALID);
    assert_int_equal(aipm_stats_compare(&c, 0, 16, 100, 1, 16, 100, 0.05),
                     AIPM_EINVALID);
}

static void test_proportion_variance(void **state)
{
    /* 300 conversions of 1000: m(1 - m) = 0.21 (by hand). */
    aipm_moments m = {1000, 300, 300};

    (void)state;
    NEAR(aipm_moments_var(&m, 1), 0.21, 1e-15);
    /* The sample variance of the same 0/1 data: 0.21 * 1000 / 999. */
    NEAR(aipm_moments_var(&m, 0), 0.21 * 1000 / 999, 1e-12);
}

static void test_srm(void **state)
{
    double chi2, p;
    const double obs2[] = {5021, 4812}, w2[] = {0.5, 0.5};
    const double obs3[] = {3400, 3300, 3050}, w3[] = {1, 1, 1};

    (void)state;
    /* scipy chisquare: 4.44228617919, p 0.0350592698683. */
    assert_int_equal(aipm_stats_srm(&chi2, &p, obs2, w2, 2), AIPM_OK);
    NEAR(chi2, 4.44228617919, 1e-9);
    NEAR(p, 0.0350592698683, 1e-11);
    /* Three arms, weights unnormalised: chi2 20, p 4.53999297625e-05. */
    assert_int_equal(aipm_stats_srm(&chi2, &p, obs3, w3, 3), AIPM_OK);
    NEAR(chi2, 20, 1e-9);
    NEAR(p, 4.53999297625e-05, 1e-13);
}

static void test_bayes(void **state)
{
    aipm_bayes b;
    gsl_rng *r;
    double wins = 0, loss_t = 0;
    int i, n = 400000;

    (void)state;
    assert_int_equal(aipm_stats_bayes(&b, 0.02, 0.015, 0.05), AIPM_OK);
    /* scipy norm.sf and numerical integration (quad):
     * P(lift > 0) 0.908788780274, E[max(0,-x)] 0.000635926725623,
     * E[max(0,x)] 0.0206359267256. */
    NEAR(b.chance_to_win, 0.908788780274, 1e-10);
    NEAR(b.risk_treatment, 0.000635926725623, 1e-11);
    NEAR(b.risk_control, 0.0206359267256, 1e-10);
    /* A seeded Monte Carlo from the same posterior agrees within its
     * error (sd of the mean of a Bernoulli(0.91) over 4e5 draws ~ 5e-4). */
    r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 42);
    for (i = 0; i < n; i++) {
        double x = 0.02 + gsl_ran_gaussian(r, 0.015);

        wins += x > 0;
        loss_t += x < 0 ? -x : 0;
    }
    gsl_rng_free(r);
    NEAR(wins / n, b.chance_to_win, 2.5e-3);
    NEAR(loss_t / n, b.risk_treatment, 5e-5);
}

static void test_sequential(void **state)
{
    aipm_compare c, fixed;

    (void)state;
    assert_int_equal(
        aipm_stats_compare(&c, 10.0, 16.0, 1000, 10.5, 19.36, 1100, 0.05),
        AIPM_OK);
    fixed = c;
    assert_int_equal(aipm_stats_sequential(&c, 0.05, 5000), AIPM_OK);
    /* The half-width, from the Waudby-Smith et al. formula evaluated in
     * Python (stats_reference.py): 0.0584515824417. */
    NEAR((c.ci_high - c.ci_low) / 2, 0.0584515824417, 1e-10);
    /* Always-valid intervals are wider than the fixed-sample ones, and
     * the p-value larger. */
    assert_true(c.ci_high - c.ci_low > fixed.ci_high - fixed.ci_low);
    assert_true(c.p_value > fixed.p_value);
    /* Its p-value is the alpha at which the sequence touches zero. */
    NEAR(aipm_stats_cs_halfwidth(c.se_rel * c.se_rel, 2100, c.p_value, 5000),
         c.lift_rel, 1e-6);
}

static void test_multiple_testing(void **state)
{
    const double p[] = {0.01, 0.04, 0.03, 0.005, 0.20};
    /* statsmodels multipletests, method holm and fdr_bh. */
    const double holm[] = {0.04, 0.09, 0.09, 0.025, 0.2};
    const double bh[] = {0.025, 0.05, 0.05, 0.025, 0.2};
    double adj[5];
    int i;

    (void)state;
    aipm_stats_holm(adj, p, 5);
    for (i = 0; i < 5; i++)
        NEAR(adj[i], holm[i], 1e-12);
    aipm_stats_bh(adj, p, 5);
    for (i = 0; i < 5; i++)
        NEAR(adj[i], bh[i], 1e-12);
}

static void test_sample_size(void **state)
{
    (void)state;
    /* statsmodels NormalIndPower().solve_power(effect 0.05 * 2 / 3,
     * alpha 0.05, power 0.8): 14127.9489168 per group, rounded up. */
    NEAR(aipm_stats_sample_size(2.0, 9.0, 0.05, 0.05, 0.8), 14128, 0);
}

static void test_cuped(void **state)
{
    /* Sufficient statistics of simulated data (numpy seed 7, see
     * stats_reference.py); references from numpy: theta = polyfit slope
     * 0.807916780592; per group mean and variance of y - theta (x - mean
     * x); the pooled variance reduction 0.742891487587. */
    aipm_cuped_group c = {{1992, 9483.1307035808932, 76394.466673351126},
                          {1992, 11742.278487087062, 104258.53397191729},
                          84493.963925375981};
    aipm_cuped_group t = {{2008, 10405.487398884605, 85195.896334906865},
                          {2008, 11833.072000445361, 106052.77612455879},
                          90380.897123650473};
    aipm_cuped out;

    (void)state;
    assert_int_equal(aipm_stats_cuped(&out, &c, &t), AIPM_OK);
    NEAR(out.theta, 0.807916780592, 1e-9);
    NEAR(out.mean_c, 4.75989641694, 1e-9);
    NEAR(out.var_c, 3.97734838572, 1e-8);
    NEAR(out.mean_t, 5.18272133462, 1e-9);
    NEAR(out.var_t, 3.99765961535, 1e-8);
    NEAR(out.variance_reduction, 0.742891487587, 1e-9);
}

static void test_ratio_delta(void **state)
{
    double r, v;

    (void)state;
    /* numpy cov on y = 3,0,5,2,7,1,4,6 and x = 2,1,3,2,4,1,2,3
     * (stats_reference.py): R = 28/18 = 1.55555555556, n var(R) =
     * 0.204846822131. */
    assert_int_equal(aipm_stats_ratio(&r, &v, 8, 28, 140, 18, 48, 80), AIPM_OK);
    NEAR(r, 1.55555555556, 1e-10);
    NEAR(v, 0.204846822131, 1e-11);
    assert_int_equal(aipm_stats_ratio(&r, &v, 8, 28, 140, 0, 0, 0),
                     AIPM_EINVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_welch_and_delta),
        cmocka_unit_test(test_proportion_variance),
        cmocka_unit_test(test_srm),
        cmocka_unit_test(test_bayes),
        cmocka_unit_test(test_sequential),
        cmocka_unit_test(test_multiple_testing),
        cmocka_unit_test(test_sample_size),
        cmocka_unit_test(test_cuped),
        cmocka_unit_test(test_ratio_delta),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
