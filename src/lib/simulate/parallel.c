/* parallel.c - draws [0, n) split into contiguous blocks over threads
 * (aipm/simulate.h).
 *
 * Block t is [t q + min(t, r), (t + 1) q + min(t + 1, r)) with n = T q + r:
 * sizes differ by at most one and the arithmetic cannot overflow. Each
 * block gets its own aipm_error, so threads never write the same message;
 * after every thread is joined, the lowest failing block's error is the
 * one returned, whatever order the threads finished in. A block whose
 * thread cannot be created runs in the caller's thread after block 0:
 * fewer threads, same results.
 */
#include "aipm/simulate.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct job {
    aipm_sim_block_fn fn;
    void *ctx;
    size_t begin, end;
    int block, rc, started;
    pthread_t tid;
    aipm_error err;
} job;

static void *run(void *arg)
{
    job *j = arg;

    j->rc = j->fn(j->ctx, j->begin, j->end, j->block, &j->err);
    return NULL;
}

int aipm_sim_parallel(size_t n, int n_threads, aipm_sim_block_fn fn, void *ctx,
                      aipm_error *err)
{
    job *jobs;
    size_t q, r;
    int T, t, rc = AIPM_OK;

    if (fn == NULL)
        return aipm_error_set(err, AIPM_EINVALID, "no block function");
    if (n_threads < 1 || n_threads > AIPM_SIM_MAX_THREADS)
        return aipm_error_set(err, AIPM_EINVALID,
                              "threads must be 1 to %d, not %d",
                              AIPM_SIM_MAX_THREADS, n_threads);
    if (n == 0)
        return AIPM_OK;
    T = (size_t)n_threads < n ? n_threads : (int)n;
    jobs = calloc((size_t)T, sizeof(*jobs));
    if (jobs == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    q = n / (size_t)T;
    r = n % (size_t)T;
    for (t = 0; t < T; t++) {
        size_t ut = (size_t)t;

        jobs[t].fn = fn;
        jobs[t].ctx = ctx;
        jobs[t].block = t;
        jobs[t].begin = ut * q + (ut < r ? ut : r);
        jobs[t].end = (ut + 1) * q + (ut + 1 < r ? ut + 1 : r);
    }
    for (t = 1; t < T; t++)
        jobs[t].started =
            pthread_create(&jobs[t].tid, NULL, run, &jobs[t]) == 0;
    run(&jobs[0]);
    for (t = 1; t < T; t++) {
        if (jobs[t].started)
            pthread_join(jobs[t].tid, NULL);
        else
            run(&jobs[t]);
    }
    for (t = 0; t < T && rc == AIPM_OK; t++) {
        if (jobs[t].rc == AIPM_OK)
            continue;
        rc = jobs[t].rc;
        if (jobs[t].err.code != 0)
            aipm_error_set(err, rc, "%s", jobs[t].err.msg);
        else
            aipm_error_set(err, rc, "draws %zu to %zu failed", jobs[t].begin,
                           jobs[t].end);
    }
    free(jobs);
    return rc;
}
