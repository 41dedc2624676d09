/* test_tokens.c - unit tests of govern/tokens: the HTTP API's tokens.
 *
 * A workspace store with alice (admin, with a key once the bootstrap is
 * over) and bob (analyst): a token made for bob checks to bob and his
 * role now; the store holds its SHA-256 (computed here independently, and
 * against a reference from Python's hashlib) and never the token; a
 * revoked token and a malformed one are refused; after the bootstrap a
 * creation needs a signature.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "aipm/govern.h"
#include "testutil.h"

typedef struct fixture {
    char dir[256], db[300], checkpoint[300], keys[300];
    aipm_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    aipm_error err = {0};

    if (f == NULL || tu_mkdtemp(f->dir, sizeof(f->dir)) == NULL)
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/aipm.db", f->dir);
    snprintf(f->checkpoint, sizeof(f->checkpoint), "%s/checkpoint", f->dir);
    snprintf(f->keys, sizeof(f->keys), "%s/keys", f->dir);
    setenv("AIPM_KEYS", f->keys, 1);
    if (aipm_store_open(&f->st, f->db, 1, &err) != AIPM_OK ||
        aipm_user_set(f->st, "alice", "admin", NULL, 1000, f->checkpoint,
                      &err) != AIPM_OK ||
        aipm_user_set(f->st, "bob", "analyst", NULL, 1001, f->checkpoint,
                      &err) != AIPM_OK) {
        print_error("setup: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    if (f) {
        aipm_store_close(f->st);
        tu_rmtree(f->dir);
        free(f);
    }
    return 0;
}

/* End the bootstrap: alice gets a key, saved in the key folder. */
static void give_alice_a_key(fixture *f)
{
    char path[512];
    aipm_error err = {0};
    aipm_key k;

    assert_int_equal(aipm_key_generate(&k, "alice", &err), AIPM_OK);
    assert_int_equal(aipm_key_path(path, sizeof(path), "alice", &err), AIPM_OK);
    assert_int_equal(aipm_key_save(&k, path, 0, &err), AIPM_OK);
    assert_int_equal(
        aipm_user_key_set(f->st, "alice", &k, NULL, 2000, f->checkpoint, &err),
        AIPM_OK);
}

typedef struct rows {
    int n;
    char sha[8][65];
    char hint[8][16];
    int64_t revoked[8];
} rows;

static int take(void *ctx, const aipm_token_row *r)
{
    rows *w = ctx;

    if (w->n < 8) {
        snprintf(w->sha[w->n], 65, "%s", r->token_sha256);
        snprintf(w->hint[w->n], 16, "%s", r->hint);
        w->revoked[w->n] = r->revoked_ms;
    }
    w->n++;
    return 0;
}

/* Fail when any text field of a token row holds the token. */
static const char *g_token;

static int row_lacks_token(void *ctx, const aipm_token_row *r)
{
    const char *f[] = {r->user,       r->name,       r->token_sha256, r->hint,
                       r->created_by, r->revoked_by, r->revoke_reason};
    size_t i;

    (void)ctx;
    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        assert_true(f[i] == NULL || strstr(f[i], g_token) == NULL);
    return 0;
}

static int entry_lacks_token(void *ctx, const aipm_audit_row *r)
{
    char *text = malloc(r->entry_len + 1);

    assert_non_null(text);
    memcpy(text, r->entry, r->entry_len);
    text[r->entry_len] = '\0';
    assert_null(strstr(text, g_token));
    /* the token's random part is not there either */
    assert_null(strstr(text, g_token + 5));
    if (strstr(text, "token.create"))
        (*(int *)ctx)++;
    free(text);
    return 0;
}

