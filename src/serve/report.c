/* report.c - `aipm report`: one self-contained HTML file with the
 * dashboard's charts and tables as of now.
 *
 * The report is the web UI without the server: its documents are the
 * API's, computed in process by the same routes (srv_get), gathered into
 * one JSON object keyed by API path, and written into the page with the
 * UI's styles, Chart.js and the UI's renderers (ui.js, render.js,
 * render_ops.js, report.js)
 * inlined, so the file opens anywhere, offline. The page's own CSP lets it
 * reach nothing: no network, no other file. What goes in: the KPIs,
 * quality, the ranked roadmap, every experiment of aipm.yaml, a forecast
 * of every catalog feature, the models with their production cards,
 * monitoring, the decisions (each proposed one and the newest ones with
 * their provenance), the feedback linked to the backlog's items, the
 * audit log's verification and its last entries.
 * A document the workspace cannot give (no experiment data, no model yet)
 * is left out with the reason, under "missing": the report says what it
 * lacks instead of failing.
 */
#include "serve.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LAST_DECISIONS 20
#define LAST_AUDIT 50

/* The embedded asset at path, or NULL. */
static const srv_asset *asset_find(const char *path)
{
    const srv_asset *a;

    for (a = srv_assets; a->path; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

/* Write text as HTML text (for the title). */
static void put_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

/* Inline an asset inside <tag>...</tag>; an asset that would close the
 * element early is refused. */
static int put_asset(FILE *out, const char *path, const char *tag,
                     aipm_error *err)
{
    const srv_asset *a = asset_find(path);
    size_t i, n;

    if (a == NULL)
        return aipm_error_set(
            err, AIPM_ERROR, "the web UI lacks %s (a build without it?)", path);
    n = strlen(tag);
    for (i = 0; i + n + 2 <= a->len; i++)
        if (a->data[i] == '<' && a->data[i + 1] == '/' &&
            strncasecmp((const char *)a->data + i + 2, tag, n) == 0)
            return aipm_error_set(err, AIPM_ERROR,
                                  "%s holds </%s: it cannot be inlined", path,
                                  tag);
    fprintf(out, "<%s>", tag);
    fwrite(a->data, 1, a->len, out);
    fprintf(out, "</%s>\n", tag);
    return AIPM_OK;
}

typedef struct gather {
    const srv_req *base;
    json_t *docs, *missing;
    int done, total;
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *ctx;
} gather;

/* Get path into the documents; a document the workspace cannot give is
 * noted under "missing" (its message), an error that is the store's or
 * the machine's stops the report. The document is returned borrowed. */
static int get(gather *g, const char *path, json_t **doc, aipm_error *err)
{
    json_t *d = NULL;
    int rc = srv_get(g->base, path, &d, err);

    if (doc)
        *doc = NULL;
    if (g->progress)
        g->progress(g->ctx, (uint64_t)++g->done, (uint64_t)g->total);
    if (rc == AIPM_EINVALID || rc == AIPM_ENOTFOUND || rc == AIPM_EBLOCKED) {
        json_object_set_new(g->missing, path, json_string(err->msg));
        err->code = 0;
        err->msg[0] = '\0';
        return AIPM_OK;
    }
    if (rc != AIPM_OK)
        return rc;
    json_object_set_new(g->docs, path, d);
    if (doc)
        *doc = d;
    return AIPM_OK;
}

int srv_report(const srv_req *base, FILE *out,
               void (*progress)(void *ctx, uint64_t done, uint64_t total),
               void *ctx, int *n_docs, aipm_error *err)
{
    gather g;
    json_t *doc, *decisions, *v, *data = NULL;
    char path[512], when[32];
    size_t i, n;
    int rc = AIPM_OK, k;
    char *text = NULL;
    const char *title;

    memset(&g, 0, sizeof(g));
    g.base = base;
    g.docs = json_object();
    g.missing = json_object();
    g.progress = progress;
    g.ctx = ctx;
    /* the fixed pages, an experiment and a forecast each, two model cards
     * and decisions: the total grows as the lists are read */
    g.total = 11 + base->cfg->n_experiments + base->cfg->n_catalog;

    {
        static const char *const fixed[] = {
            "/api/v1/kpis",         "/api/v1/quality",  "/api/v1/roadmap",
            "/api/v1/experiments",  "/api/v1/models",   "/api/v1/monitoring",
            "/api/v1/audit/verify", "/api/v1/policies", NULL};

        for (k = 0; fixed[k] && rc == AIPM_OK; k++)
            rc = get(&g, fixed[k], NULL, err);
    }
    for (k = 0; k < base->cfg->n_experiments && rc == AIPM_OK; k++) {
        snprintf(path, sizeof(path), "/api/v1/experiments/%s",
                 base->cfg->experiments[k].key);
        rc = get(&g, path, NULL, err);
    }
    for (k = 0; k < base->cfg->n_catalog && rc == AIPM_OK; k++) {
        snprintf(path, sizeof(path), "/api/v1/forecasts/%s",
                 base->cfg->catalog[k].key);
        rc = get(&g, path, NULL, err);
    }
    if (rc == AIPM_OK)
        rc = get(&g, "/api/v1/models/value@production", NULL, err);
    if (rc == AIPM_OK)
        rc = get(&g, "/api/v1/models/adoption@production", NULL, err);

    /* The decisions: every proposed one and the newest others, each with
     * its provenance and acts. */
    if (rc == AIPM_OK)
        rc = get(&g, "/api/v1/decisions", &decisions, err);
    if (rc == AIPM_OK && decisions) {
        json_t *list = json_object_get(decisions, "decisions");

        n = json_array_size(list);
        g.total += (int)n;
        for (i = n; i-- > 0 && rc == AIPM_OK;) {
            const char *status, *id;

            v = json_array_get(list, i);
            status = json_string_value(json_object_get(v, "status"));
            id = json_string_value(json_object_get(v, "id"));
            if (id == NULL || (n - i > LAST_DECISIONS &&
                               (status == NULL || strcmp(status, "proposed"))))
                continue;
            snprintf(path, sizeof(path), "/api/v1/decisions/%s", id);
            rc = get(&g, path, NULL, err);
        }
    }

    /* The feedback behind the roadmap's items: the rows linked to some
     * item, without their candidates (the review queue's, not the
     * report's). */
    if (rc == AIPM_OK) {
        g.total++;
        rc = get(&g, "/api/v1/feedback", &doc, err);
    }
    if (rc == AIPM_OK && doc) {
        json_t *rows = json_object_get(doc, "links");

        for (i = json_array_size(rows); i-- > 0;) {
            v = json_array_get(rows, i);
            if (json_array_size(json_object_get(v, "items")) == 0)
                json_array_remove(rows, i);
            else
                json_object_del(v, "candidates");
        }
    }

    /* The audit log's last entries (the head; verify has the whole). */
    if (rc == AIPM_OK &&
        (rc = srv_get(base, "/api/v1/audit", &doc, err)) == AIPM_OK) {
        json_t *entries = json_object_get(doc, "entries");

        while (json_array_size(entries) > LAST_AUDIT)
            json_array_remove(entries, 0);
        json_object_set_new(g.docs, "/api/v1/audit", doc);
    }
    if (progress)
        progress(ctx, (uint64_t)g.total, (uint64_t)g.total);
    if (rc != AIPM_OK)
        goto done;

    aipm_time_format(when, base->now_ms);
    title = strrchr(base->opts->dir, '/');
    title = title && title[1] ? title + 1 : base->opts->dir;
    data = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "generated", when,
                     "version", AIPM_VERSION, "workspace", title, "user",
                     base->user, "documents", g.docs, "missing", g.missing);
    /* JSON_ESCAPE_SLASH writes "</script>" in a text as "<\/script>", so
     * no text from the data can close the element it sits in. */
    text = data ? json_dumps(data, JSON_COMPACT | JSON_ESCAPE_SLASH) : NULL;
    if (text == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    fputs("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta "
          "charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
          "'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
          "img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, "
          "initial-scale=1\">\n<title>aipm decision report: ",
          out);
    put_escaped(out, title);
    fprintf(out, ", %.10s</title>\n", when);
    if ((rc = put_asset(out, "/app.css", "style", err)) != AIPM_OK)
        goto done;
    fputs(
        "</head>\n<body data-report=\"1\">\n<script type=\"application/json\" "
        "id=\"aipm-data\">",
        out);
    fputs(text, out);
    fputs("</script>\n", out);
    if ((rc = put_asset(out, "/chart.min.js", "script", err)) != AIPM_OK ||
        (rc = put_asset(out, "/ui.js", "script", err)) != AIPM_OK ||
        (rc = put_asset(out, "/render.js", "script", err)) != AIPM_OK ||
        (rc = put_asset(out, "/render_ops.js", "script", err)) != AIPM_OK ||
        (rc = put_asset(out, "/report.js", "script", err)) != AIPM_OK)
        goto done;
    fputs("</body>\n</html>\n", out);
    if (fflush(out) != 0 || ferror(out))
        rc = aipm_error_set(err, AIPM_EIO, "the report could not be written");
    if (n_docs)
        *n_docs = (int)json_object_size(g.docs);
done:
    free(text);
    json_decref(data);
    json_decref(g.docs);
    json_decref(g.missing);
    return rc;
}
