/* lineage.h - runs as OpenLineage RunEvents.
 *
 * Every run (an ingest now; analyses later) is stored with its input and
 * output datasets already in OpenLineage's dataset shape, facets included.
 * This module wraps each stored run into a complete RunEvent (spec 2-0-2),
 * the object Marquez or any OpenLineage consumer reads.
 */
#ifndef AIPM_LINEAGE_H
#define AIPM_LINEAGE_H

#include "aipm/core.h"
#include "aipm/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIPM_OPENLINEAGE_SCHEMA                                                \
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
#define AIPM_LINEAGE_JOB_NAMESPACE "aipm"

/* Call emit once per stored run, oldest first, with one RunEvent as a
 * compact JSON text (borrowed for the call). A non-zero return from emit
 * stops the walk and is returned. */
int aipm_lineage_openlineage(aipm_store *st,
                             int (*emit)(void *ctx, const char *event),
                             void *ctx, aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