static void test_create_check_revoke(void **state)
{
    fixture *f = *state;
    char token[AIPM_TOKEN_LEN + 1], user[128], sha[65];
    uint8_t digest[32];
    aipm_error err = {0};
    int64_t id = 0;
    int role = -1, creates = 0;
    rows w;

    assert_int_equal(aipm_token_create(f->st, "bob", NULL, NULL, 3000,
                                       f->checkpoint, token, &id, &err),
                     AIPM_OK);
    assert_int_equal(id, 1);
    assert_int_equal(strlen(token), AIPM_TOKEN_LEN);
    assert_memory_equal(token, "aipm_", 5);

    /* it checks to bob, an analyst */
    assert_int_equal(aipm_token_check(f->st, token, user, &role, &err),
                     AIPM_OK);
    assert_string_equal(user, "bob");
    assert_int_equal(role, AIPM_ROLE_ANALYST);

    /* the row holds sha256(token), computed here, and the hint */
    memset(&w, 0, sizeof(w));
    assert_int_equal(aipm_store_token_list(f->st, NULL, take, &w, &err),
                     AIPM_OK);
    assert_int_equal(w.n, 1);
    aipm_sha256_oneshot(digest, token, strlen(token));
    tu_hex(sha, digest, 32);
    assert_string_equal(w.sha[0], sha);
    assert_int_equal(strlen(w.hint[0]), 9);
    assert_memory_equal(w.hint[0], token, 9);

    /* aipm_sha256_oneshot against Python: hashlib.sha256(("aipm_" +
     * "A" * 43).encode()).hexdigest() */
    {
        const char fixed[] = "aipm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

        assert_int_equal(strlen(fixed), AIPM_TOKEN_LEN);
        aipm_sha256_oneshot(digest, fixed, strlen(fixed));
        tu_hex(sha, digest, 32);
        assert_string_equal(sha, "596ad55e03d1ec2b6ca8022831bbe1eb"
                                 "dcdb311bd3fb37c28ca8248cb8cd7ccf");
        /* well formed but unknown */
        assert_int_equal(aipm_token_check(f->st, fixed, user, &role, &err),
                         AIPM_EBLOCKED);
    }

    /* the token is nowhere in the store: rows, audit entries, the file */
    g_token = token;
    assert_int_equal(
        aipm_store_token_list(f->st, NULL, row_lacks_token, NULL, &err),
        AIPM_OK);
    assert_int_equal(
        aipm_store_audit_list(f->st, entry_lacks_token, &creates, &err),
        AIPM_OK);
    assert_int_equal(creates, 1);
    {
        const char *const suffixes[] = {"", "-wal", "-journal"};
        char path[320];
        size_t i;

        for (i = 0; i < 3; i++) {
            size_t len = 0;
            char *bytes;

            snprintf(path, sizeof(path), "%s%s", f->db, suffixes[i]);
            if ((bytes = tu_read(path, &len)) == NULL) {
                assert_true(i > 0); /* the database file itself exists */
                continue;
            }
            assert_null(memmem(bytes, len, token, strlen(token)));
            assert_null(memmem(bytes, len, token + 5, strlen(token) - 5));
            free(bytes);
        }
    }

    /* a role change applies to the token already made */
    assert_int_equal(aipm_user_set(f->st, "bob", "approver", NULL, 4000,
                                   f->checkpoint, &err),
                     AIPM_OK);
    assert_int_equal(aipm_token_check(f->st, token, user, &role, &err),
                     AIPM_OK);
    assert_int_equal(role, AIPM_ROLE_APPROVER);

    /* revoked: refused; twice: EINVALID; unknown id: ENOTFOUND */
    assert_int_equal(
        aipm_token_revoke(f->st, id, NULL, "leaked", 5000, f->checkpoint, &err),
        AIPM_OK);
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_token_check(f->st, token, user, &role, &err),
                     AIPM_EBLOCKED);
    assert_non_null(strstr(err.msg, "unknown or revoked token"));
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        aipm_token_revoke(f->st, id, NULL, "again", 5001, f->checkpoint, &err),
        AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "already revoked"));
    assert_int_equal(
        aipm_token_revoke(f->st, 99, NULL, "none", 5002, f->checkpoint, &err),
        AIPM_ENOTFOUND);
    assert_int_equal(
        aipm_token_revoke(f->st, id, NULL, "", 5003, f->checkpoint, &err),
        AIPM_EINVALID);
    /* the store op itself says the same */
    assert_int_equal(aipm_store_token_revoke(f->st, id, 5004, "x", "y", &err),
                     AIPM_EINVALID);
    assert_int_equal(aipm_store_token_revoke(f->st, 99, 5004, "x", "y", &err),
                     AIPM_ENOTFOUND);
    memset(&w, 0, sizeof(w));
    assert_int_equal(aipm_store_token_list(f->st, "bob", take, &w, &err),
                     AIPM_OK);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.revoked[0], 5000);

    /* the log replays: rows match the entries */
    {
        aipm_govern_check gc;

        assert_int_equal(aipm_govern_verify(f->st, &gc, NULL, NULL, &err),
                         AIPM_OK);
        assert_int_equal(gc.bad, 0);
        assert_int_equal(gc.tokens, 2);
    }
}

