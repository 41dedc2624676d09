# tests/cli/cases/approvals.sh - people, roles, keys and signed approvals
# (issue 14): who may act, what the log records, and tampering that
# `audit verify` must catch. Signatures are checked again in Python with
# the cryptography package's Ed25519 (python3-cryptography), key IDs with
# hashlib, so no reference passes through aipm's own signing code.

# The Debian python3, which has python3-cryptography (PY may be another).
SYSPY=/usr/bin/python3

# people_ws W: a small demo workspace at W (4 experiment decisions and a
# ranking) with alice (admin), carol (approver) and bob (analyst), each
# with a key in $AIPM_KEYS.
people_ws() {
    local W=$1
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 3 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    A -C "$W" users add alice --role admin
    expect_rc 0 "users add the first admin"
    A -C "$W" keys generate --as alice
    expect_rc 0 "the first admin's key"
    A -C "$W" users add carol --role approver --by alice
    expect_rc 0 "users add carol"
    A -C "$W" users add bob --role analyst --by alice
    expect_rc 0 "users add bob"
    A -C "$W" keys generate --as carol --by alice
    expect_rc 0 "carol's key"
    A -C "$W" keys generate --as bob --by alice
    expect_rc 0 "bob's key"
}

# decision_id W N: the id of the N-th decision record (1-based, oldest first).
decision_id() {
    sql "$1/aipm.db" "select id from decisions order by time_ms, $RID limit 1 offset $(($2 - 1))"
}

