/* keys.h - ed25519 key pairs for approvals and signed checkpoints.
 *
 * Keys use the text forms of the C2SP signed-note specification
 * (https://c2sp.org/signed-note), so a checkpoint aipm signs can be checked
 * by any note verifier:
 *
 *   signer (secret) key   PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>
 *   verifier (public) key <name>+<id>+<base64(0x01 || public key)>
 *
 * where <id> is the key ID in 8 hex digits: the first 4 bytes of
 * SHA-256(<name> || 0x0A || 0x01 || public key), 0x01 naming ed25519.
 * The 32-byte seed is the secret; libsodium derives the pair from it.
 *
 * Secret keys live in files outside the store, mode 0600, in the key
 * folder: $AIPM_KEYS when set, else $XDG_CONFIG_HOME/aipm/keys, else
 * $HOME/.config/aipm/keys (made 0700). The store holds only verifier keys.
 */
#ifndef AIPM_KEYS_H
#define AIPM_KEYS_H

#include "aipm/core.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AIPM_KEY_NAME_MAX 128
/* Longest verifier key text, with its NUL. */
#define AIPM_VKEY_MAX (AIPM_KEY_NAME_MAX + 64)

typedef struct aipm_key {
    char name[AIPM_KEY_NAME_MAX + 1];
    uint32_t id;    /* the key ID, as a big-endian number */
    uint8_t pk[32]; /* ed25519 public key */
    uint8_t sk[64]; /* libsodium's secret key (seed || pk); zero for a
                     * verifier-only key */
    int has_secret;
} aipm_key;

/* Whether name may name a key: 1 to AIPM_KEY_NAME_MAX printable ASCII
 * bytes, no space and no '+' (the note format's separators). */
int aipm_key_name_valid(const char *name);

/* The key folder (see above) into out; AIPM_EINVALID when neither
 * $AIPM_KEYS nor $HOME is set or the path is too long. */
int aipm_key_dir(char *out, size_t outsz, aipm_error *err);

/* Make a new key pair named name (random seed). */
int aipm_key_generate(aipm_key *k, const char *name, aipm_error *err);

/* Write k's signer key to path, mode 0600, refusing to replace a file that
 * exists (AIPM_EEXISTS) unless overwrite. Makes the folder (0700) when
 * missing. */
int aipm_key_save(const aipm_key *k, const char *path, int overwrite,
                  aipm_error *err);

/* Read a signer key file. A file readable by group or others is refused
 * (AIPM_EINVALID, saying to chmod 600), as are links and non-files; the
 * text is then parsed as by aipm_key_parse_signer. */
int aipm_key_load(aipm_key *k, const char *path, aipm_error *err);

/* Parse a signer key text of len bytes (one trailing newline allowed, no
 * NUL) into k, with its secret. The key ID must match the name and the key
 * the seed makes. AIPM_EINVALID for any other text, and k is then zeroed;
 * the caller wipes its copy of text. */
int aipm_key_parse_signer(aipm_key *k, const char *text, size_t len,
                          aipm_error *err);

/* The path of name's secret key in the key folder: <dir>/<name>.key, with
 * every '/' in name written as '_'. */
int aipm_key_path(char *out, size_t outsz, const char *name, aipm_error *err);

/* k's verifier key text (NUL-terminated, < AIPM_VKEY_MAX bytes). */
void aipm_key_verifier(const aipm_key *k, char out[AIPM_VKEY_MAX]);

/* Parse a verifier key text (trailing newline allowed) into k (no
 * secret). The key ID must match the name and key. */
int aipm_key_parse_verifier(aipm_key *k, const char *text, aipm_error *err);

/* Sign msg with k (which must hold its secret). */
int aipm_key_sign(const aipm_key *k, const void *msg, size_t len,
                  uint8_t sig[64], aipm_error *err);

/* 1 when sig is k's valid signature of msg, else 0. */
int aipm_key_check(const aipm_key *k, const void *msg, size_t len,
                   const uint8_t sig[64]);

#ifdef __cplusplus
}
#endif
#endif
