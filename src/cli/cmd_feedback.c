/* cmd_feedback.c - `aipm feedback links|link|unlink`. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("usage: aipm feedback links [--item ID] [--review] "
           "[--threshold X] [--summary]\n"
           "       aipm feedback link FEEDBACK ITEM\n"
           "       aipm feedback unlink FEEDBACK ITEM\n"
           "\n"
           "links shows, for every feedback row, the backlog item it is\n"
           "about and why: `corrected` (a person said so), `given` (the\n"
           "row's own item_id), `linked` (BM25 text retrieval against item\n"
           "titles and descriptions, confidence >= the threshold, default\n"
           "0.5) or `needs_review` (a weaker match: not counted as demand).\n"
           "--item keeps the rows linked to one item, --review the rows\n"
           "that need review, --summary only the counts. The confidence is a "
           "softmax of the five best\n"
           "items' BM25 scores against a 'none of them' score of 4.\n"
           "\n"
           "link and unlink correct one row (audited; a correction wins\n"
           "over the model): link ties FEEDBACK to ITEM, unlink records that\n"
           "it is not about ITEM (it is then about no item).\n");
}

typedef struct show {
    const char *item;
    int review_only, summary_only;
    int64_t shown;
    int first;
} show;

static json_t *num_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static int one(void *ctx, const aipm_link *l)
{
    show *s = ctx;
    char sc[16] = "-", cf[16] = "-";

    if (s->review_only && l->status != AIPM_LINK_REVIEW)
        return 0;
    if (s->item && (l->item_id == NULL || strcmp(l->item_id, s->item) != 0))
        return 0;
    if (s->summary_only)
        return 0;
    s->shown++;
    if (g_cli.json) {
        json_t *o = json_pack(
            "{s:s, s:o, s:o, s:o, s:s, s:o}", "feedback_id", l->feedback_id,
            "item_id", l->item_id ? json_string(l->item_id) : json_null(),
            "score", num_or_null(l->score), "confidence",
            num_or_null(l->confidence), "status",
            aipm_link_status_name(l->status), "model_item",
            l->model_item ? json_string(l->model_item) : json_null());
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

        if (text)
            printf("%s\n    %s", s->first ? "" : ",", text);
        s->first = 0;
        free(text);
        json_decref(o);
        return 0;
    }
    if (isfinite(l->score))
        snprintf(sc, sizeof(sc), "%.2f", l->score);
    if (isfinite(l->confidence))
        snprintf(cf, sizeof(cf), "%.2f", l->confidence);
    printf("%-14s %-12s %7s %5s  %s\n", cli_text(l->feedback_id),
           l->item_id ? cli_text(l->item_id) : "-", sc, cf,
           aipm_link_status_name(l->status));
    return 0;
}

static int links(int argc, char **argv)
{
    workspace ws;
    aipm_error err = {0, ""};
    aipm_link_opts o;
    aipm_link_stats st;
    show s = {NULL, 0, 0, 0, 1};
    int i, rc;

    memset(&o, 0, sizeof(o));
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--item") == 0 && i + 1 < argc)
            s.item = argv[++i];
        else if (strcmp(argv[i], "--review") == 0)
            s.review_only = 1;
        else if (strcmp(argv[i], "--summary") == 0)
            s.summary_only = 1;
        else if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc) {
            char *end;

            o.threshold = strtod(argv[++i], &end);
            if (*end || !(o.threshold > 0 && o.threshold <= 1))
                return cli_usage_error("--threshold needs a number in (0, 1]");
        } else
            return cli_bad_option(
                "feedback links", argv[i], i + 1 == argc,
                (const char *const[]){"--item", "--threshold", NULL},
                (const char *const[]){"--review", "--summary", NULL});
    }
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    /* A bar between table rows on the same terminal would garble them. */
    if (!g_cli.stdout_tty || s.summary_only || g_cli.json) {
        o.progress = cli_progress_count; /* feedback rows */
        o.progress_ctx = (void *)"feedback links";
    }
    if (g_cli.json)
        printf("{\n  \"links\": [");
    else if (!s.summary_only)
        printf("%-14s %-12s %7s %5s  %s\n", "feedback", "item", "score", "conf",
               "status");
    rc = aipm_feedback_links(ws.store, &o, one, &s, &st, &err);
    cli_progress_end();
    if (rc == AIPM_OK && g_cli.json)
        printf("\n  ],\n  \"summary\": {\"rows\": %lld, \"shown\": %lld, "
               "\"given\": %lld, \"linked\": %lld, \"needs_review\": %lld, "
               "\"corrected\": %lld, \"items\": %lld, \"threshold\": %g}\n}\n",
               (long long)st.rows, (long long)s.shown, (long long)st.given,
               (long long)st.linked, (long long)st.review,
               (long long)st.corrected, (long long)st.items,
               o.threshold > 0 ? o.threshold : AIPM_LINK_THRESHOLD);
    else if (rc == AIPM_OK)
        printf("%s%lld feedback rows over %lld items: %lld given, %lld "
               "linked, %lld need review, %lld corrected%s\n",
               s.summary_only ? "" : "\n", (long long)st.rows,
               (long long)st.items, (long long)st.given, (long long)st.linked,
               (long long)st.review, (long long)st.corrected,
               st.items == 0 ? " (no backlog: ingest backlog.csv first)" : "");
    if (rc)
        rc = cli_fail(&err);
    ws_close(&ws);
    return rc;
}

static int correct(int argc, char **argv, int unlink)
{
    workspace ws;
    aipm_error err = {0, ""};
    int rc;

    if (argc != 4)
        return cli_usage_error("usage: aipm feedback %s FEEDBACK ITEM",
                               unlink ? "unlink" : "link");
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    rc = aipm_feedback_correct(ws.store, argv[2], argv[3], unlink,
                               ws.checkpoint, &err);
    if (rc == AIPM_OK) {
        if (g_cli.json) {
            json_t *o =
                json_pack("{s:s, s:o, s:s}", "feedback_id", argv[2], "item_id",
                          unlink ? json_null() : json_string(argv[3]), "status",
                          "corrected");

            cli_print_json(o);
            json_decref(o);
        } else if (unlink)
            printf("feedback %s is not about %s (recorded in the audit "
                   "log)\n",
                   cli_text(argv[2]), cli_text(argv[3]));
        else
            printf("feedback %s linked to %s (recorded in the audit log)\n",
                   cli_text(argv[2]), cli_text(argv[3]));
    } else
        rc = cli_fail(&err);
    ws_close(&ws);
    return rc;
}

int cmd_feedback(int argc, char **argv)
{
    if (g_cli.help || argc < 2) {
        help();
        return argc < 2 && !g_cli.help ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "links") == 0)
        return links(argc, argv);
    if (strcmp(argv[1], "link") == 0)
        return correct(argc, argv, 0);
    if (strcmp(argv[1], "unlink") == 0)
        return correct(argc, argv, 1);
    return cli_bad_subcommand(
        "feedback", argv[1],
        (const char *const[]){"links", "link", "unlink", NULL});
}
