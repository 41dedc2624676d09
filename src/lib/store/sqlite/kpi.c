/* kpi.c - KPIs and product analytics in SQLite's dialect (store.h:
 * aipm_store_kpi_*).
 *
 * The periods travel into SQL as one bound JSON array of [first, last] day
 * pairs (?3, with the range's first and last day as ?1 and ?2), which
 * every statement expands into a day -> period table, dp; the events then
 * join dp on their UTC day (ts / 86400000), one equi-join. Nothing from
 * input or aipm.yaml is spliced into the text: event names, JSON paths,
 * windows and days are all bound.
 *
 * Statements, each one scan of the events:
 *  - standard_sql: distinct (user, day) pairs of activity up to `to` (ud)
 *    and each user's first day (fs), then four kinds of rows: daily
 *    actives per period ('a'), WAU and MAU at each period's last day
 *    through a period x 30-day table ('w'), new users and their D1/D7/D30
 *    ('n'), and weekly cohort cells ('c');
 *  - features_sql: users of each catalog feature per period;
 *  - one per KPI: conversion_sql (first event of the metric against the
 *    user's first seen), retention_sql, or events_sql (count, sum and
 *    adoption over the period's events), and for accounts
 *    active_accounts_sql.
 */
#include "store/sqlite/sqlite_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ?1, ?2: first and last day of the range (days since 1970-01-01, UTC);
 * ?3: the periods, [[first, last], ...], their index the period number. */
#define PERIODS_CTE                                                            \
    "WITH RECURSIVE"                                                           \
    " per(p, d0, d1) AS MATERIALIZED ("                                        \
    "  SELECT key, json_extract(value, '$[0]'), json_extract(value, '$[1]')"   \
    "  FROM json_each(?3)),"                                                   \
    " days(day) AS (SELECT ?1 UNION ALL SELECT day + 1 FROM days"              \
    "  WHERE day < ?2),"                                                       \
    " dp(day, p) AS MATERIALIZED (SELECT d.day, per.p FROM days d"             \
    "  JOIN per ON d.day BETWEEN per.d0 AND per.d1)"

/* Activity: distinct (user, UTC day) pairs with any event up to the last
 * day, and each user's first day. Anonymous events (no user_id) are not
 * users. */
#define USER_DAYS_CTE(UNIT, FROM)                                              \
    " ud(u, day) AS MATERIALIZED ("                                            \
    "  SELECT " UNIT ", x.ts / 86400000 FROM " FROM "  WHERE " UNIT            \
    " IS NOT NULL"                                                             \
    "  AND x.type IN ('track', 'identify', 'group')"                           \
    "  AND x.ts < (?2 + 1) * 86400000 GROUP BY 1, 2),"                         \
    " fs(u, d0) AS MATERIALIZED (SELECT u, min(day) FROM ud GROUP BY u)"

/* The unit of a KPI's metric and the rows that carry it: a user, or the
 * account of the event's user (unit: account, AIPM_MEMBERS_CTE). */
#define USERS "", "x.user_id", "v_events x"
#define ACCOUNTS                                                               \
    "," AIPM_MEMBERS_CTE("(?2 + 1) * 86400000"), "m.acct",                     \
        "v_events x JOIN mem m ON m.user_id = x.user_id"

