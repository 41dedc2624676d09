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

/* The 0/1 knapsack: choose items (weights in integral units, values)
 * maximising the total value within capacity; chosen[i] = 1 for a chosen
 * item. Items with value <= 0 or weight > capacity are never chosen.
 * Exact, by dynamic programming over capacities (O(n * capacity) time and
 * bits). Returns the best total value, or NAN when out of memory. */
double aipm_knapsack(const int *weight, const double *value, int n,
                     int capacity, unsigned char *chosen);

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

/* ---- the value model's inputs, for the scenario simulator ---- */

/* The regression's features (intercept first; PZ_P of prioritize_int.h),
 * at most AIPM_SIM_MAX_P of sim_engine.h. */
#define AIPM_PZ_FEATURES 8

/* A backlog item as the value model sees it now. */
typedef struct aipm_pz_sim_item {
    char *id, *title, *status, *area; /* area may be NULL */
    /* the model's features, standardized as the posterior expects
     * (x[0] = 1) */
    double x[AIPM_PZ_FEATURES];
    double effort; /* the estimate in person-weeks (> 0) */
    int open;      /* idea, planned or in_progress: it can be built */
} aipm_pz_sim_item;

typedef struct aipm_pz_sim_inputs {
    int p; /* AIPM_PZ_FEATURES */
    double mn[AIPM_PZ_FEATURES];
    /* lower L, L L' = Ln^-1, row-major, row stride p (aipm_sim_posterior's
     * layout) */
    double chol[AIPM_PZ_FEATURES * AIPM_PZ_FEATURES];
    double an, bn;
    int64_t version; /* the registered value version used; 0: trained in
                        the run */
    /* as prioritize's decision record names it, e.g. "value@2
     * (bayesian_linear/1 ...)" */
    char model[160];
    int n_train; /* shipped items it was trained on (from the artifact for
                    a version) */
    aipm_pz_sim_item *items;
    int n_items; /* every backlog item, in the backlog's order */
} aipm_pz_sim_inputs;

/* The value model prioritize would rank with as of now_ms (model_version as
 * aipm_pz_opts.model_version: 0 production else trained in the run, > 0
 * that version, -1 trained in the run), and every backlog item's features
 * as of now, standardized for it - what aipm_prioritize (not a backtest,
 * the linker's own threshold) computes: a shipped item's features as of
 * its decision day (as the training takes them), any other item's as of
 * the day after now; the effort prioritize draws around (none, or not
 * > 0, is 1 person-week; kept in [0.05, 1000]). An item's log value is
 * Student t with 2 an dof, location x'mn and scale^2
 * (bn / an) (1 + |L'x|^2) (sim_engine.h); its value max(0, expm1(.)).
 * No posterior draws are made. AIPM_EINVALID when the model cannot be
 * fitted (fewer shipped items with an outcome than
 * policies.models.min_trained: the message says how many there are and
 * how many it needs - prioritize would fall back to RICE, which has no
 * posterior to simulate), AIPM_ENOTFOUND for a version the registry
 * lacks, AIPM_EBLOCKED as aipm_prioritize for policies.pii. *out is the
 * caller's, freed with aipm_pz_sim_inputs_free (NULL on error), which
 * accepts NULL. (Not named aipm_pz_sim_inputs: a function may not share
 * the type's name.) */
int aipm_pz_sim_inputs_new(aipm_pz_sim_inputs **out, aipm_store *st,
                           const aipm_config *cfg, int64_t model_version,
                           int64_t now_ms, aipm_error *err);
void aipm_pz_sim_inputs_free(aipm_pz_sim_inputs *in);

#ifdef __cplusplus
}
#endif
#endif
