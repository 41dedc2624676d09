/* govern_int.h - what the files of govern/ share: the streaming prover
 * and the log's origin.
 *
 * A proof (RFC 9162 section 2.1.3 and 2.1.4) is a list of the heads of a
 * few disjoint ranges of leaves, at most one per level of the tree. The
 * prover works the ranges out first, then takes the leaf hashes one at a
 * time, in log order: each leaf is folded into the compact range of the
 * proof range it belongs to (one accumulator: the ranges are disjoint and
 * are filled in leaf order), so memory stays constant however long the
 * log. audit.c feeds it from verify's own pass over the log; proof.c from
 * a pass of its own.
 */
#ifndef AIPM_GOVERN_INT_H
#define AIPM_GOVERN_INT_H

#include "aipm/audit.h"
#include "aipm/govern.h"

typedef struct aipm_audit__span {
    uint64_t lo, hi; /* leaves [lo, hi) */
    size_t slot;     /* its place in the proof's path */
} aipm_audit__span;

typedef struct aipm_audit__prover {
    aipm_merkle_proof *proof;
    aipm_audit__span spans[AIPM_PROOF_MAX]; /* sorted by lo */
    size_t n_spans, next;                   /* next: the span being filled */
    int inclusion;
    uint64_t pushed;  /* leaves taken */
    aipm_merkle acc;  /* the compact range of spans[next] */
    aipm_merkle tree; /* all leaves so far: the heads at first and size */
} aipm_audit__prover;

/* Set up p to make an inclusion proof (inclusion 1: of leaf first in the
 * tree of size leaves, first < size) or a consistency proof (inclusion 0:
 * from first to size leaves, first <= size) into proof. */
void aipm_audit__prover_init(aipm_audit__prover *p, aipm_merkle_proof *proof,
                             int inclusion, uint64_t first, uint64_t size);

/* Take the next leaf hash. Returns 1 once the leaf of number size has
 * been taken (the proof is complete; later leaves are ignored), else 0. */
int aipm_audit__prover_push(aipm_audit__prover *p, const uint8_t leaf[32]);

/* The origin of the log whose entry 1 has leaf hash leaf1. */
void aipm_audit__origin(char out[AIPM_ORIGIN_MAX], const uint8_t leaf1[32]);

/* ---- people.c: the writers' checks and signing, for tokens.c ---- */

/* A person as the people table has them (found 0: no such person; role
 * -1 then). */
typedef struct aipm_govern__person {
    int found;
    int role;
    char vkey[AIPM_VKEY_MAX];
} aipm_govern__person;

int aipm_govern__person_get(aipm_store *st, const char *name,
                            aipm_govern__person *p, aipm_error *err);
/* *out 1 while no admin has a key (the bootstrap). */
int aipm_govern__bootstrap(aipm_store *st, int *out, aipm_error *err);
/* name's secret key from the key folder into k, checked against vkey, the
 * one the store registered (AIPM_EBLOCKED, saying what is missing). */
int aipm_govern__load_signer(aipm_key *k, const char *name, const char *vkey,
                             aipm_error *err);
/* The same for by, who must be an admin. */
int aipm_govern__load_admin(aipm_store *st, const char *by, aipm_key *k,
                            aipm_error *err);
/* msg signed by k as signer into *out, a new one-element signatures
 * array (the caller decrefs it). */
int aipm_govern__sign(const aipm_key *k, const char *signer, const char *msg,
                      json_t **out, aipm_error *err);
/* Append {"message": msg, "signatures": sigs} as an entry action on
 * object in the open transaction; *seq and head for the commit. */
int aipm_govern__append(aipm_store *st, const char *action, const char *object,
                        const char *msg, json_t *sigs, int64_t *seq,
                        uint8_t head[32], aipm_error *err);
/* Commit the open transaction with the entry's head when rc is AIPM_OK,
 * else roll it back; returns the outcome. */
int aipm_govern__finish(aipm_store *st, int rc, const char *checkpoint,
                        int64_t seq, const uint8_t head[32], aipm_error *err);

#endif
