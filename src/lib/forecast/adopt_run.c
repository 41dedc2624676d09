/* adopt_run.c - one feature's adoption forecast or backtest.
 *
 * Per segment, from the days before a cutoff C (no later event, adoption
 * or membership is read, the graph signal included):
 *  - the Bass model on the daily new adopters since launch (bass.c);
 *  - the hazard model on the active user-days at risk (hazard.c), the
 *    signal on day t being the share of the user's neighbours first seen
 *    by t who adopted before t.
 * Forecasts, as cumulative adopters from the observed count at C - 1:
 *  - Bass: base + m (F(n + h) - F(n)), n the days since launch;
 *  - hazard: forward in expectation (mean field): each user at risk keeps
 *    the probability R of being eligible and not adopted yet (at C its
 *    posterior eligibility), adopts on day t with R A(age) h(s), A the
 *    segment's share of users active at that age, s its neighbours'
 *    expected adopted share; new users arrive at the segment's recent
 *    signup rate with signal 0.
 * Intervals: D draws of the parameters from the normal approximation of
 * their estimates (Bass: (log p, log q, log m); hazard: (alpha, beta,
 * logit pi)), each giving a mean path and a binomial (Poisson for Bass)
 * variance, times the calibration factor (the model's backtest squared
 * errors over its variances, at least 1); the 80% and 95% intervals are
 * quantiles of the mixture of normals over the draws, widened to include
 * the point forecast (the estimate's own path, draw 0).
 * A Bass fit whose m is below the segment's adopters already counted, or
 * above BASS_MAX_M_PER_USER times its users, is not used (bass_why says
 * why): the segment counts at its last value in backtests, and in the
 * forecast takes the hazard model when that is the chosen one, else its
 * last value.
 * The model: the one with the lower WAPE over all segments in a backtest
 * on the last min(horizon, a third of the days since launch) days; the
 * naive baselines are the last value carried forward and the linear
 * trend of the last 14 days (a note says when one beat the chosen model).
 * Before launch (no adopter before C): a Bass prior from the features in
 * the same area or linked by depends_on, per segment the median of their
 * p, q and share of users adopting (m / users).
 * A registered version of the adoption model (models.h; the production
 * one unless the caller names another or none) gives a forecast its
 * hazard fits: each segment it has a fit for takes the version's (alpha,
 * beta, pi) and covariance in place of the fit at C, after the backtests
 * chose the model and calibrated the intervals with the run's own fits
 * (a backtest never takes it: it measures fitting before its cutoff). The
 * version's artifact is read by adopt_model.c's parser, the one the
 * registry's reading uses.
 * The document also shows what was observed: per segment the cumulative
 * adopters each day from the series start to as_of (C - 1), the last
 * HISTORY_DAYS of them, read from cumulate()'s table (observed()): on a
 * day before the cutoff it counts exactly the users the segment's
 * "adopters" counts at the cutoff (an adoption is one of the user's own
 * events, so no earlier than their first), and its last row is that
 * figure. A reader so sees the forecast continue the curve it extends. In a
 * backtest as_of is the day before the cutoff; the held-out days are the
 * rows' "observed".
 */
#include "forecast/forecast_int.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PLATEAU_AGE 28
#define TREND_DAYS 14
#define SIGNUP_DAYS 14
#define MAX_CELLS 20000000 /* draws x segments x days */
#define HISTORY_DAYS 365   /* observed days a document shows at most */

/* (The fit's state, forecast_int.h: shared with adopt_model.c.) */
typedef struct aipm_forecast__seg seg;
typedef struct aipm_forecast__run run;

static double clock_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void seg_clear(seg *s)
{
    free(s->user);
    free(s->start);
    free(s->rs);
    free(s->ev);
    free(s->rd);
    memset(s, 0, sizeof(*s));
}

static int cmp_i32(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;

    return (a > b) - (a < b);
}

/* Append a run (or lengthen the last one of this user). */
static int add_run(seg *s, double sig)
{
    int64_t k = s->start[s->nu];

    if (k > s->start[s->nu - 1] && s->rs[k - 1] == sig) {
        s->rd[k - 1]++;
        return 0;
    }
    if ((size_t)k + 1 > s->cap_r) {
        size_t c = s->cap_r;

        if (aipm_grow(&s->rs, &c, (size_t)k + 1, sizeof(double)) ||
            aipm_grow(&s->rd, &s->cap_r, (size_t)k + 1, sizeof(int32_t)))
            return -1;
    }
    s->rs[k] = sig;
    s->rd[k] = 1;
    s->start[s->nu]++;
    return 0;
}

/* Open the next user's runs. */
static int add_user(seg *s, int u)
{
    size_t need = (size_t)s->nu + 2;

    if (need > s->cap_u) {
        size_t c1 = s->cap_u, c2 = s->cap_u, c3 = s->cap_u;

        if (aipm_grow(&s->user, &c1, need, sizeof(int)) ||
            aipm_grow(&s->start, &c2, need, sizeof(int64_t)) ||
            aipm_grow(&s->ev, &c3, need, sizeof(double)))
            return -1;
        s->cap_u = c1;
    }
    if (s->nu == 0)
        s->start[0] = 0;
    s->user[s->nu] = u;
    s->ev[s->nu] = NAN;
    s->nu++;
    s->start[s->nu] = s->start[s->nu - 1];
    return 0;
}

/* The hazard data of every segment at cutoff C: user u's active days from
 * max(launch, first) to min(adoption, C - 1). */
