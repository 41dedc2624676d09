/* cmd_graph.c - `aipm graph stats|neighbors`. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("usage: aipm graph stats [--rebuild]\n"
           "       aipm graph neighbors NODE [--relation R] [--limit N] "
           "[--rebuild]\n"
           "\n"
           "The knowledge graph of users, accounts and catalog features,\n"
           "built from the store: user member_of account (group calls), user\n"
           "uses feature (first use of its catalog events), feature\n"
           "depends_on feature (catalog), and every edge of graph.csv (e.g.\n"
           "user invited user). Node ids are typed: user:ID, account:ID,\n"
           "feature:KEY.\n"
           "\n"
           "stats prints node and edge counts by type and the degree\n"
           "distribution, and how the graph was built; neighbors lists a\n"
           "node's edges, out then in, by relation and node id (--limit\n"
           "defaults to 100, 0: all).\n"
           "\n"
           "Each build saves the graph to graph.snapshot in the workspace\n"
           "(mode 0600). The next build reads it and folds in only the\n"
           "batches accepted since; it builds in full when a batch was\n"
           "reverted or accepted out of order, the catalog changed, or the\n"
           "snapshot is missing or damaged (stats says which). --rebuild\n"
           "builds in full regardless.\n");
}

/* A node's edges, collected to be listed in an order that does not
 * depend on how the graph numbered its nodes (a snapshot's additions come
 * last): out before in, then by relation and node id. */
typedef struct nb {
    aipm_edge *edges;
    size_t n, cap;
    int failed;
} nb;

static const aipm_graph *sort_graph;

static int collect(void *ctx, const aipm_edge *e)
{
    nb *s = ctx;

    if (aipm_grow(&s->edges, &s->cap, s->n + 1, sizeof(*e)) != 0) {
        s->failed = 1;
        return 1;
    }
    s->edges[s->n++] = *e;
    return 0;
}

static int cmp_edge(const void *a, const void *b)
{
    const aipm_edge *x = a, *y = b;
    int c;

    if (x->out != y->out)
        return x->out ? -1 : 1;
    if (x->relation != y->relation &&
        (c = strcmp(aipm_graph_relation(sort_graph, x->relation),
                    aipm_graph_relation(sort_graph, y->relation))) != 0)
        return c;
    return strcmp(aipm_graph_node_id(sort_graph, x->node),
                  aipm_graph_node_id(sort_graph, y->node));
}

/* One edge, in JSON or as a line; when: its start time as text, or "". */
static json_t *edge_json(const aipm_graph *g, const aipm_edge *e,
                         const char *when)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:o}", "node", aipm_graph_node_id(g, e->node),
        "relation", aipm_graph_relation(g, e->relation), "direction",
        e->out ? "out" : "in", "weight",
        isfinite(e->weight) ? json_real(e->weight) : json_null());

    json_object_set_new(o, "since", when[0] ? json_string(when) : json_null());
    return o;
}

static void edge_text(const aipm_graph *g, const aipm_edge *e, const char *when)
{
    printf("  %s %-12s %-32s %s\n", e->out ? "->" : "<-",
           cli_text(aipm_graph_relation(g, e->relation)),
           cli_text(aipm_graph_node_id(g, e->node)), when);
}

static int neighbors(const aipm_graph *g, int argc, char **argv)
{
    const char *id = NULL, *rel_name = NULL;
    nb s = {NULL, 0, 0, 0};
    json_t *arr = NULL;
    int64_t limit = 100;
    size_t i, shown;
    int node, rel = -1, k;

    for (k = 2; k < argc; k++) {
        if (strcmp(argv[k], "--relation") == 0 && k + 1 < argc)
            rel_name = argv[++k];
        else if (strcmp(argv[k], "--limit") == 0 && k + 1 < argc) {
            if (strcmp(argv[++k], "0") == 0)
                limit = 0;
            else if (cli_parse_i64(argv[k], &limit) != 0)
                return cli_usage_error("--limit needs a number (0: all)");
        } else if (strcmp(argv[k], "--rebuild") == 0)
            continue;
        else if (argv[k][0] != '-' && id == NULL)
            id = argv[k];
        else
            return cli_bad_arg(
                "graph neighbors", argv[k], k + 1 == argc,
                (const char *const[]){"--relation", "--limit", NULL});
    }
    if (id == NULL)
        return cli_usage_error("graph neighbors needs a NODE (user:ID, "
                               "account:ID or feature:KEY)");
    if ((node = aipm_graph_find(g, id)) < 0)
        return cli_usage_error("no node %s in the graph (ids are typed: "
                               "user:ID, account:ID, feature:KEY)",
                               id);
    if (rel_name && (rel = aipm_graph_relation_find(g, rel_name)) < 0)
        return cli_usage_error("no relation %s in the graph", rel_name);
    aipm_graph_neighbors(g, node, rel, collect, &s);
    if (s.failed) {
        free(s.edges);
        fprintf(stderr, "aipm: out of memory\n");
        return EXIT_INTERNAL;
    }
    sort_graph = g;
    qsort(s.edges, s.n, sizeof(*s.edges), cmp_edge);
    shown = limit > 0 && (size_t)limit < s.n ? (size_t)limit : s.n;
    if (g_cli.json)
        arr = json_array();
    else
        printf("%s (%s, degree %d)\n", cli_text(id),
               aipm_node_kind_name(aipm_graph_node_kind(g, node)),
               aipm_graph_degree(g, node));
    for (i = 0; i < shown; i++) {
        char when[32] = "";

        if (s.edges[i].t_ms > 0)
            aipm_time_format(when, s.edges[i].t_ms);
        if (arr)
            json_array_append_new(arr, edge_json(g, &s.edges[i], when));
        else
            edge_text(g, &s.edges[i], when);
    }
    if (arr) {
        json_t *o =
            json_pack("{s:s, s:s, s:i, s:I, s:o}", "node", id, "kind",
                      aipm_node_kind_name(aipm_graph_node_kind(g, node)),
                      "degree", aipm_graph_degree(g, node), "edges",
                      (json_int_t)s.n, "neighbors", arr);

        cli_print_json(o);
        json_decref(o);
    } else if (s.n > shown)
        printf("  ... %zu more (--limit 0 shows all)\n", s.n - shown);
    free(s.edges);
    return EXIT_OK;
}

