/* config_int.h - the pieces of the aipm.yaml loader shared by config.c
 * (the passes, the catalog, metrics, KPIs and experiments) and policy.c
 * (the policies). Private to src/lib/config. */
#ifndef AIPM_CONFIG_INT_H
#define AIPM_CONFIG_INT_H

#include "aipm/config.h"
#include "aipm/yaml_strict.h"

/* The typed pass over one document (yaml_strict.h). */
typedef aipm_yaml_walk walk;

/* An error naming the file and n's line (AIPM_EINVALID); what is the
 * whole message, not a format. */
int aipm_config__bad(walk *w, yaml_node_t *n, const char *what);
/* Typed values of key (left as they are when the key is absent). */
int aipm_config__get_str(walk *w, yaml_node_t *map, const char *key,
                         char **out);
int aipm_config__get_num(walk *w, yaml_node_t *map, const char *key,
                         double *out);
int aipm_config__get_list(walk *w, yaml_node_t *map, const char *key,
                          char ***out, int *n);

/* policy.c */
void aipm_config__model_defaults(aipm_model_policy *m);
void aipm_config__monitor_defaults(aipm_monitor_policy *m);
void aipm_config__scenario_defaults(aipm_scenario_policy *p);
int aipm_config__load_policies(walk *w, aipm_config *cfg, yaml_node_t *n);
void aipm_config__free_policies(aipm_config *cfg);

#endif
