/* copy.c - bulk event ingest for the PostgreSQL backend: the rows of a
 * block go to a per-connection staging table by COPY (text format), then
 * into events by one INSERT ... SELECT in the rows' order, which skips the
 * duplicates (of stored rows, or of an earlier row of the block) and
 * returns the message ids it stored. Three round trips a block instead of
 * one a row; the outcome is that of event_put row by row. */
#include "store/pg/pg_int.h"

#include <stdlib.h>
#include <string.h>

/* Append v to b escaped for COPY's text format (NULL as \N). */
static int put_field(aipm_buf *b, const char *v, size_t len, int last)
{
    size_t i, start = 0;
    int rc = AIPM_OK;

    if (v == NULL)
        rc = aipm_buf_put(b, "\\N", 2);
    for (i = 0; v && rc == AIPM_OK && i < len; i++) {
        const char *esc = v[i] == '\\'   ? "\\\\"
                          : v[i] == '\n' ? "\\n"
                          : v[i] == '\r' ? "\\r"
                          : v[i] == '\t' ? "\\t"
                                         : NULL;

        if (esc == NULL)
            continue;
        if ((rc = aipm_buf_put(b, v + start, i - start)) == AIPM_OK)
            rc = aipm_buf_put(b, esc, 2);
        start = i + 1;
    }
    if (v && rc == AIPM_OK)
        rc = aipm_buf_put(b, v + start, len - start);
    if (rc == AIPM_OK)
        rc = aipm_buf_put(b, last ? "\n" : "\t", 1);
    return rc;
}

static int put_str(aipm_buf *b, const char *v)
{
    return put_field(b, v, v ? strlen(v) : 0, 0);
}

static int copy_rows(pg_store *s, const aipm_event_row *rows, size_t n,
                     aipm_error *err)
{
    PGresult *r;
    aipm_buf b;
    size_t i;
    int rc = AIPM_OK;

    r = PQexec(s->conn, "COPY ev_stage FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        rc = aipm_pg__error(s, r, err);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    aipm_buf_init(&b, (size_t)1 << 30);
    for (i = 0; rc == AIPM_OK && i < n; i++) {
        const aipm_event_row *e = &rows[i];
        char num[64];

        snprintf(num, sizeof(num), "%zu\t", i);
        rc = aipm_buf_puts(&b, num);
        if (rc == AIPM_OK)
            rc = put_str(&b, e->message_id);
        if (rc == AIPM_OK)
            rc = put_str(&b, e->type);
        if (rc == AIPM_OK)
            rc = put_str(&b, e->user_id);
        if (rc == AIPM_OK)
            rc = put_str(&b, e->anonymous_id);
        if (rc == AIPM_OK)
            rc = put_str(&b, e->event);
        if (rc == AIPM_OK)
            rc = put_str(&b, e->group_id);
        snprintf(num, sizeof(num), "%lld\t", (long long)e->ts_ms);
        if (rc == AIPM_OK)
            rc = aipm_buf_puts(&b, num);
        if (rc == AIPM_OK)
            rc = put_field(&b, e->payload, e->payload_len, 1);
        /* send in pieces of about 1 MB */
        if (rc == AIPM_OK && (b.len >= (1 << 20) || i + 1 == n)) {
            if (PQputCopyData(s->conn, b.ptr, (int)b.len) != 1)
                rc = AIPM_EIO;
            b.len = 0;
        }
    }
    aipm_buf_free(&b);
    if (PQputCopyEnd(s->conn, rc == AIPM_OK ? NULL : "aipm: cancelled") != 1)
        rc = rc ? rc : AIPM_EIO;
    while ((r = PQgetResult(s->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == AIPM_OK)
            rc = aipm_pg__error(s, r, err);
        PQclear(r);
    }
    if (rc == AIPM_ENOMEM)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if (rc == AIPM_EIO)
        return aipm_pg__error(s, NULL, err);
    return rc;
}

static int stored_id(PGresult *r, void *ctx)
{
    const char *id = aipm_pg__col(r, 0);
    int idx, added;

    if (id == NULL)
        return 0;
    return aipm_strmap_put(ctx, id, strlen(id), &idx, &added) == AIPM_OK
               ? 0
               : AIPM_ENOMEM;
}

int pg_event_put_many(aipm_store *base, int64_t batch_id,
                      const aipm_event_row *rows, size_t n,
                      unsigned char *inserted, aipm_error *err)
{
    pg_store *s = (pg_store *)base;
    aipm_strmap ids;
    unsigned char *claimed = NULL;
    pg_params p = {0};
    size_t i;
    int rc;

    if (n == 0)
        return AIPM_OK;
    if (n > (size_t)1 << 30)
        return aipm_error_set(err, AIPM_EINVALID, "too many rows at once");
    rc = aipm_pg__exec(s, "TRUNCATE ev_stage", NULL, NULL, err);
    if (rc == AIPM_OK)
        rc = copy_rows(s, rows, n, err);
    if (rc != AIPM_OK)
        return rc;
    aipm_strmap_init(&ids, (int)n + 1);
    aipm_pg__int(&p, batch_id);
    rc = aipm_pg__rows(s,
                       "INSERT INTO events(message_id, batch_id, type,"
                       " user_id, anonymous_id, event, group_id, ts,"
                       " payload) SELECT message_id, $1, type, user_id,"
                       " anonymous_id, event, group_id, ts, payload FROM"
                       " ev_stage ORDER BY seq ON CONFLICT (message_id)"
                       " WHERE live = 1 DO NOTHING RETURNING message_id",
                       &p, stored_id, &ids, err);
    if (rc == AIPM_ENOMEM ||
        (rc == AIPM_OK && (claimed = calloc(n, 1)) == NULL))
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    /* The first row with a stored id is the one stored; later rows with
     * it were duplicates within the block. */
    for (i = 0; rc == AIPM_OK && i < n; i++) {
        const aipm_event_row *e = &rows[i];
        int k = e->message_id ? aipm_strmap_find(&ids, e->message_id,
                                                 strlen(e->message_id))
                              : -1;

        inserted[i] = k >= 0 && !claimed[k];
        if (!inserted[i])
            continue;
        claimed[k] = 1;
        s->tx_events++;
        aipm_store__event_sum_add(&s->ev_batch, &s->ev_rows, &s->ev_hash,
                                  batch_id, e);
    }
    free(claimed);
    aipm_strmap_free(&ids);
    return rc;
}
