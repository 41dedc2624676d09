# tests/cli/cases/simulate.sh - `aipm simulate FILE` (issue 17) on the demo
# product. The references: prioritize's own draws of the same value model
# for an item's median, hand arithmetic for assumptions and ship days,
# numpy's least squares on `aipm kpi`'s weekly values for the KPI's level
# and trend, and the experiment's Bayesian analysis for the chance that
# shipping the planted winner beats not shipping it (a KPI times 1 + lift
# beats the KPI exactly when the lift is positive, so P(A beats B) must be
# the analysis's chance to win, up to the Monte Carlo's error).

# sim_ws W: the tests' small demo workspace, with a KPI on the metric the
# planted winning experiment (onboarding_checklist) moves.
sim_ws() {
    local W=$1
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 3 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    "$PY" - "$W/aipm.yaml" <<'PYEOF' || fail "editing aipm.yaml"
import sys
p = sys.argv[1]
text = open(p).read()
assert "\nkpis:\n" in text
text = text.replace("\nkpis:\n", "\nkpis:\n  - {key: engagement, metric: dashboards_viewed, direction: up}\n", 1)
with open(p, "w") as fh:
    fh.write(text)
PYEOF
}

# hist_check FILE: the histograms of a simulate document. The edges are
# 41, ascending, common to all scenarios; each scenario's counts, below
# and above add up to its draws; and the counts agree with the
# scenario's own P10, P50 and P90 (type 7 quantiles, computed apart from
# the histogram): the draws in bins wholly below P_q are at most a share
# q, and those up to and including P_q's bin at least q. Type 7
# interpolates between two order statistics, so either side may be off
# by one draw: a slack of 1 / draws.
hist_check() {
    pycheck "$1" '
h = d["histogram"]
e = h["edges"]
n = d["draws"]
want(h["bins"] == 40 and len(e) == 41, "bins %r, %d edges" % (h["bins"], len(e)))
want(all(e[i] < e[i + 1] for i in range(40)), "edges not ascending: %r" % e)
want("below" in h["note"] and "above" in h["note"], "note %r" % h["note"])
for s in d["scenarios"]:
    c = s["histogram"]
    want(len(c["counts"]) == 40 and all(isinstance(x, int) and x >= 0 for x in c["counts"]), "%s: counts %r" % (s["name"], c["counts"]))
    want(sum(c["counts"]) + c["below"] + c["above"] == n, "%s: %d + %d + %d is not the %d draws" % (s["name"], sum(c["counts"]), c["below"], c["above"], n))
    cum = [c["below"]]
    for x in c["counts"]:
        cum.append(cum[-1] + x)
    for q, key in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
        p = s[key]
        if p < e[0]:
            lower, upper = 0, c["below"]
        elif p > e[40]:
            lower, upper = cum[40], n
        else:
            j = min(39, max(i for i in range(41) if e[i] <= p))
            lower, upper = cum[j], cum[j + 1]
        want(lower / n <= q + 1.0 / n and upper / n >= q - 1.0 / n, "%s: %s %r, but %r of the draws lie in bins below it and %r up to its bin" % (s["name"], key, p, lower / n, upper / n))
'
}

case_simulate_value() {
    local W=$T/simv id
    sim_ws "$W"
    A -C "$W" --json prioritize --no-record
    expect_rc 0 "prioritize"
    cp "$OUT" "$T/pz.json"
    # the first three open items, their efforts
    "$PY" - "$T/pz.json" >"$T/ids" <<'PYEOF' || fail "reading prioritize"
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(it["id"] for it in d["items"][:3]))
PYEOF
    read -r I1 I2 I3 <"$T/ids"
    cat >"$T/one.yaml" <<EOF
objective: {kpi: value, horizon_days: 90}
scenarios:
  - name: none
  - name: one
    build: [$I1]
  - name: fixed
    build: [$I2]
    assume:
      value: {$I2: 120}
  - name: pair
    build: [$I1, $I2]
    experiments: [{experiment: onboarding_checklist, ship: treatment}]
EOF
    A -C "$W" --json simulate "$T/one.yaml" --draws 200000 --threads 1 --no-record
    expect_rc 0 "simulate one item"
    cp "$OUT" "$T/one1.json"
    A -C "$W" --json simulate "$T/one.yaml" --draws 200000 --threads 2 --no-record
    expect_rc 0 "simulate on two threads"
    hist_check "$OUT"
    pycheck "$OUT" '
