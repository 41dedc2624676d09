/* monitor.c - the production models against the data now, the data's
 * health, and the circuit breaker (monitor.h).
 *
 * The model kinds' readings come through the readers the caller passes
 * (prioritize.h and forecast.h give them), so that govern does not call
 * the analysis modules. The drift statistics are drift.h's; the run's
 * report is stored and audited as "monitor", and a rollback by the
 * breaker is a "model.alias" entry naming the report's digest and the
 * decision records it marked stale.
 */
#include "aipm/monitor.h"

#include "aipm/audit.h"
#include "aipm/drift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CANON (JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17))
#define DAY_MS 86400000LL
#define VOLUME_DAYS 28       /* the trailing window of the volume check */
#define QUARANTINE_BATCHES 5 /* the batches of the quarantine trend */

static const char *const status_names[] = {"ok", "warn", "alert"};

const char *aipm_monitor_status_name(int status)
{
    return status >= 0 && status <= 2 ? status_names[status] : "?";
}

typedef struct run {
    aipm_store *st;
    const aipm_config *cfg;
    const aipm_monitor_opts *o;
    json_t *checks, *models, *actions;
    int worst;
    aipm_error *err;
} run;

/* Append a check; returns it (borrowed) so the caller may add fields. */
static json_t *check(run *r, const char *name, const char *model,
                     int64_t version, int status, const char *detail)
{
    json_t *c =
        json_pack("{s:s, s:s}", "check", name, "status", status_names[status]);

    if (c == NULL)
        return NULL;
    if (model) {
        json_object_set_new(c, "model", json_string(model));
        json_object_set_new(c, "version", json_integer(version));
    }
    json_object_set_new(c, "detail", json_string(detail));
    json_array_append_new(r->checks, c);
    if (status > r->worst)
        r->worst = status;
    return c;
}

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* ---- drift of one feature ---- */

/* A JSON array of numbers (nulls as NaN, dropped by the tests) into a
 * new double array; *n its length. NULL when out of memory or not an
 * array. */
static double *doubles(const json_t *arr, size_t *n)
{
    size_t i, k = json_array_size(arr);
    double *v = malloc((k ? k : 1) * sizeof(double));

    *n = 0;
    if (v == NULL || !json_is_array(arr)) {
        free(v);
        return NULL;
    }
    for (i = 0; i < k; i++) {
        json_t *x = json_array_get(arr, i);

        v[i] = json_is_number(x) ? json_number_value(x) : NAN;
    }
    *n = k;
    return v;
}

static const aipm_monitor_feature *
feature_rule(const aipm_config *cfg, const char *model, const char *feature)
{
    int i;

    for (i = 0; i < cfg->monitor.n_features; i++)
        if (strcmp(cfg->monitor.features[i].model, model) == 0 &&
            strcmp(cfg->monitor.features[i].feature, feature) == 0)
            return &cfg->monitor.features[i];
    return NULL;
}

static const char *psi_band(double psi)
{
    return !(psi >= 0.1) ? "stable" : psi < 0.25 ? "moderate" : "significant";
}

/* Compare one feature (or the score): a check, and *drifted. Status:
 * warn when it drifts (the score: alert), or when PSI is significant. */
