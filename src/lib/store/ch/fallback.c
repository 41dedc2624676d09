/* fallback.c - the analyses ClickHouse does not compute itself yet.
 *
 * Each copies the events it reads (the accepted batches', or those a
 * graph read asks for) from ClickHouse into a private SQLite store in
 * $TMPDIR, in the order they were stored, and runs the SQLite backend's
 * operation there. The answer is the reference implementation's by
 * construction. The cost is the copy: made once, and kept for the next
 * such operation while the visible batches are the same (removed when the
 * store closes), so an analysis that runs several pays for one. It is
 * why the operations large data needs (an experiment's moments) are
 * computed in ClickHouse instead (ch/metrics.c), and why
 * docs/clickhouse.md lists which is which.
 */
#include "store/ch/ch_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef ch_copy copy;

typedef struct fill {
    aipm_store *st;
    int64_t batch;
    ch_buf scratch;
    aipm_error *err;
    int rc;
} fill;

static int put_row(ch_rd *r, void *ctx)
{
    fill *f = ctx;
    aipm_event_row row;
    ch_event e;
    int one;

    if (aipm_ch__read_event(r, &e) != 0)
        return CH_ROW_CUT;
    if (aipm_ch__event_row(&e, &f->scratch, &row) != 0)
        return (f->rc = aipm_error_set(f->err, AIPM_ENOMEM, "out of memory"));
    if ((f->rc = aipm_store_event_put(f->st, f->batch, &row, &one, f->err)) !=
        0)
        return f->rc;
    return 0;
}

static void copy_close(copy *c)
{
    char side[PATH_MAX + 8];

    if (c->st)
        aipm_store_close(c->st);
    c->st = NULL;
    if (c->path[0] == '\0')
        return;
    unlink(c->path);
    snprintf(side, sizeof(side), "%s-wal", c->path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", c->path);
    unlink(side);
    c->path[0] = '\0';
}

void aipm_ch__copy_drop(ch_store *s)
{
    copy_close(&s->cached);
    aipm_ch__buf_free(&s->cached.key);
    memset(&s->cached, 0, sizeof(s->cached));
}

/* The visible events (through_batch > 0: of batches up to it; since: only
 * those a graph made at *since lacks) into a new private store c; visible:
 * the visibility clause when the caller has it (NULL: read here). */
static int copy_open(aipm_store *base, int64_t through_batch,
                     const aipm_store_mark *since, const ch_buf *visible,
                     copy *c, aipm_error *err)
{
    ch_store *s = (ch_store *)base;
    const char *tmp = getenv("TMPDIR");
    fill f = {NULL, 0, {0}, err, 0};
    ch_buf q = {0};
    int fd, rc;

    memset(c, 0, sizeof(*c));
    snprintf(c->path, sizeof(c->path), "%s/aipm-ch-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if ((fd = mkstemp(c->path)) < 0) {
        c->path[0] = '\0';
        return aipm_error_set(err, AIPM_EIO,
                              "cannot make a temporary file in %s",
                              tmp && *tmp ? tmp : "/tmp");
    }
    close(fd);
    unlink(c->path);
    if ((rc = aipm_store__sqlite_open(&c->st, c->path, AIPM_STORE_CREATE,
                                      err)) != 0) {
        c->st = NULL;
        copy_close(c);
        return rc;
    }
    f.st = c->st;
    aipm_ch__putf(&q, "SELECT " CH_COLUMNS " FROM %s.events WHERE ", s->db);
    if (visible)
        aipm_ch__put(&q, visible->p, visible->n);
    else if ((rc = aipm_ch__visible(s, &q, through_batch, err)) != 0)
        goto done;
    if (since)
        aipm_ch__putf(&q, " AND batch_id > %lld AND seq > %lld",
                      (long long)since->batch, (long long)since->event_row);
    aipm_ch__puts(&q, " ORDER BY seq FORMAT RowBinary");
    if (q.oom) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = aipm_store_begin(c->st, err)) != 0 ||
        (rc = aipm_store_batch_new(c->st, &f.batch, "events", "clickhouse", "",
                                   NULL, 0, err)) != 0)
        goto done;
    rc =
        aipm_ch__run(s->conn, NULL, q.p, NULL, NULL, 0, put_row, &f, NULL, err);
    if (rc == AIPM_OK && (rc = aipm_store_batch_set_status(
                              c->st, f.batch, "accepted", err)) == AIPM_OK)
        rc = aipm_store_commit(c->st, err);
