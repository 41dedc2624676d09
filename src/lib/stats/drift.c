/* drift.c - two samples of a feature compared (aipm/drift.h).
 *
 * Every statistic walks the two samples sorted, side by side: the
 * empirical distribution functions F (reference) and G (current) change
 * only at the samples' values, so D = max |F - G| (Kolmogorov-Smirnov) and
 * W = integral |F - G| (Wasserstein-1) are one merge each, and so are the
 * counts per distinct value (chi-square, the z-test, shares) and per bin.
 * The definitions and defaults are Evidently's; the reference values the
 * tests compare with are scipy's (tests/unit/test_drift.c says which).
 */
#include "aipm/drift.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const test_names[] = {"ks",          "chisquare",     "z",
                                         "wasserstein", "jensenshannon", "psi"};
#define N_TESTS (sizeof(test_names) / sizeof(test_names[0]))

const char *aipm_drift_test_name(aipm_drift_test t)
{
    return (unsigned)t < N_TESTS ? test_names[t] : NULL;
}

int aipm_drift_test_parse(const char *name, aipm_drift_test *out)
{
    size_t i;

    for (i = 0; name && i < N_TESTS; i++)
        if (strcmp(name, test_names[i]) == 0) {
            *out = (aipm_drift_test)i;
            return AIPM_OK;
        }
    return AIPM_EINVALID;
}

int aipm_drift_test_is_p_value(aipm_drift_test t)
{
    return t == AIPM_DRIFT_KS || t == AIPM_DRIFT_CHISQUARE || t == AIPM_DRIFT_Z;
}

double aipm_drift_test_threshold(aipm_drift_test t)
{
    return aipm_drift_test_is_p_value(t) ? 0.05 : 0.1;
}

/* Evidently's registry: small reference (<= 1000 values) by p-value,
 * larger by distance; numerical features with more than 5 distinct
 * values by their distribution functions, the rest by shares. */
aipm_drift_test aipm_drift_default_test(size_t n_ref, size_t n_unique,
                                        aipm_feature_kind kind)
{
    int continuous = kind == AIPM_NUMERICAL && n_unique > 5;

    if (n_ref <= 1000) {
        if (continuous)
            return AIPM_DRIFT_KS;
        return n_unique > 2 ? AIPM_DRIFT_CHISQUARE : AIPM_DRIFT_Z;
    }
    return continuous ? AIPM_DRIFT_WASSERSTEIN : AIPM_DRIFT_JENSENSHANNON;
}

/* ---- the statistics, on sorted samples ---- */

/* The next value of the merge: the smaller head of a[i..] and b[j..]. */
static double next_value(const double *a, size_t na, size_t i, const double *b,
                         size_t nb, size_t j)
{
    if (j >= nb || (i < na && a[i] <= b[j]))
        return a[i];
    return b[j];
}

/* Past every copy of x in both samples. */
static void skip_value(const double *a, size_t na, size_t *i, const double *b,
                       size_t nb, size_t *j, double x)
{
    while (*i < na && a[*i] == x)
        (*i)++;
    while (*j < nb && b[*j] == x)
        (*j)++;
}

static double ks_d(const double *a, size_t na, const double *b, size_t nb)
{
    size_t i = 0, j = 0;
    double d = 0;

    while (i < na || j < nb) {
        double x = next_value(a, na, i, b, nb, j), gap;

        skip_value(a, na, &i, b, nb, &j, x);
        gap = fabs((double)i / (double)na - (double)j / (double)nb);
        if (gap > d)
            d = gap;
    }
    return d;
}

