/* store.c - URL dispatch and the public store API.
 *
 * aipm_store_open picks a backend from the URL scheme; every other public
 * function forwards to the backend's ops table (store_int.h). Keeping this
 * file free of SQL is what lets a second backend slot in beside SQLite.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A "password=" parameter's value (libpq takes one in the query) becomes
 * "***", in place. */
static void redact_query(char *s)
{
    char *p = strstr(s, "password="), *v, *end;

    if (p == NULL)
        return;
    v = p + 9;
    end = v + strcspn(v, "&#");
    if (end - v >= 3) {
        memcpy(v, "***", 3);
        memmove(v + 3, end, strlen(end) + 1);
    } else {
        memset(v, '*', (size_t)(end - v));
    }
}

void aipm_store_url_redact(char *out, size_t cap, const char *url)
{
    const char *scheme = strstr(url, "://"), *at, *colon, *end;

    if (cap == 0)
        return;
    if (scheme == NULL) {
        snprintf(out, cap, "%s", url);
        return;
    }
    /* The authority ends at the first '/', '?' or '#' after "://"; a
     * password is what lies between the first ':' and the last '@' in it. */
    end = scheme + 3 + strcspn(scheme + 3, "/?#");
    for (at = end; at > scheme + 3 && at[-1] != '@'; at--)
        ;
    colon = memchr(scheme + 3, ':', (size_t)(end - scheme - 3));
    if (at == scheme + 3 || colon == NULL || colon > at) {
        snprintf(out, cap, "%s", url);
        redact_query(out);
        return;
    }
    snprintf(out, cap, "%.*s:***%s", (int)(colon - url), url, at - 1);
    redact_query(out);
}

int aipm_store_open(aipm_store **out, const char *url, int flags,
                    aipm_error *err)
{
    *out = NULL;
    if (url == NULL || *url == '\0')
        return aipm_error_set(err, AIPM_EINVALID, "empty store URL");
    if (strncmp(url, "postgresql://", 13) == 0 ||
        strncmp(url, "postgres://", 11) == 0 ||
        strncmp(url, "clickhouse://", 13) == 0) {
        char shown[1024];

        aipm_store_url_redact(shown, sizeof(shown), url);
        return aipm_error_set(err, AIPM_EINVALID,
                              "store '%s': this build supports only the "
                              "embedded SQLite store so far",
                              shown);
    }
    if (strncmp(url, "sqlite:", 7) == 0)
        url += 7;
    return aipm_store__sqlite_open(out, url, flags, err);
}

void aipm_store_close(aipm_store *st)
{
    if (st)
        st->ops->close(st);
}

int aipm_store_schema_version(aipm_store *st)
{
    return st->schema_version;
}

const char *aipm_store_namespace(aipm_store *st)
{
    return st->ns;
}

int aipm_store_begin(aipm_store *st, aipm_error *err)
{
    return st->ops->begin(st, err);
}

int aipm_store_commit(aipm_store *st, aipm_error *err)
{
    return st->ops->commit(st, err);
}

void aipm_store_rollback(aipm_store *st)
{
    st->ops->rollback(st);
}

int aipm_store_batch_new(aipm_store *st, int64_t *out_id, const char *dataset,
                         const char *source, const char *source_sha256,
                         const char *run_id, int64_t created_ms,
                         aipm_error *err)
{
    return st->ops->batch_new(st, out_id, dataset, source, source_sha256,
                              run_id, created_ms, err);
}

int aipm_store_batch_finish(aipm_store *st, const aipm_batch_info *info,
                            aipm_error *err)
{
    return st->ops->batch_finish(st, info, err);
}

int aipm_store_batch_get(aipm_store *st, aipm_batch_info *out, int64_t id,
                         aipm_error *err)
{
    return st->ops->batch_get(st, out, id, err);
}

void aipm_batch_info_clear(aipm_batch_info *info)
{
    if (info == NULL)
        return;
    free((char *)info->source);
    free((char *)info->report);
    memset(info, 0, sizeof(*info));
}

int aipm_store_batch_set_status(aipm_store *st, int64_t id, const char *status,
                                aipm_error *err)
{
    return st->ops->batch_set_status(st, id, status, err);
}

