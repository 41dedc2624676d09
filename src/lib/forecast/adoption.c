/* adoption.c - the data of the adoption forecasts, loaded once.
 *
 * Three reads of the store: the knowledge graph (aipm_graph_build: first
 * uses of the catalog features, accounts, invitations), one scan of the
 * events in user order (the analysis index serves it without a sort)
 * that gives every user's first day and a bitmap of active days, and the
 * segment trait per user. Memory: the graph, plus about (days / 8 + 24)
 * bytes a user and 4 bytes a neighbour.
 */
#include "aipm/metrics.h"
#include "forecast/forecast_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WINDOW_DAYS 4096
#define UNSET_SEG 0xffff

typedef struct loader {
    aipm_adoption *a;
    aipm_error *err;
    char *prev; /* the scan's current user id */
    size_t cap_prev, cap_users;
    int cur; /* its user index, -1 if it has no graph node */
    aipm_strmap levels;
    int64_t *level_n;
    size_t cap_level_n;
    int32_t *lvl; /* user -> level index, -1 unset */
    int pass;     /* 1: only users first seen after the cutoff */
} loader;

/* The graph node of user id, or -1. */
static int user_node(const aipm_graph *g, const char *id)
{
    char stack[256], *buf = stack;
    size_t n = strlen(id);
    int node;

    if (n + 6 > sizeof(stack) && (buf = malloc(n + 6)) == NULL)
        return -1;
    memcpy(buf, "user:", 5);
    memcpy(buf + 5, id, n + 1);
    node = aipm_graph_find(g, buf);
    if (buf != stack)
        free(buf);
    return node;
}

static int new_user(loader *L, int node)
{
    aipm_adoption *a = L->a;
    size_t cap = L->cap_users, need = (size_t)a->n + 1;

    if (need > cap) {
        size_t c1 = cap, c2 = cap, c3 = cap;

        if (aipm_grow(&a->node, &c1, need, sizeof(int)) ||
            aipm_grow(&a->first, &c2, need, sizeof(int32_t)) ||
            aipm_grow(&a->seg, &c3, need, sizeof(uint16_t)))
            return -1;
        cap = c1;
        {
            uint64_t *bits =
                realloc(a->bits, cap * (size_t)a->nw * sizeof(uint64_t));

            if (bits == NULL)
                return -1;
            a->bits = bits;
        }
        L->cap_users = cap;
    }
    a->node[a->n] = node;
    a->first[a->n] = NO_DAY;
    a->seg[a->n] = UNSET_SEG;
    memset(a->bits + (size_t)a->n * (size_t)a->nw, 0,
           (size_t)a->nw * sizeof(uint64_t));
    a->of_node[node] = a->n;
    return a->n++;
}

static int on_event(void *ctx, const char *user_id, int64_t ts_ms)
{
    loader *L = ctx;
    aipm_adoption *a = L->a;
    int32_t day;
    int64_t b;

    if (L->prev == NULL || strcmp(L->prev, user_id) != 0) {
        size_t len = strlen(user_id) + 1;
        int node;

        if (aipm_grow(&L->prev, &L->cap_prev, len, 1))
            return aipm_error_set(L->err, AIPM_ENOMEM,
                                  "out of memory (adoption users)");
        memcpy(L->prev, user_id, len);
        node = user_node(a->g, user_id);
        L->cur = -1;
        if (node >= 0 && a->of_node[node] < 0 &&
            (L->cur = new_user(L, node)) < 0)
            return aipm_error_set(L->err, AIPM_ENOMEM,
                                  "out of memory (adoption users)");
        if (node >= 0 && L->cur < 0)
            L->cur = a->of_node[node];
    }
    if (L->cur < 0)
        return 0;
    day = day_of_ms(ts_ms);
    if (day < a->first[L->cur])
        a->first[L->cur] = day;
    b = (int64_t)day - a->day0;
    if (b >= 0 && day < a->end)
        a->bits[(int64_t)L->cur * a->nw + (b >> 6)] |= (uint64_t)1 << (b & 63);
    return 0;
}

