/* drift_bench.c - bench/monitor's aipm side: the drift of F features
 * between two samples of N rows each (aipm/drift.h), timed per feature.
 *
 * Usage: drift_bench FEATURES ROWS. Feature k's values are made from
 * splitmix64 hashes with + * and / only, so scipy_ref.py makes the same
 * doubles with numpy: uniform, a sum of two uniforms, or a coarse grid
 * (ties), scaled and shifted; odd features' current samples move by 5%
 * of their range. Only aipm_drift_compare_many (KS, Wasserstein normed,
 * PSI) is timed. One JSON line per feature, then a summary line with the
 * peak RSS.
 */
#include "aipm/drift.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static uint64_t splitmix(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ULL;

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double unit(uint64_t h)
{
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* Sample s (0 reference, 1 current) of feature k: n values into v. */
static void make(double *v, size_t n, int k, int s)
{
    uint64_t base = ((uint64_t)k * 2 + (uint64_t)s + 1) << 40;
    double scale = 1.0 + k % 7, shift = (s && k % 2) ? 0.05 * scale : 0.0;
    size_t i;

    for (i = 0; i < n; i++) {
        double u = unit(splitmix(base + 2 * i)), w;

        switch (k % 3) {
        case 0:
            w = u;
            break;
        case 1:
            w = (u + unit(splitmix(base + 2 * i + 1))) / 2;
            break;
        default:
            w = (double)(uint64_t)(u * 1000.0) / 1000.0;
            break;
        }
        v[i] = w * scale + shift;
    }
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const aipm_drift_test tests[3] = {
        AIPM_DRIFT_KS, AIPM_DRIFT_WASSERSTEIN, AIPM_DRIFT_PSI};
    aipm_drift_result r[3];
    struct rusage ru;
    double *ref, *cur, total = 0;
    size_t n;
    int f, k;

    if (argc != 3 || (f = atoi(argv[1])) <= 0 || atol(argv[2]) <= 0) {
        fprintf(stderr, "usage: drift_bench FEATURES ROWS\n");
        return 2;
    }
    n = (size_t)atol(argv[2]);
    ref = malloc(n * sizeof(*ref));
    cur = malloc(n * sizeof(*cur));
    if (ref == NULL || cur == NULL) {
        fprintf(stderr, "drift_bench: out of memory\n");
        return 1;
    }
    for (k = 0; k < f; k++) {
        double t0;

        make(ref, n, k, 0);
        make(cur, n, k, 1);
        t0 = now();
        if (aipm_drift_compare_many(tests, 3, AIPM_NUMERICAL, ref, n, cur, n,
                                    r) != 0) {
            fprintf(stderr, "drift_bench: feature %d failed\n", k);
            return 1;
        }
        t0 = now() - t0;
        total += t0;
        printf("{\"feature\": %d, \"ks_d\": %.17g, \"ks_p\": %.17g, "
               "\"wasserstein_norm\": %.17g, \"psi\": %.17g, "
               "\"seconds\": %.6f}\n",
               k, r[0].statistic, r[0].score, r[1].score, r[2].score, t0);
        fflush(stdout);
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"total_seconds\": %.6f, \"peak_rss_kb\": %ld}\n", total,
           ru.ru_maxrss);
    free(ref);
    free(cur);
    return 0;
}
