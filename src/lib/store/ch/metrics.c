/* metrics.c - an experiment's moments and a population's, computed in
 * ClickHouse (store.h: aipm_store_exposure_moments, _exposure_quantile,
 * _population_moments) for users as units without a --by breakdown; the
 * other forms (accounts, --by) run on the private copy (ch/fallback.c).
 *
 * The statements compute what the SQLite backend's do (sqlite/metrics.c)
 * in one scan: per user, the exposure (their first 'Experiment Viewed' of
 * the experiment, the smallest variation, how many they saw) and the
 * times and worths of the events that count, from which the windows
 * relative to the exposure are summed (unit_values); then capped and
 * summed per variation. A join of the events to the exposures, the
 * first form, held every exposed user in memory twice and ran out of a
 * query's 1 GB at 10M events.
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

/* What an event is worth to a measure, or 0 when it does not count. */
static void worth(ch_buf *b, const aipm_event_measure *m, int not_viewed)
{
    aipm_ch__puts(b, "if(");
    counts(b, m, not_viewed);
    aipm_ch__puts(b, ", ");
    amount(b, m);
    aipm_ch__puts(b, ", toFloat64(0))");
}

/* The sum of a user's amounts (array AMOUNTS, times in tss) whose time
 * is in [FROM, TO), expressions of the user's exposure time, named z:
 * 18.16's lambdas see only their arguments, so t0 comes in as an array
 * of its own (replicate). */
static void window_sum(ch_buf *b, const char *amounts, const char *from,
                       const char *to)
{
    aipm_ch__putf(b,
                  "arraySum(arrayMap((t, a, z) -> if(t >= %s AND t < %s, a,"
                  " 0), tss, %s, replicate(t0, tss)))",
                  from, to, amounts);
}

/* The exposed users of q, one row each: var (their smallest variation),
 * nv (how many they saw), y and xp (the metric and its covariate, clipped
 * and capped).
 *
 * One scan, no join: the exposures and the events that count for y or x
 * are read together and grouped by user, each user's event times and
 * worths gathered in arrays, from which the windows after (and, for
 * CUPED, before) the user's exposure are summed. A user's events are on
 * one shard, so each shard groups its own users (the caller asks for
 * distributed_group_by_no_merge). Only the events the measures name are
 * read: the names are the sorting key's first column. */
static void unit_values(ch_store *s, ch_buf *b, const char *vis,
                        const aipm_exposure_query *q)
{
    const aipm_event_measure *x = q->x && !q->x->any_event ? q->x : NULL;
    char from[64], to[96];

    snprintf(from, sizeof(from), "z + %lld", (long long)q->lo_ms);
    snprintf(to, sizeof(to), "least(z + %lld, %lld)", (long long)q->hi_ms,
             (long long)q->end_ms);
    aipm_ch__puts(b, "SELECT var, nv, ");
    /* y: the metric after exposure */
    aipm_ch__puts(b, "(");
    window_sum(b, "yas", from, to);
    aipm_ch__puts(b, ") AS ys, ");
    /* x: a ratio's denominator after exposure (SQLite's statement reads
     * one from its list of events only: none, nothing), else the metric
     * before exposure (CUPED), else 0 */
    aipm_ch__puts(b, "(");
    if (x) {
        window_sum(b, "xas", from, to);
    } else if (!q->x && q->pre_ms > 0) {
        char before[64];

        snprintf(before, sizeof(before), "z - %lld", (long long)q->pre_ms);
        window_sum(b, "yas", before, "z");
    } else {
        aipm_ch__puts(b, "toFloat64(0)");
    }
    aipm_ch__puts(b, ") AS xs, ");
    capped(b, "ys", q, "y");
    aipm_ch__puts(b, ", ");
    capped(b, "xs", q, "xp");
    aipm_ch__puts(b, " FROM (SELECT minIf(ts, e) AS t0, minIf(v, e) AS var,"
                     " uniqExactIf(v, e) AS nv, groupArray(ts) AS tss,"
                     " groupArray(ya) AS yas, groupArray(xa) AS xas"
                     " FROM (SELECT user_id, ts, (1");
    exposure_events(b, q);
    aipm_ch__puts(b, ") AS e, if(e, visitParamExtractString(payload,"
                     " 'variation_id'), '') AS v, ");
    worth(b, &q->y, 1);
    aipm_ch__puts(b, " AS ya, ");
    if (x)
        worth(b, x, 0);
    else
        aipm_ch__puts(b, "toFloat64(0)");
    aipm_ch__putf(b,
                  " AS xa FROM %s.events WHERE %s AND bitAnd(nulls, 1) = 0"
                  " AND ((1",
                  s->db, vis);
    exposure_events(b, q);
    aipm_ch__puts(b, ") OR ");
    counts(b, &q->y, 1);
    if (x) {
        aipm_ch__puts(b, " OR ");
        counts(b, x, 0);
    }
    aipm_ch__puts(b, ")) GROUP BY user_id HAVING countIf(e) > 0)");
}

