/* test_keys.c - unit tests of govern/keys: ed25519 keys in the C2SP
 * signed-note text forms.
 *
 * The reference is the example key pair and signature of the Go reference
 * implementation of signed notes (golang.org/x/mod/sumdb/note, its package
 * documentation and note_test.go): the signer key PeterNeumann, its
 * verifier key, and the signature line of the two-line text below. Ed25519
 * signatures are deterministic, so signing the same text must give the
 * same 64 bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <sys/stat.h>

#include "aipm/keys.h"
#include "testutil.h"

/* golang.org/x/mod/sumdb/note, package documentation */
static const char SKEY[] = "PRIVATE+KEY+PeterNeumann+c74f20a3+"
                           "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char VKEY[] = "PeterNeumann+c74f20a3+"
                           "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char TEXT[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
/* base64(key ID || signature) from the note's signature line */
static const char SIG[] = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuG"
                          "UgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_reference_vector(void **state)
{
    char dir[256], path[300], vk[AIPM_VKEY_MAX];
    uint8_t sig[64], blob[68], want[80];
    size_t wantlen = 0;
    aipm_key k, v;
    aipm_error err = {0};

    (void)state;
    assert_non_null(tu_mkdtemp(dir, sizeof(dir)));
    snprintf(path, sizeof(path), "%s/peter.key", dir);
    write_file(path, SKEY, 0600);
    assert_int_equal(aipm_key_load(&k, path, &err), AIPM_OK);
    assert_string_equal(k.name, "PeterNeumann");
    assert_int_equal(k.id, 0xc74f20a3u);
    aipm_key_verifier(&k, vk);
    assert_string_equal(vk, VKEY);

    assert_int_equal(aipm_key_sign(&k, TEXT, strlen(TEXT), sig, &err), AIPM_OK);
    blob[0] = 0xc7, blob[1] = 0x4f, blob[2] = 0x20, blob[3] = 0xa3;
    memcpy(blob + 4, sig, 64);
    assert_int_equal(sodium_base642bin(want, sizeof(want), SIG, strlen(SIG),
                                       NULL, &wantlen, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(wantlen, 68);
    assert_memory_equal(blob, want, 68);

    /* the verifier key alone checks it; one changed byte fails */
    assert_int_equal(aipm_key_parse_verifier(&v, VKEY, &err), AIPM_OK);
    assert_int_equal(v.has_secret, 0);
    assert_int_equal(aipm_key_check(&v, TEXT, strlen(TEXT), sig), 1);
    sig[10] ^= 1;
    assert_int_equal(aipm_key_check(&v, TEXT, strlen(TEXT), sig), 0);
    tu_rmtree(dir);
}

static void test_bad_verifiers(void **state)
{
    static const char *bad[] = {
        /* the key ID no longer matches the name */
        "PeterNeumanN+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        /* one bit of the key changed */
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",
        /* an algorithm other than ed25519 (0x02) */
        "PeterNeumann+c74f20a3+Alpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        /* a byte 0x80-0xff for '/': libsodium 1.0.18 decodes it as '/' */
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq\xa0LDE4izWy10TW",
        "",
    };
    aipm_key v;
    aipm_error err = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(aipm_key_parse_verifier(&v, bad[i], &err),
                         AIPM_EINVALID);
}

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

static void test_parse_signer(void **state)
{
    static const struct {
        const char *text;
        size_t len; /* 0: strlen */
    } bad[] = {
        /* the key ID no longer matches the name */
        {"PRIVATE+KEY+PeterNeumanN+c74f20a3+"
         "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
         0},
        /* a byte 0x80-0xff for '+' in the base64 */
        {"PRIVATE+KEY+PeterNeumann+c74f20a3+"
         "AYEKFALVFGyNhPJEMzD1QIDr\xabY7hfZx09iUvxdXHKDFz",
         0},
        /* two newlines; a NUL and more after the key */
        {"PRIVATE+KEY+PeterNeumann+c74f20a3+"
         "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n\n",
         0},
        {"PRIVATE+KEY+PeterNeumann+c74f20a3+"
         "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\0x",
         80}, /* the 78-byte key, a NUL, an x */
        /* no prefix: a verifier key is not a signer key */
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         0},
        {"private+key+PeterNeumann+c74f20a3+"
         "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
         0},
        {"PRIVATE+KEY+", 0},
        {"", 0},
    };
    char vk[AIPM_VKEY_MAX], line[128], big[400];
    aipm_key k;
    aipm_error err = {0};
    size_t i;

    (void)state;
    /* the reference signer key (Go), with and without its newline, makes
     * the reference verifier key */
    assert_int_equal(aipm_key_parse_signer(&k, SKEY, strlen(SKEY), &err),
                     AIPM_OK);
    assert_string_equal(k.name, "PeterNeumann");
    assert_int_equal(k.id, 0xc74f20a3u);
    assert_int_equal(k.has_secret, 1);
    aipm_key_verifier(&k, vk);
    assert_string_equal(vk, VKEY);
    snprintf(line, sizeof(line), "%s\n", SKEY);
    assert_int_equal(aipm_key_parse_signer(&k, line, strlen(line), &err),
                     AIPM_OK);
    aipm_key_verifier(&k, vk);
    assert_string_equal(vk, VKEY);
    /* a length shorter than the text parses only that much */
    assert_int_equal(aipm_key_parse_signer(&k, line, 20, &err), AIPM_EINVALID);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);

        aipm_error_clear(&err);
        memset(&k, 0xaa, sizeof(k));
        assert_int_equal(aipm_key_parse_signer(&k, bad[i].text, len, &err),
                         AIPM_EINVALID);
        assert_true(err.msg[0] != '\0');
        /* nothing of a refused key is left, secret or not */
        assert_true(all_zero(&k, sizeof(k)));
    }
    /* longer than any key */
    memset(big, 'A', sizeof(big));
    memcpy(big, "PRIVATE+KEY+", 12);
    assert_int_equal(aipm_key_parse_signer(&k, big, sizeof(big), &err),
                     AIPM_EINVALID);
}

