/* digest.c - the digest of the rows each batch stored (store.h,
 * aipm_store_rows_digest), so `audit verify --data` can tell rows edited
 * in the store from the rows an ingest wrote. */
#include "store/sqlite/sqlite_int.h"

#include <sqlite3.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>

/* Fold column i of the current row into h, tagged by its type. */
static void hash_value(aipm_sha256 *h, sqlite3_stmt *st, int i)
{
    const void *p;
    int n;

    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        aipm_store__digest_int(h, sqlite3_column_int64(st, i));
        return;
    case SQLITE_FLOAT:
        aipm_store__digest_real(h, sqlite3_column_double(st, i));
        return;
    case SQLITE_TEXT:
        p = sqlite3_column_text(st, i);
        n = sqlite3_column_bytes(st, i);
        aipm_store__digest_text(h, p, (size_t)n);
        return;
    case SQLITE_BLOB:
        p = sqlite3_column_blob(st, i);
        n = sqlite3_column_bytes(st, i);
        aipm_store__digest_blob(h, p, (size_t)n);
        return;
    default:
        aipm_store__digest_null(h);
    }
}

int sq_rows_digest(aipm_store *base, const char *dataset, int64_t batch_id,
                   aipm_rows_digest_cb cb, void *ctx, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    const aipm_dataset_def *def = aipm_dataset_find(dataset);
    const char *table = NULL, *rowid = "rowid";
    sqlite3_stmt *st = NULL;
    aipm_store__sums sm = {NULL, 0, 0, 0};
    char sql[256];
    int64_t from = 0;
    int i, ncol, rc;

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
        aipm_store__batch_sum *b =
            aipm_store__sum_of(&sm, sqlite3_column_int64(st, 0));

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
    return aipm_store__sums_report(&sm, rc, cb, ctx);
}
