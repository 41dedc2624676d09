# tests/cli/cases/serve.sh - `aipm serve` (issue 18): the JSON API on
# 127.0.0.1, driven with curl. The references: the CLI's --json for the
# same question (the API must serve the very same document), the roles of
# `aipm users`, the audit log for who did what, and HTTP's own rules
# (status codes, ETag / If-None-Match, Retry-After).

# serve_ws NAME: the tests' small demo workspace with people of every role
# and a token each: vic (viewer), ana (analyst), apo (approver, with a
# key), ada (admin, with a key); $W, $TOK_vic ... $TOK_ada.
serve_ws() {
    W=$T/$1
    export AIPM_KEYS=$T/keys_$1
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 3 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    local u r
    for u in ada:admin vic:viewer ana:analyst apo:approver; do
        A -C "$W" users add "${u%%:*}" --role "${u##*:}"
        expect_rc 0 "users add $u"
    done
    A -C "$W" keys generate --as ada
    expect_rc 0 "keys generate ada"
    A -C "$W" keys generate --as apo --by ada
    expect_rc 0 "keys generate apo"
    for u in vic ana apo ada; do
        A -C "$W" --json tokens create --as "$u" --by ada
        expect_rc 0 "tokens create $u"
        r=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$OUT")
        eval "TOK_$u=\$r"
    done
}

# start_server NAME ARGS...: aipm serve on a free loopback port; $BASE,
# $SPID. The case's subshell kills it on exit.
start_server() {
    local name=$1 i
    shift
    rm -f "$T/port.$name"
    "$AIPM" -C "$W" serve --listen 127.0.0.1:0 --port-file "$T/port.$name" \
        --workers 2 "$@" >"$T/serve.$name.out" 2>"$T/serve.$name.err" </dev/null &
    SPID=$!
    trap 'kill $SPID 2>/dev/null; wait $SPID 2>/dev/null' EXIT
    for i in $(seq 1 100); do
        [ -s "$T/port.$name" ] && break
        kill -0 "$SPID" 2>/dev/null || fail "aipm serve exited: $(head -c 300 "$T/serve.$name.err")"
        sleep 0.1
    done
    [ -s "$T/port.$name" ] || fail "aipm serve wrote no port in 10 s"
    BASE=http://127.0.0.1:$(cat "$T/port.$name")
}

stop_server() {
    kill "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
    trap - EXIT
}

