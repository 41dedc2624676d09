/* pg_int.h - the pieces of the PostgreSQL backend (private).
 *
 * pg/conn.c: parameters, statements, streaming rows and error messages
 *   over libpq;
 * pg/schema.c: the migrations in PostgreSQL's dialect;
 * pg/store.c: opening a store, transactions, batches, rows, quarantine,
 *   learned schema and volume;
 * pg/records.c: lineage runs, the audit log, decisions, people,
 *   approvals, policy versions and link corrections;
 * pg/reads.c: the typed reads of the datasets and the rows digests;
 * pg/models.c: the model registry (versions, aliases, their moves).
 *
 * A store is the schema "aipm" of a PostgreSQL database: its tables, the
 * visibility views (v_events, v_backlog, ...: rows of accepted batches)
 * and schema_migrations. One `pg_store` is one connection, used by one
 * thread at a time. Writers serialize per store on a transaction-level
 * advisory lock (AIPM_PG_LOCK), as SQLite's writers do on its file lock.
 */
#ifndef AIPM_STORE_PG_INT_H
#define AIPM_STORE_PG_INT_H

#include "store/store_int.h"

#include <libpq-fe.h>
#include <stdint.h>

/* The advisory lock every write transaction takes first: "aipm" in
 * ASCII, in the key space of pg_advisory_xact_lock(bigint). */
#define AIPM_PG_LOCK 0x6169706dLL

/* Visibility, defined once: the rows analyses see are those of batches
 * whose status is accepted (the v_* views, and every statement that reads
 * a base table for its index). */
#define PG_ACCEPTED "status = 'accepted'"

/* What the analyses' statements (pg/metrics.c, pg/kpi.c) share: mem,
 * each user's account (the group_id of their newest group call before
 * BOUND, an expression in ms); an event in a JSON array of names; a
 * payload property that is the string VALUE (when KEY is not NULL). */
#define PG_MEMBERS_CTE(BOUND)                                                  \
    " mem(user_id, acct) AS MATERIALIZED (SELECT DISTINCT ON (user_id)"        \
    "  user_id, group_id FROM v_events"                                        \
    "  WHERE type = 'group' AND user_id IS NOT NULL"                           \
    "  AND group_id IS NOT NULL AND ts < " BOUND                               \
    "  ORDER BY user_id, ts DESC, rid)"
#define IN_LIST(ARR) "x.event IN (SELECT jsonb_array_elements_text(" ARR "))"
#define MATCH(KEY, VALUE)                                                      \
    "(" KEY "::text IS NULL OR aipm_get(x.payload, " KEY ") = "                \
    "to_jsonb(" VALUE "::text))"

typedef struct pg_store {
    struct aipm_store base;
    PGconn *conn;
    int in_tx;
    int readonly;
    int walks;   /* row walks under way (aipm_pg__each_row) */
    int cursors; /* cursors declared, for unique names */
    /* The events batch being loaded, hashed as its rows are inserted (as
     * the SQLite backend does): its id (0: none), rows, running digest. */
    int64_t ev_batch, ev_rows;
    aipm_sha256 ev_hash;
    /* Events inserted by the open transaction: many, and the planner's
     * statistics are refreshed after its commit (pg_commit). */
    int64_t tx_events;
    char url[1024]; /* redacted, for messages */
} pg_store;

/* ---- pg/conn.c ---- */

/* The parameters of one statement, as text (libpq's text format), or
 * binary for bytea. Numbers are formatted into the struct's own space. */
#define PG_MAX_PARAMS 24
typedef struct pg_params {
    int n;
    const char *v[PG_MAX_PARAMS];
    int len[PG_MAX_PARAMS];
    int fmt[PG_MAX_PARAMS];
    Oid type[PG_MAX_PARAMS]; /* int8, text, float8 or bytea: no casts
                              * needed in the SQL to type a parameter */
    char num[PG_MAX_PARAMS][32];
} pg_params;

