/* cmd_report.c - `aipm report`: the dashboard as one self-contained HTML
 * file (src/serve/report.c), for a roadmap review's attachments.
 *
 * The workspace is opened read-only: the report computes what the API's
 * reads compute and writes nothing to the store. The file is written
 * beside its destination and renamed into place, so a reader never sees
 * half a report. */
#include "cli.h"
#include "../serve/serve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help(void)
{
    printf("usage: aipm report [--out FILE.html]\n"
           "\n"
           "Writes the dashboard as of now to one self-contained HTML file\n"
           "(default aipm-report.html): KPIs against their targets, data\n"
           "quality, the ranked roadmap with its intervals and factor\n"
           "contributions, each experiment's verdict, adoption forecasts,\n"
           "the models and their monitoring, the decisions with their\n"
           "provenance (every proposed one and the newest), and the audit\n"
           "log's verification and head. Its charts, styles and data are\n"
           "inlined: it opens offline, in any browser, and reaches nothing.\n"
           "The documents are the API's (aipm serve), computed the same way;\n"
           "one the workspace cannot give yet is listed as missing, with\n"
           "why. Nothing is written to the store.\n"
           "\n"
           "  --out FILE   where to write it (- for stdout)\n");
}

int cmd_report(int argc, char **argv)
{
    const char *out_path = "aipm-report.html";
    aipm_error err = {0, ""};
    srv_opts o;
    srv_req r;
    workspace ws;
    char tmp[4200];
    FILE *f;
    int i, rc, n_docs = 0;

    if (g_cli.help) {
        help();
        return EXIT_OK;
    }
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out_path = argv[++i];
        else
            return cli_bad_option("report", argv[i], i + 1 == argc,
                                  (const char *const[]){"--out", NULL}, NULL);
    }
    if ((rc = ws_open_ro(&ws)) != 0)
        return rc;
    memset(&o, 0, sizeof(o));
    o.dir = ws.dir;
    o.yaml = ws.yaml;
    o.store_url = ws.store_url;
    o.checkpoint = ws.checkpoint;
    o.graph_snapshot = ws.graph_snapshot;
    memset(&r, 0, sizeof(r));
    r.st = ws.store;
    r.cfg = ws.config;
    r.opts = &o;
    r.user = aipm_audit_actor();
    r.role = AIPM_ROLE_VIEWER;
    r.now_ms = aipm_now_ms();

    if (strcmp(out_path, "-") == 0) {
        f = stdout;
    } else {
        snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", out_path, (long)getpid());
        if ((f = fopen(tmp, "w")) == NULL) {
            ws_close(&ws);
            return cli_usage_error("%s: %s", out_path, strerror(errno));
        }
    }
    rc = srv_report(&r, f, g_cli.tty ? cli_progress_count : NULL,
                    (void *)"report", &n_docs, &err);
    cli_progress_end();
    ws_close(&ws);
    if (f != stdout) {
        if (fclose(f) != 0 && rc == AIPM_OK)
            rc = aipm_error_set(&err, AIPM_EIO, "%s: %s", out_path,
                                strerror(errno));
        if (rc == AIPM_OK && rename(tmp, out_path) != 0)
            rc = aipm_error_set(&err, AIPM_EIO, "%s: %s", out_path,
                                strerror(errno));
        if (rc != AIPM_OK)
            unlink(tmp);
    }
    if (rc != AIPM_OK)
        return cli_fail(&err);
    if (f != stdout) {
        if (g_cli.json) {
            json_t *doc = json_pack("{s:s, s:i}", "report", out_path,
                                    "documents", n_docs);

            cli_print_json(doc);
            json_decref(doc);
        } else {
            printf("wrote %s (%d documents); open it in a browser\n", out_path,
                   n_docs);
        }
    }
    return EXIT_OK;
}
