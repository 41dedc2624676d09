/* sql.c - the metrics' SQL, generated in one place.
 *
 * Every metric of an experiment runs through one statement whose shape is
 * fixed; what differs between metric types is bound, not spliced: the
 * events that count (a JSON array bound as ?4, or NULL for any event), the
 * window relative to exposure (?5, ?6), a numeric property to sum (?7, a
 * JSON path) or 1 per event, a property filter (?8 path, ?9 value), the
 * pre-exposure window for CUPED (?10) and whether the per-unit value is a
 * 0/1 conversion (?11). The store scans the events once per metric and
 * returns one row of moments per variation. A PostgreSQL or ClickHouse
 * backend gets its own dialect of this text here, next to this one.
 */
#include "metrics/metrics_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

/* The exposures of users: per user, the first exposure, its variation and
 * how many variations they saw. NAME is the CTE's name. */
#define USER_EXPOSURES(NAME)                                                   \
    " " NAME " AS MATERIALIZED ("                                              \
    " SELECT user_id AS unit, min(ts) AS t0,"                                  \
    "  min(json_extract(payload, '$.variation_id')) AS v,"                     \
    "  count(DISTINCT json_extract(payload, '$.variation_id')) AS nv"          \
    " FROM v_events"                                                           \
    " WHERE event = 'Experiment Viewed'"                                       \
    "  AND json_extract(payload, '$.experiment_id') = ?1"                      \
    "  AND ts >= ?2 AND ts < ?3 AND user_id IS NOT NULL"                       \
    " GROUP BY user_id)"

/* The units, exp(unit, t0, v, nv), and the users whose events make each
 * unit's value, scan(unit, member, t0, v). A user is their own unit. An
 * account (AIPM_MEMBERS_CTE: a user's account is the one of their newest
 * group call) is exposed when its first member is, to the smallest
 * variation its members saw, and saw two when its members did; its value
 * is made of the events of all its members, exposed or not, from the
 * account's first exposure. Exposed users with no account have no unit. */
#define UNITS_USER                                                             \
    "WITH" USER_EXPOSURES("exp") ","                                           \
                                 " scan AS (SELECT unit, unit AS member, t0, " \
                                 "v FROM exp WHERE nv = 1),"

#define UNITS_ACCOUNT                                                          \
    "WITH" USER_EXPOSURES("xu") "," AIPM_MEMBERS_CTE(                          \
        "?3") ","                                                              \
              " exp AS MATERIALIZED (SELECT m.acct AS unit, min(xu.t0) AS t0," \
              "  min(xu.v) AS v, CASE WHEN max(xu.nv) > 1 OR min(xu.v) <> "    \
              "max(xu.v)"                                                      \
              "  THEN 2 ELSE 1 END AS nv"                                      \
              "  FROM xu JOIN mem m ON m.user_id = xu.unit GROUP BY m.acct),"  \
              " scan AS (SELECT e.unit AS unit, m.user_id AS member, e.t0 AS " \
              "t0,"                                                            \
              "  e.v AS v FROM exp e JOIN mem m ON m.acct = e.unit WHERE "     \
              "e.nv = 1),"

/* The per-unit values: a user's own row of `per`, an account's the sum of
 * its members' rows. */
#define VALUES_USER "per"
#define VALUES_ACCOUNT                                                         \
    "(SELECT unit, v, total(y) AS y, total(xp) AS xp FROM per GROUP BY unit)"

/* Then, per scanned user, their metric value after the unit's exposure and
 * (for CUPED) before it, each a correlated count over the user's own
 * events through the index events(user_id, event, ts, batch_id)
 * (aipm_store_analysis_index), so the store reads only the exposed units'
 * rows, in index order, with no sort of the joined rows; the payload is
 * read only for a sum or a property filter. `per` is materialized: the
 * moments below name y and xp several times, and an inlined correlated
 * subquery would run once per mention (4 index searches per unit instead
 * of 1; 21.8 s against 11.1 s on bench/experiment). Values are capped at
 * ?12 when it is not NULL. */
