/* metrics.c - the experiments' and populations' moments in PostgreSQL's
 * dialect (store.h: aipm_store_exposure_moments, _exposure_quantile,
 * _population_moments), statement for statement the SQLite backend's
 * (sqlite/metrics.c, which explains each part). The parameters keep their
 * numbers: $1 experiment, $2..$3 the window, $4 the events (a JSON array,
 * NULL for any event), $5..$6 the window after exposure, $7 the summed
 * property, $8/$9 the filter, $10 the CUPED window, $11 conversion, $12
 * the cap, $13 the quantile, $14 the --by trait, $15..$18 a ratio's
 * denominator. Properties are names here (aipm_get), not JSON paths.
 *
 * Where SQLite takes a bare column beside max(ts) (a user's newest group
 * call), this takes DISTINCT ON (...) ORDER BY ts DESC, rid: ties go to
 * the row stored first.
 */
#include "store/pg/pg_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VARIATION "aipm_text(aipm_get(payload, 'variation_id'))"

#define USER_EXPOSURES(NAME)                                                   \
    " " NAME " AS MATERIALIZED ("                                              \
    " SELECT user_id AS unit, min(ts) AS t0,"                                  \
    "  min(" VARIATION " COLLATE \"C\") AS v,"                                 \
    "  count(DISTINCT " VARIATION ") AS nv"                                    \
    " FROM v_events"                                                           \
    " WHERE event = 'Experiment Viewed'"                                       \
    "  AND aipm_get(payload, 'experiment_id') = to_jsonb($1)"                  \
    "  AND ts >= $2 AND ts < $3 AND user_id IS NOT NULL"                       \
    " GROUP BY user_id)"

#define UNITS_USER                                                             \
    "WITH" USER_EXPOSURES("exp") ","                                           \
                                 " scan AS (SELECT unit, unit AS member, t0, " \
                                 "v FROM exp WHERE nv = 1),"

#define UNITS_ACCOUNT                                                          \
    "WITH" USER_EXPOSURES("xu") "," PG_MEMBERS_CTE(                            \
        "$3") ","                                                              \
              " exp AS MATERIALIZED (SELECT m.acct AS unit, min(xu.t0) AS t0," \
              "  min(xu.v COLLATE \"C\") AS v,"                                \
              "  CASE WHEN max(xu.nv) > 1 OR"                                  \
              "   min(xu.v COLLATE \"C\") <> max(xu.v COLLATE \"C\")"          \
              "  THEN 2 ELSE 1 END AS nv"                                      \
              "  FROM xu JOIN mem m ON m.user_id = xu.unit GROUP BY m.acct),"  \
              " scan AS (SELECT e.unit AS unit, m.user_id AS member, e.t0 AS " \
              "t0,"                                                            \
              "  e.v AS v FROM exp e JOIN mem m ON m.acct = e.unit WHERE "     \
              "e.nv = 1),"

#define VALUES_USER "per"
#define VALUES_ACCOUNT                                                         \
    "(SELECT unit, v, sum(y) AS y, sum(xp) AS xp FROM per GROUP BY unit, v)"   \
    " pv"

/* A unit's value of a measure: 1 per event, or the property. */
#define WORTH(PROP)                                                            \
    "coalesce(sum(CASE WHEN " PROP "::text IS NULL THEN 1"                     \
    " ELSE aipm_num(aipm_get(x.payload, " PROP ")) END), 0)"

