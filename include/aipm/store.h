/* store.h - the storage interface: batches, rows, quarantine, schema,
 * lineage runs and the audit log, behind one opaque handle.
 *
 * A store is opened from a URL: a plain path (or sqlite:PATH) selects the
 * embedded SQLite backend, the default. Later backends (postgresql://,
 * clickhouse://) implement the same operations (store_int.h's ops table), so
 * nothing above this header knows which engine holds the data.
 *
 * Writes happen inside an explicit transaction (aipm_store_begin/commit):
 * one transaction per ingest batch, so a killed process leaves no partial
 * batch. Strings passed in are copied or bound for the call only; strings
 * handed to callbacks are borrowed and valid during the callback.
 */
#ifndef AIPM_STORE_H
#define AIPM_STORE_H

#include "aipm/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aipm_store aipm_store;

/* Flags of aipm_store_open (1 keeps its old meaning, "create"). */
enum {
    AIPM_STORE_CREATE = 1,  /* create a new store (the file must not exist);
                               its files are made 0600 */
    AIPM_STORE_READONLY = 2 /* nothing will be written: open read-only, no
                               migrations (a store that needs one is an
                               error), no -wal/-shm created by us */
};

/* Open the store at url with flags (AIPM_STORE_*; 0 for read-write). Runs
 * schema migrations unless read-only. Returns AIPM_ENOTFOUND when the store
 * does not exist and CREATE is not set; AIPM_EINVALID when the file is not
 * an aipm store (another application's SQLite file, a text file, an empty
 * file) - it is then left untouched; AIPM_EIO when it cannot be opened.
 * Messages never show a password given in the URL. Free with _close. */
int aipm_store_open(aipm_store **out, const char *url, int flags,
                    aipm_error *err);
void aipm_store_close(aipm_store *st);

/* The URL with any password replaced by "***" (scheme://user:***@host...),
 * into out (cap bytes): for messages. */
void aipm_store_url_redact(char *out, size_t cap, const char *url);

/* How a writer waits for another process's write lock, for every store
 * opened after the call (process-wide; the front-end sets it once).
 * max_seconds < 0: wait as long as it takes; 0: do not wait. Every few
 * seconds of waiting, notify(ctx, store path, holder, seconds waited) is called
 * (may be NULL) so the front-end can say why nothing happens. When the
 * wait runs out the operation fails with AIPM_EIO (exit 1: not
 * AIPM_EBLOCKED, which is a gate or policy saying no) and a message naming
 * the store and the wait. */
typedef void (*aipm_store_wait_fn)(void *ctx, const char *store,
                                   const char *holder, double waited_seconds);
void aipm_store_set_wait(double max_seconds, aipm_store_wait_fn notify,
                         void *ctx);

/* What this process writes, in a few words (the front-end passes its
 * command line; process-wide, copied, NULL for nothing). While one of its
 * write transactions is open, an aipm process waiting for the lock gets it
 * as notify's holder ("aipm ingest events x.ndjson (pid 4242)"); holder is
 * NULL when the lock is held by something that left no such note (the
 * sqlite3 shell, a process that died). */
void aipm_store_set_activity(const char *what);

/* The schema version the store is at after migrations. */
int aipm_store_schema_version(aipm_store *st);

/* A short description of the backend and its location, e.g. "sqlite:/x.db",
 * used as the OpenLineage namespace of datasets in this store. */
const char *aipm_store_namespace(aipm_store *st);

int aipm_store_begin(aipm_store *st, aipm_error *err);
int aipm_store_commit(aipm_store *st, aipm_error *err);
void aipm_store_rollback(aipm_store *st);
/* Whether a transaction is open on this connection: what it wrote is seen
 * by no other connection (a reader on a second connection would miss it). */
int aipm_store_in_transaction(aipm_store *st);

/* ---- batches (dataset versions) ---- */

typedef struct aipm_batch_info {
    int64_t id;
    char dataset[16];
    char status[12];  /* loading, accepted, staged, rejected, reverted */
    char verdict[12]; /* pass, warn, blocked */
    char source_sha256[65];
    char content_sha256[65];
    char rows_sha256[65]; /* the rows stored (aipm_store_rows_digest); ""
                           * for a batch ingested before migration 8 */
    char run_id[37];
    int64_t created_ms;
    int64_t n_read, n_accepted, n_duplicates, n_quarantined;
    const char *source; /* borrowed (callbacks) or owned (batch_get) */
    const char *report; /* JSON quality report */
} aipm_batch_info;

/* Create a batch row with status "loading"; *out_id receives its id. */
int aipm_store_batch_new(aipm_store *st, int64_t *out_id, const char *dataset,
                         const char *source, const char *source_sha256,
                         const char *run_id, int64_t created_ms,
                         aipm_error *err);
/* Record the outcome of a batch: counts, hashes, status, verdict, report. */
int aipm_store_batch_finish(aipm_store *st, const aipm_batch_info *info,
                            aipm_error *err);
/* Load one batch; owned strings freed by aipm_batch_info_clear. */
int aipm_store_batch_get(aipm_store *st, aipm_batch_info *out, int64_t id,
                         aipm_error *err);
void aipm_batch_info_clear(aipm_batch_info *info);
int aipm_store_batch_set_status(aipm_store *st, int64_t id, const char *status,
                                aipm_error *err);
typedef int (*aipm_batch_cb)(void *ctx, const aipm_batch_info *info);
/* Batches, newest first; dataset may be NULL for all; latest_only keeps the
 * newest batch of each dataset. A non-zero callback return stops and is
 * returned. */
int aipm_store_batch_list(aipm_store *st, const char *dataset, int latest_only,
                          aipm_batch_cb cb, void *ctx, aipm_error *err);