#define EXPERIMENT_CTES(UNITS, EVENTS, VALUES)                                 \
    UNITS " ok AS MATERIALIZED (SELECT id FROM batches"                        \
          " WHERE status = 'accepted'),"                                       \
          " per AS MATERIALIZED ("                                             \
          " SELECT s.unit AS unit, s.v AS v,"                                  \
          "  (SELECT total(CASE WHEN ?7 IS NULL THEN 1"                        \
          "    ELSE coalesce(json_extract(x.payload, ?7), 0) END)"             \
          "   FROM events x WHERE x.user_id = s.member"                        \
          "    AND " EVENTS "    AND x.event <> 'Experiment Viewed'"           \
          "    AND x.ts >= s.t0 + ?5 AND x.ts < min(s.t0 + ?6, ?3)"            \
          "    AND x.batch_id IN ok"                                           \
          "    AND (?8 IS NULL OR json_extract(x.payload, ?8) = ?9)) AS y,"    \
          "  CASE WHEN ?15 IS NOT NULL THEN"                                   \
          "  (SELECT total(CASE WHEN ?16 IS NULL THEN 1"                       \
          "    ELSE coalesce(json_extract(x.payload, ?16), 0) END)"            \
          "   FROM events x WHERE x.user_id = s.member"                        \
          "    AND x.event IN (SELECT value FROM json_each(?15))"              \
          "    AND x.ts >= s.t0 + ?5 AND x.ts < min(s.t0 + ?6, ?3)"            \
          "    AND x.batch_id IN ok)"                                          \
          "  WHEN ?10 > 0 THEN"                                                \
          "  (SELECT total(CASE WHEN ?7 IS NULL THEN 1"                        \
          "    ELSE coalesce(json_extract(x.payload, ?7), 0) END)"             \
          "   FROM events x WHERE x.user_id = s.member"                        \
          "    AND " EVENTS "    AND x.event <> 'Experiment Viewed'"           \
          "    AND x.ts >= s.t0 - ?10 AND x.ts < s.t0"                         \
          "    AND x.batch_id IN ok"                                           \
          "    AND (?8 IS NULL OR json_extract(x.payload, ?8) = ?9))"          \
          "  ELSE 0 END AS xp"                                                 \
          " FROM scan s),"                                                     \
          " val AS ("                                                          \
          " SELECT unit, v,"                                                   \
          "  min(CASE WHEN ?11 THEN min(y, 1) ELSE y END,"                     \
          "  coalesce(?12, 1e308)) AS y,"                                      \
          "  min(CASE WHEN ?11 THEN min(xp, 1) ELSE xp END,"                   \
          "  coalesce(?12, 1e308)) AS xp FROM " VALUES ")"

/* The event condition, as two statements rather than one with an OR, so
 * that a list of events can use the index's second column. */
#define EVENTS_LISTED "x.event IN (SELECT value FROM json_each(?4))"
#define EVENTS_ANY "?4 IS NULL"

/* A statement for each unit (user, account) and event condition (listed,
 * any), indexed [unit_account][any event]. */
#define FOUR(TAIL, USER_TAIL, ACCOUNT_TAIL)                                    \
    {                                                                          \
        {EXPERIMENT_CTES(UNITS_USER, EVENTS_LISTED, VALUES_USER)               \
             TAIL USER_TAIL,                                                   \
         EXPERIMENT_CTES(UNITS_USER, EVENTS_ANY, VALUES_USER) TAIL USER_TAIL}, \
        {                                                                      \
            EXPERIMENT_CTES(UNITS_ACCOUNT, EVENTS_LISTED, VALUES_ACCOUNT)      \
            TAIL ACCOUNT_TAIL,                                                 \
                EXPERIMENT_CTES(UNITS_ACCOUNT, EVENTS_ANY, VALUES_ACCOUNT)     \
                    TAIL ACCOUNT_TAIL                                          \
        }                                                                      \
    }

#define MOMENTS                                                                \
    " SELECT v, count(*), total(y), total(y * y), total(xp), total(xp * xp),"  \
    "  total(y * xp) FROM val GROUP BY v"                                      \
    " UNION ALL SELECT NULL, count(*), 0, 0, 0, 0, 0 FROM exp WHERE nv > 1"

static const char *const experiment_sql[2][2] = FOUR(MOMENTS, "", "");

/* The value at a quantile (?13) of the per-unit values, for capping
 * (winsorization) at a percentile, over all variations together. */
