/* metrics.c - an experiment's moments and a population's, computed in
 * ClickHouse (store.h: aipm_store_exposure_moments, _exposure_quantile,
 * _population_moments) for users as units without a --by breakdown; the
 * other forms (accounts, --by) run on the private copy (ch/fallback.c).
 *
 * The statements follow the SQLite backend's (sqlite/metrics.c), one
 * step per subquery, since ClickHouse 18.16 has no common table
 * expressions: the exposures (a user's first 'Experiment Viewed' of the
 * experiment, the smallest variation, how many they saw), the users'
 * events joined to their exposure time (the exposures are the JOIN's
 * right side, held in memory: one row per exposed user), each event's
 * worth to the metric and to the covariate, summed per user, then capped
 * and summed per variation.
 *
 * Properties are read with visitParamExtractRaw (the JSON text of a
 * top-level value of the compact payload ingest stores): a number is
 * itself, true 1, false 0, null or absent 0, a string the number it
 * spells (0 if none), as SQLite's json_extract and total() make them but
 * for a string with a number followed by other text, which SQLite reads
 * as that number and this as 0. A variation or an experiment id that is
 * not a plain JSON string (a number, escapes, absent) would compare
 * differently: such an experiment runs on the copy instead.
 */
#include "store/ch/ch_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EV "'Experiment Viewed'"

/* A property's JSON text. */
static void raw(ch_buf *b, const char *name)
{
    aipm_ch__puts(b, "visitParamExtractRaw(payload, ");
    aipm_ch__lit(b, name);
    aipm_ch__puts(b, ")");
}

/* What one event is worth to measure m: 1, or its property as a number. */
static void amount(ch_buf *b, const aipm_event_measure *m)
{
    /* Float64 throughout: 18.16's least() takes no mix of integer and
     * float arguments. */
    if (m->sum_property == NULL) {
        aipm_ch__puts(b, "toFloat64(1)");
        return;
    }
    aipm_ch__puts(b, "multiIf(");
    raw(b, m->sum_property);
    aipm_ch__puts(b, " = 'true', 1, ");
    raw(b, m->sum_property);
    aipm_ch__puts(b, " = 'false', 0, startsWith(");
    raw(b, m->sum_property);
    aipm_ch__puts(b, ", '\"'), toFloat64OrZero(visitParamExtractString("
                     "payload, ");
    aipm_ch__lit(b, m->sum_property);
    aipm_ch__puts(b, ")), toFloat64OrZero(");
    raw(b, m->sum_property);
    aipm_ch__puts(b, "))");
}

/* Whether an event counts for m: its name, and the property filter (the
 * property a JSON string equal to the value). An experiment's measures
 * (not_viewed: 'Experiment Viewed' excluded) read named events only, as
 * SQLite's `event <> ...` is never true of a NULL name; a population's
 * "any event" takes identify and group calls too. */
static void counts(ch_buf *b, const aipm_event_measure *m, int not_viewed)
{
    int i;

    aipm_ch__puts(b,
                  not_viewed || !m->any_event ? "(bitAnd(nulls, 4) = 0" : "(1");
    if (!m->any_event) {
        aipm_ch__puts(b, " AND event IN (");
        if (m->n_events == 0)
            aipm_ch__puts(b, "''");
        for (i = 0; i < m->n_events; i++) {
            if (i)
                aipm_ch__puts(b, ", ");
            aipm_ch__lit(b, m->events[i]);
        }
        aipm_ch__puts(b, ")");
        /* an empty list counts nothing, '' being no stored name */
        if (m->n_events == 0)
            aipm_ch__puts(b, " AND 0");
    }
    if (not_viewed)
        aipm_ch__puts(b, " AND event != " EV);
    if (m->where_key) {
        aipm_ch__puts(b, " AND startsWith(");
        raw(b, m->where_key);
        aipm_ch__puts(b, ", '\"') AND visitParamExtractString(payload, ");
        aipm_ch__lit(b, m->where_key);
        aipm_ch__puts(b, ") = ");
        aipm_ch__lit(b, m->where_value ? m->where_value : "");
    }
    aipm_ch__puts(b, ")");
}

/* The exposure events of q, as a WHERE condition (after the
 * visibility). */