import json
one = json.load(open(args[0])); pz = json.load(open(args[1]))
a = dict(one); b = dict(d)
a.pop("as_of"); b.pop("as_of")
want(a == b, "1 and 2 threads differ")
s = {x["name"]: x for x in d["scenarios"]}
want(s["none"]["mean"] == 0 and s["none"]["p90"] == 0, "nothing built, value %r" % s["none"]["mean"])
# an assumed value is that value in every draw (no capacity: live all the horizon)
f = s["fixed"]
want(f["mean"] == 120 and f["p10"] == 120 and f["p90"] == 120 and f["cvar"] == 120, "fixed %r" % f)
want(len(f["assumptions"]) == 1 and "120" in f["assumptions"][0], "assumptions %r" % f["assumptions"])
# the item alone: its median is prioritize'"'"'s (4,000 draws of the same model)
it = [x for x in pz["items"] if x["id"] == s["one"]["items"][0]["id"]][0]
tol = 0.1 * (it["p90"] - it["p10"]) + 1e-9
want(abs(s["one"]["p50"] - it["p50"]) <= tol, "P50 %g, prioritize %g (tolerance %g)" % (s["one"]["p50"], it["p50"], tol))
want(abs(s["one"]["p10"] - it["p10"]) <= tol and abs(s["one"]["p90"] - it["p90"]) <= 2 * tol, "P10/P90 %g %g, prioritize %g %g" % (s["one"]["p10"], s["one"]["p90"], it["p10"], it["p90"]))
# the pair: the same item draws plus 120 - no: the pair has no assumption, so
# it is at least the item alone in every draw: P(pair beats one) = P(value2 > 0)
want(d["beats"]["pair"]["one"] >= d["beats"]["one"]["pair"], "beats %r" % d["beats"])
want(d["beats"]["one"]["pair"] == 0, "adding an item lowered the value in %r of draws" % d["beats"]["one"]["pair"])
# P(loss) is the baseline beating the scenario
for x in d["scenarios"]:
    if x["name"] != "none":
        want(x["p_loss"] == d["beats"]["none"][x["name"]], "p_loss of %s" % x["name"])
want(any("experiments do not enter" in w for w in d["warnings"]), "warnings %r" % d["warnings"])
want(d["models"]["value"]["version"] is None and d["models"]["value"]["trained_on"] == pz["model"]["trained_on"], "models %r" % d["models"])
print("# simulate value: P50 of %s %.3g vs prioritize %.3g" % (it["id"], s["one"]["p50"], it["p50"]))
' "$T/one1.json" "$T/pz.json"

    # Capacity: items built in order at weeks_per_period * periods /
    # horizon person-weeks a day; the value path is 0 before the first
    # ship day.
    cat >"$T/cap.yaml" <<EOF
objective: {kpi: value, horizon_days: 60}
capacity: {weeks_per_period: 1, periods: 2}
scenarios:
  - name: none
  - name: pace
    build: [$I1, $I2]
    assume:
      effort: {$I1: 0.5}
  - name: late
    build: [$I1, $I3]
    assume:
      effort: {$I1: 1.5, $I3: 3}
EOF
    A -C "$W" --json simulate "$T/cap.yaml"
    expect_rc 0 "simulate with capacity"
    cp "$OUT" "$T/cap.json"
    hist_check "$T/cap.json"
    pycheck "$OUT" '
import json, math
pz = json.load(open(args[0]))
eff = {x["id"]: x["effort"] for x in pz["items"]}
rate = 1 * 2 / 60.0
s = {x["name"]: x for x in d["scenarios"]}
p = s["pace"]["items"]
want(p[0]["effort"] == 0.5 and p[0]["ship_day"] == math.ceil(0.5 / rate - 1e-9), "first ship %r" % p[0])
want(p[1]["ship_day"] == math.ceil((0.5 + eff[p[1]["id"]]) / rate - 1e-9), "second ship %r (effort %g)" % (p[1], eff[p[1]["id"]]))
first = p[0]["ship_day"]
for pt in s["pace"]["path"]:
    if pt["day"] < first:
        want(pt["p90"] == 0, "value before the first ship day: %r" % pt)
