/* fallback.c - the analyses ClickHouse does not compute itself yet.
 *
 * Each copies the events it reads (the accepted batches', or those a
 * graph read asks for) from ClickHouse into a private SQLite store in
 * $TMPDIR, in the order they were stored, runs the SQLite backend's
 * operation there, and removes the copy. The answer is the reference
 * implementation's by construction; the cost is a copy of the events per
 * call, which is why the operations large data needs (an experiment's
 * moments) are computed in ClickHouse instead (ch/metrics.c), and why
 * docs/clickhouse.md lists which is which.
 */
#include "store/ch/ch_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct copy {
    aipm_store *st;
    char path[PATH_MAX];
} copy;

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
        return -1;
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

/* The visible events (through_batch > 0: of batches up to it; since: only
 * those a graph made at *since lacks) into a new private store c. */
static int copy_open(aipm_store *base, int64_t through_batch,
                     const aipm_store_mark *since, copy *c, aipm_error *err)
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
    if ((rc = aipm_ch__visible(s, &q, through_batch, err)) != 0)
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

/* An operation run on the copy of every visible event: the store.h call
 * of the same name, with c.st for the store. */
#define ON_COPY(CALL)                                                          \
    do {                                                                       \
        copy c;                                                                \
        int rc_ = copy_open(st, 0, NULL, &c, err);                             \
                                                                               \
        if (rc_ == AIPM_OK)                                                    \
            rc_ = CALL;                                                        \
        copy_close(&c);                                                        \
        return rc_;                                                            \
    } while (0)

int aipm_ch__copy_exposure_moments(aipm_store *st, const aipm_exposure_query *q,
                                   const char *by_trait, aipm_moments_cb cb,
                                   void *ctx, aipm_error *err)
{
    ON_COPY(aipm_store_exposure_moments(c.st, q, by_trait, cb, ctx, err));
}

int aipm_ch__copy_exposure_quantile(aipm_store *st,
                                    const aipm_exposure_query *q, double p,
                                    double *out, aipm_error *err)
{
    ON_COPY(aipm_store_exposure_quantile(c.st, q, p, out, err));
}

int aipm_ch__copy_population_moments(aipm_store *st,
                                     const aipm_event_measure *m,
                                     int by_account, int conversion,
                                     int64_t from_ms, int64_t to_ms,
                                     aipm_unit_moments *out, aipm_error *err)
{
    ON_COPY(aipm_store_population_moments(c.st, m, by_account, conversion,
                                          from_ms, to_ms, out, err));
}

int aipm_ch__kpi_activity(aipm_store *st, const aipm_periods *p,
                          aipm_period_activity *out, aipm_cohort_cb cohort,
                          void *ctx, aipm_error *err)
{
    ON_COPY(aipm_store_kpi_activity(c.st, p, out, cohort, ctx, err));
}

int aipm_ch__kpi_feature_users(aipm_store *st, const aipm_periods *p,
                               const char *const *events, const int *feature_of,
                               int n_events, int n_features, double *out,
                               aipm_error *err)
{
    ON_COPY(aipm_store_kpi_feature_users(c.st, p, events, feature_of, n_events,
                                         n_features, out, err));
}

int aipm_ch__kpi_conversion(aipm_store *st, const aipm_periods *p,
                            const aipm_event_measure *m, int by_account,
                            int64_t window_ms, double *first, double *converted,
                            aipm_error *err)
{
    ON_COPY(aipm_store_kpi_conversion(c.st, p, m, by_account, window_ms, first,
                                      converted, err));
}

int aipm_ch__kpi_retention(aipm_store *st, const aipm_periods *p,
                           int by_account, int from_day, int to_day,
                           double *eligible, double *retained, aipm_error *err)
{
    ON_COPY(aipm_store_kpi_retention(c.st, p, by_account, from_day, to_day,
                                     eligible, retained, err));
}

int aipm_ch__kpi_events(aipm_store *st, const aipm_periods *p,
                        const aipm_event_measure *m, int by_account,
                        double *count, double *sum, double *units,
                        aipm_error *err)
{
    ON_COPY(
        aipm_store_kpi_events(c.st, p, m, by_account, count, sum, units, err));
}

int aipm_ch__kpi_active_accounts(aipm_store *st, const aipm_periods *p,
                                 double *out, aipm_error *err)
{
    ON_COPY(aipm_store_kpi_active_accounts(c.st, p, out, err));
}

int aipm_ch__daily_active_users(aipm_store *st, aipm_daily_users_cb cb,
                                void *ctx, aipm_error *err)
{
    ON_COPY(aipm_store_daily_active_users(c.st, cb, ctx, err));
}

int aipm_ch__event_daily_users(aipm_store *st, const char *const *events,
                               const char *const *labels, int n,
                               aipm_daily_users_cb cb, void *ctx,
                               aipm_error *err)
{
    ON_COPY(
        aipm_store_event_daily_users(c.st, events, labels, n, cb, ctx, err));
}

int aipm_ch__item_daily_users(aipm_store *st, aipm_daily_users_cb cb, void *ctx,
                              aipm_error *err)
{
    ON_COPY(aipm_store_item_daily_users(c.st, cb, ctx, err));
}

int aipm_ch__account_arr_plan(aipm_store *st, int64_t before_ms,
                              aipm_account_arr_plan_cb cb, void *ctx,
                              aipm_error *err)
{
    ON_COPY(aipm_store_account_arr_plan(c.st, before_ms, cb, ctx, err));
}

int aipm_ch__user_event_times(aipm_store *st, aipm_user_time_cb cb, void *ctx,
                              aipm_error *err)
{
    ON_COPY(aipm_store_user_event_times(c.st, cb, ctx, err));
}

int aipm_ch__user_traits(aipm_store *st, const char *trait, int64_t before_ms,
                         aipm_user_value_cb cb, void *ctx, aipm_error *err)
{
    ON_COPY(aipm_store_user_traits(c.st, trait, before_ms, cb, ctx, err));
}

int aipm_ch__account_traits(aipm_store *st, const char *trait,
                            int64_t before_ms, aipm_user_value_cb cb, void *ctx,
                            aipm_error *err)
{
    ON_COPY(aipm_store_account_traits(c.st, trait, before_ms, cb, ctx, err));
}

/* The graph's reads: only the rows of batches up to through_batch (and
 * after *since), all of them then. */
int aipm_ch__first_uses(aipm_store *st, int64_t through_batch,
                        const aipm_store_mark *since, aipm_first_use_cb cb,
                        void *ctx, aipm_error *err)
{
    copy c;
    int rc = copy_open(st, through_batch, since, &c, err);

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
    int rc = copy_open(st, through_batch, since, &c, err);

    if (rc == AIPM_OK)
        rc = aipm_store_first_memberships(c.st, INT64_MAX, NULL, cb, ctx, err);
    copy_close(&c);
    return rc;
}
