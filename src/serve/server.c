/* server.c - `aipm serve`'s HTTP server: libmicrohttpd with a thread pool,
 * and what every request passes through before and after its route.
 *
 * A request's way: its body is read up to the cap (a larger one is a 413
 * before it is read, when its Content-Length says so); its path finds a
 * route (srv_routes, api.c) or is a 404/405; its bearer token names a user
 * and role (a 401 or 403 otherwise), within that token's rate (a 429); its
 * query arguments must be the route's (a 400 names the unknown one); a
 * cacheable GET is answered from the cache when the inputs stamp has not
 * moved; else the route runs and its document becomes the response (and
 * the cache's). Every response carries the security headers, and every
 * error is JSON {"error": {"code", "message"}}.
 *
 * Threads: libmicrohttpd's workers call the handler; each worker keeps
 * its own store connection and aipm.yaml copy (struct worker, in thread-
 * specific data whose destructor closes them when the pool stops), a
 * reload when aipm.yaml's identity changes, and a small token cache valid
 * for one inputs stamp (a revoked token or a changed role appends to the
 * audit log, which moves the stamp). The cache and the rate limiter are
 * shared and lock. No path from a request reaches the file system: the
 * routes match fixed patterns, and their '*' segments take a restricted
 * alphabet.
 */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define TOKEN_CACHE 4
#define RATE_SLOTS 1024
#define STAMP_MAX 128

/* A worker thread's own state. */
typedef struct worker {
    aipm_store *st;
    dev_t store_dev; /* the SQLite file it opened (0: not a file) */
    ino_t store_ino;
    aipm_config *cfg;
    struct timespec yaml_mtime;
    off_t yaml_size;
    ino_t yaml_ino;
    char stamp[STAMP_MAX];
    struct {
        uint8_t digest[32]; /* the token's SHA-256: no token kept, and
                             * compared without leaking it by timing */
        char user[128];
        int role;
        char stamp[STAMP_MAX];
    } tokens[TOKEN_CACHE];
    unsigned next_token;
} worker;

/* A request that runs on the analysis pool: what the route reads,
 * copied, and what it answered. */
typedef struct job {
    struct job *next; /* the pool's queue */
    struct MHD_Connection *conn;
    const srv_route *rt;
    srv_req r;
    char user[128];
    char param[2][SEGMENT_MAX];
    char *args; /* the arguments' names and values, NUL-ended each */
    char *key;  /* the cache key */
    int gzip;   /* the client takes gzip */
    /* The outcome, written by the pool thread before it resumes the
     * connection: an error (code set: status, code, msg) or an answer. */
    int done, status, cached;
    const char *code;
    char msg[1024];
    srv_answer ans;
    char stamp[STAMP_MAX];
} job;

/* A request's state between the handler's calls. */
typedef struct request {
    char *body;
    size_t len, cap;
    int too_big;
    double start; /* monotonic seconds */
    job *job;     /* running on the pool, or run (NULL: neither) */
} request;

/* A token's bucket (the token bucket algorithm: rate per second, burst
 * deep). */
typedef struct bucket {
    uint8_t digest[32]; /* the token's SHA-256 */
    double level;
    double at; /* seconds, monotonic */
} bucket;

/* An embedded file's answers, made once at start and shared by every
 * request (as the cache's are): [0] as is, [1] gzipped (NULL when the
 * file is short or does not shrink), each with its 304. */
struct asset_forms {
    struct MHD_Response *response[2], *not_modified[2];
    const char *etag[2];
    void *gz;
    char etag_gz[96];
};

static struct {
    const srv_opts *o;
    pthread_key_t key;
    srv_cache *cache;
    pthread_mutex_t rate_lock;
    bucket *buckets;
    size_t n_buckets;
    struct asset_forms *assets; /* srv_assets' answers, same order */
    /* the analysis pool */
    pthread_t *pool;
    int pool_n, pool_stopping;
    size_t pool_queued, pool_running; /* under pool_lock */
    uint64_t pool_done;
    double started; /* monotonic seconds */
    pthread_mutex_t pool_lock;
    pthread_cond_t pool_cond;
    job *pool_head, *pool_tail;
} S;

static double mono_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void worker_free(void *p)
{
    worker *w = p;

    if (w == NULL)
        return;
    aipm_store_close(w->st);
    aipm_config_free(w->cfg);
    free(w);
}

/* The SQLite file of the store URL (a path, or sqlite:PATH), or NULL
 * for a server's URL. */
static const char *store_file(void)
{
    const char *u = S.o->store_url;

    if (strstr(u, "://"))
        return NULL;
    return strncmp(u, "sqlite:", 7) == 0 ? u + 7 : u;
}

/* This thread's worker, opened on first use; NULL with err set. A store
 * file replaced since (a workspace made again under a running server) is
 * opened again, so the server never writes to a file nobody reads. */
static worker *worker_get(aipm_error *err)
{
    worker *w = pthread_getspecific(S.key);
    const char *file = store_file();
    struct stat sb;

    if (w && file && w->store_ino &&
        (stat(file, &sb) != 0 || sb.st_ino != w->store_ino ||
         sb.st_dev != w->store_dev)) {
        aipm_store_close(w->st);
        w->st = NULL;
        memset(w->tokens, 0, sizeof(w->tokens));
    }
    if (w == NULL) {
        if ((w = calloc(1, sizeof(*w))) == NULL) {
            aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            return NULL;
        }
        if (pthread_setspecific(S.key, w) != 0) {
            free(w);
            aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            return NULL;
        }
    }
    if (w->st == NULL) {
        if (aipm_store_open(&w->st, S.o->store_url, 0, err) != AIPM_OK)
            return NULL;
        if (file && stat(file, &sb) == 0) {
            w->store_dev = sb.st_dev;
            w->store_ino = sb.st_ino;
        }
    }
    return w;
}

