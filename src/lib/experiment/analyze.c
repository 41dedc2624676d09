/* analyze.c - one experiment: exposures, SRM, each metric by the chosen
 * engine, multiple-testing correction, guardrails, and the verdict.
 *
 * The store returns per-variation moments (metrics/sql.c); everything
 * here is arithmetic on them (stats.c). Rules of the verdict, in order:
 * invalid when the sample-ratio test rejects at p < 0.001; keep_running
 * with fewer than 8 units in a variation; do_not_ship when a guardrail is
 * harmed significantly (outside the correction family) or a primary
 * metric moves the wrong way; invalid when a guardrail reads an event that
 * never occurs in the accepted events (it cannot be judged, so nothing may
 * ship on it); ship when a primary metric improves significantly after
 * correction (Holm by default); otherwise keep_running while the
 * experiment runs, do_not_ship once it has ended. Every metric's or
 * guardrail's event that never occurs is also listed in "warnings".
 */
#include "aipm/decision.h"
#include "aipm/experiment.h"
#include "aipm/metrics.h"
#include "aipm/stats.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define SRM_ALPHA 0.001
#define MIN_UNITS 8

void aipm_analysis_opts_init(aipm_analysis_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->engine = AIPM_ENGINE_FREQUENTIST;
    o->pre_days = 14;
    o->alpha = 0.05;
    o->n_star = 5000;
    o->now_ms = aipm_now_ms();
    o->record = 1;
}

static json_t *num_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* One treatment's result on one metric. */
typedef struct cell {
    int valid;
    double lift_rel, p, chance;
    int better, worse; /* significant, in the metric's good/bad direction */
} cell;

static const char *engine_name(aipm_engine e)
{
    return e == AIPM_ENGINE_BAYESIAN     ? "bayesian"
           : e == AIPM_ENGINE_SEQUENTIAL ? "sequential"
                                         : "frequentist";
}

/* The analysis window of experiment e as of now_ms: [start, end) from its
 * start to the day after its end, or to now_ms while it runs, never past
 * now_ms. */
static void window(int64_t *start, int64_t *end, const aipm_experiment_def *e,
                   int64_t now_ms)
{
    *start = e->start_ms;
    *end = e->end_ms ? e->end_ms + DAY_MS : now_ms;
    if (*end > now_ms)
        *end = now_ms;
}

/* One group's mean and per-unit variance of metric m, before CUPED: the
 * sample moments (GrowthBook's m(1 - m) for a proportion), or for a ratio
 * metric sum y / sum x and its delta-method variance (aipm_stats_ratio).
 * Its size is g->n. The control and each treatment of one_metric, and
 * aipm_experiment_lift_get, take their inputs to aipm_stats_compare here. */
static void group_moments(double *mean, double *var, const aipm_group_stats *g,
                          const aipm_metric *m)
{
    aipm_moments mo = {g->n, g->sum, g->sum_sq};

    *mean = aipm_moments_mean(&mo);
    *var = aipm_moments_var(&mo, aipm_metric_is_proportion(m));
    if (m->type == AIPM_METRIC_RATIO)
        aipm_stats_ratio(mean, var, g->n, g->sum, g->sum_sq, g->x_sum,
                         g->x_sum_sq, g->xy_sum);
}

