/* store.c - URL dispatch and the public store API.
 *
 * aipm_store_open picks a backend from the URL scheme; every other public
 * function forwards to the backend's ops table (store_int.h). Keeping this
 * file free of SQL is what lets a second backend slot in beside SQLite.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- passwords out of messages ----
 *
 * A store URL may carry a password two ways: as the userinfo of any
 * scheme ("scheme://user:PASS@host/..."; libpq ends the authority only at
 * '/', so the password runs from the first ':' to the LAST '@' before the
 * first '/', and may hold '?', '#' or '@'), and as key=value or key: value
 * parameters ("?password=PASS&...", "host=h password=PASS", "sslpassword=",
 * quoted values, any case of the key). secret_ranges finds every such
 * value; the redacted form replaces each with "***". */

typedef struct span {
    size_t start, end; /* [start, end) in the URL */
} span;

#define MAX_SPANS 16

/* Whether a "password" key starts at s (any case, e.g. the tail of
 * "sslpassword"): its value's span, relative to s, into *v; *after is
 * where scanning resumes. 1 yes, 0 no. */
static int password_key(const char *s, span *v, size_t *after)
{
    size_t j = 8;

    if (strncasecmp(s, "password", 8) != 0)
        return 0;
    if (s[j] == '"' || s[j] == '\'')
        j++; /* a quoted key: "password": "x" */
    while (s[j] == ' ' || s[j] == '\t')
        j++;
    if (s[j] != '=' && s[j] != ':')
        return 0;
    j++;
    while (s[j] == ' ' || s[j] == '\t')
        j++;
    if (s[j] == '\'' || s[j] == '"') {
        const char *close = strchr(s + j + 1, s[j]);

        v->start = j + 1;
        v->end = close ? (size_t)(close - s) : strlen(s);
        *after = close ? v->end + 1 : v->end;
        return 1;
    }
    v->start = j;
    v->end = j + strcspn(s + j, " \t\r\n&#;,}\"'");
    *after = v->end;
    return 1;
}

/* The spans of every password in url, in order, into spans (at most
 * MAX_SPANS; past that the rest of the URL is one span). Returns the
 * count. */
static size_t secret_ranges(const char *url, span spans[MAX_SPANS])
{
    const char *scheme = strstr(url, "://");
    size_t n = 0, i = 0, len = strlen(url);
    span ui = {0, 0};

    if (scheme) {
        const char *host = scheme + 3, *slash = host + strcspn(host, "/");
        const char *at = slash, *colon;

        while (at > host && at[-1] != '@')
            at--;
        if (at > host) {
            at--; /* the last '@' of the authority */
            colon = memchr(host, ':', (size_t)(at - host));
            if (colon && colon + 1 < at) {
                ui.start = (size_t)(colon + 1 - url);
                ui.end = (size_t)(at - url);
            }
        }
    }
    while (i < len) {
        span v;
        size_t after;

        if (n == MAX_SPANS - 1) {
            spans[n].start = i; /* too many: hide the rest */
            spans[n++].end = len;
            break;
        }
        if (ui.end > ui.start && i == ui.start) {
            spans[n++] = ui;
            i = ui.end;
        } else if (password_key(url + i, &v, &after)) {
            v.start += i;
            v.end += i;
            after += i;
            if (ui.end > ui.start && ui.start >= i && ui.start < after) {
                /* the key's value runs into the userinfo: hide both */
                if (ui.end > v.end)
                    v.end = after = ui.end;
                ui.end = ui.start;
            }
            if (v.end > v.start)
                spans[n++] = v;
            i = after > i ? after : i + 1;
        } else {
            i++;
        }
    }
    return n;
}

void aipm_store_url_redact(char *out, size_t cap, const char *url)
{
    span spans[MAX_SPANS];
    size_t n, k, from = 0, used = 0;

    if (cap == 0)
        return;
    out[0] = '\0';
    n = secret_ranges(url, spans);
    for (k = 0; k <= n; k++) {
        size_t to = k < n ? spans[k].start : strlen(url);
        int w = snprintf(out + used, cap - used, "%.*s%s", (int)(to - from),
                         url + from, k < n ? "***" : "");

        if (w < 0 || (size_t)w >= cap - used)
            return; /* truncated, still NUL-terminated */
        used += (size_t)w;
        from = k < n ? spans[k].end : to;
    }
}

/* Replace every occurrence of from (not empty) in msg (cap bytes) with to;
 * what does not fit is cut. */
