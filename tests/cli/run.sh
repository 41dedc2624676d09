#!/usr/bin/env bash
# Command-level tests for the aipm CLI.
#
#   tests/cli/run.sh /path/to/aipm [GROUP | cases/NAME | case_NAME]...
#
# With no selection every case runs. A GROUP is one of the core groups
# below (setup ingestion audit analysis adoption, and other: any core case
# not in one), cases/NAME the cases of tests/cli/cases/NAME.sh; CTest runs
# one test per group (CMakeLists.txt). With CLI_FIGURES=FILE the "# "
# figure lines the checks print are also written to FILE (`make test`
# prints them after ctest, which hides a passing test's output).
# Each case is a function named case_*; it runs in its own subshell inside a
# fresh temporary directory, so one failing case never stops the others.
# Expected counts come from the hand-written manifests in tests/data/*.expect.json
# (and the example counts stated in tests/data/README.md), never from aipm output.
# Prints `ok - NAME` / `not ok - NAME: WHY` per case, then `N passed, M failed`.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 /path/to/aipm [GROUP | cases/NAME | case_NAME]..." >&2
    exit 2
fi
AIPM=$1
shift
SELECTION=("$@")
case $AIPM in /*) ;; *) AIPM=$PWD/$AIPM ;; esac
if [ ! -x "$AIPM" ]; then
    echo "$0: $AIPM is not an executable" >&2
    exit 2
fi

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=$ROOT/tests/data
EX=$ROOT/examples
export CLI_DIR=$HERE
export AIPM_NOW=2026-11-27T00:00:00Z
export LC_ALL=C
# Resolve python3 once: a version-manager shim can cost a second per call.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=python3
[ -x "$PY" ] || PY=python3

T=$(mktemp -d "${TMPDIR:-/tmp}/aipm-cli.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
# Test a private copy: the build tree's binary may be relinked while we run.
cp "$AIPM" "$T/aipm" || exit 2
AIPM=$T/aipm
OUT=$T/.out
ERR=$T/.err
WHY=$T/.why
RC=0

# ---------------------------------------------------------------- helpers ---

# fail MESSAGE: end the current case (it runs in a subshell) with a reason.
fail() {
    printf '%s' "$*" | tr '\n\t' '  ' | cut -c1-400 >"$WHY"
    exit 1
}

# A ARGS...: run aipm; stdout in $OUT, stderr in $ERR, status in $RC.
A() {
    timeout 60 "$AIPM" "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
}

errtext() { head -c 300 "$ERR" | tr '\n' ' '; }

# expect_rc N CONTEXT
expect_rc() {
    [ "$RC" -eq "$1" ] || fail "$2: exit $RC, expected $1; stderr: $(errtext)"
}

# expect_one_line_stderr CONTEXT: exactly one non-empty line on stderr.
expect_one_line_stderr() {
    local n
    n=$(awk 'END { print NR }' "$ERR")
    [ "$n" -eq 1 ] && [ -n "$(tr -d '[:space:]' <"$ERR")" ] ||
        fail "$1: expected exactly one line on stderr, got $n: $(errtext)"
}

# pycheck JSONFILE CODE [ARGS...]: run a Python check (see clilib.py);
# JSONFILE '-' means no file. The case fails with the check's message; on
# success, the lines it prints that start with "# " are shown on stderr.
pycheck() {
    local f=$1 code=$2 msg
    shift 2
    msg=$("$PY" -c 'import os, sys
sys.path.insert(0, os.environ["CLI_DIR"])
import clilib
sys.exit(clilib.run(sys.argv[1], sys.argv[2:]))' "$code" "$f" "$@" 2>&1) ||
        fail "${msg:-python check failed}"
    # A check's own report lines ("# ...") go to the test's output.
    printf '%s\n' "$msg" | grep '^# ' | tee -a "${CLI_FIGURES:-/dev/null}" >&2 || true
}

# With AIPM_TEST_PG_DIR (a server that tests/pg/server.sh started; CTest's
# fixture `pg`), the suite runs on PostgreSQL: every workspace mkws makes
# keeps its store in a fresh database of that server, and a case that
# reads the SQLite file itself says so with sqlite_only and is skipped.
PGDIR=${AIPM_TEST_PG_DIR:-}
on_pg() { [ -n "$PGDIR" ]; }
# The insertion-order column tests' SQL names (SQLite's rowid).
RID=rowid
on_pg && RID=rid

# pg_url NAME: the URL of a fresh database for workspace NAME.
pg_url() {
    local name
    name=$(printf 'w_%s_%s' "${T##*.}" "$1" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_\n' '_')
    "$ROOT/tests/pg/server.sh" newdb "$PGDIR" "${name:0:60}" 2>"$T/.pg.err" ||
        fail "no database for $1: $(head -c 200 "$T/.pg.err")"
}

# demo_store DIR: the global option that gives `aipm demo DIR` its store
# on PostgreSQL (nothing on SQLite): "$AIPM" $(demo_store "$W") demo "$W".
demo_store() {
    on_pg && printf -- '--store %s' "$(pg_url "$(basename "$1")")"
}

# put_yaml W: stdin becomes W's aipm.yaml; on PostgreSQL its `store:`
# line is kept, last (so line numbers stay the text's; a `store:` of the
# text is dropped).
put_yaml() {
    local keep=""
    on_pg && keep=$(grep '^store:' "$1/aipm.yaml")
    if [ -n "$keep" ]; then
        { grep -v '^store:'; echo; echo "$keep"; } >"$1/aipm.yaml.new"
        mv "$1/aipm.yaml.new" "$1/aipm.yaml"
    else
        cat >"$1/aipm.yaml"
    fi
}

# store_bytes W: the size of W's store in bytes.
store_bytes() {
    if on_pg; then
        sql "$1/aipm.db" "SELECT pg_database_size(current_database())"
    else
        stat -c %s "$1/aipm.db"
    fi
}

# store_of W: what --store names for workspace W's store.
store_of() {
    if on_pg; then
        sed -n 's/^store: "\(.*\)".*/\1/p' "$1/aipm.yaml"
    else
        echo "$1/aipm.db"
    fi
}

# intact DB: "ok" when the store is whole (SQLite's integrity_check; on
# PostgreSQL, whose pages are its own concern, that it answers).
intact() {
    if on_pg; then
        [ "$(sql "$1" 'SELECT count(*) FROM batches' | grep -c '^[0-9]')" = 1 ] && echo ok
    else
        sql "$1" 'PRAGMA integrity_check'
    fi
}

# sqlite_only WHY: skip the case on PostgreSQL (it reads the SQLite file).
sqlite_only() {
    if on_pg; then
        printf 'SKIP %s' "$*" >"$WHY"
        exit 77
    fi
}

# mkws NAME: a fresh workspace $T/NAME; its path in $WS.
mkws() {
    local store=()
    on_pg && store=(--store "$(pg_url "$1")")
    "$AIPM" "${store[@]}" init "$T/$1" >/dev/null 2>"$T/.init.err" ||
        fail "aipm init $T/$1 failed: $(head -c 200 "$T/.init.err")"
    WS=$T/$1
}

# ingest_json WS DATASET FILE SAVEAS [OPTIONS...]: ingest with --json, keep the report.
ingest_json() {
    local ws=$1 ds=$2 file=$3 save=$4
    shift 4
    A -C "$ws" ingest "$ds" "$file" --json "$@"
    cp "$OUT" "$save"
}

# versions WS SAVEAS: `data versions --json` into SAVEAS (must succeed).
versions() {
    A -C "$1" data versions --json
    expect_rc 0 "data versions"
    cp "$OUT" "$2"
}

# sql DB QUERY: run QUERY on a workspace's store (DB its aipm.db); on
# PostgreSQL on the database its aipm.yaml names, with the same output
# form (columns joined by '|', no header).
sql() {
    if on_pg; then
        # SQLite's group_concat(x, sep) is string_agg(x, sep) here
        psql -X -q -A -t -d "$(store_of "$(dirname "$1")")" -c "SET search_path TO aipm" \
            -c "${2//group_concat(/string_agg(}" 2>&1
    else
        sqlite3 "$1" "$2" 2>&1
    fi
}

# Small, hand-written expectations for the clean example CSV files
# (tests/data/README.md: "backlog 25, feedback 40, signals 60, graph 30 rows accepted").
example_manifest() {
    printf '{"read": %d, "accepted": %d, "duplicates": 0, "quarantined": 0, "reasons": {}}\n' "$2" "$2" \
        >"$T/example_$1.expect.json"
    echo "$T/example_$1.expect.json"
}

COMMANDS="init ingest data quality quarantine lineage audit kpi experiment feedback decisions users keys policy model monitor prioritize simulate plan tokens serve report graph forecast demo help version"

# ------------------------------------------------ 1. init, help, unknown ---

case_init_creates_workspace() {
    sqlite_only "checks the aipm.db file (backends.sh checks a PostgreSQL init)"
    A init "$T/w0"
    expect_rc 0 "aipm init"
    [ -f "$T/w0/aipm.yaml" ] || fail "no aipm.yaml"
    [ -f "$T/w0/aipm.db" ] || fail "no aipm.db"
    [ "$(sql "$T/w0/aipm.db" 'PRAGMA integrity_check')" = ok ] || fail "aipm.db is not a healthy SQLite file"
    A -C "$T/w0" audit log --json
    expect_rc 0 "audit log"
    pycheck "$OUT" '
e = d["entries"]
want(len(e) == 1, "a new workspace has %d audit entries, expected 1" % len(e))
want(e[0]["entry"]["action"] == "init", "first audit entry is %r" % e[0]["entry"]["action"])'
}

case_init_twice_refused() {
    local W sum1 sum2 db1 db2
    mkws w1; W=$WS
    sum1=$(sha256sum <"$W/aipm.yaml")
    db1=$(sql "$W/aipm.db" 'select count(*) from audit')
    A init "$W"
    expect_rc 1 "second aipm init"
    expect_one_line_stderr "second aipm init"
    sum2=$(sha256sum <"$W/aipm.yaml")
    [ "$sum1" = "$sum2" ] || fail "second init changed aipm.yaml"
    db2=$(sql "$W/aipm.db" 'select count(*) from audit')
    [ "$db1" = "$db2" ] || fail "second init changed the audit log ($db1 -> $db2 entries)"
    # the same through -C
    A -C "$W" init
    expect_rc 1 "aipm -C W init on a workspace"
    sum2=$(sha256sum <"$W/aipm.yaml")
    [ "$sum1" = "$sum2" ] || fail "aipm -C W init changed aipm.yaml"
}

case_help_lists_commands() {
    local c
    cd "$T" || fail "cd"
    A help
    expect_rc 0 "aipm help"
    grep -qi 'usage' "$OUT" || fail "aipm help prints no usage"
    for c in $COMMANDS; do
        grep -Eq "^[[:space:]]+${c}[[:space:]]" "$OUT" || fail "aipm help does not list '$c'"
    done
}

case_every_command_help() {
    local c flag
    mkdir -p "$T/empty" && cd "$T/empty" || fail "cd"
    for c in $COMMANDS; do
        for flag in --help -h; do
            A "$c" "$flag"
            expect_rc 0 "aipm $c $flag"
            grep -qi '^usage: aipm' "$OUT" || fail "aipm $c $flag prints no 'usage: aipm' line"
        done
        A help "$c"
        expect_rc 0 "aipm help $c"
        grep -qi '^usage: aipm' "$OUT" || fail "aipm help $c prints no usage"
    done
    A version
    expect_rc 0 "aipm version"
    grep -Eq '[0-9]+\.[0-9]+\.[0-9]+' "$OUT" || fail "aipm version prints no version number"
}

case_unknown_command() {
    cd "$T" || fail "cd"
    A frobnicate
    expect_rc 1 "aipm frobnicate"
    expect_one_line_stderr "aipm frobnicate"
    [ ! -s "$OUT" ] || fail "unknown command printed on stdout"
    A -C "$T" frobnicate --json
    expect_rc 1 "aipm -C T frobnicate --json"
    expect_one_line_stderr "aipm -C T frobnicate --json"
}

# ---------------------------------------------------- 2. outside a workspace

case_outside_workspace() {
    local args
    mkdir -p "$T/nows" && cd "$T/nows" || fail "cd"
    while IFS= read -r args; do
        # shellcheck disable=SC2086
        A $args
        expect_rc 1 "aipm $args outside a workspace"
        expect_one_line_stderr "aipm $args outside a workspace"
        grep -q 'aipm init' "$ERR" || fail "aipm $args outside a workspace: stderr does not name 'aipm init': $(errtext)"
    done <<EOF
data versions
data versions --json
data show 1
quality
quarantine
lineage
lineage --openlineage
audit log
audit verify
ingest events $EX/events.ndjson
EOF
    [ ! -e "$T/nows/aipm.db" ] || fail "a command outside a workspace created aipm.db"
}

