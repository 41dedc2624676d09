/* replay.c - run a decision record's analysis again on the data it read
 * (decision.h, aipm_decision_replay). */
#include "aipm/decision.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The record, copied out of the store's callback. */
typedef struct rec {
    int found;
    aipm_decision_row row;
    char *strs[12];
} rec;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int take_record(void *ctx, const aipm_decision_row *r)
{
    rec *c = ctx;
    const char **dst[] = {&c->row.id,
                          &c->row.kind,
                          &c->row.subject,
                          &c->row.decision,
                          &c->row.inputs,
                          &c->row.params,
                          &c->row.output_sha256,
                          &c->row.output,
                          &c->row.status,
                          &c->row.model,
                          &c->row.code_version,
                          &c->row.policy_sha256};
    const char *src[] = {
        r->id,     r->kind,   r->subject,       r->decision,
        r->inputs, r->params, r->output_sha256, r->output,
        r->status, r->model,  r->code_version,  r->policy_sha256};
    size_t i;

    c->found = 1;
    c->row = *r;
    c->row.rationale = NULL;
    for (i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
        c->strs[i] = dup_or_null(src[i]);
        if (src[i] && c->strs[i] == NULL)
            return AIPM_ENOMEM;
        *dst[i] = c->strs[i];
    }
    return 0;
}

static void rec_free(rec *c)
{
    size_t i;

    for (i = 0; i < sizeof(c->strs) / sizeof(c->strs[0]); i++)
        free(c->strs[i]);
}

/* ---- the batches the record read ---- */

static int collect_batch(void *ctx, const aipm_batch_info *b)
{
    json_t *arr = ctx;

    json_array_append_new(arr, json_pack("{s:I, s:s}", "id", (json_int_t)b->id,
                                         "status", b->status));
    return 0;
}

static int take_digest(void *ctx, int64_t id, int64_t rows,
                       const uint8_t sha[32])
{
    (void)id;
    (void)rows;
    aipm_hex(ctx, sha, 32);
    return 0;
}

/* Make the dataset's accepted batches exactly the recorded ones, and
 * check each recorded one's rows against its digest. */
