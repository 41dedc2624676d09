/* prioritize.h - the backlog ranked by value learned from shipped items.
 *
 * Every candidate item (status idea, planned or in_progress) gets a value
 * distribution, not a number: a Bayesian linear regression of shipped
 * items' realized value (log(1 + distinct daily users of the item per
 * 10,000 daily actives)) on their signals as of their decision day -
 * demand from linked feedback, reach of their area, the market trend, the
 * PM's RICE guess - predicts each candidate's value; Monte Carlo draws of
 * value (from the posterior predictive, one coefficient draw shared by all
 * items per draw) and effort (lognormal around the estimate) give its
 * P10/P50/P90, a risk-adjusted score per effort, and a capacity-limited
 * release plan. With fewer than AIPM_PZ_MIN_TRAIN shipped items with an
 * outcome, it falls back to the PM's RICE scores and says so.
 */
#ifndef AIPM_PRIORITIZE_H
#define AIPM_PRIORITIZE_H

#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/models.h"
#include "aipm/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIPM_PZ_MIN_TRAIN 10
#define AIPM_PZ_DEFAULT_DRAWS 4000
#define AIPM_PZ_DEFAULT_RISK 0.5
#define AIPM_PZ_EFFORT_SIGMA 0.5 /* log-sd of effort around the estimate */
#define AIPM_PZ_TAIL 0.10        /* CVaR: the mean of the worst 10% */

typedef struct aipm_pz_opts {
    double capacity_weeks; /* > 0: also plan a release within it */
    double risk_aversion;  /* L in [0, 1]: score = mean - L (mean - CVaR) */
    int draws;
    uint64_t seed;
    double link_threshold; /* 0: the default of feedback.h */
    int64_t now_ms;
    int record;             /* store the run as a decision record */
    const char *checkpoint; /* the audit checkpoint to keep (NULL: none) */
    int backtest;
    int64_t cutoff_ms; /* backtest: 0 = the median ship day */
    /* The value model used: 0 the version the registry's production
     * alias of "value" points at, else one trained in the run; > 0 that
     * registered version (a replay); -1 one trained in the run. */
    int64_t model_version;
    aipm_progress_fn progress;
    void *progress_ctx;
} aipm_pz_opts;

void aipm_pz_opts_init(aipm_pz_opts *o);

/* Spearman's rank correlation of x and y (average ranks for ties); NAN
 * for fewer than 3 pairs or a constant side. */
double aipm_spearman(const double *x, const double *y, int n);

/* The ranked backlog (and plan) as a JSON document (caller frees). */
/* The columns whose values the ranking model's features are computed
 * from (dataset.column), NULL-terminated: policies.pii may mark none of
 * them (aipm_prioritize refuses with AIPM_EBLOCKED). Identifiers that are
 * only counted (events.user_id, feedback.account_id) are not features. */
extern const char *const aipm_pz_feature_columns[];

/* Train the value model for the registry (models.h): the regression
 * aipm_prioritize ranks with, fitted on the items shipped before the
 * cutoff (features as of their decision day, outcomes measured from data
 * before the cutoff), evaluated on the items shipped from the cutoff on
 * (outcomes measured through now_ms): MAE, RMSE and Spearman of
 * predicted against realized value, overall and per backlog area.
 * cutoff_ms 0: the ship day that leaves the last quarter of shipped items
 * (at least AIPM_PZ_MIN_HOLDOUT) for the holdout. AIPM_EINVALID, saying
 * how many there are, when fewer than policies.models.min_trained items
 * are before the cutoff or fewer than AIPM_PZ_MIN_HOLDOUT after it. */
#define AIPM_PZ_MIN_HOLDOUT 5
int aipm_pz_model_train(aipm_model_fit *out, aipm_store *st,
                        const aipm_config *cfg, int64_t cutoff_ms,
                        int64_t now_ms, uint64_t seed, aipm_error *err);

/* The value model's monitoring reading (models.h) for a version's
 * artifact: the features of the open backlog items now, with their
 * predicted value as the score, and the version's MAE, RMSE and Spearman
 * on the items shipped since its cutoff whose outcome is measurable. */
int aipm_pz_model_reading(aipm_model_reading *out, aipm_store *st,
                          const aipm_config *cfg, const json_t *artifact,
                          int64_t now_ms, aipm_error *err);

int aipm_prioritize(char **json_out, aipm_store *st, const aipm_config *cfg,
                    const aipm_pz_opts *o, aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