case_approvals_roles_and_signatures() {
    local W=$T/ap d1 d2 d3
    export AIPM_KEYS=$T/keys
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 3 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    # The bootstrap: people may be added unsigned, but the first key goes
    # to an admin, and once an admin has one every change is signed.
    A -C "$W" users add bob --role analyst
    expect_rc 0 "users add during the bootstrap"
    A -C "$W" keys generate --as bob
    expect_rc 3 "a first key for a non-admin"
    expect_one_line_stderr "first key refused"
    grep -q "first key goes to an admin" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" users add alice --role admin
    expect_rc 0 "users add alice"
    A -C "$W" --json keys generate --as alice
    expect_rc 0 "keys generate --as alice"
    cp "$OUT" "$T/alice.json"
    [ "$(stat -c %a "$T/keys/alice.key")" = 600 ] || fail "secret key mode $(stat -c %a "$T/keys/alice.key")"
    # The verifier key's ID is the first 4 bytes of SHA-256(name || LF ||
    # 0x01 || public key) (C2SP signed-note), recomputed here.
    pycheck "$T/alice.json" '
import base64, hashlib
name, kid, b64 = d["verifier_key"].split("+", 2)
raw = base64.b64decode(b64)
want(name == "alice" and len(raw) == 33 and raw[0] == 1, "verifier %r" % d["verifier_key"])
want(hashlib.sha256(b"alice\n" + raw).digest()[:4].hex() == kid, "key ID %s" % kid)
sk = open(d["secret_key_file"]).read()
want(sk.startswith("PRIVATE+KEY+alice+" + kid + "+"), "secret key file %r" % sk[:30])'
    A -C "$W" users add carol --role approver
    expect_rc 3 "an unsigned change after the first admin key"
    grep -q -- "--by" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" users add carol --role approver --by bob
    expect_rc 3 "a change signed by a non-admin"
    A -C "$W" users add carol --role approverr --by alice
    expect_rc 1 "an unknown role"
    A -C "$W" users add carol --role approver --by alice
    expect_rc 0 "users add carol --by alice"
    A -C "$W" keys generate --as carol --by alice
    expect_rc 0 "carol's key"
    A -C "$W" keys generate --as bob --by alice
    expect_rc 0 "bob's key"
    A -C "$W" keys generate --as bob --by alice
    expect_rc 1 "a second key without --rotate"
    d1=$(decision_id "$W" 1)
    d2=$(decision_id "$W" 2)
    d3=$(decision_id "$W" 3)
    # Only approvers and admins act on decisions.
    A -C "$W" decisions approve "${d1:0:8}" --as bob --reason "fine"
    expect_rc 3 "an analyst approves"
    expect_one_line_stderr "analyst refused"
    grep -q "bob is an analyst" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" decisions approve "$d1" --as carol
    expect_rc 1 "no --reason"
    A -C "$W" decisions approve "${d1:0:8}" --as carol --reason "guardrails held"
    expect_rc 0 "carol approves"
    A -C "$W" --json decisions reject "$d2" --as carol --reason "too early"
    expect_rc 0 "carol rejects"
    pycheck "$OUT" 'want(d == {"id": args[0], "action": "reject", "status": "rejected", "rule": "default (1 approval)"}, "%r" % d)' "$d2"
    A -C "$W" decisions override "$d3" --as alice --reason "board call" --value '{"decision": "ship"}'
    expect_rc 0 "alice overrides"
    A -C "$W" decisions override "$d3" --as alice --reason "x" --value '{bad'
    expect_rc 1 "--value that is not JSON"
    A -C "$W" decisions approve "$d1" --as alice --reason "again"
    expect_rc 3 "acting on a decision no longer proposed"
    grep -q "no longer proposed" "$ERR" || fail "stderr: $(errtext)"
    [ "$(sql "$W/aipm.db" "select group_concat(status, ',') from (select status from decisions order by time_ms, $RID) x")" = "approved,rejected,overridden,proposed,proposed" ] ||
        fail "statuses $(sql "$W/aipm.db" "select group_concat(status) from decisions")"
    A -C "$W" --json decisions show "$d3"
    expect_rc 0 "decisions show"
    pycheck "$OUT" '
a = d["acts"]
want(len(a) == 1 and a[0]["action"] == "override" and a[0]["user"] == "alice" and a[0]["reason"] == "board call" and a[0]["value"] == {"decision": "ship"}, "acts %r" % a)
want(d["status"] == "overridden" and d["output_check"] == "ok", "the original output stays: %r" % d["output_check"])'
    A -C "$W" --json audit verify
    expect_rc 0 "audit verify"
    pycheck "$OUT" '
s = d["signatures"]
want(d["intact"] and s["intact"] and s["users"] == 3 and s["keys"] == 3 and s["acts"] == 3, "report %r" % s)
# bob and alice were added unsigned (the bootstrap), alice key is signed by
# itself only; then carol added by alice (1), carol and bob keys by
# themselves and alice (4), the 3 acts: 1 + 1 + 4 + 3
want(s["valid"] == 9 and s["bootstrap"] == 3 and s["problems"] == [], "signatures %r" % s)'
    # Every act's signature, checked with the cryptography package against
    # the key the log registered for its signer.
    A -C "$W" --json audit log
    cp "$OUT" "$T/log.json"
    "$SYSPY" - "$T/log.json" >"$T/py.out" 2>&1 <<'PYEOF' || fail "python: $(head -c 300 "$T/py.out")"
import base64, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
keys, n = {}, 0
for e in json.load(open(sys.argv[1]))["entries"]:
    e = e["entry"]
    if e["action"] == "key":
        m = json.loads(e["detail"]["message"])
        name, kid, b64 = m["verifier"].split("+", 2)
        keys[m["user"]] = (bytes.fromhex(kid), base64.b64decode(b64)[1:])
    if e["action"] in ("decision.approve", "decision.reject", "decision.override"):
        msg = e["detail"]["message"]
        m = json.loads(msg)
        assert msg == json.dumps(m, sort_keys=True, separators=(",", ":")), "not canonical"
        sig = base64.b64decode(e["detail"]["signatures"][0]["sig"])
        kid, pk = keys[m["user"]]
        assert sig[:4] == kid, "key ID"
        Ed25519PublicKey.from_public_bytes(pk).verify(sig[4:], msg.encode())
        n += 1
assert n == 3, n
PYEOF
    A -C "$W" --json users list
    pycheck "$OUT" 'want([(u["name"], u["role"]) for u in d["users"]] == [("alice", "admin"), ("bob", "analyst"), ("carol", "approver")], "%r" % d)'
}

