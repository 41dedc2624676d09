/* test_graph.c - the knowledge graph on a hand-made store.
 *
 * Users a, b, c, d. Group calls: a and b in account X (a twice: its first
 * call's time counts), c in Y, then c again in X (two memberships). Track
 * events: a uses Export (feature export) on 03-02 and 03-05 (first use
 * 03-02), b uses Search on 03-03 and Search Filtered on 03-01 09:00 (both
 * of feature search: first use 03-01 09:00, one edge), d only an event of
 * no feature.
 * The catalog: export, search (depends_on export). graph.csv: a invited b,
 * b invited c. By hand: nodes 4 users + 2 accounts + 2 features = 8;
 * edges member_of 4 (a-X, b-X, c-Y, c-X), uses 2, depends_on 1, invited 2
 * = 9; degrees: a 3 (X, export, invited b), b 4, c 3, d 0, X 3, Y 1,
 * export 2, search 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aipm/config.h"
#include "aipm/graph.h"
#include "aipm/ingest.h"
#include "aipm/store.h"
#include "graph/graph_int.h"
#include "testutil.h"

static const char yaml[] =
    "catalog:\n"
    "  - {key: export, area: reporting, events: [Export]}\n"
    "  - {key: search, area: search, events: [Search, Search Filtered], "
    "depends_on: [export]}\n";

static const char events[] =
    "{\"type\":\"group\",\"messageId\":\"g1\",\"userId\":\"a\",\"groupId\":"
    "\"X\",\"timestamp\":\"2026-03-01T10:00:00Z\",\"traits\":{}}\n"
    "{\"type\":\"group\",\"messageId\":\"g2\",\"userId\":\"a\",\"groupId\":"
    "\"X\",\"timestamp\":\"2026-03-09T10:00:00Z\",\"traits\":{}}\n"
    "{\"type\":\"group\",\"messageId\":\"g3\",\"userId\":\"b\",\"groupId\":"
    "\"X\",\"timestamp\":\"2026-03-01T11:00:00Z\",\"traits\":{}}\n"
    "{\"type\":\"group\",\"messageId\":\"g4\",\"userId\":\"c\",\"groupId\":"
    "\"Y\",\"timestamp\":\"2026-03-01T12:00:00Z\",\"traits\":{}}\n"
    "{\"type\":\"group\",\"messageId\":\"g5\",\"userId\":\"c\",\"groupId\":"
    "\"X\",\"timestamp\":\"2026-03-04T12:00:00Z\",\"traits\":{}}\n"
    "{\"type\":\"track\",\"messageId\":\"t1\",\"userId\":\"a\",\"event\":"
    "\"Export\",\"timestamp\":\"2026-03-05T10:00:00Z\",\"properties\":{}}\n"
    "{\"type\":\"track\",\"messageId\":\"t2\",\"userId\":\"a\",\"event\":"
    "\"Export\",\"timestamp\":\"2026-03-02T10:00:00Z\",\"properties\":{}}\n"
    "{\"type\":\"track\",\"messageId\":\"t3\",\"userId\":\"b\",\"event\":"
    "\"Search\",\"timestamp\":\"2026-03-03T10:00:00Z\",\"properties\":{}}\n"
    "{\"type\":\"track\",\"messageId\":\"t5\",\"userId\":\"b\",\"event\":"
    "\"Search Filtered\",\"timestamp\":\"2026-03-01T09:00:00Z\","
    "\"properties\":{}}\n"
    "{\"type\":\"track\",\"messageId\":\"t4\",\"userId\":\"d\",\"event\":"
    "\"Login\",\"timestamp\":\"2026-03-03T10:00:00Z\",\"properties\":{}}\n";

static const char graph_csv[] = "src,relation,dst\n"
                                "user:a,invited,user:b\n"
                                "user:b,invited,user:c\n";

typedef tu_ws fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    aipm_error err = {0};
    aipm_ingest_result res;

    if (f == NULL || tu_ws_open(f) != 0)
        return -1;
    if (tu_ws_ingest(f, "events", "ev.ndjson", events, sizeof(events) - 1, NULL,
                     &res, &err) != AIPM_OK)
        return -1;
    aipm_ingest_result_clear(&res);
    if (tu_ws_ingest(f, "graph", "graph.csv", graph_csv, sizeof(graph_csv) - 1,
                     NULL, &res, &err) != AIPM_OK)
        return -1;
    aipm_ingest_result_clear(&res);
    if (tu_ws_config(f, yaml) != 0)
        return -1;
    *state = f;
    return 0;
}

static aipm_graph *build(fx *f)
{
    aipm_graph *g = NULL;
    aipm_error err = {0};

    if (aipm_graph_build(&g, f->st, f->cfg, &err) != AIPM_OK)
        print_error("graph: %s\n", err.msg);
    assert_non_null(g);
    return g;
}

static int degree_of(const aipm_graph *g, const char *id)
{
    int n = aipm_graph_find(g, id);

    assert_true(n >= 0);
    return aipm_graph_degree(g, n);
}

static void test_counts(void **state)
{
    aipm_graph *g = build(*state);

    assert_int_equal(aipm_graph_n_nodes(g), 8);
    assert_int_equal(aipm_graph_n_edges(g), 9);
    assert_int_equal(degree_of(g, "user:a"), 3);
    assert_int_equal(degree_of(g, "user:b"), 4);
    assert_int_equal(degree_of(g, "user:c"), 3);
    assert_int_equal(degree_of(g, "user:d"), 0);
    assert_int_equal(degree_of(g, "account:X"), 3);
    assert_int_equal(degree_of(g, "account:Y"), 1);
    assert_int_equal(degree_of(g, "feature:export"), 2);
    assert_int_equal(degree_of(g, "feature:search"), 2);
    assert_int_equal(aipm_graph_node_kind(g, aipm_graph_find(g, "account:X")),
                     AIPM_NODE_ACCOUNT);
    assert_int_equal(aipm_graph_find(g, "user:nobody"), -1);
    aipm_graph_free(g);
}

/* The ms of an RFC 3339 time. */
static int64_t at(const char *ts)
{
    int64_t ms;

    assert_int_equal(aipm_time_parse(&ms, ts, strlen(ts), 0), AIPM_OK);
    return ms;
}

