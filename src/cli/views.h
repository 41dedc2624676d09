/* views.h - the JSON documents of the read commands, built once for both
 * front-ends: the CLI prints them with --json, `aipm serve` sends them.
 *
 * A view reads the store it is given and returns a new document; it
 * prints nothing, exits never and touches no global state (no g_cli, no
 * cli_text, no static buffers), so the server runs them on worker
 * threads, each with its own aipm_store handle. Filters are plain typed
 * parameters mirroring the command's options, NULL or 0 meaning "not
 * given". Each returns AIPM_OK with *out a new reference the caller owns
 * (json_decref), or an error code with err set and *out untouched: a name
 * the user gave that is not one (an unknown dataset, reason code) is
 * AIPM_EINVALID, a record that does not exist AIPM_ENOTFOUND, with the
 * message the CLI prints. Times are RFC 3339 UTC strings. */
#ifndef AIPM_CLI_VIEWS_H
#define AIPM_CLI_VIEWS_H

#include "cli.h"

/* The checks of the names the views take, for a front-end to make before
 * it opens a store: AIPM_OK, or AIPM_EINVALID naming the known ones.
 * NULL (not given) passes. */
int view_check_dataset(const char *dataset, aipm_error *err);
int view_check_reason(const char *reason, aipm_error *err);

/* `aipm quality [DATASET]`: the latest batch's quality report of each
 * dataset (or of dataset), newest first: {"datasets": [report + "status"]},
 * each the ingest report as stored (cli_print_report's input) with the
 * batch's status now added. AIPM_EINVALID for an unknown dataset. */
int view_quality(aipm_store *st, const char *dataset, json_t **out,
                 aipm_error *err);

/* `aipm quarantine`: the rejected rows, newest first, of reason (a reason
 * code, NULL: any), of batch (0: any), at most limit (0: all; the CLI's
 * default is 50): {"rows": [{"batch_id", "dataset", "file", "line",
 * "reason", "detail", "raw"}]}, raw the line's bytes (invalid UTF-8 as
 * \xNN text). AIPM_EINVALID for an unknown reason code. */
int view_quarantine(aipm_store *st, const char *reason, int64_t batch,
                    int64_t limit, json_t **out, aipm_error *err);

/* `aipm lineage`: the runs, oldest first: {"runs": [{"run_id", "job",
 * "state", "started", "ended", "inputs", "outputs"}]}, inputs and outputs
 * the OpenLineage datasets [{"namespace", "name", ...}]. */
int view_lineage_runs(aipm_store *st, json_t **out, aipm_error *err);

/* One batch's object: {"batch_id", "dataset", "status", "verdict",
 * "source", "source_sha256", "content_sha256", "read", "accepted",
 * "duplicates", "quarantined", "created", "run_id"}, and "report" (its
 * quality report) when with_report and it has one. NULL when out of
 * memory. For a command that changed a batch and shows it. */
json_t *view_batch_json(const aipm_batch_info *b, int with_report);

/* `aipm data versions [--dataset NAME]`: the batches (of dataset), newest
 * first: {"batches": [batch]}, each view_batch_json's without a report.
 * AIPM_EINVALID for an unknown dataset. */
int view_batches(aipm_store *st, const char *dataset, json_t **out,
                 aipm_error *err);

/* `aipm data show BATCH`: batch id with its report (view_batch_json's).
 * AIPM_ENOTFOUND when there is no such batch. */
int view_batch(aipm_store *st, int64_t id, json_t **out, aipm_error *err);

/* `aipm audit log`: every entry, in log order: {"entries": [{"seq",
 * "entry", "leaf_hash"}]}, entry the parsed entry ({"time", "actor",
 * "action", "object", "detail", ...}), or its bytes as a string when it
 * is not JSON; leaf_hash hex. */
int view_audit_entries(aipm_store *st, json_t **out, aipm_error *err);

/* What `audit verify` found, beyond its document: for its exit code and
 * warnings. */
typedef struct view_verify_result {
    aipm_audit_report report;      /* the log against its checkpoints */
    aipm_decision_check decisions; /* with data */
    aipm_batch_check batches;      /* with data */
    int64_t signature_problems;    /* when the log is intact */
    char problem[600]; /* the first bad entry's problem, naming the kept
                        * checkpoint when it is the one it disagrees with */
} view_verify_result;

