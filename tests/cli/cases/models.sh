# tests/cli/cases/models.sh - the model registry (issue 16): train with a
# time split, versions with their parameters' digest and the batches they
# read, promotion refused without an approval and by a metric floor or a
# PII feature, accepted with an approval, the production version used by
# prioritize and recorded, rollback in one step, the log intact. The
# references: the store's own rows read with SQL, SHA-256 by hashlib, and
# the holdout metrics recomputed with numpy and scipy from the backtest of
# the same cutoff.

# The Debian python3, which has numpy and scipy (PY may be another).
SYSPY=/usr/bin/python3

# model_ws W: a small demo workspace at W with alice (admin) and carol
# (approver), keys in $AIPM_KEYS.
model_ws() {
    local W=$1
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 3 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    A -C "$W" users add alice --role admin
    expect_rc 0 "users add alice"
    A -C "$W" keys generate --as alice
    expect_rc 0 "alice's key"
    A -C "$W" users add carol --role approver --by alice
    expect_rc 0 "users add carol"
    A -C "$W" keys generate --as carol --by alice
    expect_rc 0 "carol's key"
}

# add_policies W TEXT: TEXT (YAML lines indented under policies:) first in
# W's policies: section.
add_policies() {
    "$PY" - "$1/aipm.yaml" "$2" <<'PYEOF' || fail "editing aipm.yaml"
import sys
p, more = sys.argv[1], sys.argv[2]
text = open(p).read()
assert "\npolicies:\n" in text
text = text.replace("\npolicies:\n", "\npolicies:\n" + more + "\n", 1)
open(p, "w").write(text)
PYEOF
}

# approve_promotion W: carol approves the proposed promotion record.
approve_promotion() {
    local id
    id=$(sql "$1/aipm.db" "select id from decisions where kind = 'model' and status = 'proposed'")
    [ -n "$id" ] || fail "no proposed promotion record"
    A -C "$1" decisions approve "$id" --as carol --reason "holdout checked"
    expect_rc 0 "approve the promotion"
}

case_model_train_show_list() {
    local W=$T/mtrain cut
    export AIPM_KEYS=$T/keys
    model_ws "$W"
    A -C "$W" model list
    expect_rc 0 "model list, empty"
    grep -q "no model trained yet" "$OUT" || fail "empty list: $(cat "$OUT")"
    A -C "$W" --json model train value
    expect_rc 0 "model train value"
    cp "$OUT" "$T/card.json"
    # The version row: its parameters hash to the digest the card names
    # (hashlib), and the card names exactly the accepted batches (SQL).
    sql "$W/aipm.db" "select artifact from model_versions where name = 'value' and version = 1" >"$T/artifact.json"
    sql "$W/aipm.db" "select dataset || ':' || id from batches where status = 'accepted' order by id" >"$T/accepted.txt"
    pycheck "$T/card.json" '
import hashlib
art = open(args[0], "rb").read().rstrip(b"\n")
want(d["name"] == "value" and d["version"] == 1, "name/version %r" % [d["name"], d["version"]])
want(hashlib.sha256(art).hexdigest() == d["artifact_sha256"], "artifact digest")
acc = {}
for line in open(args[1]).read().split():
    ds, i = line.split(":")
    acc.setdefault(ds, []).append(int(i))
for ds in ("backlog", "feedback", "events", "signals"):
    got = sorted(b["id"] for b in d["batches"][ds + "_batches"])
    want(got == sorted(acc.get(ds, [])), "%s batches %r, store %r" % (ds, got, acc.get(ds)))
m = d["metrics"]
want(m["n"] >= 5 and all(k in m for k in ("mae", "rmse", "spearman")), "metrics %r" % m)
want(d["data"]["train_rows"] >= 10 and d["data"]["holdout_rows"] == m["n"], "data %r" % d["data"])
want(len(d["features"]) >= 4 and all(f["definition"] for f in d["features"]), "features")
want(d["code_version"] and d["seed"] == 1 and d["trained_by"], "provenance")
want(len(d["limits"]) >= 1 and d["predicts"], "card text")' "$T/artifact.json" "$T/accepted.txt"
    # The holdout metrics, recomputed from the backtest at the same cutoff
    # (its items: predicted and realized value) with numpy and scipy.
    cut=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["cutoff"])' "$T/card.json")
    A -C "$W" --json prioritize --backtest --cutoff "$cut" --no-record
    expect_rc 0 "prioritize --backtest --cutoff $cut"
    cp "$OUT" "$T/bt.json"
    "$SYSPY" - "$T/card.json" "$T/bt.json" <<'PYEOF' || fail "holdout metrics differ from numpy/scipy on the backtest rows"