typedef struct seen {
    const aipm_graph *g;
    char list[512];
    int64_t t_export;
} seen;

static int note(void *ctx, const aipm_edge *e)
{
    seen *s = ctx;
    size_t n = strlen(s->list);

    snprintf(s->list + n, sizeof(s->list) - n, "%s%s%s ", e->out ? ">" : "<",
             aipm_graph_relation(s->g, e->relation),
             aipm_graph_node_id(s->g, e->node));
    if (strcmp(aipm_graph_node_id(s->g, e->node), "feature:export") == 0)
        s->t_export = e->t_ms;
    return 0;
}

/* a: out member_of X, uses export (first use 03-02), invited b. b: out
 * member_of X, uses search, invited c; in invited from a. */
static void test_neighbors(void **state)
{
    aipm_graph *g = build(*state);
    seen s = {g, "", 0};

    aipm_graph_neighbors(g, aipm_graph_find(g, "user:a"), -1, note, &s);
    assert_non_null(strstr(s.list, ">member_ofaccount:X "));
    assert_non_null(strstr(s.list, ">usesfeature:export "));
    assert_non_null(strstr(s.list, ">inviteduser:b "));
    assert_true(s.t_export == at("2026-03-02T10:00:00Z"));
    s.list[0] = '\0';
    aipm_graph_neighbors(g, aipm_graph_find(g, "user:b"),
                         aipm_graph_relation_find(g, "invited"), note, &s);
    assert_string_equal(s.list, ">inviteduser:c <inviteduser:a ");
    s.list[0] = '\0';
    aipm_graph_neighbors(g, aipm_graph_find(g, "feature:search"), -1, note, &s);
    assert_string_equal(s.list, ">depends_onfeature:export <usesuser:b ");
    aipm_graph_free(g);
}

/* The signal: a's neighbours are b (account X and invited) and c (account
 * X), once each. b first used search on 03-01 09:00 (Search Filtered): the
 * share of a's neighbours who had adopted search is 0 before, 1/2 after.
 * Export: a is its only user, so b's neighbours (a via X and the invite, c via
 * X and the invite) have one adopter at 03-02 10:00. d has no neighbours. */
