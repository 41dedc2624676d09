/* models.h - the model registry: trained versions, aliases, promotion
 * behind policy, rollback.
 *
 * A model has a name, which is its kind: "value" (the prioritization
 * value model, prioritize.h) or "adoption" (the forecasting hazard model,
 * forecast.h). Training is the kind's own module: it fills an
 * aipm_model_fit from the accepted batches with a time-based split (fit
 * on what happened before the cutoff, evaluate on what happened from it
 * on). The registry stores each fit as a new version: the parameters
 * (canonical JSON, content-hashed), the batches it read, its features and
 * their definitions' hash, hyperparameters, seed, code version and the
 * holdout metrics, overall and per segment - its model card.
 *
 * Aliases (production, candidate, any name) point at one version; every
 * move is an audit entry and a row of the alias log (who, when, from, to,
 * why), so `rollback` knows where production was before. Promotion to
 * production passes only when the policy allows (policies.models.promote,
 * policies.pii, policies.decisions for kind "model"); otherwise
 * AIPM_EBLOCKED naming the rule.
 */
#ifndef AIPM_MODELS_H
#define AIPM_MODELS_H

#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/store.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a kind's trainer hands the registry. Every member is a new
 * reference the registry takes (aipm_model_fit_free drops them). */
typedef struct aipm_model_fit {
    const char *kind; /* "value" or "adoption" (static) */
    json_t *artifact; /* the parameters: all a prediction needs */
    json_t *metrics;  /* holdout metrics, overall: {"n": rows, name: x} */
    json_t *segments; /* [{"segment": S, "n": rows, name: x, ...}] */
    json_t *features; /* [{"name", "definition", "columns": [ds.col]}] */
    json_t *hyper;    /* hyperparameters */
    json_t *data;     /* {"cutoff", "train_rows", "holdout_rows", ...} */
    json_t *card;     /* {"predicts", "segments_by", "limits": [...]} */
    const char *const *datasets; /* read (NULL-terminated, static) */
} aipm_model_fit;

void aipm_model_fit_free(aipm_model_fit *f);

/* The names the registry knows, NULL-terminated. */
extern const char *const aipm_model_names[];

/* Whether name is a known model; AIPM_EINVALID naming the known ones
 * when not. */
int aipm_model_check_name(const char *name, aipm_error *err);

/* Store fit as the next version of name: one transaction holding the
 * version row and its audit entry ("model.train"). *version gets its
 * number. The audit checkpoint at checkpoint (NULL: none) follows. */
int aipm_model_register(aipm_store *st, const char *name,
                        const aipm_model_fit *fit, uint64_t seed,
                        int64_t now_ms, const char *checkpoint,
                        int64_t *version, aipm_error *err);

/* Resolve "NAME", "NAME@VERSION" or "NAME@ALIAS" (NAME alone: the newest
 * version) to a version number; AIPM_ENOTFOUND naming what is missing. */
int aipm_model_resolve(aipm_store *st, const char *ref, char *name,
                       size_t name_cap, int64_t *version, aipm_error *err);

/* The version of name that production points at (*version 0 when none)
 * and, when artifact is not NULL and there is one, its parameters (a new
 * reference). */
int aipm_model_production(aipm_store *st, const char *name, int64_t *version,
                          json_t **artifact, aipm_error *err);

/* The parameters of name@version (a new reference); AIPM_ENOTFOUND when
 * there is no such version. Checks them against their stored digest
 * (AIPM_EINVALID when they differ). */
int aipm_model_artifact(aipm_store *st, const char *name, int64_t version,
                        json_t **artifact, aipm_error *err);

/* Every model with its versions and aliases: {"models": [{"name",
 * "versions": [{"version", "time", "actor", "metrics", "aliases"}],
 * "aliases": {alias: version}}]} (caller frees). */
int aipm_model_list(aipm_store *st, json_t **out, aipm_error *err);

/* The model card of a reference (see aipm_model_resolve): the version's
 * card with its aliases and the alias log of the model (caller frees). */