#define EXPERIMENT_CTES(UNITS, EVENTS, VALUES)                                                                                                  \
    UNITS                                                                                                                                       \
    " ok AS MATERIALIZED (SELECT id FROM batches"                                                                                               \
    " WHERE " PG_ACCEPTED "),"                                                                                                                  \
    " per AS MATERIALIZED ("                                                                                                                    \
    " SELECT s.unit AS unit, s.v AS v,"                                                                                                         \
    "  (SELECT " WORTH(                                                                                                                         \
        "$7") " FROM events x"                                                                                                                  \
              "   WHERE x.user_id = s.member AND " EVENTS                                                                                       \
              "    AND x.event <> 'Experiment Viewed'"                                                                                          \
              "    AND x.ts >= s.t0 + $5 AND x.ts < least(s.t0 + $6, $3)"                                                                       \
              "    AND x.batch_id IN (SELECT id FROM ok)"                                                                                       \
              "    AND " MATCH(                                                                                                                 \
                  "$8",                                                                                                                         \
                  "$9") ") AS y,"                                                                                                               \
                        "  CASE WHEN $15::jsonb IS NOT NULL THEN"                                                                               \
                        "  (SELECT " WORTH(                                                                                                     \
                            "$16") " FROM events x"                                                                                             \
                                   "   WHERE x.user_id = s.member "                                                                             \
                                   "AND " IN_LIST(                                                                                              \
                                       "$15::jsonb") "    AND x.ts >= "                                                                         \
                                                     "s.t0 + $5 AND x.ts "                                                                      \
                                                     "< least(s.t0 + $6, "                                                                      \
                                                     "$3)"                                                                                      \
                                                     "    AND x.batch_id "                                                                      \
                                                     "IN (SELECT id FROM "                                                                      \
                                                     "ok)"                                                                                      \
                                                     "    AND " MATCH(                                                                          \
                                                         "$17",                                                                                 \
                                                         "$18") ")"                                                                             \
                                                                "  WHEN "                                                                       \
                                                                "$10 > 0 "                                                                      \
                                                                "THEN"                                                                          \
                                                                "  "                                                                            \
                                                                "(SELECT"                                                                       \
                                                                " " WORTH(                                                                      \
                                                                    "$7") " F"                                                                  \
                                                                          "RO"                                                                  \
                                                                          "M "                                                                  \
                                                                          "ev"                                                                  \
                                                                          "en"                                                                  \
                                                                          "ts"                                                                  \
                                                                          " x"                                                                  \
                                                                          "  "                                                                  \
                                                                          " W"                                                                  \
                                                                          "HE"                                                                  \
                                                                          "RE"                                                                  \
                                                                          " x"                                                                  \
                                                                          ".u"                                                                  \
                                                                          "se"                                                                  \
                                                                          "r_"                                                                  \
                                                                          "id"                                                                  \
                                                                          " ="                                                                  \
                                                                          " s"                                                                  \
                                                                          ".m"                                                                  \
                                                                          "em"                                                                  \
                                                                          "be"                                                                  \
                                                                          "r "                                                                  \
                                                                          "AN"                                                                  \
                                                                          "D"                                                                   \
                                                                          " " EVENTS                                                            \
                                                                          "  "                                                                  \
                                                                          "  "                                                                  \
                                                                          "AN"                                                                  \
                                                                          "D "                                                                  \
                                                                          "x."                                                                  \
                                                                          "ev"                                                                  \
                                                                          "en"                                                                  \
                                                                          "t "                                                                  \
                                                                          "<>"                                                                  \
                                                                          " '"                                                                  \
                                                                          "Ex"                                                                  \
                                                                          "pe"                                                                  \
                                                                          "ri"                                                                  \
                                                                          "me"                                                                  \
                                                                          "nt"                                                                  \
                                                                          " V"                                                                  \
                                                                          "ie"                                                                  \
                                                                          "we"                                                                  \
                                                                          "d'"                                                                  \
                                                                          "  "                                                                  \
                                                                          "  "                                                                  \
                                                                          "AN"                                                                  \
                                                                          "D "                                                                  \
                                                                          "x."                                                                  \
                                                                          "ts"                                                                  \
                                                                          " >"                                                                  \
                                                                          "= "                                                                  \
                                                                          "s."                                                                  \
                                                                          "t0"                                                                  \
                                                                          " -"                                                                  \
                                                                          " $"                                                                  \
                                                                          "10"                                                                  \
                                                                          " A"                                                                  \
                                                                          "ND"                                                                  \
                                                                          " x"                                                                  \
                                                                          ".t"                                                                  \
                                                                          "s "                                                                  \
                                                                          "< "                                                                  \
                                                                          "s."                                                                  \
                                                                          "t0"                                                                  \
                                                                          "  "                                                                  \
                                                                          "  "                                                                  \
                                                                          "AN"                                                                  \
                                                                          "D "                                                                  \
                                                                          "x."                                                                  \
                                                                          "ba"                                                                  \
                                                                          "tc"                                                                  \
                                                                          "h_"                                                                  \
                                                                          "id"                                                                  \
                                                                          " I"                                                                  \
                                                                          "N "                                                                  \
                                                                          "(S"                                                                  \
                                                                          "EL"                                                                  \
                                                                          "EC"                                                                  \
                                                                          "T "                                                                  \
                                                                          "id"                                                                  \
                                                                          " F"                                                                  \
                                                                          "RO"                                                                  \
                                                                          "M "                                                                  \
                                                                          "ok"                                                                  \
                                                                          ")"                                                                   \
                                                                          "  "                                                                  \
                                                                          "  "                                                                  \
                                                                          "AN"                                                                  \
                                                                          "D"                                                                   \
                                                                          " " MATCH(                                                            \
                                                                              "$8",                                                             \
                                                                              "$9") ")"                                                         \
                                                                                    "  ELSE 0 END AS xp"                                        \
                                                                                    " FROM scan s),"                                            \
                                                                                    " val AS ("                                                 \
                                                                                    " SELECT unit, v,"                                          \
                                                                                    "  least(CASE WHEN $11 <> 0 THEN least(y, 1) ELSE y END,"   \
                                                                                    "  coalesce($12, 1e308)) AS y,"                             \
                                                                                    "  least(CASE WHEN $11 <> 0 THEN least(xp, 1) ELSE xp END," \
                                                                                    "  coalesce($12, 1e308)) AS xp FROM " VALUES                \
                                                                                    ")"

