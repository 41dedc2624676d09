/* sim_int.h - what the simulate module's files share (private). */
#ifndef AIPM_SIM_INT_H
#define AIPM_SIM_INT_H

/* target_clones needs GCC 12 for the x86-64-v3/v4 names and glibc's
 * ifunc to pick a clone at load time; clang 14 accepts the attribute but
 * made no faster code here, so it and other systems get the portable
 * loops. The clones are integer or IEEE arithmetic alike, so every one
 * gives the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 &&              \
    defined(__x86_64__) && defined(__GLIBC__)
#define CLONES                                                                 \
    __attribute__((                                                            \
        target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

#endif
