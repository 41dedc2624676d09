/* test_audit.c - unit tests of govern/audit: RFC 6962 hashing and the log.
 *
 * Tree heads are checked against values computed by a separate Python
 * implementation of RFC 6962 section 2.1 (noted below) and, for random
 * trees, against a recursive MTH written here on libsodium directly, so no
 * reference passes through the code under test. The log tests tamper with
 * the SQLite file the way an attacker with file access would (drop the
 * append-only triggers, then edit, delete or reorder rows) and check that
 * verify names the first bad position.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aipm/audit.h"
#include "aipm/decision.h"
#include "aipm/store.h"
#include "testutil.h"

/* ---- reference RFC 6962 MTH (libsodium SHA-256, recursive split) ---- */

static void ref_leaf(uint8_t out[32], const uint8_t *data, size_t len)
{
    crypto_hash_sha256_state h;
    uint8_t zero = 0;

    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, &zero, 1);
    crypto_hash_sha256_update(&h, data, len);
    crypto_hash_sha256_final(&h, out);
}

/* MTH(D[n]) over precomputed leaf hashes (RFC 6962 section 2.1): k is the
 * largest power of two smaller than n. */
static void ref_mth(uint8_t out[32], uint8_t (*leaves)[32], size_t n)
{
    crypto_hash_sha256_state h;
    uint8_t one = 1, left[32], right[32];
    size_t k = 1;

    if (n == 0) {
        crypto_hash_sha256(out, (const uint8_t *)"", 0);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], 32);
        return;
    }
    while (k * 2 < n)
        k *= 2;
    ref_mth(left, leaves, k);
    ref_mth(right, leaves + k, n - k);
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, &one, 1);
    crypto_hash_sha256_update(&h, left, 32);
    crypto_hash_sha256_update(&h, right, 32);
    crypto_hash_sha256_final(&h, out);
}

/* ---- Merkle hashing ---- */