void aipm_pg__text(pg_params *p, const char *v); /* NULL: SQL NULL */
void aipm_pg__int(pg_params *p, int64_t v);
void aipm_pg__real(pg_params *p, double v); /* NAN: SQL NULL */
/* A double to store in a column that is REAL in SQLite: as SQLite keeps
 * it, so -0.0 as 0.0 (aipm_pg__real otherwise). */
void aipm_pg__stored_real(pg_params *p, double v);
void aipm_pg__bytes(pg_params *p, const void *v, size_t len);

/* Run a statement that returns no rows (p may be NULL); *changed, when not
 * NULL, receives the rows it changed. */
int aipm_pg__exec(pg_store *s, const char *sql, const pg_params *p,
                  int64_t *changed, aipm_error *err);

/* Run a query and hand each row to fn, a few thousand rows at a time
 * through a cursor (memory does not grow with the result; fn may use the
 * store meanwhile, but not begin or end a transaction). fn's first
 * non-zero result stops the walk and is returned. */
typedef int (*aipm_pg__row_fn)(PGresult *r, void *ctx);
int aipm_pg__each_row(pg_store *s, const char *sql, const pg_params *p,
                      aipm_pg__row_fn fn, void *ctx, aipm_error *err);

/* The same for a statement whose rows come back whole (INSERT ...
 * RETURNING, which no cursor takes): for results known to be small. */
int aipm_pg__rows(pg_store *s, const char *sql, const pg_params *p,
                  aipm_pg__row_fn fn, void *ctx, aipm_error *err);

/* A query's single integer (0 when it returns no row or NULL). */
int aipm_pg__int64(pg_store *s, const char *sql, const pg_params *p,
                   int64_t *out, aipm_error *err);

/* Column accessors of the row fn is given. text: NULL for NULL. */
const char *aipm_pg__col(PGresult *r, int col);
int64_t aipm_pg__col_int(PGresult *r, int col);
double aipm_pg__col_real(PGresult *r, int col); /* NULL: 0 */
size_t aipm_pg__col_len(PGresult *r, int col);
/* A bytea column (hex text) decoded into a malloc'd buffer (*len); NULL
 * for NULL or out of memory. */
unsigned char *aipm_pg__col_bytes(PGresult *r, int col, size_t *len);

/* The store error of a failed result (or of the connection when r is
 * NULL): one line, naming the store. */
int aipm_pg__error(pg_store *s, PGresult *r, aipm_error *err);

/* ---- pg/schema.c ---- */

/* Migration n is aipm_pg__migrations[n - 1]; version n means the same
 * logical schema as SQLite's migration n (the first holds everything up to
 * the version this backend began at, the rest are empty until a change). */
extern const char *const aipm_pg__migrations[];
extern const int aipm_pg__n_migrations;

/* The DDL of a CSV dataset's table and view, from its contract, into
 * buf (cap bytes). 0, or -1 when it does not fit. */
int aipm_pg__dataset_ddl(char *buf, size_t cap, const aipm_dataset_def *def);

/* ---- pg/records.c, pg/reads.c: operations of the ops table ---- */

int pg_run_put(aipm_store *base, const aipm_run_row *run, aipm_error *err);
int pg_run_list(aipm_store *base, aipm_run_cb cb, void *ctx, aipm_error *err);
int pg_audit_put(aipm_store *base, const aipm_audit_row *row, aipm_error *err);
int pg_audit_list(aipm_store *base, aipm_audit_cb cb, void *ctx,
                  aipm_error *err);
int pg_audit_last(aipm_store *base, int64_t *seq, uint8_t root[32], int *found,
                  aipm_error *err);
int pg_audit_frontier_get(aipm_store *base, int64_t *size, void *buf,
                          size_t cap, size_t *len, int *found, aipm_error *err);
int pg_audit_frontier_put(aipm_store *base, int64_t size, const void *buf,
                          size_t len, aipm_error *err);
int pg_decision_put(aipm_store *base, const aipm_decision_row *row,
                    aipm_error *err);
int pg_decision_list(aipm_store *base, const aipm_decision_filter *f,
                     aipm_decision_cb cb, void *ctx, aipm_error *err);
int pg_decision_input_put(aipm_store *base, const char *decision_id,
                          int64_t batch_id, aipm_error *err);