static int hazard_data(run *r, int32_t C)
{
    aipm_adoption *a = r->a;
    int u;

    for (u = 0; u < a->n; u++) {
        seg *s = &r->segs[a->seg[u]];
        int32_t t0 = a->first[u] > r->launch ? a->first[u] : r->launch;
        int32_t t1 = r->adopt[u] < C ? r->adopt[u] : C - 1, t;
        int64_t k, nb = a->nb_start[u + 1] - a->nb_start[u];
        int na = 0, nf = 0, ia = 0, jf = 0;

        if (a->first[u] >= C || t0 > t1)
            continue;
        /* tf: the days the links began; ta: the first day on which a
         * linked neighbour counts as adopted (linked, and adopted the
         * day before or earlier) */
        for (k = 0; k < nb; k++) {
            int v = a->nb[a->nb_start[u] + k];
            int32_t since = a->nb_since[a->nb_start[u] + k];

            if (since >= C)
                continue;
            r->tf[nf++] = since;
            if (r->adopt[v] < C)
                r->ta[na++] = since > r->adopt[v] ? since : r->adopt[v] + 1;
        }
        qsort(r->ta, (size_t)na, sizeof(int32_t), cmp_i32);
        qsort(r->tf, (size_t)nf, sizeof(int32_t), cmp_i32);
        if (add_user(s, u))
            return aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
        for (t = t0; t <= t1; t++) {
            double sig;

            if (!adoption_active(a, u, t))
                continue;
            while (ia < na && r->ta[ia] <= t)
                ia++;
            while (jf < nf && r->tf[jf] <= t)
                jf++;
            sig = jf > 0 ? (double)(ia < jf ? ia : jf) / jf : 0;
            if (t == r->adopt[u])
                s->ev[s->nu - 1] = sig;
            else if (add_run(s, sig))
                return aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
        }
    }
    return AIPM_OK;
}

/* Counts at cutoff C: users, adopters, the daily new adopters since
 * launch (daily[seg][d], d < C - launch), the activity by age, signups. */
static int observe(run *r, int32_t C, double **daily)
{
    aipm_adoption *a = r->a;
    int u, k, by_cohort = a->by && strcmp(a->by, "cohort") == 0;
    double(*obs)[MAX_AGE + 1] = calloc((size_t)a->n_segs, sizeof(*obs));

    if (obs == NULL)
        return aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
    for (u = 0; u < a->n; u++) {
        seg *s = &r->segs[a->seg[u]];
        int32_t f = a->first[u], t;

        if (f >= C)
            continue;
        s->users++;
        if (r->adopt[u] < C) {
            s->base++;
            if (r->adopt[u] >= r->launch)
                daily[a->seg[u]][r->adopt[u] - r->launch]++;
        }
        /* (by cohort, new users start new cohorts: no inflow) */
        if (f >= C - SIGNUP_DAYS && !by_cohort)
            s->signups += 1.0 / SIGNUP_DAYS;
        for (t = f; t < C && t - f <= MAX_AGE; t++) {
            if (t < a->day0)
                continue;
            obs[a->seg[u]][t - f]++;
            s->act[t - f] += adoption_active(a, u, t);
        }
    }
    /* Ages with few users, and all from PLATEAU_AGE on: the pooled rate. */
    for (k = 0; k < a->n_segs; k++) {
        seg *s = &r->segs[k];
        double pa = 0, po = 0;
        int age;

        for (age = PLATEAU_AGE; age <= MAX_AGE; age++) {
            pa += s->act[age];
            po += obs[k][age];
        }
        for (age = 0; age <= MAX_AGE; age++) {
            if (age < PLATEAU_AGE && obs[k][age] >= 30)
                s->act[age] /= obs[k][age];
            else
                s->act[age] = po > 0 ? pa / po : age > 0 ? s->act[age - 1] : 0;
        }
    }
    free(obs);
    return AIPM_OK;
}

/* Fit both models in every segment at cutoff C (which = 1 Bass, 2 hazard,
 * 3 both). */
