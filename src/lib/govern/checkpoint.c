/* checkpoint.c - signed checkpoints: C2SP tlog-checkpoint notes.
 *
 * A checkpoint note (https://c2sp.org/tlog-checkpoint) is a signed note
 * (https://c2sp.org/signed-note) whose text is three lines: the log's
 * origin, its tree size in decimal and its RFC 6962 root in base64. A
 * blank line follows, then signature lines "— <key name> <base64(key ID ||
 * signature)>", the ed25519 signature being over the text with its final
 * newline. aipm writes one signature, by the workspace key named as the
 * origin (keys.h), so any note verifier given the verifier key checks it.
 *
 * The parser is strict, since the file comes from outside: it is read
 * whole (at most AIPM_NOTE_MAX bytes), and anything the formats do not
 * allow, or aipm never writes (extension lines), is refused with the
 * reason, never guessed at.
 */
#include "govern/govern_int.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The signature line's mark: U+2014 EM DASH and a space. */
#define DASH "\xe2\x80\x94 "

void aipm_audit__origin(char out[AIPM_ORIGIN_MAX], const uint8_t leaf1[32])
{
    char hex[65];

    aipm_hex(hex, leaf1, 32);
    snprintf(out, AIPM_ORIGIN_MAX, "aipm.local/log/%.16s", hex);
}

static int first_leaf(void *ctx, const aipm_audit_row *row)
{
    memcpy(ctx, row->leaf, 32);
    return 1; /* stop */
}

int aipm_audit_origin(aipm_store *st, char out[AIPM_ORIGIN_MAX],
                      aipm_error *err)
{
    uint8_t leaf[32];
    int rc = aipm_store_audit_list(st, first_leaf, leaf, err);

    if (rc == 0)
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "the audit log is empty: it has no origin yet");
    if (rc != 1)
        return rc;
    aipm_audit__origin(out, leaf);
    return AIPM_OK;
}

