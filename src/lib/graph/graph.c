/* graph.c - the knowledge graph in CSR form (see graph.h).
 *
 * Loading appends (src, dst, relation, time, weight) edges to one array,
 * interning node ids and relation names in string maps; finishing sorts
 * the edges by source with a counting sort into the out-adjacency array
 * (stable: within a node, in load order), keeps the last of any repeated
 * (relation, destination) there - graph.csv rows are read in ingest order
 * without asking the store for the newest version of each key, which
 * costs a sort of the whole dataset - frees the load array, and sorts the
 * out-adjacency by destination into the in-adjacency. Node ids are the
 * map's keys, so each is stored once. Edge times are kept in minutes
 * (int32: to the year 6053), the weight as a float: 16 bytes an edge a
 * direction.
 */
#include "graph/graph_int.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *aipm_node_kind_name(aipm_node_kind k)
{
    switch (k) {
    case AIPM_NODE_USER:
        return "user";
    case AIPM_NODE_ACCOUNT:
        return "account";
    case AIPM_NODE_FEATURE:
        return "feature";
    default:
        return "other";
    }
}

static aipm_node_kind kind_of(const char *id)
{
    if (strncmp(id, "user:", 5) == 0)
        return AIPM_NODE_USER;
    if (strncmp(id, "account:", 8) == 0)
        return AIPM_NODE_ACCOUNT;
    if (strncmp(id, "feature:", 8) == 0)
        return AIPM_NODE_FEATURE;
    return AIPM_NODE_OTHER;
}

int aipm_graph__node(aipm_graph *g, const char *key, size_t n, uint64_t h)
{
    int idx, added;

    if (aipm_strmap_put_h(&g->nodes, key, n, h, &idx, &added) != 0 ||
        aipm_grow(&g->kind, &g->cap_kind, (size_t)idx + 1, 1) != 0) {
        aipm_error_set(g->err, AIPM_ENOMEM, "out of memory (graph nodes)");
        return -1;
    }
    if (added)
        g->kind[idx] = (unsigned char)kind_of(g->nodes.keys[idx]);
    return idx;
}

/* The node of "<prefix><name>", added when new; -1 on error (set). */
static int node(aipm_graph *g, const char *prefix, const char *name)
{
    char stack[600], *buf = stack;
    size_t lp = strlen(prefix), ln = strlen(name), n = lp + ln;
    int idx;

    if (n >= sizeof(stack) && (buf = malloc(n + 1)) == NULL) {
        aipm_error_set(g->err, AIPM_ENOMEM, "out of memory (graph nodes)");
        return -1;
    }
    memcpy(buf, prefix, lp);
    memcpy(buf + lp, name, ln);
    buf[n] = '\0';
    idx = aipm_graph__node(g, buf, n, aipm_strmap_hash(buf, n));
    if (buf != stack)
        free(buf);
    return idx;
}

static int relation(aipm_graph *g, const char *name)
{
    int idx, added;

    if (aipm_strmap_put(&g->relations, name, strlen(name), &idx, &added) != 0) {
        aipm_error_set(g->err, AIPM_EINVALID,
                       "more than %d relations in the graph", MAX_RELATIONS);
        return -1;
    }
    return idx;
}

static int edge(aipm_graph *g, int src, int dst, int rel, int64_t t, double w)
{
    raw_edge *e;

    if (src < 0 || dst < 0 || rel < 0)
        return AIPM_ERROR;
    if (aipm_grow(&g->raw, &g->cap_raw, g->n_raw + 1, sizeof(*g->raw)) != 0)
        return aipm_error_set(g->err, AIPM_ENOMEM,
                              "out of memory (graph edges)");
    e = &g->raw[g->n_raw++];
    e->src = src;
    e->dst = dst;
    e->rel = (uint16_t)rel;
    e->t = (int32_t)(t / MINUTE_MS);
    e->w = (float)w;
    return AIPM_OK;
}

#define GRAPH_BATCH 512

typedef struct loader {
    aipm_graph *g;
    char last_user[520]; /* rows come grouped by user: skip repeat lookups */
    int last_node;
    /* event name -> the catalog features it belongs to */
    aipm_strmap events;
    int *ev_start, *ev_feat; /* features of event i: ev_feat[start[i]..] */
    int n_feat, *feat_node;
    /* graph.csv rows waiting for their nodes, a batch at a time */
    char *arena;
    size_t arena_len, arena_cap;
    struct pending {
        size_t src, dst, src_len, dst_len;
        int rel;
        double w;
    } pend[GRAPH_BATCH];
    int n_pend;
} loader;

/* The user node of id, through the one-entry cache. */
static int user_node(loader *L, const char *id)
{
    int u;

    if (L->last_node >= 0 && strcmp(L->last_user, id) == 0)
        return L->last_node;
    if ((u = node(L->g, "user:", id)) >= 0 &&
        strlen(id) < sizeof(L->last_user)) {
        strcpy(L->last_user, id);
        L->last_node = u;
    }
    return u;
}

/* ---- the first uses, read on a second connection in a thread ----
 *
 * The grouping of the events is the longest read; a second read-only
 * connection runs it while the main one reads the memberships and
 * graph.csv. The thread only collects: each user's id and, per catalog
 * feature, the first time (the event map it consults is read-only by
 * then); the main thread then makes the nodes and edges in order. */
