/* forecast_int.h - the loaded data of the adoption forecasts, shared by
 * the loader (adoption.c), the per-feature models (adopt_run.c) and the
 * registry's trainer (adopt_model.c). */
#ifndef AIPM_FORECAST_INT_H
#define AIPM_FORECAST_INT_H

#include "aipm/forecast.h"
#include "aipm/graph.h"

#define DAY_MS 86400000LL
#define MAX_SEGMENTS 20
#define MAX_NEIGHBOURS 1000 /* a user's neighbours kept for the signal */
#define NO_DAY INT32_MAX
#define MAX_AGE 400   /* days since a user's first, for activity by age */
#define PI_BOUND 0.98 /* a pi fitted above: refitted with pi held at 1 */

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

/* ---- one feature's fit at a cutoff (adopt_run.c) ----
 *
 * The state aipm_adoption_run fits a feature's models in, shared with the
 * registry's trainer (adopt_model.c) so both fit the same models on the
 * same data. */

/* One segment's fit at a cutoff. */
struct aipm_forecast__seg {
    int64_t users;  /* first seen before the cutoff */
    double base;    /* adopters before the cutoff */
    double signups; /* new users a day, recently */
    double act[MAX_AGE + 1];
    aipm_bass bass;
    int bass_ok;
    char bass_why[160]; /* why a Bass fit was not used, or "" */
    aipm_hazard hz;
    int hz_ok;
    /* the hazard data: runs per user at risk (aipm_hazard_data), user[j]
     * the user index of its j-th user; with the launch before the cutoff,
     * every user first seen before it (and not adopted before the first
     * day loaded) has an entry, ev[j] NaN when it had not adopted by
     * then, with no runs when never active at risk */
    int nu;
    int *user;
    int64_t *start;
    double *rs, *ev;
    int32_t *rd;
    size_t cap_u, cap_r;
};

/* A feature's run: aipm_forecast__run_init allocates adopt (n users),
 * segs (n_segs + 1, zeroed), ta and tf (MAX_NEIGHBOURS each);
 * aipm_forecast__run_release frees them, each segment cleared first. */
struct aipm_forecast__run {
    aipm_adoption *a;
    aipm_error *err;
    int n_alloc;    /* segments allocated */
    int32_t *adopt; /* user -> adoption day (any time), NO_DAY */
    int32_t launch;
    struct aipm_forecast__seg *segs;
    /* scratch of the signal */
    int32_t *ta, *tf;
    double *cum, *pre;       /* observed cumulative adopters (cumulate()) */
    double bass_s, hazard_s; /* time spent fitting each model */
};

/* Feature f's adoption day per user into r->adopt, and *launch, the day
 * its series start (the launch, or the first day with data when it
 * launched before the data begin). AIPM_ENOTFOUND when it has neither a
 * launch date nor an adopter; AIPM_ENOMEM. */
int aipm_forecast__feature_days(struct aipm_forecast__run *r,
                                const aipm_feature *f, int32_t *launch);

/* Fit every segment's models at cutoff C from the days before it (which:
 * 1 Bass, 2 hazard, 3 both), r->launch set; a segment's model that
 * cannot be fitted has its *_ok 0. Only AIPM_ENOMEM fails. */
int aipm_forecast__fit_at(struct aipm_forecast__run *r, int32_t C, int which);

/* adopt_draws.c: forecast paths of model m (1 Bass, 2 hazard) from day C,
 * H days: D parameter draws (seed) into mu[(d * n_segs + k) * H + h] and
 * var likewise; ok[k] whether segment k has the model. 0 or an error
 * code. And one segment's Bass path of parameters th over n days since
 * launch: mu[h] and var[h] for days C .. C + H - 1. */
int aipm_forecast__paths(struct aipm_forecast__run *r, int32_t C, int H,
                         int model, int D, uint64_t seed, double *mu,
                         double *var, int *ok);
void aipm_forecast__bass_path(const struct aipm_forecast__seg *s, int32_t n,
                              const double th[3], int H, double *mu,
                              double *var);