# req METHOD PATH TOKEN [BODY [CONTENT-TYPE]]: $CODE, the body in $BODY_F,
# the headers in $HDR_F. Extra curl arguments in $CURL_EXTRA (an array).
BODY_F=$T/.body
HDR_F=$T/.hdr
req() {
    local m=$1 p=$2 tok=$3 args
    args=(-s -S --path-as-is -o "$BODY_F" -D "$HDR_F" -w '%{http_code}' -X "$m")
    [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
    if [ $# -ge 4 ]; then
        args+=(-H "Content-Type: ${5:-application/json}" --data-binary "$4")
    fi
    rm -f "$BODY_F"
    CODE=$(curl "${args[@]}" "${CURL_EXTRA[@]}" "$BASE$p" 2>"$T/.curl.err") ||
        fail "curl $m $p: $(head -c 200 "$T/.curl.err")"
    touch "$BODY_F" # curl writes no file for an empty body
}
CURL_EXTRA=()

expect_code() {
    [ "$CODE" = "$1" ] || fail "$2: HTTP $CODE, expected $1: $(head -c 300 "$BODY_F")"
}

# expect_error CODE NAME WHAT: an HTTP error with the JSON error document
# {"error": {"code": NAME, "message": ...}} and the security headers.
expect_error() {
    expect_code "$1" "$3"
    pycheck "$BODY_F" '
e = d.get("error")
want(isinstance(e, dict) and e.get("code") == args[0] and isinstance(e.get("message"), str) and e["message"], "error document %r, expected code %s" % (d, args[0]))
want(sorted(d) == ["error"], "extra keys %r" % sorted(d))
want("Traceback" not in e["message"] and "#0 " not in e["message"], "a stack trace")' "$2"
    grep -qi '^content-type: application/json' "$HDR_F" || fail "$3: error not served as JSON"
    security_headers "$3"
}

security_headers() {
    grep -qi "^content-security-policy: default-src 'none'; script-src 'self'" "$HDR_F" ||
        fail "$1: no CSP: $(tr '\r\n' '  ' <"$HDR_F" | head -c 300)"
    grep -i '^content-security-policy' "$HDR_F" | grep -qi 'unsafe-inline' &&
        fail "$1: the CSP allows inline script"
    grep -qi '^x-content-type-options: nosniff' "$HDR_F" || fail "$1: no nosniff"
    grep -qi '^x-frame-options: deny' "$HDR_F" || fail "$1: no frame deny"
    grep -i "^content-security-policy" "$HDR_F" | grep -q "frame-ancestors 'none'" ||
        fail "$1: the CSP allows framing"
}

# same_doc API_FILE CLI_FILE WHAT: the same JSON, but for keys that time
# the run (*seconds*), which no two runs share.
same_doc() {
    pycheck "$1" '
import json
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if "seconds" not in k}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
cli = json.load(open(args[0]))
want(strip(d) == strip(cli), "%s: the API and the CLI differ: %s" % (args[1], [k for k in set(d) | set(cli) if strip(d.get(k)) != strip(cli.get(k))][:5]))' "$2" "$3"
}

# new_events FILE N PREFIX: N track events of N new users on 2026-11-26.
new_events() {
    "$PY" - "$1" "$2" "$3" <<'PYEOF' || fail "writing events"
import json, sys
with open(sys.argv[1], "w") as fh:
    for i in range(int(sys.argv[2])):
        fh.write(json.dumps({"type": "track", "event": "dashboard_viewed", "userId": "%s-%d" % (sys.argv[3], i),
                             "timestamp": "2026-11-26T12:00:%02dZ" % i, "messageId": "%s-%d" % (sys.argv[3], i)}) + "\n")
PYEOF
}

case_serve_reads_match_cli() {
    serve_ws sr
    start_server sr
    # the index lists every route, with its role
    req GET /api/v1 "$TOK_vic"
    expect_code 200 "GET /api/v1"
    security_headers "GET /api/v1"
    pycheck "$BODY_F" '
paths = {(r["method"], r["path"]): r for r in d["routes"]}
for m, p, role in [("GET", "/api/v1/kpis", "viewer"), ("POST", "/api/v1/roadmap", "analyst"), ("POST", "/api/v1/decisions/*/*", "approver"), ("GET", "/api/v1/forecasts/*", "viewer")]:
    want((m, p) in paths, "index lacks %s %s" % (m, p))
    want(paths[(m, p)]["role"] == role, "%s %s role %s" % (m, p, paths[(m, p)]["role"]))'
    req GET /api/v1/whoami "$TOK_ana"
    expect_code 200 whoami
    pycheck "$BODY_F" 'want(d == {"user": "ana", "role": "analyst", "server_signs": False}, "whoami %r" % d)'

    # each read is the CLI's --json document for the same question
    local pair api cli before
    A -C "$W" --json audit log
    before=$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["entries"]))' "$OUT")
    # the item with the most feedback linked to it, for feedback?item=
    local item
    A -C "$W" --json feedback links
    item=$("$PY" -c '
import collections, json, sys
n = collections.Counter(i["item_id"] for l in json.load(open(sys.argv[1]))["links"] for i in l["items"])
print(n.most_common(1)[0][0])' "$OUT") || fail "no feedback linked to an item"
    for pair in \
        "/api/v1/kpis|kpi" \
        "/api/v1/kpis?by=month&from=2026-10-01|kpi --by month --from 2026-10-01" \
        "/api/v1/roadmap|prioritize --no-record" \
        "/api/v1/roadmap?capacity_weeks=6&risk_aversion=0.5|prioritize --no-record --capacity 6 --risk-aversion 0.5" \
        "/api/v1/forecasts/export|forecast adoption export --no-record" \
        "/api/v1/experiments/onboarding_checklist|experiment analyze onboarding_checklist --no-record" \
        "/api/v1/experiments/onboarding_checklist?engine=bayesian&cuped=true|experiment analyze onboarding_checklist --engine bayesian --cuped --no-record" \
        "/api/v1/models|model list" \
        "/api/v1/monitoring|monitor --history" \
        "/api/v1/quality|quality" \
        "/api/v1/quality?dataset=events|quality events" \
        "/api/v1/quarantine|quarantine" \
        "/api/v1/quarantine?reason=bad_timestamp&limit=3|quarantine --reason bad_timestamp --limit 3" \
        "/api/v1/batches|data versions" \
        "/api/v1/batches?dataset=backlog|data versions --dataset backlog" \
        "/api/v1/batches/1|data show 1" \
        "/api/v1/lineage|lineage" \
        "/api/v1/feedback|feedback links" \
        "/api/v1/feedback?item=@ITEM@|feedback links --item @ITEM@" \
        "/api/v1/feedback?review=true&threshold=0.7|feedback links --review --threshold 0.7" \
        "/api/v1/feedback?summary=1|feedback links --summary" \
        "/api/v1/decisions|decisions list" \
        "/api/v1/decisions?kind=experiment|decisions list --kind experiment" \
        "/api/v1/audit|audit log" \
        "/api/v1/audit/verify|audit verify" \
        "/api/v1/audit/verify?data=true|audit verify --data" \
        "/api/v1/users|users list" \
        "/api/v1/policies|policy log"; do
        pair=${pair//@ITEM@/$item}
        api=${pair%%|*}
        cli=${pair#*|}
        req GET "$api" "$TOK_vic"
        expect_code 200 "GET $api"
        cp "$BODY_F" "$T/api.json"
        # shellcheck disable=SC2086
        A -C "$W" --json $cli
        expect_rc 0 "aipm $cli"
        same_doc "$T/api.json" "$OUT" "$api"
    done
    # nothing the reads did was written: the audit log is as it was
    A -C "$W" audit verify
    expect_rc 0 "audit verify after the reads"
    A -C "$W" --json audit log
    pycheck "$OUT" 'want(len(d["entries"]) == int(args[0]), "the reads wrote %d audit entries" % (len(d["entries"]) - int(args[0])))' "$before"
    # a model card, by name@version and by name@alias, as `model show`
    req GET /api/v1/models/value "$TOK_vic"
    expect_error 404 not_found "a model never trained"
    A -C "$W" --json model train value
    expect_rc 0 "model train value"
    for pair in "/api/v1/models/value@1|model show value@1" "/api/v1/models/value|model show value"; do
        api=${pair%%|*}
        cli=${pair#*|}
        req GET "$api" "$TOK_vic"
        expect_code 200 "GET $api"
        cp "$BODY_F" "$T/api.json"
        # shellcheck disable=SC2086
        A -C "$W" --json $cli
        expect_rc 0 "aipm $cli"
        same_doc "$T/api.json" "$OUT" "$api"
    done
    # a decision by a prefix of its id, as the CLI takes it
    A -C "$W" --json decisions list
    local did
    did=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["decisions"][0]["id"])' "$OUT")
    req GET "/api/v1/decisions/${did:0:8}" "$TOK_vic"
    expect_code 200 "a decision by its id's prefix"
    cp "$BODY_F" "$T/api.json"
    A -C "$W" --json decisions show "$did"
    same_doc "$T/api.json" "$OUT" "/api/v1/decisions/ID"
    req GET /api/v1/decisions/ffffffff "$TOK_vic"
    expect_error 404 not_found "an unknown decision"
    req GET "/api/v1/quality?dataset=evnts" "$TOK_vic"
    expect_error 400 invalid "an unknown dataset"
    req GET /api/v1/batches/999 "$TOK_vic"
    expect_error 404 not_found "an unknown batch"
    # feedback: an item that is no backlog item is a 404 (the CLI: exit 1,
    # "no backlog item"), a threshold outside (0, 1] a 400 (--threshold's
    # usage error)
    req GET "/api/v1/feedback?item=BL-999999" "$TOK_vic"
    expect_error 404 not_found "feedback of an unknown item"
    A -C "$W" --json feedback links --item BL-999999
    expect_rc 1 "feedback links --item of an unknown item"
    grep -q 'no backlog item BL-999999' "$ERR" || fail "feedback links --item BL-999999: $(errtext)"
    for bad in 0 1.5 -0.2 nan x; do
        req GET "/api/v1/feedback?threshold=$bad" "$TOK_vic"
        expect_error 400 invalid "feedback with threshold=$bad"
        A -C "$W" --json feedback links --threshold "$bad"
        expect_rc 1 "feedback links --threshold $bad"
    done
    req GET "/api/v1/feedback?review=maybe" "$TOK_vic"
    expect_error 400 invalid "feedback with review=maybe"
    # the rows linked to the item, each with its text
    req GET "/api/v1/feedback?item=$item" "$TOK_vic"
    pycheck "$BODY_F" '
links = d["links"]
want(len(links) == d["summary"]["shown"] and links, "%d links, shown %r" % (len(links), d["summary"]["shown"]))
want(all(args[0] in [i["item_id"] for i in l["items"]] for l in links), "a link not to %s" % args[0])
want(all(isinstance(l["text"], str) and l["text"] and "account_id" in l for l in links), "a link without its text or account")' "$item"
    # tokens: for admins only, and never a secret
    req GET /api/v1/tokens "$TOK_apo"
    expect_error 403 forbidden "tokens for an approver"
    req GET /api/v1/tokens "$TOK_ada"
    expect_code 200 "tokens for an admin"
    cp "$BODY_F" "$T/api.json"
    grep -q "$TOK_vic" "$T/api.json" && fail "the token list shows a token"
    A -C "$W" --json tokens list
    same_doc "$T/api.json" "$OUT" "/api/v1/tokens"
    # the experiments of aipm.yaml
    req GET /api/v1/experiments "$TOK_vic"
    expect_code 200 "GET /api/v1/experiments"
    pycheck "$BODY_F" '
keys = [e["key"] for e in d["experiments"]]
want("onboarding_checklist" in keys and all(e["variations"][0] == "control" for e in d["experiments"]), "experiments %r" % keys)'
}

case_serve_roles() {
    serve_ws sro
    start_server sro
    # no token, a malformed one, an unknown one: 401 with WWW-Authenticate
    req GET /api/v1/kpis ""
    expect_error 401 unauthorized "no token"
    grep -qi '^www-authenticate: bearer' "$HDR_F" || fail "401 without WWW-Authenticate"
    req GET /api/v1/kpis "not-a-token"
    expect_error 401 unauthorized "a malformed token"
    req GET /api/v1/kpis "aipm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    expect_error 401 unauthorized "an unknown token"

    # a viewer reads, and may not write or approve
    req GET /api/v1/kpis "$TOK_vic"
    expect_code 200 "viewer reads"
    req POST /api/v1/roadmap "$TOK_vic" '{}'
    expect_error 403 forbidden "viewer writes"
    grep -q 'analyst' "$BODY_F" || fail "the 403 does not name the role needed"
    req POST /api/v1/simulations "$TOK_vic" '{"scenario": {}}'
    expect_error 403 forbidden "viewer simulates"

    # an analyst records a ranking: 201, a decision record by ana
    req POST /api/v1/roadmap "$TOK_ana" '{"draws": 1000}'
    expect_code 201 "analyst records a ranking"
    local id
    id=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["decision_id"])' "$BODY_F") ||
        fail "no decision_id: $(head -c 200 "$BODY_F")"
    A -C "$W" --json audit log
    pycheck "$OUT" '
e = [x["entry"] for x in d["entries"] if x["entry"]["action"] == "decision"]
want(e[-1]["actor"] == "ana" and e[-1]["detail"]["kind"] == "prioritize", "the last decision entry: %r" % e[-1])'
    req POST "/api/v1/decisions/$id/approve" "$TOK_ana" '{"reason": "mine"}'
    expect_error 403 forbidden "analyst approves"

    # an approver whose key the server does not hold: the command to run
    req POST "/api/v1/decisions/$id/approve" "$TOK_apo" '{"reason": "fits the quarter"}'
    expect_code 409 "approve without --sign-for"
    pycheck "$BODY_F" '
e = d["error"]
want(e["code"] == "sign_with_cli", "code %r" % e["code"])
want(e["command"].startswith("aipm decisions approve %s --as apo" % args[0]), "command %r" % e["command"])' "$id"
    stop_server

    # with --sign-for apo the server signs it: approved, signed, in the log
    start_server sro2 --sign-for apo
    req GET /api/v1/whoami "$TOK_apo"
    pycheck "$BODY_F" 'want(d["server_signs"] is True, "whoami %r" % d)'
    req POST "/api/v1/decisions/$id/approve" "$TOK_apo" '{"reason": "fits the quarter"}'
    expect_code 201 "approve with --sign-for"
    pycheck "$BODY_F" 'want(d["action"] == "approve" and d["status"] in ("approved", "proposed") and d["approvals"] == 1, "act %r" % d)'
    req POST "/api/v1/decisions/$id/approve" "$TOK_apo" '{"reason": "again"}'
    expect_error 409 blocked "approving twice"
    req POST "/api/v1/decisions/$id/approve" "$TOK_apo" '{}'
    expect_error 400 invalid "an approval without a reason"
    req POST "/api/v1/decisions/$id/frobnicate" "$TOK_apo" '{"reason": "x"}'
    expect_error 404 not_found "an unknown act"
    A -C "$W" --json decisions show "$id"
    expect_rc 0 "decisions show"
    pycheck "$OUT" '
acts = d.get("approvals") or d.get("acts") or []
want(any(a.get("user") == "apo" and a.get("reason") == "fits the quarter" for a in acts), "no approval by apo in %r" % acts)'
    A -C "$W" audit verify
    expect_rc 0 "audit verify after the API's approval"

    # a revoked token stops working at once, though the server runs on
    req GET /api/v1/kpis "$TOK_vic"
    expect_code 200 "vic before the revocation"
    A -C "$W" --json tokens list
    local tid
    tid=$("$PY" -c 'import json, sys; print([t["id"] for t in json.load(open(sys.argv[1]))["tokens"] if t["user"] == "vic"][0])' "$OUT") ||
        fail "no token of vic in tokens list"
    A -C "$W" tokens revoke "$tid" --reason "left the team" --by ada
    expect_rc 0 "tokens revoke"
    req GET /api/v1/kpis "$TOK_vic"
    expect_error 401 unauthorized "a revoked token"
}

case_serve_bad_requests() {
    serve_ws sb
    start_server sb --max-body 4096
    req POST /api/v1/roadmap "$TOK_ana" '{"draws": '
    expect_error 400 invalid "malformed JSON"
    req POST /api/v1/roadmap "$TOK_ana" '[1, 2]'
    expect_error 400 invalid "a JSON array body"
    req POST /api/v1/roadmap "$TOK_ana" '{"drawz": 1000}'
    expect_error 400 invalid "an unknown key"
    grep -q drawz "$BODY_F" || fail "the 400 does not name the key"
    req POST /api/v1/roadmap "$TOK_ana" '{"draws": 1000, "draws": 2000}'
    expect_error 400 invalid "a duplicate key"
    req POST /api/v1/roadmap "$TOK_ana" 'draws=1000' application/x-www-form-urlencoded
    expect_error 415 unsupported_media_type "a form body"
    req POST /api/v1/simulations "$TOK_ana" '{"scenario": "objective: [unclosed"}'
    expect_error 400 invalid "a malformed scenario"
    # oversized: by Content-Length, and chunked (no length said)
    head -c 10000 /dev/zero | tr '\0' ' ' >"$T/big.json"
    req POST /api/v1/roadmap "$TOK_ana" "@$T/big.json"
    expect_error 413 too_large "an oversized body"
    CURL_EXTRA=(-H "Transfer-Encoding: chunked")
    req POST /api/v1/roadmap "$TOK_ana" "@$T/big.json"
    CURL_EXTRA=()
    expect_error 413 too_large "an oversized chunked body"
    # unknown routes, arguments and methods
    req GET /api/v1/nothing "$TOK_vic"
    expect_error 404 not_found "an unknown route"
    req GET /api/v2/kpis "$TOK_vic"
    expect_error 404 not_found "another API version"
    req GET "/api/v1/kpis?bogus=1" "$TOK_vic"
    expect_error 400 invalid "an unknown argument"
    grep -q bogus "$BODY_F" || fail "the 400 does not name the argument"
    req GET "/api/v1/kpis?by=fortnight" "$TOK_vic"
    expect_error 400 invalid "a bad argument value"
    # a decoded newline would make two arguments of one in the cache key
    req GET "/api/v1/kpis?from=2026-11-01%0Aby=day" "$TOK_vic"
    expect_error 400 invalid "a newline in an argument"
    grep -q 'control character' "$BODY_F" || fail "the 400 does not say why: $(head -c 200 "$BODY_F")"
    req GET "/api/v1/roadmap?draws=abc" "$TOK_vic"
    expect_error 400 invalid "a non-numeric argument"
    req GET /api/v1/forecasts/no_such_feature "$TOK_vic"
    expect_error 404 not_found "an unknown feature"
    req DELETE /api/v1/kpis "$TOK_vic"
    expect_error 405 method_not_allowed "DELETE"
    req PUT /api/v1/roadmap "$TOK_ana" '{}'
    expect_error 405 method_not_allowed "PUT"
    # path traversal: nothing from the request reaches the file system
    local p
    for p in "/../../../../etc/passwd" "/api/v1/../../../etc/passwd" \
        "/api/v1/forecasts/..%2f..%2f..%2fetc%2fpasswd" "/%2e%2e/%2e%2e/etc/passwd" \
        "/api/v1/forecasts/.." "/api/v1/models/..%00" "/aipm.db" "/aipm.yaml" \
        "/api/v1/forecasts/%2e%2e" "//etc/passwd" "/api/v1/kpis/../../aipm.db"; do
        req GET "$p" "$TOK_vic"
        case $CODE in 400 | 404) ;; *) fail "GET $p: HTTP $CODE" ;; esac
        grep -q 'root:' "$BODY_F" && fail "GET $p served /etc/passwd"
        grep -q 'SQLite format' "$BODY_F" && fail "GET $p served the store"
        grep -q 'policies' "$BODY_F" && fail "GET $p served aipm.yaml"
        "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["error"]["code"]' "$BODY_F" ||
            fail "GET $p: not a JSON error: $(head -c 200 "$BODY_F")"
    done
    # after all that the server still answers
    req GET /api/v1/kpis "$TOK_vic"
    expect_code 200 "the server after the bad requests"
    kill -0 "$SPID" || fail "the server died"
}

