/* stats.h - the statistics of experiment analysis, on sufficient statistics.
 *
 * Everything here works on per-group moments (n, sum, sum of squares, and
 * for CUPED the covariate's sums and the cross product), never on raw
 * rows: the store computes the moments (SQL push-down), this module turns
 * them into estimates. The definitions follow GrowthBook's open stats
 * engine (its "statistics details", CUPED and sequential testing pages),
 * so a team moving from GrowthBook gets the same numbers:
 *
 *   - Welch's t-test with Welch-Satterthwaite degrees of freedom, for the
 *     absolute and the relative lift; the relative lift's variance by the
 *     delta method (Deng, Knoblich and Lu 2018, "Applying the delta method
 *     in metric analytics");
 *   - CUPED (Deng, Xu, Kohavi and Walker 2013): theta from the pooled
 *     covariance of the metric and its pre-exposure value;
 *   - Bayesian: a Gaussian posterior on the relative lift (flat prior),
 *     chance to beat control and expected loss;
 *   - sequential: asymptotic confidence sequences (Waudby-Smith, Arbour,
 *     Sinha, Kennedy and Ramdas 2023), tuned for N* units;
 *   - sample-ratio mismatch: Pearson's chi-square against the weights;
 *   - Holm and Benjamini-Hochberg adjustments; sample size for a power.
 *
 * Functions return AIPM_OK, or AIPM_EINVALID when the inputs cannot give
 * an estimate (too few units, zero variance, a zero control mean).
 */
#ifndef AIPM_STATS_H
#define AIPM_STATS_H

#include "aipm/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Moments of one group: n units, their values' sum and sum of squares. */
typedef struct aipm_moments {
    double n, sum, sum_sq;
} aipm_moments;

/* Mean; sample variance (n - 1 in the denominator), or for a proportion
 * metric (values 0/1) GrowthBook's m(1 - m). */
double aipm_moments_mean(const aipm_moments *m);
double aipm_moments_var(const aipm_moments *m, int proportion);

/* A ratio metric per group (e.g. revenue per session): R = sum y / sum x
 * over units, and the per-unit variance of R by the delta method (Deng,
 * Knoblich and Lu 2018): n var(R) = var_y / mx^2 - 2 my cov_xy / mx^3 +
 * my^2 var_x / mx^4, so that aipm_stats_compare(R, *var_unit, n, ...)
 * analyses it like a mean. AIPM_EINVALID when n < 2 or sum x is 0. */
int aipm_stats_ratio(double *ratio, double *var_unit, double n, double sum_y,
                     double sum_yy, double sum_x, double sum_xx, double sum_xy);

/* A two-group comparison: treatment against control. */
typedef struct aipm_compare {
    double mean_c, mean_t, var_c, var_t, n_c, n_t;
    double lift_abs, se_abs; /* mean_t - mean_c, its standard error */
    double lift_rel, se_rel; /* mean_t / mean_c - 1, delta method */
    double df;               /* Welch-Satterthwaite */
    double t_rel, p_value;   /* two-sided, on the relative lift */
    double ci_low, ci_high;  /* for the relative lift, level 1-alpha */
    double ci_abs_low, ci_abs_high;
} aipm_compare;

/* Frequentist comparison from means, variances and sizes. */
int aipm_stats_compare(aipm_compare *out, double mean_c, double var_c,
                       double n_c, double mean_t, double var_t, double n_t,
                       double alpha);

/* Replace the intervals (and p-value) by the always-valid ones of a
 * confidence sequence tuned for n_star total units (GrowthBook default
 * 5000). The half-width for an estimate with variance v after N = n_c +
 * n_t units is sqrt(v N) * sqrt(2 (N r^2 + 1) / (N^2 r^2) *
 * log(sqrt(N r^2 + 1) / alpha)), r^2 = (-2 log alpha + log(-2 log alpha +
 * 1)) / n_star. */
double aipm_stats_cs_halfwidth(double variance, double n, double alpha,
                               double n_star);
int aipm_stats_sequential(aipm_compare *c, double alpha, double n_star);

/* Bayesian: with a Gaussian posterior N(lift, se^2) on the relative lift
 * (flat prior), the chance that treatment beats control and the expected
 * loss (risk) of choosing each. */
typedef struct aipm_bayes {
    double chance_to_win;
    double risk_treatment;  /* E[max(0, -lift)] */
    double risk_control;    /* E[max(0,  lift)] */
    double ci_low, ci_high; /* credible interval, level 1-alpha */
} aipm_bayes;

int aipm_stats_bayes(aipm_bayes *out, double lift, double se, double alpha);

/* CUPED. Per group: the metric's moments y, the covariate's x and the
 * cross product sum_xy. theta = pooled cov(x, y) / pooled var(x); each
 * group's adjusted mean is mean_y - theta (mean_x - pooled mean_x) and its
 * variance var_y + theta^2 var_x - 2 theta cov_xy. */
typedef struct aipm_cuped_group {
    aipm_moments y, x;
    double sum_xy;
} aipm_cuped_group;

typedef struct aipm_cuped {
    double theta;
    double mean_c, var_c, mean_t, var_t;
    double variance_reduction; /* 1 - adjusted / unadjusted pooled var */
} aipm_cuped;

int aipm_stats_cuped(aipm_cuped *out, const aipm_cuped_group *control,
                     const aipm_cuped_group *treatment);

/* Sample-ratio mismatch: Pearson chi-square of k observed counts against
 * weights (normalised here); *p_value from chi-square with k - 1 df. */
int aipm_stats_srm(double *chi2, double *p_value, const double *observed,
                   const double *weights, int k);

/* Multiple testing: adjusted p-values, in the input order. */
void aipm_stats_holm(double *adjusted, const double *p, int k);
void aipm_stats_bh(double *adjusted, const double *p, int k);

/* Units per variation for a two-sided test of a relative effect `mde` on
 * a metric with the given mean and variance (equal groups, normal
 * approximation): 2 var (z_{1-alpha/2} + z_power)^2 / (mde mean)^2. */
double aipm_stats_sample_size(double mean, double var, double mde, double alpha,
                              double power);

#ifdef __cplusplus
}
#endif
#endif