# 4.5 weeks planned against 2: not eligible, and said so
want(s["late"]["feasible"] is False and s["late"]["capacity"]["planned_weeks"] == 4.5, "late %r" % s["late"].get("capacity"))
want(s["late"]["not_live"] == [s["late"]["items"][1]["id"]], "not live %r" % s["late"]["not_live"])
# an item live after the horizon is still built: both efforts are assumed
# (1.5 + 3), so every draw needs 4.5 weeks against 2
c = s["late"]["capacity"]
want(abs(c["effort_mean"] - 4.5) < 1e-12 and c["p_over"] == 1 and abs(c["shortfall_mean"] - 2.5) < 1e-12, "late capacity %r" % c)
r = d["recommendation"]
want(r["scenario"] != "late" and any("not eligible" in x for x in r["reasons"]), "recommendation %r" % r)
best = max((x for x in d["scenarios"] if x["feasible"]), key=lambda x: x["risk_adjusted"])
want(r["scenario"] == best["name"], "recommended %s, best feasible %s" % (r["scenario"], best["name"]))
ra = best["mean"] - 0.5 * (best["mean"] - best["cvar"])
want(abs(best["risk_adjusted"] - ra) < 1e-9 * max(1, abs(ra)), "risk-adjusted %r, by hand %r" % (best["risk_adjusted"], ra))
want(d["sensitivity"]["scenario"] == r["scenario"] and len(d["sensitivity"]["inputs"]) >= 2, "sensitivity %r" % d["sensitivity"])
' "$T/pz.json"
    id=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["decision_id"])' "$T/cap.json")
    A -C "$W" decisions replay "$id"
    expect_rc 0 "replay the simulate record"
    grep -q "matches the record" "$OUT" || fail "replay: $(cat "$OUT")"
    [ "$(sql "$W/aipm.db" "select kind || '|' || subject || '|' || decision from decisions where id = '$id'")" = "simulate|cap.yaml|pace" ] ||
        fail "the record: $(sql "$W/aipm.db" "select kind, subject, decision from decisions where id = '$id'")"
    # policies.scenarios gives the aversion the file leaves out; the record
    # keeps it, so the replay matches after the policy changes
    "$PY" - "$W/aipm.yaml" <<'PYEOF' || fail "editing aipm.yaml"
import sys
p = sys.argv[1]
text = open(p).read()
text = text.replace("\npolicies:\n", "\npolicies:\n  scenarios: {risk_aversion: 0.9}\n", 1)
with open(p, "w") as fh:
    fh.write(text)
PYEOF
    A -C "$W" --json simulate "$T/cap.yaml"
    expect_rc 0 "simulate under policies.scenarios"
    pycheck "$OUT" '
want(d["risk_aversion"] == 0.9, "risk aversion %r" % d["risk_aversion"])
for s in d["scenarios"]:
    ra = s["mean"] - 0.9 * (s["mean"] - s["cvar"])
    want(abs(s["risk_adjusted"] - ra) <= 1e-9 * max(1, abs(ra)), "%s: %r, by hand %r" % (s["name"], s["risk_adjusted"], ra))
'
    id=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["decision_id"])' "$OUT")
    sed -i 's/risk_aversion: 0.9/risk_aversion: 0.1/' "$W/aipm.yaml"
    A -C "$W" decisions replay "$id"
    grep -q "matches the record" "$OUT" || fail "replay after the policy changed: $(cat "$OUT") $(errtext)"
}

