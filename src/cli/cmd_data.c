/* cmd_data.c - `aipm data versions|show|accept|reject|revert`. */
#include "views.h"

#include <stdlib.h>
#include <string.h>

static void help(FILE *out)
{
    fprintf(out,
            "usage: aipm data versions [--dataset NAME]\n"
            "       aipm data show BATCH\n"
            "       aipm data accept BATCH --reason TEXT\n"
            "       aipm data reject BATCH --reason TEXT\n"
            "       aipm data revert BATCH --reason TEXT\n"
            "\n"
            "Every ingest is a batch (a dataset version). Analyses see only\n"
            "accepted batches. A batch blocked by a gate is staged until it\n"
            "is accepted or rejected; an accepted batch can be reverted\n"
            "(hidden, not deleted). Each change is written to the audit log\n"
            "with its reason.\n");
}

static int list_one(void *ctx, const aipm_batch_info *b)
{
    int *n = ctx;
    char when[32];

    if ((*n)++ == 0)
        printf("%-6s %-9s %-9s %-8s %9s %9s %6s %6s  %-20s %s\n", "BATCH",
               "DATASET", "STATUS", "VERDICT", "READ", "ACCEPTED", "DUPS",
               "QUAR", "CREATED", "SOURCE");
    aipm_time_format(when, b->created_ms);
    when[19] = '\0';
    printf("%-6lld %-9s %-9s %-8s %9lld %9lld %6lld %6lld  %-20s %s\n",
           (long long)b->id, b->dataset, b->status, b->verdict,
           (long long)b->n_read, (long long)b->n_accepted,
           (long long)b->n_duplicates, (long long)b->n_quarantined, when,
           cli_text(b->source));
    return 0;
}

static int versions(workspace *ws, int argc, char **argv)
{
    const char *dataset = NULL;
    aipm_error err = {0, ""};
    json_t *doc = NULL;
    int i, rc, n = 0;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--dataset") == 0 && i + 1 < argc)
            dataset = argv[++i];
        else
            return cli_bad_arg("data", argv[i], i + 1 == argc,
                               (const char *const[]){"--dataset", NULL});
    }
    if (g_cli.json)
        rc = view_batches(ws->store, dataset, &doc, &err);
    else if ((rc = view_check_dataset(dataset, &err)) == AIPM_OK)
        rc = aipm_store_batch_list(ws->store, dataset, 0, list_one, &n, &err);
    if (rc)
        return cli_fail(&err);
    if (doc) {
        cli_print_json(doc);
        json_decref(doc);
    } else if (n == 0) {
        printf("no batches yet: `aipm ingest DATASET FILE` adds one\n");
    }
    return EXIT_OK;
}

/* A batch that does not exist says where the ids are. */
static int batch_fail(const aipm_error *err, int64_t id)
{
    if (err->code == AIPM_ENOTFOUND)
        return cli_usage_error("no batch %lld; list them with `aipm data "
                               "versions`",
                               (long long)id);
    return cli_fail(err);
}

static int show(workspace *ws, int64_t id)
{
    aipm_batch_info b;
    aipm_error err = {0, ""};
    char when[32];

    if (g_cli.json) {
        json_t *doc = NULL;

        if (view_batch(ws->store, id, &doc, &err) != AIPM_OK)
            return cli_fail(&err);
        cli_print_json(doc);
        json_decref(doc);
        return EXIT_OK;
    }
    if (aipm_store_batch_get(ws->store, &b, id, &err) != 0)
        return batch_fail(&err, id);
    aipm_time_format(when, b.created_ms);
    printf("batch %lld: %s, %s (verdict %s), created %s, run %s\n",
           (long long)b.id, b.dataset, b.status, b.verdict, when, b.run_id);
    printf("  %-18s %s\n", "content sha256", b.content_sha256);
    if (b.report)
        cli_print_report(stdout, b.report);
    aipm_batch_info_clear(&b);
    return EXIT_OK;
}

static int transition(workspace *ws, const char *action, int argc, char **argv)
{
    const char *reason = NULL;
    aipm_error err = {0, ""};
    aipm_batch_info b;
    int64_t id = 0;
    int i;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
            reason = argv[++i];
        else if (strncmp(argv[i], "--reason=", 9) == 0)
            reason = argv[i] + 9;
        else if (id == 0 && cli_parse_i64(argv[i], &id) == 0)
            ;
        else
            return cli_bad_arg("data", argv[i], i + 1 == argc,
                               (const char *const[]){"--reason", NULL});
    }
    if (id == 0)
        return cli_usage_error("usage: aipm data %s BATCH --reason TEXT",
                               action);
    if (reason == NULL || *reason == '\0')
        return cli_usage_error("a reason is required: aipm data %s %lld "
                               "--reason TEXT",
                               action, (long long)id);
    if (aipm_data_transition(ws->store, id, action, reason, ws->checkpoint,
                             &err) != 0)
        return batch_fail(&err, id);
    if (aipm_store_batch_get(ws->store, &b, id, &err) != 0)
        return cli_fail(&err);
    if (g_cli.json) {
        json_t *o = view_batch_json(&b, 0);

        json_object_set_new(o, "reason", json_string(reason));
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("batch %lld (%s) is now %s\n", (long long)id, b.dataset,
               b.status);
    }
    aipm_batch_info_clear(&b);
    return EXIT_OK;
}

int cmd_data(int argc, char **argv)
{
    workspace ws;
    const char *sub = argc > 1 ? argv[1] : NULL;
    int rc;

    if (g_cli.help || sub == NULL) {
        help(g_cli.help ? stdout : stderr);
        return g_cli.help ? EXIT_OK : EXIT_USAGE;
    }
    if (strcmp(sub, "versions") != 0 && strcmp(sub, "show") != 0 &&
        strcmp(sub, "accept") != 0 && strcmp(sub, "reject") != 0 &&
        strcmp(sub, "revert") != 0)
        return cli_bad_subcommand("data", sub,
                                  (const char *const[]){"versions", "show",
                                                        "accept", "reject",
                                                        "revert", NULL});
    if ((rc = strcmp(sub, "versions") == 0 || strcmp(sub, "show") == 0
                  ? ws_open_ro(&ws)
                  : ws_open(&ws)) != 0)
        return rc;
    if (strcmp(sub, "versions") == 0) {
        rc = versions(&ws, argc, argv);
    } else if (strcmp(sub, "show") == 0) {
        int64_t id;

        if (argc != 3 || cli_parse_i64(argv[2], &id) != 0)
            rc = cli_usage_error("usage: aipm data show BATCH");
        else
            rc = show(&ws, id);
    } else {
        rc = transition(&ws, sub, argc, argv);
    }
    ws_close(&ws);
    return rc;
}