static int drift_one(run *r, const char *model, int64_t version,
                     const char *feature, const char *kind_s,
                     const json_t *ref_v, const json_t *cur_v, int is_score,
                     int *drifted, json_t *features)
{
    aipm_feature_kind kind = kind_s && strcmp(kind_s, "categorical") == 0
                                 ? AIPM_CATEGORICAL
                                 : AIPM_NUMERICAL;
    const aipm_monitor_feature *rule =
        feature_rule(r->cfg, model, is_score ? "score" : feature);
    size_t nr = 0, nc = 0;
    double *ref = doubles(ref_v, &nr), *cur = doubles(cur_v, &nc);
    aipm_drift_result res, psi;
    aipm_drift_test test;
    char detail[300], name[80];
    json_t *c;
    int rc, status;

    *drifted = 0;
    if (ref == NULL || cur == NULL) {
        free(ref);
        free(cur);
        return aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
    }
    snprintf(name, sizeof(name), "%s", is_score ? "score_drift" : "drift");
    if (rule && rule->test && aipm_drift_test_parse(rule->test, &test) == 0)
        rc = aipm_drift_compare(test, kind, ref, nr, cur, nc, rule->threshold,
                                &res);
    else
        rc = aipm_drift_auto(kind, ref, nr, cur, nc, &res);
    if (rc == AIPM_OK && aipm_drift_compare(AIPM_DRIFT_PSI, kind, ref, nr, cur,
                                            nc, NAN, &psi) != AIPM_OK)
        psi.score = NAN;
    free(ref);
    free(cur);
    if (rc == AIPM_ENOMEM)
        return aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
    if (rc != AIPM_OK) {
        snprintf(detail, sizeof(detail),
                 "%s: not compared (%zu reference, %zu current values after "
                 "dropping missing ones)",
                 feature, nr, nc);
        c = check(r, name, model, version, AIPM_MONITOR_WARN, detail);
        if (c)
            json_object_set_new(c, "feature", json_string(feature));
        return AIPM_OK;
    }
    *drifted = res.drifted;
    status = res.drifted ? (is_score ? AIPM_MONITOR_ALERT : AIPM_MONITOR_WARN)
             : psi.score >= 0.25 ? AIPM_MONITOR_WARN
                                 : AIPM_MONITOR_OK;
    snprintf(detail, sizeof(detail),
             "%s: %s %.4g %s threshold %g (%s); PSI %.3g (%s); %zu reference, "
             "%zu current values",
             feature, aipm_drift_test_name(res.test), res.score,
             res.drifted ? "breaks" : "within", res.threshold,
             res.drifted ? "drift" : "no drift", psi.score, psi_band(psi.score),
             res.n_ref, res.n_cur);
    c = check(r, name, model, version, status, detail);
    if (c) {
        json_object_set_new(c, "feature", json_string(feature));
        json_object_set_new(c, "test",
                            json_string(aipm_drift_test_name(res.test)));
        json_object_set_new(c, "statistic", num(res.score));
        json_object_set_new(c, "threshold", num(res.threshold));
        json_object_set_new(c, "drifted", json_boolean(res.drifted));
        json_object_set_new(c, "psi", num(psi.score));
        json_object_set_new(c, "psi_band", json_string(psi_band(psi.score)));
        /* compared, and left out as missing (null, NaN) */
        json_object_set_new(c, "n_reference",
                            json_integer((json_int_t)res.n_ref));
        json_object_set_new(c, "n_current",
                            json_integer((json_int_t)res.n_cur));
        json_object_set_new(
            c, "missing",
            json_integer((json_int_t)(nr - res.n_ref + nc - res.n_cur)));
        if (features)
            json_array_append(features, c);
    }
    return AIPM_OK;
}

/* The named entry of a reading's feature list. */
static const json_t *find_feature(const json_t *list, const char *name)
{
    const json_t *f;
    size_t i;

    json_array_foreach(list, i, f)
    {
        const char *n = json_string_value(json_object_get(f, "name"));

        if (n && strcmp(n, name) == 0)
            return f;
    }
    return NULL;
}

/* ---- one model ---- */

/* The alerts that trip the breaker, collected per model. */
static void note_alert(json_t *alerts, const char *what)
{
    json_array_append_new(alerts, json_string(what));
}

