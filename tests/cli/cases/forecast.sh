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
    # The record leaves the observed history out (the batches pin it
    # down; up to 365 rows a segment): the output shows it, the record not.
    A -C "$W" --json decisions show "$id"
    expect_rc 0 "decisions show the forecast"
    pycheck "$OUT" '
rec = d.get("output") or {}
want(rec.get("segments"), "no segments in the recorded output: %r" % list(rec)[:10])
want(all("history" not in s for s in rec["segments"]) and "history_from" not in rec and "history_note" not in rec,
     "the record keeps the history")
want(all("forecast" in s for s in rec["segments"]), "the record lost the forecast rows")'
    pycheck "$T/fc1.json" 'want(all(isinstance(s.get("history"), list) and s["history"] for s in d["segments"]), "the forecast document has no history")'
    A -C "$W" forecast adoption query --by plan --model-version 1 --json --no-record
    expect_rc 0 "--model-version 1"
    pycheck "$OUT" 'want(d["registry"]["version"] == 1, "registry %r" % d["registry"])'
    A -C "$W" forecast adoption query --model-version 7 --no-record
    expect_rc 1 "a version that does not exist"
    expect_one_line_stderr "no such version"
    A -C "$W" forecast backtest query --model-version 1
    [ "$RC" -ne 0 ] || fail "a backtest took --model-version"
}

