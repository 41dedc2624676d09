/* scenario.h - the scenario file of `aipm simulate FILE` (docs/scenarios.md).
 *
 * A scenario file is YAML: an objective (a KPI over a horizon), the
 * risk settings, optional capacity and budget, and a list of named
 * scenarios, each a combination of backlog items to build, feature
 * rollouts, experiment decisions and a PM's assumptions. It is loaded
 * whole with libyaml into the plain structs below, owned by
 * aipm_scenario_file, and checked as strictly as aipm.yaml: an unknown
 * or misspelled key, a key given twice, a value of the wrong type or out
 * of range, YAML aliases, a second document, a file over
 * AIPM_SCENARIO_MAX_BYTES or nested deeper than AIPM_SCENARIO_MAX_DEPTH
 * are errors naming the file and the line (with a did-you-mean for a key
 * close to a known one), because a key ignored in silence changes the
 * recommendation. What needs the workspace - that an item id is in the
 * backlog, a KPI in aipm.yaml, a feature in the catalog, an experiment
 * and its variation in aipm.yaml - is checked by the simulator, which
 * finds the line of each in the `line` fields.
 *
 * Defaults are filled in by the loader, so a loaded file holds every
 * value the simulator uses: baseline (the first scenario), risk_aversion
 * (0.5), tail (0.05), ramp_days (0), capacity periods (1).
 */
#ifndef AIPM_SCENARIO_H
#define AIPM_SCENARIO_H

#include "aipm/core.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The loader's limits. A scenario file is a few kilobytes and six
 * levels deep (scenarios > scenario > rollouts > rollout > segments). */
#define AIPM_SCENARIO_MAX_BYTES (1024 * 1024)
#define AIPM_SCENARIO_MAX_DEPTH 16
#define AIPM_SCENARIO_MAX_SCENARIOS 1000
#define AIPM_SCENARIO_MAX_ENTRIES 10000 /* per list or map of a scenario */
#define AIPM_SCENARIO_MAX_NAME 64       /* bytes of a scenario name */
#define AIPM_SCENARIO_MAX_ID 256     /* bytes of an id, key, feature, segment */
#define AIPM_SCENARIO_MAX_TEXT 4096  /* bytes of a description */
#define AIPM_SCENARIO_MAX_DAYS 36500 /* horizon_days and ramp_days */

/* The defaults the loader fills in. */
#define AIPM_SCENARIO_DEFAULT_RISK_AVERSION 0.5
#define AIPM_SCENARIO_DEFAULT_TAIL 0.05

/* What objective.kpi names. */
typedef enum aipm_scenario_kpi_kind {
    AIPM_SCENARIO_KPI_CONFIG = 0, /* a KPI key of aipm.yaml */
    AIPM_SCENARIO_KPI_VALUE,      /* "value": the sum of the built items'
                                     value (the prioritization outcome) */
    AIPM_SCENARIO_KPI_ADOPTERS    /* "adopters:FEATURE": the feature's
                                     adopters (the forecasting model) */
} aipm_scenario_kpi_kind;

typedef struct aipm_scenario_objective {
    char *kpi; /* as written: "weekly_active_users", "value", "adopters:x" */
    aipm_scenario_kpi_kind kind;
    char *feature;    /* KPI_ADOPTERS: the FEATURE of the kpi; else NULL */
    int horizon_days; /* 1 .. AIPM_SCENARIO_MAX_DAYS */
    int line;         /* of the kpi value */
} aipm_scenario_objective;

/* A backlog item to build, by id (in build order). */
typedef struct aipm_scenario_item {
    char *id;
    int line;
} aipm_scenario_item;

/* A feature rollout: the feature reaches its segments from start_ms,
 * ramping linearly to all of them over ramp_days (0: at once). */
typedef struct aipm_scenario_rollout {
    char *feature;
    char **segments; /* "property=value", e.g. "plan=pro"; none: everyone */
    int n_segments;
    int64_t start_ms; /* ms since the epoch, UTC (a date is its midnight) */
    int ramp_days;    /* 0 .. AIPM_SCENARIO_MAX_DAYS */
    int line;
} aipm_scenario_rollout;

