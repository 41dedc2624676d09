/* scenario.c - read and check the scenario file of `aipm simulate`.
 *
 * The loader follows config.c's for aipm.yaml, in the same three passes,
 * and shares its first two (yaml_strict.h: the event pass, the key check
 * with its did-you-mean), given this file's limits and messages by the
 * profile below. First libyaml's event parser reads the bytes once to
 * refuse what the tree must never hold: nesting deeper than
 * AIPM_SCENARIO_MAX_DEPTH, aliases and a second document. Then the tree
 * is checked against the table of known keys: an unknown key at any
 * level, or one given twice in a mapping, is an error naming its line,
 * with a did-you-mean from the known keys of that mapping (or the
 * mapping below it where the key belongs, such as an `effort:` written
 * outside `assume:`). Last the typed pass reads every value into the
 * structs of scenario.h, checks its type and range, fills the defaults
 * and checks what ties values together: unique names, the baseline, an
 * assumption about an item the scenario builds. Every refusal names the
 * file and line of the value at fault; nothing is ignored, because an
 * ignored key or assumption silently changes a recommendation.
 *
 * Every check is linear in the file (names and ids go through hash
 * maps), so the 1 MiB limit bounds the time too. Arrays are allocated
 * zeroed at their full count and their count raised as entries fill,
 * so aipm_scenario_file_free releases a half-loaded file.
 *
 * The canonical JSON is written by hand rather than by jansson, for two
 * properties jansson's dump lacks: numbers in their shortest form that
 * reads back to the same double (0.05, not 0.050000000000000003), and
 * strings that libyaml reads back (the line separators and C1 controls
 * YAML folds or refuses are \u escapes), so the JSON loads as a scenario
 * file to the same JSON - the property the fuzz target checks.
 */
#include "aipm/scenario.h"
#include "aipm/yaml_strict.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef aipm_yaml_walk walk;

static unsigned long line_of(const yaml_node_t *n)
{
    return n ? (unsigned long)n->start_mark.line + 1 : 1UL;
}

