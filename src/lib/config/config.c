/* config.c - read aipm.yaml with libyaml's document API.
 *
 * The file is small, so it is loaded as one YAML document and walked as a
 * tree of nodes, in three passes. First libyaml's event parser reads the
 * bytes once to refuse what the tree must never hold: nesting deeper than
 * AIPM_CONFIG_MAX_DEPTH (an 80,000-deep sequence used to cost half a
 * minute), aliases (a node reachable twice, or from itself) and a second
 * document (it would be ignored). Then the tree is checked against the
 * table of known keys below: an unknown key at any level, or a key given
 * twice in one mapping, is an error naming its line, with a did-you-mean
 * from the known keys of that mapping (a `guardrail:` that was ignored once
 * turned a do_not_ship into keep_running). Last the typed loaders read the
 * values; a known key with the wrong shape is an error that names the
 * line, because a silently ignored policy is worse than a refusal. The
 * first two passes are yaml_strict.c's, shared with the scenario file's
 * loader; the profile below gives them this file's limits and messages.
 */
#include "config/config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

int aipm_config__bad(walk *w, yaml_node_t *n, const char *what)
{
    return aipm_yaml_bad(w, n, "%s", what);
}

/* The known keys, one table per mapping. sub: the keys of the mapping the
 * value holds (or of each mapping in the list it holds); NULL: a value
 * whose keys, if any, are free (where: {property: value}, promote's min
 * and max), checked by its loader. DESIGN.md section 5.1
 * names no section beyond these, so no other section is reserved: every
 * other key is an error (docs/config.md says so). */
typedef aipm_yaml_keyspec keyspec;

static const keyspec feature_keys[] = {
    {"key", NULL},    {"name", NULL},        {"area", NULL},
    {"events", NULL}, {"launched_at", NULL}, {"depends_on", NULL},
    {NULL, NULL}};
static const keyspec cap_keys[] = {
    {"percentile", NULL}, {"value", NULL}, {NULL, NULL}};
static const keyspec metric_keys[] = {
    {"key", NULL},      {"type", NULL},      {"event", NULL},
    {"property", NULL}, {"numerator", NULL}, {"denominator", NULL},
    {"feature", NULL},  {"unit", NULL},      {"window_days", NULL},
    {"from_day", NULL}, {"to_day", NULL},    {"direction", NULL},
    {"where", NULL},    {"cap", cap_keys},   {NULL, NULL}};
static const keyspec kpi_keys[] = {{"key", NULL},
                                   {"metric", NULL},
                                   {"target", NULL},
                                   {"direction", NULL},
                                   {NULL, NULL}};
static const keyspec experiment_keys[] = {
    {"key", NULL},     {"variations", NULL}, {"weights", NULL},
    {"metrics", NULL}, {"guardrails", NULL}, {"start", NULL},
    {"end", NULL},     {NULL, NULL}};
/* max_quarantine_samples: read by the ingest's quarantine bound. */
static const keyspec data_keys[] = {{"max_quarantine_share", NULL},
                                    {"on_schema_change", NULL},
                                    {"max_staleness_hours", NULL},
                                    {"volume_low", NULL},
                                    {"volume_high", NULL},
                                    {"max_quarantine_samples", NULL},
                                    {NULL, NULL}};
static const keyspec decision_rule_keys[] = {{"kind", NULL},
                                             {"approvals", NULL},
                                             {"role", NULL},
                                             {"auto_approve_confidence", NULL},
                                             {"auto_approve_max_risk", NULL},
                                             {NULL, NULL}};
static const keyspec promote_fairness_keys[] = {
    {"metric", NULL}, {"max_gap", NULL}, {"min_rows", NULL}, {NULL, NULL}};
/* min, max: {metric: bound}, the metric names checked by the loader. */
static const keyspec promote_keys[] = {{"model", NULL},
                                       {"min", NULL},
                                       {"max", NULL},
                                       {"fairness", promote_fairness_keys},
                                       {"max_segment_ece", NULL},
                                       {"on_alert", NULL},
                                       {NULL, NULL}};
static const keyspec model_keys[] = {{"min_trained", NULL},
                                     {"max_backtest_wape", NULL},
                                     {"promote", promote_keys},
                                     {NULL, NULL}};
static const keyspec fairness_keys[] = {{"metric", NULL},
                                        {"by", NULL},
                                        {"max_gap", NULL},
                                        {"min_units", NULL},
                                        {NULL, NULL}};
static const keyspec monitor_feature_keys[] = {{"model", NULL},
                                               {"feature", NULL},
                                               {"test", NULL},
                                               {"threshold", NULL},
                                               {NULL, NULL}};
static const keyspec monitor_keys[] = {{"dataset_drift_share", NULL},
                                       {"max_ece", NULL},
                                       {"max_mape", NULL},
                                       {"min_coverage_80", NULL},
                                       {"features", monitor_feature_keys},
                                       {NULL, NULL}};