case_serve_cache() {
    serve_ws sc
    start_server sc
    req GET /api/v1/kpis "$TOK_vic"
    expect_code 200 "first read"
    grep -qi '^x-aipm-cache: miss' "$HDR_F" || fail "the first read is not a miss"
    local etag
    etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\("[0-9a-f]*"\).*/\1/p' "$HDR_F")
    [ -n "$etag" ] || fail "no ETag"
    cp "$BODY_F" "$T/k1.json"
    req GET /api/v1/kpis "$TOK_ana"
    expect_code 200 "second read"
    grep -qi '^x-aipm-cache: hit' "$HDR_F" || fail "the second read is not a hit"
    cmp -s "$BODY_F" "$T/k1.json" || fail "the hit differs from the miss"
    # the ETag is the body's SHA-256 (first 128 bits)
    [ "$etag" = "\"$(sha256sum "$BODY_F" | cut -c1-32)\"" ] || fail "ETag $etag is not the body's digest"
    # the same arguments in another order are the same entry
    req GET "/api/v1/kpis?by=day&from=2026-11-01" "$TOK_vic"
    cp "$BODY_F" "$T/k2.json"
    req GET "/api/v1/kpis?from=2026-11-01&by=day" "$TOK_vic"
    grep -qi '^x-aipm-cache: hit' "$HDR_F" || fail "reordered arguments missed the cache"
    cmp -s "$BODY_F" "$T/k2.json" || fail "reordered arguments answered differently"
    # If-None-Match: 304 and no body
    CURL_EXTRA=(-H "If-None-Match: $etag")
    req GET /api/v1/kpis "$TOK_vic"
    CURL_EXTRA=()
    expect_code 304 "If-None-Match"
    [ ! -s "$BODY_F" ] || fail "a 304 with a body"
    # a new accepted batch moves the stamp: a miss, and the new data
    new_events "$T/new.ndjson" 40 late
    A -C "$W" ingest events "$T/new.ndjson"
    expect_rc 0 "ingest a new batch"
    req GET /api/v1/kpis "$TOK_vic"
    expect_code 200 "read after the batch"
    grep -qi '^x-aipm-cache: miss' "$HDR_F" || fail "a new batch did not invalidate the cache"
    cmp -s "$BODY_F" "$T/k1.json" && fail "the KPIs did not change with 40 new users"
    A -C "$W" --json kpi
    same_doc "$BODY_F" "$OUT" "KPIs after the batch"
    # so does an edit of aipm.yaml
    req GET /api/v1/kpis "$TOK_vic"
    grep -qi '^x-aipm-cache: hit' "$HDR_F" || fail "no hit before the edit"
    sleep 0.01
    echo "# edited" >>"$W/aipm.yaml"
    req GET /api/v1/kpis "$TOK_vic"
    grep -qi '^x-aipm-cache: miss' "$HDR_F" || fail "an aipm.yaml edit did not invalidate the cache"
    # writes are never cached
    req POST /api/v1/roadmap "$TOK_ana" '{"draws": 500}'
    expect_code 201 "a write"
    grep -qi '^x-aipm-cache' "$HDR_F" && fail "a write carries a cache header"
    true
}

