/* prioritize_int.h - the pieces of the prioritization module (private).
 *
 * model.c: Bayesian linear regression with the conjugate normal-inverse-
 *   gamma prior, and draws from its posterior predictive;
 * plan.c: summaries of Monte Carlo draws (quantiles, CVaR) and the exact
 *   0/1 knapsack of the release plan;
 * signals.c: per-item features as of a date, and shipped items' outcomes;
 * prioritize.c: the command's job - train, draw, rank, plan, explain -
 *   and the value model's pieces value_model.c shares (features, fit,
 *   posterior draws, the time split of the backtest);
 * value_model.c: the value model for the registry - trained with a time
 *   split and evaluated on its holdout, its parameters to and from JSON.
 */
#ifndef AIPM_PRIORITIZE_INT_H
#define AIPM_PRIORITIZE_INT_H

#include "aipm/core.h"

#include <stdint.h>

/* ---- model.c ---- */

#define AIPM_BLR_MAX_P 12

/* The posterior of y = X b + e, e ~ N(0, s2), with the prior
 * b | s2 ~ N(m0, s2 V0), V0 = diag(prior_var), s2 ~ InvGamma(a0, b0):
 *   Ln = V0^-1 + X'X, mn = Ln^-1 (V0^-1 m0 + X'y), an = a0 + n/2,
 *   bn = b0 + (y'y + m0' V0^-1 m0 - mn' Ln mn) / 2
 * (Murphy, "Conjugate Bayesian analysis of the Gaussian distribution",
 * 2007, section 9; Bishop, PRML, 2006, section 3.3 for the known-variance
 * case). */
typedef struct aipm_blr {
    int p, n;
    double mn[AIPM_BLR_MAX_P];
    double cov[AIPM_BLR_MAX_P * AIPM_BLR_MAX_P];  /* Ln^-1 */
    double chol[AIPM_BLR_MAX_P * AIPM_BLR_MAX_P]; /* lower L, L L' = Ln^-1 */
    double an, bn;
} aipm_blr;

/* Fit on n rows of p features (X row-major, n x p; include a column of
 * ones for an intercept); prior_mean NULL is 0. AIPM_EINVALID when p is
 * out of range or the posterior precision is not positive definite. */
int aipm_blr_fit(aipm_blr *m, const double *X, const double *y, int n, int p,
                 const double *prior_mean, const double *prior_var, double a0,
                 double b0, aipm_error *err);

/* The predictive distribution at x: Student t with dof 2 an, location
 * x' mn, scale^2 (bn / an) (1 + x' Ln^-1 x). */
void aipm_blr_predict(const aipm_blr *m, const double *x, double *loc,
                      double *scale, double *dof);

/* ---- plan.c ---- */

/* Summaries of n draws (reordered in place): P10, P50 and P90 (type 7,
 * as numpy and R default: linear between order statistics), the mean, the
 * mean of the lowest ceil(alpha * n) draws (the lower-tail CVaR), and the
 * mean capped at the 99.9th percentile. */
typedef struct aipm_draw_summary {
    double mean, cvar;
    double q[3];        /* P10, P50, P90 */
    double cap;         /* order statistic floor(0.999 (n - 1)) */
    double capped_mean; /* the mean with the draws above cap set to it */
} aipm_draw_summary;

void aipm_draws_summarize(aipm_draw_summary *out, double *x, int n,
                          double alpha);

/* The k-th smallest of x[0..n) (0-based), reordering x (quickselect). */
double aipm_select(double *x, int n, int k);

/* aipm_knapsack: in prioritize.h (the planner of simulate uses it). */

/* ---- signals.c ---- */

#include "aipm/config.h"
#include "aipm/feedback.h"
#include "aipm/store.h"

#define PZ_DAY_MS 86400000LL
#define PZ_REACH_DAYS 30  /* reach: the 30 days before the as-of day */
#define PZ_MARKET_DAYS 90 /* market trend: the 90 days before it */
#define PZ_HALF_LIFE 90.0 /* demand: a feedback's weight halves in 90 days */
#define PZ_MIN_OUTCOME_DAYS 7