typedef struct firsts {
    const loader *L;
    aipm_store *st;
    int64_t through;              /* the version's newest batch */
    const aipm_store_mark *since; /* NULL: a full build */
    aipm_error err;
    int rc;
    char *ids; /* user ids, NUL-terminated, in order */
    size_t ids_len, ids_cap;
    size_t *id_at;  /* user i's node id ("user:ID") at ids + id_at[i] */
    uint64_t *hash; /* and its hash */
    size_t n_users, cap_users;
    struct use { /* 12 bytes: there is one per (user, feature) */
        uint32_t user;
        int32_t f;
        int32_t t; /* minutes, as the edges keep it */
    } * uses;
    size_t n_uses, cap_uses;
    char *cur; /* the current user's id (a copy) */
    size_t cap_cur;
    int64_t *first_t;
    int *touched, n_touched;
} firsts;

static int firsts_flush(firsts *F)
{
    int i;

    for (i = 0; i < F->n_touched; i++) {
        int f = F->touched[i];

        if (aipm_grow(&F->uses, &F->cap_uses, F->n_uses + 1, sizeof(*F->uses)))
            return AIPM_ENOMEM;
        F->uses[F->n_uses].user = (uint32_t)(F->n_users - 1);
        F->uses[F->n_uses].f = f;
        F->uses[F->n_uses++].t = (int32_t)(F->first_t[f] / MINUTE_MS);
        F->first_t[f] = INT64_MAX;
    }
    F->n_touched = 0;
    return AIPM_OK;
}

static int firsts_row(void *ctx, const aipm_first_use *r)
{
    firsts *F = ctx;
    const loader *L = F->L;
    int ev, k;

    if (F->n_users == 0 || strcmp(F->cur, r->user_id) != 0) {
        size_t len = strlen(r->user_id) + 1;

        if (F->n_users > 0 && firsts_flush(F))
            return AIPM_ENOMEM;
        size_t cap = F->cap_users;

        if (aipm_grow(&F->ids, &F->ids_cap, F->ids_len + len + 5, 1) ||
            aipm_grow(&F->id_at, &cap, F->n_users + 1, sizeof(size_t)) ||
            aipm_grow(&F->hash, &F->cap_users, F->n_users + 1,
                      sizeof(uint64_t)) ||
            aipm_grow(&F->cur, &F->cap_cur, len, 1))
            return AIPM_ENOMEM;
        /* the node id, "user:" and the id, and its hash, made here */
        memcpy(F->ids + F->ids_len, "user:", 5);
        memcpy(F->ids + F->ids_len + 5, r->user_id, len);
        memcpy(F->cur, r->user_id, len);
        F->hash[F->n_users] = aipm_strmap_hash(F->ids + F->ids_len, len + 4);
        F->id_at[F->n_users++] = F->ids_len;
        F->ids_len += len + 5;
    }
    if (r->event == NULL ||
        (ev = aipm_strmap_find(&L->events, r->event, strlen(r->event))) < 0)
        return 0;
    for (k = L->ev_start[ev]; k < L->ev_start[ev + 1]; k++) {
        int f = L->ev_feat[k];
        int64_t t = r->ts_ms;

        if (F->first_t[f] == INT64_MAX)
            F->touched[F->n_touched++] = f;
        if (t < F->first_t[f])
            F->first_t[f] = t;
    }
    return 0;
}

static void *firsts_main(void *arg)
{
    firsts *F = arg;

    F->rc = aipm_store_first_uses(F->st, F->through, F->since, firsts_row, F,
                                  &F->err);
    if (F->rc == AIPM_OK && F->n_users > 0)
        F->rc = firsts_flush(F);
    return NULL;
}

/* The collected users' nodes and uses edges, in order. */
static int firsts_apply(loader *L, const firsts *F)
{
    size_t i, j = 0;

    for (i = 0; i < F->n_users; i++) {
        const char *id = F->ids + F->id_at[i];
        int u;

        if (i % GRAPH_BATCH == 0) /* prefetch the next batch's nodes */
            aipm_strmap_prefetch(&L->g->nodes, F->hash + i,
                                 F->n_users - i < GRAPH_BATCH ? F->n_users - i
                                                              : GRAPH_BATCH);
        if ((u = aipm_graph__node(L->g, id, strlen(id), F->hash[i])) < 0)
            return AIPM_ERROR;
        for (; j < F->n_uses && F->uses[j].user == i; j++) {
            int rc = edge(L->g, u, L->feat_node[F->uses[j].f], REL_USES,
                          (int64_t)F->uses[j].t * MINUTE_MS, 1);

            if (rc != AIPM_OK)
                return rc;
        }
    }
    return AIPM_OK;
}

static void firsts_free(firsts *F)
{
    free(F->ids);
    free(F->id_at);
    free(F->hash);
    free(F->uses);
    free(F->cur);
    free(F->first_t);
    free(F->touched);
    if (F->st)
        aipm_store_close(F->st);
}

static int member_row(void *ctx, const aipm_membership *r)
{
    loader *L = ctx;
    int u;

    if ((u = user_node(L, r->user_id)) < 0)
        return AIPM_ERROR;
    return edge(L->g, u, node(L->g, "account:", r->account_id), REL_MEMBER_OF,
                r->ts_ms, 1);
}

