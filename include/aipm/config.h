/* config.h - the workspace file, aipm.yaml (DESIGN.md section 5.1).
 *
 * Loaded whole with libyaml into plain structs owned by aipm_config. Every
 * key at every level must be one aipm knows (docs/config.md lists them): a
 * typo is refused with its line and a did-you-mean, never ignored, because
 * an ignored key can silently change a decision. Duplicate keys, YAML
 * aliases and more than one document are refused too, and so are files
 * over AIPM_CONFIG_MAX_BYTES or nested deeper than AIPM_CONFIG_MAX_DEPTH.
 */
#ifndef AIPM_CONFIG_H
#define AIPM_CONFIG_H

#include "aipm/core.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aipm_feature {
    char *key;
    char *name;
    char *area;
    char **events;
    int n_events;
    char *launched_at;
    char **depends_on;
    int n_depends_on;
} aipm_feature;

typedef enum aipm_metric_type {
    AIPM_METRIC_COUNT,
    AIPM_METRIC_CONVERSION,
    AIPM_METRIC_RETENTION,
    AIPM_METRIC_SUM,
    AIPM_METRIC_RATIO,
    AIPM_METRIC_ADOPTION
} aipm_metric_type;

/* metrics: one entry (DESIGN.md section 5.1). */
typedef struct aipm_metric {
    char *key;
    aipm_metric_type type;
    char *event;     /* count, conversion, sum */
    char *property;  /* sum: the numeric property */
    char *numerator; /* ratio: metric keys */
    char *denominator;
    char *feature;                 /* adoption: catalog feature key */
    int window_days;               /* 0: no window */
    int from_day, to_day;          /* retention */
    int unit_account;              /* unit: account (else user) */
    char *where_key, *where_value; /* one property equality filter */
    double cap_percentile;         /* 0: none */
    double cap_value;              /* 0: none */
    int direction_down;            /* direction: down (a rise is bad) */
} aipm_metric;

typedef struct aipm_kpi {
    char *key;
    char *metric;
    double target;
    int has_target;
    int direction_down;
} aipm_kpi;

typedef struct aipm_experiment_def {
    char *key;
    char **variations; /* the first is the control */
    int n_variations;
    double *weights; /* n_variations entries, summing to 1 */
    char **metrics;
    int n_metrics;
    char **guardrails;
    int n_guardrails;
    int64_t start_ms; /* 0: none */
    int64_t end_ms;   /* 0: open-ended (still running) */
} aipm_experiment_def;

/* policies.data: the ingest quality gates. */
typedef struct aipm_data_policy {
    double max_quarantine_share; /* blocked above this share of rows */
    int schema_change_blocks;    /* on_schema_change: block (else warn) */
    double max_staleness_hours;  /* warn when the newest row is older */
    double volume_low;           /* warn below this x trailing daily mean */
    double volume_high;          /* warn above this x trailing daily mean */
    /* raw rows of quarantine stored per reason per batch (all are counted) */
    double max_quarantine_samples;
} aipm_data_policy;

/* policies.decisions: who must approve a kind of decision record. */
typedef struct aipm_decision_policy {
    char *kind;             /* experiment, prioritize, forecast, or "*" */
    int approvals;          /* distinct approvals needed, >= 1 */
    int admin_only;         /* role: admin (else approver: approver or admin) */
    double auto_confidence; /* a record at or above this confidence counts
                             * without review; NAN: every record waits */
    double auto_max_risk;   /* ... and at or below this risk (NAN: any) */
} aipm_decision_policy;

/* policies.models.promote: what a registered version of a model must
 * show on its holdout to be promoted to production (models.h). */
typedef struct aipm_metric_bound {
    char *metric; /* a holdout metric of the model, e.g. auc */
    double bound;
    int is_max; /* max: the metric may not exceed bound; else a floor */
} aipm_metric_bound;

typedef struct aipm_promote_rule {
    char *model; /* value or adoption */
    aipm_metric_bound *bounds;
    int n_bounds;
    char *gap_metric;       /* fairness: this metric of the segments ... */
    double max_gap;         /* ... may differ by at most this (NAN: none) */
    double min_rows;        /* segments with fewer holdout rows are left out */
    double max_segment_ece; /* no segment's calibration error above (NAN) */
    int on_alert_rollback;  /* on_alert: rollback (else alert only) */
} aipm_promote_rule;

/* policies.models: when a model is used, and when its forecasts count
 * without review. */
typedef struct aipm_model_policy {
    double min_trained;         /* the ranking model is used over RICE once it
                                 * learns from this many shipped items (10) */
    double max_backtest_wape;   /* a forecast whose model did worse in its
                                 * backtest waits for people (NAN: none) */
    aipm_promote_rule *promote; /* policies.models.promote */
    int n_promote;
} aipm_model_policy;

/* policies.monitor: when `aipm monitor` warns and alerts (monitor.h). */
typedef struct aipm_monitor_feature {
    char *model, *feature; /* feature "score": the model's score */
    char *test;            /* a drift.h test name; NULL: the default */
    double threshold;      /* NAN: the test's default */
} aipm_monitor_feature;