double aipm_kolmogorov_q(double x)
{
    double s = 0, term;
    int k;

    if (!(x > 0))
        return 1.0;
    if (x < 1.18) {
        /* the theta-function form converges fast for small x */
        double f = -M_PI * M_PI / (8 * x * x);

        for (k = 1; k < 100; k += 2) {
            term = exp(f * k * k);
            s += term;
            if (term < 1e-17 * s)
                break;
        }
        return 1 - sqrt(2 * M_PI) / x * s;
    }
    for (k = 1; k < 100; k++) {
        term = exp(-2.0 * k * k * x * x);
        s += (k % 2 ? 1 : -1) * term;
        if (term < 1e-17)
            break;
    }
    return 2 * s > 1 ? 1.0 : 2 * s;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;

        a = b;
        b = t;
    }
    return a;
}

/* P(D >= d) for samples of m and n values without ties, exactly: the
 * share of the C(m + n, m) monotone lattice paths from (0, 0) to (m, n)
 * that leave the band |i/m - j/n| < d. Each cell holds the share of the
 * paths to it that stayed inside (a convex mix of its two predecessors,
 * weighted i/(i+j) and j/(i+j)), so nothing overflows. d is first put on
 * the lattice, d = h / lcm(m, n), as scipy does. */
static double ks_exact_p(size_t m, size_t n, double d)
{
    uint64_t g = gcd64(m, n), lcm = (uint64_t)(m / g) * n;
    int64_t h = llround(d * (double)lcm), bound, in;
    double *row;
    size_t i, j;

    if (h <= 0)
        return 1.0;
    bound = h * (int64_t)g; /* inside: |i n - j m| < h g */
    if ((row = malloc((n + 1) * sizeof(*row))) == NULL)
        return NAN;
    row[0] = 1.0;
    for (j = 1; j <= n; j++) {
        in = (int64_t)(j * m);
        row[j] = in < bound ? row[j - 1] : 0.0;
    }
    for (i = 1; i <= m; i++) {
        in = (int64_t)(i * n);
        row[0] = in < bound ? row[0] : 0.0;
        for (j = 1; j <= n; j++) {
            int64_t gap = (int64_t)(i * n) - (int64_t)(j * m);

            if (gap >= bound || -gap >= bound)
                row[j] = 0.0;
            else
                row[j] = ((double)i * row[j] + (double)j * row[j - 1]) /
                         (double)(i + j);
        }
    }
    d = 1.0 - row[n];
    free(row);
    return d < 0 ? 0.0 : d > 1 ? 1.0 : d;
}

void aipm_drift_ks_sorted(const double *a, size_t na, const double *b,
                          size_t nb, double *d, double *p)
{
    *d = ks_d(a, na, b, nb);
    if (na <= 10000 && nb <= 10000) {
        *p = ks_exact_p(na, nb, *d);
    } else {
        double en = (double)na * (double)nb / (double)(na + nb), r = sqrt(en);

        *p = aipm_kolmogorov_q((r + 0.12 + 0.11 / r) * *d);
    }
}

double aipm_drift_wasserstein_sorted(const double *a, size_t na,
                                     const double *b, size_t nb)
{
    size_t i = 0, j = 0;
    double w = 0;

    while (i < na || j < nb) {
        double x = next_value(a, na, i, b, nb, j);

        skip_value(a, na, &i, b, nb, &j, x);
        if (i >= na && j >= nb)
            break;
        w += fabs((double)i / (double)na - (double)j / (double)nb) *
             (next_value(a, na, i, b, nb, j) - x);
    }
    return w;
}

/* scipy.special.rel_entr */
static double rel_entr(double x, double y)
{
    if (x > 0 && y > 0)
        return x * log(x / y);
    if (x == 0 && y >= 0)
        return 0.0;
    return INFINITY;
}

double aipm_drift_js(const double *p, const double *q, size_t k)
{
    double sp = 0, sq = 0, js = 0;
    size_t i;

    for (i = 0; i < k; i++) {
        sp += p[i];
        sq += q[i];
    }
    for (i = 0; i < k; i++) {
        double a = p[i] / sp, b = q[i] / sq, m = (a + b) / 2;

        js += rel_entr(a, m) + rel_entr(b, m);
    }
    return sqrt(js / 2);
}

