/* graph.h - the knowledge graph of users, accounts and product features.
 *
 * Nodes have typed ids: `user:ID`, `account:ID`, `feature:KEY` (and any
 * other `kind:ID` that graph.csv names). Edges, each with the time it
 * began (ms, 0 when unknown):
 *  - user member_of account: every (user, account) of the group calls,
 *    from the first call;
 *  - user uses feature: the user's first event of the feature's catalog
 *    events;
 *  - feature depends_on feature: the catalog's depends_on;
 *  - whatever graph.csv holds (e.g. user invited user), newest version of
 *    each (src, relation, dst), with its weight.
 * Every user with an event is a node, with edges or without.
 *
 * Built from the store in one scan of the events (one GROUP BY statement,
 * on a second read-only connection in a thread when one opens, so the
 * build sees committed data only) plus the graph dataset, held as two CSR
 * arrays (edges by source and by destination) so that both directions
 * are one slice each.
 *
 * Or from a snapshot file of an earlier build: when the store has only
 * gained batches since (none of the snapshot's was reverted or changed,
 * the catalog is the same), the snapshot is read and the new batches'
 * rows are folded in - the same graph a full build gives (node numbers
 * aside: new nodes come last), in a fraction of the time.
 */
#ifndef AIPM_GRAPH_H
#define AIPM_GRAPH_H

#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aipm_node_kind {
    AIPM_NODE_USER,
    AIPM_NODE_ACCOUNT,
    AIPM_NODE_FEATURE,
    AIPM_NODE_OTHER,
    AIPM_NODE_KINDS
} aipm_node_kind;

typedef struct aipm_graph aipm_graph;

/* An edge as seen from one node: the other end, the relation, whether it
 * goes out of the node (1) or into it (0), its start time and weight. */
typedef struct aipm_edge {
    int node;
    int relation;
    int out;
    int64_t t_ms;
    double weight;
} aipm_edge;

/* How aipm_graph_open made the graph. */
typedef struct aipm_graph_build_info {
    char mode[16];        /* "full", "snapshot" (as saved) or "incremental" */
    char why[200];        /* full with a snapshot path: why it was not used */
    int new_batches;      /* incremental: batches folded in */
    double seconds;       /* the build, the snapshot's saving not included */
    double save_seconds;  /* the saving (0: not saved) */
    char save_error[200]; /* the snapshot could not be saved: why */
} aipm_graph_build_info;

/* Build the graph of the store's accepted data; with a snapshot path,
 * from the snapshot there when it can be brought up to date (rebuild 0),
 * and the result saved there (mode 0600) unless it is the snapshot
 * unchanged. A missing, stale, corrupt or unwritable snapshot is never an
 * error: the build is full and info says why. info may be NULL. */
int aipm_graph_open(aipm_graph **out, aipm_store *st, const aipm_config *cfg,
                    const char *snapshot, int rebuild,
                    aipm_graph_build_info *info, aipm_error *err);
/* The full build, no snapshot. */
int aipm_graph_build(aipm_graph **out, aipm_store *st, const aipm_config *cfg,
                     aipm_error *err);
void aipm_graph_free(aipm_graph *g);

int aipm_graph_n_nodes(const aipm_graph *g);
int64_t aipm_graph_n_edges(const aipm_graph *g);
/* The node of a typed id, or -1. */
int aipm_graph_find(const aipm_graph *g, const char *id);
const char *aipm_graph_node_id(const aipm_graph *g, int node);
aipm_node_kind aipm_graph_node_kind(const aipm_graph *g, int node);
const char *aipm_node_kind_name(aipm_node_kind k);
const char *aipm_graph_relation(const aipm_graph *g, int relation);
/* The relation's index, or -1. */
int aipm_graph_relation_find(const aipm_graph *g, const char *name);
/* Out-degree plus in-degree. */
int aipm_graph_degree(const aipm_graph *g, int node);

/* Call cb for each edge at node (relation -1: any), out-edges first; a
 * non-zero return stops and is returned. */
typedef int (*aipm_edge_cb)(void *ctx, const aipm_edge *e);
int aipm_graph_neighbors(const aipm_graph *g, int node, int relation,
                         aipm_edge_cb cb, void *ctx);

/* ---- the graph signal ---- */

/* Each node's first use of feature node f (the `uses` edges into f), in
 * out[n_nodes]: the time in ms, or INT64_MAX when it never used it. */
int aipm_graph_adoption_times(const aipm_graph *g, int f, int64_t *out);

/* A user's neighbours for the graph signal: the other members of its
 * accounts and the users it invited or was invited by (any graph.csv
 * relation between two users), each once. Their nodes go to nodes[], at
 * most cap of them, in no particular order, and, when since is not NULL,
 * the time (ms) each link began to since[]: for an account's members the
 * later of the two first group calls, for a direct edge its time (0 when
 * graph.csv gave none); the earliest over the paths to a neighbour.
 * Returns how many neighbours there are (which may be more than cap), or
 * a negative aipm error code. The signal on day t is the share of the
 * neighbours linked by t whose adoption time (aipm_graph_adoption_times)
 * is before t. mark is scratch of n_nodes ints, zero the first time and
 * reused with a new stamp each call. */
int aipm_graph_user_neighbours(const aipm_graph *g, int user, int *mark,
                               int stamp, int *nodes, int64_t *since, int cap);

/* Node and edge counts by kind and relation, and the degree distribution,
 * as a JSON text (caller frees). */
char *aipm_graph_stats_json(const aipm_graph *g);

#ifdef __cplusplus
}
#endif
#endif