/* Load aipm.yaml again when it is another file or was written since. A
 * file that no longer loads keeps the copy in force, and says so once. */
static int worker_config(worker *w, aipm_error *err)
{
    struct stat sb;
    aipm_config *cfg = NULL;

    if (S.o->yaml[0] == '\0') {
        if (w->cfg == NULL)
            return aipm_config_new_default(&w->cfg, err);
        return AIPM_OK;
    }
    if (stat(S.o->yaml, &sb) != 0)
        return w->cfg ? AIPM_OK
                      : aipm_error_set(err, AIPM_EIO, "%s: %s", S.o->yaml,
                                       strerror(errno));
    if (w->cfg && sb.st_mtim.tv_sec == w->yaml_mtime.tv_sec &&
        sb.st_mtim.tv_nsec == w->yaml_mtime.tv_nsec &&
        sb.st_size == w->yaml_size && sb.st_ino == w->yaml_ino)
        return AIPM_OK;
    if (aipm_config_load(&cfg, S.o->yaml, err) != AIPM_OK) {
        if (w->cfg == NULL)
            return err ? err->code : AIPM_EINVALID;
        fprintf(stderr,
                "aipm serve: %s no longer loads (%s); serving with the "
                "version loaded before\n",
                S.o->yaml, err ? err->msg : "");
    } else {
        aipm_config_free(w->cfg);
        w->cfg = cfg;
    }
    w->yaml_mtime = sb.st_mtim;
    w->yaml_size = sb.st_size;
    w->yaml_ino = sb.st_ino;
    return AIPM_OK;
}

/* The inputs stamp: the audit log's head (every accepted batch, decision,
 * act, model and policy change appends to it), aipm.yaml's identity and
 * the day (analyses are as of today). */
static int worker_stamp(worker *w, int64_t now_ms, aipm_error *err)
{
    int64_t seq = 0;
    uint8_t root[32];
    char hex[17];
    int found = 0, rc;

    if ((rc = aipm_store_audit_last(w->st, &seq, root, &found, err)) != 0)
        return rc;
    if (found)
        aipm_hex(hex, root, 8);
    else
        snprintf(hex, sizeof(hex), "-");
    snprintf(w->stamp, sizeof(w->stamp),
             "%" PRId64 ".%s.%lld.%ld.%lld.%" PRId64, seq, hex,
             (long long)w->yaml_mtime.tv_sec, w->yaml_mtime.tv_nsec,
             (long long)w->yaml_size, now_ms / 86400000);
    return AIPM_OK;
}

/* ---- responses ---- */

int srv_add_headers(void *response, const char *type)
{
    static const char *const h[][2] = {
        {"Content-Security-Policy",
         "default-src 'none'; script-src 'self'; style-src 'self'; "
         "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
         "form-action 'self'; frame-ancestors 'none'"},
        {"X-Content-Type-Options", "nosniff"},
        {"X-Frame-Options", "DENY"},
        {"Referrer-Policy", "no-referrer"},
        {"Cross-Origin-Opener-Policy", "same-origin"},
        {"Cache-Control", "private, no-cache"},
    };
    size_t i;

    for (i = 0; i < sizeof(h) / sizeof(h[0]); i++)
        if (MHD_add_response_header(response, h[i][0], h[i][1]) != MHD_YES)
            return -1;
    if (type && MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                        type) != MHD_YES)
        return -1;
    return 0;
}

/* A response of len bytes of text (copied), with the headers. */
static struct MHD_Response *response_new(const char *text, size_t len,
                                         const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)text, MHD_RESPMEM_MUST_COPY);

    if (r && srv_add_headers(r, type) != 0) {
        MHD_destroy_response(r);
        r = NULL;
    }
    return r;
}

static enum MHD_Result queue(struct MHD_Connection *c, int status,
                             struct MHD_Response *r)
{
    enum MHD_Result ok;