double aipm_drift_psi(const double *p, const double *q, size_t k)
{
    double s = 0;
    size_t i;

    for (i = 0; i < k; i++)
        s += (p[i] - q[i]) * log(p[i] / q[i]);
    return s;
}

/* ---- shares ---- */

/* The distinct values of the sorted a (na); of a and b together. */
static size_t distinct(const double *a, size_t na)
{
    size_t i, n = na ? 1 : 0;

    for (i = 1; i < na; i++)
        n += a[i] != a[i - 1];
    return n;
}

static size_t distinct2(const double *a, size_t na, const double *b, size_t nb)
{
    size_t i = 0, j = 0, n = 0;

    while (i < na || j < nb) {
        skip_value(a, na, &i, b, nb, &j, next_value(a, na, i, b, nb, j));
        n++;
    }
    return n;
}

/* Counts per distinct value of both samples together: *k values, the
 * reference's counts in *ca and the current's in *cb (malloc'd). */
static int value_counts(const double *a, size_t na, const double *b, size_t nb,
                        double **ca, double **cb, size_t *k)
{
    size_t i = 0, j = 0, n = distinct2(a, na, b, nb);

    *ca = malloc((n ? n : 1) * sizeof(double));
    *cb = malloc((n ? n : 1) * sizeof(double));
    if (*ca == NULL || *cb == NULL) {
        free(*ca);
        free(*cb);
        *ca = *cb = NULL;
        return AIPM_ENOMEM;
    }
    *k = 0;
    while (i < na || j < nb) {
        size_t i0 = i, j0 = j;

        skip_value(a, na, &i, b, nb, &j, next_value(a, na, i, b, nb, j));
        (*ca)[*k] = (double)(i - i0);
        (*cb)[*k] = (double)(j - j0);
        (*k)++;
    }
    return AIPM_OK;
}

/* numpy's histogram_bin_edges(both, "sturges"): width = range /
 * (log2(n) + 1), ceil(range / width) bins, edges as linspace makes
 * them. The count, and the edges into *edges (malloc'd). */
static size_t sturges_edges(double lo, double hi, size_t n, double **edges)
{
    double width = (hi - lo) / (log2((double)n) + 1.0), step;
    size_t nb = 1, k;

    if (width > 0)
        nb = (size_t)ceil((hi - lo) / width);
    if (nb < 1)
        nb = 1;
    if ((*edges = malloc((nb + 1) * sizeof(**edges))) == NULL)
        return 0;
    step = (hi - lo) / (double)nb;
    for (k = 0; k < nb; k++)
        (*edges)[k] = (double)k * step + lo;
    (*edges)[nb] = hi;
    return nb;
}

/* Counts of the sorted a per bin [e_k, e_k+1) (the last one closed), as
 * numpy.histogram with explicit edges counts. */
static void bin_counts(const double *a, size_t na, const double *e, size_t nb,
                       double *c)
{
    size_t i, k = 0;

    memset(c, 0, nb * sizeof(*c));
    for (i = 0; i < na; i++) {
        if (a[i] < e[0] || a[i] > e[nb])
            continue;
        while (k + 1 < nb && a[i] >= e[k + 1])
            k++;
        c[k] += 1;
    }
}

/* Empty shares get 1e-4, or the smallest share / 1e6 when that is at most
 * 1e-4 (Evidently's get_binned_data, for PSI). */
static void fill_zeros(double *p, size_t k)
{
    double least = INFINITY;
    size_t i;

    for (i = 0; i < k; i++)
        if (p[i] != 0 && p[i] < least)
            least = p[i];
    if (!isfinite(least))
        return;
    for (i = 0; i < k; i++)
        if (p[i] == 0)
            p[i] = least <= 1e-4 ? least / 1e6 : 1e-4;
}