# -------------------------------------------------- 3/4. ingest the examples

case_ingest_examples_json() {
    local W ds f m
    mkws ex; W=$WS
    for ds in events backlog feedback signals graph; do
        case $ds in
            events)   f=$EX/events.ndjson; m=$DATA/examples_events.expect.json ;;
            backlog)  f=$EX/backlog.csv;   m=$(example_manifest backlog 25) ;;
            feedback) f=$EX/feedback.csv;  m=$(example_manifest feedback 40) ;;
            signals)  f=$EX/signals.csv;   m=$(example_manifest signals 60) ;;
            graph)    f=$EX/graph.csv;     m=$(example_manifest graph 30) ;;
        esac
        ingest_json "$W" "$ds" "$f" "$T/$ds.json"
        expect_rc 0 "ingest $ds $(basename "$f")"
        pycheck "$T/$ds.json" '
f, m, ds = args
match_manifest(d, load(m), ds)
want(d["source_sha256"] == sha256_of(f), "%s: source_sha256 %s is not the sha256 of the file" % (ds, d["source_sha256"]))
want(isinstance(d["batch_id"], int), "%s: batch_id is not an integer" % ds)
want(d["verdict"] in ("pass", "warn"), "%s: verdict %r for a clean file" % (ds, d["verdict"]))
want(isinstance(d["gates"], list) and d["gates"], "%s: gates is empty" % ds)
want(isinstance(d["null_rates"], list), "%s: null_rates is not a list" % ds)' "$f" "$m" "$ds"
    done
    versions "$W" "$T/v.json"
    pycheck "$T/v.json" '
b = d["batches"]
want(len(b) == 5, "%d batches after 5 ingests" % len(b))
want(all(x["status"] == "accepted" for x in b), "not all example batches are accepted: %s" % [x["status"] for x in b])'
    [ "$(sql "$W/aipm.db" 'select count(*) from v_events')" = 300 ] ||
        fail "v_events has $(sql "$W/aipm.db" 'select count(*) from v_events') rows, expected 300"
}

case_reingest_is_all_duplicates() {
    local W
    mkws re; W=$WS
    ingest_json "$W" events "$EX/events.ndjson" "$T/1.json"
    expect_rc 0 "first ingest"
    ingest_json "$W" events "$EX/events.ndjson" "$T/2.json"
    expect_rc 0 "second ingest of the same file"
    pycheck "$T/2.json" '
m = load(args[0])
want(d["read"] == m["read"], "read %d, manifest %d" % (d["read"], m["read"]))
want(d["accepted"] == 0, "re-ingest accepted %d rows" % d["accepted"])
want(d["quarantined"] == m["quarantined"], "re-ingest quarantined %d, manifest %d" % (d["quarantined"], m["quarantined"]))
want(d["duplicates"] == d["read"] - d["quarantined"], "duplicates %d != read - quarantined (%d)" % (d["duplicates"], d["read"] - d["quarantined"]))' \
        "$DATA/examples_events.expect.json"
    [ "$(sql "$W/aipm.db" 'select count(*) from v_events')" = 300 ] ||
        fail "v_events changed after a re-ingest: $(sql "$W/aipm.db" 'select count(*) from v_events')"
    # and a CSV file
    ingest_json "$W" backlog "$EX/backlog.csv" "$T/3.json"
    expect_rc 0 "first backlog ingest"
    ingest_json "$W" backlog "$EX/backlog.csv" "$T/4.json"
    expect_rc 0 "second backlog ingest"
    pycheck "$T/4.json" '
want((d["read"], d["accepted"], d["duplicates"], d["quarantined"]) == (25, 0, 25, 0),
     "backlog re-ingest: read/accepted/duplicates/quarantined = %r, expected (25, 0, 25, 0)" % ((d["read"], d["accepted"], d["duplicates"], d["quarantined"]),))'
}

# ------------------------------------------------------------ 5. bad events

check_bad_events() { # WS FILE LABEL
    local W=$1 f=$2
    ingest_json "$W" events "$f" "$T/bad.json"
    expect_rc 3 "$3 (blocked batch)"
    pycheck "$T/bad.json" '
f, m = args
match_manifest(d, load(m), "bad_events")
want(d["source_sha256"] == sha256_of(f), "source_sha256 is not the sha256 of %s" % f)
want(d["verdict"] == "blocked", "verdict %r, expected blocked (32/95 quarantined > 5%%)" % d["verdict"])' \
        "$f" "$DATA/bad_events.expect.json"
    versions "$W" "$T/v.json"
    pycheck "$T/v.json" '
bid = load(args[0])["batch_id"]
b = [x for x in d["batches"] if x["batch_id"] == bid]
want(len(b) == 1, "batch %s not in data versions" % bid)
want(b[0]["status"] == "staged", "blocked batch has status %r, expected staged" % b[0]["status"])' "$T/bad.json"
    [ "$(sql "$W/aipm.db" 'select count(*) from v_events')" = 0 ] ||
        fail "rows of a staged batch are visible in v_events"
}

case_bad_events_ndjson() {
    local W
    mkws be; W=$WS
    check_bad_events "$W" "$DATA/bad_events.ndjson" "ingest bad_events.ndjson"
}

case_bad_events_gz() {
    local W
    mkws begz; W=$WS
    check_bad_events "$W" "$DATA/bad_events.ndjson.gz" "ingest bad_events.ndjson.gz"
}

case_bad_events_max_line_1024() {
    local W
    mkws be1k; W=$WS
    ingest_json "$W" events "$DATA/bad_events.ndjson" "$T/b.json" --max-line 1024
    expect_rc 3 "ingest --max-line 1024"
    pycheck "$T/b.json" 'match_manifest(d, load(args[0])["variants"]["max_line_length=1024"], "max-line 1024")' \
        "$DATA/bad_events.expect.json"
}

case_quarantine_by_reason() {
    local W
    mkws q; W=$WS
    A -C "$W" ingest events "$DATA/bad_events.ndjson"
    expect_rc 3 "ingest bad_events"
    A -C "$W" quarantine --json --reason invalid_utf8
    expect_rc 0 "quarantine --json --reason invalid_utf8"
    pycheck "$OUT" '
m, path = args
rows = d["rows"]
n = load(m)["reasons"]["invalid_utf8"]
want(len(rows) == n, "%d invalid_utf8 rows, manifest says %d" % (len(rows), n))
lines = open(path, "rb").read().split(b"\n")
for r in rows:
    want(r["reason"] == "invalid_utf8", "row with reason %r" % r["reason"])
    want(isinstance(r.get("file"), str) and r["file"].endswith("bad_events.ndjson"), "row file %r" % r.get("file"))
    ln = r.get("line")
    want(isinstance(ln, int) and 1 <= ln <= len(lines), "row line %r" % ln)
    try:
        lines[ln - 1].decode("utf-8")
        want(False, "line %d of the file is valid UTF-8, but is reported as invalid_utf8" % ln)
    except UnicodeDecodeError:
        pass' "$DATA/bad_events.expect.json" "$DATA/bad_events.ndjson"
    # every reason: numbers per reason equal the manifest
    A -C "$W" quarantine --json --limit 0
    expect_rc 0 "quarantine --json --limit 0"
    pycheck "$OUT" '
m = load(args[0])
got = {}
for r in d["rows"]:
    got[r["reason"]] = got.get(r["reason"], 0) + 1
want(got == m["reasons"], "quarantine rows per reason %s, manifest %s" % (got, m["reasons"]))' \
        "$DATA/bad_events.expect.json"
}

case_quarantine_limit() {
    local W n
    mkws ql; W=$WS
    A -C "$W" ingest events "$DATA/bad_events.ndjson"
    expect_rc 3 "ingest bad_events"
    A -C "$W" quarantine --json --limit 3
    expect_rc 0 "quarantine --json --limit 3"
    pycheck "$OUT" 'want(len(d["rows"]) == 3, "--json --limit 3 gave %d rows" % len(d["rows"]))'
    A -C "$W" quarantine --limit 3
    expect_rc 0 "quarantine --limit 3"
    # a row starts at column 0 (file:line ...); its raw text is indented
    n=$(grep -c '^[^[:space:]]' "$OUT")
    [ "$n" -eq 3 ] || fail "quarantine --limit 3 printed $n rows"
}

# A detail that ends in a newline (the JSON parser's message) breaks the
# one-row-per-record text output with blank lines.
case_quarantine_detail_is_one_line() {
    local W
    mkws qd; W=$WS
    A -C "$W" ingest events "$DATA/bad_events.ndjson"
    expect_rc 3 "ingest bad_events"
    A -C "$W" quarantine --json --reason malformed_json
    expect_rc 0 "quarantine --json --reason malformed_json"
    pycheck "$OUT" '
bad = [(r["line"], r["detail"]) for r in d["rows"] if "\n" in (r.get("detail") or "")]
want(not bad, "quarantine details contain a newline: %r" % bad[:2])'
    A -C "$W" quarantine --reason malformed_json
    expect_rc 0 "quarantine --reason malformed_json"
    if grep -q '^$' "$OUT"; then
        fail "text output has blank lines inside rows: $(head -c 200 "$OUT")"
    fi
}

# --------------------------------------------------------- 6. bad CSV files

case_bad_csv_files() {
    local W ds
    for ds in backlog feedback signals graph; do
        mkws "csv_$ds"; W=$WS
        ingest_json "$W" "$ds" "$DATA/bad_$ds.csv" "$T/$ds.json"
        expect_rc 3 "ingest $ds bad_$ds.csv (quarantine share above 5%)"
        pycheck "$T/$ds.json" '
match_manifest(d, load(args[0]), args[1])
want(d["verdict"] == "blocked", "%s: verdict %r" % (args[1], d["verdict"]))' "$DATA/bad_$ds.expect.json" "$ds"
    done
}

case_events_csv() {
    local W
    mkws evcsv; W=$WS
    ingest_json "$W" events "$DATA/events.csv" "$T/e.json"
    # 2 of 20 quarantined is 10% > 5%: blocked
    expect_rc 3 "ingest events events.csv"
    pycheck "$T/e.json" 'match_manifest(d, load(args[0]), "events.csv")' "$DATA/events.csv.expect.json"
}

# ------------------------------------------------------------------ 7. schema

case_schema_warn() {
    local W
    mkws sw; W=$WS
    ingest_json "$W" events "$DATA/schema_a.ndjson" "$T/a.json"
    expect_rc 0 "ingest schema_a"
    pycheck "$T/a.json" 'match_manifest(d, load(args[0]), "schema_a")' "$DATA/schema_a.expect.json"
    ingest_json "$W" events "$DATA/schema_b.ndjson" "$T/b.json"
    expect_rc 0 "ingest schema_b (warn)"
    pycheck "$T/b.json" '
match_manifest(d, load(args[0])["warn"], "schema_b warn")
want(d["verdict"] != "blocked", "verdict blocked under on_schema_change: warn")' "$DATA/schema_b.expect.json"
}

set_block_policy() { # WS
    sed -i 's/^\([[:space:]]*on_schema_change:[[:space:]]*\)warn/\1block/' "$1/aipm.yaml"
    grep -Eq '^[[:space:]]*on_schema_change:[[:space:]]*block' "$1/aipm.yaml" ||
        fail "could not set on_schema_change: block in aipm.yaml"
}

case_schema_block() {
    local W
    mkws sb; W=$WS
    set_block_policy "$W"
    ingest_json "$W" events "$DATA/schema_a.ndjson" "$T/a.json"
    expect_rc 0 "ingest schema_a (block)"
    pycheck "$T/a.json" 'match_manifest(d, load(args[0]), "schema_a")' "$DATA/schema_a.expect.json"
    ingest_json "$W" events "$DATA/schema_b.ndjson" "$T/b.json"
    expect_rc 3 "ingest schema_b under on_schema_change: block"
    pycheck "$T/b.json" '
match_manifest(d, load(args[0])["block"], "schema_b block")
want(d["verdict"] == "blocked", "verdict %r, expected blocked" % d["verdict"])' "$DATA/schema_b.expect.json"
    # schema_b alone gives the same counts (numbers come first)
    mkws sb2; W=$WS
    set_block_policy "$W"
    ingest_json "$W" events "$DATA/schema_b.ndjson" "$T/b2.json"
    expect_rc 3 "ingest schema_b alone under block"
    pycheck "$T/b2.json" 'match_manifest(d, load(args[0])["block"], "schema_b alone, block")' "$DATA/schema_b.expect.json"
}

