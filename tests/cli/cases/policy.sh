# tests/cli/cases/policy.sh - policies as code (issue 14): the rules of
# aipm.yaml's policies.decisions (how many approvals, from which role,
# which records count without review) applied to people's signed acts,
# replayed by `audit verify`, and refused with exit 3 naming the rule.

# policy_ws W RULES: a small demo workspace at W with alice (admin), carol
# and dave (approvers), keys in $AIPM_KEYS, and RULES (YAML lines, each
# indented for the list) as policies.decisions.
policy_ws() {
    local W=$1 rules=$2 u
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 5 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    "$PY" - "$W/aipm.yaml" "$rules" <<'PYEOF' || fail "editing aipm.yaml"
import sys
p, rules = sys.argv[1], sys.argv[2]
text = open(p).read()
assert "\npolicies:\n" in text
text = text.replace("\npolicies:\n", "\npolicies:\n  decisions:\n" + rules + "\n", 1)
open(p, "w").write(text)
PYEOF
    A -C "$W" users add alice --role admin
    expect_rc 0 "users add alice"
    A -C "$W" keys generate --as alice
    expect_rc 0 "alice's key"
    for u in carol dave; do
        A -C "$W" users add $u --role approver --by alice
        expect_rc 0 "users add $u"
        A -C "$W" keys generate --as $u --by alice
        expect_rc 0 "$u's key"
    done
}

case_policy_approvals_and_roles() {
    local W=$T/pol rank ex
    export AIPM_KEYS=$T/keys
    policy_ws "$W" '    - {kind: prioritize, approvals: 2}
    - {kind: experiment, role: admin}'
    rank=$(sql "$W/aipm.db" "select id from decisions where kind = 'prioritize'")
    ex=$(sql "$W/aipm.db" "select id from decisions where kind = 'experiment' limit 1")
    # Two approvals from different people.
    A -C "$W" --json decisions approve "$rank" --as carol --reason "value holds"
    expect_rc 0 "the first of two approvals"
    pycheck "$OUT" 'want(d["status"] == "proposed" and d["approvals"] == 1 and d["approvals_needed"] == 2 and d["rule"] == "decisions[prioritize]", "%r" % d)'
    A -C "$W" decisions approve "$rank" --as carol --reason "again"
    expect_rc 3 "the same person approves twice"
    expect_one_line_stderr "a second approval by the same person"
    grep -q "policy decisions\[prioritize\]: carol already approved it; it needs 2 approvals" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" decisions approve "$rank" --as dave --reason "agreed"
    expect_rc 0 "the second approval"
    grep -q "approved by dave" "$OUT" || fail "stdout: $(cat "$OUT")"
    [ "$(sql "$W/aipm.db" "select status from decisions where id = '$rank'")" = approved ] || fail "not approved after two"
    # Experiments need an admin.
    A -C "$W" decisions approve "$ex" --as carol --reason "fine"
    expect_rc 3 "an approver where the rule needs an admin"
    grep -q "policy decisions\[experiment\]: only admins may approve this decision; carol is an approver" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" decisions approve "$ex" --as alice --reason "fine"
    expect_rc 0 "an admin approves"
    A -C "$W" --json audit verify
    expect_rc 0 "verify replays the rules"
    pycheck "$OUT" 'want(d["signatures"]["acts"] == 3 and d["signatures"]["intact"], "%r" % d["signatures"])'
    # The approvals' messages name the rule's count and role, signed.
    A -C "$W" --json audit log
    pycheck "$OUT" '
m = [json.loads(e["entry"]["detail"]["message"]) for e in d["entries"] if e["entry"]["action"] == "decision.approve"]
want([(x["user"], x["approvals_needed"], x["role"]) for x in m] == [("carol", 2, "approver"), ("dave", 2, "approver"), ("alice", 1, "admin")], "%r" % m)
want(all(len(x["policy_sha256"]) == 64 for x in m), "policy versions")'
    # A record made approved by SQL after one approval of two is named.
    sql "$W/aipm.db" "update decisions set status = 'proposed' where id = '$rank'" >/dev/null
    A -C "$W" audit verify
    expect_rc 3 "verify after a status edit"
    grep -q "status proposed in the store, approved by the log" "$ERR" || fail "stderr: $(errtext)"
}

