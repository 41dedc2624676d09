/* keys.c - ed25519 key pairs in the C2SP signed-note text forms. */
#include "aipm/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ALG_ED25519 0x01

int aipm_key_name_valid(const char *name)
{
    size_t n = 0;

    if (name == NULL)
        return 0;
    for (; name[n]; n++) {
        unsigned char c = (unsigned char)name[n];

        if (c <= 0x20 || c >= 0x7f || c == '+')
            return 0;
    }
    return n >= 1 && n <= AIPM_KEY_NAME_MAX;
}

/* The key ID: the first 4 bytes of SHA-256(name || '\n' || 0x01 || pk). */
static uint32_t key_id(const char *name, const uint8_t pk[32])
{
    aipm_sha256 h;
    uint8_t d[32], tail[2] = {'\n', ALG_ED25519};

    aipm_sha256_init(&h);
    aipm_sha256_update(&h, name, strlen(name));
    aipm_sha256_update(&h, tail, 2);
    aipm_sha256_update(&h, pk, 32);
    aipm_sha256_final(&h, d);
    return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 |
           d[3];
}

int aipm_key_dir(char *out, size_t outsz, aipm_error *err)
{
    const char *e;
    int n;

    if ((e = getenv("AIPM_KEYS")) && *e)
        n = snprintf(out, outsz, "%s", e);
    else if ((e = getenv("XDG_CONFIG_HOME")) && *e)
        n = snprintf(out, outsz, "%s/aipm/keys", e);
    else if ((e = getenv("HOME")) && *e)
        n = snprintf(out, outsz, "%s/.config/aipm/keys", e);
    else
        return aipm_error_set(err, AIPM_EINVALID,
                              "no key folder: set AIPM_KEYS or HOME");
    if (n < 0 || (size_t)n >= outsz)
        return aipm_error_set(err, AIPM_EINVALID, "key folder path too long");
    return AIPM_OK;
}

int aipm_key_path(char *out, size_t outsz, const char *name, aipm_error *err)
{
    char dir[4096];
    size_t i, n;
    int rc;

    if (!aipm_key_name_valid(name))
        return aipm_error_set(err, AIPM_EINVALID, "bad key name '%s'",
                              name ? name : "");
    if ((rc = aipm_key_dir(dir, sizeof(dir), err)) != AIPM_OK)
        return rc;
    n = strlen(dir);
    if (n + 1 + strlen(name) + 5 > outsz)
        return aipm_error_set(err, AIPM_EINVALID, "key path too long");
    snprintf(out, outsz, "%s/%s.key", dir, name);
    for (i = n + 1; out[i]; i++)
        if (out[i] == '/')
            out[i] = '_';
    return AIPM_OK;
}

static int from_seed(aipm_key *k, const char *name, const uint8_t seed[32])
{
    memset(k, 0, sizeof(*k));
    snprintf(k->name, sizeof(k->name), "%s", name);
    if (crypto_sign_seed_keypair(k->pk, k->sk, seed) != 0)
        return -1;
    k->id = key_id(name, k->pk);
    k->has_secret = 1;
    return 0;
}

int aipm_key_generate(aipm_key *k, const char *name, aipm_error *err)
{
    uint8_t seed[32];
    int bad;

    if (!aipm_key_name_valid(name))
        return aipm_error_set(err, AIPM_EINVALID,
                              "bad key name '%s': printable ASCII, no spaces "
                              "or '+', at most %d bytes",
                              name ? name : "", AIPM_KEY_NAME_MAX);
    if (sodium_init() < 0)
        return aipm_error_set(err, AIPM_ERROR, "libsodium failed to start");
    randombytes_buf(seed, sizeof(seed));
    bad = from_seed(k, name, seed);
    sodium_memzero(seed, sizeof(seed));
    if (bad)
        return aipm_error_set(err, AIPM_ERROR, "ed25519 key generation failed");
    return AIPM_OK;
}