/* ---- rows ---- */

typedef struct aipm_event_row {
    const char *message_id;
    const char *type;
    const char *user_id;      /* may be NULL */
    const char *anonymous_id; /* may be NULL */
    const char *event;        /* track only */
    const char *group_id;     /* group only */
    int64_t ts_ms;
    const char *payload; /* properties (track) or traits: JSON object text */
    size_t payload_len;
} aipm_event_row;

/* Insert one event into batch; *inserted is 1, or 0 when its messageId is
 * already stored (a duplicate, nothing written). */
int aipm_store_event_put(aipm_store *st, int64_t batch_id,
                         const aipm_event_row *row, int *inserted,
                         aipm_error *err);

/* Insert rows[0..n) into batch in order, as n calls of
 * aipm_store_event_put would: inserted[i] is 1, or 0 for a duplicate (of
 * a stored row or of an earlier row of the call). A backend may send them
 * as one bulk write. */
int aipm_store_event_put_many(aipm_store *st, int64_t batch_id,
                              const aipm_event_row *rows, size_t n,
                              unsigned char *inserted, aipm_error *err);

/* The CSV datasets: backlog, feedback, signals, graph. `values` holds one
 * string (or NULL for empty) per column of the dataset's contract, in the
 * order aipm_dataset_columns() gives. key identifies the record; row_sha the
 * exact content, so an identical re-send is a duplicate (*inserted = 0) and a
 * changed row under the same key is a new version. */
int aipm_store_row_put(aipm_store *st, const char *dataset, int64_t batch_id,
                       const char *key, const char *row_sha,
                       const char *const *values, int *inserted,
                       aipm_error *err);

/* Rows of a dataset visible to analyses (in accepted batches). */
int aipm_store_count_visible(aipm_store *st, const char *dataset, int64_t *out,
                             aipm_error *err);

/* ---- quarantine ---- */

typedef struct aipm_quarantine_row {
    int64_t batch_id;
    const char *dataset;
    const char *file;
    int64_t line;
    const char *reason;
    const char *detail;
    const char *raw;
    size_t raw_len;
} aipm_quarantine_row;

int aipm_store_quarantine_put(aipm_store *st, const aipm_quarantine_row *row,
                              aipm_error *err);
typedef int (*aipm_quarantine_cb)(void *ctx, const aipm_quarantine_row *row);
/* Newest first; reason and batch_id (0 = any) filter; limit 0 = no limit. */
int aipm_store_quarantine_list(aipm_store *st, const char *reason,
                               int64_t batch_id, int64_t limit,
                               aipm_quarantine_cb cb, void *ctx,
                               aipm_error *err);

/* ---- learned property schema (per event name, versioned) ---- */

typedef int (*aipm_schema_cb)(void *ctx, const char *event,
                              const char *property, const char *type,
                              int version);
/* The newest version of each (event, property). */
int aipm_store_schema_load(aipm_store *st, aipm_schema_cb cb, void *ctx,
                           aipm_error *err);
int aipm_store_schema_put(aipm_store *st, const char *event,
                          const char *property, const char *type, int version,
                          int64_t batch_id, aipm_error *err);

/* ---- daily volume, for the volume gate ---- */

int aipm_store_volume_put(aipm_store *st, const char *dataset, int64_t day,
                          int64_t batch_id, int64_t n, aipm_error *err);
/* Mean daily row count of accepted batches over days [from_day, to_day)
 * that have any rows; *days receives how many such days there were. */
int aipm_store_volume_mean(aipm_store *st, const char *dataset,
                           int64_t from_day, int64_t to_day, double *mean,
                           int64_t *days, aipm_error *err);

/* ---- lineage runs ---- */

typedef struct aipm_run_row {
    const char *id; /* UUID */
    const char *job;
    const char *state; /* COMPLETE, FAIL */
    int64_t started_ms, ended_ms;
    const char *inputs;  /* JSON array */
    const char *outputs; /* JSON array */
    const char *facets;  /* JSON object of run facets, may be NULL */
} aipm_run_row;

int aipm_store_run_put(aipm_store *st, const aipm_run_row *run,
                       aipm_error *err);
typedef int (*aipm_run_cb)(void *ctx, const aipm_run_row *run);
/* Oldest first. */
int aipm_store_run_list(aipm_store *st, aipm_run_cb cb, void *ctx,
                        aipm_error *err);

/* ---- audit log rows (the format lives in govern/audit) ---- */

typedef struct aipm_audit_row {
    int64_t seq;
    const char *entry; /* canonical bytes */
    size_t entry_len;
    const uint8_t *leaf; /* 32 bytes */
    const uint8_t *root; /* 32 bytes: tree head after this entry */
} aipm_audit_row;

int aipm_store_audit_put(aipm_store *st, const aipm_audit_row *row,
                         aipm_error *err);
typedef int (*aipm_audit_cb)(void *ctx, const aipm_audit_row *row);
/* In storage order (by seq). */
int aipm_store_audit_list(aipm_store *st, aipm_audit_cb cb, void *ctx,
                          aipm_error *err);
/* The last row, or *found = 0 on an empty log. */
int aipm_store_audit_last(aipm_store *st, int64_t *seq, uint8_t root[32],
                          int *found, aipm_error *err);

/* The log's frontier: the state an append continues from (the roots of
 * its perfect subtrees, opaque bytes of govern/audit) after size entries,
 * so an append need not read the log. Get: *found = 0 when none is kept
 * (a store of before migration 6) or it does not fit cap. Put replaces
 * it, in the caller's transaction. */
int aipm_store_audit_frontier_get(aipm_store *st, int64_t *size, void *buf,
                                  size_t cap, size_t *len, int *found,
                                  aipm_error *err);
