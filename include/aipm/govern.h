/* govern.h - people, roles, keys and their signed acts on decisions.
 *
 * Every act is an audit entry whose detail holds the exact message signed
 * (canonical JSON: keys sorted, no whitespace) and the signatures, each
 * base64(key ID || ed25519 signature) as in a C2SP signed note:
 *
 *   user     {"action":"user","by":B,"name":N,"role":R,"time":T}
 *            signed by B, an admin with a registered key
 *   key      {"action":"key","by":B,"time":T,"user":N,"verifier":V}
 *            signed by the new key (proof of possession) and by B, an
 *            admin with a registered key (N itself when N is an admin)
 *   decision.approve, decision.reject, decision.override
 *            {"action":A,"decision":ID,"output_sha256":D,"reason":W,
 *             "time":T,"user":U[,"value":X]}
 *            signed by U, who must hold the approver or admin role
 *
 * Until the first admin has a registered key (a new workspace) the user
 * and key entries cannot be signed by an admin: they are the bootstrap,
 * and only an admin may be given the first key. From then on every change
 * of people or keys is signed by an admin, so someone who can write to the
 * store but holds no admin's secret key cannot add an approver, replace a
 * key or forge an approval without verify saying so.
 */
#ifndef AIPM_GOVERN_H
#define AIPM_GOVERN_H

#include "aipm/core.h"
#include "aipm/decision.h"
#include "aipm/keys.h"
#include "aipm/store.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    AIPM_ROLE_VIEWER = 0,   /* reads */
    AIPM_ROLE_ANALYST = 1,  /* runs analyses, makes decision records */
    AIPM_ROLE_APPROVER = 2, /* approves, rejects, overrides */
    AIPM_ROLE_ADMIN = 3     /* all of that, and manages people and keys */
};

/* The role named s, or -1. */
int aipm_role_parse(const char *s);
const char *aipm_role_name(int role);

/* Add user name with role, or change its role. by is the admin who signs,
 * with their secret key in the key folder; NULL only during the bootstrap
 * (no admin has a key yet). AIPM_EBLOCKED when by is not an admin. */
int aipm_user_set(aipm_store *st, const char *name, const char *role,
                  const char *by, int64_t now_ms, const char *checkpoint,
                  aipm_error *err);

/* Register k (which holds its secret) as name's key, replacing any older
 * one. Signed by k and by the admin by (may be name; NULL only during the
 * bootstrap, for an admin). */
int aipm_user_key_set(aipm_store *st, const char *name, const aipm_key *k,
                      const char *by, int64_t now_ms, const char *checkpoint,
                      aipm_error *err);

/* A person's act on a proposed decision record. */
typedef struct aipm_act {
    const char *id;      /* the record's whole id */
    const char *action;  /* approve, reject or override */
    const char *user;    /* who; signs with their key from the key folder */
    const char *reason;  /* why, required */
    const json_t *value; /* override: the replacement (any JSON) */
    const aipm_config *config; /* its policies.decisions (NULL: defaults) */
} aipm_act;

/* What the act did. */
typedef struct aipm_act_result {
    char status[16]; /* the record's status now */
    int approvals;   /* approvals it has (approve) */
    int needed;      /* approvals its rule needs */
    char rule[64];   /* the rule that applied, e.g. "decisions[prioritize]" */
} aipm_act_result;

/* Record the act, signed and logged. An approval counts once per person;
 * the record becomes approved when its rule's number of approvals is
 * reached (until then it stays proposed). A rejection or an override
 * (the original output stays on record) decides it at once. AIPM_EBLOCKED,
 * naming the rule, when the user's role may not act, the user already
 * approved, or the record is no longer proposed; AIPM_ENOTFOUND for an
 * unknown record or user. */
int aipm_decision_act(aipm_store *st, const aipm_act *act, int64_t now_ms,
                      const char *checkpoint, aipm_act_result *res,
                      aipm_error *err);

/* ---- API tokens (the HTTP API's bearer tokens) ----
 *
 * A token is "aipm_" and 43 characters of base64url (RFC 4648 section 5,
 * no padding) of 32 random bytes. The store keeps only its SHA-256 (hex)
 * and a hint, its first 9 characters; the token is shown once. Its
 * creation and revocation are signed audit entries, token.create
 * {"action","by","hint","id","name","time","token_sha256","user"} and
 * token.revoke {"action","by","id","reason","time","user"} (the
 * detail's "message", canonical JSON, with its "signatures"). Both are
 * signed by the admin by, or, when by is NULL or the token's user, by the
 * user with their own key; nobody signs during the bootstrap (no admin
 * has a key yet), as for people. */
#define AIPM_TOKEN_LEN 48
#define AIPM_TOKEN_HINT_LEN 9

/* Make a token for user, named name (NULL: "default"), into token_out;
 * *id_out gets its id. AIPM_ENOTFOUND for an unknown user, AIPM_EINVALID
 * for a bad name, AIPM_EBLOCKED (naming what is missing) when nobody can
 * sign it. */
int aipm_token_create(aipm_store *st, const char *user, const char *name,
                      const char *by, int64_t now_ms, const char *checkpoint,
                      char token_out[AIPM_TOKEN_LEN + 1], int64_t *id_out,
                      aipm_error *err);

/* Revoke token id for reason (required), signed as aipm_token_create
 * signs. AIPM_ENOTFOUND for no such token, AIPM_EINVALID when it is
 * already revoked or the reason is empty, AIPM_EBLOCKED when nobody can
 * sign it. */
int aipm_token_revoke(aipm_store *st, int64_t id, const char *by,
                      const char *reason, int64_t now_ms,
                      const char *checkpoint, aipm_error *err);

/* Whose token is token, and their role now (the people table's, so a role
 * change applies to tokens already made): user_out and *role_out.
 * AIPM_EBLOCKED when it is not of the token form (no store lookup), or is
 * unknown or revoked, or its user has no role any more. */
int aipm_token_check(aipm_store *st, const char *token, char user_out[128],
                     int *role_out, aipm_error *err);

/* What aipm_govern_verify found. */
typedef struct aipm_govern_check {
    int64_t users;      /* user entries read */
    int64_t keys;       /* key entries read */
    int64_t acts;       /* approve, reject and override entries read */
    int64_t tokens;     /* token.create and token.revoke entries read */
    int64_t signatures; /* signatures checked and valid */
    int64_t bootstrap;  /* entries accepted unsigned (before the first
                         * admin key) */
    int64_t bad;        /* problems (each reported) */
} aipm_govern_check;

/* Replay the people, keys and acts of the audit log in order and check
 * every signature against the key the log had registered for its signer
 * at that point, every act against the signer's role then, the users and
 * approvals tables against the log, and each decision's status against the
 * acts on it. fn (may be NULL) gets each problem with the entry's seq or
 * the record's id. Returns AIPM_OK when the check ran. */
int aipm_govern_verify(aipm_store *st, aipm_govern_check *out,
                       aipm_decision_problem_fn fn, void *ctx, aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
