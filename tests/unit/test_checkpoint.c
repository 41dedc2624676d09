/* test_checkpoint.c - unit tests of govern/checkpoint: C2SP tlog-checkpoint
 * notes, signed and parsed, and a kept note checked against the log.
 *
 * The key is the Go reference implementation's example signer
 * (golang.org/x/mod/sumdb/note: PeterNeumann, also test_keys.c's vector).
 * The expected note is built here from the two specifications
 * (c2sp.org/tlog-checkpoint, c2sp.org/signed-note) on libsodium directly:
 * ed25519 is deterministic, so the bytes must match exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <sys/stat.h>

#include "aipm/audit.h"
#include "aipm/keys.h"
#include "aipm/store.h"
#include "testutil.h"

/* golang.org/x/mod/sumdb/note, package documentation */
static const char SKEY[] = "PRIVATE+KEY+PeterNeumann+c74f20a3+"
                           "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char VKEY[] = "PeterNeumann+c74f20a3+"
                           "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

typedef struct fixture {
    char dir[256];
    aipm_key signer, verifier, other;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    aipm_error err = {0};
    char path[400];
    FILE *fp;

    if (f == NULL || tu_mkdtemp(f->dir, sizeof(f->dir)) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/pn.key", f->dir);
    if ((fp = fopen(path, "w")) == NULL)
        return -1;
    fputs(SKEY, fp);
    fclose(fp);
    chmod(path, 0600);
    if (aipm_key_load(&f->signer, path, &err) != AIPM_OK ||
        aipm_key_parse_verifier(&f->verifier, VKEY, &err) != AIPM_OK ||
        aipm_key_generate(&f->other, "PeterNeumann", &err) != AIPM_OK) {
        print_error("keys: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    tu_rmtree(f->dir);
    free(f);
    return 0;
}

static void test_sign_format(void **state)
{
    fixture *f = *state;
    uint8_t root[32], seed_pk[64], pk[32], blob[68];
    char *note = NULL, want[512], root64[64], sig64[128], text[256];
    unsigned char raw[40];
    size_t raw_len = 0;
    aipm_error err = {0};
    int i;

    for (i = 0; i < 32; i++)
        root[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(aipm_checkpoint_sign(&note, "example.com/log", 42, root,
                                          &f->signer, &err),
                     AIPM_OK);
    /* The expected note, from the specifications. */
    sodium_bin2base64(root64, sizeof(root64), root, 32,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(text, sizeof(text), "example.com/log\n42\n%s\n", root64);
    assert_int_equal(sodium_base642bin(raw, sizeof(raw), SKEY + 34,
                                       strlen(SKEY + 34), NULL, &raw_len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(raw_len, 33); /* 0x01 || seed */
    crypto_sign_seed_keypair(pk, seed_pk, raw + 1);
    blob[0] = 0xc7; /* the key ID c74f20a3, big-endian */
    blob[1] = 0x4f;
    blob[2] = 0x20;
    blob[3] = 0xa3;
    crypto_sign_detached(blob + 4, NULL, (const uint8_t *)text, strlen(text),
                         seed_pk);
    sodium_bin2base64(sig64, sizeof(sig64), blob, 68,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(want, sizeof(want), "%s\n\xe2\x80\x94 PeterNeumann %s\n", text,
             sig64);
    assert_string_equal(note, want);
    /* The public key of the Go verifier key checks it. */
    assert_int_equal(crypto_sign_verify_detached(blob + 4,
                                                 (const uint8_t *)text,
                                                 strlen(text), f->verifier.pk),
                     0);
    free(note);
}

static void test_parse_and_check(void **state)
{
    fixture *f = *state;
    uint8_t root[32];
    char *note = NULL, *edited, *two;
    aipm_checkpoint *cp = malloc(sizeof(*cp));
    aipm_error err = {0};
    size_t len;

    assert_non_null(cp);
    memset(root, 0xab, 32);
    assert_int_equal(aipm_checkpoint_sign(&note, "aipm.local/log/0123", 7, root,
                                          &f->signer, &err),
                     AIPM_OK);
    len = strlen(note);
    assert_int_equal(aipm_checkpoint_parse(cp, note, len, &err), AIPM_OK);
    assert_string_equal(cp->origin, "aipm.local/log/0123");
    assert_int_equal(cp->size, 7);
    assert_memory_equal(cp->root, root, 32);
    assert_int_equal(cp->n_sigs, 1);
    assert_int_equal(aipm_checkpoint_signed_by(cp, &f->verifier),
                     AIPM_NOTE_SIGNED);
    /* Another key of the same name: its ID differs, the line is not its. */
    assert_int_equal(aipm_checkpoint_signed_by(cp, &f->other),
                     AIPM_NOTE_UNSIGNED);
    /* An edited size or root: the key's own line no longer verifies. */
    edited = strdup(note);
    assert_non_null(edited);
    edited[strlen("aipm.local/log/0123\n")] = '8';
    assert_int_equal(aipm_checkpoint_parse(cp, edited, len, &err), AIPM_OK);
    assert_int_equal(cp->size, 8);
    assert_int_equal(aipm_checkpoint_signed_by(cp, &f->verifier),
                     AIPM_NOTE_BAD);
    free(edited);
    /* Unknown signatures are ignored (signed-note): another key's line
     * first, then the right one. */
    two = malloc(len + 200);
    assert_non_null(two);
    {
        const char *sigs = strstr(note, "\n\n") + 2;

        memcpy(two, note, (size_t)(sigs - note));
        snprintf(two + (sigs - note), len + 200 - (size_t)(sigs - note),
                 "\xe2\x80\x94 other.example/key "
                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n%s",
                 sigs);
    }
    assert_int_equal(aipm_checkpoint_parse(cp, two, strlen(two), &err),
                     AIPM_OK);
    assert_int_equal(cp->n_sigs, 2);
    assert_int_equal(aipm_checkpoint_signed_by(cp, &f->verifier),
                     AIPM_NOTE_SIGNED);
    free(two);
    free(note);
    free(cp);
}

/* a line of 68 zero bytes: a key ID and an ed25519-sized signature */
#define GOOD_SIG                                                               \
    "\xe2\x80\x94 k "                                                          \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"                           \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
#define ROOT "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="

static void test_parse_malformed(void **state)
{
    static const char *const bad[] = {
        "o\n1\n" ROOT "\n" GOOD_SIG,             /* no blank line */
        "o\n1\n" ROOT "\n\n",                    /* no signatures */
        "o\n1\n" ROOT "\n\n\xe2\x80\x94 k AAAA", /* no final newline */
        "o\n1\n" ROOT "x\n\n" GOOD_SIG,          /* bad base64 */
        "o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urqw==\n\n" GOOD_SIG,
        "o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6t=\n\n" GOOD_SIG,
        "o\n01\n" ROOT "\n\n" GOOD_SIG,                   /* leading zero */
        "o\n-1\n" ROOT "\n\n" GOOD_SIG,                   /* sign */
        "o\n1x\n" ROOT "\n\n" GOOD_SIG,                   /* not decimal */
        "o\n\n" ROOT "\n\n" GOOD_SIG,                     /* empty size */
        "o\n18446744073709551616\n" ROOT "\n\n" GOOD_SIG, /* overflow */
        "o\n1\n" ROOT "\next\n\n" GOOD_SIG,               /* extension line */
        "o\n1\n\n" GOOD_SIG,                              /* two lines */
        "\n1\n" ROOT "\n\n" GOOD_SIG,                     /* empty origin */
        "o o\n1\n" ROOT "\n\n" GOOD_SIG,                  /* space in origin */
        "o\t\n1\n" ROOT "\n\n" GOOD_SIG,                  /* control byte */
        "o\xff\n1\n" ROOT "\n\n" GOOD_SIG,                /* not UTF-8 */
        "o\n1\n" ROOT "\n\n- k AAAAAAAA\n",               /* no em dash */
        "o\n1\n" ROOT "\n\n\xe2\x80\x94 kAAAAAAAA\n",     /* no space */
        "o\n1\n" ROOT "\n\n\xe2\x80\x94 k AAAA\n",        /* only a key ID */
        "o\n1\n" ROOT "\n\n\xe2\x80\x94 k+x AAAAAAAA\n",  /* '+' in name */
        "o\n1\n" ROOT "\n\n\xe2\x80\x94  AAAAAAAA\n",     /* empty name */
    };
    aipm_checkpoint *cp = malloc(sizeof(*cp));
    aipm_error err = {0};
    char many[8192];
    size_t i, n;

    (void)state;
    assert_non_null(cp);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        if (aipm_checkpoint_parse(cp, bad[i], strlen(bad[i]), &err) !=
            AIPM_EINVALID)
            fail_msg("bad note %zu parsed", i);
        if (strstr(err.msg, "not a checkpoint note: ") == NULL)
            fail_msg("bad note %zu: %s", i, err.msg);
        assert_null(strchr(err.msg, '\n'));
    }
    /* A NUL inside. */
    assert_int_equal(aipm_checkpoint_parse(cp, "o\n1\0\n", 5, &err),
                     AIPM_EINVALID);
    /* 16 signature lines are taken, 17 are too many. */
    n = (size_t)snprintf(many, sizeof(many), "o\n1\n" ROOT "\n\n");
    for (i = 0; i < 16; i++)
        n += (size_t)snprintf(many + n, sizeof(many) - n, GOOD_SIG);
    assert_int_equal(aipm_checkpoint_parse(cp, many, n, &err), AIPM_OK);
    assert_int_equal(cp->n_sigs, 16);
    n += (size_t)snprintf(many + n, sizeof(many) - n, GOOD_SIG);
    memset(&err, 0, sizeof(err)); /* an error is filled once */
    assert_int_equal(aipm_checkpoint_parse(cp, many, n, &err), AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "more than 16"));
    free(cp);
}

/* A kept note against a log: intact and extended, then checked with
 * another key. */
static void test_verify_note(void **state)
{
    fixture *f = *state;
    char db[300], kept[300], origin[AIPM_ORIGIN_MAX], *note = NULL;
    aipm_store *st = NULL;
    aipm_audit_report rep;
    aipm_error err = {0};
    uint8_t head[32];
    uint64_t size = 0;
    aipm_key k;
    int i;

    snprintf(db, sizeof(db), "%s/aipm.db", f->dir);
    snprintf(kept, sizeof(kept), "%s/kept.note", f->dir);
    assert_int_equal(aipm_store_open(&st, db, 1, &err), AIPM_OK);
    assert_int_equal(aipm_store_begin(st, &err), AIPM_OK);
    for (i = 0; i < 5; i++)
        assert_int_equal(
            aipm_audit_append(st, "test", "x", NULL, &size, head, &err),
            AIPM_OK);
    assert_int_equal(aipm_store_commit(st, &err), AIPM_OK);
    assert_int_equal(aipm_audit_origin(st, origin, &err), AIPM_OK);
    assert_int_equal(strncmp(origin, "aipm.local/log/", 15), 0);
    assert_int_equal(strlen(origin), 15 + 16);
    assert_int_equal(aipm_key_generate(&k, origin, &err), AIPM_OK);
    assert_int_equal(aipm_checkpoint_sign(&note, origin, size, head, &k, &err),
                     AIPM_OK);
    assert_int_equal(aipm_file_write(kept, note, strlen(note), 0600, &err),
                     AIPM_OK);
    free(note);
    assert_int_equal(aipm_store_begin(st, &err), AIPM_OK);
    for (i = 0; i < 4; i++)
        assert_int_equal(
            aipm_audit_append(st, "test", "y", NULL, &size, head, &err),
            AIPM_OK);
    assert_int_equal(aipm_store_commit(st, &err), AIPM_OK);
    assert_int_equal(aipm_audit_verify_signed(st, NULL, kept, &k, &rep, &err),
                     AIPM_OK);
    assert_int_equal(rep.first_bad, 0);
    assert_int_equal(rep.size, 9);
    assert_int_equal(rep.kept_size, 5);
    assert_true(rep.kept_note);
    assert_int_equal(rep.kept_signature, AIPM_NOTE_SIGNED);
    /* Without a key: checked but for its signature. */
    assert_int_equal(aipm_audit_verify_signed(st, NULL, kept, NULL, &rep, &err),
                     AIPM_OK);
    assert_int_equal(rep.first_bad, 0);
    assert_int_equal(rep.kept_signature, AIPM_NOTE_UNCHECKED);
    /* Another key. */
    assert_int_equal(
        aipm_audit_verify_signed(st, NULL, kept, &f->other, &rep, &err),
        AIPM_OK);
    assert_int_equal(rep.first_bad, 1);
    assert_true(rep.kept_bad);
    assert_int_equal(rep.kept_signature, AIPM_NOTE_UNSIGNED);
    assert_non_null(strstr(rep.problem, "not signed by the key"));
    aipm_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sign_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_and_check, setup, teardown),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test_setup_teardown(test_verify_note, setup, teardown),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