static const keyspec scenario_policy_keys[] = {
    {"risk_aversion", NULL}, {"tail", NULL}, {NULL, NULL}};
static const keyspec policy_keys[] = {{"data", data_keys},
                                      {"decisions", decision_rule_keys},
                                      {"pii", NULL},
                                      {"fairness", fairness_keys},
                                      {"models", model_keys},
                                      {"monitor", monitor_keys},
                                      {"scenarios", scenario_policy_keys},
                                      {NULL, NULL}};
static const keyspec top_keys[] = {{"product", NULL},
                                   {"store", NULL},
                                   {"catalog", feature_keys},
                                   {"metrics", metric_keys},
                                   {"kpis", kpi_keys},
                                   {"experiments", experiment_keys},
                                   {"policies", policy_keys},
                                   {"events_store", NULL},
                                   {NULL, NULL}};

/* aipm.yaml's messages and limits for the shared strict passes. */
static const aipm_yaml_profile profile = {
    "aipm.yaml",       "an aipm.yaml",        "a few",
    "docs/config.md",  AIPM_CONFIG_MAX_BYTES, AIPM_CONFIG_MAX_DEPTH,
    AIPM_YAML_SECTIONS};

int aipm_config__get_str(walk *w, yaml_node_t *map, const char *key, char **out)
{
    yaml_node_t *n = aipm_yaml_get(w, map, key);
    const char *s;

    *out = NULL;
    if (n == NULL)
        return AIPM_OK;
    if ((s = aipm_yaml_scalar(n)) == NULL)
        return aipm_config__bad(w, n, "expected a text value");
    if ((*out = strdup(s)) == NULL)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    return AIPM_OK;
}

int aipm_config__get_num(walk *w, yaml_node_t *map, const char *key,
                         double *out)
{
    yaml_node_t *n = aipm_yaml_get(w, map, key);
    const char *s;
    double v;

    if (n == NULL)
        return AIPM_OK;
    s = aipm_yaml_scalar(n);
    if (s == NULL || *s == '\0')
        return aipm_config__bad(w, n, "expected a number");
    /* Plain decimals only, as in the data (no hex such as 0x1p-1). */
    if (aipm_decimal_parse(s, &v) != 0) {
        char msg[128];

        snprintf(msg, sizeof(msg),
                 "%s: expected a decimal number (like 3 or 0.05), got "
                 "'%.40s'",
                 key, s);
        return aipm_config__bad(w, n, msg);
    }
    *out = v;
    return AIPM_OK;
}

/* A YAML sequence of scalars (or one scalar) into a string array. */
int aipm_config__get_list(walk *w, yaml_node_t *map, const char *key,
                          char ***out, int *n_out)
{
    yaml_node_t *n = aipm_yaml_get(w, map, key);
    yaml_node_item_t *it;
    int count = 0;

    *out = NULL;
    *n_out = 0;
    if (n == NULL)
        return AIPM_OK;
    if (n->type == YAML_SCALAR_NODE) {
        if ((*out = calloc(1, sizeof(char *))) == NULL ||
            ((*out)[0] = strdup(aipm_yaml_scalar(n))) == NULL)
            return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
        *n_out = 1;
        return AIPM_OK;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return aipm_config__bad(w, n, "expected a list");
    count = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    if ((*out = calloc((size_t)count + 1, sizeof(char *))) == NULL)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(w->doc, *it);
        const char *s = aipm_yaml_scalar(item);

        if (s == NULL)
            return aipm_config__bad(w, item, "expected a text list item");
        if (((*out)[(*n_out)++] = strdup(s)) == NULL)
            return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    }
    return AIPM_OK;
}

/* Refuse a name given twice in a list, naming both lines: keys[i] comes
 * from item i of the sequence seq. The names go into *map (initialised by
 * the caller, who frees it and may look names up in it afterwards), so
 * the check is linear: a 10,000-feature catalog used to take seconds. */
static int refuse_duplicates(walk *w, yaml_node_t *seq, const char *what,
                             char *const *keys, int n, aipm_strmap *map)
{
    yaml_node_item_t *items = NULL;
    int i, idx, added, rc, n_items = 0;

    if (seq && seq->type == YAML_SEQUENCE_NODE) {
        items = seq->data.sequence.items.start;
        n_items = (int)(seq->data.sequence.items.top - items);
    }
    if (aipm_strmap_reserve(map, n) != 0)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        if ((rc = aipm_strmap_put(map, keys[i], strlen(keys[i]), &idx,
                                  &added)) != 0)
            return aipm_error_set(w->err, rc == AIPM_ENOMEM ? rc : AIPM_ERROR,
                                  "%s: too many names", what);
        if (!added) {
            yaml_node_t *first =
                idx < n_items ? yaml_document_get_node(w->doc, items[idx])
                              : NULL;
            yaml_node_t *again =
                i < n_items ? yaml_document_get_node(w->doc, items[i]) : seq;
            char msg[240];

            snprintf(msg, sizeof(msg),
                     "%s '%.80s' is given twice (first on line %lu); each "
                     "must be unique",
                     what, keys[i],
                     first ? (unsigned long)first->start_mark.line + 1 : 0UL);
            return aipm_config__bad(w, again, msg);
        }
    }
    return AIPM_OK;
}

