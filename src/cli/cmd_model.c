/* cmd_model.c - `aipm model train|list|show|promote|rollback`: the model
 * registry (models.h). */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf(
        "usage: aipm model train NAME [--cutoff DATE] [--by TRAIT]\n"
        "                       [--horizon DAYS] [--seed N]\n"
        "       aipm model list\n"
        "       aipm model show NAME[@VERSION|@ALIAS]\n"
        "       aipm model promote NAME VERSION [--to ALIAS] [--reason TEXT]\n"
        "       aipm model rollback NAME [--to VERSION] [--reason TEXT]\n"
        "\n"
        "The models: value (the prioritization value model: what a backlog\n"
        "item will deliver) and adoption (the forecasting hazard model: who\n"
        "adopts a feature, and when).\n"
        "\n"
        "  train     fit the model on the accepted batches before the cutoff\n"
        "            and evaluate it on what happened from the cutoff on\n"
        "            (never a random split across time); store the result\n"
        "            as the model's next version, with its parameters\n"
        "            (content-hashed), the batches it read, its features,\n"
        "            hyperparameters, seed, code version and holdout\n"
        "            metrics overall and per segment (value: MAE, RMSE,\n"
        "            Spearman, per backlog area; adoption: AUC, log loss,\n"
        "            Brier score, calibration error, per --by segment).\n"
        "            --cutoff: value: the ship day leaving the last quarter\n"
        "            of shipped items out; adoption: --horizon (28) days\n"
        "            before the data's end\n"
        "  list      every model, its versions, their metrics and aliases\n"
        "  show      a version's model card: what it predicts, its data,\n"
        "            metrics overall and per segment, known limits, and the\n"
        "            log of its aliases (NAME alone: the newest version)\n"
        "  promote   point production (or --to ALIAS) at VERSION. To\n"
        "            production only when policy allows: the metric floors\n"
        "            and ceilings, segment gap and segment calibration of\n"
        "            policies.models.promote, no feature reading a column\n"
        "            policies.pii marks, and the approvals policies.decisions\n"
        "            asks of kind model: the first promote makes a decision\n"
        "            record to approve (aipm decisions approve ID), the next\n"
        "            one moves production. Exit 3 naming the rule otherwise\n"
        "  rollback  move production back to where it pointed before (or\n"
        "            to VERSION, an earlier production version), in one\n"
        "            step, without approvals (it is the brake)\n"
        "\n"
        "Every version and every alias move is an audit entry (who, when,\n"
        "from, to, why). Analyses use the production version of a model\n"
        "when one is set (prioritize: value) and record which.\n"
        "\n"
        "--json: train gives {\"name\", \"version\", \"metrics\", ...}; list\n"
        "{\"models\": [...]}; show the card; promote {\"moved\", \"from\",\n"
        "\"to\", \"checks\": [{\"rule\", \"status\", \"detail\"}], "
        "\"decision\"};\n"
        "rollback {\"from\", \"to\"}.\n");
}

static void num(const char *label, json_t *v)
{
    if (json_is_number(v))
        printf("  %-18s %.4g\n", label, json_number_value(v));
    else
        printf("  %-18s -\n", label);
}

static void print_metrics(json_t *m)
{
    const char *k;
    json_t *v;

    json_object_foreach(m, k, v)
    {
        if (json_is_number(v))
            num(k, v);
    }
}

