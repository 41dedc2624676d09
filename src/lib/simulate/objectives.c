/* objectives.c - the objectives of `aipm simulate` (sim_run.h): for each,
 * its models read from the workspace through the analyses' typed
 * operations and checked against the scenario file, and its draws.
 *
 *   value        prioritize's value model (aipm_pz_sim_inputs_new), items
 *                shipped at the capacity's pace, drawn by sim_engine.h;
 *   a KPI        its weekly values' linear trend (aipm_kpi_series_get)
 *                times the shipped variations' lifts
 *                (aipm_experiment_lift_get);
 *   adopters:F   the adoption forecast per segment
 *                (aipm_adoption_paths_get), shifted by the rollouts.
 *
 * Every random number is placed by its draw index, so the result is the
 * same for any thread count, and scenarios share what they have in common.
 */
#include "simulate/run_int.h"

#include "aipm/kpi.h"
#include "aipm/simulate.h"
#include "aipm/yaml_strict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_KPI_WEEKS 4
#define MAX_GRID 365 /* days a KPI path is evaluated on, at most */

/* ---- the value objective ---- */

static int find_item(const aipm_pz_sim_inputs *in, const char *id)
{
    int i;

    for (i = 0; i < in->n_items; i++)
        if (strcmp(in->items[i].id, id) == 0)
            return i;
    return -1;
}

static double lookup(const aipm_scenario_override *ov, int n, const char *id,
                     int *found)
{
    int i;

    for (i = 0; i < n; i++)
        if (strcmp(ov[i].item, id) == 0) {
            *found = 1;
            return ov[i].value;
        }
    *found = 0;
    return 0;
}

/* Backlog item bl as scenario sc builds it: its assumptions, if any. */
static item_in item_as_built(const sim *S, const aipm_scenario *sc, int bl)
{
    const char *id = S->vin->items[bl].id;
    item_in want;

    memset(&want, 0, sizeof(want));
    want.bl = bl;
    want.value = lookup(sc->value, sc->n_value, id, &want.value_fixed);
    want.effort = lookup(sc->effort, sc->n_effort, id, &want.effort_fixed);
    if (!want.effort_fixed)
        want.effort = S->vin->items[bl].effort;
    return want;
}

/* The engine item for backlog item bl under these assumptions: an
 * existing one when the same, else a new one. */
static int item_slot(sim *S, const item_in *want, aipm_error *err)
{
    size_t i;

    for (i = 0; i < S->n_items; i++) {
        const item_in *it = &S->items[i];

        if (it->bl == want->bl && it->value_fixed == want->value_fixed &&
            it->effort_fixed == want->effort_fixed &&
            (!it->value_fixed || it->value == want->value) &&
            (!it->effort_fixed || it->effort == want->effort))
            return (int)i;
    }
    if (S->n_items == S->cap_items) {
        size_t cap = S->cap_items ? 2 * S->cap_items : 16;
        item_in *p = realloc(S->items, cap * sizeof(*p));

        if (p == NULL)
            return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        S->items = p;
        S->cap_items = cap;
    }
    S->items[S->n_items] = *want;
    return (int)S->n_items++;
}