/* An error naming the file and n's line (AIPM_EINVALID). */
static int bad(walk *w, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(walk *w, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = aipm_yaml_vbad(w, line_of(n), fmt, ap);
    va_end(ap);
    return rc;
}

static int nomem(walk *w)
{
    return aipm_error_set(w->err, AIPM_ENOMEM, "out of memory");
}

static yaml_node_t *node(walk *w, int id)
{
    return yaml_document_get_node(w->doc, id);
}

static int seq_len(const yaml_node_t *n)
{
    return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static int map_len(const yaml_node_t *n)
{
    return (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

/* ---- known keys ---- */

/* sub: the keys of the mapping the value holds (or of each mapping in
 * the list it holds); NULL: a scalar, a list of scalars or a map of item
 * ids (effort, value), which their loaders check. */
typedef aipm_yaml_keyspec keyspec;

static const keyspec objective_keys[] = {
    {"kpi", NULL}, {"horizon_days", NULL}, {NULL, NULL}};
static const keyspec capacity_keys[] = {
    {"weeks_per_period", NULL}, {"periods", NULL}, {NULL, NULL}};
static const keyspec rollout_keys[] = {{"feature", NULL},
                                       {"segments", NULL},
                                       {"start", NULL},
                                       {"ramp_days", NULL},
                                       {NULL, NULL}};
static const keyspec experiment_keys[] = {
    {"experiment", NULL}, {"ship", NULL}, {NULL, NULL}};
static const keyspec assume_keys[] = {
    {"effort", NULL}, {"value", NULL}, {"market_growth", NULL}, {NULL, NULL}};
static const keyspec scenario_keys[] = {{"name", NULL},
                                        {"description", NULL},
                                        {"build", NULL},
                                        {"rollouts", rollout_keys},
                                        {"experiments", experiment_keys},
                                        {"assume", assume_keys},
                                        {NULL, NULL}};
static const keyspec top_keys[] = {
    {"objective", objective_keys}, {"baseline", NULL},
    {"risk_aversion", NULL},       {"tail", NULL},
    {"capacity", capacity_keys},   {"budget", NULL},
    {"scenarios", scenario_keys},  {NULL, NULL}};

/* The scenario file's messages and limits for the shared strict passes:
 * the key check also names the mapping below where an unknown key
 * belongs, shows keys cut and cleaned, and walks lists in lists. */
static const aipm_yaml_profile profile = {
    "a scenario file",
    "a scenario file",
    "six",
    "docs/scenarios.md",
    AIPM_SCENARIO_MAX_BYTES,
    AIPM_SCENARIO_MAX_DEPTH,
    AIPM_YAML_SHOWN_KEYS | AIPM_YAML_HINT_BELOW | AIPM_YAML_NESTED_LISTS};

/* ---- typed values ---- */

enum { TEXT_ID = 0, TEXT_NAME = 1, TEXT_PROSE = 2 };

/* The length of the UTF-8 character at s (valid UTF-8: libyaml checked)
 * and its code point. */
static size_t utf8_char(const unsigned char *s, unsigned *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] < 0xE0) {
        *cp = (unsigned)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
        return 2;
    }
    if (s[0] < 0xF0) {
        *cp = (unsigned)(s[0] & 0x0F) << 12 | (unsigned)(s[1] & 0x3F) << 6 |
              (s[2] & 0x3F);
        return 3;
    }
    *cp = (unsigned)(s[0] & 0x07) << 18 | (unsigned)(s[1] & 0x3F) << 12 |
          (unsigned)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
    return 4;
}

/* n's text into *out (a copy), checked: a scalar, not empty, at most max
 * bytes, no NUL or control character (TEXT_PROSE allows newline and
 * tab), and for TEXT_NAME only [A-Za-z0-9_-]. what names the value. */
static int text(walk *w, yaml_node_t *n, const char *what, int kind, size_t max,
                char **out)
{
    const char *s = aipm_yaml_scalar(n);
    size_t len, i, step;

    *out = NULL;
    if (s == NULL)
        return bad(w, n, "%s: expected a text value, not a %s", what,
                   n && n->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
    len = n->data.scalar.length;
    if (len == 0)
        return bad(w, n, "%s is empty", what);
    if (len > max)
        return bad(w, n, "%s is %zu bytes long, over the %zu allowed", what,
                   len, max);
    if (strlen(s) != len || !aipm_utf8_valid(s, len))
        return bad(w, n, "%s holds a NUL byte or invalid UTF-8", what);
    for (i = 0; i < len; i += step) {
        unsigned cp;

        step = utf8_char((const unsigned char *)s + i, &cp);
        if ((cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) &&
            !(kind == TEXT_PROSE && (cp == '\n' || cp == '\t')))
            return bad(w, n, "%s holds a control character (U+%04X)", what, cp);
    }
    for (i = 0; kind == TEXT_NAME && i < len; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return bad(w, n,
                       "%s '%.64s' may hold only letters, digits, _ and - "
                       "(A-Z, a-z, 0-9)",
                       what, s);
    if ((*out = strdup(s)) == NULL)
        return nomem(w);
    return AIPM_OK;
}

static int number(walk *w, yaml_node_t *n, const char *what, double *out)
{
    const char *s = aipm_yaml_scalar(n);
    char got[41];

    if (s == NULL)
        return bad(w, n, "%s: expected a decimal number, not a %s", what,
                   n->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
    if (*s == '\0' || aipm_decimal_parse(s, out) != 0)
        return bad(w, n,
                   "%s: expected a decimal number (like 3 or 0.05), got "
                   "'%s'",
                   what, aipm_yaml_shown(got, sizeof(got), s));
    return AIPM_OK;
}

static int whole(walk *w, yaml_node_t *n, const char *what, int min, int max,
                 int *out)
{
    double v;
    int rc;

    if ((rc = number(w, n, what, &v)) != 0)
        return rc;
    if (v != floor(v) || v < min || v > max)
        return bad(w, n, "%s must be a whole number from %d to %d, got %s",
                   what, min, max, aipm_yaml_scalar(n));
    *out = (int)v;
    return AIPM_OK;
}

/* Dates run from 1970-01-01 (a plan's dates are never before the epoch;
 * a date-time with an offset could otherwise land in a year before 0000,
 * which the canonical form cannot write) to 9999-12-31T23:59:59.999Z:
 * DATE_END_MS is the first ms past it. */
#define DATE_MIN_MS 0LL
#define DATE_END_MS 253402300800000LL

static int date(walk *w, yaml_node_t *n, const char *what, int64_t *out)
{
    const char *s = aipm_yaml_scalar(n);

    if (s == NULL || aipm_time_parse(out, s, strlen(s), 1) != AIPM_OK)
        return bad(w, n,
                   "%s is not an ISO 8601 date (like 2027-01-15 or "
                   "2027-01-15T09:00:00Z)",
                   what);
    if (*out < DATE_MIN_MS || *out >= DATE_END_MS)
        return bad(w, n, "%s is outside 1970-01-01 .. 9999-12-31 (UTC)", what);
    return AIPM_OK;
}

/* n must be a list (or absent); its length into *count. */
static int list(walk *w, yaml_node_t *n, const char *what, int max, int *count)
{
    *count = 0;
    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_SEQUENCE_NODE)
        return bad(w, n, "%s: expected a list, e.g. [a, b] (or [] for none)",
                   what);
    *count = seq_len(n);
    if (*count > max)
        return bad(w, n, "%s: %d entries, over the %d allowed", what, *count,
                   max);
    return AIPM_OK;
}

/* Add key to map; when it is there already, *first receives the index it
 * has (else -1). The maps are bounded above what a file within the size
 * limit can fill, so a full map is a bug. */
static int remember(walk *w, aipm_strmap *map, const char *key, int *first)
{
    int idx, added, rc;

    *first = -1;
    if ((rc = aipm_strmap_put(map, key, strlen(key), &idx, &added)) != 0)
        return rc == AIPM_ENOMEM
                   ? nomem(w)
                   : aipm_error_set(w->err, AIPM_ERROR,
                                    "internal error: a name map is full");
    if (!added)
        *first = idx;
    return AIPM_OK;
}

/* ---- the sections ---- */

static int load_objective(walk *w, aipm_scenario_file *f, yaml_node_t *n,
                          yaml_node_t *root)
{
    aipm_scenario_objective *o = &f->objective;
    yaml_node_t *kpi, *horizon;
    int rc;

    if (n == NULL)
        return bad(w, root,
                   "objective: is missing; e.g. objective: {kpi: value, "
                   "horizon_days: 180}");
    if (n->type != YAML_MAPPING_NODE)
        return bad(w, n,
                   "objective: expected a mapping with kpi and "
                   "horizon_days");
    kpi = aipm_yaml_get(w, n, "kpi");
    horizon = aipm_yaml_get(w, n, "horizon_days");
    if (kpi == NULL || horizon == NULL)
        return bad(w, n, "objective: needs kpi and horizon_days");
    if ((rc = text(w, kpi, "objective.kpi", TEXT_ID, AIPM_SCENARIO_MAX_ID,
                   &o->kpi)) != 0 ||
        (rc = whole(w, horizon, "objective.horizon_days", 1,
                    AIPM_SCENARIO_MAX_DAYS, &o->horizon_days)) != 0)
        return rc;
    o->line = (int)line_of(kpi);
    if (strcmp(o->kpi, "value") == 0) {
        o->kind = AIPM_SCENARIO_KPI_VALUE;
    } else if (strncmp(o->kpi, "adopters:", 9) == 0) {
        o->kind = AIPM_SCENARIO_KPI_ADOPTERS;
        if (o->kpi[9] == '\0')
            return bad(w, kpi,
                       "objective.kpi: adopters: needs a feature, e.g. "
                       "adopters:export");
        if ((o->feature = strdup(o->kpi + 9)) == NULL)
            return nomem(w);
    } else {
        o->kind = AIPM_SCENARIO_KPI_CONFIG;
    }
    return AIPM_OK;
}

static int load_capacity(walk *w, aipm_scenario_file *f, yaml_node_t *n)
{
    yaml_node_t *weeks, *periods;
    int rc;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_MAPPING_NODE)
        return bad(w, n,
                   "capacity: expected a mapping with weeks_per_period "
                   "(and periods)");
    if ((weeks = aipm_yaml_get(w, n, "weeks_per_period")) == NULL)
        return bad(w, n, "capacity: needs weeks_per_period");
    f->has_capacity = 1;
    f->periods = 1;
    if ((rc = number(w, weeks, "capacity.weeks_per_period",
                     &f->weeks_per_period)) != 0)
        return rc;
    if (!(f->weeks_per_period > 0))
        return bad(w, weeks,
                   "capacity.weeks_per_period must be > 0 person-weeks");
    if ((periods = aipm_yaml_get(w, n, "periods")) != NULL &&
        (rc = whole(w, periods, "capacity.periods", 1,
                    f->objective.horizon_days, &f->periods)) != 0)
        return rc;
    return AIPM_OK;
}

static int load_build(walk *w, aipm_scenario *sc, yaml_node_t *n,
                      aipm_strmap *built)
{
    int i, count, first, rc;

    if ((rc = list(w, n, "build", AIPM_SCENARIO_MAX_ENTRIES, &count)) != 0)
        return rc;
    if (count == 0)
        return AIPM_OK;
    if ((sc->build = calloc((size_t)count, sizeof(*sc->build))) == NULL)
        return nomem(w);
    for (i = 0; i < count; i++) {
        yaml_node_t *item = node(w, n->data.sequence.items.start[i]);
        aipm_scenario_item *it = &sc->build[sc->n_build++];

        if ((rc = text(w, item, "build: an item id", TEXT_ID,
                       AIPM_SCENARIO_MAX_ID, &it->id)) != 0 ||
            (rc = remember(w, built, it->id, &first)) != 0)
            return rc;
        it->line = (int)line_of(item);
        if (first >= 0)
            return bad(w, item,
                       "build: item '%.80s' is listed twice (first on line "
                       "%d); list it once",
                       it->id, sc->build[first].line);
    }
    return AIPM_OK;
}

/* The first rollout before r of r's feature (with segment seg, or with
 * no segments when seg is "", or any when seg is NULL): for messages. */
static int first_rollout(const aipm_scenario *sc, int r, const char *seg)
{
    const char *feature = sc->rollouts[r].feature;
    int j, k;

    for (j = 0; j <= r; j++) {
        const aipm_scenario_rollout *ro = &sc->rollouts[j];

        if (strcmp(ro->feature, feature) != 0)
            continue;
        if (seg == NULL || (*seg == '\0' && ro->n_segments == 0))
            return j;
        for (k = 0; *seg && k < ro->n_segments; k++)
            if (strcmp(ro->segments[k], seg) == 0)
                return j;
    }
    return r;
}

/* One rollout per feature and segment: a second rollout of a feature to
 * a segment it already reaches (or to everyone, or to segments after
 * one to everyone) would leave its ramp ambiguous. seen holds
 * "feature\nsegment" for each segment reached and "feature\n" for a
 * rollout to everyone; features every feature rolled out. */
static int check_overlap(walk *w, const aipm_scenario *sc, int r,
                         yaml_node_t *n, aipm_strmap *seen,
                         aipm_strmap *features)
{
    const aipm_scenario_rollout *ro = &sc->rollouts[r];
    char key[2 * AIPM_SCENARIO_MAX_ID + 2];
    int i, first, rc;

    snprintf(key, sizeof(key), "%s\n", ro->feature);
    if (aipm_strmap_find(seen, key, strlen(key)) >= 0)
        return bad(w, n,
                   "rollouts: feature '%.80s' is rolled out to everyone on "
                   "line %d, so not again here; one rollout per feature "
                   "and segment",
                   ro->feature, sc->rollouts[first_rollout(sc, r, "")].line);
    if ((rc = remember(w, features, ro->feature, &first)) != 0)
        return rc;
    if (ro->n_segments == 0) {
        if (first >= 0)
            return bad(w, n,
                       "rollouts: feature '%.80s' is rolled out to everyone "
                       "here and to segments on line %d; one rollout per "
                       "feature and segment",
                       ro->feature,
                       sc->rollouts[first_rollout(sc, r, NULL)].line);
        return remember(w, seen, key, &first);
    }
    for (i = 0; i < ro->n_segments; i++) {
        snprintf(key, sizeof(key), "%s\n%s", ro->feature, ro->segments[i]);
        if ((rc = remember(w, seen, key, &first)) != 0)
            return rc;
        if (first >= 0)
            return bad(
                w, n,
                "rollouts: feature '%.80s' reaches segment '%.80s' "
                "twice (first on line %d); one rollout per feature "
                "and segment",
                ro->feature, ro->segments[i],
                sc->rollouts[first_rollout(sc, r, ro->segments[i])].line);
    }
    return AIPM_OK;
}

static int load_segments(walk *w, aipm_scenario_rollout *ro, yaml_node_t *n)
{
    int i, count, rc;

    if ((rc = list(w, n, "rollouts.segments", AIPM_SCENARIO_MAX_ENTRIES,
                   &count)) != 0)
        return rc;
    if (count == 0)
        return AIPM_OK;
    if ((ro->segments = calloc((size_t)count, sizeof(char *))) == NULL)
        return nomem(w);
    for (i = 0; i < count; i++) {
        yaml_node_t *item = node(w, n->data.sequence.items.start[i]);
        char *eq;

        if ((rc = text(w, item, "rollouts.segments: a segment", TEXT_ID,
                       AIPM_SCENARIO_MAX_ID,
                       &ro->segments[ro->n_segments++])) != 0)
            return rc;
        eq = strchr(ro->segments[i], '=');
        if (eq == NULL || eq == ro->segments[i] || eq[1] == '\0')
            return bad(w, item,
                       "rollouts.segments: '%.80s' is not property=value, "
                       "e.g. plan=pro",
                       ro->segments[i]);
    }
    return AIPM_OK;
}

static int load_rollouts(walk *w, aipm_scenario *sc, yaml_node_t *n)
{
    aipm_strmap seen, features;
    int i, count, rc;

    if ((rc = list(w, n, "rollouts", AIPM_SCENARIO_MAX_ENTRIES, &count)) != 0)
        return rc;
    if (count == 0)
        return AIPM_OK;
    if ((sc->rollouts = calloc((size_t)count, sizeof(*sc->rollouts))) == NULL)
        return nomem(w);
    /* Bounded by the file's size; 0: the map's own bound. */
    aipm_strmap_init(&seen, 0);
    aipm_strmap_init(&features, count + 1);
    for (i = 0; i < count; i++) {
        yaml_node_t *r = node(w, n->data.sequence.items.start[i]);
        aipm_scenario_rollout *ro = &sc->rollouts[sc->n_rollouts++];
        yaml_node_t *feature = aipm_yaml_get(w, r, "feature"),
                    *start = aipm_yaml_get(w, r, "start"),
                    *ramp = aipm_yaml_get(w, r, "ramp_days");

        ro->line = (int)line_of(r);
        if (r == NULL || r->type != YAML_MAPPING_NODE) {
            rc = bad(w, r,
                     "rollouts: each rollout is a mapping, e.g. {feature: "
                     "export, start: 2027-01-15}");
            goto done;
        }
        if (feature == NULL || start == NULL) {
            rc = bad(w, r, "rollouts: a rollout needs feature and start");
            goto done;
        }
        if ((rc = text(w, feature, "rollouts.feature", TEXT_ID,
                       AIPM_SCENARIO_MAX_ID, &ro->feature)) != 0 ||
            (rc = load_segments(w, ro, aipm_yaml_get(w, r, "segments"))) != 0 ||
            (rc = date(w, start, "rollouts.start", &ro->start_ms)) != 0 ||
            (ramp &&
             (rc = whole(w, ramp, "rollouts.ramp_days", 0,
                         AIPM_SCENARIO_MAX_DAYS, &ro->ramp_days)) != 0) ||
            (rc = check_overlap(w, sc, i, r, &seen, &features)) != 0)
            goto done;
    }
done:
    aipm_strmap_free(&seen);
    aipm_strmap_free(&features);
    return rc;
}

static int load_experiments(walk *w, aipm_scenario *sc, yaml_node_t *n)
{
    aipm_strmap seen;
    int i, count, first, rc;

    if ((rc = list(w, n, "experiments", AIPM_SCENARIO_MAX_ENTRIES, &count)) !=
        0)
        return rc;
    if (count == 0)
        return AIPM_OK;
    if ((sc->experiments = calloc((size_t)count, sizeof(*sc->experiments))) ==
        NULL)
        return nomem(w);
    aipm_strmap_init(&seen, count + 1);
    for (i = 0; i < count; i++) {
        yaml_node_t *x = node(w, n->data.sequence.items.start[i]);
        aipm_scenario_experiment *e = &sc->experiments[sc->n_experiments++];
        yaml_node_t *exp = aipm_yaml_get(w, x, "experiment"),
                    *ship = aipm_yaml_get(w, x, "ship");

        e->line = (int)line_of(x);
        if (x == NULL || x->type != YAML_MAPPING_NODE) {
            rc = bad(w, x,
                     "experiments: each entry is a mapping, e.g. "
                     "{experiment: new_onboarding, ship: treatment}");
            goto done;
        }
        if (exp == NULL || ship == NULL) {
            rc = bad(w, x, "experiments: an entry needs experiment and ship");
            goto done;
        }
        if ((rc = text(w, exp, "experiments.experiment", TEXT_ID,
                       AIPM_SCENARIO_MAX_ID, &e->experiment)) != 0 ||
            (rc = text(w, ship, "experiments.ship", TEXT_ID,
                       AIPM_SCENARIO_MAX_ID, &e->ship)) != 0 ||
            (rc = remember(w, &seen, e->experiment, &first)) != 0)
            goto done;
        if (first >= 0) {
            rc = bad(w, x,
                     "experiments: '%.80s' is decided twice (first on line "
                     "%d); ship one variation of it",
                     e->experiment, sc->experiments[first].line);
            goto done;
        }
    }
done:
    aipm_strmap_free(&seen);
    return rc;
}

/* assume.effort or assume.value: {item: number}, each item built by the
 * scenario (an assumption about an item it does not build would do
 * nothing, in silence), each once. positive: > 0, else >= 0. */
static int load_overrides(walk *w, aipm_scenario *sc, yaml_node_t *n,
                          const char *what, int positive,
                          const aipm_strmap *built,
                          aipm_scenario_override **out, int *n_out)
{
    yaml_node_pair_t *p;
    aipm_strmap seen;
    int count, first, i, rc = AIPM_OK;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_MAPPING_NODE)
        return bad(w, n, "%s: expected a mapping of item ids, e.g. {BL-12: 3}",
                   what);
    if ((count = map_len(n)) == 0)
        return AIPM_OK;
    if (count > AIPM_SCENARIO_MAX_ENTRIES)
        return bad(w, n, "%s: %d entries, over the %d allowed", what, count,
                   AIPM_SCENARIO_MAX_ENTRIES);
    if ((*out = calloc((size_t)count, sizeof(**out))) == NULL)
        return nomem(w);
    aipm_strmap_init(&seen, count + 1);
    for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(w, p->key), *v = node(w, p->value);
        aipm_scenario_override *o = &(*out)[(*n_out)++];
        char label[64];

        if ((rc = text(w, k, what, TEXT_ID, AIPM_SCENARIO_MAX_ID, &o->item)) !=
            0)
            goto done;
        o->line = (int)line_of(k);
        if ((rc = remember(w, &seen, o->item, &first)) != 0)
            goto done;
        if (first >= 0) {
            rc = bad(w, k,
                     "%s: '%.80s' is given twice (first on line %d); "
                     "keep one",
                     what, o->item, (*out)[first].line);
            goto done;
        }
        if (aipm_strmap_find(built, o->item, strlen(o->item)) < 0) {
            const char *near = NULL;
            int best_d = 3;

            for (i = 0; i < sc->n_build; i++)
                aipm_yaml_closer(o->item, sc->build[i].id, &near, &best_d);
            rc = bad(w, k,
                     "%s: scenario '%s' does not build '%.80s', so the "
                     "assumption would do nothing; %s%s%s",
                     what, sc->name, o->item,
                     near ? "did you mean '" : "add it to build or remove it",
                     near ? near : "", near ? "'?" : "");
            goto done;
        }
        snprintf(label, sizeof(label), "%s.%.40s", what, o->item);
        if ((rc = number(w, v, label, &o->value)) != 0)
            goto done;
        if (positive ? !(o->value > 0) : !(o->value >= 0)) {
            rc = bad(w, v, "%s: '%.80s' must be %s, got %s", what, o->item,
                     positive ? "> 0 person-weeks" : ">= 0",
                     aipm_yaml_scalar(v));
            goto done;
        }
    }
done:
    aipm_strmap_free(&seen);
    return rc;
}

static int load_assume(walk *w, aipm_scenario *sc, yaml_node_t *n,
                       const aipm_strmap *built)
{
    yaml_node_t *growth;
    int rc;

    if (n == NULL)
        return AIPM_OK;
    if (n->type != YAML_MAPPING_NODE)
        return bad(w, n,
                   "assume: expected a mapping of effort, value and "
                   "market_growth");
    if ((rc = load_overrides(w, sc, aipm_yaml_get(w, n, "effort"),
                             "assume.effort", 1, built, &sc->effort,
                             &sc->n_effort)) != 0 ||
        (rc =
             load_overrides(w, sc, aipm_yaml_get(w, n, "value"), "assume.value",
                            0, built, &sc->value, &sc->n_value)) != 0)
        return rc;
    if ((growth = aipm_yaml_get(w, n, "market_growth")) != NULL) {
        if ((rc = number(w, growth, "assume.market_growth",
                         &sc->market_growth)) != 0)
            return rc;
        if (!(sc->market_growth > -1))
            return bad(w, growth,
                       "assume.market_growth is relative growth per 30 days "
                       "and must be > -1 (e.g. 0.05), got %s",
                       aipm_yaml_scalar(growth));
        sc->has_market_growth = 1;
    }
    return AIPM_OK;
}

static int load_scenario(walk *w, aipm_scenario *sc, yaml_node_t *n)
{
    yaml_node_t *name = aipm_yaml_get(w, n, "name"),
                *desc = aipm_yaml_get(w, n, "description");
    aipm_strmap built;
    int rc;

    sc->line = (int)line_of(n);
    if (n == NULL || n->type != YAML_MAPPING_NODE)
        return bad(w, n,
                   "scenarios: each scenario is a mapping, e.g. "
                   "- name: status_quo");
    if (name == NULL)
        return bad(w, n, "scenarios: a scenario needs a name");
    if ((rc = text(w, name, "scenarios.name", TEXT_NAME, AIPM_SCENARIO_MAX_NAME,
                   &sc->name)) != 0 ||
        (desc && (rc = text(w, desc, "scenarios.description", TEXT_PROSE,
                            AIPM_SCENARIO_MAX_TEXT, &sc->description)) != 0))
        return rc;
    aipm_strmap_init(&built, AIPM_SCENARIO_MAX_ENTRIES + 1);
    if ((rc = load_build(w, sc, aipm_yaml_get(w, n, "build"), &built)) != 0 ||
        (rc = load_rollouts(w, sc, aipm_yaml_get(w, n, "rollouts"))) != 0 ||
        (rc = load_experiments(w, sc, aipm_yaml_get(w, n, "experiments"))) !=
            0 ||
        (rc = load_assume(w, sc, aipm_yaml_get(w, n, "assume"), &built)) != 0)
        goto done;
done:
    aipm_strmap_free(&built);
    return rc;
}

static int load_scenarios(walk *w, aipm_scenario_file *f, yaml_node_t *n,
                          yaml_node_t *root)
{
    aipm_strmap names;
    int i, count, first, rc;

    if (n == NULL)
        return bad(w, root,
                   "scenarios: is missing; list at least one, e.g. "
                   "scenarios: [{name: status_quo}]");
    if ((rc = list(w, n, "scenarios", AIPM_SCENARIO_MAX_SCENARIOS, &count)) !=
        0)
        return rc;
    if (count == 0)
        return bad(w, n, "scenarios: list at least one scenario");
    if ((f->scenarios = calloc((size_t)count, sizeof(*f->scenarios))) == NULL)
        return nomem(w);
    aipm_strmap_init(&names, count + 1);
    for (i = 0; i < count; i++) {
        yaml_node_t *s = node(w, n->data.sequence.items.start[i]);

        if ((rc = load_scenario(w, &f->scenarios[f->n_scenarios++], s)) != 0 ||
            (rc = remember(w, &names, f->scenarios[i].name, &first)) != 0)
            goto done;
        if (first >= 0) {
            rc = bad(w, aipm_yaml_get(w, s, "name"),
                     "scenarios: the name '%s' is given twice (first on line "
                     "%d); each scenario needs its own",
                     f->scenarios[i].name, f->scenarios[first].line);
            goto done;
        }
    }
done:
    aipm_strmap_free(&names);
    return rc;
}

static int load_settings(walk *w, aipm_scenario_file *f, yaml_node_t *root)
{
    yaml_node_t *n;
    int rc;

    if ((n = aipm_yaml_get(w, root, "risk_aversion")) != NULL) {
        f->risk_aversion_set = 1;
        if ((rc = number(w, n, "risk_aversion", &f->risk_aversion)) != 0)
            return rc;
        if (!(f->risk_aversion >= 0 && f->risk_aversion <= 1))
            return bad(w, n, "risk_aversion must be between 0 and 1, got %s",
                       aipm_yaml_scalar(n));
    }
    if ((n = aipm_yaml_get(w, root, "tail")) != NULL) {
        f->tail_set = 1;
        if ((rc = number(w, n, "tail", &f->tail)) != 0)
            return rc;
        if (!(f->tail > 0 && f->tail <= 1))
            return bad(w, n,
                       "tail (the CVaR level) must be in (0, 1], e.g. 0.05, "
                       "got %s",
                       aipm_yaml_scalar(n));
    }
    if ((n = aipm_yaml_get(w, root, "budget")) != NULL) {
        if ((rc = number(w, n, "budget", &f->budget)) != 0)
            return rc;
        if (!(f->budget >= 0))
            return bad(w, n, "budget must be >= 0, got %s",
                       aipm_yaml_scalar(n));
        f->has_budget = 1;
    }
    return AIPM_OK;
}

/* baseline: a scenario's name (after the scenarios are loaded); absent,
 * the first scenario (f->baseline stays 0). */
static int load_baseline(walk *w, aipm_scenario_file *f, yaml_node_t *n)
{
    const char *near = NULL;
    char *name = NULL;
    int i, rc, best_d = 3;

    if (n == NULL)
        return AIPM_OK;
    if ((rc = text(w, n, "baseline", TEXT_NAME, AIPM_SCENARIO_MAX_NAME,
                   &name)) != 0)
        return rc;
    if ((f->baseline = aipm_scenario_file_find(f, name)) < 0) {
        for (i = 0; i < f->n_scenarios; i++)
            aipm_yaml_closer(name, f->scenarios[i].name, &near, &best_d);
        rc = bad(w, n, "baseline '%s' is not a scenario of this file%s%s%s",
                 name, near ? "; did you mean '" : "", near ? near : "",
                 near ? "'?" : "");
    }
    free(name);
    return rc;
}

int aipm_scenario_file_load_buffer(aipm_scenario_file **out, const char *data,
                                   size_t len, const char *name,
                                   aipm_error *err)
{
    yaml_document_t doc;
    yaml_node_t *root;
    aipm_scenario_file *f = NULL;
    walk w = {&doc, name, err};
    int rc = AIPM_OK;

    *out = NULL;
    if ((rc = aipm_yaml_load(&doc, data, len, name, &profile, err)) != 0)
        return rc;
    if ((f = calloc(1, sizeof(*f))) == NULL ||
        (f->path = strdup(name)) == NULL) {
        rc = nomem(&w);
        goto done;
    }
    f->risk_aversion = AIPM_SCENARIO_DEFAULT_RISK_AVERSION;
    f->tail = AIPM_SCENARIO_DEFAULT_TAIL;
    root = yaml_document_get_root_node(&doc);
    if (root == NULL) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "%s:1: the file is empty; a scenario file needs "
                            "objective: and scenarios: (docs/scenarios.md)",
                            name);
        goto done;
    }
    if (root->type != YAML_MAPPING_NODE) {
        rc = bad(&w, root,
                 "expected a mapping at the top level, with "
                 "objective: and scenarios:");
        goto done;
    }
    if ((rc = aipm_yaml_check_keys(&w, root, top_keys, "", &profile)) != 0 ||
        (rc = load_objective(&w, f, aipm_yaml_get(&w, root, "objective"),
                             root)) != 0 ||
        (rc = load_capacity(&w, f, aipm_yaml_get(&w, root, "capacity"))) != 0 ||
        (rc = load_settings(&w, f, root)) != 0 ||
        (rc = load_scenarios(&w, f, aipm_yaml_get(&w, root, "scenarios"),
                             root)) != 0 ||
        (rc = load_baseline(&w, f, aipm_yaml_get(&w, root, "baseline"))) != 0)
        goto done;