/* Analyse one metric for every treatment; fill its JSON and cells. */
static int one_metric(json_t *out, cell *cells, const aipm_exposures *ex,
                      const aipm_metric *m, const aipm_analysis_opts *o,
                      json_t **cuped_info)
{
    const aipm_group_stats *gc = &ex->groups[0];
    json_t *vars = json_array();
    int ratio = m->type == AIPM_METRIC_RATIO, i;
    double mean_c, var_c;

    group_moments(&mean_c, &var_c, gc, m);
    *cuped_info = NULL;
    json_array_append_new(
        vars,
        json_pack("{s:s, s:I, s:o, s:o, s:n, s:n, s:n, s:n, s:n, s:n, "
                  "s:n}",
                  "key", gc->variation, "units", (json_int_t)gc->n, "mean",
                  num_or_null(mean_c), "stddev", num_or_null(sqrt(var_c)),
                  "lift_abs", "lift_rel", "ci_low", "ci_high", "p_value",
                  "chance_to_win", "expected_loss"));
    for (i = 1; i < ex->n_groups; i++) {
        const aipm_group_stats *gt = &ex->groups[i];
        double mean_t, var_t, c_mean = mean_c, c_var = var_c;
        aipm_compare cmp;
        aipm_bayes bay;
        json_t *v;
        int ok;

        memset(&cells[i], 0, sizeof(cells[i]));
        group_moments(&mean_t, &var_t, gt, m);
        if (o->cuped && !ratio) {
            aipm_cuped_group a = {{gc->n, gc->sum, gc->sum_sq},
                                  {gc->n, gc->x_sum, gc->x_sum_sq},
                                  gc->xy_sum};
            aipm_cuped_group b = {{gt->n, gt->sum, gt->sum_sq},
                                  {gt->n, gt->x_sum, gt->x_sum_sq},
                                  gt->xy_sum};
            aipm_cuped cu;

            if (aipm_stats_cuped(&cu, &a, &b) == AIPM_OK && cu.theta != 0) {
                c_mean = cu.mean_c, c_var = cu.var_c;
                mean_t = cu.mean_t, var_t = cu.var_t;
                if (*cuped_info == NULL)
                    *cuped_info =
                        json_pack("{s:f, s:f, s:i}", "theta", cu.theta,
                                  "variance_reduction", cu.variance_reduction,
                                  "pre_days", o->pre_days);
            }
        }
        ok = aipm_stats_compare(&cmp, c_mean, c_var, gc->n, mean_t, var_t,
                                gt->n, o->alpha) == AIPM_OK;
        if (ok && o->engine == AIPM_ENGINE_SEQUENTIAL)
            aipm_stats_sequential(&cmp, o->alpha, o->n_star);
        if (ok)
            aipm_stats_bayes(&bay, cmp.lift_rel, cmp.se_rel, o->alpha);
        if (ok && o->engine == AIPM_ENGINE_BAYESIAN) {
            cmp.ci_low = bay.ci_low;
            cmp.ci_high = bay.ci_high;
        }
        v = json_pack("{s:s, s:I, s:o, s:o}", "key", gt->variation, "units",
                      (json_int_t)gt->n, "mean", num_or_null(mean_t), "stddev",
                      num_or_null(sqrt(var_t)));
        if (ok) {
            json_object_set_new(v, "lift_abs", json_real(cmp.lift_abs));
            json_object_set_new(v, "lift_rel", json_real(cmp.lift_rel));
            json_object_set_new(v, "ci_low", json_real(cmp.ci_low));
            json_object_set_new(v, "ci_high", json_real(cmp.ci_high));
            json_object_set_new(v, "p_value",
                                o->engine == AIPM_ENGINE_BAYESIAN
                                    ? json_null()
                                    : json_real(cmp.p_value));
            json_object_set_new(v, "chance_to_win",
                                json_real(m->direction_down
                                              ? 1 - bay.chance_to_win
                                              : bay.chance_to_win));
            json_object_set_new(v, "expected_loss",
                                json_real(m->direction_down
                                              ? bay.risk_control
                                              : bay.risk_treatment));
            json_object_set_new(v, "df", json_real(cmp.df));
            cells[i].valid = 1;
            cells[i].lift_rel = cmp.lift_rel;
            cells[i].p = cmp.p_value;
            cells[i].chance =
                m->direction_down ? 1 - bay.chance_to_win : bay.chance_to_win;
        } else {
            const char *k[] = {"lift_abs",     "lift_rel", "ci_low",
                               "ci_high",      "p_value",  "chance_to_win",
                               "expected_loss"};
            size_t j;

            for (j = 0; j < 7; j++)
                json_object_set_new(v, k[j], json_null());
            json_object_set_new(v, "note",
                                json_string("no estimate: too few units or "
                                            "no variance"));
        }
        json_array_append_new(vars, v);
    }
    json_object_set_new(out, "variations", vars);
    return AIPM_OK;
}

/* --by TRAIT: the same comparison per level, each with its own SRM.
 * *levels and *held count the levels seen and those other than "(none)"
 * (units that have the trait; a unit whose value is the text "(none)"
 * reads as one without it - the breakdown could not tell them apart). */