/* base64(0x01 || 32 bytes) into out (at least 49 bytes). */
static void b64_key(char *out, size_t outsz, const uint8_t key[32])
{
    uint8_t raw[33];

    raw[0] = ALG_ED25519;
    memcpy(raw + 1, key, 32);
    sodium_bin2base64(out, outsz, raw, sizeof(raw),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(raw, sizeof(raw));
}

void aipm_key_verifier(const aipm_key *k, char out[AIPM_VKEY_MAX])
{
    char b64[48];

    b64_key(b64, sizeof(b64), k->pk);
    snprintf(out, AIPM_VKEY_MAX, "%s+%08x+%s", k->name, (unsigned)k->id, b64);
}

/* Make the folder of path (one level) when missing, 0700. */
static int make_dir_of(const char *path, aipm_error *err)
{
    char dir[4200];
    const char *slash = strrchr(path, '/');
    char *p;

    if (slash == NULL || slash == path)
        return AIPM_OK;
    if ((size_t)(slash - path) >= sizeof(dir))
        return aipm_error_set(err, AIPM_EINVALID, "key path too long");
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    /* mkdir -p, each new level 0700 */
    for (p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return aipm_error_set(err, AIPM_EIO, "cannot make %s: %s", dir,
                                  strerror(errno));
        *p = '/';
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return aipm_error_set(err, AIPM_EIO, "cannot make %s: %s", dir,
                              strerror(errno));
    return AIPM_OK;
}

int aipm_key_save(const aipm_key *k, const char *path, int overwrite,
                  aipm_error *err)
{
    char text[AIPM_KEY_NAME_MAX + 96], b64[48];
    struct stat sb;
    int rc, n;

    if (!k->has_secret)
        return aipm_error_set(err, AIPM_EINVALID, "key '%s' has no secret",
                              k->name);
    if (!overwrite && lstat(path, &sb) == 0)
        return aipm_error_set(err, AIPM_EEXISTS,
                              "%s exists; not replacing a secret key", path);
    if ((rc = make_dir_of(path, err)) != AIPM_OK)
        return rc;
    b64_key(b64, sizeof(b64), k->sk); /* the seed: sk's first 32 bytes */
    n = snprintf(text, sizeof(text), "PRIVATE+KEY+%s+%08x+%s\n", k->name,
                 (unsigned)k->id, b64);
    sodium_memzero(b64, sizeof(b64));
    rc = aipm_file_write(path, text, (size_t)n, 0600, err);
    sodium_memzero(text, sizeof(text));
    return rc;
}

/* Split "<name>+<hex8>+<base64>" (text ends at its first newline) into
 * name, id and the 32 key bytes after the algorithm byte. The base64 must
 * be the canonical spelling (encoding the bytes again gives the same
 * text), so one key has one text: libsodium 1.0.18's decoder alone takes
 * any byte from 0x80 up as '/' (found by tests/fuzz/keys_fuzzer.c). */
static int parse_key_text(const char *text, char name[AIPM_KEY_NAME_MAX + 1],
                          uint32_t *id, uint8_t key[32])
{
    const char *end = text + strcspn(text, "\n");
    const char *p1, *p2;
    uint8_t raw[40];
    size_t rawlen = 0;
    char hex[9], *hend, again[48];
    int ok;

    if (*end == '\n' && end[1] != '\0')
        return -1;
    /* a name holds no '+': the first two separate name, id and key */
    p1 = memchr(text, '+', (size_t)(end - text));
    p2 = p1 ? memchr(p1 + 1, '+', (size_t)(end - p1 - 1)) : NULL;
    if (p1 == NULL || p1 == text || p2 == NULL || p2 - p1 != 9)
        return -1;
    if ((size_t)(p1 - text) > AIPM_KEY_NAME_MAX)
        return -1;
    memcpy(name, text, (size_t)(p1 - text));
    name[p1 - text] = '\0';
    memcpy(hex, p1 + 1, 8);
    hex[8] = '\0';
    if (strspn(hex, "0123456789abcdef") != 8)
        return -1;
    *id = (uint32_t)strtoul(hex, &hend, 16);
    ok = sodium_base642bin(raw, sizeof(raw), p2 + 1, (size_t)(end - p2 - 1),
                           NULL, &rawlen, NULL,
                           sodium_base64_VARIANT_ORIGINAL) == 0;
    if (ok && rawlen == 33) {
        sodium_bin2base64(again, sizeof(again), raw, rawlen,
                          sodium_base64_VARIANT_ORIGINAL);
        ok = strlen(again) == (size_t)(end - p2 - 1) &&
             memcmp(again, p2 + 1, (size_t)(end - p2 - 1)) == 0;
        sodium_memzero(again, sizeof(again));
    }
    if (!ok || rawlen != 33 || raw[0] != ALG_ED25519 ||
        !aipm_key_name_valid(name)) {
        sodium_memzero(raw, sizeof(raw));
        return -1;
    }
    memcpy(key, raw + 1, 32);
    sodium_memzero(raw, sizeof(raw));
    return 0;
}

int aipm_key_parse_verifier(aipm_key *k, const char *text, aipm_error *err)
{
    char name[AIPM_KEY_NAME_MAX + 1];
    uint32_t id;

    memset(k, 0, sizeof(*k));
    if (parse_key_text(text, name, &id, k->pk) != 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "not a verifier key (name+id+base64 of an "
                              "ed25519 key)");
    if (key_id(name, k->pk) != id)
        return aipm_error_set(err, AIPM_EINVALID,
                              "verifier key '%s': its key ID does not match "
                              "its name and key",
                              name);
    snprintf(k->name, sizeof(k->name), "%s", name);
    k->id = id;
    return AIPM_OK;
}

/* The signer key text, as aipm_key_parse_signer; source names the text in
 * messages (a file's path), or is NULL. */
static int parse_signer(aipm_key *k, const char *text, size_t len,
                        const char *source, aipm_error *err)
{
    /* "PRIVATE+KEY+", a name, "+", 8 hex digits, "+", 44 base64 bytes and
     * a newline fit with room to spare; a longer text is not a key. */
    char buf[AIPM_KEY_NAME_MAX + 96], name[AIPM_KEY_NAME_MAX + 1];
    uint8_t seed[32];
    uint32_t id;
    int bad;

    memset(k, 0, sizeof(*k));
    bad = len >= sizeof(buf) || memchr(text, '\0', len) != NULL;
    if (!bad) {
        memcpy(buf, text, len);
        buf[len] = '\0';
        bad = strncmp(buf, "PRIVATE+KEY+", 12) != 0 ||
              parse_key_text(buf + 12, name, &id, seed) != 0;
        sodium_memzero(buf, sizeof(buf));
    }
    if (bad)
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s is not an aipm secret key "
                              "(PRIVATE+KEY+name+id+base64 of an ed25519 seed)",
                              source ? source : "the text");
    if (sodium_init() < 0 || from_seed(k, name, seed) != 0) {
        sodium_memzero(seed, sizeof(seed));
        sodium_memzero(k, sizeof(*k));
        return aipm_error_set(err, AIPM_ERROR, "ed25519 key load failed");
    }
    sodium_memzero(seed, sizeof(seed));
    if (k->id != id) {
        sodium_memzero(k, sizeof(*k));
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s: the key ID does not match the key",
                              source ? source : "secret key");
    }
    return AIPM_OK;
}