int aipm_store_audit_frontier_put(aipm_store *st, int64_t size, const void *buf,
                                  size_t len, aipm_error *err);

/* ---- counts and the analyses' index ---- */

/* How many track events named `event` the accepted batches hold, counting
 * at most cap of them (cap <= 0: all). cap 1 asks "does it ever occur",
 * which analyses use to warn about a misspelled event in aipm.yaml. */
int aipm_store_event_count(aipm_store *st, const char *event, int64_t cap,
                           int64_t *out, aipm_error *err);

/* Make sure the index analyses read events through exists:
 * events(user_id, event, ts, batch_id). Built on first use (about 30 s for
 * 20 million events here); ingest maintains it afterwards, at a cost (see
 * the README's performance table). */
int aipm_store_analysis_index(aipm_store *st, aipm_error *err);

/* ---- decision records ---- */

typedef struct aipm_decision_row {
    const char *id; /* UUID */
    int64_t time_ms;
    const char *kind;    /* e.g. experiment */
    const char *subject; /* e.g. the experiment key */
    const char *decision;
    const char *inputs; /* JSON: dataset batches */
    const char *params; /* JSON */
    const char *output_sha256;
    const char *output;        /* the full output, canonical JSON; NULL for a
                                * record made before migration 5, or when a list
                                * did not ask for it */
    const char *status;        /* proposed, approved, rejected, overridden,
                                * superseded, stale */
    const char *model;         /* name/version; NULL before migration 8 */
    const char *rationale;     /* in words */
    double confidence;         /* 0..1; NAN when there is none */
    const char *code_version;  /* git describe of the build */
    const char *policy_sha256; /* the policies in force */
} aipm_decision_row;

/* Stores row (its status is "proposed"). */
int aipm_store_decision_put(aipm_store *st, const aipm_decision_row *row,
                            aipm_error *err);

/* Which decision records aipm_store_decision_list returns: each non-NULL
 * field must match; with_output also reads the full output. */
typedef struct aipm_decision_filter {
    const char *id, *kind, *status;
    int with_output;
} aipm_decision_filter;

typedef int (*aipm_decision_cb)(void *ctx, const aipm_decision_row *row);

/* The matching records, oldest first; strings are borrowed for the call.
 * A non-zero return from cb stops the walk and is returned. */
int aipm_store_decision_list(aipm_store *st, const aipm_decision_filter *f,
                             aipm_decision_cb cb, void *ctx, aipm_error *err);

/* Record that decision_id read batch_id. */
int aipm_store_decision_input_put(aipm_store *st, const char *decision_id,
                                  int64_t batch_id, aipm_error *err);
/* The records that read batch_id, with their status. */
typedef int (*aipm_decision_ref_cb)(void *ctx, const char *id,
                                    const char *status);
int aipm_store_decisions_reading(aipm_store *st, int64_t batch_id,
                                 aipm_decision_ref_cb cb, void *ctx,
                                 aipm_error *err);

/* Set a decision record's status (approved, rejected, overridden,
 * superseded, stale); AIPM_ENOTFOUND when there is no record id. */
int aipm_store_decision_set_status(aipm_store *st, const char *id,
                                   const char *status, aipm_error *err);

/* ---- people and their approvals (the rules live in govern/people) ---- */

typedef struct aipm_user_row {
    const char *name;
    const char *role;         /* viewer, analyst, approver or admin */
    const char *verifier_key; /* C2SP verifier key text; NULL: none yet */
    int64_t time_ms;          /* when added or last changed */
} aipm_user_row;

/* Add the user or replace its row. */
int aipm_store_user_put(aipm_store *st, const aipm_user_row *row,
                        aipm_error *err);
typedef int (*aipm_user_cb)(void *ctx, const aipm_user_row *row);
/* Users by name (name NULL: all). */
int aipm_store_user_list(aipm_store *st, const char *name, aipm_user_cb cb,
                         void *ctx, aipm_error *err);

typedef struct aipm_approval_row {
    int64_t seq; /* the audit entry that records it */
    const char *decision_id;
    const char *action; /* approve, reject or override */
    const char *user;
    int64_t time_ms;
    const char *reason;
    const char *value;     /* an override's value (canonical JSON) */
    const char *message;   /* the exact text the user signed */
    const char *signature; /* base64(key ID || ed25519 signature) */
} aipm_approval_row;

int aipm_store_approval_put(aipm_store *st, const aipm_approval_row *row,
                            aipm_error *err);
typedef int (*aipm_approval_cb)(void *ctx, const aipm_approval_row *row);
/* A decision's approvals in log order (decision_id NULL: all). */
int aipm_store_approval_list(aipm_store *st, const char *decision_id,
                             aipm_approval_cb cb, void *ctx, aipm_error *err);

/* ---- typed reads of the datasets for the feedback linker ----
 * Each reads the accepted batches only, the newest row of each key, in
 * the order the rows were stored. */

typedef struct aipm_backlog_text {
    const char *id, *title, *description; /* description: "" for none */
} aipm_backlog_text;
typedef int (*aipm_backlog_text_cb)(void *ctx, const aipm_backlog_text *r);
int aipm_store_backlog_texts(aipm_store *st, aipm_backlog_text_cb cb, void *ctx,
                             aipm_error *err);

typedef struct aipm_feedback_text {
    const char *id, *text, *item_id, *account_id, *created_at; /* NULL: none */
} aipm_feedback_text;
typedef int (*aipm_feedback_text_cb)(void *ctx, const aipm_feedback_text *r);
int aipm_store_feedback_texts(aipm_store *st, aipm_feedback_text_cb cb,
                              void *ctx, aipm_error *err);