#define EVENTS_LISTED IN_LIST("$4::jsonb")
#define EVENTS_ANY "$4::jsonb IS NULL"

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
    " SELECT v, count(*), coalesce(sum(y), 0), coalesce(sum(y * y), 0),"       \
    "  coalesce(sum(xp), 0), coalesce(sum(xp * xp), 0),"                       \
    "  coalesce(sum(y * xp), 0) FROM val GROUP BY v"                           \
    " UNION ALL SELECT NULL, count(*), 0, 0, 0, 0, 0 FROM exp WHERE nv > 1"

static const char *const experiment_sql[2][2] = FOUR(MOMENTS, "", "");

#define QUANTILE                                                               \
    " SELECT y FROM val ORDER BY y"                                            \
    " LIMIT 1 OFFSET (SELECT greatest(0, trunc($13 * (count(*) - 1)))::bigint" \
    " FROM val)"

static const char *const experiment_quantile_sql[2][2] = FOUR(QUANTILE, "", "");

#define TRAIT "aipm_get(payload, $14)"
#define BY_TRAIT                                                               \
    ", ut AS (SELECT DISTINCT ON (user_id) user_id AS unit,"                   \
    "  aipm_text(" TRAIT ") AS level FROM v_events WHERE type = 'identify'"    \
    "  AND " TRAIT " IS NOT NULL ORDER BY user_id, ts DESC, rid),"             \
    " ua AS (SELECT DISTINCT ON (user_id) user_id AS unit, group_id AS acct"   \
    "  FROM v_events WHERE type = 'group'"                                     \
    "  ORDER BY user_id, ts DESC, rid),"                                       \
    " at AS (SELECT DISTINCT ON (group_id) group_id AS acct,"                  \
    "  aipm_text(" TRAIT ") AS level FROM v_events WHERE type = 'group'"       \
    "  AND " TRAIT " IS NOT NULL ORDER BY group_id, ts DESC, rid),"            \
    " lv AS (SELECT val.v AS v, val.y AS y, val.xp AS xp,"
#define BY_LEVEL_USER                                                          \
    "  coalesce(ut.level, at.level, '(none)') AS level"                        \
    "  FROM val LEFT JOIN ut ON ut.unit = val.unit"                            \
    "  LEFT JOIN ua ON ua.unit = val.unit"                                     \
    "  LEFT JOIN at ON at.acct = ua.acct)," BY_LEVELS
#define BY_LEVEL_ACCOUNT                                                       \
    "  coalesce(at.level, '(none)') AS level"                                  \
    "  FROM val LEFT JOIN at ON at.acct = val.unit)," BY_LEVELS
#define BY_LEVELS                                                              \
    " rk AS (SELECT level, row_number() OVER (ORDER BY count(*) DESC,"         \
    "  level COLLATE \"C\") AS rn FROM lv GROUP BY level)"                     \
    " SELECT CASE WHEN rk.rn <= 20 THEN lv.level ELSE '(other)' END AS lvl,"   \
    "  v, count(*), coalesce(sum(y), 0), coalesce(sum(y * y), 0),"             \
    "  coalesce(sum(xp), 0), coalesce(sum(xp * xp), 0),"                       \
    "  coalesce(sum(y * xp), 0) FROM lv JOIN rk ON rk.level = lv.level"        \
    " GROUP BY 1, v ORDER BY min(rk.rn), v COLLATE \"C\""