static int breakdown(json_t *mj, int *levels, int *held, aipm_store *st,
                     const aipm_config *cfg, const aipm_experiment_def *e,
                     const aipm_metric *m, const aipm_analysis_opts *o,
                     int64_t start, int64_t end, aipm_error *err)
{
    aipm_levels *L = malloc(sizeof(*L));
    cell cells[AIPM_MAX_VARIATIONS];
    json_t *arr = json_array();
    int rc, i, j;

    if (L == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    rc = aipm_metrics_experiment_by(L, st, cfg, e, m, o->by, start, end,
                                    o->cuped ? o->pre_days : 0, err);
    for (i = 0; rc == 0 && i < L->n; i++) {
        double obs[AIPM_MAX_VARIATIONS], chi2 = 0, p = 1;
        json_t *lj = json_pack("{s:s}", "level", L->levels[i].level), *cu;

        *levels += 1;
        *held += strcmp(L->levels[i].level, "(none)") != 0;
        for (j = 0; j < L->levels[i].ex.n_groups; j++)
            obs[j] = L->levels[i].ex.groups[j].n;
        aipm_stats_srm(&chi2, &p, obs, e->weights, L->levels[i].ex.n_groups);
        json_object_set_new(
            lj, "srm",
            json_pack("{s:f, s:b}", "p_value", p, "ok", p >= SRM_ALPHA));
        one_metric(lj, cells, &L->levels[i].ex, m, o, &cu);
        json_decref(cu);
        json_array_append_new(arr, lj);
    }
    json_object_set_new(mj, "by",
                        json_pack("{s:s, s:o}", "trait", o->by, "levels", arr));
    free(L);
    return rc;
}

/* Decide significance per cell: after correction for primaries. */
static void judge(cell *c, double p_adj, int down, const aipm_analysis_opts *o)
{
    int sig;

    if (!c->valid)
        return;
    if (o->engine == AIPM_ENGINE_BAYESIAN) {
        c->better = c->chance >= 1 - o->alpha / 2;
        c->worse = c->chance <= o->alpha / 2;
        return;
    }
    sig = p_adj < o->alpha;
    c->better = sig && (down ? c->lift_rel < 0 : c->lift_rel > 0);
    c->worse = sig && (down ? c->lift_rel > 0 : c->lift_rel < 0);
}

/* aipm_metrics_unseen_events' callback: one warning per event. */
typedef struct unseen {
    json_t *warnings;
    const char *metric;
    int guardrail;
    int n; /* events of this metric that never occur */
    char first[200];
} unseen;

static int on_unseen(void *ctx, const char *event)
{
    unseen *u = ctx;
    char who[160], msg[400];

    snprintf(who, sizeof(who), "%s %.120s",
             u->guardrail ? "guardrail" : "metric", u->metric);
    aipm_metrics_unseen_text(msg, sizeof(msg), who, event);
    if (u->n++ == 0)
        snprintf(u->first, sizeof(u->first), "%s", event);
    return json_array_append_new(u->warnings, json_string(msg)) == 0
               ? AIPM_OK
               : AIPM_ENOMEM;
}

static int analyze(char **json_out, aipm_store *st, const aipm_config *cfg,
                   const char *key, const aipm_analysis_opts *o, int fairness,
                   aipm_error *err);

int aipm_experiment_measures(const aipm_experiment_def *e, const char *metric)
{
    int i;

    for (i = 0; i < e->n_metrics; i++)
        if (strcmp(e->metrics[i], metric) == 0)
            return 1;
    for (i = 0; i < e->n_guardrails; i++)
        if (strcmp(e->guardrails[i], metric) == 0)
            return 1;
    return 0;
}

/* The largest gap in relative lift between the segments of a metric's
 * breakdown (the "by" of one_metric), over each treatment, leaving out
 * segments with fewer than min_units units in either arm; NAN when fewer
 * than two segments are left. *lo, *hi name the segments. */
static double lift_gap(const json_t *by, double min_units, const char **lo,
                       const char **hi)
{
    json_t *levels = json_object_get(by, "levels"), *lv;
    double gap = NAN;
    size_t i, k;

    *lo = *hi = NULL;
    for (k = 1; k < AIPM_MAX_VARIATIONS; k++) {
        double min = INFINITY, max = -INFINITY;
        const char *min_l = NULL, *max_l = NULL;
        int n = 0;

        json_array_foreach(levels, i, lv)
        {
            json_t *vars = json_object_get(lv, "variations");
            json_t *c = json_array_get(vars, 0), *t = json_array_get(vars, k);
            double lift;

            if (c == NULL || t == NULL)
                continue;
            lift = json_number_value(json_object_get(t, "lift_rel"));
            if (!json_is_number(json_object_get(t, "lift_rel")) ||
                json_number_value(json_object_get(c, "units")) < min_units ||
                json_number_value(json_object_get(t, "units")) < min_units)
                continue;
            n++;
            if (lift < min)
                min = lift,
                min_l = json_string_value(json_object_get(lv, "level"));
            if (lift > max)
                max = lift,
                max_l = json_string_value(json_object_get(lv, "level"));
        }
        if (n >= 2 && (isnan(gap) || max - min > gap)) {
            gap = max - min;
            *lo = min_l;
            *hi = max_l;
        }
    }
    return gap;
}

/* policies.fairness: for each rule on a metric this experiment measures,
 * the gap between segments of the trait, from a breakdown by it (this
 * analysis's own when it is by that trait). */
static int fairness_checks(json_t *doc, aipm_store *st, const aipm_config *cfg,
                           const aipm_experiment_def *e, const char *key,
                           const aipm_analysis_opts *o, aipm_error *err)
{
    json_t *out = json_array();
    int i, rc = AIPM_OK;

    if (out == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (i = 0; i < cfg->n_fairness && rc == AIPM_OK; i++) {
        const aipm_fairness_policy *f = &cfg->fairness[i];
        json_t *src = NULL, *m, *by = NULL;
        const char *lo, *hi;
        char *text = NULL;
        double gap;
        size_t k;

        if (!aipm_experiment_measures(e, f->metric))
            continue;
        if (o->by && strcmp(o->by, f->by) == 0)
            src = json_incref(doc);
        else {
            aipm_analysis_opts q = *o;
            json_error_t jerr;

            q.by = f->by;
            q.record = 0;
            if ((rc = analyze(&text, st, cfg, key, &q, 0, err)) != AIPM_OK)
                break;
            src = json_loads(text, 0, &jerr);
            free(text);
        }
        json_array_foreach(json_object_get(src, "metrics"), k, m)
        {
            if (strcmp(json_string_value(json_object_get(m, "metric")),
                       f->metric) == 0)
                by = json_object_get(m, "by");
        }
        gap = lift_gap(by, f->min_units, &lo, &hi);
        json_array_append_new(
            out,
            json_pack("{s:s, s:s, s:f, s:o, s:s?, s:s?, s:b}", "metric",
                      f->metric, "by", f->by, "max_gap", f->max_gap, "gap",
                      isnan(gap) ? json_null() : json_real(gap), "lowest", lo,
                      "highest", hi, "held", !isnan(gap) && gap > f->max_gap));
        json_decref(src);
    }
    if (rc == AIPM_OK && json_array_size(out) > 0)
        json_object_set_new(doc, "fairness", out);
    else
        json_decref(out);
    return rc;
}

int aipm_experiment_analyze(char **json_out, aipm_store *st,
                            const aipm_config *cfg, const char *key,
                            const aipm_analysis_opts *o, aipm_error *err)
{
    return analyze(json_out, st, cfg, key, o, 1, err);
}

static int analyze(char **json_out, aipm_store *st, const aipm_config *cfg,
                   const char *key, const aipm_analysis_opts *o, int fairness,
                   aipm_error *err)
{
    const aipm_experiment_def *e = aipm_config_experiment(cfg, key);
    int n_m, i, j, rc = AIPM_OK, running, min_units_ok = 1;
    int by_levels = 0, by_held = 0; /* the --by breakdowns' levels */
    int64_t start, end;
    json_t *doc = NULL, *metrics = NULL, *reasons = NULL, *warnings = NULL;
    cell(*cells)[AIPM_MAX_VARIATIONS] = NULL;
    char blind_guardrail[400] = ""; /* a guardrail that cannot be judged */
    double *p = NULL, *p_adj = NULL, srm_chi2 = 0, srm_p = 1;
    aipm_exposures ex0;
    const char *decision;
    double confidence = 0;

    *json_out = NULL;
    if (e == NULL)
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "no experiment '%s' in aipm.yaml", key);
    n_m = e->n_metrics + e->n_guardrails;
    if (n_m == 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "experiment %s has no metrics or guardrails",
                              key);
    window(&start, &end, e, o->now_ms);
    running = e->end_ms == 0 || e->end_ms + DAY_MS > o->now_ms;
    if ((rc = aipm_store_analysis_index(st, err)) != 0)
        return rc;
    cells = calloc((size_t)n_m, sizeof(*cells));
    p = calloc((size_t)n_m * AIPM_MAX_VARIATIONS, sizeof(double));
    p_adj = calloc((size_t)n_m * AIPM_MAX_VARIATIONS, sizeof(double));
    metrics = json_array();
    reasons = json_array();
    warnings = json_array();
    if (!cells || !p || !p_adj || !metrics || !reasons || !warnings) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    /* Events of the metrics and guardrails that never occur (issue 12: a
     * misspelled guardrail event read as zero harm and the verdict was
     * ship). */
    for (i = 0; i < n_m; i++) {
        unseen u = {warnings, NULL, i >= e->n_metrics, 0, ""};

        u.metric =
            i < e->n_metrics ? e->metrics[i] : e->guardrails[i - e->n_metrics];
        rc = aipm_metrics_unseen_events(
            st, cfg, aipm_config_metric(cfg, u.metric), on_unseen, &u, err);
        if (rc == AIPM_ENOMEM)
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        if (rc)
            goto done;
        if (u.guardrail && u.n > 0 && blind_guardrail[0] == '\0')
            snprintf(blind_guardrail, sizeof(blind_guardrail),
                     "guardrail %s cannot be judged: its event '%s' never "
                     "occurs in the accepted events; fix the name in "
                     "aipm.yaml or the instrumentation, then analyse again",
                     u.metric, u.first);
    }
    memset(&ex0, 0, sizeof(ex0));
    for (i = 0; i < n_m; i++) {
        const char *mk =
            i < e->n_metrics ? e->metrics[i] : e->guardrails[i - e->n_metrics];
        const aipm_metric *m = aipm_config_metric(cfg, mk);
        aipm_exposures ex;
        json_t *mj, *cu = NULL;

        rc = aipm_metrics_experiment(&ex, st, cfg, e, m, start, end,
                                     o->cuped ? o->pre_days : 0, err);
        if (rc)
            goto done;
        if (i == 0)
            ex0 = ex;
        mj = json_pack("{s:s, s:s, s:s, s:b, s:s}", "metric", mk, "type",
                       aipm_metric_type_name(m->type), "unit",
                       m->unit_account ? "account" : "user", "guardrail",
                       i >= e->n_metrics, "direction",
                       m->direction_down ? "down" : "up");
        if (ex.capped)
            json_object_set_new(mj, "capped_at", json_real(ex.cap));
        one_metric(mj, cells[i], &ex, m, o, &cu);
        if (cu)
            json_object_set_new(mj, "cuped", cu);
        if (o->by && (rc = breakdown(mj, &by_levels, &by_held, st, cfg, e, m, o,
                                     start, end, err)) != 0) {
            json_decref(mj);
            goto done;
        }
        json_array_append_new(metrics, mj);
    }
    /* A breakdown in which no exposed unit, of any metric, has the trait
     * is every unit in "(none)": the analysis without a breakdown under
     * the trait's name, so an error (a misspelled --by). A trait that no
     * event carries is one even without exposures; for a policies.fairness
     * rule (fairness 0: this analysis is the rule's breakdown) only that
     * is, a real trait that this experiment's units lack leaving the
     * rule's gap unknown (null). */
    if (o->by && by_held == 0) {
        char units[200];

        snprintf(units, sizeof(units),
                 "user or account exposed to experiment %.120s", key);
        rc = aipm_metrics_trait_unheld(
            st, fairness ? NULL : "policies.fairness", o->by,
            fairness && by_levels > 0 ? units : NULL, err);
        if (rc)
            goto done;
    }

    /* Sample-ratio mismatch on the units of the first metric (the
     * exposures are the same for every metric over the same unit; the
     * first metric's unit is the randomization unit). */
    {
        double obs[AIPM_MAX_VARIATIONS];

        for (i = 0; i < ex0.n_groups; i++) {
            obs[i] = ex0.groups[i].n;
            if (obs[i] < MIN_UNITS)
                min_units_ok = 0;
        }
        if (aipm_stats_srm(&srm_chi2, &srm_p, obs, e->weights, ex0.n_groups) !=
            AIPM_OK)
            srm_p = 1, min_units_ok = 0;
    }

    /* Holm (or BH) across primary metrics x treatments; guardrails are
     * judged on their own p-values. */
    {
        int k = 0;

        for (i = 0; i < e->n_metrics; i++)
            for (j = 1; j < ex0.n_groups; j++)
                p[k++] = cells[i][j].valid ? cells[i][j].p : 1;
        if (o->benjamini_hochberg)
            aipm_stats_bh(p_adj, p, k);
        else
            aipm_stats_holm(p_adj, p, k);
        k = 0;
        for (i = 0; i < n_m; i++) {
            const char *mk = i < e->n_metrics ? e->metrics[i]
                                              : e->guardrails[i - e->n_metrics];
            const aipm_metric *m = aipm_config_metric(cfg, mk);
            json_t *vars = json_object_get(json_array_get(metrics, (size_t)i),
                                           "variations");

            for (j = 1; j < ex0.n_groups; j++) {
                double pa = i < e->n_metrics ? p_adj[k++] : cells[i][j].p;

                judge(&cells[i][j], pa, m->direction_down, o);
                if (cells[i][j].valid && o->engine != AIPM_ENGINE_BAYESIAN)
                    json_object_set_new(json_array_get(vars, (size_t)j),
                                        "p_adjusted", json_real(pa));
            }
        }
    }

    /* The verdict. */
    {
        char why[300];
        int ship = -1, harmed = 0, worse = 0;
        double best = 0;

        if (ex0.n_groups >= 2 && srm_p < SRM_ALPHA) {
            decision = "invalid";
            confidence = 1 - srm_p;
            snprintf(why, sizeof(why),
                     "sample-ratio mismatch: the exposures do not match the "
                     "configured weights (chi-square p = %.2g < 0.001); fix "
                     "the assignment or exposure logging before reading any "
                     "metric",
                     srm_p);
            json_array_append_new(reasons, json_string(why));
            goto decided;
        }
        if (!min_units_ok) {
            decision = "keep_running";
            json_array_append_new(
                reasons, json_string("not enough traffic: fewer than 8 units "
                                     "in a variation"));
            goto decided;
        }
        for (i = 0; i < n_m; i++) {
            const char *mk = i < e->n_metrics ? e->metrics[i]
                                              : e->guardrails[i - e->n_metrics];

            for (j = 1; j < ex0.n_groups; j++) {
                cell *c = &cells[i][j];

                if (i >= e->n_metrics && c->worse) {
                    harmed = 1;
                    confidence =
                        fmax(confidence, o->engine == AIPM_ENGINE_BAYESIAN
                                             ? 1 - c->chance
                                             : 1 - c->p);
                    snprintf(why, sizeof(why),
                             "guardrail %s harmed by %s: %+.1f%%", mk,
                             e->variations[j], 100 * c->lift_rel);
                    json_array_append_new(reasons, json_string(why));
                } else if (i < e->n_metrics && c->worse) {
                    worse = 1;
                    snprintf(why, sizeof(why), "%s worse in %s: %+.1f%%", mk,
                             e->variations[j], 100 * c->lift_rel);
                    json_array_append_new(reasons, json_string(why));
                } else if (i < e->n_metrics && c->better) {
                    double conf =
                        o->engine == AIPM_ENGINE_BAYESIAN
                            ? c->chance
                            : 1 - p_adj[i * (ex0.n_groups - 1) + (j - 1)];

                    snprintf(why, sizeof(why), "%s better in %s: %+.1f%%", mk,
                             e->variations[j], 100 * c->lift_rel);
                    json_array_append_new(reasons, json_string(why));
                    if (conf > best)
                        best = conf, ship = j;
                }
            }
        }
        if (harmed || worse) {
            decision = "do_not_ship";
            if (!harmed)
                confidence = 1 - o->alpha;
        } else if (blind_guardrail[0]) {
            decision = "invalid";
            confidence = 0;
            json_array_append_new(reasons, json_string(blind_guardrail));
        } else if (ship > 0) {
            decision = "ship";
            confidence = best;
            snprintf(why, sizeof(why), "ship %s", e->variations[ship]);
            json_array_append_new(reasons, json_string(why));
        } else if (running) {
            decision = "keep_running";
            json_array_append_new(reasons,
                                  json_string("no significant difference yet"));
        } else {
            decision = "do_not_ship";
            confidence = 1 - o->alpha;
            json_array_append_new(
                reasons,
                json_string("no significant difference by the end of the "
                            "experiment"));
        }
    }
decided:
    doc = json_pack(
        "{s:s, s:s, s:b, s:b, s:{s:o, s:f, s:b}, s:{s:I, s:f}, s:o, "
        "s:{s:s, s:f, s:O}}",
        "experiment", key, "engine", engine_name(o->engine), "cuped", o->cuped,
        "running", running, "srm", "p_value", json_real(srm_p), "chi2",
        srm_chi2, "ok", srm_p >= SRM_ALPHA, "exposure", "multi_exposed_units",
        (json_int_t)ex0.multi_exposed, "multi_exposed_share",
        ex0.n_groups && ex0.groups[0].n > 0
            ? (double)ex0.multi_exposed /
                  (double)(ex0.multi_exposed + ex0.groups[0].n +
                           (ex0.n_groups > 1 ? ex0.groups[1].n : 0))
            : 0.0,
        "metrics", metrics, "verdict", "decision", decision, "confidence",
        confidence, "reasons", reasons);
    metrics = NULL;
    if (doc == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if (ex0.multi_exposed > 0 &&
        json_real_value(json_object_get(json_object_get(doc, "exposure"),
                                        "multi_exposed_share")) > 0.01)
        json_object_set_new(
            doc, "warning",
            json_string("more than 1% of units saw two variations (they are "
                        "excluded)"));
    json_object_set_new(doc, "warnings", warnings);
    warnings = NULL;
    if (fairness && (rc = fairness_checks(doc, st, cfg, e, key, o, err)) != 0)
        goto done;
    {
        char end_s[32];

        aipm_time_format(end_s, end);
        json_object_set_new(doc, "analysis_end", json_string(end_s));
        json_object_set_new(
            doc, "correction",
            json_string(o->benjamini_hochberg ? "benjamini-hochberg" : "holm"));
    }
    if (o->record) {
        static const char *const inputs[] = {"events", NULL};
        json_t *params = json_pack(
            "{s:s, s:b, s:i, s:f, s:f, s:s, s:s?}", "engine",
            engine_name(o->engine), "cuped", o->cuped, "pre_days", o->pre_days,
            "alpha", o->alpha, "n_star", o->n_star, "correction",
            o->benjamini_hochberg ? "bh" : "holm", "by", o->by);
        json_t *verdict = json_object_get(doc, "verdict"), *why;
        char id[37], rationale[512] = "", model[48];
        aipm_decision_spec spec;
        size_t ri, rn = 0;

        /* the verdict's reasons, in words */
        json_array_foreach(json_object_get(verdict, "reasons"), ri, why)
        {
            int k = snprintf(rationale + rn, sizeof(rationale) - rn, "%s%s",
                             ri ? "; " : "", json_string_value(why));

            if (k < 0 || (size_t)k >= sizeof(rationale) - rn)
                break;
            rn += (size_t)k;
        }
        snprintf(model, sizeof(model), "experiment-%s/1",
                 engine_name(o->engine));
        memset(&spec, 0, sizeof(spec));
        spec.kind = "experiment";
        spec.subject = key;
        spec.decision = decision;
        spec.doc = doc;
        spec.params = params;
        spec.datasets = inputs;
        spec.model = model;
        spec.rationale = rationale;
        spec.confidence =
            json_is_number(json_object_get(verdict, "confidence"))
                ? json_number_value(json_object_get(verdict, "confidence"))
                : NAN;
        spec.config = cfg;
        rc = aipm_decision_record(st, &spec, o->now_ms, o->checkpoint, id, err);
        json_decref(params);
        /* A record that cannot be written (a lock, a full disk, a
         * read-only store) does not throw the analysis away: the result
         * goes out with why it is not recorded, and rc says so. */
        if (rc)
            json_object_set_new(doc, "record_error",
                                json_string(err ? err->msg : "not recorded"));
        else
            json_object_set_new(doc, "decision_id", json_string(id));
    }
    *json_out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (*json_out == NULL && rc == AIPM_OK)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
done:
    json_decref(doc);
    json_decref(metrics);
    json_decref(reasons);
    json_decref(warnings);
    free(cells);
    free(p);
    free(p_adj);
    return rc;
}

/* Append "a, b, c" of names to buf at len; cut short when it does not
 * fit. Returns the new length (at least size when cut). */
static size_t name_list(char *buf, size_t size, size_t len, char *const *names,
                        int n)
{
    int i, k;

    for (i = 0; i < n && len < size; i++) {
        k = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", names[i]);
        if (k < 0)
            break;
        len += (size_t)k;
    }
    return len;
}

int aipm_experiment_lift_get(aipm_experiment_lift *out, aipm_store *st,
                             const aipm_config *cfg, const char *key,
                             const char *variation, const char *metric,
                             int64_t now_ms, aipm_error *err)
{
    const aipm_experiment_def *e = aipm_config_experiment(cfg, key);
    const aipm_metric *m;
    const aipm_group_stats *gc, *gt;
    aipm_exposures ex;
    aipm_compare cmp;
    double mean_c, var_c, mean_t, var_t;
    int64_t start, end;
    char list[256] = "";
    int v, i, rc;

    memset(out, 0, sizeof(*out));
    if (e == NULL)
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "no experiment '%s' in aipm.yaml", key);
    for (v = 0; v < e->n_variations; v++)
        if (strcmp(e->variations[v], variation) == 0)
            break;
    if (v == e->n_variations) {
        name_list(list, sizeof(list), 0, e->variations, e->n_variations);
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "experiment %s has no variation '%s' "
                              "(variations: %s)",
                              key, variation, list);
    }
    m = aipm_experiment_measures(e, metric) ? aipm_config_metric(cfg, metric)
                                            : NULL;
    if (m == NULL) {
        size_t len = name_list(list, sizeof(list), 0, e->metrics, e->n_metrics);

        name_list(list, sizeof(list), len, e->guardrails, e->n_guardrails);
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "experiment %s does not measure '%s' (its "
                              "metrics and guardrails: %s)",
                              key, metric, list[0] ? list : "none");
    }
    /* aipm_metrics_experiment keeps the first AIPM_MAX_VARIATIONS. */
    if (v >= AIPM_MAX_VARIATIONS)
        return aipm_error_set(err, AIPM_EINVALID,
                              "no estimate for variation %s of experiment %s: "
                              "only the first %d variations are analysed",
                              variation, key, AIPM_MAX_VARIATIONS);
    window(&start, &end, e, now_ms);
    if ((rc = aipm_store_analysis_index(st, err)) != 0 ||
        (rc = aipm_metrics_experiment(&ex, st, cfg, e, m, start, end, 0,
                                      err)) != 0)
        return rc;
    gc = &ex.groups[0];
    gt = &ex.groups[v];
    group_moments(&mean_c, &var_c, gc, m);
    group_moments(&mean_t, &var_t, gt, m);
    out->mean_control = mean_c;
    out->mean_variation = mean_t;
    out->units_control = (int64_t)gc->n;
    out->units_variation = (int64_t)gt->n;
    out->direction_down = m->direction_down;
    for (i = 0; i < e->n_guardrails; i++)
        if (strcmp(e->guardrails[i], metric) == 0)
            out->guardrail = 1;
    if (v == 0)
        return AIPM_OK; /* shipping the control changes nothing */
    /* The flat-prior posterior of the Bayesian engine is N(lift_rel,
     * se_rel^2) of the frequentist comparison (aipm_stats_bayes); alpha
     * moves only the intervals, not these two. */
    if (aipm_stats_compare(&cmp, mean_c, var_c, gc->n, mean_t, var_t, gt->n,
                           0.05) != AIPM_OK)
        return aipm_error_set(err, AIPM_EINVALID,
                              "no estimate of the lift of %s on %s in "
                              "experiment %s: too few units or no variance",
                              variation, metric, key);
    out->lift_rel = cmp.lift_rel;
    out->se_rel = cmp.se_rel;
    return AIPM_OK;
}
