/* snapshot.c - the graph saved to a file, and the store's version it is
 * of, so that a later build reads it and folds in only what is new.
 *
 * The file, native byte order (another machine's file is only rebuilt):
 *
 *   header       168 bytes: magic, format, byte-order mark, the version
 *                (store and catalog digests, newest batch, events rowid
 *                and graph rid), section sizes, the sections' checksum
 *   batches      80 bytes each: id, dataset, content SHA-256
 *   relations    names, each NUL-terminated, in index order
 *   node ids     each NUL-terminated, in node order
 *   out-degrees  4 bytes a node
 *   in-degrees   4 bytes a node
 *   out-edges    16 bytes each (struct adj), by source, each source's by
 *                (relation, destination)
 *   in-edges     the same by destination, each destination's by source
 *
 * each section padded with zeros to a multiple of 8 bytes. The file is
 * read whole into one buffer (not mapped: a file truncated or rewritten in
 * place while in use must not crash us or change what was checked), and
 * the edges used where they lie in it: restoring costs the read, the
 * checksum, the node ids' map and one check of every edge. A file
 * that does not add up - sizes, counts, node numbers, order, the checksum
 * - is never used; the build is full and says why. The file holds user
 * ids, so it is written 0600 through core's safe writer (a temporary
 * name, fsync, renamed over the old one: a reader sees one or the other,
 * whole).
 */
#include "graph/graph_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_MAGIC "AIPMGRPH"
#define SNAP_FORMAT 1
#define BYTE_ORDER_MARK 0x01020304u

typedef struct snap_header {
    char magic[8];
    uint32_t format, byte_order;
    uint8_t catalog[32];
    uint8_t store[32];
    int64_t max_batch, events_rowid, graph_rid;
    uint64_t n_batches, relations_len, n_relations, n_nodes, ids_len, n_edges;
    uint64_t flags; /* SNAP_CSV_BUILTIN */
    uint64_t checksum;
} snap_header;

/* graph.csv held member_of, uses or depends_on edges: the full build
 * reads them last-loaded-wins against the events', which a delta cannot
 * reproduce, so such a snapshot is only a record. */
#define SNAP_CSV_BUILTIN 1u

typedef struct snap_batch {
    int64_t id;
    int32_t dataset;
    char sha[64];
    int32_t unused;
} snap_batch;

_Static_assert(sizeof(snap_header) == 168, "the header has no padding");
_Static_assert(sizeof(snap_batch) == 80, "a batch entry has no padding");
_Static_assert(sizeof(adj) == 16, "an edge has no padding");

/* ---- the version ---- */

/* The accepted events and graph batches of the store's batches (read
 * with, as of the same moment, the newest batch and rows: one read). */
static int on_batch(void *ctx, const aipm_batch_state *row)
{
    graph_version *v = ctx;
    graph_batch *b;
    int dataset;

    dataset = strcmp(row->dataset, "events") == 0  ? 0
              : strcmp(row->dataset, "graph") == 0 ? 1
                                                   : -1;
    if (dataset < 0 || strcmp(row->status, "accepted") != 0)
        return 0;
    if (aipm_grow(&v->batches, &v->cap_batches, v->n_batches + 1,
                  sizeof(*v->batches)) != 0)
        return AIPM_ENOMEM;
    b = &v->batches[v->n_batches++];
    b->id = row->id;
    b->dataset = dataset;
    snprintf(b->sha, sizeof(b->sha), "%s", row->content_sha256);
    return 0;
}

/* What of the catalog the graph reads: features, their events and
 * dependencies, in order. */
static void catalog_digest(const aipm_config *cfg, uint8_t out[32])
{
    aipm_sha256 h;
    int f, k;

    aipm_sha256_init(&h);
    for (f = 0; f < cfg->n_catalog; f++) {
        const aipm_feature *ft = &cfg->catalog[f];

        aipm_sha256_update(&h, ft->key, strlen(ft->key) + 1);
        for (k = 0; k < ft->n_events; k++)
            aipm_sha256_update(&h, ft->events[k], strlen(ft->events[k]) + 1);
        aipm_sha256_update(&h, "\001", 1);
        for (k = 0; k < ft->n_depends_on; k++)
            aipm_sha256_update(&h, ft->depends_on[k],
                               strlen(ft->depends_on[k]) + 1);
        aipm_sha256_update(&h, "\002", 1);
    }
    aipm_sha256_final(&h, out);
}