static int performance(run *r, const char *name, int64_t version,
                       const json_t *perf, const json_t *card, json_t *alerts)
{
    char detail[300];
    json_t *c;

    if (!json_is_object(perf)) {
        check(r, "performance", name, version, AIPM_MONITOR_OK,
              "no rows labelled since the version's cutoff yet");
        return AIPM_OK;
    }
    if (strcmp(name, "adoption") == 0) {
        double ece = json_number_value(json_object_get(perf, "ece"));
        int bad = json_is_number(json_object_get(perf, "ece")) &&
                  ece > r->cfg->monitor.max_ece;

        snprintf(detail, sizeof(detail),
                 "calibration on the newest labelled window: ECE %.4g (%s "
                 "%g), AUC %.3g, Brier %.4g, %lld users",
                 ece, bad ? "above" : "within", r->cfg->monitor.max_ece,
                 json_number_value(json_object_get(perf, "auc")),
                 json_number_value(json_object_get(perf, "brier")),
                 (long long)json_integer_value(json_object_get(perf, "n")));
        c = check(r, "calibration", name, version,
                  bad ? AIPM_MONITOR_ALERT : AIPM_MONITOR_OK, detail);
        if (c) {
            json_object_set_new(c, "statistic",
                                json_copy(json_object_get(perf, "ece")));
            json_object_set_new(c, "threshold",
                                json_real(r->cfg->monitor.max_ece));
            json_object_set(c, "deciles", json_object_get(perf, "calibration"));
        }
        if (bad)
            note_alert(alerts, "calibration");
    } else {
        double mae = json_number_value(json_object_get(perf, "mae"));
        double base = json_number_value(
            json_object_get(json_object_get(card, "metrics"), "mae"));
        int worse = json_is_number(json_object_get(perf, "mae")) && base > 0 &&
                    mae > 2 * base;

        snprintf(detail, sizeof(detail),
                 "items shipped since the cutoff: MAE %.4g (holdout %.4g), "
                 "Spearman %.3g, %lld items",
                 mae, base,
                 json_number_value(json_object_get(perf, "spearman")),
                 (long long)json_integer_value(json_object_get(perf, "n")));
        c = check(r, "performance", name, version,
                  worse ? AIPM_MONITOR_WARN : AIPM_MONITOR_OK, detail);
        if (c)
            json_object_set_new(c, "statistic",
                                json_copy(json_object_get(perf, "mae")));
    }
    return AIPM_OK;
}

static void forecasts(run *r, const char *name, int64_t version,
                      const json_t *fc, json_t *alerts)
{
    const json_t *f;
    size_t i;

    json_array_foreach(fc, i, f)
    {
        double mape = json_number_value(json_object_get(f, "mape"));
        double cov = json_number_value(json_object_get(f, "coverage_80"));
        int days = (int)json_integer_value(json_object_get(f, "days"));
        int bad_m = json_is_number(json_object_get(f, "mape")) &&
                    mape > r->cfg->monitor.max_mape;
        int bad_c = days >= 3 &&
                    json_is_number(json_object_get(f, "coverage_80")) &&
                    cov < r->cfg->monitor.min_coverage_80;
        char detail[300], ms[32] = "-", cs[32] = "-";
        json_t *c;

        if (json_is_number(json_object_get(f, "mape")))
            snprintf(ms, sizeof(ms), "%.3g", mape);
        if (json_is_number(json_object_get(f, "coverage_80")))
            snprintf(cs, sizeof(cs), "%.0f%%", 100 * cov);
        snprintf(detail, sizeof(detail),
                 "forecast %.8s of %s: %d days seen, MAPE %s (bound %g), "
                 "80%% interval held %s (floor %.0f%%)",
                 json_string_value(json_object_get(f, "decision")),
                 json_string_value(json_object_get(f, "feature")), days, ms,
                 r->cfg->monitor.max_mape, cs,
                 100 * r->cfg->monitor.min_coverage_80);
        c = check(r, "forecast", name, version,
                  bad_m || bad_c ? AIPM_MONITOR_ALERT : AIPM_MONITOR_OK,
                  detail);
        if (c) {
            json_object_set(c, "decision", json_object_get(f, "decision"));
            json_object_set(c, "mape", json_object_get(f, "mape"));
            json_object_set(c, "coverage_80",
                            json_object_get(f, "coverage_80"));
        }
        if (bad_m || bad_c)
            note_alert(alerts, "forecast");
    }
}

