/* forecast.h - adoption forecasts: the Bass diffusion model.
 *
 * Bass (1969): of the m eventual adopters, the share F(t) adopted by time
 * t follows dF/dt = (p + q F)(1 - F), whose solution from F(0) = 0 is
 *   F(t) = (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t),
 *   f(t) = F'(t) = ((p+q)^2 / p) e^-(p+q)t / (1 + (q/p) e^-(p+q)t)^2,
 * p the coefficient of innovation, q of imitation. A series of adopters
 * per period t = 1, 2, ... is fitted either as m (F(t) - F(t-1)), the
 * adopters within each period ("per-period"), or as m f(t), the adoption
 * rate at the period ("density", the form of Cowpertwait and Metcalfe,
 * Introductory Time Series with R, 2009, section 3.3.4), by nonlinear
 * least squares (GSL's trust-region Levenberg-Marquardt on log p, log q,
 * log m, so all three stay positive), from several starting points.
 */
#ifndef AIPM_FORECAST_H
#define AIPM_FORECAST_H

#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/models.h"
#include "aipm/store.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aipm_bass_form {
    AIPM_BASS_PER_PERIOD,
    AIPM_BASS_DENSITY
} aipm_bass_form;

typedef struct aipm_bass {
    double p, q, m;
    double se_p, se_q, se_m; /* from s^2 (J'J)^-1 at the optimum */
    double rss;
    int n;         /* periods fitted */
    double cov[9]; /* s^2 (J'J)^-1 of (log p, log q, log m), row-major */
} aipm_bass;

/* F(t), the share adopted by time t. */
double aipm_bass_share(double p, double q, double t);

/* The model's adopters in period t (t = 1, 2, ...). */
double aipm_bass_period(aipm_bass_form form, const aipm_bass *b, double t);

/* Fit y[0..n) (period t = i + 1). AIPM_EINVALID with fewer than 4
 * periods, a negative or non-finite value, or an all-zero series. */
int aipm_bass_fit(aipm_bass *out, const double *y, int n, aipm_bass_form form,
                  aipm_error *err);

/* A series file: CSV with the header `period,adopters` and one row per
 * period (period: any label; adopters: a number >= 0). *labels (one
 * malloc'd block of NUL-terminated strings, label i at (*labels)[i]) and
 * *values are malloc'd; free both with aipm_series_free. A bad file is
 * AIPM_EINVALID with a one-line message naming the line. */
typedef struct aipm_series {
    char **labels;
    double *values;
    int n;
} aipm_series;

int aipm_series_parse(aipm_series *out, const char *text, size_t len,
                      aipm_error *err);
void aipm_series_free(aipm_series *s);

/* ---- the hazard model on user-days ---- */

/* A discrete-time hazard with a cure fraction (Kuk and Chen 1992; Sy and
 * Taylor 2000): a user is eligible with probability pi, and an eligible
 * user who has not adopted adopts on an active day with probability
 *   h(s) = 1 / (1 + e^-(alpha + beta s)),
 * s the day's graph signal (the share of the user's neighbours who had
 * adopted before that day). alpha is the innovation, beta the imitation
 * on the log-odds scale. Fitted by maximum likelihood: a few EM steps
 * (eligibility the missing data), then Newton-Raphson on the marginal
 * likelihood with its analytic Hessian; standard errors from the inverse
 * of the observed information in (alpha, beta, logit pi).
 *
 * The data, per user i: runs [run_start[i], run_start[i+1]) of active
 * at-risk days without adoption, run k having run_days[k] days at signal
 * run_s[k]; event_s[i] the signal on the day of adoption, or NaN when
 * the user did not adopt. */
typedef struct aipm_hazard_data {
    int n_users;
    const int64_t *run_start; /* n_users + 1 */
    const double *run_s;
    const int32_t *run_days;
    const double *event_s;
} aipm_hazard_data;

typedef struct aipm_hazard {
    double alpha, beta, pi;
    double se_alpha, se_beta, se_pi;
    double cov[9]; /* of (alpha, beta, logit pi), row-major; 0 if unknown */
    double ame;    /* beta's average marginal effect on the daily
                      adoption probability of eligible at-risk days:
                      mean of beta h (1 - h), comparable to a linear
                      hazard p + q s's q */
    double loglik;
    int iterations;
    int n_users, n_events;
    int64_t n_days; /* at-risk active user-days */
} aipm_hazard;