/* The two samples' shares (ps, pc; k entries, malloc'd): per Sturges bin
 * for a numerical feature with more than 20 distinct reference values,
 * else per distinct value. */
static int shares(aipm_feature_kind kind, const double *r, size_t nr,
                  const double *c, size_t nc, double **ps, double **pc,
                  size_t *k)
{
    size_t i;

    *ps = *pc = NULL;
    if (kind == AIPM_NUMERICAL && distinct(r, nr) > 20) {
        double *e, lo = r[0] < c[0] ? r[0] : c[0],
                   hi = r[nr - 1] > c[nc - 1] ? r[nr - 1] : c[nc - 1];

        if ((*k = sturges_edges(lo, hi, nr + nc, &e)) == 0)
            return AIPM_ENOMEM;
        *ps = malloc(*k * sizeof(double));
        *pc = malloc(*k * sizeof(double));
        if (*ps && *pc) {
            bin_counts(r, nr, e, *k, *ps);
            bin_counts(c, nc, e, *k, *pc);
        }
        free(e);
    } else if (value_counts(r, nr, c, nc, ps, pc, k) != 0) {
        return AIPM_ENOMEM;
    }
    if (*ps == NULL || *pc == NULL) {
        free(*ps);
        free(*pc);
        *ps = *pc = NULL;
        return AIPM_ENOMEM;
    }
    for (i = 0; i < *k; i++) {
        (*ps)[i] /= (double)nr;
        (*pc)[i] /= (double)nc;
    }
    return AIPM_OK;
}

/* ---- the tests ---- */

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return (a > b) - (a < b);
}

/* A double's bits as an unsigned key in the same order: negative values
 * have all bits flipped, the others only the sign. */
static uint64_t key_of(double v)
{
    uint64_t u;

    memcpy(&u, &v, sizeof(u));
    return (u >> 63) ? ~u : u | 0x8000000000000000ULL;
}

static double value_of(uint64_t k)
{
    uint64_t u = (k >> 63) ? k & 0x7fffffffffffffffULL : ~k;
    double v;

    memcpy(&v, &u, sizeof(v));
    return v;
}

/* LSD radix sort of n doubles, 16 bits a pass, a pass skipped when every
 * key has the same digit there (the high digits, often): four passes at
 * most over n, against qsort's n log n comparisons through a pointer.
 * Small arrays: qsort. */
static int sort_values(double *v, size_t n)
{
    uint64_t *a, *b, *t;
    size_t *count, i, pass;

    if (n < 4096) {
        qsort(v, n, sizeof(*v), by_value);
        return AIPM_OK;
    }
    a = (uint64_t *)v; /* the same storage, read as keys */
    if ((b = malloc(n * sizeof(*b))) == NULL ||
        (count = malloc(65536 * sizeof(*count))) == NULL) {
        free(b);
        return AIPM_ENOMEM;
    }
    for (i = 0; i < n; i++)
        a[i] = key_of(v[i]);
    for (pass = 0; pass < 4; pass++) {
        int shift = (int)pass * 16;
        size_t sum = 0, c;

        memset(count, 0, 65536 * sizeof(*count));
        for (i = 0; i < n; i++)
            count[(a[i] >> shift) & 0xffff]++;
        if (count[(a[0] >> shift) & 0xffff] == n)
            continue; /* one digit: already in order by it */
        for (i = 0; i < 65536; i++) {
            c = count[i];
            count[i] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++)
            b[count[(a[i] >> shift) & 0xffff]++] = a[i];
        t = a;
        a = b;
        b = t;
    }
    if (a != (uint64_t *)v) {
        memcpy(v, a, n * sizeof(*a));
        b = a;
    }
    for (i = 0; i < n; i++)
        v[i] = value_of(((uint64_t *)v)[i]);
    free(b);
    free(count);
    return AIPM_OK;
}

/* A sorted copy of v without NaNs and infinities: *out (malloc'd), its
 * length *n. */