/* Mark the proposed and approved records of kind made with version stale. */
typedef struct stale_ctx {
    const char *name;
    int64_t version;
    json_t *ids;
} stale_ctx;

static int add_made_with(void *ctx, const aipm_decision_row *d)
{
    stale_ctx *s = ctx;
    json_t *p;

    if (strcmp(d->status, "proposed") != 0 &&
        strcmp(d->status, "approved") != 0)
        return 0;
    p = d->params ? json_loads(d->params, 0, NULL) : NULL;
    if (json_integer_value(json_object_get(p, "model_version")) == s->version)
        json_array_append_new(s->ids, json_string(d->id));
    json_decref(p);
    return 0;
}

static int breaker(run *r, const char *name, int64_t version,
                   const json_t *alerts)
{
    const aipm_promote_rule *rule = aipm_config_promote_rule(r->cfg, name);
    aipm_decision_filter f = {NULL, NULL, NULL, 0};
    stale_ctx s = {name, version, json_array()};
    json_t *extra = NULL, *report = NULL;
    char *text = NULL, sha[65], reason[200];
    int64_t from = 0, to = 0;
    aipm_error e2 = {0, ""};
    uint8_t d[32];
    size_t i;
    int rc;

    if (rule == NULL || !rule->on_alert_rollback || !r->o->breaker ||
        json_array_size(alerts) == 0) {
        json_decref(s.ids);
        return AIPM_OK;
    }
    f.kind = strcmp(name, "value") == 0 ? "prioritize" : "forecast";
    if (s.ids == NULL || (rc = aipm_store_decision_list(
                              r->st, &f, add_made_with, &s, r->err)) != 0) {
        json_decref(s.ids);
        return s.ids ? rc
                     : aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
    }
    /* The report as it stands when the breaker fires. */
    report = json_pack("{s:O, s:O}", "checks", r->checks, "models", r->models);
    text = report ? json_dumps(report, CANON) : NULL;
    json_decref(report);
    if (text == NULL) {
        json_decref(s.ids);
        return aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
    }
    aipm_sha256_oneshot(d, text, strlen(text));
    aipm_hex(sha, d, 32);
    free(text);
    extra = json_pack("{s:b, s:O, s:s, s:O}", "breaker", 1, "alerts", alerts,
                      "report_sha256", sha, "stale_decisions", s.ids);
    snprintf(reason, sizeof(reason),
             "circuit breaker (policies.models.promote[%s].on_alert): ", name);
    for (i = 0; i < json_array_size(alerts); i++)
        snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason),
                 "%s%s", i ? ", " : "",
                 json_string_value(json_array_get(alerts, i)));
    rc = aipm_model_rollback(r->st, name, 0, reason, extra, r->o->now_ms,
                             r->o->checkpoint, &from, &to, &e2);
    json_decref(extra);
    if (rc == AIPM_OK) {
        for (i = 0; i < json_array_size(s.ids); i++)
            if ((rc = aipm_store_decision_set_status(
                     r->st, json_string_value(json_array_get(s.ids, i)),
                     "stale", r->err)) != 0)
                break;
        json_array_append_new(r->actions,
                              json_pack("{s:s, s:s, s:I, s:I, s:s, s:O}",
                                        "action", "rollback", "model", name,
                                        "from", (json_int_t)from, "to",
                                        (json_int_t)to, "report_sha256", sha,
                                        "stale_decisions", s.ids));
    } else if (rc == AIPM_ENOTFOUND) {
        /* Nowhere to go back to: the alert stands, and says so. */
        json_array_append_new(r->actions,
                              json_pack("{s:s, s:s, s:s}", "action",
                                        "rollback_impossible", "model", name,
                                        "detail", e2.msg));
        rc = AIPM_OK;
    } else
        *r->err = e2;
    json_decref(s.ids);
    return rc;
}