# --------------------------------------------- 8. versions and their states

case_data_versions_lifecycle() {
    local W ba bb bc n
    mkws life; W=$WS
    ingest_json "$W" events "$EX/events.ndjson" "$T/a.json"
    expect_rc 0 "ingest examples/events.ndjson"
    ingest_json "$W" events "$DATA/bad_events.ndjson" "$T/b.json"
    expect_rc 3 "ingest bad_events.ndjson"
    ingest_json "$W" backlog "$DATA/bad_backlog.csv" "$T/c.json"
    expect_rc 3 "ingest bad_backlog.csv"
    pycheck "$T/b.json" 'match_manifest(d, load(args[0]))' "$DATA/bad_events.expect.json"
    ba=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["batch_id"])' "$T/a.json")
    bb=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["batch_id"])' "$T/b.json")
    bc=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["batch_id"])' "$T/c.json")

    n=$(sql "$W/aipm.db" 'select count(*) from v_events')
    [ "$n" = 300 ] || fail "v_events has $n rows with only examples accepted, expected 300"

    A -C "$W" data show "$bb" --json
    expect_rc 0 "data show $bb"
    pycheck "$OUT" 'want(d["status"] == "staged", "data show: status %r, expected staged" % d["status"])'

    A -C "$W" data accept "$bb" --reason "reviewed: bad rows are known"
    expect_rc 0 "data accept $bb"
    A -C "$W" data show "$bb" --json
    pycheck "$OUT" 'want(d["status"] == "accepted", "after accept: status %r" % d["status"])'
    n=$(sql "$W/aipm.db" 'select count(*) from v_events')
    [ "$n" = 360 ] || fail "v_events has $n rows after accepting bad_events, expected 300+60"

    A -C "$W" data reject "$bc"
    expect_rc 1 "data reject without --reason"
    expect_one_line_stderr "data reject without --reason"
    A -C "$W" data show "$bc" --json
    pycheck "$OUT" 'want(d["status"] == "staged", "reject without reason changed the status to %r" % d["status"])'
    A -C "$W" data reject "$bc" --reason "not this file"
    expect_rc 0 "data reject $bc --reason"
    A -C "$W" data show "$bc" --json
    pycheck "$OUT" 'want(d["status"] == "rejected", "after reject: status %r" % d["status"])'

    A -C "$W" data revert "$ba" --reason "wrong export"
    expect_rc 0 "data revert $ba"
    A -C "$W" data show "$ba" --json
    pycheck "$OUT" 'want(d["status"] == "reverted", "after revert: status %r" % d["status"])'
    n=$(sql "$W/aipm.db" 'select count(*) from v_events')
    [ "$n" = 60 ] || fail "v_events has $n rows after reverting the examples, expected 60"

    A -C "$W" audit log --json
    expect_rc 0 "audit log --json"
    pycheck "$OUT" '
ba, bb, bc = args
acts = [e["entry"]["action"] for e in d["entries"]]
exp = ["init", "ingest", "ingest", "ingest", "accept", "reject", "revert"]
want(acts == exp, "audit actions %s, expected %s" % (acts, exp))
seqs = [e["seq"] for e in d["entries"]]
want(seqs == list(range(1, len(seqs) + 1)), "audit seqs %s" % seqs)
for e, b, why in zip(d["entries"][4:], (bb, bc, ba),
                     ("reviewed: bad rows are known", "not this file", "wrong export")):
    txt = json.dumps(e["entry"])
    want(b in e["entry"].get("object", ""), "%s entry does not name batch %s: %s" % (e["entry"]["action"], b, e["entry"].get("object")))
    want(why in txt, "%s entry does not record its reason" % e["entry"]["action"])' "$ba" "$bb" "$bc"
    A -C "$W" audit verify
    expect_rc 0 "audit verify after state changes"
}

# --------------------------------------------------------- 9. unusable input

count_batches() { # WS: number of batches in $NB
    A -C "$1" data versions --json
    expect_rc 0 "data versions --json"
    NB=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["batches"]))' "$OUT") ||
        fail "data versions --json is not valid JSON"
}

case_unusable_inputs() {
    local W f before after
    mkws un; W=$WS
    mkdir -p "$T/adir"
    count_batches "$W"; before=$NB
    for f in "$DATA/empty.ndjson" "$DATA/truncated.ndjson.gz" "$T/no-such-file.ndjson" "$T/adir"; do
        A -C "$W" ingest events "$f"
        [ "$RC" -lt 128 ] || fail "ingest $(basename "$f") crashed (exit $RC)"
        expect_rc 1 "ingest $(basename "$f")"
        expect_one_line_stderr "ingest $(basename "$f")"
        count_batches "$W"; after=$NB
        [ "$after" = "$before" ] || fail "ingest $(basename "$f") left a batch ($before -> $after)"
    done
    [ "$(sql "$W/aipm.db" 'select count(*) from events')" = 0 ] || fail "rows from an unusable file were stored"
    [ "$(intact "$W/aipm.db")" = ok ] || fail "store not intact"
}

case_binary_input() {
    local W
    mkws bin; W=$WS
    ingest_json "$W" events "$DATA/binary.bin" "$T/b.json" --format ndjson
    [ "$RC" -lt 128 ] || fail "ingest binary.bin crashed (exit $RC)"
    [ "$RC" -ne 0 ] || fail "ingest binary.bin exited 0"
    if [ "$RC" -eq 1 ]; then
        # rejected up front: no batch
        count_batches "$W"; [ "$NB" = 0 ] || fail "binary.bin rejected with exit 1 but left a batch"
    else
        expect_rc 3 "ingest binary.bin (all rows quarantined: blocked)"
        pycheck "$T/b.json" 'match_manifest(d, load(args[0]), "binary.bin")' "$DATA/binary.expect.json"
    fi
}

case_huge_line_bounded_memory() {
    local W rss
    mkws huge; W=$WS
    "$PY" - "$T/huge.ndjson" <<'EOF' || fail "could not generate the 50 MB line"
import sys
with open(sys.argv[1], "w") as f:
    f.write('{"type":"track","messageId":"huge-1","userId":"u-1","event":"Query Run",'
            '"timestamp":"2026-10-01T00:00:00Z","properties":{"sql":"')
    chunk = "x" * (1 << 20)
    for _ in range(50):
        f.write(chunk)
    f.write('"}}\n')
EOF
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f %M -o "$T/rss" timeout 60 "$AIPM" -C "$W" ingest events "$T/huge.ndjson" --json \
            >"$OUT" 2>"$ERR" </dev/null
        RC=$?
    else
        A -C "$W" ingest events "$T/huge.ndjson" --json
    fi
    [ "$RC" -lt 128 ] || fail "ingest of a 50 MB line crashed (exit $RC)"
    expect_rc 3 "ingest of one 50 MB line (1 of 1 rows quarantined: blocked)"
    pycheck "$OUT" '
want((d["read"], d["accepted"], d["quarantined"]) == (1, 0, 1), "read/accepted/quarantined = %r" % ((d["read"], d["accepted"], d["quarantined"]),))
want(d["quarantine_reasons"] == {"line_too_long": 1}, "reasons %s" % d["quarantine_reasons"])'
    if [ -s "$T/rss" ]; then
        rss=$(tail -n 1 "$T/rss")
        [ "$rss" -lt 102400 ] || fail "peak RSS ${rss} KiB for a 50 MB line (limit 100 MB)"
    fi
}

# ---------------------------------------------------------------- 10. kill

case_kill_during_ingest() {
    local W before after pid rc
    mkws kill; W=$WS
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest examples"
    before=$(sql "$W/aipm.db" 'select count(*) from v_events')
    "$PY" - "$T/big.ndjson" <<'EOF' || fail "could not generate the big file"
import sys
tpl = ('{"type":"track","messageId":"big-%07d","userId":"u-%d","event":"Query Run",'
       '"timestamp":"2026-11-%02dT%02d:%02d:00Z","properties":{"rows":%d,"source":"sql"}}\n')
with open(sys.argv[1], "w") as f:
    f.write("".join(tpl % (i, i % 500, 1 + i % 25, i % 24, i % 60, i) for i in range(1000000)))
EOF
    "$AIPM" -C "$W" ingest events "$T/big.ndjson" >/dev/null 2>&1 </dev/null &
    pid=$!
    sleep 0.5
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"
        fail "ingest of 1M rows ended (exit $?) before the kill at 0.5 s; inconclusive"
    fi
    kill -KILL "$pid"
    { wait "$pid"; } 2>/dev/null
    rc=$?
    [ "$rc" -eq 137 ] || fail "killed ingest exited $rc, expected 137 (it had finished?)"

    A -C "$W" data versions --json
    expect_rc 0 "data versions after SIGKILL"
    pycheck "$OUT" '
for b in d["batches"]:
    if b["source"].endswith("big.ndjson"):
        want(b["status"] == "accepted" and b["read"] == 1000000 and b["accepted"] == 1000000,
             "the killed ingest left batch %s with status %r, read %r" % (b["batch_id"], b["status"], b["read"]))'
    [ "$(intact "$W/aipm.db")" = ok ] ||
        fail "integrity_check after SIGKILL: $(intact "$W/aipm.db" | head -c 200)"
    after=$(sql "$W/aipm.db" 'select count(*) from v_events')
    [ "$after" = "$before" ] || fail "v_events went from $before to $after rows after a killed ingest"
    A -C "$W" audit verify
    expect_rc 0 "audit verify after SIGKILL"

    ingest_json "$W" events "$T/big.ndjson" "$T/big.json"
    expect_rc 0 "re-ingest after the kill"
    pycheck "$T/big.json" '
want(d["read"] == 1000000 and d["accepted"] == 1000000, "re-ingest: read %r accepted %r, expected 1000000" % (d["read"], d["accepted"]))'
    after=$(sql "$W/aipm.db" 'select count(*) from v_events')
    [ "$after" = $((before + 1000000)) ] || fail "v_events has $after rows, expected $((before + 1000000))"
}

# -------------------------------------------------------------- 11. lineage

case_lineage_runs_and_openlineage() {
    local W ds f n=0 msg
    mkws lin; W=$WS
    for ds in events backlog feedback signals graph; do
        case $ds in
            events) f=$EX/events.ndjson ;;
            *) f=$EX/$ds.csv ;;
        esac
        A -C "$W" ingest "$ds" "$f"
        expect_rc 0 "ingest $ds"
        n=$((n + 1))
    done
    A -C "$W" ingest events "$DATA/bad_events.ndjson"
    expect_rc 3 "ingest bad_events"
    n=$((n + 1))
    versions "$W" "$T/v.json"
    A -C "$W" lineage --json
    expect_rc 0 "lineage --json"
    pycheck "$OUT" '
n = int(args[1])
runs = d["runs"]
want(len(runs) == n, "lineage has %d runs after %d ingests" % (len(runs), n))
batches = load(args[0])["batches"]
ids = {b["run_id"] for b in batches}
want({r["run_id"] for r in runs} == ids, "lineage run ids differ from the batches run ids")
for r in runs:
    want(r["inputs"] and r["outputs"], "run %s has no inputs or outputs" % r["run_id"])' "$T/v.json" "$n"
    A -C "$W" lineage --openlineage
    expect_rc 0 "lineage --openlineage"
    msg=$("$PY" "$HERE/check_openlineage.py" "$OUT" --runs "$n" 2>&1) || fail "openlineage: $msg"
    pycheck - '
# the input dataset of each COMPLETE event names the file that was read, with its row count
evs = [json.loads(l) for l in open(args[0]) if l.strip()]
for e in evs:
    if e["eventType"] != "COMPLETE":
        continue
    i = e["inputs"][0]
    want(i["name"].endswith((".ndjson", ".csv")), "input name %r is not the file" % i["name"])' "$OUT"
}

# A failed ingest (here: an empty file) that is recorded as a run should say
# which file failed: a FAIL run with no input tells a lineage consumer nothing.
case_lineage_failed_ingest_names_input() {
    local W msg
    mkws linfail; W=$WS
    A -C "$W" ingest events "$DATA/empty.ndjson"
    expect_rc 1 "ingest empty.ndjson"
    A -C "$W" ingest events "$DATA/truncated.ndjson.gz"
    expect_rc 1 "ingest truncated.ndjson.gz"
    A -C "$W" lineage --json
    expect_rc 0 "lineage --json"
    pycheck "$OUT" '
for r in d["runs"]:
    if r["state"] != "FAIL":
        continue
    names = [i.get("name", "") for i in r.get("inputs") or []]
    want(any(n.endswith(("empty.ndjson", "truncated.ndjson.gz")) for n in names),
         "FAIL run %s has inputs %s: it does not name the file that failed" % (r["run_id"], names))'
    A -C "$W" lineage --openlineage
    expect_rc 0 "lineage --openlineage"
    msg=$("$PY" "$HERE/check_openlineage.py" "$OUT" 2>&1) || fail "openlineage: $msg"
}

