/* reads.c - typed reads of the datasets for the analyses (store.h):
 * the SQL, and what "visible" means (accepted batches only, through the
 * v_* views), live here rather than in the analysis modules. */
#include "store/sqlite/sqlite_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* The newest row of each key of a dataset's view, in the order stored. */
#define NEWEST(T)                                                              \
    " FROM v_" T " WHERE rid IN (SELECT max(rid) FROM v_" T " GROUP BY key)"   \
    " ORDER BY rid"

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int backlog_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_backlog_text row = {col(st, 0), col(st, 1), col(st, 2)};

    return ((aipm_backlog_text_cb)r->cb)(r->ctx, &row);
}

int sq_backlog_texts(aipm_store *base, aipm_backlog_text_cb cb, void *ctx,
                     aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(
            s->db,
            "SELECT id, title, coalesce(description, '')" NEWEST("backlog"), -1,
            &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    return aipm_sqlite__each_row(s, st, backlog_each,
                                 &(aipm_sqlite__relay){(void (*)(void))cb, ctx},
                                 err);
}

static int feedback_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;
    aipm_feedback_text row = {col(st, 0), col(st, 1), col(st, 2), col(st, 3),
                              col(st, 4)};

    return ((aipm_feedback_text_cb)r->cb)(r->ctx, &row);
}

int sq_feedback_texts(aipm_store *base, aipm_feedback_text_cb cb, void *ctx,
                      aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, text, item_id, account_id, "
                           "created_at" NEWEST("feedback"),
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    return aipm_sqlite__each_row(s, st, feedback_each,
                                 &(aipm_sqlite__relay){(void (*)(void))cb, ctx},
                                 err);
}

int sq_feedback_count(aipm_store *base, int64_t *n, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    *n = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT count(DISTINCT key) FROM v_feedback",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    return aipm_sqlite__step_count(s, st, n, err);
}

static int link_each(sqlite3_stmt *st, void *ctx)
{
    aipm_sqlite__relay *r = ctx;

    return ((aipm_link_fix_cb)r->cb)(r->ctx, col(st, 0), col(st, 1));
}

int sq_link_list(aipm_store *base, aipm_link_fix_cb cb, void *ctx,
                 aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT feedback_id, item_id FROM feedback_links "
                           "ORDER BY time_ms, item_id",
                           -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    return aipm_sqlite__each_row(
        s, st, link_each, &(aipm_sqlite__relay){(void (*)(void))cb, ctx}, err);
}

int sq_row_visible(aipm_store *base, const char *dataset, const char *id,
                   int *found, aipm_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    const aipm_dataset_def *def = aipm_dataset_find(dataset);
    sqlite3_stmt *st = NULL;
    char sql[96];
    int rc;

    *found = 0;
    if (def == NULL)
        return aipm_error_set(err, AIPM_EINVALID, "unknown dataset '%s'",
                              dataset);
    /* def->name is one of the fixed dataset names, never input */
    snprintf(sql, sizeof(sql), "SELECT 1 FROM v_%s WHERE id = ?1 LIMIT 1",
             def->name);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return aipm_sqlite__db_error(s, err);
    aipm_sqlite__bind_text(st, 1, id);
    rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? AIPM_OK
                                               : aipm_sqlite__db_error(s, err);
    sqlite3_finalize(st);
    return rc;
}