static int one_model(run *r, const aipm_model_reader *rd)
{
    aipm_model_reading rdg;
    json_t *artifact = NULL, *card = NULL, *alerts = json_array();
    json_t *feats = json_array(), *ref, *cur, *m;
    aipm_error e2 = {0, ""};
    int64_t version = 0;
    const json_t *f;
    char ref_s[96], detail[700];
    int rc, n = 0, drifted = 0, d, score_drift = 0;
    size_t i;

    memset(&rdg, 0, sizeof(rdg));
    if (!alerts || !feats) {
        rc = aipm_error_set(r->err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = aipm_model_production(r->st, rd->name, &version, &artifact,
                                    r->err)) != 0)
        goto done;
    if (version == 0) {
        snprintf(detail, sizeof(detail),
                 "no production version (aipm model promote %s VERSION)",
                 rd->name);
        check(r, "model", rd->name, 0, AIPM_MONITOR_OK, detail);
        goto done;
    }
    snprintf(ref_s, sizeof(ref_s), "%s@%lld", rd->name, (long long)version);
    if ((rc = aipm_model_show(r->st, ref_s, &card, r->err)) != 0)
        goto done;
    if ((rc = rd->read(rd->ctx, &rdg, r->st, r->cfg, artifact, r->o->now_ms,
                       &e2)) != 0) {
        if (rc == AIPM_ENOMEM) {
            *r->err = e2;
            goto done;
        }
        snprintf(detail, sizeof(detail),
                 "%s: the data now could not be read: %s", ref_s, e2.msg);
        check(r, "model", rd->name, version, AIPM_MONITOR_WARN, detail);
        rc = AIPM_OK;
        goto done;
    }
    ref = json_object_get(artifact, "reference");
    cur = rdg.current;
    json_array_foreach(json_object_get(ref, "features"), i, f)
    {
        const char *fname = json_string_value(json_object_get(f, "name"));
        const json_t *cf =
            find_feature(json_object_get(cur, "features"), fname ? fname : "");

        if (fname == NULL || cf == NULL)
            continue;
        if ((rc = drift_one(r, rd->name, version, fname,
                            json_string_value(json_object_get(f, "kind")),
                            json_object_get(f, "values"),
                            json_object_get(cf, "values"), 0, &d, feats)) != 0)
            goto done;
        n++;
        drifted += d;
    }
    if (n > 0) {
        double share = (double)drifted / n;
        int alert = share >= r->cfg->monitor.dataset_drift_share;
        json_t *c;

        snprintf(detail, sizeof(detail),
                 "%d of %d features drifted (%.0f%%; dataset drift at %.0f%%)",
                 drifted, n, 100 * share,
                 100 * r->cfg->monitor.dataset_drift_share);
        c = check(r, "dataset_drift", rd->name, version,
                  alert ? AIPM_MONITOR_ALERT : AIPM_MONITOR_OK, detail);
        if (c) {
            json_object_set_new(c, "statistic", json_real(share));
            json_object_set_new(c, "threshold",
                                json_real(r->cfg->monitor.dataset_drift_share));
        }
        if (alert)
            note_alert(alerts, "dataset drift");
    } else {
        snprintf(detail, sizeof(detail),
                 "%s keeps no reference sample to compare with", ref_s);
        check(r, "dataset_drift", rd->name, version, AIPM_MONITOR_WARN, detail);
    }
    if (json_array_size(json_object_get(ref, "score")) &&
        json_array_size(json_object_get(cur, "score"))) {
        if ((rc = drift_one(r, rd->name, version, "score", "numerical",
                            json_object_get(ref, "score"),
                            json_object_get(cur, "score"), 1, &score_drift,
                            NULL)) != 0)
            goto done;
        if (score_drift)
            note_alert(alerts, "score drift");
    }
    if ((rc = performance(r, rd->name, version, rdg.performance, card,
                          alerts)) != 0)
        goto done;
    forecasts(r, rd->name, version, rdg.forecasts, alerts);
    m = json_pack(
        "{s:s, s:I, s:i, s:i, s:b, s:O, s:O, s:O}", "name", rd->name, "version",
        (json_int_t)version, "features_compared", n, "drifted", drifted,
        "dataset_drift",
        n > 0 && (double)drifted / n >= r->cfg->monitor.dataset_drift_share,
        "features", feats, "performance",
        rdg.performance ? rdg.performance : json_null(), "alerts", alerts);
    if (m)
        json_array_append_new(r->models, m);
    rc = breaker(r, rd->name, version, alerts);
done:
    aipm_model_reading_free(&rdg);
    json_decref(artifact);
    json_decref(card);
    json_decref(alerts);
    json_decref(feats);
    return rc;
}