static int fit_at(run *r, int32_t C, int which)
{
    aipm_adoption *a = r->a;
    int n_days = C - r->launch, k, rc;
    double **daily = calloc((size_t)a->n_segs, sizeof(double *));

    if (daily == NULL)
        return aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
    for (k = 0; k < a->n_segs; k++) {
        seg_clear(&r->segs[k]);
        if ((daily[k] = calloc((size_t)(n_days > 0 ? n_days : 1),
                               sizeof(double))) == NULL) {
            rc = aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
    }
    if ((rc = observe(r, C, daily)) != 0 ||
        ((which & 2) && (rc = hazard_data(r, C)) != 0))
        goto done;
    for (k = 0; k < a->n_segs; k++) {
        seg *s = &r->segs[k];
        aipm_error e2 = {0, ""};
        double t0 = clock_s();

        if ((which & 1) && n_days >= 4 && s->base > 0)
            s->bass_ok = aipm_bass_fit(&s->bass, daily[k], n_days,
                                       AIPM_BASS_PER_PERIOD, &e2) == AIPM_OK;
        /* An implausible m: the fit is reported, never used (the segment
         * falls back to the other model or its last value). */
        if (s->bass_ok &&
            aipm_forecast__bass_reject(&s->bass, s->base, (double)s->users,
                                       s->bass_why, sizeof(s->bass_why)))
            s->bass_ok = 0;
        r->bass_s += clock_s() - t0;
        t0 = clock_s();
        if ((which & 2) && s->nu > 0) {
            aipm_hazard_data d = {s->nu, s->start, s->rs, s->rd, s->ev};

            int hr = aipm_hazard_fit(&s->hz, &d, 0, NULL, &e2);

            /* pi at its bound: no sign of never-eligible users, and the
             * normal approximation of logit pi breaks down there. */
            if (hr == AIPM_OK && s->hz.pi > PI_BOUND)
                hr = aipm_hazard_fit(&s->hz, &d, 1, NULL, &e2);
            if (hr == AIPM_ENOMEM) {
                rc = aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
                goto done;
            }
            s->hz_ok = hr == AIPM_OK;
        }
        r->hazard_s += clock_s() - t0;
    }
done:
    for (k = 0; k < a->n_segs; k++)
        free(daily[k]);
    free(daily);
    return rc;
}

/* ---- the document ---- */

json_t *aipm_forecast__num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

void aipm_forecast__day_label(char out[16], int32_t day)
{
    char t[32];

    aipm_time_format(t, (int64_t)day * DAY_MS);
    memcpy(out, t, 10);
    out[10] = '\0';
}

/* Observed cumulative adopters of segment k by day t (inclusive), from
 * the table of cumulate(). */
static double observed(const run *r, int k, int32_t t)
{
    int64_t d = (int64_t)t - r->launch, w = r->a->end - r->launch;

    if (d < 0)
        return r->pre[k];
    return r->cum[k * w + (d < w ? d : w - 1)];
}

static int cumulate(run *r)
{
    const aipm_adoption *a = r->a;
    int64_t w = a->end - r->launch, k, d;
    int u;

    free(r->cum);
    free(r->pre);
    r->cum = calloc((size_t)(a->n_segs * w) + 1, sizeof(double));
    r->pre = calloc((size_t)a->n_segs + 1, sizeof(double));
    if (!r->cum || !r->pre)
        return aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
    for (u = 0; u < a->n; u++) {
        if (r->adopt[u] == NO_DAY || r->adopt[u] >= a->end)
            continue;
        if (r->adopt[u] < r->launch)
            r->pre[a->seg[u]]++;
        else
            r->cum[a->seg[u] * w + (r->adopt[u] - r->launch)]++;
    }
    for (k = 0; k < a->n_segs; k++) {
        double c = r->pre[k];

        for (d = 0; d < w; d++)
            r->cum[k * w + d] = c += r->cum[k * w + d];
    }
    return AIPM_OK;
}

typedef struct errs {
    double ape, n_ape, abs_err, actual;
} errs;

static void errs_add(errs *e, double f, double y)
{
    e->abs_err += fabs(f - y);
    e->actual += y;
    if (y > 0) {
        e->ape += fabs(f - y) / y;
        e->n_ape++;
    }
}

static json_t *errs_json(const errs *e, const char *mape, const char *wape,
                         json_t *obj)
{
    json_object_set_new(obj, mape,
                        e->n_ape ? json_real(e->ape / e->n_ape) : json_null());
    json_object_set_new(obj, wape,
                        e->actual > 0 ? json_real(e->abs_err / e->actual)
                                      : json_null());
    return obj;
}

/* A backtest at C - hb over hb days: per segment and model the errors of
 * the point forecast (the estimate's path), and the baselines'. */
typedef struct backtest {
    errs *bass, *hz, *last, *trend; /* per segment */
    errs all_bass, all_hz, all_last, all_trend;
    int hb;
    int32_t cut;
    double *obs; /* [k * hb + h] */
    double *f_bass, *f_hz;
    /* squared errors over the paths' variances, for calibration */
    double z2_bass, n_bass, z2_hz, n_hz;
} backtest;

/* The factor the model's variances need to match its backtest errors
 * (at least 1: never narrower than the model's own). */
static double var_scale(const backtest *b, int model)
{
    double z2 = model == 1 ? b->z2_bass : b->z2_hz;
    double n = model == 1 ? b->n_bass : b->n_hz;

    return n > 0 && z2 / n > 1 ? z2 / n : 1;
}

static void backtest_free(backtest *b)
{
    free(b->bass);
    free(b->hz);
    free(b->last);
    free(b->trend);
    free(b->obs);
    free(b->f_bass);
    free(b->f_hz);
    memset(b, 0, sizeof(*b));
}

/* which: the models to fit (1 Bass, 2 hazard, 3 both); one not fitted
 * counts at the last value. */
static int run_backtest(run *r, int32_t C, int hb, int which, backtest *b)
{
    aipm_adoption *a = r->a;
    int ns = a->n_segs, k, h, rc, *ok = malloc((size_t)ns * sizeof(int) + 1);
    int32_t Cb = C - hb;
    double *vb = malloc((size_t)ns * hb * sizeof(double) + 1);
    double *vh = calloc((size_t)ns * hb + 1, sizeof(double));

    memset(b, 0, sizeof(*b));
    b->hb = hb;
    b->cut = Cb;
    b->bass = calloc((size_t)ns, sizeof(errs));
    b->hz = calloc((size_t)ns, sizeof(errs));
    b->last = calloc((size_t)ns, sizeof(errs));
    b->trend = calloc((size_t)ns, sizeof(errs));
    b->obs = malloc((size_t)ns * hb * sizeof(double) + 1);
    b->f_bass = calloc((size_t)ns * hb + 1, sizeof(double));
    b->f_hz = calloc((size_t)ns * hb + 1, sizeof(double));
    if (!ok || !vb || !vh || !b->bass || !b->hz || !b->last || !b->trend ||
        !b->obs || !b->f_bass || !b->f_hz) {
        rc = aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = fit_at(r, Cb, which)) != 0 ||
        (rc = aipm_forecast__paths(r, Cb, hb, 1, 1, 1, b->f_bass, vb, ok)) != 0)
        goto done;
    for (k = 0; k < ns; k++)
        if (!ok[k])
            for (h = 0; h < hb; h++)
                b->f_bass[k * hb + h] = NAN;
    if (!(which & 2))
        memset(ok, 0, (size_t)ns * sizeof(int));
    else if ((rc = aipm_forecast__paths(r, Cb, hb, 2, 1, 1, b->f_hz, vh, ok)) !=
             0)
        goto done;
    for (k = 0; k < ns; k++) {
        double y0 = observed(r, k, Cb - 1);
        int w =
            Cb - 1 - r->launch < TREND_DAYS ? Cb - 1 - r->launch : TREND_DAYS;
        double slope = w > 0 ? (y0 - observed(r, k, Cb - 1 - w)) / w : 0;

        for (h = 0; h < hb; h++) {
            double y = observed(r, k, Cb + h);
            double fb = b->f_bass[k * hb + h];
            double fh = ok[k] ? b->f_hz[k * hb + h] : NAN;

            b->obs[k * hb + h] = y;
            if (!ok[k])
                b->f_hz[k * hb + h] = NAN;
            if (!isnan(fb) && vb[k * hb + h] > 0) {
                b->z2_bass += (y - fb) * (y - fb) / vb[k * hb + h];
                b->n_bass++;
            }
            if (!isnan(fh) && vh[k * hb + h] > 0) {
                b->z2_hz += (y - fh) * (y - fh) / vh[k * hb + h];
                b->n_hz++;
            }
            /* A segment without a model counts at the last value, so the
             * totals compare the same days. */
            errs_add(&b->bass[k], isnan(fb) ? y0 : fb, y);
            errs_add(&b->all_bass, isnan(fb) ? y0 : fb, y);
            errs_add(&b->hz[k], isnan(fh) ? y0 : fh, y);
            errs_add(&b->all_hz, isnan(fh) ? y0 : fh, y);
            errs_add(&b->last[k], y0, y);
            errs_add(&b->all_last, y0, y);
            errs_add(&b->trend[k], y0 + slope * (h + 1), y);
            errs_add(&b->all_trend, y0 + slope * (h + 1), y);
        }
    }
done:
    free(ok);
    free(vb);
    free(vh);
    return rc;
}

