/* sql.c - an experiment's and a population's sufficient statistics of a
 * metric, read from the store (aipm_store_exposure_moments and friends):
 * the store scans the events once per metric and returns one row of
 * moments per variation; this file says which events, window, covariate
 * and cap make the metric, and files the rows under aipm.yaml's
 * variations.
 */
#include "metrics/metrics_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

typedef struct collect {
    aipm_exposures *out; /* without a breakdown */
    aipm_levels *levels; /* with one */
    const aipm_experiment_def *e;
} collect;

/* Store a row's moments in the group of its variation; rows of variations
 * not in aipm.yaml (tracking typos) are not part of the analysis. */
static void fill_group(aipm_exposures *ex, const aipm_experiment_def *e,
                       const char *variation, const aipm_unit_moments *m)
{
    aipm_group_stats *g;
    int i;

    for (i = 0; i < ex->n_groups; i++)
        if (strcmp(e->variations[i], variation) == 0)
            break;
    if (i == ex->n_groups)
        return;
    g = &ex->groups[i];
    g->n = m->n;
    g->sum = m->sum;
    g->sum_sq = m->sum_sq;
    g->x_sum = m->x_sum;
    g->x_sum_sq = m->x_sum_sq;
    g->xy_sum = m->xy_sum;
}

static void init_groups(aipm_exposures *ex, const aipm_experiment_def *e)
{
    int i;

    ex->n_groups = e->n_variations < AIPM_MAX_VARIATIONS ? e->n_variations
                                                         : AIPM_MAX_VARIATIONS;
    for (i = 0; i < ex->n_groups; i++)
        snprintf(ex->groups[i].variation, sizeof(ex->groups[i].variation), "%s",
                 e->variations[i]);
}

/* Without a breakdown: the row without a variation counts the
 * multi-exposed units. With one: a level's groups, in the store's order
 * of levels. */
static int on_moments(void *ctx, const char *level, const char *variation,
                      const aipm_unit_moments *m)
{
    collect *c = ctx;
    aipm_levels *L = c->levels;
    aipm_level *lv = NULL;
    int i;

    if (L == NULL) {
        if (variation == NULL)
            c->out->multi_exposed = (int64_t)m->n;
        else
            fill_group(c->out, c->e, variation, m);
        return 0;
    }
    if (level == NULL || variation == NULL)
        return 0;
    for (i = 0; i < L->n; i++)
        if (strcmp(L->levels[i].level, level) == 0)
            lv = &L->levels[i];
    if (lv == NULL) {
        if (L->n == AIPM_MAX_LEVELS)
            return 0;
        lv = &L->levels[L->n++];
        memset(lv, 0, sizeof(*lv));
        snprintf(lv->level, sizeof(lv->level), "%s", level);
        init_groups(&lv->ex, c->e);
    }
    fill_group(&lv->ex, c->e, variation, m);
    return 0;
}

int aipm_metric_is_proportion(const aipm_metric *m)
{
    return m->type == AIPM_METRIC_CONVERSION ||
           m->type == AIPM_METRIC_RETENTION || m->type == AIPM_METRIC_ADOPTION;
}

int aipm_metrics__measure(aipm_event_measure *out, const aipm_config *cfg,
                          const aipm_metric *m, aipm_error *err)
{
    const aipm_feature *f;

    memset(out, 0, sizeof(*out));
    out->sum_property = m->type == AIPM_METRIC_SUM ? m->property : NULL;
    out->where_key = m->where_key;
    out->where_value = m->where_value;
    switch (m->type) {
    case AIPM_METRIC_COUNT:
    case AIPM_METRIC_SUM:
    case AIPM_METRIC_CONVERSION:
        out->events = (const char *const *)&m->event;
        out->n_events = 1;
        return AIPM_OK;
    case AIPM_METRIC_RETENTION:
        out->any_event = 1;
        return AIPM_OK;
    case AIPM_METRIC_ADOPTION:
        if ((f = aipm_config_feature(cfg, m->feature)) == NULL)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "metric %s: no catalog feature %s", m->key,
                                  m->feature);
        out->events = (const char *const *)f->events;
        out->n_events = f->n_events;
        return AIPM_OK;
    case AIPM_METRIC_RATIO:
        break;
    }
    return aipm_error_set(err, AIPM_EINVALID,
                          "metric %s: a ratio has no events of its own",
                          m->key);
}

