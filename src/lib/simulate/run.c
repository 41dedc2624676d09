/* run.c - `aipm simulate FILE`: the scenario file against the workspace's
 * models, the Monte Carlo, the summaries, the sensitivity, the
 * recommendation and its decision record (sim_run.h, docs/scenarios.md).
 *
 * The models come from the analyses' typed operations: the value model
 * from prioritize (aipm_pz_sim_inputs), a KPI's weekly values from the
 * KPI report (aipm_kpi_series_get), an experiment's lift posterior from
 * its analysis (aipm_experiment_lift). The objectives' models and draws
 * are objectives.c's; this file runs them (sim_core), measures the
 * sensitivity, and writes the result, the recommendation and the record.
 *
 * The histograms of the draws share one set of edges, so the scenarios'
 * distributions compare on one axis: from the lowest 0.5% quantile of
 * any scenario to the highest 99.5% one (so a few far draws, counted
 * below and above, do not squeeze every bin), in the objective's own
 * units - a lower-is-better objective is simulated negated (unflip), and
 * its draws are negated back before they are counted, so its bins are
 * half-open the same way as any other's.
 */
#include "aipm/sim_run.h"
#include "aipm/decision.h"
#include "aipm/experiment.h"
#include "aipm/forecast.h"
#include "aipm/kpi.h"
#include "aipm/prioritize.h"
#include "aipm/sim_engine.h"
#include "aipm/simulate.h"
#include "aipm/yaml_strict.h"
#include "simulate/run_int.h"
#include "simulate/sim_int.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENS_BINS 20
#define HIST_BINS 40    /* bins of the draws' histograms */
#define HIST_LOW 0.005  /* their edges: the lowest quantile shown ... */
#define HIST_HIGH 0.995 /* ... and the highest */
#define HIST_CHUNK 1024 /* draws negated at a time (lower is better) */

void aipm_simulate_opts_init(aipm_simulate_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->draws = AIPM_SIMULATE_DEFAULT_DRAWS;
    o->seed = 1;
    o->threads = 1;
    o->histogram = 1;
}

/* ---- streams ---- */

/* An input's stream: FNV-1a of its kind and name, above the 16 streams
 * kept for the future; a taken stream moves to the next free one (in the
 * order inputs are met, which is the file's). */
uint32_t sim__stream_for(uint32_t *used, size_t *n_used, const char *kind,
                         const char *name)
{
    uint32_t h = 2166136261u;
    const unsigned char *p;
    size_t i;

    for (p = (const unsigned char *)kind; *p; p++)
        h = (h ^ *p) * 16777619u;
    h = (h ^ ':') * 16777619u;
    for (p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    if (h < 16)
        h += 16;
again:
    for (i = 0; i < *n_used; i++)
        if (used[i] == h) {
            h = h == UINT32_MAX ? 16 : h + 1;
            goto again;
        }
    used[(*n_used)++] = h;
    return h;
}

/* ---- the sensitivity estimator ---- */

double aipm_sim_first_order(const double *y, const double *u, size_t n,
                            int n_bins, double *low, double *high)
{
    double mean = 0, var = 0, between = 0, noise = 0, lo = 0, hi = 0;
    double *sum, *sq;
    size_t *cnt, k, n_lo = 0, n_hi = 0;
    int b;

    if (low)
        *low = NAN;
    if (high)
        *high = NAN;
    if (n_bins < 2 || n < 2 * (size_t)n_bins)
        return NAN;
    sum = calloc((size_t)n_bins, sizeof(*sum));
    sq = calloc((size_t)n_bins, sizeof(*sq));
    cnt = calloc((size_t)n_bins, sizeof(*cnt));
    if (!sum || !sq || !cnt) {
        free(sum), free(sq), free(cnt);
        return NAN;
    }
    for (k = 0; k < n; k++)
        mean += y[k];
    mean /= (double)n;
    for (k = 0; k < n; k++) {
        double d = y[k] - mean;

        b = (int)(u[k] * n_bins);
        b = b < 0 ? 0 : b >= n_bins ? n_bins - 1 : b;
        var += d * d;
        sum[b] += d;
        sq[b] += d * d;
        cnt[b]++;
        if (u[k] < 0.1)
            lo += y[k], n_lo++;
        else if (u[k] > 0.9)
            hi += y[k], n_hi++;
    }
    var /= (double)n;
    for (b = 0; b < n_bins; b++) {
        double m, w;

        if (cnt[b] < 2)
            continue;
        m = sum[b] / (double)cnt[b];
        w = (double)cnt[b] / (double)n;
        between += w * m * m;
        /* the bin mean's own variance: its within variance over its size */
        noise += w * (sq[b] / (double)cnt[b] - m * m) / (double)(cnt[b] - 1);
    }
    free(sum), free(sq), free(cnt);
    if (low && n_lo)
        *low = lo / (double)n_lo;
    if (high && n_hi)
        *high = hi / (double)n_hi;
    if (!(var > 0))
        return NAN;
    between -= noise;
    return between <= 0 ? 0 : between >= var ? 1 : between / var;
}

/* ---- errors that name the file's line ---- */

int sim__bad(sim *S, int line, aipm_error *err, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return aipm_error_set(err, AIPM_EINVALID, "%s:%d: %s", S->f->path, line,
                          msg);
}

void sim__warn(sim *S, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    size_t i;
    json_t *w;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_array_foreach(S->warnings, i, w)
    {
        if (strcmp(json_string_value(w), msg) == 0)
            return; /* said once */
    }
    json_array_append_new(S->warnings, json_string(msg));
}

void sim__assume(sim *S, size_t s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_array_append_new(S->assumptions[s], json_string(msg));
}

/* ---- checks against the workspace ---- */

static int check_common(sim *S, aipm_error *err)
{
    const aipm_scenario_file *f = S->f;
    int s, j, k;

    for (s = 0; s < f->n_scenarios; s++) {
        const aipm_scenario *sc = &f->scenarios[s];

        for (j = 0; j < sc->n_rollouts; j++) {
            const aipm_scenario_rollout *r = &sc->rollouts[j];

            if (aipm_config_feature(S->cfg, r->feature) == NULL) {
                const char *best = NULL;
                int d = 3;

                for (k = 0; k < S->cfg->n_catalog; k++)
                    aipm_yaml_closer(r->feature, S->cfg->catalog[k].key, &best,
                                     &d);
                return sim__bad(
                    S, r->line, err,
                    "rollouts: feature '%s' is not in the catalog of "
                    "aipm.yaml%s%s%s",
                    r->feature, best ? "; did you mean '" : "",
                    best ? best : "", best ? "'?" : "");
            }
            if (f->objective.kind != AIPM_SCENARIO_KPI_ADOPTERS ||
                strcmp(f->objective.feature, r->feature) != 0)
                sim__warn(
                    S,
                    "rollouts: the rollout of %s does not enter objective "
                    "'%s' (only a rollout of the feature of an "
                    "adopters:FEATURE objective does)",
                    r->feature, f->objective.kpi);
        }
        for (j = 0; j < sc->n_experiments; j++) {
            const aipm_scenario_experiment *x = &sc->experiments[j];
            const aipm_experiment_def *e =
                aipm_config_experiment(S->cfg, x->experiment);
            int found = 0;

            if (e == NULL) {
                const char *best = NULL;
                int d = 3;

                for (k = 0; k < S->cfg->n_experiments; k++)
                    aipm_yaml_closer(x->experiment, S->cfg->experiments[k].key,
                                     &best, &d);
                return sim__bad(S, x->line, err,
                                "experiments: '%s' is not an experiment of "
                                "aipm.yaml%s%s%s",
                                x->experiment, best ? "; did you mean '" : "",
                                best ? best : "", best ? "'?" : "");
            }
            for (k = 0; k < e->n_variations; k++)
                found |= strcmp(e->variations[k], x->ship) == 0;
            if (!found) {
                char list[256] = "";
                size_t n = 0;

                for (k = 0; k < e->n_variations && n < sizeof(list); k++)
                    n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
                                          k ? ", " : "", e->variations[k]);
                return sim__bad(S, x->line, err,
                                "experiments: %s has no variation '%s' (it has "
                                "%s)",
                                x->experiment, x->ship, list);
            }
        }
    }
    if (f->has_budget)
        sim__warn(S,
                  "budget: no input has a cost yet, so the budget of %g is "
                  "not checked",
                  f->budget);
    return AIPM_OK;
}

