/* kpi.c - KPIs and product analytics in PostgreSQL's dialect (store.h:
 * aipm_store_kpi_*), statement for statement the SQLite backend's
 * (sqlite/kpi.c explains each): $1, $2 the range's first and last day,
 * $3 the periods as a JSON array of [first, last] pairs, expanded into a
 * day -> period table (dp) that the events join on their UTC day.
 */
#include "store/pg/pg_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERIODS_CTE                                                            \
    "WITH RECURSIVE"                                                           \
    " per(p, d0, d1) AS MATERIALIZED ("                                        \
    "  SELECT ord - 1, (value ->> 0)::bigint, (value ->> 1)::bigint"           \
    "  FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(value, "      \
    "ord)),"                                                                   \
    " days(day) AS (SELECT $1 UNION ALL SELECT day + 1 FROM days"              \
    "  WHERE day < $2),"                                                       \
    " dp(day, p) AS MATERIALIZED (SELECT d.day, per.p FROM days d"             \
    "  JOIN per ON d.day BETWEEN per.d0 AND per.d1)"

#define USER_DAYS_CTE(UNIT, FROM)                                              \
    " ud(u, day) AS MATERIALIZED ("                                            \
    "  SELECT " UNIT ", x.ts / 86400000 FROM " FROM "  WHERE " UNIT            \
    " IS NOT NULL"                                                             \
    "  AND x.type IN ('track', 'identify', 'group')"                           \
    "  AND x.ts < ($2 + 1) * 86400000 GROUP BY 1, 2),"                         \
    " fs(u, d0) AS MATERIALIZED (SELECT u, min(day) FROM ud GROUP BY u)"

#define USERS "", "x.user_id", "v_events x"
#define ACCOUNTS                                                               \
    "," PG_MEMBERS_CTE("($2 + 1) * 86400000"), "m.acct",                       \
        "v_events x JOIN mem m ON m.user_id = x.user_id"

static const char standard_sql[] = PERIODS_CTE "," USER_DAYS_CTE(
    "x.user_id",
    "v_events x") ","
                  " seq(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM seq WHERE "
                  "k < 29),"
                  " win(p, day, in7) AS MATERIALIZED ("
                  "  SELECT per.p, per.d1 - seq.k, seq.k < 7 FROM per CROSS "
                  "JOIN seq),"
                  " nu(u, d0, r1, r7, r30) AS ("
                  "  SELECT f.u, f.d0, max((x.day = f.d0 + 1)::int),"
                  "  max((x.day = f.d0 + 7)::int), max((x.day = f.d0 + "
                  "30)::int)"
                  "  FROM fs f JOIN ud x ON x.u = f.u"
                  "  WHERE f.d0 BETWEEN $1 AND $2 AND x.day <= f.d0 + 30"
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
                  " SELECT 'n', dp.p, count(*), sum(nu.r1), sum((nu.d0 + 1 <= "
                  "$2)::int),"
                  "  sum(nu.r7), sum((nu.d0 + 7 <= $2)::int), sum(nu.r30),"
                  "  sum((nu.d0 + 30 <= $2)::int)"
                  " FROM nu JOIN dp ON dp.day = nu.d0 GROUP BY dp.p"
                  " UNION ALL"
                  " SELECT 'c', (f.d0 + 3) / 7, (x.day + 3) / 7 - (f.d0 + 3) / "
                  "7,"
                  "  count(DISTINCT f.u), 0, 0, 0, 0, 0"
                  " FROM fs f JOIN ud x ON x.u = f.u WHERE f.d0 BETWEEN $1 AND "
                  "$2"
                  " GROUP BY 2, 3";

static const char features_sql[] = PERIODS_CTE
    ","
    " fe(ev, f) AS MATERIALIZED (SELECT value ->> 0, (value ->> 1)::bigint"
    "  FROM jsonb_array_elements($4::jsonb) AS e(value))"
    " SELECT dp.p, fe.f, count(DISTINCT x.user_id)"
    " FROM v_events x JOIN fe ON fe.ev = x.event"
    " JOIN dp ON dp.day = x.ts / 86400000"
    " WHERE x.user_id IS NOT NULL AND x.ts >= $1 * 86400000"
    "  AND x.ts < ($2 + 1) * 86400000"
    " GROUP BY 1, 2";

#define CONVERSION(WITH, UNIT, FROM)                                           \
    PERIODS_CTE WITH                                                           \
        ","                                                                    \
        " fs(u, t0, t1) AS MATERIALIZED ("                                     \
        "  SELECT " UNIT                                                       \
        ", min(x.ts), min(CASE WHEN " IN_LIST("$4::jsonb") "   AND " MATCH(    \
            "$6",                                                              \
            "$7") " THEN x.ts END)"                                            \
                  "  FROM " FROM " WHERE " UNIT " IS NOT NULL"                 \
                  "  AND x.type IN ('track', 'identify', 'group')"             \
                  "  AND x.ts < ($2 + 1) * 86400000 GROUP BY 1)"               \
                  " SELECT dp.p, count(*), sum((fs.t1 < fs.t0 + $5)::int)"     \
                  " FROM fs JOIN dp ON dp.day = fs.t0 / 86400000 GROUP BY "    \
                  "dp.p"

