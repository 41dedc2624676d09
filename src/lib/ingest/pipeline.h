/* pipeline.h - two-thread events ingest: the caller parses, a writer
 * thread stores (private to the ingest module; see pipeline.c). */
#ifndef AIPM_INGEST_PIPELINE_H
#define AIPM_INGEST_PIPELINE_H

#include "ingest/batch.h"

typedef struct aipm_pipe aipm_pipe;

/* Start the writer thread for batch b. */
int aipm_pipe__start(aipm_pipe **out, batch *b, aipm_error *err);
/* Queue an event to store. prop_idx[i] is the prop_stats index of
 * ev->props[i] (or -1); ns the schema namespace index (or -1). */
int aipm_pipe__event(aipm_pipe *p, uint64_t lineno, const aipm_event *ev,
                     int ns, const int *prop_idx, aipm_error *err);
/* Queue a quarantine row. */
int aipm_pipe__quarantine(aipm_pipe *p, uint64_t lineno, enum reason why,
                          const char *detail, const char *raw, size_t raw_len,
                          aipm_error *err);
/* Drain the queue and stop the writer; returns the writer's error. */
int aipm_pipe__finish(aipm_pipe *p, aipm_error *err);
/* Stop (if still running) and free; safe after finish and on NULL. */
void aipm_pipe__free(aipm_pipe *p);

#endif