int aipm_key_parse_signer(aipm_key *k, const char *text, size_t len,
                          aipm_error *err)
{
    return parse_signer(k, text, len, NULL, err);
}

int aipm_key_load(aipm_key *k, const char *path, aipm_error *err)
{
    char *text = NULL;
    struct stat sb;
    size_t len;
    int rc;

    memset(k, 0, sizeof(*k));
    if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 077) != 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s can be read by others: run chmod 600 %s",
                              path, path);
    if ((rc = aipm_file_read(&text, &len, path, 4096, err)) != AIPM_OK)
        return rc;
    rc = parse_signer(k, text, len, path, err);
    sodium_memzero(text, len);
    free(text);
    return rc;
}

int aipm_key_sign(const aipm_key *k, const void *msg, size_t len,
                  uint8_t sig[64], aipm_error *err)
{
    if (!k->has_secret)
        return aipm_error_set(err, AIPM_EINVALID,
                              "key '%s' has no secret to sign with", k->name);
    if (sodium_init() < 0 ||
        crypto_sign_detached(sig, NULL, msg, len, k->sk) != 0)
        return aipm_error_set(err, AIPM_ERROR, "signing failed");
    return AIPM_OK;
}

int aipm_key_check(const aipm_key *k, const void *msg, size_t len,
                   const uint8_t sig[64])
{
    if (sodium_init() < 0)
        return 0;
    return crypto_sign_verify_detached(sig, msg, len, k->pk) == 0;
}