static double wape(const errs *e)
{
    return e->actual > 0 ? e->abs_err / e->actual : INFINITY;
}

/* ---- the prior before launch ---- */

typedef struct prior {
    int n_peers;
    json_t *from;
    double *p, *q, *share; /* [peer * n_segs + k], NaN when not fitted */
} prior;

static int cmp_dbl(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return (a > b) - (a < b);
}

static double median_of(const double *v, int stride, int n, double *tmp)
{
    int i, m = 0;

    for (i = 0; i < n; i++)
        if (!isnan(v[(size_t)i * stride]))
            tmp[m++] = v[(size_t)i * stride];
    if (m == 0)
        return NAN;
    qsort(tmp, (size_t)m, sizeof(double), cmp_dbl);
    return m % 2 ? tmp[m / 2] : (tmp[m / 2 - 1] + tmp[m / 2]) / 2;
}

static int feature_days(run *r, const aipm_feature *f, int32_t *launch,
                        int32_t *shown);

/* Peers: same area, or depends_on either way; each fitted at C. */
static int build_prior(run *r, const aipm_feature *f, int32_t C, prior *pr)
{
    aipm_adoption *a = r->a;
    const aipm_config *cfg = a->cfg;
    int i, j, k, ns = a->n_segs, rc = AIPM_OK, fitted;
    int32_t keep_launch = r->launch;
    int32_t *keep_adopt = r->adopt;

    memset(pr, 0, sizeof(*pr));
    pr->from = json_array();
    pr->p = malloc((size_t)cfg->n_catalog * ns * sizeof(double) + 1);
    pr->q = malloc((size_t)cfg->n_catalog * ns * sizeof(double) + 1);
    pr->share = malloc((size_t)cfg->n_catalog * ns * sizeof(double) + 1);
    r->adopt = malloc((size_t)a->n * sizeof(int32_t) + 1);
    if (!pr->from || !pr->p || !pr->q || !pr->share || !r->adopt) {
        rc = aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < cfg->n_catalog; i++) {
        const aipm_feature *g = &cfg->catalog[i];
        int linked =
            g != f && f->area && g->area && strcmp(f->area, g->area) == 0;

        for (j = 0; g != f && j < f->n_depends_on; j++)
            linked |= strcmp(f->depends_on[j], g->key) == 0;
        for (j = 0; g != f && j < g->n_depends_on; j++)
            linked |= strcmp(g->depends_on[j], f->key) == 0;
        if (!linked)
            continue;
        if ((rc = feature_days(r, g, &r->launch, NULL)) == AIPM_ENOMEM)
            goto done;
        rc = AIPM_OK;
        if (r->launch == NO_DAY || r->launch >= C - 4)
            continue;
        if ((rc = fit_at(r, C, 1)) != 0)
            goto done;
        for (k = 0, fitted = 0; k < ns; k++) {
            const seg *s = &r->segs[k];
            size_t at = (size_t)pr->n_peers * ns + k;

            pr->p[at] = s->bass_ok ? s->bass.p : NAN;
            pr->q[at] = s->bass_ok ? s->bass.q : NAN;
            pr->share[at] = s->bass_ok && s->users > 0
                                ? fmin(s->bass.m / s->users, 1)
                                : NAN;
            fitted += s->bass_ok;
        }
        if (fitted == 0) /* no adopters to learn from: not a peer */
            continue;
        json_array_append_new(pr->from, json_string(g->key));
        pr->n_peers++;
    }
done:
    free(r->adopt);
    r->adopt = keep_adopt;
    r->launch = keep_launch;
    return rc;
}

static void prior_free(prior *pr)
{
    json_decref(pr->from);
    free(pr->p);
    free(pr->q);
    free(pr->share);
}

/* The adoption days of feature f, and its launch: the catalog's
 * launched_at, else its first adoption (*shown, may be NULL); *launch is
 * the day its series start: the launch, or the first day with data when
 * it launched before the data begin (the days before are unseen, not days
 * without adopters). AIPM_ENOTFOUND with neither. */