static int restore_dataset(aipm_store *st, const char *ds, json_t *recorded,
                           aipm_replay_result *res, aipm_error *err)
{
    json_t *now = json_array(), *wanted = json_object(), *v;
    size_t i;
    int rc = AIPM_OK;

    if (now == NULL || wanted == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    json_array_foreach(recorded, i, v)
    {
        /* {"id", "rows_sha256"}, or a bare id in records made before the
         * digests */
        json_int_t id = json_is_integer(v)
                            ? json_integer_value(v)
                            : json_integer_value(json_object_get(v, "id"));
        const char *want = json_string_value(json_object_get(v, "rows_sha256"));
        char key[32], got[65];

        snprintf(key, sizeof(key), "%lld", (long long)id);
        json_object_set_new(wanted, key, json_true());
        if (want == NULL)
            continue;
        {
            uint8_t d[32];

            aipm_sha256_oneshot(d, "", 0);
            aipm_hex(got, d, 32);
        }
        if ((rc = aipm_store_rows_digest(st, ds, id, take_digest, got, err)) !=
            AIPM_OK)
            goto done;
        if (strcmp(got, want) != 0 && res->inputs_changed++ == 0)
            snprintf(res->changed, sizeof(res->changed), "%s batch %lld", ds,
                     (long long)id);
    }
    if ((rc = aipm_store_batch_list(st, ds, 0, collect_batch, now, err)) !=
        AIPM_OK)
        goto done;
    json_array_foreach(now, i, v)
    {
        json_int_t id = json_integer_value(json_object_get(v, "id"));
        const char *status = json_string_value(json_object_get(v, "status"));
        char key[32];
        int in;

        snprintf(key, sizeof(key), "%lld", (long long)id);
        in = json_object_get(wanted, key) != NULL;
        if (in && strcmp(status, "accepted") != 0)
            rc = aipm_store_batch_set_status(st, id, "accepted", err);
        else if (!in && strcmp(status, "accepted") == 0)
            rc = aipm_store_batch_set_status(st, id, "staged", err);
        if (rc != AIPM_OK)
            goto done;
    }
done:
    json_decref(now);
    json_decref(wanted);
    return rc;
}

/* ---- where two outputs differ ---- */

static int first_diff(const json_t *a, const json_t *b, char *path, size_t plen,
                      size_t cap, char *out, size_t outsz)
{
    if (b == NULL || (json_typeof(a) != json_typeof(b) &&
                      !(json_is_number(a) && json_is_number(b))))
        goto differ;
    if (json_is_object(a)) {
        const char *k;
        json_t *v;

        json_object_foreach((json_t *)a, k, v)
        {
            int n =
                snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", k);
            size_t l = n < 0 ? plen : plen + (size_t)n;

            if (l >= cap)
                l = cap - 1;
            if (first_diff(v, json_object_get(b, k), path, l, cap, out, outsz))
                return 1;
            path[plen] = '\0';
        }
        json_object_foreach((json_t *)b, k, v)
        {
            if (json_object_get(a, k) == NULL) {
                snprintf(out, outsz, "%s%s%s: new in the replay", path,
                         plen ? "." : "", k);
                return 1;
            }
        }
        return 0;
    }
    if (json_is_array(a)) {
        size_t i;

        if (json_array_size(a) != json_array_size(b)) {
            snprintf(out, outsz, "%s: %zu elements then %zu",
                     plen ? path : "(output)", json_array_size(a),
                     json_array_size(b));
            return 1;
        }
        for (i = 0; i < json_array_size(a); i++) {
            int n = snprintf(path + plen, cap - plen, "[%zu]", i);
            size_t l = n < 0 ? plen : plen + (size_t)n;

            if (l >= cap)
                l = cap - 1;
            if (first_diff(json_array_get(a, i), json_array_get(b, i), path, l,
                           cap, out, outsz))
                return 1;
            path[plen] = '\0';
        }
        return 0;
    }
    if (json_equal((json_t *)a, (json_t *)b) ||
        (json_is_number(a) && json_is_number(b) &&
         json_number_value(a) == json_number_value(b)))
        return 0;
differ : {
    char *x = b ? json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    char *y = b ? json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

    if (b == NULL)
        snprintf(out, outsz, "%s: missing in the replay",
                 plen ? path : "(output)");
    else
        snprintf(out, outsz, "%s: %.60s then %.60s", plen ? path : "(output)",
                 x ? x : "?", y ? y : "?");
    free(x);
    free(y);
    return 1;
}
}

int aipm_decision_replay(aipm_store *st, const char *id, const aipm_config *cfg,
                         aipm_replay_fn run, void *ctx, aipm_replay_result *res,
                         json_t **doc_out, aipm_error *err)
{
    aipm_decision_filter f = {id, NULL, NULL, 1};
    json_error_t jerr;
    json_t *inputs = NULL, *doc = NULL, *old = NULL, *v;
    const char *key;
    char *text = NULL, path[256] = "";
    rec c;
    int rc;

    memset(res, 0, sizeof(*res));
    memset(&c, 0, sizeof(c));
    if (doc_out)
        *doc_out = NULL;
    if ((rc = aipm_store_decision_list(st, &f, take_record, &c, err)) != 0)
        goto done;
    if (!c.found) {
        rc = aipm_error_set(err, AIPM_ENOTFOUND, "no decision %s", id);
        goto done;
    }
    snprintf(res->recorded, sizeof(res->recorded), "%s", c.row.output_sha256);
    res->code_differs = c.row.code_version &&
                        strcmp(c.row.code_version, aipm_code_version()) != 0;
    if (cfg && c.row.policy_sha256) {
        char sha[65];

        aipm_config_policy_sha256(cfg, sha);
        res->policy_differs = strcmp(sha, c.row.policy_sha256) != 0;
    }
    inputs = c.row.inputs ? json_loads(c.row.inputs, 0, &jerr) : json_object();
    if (inputs == NULL) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "decision %s: its inputs are not JSON", id);
        goto done;
    }
    /* Everything below is undone: the store is as it was. */
    if ((rc = aipm_store_begin(st, err)) != AIPM_OK)
        goto done;
    json_object_foreach(inputs, key, v)
    {
        char ds[32];
        size_t n = strlen(key);

        if (n < 9 || strcmp(key + n - 8, "_batches") != 0 || n - 8 >= 32)
            continue;
        memcpy(ds, key, n - 8);
        ds[n - 8] = '\0';
        if ((rc = restore_dataset(st, ds, v, res, err)) != AIPM_OK)
            break;
    }
    if (rc == AIPM_OK)
        rc = run(ctx, &c.row, &doc, err);
    aipm_store_rollback(st);
    if (rc != AIPM_OK)
        goto done;
    text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    aipm_decision_digest(text, res->digest);
    res->matches = strcmp(res->digest, c.row.output_sha256) == 0;
    if (!res->matches) {
        old = c.row.output ? json_loads(c.row.output, 0, &jerr) : NULL;
        if (old == NULL)
            snprintf(res->first_diff, sizeof(res->first_diff),
                     "the record's output is not stored");
        else if (!first_diff(old, doc, path, 0, sizeof(path), res->first_diff,
                             sizeof(res->first_diff)))
            snprintf(res->first_diff, sizeof(res->first_diff),
                     "the stored output no longer hashes to its digest");
    }
    if (doc_out) {
        *doc_out = doc;
        doc = NULL;
    }
done:
    json_decref(inputs);
    json_decref(doc);
    json_decref(old);
    free(text);
    rec_free(&c);
    return rc;
}
