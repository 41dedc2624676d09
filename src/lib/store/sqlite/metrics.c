/* metrics.c - the experiments' and populations' moments, in SQLite's
 * dialect (store.h: aipm_store_exposure_moments, _exposure_quantile,
 * _population_moments).
 *
 * Every metric of an experiment runs through one statement whose shape is
 * fixed; what differs between metric types is bound, not spliced: the
 * events that count (a JSON array bound as ?4, or NULL for any event), the
 * window relative to exposure (?5, ?6), a numeric property to sum (?7, a
 * JSON path) or 1 per event, a property filter (?8 path, ?9 value), the
 * pre-exposure window for CUPED (?10), whether the per-unit value is a
 * 0/1 conversion (?11), the cap (?12), the quantile (?13), the --by trait
 * (?14), and a ratio's denominator (?15 events, ?16 property, ?17/?18 its
 * filter). The events are scanned once per metric and one row of moments
 * per variation comes back.
 */
#include "store/sqlite/sqlite_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
          " WHERE " SQ_ACCEPTED "),"                                           \
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
          "    AND x.batch_id IN ok"                                           \
          "    AND (?17 IS NULL OR json_extract(x.payload, ?17) = ?18))"       \
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

void aipm_sqlite__bind_path(sqlite3_stmt *st, int i, const char *name)
{
    char path[300];

    if (name == NULL) {
        sqlite3_bind_null(st, i);
        return;
    }
    snprintf(path, sizeof(path), "$.\"%s\"", name);
    sqlite3_bind_text(st, i, path, -1, SQLITE_TRANSIENT);
}

int aipm_sqlite__bind_measure(sqlite3_stmt *st, const aipm_event_measure *m,
                              int events, int prop, int where, int value)
{
    if (events) {
        int oom;
        char *text = aipm_store__events_json(m, &oom);

        if (oom)
            return AIPM_ENOMEM;
        if (text)
            sqlite3_bind_text(st, events, text, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, events);
        free(text);
    }
    if (prop)
        aipm_sqlite__bind_path(st, prop, m->sum_property);
    if (where)
        aipm_sqlite__bind_path(st, where, m->where_key);
    if (value)
        aipm_sqlite__bind_text(st, value, m->where_key ? m->where_value : NULL);
    return AIPM_OK;
}

/* Prepare sql and bind the query's parameters ?1..?18 (?13 = quantile,
 * ?14 = the trait or NULL). */
static int prepare_exposure(sqlite_store *s, sqlite3_stmt **st, const char *sql,
                            const aipm_exposure_query *q, double quantile,
                            const char *trait, aipm_error *err)
{
    int rc;

    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    aipm_sqlite__bind_text(*st, 1, q->experiment);
    sqlite3_bind_int64(*st, 2, q->start_ms);
    sqlite3_bind_int64(*st, 3, q->end_ms);
    sqlite3_bind_int64(*st, 5, q->lo_ms);
    sqlite3_bind_int64(*st, 6, q->hi_ms);
    sqlite3_bind_int64(*st, 10, q->x ? 0 : q->pre_ms);
    sqlite3_bind_int(*st, 11, q->conversion != 0);
    if (!isnan(q->cap))
        sqlite3_bind_double(*st, 12, q->cap);
    sqlite3_bind_double(*st, 13, quantile);
    aipm_sqlite__bind_path(*st, 14, trait);
    rc = aipm_sqlite__bind_measure(*st, &q->y, 4, 7, 8, 9);
    if (rc == AIPM_OK && q->x)
        rc = aipm_sqlite__bind_measure(*st, q->x, 15, 16, 17, 18);
    if (rc != AIPM_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    return AIPM_OK;
}

static void read_moments(sqlite3_stmt *st, int col, aipm_unit_moments *m)
{
    m->n = sqlite3_column_double(st, col);
    m->sum = sqlite3_column_double(st, col + 1);
    m->sum_sq = sqlite3_column_double(st, col + 2);
    m->x_sum = sqlite3_column_double(st, col + 3);
    m->x_sum_sq = sqlite3_column_double(st, col + 4);
    m->xy_sum = sqlite3_column_double(st, col + 5);
}

static int moments_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_unit_moments m;

    read_moments(st, 1, &m);
    return ((aipm_moments_cb)r->cb)(
        r->ctx, NULL, (const char *)sqlite3_column_text(st, 0), &m);
}

static int level_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_unit_moments m;

    read_moments(st, 2, &m);
    return ((aipm_moments_cb)r->cb)(
        r->ctx, (const char *)sqlite3_column_text(st, 0),
        (const char *)sqlite3_column_text(st, 1), &m);
}

/* The statement for a query: [by account][any event]. */
static int any_events(const aipm_exposure_query *q)
{
    return q->y.any_event != 0;
}

int sq_exposure_moments(aipm_store *base, const aipm_exposure_query *q,
                        const char *by_trait, aipm_moments_cb cb, void *ctx,
                        aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    int acct = q->by_account != 0, any = any_events(q), rc;
    const char *sql =
        by_trait ? experiment_by_sql[acct][any] : experiment_sql[acct][any];
    sqlite3_stmt *st = NULL;

    if ((rc = prepare_exposure(s, &st, sql, q, 0, by_trait, err)) != 0)
        return rc;
    return aipm_sqlite__each_row(s, st, by_trait ? level_each : moments_each,
                                 &(aipm_sqlite__relay){(void (*)(void))cb, ctx},
                                 err);
}

static int quantile_each(sqlite3_stmt *st, void *ctx)
{
    if (sqlite3_column_type(st, 0) != SQLITE_NULL)
        *(double *)ctx = sqlite3_column_double(st, 0);
    return 0;
}

int sq_exposure_quantile(aipm_store *base, const aipm_exposure_query *q,
                         double p, double *out, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    *out = NAN;
    rc = prepare_exposure(
        s, &st, experiment_quantile_sql[q->by_account != 0][any_events(q)], q,
        p, NULL, err);
    if (rc != AIPM_OK)
        return rc;
    return aipm_sqlite__each_row(s, st, quantile_each, out, err);
}

static int population_each(sqlite3_stmt *st, void *ctx)
{
    aipm_unit_moments *o = ctx;

    o->n = sqlite3_column_double(st, 0);
    o->sum = sqlite3_column_double(st, 1);
    o->sum_sq = sqlite3_column_double(st, 2);
    return 0;
}

int sq_population_moments(aipm_store *base, const aipm_event_measure *m,
                          int by_account, int conversion, int64_t from_ms,
                          int64_t to_ms, aipm_unit_moments *out,
                          aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    memset(out, 0, sizeof(*out));
    if (sqlite3_prepare_v2(s->db, population_sql[by_account != 0], -1, &st,
                           NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    sqlite3_bind_int64(st, 1, from_ms);
    sqlite3_bind_int64(st, 2, to_ms);
    sqlite3_bind_int(st, 7, conversion != 0);
    if (aipm_sqlite__bind_measure(st, m, 3, 4, 5, 6) != AIPM_OK) {
        sqlite3_finalize(st);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    return aipm_sqlite__each_row(s, st, population_each, out, err);
}
