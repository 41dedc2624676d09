/* proof.c - RFC 9162 inclusion and consistency proofs over the audit log.
 *
 * Making a proof. RFC 9162 section 2.1.3.1 (PATH) and 2.1.4.1 (SUBPROOF)
 * define a proof recursively: split the tree at k, the largest power of
 * two below its size, recurse into the half that holds the leaf (or the
 * old tree's edge) and append the head of the other half. Unrolled, that
 * is a walk from the root down which names one range of leaves per level,
 * innermost last; the proof lists them innermost first. The heads of
 * those ranges are then computed in one pass over the stored leaf hashes
 * (govern_int.h): no leaf is kept, so a proof over millions of entries
 * needs a few kilobytes.
 *
 * Checking a proof follows the RFC's verification algorithms exactly
 * (sections 2.1.3.2 and 2.1.4.2), on plain hashes, so a checker needs no
 * store: only the leaf or the old head, the path and the new head.
 */
#include "govern/govern_int.h"

#include <stdlib.h>
#include <string.h>

/* The largest power of two smaller than n (n >= 2). */
static uint64_t split_at(uint64_t n)
{
    uint64_t k = 1;

    while (k <= (n - 1) / 2) /* 2k < n, without overflow */
        k <<= 1;
    return k;
}

static void add_span(aipm_audit__prover *p, uint64_t lo, uint64_t hi)
{
    p->spans[p->n_spans].lo = lo;
    p->spans[p->n_spans].hi = hi;
    p->n_spans++;
}

/* PATH(m, D[0:n]) unrolled: the sibling of the half holding leaf m, at
 * each level from the root down. */
static void inclusion_spans(aipm_audit__prover *p, uint64_t m, uint64_t n)
{
    uint64_t lo = 0, hi = n;

    while (hi - lo > 1) {
        uint64_t k = split_at(hi - lo);

        if (m < lo + k) {
            add_span(p, lo + k, hi);
            hi = lo + k;
        } else {
            add_span(p, lo, lo + k);
            lo += k;
        }
    }
}

/* SUBPROOF(m, D[0:n], true) unrolled: m counts the old tree's leaves in
 * the current range [lo, hi). When the walk ends on a range that is all
 * old leaves, its head is added only if it was reached through a right
 * half (b false in the RFC): the head of a left-edge range is the old
 * tree's own head, which the verifier already holds. */
static void consistency_spans(aipm_audit__prover *p, uint64_t m, uint64_t n)
{
    uint64_t lo = 0, hi = n;
    int left_edge = 1;

    while (m != hi - lo) {
        uint64_t k = split_at(hi - lo);

        if (m <= k) {
            add_span(p, lo + k, hi);
            hi = lo + k;
        } else {
            add_span(p, lo, lo + k);
            m -= k;
            lo += k;
            left_edge = 0;
        }
    }
    if (!left_edge)
        add_span(p, lo, hi);
}

void aipm_audit__prover_init(aipm_audit__prover *p, aipm_merkle_proof *proof,
                             int inclusion, uint64_t first, uint64_t size)
{
    size_t i, j;

    memset(proof, 0, sizeof(*proof));
    proof->first = first;
    proof->size = size;
    p->proof = proof;
    p->inclusion = inclusion;
    p->n_spans = 0;
    p->next = 0;
    p->pushed = 0;
    aipm_merkle_init(&p->acc);
    aipm_merkle_init(&p->tree);
    aipm_merkle_root(&p->tree, proof->root); /* SHA-256(""): size 0 */
    aipm_merkle_root(&p->tree, proof->first_root);
    if (inclusion && first < size)
        inclusion_spans(p, first, size);
    else if (!inclusion && first > 0 && first < size)
        consistency_spans(p, first, size);
    proof->count = p->n_spans;
    /* Found outermost first; the proof lists them innermost first. */
    for (i = 0; i < p->n_spans; i++)
        p->spans[i].slot = p->n_spans - 1 - i;
    /* Then in leaf order, for the pass (insertion sort: at most 65). */
    for (i = 1; i < p->n_spans; i++) {
        aipm_audit__span s = p->spans[i];

        for (j = i; j > 0 && p->spans[j - 1].lo > s.lo; j--)
            p->spans[j] = p->spans[j - 1];
        p->spans[j] = s;
    }
}

int aipm_audit__prover_push(aipm_audit__prover *p, const uint8_t leaf[32])
{
    aipm_merkle_proof *proof = p->proof;
    uint64_t i = p->pushed;

    if (i >= proof->size)
        return 1;
    p->pushed++;
    aipm_merkle_push(&p->tree, leaf);
    if (p->inclusion && i == proof->first)
        memcpy(proof->leaf, leaf, 32);
    if (!p->inclusion && p->pushed == proof->first)
        aipm_merkle_root(&p->tree, proof->first_root);
    if (p->next < p->n_spans && i >= p->spans[p->next].lo) {
        aipm_audit__span *s = &p->spans[p->next];

        aipm_merkle_push(&p->acc, leaf);
        if (i + 1 == s->hi) {
            aipm_merkle_root(&p->acc, proof->path[s->slot]);
            aipm_merkle_init(&p->acc);
            p->next++;
        }
    }
    if (p->pushed == proof->size) {
        aipm_merkle_root(&p->tree, proof->root);
        return 1;
    }
    return 0;
}