static const char *const experiment_by_sql[2][2] =
    FOUR(BY_TRAIT, BY_LEVEL_USER, BY_LEVEL_ACCOUNT);

#define POPULATION(WITH, UNIT, FROM)                                           \
    "WITH" WITH " act AS MATERIALIZED ("                                       \
    " SELECT " UNIT " AS unit FROM " FROM                                      \
    " WHERE x.ts >= $1 AND x.ts < $2 AND " UNIT " IS NOT NULL"                 \
    " GROUP BY 1),"                                                            \
    " per AS ("                                                                \
    " SELECT " UNIT " AS unit, " WORTH(                                        \
        "$4") " AS y"                                                          \
              " FROM " FROM " WHERE x.ts >= $1 AND x.ts < $2"                  \
              "  AND " UNIT " IS NOT NULL"                                     \
              "  AND ($3::jsonb IS NULL OR " IN_LIST(                          \
                  "$3::jsonb") ")"                                             \
                               "  AND " MATCH(                                 \
                                   "$5",                                       \
                                   "$6") " GROUP BY 1)"                        \
                                         " SELECT count(*), coalesce(sum(v), " \
                                         "0), coalesce(sum(v * v), 0) FROM ("  \
                                         " SELECT CASE WHEN $7 <> 0 THEN "     \
                                         "least(coalesce(p.y, 0), 1)"          \
                                         "  ELSE coalesce(p.y, 0) END AS v"    \
                                         " FROM act a LEFT JOIN per p ON "     \
                                         "p.unit = a.unit) z"

static const char *const population_sql[2] = {
    POPULATION("", "x.user_id", "v_events x"),
    POPULATION(PG_MEMBERS_CTE("$2") ",", "m.acct",
               "v_events x JOIN mem m ON m.user_id = x.user_id")};

/* Add a measure's four parameters: events, property, filter key, value
 * (*events_text: the caller frees it after the statement). */
static int add_measure(pg_params *p, const aipm_event_measure *m,
                       char **events_text)
{
    int oom;

    *events_text = aipm_store__events_json(m, &oom);
    if (oom)
        return AIPM_ENOMEM;
    aipm_pg__text(p, *events_text);
    aipm_pg__text(p, m->sum_property);
    aipm_pg__text(p, m->where_key);
    aipm_pg__text(p, m->where_key ? m->where_value : NULL);
    return AIPM_OK;
}

typedef struct exposure_params {
    pg_params p;
    char *y_events, *x_events;
} exposure_params;

static int exposure_params_make(exposure_params *e,
                                const aipm_exposure_query *q, double quantile,
                                const char *trait)
{
    static const aipm_event_measure none = {0, NULL, 0, NULL, NULL, NULL};
    pg_params y = {0}, x = {0};
    pg_params *p = &e->p;
    int rc;

    memset(e, 0, sizeof(*e));
    if ((rc = add_measure(&y, &q->y, &e->y_events)) != 0 ||
        (rc = add_measure(&x, q->x ? q->x : &none, &e->x_events)) != 0)
        return rc;
    if (q->x == NULL) {
        /* no denominator: $15 NULL (the CUPED branch decides) */
        free(e->x_events);
        e->x_events = NULL;
        x.v[0] = NULL;
    }
    aipm_pg__text(p, q->experiment);        /* $1 */
    aipm_pg__int(p, q->start_ms);           /* $2 */
    aipm_pg__int(p, q->end_ms);             /* $3 */
    aipm_pg__text(p, y.v[0]);               /* $4 */
    aipm_pg__int(p, q->lo_ms);              /* $5 */
    aipm_pg__int(p, q->hi_ms);              /* $6 */
    aipm_pg__text(p, y.v[1]);               /* $7 */
    aipm_pg__text(p, y.v[2]);               /* $8 */
    aipm_pg__text(p, y.v[3]);               /* $9 */
    aipm_pg__int(p, q->x ? 0 : q->pre_ms);  /* $10 */
    aipm_pg__int(p, q->conversion != 0);    /* $11 */
    aipm_pg__real(p, q->cap);               /* $12 */
    aipm_pg__real(p, quantile);             /* $13 */
    aipm_pg__text(p, trait);                /* $14 */
    aipm_pg__text(p, x.v[0]);               /* $15 */
    aipm_pg__text(p, q->x ? x.v[1] : NULL); /* $16 */
    aipm_pg__text(p, q->x ? x.v[2] : NULL); /* $17 */
    aipm_pg__text(p, q->x ? x.v[3] : NULL); /* $18 */
    return AIPM_OK;
}