/* Fit; w (n_users, may be NULL) receives each user's posterior
 * probability of eligibility (1 for adopters). fixed_pi in (0, 1]: pi is
 * held there (1: no cure fraction); 0: estimated. AIPM_EINVALID when
 * there is no event or no at-risk day. */
int aipm_hazard_fit(aipm_hazard *out, const aipm_hazard_data *d,
                    double fixed_pi, double *w, aipm_error *err);

/* h(s) of a fit. */
double aipm_hazard_prob(double alpha, double beta, double s);

/* ---- adoption forecasts from the store ---- */

/* The data a feature's adoption forecast reads, loaded once and shared by
 * any number of features: the knowledge graph (first uses, neighbours),
 * every user's first day, active days and segment. With holdout > 0 it is
 * a backtest's data: models see only the days before the last holdout
 * days (the segments are the users' trait values before that cutoff too;
 * users first seen later, who count only in the observed adopters, take
 * their first value). by: NULL (one segment, "all"), "cohort" (the month
 * of the user's first event), or a trait: the user's newest identify
 * trait, else their account's newest group trait, else "(none)"; the 20
 * biggest levels, the rest as "(other)". A trait that no user has (every
 * user "(none)") is AIPM_EINVALID, worded by aipm_metrics_trait_unheld.
 * graph_snapshot: the graph's snapshot file (aipm_graph_open), or NULL
 * for a full build; the forecasts are the same either way. */
typedef struct aipm_adoption aipm_adoption;

int aipm_adoption_open(aipm_adoption **out, aipm_store *st,
                       const aipm_config *cfg, const char *by, int holdout,
                       const char *graph_snapshot, aipm_error *err);
void aipm_adoption_free(aipm_adoption *a);

typedef enum aipm_adoption_model {
    AIPM_ADOPTION_AUTO, /* the one with the lower backtest WAPE */
    AIPM_ADOPTION_BASS,
    AIPM_ADOPTION_HAZARD
} aipm_adoption_model;

typedef struct aipm_adoption_opts {
    int horizon; /* days forecast (backtest: the holdout) */
    aipm_adoption_model model;
    int draws; /* parameter draws for the intervals */
    uint64_t seed;
    /* The registry's adoption model (models.h) a forecast takes its
     * hazard fits from: 0 the version the production alias of "adoption"
     * points at, else fitted in the run; > 0 that registered version (a
     * replay); -1 fitted in the run. A backtest always fits in the run:
     * it measures the method on its own cutoff. */
    int64_t model_version;
} aipm_adoption_opts;

/* A feature's forecast (a forecast's data) or backtest (a backtest's
 * data) as the JSON document of `aipm forecast adoption|backtest --json`
 * (*out, caller decrefs). AIPM_ENOTFOUND for a feature not in the
 * catalog, or for an o->model_version the registry does not have;
 * AIPM_EINVALID when there is nothing to forecast from, or the version's
 * artifact is malformed.
 *
 * A forecast by a registered version (o->model_version): when the
 * version was trained with the run's segmentation (its "by"; NULL, one
 * segment "all", matching NULL) and holds a fit of the feature, each
 * segment's hazard model takes the version's alpha, beta, pi and their
 * covariance instead of the fit at the data's end (segments matched by
 * name; a segment the version lacks keeps the run's fit). The Bass
 * model, the backtests that choose the model and calibrate the
 * intervals, and the activity curves are the run's, as without a
 * version. The document says which: "registry": {"name": "adoption",
 * "version": N, "used": true, "segments": [the segments with the
 * version's fit], "refitted": [those it lacks], "cutoff": the version's
 * training cutoff} (each segment's "model" says whether the hazard model
 * gave its forecast), or {"name", "version", "used": false, "why"} when
 * the version does not apply (another segmentation, no fit of the
 * feature, no hazard model in the run), or null when fitted in the run.
 *
 * What was observed: each segment's "history", [{"day": "YYYY-MM-DD",
 * "adopters": n}] ascending, is its cumulative adopters on each day from
 * the series start (the launch, or the first day with data) to "as_of",
 * counted as its "adopters" is (its users first seen before the cutoff
 * who first used the feature by that day), so the last row is
 * "adopters". At most the last 365 days: "history_from" is the first
 * day shown, and "history_note" (else null) says how many days before it
 * were left out (the first row counts their adopters). A feature
 * launching after as_of has no history ("history_from" null, each
 * segment's []).
 * In a backtest as_of is the day before the cutoff: the history ends
 * there and the held-out days are the rows' "observed". */
