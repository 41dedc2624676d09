/* cmd_lineage.c - `aipm lineage [--openlineage]`. */
#include "views.h"

#include <stdlib.h>
#include <string.h>

static void names(json_t *datasets)
{
    size_t i;
    json_t *d;

    json_array_foreach(datasets, i, d)
        printf("%s%s:%s", i ? ", " : "",
               cli_text(json_string_value(json_object_get(d, "namespace"))),
               cli_text(json_string_value(json_object_get(d, "name"))));
}

static int one(void *ctx, const aipm_run_row *r)
{
    int *n = ctx;
    json_error_t jerr;
    json_t *in = json_loads(r->inputs ? r->inputs : "[]", 0, &jerr);
    json_t *out = json_loads(r->outputs ? r->outputs : "[]", 0, &jerr);
    char started[32], ended[32];

    aipm_time_format(started, r->started_ms);
    aipm_time_format(ended, r->ended_ms);
    (*n)++;
    printf("%s  %-16s %-8s %s\n    in:  ", started, r->job, r->state, r->id);
    names(in);
    printf("\n    out: ");
    names(out);
    putchar('\n');
    json_decref(in);
    json_decref(out);
    return 0;
}

static int emit(void *ctx, const char *event)
{
    (void)ctx;
    puts(event);
    return 0;
}

int cmd_lineage(int argc, char **argv)
{
    workspace ws;
    aipm_error err = {0, ""};
    json_t *doc = NULL;
    int openlineage = 0, n = 0, i, rc;

    if (g_cli.help) {
        printf("usage: aipm lineage [--openlineage]\n"
               "\n"
               "Runs, oldest first, with their input and output datasets.\n"
               "--openlineage prints one OpenLineage RunEvent (JSON) per\n"
               "line, for Marquez or any OpenLineage consumer, e.g.\n"
               "  aipm lineage --openlineage | while read -r e; do\n"
               "    curl -H 'Content-Type: application/json' -d \"$e\" "
               "$MARQUEZ/api/v1/lineage; done\n");
        return EXIT_OK;
    }
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--openlineage") == 0)
            openlineage = 1;
        else
            return cli_bad_option("lineage", argv[i], i + 1 == argc, NULL,
                                  (const char *const[]){"--openlineage", NULL});
    }
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    if (openlineage) {
        rc = aipm_lineage_openlineage(ws.store, emit, NULL, &err);
    } else if (g_cli.json) {
        rc = view_lineage_runs(ws.store, &doc, &err);
    } else {
        rc = aipm_store_run_list(ws.store, one, &n, &err);
    }
    ws_close(&ws);
    if (rc)
        return cli_fail(&err);
    if (doc) {
        cli_print_json(doc);
        json_decref(doc);
    } else if (!openlineage && n == 0) {
        printf("no runs yet\n");
    }
    return EXIT_OK;
}