static int sorted_copy(const double *v, size_t nv, double **out, size_t *n)
{
    size_t i;

    *n = 0;
    if ((*out = malloc((nv ? nv : 1) * sizeof(double))) == NULL)
        return AIPM_ENOMEM;
    for (i = 0; i < nv; i++)
        if (isfinite(v[i]))
            (*out)[(*n)++] = v[i];
    return sort_values(*out, *n);
}

static double pop_sd(const double *a, size_t n)
{
    double mean = 0, ss = 0;
    size_t i;

    for (i = 0; i < n; i++)
        mean += a[i];
    mean /= (double)n;
    for (i = 0; i < n; i++)
        ss += (a[i] - mean) * (a[i] - mean);
    return sqrt(ss / (double)n);
}

/* Chi-square of the current counts against the reference's shares scaled
 * to the current total (scipy.stats.chisquare(f_obs, f_exp)). */
static int chisquare(const double *r, size_t nr, const double *c, size_t nc,
                     aipm_drift_result *out)
{
    double *ca, *cb, scale = (double)nc / (double)nr, chi2 = 0;
    size_t k, i;

    if (value_counts(r, nr, c, nc, &ca, &cb, &k) != 0)
        return AIPM_ENOMEM;
    for (i = 0; i < k; i++) {
        double e = ca[i] * scale, o = cb[i];

        chi2 += e > 0 ? (o - e) * (o - e) / e : INFINITY;
    }
    out->statistic = chi2;
    out->df = (double)k - 1;
    /* one value in both: nothing can differ */
    out->score = k < 2         ? 1.0
                 : isinf(chi2) ? 0.0
                               : gsl_cdf_chisq_Q(chi2, out->df);
    free(ca);
    free(cb);
    return AIPM_OK;
}

/* The z-test of two proportions: the smallest value against the rest. */
static void ztest(const double *r, size_t nr, const double *c, size_t nc,
                  aipm_drift_result *out)
{
    double key = r[0] < c[0] ? r[0] : c[0], p1, p2, pp, z;
    size_t i, k1 = 0, k2 = 0;

    if (r[0] == r[nr - 1] && c[0] == c[nc - 1] && r[0] == c[0]) {
        out->statistic = 0;
        out->score = 1.0;
        return;
    }
    for (i = 0; i < nr; i++)
        k1 += r[i] != key;
    for (i = 0; i < nc; i++)
        k2 += c[i] != key;
    p1 = (double)k1 / (double)nr;
    p2 = (double)k2 / (double)nc;
    pp = (double)(k1 + k2) / (double)(nr + nc);
    z = (p1 - p2) / sqrt(pp * (1 - pp) * (1.0 / (double)nr + 1.0 / (double)nc));
    out->statistic = z;
    out->score = 2 * gsl_cdf_ugaussian_Q(fabs(z));
}

static int compare_sorted(aipm_drift_test test, aipm_feature_kind kind,
                          const double *r, size_t nr, const double *c,
                          size_t nc, aipm_drift_result *out)
{
    double *ps, *pc;
    size_t k;
    int rc;

    switch (test) {
    case AIPM_DRIFT_KS:
        aipm_drift_ks_sorted(r, nr, c, nc, &out->statistic, &out->score);
        break;
    case AIPM_DRIFT_WASSERSTEIN: {
        double sd = pop_sd(r, nr);

        out->statistic = aipm_drift_wasserstein_sorted(r, nr, c, nc) /
                         (sd > 0.001 ? sd : 0.001);
        out->score = out->statistic;
        break;
    }
    case AIPM_DRIFT_CHISQUARE:
        return chisquare(r, nr, c, nc, out);
    case AIPM_DRIFT_Z:
        ztest(r, nr, c, nc, out);
        break;
    case AIPM_DRIFT_JENSENSHANNON:
    case AIPM_DRIFT_PSI:
        if ((rc = shares(kind, r, nr, c, nc, &ps, &pc, &k)) != 0)
            return rc;
        if (test == AIPM_DRIFT_PSI) {
            fill_zeros(ps, k);
            fill_zeros(pc, k);
            out->statistic = aipm_drift_psi(ps, pc, k);
        } else {
            out->statistic = aipm_drift_js(ps, pc, k);
        }
        out->score = out->statistic;
        free(ps);
        free(pc);
        break;
    }
    return AIPM_OK;
}