static int level_index(loader *L, const char *s, size_t len)
{
    int idx, added;

    if (aipm_strmap_put(&L->levels, s, len, &idx, &added) != 0)
        return -1;
    if (added) {
        if (aipm_grow(&L->level_n, &L->cap_level_n, (size_t)idx + 1,
                      sizeof(int64_t)))
            return -1;
        L->level_n[idx] = 0;
    }
    return idx;
}

static int on_level(void *ctx, const char *user_id, const char *value)
{
    loader *L = ctx;
    int node, u, idx;

    if ((node = user_node(L->a->g, user_id)) < 0 ||
        (u = L->a->of_node[node]) < 0 || L->lvl[u] >= 0 ||
        (L->pass == 1 && L->a->first[u] < L->a->cut))
        return 0;
    if ((idx = level_index(L, value, strlen(value))) < 0)
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory (segments)");
    L->lvl[u] = idx;
    return 0;
}

typedef struct level {
    int64_t n;
    const char *name;
    int idx;
} level;

static int cmp_level(const void *x, const void *y)
{
    const level *a = x, *b = y;

    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* After the trait reads: an error when no user got a level (all would be
 * "(none)", the forecast by nothing under the trait's name - a misspelled
 * --by); aipm_metrics_trait_unheld words it. */
static int some_level(loader *L, const char *by)
{
    aipm_adoption *a = L->a;
    char units[96], cut[32];
    int u;

    for (u = 0; u < a->n; u++)
        if (L->lvl[u] >= 0)
            return AIPM_OK;
    aipm_time_format(cut, (int64_t)a->cut * DAY_MS);
    if (a->holdout > 0)
        snprintf(units, sizeof(units), "user as of the cutoff %.10s", cut);
    else
        snprintf(units, sizeof(units), "user of the forecast");
    return aipm_metrics_trait_unheld(a->st, NULL, by, a->n > 0 ? units : NULL,
                                     L->err);
}

/* Each user's level, then the 20 biggest as segments. */
static int load_segments(loader *L, const char *by)
{
    aipm_adoption *a = L->a;
    int u, i, n_lv, *seg_of = NULL, rc = AIPM_OK;
    level *order = NULL;

    if ((L->lvl = malloc(((size_t)a->n + 1) * sizeof(int32_t))) == NULL)
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory (segments)");
    for (u = 0; u < a->n; u++)
        L->lvl[u] = -1;
    if (by == NULL) {
        if (level_index(L, "all", 3) < 0)
            return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
        for (u = 0; u < a->n; u++)
            L->lvl[u] = 0;
    } else if (strcmp(by, "cohort") == 0) {
        for (u = 0; u < a->n; u++) {
            char month[32];
            int idx;

            aipm_time_format(month, (int64_t)a->first[u] * DAY_MS);
            if ((idx = level_index(L, month, 7)) < 0)
                return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
            L->lvl[u] = idx;
        }
    } else {
        int pass;

        /* A user's newest trait of their own, else their newest account's
         * (the first level a user gets stays), before the cutoff; then,
         * for users first seen after it (only counted as observed
         * adopters), their newest value. */
        for (pass = 0; pass < (a->holdout > 0 ? 2 : 1); pass++) {
            int64_t before = pass == 0 ? (int64_t)a->cut * DAY_MS : INT64_MAX;

            L->pass = pass;
            if ((rc = aipm_store_user_traits(a->st, by, before, on_level, L,
                                             L->err)) != 0 ||
                (rc = aipm_store_account_traits(a->st, by, before, on_level, L,
                                                L->err)) != 0)
                return rc;
        }
        if ((rc = some_level(L, by)) != AIPM_OK)
            return rc;
        for (u = 0; u < a->n; u++)
            if (L->lvl[u] < 0 && (L->lvl[u] = level_index(L, "(none)", 6)) < 0)
                return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    }
    /* The biggest levels among the users seen before the cutoff. */
    for (u = 0; u < a->n; u++)
        L->level_n[L->lvl[u]] += a->first[u] < a->cut;
    n_lv = L->levels.n_keys;
    order = malloc((size_t)n_lv * sizeof(level) + 1);
    seg_of = malloc((size_t)n_lv * sizeof(int) + 1);
    if (!order || !seg_of) {
        rc = aipm_error_set(L->err, AIPM_ENOMEM, "out of memory (segments)");
        goto done;
    }
    for (i = 0; i < n_lv; i++) {
        order[i].n = L->level_n[i];
        order[i].name = L->levels.keys[i];
        order[i].idx = i;
    }
    qsort(order, (size_t)n_lv, sizeof(level), cmp_level);
    a->n_segs = n_lv < MAX_SEGMENTS ? n_lv : MAX_SEGMENTS;
    for (i = 0; i < n_lv; i++)
        seg_of[order[i].idx] = i < MAX_SEGMENTS ? i : MAX_SEGMENTS;
    for (i = 0; i < a->n_segs; i++)
        if ((a->seg_names[i] = strdup(order[i].name)) == NULL)
            rc = aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    if (n_lv > MAX_SEGMENTS &&
        (a->seg_names[a->n_segs++] = strdup("(other)")) == NULL)
        rc = aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    for (u = 0; u < a->n; u++)
        a->seg[u] = (uint16_t)seg_of[L->lvl[u]];
done:
    free(order);
    free(seg_of);
    return rc;
}

typedef struct nb_link {
    int v;
    int32_t day;
} nb_link;

static int cmp_link(const void *a, const void *b)
{
    const nb_link *x = a, *y = b;

    return (x->v > y->v) - (x->v < y->v);
}

/* Each user's neighbours, as user indexes in increasing order, with the
 * day each link began (never before the neighbour's first day): an order,
 * and a choice of the MAX_NEIGHBOURS kept, that do not depend on how the
 * graph numbered its nodes (a graph from a snapshot numbers new nodes
 * last), so the forecasts do not either. */
static int load_neighbours(aipm_adoption *a, aipm_error *err)
{
    int nn = aipm_graph_n_nodes(a->g),
        *mark = calloc((size_t)nn + 1, sizeof(int));
    int cap_nb = MAX_NEIGHBOURS, *tmp = malloc((size_t)cap_nb * sizeof(int));
    int64_t *since = malloc((size_t)cap_nb * sizeof(int64_t));
    nb_link *links = malloc((size_t)cap_nb * sizeof(nb_link));
    int u, k, rc = AIPM_OK;
    size_t cap = 0, cap_s = 0;
    int64_t used = 0;

    a->nb_start = malloc(((size_t)a->n + 1) * sizeof(int64_t));
    if (!mark || !tmp || !since || !links || !a->nb_start)
        goto nomem;
    for (u = 0; u < a->n; u++) {
        int c = aipm_graph_user_neighbours(a->g, a->node[u], mark, u + 1, tmp,
                                           since, cap_nb),
            n = 0;

        if (c > cap_nb) { /* all of them, to choose the kept ones by order */
            int *t2 = realloc(tmp, (size_t)c * sizeof(int));
            int64_t *s2 =
                t2 ? realloc(since, (size_t)c * sizeof(int64_t)) : NULL;
            nb_link *l2 =
                s2 ? realloc(links, (size_t)c * sizeof(nb_link)) : NULL;

            tmp = t2 ? t2 : tmp;
            since = s2 ? s2 : since;
            links = l2 ? l2 : links;
            if (l2 == NULL)
                goto nomem;
            cap_nb = c;
            c = aipm_graph_user_neighbours(a->g, a->node[u], mark, a->n + u + 1,
                                           tmp, since, cap_nb);
        }
        for (k = 0; k < c; k++) {
            int v = a->of_node[tmp[k]];
            int32_t d = day_of_ms(since[k]);

            if (v < 0)
                continue;
            links[n].v = v;
            links[n++].day = d > a->first[v] ? d : a->first[v];
        }
        qsort(links, (size_t)n, sizeof(*links), cmp_link);
        if (n > MAX_NEIGHBOURS)
            n = MAX_NEIGHBOURS;
        a->nb_start[u] = used;
        if (n > 0 &&
            (aipm_grow(&a->nb, &cap, (size_t)(used + n), sizeof(int)) ||
             aipm_grow(&a->nb_since, &cap_s, (size_t)(used + n),
                       sizeof(int32_t))))
            goto nomem;
        for (k = 0; k < n; k++) {
            a->nb[used] = links[k].v;
            a->nb_since[used++] = links[k].day;
        }
    }
    a->nb_start[a->n] = used;
    goto done;
nomem:
    rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory (neighbours)");
done:
    free(mark);
    free(tmp);
    free(since);
    free(links);
    return rc;
}

int aipm_adoption_open(aipm_adoption **out, aipm_store *st,
                       const aipm_config *cfg, const char *by, int holdout,
                       const char *graph_snapshot, aipm_error *err)
{
    aipm_adoption *a = calloc(1, sizeof(*a));
    loader L;
    int64_t first_day, last_day;
    int32_t lo, hi;
    int rc, i, nn, found;

    *out = NULL;
    memset(&L, 0, sizeof(L));
    if (a == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    a->cfg = cfg;
    a->st = st;
    a->holdout = holdout;
    L.a = a;
    L.err = err;
    aipm_strmap_init(&L.levels, 1 << 20);
    if ((rc = aipm_store_event_day_range(st, &first_day, &last_day, &found,
                                         err)) != 0)
        goto fail;
    if (!found) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "no events in the store: nothing to forecast "
                            "from (aipm ingest events first)");
        goto fail;
    }
    lo = (int32_t)first_day;
    hi = (int32_t)last_day;
    a->end = hi + 1;
    a->day0 = lo;
    if (a->end - a->day0 > MAX_WINDOW_DAYS)
        a->day0 = a->end - MAX_WINDOW_DAYS;
    if (holdout < 0 || holdout >= a->end - lo - 6) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "a holdout of %d days leaves less than a week "
                            "of the %d days of data",
                            holdout, a->end - lo);
        goto fail;
    }
    a->cut = a->end - holdout;
    a->nw = (a->end - a->day0 + 63) / 64;
    if ((by && (a->by = strdup(by)) == NULL)) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = aipm_graph_open(&a->g, st, cfg, graph_snapshot, 0, NULL, err)) !=
            0 ||
        (rc = aipm_store_analysis_index(st, err)) != 0)
        goto fail;
    nn = aipm_graph_n_nodes(a->g);
    if ((a->of_node = malloc(((size_t)nn + 1) * sizeof(int))) == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < nn; i++)
        a->of_node[i] = -1;
    L.cur = -1;
    if ((rc = aipm_store_user_event_times(st, on_event, &L, err)) != 0 ||
        (rc = load_segments(&L, by)) != 0 ||
        (rc = load_neighbours(a, err)) != 0)
        goto fail;
    free(L.prev);
    free(L.level_n);
    free(L.lvl);
    aipm_strmap_free(&L.levels);
    *out = a;
    return AIPM_OK;
fail:
    free(L.prev);
    free(L.level_n);
    free(L.lvl);
    aipm_strmap_free(&L.levels);
    aipm_adoption_free(a);
    return rc;
}

void aipm_adoption_free(aipm_adoption *a)
{
    int i;

    if (a == NULL)
        return;
    aipm_graph_free(a->g);
    free(a->node);
    free(a->of_node);
    free(a->first);
    free(a->seg);
    free(a->bits);
    free(a->nb_start);
    free(a->nb);
    free(a->nb_since);
    for (i = 0; i < a->n_segs; i++)
        free(a->seg_names[i]);
    free(a->by);
    free(a);
}