static int train(int argc, char **argv)
{
    const char *name = NULL, *by = NULL;
    int64_t cutoff = 0, horizon = 0, seed = 1, version = 0;
    aipm_error err = {0, ""};
    aipm_model_fit fit;
    workspace ws;
    json_t *card = NULL;
    int i, rc;

    for (i = 2; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--cutoff") == 0 && i + 1 < argc) {
            const char *s = argv[++i];

            if (aipm_time_parse(&cutoff, s, strlen(s), 1) != AIPM_OK)
                return cli_usage_error("--cutoff needs a date (YYYY-MM-DD)");
        } else if (strcmp(a, "--by") == 0 && i + 1 < argc)
            by = argv[++i];
        else if (strcmp(a, "--horizon") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &horizon) != 0 || horizon < 1 ||
                horizon > 365)
                return cli_usage_error("--horizon needs days in [1, 365]");
        } else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &seed) != 0)
                return cli_usage_error("--seed needs a positive integer");
        } else if (a[0] != '-' && name == NULL)
            name = a;
        else
            return cli_bad_option("model train", a, i + 1 == argc,
                                  (const char *const[]){"--cutoff", "--by",
                                                        "--horizon", "--seed",
                                                        NULL},
                                  NULL);
    }
    if (name == NULL)
        return cli_usage_error("model train needs a model: value or adoption");
    if (aipm_model_check_name(name, &err) != AIPM_OK)
        return cli_fail(&err);
    if (strcmp(name, "value") == 0 && (by || horizon))
        return cli_usage_error("--by and --horizon are the adoption model's; "
                               "the value model's segments are backlog "
                               "areas");
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    memset(&fit, 0, sizeof(fit));
    if (strcmp(name, "value") == 0)
        rc = aipm_pz_model_train(&fit, ws.store, ws.config, cutoff,
                                 aipm_now_ms(), (uint64_t)seed, &err);
    else
        rc = aipm_adoption_model_train(&fit, ws.store, ws.config, by, cutoff,
                                       (int)horizon, ws.graph_snapshot, &err);
    if (rc == AIPM_OK)
        rc = aipm_model_register(ws.store, name, &fit, (uint64_t)seed,
                                 aipm_now_ms(), ws.checkpoint, &version, &err);
    if (rc == AIPM_OK) {
        char ref[96];

        snprintf(ref, sizeof(ref), "%s@%lld", name, (long long)version);
        rc = aipm_model_show(ws.store, ref, &card, &err);
    }
    aipm_model_fit_free(&fit);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (g_cli.json)
        cli_print_json(card);
    else {
        json_t *d = json_object_get(card, "data");

        printf("trained %s@%lld: fitted before %s, evaluated on %lld holdout "
               "rows\n",
               name, (long long)version,
               json_string_value(json_object_get(d, "cutoff")),
               (long long)json_integer_value(
                   json_object_get(json_object_get(card, "metrics"), "n")));
        print_metrics(json_object_get(card, "metrics"));
        printf("aipm model show %s@%lld gives its card; aipm model promote "
               "%s %lld puts it in production\n",
               name, (long long)version, name, (long long)version);
    }
    json_decref(card);
    return EXIT_OK;
}

static int list(int argc, char **argv)
{
    aipm_error err = {0, ""};
    json_t *doc = NULL, *m, *v;
    workspace ws;
    size_t i, j;
    int rc;

    if (argc > 2)
        return cli_bad_option("model list", argv[2], argc == 3, NULL, NULL);
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    rc = aipm_model_list(ws.store, &doc, &err);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (g_cli.json) {
        cli_print_json(doc);
        json_decref(doc);
        return EXIT_OK;
    }
    if (json_array_size(json_object_get(doc, "models")) == 0)
        printf("no model trained yet: aipm model train value (or "
               "adoption)\n");
    json_array_foreach(json_object_get(doc, "models"), i, m)
    {
        printf("%s\n", json_string_value(json_object_get(m, "name")));
        json_array_foreach(json_object_get(m, "versions"), j, v)
        {
            json_t *mt = json_object_get(v, "metrics"), *al;
            const char *k;
            json_t *x;
            size_t a;
            int shown = 0;

            printf(
                "  @%-4lld %s  by %-10s cutoff %-10s ",
                (long long)json_integer_value(json_object_get(v, "version")),
                json_string_value(json_object_get(v, "trained")),
                cli_text(json_string_value(json_object_get(v, "trained_by"))),
                json_is_string(json_object_get(v, "cutoff"))
                    ? json_string_value(json_object_get(v, "cutoff"))
                    : "-");
            json_object_foreach(mt, k, x)
            {
                if (!json_is_real(x) || shown >= 4)
                    continue;
                printf(" %s %.3g", k, json_real_value(x));
                shown++;
            }
            json_array_foreach(json_object_get(v, "aliases"), a, al)
                printf("%s%s", a ? ", " : "  <- ", json_string_value(al));
            printf("\n");
        }
    }
    json_decref(doc);
    return EXIT_OK;
}

