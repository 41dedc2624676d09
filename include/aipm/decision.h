/* decision.h - decision records: what was decided, from which data, with
 * which parameters, and the digest of the full output.
 *
 * Kept simple until the governance issue builds approvals on it: one row
 * per decision in the store's `decisions` table.
 */
#ifndef AIPM_DECISION_H
#define AIPM_DECISION_H

#include "aipm/core.h"
#include "aipm/store.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Store a decision record in its own transaction: a new UUID (into id_out),
 * the time, kind ("experiment", "prioritize", ...), subject and decision,
 * the inputs as {"<dataset>_batches": [accepted batch ids]} for each of the
 * NULL-terminated datasets, params (JSON, may be NULL) and the SHA-256 of
 * doc in canonical form (compact, sorted keys). */
int aipm_decision_record(aipm_store *st, const char *kind, const char *subject,
                         const char *decision, const json_t *doc,
                         const json_t *params, const char *const *datasets,
                         int64_t now_ms, char id_out[37], aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
