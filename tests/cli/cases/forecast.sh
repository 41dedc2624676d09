# Forecast and demo checks of issue 12 (sourced by tests/cli/run.sh).
#
# The demo of seed 3 (3000 users, 120 days) is the case in point for
# both: its null experiment ships by chance (p = 0.023), and its Bass fits
# include an m below the adopters counted and an m of 1.3e12.

# A planted null that ships is the 5% type I error, not a failed demo: a
# warning in the output and the JSON, exit 0.
case_forecast_demo_null_false_positive() {
    local W=$T/demo-null
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 3 --json >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo --seed 3 (its null ships by chance)"
    pycheck "$OUT" '
c = [x for x in d["checks"] if x["check"] == "experiment new_navigation"]
want(len(c) == 1 and c[0]["planted"] == "null", "null check %r" % c)
c = c[0]
want(d["all_checks_ok"] is True, "all_checks_ok %r" % d["all_checks_ok"])
if c["found"] == "ship":
    want(c["ok"] is False and "false positive" in (c["warning"] or ""), "warning %r" % c)
else:
    want(c["warning"] is None, "warning without a false positive %r" % c)
print("# demo seed 3 null experiment: %s (%s)" % (c["found"], c["warning"]))'
}

# Every forecast point lies inside its own 80% and 95% intervals; an
# implausible Bass m is flagged and never the segment's model; the output
# says when a naive baseline beat the chosen model in the backtest.
case_forecast_points_flags_baselines() {
    local W=$T/demo-fc feats="export dashboard query alerts comments invites share schedule connectors sso"
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 3 >/dev/null 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo --seed 3"
    A -C "$W" forecast adoption $feats --by plan --draws 20 --no-record --json
    expect_rc 0 "forecast adoption"
    cp "$OUT" "$T/fc.json"
    A -C "$W" forecast backtest $feats --by plan --holdout 14 --draws 20 --json
    expect_rc 0 "forecast backtest"
    cp "$OUT" "$T/bt.json"
    pycheck "$T/fc.json" '
import json
rej = notes = 0
for doc in (d, json.load(open(args[0]))):
    for f in doc["forecasts"]:
        b = f["backtest"]
        want("baseline_beats_model" in b, "%s: no baseline_beats_model" % f["feature"])
        mine = b[f["model"] + "_wape"]
        best = min(b["naive_wape"], b["trend_wape"])
        if b["baseline_beats_model"] is None:
            want(mine <= best, "%s: %s WAPE %r above a baseline %r, not said" % (f["feature"], f["model"], mine, best))
        else:
            key = "naive_wape" if b["baseline_beats_model"] == "last_value" else "trend_wape"
            want(b[key] == best < mine and "beat the chosen model" in b["note"], "%s: note %r" % (f["feature"], b))
            notes += 1
        for s in f["segments"]:
            m = s["bass_rejected"]
            if m is not None:
                rej += 1
                want(s["model"] != "bass" and s["m"] is None, "%s/%s: a rejected Bass fit used: %r" % (f["feature"], s["segment"], s["model"]))
                want("adopters already counted" in m or "times the segment" in m, "reason %r" % m)
            for r in s["forecast"]:
                want(r["lo95"] <= r["lo80"] <= r["adopters"] <= r["hi80"] <= r["hi95"], "%s/%s: point outside %r" % (f["feature"], s["segment"], r))
want(rej >= 2, "only %d rejected Bass fits (seed 3 has m = 1.3e12 and m below the counted)" % rej)
want(notes >= 1, "no baseline note")
print("# forecast seed 3: %d Bass fits rejected, %d baselines beat the model" % (rej, notes))' "$T/bt.json"
    A -C "$W" forecast adoption $feats --by plan --draws 20 --no-record
    expect_rc 0 "forecast adoption (text)"
    grep -q 'that fit is not used (this segment: ' "$OUT" || fail "no rejected-fit line in the text output"
    grep -q '^  note: the naive baseline' "$OUT" || fail "no baseline note in the text output"
}

# forecast bass on a user's series: an m below the adopters the series
# already counts (100, 1, 1, 1, 1: m = 101 < 104) is a warning.
case_forecast_bass_m_below_counted() {
    printf 'period,adopters\n1,100\n2,1\n3,1\n4,1\n5,1\n' >"$T/fall.csv"
    A forecast bass --series "$T/fall.csv" --no-record --json
    expect_rc 0 "forecast bass"
    pycheck "$OUT" '
counted = 104  # 100 + 1 + 1 + 1 + 1
want(d["m"] < counted and "below the 104 adopters already counted" in (d.get("warning") or ""), "m %r warning %r" % (d["m"], d.get("warning")))'
    A forecast bass --series "$T/fall.csv" --no-record
    expect_rc 0 "forecast bass (text)"
    grep -q 'warning: m = .* below the 104 adopters' "$OUT" || fail "no warning in the text output"
}
