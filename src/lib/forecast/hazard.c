/* hazard.c - the discrete-time hazard model with a cure fraction.
 *
 * The marginal log-likelihood (forecast.h's notation; S_i the user's
 * survival over its at-risk days, prod over runs (1 - h(s))^days):
 *   adopter:     log pi + log S_i + log h(s_event)
 *   non-adopter: log(pi S_i + 1 - pi)
 * First 20 EM steps (the E step gives each non-adopter its posterior
 * eligibility w_i = pi S_i / (pi S_i + 1 - pi); the M step sets pi to the
 * mean of w, adopters counting 1, and takes a Newton step on the weighted
 * logistic log-likelihood of (alpha, beta)), then Newton-Raphson on the
 * marginal likelihood itself with its analytic Hessian, whose inverse at
 * the optimum gives the standard errors. EM alone crawls here: pi and
 * alpha trade off. A weak normal prior (sd 20) on alpha and beta
 * keeps them finite when the data separate.
 */
#include "forecast/forecast_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRIOR_VAR 400.0
#define EM_STEPS 20

double aipm_hazard_prob(double alpha, double beta, double s)
{
    double z = alpha + beta * s;

    return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

/* log(1 - h) and log h without cancellation. */
static double log1m_h(double z)
{
    return z > 0 ? -z - log1p(exp(-z)) : -log1p(exp(z));
}

static double log_h(double z)
{
    return z < 0 ? z - log1p(exp(z)) : -log1p(exp(-z));
}

/* The user's log survival over its runs. */
static double log_surv(const aipm_hazard_data *d, int i, double a, double b)
{
    double ls = 0;
    int64_t k;

    for (k = d->run_start[i]; k < d->run_start[i + 1]; k++)
        ls += d->run_days[k] * log1m_h(a + b * d->run_s[k]);
    return ls;
}

/* The marginal log-likelihood; w (may be NULL) gets the posteriors. */
static double marginal(const aipm_hazard_data *d, double a, double b, double pi,
                       double *w)
{
    double ll = -(a * a + b * b) / (2 * PRIOR_VAR);
    double lpi = log(pi), l1pi = pi < 1 ? log1p(-pi) : -INFINITY;
    int i;

    for (i = 0; i < d->n_users; i++) {
        double ls = log_surv(d, i, a, b);

        if (!isnan(d->event_s[i])) {
            ll += lpi + ls + log_h(a + b * d->event_s[i]);
            if (w)
                w[i] = 1;
        } else {
            /* log(pi S + 1 - pi), stable on either side */
            double x = lpi + ls, y = l1pi, mx = x > y ? x : y;
            double l = mx + log(exp(x - mx) + exp(y - mx));

            ll += l;
            if (w)
                w[i] = exp(x - l);
        }
    }
    return ll;
}

/* One Newton step on the weighted logistic log-likelihood (step halving
 * until it does not fall). */
static void newton(const aipm_hazard_data *d, const double *w, double *a,
                   double *b)
{
    double g0 = -*a / PRIOR_VAR, g1 = -*b / PRIOR_VAR;
    double h00 = 1 / PRIOR_VAR, h01 = 0, h11 = 1 / PRIOR_VAR, det, da, db;
    double q0 = 0, step;
    int i, tries;

    for (i = 0; i < d->n_users; i++) {
        int64_t k;

        for (k = d->run_start[i]; k < d->run_start[i + 1]; k++) {
            double s = d->run_s[k], om = w[i] * d->run_days[k];
            double h = aipm_hazard_prob(*a, *b, s), v = om * h * (1 - h);

            g0 -= om * h;
            g1 -= om * h * s;
            h00 += v;
            h01 += v * s;
            h11 += v * s * s;
        }
        if (!isnan(d->event_s[i])) {
            double s = d->event_s[i], h = aipm_hazard_prob(*a, *b, s);
            double v = h * (1 - h);

            g0 += 1 - h;
            g1 += (1 - h) * s;
            h00 += v;
            h01 += v * s;
            h11 += v * s * s;
        }
    }
    det = h00 * h11 - h01 * h01;
    if (!(det > 0))
        return;
    da = (h11 * g0 - h01 * g1) / det;
    db = (h00 * g1 - h01 * g0) / det;
    /* The weighted objective, to check the step. */
    for (tries = 0, step = 1; tries < 30; tries++, step /= 2) {
        double na = *a + step * da, nb = *b + step * db, q1;

        q1 = -(na * na + nb * nb) / (2 * PRIOR_VAR);
        if (tries == 0)
            q0 = -(*a * *a + *b * *b) / (2 * PRIOR_VAR);
        for (i = 0; i < d->n_users; i++) {
            int64_t k;

            for (k = d->run_start[i]; k < d->run_start[i + 1]; k++) {
                q1 += w[i] * d->run_days[k] * log1m_h(na + nb * d->run_s[k]);
                if (tries == 0)
                    q0 +=
                        w[i] * d->run_days[k] * log1m_h(*a + *b * d->run_s[k]);
            }
            if (!isnan(d->event_s[i])) {
                q1 += log_h(na + nb * d->event_s[i]);
                if (tries == 0)
                    q0 += log_h(*a + *b * d->event_s[i]);
            }
        }
        if (q1 >= q0 - 1e-12 * fabs(q0)) {
            *a = na;
            *b = nb;
            return;
        }
    }
}

int aipm_forecast__chol3(const double c[9], double l[9])
{
    int i, j, k;

    memset(l, 0, 9 * sizeof(double));
    for (j = 0; j < 3; j++) {
        double s = c[j * 3 + j];

        for (k = 0; k < j; k++)
            s -= l[j * 3 + k] * l[j * 3 + k];
        if (c[j * 3 + j] == 0 && s == 0)
            continue; /* a parameter held fixed: its column stays zero */
        if (!(s > 0) || !isfinite(s)) {
            memset(l, 0, 9 * sizeof(double));
            return 0;
        }
        l[j * 3 + j] = sqrt(s);
        for (i = j + 1; i < 3; i++) {
            double t = c[i * 3 + j];

            for (k = 0; k < j; k++)
                t -= l[i * 3 + k] * l[j * 3 + k];
            l[i * 3 + j] = t / l[j * 3 + j];
        }
    }
    return 1;
}

int aipm_forecast__solve3(const double M[9], const double b[3], double x[3])
{
    double l[9], y[3];
    int i, j;

    if (!aipm_forecast__chol3(M, l) || l[0] == 0 || l[4] == 0 || l[8] == 0)
        return 0;
    for (i = 0; i < 3; i++) {
        double t = b[i];

        for (j = 0; j < i; j++)
            t -= l[i * 3 + j] * y[j];
        y[i] = t / l[i * 3 + i];
    }
    for (i = 2; i >= 0; i--) {
        double t = y[i];

        for (j = i + 1; j < 3; j++)
            t -= l[j * 3 + i] * x[j];
        x[i] = t / l[i * 3 + i];
    }
    return 1;
}

int aipm_forecast__inv3(const double m[9], double out[9])
{
    int c;

    for (c = 0; c < 3; c++) {
        double e[3] = {c == 0, c == 1, c == 2}, col[3];

        if (!aipm_forecast__solve3(m, e, col))
            return 0;
        out[c] = col[0];
        out[3 + c] = col[1];
        out[6 + c] = col[2];
    }
    return 1;
}

/* The marginal log-likelihood with its gradient g and Hessian H in
 * th = (alpha, beta, logit pi). With ls the log survival and
 * w = sigma(logit pi + ls) a non-adopter's posterior eligibility:
 *   non-adopter: dL = w dls + (w - pi) dl,
 *                d2L = w d2ls + w (1 - w) (dls, 1)(dls, 1)' - pi (1 - pi) e3
 * e3' adopter:     L = log pi + ls + log h_e: dL = dls + (1 - h_e) x_e
 *                + (1 - pi) e3, d2L = d2ls - h_e (1 - h_e) x_e x_e'
 *                - pi (1 - pi) e3 e3'
 * (x = (1, s); dls = -sum days h x, d2ls = -sum days h (1 - h) x x'). */
static double derivs(const aipm_hazard_data *d, const double th[3], double g[3],
                     double H[9])
{
    double a = th[0], b = th[1], pi = 1 / (1 + exp(-th[2]));
    double ll = -(a * a + b * b) / (2 * PRIOR_VAR), v = pi * (1 - pi);
    double lpi = log(pi), l1pi = log1p(-pi);
    int i;

    memset(H, 0, 9 * sizeof(double));
    g[0] = -a / PRIOR_VAR;
    g[1] = -b / PRIOR_VAR;
    g[2] = 0;
    H[0] = H[4] = -1 / PRIOR_VAR;
    for (i = 0; i < d->n_users; i++) {
        double ls = 0, d0 = 0, d1 = 0, h00 = 0, h01 = 0, h11 = 0;
        int64_t k;

        for (k = d->run_start[i]; k < d->run_start[i + 1]; k++) {
            double s = d->run_s[k], z = a + b * s, c = d->run_days[k];
            double h = aipm_hazard_prob(a, b, s), t = c * h * (1 - h);

            ls += c * log1m_h(z);
            d0 -= c * h;
            d1 -= c * h * s;
            h00 -= t;
            h01 -= t * s;
            h11 -= t * s * s;
        }
        if (!isnan(d->event_s[i])) {
            double s = d->event_s[i], h = aipm_hazard_prob(a, b, s);
            double t = h * (1 - h);

            ll += lpi + ls + log_h(a + b * s);
            g[0] += d0 + (1 - h);
            g[1] += d1 + (1 - h) * s;
            g[2] += 1 - pi;
            H[0] += h00 - t;
            H[1] += h01 - t * s;
            H[4] += h11 - t * s * s;
            H[8] -= v;
        } else {
            double x = lpi + ls, mx = x > l1pi ? x : l1pi;
            double l = mx + log(exp(x - mx) + exp(l1pi - mx));
            double w = exp(x - l), u = w * (1 - w);

            ll += l;
            g[0] += w * d0;
            g[1] += w * d1;
            g[2] += w - pi;
            H[0] += w * h00 + u * d0 * d0;
            H[1] += w * h01 + u * d0 * d1;
            H[4] += w * h11 + u * d1 * d1;
            H[2] += u * d0;
            H[5] += u * d1;
            H[8] += u - v;
        }
    }
    H[3] = H[1];
    H[6] = H[2];
    H[7] = H[5];
    return ll;
}

/* Newton-Raphson on the marginal likelihood from th (np: 2 with pi held,
 * 3 without), damped (Levenberg) where the Hessian is not negative
 * definite, with step halving; returns the iterations. */
static int maximise(const aipm_hazard_data *d, double th[3], int np)
{
    double g[3], H[9], ll;
    int it;

    ll = derivs(d, th, g, H);
    for (it = 0; it < 200; it++) {
        double A[9], inv[9], step[3], lambda = 0, nth[3], ng[3], nH[9], nll;
        double gnorm = 0, t;
        int i, j, ok = 0;

        for (i = 0; i < np; i++)
            gnorm += g[i] * g[i];
        if (sqrt(gnorm) < 1e-9 * (1 + fabs(ll)))
            break;
        for (j = 0; j < 40 && !ok; j++) {
            for (i = 0; i < 9; i++)
                A[i] = -H[i];
            if (np < 3) {
                A[2] = A[5] = A[6] = A[7] = 0;
                A[8] = 1;
            }
            for (i = 0; i < 3; i++)
                A[i * 3 + i] += lambda;
            ok = aipm_forecast__inv3(A, inv);
            lambda =
                lambda ? lambda * 10 : 1e-6 * (1 + fabs(A[0]) + fabs(A[4]));
        }
        if (!ok)
            break;
        for (i = 0; i < 3; i++)
            step[i] = i < np ? inv[i * 3] * g[0] + inv[i * 3 + 1] * g[1] +
                                   (np > 2 ? inv[i * 3 + 2] * g[2] : 0)
                             : 0;
        for (t = 1, j = 0; j < 40; j++, t /= 2) {
            for (i = 0; i < 3; i++)
                nth[i] = th[i] + t * step[i];
            nll = derivs(d, nth, ng, nH);
            if (isfinite(nll) && nll >= ll - 1e-12 * fabs(ll))
                break;
        }
        if (j == 40)
            break;
        memcpy(th, nth, sizeof(nth));
        memcpy(g, ng, sizeof(ng));
        memcpy(H, nH, sizeof(nH));
        if (fabs(nll - ll) < 1e-13 * fabs(ll) && t < 1) {
            ll = nll;
            break;
        }
        ll = nll;
    }
    return it;
}

int aipm_hazard_fit(aipm_hazard *out, const aipm_hazard_data *d,
                    double fixed_pi, double *w_out, aipm_error *err)
{
    double *w, a, b, pi, ll, th[3], g[3], info[9], cov[9];
    double ame = 0, ame_w = 0, sum_w;
    int64_t days = 0, k;
    int i, it, events = 0, np;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < d->n_users; i++) {
        events += !isnan(d->event_s[i]);
        for (k = d->run_start[i]; k < d->run_start[i + 1]; k++)
            days += d->run_days[k];
    }
    days += events;
    if (events == 0 || days == 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "no adopters among the users at risk: the "
                              "hazard model has nothing to fit");
    if ((w = malloc((size_t)d->n_users * sizeof(double) + 1)) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory (hazard fit)");
    /* A few EM steps from pi 0.9, alpha the pooled log-odds, beta 0, then
     * Newton on the marginal likelihood (EM alone crawls when pi and
     * alpha trade off). */
    pi = fixed_pi > 0 ? fixed_pi : 0.9;
    a = log((double)events / (double)(days - events + 1));
    b = 0;
    for (it = 0; it < EM_STEPS; it++) {
        marginal(d, a, b, pi, w);
        if (fixed_pi <= 0) {
            for (sum_w = 0, i = 0; i < d->n_users; i++)
                sum_w += w[i];
            pi = sum_w / d->n_users;
            if (pi > 1 - 1e-6)
                pi = 1 - 1e-6;
        }
        newton(d, w, &a, &b);
    }
    th[0] = a;
    th[1] = b;
    th[2] = fixed_pi >= 1 ? 40 : log(pi / (1 - pi));
    np = fixed_pi > 0 ? 2 : 3;
    it += maximise(d, th, np);
    a = th[0];
    b = th[1];
    pi = fixed_pi > 0 ? fixed_pi : 1 / (1 + exp(-th[2]));
    ll = marginal(d, a, b, pi, w);
    derivs(d, th, g, info);
    for (i = 0; i < 9; i++)
        info[i] = -info[i];
    if (np < 3) {
        info[2] = info[5] = info[6] = info[7] = 0;
        info[8] = 1;
    }
    if (aipm_forecast__inv3(info, cov)) {
        if (np < 3)
            cov[2] = cov[5] = cov[6] = cov[7] = cov[8] = 0;
        memcpy(out->cov, cov, sizeof(cov));
        out->se_alpha = sqrt(cov[0]);
        out->se_beta = sqrt(cov[4]);
        out->se_pi = pi * (1 - pi) * sqrt(cov[8]); /* delta method */
    } else {
        out->se_alpha = out->se_beta = out->se_pi = NAN;
    }
    for (i = 0; i < d->n_users; i++) {
        for (k = d->run_start[i]; k < d->run_start[i + 1]; k++) {
            double h = aipm_hazard_prob(a, b, d->run_s[k]);
            double om = w[i] * d->run_days[k];

            ame += om * b * h * (1 - h);
            ame_w += om;
        }
        if (!isnan(d->event_s[i])) {
            double h = aipm_hazard_prob(a, b, d->event_s[i]);

            ame += b * h * (1 - h);
            ame_w += 1;
        }
    }
    if (w_out)
        memcpy(w_out, w, (size_t)d->n_users * sizeof(double));
    free(w);
    out->alpha = a;
    out->beta = b;
    out->pi = pi;
    out->ame = ame_w > 0 ? ame / ame_w : 0;
    out->loglik = ll;
    out->iterations = it;
    out->n_users = d->n_users;
    out->n_events = events;
    out->n_days = days;
    return AIPM_OK;
}