/* The scratch of the signal calls, and one call: the neighbours of user
 * for feature (its adoption times recomputed when feature changes), their
 * adoption times sorted. */
typedef struct sig {
    aipm_graph *g;
    int *mark, stamp, nb[8];
    int64_t *adopt, t[8], since[8];
} sig;

static int cmp_time(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int neighbours(sig *x, const char *feature, const char *user, int cap)
{
    int n, i;

    if (feature)
        assert_int_equal(aipm_graph_adoption_times(
                             x->g, aipm_graph_find(x->g, feature), x->adopt),
                         AIPM_OK);
    n = aipm_graph_user_neighbours(x->g, aipm_graph_find(x->g, user), x->mark,
                                   ++x->stamp, x->nb, x->since, cap);
    for (i = 0; i < n && i < cap; i++)
        x->t[i] = x->adopt[x->nb[i]];
    qsort(x->t, (size_t)(n < cap ? n : cap), sizeof(int64_t), cmp_time);
    return n;
}

/* The link time the last call gave for neighbour id, or -1. */
static int64_t since_of(const sig *x, int n, const char *id)
{
    int i, node = aipm_graph_find(x->g, id);

    for (i = 0; i < n && i < 8; i++)
        if (x->nb[i] == node)
            return x->since[i];
    return -1;
}

static void test_signal(void **state)
{
    sig x;
    int n;

    x.g = build(*state);
    n = aipm_graph_n_nodes(x.g);
    x.mark = calloc((size_t)n, sizeof(int));
    x.adopt = malloc((size_t)n * sizeof(int64_t));
    x.stamp = 0;
    assert_non_null(x.mark);
    assert_non_null(x.adopt);
    assert_int_equal(neighbours(&x, "feature:search", "user:a", 8), 2);
    assert_true(x.t[0] == at("2026-03-01T09:00:00Z") && x.t[1] == INT64_MAX);
    assert_int_equal(neighbours(&x, "feature:export", "user:b", 8), 2);
    assert_true(x.t[0] == at("2026-03-02T10:00:00Z") && x.t[1] == INT64_MAX);
    /* Links: c joined X on 03-04 12:00 (a and b were in it by 03-01 11:00);
     * an invitation has no time in graph.csv (0), and the earliest path to
     * a neighbour counts. */
    assert_int_equal(neighbours(&x, NULL, "user:a", 8), 2);
    assert_true(since_of(&x, 2, "user:c") == at("2026-03-04T12:00:00Z"));
    assert_true(since_of(&x, 2, "user:b") == 0);
    assert_int_equal(neighbours(&x, NULL, "user:c", 8), 2);
    assert_true(since_of(&x, 2, "user:a") == at("2026-03-04T12:00:00Z"));
    assert_true(since_of(&x, 2, "user:b") == 0);
    /* cap 1: the count is still 2, one time is returned. */
    assert_int_equal(neighbours(&x, NULL, "user:c", 1), 2);
    assert_int_equal(neighbours(&x, NULL, "user:d", 8), 0);
    free(x.mark);
    free(x.adopt);
    aipm_graph_free(x.g);
}

typedef struct wsum {
    const aipm_graph *g;
    int n;
    double weight_b;
} wsum;

static int weigh(void *ctx, const aipm_edge *e)
{
    wsum *w = ctx;

    w->n++;
    if (strcmp(aipm_graph_node_id(w->g, e->node), "user:b") == 0)
        w->weight_b = e->weight;
    return 0;
}

/* A newer version of a graph.csv row replaces the older (the edge stays
 * one, with the new weight), also among more edges than one merge run:
 * a invites z0..z39 in a second batch, then z7 and b again (weights 2, 5)
 * in a third. a's invited edges: b and z0..z39 = 41. */
static void test_newest_edge_wins(void **state)
{
    fx *f = *state;
    aipm_buf b;
    aipm_error err = {0};
    aipm_ingest_result res;
    aipm_graph *g;
    wsum w = {NULL, 0, 0};
    int i;

    aipm_buf_init(&b, 1 << 20);
    aipm_buf_printf(&b, "src,relation,dst\n");
    for (i = 0; i < 40; i++)
        aipm_buf_printf(&b, "user:a,invited,user:z%d\n", i);
    assert_int_equal(
        tu_ws_ingest(f, "graph", "g2.csv", b.ptr, b.len, NULL, &res, &err),
        AIPM_OK);
    aipm_ingest_result_clear(&res);
    aipm_buf_free(&b);
    {
        static const char newer[] = "src,relation,dst,weight\n"
                                    "user:a,invited,user:z7,2\n"
                                    "user:a,invited,user:b,5\n";

        assert_int_equal(tu_ws_ingest(f, "graph", "g3.csv", newer,
                                      sizeof(newer) - 1, NULL, &res, &err),
                         AIPM_OK);
        aipm_ingest_result_clear(&res);
    }
    g = build(f);
    w.g = g;
    aipm_graph_neighbors(g, aipm_graph_find(g, "user:a"),
                         aipm_graph_relation_find(g, "invited"), weigh, &w);
    assert_int_equal(w.n, 41);
    assert_true(w.weight_b == 5);
    assert_int_equal(degree_of(g, "user:z7"), 1);
    aipm_graph_free(g);
}

static void test_stats(void **state)
{
    aipm_graph *g = build(*state);
    char *text = aipm_graph_stats_json(g);
    json_error_t jerr;
    json_t *d = json_loads(text, 0, &jerr);

    assert_non_null(d);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(d, "nodes"), "user")),
                     4);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(d, "edges"), "member_of")),
                     4);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(d, "edges"), "invited")),
                     2);
    /* Degrees 0,1,2,2,3,3,3,4: median (index 3) 2, max 4, mean 18/8. */
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(d, "degree"), "median")),
                     2);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(d, "degree"), "max")),
                     4);
    assert_true(json_real_value(json_object_get(json_object_get(d, "degree"),
                                                "mean")) == 18.0 / 8);
    json_decref(d);
    free(text);
    aipm_graph_free(g);
}

