/* forecast_int.h - the loaded data of the adoption forecasts, shared by
 * the loader (adoption.c) and the per-feature models (adopt_run.c). */
#ifndef AIPM_FORECAST_INT_H
#define AIPM_FORECAST_INT_H

#include "aipm/forecast.h"
#include "aipm/graph.h"

#define DAY_MS 86400000LL
#define MAX_SEGMENTS 20
#define MAX_NEIGHBOURS 1000 /* a user's neighbours kept for the signal */
#define NO_DAY INT32_MAX

struct aipm_adoption {
    const aipm_config *cfg;
    aipm_store *st;
    aipm_graph *g;
    int holdout;
    /* days are UTC day numbers (ms / DAY_MS, floored) */
    int32_t day0; /* the first day with data */
    int32_t end;  /* one past the last day with data */
    int32_t cut;  /* models see days < cut (end - holdout) */
    int n;        /* users */
    int *node;    /* user -> graph node */
    int *of_node; /* graph node -> user, or -1 */
    int32_t *first;
    uint16_t *seg;
    uint64_t *bits; /* active days: user u's day d is bit d - day0 of
                       words [u * nw, (u + 1) * nw) */
    int nw;
    int64_t *nb_start; /* n + 1: neighbours (user indexes), each once */
    int *nb;
    int32_t *nb_since; /* the day each link began */
    char *seg_names[MAX_SEGMENTS + 1];
    int n_segs;
    char *by;
};

/* L L' = c for a symmetric 3x3 c (row-major), L lower triangular; a
 * coordinate with zero variance (a parameter held fixed) gets a zero
 * column. 0 (and L zero) when c is otherwise not positive definite. */
int aipm_forecast__chol3(const double c[9], double l[9]);

/* x = M^-1 b for a symmetric positive definite 3x3 M; 0 if it is not. */
int aipm_forecast__solve3(const double M[9], const double b[3], double x[3]);

/* The inverse of a symmetric positive definite 3x3, column by column; 0
 * if it is not positive definite. */
int aipm_forecast__inv3(const double m[9], double out[9]);

/* A Bass fit is not used when its m is below the adopters already counted
 * (the curve cannot even reach the past) or more than this many times the
 * segment's users (3e11 was seen in a backtest: a flat series lets m run
 * off). */
#define BASS_MAX_M_PER_USER 10

/* 1 and a one-line reason in why[n] when the Bass fit b must not be used
 * for a segment of `users` users of whom `counted` adopted already; 0
 * (why = "") when it may. */
int aipm_forecast__bass_reject(const aipm_bass *b, double counted, double users,
                               char *why, size_t n);

/* A forecast day's figures from the D draws' means mu[d] and variances
 * var[d] (draw 0 the estimate): out = {point, lo80, hi80, lo95, hi95}.
 * The point is draw 0's mean (the path the backtest measured); the
 * intervals are quantiles of the mixture of normals over the draws, never
 * below base (the adopters counted), in order, and widened to include the
 * point. */
void aipm_forecast__bounds(const double *mu, const double *var, int D,
                           double base, double out[5]);

/* The UTC day of a time in ms (floored, also before 1970). */
static inline int32_t day_of_ms(int64_t ms)
{
    return (int32_t)(ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS));
}

static inline int adoption_active(const struct aipm_adoption *a, int u,
                                  int32_t day)
{
    int64_t b = day - a->day0;

    if (b < 0 || day >= a->end)
        return 0;
    return (int)((a->bits[(int64_t)u * a->nw + (b >> 6)] >> (b & 63)) & 1);
}

#endif
