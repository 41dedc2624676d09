/* drift.h - has a feature's distribution moved? Two samples compared.
 *
 * The tests and their defaults are Evidently's (its data drift algorithm,
 * legacy stattests), so a team that monitors with Evidently gets the same
 * verdicts:
 *
 *   - reference of at most 1000 values: numerical with more than 5
 *     distinct values (over both samples): two-sample Kolmogorov-Smirnov;
 *     otherwise chi-square against the reference's shares, or, with at
 *     most 2 distinct values, the z-test of two proportions. Drift when
 *     p < 0.05;
 *   - larger reference: numerical with more than 5 distinct values: the
 *     Wasserstein-1 distance divided by the reference's standard deviation
 *     (population, at least 0.001); otherwise the Jensen-Shannon distance
 *     (natural log). Drift when the distance is >= 0.1;
 *   - PSI, beside the default test: drift at >= 0.1 (the conventional
 *     bands: below 0.1 stable, 0.1 to 0.25 moderate, above significant).
 *
 * Jensen-Shannon and PSI compare shares: for a numerical feature with
 * more than 20 distinct reference values, of the bins numpy's "sturges"
 * rule makes over both samples (log2(n) + 1 bins of equal width over the
 * range); otherwise of each distinct value. PSI replaces an empty share
 * by 1e-4 (or the smallest share / 1e6 when that is <= 1e-4).
 *
 * Samples are arrays of doubles; NaN and infinite values are dropped (a
 * missing value; numpy's histogram refuses infinities, and no distance
 * is defined with them), and the results count what was kept. A categorical
 * feature's values are category codes (any doubles; equal means same).
 * The functions sort copies; the inputs are not changed.
 */
#ifndef AIPM_DRIFT_H
#define AIPM_DRIFT_H

#include "aipm/core.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aipm_feature_kind {
    AIPM_NUMERICAL = 0,
    AIPM_CATEGORICAL = 1
} aipm_feature_kind;

typedef enum aipm_drift_test {
    AIPM_DRIFT_KS = 0,
    AIPM_DRIFT_CHISQUARE,
    AIPM_DRIFT_Z,
    AIPM_DRIFT_WASSERSTEIN,
    AIPM_DRIFT_JENSENSHANNON,
    AIPM_DRIFT_PSI
} aipm_drift_test;

/* "ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi" (the
 * names aipm.yaml and the JSON use); NULL for no test. */
const char *aipm_drift_test_name(aipm_drift_test t);
/* The test named name; AIPM_EINVALID when none is. */
int aipm_drift_test_parse(const char *name, aipm_drift_test *out);
/* Whether the test's score is a p-value (drift below the threshold) or
 * a distance (drift at or above it); its default threshold. */
int aipm_drift_test_is_p_value(aipm_drift_test t);
double aipm_drift_test_threshold(aipm_drift_test t);

/* Evidently's choice for a feature: n_ref reference values, n_unique
 * distinct values over both samples. */
aipm_drift_test aipm_drift_default_test(size_t n_ref, size_t n_unique,
                                        aipm_feature_kind kind);

typedef struct aipm_drift_result {
    aipm_drift_test test;
    double score;     /* the p-value or the distance the verdict reads */
    double statistic; /* KS: D; chi-square: chi2 (df in df); z: z; else
                         the score */
    double df;
    double threshold;
    int drifted;
    size_t n_ref, n_cur, n_unique; /* after NaNs and infinities are
                                      dropped */
} aipm_drift_result;

/* Compare cur with ref by test (threshold NAN: the test's default).
 * AIPM_EINVALID when either sample is empty after NaNs, or the test does
 * not apply (a distance of a categorical feature for Wasserstein or KS);
 * AIPM_ENOMEM. */
int aipm_drift_compare(aipm_drift_test test, aipm_feature_kind kind,
                       const double *ref, size_t n_ref, const double *cur,
                       size_t n_cur, double threshold, aipm_drift_result *out);

/* Several tests (at most 16) of one feature on one sorting of the
 * samples, each at its default threshold: out[k] for tests[k]. */
int aipm_drift_compare_many(const aipm_drift_test *tests, size_t n,
                            aipm_feature_kind kind, const double *ref,
                            size_t n_ref, const double *cur, size_t n_cur,
                            aipm_drift_result *out);

/* The same with Evidently's default test for the samples. */
int aipm_drift_auto(aipm_feature_kind kind, const double *ref, size_t n_ref,
                    const double *cur, size_t n_cur, aipm_drift_result *out);

/* ---- the statistics themselves, on sorted finite samples ---- */

/* Two-sided two-sample Kolmogorov-Smirnov: D, and its p-value as
 * scipy.stats.ks_2samp's default gives it: exact (the lattice paths that
 * stay within D, Hodges 1957) when neither sample exceeds 10000 values,
 * else the Kolmogorov limit at sqrt(n m / (n + m)) D with Stephens'
 * correction (scipy's asymptotic form is kstwo.sf(D, round(en)); the two
 * agree to a few parts in a thousand there: 0.2639 against 0.2632 in
 * tests/unit/test_drift.c). */
void aipm_drift_ks_sorted(const double *a, size_t na, const double *b,
                          size_t nb, double *d, double *p);
/* The Kolmogorov distribution's survival function, P(K > x). */
double aipm_kolmogorov_q(double x);
/* Wasserstein-1 distance between the two empirical distributions. */
double aipm_drift_wasserstein_sorted(const double *a, size_t na,
                                     const double *b, size_t nb);
/* Jensen-Shannon distance (natural log, square root of the divergence)
 * between two share vectors of k entries (each normalized to sum 1). */
double aipm_drift_js(const double *p, const double *q, size_t k);
/* PSI of two share vectors: sum (p - q) ln(p / q). */
double aipm_drift_psi(const double *p, const double *q, size_t k);

#ifdef __cplusplus
}
#endif

#endif /* AIPM_DRIFT_H */
