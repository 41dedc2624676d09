/* prioritize_int.h - the pieces of the prioritization module (private).
 *
 * model.c: Bayesian linear regression with the conjugate normal-inverse-
 *   gamma prior, and draws from its posterior predictive;
 * plan.c: summaries of Monte Carlo draws (quantiles, CVaR) and the exact
 *   0/1 knapsack of the release plan;
 * signals.c: per-item features as of a date, and shipped items' outcomes;
 * prioritize.c: the command's job - train, draw, rank, plan, explain.
 */
#ifndef AIPM_PRIORITIZE_INT_H
#define AIPM_PRIORITIZE_INT_H

#include "aipm/core.h"

#include <stdint.h>

/* ---- model.c ---- */

#define AIPM_BLR_MAX_P 12

/* The posterior of y = X b + e, e ~ N(0, s2), with the prior
 * b | s2 ~ N(0, s2 V0), V0 = diag(prior_var), s2 ~ InvGamma(a0, b0):
 *   Ln = V0^-1 + X'X, mn = Ln^-1 X'y, an = a0 + n/2,
 *   bn = b0 + (y'y - mn' Ln mn) / 2
 * (Murphy, "Conjugate Bayesian analysis of the Gaussian distribution",
 * 2007, section 9; Bishop, PRML, 2006, section 3.3 for the known-variance
 * case). */
typedef struct aipm_blr {
    int p, n;
    double mn[AIPM_BLR_MAX_P];
    double cov[AIPM_BLR_MAX_P * AIPM_BLR_MAX_P]; /* Ln^-1 */
    double chol[AIPM_BLR_MAX_P * AIPM_BLR_MAX_P]; /* lower L, L L' = Ln^-1 */
    double an, bn;
} aipm_blr;

/* Fit on n rows of p features (X row-major, n x p; include a column of
 * ones for an intercept). AIPM_EINVALID when p is out of range or the
 * posterior precision is not positive definite. */
int aipm_blr_fit(aipm_blr *m, const double *X, const double *y, int n, int p,
                 const double *prior_var, double a0, double b0,
                 aipm_error *err);

/* The predictive distribution at x: Student t with dof 2 an, location
 * x' mn, scale^2 (bn / an) (1 + x' Ln^-1 x). */
void aipm_blr_predict(const aipm_blr *m, const double *x, double *loc,
                      double *scale, double *dof);

/* ---- plan.c ---- */

/* Summaries of n draws (reordered in place): the quantiles q[k] of the
 * probabilities probs[k] (type 7, as numpy and R default: linear between
 * order statistics), the mean, and the mean of the lowest
 * ceil(alpha * n) draws (the lower-tail CVaR). */
typedef struct aipm_draw_summary {
    double mean, cvar;
    double q[3]; /* P10, P50, P90 with the default probabilities */
} aipm_draw_summary;

void aipm_draws_summarize(aipm_draw_summary *out, double *x, int n,
                          double alpha);

/* The k-th smallest of x[0..n) (0-based), reordering x (quickselect). */
double aipm_select(double *x, int n, int k);

/* The 0/1 knapsack: choose items (weights in integral units, values)
 * maximising the total value within capacity; chosen[i] = 1 for a chosen
 * item. Items with value <= 0 or weight > capacity are never chosen.
 * Exact, by dynamic programming over capacities (O(n * capacity) time and
 * bits). Returns the best total value, or NAN when out of memory. */
double aipm_knapsack(const int *weight, const double *value, int n,
                     int capacity, unsigned char *chosen);

/* Spearman's rank correlation of x and y (average ranks for ties); NAN
 * for fewer than 3 pairs or a constant side. */
double aipm_spearman(const double *x, const double *y, int n);

#endif
