/* cmd_quality.c - `aipm quality`: the latest report of each dataset.
 *
 * Human output opens with one table, a line per dataset (its latest
 * batch, status, verdict and counts), then each batch's full report; the
 * store is listed twice rather than the reports held in memory. */
#include "views.h"

#include <string.h>

typedef struct q_ctx {
    int n;
} q_ctx;

static int summary_line(void *ctx, const aipm_batch_info *b)
{
    q_ctx *q = ctx;

    if (q->n++ == 0)
        printf("%-9s %6s %-9s %-8s %9s %9s %6s %11s\n", "DATASET", "BATCH",
               "STATUS", "VERDICT", "READ", "ACCEPTED", "DUPS", "QUARANTINED");
    printf("%-9s %6lld %-9s %-8s %9lld %9lld %6lld %11lld\n", b->dataset,
           (long long)b->id, b->status, b->verdict, (long long)b->n_read,
           (long long)b->n_accepted, (long long)b->n_duplicates,
           (long long)b->n_quarantined);
    return 0;
}

static int one(void *ctx, const aipm_batch_info *b)
{
    q_ctx *q = ctx;

    if (q->n++)
        putchar('\n');
    if (b->report)
        cli_print_report(stdout, b->report);
    if (strcmp(b->status, "accepted") != 0 && strcmp(b->status, "staged") != 0)
        printf("  %-18s %s since\n", "now", b->status);
    return 0;
}

int cmd_quality(int argc, char **argv)
{
    workspace ws;
    aipm_error err = {0, ""};
    q_ctx q = {0};
    const char *dataset = NULL;
    int rc;

    if (g_cli.help) {
        printf("usage: aipm quality [DATASET]\n"
               "\n"
               "The quality report of the latest batch of each dataset (or\n"
               "of DATASET): counts, quarantine reasons, schema changes,\n"
               "null rates, freshness, volume, and the gate verdict. It\n"
               "opens with a summary, a line per dataset.\n");
        return EXIT_OK;
    }
    if (argc > 2)
        return cli_usage_error("usage: aipm quality [DATASET]");
    if (argc == 2)
        dataset = argv[1];
    /* A name that is none is said before the workspace is looked for. */
    if (view_check_dataset(dataset, &err) != AIPM_OK)
        return cli_fail(&err);
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    if (g_cli.json) {
        json_t *doc = NULL;

        rc = view_quality(ws.store, dataset, &doc, &err);
        ws_close(&ws);
        if (rc != AIPM_OK)
            return cli_fail(&err);
        cli_print_json(doc);
        json_decref(doc);
        return EXIT_OK;
    }
    rc = aipm_store_batch_list(ws.store, dataset, 1, summary_line, &q, &err);
    /* The reports follow the table after an empty line. */
    if (rc == AIPM_OK)
        rc = aipm_store_batch_list(ws.store, dataset, 1, one, &q, &err);
    if (rc) {
        ws_close(&ws);
        return cli_fail(&err);
    }
    if (q.n == 0) {
        printf("no batches yet: `aipm ingest DATASET FILE` adds one\n");
    }
    ws_close(&ws);
    return EXIT_OK;
}
