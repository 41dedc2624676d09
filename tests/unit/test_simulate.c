/* test_simulate.c - the simulator's random numbers, summaries and threads
 * (aipm/simulate.h) against published answers, closed forms and numpy.
 *
 * Every constant is printed by tests/unit/simulate_ref.py (Debian 12's
 * python3-scipy 1.10.1 and python3-numpy 1.24.2), which says how it is
 * computed: Philox4x32-10 again in Python, checked against Random123's
 * known answers, for the stream layout; scipy's distributions for the
 * moments, quantiles and CVaR and their standard errors; numpy.quantile
 * for type 7 quantiles; numpy.histogram for histograms; GSL's gamma CDF
 * for a Kolmogorov-Smirnov test. Monte Carlo checks use n = 1e6 draws of
 * a fixed seed and allow 5 standard errors (p < 6e-7 each; the KS
 * distances, the 0.001 level): a real bug fails them, chance does not.
 * test_timing prints the ns per number of the build it runs in (thread
 * CPU time; not asserted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_cdf.h>

#include "aipm/simulate.h"

#define N 1000000
#define SEED 0x0123456789ABCDEFull

static void close_to(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.17g, want %.17g (tolerance %g)", what, got, want,
                 tol);
}

/* Within 5 standard errors. */
static void within(double got, double want, double se, const char *what)
{
    if (!(fabs(got - want) <= 5 * se))
        fail_msg("%s: got %.10g, want %.10g, %.2f standard errors off", what,
                 got, want, (got - want) / se);
}

static double *array(size_t n)
{
    double *x = malloc(n * sizeof(*x));

    assert_non_null(x);
    return x;
}

