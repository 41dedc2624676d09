/* api.c - the JSON API's routes (/api/v1): each a thin function from a
 * request to the document the CLI's --json prints for the same question.
 *
 * No analysis happens here: a route reads its arguments, calls the same
 * library operation (or view, src/cli/views.h) the command calls, and
 * returns its document. GET routes write nothing (an analysis that the
 * CLI records runs here with its record off); POST routes are the writes,
 * for analysts (records) and approvers (acts), and answer 201. Arguments
 * are checked as the CLI checks its options, and an argument a route does
 * not take is an error (server.c), never ignored.
 */
#include "serve.h"
#include "../cli/views.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A number argument within [lo, hi] (def when absent). */
static int arg_double(const srv_req *r, const char *name, double lo, double hi,
                      double def, double *out, aipm_error *err)
{
    const char *s = srv_arg(r, name);
    char *end;
    double v;

    *out = def;
    if (s == NULL)
        return AIPM_OK;
    errno = 0;
    v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno || !isfinite(v) || v < lo || v > hi)
        return aipm_error_set(err, AIPM_EINVALID,
                              "argument %s: expected a number from %g to %g",
                              name, lo, hi);
    *out = v;
    return AIPM_OK;
}

/* A flag argument: absent, "0"/"false" or "1"/"true". */
static int arg_flag(const srv_req *r, const char *name, int *out,
                    aipm_error *err)
{
    const char *s = srv_arg(r, name);

    if (s == NULL)
        return AIPM_OK;
    if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0)
        *out = 1;
    else if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0)
        *out = 0;
    else
        return aipm_error_set(err, AIPM_EINVALID,
                              "argument %s: expected true or false", name);
    return AIPM_OK;
}

/* One of the NULL-terminated names, its index into *out (unchanged when
 * absent). */
static int arg_choice(const srv_req *r, const char *name,
                      const char *const *names, int *out, aipm_error *err)
{
    const char *s = srv_arg(r, name);
    int i;

    if (s == NULL)
        return AIPM_OK;
    for (i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return AIPM_OK;
        }
    return aipm_error_set(
        err, AIPM_EINVALID, "argument %s: \"%.64s\" is none of %s%s%s%s%s",
        name, s, names[0], names[1] ? ", " : "", names[1] ? names[1] : "",
        names[2] ? ", " : "", names[2] ? names[2] : "");
}

/* A document from JSON text the library made (freed here). */
static int from_text(char *text, json_t **out, aipm_error *err)
{
    json_error_t jerr;

    *out = text ? json_loads(text, 0, &jerr) : NULL;
    free(text);
    return *out ? AIPM_OK
                : aipm_error_set(err, AIPM_ERROR,
                                 "the library's document did "
                                 "not parse: %s",
                                 text ? jerr.text : "none");
}

/* ---- the server itself ---- */

static int h_index(srv_req *r, json_t **out, aipm_error *err)
{
    json_t *routes = json_array();
    const srv_route *rt;

    (void)r;
    (void)err;
    for (rt = srv_routes; rt->method; rt++) {
        json_t *args = json_array();
        size_t i;

        for (i = 0; rt->args && rt->args[i]; i++)
            json_array_append_new(args, json_string(rt->args[i]));
        json_array_append_new(
            routes,
            json_pack("{s:s, s:s, s:s, s:o, s:b, s:s}", "method", rt->method,
                      "path", rt->pattern, "role", aipm_role_name(rt->role),
                      "args", args, "cached", rt->cache, "what", rt->what));
    }
    *out = json_pack("{s:s, s:o}", "version", AIPM_VERSION, "routes", routes);
    return AIPM_OK;
}

static int h_whoami(srv_req *r, json_t **out, aipm_error *err)
{
    (void)err;
    *out = json_pack("{s:s, s:s, s:b}", "user", r->user, "role",
                     aipm_role_name(r->role), "server_signs",
                     srv_signs_for(r->opts, r->user));
    return AIPM_OK;
}

/* GET /api/v1/server: the server's figures - its threads, the jobs on
 * the analysis threads now, the cache's hits and misses. */
