# Command-level cases for aipm.yaml (issue 12: a typo must never change a
# decision silently). Sourced by tests/cli/run.sh; uses its helpers.

# A workspace whose aipm.yaml is the text on stdin; its path in $WS.
config_ws() {
    mkws "$1"
    put_yaml "$WS"
}

# The issue's case: `guardrail:` (line 9) used to be ignored, so the
# guardrail was never checked and do_not_ship became keep_running.
case_config_guardrail_typo() {
    config_ws cfg-typo <<'YAML'
product: P
metrics:
  - {key: exports, type: count, event: Report Exported}
  - {key: errors, type: count, event: Error Shown, direction: down}
experiments:
  - key: onboarding
    variations: [control, treatment]
    metrics: [exports]
    guardrail: [errors]
YAML
    A -C "$WS" experiment analyze onboarding
    expect_rc 1 "experiment analyze with guardrail: typo"
    expect_one_line_stderr "guardrail: typo"
    grep -q "aipm.yaml:9: unknown key 'guardrail' in experiments; did you mean 'guardrails'?" "$ERR" ||
        fail "message lacks line 9 and the did-you-mean: $(errtext)"
    # Every command refuses the file, not only the experiment's.
    A -C "$WS" data versions
    expect_rc 1 "data versions with guardrail: typo"
    # An unknown top-level section is refused too (line 2).
    config_ws cfg-section <<'YAML'
product: P
polices: {data: {on_schema_change: block}}
YAML
    A -C "$WS" kpi
    expect_rc 1 "kpi with polices: typo"
    grep -q "aipm.yaml:2: unknown section 'polices'; did you mean 'policies'?" "$ERR" ||
        fail "section typo: $(errtext)"
    # A key given twice (line 4).
    config_ws cfg-dup <<'YAML'
product: P
policies:
  data: {on_schema_change: block}
  data: {on_schema_change: warn}
YAML
    A -C "$WS" data versions
    expect_rc 1 "duplicate key"
    grep -q "aipm.yaml:4: 'data' is given twice in policies (first on line 3)" "$ERR" ||
        fail "duplicate key: $(errtext)"
}

# Weights: one positive number per variation summing to 1 (line 6).
case_config_weights() {
    config_ws cfg-w <<'YAML'
metrics: [{key: a, type: count, event: E}]
experiments:
  - key: x
    variations: [control, treatment]
    metrics: [a]
    weights: [0.6, 0.6]
store: aipm.db
YAML
    A -C "$WS" experiment list
    expect_rc 1 "weights summing to 1.2"
    grep -q "aipm.yaml:6: experiments: weights sum to 1.2, not 1" "$ERR" ||
        fail "weights: $(errtext)"
    sed -i 's/weights: .*/weights: [0.5, 0.5, 0.0]/' "$WS/aipm.yaml"
    A -C "$WS" experiment list
    expect_rc 1 "3 weights for 2 variations"
    grep -q "aipm.yaml:6: experiments: 3 weights for 2 variations" "$ERR" ||
        fail "weight count: $(errtext)"
    sed -i 's/weights: .*/weights: [0.25, 0.75]/' "$WS/aipm.yaml"
    A -C "$WS" experiment list
    expect_rc 0 "weights 0.25 + 0.75"
}

# An 80,000-deep sequence took 33 s on every command; now refused at
# once (the bound is generous: a loaded machine, and the whole command).
case_config_deep_yaml() {
    mkws cfg-deep
    "$PY" -c 'import sys; sys.stdout.write("[" * 80000 + "]" * 80000 + "\n")' >"$WS/aipm.yaml"
    local t0 t1
    t0=$("$PY" -c 'import time; print(time.monotonic())')
    A -C "$WS" data versions
    t1=$("$PY" -c 'import time; print(time.monotonic())')
    expect_rc 1 "80k-deep aipm.yaml"
    grep -q "aipm.yaml:1: nested more than 64 levels deep" "$ERR" || fail "deep: $(errtext)"
    "$PY" -c "import sys; sys.exit(0 if $t1 - $t0 < 1.0 else 1)" ||
        fail "refusing the deep file took $t0 .. $t1 s"
    # Over 1 MiB: refused by its size.
    "$PY" -c 'import sys; sys.stdout.write("#" * (1 << 20) + "\n")' >"$WS/aipm.yaml"
    A -C "$WS" data versions
    expect_rc 1 "a 1 MiB aipm.yaml"
    grep -q "1048577 bytes" "$ERR" || fail "size: $(errtext)"
}

# The init template loads, points to docs/config.md and has no stale
# "(coming)"; the demo's generated aipm.yaml loads too.
case_config_templates_load() {
    mkws cfg-init
    grep -q "docs/config.md" "$WS/aipm.yaml" || fail "template does not point to docs/config.md"
    ! grep -q "(coming)" "$WS/aipm.yaml" || fail "template still says (coming)"
    A -C "$WS" experiment list
    expect_rc 0 "experiment list on the init template"
    A demo generate "$T/cfg-demo" --users 200 --days 30 --seed 1
    expect_rc 0 "demo generate"
    put_yaml "$WS" <"$T/cfg-demo/aipm.yaml"
    A -C "$WS" experiment list
    expect_rc 0 "experiment list on the demo's aipm.yaml"
    [ "$(wc -l <"$OUT")" -ge 4 ] || fail "demo experiments not listed"
}