# ---------------------------------------------------------------- 12. audit

make_audit_ws() { # NAME -> workspace with init + 3 ingests + accept
    local W
    mkws "$1"; W=$WS
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest examples"
    A -C "$W" ingest backlog "$EX/backlog.csv"
    expect_rc 0 "ingest backlog"
    A -C "$W" ingest events "$DATA/bad_events.ndjson"
    expect_rc 3 "ingest bad_events"
    A -C "$W" data accept 3 --reason "known bad rows"
    expect_rc 0 "data accept 3"
    WS=$W
}

# tamper_copy SRC NAME SQL: copy the workspace and run SQL on the copy ($TC).
# ws_copy W DEST: a copy of workspace W at DEST with a store of its own
# (on PostgreSQL a database made from W's as a template).
ws_copy() {
    local msg url new
    rm -rf "${2:?}"
    cp -a "$1" "$2" || fail "cp"
    if on_pg; then
        url=$(store_of "$1")
        new=$(pg_url "$(basename "$2")") || fail "no database for $2"
        msg=$(psql -X -q -d "${url%/*}/postgres" -c "DROP DATABASE \"${new##*/}\"" \
            -c "CREATE DATABASE \"${new##*/}\" TEMPLATE \"${url##*/}\"" 2>&1) ||
            fail "copying the database failed: $msg"
        sed -i "s|^store: \".*\"|store: \"$new\"|" "$2/aipm.yaml"
    fi
}

# tamper_copy W NAME SQL [PGSQL]: a copy of workspace W as $T/NAME (in
# $TC) whose store was edited by SQL with the audit log's guards off, as
# someone with write access to the store could; on PostgreSQL by PGSQL
# (default SQL).
tamper_copy() {
    local msg
    ws_copy "$1" "$T/$2"
    if on_pg; then
        msg=$(psql -X -q -v ON_ERROR_STOP=1 -d "$(store_of "$T/$2")" -c "SET search_path TO aipm" \
            -c "ALTER TABLE audit DISABLE TRIGGER USER" -c "${4:-$3}" 2>&1) ||
            fail "tampering with psql failed: $msg"
    else
        msg=$(sqlite3 "$T/$2/aipm.db" "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; $3" 2>&1) ||
            fail "tampering with sqlite3 failed: $msg"
    fi
    TC=$T/$2
}

case_audit_verify_intact() {
    local W
    make_audit_ws aud0; W=$WS
    A -C "$W" audit verify
    expect_rc 0 "audit verify on an intact log"
    A -C "$W" audit log --json
    pycheck "$OUT" 'want(len(d["entries"]) == 5, "%d audit entries, expected 5" % len(d["entries"]))'
}

case_audit_tamper_edit() {
    local W X
    make_audit_ws aud1; W=$WS
    tamper_copy "$W" aud1x "UPDATE audit SET entry = replace(entry, 'ingest', 'inge5t') WHERE seq = 2;" \
        "UPDATE audit SET entry = convert_to(replace(convert_from(entry, 'UTF8'), 'ingest', 'inge5t'), 'UTF8') WHERE seq = 2;"
    X=$TC
    if on_pg; then
        [ "$(sql "$X/aipm.db" "select count(*) from audit where seq = 2 and position('inge5t' in convert_from(entry, 'UTF8')) > 0")" = 1 ]
    else
        [ "$(sql "$X/aipm.db" "select count(*) from audit where seq = 2 and instr(entry, 'inge5t') > 0")" = 1 ]
    fi || fail "the tampering did not change entry 2"
    A -C "$X" audit verify
    [ "$RC" -lt 128 ] || fail "audit verify crashed (exit $RC)"
    expect_rc 3 "audit verify on an edited entry"
    grep -Eq 'entry 2([^0-9]|$)' "$ERR" || fail "stderr does not name entry 2: $(errtext)"
}

case_audit_tamper_delete() {
    local W X
    make_audit_ws aud2; W=$WS
    tamper_copy "$W" aud2x "DELETE FROM audit WHERE seq = 2;"; X=$TC
    A -C "$X" audit verify
    [ "$RC" -lt 128 ] || fail "audit verify crashed (exit $RC)"
    expect_rc 3 "audit verify with entry 2 deleted"
    grep -Eq 'entry 2([^0-9]|$)' "$ERR" || fail "stderr does not name entry 2: $(errtext)"
}

case_audit_tamper_delete_last() {
    local W X
    make_audit_ws aud3; W=$WS
    tamper_copy "$W" aud3x "DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit);"; X=$TC
    A -C "$X" audit verify
    [ "$RC" -lt 128 ] || fail "audit verify crashed (exit $RC)"
    expect_rc 3 "audit verify with the last entry deleted"
    # only the audit-checkpoint file can tell that the tail is missing
}

case_audit_tamper_reorder() {
    local W X
    make_audit_ws aud4; W=$WS
    tamper_copy "$W" aud4x "UPDATE audit SET seq = (SELECT max(seq) + 1 FROM audit) WHERE seq = 2;"; X=$TC
    A -C "$X" audit verify
    [ "$RC" -lt 128 ] || fail "audit verify crashed (exit $RC)"
    expect_rc 3 "audit verify with entry 2 moved after the last"
    tamper_copy "$W" aud4y "UPDATE audit SET seq = -2 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = -2;"; X=$TC
    A -C "$X" audit verify
    expect_rc 3 "audit verify with entries 2 and 3 swapped"
    grep -Eq 'entry 2([^0-9]|$)' "$ERR" || fail "swap: stderr does not name entry 2: $(errtext)"
}

# ------------------------------------------------------- 13. global options

case_global_options_anywhere() {
    local W W2 args
    mkws g; W=$WS
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest"
    A -C "$W" ingest events "$DATA/bad_events.ndjson"
    expect_rc 3 "ingest bad"
    cd "$T" || fail "cd"

    A -C "$W" data versions --json
    expect_rc 0 "aipm -C W data versions --json"
    cp "$OUT" "$T/ref.json"
    pycheck "$T/ref.json" 'want(len(d["batches"]) == 2, "%d batches" % len(d["batches"]))'
    for args in "data versions -C $W --json" "--json -C $W data versions" "data versions --json -C $W" \
        "data -C $W versions --json" "-C $W --json data versions"; do
        # shellcheck disable=SC2086
        A $args
        expect_rc 0 "aipm $args"
        cmp -s "$OUT" "$T/ref.json" || fail "aipm $args differs from aipm -C W data versions --json"
    done
    A quarantine -C "$W" --json --limit 5
    expect_rc 0 "quarantine -C W --json"
    pycheck "$OUT" 'want(len(d["rows"]) == 5, "quarantine -C W --json --limit 5 gave %d rows" % len(d["rows"]))'
    A audit verify -C "$W"
    expect_rc 0 "audit verify -C W"

    # --store pointing at the workspace's store
    cd "$W" || fail "cd"
    A --store "$(store_of "$W")" data versions --json
    expect_rc 0 "--store W/aipm.db data versions --json"
    cmp -s "$OUT" "$T/ref.json" || fail "--store W/aipm.db output differs"
    A data versions --json --store "$(store_of "$W")"
    expect_rc 0 "data versions --json --store W/aipm.db"
    cmp -s "$OUT" "$T/ref.json" || fail "data versions --store (after the command) output differs"
    cd "$T" || fail "cd"
    A -C "$W" --store "$(store_of "$W")" data versions --json
    expect_rc 0 "-C W --store W/aipm.db"
    cmp -s "$OUT" "$T/ref.json" || fail "-C W --store W/aipm.db output differs"

    # --store really selects the store: another workspace's empty store
    mkws g2; W2=$WS
    A -C "$W" --store "$(store_of "$W2")" data versions --json
    expect_rc 0 "-C W --store W2/aipm.db"
    pycheck "$OUT" 'want(d["batches"] == [], "--store W2/aipm.db still shows W batches")'
    A -C "$W" --store "$T/no-such.db" data versions
    expect_rc 1 "--store pointing at a missing file"
    [ ! -e "$T/no-such.db" ] || fail "--store created a missing store"
}

# An unknown dataset name is an input error everywhere, as for `ingest`.
case_unknown_dataset_name() {
    local W
    mkws ud; W=$WS
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest"
    A -C "$W" ingest evnets "$EX/events.ndjson"
    expect_rc 1 "ingest evnets"
    A -C "$W" quality evnets
    expect_rc 1 "quality evnets (unknown dataset)"
    A -C "$W" data versions --dataset evnets
    expect_rc 1 "data versions --dataset evnets (unknown dataset)"
}

# ------------------------------------------------------------------ runner ---

PASSED=0
FAILED=0
SKIPPED=
case_ingest_from_stdin() {
    local W
    mkws stdin; W=$WS
    # gzip on a pipe: the same counts as the file (hand-written manifest)
    gzip -c "$EX/events.ndjson" >"$T/ev.gz"
    timeout 60 "$AIPM" -C "$W" ingest events - --json <"$T/ev.gz" >"$T/s.json" 2>"$ERR"
    RC=$?
    expect_rc 0 "ingest events - (gzip on stdin)"
    pycheck "$T/s.json" '
match_manifest(d, load(args[0]), "stdin")
want(d["source"] == "(stdin)", "source %r, expected (stdin)" % d["source"])
want(d["source_sha256"] == sha256_of(args[1]), "source_sha256 is not the sha256 of the bytes piped in")' \
        "$DATA/examples_events.expect.json" "$T/ev.gz"
    timeout 60 "$AIPM" -C "$W" ingest backlog --format csv - --json <"$EX/backlog.csv" >"$T/b.json" 2>"$ERR"
    RC=$?
    expect_rc 0 "ingest backlog --format csv -"
    pycheck "$T/b.json" '
want((d["read"], d["accepted"]) == (25, 25), "backlog on stdin: read/accepted %r" % ((d["read"], d["accepted"]),))'
}

# ------------------------------------------------- experiments on demo data