done:
    yaml_document_delete(&doc);
    if (rc) {
        aipm_scenario_file_free(f);
        return rc;
    }
    *out = f;
    return AIPM_OK;
}

int aipm_scenario_file_load(aipm_scenario_file **out, const char *path,
                            aipm_error *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if ((rc = aipm_file_read(&data, &len, path, AIPM_SCENARIO_MAX_BYTES,
                             err)) != 0)
        return rc;
    rc = aipm_scenario_file_load_buffer(out, data, len, path, err);
    free(data);
    return rc;
}

static void free_overrides(aipm_scenario_override *o, int n)
{
    int i;

    for (i = 0; i < n; i++)
        free(o[i].item);
    free(o);
}

void aipm_scenario_file_free(aipm_scenario_file *f)
{
    int i, j, k;

    if (f == NULL)
        return;
    for (i = 0; i < f->n_scenarios; i++) {
        aipm_scenario *sc = &f->scenarios[i];

        free(sc->name);
        free(sc->description);
        for (j = 0; j < sc->n_build; j++)
            free(sc->build[j].id);
        free(sc->build);
        for (j = 0; j < sc->n_rollouts; j++) {
            aipm_scenario_rollout *ro = &sc->rollouts[j];

            free(ro->feature);
            for (k = 0; k < ro->n_segments; k++)
                free(ro->segments[k]);
            free(ro->segments);
        }
        free(sc->rollouts);
        for (j = 0; j < sc->n_experiments; j++) {
            free(sc->experiments[j].experiment);
            free(sc->experiments[j].ship);
        }
        free(sc->experiments);
        free_overrides(sc->effort, sc->n_effort);
        free_overrides(sc->value, sc->n_value);
    }
    free(f->scenarios);
    free(f->objective.kpi);
    free(f->objective.feature);
    free(f->path);
    free(f);
}

