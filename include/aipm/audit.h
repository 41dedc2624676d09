/* audit.h - the append-only, tamper-evident audit log.
 *
 * Every state change (init, ingest, accept, reject, revert, ...) appends one
 * entry: a canonical JSON object (keys sorted, no whitespace) holding seq,
 * time, actor, action, object and a detail object. Each entry is an RFC 6962
 * leaf, SHA-256(0x00 || entry), and the log keeps the Merkle tree head
 * (RFC 6962 section 2.1) after every entry, so `verify` can name the first
 * entry whose bytes, position or tree head no longer agree. A copy of the
 * latest head is also written outside the store (the workspace's checkpoint
 * file) so that deleting the newest entries is caught too. Inclusion and
 * consistency proofs (RFC 9162 section 2.1.3 and 2.1.4) and checkpoints
 * signed as C2SP tlog-checkpoint notes let someone holding only a kept
 * checkpoint check that the log still extends it, or that an entry is in
 * it, with nothing but SHA-256.
 */
#ifndef AIPM_AUDIT_H
#define AIPM_AUDIT_H

#include "aipm/core.h"
#include "aipm/keys.h"
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

/* ---- proofs (RFC 9162 section 2.1.3 inclusion, 2.1.4 consistency) ---- */

/* The most hashes a proof holds: one per level of a tree of up to 2^64
 * leaves, and a consistency proof's seed (the old tree's own subtree). */
#define AIPM_PROOF_MAX 65

typedef struct aipm_merkle_proof {
    uint64_t first; /* inclusion: the leaf index (0-based); consistency: the
                     * old tree size */
    uint64_t size;  /* the tree size the proof is for */
    size_t count;   /* hashes in path */
    uint8_t path[AIPM_PROOF_MAX][32]; /* in the RFC's order: the hash
                                       * nearest the leaf (or the old
                                       * tree) first */
    uint8_t root[32];       /* the tree head at size, from the same leaves */
    uint8_t first_root[32]; /* consistency: the tree head at first */
    uint8_t leaf[32];       /* inclusion: the leaf hash at index first */
} aipm_merkle_proof;

/* RFC 9162 section 2.1.3.2: 1 when path (count hashes of 32 bytes, one
 * after the other) proves that leaf is leaf number index (0-based) of the
 * tree of size leaves whose head is root; else 0. */
int aipm_merkle_inclusion_verify(uint64_t index, uint64_t size,
                                 const uint8_t leaf[32], const uint8_t *path,
                                 size_t count, const uint8_t root[32]);

/* RFC 9162 section 2.1.4.2: 1 when path (count hashes) proves that the
 * tree of size2 leaves with head root2 extends the tree of size1 leaves
 * with head root1; else 0. Equal sizes need an empty path and equal
 * heads; size1 0 (the empty tree) an empty path. */
int aipm_merkle_consistency_verify(uint64_t size1, uint64_t size2,
                                   const uint8_t root1[32],
                                   const uint8_t root2[32], const uint8_t *path,
                                   size_t count);

/* The inclusion proof of leaf index (0-based) in the log's tree of size
 * entries, from the stored leaf hashes in one pass that stops after leaf
 * size; memory does not grow with the log. Fills proof (with the leaf, and
 * the head at size). Errors: index >= size (AIPM_EINVALID), a log of
 * fewer than size entries (AIPM_ENOTFOUND), a row out of place (AIPM_ERROR:
 * run verify), or the store's. */
int aipm_audit_inclusion_proof(aipm_store *st, uint64_t index, uint64_t size,
                               aipm_merkle_proof *proof, aipm_error *err);

/* The consistency proof from the log's tree of first entries to that of
 * size entries, the same way (with both heads). first > size is
 * AIPM_EINVALID; other errors as above. */
int aipm_audit_consistency_proof(aipm_store *st, uint64_t first, uint64_t size,
                                 aipm_merkle_proof *proof, aipm_error *err);

/* ---- signed checkpoints (C2SP tlog-checkpoint and signed-note) ---- */

/* "aipm.local/log/" and 16 hex digits, with its NUL. */
#define AIPM_ORIGIN_MAX 32
/* Signature lines a note may carry: C2SP signed-note asks verifiers to
 * take at least 16; more is refused as malformed. */
#define AIPM_NOTE_SIGS_MAX 16
/* The largest checkpoint note read. */
#define AIPM_NOTE_MAX 65536

