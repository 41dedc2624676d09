/* run_int.h - what run.c (the simulation, its output, its record) and
 * objectives.c (each objective's models and draws) share (private). */
#ifndef AIPM_RUN_INT_H
#define AIPM_RUN_INT_H

#include "aipm/experiment.h"
#include "aipm/forecast.h"
#include "aipm/prioritize.h"
#include "aipm/scenario.h"
#include "aipm/sim_engine.h"
#include "aipm/sim_run.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DAY_MS 86400000LL

enum { OBJ_VALUE, OBJ_KPI, OBJ_ADOPT };

/* An experiment variation whose lift enters the KPI. */
typedef struct lift_in {
    const char *experiment, *variation;
    aipm_experiment_lift post;
    uint32_t stream;
} lift_in;

/* An engine item: a backlog item, under one scenario's assumptions
 * (variants of one item share its stream, so its draws). */
typedef struct item_in {
    int bl;          /* index into the value inputs' items */
    int value_fixed; /* the scenario's assumption */
    double value;
    int effort_fixed;
    double effort;
} item_in;

typedef struct sim {
    const aipm_scenario_file *f;
    const aipm_config *cfg;
    const aipm_simulate_opts *o;
    int kind;
    int horizon;
    size_t n_scen, n_draws, n_path, n_sens;
    int n_points; /* of the KPI path */
    int points[AIPM_SIMULATE_PATH_POINTS];
    json_t *warnings;     /* of strings */
    json_t **assumptions; /* per scenario, of strings */
    /* the value objective */
    aipm_pz_sim_inputs *vin;
    int vin_borrowed; /* the caller's: not freed */
    item_in *items;
    size_t n_items, cap_items;
    double *weight;       /* n_scen x n_items */
    unsigned char *built; /* n_scen x n_items: built (effort counts) */
    double *ship;         /* n_scen x n_items: ship day, -1 not built */
    double *planned;      /* per scenario: person-weeks of its estimates */
    aipm_sim_posterior post;
    aipm_sim_item *eitems;
    /* a KPI objective */
    const aipm_kpi *kpi;
    int share;           /* a share: between 0 and 1 */
    int down;            /* lower is better */
    double level, slope; /* at now, per day */
    double chol[3];      /* of their covariance: l11, l21, l22 */
    double sigma;        /* residual sd of the weekly values */
    int n_weeks;
    uint32_t s_level, s_slope;
    lift_in *lifts;
    int n_lifts;
    double *coef; /* n_scen x n_lifts: 1 shipped */
    int *has_growth;
    double *growth; /* per scenario: market_growth */
    /* adopters:FEATURE */
    aipm_adoption_paths ap;
    int launched;    /* the feature has a forecast of its own */
    int offset;      /* days from the path's day 0 to today (in use) */
    double *shift;   /* n_scen x ap.n: days after now the segment's
                        curve starts; INFINITY: never reached */
    uint32_t *s_seg; /* per segment: its stream */
    char *by;        /* the rollouts' segmentation; NULL: none */
    /* the draws */
    aipm_sim_result *res;
    double *path; /* n_scen x n_points x n_path */
} sim;

/* run.c: an input's stream, FNV-1a of its kind and name (used[] holds
 * the n_used taken, and gets this one); an error naming the file's line;
 * a warning (said once); an assumption of scenario s, in words. */
uint32_t sim__stream_for(uint32_t *used, size_t *n_used, const char *kind,
                         const char *name);
int sim__bad(sim *S, int line, aipm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sim__warn(sim *S, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sim__assume(sim *S, size_t s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* objectives.c: each objective's models checked against the workspace
 * (setup) and its draws into S->res and S->path (run). */
int sim__setup_value(sim *S, aipm_store *st, aipm_error *err);
int sim__run_value(sim *S, aipm_error *err);
int sim__setup_kpi(sim *S, aipm_store *st, aipm_error *err);
int sim__run_kpi(sim *S, aipm_error *err);
int sim__setup_adopt(sim *S, aipm_store *st, aipm_error *err);
int sim__run_adopt(sim *S, aipm_error *err);

#endif