# A rule may let records at or above a confidence count without review;
# the log says which rule approved them.
case_policy_auto_approve() {
    local W=$T/auto key
    export AIPM_KEYS=$T/keys
    policy_ws "$W" '    - {kind: experiment, auto_approve_confidence: 0.9}
    - {kind: "*", approvals: 1}'
    key=$(sql "$W/aipm.db" "select subject from decisions where kind = 'experiment' limit 1")
    A -C "$W" experiment analyze "$key"
    expect_rc 0 "experiment analyze"
    [ "$(sql "$W/aipm.db" "select status || ' ' || confidence from decisions where kind = 'experiment' order by $RID desc limit 1")" = "approved 0.95" ] ||
        fail "the new record: $(sql "$W/aipm.db" "select status, confidence from decisions where kind = 'experiment' order by $RID desc limit 1")"
    A -C "$W" --json audit log
    pycheck "$OUT" '
e = [x["entry"]["detail"] for x in d["entries"] if x["entry"]["action"] == "decision"][-1]
want(e["auto_approved"] == {"rule": "experiment", "auto_approve_confidence": 0.9, "confidence": 0.95}, "%r" % e.get("auto_approved"))'
    A -C "$W" audit verify
    expect_rc 0 "verify accepts the rule's approval"
}

# Rules are checked when aipm.yaml is loaded: a mistake is an error naming
# its line, never a different decision.
case_policy_bad_rules() {
    local r
    mkws pbad
    for r in '    - {kind: prioritize, approvals: 0}' '    - {kind: prioritise}' \
        '    - {kind: prioritize, aprovals: 2}' '    - {kind: prioritize, role: owner}' \
        '    - {kind: forecast, auto_approve_confidence: 1.5}' '    - {approvals: 2}' \
        '    - {kind: prioritize, auto_approve_max_risk: 0.5}' \
        '    - {kind: forecast}
    - {kind: forecast}'; do
        cp "$WS/aipm.yaml" "$T/pbad.yaml"
        "$PY" -c 'import sys
p, r = sys.argv[1:3]
t = open(p).read()
assert "\npolicies:\n" in t
open(p, "w").write(t.replace("\npolicies:\n", "\npolicies:\n  decisions:\n" + r + "\n", 1))' "$WS/aipm.yaml" "$r" || fail "editing aipm.yaml"
        A -C "$WS" decisions list
        expect_rc 1 "a bad rule: $r"
        expect_one_line_stderr "a bad rule: $r"
        grep -q "aipm.yaml:[0-9]" "$ERR" || fail "no line for '$r': $(errtext)"
        grep -q "duplicate" "$ERR" && fail "a duplicate key, not the rule: $(errtext)"
        cp "$T/pbad.yaml" "$WS/aipm.yaml"
    done
}