case_experiment_verdicts_on_demo() {
    sqlite_only "its reference values are read from the SQLite file (cases/backends.sh: PostgreSQL gives SQLite's outputs)"
    local W=$T/demo-exp k
    # seed 1, 3000 users, 120 days, ending the day AIPM_NOW pins
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 1 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    for k in onboarding_checklist new_navigation aggressive_notifications search_redesign; do
        A -C "$W" experiment analyze "$k" --json
        expect_rc 0 "experiment analyze $k"
        cp "$OUT" "$T/$k.json"
    done
    # What was planted (truth.json) decides what each verdict must be.
    pycheck "$W/demo-data/truth.json" '
import json, os
ex = d["experiments"]["by_key"]
def res(k):
    return json.load(open(os.path.join(args[0], k + ".json")))
w = res("onboarding_checklist")
want(ex["onboarding_checklist"]["kind"] == "winner", "truth changed")
want(w["verdict"]["decision"] == "ship", "planted winner: verdict %r" % w["verdict"])
t = w["metrics"][0]["variations"][1]
want(t["ci_low"] <= ex["onboarding_checklist"]["unit_lift"] <= t["ci_high"],
     "winner: true lift %.3f outside [%.3f, %.3f]" % (ex["onboarding_checklist"]["unit_lift"], t["ci_low"], t["ci_high"]))
want(w["srm"]["ok"] is True, "winner: SRM flagged")
n = res("new_navigation")
t = n["metrics"][0]["variations"][1]
want(t["ci_low"] <= 0 <= t["ci_high"], "null experiment: 0 outside [%.3f, %.3f]" % (t["ci_low"], t["ci_high"]))
want(n["verdict"]["decision"] in ("keep_running", "do_not_ship"), "null: verdict %r" % n["verdict"]["decision"])
g = res("aggressive_notifications")
want(g["verdict"]["decision"] == "do_not_ship", "guardrail breach: verdict %r" % g["verdict"]["decision"])
want(any("guardrail" in r for r in g["verdict"]["reasons"]), "guardrail breach not named: %r" % g["verdict"]["reasons"])
s = res("search_redesign")
want(s["srm"]["ok"] is False and s["verdict"]["decision"] == "invalid", "SRM: srm %r verdict %r" % (s["srm"], s["verdict"]["decision"]))
for r in (w, n, g, s):
    for m in r["metrics"]:
        for v in m["variations"]:
            for f in ("key", "units", "mean", "stddev", "lift_abs", "lift_rel", "ci_low", "ci_high", "p_value", "chance_to_win", "expected_loss"):
                want(f in v, "%s: variation lacks %s" % (r["experiment"], f))' "$T"
    # The other engines run and agree on the winner.
    A -C "$W" experiment analyze onboarding_checklist --engine bayesian --json
    expect_rc 0 "bayesian"
    pycheck "$OUT" '
want(d["verdict"]["decision"] == "ship", "bayesian: %r" % d["verdict"])
want(d["metrics"][0]["variations"][1]["chance_to_win"] > 0.95, "bayesian chance to win")'
    A -C "$W" experiment analyze onboarding_checklist --engine sequential --json
    expect_rc 0 "sequential"
    cp "$OUT" "$T/seq.json"
    pycheck "$T/seq.json" '
import json, os
f = json.load(open(os.path.join(args[0], "onboarding_checklist.json")))
a, b = d["metrics"][0]["variations"][1], f["metrics"][0]["variations"][1]
want(a["ci_high"] - a["ci_low"] > b["ci_high"] - b["ci_low"], "sequential interval not wider than the fixed one")' "$T"
    [ "$(sql "$W/aipm.db" "select count(*) from decisions where kind = 'experiment'")" -ge 6 ] ||
        fail "decision records were not stored"
    # --by plan: the levels are the plans, and their units add up to the
    # whole (no unit lost or counted twice by the trait joins).
    A -C "$W" experiment analyze onboarding_checklist --by plan --no-record --json
    expect_rc 0 "analyze --by plan"
    pycheck "$OUT" '
m = d["metrics"][0]
levels = m["by"]["levels"]
want({l["level"] for l in levels} <= {"free", "pro", "enterprise"}, "levels %r" % [l["level"] for l in levels])
for k in (0, 1):
    total = sum(l["variations"][k]["units"] for l in levels)
    want(total == m["variations"][k]["units"], "variation %d: levels add to %d, overall %d" % (k, total, m["variations"][k]["units"]))'
    # Sample size: recomputed here from the raw events (python's sqlite3
    # and statistics.NormalDist), not from aipm's moments.
    A -C "$W" experiment power --metric sessions --mde 0.05 --json
    expect_rc 0 "experiment power"
    pycheck "$OUT" '
import sqlite3, math, statistics, datetime
now = int(datetime.datetime(2026, 11, 27, tzinfo=datetime.timezone.utc).timestamp() * 1000)
db = sqlite3.connect(args[0])
lo = now - 14 * 86400000
active = [r[0] for r in db.execute("select distinct user_id from v_events where ts >= ? and ts < ? and user_id is not null", (lo, now))]
counts = dict(db.execute("select user_id, count(*) from v_events where event = ? and ts >= ? and ts < ? group by user_id", ("Session Started", lo, now)))
vals = [counts.get(u, 0) for u in active]
mean, var = statistics.fmean(vals), statistics.variance(vals)
z = statistics.NormalDist().inv_cdf(0.975) + statistics.NormalDist().inv_cdf(0.8)
n = math.ceil(2 * var * z * z / (0.05 * mean) ** 2)
want(d["active_units"] == len(vals), "active units %d, expected %d" % (d["active_units"], len(vals)))
want(abs(d["mean"] - mean) < 1e-9, "mean %r, expected %r" % (d["mean"], mean))
want(d["units_per_variation"] == n, "units per variation %r, expected %r" % (d["units_per_variation"], n))' "$W/aipm.db"
}

# A --by trait that no unit has is refused - exit 1, one line naming the
# trait and, when no identify or group event carries it, the traits that
# do - never a breakdown into the one level "(none)": experiment analyze,
# forecast adoption and backtest, model train adoption. The reference list
# of traits is read here from the demo's own events file (the keys of the
# identify and group calls' traits). The demo's traits still break down:
# industry, a trait of the group calls only, gives the accounts'
# industries. A trait that only a user outside the experiment has (an
# identify call ingested here) is refused for that experiment, saying so.
case_by_unknown_trait_on_demo() {
    local W=$T/demo-by c known
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 1 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    "$PY" - "$W/demo-data/events.ndjson.gz" >"$T/traits.json" <<'PYEOF'
import gzip, json, sys
keys, industries = set(), set()
for line in gzip.open(sys.argv[1], "rt", errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if isinstance(e, dict) and e.get("type") in ("identify", "group") and isinstance(e.get("traits"), dict):
        keys |= {k for k, v in e["traits"].items() if v is not None}
        if e["type"] == "group" and isinstance(e["traits"].get("industry"), str):
            industries.add(e["traits"]["industry"])
print(json.dumps({"known": ", ".join(sorted(keys)), "industries": sorted(industries)}))
PYEOF
    known=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["known"])' "$T/traits.json")
    for c in "experiment analyze onboarding_checklist --no-record" \
        "forecast adoption export --no-record" \
        "forecast backtest export --holdout 14" "model train adoption"; do
        # shellcheck disable=SC2086
        A -C "$W" $c --by nosuch
        expect_rc 1 "$c --by nosuch"
        expect_one_line_stderr "$c --by nosuch"
        [ "$(cat "$ERR")" = "aipm: no user or account has the trait 'nosuch' (traits come from identify and group events; known: $known)" ] ||
            fail "$c --by nosuch: $(errtext)"
        [ ! -s "$OUT" ] || fail "$c --by nosuch printed $(head -c 200 "$OUT")"
    done
    A -C "$W" experiment analyze onboarding_checklist --by industry --no-record --json
    expect_rc 0 "analyze --by industry"
    pycheck "$OUT" '
import json
want_levels = set(json.load(open(args[0]))["industries"])
for m in d["metrics"]:
    levels = m["by"]["levels"]
    want({l["level"] for l in levels} == want_levels, "%s: levels %r, industries %r" % (m["metric"], [l["level"] for l in levels], sorted(want_levels)))
    for k in (0, 1):
        total = sum(l["variations"][k]["units"] for l in levels)
        want(total == m["variations"][k]["units"], "variation %d: levels add to %d, overall %d" % (k, total, m["variations"][k]["units"]))' "$T/traits.json"
    A -C "$W" forecast adoption export --by industry --no-record --json
    expect_rc 0 "forecast adoption --by industry"
    pycheck "$OUT" '
import json
want_segs = set(json.load(open(args[0]))["industries"])
want({s["segment"] for s in d["segments"]} == want_segs, "segments %r" % [s["segment"] for s in d["segments"]])' "$T/traits.json"
    printf '%s\n' '{"type":"identify","messageId":"by-outsider-1","userId":"u-outsider","timestamp":"2026-11-20T08:00:00Z","traits":{"beta_tester":true}}' >"$T/outsider.ndjson"
    A -C "$W" ingest events "$T/outsider.ndjson"
    expect_rc 0 "ingest the outsider's identify call"
    A -C "$W" experiment analyze onboarding_checklist --by beta_tester --no-record --json
    expect_rc 1 "analyze --by a trait no exposed unit has"
    expect_one_line_stderr "analyze --by beta_tester"
    [ "$(cat "$ERR")" = "aipm: no user or account exposed to experiment onboarding_checklist has the trait 'beta_tester', though accepted identify or group events carry it: a breakdown by it would be one segment, (none)" ] ||
        fail "--by beta_tester: $(errtext)"
    [ ! -s "$OUT" ] || fail "--by beta_tester printed $(head -c 200 "$OUT")"
}