/* How many feedback keys the accepted batches hold. */
int aipm_store_feedback_count(aipm_store *st, int64_t *n, aipm_error *err);

/* People's link corrections, oldest first: item_id "" for about no item. */
typedef int (*aipm_link_fix_cb)(void *ctx, const char *feedback_id,
                                const char *item_id);
int aipm_store_link_list(aipm_store *st, aipm_link_fix_cb cb, void *ctx,
                         aipm_error *err);

/* Whether the accepted rows of a CSV dataset hold a row with this id. */
int aipm_store_row_visible(aipm_store *st, const char *dataset, const char *id,
                           int *found, aipm_error *err);

/* ---- policy versions ---- */

typedef struct aipm_policy_row {
    int64_t seq; /* its audit entry */
    int64_t time_ms;
    const char *policy_sha256;
    const char *policies; /* canonical JSON */
    const char *actor;
    const char *reason;
} aipm_policy_row;

int aipm_store_policy_put(aipm_store *st, const aipm_policy_row *row,
                          aipm_error *err);
typedef int (*aipm_policy_cb)(void *ctx, const aipm_policy_row *row);
/* The versions, newest first; latest_only: the newest alone. */
int aipm_store_policy_list(aipm_store *st, int latest_only, aipm_policy_cb cb,
                           void *ctx, aipm_error *err);

/* ---- the model registry ---- */

/* A trained model version: immutable once stored. */
typedef struct aipm_model_row {
    const char *name;            /* value, adoption */
    int64_t version;             /* 1, 2, ... per name */
    int64_t seq;                 /* the audit entry that records it */
    int64_t time_ms;             /* when trained */
    const char *actor;           /* who trained it */
    const char *artifact_sha256; /* of artifact */
    const char *artifact;        /* the parameters (canonical JSON) */
    const char *card;            /* the model card (canonical JSON) */
} aipm_model_row;

int aipm_store_model_put(aipm_store *st, const aipm_model_row *row,
                         aipm_error *err);
typedef int (*aipm_model_cb)(void *ctx, const aipm_model_row *row);
/* Versions by name, then version (name NULL: every model; version 0:
 * every version). */
int aipm_store_model_list(aipm_store *st, const char *name, int64_t version,
                          aipm_model_cb cb, void *ctx, aipm_error *err);

/* A move of an alias (production, candidate, any name) of a model. */
typedef struct aipm_alias_move_row {
    int64_t seq; /* the audit entry that records it */
    const char *name, *alias;
    int64_t from_version; /* 0: the alias was not set */
    int64_t to_version;   /* 0: the alias is removed */
    int64_t time_ms;
    const char *actor, *reason;
} aipm_alias_move_row;

/* Log the move and point the alias at to_version (0: remove it). */
int aipm_store_alias_move(aipm_store *st, const aipm_alias_move_row *row,
                          aipm_error *err);
typedef int (*aipm_alias_move_cb)(void *ctx, const aipm_alias_move_row *row);
/* The moves of a model's aliases (name NULL: every model), oldest first. */
int aipm_store_alias_moves(aipm_store *st, const char *name,
                           aipm_alias_move_cb cb, void *ctx, aipm_error *err);
/* Where an alias points now; *version 0 when it is not set. */
int aipm_store_alias_get(aipm_store *st, const char *name, const char *alias,
                         int64_t *version, aipm_error *err);

/* A monitoring run (`aipm monitor`): its overall status and report. */
typedef struct aipm_monitor_row {
    int64_t seq; /* the audit entry that records it */
    int64_t time_ms;
    const char *status; /* ok, warn or alert */
    const char *report; /* canonical JSON */
} aipm_monitor_row;

int aipm_store_monitor_put(aipm_store *st, const aipm_monitor_row *row,
                           aipm_error *err);
typedef int (*aipm_monitor_cb)(void *ctx, const aipm_monitor_row *row);
/* The runs, newest first; limit 0: all. */
int aipm_store_monitor_list(aipm_store *st, int64_t limit, aipm_monitor_cb cb,
                            void *ctx, aipm_error *err);

/* ---- API tokens (the HTTP API's bearer tokens) ---- */

/* A token as stored: never the token itself, only its SHA-256 and a hint
 * (its first characters) to tell tokens apart. */
typedef struct aipm_token_row {
    int64_t id;               /* 1, 2, ...; put ignores it */
    const char *user;         /* whose token: acts with their role */
    const char *name;         /* what it is for, e.g. "default" */
    const char *token_sha256; /* hex SHA-256 of the whole token string */
    const char *hint;         /* the token's first 9 characters */
    const char *created_by;   /* who signed its creation (NULL: nobody) */
    const char *revoked_by, *revoke_reason; /* NULL until revoked */
    int64_t created_ms;
    int64_t revoked_ms; /* 0: not revoked */
} aipm_token_row;

/* Store a new token (row->id and the revoked fields are ignored); *id_out
 * gets its id, the next after the highest. A store error when the digest
 * is already stored (it is UNIQUE). */
int aipm_store_token_put(aipm_store *st, const aipm_token_row *row,
                         int64_t *id_out, aipm_error *err);
typedef int (*aipm_token_cb)(void *ctx, const aipm_token_row *row);
/* The token whose digest is token_sha256: cb gets it, or is not called
 * when there is none (AIPM_OK either way). */
int aipm_store_token_find(aipm_store *st, const char *token_sha256,
                          aipm_token_cb cb, void *ctx, aipm_error *err);
/* The tokens of user (NULL: everyone's), by id. */
int aipm_store_token_list(aipm_store *st, const char *user, aipm_token_cb cb,
                          void *ctx, aipm_error *err);