import json, sys
import numpy as np
from scipy.stats import spearmanr
card, bt = (json.load(open(p)) for p in sys.argv[1:3])
rows = bt["backtest"]["items"]
p = np.array([r["predicted"] for r in rows]); y = np.array([r["realized"] for r in rows])
m = card["metrics"]
assert len(rows) == m["n"], (len(rows), m["n"])
assert abs(np.mean(np.abs(p - y)) - m["mae"]) <= 1e-9 * max(1, m["mae"]), (np.mean(np.abs(p - y)), m["mae"])
assert abs(np.sqrt(np.mean((p - y) ** 2)) - m["rmse"]) <= 1e-9 * max(1, m["rmse"])
assert abs(spearmanr(p, y).correlation - m["spearman"]) <= 1e-9
PYEOF
    A -C "$W" model show value
    expect_rc 0 "model show value"
    grep -q "^value@1" "$OUT" && grep -q "holdout metrics" "$OUT" && grep -q "known limits" "$OUT" ||
        fail "card: $(head -c 300 "$OUT")"
    A -C "$W" --json model list
    expect_rc 0 "model list --json"
    pycheck "$OUT" 'want([(m["name"], [v["version"] for v in m["versions"]]) for m in d["models"]] == [("value", [1])], "list %r" % d)'
    A -C "$W" model train valu
    expect_rc 1 "an unknown model"
    expect_one_line_stderr "unknown model"
    grep -q "value" "$ERR" || fail "names the models: $(errtext)"
    A -C "$W" model show value@7
    expect_rc 1 "no such version"
    expect_one_line_stderr "no such version"
    A -C "$W" model show value@production
    expect_rc 1 "no production alias yet"
    A -C "$W" model train value --cutoff 2000-01-01
    expect_rc 1 "a cutoff before anything shipped"
    expect_one_line_stderr "too early a cutoff"
    A -C "$W" model train value --horizon 3
    expect_rc 1 "--horizon is the adoption model's"
}

