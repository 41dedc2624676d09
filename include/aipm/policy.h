/* policy.h - the policies of aipm.yaml over time, and what they hold now.
 *
 * A policy version is the SHA-256 of the policies in canonical form
 * (aipm_config_policy_sha256). Each new version is an audit entry
 * "policy" (with the policies, who and why) and a row of the store's
 * policy_versions: recorded by `aipm policy set --reason`, or found by the
 * next command that writes when aipm.yaml was edited in between.
 */
#ifndef AIPM_POLICY_H
#define AIPM_POLICY_H

#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/store.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Record cfg's policies as a version when they differ from the latest
 * recorded one, or always when reason is not NULL (a person saying why).
 * reason NULL records "aipm.yaml changed (found by the next command)".
 * *recorded is 1 when an entry was written. Runs its own transaction; the
 * audit checkpoint at checkpoint (NULL: none) follows the commit. */
int aipm_policy_record(aipm_store *st, const aipm_config *cfg,
                       const char *reason, int64_t now_ms,
                       const char *checkpoint, int *recorded, aipm_error *err);

/* Every rule of cfg with whether it is satisfied now and what it holds:
 * {"policy_sha256", "recorded", "versions", "rules": [{"rule",
 * "satisfied", "holds" | "violations", ...}]}, into *out (the caller
 * frees it); *violated gets the number of rules not satisfied. */
int aipm_policy_check(aipm_store *st, const aipm_config *cfg, json_t **out,
                      int *violated, aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