/* Mark token id revoked at now_ms by by, for reason. AIPM_ENOTFOUND when
 * there is no such token, AIPM_EINVALID when it is already revoked. */
int aipm_store_token_revoke(aipm_store *st, int64_t id, int64_t now_ms,
                            const char *by, const char *reason,
                            aipm_error *err);

/* ---- the digest of the rows a batch stored ---- */

typedef int (*aipm_rows_digest_cb)(void *ctx, int64_t batch_id, int64_t rows,
                                   const uint8_t sha[32]);

/* The SHA-256 of the rows each batch of dataset (events, or a CSV
 * dataset) stored, with how many: batch_id 0 reads every batch in one scan
 * of the table, else only that batch. Rows are taken in the order they
 * were stored, and each contributes its columns in table order, without
 * the row id, batch_id and live (which revert changes), each encoded by
 * its type: 'n' for NULL; 'i' and 8 bytes big-endian for an integer; 'r'
 * and the 8 bytes of the IEEE 754 double, big-endian, for a real; 't' or
 * 'b', the length as 8 bytes big-endian, and the bytes, for text or a
 * blob (docs/storage.md). A batch with no rows is not reported. */
int aipm_store_rows_digest(aipm_store *st, const char *dataset,
                           int64_t batch_id, aipm_rows_digest_cb cb, void *ctx,
                           aipm_error *err);

/* ---- feedback link corrections ---- */

/* Record a person's link of a feedback row to an item (a row may be linked
 * to several), or an unlink: the row is not about the item; when no item
 * a person linked is left, the row is about no item (item_id ''). Read
 * back with aipm_store_query on feedback_links(feedback_id, item_id,
 * actor, time_ms). */
int aipm_store_link_put(aipm_store *st, const char *feedback_id,
                        const char *item_id, int unlink, const char *actor,
                        int64_t time_ms, aipm_error *err);

/* ---- the CSV dataset contracts (DESIGN.md section 4) ---- */

typedef enum aipm_col_type {
    AIPM_COL_TEXT,   /* any UTF-8 text */
    AIPM_COL_NUMBER, /* a finite decimal number */
    AIPM_COL_DATE,   /* YYYY-MM-DD or RFC 3339; stored normalised, UTC */
    AIPM_COL_ENUM,   /* one of enum_values ("a|b|c") */
    AIPM_COL_NODE    /* a typed graph node id: user:, account:, feature: */
} aipm_col_type;

typedef struct aipm_column {
    const char *name;
    aipm_col_type type;
    int required;            /* non-empty value required */
    const char *enum_values; /* AIPM_COL_ENUM only */
    double min_exclusive;    /* AIPM_COL_NUMBER: value must exceed (or NAN) */
    double min_inclusive;    /* AIPM_COL_NUMBER: value must be >= (or NAN) */
} aipm_column;

typedef struct aipm_dataset_def {
    const char *name; /* backlog, feedback, signals, graph */
    const aipm_column *cols;
    int n_cols;
    const int *key_cols; /* indexes into cols forming the record key */
    int n_key_cols;
    int time_col; /* index of the column used for freshness, or -1 */
} aipm_dataset_def;

/* The contract of a CSV dataset by name, or NULL. Borrowed, static. */
const aipm_dataset_def *aipm_dataset_find(const char *name);

/* ---- push-down reads for the metrics: experiments and KPIs ----
 *
 * The store computes what the analyses need of the events and returns
 * sufficient statistics, never the events. Each reads the events of
 * accepted batches only. Where a metric's unit is the account, a user's
 * account is the group_id of their newest `group` call (largest ts) before
 * the end of what the operation reads; users with no group call have no
 * account and are not counted. */

/* Which events a metric counts, and what each is worth. */
typedef struct aipm_event_measure {
    int any_event;             /* 1: every event counts (events ignored) */
    const char *const *events; /* else the track event names that count */
    int n_events;              /* (0: none counts) */
    const char *sum_property;  /* NULL: each event is worth 1; else the
                                * value of this payload property, a missing
                                * one counting 0 */
    const char *where_key;     /* non-NULL: only events whose payload
                                * property where_key is the string */
    const char *where_value;   /* where_value */
} aipm_event_measure;

/* The units of an experiment and the metric measured on each.
 *
 * Exposure: a user is exposed at their first 'Experiment Viewed' event
 * with properties experiment_id = experiment in [start_ms, end_ms), to the
 * smallest variation_id they saw there; a user who saw two variations is
 * multi-exposed and left out. An account is exposed when its first
 * exposed member is, at that time, to the smallest variation its members
 * saw; it is multi-exposed when its members saw two. An account's value
 * is the sum of all its members' values, exposed or not.
 *
 * Value y of a unit exposed at t0: the measure `y` over the unit's events
 * other than 'Experiment Viewed' with t0 + lo_ms <= ts < min(t0 + hi_ms,
 * end_ms). Covariate x: with x non-NULL, the measure *x over the same
 * window ('Experiment Viewed' not excluded: a ratio's denominator);
 * else with pre_ms > 0, the measure y over [t0 - pre_ms, t0) (CUPED);
 * else 0. With conversion, y and x are each clipped to 1; then both are
 * capped at cap unless cap is NAN. */
typedef struct aipm_exposure_query {
    const char *experiment;
    int64_t start_ms, end_ms;
    int by_account;
    aipm_event_measure y;
    int64_t lo_ms, hi_ms;
    int64_t pre_ms;
    const aipm_event_measure *x;
    int conversion;
    double cap;
} aipm_exposure_query;

/* The moments of a group of units: count, sums of y, y^2, x, x^2, x*y. */
typedef struct aipm_unit_moments {
    double n, sum, sum_sq, x_sum, x_sum_sq, xy_sum;
} aipm_unit_moments;