/* Only the hazard data of every segment at cutoff C (the user-days at
 * risk before C, as fit_at builds them), each segment cleared first, no
 * model fitted: what scoring a stored fit at a new cutoff reads.
 * AIPM_ENOMEM. */
int aipm_forecast__hazard_data(struct aipm_forecast__run *r, int32_t C);

/* Free a segment's hazard data and zero it. */
void aipm_forecast__seg_clear(struct aipm_forecast__seg *s);

/* A run's buffers for adoption data a: its segments (n_segs + 1, the last
 * spare), each user's adoption day, the neighbour scratch; AIPM_ENOMEM
 * (with err) when they cannot be had. run_release frees what init (and
 * the fits since) took, the cumulative tables too; either is safe on a
 * zeroed run. */
int aipm_forecast__run_init(struct aipm_forecast__run *r, aipm_adoption *a,
                            aipm_error *err);
void aipm_forecast__run_release(struct aipm_forecast__run *r);

/* ---- a registered version's artifact (adopt_model.c) ----
 *
 * The adoption model's parameters as a prediction reads them, parsed and
 * checked once by aipm_forecast__art_read: the registry's reading scores
 * with them, a forecast run by a version takes its hazard fits from them. */

/* One segment's parameters of one feature: the hazard fit and the
 * segment's activity curve act[0..n_act). The trainer points them at its
 * fit, a reading or a forecast at the artifact's copy of it. */
struct aipm_forecast__seg_par {
    int ok; /* the segment has a fit */
    double alpha, beta, pi;
    double cov[9]; /* of (alpha, beta, logit pi); 0 if the artifact has
                      none (no parameter uncertainty in the draws) */
    const double *act;
    int n_act;
};

/* A version's artifact, read and checked. Strings are borrowed from the
 * artifact, which must outlive it. */
struct aipm_forecast__art {
    const char *by;     /* the segmenting trait, NULL for one "all" */
    const char *cutoff; /* "YYYY-MM-DD" of the training's cutoff, or NULL */
    int horizon;
    int n_segs;
    const char *seg[MAX_SEGMENTS + 1];
    double *act[MAX_SEGMENTS + 1];
    int n_feat;
    const char **feat;                  /* the features fitted */
    struct aipm_forecast__seg_par *par; /* [f * n_segs + k] */
};

/* Read and check every member a prediction uses: an artifact comes from
 * the store, whose text anyone with the file can edit (the registry
 * checks its digest, but a caller may be handed any JSON). AIPM_EINVALID
 * with a one-line message naming the first bad member; AIPM_ENOMEM. On
 * failure m is left empty; else aipm_forecast__art_free frees it (and
 * accepts an empty one). */
int aipm_forecast__art_read(struct aipm_forecast__art *m,
                            const json_t *artifact, aipm_error *err);
void aipm_forecast__art_free(struct aipm_forecast__art *m);

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

/* adopt_version.c: the registered version a forecast takes its hazard
 * fits from (o->model_version): *version 0 (m empty) when the run fits
 * its own; *artifact (the text m borrows) is the caller's to decref
 * after m is freed. Then take_version puts its fits in place of the
 * run's where it applies and writes the document's "registry" (*out);
 * hazard 0 when the run has no hazard model, why_not saying why. */
int aipm_forecast__registered(struct aipm_forecast__art *m, json_t **artifact,
                              int64_t *version, aipm_adoption *a,
                              const aipm_adoption_opts *o, aipm_error *err);
int aipm_forecast__take_version(json_t **out, struct aipm_forecast__run *r,
                                const struct aipm_forecast__art *m,
                                int64_t version, const char *feature,
                                int hazard, const char *why_not);

/* A number for a JSON document: null when it is not finite. */
json_t *aipm_forecast__num(double x);
/* "YYYY-MM-DD" of a UTC day number. */
void aipm_forecast__day_label(char out[16], int32_t day);

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
