/* experiment.h - experiment analysis and its verdict.
 *
 * For one experiment of aipm.yaml: exposures and sample-ratio mismatch,
 * then for every metric and guardrail the comparison of each variation
 * with the control by the chosen engine (frequentist, Bayesian or
 * sequential; optionally CUPED-adjusted), Holm (or Benjamini-Hochberg)
 * across the metrics, and a verdict in words: ship, do_not_ship,
 * keep_running or invalid. The result is a JSON document (the shape
 * documented in the README) and a stored decision record.
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
 * Returns AIPM_ENOTFOUND for an unknown experiment. When the analysis is
 * done but its decision record cannot be written (o->record), *json_out
 * still receives the result, with "record_error" in place of
 * "decision_id", and the record's error code is returned: free it too. */
int aipm_experiment_analyze(char **json_out, aipm_store *st,
                            const aipm_config *cfg, const char *key,
                            const aipm_analysis_opts *opts, aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