typedef struct pz_item {
    char *id, *title, *area, *feature_key, *status;
    double effort;
    int64_t created_day, shipped_day; /* days since 1970; shipped: -1 */
    double rice_reach, rice_impact, rice_conf; /* NAN when not given */
    int64_t asof_day; /* features are computed from data before this day */
    /* signals as of asof_day */
    double demand;      /* accounts, weighted by ARR and recency */
    double demand_rate; /* the same per 30 days of the item's life */
    int n_accounts, n_enterprise;
    int64_t n_feedback; /* counted rows before asof_day */
    int64_t n_review;   /* rows whose best match it is, needing review */
    double reach;       /* area users / daily actives, mean over 30 days */
    double reach_users; /* the area's mean daily users over those days */
    double market;      /* relative trend of the area's signals, per 30 days */
    int has_market;
} pz_item;

typedef struct pz_usage {
    int item;
    int64_t day;
    double users;
} pz_usage;

typedef struct pz_signal {
    int area;   /* index into areas */
    int signal; /* index into signal names */
    int64_t day;
    double value;
} pz_signal;

typedef struct pz_account {
    double arr;
    int enterprise;
} pz_account;

typedef struct pz_data {
    pz_item *items;
    int n_items;
    size_t cap_items;
    aipm_strmap item_ids;
    /* daily actives and area / feature users per day, over [day0, day0 +
     * n_days) */
    int64_t day0;
    int n_days;
    size_t cap_days;
    double *dau;
    aipm_strmap keys;  /* "a:AREA" or "f:FEATURE" */
    double *key_users; /* keys.n_keys x n_days, after loading */
    /* item users per day (events carrying the item's id), by item */
    pz_usage *usage;
    size_t n_usage, cap_usage;
    size_t *usage_start; /* item i's rows: usage[start[i] .. start[i + 1]) */
    /* market signals */
    pz_signal *sig;
    size_t n_sig, cap_sig;
    aipm_strmap areas, signal_names;
    /* accounts: ARR and enterprise flag */
    aipm_strmap accounts;
    pz_account *accts;
    size_t cap_accts;
    double mean_arr;
    int64_t now_day;
    aipm_link_stats links;
} pz_data;

/* Load the backlog, telemetry and signals; the accounts come with
 * pz_accounts, as of the time the caller needs. */
int pz_load(pz_data *d, aipm_store *st, const aipm_config *cfg, int64_t now_ms,
            aipm_error *err);
void pz_free(pz_data *d);

/* Load the accounts' ARR and plan from their newest group traits before
 * before_ms (now, or the backtest's cutoff: no trait from after it). */
int pz_accounts(pz_data *d, aipm_store *st, int64_t before_ms, aipm_error *err);

/* Every item's signals as of its asof_day (set by the caller): reach and
 * market from the loaded data, demand from the feedback links (one pass
 * over the feedback). */
int pz_signals(pz_data *d, aipm_store *st, double link_threshold,
               aipm_progress_fn progress, void *progress_ctx, aipm_error *err);

/* A shipped item's realized value: distinct daily users of the item per
 * 10,000 daily active users over [shipped day, end_day) - users of events
 * carrying its item_id, else of its catalog feature's events. NAN when
 * not shipped by then, or with fewer than PZ_MIN_OUTCOME_DAYS days. */
double pz_outcome(const pz_data *d, int item, int64_t end_day);

/* ---- prioritize.c: the value model, shared with value_model.c ---- */

#include "aipm/prioritize.h"

#include <jansson.h>

/* The regression's features, in the order of its coefficients. */
enum {
    PZ_F_ONE,
    PZ_F_DEMAND,
    PZ_F_REACH,
    PZ_F_MARKET,
    PZ_F_HAS_RICE,
    PZ_F_RICE_REACH,
    PZ_F_RICE_IMPACT,
    PZ_F_RICE_CONF,
    PZ_P
};

