/* calibration.c - predicted probabilities scored against binary outcomes
 * (aipm/calibration.h).
 *
 * AUC and ECE both need the predictions in order: one sort of (p, index)
 * pairs, O(n log n), index breaking ties so equal predictions keep their
 * input order (the ECE's bins are then a function of the input alone, not
 * of qsort's whims). The AUC is the Mann-Whitney U of the positives'
 * ranks, tied predictions sharing their average rank (Hanley and McNeil
 * 1982), which counts a tied positive-negative pair one half: what
 * scikit-learn's roc_auc_score gives by the trapezoid rule. Log loss and
 * Brier score are single passes. Outcomes are read as 0 or not 0; a NaN
 * prediction makes every statistic NaN (it has no rank and no loss).
 */
#include "aipm/calibration.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define LOG_LOSS_EPS 1e-15 /* scikit-learn's clip (its default before 1.3) */

typedef struct ranked {
    double p;
    size_t i;
} ranked;

static int cmp_ranked(const void *x, const void *y)
{
    const ranked *a = x, *b = y;

    if (a->p != b->p)
        return a->p < b->p ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* The predictions sorted ascending, ties in index order; NULL (errno
 * ENOMEM) when out of memory, NULL (errno EDOM) when one is NaN. */
static ranked *sorted(const double *p, size_t n)
{
    ranked *r;
    size_t i;

    for (i = 0; i < n; i++)
        if (isnan(p[i])) {
            errno = EDOM;
            return NULL;
        }
    if (n > SIZE_MAX / sizeof(ranked) || (r = malloc(n * sizeof(*r))) == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    for (i = 0; i < n; i++) {
        r[i].p = p[i];
        r[i].i = i;
    }
    qsort(r, n, sizeof(*r), cmp_ranked);
    return r;
}

double aipm_auc(const double *p, const unsigned char *y, size_t n)
{
    ranked *r;
    double pos = 0, rank_sum = 0, neg;
    size_t i, j, k;

    for (i = 0; i < n; i++)
        pos += y[i] != 0;
    neg = (double)n - pos;
    if (n == 0 || pos == 0 || neg == 0 || (r = sorted(p, n)) == NULL)
        return NAN;
    /* A run of equal predictions [i, j) takes ranks i + 1 .. j, each the
     * average (i + 1 + j) / 2. */
    for (i = 0; i < n; i = j) {
        double run_pos = 0;

        for (j = i; j < n && r[j].p == r[i].p; j++)
            ;
        for (k = i; k < j; k++)
            run_pos += y[r[k].i] != 0;
        rank_sum += run_pos * ((double)(i + 1) + (double)j) / 2;
    }
    free(r);
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

double aipm_log_loss(const double *p, const unsigned char *y, size_t n)
{
    double sum = 0;
    size_t i;

    if (n == 0)
        return NAN;
    for (i = 0; i < n; i++) {
        double q = p[i];

        if (isnan(q))
            return NAN; /* fmin/fmax below would clip it to a number */
        q = fmin(fmax(q, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
        /* log(1 - q), not log1p(-q): scikit-learn's figure to the last
         * digit (they differ only where 1 - q rounds, at a loss of
         * 1e-16) */
        sum -= y[i] ? log(q) : log(1 - q);
    }
    return sum / (double)n;
}

double aipm_brier(const double *p, const unsigned char *y, size_t n)
{
    double sum = 0;
    size_t i;

    if (n == 0)
        return NAN;
    for (i = 0; i < n; i++) {
        double d = p[i] - (y[i] != 0);

        sum += d * d;
    }
    return sum / (double)n;
}

/* floor(b n / bins) without forming b n (which can overflow). */
static size_t bin_edge(size_t b, size_t n, size_t bins)
{
    return b * (n / bins) + b * (n % bins) / bins;
}

double aipm_ece(const double *p, const unsigned char *y, size_t n, int bins,
                aipm_calib_bin *out)
{
    ranked *r;
    double ece = 0;
    size_t b, k;

    if (bins <= 0)
        return NAN;
    for (b = 0; out && b < (size_t)bins; b++) {
        out[b].lo = out[b].hi = out[b].mean_p = out[b].mean_y = NAN;
        out[b].n = 0;
    }
    if (n == 0)
        return NAN;
    if ((r = sorted(p, n)) == NULL)
        return errno == ENOMEM ? -1 : NAN;
    for (b = 0; b < (size_t)bins; b++) {
        size_t lo = bin_edge(b, n, (size_t)bins),
               hi = bin_edge(b + 1, n, (size_t)bins);
        double sp = 0, sy = 0;

        if (lo == hi)
            continue; /* fewer predictions than bins: an empty bin */
        for (k = lo; k < hi; k++) {
            sp += r[k].p;
            sy += y[r[k].i] != 0;
        }
        ece += fabs(sp - sy);
        if (out) {
            out[b].lo = r[lo].p;
            out[b].hi = r[hi - 1].p;
            out[b].n = hi - lo;
            out[b].mean_p = sp / (double)(hi - lo);
            out[b].mean_y = sy / (double)(hi - lo);
        }
    }
    free(r);
    /* sum_b n_b / n |mean p - mean y| = sum_b |sum p - sum y| / n */
    return ece / (double)n;
}
