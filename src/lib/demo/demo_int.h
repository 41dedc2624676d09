/* demo_int.h - the generator's shared state (private to src/lib/demo).
 *
 * gen.c owns the run: the product definition (features, plans, areas,
 * experiments), the users and accounts, and the day-by-day event loop.
 * backlog.c makes the backlog, feedback and market signals from the same
 * product; truth.c writes aipm.yaml and truth.json. One GSL random number
 * generator (MT19937, seeded once) is drawn from in a fixed order, which is
 * what makes the output byte-identical for a seed.
 */
#ifndef AIPM_DEMO_INT_H
#define AIPM_DEMO_INT_H

#include "aipm/demo.h"

#include <gsl/gsl_rng.h>
#include <jansson.h>
#include <stdio.h>

#define N_PLANS 3 /* free, pro, enterprise: the segments */
#define N_AREAS 6
#define MAX_FEATURES 16
#define MAX_EXPERIMENTS 8
#define N_BAD_KINDS 8

extern const char *const demo_plans[N_PLANS];
extern const char *const demo_areas[N_AREAS];
extern const char *const demo_bad_kinds[N_BAD_KINDS];

typedef struct demo_feature {
    const char *key, *name, *event; /* the event that means "used it" */
    int area;                       /* index into demo_areas */
    int launch_day;                 /* day index; <= 0: before the period */
    int depends_on;                 /* feature index or -1 */
    double use_rate;                /* P(use on an active day) once adopted */
    /* Adoption per plan: on an active day a not-yet-adopter who is
     * eligible adopts with probability 1 / (1 + e^-(logit p + g share)),
     * share = fraction of the user's neighbours (the account's other
     * members so far, and the inviter) who had adopted before that day.
     * m = P(eligible). */
    double p[N_PLANS], g[N_PLANS], m[N_PLANS]; /* adoption, gen.c */
} demo_feature;

typedef struct demo_experiment {
    const char *key, *metric_event, *metric_key, *guardrail_key;
    int start_day, end_day;
    int new_users_only;    /* exposure at signup (onboarding tests) */
    double lift;           /* true relative lift of the metric event's rate */
    double activity_lift;  /* true relative change of daily activity */
    double lost_exposures; /* share of treatment exposures not logged (SRM) */
    const char *kind;      /* winner, null, harms_guardrail, srm */
} demo_experiment;

typedef struct demo_item {
    char id[16];
    char title[128];
    char words[4][16];            /* the item's own vocabulary */
    int area, feature;            /* feature index or -1 */
    double effort;                /* person-weeks */
    int status;                   /* index into demo_statuses */
    int created_day, shipped_day; /* shipped_day < 0: not shipped */
    double demand;                /* hidden: expected feedback rows */
    double value;                 /* true realised value: users per 10k DAU */
    int has_rice;
    double reach, impact, confidence;
} demo_item;

typedef struct demo {
    aipm_demo_opts o;
    gsl_rng *rng;
    int64_t day0; /* day number (days since 1970) of day index 0 */
    int n_features;
    demo_feature features[MAX_FEATURES];
    int n_experiments;
    demo_experiment experiments[MAX_EXPERIMENTS];
    double area_trend[N_AREAS]; /* hidden market trend per area */
    double area_reach[N_AREAS]; /* hidden share of users in each area */

    /* accounts */
    int64_t n_accounts;
    uint8_t *acct_plan;
    uint8_t *acct_industry;
    int32_t *acct_seats;
    int32_t *acct_members;  /* signed up so far */
    int32_t *acct_last;     /* the newest member, or -1 */
    uint32_t *acct_adopted; /* [account * MAX_FEATURES + f] adopters */

    /* users (index order = signup order) */
    int32_t *user_signup_day;
    int32_t *user_account;
    int32_t *user_inviter; /* -1: none */
    uint16_t *user_eligible, *user_adopted;
    uint8_t *user_exposed; /* bit per experiment */

    /* backlog, feedback, signals (backlog.c) */
    int n_items;
    demo_item *items;
    int64_t n_feedback;
    int64_t n_signals;

    /* bad rows and re-sends written, per kind */
    int64_t bad[N_BAD_KINDS];
    int64_t csv_bad[N_BAD_KINDS];
    aipm_demo_stats stats;
} demo;

extern const char *const demo_statuses[5]; /* idea planned in_progress
                                              shipped dropped */

/* backlog.c: make the items (after the product and users exist), then
 * write backlog.csv, feedback.csv and signals.csv, and add their truth. */
int demo_backlog_make(demo *d, aipm_error *err);
int demo_backlog_write(demo *d, const char *outdir, json_t *truth,
                       aipm_error *err);

/* truth.c */
int demo_write_yaml(demo *d, const char *outdir, aipm_error *err);
json_t *demo_truth_core(demo *d);

/* Format a day index as YYYY-MM-DD. */
void demo_date(const demo *d, int day, char out[16]);

#endif
