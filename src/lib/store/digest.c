/* digest.c - the typed encoding of stored values that a batch's rows
 * digest folds (store.h, aipm_store_rows_digest; docs/storage.md), and
 * the running digests of a scan, shared by every backend so that the same
 * rows give the same digest in each. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

static void put_be64(uint8_t out[8], uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

static void tagged(aipm_sha256 *h, char tag, uint64_t v)
{
    uint8_t head[9];

    head[0] = (uint8_t)tag;
    put_be64(head + 1, v);
    aipm_sha256_update(h, head, 9);
}

void aipm_store__digest_text(aipm_sha256 *h, const char *v, size_t len)
{
    if (v == NULL) {
        aipm_sha256_update(h, "n", 1);
        return;
    }
    tagged(h, 't', (uint64_t)len);
    if (len > 0)
        aipm_sha256_update(h, v, len);
}

void aipm_store__digest_blob(aipm_sha256 *h, const void *v, size_t len)
{
    tagged(h, 'b', (uint64_t)len);
    if (len > 0)
        aipm_sha256_update(h, v, len);
}

void aipm_store__digest_int(aipm_sha256 *h, int64_t v)
{
    tagged(h, 'i', (uint64_t)v);
}

void aipm_store__digest_real(aipm_sha256 *h, double v)
{
    uint64_t bits;

    memcpy(&bits, &v, 8);
    tagged(h, 'r', bits);
}

void aipm_store__digest_null(aipm_sha256 *h)
{
    aipm_sha256_update(h, "n", 1);
}

aipm_store__batch_sum *aipm_store__sum_of(aipm_store__sums *s, int64_t id)
{
    size_t i;

    if (s->n && s->v[s->last].id == id)
        return &s->v[s->last];
    for (i = 0; i < s->n; i++)
        if (s->v[i].id == id)
            return &s->v[s->last = i];
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        aipm_store__batch_sum *v = realloc(s->v, cap * sizeof(*v));

        if (v == NULL)
            return NULL;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].id = id;
    s->v[s->n].rows = 0;
    aipm_sha256_init(&s->v[s->n].h);
    s->last = s->n;
    return &s->v[s->n++];
}

int aipm_store__sums_report(aipm_store__sums *s, int rc, aipm_rows_digest_cb cb,
                            void *ctx)
{
    size_t k;

    for (k = 0; rc == AIPM_OK && k < s->n; k++) {
        uint8_t sha[32];

        aipm_sha256_final(&s->v[k].h, sha);
        rc = cb(ctx, s->v[k].id, s->v[k].rows, sha);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
    return rc;
}

static void digest_str(aipm_sha256 *h, const char *v)
{
    aipm_store__digest_text(h, v, v ? strlen(v) : 0);
}

void aipm_store__event_sum_add(int64_t *batch, int64_t *rows, aipm_sha256 *h,
                               int64_t batch_id, const aipm_event_row *row)
{
    if (*batch != batch_id) {
        *batch = batch_id;
        *rows = 0;
        aipm_sha256_init(h);
    }
    (*rows)++;
    aipm_store__event_digest(h, row);
}

void aipm_store__event_digest(aipm_sha256 *h, const aipm_event_row *row)
{
    /* the row as it reads back, in table order, without batch_id and
     * live (store.h, aipm_store_rows_digest) */
    digest_str(h, row->message_id);
    digest_str(h, row->type);
    digest_str(h, row->user_id);
    digest_str(h, row->anonymous_id);
    digest_str(h, row->event);
    digest_str(h, row->group_id);
    aipm_store__digest_int(h, row->ts_ms);
    aipm_store__digest_text(h, row->payload, row->payload_len);
}
