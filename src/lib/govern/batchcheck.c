/* batchcheck.c - dataset batches against the audit log (decision.h,
 * aipm_batch_verify). */
#include "aipm/audit.h"
#include "aipm/decision.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bctx {
    aipm_batch_check *out;
    aipm_decision_problem_fn fn;
    void *ctx;
    json_t *logged; /* "batch:N" -> {"dataset", "status", "rows_sha256"} */
} bctx;

static void bproblem(bctx *b, const char *object, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void bproblem(bctx *b, const char *object, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    b->out->bad++;
    if (b->fn)
        b->fn(b->ctx, object, msg);
}

/* ingest: a batch and its rows' digest; accept, reject, revert: its new
 * status. */
static int read_entry(void *ctx, const aipm_audit_row *r)
{
    bctx *b = ctx;
    json_error_t jerr;
    json_t *e = json_loadb(r->entry, r->entry_len, 0, &jerr), *d, *o;
    const char *action = json_string_value(json_object_get(e, "action"));
    const char *object = json_string_value(json_object_get(e, "object"));

    if (action == NULL || object == NULL || strncmp(object, "batch:", 6)) {
        json_decref(e);
        return 0;
    }
    d = json_object_get(e, "detail");
    if (strcmp(action, "ingest") == 0) {
        o = json_pack("{s:O?, s:O?, s:O?}", "dataset",
                      json_object_get(d, "dataset"), "status",
                      json_object_get(d, "status"), "rows_sha256",
                      json_object_get(d, "rows_sha256"));
        json_object_set_new(b->logged, object, o);
    } else if (strcmp(action, "accept") == 0 || strcmp(action, "reject") == 0 ||
               strcmp(action, "revert") == 0) {
        o = json_object_get(b->logged, object);
        if (o)
            json_object_set(o, "status", json_object_get(d, "to"));
    }
    json_decref(e);
    return 0;
}

static int check_batch(void *ctx, const aipm_batch_info *info)
{
    bctx *b = ctx;
    char object[32];
    json_t *o;
    const char *status;

    snprintf(object, sizeof(object), "batch:%lld", (long long)info->id);
    o = json_object_get(b->logged, object);
    status = json_string_value(json_object_get(o, "status"));
    b->out->batches++;
    if (o == NULL)
        bproblem(b, object,
                 "no ingest entry in the log records it (added "
                 "outside aipm)");
    else if (status == NULL || strcmp(status, info->status) != 0)
        bproblem(b, object, "status %s in the store, %s by the log",
                 info->status, status ? status : "unknown");
    if (o)
        json_object_set_new(o, "seen", json_true());
    return 0;
}

static int check_digest(void *ctx, int64_t id, int64_t rows,
                        const uint8_t sha[32])
{
    bctx *b = ctx;
    char object[32], hex[65];
    json_t *o;
    const char *want;

    snprintf(object, sizeof(object), "batch:%lld", (long long)id);
    o = json_object_get(b->logged, object);
    want = json_string_value(json_object_get(o, "rows_sha256"));
    b->out->rows += rows;
    if (o == NULL) {
        bproblem(b, object,
                 "%lld stored rows of a batch no ingest entry "
                 "records",
                 (long long)rows);
        return 0;
    }
    json_object_set_new(o, "hashed", json_true());
    if (want == NULL)
        return 0; /* ingested before rows were hashed */
    aipm_hex(hex, sha, 32);
    if (strcmp(hex, want) != 0)
        bproblem(b, object,
                 "its %lld stored rows do not hash to the rows_sha256 its "
                 "ingest entry holds (rows were edited, added or deleted "
                 "in the store)",
                 (long long)rows);
    return 0;
}

int aipm_batch_verify(aipm_store *st, aipm_batch_check *out,
                      aipm_decision_problem_fn fn, void *ctx, aipm_error *err)
{
    bctx b;
    json_t *datasets = json_object(), *o;
    const char *key;
    char empty[65];
    uint8_t sha[32];
    int rc;

    memset(out, 0, sizeof(*out));
    b.out = out;
    b.fn = fn;
    b.ctx = ctx;
    b.logged = json_object();
    if (b.logged == NULL || datasets == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = aipm_store_audit_list(st, read_entry, &b, err)) != AIPM_OK ||
        (rc = aipm_store_batch_list(st, NULL, 0, check_batch, &b, err)) !=
            AIPM_OK)
        goto done;
    /* One scan of each dataset whose batches have a rows digest. */
    json_object_foreach(b.logged, key, o)
    {
        const char *ds = json_string_value(json_object_get(o, "dataset"));

        if (!json_object_get(o, "seen"))
            bproblem(&b, key, "in the log but not in the store (deleted)");
        if (json_object_get(o, "rows_sha256") && ds)
            json_object_set_new(datasets, ds, json_true());
        else
            out->not_hashed++;
    }
    json_object_foreach(datasets, key, o)
    {
        if ((rc = aipm_store_rows_digest(st, key, 0, check_digest, &b, err)) !=
            AIPM_OK)
            goto done;
    }
    /* A batch with a digest and no rows left: only right if it had none. */
    aipm_sha256_oneshot(sha, "", 0);
    aipm_hex(empty, sha, 32);
    json_object_foreach(b.logged, key, o)
    {
        const char *want = json_string_value(json_object_get(o, "rows_sha256"));

        if (want && !json_object_get(o, "hashed") && strcmp(want, empty) != 0)
            bproblem(&b, key, "its rows are gone from the store (deleted)");
    }
done:
    json_decref(b.logged);
    json_decref(datasets);
    return rc;
}
