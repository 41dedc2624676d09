/* people.c - users, roles, keys and signed acts on decisions (govern.h).
 *
 * The audit log is the record; the people and approvals tables are indexes
 * of it for quick reads. Writers sign with secret keys from the key folder
 * and check them against the verifier keys the store holds; verify trusts
 * only the log, replaying it from the first entry.
 */
#include "aipm/govern.h"

#include "aipm/audit.h"
#include "govern/govern_int.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {"viewer", "analyst", "approver",
                                         "admin"};

int aipm_role_parse(const char *s)
{
    int i;

    for (i = 0; s && i < 4; i++)
        if (strcmp(s, role_names[i]) == 0)
            return i;
    return -1;
}

const char *aipm_role_name(int role)
{
    return role >= 0 && role < 4 ? role_names[role] : "unknown";
}

/* base64(4-byte key ID || 64-byte signature) is 92 characters. */
#define SIG_B64 96

static char *canon(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

static int sign_b64(const aipm_key *k, const char *msg, char out[SIG_B64],
                    aipm_error *err)
{
    uint8_t blob[68];
    int rc;

    blob[0] = (uint8_t)(k->id >> 24), blob[1] = (uint8_t)(k->id >> 16);
    blob[2] = (uint8_t)(k->id >> 8), blob[3] = (uint8_t)k->id;
    if ((rc = aipm_key_sign(k, msg, strlen(msg), blob + 4, err)) != AIPM_OK)
        return rc;
    sodium_bin2base64(out, SIG_B64, blob, sizeof(blob),
                      sodium_base64_VARIANT_ORIGINAL);
    return AIPM_OK;
}

/* 1 when b64 is v's signature of msg (key ID and signature), else 0. */
static int sig_ok(const aipm_key *v, const char *msg, const char *b64)
{
    uint8_t blob[80];
    char again[SIG_B64];
    size_t n = 0;
    uint32_t id;

    if (b64 == NULL ||
        sodium_base642bin(blob, sizeof(blob), b64, strlen(b64), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != 68)
        return 0;
    /* One spelling only: libsodium 1.0.18 reads bytes >= 0x80 as '/', so
     * a signature must encode back to exactly the text stored. */
    sodium_bin2base64(again, sizeof(again), blob, n,
                      sodium_base64_VARIANT_ORIGINAL);
    if (strcmp(again, b64) != 0)
        return 0;
    id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
         (uint32_t)blob[2] << 8 | blob[3];
    return id == v->id && aipm_key_check(v, msg, strlen(msg), blob + 4);
}

/* ---- the people table, read for the writers' checks ---- */

typedef aipm_govern__person person;

static int get_one(void *ctx, const aipm_user_row *r)
{
    person *p = ctx;

    p->found = 1;
    p->role = aipm_role_parse(r->role);
    snprintf(p->vkey, sizeof(p->vkey), "%s",
             r->verifier_key ? r->verifier_key : "");
    return 0;
}

static int get_person(aipm_store *st, const char *name, person *p,
                      aipm_error *err)
{
    memset(p, 0, sizeof(*p));
    p->role = -1;
    return aipm_store_user_list(st, name, get_one, p, err);
}

static int find_admin_key(void *ctx, const aipm_user_row *r)
{
    if (aipm_role_parse(r->role) == AIPM_ROLE_ADMIN && r->verifier_key &&
        *r->verifier_key)
        *(int *)ctx = 1;
    return 0;
}

/* Whether the workspace is still in its bootstrap: no admin has a key. */
static int bootstrap(aipm_store *st, int *out, aipm_error *err)
{
    *out = 0;
    {
        int rc = aipm_store_user_list(st, NULL, find_admin_key, out, err);

        *out = !*out;
        return rc;
    }
}

/* Load name's secret key from the key folder and check it is the one the
 * store has registered for name (vkey). */
static int load_signer(aipm_key *k, const char *name, const char *vkey,
                       aipm_error *err)
{
    char path[4200], mine[AIPM_VKEY_MAX];
    int rc;

    if (vkey == NULL || *vkey == '\0')
        return aipm_error_set(err, AIPM_EBLOCKED,
                              "%s has no key: run aipm keys generate --as %s",
                              name, name);
    if ((rc = aipm_key_path(path, sizeof(path), name, err)) != AIPM_OK)
        return rc;
    if ((rc = aipm_key_load(k, path, err)) != AIPM_OK)
        return rc == AIPM_ENOTFOUND
                   ? aipm_error_set(err, AIPM_EBLOCKED,
                                    "%s's secret key is not in this key "
                                    "folder (%s)",
                                    name, path)
                   : rc;
    aipm_key_verifier(k, mine);
    if (strcmp(mine, vkey) != 0) {
        sodium_memzero(k, sizeof(*k));
        return aipm_error_set(err, AIPM_EBLOCKED,
                              "the key in %s is not the one registered for %s",
                              path, name);
    }
    return AIPM_OK;
}

/* The admin who signs a change of people or keys, with their key. */
static int load_admin(aipm_store *st, const char *by, aipm_key *k,
                      aipm_error *err)
{
    person p;
    int rc;

    if (by == NULL)
        return aipm_error_set(err, AIPM_EBLOCKED,
                              "an admin must sign this: name one with --by");
    if ((rc = get_person(st, by, &p, err)) != AIPM_OK)
        return rc;
    if (!p.found)
        return aipm_error_set(err, AIPM_ENOTFOUND, "no user %s", by);
    if (p.role != AIPM_ROLE_ADMIN)
        return aipm_error_set(err, AIPM_EBLOCKED,
                              "%s is %s %s; changing people and keys needs "
                              "the admin role",
                              by, p.role == AIPM_ROLE_VIEWER ? "a" : "an",
                              aipm_role_name(p.role));
    return load_signer(k, by, p.vkey, err);
}

/* Append the entry {"message": msg, "signatures": sigs[, "possession":
 * pos]} for action on object; *seq gets its position. */
static int append_signed(aipm_store *st, const char *action, const char *object,
                         const char *msg, json_t *sigs, const char *pos,
                         int64_t *seq, uint8_t head[32], aipm_error *err)
{
    json_t *d = json_pack("{s:s, s:O}", "message", msg, "signatures", sigs);
    char *text;
    uint64_t size = 0;
    int rc;

    if (d && pos)
        json_object_set_new(d, "possession", json_string(pos));
    if (d == NULL || (text = canon(d)) == NULL) {
        json_decref(d);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    json_decref(d);
    rc = aipm_audit_append(st, action, object, text, &size, head, err);
    free(text);
    *seq = (int64_t)size;
    return rc;
}

/* Sign msg with k as signer into *out, a new one-element signatures
 * array. */
static int signed_by(const aipm_key *k, const char *signer, const char *msg,
                     json_t **out, aipm_error *err)
{
    char sig[SIG_B64];
    int rc;

    *out = NULL;
    if ((rc = sign_b64(k, msg, sig, err)) != AIPM_OK)
        return rc;
    *out = json_pack("[{s:s, s:s}]", "signer", signer, "sig", sig);
    return *out ? AIPM_OK : aipm_error_set(err, AIPM_ENOMEM, "out of memory");
}

/* The admin's signatures of a change of people or keys into *out: none
 * during the bootstrap. */
static int admin_sigs(int boot, const aipm_key *admin, const char *by,
                      const char *msg, json_t **out, aipm_error *err)
{
    if (!boot)
        return signed_by(admin, by, msg, out, err);
    *out = json_array();
    return *out ? AIPM_OK : aipm_error_set(err, AIPM_ENOMEM, "out of memory");
}

/* Store row and its signed entry (action on row->name) in one transaction
 * (defined below). */
static int finish(aipm_store *st, int rc, const char *checkpoint, int64_t seq,
                  const uint8_t head[32], aipm_error *err);

static int write_person(aipm_store *st, const aipm_user_row *row,
                        const char *action, const char *msg, json_t *sigs,
                        const char *pos, const char *checkpoint,
                        aipm_error *err)
{
    uint8_t head[32];
    int64_t seq = 0;
    int rc;

    if ((rc = aipm_store_begin(st, err)) != AIPM_OK)
        return rc;
    rc = aipm_store_user_put(st, row, err);
    if (rc == AIPM_OK)
        rc = append_signed(st, action, row->name, msg, sigs, pos, &seq, head,
                           err);
    return finish(st, rc, checkpoint, seq, head, err);
}

/* Commit the open transaction with its last entry's head, or roll back. */
static int finish(aipm_store *st, int rc, const char *checkpoint, int64_t seq,
                  const uint8_t head[32], aipm_error *err)
{
    if (rc == AIPM_OK)
        rc = aipm_audit_commit(st, checkpoint, (uint64_t)seq, head, err);
    if (rc != AIPM_OK)
        aipm_store_rollback(st);
    return rc;
}

/* ---- what tokens.c shares (govern_int.h) ---- */

int aipm_govern__person_get(aipm_store *st, const char *name,
                            aipm_govern__person *p, aipm_error *err)
{
    return get_person(st, name, p, err);
}

int aipm_govern__bootstrap(aipm_store *st, int *out, aipm_error *err)
{
    return bootstrap(st, out, err);
}

int aipm_govern__load_signer(aipm_key *k, const char *name, const char *vkey,
                             aipm_error *err)
{
    return load_signer(k, name, vkey, err);
}

int aipm_govern__load_admin(aipm_store *st, const char *by, aipm_key *k,
                            aipm_error *err)
{
    return load_admin(st, by, k, err);
}

int aipm_govern__sign(const aipm_key *k, const char *signer, const char *msg,
                      json_t **out, aipm_error *err)
{
    return signed_by(k, signer, msg, out, err);
}

int aipm_govern__append(aipm_store *st, const char *action, const char *object,
                        const char *msg, json_t *sigs, int64_t *seq,
                        uint8_t head[32], aipm_error *err)
{
    return append_signed(st, action, object, msg, sigs, NULL, seq, head, err);
}

int aipm_govern__finish(aipm_store *st, int rc, const char *checkpoint,
                        int64_t seq, const uint8_t head[32], aipm_error *err)
{
    return finish(st, rc, checkpoint, seq, head, err);
}

/* Canonicalize m, sign it (with self too, its possession signature, when
 * not NULL; by the admin unless boot), and store row with its entry. */
static int sign_person(aipm_store *st, json_t *m, const aipm_user_row *row,
                       const char *action, const aipm_key *self, int boot,
                       const aipm_key *admin, const char *by,
                       const char *checkpoint, aipm_error *err)
{
    char *msg, pos[SIG_B64];
    json_t *sigs = NULL;
    int rc;

    if (m == NULL || (msg = canon(m)) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    if ((self == NULL || (rc = sign_b64(self, msg, pos, err)) == AIPM_OK) &&
        (rc = admin_sigs(boot, admin, by, msg, &sigs, err)) == AIPM_OK)
        rc = write_person(st, row, action, msg, sigs, self ? pos : NULL,
                          checkpoint, err);
    json_decref(sigs);
    free(msg);
    return rc;
}

int aipm_user_set(aipm_store *st, const char *name, const char *role,
                  const char *by, int64_t now_ms, const char *checkpoint,
                  aipm_error *err)
{
    char when[32];
    json_t *m;
    aipm_key admin;
    aipm_user_row row;
    person old;
    int boot, rc;

    memset(&admin, 0, sizeof(admin));
    if (!aipm_key_name_valid(name))
        return aipm_error_set(err, AIPM_EINVALID,
                              "bad user name '%s': printable ASCII, no spaces "
                              "or '+'",
                              name ? name : "");
    if (aipm_role_parse(role) < 0)
        return aipm_error_set(err, AIPM_EINVALID,
                              "unknown role '%s': viewer, analyst, approver "
                              "or admin",
                              role ? role : "");
    if ((rc = bootstrap(st, &boot, err)) != AIPM_OK ||
        (rc = get_person(st, name, &old, err)) != AIPM_OK)
        return rc;
    if (!boot && (rc = load_admin(st, by, &admin, err)) != AIPM_OK)
        return rc;
    aipm_time_format(when, now_ms);
    m = json_pack("{s:s, s:s, s:s, s:s}", "action", "user", "name", name,
                  "role", role, "time", when);
    if (m)
        json_object_set_new(m, "by", by ? json_string(by) : json_null());
    row.name = name;
    row.role = role;
    row.verifier_key = old.found && *old.vkey ? old.vkey : NULL;
    row.time_ms = now_ms;
    rc = sign_person(st, m, &row, "user", NULL, boot, &admin, by, checkpoint,
                     err);
    sodium_memzero(&admin, sizeof(admin));
    json_decref(m);
    return rc;
}

int aipm_user_key_set(aipm_store *st, const char *name, const aipm_key *k,
                      const char *by, int64_t now_ms, const char *checkpoint,
                      aipm_error *err)
{
    char when[32], vkey[AIPM_VKEY_MAX];
    json_t *m;
    aipm_key admin;
    aipm_user_row row;
    person p;
    int boot, rc;

    memset(&admin, 0, sizeof(admin));
    if ((rc = get_person(st, name, &p, err)) != AIPM_OK ||
        (rc = bootstrap(st, &boot, err)) != AIPM_OK)
        return rc;
    if (!p.found)
        return aipm_error_set(err, AIPM_ENOTFOUND,
                              "no user %s: add them with aipm users add", name);
    if (strcmp(k->name, name) != 0)
        return aipm_error_set(err, AIPM_EINVALID, "the key is named %s, not %s",
                              k->name, name);
    if (boot && p.role != AIPM_ROLE_ADMIN)
        return aipm_error_set(err, AIPM_EBLOCKED,
                              "no admin has a key yet: the first key goes to "
                              "an admin (%s is %s %s)",
                              name, p.role == AIPM_ROLE_VIEWER ? "a" : "an",
                              aipm_role_name(p.role));
    if (!boot && (rc = load_admin(st, by, &admin, err)) != AIPM_OK)
        return rc;
    aipm_key_verifier(k, vkey);
    aipm_time_format(when, now_ms);
    m = json_pack("{s:s, s:s, s:s, s:s}", "action", "key", "user", name, "time",
                  when, "verifier", vkey);
    if (m)
        json_object_set_new(m, "by",
                            by && !boot ? json_string(by) : json_null());
    row.name = name;
    row.role = aipm_role_name(p.role);
    row.verifier_key = vkey;
    row.time_ms = now_ms;
    rc = sign_person(st, m, &row, "key", k, boot, &admin, by, checkpoint, err);
    sodium_memzero(&admin, sizeof(admin));
    json_decref(m);
    return rc;
}

/* ---- acts on decisions ---- */

typedef struct drec {
    int found;
    char status[16];
    char sha[65];
    char kind[32];
} drec;

static int get_decision(void *ctx, const aipm_decision_row *r)
{
    drec *d = ctx;

    d->found = 1;
    snprintf(d->status, sizeof(d->status), "%s", r->status);
    snprintf(d->sha, sizeof(d->sha), "%s", r->output_sha256);
    snprintf(d->kind, sizeof(d->kind), "%s", r->kind);
    return 0;
}

static const char *status_after(const char *action)
{
    if (strcmp(action, "approve") == 0)
        return "approved";
    if (strcmp(action, "reject") == 0)
        return "rejected";
    if (strcmp(action, "override") == 0)
        return "overridden";
    return NULL;
}

typedef struct approvers {
    const char *user;
    int n, again; /* approvals so far; user is among them */
} approvers;

static int count_approval(void *ctx, const aipm_approval_row *r)
{
    approvers *a = ctx;

    if (strcmp(r->action, "approve") == 0) {
        a->n++;
        a->again |= strcmp(r->user, a->user) == 0;
    }
    return 0;
}

/* The act's checks against its rule; the approvals it would have. */
static int act_allowed(aipm_store *st, const aipm_act *act, const person *p,
                       const aipm_decision_policy *rule, aipm_act_result *res,
                       aipm_error *err)
{
    approvers ap = {act->user, 0, 0};
    int rc;

    if (p->role < AIPM_ROLE_APPROVER ||
        (rule->admin_only && p->role < AIPM_ROLE_ADMIN))
        return aipm_error_set(err, AIPM_EBLOCKED,
                              "policy %s: only %s may %s this decision; %s is "
                              "%s %s",
                              res->rule,
                              rule->admin_only ? "admins"
                                               : "approvers and "
                                                 "admins",
                              act->action, act->user,
                              p->role == AIPM_ROLE_VIEWER ? "a" : "an",
                              aipm_role_name(p->role));
    if (strcmp(act->action, "approve") != 0)
        return AIPM_OK;
    if ((rc = aipm_store_approval_list(st, act->id, count_approval, &ap,
                                       err)) != AIPM_OK)
        return rc;
    if (ap.again)
        return aipm_error_set(err, AIPM_EBLOCKED,
                              "policy %s: %s already approved it; it needs "
                              "%d approvals from different people",
                              res->rule, act->user, rule->approvals);
    res->approvals = ap.n + 1;
    return AIPM_OK;
}

int aipm_decision_act(aipm_store *st, const aipm_act *act, int64_t now_ms,
                      const char *checkpoint, aipm_act_result *res,
                      aipm_error *err)
{
    aipm_decision_filter f = {act->id, NULL, NULL, 0};
    const char *action = act->action, *user = act->user, *id = act->id;
    const char *status = action ? status_after(action) : NULL;
    const aipm_decision_policy *rule;
    aipm_config *defaults = NULL;
    const aipm_config *cfg = act->config;
    char when[32], policy_sha[65], *msg = NULL, *value_s = NULL;
    json_t *m = NULL, *sigs = NULL;
    aipm_approval_row a;
    aipm_key k;
    person p;
    drec d;
    uint8_t head[32];
    int64_t seq = 0;
    int rc, idx;

    memset(&k, 0, sizeof(k));
    memset(&d, 0, sizeof(d));
    memset(res, 0, sizeof(*res));
    if (status == NULL)
        return aipm_error_set(err, AIPM_EINVALID,
                              "unknown act '%s': approve, reject or override",
                              action ? action : "");
    if (act->reason == NULL || *act->reason == '\0')
        return aipm_error_set(err, AIPM_EINVALID,
                              "a reason is required (--reason TEXT)");
    if (strcmp(action, "override") == 0 && act->value == NULL)
        return aipm_error_set(err, AIPM_EINVALID,
                              "an override needs the value that replaces the "
                              "recommendation (--value JSON)");
    if ((rc = aipm_store_decision_list(st, &f, get_decision, &d, err)) != 0 ||
        (rc = get_person(st, user, &p, err)) != AIPM_OK)
        return rc;
    if (!d.found)
        return aipm_error_set(err, AIPM_ENOTFOUND, "no decision %s", id);
    if (strcmp(d.status, "proposed") != 0)
        return aipm_error_set(err, AIPM_EBLOCKED,
                              "decision %s is %s, no longer proposed", id,
                              d.status);
    if (!p.found)
        return aipm_error_set(err, AIPM_ENOTFOUND, "no user %s", user);
    if (cfg == NULL) {
        if ((rc = aipm_config_new_default(&defaults, err)) != AIPM_OK)
            return rc;
        cfg = defaults;
    }
    rule = aipm_config_decision_rule(cfg, d.kind, &idx);
    aipm_config_policy_sha256(cfg, policy_sha);
    if (idx >= 0)
        snprintf(res->rule, sizeof(res->rule), "decisions[%s]", rule->kind);
    else
        snprintf(res->rule, sizeof(res->rule), "default (1 approval)");
    res->needed = rule->approvals;
    if ((rc = act_allowed(st, act, &p, rule, res, err)) != AIPM_OK ||
        (rc = load_signer(&k, user, p.vkey, err)) != AIPM_OK)
        goto done;
    if (strcmp(action, "approve") == 0 && res->approvals < rule->approvals)
        status = "proposed"; /* more approvals to come */
    aipm_time_format(when, now_ms);
    m = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "action", action,
        "decision", id, "output_sha256", d.sha, "reason", act->reason, "time",
        when, "user", user, "approvals_needed", rule->approvals, "role",
        rule->admin_only ? "admin" : "approver", "policy_sha256", policy_sha);
    if (m && act->value) {
        json_object_set(m, "value", (json_t *)act->value);
        value_s = canon(act->value);
    }
    if (m == NULL || (msg = canon(m)) == NULL || (act->value && !value_s)) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = signed_by(&k, user, msg, &sigs, err)) != AIPM_OK)
        goto done;
    if ((rc = aipm_store_begin(st, err)) != AIPM_OK)
        goto done;
    {
        char entry_action[32];

        snprintf(entry_action, sizeof(entry_action), "decision.%s", action);
        rc = append_signed(st, entry_action, id, msg, sigs, NULL, &seq, head,
                           err);
    }
    if (rc == AIPM_OK) {
        a.seq = seq;
        a.decision_id = id;
        a.action = action;
        a.user = user;
        a.time_ms = now_ms;
        a.reason = act->reason;
        a.value = value_s;
        a.message = msg;
        a.signature =
            json_string_value(json_object_get(json_array_get(sigs, 0), "sig"));
        rc = aipm_store_approval_put(st, &a, err);
    }
    if (rc == AIPM_OK && strcmp(status, "proposed") != 0)
        rc = aipm_store_decision_set_status(st, id, status, err);
    rc = finish(st, rc, checkpoint, seq, head, err);
    if (rc == AIPM_OK)
        snprintf(res->status, sizeof(res->status), "%s", status);
done:
    sodium_memzero(&k, sizeof(k));
    aipm_config_free(defaults);
    json_decref(m);
    json_decref(sigs);
    free(msg);
    free(value_s);
    return rc;
}

/* ---- verify: replay the log ---- */

typedef struct gctx {
    aipm_govern_check *out;
    aipm_decision_problem_fn fn;
    void *ctx;
    json_t *people;    /* name -> {"role": n, "key": vkey} */
    json_t *digests;   /* decision id -> output digest its entry logged */
    json_t *statuses;  /* decision id -> status the acts give it */
    json_t *acts;      /* "<seq>" -> message + "\n" + signature */
    json_t *approvers; /* decision id -> [users who approved it] */
    json_t *tokens;    /* token id -> {"row": what the store must hold} */
} gctx;

static void gproblem(gctx *g, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void gproblem(gctx *g, const char *what, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    g->out->bad++;
    if (g->fn)
        g->fn(g->ctx, what, msg);
}

static int any_admin_key(gctx *g)
{
    const char *name;
    json_t *v;

    json_object_foreach(g->people, name, v)
    {
        if (json_integer_value(json_object_get(v, "role")) == AIPM_ROLE_ADMIN &&
            json_object_get(v, "key"))
            return 1;
    }
    return 0;
}

/* The verifier key the log has registered for name, into k; 0 if none. */
static int logged_key(gctx *g, const char *name, aipm_key *k)
{
    const char *text = json_string_value(
        json_object_get(json_object_get(g->people, name), "key"));
    aipm_error e = {0};

    return text && aipm_key_parse_verifier(k, text, &e) == AIPM_OK;
}

static int logged_role(gctx *g, const char *name)
{
    json_t *p = json_object_get(g->people, name);

    return p ? (int)json_integer_value(json_object_get(p, "role")) : -1;
}

/* Whether sigs holds a valid signature of msg by signer, an admin with a
 * logged key when admin is set. */
static int signed_ok(gctx *g, json_t *sigs, const char *signer, const char *msg,
                     int admin)
{
    aipm_key k;
    size_t i;
    json_t *s;

    if (signer == NULL || !logged_key(g, signer, &k))
        return 0;
    if (admin && logged_role(g, signer) != AIPM_ROLE_ADMIN)
        return 0;
    json_array_foreach(sigs, i, s)
    {
        const char *who = json_string_value(json_object_get(s, "signer"));

        if (who && strcmp(who, signer) == 0 &&
            sig_ok(&k, msg, json_string_value(json_object_get(s, "sig")))) {
            g->out->signatures++;
            return 1;
        }
    }
    return 0;
}

static void on_user(gctx *g, const char *seq, const char *object,
                    const char *msg, json_t *m, json_t *sigs)
{
    const char *name = json_string_value(json_object_get(m, "name"));
    const char *by = json_string_value(json_object_get(m, "by"));
    int role = aipm_role_parse(json_string_value(json_object_get(m, "role")));
    json_t *p;

    g->out->users++;
    if (name == NULL || strcmp(name, object) != 0 || role < 0) {
        gproblem(g, seq, "a user entry whose message does not match it");
        return;
    }
    if (!any_admin_key(g))
        g->out->bootstrap++;
    else if (!signed_ok(g, sigs, by, msg, 1)) {
        gproblem(g, seq,
                 "user %s: not signed by an admin's registered key (added "
                 "or changed outside aipm)",
                 name);
        return;
    }
    p = json_object_get(g->people, name);
    if (p == NULL) {
        p = json_object();
        json_object_set_new(g->people, name, p);
    }
    json_object_set_new(p, "role", json_integer(role));
}

static void on_key(gctx *g, const char *seq, const char *object,
                   const char *msg, json_t *m, json_t *sigs, const char *pos)
{
    const char *user = json_string_value(json_object_get(m, "user"));
    const char *by = json_string_value(json_object_get(m, "by"));
    const char *vtext = json_string_value(json_object_get(m, "verifier"));
    aipm_error e = {0};
    aipm_key v;

    g->out->keys++;
    if (user == NULL || strcmp(user, object) != 0 || vtext == NULL ||
        aipm_key_parse_verifier(&v, vtext, &e) != AIPM_OK ||
        strcmp(v.name, user) != 0 || logged_role(g, user) < 0) {
        gproblem(g, seq, "a key entry whose message does not match it");
        return;
    }
    if (!sig_ok(&v, msg, pos)) {
        gproblem(g, seq, "key of %s: not signed by the key itself", user);
        return;
    }
    g->out->signatures++;
    if (!any_admin_key(g)) {
        if (logged_role(g, user) != AIPM_ROLE_ADMIN) {
            gproblem(g, seq, "key of %s: the first key must go to an admin",
                     user);
            return;
        }
        g->out->bootstrap++;
    } else if (!signed_ok(g, sigs, by, msg, 1)) {
        gproblem(g, seq,
                 "key of %s: not signed by an admin's registered key "
                 "(replaced outside aipm)",
                 user);
        return;
    }
    json_object_set_new(json_object_get(g->people, user), "key",
                        json_string(vtext));
}

static void on_act(gctx *g, const char *seq, const char *action,
                   const char *object, const char *msg, json_t *m, json_t *sigs)
{
    const char *user = json_string_value(json_object_get(m, "user"));
    const char *dec = json_string_value(json_object_get(m, "decision"));
    const char *sha = json_string_value(json_object_get(m, "output_sha256"));
    const char *act = json_string_value(json_object_get(m, "action"));
    const char *logged = json_string_value(json_object_get(g->digests, dec));
    const char *now =
        json_string_value(json_object_get(g->statuses, dec ? dec : ""));
    const char *role = json_string_value(json_object_get(m, "role"));
    json_int_t needed =
        json_integer_value(json_object_get(m, "approvals_needed"));
    int min_role = role && strcmp(role, "admin") == 0 ? AIPM_ROLE_ADMIN
                                                      : AIPM_ROLE_APPROVER;
    char *both;
    size_t n;

    g->out->acts++;
    if (needed < 1)
        needed = 1; /* a message from before policies: one approval */
    if (user == NULL || dec == NULL || act == NULL ||
        strcmp(dec, object) != 0 || strcmp(act, action) != 0) {
        gproblem(g, seq, "an %s entry whose message does not match it", action);
        return;
    }
    if (logged_role(g, user) < min_role) {
        gproblem(g, seq, "%s of %s by %s, who did not hold the %s role then",
                 action, dec, user, aipm_role_name(min_role));
        return;
    }
    if (!signed_ok(g, sigs, user, msg, 0)) {
        gproblem(g, seq, "%s of %s: not signed by %s's registered key (forged)",
                 action, dec, user);
        return;
    }
    if (logged == NULL || sha == NULL || strcmp(logged, sha) != 0) {
        gproblem(g, seq,
                 "%s of %s: signs an output the log does not hold "
                 "for it",
                 action, dec);
        return;
    }
    if (now != NULL) {
        gproblem(g, seq, "%s of %s, which was already %s", action, dec, now);
        return;
    }
    if (strcmp(action, "approve") == 0) {
        json_t *who = json_object_get(g->approvers, dec), *v;
        size_t i;

        if (who == NULL) {
            who = json_array();
            json_object_set_new(g->approvers, dec, who);
        }
        json_array_foreach(who, i, v)
        {
            if (strcmp(json_string_value(v), user) == 0) {
                gproblem(g, seq, "%s approved %s a second time", user, dec);
                return;
            }
        }
        json_array_append_new(who, json_string(user));
        /* the record is approved once its rule's count is reached */
        if ((json_int_t)json_array_size(who) >= needed)
            json_object_set_new(g->statuses, dec, json_string("approved"));
    } else
        json_object_set_new(g->statuses, dec,
                            json_string(status_after(action)));
    /* what the approvals table must hold at this seq */
    {
        const char *sig =
            json_string_value(json_object_get(json_array_get(sigs, 0), "sig"));

        n = strlen(msg) + strlen(sig ? sig : "") + 2;
        if ((both = malloc(n)) != NULL) {
            snprintf(both, n, "%s\n%s", msg, sig ? sig : "");
            json_object_set_new(g->acts, seq, json_string(both));
            free(both);
        }
    }
}

/* A token's creation or revocation: signed by an admin, or by the
 * token's own user, with the key the log registered (nobody during the
 * bootstrap). The store's api_tokens row must say what the entries say:
 * g->tokens keeps it, as the text check_token_row compares. */
static void on_token(gctx *g, const char *seq, const char *action,
                     const char *object, const char *msg, json_t *m,
                     json_t *sigs)
{
    const char *user = json_string_value(json_object_get(m, "user"));
    const char *by = json_string_value(json_object_get(m, "by"));
    const char *act = json_string_value(json_object_get(m, "action"));
    json_t *id = json_object_get(m, "id"), *t;
    int create = strcmp(action, "token.create") == 0;
    char key[24];

    g->out->tokens++;
    snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(id));
    if (user == NULL || act == NULL || strcmp(act, action) != 0 ||
        !json_is_integer(id) || strcmp(key, object) != 0) {
        gproblem(g, seq, "a %s entry whose message does not match it", action);
        return;
    }
    t = json_object_get(g->tokens, key);
    if (create ? t != NULL
               : t == NULL || json_object_get(t, "revoke_reason") != NULL ||
                     strcmp(json_string_value(json_object_get(t, "user")),
                            user) != 0) {
        gproblem(g, seq, "%s of token %s, which %s", action, key,
                 create ? "was already created"
                        : "was not created for that user or is revoked");
        return;
    }
    if (!any_admin_key(g))
        g->out->bootstrap++;
    else if (!signed_ok(g, sigs, by, msg,
                        by == NULL || strcmp(by, user) != 0)) {
        gproblem(g, seq,
                 "%s of token %s: not signed by an admin's or %s's "
                 "registered key",
                 action, key, user);
        return;
    }
    if (create) {
        t = json_pack("{s:s, s:O, s:O, s:O, s:O}", "user", user, "name",
                      json_object_get(m, "name"), "hint",
                      json_object_get(m, "hint"), "token_sha256",
                      json_object_get(m, "token_sha256"), "created_by",
                      json_object_get(m, "by"));
        if (t)
            json_object_set_new(g->tokens, key, t);
    } else {
        json_object_set(t, "revoked_by", json_object_get(m, "by"));
        json_object_set(t, "revoke_reason", json_object_get(m, "reason"));
    }
}

static int replay_entry(void *ctx, const aipm_audit_row *r)
{
    gctx *g = ctx;
    json_error_t jerr;
    json_t *e = json_loadb(r->entry, r->entry_len, 0, &jerr), *d, *m;
    const char *action = json_string_value(json_object_get(e, "action"));
    const char *object = json_string_value(json_object_get(e, "object"));
    const char *msg;
    char seq[24];

    snprintf(seq, sizeof(seq), "%lld", (long long)r->seq);
    if (action == NULL || object == NULL) {
        json_decref(e);
        return 0; /* unreadable entries are audit verify's to report */
    }
    d = json_object_get(e, "detail");
    /* the circuit breaker's rollback marks the records made with the bad
     * version stale, as a revert does */
    if (strcmp(action, "decision") == 0 || strcmp(action, "revert") == 0 ||
        strcmp(action, "model.alias") == 0) {
        json_t *sha = json_object_get(d, "output_sha256"), *v;
        size_t i;

        if (json_is_string(sha))
            json_object_set(g->digests, object, sha);
        /* a new record supersedes older proposed ones of its subject; a
         * revert makes the records that read the batch stale */
        json_array_foreach(json_object_get(d, "supersedes"), i, v)
        {
            if (json_is_string(v))
                json_object_set_new(g->statuses, json_string_value(v),
                                    json_string("superseded"));
        }
        if (json_is_object(json_object_get(d, "auto_approved")))
            json_object_set_new(g->statuses, object, json_string("approved"));
        json_array_foreach(json_object_get(d, "stale_decisions"), i, v)
        {
            if (json_is_string(v))
                json_object_set_new(g->statuses, json_string_value(v),
                                    json_string("stale"));
        }
        json_decref(e);
        return 0;
    }
    /* acts on decisions are "decision.approve" and so on */
    if (strncmp(action, "decision.", 9) == 0 &&
        status_after(action + 9) != NULL)
        action += 9;
    else if (strcmp(action, "user") != 0 && strcmp(action, "key") != 0 &&
             strcmp(action, "token.create") != 0 &&
             strcmp(action, "token.revoke") != 0) {
        json_decref(e);
        return 0;
    }
    msg = json_string_value(json_object_get(d, "message"));
    m = msg ? json_loads(msg, 0, &jerr) : NULL;
    if (m == NULL)
        gproblem(g, seq, "a %s entry without a readable signed message",
                 action);
    else if (strcmp(action, "user") == 0)
        on_user(g, seq, object, msg, m, json_object_get(d, "signatures"));
    else if (strcmp(action, "key") == 0)
        on_key(g, seq, object, msg, m, json_object_get(d, "signatures"),
               json_string_value(json_object_get(d, "possession")));
    else if (strncmp(action, "token.", 6) == 0)
        on_token(g, seq, action, object, msg, m,
                 json_object_get(d, "signatures"));
    else
        on_act(g, seq, action, object, msg, m,
               json_object_get(d, "signatures"));
    json_decref(m);
    json_decref(e);
    return 0;
}

static int check_user_row(void *ctx, const aipm_user_row *r)
{
    gctx *g = ctx;
    json_t *p = json_object_get(g->people, r->name);
    const char *key = json_string_value(json_object_get(p, "key"));

    if (p == NULL)
        gproblem(g, r->name, "user %s: no signed entry in the log adds them",
                 r->name);
    else if (logged_role(g, r->name) != aipm_role_parse(r->role))
        gproblem(g, r->name, "user %s: role %s in the store, %s in the log",
                 r->name, r->role, aipm_role_name(logged_role(g, r->name)));
    else if ((key == NULL) != (r->verifier_key == NULL) ||
             (key && strcmp(key, r->verifier_key) != 0))
        gproblem(g, r->name,
                 "user %s: the stored key is not the one the log registered",
                 r->name);
    if (p)
        json_object_set_new(p, "seen", json_true());
    return 0;
}

/* 1 when text (may be NULL) is the JSON string v (or both are absent). */
static int same_text(json_t *v, const char *text)
{
    const char *want = json_string_value(v);

    return want == NULL ? text == NULL : text && strcmp(want, text) == 0;
}

static int check_token_row(void *ctx, const aipm_token_row *r)
{
    gctx *g = ctx;
    char key[24], where[32];
    json_t *t;

    snprintf(key, sizeof(key), "%lld", (long long)r->id);
    snprintf(where, sizeof(where), "token:%lld", (long long)r->id);
    t = json_object_get(g->tokens, key);
    if (t == NULL) {
        gproblem(g, where, "token %s: no signed entry in the log creates it",
                 key);
        return 0;
    }
    json_object_set_new(t, "seen", json_true());
    if (!same_text(json_object_get(t, "user"), r->user) ||
        !same_text(json_object_get(t, "name"), r->name) ||
        !same_text(json_object_get(t, "hint"), r->hint) ||
        !same_text(json_object_get(t, "token_sha256"), r->token_sha256) ||
        !same_text(json_object_get(t, "created_by"), r->created_by))
        gproblem(g, where,
                 "token %s: the stored row is not the one the log "
                 "created (changed outside aipm)",
                 key);
    else if ((json_object_get(t, "revoke_reason") != NULL) !=
                 (r->revoked_ms != 0) ||
             (r->revoked_ms != 0 &&
              (!same_text(json_object_get(t, "revoked_by"), r->revoked_by) ||
               !same_text(json_object_get(t, "revoke_reason"),
                          r->revoke_reason))))
        gproblem(g, where, "token %s: %s in the store, %s by the log", key,
                 r->revoked_ms ? "revoked" : "live",
                 json_object_get(t, "revoke_reason") ? "revoked" : "live");
    return 0;
}

static int check_approval_row(void *ctx, const aipm_approval_row *r)
{
    gctx *g = ctx;
    char seq[24];
    const char *want;
    char *both;
    size_t n;

    snprintf(seq, sizeof(seq), "%lld", (long long)r->seq);
    want = json_string_value(json_object_get(g->acts, seq));
    n = strlen(r->message) + strlen(r->signature) + 2;
    if ((both = malloc(n)) == NULL)
        return AIPM_ENOMEM;
    snprintf(both, n, "%s\n%s", r->message, r->signature);
    if (want == NULL)
        gproblem(g, r->decision_id,
                 "an approval row (%s by %s) that no valid log entry records",
                 r->action, r->user);
    else if (strcmp(want, both) != 0)
        gproblem(g, r->decision_id,
                 "the approval row at entry %s differs from the entry", seq);
    else
        json_object_del(g->acts, seq);
    free(both);
    return 0;
}

static int check_status(void *ctx, const aipm_decision_row *r)
{
    gctx *g = ctx;
    const char *want = json_string_value(json_object_get(g->statuses, r->id));

    if (want == NULL)
        want = "proposed";
    if (strcmp(want, r->status) != 0)
        gproblem(g, r->id, "status %s in the store, %s by the log", r->status,
                 want);
    return 0;
}

int aipm_govern_verify(aipm_store *st, aipm_govern_check *out,
                       aipm_decision_problem_fn fn, void *ctx, aipm_error *err)
{
    aipm_decision_filter f = {NULL, NULL, NULL, 0};
    gctx g;
    const char *key;
    json_t *v;
    int rc;

    memset(out, 0, sizeof(*out));
    g.out = out;
    g.fn = fn;
    g.ctx = ctx;
    g.people = json_object();
    g.digests = json_object();
    g.statuses = json_object();
    g.acts = json_object();
    g.approvers = json_object();
    g.tokens = json_object();
    if (!g.people || !g.digests || !g.statuses || !g.acts || !g.approvers ||
        !g.tokens) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = aipm_store_audit_list(st, replay_entry, &g, err)) != AIPM_OK ||
        (rc = aipm_store_user_list(st, NULL, check_user_row, &g, err)) !=
            AIPM_OK ||
        (rc = aipm_store_approval_list(st, NULL, check_approval_row, &g,
                                       err)) != AIPM_OK ||
        (rc = aipm_store_decision_list(st, &f, check_status, &g, err)) !=
            AIPM_OK ||
        (rc = aipm_store_token_list(st, NULL, check_token_row, &g, err)) !=
            AIPM_OK)
        goto done;
    json_object_foreach(g.people, key, v)
    {
        if (!json_object_get(v, "seen"))
            gproblem(&g, key,
                     "user %s: in the log but not in the store (removed)", key);
    }
    json_object_foreach(g.acts, key, v)
    {
        (void)v;
        gproblem(&g, key, "the act at entry %s has no approval row (removed)",
                 key);
    }
    json_object_foreach(g.tokens, key, v)
    {
        if (!json_object_get(v, "seen"))
            gproblem(&g, key,
                     "token %s: in the log but not in the store (removed)",
                     key);
    }
done:
    json_decref(g.people);
    json_decref(g.digests);
    json_decref(g.statuses);
    json_decref(g.acts);
    json_decref(g.approvers);
    json_decref(g.tokens);
    return rc;
}