static double thread_seconds(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct moments {
    double mean, var, skew, kurt; /* var and the rest: biased, m_k / n */
} moments;

static moments moments_of(const double *x, size_t n)
{
    moments m;
    double s = 0, m2 = 0, m3 = 0, m4 = 0;
    size_t i;

    for (i = 0; i < n; i++)
        s += x[i];
    m.mean = s / (double)n;
    for (i = 0; i < n; i++) {
        double d = x[i] - m.mean, d2 = d * d;

        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    m2 /= (double)n;
    m3 /= (double)n;
    m4 /= (double)n;
    m.var = m2;
    m.skew = m3 / pow(m2, 1.5);
    m.kurt = m4 / (m2 * m2);
    return m;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* sqrt(n) times the Kolmogorov-Smirnov distance of x (sorted here) from
 * the CDF cdf(x, a); above 1.9494746035043753 with probability 0.001
 * (simulate_ref.py: scipy's kstwobign.isf(0.001)). */
static double ks_sqrt_n(double *x, size_t n, double (*cdf)(double, double),
                        double a)
{
    double d = 0;
    size_t i;

    qsort(x, n, sizeof(*x), cmp_double);
    for (i = 0; i < n; i++) {
        double F = cdf(x[i], a);

        d = fmax(d, fmax((double)(i + 1) / (double)n - F, F - (double)i / n));
    }
    return sqrt((double)n) * d;
}

static double normal_cdf(double x, double unused)
{
    (void)unused;
    return 0.5 * erfc(-x / sqrt(2.0));
}

static double gamma_cdf(double x, double shape)
{
    return gsl_cdf_gamma_P(x, shape, 1.0); /* GSL, not this code */
}

/* ---- the generator ---- */

static void test_philox_kat(void **state)
{
    /* Random123 (github.com/DEShawResearch/random123), tests/kat_vectors,
     * the three "philox4x32 10" lines: counter, key, expected output;
     * Salmon et al. (SC 2011) name them as the generator's known answers */
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
         0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
         0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}};
    int i;

    (void)state;
    for (i = 0; i < 3; i++) {
        uint32_t out[4];

        aipm_sim_philox4x32(out, kat[i], kat[i] + 4);
        assert_memory_equal(out, kat[i] + 6, sizeof(out));
    }
}

static void test_stream_layout(void **state)
{
    /* simulate_ref.py, "stream seed 0x123456789abcdef id 7": its own
     * Philox and the layout of simulate.h; the normals are the ziggurat's
     * first tries (all accepted at once) with its tables rebuilt there */
    static const uint64_t draw[6] = {0, 1, 2, 3, 1000001, (1ull << 40) + 5};
    static const double uniform[6] = {
        0.0007560482509497701, 0.8597784977475279, 0.06979681312185149,
        0.6395185062210568,    0.325461082826327,  0.025223674109622007};
    static const double normal[6] = {0.001181367328238674, 0.5168168252433525,
                                     -0.12612106786844704, -0.8229315597239704,
                                     0.49089347075439344,  0.04294700938924599};
    double *a = array(1000), *b = array(1000), u, z;
    int i;

    (void)state;
    for (i = 0; i < 6; i++) {
        assert_int_equal(aipm_sim_uniforms(&u, 1, SEED, 7, draw[i], NULL), 0);
        assert_true(u == uniform[i]); /* exact: integer to double */
        assert_int_equal(aipm_sim_normals(&z, 1, SEED, 7, draw[i], NULL), 0);
        close_to(z, normal[i], 1e-15, "normal of a fixed draw");
    }
    /* draw k is the same from any start, any batch split, odd or even */
    assert_int_equal(aipm_sim_normals(a, 1000, SEED, 7, 0, NULL), 0);
    assert_int_equal(aipm_sim_normals(b, 555, SEED, 7, 333, NULL), 0);
    assert_memory_equal(a + 333, b, 555 * sizeof(double));
    for (i = 0; i < 1000; i += 37) {
        assert_int_equal(aipm_sim_normals(&z, 1, SEED, 7, (uint64_t)i, NULL),
                         0);
        assert_true(z == a[i]);
    }
    assert_int_equal(aipm_sim_uniforms(a, 1000, SEED, 7, 0, NULL), 0);
    assert_int_equal(aipm_sim_uniforms(b, 999, SEED, 7, 1, NULL), 0);
    assert_memory_equal(a + 1, b, 999 * sizeof(double));
    /* another stream, another seed: other numbers */
    assert_int_equal(aipm_sim_uniforms(b, 1000, SEED, 8, 0, NULL), 0);
    assert_true(a[0] != b[0] && a[1] != b[1]);
    assert_int_equal(aipm_sim_uniforms(b, 1000, SEED + 1, 7, 0, NULL), 0);
    assert_true(a[0] != b[0] && a[1] != b[1]);
    free(a);
    free(b);
}

static void test_substreams(void **state)
{
    aipm_sim_rng r, copy;
    double g[300], x[5], y[5];
    int i;

    (void)state;
    /* a copy repeats; another draw's sub-stream differs */
    aipm_sim_rng_init(&r, SEED, 3, 41);
    aipm_sim_rng_u64(&r);
    copy = r;
    for (i = 0; i < 5; i++)
        x[i] = aipm_sim_rng_normal(&r);
    for (i = 0; i < 5; i++)
        y[i] = aipm_sim_rng_normal(&copy);
    assert_memory_equal(x, y, sizeof(x));
    aipm_sim_rng_init(&r, SEED, 3, 42);
    aipm_sim_rng_u64(&r);
    assert_true(aipm_sim_rng_normal(&r) != x[0]);
    /* bulk gammas are each draw's sub-stream's gamma, whatever the start */
    assert_int_equal(aipm_sim_gammas(g, 300, 0.7, 2.0, SEED, 9, 1000, NULL), 0);
    for (i = 0; i < 300; i += 13) {
        aipm_sim_rng_init(&r, SEED, 9, 1000 + (uint64_t)i);
        assert_true(g[i] == 2.0 * aipm_sim_rng_gamma(&r, 0.7));
    }
    assert_int_equal(aipm_sim_inv_gammas(g, 300, 0.7, 2.0, SEED, 9, 1000, NULL),
                     0);
    aipm_sim_rng_init(&r, SEED, 9, 1000 + 299);
    assert_true(g[299] == 2.0 / aipm_sim_rng_gamma(&r, 0.7));
}

static void test_uniform_moments(void **state)
{
    double *u = array(N);
    moments m;
    size_t i;

    (void)state;
    assert_int_equal(aipm_sim_uniforms(u, N, SEED, 1, 0, NULL), 0);
    for (i = 0; i < N; i++)
        assert_true(u[i] > 0 && u[i] < 1);
    m = moments_of(u, N);
    /* simulate_ref.py "uniform: se mean ... var ..." */
    within(m.mean, 0.5, 0.00028867513459481284, "uniform mean");
    within(m.var, 1.0 / 12, 7.4535599249993e-05, "uniform variance");
    free(u);
}

static void test_normal_moments(void **state)
{
    double *z = array(N), d, beyond_r[2] = {0, 0}, beyond4 = 0;
    moments m;
    aipm_sim_rng r;
    size_t i;

    (void)state;
    assert_int_equal(aipm_sim_normals(z, N, SEED, 2, 0, NULL), 0);
    m = moments_of(z, N);
    /* simulate_ref.py "normal: se mean 0.001 var ... skew ... kurt ..." */
    within(m.mean, 0, 0.001, "normal mean");
    within(m.var, 1, 0.001414213562373095, "normal variance");
    within(m.skew, 0, 0.0024494897427831783, "normal skewness");
    within(m.kurt, 3, 0.004898979485566357, "normal kurtosis");
    /* the ziggurat's tail beyond r on each side, and beyond 4: binomial
     * counts ("P(Z > r) 0.00012901624382695  P(|Z| > 4) 6.33e-05") */
    for (i = 0; i < N; i++) {
        beyond_r[z[i] < 0] += fabs(z[i]) > 3.6541528853610092;
        beyond4 += fabs(z[i]) > 4;
    }
    within(beyond_r[0], N * 0.00012901624382695, sqrt(N * 0.00012901624382695),
           "draws above r");
    within(beyond_r[1], N * 0.00012901624382695, sqrt(N * 0.00012901624382695),
           "draws below -r");
    within(beyond4, N * 6.334248366623973e-05, sqrt(N * 6.334248366623973e-05),
           "draws beyond 4");
    d = ks_sqrt_n(z, N, normal_cdf, 0);
    if (!(d < 1.9494746035043753))
        fail_msg("normals: KS sqrt(n) D = %g", d);
    /* the sub-stream's normals (one per draw): the same distribution */
    for (i = 0; i < N; i++) {
        aipm_sim_rng_init(&r, SEED, 3, i);
        z[i] = aipm_sim_rng_normal(&r);
    }
    m = moments_of(z, N);
    within(m.mean, 0, 0.001, "sub-stream normal mean");
    within(m.var, 1, 0.001414213562373095, "sub-stream normal variance");
    within(m.kurt, 3, 0.004898979485566357, "sub-stream normal kurtosis");
    free(z);
}

static void test_normal_tail(void **state)
{
    /* 1e7 normals' draws beyond r = 3.654 (the ziggurat's tail sampler):
     * simulate_ref.py "beyond r: E[Z | Z > r] 3.897... sd 0.2312..." */
    double *z = array(N), sum = 0, count = 0;
    int chunk;
    size_t i;

    (void)state;
    for (chunk = 0; chunk < 10; chunk++) {
        assert_int_equal(
            aipm_sim_normals(z, N, SEED, 50, (uint64_t)chunk * N, NULL), 0);
        for (i = 0; i < N; i++)
            if (fabs(z[i]) > 3.6541528853610092) {
                sum += fabs(z[i]);
                count++;
            }
    }
    within(count, 1e7 * 2 * 0.00012901624382695,
           sqrt(1e7 * 2 * 0.00012901624382695), "draws beyond r");
    within(sum / count, 3.897039071648481, 0.23122076479856232 / sqrt(count),
           "mean beyond r");
    free(z);
}

static void test_gamma_moments(void **state)
{
    /* simulate_ref.py "gamma(a): mean var skew; se mean var skew" (the
     * skewness's se by the delta method, checked there by resampling) */
    static const double ref[2][7] = {
        {0.5, 0.5, 2.82842712474619, 0.0007071067811865475,
         0.0018708286933869706, 0.01407124732278332, 0},
        {3.7, 3.7, 1.0397504898200727, 0.0019235384061671342,
         0.007041306696913577, 0.0042333331772186795, 0}};
    double *g = array(N), ks;
    moments m;
    int k;

    (void)state;
    for (k = 0; k < 2; k++) {
        assert_int_equal(
            aipm_sim_gammas(g, N, ref[k][0], 1.0, SEED, 4, 0, NULL), 0);
        m = moments_of(g, N);
        within(m.mean, ref[k][0], ref[k][3], "gamma mean");
        within(m.var, ref[k][1], ref[k][4], "gamma variance");
        within(m.skew, ref[k][2], ref[k][5], "gamma skewness");
        ks = ks_sqrt_n(g, N, gamma_cdf, ref[k][0]);
        if (!(ks < 1.9494746035043753))
            fail_msg("gamma(%g): KS sqrt(n) D = %g", ref[k][0], ks);
    }
    /* "invgamma(5, scale 2): mean 0.5 var 0.0833...; se mean, var" */
    assert_int_equal(aipm_sim_inv_gammas(g, N, 5.0, 2.0, SEED, 5, 0, NULL), 0);
    m = moments_of(g, N);
    within(m.mean, 0.5, 0.00028867513459481284, "inverse gamma mean");
    within(m.var, 0.08333333333333333, 0.0005527707983925666,
           "inverse gamma variance");
    free(g);
}

/* ---- summaries ---- */

static void test_quantiles_numpy(void **state)
{
    /* simulate_ref.py "quantiles": numpy.quantile, default method */
    static const double x0[9] = {3.5, -1.25, 7.0,   0.0, 2.5,
                                 2.5, 10.0,  -4.75, 1.0};
    static const double probs[8] = {0.25, 0.0, 0.1,  1.0 / 3,
                                    0.5,  0.9, 0.95, 1.0};
    static const double want[8] = {0.0,
                                   -4.75,
                                   -1.9499999999999997,
                                   0.6666666666666665,
                                   2.5,
                                   7.6000000000000005,
                                   8.799999999999999,
                                   10.0};
    double x[9], q[8], one = 4.25, two[2] = {1.0, -2.0}, p = 0.3;
    int i;

    (void)state;
    memcpy(x, x0, sizeof(x));
    assert_int_equal(aipm_sim_quantiles(q, x, 9, probs, 8, NULL), 0);
    for (i = 0; i < 8; i++)
        close_to(q[i], want[i], 1e-15, "type 7 quantile");
    /* "quantiles n=1 4.25 n=2 -1.1" */
    assert_int_equal(aipm_sim_quantiles(q, &one, 1, &p, 1, NULL), 0);
    close_to(q[0], 4.25, 0, "quantile of one draw");
    assert_int_equal(aipm_sim_quantiles(q, two, 2, &p, 1, NULL), 0);
    close_to(q[0], -1.1, 1e-15, "quantile of two draws");
}

/* simulate_ref.py "histogram set 1" and "set 2": numpy.histogram(x,
 * bins, (lo, hi)) over the finite draws, below and above counted as x <
 * lo and x > hi. */
static void test_histogram_numpy(void **state)
{
    /* set 1: 0.3, 0.6 and 0.7 sit just below numpy's edges (3 * 0.1 is
     * 0.30000000000000004), where (x - lo) / width says the bin above;
     * 0.30000000000000004 is on an edge (the bin above it), 1.0 on the
     * last (closed), -0.0 on the first */
    static const double x1[16] = {0.0,      0.1,
                                  0.3,      0.6,
                                  0.7,      0.9999999999999999,
                                  1.0,      -0.0,
                                  -1e-300,  1.0000000000000002,
                                  0.55,     0.05,
                                  INFINITY, -INFINITY,
                                  0.2,      0.30000000000000004};
    static const size_t want1[10] = {3, 1, 2, 1, 0, 2, 1, 0, 0, 2};
    /* set 2: 40 rounded normals (numpy default_rng(17), mean 0.6, sd
     * 1.6), then numpy's 8 edges of [-2.2, 3.7] themselves */
    static const double normals[40] = {
        2.362, 1.141, -0.264, -1.416, -2.431, 0.63,  -0.697, -0.795,
        0.245, 0.517, -3.043, 2.08,   -2.643, 3.575, 1.545,  -0.155,
        2.749, 0.633, 1.705,  0.772,  2.354,  2.298, -0.852, -0.38,
        1.149, 0.264, -3.056, 3.842,  -2.88,  -2.73, -1.442, 1.504,
        3.474, 0.223, -0.026, 0.878,  0.013,  0.732, -1.224, 1.301};
    static const double edges[8] = {-2.2,
                                    -1.3571428571428572,
                                    -0.5142857142857145,
                                    0.3285714285714283,
                                    1.1714285714285713,
                                    2.0142857142857142,
                                    2.8571428571428568,
                                    3.7};
    static const size_t want2[7] = {3, 5, 9, 9, 5, 6, 4};
    double x2[48];
    size_t counts[10], below = 99, above = 99, i;

    (void)state;
    memcpy(x2, normals, sizeof(normals));
    memcpy(x2 + 40, edges, sizeof(edges));
    assert_int_equal(
        aipm_sim_histogram(counts, 10, &below, &above, x1, 16, 0, 1, NULL), 0);
    for (i = 0; i < 10; i++)
        assert_int_equal(counts[i], want1[i]);
    assert_int_equal(below, 2); /* -1e-300, -inf */
    assert_int_equal(above, 2); /* 1.0000000000000002, inf */
    assert_int_equal(
        aipm_sim_histogram(counts, 7, &below, &above, x2, 48, -2.2, 3.7, NULL),
        0);
    for (i = 0; i < 7; i++)
        assert_int_equal(counts[i], want2[i]);
    assert_int_equal(below, 6);
    assert_int_equal(above, 1);
    /* the last bin is closed, the others are not: hi itself is in the
     * last bin, and one bin over [lo, hi] holds both ends */
    {
        static const double ends[3] = {-1.0, 0.0, 1.0};

        assert_int_equal(
            aipm_sim_histogram(counts, 2, &below, &above, ends, 3, -1, 1, NULL),
            0);
        assert_int_equal(counts[0], 1); /* [-1, 0) */
        assert_int_equal(counts[1], 2); /* [0, 1] */
        assert_int_equal(
            aipm_sim_histogram(counts, 1, &below, &above, ends, 3, -1, 1, NULL),
            0);
        assert_int_equal(counts[0], 3);
        assert_int_equal(below + above, 0);
    }
    /* no draws: all zero */
    assert_int_equal(
        aipm_sim_histogram(counts, 10, &below, &above, NULL, 0, 0, 1, NULL), 0);
    for (i = 0; i < 10; i++)
        assert_int_equal(counts[i], 0);
    assert_int_equal(below + above, 0);
}

static void test_histogram_errors(void **state)
{
    double x[4] = {0.5, 0.25, NAN, 0.75};
    size_t counts[4] = {7, 7, 7, 7}, below = 7, above = 7, i;
    aipm_error err = {0};

    (void)state;
    /* NaN has no bin: an error naming it, and nothing counted */
    assert_int_equal(
        aipm_sim_histogram(counts, 4, &below, &above, x, 4, 0, 1, &err),
        AIPM_EINVALID);
    assert_string_equal(err.msg, "draw 2 is nan: it has no bin");
    for (i = 0; i < 4; i++)
        assert_int_equal(counts[i], 7);
    assert_int_equal(below + above, 14);
    x[2] = 0.125;
    aipm_error_clear(&err);
    assert_int_equal(
        aipm_sim_histogram(counts, 0, &below, &above, x, 4, 0, 1, &err),
        AIPM_EINVALID);
    assert_string_equal(err.msg, "a histogram needs at least one bin");
    aipm_error_clear(&err);
    assert_int_equal(
        aipm_sim_histogram(counts, 4, &below, &above, x, 4, 1, 1, &err),
        AIPM_EINVALID);
    assert_string_equal(err.msg,
                        "histogram range [1, 1] is not finite with lo < hi");
    assert_int_equal(
        aipm_sim_histogram(counts, 4, &below, &above, x, 4, 2, 1, NULL),
        AIPM_EINVALID);
    assert_int_equal(
        aipm_sim_histogram(counts, 4, &below, &above, x, 4, NAN, 1, NULL),
        AIPM_EINVALID);
    assert_int_equal(
        aipm_sim_histogram(counts, 4, &below, &above, x, 4, 0, INFINITY, NULL),
        AIPM_EINVALID);
    assert_int_equal(aipm_sim_histogram(counts, 4, &below, &above, x, 4,
                                        -DBL_MAX, DBL_MAX, NULL),
                     AIPM_EINVALID);
    assert_int_equal(
        aipm_sim_histogram(counts, 4, &below, &above, NULL, 4, 0, 1, NULL),
        AIPM_EINVALID);
    assert_int_equal(
        aipm_sim_histogram(NULL, 4, &below, &above, x, 4, 0, 1, NULL),
        AIPM_EINVALID);
    /* the failures counted nothing; the fixed draws count */
    for (i = 0; i < 4; i++)
        assert_int_equal(counts[i], 7);
    assert_int_equal(
        aipm_sim_histogram(counts, 4, &below, &above, x, 4, 0, 1, NULL), 0);
    for (i = 0; i < 4; i++) /* 0.125 0.25 0.5 0.75: one a bin, by hand */
        assert_int_equal(counts[i], 1);
}

/* Type 7 by the book on a sorted copy: the selection's reference. */
static double sorted_q7(const double *sorted, size_t n, double p)
{
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);

    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

static void test_selection_vs_sort(void **state)
{
    static const size_t sizes[] = {1, 2, 3, 17, 100, 1001, 50000, 262144};
    static const double probs[] = {0.9, 0.1, 0.5, 0.0, 1.0, 0.37, 0.999};
    double *x = array(262144), *sorted = array(262144), *copy = array(262144),
           q[7];
    aipm_sim_summary s;
    size_t t, i, j;
    int shape;

    (void)state;
    for (t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++)
        for (shape = 0; shape < 5; shape++) {
            size_t n = sizes[t], k;
            /* summary.c's sample stride: n / clamp(n / 256, 4096, 65536) */
            size_t stride = n / (n / 256 < 4096 ? 4096 : n / 256);
            double sum = 0;

            assert_int_equal(
                aipm_sim_uniforms(x, n, SEED, 20 + (uint32_t)t, 0, NULL), 0);
            for (i = 0; i < n; i++)
                if (shape == 1) /* heavy ties: 5 values */
                    x[i] = floor(x[i] * 5);
                else if (shape == 2) /* sorted, descending */
                    x[i] = (double)(n - i);
                else if (shape == 3) /* the strided sample sees only the
                                        negatives: ranks miss brackets */
                    x[i] = stride && i % stride == 0 ? -(double)i : (double)i;
                else if (shape == 4) /* the rest is one value, inside a
                                        bracket the sample thinks thin */
                    x[i] = stride && i % stride == 0 ? (double)i : n / 2 + 0.5;
            memcpy(sorted, x, n * sizeof(*x));
            memcpy(copy, x, n * sizeof(*x));
            qsort(sorted, n, sizeof(*x), cmp_double);
            assert_int_equal(aipm_sim_quantiles(q, x, n, probs, 7, NULL), 0);
            assert_memory_equal(x, copy, n * sizeof(*x)); /* unchanged */
            for (j = 0; j < 7; j++)
                close_to(q[j], sorted_q7(sorted, n, probs[j]),
                         1e-12 * (1 + fabs(q[j])), "selection quantile");
            /* CVaR: the mean of the k lowest */
            assert_int_equal(aipm_sim_summarize(&s, x, n, 0.05, NULL), 0);
            k = (size_t)ceil(0.05 * (double)n * (1 - 1e-12));
            k = k < 1 ? 1 : k;
            for (i = 0; i < k; i++)
                sum += sorted[i];
            close_to(s.cvar, sum / (double)k, 1e-12 * (1 + fabs(s.cvar)),
                     "selection CVaR");
            close_to(s.p10, sorted_q7(sorted, n, 0.1),
                     1e-12 * (1 + fabs(s.p10)), "p10");
            close_to(s.p50, sorted_q7(sorted, n, 0.5),
                     1e-12 * (1 + fabs(s.p50)), "p50");
            close_to(s.p90, sorted_q7(sorted, n, 0.9),
                     1e-12 * (1 + fabs(s.p90)), "p90");
        }
    free(x);
    free(sorted);
    free(copy);
}

static void test_cvar_small(void **state)
{
    /* simulate_ref.py "cvar alpha a n n: k mean" (numpy: sort, mean) */
    static const double x0[9] = {3.5, -1.25, 7.0,   0.0, 2.5,
                                 2.5, 10.0,  -4.75, 1.0};
    double x[30], c;
    int i;

    (void)state;
    memcpy(x, x0, sizeof(x0));
    assert_int_equal(aipm_sim_cvar(&c, x, 9, 0.25, NULL), 0);
    close_to(c, -2.0, 1e-15, "CVaR 0.25 of 9");
    memcpy(x, x0, sizeof(x0));
    assert_int_equal(aipm_sim_cvar(&c, x, 9, 0.3, NULL), 0);
    close_to(c, -2.0, 1e-15, "CVaR 0.3 of 9");
    memcpy(x, x0, sizeof(x0));
    assert_int_equal(aipm_sim_cvar(&c, x, 9, 1.0, NULL), 0);
    close_to(c, 2.2777777777777777, 1e-15, "CVaR 1 of 9 (the mean)");
    /* 0.1 * 30 is 3.0000000000000004 in doubles: 3 draws, not 4 */
    for (i = 0; i < 30; i++)
        x[i] = 29 - i;
    assert_int_equal(aipm_sim_cvar(&c, x, 30, 0.1, NULL), 0);
    close_to(c, 1.0, 1e-15, "CVaR 0.1 of 30");
}

static void test_summary_known(void **state)
{
    double *x = array(N);
    aipm_sim_summary s;

    (void)state;
    /* N(0,1): simulate_ref.py "normal CVaR_0.05 closed form -phi(z)/alpha
     * ..., se ..." and "normal q0.1 ... se ..." */
    assert_int_equal(aipm_sim_normals(x, N, SEED, 10, 0, NULL), 0);
    assert_int_equal(aipm_sim_summarize(&s, x, N, 0.05, NULL), 0);
    assert_int_equal(s.n, N);
    within(s.mean, 0, 0.001, "normal summary mean");
    within(s.cvar, -2.0627128075074253, 0.0024655729418081537,
           "normal CVaR 5%");
    within(s.p10, -1.2815515655446004, 0.001709417956835101, "normal P10");
    within(s.p50, 0, 0.0012533141373155003, "normal P50");
    within(s.p90, 1.2815515655446004, 0.0017094179568351007, "normal P90");
    /* U(0,1): "uniform CVaR_0.05 0.025 (alpha / 2), se ..." */
    assert_int_equal(aipm_sim_uniforms(x, N, SEED, 11, 0, NULL), 0);
    assert_int_equal(aipm_sim_summarize(&s, x, N, 0.05, NULL), 0);
    within(s.cvar, 0.025, 0.0001266557012797555, "uniform CVaR 5%");
    within(s.p10, 0.1, 0.0003, "uniform P10");
    within(s.p50, 0.5, 0.0005, "uniform P50");
    within(s.p90, 0.9, 0.0003, "uniform P90");
    free(x);
}

static void test_prob_loss(void **state)
{
    double *z1 = array(N), *z2 = array(N), *x = array(N), *b = array(N), pl,
           beats[9];
    const double *three[3];
    size_t i;

    (void)state;
    /* X = 0.1 + Z1, B = 1.5 (0.6 Z1 + 0.8 Z2): corr 0.6, and X - B ~
     * N(0.1, 1.45); simulate_ref.py "P(X < B) 0.4669... se ..." */
    assert_int_equal(aipm_sim_normals(z1, N, SEED, 12, 0, NULL), 0);
    assert_int_equal(aipm_sim_normals(z2, N, SEED, 13, 0, NULL), 0);
    for (i = 0; i < N; i++) {
        x[i] = 0.1 + z1[i];
        b[i] = 1.5 * (0.6 * z1[i] + 0.8 * z2[i]);
    }
    assert_int_equal(aipm_sim_prob_loss(&pl, x, b, N, NULL), 0);
    within(pl, 0.46690768839408386, 0.0004989036970323801, "P(loss)");
    /* the matrix: X, B and X again (all ties: neither beats the other) */
    three[0] = x;
    three[1] = b;
    three[2] = x;
    assert_int_equal(aipm_sim_prob_beats(beats, three, 3, N, NULL), 0);
    close_to(beats[1 * 3 + 0], pl, 0, "P(B beats X) is P(loss of X)");
    close_to(beats[0 * 3 + 1], 1 - pl, 1e-15, "P(X beats B)");
    close_to(beats[0 * 3 + 2], 0, 0, "P(X beats X)");
    close_to(beats[2 * 3 + 0], 0, 0, "P(X beats X)");
    close_to(beats[0], 0, 0, "diagonal");
    close_to(beats[2 * 3 + 1], 1 - pl, 1e-15, "P(X' beats B)");
    free(z1);
    free(z2);
    free(x);
    free(b);
}

static void test_crn_variance(void **state)
{
    double *x = array(N), *x2 = array(N), *ya = array(N), *yb = array(N),
           *dc = array(N), *di = array(N), ratio;
    size_t i;

    (void)state;
    /* A = 2 X + 0.5 Y_A, B = 1.5 X + 0.5 Y_B: with X one stream in both,
     * var(A - B) = 0.75; with B's X a stream of its own, 6.75: ratio 1/9,
     * relative se at most 0.002 (simulate_ref.py "CRN ...") */
    assert_int_equal(aipm_sim_normals(x, N, SEED, 30, 0, NULL), 0);
    assert_int_equal(aipm_sim_normals(ya, N, SEED, 31, 0, NULL), 0);
    assert_int_equal(aipm_sim_normals(yb, N, SEED, 32, 0, NULL), 0);
    assert_int_equal(aipm_sim_normals(x2, N, SEED, 33, 0, NULL), 0);
    for (i = 0; i < N; i++) {
        dc[i] = (2 * x[i] + 0.5 * ya[i]) - (1.5 * x[i] + 0.5 * yb[i]);
        di[i] = (2 * x[i] + 0.5 * ya[i]) - (1.5 * x2[i] + 0.5 * yb[i]);
    }
    ratio = moments_of(dc, N).var / moments_of(di, N).var;
    within(ratio / (0.75 / 6.75), 1, 0.0020000010000007502,
           "CRN variance ratio");
    free(x);
    free(x2);
    free(ya);
    free(yb);
    free(dc);
    free(di);
}

/* ---- threads ---- */

typedef struct fill_ctx {
    double *normal, *gamma;
    int calls;
} fill_ctx;

static int fill_block(void *arg, size_t begin, size_t end, int block,
                      aipm_error *err)
{
    fill_ctx *c = arg;
    int rc;

    (void)block;
    rc = aipm_sim_normals(c->normal + begin, end - begin, SEED, 40, begin, err);
    if (rc == AIPM_OK)
        rc = aipm_sim_inv_gammas(c->gamma + begin, end - begin, 3.0, 2.0, SEED,
                                 41, begin, err);
    return rc;
}

static int fail_block(void *arg, size_t begin, size_t end, int block,
                      aipm_error *err)
{
    (void)arg;
    (void)begin;
    (void)end;
    if (block == 0)
        return AIPM_OK;
    return aipm_error_set(err, AIPM_EINVALID, "block %d failed", block);
}

static void test_threads_identical(void **state)
{
    static const int threads[] = {2, 3, 7};
    const size_t n = 100003;
    fill_ctx one = {array(n), array(n), 0}, many = {array(n), array(n), 0};
    aipm_sim_summary s1[4], s2[4];
    double *d1[4], *d2[4];
    const double *c1[4], *c2[4];
    aipm_error err = {0};
    size_t t, i;

    (void)state;
    assert_int_equal(aipm_sim_parallel(n, 1, fill_block, &one, NULL), 0);
    for (t = 0; t < 3; t++) {
        memset(many.normal, 0, n * sizeof(double));
        memset(many.gamma, 0, n * sizeof(double));
        assert_int_equal(
            aipm_sim_parallel(n, threads[t], fill_block, &many, NULL), 0);
        assert_memory_equal(one.normal, many.normal, n * sizeof(double));
        assert_memory_equal(one.gamma, many.gamma, n * sizeof(double));
    }
    /* summaries of many scenarios: 1 or 2 threads, the same bits */
    for (i = 0; i < 4; i++) {
        d1[i] = array(n);
        d2[i] = array(n);
        memcpy(d1[i], i % 2 ? one.normal : one.gamma, n * sizeof(double));
        memcpy(d2[i], d1[i], n * sizeof(double));
        c1[i] = d1[i];
        c2[i] = d2[i];
    }
    assert_int_equal(aipm_sim_summarize_many(s1, c1, 4, n, 0.05, 1, NULL), 0);
    assert_int_equal(aipm_sim_summarize_many(s2, c2, 4, n, 0.05, 2, NULL), 0);
    assert_memory_equal(s1, s2, sizeof(s1));
    /* the lowest failing block's error, whatever finished first */
    assert_int_equal(aipm_sim_parallel(10, 4, fail_block, NULL, &err),
                     AIPM_EINVALID);
    assert_string_equal(err.msg, "block 1 failed");
    /* a NaN in scenario 2 names it */
    d1[2][5] = NAN;
    aipm_error_clear(&err);
    assert_int_equal(aipm_sim_summarize_many(s1, c1, 4, n, 0.05, 2, &err),
                     AIPM_EINVALID);
    assert_string_equal(err.msg, "scenario 2: draw 5 is nan");
    for (i = 0; i < 4; i++) {
        free(d1[i]);
        free(d2[i]);
    }
    free(one.normal);
    free(one.gamma);
    free(many.normal);
    free(many.gamma);
}

/* ---- bad input: an error, never a crash ---- */

static void test_bad_input(void **state)
{
    double x[4] = {1, 2, NAN, 4}, y[4] = {1, 2, 3, 4}, out[4], p = 1.5;
    const double *pair[2] = {x, y};
    aipm_sim_summary s;
    aipm_sim_rng r;
    aipm_error err = {0};

    (void)state;
    assert_int_equal(aipm_sim_summarize(&s, x, 4, 0.05, &err), AIPM_EINVALID);
    assert_string_equal(err.msg, "draw 2 is nan");
    x[2] = INFINITY;
    assert_int_equal(aipm_sim_cvar(out, x, 4, 0.05, NULL), AIPM_EINVALID);
    assert_int_equal(aipm_sim_summarize(&s, y, 0, 0.05, NULL), AIPM_EINVALID);
    assert_int_equal(aipm_sim_summarize(&s, y, 4, 0, NULL), AIPM_EINVALID);
    assert_int_equal(aipm_sim_summarize(&s, y, 4, NAN, NULL), AIPM_EINVALID);
    assert_int_equal(aipm_sim_summarize(&s, y, 4, 1.01, NULL), AIPM_EINVALID);
    assert_int_equal(aipm_sim_summarize(&s, NULL, 4, 0.05, NULL),
                     AIPM_EINVALID);
    assert_int_equal(aipm_sim_quantiles(out, y, 4, &p, 1, NULL), AIPM_EINVALID);
    /* comparisons take infinities but not NaN */
    assert_int_equal(aipm_sim_prob_loss(out, x, y, 4, NULL), 0);
    close_to(out[0], 0, 0, "P(loss) with an infinite draw");
    x[2] = NAN;
    assert_int_equal(aipm_sim_prob_loss(out, x, y, 4, NULL), AIPM_EINVALID);
    assert_int_equal(aipm_sim_prob_beats(out, pair, 2, 4, NULL), AIPM_EINVALID);
    assert_int_equal(aipm_sim_prob_loss(out, y, y, 0, NULL), AIPM_EINVALID);
    /* generators */
    assert_int_equal(aipm_sim_normals(NULL, 4, SEED, 1, 0, NULL),
                     AIPM_EINVALID);
    assert_int_equal(aipm_sim_normals(NULL, 0, SEED, 1, 0, NULL), 0);
    assert_int_equal(aipm_sim_uniforms(out, 2, SEED, 1, UINT64_MAX, NULL),
                     AIPM_EINVALID);
    assert_int_equal(aipm_sim_uniforms(out, 1, SEED, 1, UINT64_MAX, NULL), 0);
    assert_int_equal(aipm_sim_gammas(out, 4, 0, 1, SEED, 1, 0, NULL),
                     AIPM_EINVALID);
    assert_int_equal(aipm_sim_inv_gammas(out, 4, 2, -1, SEED, 1, 0, NULL),
                     AIPM_EINVALID);
    assert_int_equal(aipm_sim_gammas(out, 4, INFINITY, 1, SEED, 1, 0, NULL),
                     AIPM_EINVALID);
    aipm_sim_rng_init(&r, SEED, 1, 0);
    assert_true(isnan(aipm_sim_rng_gamma(&r, -1)));
    assert_true(isnan(aipm_sim_rng_gamma(&r, NAN)));
    /* threads */
    assert_int_equal(aipm_sim_parallel(10, 0, fail_block, NULL, NULL),
                     AIPM_EINVALID);
    assert_int_equal(
        aipm_sim_parallel(10, AIPM_SIM_MAX_THREADS + 1, fail_block, NULL, NULL),
        AIPM_EINVALID);
    assert_int_equal(aipm_sim_parallel(10, 2, NULL, NULL, NULL), AIPM_EINVALID);
    assert_int_equal(aipm_sim_parallel(0, 2, fail_block, NULL, NULL), 0);
}

/* ---- speed, printed, not asserted ---- */

static void test_timing(void **state)
{
    enum { CHUNK = 4096, TOTAL = 1 << 21 };
    static const char *const what[5] = {
        "bulk uniform", "bulk normal", "sub-stream normal (init + draw)",
        "gamma, shape 3.7", "summary of 1e6 draws (per draw)"};
    double *buf = array(N), best[5], t, sink = 0;
    aipm_sim_summary s;
    aipm_sim_rng r;
    int kind, rep;
    size_t i, j;

    (void)state;
    /* warm chunks, best of 3 (thread CPU time: the machine may be busy) */
    for (kind = 0; kind < 5; kind++) {
        best[kind] = 1e300;
        for (rep = 0; rep < 3; rep++) {
            t = thread_seconds();
            if (kind == 4) {
                assert_int_equal(aipm_sim_summarize(&s, buf, N, 0.05, NULL), 0);
                sink += s.cvar;
            }
            for (i = 0; kind < 4 && i < TOTAL; i += CHUNK) {
                if (kind == 0)
                    aipm_sim_uniforms(buf, CHUNK, SEED, 60, i, NULL);
                else if (kind == 1)
                    aipm_sim_normals(buf, CHUNK, SEED, 61, i, NULL);
                else if (kind == 3)
                    aipm_sim_gammas(buf, CHUNK, 3.7, 1.0, SEED, 62, i, NULL);
                else
                    for (j = 0; j < CHUNK; j++) {
                        aipm_sim_rng_init(&r, SEED, 63, i + j);
                        buf[j] = aipm_sim_rng_normal(&r);
                    }
                sink += buf[CHUNK / 2];
            }
            t = (thread_seconds() - t) * 1e9 / (kind == 4 ? N : TOTAL);
            best[kind] = t < best[kind] ? t : best[kind];
        }
        if (kind == 3) /* the summary's input: 1e6 normals */
            assert_int_equal(aipm_sim_normals(buf, N, SEED, 64, 0, NULL), 0);
    }
#ifdef NDEBUG
    printf("    timing (optimized build):\n");
#else
    printf("    timing (debug build, unoptimized: expect several times "
           "the release figures):\n");
#endif
    for (kind = 0; kind < 5; kind++)
        printf("      %6.2f ns per %s\n", best[kind], what[kind]);
    assert_true(isfinite(sink));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_philox_kat),
        cmocka_unit_test(test_stream_layout),
        cmocka_unit_test(test_substreams),
        cmocka_unit_test(test_uniform_moments),
        cmocka_unit_test(test_normal_moments),
        cmocka_unit_test(test_normal_tail),
        cmocka_unit_test(test_gamma_moments),
        cmocka_unit_test(test_quantiles_numpy),
        cmocka_unit_test(test_histogram_numpy),
        cmocka_unit_test(test_histogram_errors),
        cmocka_unit_test(test_selection_vs_sort),
        cmocka_unit_test(test_cvar_small),
        cmocka_unit_test(test_summary_known),
        cmocka_unit_test(test_prob_loss),
        cmocka_unit_test(test_crn_variance),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_timing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
