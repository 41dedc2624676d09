/* tokens.c - the HTTP API's tokens: made, revoked and checked (govern.h).
 *
 * A token is "aipm_" and the base64url of 32 bytes from the system's
 * random source (libsodium's randombytes_buf): 256 bits, so guessing one
 * is hopeless and the store can keep a plain SHA-256 of it (a slow hash
 * protects guessable secrets, which these are not). The token itself is
 * never stored, logged or kept past the call that makes it; the row keeps
 * its digest and its first 9 characters, enough for a person to tell
 * tokens apart. A check looks the digest up and takes the user's role
 * from the people table at that moment, so a role change or a revocation
 * applies to the next request. Creation and revocation follow the rules
 * of people.c: unsigned during the bootstrap, else signed by an admin or
 * by the token's own user, each an audit entry in the row's transaction.
 */
#include "aipm/govern.h"

#include "aipm/audit.h"
#include "govern/govern_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "aipm_"
#define PREFIX_LEN 5
#define RANDOM_BYTES 32
#define NAME_MAX_LEN 100

/* 1 when s is "aipm_" and 43 base64url characters. */
static int token_form(const char *s)
{
    size_t i;

    if (s == NULL || strncmp(s, PREFIX, PREFIX_LEN) != 0)
        return 0;
    for (i = PREFIX_LEN; i < AIPM_TOKEN_LEN; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return s[AIPM_TOKEN_LEN] == '\0';
}

/* A token's name: non-empty printable text, no control characters. */
static int name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0, i;

    if (n == 0 || n > NAME_MAX_LEN)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static void digest_hex(char out[65], const char *token)
{
    uint8_t sha[32];

    aipm_sha256_oneshot(sha, token, strlen(token));
    aipm_hex(out, sha, sizeof(sha));
}

/* Who signs an act on user's token: nobody during the bootstrap (*signer
 * is by, perhaps NULL, as people.c records it); else the admin by, or the
 * user themself when by is NULL or names them. k gets the key. */
static int load_token_signer(aipm_store *st, const char *user,
                             const aipm_govern__person *p, const char *by,
                             int boot, aipm_key *k, const char **signer,
                             aipm_error *err)
{
    *signer = by;
    if (boot)
        return AIPM_OK;
    if (by != NULL && strcmp(by, user) != 0)
        return aipm_govern__load_admin(st, by, k, err);
    *signer = user;
    if (p->vkey[0] == '\0')
        return aipm_error_set(err, AIPM_EBLOCKED,
                              "tokens of %s must be signed: %s has no key "
                              "(aipm keys generate --as %s), or name an "
                              "admin with --by",
                              user, user, user);
    return aipm_govern__load_signer(k, user, p->vkey, err);
}

static char *canon(const json_t *j)
{
    return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

/* Sign msg (unless boot) and append it as action on token id, then
 * commit; the caller has begun the transaction and made its change. */
static int log_and_commit(aipm_store *st, int rc, const char *action,
                          int64_t id, json_t *m, int boot, const aipm_key *k,
                          const char *signer, const char *checkpoint,
                          aipm_error *err)
{
    char object[24], *msg = NULL;
    json_t *sigs = NULL;
    uint8_t head[32];
    int64_t seq = 0;

    snprintf(object, sizeof(object), "%lld", (long long)id);
    if (rc == AIPM_OK && (msg = canon(m)) == NULL)
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if (rc == AIPM_OK) {
        if (boot)
            rc = (sigs = json_array()) != NULL
                     ? AIPM_OK
                     : aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        else
            rc = aipm_govern__sign(k, signer, msg, &sigs, err);
    }
    if (rc == AIPM_OK)
        rc =
            aipm_govern__append(st, action, object, msg, sigs, &seq, head, err);
    rc = aipm_govern__finish(st, rc, checkpoint, seq, head, err);
    json_decref(sigs);
    free(msg);
    return rc;
}

int aipm_token_create(aipm_store *st, const char *user, const char *name,
                      const char *by, int64_t now_ms, const char *checkpoint,
                      char token_out[AIPM_TOKEN_LEN + 1], int64_t *id_out,
                      aipm_error *err)
{
    uint8_t raw[RANDOM_BYTES];
    char token[AIPM_TOKEN_LEN + 1], sha[65], hint[AIPM_TOKEN_HINT_LEN + 1];
    char when[32];
    const char *signer = NULL;
    aipm_govern__person p;
    aipm_token_row row;
    aipm_key k;
    json_t *m = NULL;
    int64_t id = 0;
    int boot, rc;

    memset(&k, 0, sizeof(k));
    token_out[0] = '\0';
    *id_out = 0;
    if (name == NULL)
        name = "default";
    if (!name_ok(name))
        return aipm_error_set(err, AIPM_EINVALID,
                              "bad token name: 1 to %d characters, no "
                              "control characters",
                              NAME_MAX_LEN);
    if ((rc = aipm_govern__person_get(st, user, &p, err)) != AIPM_OK ||
        (rc = aipm_govern__bootstrap(st, &boot, err)) != AIPM_OK)
        return rc;
    if (!p.found)
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "no user %s: add them with aipm users add", user);
    if ((rc = load_token_signer(st, user, &p, by, boot, &k, &signer, err)) !=
        AIPM_OK)
        goto done;

    memcpy(token, PREFIX, PREFIX_LEN);
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(token + PREFIX_LEN, sizeof(token) - PREFIX_LEN, raw,
                      sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    digest_hex(sha, token);
    snprintf(hint, sizeof(hint), "%.*s", AIPM_TOKEN_HINT_LEN, token);
    aipm_time_format(when, now_ms);

    memset(&row, 0, sizeof(row));
    row.user = user;
    row.name = name;
    row.token_sha256 = sha;
    row.hint = hint;
    row.created_ms = now_ms;
    row.created_by = signer;
    if ((rc = aipm_store_begin(st, err)) != AIPM_OK)
        goto done;
    rc = aipm_store_token_put(st, &row, &id, err);
    if (rc == AIPM_OK) {
        m = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "action",
                      "token.create", "hint", hint, "id", (json_int_t)id,
                      "name", name, "time", when, "token_sha256", sha, "user",
                      user);
        if (m)
            json_object_set_new(m, "by",
                                signer ? json_string(signer) : json_null());
    }
    rc = log_and_commit(st, rc, "token.create", id, m, boot, &k, signer,
                        checkpoint, err);
    if (rc == AIPM_OK) {
        memcpy(token_out, token, sizeof(token));
        *id_out = id;
    }
done:
    sodium_memzero(token, sizeof(token));
    sodium_memzero(&k, sizeof(k));
    json_decref(m);
    return rc;
}

typedef struct token_state {
    int64_t id;
    int found;
    int revoked;
    char user[128];
} token_state;

static int find_id(void *ctx, const aipm_token_row *r)
{
    token_state *t = ctx;

    if (r->id != t->id)
        return 0;
    t->found = 1;
    t->revoked = r->revoked_ms != 0;
    snprintf(t->user, sizeof(t->user), "%s", r->user);
    return 1; /* stop */
}

int aipm_token_revoke(aipm_store *st, int64_t id, const char *by,
                      const char *reason, int64_t now_ms,
                      const char *checkpoint, aipm_error *err)
{
    token_state t;
    const char *signer = NULL;
    aipm_govern__person p;
    char when[32];
    json_t *m = NULL;
    aipm_key k;
    int boot, rc;

    memset(&k, 0, sizeof(k));
    memset(&t, 0, sizeof(t));
    t.id = id;
    if (reason == NULL || *reason == '\0')
        return aipm_error_set(err, AIPM_EINVALID,
                              "a reason is required (--reason TEXT)");
    rc = aipm_store_token_list(st, NULL, find_id, &t, err);
    if (rc != AIPM_OK && rc != 1)
        return rc;
    if (!t.found)
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "no token %lld: aipm tokens list shows them",
                              (long long)id);
    if (t.revoked)
        return aipm_error_set(err, AIPM_EINVALID, "token %lld already revoked",
                              (long long)id);
    if ((rc = aipm_govern__person_get(st, t.user, &p, err)) != AIPM_OK ||
        (rc = aipm_govern__bootstrap(st, &boot, err)) != AIPM_OK ||
        (rc = load_token_signer(st, t.user, &p, by, boot, &k, &signer, err)) !=
            AIPM_OK)
        goto done;
    aipm_time_format(when, now_ms);
    m = json_pack("{s:s, s:I, s:s, s:s, s:s}", "action", "token.revoke", "id",
                  (json_int_t)id, "reason", reason, "time", when, "user",
                  t.user);
    if (m)
        json_object_set_new(m, "by",
                            signer ? json_string(signer) : json_null());
    if ((rc = aipm_store_begin(st, err)) != AIPM_OK)
        goto done;
    rc = aipm_store_token_revoke(st, id, now_ms, signer, reason, err);
    rc = log_and_commit(st, rc, "token.revoke", id, m, boot, &k, signer,
                        checkpoint, err);
done:
    sodium_memzero(&k, sizeof(k));
    json_decref(m);
    return rc;
}