/* refuse_duplicates over an array of structs whose first member is the
 * char *key (aipm_metric, aipm_kpi, aipm_experiment_def). */
_Static_assert(offsetof(aipm_metric, key) == 0, "key first");
_Static_assert(offsetof(aipm_kpi, key) == 0, "key first");
_Static_assert(offsetof(aipm_experiment_def, key) == 0, "key first");
static int unique_keys(walk *w, yaml_node_t *seq, const char *what,
                       const void *base, size_t stride, int n)
{
    aipm_strmap map;
    char **keys = malloc(((size_t)n + 1) * sizeof(char *));
    int i, rc;

    if (keys == NULL)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    for (i = 0; i < n; i++)
        memcpy(&keys[i], (const char *)base + (size_t)i * stride,
               sizeof(char *));
    aipm_strmap_init(&map, n + 1);
    rc = refuse_duplicates(w, seq, what, keys, n, &map);
    aipm_strmap_free(&map);
    free(keys);
    return rc;
}

static int load_catalog(walk *w, aipm_config *cfg, yaml_node_t *n)
{
    yaml_node_item_t *it;
    aipm_strmap keys;
    char **keys_of = NULL;
    int rc, i, j;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_SEQUENCE_NODE)
        return aipm_config__bad(w, n, "catalog: expected a list of features");
    cfg->catalog = calloc(
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) + 1,
        sizeof(aipm_feature));
    if (cfg->catalog == NULL)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *f = yaml_document_get_node(w->doc, *it);
        aipm_feature *feat = &cfg->catalog[cfg->n_catalog++];

        if (f == NULL || f->type != YAML_MAPPING_NODE)
            return aipm_config__bad(w, f, "catalog: each feature is a mapping");
        if ((rc = aipm_config__get_str(w, f, "key", &feat->key)) != 0 ||
            (rc = aipm_config__get_str(w, f, "name", &feat->name)) != 0 ||
            (rc = aipm_config__get_str(w, f, "area", &feat->area)) != 0 ||
            (rc = aipm_config__get_str(w, f, "launched_at",
                                       &feat->launched_at)) != 0 ||
            (rc = aipm_config__get_list(w, f, "events", &feat->events,
                                        &feat->n_events)) != 0 ||
            (rc = aipm_config__get_list(w, f, "depends_on", &feat->depends_on,
                                        &feat->n_depends_on)) != 0)
            return rc;
        if (feat->key == NULL || *feat->key == '\0')
            return aipm_config__bad(w, f, "catalog: a feature needs a key");
        if (feat->n_events == 0)
            return aipm_config__bad(w, f,
                                    "catalog: a feature needs events: [...]");
        if (feat->launched_at) {
            int64_t ms;

            if (aipm_time_parse(&ms, feat->launched_at,
                                strlen(feat->launched_at), 1) != 0)
                return aipm_config__bad(
                    w, aipm_yaml_get(w, f, "launched_at"),
                    "catalog: launched_at is not an ISO 8601 date");
        }
    }
    /* Keys are unique, and depends_on must name features of the catalog:
     * both through one hash map (they were quadratic). */
    aipm_strmap_init(&keys, cfg->n_catalog + 1);
    if ((keys_of = malloc(((size_t)cfg->n_catalog + 1) * sizeof(char *))) ==
        NULL) {
        rc = aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < cfg->n_catalog; i++)
        keys_of[i] = cfg->catalog[i].key;
    if ((rc = refuse_duplicates(w, n, "catalog: feature key", keys_of,
                                cfg->n_catalog, &keys)) != 0)
        goto done;
    it = n->data.sequence.items.start;
    for (i = 0; i < cfg->n_catalog; i++, it++)
        for (j = 0; j < cfg->catalog[i].n_depends_on; j++) {
            const char *dep = cfg->catalog[i].depends_on[j];

            if (aipm_strmap_find(&keys, dep, strlen(dep)) < 0) {
                char msg[200];

                snprintf(msg, sizeof(msg),
                         "catalog: '%.60s' depends on unknown feature "
                         "'%.60s'",
                         cfg->catalog[i].key, dep);
                rc = aipm_config__bad(w, yaml_document_get_node(w->doc, *it),
                                      msg);
                goto done;
            }
        }
