/* serve.h - what the HTTP server's files share: its options, a request as
 * a handler sees it, the route table and the response cache.
 *
 * The server (server.c) owns the sockets, limits, authentication, rate
 * limits, headers and the cache; a route (api.c) is a function from a
 * request to a JSON document, calling the same library operations and
 * views (src/cli/views.h) the CLI calls. Handlers run on libmicrohttpd's
 * worker threads, each with its own store connection and config
 * (srv_req's st and cfg), so they share nothing but the cache and the
 * rate limiter, which lock.
 */
#ifndef AIPM_SERVE_H
#define AIPM_SERVE_H

#include "aipm/aipm.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What `aipm serve` was asked for (cmd_serve.c fills it). */
typedef struct srv_opts {
    char host[256];           /* the address to bind, numeric */
    unsigned port;            /* 0: any free port (the tests' choice) */
    int workers;              /* libmicrohttpd's thread pool */
    size_t max_body;          /* request body cap, bytes */
    unsigned timeout;         /* idle connection timeout, seconds */
    double rate;              /* requests per second per token; 0: no limit */
    double burst;             /* the bucket's size */
    size_t cache_entries;     /* response cache capacity */
    const char *sign_for[16]; /* approvers whose key the server signs with */
    int n_sign_for;
    int access_log;        /* a line per request on stderr */
    const char *port_file; /* write the bound port here once listening */
    /* The workspace, as the CLI resolved it. */
    const char *dir;
    const char *yaml; /* aipm.yaml, "" for none (--store alone) */
    const char *store_url;
    const char *checkpoint;
    const char *graph_snapshot;
} srv_opts;

/* Serve until SIGINT or SIGTERM. Prints a one-line error and returns
 * non-zero when the server cannot start. */
int srv_run(const srv_opts *o);

/* ---- parsing what a request says (parse.c: no libmicrohttpd, fuzzed by
 * tests/fuzz/serve_fuzzer.c) ---- */

#define MAX_SEGMENTS 8
#define SEGMENT_MAX 128

/* Split path into its segments (empty ones, from repeated slashes, are
 * dropped). 0, or -1 for more than MAX_SEGMENTS or one of SEGMENT_MAX
 * bytes or more. */
int srv_path_split(const char *path, char seg[MAX_SEGMENTS][SEGMENT_MAX],
                   int *n);

/* Whether a '*' segment may hold s: letters, digits and - _ . : @ (ids,
 * names, keys, model references), not empty, not starting with a dot. */
int srv_segment_ok(const char *s);

/* Whether the n segments match pattern (e.g. "/api/v1/models/" then a
 * star segment): literal
 * segments equal, each '*' (at most 2) a segment srv_segment_ok takes,
 * which goes to params (pointers into seg). */
int srv_path_match(const char *pattern, char seg[MAX_SEGMENTS][SEGMENT_MAX],
                   int n, const char *params[2]);

/* Whether an If-None-Match header's list (comma-separated ETags, weak
 * or strong, or "*"; NULL for none) names etag. */
int srv_etag_matches(const char *list, const char *etag);

/* Whether an Accept-Encoding list (NULL for none) takes gzip: gzip or
 * x-gzip with a q above 0, or, when neither is named, "*" with a q above
 * 0 (RFC 9110 12.5.3). A malformed q counts as 0. */
int srv_accepts_gzip(const char *list);

/* Split a query "a=1&b&c=3" in place into at most max names and values
 * (a name without '=' has the value ""; pieces without a name are
 * skipped); the
 * number of arguments. */
int srv_query_split(char *query, const char **names, const char **values,
                    int max);

/* ---- a request, as a route's handler sees it ---- */

typedef struct srv_req srv_req;

/* The most query arguments a request may carry. */
#define SRV_MAX_ARGS 32

struct srv_req {
    aipm_store *st;         /* this worker's connection */
    const aipm_config *cfg; /* this worker's copy of aipm.yaml */
    const srv_opts *opts;
    const char *user; /* the token's user */
    int role;         /* AIPM_ROLE_* */
    const char *body; /* POST: the body (NUL-terminated), else NULL */
    size_t body_len;
    const char *param[2]; /* the route's path segments matched by '*' */
    int post;             /* a POST (a write) */
    int64_t now_ms;
    void *conn; /* the connection (server.c reads arguments), NULL in
                 * process (srv_get) */
    /* In process: the query's arguments (srv_get splits them here). */
    char query[1024];
    const char *arg_name[SRV_MAX_ARGS], *arg_value[SRV_MAX_ARGS];
    int n_args;
    int status; /* the HTTP status when not 200 (a handler may
                 * set 201, 202) */
};

/* The server's own figures, for GET /api/v1/server. */
typedef struct srv_stats {
    int workers, analysis_threads;
    size_t jobs_queued, jobs_running; /* on the analysis threads */
    uint64_t jobs_done;
    uint64_t cache_hits, cache_misses;
    size_t cache_entries, cache_capacity;
    double uptime_seconds;
} srv_stats;

/* The figures now (zeros in process, where no server runs). */
void srv_stats_get(srv_stats *out);

/* Whether the server signs with user's key (--sign-for). */
int srv_signs_for(const srv_opts *o, const char *user);

/* Answer GET path (with its "?name=value&..." query; values are taken
 * as they are, not URL-decoded) in process, as the server would, with the
 * store, config, options, user and time of base: the route's document
 * into *out. AIPM_ENOTFOUND for no such GET route; else the route's
 * error, or AIPM_EINVALID for an argument it does not take. The report
 * (report.c) is made this way. */
int srv_get(const srv_req *base, const char *path, json_t **out,
            aipm_error *err);