int aipm_model_show(aipm_store *st, const char *ref, json_t **out,
                    aipm_error *err);

/* The floor on an adoption version's coverage_80 (the share of its
 * forecasts' backtest days whose 80% interval held the observed adopters)
 * when policies.models.promote sets none. */
#define AIPM_MODEL_MIN_COVERAGE_80 0.7

/* What a promotion did, or which rule refused it. */
typedef struct aipm_promotion {
    int moved;         /* the alias now points at the version */
    int64_t from;      /* where it pointed before (0: nowhere) */
    char rule[64];     /* the rule that refused it, "" when none */
    char decision[37]; /* the approval record (kind "model"), "" if none */
    json_t *checks;    /* [{"rule", "status": ok|fail|pending, "detail"}] */
} aipm_promotion;

/* Point alias (NULL: production) of name at version. Production passes
 * only when every rule holds: the metric floors and ceilings and the
 * segment bounds of policies.models.promote, no feature reading a column
 * policies.pii marks, for adoption the coverage floor
 * AIPM_MODEL_MIN_COVERAGE_80 unless the rule sets its own, and the
 * approvals that policies.decisions requires
 * of kind "model" - a promotion makes (or finds) a decision record of kind
 * "model" for name@version, to be approved with `aipm decisions approve`,
 * and passes once it is approved. A refusal is AIPM_EBLOCKED with the
 * rule in p->rule and the error message. Other aliases move freely.
 * Audited ("model.alias"); reason may be NULL. Free p->checks with
 * json_decref. */
int aipm_model_promote(aipm_store *st, const aipm_config *cfg, const char *name,
                       int64_t version, const char *alias, const char *reason,
                       int64_t now_ms, const char *checkpoint,
                       aipm_promotion *p, aipm_error *err);

/* Move production of name back: to the version it pointed at before the
 * current one (to 0), or to version to, an earlier production version.
 * AIPM_ENOTFOUND when there is none to go back to; AIPM_EINVALID for a
 * version production never held before. *from and *to_out get the move.
 * Audited ("model.alias", action rollback); extra (may be NULL) joins the
 * entry's detail (the circuit breaker's report digest). */
int aipm_model_rollback(aipm_store *st, const char *name, int64_t to,
                        const char *reason, const json_t *extra, int64_t now_ms,
                        const char *checkpoint, int64_t *from, int64_t *to_out,
                        aipm_error *err);

/* ---- monitoring readings (monitor.h compares them) ----
 *
 * A version's artifact keeps a reference sample of the rows it would have
 * scored at its cutoff (value: the backlog items open then; adoption: the
 * users at risk then), "reference": {"features": [{"name", "kind": "numerical"
 * | "categorical", "values": [...]}], "score": [...]} (each at most
 * AIPM_MODEL_REF_MAX values, a deterministic sample). A kind's reading
 * of the data now gives the same shape for the current rows, and how the
 * version did on the rows labelled since its cutoff. */
#define AIPM_MODEL_REF_MAX 5000

typedef struct aipm_model_reading {
    json_t *current;     /* {"features": [...], "score": [...]}, as above */
    json_t *performance; /* the newest labelled rows: {"n", metrics...,
                          * "window": {"from", "to"}, "calibration":
                          * [{"lo","hi","n","mean_p","mean_y"}] (adoption)}
                          * or null when none are labelled yet */
    json_t *forecasts;   /* adoption: the forecast decision records against
                          * what happened so far: [{"decision", "feature",
                          * "days", "mape", "coverage_80"}] (may be NULL) */
} aipm_model_reading;

void aipm_model_reading_free(aipm_model_reading *r);

/* ---- metrics the trainers share ---- */

/* Regression errors of n predictions: mean absolute and root mean
 * squared. */
double aipm_mae(const double *pred, const double *obs, int n);
double aipm_rmse(const double *pred, const double *obs, int n);

#ifdef __cplusplus
}
#endif
#endif
