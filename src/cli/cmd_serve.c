/* cmd_serve.c - `aipm serve`: the HTTP JSON API over the workspace.
 *
 * The options into an srv_opts, the workspace opened once as a writer
 * (which repairs a lagging audit checkpoint and records changed policies,
 * as any writer does) and closed again, the signing keys checked, then
 * src/serve runs until SIGINT or SIGTERM. */
#include "cli.h"
#include "../serve/serve.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help(void)
{
    printf("usage: aipm serve [--listen ADDR:PORT] [--workers N] "
           "[--sign-for USER]...\n"
           "                  [--rate N] [--burst N] [--max-body BYTES] "
           "[--timeout S]\n"
           "                  [--cache N] [--access-log] [--port-file FILE]\n"
           "\n"
           "The JSON API under /api/v1 (GET /api/v1 lists its routes): the\n"
           "KPIs, roadmap, forecasts, experiments, scenarios, models and\n"
           "monitoring, decisions and audit log the commands show, from the\n"
           "same library calls. Every request needs an API token\n"
           "(`aipm tokens create --as USER`) as \"Authorization: Bearer\n"
           "TOKEN\": reads need a viewer, analyses that record need an\n"
           "analyst, approvals an approver. Answers of reads are cached until\n"
           "the audit log moves (a batch, a decision, a model or policy\n"
           "change), aipm.yaml changes or the day ends.\n"
           "\n"
           "  --listen A:P     address and port, default 127.0.0.1:8080 (an\n"
           "                   IPv6 address in brackets: [::1]:8080; port 0\n"
           "                   takes a free one). Not loopback: a warning\n"
           "  --workers N      threads serving requests, default the CPUs\n"
           "  --sign-for USER  sign approvals of USER with their key from the\n"
           "                   key folder (`aipm keys generate --as USER`);\n"
           "                   without it the API answers an approval with\n"
           "                   the command to run (409 sign_with_cli)\n"
           "  --rate N         requests a second per token, default 50\n"
           "                   (0: no limit); --burst N its bucket, default\n"
           "                   2 x rate\n"
           "  --max-body B     largest request body, default 1048576\n"
           "  --timeout S      idle connection timeout, default 30 seconds\n"
           "  --cache N        cached answers kept, default 512\n"
           "  --access-log     a line per request on stderr\n"
           "  --port-file F    write the port listened on to F\n");
}