static const char standard_sql[] = PERIODS_CTE "," USER_DAYS_CTE(
    "x.user_id",
    "v_events x") ","
                  " seq(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM seq WHERE "
                  "k < 29),"
                  " win(p, day, in7) AS MATERIALIZED ("
                  "  SELECT per.p, per.d1 - seq.k, seq.k < 7 FROM per JOIN "
                  "seq),"
                  " nu(u, d0, r1, r7, r30) AS ("
                  "  SELECT f.u, f.d0, max(x.day = f.d0 + 1), max(x.day = f.d0 "
                  "+ 7),"
                  "  max(x.day = f.d0 + 30) FROM fs f JOIN ud x ON x.u = f.u"
                  "  WHERE f.d0 BETWEEN ?1 AND ?2 AND x.day <= f.d0 + 30"
                  "  GROUP BY f.u, f.d0)"
                  " SELECT 'a', dp.p, count(*), count(DISTINCT ud.u), 0, 0, 0, "
                  "0, 0"
                  " FROM ud JOIN dp ON dp.day = ud.day GROUP BY dp.p"
                  " UNION ALL"
                  " SELECT 'w', win.p, count(DISTINCT CASE WHEN win.in7 THEN "
                  "ud.u END),"
                  "  count(DISTINCT ud.u), 0, 0, 0, 0, 0"
                  " FROM ud JOIN win ON win.day = ud.day GROUP BY win.p"
                  " UNION ALL"
                  " SELECT 'n', dp.p, count(*), total(nu.r1), total(nu.d0 + 1 "
                  "<= ?2),"
                  "  total(nu.r7), total(nu.d0 + 7 <= ?2), total(nu.r30),"
                  "  total(nu.d0 + 30 <= ?2)"
                  " FROM nu JOIN dp ON dp.day = nu.d0 GROUP BY dp.p"
                  " UNION ALL"
                  " SELECT 'c', (f.d0 + 3) / 7, (x.day + 3) / 7 - (f.d0 + 3) / "
                  "7,"
                  "  count(DISTINCT f.u), 0, 0, 0, 0, 0"
                  " FROM fs f JOIN ud x ON x.u = f.u WHERE f.d0 BETWEEN ?1 AND "
                  "?2"
                  " GROUP BY 2, 3";

/* Users of each catalog feature per period. ?4: [[event, feature], ...]. */
static const char features_sql[] = PERIODS_CTE
    ","
    " fe(ev, f) AS MATERIALIZED (SELECT json_extract(value, '$[0]'),"
    "  json_extract(value, '$[1]') FROM json_each(?4))"
    " SELECT dp.p, fe.f, count(DISTINCT e.user_id)"
    " FROM v_events e JOIN fe ON fe.ev = e.event"
    " JOIN dp ON dp.day = e.ts / 86400000"
    " WHERE e.user_id IS NOT NULL AND e.ts >= ?1 * 86400000"
    "  AND e.ts < (?2 + 1) * 86400000"
    " GROUP BY 1, 2";

/* Conversion: per period, units first seen in it and those whose first
 * metric event (?4 names, ?6/?7 property filter) came within ?5 ms of
 * their first event. */
#define CONVERSION(WITH, UNIT, FROM)                                           \
    PERIODS_CTE WITH                                                           \
        ","                                                                    \
        " fs(u, t0, t1) AS MATERIALIZED ("                                     \
        "  SELECT " UNIT ", min(x.ts), min(CASE WHEN x.event IN"               \
        "   (SELECT value FROM json_each(?4))"                                 \
        "   AND (?6 IS NULL OR json_extract(x.payload, ?6) = ?7) THEN x.ts "   \
        "END)"                                                                 \
        "  FROM " FROM " WHERE " UNIT " IS NOT NULL"                           \
        "  AND x.type IN ('track', 'identify', 'group')"                       \
        "  AND x.ts < (?2 + 1) * 86400000 GROUP BY 1)"                         \
        " SELECT dp.p, count(*), total(fs.t1 < fs.t0 + ?5)"                    \
        " FROM fs JOIN dp ON dp.day = fs.t0 / 86400000 GROUP BY dp.p"

/* Retention: per period, units first seen in it whose days ?4..?5 after
 * the first day have all passed by the last day, and those of them
 * active on any of those days. */
#define RETENTION(WITH, UNIT, FROM)                                            \
    PERIODS_CTE WITH "," USER_DAYS_CTE(                                        \
        UNIT,                                                                  \
        FROM) ","                                                              \
              " r(u, d0, hit) AS ("                                            \
              "  SELECT f.u, f.d0, max(x.day BETWEEN f.d0 + ?4 AND f.d0 + ?5)" \
              "  FROM fs f JOIN ud x ON x.u = f.u WHERE f.d0 BETWEEN ?1 AND "  \
              "?2"                                                             \
              "  GROUP BY f.u, f.d0)"                                          \
              " SELECT dp.p, total(r.d0 + ?5 <= ?2), total(r.hit AND r.d0 + "  \
              "?5 <= ?2)"                                                      \
              " FROM r JOIN dp ON dp.day = r.d0 GROUP BY dp.p"

