/* cmd_graph.c - `aipm graph stats|neighbors`. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("usage: aipm graph stats\n"
           "       aipm graph neighbors NODE [--relation R] [--limit N]\n"
           "\n"
           "The knowledge graph of users, accounts and catalog features,\n"
           "built from the store: user member_of account (group calls), user\n"
           "uses feature (first use of its catalog events), feature\n"
           "depends_on feature (catalog), and every edge of graph.csv (e.g.\n"
           "user invited user). Node ids are typed: user:ID, account:ID,\n"
           "feature:KEY.\n"
           "\n"
           "stats prints node and edge counts by type and the degree\n"
           "distribution; neighbors lists a node's edges, both directions\n"
           "(--limit defaults to 100, 0: all).\n");
}

typedef struct nb {
    const aipm_graph *g;
    json_t *arr;
    int64_t limit, shown, total;
} nb;

static int one(void *ctx, const aipm_edge *e)
{
    nb *s = ctx;
    char when[32] = "";

    s->total++;
    if (s->limit > 0 && s->shown >= s->limit)
        return 0;
    s->shown++;
    if (e->t_ms > 0)
        aipm_time_format(when, e->t_ms);
    if (s->arr) {
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:o}", "node", aipm_graph_node_id(s->g, e->node),
            "relation", aipm_graph_relation(s->g, e->relation), "direction",
            e->out ? "out" : "in", "weight",
            isfinite(e->weight) ? json_real(e->weight) : json_null());

        json_object_set_new(o, "since",
                            when[0] ? json_string(when) : json_null());
        json_array_append_new(s->arr, o);
    } else
        printf("  %s %-12s %-32s %s\n", e->out ? "->" : "<-",
               aipm_graph_relation(s->g, e->relation),
               aipm_graph_node_id(s->g, e->node), when);
    return 0;
}

static int neighbors(const aipm_graph *g, int argc, char **argv)
{
    const char *id = NULL, *rel_name = NULL;
    nb s = {g, NULL, 100, 0, 0};
    int i, node, rel = -1;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--relation") == 0 && i + 1 < argc)
            rel_name = argv[++i];
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            if (strcmp(argv[i + 1], "0") == 0) {
                s.limit = 0;
                i++;
            } else if (cli_parse_i64(argv[++i], &s.limit) != 0)
                return cli_usage_error("--limit needs a number");
        } else if (argv[i][0] != '-' && id == NULL)
            id = argv[i];
        else
            return cli_bad_arg(
                "graph neighbors", argv[i], i + 1 == argc,
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
    if (g_cli.json)
        s.arr = json_array();
    else
        printf("%s (%s, degree %d)\n", id,
               aipm_node_kind_name(aipm_graph_node_kind(g, node)),
               aipm_graph_degree(g, node));
    aipm_graph_neighbors(g, node, rel, one, &s);
    if (g_cli.json) {
        json_t *o =
            json_pack("{s:s, s:s, s:i, s:I, s:o}", "node", id, "kind",
                      aipm_node_kind_name(aipm_graph_node_kind(g, node)),
                      "degree", aipm_graph_degree(g, node), "edges",
                      (json_int_t)s.total, "neighbors", s.arr);

        cli_print_json(o);
        json_decref(o);
    } else if (s.total > s.shown)
        printf("  ... %lld more (--limit 0 shows all)\n",
               (long long)(s.total - s.shown));
    return EXIT_OK;
}

static int stats(const aipm_graph *g)
{
    char *text = aipm_graph_stats_json(g);
    json_error_t jerr;
    json_t *d, *v;
    const char *k;

    if (text == NULL) {
        fprintf(stderr, "aipm: out of memory\n");
        return EXIT_INTERNAL;
    }
    if (g_cli.json) {
        printf("%s\n", text);
        free(text);
        return EXIT_OK;
    }
    d = json_loads(text, 0, &jerr);
    free(text);
    if (d == NULL)
        return EXIT_INTERNAL;
    printf("%lld nodes, %lld edges\n",
           (long long)json_integer_value(json_object_get(d, "nodes_total")),
           (long long)json_integer_value(json_object_get(d, "edges_total")));
    json_object_foreach(json_object_get(d, "nodes"), k, v)
        printf("  %-12s %lld nodes\n", k, (long long)json_integer_value(v));
    json_object_foreach(json_object_get(d, "edges"), k, v)
        printf("  %-12s %lld edges\n", k, (long long)json_integer_value(v));
    v = json_object_get(d, "degree");
    printf("degree: min %lld, median %lld, p90 %lld, p99 %lld, max %lld, "
           "mean %.2f\n",
           (long long)json_integer_value(json_object_get(v, "min")),
           (long long)json_integer_value(json_object_get(v, "median")),
           (long long)json_integer_value(json_object_get(v, "p90")),
           (long long)json_integer_value(json_object_get(v, "p99")),
           (long long)json_integer_value(json_object_get(v, "max")),
           json_number_value(json_object_get(v, "mean")));
    json_decref(d);
    return EXIT_OK;
}

int cmd_graph(int argc, char **argv)
{
    workspace ws;
    aipm_error err = {0, ""};
    aipm_graph *g = NULL;
    int rc;

    if (g_cli.help || argc < 2) {
        help();
        return argc < 2 && !g_cli.help ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "stats") != 0 && strcmp(argv[1], "neighbors") != 0)
        return cli_usage_error("unknown graph command '%s' (stats, "
                               "neighbors)",
                               argv[1]);
    if (strcmp(argv[1], "stats") == 0 && argc > 2)
        return cli_bad_arg("graph stats", argv[2], argc == 3, NULL);
    if ((rc = ws_open(&ws)) != 0)
        return rc;
    if (aipm_graph_build(&g, ws.store, ws.config, &err) != AIPM_OK) {
        rc = cli_fail(&err);
        ws_close(&ws);
        return rc;
    }
    rc = strcmp(argv[1], "stats") == 0 ? stats(g) : neighbors(g, argc, argv);
    aipm_graph_free(g);
    ws_close(&ws);
    return rc;
}
