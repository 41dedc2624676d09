/* test_drift.c - the drift tests (aipm/drift.h) against scipy and numpy.
 *
 * Every constant is printed by tests/unit/drift_ref.py (Debian 12's
 * python3-scipy 1.10.1 and python3-numpy 1.24.2), which computes it as
 * Evidently's legacy stattests do: scipy.stats.ks_2samp, chisquare,
 * wasserstein_distance, scipy.spatial.distance.jensenshannon, and
 * numpy.histogram_bin_edges(..., "sturges") for the bins. The samples are
 * made from integers in both (seq below), so both see the same doubles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "aipm/drift.h"

/* ((i * mul) % mod) / scale + shift for i < n, as drift_ref.py's seq. */
static double *seq(size_t n, long mul, long mod, double scale, double shift)
{
    double *v = malloc((n ? n : 1) * sizeof(*v));
    size_t i;

    assert_non_null(v);
    for (i = 0; i < n; i++)
        v[i] = (double)(((long)i * mul) % mod) / scale + shift;
    return v;
}

static double *repeat(const int *counts, int k, size_t *n)
{
    double *v;
    int c, i;

    *n = 0;
    for (c = 0; c < k; c++)
        *n += (size_t)counts[c];
    v = malloc(*n * sizeof(*v));
    assert_non_null(v);
    *n = 0;
    for (c = 0; c < k; c++)
        for (i = 0; i < counts[c]; i++)
            v[(*n)++] = c;
    return v;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return (a > b) - (a < b);
}

static void close_to(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("got %.17g, want %.17g (relative tolerance %g)", got, want,
                 rel);
}

static void test_ks(void **state)
{
    aipm_drift_result r;
    double *a = seq(60, 7919, 1000, 100.0, 0),
           *b = seq(45, 104729, 1000, 100.0, 2.0),
           *c = seq(40, 7919, 997, 100.0, 0),
           *d = seq(40, 6007, 991, 100.0, 4.0), *t1 = seq(80, 7, 10, 1.0, 0),
           *t2 = seq(50, 13, 100, 10.0, 0);
    size_t i;

    (void)state;
    /* exact, unequal sizes (scipy: method "exact" below 10000 values) */
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_KS, AIPM_NUMERICAL, a, 60, b,
                                        45, NAN, &r),
                     0);
    close_to(r.statistic, 0.22777777777777777, 1e-12);
    close_to(r.score, 0.121489833704199, 1e-9);
    assert_false(r.drifted);
    /* equal sizes */
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_KS, AIPM_NUMERICAL, c, 40, d,
                                        40, NAN, &r),
                     0);
    close_to(r.statistic, 0.375, 1e-12);
    close_to(r.score, 0.006760732303569208, 1e-9);
    assert_true(r.drifted);
    /* ties: whole numbers 0..9 in both */
    for (i = 0; i < 50; i++)
        t2[i] = fmod(floor(t2[i] * 1.3), 10.0);
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_KS, AIPM_NUMERICAL, t1, 80,
                                        t2, 50, NAN, &r),
                     0);
    close_to(r.statistic, 0.18, 1e-12);
    close_to(r.score, 0.2405110598169215, 1e-9);
    free(a);
    free(b);
    free(c);
    free(d);
    free(t1);
    free(t2);
}

static void test_ks_large(void **state)
{
    aipm_drift_result r;
    double *e = seq(12000, 7919, 10007, 1000.0, 0),
           *f = seq(15000, 6007, 10009, 1000.0, 0.12);

    (void)state;
    /* the Kolmogorov distribution: scipy.stats.kstwobign.sf */
    close_to(aipm_kolmogorov_q(0.5), 0.9639452436648751, 1e-12);
    close_to(aipm_kolmogorov_q(1.0), 0.26999967167735456, 1e-12);
    close_to(aipm_kolmogorov_q(1.5), 0.022217962616525127, 1e-12);
    /* over 10000 values: scipy's kstwo.sf(D, round(en)) is the reference,
     * ours the limit with Stephens' correction (documented: ~1e-3) */
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_KS, AIPM_NUMERICAL, e, 12000,
                                        f, 15000, NAN, &r),
                     0);
    close_to(r.statistic, 0.012299999999999978, 1e-9);
    close_to(r.score, 0.2632498783020668, 5e-3);
    free(e);
    free(f);
}