static void test_unknown_user(void **state)
{
    fixture *f = *state;
    char token[AIPM_TOKEN_LEN + 1];
    aipm_error err = {0};
    int64_t id = 0;

    assert_int_equal(aipm_token_create(f->st, "zed", NULL, NULL, 3000,
                                       f->checkpoint, token, &id, &err),
                     AIPM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "zed"));
    assert_non_null(strstr(err.msg, "aipm users add"));
    assert_string_equal(token, "");
}

/* Malformed tokens are refused before any store lookup: with no store. */
static void test_malformed_refused_without_lookup(void **state)
{
    static const char *bad[] = {
        "",
        "aipm_",
        "aipm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* 42 */
        "aipm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 44 */
        "aipx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "aipm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "aipm_AAAAAAAAAAAAAAAAAAAAA+AAAAAAAAAAAAAAAAAAAAA",
        "aipm_AAAAAAAAAAAAAAAAAAAAA/AAAAAAAAAAAAAAAAAAAAA",
        "aipm_AAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA",
        "Bearer aipm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        NULL,
    };
    char user[128];
    aipm_error err = {0};
    int role, i;

    (void)state;
    for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
        role = 7;
        assert_int_equal(aipm_token_check(NULL, bad[i], user, &role, &err),
                         AIPM_EBLOCKED);
        assert_int_equal(role, -1);
        assert_string_equal(user, "");
    }
}

static void test_signed_after_bootstrap(void **state)
{
    fixture *f = *state;
    char token[AIPM_TOKEN_LEN + 1], user[128];
    aipm_error err = {0};
    int64_t id = 0;
    int role = -1;
    rows w;

    give_alice_a_key(f);
    /* bob has no key and nobody signs: refused */
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_token_create(f->st, "bob", "ci", NULL, 3000,
                                       f->checkpoint, token, &id, &err),
                     AIPM_EBLOCKED);
    assert_null(strchr(err.msg, '\n'));
    assert_non_null(strstr(err.msg, "--by"));
    /* bob signing for himself without a key: refused the same */
    assert_int_equal(aipm_token_create(f->st, "bob", "ci", "bob", 3000,
                                       f->checkpoint, token, &id, &err),
                     AIPM_EBLOCKED);
    /* bob is no admin: he cannot sign for alice */
    assert_int_equal(aipm_token_create(f->st, "alice", "ci", "bob", 3000,
                                       f->checkpoint, token, &id, &err),
                     AIPM_EBLOCKED);
    memset(&w, 0, sizeof(w));
    assert_int_equal(aipm_store_token_list(f->st, NULL, take, &w, &err),
                     AIPM_OK);
    assert_int_equal(w.n, 0);

    /* signed by the admin: made */
    assert_int_equal(aipm_token_create(f->st, "bob", "ci", "alice", 3001,
                                       f->checkpoint, token, &id, &err),
                     AIPM_OK);
    assert_int_equal(aipm_token_check(f->st, token, user, &role, &err),
                     AIPM_OK);
    assert_string_equal(user, "bob");
    /* alice's own token, signed by herself (no --by) */
    assert_int_equal(aipm_token_create(f->st, "alice", NULL, NULL, 3002,
                                       f->checkpoint, token, &id, &err),
                     AIPM_OK);
    assert_int_equal(aipm_token_check(f->st, token, user, &role, &err),
                     AIPM_OK);
    assert_int_equal(role, AIPM_ROLE_ADMIN);
    /* revoking bob's needs a signature too */
    assert_int_equal(
        aipm_token_revoke(f->st, 1, NULL, "rotate", 3003, f->checkpoint, &err),
        AIPM_EBLOCKED);
    assert_int_equal(aipm_token_revoke(f->st, 1, "alice", "rotate", 3004,
                                       f->checkpoint, &err),
                     AIPM_OK);
    {
        aipm_govern_check gc;

        assert_int_equal(aipm_govern_verify(f->st, &gc, NULL, NULL, &err),
                         AIPM_OK);
        assert_int_equal(gc.bad, 0);
        assert_int_equal(gc.tokens, 3);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_check_revoke, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_user, setup, teardown),
        cmocka_unit_test(test_malformed_refused_without_lookup),
        cmocka_unit_test_setup_teardown(test_signed_after_bootstrap, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
