/* reads.c - typed reads of the datasets for the analyses, and the rows
 * digests, in PostgreSQL's dialect (the semantics of sqlite/reads.c and
 * sqlite/digest.c: accepted batches only through the v_* views; a digest
 * folds each column by its type, in insertion order). */
#include "store/pg/pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RELAY(cb, ctx) (&(aipm_pg__relay){(void (*)(void))(cb), (ctx)})

/* The newest row of each key of a dataset's view, in the order stored. */
#define NEWEST(T)                                                              \
    " FROM v_" T " WHERE rid IN (SELECT max(rid) FROM v_" T " GROUP BY key)"   \
    " ORDER BY rid"

static int backlog_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_backlog_text row = {aipm_pg__col(r, 0), aipm_pg__col(r, 1),
                             aipm_pg__col(r, 2)};

    return ((aipm_backlog_text_cb)rl->cb)(rl->ctx, &row);
}

int pg_backlog_texts(aipm_store *base, aipm_backlog_text_cb cb, void *ctx,
                     aipm_error *err)
{
    return aipm_pg__each_row(
        (pg_store *)base,
        "SELECT id, title, coalesce(description, '')" NEWEST("backlog"), NULL,
        backlog_each, RELAY(cb, ctx), err);
}

static int feedback_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_feedback_text row = {aipm_pg__col(r, 0), aipm_pg__col(r, 1),
                              aipm_pg__col(r, 2), aipm_pg__col(r, 3),
                              aipm_pg__col(r, 4)};

    return ((aipm_feedback_text_cb)rl->cb)(rl->ctx, &row);
}

int pg_feedback_texts(aipm_store *base, aipm_feedback_text_cb cb, void *ctx,
                      aipm_error *err)
{
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT id, text, item_id, account_id,"
                             " created_at" NEWEST("feedback"),
                             NULL, feedback_each, RELAY(cb, ctx), err);
}

int pg_feedback_count(aipm_store *base, int64_t *n, aipm_error *err)
{
    return aipm_pg__int64((pg_store *)base,
                          "SELECT count(DISTINCT key) FROM v_feedback", NULL, n,
                          err);
}

static int link_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;

    return ((aipm_link_fix_cb)rl->cb)(rl->ctx, aipm_pg__col(r, 0),
                                      aipm_pg__col(r, 1));
}

int pg_link_list(aipm_store *base, aipm_link_fix_cb cb, void *ctx,
                 aipm_error *err)
{
    return aipm_pg__each_row((pg_store *)base,
                             "SELECT feedback_id, item_id FROM feedback_links"
                             " ORDER BY time_ms, item_id COLLATE \"C\"",
                             NULL, link_each, RELAY(cb, ctx), err);
}

int pg_row_visible(aipm_store *base, const char *dataset, const char *id,
                   int *found, aipm_error *err)
{
    const aipm_dataset_def *def = aipm_dataset_find(dataset);
    pg_params p = {0};
    int64_t n = 0;
    char sql[96];
    int rc;

    *found = 0;
    if (def == NULL)
        return aipm_error_set(err, AIPM_EINVALID, "unknown dataset '%s'",
                              dataset);
    /* def->name is one of the fixed dataset names, never input */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM (SELECT 1 FROM v_%s WHERE id = $1"
             " LIMIT 1) x",
             def->name);
    aipm_pg__text(&p, id);
    rc = aipm_pg__int64((pg_store *)base, sql, &p, &n, err);
    *found = n > 0;
    return rc;
}

/* ---- rows digests ---- */

typedef struct scan {
    aipm_store__sums sums;
    const aipm_dataset_def *def; /* NULL: events */
    int oom;
} scan;

/* Fold a column read as text by the type its table gives it: integer,
 * real (PostgreSQL prints a double in the shortest form that reads back
 * exactly), or text. */
static void fold(aipm_sha256 *h, PGresult *r, int col, char type)
{
    const char *v = aipm_pg__col(r, col);

    if (v == NULL)
        aipm_store__digest_null(h);
    else if (type == 'i')
        aipm_store__digest_int(h, strtoll(v, NULL, 10));
    else if (type == 'r')
        aipm_store__digest_real(h, strtod(v, NULL));
    else
        aipm_store__digest_text(h, v, aipm_pg__col_len(r, col));
}

static int digest_row(PGresult *r, void *ctx)
{
    /* events: message_id, type, user_id, anonymous_id, event, group_id,
     * ts, payload */
    static const char event_types[] = "ttttttit";
    scan *sc = ctx;
    aipm_store__batch_sum *b =
        aipm_store__sum_of(&sc->sums, aipm_pg__col_int(r, 0));
    int i, n = PQnfields(r);

    if (b == NULL) {
        sc->oom = 1;
        return AIPM_ENOMEM;
    }
    b->rows++;
    /* key and row_sha come before the contract's columns (table order) */
    for (i = 1; i < n; i++)
        fold(&b->h, r, i,
             sc->def == NULL                                ? event_types[i - 1]
             : i < 3                                        ? 't'
             : sc->def->cols[i - 3].type == AIPM_COL_NUMBER ? 'r'
                                                            : 't');
    return 0;
}

int pg_rows_digest(aipm_store *base, const char *dataset, int64_t batch_id,
                   aipm_rows_digest_cb cb, void *ctx, aipm_error *err)
{
    pg_store *s = (pg_store *)base;
    const aipm_dataset_def *def = aipm_dataset_find(dataset);
    scan sc;
    pg_params p = {0};
    char sql[2048];
    size_t n;
    int i, rc;

    memset(&sc, 0, sizeof(sc));
    if (strcmp(dataset, "events") == 0) {
        def = NULL;
        /* The events batch being loaded was hashed as it was inserted. */
        if (batch_id != 0 && s->ev_batch == batch_id) {
            aipm_sha256 h = s->ev_hash;
            uint8_t sha[32];

            aipm_sha256_final(&h, sha);
            return cb(ctx, batch_id, s->ev_rows, sha);
        }
        n = (size_t)snprintf(sql, sizeof(sql),
                             "SELECT batch_id, message_id, type, user_id,"
                             " anonymous_id, event, group_id, ts, payload"
                             " FROM events");
    } else if (def != NULL) {
        n = (size_t)snprintf(sql, sizeof(sql), "SELECT batch_id, key, row_sha");
        for (i = 0; n < sizeof(sql) && i < def->n_cols; i++)
            n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", \"%s\"",
                                  def->cols[i].name);
        if (n < sizeof(sql))
            n += (size_t)snprintf(sql + n, sizeof(sql) - n, " FROM %s",
                                  def->name);
    } else {
        return aipm_error_set(err, AIPM_EINVALID, "unknown dataset '%s'",
                              dataset);
    }
    if (n < sizeof(sql))
        n += (size_t)snprintf(sql + n, sizeof(sql) - n,
                              " WHERE ($1 = 0 OR batch_id = $1) ORDER BY rid");
    if (n >= sizeof(sql))
        return aipm_error_set(err, AIPM_ERROR, "dataset '%s': too many columns",
                              dataset);
    sc.def = def;
    aipm_pg__int(&p, batch_id);
    rc = aipm_pg__each_row(s, sql, &p, digest_row, &sc, err);
    if (sc.oom)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    return aipm_store__sums_report(&sc.sums, rc, cb, ctx);
}
