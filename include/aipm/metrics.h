/* metrics.h - metrics evaluated to sufficient statistics by the store.
 *
 * A metric (aipm.yaml) becomes per-unit values inside the store's SQL and
 * comes back as per-group moments: units, sum and sum of squares of the
 * metric, and for CUPED the same of its pre-exposure value plus the cross
 * product. Raw events never travel into C. The SQL is generated in one
 * place (sql.c), from fixed text and bound parameters only.
 */
#ifndef AIPM_METRICS_H
#define AIPM_METRICS_H

#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/stats.h"
#include "aipm/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIPM_MAX_VARIATIONS 16

/* 1 for metrics whose per-unit value is 0/1 (conversion, retention,
 * adoption): their variance is m(1 - m). */
int aipm_metric_is_proportion(const aipm_metric *m);

typedef struct aipm_group_stats {
    char variation[64];
    double n;               /* units */
    double sum, sum_sq;     /* the metric per unit */
    double x_sum, x_sum_sq; /* its pre-exposure value (CUPED) */
    double xy_sum;
} aipm_group_stats;

typedef struct aipm_exposures {
    int n_groups;
    aipm_group_stats groups[AIPM_MAX_VARIATIONS];
    int64_t multi_exposed; /* units that saw more than one variation */
    int capped;            /* per-unit values were capped at `cap` */
    double cap;
} aipm_exposures;

/* The metric's moments per variation of experiment e, over units exposed
 * (first `Experiment Viewed`) in [start_ms, end_ms), counting each unit's
 * events from its exposure (to exposure + window_days) until end_ms, and
 * its pre-exposure value over pre_days before exposure (0: none). Units
 * exposed to two variations are excluded and counted. Returns
 * AIPM_EINVALID for a metric type this analysis cannot take yet. */
int aipm_metrics_experiment(aipm_exposures *out, aipm_store *st,
                            const aipm_config *cfg,
                            const aipm_experiment_def *e, const aipm_metric *m,
                            int64_t start_ms, int64_t end_ms, int pre_days,
                            aipm_error *err);

#define AIPM_MAX_LEVELS 21 /* the 20 biggest levels and "(other)" */

typedef struct aipm_level {
    char level[128];
    aipm_exposures ex;
} aipm_level;

typedef struct aipm_levels {
    int n;
    aipm_level levels[AIPM_MAX_LEVELS];
} aipm_levels;

/* The same, broken down by a user trait (from identify calls) or, for
 * users without it, their account's trait (from group calls); for a
 * metric over accounts, the account's trait. */
int aipm_metrics_experiment_by(aipm_levels *out, aipm_store *st,
                               const aipm_config *cfg,
                               const aipm_experiment_def *e,
                               const aipm_metric *m, const char *trait,
                               int64_t start_ms, int64_t end_ms, int pre_days,
                               aipm_error *err);

/* The error for a breakdown by trait that none of its units has (each is
 * "(none)": one segment, the answer without a breakdown under the name of
 * one). The breakdowns call it when they counted no unit with the trait.
 * When no accepted identify or group event carries the trait at all (for
 * a user, or for an account a user is in, at any time): AIPM_EINVALID,
 * "no user or account has the trait 'T' (traits come from identify and
 * group events; known: a, b, ...)", the known traits from the learned
 * schema. When some do: with units (e.g. "user or account exposed to
 * experiment X") AIPM_EINVALID, "no UNITS has the trait 'T', though
 * accepted identify or group events carry it: ..."; with units NULL,
 * AIPM_OK (a breakdown the caller may leave empty). who, when not NULL,
 * opens the message ("WHO: no ..."). Store errors as they come. */
int aipm_metrics_trait_unheld(aipm_store *st, const char *who,
                              const char *trait, const char *units,
                              aipm_error *err);

/* The metric over a population: per-unit values for every unit (user)
 * active in [from_ms, to_ms), evaluated over that same window; returns
 * their moments (n, sum, sum of squares). For sample sizes and baselines.
 * Retention and ratio metrics are refused (AIPM_EINVALID). */
int aipm_metrics_population(aipm_moments *out, aipm_store *st,
                            const aipm_config *cfg, const aipm_metric *m,
                            int64_t from_ms, int64_t to_ms, aipm_error *err);

/* The events metric m reads that never occur in the accepted events: a
 * count, conversion or sum metric's event, a ratio's two metrics' events,
 * an adoption metric's catalog events (retention reads any event, so
 * none). cb(ctx, event) once per such event; a non-zero return stops and
 * is returned. A misspelled event otherwise reads as a silent zero. */
typedef int (*aipm_event_cb)(void *ctx, const char *event);
int aipm_metrics_unseen_events(aipm_store *st, const aipm_config *cfg,
                               const aipm_metric *m, aipm_event_cb cb,
                               void *ctx, aipm_error *err);

/* The analyses' one wording of that warning, into out: "WHO: event 'E'
 * never occurs in the accepted events; check its name ...". */
void aipm_metrics_unseen_text(char *out, size_t cap, const char *who,
                              const char *event);

#ifdef __cplusplus
}
#endif
#endif
