/* sqlite_int.h - the pieces of the SQLite backend (private).
 *
 * sqlite/store.c: opening a store, the statement cache, transactions and
 *   every operation of the backend's ops table;
 * sqlite/schema.c: the numbered migrations, the schema's only source;
 * sqlite/lock.c: waiting for another writer's lock (SQLite's busy handler)
 *   and the writer note that tells a waiter whom it waits for.
 *
 * One `sqlite_store` is one connection, used by one thread at a time; the
 * wait settings and the activity named in the writer note are per process.
 */
#ifndef AIPM_STORE_SQLITE_INT_H
#define AIPM_STORE_SQLITE_INT_H

#include "store/store_int.h"

#include <sqlite3.h>
#include <sys/types.h>
#include <stdint.h>

/* The statements prepared once per connection (sqlite/store.c's
 * sql_text). */
enum {
    S_BATCH_NEW,
    S_BATCH_FINISH,
    S_BATCH_GET,
    S_BATCH_STATUS,
    S_EVENT_PUT,
    S_QUAR_PUT,
    S_SCHEMA_PUT,
    S_VOLUME_PUT,
    S_VOLUME_MEAN,
    S_RUN_PUT,
    S_AUDIT_PUT,
    S_AUDIT_LAST,
    S_FRONTIER_GET,
    S_FRONTIER_PUT,
    S_COUNT
};

/* Visibility, defined once: the rows analyses see are those of batches
 * whose status is accepted. The v_* views (schema.c) are built on it, and
 * the statements that read a base table for its index name it through it
 * instead of spelling it again. */
#define SQ_ACCEPTED "status = 'accepted'"

/* The CSV datasets, each with its own table (sqlite/store.c's csv_names). */
#define N_CSV 4

typedef struct sqlite_store {
    struct aipm_store base;
    sqlite3 *db;
    sqlite3_stmt *stmts[S_COUNT];
    sqlite3_stmt *row_stmts[N_CSV];
    int in_tx;
    int readonly;
    int unstamped;      /* an aipm store of before application_id: stamp it */
    int waited_out;     /* the busy handler gave up */
    int noted;          /* our writer note exists */
    int64_t note_batch; /* the batch the open transaction writes, or 0 */
    int64_t first_batch, first_rowid; /* the row id of the first row the
                                       * batch being loaded stored, so its
                                       * digest reads only its own rows */
    /* The events batch being loaded, hashed as its rows are inserted (the
     * same bytes sq_rows_digest reads back; a rescan cost a third of the
     * ingest time): its id (0: none), rows and running digest. */
    int64_t ev_batch, ev_rows;
    aipm_sha256 ev_hash;
    int64_t wait_started_ms, wait_told_ms; /* the current wait */
    char path[1024];                       /* for messages */
    dev_t file_dev; /* the database file, in the process's registry of */
    ino_t file_ino; /* open stores (store.c) when registered is set */
    int registered;
} sqlite_store;

/* ---- sqlite/schema.c ---- */

/* The migrations in order: migration n is aipm_store__migrations[n - 1],
 * SQL text applied in one transaction (the first also creates the CSV
 * datasets' tables, from their contracts). */
extern const char *const aipm_store__migrations[];
/* How many there are: the schema version of an up-to-date store. */
extern const int aipm_store__n_migrations;

/* ---- sqlite/lock.c ---- */

/* SQLite's busy handler, ctx the sqlite_store: 1 to wait on, 0 to give up
 * (and s->waited_out set). Installed with sqlite3_busy_handler. */
int aipm_store__on_busy(void *ctx, int count);

/* Write s's writer note (when an activity is set and s writes); advisory,
 * a failure changes nothing else. */
void aipm_store__note_write(sqlite_store *s);

/* Remove s's writer note, if it wrote one, and forget its batch. */
void aipm_store__note_remove(sqlite_store *s);

/* ---- shared by sqlite/store.c and sqlite/records.c ---- */

