/* bass.c - the Bass diffusion model fitted by nonlinear least squares.
 *
 * The residuals are model(t) - y(t) over the periods, minimised over
 * theta = (log p, log q, log m): the per-period form by the
 * three-parameter Levenberg-Marquardt below (analytic Jacobian), the
 * density form by GSL's trust-region solver (finite differences). Starting
 * points: Bass's own regression (y_t on 1, Y_{t-1}, Y_{t-1}^2), then a grid of
 * p in {0.003, 0.01, 0.03}, q in {0.1, 0.4, 0.8}, m in {1.5, 3} x the series'
 * total, until two starts reach the same least residual sum of squares.
 * Standard errors: the covariance s^2 (J'J)^-1 in theta, s^2 = RSS / (n - 3),
 * carried to p, q, m by the delta method (se_p = p se_log_p), which is what nls
 * in R and scipy's curve_fit report for the raw parameters at the optimum.
 */
#include "forecast/forecast_int.h"

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

/* ---- the per-period form: a three-parameter Levenberg-Marquardt ----
 *
 * GSL's general solver spent more than half of a fit in BLAS calls on
 * 3-column matrices (norms, J'f, J'J through the reference CBLAS). This
 * one keeps only what three parameters need: one pass over the periods
 * gives 1/2 RSS, the gradient g = J'r and A = J'J; the step solves
 * (A + mu I) h = -g by Cholesky, mu updated by the gain ratio (Madsen,
 * Nielsen and Tingleff, Methods for Non-Linear Least Squares Problems,
 * 2004, algorithm 3.16). It stops, as GSL's driver did, when the step or
 * the scaled gradient is below 1e-10, or the RSS stops falling. The
 * covariance is A^-1 at the optimum (the caller scales it by s^2). */
static int pp_eval(const series *s, const double th[3], double A[9],
                   double g[3], double *half_rss)
{
    double p = exp(th[0]), q = exp(th[1]), m = exp(th[2]);
    double F0 = 0, a0 = 0, b0 = 0, e1 = exp(-(p + q)), e = 1, f = 0;
    int i, j, k;

    memset(A, 0, 9 * sizeof(double));
    memset(g, 0, 3 * sizeof(double));
    for (i = 0; i < s->n; i++) {
        double F1, a1, b1, jr[3], r;

        e *= e1;
        share_grad(p, q, i + 1, e, &F1, &a1, &b1);
        jr[0] = m * (a1 - a0);
        jr[1] = m * (b1 - b0);
        jr[2] = m * (F1 - F0);
        r = jr[2] - s->y[i];
        f += r * r;
        for (j = 0; j < 3; j++) {
            g[j] += jr[j] * r;
            for (k = 0; k <= j; k++)
                A[j * 3 + k] += jr[j] * jr[k];
        }
        F0 = F1, a0 = a1, b0 = b1;
    }
    A[1] = A[3], A[2] = A[6], A[5] = A[7];
    *half_rss = f / 2;
    for (j = 0; j < 9; j++)
        if (!isfinite(A[j]))
            return -1;
    return isfinite(f) && isfinite(g[0]) && isfinite(g[1]) && isfinite(g[2])
               ? 0
               : -1;
}

static int lm3(const series *s, const double start[3], double theta[3],
               double *rss, double cov[9])
{
    double th[3], A[9], g[3], F, mu, nu = 2;
    int it, i;

    memcpy(th, start, sizeof(th));
    if (pp_eval(s, th, A, g, &F) != 0)
        return GSL_EDOM;
    mu = 1e-3 * fmax(A[0], fmax(A[4], A[8]));
    for (it = 0; it < 500; it++) {
        double M[9], h[3], ng[3] = {-g[0], -g[1], -g[2]}, tn[3], An[9], gn[3];
        double Fn, pred, rho, gmax = 0, hmax = 0;

        for (i = 0; i < 3; i++)
            gmax = fmax(gmax, fabs(g[i]) * fmax(fabs(th[i]), 1));
        if (gmax <= 1e-10 * fmax(2 * F, 1))
            break;
        memcpy(M, A, sizeof(M));
        for (i = 0; i < 3; i++)
            M[i * 4] += mu;
        if (!aipm_forecast__solve3(M, ng, h)) {
            mu *= nu;
            nu *= 2;
            continue;
        }
        for (i = 0; i < 3; i++) {
            hmax = fmax(hmax, fabs(h[i]) / (fabs(th[i]) + 1e-10));
            tn[i] = th[i] + h[i];
        }
        if (hmax <= 1e-10)
            break;
        pred = 0.5 * (mu * (h[0] * h[0] + h[1] * h[1] + h[2] * h[2]) -
                      (h[0] * g[0] + h[1] * g[1] + h[2] * g[2]));
        rho =
            pp_eval(s, tn, An, gn, &Fn) == 0 && pred > 0 ? (F - Fn) / pred : -1;
        if (rho > 0) {
            int flat = F - Fn <= 1e-15 * F;
            double c = 2 * rho - 1;

            memcpy(th, tn, sizeof(th));
            memcpy(A, An, sizeof(A));
            memcpy(g, gn, sizeof(g));
            F = Fn;
            mu *= fmax(1.0 / 3, 1 - c * c * c);
            nu = 2;
            if (flat)
                break;
        } else {
            mu *= nu;
            nu *= 2;
        }
        if (!isfinite(mu) || mu > 1e300)
            break;
    }
    memcpy(theta, th, sizeof(th));
    *rss = 2 * F;
    if (!aipm_forecast__inv3(A, cov)) /* the covariance: A^-1 */
        for (i = 0; i < 9; i++)
            cov[i] = NAN;
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
    fdf.df = NULL; /* the density form: finite differences */
    fdf.n = (size_t)n;
    fdf.p = 3;
    fdf.params = &s;
    /* GSL's solver for the density form only */
    w = form == AIPM_BASS_DENSITY
            ? gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp,
                                         (size_t)n, 3)
            : NULL;
    covar = w ? gsl_matrix_alloc(3, 3) : NULL;
    if (form == AIPM_BASS_DENSITY && (w == NULL || covar == NULL)) {
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
        if ((form == AIPM_BASS_PER_PERIOD ? lm3(&s, start, theta, &rss, cov)
                                          : solve(w, &fdf, covar, start, theta,
                                                  &rss, cov)) != GSL_SUCCESS ||
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
    if (w)
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