done:
    free(keys_of);
    aipm_strmap_free(&keys);
    return rc;
}

static void free_list(char **list, int n);

static const char *const metric_types[] = {"count", "conversion", "retention",
                                           "sum",   "ratio",      "adoption"};

const char *aipm_metric_type_name(aipm_metric_type t)
{
    return (unsigned)t < 6 ? metric_types[t] : "?";
}

static int get_int(walk *w, yaml_node_t *map, const char *key, int *out)
{
    double v = *out;
    int rc = aipm_config__get_num(w, map, key, &v);

    if (rc == 0 && (v != floor(v) || v < 0 || v > 100000))
        return aipm_config__bad(w, aipm_yaml_get(w, map, key),
                                "expected a whole number");
    *out = (int)v;
    return rc;
}

static int get_direction(walk *w, yaml_node_t *map, int *down)
{
    yaml_node_t *n = aipm_yaml_get(w, map, "direction");
    const char *s = aipm_yaml_scalar(n);

    *down = 0;
    if (n == NULL)
        return AIPM_OK;
    if (s && strcmp(s, "down") == 0)
        *down = 1;
    else if (!s || strcmp(s, "up") != 0)
        return aipm_config__bad(w, n, "direction must be up or down");
    return AIPM_OK;
}

static int get_date(walk *w, yaml_node_t *map, const char *key, int64_t *out)
{
    yaml_node_t *n = aipm_yaml_get(w, map, key);
    const char *s = aipm_yaml_scalar(n);

    *out = 0;
    if (n == NULL)
        return AIPM_OK;
    if (s == NULL || aipm_time_parse(out, s, strlen(s), 1) != AIPM_OK) {
        char msg[96];

        snprintf(msg, sizeof(msg), "%s is not an ISO 8601 date", key);
        return aipm_config__bad(w, n, msg);
    }
    return AIPM_OK;
}

static int load_metric(walk *w, aipm_metric *m, yaml_node_t *n)
{
    yaml_node_t *where = aipm_yaml_get(w, n, "where"),
                *cap = aipm_yaml_get(w, n, "cap");
    char *type = NULL, *unit = NULL;
    int rc, i, found = 0;

    if (n == NULL || n->type != YAML_MAPPING_NODE)
        return aipm_config__bad(w, n, "metrics: each metric is a mapping");
    if ((rc = aipm_config__get_str(w, n, "key", &m->key)) != 0 ||
        (rc = aipm_config__get_str(w, n, "type", &type)) != 0 ||
        (rc = aipm_config__get_str(w, n, "event", &m->event)) != 0 ||
        (rc = aipm_config__get_str(w, n, "property", &m->property)) != 0 ||
        (rc = aipm_config__get_str(w, n, "numerator", &m->numerator)) != 0 ||
        (rc = aipm_config__get_str(w, n, "denominator", &m->denominator)) !=
            0 ||
        (rc = aipm_config__get_str(w, n, "feature", &m->feature)) != 0 ||
        (rc = aipm_config__get_str(w, n, "unit", &unit)) != 0 ||
        (rc = get_int(w, n, "window_days", &m->window_days)) != 0 ||
        (rc = get_int(w, n, "from_day", &m->from_day)) != 0 ||
        (rc = get_int(w, n, "to_day", &m->to_day)) != 0 ||
        (rc = get_direction(w, n, &m->direction_down)) != 0)
        goto done;
    if (m->key == NULL || *m->key == '\0') {
        rc = aipm_config__bad(w, n, "metrics: a metric needs a key");
        goto done;
    }
    for (i = 0; type && i < 6; i++)
        if (strcmp(type, metric_types[i]) == 0) {
            m->type = (aipm_metric_type)i;
            found = 1;
        }
    if (!found) {
        rc = aipm_config__bad(
            w, n,
            "metrics: type must be count, conversion, retention, sum, "
            "ratio or adoption");
        goto done;
    }
    if (unit && strcmp(unit, "account") == 0)
        m->unit_account = 1;
    else if (unit && strcmp(unit, "user") != 0) {
        rc = aipm_config__bad(w, aipm_yaml_get(w, n, "unit"),
                              "unit must be user or account");
        goto done;
    }
    if ((m->type == AIPM_METRIC_COUNT || m->type == AIPM_METRIC_CONVERSION ||
         m->type == AIPM_METRIC_SUM) &&
        m->event == NULL) {
        rc = aipm_config__bad(
            w, n, "metrics: count, conversion and sum need an event");
        goto done;
    }
    if (m->type == AIPM_METRIC_SUM && m->property == NULL) {
        rc = aipm_config__bad(w, n, "metrics: sum needs a property");
        goto done;
    }
    if (m->type == AIPM_METRIC_RATIO &&
        (m->numerator == NULL || m->denominator == NULL)) {
        rc = aipm_config__bad(w, n,
                              "metrics: ratio needs numerator and denominator");
        goto done;
    }
    if (m->type == AIPM_METRIC_ADOPTION && m->feature == NULL) {
        rc = aipm_config__bad(w, n, "metrics: adoption needs a feature");
        goto done;
    }
    if (m->type == AIPM_METRIC_RETENTION && m->to_day < m->from_day) {
        rc = aipm_config__bad(w, n,
                              "metrics: retention needs from_day <= to_day");
        goto done;
    }
    if (where) {
        yaml_node_pair_t *p = where->type == YAML_MAPPING_NODE
                                  ? where->data.mapping.pairs.start
                                  : NULL;

        if (p == NULL || where->data.mapping.pairs.top - p != 1 ||
            !aipm_yaml_scalar(yaml_document_get_node(w->doc, p->key)) ||
            !aipm_yaml_scalar(yaml_document_get_node(w->doc, p->value))) {
            rc = aipm_config__bad(w, where,
                                  "where: one property and its value, e.g. "
                                  "{plan: pro}");
            goto done;
        }
        m->where_key =
            strdup(aipm_yaml_scalar(yaml_document_get_node(w->doc, p->key)));
        m->where_value =
            strdup(aipm_yaml_scalar(yaml_document_get_node(w->doc, p->value)));
    }
    if (cap && cap->type != YAML_MAPPING_NODE) {
        rc = aipm_config__bad(w, cap, "cap: {percentile: P} or {value: X}");
        goto done;
    }
    if (cap) {
        if ((rc = aipm_config__get_num(w, cap, "percentile",
                                       &m->cap_percentile)) != 0 ||
            (rc = aipm_config__get_num(w, cap, "value", &m->cap_value)) != 0)
            goto done;
        if (m->cap_percentile < 0 || m->cap_percentile >= 1 ||
            m->cap_value < 0) {
            rc = aipm_config__bad(w, cap,
                                  "cap: percentile in (0, 1) or a value >= 0");
            goto done;
        }
    }
done:
    free(type);
    free(unit);
    return rc;
}