    if (r == NULL)
        return MHD_NO; /* out of memory: libmicrohttpd closes it */
    ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

/* The JSON error {"error": {"code", "message"}} with status; extra
 * headers (name, value pairs, NULL-ended) may follow. */
static enum MHD_Result error_reply(struct MHD_Connection *c, int status,
                                   const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_t *doc;
    char *text;
    struct MHD_Response *r = NULL;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    doc = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
    text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (text)
        r = response_new(text, strlen(text), "application/json");
    free(text);
    if (r && status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"aipm\"");
    if (r && status == MHD_HTTP_TOO_MANY_REQUESTS)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    return queue(c, status, r);
}

int srv_status(int code, const char **name)
{
    switch (code) {
    case AIPM_EINVALID:
        *name = "invalid";
        return MHD_HTTP_BAD_REQUEST;
    case AIPM_ENOTFOUND:
        *name = "not_found";
        return MHD_HTTP_NOT_FOUND;
    case AIPM_EBLOCKED:
        *name = "blocked";
        return MHD_HTTP_CONFLICT;
    case AIPM_EIO:
        *name = "unavailable";
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    default:
        *name = "internal";
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

int srv_signs_for(const srv_opts *o, const char *user)
{
    int i;

    for (i = 0; i < o->n_sign_for; i++)
        if (strcmp(o->sign_for[i], user) == 0)
            return 1;
    return 0;
}

/* ---- arguments ---- */

const char *srv_arg(const srv_req *r, const char *name)
{
    int i;

    if (r->conn)
        return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
                                           name);
    for (i = 0; i < r->n_args; i++)
        if (strcmp(r->arg_name[i], name) == 0)
            return r->arg_value[i];
    return NULL;
}

int srv_arg_i64(const srv_req *r, const char *name, int64_t lo, int64_t hi,
                int64_t def, int64_t *out, aipm_error *err)
{
    const char *s = srv_arg(r, name);
    char *end;
    long long v;

    *out = def;
    if (s == NULL)
        return AIPM_OK;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno || v < lo || v > hi)
        return aipm_error_set(err, AIPM_EINVALID,
                              "argument %s: expected an integer from %" PRId64
                              " to %" PRId64,
                              name, lo, hi);
    *out = v;
    return AIPM_OK;
}

int srv_body_object(const srv_req *r, const char *const *allowed, json_t **out,
                    aipm_error *err)
{
    json_error_t jerr;
    json_t *o;
    const char *key;
    json_t *v;

    *out = NULL;
    if (r->body == NULL || r->body_len == 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "the request needs a JSON object body");
    o = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL)
        return aipm_error_set(err, AIPM_EINVALID,
                              "malformed JSON at line %d column %d: %s",
                              jerr.line, jerr.column, jerr.text);
    if (!json_is_object(o)) {
        json_decref(o);
        return aipm_error_set(err, AIPM_EINVALID,
                              "the body must be a JSON object");
    }
    json_object_foreach(o, key, v)
    {
        size_t i;

        for (i = 0; allowed && allowed[i]; i++)
            if (strcmp(allowed[i], key) == 0)
                break;
        if (allowed == NULL || allowed[i] == NULL) {
            aipm_error_set(err, AIPM_EINVALID,
                           "unknown key \"%.64s\" in the body", key);
            json_decref(o);
            return AIPM_EINVALID;
        }
    }
    *out = o;
    return AIPM_OK;
}

typedef struct args_ctx {
    const char *const *allowed;
    const char *unknown;
    const char *names[SRV_MAX_ARGS];
    const char *values[SRV_MAX_ARGS];
    int n;
    int control; /* unknown's value holds a control character */
} args_ctx;

static enum MHD_Result job_start(struct MHD_Connection *c, const char *url,
                                 const char *method, request *q,
                                 const srv_route *rt, const char *params[2],
                                 const char *user, int role, const char *key,
                                 const args_ctx *a, int gzip);

static enum MHD_Result args_cb(void *cls, enum MHD_ValueKind kind,
                               const char *name, const char *value)
{
    args_ctx *a = cls;
    size_t i;

    (void)kind;
    for (i = 0; a->allowed && a->allowed[i]; i++)
        if (strcmp(a->allowed[i], name) == 0)
            break;
    if (a->allowed == NULL || a->allowed[i] == NULL || a->n == SRV_MAX_ARGS) {
        a->unknown = name;
        return MHD_NO;
    }
    /* A control character (a decoded %0A, say) is refused: no argument
     * needs one, and the cache key separates arguments by newlines. */
    for (i = 0; value && value[i]; i++)
        if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f) {
            a->unknown = name;
            a->control = 1;
            return MHD_NO;
        }
    a->names[a->n] = name;
    a->values[a->n++] = value ? value : "";
    return MHD_YES;
}

/* ---- routes ---- */

/* The route for method and path; *other_method set when the path is a
 * route's under another method. params get the '*' segments. */
static const srv_route *route_find(const char *method, const char *path,
                                   const char *params[2], int *other_method,
                                   char seg[MAX_SEGMENTS][SEGMENT_MAX])
{
    int n;
    const srv_route *rt;

    *other_method = 0;
    if (srv_path_split(path, seg, &n) != 0)
        return NULL;
    for (rt = srv_routes; rt->method; rt++) {
        if (!srv_path_match(rt->pattern, seg, n, params))
            continue;
        if (strcmp(rt->method, method) == 0 ||
            (strcmp(rt->method, "GET") == 0 && strcmp(method, "HEAD") == 0))
            return rt;
        *other_method = 1;
    }
    return NULL;
}

int srv_get(const srv_req *base, const char *path, json_t **out,
            aipm_error *err)
{
    char seg[MAX_SEGMENTS][SEGMENT_MAX], url[1024];
    const char *params[2] = {NULL, NULL}, *q = strchr(path, '?');
    const srv_route *rt;
    srv_req *r;
    size_t n = q ? (size_t)(q - path) : strlen(path);
    int other = 0, rc, i;

    *out = NULL;
    if (n >= sizeof(url))
        return aipm_error_set(err, AIPM_EINVALID, "path too long");
    memcpy(url, path, n);
    url[n] = '\0';
    rt = route_find("GET", url, params, &other, seg);
    if (rt == NULL)
        return aipm_error_set(err, AIPM_ENOTFOUND, "no GET route %s", url);
    if ((r = malloc(sizeof(*r))) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    *r = *base;
    r->conn = NULL;
    r->post = 0;
    r->body = NULL;
    r->body_len = 0;
    r->status = MHD_HTTP_OK;
    r->param[0] = params[0];
    r->param[1] = params[1];
    r->n_args = 0;
    snprintf(r->query, sizeof(r->query), "%s", q ? q + 1 : "");
    r->n_args = srv_query_split(r->query, r->arg_name, r->arg_value, 16);
    for (i = 0, rc = AIPM_OK; i < r->n_args && rc == AIPM_OK; i++) {
        size_t k;

        for (k = 0; rt->args && rt->args[k]; k++)
            if (strcmp(rt->args[k], r->arg_name[i]) == 0)
                break;
        if (rt->args == NULL || rt->args[k] == NULL)
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "%s does not take the argument \"%.64s\"",
                                rt->pattern, r->arg_name[i]);
    }
    if (rc == AIPM_OK)
        rc = rt->fn(r, out, err);
    free(r);
    return rc;
}

