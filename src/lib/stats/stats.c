/* stats.c - frequentist, sequential and Bayesian comparisons, CUPED, SRM,
 * multiple-testing adjustments and sample size (see stats.h for the
 * methods and their sources). Distributions come from GSL. */
#include "aipm/stats.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double aipm_moments_mean(const aipm_moments *m)
{
    return m->n > 0 ? m->sum / m->n : 0;
}

double aipm_moments_var(const aipm_moments *m, int proportion)
{
    double mean = aipm_moments_mean(m);

    if (proportion)
        return mean * (1 - mean);
    if (m->n < 2)
        return 0;
    /* Sum of squared deviations; clamp the rounding error below zero. */
    return fmax(0, (m->sum_sq - m->sum * mean) / (m->n - 1));
}

/* Two-sided p-value of t with df degrees of freedom (normal when df is
 * huge, where GSL's t is slow and equal to the normal). */
static double two_sided_p(double t, double df)
{
    if (!isfinite(df) || df > 1e7)
        return 2 * gsl_cdf_ugaussian_Q(fabs(t));
    return 2 * gsl_cdf_tdist_Q(fabs(t), df);
}

static double t_quantile(double alpha, double df)
{
    if (!isfinite(df) || df > 1e7)
        return gsl_cdf_ugaussian_Qinv(alpha / 2);
    return gsl_cdf_tdist_Qinv(alpha / 2, df);
}

int aipm_stats_ratio(double *ratio, double *var_unit, double n, double sum_y,
                     double sum_yy, double sum_x, double sum_xx, double sum_xy)
{
    double my, mx, vy, vx, cxy;

    *ratio = *var_unit = 0;
    if (n < 2 || sum_x == 0)
        return AIPM_EINVALID;
    my = sum_y / n;
    mx = sum_x / n;
    vy = (sum_yy - n * my * my) / (n - 1);
    vx = (sum_xx - n * mx * mx) / (n - 1);
    cxy = (sum_xy - n * my * mx) / (n - 1);
    *ratio = sum_y / sum_x;
    *var_unit = fmax(0, vy / (mx * mx) - 2 * my * cxy / (mx * mx * mx) +
                            my * my * vx / (mx * mx * mx * mx));
    return AIPM_OK;
}

int aipm_stats_compare(aipm_compare *c, double mean_c, double var_c, double n_c,
                       double mean_t, double var_t, double n_t, double alpha)
{
    double vc, vt, q;

    memset(c, 0, sizeof(*c));
    c->mean_c = mean_c, c->mean_t = mean_t;
    c->var_c = var_c, c->var_t = var_t;
    c->n_c = n_c, c->n_t = n_t;
    if (n_c < 2 || n_t < 2 || mean_c == 0 || (var_c <= 0 && var_t <= 0) ||
        !(alpha > 0 && alpha < 1))
        return AIPM_EINVALID;
    vc = var_c / n_c;
    vt = var_t / n_t;
    c->lift_abs = mean_t - mean_c;
    c->se_abs = sqrt(vc + vt);
    /* Welch-Satterthwaite degrees of freedom. */
    c->df = (vc + vt) * (vc + vt) / (vc * vc / (n_c - 1) + vt * vt / (n_t - 1));
    /* Delta method for the ratio of means. */
    c->lift_rel = mean_t / mean_c - 1;
    c->se_rel =
        sqrt(vt / (mean_c * mean_c) +
             mean_t * mean_t * vc / (mean_c * mean_c * mean_c * mean_c));
    c->t_rel = c->lift_rel / c->se_rel;
    c->p_value = two_sided_p(c->t_rel, c->df);
    q = t_quantile(alpha, c->df);
    c->ci_low = c->lift_rel - q * c->se_rel;
    c->ci_high = c->lift_rel + q * c->se_rel;
    c->ci_abs_low = c->lift_abs - q * c->se_abs;
    c->ci_abs_high = c->lift_abs + q * c->se_abs;
    return AIPM_OK;
}

