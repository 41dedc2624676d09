/* plan.c - Monte Carlo summaries, the release-plan knapsack, Spearman.
 *
 * Quantiles come from quickselect, not a sort: an item's 10,000 draws are
 * summarised in linear time. The knapsack is the textbook dynamic program
 * over capacities (best[c] = max(best[c], best[c - w] + v), capacities
 * descending), with one bit per (item, capacity) to read the choice back.
 */
#include "aipm/prioritize.h"
#include "prioritize/prioritize_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void swap(double *a, double *b)
{
    double t = *a;

    *a = *b;
    *b = t;
}

/* Hoare-style quickselect with a median-of-three pivot. */
double aipm_select(double *x, int n, int k)
{
    int lo = 0, hi = n - 1;

    while (hi > lo) {
        int mid = lo + (hi - lo) / 2, i = lo, j = hi;
        double pivot;

        if (x[mid] < x[lo])
            swap(&x[mid], &x[lo]);
        if (x[hi] < x[lo])
            swap(&x[hi], &x[lo]);
        if (x[hi] < x[mid])
            swap(&x[hi], &x[mid]);
        pivot = x[mid];
        while (i <= j) {
            while (x[i] < pivot)
                i++;
            while (x[j] > pivot)
                j--;
            if (i <= j) {
                swap(&x[i], &x[j]);
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return x[k];
    }
    return x[k];
}

/* The smallest value of x[from..to). */
static double min_of(const double *x, int from, int to)
{
    double m = x[from];
    int i;

    for (i = from + 1; i < to; i++)
        if (x[i] < m)
            m = x[i];
    return m;
}

/* Select absolute index k within x[lo..hi), which holds it. */
static double sel(double *x, int lo, int hi, int k)
{
    return aipm_select(x + lo, hi - lo, k - lo);
}

/* The quantiles come from nested partitions: the median splits the draws,
 * P10 is selected in the lower half, P90 in the upper one, the CVaR tail
 * inside the part below P10 (or below the median) - about four passes
 * over the draws instead of ten. Each quantile is type 7: h = (n - 1) p,
 * between order statistics floor(h) and floor(h) + 1, the latter the
 * minimum of the part above the former. */
void aipm_draws_summarize(aipm_draw_summary *out, double *x, int n,
                          double alpha)
{
    double sum = 0, tail = 0, h[3];
    int k[3], i, m;

    memset(out, 0, sizeof(*out));
    if (n <= 0) {
        out->mean = out->cvar = NAN;
        out->q[0] = out->q[1] = out->q[2] = NAN;
        return;
    }
    for (i = 0; i < n; i++)
        sum += x[i];
    out->mean = sum / n;
    h[0] = (n - 1) * 0.10;
    h[1] = (n - 1) * 0.50;
    h[2] = (n - 1) * 0.90;
    for (i = 0; i < 3; i++)
        k[i] = (int)floor(h[i]);
    /* After these, x[0..k0] <= x[k0] <= x(k0..k1] <= x[k1] <= x(k1..k2]
     * <= x[k2] <= x(k2..n). */
    sel(x, 0, n, k[1]);
    sel(x, 0, k[1] + 1, k[0]);
    if (k[2] > k[1])
        sel(x, k[1] + 1, n, k[2]);
    for (i = 0; i < 3; i++) {
        int next = i < 2 ? k[i + 1] + 1 : n; /* x(k_i..next) is above k_i */

        out->q[i] = x[k[i]];
        if (h[i] > k[i] && k[i] + 1 < n)
            out->q[i] +=
                (h[i] - k[i]) *
                (min_of(x, k[i] + 1, next > k[i] + 1 ? next : n) - x[k[i]]);
    }
    m = (int)ceil(alpha * n - 1e-9);
    if (m < 1)
        m = 1;
    if (m > n)
        m = n;
    /* The m lowest: inside the part through P10, the median, or all. */
    sel(x, 0, m - 1 <= k[0] ? k[0] + 1 : m - 1 <= k[1] ? k[1] + 1 : n, m - 1);
    for (i = 0; i < m; i++)
        tail += x[i];
    out->cvar = tail / m;
    /* The cap: order statistic floor(0.999 (n - 1)), above P90. */
    i = (int)floor(0.999 * (n - 1));
    out->cap = i > k[2] ? sel(x, k[2] + 1, n, i) : x[k[2]];
    for (sum = 0, i = 0; i < n; i++)
        sum += x[i] < out->cap ? x[i] : out->cap;
    out->capped_mean = sum / n;
}

double aipm_knapsack(const int *weight, const double *value, int n,
                     int capacity, unsigned char *chosen)
{
    size_t row = (size_t)capacity + 1, bytes = (row + 7) / 8;
    double *best;
    unsigned char *take;
    int i, c;
    double total;

    if (n <= 0 || capacity < 0) {
        for (i = 0; i < n; i++)
            chosen[i] = 0;
        return 0;
    }
    best = calloc(row, sizeof(*best));
    take = calloc((size_t)n * bytes, 1);
    if (best == NULL || take == NULL) {
        free(best);
        free(take);
        return NAN;
    }
    for (i = 0; i < n; i++) {
        int w = weight[i];

        if (!(value[i] > 0) || w > capacity || w < 0)
            continue;
        for (c = capacity; c >= w; c--)
            if (best[c - w] + value[i] > best[c]) {
                best[c] = best[c - w] + value[i];
                take[(size_t)i * bytes + (size_t)c / 8] |=
                    (unsigned char)(1u << (c % 8));
            }
    }
    total = best[capacity];
    c = capacity;
    for (i = n - 1; i >= 0; i--) {
        chosen[i] = (take[(size_t)i * bytes + (size_t)c / 8] >> (c % 8)) & 1u;
        if (chosen[i])
            c -= weight[i];
    }
    free(best);
    free(take);
    return total;
}

typedef struct ranked {
    double v;
    int i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;

    return (x->v > y->v) - (x->v < y->v);
}

/* Average ranks (1-based) of v into r. */
static int ranks(double *r, const double *v, int n)
{
    ranked *s = malloc((size_t)n * sizeof(*s));
    int i, j;

    if (s == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        s[i].v = v[i];
        s[i].i = i;
    }
    qsort(s, (size_t)n, sizeof(*s), cmp_ranked);
    for (i = 0; i < n; i = j) {
        double avg;
        int k;

        for (j = i + 1; j < n && s[j].v == s[i].v; j++)
            ;
        avg = (i + 1 + j) / 2.0; /* ties share the mean of ranks i+1..j */
        for (k = i; k < j; k++)
            r[s[k].i] = avg;
    }
    free(s);
    return 0;
}

double aipm_spearman(const double *x, const double *y, int n)
{
    double *rx, *ry, mx = (n + 1) / 2.0, sxy = 0, sxx = 0, syy = 0;
    int i;

    if (n < 3)
        return NAN;
    rx = malloc((size_t)n * sizeof(*rx));
    ry = malloc((size_t)n * sizeof(*ry));
    if (!rx || !ry || ranks(rx, x, n) || ranks(ry, y, n)) {
        free(rx);
        free(ry);
        return NAN;
    }
    for (i = 0; i < n; i++) {
        sxy += (rx[i] - mx) * (ry[i] - mx);
        sxx += (rx[i] - mx) * (rx[i] - mx);
        syy += (ry[i] - mx) * (ry[i] - mx);
    }
    free(rx);
    free(ry);
    if (sxx == 0 || syy == 0)
        return NAN;
    return sxy / sqrt(sxx * syy);
}