int aipm_metrics_population(aipm_moments *out, aipm_store *st,
                            const aipm_config *cfg, const aipm_metric *m,
                            int64_t from_ms, int64_t to_ms, aipm_error *err)
{
    aipm_event_measure y;
    aipm_unit_moments mo;
    int rc;

    memset(out, 0, sizeof(*out));
    if (m->type == AIPM_METRIC_RETENTION)
        return aipm_error_set(err, AIPM_EINVALID,
                              "metric %s: a retention metric has no value "
                              "over a window of activity",
                              m->key);
    if ((rc = aipm_metrics__measure(&y, cfg, m, err)) != 0)
        return rc;
    rc = aipm_store_population_moments(st, &y, m->unit_account != 0,
                                       aipm_metric_is_proportion(m), from_ms,
                                       to_ms, &mo, err);
    out->n = mo.n;
    out->sum = mo.sum;
    out->sum_sq = mo.sum_sq;
    return rc;
}

static int experiment_stats(aipm_exposures *out, aipm_levels *levels,
                            const char *trait, aipm_store *st,
                            const aipm_config *cfg,
                            const aipm_experiment_def *e, const aipm_metric *m,
                            int64_t start_ms, int64_t end_ms, int pre_days,
                            aipm_error *err)
{
    aipm_exposure_query q;
    aipm_event_measure x;
    collect c = {out, levels, e};
    const aipm_metric *num = m;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&q, 0, sizeof(q));
    init_groups(out, e);
    if (m->type == AIPM_METRIC_RATIO) {
        /* A ratio of two count or sum metrics: y is the numerator and x
         * (the CUPED slot) the denominator, per unit, over the same
         * window; the delta method takes it from there. */
        const aipm_metric *den;

        num = aipm_config_metric(cfg, m->numerator);
        den = aipm_config_metric(cfg, m->denominator);
        if (!num || !den ||
            (num->type != AIPM_METRIC_COUNT && num->type != AIPM_METRIC_SUM) ||
            (den->type != AIPM_METRIC_COUNT && den->type != AIPM_METRIC_SUM))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "metric %s: a ratio of count or sum metrics "
                                  "is analysed; %s / %s is not",
                                  m->key, m->numerator, m->denominator);
        if ((rc = aipm_metrics__measure(&x, cfg, den, err)) != 0)
            return rc;
        q.x = &x;
        pre_days = 0;
    }
    if ((rc = aipm_metrics__measure(&q.y, cfg, num, err)) != 0)
        return rc;
    q.experiment = e->key;
    q.start_ms = start_ms;
    q.end_ms = end_ms;
    q.by_account = m->unit_account != 0;
    q.conversion = aipm_metric_is_proportion(num);
    q.pre_ms = (int64_t)pre_days * DAY_MS;
    q.cap = NAN;
    q.lo_ms = 0;
    q.hi_ms = (int64_t)1 << 50;
    if (m->type == AIPM_METRIC_RETENTION) {
        /* Active (any event) in days [from_day, to_day] after exposure. */
        q.lo_ms = (int64_t)m->from_day * DAY_MS;
        q.hi_ms = ((int64_t)m->to_day + 1) * DAY_MS;
    }
    /* The window is [exposure, exposure + window_days) within the end. */
    if (m->window_days > 0 && m->type != AIPM_METRIC_RETENTION)
        q.hi_ms = (int64_t)m->window_days * DAY_MS;
    if (m->cap_value > 0) {
        q.cap = m->cap_value;
    } else if (m->cap_percentile > 0) {
        /* Winsorize at the pooled percentile of the per-unit values. */
        rc = aipm_store_exposure_quantile(st, &q, m->cap_percentile, &q.cap,
                                          err);
        if (rc != AIPM_OK)
            return rc;
    }
    if (!isnan(q.cap)) {
        out->cap = q.cap;
        out->capped = 1;
    }
    if (levels)
        memset(levels, 0, sizeof(*levels));
    return aipm_store_exposure_moments(st, &q, levels ? trait : NULL,
                                       on_moments, &c, err);
}

int aipm_metrics_experiment(aipm_exposures *out, aipm_store *st,
                            const aipm_config *cfg,
                            const aipm_experiment_def *e, const aipm_metric *m,
                            int64_t start_ms, int64_t end_ms, int pre_days,
                            aipm_error *err)
{
    return experiment_stats(out, NULL, NULL, st, cfg, e, m, start_ms, end_ms,
                            pre_days, err);
}

int aipm_metrics_experiment_by(aipm_levels *out, aipm_store *st,
                               const aipm_config *cfg,
                               const aipm_experiment_def *e,
                               const aipm_metric *m, const char *trait,
                               int64_t start_ms, int64_t end_ms, int pre_days,
                               aipm_error *err)
{
    aipm_exposures all;

    return experiment_stats(&all, out, trait, st, cfg, e, m, start_ms, end_ms,
                            pre_days, err);
}