static int load_metrics(walk *w, aipm_config *cfg, yaml_node_t *n)
{
    yaml_node_item_t *it;
    int rc, i;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_SEQUENCE_NODE)
        return aipm_config__bad(w, n, "metrics: expected a list");
    cfg->metrics = calloc(
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) + 1,
        sizeof(aipm_metric));
    if (cfg->metrics == NULL)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *m = yaml_document_get_node(w->doc, *it);

        if ((rc = load_metric(w, &cfg->metrics[cfg->n_metrics++], m)) != 0)
            return rc;
    }
    if ((rc = unique_keys(w, n, "metrics: key", cfg->metrics,
                          sizeof(cfg->metrics[0]), cfg->n_metrics)) != 0)
        return rc;
    /* References must resolve. */
    for (i = 0; i < cfg->n_metrics; i++) {
        aipm_metric *m = &cfg->metrics[i];

        if (m->type == AIPM_METRIC_RATIO &&
            (!aipm_config_metric(cfg, m->numerator) ||
             !aipm_config_metric(cfg, m->denominator)))
            return aipm_config__bad(w, n,
                                    "metrics: a ratio names an unknown metric");
    }
    return AIPM_OK;
}

static int load_kpis(walk *w, aipm_config *cfg, yaml_node_t *n)
{
    yaml_node_item_t *it;
    int rc;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_SEQUENCE_NODE)
        return aipm_config__bad(w, n, "kpis: expected a list");
    cfg->kpis = calloc(
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) + 1,
        sizeof(aipm_kpi));
    if (cfg->kpis == NULL)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, *it);
        aipm_kpi *kpi = &cfg->kpis[cfg->n_kpis++];

        if (k == NULL || k->type != YAML_MAPPING_NODE)
            return aipm_config__bad(w, k, "kpis: each KPI is a mapping");
        kpi->target = NAN;
        if ((rc = aipm_config__get_str(w, k, "key", &kpi->key)) != 0 ||
            (rc = aipm_config__get_str(w, k, "metric", &kpi->metric)) != 0 ||
            (rc = aipm_config__get_num(w, k, "target", &kpi->target)) != 0 ||
            (rc = get_direction(w, k, &kpi->direction_down)) != 0)
            return rc;
        kpi->has_target = !isnan(kpi->target);
        if (kpi->key == NULL || kpi->metric == NULL)
            return aipm_config__bad(w, k,
                                    "kpis: a KPI needs a key and a metric");
        if (aipm_config_metric(cfg, kpi->metric) == NULL)
            return aipm_config__bad(w, k, "kpis: the metric is not in metrics");
    }
    /* Analysis takes the first of two KPIs with one key: refuse the copy. */
    return unique_keys(w, n, "kpis: key", cfg->kpis, sizeof(cfg->kpis[0]),
                       cfg->n_kpis);
}

