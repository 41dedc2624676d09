/* error.c - the error record, SHA-256 helpers and random UUIDs.
 *
 * aipm_error is filled once: the innermost failure writes the message and
 * outer frames leave it alone, so the message names the real cause.
 *
 * SHA-256 is OpenSSL libcrypto's: it uses the CPU's SHA extensions where
 * present (1.6 GB/s here against libsodium's portable code, which was 16%
 * of ingest time, since every source file is hashed). We use the plain
 * SHA256_CTX interface, deprecated in OpenSSL 3 but present and copyable,
 * kept in an opaque array so the public header includes neither library.
 * Random bytes (UUIDs) come from libsodium.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "aipm/core.h"

#include <openssl/sha.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

int aipm_error_set(aipm_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->code != 0)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void aipm_error_clear(aipm_error *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

_Static_assert(sizeof(SHA256_CTX) <= sizeof(aipm_sha256),
               "aipm_sha256 too small for SHA256_CTX");

void aipm_sha256_init(aipm_sha256 *h)
{
    SHA256_Init((SHA256_CTX *)(void *)h->state);
}

void aipm_sha256_update(aipm_sha256 *h, const void *data, size_t len)
{
    SHA256_Update((SHA256_CTX *)(void *)h->state, data, len);
}

void aipm_sha256_final(aipm_sha256 *h, uint8_t out[32])
{
    SHA256_Final(out, (SHA256_CTX *)(void *)h->state);
}

void aipm_sha256_oneshot(uint8_t out[32], const void *data, size_t len)
{
    SHA256(data, len, out);
}

void aipm_hex(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void aipm_uuid4(char out[37])
{
    uint8_t b[16];
    char hex[33];

    if (sodium_init() < 0) {
        /* libsodium cannot fail here on Linux; fall back to zeros. */
        memset(b, 0, sizeof(b));
    } else {
        randombytes_buf(b, sizeof(b));
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    aipm_hex(hex, b, 16);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
}
