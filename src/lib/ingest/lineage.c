/* lineage.c - wrap stored runs into OpenLineage RunEvents.
 *
 * The stored inputs/outputs are OpenLineage datasets with their facets
 * (built by ingest.c); this adds the run, the job, the event type (the
 * run's terminal state: COMPLETE or FAIL) and the event time (its end).
 */
#include "aipm/lineage.h"

#include <jansson.h>
#include <stdlib.h>

typedef struct emit_ctx {
    int (*emit)(void *ctx, const char *event);
    void *ctx;
    int failed;
} emit_ctx;

static int one_run(void *ctx, const aipm_run_row *run)
{
    emit_ctx *e = ctx;
    json_t *inputs, *outputs, *ev;
    json_error_t jerr;
    char when[32], *text;
    int rc;

    json_t *facets = run->facets ? json_loads(run->facets, 0, &jerr) : NULL;

    inputs = run->inputs ? json_loads(run->inputs, 0, &jerr) : NULL;
    outputs = run->outputs ? json_loads(run->outputs, 0, &jerr) : NULL;
    aipm_time_format(when, run->ended_ms ? run->ended_ms : run->started_ms);
    ev = json_pack("{s:s, s:s, s:{s:s, s:o}, s:{s:s, s:s, s:{}}, s:o, s:o, "
                   "s:s, s:s}",
                   "eventType", run->state, "eventTime", when, "run", "runId",
                   run->id, "facets", facets ? facets : json_object(), "job",
                   "namespace", AIPM_LINEAGE_JOB_NAMESPACE, "name", run->job,
                   "facets", "inputs", inputs ? inputs : json_array(),
                   "outputs", outputs ? outputs : json_array(), "producer",
                   "urn:aipm:" AIPM_VERSION, "schemaURL",
                   AIPM_OPENLINEAGE_SCHEMA);
    text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    json_decref(ev);
    if (text == NULL) {
        e->failed = 1;
        return 1;
    }
    rc = e->emit(e->ctx, text);
    free(text);
    return rc;
}

int aipm_lineage_openlineage(aipm_store *st,
                             int (*emit)(void *ctx, const char *event),
                             void *ctx, aipm_error *err)
{
    emit_ctx e = {emit, ctx, 0};
    int rc = aipm_store_run_list(st, one_run, &e, err);

    if (e.failed)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    return rc;
}
