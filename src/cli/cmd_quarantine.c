/* cmd_quarantine.c - `aipm quarantine`: rejected raw rows, with why. */
#include "cli.h"

#include <string.h>

typedef struct qr_ctx {
    json_t *arr;
    int n;
} qr_ctx;

static int one(void *ctx, const aipm_quarantine_row *r)
{
    qr_ctx *q = ctx;

    if (q->arr) {
        json_t *o =
            json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:o}", "batch_id",
                      (json_int_t)r->batch_id, "dataset", r->dataset, "file",
                      r->file, "line", (json_int_t)r->line, "reason", r->reason,
                      "detail", r->detail ? r->detail : "", "raw",
                      cli_raw_json(r->raw, r->raw_len));

        json_array_append_new(q->arr, o);
        return 0;
    }
    q->n++;
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
    qr_ctx q = {NULL, 0};
    const char *reason = NULL;
    int64_t limit = 50, batch = 0;
    int i, rc;

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
    if (reason && !aipm_ingest_reason_known(reason))
        return cli_usage_error("unknown reason code '%s'; see `aipm "
                               "quarantine -h` for the list",
                               reason);
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    if (g_cli.json)
        q.arr = json_array();
    rc = aipm_store_quarantine_list(ws.store, reason, batch, limit, one, &q,
                                    &err);
    ws_close(&ws);
    if (rc) {
        json_decref(q.arr);
        return cli_fail(&err);
    }
    if (q.arr) {
        json_t *o = json_pack("{s:o}", "rows", q.arr);

        cli_print_json(o);
        json_decref(o);
    } else if (q.n == 0) {
        printf("quarantine is empty%s%s\n", reason ? " for reason " : "",
               reason ? reason : "");
    }
    return EXIT_OK;
}
