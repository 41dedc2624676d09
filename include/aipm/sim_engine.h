/* sim_engine.h - the Monte Carlo of scenario objectives: every scenario's
 * objective over the same draws of the models' uncertain inputs (common
 * random numbers), and its summaries.
 *
 * The model. Item values come from the prioritization model's Bayesian
 * linear regression of log1p(value) (src/lib/prioritize: the conjugate
 * normal-inverse-gamma posterior, Murphy 2007 section 9), as its
 * item_draws makes them: per draw k one posterior draw shared by all items,
 *
 *   s2_k ~ InvGamma(an, bn),  z_k ~ N(0, I_p),
 *   beta_k = mn + sqrt(s2_k) L z_k      (L L' = Ln^-1, L lower),
 *
 * and per item i, with e_ik and h_ik standard normals of its own,
 *
 *   y_ik      = x_i' beta_k + sqrt(s2_k) e_ik
 *             = m_i + sqrt(s2_k) (a_i . z_k + e_ik),
 *               m_i = x_i' mn,  a_i = L' x_i  (computed once),
 *   value_ik  = max(0, expm1(y_ik)),
 *   effort_ik = effort_i exp(effort_log_sd h_ik).
 *
 * Marginally y_ik is Student t with 2 an degrees of freedom, location m_i
 * and scale^2 (bn / an) (1 + |a_i|^2) (aipm_blr_predict). A PM's override
 * (AIPM_SIM_VALUE_FIXED, AIPM_SIM_EFFORT_FIXED) replaces the value or the
 * effort by a constant. Shared inputs are normals drawn once per draw and
 * used by every scenario that names them (an experiment's lift ~ N(mean,
 * sd), shared by the scenarios that ship it):
 *
 *   shared_jk = mean_j + sd_j u_jk,  u_jk standard normal.
 *
 * Scenario s's objective at draw k is
 *
 *   sum_i w_si value_ik + sum_j c_sj shared_jk
 *
 * with w_si in [0, 1]: 0 not built, 1 built and live over the whole
 * horizon, a fraction the share of the horizon it is live (from its
 * start). Its effort at draw k is the sum of effort_ik over the items it
 * builds (w_si > 0, or its `built` mask), in full whatever the fraction:
 * a late item is still built. Effort over the scenario's capacity is a
 * shortfall, reported (the share of draws over, the mean excess) and never
 * clipped.
 *
 * Random numbers (aipm/simulate.h's streams, all at seed `seed`):
 *
 *   s2_k   aipm_sim_inv_gammas: draw k's sub-stream of the posterior's
 *          stream;
 *   z_kj   bulk normal draw j 2^56 + k of the posterior's stream;
 *   e_ik   bulk normal draw k of item i's stream;
 *   h_ik   bulk normal draw 2^63 + k of item i's stream;
 *   u_jk   bulk normal draw k of shared input j's stream.
 *
 * Every number is placed by its draw index: results are the same bits for
 * any thread count, and every scenario sees the same inputs at draw k, so
 * a difference of two scenarios carries no noise from what they share.
 * An item's stream id is its identity: give an item the same stream in
 * every run (e.g. a hash of its id), and adding items leaves the others'
 * draws unchanged. The streams of the posterior, the items and the shared
 * inputs must all differ, except that items may share one: two items on
 * one stream draw the same noise (one backlog item under two scenarios'
 * different assumptions).
 *
 * Arithmetic: per draw, a_i . z_k is summed over j in order, y is m_i +
 * sqrt(s2_k) (that + e_ik), and each scenario's objective is 0 plus its
 * items' w value in item order, then its shared inputs' c shared in input
 * order. expm1 and exp are the engine's own vector forms (within 3 ulp of
 * the C library's, tested), the same bits at every SIMD width.
 */
#ifndef AIPM_SIM_ENGINE_H
#define AIPM_SIM_ENGINE_H

#include "aipm/simulate.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AIPM_SIM_MAX_P 12 /* features of the value model (AIPM_BLR_MAX_P) */
#define AIPM_SIM_MAX_DRAWS ((uint64_t)1 << 56)

/* The value model's posterior, shared by all items (prioritize's
 * aipm_blr: copy p, mn, chol, an and bn). */
typedef struct aipm_sim_posterior {
    int p;                     /* 1 .. AIPM_SIM_MAX_P */
    double mn[AIPM_SIM_MAX_P]; /* posterior mean of the coefficients */
    double chol[AIPM_SIM_MAX_P * AIPM_SIM_MAX_P]; /* lower L, L L' = Ln^-1,
                                                     row-major, row stride p
                                                     (aipm_blr's layout) */
    double an, bn;                                /* s2 ~ InvGamma(an, bn) */
    uint32_t stream;                              /* the stream of s2 and z */
} aipm_sim_posterior;

#define AIPM_SIM_VALUE_FIXED 1u  /* value is the constant `value` */
#define AIPM_SIM_EFFORT_FIXED 2u /* effort is the constant `effort` */

