/* store_int.h - the backend operations table behind aipm_store.
 *
 * Every backend embeds `struct aipm_store` as its first member and fills
 * one static ops table; store.c dispatches each public call through it. A
 * new backend (PostgreSQL, ClickHouse) is one new file set that provides
 * these operations, with the same semantics as the SQLite reference.
 */
#ifndef AIPM_STORE_INT_H
#define AIPM_STORE_INT_H

#include "aipm/store.h"

/* The version of the ops table below; a backend sets .version to it, and
 * store.c refuses a table of another version (a backend built against an
 * older layout) instead of calling through the wrong slots. Raised when a
 * slot is added, removed or changes its meaning. */
#define AIPM_STORE_OPS_VERSION 9

typedef struct aipm_store_ops {
    unsigned int version;
    void (*close)(aipm_store *st);
    int (*begin)(aipm_store *st, aipm_error *err);
    int (*commit)(aipm_store *st, aipm_error *err);
    void (*rollback)(aipm_store *st);
    int (*batch_new)(aipm_store *st, int64_t *out_id, const char *dataset,
                     const char *source, const char *source_sha256,
                     const char *run_id, int64_t created_ms, aipm_error *err);
    int (*batch_finish)(aipm_store *st, const aipm_batch_info *info,
                        aipm_error *err);
    int (*batch_get)(aipm_store *st, aipm_batch_info *out, int64_t id,
                     aipm_error *err);
    int (*batch_set_status)(aipm_store *st, int64_t id, const char *status,
                            aipm_error *err);
    int (*batch_list)(aipm_store *st, const char *dataset, int latest_only,
                      aipm_batch_cb cb, void *ctx, aipm_error *err);
    int (*event_put)(aipm_store *st, int64_t batch_id,
                     const aipm_event_row *row, int *inserted, aipm_error *err);
    int (*row_put)(aipm_store *st, const char *dataset, int64_t batch_id,
                   const char *key, const char *row_sha,
                   const char *const *values, int *inserted, aipm_error *err);
    int (*count_visible)(aipm_store *st, const char *dataset, int64_t *out,
                         aipm_error *err);
    int (*quarantine_put)(aipm_store *st, const aipm_quarantine_row *row,
                          aipm_error *err);
    int (*quarantine_list)(aipm_store *st, const char *reason, int64_t batch_id,
                           int64_t limit, aipm_quarantine_cb cb, void *ctx,
                           aipm_error *err);
    int (*schema_load)(aipm_store *st, aipm_schema_cb cb, void *ctx,
                       aipm_error *err);
    int (*schema_put)(aipm_store *st, const char *event, const char *property,
                      const char *type, int version, int64_t batch_id,
                      aipm_error *err);
    int (*volume_put)(aipm_store *st, const char *dataset, int64_t day,
                      int64_t batch_id, int64_t n, aipm_error *err);
    int (*volume_mean)(aipm_store *st, const char *dataset, int64_t from_day,
                       int64_t to_day, double *mean, int64_t *days,
                       aipm_error *err);
    int (*run_put)(aipm_store *st, const aipm_run_row *run, aipm_error *err);
    int (*run_list)(aipm_store *st, aipm_run_cb cb, void *ctx, aipm_error *err);
    int (*audit_put)(aipm_store *st, const aipm_audit_row *row,
                     aipm_error *err);
    int (*audit_list)(aipm_store *st, aipm_audit_cb cb, void *ctx,
                      aipm_error *err);
    int (*audit_last)(aipm_store *st, int64_t *seq, uint8_t root[32],
                      int *found, aipm_error *err);
    int (*audit_frontier_get)(aipm_store *st, int64_t *size, void *buf,
                              size_t cap, size_t *len, int *found,
                              aipm_error *err);
    int (*audit_frontier_put)(aipm_store *st, int64_t size, const void *buf,
                              size_t len, aipm_error *err);
    int (*decision_put)(aipm_store *st, const aipm_decision_row *row,
                        aipm_error *err);
    int (*decision_list)(aipm_store *st, const aipm_decision_filter *f,
                         aipm_decision_cb cb, void *ctx, aipm_error *err);
    int (*decision_input_put)(aipm_store *st, const char *decision_id,
                              int64_t batch_id, aipm_error *err);
    int (*decisions_reading)(aipm_store *st, int64_t batch_id,
                             aipm_decision_ref_cb cb, void *ctx,
                             aipm_error *err);
    int (*decision_set_status)(aipm_store *st, const char *id,
                               const char *status, aipm_error *err);
    int (*user_put)(aipm_store *st, const aipm_user_row *row, aipm_error *err);
    int (*user_list)(aipm_store *st, const char *name, aipm_user_cb cb,
                     void *ctx, aipm_error *err);
    int (*approval_put)(aipm_store *st, const aipm_approval_row *row,
                        aipm_error *err);
    int (*approval_list)(aipm_store *st, const char *decision_id,
                         aipm_approval_cb cb, void *ctx, aipm_error *err);
    int (*analysis_index)(aipm_store *st, aipm_error *err);
    int (*link_put)(aipm_store *st, const char *feedback_id,
                    const char *item_id, int unlink, const char *actor,
                    int64_t time_ms, aipm_error *err);
    int (*event_count)(aipm_store *st, const char *event, int64_t cap,
                       int64_t *out, aipm_error *err);
    int (*in_transaction)(aipm_store *st);
    int (*backlog_texts)(aipm_store *st, aipm_backlog_text_cb cb, void *ctx,
                         aipm_error *err);
    int (*feedback_texts)(aipm_store *st, aipm_feedback_text_cb cb, void *ctx,
                          aipm_error *err);
    int (*feedback_count)(aipm_store *st, int64_t *n, aipm_error *err);
    int (*link_list)(aipm_store *st, aipm_link_fix_cb cb, void *ctx,
                     aipm_error *err);
    int (*row_visible)(aipm_store *st, const char *dataset, const char *id,
                       int *found, aipm_error *err);
    int (*policy_put)(aipm_store *st, const aipm_policy_row *row,
                      aipm_error *err);
    int (*policy_list)(aipm_store *st, int latest_only, aipm_policy_cb cb,
                       void *ctx, aipm_error *err);
    int (*rows_digest)(aipm_store *st, const char *dataset, int64_t batch_id,
                       aipm_rows_digest_cb cb, void *ctx, aipm_error *err);
    /* the metrics' push-down reads (experiments, KPIs) */
    int (*exposure_moments)(aipm_store *st, const aipm_exposure_query *q,
                            const char *by_trait, aipm_moments_cb cb, void *ctx,
                            aipm_error *err);
    int (*exposure_quantile)(aipm_store *st, const aipm_exposure_query *q,
                             double p, double *out, aipm_error *err);
    int (*population_moments)(aipm_store *st, const aipm_event_measure *m,
                              int by_account, int conversion, int64_t from_ms,
                              int64_t to_ms, aipm_unit_moments *out,
                              aipm_error *err);
    int (*kpi_activity)(aipm_store *st, const aipm_periods *p,
                        aipm_period_activity *out, aipm_cohort_cb cohort,
                        void *ctx, aipm_error *err);
    int (*kpi_feature_users)(aipm_store *st, const aipm_periods *p,
                             const char *const *events, const int *feature_of,
                             int n_events, int n_features, double *out,
                             aipm_error *err);
    int (*kpi_conversion)(aipm_store *st, const aipm_periods *p,
                          const aipm_event_measure *m, int by_account,
                          int64_t window_ms, double *first, double *converted,
                          aipm_error *err);
    int (*kpi_retention)(aipm_store *st, const aipm_periods *p, int by_account,
                         int from_day, int to_day, double *eligible,
                         double *retained, aipm_error *err);
    int (*kpi_events)(aipm_store *st, const aipm_periods *p,
                      const aipm_event_measure *m, int by_account,
                      double *count, double *sum, double *units,
                      aipm_error *err);
    int (*kpi_active_accounts)(aipm_store *st, const aipm_periods *p,
                               double *out, aipm_error *err);
    /* push-down reads for prioritize (signals) */
    int (*backlog_items)(aipm_store *st, aipm_backlog_item_cb cb, void *ctx,
                         aipm_error *err);
    int (*daily_active_users)(aipm_store *st, aipm_daily_users_cb cb, void *ctx,
                              aipm_error *err);
    int (*event_daily_users)(aipm_store *st, const char *const *events,
                             const char *const *labels, int n,
                             aipm_daily_users_cb cb, void *ctx,
                             aipm_error *err);
    int (*item_daily_users)(aipm_store *st, aipm_daily_users_cb cb, void *ctx,
                            aipm_error *err);
    int (*market_signals)(aipm_store *st, aipm_market_signal_cb cb, void *ctx,
                          aipm_error *err);
    int (*account_arr_plan)(aipm_store *st, int64_t before_ms,
                            aipm_account_arr_plan_cb cb, void *ctx,
                            aipm_error *err);
    /* push-down reads for the graph and the adoption forecasts */
    int (*batch_states)(aipm_store *st, aipm_batch_state_cb cb, void *ctx,
                        aipm_store_mark *mark, aipm_error *err);
    int (*first_uses)(aipm_store *st, int64_t through_batch,
                      const aipm_store_mark *since, aipm_first_use_cb cb,
                      void *ctx, aipm_error *err);
    int (*first_memberships)(aipm_store *st, int64_t through_batch,
                             const aipm_store_mark *since,
                             aipm_membership_cb cb, void *ctx, aipm_error *err);
    int (*graph_rows)(aipm_store *st, int64_t through_batch,
                      const aipm_store_mark *since, aipm_graph_csv_cb cb,
                      void *ctx, aipm_error *err);
    int (*event_day_range)(aipm_store *st, int64_t *first_day,
                           int64_t *last_day, int *found, aipm_error *err);
    int (*user_event_times)(aipm_store *st, aipm_user_time_cb cb, void *ctx,
                            aipm_error *err);
    int (*user_traits)(aipm_store *st, const char *trait, int64_t before_ms,
                       aipm_user_value_cb cb, void *ctx, aipm_error *err);
    int (*account_traits)(aipm_store *st, const char *trait, int64_t before_ms,
                          aipm_user_value_cb cb, void *ctx, aipm_error *err);
    /* optional: NULL stores the rows one event_put at a time */
    int (*event_put_many)(aipm_store *st, int64_t batch_id,
                          const aipm_event_row *rows, size_t n,
                          unsigned char *inserted, aipm_error *err);
    /* an events store only (ch/): the metadata store made batch id, which
     * it may have handed out before a rollback (NULL: nothing to do) */
    int (*batch_begun)(aipm_store *st, int64_t id, aipm_error *err);
    /* a metadata store only: one of the store's own settings (its table
     * store_settings), "" when unset; put replaces */
    int (*setting_get)(aipm_store *st, const char *key, char *buf, size_t cap,
                       aipm_error *err);
    int (*setting_put)(aipm_store *st, const char *key, const char *value,
                       aipm_error *err);
    /* a metadata store only: the model registry */
    int (*model_put)(aipm_store *st, const aipm_model_row *row,
                     aipm_error *err);
    int (*model_list)(aipm_store *st, const char *name, int64_t version,
                      aipm_model_cb cb, void *ctx, aipm_error *err);
    int (*alias_move)(aipm_store *st, const aipm_alias_move_row *row,
                      aipm_error *err);
    int (*alias_moves)(aipm_store *st, const char *name, aipm_alias_move_cb cb,
                       void *ctx, aipm_error *err);
    int (*alias_get)(aipm_store *st, const char *name, const char *alias,
                     int64_t *version, aipm_error *err);
    int (*monitor_put)(aipm_store *st, const aipm_monitor_row *row,
                       aipm_error *err);
    int (*monitor_list)(aipm_store *st, int64_t limit, aipm_monitor_cb cb,
                        void *ctx, aipm_error *err);
    /* a metadata store only: the API tokens */
    int (*token_put)(aipm_store *st, const aipm_token_row *row, int64_t *id_out,
                     aipm_error *err);
    int (*token_find)(aipm_store *st, const char *token_sha256,
                      aipm_token_cb cb, void *ctx, aipm_error *err);
    int (*token_list)(aipm_store *st, const char *user, aipm_token_cb cb,
                      void *ctx, aipm_error *err);
    int (*token_revoke)(aipm_store *st, int64_t id, int64_t now_ms,
                        const char *by, const char *reason, aipm_error *err);
} aipm_store_ops;