/* weights: one positive number per variation, summing to 1 (within 1e-6,
 * for decimals such as [0.333333, 0.333333, 0.333334]); absent, equal
 * weights. They are what the sample-ratio check expects, so a wrong count
 * or sum is refused rather than normalised into something not meant. */
static int load_weights(walk *w, aipm_experiment_def *e, yaml_node_t *n)
{
    yaml_node_item_t *it;
    double total = 0;
    char msg[200];
    int i = 0, count;

    e->weights = calloc((size_t)e->n_variations, sizeof(double));
    if (e->weights == NULL)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    if (n == NULL) {
        for (i = 0; i < e->n_variations; i++)
            e->weights[i] = 1.0 / e->n_variations;
        return AIPM_OK;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return aipm_config__bad(
            w, n,
            "experiments: weights is a list, one number per "
            "variation, e.g. [0.5, 0.5]");
    count = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count != e->n_variations) {
        snprintf(msg, sizeof(msg),
                 "experiments: %d weights for %d variations; give one "
                 "weight per variation",
                 count, e->n_variations);
        return aipm_config__bad(w, n, msg);
    }
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++, i++) {
        yaml_node_t *item = yaml_document_get_node(w->doc, *it);
        const char *s = aipm_yaml_scalar(item);
        double v = 0;

        if (s == NULL || aipm_decimal_parse(s, &v) != 0 || !(v > 0)) {
            snprintf(msg, sizeof(msg),
                     "experiments: weight '%.40s' is not a positive number",
                     s ? s : "(a list or mapping)");
            return aipm_config__bad(w, item ? item : n, msg);
        }
        e->weights[i] = v;
        total += v;
    }
    if (fabs(total - 1) > 1e-6) {
        snprintf(msg, sizeof(msg),
                 "experiments: weights sum to %.9g, not 1; e.g. [0.5, 0.5]",
                 total);
        return aipm_config__bad(w, n, msg);
    }
    for (i = 0; i < e->n_variations; i++)
        e->weights[i] /= total;
    return AIPM_OK;
}

static int load_experiments(walk *w, aipm_config *cfg, yaml_node_t *n)
{
    yaml_node_item_t *it;
    aipm_strmap names;
    int rc, i;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_SEQUENCE_NODE)
        return aipm_config__bad(w, n, "experiments: expected a list");
    cfg->experiments = calloc(
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) + 1,
        sizeof(aipm_experiment_def));
    if (cfg->experiments == NULL)
        return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *x = yaml_document_get_node(w->doc, *it);
        aipm_experiment_def *e = &cfg->experiments[cfg->n_experiments++];

        if (x == NULL || x->type != YAML_MAPPING_NODE)
            return aipm_config__bad(
                w, x, "experiments: each experiment is a mapping");
        if ((rc = aipm_config__get_str(w, x, "key", &e->key)) != 0 ||
            (rc = aipm_config__get_list(w, x, "variations", &e->variations,
                                        &e->n_variations)) != 0 ||
            (rc = aipm_config__get_list(w, x, "metrics", &e->metrics,
                                        &e->n_metrics)) != 0 ||
            (rc = aipm_config__get_list(w, x, "guardrails", &e->guardrails,
                                        &e->n_guardrails)) != 0 ||
            (rc = get_date(w, x, "start", &e->start_ms)) != 0 ||
            (rc = get_date(w, x, "end", &e->end_ms)) != 0)
            return rc;
        if (e->key == NULL || e->n_variations < 2)
            return aipm_config__bad(w, x,
                                    "experiments: a key and two or more "
                                    "variations are needed");
        aipm_strmap_init(&names, e->n_variations + 1);
        rc = refuse_duplicates(w, aipm_yaml_get(w, x, "variations"),
                               "experiments: variation", e->variations,
                               e->n_variations, &names);
        aipm_strmap_free(&names);
        if (rc != 0)
            return rc;
        if ((rc = load_weights(w, e, aipm_yaml_get(w, x, "weights"))) != 0)
            return rc;
        for (i = 0; i < e->n_metrics + e->n_guardrails; i++) {
            const char *k = i < e->n_metrics ? e->metrics[i]
                                             : e->guardrails[i - e->n_metrics];

            if (aipm_config_metric(cfg, k) == NULL) {
                char msg[200];

                snprintf(msg, sizeof(msg),
                         "experiments: '%.60s' uses unknown metric '%.60s'",
                         e->key, k);
                return aipm_config__bad(w, x, msg);
            }
        }
        if (e->end_ms && e->start_ms && e->end_ms < e->start_ms)
            return aipm_config__bad(w, x, "experiments: end is before start");
    }
    /* Analysis takes the first of two experiments with one key. */
    return unique_keys(w, n, "experiments: key", cfg->experiments,
                       sizeof(cfg->experiments[0]), cfg->n_experiments);
}

