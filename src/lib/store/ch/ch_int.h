/* ch_int.h - the ClickHouse events backend (private).
 *
 * With `events_store: clickhouse://...` a workspace keeps its raw events
 * in ClickHouse and everything else (batches, quarantine, decisions, the
 * audit log, the CSV datasets) in its metadata store, SQLite or
 * PostgreSQL: the split PostHog runs. The metadata store is opened as
 * usual and this backend is attached to it as its events store
 * (struct aipm_store's `events`); store.c sends the event operations
 * here and every other one to the metadata store.
 *
 * ch/http.c: the HTTP interface over libcurl: statements, RowBinary rows
 *   in and out, errors, SQL literals;
 * ch/store.c: opening (the URL, the tables on every shard), writing
 *   events, the rows digest, counts, a batch id's leftovers;
 * ch/fallback.c: the analyses ClickHouse does not compute itself yet:
 *   the events they read are copied into a private SQLite store and the
 *   reference statements run there (docs/clickhouse.md);
 * ch/metrics.c: the experiments' moments, computed in ClickHouse.
 *
 * Dedupe: the messageId of every stored event is also a row of the
 * metadata store's events table (the id, batch, type and time only: its
 * user, names and payload are NULL), whose unique index on live keys
 * answers "already stored?" exactly, across batches and through reverts,
 * as it does for a SQLite workspace. ClickHouse holds the full rows;
 * analyses read them there, from batches the metadata store says are
 * accepted.
 *
 * Table events (ClickHouse; events_local per shard under a Distributed
 * events when a cluster is named): seq (the row's position: batch id
 * << 32 | its index in the batch, so later rows sort after), batch_id,
 * message_id, type, user_id, anonymous_id, event, group_id, ts, payload,
 * and nulls, a bit per column that was NULL (CH_NULL_*): the key columns
 * cannot be Nullable in ClickHouse 18.16, so NULL is '' plus a bit.
 */
#ifndef AIPM_STORE_CH_INT_H
#define AIPM_STORE_CH_INT_H

#include "store/store_int.h"

#include <stddef.h>
#include <stdint.h>

#define CH_NULL_USER 1
#define CH_NULL_ANON 2
#define CH_NULL_EVENT 4
#define CH_NULL_GROUP 8
#define CH_NULL_PAYLOAD 16

#define CH_MAX_SHARDS 16

typedef struct ch_conn ch_conn; /* ch/http.c */

/* A growing byte buffer. */
typedef struct ch_buf {
    char *p;
    size_t n, cap;
    int oom;
} ch_buf;

/* A private SQLite copy of events (ch/fallback.c): its store and file,
 * and the visibility clause it was made for. */
typedef struct ch_copy {
    aipm_store *st;
    char path[4096];
    ch_buf key;
} ch_copy;

typedef struct ch_store {
    struct aipm_store base;
    aipm_store *meta; /* the metadata store this one is attached to */
    ch_conn *conn;    /* to the URL's server: reads and inserts */
    char db[64];
    char cluster[64]; /* "" without a cluster */
    /* Where DDL and mutations go: each shard's base URL (shards=), or
     * none (n_shards 0: ON CLUSTER when a cluster is named, else the
     * URL's server). */
    char shard[CH_MAX_SHARDS][256];
    int n_shards;
    const char *local; /* the MergeTree's name: events_local or events */
    /* The events batch being written by this process: its id and next
     * row index (seq), and its running digest of the rows inserted
     * (aipm_store__event_sum_add); ids 0: none. */
    int64_t seq_batch, seq_next;
    int64_t ev_batch, ev_rows;
    aipm_sha256 ev_hash;
    /* Kept between event_put_many calls (the ingest's hot path): the
     * RowBinary of a block's new rows, and its key rows for the store. */
    ch_buf rows;
    aipm_event_row *keys;
    size_t keys_cap;
    char url[512]; /* redacted, for messages */
    /* The copy of every visible event the last operation on the copy
     * made, kept for the next while the visible batches are the same (an
     * analysis runs several), removed at close. */
    ch_copy cached;
} ch_store;

/* ---- ch/http.c ---- */