typedef struct found_token {
    int found;
    int revoked;
    char user[128];
} found_token;

static int take_token(void *ctx, const aipm_token_row *r)
{
    found_token *f = ctx;

    f->found = 1;
    f->revoked = r->revoked_ms != 0;
    snprintf(f->user, sizeof(f->user), "%s", r->user);
    return 0;
}

int aipm_token_check(aipm_store *st, const char *token, char user_out[128],
                     int *role_out, aipm_error *err)
{
    aipm_govern__person p;
    found_token f;
    char sha[65];
    int rc;

    user_out[0] = '\0';
    *role_out = -1;
    if (!token_form(token))
        return aipm_error_set(err, AIPM_EBLOCKED,
                              "not an aipm token (aipm_ and 43 base64url "
                              "characters)");
    memset(&f, 0, sizeof(f));
    digest_hex(sha, token);
    if ((rc = aipm_store_token_find(st, sha, take_token, &f, err)) != AIPM_OK)
        return rc;
    if (!f.found || f.revoked)
        return aipm_error_set(err, AIPM_EBLOCKED, "unknown or revoked token");
    if ((rc = aipm_govern__person_get(st, f.user, &p, err)) != AIPM_OK)
        return rc;
    if (!p.found || p.role < 0)
        return aipm_error_set(err, AIPM_EBLOCKED,
                              "the token's user %s has no role", f.user);
    snprintf(user_out, 128, "%s", f.user);
    *role_out = p.role;
    return AIPM_OK;
}