static int h_server(srv_req *r, json_t **out, aipm_error *err)
{
    srv_stats x;

    (void)r;
    (void)err;
    srv_stats_get(&x);
    *out = json_pack(
        "{s:s, s:f, s:i, s:{s:i, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I}}",
        "version", AIPM_VERSION, "uptime_seconds", x.uptime_seconds, "workers",
        x.workers, "analysis", "threads", x.analysis_threads, "queued",
        (json_int_t)x.jobs_queued, "running", (json_int_t)x.jobs_running,
        "done", (json_int_t)x.jobs_done, "cache", "entries",
        (json_int_t)x.cache_entries, "capacity", (json_int_t)x.cache_capacity,
        "hits", (json_int_t)x.cache_hits, "misses", (json_int_t)x.cache_misses);
    return *out ? AIPM_OK : aipm_error_set(err, AIPM_ENOMEM, "out of memory");
}

/* ---- KPIs ---- */

static int h_kpis(srv_req *r, json_t **out, aipm_error *err)
{
    static const char *const periods[] = {"day", "week", "month", NULL};
    aipm_kpi_opts o;
    int period = 1, rc;
    char *text = NULL;
    const char *from = srv_arg(r, "from"), *to = srv_arg(r, "to");

    aipm_kpi_opts_init(&o);
    if ((rc = arg_choice(r, "by", periods, &period, err)) != 0)
        return rc;
    o.period = period == 0   ? AIPM_KPI_DAY
               : period == 1 ? AIPM_KPI_WEEK
                             : AIPM_KPI_MONTH;
    if (from && aipm_time_parse(&o.from_ms, from, strlen(from), 1) != 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "argument from: expected a date (YYYY-MM-DD)");
    if (to && aipm_time_parse(&o.to_ms, to, strlen(to), 1) != 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "argument to: expected a date (YYYY-MM-DD)");
    o.kpi = srv_arg(r, "kpi");
    if ((rc = aipm_kpi_report(&text, r->st, r->cfg, &o, err)) != AIPM_OK)
        return rc;
    return from_text(text, out, err);
}

/* ---- the roadmap ---- */

/* prioritize's options from the query (GET) or the body (POST). */
static int roadmap_opts(srv_req *r, aipm_pz_opts *o, aipm_error *err)
{
    static const char *const keys[] = {"capacity_weeks", "risk_aversion",
                                       "draws",          "seed",
                                       "model_version",  NULL};
    double capacity, risk;
    int64_t draws, seed, version;
    json_t *body = NULL;
    int rc;

    aipm_pz_opts_init(o);
    if (r->post && r->body == NULL) {
        capacity = 0;
        risk = o->risk_aversion;
        draws = o->draws;
        seed = (int64_t)o->seed;
        version = 0;
    } else if (r->post) {
        /* The body's keys, as query arguments would give them. */
        json_t *v;

        if ((rc = srv_body_object(r, keys, &body, err)) != 0)
            return rc;
        capacity = json_number_value(json_object_get(body, "capacity_weeks"));
        risk = (v = json_object_get(body, "risk_aversion"))
                   ? json_number_value(v)
                   : o->risk_aversion;
        draws = (v = json_object_get(body, "draws")) ? json_integer_value(v)
                                                     : o->draws;
        seed = (v = json_object_get(body, "seed")) ? json_integer_value(v)
                                                   : (int64_t)o->seed;
        version = json_integer_value(json_object_get(body, "model_version"));
        json_decref(body);
        if (capacity < 0 || capacity > 520 || risk < 0 || risk > 1 ||
            draws < 100 || draws > 1000000 || seed < 0 || version < -1)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "capacity_weeks 0..520, risk_aversion 0..1, "
                                  "draws 100..1000000, seed >= 0, "
                                  "model_version >= -1");
    } else if ((rc = arg_double(r, "capacity_weeks", 0, 520, 0, &capacity,
                                err)) != 0 ||
               (rc = arg_double(r, "risk_aversion", 0, 1, o->risk_aversion,
                                &risk, err)) != 0 ||
               (rc = srv_arg_i64(r, "draws", 100, 1000000, o->draws, &draws,
                                 err)) != 0 ||
               (rc = srv_arg_i64(r, "seed", 0, INT64_MAX, (int64_t)o->seed,
                                 &seed, err)) != 0 ||
               (rc = srv_arg_i64(r, "model_version", -1, INT64_MAX, 0, &version,
                                 err)) != 0) {
        return rc;
    }
    o->capacity_weeks = capacity;
    o->risk_aversion = risk;
    o->draws = (int)draws;
    o->seed = (uint64_t)seed;
    o->model_version = version;
    o->now_ms = r->now_ms;
    o->record = 0; /* POST turns it on */
    return AIPM_OK;
}

