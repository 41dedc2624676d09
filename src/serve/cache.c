/* cache.c - the server's response cache: ready responses of cached GET
 * routes, keyed by (route, arguments) and valid for one inputs stamp.
 *
 * A fixed-size open hash of entries (chained, FNV-1a over the key) under a
 * read-write lock. A lookup holds the read lock while it queues the entry's
 * response, so a writer replacing the entry cannot destroy the response
 * under it (libmicrohttpd counts the connection's own reference once it is
 * queued). Recency is an atomic tick per entry, written under the read
 * lock; eviction (under the write lock) takes the entry with the oldest
 * tick, a scan of the table that only a put into a full cache pays. A
 * stale entry (another stamp) is a miss and is replaced by the next put.
 */
#include "serve.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *next;
    char *key;
    char stamp[128];
    char etag[48];
    struct MHD_Response *response;
    struct MHD_Response *not_modified; /* 304 with the ETag */
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
    if (e == NULL)
        return;
    if (e->response)
        MHD_destroy_response(e->response);
    if (e->not_modified)
        MHD_destroy_response(e->not_modified);
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
                    const char *if_none_match, void *conn)
{
    entry *e;
    int rc = 0;

    pthread_rwlock_rdlock(&c->lock);
    e = find(c, key, NULL);
    if (e && strcmp(e->stamp, stamp) == 0) {
        int nm = srv_etag_matches(if_none_match, e->etag);

        atomic_store(&e->used, atomic_fetch_add(&c->tick, 1) + 1);
        rc = MHD_queue_response(conn, nm ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK,
                                nm ? e->not_modified : e->response) == MHD_YES
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
                   const char *etag, void *response)
{
    entry *e = calloc(1, sizeof(*e)), *old, **link;

    if (e == NULL || (e->key = strdup(key)) == NULL ||
        strlen(stamp) >= sizeof(e->stamp) || strlen(etag) >= sizeof(e->etag) ||
        (e->not_modified = MHD_create_response_from_buffer(
             0, (void *)"", MHD_RESPMEM_PERSISTENT)) == NULL ||
        srv_add_headers(e->not_modified, NULL) != 0 ||
        MHD_add_response_header(e->not_modified, MHD_HTTP_HEADER_ETAG, etag) !=
            MHD_YES) {
        if (e)
            e->response = response;
        else
            MHD_destroy_response(response);
        entry_free(e);
        return;
    }
    memcpy(e->stamp, stamp, strlen(stamp) + 1);
    memcpy(e->etag, etag, strlen(etag) + 1);
    e->response = response;
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