void aipm_ch__buf_free(ch_buf *b);
void aipm_ch__put(ch_buf *b, const void *p, size_t n);
void aipm_ch__puts(ch_buf *b, const char *s);
void aipm_ch__putf(ch_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as a ClickHouse string literal: quoted, every byte but letters,
 * digits, space and a few punctuation marks as \xHH (18.16 has no bound
 * parameters, so nothing a value holds can end the literal). NULL: the
 * keyword NULL. */
void aipm_ch__lit(ch_buf *b, const char *s);
/* RowBinary values: a String (LEB128 length, bytes), Int64, UInt64, UInt8
 * and Float64, little-endian. */
void aipm_ch__rb_str(ch_buf *b, const char *s, size_t n);
void aipm_ch__rb_i64(ch_buf *b, int64_t v);
void aipm_ch__rb_u8(ch_buf *b, unsigned v);

/* Reading RowBinary: a cursor over bytes; each get returns 0, or -1 when
 * the bytes end first (a row split between two reads: wait for more). */
typedef struct ch_rd {
    const unsigned char *p, *end;
} ch_rd;
int aipm_ch__get_str(ch_rd *r, const char **s, size_t *n);
int aipm_ch__get_i64(ch_rd *r, int64_t *v);
int aipm_ch__get_u64(ch_rd *r, uint64_t *v);
int aipm_ch__get_u8(ch_rd *r, unsigned *v);
int aipm_ch__get_f64(ch_rd *r, double *v);

/* One RowBinary row of a result: parse it from r (advancing r only on
 * success); return 0 and fill ctx, CH_ROW_CUT when the bytes end mid-row
 * (wait for the rest), or anything else to stop the walk: an aipm error
 * code or the callback's own answer, which the walk returns. */
#define CH_ROW_CUT (-1000)
typedef int (*ch_row_fn)(ch_rd *r, void *ctx);

/* The rows of a RowBinary answer as its bytes arrive, in pieces of any
 * size: each whole row goes to fn once, in order; a row split between
 * pieces waits in body for the rest. */
typedef struct ch_rows {
    ch_buf body; /* the bytes not yet parsed */
    ch_row_fn fn;
    void *ctx;
    int stop; /* fn's answer other than 0 and CH_ROW_CUT: no more rows */
} ch_rows;
/* Append n bytes and hand the whole rows among what is held to fn: 0,
 * AIPM_ENOMEM, or fn's stop answer. At the end of the answer, bytes left
 * in body are a row cut short. */
int aipm_ch__rows_feed(ch_rows *rs, const void *p, size_t n);

/* Connect to base URL (http://host:port) with user (NULL: default) and
 * the password in $AIPM_CLICKHOUSE_PASSWORD, if set. NULL when out of
 * memory. */
ch_conn *aipm_ch__connect(const char *base, const char *user, aipm_error *err);
void aipm_ch__close(ch_conn *c);

/* Run sql in database db (NULL: the server's default) with the URL
 * parameters params ("a=1&b=2" or NULL). With data non-NULL the
 * statement goes in the URL and data (n bytes) is the body (an INSERT's
 * rows). The result: with fn, rows in RowBinary handed to fn as they
 * arrive (sql must end FORMAT RowBinary); else, with out non-NULL, the
 * whole answer into out. Errors (no answer, a status other than 200, the
 * server's exception) become one line in err naming what, AIPM_EIO. */
int aipm_ch__run(ch_conn *c, const char *db, const char *sql,
                 const char *params, const void *data, size_t n, ch_row_fn fn,
                 void *ctx, ch_buf *out, aipm_error *err);
/* One number that sql answers (TSV, one value); AIPM_EIO when not. */
int aipm_ch__scalar(ch_conn *c, const char *db, const char *sql, int64_t *v,
                    aipm_error *err);

/* ---- ch/store.c ---- */

/* "batch_id IN (ids)" of the accepted events batches, into b (with
 * through_batch > 0: only ids <= it). */
int aipm_ch__visible(ch_store *s, ch_buf *b, int64_t through_batch,
                     aipm_error *err);

/* A row of the table as read back (COLUMNS order, store.c): the strings
 * message_id, type, user_id, anonymous_id, event, group_id, payload point
 * into the answer and are not NUL-terminated. */
typedef struct ch_event {
    int64_t seq, batch_id, ts;
    const char *s[7];
    size_t n[7];
    unsigned nulls;
} ch_event;
/* The SELECT list that reads a ch_event. */
#define CH_COLUMNS                                                             \
    "seq, batch_id, message_id, type, user_id, anonymous_id, event,"           \
    " group_id, ts, payload, nulls"
int aipm_ch__read_event(ch_rd *r, ch_event *e);
/* e as a row with NUL-terminated copies of its strings in scratch (valid
 * until scratch is next used), NULLs where its bits say. */
int aipm_ch__event_row(const ch_event *e, ch_buf *scratch, aipm_event_row *row);

/* ---- ch/fallback.c ---- */

/* Remove the cached copy of s's events, if any. */
void aipm_ch__copy_drop(ch_store *s);

/* ---- ch/metrics.c: computed in ClickHouse (users as units, no
 * breakdown), else on the copy ---- */
int aipm_ch__exposure_moments(aipm_store *st, const aipm_exposure_query *q,
                              const char *by_trait, aipm_moments_cb cb,
                              void *ctx, aipm_error *err);
int aipm_ch__exposure_quantile(aipm_store *st, const aipm_exposure_query *q,
                               double p, double *out, aipm_error *err);
int aipm_ch__population_moments(aipm_store *st, const aipm_event_measure *m,
                                int by_account, int conversion, int64_t from_ms,
                                int64_t to_ms, aipm_unit_moments *out,
                                aipm_error *err);

/* ---- ch/fallback.c: the analyses run on a private SQLite copy of the
 * events they read (each the store.h operation of the same name) ---- */
int aipm_ch__copy_exposure_moments(aipm_store *st, const aipm_exposure_query *q,
                                   const char *by_trait, aipm_moments_cb cb,
                                   void *ctx, aipm_error *err);
int aipm_ch__copy_exposure_quantile(aipm_store *st,
                                    const aipm_exposure_query *q, double p,
                                    double *out, aipm_error *err);
int aipm_ch__copy_population_moments(aipm_store *st,
                                     const aipm_event_measure *m,
                                     int by_account, int conversion,
                                     int64_t from_ms, int64_t to_ms,
                                     aipm_unit_moments *out, aipm_error *err);
int aipm_ch__kpi_activity(aipm_store *st, const aipm_periods *p,
                          aipm_period_activity *out, aipm_cohort_cb cohort,
                          void *ctx, aipm_error *err);
int aipm_ch__kpi_feature_users(aipm_store *st, const aipm_periods *p,
                               const char *const *events, const int *feature_of,
                               int n_events, int n_features, double *out,
                               aipm_error *err);
int aipm_ch__kpi_conversion(aipm_store *st, const aipm_periods *p,
                            const aipm_event_measure *m, int by_account,
                            int64_t window_ms, double *first, double *converted,
                            aipm_error *err);
int aipm_ch__kpi_retention(aipm_store *st, const aipm_periods *p,
                           int by_account, int from_day, int to_day,
                           double *eligible, double *retained, aipm_error *err);
int aipm_ch__kpi_events(aipm_store *st, const aipm_periods *p,
                        const aipm_event_measure *m, int by_account,
                        double *count, double *sum, double *units,
                        aipm_error *err);
int aipm_ch__kpi_active_accounts(aipm_store *st, const aipm_periods *p,
                                 double *out, aipm_error *err);
int aipm_ch__daily_active_users(aipm_store *st, aipm_daily_users_cb cb,
                                void *ctx, aipm_error *err);
int aipm_ch__event_daily_users(aipm_store *st, const char *const *events,
                               const char *const *labels, int n,
                               aipm_daily_users_cb cb, void *ctx,
                               aipm_error *err);
int aipm_ch__item_daily_users(aipm_store *st, aipm_daily_users_cb cb, void *ctx,
                              aipm_error *err);
int aipm_ch__account_arr_plan(aipm_store *st, int64_t before_ms,
                              aipm_account_arr_plan_cb cb, void *ctx,
                              aipm_error *err);
int aipm_ch__first_uses(aipm_store *st, int64_t through_batch,
                        const aipm_store_mark *since, aipm_first_use_cb cb,
                        void *ctx, aipm_error *err);
int aipm_ch__first_memberships(aipm_store *st, int64_t through_batch,
                               const aipm_store_mark *since,
                               aipm_membership_cb cb, void *ctx,
                               aipm_error *err);
int aipm_ch__user_event_times(aipm_store *st, aipm_user_time_cb cb, void *ctx,
                              aipm_error *err);
int aipm_ch__user_traits(aipm_store *st, const char *trait, int64_t before_ms,
                         aipm_user_value_cb cb, void *ctx, aipm_error *err);
int aipm_ch__account_traits(aipm_store *st, const char *trait,
                            int64_t before_ms, aipm_user_value_cb cb, void *ctx,
                            aipm_error *err);

#endif
