/* audit.h - the append-only, tamper-evident audit log.
 *
 * Every state change (init, ingest, accept, reject, revert, ...) appends one
 * entry: a canonical JSON object (keys sorted, no whitespace) holding seq,
 * time, actor, action, object and a detail object. Each entry is an RFC 6962
 * leaf, SHA-256(0x00 || entry), and the log keeps the Merkle tree head
 * (RFC 6962 section 2.1) after every entry, so `verify` can name the first
 * entry whose bytes, position or tree head no longer agree. A copy of the
 * latest head is also written outside the store (the workspace's checkpoint
 * file) so that deleting the newest entries is caught too; signed
 * checkpoints and consistency proofs come with the governance module.
 */
#ifndef AIPM_AUDIT_H
#define AIPM_AUDIT_H

#include "aipm/core.h"
#include "aipm/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- RFC 6962 Merkle tree hashing ---- */

/* Leaf hash: SHA-256(0x00 || data). */
void aipm_merkle_leaf(uint8_t out[32], const void *data, size_t len);
/* Interior node hash: SHA-256(0x01 || left || right). */
void aipm_merkle_node(uint8_t out[32], const uint8_t left[32],
                      const uint8_t right[32]);

/* Incremental tree head: the roots of the perfect subtrees that make up
 * the tree so far (a "compact range"), at most 64 of them. */
typedef struct aipm_merkle {
    uint8_t nodes[64][32];
    uint64_t size;
} aipm_merkle;

void aipm_merkle_init(aipm_merkle *m);
void aipm_merkle_push(aipm_merkle *m, const uint8_t leaf_hash[32]);
/* The Merkle tree head over all leaves pushed; SHA-256("") when empty. */
void aipm_merkle_root(const aipm_merkle *m, uint8_t out[32]);

/* ---- the log ---- */

/* Who is acting: $AIPM_ACTOR, else the login name. Borrowed, static. */
const char *aipm_audit_actor(void);

/* Append an entry. detail_json is a JSON object text (or NULL for {}).
 * Runs inside the caller's transaction when one is open, so the entry
 * commits with the change it records. On success, when head_out is not
 * NULL it receives the new tree size and head. */
int aipm_audit_append(aipm_store *st, const char *action, const char *object,
                      const char *detail_json, uint64_t *size_out,
                      uint8_t head_out[32], aipm_error *err);

/* Write the checkpoint file: "<size> <hex head>\n", 0600, through
 * aipm_file_write (a temporary file renamed into place). */
int aipm_audit_checkpoint_write(const char *path, uint64_t size,
                                const uint8_t head[32], aipm_error *err);

/* Commit the store's open transaction, whose last audit entry made a log
 * of size entries with this head, then write the checkpoint at path (when
 * not NULL), both under an exclusive lock on "<path>.lock": a concurrent
 * aipm_audit_checkpoint_sync never mistakes the moment between the commit
 * and the write for a lag, and the checkpoint never goes backwards (one
 * already recording as many entries or more is kept). Returns the commit's
 * error, or an error before committing when the lock cannot be taken (the
 * lock file is a link, a FIFO, a folder); the caller then rolls back. A
 * checkpoint write that fails after the commit is left to the next sync. */
int aipm_audit_commit(aipm_store *st, const char *path, uint64_t size,
                      const uint8_t head[32], aipm_error *err);

/* Repair a checkpoint that lags the log (a command killed between its
 * commit and the checkpoint's write): when the file is missing while the
 * log has entries, or holds an older head of this same log, append a
 * "checkpoint_repair" entry saying what was found and write the
 * checkpoint; *repaired is then 1. A checkpoint that disagrees with the
 * log (ahead of it, or another head) is left alone for verify to report.
 * Errors: the path is a FIFO, folder or link (AIPM_EINVALID, refused, never
 * waited on), or the store or file cannot be written. Call it with no
 * transaction open. */
int aipm_audit_checkpoint_sync(aipm_store *st, const char *path, int *repaired,
                               aipm_error *err);

/* The checkpoint's state as verify found it. */
enum {
    AIPM_CHECKPOINT_OK = 0,      /* matches the log (or no log yet) */
    AIPM_CHECKPOINT_MISSING = 1, /* no file while the log has entries */
    AIPM_CHECKPOINT_BEHIND = 2   /* an older head of this log */
};

typedef struct aipm_audit_report {
    uint64_t size;     /* entries read */
    uint8_t head[32];  /* recomputed tree head */
    int64_t first_bad; /* 1-based position of the first bad entry, or 0 */
    char problem[256]; /* what is wrong with it */
    int checkpoint;    /* AIPM_CHECKPOINT_*, when the log is intact */
    uint64_t checkpoint_size; /* entries the checkpoint records */
    uint64_t kept_size;       /* entries the kept checkpoint records */
    int kept_bad;             /* first_bad is against the kept checkpoint */
} aipm_audit_report;

/* Recompute every leaf and tree head. Returns AIPM_OK when the check ran
 * (the report says whether the log is intact: first_bad == 0, and whether
 * the checkpoint is missing or behind), or an error when the store could
 * not be read or the checkpoint path is a FIFO, folder or link (refused,
 * never waited on). checkpoint_path may be NULL. */
int aipm_audit_verify(aipm_store *st, const char *checkpoint_path,
                      aipm_audit_report *report, aipm_error *err);

/* The same, in the same pass, also against a checkpoint kept outside the
 * workspace (kept_path): the log must extend it, its head recomputed at
 * the kept size being the kept head. A kept file that is missing or not a
 * checkpoint is a bad entry 1 (kept_bad set), as is any disagreement. */
int aipm_audit_verify_kept(aipm_store *st, const char *checkpoint_path,
                           const char *kept_path, aipm_audit_report *report,
                           aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