case_serve_limits() {
    serve_ws sl
    # the rate: 3 at once, then 1 in 5 seconds (slow enough that the four
    # requests land within one refill even on PostgreSQL)
    start_server sl --rate 0.2 --burst 3 --timeout 1
    local i codes=""
    for i in 1 2 3 4; do
        req GET /api/v1/whoami "$TOK_vic"
        codes="$codes $CODE"
    done
    [ "$codes" = " 200 200 200 429" ] || fail "rate 0.2, burst 3: $codes"
    expect_error 429 rate_limited "over the rate"
    grep -qi '^retry-after: 1' "$HDR_F" || fail "429 without Retry-After"
    # another token has its own bucket
    req GET /api/v1/whoami "$TOK_ana"
    expect_code 200 "another token"
    sleep 5.2
    req GET /api/v1/whoami "$TOK_vic"
    expect_code 200 "after five seconds"
    # an idle connection is closed after --timeout; a huge header is refused
    "$PY" - "${BASE#http://}" <<'PYEOF' || fail "$(cat "$T/.py.err" 2>/dev/null)"
import socket, sys, time
host, port = sys.argv[1].split(":")
s = socket.create_connection((host, int(port)))
s.settimeout(5)
t0 = time.time()
data = s.recv(100)
assert data == b"", "an idle connection got %r" % data
assert time.time() - t0 < 4, "the idle connection lived %.1f s" % (time.time() - t0)
s = socket.create_connection((host, int(port)))
s.settimeout(5)
s.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
try:
    reply = s.recv(200)
except ConnectionResetError:
    reply = b""
assert reply == b"" or reply.split(b" ")[1] in (b"413", b"431", b"400"), "a 200 KB header: %r" % reply[:60]
PYEOF
    req GET /api/v1/whoami "$TOK_ana"
    expect_code 200 "the server after the huge header"
    stop_server

    # bad options; another address than loopback is said out loud
    A -C "$W" serve --listen nowhere:80
    expect_rc 1 "--listen nowhere"
    A -C "$W" serve --listen 127.0.0.1:99999
    expect_rc 1 "--listen port 99999"
    A -C "$W" serve --workers 0
    expect_rc 1 "--workers 0"
    A -C "$W" serve --sign-for nobody
    expect_rc 1 "--sign-for a user without a key"
    "$AIPM" -C "$W" serve --listen 0.0.0.0:0 --port-file "$T/port.any" >/dev/null 2>"$T/any.err" </dev/null &
    SPID=$!
    for i in $(seq 1 50); do [ -s "$T/port.any" ] && break; sleep 0.1; done
    kill "$SPID"
    wait "$SPID"
    [ $? -eq 0 ] || fail "aipm serve did not stop cleanly on SIGTERM"
    grep -q "not loopback" "$T/any.err" || fail "no warning for 0.0.0.0: $(head -c 200 "$T/any.err")"
    grep -q "not loopback" "$T/serve.sl.err" && fail "a warning for 127.0.0.1"
    true
}