double aipm_stats_cs_halfwidth(double variance, double n, double alpha,
                               double n_star)
{
    double l = -2 * log(alpha);
    double rho2 = (l + log(l + 1)) / n_star;
    double nr = n * rho2;

    return sqrt(variance * n) *
           sqrt(2 * (nr + 1) / (n * n * rho2) * log(sqrt(nr + 1) / alpha));
}

int aipm_stats_sequential(aipm_compare *c, double alpha, double n_star)
{
    double n = c->n_c + c->n_t, h, lo, hi, a;

    if (n < 2 || c->se_rel <= 0 || n_star <= 0)
        return AIPM_EINVALID;
    h = aipm_stats_cs_halfwidth(c->se_rel * c->se_rel, n, alpha, n_star);
    c->ci_low = c->lift_rel - h;
    c->ci_high = c->lift_rel + h;
    h = aipm_stats_cs_halfwidth(c->se_abs * c->se_abs, n, alpha, n_star);
    c->ci_abs_low = c->lift_abs - h;
    c->ci_abs_high = c->lift_abs + h;
    /* The always-valid p-value: the smallest alpha whose sequence excludes
     * zero, by bisection on the (monotone) half-width. */
    if (c->lift_rel == 0) {
        c->p_value = 1;
        return AIPM_OK;
    }
    if (aipm_stats_cs_halfwidth(c->se_rel * c->se_rel, n, 1, n_star) >=
        fabs(c->lift_rel)) {
        c->p_value = 1;
        return AIPM_OK;
    }
    lo = 1e-300, hi = 1;
    for (int i = 0; i < 200; i++) {
        a = sqrt(lo * hi);
        /* Excluded at a: the p-value is at most a. */
        if (aipm_stats_cs_halfwidth(c->se_rel * c->se_rel, n, a, n_star) <
            fabs(c->lift_rel))
            hi = a;
        else
            lo = a;
    }
    c->p_value = hi >= 1 ? 1 : hi;
    return AIPM_OK;
}

int aipm_stats_bayes(aipm_bayes *b, double lift, double se, double alpha)
{
    double z;

    memset(b, 0, sizeof(*b));
    if (!(se > 0) || !(alpha > 0 && alpha < 1))
        return AIPM_EINVALID;
    z = lift / se;
    b->chance_to_win = gsl_cdf_ugaussian_P(z);
    /* E[max(0, -X)] and E[max(0, X)] for X ~ N(lift, se^2). */
    b->risk_treatment =
        se * gsl_ran_ugaussian_pdf(z) - lift * gsl_cdf_ugaussian_P(-z);
    b->risk_control =
        se * gsl_ran_ugaussian_pdf(z) + lift * gsl_cdf_ugaussian_P(z);
    b->ci_low = lift - gsl_cdf_ugaussian_Qinv(alpha / 2) * se;
    b->ci_high = lift + gsl_cdf_ugaussian_Qinv(alpha / 2) * se;
    return AIPM_OK;
}

static double cov(const aipm_cuped_group *g)
{
    return g->y.n > 1
               ? (g->sum_xy - g->x.sum * g->y.sum / g->y.n) / (g->y.n - 1)
               : 0;
}

int aipm_stats_cuped(aipm_cuped *out, const aipm_cuped_group *c,
                     const aipm_cuped_group *t)
{
    aipm_cuped_group all;
    double var_x, cov_xy, mean_x, var_y;
    const aipm_cuped_group *g[2] = {c, t};
    double *mean[2], *var[2];
    int i;

    memset(out, 0, sizeof(*out));
    mean[0] = &out->mean_c, mean[1] = &out->mean_t;
    var[0] = &out->var_c, var[1] = &out->var_t;
    all.y.n = c->y.n + t->y.n;
    all.y.sum = c->y.sum + t->y.sum;
    all.y.sum_sq = c->y.sum_sq + t->y.sum_sq;
    all.x.n = all.y.n;
    all.x.sum = c->x.sum + t->x.sum;
    all.x.sum_sq = c->x.sum_sq + t->x.sum_sq;
    all.sum_xy = c->sum_xy + t->sum_xy;
    if (c->y.n < 2 || t->y.n < 2)
        return AIPM_EINVALID;
    var_x = aipm_moments_var(&all.x, 0);
    cov_xy = cov(&all);
    mean_x = aipm_moments_mean(&all.x);
    out->theta = var_x > 0 ? cov_xy / var_x : 0;
    for (i = 0; i < 2; i++) {
        double vy = aipm_moments_var(&g[i]->y, 0);
        double vx = aipm_moments_var(&g[i]->x, 0);

        *mean[i] = aipm_moments_mean(&g[i]->y) -
                   out->theta * (aipm_moments_mean(&g[i]->x) - mean_x);
        *var[i] = fmax(0, vy + out->theta * out->theta * vx -
                              2 * out->theta * cov(g[i]));
    }
    var_y = aipm_moments_var(&all.y, 0);
    if (var_y > 0)
        out->variance_reduction =
            1 - fmax(0, var_y + out->theta * out->theta * var_x -
                            2 * out->theta * cov_xy) /
                    var_y;
    return AIPM_OK;
}