case_model_promote_and_rollback() {
    local W=$T/mprom id
    export AIPM_KEYS=$T/keys
    model_ws "$W"
    A -C "$W" model train value
    expect_rc 0 "train value@1"
    # Refused without an approval: exit 3 naming the rule, a decision
    # record of kind model to approve, production untouched.
    A -C "$W" model promote value 1
    expect_rc 3 "promote without an approval"
    expect_one_line_stderr "refused promotion"
    grep -q "policy approvals" "$ERR" || fail "names the rule: $(errtext)"
    [ "$(sql "$W/aipm.db" "select count(*) from model_aliases")" = 0 ] || fail "production moved without an approval"
    [ "$(sql "$W/aipm.db" "select count(*) from decisions where kind = 'model' and decision = 'promote value@1 to production'")" = 1 ] ||
        fail "no promotion record"
    A -C "$W" model promote value 1
    expect_rc 3 "still waiting"
    [ "$(sql "$W/aipm.db" "select count(*) from decisions where kind = 'model'")" = 1 ] || fail "a second record for the same promotion"
    approve_promotion "$W"
    A -C "$W" --json model promote value 1 --reason "first production version"
    expect_rc 0 "promote with the approval"
    pycheck "$OUT" 'want(d["moved"] and d["from"] is None and [c["status"] for c in d["checks"]] == ["ok"] * len(d["checks"]), "promote %r" % d)'
    [ "$(sql "$W/aipm.db" "select version from model_aliases where name = 'value' and alias = 'production'")" = 1 ] ||
        fail "production is not value@1"
    # Analyses use production and record it.
    A -C "$W" --json prioritize
    expect_rc 0 "prioritize with value@1 in production"
    pycheck "$OUT" 'want(d["model"]["registry"]["version"] == 1, "model %r" % d["model"])'
    [ "$(sql "$W/aipm.db" "select params from decisions where kind = 'prioritize' order by time_ms desc, $RID desc limit 1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["model_version"])')" = 1 ] ||
        fail "the record does not name value@1"
    # A floor value@2 breaks: exit 3 naming it, no record to approve.
    A -C "$W" model train value --seed 2
    expect_rc 0 "train value@2"
    add_policies "$W" '  models:
    promote:
      - {model: value, min: {spearman: 0.999}, max: {mae: 1000000}}'
    A -C "$W" model promote value 2
    expect_rc 3 "promote under a floor"
    grep -q "models.promote\[value\].min.spearman" "$ERR" || fail "names the floor: $(errtext)"
    [ "$(sql "$W/aipm.db" "select count(*) from decisions where kind = 'model'")" = 1 ] || fail "a record for a refused promotion"
    # A PII feature: refused whatever the metrics.
    "$PY" - "$W/aipm.yaml" <<'PYEOF' || fail "editing aipm.yaml"
import sys
p = sys.argv[1]
t = open(p).read().replace("min: {spearman: 0.999}, ", "")
t = t.replace("\npolicies:\n", "\npolicies:\n  pii: [feedback.text]\n", 1)
open(p, "w").write(t)
PYEOF
    A -C "$W" model promote value 2
    expect_rc 3 "promote a model reading PII"
    grep -q "policy pii" "$ERR" || fail "names pii: $(errtext)"
    "$PY" - "$W/aipm.yaml" <<'PYEOF' || fail "editing aipm.yaml"
import sys
p = sys.argv[1]
t = open(p).read().replace("  pii: [feedback.text]\n", "", 1)
open(p, "w").write(t)
PYEOF
    A -C "$W" model promote value 2
    expect_rc 3 "value@2 needs its own approval"
    approve_promotion "$W"
    A -C "$W" model promote value 2
    expect_rc 0 "promote value@2"
    # Other aliases move freely; a bad alias name is refused.
    A -C "$W" model promote value 1 --to candidate
    expect_rc 0 "candidate alias"
    A -C "$W" model promote value 1 --to "bad alias"
    expect_rc 1 "an alias with a space"
    # Rollback: production back to value@1 in one step; a second has
    # nowhere to go; --to a version never below it is refused.
    A -C "$W" --json model rollback value --reason "value@2 ranks oddly"
    expect_rc 0 "rollback"
    pycheck "$OUT" 'want(d["from"] == 2 and d["to"] == 1, "rollback %r" % d)'
    [ "$(sql "$W/aipm.db" "select version from model_aliases where name = 'value' and alias = 'production'")" = 1 ] ||
        fail "production is not back at value@1"
    A -C "$W" model rollback value
    expect_rc 1 "nothing below value@1"
    expect_one_line_stderr "second rollback"
    A -C "$W" model rollback value --to 2
    expect_rc 1 "rollback forward"
    # The alias log (SQL) and the card's copy of it.
    [ "$(sql "$W/aipm.db" "select group_concat(alias || ':' || from_version || '>' || to_version, ' ') from (select * from model_alias_moves order by seq) x")" = \
        "production:0>1 production:1>2 candidate:0>1 production:2>1" ] ||
        fail "alias log: $(sql "$W/aipm.db" "select * from model_alias_moves")"
    A -C "$W" --json model show value@production
    expect_rc 0 "show value@production"
    pycheck "$OUT" '
want(d["version"] == 1 and sorted(d["aliases"]) == ["candidate", "production"], "aliases %r" % d["aliases"])
log = d["alias_log"]
want([(x["alias"], x["from"], x["to"]) for x in log] == [("production", None, 1), ("production", 1, 2), ("candidate", None, 1), ("production", 2, 1)], "log %r" % log)
want(log[-1]["reason"] == "value@2 ranks oddly" and log[-1]["by"], "rollback entry %r" % log[-1])'
    # Every move and version is an audit entry; the log verifies.
    [ "$(sql "$W/aipm.db" "select count(*) from model_alias_moves m where exists (select 1 from audit a where a.seq = m.seq)")" = 4 ] ||
        fail "alias moves without their audit entries"
    A -C "$W" audit verify --data
    expect_rc 0 "audit verify --data"
}