case_feedback_links_on_demo() {
    local W=$T/demo-fb fb it
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 2 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    A -C "$W" feedback links --json
    expect_rc 0 "feedback links"
    cp "$OUT" "$T/links.json"
    # Against truth.json: every row once; the model's top-1 item on the
    # untagged rows about an item (right when it is any of the row's
    # items_of: a row may carry 2-3 asks), the share of `linked` rows that
    # are right, how many item rows count, how few rows about no item do.
    # The demo's text is realistic (customers' own words, typos, several
    # asks, chatter). The demo job linked 40 rows by hand to each item they
    # ask for and unlinked 15 rows about no item.
    pycheck "$W/demo-data/truth.json" '
import json
links = json.load(open(args[0]))["links"]
truth = d["feedback"]["items_of"]
want(len(links) == d["feedback"]["rows"] == len(truth), "%d links for %d rows" % (len(links), d["feedback"]["rows"]))
want(len({l["feedback_id"] for l in links}) == len(links), "a row linked twice")
for l in links:
    for f in ("feedback_id", "item_id", "score", "status", "model_item"):
        want(f in l, "a link lacks %s" % f)
    want(l["status"] in ("given", "linked", "needs_review", "corrected"), "status %r" % l["status"])
corr = {}
for c in d["feedback"]["corrections"]:
    corr.setdefault(c["feedback_id"], []).append(None if c.get("unlink") else c["item_id"])
want(len(corr) == 55 and sum(1 for v in corr.values() if v == [None]) == 15, "%d corrections planned" % len(corr))
want(any(len(v) > 1 for v in corr.values()), "no correction of a row with several asks")
for l in links:
    if l["feedback_id"] in corr:
        want(l["status"] == "corrected" and sorted(x["item_id"] for x in l["items"]) == sorted(x for x in corr[l["feedback_id"]] if x), "correction not applied: %r" % l)
untagged = [l for l in links if truth[l["feedback_id"]] and l["status"] != "given"]
top1 = sum(1 for l in untagged if l["model_item"] in truth[l["feedback_id"]])
linked = [l for l in links if l["status"] == "linked"]
linked_right = sum(1 for l in linked if l["item_id"] in truth[l["feedback_id"]])
counted = [l for l in links if l["status"] in ("given", "linked", "corrected") and l["items"]]
about = [l for l in counted if truth[l["feedback_id"]]]
items = sum(1 for v in truth.values() if v)
noise = [l for l in links if not truth[l["feedback_id"]]]
noise_counted = sum(1 for l in noise if l["status"] in ("given", "linked", "corrected") and l["items"])
print("# feedback linking: top-1 accuracy %.4f (%d of %d untagged item rows), linked precision %.4f (%d of %d), %d of %d item rows counted, %d of %d noise rows counted" % (
    top1 / len(untagged), top1, len(untagged), linked_right / len(linked), linked_right, len(linked), len(about), items, noise_counted, len(noise)))
# Measured on 2026-12-05 (seed 2) with the learnt linker of this commit:
# top-1 0.684, linked precision 1.000 (18 of 18), 213 of 965 item rows
# counted, 0 of 135 noise rows counted (the threshold, chosen on 210
# labelled rows, lands high on this seed: other seeds link 115 to 324
# rows); with the associations before 2026-12-05 evening: 0.609, 0.893
# (208 of 233), 421 counted, 7 noise; the first learnt version: 0.463,
# 0.917 (33 of 36), 229 counted, 2 noise; the BM25-only linker: 0.35,
# 0.67, 474 counted, 22 noise. The floors sit below: one seed varies.
want(top1 / len(untagged) >= 0.6, "top-1 accuracy %.3f below 0.6" % (top1 / len(untagged)))
want(linked_right / len(linked) >= 0.85, "linked precision %.3f below 0.85" % (linked_right / len(linked)))
want(len(about) >= 0.2 * items, "only %d of %d item rows counted" % (len(about), items))
want(noise_counted <= 0.08 * len(noise), "%d of %d noise rows counted as demand" % (noise_counted, len(noise)))
' "$T/links.json"
    # --item and --review filter.
    it=$("$PY" -c 'import json, sys
print(next(l["items"][0]["item_id"] for l in json.load(open(sys.argv[1]))["links"] if l["status"] == "linked"))' "$T/links.json")
    A -C "$W" feedback links --item "$it" --json
    expect_rc 0 "links --item"
    pycheck "$OUT" 'want(d["links"] and all(args[0] in [x["item_id"] for x in l["items"]] for l in d["links"]), "--item %s shows rows not linked to it" % args[0])' "$it"
    A -C "$W" feedback links --review --json
    expect_rc 0 "links --review"
    pycheck "$OUT" 'want(all(l["status"] == "needs_review" for l in d["links"]), "--review shows other rows")'
    # A correction wins over the model, is audited, and unlink clears it.
    fb=$("$PY" -c 'import json, sys
print(next(l["feedback_id"] for l in json.load(open(sys.argv[1]))["links"] if l["status"] == "linked" and l["item_id"] != "BL-2"))' "$T/links.json")
    A -C "$W" feedback link "$fb" BL-2
    expect_rc 0 "feedback link"
    A -C "$W" feedback links --item BL-2 --json
    pycheck "$OUT" 'want(any(l["feedback_id"] == args[0] and l["status"] == "corrected" for l in d["links"]), "correction not shown")' "$fb"
    A -C "$W" feedback unlink "$fb" BL-2 --json
    expect_rc 0 "feedback unlink"
    A -C "$W" feedback links --json
    pycheck "$OUT" '
l = next(l for l in d["links"] if l["feedback_id"] == args[0])
want(l["status"] == "corrected" and l["item_id"] is None, "after unlink: %r" % l)
want(d["summary"]["corrected"] == 56, "summary %r (the demo corrected 55 rows)" % d["summary"])' "$fb"
    A -C "$W" audit log --json
    grep -q 'feedback.link' "$OUT" && grep -q 'feedback.unlink' "$OUT" || fail "corrections not in the audit log"
    A -C "$W" audit verify
    expect_rc 0 "audit verify after corrections"
    # Unknown rows and items: one clear line, nothing recorded.
    A -C "$W" feedback link FB-nope BL-1
    expect_rc 1 "link an unknown feedback row"
    expect_one_line_stderr "unknown feedback row"
    A -C "$W" feedback link "$fb" BL-nope
    expect_rc 1 "link to an unknown item"
    expect_one_line_stderr "unknown item"
    A -C "$W" feedback link "$fb"
    expect_rc 1 "link without an item"
    # 48 links of 40 rows and 15 no-item marks by the demo, then the unlink
    # above: its row's no-item mark.
    [ "$(sql "$W/aipm.db" "select count(*) from feedback_links")" = 64 ] || fail "a refused correction was stored"
    # Human output ends with the summary.
    A -C "$W" feedback links
    expect_rc 0 "feedback links (human)"
    tail -n 3 "$OUT" | grep -q 'feedback rows over 160 items' || fail "no summary line: $(tail -n 3 "$OUT")"
    tail -n 2 "$OUT" | grep -q '^model: learnt from [0-9]* labelled rows; 5-fold cross-validation' ||
        fail "no model line: $(tail -n 2 "$OUT")"
}

case_prioritize_on_demo() {
    local W=$T/demo-pz before
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 2 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    # The demo job ranked the backlog once already (a decision record).
    before=$(sql "$W/aipm.db" "select count(*) from decisions where kind = 'prioritize'")
    A -C "$W" prioritize --capacity 10 --json
    expect_rc 0 "prioritize"
    cp "$OUT" "$T/pz.json"
    # The shape, the order, the plan; and the expected values against the
    # true values the generator planted (truth.json).
    pycheck "$W/demo-data/truth.json" '
import json
p = json.load(open(args[0]))
truth = {i["id"]: i for i in d["backlog"]["items"]}
items = p["items"]
want(p["model"]["kind"] == "bayesian_linear" and p["model"]["trained_on"] >= 10, "model %r" % p["model"])
want([i["rank"] for i in items] == list(range(1, len(items) + 1)), "ranks are not 1..n")
want(all(a["score"] >= b["score"] for a, b in zip(items, items[1:])), "not sorted by score")
open_items = [k for k, v in truth.items() if v["status"] in ("idea", "planned", "in_progress")]
want(sorted(i["id"] for i in items) == sorted(open_items), "candidates are not the open items")
for i in items:
    for f in ("rank", "id", "title", "expected_value", "p10", "p50", "p90", "effort", "score", "confidence", "linked_feedback", "contributions"):
        want(f in i, "item lacks %s" % f)
    want(i["p10"] <= i["p50"] <= i["p90"], "%s: quantiles out of order" % i["id"])
    want(0 <= i["confidence"] <= 1, "%s: confidence %r" % (i["id"], i["confidence"]))
    want(i["contributions"] and all({"factor", "share", "text"} <= set(c) for c in i["contributions"]), "%s: contributions" % i["id"])
    want(i["effort"] == truth[i["id"]]["effort"], "%s: effort" % i["id"])
plan = p["plan"]
want(plan["capacity"] == 10 and plan["effort"] <= 10, "plan over capacity: %r" % plan["effort"])
ids = {i["id"]: i for i in items}
want(all(x in ids for x in plan["items"]), "plan names an unknown item")
want(abs(sum(ids[x]["effort"] for x in plan["items"]) - plan["effort"]) < 0.51 * len(plan["items"]) + 1e-9, "plan effort")
want(plan["p10"] <= plan["expected_value"] <= plan["p90"] * 1.5, "plan interval %r" % plan)
ev = [i["expected_value"] for i in items]
tv = [truth[i["id"]]["value"] for i in items]
def ranks(v):
    s = sorted(range(len(v)), key=lambda k: v[k])
    r = [0] * len(v)
    for n, k in enumerate(s):
        r[k] = n
    return r
ra, rb = ranks(ev), ranks(tv)
n = len(ev)
rho = 1 - 6 * sum((x - y) ** 2 for x, y in zip(ra, rb)) / (n * (n * n - 1))
print("# prioritize: Spearman of expected vs true value over %d open items: %.3f" % (n, rho))
want(rho >= 0.4, "expected values rank the true values with Spearman %.3f < 0.4" % rho)' "$T/pz.json"
    [ "$(sql "$W/aipm.db" "select count(*) from decisions where kind = 'prioritize'")" = $((before + 1)) ] ||
        fail "no decision record for the run"
    # The same seed gives the same numbers; --no-record stores nothing.
    A -C "$W" prioritize --capacity 10 --json --no-record
    expect_rc 0 "prioritize again"
    pycheck "$OUT" '
import json
a = json.load(open(args[0]))
want([(i["id"], i["expected_value"], i["p90"]) for i in a["items"]] == [(i["id"], i["expected_value"], i["p90"]) for i in d["items"]], "same seed, different numbers")' "$T/pz.json"
    [ "$(sql "$W/aipm.db" "select count(*) from decisions where kind = 'prioritize'")" = $((before + 1)) ] ||
        fail "--no-record stored a decision"
    # The backtest: time-ordered, against the PM's RICE, on three demo
    # products (one backtest has only ~25 items on each side: one seed is
    # too noisy a floor). Seeds 1, 2 and 4, picked when seed 3's demo
    # failed on a false positive of its null experiment; it passes as of
    # 2026-12-05 (and a planted null's false positive is now a warning).
    # bench/prioritize/pzeval reports the backtest over 12 seeds with CIs.
    A -C "$W" prioritize --backtest --json
    expect_rc 0 "prioritize --backtest"
    cp "$OUT" "$T/bt-2.json"
    for s in 1 4; do
        timeout 120 "$AIPM" $(demo_store "$T/demo-bt$s") demo "$T/demo-bt$s" --seed $s >"$OUT" 2>"$ERR" </dev/null
        RC=$?
        expect_rc 0 "aipm demo --seed $s"
        A -C "$T/demo-bt$s" prioritize --backtest --json --no-record
        expect_rc 0 "prioritize --backtest, seed $s"
        cp "$OUT" "$T/bt-$s.json"
    done
    pycheck - '
import json, os
rho = []
for s in (1, 2, 4):
    b = json.load(open(os.path.join(args[0], "bt-%d.json" % s)))["backtest"]
    print("# prioritize --backtest, seed %d: Spearman %.3f (model, %d items; %.3f on the %d with RICE) vs %.3f (RICE); P10..P90 coverage %.2f" % (
        s, b["spearman"], b["tested_on"], b["model_spearman_on_rice_items"], b["rice_items"], b["rice_spearman"], b["p10_p90_coverage"]))
    want(b["trained_on"] >= 10 and b["tested_on"] >= 10, "seed %d: backtest sizes %r" % (s, b))
    want(b["spearman"] >= 0.2, "seed %d: backtest Spearman %.3f below 0.2" % (s, b["spearman"]))
    rho.append(b["spearman"])
want(sum(rho) / 3 >= 0.45, "mean backtest Spearman %.3f below 0.45" % (sum(rho) / 3))' "$T"
    A -C "$W" prioritize
    expect_rc 0 "prioritize (human)"
    grep -q '^   1  BL-' "$OUT" || fail "no ranked rows in the human output"
    for bad in "--capacity -1" "--risk-aversion 2" "--draws 5" "--cutoff 2026-01-01" "--frobnicate"; do
        A -C "$W" prioritize $bad
        expect_rc 1 "prioritize $bad"
        expect_one_line_stderr "prioritize $bad"
    done
}

case_prioritize_rice_fallback() {
    mkws pz-rice
    A -C "$WS" ingest backlog "$EX/backlog.csv"
    expect_rc 0 "ingest backlog"
    A -C "$WS" ingest feedback "$EX/feedback.csv"
    expect_rc 0 "ingest feedback"
    A -C "$WS" prioritize --json --no-record
    expect_rc 0 "prioritize"
    pycheck "$OUT" '
want(d["model"]["kind"] == "rice" and "fewer than 10" in d["model"]["note"], "model %r" % d["model"])
want(len(d["items"]) > 0, "no items")
want(all(c["factor"] == "rice" for i in d["items"] for c in i["contributions"]), "RICE ranking explains other factors")'
    # Extreme but contract-valid efforts: every open item is still ranked
    # (review finding: a NaN score used to drop an item silently).
    mkws pz-extreme
    printf 'id,title,description,area,effort,status,created_at,shipped_at,feature_key,reach,impact,confidence\nX-1,Tiny,,data,1e-307,idea,2026-01-01,,,100,1,1\nX-2,Huge,,data,1e300,idea,2026-01-01,,,100,1,1\nX-3,Plain,,data,2,idea,2026-01-01,,,100,1,1\n' > "$T/extreme.csv"
    A -C "$WS" ingest backlog "$T/extreme.csv"
    expect_rc 0 "ingest extreme backlog"
    A -C "$WS" prioritize --json --no-record --capacity 4
    expect_rc 0 "prioritize extreme efforts"
    pycheck "$OUT" '
want(sorted(i["id"] for i in d["items"]) == ["X-1", "X-2", "X-3"], "items %r" % [i["id"] for i in d["items"]])
want(all(i["score"] is not None for i in d["items"]), "a null score")
want(d["plan"]["effort"] <= 4, "plan over capacity")'
}

case_forecast_bass_series() {
    local F=$T/vcr.csv
    # US home VCR sales 1980-1989, thousand units; the density-form fit of
    # Cowpertwait and Metcalfe (2009, section 3.3.4): m 6.798e4,
    # p 6.594e-3, q 0.6381.
    printf 'period,adopters\n1980,840\n1981,1470\n1982,2110\n1983,4000\n1984,7590\n1985,10950\n1986,10530\n1987,9470\n1988,7790\n1989,5890\n' > "$F"
    mkws fc
    A -C "$WS" forecast bass --series "$F" --form density --horizon 5 --json
    expect_rc 0 "forecast bass"
    pycheck "$OUT" '
want(abs(d["m"] / 6.798e4 - 1) < 1e-3 and abs(d["p"] / 6.594e-3 - 1) < 1e-3 and abs(d["q"] / 0.6381 - 1) < 1e-3, "fit %r" % {k: d[k] for k in ("p", "q", "m")})
want(all(d["se"][k] > 0 for k in ("p", "q", "m")), "standard errors %r" % d["se"])
want(len(d["fitted"]) == 10 and d["fitted"][0]["period"] == "1980", "fitted values")
want(len(d["forecast"]) == 5 and d["forecast"][0]["t"] == 11, "forecast %r" % d["forecast"][:1])
want(d["holdout_mape"] is None and "decision_id" in d, "holdout / record")'
    [ "$(sql "$WS/aipm.db" "select count(*) from decisions where kind = 'forecast'")" = 1 ] ||
        fail "the fit was not recorded"
    A -C "$WS" forecast bass --series "$F" --holdout 3 --no-record --json
    expect_rc 0 "forecast bass --holdout"
    pycheck "$OUT" '
want(d["fitted_on"] == 7 and d["form"] == "per-period", "fitted_on %r" % d["fitted_on"])
h = [r for r in d["forecast"] if "observed" in r]
want(len(h) == 3 and h[0]["period"] == "1987", "held-out rows %r" % h)
mape = sum(abs(r["adopters"] - r["observed"]) / r["observed"] for r in h) / 3
want(abs(d["holdout_mape"] - mape) < 1e-9, "holdout MAPE %r vs %r" % (d["holdout_mape"], mape))'
    [ "$(sql "$WS/aipm.db" "select count(*) from decisions where kind = 'forecast'")" = 1 ] ||
        fail "--no-record recorded"
    # Outside a workspace it still fits, and says it did not record.
    mkdir -p "$T/nows" && cd "$T/nows" || fail "cd"
    A forecast bass --series "$F"
    expect_rc 0 "forecast bass outside a workspace"
    grep -q 'not recorded' "$ERR" || fail "no note that the fit was not recorded"
    # Bad input: one line, exit 1.
    printf 'period,adopters\n1,5\n2,x\n' > "$T/bad.csv"
    for bad in "--series $T/bad.csv" "--series $T/missing.csv" "--series $T" "--series $F --form cubic" "--series $F --holdout 8" "--series $F --holdout 4294967276" ""; do
        A forecast bass $bad --no-record
        expect_rc 1 "forecast bass $bad"
        expect_one_line_stderr "forecast bass $bad"
    done
    A forecast bass --series "$T/bad.csv" --no-record
    grep -q 'line 3' "$ERR" || fail "the bad line is not named: $(errtext)"
}

# Adoption forecasts on a demo big enough for the enterprise and pro plans
# (20000 users, 150 days). truth.json has each feature's planted graph
# coefficient per plan (log-odds per unit of the neighbours' adopted
# share). Checked: the fixed JSON names; the coefficient's sign and size
# where the data pin it down (se < 1.5, 100+ adopters): within 3 standard
# errors each, and the adopters-weighted mean ratio to the truth within
# 0.75..1.33; the chosen model's backtest WAPE below the last value's for
# every feature and below both baselines pooled over the 10 features;
# ordered intervals and their coverage in a backtest; the record; the
# backtest's rows against its figures; the prior of a feature nobody has
# used yet.
case_forecast_adoption_on_demo() {
    local W=$T/demo-adopt feats="export dashboard query alerts comments invites share schedule connectors sso"
    timeout 300 "$AIPM" $(demo_store "$W") demo "$W" --seed 3 --users 20000 --days 150 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    A -C "$W" forecast adoption $feats --by plan --draws 20 --no-record --json
    expect_rc 0 "forecast adoption"
    pycheck "$OUT" '
truth = load(args[0])["adoption"]["features"]
docs = d["forecasts"]
want(len(docs) == 10, "%d forecasts" % len(docs))
ratio = weight = 0
chosen = last = trend = 0
rep = []
for f in docs:
    want(set(f) >= {"feature", "model", "segments"} and f["model"] in ("bass", "hazard"), "top names %r" % sorted(f))
    b = f["backtest"]
    mine = b[f["model"] + "_wape"]
    want(mine < b["naive_wape"], "%s: %s WAPE %.3f not below the last value %.3f" % (f["feature"], f["model"], mine, b["naive_wape"]))
    chosen += mine; last += b["naive_wape"]; trend += b["trend_wape"]
    want(b[f["model"] + "_wape"] == min(b["bass_wape"], b["hazard_wape"]), "%s: the model is not the backtest winner" % f["feature"])
    for s in f["segments"]:
        want(set(s) >= {"segment", "p", "q", "m", "graph_coef", "forecast", "backtest"}, "segment names %r" % sorted(s))
        want(len(s["forecast"]) == 30, "horizon %d" % len(s["forecast"]))
        for r in s["forecast"]:
            want(set(r) >= {"day", "adopters", "lo80", "hi80", "lo95", "hi95"}, "row names %r" % sorted(r))
            want(r["lo95"] <= r["lo80"] + 1e-9 and r["lo80"] <= r["hi80"] and r["hi80"] <= r["hi95"] + 1e-9, "intervals %r" % r)
        want(set(s["backtest"]) >= {"mape", "wape", "naive_mape"}, "backtest names %r" % s["backtest"])
        h = s["hazard"]
        if h is None or h["se_beta"] is None or h["se_beta"] >= 1.5 or s["adopters"] < 100:
            continue
        g = truth[f["feature"]]["segments"][s["segment"]]["graph_coef"]
        want(s["graph_coef"] == h["beta"] and s["graph_coef"] > 0, "%s/%s: graph_coef %r" % (f["feature"], s["segment"], s["graph_coef"]))
        z = (h["beta"] - g) / h["se_beta"]
        want(abs(z) < 3, "%s/%s: beta %.2f (se %.2f) vs truth %.2f" % (f["feature"], s["segment"], h["beta"], h["se_beta"], g))
        ratio += s["adopters"] * h["beta"] / g; weight += s["adopters"]
        rep.append("# %s/%s beta %.2f se %.2f truth %.2f" % (f["feature"], s["segment"], h["beta"], h["se_beta"], g))
want(weight > 3000, "too few segments pinned down (%d adopters)" % weight)
want(0.75 < ratio / weight < 1.33, "mean ratio to the truth %.2f" % (ratio / weight))
want(chosen < last and chosen < trend, "pooled WAPE: chosen %.3f, last value %.3f, trend %.3f" % (chosen / 10, last / 10, trend / 10))
print("\n".join(rep))
print("# pooled WAPE: chosen %.4f last value %.4f trend %.4f; mean ratio %.3f" % (chosen / 10, last / 10, trend / 10, ratio / weight))' "$W/demo-data/truth.json"
    # Recorded by default, one decision per feature.
    A -C "$W" forecast adoption share --horizon 7 --draws 10
    expect_rc 0 "forecast adoption (recorded)"
    [ "$(sql "$W/aipm.db" "select count(*) from decisions where kind = 'forecast' and subject = 'share'")" = 1 ] ||
        fail "the forecast was not recorded"
    # The backtest: its rows give its figures.
    A -C "$W" forecast backtest share --holdout 10 --by plan --draws 10 --json
    expect_rc 0 "forecast backtest"
    pycheck "$OUT" '
want(d["backtest"]["days"] == 10 and d["horizon"] == 10, "days %r" % d["backtest"])
for s in d["segments"]:
    rows = s["forecast"]
    want(len(rows) == 10 and all("observed" in r for r in rows), "observed rows")
    if s["model"] != d["model"] or sum(r["observed"] for r in rows) == 0:
        continue
    wape = sum(abs(r["adopters"] - r["observed"]) for r in rows) / sum(r["observed"] for r in rows)
    want(abs(wape - s["backtest"]["wape"]) < 1e-9, "%s: WAPE %r vs rows %r" % (s["segment"], s["backtest"]["wape"], wape))'
    # The intervals' coverage in a 14-day backtest (calibrated on the days
    # before its cutoff): the last day's observed adopters of segments with
    # 50+ adopters, inside the 80% and 95% intervals.
    A -C "$W" forecast backtest $feats --by plan --holdout 14 --json
    expect_rc 0 "forecast backtest, all features"
    pycheck "$OUT" '
n = in80 = in95 = 0
for f in d["forecasts"]:
    for s in f["segments"]:
        if s["adopters"] < 50:
            continue
        r = s["forecast"][-1]
        n += 1
        in80 += r["lo80"] <= r["observed"] <= r["hi80"]
        in95 += r["lo95"] <= r["observed"] <= r["hi95"]
# Floors, not targets: the demo stops signups at 90% of its period, at
# this holdout'"'"'s start, so every model overshoots (README, "Adoption
# forecasts from the store").
want(n >= 12 and in80 >= 0.35 * n and in95 >= 0.6 * n, "coverage: 80%% %d of %d, 95%% %d of %d" % (in80, n, in95, n))
print("# interval coverage in the backtest: 80%% %d of %d, 95%% %d of %d" % (in80, n, in95, n))'
    # A feature nobody used yet, in the reporting area: a prior.
    printf '  - key: pdf\n    name: PDF export\n    area: reporting\n    events: [PDF Exported]\n' > "$T/pdf.yaml"
    awk -v add="$(cat "$T/pdf.yaml")" '{ print } /^catalog:/ { print add }' "$W/aipm.yaml" > "$T/a.yaml" && cp "$T/a.yaml" "$W/aipm.yaml"
    A -C "$W" forecast adoption pdf --no-record --draws 10 --json
    expect_rc 0 "forecast adoption before launch"
    pycheck "$OUT" '
want(d["model"] == "prior" and sorted(d["prior"]["from"]) == ["export", "schedule"], "prior %r" % d.get("prior"))
r = d["segments"][0]["forecast"][-1]
want(d["segments"][0]["adopters"] == 0 and r["adopters"] > 0 and r["lo95"] <= r["adopters"] <= r["hi95"], "prior path %r" % r)'
    # Review findings (2026-11-27): a peer without adopters is no peer (a
    # prior from none is an error, not an empty table); a trait name that
    # is not UTF-8 and a job too big for memory are refused.
    printf '  - key: ghost1\n    area: lab\n    events: [Ghost One]\n    launched_at: 2026-08-01\n  - key: ghost2\n    area: lab\n    events: [Ghost Two]\n' > "$T/ghost.yaml"
    awk -v add="$(cat "$T/ghost.yaml")" '{ print } /^catalog:/ { print add }' "$W/aipm.yaml" > "$T/a.yaml" && cp "$T/a.yaml" "$W/aipm.yaml"
    A -C "$W" forecast adoption ghost2 --no-record
    expect_rc 1 "a prior without peers"
    expect_one_line_stderr "a prior without peers"
    A -C "$W" forecast adoption share --by "$(printf 'pl\377an')" --no-record
    expect_rc 1 "--by not UTF-8"
    A -C "$W" forecast adoption share --by plan --draws 100000 --horizon 3650 --no-record
    expect_rc 1 "too many forecast cells"
    expect_one_line_stderr "too many forecast cells"
    A -C "$W" forecast adoption nosuch --no-record
    expect_rc 1 "unknown feature"
    expect_one_line_stderr "unknown feature"
    A -C "$W" forecast backtest share --holdout 2
    expect_rc 1 "holdout too short"
    # The graph from a snapshot brought up to date (new users numbered
    # last) gives the forecasts of a full build, to the last digit.
    A -C "$W" forecast adoption share --horizon 7 --draws 10 --no-record
    expect_rc 0 "forecast adoption (the snapshot saved)"
    python3 -c '
import json, sys, datetime
end = int(sys.argv[1]) // 1000
for i in range(60):
    t = datetime.datetime.utcfromtimestamp(end - 86400 * (i % 20 + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps({"type": "group", "messageId": "late-g%d" % i, "userId": "late-%d" % i, "groupId": "acct-%d" % (i % 7), "timestamp": t, "traits": {}}))
    if i % 2:
        print(json.dumps({"type": "track", "messageId": "late-t%d" % i, "userId": "late-%d" % i, "event": "Dashboard Shared", "timestamp": t, "properties": {}}))
' "$(sql "$W/aipm.db" "select max(ts) from events")" > "$T/late.ndjson"
    A -C "$W" ingest events "$T/late.ndjson"
    expect_rc 0 "ingest late users"
    A -C "$W" forecast adoption share --horizon 7 --draws 10 --no-record --json
    expect_rc 0 "forecast adoption (incremental graph)"
    cp "$OUT" "$T/adopt-incremental.json"
    A -C "$W" graph stats --json
    pycheck "$OUT" 'want(d["build"]["mode"] == "snapshot", "the forecast did not save its graph: %r" % d["build"])'
    rm -f "$W/graph.snapshot"
    A -C "$W" forecast adoption share --horizon 7 --draws 10 --no-record --json
    expect_rc 0 "forecast adoption (full graph)"
    pycheck "$OUT" '
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k != "fit_seconds"}
    return [strip(v) for v in x] if isinstance(x, list) else x
a = strip(load(args[0])); b = strip(d)
want(a == b, "forecasts differ: %s" % [k for k in b if a.get(k) != b.get(k)])
want(sum(s["adopters"] for s in b["segments"]) > 0, "no adopters")' "$T/adopt-incremental.json"
}

case_graph_on_demo() {
    local W=$T/demo-graph users members invited long
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 4 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    A -C "$W" graph stats --json
    expect_rc 0 "graph stats"
    # Recounted from the store with the sqlite3 shell.
    users=$(sql "$W/aipm.db" "select count(distinct user_id) from v_events where user_id is not null")
    members=$(sql "$W/aipm.db" "select count(*) from (select distinct user_id, group_id from v_events where type = 'group' and user_id is not null and group_id is not null) x")
    invited=$(sql "$W/aipm.db" "select count(*) from v_graph where relation = 'invited'")
    pycheck "$OUT" '
want(d["nodes"]["user"] == int(args[0]), "users %r, store %s" % (d["nodes"]["user"], args[0]))
want(d["edges"]["member_of"] == int(args[1]), "member_of %r, store %s" % (d["edges"]["member_of"], args[1]))
want(d["edges"]["invited"] == int(args[2]), "invited %r, store %s" % (d["edges"]["invited"], args[2]))
want(d["nodes"]["feature"] == 10 and d["edges"]["depends_on"] >= 1, "catalog %r" % d)
want(d["edges_total"] == sum(d["edges"].values()), "edge total")
want(d["build"]["mode"] == "snapshot", "the demo did not save the graph: %r" % d["build"])' "$users" "$members" "$invited"
    [ "$(stat -c %a "$W/graph.snapshot" 2>/dev/null)" = 600 ] || fail "graph.snapshot missing or not 0600"
    A -C "$W" graph stats --json
    pycheck "$OUT" 'want(d["build"]["mode"] == "snapshot" and d["build"]["new_batches"] == 0, "second build %r" % d["build"])'
    A -C "$W" graph neighbors user:u-1 --json
    expect_rc 0 "graph neighbors"
    pycheck "$OUT" '
want(d["kind"] == "user" and any(n["relation"] == "member_of" for n in d["neighbors"]), "user:u-1 %r" % d)'
    # A weight too large for a float and an id longer than any buffer: the
    # graph still builds and shows both (review findings, 2026-11-27).
    long=$(printf 'x%.0s' $(seq 1 700))
    printf 'src,relation,dst,weight\nuser:u-1,likes,user:u-2,1e300\nuser:%s,likes,user:u-1,1\n' "$long" > "$T/odd-graph.csv"
    A -C "$W" ingest graph "$T/odd-graph.csv"
    expect_rc 0 "ingest odd graph rows"
    A -C "$W" graph neighbors user:u-1 --relation likes --json
    expect_rc 0 "graph neighbors after odd rows"
    pycheck "$OUT" '
n = d["neighbors"]
want(len(n) == 2 == d["edges"], "likes edges %r" % n)
want(any(e["node"] == "user:u-2" and e["weight"] is None for e in n), "inf weight not shown as null: %r" % n)
want(any(len(e["node"]) == 705 for e in n), "the long id is missing")'
    # That build was incremental (one new batch) and saved: the stats are
    # a full build's, and the edges are listed out then in, by relation
    # and node id.
    A -C "$W" graph stats --json
    cp "$OUT" "$T/graph-snap.json"
    A -C "$W" graph stats --rebuild --json
    pycheck "$OUT" '
s = json.load(open(args[0]))
want(s["build"]["mode"] == "snapshot", "after the incremental build: %r" % s["build"])
want(d["build"]["mode"] == "full" and d["build"]["why"] == "asked to rebuild", "rebuild %r" % d["build"])
s.pop("build"); d.pop("build")
want(s == d, "the snapshot differs from a full build")' "$T/graph-snap.json"
    A -C "$W" graph neighbors user:u-1 --limit 0 --json
    pycheck "$OUT" '
key = [(e["direction"] != "out", e["relation"], e["node"]) for e in d["neighbors"]]
want(key == sorted(key) and len(key) == d["edges"] == d["degree"], "order %r" % key)'
    A -C "$W" --json data versions
    id=$(python3 -c 'import json,sys; print([b["batch_id"] for b in json.load(sys.stdin)["batches"] if b["dataset"] == "graph"][0])' < "$OUT")
    A -C "$W" data revert "$id" --reason "test: the graph goes back"
    expect_rc 0 "revert the odd graph rows"
    A -C "$W" graph stats --json
    pycheck "$OUT" 'want(d["build"]["mode"] == "full" and d["build"]["why"] == "batch %s is no longer accepted" % args[0] and "likes" not in d["edges"], "after revert %r" % d["build"])' "$id"
    # A copy of the workspace is another store: its first build is full.
    ws_copy "$W" "$T/demo-graph-copy"
    A -C "$T/demo-graph-copy" graph stats --json
    pycheck "$OUT" 'want(d["build"]["why"] == "the snapshot is of another store", "copy %r" % d["build"])'
    rm -rf "$T/demo-graph-copy"
    printf 'not a snapshot' > "$W/graph.snapshot"
    A -C "$W" graph stats
    expect_rc 0 "a damaged snapshot"
    grep -q "built in full: the snapshot is of another format" "$OUT" || fail "damaged snapshot not reported: $(tail -1 "$OUT")"
    A -C "$W" graph stats --bogus
    expect_rc 1 "unknown graph stats option"
    A -C "$W" graph neighbors user:nobody
    expect_rc 1 "unknown node"
    expect_one_line_stderr "unknown node"
    A -C "$W" graph neighbors user:u-1 --relation knows
    expect_rc 1 "unknown relation"
    A -C "$W" graph frobnicate
    expect_rc 1 "unknown graph command"
}

case_kpi_on_demo() {
    sqlite_only "its reference values are read from the SQLite file (cases/backends.sh: PostgreSQL gives SQLite's outputs)"
    local W=$T/demo-kpi
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 3 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    A -C "$W" kpi --by week --json
    expect_rc 0 "aipm kpi"
    # WAU, MAU and new users of every full week recomputed from the raw
    # events with python's sqlite3 (users with a userId, any event).
    pycheck "$OUT" '
import sqlite3, datetime
db = sqlite3.connect(args[0])
days = {}
for u, day in db.execute("select user_id, ts / 86400000 from v_events where user_id is not null group by 1, 2"):
    days.setdefault(u, set()).add(day)
first = {u: min(ds) for u, ds in days.items()}
def day_of(s):
    return (datetime.date.fromisoformat(s) - datetime.date(1970, 1, 1)).days
checked = 0
for p in d["periods"]:
    if p.get("days", 7) != 7:
        continue
    end = day_of(p["start"]) + 6
    wau = sum(1 for ds in days.values() if any(end - 6 <= x <= end for x in ds))
    mau = sum(1 for ds in days.values() if any(end - 29 <= x <= end for x in ds))
    new = sum(1 for f in first.values() if end - 6 <= f <= end)
    want(p["wau"] == wau, "%s: wau %r, expected %r" % (p["start"], p["wau"], wau))
    want(p["mau"] == mau, "%s: mau %r, expected %r" % (p["start"], p["mau"], mau))
    want(p["new_users"] == new, "%s: new users %r, expected %r" % (p["start"], p["new_users"], new))
    want(p["dau"] <= p["wau"] <= p["mau"], "%s: dau <= wau <= mau broken" % p["start"])
    checked += 1
want(checked >= 4, "only %d full weeks checked" % checked)' "$W/aipm.db"
    A -C "$W" kpi nosuchkpi
    expect_rc 1 "kpi with an unknown name"
}

# More cases, one file per area (tests/cli/cases/*.sh): each defines case_*
# functions with the helpers above; the loop below finds them by name.
# FILE_CASES[NAME]: the cases tests/cli/cases/NAME.sh defined.
declare -A FILE_CASES
for f in "$HERE"/cases/*.sh; do
    [ -e "$f" ] || continue
    before=$(declare -F | awk '$3 ~ /^case_/ { print $3 }' | sort)
    # shellcheck source=/dev/null
    . "$f"
    name=$(basename "$f" .sh)
    FILE_CASES[$name]=$(comm -13 <(echo "$before") \
        <(declare -F | awk '$3 ~ /^case_/ { print $3 }' | sort) | tr '\n' ' ')
done

run_case() {
    local name=${1#case_} rc why
    rm -f "$WHY"
    START=$SECONDS
    (cd "$T" && "$1")
    rc=$?
    [ -z "${CLI_TIMING:-}" ] || echo "# $name $((SECONDS - START))s"
    if [ "$rc" -eq 0 ]; then
        echo "ok - $name"
        PASSED=$((PASSED + 1))
    elif [ "$rc" -eq 77 ]; then
        echo "ok - $name # $(cat "$WHY" 2>/dev/null)"
        SKIPPED=$((SKIPPED + 1))
    else
        why=$(cat "$WHY" 2>/dev/null)
        echo "not ok - $name: ${why:-exit $rc}"
        FAILED=$((FAILED + 1))
    fi
}

CASES="
case_init_creates_workspace
case_init_twice_refused
case_help_lists_commands
case_every_command_help
case_unknown_command
case_outside_workspace
case_ingest_examples_json
case_reingest_is_all_duplicates
case_bad_events_ndjson
case_bad_events_gz
case_bad_events_max_line_1024
case_quarantine_by_reason
case_quarantine_limit
case_quarantine_detail_is_one_line
case_bad_csv_files
case_events_csv
case_schema_warn
case_schema_block
case_data_versions_lifecycle
case_unusable_inputs
case_binary_input
case_huge_line_bounded_memory
case_kill_during_ingest
case_lineage_runs_and_openlineage
case_lineage_failed_ingest_names_input
case_audit_verify_intact
case_audit_tamper_edit
case_audit_tamper_delete
case_audit_tamper_delete_last
case_audit_tamper_reorder
case_global_options_anywhere
case_unknown_dataset_name
case_ingest_from_stdin
case_experiment_verdicts_on_demo
case_by_unknown_trait_on_demo
case_kpi_on_demo
case_feedback_links_on_demo
case_prioritize_on_demo
case_prioritize_rice_fallback
case_forecast_bass_series
case_forecast_adoption_on_demo
case_graph_on_demo
"
# every case_* function must be listed (catches a forgotten one)
for c in $(declare -F | awk '$3 ~ /^case_/ { print $3 }'); do
    case " $(echo $CASES) " in
        *" $c "*) ;;
        *) CASES="$CASES $c" ;;
    esac
done

# The core groups (one CTest test each; keep CMakeLists.txt's CLI_GROUPS
# in step). "other" takes any core case not in a group, so none is lost.
group_cases() {
    case $1 in
    setup) echo case_init_creates_workspace case_init_twice_refused \
        case_help_lists_commands case_every_command_help \
        case_unknown_command case_outside_workspace \
        case_global_options_anywhere case_unknown_dataset_name ;;
    ingestion) echo case_ingest_examples_json case_reingest_is_all_duplicates \
        case_bad_events_ndjson case_bad_events_gz \
        case_bad_events_max_line_1024 case_quarantine_by_reason \
        case_quarantine_limit case_quarantine_detail_is_one_line \
        case_bad_csv_files case_events_csv case_schema_warn \
        case_schema_block case_data_versions_lifecycle case_unusable_inputs \
        case_binary_input case_huge_line_bounded_memory \
        case_kill_during_ingest case_ingest_from_stdin ;;
    audit) echo case_lineage_runs_and_openlineage \
        case_lineage_failed_ingest_names_input case_audit_verify_intact \
        case_audit_tamper_edit case_audit_tamper_delete \
        case_audit_tamper_delete_last case_audit_tamper_reorder ;;
    analysis) echo case_experiment_verdicts_on_demo \
        case_by_unknown_trait_on_demo case_kpi_on_demo \
        case_feedback_links_on_demo case_prioritize_on_demo \
        case_prioritize_rice_fallback ;;
    adoption) echo case_forecast_bass_series case_forecast_adoption_on_demo \
        case_graph_on_demo ;;
    other)
        local c taken=" $(group_cases setup) $(group_cases ingestion) $(group_cases audit) $(group_cases analysis) $(group_cases adoption) ${FILE_CASES[*]} "
        for c in $CASES; do
            case $taken in *" $c "*) ;; *) echo "$c" ;; esac
        done ;;
    *) return 1 ;;
    esac
}

if [ ${#SELECTION[@]} -gt 0 ]; then
    picked=""
    for s in "${SELECTION[@]}"; do
        case $s in
        case_*) picked="$picked $s" ;;
        cases/*)
            [ -n "${FILE_CASES[${s#cases/}]+set}" ] || {
                echo "$0: no tests/cli/cases/${s#cases/}.sh" >&2
                exit 2
            }
            picked="$picked ${FILE_CASES[${s#cases/}]}" ;;
        *)
            g=$(group_cases "$s") || {
                echo "$0: no group '$s' (setup ingestion audit analysis adoption other, or cases/NAME)" >&2
                exit 2
            }
            picked="$picked $g" ;;
        esac
    done
    CASES=$picked
fi
if [ -n "${CLI_FIGURES:-}" ]; then
    mkdir -p "$(dirname "$CLI_FIGURES")" && : >"$CLI_FIGURES"
fi
# CLI_CASES="case_a case_b" runs only those (while working on them).
[ -n "${CLI_CASES:-}" ] && CASES=$CLI_CASES
for c in $CASES; do
    run_case "$c"
done

echo "$PASSED passed, $FAILED failed${SKIPPED:+, $SKIPPED skipped}"
[ "$FAILED" -eq 0 ]