/* ---- authentication and rate ---- */

/* The token's SHA-256 (what the caches and buckets are keyed by). */
static void token_digest(const char *token, uint8_t out[32])
{
    aipm_sha256 h;

    aipm_sha256_init(&h);
    aipm_sha256_update(&h, token, strlen(token));
    aipm_sha256_final(&h, out);
}

static int authenticate(worker *w, const char *header, char user[128],
                        int *role, uint8_t digest[32], aipm_error *err)
{
    const char *token;
    int i, rc;

    if (header == NULL || strncmp(header, "Bearer ", 7) != 0)
        return aipm_error_set(err, AIPM_EBLOCKED,
                              "this needs an API token: send \"Authorization: "
                              "Bearer TOKEN\" (`aipm tokens create --as USER` "
                              "makes one)");
    token = header + 7;
    while (*token == ' ')
        token++;
    token_digest(token, digest);
    for (i = 0; i < TOKEN_CACHE; i++)
        if (w->tokens[i].stamp[0] &&
            memcmp(w->tokens[i].digest, digest, 32) == 0 &&
            strcmp(w->tokens[i].stamp, w->stamp) == 0) {
            snprintf(user, 128, "%s", w->tokens[i].user);
            *role = w->tokens[i].role;
            return AIPM_OK;
        }
    if ((rc = aipm_token_check(w->st, token, user, role, err)) != AIPM_OK)
        return rc;
    i = (int)(w->next_token++ % TOKEN_CACHE);
    memcpy(w->tokens[i].digest, digest, 32);
    snprintf(w->tokens[i].user, sizeof(w->tokens[i].user), "%s", user);
    w->tokens[i].role = *role;
    snprintf(w->tokens[i].stamp, sizeof(w->tokens[i].stamp), "%s", w->stamp);
    return AIPM_OK;
}

/* Take one request from the bucket of the token whose SHA-256 is digest:
 * 1 when allowed. */
static int rate_take(const uint8_t digest[32])
{
    double now = mono_seconds();
    size_t i, oldest = 0;
    bucket *b = NULL;
    int ok;

    if (S.o->rate <= 0)
        return 1;
    pthread_mutex_lock(&S.rate_lock);
    for (i = 0; i < S.n_buckets; i++) {
        if (memcmp(S.buckets[i].digest, digest, 32) == 0) {
            b = &S.buckets[i];
            break;
        }
        if (S.buckets[i].at < S.buckets[oldest].at)
            oldest = i;
    }
    if (b == NULL) {
        /* A new token: a free slot, or the one idle longest. */
        b = S.n_buckets < RATE_SLOTS ? &S.buckets[S.n_buckets++]
                                     : &S.buckets[oldest];
        memcpy(b->digest, digest, 32);
        b->level = S.o->burst;
        b->at = now;
    }
    b->level += (now - b->at) * S.o->rate;
    if (b->level > S.o->burst)
        b->level = S.o->burst;
    b->at = now;
    ok = b->level >= 1;
    if (ok)
        b->level -= 1;
    pthread_mutex_unlock(&S.rate_lock);
    return ok;
}

/* ---- the handler ---- */

static void access_log(const char *method, const char *url, int status,
                       const request *q, const char *user)
{
    if (S.o->access_log)
        fprintf(stderr, "aipm serve: %s %s %d %lld ms %s\n", method, url,
                status, (long long)((mono_seconds() - q->start) * 1000),
                user ? user : "-");
}