int pg_decisions_reading(aipm_store *base, int64_t batch_id,
                         aipm_decision_ref_cb cb, void *ctx, aipm_error *err);
int pg_decision_set_status(aipm_store *base, const char *id, const char *status,
                           aipm_error *err);
int pg_user_put(aipm_store *base, const aipm_user_row *row, aipm_error *err);
int pg_user_list(aipm_store *base, const char *name, aipm_user_cb cb, void *ctx,
                 aipm_error *err);
int pg_approval_put(aipm_store *base, const aipm_approval_row *row,
                    aipm_error *err);
int pg_approval_list(aipm_store *base, const char *decision_id,
                     aipm_approval_cb cb, void *ctx, aipm_error *err);
int pg_setting_get(aipm_store *base, const char *key, char *buf, size_t cap,
                   aipm_error *err);
int pg_setting_put(aipm_store *base, const char *key, const char *value,
                   aipm_error *err);
int pg_policy_put(aipm_store *base, const aipm_policy_row *row,
                  aipm_error *err);
int pg_policy_list(aipm_store *base, int latest_only, aipm_policy_cb cb,
                   void *ctx, aipm_error *err);
int pg_link_put(aipm_store *base, const char *feedback_id, const char *item_id,
                int unlink, const char *actor, int64_t time_ms,
                aipm_error *err);
int pg_link_list(aipm_store *base, aipm_link_fix_cb cb, void *ctx,
                 aipm_error *err);
int pg_backlog_texts(aipm_store *base, aipm_backlog_text_cb cb, void *ctx,
                     aipm_error *err);
int pg_feedback_texts(aipm_store *base, aipm_feedback_text_cb cb, void *ctx,
                      aipm_error *err);
int pg_feedback_count(aipm_store *base, int64_t *n, aipm_error *err);
int pg_row_visible(aipm_store *base, const char *dataset, const char *id,
                   int *found, aipm_error *err);
int pg_rows_digest(aipm_store *base, const char *dataset, int64_t batch_id,
                   aipm_rows_digest_cb cb, void *ctx, aipm_error *err);

/* pg/copy.c: bulk event ingest through the staging table ev_stage. */
int pg_event_put_many(aipm_store *base, int64_t batch_id,
                      const aipm_event_row *rows, size_t n,
                      unsigned char *inserted, aipm_error *err);

/* pg/metrics.c, pg/kpi.c: the metrics' push-down reads. */
int pg_exposure_moments(aipm_store *base, const aipm_exposure_query *q,
                        const char *by_trait, aipm_moments_cb cb, void *ctx,
                        aipm_error *err);
int pg_exposure_quantile(aipm_store *base, const aipm_exposure_query *q,
                         double p, double *out, aipm_error *err);
int pg_population_moments(aipm_store *base, const aipm_event_measure *m,
                          int by_account, int conversion, int64_t from_ms,
                          int64_t to_ms, aipm_unit_moments *out,
                          aipm_error *err);
int pg_kpi_activity(aipm_store *base, const aipm_periods *p,
                    aipm_period_activity *out, aipm_cohort_cb cohort, void *ctx,
                    aipm_error *err);
int pg_kpi_feature_users(aipm_store *base, const aipm_periods *p,
                         const char *const *events, const int *feature_of,
                         int n_events, int n_features, double *out,
                         aipm_error *err);
int pg_kpi_conversion(aipm_store *base, const aipm_periods *p,
                      const aipm_event_measure *m, int by_account,
                      int64_t window_ms, double *first, double *converted,
                      aipm_error *err);
int pg_kpi_retention(aipm_store *base, const aipm_periods *p, int by_account,
                     int from_day, int to_day, double *eligible,
                     double *retained, aipm_error *err);
int pg_kpi_events(aipm_store *base, const aipm_periods *p,
                  const aipm_event_measure *m, int by_account, double *count,
                  double *sum, double *units, aipm_error *err);
int pg_kpi_active_accounts(aipm_store *base, const aipm_periods *p, double *out,
                           aipm_error *err);

/* The caller's callback and context, for the row mappers. */
typedef struct aipm_pg__relay {
    void (*cb)(void);
    void *ctx;
} aipm_pg__relay;