struct aipm_store {
    const aipm_store_ops *ops;
    int schema_version;
    char ns[1100]; /* OpenLineage namespace, e.g. sqlite:/abs/path.db */
    /* The events store attached to this (metadata) store, or NULL: store.c
     * sends the event operations to it (ch/ch_int.h). */
    aipm_store *events;
};

/* ---- digest.c: what a rows digest folds, the same in every backend ---- */

/* One value by its stored type: text (v NULL: NULL), blob, integer, real,
 * NULL (store.h, aipm_store_rows_digest, gives the bytes). */
void aipm_store__digest_text(aipm_sha256 *h, const char *v, size_t len);
void aipm_store__digest_blob(aipm_sha256 *h, const void *v, size_t len);
void aipm_store__digest_int(aipm_sha256 *h, int64_t v);
void aipm_store__digest_real(aipm_sha256 *h, double v);
void aipm_store__digest_null(aipm_sha256 *h);

/* The running digest of the events batch being loaded (batch: its id, 0
 * for none; rows: how many): fold one inserted row, starting afresh when
 * batch_id is another batch. Both backends hash events as they insert
 * them, since a rescan would cost a third of the ingest. */
void aipm_store__event_sum_add(int64_t *batch, int64_t *rows, aipm_sha256 *h,
                               int64_t batch_id, const aipm_event_row *row);
