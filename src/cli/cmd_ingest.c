/* cmd_ingest.c - `aipm ingest DATASET FILE...`: one batch per file. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf(
        "usage: aipm ingest DATASET FILE... [--format ndjson|csv] "
        "[--max-line BYTES]\n"
        "\n"
        "DATASET is events, backlog, feedback, signals or graph (the input\n"
        "contract in the README). Each FILE becomes one batch, in one\n"
        "transaction: bad rows go to quarantine, repeats count as\n"
        "duplicates, and the data policy's gates decide the verdict.\n"
        "\n"
        "  --format F        ndjson or csv (default: from the extension,\n"
        "                    else from the content; .gz is decompressed)\n"
        "  --max-line BYTES  longest line accepted (default 1048576)\n"
        "\n"
        "FILE may be - for standard input; for it, and for a name with no\n"
        ".csv/.ndjson/.jsonl/.json extension, without --format the first\n"
        "non-blank byte decides ({ is NDJSON, anything else CSV).\n"
        "\n"
        "Exit status 3 when a batch was blocked by a gate (it is stored but\n"
        "staged until `aipm data accept`), 1 when a file is unusable.\n");
}

int cmd_ingest(int argc, char **argv)
{
    aipm_ingest_opts opts;
    workspace ws;
    json_t *all = NULL;
    const char *dataset = NULL;
    int i, rc, exit_code = EXIT_OK, n_files = 0, only_files = 0;
    int64_t max_line = 0;

    if (g_cli.help) {
        help();
        return EXIT_OK;
    }
    memset(&opts, 0, sizeof(opts));
    for (i = 1; i < argc; i++) {
        if (!only_files && strcmp(argv[i], "--") == 0) {
            only_files = 1;
        } else if (only_files) {
            if (dataset == NULL)
                dataset = argv[i];
            else
                argv[++n_files] = argv[i];
        } else if ((strcmp(argv[i], "--format") == 0 ||
                    strcmp(argv[i], "--max-line") == 0) &&
                   i + 1 == argc) {
            return cli_usage_error("%s needs a value", argv[i]);
        } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            opts.format = argv[++i];
        } else if (strncmp(argv[i], "--format=", 9) == 0) {
            opts.format = argv[i] + 9;
        } else if (strcmp(argv[i], "--max-line") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &max_line) != 0)
                return cli_usage_error("--max-line needs a positive number");
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_bad_option(
                "ingest", argv[i], 0,
                (const char *const[]){"--format", "--max-line", NULL}, NULL);
        } else if (dataset == NULL) {
            dataset = argv[i];
        } else {
            argv[++n_files] = argv[i]; /* compact the file list in place */
        }
    }
    if (dataset == NULL || n_files == 0)
        return cli_usage_error("usage: aipm ingest DATASET FILE...; see "
                               "`aipm ingest -h`");
    if (!aipm_ingest_dataset_known(dataset))
        return cli_usage_error("unknown dataset '%s' (events, backlog, "
                               "feedback, signals, graph)",
                               dataset);
    if (opts.format && strcmp(opts.format, "ndjson") != 0 &&
        strcmp(opts.format, "csv") != 0)
        return cli_usage_error("--format is ndjson or csv");
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    opts.dataset = dataset;
    opts.max_line = (size_t)max_line;
    opts.policy = &ws.config->data;
    opts.config = ws.config;
    opts.checkpoint_path = ws.checkpoint;
    opts.progress = cli_progress;
    if (g_cli.json && n_files > 1)
        all = json_array();
    for (i = 1; i <= n_files; i++) {
        aipm_ingest_result res;
        aipm_error err = {0, ""};
        const char *base = strrchr(argv[i], '/');

        opts.progress_ctx = (void *)(base ? base + 1 : argv[i]);
        rc = aipm_ingest_file(ws.store, argv[i], &opts, &res, &err);
        cli_progress_end();
        if (rc) {
            int code = cli_fail(&err);

            if (exit_code == EXIT_OK || code == EXIT_INTERNAL)
                exit_code = code;
            continue;
        }
        if (g_cli.json) {
            json_error_t jerr;
            json_t *r = json_loads(res.report_json, 0, &jerr);

            if (all)
                json_array_append_new(all, r);
            else {
                cli_print_json(r);
                json_decref(r);
            }
        } else {
            if (i > 1)
                putchar('\n');
            cli_print_report(stdout, res.report_json);
        }
        if (strcmp(res.verdict, "blocked") == 0) {
            if (!g_cli.json)
                fprintf(stderr,
                        "aipm: batch %lld was blocked by a quality gate: it "
                        "is stored but staged; review it with `aipm data "
                        "show %lld`, then `aipm data accept|reject %lld "
                        "--reason TEXT`\n",
                        (long long)res.batch_id, (long long)res.batch_id,
                        (long long)res.batch_id);
            if (exit_code == EXIT_OK)
                exit_code = EXIT_BLOCKED;
        }
        aipm_ingest_result_clear(&res);
    }
    if (all) {
        json_t *o = json_pack("{s:o}", "batches", all);

        cli_print_json(o);
        json_decref(o);
    }
    ws_close(&ws);
    return exit_code;
}
