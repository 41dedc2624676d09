/* link.c - feedback rows linked to backlog items (see feedback.h).
 *
 * The backlog (the newest accepted version of each item: title and
 * description) becomes a BM25 index; the corrections a string map. The
 * feedback rows then stream out of the store one by one, each scored
 * against the index and handed to the caller, so memory holds the backlog,
 * never the feedback.
 */
#include "aipm/feedback.h"
#include "aipm/audit.h"
#include "aipm/text.h"
#include "prioritize/prioritize_int.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS (1 << 22)
#define MAX_CORRECTIONS (1 << 24)

static const char items_sql[] =
    "SELECT id, title, coalesce(description, '')" AIPM_NEWEST("backlog");
static const char feedback_sql[] =
    "SELECT id, text, item_id, account_id, created_at" AIPM_NEWEST("feedback");
static const char count_sql[] = "SELECT count(DISTINCT key) FROM v_feedback";
static const char corrections_sql[] =
    "SELECT feedback_id, item_id FROM feedback_links";

typedef struct linker {
    aipm_tokenizer *tok;
    aipm_bm25 *ix;
    aipm_strmap items; /* item id -> document index */
    aipm_strmap corr;  /* feedback id -> corrections[] */
    char **corr_item;  /* by correction index; NULL: no item */
    size_t n_corr_cap;
    double threshold;
    aipm_link_cb cb;
    void *ctx;
    aipm_link_stats stats;
    int64_t total;
    const aipm_link_opts *o;
    aipm_error *err;
    int failed; /* an error was set while loading */
} linker;

const char *aipm_link_status_name(aipm_link_status s)
{
    switch (s) {
    case AIPM_LINK_GIVEN:
        return "given";
    case AIPM_LINK_LINKED:
        return "linked";
    case AIPM_LINK_REVIEW:
        return "needs_review";
    case AIPM_LINK_CORRECTED:
        return "corrected";
    }
    return "?";
}

static int add_item(void *ctx, int n, const char *const *text,
                    const double *num)
{
    linker *L = ctx;
    aipm_buf doc;
    int idx, added, rc;

    (void)num;
    if (n < 3 || text[0] == NULL)
        return 0;
    if ((rc = aipm_strmap_put(&L->items, text[0], strlen(text[0]), &idx,
                              &added)) != 0) {
        L->failed = 1;
        return aipm_error_set(L->err, rc,
                              rc == AIPM_EINVALID ? "more than %d backlog items"
                                                  : "out of memory",
                              MAX_ITEMS);
    }
    if (!added) /* the same id twice in the newest rows: keep the first */
        return 0;
    aipm_buf_init(&doc, (size_t)1 << 24);
    if (aipm_buf_printf(&doc, "%s\n%s", text[1] ? text[1] : "", text[2]) != 0) {
        aipm_buf_free(&doc);
        L->failed = 1;
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    }
    rc = aipm_bm25_add(L->ix, L->tok, doc.ptr, doc.len, L->err);
    aipm_buf_free(&doc);
    if (rc)
        L->failed = 1;
    return rc;
}

static int add_correction(void *ctx, int n, const char *const *text,
                          const double *num)
{
    linker *L = ctx;
    int idx, added, rc;

    (void)num;
    if (n < 2 || text[0] == NULL)
        return 0;
    if ((rc = aipm_strmap_put(&L->corr, text[0], strlen(text[0]), &idx,
                              &added)) != 0) {
        L->failed = 1;
        return aipm_error_set(L->err, rc, "too many feedback corrections");
    }
    if (aipm_grow(&L->corr_item, &L->n_corr_cap, (size_t)idx + 1,
                  sizeof(*L->corr_item)) != 0) {
        L->failed = 1;
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    }
    if (text[1] && (L->corr_item[idx] = strdup(text[1])) == NULL) {
        L->failed = 1;
        return aipm_error_set(L->err, AIPM_ENOMEM, "out of memory");
    }
    return 0;
}

static int count_row(void *ctx, int n, const char *const *text,
                     const double *num)
{
    (void)text;
    if (n >= 1)
        *(int64_t *)ctx = (int64_t)num[0];
    return 0;
}

/* The softmax weight of the best hit against the others and "none". */
static double confidence(const aipm_bm25_hit *hits, int k)
{
    double top = fmax(hits[0].score, AIPM_LINK_NONE_SCORE), sum;
    int i;

    sum = exp(AIPM_LINK_NONE_SCORE - top);
    for (i = 0; i < k; i++)
        sum += exp(hits[i].score - top);
    return exp(hits[0].score - top) / sum;
}

static int link_row(void *ctx, int n, const char *const *text,
                    const double *num)
{
    linker *L = ctx;
    aipm_bm25_hit hits[AIPM_LINK_TOP];
    aipm_link l;
    const char *body;
    int k, i, c, doc = -1;

    (void)num;
    if (n < 5 || text[0] == NULL)
        return 0;
    body = text[1] ? text[1] : "";
    k = aipm_bm25_query(L->ix, L->tok, body, strlen(body), hits, AIPM_LINK_TOP);
    if (k < 0)
        return aipm_error_set(L->err, k, "text index not ready");
    memset(&l, 0, sizeof(l));
    l.feedback_id = text[0];
    l.account_id = text[3];
    l.created_at = text[4];
    l.model_item = k ? L->items.keys[hits[0].doc] : NULL;
    l.confidence = k ? confidence(hits, k) : NAN;
    l.score = NAN;
    if ((c = aipm_strmap_find(&L->corr, text[0], strlen(text[0]))) >= 0) {
        l.status = AIPM_LINK_CORRECTED;
        l.item_id = L->corr_item[c];
        if (l.item_id)
            doc = aipm_strmap_find(&L->items, l.item_id, strlen(l.item_id));
        L->stats.corrected++;
    } else if (text[2] && (doc = aipm_strmap_find(&L->items, text[2],
                                                  strlen(text[2]))) >= 0) {
        l.status = AIPM_LINK_GIVEN;
        l.item_id = L->items.keys[doc];
        L->stats.given++;
    } else {
        l.status = k && l.confidence >= L->threshold ? AIPM_LINK_LINKED
                                                     : AIPM_LINK_REVIEW;
        l.item_id = l.model_item;
        doc = k ? hits[0].doc : -1;
        if (l.status == AIPM_LINK_LINKED)
            L->stats.linked++;
        else
            L->stats.review++;
    }
    /* The model's score of the linked item, when it is among its best. */
    for (i = 0; doc >= 0 && i < k; i++)
        if (hits[i].doc == doc)
            l.score = hits[i].score;
    L->stats.rows++;
    if (L->o && L->o->progress && (L->stats.rows & 4095) == 0)
        L->o->progress(L->o->progress_ctx, (uint64_t)L->stats.rows,
                       (uint64_t)L->total);
    return L->cb(L->ctx, &l);
}