/* level: the trait level (NULL without a breakdown); variation: the group
 * (NULL for the one row whose n is the number of multi-exposed units). */
typedef int (*aipm_moments_cb)(void *ctx, const char *level,
                               const char *variation,
                               const aipm_unit_moments *m);

/* The moments per variation, then (variation NULL) the multi-exposed
 * count. With by_trait non-NULL, instead one row per (level, variation),
 * levels ordered by unit count (descending, then by level): a user's level
 * is the trait by_trait of their newest identify call that has it, else of
 * their account's newest group call that has it, else "(none)"; an
 * account's is its newest group call's; the 20 biggest levels are kept,
 * the rest pooled as "(other)". Variations appear as stored, including
 * ones aipm.yaml does not name. */
int aipm_store_exposure_moments(aipm_store *st, const aipm_exposure_query *q,
                                const char *by_trait, aipm_moments_cb cb,
                                void *ctx, aipm_error *err);

/* The per-unit value y at quantile p (0..1) over all variations (the
 * value of rank floor(p * (n - 1)) in ascending order, before any cap);
 * NAN when there are no units. */
int aipm_store_exposure_quantile(aipm_store *st, const aipm_exposure_query *q,
                                 double p, double *out, aipm_error *err);

/* The moments (n, sum, sum_sq) of measure m over the units (users, or
 * accounts with by_account) active - any event - in [from_ms, to_ms), each
 * unit's value the measure over its events in that range (0 for none),
 * clipped to 1 with conversion. */
int aipm_store_population_moments(aipm_store *st, const aipm_event_measure *m,
                                  int by_account, int conversion,
                                  int64_t from_ms, int64_t to_ms,
                                  aipm_unit_moments *out, aipm_error *err);

/* The periods of a KPI report: the UTC days [from_day, to_day] (days since
 * 1970-01-01) cut into n periods, period i the days [first[i], last[i]].
 * Every KPI operation fills arrays of n values, one per period, zero where
 * there is nothing; nothing after to_day is read. Activity is any track,
 * identify or group event of a unit; a unit's first day is the day of its
 * first such event. */
typedef struct aipm_periods {
    int64_t from_day, to_day;
    const int64_t *first, *last;
    int n;
} aipm_periods;

typedef struct aipm_period_activity {
    double dau_sum;         /* sum over its days of the users active */
    double active;          /* distinct users active in it */
    double wau, mau;        /* distinct users active in the 7 and 30 days
                             * ending at its last day */
    double new_users;       /* users whose first day is in it */
    double ret[3], elig[3]; /* of those, D1, D7, D30: active on day 1, 7,
                             * 30 after the first day; eligible: that day
                             * is <= to_day */
} aipm_period_activity;

/* Weekly cohorts: users whose first day is in ISO week `week` ((day + 3)
 * / 7, for first days in the range) active in the week `lag` weeks
 * later. */
typedef int (*aipm_cohort_cb)(void *ctx, int64_t week, int64_t lag,
                              double users);

/* Users' activity per period into out[n], and the cohort cells through
 * cohort (may be NULL). */
int aipm_store_kpi_activity(aipm_store *st, const aipm_periods *p,
                            aipm_period_activity *out, aipm_cohort_cb cohort,
                            void *ctx, aipm_error *err);

/* Users of each feature per period: event i belongs to feature
 * feature_of[i] (0..n_features-1); out[period * n_features + feature] is
 * the number of distinct users with one of its events in the period. */
int aipm_store_kpi_feature_users(aipm_store *st, const aipm_periods *p,
                                 const char *const *events,
                                 const int *feature_of, int n_events,
                                 int n_features, double *out, aipm_error *err);

/* Per period: units whose first day is in it (first[]), and of them
 * those whose first event of measure m (its events and filter) came
 * less than window_ms after their first event (converted[]). */
int aipm_store_kpi_conversion(aipm_store *st, const aipm_periods *p,
                              const aipm_event_measure *m, int by_account,
                              int64_t window_ms, double *first,
                              double *converted, aipm_error *err);

/* Per period: units whose first day d0 is in it and d0 + to_day <=
 * p->to_day (eligible[]), and of them those active on a day in [d0 +
 * from_day, d0 + to_day] (retained[]). */
int aipm_store_kpi_retention(aipm_store *st, const aipm_periods *p,
                             int by_account, int from_day, int to_day,
                             double *eligible, double *retained,
                             aipm_error *err);

/* Per period: the events of measure m (count[]), their summed value
 * (sum[]: the property, or 1 each) and the distinct units that did them
 * (units[]). */
int aipm_store_kpi_events(aipm_store *st, const aipm_periods *p,
                          const aipm_event_measure *m, int by_account,
                          double *count, double *sum, double *units,
                          aipm_error *err);

/* Per period: the distinct accounts active in it. */
int aipm_store_kpi_active_accounts(aipm_store *st, const aipm_periods *p,
                                   double *out, aipm_error *err);

/* ---- push-down reads for prioritize (signals) ----
 * What the backlog prioritizer reads of the store (prioritize/signals.c).
 * Each reads the accepted batches only. "Day" is ts_ms / 86400000 in
 * integer division truncated toward zero (C's `/`, SQL's integer `/`), so
 * a timestamp before 1970 belongs to the day that rounds toward zero.
 * Strings handed to callbacks are borrowed for the call; a non-zero
 * return from a callback stops the read and is returned. Each returns
 * AIPM_OK, that return, or a negative code: AIPM_EIO when the store
 * cannot be read, AIPM_ENOMEM, AIPM_ERROR for another failure. */