/* Answer an API request (the body is complete). */
static enum MHD_Result api(struct MHD_Connection *c, const char *url,
                           const char *method, request *q)
{
    char seg[MAX_SEGMENTS][SEGMENT_MAX], user[128] = "", key[4096];
    uint8_t digest[32];
    const char *params[2] = {NULL, NULL}, *code;
    const srv_route *rt;
    aipm_error err = {0, ""};
    args_ctx a;
    int other = 0, role = 0, rc, status, i, j, n;
    worker *w;
    int gzip = srv_accepts_gzip(MHD_lookup_connection_value(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));

    rt = route_find(method, url, params, &other, seg);
    if (rt == NULL && other) {
        access_log(method, url, 405, q, NULL);
        return error_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                           "%s does not take %s", url, method);
    }
    if (rt == NULL) {
        access_log(method, url, 404, q, NULL);
        return error_reply(c, MHD_HTTP_NOT_FOUND, "not_found",
                           "no such API route (GET /api/v1 lists them)");
    }
    if ((w = worker_get(&err)) == NULL || worker_config(w, &err) != AIPM_OK ||
        worker_stamp(w, aipm_now_ms(), &err) != AIPM_OK) {
        status = srv_status(err.code, &code);
        access_log(method, url, status, q, NULL);
        return error_reply(c, status, code, "%s", err.msg);
    }
    rc = authenticate(w,
                      MHD_lookup_connection_value(
                          c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
                      user, &role, digest, &err);
    if (rc != AIPM_OK) {
        access_log(method, url, 401, q, NULL);
        return error_reply(c, MHD_HTTP_UNAUTHORIZED, "unauthorized", "%s",
                           err.msg);
    }
    if (role < rt->role) {
        access_log(method, url, 403, q, user);
        return error_reply(c, MHD_HTTP_FORBIDDEN, "forbidden",
                           "%s %s needs the %s role; %s is %s", method,
                           rt->pattern, aipm_role_name(rt->role), user,
                           aipm_role_name(role));
    }
    if (!rate_take(digest)) {
        access_log(method, url, 429, q, user);
        return error_reply(c, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited",
                           "more than %g requests a second with this token",
                           S.o->rate);
    }
    memset(&a, 0, sizeof(a));
    a.allowed = rt->args;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, args_cb, &a);
    if (a.unknown && a.control) {
        access_log(method, url, 400, q, user);
        return error_reply(c, MHD_HTTP_BAD_REQUEST, "invalid",
                           "the argument \"%.64s\" holds a control character",
                           a.unknown);
    }
    if (a.unknown) {
        access_log(method, url, 400, q, user);
        return error_reply(c, MHD_HTTP_BAD_REQUEST, "invalid",
                           "%s does not take the argument \"%.64s\"%s",
                           rt->pattern, a.unknown,
                           rt->args && rt->args[0] ? "" : " (it takes none)");
    }

    /* The cache key: the path, then the arguments sorted by name. */
    n = snprintf(key, sizeof(key), "%s", url);
    for (i = 0; i < a.n; i++)
        for (j = i + 1; j < a.n; j++)
            if (strcmp(a.names[j], a.names[i]) < 0) {
                const char *t = a.names[i], *v = a.values[i];

                a.names[i] = a.names[j];
                a.values[i] = a.values[j];
                a.names[j] = t;
                a.values[j] = v;
            }
    for (i = 0; i < a.n && n > 0 && (size_t)n < sizeof(key); i++)
        n += snprintf(key + n, sizeof(key) - (size_t)n, "\n%s=%s", a.names[i],
                      a.values[i]);
    if ((size_t)n >= sizeof(key)) {
        access_log(method, url, 414, q, user);
        return error_reply(c, MHD_HTTP_URI_TOO_LONG, "invalid",
                           "the arguments are too long");
    }
    if (rt->cache && strcmp(rt->method, "GET") == 0) {
        rc = srv_cache_queue(
            S.cache, key, w->stamp,
            MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                        MHD_HTTP_HEADER_IF_NONE_MATCH),
            gzip, c);
        if (rc != 0) {
            access_log(method, url, 200, q, user);
            return rc == 1 ? MHD_YES : MHD_NO;
        }
    }

    return job_start(c, url, method, q, rt, params, user, role, key, &a, gzip);
}

/* ---- the analyses' threads ----
 *
 * What the cache does not answer runs on a thread of the analysis pool,
 * not on the libmicrohttpd worker that read the request: the connection
 * is suspended, the job queued, and a pool thread runs the route with its
 * own store connection and aipm.yaml (worker_get is per thread), then
 * resumes the connection; libmicrohttpd calls the handler again, which
 * queues the answer (job_reply). A worker so never waits for an analysis
 * (a roadmap's 0.4 s, a simulation's seconds): its other connections -
 * cache hits, the dashboard's files - go on being answered. The job holds
 * copies of everything the route reads (arguments, path parameters, the
 * user), so the pool never touches the suspended connection. */

static int job_args(job *jb, const args_ctx *a)
{
    size_t need = 0, at = 0;
    int i;

    for (i = 0; i < a->n; i++)
        need += strlen(a->names[i]) + strlen(a->values[i]) + 2;
    if ((jb->args = malloc(need ? need : 1)) == NULL)
        return -1;
    for (i = 0; i < a->n; i++) {
        size_t ln = strlen(a->names[i]) + 1, lv = strlen(a->values[i]) + 1;

        memcpy(jb->args + at, a->names[i], ln);
        jb->r.arg_name[i] = jb->args + at;
        at += ln;
        memcpy(jb->args + at, a->values[i], lv);
        jb->r.arg_value[i] = jb->args + at;
        at += lv;
    }
    jb->r.n_args = i;
    return 0;
}

static void job_run(job *jb);
static enum MHD_Result job_reply(struct MHD_Connection *c, const char *url,
                                 const char *method, request *q);

static void job_free(job *jb)
{
    if (jb == NULL)
        return;
    free(jb->args);
    free(jb->key);
    srv_answer_clear(&jb->ans);
    free(jb);
}

static enum MHD_Result job_start(struct MHD_Connection *c, const char *url,
                                 const char *method, request *q,
                                 const srv_route *rt, const char *params[2],
                                 const char *user, int role, const char *key,
                                 const args_ctx *a, int gzip)
{
    job *jb = calloc(1, sizeof(*jb));
    int i, stopping;

    if (jb == NULL || (jb->key = strdup(key)) == NULL || job_args(jb, a)) {
        job_free(jb);
        return error_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                           "out of memory");
    }
    jb->conn = c;
    jb->rt = rt;
    jb->gzip = gzip;
    snprintf(jb->user, sizeof(jb->user), "%s", user);
    for (i = 0; i < 2; i++)
        if (params[i]) {
            snprintf(jb->param[i], sizeof(jb->param[i]), "%s", params[i]);
            jb->r.param[i] = jb->param[i];
        }
    jb->r.opts = S.o;
    jb->r.user = jb->user;
    jb->r.role = role;
    jb->r.body = q->body;
    jb->r.body_len = q->len;
    jb->r.post = strcmp(method, "POST") == 0;
    jb->r.status = MHD_HTTP_OK;
    if (rt->quick) { /* no analysis: answered here and now */
        job_run(jb);
        jb->done = 1;
        q->job = jb;
        return job_reply(c, url, method, q);
    }

    pthread_mutex_lock(&S.pool_lock);
    stopping = S.pool_stopping;
    if (!stopping) {
        q->job = jb;
        MHD_suspend_connection(c);
        if (S.pool_tail)
            S.pool_tail->next = jb;
        else
            S.pool_head = jb;
        S.pool_tail = jb;
        S.pool_queued++;
        pthread_cond_signal(&S.pool_cond);
    }
    pthread_mutex_unlock(&S.pool_lock);
    if (stopping) {
        job_free(jb);
        access_log(method, url, 503, q, user);
        return error_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                           "the server is stopping");
    }
    return MHD_YES;
}