/* The catalog's event -> features map, and a node for every feature. */
static int catalog_map(loader *L, const aipm_config *cfg)
{
    int f, e, i, n_ev = 0, added, idx, *fill;

    L->n_feat = cfg->n_catalog;
    aipm_strmap_init(&L->events, 1 << 20);
    L->feat_node = calloc((size_t)L->n_feat + 1, sizeof(int));
    if (!L->feat_node)
        return aipm_error_set(L->g->err, AIPM_ENOMEM, "out of memory");
    for (f = 0; f < L->n_feat; f++) {
        if ((L->feat_node[f] = node(L->g, "feature:", cfg->catalog[f].key)) < 0)
            return AIPM_ERROR;
        for (e = 0; e < cfg->catalog[f].n_events; e++) {
            const char *name = cfg->catalog[f].events[e];

            if (aipm_strmap_put(&L->events, name, strlen(name), &idx, &added) !=
                0)
                return aipm_error_set(L->g->err, AIPM_ENOMEM, "out of memory");
            n_ev++;
        }
    }
    L->ev_start = calloc((size_t)L->events.n_keys + 1, sizeof(int));
    L->ev_feat = calloc((size_t)n_ev + 1, sizeof(int));
    fill = calloc((size_t)L->events.n_keys + 1, sizeof(int));
    if (!L->ev_start || !L->ev_feat || !fill) {
        free(fill);
        return aipm_error_set(L->g->err, AIPM_ENOMEM, "out of memory");
    }
    for (f = 0; f < L->n_feat; f++)
        for (e = 0; e < cfg->catalog[f].n_events; e++) {
            const char *name = cfg->catalog[f].events[e];

            L->ev_start[aipm_strmap_find(&L->events, name, strlen(name)) + 1]++;
        }
    for (i = 0; i < L->events.n_keys; i++)
        L->ev_start[i + 1] += L->ev_start[i];
    memcpy(fill, L->ev_start, ((size_t)L->events.n_keys + 1) * sizeof(int));
    for (f = 0; f < L->n_feat; f++)
        for (e = 0; e < cfg->catalog[f].n_events; e++) {
            const char *name = cfg->catalog[f].events[e];

            L->ev_feat[fill[aipm_strmap_find(&L->events, name,
                                             strlen(name))]++] = f;
        }
    free(fill);
    return AIPM_OK;
}

static void loader_free(loader *L)
{
    free(L->arena);
    aipm_strmap_free(&L->events);
    free(L->ev_start);
    free(L->ev_feat);
    free(L->feat_node);
}

/* The batch's nodes and edges, in row order. Hashing a million ids is
 * cache misses, so the batch first prefetches every key's slot, then its
 * entry, then its bytes, each stage over the whole batch, and only then
 * looks them up. */
static int flush_graph(loader *L)
{
    uint64_t h[2 * GRAPH_BATCH];
    int i, rc = AIPM_OK;

    for (i = 0; i < L->n_pend; i++) {
        const struct pending *p = &L->pend[i];

        h[2 * i] = aipm_strmap_hash(L->arena + p->src, p->src_len);
        h[2 * i + 1] = aipm_strmap_hash(L->arena + p->dst, p->dst_len);
    }
    aipm_strmap_prefetch(&L->g->nodes, h, (size_t)(2 * L->n_pend));
    for (i = 0; i < L->n_pend && rc == AIPM_OK; i++) {
        const struct pending *p = &L->pend[i];
        int s = aipm_graph__node(L->g, L->arena + p->src, p->src_len, h[2 * i]);
        int d =
            aipm_graph__node(L->g, L->arena + p->dst, p->dst_len, h[2 * i + 1]);

        rc = s < 0 || d < 0 ? AIPM_ERROR : edge(L->g, s, d, p->rel, 0, p->w);
    }
    L->n_pend = 0;
    L->arena_len = 0;
    return rc;
}

static int graph_row(void *ctx, const aipm_graph_csv_row *row)
{
    loader *L = ctx;
    struct pending *p;
    size_t ls, ld;
    int r;

    if (!row->src || !row->relation || !row->dst)
        return 0;
    if ((r = relation(L->g, row->relation)) < 0)
        return AIPM_ERROR;
    if (r < N_BUILTIN_RELATIONS)
        L->g->csv_builtin = 1;
    ls = strlen(row->src);
    ld = strlen(row->dst);
    if (aipm_grow(&L->arena, &L->arena_cap, L->arena_len + ls + ld + 2, 1))
        return aipm_error_set(L->g->err, AIPM_ENOMEM,
                              "out of memory (graph rows)");
    p = &L->pend[L->n_pend++];
    p->src = L->arena_len;
    p->src_len = ls;
    memcpy(L->arena + L->arena_len, row->src, ls + 1);
    L->arena_len += ls + 1;
    p->dst = L->arena_len;
    p->dst_len = ld;
    memcpy(L->arena + L->arena_len, row->dst, ld + 1);
    L->arena_len += ld + 1;
    p->rel = r;
    p->w = isnan(row->weight) ? 1 : row->weight;
    return L->n_pend == GRAPH_BATCH ? flush_graph(L) : 0;
}

int aipm_graph__cmp(const adj *x, const adj *y)
{
    if (x->rel != y->rel)
        return x->rel < y->rel ? -1 : 1;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return 0;
}

/* Sort a[0..n) by (relation, node), keeping equal ones in their order:
 * insertion for short runs, then bottom-up merges through scratch. */