static void print_card(json_t *c)
{
    json_t *d = json_object_get(c, "data"), *x, *s;
    const char *k;
    size_t i;

    printf("%s@%lld", json_string_value(json_object_get(c, "name")),
           (long long)json_integer_value(json_object_get(c, "version")));
    json_array_foreach(json_object_get(c, "aliases"), i, x)
        printf("%s%s", i ? ", " : " (", json_string_value(x));
    printf("%s\n", json_array_size(json_object_get(c, "aliases")) ? ")" : "");
    if (json_is_string(json_object_get(c, "predicts")))
        printf("predicts: %s\n",
               cli_text(json_string_value(json_object_get(c, "predicts"))));
    printf("trained %s by %s, code %s, seed %lld\n",
           json_string_value(json_object_get(c, "trained")),
           cli_text(json_string_value(json_object_get(c, "trained_by"))),
           json_string_value(json_object_get(c, "code_version")),
           (long long)json_integer_value(json_object_get(c, "seed")));
    printf("parameters sha256 %.16s (%s)\n",
           json_string_value(json_object_get(c, "artifact_sha256")),
           json_string_value(json_object_get(c, "artifact_check")));
    printf("data: fitted before %s;",
           json_is_string(json_object_get(d, "cutoff"))
               ? json_string_value(json_object_get(d, "cutoff"))
               : "-");
    json_object_foreach(d, k, x)
    {
        if (json_is_integer(x))
            printf(" %s %lld", k, (long long)json_integer_value(x));
    }
    printf("\nbatches:");
    json_object_foreach(json_object_get(c, "batches"), k, x)
    {
        printf(" %s %zu", k, json_array_size(x));
    }
    printf("\nfeatures:\n");
    json_array_foreach(json_object_get(c, "features"), i, x)
        printf("  %-16s %s\n", json_string_value(json_object_get(x, "name")),
               cli_text(json_string_value(json_object_get(x, "definition"))));
    printf("holdout metrics:\n");
    print_metrics(json_object_get(c, "metrics"));
    if (json_array_size(json_object_get(c, "segments")))
        printf("by segment:\n");
    json_array_foreach(json_object_get(c, "segments"), i, s)
    {
        printf("  %-24s n %-6lld",
               cli_text(json_string_value(json_object_get(s, "segment"))),
               (long long)json_integer_value(json_object_get(s, "n")));
        json_object_foreach(s, k, x)
        {
            if (json_is_real(x))
                printf(" %s %.3g", k, json_real_value(x));
        }
        printf("\n");
    }
    if (json_array_size(json_object_get(c, "limits")))
        printf("known limits:\n");
    json_array_foreach(json_object_get(c, "limits"), i, x)
        printf("  - %s\n", cli_text(json_string_value(x)));
    if (json_array_size(json_object_get(c, "alias_log")))
        printf("alias log:\n");
    json_array_foreach(json_object_get(c, "alias_log"), i, x)
    {
        json_t *f = json_object_get(x, "from"), *t = json_object_get(x, "to");
        char fs[32] = "(none)", ts[32] = "(removed)";

        if (json_is_integer(f))
            snprintf(fs, sizeof(fs), "@%lld", (long long)json_integer_value(f));
        if (json_is_integer(t))
            snprintf(ts, sizeof(ts), "@%lld", (long long)json_integer_value(t));
        printf("  %s %-10s %s -> %s by %s: %s\n",
               json_string_value(json_object_get(x, "time")),
               json_string_value(json_object_get(x, "alias")), fs, ts,
               cli_text(json_string_value(json_object_get(x, "by"))),
               cli_text(json_string_value(json_object_get(x, "reason"))));
    }
}

static int show(int argc, char **argv)
{
    aipm_error err = {0, ""};
    json_t *card = NULL;
    workspace ws;
    int rc;

    if (argc < 3)
        return cli_usage_error("model show needs NAME[@VERSION|@ALIAS], e.g. "
                               "value@production");
    if (argc > 3)
        return cli_bad_option("model show", argv[3], argc == 4, NULL, NULL);
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    rc = aipm_model_show(ws.store, argv[2], &card, &err);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (g_cli.json)
        cli_print_json(card);
    else
        print_card(card);
    json_decref(card);
    return EXIT_OK;
}

