/* snapshot_fuzzer.c - libFuzzer target for the graph's snapshot reader.
 *
 * The input is a snapshot file. Most inputs would stop at the checksum,
 * so the target first seals them (aipm_graph__seal: magic, format and
 * checksum made right, and a store version the snapshot can be brought
 * to) and the reader's checks of the contents - counts, names, node
 * numbers, the order of each node's edges - get the bytes as they are.
 * A graph it accepts is used: every node's id found again, every edge
 * both ways, the stats, and a save and restore, which must give a graph
 * of the same size back. An input whose first byte is odd is also read
 * unsealed.
 *
 * Linked with replay_main.c into replay_snapshot_fuzzer, which ctest
 * runs over tests/fuzz/corpus/snapshot_fuzzer/.
 */
#include "graph/graph_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_edge(void *ctx, const aipm_edge *e)
{
    int64_t *n = ctx;

    n[e->out]++;
    return 0;
}

static void use(const aipm_graph *g)
{
    int64_t n[2] = {0, 0};
    char *stats;
    int i;

    for (i = 0; i < aipm_graph_n_nodes(g); i++) {
        if (aipm_graph_find(g, aipm_graph_node_id(g, i)) != i)
            abort();
        aipm_graph_neighbors(g, i, -1, count_edge, n);
    }
    if (n[0] != n[1] || n[1] != aipm_graph_n_edges(g))
        abort();
    stats = aipm_graph_stats_json(g);
    if (stats == NULL)
        abort();
    free(stats);
}

static int restore(const char *path, const void *data, size_t size,
                   const graph_version *cur, aipm_graph **g)
{
    graph_version was;
    aipm_error err = {0};
    char why[200] = "";
    FILE *f = data ? fopen(path, "wb") : NULL;

    if (data &&
        (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0))
        abort();
    if (aipm_graph__restore(g, &was, cur, path, why, sizeof(why), &err) !=
        AIPM_OK)
        abort(); /* only memory fails, and there is enough */
    if ((*g == NULL) != (why[0] != '\0'))
        abort(); /* a graph, or a reason why not */
    aipm_graph__version_free(&was);
    return *g != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], again[80];
    uint8_t *buf = malloc(size + 1);
    graph_version cur;
    aipm_graph *g = NULL, *h = NULL;

    if (buf == NULL)
        return 0;
    snprintf(path, sizeof(path), "/tmp/aipm-snapfuzz-%ld", (long)getpid());
    snprintf(again, sizeof(again), "%s.again", path);
    memcpy(buf, data, size);
    memset(&cur, 0, sizeof(cur));
    if (size > 0 && (data[0] & 1) && restore(path, data, size, &cur, &g)) {
        use(g);
        aipm_graph_free(g);
        g = NULL;
    }
    if (aipm_graph__seal(buf, size, &cur) == 0 &&
        restore(path, buf, size, &cur, &g)) {
        aipm_error err = {0};

        use(g);
        /* saved as it is and read back: the same nodes and edges */
        if (aipm_graph__save(g, &cur, again, &err) != AIPM_OK ||
            !restore(again, NULL, 0, &cur, &h))
            abort();
        if (aipm_graph_n_nodes(h) != aipm_graph_n_nodes(g) ||
            aipm_graph_n_edges(h) != aipm_graph_n_edges(g))
            abort();
        aipm_graph_free(h);
        aipm_graph_free(g);
        unlink(again);
    }
    aipm_graph__version_free(&cur);
    unlink(path);
    free(buf);
    return 0;
}
