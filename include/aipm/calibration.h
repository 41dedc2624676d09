/* calibration.h - how well predicted probabilities match what happened.
 *
 * For n predictions p[i] in [0, 1] of binary outcomes y[i] (0 or 1):
 * the area under the ROC curve (the Mann-Whitney statistic, ties counted
 * one half), the log loss (probabilities clipped to [1e-15, 1 - 1e-15],
 * as scikit-learn does), the Brier score, and the expected calibration
 * error over bins of the predicted probability: sum over bins of
 * n_b / n |mean p - mean y| (Naeini, Cooper and Hauskrecht 2015; Guo et
 * al. 2017), the bins being equal-count groups of the sorted predictions
 * (deciles for 10 bins: the "adaptive" ECE of Nixon et al. 2019, which
 * keeps every bin populated when the probabilities are all small).
 */
#ifndef AIPM_CALIBRATION_H
#define AIPM_CALIBRATION_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* NAN when n is 0 or only one class is present. */
double aipm_auc(const double *p, const unsigned char *y, size_t n);
/* NAN when n is 0. */
double aipm_log_loss(const double *p, const unsigned char *y, size_t n);
double aipm_brier(const double *p, const unsigned char *y, size_t n);

/* One bin of the predicted-vs-observed table. */
typedef struct aipm_calib_bin {
    double lo, hi; /* smallest and largest prediction in the bin */
    size_t n;      /* predictions in it */
    double mean_p; /* mean prediction */
    double mean_y; /* observed share */
} aipm_calib_bin;

/* The ECE over `bins` equal-count bins: bin b holds the predictions of
 * ranks [floor(b n / bins), floor((b + 1) n / bins)) in ascending order
 * (equal predictions in index order); out (may be NULL, else `bins`
 * entries) receives the bins. NAN when n is 0; -1 (and errno ENOMEM) when
 * out of memory. */
double aipm_ece(const double *p, const unsigned char *y, size_t n, int bins,
                aipm_calib_bin *out);

#ifdef __cplusplus
}
#endif
#endif