done:
    aipm_ch__buf_free(&q);
    aipm_ch__buf_free(&f.scratch);
    if (rc != AIPM_OK)
        copy_close(c);
    return rc;
}

/* The copy of every visible event into *out: the one kept from the last
 * call while the visible batches are the same, else a new one, kept. */
static int copy_visible(aipm_store *st, aipm_store **out, aipm_error *err)
{
    ch_store *s = (ch_store *)st;
    ch_buf key = {0};
    int rc;

    *out = NULL;
    if ((rc = aipm_ch__visible(s, &key, 0, err)) != 0) {
        aipm_ch__buf_free(&key);
        return rc;
    }
    if (s->cached.st == NULL || s->cached.key.n != key.n ||
        memcmp(s->cached.key.p, key.p, key.n) != 0) {
        aipm_ch__copy_drop(s);
        if ((rc = copy_open(st, 0, NULL, &key, &s->cached, err)) != 0) {
            aipm_ch__buf_free(&key);
            return rc;
        }
        s->cached.key = key;
        key.p = NULL;
    }
    aipm_ch__buf_free(&key);
    *out = s->cached.st;
    return AIPM_OK;
}

/* An operation run on the copy of every visible event: the store.h call
 * of the same name, with cst for the store. */
#define ON_COPY(CALL)                                                          \
    do {                                                                       \
        aipm_store *cst;                                                       \
        int rc_ = copy_visible(st, &cst, err);                                 \
                                                                               \
        return rc_ == AIPM_OK ? (CALL) : rc_;                                  \
    } while (0)

int aipm_ch__copy_exposure_moments(aipm_store *st, const aipm_exposure_query *q,
                                   const char *by_trait, aipm_moments_cb cb,
                                   void *ctx, aipm_error *err)
{
    ON_COPY(aipm_store_exposure_moments(cst, q, by_trait, cb, ctx, err));
}

int aipm_ch__copy_exposure_quantile(aipm_store *st,
                                    const aipm_exposure_query *q, double p,
                                    double *out, aipm_error *err)
{
    ON_COPY(aipm_store_exposure_quantile(cst, q, p, out, err));
}

int aipm_ch__copy_population_moments(aipm_store *st,
                                     const aipm_event_measure *m,
                                     int by_account, int conversion,
                                     int64_t from_ms, int64_t to_ms,
                                     aipm_unit_moments *out, aipm_error *err)
{
    ON_COPY(aipm_store_population_moments(cst, m, by_account, conversion,
                                          from_ms, to_ms, out, err));
}

int aipm_ch__kpi_activity(aipm_store *st, const aipm_periods *p,
                          aipm_period_activity *out, aipm_cohort_cb cohort,
                          void *ctx, aipm_error *err)
{
    ON_COPY(aipm_store_kpi_activity(cst, p, out, cohort, ctx, err));
}

int aipm_ch__kpi_feature_users(aipm_store *st, const aipm_periods *p,
                               const char *const *events, const int *feature_of,
                               int n_events, int n_features, double *out,
                               aipm_error *err)
{
    ON_COPY(aipm_store_kpi_feature_users(cst, p, events, feature_of, n_events,
                                         n_features, out, err));
}

int aipm_ch__kpi_conversion(aipm_store *st, const aipm_periods *p,
                            const aipm_event_measure *m, int by_account,
                            int64_t window_ms, double *first, double *converted,
                            aipm_error *err)
{
    ON_COPY(aipm_store_kpi_conversion(cst, p, m, by_account, window_ms, first,
                                      converted, err));
}