#define QUANTILE                                                               \
    " SELECT y FROM val ORDER BY y"                                            \
    " LIMIT 1 OFFSET (SELECT CAST(?13 * (count(*) - 1) AS INTEGER)"            \
    " FROM val)"

static const char *const experiment_quantile_sql[2][2] = FOUR(QUANTILE, "", "");

/* The same moments per level of a trait (?14, a JSON path): for a user,
 * their newest identify traits, else their account's newest group traits,
 * else "(none)"; for an account, its newest group traits. The 20 biggest
 * levels, the rest as "(other)". */
#define BY_TRAIT                                                               \
    ", ut AS (SELECT user_id AS unit, json_extract(payload, ?14) AS level,"    \
    "  max(ts) FROM v_events WHERE type = 'identify'"                          \
    "  AND json_extract(payload, ?14) IS NOT NULL GROUP BY user_id),"          \
    " ua AS (SELECT user_id AS unit, group_id AS acct, max(ts) FROM v_events"  \
    "  WHERE type = 'group' GROUP BY user_id),"                                \
    " at AS (SELECT group_id AS acct, json_extract(payload, ?14) AS level,"    \
    "  max(ts) FROM v_events WHERE type = 'group'"                             \
    "  AND json_extract(payload, ?14) IS NOT NULL GROUP BY group_id),"         \
    " lv AS (SELECT val.v AS v, val.y AS y, val.xp AS xp,"
#define BY_LEVEL_USER                                                          \
    "  CAST(coalesce(ut.level, at.level, '(none)') AS TEXT) AS level"          \
    "  FROM val LEFT JOIN ut ON ut.unit = val.unit"                            \
    "  LEFT JOIN ua ON ua.unit = val.unit LEFT JOIN at ON at.acct = "          \
    "ua.acct)," BY_LEVELS
#define BY_LEVEL_ACCOUNT                                                       \
    "  CAST(coalesce(at.level, '(none)') AS TEXT) AS level"                    \
    "  FROM val LEFT JOIN at ON at.acct = val.unit)," BY_LEVELS
#define BY_LEVELS                                                              \
    " rk AS (SELECT level, row_number() OVER (ORDER BY count(*) DESC, level)"  \
    "  AS rn FROM lv GROUP BY level)"                                          \
    " SELECT CASE WHEN rk.rn <= 20 THEN lv.level ELSE '(other)' END AS lvl,"   \
    "  v, count(*), total(y), total(y * y), total(xp), total(xp * xp),"        \
    "  total(y * xp) FROM lv JOIN rk ON rk.level = lv.level"                   \
    " GROUP BY lvl, v ORDER BY min(rk.rn), v"

static const char *const experiment_by_sql[2][2] =
    FOUR(BY_TRAIT, BY_LEVEL_USER, BY_LEVEL_ACCOUNT);

/* A metric's moments over the units active in [?1, ?2): the unit's
 * events (?3, NULL: any), summed property ?4 or 1 each, filter ?5 = ?6,
 * a 0/1 conversion when ?7. For accounts, a unit is the account of the
 * event's user (AIPM_MEMBERS_CTE). */
#define POPULATION(WITH, UNIT, FROM)                                           \
    "WITH" WITH " act AS MATERIALIZED ("                                       \
    " SELECT " UNIT " AS unit FROM " FROM                                      \
    " WHERE x.ts >= ?1 AND x.ts < ?2 AND " UNIT " IS NOT NULL"                 \
    " GROUP BY 1),"                                                            \
    " per AS ("                                                                \
    " SELECT " UNIT " AS unit, total(coalesce(json_extract(x.payload, ?4),"    \
    "  CASE WHEN ?4 IS NULL THEN 1 ELSE 0 END)) AS y"                          \
    " FROM " FROM " WHERE x.ts >= ?1 AND x.ts < ?2"                            \
    "  AND " UNIT " IS NOT NULL"                                               \
    "  AND (?3 IS NULL OR x.event IN (SELECT value FROM json_each(?3)))"       \
    "  AND (?5 IS NULL OR json_extract(x.payload, ?5) = ?6)"                   \
    " GROUP BY 1)"                                                             \
    " SELECT count(*), total(v), total(v * v) FROM ("                          \
    " SELECT CASE WHEN ?7 THEN min(coalesce(p.y, 0), 1)"                       \
    "  ELSE coalesce(p.y, 0) END AS v"                                         \
    " FROM act a LEFT JOIN per p ON p.unit = a.unit)"

