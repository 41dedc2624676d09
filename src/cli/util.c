/* util.c - the command line's shared helpers: workspace, errors, output,
 * the progress bar and the human form of a quality report. */
#include "aipm/policy.h"
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A message that ends in strerror(ENOSPC) from any file aipm writes (the
 * store's own full disk is said by the store) gets what to do. */
static const char *full_disk_hint(const char *line)
{
    return strstr(line, strerror(ENOSPC))
               ? ": the disk is full; free some space, then run the command "
                 "again"
               : "";
}

int cli_usage_error(const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "aipm: %s%s\n", line, full_disk_hint(line));
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
    fprintf(stderr, "aipm: %s%s\n", cli_text(line), full_disk_hint(line));
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
static void on_wait(void *ctx, const char *store, const char *holder,
                    double waited)
{
    (void)ctx;
    fprintf(stderr, "aipm: waiting for %s writing to %s (%.0f s so far%s)...\n",
            holder ? cli_text(holder) : "another process", store, waited,
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
    if (stat(ws->yaml, &sb) != 0 && g_cli.store_url == NULL) {
        char db[4200];

        /* What an init killed between its moves leaves (cmd_init.c). */
        snprintf(db, sizeof(db), "%s/aipm.db", ws->dir);
        if (lstat(db, &sb) == 0)
            return cli_usage_error("%s holds aipm.db but no aipm.yaml (left "
                                   "by an interrupted `aipm init`?); move "
                                   "aipm.db, aipm.db-* and audit-checkpoint "
                                   "away and run `aipm init %s`, or pass "
                                   "--store",
                                   ws->dir, g_cli.dir);
        return cli_usage_error("no aipm workspace in %s (no aipm.yaml); run "
                               "`aipm init %s` or pass -C DIR",
                               ws->dir, g_cli.dir);
    }
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
    aipm_config_policy_sha256(ws->config, ws->policy_sha256);
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
    /* The events store: --events-store, else aipm.yaml's events_store:. */
    {
        const char *events =
            g_cli.events_url ? g_cli.events_url : ws->config->events_store;
        size_t n = strlen(ws->store_url);

        if (events && *events &&
            snprintf(ws->store_url + n, sizeof(ws->store_url) - n, "#events=%s",
                     events) >= (int)(sizeof(ws->store_url) - n))
            return cli_usage_error("the events store URL is too long");
    }
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
    /* A writer also records the policies of aipm.yaml when they changed
     * since the last version recorded (an edit, found here). */
    if (!readonly && !g_cli.no_policy_detect) {
        int recorded = 0;

        if ((rc = aipm_policy_record(ws->store, ws->config, NULL, aipm_now_ms(),
                                     ws->checkpoint, &recorded, &err)) != 0) {
            ws_close(ws);
            return cli_fail(&err);
        }
        if (recorded && g_cli.tty)
            fprintf(stderr,
                    "aipm: note: the policies of aipm.yaml changed; version "
                    "%.12s is recorded in the audit log (`aipm policy set "
                    "--reason` says why)\n",
                    ws->policy_sha256);
    }
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

/* ---- did you mean ---- */

/* The optimal string alignment distance (Damerau-Levenshtein restricted
 * to adjacent transpositions: "ingset" is one edit from "ingest"), three
 * rolling rows; words longer than 63 bytes are never close to anything. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    int rows[3][64], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

    if (la > 63 || lb > 63)
        return 64;
    for (j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (i = 1; i <= la; i++) {
        int *t;

        cur[0] = (int)i;
        for (j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1], d = prev[j - 1] + cost;

            if (prev[j] + 1 < d)
                d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
                d = prev2[j - 2] + 1;
            cur[j] = d;
        }
        t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *cli_suggest(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    int best_d = 3;

    for (; candidates && *candidates; candidates++) {
        const char *c = *candidates;
        size_t letters = strlen(c) - strspn(c, "-");
        /* One edit for short names, two from five letters on: "kpo" is
         * kpi, but "ab" is not "kpi". */
        int d = edit_distance(word, c), allowed = letters >= 5 ? 2 : 1;

        if (d <= allowed && d < best_d) {
            best = c;
            best_d = d;
        }
    }
    return best;
}

static const char *find_opt(const char *arg, size_t len,
                            const char *const *opts)
{
    for (; opts && *opts; opts++)
        if (strlen(*opts) == len && strncmp(arg, *opts, len) == 0)
            return *opts;
    return NULL;
}

int cli_bad_option(const char *cmd, const char *arg, int is_last,
                   const char *const *value_opts, const char *const *flag_opts)
{
    const char *eq = strchr(arg, '='), *hint;
    const char *all[64];
    int n = 0;

    if (is_last && find_opt(arg, strlen(arg), value_opts))
        return cli_usage_error("%s needs a value; see `aipm %s -h`", arg, cmd);
    /* What was typed may hold anything: it is echoed escaped. */
    if (arg[0] != '-' || arg[1] == '\0')
        return cli_usage_error("unexpected argument '%s'; see `aipm %s -h`",
                               cli_text(arg), cmd);
    if (eq && find_opt(arg, (size_t)(eq - arg), value_opts))
        return cli_usage_error("write '%.*s %s' as two arguments; see `aipm "
                               "%s -h`",
                               (int)(eq - arg), arg, cli_text(eq + 1), cmd);
    for (; value_opts && *value_opts && n < 63; value_opts++)
        all[n++] = *value_opts;
    for (; flag_opts && *flag_opts && n < 63; flag_opts++)
        all[n++] = *flag_opts;
    all[n] = NULL;
    if ((hint = cli_suggest(arg, all)) != NULL)
        return cli_usage_error("unknown option '%s' for `aipm %s`; did you "
                               "mean '%s'? (see `aipm %s -h`)",
                               cli_text(arg), cmd, hint, cmd);
    return cli_usage_error("unknown option '%s' for `aipm %s`; see `aipm %s "
                           "-h`",
                           cli_text(arg), cmd, cmd);
}

int cli_bad_subcommand(const char *cmd, const char *sub,
                       const char *const *subs)
{
    const char *hint = cli_suggest(sub, subs);
    char list[256] = "";
    size_t n = 0;

    for (; subs && *subs && n < sizeof(list); subs++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "",
                              *subs);
    if (hint)
        return cli_usage_error("unknown subcommand 'aipm %s %s'; did you mean "
                               "'aipm %s %s'?",
                               cmd, cli_text(sub), cmd, hint);
    return cli_usage_error("unknown subcommand 'aipm %s %s' (%s); see `aipm "
                           "%s -h`",
                           cmd, cli_text(sub), list, cmd);
}

int cli_bad_arg(const char *cmd, const char *arg, int is_last,
                const char *const *value_opts)
{
    return cli_bad_option(cmd, arg, is_last, value_opts, NULL);
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

/* One bar: "label [####......]  42%  <tail>", at most ten a second, on
 * stderr and only when it is a terminal (a log file or a pipe gets no
 * carriage returns). */
static void draw(const char *label, uint64_t done, uint64_t total,
                 const char *tail)
{
    int64_t now = aipm_clock_ms();
    char line[200];
    int width = 30, fill, n;

    if (!g_cli.tty)
        return;
    if (bar.started_ms == 0)
        bar.started_ms = now;
    if (now - bar.last_ms < 100 && done < total)
        return;
    bar.last_ms = now;
    fill = total ? (int)((double)done / (double)total * width) : 0;
    if (fill > width)
        fill = width;
    n = snprintf(line, sizeof(line), "\r%-20.20s [", label ? label : "");
    for (int i = 0; i < width && n < (int)sizeof(line) - 1; i++)
        line[n++] = i < fill ? '#' : '.';
    snprintf(line + n, sizeof(line) - (size_t)n, "] %3.0f%%  %s ",
             total ? 100.0 * (double)done / (double)total : 0.0, tail);
    fputs(line, stderr);
    fflush(stderr);
    bar.shown = 1;
}

void cli_progress(void *ctx, uint64_t done, uint64_t total)
{
    double secs, mb = (double)done / 1e6;
    char tail[64];

    if (!g_cli.tty)
        return;
    secs = bar.started_ms ? (double)(aipm_clock_ms() - bar.started_ms) / 1000.0
                          : 0.0;
    snprintf(tail, sizeof(tail), "%.1f MB  %.1f MB/s", mb,
             secs > 0 ? mb / secs : 0.0);
    draw(ctx, done, total, tail);
}

void cli_progress_count(void *ctx, uint64_t done, uint64_t total)
{
    char tail[64];

    if (!g_cli.tty)
        return;
    snprintf(tail, sizeof(tail), "%llu of %llu", (unsigned long long)done,
             (unsigned long long)total);
    draw(ctx, done, total, tail);
}

void cli_progress_end(void)
{
    if (bar.shown)
        fputs("\r\033[K", stderr);
    bar.shown = 0;
    bar.started_ms = 0;
    bar.last_ms = 0;
}

/* ---- text from data ---- */

const char *cli_text(const char *s)
{
    /* Rotating buffers so that one printf can take several; the CLI
     * prints from one thread. */
    static char bufs[8][4096];
    static int next;
    char *out = bufs[next], *p = out;
    const char *end = out + sizeof(bufs[0]) - 12; /* an escape, "..." */
    size_t len = s ? strlen(s) : 0, i;

    next = (next + 1) % 8;
    for (i = 0; i < len && p < end; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

        if (c >= 0x20 && c < 0x7f) {
            *p++ = (char)c;
        } else if (c == 0xc2 && i + 1 < len &&
                   (unsigned char)s[i + 1] >= 0x80 &&
                   (unsigned char)s[i + 1] <= 0x9f) {
            /* A C1 control (U+0080..U+009F): CSI is U+009B. */
            p += snprintf(p, 8, "\\u%04x", (unsigned char)s[++i]);
        } else if (c >= 0xc0 && n <= len - i && aipm_utf8_valid(s + i, n) &&
                   p + n < end) {
            memcpy(p, s + i, n);
            p += n;
            i += n - 1;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            *p++ = '\\';
            *p++ = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
        } else {
            /* C0 controls, DEL, bytes of no valid UTF-8 character. */
            p += snprintf(p, 8, "\\x%02x", c);
        }
    }
    if (i < len) {
        memcpy(p, "...", 3);
        p += 3;
    }
    *p = '\0';
    return out;
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
        } else if (c == 0xc2 && i + 1 < len &&
                   (unsigned char)raw[i + 1] <= 0x9f) {
            /* A C1 control (U+0080..U+009F) or a broken sequence. */
            fprintf(out, "\\x%02x", c);
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
    /* Escape only the bytes that are not part of a valid character, as
     * cli_print_raw does: one bad byte must not garble the rest. */
    aipm_buf_init(&b, len * 4 + 16);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

        if (c < 0x80) {
            aipm_buf_put(&b, raw + i, 1);
        } else if (c >= 0xc0 && n <= len - i && aipm_utf8_valid(raw + i, n)) {
            aipm_buf_put(&b, raw + i, n);
            i += n - 1;
        } else {
            aipm_buf_printf(&b, "\\x%02x", c);
        }
    }
    v = json_stringn(aipm_buf_cstr(&b), b.len);
    aipm_buf_free(&b);
    return v;
}

/* ---- the human quality report ---- */

static const char *str(json_t *o, const char *k)
{
    /* Names in a report come from data (events, properties, sources). */
    return cli_text(json_string_value(json_object_get(o, k)));
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
    } else if (strcmp(name, "future_timestamps") == 0) {
        fprintf(out, "  %-18s newest %s, %.1f h after now", "future rows",
                str(g, "newest"),
                json_real_value(json_object_get(g, "hours_ahead")));
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
        fprintf(out, "%s%s %lld", shown++ ? ", " : "  (", cli_text(key),
                (long long)json_integer_value(v));
    fprintf(out, "%s\n", shown ? ")" : "");
    shown = 0;
    json_object_foreach(json_object_get(r, "quarantine_not_stored"), key, v)
    {
        if (shown++ == 0)
            fprintf(out, "  %-18s", "not stored");
        fprintf(out, "%s%lld %s", shown > 1 ? ", " : " ",
                (long long)json_integer_value(v), cli_text(key));
    }
    if (shown)
        fprintf(out,
                "  (counted; raw text kept for the first %lld per "
                "reason: max_quarantine_samples)\n",
                num(r, "max_quarantine_samples"));
    if (json_object_get(r, "key_conflicts")) {
        fprintf(out, "  %-18s %lld", "key conflicts", num(r, "key_conflicts"));
        shown = 0;
        json_array_foreach(json_object_get(r, "key_conflict_samples"), i, v)
            fprintf(out, "%s%s",
                    shown++ ? ", "
                            : "  (same key, other "
                              "content in this file: ",
                    cli_text(json_string_value(v)));
        if (shown && num(r, "key_conflicts") > shown)
            fprintf(out, ", ...");
        fprintf(out, "%s\n", shown ? ")" : "");
    }
    shown = 0;
    json_array_foreach(json_object_get(r, "ignored_columns"), i, v)
        fprintf(out, "%s%s", shown++ ? ", " : "  ignored columns    ",
                cli_text(json_string_value(v)));
    if (shown)
        fprintf(out, "  (not in the contract)\n");
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

int cli_sim_option(int argc, char **argv, int *i, uint64_t *seed, int *threads,
                   int64_t *version)
{
    const char *a = argv[*i];
    int64_t v;

    if (*i + 1 >= argc)
        return 0;
    if (strcmp(a, "--seed") == 0) {
        const char *t = argv[++*i];
        char *end;
        unsigned long long u;

        errno = 0;
        u = strtoull(t, &end, 10);
        if (*t < '0' || *t > '9' || *end != '\0' || errno != 0)
            return cli_usage_error("--seed needs a whole number from 0 to "
                                   "2^64 - 1"),
                   -1;
        *seed = (uint64_t)u;
    } else if (strcmp(a, "--threads") == 0) {
        if (cli_parse_i64(argv[++*i], &v) != 0 || v < 1 ||
            v > AIPM_SIM_MAX_THREADS)
            return cli_usage_error("--threads needs a number in [1, %d]",
                                   AIPM_SIM_MAX_THREADS),
                   -1;
        *threads = (int)v;
    } else if (strcmp(a, "--model-version") == 0) {
        if (cli_parse_i64(argv[++*i], version) != 0 || *version < 1)
            return cli_usage_error("--model-version needs a version number "
                                   "(aipm model list shows them)"),
                   -1;
    } else
        return 0;
    return 1;
}

int cli_sim_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    return cpus < 1                      ? 1
           : cpus > AIPM_SIM_MAX_THREADS ? AIPM_SIM_MAX_THREADS
                                         : (int)cpus;
}