/* ---- the snapshot and incremental builds ---- */

/* The whole graph as text: each node, and each edge from both ends as
 * "node ->|<- relation other time weight", the lines sorted - the same
 * for two graphs whatever their node numbers. */
typedef struct dump {
    const aipm_graph *g;
    int src;
    char **lines;
    size_t n, cap;
} dump;

static int dump_edge(void *ctx, const aipm_edge *e)
{
    dump *d = ctx;
    char line[400];

    snprintf(line, sizeof(line), "%s %s %s %s %lld %g",
             aipm_graph_node_id(d->g, d->src), e->out ? "->" : "<-",
             aipm_graph_relation(d->g, e->relation),
             aipm_graph_node_id(d->g, e->node), (long long)e->t_ms, e->weight);
    assert_int_equal(aipm_grow(&d->lines, &d->cap, d->n + 1, sizeof(char *)),
                     0);
    d->lines[d->n++] = strdup(line);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *dump_graph(const aipm_graph *g)
{
    dump d = {g, 0, NULL, 0, 0};
    aipm_buf b;
    size_t i;
    char *text;

    for (d.src = 0; d.src < aipm_graph_n_nodes(g); d.src++) {
        aipm_graph_neighbors(g, d.src, -1, dump_edge, &d);
        assert_int_equal(aipm_grow(&d.lines, &d.cap, d.n + 1, sizeof(char *)),
                         0);
        d.lines[d.n++] = strdup(aipm_graph_node_id(g, d.src)); /* the node */
    }
    qsort(d.lines, d.n, sizeof(char *), cmp_str);
    aipm_buf_init(&b, 1 << 24);
    for (i = 0; i < d.n; i++) {
        aipm_buf_printf(&b, "%s\n", d.lines[i]);
        free(d.lines[i]);
    }
    free(d.lines);
    text = strdup(aipm_buf_cstr(&b));
    aipm_buf_free(&b);
    return text;
}

/* Open through the snapshot in the fixture's folder; the mode it took. */
static aipm_graph *open_snap(fx *f, aipm_graph_build_info *info)
{
    char path[400];
    aipm_graph *g = NULL;
    aipm_error err = {0};

    snprintf(path, sizeof(path), "%s/graph.snapshot", f->dir);
    assert_int_equal(aipm_graph_open(&g, f->st, f->cfg, path, 0, info, &err),
                     AIPM_OK);
    assert_string_equal(info->save_error, "");
    return g;
}

/* The graph through the snapshot is the full build's, edge for edge. */
static void same_as_full(fx *f, const aipm_graph *g)
{
    aipm_graph *full = build(f);
    char *a = dump_graph(g), *b = dump_graph(full);

    assert_string_equal(a, b);
    free(a);
    free(b);
    aipm_graph_free(full);
}

static void ingest(fx *f, const char *dataset, const char *name,
                   const char *text)
{
    aipm_ingest_result res;
    aipm_error err = {0};

    assert_int_equal(
        tu_ws_ingest(f, dataset, name, text, strlen(text), NULL, &res, &err),
        AIPM_OK);
    aipm_ingest_result_clear(&res);
}

/* The time and weight of edge src -relation-> dst. */
static void edge_of(const aipm_graph *g, const char *src, const char *rel,
                    const char *dst, int64_t *t, double *w)
{
    dump d = {g, aipm_graph_find(g, src), NULL, 0, 0};
    char want[200];
    size_t i, k = 0;

    snprintf(want, sizeof(want), "%s -> %s %s ", src, rel, dst);
    aipm_graph_neighbors(g, d.src, aipm_graph_relation_find(g, rel), dump_edge,
                         &d);
    for (i = 0; i < d.n; i++) {
        if (strncmp(d.lines[i], want, strlen(want)) == 0) {
            long long ms;

            assert_int_equal(
                sscanf(d.lines[i] + strlen(want), "%lld %lf", &ms, w), 2);
            *t = ms;
            k++;
        }
        free(d.lines[i]);
    }
    free(d.lines);
    assert_int_equal(k, 1);
}

/* Batch 3 (events): a uses Export earlier (03-01 08:00: its first use
 * moves back), b searches later (no change), c calls into X earlier
 * (03-02 12:00), new user e joins new account Z and uses Export. Batch 4
 * (graph): a invited b again with weight 5 (the newest wins), e invited a
 * twice, weights 1 then 3. By hand: users a-e 5, accounts X Y Z 3,
 * features 2 = 10 nodes; member_of 5, uses 3, depends_on 1, invited 3 =
 * 12 edges. */
static const char more_events[] =
    "{\"type\":\"track\",\"messageId\":\"n1\",\"userId\":\"a\",\"event\":"
    "\"Export\",\"timestamp\":\"2026-03-01T08:00:00Z\",\"properties\":{}}\n"
    "{\"type\":\"track\",\"messageId\":\"n2\",\"userId\":\"b\",\"event\":"
    "\"Search\",\"timestamp\":\"2026-03-09T10:00:00Z\",\"properties\":{}}\n"
    "{\"type\":\"group\",\"messageId\":\"n3\",\"userId\":\"c\",\"groupId\":"
    "\"X\",\"timestamp\":\"2026-03-02T12:00:00Z\",\"traits\":{}}\n"
    "{\"type\":\"group\",\"messageId\":\"n4\",\"userId\":\"e\",\"groupId\":"
    "\"Z\",\"timestamp\":\"2026-03-06T12:00:00Z\",\"traits\":{}}\n"
    "{\"type\":\"track\",\"messageId\":\"n5\",\"userId\":\"e\",\"event\":"
    "\"Export\",\"timestamp\":\"2026-03-07T10:00:00Z\",\"properties\":{}}\n";

static const char more_graph[] = "src,relation,dst,weight\n"
                                 "user:a,invited,user:b,5\n"
                                 "user:e,invited,user:a,1\n"
                                 "user:e,invited,user:a,3\n";

static void test_snapshot_incremental(void **state)
{
    fx *f = *state;
    aipm_graph_build_info info;
    aipm_graph *g;
    int64_t t;
    double w;

    g = open_snap(f, &info);
    assert_string_equal(info.mode, "full");
    assert_string_equal(info.why, "no snapshot yet");
    aipm_graph_free(g);
    g = open_snap(f, &info);
    assert_string_equal(info.mode, "snapshot");
    assert_int_equal(aipm_graph_n_nodes(g), 8);
    assert_int_equal(aipm_graph_n_edges(g), 9);
    assert_int_equal(degree_of(g, "user:b"), 4);
    same_as_full(f, g);
    aipm_graph_free(g);

    ingest(f, "events", "more.ndjson", more_events);
    ingest(f, "graph", "more.csv", more_graph);
    g = open_snap(f, &info);
    assert_string_equal(info.mode, "incremental");
    assert_int_equal(info.new_batches, 2);
    assert_int_equal(aipm_graph_n_nodes(g), 10);
    assert_int_equal(aipm_graph_n_edges(g), 12);
    edge_of(g, "user:a", "uses", "feature:export", &t, &w);
    assert_true(t == at("2026-03-01T08:00:00Z"));
    edge_of(g, "user:b", "uses", "feature:search", &t, &w);
    assert_true(t == at("2026-03-01T09:00:00Z"));
    edge_of(g, "user:c", "member_of", "account:X", &t, &w);
    assert_true(t == at("2026-03-02T12:00:00Z"));
    edge_of(g, "user:a", "invited", "user:b", &t, &w);
    assert_true(w == 5);
    edge_of(g, "user:e", "invited", "user:a", &t, &w);
    assert_true(w == 3);
    /* e: member of Z, uses export, invited a */
    assert_int_equal(degree_of(g, "user:e"), 3);
    same_as_full(f, g);
    aipm_graph_free(g);
    g = open_snap(f, &info); /* the incremental build was saved */
    assert_string_equal(info.mode, "snapshot");
    same_as_full(f, g);
    aipm_graph_free(g);
}

/* A build through the snapshot that is full for this reason, and gives
 * the full build's graph. */
static void full_because(fx *f, const char *why)
{
    aipm_graph_build_info info;
    aipm_graph *g = open_snap(f, &info);

    assert_string_equal(info.mode, "full");
    assert_string_equal(info.why, why);
    same_as_full(f, g);
    aipm_graph_free(g);
}

/* Every change a delta cannot express builds in full, and says why. */
static void test_snapshot_full(void **state)
{
    fx *f = *state;
    aipm_graph_build_info info;
    aipm_error err = {0};
    aipm_graph *g;
    char path[400];
    FILE *fp;
    long size;
    int c;

    aipm_graph_free(open_snap(f, &info));
    ingest(f, "events", "more.ndjson", more_events); /* batch 3 */
    aipm_graph_free(open_snap(f, &info));
    assert_string_equal(info.mode, "incremental");
    assert_int_equal(
        aipm_data_transition(f->st, 3, "revert", "test", NULL, &err), AIPM_OK);
    full_because(f, "batch 3 is no longer accepted");
    assert_int_equal(
        aipm_data_transition(f->st, 3, "accept", "test", NULL, &err), AIPM_OK);
    full_because(f, "batch 3 was accepted since the snapshot");

    /* A damaged file: a flipped byte in the edges, then a short file. */
    snprintf(path, sizeof(path), "%s/graph.snapshot", f->dir);
    fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    size = ftell(fp);
    fseek(fp, size - 5, SEEK_SET); /* the last edge's weight */
    c = fgetc(fp);
    fseek(fp, size - 5, SEEK_SET);
    fputc(c ^ 0x10, fp);
    fclose(fp);
    aipm_graph_free(open_snap(f, &info));
    assert_string_equal(info.mode, "full");
    assert_string_equal(info.why, "the snapshot is damaged (checksum)");
    assert_int_equal(truncate(path, size - 16), 0);
    aipm_graph_free(open_snap(f, &info));
    assert_string_equal(info.why, "the snapshot is damaged (sizes)");

    /* The catalog changes. */
    aipm_graph_free(open_snap(f, &info));
    assert_string_equal(info.mode, "snapshot");
    aipm_config_free(f->cfg);
    f->cfg = NULL;
    assert_int_equal(tu_ws_config(f, "catalog:\n"
                                     "  - {key: export, events: [Export]}\n"),
                     0);
    aipm_graph_free(open_snap(f, &info));
    assert_string_equal(info.why, "the catalog changed");

    /* graph.csv rows of a built-in relation. */
    ingest(f, "graph", "uses.csv",
           "src,relation,dst\nuser:d,uses,feature:export\n");
    full_because(f, "graph.csv's new rows use a built-in relation "
                    "(member_of, uses or depends_on)");
    aipm_graph_free(open_snap(f, &info));
    assert_string_equal(info.why,
                        "graph.csv has member_of, uses or depends_on rows");

    /* --rebuild; the save removes a temporary file a killed save left
     * (its pid is no process: above any pid_max), not one of a live one */
    {
        char stale[500], live[500];

        snprintf(stale, sizeof(stale), "%s.tmp2147483646", path);
        snprintf(live, sizeof(live), "%s.tmp%ld", path, (long)getppid());
        assert_int_equal(tu_write(stale, "x", 1), 0);
        assert_int_equal(tu_write(live, "x", 1), 0);
        assert_int_equal(
            aipm_graph_open(&g, f->st, f->cfg, path, 1, &info, &err), AIPM_OK);
        assert_string_equal(info.why, "asked to rebuild");
        assert_int_equal(access(stale, F_OK), -1);
        assert_int_equal(access(live, F_OK), 0);
        unlink(live);
        aipm_graph_free(g);
    }
}

/* A snapshot in use is truncated, then overwritten in place (another
 * process rewriting it, a disk tool): the graph opened from it keeps its
 * edges, with no crash. It was mapped before, so the truncation gave
 * SIGBUS on the next read of an edge and the overwrite changed the edges
 * after they were checked. The reference is the full build from the
 * store, which never reads the file. */
static void test_snapshot_changed_in_use(void **state)
{
    fx *f = *state;
    aipm_graph_build_info info;
    aipm_graph *g;
    char path[400], junk[4096];
    struct stat sb;
    int fd;

    aipm_graph_free(open_snap(f, &info)); /* full, saved */
    g = open_snap(f, &info);
    assert_string_equal(info.mode, "snapshot");
    snprintf(path, sizeof(path), "%s/graph.snapshot", f->dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(truncate(path, 0), 0);
    same_as_full(f, g);
    assert_int_equal(aipm_graph_n_edges(g), 9); /* as test_counts */
    memset(junk, 0x5a, sizeof(junk));
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    for (off_t at = 0; at < sb.st_size; at += (off_t)sizeof(junk))
        assert_true(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
    close(fd);
    same_as_full(f, g);
    assert_int_equal(degree_of(g, "user:b"), 4); /* as test_snapshot_incr. */
    aipm_graph_free(g);
    /* The rewritten file itself is never used: a full build, and why. */
    aipm_graph_free(open_snap(f, &info));
    assert_string_equal(info.mode, "full");
    assert_string_equal(info.why, "the snapshot is of another format");
}

/* A version still holds when only batches past its newest were added;
 * not when one of its batches went or came back changed, or one at or
 * below its newest was accepted meanwhile (a build that read around such
 * a change is not saved). v: batches 1 and 2, newest batch id 5. */
static int holds(const graph_batch *later, size_t n)
{
    graph_batch mine[2] = {{1, 0, "aa"}, {2, 1, "bb"}};
    graph_version v = {5, 0, 0, {0}, {0}, mine, 2, 2};
    graph_version w = {9, 0, 0, {0}, {0}, (graph_batch *)later, n, n};

    return aipm_graph__version_holds(&v, &w);
}

static void test_version_holds(void **state)
{
    const graph_batch same[2] = {{1, 0, "aa"}, {2, 1, "bb"}};
    const graph_batch newer[3] = {{1, 0, "aa"}, {2, 1, "bb"}, {6, 0, "cc"}};
    const graph_batch staged[3] = {{1, 0, "aa"}, {2, 1, "bb"}, {4, 0, "cc"}};
    const graph_batch gone[1] = {{2, 1, "bb"}};
    const graph_batch changed[2] = {{1, 0, "aa"}, {2, 1, "bc"}};

    (void)state;
    assert_true(holds(same, 2));
    assert_true(holds(newer, 3));
    assert_false(holds(staged, 3));
    assert_false(holds(gone, 1));
    assert_false(holds(changed, 2));
    assert_false(holds(same, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts, setup, tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_neighbors, setup, tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_signal, setup, tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_newest_edge_wins, setup,
                                        tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_incremental, setup,
                                        tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_changed_in_use, setup,
                                        tu_ws_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_full, setup,
                                        tu_ws_teardown),
        cmocka_unit_test(test_version_holds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