/* Count, sum and adoption: per period, the metric's events (?4), the sum
 * of a numeric property (?5, a JSON path; NULL: 1 per event) and the
 * distinct units who did them, with the ?6/?7 property filter. */
#define EVENTS(WITH, UNIT, FROM)                                               \
    PERIODS_CTE WITH                                                           \
        " SELECT dp.p, count(*), total(coalesce(json_extract(x.payload, ?5),"  \
        "  CASE WHEN ?5 IS NULL THEN 1 ELSE 0 END)), count(DISTINCT " UNIT ")" \
        " FROM " FROM " JOIN dp ON dp.day = x.ts / 86400000"                   \
        " WHERE " UNIT " IS NOT NULL AND x.ts >= ?1 * 86400000"                \
        "  AND x.ts < (?2 + 1) * 86400000"                                     \
        "  AND x.event IN (SELECT value FROM json_each(?4))"                   \
        "  AND (?6 IS NULL OR json_extract(x.payload, ?6) = ?7)"               \
        " GROUP BY dp.p"

/* Active units per period (the denominator of count, sum and adoption);
 * for users it comes with standard_sql, for accounts from here. */
#define ACTIVE(WITH, UNIT, FROM)                                               \
    PERIODS_CTE WITH                                                           \
        " SELECT dp.p, count(DISTINCT " UNIT ")"                               \
        " FROM " FROM " JOIN dp ON dp.day = x.ts / 86400000"                   \
        " WHERE " UNIT " IS NOT NULL AND x.ts >= ?1 * 86400000"                \
        "  AND x.ts < (?2 + 1) * 86400000"                                     \
        "  AND x.type IN ('track', 'identify', 'group') GROUP BY dp.p"

/* Expand a macro's arguments before the call (USERS, ACCOUNTS). */
#define APPLY(M, ARGS) M(ARGS)

/* [0]: users, [1]: accounts. */
static const char *const conversion_sql[2] = {APPLY(CONVERSION, USERS),
                                              APPLY(CONVERSION, ACCOUNTS)};
static const char *const retention_sql[2] = {APPLY(RETENTION, USERS),
                                             APPLY(RETENTION, ACCOUNTS)};
static const char *const events_sql[2] = {APPLY(EVENTS, USERS),
                                          APPLY(EVENTS, ACCOUNTS)};
static const char active_accounts_sql[] = APPLY(ACTIVE, ACCOUNTS);