/* The settings the per-unit statement runs with: each shard groups its
 * own users. */
static const char *unit_params(const ch_store *s)
{
    return s->cluster[0] ? "distributed_group_by_no_merge=1" : NULL;
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
    double n_multi;
} moments_walk;

/* A row (variation, multi, count, sums): a variation's moments, or with
 * multi the multi-exposed units' count, reported last. */
static int moments_row(ch_rd *r, void *ctx)
{
    moments_walk *w = ctx;
    const char *v;
    size_t n;
    unsigned multi;
    uint64_t count;
    aipm_unit_moments m;
    char var[256];

    if (aipm_ch__get_str(r, &v, &n) || aipm_ch__get_u8(r, &multi) ||
        aipm_ch__get_u64(r, &count) || aipm_ch__get_f64(r, &m.sum) ||
        aipm_ch__get_f64(r, &m.sum_sq) || aipm_ch__get_f64(r, &m.x_sum) ||
        aipm_ch__get_f64(r, &m.x_sum_sq) || aipm_ch__get_f64(r, &m.xy_sum))
        return CH_ROW_CUT;
    m.n = (double)count;
    if (multi) {
        w->n_multi = m.n;
        return 0;
    }
    snprintf(var, sizeof(var), "%.*s", (int)n, v);
    return w->cb(w->ctx, NULL, var, &m);
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
    aipm_ch__puts(&b, "SELECT if(nv = 1, var, '') AS g, toUInt8(nv > 1) AS"
                      " multi, count(), sum(y), sum(y * y), sum(xp),"
                      " sum(xp * xp), sum(y * xp) FROM (");
    unit_values(s, &b, vis.p, q);
    aipm_ch__puts(&b, ") GROUP BY g, multi ORDER BY multi, g"
                      " FORMAT RowBinary");
    rc = b.oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory")
               : aipm_ch__run(s->conn, NULL, b.p, unit_params(s), NULL, 0,
                              moments_row, &w, NULL, err);
    if (rc == AIPM_OK) {
        aipm_unit_moments multi = {w.n_multi, 0, 0, 0, 0, 0};

        rc = cb(ctx, NULL, NULL, &multi);
    }
    aipm_ch__buf_free(&b);
    aipm_ch__buf_free(&vis);
    return rc;
}

typedef struct ranked {
    uint64_t n;
    double y;
} ranked;

static int ranked_row(ch_rd *r, void *ctx)
{
    ranked *k = ctx;

    if (aipm_ch__get_u64(r, &k->n) || aipm_ch__get_f64(r, &k->y))
        return CH_ROW_CUT;
    return 0;
}

int aipm_ch__exposure_quantile(aipm_store *st, const aipm_exposure_query *q,
                               double p, double *out, aipm_error *err)
{
    ch_store *s = (ch_store *)st;
    ch_buf vis = {0}, b = {0};
    ranked k = {0, NAN};
    int rc, ok = 0;

    *out = NAN;
    if ((rc = visibility(s, &vis, err)) != 0 ||
        (rc = native(s, q, vis.p, &ok, err)) != 0 || !ok) {
        aipm_ch__buf_free(&vis);
        return rc ? rc : aipm_ch__copy_exposure_quantile(st, q, p, out, err);
    }
    /* the value of rank floor(p * (n - 1)) in ascending order, as
     * SQLite's OFFSET, in the same scan as n */
    aipm_ch__putf(&b,
                  "SELECT count(), if(count() = 0, toFloat64(0),"
                  " arrayElement(arraySort(groupArray(y)),"
                  " toUInt64(floor(%.17g * (count() - 1))) + 1)) FROM (",
                  p);
    unit_values(s, &b, vis.p, q);
    aipm_ch__puts(&b, ") WHERE nv = 1 FORMAT RowBinary");
    rc = b.oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory")
               : aipm_ch__run(s->conn, NULL, b.p, unit_params(s), NULL, 0,
                              ranked_row, &k, NULL, err);
    if (rc == AIPM_OK && k.n > 0)
        *out = k.y;
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
        return CH_ROW_CUT;
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
               : aipm_ch__run(s->conn, NULL, b.p, unit_params(s), NULL, 0,
                              three, out, NULL, err);
    aipm_ch__buf_free(&b);
    aipm_ch__buf_free(&vis);
    return rc;
}
