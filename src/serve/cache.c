/* cache.c - the server's response cache: ready responses of cached GET
 * routes, keyed by (route, arguments) and valid for one inputs stamp; and
 * the answers they are made of, in both codings.
 *
 * A fixed-size open hash of entries (chained, FNV-1a over the key) under a
 * read-write lock. A lookup holds the read lock while it queues the entry's
 * response, so a writer replacing the entry cannot destroy the response
 * under it (libmicrohttpd counts the connection's own reference once it is
 * queued). Recency is an atomic tick per entry, written under the read
 * lock; eviction (under the write lock) takes the entry with the oldest
 * tick, a scan of the table that only a put into a full cache pays. A
 * stale entry (another stamp) is a miss and is replaced by the next put.
 *
 * An entry keeps its body twice when that pays: as is, and gzipped once
 * at the put (zlib level 6), for the clients whose Accept-Encoding takes
 * gzip - a browser always does, and the 115 KB roadmap of the demo is
 * 22 KB so. The
 * two are different representations, so they have different strong
 * ETags (the gzip one ends in "+gzip") and every answer says Vary:
 * Accept-Encoding.
 */
#include "serve.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Bodies under this many bytes go as they are: a gzip header and the
 * work are not worth a few hundred bytes. */
#define GZIP_MIN 1024

int srv_gzip(const void *in, size_t n, void **out, size_t *out_n)
{
    z_stream z;
    uLong bound;
    unsigned char *buf;
    int rc;

    *out = NULL;
    *out_n = 0;
    if (n < GZIP_MIN || n > (size_t)UINT32_MAX)
        return 0;
    memset(&z, 0, sizeof(z));
    /* 15 + 16: a gzip wrapper around a 32 KB window. */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    bound = deflateBound(&z, (uLong)n);
    if ((buf = malloc(bound)) == NULL) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = buf;
    z.avail_out = (uInt)bound;
    rc = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    /* Kept only when it saves at least a tenth. */
    if (rc != Z_STREAM_END || z.total_out >= n - n / 10) {
        free(buf);
        return rc == Z_STREAM_END ? 0 : -1;
    }
    *out = buf;
    *out_n = z.total_out;
    return 1;
}

int srv_answer_make(srv_answer *a, char *text, int compress)
{
    uint8_t h[32];
    char hex[33];
    aipm_sha256 sh;

    memset(a, 0, sizeof(*a));
    a->text = text;
    a->len = strlen(text);
    aipm_sha256_init(&sh);
    aipm_sha256_update(&sh, text, a->len);
    aipm_sha256_final(&sh, h);
    aipm_hex(hex, h, 16);
    snprintf(a->etag, sizeof(a->etag), "\"%s\"", hex);
    snprintf(a->etag_gz, sizeof(a->etag_gz), "\"%s+gzip\"", hex);
    if (compress && srv_gzip(text, a->len, &a->gz, &a->gz_len) < 0)
        return -1;
    return 0;
}

void srv_answer_clear(srv_answer *a)
{
    free(a->text);
    free(a->gz);
    memset(a, 0, sizeof(*a));
}