/* A backlog item (the backlog dataset's contract, DESIGN.md section 4).
 * Text columns are NULL where the column is empty; dates are the stored
 * normalised text (YYYY-MM-DD or RFC 3339, UTC). Number columns are the
 * stored number, and NAN where the column is empty (effort is required,
 * so NAN there only for a row stored outside ingest). */
typedef struct aipm_backlog_item {
    const char *id, *title, *area, *feature_key, *status;
    double effort; /* person-weeks */
    const char *created_at, *shipped_at;
    double reach, impact, confidence; /* the PM's RICE inputs */
} aipm_backlog_item;
typedef int (*aipm_backlog_item_cb)(void *ctx, const aipm_backlog_item *r);

/* The newest stored row of each backlog id, in the order the rows were
 * stored (oldest first). */
int aipm_store_backlog_items(aipm_store *st, aipm_backlog_item_cb cb, void *ctx,
                             aipm_error *err);

/* A count of distinct users on one day, for a key (what the key is
 * depends on the read; NULL when the read has none). */
typedef struct aipm_daily_users {
    const char *key;
    int64_t day;
    int64_t users; /* >= 1: days without users are not reported */
} aipm_daily_users;
typedef int (*aipm_daily_users_cb)(void *ctx, const aipm_daily_users *r);

/* Daily active users: for each day with events, how many distinct
 * user_ids the events of that day carry (events of any type; events with
 * no user_id, anonymous only, are not counted). key is NULL. In ascending
 * day order, each day once. */
int aipm_store_daily_active_users(aipm_store *st, aipm_daily_users_cb cb,
                                  void *ctx, aipm_error *err);

/* Users of labelled events: events[i] carries the label labels[i], for
 * i < n (an event may carry several labels, a label several events; a
 * repeated pair counts once). For each label and day, how many distinct
 * user_ids the events (of any type) named one of the label's events carry,
 * not counting events with no user_id; key is the label. In no particular
 * order, each (label, day) once. A pair whose event or label is NULL or
 * not valid UTF-8 is ignored. n = 0 reports nothing. */
int aipm_store_event_daily_users(aipm_store *st, const char *const *events,
                                 const char *const *labels, int n,
                                 aipm_daily_users_cb cb, void *ctx,
                                 aipm_error *err);

/* Users of each backlog item, by the instrumentation convention: track
 * events with a user_id whose properties hold a top-level item_id. For
 * each item_id value and day, how many distinct user_ids; key is the
 * item_id as text (the "JSON value as text" rule below). An item_id of
 * JSON null is no item_id. Only events whose stored properties text
 * contains "item_id" with its quotes, literally, are read (a key written
 * with JSON escapes is not seen). In no particular order, each (item_id,
 * day) once.
 *
 * A JSON value as text, here and in aipm_store_account_arr_plan: a string
 * as itself (unescaped); an integer in decimal; any other number as
 * SQLite prints a real (e.g. 4.5); true and false as 1 and 0; an object or
 * an array as compact JSON text. */
int aipm_store_item_daily_users(aipm_store *st, aipm_daily_users_cb cb,
                                void *ctx, aipm_error *err);

/* A row of the signals dataset (market signals). */
typedef struct aipm_market_signal {
    const char *area;   /* "" when the column is empty */
    const char *signal; /* NULL when empty (required: never, via ingest) */
    const char *date;   /* the stored normalised date; NULL when empty */
    double value;       /* NAN when empty (required: never, via ingest) */
} aipm_market_signal;
typedef int (*aipm_market_signal_cb)(void *ctx, const aipm_market_signal *r);

/* Every stored row of the signals dataset, every version of a key (not
 * only the newest), in the order the rows were stored (oldest first). */
int aipm_store_market_signals(aipm_store *st, aipm_market_signal_cb cb,
                              void *ctx, aipm_error *err);

/* An account's ARR and plan, from the traits of its newest group event. */
typedef struct aipm_account_arr_plan {
    const char *account_id; /* the group events' group_id */
    /* The trait arr as a number: a JSON number as itself, true 1, false
     * 0, a string as the decimal number its text begins with after
     * leading spaces (0 when none: SQLite's text-to-real conversion), an
     * object or array 0; NAN when the trait is absent, JSON null or the
     * empty string. */
    double arr;
    /* The trait plan as text (a JSON value as text, see
     * aipm_store_item_daily_users); NULL when absent or JSON null. */
    const char *plan;
    int64_t time_ms; /* the timestamp of the group event read */
} aipm_account_arr_plan;
typedef int (*aipm_account_arr_plan_cb)(void *ctx,
                                        const aipm_account_arr_plan *r);

/* For each account (group_id) of the group events with a timestamp before
 * before_ms, the traits arr and plan of its newest such event (on a tie of
 * timestamps, of any one of them). In ascending account_id order (byte
 * order), each account once. */
int aipm_store_account_arr_plan(aipm_store *st, int64_t before_ms,
                                aipm_account_arr_plan_cb cb, void *ctx,
                                aipm_error *err);

/* ---- push-down reads for the graph and the adoption forecasts ----
 *
 * "Accepted" below means a batch whose status is accepted when the read
 * runs; every read is one statement, so one consistent view of the
 * store. Times are ms since 1970 (the events' ts), days UTC day numbers
 * (ms / 86,400,000, floored). Strings handed to callbacks are borrowed
 * for the call; a non-zero callback return stops the read and is
 * returned. */

/* Where the store's history stood at one moment: each batch created
 * later has a greater id, and each events row or graph.csv row stored
 * later a greater position. Positions are the backend's own insertion
 * order (SQLite: the events rowid and the graph table's rid); a mark is
 * only ever handed back to the backend that gave it. Each field is 0 when
 * there was none yet. */
