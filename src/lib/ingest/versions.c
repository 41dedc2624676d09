/* versions.c - dataset version transitions: accept, reject, revert.
 *
 * A batch's status decides whether analyses see it (DESIGN.md section 4):
 *   staged   --accept--> accepted   --revert--> reverted
 *   staged   --reject--> rejected
 *   rejected/reverted --accept--> accepted (a person changed their mind)
 * Nothing is deleted. Each move and its audit entry commit together.
 */
#include "aipm/audit.h"
#include "aipm/ingest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *target_of(const char *action, const char *from)
{
    if (strcmp(action, "accept") == 0)
        return strcmp(from, "staged") == 0 || strcmp(from, "rejected") == 0 ||
                       strcmp(from, "reverted") == 0
                   ? "accepted"
                   : NULL;
    if (strcmp(action, "reject") == 0)
        return strcmp(from, "staged") == 0 ? "rejected" : NULL;
    if (strcmp(action, "revert") == 0)
        return strcmp(from, "accepted") == 0 ? "reverted" : NULL;
    return NULL;
}

/* The records still in force that read a batch being reverted. */
static int add_stale(void *ctx, const char *id, const char *status)
{
    if (strcmp(status, "proposed") == 0 || strcmp(status, "approved") == 0)
        json_array_append_new((json_t *)ctx, json_string(id));
    return 0;
}

/* Mark them stale; their ids go into the audit entry's detail. */
static int mark_stale(aipm_store *st, int64_t id, json_t *detail,
                      aipm_error *err)
{
    json_t *ids = json_array(), *v;
    size_t i;
    int rc;

    if (ids == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    rc = aipm_store_decisions_reading(st, id, add_stale, ids, err);
    json_array_foreach(ids, i, v)
    {
        if (rc == AIPM_OK)
            rc = aipm_store_decision_set_status(st, json_string_value(v),
                                                "stale", err);
    }
    json_object_set_new(detail, "stale_decisions", ids);
    return rc;
}

int aipm_data_transition(aipm_store *st, int64_t id, const char *action,
                         const char *reason, const char *checkpoint_path,
                         aipm_error *err)
{
    aipm_batch_info info;
    const char *to;
    json_t *detail = NULL;
    char *text = NULL, object[48];
    uint64_t size = 0;
    uint8_t head[32];
    int rc;

    if (reason == NULL || *reason == '\0')
        return aipm_error_set(err, AIPM_EINVALID,
                              "a reason is required (--reason TEXT)");
    if ((rc = aipm_store_begin(st, err)) != 0)
        return rc;
    if ((rc = aipm_store_batch_get(st, &info, id, err)) != 0)
        goto done;
    to = target_of(action, info.status);
    if (to == NULL) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "batch %lld is %s; %s does not apply to it",
                            (long long)id, info.status, action);
        goto done;
    }
    if ((rc = aipm_store_batch_set_status(st, id, to, err)) != 0)
        goto done;
    detail = json_pack("{s:s, s:s, s:s, s:s}", "dataset", info.dataset, "from",
                       info.status, "to", to, "reason", reason);
    /* A decision that read a reverted batch no longer stands. */
    if (detail && strcmp(to, "reverted") == 0 &&
        (rc = mark_stale(st, id, detail, err)) != 0)
        goto done;
    text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    if (text == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(object, sizeof(object), "batch:%lld", (long long)id);
    if ((rc = aipm_audit_append(st, action, object, text, &size, head, err)) !=
        0)
        goto done;
    /* The checkpoint is written under its lock, held across the commit. */
    rc = aipm_audit_commit(st, checkpoint_path, size, head, err);
done:
    if (rc)
        aipm_store_rollback(st);
    aipm_batch_info_clear(&info);
    json_decref(detail);
    free(text);
    return rc;
}
