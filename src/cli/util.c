/* util.c - the command line's shared helpers: workspace, errors, output,
 * the progress bar and the human form of a quality report. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("aipm: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

int cli_fail(const aipm_error *err)
{
    int code = err ? err->code : AIPM_ERROR;
    const char *msg = err && err->msg[0] ? err->msg : "unknown error";
    char line[sizeof(err->msg)];
    size_t i;

    /* One line, always. */
    snprintf(line, sizeof(line), "%s", msg);
    for (i = 0; line[i]; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    fprintf(stderr, "aipm: %s\n", line);
    switch (code) {
    case AIPM_EINVALID:
    case AIPM_ENOTFOUND:
    case AIPM_EEXISTS:
    case AIPM_EIO:
        return EXIT_USAGE;
    case AIPM_EBLOCKED:
        return EXIT_BLOCKED;
    default:
        return EXIT_INTERNAL;
    }
}

/* The store's lock wait: a line on stderr every few seconds. */
static void on_wait(void *ctx, const char *store, double waited)
{
    (void)ctx;
    fprintf(stderr,
            "aipm: waiting for another aipm writing to %s (%.0f s so far%s)"
            "...\n",
            store, waited,
            g_cli.wait_seconds >= 0 ? "; --wait bounds it" : "; Ctrl-C stops");
}

static int ws_open_mode(workspace *ws, int readonly)
{
    aipm_error err = {0, ""};
    struct stat sb;
    const char *store;
    int rc, repaired = 0;

    memset(ws, 0, sizeof(*ws));
    aipm_store_set_wait(g_cli.wait_seconds, on_wait, NULL);
    if (realpath(g_cli.dir, ws->dir) == NULL)
        return cli_usage_error("workspace '%s': %s", g_cli.dir,
                               strerror(errno));
    snprintf(ws->yaml, sizeof(ws->yaml), "%s/aipm.yaml", ws->dir);
    snprintf(ws->checkpoint, sizeof(ws->checkpoint), "%s/audit-checkpoint",
             ws->dir);
    if (stat(ws->yaml, &sb) != 0 && g_cli.store_url == NULL)
        return cli_usage_error("no aipm workspace in %s (no aipm.yaml); run "
                               "`aipm init %s` or pass -C DIR",
                               ws->dir, g_cli.dir);
    if (stat(ws->yaml, &sb) != 0) {
        /* --store without a workspace: defaults, and the audit checkpoint
         * beside the store file. */
        const char *slash = strrchr(g_cli.store_url, '/');

        if ((rc = aipm_config_new_default(&ws->config, &err)) != 0)
            return cli_fail(&err);
        if (slash)
            snprintf(ws->checkpoint, sizeof(ws->checkpoint),
                     "%.*s/audit-checkpoint", (int)(slash - g_cli.store_url),
                     g_cli.store_url);
        else
            snprintf(ws->checkpoint, sizeof(ws->checkpoint),
                     "audit-checkpoint");
    } else if ((rc = aipm_config_load(&ws->config, ws->yaml, &err)) != 0) {
        return cli_fail(&err);
    }
    {
        const char *slash = strrchr(ws->checkpoint, '/');

        snprintf(ws->graph_snapshot, sizeof(ws->graph_snapshot),
                 "%.*sgraph.snapshot",
                 slash ? (int)(slash - ws->checkpoint + 1) : 0, ws->checkpoint);
    }
    /* The store: --store as given (relative to the current folder, like
     * any path on the command line); else aipm.yaml's `store:`, a relative
     * path being relative to the workspace (not to where aipm runs, so -C
     * works from anywhere); else the workspace's own aipm.db. */
    store = ws->config->store && ws->config->store[0] ? ws->config->store
                                                      : "aipm.db";
    if (strncmp(store, "sqlite:", 7) == 0 && strstr(store, "://") == NULL)
        store += 7;
    if (g_cli.store_url)
        snprintf(ws->store_url, sizeof(ws->store_url), "%s", g_cli.store_url);
    else if (store[0] != '/' && strstr(store, "://") == NULL)
        snprintf(ws->store_url, sizeof(ws->store_url), "%s/%s", ws->dir, store);
    else
        snprintf(ws->store_url, sizeof(ws->store_url), "%s", store);
    if ((rc = aipm_store_open(&ws->store, ws->store_url,
                              readonly ? AIPM_STORE_READONLY : 0, &err)) != 0) {
        ws_close(ws);
        return cli_fail(&err);
    }
    /* A writer first brings a lagging audit checkpoint up to the log (a
     * command killed between its commit and the checkpoint's write), with
     * an audit entry saying so. */
    if (!readonly && (rc = aipm_audit_checkpoint_sync(ws->store, ws->checkpoint,
                                                      &repaired, &err)) != 0) {
        ws_close(ws);
        return cli_fail(&err);
    }
    if (repaired)
        fprintf(stderr,
                "aipm: note: the audit checkpoint %s lagged the log; it was "
                "repaired (see `aipm audit log`)\n",
                ws->checkpoint);
    return EXIT_OK;
}