typedef struct aipm_store_mark {
    int64_t batch;     /* the newest batch id, of any dataset and status */
    int64_t event_row; /* the newest events row's position, any batch */
    int64_t graph_row; /* the newest graph.csv row's position, any batch */
} aipm_store_mark;

typedef struct aipm_batch_state {
    int64_t id;
    const char *dataset;        /* events, backlog, feedback, signals, graph */
    const char *status;         /* loading, accepted, staged, rejected, ... */
    const char *content_sha256; /* "" when none is recorded (NULL stored) */
} aipm_batch_state;
typedef int (*aipm_batch_state_cb)(void *ctx, const aipm_batch_state *b);

/* Every batch, of every dataset and status, by id ascending, and in *mark
 * where the history stood as of the same read (a batch or row stored
 * meanwhile is in neither). With no batch at all cb is never called and
 * *mark is {0, 0, 0}. */
int aipm_store_batch_states(aipm_store *st, aipm_batch_state_cb cb, void *ctx,
                            aipm_store_mark *mark, aipm_error *err);

/* The three reads below (the graph's rows) see the accepted batches whose
 * id is at most through_batch, so what they return is exactly what a
 * version listed up to that batch holds, whatever is ingested meanwhile.
 * since NULL reads all of them; else only the rows a graph made at mark
 * *since lacks: those of the accepted batches with since->batch < id <=
 * through_batch whose position is after since's (event_row for events,
 * graph_row for graph.csv). */

typedef struct aipm_first_use {
    const char *user_id; /* never NULL */
    const char *event;   /* NULL for the events without a name (identify,
                          * group) */
    int64_t ts_ms;       /* the earliest ts of the user's rows of event */
} aipm_first_use;
typedef int (*aipm_first_use_cb)(void *ctx, const aipm_first_use *r);

/* One row per (user_id, event) of the events read that have a user_id
 * (every type: track, identify, group), with the earliest ts. Ordered by
 * user_id, then event (NULL first), comparing bytes: a user's rows are
 * consecutive, and the order of the users is the order the graph numbers
 * their nodes in. */
int aipm_store_first_uses(aipm_store *st, int64_t through_batch,
                          const aipm_store_mark *since, aipm_first_use_cb cb,
                          void *ctx, aipm_error *err);

typedef struct aipm_membership {
    const char *user_id, *account_id; /* never NULL (account_id: groupId) */
    int64_t ts_ms; /* the earliest group call of the user to the account */
} aipm_membership;
typedef int (*aipm_membership_cb)(void *ctx, const aipm_membership *r);

/* One row per (user_id, group_id) of the group events read that have
 * both, with the earliest ts. Ordered by user_id, then group_id,
 * comparing bytes. */
int aipm_store_first_memberships(aipm_store *st, int64_t through_batch,
                                 const aipm_store_mark *since,
                                 aipm_membership_cb cb, void *ctx,
                                 aipm_error *err);

typedef struct aipm_graph_csv_row {
    const char *src, *relation, *dst; /* as stored: the contract requires
                                       * them, NULL only in a damaged store */
    double weight;                    /* NAN when the row has none */
} aipm_graph_csv_row;
typedef int (*aipm_graph_csv_cb)(void *ctx, const aipm_graph_csv_row *r);

/* Every graph.csv row read (each version of a key, not only the newest),
 * in the order the rows were stored. */
int aipm_store_graph_rows(aipm_store *st, int64_t through_batch,
                          const aipm_store_mark *since, aipm_graph_csv_cb cb,
                          void *ctx, aipm_error *err);

/* The first and last day with events: the least and greatest day
 * aipm_store_volume_put recorded for dataset events in an accepted batch.
 * *found = 0 (days 0) when there is none. */
int aipm_store_event_day_range(aipm_store *st, int64_t *first_day,
                               int64_t *last_day, int *found, aipm_error *err);

/* Every event of the accepted batches that has a user_id (any type), as
 * (user_id, ts): ordered by user_id comparing bytes, so a user's events
 * are consecutive (the order the forecasts number users in); within a
 * user, in no particular order. user_id is never NULL. */
typedef int (*aipm_user_time_cb)(void *ctx, const char *user_id, int64_t ts_ms);
int aipm_store_user_event_times(aipm_store *st, aipm_user_time_cb cb, void *ctx,
                                aipm_error *err);

/* A trait value per user, for segmenting: trait is the name of a
 * top-level key of the traits object (the JSON path $."<trait>"); a key
 * whose value is JSON null counts as absent. The value comes as text: a
 * string as it is, a number as SQLite's CAST AS TEXT prints it (an
 * integer in decimal; a real with up to 15 significant digits and always
 * a point or exponent: 2.0, 0.1, 1.0e+20), true "1", false "0", an object
 * or array as its compact JSON text ([1,2]). user_id and value are
 * never NULL; at most one row per user, in no particular order (callers
 * must not depend on it). Only events with ts < before_ms are read
 * (INT64_MAX: all). */
typedef int (*aipm_user_value_cb)(void *ctx, const char *user_id,
                                  const char *value);

/* The user's own trait: from the newest (greatest ts) identify event of
 * the user in the accepted batches that carries the trait (ties: any one
 * of them). */
int aipm_store_user_traits(aipm_store *st, const char *trait, int64_t before_ms,
                           aipm_user_value_cb cb, void *ctx, aipm_error *err);

/* The trait of the user's account: the user's account is the group_id of
 * the user's newest group event (any group event with both ids, trait or
 * not); its trait is taken from the newest group event of that account
 * that carries it, by any user (ties: any one of them). Both from the
 * accepted batches. A user whose account has no such event gets no row. */
int aipm_store_account_traits(aipm_store *st, const char *trait,
                              int64_t before_ms, aipm_user_value_cb cb,
                              void *ctx, aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
