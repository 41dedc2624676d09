/* monitor.h - `aipm monitor`: the production models against the data now,
 * and the data's own health.
 *
 * For every model with a production version: each feature and the
 * model's score, reference (the version's training sample) against
 * current (the rows the model scores now), by the test Evidently uses by
 * default (drift.h) or the one monitor.features in aipm.yaml names, plus
 * PSI with its 0.1 / 0.25 bands; dataset drift when at least
 * monitor.dataset_drift_share (0.5) of the features drift. How the
 * version did on the rows labelled since its cutoff (calibration by
 * decile and ECE for adoption; MAE and Spearman for value) and the
 * forecast decisions against what happened (MAPE, 80% coverage). Then
 * per dataset: freshness, the newest day's volume against the trailing
 * mean, the quarantine share over the last batches.
 *
 * Every check has a status: ok, warn or alert. Alerts: dataset drift,
 * drift of the score, calibration error above monitor.max_ece, forecast
 * MAPE above monitor.max_mape or coverage below monitor.min_coverage_80.
 * A model whose promotion rule says on_alert: rollback has its production
 * alias rolled back to the previous version when one of its alerts fires
 * (the circuit breaker), and the decision records made with the bad
 * version are marked stale, to be looked at again; audited, with the
 * report's digest. Each run is stored (the history) and audited.
 */
#ifndef AIPM_MONITOR_H
#define AIPM_MONITOR_H

#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/models.h"
#include "aipm/store.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A model kind's reading of the data now (prioritize.h, forecast.h give
 * them); ctx is the caller's. */
typedef int (*aipm_model_reader_fn)(void *ctx, aipm_model_reading *out,
                                    aipm_store *st, const aipm_config *cfg,
                                    const json_t *artifact, int64_t now_ms,
                                    aipm_error *err);

typedef struct aipm_model_reader {
    const char *name; /* value, adoption */
    aipm_model_reader_fn read;
    void *ctx;
} aipm_model_reader;

typedef struct aipm_monitor_opts {
    int64_t now_ms;
    const char *checkpoint; /* the audit checkpoint to keep (NULL: none) */
    const aipm_model_reader *readers; /* one per model name, NULL-ended */
    int record;  /* store the run and its audit entry (1) */
    int breaker; /* act on on_alert: rollback (1) */
} aipm_monitor_opts;

enum { AIPM_MONITOR_OK = 0, AIPM_MONITOR_WARN = 1, AIPM_MONITOR_ALERT = 2 };

/* Run every check. *report (caller frees): {"time", "status", "checks":
 * [{"check", "model", "version", "dataset", "feature", "test",
 * "statistic", "threshold", "status", "detail", ...}], "models": [{"name",
 * "version", "dataset_drift", "drifted", "features", "performance",
 * "forecasts"}], "actions": [...], "seq"}; *status the worst status. */
int aipm_monitor_run(aipm_store *st, const aipm_config *cfg,
                     const aipm_monitor_opts *o, json_t **report, int *status,
                     aipm_error *err);

/* The stored runs, newest first (limit 0: all): {"runs": [{"seq",
 * "time", "status", "alerts", "warnings", "checks": [{"check", "model",
 * "version", "feature", "dataset", "status", "statistic", "test",
 * "threshold"}], "actions"}]} (caller frees). Each check's keys are the
 * stored run's own (aipm_monitor_run's report is stored whole): "model",
 * "feature", "dataset" and "statistic" are left out where the check has
 * none, "version", "test" and "threshold" are then null (a data check
 * has no model, a calibration no test). */
int aipm_monitor_history(aipm_store *st, int64_t limit, json_t **out,
                         aipm_error *err);

const char *aipm_monitor_status_name(int status);

#ifdef __cplusplus
}
#endif
#endif