case_serve_simulate() {
    serve_ws ss
    start_server ss
    A -C "$W" --json prioritize --no-record
    local i1
    i1=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["items"][0]["id"])' "$OUT")
    cat >"$T/sc.yaml" <<EOF
objective: {kpi: value, horizon_days: 90}
scenarios:
  - name: none
  - name: one
    build: [$i1]
EOF
    "$PY" -c 'import json, sys; print(json.dumps({"scenario": open(sys.argv[1]).read(), "draws": 20000, "seed": 7, "name": "sc.yaml"}))' "$T/sc.yaml" >"$T/sc.json"
    req POST /api/v1/simulations "$TOK_ana" "@$T/sc.json"
    expect_code 201 "POST /api/v1/simulations"
    cp "$BODY_F" "$T/api_sim.json"
    A -C "$W" --json simulate "$T/sc.yaml" --draws 20000 --seed 7 --threads 1 --no-record
    expect_rc 0 "aipm simulate"
    pycheck "$T/api_sim.json" '
import json
cli = json.load(open(args[0]))
a = {s["name"]: s for s in d["scenarios"]}
b = {s["name"]: s for s in cli["scenarios"]}
for n in ("none", "one"):
    for k in ("mean", "p10", "p50", "p90", "cvar"):
        want(a[n][k] == b[n][k], "%s %s: API %r, CLI %r" % (n, k, a[n][k], b[n][k]))
want(d.get("decision_id"), "the API run was not recorded")' "$OUT"
    # the scenario as an object works too
    req POST /api/v1/simulations "$TOK_ana" "{\"scenario\": {\"objective\": {\"kpi\": \"value\", \"horizon_days\": 90}, \"scenarios\": [{\"name\": \"none\"}]}, \"draws\": 1000}"
    expect_code 201 "a scenario object"
}