static const char *const population_sql[2] = {
    POPULATION("", "x.user_id", "v_events x"),
    POPULATION(AIPM_MEMBERS_CTE("?2") ",", "m.acct",
               "v_events x JOIN mem m ON m.user_id = x.user_id")};

typedef struct collect {
    aipm_exposures *out;
    const aipm_experiment_def *e;
} collect;

/* Store one row's moments (columns from `num`) in the group of its
 * variation; rows of variations not in aipm.yaml (tracking typos) are not
 * part of the analysis. */
static void fill_group(aipm_exposures *ex, const aipm_experiment_def *e,
                       const char *variation, const double *num)
{
    aipm_group_stats *g;
    int i;

    for (i = 0; i < ex->n_groups; i++)
        if (strcmp(e->variations[i], variation) == 0)
            break;
    if (i == ex->n_groups)
        return;
    g = &ex->groups[i];
    g->n = num[0];
    g->sum = num[1];
    g->sum_sq = num[2];
    g->x_sum = num[3];
    g->x_sum_sq = num[4];
    g->xy_sum = num[5];
}

static void init_groups(aipm_exposures *ex, const aipm_experiment_def *e)
{
    int i;

    ex->n_groups = e->n_variations < AIPM_MAX_VARIATIONS ? e->n_variations
                                                         : AIPM_MAX_VARIATIONS;
    for (i = 0; i < ex->n_groups; i++)
        snprintf(ex->groups[i].variation, sizeof(ex->groups[i].variation), "%s",
                 e->variations[i]);
}

static int row(void *ctx, int n, const char *const *text, const double *num)
{
    collect *c = ctx;

    if (n < 7)
        return 0;
    if (text[0] == NULL)
        c->out->multi_exposed = (int64_t)num[1];
    else
        fill_group(c->out, c->e, text[0], num + 1);
    return 0;
}

void aipm_metrics__paths(const aipm_metric *m, char prop[AIPM_JSON_PATH_MAX],
                         char where[AIPM_JSON_PATH_MAX])
{
    snprintf(prop, AIPM_JSON_PATH_MAX, "$.\"%s\"",
             m->property ? m->property : "");
    snprintf(where, AIPM_JSON_PATH_MAX, "$.\"%s\"",
             m->where_key ? m->where_key : "");
}

int aipm_metric_is_proportion(const aipm_metric *m)
{
    return m->type == AIPM_METRIC_CONVERSION ||
           m->type == AIPM_METRIC_RETENTION || m->type == AIPM_METRIC_ADOPTION;
}

int aipm_metrics__events(char **events, const aipm_config *cfg,
                         const aipm_metric *m, aipm_error *err)
{
    json_t *arr = NULL;
    const aipm_feature *f;
    int i;

    *events = NULL;
    switch (m->type) {
    case AIPM_METRIC_COUNT:
    case AIPM_METRIC_SUM:
    case AIPM_METRIC_CONVERSION:
        arr = json_pack("[s]", m->event);
        break;
    case AIPM_METRIC_RETENTION:
        return AIPM_OK; /* any event */
    case AIPM_METRIC_ADOPTION:
        if ((f = aipm_config_feature(cfg, m->feature)) == NULL)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "metric %s: no catalog feature %s", m->key,
                                  m->feature);
        arr = json_array();
        for (i = 0; arr && i < f->n_events; i++)
            json_array_append_new(arr, json_string(f->events[i]));
        break;
    case AIPM_METRIC_RATIO:
        return aipm_error_set(err, AIPM_EINVALID,
                              "metric %s: a ratio has no events of its own",
                              m->key);
    }
    *events = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (*events == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    return AIPM_OK;
}

static int quantile(void *ctx, int n, const char *const *text,
                    const double *num)
{
    if (n >= 1 && text[0])
        *(double *)ctx = num[0];
    return 0;
}

static int population_row(void *ctx, int n, const char *const *text,
                          const double *num)
{
    aipm_moments *o = ctx;

    (void)text;
    if (n >= 3) {
        o->n = num[0];
        o->sum = num[1];
        o->sum_sq = num[2];
    }
    return 0;
}

