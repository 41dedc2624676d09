# tests/cli/cases/cli.sh - command-line usability (issue 12): unknown
# options and did-you-mean, messages that say what to do next, text from
# data escaped for a terminal, summaries and column headers, progress bars
# only on a terminal, experiment results kept when recording fails.
# Sourced by tests/cli/run.sh (helpers: A, expect_rc, fail, mkws, ...).

# expect_err_has TEXT CONTEXT: stderr contains TEXT (fixed string).
cli_err_has() {
    grep -qF -- "$1" "$ERR" || fail "$2: stderr lacks '$1': $(errtext)"
}

# cli_demo: a small demo workspace (seed 1, 2000 users, 60 days) in $WS,
# made once per run and shared by the cases that only read it.
cli_demo() {
    WS=$T/cli-demo
    if [ ! -f "$WS/.cli-ready" ]; then
        timeout 120 "$AIPM" demo "$WS" --seed 1 --users 2000 --days 60 \
            >"$T/.cli-demo.out" 2>&1 </dev/null ||
            fail "aipm demo for the cli cases failed: $(tail -c 300 "$T/.cli-demo.out")"
        : >"$WS/.cli-ready"
    fi
}

case_cli_unknown_option_and_did_you_mean() {
    cd "$T" || fail "cd"
    A --verbose x
    expect_rc 1 "aipm --verbose x"
    expect_one_line_stderr "aipm --verbose x"
    cli_err_has "unknown option '--verbose'" "aipm --verbose x"
    grep -q "not an aipm command" "$ERR" && fail "--verbose called a command: $(errtext)"
    A ingset
    expect_rc 1 "aipm ingset"
    cli_err_has "did you mean 'ingest'?" "aipm ingset"
    A help ingset
    expect_rc 1 "aipm help ingset"
    cli_err_has "did you mean 'ingest'?" "aipm help ingset"
    A --jsno version
    expect_rc 1 "aipm --jsno version"
    cli_err_has "did you mean '--json'?" "aipm --jsno version"
    # Far from every command: no suggestion.
    A frobnicate
    expect_rc 1 "aipm frobnicate"
    grep -q "did you mean" "$ERR" && fail "frobnicate got a suggestion: $(errtext)"
    # Options of a command, before the workspace is opened.
    A prioritize --limt 5
    expect_rc 1 "prioritize --limt"
    expect_one_line_stderr "prioritize --limt"
    cli_err_has "unknown option '--limt'" "prioritize --limt"
    cli_err_has "did you mean '--limit'?" "prioritize --limt"
    A prioritize --no-recrd
    expect_rc 1 "prioritize --no-recrd"
    cli_err_has "did you mean '--no-record'?" "prioritize --no-recrd (a flag)"
    mkws cli-opts
    A -C "$WS" experiment analyze x --cupde
    expect_rc 1 "experiment analyze --cupde"
    cli_err_has "did you mean '--cuped'?" "experiment analyze --cupde"
    A ingest events --formt csv x.csv
    expect_rc 1 "ingest --formt"
    cli_err_has "did you mean '--format'?" "ingest --formt"
    A kpi --frm 2026-01-01
    expect_rc 1 "kpi --frm"
    cli_err_has "did you mean '--from'?" "kpi --frm"
    A prioritize --limit=5
    expect_rc 1 "prioritize --limit=5"
    cli_err_has "'--limit 5' as two arguments" "prioritize --limit=5"
    A prioritize --limit
    expect_rc 1 "prioritize --limit (no value)"
    cli_err_has "--limit needs a value" "prioritize --limit"
    A experiment analyse x
    expect_rc 1 "experiment analyse"
    cli_err_has "did you mean 'aipm experiment analyze'?" "experiment analyse"
    A data verions
    expect_rc 1 "data verions"
    cli_err_has "did you mean 'aipm data versions'?" "data verions"
}