/* The cached prepared statement `which` (sql_text), reset for new binds;
 * NULL (err set) when it cannot be prepared. */
sqlite3_stmt *aipm_sqlite__stmt(sqlite_store *s, int which, aipm_error *err);
/* Bind text, or NULL as SQL NULL (SQLITE_STATIC: v outlives the step). */
void aipm_sqlite__bind_text(sqlite3_stmt *st, int i, const char *v);
/* Step a statement that returns no rows. */
int aipm_sqlite__step_done(sqlite_store *s, sqlite3_stmt *st, aipm_error *err);
/* Step a statement that yields one count into *out, then finalize it. */
int aipm_sqlite__step_count(sqlite_store *s, sqlite3_stmt *st, int64_t *out,
                            aipm_error *err);
/* The connection's last error as a store error. */
int aipm_sqlite__db_error(sqlite_store *s, aipm_error *err);

/* Step a prepared statement to its end, handing each row to fn (which
 * maps the columns and calls the caller's callback), then finalize it.
 * Returns fn's first non-zero result, a store error, or AIPM_OK. */
typedef int (*aipm_sqlite__row_fn)(sqlite3_stmt *st, void *ctx);
int aipm_sqlite__each_row(sqlite_store *s, sqlite3_stmt *st,
                          aipm_sqlite__row_fn fn, void *ctx, aipm_error *err);

/* The caller's callback and context, for the row mappers. */
typedef struct aipm_sqlite__relay {
    void (*cb)(void); /* cast back to its own type before the call */
    void *ctx;
} aipm_sqlite__relay;

/* sqlite/records.c: operations of the store's table (store_int.h). */
int sq_run_put(aipm_store *base, const aipm_run_row *run, aipm_error *err);
int sq_run_list(aipm_store *base, aipm_run_cb cb, void *ctx, aipm_error *err);
int sq_audit_put(aipm_store *base, const aipm_audit_row *row, aipm_error *err);
int sq_audit_list(aipm_store *base, aipm_audit_cb cb, void *ctx,
                  aipm_error *err);
int sq_audit_last(aipm_store *base, int64_t *seq, uint8_t root[32], int *found,
                  aipm_error *err);
int sq_decision_put(aipm_store *base, const aipm_decision_row *row,
                    aipm_error *err);
int sq_decision_list(aipm_store *base, const aipm_decision_filter *f,
                     aipm_decision_cb cb, void *ctx, aipm_error *err);
int sq_decision_input_put(aipm_store *base, const char *decision_id,
                          int64_t batch_id, aipm_error *err);
int sq_decisions_reading(aipm_store *base, int64_t batch_id,
                         aipm_decision_ref_cb cb, void *ctx, aipm_error *err);
int sq_decision_set_status(aipm_store *base, const char *id, const char *status,
                           aipm_error *err);
int sq_user_put(aipm_store *base, const aipm_user_row *row, aipm_error *err);
int sq_user_list(aipm_store *base, const char *name, aipm_user_cb cb, void *ctx,
                 aipm_error *err);
int sq_approval_put(aipm_store *base, const aipm_approval_row *row,
                    aipm_error *err);
int sq_approval_list(aipm_store *base, const char *decision_id,
                     aipm_approval_cb cb, void *ctx, aipm_error *err);
/* sqlite/reads.c: typed reads for the analyses. */
int sq_backlog_texts(aipm_store *base, aipm_backlog_text_cb cb, void *ctx,
                     aipm_error *err);
int sq_feedback_texts(aipm_store *base, aipm_feedback_text_cb cb, void *ctx,
                      aipm_error *err);
int sq_feedback_count(aipm_store *base, int64_t *n, aipm_error *err);
int sq_link_list(aipm_store *base, aipm_link_fix_cb cb, void *ctx,
                 aipm_error *err);
int sq_row_visible(aipm_store *base, const char *dataset, const char *id,
                   int *found, aipm_error *err);
