/* bass.c - the Bass diffusion model fitted by nonlinear least squares.
 *
 * The residuals are model(t) - y(t) over the periods; GSL's trust-region
 * solver (Levenberg-Marquardt steps; the per-period form's Jacobian is
 * analytic, the density form's by finite differences) works on
 * theta = (log p, log q, log m). Starting points: Bass's own regression
 * (y_t on 1, Y_{t-1}, Y_{t-1}^2), then a grid of p in {0.003, 0.01,
 * 0.03}, q in {0.1, 0.4, 0.8}, m in {1.5, 3} x the series' total, until
 * two starts reach the same least residual sum of squares.
 * Standard errors: the covariance s^2 (J'J)^-1 in theta, s^2 = RSS / (n - 3),
 * carried to p, q, m by the delta method (se_p = p se_log_p), which is what nls
 * in R and scipy's curve_fit report for the raw parameters at the optimum.
 */
#include "aipm/forecast.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double aipm_bass_share(double p, double q, double t)
{
    double e;

    if (t <= 0)
        return 0;
    e = exp(-(p + q) * t);
    return (1 - e) / (1 + q / p * e);
}

static double model(aipm_bass_form form, double p, double q, double m, double t)
{
    if (form == AIPM_BASS_DENSITY) {
        double e = exp(-(p + q) * t), d = 1 + q / p * e;

        return m * ((p + q) * (p + q) / p) * e / (d * d);
    }
    return m * (aipm_bass_share(p, q, t) - aipm_bass_share(p, q, t - 1));
}

double aipm_bass_period(aipm_bass_form form, const aipm_bass *b, double t)
{
    return model(form, b->p, b->q, b->m, t);
}

typedef struct series {
    const double *y;
    int n;
    aipm_bass_form form;
} series;

static int residuals(const gsl_vector *theta, void *params, gsl_vector *f)
{
    const series *s = params;
    double p = exp(gsl_vector_get(theta, 0));
    double q = exp(gsl_vector_get(theta, 1));
    double m = exp(gsl_vector_get(theta, 2));
    /* per-period: e^-(p+q)t by repeated multiplication (relative drift
     * about t 1e-16), F(t - 1) carried over */
    double F0 = 0, e1 = exp(-(p + q)), e = 1, rq = q / p;
    int i;

    for (i = 0; i < s->n; i++) {
        double r;

        if (s->form == AIPM_BASS_PER_PERIOD) {
            double F1;

            e *= e1;
            F1 = (1 - e) / (1 + rq * e);
            r = m * (F1 - F0) - s->y[i];
            F0 = F1;
        } else {
            r = model(s->form, p, q, m, i + 1) - s->y[i];
        }
        if (!isfinite(r))
            return GSL_EDOM;
        gsl_vector_set(f, (size_t)i, r);
    }
    return GSL_SUCCESS;
}

/* F(t) and its derivatives in log p and log q (p dF/dp, q dF/dq), given
 * e = e^-(p+q)t. With r = q/p: dF/de = -(1 + r) / (1 + r e)^2,
 * dF/dr = -(1 - e) e / (1 + r e)^2, de/dp = de/dq = -t e, dr/dp = -q/p^2,
 * dr/dq = 1/p. */
static void share_grad(double p, double q, double t, double e, double *F,
                       double *dlp, double *dlq)
{
    double r = q / p, d, dfe, dfr;

    d = 1 + r * e;
    dfe = -(1 + r) / (d * d);
    dfr = -(1 - e) * e / (d * d);
    *F = (1 - e) / d;
    *dlp = p * (dfe * -t * e + dfr * -q / (p * p));
    *dlq = q * (dfe * -t * e + dfr / p);
}

/* The per-period form's Jacobian in theta: m (F(t) - F(t-1)) by log p,
 * log q and log m. */
static int jacobian(const gsl_vector *theta, void *params, gsl_matrix *J)
{
    const series *s = params;
    double p = exp(gsl_vector_get(theta, 0));
    double q = exp(gsl_vector_get(theta, 1));
    double m = exp(gsl_vector_get(theta, 2));
    double F0 = 0, a0 = 0, b0 = 0, e1 = exp(-(p + q)), e = 1;
    int i;

    for (i = 0; i < s->n; i++) {
        double F1, a1, b1;

        e *= e1; /* e^-(p+q)t, as in residuals() */
        share_grad(p, q, i + 1, e, &F1, &a1, &b1);
        gsl_matrix_set(J, (size_t)i, 0, m * (a1 - a0));
        gsl_matrix_set(J, (size_t)i, 1, m * (b1 - b0));
        gsl_matrix_set(J, (size_t)i, 2, m * (F1 - F0));
        if (!isfinite(m * (a1 - a0)) || !isfinite(m * (b1 - b0)))
            return GSL_EDOM;
        F0 = F1, a0 = a1, b0 = b1;
    }
    return GSL_SUCCESS;
}