case_simulate_errors() {
    local W=$T/sime
    sim_ws "$W"
    printf 'objective: {kpi: value, horizon_days: 30}\nscenarios:\n  - name: a\n    build: [BL-9999]\n' >"$T/e1.yaml"
    A -C "$W" simulate "$T/e1.yaml" --no-record
    expect_rc 1 "an item not in the backlog"
    expect_one_line_stderr "an item not in the backlog"
    grep -q "e1.yaml:4: build: item 'BL-9999' is not in the backlog" "$ERR" || fail "message: $(errtext)"
    printf 'objective: {kpi: value, horizon_days: 30}\nscenarios:\n  - name: a\n    assume: {market_growth: 0.1}\n' >"$T/e2.yaml"
    A -C "$W" simulate "$T/e2.yaml" --no-record
    expect_rc 1 "market growth on value"
    grep -q "e2.yaml:3: assume.market_growth: objective 'value' has no market trend" "$ERR" || fail "message: $(errtext)"
    printf 'objective: {kpi: engagment, horizon_days: 30}\nscenarios:\n  - name: a\n' >"$T/e3.yaml"
    A -C "$W" simulate "$T/e3.yaml" --no-record
    expect_rc 1 "a misspelled KPI"
    grep -q "e3.yaml:1: objective.kpi: 'engagment' is not a KPI of aipm.yaml.*did you mean 'engagement'" "$ERR" || fail "message: $(errtext)"
    printf 'objective: {kpi: engagement, horizon_days: 30}\nscenarios:\n  - name: a\n    experiments: [{experiment: onboarding_checklist, ship: treatmnt}]\n' >"$T/e4.yaml"
    A -C "$W" simulate "$T/e4.yaml" --no-record
    expect_rc 1 "a variation the experiment lacks"
    grep -q "e4.yaml:4: experiments: onboarding_checklist has no variation 'treatmnt' (it has control, treatment)" "$ERR" || fail "message: $(errtext)"
    printf 'objective: {kpi: engagement, horizon_days: 30}\nscenarios:\n  - name: a\n    rollouts: [{feature: exprt, start: 2027-01-01}]\n' >"$T/e5.yaml"
    A -C "$W" simulate "$T/e5.yaml" --no-record
    expect_rc 1 "a feature not in the catalog"
    grep -q "e5.yaml:4: rollouts: feature 'exprt' is not in the catalog of aipm.yaml; did you mean 'export'" "$ERR" || fail "message: $(errtext)"
    printf 'objective: {kpi: engagement, horizon_days: 30}\nscenarios:\n  - name: a\n    build: [BL-9999]\n' >"$T/e6.yaml"
    A -C "$W" simulate "$T/e6.yaml" --no-record
    expect_rc 1 "an item not in the backlog under a KPI"
    grep -q "e6.yaml:4: build: item 'BL-9999' is not in the backlog" "$ERR" || fail "message: $(errtext)"
    A -C "$W" simulate "$T/nothere.yaml"
    expect_rc 1 "no such file"
    A -C "$W" simulate "$T/e1.yaml" --draws 5
    expect_rc 1 "too few draws"
    A -C "$W" simulate --help
    expect_rc 0 "simulate --help"
    grep -q "usage: aipm simulate FILE" "$OUT" || fail "help: $(head -c 200 "$OUT")"
    # nothing was recorded by the failures
    [ "$(sql "$W/aipm.db" "select count(*) from decisions where kind = 'simulate'")" = 0 ] || fail "a failed simulate left a record"
}