static int h_roadmap(srv_req *r, json_t **out, aipm_error *err)
{
    aipm_pz_opts o;
    char *text = NULL;
    int rc;

    if ((rc = roadmap_opts(r, &o, err)) != 0)
        return rc;
    if (r->post) {
        o.record = 1;
        o.checkpoint = r->opts->checkpoint;
        r->status = 201;
    }
    if ((rc = aipm_prioritize(&text, r->st, r->cfg, &o, err)) != AIPM_OK)
        return rc;
    return from_text(text, out, err);
}

/* ---- forecasts ---- */

static int h_forecast(srv_req *r, json_t **out, aipm_error *err)
{
    static const char *const models[] = {"auto", "bass", "hazard", NULL};
    aipm_adoption_opts o = {30, AIPM_ADOPTION_AUTO, 50, 1, 0};
    aipm_adoption *a = NULL;
    int64_t horizon, draws, seed, version;
    int model = 0, rc;

    if ((rc = srv_arg_i64(r, "horizon", 1, 3650, 30, &horizon, err)) != 0 ||
        (rc = srv_arg_i64(r, "draws", 1, 100000, 50, &draws, err)) != 0 ||
        (rc = srv_arg_i64(r, "seed", 1, INT64_MAX, 1, &seed, err)) != 0 ||
        (rc = srv_arg_i64(r, "model_version", -1, INT64_MAX, 0, &version,
                          err)) != 0 ||
        (rc = arg_choice(r, "model", models, &model, err)) != 0)
        return rc;
    o.horizon = (int)horizon;
    o.draws = (int)draws;
    o.seed = (uint64_t)seed;
    o.model_version = version;
    o.model = model == 0   ? AIPM_ADOPTION_AUTO
              : model == 1 ? AIPM_ADOPTION_BASS
                           : AIPM_ADOPTION_HAZARD;
    if ((rc = aipm_adoption_open(&a, r->st, r->cfg, srv_arg(r, "by"), 0,
                                 r->opts->graph_snapshot, err)) != AIPM_OK)
        return rc;
    rc = aipm_adoption_run(out, a, r->param[0], &o, err);
    aipm_adoption_free(a);
    return rc;
}

/* ---- experiments ---- */

static int h_experiments(srv_req *r, json_t **out, aipm_error *err)
{
    json_t *list = json_array();
    int i, j;

    (void)err;
    for (i = 0; i < r->cfg->n_experiments; i++) {
        const aipm_experiment_def *e = &r->cfg->experiments[i];
        json_t *vars = json_array(), *metrics = json_array();
        char start[32] = "", end[32] = "";

        for (j = 0; j < e->n_variations; j++)
            json_array_append_new(vars, json_string(e->variations[j]));
        for (j = 0; j < e->n_metrics; j++)
            json_array_append_new(metrics, json_string(e->metrics[j]));
        if (e->start_ms)
            aipm_time_format(start, e->start_ms);
        if (e->end_ms)
            aipm_time_format(end, e->end_ms);
        json_array_append_new(
            list,
            json_pack("{s:s, s:o, s:o, s:s?, s:s?, s:b}", "key", e->key,
                      "variations", vars, "metrics", metrics, "start",
                      start[0] ? start : NULL, "end", end[0] ? end : NULL,
                      "running", e->end_ms == 0 || e->end_ms > r->now_ms));
    }
    *out = json_pack("{s:o}", "experiments", list);
    return AIPM_OK;
}