typedef struct aipm_note_sig {
    char name[AIPM_KEY_NAME_MAX + 1];
    uint32_t id; /* the key ID (big-endian number) */
    uint8_t sig[64];
    int ed25519; /* the line held 64 signature bytes (an ed25519 size) */
} aipm_note_sig;

/* A checkpoint note, parsed: the signed text and its signature lines. */
typedef struct aipm_checkpoint {
    char origin[AIPM_KEY_NAME_MAX + 1];
    uint64_t size;
    uint8_t root[32];
    char text[AIPM_KEY_NAME_MAX + 96]; /* the note text, as signed */
    size_t text_len;
    size_t n_sigs;
    aipm_note_sig sigs[AIPM_NOTE_SIGS_MAX];
} aipm_checkpoint;

/* What a note's signature lines say of one key. */
enum {
    AIPM_NOTE_UNCHECKED = 0, /* no key to check it with */
    AIPM_NOTE_SIGNED = 1,    /* a line of the key's name and ID verifies */
    AIPM_NOTE_UNSIGNED = 2,  /* no line of the key's name and ID */
    AIPM_NOTE_BAD = 3        /* such a line does not verify: rejected */
};

/* The log's origin, the name of its checkpoints and of the key that signs
 * them: "aipm.local/log/" and the first 16 hex digits of entry 1's leaf
 * hash (fixed for a log, different for another log). AIPM_ENOTFOUND on an
 * empty log. */
int aipm_audit_origin(aipm_store *st, char out[AIPM_ORIGIN_MAX],
                      aipm_error *err);

/* The checkpoint note of the tree of size entries with head root, signed
 * by k (which holds its secret):
 *   <origin>\n<size>\n<base64 root>\n\n— <k's name> <base64(id || sig)>\n
 * into *out (NUL-terminated, the caller frees it). */
int aipm_checkpoint_sign(char **out, const char *origin, uint64_t size,
                         const uint8_t root[32], const aipm_key *k,
                         aipm_error *err);

/* Parse a checkpoint note strictly: UTF-8 with no control bytes but
 * newlines, the text (origin, decimal size without leading zeros, base64
 * of a 32-byte root; no extension lines), a blank line, then 1 to
 * AIPM_NOTE_SIGS_MAX signature lines "— <name> <base64(id || sig)>". A
 * note that is not one is AIPM_EINVALID with a one-line reason. */
int aipm_checkpoint_parse(aipm_checkpoint *cp, const char *note, size_t len,
                          aipm_error *err);

/* Whether cp is signed by k (C2SP signed-note: lines of another name or ID
 * are ignored; one of k's name and ID that fails rejects the note):
 * AIPM_NOTE_SIGNED, AIPM_NOTE_UNSIGNED or AIPM_NOTE_BAD. */
int aipm_checkpoint_signed_by(const aipm_checkpoint *cp, const aipm_key *k);

/* ---- the log ---- */

/* Who is acting: the calling thread's actor when one is set, else
 * $AIPM_ACTOR, else the login name. Borrowed (valid until the thread's
 * next call). */
const char *aipm_audit_actor(void);

/* Set the calling thread's actor (a server acting for a request's user),
 * copied; NULL or "" clears it. Other threads are not affected. */
void aipm_audit_set_actor(const char *name);

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
    int kept_note;            /* the kept checkpoint is a signed note */
    int kept_signature;       /* AIPM_NOTE_*: the note's signature by the key */
    char kept_origin[AIPM_KEY_NAME_MAX + 1]; /* the note's origin */
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

/* The same for a kept checkpoint in either form: the plain one, or a
 * signed note (aipm audit checkpoint). A note must be well formed, signed
 * by vkey when vkey is not NULL (else kept_signature stays
 * AIPM_NOTE_UNCHECKED), of this log's origin, of no more entries than the
 * log, and the log must extend it: the consistency proof from its size to
 * the log's, made in the same pass from the leaves it checks, must verify
 * against its root and the recomputed head (RFC 9162 section 2.1.4.2).
 * Any failure is a bad entry (kept_bad set) with the reason. */
int aipm_audit_verify_signed(aipm_store *st, const char *checkpoint_path,
                             const char *kept_path, const aipm_key *vkey,
                             aipm_audit_report *report, aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
