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
    int concept, action;          /* demo_concepts, demo_actions */
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

/* language.c: the words of the backlog and the feedback. */
#define DEMO_N_CONCEPTS 42
#define DEMO_N_ACTIONS 12
#define DEMO_MAX_PHRASES 4
#define DEMO_TEXT_MAX 640
#define DEMO_OWN_TERM_SHARE 0.4   /* an ask uses the item's own term */
#define DEMO_TYPO_SHARE (1 / 6.0) /* per word of 5+ letters */
#define DEMO_TYPO_MIN_LETTERS 5
#define DEMO_MULTI_ASK_SHARE 0.15 /* item rows with 2-3 asks */
#define DEMO_NOISE_PER_ITEM 0.14  /* rows about no item per item row */
#define DEMO_TAGGED_SHARE 0.15    /* item rows with item_id given */
#define DEMO_CORRECTIONS 40       /* links a PM makes in `aipm demo` */
#define DEMO_UNLINKS 15 /* rows about no item a PM unlinks in `aipm demo` */

typedef struct demo_concept {
    int area;                              /* index into demo_areas */
    const char *term;                      /* the PM's word for it */
    const char *phrases[DEMO_MAX_PHRASES]; /* customers' (NULL: fewer) */
} demo_concept;

typedef struct demo_action {
    const char *title, *desc; /* the PM's words */
    const char *phrases[DEMO_MAX_PHRASES];
} demo_action;

extern const demo_concept demo_concepts[DEMO_N_CONCEPTS];
extern const demo_action demo_actions[DEMO_N_ACTIONS];

void demo_lang_title(gsl_rng *r, const demo_item *it, char *out, size_t cap);
void demo_lang_description(gsl_rng *r, const demo_item *it, char *out,
                           size_t cap);
/* Append to out[len..cap) and return the new length: one ask about it
 * (quote: maybe its concept in quotes), one row about no item, a greeting
 * (often none), a sign-off (often none), a joiner between asks. */
size_t demo_lang_ask(gsl_rng *r, const demo_item *it, int quote, char *out,
                     size_t cap, size_t len);
size_t demo_lang_noise(gsl_rng *r, char *out, size_t cap, size_t len);
size_t demo_lang_opener(gsl_rng *r, char *out, size_t cap, size_t len);
size_t demo_lang_closer(gsl_rng *r, char *out, size_t cap, size_t len);
size_t demo_lang_joiner(gsl_rng *r, char *out, size_t cap, size_t len);
/* Typos in place (text of at most DEMO_TEXT_MAX bytes). */
void demo_lang_typos(gsl_rng *r, char *text, size_t cap);
/* truth.json "feedback.language": the shares and the vocabulary. */
json_t *demo_lang_truth(void);

/* truth.c */
int demo_write_yaml(demo *d, const char *outdir, aipm_error *err);
json_t *demo_truth_core(demo *d);

/* Format a day index as YYYY-MM-DD. */
void demo_date(const demo *d, int day, char out[16]);

#endif