# The policy version over time: the workspace's first, an edit found by
# the next command that writes, a version set with a reason; `policy
# check` says what each rule holds, and a rule not satisfied exits 3.
case_policy_check_set_log() {
    local W=$T/pcs rank
    export AIPM_KEYS=$T/keys
    policy_ws "$W" '    - {kind: prioritize, approvals: 2}'
    rank=$(sql "$W/aipm.db" "select id from decisions where kind = 'prioritize'")
    A -C "$W" --json policy log
    expect_rc 0 "policy log"
    pycheck "$OUT" '
v = d["versions"]
want([x["reason"] for x in v] == ["aipm.yaml changed (found by the next command)", "the workspace'"'"'s first policies"], "versions %r" % v)
want(v[1]["seq"] == 1, "the first version is the init entry: %r" % v[1])
# each version carries what it held: its canonical form (Python json,
# sorted keys, no spaces) hashes to the version named
import hashlib
for x in v:
    c = json.dumps(x["policies"], sort_keys=True, separators=(",", ":")).encode()
    want(hashlib.sha256(c).hexdigest() == x["policy_sha256"], "version %d: its policies do not hash to %s" % (x["seq"], x["policy_sha256"]))
want([r.get("kind") for r in v[0]["policies"]["decisions"]] == ["prioritize"] and v[0]["policies"]["decisions"][0]["approvals"] == 2,
     "the newest version held %r" % v[0]["policies"]["decisions"])
want(v[1]["policies"]["decisions"] == [], "the first version held %r" % v[1]["policies"]["decisions"])'
    # The version is the SHA-256 of the policies in canonical form,
    # recomputed with Python's json from aipm.yaml's values and defaults.
    A -C "$W" --json policy check
    expect_rc 0 "policy check"
    pycheck "$OUT" '
import hashlib
pol = {"data": {"max_quarantine_samples": 10000.0, "max_quarantine_share": 0.05, "max_staleness_hours": 48.0,
                "on_schema_change": "warn", "volume_high": 2.0, "volume_low": 0.5},
       "decisions": [{"kind": "prioritize", "approvals": 2, "role": "approver", "auto_approve_confidence": None, "auto_approve_max_risk": None}],
       "pii": [], "fairness": [], "models": {"min_trained": 10.0, "max_backtest_wape": None}}
sha = hashlib.sha256(json.dumps(pol, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
want(d["policy_sha256"] == sha and d["recorded"] and d["versions"] == 2, "version %r, want %s" % ({k: d[k] for k in ("policy_sha256", "recorded", "versions")}, sha))
r = {x["rule"]: x for x in d["rules"]}
want(sorted(r) == ["data", "decisions (default)", "decisions[prioritize]", "models", "pii"], "rules %r" % sorted(r))
h = r["decisions[prioritize]"]["holds"]
want([(x["decision"], x["approvals"], x["approvals_needed"]) for x in h] == [(args[0], 0, 2)], "holds %r" % h)
want(len(r["decisions (default)"]["holds"]) == 4 and all(x["kind"] == "experiment" for x in r["decisions (default)"]["holds"]), "default holds %r" % r["decisions (default)"]["holds"])' "$rank"
    A -C "$W" decisions approve "$rank" --as carol --reason "ok"
    expect_rc 0 "one approval of two"
    A -C "$W" --json policy check
    pycheck "$OUT" 'r = {x["rule"]: x for x in d["rules"]}; want(r["decisions[prioritize]"]["holds"][0]["approvals"] == 1, "%r" % r)'
    A -C "$W" policy set
    expect_rc 1 "policy set without a reason"
    AIPM_ACTOR=lead A -C "$W" policy set --reason "rankings need two approvals"
    expect_rc 0 "policy set"
    A -C "$W" --json audit log
    pycheck "$OUT" '
p = [e["entry"] for e in d["entries"] if e["entry"]["action"] == "policy"]
want(len(p) == 2 and p[-1]["actor"] == "lead" and p[-1]["detail"]["reason"] == "rankings need two approvals" and not p[-1]["detail"]["changed"], "policy entries %r" % p)
want(p[0]["detail"]["changed"] and p[0]["detail"]["policies"]["decisions"][0]["approvals"] == 2, "the edit %r" % p[0]["detail"])'
    # Personal data marked: the ranking may not read it.
    "$PY" -c 'import sys
p = sys.argv[1]
t = open(p).read()
open(p, "w").write(t.replace("\npolicies:\n", "\npolicies:\n  pii: [email, text]\n", 1))' "$W/aipm.yaml"
    A -C "$W" policy check
    expect_rc 3 "policy check with a PII feature"
    grep -q "policy pii: the prioritize model's features read feedback.text" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" prioritize
    expect_rc 3 "prioritize with a PII feature"
    expect_one_line_stderr "prioritize refused"
    grep -q "policy pii" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" audit verify
    expect_rc 0 "verify after the policy changes"
}

# A fairness rule: an experiment's lift on a metric may not differ between
# segments of a trait by more than max_gap for the record to count without
# review. The gap is recomputed here from the breakdown `experiment
# analyze --by` prints (segments under min_units, here 20, units in an arm
# left out), and a rule it breaks keeps the record proposed where the
# confidence rule would have approved it.
case_policy_fairness() {
    local W=$T/fair key
    export AIPM_KEYS=$T/keys
    policy_ws "$W" '    - {kind: experiment, auto_approve_confidence: 0.9}'
    key=$(sql "$W/aipm.db" "select subject from decisions where kind = 'experiment' limit 1")
    A -C "$W" --json experiment analyze "$key" --by plan --no-record
    expect_rc 0 "the breakdown by plan"
    cp "$OUT" "$T/by.json"
    metric=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["metrics"][0]["metric"])' "$T/by.json")
    gap=$("$PY" - "$T/by.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
m = d["metrics"][0]["by"]["levels"]
best = None
for k in range(1, len(m[0]["variations"])):
    lifts = [lv["variations"][k]["lift_rel"] for lv in m
             if lv["variations"][k]["lift_rel"] is not None
             and lv["variations"][0]["units"] >= 20 and lv["variations"][k]["units"] >= 20]
    if len(lifts) >= 2:
        g = max(lifts) - min(lifts)
        best = g if best is None else max(best, g)
print(best)
PYEOF
)
    [ "$gap" != None ] || fail "no two segments with 20 units in the demo's breakdown"
    # A bound below the gap holds the record; one above lets it through.
    "$PY" -c 'import sys
p, m, b = sys.argv[1:4]
t = open(p).read()
open(p, "w").write(t.replace("\npolicies:\n", "\npolicies:\n  fairness:\n    - {metric: %s, by: plan, min_units: 20, max_gap: %s}\n" % (m, b), 1))' "$W/aipm.yaml" "$metric" "$("$PY" -c "print($gap * 0.5)")"
    A -C "$W" --json experiment analyze "$key"
    expect_rc 0 "analyze under a fairness rule it breaks"
    pycheck "$OUT" '
f = d["fairness"][0]
want(f["metric"] == args[0] and f["by"] == "plan" and abs(f["gap"] - float(args[1])) < 1e-12 and f["held"], "fairness %r, want gap %s" % (f, args[1]))' "$metric" "$gap"
    [ "$(sql "$W/aipm.db" "select status from decisions where kind = 'experiment' order by $RID desc limit 1")" = proposed ] ||
        fail "a record the fairness rule holds was approved by the confidence rule"
    A -C "$W" --json policy check
    pycheck "$OUT" '
r = [x for x in d["rules"] if x["rule"].startswith("fairness[")]
want(len(r) == 1 and len(r[0]["holds"]) == 1, "fairness rule %r" % r)'
    sed -i "s/max_gap: [0-9.e-]*}/max_gap: $("$PY" -c "print($gap * 2)")}/" "$W/aipm.yaml"
    A -C "$W" experiment analyze "$key"
    expect_rc 0 "analyze under a fairness rule it keeps"
    [ "$(sql "$W/aipm.db" "select status from decisions where kind = 'experiment' order by $RID desc limit 1")" = approved ] ||
        fail "a record the fairness rule lets through was not approved by the confidence rule"
    A -C "$W" audit verify
    expect_rc 0 "verify"
    # A rule on a metric that does not exist is an error naming its line.
    sed -i "s/metric: $metric, by: plan/metric: nosuch, by: plan/" "$W/aipm.yaml"
    A -C "$W" policy check
    expect_rc 1 "a fairness rule on an unknown metric"
    grep -q "aipm.yaml:[0-9]" "$ERR" || fail "stderr: $(errtext)"
}

# Risk and models: a record above auto_approve_max_risk waits for people
# (the ranking's risk, recomputed here from its output, is the share of
# the top item's expected value its downside takes); policies.models sets
# when the ranking model is used over RICE and which forecasts wait.
case_policy_risk_and_models() {
    local W=$T/risk risk
    export AIPM_KEYS=$T/keys
    policy_ws "$W" '    - {kind: "*", approvals: 1}'
    A -C "$W" --json prioritize --no-record
    expect_rc 0 "a ranking, not recorded"
    risk=$("$PY" -c 'import json, sys
it = json.load(open(sys.argv[1]))["items"][0]
print(min(1, max(0, (it["expected_value"] - it["risk_adjusted_value"]) / it["expected_value"])))' "$OUT")
    for case in "0.9 proposed" "1.1 approved"; do
        set -- $case
        "$PY" -c 'import sys, re
p, b = sys.argv[1:3]
t = open(p).read()
t = re.sub(r"\n  decisions:\n(    - .*\n)+", "\n  decisions:\n    - {kind: prioritize, auto_approve_confidence: 0.0, auto_approve_max_risk: %s}\n" % b, t, count=1)
open(p, "w").write(t)' "$W/aipm.yaml" "$("$PY" -c "print(min(1, $risk * $1))")"
        A -C "$W" prioritize
        expect_rc 0 "prioritize with the risk bound at $1 x the risk"
        [ "$(sql "$W/aipm.db" "select status from decisions where kind = 'prioritize' order by $RID desc limit 1")" = "$2" ] ||
            fail "bound $1 x risk: the record is $(sql "$W/aipm.db" "select status from decisions where kind = 'prioritize' order by $RID desc limit 1"), expected $2"
    done
    A -C "$W" --json audit log
    pycheck "$OUT" '
e = [x["entry"]["detail"] for x in d["entries"] if x["entry"]["action"] == "decision" and x["entry"]["detail"]["kind"] == "prioritize"][-1]
want(abs(e["risk"] - float(args[0])) < 1e-9 and e["auto_approved"]["rule"] == "prioritize", "%r" % e)' "$risk"
    # min_trained: above the shipped items the model can learn from, RICE.
    "$PY" -c 'import sys
p = sys.argv[1]
t = open(p).read()
open(p, "w").write(t.replace("\npolicies:\n", "\npolicies:\n  models: {min_trained: 1000, max_backtest_wape: 0.01}\n", 1))' "$W/aipm.yaml"
    A -C "$W" --json prioritize --no-record
    expect_rc 0 "prioritize with min_trained 1000"
    pycheck "$OUT" 'want(d["model"]["kind"] == "rice" and "fewer than 1000 shipped items" in d["model"]["note"], "%r" % d["model"])'
    # A forecast whose model's backtest WAPE is above 1% waits.
    A -C "$W" forecast adoption export
    expect_rc 0 "an adoption forecast"
    A -C "$W" --json policy check
    expect_rc 0 "policy check"
    pycheck "$OUT" '
r = [x for x in d["rules"] if x["rule"] == "models"][0]
want(r["min_trained"] == 1000 and r["max_backtest_wape"] == 0.01 and len(r["holds"]) == 1, "%r" % r)'
    A -C "$W" --json audit log
    pycheck "$OUT" '
e = [x["entry"]["detail"] for x in d["entries"] if x["entry"]["action"] == "decision"][-1]
want(e["kind"] == "forecast" and e["held"] == ["models.max_backtest_wape"], "%r" % e)'
    A -C "$W" audit verify
    expect_rc 0 "verify"
    # Bounds that make no sense are errors naming their line.
    sed -i 's/min_trained: 1000/min_trained: 2/' "$W/aipm.yaml"
    A -C "$W" policy check
    expect_rc 1 "min_trained below 3"
    grep -q "aipm.yaml:[0-9]" "$ERR" || fail "stderr: $(errtext)"
}