static void exposure_events(ch_buf *b, const aipm_exposure_query *q)
{
    aipm_ch__putf(b,
                  " AND event = " EV " AND bitAnd(nulls, 5) = 0"
                  " AND ts >= %lld AND ts < %lld"
                  " AND startsWith(visitParamExtractRaw(payload,"
                  " 'experiment_id'), '\"')"
                  " AND visitParamExtractString(payload, 'experiment_id') = ",
                  (long long)q->start_ms, (long long)q->end_ms);
    aipm_ch__lit(b, q->experiment);
}

/* The exposures: user_id, t0, var, nv. */
static void exposures(ch_store *s, ch_buf *b, const char *vis,
                      const aipm_exposure_query *q)
{
    aipm_ch__putf(b,
                  "(SELECT user_id, min(ts) AS t0,"
                  " min(visitParamExtractString(payload, 'variation_id'))"
                  " AS var, uniqExact(visitParamExtractString(payload,"
                  " 'variation_id')) AS nv FROM %s.events WHERE %s",
                  s->db, vis);
    exposure_events(b, q);
    aipm_ch__puts(b, " GROUP BY user_id)");
}

/* A value clipped to 1 for a conversion and capped. */
static void clip(ch_buf *b, const char *col, const aipm_exposure_query *q)
{
    if (q->conversion)
        aipm_ch__putf(b, "least(%s, toFloat64(1))", col);
    else
        aipm_ch__puts(b, col);
}

static void capped(ch_buf *b, const char *col, const aipm_exposure_query *q,
                   const char *as)
{
    if (!isnan(q->cap)) {
        aipm_ch__puts(b, "least(");
        clip(b, col, q);
        aipm_ch__putf(b, ", toFloat64(%.17g))", q->cap);
    } else {
        aipm_ch__puts(b, "toFloat64(");
        clip(b, col, q);
        aipm_ch__puts(b, ")");
    }
    aipm_ch__putf(b, " AS %s", as);
}

/* The per-unit values of q: columns var, y, xp (one row per unit). */
static void unit_values(ch_store *s, ch_buf *b, const char *vis,
                        const aipm_exposure_query *q)
{
    const aipm_event_measure *x = q->x;
    char win[200];

    snprintf(win, sizeof(win),
             "ts >= t0 + %lld AND ts < least(t0 + %lld, %lld)",
             (long long)q->lo_ms, (long long)q->hi_ms, (long long)q->end_ms);
    aipm_ch__puts(b, "SELECT var, ");
    capped(b, "ys", q, "y");
    aipm_ch__puts(b, ", ");
    capped(b, "xs", q, "xp");
    aipm_ch__puts(b, " FROM (SELECT user_id, var FROM ");
    exposures(s, b, vis, q);
    aipm_ch__puts(b, " WHERE nv = 1) ANY LEFT JOIN (SELECT user_id,"
                     " sum(if(");
    counts(b, &q->y, 1);
    aipm_ch__putf(b, " AND %s, ", win);
    amount(b, &q->y);
    aipm_ch__puts(b, ", 0)) AS ys, ");
    if (x && x->any_event) {
        /* SQLite's statement reads a ratio's denominator from its list of
         * events only: none, nothing */
        aipm_ch__puts(b, "toFloat64(0)");
    } else if (x) {
        aipm_ch__puts(b, "sum(if(");
        counts(b, x, 0);
        aipm_ch__putf(b, " AND %s, ", win);
        amount(b, x);
        aipm_ch__puts(b, ", 0))");
    } else if (q->pre_ms > 0) {
        aipm_ch__puts(b, "sum(if(");
        counts(b, &q->y, 1);
        aipm_ch__putf(b, " AND ts >= t0 - %lld AND ts < t0, ",
                      (long long)q->pre_ms);
        amount(b, &q->y);
        aipm_ch__puts(b, ", 0))");
    } else {
        aipm_ch__puts(b, "toFloat64(0)");
    }
    /* Only the events that count for y or x go into the join: the
     * measures' names are the sorting key's first column, so the others
     * are not even read. */
    aipm_ch__putf(b,
                  " AS xs FROM (SELECT user_id, ts, event, payload, nulls"
                  " FROM %s.events WHERE %s AND bitAnd(nulls, 1) = 0 AND (",
                  s->db, vis);
    counts(b, &q->y, 1);
    if (x && !x->any_event) {
        aipm_ch__puts(b, " OR ");
        counts(b, x, 0);
    }
    aipm_ch__puts(b, ")) ALL INNER JOIN (SELECT user_id, t0 FROM ");
    exposures(s, b, vis, q);
    aipm_ch__puts(b, " WHERE nv = 1) USING user_id GROUP BY user_id)"
                     " USING user_id");
}