/* ---- the data's health ---- */

typedef struct q_ctx {
    const char *dataset;
    double share[QUARANTINE_BATCHES];
    int n;
    int64_t newest_ms;
    int any;
} q_ctx;

static int take_batch(void *ctx, const aipm_batch_info *b)
{
    q_ctx *q = ctx;

    if (strcmp(b->status, "accepted") != 0 && strcmp(b->status, "staged") != 0)
        return 0;
    if (strcmp(b->status, "accepted") == 0 && !q->any) {
        q->any = 1;
        q->newest_ms = b->created_ms;
    }
    if (q->n < QUARANTINE_BATCHES && b->n_read > 0)
        q->share[q->n++] = (double)b->n_quarantined / (double)b->n_read;
    return 0;
}

static int data_health(run *r)
{
    static const char *const datasets[] = {"events",  "backlog", "feedback",
                                           "signals", "graph",   NULL};
    const aipm_data_policy *p = &r->cfg->data;
    char detail[300];
    int i, rc;

    for (i = 0; datasets[i]; i++) {
        q_ctx q;
        double hours, rising = 1;
        int k;
        json_t *c;

        memset(&q, 0, sizeof(q));
        q.dataset = datasets[i];
        if ((rc = aipm_store_batch_list(r->st, datasets[i], 0, take_batch, &q,
                                        r->err)) != 0)
            return rc;
        if (!q.any)
            continue;
        /* Freshness: events by their newest day, the others by their
         * newest accepted batch. */
        hours = (double)(r->o->now_ms - q.newest_ms) / 3600000.0;
        if (strcmp(datasets[i], "events") == 0) {
            int64_t first = 0, last = 0;
            int found = 0;

            if ((rc = aipm_store_event_day_range(r->st, &first, &last, &found,
                                                 r->err)) != 0)
                return rc;
            if (found)
                hours =
                    (double)(r->o->now_ms - (last + 1) * DAY_MS) / 3600000.0;
            if (found) {
                double m_last = 0, m_trail = 0;
                int64_t d1 = 0, d2 = 0;

                if ((rc =
                         aipm_store_volume_mean(r->st, "events", last, last + 1,
                                                &m_last, &d1, r->err)) != 0 ||
                    (rc = aipm_store_volume_mean(r->st, "events",
                                                 last - VOLUME_DAYS, last,
                                                 &m_trail, &d2, r->err)) != 0)
                    return rc;
                if (d2 >= 7 && m_trail > 0) {
                    double ratio = m_last / m_trail;
                    int bad = ratio < p->volume_low || ratio > p->volume_high;

                    snprintf(detail, sizeof(detail),
                             "events: %.0f rows on the newest day, %.2fx the "
                             "mean of the %lld days before (bounds %g..%gx)",
                             m_last, ratio, (long long)d2, p->volume_low,
                             p->volume_high);
                    c = check(r, "volume", NULL, 0,
                              bad ? AIPM_MONITOR_WARN : AIPM_MONITOR_OK,
                              detail);
                    if (c) {
                        json_object_set_new(c, "dataset",
                                            json_string("events"));
                        json_object_set_new(c, "statistic", json_real(ratio));
                    }
                }
            }
        }
        snprintf(detail, sizeof(detail),
                 "%s: newest data %.1f hours old (bound %g)", datasets[i],
                 hours < 0 ? 0 : hours, p->max_staleness_hours);
        c = check(r, "freshness", NULL, 0,
                  hours > p->max_staleness_hours ? AIPM_MONITOR_WARN
                                                 : AIPM_MONITOR_OK,
                  detail);
        if (c) {
            json_object_set_new(c, "dataset", json_string(datasets[i]));
            json_object_set_new(c, "statistic", json_real(hours));
            json_object_set_new(c, "threshold",
                                json_real(p->max_staleness_hours));
        }
        /* The quarantine share, newest batch first: a warning when the
         * newest is above half the gate and the shares rose batch after
         * batch. */
        for (k = 0; k + 1 < q.n; k++)
            if (!(q.share[k] > q.share[k + 1]))
                rising = 0;
        if (q.n > 0) {
            int bad = q.share[0] > p->max_quarantine_share / 2 &&
                      (rising && q.n >= 3);
            json_t *arr = json_array();

            for (k = 0; arr && k < q.n; k++)
                json_array_append_new(arr, json_real(q.share[k]));
            snprintf(
                detail, sizeof(detail),
                "%s: %.2f%% of the newest batch's rows quarantined "
                "(gate %.1f%%)%s",
                datasets[i], 100 * q.share[0], 100 * p->max_quarantine_share,
                q.n >= 3 && rising ? ", rising over the last batches" : "");
            c = check(r, "quarantine", NULL, 0,
                      bad ? AIPM_MONITOR_WARN : AIPM_MONITOR_OK, detail);
            if (c) {
                json_object_set_new(c, "dataset", json_string(datasets[i]));
                json_object_set_new(c, "statistic", json_real(q.share[0]));
                json_object_set_new(c, "shares", arr ? arr : json_null());
            } else
                json_decref(arr);
        }
    }
    return AIPM_OK;
}