/* `aipm audit verify`: the log of st recomputed against the workspace's
 * checkpoint file (NULL: none) and, when kept is not NULL, against that
 * kept checkpoint, a signed note's signature checked with vkey (NULL: not
 * checked); with data, every decision record and batch against the log;
 * when the log is intact, the people, keys and acts it records.
 * {"intact", "entries", "tree_head", "data": {"intact", "decisions",
 * "not_stored", "batches", "rows", "batches_not_hashed", "problems":
 * [{"decision" or "batch", "problem"}]} (with data), "kept_checkpoint":
 * {"file", "entries", "signed", "origin", "signature"} (with kept;
 * signature "unchecked", "ok", "not_signed" or "bad"), then either
 * "first_bad_entry" and "problem" (not intact), or "checkpoint" ("ok",
 * "missing" or "behind") and "signatures": {"intact", "users", "keys",
 * "acts", "valid", "bootstrap", "problems": [{"at", "problem"}]}}.
 * A log that is not intact is a document, not an error; res (may be
 * NULL) gets the counts. An error when the store or a file could not be
 * read. */
int view_audit_verify(aipm_store *st, const char *checkpoint, const char *kept,
                      const aipm_key *vkey, int data, json_t **out,
                      view_verify_result *res, aipm_error *err);

/* `aipm decisions list`: the records of kind and status (NULL: any),
 * oldest first: {"decisions": [{"id", "time", "kind", "subject",
 * "decision", "status", "output_sha256"}]}. */
int view_decisions(aipm_store *st, const char *kind, const char *status,
                   json_t **out, aipm_error *err);

/* The decision id that prefix (a whole id or the start of one) names,
 * into id_out. AIPM_ENOTFOUND when none does, AIPM_EINVALID when several
 * do. */
int view_decision_id(aipm_store *st, const char *prefix, char id_out[37],
                     aipm_error *err);

/* `aipm decisions show ID`: the record that id (or a unique prefix of
 * one, as view_decision_id) names, in full: the list's keys and "model",
 * "rationale", "confidence", "code_version", "policy_sha256", "inputs",
 * "params", "output" (null when absent), "output_check" ("ok", "differs"
 * or "not stored": the stored output hashed again against the recorded
 * digest) and "acts": [{"seq", "action", "user", "time", "reason",
 * "value"}] in log order. */
int view_decision(aipm_store *st, const char *id, json_t **out,
                  aipm_error *err);

/* `aipm users list`: everyone, by name: {"users": [{"name", "role",
 * "key"}]}, key the verifier key (null when none). */
int view_users(aipm_store *st, json_t **out, aipm_error *err);

/* `aipm policy log`: the policy versions recorded, newest first:
 * {"versions": [{"seq", "time", "policy_sha256", "actor", "reason",
 * "policies"}]}, policies what the version held (the canonical JSON its
 * SHA-256 is of, parsed). */
int view_policy_versions(aipm_store *st, json_t **out, aipm_error *err);

/* `aipm tokens list [--user USER]`: the API tokens (of user), by id:
 * {"tokens": [{"id", "user", "role", "name", "hint", "created",
 * "created_by", "revoked", "revoked_by", "revoke_reason"}]}, role the
 * user's role now; role, created_by and the revoked keys null when
 * there is none. Never the token or its digest. */
int view_tokens(aipm_store *st, const char *user, json_t **out,
                aipm_error *err);

/* AIPM_OK when item is NULL or the id of a backlog item in the accepted
 * data, AIPM_ENOTFOUND when it is not (an error when the store could not
 * be read). */
int view_check_item(aipm_store *st, const char *item, aipm_error *err);

/* Whether feedback links' filters keep link l: about item (NULL: any),
 * and needing review when review is set. */
int view_link_kept(const aipm_link *l, const char *item, int review);

/* `aipm feedback links [--item ID] [--review] [--threshold X]
 * [--summary]`: every feedback row's links (aipm_feedback_links), in
 * ingest order: {"links": [{"feedback_id", "item_id", "score",
 * "confidence", "status", "model_item", "items": [{"item_id",
 * "confidence"}], "candidates": [{"item_id", "title", "confidence"}],
 * "text", "account_id"}], "summary": {"rows", "shown", "given", "linked",
 * "needs_review", "corrected", "items", "several_items", "threshold",
 * "model": {"labelled", "learnt_from", "cv_rows", "cv_none", "fitted",
 * "threshold", "threshold_from", "top1", "top3", "linked_precision",
 * "linked_recall", "review_share", "review_top1", "weights"}}}; NaN
 * figures are null. The links kept: those linked to item (NULL: every
 * row's), only the needs_review ones with review, none with summary
 * (the summary counts every row; "shown" is the links kept). threshold
 * (0: the cross-validated one) must be in (0, 1], else AIPM_EINVALID;
 * an item that is no backlog item is AIPM_ENOTFOUND (view_check_item).
 * progress (may be NULL) is called with progress_ctx as the rows are
 * linked. */
int view_feedback_links(aipm_store *st, const char *item, int review,
                        double threshold, int summary,
                        aipm_progress_fn progress, void *progress_ctx,
                        json_t **out, aipm_error *err);

#endif
