/* ingest.h - read a file into the store as one batch behind quality gates.
 *
 * One call ingests one file as one batch in one transaction: rows that
 * break the contract go to quarantine (file, line, reason, raw text; every
 * row counted, a bounded sample per reason stored), repeats
 * are counted as duplicates, the rest are stored; then the gates of the data
 * policy decide the verdict (pass, warn, blocked). A blocked batch is stored
 * but staged, invisible to analyses until `data accept`. The batch, its
 * lineage run and its audit entry commit together or not at all.
 * Invariant: read == accepted + duplicates + quarantined.
 */
#ifndef AIPM_INGEST_H
#define AIPM_INGEST_H

#include "aipm/config.h"
#include "aipm/core.h"
#include "aipm/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aipm_ingest_opts {
    const char *dataset; /* events, backlog, feedback, signals, graph */
    const char *format;  /* ndjson or csv; NULL: from the file name (for
                            "-", standard input, from its first byte) */
    size_t max_line;     /* 0: 1 MiB */
    const aipm_data_policy *policy; /* NULL: defaults */
    const aipm_config *config;      /* catalog coverage; may be NULL */
    const char *checkpoint_path;    /* audit head copy; may be NULL */
    aipm_progress_fn progress;      /* called with raw bytes done/total */
    void *progress_ctx;
} aipm_ingest_opts;

typedef struct aipm_ingest_result {
    int64_t batch_id;
    char verdict[12]; /* pass, warn, blocked */
    char status[12];  /* accepted, staged */
    int64_t read, accepted, duplicates, quarantined;
    char *report_json; /* the full quality report; owned, see _clear */
} aipm_ingest_result;

/* Ingest path. Returns AIPM_OK when a batch was stored, whatever its
 * verdict; AIPM_ENOTFOUND, AIPM_EINVALID (unusable input: empty, truncated
 * gzip, a directory, a CSV header without the contract's columns, another
 * dataset's file) or
 * AIPM_EIO otherwise, with nothing stored. */
int aipm_ingest_file(aipm_store *st, const char *path,
                     const aipm_ingest_opts *opts, aipm_ingest_result *res,
                     aipm_error *err);
void aipm_ingest_result_clear(aipm_ingest_result *res);

/* Dataset versions: move batch `id` to a new status, with a reason, and
 * audit it in the same transaction. action is "accept" (staged, rejected
 * or reverted -> accepted), "reject" (staged -> rejected) or "revert"
 * (accepted -> reverted). Returns AIPM_ENOTFOUND for no such batch,
 * AIPM_EINVALID for a transition that does not apply. */
int aipm_data_transition(aipm_store *st, int64_t id, const char *action,
                         const char *reason, const char *checkpoint_path,
                         aipm_error *err);

/* 1 when code is one of the quarantine reason codes. */
int aipm_ingest_reason_known(const char *code);

/* 1 when name is a dataset ingest knows. */
int aipm_ingest_dataset_known(const char *name);

#ifdef __cplusplus
}
#endif
#endif