/* Fold one events row into h (what event_sum_add folds per row; a
 * backend that scans its rows back folds each the same way). */
void aipm_store__event_digest(aipm_sha256 *h, const aipm_event_row *row);

/* The running digests of a scan, one per batch met. */
typedef struct aipm_store__batch_sum {
    int64_t id, rows;
    aipm_sha256 h;
} aipm_store__batch_sum;

typedef struct aipm_store__sums {
    aipm_store__batch_sum *v;
    size_t n, cap, last; /* last: the one the previous row went to */
} aipm_store__sums;

/* The batch's running digest, made on its first row (NULL: out of
 * memory). Rows of a batch are stored together, so the previous row's
 * batch is almost always the one. */
aipm_store__batch_sum *aipm_store__sum_of(aipm_store__sums *s, int64_t id);
/* When rc is AIPM_OK, hand each batch's digest to cb in the order met;
 * then free s. Returns rc, or cb's first non-zero result. */
int aipm_store__sums_report(aipm_store__sums *s, int rc, aipm_rows_digest_cb cb,
                            void *ctx);

/* ---- shared.c: what every backend's analysis statements share ---- */

/* The JSON texts the statements expand (malloc'd; NULL when out of
 * memory): a measure's events (NULL and *oom 0 for any event), the
 * periods as [[first, last], ...], (event, label) and (event, feature)
 * pairs. */