static int promote(int argc, char **argv)
{
    const char *name = NULL, *alias = NULL, *reason = NULL;
    int64_t version = 0;
    aipm_error err = {0, ""};
    aipm_promotion p;
    workspace ws;
    json_t *c;
    size_t i;
    int k, rc;

    for (k = 2; k < argc; k++) {
        const char *a = argv[k];

        if (strcmp(a, "--to") == 0 && k + 1 < argc)
            alias = argv[++k];
        else if (strcmp(a, "--reason") == 0 && k + 1 < argc)
            reason = argv[++k];
        else if (a[0] != '-' && name == NULL)
            name = a;
        else if (a[0] != '-' && version == 0) {
            if (cli_parse_i64(a, &version) != 0 || version < 1)
                return cli_usage_error("model promote: '%s' is not a version "
                                       "number (aipm model list shows them)",
                                       a);
        } else
            return cli_bad_option(
                "model promote", a, k + 1 == argc,
                (const char *const[]){"--to", "--reason", NULL}, NULL);
    }
    if (name == NULL || version == 0)
        return cli_usage_error("model promote needs NAME VERSION, e.g. "
                               "aipm model promote value 2");
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    rc = aipm_model_promote(ws.store, ws.config, name, version, alias, reason,
                            aipm_now_ms(), ws.checkpoint, &p, &err);
    ws_close(&ws);
    if (g_cli.json && (rc == AIPM_OK || rc == AIPM_EBLOCKED)) {
        json_t *doc =
            json_pack("{s:s, s:I, s:s, s:b, s:o, s:O, s:s?, s:s?}", "name",
                      name, "version", (json_int_t)version, "alias",
                      alias ? alias : "production", "moved", p.moved, "from",
                      p.from ? json_integer(p.from) : json_null(), "checks",
                      p.checks ? p.checks : json_null(), "decision",
                      p.decision[0] ? p.decision : NULL, "refused_by",
                      p.rule[0] ? p.rule : NULL);

        cli_print_json(doc);
        json_decref(doc);
    } else if (rc == AIPM_OK || rc == AIPM_EBLOCKED) {
        json_array_foreach(p.checks, i, c) printf(
            "  %-40s %-7s %s\n", json_string_value(json_object_get(c, "rule")),
            json_string_value(json_object_get(c, "status")),
            cli_text(json_string_value(json_object_get(c, "detail"))));
        if (rc == AIPM_OK && p.moved && p.from)
            printf("%s@%lld is %s now (was @%lld)\n", name, (long long)version,
                   alias ? alias : "production", (long long)p.from);
        else if (rc == AIPM_OK && p.moved)
            printf("%s@%lld is %s now (it was not set)\n", name,
                   (long long)version, alias ? alias : "production");
        else if (rc == AIPM_OK)
            printf("%s@%lld is %s already\n", name, (long long)version,
                   alias ? alias : "production");
    }
    json_decref(p.checks);
    return rc == AIPM_OK ? EXIT_OK : cli_fail(&err);
}

static int rollback(int argc, char **argv)
{
    const char *name = NULL, *reason = NULL;
    int64_t to = 0, from = 0, now_at = 0;
    aipm_error err = {0, ""};
    workspace ws;
    int k, rc;

    for (k = 2; k < argc; k++) {
        const char *a = argv[k];

        if (strcmp(a, "--to") == 0 && k + 1 < argc) {
            if (cli_parse_i64(argv[++k], &to) != 0 || to < 1)
                return cli_usage_error("--to needs a version number");
        } else if (strcmp(a, "--reason") == 0 && k + 1 < argc)
            reason = argv[++k];
        else if (a[0] != '-' && name == NULL)
            name = a;
        else
            return cli_bad_option(
                "model rollback", a, k + 1 == argc,
                (const char *const[]){"--to", "--reason", NULL}, NULL);
    }
    if (name == NULL)
        return cli_usage_error("model rollback needs a model: value or "
                               "adoption");
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    rc = aipm_model_rollback(ws.store, name, to, reason, NULL, aipm_now_ms(),
                             ws.checkpoint, &from, &now_at, &err);
    ws_close(&ws);
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (g_cli.json) {
        json_t *doc = json_pack("{s:s, s:I, s:I}", "name", name, "from",
                                (json_int_t)from, "to", (json_int_t)now_at);

        cli_print_json(doc);
        json_decref(doc);
    } else
        printf("%s production rolled back from @%lld to @%lld\n", name,
               (long long)from, (long long)now_at);
    return EXIT_OK;
}

int cmd_model(int argc, char **argv)
{
    static const char *const subs[] = {"train",   "list",     "show",
                                       "promote", "rollback", NULL};

    if (g_cli.help || argc < 2) {
        help();
        return g_cli.help ? EXIT_OK : EXIT_USAGE;
    }
    if (strcmp(argv[1], "train") == 0)
        return train(argc, argv);
    if (strcmp(argv[1], "list") == 0)
        return list(argc, argv);
    if (strcmp(argv[1], "show") == 0)
        return show(argc, argv);
    if (strcmp(argv[1], "promote") == 0)
        return promote(argc, argv);
    if (strcmp(argv[1], "rollback") == 0)
        return rollback(argc, argv);
    return cli_bad_subcommand("model", argv[1], subs);
}