case_report() {
    serve_ws rp
    A -C "$W" report --out "$T/r.html"
    expect_rc 0 "aipm report"
    grep -q "wrote $T/r.html" "$OUT" || fail "report says: $(head -c 200 "$OUT")"
    # one file: nothing it loads from elsewhere
    grep -qiE '<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|@import|url\(["'"'"']?(https?:|//)' "$T/r.html" &&
        fail "the report loads something from outside itself"
    grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$T/r.html" ||
        fail "the report has no CSP of its own"
    # its data: the API's documents, which are the CLI's
    "$PY" - "$T/r.html" "$T/data.json" <<'PYEOF' || fail "no data in the report"
import json, re, sys
html = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<script type="application/json" id="aipm-data">(.*?)</script>', html, re.S)
json.dump(json.loads(m.group(1)), open(sys.argv[2], "w"))
PYEOF
    A -C "$W" --json kpi
    cp "$OUT" "$T/kpi.json"
    A -C "$W" --json prioritize --no-record
    cp "$OUT" "$T/pz.json"
    A -C "$W" --json audit verify
    cp "$OUT" "$T/verify.json"
    pycheck "$T/data.json" '
import json
docs = d["documents"]
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if "seconds" not in k}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
for path, f in (("/api/v1/kpis", args[0]), ("/api/v1/roadmap", args[1]), ("/api/v1/audit/verify", args[2])):
    want(strip(docs[path]) == strip(json.load(open(f))), "%s differs from the CLI" % path)
want(any(k.startswith("/api/v1/experiments/") for k in docs), "no experiment")
want(any(k.startswith("/api/v1/forecasts/") for k in docs), "no forecast")
want(len(docs["/api/v1/audit"]["entries"]) <= 50, "the audit head is the whole log")
# the models are not trained in this workspace: said, not silently left out
want("/api/v1/models/value@production" in d["missing"], "missing: %r" % sorted(d["missing"]))
want(d["generated"].startswith("2026-11-27"), "generated %r" % d["generated"])' "$T/kpi.json" "$T/pz.json" "$T/verify.json"
    # reading made no audit entry; a bad destination leaves nothing behind
    A -C "$W" audit verify
    expect_rc 0 "audit verify after the report"
    A -C "$W" report --out "$T/no/such/dir/r.html"
    expect_rc 1 "report into a missing folder"
    expect_one_line_stderr "report into a missing folder"
    A -C "$W" report --out -
    expect_rc 0 "report to stdout"
    head -c 15 "$OUT" | grep -q '<!doctype html>' || fail "stdout is not the report"
    A -C "$W" report --bogus
    expect_rc 1 "report --bogus"
}

# A workspace's store replaced under a running server (restored from a
# backup, or the workspace made again): the server opens the new file
# instead of reading and writing the old one nobody sees.
case_serve_store_replaced() {
    sqlite_only "replaces the SQLite file"
    serve_ws srp
    start_server srp
    req GET /api/v1/batches "$TOK_vic"
    expect_code 200 "batches before"
    cp "$BODY_F" "$T/b1.json"
    sql "$W/aipm.db" ".backup $T/old.db" >/dev/null
    new_events "$T/new.ndjson" 5 r
    A -C "$W" ingest events "$T/new.ndjson"
    expect_rc 0 "ingest"
    req GET /api/v1/batches "$TOK_vic"
    cmp -s "$BODY_F" "$T/b1.json" && fail "the new batch is not listed"
    # the backup put back in place: a new file
    mv "$T/old.db" "$W/aipm.db.new"
    rm -f "$W/aipm.db-wal" "$W/aipm.db-shm"
    mv "$W/aipm.db.new" "$W/aipm.db"
    req GET /api/v1/batches "$TOK_vic"
    expect_code 200 "batches after the restore"
    cmp -s "$BODY_F" "$T/b1.json" || fail "the server still reads the replaced file: $(head -c 200 "$BODY_F")"
}

# --cache N keeps the N most recently used answers: a third one pushes out
# the least recently used, not the one just read again.
case_serve_cache_capacity() {
    serve_ws scc
    start_server scc --cache 2
    local p
    for p in /api/v1/models /api/v1/experiments /api/v1/models /api/v1/quality \
        /api/v1/models /api/v1/experiments; do
        req GET "$p" "$TOK_vic"
        expect_code 200 "GET $p"
        printf '%s ' "$(sed -n 's/^[Xx]-[Aa]ipm-[Cc]ache: *\([a-z]*\).*/\1/p' "$HDR_F")" >>"$T/seq"
    done
    # models miss, experiments miss, models hit (now the newest), quality
    # miss (evicts experiments, the least recently used), models hit,
    # experiments miss
    [ "$(cat "$T/seq")" = "miss miss hit miss hit miss " ] ||
        fail "cache of 2: $(cat "$T/seq")"
}

# gunzip_to FILE OUT: FILE's gzip stream decompressed into OUT, by
# Python's gzip module (an implementation other than the server's zlib
# calls); fails when FILE is not gzip.
gunzip_to() {
    "$PY" -c 'import gzip, sys
open(sys.argv[2], "wb").write(gzip.decompress(open(sys.argv[1], "rb").read()))' "$1" "$2" 2>"$T/.gz.err" ||
        fail "$3: not a gzip body: $(head -c 200 "$T/.gz.err")"
}

# header NAME: the value of a response header of the last req.
header() {
    tr -d '\r' <"$HDR_F" | sed -n "s/^$1: *//Ip" | head -1
}