static void msg_replace(char *msg, size_t cap, const char *from, const char *to)
{
    char buf[sizeof(((aipm_error *)0)->msg)];
    size_t from_len = strlen(from), used = 0;
    const char *p = msg, *hit;

    if (from_len == 0 || strstr(msg, from) == NULL)
        return;
    buf[0] = '\0';
    while ((hit = strstr(p, from)) != NULL && used < sizeof(buf)) {
        int w = snprintf(buf + used, sizeof(buf) - used, "%.*s%s",
                         (int)(hit - p), p, to);

        used = w < 0 ? sizeof(buf) : used + (size_t)w;
        p = hit + from_len;
    }
    if (used < sizeof(buf))
        snprintf(buf + used, sizeof(buf) - used, "%s", p);
    snprintf(msg, cap, "%s", buf);
}

/* Take every password of url out of err's message, whichever backend
 * wrote it: the URL as given (and as the backend got it) is replaced by
 * its redacted form, then any password still left (a backend may have
 * rewritten the path around it) by "***". */
static void redact_error(aipm_error *err, const char *url,
                         const char *backend_url)
{
    char shown[1024], secret[1024];
    span spans[MAX_SPANS];
    size_t n, k;

    if (err == NULL)
        return;
    aipm_store_url_redact(shown, sizeof(shown), url);
    msg_replace(err->msg, sizeof(err->msg), url, shown);
    if (backend_url != url) {
        aipm_store_url_redact(shown, sizeof(shown), backend_url);
        msg_replace(err->msg, sizeof(err->msg), backend_url, shown);
    }
    n = secret_ranges(url, spans);
    for (k = 0; k < n; k++) {
        size_t len = spans[k].end - spans[k].start;

        /* "***" itself, and 1-2 characters that would blot out ordinary
         * words, are left: the URL forms above already hid them. */
        if (len < 3 || len >= sizeof(secret))
            continue;
        snprintf(secret, sizeof(secret), "%.*s", (int)len,
                 url + spans[k].start);
        if (strcmp(secret, "***") != 0)
            msg_replace(err->msg, sizeof(err->msg), secret, "***");
    }
}

static int has_scheme(const char *url, const char *const *schemes, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0)
            return 1;
    return 0;
}

/* PostgreSQL's URI schemes (libpq), any case: schemes are
 * case-insensitive, RFC 3986 3.1. */
static int pg_scheme(const char *url)
{
    static const char *const schemes[] = {"postgresql://", "postgres://"};

    return has_scheme(url, schemes, sizeof(schemes) / sizeof(schemes[0]));
}

/* Network stores this build recognizes but does not have. */
static int network_scheme(const char *url)
{
    static const char *const schemes[] = {"mysql://", "mariadb://"};

    return has_scheme(url, schemes, sizeof(schemes) / sizeof(schemes[0]));
}

/* A backend whose ops table is of another layout than this build's is
 * closed again, not called through the wrong slots. */
static int check_ops(aipm_store **st, aipm_error *err)
{
    unsigned int v = (*st)->ops->version;

    if (v == AIPM_STORE_OPS_VERSION)
        return AIPM_OK;
    (*st)->ops->close(*st);
    *st = NULL;
    return aipm_error_set(err, AIPM_EINVALID,
                          "store backend implements version %u of the store "
                          "operations; this build needs version %d",
                          v, AIPM_STORE_OPS_VERSION);
}

/* Where an event operation goes: the attached events store, if any. */
static aipm_store *ev(aipm_store *st)
{
    return st->events ? st->events : st;
}

/* The separator of a store URL that names an events store too:
 * META#events=clickhouse://... (ch/ch_int.h). */
#define EVENTS_SEP "#events="

static int open_one(aipm_store **out, const char *url, int flags,
                    aipm_error *err);

/* The metadata store's setting that says where its events are, when not
 * in itself: the events store's URL (redacted), recorded when one is
 * first attached. */
#define EVENTS_SETTING "events_store"

/* The database a clickhouse:// URL names: what follows the host, up to
 * the options. */
static void url_database(char *out, size_t cap, const char *url)
{
    const char *p = strstr(url, "://"), *e;

    p = p ? strchr(p + 3, '/') : NULL;
    if (p == NULL) {
        snprintf(out, cap, "%s", "");
        return;
    }
    p++;
    e = p + strcspn(p, "?#");
    snprintf(out, cap, "%.*s", (int)(e - p), p);
}

/* A store opened without an events store must keep its events itself. */
static int check_events_here(aipm_store *st, aipm_error *err)
{
    char where[1024];
    int rc;

    if (st->ops->setting_get == NULL)
        return AIPM_OK;
    rc = st->ops->setting_get(st, EVENTS_SETTING, where, sizeof(where), err);
    if (rc != 0 || where[0] == '\0')
        return rc;
    return aipm_error_set(err, AIPM_EINVALID,
                          "this workspace keeps its events in ClickHouse "
                          "(%s): name it as events_store: in aipm.yaml (or "
                          "--events-store) to open the workspace",
                          where);
}