int sq_setting_get(aipm_store *base, const char *key, char *buf, size_t cap,
                   aipm_error *err);
int sq_setting_put(aipm_store *base, const char *key, const char *value,
                   aipm_error *err);
int sq_policy_put(aipm_store *base, const aipm_policy_row *row,
                  aipm_error *err);
int sq_policy_list(aipm_store *base, int latest_only, aipm_policy_cb cb,
                   void *ctx, aipm_error *err);
/* sqlite/models.c: the model registry */
int sq_model_put(aipm_store *base, const aipm_model_row *row, aipm_error *err);
int sq_model_list(aipm_store *base, const char *name, int64_t version,
                  aipm_model_cb cb, void *ctx, aipm_error *err);
int sq_alias_move(aipm_store *base, const aipm_alias_move_row *row,
                  aipm_error *err);
int sq_alias_moves(aipm_store *base, const char *name, aipm_alias_move_cb cb,
                   void *ctx, aipm_error *err);
int sq_alias_get(aipm_store *base, const char *name, const char *alias,
                 int64_t *version, aipm_error *err);
int sq_monitor_put(aipm_store *base, const aipm_monitor_row *row,
                   aipm_error *err);
int sq_monitor_list(aipm_store *base, int64_t limit, aipm_monitor_cb cb,
                    void *ctx, aipm_error *err);

/* sqlite/tokens.c: the API tokens */
int sq_token_put(aipm_store *base, const aipm_token_row *row, int64_t *id_out,
                 aipm_error *err);
int sq_token_find(aipm_store *base, const char *token_sha256, aipm_token_cb cb,
                  void *ctx, aipm_error *err);
int sq_token_list(aipm_store *base, const char *user, aipm_token_cb cb,
                  void *ctx, aipm_error *err);
int sq_token_revoke(aipm_store *base, int64_t id, int64_t now_ms,
                    const char *by, const char *reason, aipm_error *err);
/* sqlite/digest.c */
int sq_rows_digest(aipm_store *base, const char *dataset, int64_t batch_id,
                   aipm_rows_digest_cb cb, void *ctx, aipm_error *err);
int sq_link_put(aipm_store *base, const char *feedback_id, const char *item_id,
                int unlink, const char *actor, int64_t time_ms,
                aipm_error *err);
int sq_audit_frontier_get(aipm_store *base, int64_t *size, void *buf,
                          size_t cap, size_t *len, int *found, aipm_error *err);
int sq_audit_frontier_put(aipm_store *base, int64_t size, const void *buf,
                          size_t len, aipm_error *err);
/* sqlite/graph.c: the graph's reads (its version and rows). */
int sq_batch_states(aipm_store *base, aipm_batch_state_cb cb, void *ctx,
                    aipm_store_mark *mark, aipm_error *err);
int sq_first_uses(aipm_store *base, int64_t through_batch,
                  const aipm_store_mark *since, aipm_first_use_cb cb, void *ctx,
                  aipm_error *err);
int sq_first_memberships(aipm_store *base, int64_t through_batch,
                         const aipm_store_mark *since, aipm_membership_cb cb,
                         void *ctx, aipm_error *err);
int sq_graph_rows(aipm_store *base, int64_t through_batch,
                  const aipm_store_mark *since, aipm_graph_csv_cb cb, void *ctx,
                  aipm_error *err);
/* sqlite/forecast.c: the adoption forecasts' reads. */
int sq_event_day_range(aipm_store *base, int64_t *first_day, int64_t *last_day,
                       int *found, aipm_error *err);
int sq_user_event_times(aipm_store *base, aipm_user_time_cb cb, void *ctx,
                        aipm_error *err);
int sq_user_traits(aipm_store *base, const char *trait, int64_t before_ms,
                   aipm_user_value_cb cb, void *ctx, aipm_error *err);
int sq_account_traits(aipm_store *base, const char *trait, int64_t before_ms,
                      aipm_user_value_cb cb, void *ctx, aipm_error *err);