/* One start on workspace w (GSL_SUCCESS or an error): the fitted theta,
 * its RSS and covariance. */
static int solve(gsl_multifit_nlinear_workspace *w,
                 gsl_multifit_nlinear_fdf *fdf, gsl_matrix *covar,
                 const double start[3], double theta[3], double *rss,
                 double cov[9])
{
    double x0[3];
    gsl_vector_view x = gsl_vector_view_array(x0, 3);
    int status, info, i, j;

    memcpy(x0, start, sizeof(x0));
    status = gsl_multifit_nlinear_init(&x.vector, fdf, w);
    if (status == GSL_SUCCESS)
        status = gsl_multifit_nlinear_driver(500, 1e-10, 1e-10, 1e-10, NULL,
                                             NULL, &info, w);
    if (status == GSL_SUCCESS || status == GSL_EMAXITER) {
        gsl_vector *f = gsl_multifit_nlinear_residual(w);
        gsl_vector *pos = gsl_multifit_nlinear_position(w);

        gsl_blas_ddot(f, f, rss);
        for (i = 0; i < 3; i++)
            theta[i] = gsl_vector_get(pos, (size_t)i);
        status =
            gsl_multifit_nlinear_covar(gsl_multifit_nlinear_jac(w), 0.0, covar);
        for (i = 0; i < 3; i++)
            for (j = 0; j < 3; j++)
                cov[i * 3 + j] = gsl_matrix_get(covar, (size_t)i, (size_t)j);
    }
    return status;
}

/* Bass (1969)'s start: the least-squares fit of y_t = a + b Y + c Y^2, Y
 * the adopters before period t, gives m from c m^2 + b m + a = 0,
 * p = a / m, q = -c m. 0 when the regression does not give a valid
 * Bass model. */
static int ols_start(const double *y, int n, double start[3])
{
    double S[3][4] = {{0}}, Y = 0, a, b, c, det, disc, m;
    int i, j, k;

    for (i = 0; i < n; i++) {
        double x[3] = {1, Y, Y * Y};

        for (j = 0; j < 3; j++) {
            for (k = 0; k < 3; k++)
                S[j][k] += x[j] * x[k];
            S[j][3] += x[j] * y[i];
        }
        Y += y[i];
    }
    /* Cramer's rule on the 3x3 normal equations. */
#define DET3(a00, a01, a02, a10, a11, a12, a20, a21, a22)                      \
    ((a00) * ((a11) * (a22) - (a12) * (a21)) -                                 \
     (a01) * ((a10) * (a22) - (a12) * (a20)) +                                 \
     (a02) * ((a10) * (a21) - (a11) * (a20)))
    det = DET3(S[0][0], S[0][1], S[0][2], S[1][0], S[1][1], S[1][2], S[2][0],
               S[2][1], S[2][2]);
    if (!(fabs(det) > 0) || !isfinite(det))
        return 0;
    a = DET3(S[0][3], S[0][1], S[0][2], S[1][3], S[1][1], S[1][2], S[2][3],
             S[2][1], S[2][2]) /
        det;
    b = DET3(S[0][0], S[0][3], S[0][2], S[1][0], S[1][3], S[1][2], S[2][0],
             S[2][3], S[2][2]) /
        det;
    c = DET3(S[0][0], S[0][1], S[0][3], S[1][0], S[1][1], S[1][3], S[2][0],
             S[2][1], S[2][3]) /
        det;
#undef DET3
    disc = b * b - 4 * a * c;
    if (!(c < 0) || !(a > 0) || !(disc >= 0))
        return 0;
    m = (-b - sqrt(disc)) / (2 * c);
    if (!(m > 0) || !isfinite(m) || !(-c * m > 0))
        return 0;
    start[0] = log(a / m);
    start[1] = log(-c * m);
    start[2] = log(m);
    return isfinite(start[0]) && isfinite(start[1]) && isfinite(start[2]);
}

