/* summary.c - summaries of a scenario's draws: mean, type 7 quantiles,
 * CVaR, histogram, probability of loss and of beating another scenario
 * (aipm/simulate.h).
 *
 * The draws are never changed (the paired comparisons need them in draw
 * order after the summaries). Order statistics of many draws come from a
 * sample, the idea of Floyd and Rivest's SELECT (CACM 18(3), 1975): the
 * sorted sample (n / 256 draws, at least 4096 and at most 65536, strided:
 * the draws are i.i.d., and a sorted input gives an exact quantile
 * sample) puts each wanted rank between two sample values, 5 binomial
 * standard deviations plus 16 sample ranks either side; one pass counts
 * the draws below each bracket and copies those inside; the rank is then
 * selected among the copies (4% to 9% of the draws each at n = 1e6).
 * When the sample misleads (a rank not in its bracket, or a bracket that
 * overflows its room, as a run of equal draws does), and for n <= 65536,
 * a copy of the draws is quickselected instead: median-of-three pivot, a
 * branch-free two-way partition (the comparisons are coin flips a branch
 * would mispredict), a second pass for the pivot's copies when the pivot
 * was the segment's minimum (so a run of equal draws cannot stall it),
 * qsort on a segment not shrunk after 2 log2 n partitions (Musser's
 * introselect bound, 1997). Several ranks share one selection: each
 * selected position is remembered, and the next selection runs only
 * between its nearest remembered neighbours, whose invariant (nothing
 * larger before, nothing smaller after) it keeps; a rank right after a
 * remembered one is the minimum of its segment, one scan. At n = 1e6 a
 * summary (CVaR and three quantiles) takes ~6 ms here, numpy's quantile,
 * partition and mean ~25 ms.
 *
 * Order statistics are values, the same whichever path found them. Sums
 * are pairwise (about log2(n) eps error, numpy's method for its mean) in
 * draw order: the mean, and CVaR as (the sum of the draws below t plus
 * t for each tie taken) / k, t the k-th smallest; so a summary is a
 * function of the draws alone. NaN is refused before any selection, since
 * it orders with nothing.
 *
 * A histogram is numpy.histogram's over equal bins (its edges, its
 * half-open bins, the last closed), so numpy checks it draw for draw.
 */
#include "aipm/simulate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RANKS 16  /* order statistics one selection finds */
#define MAX_FIXED 16  /* remembered positions per array (more: just slower) */
#define SMALL_N 65536 /* up to this many draws: quickselect a copy */
#define SMALL_SEGMENT 16 /* qsort below this */
#define PASS_BLOCK 512   /* draws per block of the brackets' pass */
#define BEATS_CHUNK 2048 /* draws per pass over the pairs: 16 KB a scenario */

static double pairwise_sum(const double *x, size_t n)
{
    if (n <= 128) {
        double s[4] = {0, 0, 0, 0};
        size_t i = 0;

        for (; i + 4 <= n; i += 4) {
            s[0] += x[i];
            s[1] += x[i + 1];
            s[2] += x[i + 2];
            s[3] += x[i + 3];
        }
        for (; i < n; i++)
            s[0] += x[i];
        return (s[0] + s[1]) + (s[2] + s[3]);
    }
    return pairwise_sum(x, n / 2) + pairwise_sum(x + n / 2, n - n / 2);
}

/* The sum of the x[i] < t, pairwise as above; their count added to
 * *count. */
static double pairwise_sum_below(const double *x, size_t n, double t,
                                 size_t *count)
{
    if (n <= 128) {
        double s[4] = {0, 0, 0, 0};
        size_t i = 0, c = 0;
        int j;

        for (; i + 4 <= n; i += 4)
            for (j = 0; j < 4; j++) {
                s[j] += x[i + j] < t ? x[i + j] : 0;
                c += x[i + j] < t;
            }
        for (; i < n; i++) {
            s[0] += x[i] < t ? x[i] : 0;
            c += x[i] < t;
        }
        *count += c;
        return (s[0] + s[1]) + (s[2] + s[3]);
    }
    return pairwise_sum_below(x, n / 2, t, count) +
           pairwise_sum_below(x + n / 2, n - n / 2, t, count);
}