typedef struct aipm_monitor_policy {
    int set;                    /* written in aipm.yaml */
    double dataset_drift_share; /* dataset drift at this share (0.5) */
    double max_ece;             /* calibration alert above (0.1) */
    double max_mape;            /* forecast alert above (0.5) */
    double min_coverage_80;     /* forecast alert below (0.5) */
    aipm_monitor_feature *features;
    int n_features;
} aipm_monitor_policy;

/* policies.fairness: a metric's lift may not differ between segments by
 * more than max_gap for a record to count without review. */
typedef struct aipm_fairness_policy {
    char *metric;     /* a metric key of the experiment */
    char *by;         /* the user or account trait that makes the segments */
    double max_gap;   /* largest gap in relative lift between segments */
    double min_units; /* segments with fewer units in an arm are left out */
} aipm_fairness_policy;

/* policies.scenarios: the risk settings `aipm simulate` and `aipm plan`
 * use when the scenario file or the command line does not give them. */
typedef struct aipm_scenario_policy {
    int set;              /* written in aipm.yaml */
    double risk_aversion; /* in [0, 1] (0.5) */
    double tail;          /* the CVaR level, in (0, 1] (0.05) */
} aipm_scenario_policy;

typedef struct aipm_config {
    char *product;
    char *store; /* as written; relative paths are relative to the file */
    char *events_store; /* clickhouse://... keeping the events, or NULL */
    aipm_feature *catalog;
    int n_catalog;
    aipm_metric *metrics;
    int n_metrics;
    aipm_kpi *kpis;
    int n_kpis;
    aipm_experiment_def *experiments;
    int n_experiments;
    aipm_data_policy data;
    aipm_decision_policy *decision_rules; /* policies.decisions */
    int n_decision_rules;
    char **pii; /* policies.pii: names that may not be model features */
    int n_pii;
    aipm_fairness_policy *fairness; /* policies.fairness */
    int n_fairness;
    aipm_model_policy models;       /* policies.models */
    aipm_monitor_policy monitor;    /* policies.monitor */
    aipm_scenario_policy scenarios; /* policies.scenarios */
} aipm_config;

/* The decision rule for kind: its own, else the "*" rule, else the
 * default (1 approval by an approver, no automatic approval). Never NULL.
 * *index gets its position in policies.decisions, or -1 for the default. */
const aipm_decision_policy *
aipm_config_decision_rule(const aipm_config *cfg, const char *kind, int *index);

/* The promotion rule of a model, or NULL when policies.models.promote
 * has none (then only the approvals and the PII rule apply). */
const aipm_promote_rule *aipm_config_promote_rule(const aipm_config *cfg,
                                                  const char *model);

/* Whether policies.pii marks "dataset.column": it names the pair, or the
 * column alone. */
int aipm_config_pii_marked(const aipm_config *cfg, const char *ds_column);

/* The policies in force, defaults included, as a new JSON object (the
 * caller frees it): {"data": {...}, "decisions": [...], "pii": [...]}. */
json_t *aipm_config_policies_json(const aipm_config *cfg);

/* The loader's limits: an aipm.yaml is a few kilobytes and a few levels. */
#define AIPM_CONFIG_MAX_BYTES (1024 * 1024)
#define AIPM_CONFIG_MAX_DEPTH 64

/* The SHA-256 (hex) of aipm_config_policies_json in canonical form
 * (compact, sorted keys, numbers as %.15g): the policy version a decision
 * record names. */
void aipm_config_policy_sha256(const aipm_config *cfg, char out[65]);

/* The policy defaults, used when aipm.yaml does not say. */
void aipm_data_policy_defaults(aipm_data_policy *p);

/* Load and check path. Errors name the file and line: AIPM_ENOTFOUND when
 * it does not exist, AIPM_EINVALID for bad YAML or a bad value. Free the
 * result with aipm_config_free. */
int aipm_config_load(aipm_config **out, const char *path, aipm_error *err);

/* The same from len bytes in memory; name stands for the file in error
 * messages. Same errors and ownership as aipm_config_load. */
int aipm_config_load_buffer(aipm_config **out, const char *data, size_t len,
                            const char *name, aipm_error *err);
void aipm_config_free(aipm_config *cfg);

/* A configuration with every default and an empty catalog, for a store
 * used without its aipm.yaml (--store alone). Free with aipm_config_free. */
int aipm_config_new_default(aipm_config **out, aipm_error *err);

/* Look-ups by key; NULL when absent. Borrowed from cfg. */
const aipm_metric *aipm_config_metric(const aipm_config *cfg, const char *key);
const aipm_experiment_def *aipm_config_experiment(const aipm_config *cfg,
                                                  const char *key);
const aipm_feature *aipm_config_feature(const aipm_config *cfg,
                                        const char *key);
const char *aipm_metric_type_name(aipm_metric_type t);

/* The commented aipm.yaml that `aipm init` writes. Static. */
const char *aipm_config_template(void);

#ifdef __cplusplus
}
#endif
#endif