void *srv_answer_response(const srv_answer *a, int gz, int not_modified,
                          const char *cache)
{
    struct MHD_Response *r;

    gz = gz && a->gz;
    if (not_modified)
        r = MHD_create_response_from_buffer(0, (void *)"",
                                            MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(gz ? a->gz_len : a->len,
                                            gz ? a->gz : (void *)a->text,
                                            MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return NULL;
    if (srv_add_headers(r, not_modified ? NULL : "application/json") != 0 ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding") !=
            MHD_YES ||
        (cache &&
         (MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG,
                                  gz ? a->etag_gz : a->etag) != MHD_YES ||
          MHD_add_response_header(r, "X-Aipm-Cache", cache) != MHD_YES)) ||
        (gz && !not_modified &&
         MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip") !=
             MHD_YES)) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

typedef struct entry {
    struct entry *next;
    char *key;
    char stamp[128];
    char etag[48], etag_gz[56];
    /* [0] as is, [1] gzipped (NULL when the body is not kept so) */
    struct MHD_Response *response[2];
    struct MHD_Response *not_modified[2]; /* 304s with their ETags */
    atomic_uint_fast64_t used;
} entry;

struct srv_cache {
    pthread_rwlock_t lock;
    entry **buckets;
    size_t n_buckets, n, capacity;
    atomic_uint_fast64_t tick, hits, misses;
};

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

int srv_cache_new(srv_cache **out, size_t capacity)
{
    srv_cache *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (c == NULL)
        return -1;
    c->capacity = capacity ? capacity : 1;
    c->n_buckets = 2 * c->capacity + 1;
    if ((c->buckets = calloc(c->n_buckets, sizeof(entry *))) == NULL ||
        pthread_rwlock_init(&c->lock, NULL) != 0) {
        free(c->buckets);
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

static void entry_free(entry *e)
{
    int i;

    if (e == NULL)
        return;
    for (i = 0; i < 2; i++) {
        if (e->response[i])
            MHD_destroy_response(e->response[i]);
        if (e->not_modified[i])
            MHD_destroy_response(e->not_modified[i]);
    }
    free(e->key);
    free(e);
}

void srv_cache_free(srv_cache *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n_buckets; i++) {
        entry *e = c->buckets[i], *next;

        for (; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    }
    pthread_rwlock_destroy(&c->lock);
    free(c->buckets);
    free(c);
}

static entry *find(srv_cache *c, const char *key, entry ***link)
{
    entry **p = &c->buckets[hash(key) % c->n_buckets];

    for (; *p; p = &(*p)->next)
        if (strcmp((*p)->key, key) == 0)
            break;
    if (link)
        *link = p;
    return *p;
}

int srv_cache_queue(srv_cache *c, const char *key, const char *stamp,
                    const char *if_none_match, int gzip, void *conn)
{
    entry *e;
    int rc = 0;

    pthread_rwlock_rdlock(&c->lock);
    e = find(c, key, NULL);
    if (e && strcmp(e->stamp, stamp) == 0) {
        int gz = gzip && e->response[1] != NULL;
        int nm = srv_etag_matches(if_none_match, gz ? e->etag_gz : e->etag);

        atomic_store(&e->used, atomic_fetch_add(&c->tick, 1) + 1);
        rc = MHD_queue_response(conn, nm ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK,
                                nm ? e->not_modified[gz] : e->response[gz]) ==
                     MHD_YES
                 ? 1
                 : -1;
    }
    pthread_rwlock_unlock(&c->lock);
    atomic_fetch_add(rc == 1 ? &c->hits : &c->misses, 1);
    return rc;
}

/* Drop the least recently used entry (write lock held). */
static void evict(srv_cache *c)
{
    entry *oldest = NULL, **oldest_link = NULL;
    size_t i;

    for (i = 0; i < c->n_buckets; i++) {
        entry **p;

        for (p = &c->buckets[i]; *p; p = &(*p)->next)
            if (oldest == NULL ||
                atomic_load(&(*p)->used) < atomic_load(&oldest->used)) {
                oldest = *p;
                oldest_link = p;
            }
    }
    if (oldest) {
        *oldest_link = oldest->next;
        entry_free(oldest);
        c->n--;
    }
}

void srv_cache_put(srv_cache *c, const char *key, const char *stamp,
                   const srv_answer *a)
{
    entry *e = calloc(1, sizeof(*e)), *old, **link;
    int gz;

    if (e == NULL || (e->key = strdup(key)) == NULL ||
        strlen(stamp) >= sizeof(e->stamp)) {
        entry_free(e);
        return;
    }
    for (gz = 0; gz < 2; gz++) {
        if (gz && a->gz == NULL)
            break;
        if ((e->response[gz] = srv_answer_response(a, gz, 0, "hit")) == NULL ||
            (e->not_modified[gz] = srv_answer_response(a, gz, 1, "hit")) ==
                NULL) {
            entry_free(e);
            return;
        }
    }
    memcpy(e->stamp, stamp, strlen(stamp) + 1);
    memcpy(e->etag, a->etag, sizeof(e->etag));
    memcpy(e->etag_gz, a->etag_gz, sizeof(e->etag_gz));
    atomic_store(&e->used, atomic_fetch_add(&c->tick, 1) + 1);

    pthread_rwlock_wrlock(&c->lock);
    if ((old = find(c, key, &link)) != NULL) {
        *link = old->next;
        c->n--;
    }
    if (c->n >= c->capacity)
        evict(c);
    link = &c->buckets[hash(key) % c->n_buckets];
    e->next = *link;
    *link = e;
    c->n++;
    pthread_rwlock_unlock(&c->lock);
    entry_free(old);
}

void srv_cache_counts(srv_cache *c, uint64_t *hits, uint64_t *misses,
                      size_t *entries)
{
    *hits = atomic_load(&c->hits);
    *misses = atomic_load(&c->misses);
    pthread_rwlock_rdlock(&c->lock);
    *entries = c->n;
    pthread_rwlock_unlock(&c->lock);
}
