/* cmd_monitor.c - `aipm monitor [--history]`: the production models
 * against the data now, the data's health, the circuit breaker
 * (monitor.h). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf(
        "usage: aipm monitor [--no-breaker] [--no-record]\n"
        "       aipm monitor --history [--limit N]\n"
        "\n"
        "Compares the data now with each production model's training\n"
        "reference: every feature and the model's score by the drift test\n"
        "Evidently uses by default (or the one policies.monitor.features\n"
        "names), with PSI and its 0.1 / 0.25 bands; dataset drift when\n"
        "half the features (policies.monitor.dataset_drift_share) drift.\n"
        "Then how the version did on the rows labelled since its cutoff\n"
        "(adoption: calibration by decile and its expected calibration\n"
        "error; value: MAE and Spearman), each adoption forecast against\n"
        "the adopters seen since (MAPE, 80%% interval coverage), and the\n"
        "data's health: freshness per dataset, the newest day's event\n"
        "volume against the trailing mean, the quarantine share trend.\n"
        "\n"
        "Every check is ok, warn or alert. Exit 0 when nothing alerts, 4\n"
        "on an alert. A model whose policies.models.promote rule says\n"
        "on_alert: rollback has production rolled back to its previous\n"
        "version when one of its alerts fires (the circuit breaker), and\n"
        "the decisions made with the bad version become stale, to be\n"
        "looked at again; audited with the report's digest.\n"
        "--no-breaker reports without acting; --no-record stores nothing.\n"
        "\n"
        "  --history  the runs stored, newest first (--limit N, default\n"
        "             20, 0 all)\n"
        "\n"
        "--json: {\"time\", \"status\", \"checks\": [{\"check\", \"model\",\n"
        "\"version\", \"dataset\", \"feature\", \"test\", \"statistic\",\n"
        "\"threshold\", \"status\", \"detail\"}], \"models\", \"actions\",\n"
        "\"seq\"}; --history: {\"runs\": [{\"seq\", \"time\", \"status\",\n"
        "\"alerts\", \"warnings\", \"checks\", \"actions\"}]}.\n");
}

static int read_value(void *ctx, aipm_model_reading *out, aipm_store *st,
                      const aipm_config *cfg, const json_t *artifact,
                      int64_t now_ms, aipm_error *err)
{
    (void)ctx;
    return aipm_pz_model_reading(out, st, cfg, artifact, now_ms, err);
}

static int read_adoption(void *ctx, aipm_model_reading *out, aipm_store *st,
                         const aipm_config *cfg, const json_t *artifact,
                         int64_t now_ms, aipm_error *err)
{
    return aipm_adoption_model_reading(out, st, cfg, artifact,
                                       (const char *)ctx, now_ms, err);
}

static void print_report(const json_t *rep)
{
    const json_t *c;
    size_t i;

    printf("monitor %s: %s\n", json_string_value(json_object_get(rep, "time")),
           json_string_value(json_object_get(rep, "status")));
    json_array_foreach(json_object_get(rep, "checks"), i, c)
    {
        const char *model = json_string_value(json_object_get(c, "model"));
        char who[80] = "";

        if (model && json_integer_value(json_object_get(c, "version")) > 0)
            snprintf(
                who, sizeof(who), "%s@%lld ", model,
                (long long)json_integer_value(json_object_get(c, "version")));
        else if (model)
            snprintf(who, sizeof(who), "%s ", model);
        printf("  %-5s %-13s %s%s\n",
               json_string_value(json_object_get(c, "status")),
               json_string_value(json_object_get(c, "check")), who,
               cli_text(json_string_value(json_object_get(c, "detail"))));
    }
    json_array_foreach(json_object_get(rep, "actions"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "action")),
                   "rollback") == 0)
            printf("circuit breaker: %s production rolled back from @%lld to "
                   "@%lld; %zu decision(s) made with @%lld marked stale\n",
                   json_string_value(json_object_get(c, "model")),
                   (long long)json_integer_value(json_object_get(c, "from")),
                   (long long)json_integer_value(json_object_get(c, "to")),
                   json_array_size(json_object_get(c, "stale_decisions")),
                   (long long)json_integer_value(json_object_get(c, "from")));
        else
            printf("circuit breaker: %s could not roll back: %s\n",
                   json_string_value(json_object_get(c, "model")),
                   cli_text(json_string_value(json_object_get(c, "detail"))));
    }
}

static int history(int64_t limit)
{
    aipm_error err = {0, ""};
    json_t *doc = NULL, *r;
    workspace ws;
    size_t i;
    int rc;

    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    rc = aipm_monitor_history(ws.store, limit, &doc, &err);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (g_cli.json)
        cli_print_json(doc);
    else if (json_array_size(json_object_get(doc, "runs")) == 0)
        printf("no monitoring run stored yet: aipm monitor\n");
    else
        json_array_foreach(json_object_get(doc, "runs"), i, r) printf(
            "%6lld  %s  %-5s  %lld alert(s), %lld warning(s)%s\n",
            (long long)json_integer_value(json_object_get(r, "seq")),
            json_string_value(json_object_get(r, "time")),
            json_string_value(json_object_get(r, "status")),
            (long long)json_integer_value(json_object_get(r, "alerts")),
            (long long)json_integer_value(json_object_get(r, "warnings")),
            json_array_size(json_object_get(r, "actions"))
                ? "; the circuit breaker acted"
                : "");
    json_decref(doc);
    return EXIT_OK;
}

int cmd_monitor(int argc, char **argv)
{
    aipm_error err = {0, ""};
    aipm_monitor_opts o;
    aipm_model_reader readers[3];
    json_t *rep = NULL;
    workspace ws;
    int64_t limit = 20;
    int i, rc, status = 0, hist = 0, limit_set = 0;

    if (g_cli.help) {
        help();
        return EXIT_OK;
    }
    memset(&o, 0, sizeof(o));
    o.record = 1;
    o.breaker = 1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--history") == 0)
            hist = 1;
        else if (strcmp(a, "--no-breaker") == 0)
            o.breaker = 0;
        else if (strcmp(a, "--no-record") == 0)
            o.record = 0;
        else if (strcmp(a, "--limit") == 0 && i + 1 < argc) {
            limit_set = 1;
            if (strcmp(argv[i + 1], "0") == 0) {
                limit = 0;
                i++;
            } else if (cli_parse_i64(argv[++i], &limit) != 0)
                return cli_usage_error("--limit needs a number");
        } else
            return cli_bad_option("monitor", a, i + 1 == argc,
                                  (const char *const[]){"--limit", NULL},
                                  (const char *const[]){"--history",
                                                        "--no-breaker",
                                                        "--no-record", NULL});
    }
    if (limit_set && !hist)
        return cli_usage_error("--limit goes with --history");
    if (hist)
        return history(limit);
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    readers[0] = (aipm_model_reader){"value", read_value, NULL};
    readers[1] =
        (aipm_model_reader){"adoption", read_adoption, ws.graph_snapshot};
    readers[2] = (aipm_model_reader){NULL, NULL, NULL};
    o.now_ms = aipm_now_ms();
    o.checkpoint = ws.checkpoint;
    o.readers = readers;
    rc = aipm_monitor_run(ws.store, ws.config, &o, &rep, &status, &err);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (g_cli.json)
        cli_print_json(rep);
    else
        print_report(rep);
    json_decref(rep);
    return status == AIPM_MONITOR_ALERT ? EXIT_ALERT : EXIT_OK;
}