int aipm_scenario_file_find(const aipm_scenario_file *f, const char *name)
{
    int i;

    for (i = 0; f && name && i < f->n_scenarios; i++)
        if (f->scenarios[i].name && strcmp(f->scenarios[i].name, name) == 0)
            return i;
    return -1;
}

/* ---- the canonical JSON ---- */

/* The JSON of a file of at most 1 MiB is a few times its size (defaults
 * written out); this bound only stops a runaway. */
#define JSON_MAX_BYTES (64u * 1024 * 1024)

/* Whether put_str writes code point cp as a \u escape: the controls
 * (YAML refuses them raw), the characters YAML reads as line breaks
 * (U+2028, U+2029) or skips (U+FEFF), and U+FFFE and U+FFFF, which
 * libyaml refuses raw but makes from an escape. */
static int escaped(unsigned cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF;
}

/* s as a JSON string that libyaml reads back to s: '"' and '\\'
 * escaped, newline and tab as \n and \t, escaped() code points as \uXXXX
 * (all are in the BMP), other UTF-8 as it is. */
static int put_str(aipm_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    int rc;

    /* The loader's strings are valid UTF-8; a hand-made struct may not be
     * (utf8_char would read past a cut character). */
    if (!aipm_utf8_valid(s, strlen(s)))
        return AIPM_EINVALID;
    rc = aipm_buf_put(b, "\"", 1);

    while (rc == 0 && *p) {
        unsigned cp;
        size_t n = utf8_char(p, &cp);
        char esc[6] = {'\\', 'u', 0, 0, 0, 0};

        if (cp == '"' || cp == '\\') {
            esc[1] = (char)cp;
            rc = aipm_buf_put(b, esc, 2);
        } else if (cp == '\n') {
            rc = aipm_buf_put(b, "\\n", 2);
        } else if (cp == '\t') {
            rc = aipm_buf_put(b, "\\t", 2);
        } else if (escaped(cp)) {
            esc[2] = hex[cp >> 12 & 15];
            esc[3] = hex[cp >> 8 & 15];
            esc[4] = hex[cp >> 4 & 15];
            esc[5] = hex[cp & 15];
            rc = aipm_buf_put(b, esc, 6);
        } else {
            rc = aipm_buf_put(b, p, n);
        }
        p += n;
    }
    return rc ? rc : aipm_buf_put(b, "\"", 1);
}

