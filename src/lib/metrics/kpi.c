/* kpi.c - KPIs and product analytics, pushed down to the store as SQL.
 *
 * The report covers the UTC days [from, to] cut into periods (days, ISO
 * weeks from Monday, calendar months), each clipped to the range. The
 * periods travel into SQL as one bound JSON array of [first, last] day
 * pairs (?3, with the range's first and last day as ?1 and ?2), which
 * every statement expands into a day -> period table, dp; the events then
 * join dp on their UTC day (ts / 86400000), one equi-join. Nothing from
 * input or aipm.yaml is spliced into the text: event names, JSON paths,
 * windows and days are all bound, as in sql.c.
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
 *    adoption over the period's events).
 * Only counts per period come back; the C side divides and writes JSON.
 * Nothing after the last day is read, so a report of a past range does
 * not change as data arrives.
 */
#include "aipm/kpi.h"
#include "metrics/metrics_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define DEFAULT_DAYS 90
#define MAX_DAYS 3660
#define DEFAULT_WINDOW_DAYS 7

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

typedef struct period {
    int64_t start;       /* aligned start day (the period's label) */
    int64_t first, last; /* the days counted: clipped to the range */
    double dau_sum;      /* sum over its days of the day's active users */
    double active;       /* distinct users active in it */
    double wau, mau;     /* 7 and 30 days ending `last` */
    double new_users;
    double ret[3], elig[3]; /* D1, D7, D30: retained and eligible */
} period;

typedef struct report {
    int64_t from, to; /* day numbers */
    period *p;
    int n;
    char *periods_json;
    int64_t week0; /* ISO week number of `from`: (day + 3) / 7 */
    int n_weeks;
    double *cohort;   /* n_weeks x n_weeks: [cohort][weeks after] users */
    double *adoption; /* n x n_catalog: users of the feature */
    int n_features;
} report;

void aipm_kpi_opts_init(aipm_kpi_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->period = AIPM_KPI_WEEK;
    o->from_ms = -1;
    o->to_ms = -1;
}

const char *aipm_kpi_period_name(aipm_kpi_period p)
{
    return p == AIPM_KPI_DAY ? "day" : p == AIPM_KPI_MONTH ? "month" : "week";
}

/* ---- calendar ---- */

static void day_str(char out[16], int64_t day)
{
    char t[32];

    aipm_time_format(t, day * DAY_MS);
    memcpy(out, t, 10);
    out[10] = '\0';
}

/* The day of the first of day's month, or of the month after it. The
 * civil arithmetic stays in core/time.c: format, edit, parse. */
static int64_t month_start(int64_t day, int next)
{
    char d[16], s[32];
    int y, m;
    int64_t ms = 0;

    day_str(d, day);
    y = (int)strtol(d, NULL, 10);
    m = (int)strtol(d + 5, NULL, 10) + (next ? 1 : 0);
    if (m > 12) {
        m = 1;
        y++;
    }
    snprintf(s, sizeof(s), "%04d-%02d-01", y, m);
    aipm_time_parse(&ms, s, strlen(s), 1);
    return ms / DAY_MS;
}

/* ISO weeks start on Monday; day 0 (1970-01-01) was a Thursday, so day
 * d is in week (d + 3) / 7, which starts on day 7 * week - 3. */
static int64_t week_of(int64_t day)
{
    return (day + 3) / 7;
}
static int64_t week_start(int64_t week)
{
    return 7 * week - 3;
}

static int64_t period_start(aipm_kpi_period kind, int64_t day)
{
    if (kind == AIPM_KPI_DAY)
        return day;
    if (kind == AIPM_KPI_WEEK)
        return week_start(week_of(day));
    return month_start(day, 0);
}

static int64_t period_next(aipm_kpi_period kind, int64_t start)
{
    if (kind == AIPM_KPI_DAY)
        return start + 1;
    if (kind == AIPM_KPI_WEEK)
        return start + 7;
    return month_start(start, 1);
}

