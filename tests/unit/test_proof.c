/* test_proof.c - unit tests of govern/proof: RFC 9162 inclusion and
 * consistency proofs, made from the stored log and checked on plain hashes.
 *
 * References, none of them the code under test: the proof vectors the
 * transparency-dev/merkle project publishes for the 8-leaf tree of the
 * certificate-transparency test data (proof/verify_test.go, the same
 * values as Trillian's and the CT C++ branch's), and for random trees a
 * recursive PATH and SUBPROOF written here from RFC 6962 section 2.1.1
 * and 2.1.2 on libsodium's SHA-256. Every proof made must verify; a
 * changed hash, index or size must not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>

#include "aipm/audit.h"
#include "aipm/store.h"
#include "govern/govern_int.h"
#include "testutil.h"

/* ---- references: RFC 6962 section 2.1, recursive, on libsodium ---- */

static void ref_node(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
    crypto_hash_sha256_state h;
    uint8_t one = 1;

    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, &one, 1);
    crypto_hash_sha256_update(&h, l, 32);
    crypto_hash_sha256_update(&h, r, 32);
    crypto_hash_sha256_final(&h, out);
}

static void ref_leaf(uint8_t out[32], const uint8_t *data, size_t len)
{
    crypto_hash_sha256_state h;
    uint8_t zero = 0;

    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, &zero, 1);
    crypto_hash_sha256_update(&h, data, len);
    crypto_hash_sha256_final(&h, out);
}

static size_t ref_k(size_t n)
{
    size_t k = 1;

    while (k * 2 < n)
        k *= 2;
    return k;
}

static void ref_mth(uint8_t out[32], uint8_t (*d)[32], size_t n)
{
    uint8_t l[32], r[32];
    size_t k;

    if (n == 0) {
        crypto_hash_sha256(out, (const uint8_t *)"", 0);
        return;
    }
    if (n == 1) {
        memcpy(out, d[0], 32);
        return;
    }
    k = ref_k(n);
    ref_mth(l, d, k);
    ref_mth(r, d + k, n - k);
    ref_node(out, l, r);
}

/* PATH(m, D[n]) (RFC 6962 section 2.1.1) appended to out; returns the
 * new count. */
static size_t ref_path(uint8_t (*out)[32], size_t count, size_t m,
                       uint8_t (*d)[32], size_t n)
{
    size_t k;

    if (n <= 1)
        return count;
    k = ref_k(n);
    if (m < k) {
        count = ref_path(out, count, m, d, k);
        ref_mth(out[count], d + k, n - k);
    } else {
        count = ref_path(out, count, m - k, d + k, n - k);
        ref_mth(out[count], d, k);
    }
    return count + 1;
}

/* SUBPROOF(m, D[n], b) (RFC 6962 section 2.1.2). */
static size_t ref_subproof(uint8_t (*out)[32], size_t count, size_t m,
                           uint8_t (*d)[32], size_t n, int b)
{
    size_t k;

    if (m == n) {
        if (!b)
            ref_mth(out[count++], d, n);
        return count;
    }
    k = ref_k(n);
    if (m <= k) {
        count = ref_subproof(out, count, m, d, k, b);
        ref_mth(out[count], d + k, n - k);
    } else {
        count = ref_subproof(out, count, m - k, d + k, n - k, 0);
        ref_mth(out[count], d, k);
    }
    return count + 1;
}

/* ---- a store holding given leaves ---- */