static json_t *build_json(const aipm_graph_build_info *b)
{
    json_t *o = json_pack("{s:s, s:i, s:f, s:f}", "mode", b->mode,
                          "new_batches", b->new_batches, "seconds", b->seconds,
                          "save_seconds", b->save_seconds);

    json_object_set_new(o, "why",
                        b->why[0] ? json_string(b->why) : json_null());
    json_object_set_new(o, "snapshot_error",
                        b->save_error[0] ? json_string(b->save_error)
                                         : json_null());
    return o;
}

static void build_text(const aipm_graph_build_info *b)
{
    if (strcmp(b->mode, "snapshot") == 0)
        printf("built from the snapshot, nothing new since (%.2f s)\n",
               b->seconds);
    else if (strcmp(b->mode, "incremental") == 0)
        printf("built from the snapshot and %d new batch%s (%.2f s)\n",
               b->new_batches, b->new_batches == 1 ? "" : "es", b->seconds);
    else
        printf("built in full: %s (%.2f s)\n",
               b->why[0] ? cli_text(b->why) : "-", b->seconds);
    if (b->save_error[0])
        printf("the snapshot was not saved: %s\n", cli_text(b->save_error));
}

static int stats(const aipm_graph *g, const aipm_graph_build_info *b)
{
    char *text = aipm_graph_stats_json(g);
    json_error_t jerr;
    json_t *d, *v;
    const char *k;

    if (text == NULL) {
        fprintf(stderr, "aipm: out of memory\n");
        return EXIT_INTERNAL;
    }
    d = json_loads(text, JSON_PRESERVE_ORDER, &jerr);
    free(text);
    if (d == NULL)
        return EXIT_INTERNAL;
    if (g_cli.json) {
        json_object_set_new(d, "build", build_json(b));
        cli_print_json(d);
        json_decref(d);
        return EXIT_OK;
    }
    printf("%lld nodes, %lld edges\n",
           (long long)json_integer_value(json_object_get(d, "nodes_total")),
           (long long)json_integer_value(json_object_get(d, "edges_total")));
    json_object_foreach(json_object_get(d, "nodes"), k, v) printf(
        "  %-12s %lld nodes\n", cli_text(k), (long long)json_integer_value(v));
    json_object_foreach(json_object_get(d, "edges"), k, v) printf(
        "  %-12s %lld edges\n", cli_text(k), (long long)json_integer_value(v));
    v = json_object_get(d, "degree");
    printf("degree: min %lld, median %lld, p90 %lld, p99 %lld, max %lld, "
           "mean %.2f\n",
           (long long)json_integer_value(json_object_get(v, "min")),
           (long long)json_integer_value(json_object_get(v, "median")),
           (long long)json_integer_value(json_object_get(v, "p90")),
           (long long)json_integer_value(json_object_get(v, "p99")),
           (long long)json_integer_value(json_object_get(v, "max")),
           json_number_value(json_object_get(v, "mean")));
    build_text(b);
    json_decref(d);
    return EXIT_OK;
}

int cmd_graph(int argc, char **argv)
{
    workspace ws;
    aipm_error err = {0, ""};
    aipm_graph_build_info info;
    aipm_graph *g = NULL;
    int rc, rebuild = 0, i;

    if (g_cli.help || argc < 2) {
        help();
        return argc < 2 && !g_cli.help ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "stats") != 0 && strcmp(argv[1], "neighbors") != 0)
        return cli_bad_subcommand(
            "graph", argv[1],
            (const char *const[]){"stats", "neighbors", NULL});
    for (i = 2; i < argc; i++)
        if (strcmp(argv[i], "--rebuild") == 0)
            rebuild = 1;
        else if (strcmp(argv[1], "stats") == 0)
            return cli_bad_option("graph stats", argv[i], i + 1 == argc, NULL,
                                  (const char *const[]){"--rebuild", NULL});
    if ((rc = ws_open_ro(&ws)) != 0) /* the snapshot is a file, not the store */
        return rc;
    if (aipm_graph_open(&g, ws.store, ws.config, ws.graph_snapshot, rebuild,
                        &info, &err) != AIPM_OK) {
        rc = cli_fail(&err);
        ws_close(&ws);
        return rc;
    }
    rc = strcmp(argv[1], "stats") == 0 ? stats(g, &info)
                                       : neighbors(g, argc, argv);
    aipm_graph_free(g);
    ws_close(&ws);
    return rc;
}