int sim__setup_value(sim *S, aipm_store *st, aipm_error *err)
{
    const aipm_scenario_file *f = S->f;
    double total = 0, rate = 0; /* person-weeks a day */
    uint32_t *used = NULL;
    size_t n_used = 0, s, i;
    int j, rc;

    if (S->vin == NULL &&
        (rc = aipm_pz_sim_inputs_new(&S->vin, st, S->cfg, S->o->value_version,
                                     S->o->now_ms, err)) != AIPM_OK)
        return rc;
    if (f->has_capacity) {
        total = f->weeks_per_period * f->periods;
        rate = total / S->horizon;
    }
    for (s = 0; s < S->n_scen; s++) {
        const aipm_scenario *sc = &f->scenarios[s];

        if (sc->n_experiments > 0)
            sim__warn(S,
                      "experiments do not enter objective 'value' (the value "
                      "model predicts items' usage, not experiments' lifts)");
        if (sc->has_market_growth)
            return sim__bad(
                S, sc->line, err,
                "assume.market_growth: objective 'value' has no "
                "market trend to replace, so the assumption would do "
                "nothing; remove it");
    }
    /* the engine items, then the weights */
    for (s = 0; s < S->n_scen; s++) {
        const aipm_scenario *sc = &f->scenarios[s];

        for (j = 0; j < sc->n_build; j++) {
            int bl = find_item(S->vin, sc->build[j].id);
            item_in want;

            if (bl < 0) {
                const char *best = NULL;
                int d = 3, k;

                for (k = 0; k < S->vin->n_items; k++)
                    aipm_yaml_closer(sc->build[j].id, S->vin->items[k].id,
                                     &best, &d);
                return sim__bad(S, sc->build[j].line, err,
                                "build: item '%s' is not in the backlog%s%s%s",
                                sc->build[j].id, best ? "; did you mean '" : "",
                                best ? best : "", best ? "'?" : "");
            }
            if (!S->vin->items[bl].open) {
                return sim__bad(
                    S, sc->build[j].line, err,
                    "build: item '%s' is %s, not open (idea, planned "
                    "or in_progress), so it cannot be built",
                    sc->build[j].id, S->vin->items[bl].status);
            }
            want = item_as_built(S, sc, bl);
            if (want.value_fixed)
                sim__assume(S, s, "value of %s = %g (replaces the value model)",
                            sc->build[j].id, want.value);
            if (want.effort_fixed)
                sim__assume(S, s,
                            "effort of %s = %g person-weeks (replaces the "
                            "estimate %g and its uncertainty)",
                            sc->build[j].id, want.effort,
                            S->vin->items[bl].effort);
            if ((rc = item_slot(S, &want, err)) < 0)
                return rc;
        }
    }
    S->weight = calloc(S->n_scen * (S->n_items + 1), sizeof(double));
    S->built = calloc(S->n_scen * (S->n_items + 1), 1);
    S->ship = malloc(S->n_scen * (S->n_items + 1) * sizeof(double));
    S->planned = calloc(S->n_scen, sizeof(double));
    S->eitems = calloc(S->n_items + 1, sizeof(*S->eitems));
    used = malloc((S->n_items + 2) * sizeof(*used));
    if (!S->weight || !S->built || !S->ship || !S->planned || !S->eitems ||
        !used) {
        free(used);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    for (i = 0; i < S->n_scen * (S->n_items + 1); i++)
        S->ship[i] = -1;
    /* the posterior's stream, then each backlog item's (shared by its
     * variants) */
    S->post.p = S->vin->p;
    memcpy(S->post.mn, S->vin->mn, sizeof(double) * (size_t)S->vin->p);
    memcpy(S->post.chol, S->vin->chol,
           sizeof(double) * (size_t)(S->vin->p * S->vin->p));
    S->post.an = S->vin->an;
    S->post.bn = S->vin->bn;
    S->post.stream = sim__stream_for(used, &n_used, "value-model", "posterior");
    for (i = 0; i < S->n_items; i++) {
        const item_in *it = &S->items[i];
        aipm_sim_item *e = &S->eitems[i];
        size_t k;

        memcpy(e->x, S->vin->items[it->bl].x,
               sizeof(double) * (size_t)S->vin->p);
        e->effort = it->effort;
        e->value = it->value;
        e->flags = (it->value_fixed ? AIPM_SIM_VALUE_FIXED : 0) |
                   (it->effort_fixed ? AIPM_SIM_EFFORT_FIXED : 0);
        for (k = 0; k < i; k++)
            if (S->items[k].bl == it->bl)
                break;
        e->stream = k < i ? S->eitems[k].stream
                          : sim__stream_for(used, &n_used, "item",
                                            S->vin->items[it->bl].id);
    }
    free(used);
    /* ship days: built in order at the capacity's pace, or all at once */
    for (s = 0; s < S->n_scen; s++) {
        const aipm_scenario *sc = &f->scenarios[s];
        double cum = 0;

        for (j = 0; j < sc->n_build; j++) {
            int bl = find_item(S->vin, sc->build[j].id);
            item_in want;
            double day;
            size_t e;

            want = item_as_built(S, sc, bl);
            e = (size_t)item_slot(S, &want, err); /* found: no new slot */
            cum += want.effort;
            day = f->has_capacity ? ceil(cum / rate - 1e-9) : 0;
            S->ship[s * S->n_items + e] = day;
            S->built[s * S->n_items + e] = 1;
            S->weight[s * S->n_items + e] =
                day >= S->horizon ? 0 : (S->horizon - day) / S->horizon;
        }
        S->planned[s] = cum;
    }
    return AIPM_OK;
}

int sim__run_value(sim *S, aipm_error *err)
{
    aipm_sim_scenario *sc = calloc(S->n_scen, sizeof(*sc));
    aipm_sim_scenario *vs = NULL;
    aipm_sim_problem pb;
    aipm_sim_result *pr = NULL;
    double *vw = NULL;
    size_t s, i, q, k;
    int p, rc;

    if (sc == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (s = 0; s < S->n_scen; s++) {
        sc[s].weight = S->weight + s * S->n_items;
        sc[s].built = S->built + s * S->n_items;
        sc[s].capacity =
            S->f->has_capacity ? S->f->weeks_per_period * S->f->periods : 0;
    }
    memset(&pb, 0, sizeof(pb));
    pb.posterior = &S->post;
    pb.items = S->eitems;
    pb.n_items = S->n_items;
    pb.effort_log_sd = AIPM_PZ_EFFORT_SIGMA;
    pb.scenarios = sc;
    pb.n_scenarios = S->n_scen;
    rc = aipm_sim_run(&S->res, &pb, S->n_draws, S->o->seed, S->o->threads, err);
    if (rc != AIPM_OK)
        goto done;
    /* the path: the value live at each point, over the first draws (the
     * same draws: every number is placed by its index) */
    q = (size_t)S->n_points;
    if (q == 0)
        goto done;
    vs = calloc(S->n_scen * q, sizeof(*vs));
    vw = calloc(S->n_scen * q * (S->n_items + 1), sizeof(double));
    if (vs == NULL || vw == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (s = 0; s < S->n_scen; s++)
        for (p = 0; p < S->n_points; p++) {
            double *w = vw + (s * q + (size_t)p) * S->n_items;

            for (i = 0; i < S->n_items; i++) {
                double day = S->ship[s * S->n_items + i];

                w[i] = day >= 0 && day <= S->points[p] ? 1 : 0;
            }
            vs[s * q + (size_t)p].weight = w;
        }
    pb.scenarios = vs;
    pb.n_scenarios = S->n_scen * q;
    rc = aipm_sim_run(&pr, &pb, S->n_path, S->o->seed, S->o->threads, err);
    if (rc != AIPM_OK)
        goto done;
    for (s = 0; s < S->n_scen * q; s++)
        for (k = 0; k < S->n_path; k++)
            S->path[s * S->n_path + k] = pr->draws[s][k];
done:
    aipm_sim_result_free(pr);
    free(vw);
    free(vs);
    free(sc);
    return rc;
}

/* ---- a KPI objective ---- */

static int is_share(const aipm_metric *m)
{
    return m->type == AIPM_METRIC_CONVERSION ||
           m->type == AIPM_METRIC_RETENTION || m->type == AIPM_METRIC_ADOPTION;
}

/* The KPI's level now and trend per day: least squares on its weekly
 * values of the last AIPM_SIMULATE_KPI_WEEKS whole weeks, each at its
 * middle day, with their covariance sigma^2 (X'X)^-1. */
static int fit_kpi(sim *S, aipm_store *st, aipm_error *err)
{
    aipm_kpi_opts ko;
    aipm_kpi_series ser;
    int64_t now_day = S->o->now_ms / DAY_MS, last;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, rss = 0, n = 0, a, b, det, v11,
           v12, v22, s2;
    int i, rc;

    /* the Sunday before this week's Monday (ISO weeks; day 0 a Thursday) */
    last = now_day - (now_day + 3) % 7 - 1;
    aipm_kpi_opts_init(&ko);
    ko.period = AIPM_KPI_WEEK;
    ko.to_ms = last * DAY_MS;
    ko.from_ms = (last - 7 * AIPM_SIMULATE_KPI_WEEKS + 1) * DAY_MS;
    rc = aipm_kpi_series_get(&ser, st, S->cfg, S->kpi->key, &ko, err);
    if (rc != AIPM_OK)
        return rc;
    for (i = 0; i < ser.n; i++)
        if (isfinite(ser.value[i])) {
            double x = (double)(ser.start_ms[i] / DAY_MS + 3 - now_day);

            sx += x, sy += ser.value[i], n++;
        }
    S->n_weeks = (int)n;
    if (n < MIN_KPI_WEEKS) {
        aipm_kpi_series_free(&ser);
        return sim__bad(
            S, S->f->objective.line, err,
            "objective.kpi: KPI '%s' has %d weekly values in the %d "
            "whole weeks before now; its trend needs at least %d",
            S->kpi->key, (int)n, AIPM_SIMULATE_KPI_WEEKS, MIN_KPI_WEEKS);
    }
    for (i = 0; i < ser.n; i++)
        if (isfinite(ser.value[i])) {
            double x = (double)(ser.start_ms[i] / DAY_MS + 3 - now_day) -
                       sx / n,
                   y = ser.value[i] - sy / n;

            sxx += x * x, sxy += x * y;
        }
    b = sxx > 0 ? sxy / sxx : 0;
    a = sy / n - b * (sx / n); /* at x = 0: now */
    for (i = 0; i < ser.n; i++)
        if (isfinite(ser.value[i])) {
            double x = (double)(ser.start_ms[i] / DAY_MS + 3 - now_day),
                   r = ser.value[i] - a - b * x;

            rss += r * r;
        }
    aipm_kpi_series_free(&ser);
    s2 = rss / (n - 2);
    /* (X'X)^-1 for columns (1, x): [sum x^2, -sum x; -sum x, n] / det */
    det = n * (sxx + sx * sx / n) - sx * sx;
    if (!(det > 0))
        return sim__bad(S, S->f->objective.line, err,
                        "objective.kpi: KPI '%s' has its weekly values on one "
                        "day; no trend can be fitted",
                        S->kpi->key);
    v11 = s2 * (sxx + sx * sx / n) / det;
    v12 = -s2 * sx / det;
    v22 = s2 * n / det;
    S->level = a;
    S->slope = b;
    S->sigma = sqrt(s2);
    S->chol[0] = sqrt(v11);
    S->chol[1] = S->chol[0] > 0 ? v12 / S->chol[0] : 0;
    S->chol[2] = sqrt(fmax(0, v22 - S->chol[1] * S->chol[1]));
    return AIPM_OK;
}

static int on_backlog_id(void *ctx, const aipm_backlog_text *r)
{
    int idx, added;

    return aipm_strmap_put(ctx, r->id, strlen(r->id), &idx, &added);
}

/* Under a KPI the items are not simulated, but each must still be in the
 * backlog: a misspelled id is an error whatever the objective. */
static int check_items(sim *S, aipm_store *st, aipm_error *err)
{
    aipm_strmap ids;
    int s, j, k, rc, any = 0;

    for (s = 0; s < S->f->n_scenarios; s++)
        any |= S->f->scenarios[s].n_build > 0;
    if (!any)
        return AIPM_OK;
    aipm_strmap_init(&ids, INT32_MAX);
    rc = aipm_store_backlog_texts(st, on_backlog_id, &ids, err);
    for (s = 0; s < S->f->n_scenarios && rc == AIPM_OK; s++)
        for (j = 0; j < S->f->scenarios[s].n_build && rc == AIPM_OK; j++) {
            const aipm_scenario_item *it = &S->f->scenarios[s].build[j];
            const char *best = NULL;
            int d = 3;

            if (aipm_strmap_find(&ids, it->id, strlen(it->id)) >= 0)
                continue;
            for (k = 0; k < ids.n_keys; k++)
                aipm_yaml_closer(it->id, ids.keys[k], &best, &d);
            rc = sim__bad(S, it->line, err,
                          "build: item '%s' is not in the backlog%s%s%s",
                          it->id, best ? "; did you mean '" : "",
                          best ? best : "", best ? "'?" : "");
        }
    aipm_strmap_free(&ids);
    return rc == AIPM_ENOMEM ? aipm_error_set(err, rc, "out of memory") : rc;
}

int sim__setup_kpi(sim *S, aipm_store *st, aipm_error *err)
{
    const aipm_scenario_file *f = S->f;
    const aipm_metric *m;
    uint32_t used[8 + 2 * 1024];
    size_t n_used = 0, s;
    int i, j, rc, max_lifts = 0;

    for (i = 0; i < S->cfg->n_kpis; i++)
        if (strcmp(S->cfg->kpis[i].key, f->objective.kpi) == 0)
            S->kpi = &S->cfg->kpis[i];
    if (S->kpi == NULL) {
        const char *best = NULL;
        int d = 3;

        for (i = 0; i < S->cfg->n_kpis; i++)
            aipm_yaml_closer(f->objective.kpi, S->cfg->kpis[i].key, &best, &d);
        return sim__bad(
            S, f->objective.line, err,
            "objective.kpi: '%s' is not a KPI of aipm.yaml (kpis:), "
            "nor value or adopters:FEATURE%s%s%s",
            f->objective.kpi, best ? "; did you mean '" : "", best ? best : "",
            best ? "'?" : "");
    }
    m = aipm_config_metric(S->cfg, S->kpi->metric);
    S->share = m != NULL && is_share(m);
    S->down = S->kpi->direction_down;
    if ((rc = check_items(S, st, err)) != AIPM_OK ||
        (rc = fit_kpi(S, st, err)) != AIPM_OK)
        return rc;
    S->s_level = sim__stream_for(used, &n_used, "kpi-level", S->kpi->key);
    S->s_slope = sim__stream_for(used, &n_used, "kpi-trend", S->kpi->key);
    for (s = 0; s < S->n_scen; s++)
        max_lifts += f->scenarios[s].n_experiments;
    if (max_lifts > 1024)
        return sim__bad(S, f->scenarios[0].line, err,
                        "experiments: %d decisions in the file; at most 1024",
                        max_lifts);
    S->lifts = calloc((size_t)max_lifts + 1, sizeof(*S->lifts));
    S->coef = calloc(S->n_scen * ((size_t)max_lifts + 1), sizeof(double));
    S->has_growth = calloc(S->n_scen, sizeof(int));
    S->growth = calloc(S->n_scen, sizeof(double));
    if (!S->lifts || !S->coef || !S->has_growth || !S->growth)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (s = 0; s < S->n_scen; s++) {
        const aipm_scenario *sc = &f->scenarios[s];

        if (sc->n_build > 0)
            sim__warn(S,
                      "build: backlog items do not enter objective '%s' (the "
                      "value model predicts items' usage, not the KPI)",
                      S->kpi->key);
        if (sc->has_market_growth) {
            S->has_growth[s] = 1;
            S->growth[s] = sc->market_growth;
            sim__assume(S, s,
                        "market growth of %g per 30 days (replaces the KPI's "
                        "fitted trend)",
                        sc->market_growth);
        }
        for (j = 0; j < sc->n_experiments; j++) {
            const aipm_scenario_experiment *x = &sc->experiments[j];
            const aipm_experiment_def *e =
                aipm_config_experiment(S->cfg, x->experiment);
            int k;

            if (!aipm_experiment_measures(e, S->kpi->metric)) {
                sim__warn(
                    S,
                    "experiments: %s does not measure %s (the metric of "
                    "KPI %s), so shipping %s does not enter the objective",
                    x->experiment, S->kpi->metric, S->kpi->key, x->ship);
                continue;
            }
            if (strcmp(e->variations[0], x->ship) == 0)
                continue; /* the control: no change */
            for (k = 0; k < S->n_lifts; k++)
                if (strcmp(S->lifts[k].experiment, x->experiment) == 0 &&
                    strcmp(S->lifts[k].variation, x->ship) == 0)
                    break;
            if (k == S->n_lifts) {
                lift_in *L = &S->lifts[k];
                char name[600];

                rc = aipm_experiment_lift_get(
                    &L->post, st, S->cfg, x->experiment, x->ship,
                    S->kpi->metric, S->o->now_ms, err);
                if (rc != AIPM_OK) {
                    char why[sizeof(err->msg)];

                    if (err == NULL || rc == AIPM_ENOMEM || rc == AIPM_EIO)
                        return rc;
                    snprintf(why, sizeof(why), "%s", err->msg);
                    aipm_error_clear(err);
                    return sim__bad(S, x->line, err, "experiments: %s", why);
                }
                L->experiment = x->experiment;
                L->variation = x->ship;
                snprintf(name, sizeof(name), "%s/%s/%s", x->experiment, x->ship,
                         S->kpi->metric);
                L->stream = sim__stream_for(used, &n_used, "lift", name);
                S->n_lifts++;
            }
            S->coef[s * (size_t)max_lifts + (size_t)k] = 1;
        }
    }
    /* compact the coefficients to n_lifts columns */
    for (s = 0; s < S->n_scen; s++)
        for (j = 0; j < S->n_lifts; j++)
            S->coef[s * (size_t)S->n_lifts + (size_t)j] =
                S->coef[s * (size_t)max_lifts + (size_t)j];
    return AIPM_OK;
}

/* The KPI at day t of one draw: the trend (or the assumed growth) times
 * the shipped lifts, kept in the KPI's range. */
static double kpi_at(const sim *S, size_t s, double level, double slope,
                     double factor, double t)
{
    double v = S->has_growth[s] ? level * pow(1 + S->growth[s], t / 30)
                                : level + slope * t;

    v *= factor;
    if (v < 0)
        v = 0;
    if (S->share && v > 1)
        v = 1;
    return v;
}

typedef struct kpi_work {
    sim *S;
    int n_grid;
    double *grid; /* the days the mean over the horizon is taken on */
} kpi_work;

/* A block's draws in chunks of this many, so the scratch of the inputs'
 * normals does not grow with the draws (each number is placed by its
 * index: the chunks change nothing in the result). */
#define CHUNK_DRAWS 4096

static int kpi_chunk(kpi_work *w, size_t begin, size_t end, aipm_error *err);
static int adopt_chunk(sim *S, size_t begin, size_t end, aipm_error *err);

static int kpi_block(void *ctx, size_t begin, size_t end, int thread,
                     aipm_error *err)
{
    size_t b;
    int rc = AIPM_OK;

    (void)thread;
    for (b = begin; b < end && rc == AIPM_OK; b += CHUNK_DRAWS)
        rc = kpi_chunk(ctx, b, end - b < CHUNK_DRAWS ? end : b + CHUNK_DRAWS,
                       err);
    return rc;
}

static int kpi_chunk(kpi_work *w, size_t begin, size_t end, aipm_error *err)
{
    sim *S = w->S;
    size_t n = end - begin, k, s;
    int j, g, rc, nl = S->n_lifts;
    double *z = malloc((size_t)(2 + nl) * n * sizeof(double));

    if (z == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    rc = aipm_sim_normals(z, n, S->o->seed, S->s_level, begin, err);
    if (rc == AIPM_OK)
        rc = aipm_sim_normals(z + n, n, S->o->seed, S->s_slope, begin, err);
    for (j = 0; j < nl && rc == AIPM_OK; j++)
        rc = aipm_sim_normals(z + (size_t)(2 + j) * n, n, S->o->seed,
                              S->lifts[j].stream, begin, err);
    if (rc != AIPM_OK) {
        free(z);
        return rc;
    }
    for (k = 0; k < n; k++) {
        double level = S->level + S->chol[0] * z[k],
               slope = S->slope + S->chol[1] * z[k] + S->chol[2] * z[n + k];

        for (s = 0; s < S->n_scen; s++) {
            double factor = 1, sum = 0;

            for (j = 0; j < nl; j++)
                if (S->coef[s * (size_t)nl + (size_t)j] != 0)
                    factor *=
                        1 + S->lifts[j].post.lift_rel +
                        S->lifts[j].post.se_rel * z[(size_t)(2 + j) * n + k];
            for (g = 0; g < w->n_grid; g++)
                sum += kpi_at(S, s, level, slope, factor, w->grid[g]);
            sum /= w->n_grid;
            S->res->draws[s][begin + k] = S->down ? -sum : sum;
            if (begin + k < S->n_path)
                for (j = 0; j < S->n_points; j++)
                    S->path[(s * (size_t)S->n_points + (size_t)j) * S->n_path +
                            begin + k] =
                        kpi_at(S, s, level, slope, factor, S->points[j]);
        }
    }
    free(z);
    return AIPM_OK;
}

int sim__run_kpi(sim *S, aipm_error *err)
{
    kpi_work w;
    int g, rc;

    w.S = S;
    w.n_grid = S->horizon < MAX_GRID ? S->horizon : MAX_GRID;
    w.grid = malloc((size_t)w.n_grid * sizeof(double));
    if (w.grid == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (g = 0; g < w.n_grid; g++)
        w.grid[g] = w.n_grid == S->horizon
                        ? g + 1
                        : round((g + 1) * (double)S->horizon / w.n_grid);
    rc = aipm_sim_result_new(&S->res, S->n_scen, S->n_draws, S->o->seed, err);
    if (rc == AIPM_OK)
        rc = aipm_sim_parallel(S->n_draws, S->o->threads, kpi_block, &w, err);
    free(w.grid);
    return rc;
}

/* ---- adopters:FEATURE ---- */

/* The rollouts' segmentation: the property their segments name (all the
 * same), or none when every rollout reaches everyone. */
static int rollout_by(sim *S, aipm_error *err)
{
    const aipm_scenario_file *f = S->f;
    int s, j, k, line = 0;

    for (s = 0; s < f->n_scenarios; s++)
        for (j = 0; j < f->scenarios[s].n_rollouts; j++) {
            const aipm_scenario_rollout *r = &f->scenarios[s].rollouts[j];

            if (strcmp(r->feature, f->objective.feature) != 0)
                continue;
            for (k = 0; k < r->n_segments; k++) {
                const char *eq = strchr(r->segments[k], '=');
                size_t n = eq ? (size_t)(eq - r->segments[k]) : 0;

                if (eq == NULL || n == 0 || eq[1] == '\0')
                    return sim__bad(S, r->line, err,
                                    "rollouts: segment '%s' is not "
                                    "property=value (e.g. plan=pro)",
                                    r->segments[k]);
                if (S->by == NULL) {
                    if ((S->by = strndup(r->segments[k], n)) == NULL)
                        return aipm_error_set(err, AIPM_ENOMEM,
                                              "out of memory");
                    line = r->line;
                } else if (strlen(S->by) != n ||
                           strncmp(S->by, r->segments[k], n) != 0)
                    return sim__bad(S, r->line, err,
                                    "rollouts: segments by '%.*s' here and by "
                                    "'%s' on line %d; the adoption model "
                                    "forecasts one segmentation at a time",
                                    (int)n, r->segments[k], S->by, line);
            }
        }
    return AIPM_OK;
}

static int find_segment(const sim *S, const char *value)
{
    int g;

    for (g = 0; g < S->ap.n; g++)
        if (strcmp(S->ap.seg[g].segment, value) == 0)
            return g;
    return -1;
}

int sim__setup_adopt(sim *S, aipm_store *st, aipm_error *err)
{
    const aipm_scenario_file *f = S->f;
    const char *feat = f->objective.feature;
    int64_t today = S->o->now_ms / DAY_MS;
    uint32_t *used;
    size_t n_used = 0, s;
    int j, k, g, rc;

    if (aipm_config_feature(S->cfg, feat) == NULL) {
        const char *best = NULL;
        int d = 3;

        for (k = 0; k < S->cfg->n_catalog; k++)
            aipm_yaml_closer(feat, S->cfg->catalog[k].key, &best, &d);
        return sim__bad(S, f->objective.line, err,
                        "objective.kpi: feature '%s' is not in the catalog of "
                        "aipm.yaml%s%s%s",
                        feat, best ? "; did you mean '" : "", best ? best : "",
                        best ? "'?" : "");
    }
    if ((rc = rollout_by(S, err)) != AIPM_OK)
        return rc;
    rc = aipm_adoption_paths_get(&S->ap, st, S->cfg, feat, S->by, S->horizon,
                                 S->o->seed, S->o->adoption_version, err);
    if (rc != AIPM_OK)
        return rc;
    S->launched = strcmp(S->ap.model, "prior") != 0;
    /* a feature in use: its path's day 1 is the day after the data's
     * last, which may be before today; read it from today on */
    S->offset = S->launched && today > S->ap.as_of_day
                    ? (int)(today - S->ap.as_of_day)
                    : 0;
    if (S->offset > 0) {
        if (S->offset > AIPM_SCENARIO_MAX_DAYS)
            return sim__bad(S, f->objective.line, err,
                            "objective.kpi: the events end %d days before "
                            "today; forecast from data that old is not "
                            "simulated",
                            S->offset);
        aipm_adoption_paths_free(&S->ap);
        rc = aipm_adoption_paths_get(&S->ap, st, S->cfg, feat, S->by,
                                     S->horizon + S->offset, S->o->seed,
                                     S->o->adoption_version, err);
        if (rc != AIPM_OK)
            return rc;
    }
    S->shift = malloc((S->n_scen * (size_t)S->ap.n + 1) * sizeof(double));
    S->s_seg = malloc(((size_t)S->ap.n + 1) * sizeof(*S->s_seg));
    used = malloc(((size_t)S->ap.n + 1) * sizeof(*used));
    if (S->shift == NULL || S->s_seg == NULL || used == NULL) {
        free(used);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    for (g = 0; g < S->ap.n; g++) {
        char name[600];

        snprintf(name, sizeof(name), "%s:%s:%s", feat, S->by ? S->by : "",
                 S->ap.seg[g].segment);
        S->s_seg[g] = sim__stream_for(used, &n_used, "adoption", name);
    }
    free(used);
    for (s = 0; s < S->n_scen; s++) {
        const aipm_scenario *sc = &f->scenarios[s];

        if (sc->n_build > 0)
            sim__warn(S, "build: backlog items do not enter objective '%s'",
                      f->objective.kpi);
        if (sc->n_experiments > 0)
            sim__warn(S, "experiments do not enter objective '%s'",
                      f->objective.kpi);
        if (sc->has_market_growth)
            return sim__bad(
                S, sc->line, err,
                "assume.market_growth: objective '%s' has no market "
                "trend to replace, so the assumption would do "
                "nothing; remove it",
                f->objective.kpi);
        for (g = 0; g < S->ap.n; g++)
            S->shift[s * (size_t)S->ap.n + (size_t)g] =
                S->launched ? 0 : INFINITY;
        for (j = 0; j < sc->n_rollouts; j++) {
            const aipm_scenario_rollout *r = &sc->rollouts[j];
            double start;

            if (strcmp(r->feature, feat) != 0)
                continue;
            if (S->launched)
                return sim__bad(S, r->line, err,
                                "rollouts: %s is already in use (its forecast "
                                "comes from its own adopters), so a rollout of "
                                "it cannot be simulated; roll out a feature "
                                "nobody uses yet",
                                feat);
            start = (double)(r->start_ms / DAY_MS - today);
            if (start < 0)
                return sim__bad(S, r->line, err,
                                "rollouts: %s starts before today; a rollout "
                                "starts today or later",
                                feat);
            /* a linear ramp reaches the average user half-way through */
            start += r->ramp_days / 2.0;
            for (g = 0; g < S->ap.n; g++) {
                int reached = r->n_segments == 0;

                for (k = 0; k < r->n_segments && !reached; k++)
                    reached = strcmp(strchr(r->segments[k], '=') + 1,
                                     S->ap.seg[g].segment) == 0;
                if (reached)
                    S->shift[s * (size_t)S->ap.n + (size_t)g] = start;
            }
            for (k = 0; k < r->n_segments; k++)
                if (find_segment(S, strchr(r->segments[k], '=') + 1) < 0) {
                    char list[512] = "";
                    size_t n = 0;

                    for (g = 0; g < S->ap.n && n < sizeof(list); g++)
                        n += (size_t)snprintf(list + n, sizeof(list) - n,
                                              "%s%s", g ? ", " : "",
                                              S->ap.seg[g].segment);
                    return sim__bad(S, r->line, err,
                                    "rollouts: no segment %s among the users "
                                    "(%s has %s)",
                                    r->segments[k], S->by, list);
                }
        }
    }
    return AIPM_OK;
}

/* Segment g's adopters x days after its curve starts, at quantile u of
 * the forecast: piecewise linear through the day's five quantiles,
 * extended by the end pieces' slopes, between the days. */
static double adopters_at(const sim *S, int g, double x, double u)
{
    const aipm_adoption_segment_path *p = &S->ap.seg[g];
    const double *pr = aipm_adoption_path_probs;
    double v[2], base = S->launched ? p->adopters : 0;
    int d[2], i, k;

    x += S->offset;
    if (!(x > 0))
        return base;
    if (x > S->ap.horizon)
        x = S->ap.horizon;
    d[0] = (int)floor(x);
    d[1] = d[0] + 1 > S->ap.horizon ? S->ap.horizon : d[0] + 1;
    for (i = 0; i < 2; i++) {
        double q[AIPM_ADOPTION_PATH_Q], t;

        if (d[i] == 0) {
            v[i] = base;
            continue;
        }
        memcpy(q, p->q + (size_t)(d[i] - 1) * AIPM_ADOPTION_PATH_Q, sizeof(q));
        for (k = 1; k < AIPM_ADOPTION_PATH_Q; k++) /* keep them in order */
            if (q[k] < q[k - 1])
                q[k] = q[k - 1];
        k = u <= pr[1] ? 0 : u >= pr[3] ? 3 : u <= pr[2] ? 1 : 2;
        t = (u - pr[k]) / (pr[k + 1] - pr[k]);
        v[i] = q[k] + t * (q[k + 1] - q[k]);
        if (v[i] < base)
            v[i] = base;
    }
    return v[0] + (x - d[0]) * (v[1] - v[0]);
}

static int adopt_block(void *ctx, size_t begin, size_t end, int thread,
                       aipm_error *err)
{
    size_t b;
    int rc = AIPM_OK;

    (void)thread;
    for (b = begin; b < end && rc == AIPM_OK; b += CHUNK_DRAWS)
        rc = adopt_chunk(ctx, b, end - b < CHUNK_DRAWS ? end : b + CHUNK_DRAWS,
                         err);
    return rc;
}

static int adopt_chunk(sim *S, size_t begin, size_t end, aipm_error *err)
{
    size_t n = end - begin, k, s;
    int g, j, rc = AIPM_OK, ng = S->ap.n;
    double *u = malloc(((size_t)ng * n + 1) * sizeof(double));

    if (u == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (g = 0; g < ng && rc == AIPM_OK; g++)
        rc = aipm_sim_uniforms(u + (size_t)g * n, n, S->o->seed, S->s_seg[g],
                               begin, err);
    for (k = 0; k < n && rc == AIPM_OK; k++)
        for (s = 0; s < S->n_scen; s++) {
            const double *sh = S->shift + s * (size_t)ng;
            double total = 0;

            for (g = 0; g < ng; g++)
                total +=
                    adopters_at(S, g, S->horizon - sh[g], u[(size_t)g * n + k]);
            S->res->draws[s][begin + k] = total;
            if (begin + k < S->n_path)
                for (j = 0; j < S->n_points; j++) {
                    double at = 0;

                    for (g = 0; g < ng; g++)
                        at += adopters_at(S, g, S->points[j] - sh[g],
                                          u[(size_t)g * n + k]);
                    S->path[(s * (size_t)S->n_points + (size_t)j) * S->n_path +
                            begin + k] = at;
                }
        }
    free(u);
    return rc;
}

int sim__run_adopt(sim *S, aipm_error *err)
{
    int rc =
        aipm_sim_result_new(&S->res, S->n_scen, S->n_draws, S->o->seed, err);

    if (rc == AIPM_OK)
        rc = aipm_sim_parallel(S->n_draws, S->o->threads, adopt_block, S, err);
    return rc;
}
