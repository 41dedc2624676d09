/* sim_int.h - what the simulate module's files share (private). */
#ifndef AIPM_SIM_INT_H
#define AIPM_SIM_INT_H

/* target_clones needs GCC 12 for the x86-64-v3/v4 names and glibc's
 * ifunc to pick a clone at load time; clang 14 accepts the attribute but
 * made no faster code here, so it and other systems get the portable
 * loops. The clones are integer or IEEE arithmetic alike, so every one
 * gives the same bits. Not under ThreadSanitizer: the loader runs the
 * ifunc resolvers before its runtime is up, and they crash. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 &&              \
    defined(__x86_64__) && defined(__GLIBC__) && !defined(__SANITIZE_THREAD__)
#define CLONES                                                                 \
    __attribute__((                                                            \
        target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

#include "aipm/prioritize.h"
#include "aipm/sim_run.h"
#include "aipm/simulate.h"

/* run.c: the scenarios of f simulated as aipm_simulate does, without the
 * paths, the sensitivity, the JSON or a record: each scenario's summary
 * into sum[] and, when beats is not NULL, P(a beats b) into
 * beats[a * n + b]. vin: the value model's inputs, already loaded (the
 * caller's; NULL loads them). For the planner, which simulates many
 * candidate plans against one model. */
int sim_evaluate(aipm_sim_summary *sum, double *beats, aipm_store *st,
                 const aipm_config *cfg, const aipm_scenario_file *f,
                 const aipm_simulate_opts *o, aipm_pz_sim_inputs *vin,
                 aipm_error *err);

#endif