static int feature_days(run *r, const aipm_feature *f, int32_t *launch,
                        int32_t *shown)
{
    aipm_adoption *a = r->a;
    int nn = aipm_graph_n_nodes(a->g), u, node;
    char id[600];
    int64_t *t = malloc((size_t)nn * sizeof(int64_t) + 1), ms;
    int32_t first = NO_DAY;

    if (t == NULL)
        return aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
    snprintf(id, sizeof(id), "feature:%s", f->key);
    node = aipm_graph_find(a->g, id);
    for (u = 0; u < a->n; u++)
        r->adopt[u] = NO_DAY;
    if (node >= 0 && aipm_graph_adoption_times(a->g, node, t) == AIPM_OK)
        for (u = 0; u < a->n; u++)
            if (t[a->node[u]] != INT64_MAX) {
                int32_t d = day_of_ms(t[a->node[u]]);

                r->adopt[u] = d;
                if (d < first)
                    first = d;
            }
    free(t);
    *launch = first;
    if (f->launched_at &&
        aipm_time_parse(&ms, f->launched_at, strlen(f->launched_at), 1) == 0)
        *launch = day_of_ms(ms);
    if (first < *launch) /* used before its launch date: a beta */
        *launch = first;
    if (shown)
        *shown = *launch;
    if (*launch != NO_DAY && *launch < a->day0)
        *launch = a->day0;
    return *launch == NO_DAY ? AIPM_ENOTFOUND : AIPM_OK;
}

int aipm_forecast__fit_at(run *r, int32_t C, int which)
{
    return fit_at(r, C, which);
}

int aipm_forecast__feature_days(run *r, const aipm_feature *f, int32_t *launch)
{
    return feature_days(r, f, launch, NULL);
}

void aipm_forecast__seg_clear(seg *s)
{
    seg_clear(s);
}

int aipm_forecast__run_init(run *r, aipm_adoption *a, aipm_error *err)
{
    r->a = a;
    r->err = err;
    r->n_alloc = a->n_segs + 1;
    r->segs = calloc((size_t)r->n_alloc, sizeof(seg));
    r->adopt = malloc((size_t)a->n * sizeof(int32_t) + 1);
    r->ta = malloc(MAX_NEIGHBOURS * sizeof(int32_t));
    r->tf = malloc(MAX_NEIGHBOURS * sizeof(int32_t));
    if (!r->segs || !r->adopt || !r->ta || !r->tf)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    return AIPM_OK;
}

void aipm_forecast__run_release(run *r)
{
    int k;

    for (k = 0; r->segs && k < r->n_alloc; k++)
        seg_clear(&r->segs[k]);
    free(r->segs);
    free(r->adopt);
    free(r->ta);
    free(r->tf);
    free(r->cum);
    free(r->pre);
    r->segs = NULL;
    r->adopt = r->ta = r->tf = NULL;
    r->cum = r->pre = NULL;
    r->n_alloc = 0;
}

int aipm_forecast__hazard_data(run *r, int32_t C)
{
    int k;

    for (k = 0; k < r->a->n_segs; k++)
        seg_clear(&r->segs[k]);
    return hazard_data(r, C);
}

/* ---- the run ---- */

static json_t *hazard_json(const aipm_hazard *h)
{
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I}", "alpha",
        aipm_forecast__num(h->alpha), "beta", aipm_forecast__num(h->beta), "pi",
        aipm_forecast__num(h->pi), "graph_effect", aipm_forecast__num(h->ame),
        "se_alpha", aipm_forecast__num(h->se_alpha), "se_beta",
        aipm_forecast__num(h->se_beta), "se_pi", aipm_forecast__num(h->se_pi),
        "events", (json_int_t)h->n_events, "user_days", (json_int_t)h->n_days);
}

static const char *model_name(int m)
{
    return m == 1 ? "bass" : m == 2 ? "hazard" : "prior";
}

/* "baseline_beats_model" (the better naive baseline, or null) and a
 * "note" saying so when the last value carried forward or the trend had
 * a lower WAPE than the chosen model in the backtest b. */
static void baseline_note(json_t *obj, const backtest *b, int model)
{
    double mw = wape(model == 1 ? &b->all_bass : &b->all_hz);
    double lw = wape(&b->all_last), tw = wape(&b->all_trend);
    int trend = tw < lw;
    double bw = trend ? tw : lw;
    char note[240];

    if (model != 1 && model != 2) {
        json_object_set_new(obj, "baseline_beats_model", json_null());
        return;
    }
    if (!(bw < mw) || !isfinite(bw)) {
        json_object_set_new(obj, "baseline_beats_model", json_null());
        return;
    }
    snprintf(note, sizeof(note),
             "the naive baseline (%s) beat the chosen model %s in the "
             "backtest: WAPE %.1f%% against %.1f%%",
             trend ? "linear trend of the last 14 days"
                   : "last value carried forward",
             model_name(model), 100 * bw, 100 * mw);
    json_object_set_new(obj, "baseline_beats_model",
                        json_string(trend ? "trend" : "last_value"));
    json_object_set_new(obj, "note", json_string(note));
}