int aipm_bass_fit(aipm_bass *out, const double *y, int n, aipm_bass_form form,
                  aipm_error *err)
{
    static const double p0[] = {0.003, 0.01, 0.03}, q0[] = {0.1, 0.4, 0.8};
    /* after the regression: p 0.01, q 0.2, m 1.5 x total (the start a
     * scipy user would give curve_fit), then the grid */
    static const double mid[] = {0.01, 0.2, 1.5};
    static const double m0[] = {1.5, 3};
    series s = {y, n, form};
    gsl_multifit_nlinear_parameters fp =
        gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_fdf fdf;
    gsl_multifit_nlinear_workspace *w;
    gsl_matrix *covar;
    double total = 0, best = INFINITY, best_theta[3] = {0}, best_cov[9] = {0};
    gsl_error_handler_t *old;
    int i, agree;

    memset(out, 0, sizeof(*out));
    if (n < 4)
        return aipm_error_set(err, AIPM_EINVALID,
                              "a Bass fit needs at least 4 periods, got %d", n);
    for (i = 0; i < n; i++) {
        if (!isfinite(y[i]) || y[i] < 0)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "period %d: adopters must be a number >= 0",
                                  i + 1);
        total += y[i];
    }
    if (total <= 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "no adopters in the series: nothing to fit");
    /* 3 parameters: Cholesky on J'J; Levenberg scaling (faster here than
     * the default More scaling, with the same optima on the benchmark) */
    fp.solver = gsl_multifit_nlinear_solver_cholesky;
    fp.scale = gsl_multifit_nlinear_scale_levenberg;
    memset(&fdf, 0, sizeof(fdf));
    fdf.f = residuals;
    /* analytic for the per-period form; finite differences for density */
    fdf.df = form == AIPM_BASS_PER_PERIOD ? jacobian : NULL;
    fdf.n = (size_t)n;
    fdf.p = 3;
    fdf.params = &s;
    w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, (size_t)n,
                                   3);
    covar = gsl_matrix_alloc(3, 3);
    if (w == NULL || covar == NULL) {
        gsl_matrix_free(covar);
        if (w)
            gsl_multifit_nlinear_free(w);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory (Bass fit)");
    }
    old = gsl_set_error_handler_off();
    /* Bass's own regression first, then the middle start, then the grid;
     * stop once two starts have reached the best optimum (within 1e-9 of
     * its RSS). */
    for (i = -2, agree = 0; i < 18 && agree < 2; i++) {
        double start[3], theta[3], rss, cov[9];

        if (i == -2) {
            if (!ols_start(y, n, start))
                continue;
        } else if (i == -1) {
            start[0] = log(mid[0]);
            start[1] = log(mid[1]);
            start[2] = log(mid[2] * total);
        } else {
            start[0] = log(p0[i / 6]);
            start[1] = log(q0[(i / 2) % 3]);
            start[2] = log(m0[i % 2] * total);
        }
        if (solve(w, &fdf, covar, start, theta, &rss, cov) != GSL_SUCCESS ||
            !isfinite(rss))
            continue;
        if (rss < best * (1 - 1e-9)) {
            agree = fabs(rss - best) <= 1e-9 * rss ? agree + 1 : 1;
            best = rss;
            memcpy(best_theta, theta, sizeof(theta));
            memcpy(best_cov, cov, sizeof(cov));
        } else if (rss <= best * (1 + 1e-9)) {
            agree++;
        }
    }
    gsl_set_error_handler(old);
    gsl_matrix_free(covar);
    gsl_multifit_nlinear_free(w);
    if (!isfinite(best))
        return aipm_error_set(err, AIPM_EINVALID,
                              "the Bass model did not fit this series");
    out->p = exp(best_theta[0]);
    out->q = exp(best_theta[1]);
    out->m = exp(best_theta[2]);
    out->rss = best;
    out->n = n;
    if (n > 3) {
        double s2 = best / (n - 3);

        for (i = 0; i < 9; i++)
            out->cov[i] = s2 * best_cov[i];

        out->se_p = out->p * sqrt(s2 * best_cov[0]);
        out->se_q = out->q * sqrt(s2 * best_cov[4]);
        out->se_m = out->m * sqrt(s2 * best_cov[8]);
    }
    return AIPM_OK;
}