/* pg/prioritize.c: the backlog prioritizer's push-down reads. */
int pg_backlog_items(aipm_store *base, aipm_backlog_item_cb cb, void *ctx,
                     aipm_error *err);
int pg_daily_active_users(aipm_store *base, aipm_daily_users_cb cb, void *ctx,
                          aipm_error *err);
int pg_event_daily_users(aipm_store *base, const char *const *events,
                         const char *const *labels, int n,
                         aipm_daily_users_cb cb, void *ctx, aipm_error *err);
int pg_item_daily_users(aipm_store *base, aipm_daily_users_cb cb, void *ctx,
                        aipm_error *err);
int pg_market_signals(aipm_store *base, aipm_market_signal_cb cb, void *ctx,
                      aipm_error *err);
int pg_account_arr_plan(aipm_store *base, int64_t before_ms,
                        aipm_account_arr_plan_cb cb, void *ctx,
                        aipm_error *err);

/* pg/graph.c, pg/forecast.c: the graph's and the adoption forecasts'
 * push-down reads. */
int pg_batch_states(aipm_store *base, aipm_batch_state_cb cb, void *ctx,
                    aipm_store_mark *mark, aipm_error *err);
int pg_first_uses(aipm_store *base, int64_t through_batch,
                  const aipm_store_mark *since, aipm_first_use_cb cb, void *ctx,
                  aipm_error *err);
int pg_first_memberships(aipm_store *base, int64_t through_batch,
                         const aipm_store_mark *since, aipm_membership_cb cb,
                         void *ctx, aipm_error *err);
int pg_graph_rows(aipm_store *base, int64_t through_batch,
                  const aipm_store_mark *since, aipm_graph_csv_cb cb, void *ctx,
                  aipm_error *err);
int pg_event_day_range(aipm_store *base, int64_t *first_day, int64_t *last_day,
                       int *found, aipm_error *err);
int pg_user_event_times(aipm_store *base, aipm_user_time_cb cb, void *ctx,
                        aipm_error *err);
int pg_user_traits(aipm_store *base, const char *trait, int64_t before_ms,
                   aipm_user_value_cb cb, void *ctx, aipm_error *err);
int pg_account_traits(aipm_store *base, const char *trait, int64_t before_ms,
                      aipm_user_value_cb cb, void *ctx, aipm_error *err);

/* pg/models.c: the model registry. */
int pg_model_put(aipm_store *base, const aipm_model_row *row, aipm_error *err);
int pg_model_list(aipm_store *base, const char *name, int64_t version,
                  aipm_model_cb cb, void *ctx, aipm_error *err);
int pg_alias_move(aipm_store *base, const aipm_alias_move_row *row,
                  aipm_error *err);
int pg_alias_moves(aipm_store *base, const char *name, aipm_alias_move_cb cb,
                   void *ctx, aipm_error *err);
int pg_alias_get(aipm_store *base, const char *name, const char *alias,
                 int64_t *version, aipm_error *err);
int pg_monitor_put(aipm_store *base, const aipm_monitor_row *row,
                   aipm_error *err);
int pg_monitor_list(aipm_store *base, int64_t limit, aipm_monitor_cb cb,
                    void *ctx, aipm_error *err);

/* pg/tokens.c: the API tokens */
int pg_token_put(aipm_store *base, const aipm_token_row *row, int64_t *id_out,
                 aipm_error *err);
int pg_token_find(aipm_store *base, const char *token_sha256, aipm_token_cb cb,
                  void *ctx, aipm_error *err);
int pg_token_list(aipm_store *base, const char *user, aipm_token_cb cb,
                  void *ctx, aipm_error *err);
int pg_token_revoke(aipm_store *base, int64_t id, int64_t now_ms,
                    const char *by, const char *reason, aipm_error *err);

/* pg/reopen.c: the URL a namespace this process made was opened with
 * (malloc'd; NULL when url is no such namespace), and remembering it. */
char *aipm_pg__known_url(const char *url);
void aipm_pg__remember(const char *ns, const char *url);

#endif