static int check_draws(const double *x, size_t n, int allow_infinite,
                       aipm_error *err)
{
    size_t i;

    if (n == 0)
        return aipm_error_set(err, AIPM_EINVALID, "no draws");
    if (x == NULL)
        return aipm_error_set(err, AIPM_EINVALID, "no array for %zu draws", n);
    for (i = 0; i < n; i++)
        if (isnan(x[i]) || (!allow_infinite && isinf(x[i])))
            return aipm_error_set(err, AIPM_EINVALID, "draw %zu is %g", i,
                                  x[i]);
    return AIPM_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void swap(double *x, size_t i, size_t j)
{
    double t = x[i];

    x[i] = x[j];
    x[j] = t;
}

/* Move the x[lo, hi) < pivot (below = 1) or <= pivot (below = 0) to the
 * front, returning where they end. Branch-free (Lomuto's scheme with the
 * swap done always): the comparison is a coin flip, so a branch on it
 * would mispredict half the time. */
static size_t partition(double *x, size_t lo, size_t hi, double pivot,
                        int below)
{
    size_t front = lo, i;

    for (i = lo; i < hi; i++) {
        double v = x[i];

        x[i] = x[front];
        x[front] = v;
        front += below ? v < pivot : v <= pivot;
    }
    return front;
}

/* Place the k-th smallest of x[lo, hi) at x[k], the smaller ones before
 * it and the larger after (lo <= k < hi). */
static void select_k(double *x, size_t lo, size_t hi, size_t k)
{
    size_t n = hi - lo;
    int budget = 8;

    while (n >>= 1)
        budget += 2;
    while (hi - lo > SMALL_SEGMENT) {
        size_t mid = lo + (hi - lo) / 2, lt;
        double a = x[lo], b = x[mid], c = x[hi - 1], pivot;

        if (budget-- == 0)
            break;
        pivot = a < b ? (b < c ? b : (a < c ? c : a))
                      : (a < c ? a : (b < c ? c : b));
        lt = partition(x, lo, hi, pivot, 1);
        if (k < lt) {
            hi = lt;
        } else if (lt > lo) {
            lo = lt;
        } else {
            /* the pivot is the segment's minimum: its copies to the front
             * (at least the pivot itself, so the segment shrinks) */
            lt = partition(x, lo, hi, pivot, 0);
            if (k < lt)
                return;
            lo = lt;
        }
    }
    qsort(x + lo, hi - lo, sizeof(*x), cmp_double);
}

/* Order statistics of one array, sharing the work (see the top). */
typedef struct osel {
    double *x;
    size_t n;
    size_t fixed[MAX_FIXED];
    int n_fixed;
} osel;

static double order_stat(osel *s, size_t k)
{
    size_t lo = 0, hi = s->n, i;
    int j;

    for (j = 0; j < s->n_fixed; j++) {
        size_t f = s->fixed[j];

        if (f == k)
            return s->x[k];
        if (f < k && f + 1 > lo)
            lo = f + 1;
        if (f > k && f < hi)
            hi = f;
    }
    if (k == lo) { /* the segment's minimum: a scan */
        size_t m = lo;

        for (i = lo + 1; i < hi; i++)
            if (s->x[i] < s->x[m])
                m = i;
        swap(s->x, lo, m);
    } else {
        select_k(s->x, lo, hi, k);
    }
    if (s->n_fixed < MAX_FIXED)
        s->fixed[s->n_fixed++] = k;
    return s->x[k];
}

/* ---- ranks through a sample ---- */

typedef struct bracket {
    double lo, hi;    /* the draws in [lo, hi] are copied */
    size_t below;     /* draws < lo */
    size_t size, cap; /* draws in [lo, hi]; room for them */
    double *copy;
} bracket;

/* out[i] = the ranks[i]-th smallest of x through a sample (see the top);
 * *done = 0 when the sample misled and nothing was found. */
static int by_sample(double *out, const double *x, size_t n,
                     const size_t *ranks, size_t m, int *done, aipm_error *err)
{
    bracket br[MAX_RANKS];
    osel sel[MAX_RANKS];
    size_t owner[MAX_RANKS], order[MAX_RANKS];
    size_t s = n / 256, stride, nb = 0, total = 0, i, j, b;
    double *sample, *room = NULL;

    *done = 0;
    s = s < 4096 ? 4096 : (s > 65536 ? 65536 : s);
    stride = n / s;
    sample = malloc(s * sizeof(*sample));
    if (sample == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (i = 0; i < s; i++)
        sample[i] = x[i * stride];
    qsort(sample, s, sizeof(*sample), cmp_double);
    for (i = 0; i < m; i++) { /* the ranks' order, ascending */
        for (j = i; j > 0 && ranks[order[j - 1]] > ranks[i]; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (i = 0; i < m; i++) {
        double q = (double)ranks[order[i]] / (double)(n - 1);
        double at = q * (double)(s - 1);
        double reach = 5 * sqrt((double)s * q * (1 - q)) + 16;
        double lo = at - reach < 0 ? -INFINITY : sample[(size_t)(at - reach)];
        double hi = at + reach >= (double)(s - 1)
                        ? INFINITY
                        : sample[(size_t)ceil(at + reach)];

        if (nb > 0 && lo <= br[nb - 1].hi) {
            if (hi > br[nb - 1].hi)
                br[nb - 1].hi = hi;
        } else {
            br[nb].lo = lo;
            br[nb++].hi = hi;
        }
        owner[order[i]] = nb - 1;
    }
    for (b = 0; b < nb; b++) {
        size_t in = 0;

        for (i = 0; i < s; i++)
            in += sample[i] >= br[b].lo && sample[i] <= br[b].hi;
        /* room for half more than the sample predicts (the share between
         * two sample values is a beta variate: half is 7 standard
         * deviations for the 220 sample spacings of a P10 bracket at n =
         * 1e6, where a quarter failed once in the tests' seeds), and one
         * slot past it that takes the overflow's writes */
        br[b].cap = in * stride + in * stride / 2 + 1024;
        br[b].below = br[b].size = 0;
        total += br[b].cap + 1;
    }
    if (total > n / 2) /* ties: the copies would be no smaller */
        goto done;
    room = malloc(total * sizeof(*room));
    if (room == NULL) {
        free(sample);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    for (b = 0, total = 0; b < nb; b++) {
        br[b].copy = room + total;
        total += br[b].cap + 1;
    }
    /* A block at a time, so its draws stay in L1 while every bracket
     * reads them; within a bracket no branch (a draw is stored, and kept
     * when inside), since the test's outcome is unpredictable. */
    for (i = 0; i < n; i += PASS_BLOCK) {
        size_t end = n - i < PASS_BLOCK ? n : i + PASS_BLOCK;

        for (b = 0; b < nb; b++) {
            double lo = br[b].lo, hi = br[b].hi, *copy = br[b].copy;
            size_t below = 0, size = br[b].size, cap = br[b].cap;

            for (j = i; j < end; j++) {
                double v = x[j];

                below += v < lo;
                copy[size < cap ? size : cap] = v;
                size += (v >= lo) & (v <= hi);
            }
            br[b].below += below;
            br[b].size = size;
        }
    }
    for (b = 0; b < nb; b++) {
        if (br[b].size > br[b].cap)
            goto done;
        sel[b].x = br[b].copy;
        sel[b].n = br[b].size;
        sel[b].n_fixed = 0;
    }
    for (i = 0; i < m; i++) {
        bracket *k = &br[owner[i]];

        if (ranks[i] < k->below || ranks[i] >= k->below + k->size)
            goto done;
    }
    for (i = 0; i < m; i++)
        out[i] = order_stat(&sel[owner[i]], ranks[i] - br[owner[i]].below);
    *done = 1;
done:
    free(sample);
    free(room);
    return AIPM_OK;
}

/* out[i] = the ranks[i]-th smallest of x (0-based), i < m <= MAX_RANKS;
 * x is not changed. */
static int order_stats(double *out, const double *x, size_t n,
                       const size_t *ranks, size_t m, aipm_error *err)
{
    osel sel = {NULL, n, {0}, 0};
    size_t i;
    int done = 0, rc;

    if (n > SMALL_N) {
        rc = by_sample(out, x, n, ranks, m, &done, err);
        if (rc != AIPM_OK || done)
            return rc;
    }
    sel.x = malloc(n * sizeof(*x));
    if (sel.x == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    memcpy(sel.x, x, n * sizeof(*x));
    for (i = 0; i < m; i++)
        out[i] = order_stat(&sel, ranks[i]);
    free(sel.x);
    return AIPM_OK;
}

/* ---- the summaries ---- */

/* A type 7 quantile's two ranks and weight: h = (n - 1) p, numpy's
 * virtual index for its "linear" method, clipped at the last draw. */
static void q7_ranks(double p, size_t n, size_t *lo, size_t *hi, double *t)
{
    double h = (double)(n - 1) * p, f = floor(h);

    *lo = f >= (double)(n - 1) ? n - 1 : (size_t)f;
    *hi = *lo + 1 < n ? *lo + 1 : n - 1;
    *t = h - f;
}

/* numpy's _lerp: from the nearer end, so t = 1 gives b exactly */
static double lerp(double a, double b, double t)
{
    double diff = b - a;

    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/* ceil(alpha n), forgiving alpha n's rounding error (0.1 * 30 is
 * 3.0000000000000004 in doubles), at least 1. */
static size_t tail_count(double alpha, size_t n)
{
    double t = alpha * (double)n;
    size_t k = (size_t)ceil(t * (1 - 1e-12));

    return k < 1 ? 1 : (k > n ? n : k);
}

/* The mean of the k lowest, t the k-th smallest: the draws below t and
 * as many copies of t as the k still lacks. */
static double tail_mean(const double *x, size_t n, size_t k, double t)
{
    size_t below = 0;
    double sum = pairwise_sum_below(x, n, t, &below);

    return (sum + (double)(k - below) * t) / (double)k;
}

static int check_alpha(double alpha, aipm_error *err)
{
    if (!(alpha > 0 && alpha <= 1))
        return aipm_error_set(err, AIPM_EINVALID,
                              "CVaR level %g is not in (0, 1]", alpha);
    return AIPM_OK;
}

int aipm_sim_summarize(aipm_sim_summary *out, const double *draws, size_t n,
                       double alpha, aipm_error *err)
{
    static const double probs[3] = {0.1, 0.5, 0.9};
    size_t ranks[7], k;
    double v[7], t[3];
    int rc = check_draws(draws, n, 0, err), i;

    if (rc == AIPM_OK)
        rc = check_alpha(alpha, err);
    if (rc != AIPM_OK)
        return rc;
    k = tail_count(alpha, n);
    ranks[0] = k - 1;
    for (i = 0; i < 3; i++)
        q7_ranks(probs[i], n, &ranks[1 + 2 * i], &ranks[2 + 2 * i], &t[i]);
    rc = order_stats(v, draws, n, ranks, 7, err);
    if (rc != AIPM_OK)
        return rc;
    out->n = n;
    out->alpha = alpha;
    out->mean = pairwise_sum(draws, n) / (double)n;
    out->cvar = tail_mean(draws, n, k, v[0]);
    out->p10 = lerp(v[1], v[2], t[0]);
    out->p50 = lerp(v[3], v[4], t[1]);
    out->p90 = lerp(v[5], v[6], t[2]);
    return AIPM_OK;
}

int aipm_sim_quantiles(double *out, const double *draws, size_t n,
                       const double *probs, size_t n_probs, aipm_error *err)
{
    size_t ranks[MAX_RANKS], i, j, m;
    double v[MAX_RANKS], t[MAX_RANKS / 2];
    int rc = check_draws(draws, n, 0, err);

    if (rc != AIPM_OK)
        return rc;
    for (i = 0; i < n_probs; i++)
        if (!(probs[i] >= 0 && probs[i] <= 1))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "probability %g is not in [0, 1]", probs[i]);
    for (i = 0; i < n_probs; i += m) { /* MAX_RANKS / 2 at a time */
        m = n_probs - i < MAX_RANKS / 2 ? n_probs - i : MAX_RANKS / 2;
        for (j = 0; j < m; j++)
            q7_ranks(probs[i + j], n, &ranks[2 * j], &ranks[2 * j + 1], &t[j]);
        rc = order_stats(v, draws, n, ranks, 2 * m, err);
        if (rc != AIPM_OK)
            return rc;
        for (j = 0; j < m; j++)
            out[i + j] = lerp(v[2 * j], v[2 * j + 1], t[j]);
    }
    return AIPM_OK;
}

/* Edge i of n_bins equal bins over [lo, hi] as numpy.linspace makes
 * numpy.histogram's: lo + i step, step = (hi - lo) / n_bins, the last
 * exactly hi; a step that underflows to 0 is numpy's (i / n_bins) (hi -
 * lo) instead. */
static double hist_edge(double lo, double hi, double step, size_t n_bins,
                        size_t i)
{
    if (i >= n_bins)
        return hi;
    if (step == 0)
        return lo + (double)i / (double)n_bins * (hi - lo);
    return lo + (double)i * step;
}

/* The bin is guessed from (x - lo) / step and then moved until the edges
 * agree, as numpy does (its guess can be one off within an ulp of an
 * edge): so the edges alone decide, and a draw on an inner edge is in the
 * bin above it. NaN is refused in a pass of its own first, so a failure
 * leaves counts as they were. */
int aipm_sim_histogram(size_t *counts, size_t n_bins, size_t *below,
                       size_t *above, const double *draws, size_t n, double lo,
                       double hi, aipm_error *err)
{
    double width = hi - lo, step, scale;
    size_t i, n_below = 0, n_above = 0;

    if (n_bins == 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "a histogram needs at least one bin");
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return aipm_error_set(err, AIPM_EINVALID,
                              "histogram range [%g, %g] is not finite with "
                              "lo < hi",
                              lo, hi);
    if (!isfinite(width))
        return aipm_error_set(err, AIPM_EINVALID,
                              "histogram range [%g, %g] is wider than a "
                              "double holds",
                              lo, hi);
    if (counts == NULL || below == NULL || above == NULL ||
        (draws == NULL && n > 0))
        return aipm_error_set(err, AIPM_EINVALID, "no array for a histogram");
    for (i = 0; i < n; i++)
        if (isnan(draws[i]))
            return aipm_error_set(err, AIPM_EINVALID,
                                  "draw %zu is nan: it has no bin", i);
    memset(counts, 0, n_bins * sizeof(*counts));
    step = width / (double)n_bins;
    scale = (double)n_bins / width;
    for (i = 0; i < n; i++) {
        double x = draws[i], f;
        size_t b;

        if (x < lo) {
            n_below++;
            continue;
        }
        if (x > hi) {
            n_above++;
            continue;
        }
        f = (x - lo) * scale; /* NaN only for a scale past a double */
        b = f >= (double)(n_bins - 1) ? n_bins - 1 : (f > 0 ? (size_t)f : 0);
        while (b > 0 && x < hist_edge(lo, hi, step, n_bins, b))
            b--;
        while (b + 1 < n_bins && x >= hist_edge(lo, hi, step, n_bins, b + 1))
            b++;
        counts[b]++;
    }
    *below = n_below;
    *above = n_above;
    return AIPM_OK;
}

int aipm_sim_cvar(double *out, const double *draws, size_t n, double alpha,
                  aipm_error *err)
{
    size_t k;
    double t;
    int rc = check_draws(draws, n, 0, err);

    if (rc == AIPM_OK)
        rc = check_alpha(alpha, err);
    if (rc != AIPM_OK)
        return rc;
    k = tail_count(alpha, n) - 1;
    rc = order_stats(&t, draws, n, &k, 1, err);
    if (rc == AIPM_OK)
        *out = tail_mean(draws, n, k + 1, t);
    return rc;
}

typedef struct many_ctx {
    aipm_sim_summary *out;
    const double *const *draws;
    size_t n;
    double alpha;
} many_ctx;

static int summarize_block(void *arg, size_t begin, size_t end, int block,
                           aipm_error *err)
{
    many_ctx *c = arg;
    size_t s;
    int rc = AIPM_OK;

    (void)block;
    for (s = begin; s < end && rc == AIPM_OK; s++) {
        rc = aipm_sim_summarize(&c->out[s], c->draws[s], c->n, c->alpha, err);
        if (rc != AIPM_OK) {
            aipm_error inner = *err;

            aipm_error_clear(err);
            aipm_error_set(err, rc, "scenario %zu: %s", s, inner.msg);
        }
    }
    return rc;
}

int aipm_sim_summarize_many(aipm_sim_summary *out, const double *const *draws,
                            size_t n_scenarios, size_t n, double alpha,
                            int n_threads, aipm_error *err)
{
    many_ctx c = {out, draws, n, alpha};

    if (n_scenarios > 0 && (out == NULL || draws == NULL))
        return aipm_error_set(err, AIPM_EINVALID, "no scenarios array");
    return aipm_sim_parallel(n_scenarios, n_threads, summarize_block, &c, err);
}

int aipm_sim_prob_loss(double *out, const double *draws, const double *baseline,
                       size_t n, aipm_error *err)
{
    size_t i, losses = 0;
    int rc = check_draws(draws, n, 1, err);

    if (rc == AIPM_OK)
        rc = check_draws(baseline, n, 1, err);
    if (rc != AIPM_OK)
        return rc;
    for (i = 0; i < n; i++)
        losses += draws[i] < baseline[i];
    *out = (double)losses / (double)n;
    return AIPM_OK;
}

int aipm_sim_prob_beats(double *out, const double *const *draws,
                        size_t n_scenarios, size_t n, aipm_error *err)
{
    size_t m = n_scenarios, a, b, c0, i;
    size_t *wins;
    int rc = AIPM_OK;

    if (m == 0)
        return AIPM_OK;
    if (out == NULL || draws == NULL)
        return aipm_error_set(err, AIPM_EINVALID, "no scenarios array");
    if (m > SIZE_MAX / m / sizeof(*wins))
        return aipm_error_set(err, AIPM_EINVALID, "%zu scenarios is too many",
                              m);
    for (a = 0; a < m && rc == AIPM_OK; a++)
        rc = check_draws(draws[a], n, 1, err);
    if (rc != AIPM_OK)
        return rc;
    wins = calloc(m * m, sizeof(*wins));
    if (wins == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    /* a chunk of every scenario stays in cache while all pairs read it */
    for (c0 = 0; c0 < n; c0 += BEATS_CHUNK) {
        size_t c1 = n - c0 < BEATS_CHUNK ? n : c0 + BEATS_CHUNK;

        for (a = 0; a < m; a++)
            for (b = a + 1; b < m; b++) {
                const double *x = draws[a], *y = draws[b];
                size_t ab = 0, ba = 0;

                for (i = c0; i < c1; i++) {
                    ab += x[i] > y[i];
                    ba += y[i] > x[i];
                }
                wins[a * m + b] += ab;
                wins[b * m + a] += ba;
            }
    }
    for (a = 0; a < m * m; a++)
        out[a] = (double)wins[a] / (double)n;
    free(wins);
    return AIPM_OK;
}