int aipm_adoption_run(json_t **out, aipm_adoption *a, const char *feature,
                      const aipm_adoption_opts *o, aipm_error *err)
{
    const aipm_feature *f = aipm_config_feature(a->cfg, feature);
    int ns = a->n_segs, H = o->horizon > 0 ? o->horizon : 30, k, h, rc;
    int D = o->draws > 0 ? o->draws : 50, model = 0, hb = 0, prior_mode = 0;
    int backtest_mode = a->holdout > 0, *ok = NULL;
    int32_t C = a->cut, start, launch_shown = NO_DAY;
    run r;
    backtest bt, cal;
    prior pr;
    double scale = 1, *m2 = NULL, *v2 = NULL; /* the other model's paths */
    int *ok2 = NULL;
    size_t cell;
    double *mu = NULL, *var = NULL, *cm = NULL, *cv = NULL;
    /* the observed history: days [hist_from, C), none if NO_DAY */
    int32_t hist_from = NO_DAY, hist_start = NO_DAY;
    json_t *doc = NULL, *segs;
    /* the registered version whose hazard fits the forecast takes */
    struct aipm_forecast__art ver;
    json_t *artifact = NULL, *registry = NULL;
    int64_t version = 0;

    *out = NULL;
    memset(&r, 0, sizeof(r));
    memset(&bt, 0, sizeof(bt));
    memset(&cal, 0, sizeof(cal));
    memset(&pr, 0, sizeof(pr));
    memset(&ver, 0, sizeof(ver));
    if (f == NULL)
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "feature '%s' is not in the catalog of "
                              "aipm.yaml",
                              feature);
    if (backtest_mode)
        H = a->holdout;
    if ((rc = aipm_forecast__registered(&ver, &artifact, &version, a, o,
                                        err)) != 0)
        goto done;
    ok = malloc((size_t)ns * sizeof(int) + 1);
    if ((rc = aipm_forecast__run_init(&r, a, err)) != 0 || ok == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    rc = feature_days(&r, f, &r.launch, &launch_shown);
    if (rc == AIPM_ENOMEM)
        goto done;
    {
        int any = 0, u;

        for (u = 0; u < a->n && !any; u++)
            any = r.adopt[u] < C;
        prior_mode = rc == AIPM_ENOTFOUND || !any || r.launch >= C;
    }
    if (prior_mode && backtest_mode) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "feature '%s' has no adopters before the "
                            "backtest's cutoff: nothing to test",
                            feature);
        goto done;
    }
    if (prior_mode) {
        if ((rc = build_prior(&r, f, C, &pr)) != 0)
            goto done;
        if (pr.n_peers == 0) {
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "feature '%s' has no adopters yet, and no "
                                "feature in its area or linked by "
                                "depends_on has enough history for a prior",
                                feature);
            goto done;
        }
        if (r.launch == NO_DAY || r.launch < C)
            r.launch = C; /* launched, no adopter yet: from now */
    }
    if (!prior_mode && (rc = cumulate(&r)) != 0)
        goto done;
    /* The model: a backtest decides, unless one is asked for. */
    if (!prior_mode) {
        int since = C - r.launch;

        hb = backtest_mode ? H : (H < since / 3 ? H : since / 3);
        if (backtest_mode || (hb >= 3 && C - hb - r.launch >= 7)) {
            if ((rc = run_backtest(&r, backtest_mode ? a->end : C, hb,
                                   o->model == AIPM_ADOPTION_BASS     ? 1
                                   : o->model == AIPM_ADOPTION_HAZARD ? 2
                                                                      : 3,
                                   &bt)) != 0)
                goto done;
        } else {
            hb = 0;
        }
        /* A forecast's model is its backtest's winner; a backtest's, the
         * winner of one more backtest before its cutoff (its own holdout
         * only measures). That one also calibrates the intervals. */
        model = o->model == AIPM_ADOPTION_BASS     ? 1
                : o->model == AIPM_ADOPTION_HAZARD ? 2
                : hb > 0 && !backtest_mode
                    ? (wape(&bt.all_bass) < wape(&bt.all_hz) ? 1 : 2)
                    : 2;
        if (hb > 0 && !backtest_mode) {
            scale = var_scale(&bt, model);
        } else if (backtest_mode) {
            int hc = hb < since / 3 ? hb : since / 3;

            if (hc >= 3 && C - hc - r.launch >= 7) {
                if ((rc = run_backtest(
                         &r, C, hc, o->model == AIPM_ADOPTION_AUTO ? 3 : model,
                         &cal)) != 0)
                    goto done;
                if (o->model == AIPM_ADOPTION_AUTO)
                    model = wape(&cal.all_bass) < wape(&cal.all_hz) ? 1 : 2;
                scale = var_scale(&cal, model);
            }
        }
        if ((rc = fit_at(&r, C,
                         o->model == AIPM_ADOPTION_BASS     ? 1
                         : o->model == AIPM_ADOPTION_HAZARD ? 2
                                                            : 3)) != 0)
            goto done;
        if (hb == 0 && o->model == AIPM_ADOPTION_AUTO) {
            int any_hz = 0;

            for (k = 0; k < ns; k++)
                any_hz |= r.segs[k].hz_ok;
            model = any_hz ? 2 : 1;
        }
    } else {
        model = 3;
        D = pr.n_peers;
    }
    /* After the model is chosen: the version changes the forecast's
     * hazard fits, not which model gives it. */
    if (version > 0 &&
        (rc = aipm_forecast__take_version(
             &registry, &r, &ver, version, f->key,
             !prior_mode && o->model != AIPM_ADOPTION_BASS,
             prior_mode ? "the feature has no adopter yet: the forecast is "
                          "a Bass prior"
                        : "the forecast fits the Bass model only (model "
                          "bass)")) != 0)
        goto done;
    start = prior_mode ? (r.launch > C ? r.launch : C) : C;
    if ((size_t)D * ns * H > MAX_CELLS) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "%d draws x %d segments x %d days is more than "
                            "%d million forecast cells; use fewer --draws or "
                            "a shorter --horizon",
                            D, ns, H, MAX_CELLS / 1000000);
        goto done;
    }
    mu = calloc((size_t)D * ns * H + 1, sizeof(double));
    var = calloc((size_t)D * ns * H + 1, sizeof(double));
    cm = malloc((size_t)D * sizeof(double) + 1);
    cv = malloc((size_t)D * sizeof(double) + 1);
    if (!mu || !var || !cm || !cv) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if (model == 3) {
        double *tmp = malloc((size_t)pr.n_peers * ns * sizeof(double) + 1);
        int j;

        if (tmp == NULL) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = fit_at(&r, C, 0)) != 0) { /* the users per segment */
            free(tmp);
            goto done;
        }
        for (k = 0; k < ns; k++) {
            seg *s = &r.segs[k];
            double pooled[3] = {median_of(pr.p, 1, pr.n_peers * ns, tmp),
                                median_of(pr.q, 1, pr.n_peers * ns, tmp),
                                median_of(pr.share, 1, pr.n_peers * ns, tmp)};
            double mine[3] = {median_of(pr.p + k, ns, pr.n_peers, tmp),
                              median_of(pr.q + k, ns, pr.n_peers, tmp),
                              median_of(pr.share + k, ns, pr.n_peers, tmp)};
            int32_t n0 = start - r.launch;

            s->bass_ok = 1;
            s->bass.p = isnan(mine[0]) ? pooled[0] : mine[0];
            s->bass.q = isnan(mine[1]) ? pooled[1] : mine[1];
            s->bass.m = (isnan(mine[2]) ? pooled[2] : mine[2]) * s->users;
            for (j = 0; j < D; j++) {
                size_t at = (size_t)j * ns + k;
                double th[3] = {
                    log(isnan(pr.p[at]) ? s->bass.p : pr.p[at]),
                    log(isnan(pr.q[at]) ? s->bass.q : pr.q[at]),
                    log((isnan(pr.share[at]) ? s->bass.m / fmax(s->users, 1)
                                             : pr.share[at]) *
                            fmax(s->users, 1) +
                        1e-12)};

                aipm_forecast__bass_path(s, n0, th, H,
                                         mu + ((size_t)j * ns + k) * H,
                                         var + ((size_t)j * ns + k) * H);
            }
            ok[k] = 1;
        }
        free(tmp);
    } else {
        if ((rc = aipm_forecast__paths(&r, start, H, model, D, o->seed, mu, var,
                                       ok)) != 0)
            goto done;
        for (cell = 0; cell < (size_t)D * ns * H; cell++)
            var[cell] *= scale;
        /* A segment without the chosen model gets the other (its paths
         * made once, if any segment needs them), else its last value. */
        for (k = 0; k < ns; k++) {
            int d;

            if (ok[k])
                continue;
            /* (A rejected Bass fit's segment takes its last value: the
             * hazard's draws for one segment cost a whole forward run.) */
            if ((model == 1 && r.segs[k].hz_ok && !r.segs[k].bass_why[0]) ||
                (model == 2 && r.segs[k].bass_ok)) {
                if (m2 == NULL) {
                    if ((m2 = calloc((size_t)D * ns * H, sizeof(double))) ==
                            NULL ||
                        (v2 = calloc((size_t)D * ns * H, sizeof(double))) ==
                            NULL ||
                        (ok2 = malloc((size_t)ns * sizeof(int))) == NULL) {
                        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
                        goto done;
                    }
                    if ((rc = aipm_forecast__paths(&r, start, H, 3 - model, D,
                                                   o->seed, m2, v2, ok2)) != 0)
                        goto done;
                }
                for (d = 0; d < D; d++) {
                    size_t at = ((size_t)d * ns + k) * H;

                    memcpy(mu + at, m2 + at, (size_t)H * sizeof(double));
                    memcpy(var + at, v2 + at, (size_t)H * sizeof(double));
                }
                ok[k] = 2; /* the other model */
            } else {
                for (d = 0; d < D; d++)
                    for (h = 0; h < H; h++)
                        mu[((size_t)d * ns + k) * H + h] = r.segs[k].base;
            }
        }
    }
    /* The observed history, from the series start (the launch, or the
     * first day with data) to as_of, its last HISTORY_DAYS days at most;
     * none when the launch is not before C; all zeros for a prior (no
     * adopter yet, and no cumulate() table). */
    if (launch_shown != NO_DAY && launch_shown < C) {
        hist_start = launch_shown > a->day0 ? launch_shown : a->day0;
        hist_from =
            C - hist_start > HISTORY_DAYS ? C - HISTORY_DAYS : hist_start;
    }
    /* The document. */
    segs = json_array();
    doc = json_object();
    if (!segs || !doc) {
        json_decref(segs);
        json_decref(doc);
        doc = NULL;
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (k = 0; k < ns; k++) {
        seg *s = &r.segs[k];
        json_t *fc = json_array(), *row;
        const char *seg_model = model_name(model == 3   ? 3
                                           : ok[k] == 1 ? model
                                           : ok[k] == 2 ? 3 - model
                                                        : 0);

        if (model != 3 && !ok[k])
            seg_model = "last_value";
        for (h = 0; h < H; h++) {
            char day[16];
            int d;

            for (d = 0; d < D; d++) {
                cm[d] = mu[((size_t)d * ns + k) * H + h];
                cv[d] = var[((size_t)d * ns + k) * H + h];
            }
            aipm_forecast__day_label(day, start + h);
            {
                double b5[5];

                aipm_forecast__bounds(cm, cv, D, s->base, b5);
                row = json_pack("{s:s, s:f, s:f, s:f, s:f, s:f}", "day", day,
                                "adopters", b5[0], "lo80", b5[1], "hi80", b5[2],
                                "lo95", b5[3], "hi95", b5[4]);
            }
            if (backtest_mode)
                json_object_set_new(row, "observed",
                                    json_real(bt.obs[k * bt.hb + h]));
            json_array_append_new(fc, row);
        }
        row = json_pack(
            "{s:s, s:s, s:I, s:f, s:o, s:o, s:o, s:o, s:o, s:o}", "segment",
            a->seg_names[k], "model", seg_model, "users", (json_int_t)s->users,
            "adopters", s->base, "p",
            s->bass_ok ? aipm_forecast__num(s->bass.p) : json_null(), "q",
            s->bass_ok ? aipm_forecast__num(s->bass.q) : json_null(), "m",
            s->bass_ok ? aipm_forecast__num(s->bass.m) : json_null(),
            "graph_coef",
            s->hz_ok ? aipm_forecast__num(s->hz.beta) : json_null(), "forecast",
            fc, "hazard", s->hz_ok ? hazard_json(&s->hz) : json_null());
        if (row == NULL) {
            json_decref(segs);
            json_decref(doc);
            doc = NULL;
            rc = aipm_error_set(err, AIPM_ERROR,
                                "segment %s: a figure could not be written",
                                a->seg_names[k]);
            goto done;
        }
        {
            json_t *hs = json_array();
            int32_t t;

            for (t = hist_from; hs && hist_from != NO_DAY && t < C; t++) {
                char day[16];

                aipm_forecast__day_label(day, t);
                if (json_array_append_new(
                        hs, json_pack("{s:s, s:f}", "day", day, "adopters",
                                      prior_mode ? 0.0 : observed(&r, k, t))) !=
                    0) {
                    json_decref(hs);
                    hs = NULL;
                }
            }
            if (hs == NULL || json_object_set_new(row, "history", hs) != 0) {
                json_decref(row);
                json_decref(segs);
                json_decref(doc);
                doc = NULL;
                rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
                goto done;
            }
        }
        json_object_set_new(row, "bass_rejected",
                            s->bass_why[0] && model != 3
                                ? json_string(s->bass_why)
                                : json_null());
        if (s->bass_ok && model != 3)
            json_object_set_new(row, "se",
                                json_pack("{s:o, s:o, s:o}", "p",
                                          aipm_forecast__num(s->bass.se_p), "q",
                                          aipm_forecast__num(s->bass.se_q), "m",
                                          aipm_forecast__num(s->bass.se_m)));
        if (hb > 0) {
            const errs *mine = model == 1 ? &bt.bass[k] : &bt.hz[k];
            json_t *b = json_object();

            errs_json(mine, "mape", "wape", b);
            errs_json(&bt.last[k], "naive_mape", "naive_wape", b);
            errs_json(&bt.trend[k], "trend_mape", "trend_wape", b);
            if (o->model != AIPM_ADOPTION_HAZARD)
                errs_json(&bt.bass[k], "bass_mape", "bass_wape", b);
            if (o->model != AIPM_ADOPTION_BASS)
                errs_json(&bt.hz[k], "hazard_mape", "hazard_wape", b);
            json_object_set_new(row, "backtest", b);
        } else {
            json_object_set_new(row, "backtest", json_null());
        }
        json_array_append_new(segs, row);
    }
    {
        char as_of[16], launch[16];

        aipm_forecast__day_label(as_of, C - 1);
        aipm_forecast__day_label(launch, launch_shown != NO_DAY ? launch_shown
                                                                : r.launch);
        json_object_set_new(doc, "feature", json_string(f->key));
        json_object_set_new(doc, "model", json_string(model_name(model)));
        json_object_set_new(doc, "by",
                            a->by ? json_string(a->by) : json_null());
        json_object_set_new(doc, "as_of", json_string(as_of));
        json_object_set_new(doc, "launch", json_string(launch));
        if (hist_from != NO_DAY) {
            char from[16], series[16], note[240];

            aipm_forecast__day_label(from, hist_from);
            aipm_forecast__day_label(series, hist_start);
            json_object_set_new(doc, "history_from", json_string(from));
            snprintf(note, sizeof(note),
                     "the history is the last %d days to as_of: the %ld "
                     "days from the series start %s are left out, their "
                     "adopters counted in its first row",
                     HISTORY_DAYS, (long)(hist_from - hist_start), series);
            json_object_set_new(doc, "history_note",
                                hist_from > hist_start ? json_string(note)
                                                       : json_null());
        } else {
            json_object_set_new(doc, "history_from", json_null());
            json_object_set_new(doc, "history_note", json_null());
        }
        json_object_set_new(doc, "horizon", json_integer(H));
        json_object_set_new(doc, "draws", json_integer(D));
        json_object_set_new(doc, "variance_scale", json_real(scale));
        json_object_set_new(
            doc, "fit_seconds",
            json_pack("{s:f, s:f}", "bass", r.bass_s, "hazard", r.hazard_s));
    }
    if (hb > 0) {
        char cut[16];
        json_t *b = json_object();

        aipm_forecast__day_label(cut, bt.cut);
        json_object_set_new(b, "cutoff", json_string(cut));
        json_object_set_new(b, "days", json_integer(hb));
        /* A model not asked for was not fitted: no figure. */
        json_object_set_new(b, "bass_wape",
                            o->model == AIPM_ADOPTION_HAZARD
                                ? json_null()
                                : aipm_forecast__num(wape(&bt.all_bass)));
        json_object_set_new(b, "hazard_wape",
                            o->model == AIPM_ADOPTION_BASS
                                ? json_null()
                                : aipm_forecast__num(wape(&bt.all_hz)));
        json_object_set_new(b, "naive_wape",
                            aipm_forecast__num(wape(&bt.all_last)));
        json_object_set_new(b, "trend_wape",
                            aipm_forecast__num(wape(&bt.all_trend)));
        baseline_note(b, &bt, model);
        json_object_set_new(doc, "backtest", b);
    } else {
        json_object_set_new(doc, "backtest", json_null());
    }
    if (model == 3) {
        json_object_set_new(
            doc, "prior",
            json_pack("{s:O, s:s}", "from", pr.from, "note",
                      "no adopters yet: a Bass prior from the features in "
                      "the same area or linked by depends_on (per segment "
                      "the median of their p, q and adopting share; the "
                      "intervals span them)"));
    } else {
        json_object_set_new(doc, "prior", json_null());
    }
    json_object_set_new(doc, "registry", registry ? registry : json_null());
    registry = NULL;
    json_object_set_new(doc, "segments", segs);
    *out = doc;
    rc = AIPM_OK;
done:
    json_decref(registry);
    aipm_forecast__art_free(&ver);
    json_decref(artifact);
    free(m2);
    free(v2);
    free(ok2);
    free(mu);
    free(var);
    free(cm);
    free(cv);
    backtest_free(&bt);
    backtest_free(&cal);
    prior_free(&pr);
    aipm_forecast__run_release(&r);
    free(ok);
    return rc;
}

void aipm_adoption_record_form(json_t *doc)
{
    json_t *row;
    size_t i;

    json_object_del(doc, "fit_seconds");
    json_object_del(doc, "history_from");
    json_object_del(doc, "history_note");
    json_array_foreach(json_object_get(doc, "segments"), i, row)
        json_object_del(row, "history");
}