/* Whether q can run here: users as units, no breakdown, and every
 * exposure of the experiment a plain string variation. */
static int native(ch_store *s, const aipm_exposure_query *q, const char *vis,
                  int *ok, aipm_error *err)
{
    ch_buf b = {0};
    int64_t odd = 1;
    int rc;

    *ok = 0;
    if (q->by_account || getenv("AIPM_CH_COPY_ONLY"))
        return AIPM_OK;
    aipm_ch__putf(&b, "SELECT count() FROM %s.events WHERE %s", s->db, vis);
    exposure_events(&b, q);
    aipm_ch__puts(&b, " AND NOT match(visitParamExtractRaw(payload,"
                      " 'variation_id'), '^\"[^\"\\\\\\\\]*\"$')");
    rc = b.oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory")
               : aipm_ch__scalar(s->conn, NULL, b.p, &odd, err);
    aipm_ch__buf_free(&b);
    *ok = rc == AIPM_OK && odd == 0;
    return rc;
}

typedef struct moments_walk {
    aipm_moments_cb cb;
    void *ctx;
    int stop;
} moments_walk;

static int moments_row(ch_rd *r, void *ctx)
{
    moments_walk *w = ctx;
    const char *v;
    size_t n;
    uint64_t count;
    aipm_unit_moments m;
    char var[256];

    if (aipm_ch__get_str(r, &v, &n) || aipm_ch__get_u64(r, &count) ||
        aipm_ch__get_f64(r, &m.sum) || aipm_ch__get_f64(r, &m.sum_sq) ||
        aipm_ch__get_f64(r, &m.x_sum) || aipm_ch__get_f64(r, &m.x_sum_sq) ||
        aipm_ch__get_f64(r, &m.xy_sum))
        return -1;
    m.n = (double)count;
    snprintf(var, sizeof(var), "%.*s", (int)n, v);
    if ((w->stop = w->cb(w->ctx, NULL, var, &m)) != 0)
        return w->stop;
    return 0;
}

static int visibility(ch_store *s, ch_buf *vis, aipm_error *err)
{
    return aipm_ch__visible(s, vis, 0, err);
}

int aipm_ch__exposure_moments(aipm_store *st, const aipm_exposure_query *q,
                              const char *by_trait, aipm_moments_cb cb,
                              void *ctx, aipm_error *err)
{
    ch_store *s = (ch_store *)st;
    ch_buf vis = {0}, b = {0};
    moments_walk w = {cb, ctx, 0};
    aipm_unit_moments multi = {0, 0, 0, 0, 0, 0};
    int64_t n_multi = 0;
    int rc, ok = 0;

    if (by_trait != NULL)
        return aipm_ch__copy_exposure_moments(st, q, by_trait, cb, ctx, err);
    if ((rc = visibility(s, &vis, err)) != 0 ||
        (rc = native(s, q, vis.p, &ok, err)) != 0 || !ok) {
        aipm_ch__buf_free(&vis);
        return rc ? rc
                  : aipm_ch__copy_exposure_moments(st, q, by_trait, cb, ctx,
                                                   err);
    }
    aipm_ch__puts(&b, "SELECT var, count(), sum(y), sum(y * y), sum(xp),"
                      " sum(xp * xp), sum(y * xp) FROM (");
    unit_values(s, &b, vis.p, q);
    aipm_ch__puts(&b, ") GROUP BY var ORDER BY var FORMAT RowBinary");
    rc = b.oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory")
               : aipm_ch__run(s->conn, NULL, b.p, NULL, NULL, 0, moments_row,
                              &w, NULL, err);
    if (rc == AIPM_OK) {
        b.n = 0;
        aipm_ch__puts(&b, "SELECT count() FROM ");
        exposures(s, &b, vis.p, q);
        aipm_ch__puts(&b, " WHERE nv > 1");
        rc = b.oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory")
                   : aipm_ch__scalar(s->conn, NULL, b.p, &n_multi, err);
    }
    if (rc == AIPM_OK) {
        multi.n = (double)n_multi;
        rc = cb(ctx, NULL, NULL, &multi);
    }
    aipm_ch__buf_free(&b);
    aipm_ch__buf_free(&vis);
    return rc;
}