case_model_bad_policies() {
    local W
    mkws mbad
    W=$WS
    add_policies "$W" '  models:
    promote:
      - {model: value, min: {auc: 0.6}}'
    A -C "$W" model list
    expect_rc 1 "a metric the value model does not report"
    expect_one_line_stderr "unknown metric"
    grep -q "spearman" "$ERR" || fail "lists the metrics: $(errtext)"
    mkws mbad2
    W=$WS
    add_policies "$W" '  models:
    promote:
      - {model: valu}'
    A -C "$W" model list
    expect_rc 1 "an unknown model"
    mkws mbad3
    W=$WS
    add_policies "$W" '  monitor: {max_ece: 0.1, featurs: []}'
    A -C "$W" model list
    expect_rc 1 "a misspelled monitor key"
    grep -q "features" "$ERR" || fail "did you mean: $(errtext)"
}

# Monitoring (issue 16): a backlog batch of 60 new ideas with a reach far
# above any seen drifts the value model's RICE features and its score;
# `aipm monitor` alerts (exit 4), the circuit breaker rolls production back
# to the previous version and marks the ranking made with the bad one
# stale, and the log still verifies. The drift statistic of the injected
# feature is recomputed with scipy's ks_2samp from the reference the
# version stored and the open items' reach read from the backlog files.
case_model_monitor_breaker() {
    local W=$T/mmon id
    export AIPM_KEYS=$T/keys
    model_ws "$W"
    for v in 1 2; do
        A -C "$W" model train value --seed $v
        expect_rc 0 "train value@$v"
        A -C "$W" model promote value $v
        expect_rc 3 "promote value@$v asks for an approval"
        approve_promotion "$W"
        A -C "$W" model promote value $v
        expect_rc 0 "promote value@$v"
    done
    A -C "$W" --json prioritize
    expect_rc 0 "prioritize with value@2"
    id=$(sql "$W/aipm.db" "select id from decisions where kind = 'prioritize' order by time_ms desc, $RID desc limit 1")
    A -C "$W" --json monitor --no-breaker --no-record
    [ "$RC" -eq 0 ] || [ "$RC" -eq 4 ] || fail "monitor: exit $RC; $(errtext)"
    pycheck "$OUT" '
names = {(c["check"], c.get("feature")) for c in d["checks"] if c.get("model") == "value"}
want(("dataset_drift", None) in names and ("score_drift", "score") in names, "checks %r" % sorted(names, key=str))
want({c["check"] for c in d["checks"] if c.get("dataset")} >= {"freshness", "quarantine"}, "data health")
want(all(c["status"] in ("ok", "warn", "alert") for c in d["checks"]), "statuses")
want(d["actions"] == [] and "seq" not in d, "--no-breaker --no-record acted or stored")'
    [ "$(sql "$W/aipm.db" "select count(*) from monitor_runs")" = 0 ] || fail "--no-record stored a run"
    # The injected drift: 60 ideas with reach 100000.
    "$PY" - "$T/drift-backlog.csv" <<'PYEOF' || fail "writing the backlog batch"
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,title,description,area,effort,status,created_at,shipped_at,feature_key,reach,impact,confidence\n")
    for i in range(60):
        f.write("BL-D%d,Huge idea %d,Everyone wants it,reporting,1.0,idea,2026-11-20,,,100000,3,1.0\n" % (i, i))
PYEOF
    A -C "$W" ingest backlog "$T/drift-backlog.csv"
    expect_rc 0 "ingest the drifted backlog"
    add_policies "$W" '  models:
    promote:
      - {model: value, on_alert: rollback}'
    A -C "$W" --json monitor
    expect_rc 4 "monitor after the drift"
    cp "$OUT" "$T/mon.json"
    sql "$W/aipm.db" "select artifact from model_versions where name = 'value' and version = 2" >"$T/artifact2.json"
    # The accepted backlog rows, the newest of each id last.
    sql "$W/aipm.db" "select id, status, coalesce(cast(reach as text), ''), coalesce(cast(impact as text), ''), coalesce(cast(confidence as text), '') from v_backlog where live = 1 order by $RID" >"$T/backlog-rows.txt"
    "$SYSPY" - "$T/mon.json" "$T/artifact2.json" "$T/backlog-rows.txt" <<'PYEOF' || fail "the drift statistic differs from scipy"
import json, math, sys
from scipy.stats import ks_2samp
rep, art = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ref = [v for f in art["reference"]["features"] if f["name"] == "log1p_rice_reach" for v in f["values"] if v is not None]
rows = {}
for line in open(sys.argv[3], encoding="utf-8", errors="replace").read().splitlines():
    i, status, reach, impact, conf = line.split("|")[:5]
    rows[i] = (status, reach, impact, conf)
cur = [math.log1p(max(float(r), 0)) for s, r, i, c in rows.values()
       if s in ("idea", "planned", "in_progress") and r and i and c]
c = [c for c in rep["checks"] if c["check"] == "drift" and c.get("feature") == "log1p_rice_reach"][0]
want_p = ks_2samp(ref, cur).pvalue
assert c["test"] == "ks" and c["drifted"] and c["n_current"] == len(cur), (c, len(cur))
assert abs(c["statistic"] - want_p) <= 1e-6 * max(want_p, 1e-300) + 1e-12, (c["statistic"], want_p)
PYEOF
    pycheck "$T/mon.json" '
want(d["status"] == "alert", "status %r" % d["status"])
a = d["actions"]
want(len(a) == 1 and a[0]["action"] == "rollback" and (a[0]["from"], a[0]["to"]) == (2, 1), "actions %r" % a)
want(args[0] in a[0]["stale_decisions"], "the ranking made with value@2 is not marked: %r" % a[0])' "$id"
    [ "$(sql "$W/aipm.db" "select version from model_aliases where name = 'value' and alias = 'production'")" = 1 ] ||
        fail "the breaker did not roll production back"
    [ "$(sql "$W/aipm.db" "select status from decisions where id = '$id'")" = stale ] || fail "the record is not stale"
    A -C "$W" model show value@production
    expect_rc 0 "show production"
    grep -q "circuit breaker" "$OUT" || fail "the alias log does not say why: $(head -c 400 "$OUT")"
    A -C "$W" audit verify --data
    expect_rc 0 "audit verify --data after the breaker"
    A -C "$W" --json monitor --history
    expect_rc 0 "monitor --history"
    pycheck "$OUT" 'want(len(d["runs"]) == 1 and d["runs"][0]["status"] == "alert" and d["runs"][0]["alerts"] >= 1 and d["runs"][0]["actions"][0]["action"] == "rollback", "history %r" % d)'
    # The history's checks carry each check's version, test and threshold
    # as the run's own report ($T/mon.json, that run's --json) gave them
    # (null where the report's check has none), check for check.
    pycheck "$OUT" '
import json
rep = json.load(open(args[0]))["checks"]
hist = d["runs"][0]["checks"]
want(len(hist) == len(rep), "history %d checks, the run %d" % (len(hist), len(rep)))
drift = 0
for h, r in zip(hist, rep):
    for k in ("check", "model", "feature", "dataset", "status", "statistic"):
        want(h.get(k) == r.get(k), "%s: history %r, the run %r" % (k, h.get(k), r.get(k)))
    for k in ("version", "test", "threshold"):
        want(k in h and h[k] == r.get(k), "%s/%s %s: history %r, the run %r" % (r["check"], r.get("feature"), k, h.get(k), r.get(k)))
    if r["check"] == "drift":
        drift += 1
        want(isinstance(h["threshold"], float) and h["test"] and h["version"] == 2, "drift check %r" % h)
want(drift >= 2, "%d drift checks" % drift)
c = [h for h in hist if h["check"] == "drift" and h["feature"] == "log1p_rice_reach"][0]
want(c["test"] == "ks" and c["statistic"] < c["threshold"], "the injected feature: %r" % c)' "$T/mon.json"
    A -C "$W" monitor --limit 3
    expect_rc 1 "--limit without --history"
}