/* Recorded with every decision and stored in every registered version:
 * change it when the features, the prior or the outcome change, so that
 * records say which model made them and an artifact of another model is
 * refused rather than misread. */
#define PZ_MODEL_VERSION "bayesian_linear/1 (8 features, RICE prior)"
#define PZ_PRIOR_A0 1.0
#define PZ_PRIOR_B0 0.1
extern const double pz_prior_var[PZ_P];
extern const char *const pz_feature_names[PZ_P];

/* An item being scored: its features (standardized for the regression)
 * and the summaries of its draws. */
typedef struct pz_cand {
    int item;
    double x[PZ_P];
    aipm_draw_summary v, s; /* value, score per effort */
    double effort_mean, risk_v, score, confidence;
} pz_cand;

typedef struct pz_model {
    int bayes;     /* else RICE */
    int min_train; /* policies.models.min_trained (0: AIPM_PZ_MIN_TRAIN) */
    aipm_blr blr;
    double mu[PZ_P], sd[PZ_P]; /* standardization of the training features */
    int n_train;
    double rice_median;
    /* posterior draws shared by all items */
    int draws;
    double *beta; /* draws x PZ_P */
    double *sigma;
} pz_model;

/* An item's raw features (NAN: not given). */
void pz_features(const pz_item *it, double x[PZ_P]);
/* The day a shipped item was decided, as of which the ranking and the
 * training take its features: its ship day less its effort estimate,
 * not before it was created. */
int64_t pz_decision_day(const pz_item *it);
/* Raw features to the z-scores of the training items, in place. */
void pz_standardize(const pz_model *m, double x[PZ_P]);
/* The training rows: shipped before before_day, with an outcome measured
 * through end_day; idx and y (d->n_items entries) get the items and their
 * log1p outcomes. Returns how many. */
int pz_train_rows(const pz_data *d, int64_t end_day, int64_t before_day,
                  int *idx, double *y);
/* Fit m (standardization, prior, posterior) on those rows; m->bayes is
 * set when it succeeds. The regression's error otherwise. */
int pz_fit(pz_model *m, const pz_data *d, const int *rows, const double *y,
           int n, aipm_error *err);
/* m->draws posterior draws of the coefficients and residual sd, shared by
 * all items (freed by pz_model_free). */
int pz_draw_posterior(pz_model *m, uint64_t seed, aipm_error *err);
void pz_model_free(pz_model *m);
/* The median RICE value of the backlog (1 when none is given). */
double pz_median_rice(const pz_data *d);
/* Draw and summarise each of c[0..n) (item and standardized features
 * set), on up to 8 threads; the same whatever the split. */
int pz_score_all(pz_cand *c, int n, const pz_model *m, const pz_data *d,
                 const aipm_pz_opts *o, aipm_error *err);
/* The time split: every item's features as of its decision day and never
 * after the cutoff day (open items: as of the cutoff), accounts as known
 * at the cutoff - nothing from after it feeds a feature. */
int pz_split_at(pz_data *d, aipm_store *st, int64_t cutoff,
                double link_threshold, aipm_error *err);
/* The holdout: the items shipped from the cutoff day on with an outcome
 * measured through end_day, scored by m. c and real (d->n_items entries)
 * get their candidates and realized values, *n how many. */
int pz_holdout(pz_cand *c, double *real, int *n, const pz_model *m,
               const pz_data *d, int64_t cutoff, int64_t end_day,
               const aipm_pz_opts *o, aipm_error *err);

/* ---- value_model.c ---- */

/* The parameters a prediction needs, as JSON whose numbers round-trip
 * exactly (a new reference; NULL when out of memory). */
json_t *pz_model_artifact(const pz_model *m);
/* m (zeroed first; no draws yet) from an artifact; AIPM_EINVALID naming
 * what (e.g. "value@3") and what is missing or malformed. */
int pz_model_from_artifact(pz_model *m, const json_t *a, const char *what,
                           aipm_error *err);

#endif
