/* keys_fuzzer.c - libFuzzer target for the two key text parsers:
 * aipm_key_parse_verifier (verifier keys kept in the store and given on
 * the command line) and aipm_key_parse_signer (the secret key files
 * aipm_key_load reads).
 *
 * The input is split at its first NUL byte, or failing one just after its
 * first newline (which stays with the verifier text, as a line read from
 * a file would): the first part, NUL-terminated, is the verifier text; the
 * rest, by its length, is the signer text. A refusal must be AIPM_EINVALID
 * with a message, and a refused signer key must leave k zeroed (no half
 * of a secret). An accepted key must keep the parsers' promises: a valid
 * name; the key ID equal to the first 4 bytes of SHA-256(name || 0x0A ||
 * 0x01 || public key), recomputed here with libsodium rather than the
 * library's own SHA-256; the text printed back the same (so one key has
 * one text) and parsed back to the same key. A verifier key holds no
 * secret; a signer key's public and secret halves are the pair its seed
 * makes, it signs a message (the input) that its derived verifier key
 * checks, and the same signature with one bit flipped fails. Anything
 * else aborts.
 *
 * Linked with replay_main.c into replay_keys_fuzzer, which ctest runs
 * over tests/fuzz/corpus/keys_fuzzer/.
 */
#include "aipm/keys.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key ID by the signed-note specification, on libsodium's SHA-256. */
static uint32_t reference_id(const char *name, const uint8_t pk[32])
{
    crypto_hash_sha256_state h;
    uint8_t d[32], tail[2] = {0x0a, 0x01};

    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const uint8_t *)name, strlen(name));
    crypto_hash_sha256_update(&h, tail, 2);
    crypto_hash_sha256_update(&h, pk, 32);
    crypto_hash_sha256_final(&h, d);
    return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 |
           d[3];
}

static int same_public(const aipm_key *a, const aipm_key *b)
{
    return strcmp(a->name, b->name) == 0 && a->id == b->id &&
           memcmp(a->pk, b->pk, 32) == 0;
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t i;

    for (i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

/* The promises every accepted key keeps; text (len bytes, without its
 * trailing newline) is what was parsed, after prefix. */
static void check_key(const aipm_key *k, const char *prefix, const char *text,
                      size_t len)
{
    char vk[AIPM_VKEY_MAX], b64[48], again[AIPM_KEY_NAME_MAX + 96];
    uint8_t raw[33];
    aipm_key v;
    aipm_error err = {0, ""};
    int n;

    if (!aipm_key_name_valid(k->name) || reference_id(k->name, k->pk) != k->id)
        abort();
    raw[0] = 0x01;
    memcpy(raw + 1, k->has_secret ? k->sk : k->pk, 32);
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
                      sodium_base64_VARIANT_ORIGINAL);
    n = snprintf(again, sizeof(again), "%s%s+%08x+%s", prefix, k->name,
                 (unsigned)k->id, b64);
    if (n < 0 || (size_t)n != len || memcmp(again, text, len) != 0)
        abort();
    /* the verifier key prints and parses back to the same public key */
    aipm_key_verifier(k, vk);
    if (strlen(vk) >= AIPM_VKEY_MAX ||
        (!k->has_secret && (strlen(vk) != len || memcmp(vk, text, len) != 0)))
        abort();
    if (aipm_key_parse_verifier(&v, vk, &err) != AIPM_OK ||
        !same_public(&v, k) || v.has_secret || !all_zero(v.sk, sizeof(v.sk)))
        abort();
}

static void fuzz_verifier(const char *text)
{
    aipm_key k;
    aipm_error err = {0, ""};
    size_t len = strlen(text);
    int rc = aipm_key_parse_verifier(&k, text, &err);

    if (rc != AIPM_OK) {
        if (rc != AIPM_EINVALID || err.msg[0] == '\0')
            abort();
        return;
    }
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (k.has_secret || !all_zero(k.sk, sizeof(k.sk)))
        abort();
    check_key(&k, "", text, len);
}

static void fuzz_signer(const char *text, size_t len, const uint8_t *msg,
                        size_t msg_len)
{
    aipm_key k, v;
    aipm_error err = {0, ""};
    char vk[AIPM_VKEY_MAX];
    uint8_t pk[32], sk[64], sig[64];
    int rc = aipm_key_parse_signer(&k, text, len, &err);

    if (rc != AIPM_OK) {
        if (rc != AIPM_EINVALID || err.msg[0] == '\0' ||
            !all_zero(&k, sizeof(k)))
            abort();
        return;
    }
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (!k.has_secret)
        abort();
    /* the pair is the one the seed (the first half of sk) makes */
    if (crypto_sign_seed_keypair(pk, sk, k.sk) != 0 ||
        memcmp(pk, k.pk, 32) != 0 || memcmp(sk, k.sk, 64) != 0)
        abort();
    check_key(&k, "PRIVATE+KEY+", text, len);
    /* it signs; its verifier key alone checks the signature */
    aipm_key_verifier(&k, vk);
    if (aipm_key_parse_verifier(&v, vk, &err) != AIPM_OK ||
        aipm_key_sign(&k, msg, msg_len, sig, &err) != AIPM_OK ||
        aipm_key_check(&v, msg, msg_len, sig) != 1)
        abort();
    sig[msg_len % 64] ^= (uint8_t)(1u << (msg_len % 8));
    if (aipm_key_check(&v, msg, msg_len, sig) != 0)
        abort();
    sodium_memzero(&k, sizeof(k));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *cut = memchr(data, '\0', size);
    size_t vlen, skip;
    char *verifier, *signer;

    if (cut != NULL) {
        vlen = (size_t)(cut - data);
        skip = 1;
    } else if ((cut = memchr(data, '\n', size)) != NULL) {
        vlen = (size_t)(cut - data) + 1;
        skip = 0;
    } else {
        vlen = size;
        skip = 0;
    }
    /* Exact-size copies, so ASan sees any read past either text. */
    if ((verifier = malloc(vlen + 1)) == NULL)
        return 0;
    memcpy(verifier, data, vlen);
    verifier[vlen] = '\0';
    fuzz_verifier(verifier);
    free(verifier);

    if ((signer = malloc(size - vlen - skip + 1)) == NULL)
        return 0;
    memcpy(signer, data + vlen + skip, size - vlen - skip);
    fuzz_signer(signer, size - vlen - skip, data, size);
    free(signer);
    return 0;
}