static void exposure_params_free(exposure_params *e)
{
    free(e->y_events);
    free(e->x_events);
}

static void read_moments(PGresult *r, int col, aipm_unit_moments *m)
{
    m->n = aipm_pg__col_real(r, col);
    m->sum = aipm_pg__col_real(r, col + 1);
    m->sum_sq = aipm_pg__col_real(r, col + 2);
    m->x_sum = aipm_pg__col_real(r, col + 3);
    m->x_sum_sq = aipm_pg__col_real(r, col + 4);
    m->xy_sum = aipm_pg__col_real(r, col + 5);
}

static int moments_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_unit_moments m;

    read_moments(r, 1, &m);
    return ((aipm_moments_cb)rl->cb)(rl->ctx, NULL, aipm_pg__col(r, 0), &m);
}

static int level_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_unit_moments m;

    read_moments(r, 2, &m);
    return ((aipm_moments_cb)rl->cb)(rl->ctx, aipm_pg__col(r, 0),
                                     aipm_pg__col(r, 1), &m);
}

int pg_exposure_moments(aipm_store *base, const aipm_exposure_query *q,
                        const char *by_trait, aipm_moments_cb cb, void *ctx,
                        aipm_error *err)
{
    int acct = q->by_account != 0, any = q->y.any_event != 0, rc;
    exposure_params e;

    if (exposure_params_make(&e, q, 0, by_trait) != 0) {
        exposure_params_free(&e);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    rc = aipm_pg__each_row((pg_store *)base,
                           by_trait ? experiment_by_sql[acct][any]
                                    : experiment_sql[acct][any],
                           &e.p, by_trait ? level_each : moments_each,
                           &(aipm_pg__relay){(void (*)(void))cb, ctx}, err);
    exposure_params_free(&e);
    return rc;
}

static int quantile_each(PGresult *r, void *ctx)
{
    if (aipm_pg__col(r, 0))
        *(double *)ctx = aipm_pg__col_real(r, 0);
    return 0;
}

int pg_exposure_quantile(aipm_store *base, const aipm_exposure_query *q,
                         double p, double *out, aipm_error *err)
{
    exposure_params e;
    int rc;

    *out = NAN;
    if (exposure_params_make(&e, q, p, NULL) != 0) {
        exposure_params_free(&e);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    rc = aipm_pg__each_row(
        (pg_store *)base,
        experiment_quantile_sql[q->by_account != 0][q->y.any_event != 0], &e.p,
        quantile_each, out, err);
    exposure_params_free(&e);
    return rc;
}

static int population_each(PGresult *r, void *ctx)
{
    aipm_unit_moments *o = ctx;

    o->n = aipm_pg__col_real(r, 0);
    o->sum = aipm_pg__col_real(r, 1);
    o->sum_sq = aipm_pg__col_real(r, 2);
    return 0;
}

int pg_population_moments(aipm_store *base, const aipm_event_measure *m,
                          int by_account, int conversion, int64_t from_ms,
                          int64_t to_ms, aipm_unit_moments *out,
                          aipm_error *err)
{
    pg_params p = {0}, ms = {0};
    char *events = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (add_measure(&ms, m, &events) != 0)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    aipm_pg__int(&p, from_ms);
    aipm_pg__int(&p, to_ms);
    aipm_pg__text(&p, ms.v[0]);
    aipm_pg__text(&p, ms.v[1]);
    aipm_pg__text(&p, ms.v[2]);
    aipm_pg__text(&p, ms.v[3]);
    aipm_pg__int(&p, conversion != 0);
    rc = aipm_pg__each_row((pg_store *)base, population_sql[by_account != 0],
                           &p, population_each, out, err);
    free(events);
    return rc;
}