# Tampering through SQLite or with a key the log never registered: each is
# caught by `audit verify` (exit 3) and named.
case_approvals_tampering() {
    sqlite_only "rewrites the SQLite file's log with Python"
    local W=$T/tw V d4 evil
    export AIPM_KEYS=$T/keys
    people_ws "$W"
    d4=$(decision_id "$W" 4)
    A -C "$W" decisions approve "$d4" --as carol --reason "ok"
    expect_rc 0 "carol approves"
    A -C "$W" audit verify
    expect_rc 0 "verify before tampering"

    # A forged approval: someone with write access puts their own key in
    # carol's people row and signs as carol. The writer trusts the row; the
    # log registered another key.
    V=$T/forge; ws_copy "$W" "$V"
    "$AIPM" init "$T/evilws" >/dev/null 2>&1
    AIPM_KEYS=$T/evil "$AIPM" -C "$T/evilws" users add carol --role admin >/dev/null 2>&1
    evil=$(AIPM_KEYS=$T/evil "$AIPM" -C "$T/evilws" --json keys generate --as carol | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["verifier_key"])')
    [ -n "$evil" ] || fail "no evil key"
    sql "$V/aipm.db" "update people set verifier_key = '$evil' where name = 'carol'" >/dev/null
    sql "$V/aipm.db" "update decisions set status = 'proposed' where id = '$d4'" >/dev/null
    AIPM_KEYS=$T/evil timeout 60 "$AIPM" -C "$V" decisions approve "$(decision_id "$V" 5)" --as carol --reason "forged" >"$OUT" 2>"$ERR"
    RC=$?
    expect_rc 0 "the forged approval is written (the writer trusts the people row)"
    A -C "$V" audit verify
    expect_rc 3 "verify after a forged approval"
    grep -q "not signed by carol's registered key (forged)" "$ERR" || fail "forged act not named: $(errtext)"
    grep -q "the stored key is not the one the log registered" "$ERR" || fail "swapped key not named: $(errtext)"
    grep -q "status proposed in the store, approved by the log" "$ERR" || fail "status edit not named: $(errtext)"

    # An approver added straight into the people table.
    V=$T/adduser; ws_copy "$W" "$V"
    sql "$V/aipm.db" "insert into people values('eve', 'approver', NULL, 0)" >/dev/null
    A -C "$V" audit verify
    expect_rc 3 "verify after a user added by SQL"
    grep -q "user eve: no signed entry in the log adds them" "$ERR" || fail "stderr: $(errtext)"

    # An approval's reason edited in its row.
    V=$T/reason; ws_copy "$W" "$V"
    sql "$V/aipm.db" "update approvals set reason = 'edited' where decision_id = '$d4'" >/dev/null
    sql "$V/aipm.db" "update approvals set message = replace(message, '\"ok\"', '\"edited\"') where decision_id = '$d4'" >/dev/null
    A -C "$V" audit verify
    expect_rc 3 "verify after an approval row was edited"
    grep -q "differs from the entry" "$ERR" || fail "stderr: $(errtext)"

    # The signed message edited inside the log, every tree head recomputed
    # and the checkpoint rewritten: the hash chain passes, the signature
    # does not.
    V=$T/relog; ws_copy "$W" "$V"
    rewrite_log "$V/aipm.db" "$V/audit-checkpoint" \
        "UPDATE audit SET entry = CAST(replace(CAST(entry AS TEXT), 'reason\\\":\\\"ok', 'reason\\\":\\\"OK') AS BLOB) WHERE seq = (SELECT max(seq) FROM audit);" ||
        fail "rewriting the log"
    [ "$(sql "$V/aipm.db" "select count(*) from audit where cast(entry as text) like '%\"OK%'")" = 1 ] || fail "the rewrite did not edit the entry"
    A -C "$V" --json audit verify
    expect_rc 3 "verify after a signed message was edited in the log"
    pycheck "$OUT" '
s = d["signatures"]
want(d["intact"] and not s["intact"], "the hash chain passes, the signatures do not: %r" % s)
want(any("forged" in p["problem"] for p in s["problems"]), "problems %r" % s["problems"])'
}