/* ---- the run ---- */

static int record(run *r, json_t *report, aipm_error *err)
{
    char *text = json_dumps(report, CANON), *detail_s = NULL, sha[65];
    json_t *detail, *alerts = json_array(), *c;
    aipm_monitor_row row;
    uint8_t head[32], d[32];
    uint64_t size = 0;
    size_t i;
    int rc;

    if (text == NULL || alerts == NULL) {
        free(text);
        json_decref(alerts);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    aipm_sha256_oneshot(d, text, strlen(text));
    aipm_hex(sha, d, 32);
    json_array_foreach(r->checks, i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "status")), "alert") ==
            0)
            json_array_append_new(
                alerts,
                json_pack(
                    "{s:s, s:s?, s:s?}", "check",
                    json_string_value(json_object_get(c, "check")), "model",
                    json_string_value(json_object_get(c, "model")), "feature",
                    json_string_value(json_object_get(c, "feature"))));
    }
    detail = json_pack("{s:s, s:s, s:o, s:O}", "status", status_names[r->worst],
                       "report_sha256", sha, "alerts", alerts, "actions",
                       r->actions);
    detail_s = detail ? json_dumps(detail, CANON) : NULL;
    json_decref(detail);
    if (detail_s == NULL) {
        free(text);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    if ((rc = aipm_store_begin(r->st, err)) != 0)
        goto done;
    rc = aipm_audit_append(r->st, "monitor", status_names[r->worst], detail_s,
                           &size, head, err);
    row.seq = (int64_t)size;
    row.time_ms = r->o->now_ms;
    row.status = status_names[r->worst];
    row.report = text;
    if (rc == 0)
        rc = aipm_store_monitor_put(r->st, &row, err);
    if (rc == 0)
        rc = aipm_audit_commit(r->st, r->o->checkpoint, size, head, err);
    if (rc)
        aipm_store_rollback(r->st);
    else
        json_object_set_new(report, "seq", json_integer((json_int_t)size));
done:
    free(text);
    free(detail_s);
    return rc;
}