# Content negotiation (RFC 9110 12.5.3, 8.4): gzip for a client whose
# Accept-Encoding takes it, the body unchanged after gunzip, its own
# strong ETag, Vary on every form, and the plain body for everyone else.
case_serve_gzip() {
    serve_ws sg
    start_server sg
    local enc want etag
    req GET /api/v1/roadmap "$TOK_vic"
    expect_code 200 "plain roadmap"
    cp "$BODY_F" "$T/plain.json"
    [ -z "$(header content-encoding)" ] || fail "gzip without Accept-Encoding"
    [ "$(header vary)" = "Accept-Encoding" ] || fail "no Vary on the plain form"
    [ "$(header etag)" = "\"$(sha256sum "$T/plain.json" | cut -c1-32)\"" ] || fail "plain ETag"
    for enc in "gzip" "GZIP" "deflate, gzip;q=0.5" "x-gzip" "*" "br, *;q=0.2" \
        "gzip;q=0" "gzip;q=0.000, *" "identity" "deflate, br" "*;q=0" "gzip;q=2"; do
        case $enc in
        "gzip;q=0" | "gzip;q=0.000, *" | identity | "deflate, br" | "*;q=0" | "gzip;q=2") want=plain ;;
        *) want=gzip ;;
        esac
        CURL_EXTRA=(-H "Accept-Encoding: $enc")
        req GET /api/v1/roadmap "$TOK_vic"
        CURL_EXTRA=()
        expect_code 200 "Accept-Encoding: $enc"
        grep -qi '^x-aipm-cache: hit' "$HDR_F" || fail "Accept-Encoding: $enc missed the cache"
        [ "$(header vary)" = "Accept-Encoding" ] || fail "no Vary for $enc"
        if [ $want = gzip ]; then
            [ "$(header content-encoding)" = gzip ] || fail "Accept-Encoding: $enc: not gzipped"
            gunzip_to "$BODY_F" "$T/unz.json" "Accept-Encoding: $enc"
            cmp -s "$T/unz.json" "$T/plain.json" || fail "Accept-Encoding: $enc: gunzipped body differs"
            [ "$(stat -c %s "$BODY_F")" -lt "$(($(stat -c %s "$T/plain.json") / 3))" ] ||
                fail "gzipped roadmap $(stat -c %s "$BODY_F") bytes of $(stat -c %s "$T/plain.json")"
            [ "$(header etag)" = "\"$(sha256sum "$T/plain.json" | cut -c1-32)+gzip\"" ] ||
                fail "gzip ETag $(header etag)"
        else
            [ -z "$(header content-encoding)" ] || fail "Accept-Encoding: $enc: gzipped"
            cmp -s "$BODY_F" "$T/plain.json" || fail "Accept-Encoding: $enc: body differs"
        fi
    done
    # The first answer of a key is gzipped too (a miss), and each form's
    # ETag revalidates only that form.
    CURL_EXTRA=(-H "Accept-Encoding: gzip")
    req GET /api/v1/quality "$TOK_vic"
    expect_code 200 "quality"
    grep -qi '^x-aipm-cache: miss' "$HDR_F" || fail "quality not a miss"
    [ "$(header content-encoding)" = gzip ] || fail "a miss not gzipped"
    gunzip_to "$BODY_F" "$T/q.json" "quality miss"
    A -C "$W" --json quality
    same_doc "$T/q.json" "$OUT" "gunzipped quality"
    etag=$(header etag)
    CURL_EXTRA=(-H "Accept-Encoding: gzip" -H "If-None-Match: $etag")
    req GET /api/v1/quality "$TOK_vic"
    expect_code 304 "If-None-Match of the gzip form"
    [ "$(header etag)" = "$etag" ] || fail "304 ETag"
    CURL_EXTRA=(-H "If-None-Match: $etag")
    req GET /api/v1/quality "$TOK_vic"
    expect_code 200 "the gzip ETag asked for the plain form"
    [ -z "$(header content-encoding)" ] || fail "plain form gzipped"
    cmp -s "$BODY_F" "$T/q.json" || fail "plain and gunzipped quality differ"
    # Under 1 KB, an answer goes as it is (the experiments of aipm.yaml).
    CURL_EXTRA=(-H "Accept-Encoding: gzip")
    req GET /api/v1/experiments "$TOK_vic"
    expect_code 200 "experiments"
    [ "$(stat -c %s "$BODY_F")" -lt 1024 ] || fail "the experiments list is not short"
    [ -z "$(header content-encoding)" ] || fail "a short answer gzipped"
    # Short answers go as they are: an error document, a small list.
    CURL_EXTRA=(-H "Accept-Encoding: gzip")
    req GET /api/v1/nowhere "$TOK_vic"
    CURL_EXTRA=()
    expect_error 404 not_found "an unknown route asked with gzip"
    [ -z "$(header content-encoding)" ] || fail "a JSON error gzipped"
    # A write's answer (never cached) is gzipped for a client that asks.
    CURL_EXTRA=(-H "Accept-Encoding: gzip")
    req POST /api/v1/roadmap "$TOK_ana" '{"draws": 500}'
    CURL_EXTRA=()
    expect_code 201 "POST roadmap with gzip"
    [ "$(header content-encoding)" = gzip ] || fail "a write's long answer not gzipped"
    gunzip_to "$BODY_F" "$T/post.json" "POST roadmap"
    pycheck "$T/post.json" 'want(isinstance(d.get("items"), list) and d["items"], "no items in the POST answer")'
    [ -z "$(header etag)" ] || fail "an uncached write carries an ETag"
    # The UI's files: Chart.js gzipped at start, the same bytes after gunzip.
    req GET /chart.min.js ""
    expect_code 200 "chart.min.js"
    cp "$BODY_F" "$T/chart.js"
    CURL_EXTRA=(-H "Accept-Encoding: gzip")
    req GET /chart.min.js ""
    expect_code 200 "chart.min.js gzipped"
    [ "$(header content-encoding)" = gzip ] || fail "chart.min.js not gzipped"
    gunzip_to "$BODY_F" "$T/chart.unz" "chart.min.js"
    cmp -s "$T/chart.unz" "$T/chart.js" || fail "gunzipped chart.min.js differs"
    etag=$(header etag)
    case $etag in *+gzip\") ;; *) fail "chart.min.js gzip ETag $etag" ;; esac
    CURL_EXTRA=(-H "Accept-Encoding: gzip" -H "If-None-Match: $etag")
    req GET /chart.min.js ""
    CURL_EXTRA=()
    expect_code 304 "chart.min.js revalidated"
    security_headers "chart.min.js 304"
}

# server_field EXPR: a figure of GET /api/v1/server (EXPR over its
# document d, in Python), as the viewer.
server_field() {
    req GET /api/v1/server "$TOK_vic"
    [ "$CODE" = 200 ] || fail "GET /api/v1/server: HTTP $CODE"
    "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$BODY_F" "$1"
}

# wait_running WHAT: until GET /api/v1/server shows one job running (10 s).
wait_running() {
    local i running
    for i in $(seq 1 200); do
        running=$(server_field 'd["analysis"]["running"]')
        [ "$running" = 1 ] && return 0
        sleep 0.05
    done
    fail "$1 never showed as running"
}