/* aipm_key_load parses through aipm_key_parse_signer; its refusals name
 * the file. */
static void test_load_bad_file(void **state)
{
    char dir[256], path[400];
    aipm_key k;
    aipm_error err = {0};

    (void)state;
    assert_non_null(tu_mkdtemp(dir, sizeof(dir)));
    snprintf(path, sizeof(path), "%s/bad.key", dir);
    write_file(path, VKEY, 0600);
    assert_int_equal(aipm_key_load(&k, path, &err), AIPM_EINVALID);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "not an aipm secret key"));
    write_file(path,
               "PRIVATE+KEY+PeterNeumanN+c74f20a3+"
               "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n",
               0600);
    aipm_error_clear(&err);
    assert_int_equal(aipm_key_load(&k, path, &err), AIPM_EINVALID);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "key ID does not match"));
    tu_rmtree(dir);
}

static void test_generate_save_load(void **state)
{
    char dir[256], path[400], vk1[AIPM_VKEY_MAX], vk2[AIPM_VKEY_MAX];
    struct stat sb;
    aipm_key k, l, v;
    uint8_t sig[64];
    aipm_error err = {0};

    (void)state;
    assert_non_null(tu_mkdtemp(dir, sizeof(dir)));
    setenv("AIPM_KEYS", dir, 1);
    assert_int_equal(aipm_key_path(path, sizeof(path), "alice/ops", &err),
                     AIPM_OK);
    assert_true(strstr(path, "/alice_ops.key") != NULL);
    assert_int_equal(aipm_key_generate(&k, "alice/ops", &err), AIPM_OK);
    assert_int_equal(aipm_key_save(&k, path, 0, &err), AIPM_OK);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* never replaced by accident */
    assert_int_equal(aipm_key_save(&k, path, 0, &err), AIPM_EEXISTS);

    assert_int_equal(aipm_key_load(&l, path, &err), AIPM_OK);
    aipm_key_verifier(&k, vk1);
    aipm_key_verifier(&l, vk2);
    assert_string_equal(vk1, vk2);
    assert_int_equal(aipm_key_parse_verifier(&v, vk1, &err), AIPM_OK);
    assert_int_equal(aipm_key_sign(&l, "x", 1, sig, &err), AIPM_OK);
    assert_int_equal(aipm_key_check(&v, "x", 1, sig), 1);
    assert_int_equal(aipm_key_sign(&v, "x", 1, sig, &err), AIPM_EINVALID);

    /* a secret key others can read is refused */
    assert_int_equal(chmod(path, 0644), 0);
    aipm_error_clear(&err);
    assert_int_equal(aipm_key_load(&l, path, &err), AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "chmod 600"));
    /* bad names */
    assert_int_equal(aipm_key_generate(&k, "a b", &err), AIPM_EINVALID);
    assert_int_equal(aipm_key_generate(&k, "a+b", &err), AIPM_EINVALID);
    assert_int_equal(aipm_key_generate(&k, "", &err), AIPM_EINVALID);
    unsetenv("AIPM_KEYS");
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vector),
        cmocka_unit_test(test_bad_verifiers),
        cmocka_unit_test(test_parse_signer),
        cmocka_unit_test(test_load_bad_file),
        cmocka_unit_test(test_generate_save_load),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