/* A whole number below 10^15 in plain digits (250000, not 2.5e+05);
 * anything else in the shortest %.Ng (N = 1 .. 17) that reads back to
 * the same double. -0 is 0. */
static int put_num(aipm_buf *b, double v)
{
    char tmp[40];
    int prec;

    if (!isfinite(v))
        return AIPM_EINVALID;
    if (v == 0)
        v = 0; /* -0 means 0 */
    if (v == floor(v) && fabs(v) < 1e15)
        return aipm_buf_printf(b, "%.0f", v);
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    return aipm_buf_puts(b, tmp);
}

/* ,"key": (the comma unless first) */
static int put_key(aipm_buf *b, const char *key, int first)
{
    int rc = first ? 0 : aipm_buf_put(b, ",", 1);

    return rc ? rc : aipm_buf_printf(b, "\"%s\":", key);
}

static int put_date(aipm_buf *b, int64_t ms)
{
    char t[32];

    aipm_time_format(t, ms);
    if (ms % 86400000 == 0)
        t[10] = '\0';
    return put_str(b, t);
}

static int by_item(const void *a, const void *b)
{
    const aipm_scenario_override *x = *(const aipm_scenario_override *const *)a,
                                 *y = *(const aipm_scenario_override *const *)b;

    return strcmp(x->item, y->item);
}

