/* cmd_policy.c - `aipm policy check|set|log`: the policies of aipm.yaml,
 * what they hold now, and their versions over time. */
#include "views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf(
        "usage: aipm policy check\n"
        "       aipm policy set --reason TEXT\n"
        "       aipm policy log\n"
        "\n"
        "Policies live in aipm.yaml under policies: (docs/config.md):\n"
        "data (the ingest gates), decisions (how many approvals, from\n"
        "which role, which records count without review), pii (names\n"
        "that may not be model features) and fairness (a metric's lift\n"
        "gap between segments above which a record waits for people).\n"
        "\n"
        "  check  every rule, whether it is satisfied now, and what it\n"
        "         holds: staged batches, records awaiting approvals. Exit\n"
        "         3 when a rule is not satisfied, naming it\n"
        "  set    record the policies of aipm.yaml as the version in\n"
        "         force, with why (an audit entry \"policy\"). An edit\n"
        "         not recorded this way is found and recorded by the\n"
        "         next command that writes\n"
        "  log    the versions recorded, newest first\n"
        "\n"
        "--json: check gives {\"policy_sha256\", \"recorded\", \"versions\",\n"
        "\"rules\": [{\"rule\", \"satisfied\", \"holds\" or "
        "\"violations\"}]};\n"
        "log gives {\"versions\": [{\"seq\", \"time\", \"policy_sha256\",\n"
        "\"actor\", \"reason\"}]}.\n");
}

static void print_check(const json_t *doc)
{
    json_t *rules = json_object_get(doc, "rules"), *r, *h;
    size_t i, j;

    printf("policy version %.12s (%s)\n",
           json_string_value(json_object_get(doc, "policy_sha256")),
           json_is_true(json_object_get(doc, "recorded"))
               ? "recorded"
               : "changed since the last version recorded; the next "
                 "command that writes records it");
    json_array_foreach(rules, i, r)
    {
        const char *name = json_string_value(json_object_get(r, "rule"));
        json_t *holds = json_object_get(r, "holds");
        json_t *bad = json_object_get(r, "violations");

        printf("  %-24s %s", name,
               json_is_true(json_object_get(r, "satisfied")) ? "satisfied"
                                                             : "NOT "
                                                               "satisfied");
        if (strncmp(name, "decisions", 9) == 0)
            printf(
                " (%lld approval%s, %s%s)",
                (long long)json_integer_value(json_object_get(r, "approvals")),
                json_integer_value(json_object_get(r, "approvals")) == 1 ? ""
                                                                         : "s",
                json_string_value(json_object_get(r, "role")),
                json_is_number(json_object_get(r, "auto_approve_confidence"))
                    ? ", automatic at the confidence set"
                    : "");
        if (json_array_size(holds))
            printf("; holds %zu", json_array_size(holds));
        printf("\n");
        json_array_foreach(holds, j, h)
        {
            if (json_object_get(h, "backtest_wape"))
                printf(
                    "      forecast %s (%s): its model's backtest WAPE is "
                    "above the bound (or unknown): it waits for people\n",
                    json_string_value(json_object_get(h, "decision")),
                    cli_text(json_string_value(json_object_get(h, "subject"))));
            else if (json_object_get(h, "gap"))
                printf(
                    "      experiment %s (%s): a lift gap of %.3g between "
                    "segments, above %.3g: it waits for people\n",
                    json_string_value(json_object_get(h, "decision")),
                    cli_text(json_string_value(json_object_get(h, "subject"))),
                    json_number_value(json_object_get(h, "gap")),
                    json_number_value(json_object_get(r, "max_gap")));
            else if (json_object_get(h, "batch"))
                printf(
                    "      batch %lld (%s, %s): staged until accepted or "
                    "rejected\n",
                    (long long)json_integer_value(json_object_get(h, "batch")),
                    json_string_value(json_object_get(h, "dataset")),
                    json_string_value(json_object_get(h, "verdict")));
            else
                printf(
                    "      %s %s (%s): %lld of %lld approvals\n",
                    json_string_value(json_object_get(h, "kind")),
                    json_string_value(json_object_get(h, "decision")),
                    cli_text(json_string_value(json_object_get(h, "subject"))),
                    (long long)json_integer_value(
                        json_object_get(h, "approvals")),
                    (long long)json_integer_value(
                        json_object_get(h, "approvals_needed")));
        }
        json_array_foreach(bad, j, h)
        {
            printf("      the %s model's features read %s, marked PII\n",
                   json_string_value(json_object_get(h, "model")),
                   json_string_value(json_object_get(h, "column")));
        }
    }
}

