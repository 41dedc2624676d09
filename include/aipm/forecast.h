/* forecast.h - adoption forecasts: the Bass diffusion model.
 *
 * Bass (1969): of the m eventual adopters, the share F(t) adopted by time
 * t follows dF/dt = (p + q F)(1 - F), whose solution from F(0) = 0 is
 *   F(t) = (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t),
 *   f(t) = F'(t) = ((p+q)^2 / p) e^-(p+q)t / (1 + (q/p) e^-(p+q)t)^2,
 * p the coefficient of innovation, q of imitation. A series of adopters
 * per period t = 1, 2, ... is fitted either as m (F(t) - F(t-1)), the
 * adopters within each period ("per-period"), or as m f(t), the adoption
 * rate at the period ("density", the form of Cowpertwait and Metcalfe,
 * Introductory Time Series with R, 2009, section 3.3.4), by nonlinear
 * least squares (GSL's trust-region Levenberg-Marquardt on log p, log q,
 * log m, so all three stay positive), from several starting points.
 */
#ifndef AIPM_FORECAST_H
#define AIPM_FORECAST_H

#include "aipm/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aipm_bass_form {
    AIPM_BASS_PER_PERIOD,
    AIPM_BASS_DENSITY
} aipm_bass_form;

typedef struct aipm_bass {
    double p, q, m;
    double se_p, se_q, se_m; /* from s^2 (J'J)^-1 at the optimum */
    double rss;
    int n; /* periods fitted */
} aipm_bass;

/* F(t), the share adopted by time t. */
double aipm_bass_share(double p, double q, double t);

/* The model's adopters in period t (t = 1, 2, ...). */
double aipm_bass_period(aipm_bass_form form, const aipm_bass *b, double t);

/* Fit y[0..n) (period t = i + 1). AIPM_EINVALID with fewer than 4
 * periods, a negative or non-finite value, or an all-zero series. */
int aipm_bass_fit(aipm_bass *out, const double *y, int n, aipm_bass_form form,
                  aipm_error *err);

/* A series file: CSV with the header `period,adopters` and one row per
 * period (period: any label; adopters: a number >= 0). *labels (one
 * malloc'd block of NUL-terminated strings, label i at (*labels)[i]) and
 * *values are malloc'd; free both with aipm_series_free. A bad file is
 * AIPM_EINVALID with a one-line message naming the line. */
typedef struct aipm_series {
    char **labels;
    double *values;
    int n;
} aipm_series;

int aipm_series_parse(aipm_series *out, const char *text, size_t len,
                      aipm_error *err);
void aipm_series_free(aipm_series *s);

#ifdef __cplusplus
}
#endif
#endif