typedef struct fixture {
    char dir[256];
    char db[300];
    aipm_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    aipm_error err = {0};

    if (f == NULL || tu_mkdtemp(f->dir, sizeof(f->dir)) == NULL)
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/aipm.db", f->dir);
    if (aipm_store_open(&f->st, f->db, 1, &err) != AIPM_OK) {
        print_error("open: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    aipm_store_close(f->st);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

/* Rows 1..n with entry i = data[i] (len[i] bytes), its RFC 6962 leaf and
 * the head after it: the store holds them as it holds audit entries. */
static void put_rows(aipm_store *st, const uint8_t *const *data,
                     const size_t *len, size_t n, uint8_t (*leaves)[32])
{
    aipm_error err = {0};
    aipm_merkle m;
    size_t i;

    aipm_merkle_init(&m);
    assert_int_equal(aipm_store_begin(st, &err), AIPM_OK);
    for (i = 0; i < n; i++) {
        aipm_audit_row row;
        uint8_t root[32];

        ref_leaf(leaves[i], data[i], len[i]);
        aipm_merkle_push(&m, leaves[i]);
        aipm_merkle_root(&m, root);
        row.seq = (int64_t)i + 1;
        row.entry = (const char *)data[i];
        row.entry_len = len[i];
        row.leaf = leaves[i];
        row.root = root;
        assert_int_equal(aipm_store_audit_put(st, &row, &err), AIPM_OK);
    }
    assert_int_equal(aipm_store_commit(st, &err), AIPM_OK);
}

/* ---- the published vectors ---- */

/* transparency-dev/merkle proof/verify_test.go: `leaves`, `roots` (the
 * head of the first i+1 leaves), `inclusionProofs` (1-based leaf number,
 * size, path) and `consistencyProofs` (size1, size2, path). */
static const char *const ct_leaves[8] = {"",
                                         "00",
                                         "10",
                                         "2021",
                                         "3031",
                                         "40414243",
                                         "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f"};
static const char *const ct_roots[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

typedef struct vector {
    uint64_t a, b; /* inclusion: 1-based leaf, size; consistency: sizes */
    int count;
    const char *path[3];
} vector;

static const vector ct_inclusion[] = {
    {1, 1, 0, {NULL}},
    {1,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {3,
     3,
     1,
     {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {2,
     5,
     3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const vector ct_consistency[] = {
    {1, 1, 0, {NULL}},
    {1,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

static void put_ct_leaves(aipm_store *st, uint8_t (*leaves)[32])
{
    static uint8_t bytes[8][16];
    const uint8_t *data[8];
    size_t len[8];
    int i;

    for (i = 0; i < 8; i++) {
        len[i] = tu_unhex(bytes[i], ct_leaves[i]);
        data[i] = bytes[i];
    }
    put_rows(st, data, len, 8, leaves);
}

static void root_of(uint8_t out[32], uint64_t size)
{
    tu_unhex(out, ct_roots[size - 1]);
}

/* Changed inputs that must not verify, after transparency-dev/merkle's
 * corruptInclusionProof: wrong index, size, leaf or root, a hash added
 * at either end, a bit flipped in each hash, a hash removed. */
static void inclusion_probes(uint64_t index, uint64_t size,
                             const uint8_t leaf[32], const uint8_t *path,
                             size_t count, const uint8_t root[32])
{
    uint8_t buf[(AIPM_PROOF_MAX + 1) * 32], other[32];
    size_t i;

    assert_true(
        aipm_merkle_inclusion_verify(index, size, leaf, path, count, root));
    if (index > 0)
        assert_false(aipm_merkle_inclusion_verify(index - 1, size, leaf, path,
                                                  count, root));
    assert_false(
        aipm_merkle_inclusion_verify(index + 1, size, leaf, path, count, root));
    assert_false(
        aipm_merkle_inclusion_verify(index ^ 2, size, leaf, path, count, root));
    assert_false(
        aipm_merkle_inclusion_verify(index, size * 2, leaf, path, count, root));
    assert_false(
        aipm_merkle_inclusion_verify(index, size / 2, leaf, path, count, root));
    memcpy(other, leaf, 32);
    other[31] ^= 1;
    assert_false(
        aipm_merkle_inclusion_verify(index, size, other, path, count, root));
    memcpy(other, root, 32);
    other[0] ^= 0x80;
    assert_false(
        aipm_merkle_inclusion_verify(index, size, leaf, path, count, other));
    /* trailing and preceding hashes */
    memcpy(buf, path, 32 * count);
    memcpy(buf + 32 * count, root, 32);
    assert_false(
        aipm_merkle_inclusion_verify(index, size, leaf, buf, count + 1, root));
    memcpy(buf, root, 32);
    memcpy(buf + 32, path, 32 * count);
    assert_false(
        aipm_merkle_inclusion_verify(index, size, leaf, buf, count + 1, root));
    for (i = 0; i < count; i++) {
        memcpy(buf, path, 32 * count);
        buf[32 * i] ^= 8;
        assert_false(
            aipm_merkle_inclusion_verify(index, size, leaf, buf, count, root));
    }
    if (count > 0)
        assert_false(aipm_merkle_inclusion_verify(index, size, leaf, path,
                                                  count - 1, root));
}

/* After corruptConsistencyProof: wrong sizes, roots swapped or changed,
 * the empty proof, hashes added or removed, a bit flipped in each. */
static void consistency_probes(uint64_t s1, uint64_t s2, const uint8_t r1[32],
                               const uint8_t r2[32], const uint8_t *path,
                               size_t count)
{
    uint8_t buf[(AIPM_PROOF_MAX + 1) * 32], other[32];
    size_t i;

    assert_true(aipm_merkle_consistency_verify(s1, s2, r1, r2, path, count));
    if (count == 0)
        return; /* the trivial proofs: equal sizes */
    assert_false(
        aipm_merkle_consistency_verify(s1 - 1, s2, r1, r2, path, count));
    assert_false(
        aipm_merkle_consistency_verify(s1 + 1, s2, r1, r2, path, count));
    assert_false(
        aipm_merkle_consistency_verify(s1 ^ 2, s2, r1, r2, path, count));
    assert_false(
        aipm_merkle_consistency_verify(s1, s2 * 2, r1, r2, path, count));
    assert_false(
        aipm_merkle_consistency_verify(s1, s2 / 2, r1, r2, path, count));
    memcpy(other, r1, 32);
    other[5] ^= 1;
    assert_false(
        aipm_merkle_consistency_verify(s1, s2, other, r2, path, count));
    memcpy(other, r2, 32);
    other[5] ^= 1;
    assert_false(
        aipm_merkle_consistency_verify(s1, s2, r1, other, path, count));
    assert_false(aipm_merkle_consistency_verify(s1, s2, r2, r1, path, count));
    assert_false(aipm_merkle_consistency_verify(s1, s2, r1, r2, path, 0));
    memcpy(buf, path, 32 * count);
    memcpy(buf + 32 * count, r1, 32);
    assert_false(
        aipm_merkle_consistency_verify(s1, s2, r1, r2, buf, count + 1));
    memcpy(buf + 32 * count, r2, 32);
    assert_false(
        aipm_merkle_consistency_verify(s1, s2, r1, r2, buf, count + 1));
    memcpy(buf, r1, 32);
    memcpy(buf + 32, path, 32 * count);
    assert_false(
        aipm_merkle_consistency_verify(s1, s2, r1, r2, buf, count + 1));
    memcpy(buf, path, 32);
    assert_false(
        aipm_merkle_consistency_verify(s1, s2, r1, r2, buf, count + 1));
    assert_false(
        aipm_merkle_consistency_verify(s1, s2, r1, r2, path, count - 1));
    for (i = 0; i < count; i++) {
        memcpy(buf, path, 32 * count);
        buf[32 * i] ^= 16;
        assert_false(
            aipm_merkle_consistency_verify(s1, s2, r1, r2, buf, count));
    }
}

static void test_ct_inclusion(void **state)
{
    fixture *f = *state;
    uint8_t leaves[8][32], root[32], want[32];
    aipm_merkle_proof *proof = malloc(sizeof(*proof));
    aipm_error err = {0};
    size_t v;
    int i;

    assert_non_null(proof);
    put_ct_leaves(f->st, leaves);
    for (v = 0; v < sizeof(ct_inclusion) / sizeof(ct_inclusion[0]); v++) {
        const vector *t = &ct_inclusion[v];

        assert_int_equal(
            aipm_audit_inclusion_proof(f->st, t->a - 1, t->b, proof, &err),
            AIPM_OK);
        assert_int_equal(proof->count, t->count);
        for (i = 0; i < t->count; i++) {
            tu_unhex(want, t->path[i]);
            assert_memory_equal(proof->path[i], want, 32);
        }
        root_of(root, t->b);
        assert_memory_equal(proof->root, root, 32);
        assert_memory_equal(proof->leaf, leaves[t->a - 1], 32);
        inclusion_probes(t->a - 1, t->b, leaves[t->a - 1], &proof->path[0][0],
                         proof->count, root);
    }
    free(proof);
}

static void test_ct_consistency(void **state)
{
    fixture *f = *state;
    uint8_t leaves[8][32], r1[32], r2[32], want[32];
    aipm_merkle_proof *proof = malloc(sizeof(*proof));
    aipm_error err = {0};
    size_t v;
    int i;

    assert_non_null(proof);
    put_ct_leaves(f->st, leaves);
    for (v = 0; v < sizeof(ct_consistency) / sizeof(ct_consistency[0]); v++) {
        const vector *t = &ct_consistency[v];

        assert_int_equal(
            aipm_audit_consistency_proof(f->st, t->a, t->b, proof, &err),
            AIPM_OK);
        assert_int_equal(proof->count, t->count);
        for (i = 0; i < t->count; i++) {
            tu_unhex(want, t->path[i]);
            assert_memory_equal(proof->path[i], want, 32);
        }
        root_of(r1, t->a);
        root_of(r2, t->b);
        assert_memory_equal(proof->first_root, r1, 32);
        assert_memory_equal(proof->root, r2, 32);
        consistency_probes(t->a, t->b, r1, r2, &proof->path[0][0],
                           proof->count);
    }
    free(proof);
}

/* transparency-dev/merkle TestVerifyConsistency's table of edge cases:
 * sizes 0 and 1, time travel, empty and needless proofs. */
static void test_consistency_edges(void **state)
{
    uint8_t a[32], b[32], empty[32];

    (void)state;
    memset(a, 0x11, 32);
    memset(b, 0x22, 32);
    crypto_hash_sha256(empty, (const uint8_t *)"", 0);
    assert_false(aipm_merkle_consistency_verify(0, 0, a, b, NULL, 0));
    assert_false(aipm_merkle_consistency_verify(1, 1, a, b, NULL, 0));
    assert_true(aipm_merkle_consistency_verify(0, 0, a, a, NULL, 0));
    assert_true(aipm_merkle_consistency_verify(0, 1, a, b, NULL, 0));
    assert_true(aipm_merkle_consistency_verify(1, 1, b, b, NULL, 0));
    assert_false(aipm_merkle_consistency_verify(1, 0, a, b, NULL, 0));
    assert_false(aipm_merkle_consistency_verify(2, 1, a, b, NULL, 0));
    assert_false(aipm_merkle_consistency_verify(1, 2, a, b, NULL, 0));
    assert_false(aipm_merkle_consistency_verify(0, 0, empty, b, NULL, 0));
    assert_false(aipm_merkle_consistency_verify(1, 1, empty, b, NULL, 0));
    assert_false(aipm_merkle_consistency_verify(0, 0, empty, empty, empty, 1));
    assert_false(aipm_merkle_consistency_verify(0, 1, empty, empty, empty, 1));
    assert_false(aipm_merkle_consistency_verify(1, 1, empty, empty, empty, 1));
    /* inclusion in trees that cannot hold the leaf (TestVerifyInclusion) */
    assert_false(aipm_merkle_inclusion_verify(0, 0, a, NULL, 0, empty));
    assert_false(aipm_merkle_inclusion_verify(1, 0, a, NULL, 0, a));
    assert_false(aipm_merkle_inclusion_verify(2, 1, a, NULL, 0, a));
    assert_true(aipm_merkle_inclusion_verify(0, 1, a, NULL, 0, a));
    assert_false(aipm_merkle_inclusion_verify(0, 1, a, NULL, 0, b));
}

/* Random trees of every size up to N: every proof the store gives equals
 * the recursive reference, verifies, and fails once changed. */
static void test_random_trees(void **state)
{
    enum { N = 40 };
    fixture *f = *state;
    uint8_t(*leaves)[32] = malloc(N * 32);
    uint8_t(*want)[32] = malloc(AIPM_PROOF_MAX * 32);
    uint8_t bytes[N][24], r1[32], r2[32];
    const uint8_t *data[N];
    size_t len[N], n, m, count;
    aipm_merkle_proof *proof = malloc(sizeof(*proof));
    aipm_error err = {0};
    uint64_t x = 0x2545f4914f6cdd1dULL;

    assert_non_null(leaves);
    assert_non_null(want);
    assert_non_null(proof);
    for (n = 0; n < N; n++) {
        size_t j;

        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        len[n] = (size_t)(x >> 60) + 1;
        for (j = 0; j < len[n]; j++)
            bytes[n][j] = (uint8_t)(x >> (8 * (j % 8)));
        data[n] = bytes[n];
    }
    put_rows(f->st, data, len, N, leaves);
    for (n = 1; n <= N; n++) {
        ref_mth(r2, leaves, n);
        for (m = 0; m < n; m++) {
            assert_int_equal(
                aipm_audit_inclusion_proof(f->st, m, n, proof, &err), AIPM_OK);
            count = ref_path(want, 0, m, leaves, n);
            assert_int_equal(proof->count, count);
            assert_memory_equal(proof->path, want, 32 * count);
            assert_memory_equal(proof->root, r2, 32);
            inclusion_probes(m, n, leaves[m], &proof->path[0][0], count, r2);
        }
        for (m = 0; m <= n; m++) {
            assert_int_equal(
                aipm_audit_consistency_proof(f->st, m, n, proof, &err),
                AIPM_OK);
            count = m == 0 ? 0 : ref_subproof(want, 0, m, leaves, n, 1);
            assert_int_equal(proof->count, count);
            assert_memory_equal(proof->path, want, 32 * count);
            ref_mth(r1, leaves, m);
            assert_memory_equal(proof->first_root, r1, 32);
            assert_memory_equal(proof->root, r2, 32);
            if (m > 0)
                consistency_probes(m, n, r1, r2, &proof->path[0][0], count);
            else
                assert_true(aipm_merkle_consistency_verify(
                    m, n, r1, r2, &proof->path[0][0], count));
        }
    }
    /* A proof past the log's end, or of a leaf outside its tree. */
    assert_int_equal(aipm_audit_consistency_proof(f->st, 3, N + 1, proof, &err),
                     AIPM_ENOTFOUND);
    assert_int_equal(aipm_audit_consistency_proof(f->st, 5, 4, proof, &err),
                     AIPM_EINVALID);
    assert_int_equal(aipm_audit_inclusion_proof(f->st, 4, 4, proof, &err),
                     AIPM_EINVALID);
    free(proof);
    free(want);
    free(leaves);
}

/* The prover alone on a larger tree (no store): leaves streamed once,
 * proofs checked against the heads aipm_merkle computes independently of
 * the proof code (and RFC-tested in test_audit). */
static void test_prover_large(void **state)
{
    static const uint64_t sizes[] = {100003, 1 << 17, 65537};
    aipm_audit__prover *p = malloc(sizeof(*p));
    aipm_merkle_proof *proof = malloc(sizeof(*proof));
    aipm_merkle *m = malloc(sizeof(*m));
    uint8_t leaf[32], r1[32] = {0}, leaf_at[32] = {0};
    size_t s;

    (void)state;
    assert_non_null(p);
    assert_non_null(proof);
    assert_non_null(m);
    for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        uint64_t n = sizes[s], first = n / 3 + 7, i;
        int kind;

        for (kind = 0; kind < 2; kind++) {
            aipm_audit__prover_init(p, proof, kind, first, n);
            aipm_merkle_init(m);
            for (i = 0; i < n; i++) {
                uint8_t data[8];
                int done;

                memcpy(data, &i, 8);
                aipm_merkle_leaf(leaf, data, 8);
                aipm_merkle_push(m, leaf);
                if (i + 1 == first)
                    aipm_merkle_root(m, r1);
                if (i == first)
                    memcpy(leaf_at, leaf, 32);
                done = aipm_audit__prover_push(p, leaf);
                assert_int_equal(done, i + 1 == n);
            }
            aipm_merkle_root(m, leaf); /* the head at n */
            assert_memory_equal(proof->root, leaf, 32);
            if (kind)
                assert_true(aipm_merkle_inclusion_verify(
                    first, n, leaf_at, &proof->path[0][0], proof->count,
                    proof->root));
            else
                assert_true(aipm_merkle_consistency_verify(
                    first, n, r1, proof->root, &proof->path[0][0],
                    proof->count));
            assert_true(proof->count <= 2 * 18);
        }
    }
    free(m);
    free(proof);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ct_inclusion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ct_consistency, setup, teardown),
        cmocka_unit_test(test_consistency_edges),
        cmocka_unit_test_setup_teardown(test_random_trees, setup, teardown),
        cmocka_unit_test(test_prover_large),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