/* ADDR:PORT, [V6]:PORT or PORT into o. */
static int parse_listen(const char *s, srv_opts *o)
{
    const char *colon;
    int64_t port;
    size_t n;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (close == NULL || close[1] != ':')
            return -1;
        n = (size_t)(close - s - 1);
        if (n >= sizeof(o->host))
            return -1;
        memcpy(o->host, s + 1, n);
        o->host[n] = '\0';
        colon = close + 1;
    } else if ((colon = strrchr(s, ':')) != NULL) {
        n = (size_t)(colon - s);
        if (n == 0 || n >= sizeof(o->host))
            return -1;
        memcpy(o->host, s, n);
        o->host[n] = '\0';
    } else {
        colon = s - 1; /* a port alone */
    }
    {
        unsigned char addr[16];

        if (inet_pton(AF_INET, o->host, addr) != 1 &&
            inet_pton(AF_INET6, o->host, addr) != 1)
            return -1;
    }
    if (strcmp(colon + 1, "0") == 0)
        port = 0;
    else if (cli_parse_i64(colon + 1, &port) != 0 || port > 65535)
        return -1;
    o->port = (unsigned)port;
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    static const char *const value_opts[] = {
        "--listen",   "--workers", "--sign-for", "--rate",      "--burst",
        "--max-body", "--timeout", "--cache",    "--port-file", NULL};
    aipm_error err = {0, ""};
    srv_opts o;
    workspace ws;
    int64_t n;
    double x;
    int i, rc, burst_set = 0;
    char *end;

    if (g_cli.help) {
        help();
        return EXIT_OK;
    }
    memset(&o, 0, sizeof(o));
    snprintf(o.host, sizeof(o.host), "127.0.0.1");
    o.port = 8080;
    o.workers = cli_sim_threads();
    o.max_body = 1 << 20;
    o.timeout = 30;
    o.rate = 50;
    o.cache_entries = 512;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--access-log") == 0) {
            o.access_log = 1;
            continue;
        }
        if (v == NULL)
            return cli_bad_option("serve", a, 1, value_opts,
                                  (const char *const[]){"--access-log", NULL});
        i++;
        if (strcmp(a, "--listen") == 0) {
            if (parse_listen(v, &o) != 0)
                return cli_usage_error("--listen takes ADDR:PORT, [V6]:PORT "
                                       "or PORT, with a numeric address "
                                       "and a port from 0 to 65535");
        } else if (strcmp(a, "--workers") == 0) {
            if (cli_parse_i64(v, &n) != 0 || n > 256)
                return cli_usage_error("--workers takes 1 to 256");
            o.workers = (int)n;
        } else if (strcmp(a, "--sign-for") == 0) {
            if (o.n_sign_for == 16)
                return cli_usage_error("at most 16 --sign-for");
            o.sign_for[o.n_sign_for++] = v;
        } else if (strcmp(a, "--rate") == 0 || strcmp(a, "--burst") == 0) {
            x = strtod(v, &end);
            if (*v == '\0' || *end != '\0' || !(x >= 0) || x > 1e9)
                return cli_usage_error("%s takes a number from 0 to 1e9", a);
            if (a[2] == 'r')
                o.rate = x;
            else {
                o.burst = x;
                burst_set = 1;
            }
        } else if (strcmp(a, "--max-body") == 0) {
            if (cli_parse_i64(v, &n) != 0 || n > (int64_t)1 << 30)
                return cli_usage_error("--max-body takes 1 to 1073741824");
            o.max_body = (size_t)n;
        } else if (strcmp(a, "--timeout") == 0) {
            if (cli_parse_i64(v, &n) != 0 || n > 86400)
                return cli_usage_error("--timeout takes 1 to 86400 seconds");
            o.timeout = (unsigned)n;
        } else if (strcmp(a, "--cache") == 0) {
            if (cli_parse_i64(v, &n) != 0 || n > 1000000)
                return cli_usage_error("--cache takes 1 to 1000000");
            o.cache_entries = (size_t)n;
        } else if (strcmp(a, "--port-file") == 0) {
            o.port_file = v;
        } else {
            return cli_bad_option("serve", a, 0, value_opts,
                                  (const char *const[]){"--access-log", NULL});
        }
    }
    if (!burst_set)
        o.burst = 2 * o.rate;
    if (o.rate > 0 && o.burst < 1)
        return cli_usage_error("--burst must be at least 1");

    if ((rc = ws_open(&ws)) != 0)
        return rc;
    /* Each user the server signs for must exist with a key it can read. */
    for (i = 0; i < o.n_sign_for; i++) {
        char path[4096];
        aipm_key k;

        if (aipm_key_path(path, sizeof(path), o.sign_for[i], &err) != 0 ||
            aipm_key_load(&k, path, &err) != 0) {
            ws_close(&ws);
            fprintf(stderr, "aipm: --sign-for %s: %s\n", o.sign_for[i],
                    err.msg);
            return EXIT_USAGE;
        }
        sodium_memzero(&k, sizeof(k));
    }
    o.dir = ws.dir;
    o.yaml = access(ws.yaml, F_OK) == 0 ? ws.yaml : "";
    o.store_url = ws.store_url;
    o.checkpoint = ws.checkpoint;
    o.graph_snapshot = ws.graph_snapshot;
    /* The server opens its own connections: this one is closed, but the
     * workspace's paths (in ws) stay. */
    aipm_store_close(ws.store);
    ws.store = NULL;
    rc = srv_run(&o) == 0 ? EXIT_OK : EXIT_INTERNAL;
    ws_close(&ws);
    return rc;
}