static void test_wasserstein(void **state)
{
    aipm_drift_result r;
    double *a = seq(60, 7919, 1000, 100.0, 0),
           *b = seq(45, 104729, 1000, 100.0, 2.0);

    (void)state;
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_WASSERSTEIN, AIPM_NUMERICAL,
                                        a, 60, b, 45, NAN, &r),
                     0);
    close_to(r.score, 0.6608429400488253, 1e-12); /* W / np.std(a) */
    assert_true(r.drifted);
    /* the raw distance, on sorted copies: scipy.stats.wasserstein_distance */
    qsort(a, 60, sizeof(*a), by_value);
    qsort(b, 45, sizeof(*b), by_value);
    close_to(aipm_drift_wasserstein_sorted(a, 60, b, 45), 1.886111111111111,
             1e-12);
    /* a categorical feature has no distance */
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_WASSERSTEIN,
                                        AIPM_CATEGORICAL, a, 60, b, 45, NAN,
                                        &r),
                     AIPM_EINVALID);
    free(a);
    free(b);
}

static void test_chisquare_z(void **state)
{
    static const int ref_counts[] = {30, 50, 20, 7},
                     cur_counts[] = {20, 45, 35, 3};
    static const int rb_counts[] = {70, 30}, cb_counts[] = {50, 50};
    aipm_drift_result r;
    size_t nr, nc, nrb, ncb;
    double *ref = repeat(ref_counts, 4, &nr), *cur = repeat(cur_counts, 4, &nc),
           *rb = repeat(rb_counts, 2, &nrb), *cb = repeat(cb_counts, 2, &ncb);

    (void)state;
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_CHISQUARE, AIPM_CATEGORICAL,
                                        ref, nr, cur, nc, NAN, &r),
                     0);
    close_to(r.statistic, 17.888233934350435, 1e-12);
    assert_true(r.df == 3);
    close_to(r.score, 0.00046382227938649687, 1e-9);
    assert_true(r.drifted);
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_Z, AIPM_CATEGORICAL, rb, nrb,
                                        cb, ncb, NAN, &r),
                     0);
    /* Evidently's z counts the values other than the smallest: the sign
     * of drift_ref.py's z (which counts the ones) is the same here */
    close_to(r.statistic, -2.886751345948129, 1e-12);
    close_to(r.score, 0.0038924171227785465, 1e-9);
    /* one value, the same in both: no drift, p 1 */
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_Z, AIPM_CATEGORICAL, rb, 70,
                                        cb, 50, NAN, &r),
                     0);
    assert_true(r.score == 1.0);
    assert_false(r.drifted);
    free(ref);
    free(cur);
    free(rb);
    free(cb);
}

static void test_shares(void **state)
{
    static const int ref_counts[] = {30, 50, 20, 7},
                     cur_counts[] = {20, 45, 35, 3};
    static const int r2_counts[] = {30, 70}, c2_counts[] = {25, 70, 5};
    aipm_drift_result r;
    double *g = seq(1500, 7919, 1009, 10.0, 0), *h = malloc(1000 * sizeof(*h)),
           *h1 = seq(700, 6007, 503, 10.0, 0),
           *h2 = seq(300, 101, 97, 10.0, 60);
    size_t nr, nc, n2r, n2c, i;
    double *ref = repeat(ref_counts, 4, &nr), *cur = repeat(cur_counts, 4, &nc),
           *r2 = repeat(r2_counts, 2, &n2r), *c2 = repeat(c2_counts, 3, &n2c);

    (void)state;
    assert_non_null(h);
    for (i = 0; i < 700; i++)
        h[i] = h1[i];
    for (i = 0; i < 300; i++)
        h[700 + i] = h2[i];
    /* 13 Sturges bins over both; the current sample leaves some empty */
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_JENSENSHANNON,
                                        AIPM_NUMERICAL, g, 1500, h, 1000, NAN,
                                        &r),
                     0);
    close_to(r.score, 0.36919242700247046, 1e-12);
    assert_true(r.drifted);
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_PSI, AIPM_NUMERICAL, g, 1500,
                                        h, 1000, NAN, &r),
                     0);
    close_to(r.score, 2.2926490646024797, 1e-12);
    /* shares of categories */
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_JENSENSHANNON,
                                        AIPM_CATEGORICAL, ref, nr, cur, nc, NAN,
                                        &r),
                     0);
    close_to(r.score, 0.13791996794715974, 1e-12);
    assert_true(r.drifted);
    /* a category only the current sample has: PSI fills the empty share */
    assert_int_equal(aipm_drift_compare(AIPM_DRIFT_PSI, AIPM_CATEGORICAL, r2,
                                        n2r, c2, n2c, NAN, &r),
                     0);
    close_to(r.score, 0.319225021950965, 1e-12);
    free(g);
    free(h);
    free(h1);
    free(h2);
    free(ref);
    free(cur);
    free(r2);
    free(c2);
}

