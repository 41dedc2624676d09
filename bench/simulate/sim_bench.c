/* sim_bench.c - bench/simulate's aipm side: 20 scenarios over 200 backlog
 * items (and 5 shared experiment lifts) for N draws with aipm_sim_run,
 * then their summaries with aipm_sim_result_summarize, timed.
 *
 * Usage: sim_bench THREADS DRAWS [SEED]. The problem is made from
 * splitmix64 hashes with + and * only, so numpy_ref.py makes the same
 * doubles: a value model with p = 8 (intercept and 7 standardized
 * features, the prioritization model's shape), 200 items (every 25th a
 * fixed value, every 40th a fixed effort), 20 scenarios each building
 * about half the items (a fifth of them at a fraction of the horizon) and
 * shipping about 40% of the lifts, each with a capacity of 1.15 times its
 * items' effort estimates. Prints one JSON object: the times (draws,
 * summaries, total; wall clock), the peak RSS, and every scenario's
 * summaries with the P(a beats b) matrix.
 */
#include "aipm/sim_engine.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define P 8
#define ITEMS 200
#define SCENARIOS 20
#define SHARED 5

static uint64_t splitmix(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ULL;

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A uniform in [0, 1) from (kind, a, b): numpy_ref.py's unit(). */
static double unit(uint64_t kind, uint64_t a, uint64_t b)
{
    uint64_t h = splitmix(kind << 48 | a << 24 | b);

    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct bench {
    aipm_sim_posterior po;
    aipm_sim_item items[ITEMS];
    aipm_sim_shared shared[SHARED];
    double w[SCENARIOS][ITEMS], c[SCENARIOS][SHARED];
    aipm_sim_scenario sc[SCENARIOS];
    aipm_sim_problem pb;
} bench;

/* numpy_ref.py's problem() */
static void make(bench *b)
{
    static const double mn[P] = {2.0, 0.35, 0.25, 0.15, -0.1, 0.2, 0.3, 0.1};
    int i, j, s;

    memset(b, 0, sizeof(*b));
    b->po.p = P;
    for (i = 0; i < P; i++) {
        b->po.mn[i] = mn[i];
        for (j = 0; j < i; j++)
            b->po.chol[i * P + j] = 0.04 * (unit(1, i, j) - 0.5);
        b->po.chol[i * P + i] = 0.05 + 0.05 * unit(1, i, i);
    }
    b->po.an = 50.5; /* 99 training items, a0 = 1 */
    b->po.bn = 18.25;
    b->po.stream = 0x7FFFFFFF;
    for (i = 0; i < ITEMS; i++) {
        aipm_sim_item *it = &b->items[i];

        it->x[0] = 1;
        for (j = 1; j < P; j++)
            it->x[j] = 3 * unit(2, i, j) - 1.5;
        it->effort = 1 + 9 * unit(3, i, 0);
        it->stream = 1 + (uint32_t)i;
        if (i % 25 == 7) {
            it->flags |= AIPM_SIM_VALUE_FIXED;
            it->value = 20;
        }
        if (i % 40 == 11)
            it->flags |= AIPM_SIM_EFFORT_FIXED;
    }
    for (j = 0; j < SHARED; j++) {
        b->shared[j].mean = 2 + 8 * unit(4, j, 0);
        b->shared[j].sd = 1 + 4 * unit(4, j, 1);
        b->shared[j].stream = 1000 + (uint32_t)j;
    }
    for (s = 0; s < SCENARIOS; s++) {
        double effort = 0;

        for (i = 0; i < ITEMS; i++) {
            if (unit(5, s, i) >= 0.5)
                continue;
            b->w[s][i] = unit(6, s, i) < 0.8 ? 1 : 0.25 + 0.5 * unit(7, s, i);
            effort += b->items[i].effort;
        }
        for (j = 0; j < SHARED; j++)
            b->c[s][j] = unit(8, s, j) < 0.4 ? 20 : 0;
        b->sc[s].weight = b->w[s];
        b->sc[s].coef = b->c[s];
        b->sc[s].capacity = 1.15 * effort;
    }
    b->pb.posterior = &b->po;
    b->pb.items = b->items;
    b->pb.n_items = ITEMS;
    b->pb.effort_log_sd = 0.5;
    b->pb.shared = b->shared;
    b->pb.n_shared = SHARED;
    b->pb.scenarios = b->sc;
    b->pb.n_scenarios = SCENARIOS;
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void print_list(const double *x, size_t n)
{
    size_t i;

    printf("[");
    for (i = 0; i < n; i++)
        printf("%s%.17g", i ? ", " : "", x[i]);
    printf("]");
}

static void print_array(const char *name, const double *x, size_t n)
{
    printf("\"%s\": ", name);
    print_list(x, n);
    printf(",\n");
}

/* Sums of the inputs, in a fixed order, that numpy_ref.py prints too:
 * equal to the bit when both made the same problem. */
static void print_problem(const bench *b)
{
    double x = 0, chol = 0, effort = 0, cap[SCENARIOS], w[SCENARIOS];
    double c[SCENARIOS], shared[2 * SHARED];
    int i, j, s;

    for (i = 0; i < P * P; i++)
        chol += b->po.chol[i];
    for (i = 0; i < ITEMS; i++) {
        for (j = 0; j < P; j++)
            x += b->items[i].x[j];
        effort += b->items[i].effort;
    }
    for (s = 0; s < SCENARIOS; s++) {
        cap[s] = b->sc[s].capacity;
        w[s] = 0;
        for (i = 0; i < ITEMS; i++)
            w[s] += b->w[s][i];
        c[s] = 0;
        for (j = 0; j < SHARED; j++)
            c[s] += b->c[s][j];
    }
    for (j = 0; j < SHARED; j++) {
        shared[2 * j] = b->shared[j].mean;
        shared[2 * j + 1] = b->shared[j].sd;
    }
    printf("\"problem\": {\"x_sum\": %.17g, \"chol_sum\": %.17g, "
           "\"effort_sum\": %.17g, ",
           x, chol, effort);
    print_array("capacity", cap, SCENARIOS);
    print_array("weight_sum", w, SCENARIOS);
    print_array("coef_sum", c, SCENARIOS);
    printf("\"shared\": ");
    print_list(shared, 2 * SHARED);
    printf("},\n");
}

int main(int argc, char **argv)
{
    static bench b;
    aipm_sim_result *r = NULL;
    aipm_error err = {0};
    struct rusage ru;
    double t0, t1, t2;
    double col[SCENARIOS];
    size_t n, s;
    long threads;
    uint64_t seed = 20261207;

    if (argc < 3 || argc > 4 || (threads = strtol(argv[1], NULL, 10)) < 1 ||
        threads > AIPM_SIM_MAX_THREADS || strtol(argv[2], NULL, 10) < 1) {
        fprintf(stderr, "usage: sim_bench THREADS DRAWS [SEED]\n");
        return 2;
    }
    n = (size_t)strtoull(argv[2], NULL, 10);
    if (argc == 4)
        seed = strtoull(argv[3], NULL, 10);
    make(&b);
    t0 = now();
    if (aipm_sim_run(&r, &b.pb, n, seed, (int)threads, &err) != AIPM_OK) {
        fprintf(stderr, "sim_bench: %s\n", err.msg);
        return 1;
    }
    t1 = now();
    if (aipm_sim_result_summarize(r, 0, 0.05, (int)threads, &err) != AIPM_OK) {
        fprintf(stderr, "sim_bench: %s\n", err.msg);
        return 1;
    }
    t2 = now();
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"impl\": \"aipm\", \"threads\": %ld, \"draws\": %zu, "
           "\"items\": %d, \"scenarios\": %d, \"shared\": %d, "
           "\"draw_seconds\": %.6f, \"summary_seconds\": %.6f, "
           "\"seconds\": %.6f, \"cpu_user_seconds\": %.3f, "
           "\"cpu_sys_seconds\": %.3f, \"peak_rss_kb\": %ld,\n",
           threads, n, ITEMS, SCENARIOS, SHARED, t1 - t0, t2 - t1, t2 - t0,
           (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec,
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec,
           ru.ru_maxrss);
    print_problem(&b);
#define FIELD(f)                                                               \
    do {                                                                       \
        for (s = 0; s < SCENARIOS; s++)                                        \
            col[s] = r->summary[s].f;                                          \
        print_array(#f, col, SCENARIOS);                                       \
    } while (0)
    FIELD(mean);
    FIELD(p10);
    FIELD(p50);
    FIELD(p90);
    FIELD(cvar);
#undef FIELD
    print_array("p_loss", r->p_loss, SCENARIOS);
    print_array("p_over", r->p_over, SCENARIOS);
    print_array("effort_mean", r->effort_mean, SCENARIOS);
    printf("\"beats\": [");
    for (s = 0; s < SCENARIOS; s++) {
        printf("%s", s ? ",\n  " : "");
        print_list(r->beats + s * SCENARIOS, SCENARIOS);
    }
    printf("]}\n");
    aipm_sim_result_free(r);
    return 0;
}