/* Write the self-contained HTML report (report.c) of the workspace that
 * base reads to out: the documents of the dashboard's pages, computed as
 * the API computes them, with the UI's scripts, styles and Chart.js
 * inlined; progress(ctx, done, total) per document (may be NULL).
 * *n_docs gets the number of documents. Errors as srv_get's, or AIPM_EIO
 * when out cannot be written. */
int srv_report(const srv_req *base, FILE *out,
               void (*progress)(void *ctx, uint64_t done, uint64_t total),
               void *ctx, int *n_docs, aipm_error *err);

/* The query argument name of the request, or NULL. */
const char *srv_arg(const srv_req *r, const char *name);

/* An integer query argument within [lo, hi] into *out (def when absent).
 * AIPM_EINVALID, naming it, for another value. */
int srv_arg_i64(const srv_req *r, const char *name, int64_t lo, int64_t hi,
                int64_t def, int64_t *out, aipm_error *err);

/* The body as a JSON object whose keys are among the NULL-terminated
 * allowed (*out: a new reference). AIPM_EINVALID for malformed JSON, a
 * value that is no object, or an unknown key (named). */
int srv_body_object(const srv_req *r, const char *const *allowed, json_t **out,
                    aipm_error *err);

/* A route: METHOD and a path pattern whose '*' segments match one path
 * segment (at most 2), the least role it needs, the query arguments it
 * takes (NULL-terminated; another one is an error, never ignored), and
 * whether its GET answers may be cached. fn returns AIPM_OK and the
 * document, or an error code with err (srv_status maps it). */
typedef int (*srv_fn)(srv_req *r, json_t **out, aipm_error *err);

typedef struct srv_route {
    const char *method;
    const char *pattern;
    int role;
    const char *const *args;
    int cache;
    srv_fn fn;
    const char *what; /* one line for GET /api/v1 */
    int quick;        /* answered on the worker that read the request (no
                       * analysis, no store work beyond a lookup), never
                       * queued for the analysis threads */
} srv_route;

/* The routes, ended by an entry with a NULL method. */
extern const srv_route srv_routes[];

/* The HTTP status of an error code, and its JSON error code. */
int srv_status(int code, const char **name);

/* ---- the embedded web UI ---- */

/* A file of the web UI, embedded at build time (cmake/embed.cmake). */
typedef struct srv_asset {
    const char *path; /* the URL path, "/index.html" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
    const char *etag; /* quoted */
} srv_asset;

/* The assets, ended by an entry with a NULL path. */
extern const srv_asset srv_assets[];

/* Add the headers every response carries (security headers, and
 * Content-Type when type is not NULL) to response (a struct
 * MHD_Response *). 0, or -1 when one could not be added. */
int srv_add_headers(void *response, const char *type);

/* ---- answers and the response cache ----
 *
 * An answer is a JSON body ready to send as is or gzipped: its ETags are
 * the first 128 bits of the body's SHA-256, quoted, the gzipped one
 * ending in "+gzip" (another representation, so another strong tag). */
typedef struct srv_answer {
    char *text; /* the body (owned) */
    size_t len;
    void *gz; /* gzipped (owned); NULL when short or not worth it */
    size_t gz_len;
    char etag[48], etag_gz[56];
} srv_answer;

/* Gzip n bytes at level 6: 1 with *out (malloc'd) and *out_n, 0 when the
 * input is under 1 KB or the result would not save a tenth (*out NULL),
 * -1 when out of memory. */
int srv_gzip(const void *in, size_t n, void **out, size_t *out_n);
/* Make an answer of text (malloc'd, NUL-ended; the answer takes it
 * over), gzipped too when compress; 0, or -1 when out of memory (text is
 * the answer's either way: srv_answer_clear frees it). */
int srv_answer_make(srv_answer *a, char *text, int compress);
void srv_answer_clear(srv_answer *a);
/* A response (a struct MHD_Response *) of the answer: gzipped when gz and
 * the answer has that form, else as is; empty for a 304 when
 * not_modified; with the security headers, Vary: Accept-Encoding, and,
 * when cache is not NULL, the ETag and X-Aipm-Cache: cache. NULL when out
 * of memory. */
void *srv_answer_response(const srv_answer *a, int gz, int not_modified,
                          const char *cache);

/* The cache is keyed by the request's (route, arguments) and valid for
 * one inputs stamp: the audit log's head, aipm.yaml's identity and the day
 * (every accepted batch, decision, model change and policy change appends
 * to the audit log). An entry holds ready responses in both codings; a
 * lookup queues one while it holds the cache's lock, so an entry replaced
 * meanwhile is not freed under it. */
typedef struct srv_cache srv_cache;

int srv_cache_new(srv_cache **out, size_t capacity);
void srv_cache_free(srv_cache *c);
/* Queue the cached response for key at stamp on conn, gzipped when gzip
 * (the client takes it) and the entry has that form: 1 when done, 0 on a
 * miss, -1 when queueing failed. When the client's If-None-Match names
 * the ETag of the form it would get, a 304 is queued instead. */
int srv_cache_queue(srv_cache *c, const char *key, const char *stamp,
                    const char *if_none_match, int gzip, void *conn);
/* Keep answer a's responses for key at stamp (the cache makes its own
 * copies), replacing an older entry of key or, when full, the least
 * recently used one. Out of memory: nothing is kept. */
void srv_cache_put(srv_cache *c, const char *key, const char *stamp,
                   const srv_answer *a);
/* Hits and misses so far (for GET /api/v1/server). */
void srv_cache_counts(srv_cache *c, uint64_t *hits, uint64_t *misses,
                      size_t *entries);

#endif