static int one_double(ch_rd *r, void *ctx)
{
    return aipm_ch__get_f64(r, (double *)ctx);
}

int aipm_ch__exposure_quantile(aipm_store *st, const aipm_exposure_query *q,
                               double p, double *out, aipm_error *err)
{
    ch_store *s = (ch_store *)st;
    ch_buf vis = {0}, b = {0};
    int64_t n = 0;
    int rc, ok = 0;

    *out = NAN;
    if ((rc = visibility(s, &vis, err)) != 0 ||
        (rc = native(s, q, vis.p, &ok, err)) != 0 || !ok) {
        aipm_ch__buf_free(&vis);
        return rc ? rc : aipm_ch__copy_exposure_quantile(st, q, p, out, err);
    }
    aipm_ch__puts(&b, "SELECT count() FROM (");
    unit_values(s, &b, vis.p, q);
    aipm_ch__puts(&b, ")");
    rc = b.oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory")
               : aipm_ch__scalar(s->conn, NULL, b.p, &n, err);
    if (rc == AIPM_OK && n > 0) {
        /* the value of rank floor(p * (n - 1)), as SQLite's OFFSET */
        b.n = 0;
        aipm_ch__puts(&b, "SELECT y FROM (");
        unit_values(s, &b, vis.p, q);
        aipm_ch__putf(&b, ") ORDER BY y LIMIT %lld, 1 FORMAT RowBinary",
                      (long long)(p * (double)(n - 1)));
        rc = b.oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory")
                   : aipm_ch__run(s->conn, NULL, b.p, NULL, NULL, 0, one_double,
                                  out, NULL, err);
    }
    aipm_ch__buf_free(&b);
    aipm_ch__buf_free(&vis);
    return rc;
}

static int three(ch_rd *r, void *ctx)
{
    aipm_unit_moments *o = ctx;
    uint64_t n;

    if (aipm_ch__get_u64(r, &n) || aipm_ch__get_f64(r, &o->sum) ||
        aipm_ch__get_f64(r, &o->sum_sq))
        return -1;
    o->n = (double)n;
    return 0;
}

int aipm_ch__population_moments(aipm_store *st, const aipm_event_measure *m,
                                int by_account, int conversion, int64_t from_ms,
                                int64_t to_ms, aipm_unit_moments *out,
                                aipm_error *err)
{
    ch_store *s = (ch_store *)st;
    ch_buf vis = {0}, b = {0};
    int rc;

    memset(out, 0, sizeof(*out));
    if (by_account || getenv("AIPM_CH_COPY_ONLY"))
        return aipm_ch__copy_population_moments(st, m, by_account, conversion,
                                                from_ms, to_ms, out, err);
    if ((rc = visibility(s, &vis, err)) != 0) {
        aipm_ch__buf_free(&vis);
        return rc;
    }
    aipm_ch__putf(&b,
                  "SELECT count(), sum(v), sum(v * v) FROM (SELECT %s"
                  " AS v FROM (SELECT user_id, sum(if(",
                  conversion ? "least(ys, toFloat64(1))" : "ys");
    counts(&b, m, 0);
    aipm_ch__puts(&b, ", ");
    amount(&b, m);
    aipm_ch__putf(&b,
                  ", 0)) AS ys FROM %s.events WHERE %s AND bitAnd(nulls, 1)"
                  " = 0 AND ts >= %lld AND ts < %lld GROUP BY user_id))"
                  " FORMAT RowBinary",
                  s->db, vis.p, (long long)from_ms, (long long)to_ms);
    rc = b.oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory")
               : aipm_ch__run(s->conn, NULL, b.p, NULL, NULL, 0, three, out,
                              NULL, err);
    aipm_ch__buf_free(&b);
    aipm_ch__buf_free(&vis);
    return rc;
}