/* Negative values, zeros and over 4096 values (the radix sort), three
 * tests on one sorting. */
static void test_many(void **state)
{
    static const aipm_drift_test t[3] = {AIPM_DRIFT_KS, AIPM_DRIFT_WASSERSTEIN,
                                         AIPM_DRIFT_PSI};
    aipm_drift_result r[3];
    double *e = seq(6000, 7919, 10007, 100.0, -50.0),
           *f = seq(5000, 6007, 10009, 100.0, -45.0);

    (void)state;
    assert_int_equal(
        aipm_drift_compare_many(t, 3, AIPM_NUMERICAL, e, 6000, f, 5000, r), 0);
    close_to(r[0].statistic, 0.05026666666666667, 1e-12);
    close_to(r[0].score, 1.9873832889601713e-06, 1e-6);
    assert_true(r[0].drifted);
    close_to(r[1].score, 0.17202114205973618, 1e-12);
    assert_true(r[1].drifted);
    close_to(r[2].score, 0.1235906959877652, 1e-12);
    assert_true(r[2].drifted && r[2].threshold == 0.1);
    free(e);
    free(f);
}

/* Evidently's registry (_get_default_stattest), case by case. */
static void test_default_choice(void **state)
{
    aipm_drift_result r;
    double *g = seq(1500, 7919, 1009, 10.0, 0),
           *h = seq(1200, 6007, 1013, 10.0, 0.3), nan3[3] = {NAN, 1, 2};

    (void)state;
    assert_int_equal(aipm_drift_default_test(1000, 6, AIPM_NUMERICAL),
                     AIPM_DRIFT_KS);
    assert_int_equal(aipm_drift_default_test(1000, 5, AIPM_NUMERICAL),
                     AIPM_DRIFT_CHISQUARE);
    assert_int_equal(aipm_drift_default_test(1000, 2, AIPM_NUMERICAL),
                     AIPM_DRIFT_Z);
    assert_int_equal(aipm_drift_default_test(1000, 40, AIPM_CATEGORICAL),
                     AIPM_DRIFT_CHISQUARE);
    assert_int_equal(aipm_drift_default_test(1001, 6, AIPM_NUMERICAL),
                     AIPM_DRIFT_WASSERSTEIN);
    assert_int_equal(aipm_drift_default_test(1001, 5, AIPM_NUMERICAL),
                     AIPM_DRIFT_JENSENSHANNON);
    assert_int_equal(aipm_drift_default_test(5000, 3, AIPM_CATEGORICAL),
                     AIPM_DRIFT_JENSENSHANNON);
    /* auto: 1500 reference values, numerical: Wasserstein */
    assert_int_equal(aipm_drift_auto(AIPM_NUMERICAL, g, 1500, h, 1200, &r), 0);
    assert_int_equal(r.test, AIPM_DRIFT_WASSERSTEIN);
    assert_true(r.n_ref == 1500 && r.n_cur == 1200);
    /* infinities are dropped as NaNs are: the same as without them */
    {
        static const double inf_ref[5] = {1, 2, INFINITY, 3, -INFINITY},
                            fin_ref[3] = {1, 2, 3}, cur[4] = {2, 3, 4, 5};
        static const aipm_drift_test all[4] = {
            AIPM_DRIFT_KS, AIPM_DRIFT_WASSERSTEIN, AIPM_DRIFT_PSI,
            AIPM_DRIFT_JENSENSHANNON};
        aipm_drift_result a[4], b[4];
        int k;

        assert_int_equal(aipm_drift_compare_many(all, 4, AIPM_NUMERICAL,
                                                 inf_ref, 5, cur, 4, a),
                         0);
        assert_int_equal(aipm_drift_compare_many(all, 4, AIPM_NUMERICAL,
                                                 fin_ref, 3, cur, 4, b),
                         0);
        for (k = 0; k < 4; k++) {
            assert_true(isfinite(a[k].score));
            assert_true(a[k].score == b[k].score);
        }
        assert_true(a[0].n_ref == 3);
    }
    /* NaNs are dropped; an empty sample is refused */
    assert_int_equal(aipm_drift_auto(AIPM_NUMERICAL, nan3, 3, nan3, 1, &r),
                     AIPM_EINVALID);
    assert_int_equal(aipm_drift_auto(AIPM_NUMERICAL, nan3, 3, nan3 + 1, 2, &r),
                     0);
    assert_true(r.n_ref == 2 && r.n_unique == 2);
    free(g);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ks),
        cmocka_unit_test(test_ks_large),
        cmocka_unit_test(test_wasserstein),
        cmocka_unit_test(test_chisquare_z),
        cmocka_unit_test(test_shares),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_default_choice),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