case_simulate_planted_winner() {
    local W=$T/simk
    sim_ws "$W"
    cat >"$T/kpi.yaml" <<'EOF'
objective: {kpi: engagement, horizon_days: 60}
scenarios:
  - name: without
  - name: with_checklist
    experiments: [{experiment: onboarding_checklist, ship: treatment}]
EOF
    A -C "$W" --json simulate "$T/kpi.yaml" --draws 100000
    expect_rc 0 "simulate the planted winner"
    cp "$OUT" "$T/kpi.json"
    hist_check "$T/kpi.json"
    A -C "$W" --json experiment analyze onboarding_checklist --engine bayesian --no-record
    expect_rc 0 "the experiment's analysis"
    cp "$OUT" "$T/exp.json"
    # The weekly values the trend was fitted on: the 12 whole weeks before
    # AIPM_NOW (2026-11-27, a Friday: the last whole week ends Sunday
    # 2026-11-22).
    A -C "$W" --json kpi engagement --from 2026-08-31 --to 2026-11-22
    expect_rc 0 "kpi engagement"
    PY=/usr/bin/python3 pycheck "$T/kpi.json" '
import json, math
import numpy as np
ex = json.load(open(args[0])); kp = json.load(open(args[1]))
k = d["models"]["kpi"]
vals = [(v["start"], v["value"]) for v in kp["kpis"][0]["values"] if v["value"] is not None]
now = np.datetime64("2026-11-27")
x = np.array([(np.datetime64(s) + 3 - now).astype(int) for s, _ in vals], float)
y = np.array([v for _, v in vals])
want(len(vals) == k["weeks"], "weeks %d, kpi report %d" % (k["weeks"], len(vals)))
b, a = np.polyfit(x, y, 1)
# the report prints 6 significant digits: 1e-6 is its rounding, carried
want(abs(a - k["level"]) < 2e-6 and abs(30 * b - k["trend_per_30_days"]) < 2e-6, "level/trend %r %r, numpy %r %r" % (k["level"], k["trend_per_30_days"], a, 30 * b))
res = y - (a + b * x)
want(abs(math.sqrt((res @ res) / (len(y) - 2)) - k["residual_sd"]) < 2e-6, "residual sd")
# the lift posterior is the Bayesian analysis'"'"'s
tv = [v for v in ex["metrics"][0]["variations"] if v["key"] == "treatment"][0]
lift = d["models"]["experiments"][0]
want(abs(lift["lift_rel"] - tv["lift_rel"]) < 1e-12, "lift %r, analysis %r" % (lift["lift_rel"], tv["lift_rel"]))
se = (tv["ci_high"] - tv["ci_low"]) / (2 * 1.959963984540054)
want(abs(lift["se_rel"] - se) < 1e-9, "se %r, from the interval %r" % (lift["se_rel"], se))
# shipping the planted winner beats not shipping it when its lift is > 0:
# the analysis'"'"'s chance to win, within 5 Monte Carlo standard errors
p = d["beats"]["with_checklist"]["without"]
c = tv["chance_to_win"]
n = d["draws"]
want(abs(p - c) <= 5 * math.sqrt(c * (1 - c) / n) + 1e-4, "P(with beats without) %r, chance to win %r" % (p, c))
want(p >= 0.9, "the planted winner beats the status quo in only %r of draws" % p)
want(d["recommendation"]["scenario"] == "with_checklist", "recommended %r" % d["recommendation"])
# means: E[KPI (1 + lift)] = E[KPI] (1 + lift) (independent draws)
s = {x["name"]: x for x in d["scenarios"]}
ratio = s["with_checklist"]["mean"] / s["without"]["mean"]
want(abs(ratio - (1 + lift["lift_rel"])) < 5 * lift["se_rel"] / math.sqrt(n) * 3, "ratio of means %r, 1 + lift %r" % (ratio, 1 + lift["lift_rel"]))
# without clamping, the status quo averages level + trend (H + 1) / 2
H = d["objective"]["horizon_days"]
mu = k["level"] + k["trend_per_30_days"] / 30 * (H + 1) / 2
sd = (s["without"]["p90"] - s["without"]["p10"]) / 2.5631
want(abs(s["without"]["mean"] - mu) < 5 * sd / math.sqrt(n), "mean %r, level and trend give %r" % (s["without"]["mean"], mu))
names = [i["input"] for i in d["sensitivity"]["inputs"]]
want(any("onboarding_checklist" in x for x in names), "sensitivity %r" % names)
print("# simulate KPI: P(with the planted winner beats without) %.4f, chance to win %.4f" % (p, c))
' "$T/exp.json" "$OUT"
    # A KPI where lower is better is simulated negated: its histogram is
    # still in the KPI's own units, edges ascending, and agrees with its
    # P10/P50/P90 (a histogram left negated, or its counts not reversed,
    # puts P10 in the wrong tail). The same seed gives the same document.
    sed -i 's/^kpis:$/kpis:\n  - {key: engagement_down, metric: dashboards_viewed, direction: down}/' "$W/aipm.yaml"
    sed 's/kpi: engagement,/kpi: engagement_down,/' "$T/kpi.yaml" >"$T/kdown.yaml"
    A -C "$W" --json simulate "$T/kdown.yaml" --draws 20000 --seed 5 --no-record
    expect_rc 0 "simulate a KPI where lower is better"
    cp "$OUT" "$T/kdown1.json"
    hist_check "$T/kdown1.json"
    A -C "$W" --json simulate "$T/kdown.yaml" --draws 20000 --seed 5 --threads 3 --no-record
    expect_rc 0 "simulate it again"
    pycheck "$OUT" '
import json
one = json.load(open(args[0]))
want(one["objective"]["better"] == "lower", "objective %r" % one["objective"])
want(one["histogram"] == d["histogram"] and [s["histogram"] for s in one["scenarios"]] == [s["histogram"] for s in d["scenarios"]], "the histograms differ between two runs of seed 5")
s = {x["name"]: x for x in d["scenarios"]}
# the mean of the binned draws (each at its bin'"'"'s middle) is the
# scenario'"'"'s mean within a bin'"'"'s width; a histogram mirrored in the
# range would move it to lo + hi - mean, which the check sees unless the
# mean sits at the middle: the two means lie over two bins apart, so at
# most one can
e = d["histogram"]["edges"]
w = e[1] - e[0]
for x in d["scenarios"]:
    c = x["histogram"]["counts"]
    m = sum((e[i] + e[i + 1]) / 2 * c[i] for i in range(40)) / sum(c)
    want(abs(m - x["mean"]) <= w, "%s: binned mean %r, mean %r, bin width %r" % (x["name"], m, x["mean"], w))
want(abs(s["with_checklist"]["mean"] - s["without"]["mean"]) > 2 * w, "means %r %r: too close for the check (bin width %r)" % (s["with_checklist"]["mean"], s["without"]["mean"], w))
' "$T/kdown1.json"
}

