/* digest.c - the digest of the rows each batch stored (store.h,
 * aipm_store_rows_digest), so `audit verify --data` can tell rows edited
 * in the store from the rows an ingest wrote. */
#include "store/sqlite/sqlite_int.h"

#include <sqlite3.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>

/* The running digest of one batch. */
typedef struct batch_sum {
    int64_t id, rows;
    aipm_sha256 h;
} batch_sum;

typedef struct sums {
    batch_sum *v;
    size_t n, cap, last; /* last: the one the previous row went to */
} sums;

/* The batch's digest, made on its first row. Rows of a batch are stored
 * together, so the previous row's batch is almost always the one. */
static batch_sum *sum_of(sums *s, int64_t id)
{
    size_t i;

    if (s->n && s->v[s->last].id == id)
        return &s->v[s->last];
    for (i = 0; i < s->n; i++)
        if (s->v[i].id == id)
            return &s->v[s->last = i];
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        batch_sum *v = realloc(s->v, cap * sizeof(*v));

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

static void put_be64(uint8_t out[8], uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

void aipm_sqlite__digest_text(aipm_sha256 *h, const char *v, size_t len)
{
    uint8_t head[9];

    if (v == NULL) {
        aipm_sha256_update(h, "n", 1);
        return;
    }
    head[0] = 't';
    put_be64(head + 1, (uint64_t)len);
    aipm_sha256_update(h, head, 9);
    if (len > 0)
        aipm_sha256_update(h, v, len);
}

void aipm_sqlite__digest_int(aipm_sha256 *h, int64_t v)
{
    uint8_t head[9];

    head[0] = 'i';
    put_be64(head + 1, (uint64_t)v);
    aipm_sha256_update(h, head, 9);
}

/* Fold column i of the current row into h, tagged by its type. */
static void hash_value(aipm_sha256 *h, sqlite3_stmt *st, int i)
{
    uint8_t head[9];
    double d;
    uint64_t bits;
    int type = sqlite3_column_type(st, i);
    const void *p;
    int n;

    switch (type) {
    case SQLITE_INTEGER:
        aipm_sqlite__digest_int(h, sqlite3_column_int64(st, i));
        return;
    case SQLITE_FLOAT:
        head[0] = 'r';
        d = sqlite3_column_double(st, i);
        memcpy(&bits, &d, 8);
        put_be64(head + 1, bits);
        aipm_sha256_update(h, head, 9);
        return;
    case SQLITE_TEXT:
        p = sqlite3_column_text(st, i);
        n = sqlite3_column_bytes(st, i);
        aipm_sqlite__digest_text(h, p, (size_t)n);
        return;
    case SQLITE_BLOB:
        head[0] = 'b';
        p = sqlite3_column_blob(st, i);
        n = sqlite3_column_bytes(st, i);
        put_be64(head + 1, (uint64_t)n);
        aipm_sha256_update(h, head, 9);
        if (n > 0)
            aipm_sha256_update(h, p, (size_t)n);
        return;
    default:
        aipm_sha256_update(h, "n", 1);
    }
}

int sq_rows_digest(aipm_store *base, const char *dataset, int64_t batch_id,
                   aipm_rows_digest_cb cb, void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    const aipm_dataset_def *def = aipm_dataset_find(dataset);
    const char *table = NULL, *rowid = "rowid";
    sqlite3_stmt *st = NULL;
    sums sm = {NULL, 0, 0, 0};
    char sql[256];
    int64_t from = 0;
    int i, ncol, rc;
    size_t k;

    if (strcmp(dataset, "events") == 0)
        table = "events";
    else if (def != NULL)
        table = def->name, rowid = "rid";
    else
        return aipm_error_set(err, AIPM_EINVALID, "unknown dataset '%s'",
                              dataset);
    /* The events batch being loaded was hashed as it was inserted. */
    if (batch_id != 0 && strcmp(table, "events") == 0 &&
        s->ev_batch == batch_id) {
        aipm_sha256 h = s->ev_hash;
        uint8_t sha[32];

        aipm_sha256_final(&h, sha);
        return cb(ctx, batch_id, s->ev_rows, sha);
    }
    /* The batch being loaded: only its own rows, from its first. */
    if (batch_id != 0 && s->first_batch == batch_id)
        from = s->first_rowid;
    snprintf(sql, sizeof(sql),
             "SELECT batch_id, * FROM %s WHERE (?1 = 0 OR batch_id = ?1)"
             " AND %s >= ?2 ORDER BY %s",
             table, rowid, rowid);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    sqlite3_bind_int64(st, 1, batch_id);
    sqlite3_bind_int64(st, 2, from);
    ncol = sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        batch_sum *b = sum_of(&sm, sqlite3_column_int64(st, 0));

        if (b == NULL) {
            rc = SQLITE_NOMEM;
            break;
        }
        b->rows++;
        for (i = 1; i < ncol; i++) {
            const char *name = sqlite3_column_name(st, i);

            if (strcmp(name, "rid") == 0 || strcmp(name, "batch_id") == 0 ||
                strcmp(name, "live") == 0)
                continue;
            hash_value(&b->h, st, i);
        }
    }
    if (rc == SQLITE_NOMEM)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    else if (rc != SQLITE_DONE)
        rc = aipm_sqlite__db_error(s, err);
    else
        rc = AIPM_OK;
    sqlite3_finalize(st);
    for (k = 0; rc == AIPM_OK && k < sm.n; k++) {
        uint8_t sha[32];

        aipm_sha256_final(&sm.v[k].h, sha);
        rc = cb(ctx, sm.v[k].id, sm.v[k].rows, sha);
    }
    free(sm.v);
    return rc;
}