int aipm_store_batch_list(aipm_store *st, const char *dataset, int latest_only,
                          aipm_batch_cb cb, void *ctx, aipm_error *err)
{
    return st->ops->batch_list(st, dataset, latest_only, cb, ctx, err);
}

int aipm_store_event_put(aipm_store *st, int64_t batch_id,
                         const aipm_event_row *row, int *inserted,
                         aipm_error *err)
{
    return st->ops->event_put(st, batch_id, row, inserted, err);
}

int aipm_store_row_put(aipm_store *st, const char *dataset, int64_t batch_id,
                       const char *key, const char *row_sha,
                       const char *const *values, int *inserted,
                       aipm_error *err)
{
    return st->ops->row_put(st, dataset, batch_id, key, row_sha, values,
                            inserted, err);
}

int aipm_store_count_visible(aipm_store *st, const char *dataset, int64_t *out,
                             aipm_error *err)
{
    return st->ops->count_visible(st, dataset, out, err);
}

int aipm_store_event_count(aipm_store *st, const char *event, int64_t cap,
                           int64_t *out, aipm_error *err)
{
    return st->ops->event_count(st, event, cap, out, err);
}

int aipm_store_quarantine_put(aipm_store *st, const aipm_quarantine_row *row,
                              aipm_error *err)
{
    return st->ops->quarantine_put(st, row, err);
}

int aipm_store_quarantine_list(aipm_store *st, const char *reason,
                               int64_t batch_id, int64_t limit,
                               aipm_quarantine_cb cb, void *ctx,
                               aipm_error *err)
{
    return st->ops->quarantine_list(st, reason, batch_id, limit, cb, ctx, err);
}

int aipm_store_schema_load(aipm_store *st, aipm_schema_cb cb, void *ctx,
                           aipm_error *err)
{
    return st->ops->schema_load(st, cb, ctx, err);
}

int aipm_store_schema_put(aipm_store *st, const char *event,
                          const char *property, const char *type, int version,
                          int64_t batch_id, aipm_error *err)
{
    return st->ops->schema_put(st, event, property, type, version, batch_id,
                               err);
}

int aipm_store_volume_put(aipm_store *st, const char *dataset, int64_t day,
                          int64_t batch_id, int64_t n, aipm_error *err)
{
    return st->ops->volume_put(st, dataset, day, batch_id, n, err);
}

int aipm_store_volume_mean(aipm_store *st, const char *dataset,
                           int64_t from_day, int64_t to_day, double *mean,
                           int64_t *days, aipm_error *err)
{
    return st->ops->volume_mean(st, dataset, from_day, to_day, mean, days, err);
}

int aipm_store_run_put(aipm_store *st, const aipm_run_row *run, aipm_error *err)
{
    return st->ops->run_put(st, run, err);
}

int aipm_store_run_list(aipm_store *st, aipm_run_cb cb, void *ctx,
                        aipm_error *err)
{
    return st->ops->run_list(st, cb, ctx, err);
}

int aipm_store_audit_put(aipm_store *st, const aipm_audit_row *row,
                         aipm_error *err)
{
    return st->ops->audit_put(st, row, err);
}

int aipm_store_audit_list(aipm_store *st, aipm_audit_cb cb, void *ctx,
                          aipm_error *err)
{
    return st->ops->audit_list(st, cb, ctx, err);
}

int aipm_store_audit_last(aipm_store *st, int64_t *seq, uint8_t root[32],
                          int *found, aipm_error *err)
{
    return st->ops->audit_last(st, seq, root, found, err);
}

int aipm_store_query(aipm_store *st, const char *sql, const aipm_bind *binds,
                     int n_binds, aipm_row_cb cb, void *ctx, aipm_error *err)
{
    return st->ops->query(st, sql, binds, n_binds, cb, ctx, err);
}

int aipm_store_decision_put(aipm_store *st, const aipm_decision_row *row,
                            aipm_error *err)
{
    return st->ops->decision_put(st, row, err);
}

int aipm_store_analysis_index(aipm_store *st, aipm_error *err)
{
    return st->ops->analysis_index(st, err);
}

int aipm_store_link_put(aipm_store *st, const char *feedback_id,
                        const char *item_id, const char *actor, int64_t time_ms,
                        aipm_error *err)
{
    return st->ops->link_put(st, feedback_id, item_id, actor, time_ms, err);
}