# The planner. Its start is checked against a knapsack solved in Python
# over each item's risk-adjusted value alone (simulated by `aipm simulate`
# from a file of one-item scenarios on the same draws), and its result is
# checked to be a local optimum by simulating every neighbour the search
# could take (one item earlier, one dropped) in one file on the rounds'
# draws: none may beat it.
case_plan_value() {
    local W=$T/planv
    sim_ws "$W"
    A -C "$W" --json plan --objective value --capacity 4 --horizon 60 --out "$T/plan.yaml"
    expect_rc 0 "plan --objective value"
    cp "$OUT" "$T/plan.json"
    A -C "$W" plan --objective value --capacity 4 --horizon 60 --out "$T/plan.yaml"
    expect_rc 1 "plan refuses to replace its file"
    grep -q "plan.yaml exists" "$ERR" || fail "message: $(errtext)"
    # each open item alone, on the rounds' draws (seed 1, 4000 draws)
    A -C "$W" --json prioritize --no-record
    expect_rc 0 "prioritize"
    cp "$OUT" "$T/pz.json"
    "$PY" - "$T/pz.json" "$T/alone.yaml" <<'PYEOF' || fail "writing alone.yaml"
import json, sys
d = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as fh:
    fh.write("objective: {kpi: value, horizon_days: 60}\nscenarios:\n  - name: none\n")
    for i, it in enumerate(d["items"]):
        fh.write("  - name: i%d\n    build: [%s]\n" % (i, json.dumps(it["id"])))
PYEOF
    A -C "$W" --json simulate "$T/alone.yaml" --draws 4000 --seed 1 --no-record
    expect_rc 0 "simulate each item alone"
    pycheck "$T/plan.json" '
import json, math
al = json.load(open(args[0])); pz = json.load(open(args[1]))
ra = {s["items"][0]["id"]: s["risk_adjusted"] for s in al["scenarios"] if s["name"] != "none"}
eff = {it["id"]: it["effort"] for it in pz["items"]}
ids = [it["id"] for it in pz["items"]]
# the 0/1 knapsack in half-weeks, by dynamic programming
cap = int(math.floor(2 * 4 + 1e-9))
best = [(0.0, frozenset())] * (cap + 1)
for i in ids:
    w = max(1, math.ceil(2 * eff[i] - 1e-9)); v = ra[i]
    if v <= 0 or w > cap:
        continue
    nb = list(best)
    for c in range(w, cap + 1):
        if best[c - w][0] + v > nb[c][0]:
            nb[c] = (best[c - w][0] + v, best[c - w][1] | {i})
    best = nb
want(set(d["start"]["plan"]) == set(best[cap][1]), "start %r, knapsack %r" % (sorted(d["start"]["plan"]), sorted(best[cap][1])))
dens = [ra[i] / eff[i] for i in d["start"]["plan"]]
want(all(dens[k] >= dens[k + 1] for k in range(len(dens) - 1)), "start not by value per week: %r" % dens)
plan = d["plan"]["plan"]
want(sum(eff[i] for i in plan) <= 4 + 1e-9, "the plan needs %g weeks" % sum(eff[i] for i in plan))
last = d["rounds"][-1]
want(last["move"] is None and len(d["rounds"]) >= 2, "rounds %r" % d["rounds"])
want(d["plan"]["summary"]["risk_adjusted"] >= d["final"]["start"]["risk_adjusted"] - 1e-9 or d["final"]["beats"]["start_over_plan"] < 0.5, "the plan loses to its start on fresh draws: %r" % d["final"])
print("# plan value: start RA %.4g -> plan RA %.4g (fresh draws: %.4g vs %.4g), %d rounds" % (d["start"]["risk_adjusted"], last["before"], d["final"]["plan"]["risk_adjusted"], d["final"]["start"]["risk_adjusted"], len(d["rounds"])))
' "$OUT" "$T/pz.json"
    # the written file: loads, and its plan is the search's result
    A -C "$W" --json simulate "$T/plan.yaml" --draws 4000 --seed 1 --no-record
    expect_rc 0 "simulate the written plan"
    cp "$OUT" "$T/sim.json"
    pycheck "$T/plan.json" '
import json
sim = json.load(open(args[0]))
s = {x["name"]: x for x in sim["scenarios"]}
want(sorted(s) == ["knapsack", "plan", "status_quo"], "scenarios %r" % sorted(s))
want([i["id"] for i in s["plan"]["items"]] == d["plan"]["plan"], "file plan %r" % s["plan"]["items"])
want([i["id"] for i in s["knapsack"]["items"]] == d["start"]["plan"], "file start %r" % s["knapsack"]["items"])
last = d["rounds"][-1]["before"]
want(abs(s["plan"]["risk_adjusted"] - last) <= 1e-9 * max(1, abs(last)), "RA %r, the search %r" % (s["plan"]["risk_adjusted"], last))
' "$T/sim.json"
    # every neighbour of the plan: one item earlier, one dropped
    "$PY" - "$T/plan.json" "$T/nb.yaml" <<'PYEOF' || fail "writing nb.yaml"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["plan"]["plan"]
nbs = [p]
for i in range(1, len(p)):
    q = list(p); q[i - 1], q[i] = q[i], q[i - 1]; nbs.append(q)
for i in range(len(p)):
    nbs.append(p[:i] + p[i + 1:])
with open(sys.argv[2], "w") as fh:
    fh.write("objective: {kpi: value, horizon_days: 60}\ncapacity: {weeks_per_period: 4}\nscenarios:\n")
    for k, q in enumerate(nbs):
        fh.write("  - name: n%d\n    build: %s\n" % (k, json.dumps(q)))
PYEOF
    A -C "$W" --json simulate "$T/nb.yaml" --draws 4000 --seed 1 --no-record
    expect_rc 0 "simulate the neighbours"
    pycheck "$OUT" '
ra = [s["risk_adjusted"] for s in d["scenarios"]]
want(all(r <= ra[0] + 1e-9 * max(1, abs(ra[0])) for r in ra[1:]), "a neighbour beats the plan: %r" % ra)
'
}