/* Run a job's route (on a pool thread): its answer, or its error, into
 * the job. */
static void job_run(job *jb)
{
    aipm_error err = {0, ""};
    json_t *doc = NULL;
    char *text;
    worker *w;
    int rc;

    if ((w = worker_get(&err)) == NULL || worker_config(w, &err) != AIPM_OK ||
        worker_stamp(w, aipm_now_ms(), &err) != AIPM_OK) {
        jb->status = srv_status(err.code, &jb->code);
        snprintf(jb->msg, sizeof(jb->msg), "%s", err.msg);
        return;
    }
    jb->r.st = w->st;
    jb->r.cfg = w->cfg;
    jb->r.now_ms = aipm_now_ms();
    /* A write records the policies of aipm.yaml first when they changed
     * since the version recorded, as the CLI's writers do. */
    rc = AIPM_OK;
    if (jb->r.post) {
        int recorded = 0;

        rc = aipm_policy_record(w->st, w->cfg, NULL, jb->r.now_ms,
                                S.o->checkpoint, &recorded, &err);
    }
    /* What the route writes to the audit log is the token user's act. */
    aipm_audit_set_actor(jb->user);
    if (rc == AIPM_OK)
        rc = jb->rt->fn(&jb->r, &doc, &err);
    aipm_audit_set_actor(NULL);
    if (rc != AIPM_OK) {
        jb->status = srv_status(rc, &jb->code);
        snprintf(jb->msg, sizeof(jb->msg), "%s",
                 err.msg[0] ? err.msg : "internal error");
        return;
    }
    text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    jb->cached = jb->rt->cache && strcmp(jb->rt->method, "GET") == 0 &&
                 jb->r.status == MHD_HTTP_OK;
    /* A cached answer is gzipped at once whoever asks, for the hits. */
    if (text == NULL ||
        srv_answer_make(&jb->ans, text, jb->cached || jb->gzip) != 0) {
        jb->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        jb->code = "internal";
        snprintf(jb->msg, sizeof(jb->msg), "out of memory");
        return;
    }
    jb->status = jb->r.status;
    memcpy(jb->stamp, w->stamp, sizeof(jb->stamp));
}

static void *pool_main(void *arg)
{
    (void)arg;
    for (;;) {
        job *jb;

        pthread_mutex_lock(&S.pool_lock);
        while (S.pool_head == NULL && !S.pool_stopping)
            pthread_cond_wait(&S.pool_cond, &S.pool_lock);
        if ((jb = S.pool_head) == NULL) { /* stopping, and nothing left */
            pthread_mutex_unlock(&S.pool_lock);
            return NULL;
        }
        if ((S.pool_head = jb->next) == NULL)
            S.pool_tail = NULL;
        S.pool_queued--;
        S.pool_running++;
        pthread_mutex_unlock(&S.pool_lock);
        job_run(jb);
        jb->done = 1;
        pthread_mutex_lock(&S.pool_lock);
        S.pool_running--;
        S.pool_done++;
        pthread_mutex_unlock(&S.pool_lock);
        /* After this the job is the connection's again (job_reply). */
        MHD_resume_connection(jb->conn);
    }
}

/* The answer of a job that has run, on the connection's worker again. */
static enum MHD_Result job_reply(struct MHD_Connection *c, const char *url,
                                 const char *method, request *q)
{
    job *jb = q->job;
    struct MHD_Response *resp;
    enum MHD_Result ok;
    int status = jb->status;

    q->job = NULL;
    if (jb->code) { /* an error */
        access_log(method, url, status, q, jb->user);
        if (status == MHD_HTTP_INTERNAL_SERVER_ERROR)
            fprintf(stderr, "aipm serve: %s %s: %s\n", method, url, jb->msg);
        ok = error_reply(c, status, jb->code, "%s", jb->msg);
        job_free(jb);
        return ok;
    }
    if (jb->cached &&
        srv_etag_matches(
            MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                        MHD_HTTP_HEADER_IF_NONE_MATCH),
            jb->gzip && jb->ans.gz ? jb->ans.etag_gz : jb->ans.etag)) {
        status = MHD_HTTP_NOT_MODIFIED;
        resp = srv_answer_response(&jb->ans, jb->gzip, 1, "miss");
    } else {
        resp = srv_answer_response(&jb->ans, jb->gzip, 0,
                                   jb->cached ? "miss" : NULL);
    }
    access_log(method, url, status, q, jb->user);
    ok = resp ? MHD_queue_response(c, (unsigned)status, resp) : MHD_NO;
    if (resp)
        MHD_destroy_response(resp);
    if (jb->cached)
        srv_cache_put(S.cache, jb->key, jb->stamp, &jb->ans);
    job_free(jb);
    return ok;
}

void srv_stats_get(srv_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (S.o == NULL || S.cache == NULL)
        return;
    out->workers = S.o->workers;
    pthread_mutex_lock(&S.pool_lock);
    out->analysis_threads = S.pool_n;
    out->jobs_queued = S.pool_queued;
    out->jobs_running = S.pool_running;
    out->jobs_done = S.pool_done;
    pthread_mutex_unlock(&S.pool_lock);
    srv_cache_counts(S.cache, &out->cache_hits, &out->cache_misses,
                     &out->cache_entries);
    out->cache_capacity = S.o->cache_entries;
    out->uptime_seconds = mono_seconds() - S.started;
}