int aipm_ch__kpi_retention(aipm_store *st, const aipm_periods *p,
                           int by_account, int from_day, int to_day,
                           double *eligible, double *retained, aipm_error *err)
{
    ON_COPY(aipm_store_kpi_retention(cst, p, by_account, from_day, to_day,
                                     eligible, retained, err));
}

int aipm_ch__kpi_events(aipm_store *st, const aipm_periods *p,
                        const aipm_event_measure *m, int by_account,
                        double *count, double *sum, double *units,
                        aipm_error *err)
{
    ON_COPY(
        aipm_store_kpi_events(cst, p, m, by_account, count, sum, units, err));
}

int aipm_ch__kpi_active_accounts(aipm_store *st, const aipm_periods *p,
                                 double *out, aipm_error *err)
{
    ON_COPY(aipm_store_kpi_active_accounts(cst, p, out, err));
}

int aipm_ch__daily_active_users(aipm_store *st, aipm_daily_users_cb cb,
                                void *ctx, aipm_error *err)
{
    ON_COPY(aipm_store_daily_active_users(cst, cb, ctx, err));
}

int aipm_ch__event_daily_users(aipm_store *st, const char *const *events,
                               const char *const *labels, int n,
                               aipm_daily_users_cb cb, void *ctx,
                               aipm_error *err)
{
    ON_COPY(aipm_store_event_daily_users(cst, events, labels, n, cb, ctx, err));
}

int aipm_ch__item_daily_users(aipm_store *st, aipm_daily_users_cb cb, void *ctx,
                              aipm_error *err)
{
    ON_COPY(aipm_store_item_daily_users(cst, cb, ctx, err));
}

int aipm_ch__account_arr_plan(aipm_store *st, int64_t before_ms,
                              aipm_account_arr_plan_cb cb, void *ctx,
                              aipm_error *err)
{
    ON_COPY(aipm_store_account_arr_plan(cst, before_ms, cb, ctx, err));
}

int aipm_ch__user_event_times(aipm_store *st, aipm_user_time_cb cb, void *ctx,
                              aipm_error *err)
{
    ON_COPY(aipm_store_user_event_times(cst, cb, ctx, err));
}

int aipm_ch__user_traits(aipm_store *st, const char *trait, int64_t before_ms,
                         aipm_user_value_cb cb, void *ctx, aipm_error *err)
{
    ON_COPY(aipm_store_user_traits(cst, trait, before_ms, cb, ctx, err));
}

int aipm_ch__account_traits(aipm_store *st, const char *trait,
                            int64_t before_ms, aipm_user_value_cb cb, void *ctx,
                            aipm_error *err)
{
    ON_COPY(aipm_store_account_traits(cst, trait, before_ms, cb, ctx, err));
}

/* The graph's reads: only the rows of batches up to through_batch (and
 * after *since), all of them then. */
int aipm_ch__first_uses(aipm_store *st, int64_t through_batch,
                        const aipm_store_mark *since, aipm_first_use_cb cb,
                        void *ctx, aipm_error *err)
{
    copy c;
    int rc = copy_open(st, through_batch, since, NULL, &c, err);

    if (rc == AIPM_OK)
        rc = aipm_store_first_uses(c.st, INT64_MAX, NULL, cb, ctx, err);
    copy_close(&c);
    return rc;
}

int aipm_ch__first_memberships(aipm_store *st, int64_t through_batch,
                               const aipm_store_mark *since,
                               aipm_membership_cb cb, void *ctx,
                               aipm_error *err)
{
    copy c;
    int rc = copy_open(st, through_batch, since, NULL, &c, err);

    if (rc == AIPM_OK)
        rc = aipm_store_first_memberships(c.st, INT64_MAX, NULL, cb, ctx, err);
    copy_close(&c);
    return rc;
}