static int check(int argc, char **argv)
{
    aipm_error err = {0, ""};
    json_t *doc = NULL, *r;
    workspace ws;
    int rc, violated = 0;
    size_t i;

    if (argc > 2)
        return cli_bad_option("policy check", argv[2], argc == 3, NULL, NULL);
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    rc = aipm_policy_check(ws.store, ws.config, &doc, &violated, &err);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (g_cli.json)
        cli_print_json(doc);
    else
        print_check(doc);
    json_array_foreach(json_object_get(doc, "rules"), i, r)
    {
        json_t *bad = json_array_get(json_object_get(r, "violations"), 0);

        if (bad) {
            fprintf(stderr,
                    "aipm: policy %s: the %s model's features read %s, "
                    "which policies.pii marks as personal data\n",
                    json_string_value(json_object_get(r, "rule")),
                    json_string_value(json_object_get(bad, "model")),
                    json_string_value(json_object_get(bad, "column")));
            break;
        }
    }
    json_decref(doc);
    return violated ? EXIT_BLOCKED : EXIT_OK;
}

static int set(int argc, char **argv)
{
    static const char *const value_opts[] = {"--reason", NULL};
    const char *reason = NULL;
    aipm_error err = {0, ""};
    workspace ws;
    int i, rc, recorded = 0;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
            reason = argv[++i];
        else
            return cli_bad_option("policy set", argv[i], i + 1 == argc,
                                  value_opts, NULL);
    }
    if (reason == NULL || *reason == '\0')
        return cli_usage_error("usage: aipm policy set --reason TEXT (why "
                               "the policies of aipm.yaml changed)");
    g_cli.no_policy_detect = 1;
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    rc = aipm_policy_record(ws.store, ws.config, reason, aipm_now_ms(),
                            ws.checkpoint, &recorded, &err);
    if (rc == AIPM_OK) {
        if (g_cli.json) {
            json_t *doc = json_pack("{s:s, s:s}", "policy_sha256",
                                    ws.policy_sha256, "reason", reason);

            cli_print_json(doc);
            json_decref(doc);
        } else
            printf("policy version %.12s recorded: %s\n", ws.policy_sha256,
                   cli_text(reason));
    }
    ws_close(&ws);
    return rc == AIPM_OK ? EXIT_OK : cli_fail(&err);
}

static int log_one(void *ctx, const aipm_policy_row *r)
{
    char when[32];

    (void)ctx;
    aipm_time_format(when, r->time_ms);
    printf("%6lld  %s  %.12s  %-10s %s\n", (long long)r->seq, when,
           r->policy_sha256, cli_text(r->actor), cli_text(r->reason));
    return 0;
}

static int plog(int argc, char **argv)
{
    aipm_error err = {0, ""};
    json_t *doc = NULL;
    workspace ws;
    int rc;

    if (argc > 2)
        return cli_bad_option("policy log", argv[2], argc == 3, NULL, NULL);
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    if (g_cli.json)
        rc = view_policy_versions(ws.store, &doc, &err);
    else
        rc = aipm_store_policy_list(ws.store, 0, log_one, NULL, &err);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (doc) {
        cli_print_json(doc);
        json_decref(doc);
    }
    return EXIT_OK;
}

int cmd_policy(int argc, char **argv)
{
    if (g_cli.help || argc < 2) {
        help();
        return argc < 2 && !g_cli.help ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "check") == 0)
        return check(argc, argv);
    if (strcmp(argv[1], "set") == 0)
        return set(argc, argv);
    if (strcmp(argv[1], "log") == 0)
        return plog(argc, argv);
    return cli_bad_subcommand(
        "policy", argv[1], (const char *const[]){"check", "set", "log", NULL});
}