#define RETENTION(WITH, UNIT, FROM)                                            \
    PERIODS_CTE WITH "," USER_DAYS_CTE(                                        \
        UNIT, FROM) ","                                                        \
                    " r(u, d0, hit) AS ("                                      \
                    "  SELECT f.u, f.d0, max((x.day BETWEEN f.d0 + $4 AND "    \
                    "f.d0 + $5)::int)"                                         \
                    "  FROM fs f JOIN ud x ON x.u = f.u WHERE f.d0 BETWEEN "   \
                    "$1 AND $2"                                                \
                    "  GROUP BY f.u, f.d0)"                                    \
                    " SELECT dp.p, sum((r.d0 + $5 <= $2)::int),"               \
                    "  sum((r.hit = 1 AND r.d0 + $5 <= $2)::int)"              \
                    " FROM r JOIN dp ON dp.day = r.d0 GROUP BY dp.p"

#define EVENTS(WITH, UNIT, FROM)                                               \
    PERIODS_CTE WITH " SELECT dp.p, count(*), coalesce(sum(CASE WHEN "         \
                     "$5::text IS NULL THEN 1"                                 \
                     "  ELSE aipm_num(aipm_get(x.payload, $5)) END), 0),"      \
                     "  count(DISTINCT " UNIT ")"                              \
                     " FROM " FROM " JOIN dp ON dp.day = x.ts / 86400000"      \
                     " WHERE " UNIT " IS NOT NULL AND x.ts >= $1 * 86400000"   \
                     "  AND x.ts < ($2 + 1) * 86400000"                        \
                     "  AND " IN_LIST("$4::jsonb") " AND " MATCH(              \
                         "$6", "$7") " GROUP BY dp.p"

#define ACTIVE(WITH, UNIT, FROM)                                               \
    PERIODS_CTE WITH                                                           \
        " SELECT dp.p, count(DISTINCT " UNIT ")"                               \
        " FROM " FROM " JOIN dp ON dp.day = x.ts / 86400000"                   \
        " WHERE " UNIT " IS NOT NULL AND x.ts >= $1 * 86400000"                \
        "  AND x.ts < ($2 + 1) * 86400000"                                     \
        "  AND x.type IN ('track', 'identify', 'group') GROUP BY dp.p"

#define APPLY(M, ARGS) M(ARGS)

static const char *const conversion_sql[2] = {APPLY(CONVERSION, USERS),
                                              APPLY(CONVERSION, ACCOUNTS)};
static const char *const retention_sql[2] = {APPLY(RETENTION, USERS),
                                             APPLY(RETENTION, ACCOUNTS)};
static const char *const events_sql[2] = {APPLY(EVENTS, USERS),
                                          APPLY(EVENTS, ACCOUNTS)};
static const char active_accounts_sql[] = APPLY(ACTIVE, ACCOUNTS);

/* $1..$3 (the range and the periods; *text: the caller frees it). */
static int add_periods(pg_params *pp, const aipm_periods *p, char **text)
{
    if ((*text = aipm_store__periods_json(p)) == NULL)
        return AIPM_ENOMEM;
    aipm_pg__int(pp, p->from_day);
    aipm_pg__int(pp, p->to_day);
    aipm_pg__text(pp, *text);
    return AIPM_OK;
}

/* A measure's events as JSON (a KPI's measure always lists them); NULL
 * when out of memory. */
static char *events_json(const aipm_event_measure *m)
{
    int oom;

    return aipm_store__events_json(m, &oom);
}

static int period_each(PGresult *r, void *ctx)
{
    double v[3] = {0, 0, 0};
    int j;

    for (j = 0; j < 3 && j + 1 < PQnfields(r); j++)
        v[j] = aipm_pg__col_real(r, 1 + j);
    aipm_store__period_cols_put(ctx, aipm_pg__col_int(r, 0), v);
    return 0;
}

/* Run sql into the columns, zeroed first. */
static int run_periods(pg_store *s, const char *sql, const pg_params *pp,
                       const aipm_periods *p, int width, double *a, double *b,
                       double *c, aipm_error *err)
{
    aipm_store__period_cols pc = {p->n, width, {a, b, c}};

    aipm_store__period_cols_zero(&pc);
    return aipm_pg__each_row(s, sql, pp, period_each, &pc, err);
}

static int activity_each(PGresult *r, void *ctx)
{
    const char *kind = aipm_pg__col(r, 0);
    double v[7];
    int j;

    if (kind == NULL)
        return 0;
    for (j = 0; j < 7; j++)
        v[j] = aipm_pg__col_real(r, 2 + j);
    return aipm_store__activity_row(ctx, kind[0], aipm_pg__col_int(r, 1), v);
}

