/* adopt_draws.c - the adoption forecast's draws (forecast.h,
 * forecast_int.h): per parameter draw, each segment's mean path and
 * variance under the Bass model (a closed form) or the hazard model (a
 * forward run per user over the graph, on threads); the mixture's
 * quantiles that make the intervals. Split from adopt_run.c, which fits
 * the models, backtests them and writes the document. */
#include "forecast/forecast_int.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOGIT_ONE 40 /* logit pi standing for pi held at 1 */

/* A forward run's state per user (one per thread). */
typedef struct scratch {
    double *R, *E, *dq, *P;
} scratch;

static void scratch_free(scratch *x)
{
    free(x->R);
    free(x->E);
    free(x->dq);
    free(x->P);
}

static int scratch_alloc(scratch *x, int n)
{
    x->R = malloc((size_t)n * sizeof(double) + 1);
    x->E = malloc((size_t)n * sizeof(double) + 1);
    x->dq = malloc((size_t)n * sizeof(double) + 1);
    x->P = malloc((size_t)n * sizeof(double) + 1);
    return x->R && x->E && x->dq && x->P;
}

/* The forward runs' common start at cutoff C, the same for every draw:
 * per user the neighbours linked by C (den) and those of them adopted
 * (E0). */
typedef struct links {
    double *E0;
    int *den;
} links;

/* pi from its logit, 1 when held there (LOGIT_ONE). */
static double pi_of(double logit)
{
    return logit >= LOGIT_ONE ? 1 : 1 / (1 + exp(-logit));
}

typedef struct aipm_forecast__seg seg;
typedef struct aipm_forecast__run run;

static double act_at(const seg *s, int64_t age)
{
    return s->act[age < 0 ? 0 : age > MAX_AGE ? MAX_AGE : age];
}

/* ---- forecasts: per draw, a mean path and a variance per segment ---- */

/* theta + L z, z standard normal (draw 0: the estimate itself). */
static void draw3(const double th[3], const double l[9], gsl_rng *rng, int draw,
                  double out[3])
{
    double z[3];
    int i, j;

    for (i = 0; i < 3; i++)
        z[i] = draw ? gsl_ran_gaussian_ziggurat(rng, 1) : 0;
    for (i = 0; i < 3; i++) {
        out[i] = th[i];
        for (j = 0; j <= i; j++)
            out[i] += l[i * 3 + j] * z[j];
    }
}

/* Bass: mu[h] and var[h] for h = 0..H-1 (days C..C+H-1). */
void aipm_forecast__bass_path(const seg *s, int32_t n, const double th[3],
                              int H, double *mu, double *var)
{
    double p = exp(th[0]), q = exp(th[1]), m = exp(th[2]);
    double f0 = aipm_bass_share(p, q, n);
    int h;

    for (h = 0; h < H; h++) {
        double add = m * (aipm_bass_share(p, q, n + h + 1) - f0);

        mu[h] = s->base + add;
        var[h] = add; /* Poisson */
    }
}

/* Hazard, every segment at once for one parameter draw per segment
 * (th[k]): mu[k * H + h], var[k * H + h]. */
static void hazard_paths(const run *r, const links *L, scratch *x, int32_t C,
                         int H, const double (*th)[3], double *mu, double *var)
{
    const aipm_adoption *a = r->a;
    int k, i, h, j;

    for (k = 0; k < a->n_segs; k++)
        for (h = 0; h < H; h++)
            mu[k * H + h] = r->segs[k].base, var[k * H + h] = 0;
    /* Start: R = posterior eligibility under the draw (every user at risk
     * has runs, maybe none: then it is pi); E = adopted neighbours. */
    memset(x->R, 0, (size_t)a->n * sizeof(double));
    memset(x->P, 0, (size_t)a->n * sizeof(double));
    memcpy(x->E, L->E0, (size_t)a->n * sizeof(double));
    for (k = 0; k < a->n_segs; k++) {
        const seg *s = &r->segs[k];

        if (!s->hz_ok)
            continue;
        for (j = 0; j < s->nu; j++) {
            double ls = 0;
            int64_t q;

            if (!isnan(s->ev[j]))
                continue; /* adopted before C */
            for (q = s->start[j]; q < s->start[j + 1]; q++)
                ls += s->rd[q] *
                      log1p(-aipm_hazard_prob(th[k][0], th[k][1], s->rs[q]));
            x->R[s->user[j]] =
                th[k][2] >= LOGIT_ONE ? 1 : 1 / (1 + exp(-(th[k][2] + ls)));
        }
    }
    for (h = 0; h < H; h++) {
        int32_t t = C + h;

        for (i = 0; i < a->n; i++) {
            const seg *s = &r->segs[a->seg[i]];
            double sig, q;
            int kk = a->seg[i];

            x->dq[i] = 0;
            if (x->R[i] <= 0 || !s->hz_ok)
                continue;
            sig = L->den[i] > 0 ? x->E[i] / L->den[i] : 0;
            q = x->R[i] * act_at(s, t - a->first[i]) *
                aipm_hazard_prob(th[kk][0], th[kk][1], sig);
            x->R[i] -= q;
            x->P[i] += q;
            x->dq[i] = q;
        }
        for (i = 0; i < a->n; i++) {
            int64_t q;

            if (x->dq[i] > 0) /* along the links that count by C */
                for (q = a->nb_start[i]; q < a->nb_start[i + 1]; q++)
                    if (a->nb_since[q] < C)
                        x->E[a->nb[q]] += x->dq[i];
        }
        for (i = 0; i < a->n; i++)
            if (x->P[i] > 0) {
                mu[a->seg[i] * H + h] += x->P[i];
                var[a->seg[i] * H + h] += x->P[i] * (1 - x->P[i]);
            }
    }
    /* New users: a cohort a day at the signup rate, signal 0 (giving them
     * their first day's mean signal instead overshot on the demo, whose
     * signups stop before its end). */
    for (k = 0; k < a->n_segs; k++) {
        const seg *s = &r->segs[k];
        double pi = pi_of(th[k][2]);
        double h0 = aipm_hazard_prob(th[k][0], th[k][1], 0);

        if (!s->hz_ok || s->signups <= 0)
            continue;
        for (j = 0; j < H; j++) {
            double R = pi, P = 0;

            for (h = j; h < H; h++) {
                double q = R * act_at(s, h - j) * h0;

                R -= q;
                P += q;
                mu[k * H + h] += s->signups * P;
                var[k * H + h] += s->signups * P; /* Poisson arrivals */
            }
        }
    }
}

