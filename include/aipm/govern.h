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

/* What aipm_govern_verify found. */
typedef struct aipm_govern_check {
    int64_t users;      /* user entries read */
    int64_t keys;       /* key entries read */
    int64_t acts;       /* approve, reject and override entries read */
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
