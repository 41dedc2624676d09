/* experiment.h - experiment analysis and its verdict.
 *
 * For one experiment of aipm.yaml: exposures and sample-ratio mismatch,
 * then for every metric and guardrail the comparison of each variation
 * with the control by the chosen engine (frequentist, Bayesian or
 * sequential; optionally CUPED-adjusted), Holm (or Benjamini-Hochberg)
 * across the metrics, and a verdict in words: ship, do_not_ship,
 * keep_running or invalid. The result is a JSON document (the shape
 * documented in the README) and a stored decision record.
 * aipm_experiment_lift_get gives one cell of the Bayesian analysis as numbers
 * (the scenario simulator draws a shipped variation's effect from it).
 */
#ifndef AIPM_EXPERIMENT_H
#define AIPM_EXPERIMENT_H

#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aipm_engine {
    AIPM_ENGINE_FREQUENTIST,
    AIPM_ENGINE_BAYESIAN,
    AIPM_ENGINE_SEQUENTIAL
} aipm_engine;

typedef struct aipm_analysis_opts {
    aipm_engine engine;
    int cuped;              /* adjust by the pre-exposure value */
    int pre_days;           /* CUPED window, default 14 */
    double alpha;           /* default 0.05 */
    double n_star;          /* sequential tuning, default 5000 */
    int benjamini_hochberg; /* else Holm */
    int64_t now_ms;         /* the analysis end for a running experiment */
    int record;             /* store a decision record */
    const char *checkpoint; /* the audit checkpoint to keep (NULL: none) */
    const char *by; /* break down by this user or account trait, or NULL */
} aipm_analysis_opts;

void aipm_analysis_opts_init(aipm_analysis_opts *o);

/* Analyse experiment `key`. *json_out (caller frees) receives the result.
 * Returns AIPM_ENOTFOUND for an unknown experiment; AIPM_EINVALID for a
 * breakdown by a trait (o->by, or a policies.fairness rule's) that no
 * identify or group event carries, or (o->by) that no exposed unit of any
 * metric has (aipm_metrics_trait_unheld's message). When the analysis is
 * done but its decision record cannot be written (o->record), *json_out
 * still receives the result, with "record_error" in place of
 * "decision_id", and the record's error code is returned: free it too. */
int aipm_experiment_analyze(char **json_out, aipm_store *st,
                            const aipm_config *cfg, const char *key,
                            const aipm_analysis_opts *opts, aipm_error *err);

/* Whether experiment e measures metric (as a metric or a guardrail). */
int aipm_experiment_measures(const aipm_experiment_def *e, const char *metric);

/* The posterior of the relative lift of variation `variation` of
 * experiment `key` over its control on metric `metric` (one of the
 * experiment's metrics or guardrails), as the Bayesian engine of
 * aipm_experiment_analyze computes it (no CUPED), as of now_ms: normal
 * with mean lift_rel and sd se_rel (the delta method; flat prior). */
typedef struct aipm_experiment_lift {
    double lift_rel, se_rel;
    double mean_control, mean_variation;
    int64_t units_control, units_variation;
    int guardrail;      /* the metric is a guardrail of the experiment */
    int direction_down; /* the metric is better when lower */
} aipm_experiment_lift;

/* Fill *out with that posterior, over the analysis window of
 * aipm_experiment_analyze (the experiment's start to the day after its
 * end, or to now_ms while it runs, never past now_ms); ratio metrics by
 * the delta method. The control itself gets lift_rel 0 and se_rel 0 (no
 * change). Returns AIPM_ENOTFOUND for an unknown experiment, a variation
 * it does not have or a metric it does not measure, AIPM_EINVALID when
 * there is no estimate (too few units or no variance), or the store's
 * error. *out is zeroed first; with AIPM_EINVALID its means, units and
 * flags are still filled. Nothing is allocated and no decision is
 * recorded. */
int aipm_experiment_lift_get(aipm_experiment_lift *out, aipm_store *st,
                             const aipm_config *cfg, const char *key,
                             const char *variation, const char *metric,
                             int64_t now_ms, aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
