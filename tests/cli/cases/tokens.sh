# tests/cli/cases/tokens.sh - API tokens (issue 18): `aipm tokens create,
# list, revoke`. A token is shown once and never stored: the store keeps
# its SHA-256 (recomputed here with Python's hashlib) and a hint; each
# creation and revocation is a signed audit entry that `audit verify`
# replays against the api_tokens rows.

TOKEN_RE='aipm_[A-Za-z0-9_-]{43}'

# tokens_ws NAME: a fresh workspace with alice (admin) and bob (analyst),
# still in the bootstrap (nobody has a key); $WS.
tokens_ws() {
    export AIPM_KEYS=$T/keys_$1
    mkws "$1"
    A -C "$WS" users add alice --role admin
    expect_rc 0 "users add alice"
    A -C "$WS" users add bob --role analyst
    expect_rc 0 "users add bob"
}

case_tokens_create_list_revoke() {
    local W t1 t2 t3
    tokens_ws tk
    W=$WS

    # --json: the shape, the token's form, the hint its first 9 characters
    A -C "$W" --json tokens create --as bob
    expect_rc 0 "tokens create --json"
    cp "$OUT" "$T/create.json"
    pycheck "$T/create.json" '
import re
assert sorted(d) == ["hint", "id", "name", "token", "user"], sorted(d)
assert d["id"] == 1 and d["user"] == "bob" and d["name"] == "default", d
assert re.fullmatch(r"aipm_[A-Za-z0-9_-]{43}", d["token"]), d["token"]
assert d["hint"] == d["token"][:9], d
'
    t1=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$T/create.json")
    # the store holds sha256(token), computed here
    [ "$(sql "$W/aipm.db" "select token_sha256 from api_tokens where id = 1")" = \
        "$("$PY" -c 'import hashlib, sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())' "$t1")" ] ||
        fail "stored digest is not sha256 of the token"
    [ "$(sql "$W/aipm.db" "select hint from api_tokens where id = 1")" = "${t1:0:9}" ] ||
        fail "stored hint"

    # the human form: the token once, how to use it
    A -C "$W" tokens create --as bob --name "laptop"
    expect_rc 0 "tokens create"
    t2=$(grep -oE "$TOKEN_RE" "$OUT" | head -1)
    [ -n "$t2" ] && [ "$t2" != "$t1" ] || fail "no new token in: $(head -c 300 "$OUT")"
    [ "$(grep -cE "$TOKEN_RE" "$OUT")" = 1 ] || fail "the token printed more than once"
    grep -q "only time it is shown" "$OUT" || fail "no shown-once line: $(head -c 300 "$OUT")"
    grep -q "Authorization: Bearer TOKEN" "$OUT" || fail "no usage line"

    # list: never the token nor its digest; the role now
    A -C "$W" tokens list
    expect_rc 0 "tokens list"
    grep -qE "$TOKEN_RE" "$OUT" && fail "list shows a token"
    grep -q "$(sql "$W/aipm.db" "select token_sha256 from api_tokens where id = 1")" "$OUT" &&
        fail "list shows a digest"
    grep -q "${t2:0:9}" "$OUT" || fail "list lacks the hint"
    grep -q "laptop" "$OUT" || fail "list lacks the name"
    A -C "$W" --json tokens list --user bob
    expect_rc 0 "tokens list --json"
    cp "$OUT" "$T/list.json"
    grep -qE "$TOKEN_RE" "$OUT" && fail "list --json shows a token"
    pycheck "$T/list.json" '
assert list(d) == ["tokens"], list(d)
t = d["tokens"]
assert [x["id"] for x in t] == [1, 2], t
for x in t:
    assert sorted(x) == sorted(["id", "user", "role", "name", "hint", "created",
        "created_by", "revoked", "revoked_by", "revoke_reason"]), sorted(x)
    assert x["user"] == "bob" and x["role"] == "analyst" and x["revoked"] is None, x
assert t[1]["name"] == "laptop"
'
    A -C "$W" --json tokens list --user alice
    expect_rc 0 "tokens list --user alice"
    [ "$(tr -d ' \n' <"$OUT")" = '{"tokens":[]}' ] || fail "alice has tokens: $(head -c 200 "$OUT")"
    # a role change shows in the list (the role now)
    A -C "$W" users add bob --role approver
    expect_rc 0 "bob becomes an approver"
    A -C "$W" --json tokens list
    cp "$OUT" "$T/list2.json"
    pycheck "$T/list2.json" 'assert {x["role"] for x in d["tokens"]} == {"approver"}, d'
    A -C "$W" audit verify
    expect_rc 0 "audit verify after create"

    # the bootstrap ends: now someone must sign
    A -C "$W" keys generate --as alice
    expect_rc 0 "alice's key"
    A -C "$W" tokens create --as bob
    expect_rc 3 "unsigned create after the bootstrap"
    expect_one_line_stderr "unsigned create"
    grep -q -- "--by" "$ERR" || fail "the refusal does not say --by: $(errtext)"
    A -C "$W" tokens create --as bob --name ci --by alice
    expect_rc 0 "create signed by the admin"
    t3=$(grep -oE "$TOKEN_RE" "$OUT" | head -1)
    [ -n "$t3" ] || fail "no token"
    A -C "$W" tokens revoke 2 --reason "lost the laptop"
    expect_rc 3 "unsigned revoke after the bootstrap"
    expect_one_line_stderr "unsigned revoke"

    # revoke
    A -C "$W" tokens revoke 2 --reason "lost the laptop" --by alice
    expect_rc 0 "tokens revoke"
    A -C "$W" --json tokens list
    cp "$OUT" "$T/list3.json"
    pycheck "$T/list3.json" '
t = {x["id"]: x for x in d["tokens"]}
assert sorted(t) == [1, 2, 3], sorted(t)
assert t[2]["revoked"] and t[2]["revoked_by"] == "alice" and t[2]["revoke_reason"] == "lost the laptop", t[2]
assert t[1]["revoked"] is None and t[3]["revoked"] is None
assert t[3]["created_by"] == "alice"
'
    A -C "$W" tokens revoke 2 --reason again --by alice
    expect_rc 1 "revoke twice"
    expect_one_line_stderr "revoke twice"
    grep -q "already revoked" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" audit verify
    expect_rc 0 "audit verify after revoke"
    # the log has the entries, without the tokens
    A -C "$W" --json audit log
    for t in "$t1" "$t2" "$t3"; do
        grep -qF "$t" "$OUT" && fail "a token in the audit log"
        grep -qF "${t:5}" "$OUT" && fail "a token's random part in the audit log"
    done
    grep -q "token.create" "$OUT" && grep -q "token.revoke" "$OUT" ||
        fail "no token entries in the log: $(head -c 300 "$OUT")"
    grep -q "token_sha256" "$OUT" || fail "the log shows no entry details"
}