const aipm_metric *aipm_config_metric(const aipm_config *cfg, const char *key)
{
    int i;

    for (i = 0; key && i < cfg->n_metrics; i++)
        if (cfg->metrics[i].key && strcmp(cfg->metrics[i].key, key) == 0)
            return &cfg->metrics[i];
    return NULL;
}

const aipm_feature *aipm_config_feature(const aipm_config *cfg, const char *key)
{
    int i;

    for (i = 0; key && i < cfg->n_catalog; i++)
        if (strcmp(cfg->catalog[i].key, key) == 0)
            return &cfg->catalog[i];
    return NULL;
}

const aipm_experiment_def *aipm_config_experiment(const aipm_config *cfg,
                                                  const char *key)
{
    int i;

    for (i = 0; key && i < cfg->n_experiments; i++)
        if (strcmp(cfg->experiments[i].key, key) == 0)
            return &cfg->experiments[i];
    return NULL;
}

int aipm_config_load_buffer(aipm_config **out, const char *data, size_t len,
                            const char *name, aipm_error *err)
{
    yaml_document_t doc;
    yaml_node_t *root;
    aipm_config *cfg = NULL;
    walk w = {&doc, name, err};
    int rc = AIPM_OK;

    *out = NULL;
    if ((rc = aipm_yaml_load(&doc, data, len, name, &profile, err)) != 0)
        return rc;
    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    aipm_data_policy_defaults(&cfg->data);
    aipm_config__model_defaults(&cfg->models);
    aipm_config__monitor_defaults(&cfg->monitor);
    aipm_config__scenario_defaults(&cfg->scenarios);
    root = yaml_document_get_root_node(&doc);
    if (root == NULL)
        goto done; /* an empty file: all defaults */
    if (root->type != YAML_MAPPING_NODE) {
        rc = aipm_config__bad(&w, root, "expected a mapping at the top level");
        goto done;
    }
    if ((rc = aipm_yaml_check_keys(&w, root, top_keys, "", &profile)) != 0 ||
        (rc = aipm_config__get_str(&w, root, "product", &cfg->product)) != 0 ||
        (rc = aipm_config__get_str(&w, root, "store", &cfg->store)) != 0 ||
        (rc = aipm_config__get_str(&w, root, "events_store",
                                   &cfg->events_store)) != 0 ||
        (rc = load_catalog(&w, cfg, aipm_yaml_get(&w, root, "catalog"))) != 0 ||
        (rc = load_metrics(&w, cfg, aipm_yaml_get(&w, root, "metrics"))) != 0 ||
        (rc = load_kpis(&w, cfg, aipm_yaml_get(&w, root, "kpis"))) != 0 ||
        (rc = load_experiments(&w, cfg,
                               aipm_yaml_get(&w, root, "experiments"))) != 0 ||
        (rc = aipm_config__load_policies(
             &w, cfg, aipm_yaml_get(&w, root, "policies"))) != 0)
        goto done;
done:
    yaml_document_delete(&doc);
    if (rc) {
        aipm_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return AIPM_OK;
}

int aipm_config_load(aipm_config **out, const char *path, aipm_error *err)
{
    struct stat sb;
    char *data = NULL;
    size_t len = 0;
    ssize_t n;
    int fd, rc;

    *out = NULL;
    /* O_NONBLOCK: a FIFO named aipm.yaml must not hang the open. */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return aipm_error_set(err, errno == ENOENT ? AIPM_ENOTFOUND : AIPM_EIO,
                              "%s: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0) {
        rc = aipm_error_set(err, AIPM_EIO, "%s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "%s is not a regular file; aipm.yaml must be one",
                            path);
        goto done;
    }
    if (sb.st_size > AIPM_CONFIG_MAX_BYTES) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "%s: %lld bytes, over the %d an aipm.yaml may "
                            "have; is it the right file?",
                            path, (long long)sb.st_size, AIPM_CONFIG_MAX_BYTES);
        goto done;
    }
    /* One byte more than the limit, to see a file that grew meanwhile. */
    if ((data = malloc((size_t)AIPM_CONFIG_MAX_BYTES + 2)) == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    while (len <= AIPM_CONFIG_MAX_BYTES &&
           (n = read(fd, data + len, AIPM_CONFIG_MAX_BYTES + 1 - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = aipm_error_set(err, AIPM_EIO, "%s: %s", path, strerror(errno));
            goto done;
        }
        len += (size_t)n;
    }
    data[len] = '\0';
    rc = aipm_config_load_buffer(out, data, len, path, err);
done:
    free(data);
    close(fd);
    return rc;
}

int aipm_config_new_default(aipm_config **out, aipm_error *err)
{
    *out = calloc(1, sizeof(**out));
    if (*out == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    aipm_data_policy_defaults(&(*out)->data);
    aipm_config__model_defaults(&(*out)->models);
    aipm_config__monitor_defaults(&(*out)->monitor);
    aipm_config__scenario_defaults(&(*out)->scenarios);
    return AIPM_OK;
}

static void free_list(char **list, int n)
{
    int i;

    for (i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void aipm_config_free(aipm_config *cfg)
{
    int i;

    if (cfg == NULL)
        return;
    for (i = 0; i < cfg->n_catalog; i++) {
        aipm_feature *f = &cfg->catalog[i];

        free(f->key);
        free(f->name);
        free(f->area);
        free(f->launched_at);
        free_list(f->events, f->n_events);
        free_list(f->depends_on, f->n_depends_on);
    }
    free(cfg->catalog);
    for (i = 0; i < cfg->n_metrics; i++) {
        aipm_metric *m = &cfg->metrics[i];

        free(m->key);
        free(m->event);
        free(m->property);
        free(m->numerator);
        free(m->denominator);
        free(m->feature);
        free(m->where_key);
        free(m->where_value);
    }
    free(cfg->metrics);
    for (i = 0; i < cfg->n_kpis; i++) {
        free(cfg->kpis[i].key);
        free(cfg->kpis[i].metric);
    }
    free(cfg->kpis);
    for (i = 0; i < cfg->n_experiments; i++) {
        aipm_experiment_def *e = &cfg->experiments[i];

        free(e->key);
        free_list(e->variations, e->n_variations);
        free_list(e->metrics, e->n_metrics);
        free_list(e->guardrails, e->n_guardrails);
        free(e->weights);
    }
    free(cfg->experiments);
    aipm_config__free_policies(cfg);
    free(cfg->product);
    free(cfg->store);
    free(cfg->events_store);
    free(cfg);
}

const char *aipm_config_template(void)
{
    return "# aipm.yaml - the workspace file. `aipm help` lists the commands;\n"
           "# docs/config.md documents every key. Dates are ISO 8601. An\n"
           "# unknown or misspelled key is an error naming its line.\n"
           "\n"
           "product: My Product\n"
           "store: aipm.db            # a path (SQLite, relative to this file)"
           "\n"
           "\n"
           "# Product features, each mapped to the events that mean "
           "\"used it\".\n"
           "# Ingest reports how many rows of each batch hit each feature.\n"
           "catalog:\n"
           "  - key: export\n"
           "    name: Report export\n"
           "    area: reporting\n"
           "    events: [Report Exported]\n"
           "    launched_at: 2026-03-01\n"
           "    depends_on: []\n"
           "\n"
           "# Metrics over units (user by default). Used by `aipm kpi` and\n"
           "# `aipm experiment`: count | conversion | retention | sum |\n"
           "# ratio | adoption.\n"
           "metrics: []\n"
           "#  - {key: exports, type: count, event: Report Exported}\n"
           "\n"
           "# KPIs: a metric with a target and a direction (up | down).\n"
           "kpis: []\n"
           "#  - {key: activation, metric: purchase, target: 0.40, "
           "direction: up}\n"
           "\n"
           "# A/B experiments (the first variation is the control; weights:\n"
           "# one positive number per variation, summing to 1).\n"
           "experiments: []\n"
           "#  - key: new_onboarding\n"
           "#    variations: [control, treatment]\n"
           "#    weights: [0.5, 0.5]\n"
           "#    metrics: [exports]\n"
           "#    start: 2026-05-01\n"
           "\n"
           "policies:\n"
           "  # Ingest quality gates. A batch over max_quarantine_share, or a\n"
           "  # property type change under on_schema_change: block, is stored\n"
           "  # but staged (invisible to analyses) until `aipm data accept`.\n"
           "  data:\n"
           "    max_quarantine_share: 0.05\n"
           "    on_schema_change: warn     # warn | block\n"
           "    max_staleness_hours: 48    # warn when the newest row is "
           "older\n"
           "    volume_low: 0.5            # warn below 0.5x the trailing "
           "daily mean\n"
           "    volume_high: 2.0           # warn above 2x the trailing "
           "daily mean\n"
           "  # A model version reaches production only within these bounds\n"
           "  # on its holdout, and with the approvals policies.decisions\n"
           "  # asks of kind model (`aipm model promote`).\n"
           "  # models:\n"
           "  #   promote:\n"
           "  #     - {model: value, min: {spearman: 0.3}}\n"
           "  #     - {model: adoption, min: {auc: 0.6}, max: {ece: 0.05},\n"
           "  #        on_alert: rollback}\n"
           "  # When `aipm monitor` alerts (docs/config.md).\n"
           "  # monitor: {dataset_drift_share: 0.5, max_ece: 0.1}\n";
}