static int sort_adj(adj *a, size_t n, adj **scratch, size_t *cap)
{
    size_t i, j, w;

    for (i = 0; i < n; i += 16) { /* runs of 16 by insertion */
        size_t end = i + 16 < n ? i + 16 : n;

        for (j = i + 1; j < end; j++) {
            adj v = a[j];
            size_t k;

            for (k = j; k > i && aipm_graph__cmp(&a[k - 1], &v) > 0; k--)
                a[k] = a[k - 1];
            a[k] = v;
        }
    }
    if (n <= 16)
        return 0;
    if (aipm_grow(scratch, cap, n, sizeof(adj)) != 0)
        return AIPM_ENOMEM;
    for (w = 16; w < n; w *= 2) {
        for (i = 0; i < n; i += 2 * w) {
            size_t mid = i + w < n ? i + w : n;
            size_t end = i + 2 * w < n ? i + 2 * w : n, l = i, r = mid, o = i;

            while (l < mid && r < end) /* ties take the left: stable */
                (*scratch)[o++] =
                    aipm_graph__cmp(&a[r], &a[l]) < 0 ? a[r++] : a[l++];
            while (l < mid)
                (*scratch)[o++] = a[l++];
            while (r < end)
                (*scratch)[o++] = a[r++];
        }
        memcpy(a, *scratch, n * sizeof(adj));
    }
    return 0;
}

/* When a key (source, relation, destination) comes again: the later
 * edge replaces the kept one (graph.csv: the newest version wins), except
 * that a delta's member_of or uses edge only moves the time earlier (the
 * first call or use over all the batches). */
static void combine(adj *kept, const adj *later, int keep_first)
{
    if (keep_first && (kept->rel == REL_MEMBER_OF || kept->rel == REL_USES)) {
        if (later->t < kept->t)
            kept->t = later->t;
    } else
        *kept = *later;
}

/* The raw edges (which it frees) by source, each source's sorted by
 * (relation, destination) and each key once (combine, in load order):
 * *start_out[n_nodes + 1] and *adj_out. */
static int by_source(aipm_graph *g, int keep_first, size_t **start_out,
                     adj **adj_out)
{
    size_t n_nodes = (size_t)g->nodes.n_keys, i, j, m = 0, scratch_cap = 0;
    size_t *start = calloc(n_nodes + 1, sizeof(size_t));
    size_t *fill = malloc((n_nodes + 1) * sizeof(size_t));
    adj *a = malloc((g->n_raw ? g->n_raw : 1) * sizeof(adj)), *tmp;
    adj *scratch = NULL;
    int rc = AIPM_ENOMEM;

    if (!start || !fill || !a)
        goto done;
    for (i = 0; i < g->n_raw; i++)
        start[g->raw[i].src + 1]++;
    for (i = 0; i < n_nodes; i++)
        start[i + 1] += start[i];
    memcpy(fill, start, (n_nodes + 1) * sizeof(*fill));
    for (i = 0; i < g->n_raw; i++) {
        const raw_edge *e = &g->raw[i];
        adj *x = &a[fill[e->src]++];

        x->node = e->dst;
        x->rel = e->rel;
        x->unused = 0;
        x->t = e->t;
        x->w = e->w;
    }
    free(g->raw);
    g->raw = NULL;
    g->n_raw = g->cap_raw = 0;
    for (i = 0; i < n_nodes; i++) {
        size_t lo = start[i], hi = start[i + 1];

        start[i] = m;
        if (hi - lo > 1 &&
            sort_adj(a + lo, hi - lo, &scratch, &scratch_cap) != 0)
            goto done;
        for (j = lo; j < hi; j++) {
            if (m > start[i] && aipm_graph__cmp(&a[m - 1], &a[j]) == 0)
                combine(&a[m - 1], &a[j], keep_first);
            else
                a[m++] = a[j];
        }
    }
    start[n_nodes] = m;
    if ((tmp = realloc(a, (m ? m : 1) * sizeof(adj))) != NULL)
        a = tmp;
    *start_out = start;
    *adj_out = a;
    start = NULL;
    a = NULL;
    rc = AIPM_OK;
done:
    free(start);
    free(fill);
    free(a);
    free(scratch);
    return rc == AIPM_OK ? AIPM_OK
                         : aipm_error_set(g->err, AIPM_ENOMEM,
                                          "out of memory (graph arrays)");
}

/* Free an adjacency array of g (nothing when it lies in the snapshot's
 * buffer). */
static void drop(aipm_graph *g, adj *a)
{
    const char *p = (const char *)a, *map = g->map;

    if (map == NULL || p < map || p >= map + g->map_len)
        free(a);
}

/* The in-adjacency from the out-adjacency. */
static int in_csr(aipm_graph *g)
{
    size_t n_nodes = (size_t)g->nodes.n_keys, m = g->out_start[n_nodes], i, j;
    size_t *fill = malloc((n_nodes + 1) * sizeof(*fill));

    drop(g, g->in);
    free(g->in_start);
    g->in_start = calloc(n_nodes + 1, sizeof(size_t));
    g->in = malloc((m ? m : 1) * sizeof(adj));
    if (!fill || !g->in_start || !g->in) {
        free(fill);
        return aipm_error_set(g->err, AIPM_ENOMEM,
                              "out of memory (graph arrays)");
    }
    for (i = 0; i < m; i++)
        g->in_start[g->out[i].node + 1]++;
    for (i = 0; i < n_nodes; i++)
        g->in_start[i + 1] += g->in_start[i];
    memcpy(fill, g->in_start, (n_nodes + 1) * sizeof(*fill));
    for (i = 0; i < n_nodes; i++)
        for (j = g->out_start[i]; j < g->out_start[i + 1]; j++) {
            adj *x = &g->in[fill[g->out[j].node]++];

            *x = g->out[j];
            x->node = (int32_t)i;
        }
    free(fill);
    return AIPM_OK;
}