int aipm_checkpoint_sign(char **out, const char *origin, uint64_t size,
                         const uint8_t root[32], const aipm_key *k,
                         aipm_error *err)
{
    char root64[48], sig64[96], *note;
    uint8_t blob[68];
    size_t cap;
    int text_len, n, rc;

    *out = NULL;
    if (!aipm_key_name_valid(origin))
        return aipm_error_set(err, AIPM_EINVALID, "bad origin '%s'", origin);
    sodium_bin2base64(root64, sizeof(root64), root, 32,
                      sodium_base64_VARIANT_ORIGINAL);
    cap = strlen(origin) + strlen(k->name) + 200;
    if ((note = malloc(cap)) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    text_len = snprintf(note, cap, "%s\n%llu\n%s\n", origin,
                        (unsigned long long)size, root64);
    blob[0] = (uint8_t)(k->id >> 24);
    blob[1] = (uint8_t)(k->id >> 16);
    blob[2] = (uint8_t)(k->id >> 8);
    blob[3] = (uint8_t)k->id;
    if ((rc = aipm_key_sign(k, note, (size_t)text_len, blob + 4, err)) != 0) {
        free(note);
        return rc;
    }
    sodium_bin2base64(sig64, sizeof(sig64), blob, sizeof(blob),
                      sodium_base64_VARIANT_ORIGINAL);
    n = snprintf(note + text_len, cap - (size_t)text_len, "\n" DASH "%s %s\n",
                 k->name, sig64);
    if (n < 0 || (size_t)n >= cap - (size_t)text_len) {
        free(note);
        return aipm_error_set(err, AIPM_ERROR, "checkpoint note too long");
    }
    *out = note;
    return AIPM_OK;
}

static int bad_note(aipm_error *err, const char *why)
{
    return aipm_error_set(err, AIPM_EINVALID, "not a checkpoint note: %s", why);
}

/* Base64 (standard, padded) of exactly want bytes into out, and only in
 * its canonical spelling (re-encoding gives the same text), so one note
 * has one text. 0, or -1. */
static int unbase64(uint8_t *out, size_t cap, size_t *got, const char *s,
                    size_t len)
{
    char *again;
    size_t n = 0;
    int ok;

    if (sodium_base642bin(out, cap, s, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    again =
        malloc(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL));
    if (again == NULL)
        return -1;
    sodium_bin2base64(
        again, sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL),
        out, n, sodium_base64_VARIANT_ORIGINAL);
    ok = strlen(again) == len && memcmp(again, s, len) == 0;
    free(again);
    *got = n;
    return ok ? 0 : -1;
}

/* One signature line (without its newline) into sig. */
static int parse_sig(aipm_note_sig *sig, const char *line, size_t len,
                     aipm_error *err)
{
    const char *name, *space;
    uint8_t *blob;
    size_t blob_len = 0, name_len;

    memset(sig, 0, sizeof(*sig));
    if (len < 4 || memcmp(line, DASH, 4) != 0)
        return bad_note(err, "a line after the blank line is not a signature "
                             "(\"— name signature\")");
    name = line + 4;
    space = memchr(name, ' ', len - 4);
    if (space == NULL)
        return bad_note(err, "a signature line has no signature after the "
                             "key name");
    name_len = (size_t)(space - name);
    if (name_len == 0 || name_len > AIPM_KEY_NAME_MAX)
        return bad_note(err, "a signature line's key name is empty or too "
                             "long");
    memcpy(sig->name, name, name_len);
    sig->name[name_len] = '\0';
    if (!aipm_key_name_valid(sig->name))
        return bad_note(err, "a signature line's key name holds a '+' or a "
                             "byte that is not printable ASCII");
    len -= (size_t)(space + 1 - line);
    if (len == 0)
        return bad_note(err, "a signature is not base64 of a key ID and a "
                             "signature");
    if ((blob = malloc(len)) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if (unbase64(blob, len, &blob_len, space + 1, len) != 0 || blob_len < 5) {
        free(blob);
        return bad_note(err, "a signature is not base64 of a key ID and a "
                             "signature");
    }
    sig->id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
              (uint32_t)blob[2] << 8 | blob[3];
    if (blob_len == 68) {
        memcpy(sig->sig, blob + 4, 64);
        sig->ed25519 = 1;
    }
    free(blob);
    return AIPM_OK;
}

/* The size line: decimal, no sign, no leading zero (but "0"). */
static int parse_size(uint64_t *out, const char *s, size_t len)
{
    char buf[24], *end;
    unsigned long long v;

    if (len == 0 || len > 20 || strspn(s, "0123456789") < len ||
        (s[0] == '0' && len > 1))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtoull(buf, &end, 10);
    if (errno || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

int aipm_checkpoint_parse(aipm_checkpoint *cp, const char *note, size_t len,
                          aipm_error *err)
{
    const char *p, *end = note + len, *blank = NULL, *line[3];
    size_t line_len[3], i, n_lines = 0, root_len = 0;
    int rc;

    memset(cp, 0, sizeof(*cp));
    if (len > AIPM_NOTE_MAX)
        return bad_note(err, "larger than 64 KiB");
    if (!aipm_utf8_valid(note, len))
        return bad_note(err, "not UTF-8 text");
    for (i = 0; i < len; i++)
        if ((unsigned char)note[i] < 0x20 && note[i] != '\n')
            return bad_note(err, "a control character other than newline");
    if (len == 0 || note[len - 1] != '\n')
        return bad_note(err, "it does not end with a newline");
    /* The text ends at the last blank line (signed-note). */
    for (p = note; p + 1 < end; p++)
        if (p[0] == '\n' && p[1] == '\n')
            blank = p;
    if (blank == NULL)
        return bad_note(err, "no blank line between the text and the "
                             "signatures");
    cp->text_len = (size_t)(blank + 1 - note);
    if (cp->text_len >= sizeof(cp->text))
        return bad_note(err, "its text is too long for a checkpoint");
    memcpy(cp->text, note, cp->text_len);
    cp->text[cp->text_len] = '\0';
    /* The text: exactly origin, size and root, none empty. */
    for (p = note; p < blank + 1; n_lines++) {
        const char *nl = memchr(p, '\n', (size_t)(blank + 1 - p));

        if (n_lines == 3)
            return bad_note(err, "more than three text lines (extension "
                                 "lines are not used by aipm)");
        if (nl == p)
            return bad_note(err, "an empty line in the text");
        line[n_lines] = p;
        line_len[n_lines] = (size_t)(nl - p);
        p = nl + 1;
    }
    if (n_lines < 3)
        return bad_note(err, "fewer than three text lines (origin, tree "
                             "size, root hash)");
    if (line_len[0] > AIPM_KEY_NAME_MAX)
        return bad_note(err, "the origin line is too long");
    memcpy(cp->origin, line[0], line_len[0]);
    cp->origin[line_len[0]] = '\0';
    if (!aipm_key_name_valid(cp->origin))
        return bad_note(err, "the origin holds a space, a '+' or a byte that "
                             "is not printable ASCII");
    if (parse_size(&cp->size, line[1], line_len[1]) != 0)
        return bad_note(err, "the tree size is not a decimal number without "
                             "leading zeros");
    {
        uint8_t root[48];

        if (unbase64(root, sizeof(root), &root_len, line[2], line_len[2]) !=
                0 ||
            root_len != 32)
            return bad_note(err, "the root hash is not base64 of 32 bytes");
        memcpy(cp->root, root, 32);
    }
    /* The signature lines. */
    for (p = blank + 2; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        if (cp->n_sigs == AIPM_NOTE_SIGS_MAX)
            return bad_note(err, "more than 16 signature lines");
        if ((rc = parse_sig(&cp->sigs[cp->n_sigs], p, (size_t)(nl - p), err)) !=
            0)
            return rc;
        cp->n_sigs++;
        p = nl + 1;
    }
    if (cp->n_sigs == 0)
        return bad_note(err, "no signature lines");
    return AIPM_OK;
}

int aipm_checkpoint_signed_by(const aipm_checkpoint *cp, const aipm_key *k)
{
    int verdict = AIPM_NOTE_UNSIGNED;
    size_t i;

    for (i = 0; i < cp->n_sigs; i++) {
        const aipm_note_sig *s = &cp->sigs[i];

        if (s->id != k->id || strcmp(s->name, k->name) != 0)
            continue; /* another key's: ignored (signed-note) */
        if (!s->ed25519 || !aipm_key_check(k, cp->text, cp->text_len, s->sig))
            return AIPM_NOTE_BAD;
        verdict = AIPM_NOTE_SIGNED;
    }
    return verdict;
}
