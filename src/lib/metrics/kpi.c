/* kpi.c - KPIs and product analytics, computed in the store.
 *
 * The report covers the UTC days [from, to] cut into periods (days, ISO
 * weeks from Monday, calendar months), each clipped to the range. The
 * store's KPI reads (aipm_store_kpi_*) return counts per period, each one
 * scan of the events: users' activity (daily actives, WAU and MAU at each
 * period's last day, new users with their D1/D7/D30, weekly cohorts), the
 * users of each catalog feature, and per KPI the counts of its metric
 * (conversion against the first seen, retention, or events, sums and
 * units). The C side divides and writes JSON. Nothing after the last day
 * is read, so a report of a past range does not change as data arrives.
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
    int64_t *firsts, *lasts; /* the periods' days, for the store */
    aipm_periods span;
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
    int64_t s;
    int cap = (int)(r->to - r->from) + 2;

    r->p = calloc((size_t)cap, sizeof(period));
    r->firsts = calloc((size_t)cap, sizeof(int64_t));
    r->lasts = calloc((size_t)cap, sizeof(int64_t));
    if (r->p == NULL || r->firsts == NULL || r->lasts == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (s = period_start(kind, r->from); s <= r->to && r->n < cap;
         s = period_next(kind, s)) {
        period *p = &r->p[r->n];
        int64_t end = period_next(kind, s) - 1;

        p->start = s;
        p->first = r->firsts[r->n] = s < r->from ? r->from : s;
        p->last = r->lasts[r->n] = end > r->to ? r->to : end;
        r->n++;
    }
    r->span.from_day = r->from;
    r->span.to_day = r->to;
    r->span.first = r->firsts;
    r->span.last = r->lasts;
    r->span.n = r->n;
    r->week0 = week_of(r->from);
    r->n_weeks = (int)(week_of(r->to) - r->week0 + 1);
    r->cohort = calloc((size_t)r->n_weeks * (size_t)r->n_weeks, sizeof(double));
    if (r->cohort == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    return AIPM_OK;
}

static void report_free(report *r)
{
    free(r->p);
    free(r->firsts);
    free(r->lasts);
    free(r->cohort);
    free(r->adoption);
}

/* ---- reads ---- */

static int on_cohort(void *ctx, int64_t week, int64_t lag, double users)
{
    report *r = ctx;
    int64_t cohort = week - r->week0;

    if (cohort >= 0 && lag >= 0 && cohort + lag < r->n_weeks)
        r->cohort[cohort * r->n_weeks + lag] = users;
    return 0;
}

/* The users' activity per period and the weekly cohorts. */
static int run_activity(report *r, aipm_store *st, aipm_error *err)
{
    aipm_period_activity *a = calloc((size_t)r->n + 1, sizeof(*a));
    int i, k, rc;

    if (a == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    rc = aipm_store_kpi_activity(st, &r->span, a, on_cohort, r, err);
    for (i = 0; rc == AIPM_OK && i < r->n; i++) {
        period *p = &r->p[i];

        p->dau_sum = a[i].dau_sum;
        p->active = a[i].active;
        p->wau = a[i].wau;
        p->mau = a[i].mau;
        p->new_users = a[i].new_users;
        for (k = 0; k < 3; k++) {
            p->ret[k] = a[i].ret[k];
            p->elig[k] = a[i].elig[k];
        }
    }
    free(a);
    return rc;
}

static int run_features(report *r, aipm_store *st, const aipm_config *cfg,
                        aipm_error *err)
{
    const char **events = NULL;
    int *feature_of = NULL;
    int i, j, n = 0, rc;

    r->n_features = cfg->n_catalog;
    if (cfg->n_catalog == 0)
        return AIPM_OK;
    for (i = 0; i < cfg->n_catalog; i++)
        n += cfg->catalog[i].n_events;
    r->adoption = calloc((size_t)r->n * (size_t)cfg->n_catalog, sizeof(double));
    events = calloc((size_t)n + 1, sizeof(*events));
    feature_of = calloc((size_t)n + 1, sizeof(*feature_of));
    if (r->adoption == NULL || events == NULL || feature_of == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0, n = 0; i < cfg->n_catalog; i++)
        for (j = 0; j < cfg->catalog[i].n_events; j++) {
            events[n] = cfg->catalog[i].events[j];
            feature_of[n++] = i;
        }
    rc = aipm_store_kpi_feature_users(st, &r->span, events, feature_of, n,
                                      cfg->n_catalog, r->adoption, err);
done:
    free(events);
    free(feature_of);
    return rc;
}

/* Whether metric_values reads the users active per period (from
 * run_activity): a count, sum or adoption over users, and a ratio of two
 * (its parts take its unit). */
static int reads_active_users(const aipm_metric *m)
{
    return !m->unit_account && m->type != AIPM_METRIC_CONVERSION &&
           m->type != AIPM_METRIC_RETENTION;
}

/* The metric's value per period into vals (NAN: no value). *note gets a
 * static reason when the metric cannot be computed (values stay NAN). */
static int metric_values(double *vals, const char **note, const report *r,
                         aipm_store *st, const aipm_config *cfg,
                         const aipm_metric *m, aipm_error *err)
{
    aipm_event_measure y;
    double *acc = NULL;
    int i, a = m->unit_account != 0, n = r->n, rc = AIPM_OK;

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
    if ((rc = aipm_metrics__measure(&y, cfg, m, err)) != 0)
        return rc;
    if ((acc = calloc((size_t)n * 4 + 1, sizeof(double))) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    switch (m->type) {
    case AIPM_METRIC_CONVERSION:
        rc = aipm_store_kpi_conversion(st, &r->span, &y, a,
                                       (int64_t)(m->window_days > 0
                                                     ? m->window_days
                                                     : DEFAULT_WINDOW_DAYS) *
                                           DAY_MS,
                                       acc, acc + n, err);
        for (i = 0; rc == AIPM_OK && i < n; i++)
            if (acc[i] > 0)
                vals[i] = acc[n + i] / acc[i];
        break;
    case AIPM_METRIC_RETENTION:
        rc = aipm_store_kpi_retention(st, &r->span, a, m->from_day, m->to_day,
                                      acc, acc + n, err);
        for (i = 0; rc == AIPM_OK && i < n; i++)
            if (acc[i] > 0)
                vals[i] = acc[n + i] / acc[i];
        break;
    default: /* count, sum, adoption: per active unit of the period */
        rc = aipm_store_kpi_events(st, &r->span, &y, a, acc, acc + n,
                                   acc + 2 * n, err);
        /* The active units per period: users from the activity read,
         * accounts counted here. */
        if (rc == AIPM_OK && a)
            rc = aipm_store_kpi_active_accounts(st, &r->span, acc + 3 * n, err);
        for (i = 0; rc == AIPM_OK && i < n; i++) {
            double num = m->type == AIPM_METRIC_COUNT ? acc[i]
                         : m->type == AIPM_METRIC_SUM ? acc[n + i]
                                                      : acc[2 * n + i];
            double active = a ? acc[3 * n + i] : r->p[i].active;

            if (active > 0)
                vals[i] = num / active;
        }
    }
    free(acc);
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
    if (opts->progress)
        opts->progress(opts->progress_ctx, 0, (uint64_t)cfg->n_kpis + 2);
    if ((rc = run_activity(&r, st, err)) != 0)
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
    report_free(&r);
    return rc;
}

int aipm_kpi_series_get(aipm_kpi_series *out, aipm_store *st,
                        const aipm_config *cfg, const char *key,
                        const aipm_kpi_opts *o, aipm_error *err)
{
    report r;
    aipm_kpi_opts defaults;
    const aipm_kpi *k = find_kpi(cfg, key);
    const aipm_metric *m;
    const char *note;
    int i, rc;

    memset(out, 0, sizeof(*out));
    memset(&r, 0, sizeof(r));
    if (o == NULL) {
        aipm_kpi_opts_init(&defaults);
        o = &defaults;
    }
    if (k == NULL)
        return not_found(cfg, key, err);
    if ((m = aipm_config_metric(cfg, k->metric)) == NULL) /* config.c */
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "KPI %s: no metric '%s' in aipm.yaml", key,
                              k->metric);
    /* The periods and, when the metric is per active user, the activity
     * read; nothing else of the report. */
    if ((rc = resolve_range(&r, o, err)) != 0 ||
        (rc = build_periods(&r, o->period, err)) != 0 ||
        (reads_active_users(m) && (rc = run_activity(&r, st, err)) != 0))
        goto done;
    out->start_ms = calloc((size_t)r.n + 1, sizeof(*out->start_ms));
    out->value = calloc((size_t)r.n + 1, sizeof(*out->value));
    if (out->start_ms == NULL || out->value == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = metric_values(out->value, &note, &r, st, cfg, m, err)) != 0)
        goto done;
    for (i = 0; i < r.n; i++)
        out->start_ms[i] = r.p[i].start * DAY_MS;
    out->n = r.n;
    out->direction_down = k->direction_down;
    out->target = k->has_target ? k->target : NAN;
done:
    report_free(&r);
    if (rc)
        aipm_kpi_series_free(out);
    return rc;
}

void aipm_kpi_series_free(aipm_kpi_series *s)
{
    if (s == NULL)
        return;
    free(s->start_ms);
    free(s->value);
    memset(s, 0, sizeof(*s));
}