static int any_batch(void *ctx, const aipm_batch_info *info)
{
    (void)ctx;
    (void)info;
    return 1;
}

/* Attaching the events store URL to meta: the first time, only when meta
 * holds no events of its own (they would not be read), and recorded;
 * later, only the database recorded. */
static int check_events_there(aipm_store *meta, const char *url, int flags,
                              aipm_error *err)
{
    char where[1024], shown[1024], a[256], b[256];
    int rc;

    if (meta->ops->setting_get == NULL || meta->ops->setting_put == NULL)
        return AIPM_OK;
    aipm_store_url_redact(shown, sizeof(shown), url);
    rc =
        meta->ops->setting_get(meta, EVENTS_SETTING, where, sizeof(where), err);
    if (rc != 0)
        return rc;
    if (where[0] != '\0') {
        url_database(a, sizeof(a), where);
        url_database(b, sizeof(b), url);
        if (strcmp(a, b) == 0)
            return AIPM_OK;
        return aipm_error_set(err, AIPM_EINVALID,
                              "this workspace keeps its events in ClickHouse "
                              "database '%s' (%s), not '%s'",
                              a, where, b);
    }
    rc = meta->ops->batch_list(meta, "events", 0, any_batch, NULL, err);
    if (rc == 1)
        return aipm_error_set(err, AIPM_EINVALID,
                              "events store '%s': this workspace already "
                              "keeps events in its own store, which would no "
                              "longer be read; start a new workspace with "
                              "the events store and ingest its events there",
                              shown);
    if (rc != 0 || (flags & AIPM_STORE_READONLY))
        return rc; /* read-only: nothing to lose, recorded by a writer */
    return meta->ops->setting_put(meta, EVENTS_SETTING, shown, err);
}

/* META#events=URL: the metadata store, then the events store attached to
 * it; the namespace names both, so that opening it again (the graph's
 * second connection) gets both. */