/* ---- the sensitivity of one scenario ---- */

static void add_input(json_t *arr, const char *input, const char *kind,
                      double share, double low, double high, int down)
{
    json_array_append_new(
        arr, json_pack("{s:s, s:s, s:f, s:f, s:f}", "input", input, "kind",
                       kind, "share", isfinite(share) ? share : 0, "low",
                       down ? -low : low, "high", down ? -high : high));
}

static int cmp_share(const void *a, const void *b)
{
    double x = json_real_value(json_object_get(*(json_t *const *)a, "share")),
           y = json_real_value(json_object_get(*(json_t *const *)b, "share"));

    return (x < y) - (x > y);
}

/* E[(e^X - 1)^+] for X ~ N(mu, sd^2): the value model's item value given
 * the posterior draw. */
static double value_given(double mu, double sd)
{
    if (!(sd > 0))
        return mu > 0 ? expm1(mu) : 0;
    return exp(mu + sd * sd / 2) * gsl_cdf_ugaussian_P((mu + sd * sd) / sd) -
           gsl_cdf_ugaussian_P(mu / sd);
}

static json_t *sensitivity(sim *S, size_t r, aipm_error *err)
{
    size_t n = S->n_sens, k, i;
    const double *y = S->res->draws[r];
    double *u = malloc(n * sizeof(double)), *z = NULL, *cond = NULL;
    json_t *arr = json_array(), *sorted, *out = NULL;
    char name[600];
    int j, rc = AIPM_OK;

    if (u == NULL || arr == NULL) {
        aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if (S->kind == OBJ_VALUE) {
        int p = S->post.p, any = 0;
        double *s2 = malloc(n * sizeof(double)), lo = 0, hi = 0, q[2],
               probs[2] = {0.1, 0.9}, mean = 0, var_c = 0, var_y = 0, mc = 0;
        size_t n_lo = 0, n_hi = 0;

        z = malloc(n * (size_t)p * sizeof(double));
        cond = calloc(n, sizeof(double));
        if (s2 == NULL || z == NULL || cond == NULL) {
            free(s2);
            aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        /* the posterior draw of each of the first n draws, as the engine
         * makes it, and the scenario's value given it */
        rc = aipm_sim_inv_gammas(s2, n, S->post.an, S->post.bn, S->o->seed,
                                 S->post.stream, 0, err);
        for (j = 0; j < p && rc == AIPM_OK; j++)
            rc = aipm_sim_normals(z + (size_t)j * n, n, S->o->seed,
                                  S->post.stream, (uint64_t)j << 56, err);
        for (i = 0; i < S->n_items && rc == AIPM_OK; i++) {
            const aipm_sim_item *e = &S->eitems[i];
            double w = S->weight[r * S->n_items + i], m = 0,
                   a[AIPM_SIM_MAX_P] = {0};
            int l;

            if (w == 0)
                continue;
            if (e->flags & AIPM_SIM_VALUE_FIXED) {
                for (k = 0; k < n; k++)
                    cond[k] += w * e->value;
                continue;
            }
            any = 1;
            for (j = 0; j < p; j++) {
                m += e->x[j] * S->post.mn[j];
                for (l = j; l < p; l++) /* a = L' x */
                    a[j] += S->post.chol[l * p + j] * e->x[l];
            }
            for (k = 0; k < n; k++) {
                double sd = sqrt(s2[k]), az = 0;

                for (j = 0; j < p; j++)
                    az += a[j] * z[(size_t)j * n + k];
                cond[k] += w * value_given(m + sd * az, sd);
            }
        }
        free(s2);
        if (rc != AIPM_OK)
            goto done;
        if (any) {
            for (k = 0; k < n; k++)
                mean += y[k], mc += cond[k];
            mean /= (double)n, mc /= (double)n;
            for (k = 0; k < n; k++)
                var_y += (y[k] - mean) * (y[k] - mean),
                    var_c += (cond[k] - mc) * (cond[k] - mc);
            if (aipm_sim_quantiles(q, cond, n, probs, 2, err) != AIPM_OK)
                goto done;
            for (k = 0; k < n; k++)
                if (cond[k] < q[0])
                    lo += y[k], n_lo++;
                else if (cond[k] > q[1])
                    hi += y[k], n_hi++;
            add_input(arr,
                      "the value model's coefficients (shared by every "
                      "item)",
                      "model", var_y > 0 ? fmin(1, var_c / var_y) : 0,
                      n_lo ? lo / (double)n_lo : mean,
                      n_hi ? hi / (double)n_hi : mean, 0);
        }
        for (i = 0; i < S->n_items && rc == AIPM_OK; i++) {
            const aipm_sim_item *e = &S->eitems[i];
            double l, h, share;

            if (S->weight[r * S->n_items + i] == 0 ||
                (e->flags & AIPM_SIM_VALUE_FIXED))
                continue;
            rc = aipm_sim_normals(u, n, S->o->seed, e->stream, 0, err);
            for (k = 0; k < n; k++)
                u[k] = gsl_cdf_ugaussian_P(u[k]);
            share = aipm_sim_first_order(y, u, n, SENS_BINS, &l, &h);
            snprintf(name, sizeof(name), "value of %s (its own uncertainty)",
                     S->vin->items[S->items[i].bl].id);
            add_input(arr, name, "item", share, l, h, 0);
        }
    } else if (S->kind == OBJ_ADOPT) {
        double l, h, share;
        int g;

        for (g = 0; g < S->ap.n && rc == AIPM_OK; g++) {
            if (!isfinite(S->shift[r * (size_t)S->ap.n + (size_t)g]))
                continue; /* not reached in this scenario */
            rc = aipm_sim_uniforms(u, n, S->o->seed, S->s_seg[g], 0, err);
            share = aipm_sim_first_order(y, u, n, SENS_BINS, &l, &h);
            snprintf(name, sizeof(name),
                     "adoption in %s%s%s (the forecast's "
                     "uncertainty)",
                     S->by ? S->by : "", S->by ? "=" : "",
                     S->ap.seg[g].segment);
            add_input(arr, name, "adoption", share, l, h, 0);
        }
    } else {
        double l, h, share;
        size_t b;

        z = malloc(2 * n * sizeof(double));
        if (z == NULL) {
            aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        rc = aipm_sim_normals(z, n, S->o->seed, S->s_level, 0, err);
        if (rc == AIPM_OK)
            rc = aipm_sim_normals(z + n, n, S->o->seed, S->s_slope, 0, err);
        for (b = 0; b < 2 && rc == AIPM_OK; b++) {
            if (b == 1 && S->has_growth[r])
                continue; /* the assumption replaced the trend */
            for (k = 0; k < n; k++)
                u[k] = gsl_cdf_ugaussian_P(z[b * n + k]);
            share = aipm_sim_first_order(y, u, n, SENS_BINS, &l, &h);
            snprintf(name, sizeof(name), "%s %s", S->kpi->key,
                     b == 0 ? "level now" : "trend (beyond the level's)");
            add_input(arr, name, b == 0 ? "kpi_level" : "kpi_trend", share, l,
                      h, S->down);
        }
        for (j = 0; j < S->n_lifts && rc == AIPM_OK; j++) {
            if (S->coef[r * (size_t)S->n_lifts + (size_t)j] == 0)
                continue;
            rc = aipm_sim_normals(u, n, S->o->seed, S->lifts[j].stream, 0, err);
            for (k = 0; k < n; k++)
                u[k] = gsl_cdf_ugaussian_P(u[k]);
            share = aipm_sim_first_order(y, u, n, SENS_BINS, &l, &h);
            snprintf(name, sizeof(name), "lift of %s %s on %s",
                     S->lifts[j].experiment, S->lifts[j].variation,
                     S->kpi->metric);
            add_input(arr, name, "experiment", share, l, h, S->down);
        }
    }
    if (rc != AIPM_OK)
        goto done;
    {
        size_t na = json_array_size(arr);
        json_t **v = malloc((na + 1) * sizeof(*v));

        if (v == NULL) {
            aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        for (i = 0; i < na; i++)
            v[i] = json_array_get(arr, i);
        qsort(v, na, sizeof(*v), cmp_share);
        sorted = json_array();
        for (i = 0; i < na; i++)
            json_array_append(sorted, v[i]);
        free(v);
    }
    out = json_pack(
        "{s:s, s:s, s:I, s:o}", "scenario", S->f->scenarios[r].name, "method",
        "first-order variance shares (Sobol main effects) from the draws: "
        "the variance of the objective's mean given the input, over the "
        "objective's variance; an item's own noise and a KPI input by "
        "conditional means over 20 equal-probability bins of the input, "
        "less the bins' sampling noise; the value model's coefficients "
        "exactly, from each draw's expected value given its coefficients. "
        "low and high: the objective's mean when the input is in its lowest "
        "and highest tenth",
        "draws", (json_int_t)n, "inputs", sorted);
done:
    json_decref(arr);
    free(u);
    free(z);
    free(cond);
    return out;
}

/* ---- the output ---- */

static double unflip(const sim *S, double x)
{
    return S->down ? -x : x;
}

static json_t *path_json(sim *S, size_t s, aipm_error *err)
{
    json_t *arr = json_array();
    double probs[3] = {0.1, 0.5, 0.9}, q[3];
    int j;

    for (j = 0; j < S->n_points && arr; j++) {
        const double *d =
            S->path + (s * (size_t)S->n_points + (size_t)j) * S->n_path;
        char date[32];
        double mean = 0;
        size_t k;

        if (aipm_sim_quantiles(q, d, S->n_path, probs, 3, err) != AIPM_OK) {
            json_decref(arr);
            return NULL;
        }
        for (k = 0; k < S->n_path; k++)
            mean += d[k];
        aipm_time_format(date, (S->o->now_ms / DAY_MS + S->points[j]) * DAY_MS);
        date[10] = '\0';
        json_array_append_new(arr,
                              json_pack("{s:i, s:s, s:f, s:f, s:f, s:f}", "day",
                                        S->points[j], "date", date, "mean",
                                        mean / (double)S->n_path, "p10", q[0],
                                        "p50", q[1], "p90", q[2]));
    }
    return arr;
}

static double risk_adjusted(const sim *S, const aipm_sim_summary *m)
{
    return m->mean - S->f->risk_aversion * (m->mean - m->cvar);
}

static int feasible(const sim *S, size_t s)
{
    return S->kind != OBJ_VALUE || !S->f->has_capacity ||
           S->planned[s] <= S->f->weeks_per_period * S->f->periods + 1e-9;
}

/* The histograms' common range [*lo, *hi] in the objective's units (see
 * the top). A range too narrow for HIST_BINS distinct edges (every draw
 * one value, as for a scenario that builds nothing) is widened around
 * its middle: by 0.5 either side, or 0.05% of the value past 1000, so the
 * value sits in the middle bins and the edges stay exact doubles. */
static int hist_range(const sim *S, double *lo, double *hi, aipm_error *err)
{
    static const double probs[2] = {HIST_LOW, HIST_HIGH};
    double q[2], scale, mid, half;
    size_t s;
    int rc;

    *lo = INFINITY;
    *hi = -INFINITY;
    for (s = 0; s < S->n_scen; s++) {
        rc = aipm_sim_quantiles(q, S->res->draws[s], S->n_draws, probs, 2, err);
        if (rc != AIPM_OK)
            return rc;
        /* negated, the 0.5% quantile of the draws is the objective's
         * 99.5% one */
        *lo = fmin(*lo, S->down ? -q[1] : q[0]);
        *hi = fmax(*hi, S->down ? -q[0] : q[1]);
    }
    scale = fmax(fabs(*lo), fabs(*hi));
    if (*hi - *lo > 64 * HIST_BINS * DBL_EPSILON * scale &&
        *hi - *lo > DBL_MIN * HIST_BINS)
        return AIPM_OK;
    mid = *lo + (*hi - *lo) / 2;
    half = fmax(0.5, fabs(mid) * 5e-4);
    *lo = fmax(mid - half, -DBL_MAX);
    *hi = fmin(mid + half, DBL_MAX);
    return AIPM_OK;
}

/* The edges aipm_sim_histogram counts with over [lo, hi] (simulate.h):
 * lo + b (hi - lo) / HIST_BINS, the last exactly hi. */
static json_t *hist_edges_json(double lo, double hi)
{
    json_t *edges = json_array();
    size_t b;

    for (b = 0; b <= HIST_BINS && edges; b++)
        json_array_append_new(
            edges, json_real(b == HIST_BINS
                                 ? hi
                                 : lo + (double)b * ((hi - lo) / HIST_BINS)));
    return edges;
}

/* Scenario s's draws over the common bins: all its draws, so counts,
 * below and above add up to the draws. */
static json_t *hist_json(const sim *S, size_t s, double lo, double hi,
                         aipm_error *err)
{
    const double *d = S->res->draws[s];
    size_t counts[HIST_BINS], below = 0, above = 0, b, k;
    json_t *arr;

    if (!S->down) {
        if (aipm_sim_histogram(counts, HIST_BINS, &below, &above, d, S->n_draws,
                               lo, hi, err) != AIPM_OK)
            return NULL;
    } else {
        /* back in the objective's units, a chunk at a time: no copy of
         * all the draws */
        double chunk[HIST_CHUNK];
        size_t part[HIST_BINS], pb, pa, j, m;

        memset(counts, 0, sizeof(counts));
        for (k = 0; k < S->n_draws; k += m) {
            m = S->n_draws - k < HIST_CHUNK ? S->n_draws - k : HIST_CHUNK;
            for (j = 0; j < m; j++)
                chunk[j] = -d[k + j];
            if (aipm_sim_histogram(part, HIST_BINS, &pb, &pa, chunk, m, lo, hi,
                                   err) != AIPM_OK)
                return NULL;
            for (b = 0; b < HIST_BINS; b++)
                counts[b] += part[b];
            below += pb;
            above += pa;
        }
    }
    arr = json_array();
    for (b = 0; b < HIST_BINS && arr; b++)
        json_array_append_new(arr, json_integer((json_int_t)counts[b]));
    return json_pack("{s:o, s:I, s:I}", "counts", arr, "below",
                     (json_int_t)below, "above", (json_int_t)above);
}

/* hist_lo < hist_hi: the histograms' range; NaN: no histogram. */
static json_t *scenario_json(sim *S, size_t s, double hist_lo, double hist_hi,
                             aipm_error *err)
{
    const aipm_sim_summary *m = &S->res->summary[s];
    const aipm_scenario *sc = &S->f->scenarios[s];
    json_t *o, *path = path_json(S, s, err), *hist = NULL;
    double p10 = S->down ? -m->p90 : m->p10, p90 = S->down ? -m->p10 : m->p90;

    if (path == NULL)
        return NULL;
    if (hist_lo < hist_hi) {
        hist = hist_json(S, s, hist_lo, hist_hi, err);
        if (hist == NULL) {
            json_decref(path);
            return NULL;
        }
    }
    o = json_pack("{s:s, s:s?, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:b, s:O, "
                  "s:o}",
                  "name", sc->name, "description", sc->description, "mean",
                  unflip(S, m->mean), "p10", p10, "p50", unflip(S, m->p50),
                  "p90", p90, "cvar", unflip(S, m->cvar), "risk_adjusted",
                  unflip(S, risk_adjusted(S, m)), "p_loss", S->res->p_loss[s],
                  "feasible", feasible(S, s), "assumptions", S->assumptions[s],
                  "path", path);
    if (o && hist)
        json_object_set_new(o, "histogram", hist);
    else
        json_decref(hist);
    if (o && S->kind == OBJ_VALUE) {
        json_t *items = json_array(), *late = json_array();
        size_t i;

        for (i = 0; i < S->n_items; i++) {
            double day = S->ship[s * S->n_items + i];

            if (day < 0)
                continue;
            json_array_append_new(
                items, json_pack("{s:s, s:f, s:f, s:b}", "id",
                                 S->vin->items[S->items[i].bl].id, "effort",
                                 S->items[i].effort, "ship_day", day, "live",
                                 day < S->horizon));
            if (day >= S->horizon)
                json_array_append_new(
                    late, json_string(S->vin->items[S->items[i].bl].id));
        }
        json_object_set_new(o, "items", items);
        json_object_set_new(o, "not_live", late);
        if (S->f->has_capacity)
            json_object_set_new(
                o, "capacity",
                json_pack("{s:f, s:f, s:f, s:f, s:f}", "available_weeks",
                          S->f->weeks_per_period * S->f->periods,
                          "planned_weeks", S->planned[s], "effort_mean",
                          S->res->effort_mean[s], "p_over", S->res->p_over[s],
                          "shortfall_mean", S->res->shortfall_mean[s]));
    }
    return o;
}

/* A share in words: whole percent, but never a rounded 0% or 100% for a
 * share that is not. */
static const char *pct(char *buf, double p)
{
    if (p > 0 && p < 0.005)
        snprintf(buf, 16, "under 1%%");
    else if (p < 1 && p > 0.995)
        snprintf(buf, 16, "over 99%%");
    else
        snprintf(buf, 16, "%.0f%%", 100 * p);
    return buf;
}

/* The recommendation: the feasible scenario with the highest
 * risk-adjusted objective, with its reasons. */
static json_t *recommend(sim *S, size_t *best_out, const json_t *sens)
{
    const aipm_sim_summary *sm = S->res->summary;
    size_t s, best = SIZE_MAX, second = SIZE_MAX, n = S->n_scen,
              base = S->res->baseline;
    json_t *reasons = json_array();
    char buf[768], a[16], b[16];
    int any_feasible = 0;

    for (s = 0; s < n; s++)
        any_feasible |= feasible(S, s);
    for (s = 0; s < n; s++) {
        if (any_feasible && !feasible(S, s))
            continue;
        if (best == SIZE_MAX ||
            risk_adjusted(S, &sm[s]) > risk_adjusted(S, &sm[best])) {
            second = best;
            best = s;
        } else if (second == SIZE_MAX ||
                   risk_adjusted(S, &sm[s]) > risk_adjusted(S, &sm[second]))
            second = s;
    }
    *best_out = best;
    snprintf(buf, sizeof(buf),
             "%s has the best risk-adjusted %s: %.4g (mean %.4g, mean of "
             "the worst %s of draws %.4g, risk aversion %g)",
             S->f->scenarios[best].name, S->f->objective.kpi,
             unflip(S, risk_adjusted(S, &sm[best])), unflip(S, sm[best].mean),
             pct(a, S->f->tail), unflip(S, sm[best].cvar), S->f->risk_aversion);
    json_array_append_new(reasons, json_string(buf));
    if (best != base) {
        snprintf(buf, sizeof(buf),
                 "it beats the baseline %s in %s of draws and falls below "
                 "it in %s",
                 S->f->scenarios[base].name,
                 pct(a, S->res->beats[best * n + base]),
                 pct(b, S->res->p_loss[best]));
        json_array_append_new(reasons, json_string(buf));
    } else
        json_array_append_new(reasons,
                              json_string("it is the baseline: no other "
                                          "scenario does better once risk "
                                          "is counted"));
    if (second != SIZE_MAX) {
        snprintf(buf, sizeof(buf),
                 "the runner-up %s scores %.4g; %s beats it in %s of draws",
                 S->f->scenarios[second].name,
                 unflip(S, risk_adjusted(S, &sm[second])),
                 S->f->scenarios[best].name,
                 pct(a, S->res->beats[best * n + second]));
        json_array_append_new(reasons, json_string(buf));
    }
    for (s = 0; s < n; s++)
        if (any_feasible && !feasible(S, s)) {
            snprintf(buf, sizeof(buf),
                     "%s was not eligible: its estimates need %.3g "
                     "person-weeks and the capacity is %.3g",
                     S->f->scenarios[s].name, S->planned[s],
                     S->f->weeks_per_period * S->f->periods);
            json_array_append_new(reasons, json_string(buf));
        }
    if (!any_feasible)
        json_array_append_new(
            reasons, json_string("no scenario fits the capacity: the "
                                 "recommendation is among all of them"));
    if (S->kind == OBJ_VALUE && S->f->has_capacity &&
        S->res->p_over[best] > 0) {
        snprintf(buf, sizeof(buf),
                 "its effort runs over the capacity in %s of draws",
                 pct(a, S->res->p_over[best]));
        json_array_append_new(reasons, json_string(buf));
    }
    {
        json_t *top = json_array_get(json_object_get(sens, "inputs"), 0);

        if (top != NULL) {
            snprintf(buf, sizeof(buf),
                     "its largest source of uncertainty: %s (%s of the "
                     "variance)",
                     json_string_value(json_object_get(top, "input")),
                     pct(a, json_real_value(json_object_get(top, "share"))));
            json_array_append_new(reasons, json_string(buf));
        }
    }
    if (json_array_size(S->assumptions[best]) > 0) {
        snprintf(buf, sizeof(buf),
                 "it rests on %zu assumption%s of the PM (listed with the "
                 "scenario)",
                 json_array_size(S->assumptions[best]),
                 json_array_size(S->assumptions[best]) == 1 ? "" : "s");
        json_array_append_new(reasons, json_string(buf));
    }
    return json_pack("{s:s, s:f, s:o}", "scenario", S->f->scenarios[best].name,
                     "risk_adjusted", unflip(S, risk_adjusted(S, &sm[best])),
                     "reasons", reasons);
}

static json_t *models_json(const sim *S)
{
    json_t *m = json_object(), *ex = json_array();
    int j;

    if (S->kind == OBJ_VALUE)
        json_object_set_new(
            m, "value",
            json_pack("{s:s, s:o, s:i, s:f}", "model", S->vin->model, "version",
                      S->vin->version > 0 ? json_integer(S->vin->version)
                                          : json_null(),
                      "trained_on", S->vin->n_train, "effort_log_sd",
                      AIPM_PZ_EFFORT_SIGMA));
    else if (S->kind == OBJ_ADOPT) {
        json_t *segs = json_array();
        int g;

        for (g = 0; g < S->ap.n && segs; g++)
            json_array_append_new(segs,
                                  json_pack("{s:s, s:f, s:f}", "segment",
                                            S->ap.seg[g].segment, "users",
                                            S->ap.seg[g].users, "adopters",
                                            S->ap.seg[g].adopters));
        json_object_set_new(
            m, "adoption",
            json_pack("{s:s, s:s, s:s?, s:o, s:b, s:o}", "feature",
                      S->f->objective.feature, "model", S->ap.model, "by",
                      S->by, "version",
                      S->ap.model_version > 0
                          ? json_integer(S->ap.model_version)
                          : json_null(),
                      "launched", S->launched, "segments", segs));
    } else
        json_object_set_new(
            m, "kpi",
            json_pack(
                "{s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:i}", "key",
                S->kpi->key, "metric", S->kpi->metric, "model",
                "linear trend of the weekly values (least squares)", "level",
                S->level, "trend_per_30_days", 30 * S->slope, "level_sd",
                S->chol[0], "trend_sd_per_30_days",
                30 * sqrt(S->chol[1] * S->chol[1] + S->chol[2] * S->chol[2]),
                "residual_sd", S->sigma, "weeks", S->n_weeks));
    for (j = 0; j < S->n_lifts; j++)
        json_array_append_new(
            ex, json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:I, s:I}",
                          "experiment", S->lifts[j].experiment, "variation",
                          S->lifts[j].variation, "metric", S->kpi->metric,
                          "posterior", "normal (flat prior)", "lift_rel",
                          S->lifts[j].post.lift_rel, "se_rel",
                          S->lifts[j].post.se_rel, "units_control",
                          (json_int_t)S->lifts[j].post.units_control,
                          "units_variation",
                          (json_int_t)S->lifts[j].post.units_variation));
    json_object_set_new(m, "experiments", ex);
    return m;
}

static void sim_free(sim *S)
{
    size_t s;

    if (!S->vin_borrowed)
        aipm_pz_sim_inputs_free(S->vin);
    free(S->items);
    free(S->weight);
    free(S->built);
    free(S->ship);
    free(S->planned);
    free(S->eitems);
    free(S->lifts);
    free(S->coef);
    free(S->has_growth);
    free(S->growth);
    aipm_adoption_paths_free(&S->ap);
    free(S->shift);
    free(S->s_seg);
    free(S->by);
    aipm_sim_result_free(S->res);
    free(S->path);
    for (s = 0; S->assumptions && s < S->n_scen; s++)
        json_decref(S->assumptions[s]);
    free(S->assumptions);
    json_decref(S->warnings);
}

/* canon and sha: the scenario file's canonical JSON and its digest. */
static int record(sim *S, aipm_store *st, json_t *doc, const char *canon,
                  const char *sha, const char *decision, const char *rationale,
                  aipm_error *err)
{
    static const char *const value_inputs[] = {"backlog", "feedback", "events",
                                               "signals", NULL};
    static const char *const kpi_inputs[] = {"events", NULL};
    static const char *const adopt_inputs[] = {"events", "graph", NULL};
    aipm_decision_spec spec;
    char id[37], model[256];
    json_t *params, *scen = json_loads(canon, 0, NULL);
    int rc;

    params =
        json_pack("{s:o, s:s, s:I, s:I, s:o}", "scenario", scen,
                  "scenario_sha256", sha, "draws", (json_int_t)S->n_draws,
                  "seed", (json_int_t)S->o->seed, "value_model_version",
                  S->vin && S->vin->version > 0 ? json_integer(S->vin->version)
                                                : json_null());
    /* the replay makes the histograms only when the record has them */
    if (params != NULL && S->o->histogram)
        json_object_set_new(params, "histogram_bins", json_integer(HIST_BINS));
    if (params != NULL && S->kind == OBJ_ADOPT)
        json_object_set_new(params, "adoption_model_version",
                            S->ap.model_version > 0
                                ? json_integer(S->ap.model_version)
                                : json_null());
    if (params == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if (S->kind == OBJ_VALUE)
        snprintf(model, sizeof(model), "%s", S->vin->model);
    else if (S->kind == OBJ_ADOPT && S->ap.model_version > 0)
        snprintf(model, sizeof(model), "adoption@%lld (%s forecast paths)",
                 (long long)S->ap.model_version, S->ap.model);
    else if (S->kind == OBJ_ADOPT)
        snprintf(model, sizeof(model), "adoption (%s forecast paths)",
                 S->ap.model);
    else
        snprintf(model, sizeof(model),
                 "kpi linear trend + experiment posteriors (%d)", S->n_lifts);
    memset(&spec, 0, sizeof(spec));
    spec.kind = "simulate";
    spec.subject = S->o->subject ? S->o->subject : S->f->objective.kpi;
    spec.decision = decision;
    spec.doc = doc;
    spec.params = params;
    spec.datasets = S->kind == OBJ_VALUE   ? value_inputs
                    : S->kind == OBJ_ADOPT ? adopt_inputs
                                           : kpi_inputs;
    spec.model = model;
    spec.rationale = rationale;
    spec.confidence = NAN;
    spec.config = S->cfg;
    rc = aipm_decision_record(st, &spec, S->o->now_ms, S->o->checkpoint, id,
                              err);
    json_decref(params);
    if (rc == AIPM_OK)
        json_object_set_new(doc, "decision_id", json_string(id));
    return rc;
}

/* Everything up to the summaries: the checks, the models, the draws.
 * with_path: also the KPI path's draws; with_beats: also P(loss) and
 * P(A beats B). S is the caller's to free (sim_free), whatever
 * happens. */
static int sim_core(sim *S, aipm_store *st, const aipm_config *cfg,
                    const aipm_scenario_file *f, const aipm_simulate_opts *o,
                    int with_path, int with_beats, aipm_error *err)
{
    size_t s;
    int rc, j;

    S->f = f;
    S->cfg = cfg;
    S->o = o;
    S->n_scen = (size_t)f->n_scenarios;
    S->n_draws = o->draws ? o->draws : AIPM_SIMULATE_DEFAULT_DRAWS;
    S->horizon = f->objective.horizon_days;
    if (S->n_draws > AIPM_SIMULATE_MAX_DRAWS)
        return aipm_error_set(err, AIPM_EINVALID,
                              "draws must be 1 to %d, not %zu",
                              AIPM_SIMULATE_MAX_DRAWS, S->n_draws);
    S->n_path = S->n_draws < AIPM_SIMULATE_PATH_DRAWS
                    ? S->n_draws
                    : AIPM_SIMULATE_PATH_DRAWS;
    S->n_sens = S->n_draws < AIPM_SIMULATE_SENS_DRAWS
                    ? S->n_draws
                    : AIPM_SIMULATE_SENS_DRAWS;
    S->n_points = !with_path ? 0
                  : S->horizon < AIPM_SIMULATE_PATH_POINTS
                      ? S->horizon
                      : AIPM_SIMULATE_PATH_POINTS;
    for (j = 0; j < S->n_points; j++)
        S->points[j] = (int)round((j + 1) * (double)S->horizon / S->n_points);
    S->kind = f->objective.kind == AIPM_SCENARIO_KPI_VALUE      ? OBJ_VALUE
              : f->objective.kind == AIPM_SCENARIO_KPI_ADOPTERS ? OBJ_ADOPT
                                                                : OBJ_KPI;
    S->warnings = json_array();
    S->assumptions = calloc(S->n_scen, sizeof(*S->assumptions));
    S->path = malloc((S->n_scen * (size_t)S->n_points * S->n_path + 1) *
                     sizeof(double));
    if (S->warnings == NULL || S->assumptions == NULL || S->path == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (s = 0; s < S->n_scen; s++)
        if ((S->assumptions[s] = json_array()) == NULL)
            return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if ((rc = check_common(S, err)) != AIPM_OK)
        return rc;
    rc = S->kind == OBJ_VALUE   ? sim__setup_value(S, st, err)
         : S->kind == OBJ_ADOPT ? sim__setup_adopt(S, st, err)
                                : sim__setup_kpi(S, st, err);
    if (rc == AIPM_OK)
        rc = S->kind == OBJ_VALUE   ? sim__run_value(S, err)
             : S->kind == OBJ_ADOPT ? sim__run_adopt(S, err)
                                    : sim__run_kpi(S, err);
    if (rc == AIPM_OK && with_beats)
        rc = aipm_sim_result_summarize(S->res, (size_t)f->baseline, f->tail,
                                       o->threads, err);
    else if (rc == AIPM_OK) { /* the summaries alone: no P(A beats B) */
        S->res->summary = malloc(S->n_scen * sizeof(*S->res->summary));
        rc = S->res->summary == NULL
                 ? aipm_error_set(err, AIPM_ENOMEM, "out of memory")
                 : aipm_sim_summarize_many(
                       S->res->summary, (const double *const *)S->res->draws,
                       S->n_scen, S->n_draws, f->tail, o->threads, err);
    }
    return rc;
}

int sim_evaluate(aipm_sim_summary *sum, double *beats, aipm_store *st,
                 const aipm_config *cfg, const aipm_scenario_file *f,
                 const aipm_simulate_opts *o, aipm_pz_sim_inputs *vin,
                 aipm_error *err)
{
    sim S;
    int rc;

    memset(&S, 0, sizeof(S));
    S.vin = vin;
    S.vin_borrowed = vin != NULL;
    rc = sim_core(&S, st, cfg, f, o, 0, beats != NULL, err);
    if (rc == AIPM_OK) {
        memcpy(sum, S.res->summary, S.n_scen * sizeof(*sum));
        if (beats)
            memcpy(beats, S.res->beats, S.n_scen * S.n_scen * sizeof(double));
    }
    sim_free(&S);
    return rc;
}

int aipm_simulate(json_t **out, aipm_store *st, const aipm_config *cfg,
                  const aipm_scenario_file *f, const aipm_simulate_opts *o,
                  aipm_error *err)
{
    sim S;
    json_t *doc = NULL, *scen = NULL, *beats = NULL, *sens = NULL, *rec = NULL,
           *hist = NULL;
    char sha[65], as_of[32], *canon = NULL;
    double hist_lo = NAN, hist_hi = NAN;
    aipm_scenario_file fc;
    size_t s, t, best = 0;
    int rc;

    *out = NULL;
    memset(&S, 0, sizeof(S));
    /* the risk settings the file leaves out: policies.scenarios' (the
     * canonical file then holds them, so a replay uses the same) */
    fc = *f;
    if (!f->risk_aversion_set && cfg)
        fc.risk_aversion = cfg->scenarios.risk_aversion;
    if (!f->tail_set && cfg)
        fc.tail = cfg->scenarios.tail;
    f = &fc;
    if ((rc = aipm_scenario_file_json(&canon, sha, f, err)) != AIPM_OK ||
        (rc = sim_core(&S, st, cfg, f, o, 1, 1, err)) != AIPM_OK)
        goto done;
    /* the recommendation needs the sensitivity of the best scenario,
     * which needs the best: find it first without reasons */
    json_decref(recommend(&S, &best, NULL));
    sens = sensitivity(&S, best, err);
    if (sens == NULL) {
        rc = err && err->code ? err->code : AIPM_ENOMEM;
        goto done;
    }
    rec = recommend(&S, &best, sens);
    if (o->histogram) {
        if ((rc = hist_range(&S, &hist_lo, &hist_hi, err)) != AIPM_OK)
            goto done;
        hist = json_pack(
            "{s:o, s:i, s:s}", "edges", hist_edges_json(hist_lo, hist_hi),
            "bins", HIST_BINS, "note",
            "each scenario's histogram counts all its draws in these bins, "
            "shared by every scenario: edges ascending in the objective's "
            "units, from the lowest 0.5% quantile of any scenario to the "
            "highest 99.5% one; bin i is [edges[i], edges[i+1]), the last "
            "also holds edges[bins] (numpy.histogram's bins); draws outside "
            "the edges are counted in the scenario's below and above");
        if (hist == NULL) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
    }
    scen = json_array();
    beats = json_object();
    for (s = 0; s < S.n_scen && scen && beats; s++) {
        json_t *sj = scenario_json(&S, s, hist_lo, hist_hi, err),
               *row = json_object();

        if (sj == NULL || row == NULL) {
            json_decref(sj);
            json_decref(row);
            rc = err && err->code
                     ? err->code
                     : aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        json_array_append_new(scen, sj);
        for (t = 0; t < S.n_scen; t++)
            if (t != s)
                json_object_set_new(row, f->scenarios[t].name,
                                    json_real(S.res->beats[s * S.n_scen + t]));
        json_object_set_new(beats, f->scenarios[s].name, row);
    }
    aipm_time_format(as_of, o->now_ms);
    doc = json_pack(
        "{s:s, s:{s:s, s:s, s:i, s:s}, s:s, s:I, s:I, s:f, s:f, s:s, s:o, "
        "s:o*, s:o, s:o, s:o, s:o, s:O}",
        "as_of", as_of, "objective", "kpi", f->objective.kpi, "kind",
        S.kind == OBJ_VALUE   ? "value"
        : S.kind == OBJ_ADOPT ? "adopters"
                              : "kpi",
        "horizon_days", S.horizon, "better", S.down ? "lower" : "higher",
        "scenario_sha256", sha, "draws", (json_int_t)S.n_draws, "seed",
        (json_int_t)o->seed, "risk_aversion", f->risk_aversion, "tail", f->tail,
        "baseline", f->scenarios[f->baseline].name, "models", models_json(&S),
        "histogram", hist, "scenarios", scen, "beats", beats, "sensitivity",
        sens, "recommendation", rec, "warnings", S.warnings);
    scen = beats = sens = rec = hist = NULL;
    if (doc == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if (o->record) {
        json_t *r0 = json_object_get(doc, "recommendation");
        json_t *why = json_array_get(json_object_get(r0, "reasons"), 0);

        rc = record(&S, st, doc, canon, sha,
                    json_string_value(json_object_get(r0, "scenario")),
                    json_string_value(why), err);
        if (rc != AIPM_OK)
            goto done;
    }
    *out = doc;
    doc = NULL;
done:
    free(canon);
    json_decref(doc);
    json_decref(scen);
    json_decref(beats);
    json_decref(sens);
    json_decref(rec);
    json_decref(hist);
    sim_free(&S);
    return rc;
}

int aipm_simulate_from_params(aipm_scenario_file **f, aipm_simulate_opts *o,
                              const json_t *params, aipm_error *err)
{
    json_t *scen = json_object_get(params, "scenario"),
           *v = json_object_get(params, "value_model_version");
    char *text;
    int rc;

    *f = NULL;
    if (!json_is_object(scen) ||
        !json_is_integer(json_object_get(params, "draws")) ||
        !json_is_integer(json_object_get(params, "seed")))
        return aipm_error_set(err, AIPM_EINVALID,
                              "a simulate record's parameters need scenario, "
                              "draws and seed");
    text = json_dumps(scen, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    rc = aipm_scenario_file_load_buffer(f, text, strlen(text), "(record)", err);
    free(text);
    if (rc != AIPM_OK)
        return rc;
    o->draws = (size_t)json_integer_value(json_object_get(params, "draws"));
    o->seed = (uint64_t)json_integer_value(json_object_get(params, "seed"));
    o->value_version = json_is_integer(v) ? json_integer_value(v) : -1;
    v = json_object_get(params, "adoption_model_version");
    o->adoption_version = json_is_integer(v) ? json_integer_value(v) : -1;
    o->histogram = json_is_integer(json_object_get(params, "histogram_bins"));
    return AIPM_OK;
}