int aipm_metrics_population(aipm_moments *out, aipm_store *st,
                            const aipm_config *cfg, const aipm_metric *m,
                            int64_t from_ms, int64_t to_ms, aipm_error *err)
{
    char prop_path[AIPM_JSON_PATH_MAX], where_path[AIPM_JSON_PATH_MAX];
    char *events = NULL;
    aipm_bind b[7];
    int conversion, rc;

    memset(out, 0, sizeof(*out));
    if (m->type == AIPM_METRIC_RETENTION)
        return aipm_error_set(err, AIPM_EINVALID,
                              "metric %s: a retention metric has no value "
                              "over a window of activity",
                              m->key);
    if ((rc = aipm_metrics__events(&events, cfg, m, err)) != 0)
        return rc;
    conversion = aipm_metric_is_proportion(m);
    aipm_metrics__paths(m, prop_path, where_path);
    b[0] = AIPM_BIND_INT(from_ms);
    b[1] = AIPM_BIND_INT(to_ms);
    b[2] = AIPM_BIND_TEXT(events);
    b[3] = AIPM_BIND_TEXT(m->type == AIPM_METRIC_SUM ? prop_path : NULL);
    b[4] = AIPM_BIND_TEXT(m->where_key ? where_path : NULL);
    b[5] = AIPM_BIND_TEXT(m->where_value);
    b[6] = AIPM_BIND_INT(conversion);
    rc = aipm_store_query(st, population_sql[m->unit_account != 0], b, 7,
                          population_row, out, err);
    free(events);
    return rc;
}

typedef struct collect_by {
    aipm_levels *out;
    const aipm_experiment_def *e;
} collect_by;

static int row_by(void *ctx, int n, const char *const *text, const double *num)
{
    collect_by *c = ctx;
    aipm_levels *L = c->out;
    aipm_level *lv = NULL;
    int i;

    if (n < 8 || text[0] == NULL || text[1] == NULL)
        return 0;
    for (i = 0; i < L->n; i++)
        if (strcmp(L->levels[i].level, text[0]) == 0)
            lv = &L->levels[i];
    if (lv == NULL) {
        if (L->n == AIPM_MAX_LEVELS)
            return 0;
        lv = &L->levels[L->n++];
        memset(lv, 0, sizeof(*lv));
        snprintf(lv->level, sizeof(lv->level), "%s", text[0]);
        init_groups(&lv->ex, c->e);
    }
    fill_group(&lv->ex, c->e, text[1], num + 2);
    return 0;
}