int ws_open(workspace *ws)
{
    return ws_open_mode(ws, 0);
}

int ws_open_ro(workspace *ws)
{
    return ws_open_mode(ws, 1);
}

void ws_close(workspace *ws)
{
    aipm_store_close(ws->store);
    aipm_config_free(ws->config);
    ws->store = NULL;
    ws->config = NULL;
}

void cli_print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
}

int cli_bad_arg(const char *cmd, const char *arg, int is_last,
                const char *const *value_opts)
{
    for (; value_opts && *value_opts; value_opts++)
        if (is_last && strcmp(arg, *value_opts) == 0)
            return cli_usage_error("%s needs a value; see `aipm %s -h`", arg,
                                   cmd);
    return cli_usage_error("unknown argument '%s'; see `aipm %s -h`", arg, cmd);
}

int cli_has_arg(int argc, char **argv, const char *arg)
{
    int i;

    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], arg) == 0)
            return 1;
    return 0;
}

int cli_parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno || v <= 0)
        return -1;
    *out = v;
    return 0;
}

/* ---- progress bar ---- */

static struct {
    int64_t started_ms, last_ms;
    int shown;
} bar;

void cli_progress(void *ctx, uint64_t done, uint64_t total)
{
    const char *label = ctx;
    int64_t now = aipm_clock_ms();
    char line[160];
    int width = 30, fill, n;
    double secs, mb = (double)done / 1e6;

    if (!g_cli.tty)
        return;
    if (bar.started_ms == 0)
        bar.started_ms = now;
    if (now - bar.last_ms < 100 && done < total)
        return;
    bar.last_ms = now;
    secs = (double)(now - bar.started_ms) / 1000.0;
    fill = total ? (int)((double)done / (double)total * width) : 0;
    if (fill > width)
        fill = width;
    n = snprintf(line, sizeof(line), "\r%-20.20s [", label ? label : "");
    for (int i = 0; i < width && n < (int)sizeof(line) - 1; i++)
        line[n++] = i < fill ? '#' : '.';
    snprintf(line + n, sizeof(line) - (size_t)n,
             "] %3.0f%%  %.1f MB  %.1f MB/s ",
             total ? 100.0 * (double)done / (double)total : 0.0, mb,
             secs > 0 ? mb / secs : 0.0);
    fputs(line, stderr);
    fflush(stderr);
    bar.shown = 1;
}

void cli_progress_end(void)
{
    if (bar.shown)
        fputs("\r\033[K", stderr);
    bar.shown = 0;
    bar.started_ms = 0;
    bar.last_ms = 0;
}

/* ---- raw bytes ---- */

void cli_print_raw(FILE *out, const char *raw, size_t len, size_t max)
{
    size_t i;

    for (i = 0; i < len && i < max; i++) {
        unsigned char c = (unsigned char)raw[i];
        size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

        if (c >= 0x20 && c < 0x7f) {
            fputc(c, out);
        } else if (c >= 0xc0 && n <= len - i && aipm_utf8_valid(raw + i, n)) {
            /* A whole, valid multi-byte character: print it as it is. */
            fwrite(raw + i, 1, n, out);
            i += n - 1;
        } else {
            fprintf(out, "\\x%02x", c);
        }
    }
    if (len > max)
        fprintf(out, "... (%zu bytes)", len);
}

json_t *cli_raw_json(const char *raw, size_t len)
{
    aipm_buf b;
    json_t *v;
    size_t i;

    if (aipm_utf8_valid(raw, len))
        return json_stringn(raw, len);
    aipm_buf_init(&b, len * 4 + 16);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];

        if (c < 0x80)
            aipm_buf_put(&b, raw + i, 1);
        else
            aipm_buf_printf(&b, "\\x%02x", c);
    }
    v = json_stringn(aipm_buf_cstr(&b), b.len);
    aipm_buf_free(&b);
    return v;
}

/* ---- the human quality report ---- */

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "";
}

