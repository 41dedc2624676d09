/* config.h - the workspace file, aipm.yaml (DESIGN.md section 5.1).
 *
 * Loaded whole with libyaml into plain structs owned by aipm_config. Only
 * the keys that do something yet are interpreted (product, store, catalog,
 * policies.data); the other sections are accepted and kept for the issues
 * that give them meaning.
 */
#ifndef AIPM_CONFIG_H
#define AIPM_CONFIG_H

#include "aipm/core.h"

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

/* policies.data: the ingest quality gates. */
typedef struct aipm_data_policy {
    double max_quarantine_share; /* blocked above this share of rows */
    int schema_change_blocks;    /* on_schema_change: block (else warn) */
    double max_staleness_hours;  /* warn when the newest row is older */
    double volume_low;           /* warn below this x trailing daily mean */
    double volume_high;          /* warn above this x trailing daily mean */
} aipm_data_policy;

typedef struct aipm_config {
    char *product;
    char *store; /* as written; relative paths are relative to the file */
    aipm_feature *catalog;
    int n_catalog;
    aipm_data_policy data;
} aipm_config;

/* The policy defaults, used when aipm.yaml does not say. */
void aipm_data_policy_defaults(aipm_data_policy *p);

/* Load and check path. Errors name the file and line: AIPM_ENOTFOUND when
 * it does not exist, AIPM_EINVALID for bad YAML or a bad value. Free the
 * result with aipm_config_free. */
int aipm_config_load(aipm_config **out, const char *path, aipm_error *err);
void aipm_config_free(aipm_config *cfg);

/* A configuration with every default and an empty catalog, for a store
 * used without its aipm.yaml (--store alone). Free with aipm_config_free. */
int aipm_config_new_default(aipm_config **out, aipm_error *err);

/* The commented aipm.yaml that `aipm init` writes. Static. */
const char *aipm_config_template(void);

#ifdef __cplusplus
}
#endif
#endif
