/* sim_run.h - `aipm simulate FILE`: a scenario file's scenarios compared
 * over the production models' own uncertainty, with a risk-adjusted
 * recommendation stored as a decision record (docs/scenarios.md).
 *
 * The objective decides which models enter the draws:
 *
 *   value           the sum of the built items' value, each live from its
 *                   ship day, averaged over the horizon: the value model
 *                   of prioritize (its posterior and each item's own
 *                   noise, sim_engine.h);
 *   a KPI of        the KPI's level and trend fitted on its weekly values
 *   aipm.yaml       (a shared draw of both), times (1 + lift) for each
 *                   shipped experiment variation that measures the KPI's
 *                   metric (the Bayesian posterior of the lift), averaged
 *                   over the horizon's days; a market_growth assumption
 *                   replaces the fitted trend;
 *   adopters:F      the feature's adopters at the horizon's end from
 *                   the adoption forecast per segment (its intervals,
 *                   one quantile draw a segment), each segment's curve
 *                   starting at the rollout that launches the feature to
 *                   it (a feature nobody uses yet), or the feature's own
 *                   forecast when it is in use.
 *
 * Every scenario sees the same draws of what it shares (common random
 * numbers), so P(A beats B) measures the scenarios' difference. The
 * summaries are the same bits for any thread count.
 */
#ifndef AIPM_SIM_RUN_H
#define AIPM_SIM_RUN_H

#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/scenario.h"
#include "aipm/store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AIPM_SIMULATE_DEFAULT_DRAWS 20000
#define AIPM_SIMULATE_MAX_DRAWS 100000000
#define AIPM_SIMULATE_PATH_DRAWS 20000  /* draws the KPI path's band uses */
#define AIPM_SIMULATE_SENS_DRAWS 100000 /* draws the sensitivity uses */
#define AIPM_SIMULATE_PATH_POINTS 12    /* points of the KPI path */
#define AIPM_SIMULATE_KPI_WEEKS 12      /* weeks the KPI's trend is fit on */

typedef struct aipm_simulate_opts {
    size_t draws;  /* 0: AIPM_SIMULATE_DEFAULT_DRAWS */
    uint64_t seed; /* the default is 1 */
    int threads;   /* 1 .. AIPM_SIM_MAX_THREADS; the result does not
                      depend on it */
    int64_t now_ms;
    /* The value model: 0 the production version of "value", else one
     * trained in the run; > 0 that version; -1 trained in the run. */
    int64_t value_version;
    /* The adoption model (adopters:FEATURE): 0 the production version's
     * fits where they apply; > 0 that version; -1 fitted in the run. */
    int64_t adoption_version;
    int record;             /* store the result as a decision record */
    const char *subject;    /* the record's subject (the file's name) */
    const char *checkpoint; /* the audit checkpoint to keep (NULL: none) */
    /* The draws' histograms (1, the default): common edges at the top,
     * counts per scenario. 0: none, as a record made before they
     * existed replays (aipm_simulate_from_params sets it so). */
    int histogram;
} aipm_simulate_opts;

void aipm_simulate_opts_init(aipm_simulate_opts *o);

/* Simulate the scenarios of f against the workspace (st, cfg) and return
 * the result as a JSON document (*out, the caller decrefs): the objective
 * and the models used, per scenario its summaries, histogram (over edges
 * common to all scenarios), probability of loss, risk-adjusted objective,
 * capacity and KPI path, the matrix of P(A beats B), the sensitivity of
 * the recommended scenario, the recommendation with its reasons, and
 * warnings about inputs that do not enter the objective
 * (docs/scenarios.md documents every field). With o->record,
 * the record's id is in "decision_id". AIPM_EINVALID, naming the file and
 * line, for an item not in the backlog or already shipped, a KPI,
 * feature, experiment or variation aipm.yaml lacks, an assumption that
 * does nothing; AIPM_EINVALID when a model cannot be had (too few shipped
 * items, too few weeks of a KPI); the store's errors. */