/* An in-adjacency order: by the other end, then relation. */
int aipm_graph__cmp_in(const adj *x, const adj *y)
{
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    if (x->rel != y->rel)
        return x->rel < y->rel ? -1 : 1;
    return 0;
}

/* An edge the delta added or changed, for the in-adjacency: its
 * destination, and the edge as seen from there (node: the source). */
typedef struct change {
    int32_t dst;
    adj e;
} change;

/* Per node, the old sorted slice a[a_start[i]..) (nodes below n_old) and
 * the new one b[b_start[i]..) merged by cmp into out and start[0..n]; an
 * equal key is the old edge combined with the new (combine). Each edge
 * that comes from b goes to ch too, when given. */
static void merge_lists(const size_t *a_start, const adj *a, size_t n_old,
                        const size_t *b_start, const adj *b, size_t n,
                        int (*cmp)(const adj *, const adj *), int keep_first,
                        adj *out, size_t *start, change *ch, size_t *n_ch)
{
    size_t i, m = 0;

    for (i = 0; i < n; i++) {
        size_t x = i < n_old ? a_start[i] : 0;
        size_t x_end = i < n_old ? a_start[i + 1] : 0;
        size_t y = b_start[i], y_end = b_start[i + 1];

        start[i] = m;
        while (x < x_end || y < y_end) {
            int c = x == x_end ? 1 : y == y_end ? -1 : cmp(&a[x], &b[y]);

            if (c < 0) {
                out[m++] = a[x++];
                continue;
            }
            if (c > 0)
                out[m] = b[y++];
            else {
                out[m] = a[x++];
                combine(&out[m], &b[y++], keep_first);
            }
            if (ch) {
                ch[*n_ch].dst = out[m].node;
                ch[*n_ch].e = out[m];
                ch[(*n_ch)++].e.node = (int32_t)i;
            }
            m++;
        }
    }
    start[n] = m;
}

/* The in-adjacency after a merge: each destination's old slice (by
 * source, relation) merged with the changes (made in source order, so a
 * stable counting sort by destination leaves each destination's in that
 * order too); a change replaces the old edge it equals. */
static int merge_in(aipm_graph *g, size_t n_old, const change *ch, size_t n_ch)
{
    size_t n = (size_t)g->nodes.n_keys, i;
    size_t *c_start = calloc(n + 1, sizeof(size_t)), *fill = NULL;
    size_t *start = malloc((n + 1) * sizeof(size_t));
    adj *c = malloc((n_ch + 1) * sizeof(adj)), *in = NULL;
    int rc = AIPM_ENOMEM;

    if (!c_start || !start || !c ||
        (fill = malloc((n + 1) * sizeof(size_t))) == NULL ||
        (in = malloc((g->in_start[n_old] + n_ch + 1) * sizeof(adj))) == NULL)
        goto done;
    for (i = 0; i < n_ch; i++)
        c_start[ch[i].dst + 1]++;
    for (i = 0; i < n; i++)
        c_start[i + 1] += c_start[i];
    memcpy(fill, c_start, (n + 1) * sizeof(size_t));
    for (i = 0; i < n_ch; i++)
        c[fill[ch[i].dst]++] = ch[i].e;
    merge_lists(g->in_start, g->in, n_old, c_start, c, n, aipm_graph__cmp_in, 0,
                in, start, NULL, NULL);
    drop(g, g->in);
    free(g->in_start);
    g->in = in;
    g->in_start = start;
    in = NULL;
    start = NULL;
    rc = AIPM_OK;
done:
    free(c_start);
    free(fill);
    free(start);
    free(c);
    free(in);
    return rc == AIPM_OK ? rc
                         : aipm_error_set(g->err, AIPM_ENOMEM, "out of memory");
}

/* Fold a delta's raw edges into the adjacency of a snapshot's first
 * n_old nodes: per node, one merge of two sorted lists, out then in. */