static int open_split(aipm_store **out, const char *url, const char *sep,
                      int flags, aipm_error *err)
{
    const char *events = sep + strlen(EVENTS_SEP);
    char *meta_url = strndup(url, (size_t)(sep - url));
    aipm_store *meta = NULL, *evs = NULL;
    int rc;

    if (meta_url == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if (strncasecmp(events, "clickhouse://", 13) != 0) {
        char shown[1024];

        aipm_store_url_redact(shown, sizeof(shown), events);
        free(meta_url);
        return aipm_error_set(err, AIPM_EINVALID,
                              "events store '%s': only ClickHouse "
                              "(clickhouse://HOST:PORT/DATABASE) keeps events "
                              "apart from the store",
                              shown);
    }
    rc = open_one(&meta, meta_url, flags, err);
    free(meta_url);
    if (rc != 0)
        return rc;
    if ((rc = aipm_store__ch_open(&evs, events, meta, flags, err)) != 0) {
        aipm_store_close(meta);
        redact_error(err, events, events);
        return rc;
    }
    if ((rc = check_ops(&evs, err)) != 0) {
        aipm_store_close(meta);
        return rc;
    }
    if ((rc = check_events_there(meta, events, flags, err)) != 0) {
        aipm_store_close(evs);
        aipm_store_close(meta);
        return rc;
    }
    meta->events = evs;
    {
        size_t n = strlen(meta->ns);

        snprintf(meta->ns + n, sizeof(meta->ns) - n, EVENTS_SEP "%s", evs->ns);
    }
    *out = meta;
    return AIPM_OK;
}

int aipm_store_open(aipm_store **out, const char *url, int flags,
                    aipm_error *err)
{
    const char *sep;
    int rc;

    *out = NULL;
    if (url != NULL && (sep = strstr(url, EVENTS_SEP)) != NULL)
        return open_split(out, url, sep, flags, err);
    if ((rc = open_one(out, url, flags, err)) == 0 &&
        (rc = check_events_here(*out, err)) != 0) {
        aipm_store_close(*out);
        *out = NULL;
    }
    return rc;
}

static int open_one(aipm_store **out, const char *url, int flags,
                    aipm_error *err)
{
    const char *path = url;
    int rc;

    *out = NULL;
    if (url == NULL || *url == '\0')
        return aipm_error_set(err, AIPM_EINVALID, "empty store URL");
    if (strncasecmp(url, "clickhouse://", 13) == 0) {
        char shown[1024];

        aipm_store_url_redact(shown, sizeof(shown), url);
        return aipm_error_set(err, AIPM_EINVALID,
                              "store '%s': ClickHouse keeps a workspace's "
                              "events only; name it as events_store: in "
                              "aipm.yaml (or --events-store) beside a SQLite "
                              "or PostgreSQL store",
                              shown);
    }
    if (network_scheme(url)) {
        char shown[1024];

        aipm_store_url_redact(shown, sizeof(shown), url);
        return aipm_error_set(err, AIPM_EINVALID,
                              "store '%s': this build supports the "
                              "embedded SQLite store and PostgreSQL "
                              "(postgresql://...) as stores",
                              shown);
    }
    if (pg_scheme(url)) {
        if ((rc = aipm_store__pg_open(out, url, flags, err)) != 0) {
            redact_error(err, url, url);
            return rc;
        }
        return check_ops(out, err);
    }
    if (strncmp(url, "sqlite:", 7) == 0)
        path += 7;
    if ((rc = aipm_store__sqlite_open(out, path, flags, err)) != 0) {
        redact_error(err, url, path);
        return rc;
    }
    return check_ops(out, err);
}

void aipm_store_close(aipm_store *st)
{
    if (st == NULL)
        return;
    if (st->events)
        st->events->ops->close(st->events);
    st->ops->close(st);
}

int aipm_store_schema_version(aipm_store *st)
{
    return st->schema_version;
}

const char *aipm_store_namespace(aipm_store *st)
{
    return st->ns;
}

int aipm_store_begin(aipm_store *st, aipm_error *err)
{
    return st->ops->begin(st, err);
}

int aipm_store_commit(aipm_store *st, aipm_error *err)
{
    return st->ops->commit(st, err);
}

void aipm_store_rollback(aipm_store *st)
{
    st->ops->rollback(st);
}

int aipm_store_batch_new(aipm_store *st, int64_t *out_id, const char *dataset,
                         const char *source, const char *source_sha256,
                         const char *run_id, int64_t created_ms,
                         aipm_error *err)
{
    int rc = st->ops->batch_new(st, out_id, dataset, source, source_sha256,
                                run_id, created_ms, err);

    /* only an events batch can meet rows an abandoned ingest left */
    if (rc == AIPM_OK && st->events && st->events->ops->batch_begun &&
        strcmp(dataset, "events") == 0)
        rc = st->events->ops->batch_begun(st->events, *out_id, err);
    return rc;
}

int aipm_store_batch_finish(aipm_store *st, const aipm_batch_info *info,
                            aipm_error *err)
{
    return st->ops->batch_finish(st, info, err);
}

int aipm_store_batch_get(aipm_store *st, aipm_batch_info *out, int64_t id,
                         aipm_error *err)
{
    return st->ops->batch_get(st, out, id, err);
}

void aipm_batch_info_clear(aipm_batch_info *info)
{
    if (info == NULL)
        return;
    free((char *)info->source);
    free((char *)info->report);
    memset(info, 0, sizeof(*info));
}

int aipm_store_batch_set_status(aipm_store *st, int64_t id, const char *status,
                                aipm_error *err)
{
    return st->ops->batch_set_status(st, id, status, err);
}

int aipm_store_batch_list(aipm_store *st, const char *dataset, int latest_only,
                          aipm_batch_cb cb, void *ctx, aipm_error *err)
{
    return st->ops->batch_list(st, dataset, latest_only, cb, ctx, err);
}

int aipm_store_event_put(aipm_store *st, int64_t batch_id,
                         const aipm_event_row *row, int *inserted,
                         aipm_error *err)
{
    return ev(st)->ops->event_put(ev(st), batch_id, row, inserted, err);
}

int aipm_store_event_put_many(aipm_store *st, int64_t batch_id,
                              const aipm_event_row *rows, size_t n,
                              unsigned char *inserted, aipm_error *err)
{
    size_t i;
    int rc, one;

    st = ev(st);
    if (st->ops->event_put_many)
        return st->ops->event_put_many(st, batch_id, rows, n, inserted, err);
    for (i = 0; i < n; i++) {
        if ((rc = st->ops->event_put(st, batch_id, &rows[i], &one, err)) != 0)
            return rc;
        inserted[i] = (unsigned char)one;
    }
    return AIPM_OK;
}

int aipm_store_row_put(aipm_store *st, const char *dataset, int64_t batch_id,
                       const char *key, const char *row_sha,
                       const char *const *values, int *inserted,
                       aipm_error *err)
{
    return st->ops->row_put(st, dataset, batch_id, key, row_sha, values,
                            inserted, err);
}

int aipm_store_count_visible(aipm_store *st, const char *dataset, int64_t *out,
                             aipm_error *err)
{
    return st->ops->count_visible(st, dataset, out, err);
}

int aipm_store_event_count(aipm_store *st, const char *event, int64_t cap,
                           int64_t *out, aipm_error *err)
{
    return ev(st)->ops->event_count(ev(st), event, cap, out, err);
}

int aipm_store_quarantine_put(aipm_store *st, const aipm_quarantine_row *row,
                              aipm_error *err)
{
    return st->ops->quarantine_put(st, row, err);
}

int aipm_store_quarantine_list(aipm_store *st, const char *reason,
                               int64_t batch_id, int64_t limit,
                               aipm_quarantine_cb cb, void *ctx,
                               aipm_error *err)
{
    return st->ops->quarantine_list(st, reason, batch_id, limit, cb, ctx, err);
}

int aipm_store_schema_load(aipm_store *st, aipm_schema_cb cb, void *ctx,
                           aipm_error *err)
{
    return st->ops->schema_load(st, cb, ctx, err);
}

int aipm_store_schema_put(aipm_store *st, const char *event,
                          const char *property, const char *type, int version,
                          int64_t batch_id, aipm_error *err)
{
    return st->ops->schema_put(st, event, property, type, version, batch_id,
                               err);
}

int aipm_store_volume_put(aipm_store *st, const char *dataset, int64_t day,
                          int64_t batch_id, int64_t n, aipm_error *err)
{
    return st->ops->volume_put(st, dataset, day, batch_id, n, err);
}

int aipm_store_volume_mean(aipm_store *st, const char *dataset,
                           int64_t from_day, int64_t to_day, double *mean,
                           int64_t *days, aipm_error *err)
{
    return st->ops->volume_mean(st, dataset, from_day, to_day, mean, days, err);
}

int aipm_store_run_put(aipm_store *st, const aipm_run_row *run, aipm_error *err)
{
    return st->ops->run_put(st, run, err);
}

int aipm_store_run_list(aipm_store *st, aipm_run_cb cb, void *ctx,
                        aipm_error *err)
{
    return st->ops->run_list(st, cb, ctx, err);
}

int aipm_store_audit_put(aipm_store *st, const aipm_audit_row *row,
                         aipm_error *err)
{
    return st->ops->audit_put(st, row, err);
}

int aipm_store_audit_list(aipm_store *st, aipm_audit_cb cb, void *ctx,
                          aipm_error *err)
{
    return st->ops->audit_list(st, cb, ctx, err);
}

int aipm_store_audit_last(aipm_store *st, int64_t *seq, uint8_t root[32],
                          int *found, aipm_error *err)
{
    return st->ops->audit_last(st, seq, root, found, err);
}

int aipm_store_audit_frontier_get(aipm_store *st, int64_t *size, void *buf,
                                  size_t cap, size_t *len, int *found,
                                  aipm_error *err)
{
    return st->ops->audit_frontier_get(st, size, buf, cap, len, found, err);
}

int aipm_store_audit_frontier_put(aipm_store *st, int64_t size, const void *buf,
                                  size_t len, aipm_error *err)
{
    return st->ops->audit_frontier_put(st, size, buf, len, err);
}

int aipm_store_decision_put(aipm_store *st, const aipm_decision_row *row,
                            aipm_error *err)
{
    return st->ops->decision_put(st, row, err);
}

int aipm_store_decision_list(aipm_store *st, const aipm_decision_filter *f,
                             aipm_decision_cb cb, void *ctx, aipm_error *err)
{
    return st->ops->decision_list(st, f, cb, ctx, err);
}

int aipm_store_decision_input_put(aipm_store *st, const char *decision_id,
                                  int64_t batch_id, aipm_error *err)
{
    return st->ops->decision_input_put(st, decision_id, batch_id, err);
}

int aipm_store_decisions_reading(aipm_store *st, int64_t batch_id,
                                 aipm_decision_ref_cb cb, void *ctx,
                                 aipm_error *err)
{
    return st->ops->decisions_reading(st, batch_id, cb, ctx, err);
}

int aipm_store_decision_set_status(aipm_store *st, const char *id,
                                   const char *status, aipm_error *err)
{
    return st->ops->decision_set_status(st, id, status, err);
}

int aipm_store_user_put(aipm_store *st, const aipm_user_row *row,
                        aipm_error *err)
{
    return st->ops->user_put(st, row, err);
}

int aipm_store_user_list(aipm_store *st, const char *name, aipm_user_cb cb,
                         void *ctx, aipm_error *err)
{
    return st->ops->user_list(st, name, cb, ctx, err);
}

int aipm_store_approval_put(aipm_store *st, const aipm_approval_row *row,
                            aipm_error *err)
{
    return st->ops->approval_put(st, row, err);
}

int aipm_store_approval_list(aipm_store *st, const char *decision_id,
                             aipm_approval_cb cb, void *ctx, aipm_error *err)
{
    return st->ops->approval_list(st, decision_id, cb, ctx, err);
}

int aipm_store_backlog_texts(aipm_store *st, aipm_backlog_text_cb cb, void *ctx,
                             aipm_error *err)
{
    return st->ops->backlog_texts(st, cb, ctx, err);
}

int aipm_store_feedback_texts(aipm_store *st, aipm_feedback_text_cb cb,
                              void *ctx, aipm_error *err)
{
    return st->ops->feedback_texts(st, cb, ctx, err);
}

int aipm_store_feedback_count(aipm_store *st, int64_t *n, aipm_error *err)
{
    return st->ops->feedback_count(st, n, err);
}

int aipm_store_link_list(aipm_store *st, aipm_link_fix_cb cb, void *ctx,
                         aipm_error *err)
{
    return st->ops->link_list(st, cb, ctx, err);
}

int aipm_store_row_visible(aipm_store *st, const char *dataset, const char *id,
                           int *found, aipm_error *err)
{
    return st->ops->row_visible(st, dataset, id, found, err);
}

int aipm_store_in_transaction(aipm_store *st)
{
    return st->ops->in_transaction(st);
}

int aipm_store_policy_put(aipm_store *st, const aipm_policy_row *row,
                          aipm_error *err)
{
    return st->ops->policy_put(st, row, err);
}

int aipm_store_policy_list(aipm_store *st, int latest_only, aipm_policy_cb cb,
                           void *ctx, aipm_error *err)
{
    return st->ops->policy_list(st, latest_only, cb, ctx, err);
}

int aipm_store_model_put(aipm_store *st, const aipm_model_row *row,
                         aipm_error *err)
{
    return st->ops->model_put(st, row, err);
}

int aipm_store_model_list(aipm_store *st, const char *name, int64_t version,
                          aipm_model_cb cb, void *ctx, aipm_error *err)
{
    return st->ops->model_list(st, name, version, cb, ctx, err);
}

int aipm_store_alias_move(aipm_store *st, const aipm_alias_move_row *row,
                          aipm_error *err)
{
    return st->ops->alias_move(st, row, err);
}

int aipm_store_alias_moves(aipm_store *st, const char *name,
                           aipm_alias_move_cb cb, void *ctx, aipm_error *err)
{
    return st->ops->alias_moves(st, name, cb, ctx, err);
}

int aipm_store_alias_get(aipm_store *st, const char *name, const char *alias,
                         int64_t *version, aipm_error *err)
{
    return st->ops->alias_get(st, name, alias, version, err);
}

int aipm_store_monitor_put(aipm_store *st, const aipm_monitor_row *row,
                           aipm_error *err)
{
    return st->ops->monitor_put(st, row, err);
}

int aipm_store_monitor_list(aipm_store *st, int64_t limit, aipm_monitor_cb cb,
                            void *ctx, aipm_error *err)
{
    return st->ops->monitor_list(st, limit, cb, ctx, err);
}

int aipm_store_token_put(aipm_store *st, const aipm_token_row *row,
                         int64_t *id_out, aipm_error *err)
{
    return st->ops->token_put(st, row, id_out, err);
}

int aipm_store_token_find(aipm_store *st, const char *token_sha256,
                          aipm_token_cb cb, void *ctx, aipm_error *err)
{
    return st->ops->token_find(st, token_sha256, cb, ctx, err);
}

int aipm_store_token_list(aipm_store *st, const char *user, aipm_token_cb cb,
                          void *ctx, aipm_error *err)
{
    return st->ops->token_list(st, user, cb, ctx, err);
}

int aipm_store_token_revoke(aipm_store *st, int64_t id, int64_t now_ms,
                            const char *by, const char *reason, aipm_error *err)
{
    return st->ops->token_revoke(st, id, now_ms, by, reason, err);
}

int aipm_store_rows_digest(aipm_store *st, const char *dataset,
                           int64_t batch_id, aipm_rows_digest_cb cb, void *ctx,
                           aipm_error *err)
{
    return ev(st)->ops->rows_digest(ev(st), dataset, batch_id, cb, ctx, err);
}

int aipm_store_analysis_index(aipm_store *st, aipm_error *err)
{
    return ev(st)->ops->analysis_index(ev(st), err);
}

int aipm_store_link_put(aipm_store *st, const char *feedback_id,
                        const char *item_id, int unlink, const char *actor,
                        int64_t time_ms, aipm_error *err)
{
    return st->ops->link_put(st, feedback_id, item_id, unlink, actor, time_ms,
                             err);
}

/* ---- the metrics' push-down reads ----
 * A backend may leave an analysis's slot empty until it computes it: the
 * call then fails with a message that says so, never a wrong answer. */

static int missing(aipm_store *st, const char *op, aipm_error *err)
{
    return aipm_error_set(err, AIPM_EINVALID,
                          "store '%s': this analysis (%s) does not run on "
                          "this kind of store yet",
                          st->ns, op);
}

int aipm_store_exposure_moments(aipm_store *st, const aipm_exposure_query *q,
                                const char *by_trait, aipm_moments_cb cb,
                                void *ctx, aipm_error *err)
{
    return ev(st)->ops->exposure_moments
               ? ev(st)->ops->exposure_moments(ev(st), q, by_trait, cb, ctx,
                                               err)
               : missing(st, "exposure_moments", err);
}

int aipm_store_exposure_quantile(aipm_store *st, const aipm_exposure_query *q,
                                 double p, double *out, aipm_error *err)
{
    return ev(st)->ops->exposure_quantile
               ? ev(st)->ops->exposure_quantile(ev(st), q, p, out, err)
               : missing(st, "exposure_quantile", err);
}

int aipm_store_population_moments(aipm_store *st, const aipm_event_measure *m,
                                  int by_account, int conversion,
                                  int64_t from_ms, int64_t to_ms,
                                  aipm_unit_moments *out, aipm_error *err)
{
    return ev(st)->ops->population_moments
               ? ev(st)->ops->population_moments(ev(st), m, by_account,
                                                 conversion, from_ms, to_ms,
                                                 out, err)
               : missing(st, "population_moments", err);
}

int aipm_store_kpi_activity(aipm_store *st, const aipm_periods *p,
                            aipm_period_activity *out, aipm_cohort_cb cohort,
                            void *ctx, aipm_error *err)
{
    return ev(st)->ops->kpi_activity
               ? ev(st)->ops->kpi_activity(ev(st), p, out, cohort, ctx, err)
               : missing(st, "kpi_activity", err);
}

int aipm_store_kpi_feature_users(aipm_store *st, const aipm_periods *p,
                                 const char *const *events,
                                 const int *feature_of, int n_events,
                                 int n_features, double *out, aipm_error *err)
{
    return ev(st)->ops->kpi_feature_users
               ? ev(st)->ops->kpi_feature_users(ev(st), p, events, feature_of,
                                                n_events, n_features, out, err)
               : missing(st, "kpi_feature_users", err);
}

int aipm_store_kpi_conversion(aipm_store *st, const aipm_periods *p,
                              const aipm_event_measure *m, int by_account,
                              int64_t window_ms, double *first,
                              double *converted, aipm_error *err)
{
    return ev(st)->ops->kpi_conversion
               ? ev(st)->ops->kpi_conversion(ev(st), p, m, by_account,
                                             window_ms, first, converted, err)
               : missing(st, "kpi_conversion", err);
}

int aipm_store_kpi_retention(aipm_store *st, const aipm_periods *p,
                             int by_account, int from_day, int to_day,
                             double *eligible, double *retained,
                             aipm_error *err)
{
    return ev(st)->ops->kpi_retention
               ? ev(st)->ops->kpi_retention(ev(st), p, by_account, from_day,
                                            to_day, eligible, retained, err)
               : missing(st, "kpi_retention", err);
}

int aipm_store_kpi_events(aipm_store *st, const aipm_periods *p,
                          const aipm_event_measure *m, int by_account,
                          double *count, double *sum, double *units,
                          aipm_error *err)
{
    return ev(st)->ops->kpi_events
               ? ev(st)->ops->kpi_events(ev(st), p, m, by_account, count, sum,
                                         units, err)
               : missing(st, "kpi_events", err);
}

int aipm_store_kpi_active_accounts(aipm_store *st, const aipm_periods *p,
                                   double *out, aipm_error *err)
{
    return ev(st)->ops->kpi_active_accounts
               ? ev(st)->ops->kpi_active_accounts(ev(st), p, out, err)
               : missing(st, "kpi_active_accounts", err);
}

/* ---- push-down reads for prioritize (signals) ---- */

int aipm_store_backlog_items(aipm_store *st, aipm_backlog_item_cb cb, void *ctx,
                             aipm_error *err)
{
    return st->ops->backlog_items ? st->ops->backlog_items(st, cb, ctx, err)
                                  : missing(st, "backlog_items", err);
}

int aipm_store_daily_active_users(aipm_store *st, aipm_daily_users_cb cb,
                                  void *ctx, aipm_error *err)
{
    return ev(st)->ops->daily_active_users
               ? ev(st)->ops->daily_active_users(ev(st), cb, ctx, err)
               : missing(st, "daily_active_users", err);
}

int aipm_store_event_daily_users(aipm_store *st, const char *const *events,
                                 const char *const *labels, int n,
                                 aipm_daily_users_cb cb, void *ctx,
                                 aipm_error *err)
{
    return ev(st)->ops->event_daily_users
               ? ev(st)->ops->event_daily_users(ev(st), events, labels, n, cb,
                                                ctx, err)
               : missing(st, "event_daily_users", err);
}

int aipm_store_item_daily_users(aipm_store *st, aipm_daily_users_cb cb,
                                void *ctx, aipm_error *err)
{
    return ev(st)->ops->item_daily_users
               ? ev(st)->ops->item_daily_users(ev(st), cb, ctx, err)
               : missing(st, "item_daily_users", err);
}

int aipm_store_market_signals(aipm_store *st, aipm_market_signal_cb cb,
                              void *ctx, aipm_error *err)
{
    return st->ops->market_signals ? st->ops->market_signals(st, cb, ctx, err)
                                   : missing(st, "market_signals", err);
}

int aipm_store_account_arr_plan(aipm_store *st, int64_t before_ms,
                                aipm_account_arr_plan_cb cb, void *ctx,
                                aipm_error *err)
{
    return ev(st)->ops->account_arr_plan
               ? ev(st)->ops->account_arr_plan(ev(st), before_ms, cb, ctx, err)
               : missing(st, "account_arr_plan", err);
}

/* ---- push-down reads for the graph and the adoption forecasts ---- */

int aipm_store_batch_states(aipm_store *st, aipm_batch_state_cb cb, void *ctx,
                            aipm_store_mark *mark, aipm_error *err)
{
    return ev(st)->ops->batch_states
               ? ev(st)->ops->batch_states(ev(st), cb, ctx, mark, err)
               : missing(st, "batch_states", err);
}

int aipm_store_first_uses(aipm_store *st, int64_t through_batch,
                          const aipm_store_mark *since, aipm_first_use_cb cb,
                          void *ctx, aipm_error *err)
{
    return ev(st)->ops->first_uses
               ? ev(st)->ops->first_uses(ev(st), through_batch, since, cb, ctx,
                                         err)
               : missing(st, "first_uses", err);
}

int aipm_store_first_memberships(aipm_store *st, int64_t through_batch,
                                 const aipm_store_mark *since,
                                 aipm_membership_cb cb, void *ctx,
                                 aipm_error *err)
{
    return ev(st)->ops->first_memberships
               ? ev(st)->ops->first_memberships(ev(st), through_batch, since,
                                                cb, ctx, err)
               : missing(st, "first_memberships", err);
}

int aipm_store_graph_rows(aipm_store *st, int64_t through_batch,
                          const aipm_store_mark *since, aipm_graph_csv_cb cb,
                          void *ctx, aipm_error *err)
{
    return st->ops->graph_rows
               ? st->ops->graph_rows(st, through_batch, since, cb, ctx, err)
               : missing(st, "graph_rows", err);
}

int aipm_store_event_day_range(aipm_store *st, int64_t *first_day,
                               int64_t *last_day, int *found, aipm_error *err)
{
    return st->ops->event_day_range
               ? st->ops->event_day_range(st, first_day, last_day, found, err)
               : missing(st, "event_day_range", err);
}

int aipm_store_user_event_times(aipm_store *st, aipm_user_time_cb cb, void *ctx,
                                aipm_error *err)
{
    return ev(st)->ops->user_event_times
               ? ev(st)->ops->user_event_times(ev(st), cb, ctx, err)
               : missing(st, "user_event_times", err);
}

int aipm_store_user_traits(aipm_store *st, const char *trait, int64_t before_ms,
                           aipm_user_value_cb cb, void *ctx, aipm_error *err)
{
    return ev(st)->ops->user_traits
               ? ev(st)->ops->user_traits(ev(st), trait, before_ms, cb, ctx,
                                          err)
               : missing(st, "user_traits", err);
}

int aipm_store_account_traits(aipm_store *st, const char *trait,
                              int64_t before_ms, aipm_user_value_cb cb,
                              void *ctx, aipm_error *err)
{
    return ev(st)->ops->account_traits
               ? ev(st)->ops->account_traits(ev(st), trait, before_ms, cb, ctx,
                                             err)
               : missing(st, "account_traits", err);
}