# The adoption model: trained by plan on the last 28 days held out; its
# ECE is the decile table's (recomputed here), and `aipm monitor`, reading
# the same newest window with the production version's parameters, finds
# the same calibration the training measured.
case_model_adoption_monitor() {
    local W=$T/madopt
    export AIPM_KEYS=$T/keys
    model_ws "$W"
    A -C "$W" --json model train adoption --by plan
    expect_rc 0 "model train adoption"
    cp "$OUT" "$T/acard.json"
    pycheck "$T/acard.json" '
m = d["metrics"]
want(d["name"] == "adoption" and m["n"] > 100 and 0 < m["positives"] < m["n"], "metrics %r" % {k: m[k] for k in ("n", "positives")})
bins = m["calibration"]
want(len(bins) == 10 and sum(b["n"] for b in bins) == m["n"], "deciles")
ece = sum(b["n"] * abs(b["mean_p"] - b["mean_y"]) for b in bins if b["n"]) / m["n"]
want(abs(ece - m["ece"]) < 1e-12, "ECE %r, deciles give %r" % (m["ece"], ece))
want(all(b["lo"] <= b["hi"] for b in bins) and all(bins[i]["hi"] <= bins[i + 1]["lo"] for i in range(9)), "decile bounds")
want(0 <= m["brier"] <= 1 and 0 <= m["auc"] <= 1 and 0 <= m["coverage_80"] <= 1, "ranges")
want({s["segment"] for s in d["segments"]} <= {"plan=free", "plan=pro", "plan=enterprise", "plan=(none)", "plan=(other)"} and d["segments"], "segments %r" % d["segments"])
want(d["data"]["horizon"] == 28 and d["segments_by"] == "plan", "data %r" % d["data"])
names = {f["name"] for f in d["features"]}
want("graph_signal" in names, "features %r" % names)'
    # The interval coverage floor: a policy's own, then the default.
    add_policies "$W" '  models:
    promote:
      - {model: adoption, min: {coverage_80: 0.999}}'
    A -C "$W" model promote adoption 1
    expect_rc 3 "promote under the policy's coverage floor"
    grep -q "models.promote\[adoption\].min.coverage_80" "$ERR" || fail "names the floor: $(errtext)"
    "$PY" - "$W/aipm.yaml" <<'PYEOF' || fail "editing aipm.yaml"
import sys
p = sys.argv[1]
t = open(p).read().replace("      - {model: adoption, min: {coverage_80: 0.999}}\n", "      - {model: adoption}\n", 1)
open(p, "w").write(t)
PYEOF
    A -C "$W" --json model promote adoption 1
    expect_rc 3 "promote asks for an approval"
    pycheck "$OUT" '
import json
card = json.load(open(args[0]))
c = [c for c in d["checks"] if c["rule"] == "models.promote[adoption].min.coverage_80 (default)"]
want(len(c) == 1 and c[0]["status"] == ("ok" if card["metrics"]["coverage_80"] >= 0.7 else "fail"), "default floor %r" % c)
want(d["refused_by"] == "approvals", "refused by %r" % d.get("refused_by"))' "$T/acard.json"
    approve_promotion "$W"
    A -C "$W" model promote adoption 1
    expect_rc 0 "promote adoption@1"
    A -C "$W" --json monitor --no-breaker
    [ "$RC" -eq 0 ] || [ "$RC" -eq 4 ] || fail "monitor: exit $RC; $(errtext)"
    pycheck "$OUT" '
import json
card = json.load(open(args[0]))
cal = [c for c in d["checks"] if c["check"] == "calibration" and c["model"] == "adoption"]
want(len(cal) == 1 and cal[0]["version"] == 1, "calibration checks %r" % cal)
want(abs(cal[0]["statistic"] - card["metrics"]["ece"]) < 1e-12, "monitor ECE %r, training %r" % (cal[0]["statistic"], card["metrics"]["ece"]))
want(cal[0]["status"] == ("alert" if cal[0]["statistic"] > 0.1 else "ok"), "status %r" % cal[0]["status"])
drift = {c["feature"] for c in d["checks"] if c["check"] == "drift" and c["model"] == "adoption"}
want(drift == {"graph_signal", "active_share", "segment"}, "drift features %r" % drift)
want(d["seq"] >= 1, "the run is not audited")' "$T/acard.json"
    A -C "$W" audit verify
    expect_rc 0 "audit verify"
}