typedef struct aipm_sim_item {
    double x[AIPM_SIM_MAX_P]; /* features, as the posterior expects them
                                 (standardized; x[0] = 1 for the intercept) */
    double effort;            /* estimate (> 0), or the override (>= 0) */
    double value;             /* the override, with AIPM_SIM_VALUE_FIXED */
    unsigned flags;           /* AIPM_SIM_VALUE_FIXED | AIPM_SIM_EFFORT_FIXED */
    uint32_t stream;          /* the item's stream: e and h */
} aipm_sim_item;

/* A normal input drawn once per draw and shared by scenarios. */
typedef struct aipm_sim_shared {
    double mean, sd; /* sd >= 0 */
    uint32_t stream;
} aipm_sim_shared;

typedef struct aipm_sim_scenario {
    const double *weight; /* n_items weights in [0, 1] (see the top) */
    const double *coef;   /* n_shared coefficients; NULL: all 0 */
    double capacity;      /* effort available; 0 or INFINITY: no constraint */
    const unsigned char *built; /* n_items: 1 for an item the scenario
                                   builds, whose effort counts even at
                                   weight 0 (live after the horizon);
                                   NULL: built when its weight is > 0 */
} aipm_sim_scenario;

typedef struct aipm_sim_problem {
    const aipm_sim_posterior *posterior; /* NULL only if every item's value
                                            is fixed */
    const aipm_sim_item *items;
    size_t n_items;
    double effort_log_sd; /* >= 0: AIPM_PZ_EFFORT_SIGMA for prioritize's */
    const aipm_sim_shared *shared;
    size_t n_shared;
    const aipm_sim_scenario *scenarios;
    size_t n_scenarios;
} aipm_sim_problem;

/* The draws and what is known about them. Made by aipm_sim_run, freed by
 * aipm_sim_result_free; the summaries are filled by
 * aipm_sim_result_summarize. */
typedef struct aipm_sim_result {
    size_t n_scenarios, n_draws;
    uint64_t seed;
    double **draws; /* draws[s][k]: scenario s's objective at draw k (one
                       block of n_scenarios x n_draws doubles) */
    /* per scenario with a capacity (0 for the others, whose efforts are
     * not drawn): */
    double *effort_mean;    /* the mean effort of its items */
    double *p_over;         /* the share of draws with effort > capacity */
    double *shortfall_mean; /* the mean of max(0, effort - capacity) */
    /* aipm_sim_result_summarize: */
    int summarized;
    size_t baseline;
    aipm_sim_summary *summary; /* per scenario */
    double *p_loss; /* share of draws below the baseline's (paired) */
    double *beats;  /* [a * n_scenarios + b]: share of draws a > b */
} aipm_sim_result;

/* Draw every scenario's objective n_draws times under seed `seed` on
 * n_threads threads (1 .. AIPM_SIM_MAX_THREADS; the result does not depend
 * on it), into a new *out the caller frees with aipm_sim_result_free.
 * AIPM_EINVALID, naming the input, for: no scenarios, n_draws 0 or above
 * AIPM_SIM_MAX_DRAWS, p out of range, a posterior parameter that is not
 * finite (an and bn must be > 0), an item's effort or value not finite or
 * out of range, a weight outside [0, 1], a coefficient, mean or sd not
 * finite (sd < 0), a capacity that is negative or NaN, or two inputs on
 * one stream. AIPM_ENOMEM (n_scenarios x n_draws doubles are kept). */
int aipm_sim_run(aipm_sim_result **out, const aipm_sim_problem *problem,
                 size_t n_draws, uint64_t seed, int n_threads, aipm_error *err);

/* A result of n_scenarios x n_draws draws, not yet made (zeroed
 * capacities, no summaries), for draws a caller computes itself and
 * summarizes with aipm_sim_result_summarize. AIPM_EINVALID for 0 or too
 * many; AIPM_ENOMEM. */
int aipm_sim_result_new(aipm_sim_result **out, size_t n_scenarios,
                        size_t n_draws, uint64_t seed, aipm_error *err);

/* Fill r's summaries: each scenario's mean, P10/P50/P90 and CVaR at alpha
 * (aipm_sim_summarize), its probability of loss against scenario
 * `baseline`, and the matrix of P(a beats b), all over draws paired by
 * index; on n_threads threads (the results do not depend on it).
 * AIPM_EINVALID for a baseline out of range, alpha not in (0, 1], or a
 * draw that is not finite (an objective past the range of a double);
 * AIPM_ENOMEM. */
int aipm_sim_result_summarize(aipm_sim_result *r, size_t baseline, double alpha,
                              int n_threads, aipm_error *err);

/* Free r and everything in it; NULL is fine. */
void aipm_sim_result_free(aipm_sim_result *r);

#ifdef __cplusplus
}
#endif

#endif