static int build_periods(report *r, aipm_kpi_period kind, aipm_error *err)
{
    aipm_buf b;
    int64_t s;
    int cap = (int)(r->to - r->from) + 2;

    if ((r->p = calloc((size_t)cap, sizeof(period))) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    aipm_buf_init(&b, 1 << 20);
    aipm_buf_puts(&b, "[");
    for (s = period_start(kind, r->from); s <= r->to && r->n < cap;
         s = period_next(kind, s)) {
        period *p = &r->p[r->n];
        int64_t end = period_next(kind, s) - 1;

        p->start = s;
        p->first = s < r->from ? r->from : s;
        p->last = end > r->to ? r->to : end;
        if (aipm_buf_printf(&b, "%s[%lld,%lld]", r->n ? "," : "",
                            (long long)p->first, (long long)p->last) != 0)
            break;
        r->n++;
    }
    if (aipm_buf_puts(&b, "]") != 0 ||
        (r->periods_json = strdup(aipm_buf_cstr(&b))) == NULL) {
        aipm_buf_free(&b);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    aipm_buf_free(&b);
    r->week0 = week_of(r->from);
    r->n_weeks = (int)(week_of(r->to) - r->week0 + 1);
    r->cohort = calloc((size_t)r->n_weeks * (size_t)r->n_weeks, sizeof(double));
    if (r->cohort == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    return AIPM_OK;
}

/* ---- queries ---- */

static int standard_row(void *ctx, int n, const char *const *text,
                        const double *num)
{
    report *r = ctx;
    period *p;
    int i;

    if (n < 9 || text[0] == NULL)
        return 0;
    if (text[0][0] == 'c') {
        int64_t cohort = (int64_t)num[1] - r->week0, lag = (int64_t)num[2];

        if (cohort >= 0 && lag >= 0 && cohort + lag < r->n_weeks)
            r->cohort[cohort * r->n_weeks + lag] = num[3];
        return 0;
    }
    if (num[1] < 0 || num[1] >= r->n)
        return 0;
    p = &r->p[(int)num[1]];
    switch (text[0][0]) {
    case 'a':
        p->dau_sum = num[2];
        p->active = num[3];
        break;
    case 'w':
        p->wau = num[2];
        p->mau = num[3];
        break;
    case 'n':
        p->new_users = num[2];
        for (i = 0; i < 3; i++) {
            p->ret[i] = num[3 + 2 * i];
            p->elig[i] = num[4 + 2 * i];
        }
        break;
    }
    return 0;
}

/* Per-period rows (period, c1, c2, ...) into out[p * width + j]. */
typedef struct cols {
    int n_periods, width;
    double *out;
} cols;

static int cols_row(void *ctx, int n, const char *const *text,
                    const double *num)
{
    cols *c = ctx;
    int j;

    (void)text;
    if (n < c->width + 1 || num[0] < 0 || num[0] >= c->n_periods)
        return 0;
    for (j = 0; j < c->width; j++)
        c->out[(int)num[0] * c->width + j] = num[1 + j];
    return 0;
}

static int feature_row(void *ctx, int n, const char *const *text,
                       const double *num)
{
    report *r = ctx;

    (void)text;
    if (n < 3 || num[0] < 0 || num[0] >= r->n || num[1] < 0 ||
        num[1] >= r->n_features)
        return 0;
    r->adoption[(int)num[0] * r->n_features + (int)num[1]] = num[2];
    return 0;
}

static int run_features(report *r, aipm_store *st, const aipm_config *cfg,
                        aipm_error *err)
{
    json_t *pairs = json_array();
    char *text = NULL;
    aipm_bind b[4];
    int i, j, rc = AIPM_OK;

    r->n_features = cfg->n_catalog;
    if (cfg->n_catalog == 0) {
        json_decref(pairs);
        return AIPM_OK;
    }
    r->adoption = calloc((size_t)r->n * (size_t)cfg->n_catalog, sizeof(double));
    for (i = 0; pairs && i < cfg->n_catalog; i++)
        for (j = 0; j < cfg->catalog[i].n_events; j++)
            json_array_append_new(
                pairs, json_pack("[s, i]", cfg->catalog[i].events[j], i));
    if (pairs)
        text = json_dumps(pairs, JSON_COMPACT);
    json_decref(pairs);
    if (r->adoption == NULL || text == NULL) {
        free(text);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    b[0] = AIPM_BIND_INT(r->from);
    b[1] = AIPM_BIND_INT(r->to);
    b[2] = AIPM_BIND_TEXT(r->periods_json);
    b[3] = AIPM_BIND_TEXT(text);
    rc = aipm_store_query(st, features_sql, b, 4, feature_row, r, err);
    free(text);
    return rc;
}

/* The metric's value per period into vals (NAN: no value). *note gets a
 * static reason when the metric cannot be computed (values stay NAN). */
static int metric_values(double *vals, const char **note, const report *r,
                         aipm_store *st, const aipm_config *cfg,
                         const aipm_metric *m, aipm_error *err)
{
    char *events = NULL, prop_path[AIPM_JSON_PATH_MAX],
         where_path[AIPM_JSON_PATH_MAX];
    double *acc = NULL;
    aipm_bind b[7];
    cols c;
    int i, a = m->unit_account != 0, rc = AIPM_OK;

    *note = NULL;
    for (i = 0; i < r->n; i++)
        vals[i] = NAN;
    if (m->type == AIPM_METRIC_RATIO) {
        /* The period's numerator total over its denominator total: both
         * per active unit of the ratio's unit, whose count cancels. */
        const aipm_metric *nm = aipm_config_metric(cfg, m->numerator);
        const aipm_metric *dm = aipm_config_metric(cfg, m->denominator);
        aipm_metric part[2];
        double *den;
        const char *unused;

        if (!nm || !dm ||
            (nm->type != AIPM_METRIC_COUNT && nm->type != AIPM_METRIC_SUM) ||
            (dm->type != AIPM_METRIC_COUNT && dm->type != AIPM_METRIC_SUM)) {
            *note = "a ratio of two count or sum metrics has a KPI value; "
                    "this one has not";
            return AIPM_OK;
        }
        if ((den = malloc((size_t)r->n * sizeof(double))) == NULL)
            return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        part[0] = *nm;
        part[1] = *dm;
        part[0].unit_account = part[1].unit_account = m->unit_account;
        rc = metric_values(vals, &unused, r, st, cfg, &part[0], err);
        if (rc == AIPM_OK)
            rc = metric_values(den, &unused, r, st, cfg, &part[1], err);
        for (i = 0; i < r->n; i++)
            vals[i] = rc == AIPM_OK && den[i] > 0 ? vals[i] / den[i] : NAN;
        free(den);
        return rc;
    }
    if (m->type == AIPM_METRIC_ADOPTION &&
        aipm_config_feature(cfg, m->feature) == NULL) {
        *note = "the metric's feature is not in the catalog";
        return AIPM_OK;
    }
    if ((rc = aipm_metrics__events(&events, cfg, m, err)) != 0)
        return rc;
    if ((acc = calloc((size_t)r->n * 4, sizeof(double))) == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    aipm_metrics__paths(m, prop_path, where_path);
    b[0] = AIPM_BIND_INT(r->from);
    b[1] = AIPM_BIND_INT(r->to);
    b[2] = AIPM_BIND_TEXT(r->periods_json);
    b[3] = AIPM_BIND_TEXT(events);
    b[5] = AIPM_BIND_TEXT(m->where_key ? where_path : NULL);
    b[6] = AIPM_BIND_TEXT(m->where_value);
    c.n_periods = r->n;
    c.out = acc;
    switch (m->type) {
    case AIPM_METRIC_CONVERSION:
        b[4] =
            AIPM_BIND_INT((int64_t)(m->window_days > 0 ? m->window_days
                                                       : DEFAULT_WINDOW_DAYS) *
                          DAY_MS);
        c.width = 2;
        rc = aipm_store_query(st, conversion_sql[a], b, 7, cols_row, &c, err);
        for (i = 0; rc == AIPM_OK && i < r->n; i++)
            if (acc[2 * i] > 0)
                vals[i] = acc[2 * i + 1] / acc[2 * i];
        break;
    case AIPM_METRIC_RETENTION:
        b[3] = AIPM_BIND_INT(m->from_day);
        b[4] = AIPM_BIND_INT(m->to_day);
        c.width = 2;
        rc = aipm_store_query(st, retention_sql[a], b, 5, cols_row, &c, err);
        for (i = 0; rc == AIPM_OK && i < r->n; i++)
            if (acc[2 * i] > 0)
                vals[i] = acc[2 * i + 1] / acc[2 * i];
        break;
    default: /* count, sum, adoption: per active user of the period */
        b[4] = AIPM_BIND_TEXT(m->type == AIPM_METRIC_SUM ? prop_path : NULL);
        c.width = 3;
        rc = aipm_store_query(st, events_sql[a], b, 7, cols_row, &c, err);
        /* The active units per period: users from the standard set,
         * accounts counted here (into acc[3n..4n)). */
        if (rc == AIPM_OK && a) {
            cols act = {r->n, 1, acc + 3 * r->n};

            rc = aipm_store_query(st, active_accounts_sql, b, 3, cols_row, &act,
                                  err);
        }
        for (i = 0; rc == AIPM_OK && i < r->n; i++) {
            double num = m->type == AIPM_METRIC_COUNT ? acc[3 * i]
                         : m->type == AIPM_METRIC_SUM ? acc[3 * i + 1]
                                                      : acc[3 * i + 2];
            double active = a ? acc[3 * r->n + i] : r->p[i].active;

            if (active > 0)
                vals[i] = num / active;
        }
    }
done:
    free(acc);
    free(events);
    return rc;
}

/* ---- the JSON document ---- */

static json_t *number(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *share(double num, double den)
{
    return den > 0 ? json_real(num / den) : json_null();
}

static json_t *kpi_json(const report *r, const aipm_kpi *k,
                        const aipm_metric *m, const double *vals,
                        const char *note)
{
    json_t *o, *values = json_array();
    char d[16];
    int i;

    for (i = 0; i < r->n; i++) {
        json_t *meets = json_null();

        if (k->has_target && isfinite(vals[i]))
            meets = json_boolean(k->direction_down ? vals[i] <= k->target
                                                   : vals[i] >= k->target);
        day_str(d, r->p[i].start);
        json_array_append_new(values, json_pack("{s:s, s:o, s:o}", "start", d,
                                                "value", number(vals[i]),
                                                "meets_target", meets));
    }
    o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o}", "key", k->key,
                  "metric", k->metric, "type", aipm_metric_type_name(m->type),
                  "unit", m->unit_account ? "account" : "user", "target",
                  k->has_target ? json_real(k->target) : json_null(),
                  "direction", k->direction_down ? "down" : "up", "values",
                  values);
    if (o && note)
        json_object_set_new(o, "note", json_string(note));
    return o;
}

static json_t *period_json(const report *r, int i, const aipm_config *cfg,
                           const double *activation)
{
    const period *p = &r->p[i];
    json_t *o, *adoption = json_object();
    double n_days = (double)(p->last - p->first + 1), dau = p->dau_sum / n_days;
    char start[16], end[16];
    int f;

    for (f = 0; f < r->n_features; f++)
        json_object_set_new(
            adoption, cfg->catalog[f].key,
            share(r->adoption[i * r->n_features + f], p->active));
    day_str(start, p->start);
    day_str(end, p->last);
    o = json_pack(
        "{s:s, s:s, s:i, s:f, s:I, s:I, s:o, s:I, s:I, s:o, s:o, "
        "s:o, s:o, s:o}",
        "start", start, "end", end, "days", (int)n_days, "dau", dau, "wau",
        (json_int_t)p->wau, "mau", (json_int_t)p->mau, "stickiness",
        share(dau, p->mau), "active_users", (json_int_t)p->active, "new_users",
        (json_int_t)p->new_users, "activation",
        activation ? number(activation[i]) : json_null(), "d1",
        share(p->ret[0], p->elig[0]), "d7", share(p->ret[1], p->elig[1]), "d30",
        share(p->ret[2], p->elig[2]), "adoption", adoption);
    return o;
}

static json_t *cohorts_json(const report *r)
{
    json_t *arr = json_array();
    char d[16];
    int i, k;

    for (i = 0; i < r->n_weeks; i++) {
        double size = r->cohort[i * r->n_weeks];
        json_t *weeks;

        if (size <= 0)
            continue;
        weeks = json_array();
        for (k = 0; i + k < r->n_weeks; k++)
            json_array_append_new(
                weeks, json_real(r->cohort[i * r->n_weeks + k] / size));
        day_str(d, week_start(r->week0 + i));
        json_array_append_new(arr,
                              json_pack("{s:s, s:I, s:o}", "cohort", d, "size",
                                        (json_int_t)size, "weeks", weeks));
    }
    return arr;
}

static const aipm_kpi *find_kpi(const aipm_config *cfg, const char *key)
{
    int i;

    for (i = 0; i < cfg->n_kpis; i++)
        if (strcmp(cfg->kpis[i].key, key) == 0)
            return &cfg->kpis[i];
    return NULL;
}

static int not_found(const aipm_config *cfg, const char *key, aipm_error *err)
{
    char list[256] = "";
    size_t len = 0;
    int i;

    for (i = 0; i < cfg->n_kpis && len < sizeof(list); i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
                                i ? ", " : "", cfg->kpis[i].key);
    if (cfg->n_kpis == 0)
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "no KPI '%s': aipm.yaml has no kpis", key);
    return aipm_error_set(err, AIPM_ENOTFOUND,
                          "no KPI '%s' in aipm.yaml (KPIs: %s)", key, list);
}

static int resolve_range(report *r, const aipm_kpi_opts *o, aipm_error *err)
{
    int64_t to_ms = o->to_ms == -1 ? aipm_now_ms() : o->to_ms;
    char a[16], b[16];

    if (to_ms < 0 || o->from_ms < -1)
        return aipm_error_set(err, AIPM_EINVALID,
                              "dates before 1970 are not supported");
    r->to = to_ms / DAY_MS;
    /* The default range is the last 90 days, taken back to the start of
     * its first period so that no period is cut short at the front. */
    if (o->from_ms == -1)
        r->from = period_start(o->period, r->to - (DEFAULT_DAYS - 1));
    else
        r->from = o->from_ms / DAY_MS;
    if (r->from < 0)
        r->from = 0;
    day_str(a, r->from);
    day_str(b, r->to);
    if (r->from > r->to)
        return aipm_error_set(err, AIPM_EINVALID,
                              "the first day (%s) is after the last (%s)", a,
                              b);
    if (r->to - r->from + 1 > MAX_DAYS)
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s to %s is longer than %d days", a, b,
                              MAX_DAYS);
    return AIPM_OK;
}

/* aipm_metrics_unseen_events' callback for a KPI's metric. */
typedef struct unseen {
    json_t *warnings;
    const char *kpi;
} unseen;

static int on_unseen(void *ctx, const char *event)
{
    unseen *u = ctx;
    char who[160], msg[400];

    snprintf(who, sizeof(who), "KPI %.120s", u->kpi);
    aipm_metrics_unseen_text(msg, sizeof(msg), who, event);
    return json_array_append_new(u->warnings, json_string(msg)) == 0
               ? AIPM_OK
               : AIPM_ENOMEM;
}

/* Warnings for the events of aipm.yaml that never occur in the accepted
 * events (issue 12: a misspelled event reads as a silent zero): every
 * catalog feature's events (unless one KPI is asked for) and every
 * reported KPI's metric's events. */
static int unseen_events(json_t *warnings, aipm_store *st,
                         const aipm_config *cfg, const aipm_kpi_opts *opts,
                         aipm_error *err)
{
    int i, j, rc;

    for (i = 0; !opts->kpi && i < cfg->n_catalog; i++)
        for (j = 0; j < cfg->catalog[i].n_events; j++) {
            const char *ev = cfg->catalog[i].events[j];
            char msg[400];
            int64_t n = 0;

            if ((rc = aipm_store_event_count(st, ev, 1, &n, err)) != 0)
                return rc;
            if (n > 0)
                continue;
            snprintf(msg, sizeof(msg),
                     "feature %.60s: event '%.120s' never occurs in the "
                     "accepted events; check its name in the catalog of "
                     "aipm.yaml (or the instrumentation)",
                     cfg->catalog[i].key, ev);
            if (json_array_append_new(warnings, json_string(msg)) != 0)
                return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        }
    for (i = 0; i < cfg->n_kpis; i++) {
        unseen u = {warnings, cfg->kpis[i].key};

        if (opts->kpi && strcmp(opts->kpi, cfg->kpis[i].key) != 0)
            continue;
        rc = aipm_metrics_unseen_events(
            st, cfg, aipm_config_metric(cfg, cfg->kpis[i].metric), on_unseen,
            &u, err);
        if (rc == AIPM_ENOMEM)
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        if (rc)
            return rc;
    }
    return AIPM_OK;
}

int aipm_kpi_report(char **json_out, aipm_store *st, const aipm_config *cfg,
                    const aipm_kpi_opts *opts, aipm_error *err)
{
    report r;
    aipm_kpi_opts defaults;
    json_t *doc = NULL, *periods = NULL, *kpis = NULL, *notes = NULL;
    json_t *warnings = NULL;
    double *vals = NULL, *activation = NULL;
    const aipm_kpi *act = NULL;
    aipm_bind b[3];
    char d[16];
    int i, rc;

    *json_out = NULL;
    memset(&r, 0, sizeof(r));
    if (opts == NULL) {
        aipm_kpi_opts_init(&defaults);
        opts = &defaults;
    }
    if (opts->kpi && find_kpi(cfg, opts->kpi) == NULL)
        return not_found(cfg, opts->kpi, err);
    if ((rc = resolve_range(&r, opts, err)) != 0 ||
        (rc = build_periods(&r, opts->period, err)) != 0)
        goto done;
    b[0] = AIPM_BIND_INT(r.from);
    b[1] = AIPM_BIND_INT(r.to);
    b[2] = AIPM_BIND_TEXT(r.periods_json);
    if (opts->progress)
        opts->progress(opts->progress_ctx, 0, (uint64_t)cfg->n_kpis + 2);
    if ((rc = aipm_store_query(st, standard_sql, b, 3, standard_row, &r,
                               err)) != 0)
        goto done;
    if (opts->progress)
        opts->progress(opts->progress_ctx, 1, (uint64_t)cfg->n_kpis + 2);
    if (!opts->kpi && (rc = run_features(&r, st, cfg, err)) != 0)
        goto done;

    doc = json_pack("{s:s}", "period", aipm_kpi_period_name(opts->period));
    kpis = json_array();
    notes = json_array();
    warnings = json_array();
    vals = calloc((size_t)r.n, sizeof(double));
    if (doc == NULL || kpis == NULL || notes == NULL || warnings == NULL ||
        vals == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = unseen_events(warnings, st, cfg, opts, err)) != 0)
        goto done;
    day_str(d, r.from);
    json_object_set_new(doc, "from", json_string(d));
    day_str(d, r.to);
    json_object_set_new(doc, "to", json_string(d));

    /* The KPIs of aipm.yaml; the one named activation also gives the
     * standard set its activation rate. */
    act = opts->kpi ? NULL : find_kpi(cfg, "activation");
    for (i = 0; i < cfg->n_kpis; i++) {
        const aipm_kpi *k = &cfg->kpis[i];
        const aipm_metric *m = aipm_config_metric(cfg, k->metric);
        const char *note = NULL;

        if (opts->kpi && strcmp(opts->kpi, k->key) != 0)
            continue;
        if (m == NULL)
            continue; /* config.c refuses this; be safe */
        if (opts->progress)
            opts->progress(opts->progress_ctx, (uint64_t)i + 2,
                           (uint64_t)cfg->n_kpis + 2);
        if ((rc = metric_values(vals, &note, &r, st, cfg, m, err)) != 0)
            goto done;
        json_array_append_new(kpis, kpi_json(&r, k, m, vals, note));
        if (k == act && m->type == AIPM_METRIC_CONVERSION && note == NULL) {
            activation = vals;
            if ((vals = calloc((size_t)r.n, sizeof(double))) == NULL) {
                rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
                goto done;
            }
        }
    }
    if (!opts->kpi) {
        if (act == NULL)
            json_array_append_new(
                notes, json_string("activation is null: aipm.yaml has no KPI "
                                   "named activation (give it a conversion "
                                   "metric)"));
        else if (activation == NULL)
            json_array_append_new(
                notes, json_string("activation is null: the activation "
                                   "KPI's metric is not a conversion metric "
                                   "over users"));
        periods = json_array();
        for (i = 0; periods && i < r.n; i++)
            json_array_append_new(periods, period_json(&r, i, cfg, activation));
        json_object_set_new(doc, "periods", periods);
    }
    json_object_set_new(doc, "kpis", kpis);
    kpis = NULL;
    json_object_set_new(doc, "warnings", warnings);
    warnings = NULL;
    if (!opts->kpi) {
        json_object_set_new(doc, "cohorts", cohorts_json(&r));
        json_object_set_new(doc, "notes", notes);
        notes = NULL;
    }
    *json_out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                    JSON_REAL_PRECISION(6));
    if (*json_out == NULL)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
done:
    json_decref(doc);
    json_decref(kpis);
    json_decref(notes);
    json_decref(warnings);
    free(vals);
    free(activation);
    free(r.p);
    free(r.periods_json);
    free(r.cohort);
    free(r.adoption);
    return rc;
}
