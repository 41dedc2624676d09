/* model.c - Bayesian linear regression, normal-inverse-gamma prior.
 *
 * The posterior precision Ln = V0^-1 + X'X is factored by Cholesky (GSL);
 * its inverse is the posterior covariance of b per unit of s2, and the
 * Cholesky factor of that inverse is kept so that a draw of b is
 * mn + sqrt(s2) L z with z standard normal.
 */
#include "prioritize/prioritize_int.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <string.h>

int aipm_blr_fit(aipm_blr *m, const double *X, const double *y, int n, int p,
                 const double *prior_mean, const double *prior_var, double a0,
                 double b0, aipm_error *err)
{
    double prec[AIPM_BLR_MAX_P * AIPM_BLR_MAX_P], xty[AIPM_BLR_MAX_P];
    double yty = 0, quad = 0, m0;
    gsl_matrix_view L;
    gsl_error_handler_t *old;
    int i, j, k, status;

    memset(m, 0, sizeof(*m));
    if (p < 1 || p > AIPM_BLR_MAX_P || n < 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "regression: %d features (1..%d)", p,
                              AIPM_BLR_MAX_P);
    for (i = 0; i < p; i++) {
        if (!(prior_var[i] > 0))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "regression: prior variances must be > 0");
        /* V0^-1 m0 starts the right-hand side; m0' V0^-1 m0 joins y'y. */
        m0 = prior_mean ? prior_mean[i] : 0;
        xty[i] = m0 / prior_var[i];
        yty += m0 * m0 / prior_var[i];
        for (j = 0; j < p; j++)
            prec[i * p + j] = i == j ? 1 / prior_var[i] : 0;
    }
    for (k = 0; k < n; k++) {
        const double *x = X + (size_t)k * p;

        for (i = 0; i < p; i++) {
            xty[i] += x[i] * y[k];
            for (j = 0; j <= i; j++)
                prec[i * p + j] += x[i] * x[j];
        }
        yty += y[k] * y[k];
    }
    for (i = 0; i < p; i++)
        for (j = 0; j < i; j++)
            prec[j * p + i] = prec[i * p + j];

    /* cov = prec^-1 through the Cholesky factor of prec. */
    memcpy(m->cov, prec, sizeof(double) * (size_t)(p * p));
    L = gsl_matrix_view_array(m->cov, (size_t)p, (size_t)p);
    old = gsl_set_error_handler_off();
    status = gsl_linalg_cholesky_decomp1(&L.matrix);
    if (status == GSL_SUCCESS)
        status = gsl_linalg_cholesky_invert(&L.matrix);
    gsl_set_error_handler(old);
    if (status != GSL_SUCCESS)
        return aipm_error_set(err, AIPM_EINVALID,
                              "regression: the posterior precision is not "
                              "positive definite");
    for (i = 0; i < p; i++) {
        m->mn[i] = 0;
        for (j = 0; j < p; j++)
            m->mn[i] += m->cov[i * p + j] * xty[j];
    }
    for (i = 0; i < p; i++)
        for (j = 0; j < p; j++)
            quad += m->mn[i] * prec[i * p + j] * m->mn[j];
    /* The factor of cov, for draws of b. */
    memcpy(m->chol, m->cov, sizeof(double) * (size_t)(p * p));
    L = gsl_matrix_view_array(m->chol, (size_t)p, (size_t)p);
    old = gsl_set_error_handler_off();
    status = gsl_linalg_cholesky_decomp1(&L.matrix);
    gsl_set_error_handler(old);
    if (status != GSL_SUCCESS)
        return aipm_error_set(err, AIPM_EINVALID,
                              "regression: the posterior covariance is not "
                              "positive definite");
    for (i = 0; i < p; i++) /* keep the lower triangle only */
        for (j = i + 1; j < p; j++)
            m->chol[i * p + j] = 0;
    m->p = p;
    m->n = n;
    m->an = a0 + n / 2.0;
    m->bn = b0 + 0.5 * (yty - quad);
    if (m->bn <= 0) /* rounding on a perfect fit */
        m->bn = b0 > 0 ? b0 : 1e-12;
    return AIPM_OK;
}

void aipm_blr_predict(const aipm_blr *m, const double *x, double *loc,
                      double *scale, double *dof)
{
    double mu = 0, q = 0;
    int i, j, p = m->p;

    for (i = 0; i < p; i++) {
        mu += x[i] * m->mn[i];
        for (j = 0; j < p; j++)
            q += x[i] * m->cov[i * p + j] * x[j];
    }
    *loc = mu;
    *scale = sqrt(m->bn / m->an * (1 + q));
    *dof = 2 * m->an;
}