/* {item: number, ...} sorted by item. */
static int put_overrides(aipm_buf *b, const aipm_scenario_override *o, int n)
{
    const aipm_scenario_override **sorted;
    int i, rc;

    if (n == 0)
        return aipm_buf_puts(b, "{}");
    if ((sorted = malloc((size_t)n * sizeof(*sorted))) == NULL)
        return AIPM_ENOMEM;
    for (i = 0; i < n; i++)
        sorted[i] = &o[i];
    qsort(sorted, (size_t)n, sizeof(*sorted), by_item);
    rc = aipm_buf_put(b, "{", 1);
    for (i = 0; rc == 0 && i < n; i++)
        if ((rc = i ? aipm_buf_put(b, ",", 1) : 0) == 0 &&
            (rc = put_str(b, sorted[i]->item)) == 0 &&
            (rc = aipm_buf_put(b, ":", 1)) == 0)
            rc = put_num(b, sorted[i]->value);
    free(sorted);
    return rc ? rc : aipm_buf_put(b, "}", 1);
}

/* Keys in byte order: assume, build, description, experiments, name,
 * rollouts. */
static int put_scenario(aipm_buf *b, const aipm_scenario *sc)
{
    int rc, i, j;

    if ((rc = aipm_buf_puts(b, "{\"assume\":{\"effort\":")) != 0 ||
        (rc = put_overrides(b, sc->effort, sc->n_effort)) != 0 ||
        (sc->has_market_growth &&
         ((rc = put_key(b, "market_growth", 0)) != 0 ||
          (rc = put_num(b, sc->market_growth)) != 0)) ||
        (rc = put_key(b, "value", 0)) != 0 ||
        (rc = put_overrides(b, sc->value, sc->n_value)) != 0 ||
        (rc = aipm_buf_puts(b, "},\"build\":[")) != 0)
        return rc;
    for (i = 0; i < sc->n_build; i++)
        if ((i && (rc = aipm_buf_put(b, ",", 1)) != 0) ||
            (rc = put_str(b, sc->build[i].id)) != 0)
            return rc;
    if ((rc = aipm_buf_put(b, "]", 1)) != 0 ||
        (sc->description && ((rc = put_key(b, "description", 0)) != 0 ||
                             (rc = put_str(b, sc->description)) != 0)) ||
        (rc = aipm_buf_puts(b, ",\"experiments\":[")) != 0)
        return rc;
    for (i = 0; i < sc->n_experiments; i++) {
        const aipm_scenario_experiment *e = &sc->experiments[i];

        if ((i && (rc = aipm_buf_put(b, ",", 1)) != 0) ||
            (rc = aipm_buf_puts(b, "{\"experiment\":")) != 0 ||
            (rc = put_str(b, e->experiment)) != 0 ||
            (rc = put_key(b, "ship", 0)) != 0 ||
            (rc = put_str(b, e->ship)) != 0 ||
            (rc = aipm_buf_put(b, "}", 1)) != 0)
            return rc;
    }
    if ((rc = aipm_buf_puts(b, "],\"name\":")) != 0 ||
        (rc = put_str(b, sc->name)) != 0 ||
        (rc = aipm_buf_puts(b, ",\"rollouts\":[")) != 0)
        return rc;
    for (i = 0; i < sc->n_rollouts; i++) {
        const aipm_scenario_rollout *ro = &sc->rollouts[i];

        if ((i && (rc = aipm_buf_put(b, ",", 1)) != 0) ||
            (rc = aipm_buf_puts(b, "{\"feature\":")) != 0 ||
            (rc = put_str(b, ro->feature)) != 0 ||
            (rc = aipm_buf_printf(b, ",\"ramp_days\":%d,\"segments\":[",
                                  ro->ramp_days)) != 0)
            return rc;
        for (j = 0; j < ro->n_segments; j++)
            if ((j && (rc = aipm_buf_put(b, ",", 1)) != 0) ||
                (rc = put_str(b, ro->segments[j])) != 0)
                return rc;
        if ((rc = aipm_buf_puts(b, "],\"start\":")) != 0 ||
            (rc = put_date(b, ro->start_ms)) != 0 ||
            (rc = aipm_buf_put(b, "}", 1)) != 0)
            return rc;
    }
    return aipm_buf_puts(b, "]}");
}