/* The p-quantile of the mixture of normals (mu[d], sd[d]), d < D. */
static double mix_quantile(const double *mu, const double *var, int D, double p)
{
    double lo = INFINITY, hi = -INFINITY;
    int d, it, used = 0;

    for (d = 0; d < D; d++) {
        double sd = sqrt(var[d] > 0 ? var[d] : 0) + 1e-9;

        if (!isfinite(mu[d]) || !isfinite(sd))
            continue; /* a draw that overflowed (a flat m): left out */
        used++;
        if (mu[d] - 8 * sd < lo)
            lo = mu[d] - 8 * sd;
        if (mu[d] + 8 * sd > hi)
            hi = mu[d] + 8 * sd;
    }
    if (used == 0)
        return NAN;
    for (it = 0; it < 80; it++) {
        double mid = (lo + hi) / 2, c = 0;

        for (d = 0; d < D; d++)
            if (isfinite(mu[d]) && isfinite(var[d]))
                c += gsl_cdf_ugaussian_P(
                    (mid - mu[d]) / (sqrt(var[d] > 0 ? var[d] : 0) + 1e-9));
        if (c / used < p)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

/* A quantile, or the point forecast when no draw was finite. */
static double q_or(double q, double point)
{
    return isfinite(q) ? q : point;
}

void aipm_forecast__bounds(const double *mu, const double *var, int D,
                           double base, double out[5])
{
    /* The point: the estimate's own path (draw 0), never below the
     * adopters already counted. The draws' quantiles can miss it: the
     * paths are nonlinear in the parameters drawn (e.g. m (F(n + h) -
     * F(n)) in log p, log q, log m), so the mixture is skewed and its
     * central 80% need not hold the estimate's path. The intervals are
     * then widened to include the point rather than the point moved: the
     * point stays the forecast the backtest scored. */
    double pt = isfinite(mu[0]) ? fmax(mu[0], base) : base;
    double lo95 = fmax(q_or(mix_quantile(mu, var, D, 0.025), pt), base);
    double lo80 = fmax(q_or(mix_quantile(mu, var, D, 0.10), pt), lo95);
    double hi80 = fmax(q_or(mix_quantile(mu, var, D, 0.90), pt), lo80);
    double hi95 = fmax(q_or(mix_quantile(mu, var, D, 0.975), pt), hi80);

    out[0] = pt;
    out[1] = fmin(lo80, pt);
    out[2] = fmax(hi80, pt);
    out[3] = fmin(lo95, pt);
    out[4] = fmax(hi95, pt);
}

int aipm_forecast__bass_reject(const aipm_bass *b, double counted, double users,
                               char *why, size_t n)
{
    if (n > 0)
        why[0] = '\0';
    if (!isfinite(b->m) || b->m < counted) {
        snprintf(why, n,
                 "Bass m = %.4g is below the %.0f adopters already "
                 "counted",
                 b->m, counted);
        return 1;
    }
    if (b->m > BASS_MAX_M_PER_USER * users) {
        snprintf(why, n,
                 "Bass m = %.4g is more than %d times the segment's %.0f "
                 "users",
                 b->m, BASS_MAX_M_PER_USER, users);
        return 1;
    }
    return 0;
}

/* The hazard model's draws on one thread per CPU (each its own state;
 * the parameters were drawn before, so the numbers do not depend on the
 * number of threads). */
typedef struct draw_job {
    const run *r;
    const links *L;
    scratch x;
    int32_t C;
    int H, D, first, step;
    const double (*th)[3];
    double *mu, *var;
} draw_job;

static void *draw_range(void *arg)
{
    draw_job *j = arg;
    int ns = j->r->a->n_segs, d;

    for (d = j->first; d < j->D; d += j->step)
        hazard_paths(j->r, j->L, &j->x, j->C, j->H, j->th + (size_t)d * ns,
                     j->mu + (size_t)d * ns * j->H,
                     j->var + (size_t)d * ns * j->H);
    return NULL;
}

static int hazard_draws(const run *r, int32_t C, int H, int D,
                        const double (*th)[3], double *mu, double *var)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int T = cpus < 1 ? 1 : cpus > 16 ? 16 : (int)cpus, t, rc = AIPM_OK;
    draw_job job[16];
    pthread_t tid[16];
    int started[16] = {0}, i;
    const aipm_adoption *a = r->a;
    links L = {malloc((size_t)a->n * sizeof(double) + 1),
               calloc((size_t)a->n + 1, sizeof(int))};

    if (T > D)
        T = D;
    memset(job, 0, sizeof(job));
    if (!L.E0 || !L.den)
        rc = aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
    for (i = 0; rc == AIPM_OK && i < a->n; i++) {
        int64_t q;

        L.E0[i] = 0;
        for (q = a->nb_start[i]; q < a->nb_start[i + 1]; q++)
            if (a->nb_since[q] < C) { /* linked by the cutoff */
                L.E0[i] += r->adopt[a->nb[q]] < C;
                L.den[i]++;
            }
    }
    for (t = 0; t < T && rc == AIPM_OK; t++) {
        job[t].r = r;
        job[t].L = &L;
        job[t].C = C;
        job[t].H = H;
        job[t].D = D;
        job[t].first = t;
        job[t].step = T;
        job[t].th = th;
        job[t].mu = mu;
        job[t].var = var;
        if (!scratch_alloc(&job[t].x, r->a->n))
            rc = aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
    }
    if (rc == AIPM_OK) {
        for (t = 1; t < T; t++)
            started[t] =
                pthread_create(&tid[t], NULL, draw_range, &job[t]) == 0;
        draw_range(&job[0]);
        for (t = 1; t < T; t++) {
            if (started[t])
                pthread_join(tid[t], NULL);
            else
                draw_range(&job[t]); /* no thread: its share here */
        }
    }
    for (t = 0; t < T; t++)
        scratch_free(&job[t].x);
    free(L.E0);
    free(L.den);
    return rc;
}

/* Forecast paths of model m (1 Bass, 2 hazard) from C: D draws into
 * mu[(d * n_segs + k) * H + h] and var likewise; ok[k] whether the
 * segment has the model. */
int aipm_forecast__paths(run *r, int32_t C, int H, int model, int D,
                         uint64_t seed, double *mu, double *var, int *ok)
{
    aipm_adoption *a = r->a;
    int ns = a->n_segs, k, d, rc;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    double(*th)[3] = malloc((size_t)D * ns * sizeof(*th));
    double(*l)[9] = malloc((size_t)ns * sizeof(*l));
    double(*est)[3] = malloc((size_t)ns * sizeof(*est));

    if (!rng || !th || !l || !est) {
        gsl_rng_free(rng);
        free(th);
        free(l);
        free(est);
        return aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
    }
    gsl_rng_set(rng, (unsigned long)(seed ? seed : 1));
    for (k = 0; k < ns; k++) {
        const seg *s = &r->segs[k];

        if (model == 1) {
            ok[k] = s->bass_ok;
            est[k][0] = log(s->bass.p);
            est[k][1] = log(s->bass.q);
            est[k][2] = log(s->bass.m);
            if (!ok[k] || !aipm_forecast__chol3(s->bass.cov, l[k]))
                memset(l[k], 0, sizeof(l[k]));
        } else {
            ok[k] = s->hz_ok;
            est[k][0] = s->hz.alpha;
            est[k][1] = s->hz.beta;
            est[k][2] =
                s->hz.pi >= 1 ? LOGIT_ONE : log(s->hz.pi / (1 - s->hz.pi));
            if (!ok[k] || !aipm_forecast__chol3(s->hz.cov, l[k]))
                memset(l[k], 0, sizeof(l[k]));
        }
    }
    for (d = 0; d < D; d++) {
        for (k = 0; k < ns; k++)
            draw3(est[k], l[k], rng, d, th[(size_t)d * ns + k]);
        if (model == 1)
            for (k = 0; k < ns; k++)
                if (ok[k])
                    aipm_forecast__bass_path(&r->segs[k], C - r->launch,
                                             th[(size_t)d * ns + k], H,
                                             mu + ((size_t)d * ns + k) * H,
                                             var + ((size_t)d * ns + k) * H);
    }
    rc = model == 2 ? hazard_draws(r, C, H, D, (const double(*)[3])th, mu, var)
                    : AIPM_OK;
    gsl_rng_free(rng);
    free(th);
    free(l);
    free(est);
    return rc;
}