/* ---- from the store ---- */

typedef struct pass {
    aipm_audit__prover prover;
    int64_t bad_seq; /* a row out of place, or 0 */
} pass;

static int take_row(void *ctx, const aipm_audit_row *row)
{
    pass *ps = ctx;

    if (row->seq != (int64_t)ps->prover.pushed + 1) {
        ps->bad_seq = (int64_t)ps->prover.pushed + 1;
        return 1;
    }
    return aipm_audit__prover_push(&ps->prover, row->leaf);
}

static int prove(aipm_store *st, int inclusion, uint64_t first, uint64_t size,
                 aipm_merkle_proof *proof, aipm_error *err)
{
    pass *ps = malloc(sizeof(*ps));
    int rc;

    if (ps == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    ps->bad_seq = 0;
    aipm_audit__prover_init(&ps->prover, proof, inclusion, first, size);
    rc = size == 0 ? AIPM_OK : aipm_store_audit_list(st, take_row, ps, err);
    if (rc == 1)
        rc = AIPM_OK; /* stopped after leaf size, or at a bad row */
    if (rc == AIPM_OK && ps->bad_seq)
        rc = aipm_error_set(err, AIPM_ERROR,
                            "the audit log is not intact at entry %lld; run "
                            "aipm audit verify",
                            (long long)ps->bad_seq);
    else if (rc == AIPM_OK && ps->prover.pushed < size)
        rc = aipm_error_set(err, AIPM_ENOTFOUND,
                            "the audit log has %llu entries, fewer than %llu",
                            (unsigned long long)ps->prover.pushed,
                            (unsigned long long)size);
    free(ps);
    return rc;
}

int aipm_audit_inclusion_proof(aipm_store *st, uint64_t index, uint64_t size,
                               aipm_merkle_proof *proof, aipm_error *err)
{
    if (index >= size)
        return aipm_error_set(
            err, AIPM_EINVALID, "leaf %llu is not in a tree of %llu entries",
            (unsigned long long)index, (unsigned long long)size);
    return prove(st, 1, index, size, proof, err);
}

int aipm_audit_consistency_proof(aipm_store *st, uint64_t first, uint64_t size,
                                 aipm_merkle_proof *proof, aipm_error *err)
{
    if (first > size)
        return aipm_error_set(err, AIPM_EINVALID,
                              "a tree of %llu entries cannot extend one of "
                              "%llu",
                              (unsigned long long)size,
                              (unsigned long long)first);
    return prove(st, 0, first, size, proof, err);
}

/* ---- checking (RFC 9162 section 2.1.3.2 and 2.1.4.2) ---- */

int aipm_merkle_inclusion_verify(uint64_t index, uint64_t size,
                                 const uint8_t leaf[32], const uint8_t *path,
                                 size_t count, const uint8_t root[32])
{
    uint64_t fn = index, sn;
    uint8_t r[32];
    size_t i;

    if (index >= size)
        return 0;
    sn = size - 1;
    memcpy(r, leaf, 32);
    for (i = 0; i < count; i++) {
        const uint8_t *p = path + 32 * i;

        if (sn == 0)
            return 0;
        if ((fn & 1) || fn == sn) {
            aipm_merkle_node(r, p, r);
            /* Levels where this node has no right sibling are skipped. */
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            aipm_merkle_node(r, r, p);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, 32) == 0;
}

int aipm_merkle_consistency_verify(uint64_t size1, uint64_t size2,
                                   const uint8_t root1[32],
                                   const uint8_t root2[32], const uint8_t *path,
                                   size_t count)
{
    uint64_t fn, sn;
    uint8_t fr[32], sr[32];
    size_t i = 0;

    if (size1 > size2)
        return 0;
    if (size1 == size2)
        return count == 0 && memcmp(root1, root2, 32) == 0;
    if (size1 == 0)
        return count == 0; /* the empty tree is a prefix of every tree */
    if (count == 0)
        return 0;
    /* An old tree that is a perfect subtree is its own seed: the RFC
     * prepends first_hash to the path. */
    if ((size1 & (size1 - 1)) == 0) {
        memcpy(fr, root1, 32);
    } else {
        memcpy(fr, path, 32);
        i = 1;
    }
    memcpy(sr, fr, 32);
    fn = size1 - 1;
    sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < count; i++) {
        const uint8_t *c = path + 32 * i;

        if (sn == 0)
            return 0;
        if ((fn & 1) || fn == sn) {
            aipm_merkle_node(fr, c, fr);
            aipm_merkle_node(sr, c, sr);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            aipm_merkle_node(sr, sr, c);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, root1, 32) == 0 && memcmp(sr, root2, 32) == 0;
}