/* Keys in byte order: baseline, budget, capacity {periods,
 * weeks_per_period}, objective {horizon_days, kpi}, risk_aversion,
 * scenarios, tail. */
static int put_file(aipm_buf *b, const aipm_scenario_file *f)
{
    int rc, i;

    if ((rc = aipm_buf_puts(b, "{\"baseline\":")) != 0 ||
        (rc = put_str(b, f->scenarios[f->baseline].name)) != 0 ||
        (f->has_budget && ((rc = put_key(b, "budget", 0)) != 0 ||
                           (rc = put_num(b, f->budget)) != 0)) ||
        (f->has_capacity &&
         ((rc = aipm_buf_printf(b, ",\"capacity\":{\"periods\":%d,",
                                f->periods)) != 0 ||
          (rc = put_key(b, "weeks_per_period", 1)) != 0 ||
          (rc = put_num(b, f->weeks_per_period)) != 0 ||
          (rc = aipm_buf_put(b, "}", 1)) != 0)) ||
        (rc = aipm_buf_printf(b, ",\"objective\":{\"horizon_days\":%d,",
                              f->objective.horizon_days)) != 0 ||
        (rc = put_key(b, "kpi", 1)) != 0 ||
        (rc = put_str(b, f->objective.kpi)) != 0 ||
        (rc = aipm_buf_puts(b, "},\"risk_aversion\":")) != 0 ||
        (rc = put_num(b, f->risk_aversion)) != 0 ||
        (rc = aipm_buf_puts(b, ",\"scenarios\":[")) != 0)
        return rc;
    for (i = 0; i < f->n_scenarios; i++)
        if ((i && (rc = aipm_buf_put(b, ",", 1)) != 0) ||
            (rc = put_scenario(b, &f->scenarios[i])) != 0)
            return rc;
    if ((rc = aipm_buf_puts(b, "],\"tail\":")) != 0 ||
        (rc = put_num(b, f->tail)) != 0)
        return rc;
    return aipm_buf_put(b, "}", 1);
}