static void test_merkle_empty(void **state)
{
    aipm_merkle m;
    uint8_t root[32];
    char hex[65];

    (void)state;
    aipm_merkle_init(&m);
    aipm_merkle_root(&m, root);
    tu_hex(hex, root, 32);
    /* reference: python3 hashlib.sha256(b"").hexdigest() (RFC 6962 MTH({})) */
    assert_string_equal(
        hex,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_merkle_leaf_node(void **state)
{
    uint8_t leaf[32], a[32], b[32], node[32];
    char hex[65];
    unsigned char buf[65];

    (void)state;
    aipm_merkle_leaf(leaf, "", 0);
    tu_hex(hex, leaf, 32);
    /* reference: python3 hashlib.sha256(b"\x00").hexdigest() */
    assert_string_equal(
        hex,
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    memset(a, 0xaa, 32);
    memset(b, 0xbb, 32);
    aipm_merkle_node(node, a, b);
    buf[0] = 1;
    memcpy(buf + 1, a, 32);
    memcpy(buf + 33, b, 32);
    crypto_hash_sha256(leaf, buf, sizeof(buf)); /* SHA-256(0x01||a||b) */
    assert_memory_equal(node, leaf, 32);
    /* Order matters. */
    aipm_merkle_node(leaf, b, a);
    assert_memory_not_equal(node, leaf, 32);
}

static void test_merkle_ct_vectors(void **state)
{
    /* The certificate-transparency test leaves. Expected heads for sizes
     * 1..8: reference: python3, an independent RFC 6962 MTH (hashlib,
     * recursive split at the largest power of two < n); the size-8 head
     * also equals the value published with the CT test vectors. */
    static const char *const leaves_hex[8] = {
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f"};
    static const char *const heads[8] = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    };
    aipm_merkle m;
    int i;

    (void)state;
    aipm_merkle_init(&m);
    for (i = 0; i < 8; i++) {
        unsigned char data[16];
        size_t n = tu_unhex(data, leaves_hex[i]);
        uint8_t leaf[32], root[32];
        char hex[65];

        aipm_merkle_leaf(leaf, data, n);
        aipm_merkle_push(&m, leaf);
        assert_int_equal(m.size, (uint64_t)i + 1);
        aipm_merkle_root(&m, root);
        tu_hex(hex, root, 32);
        assert_string_equal(hex, heads[i]);
        /* Reading the root does not disturb the range. */
        aipm_merkle_root(&m, root);
        tu_hex(hex, root, 32);
        assert_string_equal(hex, heads[i]);
    }
}

static void test_merkle_random_sizes(void **state)
{
    enum { N = 70 };
    uint8_t(*leaves)[32] = malloc(N * 32);
    aipm_merkle m;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int i;

    (void)state;
    assert_non_null(leaves);
    aipm_merkle_init(&m);
    for (i = 0; i < N; i++) {
        uint8_t data[40], got[32], want[32];
        size_t len, j;

        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        len = (size_t)(x >> 59) + 1; /* 1..32 bytes */
        for (j = 0; j < len; j++)
            data[j] = (uint8_t)(x >> (8 * (j % 8)));
        ref_leaf(leaves[i], data, len);
        aipm_merkle_leaf(got, data, len);
        assert_memory_equal(got, leaves[i], 32);
        aipm_merkle_push(&m, got);
        aipm_merkle_root(&m, got);
        ref_mth(want, leaves, (size_t)i + 1);
        if (memcmp(got, want, 32) != 0)
            print_error("tree head differs at size %d\n", i + 1);
        assert_memory_equal(got, want, 32);
    }
    free(leaves);
}

/* ---- the log ---- */

typedef struct fixture {
    char dir[256];
    char db[300];
    char checkpoint[300];
    aipm_store *st;
    uint8_t head[32]; /* after the last append */
    uint64_t size;
} fixture;

#define N_ENTRIES 5

static int setup_log(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    aipm_error err = {0};
    int i;

    if (f == NULL || tu_mkdtemp(f->dir, sizeof(f->dir)) == NULL)
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/aipm.db", f->dir);
    snprintf(f->checkpoint, sizeof(f->checkpoint), "%s/checkpoint", f->dir);
    if (aipm_store_open(&f->st, f->db, 1, &err) != AIPM_OK) {
        print_error("open: %s\n", err.msg);
        return -1;
    }
    if (aipm_store_begin(f->st, &err) != AIPM_OK)
        return -1;
    for (i = 1; i <= N_ENTRIES; i++) {
        char object[32], detail[64];

        snprintf(object, sizeof(object), "obj-%d", i);
        snprintf(detail, sizeof(detail), "{\"z\":%d,\"a\":\"x\"}", i);
        if (aipm_audit_append(f->st, "test", object, detail, &f->size, f->head,
                              &err) != AIPM_OK) {
            print_error("append: %s\n", err.msg);
            return -1;
        }
    }
    if (aipm_store_commit(f->st, &err) != AIPM_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown_log(void **state)
{
    fixture *f = *state;

    if (f) {
        aipm_store_close(f->st);
        tu_rmtree(f->dir);
        free(f);
    }
    return 0;
}

/* Run SQL on the store's file through a second connection. */
static int raw_exec(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    int rc;

    if (sqlite3_open(db, &h) != SQLITE_OK) {
        sqlite3_close(h);
        return -1;
    }
    sqlite3_busy_timeout(h, 5000);
    rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    sqlite3_close(h);
    return rc;
}

/* The stored entry bytes of seq (malloc'ed, NUL-terminated) or NULL. */
static char *raw_entry(const char *db, int64_t seq, size_t *len)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    char *out = NULL;

    if (sqlite3_open(db, &h) != SQLITE_OK)
        goto done;
    if (sqlite3_prepare_v2(h, "SELECT entry FROM audit WHERE seq = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_int64(st, 1, seq);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int n = sqlite3_column_bytes(st, 0);

        out = malloc((size_t)n + 1);
        if (out) {
            memcpy(out, sqlite3_column_blob(st, 0), (size_t)n);
            out[n] = '\0';
            *len = (size_t)n;
        }
    }
done:
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
}

/* Replace entry (and optionally leaf) of seq. */
static int raw_set_entry(const char *db, int64_t seq, const char *entry,
                         const uint8_t *leaf)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (sqlite3_open(db, &h) != SQLITE_OK)
        goto done;
    if (sqlite3_prepare_v2(h,
                           leaf ? "UPDATE audit SET entry = ?2, leaf = ?3 "
                                  "WHERE seq = ?1"
                                : "UPDATE audit SET entry = ?2 WHERE seq = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_blob(st, 2, entry, (int)strlen(entry), SQLITE_STATIC);
    if (leaf)
        sqlite3_bind_blob(st, 3, leaf, 32, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(h) == 1 ? 0 : -1;
done:
    sqlite3_finalize(st);
    sqlite3_close(h);
    return rc;
}

static const char drop_triggers[] = "DROP TRIGGER audit_no_update;"
                                    "DROP TRIGGER audit_no_delete;";

static void verify(fixture *f, const char *checkpoint, aipm_audit_report *r)
{
    aipm_error err = {0};

    assert_int_equal(aipm_audit_verify(f->st, checkpoint, r, &err), AIPM_OK);
}

static void test_log_intact(void **state)
{
    fixture *f = *state;
    aipm_audit_report r;
    uint8_t leaves[N_ENTRIES][32], want[32];
    int i;

    assert_int_equal(f->size, N_ENTRIES);
    verify(f, NULL, &r);
    assert_int_equal(r.first_bad, 0);
    assert_int_equal(r.size, N_ENTRIES);
    assert_memory_equal(r.head, f->head, 32);
    /* The head is the reference MTH of the stored entries' leaves. */
    for (i = 0; i < N_ENTRIES; i++) {
        size_t len = 0;
        char *e = raw_entry(f->db, i + 1, &len);

        assert_non_null(e);
        ref_leaf(leaves[i], (const uint8_t *)e, len);
        free(e);
    }
    ref_mth(want, leaves, N_ENTRIES);
    assert_memory_equal(r.head, want, 32);
    /* With a matching checkpoint it is still intact. */
    assert_int_equal(
        aipm_audit_checkpoint_write(f->checkpoint, f->size, f->head, NULL),
        AIPM_OK);
    verify(f, f->checkpoint, &r);
    assert_int_equal(r.first_bad, 0);
}

static void test_log_checkpoint_format(void **state)
{
    fixture *f = *state;
    char want[128], hex[65], *text;

    assert_int_equal(
        aipm_audit_checkpoint_write(f->checkpoint, f->size, f->head, NULL),
        AIPM_OK);
    tu_hex(hex, f->head, 32);
    snprintf(want, sizeof(want), "%d %s\n", N_ENTRIES, hex); /* audit.h */
    text = tu_read(f->checkpoint, NULL);
    assert_non_null(text);
    assert_string_equal(text, want);
    free(text);
}

static void test_log_canonical_entry(void **state)
{
    fixture *f = *state;
    size_t len = 0;
    char *e = raw_entry(f->db, 2, &len);

    /* audit.h: canonical JSON, keys sorted, no whitespace; the values are
     * those of setup_log with AIPM_ACTOR and AIPM_NOW set in main. The
     * detail was given as {"z":2,"a":"x"} and must come back sorted. */
    assert_non_null(e);
    assert_string_equal(e, "{\"action\":\"test\",\"actor\":\"tester\","
                           "\"detail\":{\"a\":\"x\",\"z\":2},"
                           "\"object\":\"obj-2\",\"seq\":2,"
                           "\"time\":\"2026-11-27T00:00:00.000Z\"}");
    assert_int_equal(len, strlen(e));
    free(e);
}

static void test_log_triggers(void **state)
{
    fixture *f = *state;
    aipm_audit_report r;

    /* Without dropping the triggers the log refuses edits and deletes. */
    assert_int_not_equal(raw_exec(f->db, "DELETE FROM audit WHERE seq = 2"),
                         SQLITE_OK);
    assert_int_not_equal(
        raw_exec(f->db, "UPDATE audit SET entry = x'00' WHERE seq = 2"),
        SQLITE_OK);
    verify(f, NULL, &r);
    assert_int_equal(r.first_bad, 0);
    assert_int_equal(r.size, N_ENTRIES);
}

static void test_log_tamper_edit(void **state)
{
    fixture *f = *state;
    aipm_audit_report r;
    size_t len = 0;
    char *e = raw_entry(f->db, 3, &len), *p;

    assert_non_null(e);
    p = strstr(e, "obj-3");
    assert_non_null(p);
    p[4] = '9'; /* obj-3 -> obj-9, same length */
    assert_int_equal(raw_exec(f->db, drop_triggers), SQLITE_OK);
    assert_int_equal(raw_set_entry(f->db, 3, e, NULL), 0);
    free(e);
    verify(f, NULL, &r);
    assert_int_equal(r.first_bad, 3);
    assert_true(strlen(r.problem) > 0);
}

static void test_log_tamper_edit_with_leaf(void **state)
{
    fixture *f = *state;
    aipm_audit_report r;
    size_t len = 0;
    char *e = raw_entry(f->db, 2, &len), *p;
    uint8_t leaf[32];

    /* An attacker who also rewrites the leaf hash: the stored tree heads
     * from this entry on no longer match, so verify still names seq 2. */
    assert_non_null(e);
    p = strstr(e, "obj-2");
    assert_non_null(p);
    p[4] = '8';
    ref_leaf(leaf, (const uint8_t *)e, strlen(e));
    assert_int_equal(raw_exec(f->db, drop_triggers), SQLITE_OK);
    assert_int_equal(raw_set_entry(f->db, 2, e, leaf), 0);
    free(e);
    verify(f, NULL, &r);
    assert_int_equal(r.first_bad, 2);
}

static void test_log_tamper_delete_middle(void **state)
{
    fixture *f = *state;
    aipm_audit_report r;

    assert_int_equal(raw_exec(f->db, drop_triggers), SQLITE_OK);
    assert_int_equal(raw_exec(f->db, "DELETE FROM audit WHERE seq = 3"),
                     SQLITE_OK);
    verify(f, NULL, &r);
    assert_int_equal(r.first_bad, 3); /* the gap */
}

static void test_log_tamper_delete_last(void **state)
{
    fixture *f = *state;
    aipm_audit_report r;

    assert_int_equal(
        aipm_audit_checkpoint_write(f->checkpoint, f->size, f->head, NULL),
        AIPM_OK);
    assert_int_equal(raw_exec(f->db, drop_triggers), SQLITE_OK);
    assert_int_equal(raw_exec(f->db, "DELETE FROM audit WHERE seq = "
                                     "5"),
                     SQLITE_OK);
    /* Without the checkpoint a truncated log is self-consistent ... */
    verify(f, NULL, &r);
    assert_int_equal(r.first_bad, 0);
    assert_int_equal(r.size, N_ENTRIES - 1);
    /* ... with it, the missing last entry is named. */
    verify(f, f->checkpoint, &r);
    assert_int_equal(r.first_bad, N_ENTRIES);
    assert_true(strlen(r.problem) > 0);
}

static void test_log_tamper_reorder(void **state)
{
    fixture *f = *state;
    aipm_audit_report r;

    /* Swap the rows at positions 2 and 4 (seq is the rowid). */
    assert_int_equal(raw_exec(f->db, drop_triggers), SQLITE_OK);
    assert_int_equal(raw_exec(f->db,
                              "UPDATE audit SET seq = -2 WHERE seq = 2;"
                              "UPDATE audit SET seq = 2 WHERE seq = 4;"
                              "UPDATE audit SET seq = 4 WHERE seq = -2;"),
                     SQLITE_OK);
    verify(f, NULL, &r);
    assert_int_equal(r.first_bad, 2);
}

static void test_log_wrong_checkpoint(void **state)
{
    fixture *f = *state;
    aipm_audit_report r;
    uint8_t other[32];

    /* A checkpoint whose head differs at its size: the log was rewritten. */
    memcpy(other, f->head, 32);
    other[0] ^= 1;
    assert_int_equal(
        aipm_audit_checkpoint_write(f->checkpoint, f->size, other, NULL),
        AIPM_OK);
    verify(f, f->checkpoint, &r);
    assert_int_equal(r.first_bad, N_ENTRIES);
}

/* Regression (code review): a checkpoint file that exists but is not a
 * checkpoint must not be ignored, or cutting the log's tail and damaging
 * the file would pass as intact. */
static void test_log_damaged_checkpoint(void **state)
{
    fixture *f = *state;
    aipm_audit_report r;

    assert_int_equal(tu_write(f->checkpoint, "-1 zz\n", 6), 0);
    verify(f, f->checkpoint, &r);
    assert_int_not_equal(r.first_bad, 0);
    assert_non_null(strstr(r.problem, "checkpoint"));
}

static void test_log_append_after_reopen(void **state)
{
    fixture *f = *state;
    aipm_error err = {0};
    aipm_audit_report r;
    uint64_t size = 0;
    uint8_t head[32];

    aipm_store_close(f->st);
    f->st = NULL;
    assert_int_equal(aipm_store_open(&f->st, f->db, 0, &err), AIPM_OK);
    /* No transaction open: the entry commits on its own. */
    assert_int_equal(
        aipm_audit_append(f->st, "later", "obj-6", NULL, &size, head, &err),
        AIPM_OK);
    assert_int_equal(size, N_ENTRIES + 1);
    verify(f, NULL, &r);
    assert_int_equal(r.first_bad, 0);
    assert_int_equal(r.size, N_ENTRIES + 1);
    assert_memory_equal(r.head, head, 32);
    /* A detail that is not an object is refused, nothing appended. */
    memset(&err, 0, sizeof(err));
    assert_int_not_equal(
        aipm_audit_append(f->st, "x", "y", "[1]", NULL, NULL, &err), AIPM_OK);
    verify(f, NULL, &r);
    assert_int_equal(r.size, N_ENTRIES + 1);
}

/* Regression (issue 12): the checkpoint went through fopen(path.tmp, "w"),
 * which follows a symbolic link planted there and overwrote a file
 * outside the workspace. Links at the old temporary name and at the
 * writer's own (path.tmp.<pid>) are never written through. */
static void test_log_checkpoint_no_symlink(void **state)
{
    fixture *f = *state;
    char victim[400], old_tmp[400], new_tmp[400], want[128], hex[65], *text;

    snprintf(victim, sizeof(victim), "%s/victim", f->dir);
    snprintf(old_tmp, sizeof(old_tmp), "%s.tmp", f->checkpoint);
    snprintf(new_tmp, sizeof(new_tmp), "%s.tmp.%ld", f->checkpoint,
             (long)getpid());
    assert_int_equal(tu_write(victim, "precious\n", 9), 0);
    assert_int_equal(symlink(victim, old_tmp), 0);
    assert_int_equal(symlink(victim, new_tmp), 0);
    assert_int_equal(
        aipm_audit_checkpoint_write(f->checkpoint, f->size, f->head, NULL),
        AIPM_OK);
    text = tu_read(victim, NULL);
    assert_string_equal(text, "precious\n");
    free(text);
    tu_hex(hex, f->head, 32);
    snprintf(want, sizeof(want), "%d %s\n", N_ENTRIES, hex); /* audit.h */
    text = tu_read(f->checkpoint, NULL);
    assert_string_equal(text, want);
    free(text);
    {
        struct stat sb;

        assert_int_equal(lstat(f->checkpoint, &sb), 0);
        assert_true(S_ISREG(sb.st_mode));
        assert_int_equal(sb.st_mode & 0777, 0600); /* private: issue 12 */
        assert_int_equal(lstat(new_tmp, &sb), -1); /* the link was removed */
    }
}

/* A checkpoint path that is a FIFO or a folder is refused with a message,
 * never opened for a blocking read (which waited for a writer forever). */
static void test_log_checkpoint_fifo_dir(void **state)
{
    fixture *f = *state;
    aipm_audit_report r;
    aipm_error err = {0};
    int repaired = 0;

    assert_int_equal(mkfifo(f->checkpoint, 0600), 0);
    assert_int_equal(aipm_audit_verify(f->st, f->checkpoint, &r, &err),
                     AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "FIFO"));
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        aipm_audit_checkpoint_sync(f->st, f->checkpoint, &repaired, &err),
        AIPM_EINVALID);
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        aipm_audit_checkpoint_write(f->checkpoint, f->size, f->head, &err),
        AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "FIFO"));
    assert_int_equal(unlink(f->checkpoint), 0);
    assert_int_equal(mkdir(f->checkpoint, 0700), 0);
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_audit_verify(f->st, f->checkpoint, &r, &err),
                     AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "folder"));
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        aipm_audit_checkpoint_write(f->checkpoint, f->size, f->head, &err),
        AIPM_EINVALID);
    rmdir(f->checkpoint);
}