int aipm_graph__version(graph_version *v, aipm_store *st,
                        const aipm_config *cfg, aipm_error *err)
{
    const char *ns = aipm_store_namespace(st);
    aipm_store_mark mark = {0, 0, 0};
    int rc;

    memset(v, 0, sizeof(*v));
    catalog_digest(cfg, v->catalog);
    aipm_sha256_oneshot(v->store, ns, strlen(ns));
    rc = aipm_store_batch_states(st, on_batch, v, &mark, err);
    v->max_batch = mark.batch;
    v->events_rowid = mark.event_row;
    v->graph_rid = mark.graph_row;
    if (rc == AIPM_ENOMEM)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    return rc;
}

int aipm_graph__version_holds(const graph_version *v,
                              const graph_version *later)
{
    size_t i, j = 0;

    for (i = 0; i < later->n_batches && later->batches[i].id <= v->max_batch;
         i++, j++)
        if (j == v->n_batches || later->batches[i].id != v->batches[j].id ||
            later->batches[i].dataset != v->batches[j].dataset ||
            strcmp(later->batches[i].sha, v->batches[j].sha) != 0)
            return 0;
    return j == v->n_batches;
}

void aipm_graph__version_free(graph_version *v)
{
    free(v->batches);
    memset(v, 0, sizeof(*v));
}

/* ---- the checksum: four lanes of multiply-rotate over 8-byte words
 * (the primes are xxHash's, Collet 2014), fast enough not to show next
 * to reading the file ---- */

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t lane(uint64_t acc, uint64_t word)
{
    return rotl(acc + word * P2, 31) * P1;
}

static uint64_t checksum(uint64_t seed, const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t l[4] = {seed + P1, seed ^ P2, seed + P3, seed - P1}, w, h;
    size_t i = 0;
    int k;

    for (; i + 32 <= n; i += 32)
        for (k = 0; k < 4; k++) {
            memcpy(&w, p + i + 8 * k, 8);
            l[k] = lane(l[k], w);
        }
    h = rotl(l[0], 1) + rotl(l[1], 7) + rotl(l[2], 12) + rotl(l[3], 18) + n;
    for (; i < n; i++)
        h = rotl(h ^ (p[i] * P3), 11) * P1;
    h ^= h >> 33;
    h *= P2;
    return h ^ (h >> 29);
}

/* ---- the sections ---- */

static size_t pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

enum {
    SEC_BATCHES,
    SEC_RELATIONS,
    SEC_IDS,
    SEC_OUT_DEGREE,
    SEC_IN_DEGREE,
    SEC_OUT,
    SEC_IN,
    N_SECTIONS
};

/* Each section's size in the file (padded to 8 bytes, so that every one
 * starts aligned); 0, or -1 when the header's counts cannot be a file's. */
static int section_sizes(const snap_header *h, uint64_t size[N_SECTIONS])
{
    if (h->n_batches > (1ull << 40) || h->relations_len > (1ull << 40) ||
        h->ids_len > (1ull << 40) || h->n_nodes > MAX_NODES ||
        h->n_edges > (1ull << 40))
        return -1;
    size[SEC_BATCHES] = h->n_batches * sizeof(snap_batch);
    size[SEC_RELATIONS] = pad8(h->relations_len);
    size[SEC_IDS] = pad8(h->ids_len);
    size[SEC_OUT_DEGREE] = size[SEC_IN_DEGREE] =
        pad8(h->n_nodes * sizeof(uint32_t));
    size[SEC_OUT] = size[SEC_IN] = h->n_edges * sizeof(adj);
    return 0;
}

/* Where each section starts in a file of file_size bytes whose header is
 * h, off[], and its size, size[]. 0, or -1 when the sections do not add
 * up to the file. */
static int layout(const snap_header *h, uint64_t file_size,
                  uint64_t off[N_SECTIONS], uint64_t size[N_SECTIONS])
{
    uint64_t total = sizeof(*h);
    int k;

    if (file_size < sizeof(*h) || section_sizes(h, size) != 0)
        return -1;
    for (k = 0; k < N_SECTIONS; k++) {
        if (size[k] > file_size - total)
            return -1;
        off[k] = total;
        total += size[k];
    }
    return total == file_size ? 0 : -1;
}