static int merge(aipm_graph *g, size_t n_old)
{
    size_t n = (size_t)g->nodes.n_keys, n_ch = 0;
    size_t *d_start = NULL, *start = malloc((n + 1) * sizeof(size_t));
    adj *d = NULL, *out = NULL;
    change *ch = NULL;
    int rc;

    if (start == NULL)
        return aipm_error_set(g->err, AIPM_ENOMEM, "out of memory");
    if ((rc = by_source(g, 1, &d_start, &d)) != AIPM_OK)
        goto done;
    out = malloc((g->out_start[n_old] + d_start[n] + 1) * sizeof(adj));
    ch = malloc((d_start[n] + 1) * sizeof(change));
    if (out == NULL || ch == NULL) {
        rc = aipm_error_set(g->err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    merge_lists(g->out_start, g->out, n_old, d_start, d, n, aipm_graph__cmp, 1,
                out, start, ch, &n_ch);
    drop(g, g->out);
    free(g->out_start);
    g->out = out;
    g->out_start = start;
    out = NULL;
    start = NULL;
    rc = merge_in(g, n_old, ch, n_ch);
done:
    free(start);
    free(out);
    free(d_start);
    free(d);
    free(ch);
    return rc;
}

aipm_graph *aipm_graph__new(aipm_error *err)
{
    aipm_graph *g = calloc(1, sizeof(*g));

    if (g == NULL) {
        aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        return NULL;
    }
    g->err = err;
    aipm_strmap_init(&g->nodes, MAX_NODES);
    aipm_strmap_init(&g->relations, MAX_RELATIONS);
    if (relation(g, "member_of") != REL_MEMBER_OF ||
        relation(g, "uses") != REL_USES ||
        relation(g, "depends_on") != REL_DEPENDS_ON) {
        aipm_graph_free(g);
        aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        return NULL;
    }
    return g;
}

/* Load the version's rows into g's raw edges: all of them (was NULL), or
 * those after version was (a delta on a restored graph). Three store
 * reads, each stopping at the version's newest batch so that what the
 * graph holds is exactly what its version says, whatever is ingested
 * meanwhile: each user's first time for each event name, rows grouped by
 * user; each (user, account) of the group calls from the first; and
 * graph.csv in ingest order (aipm_store_first_uses and the two after it,
 * store.h). */
static int load(aipm_graph *g, aipm_store *st, const aipm_config *cfg,
                const graph_version *v, const graph_version *was)
{
    aipm_store_mark mark, *since = NULL;
    loader L;
    firsts F;
    pthread_t tid;
    int f, rc, threaded = 0;

    if (was) { /* the delta: what the snapshot's version lacks */
        mark.batch = was->max_batch;
        mark.event_row = was->events_rowid;
        mark.graph_row = was->graph_rid;
        since = &mark;
    }
    memset(&L, 0, sizeof(L));
    L.g = g;
    L.last_node = -1;
    rc = catalog_map(&L, cfg);
    /* The first uses on a second connection, in a thread, when one opens;
     * else on this one, first. Either way collected, then applied. */
    memset(&F, 0, sizeof(F));
    F.L = &L;
    F.through = v->max_batch;
    F.since = since;
    if (rc == AIPM_OK) {
        F.first_t = malloc(((size_t)L.n_feat + 1) * sizeof(int64_t));
        F.touched = calloc((size_t)L.n_feat + 1, sizeof(int));
        if (!F.first_t || !F.touched)
            rc = aipm_error_set(g->err, AIPM_ENOMEM, "out of memory");
        for (f = 0; F.first_t && f < L.n_feat; f++)
            F.first_t[f] = INT64_MAX;
    }
    /* Not while a transaction is open here (a replay's): a second
     * connection would not see what it changed. */
    if (rc == AIPM_OK && was == NULL && !aipm_store_in_transaction(st) &&
        aipm_store_open(&F.st, aipm_store_namespace(st), AIPM_STORE_READONLY,
                        &F.err) == AIPM_OK)
        threaded = pthread_create(&tid, NULL, firsts_main, &F) == 0;
    if (rc == AIPM_OK && !threaded) {
        if (F.st)
            aipm_store_close(F.st);
        F.st = st;
        firsts_main(&F);
        F.st = NULL; /* not ours to close */
    }
    if (rc == AIPM_OK)
        rc = aipm_store_first_memberships(st, v->max_batch, since, member_row,
                                          &L, g->err);
    if (rc == AIPM_OK)
        rc = aipm_store_graph_rows(st, v->max_batch, since, graph_row, &L,
                                   g->err);
    if (rc == AIPM_OK && L.n_pend > 0)
        rc = flush_graph(&L);
    if (threaded)
        pthread_join(tid, NULL);
    if (rc == AIPM_OK && F.rc != AIPM_OK)
        rc = F.rc == AIPM_ENOMEM
                 ? aipm_error_set(g->err, AIPM_ENOMEM, "out of memory")
                 : aipm_error_set(g->err, F.rc, "%s", F.err.msg);
    if (rc == AIPM_OK)
        rc = firsts_apply(&L, &F);
    firsts_free(&F);
    /* The catalog's depends_on edges (a snapshot has them: the catalog is
     * part of its version). */
    for (f = 0; rc == AIPM_OK && was == NULL && f < cfg->n_catalog; f++) {
        const aipm_feature *ft = &cfg->catalog[f];
        int k;

        for (k = 0; rc == AIPM_OK && k < ft->n_depends_on; k++)
            rc = edge(g, L.feat_node[f], node(g, "feature:", ft->depends_on[k]),
                      REL_DEPENDS_ON, 0, 1);
    }
    loader_free(&L);
    return rc;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Bring the snapshot's graph to version v, or say why not (*g freed and
 * NULL): a delta of graph.csv rows of a built-in relation is read as the
 * full build would, last-loaded wins, so it needs one. */
static int apply_delta(aipm_graph **gp, aipm_store *st, const aipm_config *cfg,
                       const graph_version *v, const graph_version *was,
                       aipm_graph_build_info *info)
{
    aipm_graph *g = *gp;
    size_t n_old = (size_t)g->nodes.n_keys;
    int rc = load(g, st, cfg, v, was);

    if (rc == AIPM_OK && g->csv_builtin) {
        snprintf(info->why, sizeof(info->why),
                 "graph.csv's new rows use a built-in relation (member_of, "
                 "uses or depends_on)");
        aipm_graph_free(g);
        *gp = NULL;
        return AIPM_OK;
    }
    if (rc == AIPM_OK && (rc = merge(g, n_old)) == AIPM_OK && g->map) {
        free(g->map); /* the merge copied what it needed */
        g->map = NULL;
    }
    return rc;
}

static int count_new(const graph_version *v, const graph_version *was)
{
    size_t i;
    int n = 0;

    for (i = 0; i < v->n_batches; i++)
        n += v->batches[i].id > was->max_batch;
    return n;
}

/* Save g at version v, unless a batch it lists changed status while it
 * was read (its reads are separate statements: a batch reverted in
 * between would be listed but missing); why not goes to info. */
static void save(const aipm_graph *g, aipm_store *st, const aipm_config *cfg,
                 const graph_version *v, const char *path,
                 aipm_graph_build_info *info)
{
    aipm_error serr = {0, ""};
    graph_version after;

    if (aipm_graph__version(&after, st, cfg, &serr) != AIPM_OK)
        ;
    else if (!aipm_graph__version_holds(v, &after))
        snprintf(serr.msg, sizeof(serr.msg),
                 "a batch changed status during the build");
    else
        aipm_graph__save(g, v, path, &serr);
    aipm_graph__version_free(&after);
    if (serr.msg[0])
        snprintf(info->save_error, sizeof(info->save_error), "%.190s",
                 serr.msg);
}

int aipm_graph_open(aipm_graph **out, aipm_store *st, const aipm_config *cfg,
                    const char *snapshot, int rebuild,
                    aipm_graph_build_info *info, aipm_error *err)
{
    static const char *const mode_name[] = {"full", "snapshot", "incremental"};
    enum { FULL, SNAPSHOT, INCREMENTAL } mode = FULL;
    aipm_graph_build_info scratch;
    graph_version v, was;
    aipm_graph *g = NULL;
    struct timespec t0;
    int rc;

    *out = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (info == NULL)
        info = &scratch;
    memset(info, 0, sizeof(*info));
    memset(&v, 0, sizeof(v));
    memset(&was, 0, sizeof(was));
    if ((rc = aipm_graph__version(&v, st, cfg, err)) != AIPM_OK)
        goto done;
    if (snapshot && rebuild)
        snprintf(info->why, sizeof(info->why), "asked to rebuild");
    else if (snapshot &&
             (rc = aipm_graph__restore(&g, &was, &v, snapshot, info->why,
                                       sizeof(info->why), err)) != AIPM_OK)
        goto done;
    if (g) {
        g->err = err;
        info->new_batches = count_new(&v, &was);
        mode = info->new_batches ? INCREMENTAL : SNAPSHOT;
        if (mode == INCREMENTAL &&
            (rc = apply_delta(&g, st, cfg, &v, &was, info)) != AIPM_OK)
            goto done;
    }
    if (g == NULL) { /* the full build */
        mode = FULL;
        info->new_batches = 0;
        if ((g = aipm_graph__new(err)) == NULL) {
            rc = AIPM_ENOMEM;
            goto done;
        }
        if ((rc = load(g, st, cfg, &v, NULL)) != AIPM_OK ||
            (rc = by_source(g, 0, &g->out_start, &g->out)) != AIPM_OK ||
            (rc = in_csr(g)) != AIPM_OK)
            goto done;
    }
    snprintf(info->mode, sizeof(info->mode), "%s", mode_name[mode]);
    info->seconds = seconds_since(&t0);
    if (snapshot && mode != SNAPSHOT) {
        save(g, st, cfg, &v, snapshot, info);
        info->save_seconds = seconds_since(&t0) - info->seconds;
    }
done:
    aipm_graph__version_free(&v);
    aipm_graph__version_free(&was);
    if (rc != AIPM_OK) {
        if (err && err->msg[0] == '\0')
            aipm_error_set(err, AIPM_ERROR, "could not build the graph");
        aipm_graph_free(g);
        return rc < 0 ? rc : AIPM_ERROR;
    }
    g->err = NULL;
    *out = g;
    return AIPM_OK;
}

int aipm_graph_build(aipm_graph **out, aipm_store *st, const aipm_config *cfg,
                     aipm_error *err)
{
    return aipm_graph_open(out, st, cfg, NULL, 0, NULL, err);
}

void aipm_graph_free(aipm_graph *g)
{
    if (g == NULL)
        return;
    aipm_strmap_free(&g->nodes);
    aipm_strmap_free(&g->relations);
    free(g->kind);
    free(g->raw);
    free(g->out_start);
    free(g->in_start);
    drop(g, g->out);
    drop(g, g->in);
    free(g->map);
    free(g);
}

int aipm_graph_n_nodes(const aipm_graph *g)
{
    return g->nodes.n_keys;
}

int64_t aipm_graph_n_edges(const aipm_graph *g)
{
    return g->out_start ? (int64_t)g->out_start[g->nodes.n_keys] : 0;
}

int aipm_graph_find(const aipm_graph *g, const char *id)
{
    return aipm_strmap_find(&g->nodes, id, strlen(id));
}

const char *aipm_graph_node_id(const aipm_graph *g, int n)
{
    return g->nodes.keys[n];
}

aipm_node_kind aipm_graph_node_kind(const aipm_graph *g, int n)
{
    return (aipm_node_kind)g->kind[n];
}

const char *aipm_graph_relation(const aipm_graph *g, int r)
{
    return g->relations.keys[r];
}

int aipm_graph_relation_find(const aipm_graph *g, const char *name)
{
    return aipm_strmap_find(&g->relations, name, strlen(name));
}

int aipm_graph_degree(const aipm_graph *g, int n)
{
    return (int)(g->out_start[n + 1] - g->out_start[n] + g->in_start[n + 1] -
                 g->in_start[n]);
}

int aipm_graph_neighbors(const aipm_graph *g, int n, int rel, aipm_edge_cb cb,
                         void *ctx)
{
    int dir, rc;

    for (dir = 1; dir >= 0; dir--) {
        const size_t *start = dir ? g->out_start : g->in_start;
        const adj *a = dir ? g->out : g->in;
        size_t i;

        for (i = start[n]; i < start[n + 1]; i++) {
            aipm_edge e;

            if (rel >= 0 && a[i].rel != rel)
                continue;
            e.node = a[i].node;
            e.relation = a[i].rel;
            e.out = dir;
            e.t_ms = (int64_t)a[i].t * MINUTE_MS;
            e.weight = a[i].w;
            if ((rc = cb(ctx, &e)) != 0)
                return rc;
        }
    }
    return 0;
}

int aipm_graph_adoption_times(const aipm_graph *g, int f, int64_t *out)
{
    int uses = aipm_graph_relation_find(g, "uses"), i;
    size_t j;

    for (i = 0; i < g->nodes.n_keys; i++)
        out[i] = INT64_MAX;
    if (f < 0 || f >= g->nodes.n_keys)
        return AIPM_EINVALID;
    for (j = g->in_start[f]; j < g->in_start[f + 1]; j++)
        if (g->in[j].rel == uses &&
            (int64_t)g->in[j].t * MINUTE_MS < out[g->in[j].node])
            out[g->in[j].node] = (int64_t)g->in[j].t * MINUTE_MS;
    return AIPM_OK;
}

/* Add user v (not u, not seen in this call) to the neighbours. */
/* Add user v (not u) to the neighbours, linked since t (ms); seen before
 * in this call, keep its earliest link. */
static void take(const aipm_graph *g, int u, int v, int64_t t, int *mark,
                 int stamp, int *nodes, int64_t *since, int cap, int *n)
{
    int k;

    if (v == u || g->kind[v] != AIPM_NODE_USER)
        return;
    if (mark[v] == stamp) { /* another path to v: rare, a short scan */
        for (k = 0; since && k < *n && k < cap; k++)
            if (nodes[k] == v && t < since[k])
                since[k] = t;
        return;
    }
    mark[v] = stamp;
    if (*n < cap) {
        nodes[*n] = v;
        if (since)
            since[*n] = t;
    }
    (*n)++;
}

int aipm_graph_user_neighbours(const aipm_graph *g, int u, int *mark, int stamp,
                               int *nodes, int64_t *since, int cap)
{
    int member_of = aipm_graph_relation_find(g, "member_of"), n = 0, dir;
    size_t i, j;

    if (u < 0 || u >= g->nodes.n_keys)
        return AIPM_EINVALID;
    mark[u] = stamp;
    for (dir = 1; dir >= 0; dir--) {
        const size_t *start = dir ? g->out_start : g->in_start;
        const adj *a = dir ? g->out : g->in;

        for (i = start[u]; i < start[u + 1]; i++) {
            int v = a[i].node;
            int64_t tu = (int64_t)a[i].t * MINUTE_MS;

            if (dir && a[i].rel == member_of &&
                g->kind[v] == AIPM_NODE_ACCOUNT) {
                /* The account's members, from when both were in it. */
                for (j = g->in_start[v]; j < g->in_start[v + 1]; j++) {
                    int64_t tv = (int64_t)g->in[j].t * MINUTE_MS;

                    if (g->in[j].rel == member_of)
                        take(g, u, g->in[j].node, tu > tv ? tu : tv, mark,
                             stamp, nodes, since, cap, &n);
                }
            } else if (g->kind[v] == AIPM_NODE_USER)
                take(g, u, v, tu, mark, stamp, nodes, since, cap, &n);
        }
    }
    return n;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return (x > y) - (x < y);
}

char *aipm_graph_stats_json(const aipm_graph *g)
{
    int n = g->nodes.n_keys, i, k;
    int64_t by_kind[AIPM_NODE_KINDS] = {0}, *by_rel;
    int *deg = malloc((size_t)(n ? n : 1) * sizeof(int));
    json_t *nodes = json_object(), *edges = json_object(), *doc;
    double sum = 0;
    char *text;

    by_rel = calloc((size_t)g->relations.n_keys + 1, sizeof(int64_t));
    if (!deg || !by_rel || !nodes || !edges) {
        free(deg);
        free(by_rel);
        json_decref(nodes);
        json_decref(edges);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        size_t j;

        by_kind[g->kind[i]]++;
        deg[i] = aipm_graph_degree(g, i);
        sum += deg[i];
        for (j = g->out_start[i]; j < g->out_start[i + 1]; j++)
            by_rel[g->out[j].rel]++;
    }
    for (k = 0; k < AIPM_NODE_KINDS; k++)
        if (by_kind[k] || k != AIPM_NODE_OTHER)
            json_object_set_new(nodes, aipm_node_kind_name((aipm_node_kind)k),
                                json_integer(by_kind[k]));
    for (k = 0; k < g->relations.n_keys; k++)
        json_object_set_new(edges, g->relations.keys[k],
                            json_integer(by_rel[k]));
    qsort(deg, (size_t)n, sizeof(int), cmp_int);
    doc = json_pack(
        "{s:i, s:I, s:o, s:o, s:{s:i, s:i, s:i, s:i, s:i, s:f}}", "nodes_total",
        n, "edges_total", (json_int_t)aipm_graph_n_edges(g), "nodes", nodes,
        "edges", edges, "degree", "min", n ? deg[0] : 0, "median",
        n ? deg[(n - 1) / 2] : 0, "p90", n ? deg[(int)(0.9 * (n - 1))] : 0,
        "p99", n ? deg[(int)(0.99 * (n - 1))] : 0, "max", n ? deg[n - 1] : 0,
        "mean", n ? sum / n : 0.0);
    text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    free(deg);
    free(by_rel);
    return text;
}