/* The last entry's action and detail, parsed by hand from its JSON. */
static void last_entry(fixture *f, int64_t seq, const char *want_action,
                       const char *want_detail)
{
    size_t len = 0;
    char *e = raw_entry(f->db, seq, &len);

    assert_non_null(e);
    assert_non_null(strstr(e, want_action));
    assert_non_null(strstr(e, want_detail));
    free(e);
}

/* Regression (fix audit): writers wrote their checkpoint after releasing
 * the store's lock and unconditionally, so a slower writer could put back
 * an older checkpoint. aipm_audit_commit writes under "<checkpoint>.lock"
 * (0600) and keeps a checkpoint recording more entries. The expected
 * texts are built by hand from the sizes and heads the test holds. */
static void test_log_commit_never_backwards(void **state)
{
    fixture *f = *state;
    aipm_error err = {0};
    uint8_t head6[32], other[32];
    uint64_t size6 = 0;
    char lock[320], want[128], hex[65], *text;
    struct stat sb;

    memset(other, 0xab, sizeof(other));
    tu_hex(hex, other, 32);
    /* A later writer already recorded 7 entries. */
    snprintf(want, sizeof(want), "7 %s\n", hex);
    assert_int_equal(tu_write(f->checkpoint, want, strlen(want)), 0);
    assert_int_equal(aipm_store_begin(f->st, &err), AIPM_OK);
    assert_int_equal(
        aipm_audit_append(f->st, "test", "obj-6", "{}", &size6, head6, &err),
        AIPM_OK);
    assert_int_equal(size6, N_ENTRIES + 1);
    assert_int_equal(
        aipm_audit_commit(f->st, f->checkpoint, size6, head6, &err), AIPM_OK);
    text = tu_read(f->checkpoint, NULL);
    assert_string_equal(text, want); /* not moved back to 6 */
    free(text);
    snprintf(lock, sizeof(lock), "%s.lock", f->checkpoint);
    assert_int_equal(lstat(lock, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* Behind the commit (5 entries): moved forward to 6. */
    assert_int_equal(
        aipm_audit_checkpoint_write(f->checkpoint, f->size, f->head, NULL),
        AIPM_OK);
    assert_int_equal(aipm_store_begin(f->st, &err), AIPM_OK);
    assert_int_equal(
        aipm_audit_append(f->st, "test", "obj-7", "{}", &size6, head6, &err),
        AIPM_OK);
    assert_int_equal(
        aipm_audit_commit(f->st, f->checkpoint, size6, head6, &err), AIPM_OK);
    tu_hex(hex, head6, 32);
    snprintf(want, sizeof(want), "%d %s\n", N_ENTRIES + 2, hex);
    text = tu_read(f->checkpoint, NULL);
    assert_string_equal(text, want);
    free(text);
    /* A link at the lock file: refused before the commit, not followed. */
    assert_int_equal(unlink(lock), 0);
    assert_int_equal(symlink("/nonexistent-aipm-victim", lock), 0);
    assert_int_equal(aipm_store_begin(f->st, &err), AIPM_OK);
    assert_int_equal(
        aipm_audit_append(f->st, "test", "obj-8", "{}", &size6, head6, &err),
        AIPM_OK);
    assert_int_equal(
        aipm_audit_commit(f->st, f->checkpoint, size6, head6, &err),
        AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "symbolic link"));
    aipm_store_rollback(f->st);
    assert_int_equal(lstat("/nonexistent-aipm-victim", &sb), -1);
    unlink(lock);
}

/* A checkpoint that lags the log (a command killed after its commit) is
 * reported by verify and repaired, with an entry saying so; one that
 * disagrees with the log is left for verify. The head at 3 entries is the
 * reference MTH over the first three stored leaves (not the code's). */
static void test_log_checkpoint_lag(void **state)
{
    fixture *f = *state;
    aipm_audit_report r;
    aipm_error err = {0};
    uint8_t leaves[N_ENTRIES][32], head3[32], bad3[32];
    char want[128], hex[65], *text;
    int i, repaired = -1;

    for (i = 0; i < 3; i++) {
        size_t len = 0;
        char *e = raw_entry(f->db, i + 1, &len);

        ref_leaf(leaves[i], (const uint8_t *)e, len);
        free(e);
    }
    ref_mth(head3, leaves, 3);
    /* Another head at size 3: not a lag, left alone. */
    memcpy(bad3, head3, 32);
    bad3[5] ^= 0x40;
    assert_int_equal(aipm_audit_checkpoint_write(f->checkpoint, 3, bad3, NULL),
                     AIPM_OK);
    assert_int_equal(
        aipm_audit_checkpoint_sync(f->st, f->checkpoint, &repaired, &err),
        AIPM_OK);
    assert_int_equal(repaired, 0);
    verify(f, f->checkpoint, &r);
    assert_int_equal(r.first_bad, 3);
    /* Behind: warned, then repaired. */
    assert_int_equal(aipm_audit_checkpoint_write(f->checkpoint, 3, head3, NULL),
                     AIPM_OK);
    verify(f, f->checkpoint, &r);
    assert_int_equal(r.first_bad, 0);
    assert_int_equal(r.checkpoint, AIPM_CHECKPOINT_BEHIND);
    assert_int_equal(r.checkpoint_size, 3);
    assert_int_equal(
        aipm_audit_checkpoint_sync(f->st, f->checkpoint, &repaired, &err),
        AIPM_OK);
    assert_int_equal(repaired, 1);
    last_entry(f, N_ENTRIES + 1, "\"action\":\"checkpoint_repair\"",
               "{\"checkpoint\":\"behind\",\"checkpoint_entries\":3,"
               "\"log_entries\":5}");
    verify(f, f->checkpoint, &r);
    assert_int_equal(r.first_bad, 0);
    assert_int_equal(r.size, N_ENTRIES + 1);
    assert_int_equal(r.checkpoint, AIPM_CHECKPOINT_OK);
    tu_hex(hex, r.head, 32);
    snprintf(want, sizeof(want), "%d %s\n", N_ENTRIES + 1, hex);
    text = tu_read(f->checkpoint, NULL);
    assert_string_equal(text, want);
    free(text);
    /* Up to date: nothing to do. */
    assert_int_equal(
        aipm_audit_checkpoint_sync(f->st, f->checkpoint, &repaired, &err),
        AIPM_OK);
    assert_int_equal(repaired, 0);
    /* Missing: warned, then recreated. */
    assert_int_equal(unlink(f->checkpoint), 0);
    verify(f, f->checkpoint, &r);
    assert_int_equal(r.first_bad, 0);
    assert_int_equal(r.checkpoint, AIPM_CHECKPOINT_MISSING);
    assert_int_equal(
        aipm_audit_checkpoint_sync(f->st, f->checkpoint, &repaired, &err),
        AIPM_OK);
    assert_int_equal(repaired, 1);
    last_entry(f, N_ENTRIES + 2, "\"action\":\"checkpoint_repair\"",
               "{\"checkpoint\":\"missing\",\"checkpoint_entries\":0,"
               "\"log_entries\":6}");
    verify(f, f->checkpoint, &r);
    assert_int_equal(r.checkpoint, AIPM_CHECKPOINT_OK);
    assert_int_equal(r.size, N_ENTRIES + 2);
}

/* An append continues from the kept frontier; a frontier that is gone,
 * or that does not agree with the log's last head, is rebuilt from the
 * leaves: either way the heads stay the reference RFC 6962 heads. */
static void test_log_frontier(void **state)
{
    fixture *f = *state;
    aipm_audit_report r;
    aipm_error err = {0};
    uint8_t leaves[N_ENTRIES + 3][32], want[32], head[32];
    uint64_t size;
    int i, round;
    static const char *const damage[] = {
        NULL, "DELETE FROM audit_frontier",
        "UPDATE audit_frontier SET nodes = zeroblob(length(nodes))"};

    for (round = 0; round < 3; round++) {
        if (damage[round])
            assert_int_equal(raw_exec(f->db, damage[round]), 0);
        assert_int_equal(aipm_store_begin(f->st, &err), AIPM_OK);
        assert_int_equal(
            aipm_audit_append(f->st, "test", "more", NULL, &size, head, &err),
            AIPM_OK);
        assert_int_equal(aipm_store_commit(f->st, &err), AIPM_OK);
        assert_int_equal(size, N_ENTRIES + round + 1);
    }
    verify(f, NULL, &r);
    assert_int_equal(r.first_bad, 0);
    assert_int_equal(r.size, N_ENTRIES + 3);
    for (i = 0; i < N_ENTRIES + 3; i++) {
        size_t len = 0;
        char *e = raw_entry(f->db, i + 1, &len);

        assert_non_null(e);
        ref_leaf(leaves[i], (const uint8_t *)e, len);
        free(e);
    }
    ref_mth(want, leaves, N_ENTRIES + 3);
    assert_memory_equal(head, want, 32);
}

static void count_problem(void *ctx, const char *id, const char *problem)
{
    (void)id;
    (void)problem;
    (*(int *)ctx)++;
}

/* A decision record commits with its audit entry; aipm_decision_verify
 * catches an output edited alone, one edited with its digest, and a
 * record that no entry records. The digest is checked against
 * SHA-256 computed here with libsodium over the canonical text jansson
 * makes ({"a":1,"b":"x"}: keys sorted, compact). */
static void test_decision_verify(void **state)
{
    fixture *f = *state;
    aipm_decision_check dc;
    aipm_error err = {0};
    json_t *doc = json_pack("{s:s, s:i}", "b", "x", "a", 1);
    char id[37], sql[400], hex[65], got[65];
    uint8_t want[32];
    int n = 0;

    aipm_decision_spec spec = {"test", "subj",   "yes",    doc, NULL,
                               NULL,   "test/1", "a test", NAN, NULL};

    assert_int_equal(
        aipm_decision_record(f->st, &spec, 1000, f->checkpoint, id, &err),
        AIPM_OK);
    json_decref(doc);
    crypto_hash_sha256(want, (const unsigned char *)"{\"a\":1,\"b\":\"x\"}",
                       15);
    aipm_hex(hex, want, 32);
    aipm_decision_digest("{\"a\":1,\"b\":\"x\"}", got);
    assert_string_equal(got, hex);
    assert_int_equal(aipm_decision_verify(f->st, &dc, count_problem, &n, &err),
                     AIPM_OK);
    assert_int_equal(dc.records, 1);
    assert_int_equal(dc.bad, 0);
    /* The log grew by one entry and the checkpoint followed. */
    {
        aipm_audit_report r;

        verify(f, f->checkpoint, &r);
        assert_int_equal(r.first_bad, 0);
        assert_int_equal(r.size, N_ENTRIES + 1);
    }
    /* The output edited alone. */
    snprintf(sql, sizeof(sql),
             "UPDATE decisions SET output = '{\"a\":2,\"b\":\"x\"}' WHERE "
             "id = '%s'",
             id);
    assert_int_equal(raw_exec(f->db, sql), 0);
    assert_int_equal(aipm_decision_verify(f->st, &dc, count_problem, &n, &err),
                     AIPM_OK);
    assert_int_equal(dc.bad, 1);
    /* ... and with its digest: the audit entry still disagrees. */
    crypto_hash_sha256(want, (const unsigned char *)"{\"a\":2,\"b\":\"x\"}",
                       15);
    aipm_hex(hex, want, 32);
    snprintf(sql, sizeof(sql),
             "UPDATE decisions SET output_sha256 = '%s' WHERE id = '%s'", hex,
             id);
    assert_int_equal(raw_exec(f->db, sql), 0);
    /* A record nobody audited. */
    snprintf(sql, sizeof(sql),
             "INSERT INTO decisions(id, time_ms, kind, subject, decision, "
             "output_sha256, output) VALUES('forged', 1, 'test', 's', 'd', "
             "'%s', '{\"a\":2,\"b\":\"x\"}')",
             hex);
    assert_int_equal(raw_exec(f->db, sql), 0);
    n = 0;
    assert_int_equal(aipm_decision_verify(f->st, &dc, count_problem, &n, &err),
                     AIPM_OK);
    assert_int_equal(dc.records, 2);
    assert_int_equal(dc.bad, 2);
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merkle_empty),
        cmocka_unit_test(test_merkle_leaf_node),
        cmocka_unit_test(test_merkle_ct_vectors),
        cmocka_unit_test(test_merkle_random_sizes),
        cmocka_unit_test_setup_teardown(test_log_intact, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_log_checkpoint_format, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_log_canonical_entry, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_log_triggers, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_log_tamper_edit, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_log_tamper_edit_with_leaf,
                                        setup_log, teardown_log),
        cmocka_unit_test_setup_teardown(test_log_tamper_delete_middle,
                                        setup_log, teardown_log),
        cmocka_unit_test_setup_teardown(test_log_tamper_delete_last, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_log_tamper_reorder, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_log_checkpoint_no_symlink,
                                        setup_log, teardown_log),
        cmocka_unit_test_setup_teardown(test_log_checkpoint_fifo_dir, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_log_commit_never_backwards,
                                        setup_log, teardown_log),
        cmocka_unit_test_setup_teardown(test_log_checkpoint_lag, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_log_damaged_checkpoint, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_log_wrong_checkpoint, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_log_append_after_reopen, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_decision_verify, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(test_log_frontier, setup_log,
                                        teardown_log),
    };

    setenv("AIPM_NOW", "2026-11-27T00:00:00Z", 1);
    setenv("AIPM_ACTOR", "tester", 1);
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