# The observed history a forecast document carries per segment: every
# row is the segment's users (first seen before the cutoff) whose first
# event of the feature's catalog events (aipm.yaml: dashboard "Dashboard
# Created", connectors "Connector Added") is on or before the row's day,
# counted here from the store's accepted events with SQL and Python, the
# user's segment their newest identify "plan" before the cutoff (adoption.c,
# store/sqlite/forecast.c: the account's is the fallback, and the check
# asserts no adopter needs it). A forecast's history ends at as_of, the
# data's last day; a backtest's at its as_of, the day before the cutoff,
# the held-out days being the rows' "observed". dashboard launched before
# the data begin (its history from the first day with data), connectors
# in them (from its launch).
case_forecast_history_observed() {
    local W=$T/fc-hist
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 3 --users 800 --days 60 >/dev/null 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo --users 800 --days 60"
    A -C "$W" forecast adoption dashboard connectors --by plan --draws 10 --no-record --json
    expect_rc 0 "forecast adoption"
    cp "$OUT" "$T/fc.json"
    A -C "$W" forecast backtest dashboard connectors --by plan --holdout 14 --draws 10 --json
    expect_rc 0 "forecast backtest"
    cp "$OUT" "$T/bt.json"
    sql "$W/aipm.db" "select user_id, event, min(ts) from v_events where user_id is not null and event in ('Dashboard Created', 'Connector Added') group by user_id, event" >"$T/firstuse.txt"
    sql "$W/aipm.db" "select user_id, min(ts) from v_events where user_id is not null group by user_id" >"$T/firstseen.txt"
    sql "$W/aipm.db" "select user_id, ts, payload from v_events where type = 'identify' and user_id is not null" >"$T/identify.txt"
    sql "$W/aipm.db" "select min(ts), max(ts) from v_events" >"$T/range.txt"
    grep -q 'events: \[Dashboard Created\]' "$W/aipm.yaml" && grep -q 'events: \[Connector Added\]' "$W/aipm.yaml" ||
        fail "the demo's catalog no longer names the events this case counts"
    pycheck "$T/fc.json" '
import datetime, json
EPOCH = datetime.date(1970, 1, 1)
def day(s): return (datetime.date.fromisoformat(s) - EPOCH).days
events = {"dashboard": "Dashboard Created", "connectors": "Connector Added"}
first_use = {}
for line in open(args[1]).read().splitlines():
    u, ev, ts = line.split("|")
    first_use[ev, u] = int(ts) // 86400000
first_seen = {}
for line in open(args[2]).read().splitlines():
    u, ts = line.split("|")
    first_seen[u] = int(ts) // 86400000
identify = []
for line in open(args[3]).read().splitlines():
    u, ts, payload = line.split("|", 2)
    identify.append((u, int(ts), json.loads(payload).get("plan")))
first_day, last_day = (int(x) // 86400000 for x in open(args[4]).read().strip().split("|"))
rows = 0
for doc, mode in ((d, "forecast"), (json.load(open(args[0])), "backtest")):
    for f in doc["forecasts"]:
        C = day(f["as_of"]) + 1
        want(C == last_day + 1 - (14 if mode == "backtest" else 0), "%s %s: as_of %s" % (mode, f["feature"], f["as_of"]))
        plan = {}
        for u, ts, p in identify:
            if p is not None and ts < C * 86400000 and (u not in plan or ts > plan[u][0]):
                plan[u] = (ts, p)
        adopters = [(u, t) for (ev, u), t in first_use.items() if ev == events[f["feature"]] and first_seen[u] < C]
        want(all(u in plan for u, t in adopters if t < C), "%s: an adopter without an identify plan" % f["feature"])
        start = max(day(f["launch"]), first_day)
        want(f["history_from"] == (EPOCH + datetime.timedelta(days=start)).isoformat() and f["history_note"] is None,
             "%s %s: history_from %r note %r, the series start %d" % (mode, f["feature"], f["history_from"], f["history_note"], start))
        segs = 0
        for s in f["segments"]:
            h = s["history"]
            want([r["day"] for r in h] == [(EPOCH + datetime.timedelta(days=t)).isoformat() for t in range(start, C)],
                 "%s %s/%s: history days %s .. %s, %d rows" % (mode, f["feature"], s["segment"], h[0]["day"] if h else None, h[-1]["day"] if h else None, len(h)))
            want(all(a["adopters"] <= b["adopters"] for a, b in zip(h, h[1:])), "%s %s/%s: history falls" % (mode, f["feature"], s["segment"]))
            want(h[-1]["adopters"] == s["adopters"], "%s %s/%s: last history row %r, adopters %r" % (mode, f["feature"], s["segment"], h[-1], s["adopters"]))
            if mode == "backtest":
                want(s["forecast"][0]["day"] == (EPOCH + datetime.timedelta(days=C)).isoformat() and s["forecast"][0]["observed"] >= h[-1]["adopters"],
                     "backtest %s/%s: the held-out days do not follow the history" % (f["feature"], s["segment"]))
            for r in h:
                n = sum(1 for u, t in adopters if t <= day(r["day"]) and plan[u][1] == s["segment"])
                want(r["adopters"] == n, "%s %s/%s on %s: history %r, the events count %d" % (mode, f["feature"], s["segment"], r["day"], r["adopters"], n))
                rows += 1
            segs += s["adopters"] > 0
        want(segs >= 2, "%s %s: %d segments with adopters, the check needs two" % (mode, f["feature"], segs))
print("# forecast history: %d rows of 2 features, forecast and backtest, each the count of the events" % rows)' \
        "$T/bt.json" "$T/firstuse.txt" "$T/firstseen.txt" "$T/identify.txt" "$T/range.txt"
}

# Past 365 days the history keeps the last 365 to as_of and says so; its
# first row still counts the adopters before it. Hand-made events: 60
# users over 2025-03-01 .. 2026-11-26 (636 days), user i first seen on
# day 7 i mod 300 of them with a session every 5 days from then, and
# every third user exports on day (7 i mod 300) + 20 + i. A feature with
# no adopter (a prior) has a history of zeros from its launch, or none
# when it launches after as_of.
case_forecast_history_capped() {
    mkws fc-cap
    "$PY" - "$WS/ev.ndjson" <<'PY' || fail "could not write the events"
import datetime, json, sys
start = datetime.date(2025, 3, 1)
n_days = (datetime.date(2026, 11, 26) - start).days + 1
with open(sys.argv[1], "w") as fh:
    n = 0
    def ev(u, name, d):
        global n
        n += 1
        ts = (start + datetime.timedelta(days=d)).isoformat() + "T10:00:00Z"
        fh.write(json.dumps({"type": "track", "messageId": "m%d" % n, "userId": "u%d" % u, "event": name, "timestamp": ts}) + "\n")
    for i in range(60):
        for d in range((7 * i) % 300, n_days, 5):
            ev(i, "Session Started", d)
        if i % 3 == 0:
            ev(i, "Report Exported", (7 * i) % 300 + 20 + i)
PY
    A -C "$WS" ingest events "$WS/ev.ndjson"
    expect_rc 0 "ingest the events"
    put_yaml "$WS" <<'YAML'
product: P
store: aipm.db
catalog:
  - {key: export, area: reporting, events: [Report Exported], launched_at: 2025-03-01}
  - {key: share, area: reporting, events: [Report Shared], launched_at: 2026-11-01}
  - {key: later, area: reporting, events: [Report Later], launched_at: 2027-01-01}
YAML
    A -C "$WS" forecast adoption export share later --draws 10 --no-record --json
    expect_rc 0 "forecast adoption"
    pycheck "$OUT" '
import datetime
start = datetime.date(2025, 3, 1)
def on(k): return (start + datetime.timedelta(days=k)).isoformat()
# the exports: day (7 i mod 300) + 20 + i of every third user
adopted = [(7 * i) % 300 + 20 + i for i in range(0, 60, 3)]
n_days = (datetime.date(2026, 11, 26) - start).days + 1  # 636
f = {x["feature"]: x for x in d["forecasts"]}
e = f["export"]
h = e["segments"][0]["history"]
cut = n_days - 365  # 271 days left out
want(e["as_of"] == on(n_days - 1) and e["history_from"] == on(cut), "export: as_of %r history_from %r" % (e["as_of"], e["history_from"]))
want(e["history_note"] and "271 days from the series start 2025-03-01" in e["history_note"], "export: note %r" % e["history_note"])
want(len(h) == 365 and [r["day"] for r in h] == [on(k) for k in range(cut, n_days)], "export: %d history rows" % len(h))
for k in (cut, cut + 100, n_days - 1):
    r = h[k - cut]
    want(r["adopters"] == sum(t <= k for t in adopted), "export on %s: %r, by hand %d" % (r["day"], r["adopters"], sum(t <= k for t in adopted)))
want(h[-1]["adopters"] == e["segments"][0]["adopters"] == 20, "export: %r, adopters %r" % (h[-1], e["segments"][0]["adopters"]))
s = f["share"]
hs = s["segments"][0]["history"]
want(s["model"] == "prior" and s["history_from"] == "2026-11-01" and len(hs) == 26 and all(r["adopters"] == 0 for r in hs) and hs[-1]["day"] == s["as_of"],
     "share (a prior since 2026-11-01): %r .. %r, %d rows" % (s["history_from"], hs[-1] if hs else None, len(hs)))
l = f["later"]
want(l["history_from"] is None and l["history_note"] is None and l["segments"][0]["history"] == [], "later (launches after as_of): %r %r" % (l["history_from"], l["segments"][0]["history"][:2]))
print("# forecast history capped: 365 of 636 days, %r adopters on its first day" % h[0]["adopters"])'
}