/* Start n pool threads; 0, or -1 (those started are stopped). */
static int pool_start(int n)
{
    int i;

    if ((S.pool = calloc((size_t)n, sizeof(pthread_t))) == NULL)
        return -1;
    for (i = 0; i < n; i++)
        if (pthread_create(&S.pool[i], NULL, pool_main, NULL) != 0)
            break;
    S.pool_n = i;
    return i == n ? 0 : -1;
}

/* Stop the pool: the jobs queued are run and their connections resumed
 * first (libmicrohttpd must not stop with a connection suspended). */
static void pool_stop(void)
{
    int i;

    pthread_mutex_lock(&S.pool_lock);
    S.pool_stopping = 1;
    pthread_cond_broadcast(&S.pool_cond);
    pthread_mutex_unlock(&S.pool_lock);
    for (i = 0; i < S.pool_n; i++)
        pthread_join(S.pool[i], NULL);
    free(S.pool);
    S.pool = NULL;
    S.pool_n = 0;
}

/* A page, script or style of the web UI: an exact path of the embedded
 * set ("/" is "/index.html"), with no authentication (they hold no data:
 * the pages fetch it from the API with the token the user gives). */
static enum MHD_Result asset(struct MHD_Connection *c, const char *url,
                             const char *method, request *q)
{
    const srv_asset *a;
    const struct asset_forms *f;
    int gz, nm;

    if (strcmp(url, "/") == 0)
        url = "/index.html";
    for (a = srv_assets; a->path; a++)
        if (strcmp(a->path, url) == 0)
            break;
    if (a->path == NULL) {
        access_log(method, url, 404, q, NULL);
        return error_reply(c, MHD_HTTP_NOT_FOUND, "not_found", "no such page");
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        access_log(method, url, 405, q, NULL);
        return error_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                           "%s does not take %s", url, method);
    }
    f = &S.assets[a - srv_assets];
    gz = f->response[1] != NULL &&
         srv_accepts_gzip(MHD_lookup_connection_value(
             c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    nm =
        srv_etag_matches(MHD_lookup_connection_value(
                             c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH),
                         f->etag[gz]);
    access_log(method, url, nm ? 304 : 200, q, NULL);
    return MHD_queue_response(c, nm ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK,
                              nm ? f->not_modified[gz] : f->response[gz]);
}

/* One answer of an embedded file: body (len bytes; NULL for a 304), its
 * ETag, gzipped or not. NULL when out of memory. */
static struct MHD_Response *asset_response(const srv_asset *a, const void *body,
                                           size_t len, const char *etag, int gz)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        body ? len : 0, body ? (void *)body : (void *)"",
        MHD_RESPMEM_PERSISTENT);

    if (r &&
        (srv_add_headers(r, body ? a->type : NULL) != 0 ||
         MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag) != MHD_YES ||
         MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding") !=
             MHD_YES ||
         (gz && body &&
          MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING,
                                  "gzip") != MHD_YES))) {
        MHD_destroy_response(r);
        r = NULL;
    }
    return r;
}

/* Make every embedded file's answers once, gzipping the ones worth it for
 * the clients that take it (every browser): Chart.js is 200 KB as is,
 * 68 KB so. 0, or -1 when out of memory (assets_free frees what was
 * made). */
static int assets_make(void)
{
    size_t n = 0, i, len;
    int gz;

    while (srv_assets[n].path)
        n++;
    if ((S.assets = calloc(n + 1, sizeof(*S.assets))) == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        const srv_asset *a = &srv_assets[i];
        struct asset_forms *f = &S.assets[i];
        size_t el = strlen(a->etag);

        if (srv_gzip(a->data, a->len, &f->gz, &len) < 0)
            return -1;
        f->etag[0] = a->etag;
        /* The file's tag with "+gzip" inside its closing quote. */
        if (f->gz && el >= 2 && el + 6 < sizeof(f->etag_gz)) {
            snprintf(f->etag_gz, sizeof(f->etag_gz), "%.*s+gzip\"",
                     (int)(el - 1), a->etag);
            f->etag[1] = f->etag_gz;
        }
        for (gz = 0; gz < 2 && f->etag[gz]; gz++)
            if ((f->response[gz] =
                     asset_response(a, gz ? f->gz : a->data, gz ? len : a->len,
                                    f->etag[gz], gz)) == NULL ||
                (f->not_modified[gz] =
                     asset_response(a, NULL, 0, f->etag[gz], gz)) == NULL)
                return -1;
    }
    return 0;
}