int aipm_monitor_run(aipm_store *st, const aipm_config *cfg,
                     const aipm_monitor_opts *o, json_t **report, int *status,
                     aipm_error *err)
{
    aipm_config *defaults = NULL;
    run r;
    char when[32];
    int i, rc = AIPM_OK;

    *report = NULL;
    *status = AIPM_MONITOR_OK;
    if (cfg == NULL) {
        if ((rc = aipm_config_new_default(&defaults, err)) != 0)
            return rc;
        cfg = defaults;
    }
    memset(&r, 0, sizeof(r));
    r.st = st;
    r.cfg = cfg;
    r.o = o;
    r.err = err;
    r.checks = json_array();
    r.models = json_array();
    r.actions = json_array();
    if (!r.checks || !r.models || !r.actions) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; rc == AIPM_OK && o->readers && o->readers[i].name; i++)
        rc = one_model(&r, &o->readers[i]);
    if (rc == AIPM_OK)
        rc = data_health(&r);
    if (rc != AIPM_OK)
        goto done;
    aipm_time_format(when, o->now_ms);
    *report = json_pack("{s:s, s:s, s:O, s:O, s:O}", "time", when, "status",
                        status_names[r.worst], "checks", r.checks, "models",
                        r.models, "actions", r.actions);
    if (*report == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if (o->record && (rc = record(&r, *report, err)) != 0) {
        json_decref(*report);
        *report = NULL;
        goto done;
    }
    *status = r.worst;
done:
    json_decref(r.checks);
    json_decref(r.models);
    json_decref(r.actions);
    aipm_config_free(defaults);
    return rc;
}

/* ---- the history ---- */

/* A stored check's key, or JSON null (a check without it). */
static json_t *or_null(const json_t *c, const char *key)
{
    json_t *v = json_object_get(c, key);

    return v ? json_incref(v) : json_null();
}

/* A run's checks in brief, from the report stored whole (record): the
 * version, test and threshold are the run's own, null where the check has
 * none (data health has no model, a calibration no test). */
static int add_run(void *ctx, const aipm_monitor_row *row)
{
    json_t *runs = ctx, *rep = json_loads(row->report, 0, NULL), *c, *brief;
    int alerts = 0, warns = 0;
    char when[32];
    size_t i;

    brief = json_array();
    json_array_foreach(json_object_get(rep, "checks"), i, c)
    {
        const char *s = json_string_value(json_object_get(c, "status"));

        alerts += s && strcmp(s, "alert") == 0;
        warns += s && strcmp(s, "warn") == 0;
        json_array_append_new(
            brief,
            json_pack(
                "{s:s?, s:s?, s:o, s:s?, s:s?, s:s?, s:O?, s:o, s:o}", "check",
                json_string_value(json_object_get(c, "check")), "model",
                json_string_value(json_object_get(c, "model")), "version",
                or_null(c, "version"), "feature",
                json_string_value(json_object_get(c, "feature")), "dataset",
                json_string_value(json_object_get(c, "dataset")), "status", s,
                "statistic", json_object_get(c, "statistic"), "test",
                or_null(c, "test"), "threshold", or_null(c, "threshold")));
    }
    aipm_time_format(when, row->time_ms);
    json_array_append_new(runs, json_pack("{s:I, s:s, s:s, s:i, s:i, s:o, s:O}",
                                          "seq", (json_int_t)row->seq, "time",
                                          when, "status", row->status, "alerts",
                                          alerts, "warnings", warns, "checks",
                                          brief, "actions",
                                          json_object_get(rep, "actions")
                                              ? json_object_get(rep, "actions")
                                              : json_null()));
    json_decref(rep);
    return 0;
}

int aipm_monitor_history(aipm_store *st, int64_t limit, json_t **out,
                         aipm_error *err)
{
    json_t *runs = json_array();
    int rc;

    *out = NULL;
    if (runs == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if ((rc = aipm_store_monitor_list(st, limit, add_run, runs, err)) != 0) {
        json_decref(runs);
        return rc;
    }
    *out = json_pack("{s:o}", "runs", runs);
    return *out ? AIPM_OK : aipm_error_set(err, AIPM_ENOMEM, "out of memory");
}