/* Both samples sorted without NaN once, then compared by each of the n
 * tests (-1: Evidently's default for them; thresholds NULL or NAN: each
 * test's own). */
static int compare(const int *tests, size_t n, aipm_feature_kind kind,
                   const double *ref, size_t n_ref, const double *cur,
                   size_t n_cur, const double *thresholds,
                   aipm_drift_result *out)
{
    double *r = NULL, *c = NULL;
    size_t nr = 0, nc = 0, nu = 0, k;
    int rc;

    for (k = 0; k < n; k++) {
        memset(&out[k], 0, sizeof(out[k]));
        out[k].score = out[k].statistic = out[k].df = NAN;
    }
    if ((rc = sorted_copy(ref, n_ref, &r, &nr)) == 0 &&
        (rc = sorted_copy(cur, n_cur, &c, &nc)) == 0)
        nu = distinct2(r, nr, c, nc);
    for (k = 0; rc == 0 && k < n; k++) {
        aipm_drift_result *o = &out[k];
        int t = tests[k] < 0 ? (int)aipm_drift_default_test(nr, nu, kind)
                             : tests[k];
        double th = thresholds ? thresholds[k] : NAN;

        o->n_ref = nr;
        o->n_cur = nc;
        o->n_unique = nu;
        o->test = (aipm_drift_test)t;
        if ((unsigned)t >= N_TESTS || nr == 0 || nc == 0 ||
            (kind == AIPM_CATEGORICAL &&
             (t == AIPM_DRIFT_KS || t == AIPM_DRIFT_WASSERSTEIN))) {
            rc = AIPM_EINVALID; /* categories have no order or distance */
            break;
        }
        o->threshold = isnan(th) ? aipm_drift_test_threshold(o->test) : th;
        if ((rc = compare_sorted(o->test, kind, r, nr, c, nc, o)) == 0 &&
            !isnan(o->score))
            o->drifted = aipm_drift_test_is_p_value(o->test)
                             ? o->score < o->threshold
                             : o->score >= o->threshold;
    }
    free(r);
    free(c);
    return rc;
}

int aipm_drift_compare(aipm_drift_test test, aipm_feature_kind kind,
                       const double *ref, size_t n_ref, const double *cur,
                       size_t n_cur, double threshold, aipm_drift_result *out)
{
    int t = (unsigned)test < N_TESTS ? (int)test : (int)N_TESTS;

    return compare(&t, 1, kind, ref, n_ref, cur, n_cur, &threshold, out);
}

int aipm_drift_compare_many(const aipm_drift_test *tests, size_t n,
                            aipm_feature_kind kind, const double *ref,
                            size_t n_ref, const double *cur, size_t n_cur,
                            aipm_drift_result *out)
{
    int t[16];
    size_t k;

    if (n > 16)
        return AIPM_EINVALID;
    for (k = 0; k < n; k++)
        t[k] = (unsigned)tests[k] < N_TESTS ? (int)tests[k] : (int)N_TESTS;
    return compare(t, n, kind, ref, n_ref, cur, n_cur, NULL, out);
}

int aipm_drift_auto(aipm_feature_kind kind, const double *ref, size_t n_ref,
                    const double *cur, size_t n_cur, aipm_drift_result *out)
{
    int t = -1;

    return compare(&t, 1, kind, ref, n_ref, cur, n_cur, NULL, out);
}