static long long num(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static void print_gate(FILE *out, json_t *g)
{
    const char *name = str(g, "gate"), *result = str(g, "result");

    if (strcmp(name, "quarantine_share") == 0)
        fprintf(out, "  %-18s %.2f%% of rows (blocked above %.2f%%)",
                "quarantine share",
                100 * json_real_value(json_object_get(g, "value")),
                100 * json_real_value(json_object_get(g, "threshold")));
    else if (strcmp(name, "schema") == 0)
        fprintf(out,
                "  %-18s %lld type change(s), %lld mismatched row(s) "
                "(on_schema_change: %s)",
                "schema", num(g, "changes"), num(g, "type_mismatch_rows"),
                str(g, "on_schema_change"));
    else if (strcmp(name, "freshness") == 0) {
        if (json_object_get(g, "max_age_hours"))
            fprintf(out, "  %-18s newest %s, %.1f h old (max %.0f h)",
                    "freshness", str(g, "newest"),
                    json_real_value(json_object_get(g, "age_hours")),
                    json_real_value(json_object_get(g, "max_age_hours")));
        else
            fprintf(out, "  %-18s newest %s, %.1f h old (not gated)",
                    "freshness", str(g, "newest"),
                    json_real_value(json_object_get(g, "age_hours")));
    } else if (strcmp(name, "volume") == 0) {
        json_t *t = json_object_get(g, "trailing_daily_mean");

        if (json_is_null(t) || t == NULL)
            fprintf(out, "  %-18s %.1f rows/day; no trailing history", "volume",
                    json_real_value(json_object_get(g, "batch_daily_mean")));
        else
            fprintf(out,
                    "  %-18s %.1f rows/day vs trailing %.1f/day over %lld "
                    "days (x%.2f)",
                    "volume",
                    json_real_value(json_object_get(g, "batch_daily_mean")),
                    json_real_value(t), num(g, "trailing_days"),
                    json_real_value(json_object_get(g, "ratio")));
    } else
        fprintf(out, "  %-18s", name);
    fprintf(out, "  %s\n", result);
}

void cli_print_report(FILE *out, const char *report_json)
{
    json_error_t jerr;
    json_t *r = json_loads(report_json, 0, &jerr), *v;
    const char *key;
    size_t i;
    int shown = 0;

    if (r == NULL) {
        fprintf(out, "  (no report)\n");
        return;
    }
    fprintf(out, "batch %lld  %s  %s\n", num(r, "batch_id"), str(r, "dataset"),
            str(r, "source"));
    fprintf(out, "  %-18s %s\n", "source sha256", str(r, "source_sha256"));
    fprintf(out, "  %-18s %lld\n", "read", num(r, "read"));
    fprintf(out, "  %-18s %lld\n", "accepted", num(r, "accepted"));
    fprintf(out, "  %-18s %lld\n", "duplicates", num(r, "duplicates"));
    fprintf(out, "  %-18s %lld", "quarantined", num(r, "quarantined"));
    json_object_foreach(json_object_get(r, "quarantine_reasons"), key, v)
        fprintf(out, "%s%s %lld", shown++ ? ", " : "  (", key,
                (long long)json_integer_value(v));
    fprintf(out, "%s\n", shown ? ")" : "");
    fprintf(out, "  %-18s %zu\n", "schema changes",
            json_array_size(json_object_get(r, "schema_changes")));
    json_array_foreach(json_object_get(r, "schema_changes"), i, v) fprintf(
        out, "    %s.%s: %s -> %s (version %lld)\n", str(v, "event"),
        str(v, "property"), str(v, "from"), str(v, "to"), num(v, "version"));
    shown = 0;
    json_array_foreach(json_object_get(r, "null_rates"), i, v)
    {
        double rate = json_real_value(json_object_get(v, "null_rate"));

        if (rate <= 0)
            continue;
        if (shown++ == 0)
            fprintf(out, "  %-18s\n", "null rates");
        if (shown > 12)
            continue;
        if (*str(v, "event")) {
            char name[160];

            snprintf(name, sizeof(name), "%s.%s", str(v, "event"),
                     str(v, "property"));
            fprintf(out, "    %-40s %5.1f%%\n", name, 100 * rate);
        } else {
            fprintf(out, "    %-40s %5.1f%%\n", str(v, "property"), 100 * rate);
        }
    }
    if (shown > 12)
        fprintf(out, "    ... %d more (see --json)\n", shown - 12);
    json_array_foreach(json_object_get(r, "gates"), i, v) print_gate(out, v);
    if (json_object_get(r, "note"))
        fprintf(out, "  %-18s %s\n", "note", str(r, "note"));
    fprintf(out, "  %-18s %s (%s)\n", "verdict", str(r, "verdict"),
            str(r, "status"));
    json_decref(r);
}