/* mem(user_id, acct): each user's account, the group_id of their newest
 * group call before BOUND (an SQL expression in ms: the end of what the
 * statement reads, so that a past period's figures do not change as data
 * arrives). A common table expression for the statements of metrics over
 * accounts (unit: account): sqlite/metrics.c and sqlite/kpi.c. */
#define AIPM_MEMBERS_CTE(BOUND)                                                \
    " mem(user_id, acct) AS MATERIALIZED (SELECT user_id, acct FROM ("         \
    "  SELECT user_id, group_id AS acct, max(ts) FROM v_events"                \
    "  WHERE type = 'group' AND user_id IS NOT NULL"                           \
    "  AND group_id IS NOT NULL AND ts < " BOUND " GROUP BY user_id))"

/* sqlite/metrics.c, sqlite/kpi.c: the metrics' push-down reads. */
int sq_exposure_moments(aipm_store *base, const aipm_exposure_query *q,
                        const char *by_trait, aipm_moments_cb cb, void *ctx,
                        aipm_error *err);
int sq_exposure_quantile(aipm_store *base, const aipm_exposure_query *q,
                         double p, double *out, aipm_error *err);
int sq_population_moments(aipm_store *base, const aipm_event_measure *m,
                          int by_account, int conversion, int64_t from_ms,
                          int64_t to_ms, aipm_unit_moments *out,
                          aipm_error *err);
int sq_kpi_activity(aipm_store *base, const aipm_periods *p,
                    aipm_period_activity *out, aipm_cohort_cb cohort, void *ctx,
                    aipm_error *err);
int sq_kpi_feature_users(aipm_store *base, const aipm_periods *p,
                         const char *const *events, const int *feature_of,
                         int n_events, int n_features, double *out,
                         aipm_error *err);
int sq_kpi_conversion(aipm_store *base, const aipm_periods *p,
                      const aipm_event_measure *m, int by_account,
                      int64_t window_ms, double *first, double *converted,
                      aipm_error *err);
int sq_kpi_retention(aipm_store *base, const aipm_periods *p, int by_account,
                     int from_day, int to_day, double *eligible,
                     double *retained, aipm_error *err);
int sq_kpi_events(aipm_store *base, const aipm_periods *p,
                  const aipm_event_measure *m, int by_account, double *count,
                  double *sum, double *units, aipm_error *err);
int sq_kpi_active_accounts(aipm_store *base, const aipm_periods *p, double *out,
                           aipm_error *err);

/* Bind a measure's events (?events: a JSON array text, NULL for any
 * event), its summed property and its filter (?prop, ?where: JSON paths
 * '$."name"' or NULL; ?value), each at its index (0: not bound). */
int aipm_sqlite__bind_measure(sqlite3_stmt *st, const aipm_event_measure *m,
                              int events, int prop, int where, int value);
/* Bind a JSON path '$."name"' for name (NULL: SQL NULL) at i. */
void aipm_sqlite__bind_path(sqlite3_stmt *st, int i, const char *name);
/* ---- sqlite/prioritize.c: push-down reads for prioritize (signals) ---- */
int sq_backlog_items(aipm_store *base, aipm_backlog_item_cb cb, void *ctx,
                     aipm_error *err);
int sq_daily_active_users(aipm_store *base, aipm_daily_users_cb cb, void *ctx,
                          aipm_error *err);
int sq_event_daily_users(aipm_store *base, const char *const *events,
                         const char *const *labels, int n,
                         aipm_daily_users_cb cb, void *ctx, aipm_error *err);
int sq_item_daily_users(aipm_store *base, aipm_daily_users_cb cb, void *ctx,
                        aipm_error *err);
int sq_market_signals(aipm_store *base, aipm_market_signal_cb cb, void *ctx,
                      aipm_error *err);
int sq_account_arr_plan(aipm_store *base, int64_t before_ms,
                        aipm_account_arr_plan_cb cb, void *ctx,
                        aipm_error *err);

#endif