case_tokens_tampering() {
    local W
    tokens_ws tt
    W=$WS
    A -C "$W" tokens create --as bob
    expect_rc 0 "tokens create"
    A -C "$W" audit verify
    expect_rc 0 "audit verify"
    # a row changed outside aipm: bob's token made alice's
    sql "$W/aipm.db" "update api_tokens set user_name = 'alice' where id = 1" >/dev/null
    A -C "$W" audit verify
    expect_rc 3 "audit verify after a changed token row"
    grep -q "token 1" "$ERR" || fail "verify does not name the token: $(errtext)"
    # a token no entry made
    sql "$W/aipm.db" "update api_tokens set user_name = 'bob' where id = 1" >/dev/null
    sql "$W/aipm.db" "insert into api_tokens(id, user_name, name, token_sha256, hint, created_ms) values (5, 'alice', 'x', 'ab', 'aipm_abcd', 1)" >/dev/null
    A -C "$W" audit verify
    expect_rc 3 "audit verify after an added token row"
    grep -q "token 5: no signed entry" "$ERR" || fail "stderr: $(errtext)"
}

case_tokens_errors() {
    local W sub
    tokens_ws te
    W=$WS
    A -C "$W" tokens create --as zed
    expect_rc 1 "unknown user"
    expect_one_line_stderr "unknown user"
    grep -q "no user zed" "$ERR" && grep -q "aipm users add" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" tokens create
    expect_rc 1 "create without --as"
    expect_one_line_stderr "create without --as"
    A -C "$W" tokens create --as bob --name ""
    expect_rc 1 "empty name"
    expect_one_line_stderr "empty name"
    A -C "$W" tokens create --as bob
    expect_rc 0 "tokens create"
    A -C "$W" tokens revoke 1
    expect_rc 1 "revoke without --reason"
    expect_one_line_stderr "revoke without --reason"
    grep -q -- "--reason" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" tokens revoke 42 --reason x
    expect_rc 1 "revoke an unknown id"
    expect_one_line_stderr "revoke an unknown id"
    grep -q "no token 42" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" tokens revoke abc --reason x
    expect_rc 1 "revoke a bad id"
    expect_one_line_stderr "revoke a bad id"
    A -C "$W" tokens revoke 1 --reason x --bogus
    expect_rc 1 "unknown option"
    expect_one_line_stderr "unknown option"
    A -C "$W" tokens frobnicate
    expect_rc 1 "unknown subcommand"
    expect_one_line_stderr "unknown subcommand"
    for sub in "" create list revoke; do
        A -C "$W" tokens $sub --help
        expect_rc 0 "tokens $sub --help"
        grep -q "aipm tokens create --as USER" "$OUT" || fail "tokens $sub --help"
    done
    # nothing was made by the failures
    [ "$(sql "$W/aipm.db" "select count(*) from api_tokens")" = 1 ] || fail "rows made by failures"
}

case_tokens_not_in_sqlite_file() {
    sqlite_only "greps the aipm.db file itself for the token"
    local W t
    tokens_ws tf
    W=$WS
    A -C "$W" tokens create --as bob
    expect_rc 0 "tokens create"
    t=$(grep -oE "$TOKEN_RE" "$OUT" | head -1)
    [ -n "$t" ] || fail "no token"
    sqlite3 "$W/aipm.db" .dump | grep -qF "$t" && fail "the token in the SQL dump"
    sqlite3 "$W/aipm.db" .dump | grep -qF "${t:5}" && fail "the token's random part in the SQL dump"
    grep -qaF "$t" "$W/aipm.db" "$W"/aipm.db-* 2>/dev/null && fail "the token in the database file"
    [ "$(sqlite3 "$W/aipm.db" "select count(*) from api_tokens where token_sha256 = '$(printf %s "$t" | sha256sum | cut -d' ' -f1)'")" = 1 ] ||
        fail "no row with sha256sum of the token"
}