char *aipm_store__events_json(const aipm_event_measure *m, int *oom);
char *aipm_store__periods_json(const aipm_periods *p);
char *aipm_store__label_pairs_json(const char *const *events,
                                   const char *const *labels, int n);
char *aipm_store__feature_pairs_json(const char *const *events,
                                     const int *feature_of, int n);

/* The KPI activity statement's rows: kind 'a', 'w' or 'n' for period i
 * with its numbers v[0..7), 'c' for a cohort cell (week i, lag v[0], users
 * v[1]); filed into out or handed to cohort. */
typedef struct aipm_store__activity {
    const aipm_periods *p;
    aipm_period_activity *out;
    aipm_cohort_cb cohort;
    void *ctx;
} aipm_store__activity;
int aipm_store__activity_row(const aipm_store__activity *a, char kind,
                             int64_t i, const double v[7]);

/* Per-period columns of a KPI statement: row (period i, v[0..width))
 * into cols[j][i]; zero sets every column to 0 first. */
typedef struct aipm_store__period_cols {
    int n, width;
    double *cols[3];
} aipm_store__period_cols;
void aipm_store__period_cols_zero(aipm_store__period_cols *c);
void aipm_store__period_cols_put(aipm_store__period_cols *c, int64_t i,
                                 const double *v);

/* The longest wait for another writer's lock, in seconds (set by
 * aipm_store_set_wait, kept in sqlite/lock.c); < 0: as long as it
 * takes. Every backend's writers honour it. */
double aipm_store__wait_seconds(void);
/* What this process writes (aipm_store_set_activity; "" for nothing). */
const char *aipm_store__writer_activity(void);
/* Tell the front-end that a writer has waited `waited` seconds for store's
 * lock, held by holder (NULL: unknown), when it asked to be told. */
void aipm_store__notify_wait(const char *store, const char *holder,
                             double waited);

/* The SQLite backend (sqlite/store.c). */
int aipm_store__sqlite_open(aipm_store **out, const char *path, int flags,
                            aipm_error *err);
/* The PostgreSQL backend (pg/store.c): url is a libpq connection URI. */
int aipm_store__pg_open(aipm_store **out, const char *url, int flags,
                        aipm_error *err);
/* The ClickHouse events backend (ch/store.c), attached to meta. */
int aipm_store__ch_open(aipm_store **out, const char *url, aipm_store *meta,
                        int flags, aipm_error *err);

#endif