case_plan_kpi() {
    local W=$T/plank
    sim_ws "$W"
    A -C "$W" --json plan --objective engagement --capacity 4 --horizon 60 --out "$T/kplan.yaml"
    expect_rc 0 "plan --objective engagement"
    pycheck "$OUT" '
want(d["plan"]["plan"] == [{"experiment": "onboarding_checklist", "ship": "treatment"}], "plan %r" % d["plan"]["plan"])
want(d["final"]["beats"]["plan_over_status_quo"] >= 0.9, "the planted winner beats the status quo in %r" % d["final"]["beats"])
want(any("backlog items do not enter" in n for n in d["notes"]), "notes %r" % d["notes"])
'
    A -C "$W" plan --objective engagment --capacity 4 --out "$T/x.yaml"
    expect_rc 1 "a misspelled objective"
    grep -q "'engagment' is not value nor a KPI" "$ERR" || fail "message: $(errtext)"
    A -C "$W" plan --capacity 4
    expect_rc 1 "no objective"
    A -C "$W" plan --help
    expect_rc 0 "plan --help"
}

# adopters:FEATURE. A feature nobody uses yet (pdf, added to the catalog)
# is forecast from its prior; a rollout launches it to segments. Rolled
# out to one segment on the first day, the objective's P10/P50/P90 are
# that segment's forecast at the horizon (its 80% interval and middle,
# from `aipm forecast adoption`, the same model and seed), up to the Monte
# Carlo's error; started later, the curve is shifted by the start (and
# half the ramp).
case_simulate_adopters() {
    local W=$T/sima
    sim_ws "$W"
    "$PY" - "$W/aipm.yaml" <<'PYEOF' || fail "editing aipm.yaml"
import sys
p = sys.argv[1]
text = open(p).read()
text = text.replace("\nmetrics:\n", "  - key: pdf\n    name: PDF export\n    area: reporting\n    events: [PDF Exported]\n    depends_on: [export]\n\nmetrics:\n", 1)
with open(p, "w") as fh:
    fh.write(text)
PYEOF
    cat >"$T/ad.yaml" <<'EOF2'
objective: {kpi: "adopters:pdf", horizon_days: 60}
scenarios:
  - name: none
  - name: pro_now
    rollouts: [{feature: pdf, segments: [plan=pro], start: 2026-11-27}]
  - name: pro_later
    rollouts: [{feature: pdf, segments: [plan=pro], start: 2026-12-03, ramp_days: 8}]
  - name: everyone
    rollouts: [{feature: pdf, start: 2026-11-27}]
EOF2
    A -C "$W" --json simulate "$T/ad.yaml" --draws 100000
    expect_rc 0 "simulate adopters:pdf"
    cp "$OUT" "$T/ad.json"
    hist_check "$T/ad.json"
    A -C "$W" --json forecast adoption pdf --by plan --horizon 60 --no-record
    expect_rc 0 "forecast adoption pdf"
    pycheck "$T/ad.json" '
import json
fc = json.load(open(args[0]))
seg = {s["segment"]: s["forecast"] for s in fc["segments"]}
s = {x["name"]: x for x in d["scenarios"]}
want(d["models"]["adoption"]["model"] == "prior" and d["models"]["adoption"]["by"] == "plan", "models %r" % d["models"])
want(s["none"]["p90"] == 0, "no rollout, adopters %r" % s["none"]["p90"])
def near(got, want_, width, what):
    want(abs(got - want_) <= 0.03 * width + 1e-9, "%s: %r, forecast %r" % (what, got, want_))
day = seg["pro"][59]
w = day["hi80"] - day["lo80"]
near(s["pro_now"]["p10"], day["lo80"], w, "P10 rolled out now")
near(s["pro_now"]["p50"], day["adopters"], w, "P50 rolled out now")
near(s["pro_now"]["p90"], day["hi80"], w, "P90 rolled out now")
# 6 days later and a ramp of 8: the curve at day 60 - 6 - 4 = 50
day = seg["pro"][49]
w = day["hi80"] - day["lo80"]
near(s["pro_later"]["p50"], day["adopters"], w, "P50 rolled out later")
near(s["pro_later"]["p90"], day["hi80"], w, "P90 rolled out later")
# the same draw of the pro segment in both: later never has more
want(d["beats"]["pro_later"]["pro_now"] == 0, "later beat now in %r of draws" % d["beats"]["pro_later"]["pro_now"])
want(d["recommendation"]["scenario"] == "everyone", "recommended %r" % d["recommendation"]["scenario"])
ins = [i["input"] for i in d["sensitivity"]["inputs"]]
want(len(ins) == 3 and all("adoption in plan=" in i for i in ins), "sensitivity %r" % ins)
print("# simulate adopters: P50 of pdf in plan=pro at day 60 %.3f, forecast %.3f" % (s["pro_now"]["p50"], seg["pro"][59]["adopters"]))
' "$OUT"
    printf 'objective: {kpi: "adopters:export", horizon_days: 30}\nscenarios:\n  - name: a\n    rollouts: [{feature: export, start: 2026-12-01}]\n' >"$T/ad2.yaml"
    A -C "$W" simulate "$T/ad2.yaml" --no-record
    expect_rc 1 "a rollout of a feature in use"
    grep -q "ad2.yaml:4: rollouts: export is already in use" "$ERR" || fail "message: $(errtext)"
    printf 'objective: {kpi: "adopters:pdf", horizon_days: 30}\nscenarios:\n  - name: a\n    rollouts: [{feature: pdf, segments: [plan=pro], start: 2026-12-01}]\n  - name: b\n    rollouts: [{feature: pdf, segments: [industry=retail], start: 2026-12-01}]\n' >"$T/ad3.yaml"
    A -C "$W" simulate "$T/ad3.yaml" --no-record
    expect_rc 1 "two segmentations"
    grep -q "ad3.yaml:6: rollouts: segments by 'industry' here and by 'plan' on line 4" "$ERR" || fail "message: $(errtext)"
    printf 'objective: {kpi: "adopters:pdf", horizon_days: 30}\nscenarios:\n  - name: a\n    rollouts: [{feature: pdf, segments: [plan=gold], start: 2026-12-01}]\n' >"$T/ad4.yaml"
    A -C "$W" simulate "$T/ad4.yaml" --no-record
    expect_rc 1 "an unknown segment"
    grep -q "ad4.yaml:4: rollouts: no segment plan=gold among the users (plan has " "$ERR" || fail "message: $(errtext)"
    printf 'objective: {kpi: "adopters:pdf", horizon_days: 30}\nscenarios:\n  - name: a\n    rollouts: [{feature: pdf, start: 2026-11-01}]\n' >"$T/ad5.yaml"
    A -C "$W" simulate "$T/ad5.yaml" --no-record
    expect_rc 1 "a rollout in the past"
    grep -q "ad5.yaml:4: rollouts: pdf starts before today" "$ERR" || fail "message: $(errtext)"
}