/* The checksum of the sections of the file at p. */
static uint64_t sections_checksum(const char *p, const uint64_t off[N_SECTIONS],
                                  const uint64_t size[N_SECTIONS])
{
    uint64_t sum = 0;
    int k;

    for (k = 0; k < N_SECTIONS; k++)
        sum = checksum(sum, p + off[k], size[k]);
    return sum;
}
/* ---- saving ---- */

typedef struct writer {
    FILE *f;
    uint64_t sum;
    int failed;
} writer;

static void put(writer *w, const void *data, size_t n)
{
    w->sum = checksum(w->sum, data, n);
    if (n && fwrite(data, 1, n, w->f) != n)
        w->failed = 1;
}

static uint32_t *degrees(const size_t *start, size_t n_nodes)
{
    uint32_t *d = calloc(pad8(n_nodes * sizeof(uint32_t)) + 8, 1);
    size_t i;

    for (i = 0; d && i < n_nodes; i++)
        d[i] = (uint32_t)(start[i + 1] - start[i]);
    return d;
}

/* Remove the temporary files of saves whose process is gone (killed
 * mid-write: each is as big as a snapshot): PATH.tmpPID, PID not alive. */
static void sweep(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t base_len = strlen(base);
    char dir[4096];
    struct dirent *e;
    DIR *d;

    if (slash == NULL)
        strcpy(dir, ".");
    else if (slash == path)
        strcpy(dir, "/");
    else if ((size_t)(slash - path) < sizeof(dir)) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    } else
        return;
    if ((d = opendir(dir)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        const char *tail = e->d_name + base_len;
        char *end;
        long pid;

        if (strncmp(e->d_name, base, base_len) != 0 ||
            strncmp(tail, ".tmp", 4) != 0)
            continue;
        if (tail[4] == '.') /* aipm_file_tmp_open's "<path>.tmp.<pid>" */
            tail++;
        pid = strtol(tail + 4, &end, 10);
        if (end == tail + 4 || *end != '\0' || pid <= 0 ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* not a temporary name, or its process lives */
        unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

int aipm_graph__save(const aipm_graph *g, const graph_version *v,
                     const char *path, aipm_error *err)
{
    size_t n_nodes = (size_t)g->nodes.n_keys, i, at;
    uint64_t size[N_SECTIONS] = {0};
    char tmp[4200], *ids = NULL, *rel = NULL;
    uint32_t *out_degree = degrees(g->out_start, n_nodes);
    uint32_t *in_degree = degrees(g->in_start, n_nodes);
    snap_batch *batches = calloc(v->n_batches + 1, sizeof(snap_batch));
    snap_header h;
    writer w = {NULL, 0, 0};
    int fd = -1, rc = AIPM_ENOMEM;

    memset(&h, 0, sizeof(h));
    memcpy(h.magic, SNAP_MAGIC, 8);
    h.format = SNAP_FORMAT;
    h.byte_order = BYTE_ORDER_MARK;
    memcpy(h.catalog, v->catalog, 32);
    memcpy(h.store, v->store, 32);
    h.max_batch = v->max_batch;
    h.events_rowid = v->events_rowid;
    h.graph_rid = v->graph_rid;
    h.n_batches = v->n_batches;
    h.n_relations = (uint64_t)g->relations.n_keys;
    h.n_nodes = n_nodes;
    h.n_edges = g->out_start[n_nodes];
    h.flags = g->csv_builtin ? SNAP_CSV_BUILTIN : 0;
    for (i = 0; i < n_nodes; i++)
        h.ids_len += g->nodes.key_lens[i] + 1;
    for (i = 0; i < (size_t)g->relations.n_keys; i++)
        h.relations_len += g->relations.key_lens[i] + 1;
    section_sizes(&h, size);
    if (!out_degree || !in_degree || !batches ||
        (ids = calloc(size[SEC_IDS] + 8, 1)) == NULL ||
        (rel = calloc(size[SEC_RELATIONS] + 8, 1)) == NULL)
        goto done;
    for (i = 0, at = 0; i < n_nodes; i++) {
        memcpy(ids + at, g->nodes.keys[i], g->nodes.key_lens[i] + 1);
        at += g->nodes.key_lens[i] + 1;
    }
    for (i = 0, at = 0; i < (size_t)g->relations.n_keys; i++) {
        memcpy(rel + at, g->relations.keys[i], g->relations.key_lens[i] + 1);
        at += g->relations.key_lens[i] + 1;
    }
    for (i = 0; i < v->n_batches; i++) {
        batches[i].id = v->batches[i].id;
        batches[i].dataset = v->batches[i].dataset;
        memcpy(batches[i].sha, v->batches[i].sha, 64);
    }
    /* A new file of our own through core's safe writer: whatever lies at
     * the temporary name (a leftover of a killed run, a link) is replaced,
     * never written through. */
    if ((rc = aipm_file_tmp_open(&fd, tmp, sizeof(tmp), path, 0600, err)) != 0)
        goto done;
    rc = AIPM_ENOMEM;
    if ((w.f = fdopen(fd, "wb")) == NULL) {
        rc = aipm_error_set(err, AIPM_EIO, "cannot write %s: %s", tmp,
                            strerror(errno));
        aipm_file_tmp_abort(fd, tmp);
        goto done;
    }
    if (fwrite(&h, sizeof(h), 1, w.f) != 1) /* again, with the checksum */
        w.failed = 1;
    put(&w, batches, size[SEC_BATCHES]);
    put(&w, rel, size[SEC_RELATIONS]);
    put(&w, ids, size[SEC_IDS]);
    put(&w, out_degree, size[SEC_OUT_DEGREE]);
    put(&w, in_degree, size[SEC_IN_DEGREE]);
    put(&w, g->out, size[SEC_OUT]);
    put(&w, g->in, size[SEC_IN]);
    h.checksum = w.sum;
    if (fseek(w.f, 0, SEEK_SET) != 0 || fwrite(&h, sizeof(h), 1, w.f) != 1)
        w.failed = 1;
    if (fflush(w.f) != 0)
        w.failed = 1;
    if (w.failed) {
        rc = aipm_error_set(err, AIPM_EIO, "cannot write %s: %s", path,
                            "write failed (disk full?)");
        fclose(w.f);
        unlink(tmp);
        goto done;
    }
    /* fsync, rename over the old snapshot, fsync the folder. */
    rc = aipm_file_tmp_commit(fd, tmp, path, err);
    if (fclose(w.f) != 0 && rc == AIPM_OK)
        rc = aipm_error_set(err, AIPM_EIO, "cannot write %s: %s", path,
                            strerror(errno));
    if (rc != AIPM_OK)
        goto done;
    sweep(path);
    rc = AIPM_OK;
done:
    if (rc == AIPM_ENOMEM)
        aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    free(ids);
    free(rel);
    free(out_degree);
    free(in_degree);
    free(batches);
    return rc;
}

/* ---- restoring ---- */

/* Whether the snapshot at version h can be brought to cur: 1 yes, 0 no
 * (why says why). Both lists of batches go by id: one pass over the
 * two. */
static int reachable(const snap_header *h, const snap_batch *b,
                     const graph_version *cur, char *why, size_t why_len)
{
    size_t i = 0, j = 0;

    if (memcmp(h->store, cur->store, 32) != 0) {
        snprintf(why, why_len, "the snapshot is of another store");
        return 0;
    }
    if (memcmp(h->catalog, cur->catalog, 32) != 0) {
        snprintf(why, why_len, "the catalog changed");
        return 0;
    }
    while (i < h->n_batches || j < cur->n_batches) {
        const graph_batch *c = j < cur->n_batches ? &cur->batches[j] : NULL;

        if (i > 0 && i < h->n_batches && b[i].id <= b[i - 1].id) {
            snprintf(why, why_len, "the snapshot is damaged (batches)");
            return 0;
        }
        if (i < h->n_batches && (c == NULL || b[i].id < c->id)) {
            snprintf(why, why_len, "batch %lld is no longer accepted",
                     (long long)b[i].id);
            return 0;
        }
        if (i == h->n_batches || c->id < b[i].id) { /* not in the snapshot */
            if (c->id <= h->max_batch) {
                snprintf(why, why_len,
                         "batch %lld was accepted since the snapshot",
                         (long long)c->id);
                return 0;
            }
            j++;
            continue;
        }
        if (c->dataset != b[i].dataset || strncmp(c->sha, b[i].sha, 64) != 0) {
            snprintf(why, why_len, "batch %lld is not the one snapshotted",
                     (long long)b[i].id);
            return 0;
        }
        i++;
        j++;
    }
    if (cur->max_batch < h->max_batch || cur->events_rowid < h->events_rowid ||
        cur->graph_rid < h->graph_rid) {
        snprintf(why, why_len, "the store is older than the snapshot");
        return 0;
    }
    return 1;
}

/* The names of a NUL-separated blob into map, which must give them the
 * indexes 0, 1, ... (no repeats); graph nodes when g is set. 0, 1 when
 * they do not add up, or AIPM_ENOMEM. */
static int names(aipm_graph *g, aipm_strmap *map, const char *blob,
                 uint64_t len, uint64_t n)
{
    uint64_t i, at = 0;
    int idx, added;

    if (aipm_strmap_reserve(map, (int)n) != AIPM_OK)
        return AIPM_ENOMEM;
    for (i = 0; i < n; i++) {
        size_t k = strnlen(blob + at, len - at);

        if (at + k >= len)
            return 1;
        if (g) {
            if ((idx = aipm_graph__node(g, blob + at, k,
                                        aipm_strmap_hash(blob + at, k))) < 0)
                return AIPM_ENOMEM;
        } else if (aipm_strmap_put(map, blob + at, k, &idx, &added) != 0)
            return AIPM_ENOMEM;
        if ((uint64_t)idx != i)
            return 1;
        at += k + 1;
    }
    return at == len ? 0 : 1;
}

/* One adjacency from its degrees: *start (allocated) and a check of every
 * edge's node and relation, and of the order merges rely on (cmp: each
 * node's edges strictly increasing). 0, 1 when it does not add up, or
 * AIPM_ENOMEM. */
static int adjacency(size_t **start_out, const uint32_t *degree, const adj *a,
                     const snap_header *h, int (*cmp)(const adj *, const adj *))
{
    size_t *start = malloc((h->n_nodes + 1) * sizeof(size_t)), i, j;

    if ((*start_out = start) == NULL)
        return AIPM_ENOMEM;
    start[0] = 0;
    for (i = 0; i < h->n_nodes; i++) {
        start[i + 1] = start[i] + degree[i];
        if (start[i + 1] > h->n_edges)
            return 1;
        for (j = start[i]; j < start[i + 1]; j++)
            if ((uint64_t)a[j].node >= h->n_nodes ||
                a[j].rel >= h->n_relations ||
                (j > start[i] && cmp(&a[j - 1], &a[j]) >= 0))
                return 1;
    }
    return start[h->n_nodes] == h->n_edges ? 0 : 1;
}

int aipm_graph__restore(aipm_graph **out, graph_version *was,
                        const graph_version *cur, const char *path, char *why,
                        size_t why_len, aipm_error *err)
{
    snap_header h;
    uint64_t off[N_SECTIONS], size[N_SECTIONS];
    const char *sec[N_SECTIONS];
    aipm_graph *g = NULL;
    char *map = NULL;
    struct stat sb;
    size_t got = 0;
    int fd, k, rc = AIPM_OK;

    *out = NULL;
    memset(was, 0, sizeof(*was));
    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW)) < 0) {
        snprintf(why, why_len,
                 errno == ENOENT ? "no snapshot yet"
                                 : "the snapshot cannot be read");
        return AIPM_OK;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
        (uint64_t)sb.st_size < sizeof(h) ||
        pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
        memcmp(h.magic, SNAP_MAGIC, 8) != 0 || h.format != SNAP_FORMAT ||
        h.byte_order != BYTE_ORDER_MARK) {
        snprintf(why, why_len, "the snapshot is of another format");
        goto done;
    }
    if (h.flags & SNAP_CSV_BUILTIN) {
        snprintf(why, why_len,
                 "graph.csv has member_of, uses or depends_on rows");
        goto done;
    }
    /* The sizes must add up to the file's before anything is read. */
    if (layout(&h, (uint64_t)sb.st_size, off, size) != 0 ||
        h.n_relations > MAX_RELATIONS || h.n_relations < N_BUILTIN_RELATIONS) {
        snprintf(why, why_len, "the snapshot is damaged (sizes)");
        goto done;
    }
    /* Read into memory, not mapped: what is checked below is what is
     * used, even if the file is truncated or rewritten in place meanwhile
     * (a mapping would then give SIGBUS or changed bytes after the
     * checks). The edges are then used where they lie in this buffer. */
    if ((map = malloc((size_t)sb.st_size)) == NULL) {
        rc = AIPM_ENOMEM;
        goto done;
    }
    while (got < (size_t)sb.st_size) {
        ssize_t n = pread(fd, map + got, (size_t)sb.st_size - got, (off_t)got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != (size_t)sb.st_size ||
        memcmp(map, &h, sizeof(h)) != 0) { /* shrank, or changed under us */
        snprintf(why, why_len, "the snapshot changed while it was read");
        goto done;
    }
    for (k = 0; k < N_SECTIONS; k++)
        sec[k] = map + off[k];
    if (!reachable(&h, (const snap_batch *)sec[SEC_BATCHES], cur, why, why_len))
        goto done;
    if (sections_checksum(map, off, size) != h.checksum) {
        snprintf(why, why_len, "the snapshot is damaged (checksum)");
        goto done;
    }
    if ((g = aipm_graph__new(err)) == NULL) {
        rc = AIPM_ENOMEM;
        goto done;
    }
    g->map = map;
    g->map_len = (size_t)sb.st_size;
    map = NULL; /* g has it */
    /* The relations again, the snapshot's: the built-in ones first. */
    aipm_strmap_free(&g->relations);
    aipm_strmap_init(&g->relations, MAX_RELATIONS);
    if ((rc = names(NULL, &g->relations, sec[SEC_RELATIONS], h.relations_len,
                    h.n_relations)) == 0 &&
        (rc = names(g, &g->nodes, sec[SEC_IDS], h.ids_len, h.n_nodes)) == 0 &&
        (rc = adjacency(&g->out_start, (const uint32_t *)sec[SEC_OUT_DEGREE],
                        (const adj *)sec[SEC_OUT], &h, aipm_graph__cmp)) == 0 &&
        (rc = adjacency(&g->in_start, (const uint32_t *)sec[SEC_IN_DEGREE],
                        (const adj *)sec[SEC_IN], &h, aipm_graph__cmp_in)) ==
            0 &&
        (strcmp(g->relations.keys[REL_MEMBER_OF], "member_of") != 0 ||
         strcmp(g->relations.keys[REL_USES], "uses") != 0 ||
         strcmp(g->relations.keys[REL_DEPENDS_ON], "depends_on") != 0))
        rc = 1;
    if (rc != 0) {
        if (rc == 1)
            snprintf(why, why_len, "the snapshot is damaged");
        rc = rc == 1 ? AIPM_OK : rc;
        goto done;
    }
    g->out = (adj *)sec[SEC_OUT];
    g->in = (adj *)sec[SEC_IN];
    was->max_batch = h.max_batch;
    was->events_rowid = h.events_rowid;
    was->graph_rid = h.graph_rid;
    *out = g;
    g = NULL;
    why[0] = '\0';
done:
    if (rc == AIPM_ENOMEM)
        aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    free(map);
    close(fd);
    aipm_graph_free(g);
    return rc;
}

/* ---- for the fuzz target ---- */

int aipm_graph__seal(void *buf, size_t len, graph_version *cur)
{
    snap_header h;
    uint64_t off[N_SECTIONS], size[N_SECTIONS];
    const snap_batch *b = (const snap_batch *)((char *)buf + sizeof(h));
    size_t i;

    memset(cur, 0, sizeof(*cur));
    if (len < sizeof(h))
        return -1;
    memcpy(&h, buf, sizeof(h));
    memcpy(h.magic, SNAP_MAGIC, 8);
    h.format = SNAP_FORMAT;
    h.byte_order = BYTE_ORDER_MARK;
    if (layout(&h, len, off, size) != 0)
        return -1;
    h.checksum = sections_checksum(buf, off, size);
    memcpy(buf, &h, sizeof(h));
    memcpy(cur->catalog, h.catalog, 32);
    memcpy(cur->store, h.store, 32);
    cur->max_batch = h.max_batch;
    cur->events_rowid = h.events_rowid;
    cur->graph_rid = h.graph_rid;
    for (i = 0; i < h.n_batches; i++) {
        if (aipm_grow(&cur->batches, &cur->cap_batches, cur->n_batches + 1,
                      sizeof(*cur->batches)) != 0)
            return -1;
        cur->batches[i].id = b[i].id;
        cur->batches[i].dataset = b[i].dataset;
        memcpy(cur->batches[i].sha, b[i].sha, 64);
        cur->batches[i].sha[64] = '\0';
        cur->n_batches++;
    }
    return 0;
}