# A workspace with a clear experiment winner: 150 users a variation seen
# on 2026-11-10, control 0, 1 or 2 "Report Viewed" (by user number mod 3),
# treatment 2, 3 or 4; in both arms every other user has one "Error Shown"
# (no harm); every user one "Report Exported" (a catalog event).
config_exp_ws() {
    mkws "$1"
    "$PY" - "$WS/ev.ndjson" <<'PY' || fail "could not write the events"
import json, sys
rows = []
n = 0
def ev(user, name, ts, props=None):
    global n
    n += 1
    rows.append({"type": "track", "messageId": "m%d" % n, "userId": user,
                 "event": name, "timestamp": ts, "properties": props or {}})
for arm, base in (("control", 0), ("treatment", 2)):
    for u in range(150):
        user = "%s-%d" % (arm, u)
        ev(user, "Experiment Viewed", "2026-11-10T10:00:00Z",
           {"experiment_id": "checkout", "variation_id": arm})
        for k in range(base + u % 3):
            ev(user, "Report Viewed", "2026-11-11T10:%02d:00Z" % k)
        if u % 2:
            ev(user, "Error Shown", "2026-11-12T10:00:00Z")
        ev(user, "Report Exported", "2026-11-12T11:00:00Z")
with open(sys.argv[1], "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
PY
    A -C "$WS" ingest events "$WS/ev.ndjson"
    expect_rc 0 "ingest the experiment events"
    put_yaml "$WS" <<YAML
product: P
store: aipm.db
catalog:
  - {key: export, events: [Report Exported]}
  - {key: share, events: [Report Shaerd]}
metrics:
  - {key: views, type: count, event: Report Viewed}
  - {key: errors, type: count, event: $2, direction: down}
kpis:
  - {key: err_rate, metric: errors}
experiments:
  - key: checkout
    variations: [control, treatment]
    metrics: [views]
    guardrails: [errors]
    start: 2026-11-01
    end: 2026-11-20
YAML
}

# A guardrail whose event never occurs (misspelled) gave a zero guardrail
# and `ship`: now a warning naming it, and the verdict is `invalid`.
case_config_unseen_guardrail_event() {
    config_exp_ws cfg-exp-ok "Error Shown"
    A -C "$WS" experiment analyze checkout --json --no-record
    expect_rc 0 "analyze with the right guardrail event"
    pycheck "$OUT" '
want(d["verdict"]["decision"] == "ship", "verdict %r, expected ship" % d["verdict"]["decision"])
want(d["warnings"] == [], "warnings %r" % d["warnings"])'
    config_exp_ws cfg-exp-typo "Error Shwon"
    A -C "$WS" experiment analyze checkout --json --no-record
    expect_rc 0 "analyze with the misspelled guardrail event"
    pycheck "$OUT" '
v = d["verdict"]
want(v["decision"] == "invalid", "verdict %r, expected invalid" % v["decision"])
want(any("guardrail errors cannot be judged" in r and "Error Shwon" in r for r in v["reasons"]), "reasons %r" % v["reasons"])
want(len(d["warnings"]) == 1 and "guardrail errors: event '"'"'Error Shwon'"'"' never occurs" in d["warnings"][0], "warnings %r" % d["warnings"])'
    # Text mode: the warning on stderr, the verdict on stdout.
    A -C "$WS" experiment analyze checkout --no-record
    expect_rc 0 "analyze (text) with the misspelled guardrail event"
    grep -q "^aipm: warning: guardrail errors: event 'Error Shwon' never occurs in the accepted events" "$ERR" ||
        fail "no warning on stderr: $(errtext)"
    grep -q "verdict: invalid" "$OUT" || fail "text verdict: $(head -c 300 "$OUT")"
}

# kpi warns about catalog events and KPI metric events that never occur.
case_config_unseen_kpi_events() {
    config_exp_ws cfg-kpi "Error Shwon"
    A -C "$WS" kpi --json
    expect_rc 0 "kpi --json"
    pycheck "$OUT" '
w = d["warnings"]
want(len(w) == 2, "expected 2 warnings, got %r" % w)
want(any(x.startswith("feature share: event '"'"'Report Shaerd'"'"' never occurs") for x in w), "no catalog warning: %r" % w)
want(any(x.startswith("KPI err_rate: event '"'"'Error Shwon'"'"' never occurs") for x in w), "no KPI warning: %r" % w)
want(not any("Report Exported" in x for x in w), "a warning for an event that occurs: %r" % w)'
    A -C "$WS" kpi
    expect_rc 0 "kpi (text)"
    [ "$(grep -c '^aipm: warning: ' "$ERR")" -eq 2 ] || fail "kpi text warnings: $(errtext)"
}

# A KPI key given twice (lines 3 and 4) used to load: analysis took the
# first and ignored the copy. Now a one-line error naming both lines.
case_config_duplicate_list_keys() {
    config_ws cfg-dupkpi <<'YAML'
metrics: [{key: a, type: count, event: E}]
kpis:
  - {key: act, metric: a, target: 1}
  - {key: act, metric: a, target: 2}
YAML
    A -C "$WS" kpi
    expect_rc 1 "kpi with a KPI key given twice"
    expect_one_line_stderr "duplicate KPI key"
    grep -q "aipm.yaml:4: kpis: key 'act' is given twice (first on line 3)" "$ERR" ||
        fail "duplicate KPI: $(errtext)"
    config_ws cfg-dupvar <<'YAML'
metrics: [{key: a, type: count, event: E}]
experiments:
  - {key: x, variations: [c, c], metrics: [a]}
YAML
    A -C "$WS" experiment list
    expect_rc 1 "variations: [c, c]"
    grep -q "aipm.yaml:3: experiments: variation 'c' is given twice (first on line 3)" "$ERR" ||
        fail "duplicate variation: $(errtext)"
}
