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

# Analyses use the production version of each model and record it: a
# forecast by plan takes the hazard fits of adoption@1 (production) where
# the version has them - the artifact's own figures, read from the store
# - names the version in its output and its record, and a replay takes
# that version again after production moved to adoption@2 (trained to an
# earlier cutoff: other fits). A version trained by plan is not used for a
# forecast by cohort, and says why. (model_ws and approve_promotion:
# cases/models.sh.)
case_forecast_registry_version() {
    local W=$T/fcreg id
    export AIPM_KEYS=$T/keys
    model_ws "$W"
    A -C "$W" model train adoption --by plan
    expect_rc 0 "model train adoption --by plan"
    # No production version yet: fitted in the run, model_version null.
    A -C "$W" forecast adoption query --by plan --json
    expect_rc 0 "forecast before a promotion"
    pycheck "$OUT" 'want(d["registry"] is None, "registry %r" % d["registry"])'
    [ "$(sql "$W/aipm.db" "select params from decisions where kind = 'forecast' order by time_ms desc, $RID desc limit 1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["model_version"])')" = None ] ||
        fail "a forecast fitted in the run names a version"
    A -C "$W" model promote adoption 1
    expect_rc 3 "promote adoption@1 asks for an approval"
    approve_promotion "$W"
    A -C "$W" model promote adoption 1
    expect_rc 0 "promote adoption@1"
    sql "$W/aipm.db" "select artifact from model_versions where name = 'adoption' and version = 1" >"$T/art1.json"
    A -C "$W" forecast adoption query --by plan --json
    expect_rc 0 "forecast adoption query --by plan"
    cp "$OUT" "$T/fc1.json"
    pycheck "$T/fc1.json" '
import json
art = json.load(open(args[0]))
r = d["registry"]
want(r["name"] == "adoption" and r["version"] == 1 and r["used"] is True, "registry %r" % r)
want(r["cutoff"] == art["cutoff"], "cutoff %r, the artifact %r" % (r["cutoff"], art["cutoff"]))
fits = art["features"]["query"]["segments"]
names = [s["segment"] for s in d["segments"]]
want(r["segments"] and sorted(r["segments"] + r["refitted"]) == sorted(names), "segments %r + %r, forecast %r" % (r["segments"], r["refitted"], names))
for s in d["segments"]:
    f = fits.get(s["segment"])
    if s["segment"] in r["segments"]:
        want(f is not None and all(s["hazard"][k] == f[k] for k in ("alpha", "beta", "pi")), "%s: hazard %r, adoption@1 %r" % (s["segment"], s["hazard"], f))
    else:
        want(f is None, "%s: adoption@1 has a fit, not taken" % s["segment"])
print("# forecast query by plan: adoption@1 in %s, fitted in the run: %s" % (r["segments"], r["refitted"]))' "$T/art1.json"
    id=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["decision_id"])' "$T/fc1.json")
    [ "$(sql "$W/aipm.db" "select params from decisions where id = '$id'" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["model_version"])')" = 1 ] ||
        fail "the record does not name adoption@1"
    A -C "$W" forecast adoption query --by plan --no-record
    expect_rc 0 "forecast adoption (text)"
    grep -q '^  hazard: adoption@1 (registry, production), segments plan=' "$OUT" ||
        fail "the text does not name adoption@1: $(grep hazard: "$OUT")"
    # Another segmentation: the version is reported, not used; the record
    # names it all the same (a replay must consult it again).
    A -C "$W" forecast adoption query --by cohort --json
    expect_rc 0 "forecast adoption --by cohort"
    pycheck "$OUT" 'want(d["registry"] == {"name": "adoption", "version": 1, "used": False, "why": "trained by plan, this forecast is by cohort"}, "registry %r" % d["registry"])'
    [ "$(sql "$W/aipm.db" "select params from decisions where kind = 'forecast' order by time_ms desc, $RID desc limit 1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["model_version"])')" = 1 ] ||
        fail "the record of the forecast by cohort does not name adoption@1"
    # Production moves to adoption@2; the replay still uses adoption@1.
    A -C "$W" model train adoption --by plan --cutoff 2026-10-24
    expect_rc 0 "train adoption@2"
    A -C "$W" model promote adoption 2
    expect_rc 3 "promote adoption@2 asks for an approval"
    approve_promotion "$W"
    A -C "$W" model promote adoption 2
    expect_rc 0 "promote adoption@2"
    A -C "$W" forecast adoption query --by plan --json --no-record
    expect_rc 0 "forecast with adoption@2"
    pycheck "$OUT" '
import json
one = json.load(open(args[0]))
want(d["registry"]["version"] == 2, "registry %r" % d["registry"])
a = {s["segment"]: s["hazard"] for s in one["segments"]}
b = {s["segment"]: s["hazard"] for s in d["segments"]}
want(any(a[k] and b.get(k) and a[k]["alpha"] != b[k]["alpha"] for k in a), "adoption@2 gives the fits of adoption@1")' "$T/fc1.json"
    A -C "$W" decisions replay "$id"
    expect_rc 0 "replay of the forecast by adoption@1"
    grep -q "matches the record" "$OUT" || fail "replay: $(head -c 300 "$OUT")"
    A -C "$W" forecast adoption query --by plan --model-version 1 --json --no-record
    expect_rc 0 "--model-version 1"
    pycheck "$OUT" 'want(d["registry"]["version"] == 1, "registry %r" % d["registry"])'
    A -C "$W" forecast adoption query --model-version 7 --no-record
    expect_rc 1 "a version that does not exist"
    expect_one_line_stderr "no such version"
    A -C "$W" forecast backtest query --model-version 1
    [ "$RC" -ne 0 ] || fail "a backtest took --model-version"
}