static int h_experiment(srv_req *r, json_t **out, aipm_error *err)
{
    static const char *const engines[] = {"frequentist", "bayesian",
                                          "sequential", NULL};
    aipm_analysis_opts o;
    char *text = NULL;
    int engine = 0, cuped = 0, bh = 0, rc;
    int64_t pre_days;
    double alpha;

    aipm_analysis_opts_init(&o);
    if ((rc = arg_choice(r, "engine", engines, &engine, err)) != 0 ||
        (rc = arg_flag(r, "cuped", &cuped, err)) != 0 ||
        (rc = arg_flag(r, "bh", &bh, err)) != 0 ||
        (rc = srv_arg_i64(r, "pre_days", 1, 365, o.pre_days, &pre_days, err)) !=
            0 ||
        (rc = arg_double(r, "alpha", 1e-6, 0.499999, o.alpha, &alpha, err)) !=
            0)
        return rc;
    o.engine = engine == 0   ? AIPM_ENGINE_FREQUENTIST
               : engine == 1 ? AIPM_ENGINE_BAYESIAN
                             : AIPM_ENGINE_SEQUENTIAL;
    o.cuped = cuped;
    o.benjamini_hochberg = bh;
    o.pre_days = (int)pre_days;
    o.alpha = alpha;
    o.by = srv_arg(r, "by");
    o.now_ms = r->now_ms;
    o.record = 0;
    if ((rc = aipm_experiment_analyze(&text, r->st, r->cfg, r->param[0], &o,
                                      err)) != AIPM_OK)
        return rc;
    return from_text(text, out, err);
}

/* ---- scenarios ---- */

/* POST /api/v1/simulations {"scenario": the scenario file's content (an
 * object, or YAML text), "draws", "seed"}: simulated and recorded. */