# An analysis runs on the analysis threads, not on the worker that read
# its request (libmicrohttpd's suspend and resume). With one worker and
# one analysis thread and a simulation of 4M draws running (seconds), the
# worker still answers a cache hit, a page of the dashboard and
# GET /api/v1/server; a second analysis waits in the queue, and both
# finish with the answers the CLI gives. A SIGTERM while a job runs stops
# the server cleanly (libmicrohttpd may not stop with a connection
# suspended).
case_serve_analysis_threads() {
    serve_ws sat
    start_server sat --workers 1
    local i slow quality queued
    req GET /api/v1/kpis "$TOK_vic"
    expect_code 200 "warm the KPIs"
    [ "$(server_field 'd["analysis"]["threads"], d["workers"]')" = "(1, 1)" ] ||
        fail "threads: $(head -c 300 "$BODY_F")"
    A -C "$W" --json prioritize --no-record
    "$PY" - "$OUT" "$T/slow.json" <<'PYEOF' || fail "writing the scenario"
import json, sys
item = json.load(open(sys.argv[1]))["items"][0]["id"]
sc = "objective: {kpi: value, horizon_days: 90}\nscenarios:\n  - name: none\n  - name: one\n    build: [%s]\n" % item
json.dump({"scenario": sc, "draws": 4000000, "seed": 1, "name": "slow.yaml"}, open(sys.argv[2], "w"))
PYEOF
    curl -s -o "$T/slow.out" -w '%{http_code}' -H "Authorization: Bearer $TOK_ana" \
        -H 'Content-Type: application/json' --data-binary "@$T/slow.json" \
        "$BASE/api/v1/simulations" >"$T/slow.code" 2>/dev/null &
    slow=$!
    wait_running "the simulation"
    # while it runs, the worker answers
    req GET /api/v1/kpis "$TOK_vic"
    expect_code 200 "a cache hit while a simulation runs"
    grep -qi '^x-aipm-cache: hit' "$HDR_F" || fail "the KPIs were not a hit"
    req GET /index.html ""
    expect_code 200 "the overview page while a simulation runs"
    kill -0 "$slow" 2>/dev/null || fail "the simulation ended before the worker's answers (too short to show anything)"
    # a second analysis queues behind the first
    curl -s -o "$T/quality.out" -w '%{http_code}' -H "Authorization: Bearer $TOK_vic" \
        "$BASE/api/v1/quality" >"$T/quality.code" 2>/dev/null &
    quality=$!
    for i in $(seq 1 100); do
        queued=$(server_field 'd["analysis"]["queued"]')
        [ "$queued" = 1 ] && break
        sleep 0.02
    done
    [ "$queued" = 1 ] || fail "the second analysis was not queued (queued $queued)"
    kill -0 "$slow" 2>/dev/null || fail "the simulation ended before the queue was seen"
    wait "$slow"
    wait "$quality"
    [ "$(cat "$T/slow.code")" = 201 ] || fail "the simulation: HTTP $(cat "$T/slow.code")"
    [ "$(cat "$T/quality.code")" = 200 ] || fail "the queued quality: HTTP $(cat "$T/quality.code")"
    pycheck "$T/slow.out" 'want(len(d.get("scenarios", [])) == 2 and d.get("draws") == 4000000, "the simulation document: %r" % list(d)[:8])'
    A -C "$W" --json quality
    same_doc "$T/quality.out" "$OUT" "the queued quality"
    [ "$(server_field 'd["analysis"]["queued"], d["analysis"]["running"], d["analysis"]["done"] >= 2')" = "(0, 0, True)" ] ||
        fail "after both: $(head -c 300 "$BODY_F")"
    # SIGTERM while a job runs: the job ends, then the server
    curl -s -o /dev/null -H "Authorization: Bearer $TOK_ana" -H 'Content-Type: application/json' \
        --data-binary "@$T/slow.json" "$BASE/api/v1/simulations" 2>/dev/null &
    slow=$!
    wait_running "the second simulation"
    kill -TERM "$SPID"
    for i in $(seq 1 600); do
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$SPID" 2>/dev/null && fail "the server did not stop in 60 s with a job running"
    wait "$SPID"
    i=$?
    [ "$i" = 0 ] || fail "the server exited $i on SIGTERM: $(head -c 300 "$T/serve.sat.err")"
    trap - EXIT
    wait "$slow" 2>/dev/null
    grep -qi 'panic\|suspended' "$T/serve.sat.err" && fail "stopping: $(head -c 300 "$T/serve.sat.err")"
    true
}

# POSIX locks belong to the process: a server whose second worker opened
# the store with a plain open and close of the file dropped the first
# connection's locks, so a CLI writer ending meanwhile removed the -wal
# that the server went on writing to - its approvals never reached anyone.
# With two workers both connected, a CLI write, then an approval through
# the API: the CLI must see it, and the server hold no deleted file.
case_serve_writes_survive_cli_writer() {
    sqlite_only "SQLite's file locks"
    serve_ws sw
    A -C "$W" prioritize --draws 1000
    expect_rc 0 "a proposed ranking"
    start_server sw --sign-for apo --rate 1000
    local p id
    for p in decisions audit models quality lineage users policies batches experiments monitoring; do
        req GET "/api/v1/$p" "$TOK_vic"
        expect_code 200 "GET /api/v1/$p"
    done
    A -C "$W" tokens create --as vic --by ada --name second
    expect_rc 0 "a CLI writer"
    A -C "$W" --json decisions list --status proposed
    id=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["decisions"][-1]["id"])' "$OUT")
    req POST "/api/v1/decisions/$id/approve" "$TOK_apo" '{"reason": "after a CLI write"}'
    expect_code 201 "approve through the API"
    A -C "$W" --json decisions show "$id"
    pycheck "$OUT" 'want(any(a["user"] == "apo" for a in d["acts"]), "the CLI does not see the API approval: %s, acts %r" % (d["status"], d["acts"]))'
    ls -l "/proc/$SPID/fd" 2>/dev/null | grep -q "aipm.db.*(deleted)" &&
        fail "the server writes to a deleted file: $(ls -l /proc/$SPID/fd | grep deleted | head -2)"
    A -C "$W" audit verify
    expect_rc 0 "audit verify"
}
