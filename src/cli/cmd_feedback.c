/* cmd_feedback.c - `aipm feedback links|link|unlink`.
 *
 * links --json prints views.c's document (view_feedback_links, which the
 * API serves too); the table and the review queue are printed here, a
 * row at a time as the library links them. */
#include "cli.h"
#include "views.h"

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
           "links shows, for every feedback row, the backlog items it is\n"
           "about and why: `corrected` (a person said so), `given` (the\n"
           "row's own item_id), `linked` (the model's confidence >= the\n"
           "threshold) or `needs_review` (a weaker match: not counted as\n"
           "demand). The model learns from the rows whose item is known\n"
           "(given or corrected): it scores each item against its title and\n"
           "description and against its labelled feedback, matches typos,\n"
           "and links each sentence of a message with several asks. The\n"
           "threshold is chosen by 5-fold cross-validation on the labelled\n"
           "rows so that 90%% of their links are right; the summary reports\n"
           "that estimate (precision, recall, top-1 and top-3 accuracy).\n"
           "\n"
           "--item keeps the rows linked to one item; --review the rows\n"
           "that need review, each with its text and the three best items\n"
           "(title, confidence); --summary only the counts and the model's\n"
           "figures; --threshold X overrides the chosen threshold.\n"
           "\n"
           "link and unlink correct one row (audited; a correction wins\n"
           "over the model and teaches it): link ties FEEDBACK to ITEM (a\n"
           "message with several asks is linked once per item); unlink\n"
           "records that it is not about ITEM: the items linked by hand\n"
           "stay, and a row left with none is about no item.\n");
}

typedef struct show {
    const char *item;
    int review_only, summary_only;
} show;

static int one(void *ctx, const aipm_link *l)
{
    show *s = ctx;
    char sc[16] = "-", cf[16] = "-";
    int i;

    if (!view_link_kept(l, s->item, s->review_only) || s->summary_only)
        return 0;
    if (s->review_only) {
        /* The review queue: what the customer wrote and what it may be. */
        char cut[204];

        snprintf(cut, sizeof(cut), "%.200s", l->text ? l->text : "");
        if (l->text && strlen(l->text) > 200)
            memcpy(cut + 197, "...", 4);
        printf("%s  %s\n", cli_text(l->feedback_id), cli_text(cut));
        for (i = 0; i < l->n_cands; i++)
            printf("    %d. %-12s %.2f  %s\n", i + 1,
                   cli_text(l->cands[i].item_id), l->cands[i].confidence,
                   cli_text(l->cands[i].title));
        if (l->n_cands == 0)
            printf("    (no item matches any of its words)\n");
        return 0;
    }
    if (isfinite(l->score))
        snprintf(sc, sizeof(sc), "%.2f", l->score);
    if (isfinite(l->confidence))
        snprintf(cf, sizeof(cf), "%.2f", l->confidence);
    printf("%-14s %-12s %7s %5s  %s", cli_text(l->feedback_id),
           l->item_id ? cli_text(l->item_id) : "-", sc, cf,
           aipm_link_status_name(l->status));
    for (i = 1; i < l->n_items; i++)
        printf("%s%s", i == 1 ? "  also " : ", ", cli_text(l->items[i]));
    printf("\n");
    return 0;
}

static void print_eval(const aipm_link_eval *e)
{
    if (!e->fitted) {
        printf("model: %lld labelled rows (fewer than %d): fixed weights, "
               "threshold %.2f; tag rows with item_id or correct some with "
               "'aipm feedback link' to train it\n",
               (long long)e->labelled, AIPM_LINK_MIN_LABELLED, e->threshold);
        return;
    }
    printf("model: learnt from %lld labelled rows", (long long)e->learnt_from);
    if (e->learnt_from < e->labelled)
        printf(" (a sample of the %lld)", (long long)e->labelled);
    printf("; 5-fold cross-validation on %lld of them", (long long)e->cv_rows);
    if (e->cv_none > 0)
        printf(" (%lld unlinked: about no item)", (long long)e->cv_none);
    printf(": top-1 %.3f, top-3 %.3f\n", e->top1, e->top3);
    printf("threshold %.3f (%s): linked precision %.3f, recall %.3f; "
           "needs_review %.1f%% of rows, their best item right %.3f\n",
           e->threshold,
           e->threshold_cv ? "chosen for precision >= 0.9"
                           : "no threshold reached 0.9 precision, or given",
           e->linked_precision, e->linked_recall, 100 * e->review_share,
           e->review_top1);
}

/* The --json document (view_feedback_links) as this command has always
 * laid it out: a row a line, each compact, so a big one stays greppable. */
static void print_links(const json_t *doc)
{
    const json_t *row;
    char *text;
    size_t i;

    printf("{\n  \"links\": [");
    json_array_foreach(json_object_get(doc, "links"), i, row)
    {
        if ((text = json_dumps(row, JSON_COMPACT)) != NULL)
            printf("%s\n    %s", i == 0 ? "" : ",", text);
        free(text);
    }
    text = json_dumps(json_object_get(doc, "summary"), JSON_COMPACT);
    printf("\n  ],\n  \"summary\": %s\n}\n", text ? text : "null");
    free(text);
}

static int links(int argc, char **argv)
{
    workspace ws;
    aipm_error err = {0, ""};
    aipm_link_opts o;
    aipm_link_stats st;
    show s = {NULL, 0, 0};
    json_t *doc = NULL;
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
    /* A read: writes nothing, so it also works on a read-only workspace. */
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    /* A bar between table rows on the same terminal would garble them. */
    if (!g_cli.stdout_tty || s.summary_only || g_cli.json) {
        o.progress = cli_progress_count; /* feedback rows */
        o.progress_ctx = (void *)"feedback links";
    }
    if (g_cli.json) {
        rc = view_feedback_links(ws.store, s.item, s.review_only, o.threshold,
                                 s.summary_only, o.progress, o.progress_ctx,
                                 &doc, &err);
        cli_progress_end();
        if (rc == AIPM_OK)
            print_links(doc);
        json_decref(doc);
        goto done;
    }
    if ((rc = view_check_item(ws.store, s.item, &err)) != 0)
        goto done;
    if (!s.summary_only && !s.review_only)
        printf("%-14s %-12s %7s %5s  %s\n", "feedback", "item", "score", "conf",
               "status");
    rc = aipm_feedback_links(ws.store, &o, one, &s, &st, &err);
    cli_progress_end();
    if (rc == AIPM_OK) {
        printf("%s%lld feedback rows over %lld items: %lld given, %lld "
               "linked, %lld need review, %lld corrected; %lld linked to "
               "several items%s\n",
               s.summary_only ? "" : "\n", (long long)st.rows,
               (long long)st.items, (long long)st.given, (long long)st.linked,
               (long long)st.review, (long long)st.corrected,
               (long long)st.multi,
               st.items == 0 ? " (no backlog: ingest backlog.csv first)" : "");
        print_eval(&st.eval);
    }
done:
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
