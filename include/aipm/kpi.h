/* kpi.h - KPIs and product analytics: DAU/WAU/MAU, stickiness,
 * activation, N-day retention, weekly cohorts, feature adoption, and the
 * KPIs of aipm.yaml against their targets.
 *
 * Everything is aggregated inside the store by fixed SQL with bound
 * parameters (src/lib/metrics/kpi.c); per period only counts come back.
 * The definitions (what "active", "new", "D7" mean, and which periods)
 * are those of docs/kpis.md. The result is one JSON document, whose shape
 * docs/kpis.md also gives; aipm_kpi_series_get gives one KPI's values
 * as numbers (for the scenario simulator).
 */
#ifndef AIPM_KPI_H
#define AIPM_KPI_H

#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aipm_kpi_period {
    AIPM_KPI_DAY,  /* UTC days */
    AIPM_KPI_WEEK, /* ISO weeks, Monday to Sunday (UTC) */
    AIPM_KPI_MONTH /* calendar months (UTC) */
} aipm_kpi_period;

typedef struct aipm_kpi_opts {
    aipm_kpi_period period;    /* default AIPM_KPI_WEEK */
    int64_t from_ms;           /* first day of the report (its UTC day);
                                  -1: 89 days before the last day, moved
                                  back to the start of its period */
    int64_t to_ms;             /* last day, inclusive; -1: today (aipm_now_ms,
                                  which AIPM_NOW overrides) */
    const char *kpi;           /* only this KPI of aipm.yaml; NULL: the whole
                                  report */
    aipm_progress_fn progress; /* steps done / steps: the standard set,
                                  the features, each KPI (may be NULL) */
    void *progress_ctx;
} aipm_kpi_opts;

/* Defaults: weekly periods over the last 90 days, the whole report. */
void aipm_kpi_opts_init(aipm_kpi_opts *o);

/* The name of a period ("day", "week", "month"). Static. */
const char *aipm_kpi_period_name(aipm_kpi_period p);

/* Compute the report over the accepted events of st (v_events) and put
 * it, as indented JSON text, in *json_out (the caller frees it with
 * free()). Returns AIPM_ENOTFOUND when opts->kpi names no KPI of cfg,
 * AIPM_EINVALID for a bad range (from after to, before 1970, or longer
 * than ten years), or the store's error. */
int aipm_kpi_report(char **json_out, aipm_store *st, const aipm_config *cfg,
                    const aipm_kpi_opts *opts, aipm_error *err);

/* KPI `key` of aipm.yaml per period, as aipm_kpi_report computes it
 * (o->period, o->from_ms, o->to_ms as there; o->kpi is ignored): n
 * periods, each with its start day (ms, UTC midnight) and value (NAN when
 * the report has null). */
typedef struct aipm_kpi_series {
    int n;
    int64_t *start_ms;
    double *value;
    int direction_down; /* the KPI's direction is down */
    double target;      /* NAN when none */
} aipm_kpi_series;

/* Fill *out (the caller's; its arrays freed with aipm_kpi_series_free)
 * with KPI `key`'s values, reading only what its metric needs. o may be
 * NULL for the defaults; o->progress is not called. Returns AIPM_ENOTFOUND
 * when key names no KPI of cfg, AIPM_EINVALID for a bad range (as
 * aipm_kpi_report), or the store's error; on error *out is empty. */
int aipm_kpi_series_get(aipm_kpi_series *out, aipm_store *st,
                        const aipm_config *cfg, const char *key,
                        const aipm_kpi_opts *o, aipm_error *err);

/* Free the arrays of s and empty it; s may be NULL. */
void aipm_kpi_series_free(aipm_kpi_series *s);

#ifdef __cplusplus
}
#endif
#endif