int aipm_scenario_file_json(char **out, char sha256[65],
                            const aipm_scenario_file *f, aipm_error *err)
{
    aipm_buf b;
    uint8_t digest[32];
    int rc;

    *out = NULL;
    if (f == NULL || f->n_scenarios < 1 || f->baseline < 0 ||
        f->baseline >= f->n_scenarios || f->objective.kpi == NULL)
        return aipm_error_set(err, AIPM_EINVALID,
                              "not a loaded scenario file (no scenarios, "
                              "objective or baseline)");
    aipm_buf_init(&b, JSON_MAX_BYTES);
    if ((rc = put_file(&b, f)) != 0) {
        aipm_buf_free(&b);
        return rc == AIPM_ENOMEM
                   ? aipm_error_set(err, rc, "out of memory")
                   : aipm_error_set(err, AIPM_EINVALID,
                                    "scenario file %s: a number is not "
                                    "finite, a text is not UTF-8 or the "
                                    "JSON is over %u bytes",
                                    f->path ? f->path : "(unnamed)",
                                    JSON_MAX_BYTES);
    }
    if (sha256) {
        aipm_sha256_oneshot(digest, b.ptr, b.len);
        aipm_hex(sha256, digest, sizeof(digest));
    }
    *out = b.ptr; /* not NULL: the JSON is never empty */
    return AIPM_OK;
}