static int h_simulate(srv_req *r, json_t **out, aipm_error *err)
{
    static const char *const keys[] = {"scenario", "draws", "seed", "name",
                                       NULL};
    aipm_scenario_file *f = NULL;
    aipm_simulate_opts o;
    json_t *body = NULL, *sc, *v;
    char *text = NULL;
    const char *name;
    int rc;

    if ((rc = srv_body_object(r, keys, &body, err)) != 0)
        return rc;
    sc = json_object_get(body, "scenario");
    name = json_string_value(json_object_get(body, "name"));
    if (json_is_string(sc))
        text = strdup(json_string_value(sc));
    else if (json_is_object(sc))
        text = json_dumps(sc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    else {
        json_decref(body);
        return aipm_error_set(err, AIPM_EINVALID,
                              "\"scenario\" is the scenario file: an object "
                              "or its YAML text (docs/scenarios.md)");
    }
    aipm_simulate_opts_init(&o);
    if ((v = json_object_get(body, "draws")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 100 ||
            json_integer_value(v) > 10000000)
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "draws: an integer from 100 to 10000000");
        o.draws = (size_t)json_integer_value(v);
    }
    if ((v = json_object_get(body, "seed")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            rc = aipm_error_set(err, AIPM_EINVALID, "seed: an integer from 0");
        o.seed = (uint64_t)json_integer_value(v);
    }
    if (rc == AIPM_OK && text == NULL)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if (rc == AIPM_OK)
        rc = aipm_scenario_file_load_buffer(&f, text, strlen(text),
                                            name ? name : "scenario", err);
    if (rc == AIPM_OK) {
        o.threads = 1; /* the server's workers are the parallelism */
        o.now_ms = r->now_ms;
        o.record = 1;
        o.subject = name ? name : "scenario (HTTP API)";
        o.checkpoint = r->opts->checkpoint;
        rc = aipm_simulate(out, r->st, r->cfg, f, &o, err);
        r->status = 201;
    }
    aipm_scenario_file_free(f);
    free(text);
    json_decref(body);
    return rc;
}

/* ---- models and monitoring ---- */

static int h_models(srv_req *r, json_t **out, aipm_error *err)
{
    return aipm_model_list(r->st, out, err);
}

static int h_model(srv_req *r, json_t **out, aipm_error *err)
{
    return aipm_model_show(r->st, r->param[0], out, err);
}

static int h_monitoring(srv_req *r, json_t **out, aipm_error *err)
{
    int64_t limit;
    int rc;

    if ((rc = srv_arg_i64(r, "limit", 0, 100000, 20, &limit, err)) != 0)
        return rc;
    return aipm_monitor_history(r->st, limit, out, err);
}

/* ---- decisions ---- */

/* POST /api/v1/decisions/ID/ACTION {"reason", "value"}: approve, reject
 * or override, signed with the user's key when the server was told to
 * sign for them (--sign-for); otherwise a 409 naming the command that
 * signs it on the approver's own machine. */
static int h_act(srv_req *r, json_t **out, aipm_error *err)
{
    static const char *const keys[] = {"reason", "value", NULL};
    const char *id = r->param[0], *action = r->param[1], *reason;
    aipm_act_result res;
    json_t *body = NULL;
    int rc;

    if (strcmp(action, "approve") != 0 && strcmp(action, "reject") != 0 &&
        strcmp(action, "override") != 0)
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "no such act \"%.32s\": approve, reject or "
                              "override",
                              action);
    if ((rc = srv_body_object(r, keys, &body, err)) != 0)
        return rc;
    reason = json_string_value(json_object_get(body, "reason"));
    if (reason == NULL || reason[0] == '\0' ||
        (strcmp(action, "override") == 0) !=
            (json_object_get(body, "value") != NULL)) {
        json_decref(body);
        return aipm_error_set(err, AIPM_EINVALID,
                              strcmp(action, "override") == 0
                                  ? "an override needs \"reason\" and "
                                    "\"value\" (the replacement)"
                                  : "it needs a \"reason\" (and no \"value\")");
    }
    if (!srv_signs_for(r->opts, r->user)) {
        char cmd[1024];

        snprintf(cmd, sizeof(cmd),
                 "aipm decisions %s %s --as %s --reason '...'%s", action, id,
                 r->user,
                 strcmp(action, "override") == 0 ? " --value 'JSON'" : "");
        *out = json_pack("{s:{s:s, s:s, s:s}}", "error", "code",
                         "sign_with_cli", "message",
                         "this server does not hold your signing key (aipm "
                         "serve --sign-for USER): sign it on your machine",
                         "command", cmd);
        json_decref(body);
        r->status = 409;
        return AIPM_OK;
    }
    {
        aipm_act a = {
            id,    action, r->user, reason, json_object_get(body, "value"),
            r->cfg};

        rc = aipm_decision_act(r->st, &a, r->now_ms, r->opts->checkpoint, &res,
                               err);
    }
    json_decref(body);
    if (rc != AIPM_OK)
        return rc;
    *out = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "id", id, "action",
                     action, "status", res.status, "rule", res.rule,
                     "approvals", res.approvals, "needed", res.needed);
    r->status = 201;
    return AIPM_OK;
}

/* ---- data: quality, quarantine, batches, lineage ---- */

static int h_quality(srv_req *r, json_t **out, aipm_error *err)
{
    return view_quality(r->st, srv_arg(r, "dataset"), out, err);
}

static int h_quarantine(srv_req *r, json_t **out, aipm_error *err)
{
    int64_t batch, limit;
    int rc;

    if ((rc = srv_arg_i64(r, "batch", 1, INT64_MAX, 0, &batch, err)) != 0 ||
        (rc = srv_arg_i64(r, "limit", 0, 100000, 50, &limit, err)) != 0)
        return rc;
    return view_quarantine(r->st, srv_arg(r, "reason"), batch, limit, out, err);
}

static int h_batches(srv_req *r, json_t **out, aipm_error *err)
{
    const char *dataset = srv_arg(r, "dataset");
    int rc;

    if (dataset && (rc = view_check_dataset(dataset, err)) != 0)
        return rc;
    return view_batches(r->st, dataset, out, err);
}

static int h_batch(srv_req *r, json_t **out, aipm_error *err)
{
    char *end;
    long long id = strtoll(r->param[0], &end, 10);

    if (*end != '\0' || id < 1)
        return aipm_error_set(err, AIPM_ENOTFOUND, "no batch %.40s",
                              r->param[0]);
    return view_batch(r->st, id, out, err);
}