/* An experiment decision: ship variation `ship` of experiment
 * `experiment` (its posterior lift enters the draws). */
typedef struct aipm_scenario_experiment {
    char *experiment;
    char *ship;
    int line;
} aipm_scenario_experiment;

/* A PM's override of one item's effort (person-weeks, > 0) or value
 * (>= 0): replaces the model's distribution with this number, and is
 * labelled an assumption in the output. */
typedef struct aipm_scenario_override {
    char *item;
    double value;
    int line;
} aipm_scenario_override;

typedef struct aipm_scenario {
    char *name;        /* unique, [A-Za-z0-9_-], 1 .. MAX_NAME bytes */
    char *description; /* NULL when absent */
    aipm_scenario_item *build;
    int n_build;
    aipm_scenario_rollout *rollouts;
    int n_rollouts;
    aipm_scenario_experiment *experiments;
    int n_experiments;
    /* assume: */
    aipm_scenario_override *effort; /* each an item of build */
    int n_effort;
    aipm_scenario_override *value; /* each an item of build */
    int n_value;
    int has_market_growth;
    double market_growth; /* relative growth per 30 days, > -1 */
    int line;
} aipm_scenario;

typedef struct aipm_scenario_file {
    char *path; /* the name given to the loader, for messages */
    aipm_scenario_objective objective;
    int baseline;                    /* index into scenarios (default 0) */
    double risk_aversion;            /* in [0, 1] */
    double tail;                     /* the CVaR level, in (0, 1] */
    int risk_aversion_set, tail_set; /* written in the file (else the
                                        defaults, which policies.scenarios
                                        of aipm.yaml may replace) */
    int has_capacity;
    double weeks_per_period; /* person-weeks per period, > 0 */
    int periods;             /* 1 .. horizon_days; a period = horizon /
                                periods */
    int has_budget;
    double budget; /* >= 0 */
    aipm_scenario *scenarios;
    int n_scenarios; /* 1 .. AIPM_SCENARIO_MAX_SCENARIOS */
} aipm_scenario_file;

/* Load and check the scenario file at path (a regular file of at most
 * AIPM_SCENARIO_MAX_BYTES: a FIFO, folder or symbolic link is refused,
 * never waited on). *out belongs to the caller (aipm_scenario_file_free);
 * it is NULL on error. AIPM_EINVALID for bad YAML or a bad value, with
 * the file and line in err; AIPM_ENOTFOUND when path does not exist;
 * AIPM_EIO, AIPM_ENOMEM. */
int aipm_scenario_file_load(aipm_scenario_file **out, const char *path,
                            aipm_error *err);

/* The same from len bytes in memory (they need not end in NUL); name
 * stands for the file in messages. Same errors and ownership. */
int aipm_scenario_file_load_buffer(aipm_scenario_file **out, const char *data,
                                   size_t len, const char *name,
                                   aipm_error *err);

/* Free f and everything it owns. Accepts NULL. */
void aipm_scenario_file_free(aipm_scenario_file *f);

/* The index of the scenario called name, or -1. */
int aipm_scenario_file_find(const aipm_scenario_file *f, const char *name);

/* The canonical JSON of f: what it means, not how it was written, so two
 * files that mean the same have the same bytes and digest (for the
 * decision record). Compact, keys sorted (byte order), every default
 * written out, absent options left out, lists in their order, the
 * effort and value maps sorted by item id, whole numbers below 10^15
 * in digits and others in their shortest %g form that reads back to the
 * same double, dates as YYYY-MM-DD (or YYYY-MM-DDTHH:MM:SS.mmmZ when
 * not midnight UTC), lines and path left out. It is itself a scenario
 * file (JSON is YAML) that loads to the same JSON, when it is within
 * AIPM_SCENARIO_MAX_BYTES (the defaults written out can double a file). *out is
 * malloc'd and NUL-terminated (the caller frees); sha256, when not NULL,
 * receives the lower-case hex SHA-256 of its bytes. AIPM_ENOMEM, or
 * AIPM_EINVALID for a struct the loader would not have made (e.g. baseline out
 * of range). */
int aipm_scenario_file_json(char **out, char sha256[65],
                            const aipm_scenario_file *f, aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