int aipm_stats_srm(double *chi2, double *p_value, const double *observed,
                   const double *weights, int k)
{
    double total = 0, wsum = 0, x = 0;
    int i;

    *chi2 = 0;
    *p_value = 1;
    if (k < 2)
        return AIPM_EINVALID;
    for (i = 0; i < k; i++) {
        total += observed[i];
        wsum += weights[i];
    }
    if (total <= 0 || wsum <= 0)
        return AIPM_EINVALID;
    for (i = 0; i < k; i++) {
        double expected = total * weights[i] / wsum;

        if (expected <= 0)
            return AIPM_EINVALID;
        x += (observed[i] - expected) * (observed[i] - expected) / expected;
    }
    *chi2 = x;
    *p_value = gsl_cdf_chisq_Q(x, k - 1);
    return AIPM_OK;
}

typedef struct ranked {
    double p;
    int i;
} ranked;

static int by_p(const void *a, const void *b)
{
    const ranked *x = a, *y = b;

    return x->p < y->p ? -1 : x->p > y->p ? 1 : x->i - y->i;
}

static ranked *rank(const double *p, int k)
{
    ranked *r = malloc((size_t)(k > 0 ? k : 1) * sizeof(*r));
    int i;

    if (r == NULL)
        return NULL;
    for (i = 0; i < k; i++)
        r[i].p = p[i], r[i].i = i;
    qsort(r, (size_t)k, sizeof(*r), by_p);
    return r;
}

/* Holm (1979): step-down, adjusted p_(j) = max over i <= j of
 * min(1, (k - i + 1) p_(i)). */
void aipm_stats_holm(double *adjusted, const double *p, int k)
{
    ranked *r = rank(p, k);
    double run = 0;
    int j;

    if (r == NULL) { /* no memory: the conservative Bonferroni */
        for (j = 0; j < k; j++)
            adjusted[j] = fmin(1, p[j] * k);
        return;
    }
    for (j = 0; j < k; j++) {
        run = fmax(run, fmin(1, (k - j) * r[j].p));
        adjusted[r[j].i] = run;
    }
    free(r);
}

/* Benjamini-Hochberg (1995): step-up, adjusted p_(j) = min over i >= j of
 * min(1, k p_(i) / i). */
void aipm_stats_bh(double *adjusted, const double *p, int k)
{
    ranked *r = rank(p, k);
    double run = 1;
    int j;

    if (r == NULL) {
        for (j = 0; j < k; j++)
            adjusted[j] = fmin(1, p[j] * k);
        return;
    }
    for (j = k - 1; j >= 0; j--) {
        run = fmin(run, fmin(1, r[j].p * k / (j + 1)));
        adjusted[r[j].i] = run;
    }
    free(r);
}

double aipm_stats_sample_size(double mean, double var, double mde, double alpha,
                              double power)
{
    double z =
        gsl_cdf_ugaussian_Qinv(alpha / 2) + gsl_cdf_ugaussian_Pinv(power);
    double effect = mde * mean;

    if (effect == 0 || var <= 0)
        return INFINITY;
    return ceil(2 * var * z * z / (effect * effect));
}