static int h_lineage(srv_req *r, json_t **out, aipm_error *err)
{
    return view_lineage_runs(r->st, out, err);
}

/* ---- feedback ---- */

/* aipm feedback links: item, review, summary and threshold as its
 * options (threshold in (0, 1], as --threshold). */
static int h_feedback(srv_req *r, json_t **out, aipm_error *err)
{
    const char *threshold_arg = srv_arg(r, "threshold");
    int review = 0, summary = 0, rc;
    double threshold = 0;

    if ((rc = arg_flag(r, "review", &review, err)) != 0 ||
        (rc = arg_flag(r, "summary", &summary, err)) != 0)
        return rc;
    if (threshold_arg) {
        char *end;

        errno = 0;
        threshold = strtod(threshold_arg, &end);
        if (*threshold_arg == '\0' || *end != '\0' || errno ||
            !(threshold > 0 && threshold <= 1))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "argument threshold: expected a number in "
                                  "(0, 1]");
    }
    return view_feedback_links(r->st, srv_arg(r, "item"), review, threshold,
                               summary, NULL, NULL, out, err);
}

/* ---- governance: decisions, audit, people, policies ---- */

static int h_decisions(srv_req *r, json_t **out, aipm_error *err)
{
    return view_decisions(r->st, srv_arg(r, "kind"), srv_arg(r, "status"), out,
                          err);
}

static int h_decision(srv_req *r, json_t **out, aipm_error *err)
{
    char id[37];
    int rc;

    if ((rc = view_decision_id(r->st, r->param[0], id, err)) != 0)
        return rc;
    return view_decision(r->st, id, out, err);
}

static int h_audit(srv_req *r, json_t **out, aipm_error *err)
{
    return view_audit_entries(r->st, out, err);
}

/* The workspace's log against its own checkpoint (no other file: no path
 * comes from a request), every decision and batch too with data=true. */
static int h_verify(srv_req *r, json_t **out, aipm_error *err)
{
    int data = 0, rc;

    if ((rc = arg_flag(r, "data", &data, err)) != 0)
        return rc;
    return view_audit_verify(r->st, r->opts->checkpoint, NULL, NULL, data, out,
                             NULL, err);
}

static int h_users(srv_req *r, json_t **out, aipm_error *err)
{
    return view_users(r->st, out, err);
}

static int h_policies(srv_req *r, json_t **out, aipm_error *err)
{
    return view_policy_versions(r->st, out, err);
}

static int h_tokens(srv_req *r, json_t **out, aipm_error *err)
{
    return view_tokens(r->st, srv_arg(r, "user"), out, err);
}

/* ---- the table ---- */

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NOARGS NULL