static int oom(aipm_error *err)
{
    return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
}

int pg_kpi_activity(aipm_store *base, const aipm_periods *p,
                    aipm_period_activity *out, aipm_cohort_cb cohort, void *ctx,
                    aipm_error *err)
{
    aipm_store__activity a = {p, out, cohort, ctx};
    pg_params pp = {0};
    char *text;
    int rc;

    memset(out, 0, (size_t)p->n * sizeof(*out));
    if (add_periods(&pp, p, &text) != 0)
        return oom(err);
    rc = aipm_pg__each_row((pg_store *)base, standard_sql, &pp, activity_each,
                           &a, err);
    free(text);
    return rc;
}

typedef struct features {
    int n_periods, n_features;
    double *out;
} features;

static int feature_each(PGresult *r, void *ctx)
{
    features *f = ctx;
    int64_t i = aipm_pg__col_int(r, 0), j = aipm_pg__col_int(r, 1);

    if (i < 0 || i >= f->n_periods || j < 0 || j >= f->n_features)
        return 0;
    f->out[i * f->n_features + j] = aipm_pg__col_real(r, 2);
    return 0;
}

int pg_kpi_feature_users(aipm_store *base, const aipm_periods *p,
                         const char *const *events, const int *feature_of,
                         int n_events, int n_features, double *out,
                         aipm_error *err)
{
    features f = {p->n, n_features, out};
    pg_params pp = {0};
    char *text = NULL,
         *pairs_text =
             aipm_store__feature_pairs_json(events, feature_of, n_events);
    int rc;

    memset(out, 0, (size_t)p->n * (size_t)n_features * sizeof(double));
    if (pairs_text == NULL || add_periods(&pp, p, &text) != 0) {
        free(pairs_text);
        return oom(err);
    }
    aipm_pg__text(&pp, pairs_text);
    rc = aipm_pg__each_row((pg_store *)base, features_sql, &pp, feature_each,
                           &f, err);
    free(text);
    free(pairs_text);
    return rc;
}

int pg_kpi_conversion(aipm_store *base, const aipm_periods *p,
                      const aipm_event_measure *m, int by_account,
                      int64_t window_ms, double *first, double *converted,
                      aipm_error *err)
{
    pg_params pp = {0};
    char *text = NULL, *events = events_json(m);
    int rc;

    if (events == NULL || add_periods(&pp, p, &text) != 0) {
        free(events);
        return oom(err);
    }
    aipm_pg__text(&pp, events);
    aipm_pg__int(&pp, window_ms);
    aipm_pg__text(&pp, m->where_key);
    aipm_pg__text(&pp, m->where_key ? m->where_value : NULL);
    rc = run_periods((pg_store *)base, conversion_sql[by_account != 0], &pp, p,
                     2, first, converted, NULL, err);
    free(text);
    free(events);
    return rc;
}

int pg_kpi_retention(aipm_store *base, const aipm_periods *p, int by_account,
                     int from_day, int to_day, double *eligible,
                     double *retained, aipm_error *err)
{
    pg_params pp = {0};
    char *text = NULL;
    int rc;

    if (add_periods(&pp, p, &text) != 0)
        return oom(err);
    aipm_pg__int(&pp, from_day);
    aipm_pg__int(&pp, to_day);
    rc = run_periods((pg_store *)base, retention_sql[by_account != 0], &pp, p,
                     2, eligible, retained, NULL, err);
    free(text);
    return rc;
}

int pg_kpi_events(aipm_store *base, const aipm_periods *p,
                  const aipm_event_measure *m, int by_account, double *count,
                  double *sum, double *units, aipm_error *err)
{
    pg_params pp = {0};
    char *text = NULL, *events = events_json(m);
    int rc;

    if (events == NULL || add_periods(&pp, p, &text) != 0) {
        free(events);
        return oom(err);
    }
    aipm_pg__text(&pp, events);
    aipm_pg__text(&pp, m->sum_property);
    aipm_pg__text(&pp, m->where_key);
    aipm_pg__text(&pp, m->where_key ? m->where_value : NULL);
    rc = run_periods((pg_store *)base, events_sql[by_account != 0], &pp, p, 3,
                     count, sum, units, err);
    free(text);
    free(events);
    return rc;
}

int pg_kpi_active_accounts(aipm_store *base, const aipm_periods *p, double *out,
                           aipm_error *err)
{
    pg_params pp = {0};
    char *text = NULL;
    int rc;

    if (add_periods(&pp, p, &text) != 0)
        return oom(err);
    rc = run_periods((pg_store *)base, active_accounts_sql, &pp, p, 1, out,
                     NULL, NULL, err);
    free(text);
    return rc;
}