/* Prepare sql with the periods bound as ?1..?3. */
static int prepare(sqlite_store *s, sqlite3_stmt **st, const char *sql,
                   const aipm_periods *p, aipm_error *err)
{
    char *text;

    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    if ((text = aipm_store__periods_json(p)) == NULL) {
        sqlite3_finalize(*st);
        *st = NULL;
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    sqlite3_bind_int64(*st, 1, p->from_day);
    sqlite3_bind_int64(*st, 2, p->to_day);
    sqlite3_bind_text(*st, 3, text, -1, SQLITE_TRANSIENT);
    free(text);
    return AIPM_OK;
}

static int oom(sqlite3_stmt *st, aipm_error *err)
{
    sqlite3_finalize(st);
    return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
}

static int period_each(sqlite3_stmt *st, void *ctx)
{
    double v[3] = {0, 0, 0};
    int j;

    for (j = 0; j < 3 && j + 1 < sqlite3_column_count(st); j++)
        v[j] = sqlite3_column_double(st, 1 + j);
    aipm_store__period_cols_put(ctx, sqlite3_column_int64(st, 0), v);
    return 0;
}

/* Step st into the columns, zeroed first. */
static int run_periods(sqlite_store *s, sqlite3_stmt *st, const aipm_periods *p,
                       int width, double *a, double *b, double *c,
                       aipm_error *err)
{
    aipm_store__period_cols pc = {p->n, width, {a, b, c}};

    aipm_store__period_cols_zero(&pc);
    return aipm_sqlite__each_row(s, st, period_each, &pc, err);
}

static int activity_each(sqlite3_stmt *st, void *ctx)
{
    const char *kind = (const char *)sqlite3_column_text(st, 0);
    double v[7];
    int j;

    if (kind == NULL)
        return 0;
    for (j = 0; j < 7; j++)
        v[j] = sqlite3_column_double(st, 2 + j);
    return aipm_store__activity_row(ctx, kind[0], sqlite3_column_int64(st, 1),
                                    v);
}

int sq_kpi_activity(aipm_store *base, const aipm_periods *p,
                    aipm_period_activity *out, aipm_cohort_cb cohort, void *ctx,
                    aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    aipm_store__activity a = {p, out, cohort, ctx};
    int rc;

    memset(out, 0, (size_t)p->n * sizeof(*out));
    if ((rc = prepare(s, &st, standard_sql, p, err)) != 0)
        return rc;
    return aipm_sqlite__each_row(s, st, activity_each, &a, err);
}

typedef struct features {
    int n_periods, n_features;
    double *out;
} features;

static int feature_each(sqlite3_stmt *st, void *ctx)
{
    features *f = ctx;
    int64_t i = sqlite3_column_int64(st, 0), j = sqlite3_column_int64(st, 1);

    if (i < 0 || i >= f->n_periods || j < 0 || j >= f->n_features)
        return 0;
    f->out[i * f->n_features + j] = sqlite3_column_double(st, 2);
    return 0;
}

int sq_kpi_feature_users(aipm_store *base, const aipm_periods *p,
                         const char *const *events, const int *feature_of,
                         int n_events, int n_features, double *out,
                         aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    features f = {p->n, n_features, out};
    char *text;
    int rc;

    memset(out, 0, (size_t)p->n * (size_t)n_features * sizeof(double));
    if ((text = aipm_store__feature_pairs_json(events, feature_of, n_events)) ==
        NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if ((rc = prepare(s, &st, features_sql, p, err)) != 0) {
        free(text);
        return rc;
    }
    sqlite3_bind_text(st, 4, text, -1, SQLITE_TRANSIENT);
    free(text);
    return aipm_sqlite__each_row(s, st, feature_each, &f, err);
}

int sq_kpi_conversion(aipm_store *base, const aipm_periods *p,
                      const aipm_event_measure *m, int by_account,
                      int64_t window_ms, double *first, double *converted,
                      aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = prepare(s, &st, conversion_sql[by_account != 0], p, err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 5, window_ms);
    if (aipm_sqlite__bind_measure(st, m, 4, 0, 6, 7) != AIPM_OK)
        return oom(st, err);
    return run_periods(s, st, p, 2, first, converted, NULL, err);
}

int sq_kpi_retention(aipm_store *base, const aipm_periods *p, int by_account,
                     int from_day, int to_day, double *eligible,
                     double *retained, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = prepare(s, &st, retention_sql[by_account != 0], p, err)) != 0)
        return rc;
    sqlite3_bind_int(st, 4, from_day);
    sqlite3_bind_int(st, 5, to_day);
    return run_periods(s, st, p, 2, eligible, retained, NULL, err);
}

int sq_kpi_events(aipm_store *base, const aipm_periods *p,
                  const aipm_event_measure *m, int by_account, double *count,
                  double *sum, double *units, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = prepare(s, &st, events_sql[by_account != 0], p, err)) != 0)
        return rc;
    if (aipm_sqlite__bind_measure(st, m, 4, 5, 6, 7) != AIPM_OK)
        return oom(st, err);
    return run_periods(s, st, p, 3, count, sum, units, err);
}

int sq_kpi_active_accounts(aipm_store *base, const aipm_periods *p, double *out,
                           aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = prepare(s, &st, active_accounts_sql, p, err)) != 0)
        return rc;
    return run_periods(s, st, p, 1, out, NULL, NULL, err);
}