const srv_route srv_routes[] = {
    {"GET", "/api/v1", AIPM_ROLE_VIEWER, NOARGS, 1, h_index, "these routes", 0},
    {"GET", "/api/v1/whoami", AIPM_ROLE_VIEWER, NOARGS, 0, h_whoami,
     "the token's user and role", 1},
    {"GET", "/api/v1/server", AIPM_ROLE_VIEWER, NOARGS, 0, h_server,
     "the server's threads, the analyses running and queued, the cache", 1},
    {"GET", "/api/v1/kpis", AIPM_ROLE_VIEWER, ARGS("by", "from", "to", "kpi"),
     1, h_kpis, "KPIs per period against their targets (aipm kpi)", 0},
    {"GET", "/api/v1/roadmap", AIPM_ROLE_VIEWER,
     ARGS("capacity_weeks", "risk_aversion", "draws", "seed", "model_version"),
     1, h_roadmap,
     "the ranked backlog with intervals and contributions (aipm "
     "prioritize --no-record)",
     0},
    {"POST", "/api/v1/roadmap", AIPM_ROLE_ANALYST, NOARGS, 0, h_roadmap,
     "rank and record a decision (aipm prioritize)", 0},
    {"GET", "/api/v1/forecasts/*", AIPM_ROLE_VIEWER,
     ARGS("horizon", "draws", "seed", "model", "model_version", "by"), 1,
     h_forecast,
     "a feature's adoption forecast with its bands (aipm forecast adoption "
     "--no-record)",
     0},
    {"GET", "/api/v1/experiments", AIPM_ROLE_VIEWER, NOARGS, 1, h_experiments,
     "the experiments of aipm.yaml", 0},
    {"GET", "/api/v1/experiments/*", AIPM_ROLE_VIEWER,
     ARGS("engine", "cuped", "bh", "pre_days", "alpha", "by"), 1, h_experiment,
     "an experiment's analysis (aipm experiment analyze --no-record)", 0},
    {"POST", "/api/v1/simulations", AIPM_ROLE_ANALYST, NOARGS, 0, h_simulate,
     "simulate a scenario file's scenarios and record it (aipm simulate)", 0},
    {"GET", "/api/v1/models", AIPM_ROLE_VIEWER, NOARGS, 1, h_models,
     "the model registry (aipm model list)", 0},
    {"GET", "/api/v1/models/*", AIPM_ROLE_VIEWER, NOARGS, 1, h_model,
     "a model card (aipm model show REF)", 0},
    {"GET", "/api/v1/monitoring", AIPM_ROLE_VIEWER, ARGS("limit"), 1,
     h_monitoring, "the monitoring runs (aipm monitor --history)", 0},
    {"GET", "/api/v1/quality", AIPM_ROLE_VIEWER, ARGS("dataset"), 1, h_quality,
     "each dataset's latest quality report (aipm quality)", 0},
    {"GET", "/api/v1/quarantine", AIPM_ROLE_VIEWER,
     ARGS("reason", "batch", "limit"), 1, h_quarantine,
     "rows that broke the contract, newest first (aipm quarantine)", 0},
    {"GET", "/api/v1/batches", AIPM_ROLE_VIEWER, ARGS("dataset"), 1, h_batches,
     "the dataset versions (aipm data versions)", 0},
    {"GET", "/api/v1/batches/*", AIPM_ROLE_VIEWER, NOARGS, 1, h_batch,
     "one batch with its report (aipm data show N)", 0},
    {"GET", "/api/v1/lineage", AIPM_ROLE_VIEWER, NOARGS, 1, h_lineage,
     "runs with their inputs and outputs (aipm lineage)", 0},
    {"GET", "/api/v1/feedback", AIPM_ROLE_VIEWER,
     ARGS("item", "review", "threshold", "summary"), 1, h_feedback,
     "feedback rows with the backlog items they are about and why (aipm "
     "feedback links)",
     0},
    {"GET", "/api/v1/decisions", AIPM_ROLE_VIEWER, ARGS("kind", "status"), 1,
     h_decisions, "the decision records (aipm decisions list)", 0},
    {"GET", "/api/v1/decisions/*", AIPM_ROLE_VIEWER, NOARGS, 1, h_decision,
     "one record with its provenance and acts (aipm decisions show)", 0},
    {"POST", "/api/v1/decisions/*/*", AIPM_ROLE_APPROVER, NOARGS, 0, h_act,
     "approve, reject or override a decision record", 0},
    {"GET", "/api/v1/audit", AIPM_ROLE_VIEWER, NOARGS, 1, h_audit,
     "the audit log (aipm audit log)", 0},
    {"GET", "/api/v1/audit/verify", AIPM_ROLE_VIEWER, ARGS("data"), 0, h_verify,
     "verify the log, its checkpoint and signatures (aipm audit "
     "verify [--data])",
     0},
    {"GET", "/api/v1/users", AIPM_ROLE_VIEWER, NOARGS, 1, h_users,
     "people and their roles (aipm users list)", 0},
    {"GET", "/api/v1/policies", AIPM_ROLE_VIEWER, NOARGS, 1, h_policies,
     "the policy versions (aipm policy log)", 0},
    {"GET", "/api/v1/tokens", AIPM_ROLE_ADMIN, ARGS("user"), 1, h_tokens,
     "the API tokens, never their secrets (aipm tokens list)", 0},
    {NULL, NULL, 0, NULL, 0, NULL, NULL, 0},
};
