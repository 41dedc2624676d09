# Command-level cases for aipm.yaml (issue 12: a typo must never change a
# decision silently). Sourced by tests/cli/run.sh; uses its helpers.

# A workspace whose aipm.yaml is the text on stdin; its path in $WS.
config_ws() {
    mkws "$1"
    cat >"$WS/aipm.yaml"
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
    cp "$T/cfg-demo/aipm.yaml" "$WS/aipm.yaml"
    A -C "$WS" experiment list
    expect_rc 0 "experiment list on the demo's aipm.yaml"
    [ "$(wc -l <"$OUT")" -ge 4 ] || fail "demo experiments not listed"
}
