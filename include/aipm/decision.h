/* decision.h - decision records: what was decided, from which data, with
 * which parameters, the full output and its digest.
 *
 * One row per decision in the store's `decisions` table, and one audit
 * entry ("decision") naming it and its output digest, in the same
 * transaction. A record is "proposed" until a person approves, rejects or
 * overrides it (govern.h).
 */
#ifndef AIPM_DECISION_H
#define AIPM_DECISION_H

#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/store.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What an analysis says about the decision it records. */
typedef struct aipm_decision_spec {
    const char *kind;            /* "experiment", "prioritize", "forecast" */
    const char *subject;         /* e.g. the experiment key */
    const char *decision;        /* the recommendation, short */
    const json_t *doc;           /* the full output */
    const json_t *params;        /* parameters and seed (may be NULL) */
    const char *const *datasets; /* NULL-terminated datasets read (may be
                                  * NULL) */
    const char *model;         /* name and version, e.g. "bayesian_linear/2" */
    const char *rationale;     /* why, in words (may be NULL) */
    double confidence;         /* 0..1, or NAN when the method gives none */
    const aipm_config *config; /* the policies in force (NULL: defaults) */
} aipm_decision_spec;

/* Store a decision record in its own transaction: a new UUID (into id_out),
 * the time, the spec's fields; the inputs as {"<dataset>_batches": [{"id",
 * "rows_sha256"}]} for the accepted batches of each dataset (and a
 * decision_inputs row per batch, so a later revert marks it stale); the
 * code version (git describe of the build); doc in canonical form
 * (compact, sorted keys) and its SHA-256; and its audit entry. Earlier
 * records of the same kind and subject still proposed become superseded
 * (named in the entry's "supersedes"). The audit checkpoint at checkpoint
 * (NULL: none) follows the commit. */
int aipm_decision_record(aipm_store *st, const aipm_decision_spec *spec,
                         int64_t now_ms, const char *checkpoint,
                         char id_out[37], aipm_error *err);

/* The accepted batches of each dataset (NULL-terminated; NULL: none) as
 * inputs["<dataset>_batches"] = [{"id", "rows_sha256"}], and each id
 * appended to ids: what a record (or a model version) read. */
int aipm_decision_inputs(aipm_store *st, const char *const *datasets,
                         json_t *inputs, json_t *ids, aipm_error *err);

/* The code version compiled in: git describe of the source tree. */
const char *aipm_code_version(void);

/* The SHA-256 of a stored output (hex, into sha_out): what the record's
 * output_sha256 must be. */
void aipm_decision_digest(const char *output, char sha_out[65]);

/* A record's stored output against its digest: "ok", "differs" or "not
 * stored" (a record made before outputs were stored). */
const char *aipm_decision_output_check(const aipm_decision_row *r);

/* What aipm_decision_verify found. */
typedef struct aipm_decision_check {
    int64_t records;    /* decision records read */
    int64_t not_stored; /* made before outputs were stored: not checkable */
    int64_t bad;        /* records with a problem (each reported) */
} aipm_decision_check;

typedef void (*aipm_decision_problem_fn)(void *ctx, const char *id,
                                         const char *problem);

/* Check every decision record against its data: its stored output must
 * hash to its output_sha256, and the "decision" entry of the audit log
 * naming it must hold the same digest (so an output edited together with
 * its digest column is caught by the log, whose own integrity `audit
 * verify` checks). A record with no stored output (made before
 * 2026-12-05) is counted, not judged. fn (may be NULL) gets each problem.
 * Returns AIPM_OK when the check ran. */
int aipm_decision_verify(aipm_store *st, aipm_decision_check *out,
                         aipm_decision_problem_fn fn, void *ctx,
                         aipm_error *err);

/* What aipm_batch_verify found. */
typedef struct aipm_batch_check {
    int64_t batches;    /* batches read */
    int64_t rows;       /* rows hashed */
    int64_t not_hashed; /* ingested before rows were hashed: status only */
    int64_t bad;        /* problems (each reported) */
} aipm_batch_check;

/* Check every dataset batch against the audit log: its status must be
 * the one its ingest entry and later accept, reject and revert entries
 * give it, and its stored rows must hash (aipm_store_rows_digest) to the
 * rows_sha256 its ingest entry holds, so a row edited, added or deleted
 * in the store is named with its batch. fn (may be NULL) gets each
 * problem with "batch:N". One scan per dataset. Returns AIPM_OK when the
 * check ran. */
int aipm_batch_verify(aipm_store *st, aipm_batch_check *out,
                      aipm_decision_problem_fn fn, void *ctx, aipm_error *err);

/* ---- replay ---- */

/* Runs the analysis of record r again (with r's parameters, as of r's
 * time, recording nothing) and hands back its output document. */
typedef int (*aipm_replay_fn)(void *ctx, const aipm_decision_row *r,
                              json_t **doc, aipm_error *err);

typedef struct aipm_replay_result {
    int matches;          /* the new output's digest is the recorded one */
    char digest[65];      /* the new output's */
    char recorded[65];    /* the record's output_sha256 */
    int inputs_changed;   /* input batches whose rows no longer hash to the
                           * digest the record names */
    char changed[256];    /* the first of them, e.g. "events batch 1" */
    char first_diff[256]; /* where the outputs first differ, e.g.
                           * "items[0].score: 1.2 then 1.3" */
    int code_differs;     /* this build is not the record's code version */
    int policy_differs;   /* the policies in force are not the record's */
} aipm_replay_result;

/* Replay record id: in a transaction that is rolled back, the batches of
 * each dataset the record read are made exactly the ones it read
 * (reverted ones included as they were, newer ones set aside), each
 * one's rows are hashed against the digest the record names, run is
 * called, and the canonical form of its output is hashed and compared
 * with the record's. cfg gives the policy version now (may be NULL).
 * *doc_out (may be NULL) receives the new output. AIPM_OK when the replay
 * ran, whatever it found; AIPM_ENOTFOUND for an unknown record. */
int aipm_decision_replay(aipm_store *st, const char *id, const aipm_config *cfg,
                         aipm_replay_fn run, void *ctx, aipm_replay_result *res,
                         json_t **doc_out, aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
