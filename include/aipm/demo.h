/* demo.h - a realistic SaaS product's data with known ground truth.
 *
 * aipm_demo_generate writes, deterministically for a seed, the input files
 * of every dataset in the contract (events.ndjson.gz, backlog.csv,
 * feedback.csv, signals.csv, graph.csv), an aipm.yaml for the product, and
 * truth.json: every parameter the data was drawn from (Bass adoption per
 * feature and plan with its graph coefficient, experiment effects, the
 * realised value of each backlog item, the item behind each feedback row,
 * the count of each kind of bad row). The analyses are tested against it.
 * Streaming: memory grows with users (a few bytes each), never with events.
 */
#ifndef AIPM_DEMO_H
#define AIPM_DEMO_H

#include "aipm/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aipm_demo_opts {
    int64_t users;    /* total users signing up over the period */
    int days;         /* length of the period */
    uint64_t seed;    /* same seed and options -> byte-identical files */
    int64_t end_ms;   /* the period's last day (UTC midnight is used) */
    double bad_share; /* share of extra bad event lines, of each kind */
    double dup_share; /* share of event lines re-sent exactly */
    aipm_progress_fn progress; /* days done / days */
    void *progress_ctx;
} aipm_demo_opts;

/* The defaults: 3000 users, 120 days, seed 1, end today, 0.2% bad rows,
 * 0.5% re-sends. */
void aipm_demo_opts_init(aipm_demo_opts *o);

typedef struct aipm_demo_stats {
    int64_t events;    /* good event lines (before bad rows and re-sends) */
    int64_t bad_lines; /* bad event lines written */
    int64_t resent;    /* exact re-sends written */
    int64_t accounts, items, feedback, signals, edges;
} aipm_demo_stats;

/* Write the files into outdir (created if missing; existing files of the
 * same names are replaced). Returns AIPM_EINVALID for bad options,
 * AIPM_EIO when a file cannot be written. */
int aipm_demo_generate(const char *outdir, const aipm_demo_opts *opts,
                       aipm_demo_stats *stats, aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
