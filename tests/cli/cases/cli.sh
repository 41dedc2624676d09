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
# Only the workspace matters here: a demo whose own checks differ from
# the truth (exit 2 with that message) still serves.
cli_demo() {
    local rc
    WS=$T/cli-demo
    if [ ! -f "$WS/.cli-ready" ]; then
        timeout 120 "$AIPM" $(demo_store "$WS") demo "$WS" --seed 1 --users 2000 --days 60 \
            >"$T/.cli-demo.out" 2>&1 </dev/null
        rc=$?
        [ "$rc" -eq 0 ] || { [ "$rc" -eq 2 ] && grep -q 'demo: what aipm found differs' "$T/.cli-demo.out"; } ||
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

# A backlog title with an ANSI escape (ESC [31m), a C1 CSI (U+009B, bytes
# C2 9B), a tab and a BEL reaches no terminal as such: prioritize, data
# versions (the source file name) and quarantine show them escaped. JSON
# keeps the text as it is (jansson escapes it).
case_cli_data_text_escaped() {
    local f b
    mkws cli-esc
    f=$T/$(printf 'evil\033[2Jname').csv
    printf 'id,title,description,area,effort,status,created_at,shipped_at,feature_key,reach,impact,confidence\n' >"$f"
    printf 'X-1,"Red \033[31mALERT\033[0m title",,data,2,idea,2026-01-01,,,100,1,1\n' >>"$f"
    printf 'X-2,"C1 \302\233""31m csi\ttab\007bel",,data,3,idea,2026-01-01,,,100,1,1\n' >>"$f"
    printf 'X-3,Plain caf\303\251,,data,1,idea,2026-01-01,,,100,1,1\n' >>"$f"
    A -C "$WS" ingest backlog "$f"
    expect_rc 0 "ingest backlog"
    # A quarantined row whose raw text holds an ESC (its batch is blocked).
    head -1 "$f" >"$T/bad.csv"
    printf 'X-\033[5m4,Bad effort,,data,abc,idea,2026-01-01,,,100,1,1\n' >>"$T/bad.csv"
    A -C "$WS" ingest backlog "$T/bad.csv"
    grep -q "$(printf '\033')" "$OUT" && fail "ingest report wrote an ESC byte"
    A -C "$WS" prioritize --no-record
    expect_rc 0 "prioritize"
    grep -q 'ALERT' "$OUT" || fail "prioritize does not show the titles: $(head -c 300 "$OUT")"
    grep -q "$(printf '\033')" "$OUT" && fail "prioritize wrote an ESC byte to the terminal"
    LC_ALL=C grep -q "$(printf '\302\233')" "$OUT" && fail "prioritize wrote a C1 CSI to the terminal"
    grep -q "$(printf '\007')" "$OUT" && fail "prioritize wrote a BEL"
    grep -qF '\x1b[31mALERT' "$OUT" || fail "ESC not shown as \\x1b: $(grep X-1 "$OUT")"
    grep -qF '\u009b' "$OUT" || fail "C1 CSI not shown as \\u009b: $(grep X-2 "$OUT")"
    grep -qF "$(printf 'caf\303\251')" "$OUT" || fail "valid UTF-8 text was escaped"
    A -C "$WS" prioritize --no-record --json
    expect_rc 0 "prioritize --json"
    pycheck "$OUT" '
t = {i["id"]: i["title"] for i in d["items"]}
want(t["X-1"] == "Red \x1b[31mALERT\x1b[0m title", "JSON title changed: %r" % t["X-1"])'
    A -C "$WS" data versions
    expect_rc 0 "data versions"
    grep -q "$(printf '\033')" "$OUT" && fail "data versions wrote an ESC byte (source name)"
    grep -qF 'evil\x1b[2Jname' "$OUT" || fail "data versions: source not escaped: $(cat "$OUT")"
    A -C "$WS" quarantine
    expect_rc 0 "quarantine"
    grep -q "$(printf '\033')" "$OUT" && fail "quarantine wrote an ESC byte"
    A -C "$WS" quality
    grep -q "$(printf '\033')" "$OUT" && fail "quality wrote an ESC byte"
    A -C "$WS" lineage
    grep -q "$(printf '\033')" "$OUT" && fail "lineage wrote an ESC byte"
    A -C "$WS" audit log
    grep -q "$(printf '\033')" "$OUT" && fail "audit log wrote an ESC byte"
    # A header column (an OSC title sequence, ESC ] 0 ; ... ESC \) that is
    # not in the contract, and a key with ESC [2J given twice with other
    # content: the report's "ignored columns" and "key conflicts" lines.
    f=$T/cli-esc-cols.csv
    printf 'id,title,description,area,effort,status,created_at,shipped_at,feature_key,reach,impact,confidence,\033]0;PWNED\033\\\n' >"$f"
    printf 'BL-\033[2J1,First,,data,2,idea,2026-01-01,,,100,1,1,x\n' >>"$f"
    printf 'BL-\033[2J1,Other,,data,3,idea,2026-01-01,,,100,1,1,y\n' >>"$f"
    A -C "$WS" ingest backlog "$f"
    grep -q "$(printf '\033')" "$OUT" "$ERR" && fail "ingest wrote an ESC byte (column or key)"
    grep -qF '\x1b]0;PWNED\x1b\' "$OUT" || fail "ingest: the column is not shown escaped: $(cat "$OUT")"
    grep -qF 'BL-\x1b[2J1' "$OUT" || fail "ingest: the key conflict is not shown escaped: $(cat "$OUT")"
    A -C "$WS" data versions --json
    b=$("$PY" -c 'import json,sys; print(max(v["batch_id"] for v in json.load(open(sys.argv[1]))["batches"]))' "$OUT" 2>/dev/null) ||
        fail "data versions --json: no batches: $(head -c 200 "$OUT")"
    A -C "$WS" data show "$b"
    grep -q "$(printf '\033')" "$OUT" "$ERR" && fail "data show wrote an ESC byte"
    grep -qF '\x1b]0;PWNED' "$OUT" || fail "data show: the column is not shown escaped: $(cat "$OUT")"
    A -C "$WS" quality
    grep -q "$(printf '\033')" "$OUT" "$ERR" && fail "quality wrote an ESC byte (column or key)"
    true
}

# Errors that say what to do next: a missing batch, a missing experiment,
# a file that is not a store, a full disk.
case_cli_messages_say_what_next() {
    local W
    mkws cli-msg
    W=$WS
    A -C "$W" data show 999
    expect_rc 1 "data show 999"
    expect_one_line_stderr "data show 999"
    cli_err_has 'no batch 999; list them with `aipm data versions`' "data show 999"
    A -C "$W" data accept 999 --reason test
    expect_rc 1 "data accept 999"
    cli_err_has 'list them with `aipm data versions`' "data accept 999"
    # The demo's aipm.yaml has experiments; a fresh one has none.
    A -C "$W" experiment analyze nosuch
    expect_rc 1 "experiment analyze nosuch (no experiments)"
    cli_err_has "aipm.yaml has no experiments" "experiment analyze, none configured"
    cli_demo
    A -C "$WS" experiment analyze onbording
    expect_rc 1 "experiment analyze onbording"
    expect_one_line_stderr "experiment analyze onbording"
    cli_err_has "no experiment 'onbording'" "experiment analyze onbording"
    cli_err_has "onboarding_checklist, new_navigation" "experiment analyze onbording (the keys)"
    # Not an SQLite file: the message names it.
    printf 'hello, not a database\n' >"$T/notdb.db"
    A --store "$T/notdb.db" data versions
    expect_rc 1 "data versions on a text file"
    expect_one_line_stderr "data versions on a text file"
    cli_err_has "$T/notdb.db" "not a database names the file"
    cli_err_has "not an aipm store" "not a database"
    # A full disk: an 800 KB tmpfs (room for a new store and its WAL) in a private mount namespace (skipped
    # where namespaces or mounts are not allowed).
    if unshare -rm sh -c "mount -t tmpfs -o size=400k tmpfs '$T' 2>/dev/null" 2>/dev/null; then
        "$PY" -c '
print("id,title,description,area,effort,status,created_at,shipped_at,feature_key,reach,impact,confidence")
for i in range(20000):
    print("X-%d,Title %d %s,,data,2,idea,2026-01-01,,,100,1,1" % (i, i, "x" * 50))' >"$T/big.csv"
        mkdir -p "$T/full"
        unshare -rm sh -c "mount -t tmpfs -o size=800k tmpfs '$T/full' &&
            '$AIPM' init '$T/full/ws' >/dev/null &&
            '$AIPM' -C '$T/full/ws' ingest backlog '$T/big.csv' >'$OUT' 2>'$ERR'"
        RC=$?
        expect_rc 1 "ingest onto a full disk"
        expect_one_line_stderr "ingest onto a full disk"
        cli_err_has "the disk holding $T/full/ws/aipm.db is full" "full disk"
        # A file aipm writes itself (aipm.yaml at init) on a full disk.
        mkdir -p "$T/full2"
        unshare -rm sh -c "mount -t tmpfs -o size=8k tmpfs '$T/full2' &&
            head -c 8192 /dev/zero >'$T/full2/filler' 2>/dev/null;
            '$AIPM' init '$T/full2/ws' >'$OUT' 2>'$ERR'"
        RC=$?
        expect_rc 1 "init onto a full disk"
        expect_one_line_stderr "init onto a full disk"
        # Init builds in a folder beside the target, so the store there is
        # the first file to meet the full disk; either message says what to do.
        grep -q "is full" "$ERR" && grep -q "free some space" "$ERR" ||
            fail "init onto a full disk: no full-disk hint: $(errtext)"
        [ ! -e "$T/full2/ws" ] || fail "init onto a full disk left $T/full2/ws"
        # Read-only commands on a workspace copied to a full disk (no -wal
        # or -shm, as a writer leaves it): they work and leave no -wal/-shm.
        "$AIPM" init "$T/rows" >/dev/null && "$AIPM" -C "$T/rows" ingest events \
            "$EX/events.ndjson" >/dev/null || fail "making the workspace to copy"
        rm -f "$T/rows/aipm.db-wal" "$T/rows/aipm.db-shm"
        before=$(ls -A "$T/rows" | tr '\n' ' ')
        mkdir -p "$T/full3"
        unshare -rm sh -c "mount -t tmpfs -o size=400k tmpfs '$T/full3' &&
            cp -r '$T/rows' '$T/full3/ws' &&
            { head -c 1000000 /dev/zero >'$T/full3/filler'; } 2>/dev/null;
            for c in 'data versions' quality kpi 'audit verify' lineage 'graph stats'; do
                '$AIPM' -C '$T/full3/ws' \$c >/dev/null 2>'$T/full3.err' ||
                    echo \"rc \$? for \$c: \$(head -c 200 '$T/full3.err')\"
            done >'$OUT';
            ls -A '$T/full3/ws' >'$T/full3.ls'"
        [ ! -s "$OUT" ] || fail "read-only commands on a full disk: $(cat "$OUT")"
        [ "$(tr '\n' ' ' <"$T/full3.ls")" = "$before" ] ||
            fail "read-only commands on a full disk left: $(tr '\n' ' ' <"$T/full3.ls") (before: $before)"
    else
        echo "# cli_messages_say_what_next: no mount namespace, full-disk check skipped" >&2
    fi
}

# prioritize says how many items --limit hid; experiment list has column
# headers; quality opens with a table, a line per dataset.
case_cli_summaries_and_headers() {
    local n
    cli_demo
    A -C "$WS" prioritize --no-record --json
    expect_rc 0 "prioritize --json"
    n=$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$OUT")
    [ "$n" -gt 3 ] || fail "the demo backlog has only $n open items"
    A -C "$WS" prioritize --no-record --limit 3
    expect_rc 0 "prioritize --limit 3"
    grep -q "^$((n - 3)) more item(s) not shown" "$OUT" ||
        fail "prioritize --limit 3 does not say $((n - 3)) more: $(tail -n 4 "$OUT" | tr '\n' ' ')"
    A -C "$WS" prioritize --no-record --limit 0
    expect_rc 0 "prioritize --limit 0"
    grep -q "not shown" "$OUT" && fail "--limit 0 shows all, yet says some were not shown"
    A -C "$WS" experiment list
    expect_rc 0 "experiment list"
    head -n 1 "$OUT" | grep -Eq '^KEY +START +END +VARIATIONS +METRICS$' ||
        fail "experiment list header: $(head -n 1 "$OUT")"
    [ "$(awk 'END { print NR }' "$OUT")" -eq 5 ] || fail "experiment list: $(awk 'END { print NR }' "$OUT") lines, expected a header and 4 experiments"
    A -C "$WS" quality
    expect_rc 0 "quality"
    head -n 1 "$OUT" | grep -Eq '^DATASET +BATCH +STATUS +VERDICT +READ +ACCEPTED +DUPS +QUARANTINED$' ||
        fail "quality does not open with the summary header: $(head -n 1 "$OUT")"
    A -C "$WS" data versions --json
    cp "$OUT" "$T/versions.json"
    A -C "$WS" quality
    # Each summary line matches that dataset's latest batch (data versions).
    pycheck "$T/versions.json" '
rows = {}
for line in open(args[0]).read().split("\n\n")[0].splitlines()[1:]:
    f = line.split()
    rows[f[0]] = f
want(len(rows) == 5, "summary has %d datasets: %r" % (len(rows), sorted(rows)))
for ds in rows:
    b = max((v for v in d["batches"] if v["dataset"] == ds), key=lambda v: v["batch_id"])
    want(rows[ds][1:] == [str(b["batch_id"]), b["status"], b["verdict"], str(b["read"]), str(b["accepted"]), str(b["duplicates"]), str(b["quarantined"])],
         "%s: summary %r, batch %r" % (ds, rows[ds], b))' "$OUT"
}

# Freshness is never negative: rows dated after now say 0 h and are a
# warning of their own (future_timestamps), naming how far ahead.
case_cli_future_rows_warn() {
    mkws cli-future
    # AIPM_NOW is 2026-11-27T00:00:00Z (run.sh); the newest row is 12 h
    # later (events more than a day ahead are quarantined as bad_timestamp).
    printf '%s\n' \
        '{"type":"track","messageId":"f-1","userId":"u-1","event":"Page Viewed","timestamp":"2026-11-26T10:00:00.000Z"}' \
        '{"type":"track","messageId":"f-2","userId":"u-1","event":"Page Viewed","timestamp":"2026-11-27T12:00:00.000Z"}' \
        >"$T/future.ndjson"
    A -C "$WS" ingest events "$T/future.ndjson"
    expect_rc 0 "ingest future-dated events"
    grep -q -- '-[0-9.]* h old' "$OUT" && fail "negative age: $(grep freshness "$OUT")"
    grep -q 'freshness .* 0.0 h old' "$OUT" || fail "freshness: $(grep freshness "$OUT")"
    grep -q 'future rows .*2026-11-27T12:00:00.000Z, 12.0 h after now *warn' "$OUT" ||
        fail "no future-rows warning: $(tr '\n' ' ' <"$OUT")"
    A -C "$WS" quality --json
    pycheck "$OUT" '
g = {x["gate"]: x for x in d["datasets"][0]["gates"]}
want(g["freshness"]["age_hours"] == 0, "age_hours %r" % g["freshness"]["age_hours"])
want(g["future_timestamps"]["result"] == "warn", "future gate %r" % g.get("future_timestamps"))
want(abs(g["future_timestamps"]["hours_ahead"] - 12) < 1e-9, "hours_ahead %r" % g["future_timestamps"]["hours_ahead"])
want(d["datasets"][0]["verdict"] == "warn", "verdict %r" % d["datasets"][0]["verdict"])'
}

# Progress bars: on a terminal, demo generate counts days (not "0.0 MB"),
# and kpi, prioritize and feedback links show a bar; stderr that is not a
# terminal gets no bar at all (no carriage return, no label).
case_cli_progress_only_on_terminal() {
    local tty
    cli_demo
    A demo generate "$T/gen-notty" --users 300 --days 30 --seed 1
    expect_rc 0 "demo generate (stderr a file)"
    [ -s "$ERR" ] && fail "demo generate wrote to a non-terminal stderr: $(errtext)"
    A -C "$WS" kpi
    expect_rc 0 "kpi"
    [ -s "$ERR" ] && fail "kpi wrote to a non-terminal stderr: $(errtext)"
    A -C "$WS" prioritize --no-record
    expect_rc 0 "prioritize"
    [ -s "$ERR" ] && fail "prioritize wrote to a non-terminal stderr: $(errtext)"
    grep -q "$(printf '\r')" "$OUT" && fail "prioritize put a carriage return on stdout"
    A -C "$WS" feedback links --summary
    expect_rc 0 "feedback links --summary"
    [ -s "$ERR" ] && fail "feedback links wrote to a non-terminal stderr: $(errtext)"
    if ! command -v script >/dev/null 2>&1; then
        echo "# cli_progress_only_on_terminal: no script(1), terminal half skipped" >&2
        return 0
    fi
    tty=$T/tty.out
    script -qc "'$AIPM' demo generate '$T/gen-tty' --users 300 --days 30 --seed 1" /dev/null >"$tty" </dev/null ||
        fail "demo generate under script failed: $(tail -c 300 "$tty")"
    grep -q 'generate (days) *\[#*\] 100%  30 of 30' "$tty" ||
        fail "demo generate shows no day count: $(tr '\r' '\n' <"$tty" | head -c 300)"
    grep -q 'MB' "$tty" && fail "demo generate still shows a byte bar: $(tr '\r' '\n' <"$tty" | grep MB | head -1)"
    script -qc "'$AIPM' -C '$WS' kpi" /dev/null >"$tty" </dev/null || fail "kpi under script failed"
    grep -q 'kpi  *\[#*\.*\] *[0-9]*%  [0-9] of [0-9]' "$tty" || fail "kpi shows no bar on a terminal"
    script -qc "'$AIPM' -C '$WS' prioritize --no-record" /dev/null >"$tty" </dev/null || fail "prioritize under script failed"
    grep -q 'prioritize  *\[#*\.*\] *100%  [0-9]* of [0-9]*' "$tty" || fail "prioritize shows no bar on a terminal"
    script -qc "'$AIPM' -C '$WS' feedback links --summary" /dev/null >"$tty" </dev/null || fail "feedback links under script failed"
    grep -q 'feedback links  *\[#*\] 100%  [0-9]* of [0-9]*' "$tty" ||
        fail "feedback links shows no row count: $(tr '\r' '\n' <"$tty" | head -c 300)"
    grep -q 'MB' "$tty" && fail "feedback links still shows a byte bar"
    true
}

# experiment analyze whose decision record cannot be written (a trigger
# refuses every new decision, as a lock or a full disk would) still shows
# the analysis, then says it is not recorded, and exits non-zero.
case_cli_analyze_kept_when_record_fails() {
    local W
    cli_demo
    W=$T/cli-norecord
    ws_copy "$WS" "$W"
    if on_pg; then
        sql "$W/aipm.db" "CREATE FUNCTION cli_frozen() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'decisions are frozen'; END\$\$; CREATE TRIGGER cli_test_no_decisions BEFORE INSERT ON decisions FOR EACH ROW EXECUTE FUNCTION cli_frozen();" >/dev/null
    else
        sql "$W/aipm.db" "CREATE TRIGGER cli_test_no_decisions BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'decisions are frozen'); END;" >/dev/null
    fi
    A -C "$W" experiment analyze onboarding_checklist
    [ "$RC" -ne 0 ] || fail "exit 0 although the record failed"
    grep -q 'verdict: ' "$OUT" || fail "the analysis was not shown: $(head -c 200 "$OUT")"
    expect_one_line_stderr "analyze, record refused"
    cli_err_has "NOT recorded as a decision" "analyze, record refused"
    cli_err_has "decisions are frozen" "analyze, record refused (the cause)"
    A -C "$W" experiment analyze onboarding_checklist --json
    [ "$RC" -ne 0 ] || fail "--json: exit 0 although the record failed"
    pycheck "$OUT" '
want("decisions are frozen" in d.get("record_error", ""), "record_error %r" % d.get("record_error"))
want("decision_id" not in d, "a decision_id for a record that failed")
want(d["verdict"]["decision"] in ("ship", "do_not_ship", "keep_running", "invalid"), "verdict %r" % d["verdict"])'
    [ "$(sql "$W/aipm.db" "select count(*) from decisions where kind = 'experiment' and subject = 'onboarding_checklist'")" = \
      "$(sql "$WS/aipm.db" "select count(*) from decisions where kind = 'experiment' and subject = 'onboarding_checklist'")" ] ||
        fail "a decision was written despite the trigger"
    # --no-record is unaffected.
    A -C "$W" experiment analyze onboarding_checklist --no-record
    expect_rc 0 "analyze --no-record"
}
