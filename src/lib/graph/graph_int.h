/* graph_int.h - the graph's arrays, shared by the build (graph.c) and its
 * snapshot (snapshot.c). */
#ifndef AIPM_GRAPH_INT_H
#define AIPM_GRAPH_INT_H

#include "aipm/graph.h"

#include <stdint.h>

#define MAX_NODES (1 << 28)
#define MAX_RELATIONS 1024
#define MINUTE_MS 60000

/* The relations every graph has, at these indexes. */
enum { REL_MEMBER_OF, REL_USES, REL_DEPENDS_ON, N_BUILTIN_RELATIONS };

typedef struct raw_edge {
    int32_t src, dst;
    int32_t t; /* minutes since 1970 */
    float w;
    uint16_t rel;
} raw_edge;

/* An edge in an adjacency array; 16 bytes, no padding (the snapshot
 * writes them as they are). */
typedef struct adj {
    int32_t node;
    int32_t t;
    float w;
    uint16_t rel;
    uint16_t unused; /* 0 */
} adj;

struct aipm_graph {
    aipm_strmap nodes, relations;
    unsigned char *kind;
    size_t cap_kind;
    raw_edge *raw;
    size_t n_raw, cap_raw;
    size_t *out_start, *in_start; /* n_nodes + 1 */
    adj *out, *in;
    int csv_builtin; /* graph.csv gave member_of, uses or depends_on edges */
    void *map;       /* a snapshot read whole, out and in may point into it */
    size_t map_len;
    aipm_error *err;
};

/* The state of the store a graph is built from: what an incremental
 * build compares. Batches that analyses see (accepted) of the two
 * datasets the graph reads, and bounds taken when they were listed: every
 * batch, row and graph row added later lies beyond them. */
typedef struct graph_batch {
    int64_t id;
    int32_t dataset; /* 0 events, 1 graph */
    char sha[65];    /* content_sha256 */
} graph_batch;

typedef struct graph_version {
    int64_t max_batch;    /* the newest batch id of any dataset and status */
    int64_t events_rowid; /* the newest events rowid */
    int64_t graph_rid;    /* the newest graph row id */
    uint8_t catalog[32];  /* SHA-256 of the catalog's features and events */
    uint8_t store[32];    /* SHA-256 of the store's namespace (its path) */
    graph_batch *batches; /* accepted events and graph batches, by id */
    size_t n_batches, cap_batches;
} graph_version;

int aipm_graph__version(graph_version *v, aipm_store *st,
                        const aipm_config *cfg, aipm_error *err);
void aipm_graph__version_free(graph_version *v);
/* Whether later still lists the batches of v as v does: the same
 * accepted batches up to v's newest, nothing reverted or accepted among
 * them meanwhile. */
int aipm_graph__version_holds(const graph_version *v,
                              const graph_version *later);

/* The graph as it stood at the snapshot in path, if its version can be
 * brought to cur: *out gets the graph (both adjacencies, in the buffer
 * the file was read into) and *was the snapshot's bounds (max_batch,
 * events_rowid, graph_rid); else *out is NULL and why says why (a full build
 * follows). Errors only on memory. */
int aipm_graph__restore(aipm_graph **out, graph_version *was,
                        const graph_version *cur, const char *path, char *why,
                        size_t why_len, aipm_error *err);
/* Write g at version v to path (a temporary file renamed over it, mode
 * 0600). */
int aipm_graph__save(const aipm_graph *g, const graph_version *v,
                     const char *path, aipm_error *err);

/* For the fuzz target: make the snapshot in buf[0..len) pass the checks
 * before its contents are parsed (magic, format, byte order, checksum)
 * and *cur a version it can be brought to (free it). 0, or -1 when its
 * sizes do not add up. */
int aipm_graph__seal(void *buf, size_t len, graph_version *cur);

/* New, empty graph (relations member_of, uses, depends_on) and free. */
aipm_graph *aipm_graph__new(aipm_error *err);
/* The node of id (kind from its prefix), added when new; -1 on error. */
int aipm_graph__node(aipm_graph *g, const char *id, size_t len, uint64_t h);
/* The out-adjacency's order, by (relation, node), and the in-adjacency's,
 * by (node, relation): each node's edges strictly increasing. */
int aipm_graph__cmp(const adj *x, const adj *y);
int aipm_graph__cmp_in(const adj *x, const adj *y);

#endif
