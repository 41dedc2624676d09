/* checkpoint_fuzzer.c - libFuzzer target for aipm_checkpoint_parse, the
 * reader of C2SP tlog-checkpoint notes (the kept checkpoint someone hands
 * `audit verify`).
 *
 * The input is the note's bytes. A refusal must be AIPM_EINVALID with a
 * "not a checkpoint note: ..." message (or AIPM_ENOMEM). An accepted note
 * must keep the parser's promises: the text is the note's first text_len
 * bytes, followed by the blank line, and is exactly "<origin>\n<size>\n
 * <base64 root>\n" printed back from the parsed fields (so the origin is
 * a valid key name, the size a decimal uint64 without leading zeros, the
 * root base64 of 32 bytes, one note one text); 1 to AIPM_NOTE_SIGS_MAX
 * signature lines follow, each "— <name> <base64>" whose name, key ID and,
 * for the 68-byte ones, signature are what was parsed. The verdict of
 * aipm_checkpoint_signed_by for a fixed key (ed25519 from the seed 0, 1,
 * ..., 31, named aipm.local/log/0123456789abcdef, signing the seed notes)
 * must equal the one computed here on libsodium (C2SP signed-note: lines
 * of another name or ID ignored, one of the key's that fails rejects),
 * and must not change for the verifier-only half of that key. Signing the
 * parsed tree head again with that key must give a note that parses to
 * the same text and is signed by it. Anything else aborts.
 *
 * Linked with replay_main.c into replay_checkpoint_fuzzer, which ctest
 * runs over tests/fuzz/corpus/checkpoint_fuzzer/.
 */
#include "aipm/audit.h"
#include "aipm/keys.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DASH "\xe2\x80\x94 "
#define KEY_NAME "aipm.local/log/0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static aipm_key signer, verifier;

/* The fixed key, made on libsodium without the key parsers. */
static void make_keys(void)
{
    crypto_hash_sha256_state h;
    uint8_t seed[32], d[32], tail[2] = {0x0a, 0x01};
    char vk[AIPM_VKEY_MAX];
    aipm_error err = {0, ""};
    int i;

    if (sodium_init() < 0)
        abort();
    for (i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    memset(&signer, 0, sizeof(signer));
    snprintf(signer.name, sizeof(signer.name), "%s", KEY_NAME);
    if (crypto_sign_seed_keypair(signer.pk, signer.sk, seed) != 0)
        abort();
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const uint8_t *)KEY_NAME, strlen(KEY_NAME));
    crypto_hash_sha256_update(&h, tail, 2);
    crypto_hash_sha256_update(&h, signer.pk, 32);
    crypto_hash_sha256_final(&h, d);
    signer.id = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
                (uint32_t)d[2] << 8 | d[3];
    signer.has_secret = 1;
    aipm_key_verifier(&signer, vk);
    if (aipm_key_parse_verifier(&verifier, vk, &err) != AIPM_OK)
        abort();
}

/* The signed-note verdict for k, computed independently of the library. */
static int reference_verdict(const aipm_checkpoint *cp, const aipm_key *k)
{
    int verdict = AIPM_NOTE_UNSIGNED;
    size_t i;

    for (i = 0; i < cp->n_sigs; i++) {
        const aipm_note_sig *s = &cp->sigs[i];

        if (s->id != k->id || strcmp(s->name, k->name) != 0)
            continue;
        if (!s->ed25519 ||
            crypto_sign_verify_detached(s->sig, (const uint8_t *)cp->text,
                                        cp->text_len, k->pk) != 0)
            return AIPM_NOTE_BAD;
        verdict = AIPM_NOTE_SIGNED;
    }
    return verdict;
}

/* The signature lines after the blank line are the parsed ones. */
static void check_sig_lines(const aipm_checkpoint *cp, const char *p,
                            const char *end)
{
    static uint8_t blob[AIPM_NOTE_MAX];
    size_t i, name_len, blob_len;

    for (i = 0; p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const aipm_note_sig *s = &cp->sigs[i];

        if (i == cp->n_sigs || nl == NULL)
            abort();
        name_len = strlen(s->name);
        if (!aipm_key_name_valid(s->name) ||
            (size_t)(nl - p) < 4 + name_len + 1 || memcmp(p, DASH, 4) != 0 ||
            memcmp(p + 4, s->name, name_len) != 0 || p[4 + name_len] != ' ')
            abort();
        p += 4 + name_len + 1;
        if (sodium_base642bin(blob, sizeof(blob), p, (size_t)(nl - p), NULL,
                              &blob_len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            blob_len < 5)
            abort();
        if (s->id != ((uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
                      (uint32_t)blob[2] << 8 | blob[3]) ||
            s->ed25519 != (blob_len == 68) ||
            (s->ed25519 && memcmp(s->sig, blob + 4, 64) != 0))
            abort();
        p = nl + 1;
    }
    if (i != cp->n_sigs)
        abort();
}

static void check(const aipm_checkpoint *cp, const char *note, size_t len)
{
    char root64[48], text[AIPM_KEY_NAME_MAX + 96], *again = NULL;
    aipm_checkpoint cp2;
    aipm_error err = {0, ""};
    int n, verdict;

    if (cp->n_sigs < 1 || cp->n_sigs > AIPM_NOTE_SIGS_MAX ||
        !aipm_key_name_valid(cp->origin) || cp->text_len >= sizeof(cp->text) ||
        cp->text_len + 1 >= len || cp->text[cp->text_len] != '\0' ||
        memcmp(cp->text, note, cp->text_len) != 0 || note[cp->text_len] != '\n')
        abort();
    sodium_bin2base64(root64, sizeof(root64), cp->root, 32,
                      sodium_base64_VARIANT_ORIGINAL);
    n = snprintf(text, sizeof(text), "%s\n%llu\n%s\n", cp->origin,
                 (unsigned long long)cp->size, root64);
    if (n < 0 || (size_t)n != cp->text_len || strcmp(text, cp->text) != 0)
        abort();
    check_sig_lines(cp, note + cp->text_len + 1, note + len);

    verdict = aipm_checkpoint_signed_by(cp, &signer);
    if (verdict != reference_verdict(cp, &signer) ||
        aipm_checkpoint_signed_by(cp, &verifier) != verdict)
        abort();

    /* the same tree head, signed again, reads back the same */
    if (aipm_checkpoint_sign(&again, cp->origin, cp->size, cp->root, &signer,
                             &err) != AIPM_OK ||
        aipm_checkpoint_parse(&cp2, again, strlen(again), &err) != AIPM_OK ||
        cp2.text_len != cp->text_len || strcmp(cp2.text, cp->text) != 0 ||
        cp2.n_sigs != 1 ||
        aipm_checkpoint_signed_by(&cp2, &verifier) != AIPM_NOTE_SIGNED)
        abort();
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    aipm_checkpoint cp;
    aipm_error err = {0, ""};
    int rc;

    if (!ready) {
        make_keys();
        ready = 1;
    }
    rc = aipm_checkpoint_parse(&cp, (const char *)data, size, &err);
    if (rc != AIPM_OK) {
        if (rc != AIPM_ENOMEM &&
            (rc != AIPM_EINVALID ||
             strncmp(err.msg, "not a checkpoint note: ", 23) != 0))
            abort();
        return 0;
    }
    check(&cp, (const char *)data, size);
    return 0;
}
