/* cmd_quarantine.c - `aipm quarantine`: rejected raw rows, with why. */
#include "views.h"

#include <string.h>

static int one(void *ctx, const aipm_quarantine_row *r)
{
    int *n = ctx;

    (*n)++;
    printf("%s:%lld  batch %lld  %s: %s\n    ", cli_text(r->file),
           (long long)r->line, (long long)r->batch_id, r->reason,
           cli_text(r->detail));
    cli_print_raw(stdout, r->raw, r->raw_len, 200);
    putchar('\n');
    return 0;
}

int cmd_quarantine(int argc, char **argv)
{
    workspace ws;
    aipm_error err = {0, ""};
    json_t *doc = NULL;
    const char *reason = NULL;
    int64_t limit = 50, batch = 0;
    int i, rc, n = 0;

    if (g_cli.help) {
        printf("usage: aipm quarantine [--reason CODE] [--batch ID] "
               "[--limit N]\n"
               "\n"
               "Rows that broke the input contract, newest first, with file,\n"
               "line, reason code and the raw text. Reason codes:\n"
               "malformed_json, malformed_csv, missing_field, bad_timestamp,\n"
               "type_mismatch, unsupported_type, bad_value, invalid_utf8,\n"
               "line_too_long. --limit defaults to 50 (0: all).\n");
        return EXIT_OK;
    }
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
            reason = argv[++i];
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            if (strcmp(argv[i + 1], "0") == 0) {
                limit = 0;
                i++;
            } else if (cli_parse_i64(argv[++i], &limit) != 0)
                return cli_usage_error("--limit needs a number");
        } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            if (cli_parse_i64(argv[++i], &batch) != 0)
                return cli_usage_error("--batch needs a batch id");
        } else
            return cli_bad_arg(
                "quarantine", argv[i], i + 1 == argc,
                (const char *const[]){"--reason", "--limit", "--batch", NULL});
    }
    /* A code that is none is said before the workspace is looked for. */
    if (view_check_reason(reason, &err) != AIPM_OK)
        return cli_fail(&err);
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    if (g_cli.json)
        rc = view_quarantine(ws.store, reason, batch, limit, &doc, &err);
    else
        rc = aipm_store_quarantine_list(ws.store, reason, batch, limit, one, &n,
                                        &err);
    ws_close(&ws);
    if (rc)
        return cli_fail(&err);
    if (doc) {
        cli_print_json(doc);
        json_decref(doc);
    } else if (n == 0) {
        printf("quarantine is empty%s%s\n", reason ? " for reason " : "",
               reason ? reason : "");
    }
    return EXIT_OK;
}