int aipm_simulate(json_t **out, aipm_store *st, const aipm_config *cfg,
                  const aipm_scenario_file *f, const aipm_simulate_opts *o,
                  aipm_error *err);

/* The parameters a simulate record keeps, back into f and o for a
 * replay: the scenario file from its canonical JSON, the draws, the seed,
 * the value model's version, and whether the document had histograms
 * (a record made before them did not). *f is the caller's
 * (aipm_scenario_file_free). */
int aipm_simulate_from_params(aipm_scenario_file **f, aipm_simulate_opts *o,
                              const json_t *params, aipm_error *err);

/* ---- the planner: `aipm plan` ---- */

#define AIPM_PLAN_DEFAULT_HORIZON 90
#define AIPM_PLAN_DEFAULT_DRAWS 4000 /* a round's draws */
#define AIPM_PLAN_MAX_ROUNDS 50
#define AIPM_PLAN_REPLACE_TOP 8 /* items outside the plan tried as swaps */

typedef struct aipm_plan_opts {
    const char *objective; /* "value" or a KPI key of aipm.yaml */
    double capacity_weeks; /* person-weeks over the horizon, > 0 */
    int periods;           /* the capacity's periods (default 1) */
    int horizon_days;      /* default AIPM_PLAN_DEFAULT_HORIZON */
    double risk_aversion;  /* NAN (the default): policies.scenarios' */
    double tail;           /* NAN (the default): policies.scenarios' */
    size_t draws;          /* each round's draws (default 4000) */
    size_t final_draws;    /* the check of the winner (default 20000) */
    uint64_t seed;         /* rounds use it; the final check another */
    int threads;
    int64_t now_ms;
    int64_t value_version; /* as aipm_simulate_opts */
    const char *out_path;  /* the scenario file to write; NULL: none */
} aipm_plan_opts;

void aipm_plan_opts_init(aipm_plan_opts *o);

/* Search for the plan that maximizes the risk-adjusted objective, mean -
 * L (mean - CVaR), within the capacity, and write it as a scenario file
 * a PM can edit and run with `aipm simulate` (o->out_path, replaced if it
 * exists). Under value: backlog items, starting from the 0/1 knapsack of
 * each open item's risk-adjusted value alone (effort in half-weeks),
 * ordered by risk-adjusted value per week (Smith's rule, the best order
 * for value that accrues from each ship day), then improved by local
 * search - move an item one place earlier, drop one, add one that fits,
 * swap one for one of the AIPM_PLAN_REPLACE_TOP best outside - every
 * neighbour of a round simulated together on common random numbers, the
 * best taken while it improves. Under a KPI: which variations of the
 * experiments measuring its metric to ship (at most one per
 * experiment), by the same search over adding, dropping and switching a
 * variation. The winner, the start and the status quo are then simulated
 * on fresh draws (another seed), so the comparison is not the search's
 * own luck. *out: the JSON document (what was tried in each round, the
 * plan, the final comparison, the reasons; docs/scenarios.md). */
int aipm_plan(json_t **out, aipm_store *st, const aipm_config *cfg,
              const aipm_plan_opts *o, aipm_error *err);

/* ---- the sensitivity estimator (exposed for its tests) ---- */

/* The first-order variance share of y explained by an input x (Sobol's
 * S = Var(E[y | x]) / Var(y)) from n paired draws, by conditional means
 * over n_bins bins of equal probability: u[k] in (0, 1) is x's draw k
 * mapped through its own CDF. The between-bin variance is corrected for
 * the noise of the bin means (each bin's within variance over its
 * size), and the share is clipped to [0, 1]. low and high (may be NULL)
 * get the mean of y over the draws with u below 0.1 and above 0.9: the
 * tornado's bar. NAN when n < 2 n_bins or y is constant. */
double aipm_sim_first_order(const double *y, const double *u, size_t n,
                            int n_bins, double *low, double *high);

#ifdef __cplusplus
}
#endif
#endif