static void assets_free(void)
{
    size_t i;
    int gz;

    for (i = 0; S.assets && srv_assets[i].path; i++) {
        for (gz = 0; gz < 2; gz++) {
            if (S.assets[i].response[gz])
                MHD_destroy_response(S.assets[i].response[gz]);
            if (S.assets[i].not_modified[gz])
                MHD_destroy_response(S.assets[i].not_modified[gz]);
        }
        free(S.assets[i].gz);
    }
    free(S.assets);
    S.assets = NULL;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
                               const char *url, const char *method,
                               const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    request *q = *con_cls;

    (void)cls;
    (void)version;
    if (q == NULL) {
        const char *cl = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

        if ((q = calloc(1, sizeof(*q))) == NULL)
            return MHD_NO;
        q->start = mono_seconds();
        *con_cls = q;
        if (cl && strtoull(cl, NULL, 10) > S.o->max_body) {
            q->too_big = 1;
            access_log(method, url, 413, q, NULL);
            return error_reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                               "the body is larger than the cap of %zu bytes",
                               S.o->max_body);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;

        if (!q->too_big && q->len + n > S.o->max_body) {
            q->too_big = 1;
        } else if (!q->too_big) {
            if (q->len + n + 1 > q->cap) {
                size_t cap = q->cap ? q->cap : 4096;
                char *b;

                while (cap < q->len + n + 1)
                    cap *= 2;
                if ((b = realloc(q->body, cap)) == NULL)
                    return MHD_NO;
                q->body = b;
                q->cap = cap;
            }
            memcpy(q->body + q->len, upload, n);
            q->len += n;
            q->body[q->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (q->job)
        return job_reply(c, url, method, q);
    if (q->too_big) {
        access_log(method, url, 413, q, NULL);
        return error_reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                           "the body is larger than the cap of %zu bytes",
                           S.o->max_body);
    }
    if (q->len && strcmp(method, "POST") == 0) {
        const char *type = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

        if (type == NULL || strncmp(type, "application/json", 16) != 0) {
            access_log(method, url, 415, q, NULL);
            return error_reply(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                               "unsupported_media_type",
                               "the body must be application/json");
        }
    }
    if (strcmp(url, "/api/v1") == 0 || strncmp(url, "/api/v1/", 8) == 0)
        return api(c, url, method, q);
    return asset(c, url, method, q);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode why)
{
    request *q = *con_cls;

    (void)cls;
    (void)c;
    (void)why;
    if (q) {
        /* A job that has run but whose answer was never asked for (the
         * connection ended); one still running is the pool's (it cannot
         * be: a suspended connection does not end). */
        if (q->job && q->job->done)
            job_free(q->job);
        free(q->body);
        free(q);
        *con_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("aipm serve: ", stderr);
    vfprintf(stderr, fmt, ap);
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >>
                24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

int srv_run(const srv_opts *o)
{
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    struct sockaddr *sa;
    struct MHD_Daemon *d = NULL;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO |
                     MHD_ALLOW_SUSPEND_RESUME;
    sigset_t set;
    unsigned port;
    int sig = 0, rc = 1;

    memset(&S, 0, sizeof(S));
    S.o = o;
    S.started = mono_seconds();
    memset(&v4, 0, sizeof(v4));
    memset(&v6, 0, sizeof(v6));
    if (inet_pton(AF_INET, o->host, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons((uint16_t)o->port);
        sa = (struct sockaddr *)&v4;
    } else if (inet_pton(AF_INET6, o->host, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((uint16_t)o->port);
        sa = (struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    } else {
        fprintf(stderr,
                "aipm: --listen: '%s' is not a numeric IPv4 or IPv6 address\n",
                o->host);
        return 1;
    }
    if (!is_loopback(sa))
        fprintf(stderr,
                "aipm serve: warning: listening on %s, which is not loopback: "
                "anyone who can reach it can try tokens; put TLS in front "
                "(the server speaks plain HTTP)\n",
                o->host);
    if (pthread_key_create(&S.key, worker_free) != 0 ||
        pthread_mutex_init(&S.rate_lock, NULL) != 0 ||
        srv_cache_new(&S.cache, o->cache_entries) != 0 ||
        (S.buckets = calloc(RATE_SLOTS, sizeof(bucket))) == NULL ||
        assets_make() != 0 || pthread_mutex_init(&S.pool_lock, NULL) != 0 ||
        pthread_cond_init(&S.pool_cond, NULL) != 0) {
        fprintf(stderr, "aipm: out of memory\n");
        return 2;
    }

    /* The workers inherit a mask without SIGINT and SIGTERM: this thread
     * alone takes them, in sigwait. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* The analysis pool: as many threads as workers. */
    if (pool_start(o->workers) != 0) {
        fprintf(stderr, "aipm: cannot start the analysis threads\n");
        goto done;
    }

    d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, handler, NULL,
                         MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                         MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_THREAD_POOL_SIZE,
                         (unsigned)o->workers, MHD_OPTION_CONNECTION_TIMEOUT,
                         o->timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                         (size_t)64 * 1024, MHD_OPTION_CONNECTION_LIMIT, 1000u,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                         MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "aipm: cannot listen on %s port %u: %s\n", o->host,
                o->port, errno ? strerror(errno) : "libmicrohttpd refused");
        goto done;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    port = info ? info->port : o->port;
    if (o->port_file) {
        FILE *f = fopen(o->port_file, "w");

        if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0) {
            fprintf(stderr, "aipm: %s: %s\n", o->port_file, strerror(errno));
            goto done;
        }
    }
    fprintf(stderr,
            "aipm serve: http://%s%s%s:%u/ (%d workers); Ctrl-C stops\n",
            sa->sa_family == AF_INET6 ? "[" : "", o->host,
            sa->sa_family == AF_INET6 ? "]" : "", port, o->workers);
    sigwait(&set, &sig);
    fprintf(stderr, "aipm serve: stopping (%s)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;
done:
    /* The pool first: it resumes what it holds; then the workers. */
    pool_stop();
    if (d)
        MHD_stop_daemon(d);
    srv_cache_free(S.cache);
    free(S.buckets);
    assets_free();
    pthread_mutex_destroy(&S.pool_lock);
    pthread_cond_destroy(&S.pool_cond);
    pthread_mutex_destroy(&S.rate_lock);
    pthread_key_delete(S.key);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return rc;
}