static int experiment_stats(aipm_exposures *out, aipm_levels *levels,
                            const char *trait, aipm_store *st,
                            const aipm_config *cfg,
                            const aipm_experiment_def *e, const aipm_metric *m,
                            int64_t start_ms, int64_t end_ms, int pre_days,
                            aipm_error *err)
{
    aipm_bind b[16];
    collect c = {out, e};
    char prop_path[AIPM_JSON_PATH_MAX], where_path[AIPM_JSON_PATH_MAX];
    char den_path[AIPM_JSON_PATH_MAX], unused[AIPM_JSON_PATH_MAX];
    char *events = NULL, *den_events = NULL;
    const aipm_metric *num = m, *den = NULL;
    int64_t lo = 0, hi = (int64_t)1 << 50;
    int acct = m->unit_account != 0, conversion, rc;

    memset(out, 0, sizeof(*out));
    init_groups(out, e);
    if (m->type == AIPM_METRIC_RATIO) {
        /* A ratio of two count or sum metrics: y is the numerator and x
         * (the CUPED slot) the denominator, per unit, over the same
         * window; the delta method takes it from there. */
        num = aipm_config_metric(cfg, m->numerator);
        den = aipm_config_metric(cfg, m->denominator);
        if (!num || !den ||
            (num->type != AIPM_METRIC_COUNT && num->type != AIPM_METRIC_SUM) ||
            (den->type != AIPM_METRIC_COUNT && den->type != AIPM_METRIC_SUM))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "metric %s: a ratio of count or sum metrics "
                                  "is analysed; %s / %s is not",
                                  m->key, m->numerator, m->denominator);
        pre_days = 0;
        if ((rc = aipm_metrics__events(&den_events, cfg, den, err)) != 0)
            return rc;
        aipm_metrics__paths(den, den_path, unused);
    }
    if ((rc = aipm_metrics__events(&events, cfg, num, err)) != 0) {
        free(den_events);
        return rc;
    }
    conversion = aipm_metric_is_proportion(num);
    if (m->type == AIPM_METRIC_RETENTION) {
        /* Active (any event) in days [from_day, to_day] after exposure. */
        lo = (int64_t)m->from_day * DAY_MS;
        hi = ((int64_t)m->to_day + 1) * DAY_MS;
    }
    /* The window is [exposure, exposure + window_days) within the end. */
    if (m->window_days > 0 && m->type != AIPM_METRIC_RETENTION)
        hi = (int64_t)m->window_days * DAY_MS;
    aipm_metrics__paths(num, prop_path, where_path);
    b[0] = AIPM_BIND_TEXT(e->key);
    b[1] = AIPM_BIND_INT(start_ms);
    b[2] = AIPM_BIND_INT(end_ms);
    b[3] = AIPM_BIND_TEXT(events);
    b[4] = AIPM_BIND_INT(lo);
    b[5] = AIPM_BIND_INT(hi);
    b[6] = AIPM_BIND_TEXT(num->type == AIPM_METRIC_SUM ? prop_path : NULL);
    b[7] = AIPM_BIND_TEXT(num->where_key ? where_path : NULL);
    b[8] = AIPM_BIND_TEXT(num->where_value);
    b[9] = AIPM_BIND_INT((int64_t)pre_days * DAY_MS);
    b[10] = AIPM_BIND_INT(conversion);
    b[11] = AIPM_BIND_TEXT(NULL); /* no cap */
    b[12] = AIPM_BIND_REAL(0);    /* ?13: the capping quantile */
    b[13] = AIPM_BIND_TEXT(NULL); /* ?14: the --by trait path */
    b[14] = AIPM_BIND_TEXT(den_events);
    b[15] =
        AIPM_BIND_TEXT(den && den->type == AIPM_METRIC_SUM ? den_path : NULL);
    rc = AIPM_OK;
    if (m->cap_value > 0) {
        b[11] = AIPM_BIND_REAL(m->cap_value);
        out->cap = m->cap_value;
        out->capped = 1;
    } else if (m->cap_percentile > 0) {
        /* Winsorize at the pooled percentile of the per-unit values. */
        double cap = NAN;

        b[12] = AIPM_BIND_REAL(m->cap_percentile);
        rc = aipm_store_query(st, experiment_quantile_sql[acct][events == NULL],
                              b, 16, quantile, &cap, err);
        if (rc == AIPM_OK && !isnan(cap)) {
            b[11] = AIPM_BIND_REAL(cap);
            out->cap = cap;
            out->capped = 1;
        }
    }
    if (rc == AIPM_OK && levels) {
        collect_by cb = {levels, e};
        char path[300];

        snprintf(path, sizeof(path), "$.\"%s\"", trait);
        b[13] = AIPM_BIND_TEXT(path);
        memset(levels, 0, sizeof(*levels));
        rc = aipm_store_query(st, experiment_by_sql[acct][events == NULL], b,
                              16, row_by, &cb, err);
    } else if (rc == AIPM_OK) {
        rc = aipm_store_query(st, experiment_sql[acct][events == NULL], b, 16,
                              row, &c, err);
    }
    free(events);
    free(den_events);
    return rc;
}

int aipm_metrics_experiment(aipm_exposures *out, aipm_store *st,
                            const aipm_config *cfg,
                            const aipm_experiment_def *e, const aipm_metric *m,
                            int64_t start_ms, int64_t end_ms, int pre_days,
                            aipm_error *err)
{
    return experiment_stats(out, NULL, NULL, st, cfg, e, m, start_ms, end_ms,
                            pre_days, err);
}

int aipm_metrics_experiment_by(aipm_levels *out, aipm_store *st,
                               const aipm_config *cfg,
                               const aipm_experiment_def *e,
                               const aipm_metric *m, const char *trait,
                               int64_t start_ms, int64_t end_ms, int pre_days,
                               aipm_error *err)
{
    aipm_exposures all;

    return experiment_stats(&all, out, trait, st, cfg, e, m, start_ms, end_ms,
                            pre_days, err);
}