static void linker_free(linker *L)
{
    int i;

    aipm_bm25_free(L->ix);
    aipm_tokenizer_free(L->tok);
    aipm_strmap_free(&L->items);
    for (i = 0; i < L->corr.n_keys && (size_t)i < L->n_corr_cap; i++)
        free(L->corr_item[i]);
    free(L->corr_item);
    aipm_strmap_free(&L->corr);
}

int aipm_feedback_links(aipm_store *st, const aipm_link_opts *o,
                        aipm_link_cb cb, void *ctx, aipm_link_stats *stats,
                        aipm_error *err)
{
    linker L;
    int rc;

    memset(&L, 0, sizeof(L));
    L.o = o;
    L.err = err;
    L.cb = cb;
    L.ctx = ctx;
    L.threshold = o && o->threshold > 0 ? o->threshold : AIPM_LINK_THRESHOLD;
    aipm_strmap_init(&L.items, MAX_ITEMS);
    aipm_strmap_init(&L.corr, MAX_CORRECTIONS);
    if ((rc = aipm_tokenizer_new(&L.tok, err)) != 0 ||
        (rc = aipm_bm25_new(&L.ix, err)) != 0)
        goto done;
    rc = aipm_store_query(st, items_sql, NULL, 0, add_item, &L, err);
    if (rc == AIPM_OK)
        rc = aipm_bm25_finish(L.ix, err);
    if (rc == AIPM_OK)
        rc = aipm_store_query(st, corrections_sql, NULL, 0, add_correction, &L,
                              err);
    if (rc == AIPM_OK && o && o->progress)
        rc = aipm_store_query(st, count_sql, NULL, 0, count_row, &L.total, err);
    L.stats.items = aipm_bm25_n_docs(L.ix);
    if (rc == AIPM_OK)
        rc = aipm_store_query(st, feedback_sql, NULL, 0, link_row, &L, err);
    if (rc == AIPM_OK && o && o->progress)
        o->progress(o->progress_ctx, (uint64_t)L.stats.rows, (uint64_t)L.total);
done:
    if (stats)
        *stats = L.stats;
    linker_free(&L);
    return rc;
}

static int exists_row(void *ctx, int n, const char *const *text,
                      const double *num)
{
    (void)n;
    (void)text;
    (void)num;
    *(int *)ctx = 1;
    return 0;
}

static int exists(aipm_store *st, const char *sql, const char *id, int *found,
                  aipm_error *err)
{
    aipm_bind b = AIPM_BIND_TEXT(id);

    *found = 0;
    return aipm_store_query(st, sql, &b, 1, exists_row, found, err);
}

int aipm_feedback_correct(aipm_store *st, const char *feedback_id,
                          const char *item_id, int unlink,
                          const char *checkpoint_path, aipm_error *err)
{
    json_t *detail = NULL;
    char *text = NULL, object[300];
    uint64_t size = 0;
    uint8_t head[32];
    int rc, found;

    if ((rc = aipm_store_begin(st, err)) != 0)
        return rc;
    rc = exists(st, "SELECT 1 FROM v_feedback WHERE id = ?1 LIMIT 1",
                feedback_id, &found, err);
    if (rc == AIPM_OK && !found)
        rc = aipm_error_set(err, AIPM_ENOTFOUND,
                            "no feedback row %s in the accepted data",
                            feedback_id);
    if (rc == AIPM_OK)
        rc = exists(st, "SELECT 1 FROM v_backlog WHERE id = ?1 LIMIT 1",
                    item_id, &found, err);
    if (rc == AIPM_OK && !found)
        rc = aipm_error_set(err, AIPM_ENOTFOUND,
                            "no backlog item %s in the accepted data", item_id);
    if (rc == AIPM_OK)
        rc = aipm_store_link_put(st, feedback_id, unlink ? NULL : item_id,
                                 aipm_audit_actor(), aipm_now_ms(), err);
    if (rc == AIPM_OK) {
        detail = json_pack("{s:s, s:s}", unlink ? "not_item" : "item", item_id,
                           "actor", aipm_audit_actor());
        text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
        if (text == NULL)
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    if (rc == AIPM_OK) {
        snprintf(object, sizeof(object), "feedback:%s", feedback_id);
        rc = aipm_audit_append(st, unlink ? "feedback.unlink" : "feedback.link",
                               object, text, &size, head, err);
    }
    /* The checkpoint is written under its lock, held across the commit. */
    if (rc == AIPM_OK)
        rc = aipm_audit_commit(st, checkpoint_path, size, head, err);
    if (rc)
        aipm_store_rollback(st);
    json_decref(detail);
    free(text);
    return rc;
}