int aipm_adoption_run(json_t **out, aipm_adoption *a, const char *feature,
                      const aipm_adoption_opts *o, aipm_error *err);

/* Make doc (aipm_adoption_run's) the form a decision records and a
 * replay compares: without "fit_seconds" (a wall-clock time) and without
 * the observed history ("history" per segment, "history_from",
 * "history_note": observed data the record's batches already pin down,
 * and up to 365 rows a segment). */
void aipm_adoption_record_form(json_t *doc);

/* ---- a forecast as typed arrays (the scenario simulator's input) ---- */

/* The quantiles a day of a path holds, in this order: the 2.5%, 10%, the
 * mean (taken as the middle), 90% and 97.5% of the forecast's cumulative
 * adopters (its 95% and 80% intervals). */
#define AIPM_ADOPTION_PATH_Q 5
extern const double aipm_adoption_path_probs[AIPM_ADOPTION_PATH_Q];

typedef struct aipm_adoption_segment_path {
    char *segment;
    double users;    /* the segment's users now */
    double adopters; /* its adopters now */
    double *q;       /* horizon x AIPM_ADOPTION_PATH_Q: day d + 1 (from the day
                        after the data's last) at q[d * AIPM_ADOPTION_PATH_Q] */
} aipm_adoption_segment_path;

typedef struct aipm_adoption_paths {
    char *model;           /* "hazard", "bass", "prior", ... */
    int64_t model_version; /* the registry's adoption version used; 0 none */
    int64_t as_of_day;     /* the data's last day (days since 1970): day 1
                              of a path is the day after it */
    int horizon;
    aipm_adoption_segment_path *seg;
    int n;
} aipm_adoption_paths;

/* Feature's forecast of `horizon` days per segment (by as
 * aipm_adoption_open; the model chosen by its backtest, the registry's
 * fits where they apply - model_version as aipm_adoption_opts' - and 50
 * parameter draws at seed) as arrays. For a feature nobody used yet, the
 * forecast is the prior's from a launch on the day after the data's last.
 * Errors as aipm_adoption_run; *out is emptied on error
 * (aipm_adoption_paths_free accepts it either way). */
int aipm_adoption_paths_get(aipm_adoption_paths *out, aipm_store *st,
                            const aipm_config *cfg, const char *feature,
                            const char *by, int horizon, uint64_t seed,
                            int64_t model_version, aipm_error *err);
void aipm_adoption_paths_free(aipm_adoption_paths *p);

/* ---- the adoption model of the registry (models.h) ---- */

/* Train the hazard model of every catalog feature with adopters on the
 * days before the cutoff, per segment (by, as aipm_adoption_open), and
 * evaluate it as a classifier on the days from the cutoff on: for each
 * user at risk at the cutoff (seen before it, not adopted), the predicted
 * probability of adopting within the holdout window against whether they
 * did - AUC, log loss, Brier score and expected calibration error
 * (calibration.h), overall, per feature and per segment, with the
 * predicted-vs-observed table by decile; and the 80% interval coverage
 * of the forecasts' backtests (coverage_80). cutoff_ms 0: the holdout is
 * the last horizon days (horizon 0: 28). */
int aipm_adoption_model_train(aipm_model_fit *out, aipm_store *st,
                              const aipm_config *cfg, const char *by,
                              int64_t cutoff_ms, int horizon,
                              const char *graph_snapshot, aipm_error *err);

/* The adoption model's monitoring reading (models.h) for a version's
 * artifact: the features and predicted probabilities of the users at
 * risk now; the version's calibration on the newest labelled window (the
 * users at risk at now - horizon, scored with the version's parameters,
 * against whether they adopted by now: AUC, Brier, log loss, ECE and the
 * decile table); and every adoption forecast decision record against the
 * adopters observed since (MAPE of the days seen so far, the share of
 * them inside the 80% interval). */
int aipm_adoption_model_reading(aipm_model_reading *out, aipm_store *st,
                                const aipm_config *cfg, const json_t *artifact,
                                const char *graph_snapshot, int64_t now_ms,
                                aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
