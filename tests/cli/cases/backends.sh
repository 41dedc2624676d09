# tests/cli/cases/backends.sh - the same data on SQLite, on PostgreSQL and
# with its events in ClickHouse give the same outputs (issue 15). The
# PostgreSQL cases run when the suite has a PostgreSQL server
# (AIPM_TEST_PG_DIR: CTest's fixture `pg`), the ClickHouse ones when it
# has the ClickHouse test cluster (AIPM_TEST_CH_DIR: the fixture `ch`, two
# shards); without one each case is skipped. The reference is the SQLite
# backend's output on the same files; nothing here is computed by the
# other backend alone.

# needs_pg: skip the case when there is no server.
needs_pg() {
    if ! on_pg; then
        printf 'SKIP needs a PostgreSQL server (AIPM_TEST_PG_DIR)' >"$WHY"
        exit 77
    fi
}

# pair NAME SEED: demo files of SEED in $T/NAME-data, and two workspaces
# with the demo's aipm.yaml that ingested them in the same order: $SQ on
# SQLite, $PGW on PostgreSQL.
pair() {
    local ds f url
    A demo generate "$T/$1-data" --seed "$2" --users 800 --days 90
    expect_rc 0 "demo generate"
    SQ=$T/$1-sqlite PGW=$T/$1-pg
    "$AIPM" init "$SQ" >/dev/null 2>&1 || fail "init $SQ"
    if [ -n "${CH_EVENTS:-}" ]; then
        # the events in ClickHouse, the rest in the workspace's SQLite file
        url=$CH_EVENTS
        "$AIPM" --events-store "$url" init "$PGW" >/dev/null 2>"$T/.init.err" ||
            fail "init with ClickHouse events: $(head -c 200 "$T/.init.err")"
        { echo "events_store: \"$url\""; grep -v '^events_store:' "$T/$1-data/aipm.yaml"; } >"$PGW/aipm.yaml"
    else
        url=$(pg_url "$1")
        "$AIPM" --store "$url" init "$PGW" >/dev/null 2>"$T/.init.err" ||
            fail "init on PostgreSQL: $(head -c 200 "$T/.init.err")"
        { echo "store: \"$url\""; grep -v '^store:' "$T/$1-data/aipm.yaml"; } >"$PGW/aipm.yaml"
    fi
    cp "$T/$1-data/aipm.yaml" "$SQ/aipm.yaml"
    for ds in events backlog feedback signals graph; do
        f=$T/$1-data/$ds.csv
        [ "$ds" = events ] && f=$T/$1-data/events.ndjson.gz
        A -C "$SQ" ingest "$ds" "$f" --json
        cp "$OUT" "$T/ingest-$ds-sqlite.json"
        A -C "$PGW" ingest "$ds" "$f" --json
        # the same report but for the run's own id and its time
        "$PY" - "$T/ingest-$ds-sqlite.json" "$OUT" <<'PYEOF' || fail "ingest $ds: the reports differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for d in (a, b):
    d.pop("run_id", None)
    d.pop("elapsed_s", None)
if a != b:
    print([k for k in set(a) | set(b) if a.get(k) != b.get(k)], file=sys.stderr)
    sys.exit(1)
PYEOF
    done
}

# same ARGS...: the command's stdout and exit status are the same on both
# (but for the random ids of the ingest runs and their times).
same() {
    A -C "$SQ" "$@"
    grep -Ev '"(run_id|elapsed_s|[a-z_]*seconds)"' "$OUT" >"$T/same.sqlite"
    local rc=$RC
    A -C "$PGW" "$@"
    grep -Ev '"(run_id|elapsed_s|[a-z_]*seconds)"' "$OUT" >"$T/same.pg"
    [ "$RC" = "$rc" ] || fail "aipm $*: exit $rc on SQLite, $RC on the other store: $(errtext)"
    cmp -s "$T/same.pg" "$T/same.sqlite" ||
        fail "aipm $*: outputs differ: $(diff "$T/same.sqlite" "$T/same.pg" | head -c 400)"
    N_SAME=$((N_SAME + 1))
}

# same_experiments: `same` for each experiment of the demo, with each
# engine and with --by plan; their keys in $EXPS.
same_experiments() {
    local e
    EXPS=$("$PY" -c 'import json, sys; print(" ".join(e["key"] for e in json.load(open(sys.argv[1]))["experiments"]))' \
        <(cd "$SQ" && "$AIPM" experiment list --json)) || fail "experiment list"
    [ -n "$EXPS" ] || fail "the demo has no experiments"
    for e in $EXPS; do
        same experiment analyze "$e" --json --no-record
        same experiment analyze "$e" --engine bayesian --json --no-record
        same experiment analyze "$e" --by plan --json --no-record
    done
}

# same_digests: each batch's rows digest, as each store recorded it at
# ingest, is the same, and audit verify --data recomputes them from the
# other store's rows.
same_digests() {
    A -C "$SQ" audit log --json
    grep '"rows_sha256"' "$OUT" >"$T/digests.sqlite"
    A -C "$PGW" audit log --json
    grep '"rows_sha256"' "$OUT" >"$T/digests.other"
    [ "$(wc -l <"$T/digests.other")" -eq 5 ] || fail "expected 5 rows digests, got $(wc -l <"$T/digests.other")"
    cmp -s "$T/digests.sqlite" "$T/digests.other" || fail "the rows digests differ"
    A -C "$PGW" audit verify --data
    expect_rc 0 "audit verify --data on the other store"
}

case_backends_same_outputs() {
    needs_pg
    N_SAME=0
    pair bo 4
    same data versions --json
    same data versions
    same quality --json
    same quarantine --json --limit 50
    same quarantine --reason duplicate_message_id --json
    same kpi --json
    same kpi --period day --json
    same kpi --period month
    same_experiments
    same_digests
    echo "# backends: $N_SAME commands give identical output on SQLite and PostgreSQL (demo seed 4, $(echo $EXPS | wc -w) experiments)" |
        tee -a "${CLI_FIGURES:-/dev/null}" >&2
}

# A record made on PostgreSQL replays there, and an edit of a row in the
# store is named by audit verify --data, as on SQLite.
case_backends_pg_records_and_tamper() {
    local id url
    needs_pg
    pair br 2
    A -C "$PGW" experiment analyze onboarding_checklist --json
    expect_rc 0 "experiment analyze (recorded)"
    id=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["decision_id"])' "$OUT") ||
        fail "no decision_id in the output"
    A -C "$PGW" decisions replay "$id"
    expect_rc 0 "decisions replay on PostgreSQL"
    url=$(store_of "$PGW")
    psql -X -q -d "$url" -c "UPDATE aipm.events SET user_id = 'someone-else' WHERE rid = 10" >/dev/null 2>&1 ||
        fail "could not edit a row"
    A -C "$PGW" audit verify --data
    expect_rc 3 "audit verify --data after an edited event row"
    grep -q 'batch:1:' "$ERR" || fail "the edited batch is not named: $(errtext)"
}

# init on PostgreSQL: the workspace names the store; a second init on the
# same database, a password in the URL and an unreachable server are one
# clear line each, and change nothing.
case_backends_pg_init() {
    local url dead
    needs_pg
    url=$(pg_url pi)
    A --store "$url" init "$T/pi"
    expect_rc 0 "init --store URL"
    grep -qF "store: \"$url\"" "$T/pi/aipm.yaml" || fail "aipm.yaml does not name the store"
    [ ! -e "$T/pi/aipm.db" ] || fail "an aipm.db was made beside a PostgreSQL store"
    A -C "$T/pi" audit log --json
    pycheck "$OUT" '
e = d["entries"]
want(len(e) == 1 and e[0]["entry"]["action"] == "init", "entries: %r" % e)
want(e[0]["entry"]["detail"]["store"].startswith("postgresql://"), "init names %r" % e[0]["entry"]["detail"]["store"])'
    A --store "$url" init "$T/pi2"
    expect_rc 1 "a second init on the same database"
    expect_one_line_stderr "a second init"
    grep -q 'already holds an aipm store' "$ERR" || fail "unclear: $(errtext)"
    [ ! -e "$T/pi2/aipm.yaml" ] || fail "the refused init left a workspace"
    A --store "postgresql://u:s3cr3tpw@127.0.0.1:1/x" init "$T/pi3"
    expect_rc 1 "init with a password in the URL"
    expect_one_line_stderr "password in the URL"
    grep -q s3cr3tpw "$ERR" && fail "the password was printed"
    dead="postgresql://aipm@127.0.0.1:1/nothing"
    A --store "$dead" data versions
    expect_rc 1 "an unreachable server"
    expect_one_line_stderr "an unreachable server"
    grep -q 'cannot connect to store' "$ERR" || fail "unclear: $(errtext)"
    true
}

# Two ingests of one PostgreSQL workspace at once serialize on the store's
# advisory lock: both finish, the batches are numbered in turn, no row is
# lost and the audit log verifies.
case_backends_pg_concurrent_ingest() {
    local W p1 p2 rc1 rc2
    needs_pg
    mkws conc; W=$WS
    "$PY" - "$T/c1.ndjson" "$T/c2.ndjson" <<'PYEOF' || fail "could not write the files"
import sys
for k, path in enumerate(sys.argv[1:]):
    with open(path, "w") as f:
        for i in range(40000):
            f.write('{"type":"track","messageId":"c%d-%06d","userId":"u-%d","event":"Query Run",'
                    '"timestamp":"2026-11-%02dT10:00:00Z","properties":{"rows":%d}}\n'
                    % (k, i, i % 300, 1 + i % 25, i))
PYEOF
    "$AIPM" -C "$W" ingest events "$T/c1.ndjson" >"$T/c1.out" 2>&1 </dev/null &
    p1=$!
    "$AIPM" -C "$W" ingest events "$T/c2.ndjson" >"$T/c2.out" 2>&1 </dev/null &
    p2=$!
    wait "$p1"; rc1=$?
    wait "$p2"; rc2=$?
    [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] ||
        fail "concurrent ingests exited $rc1 and $rc2: $(head -c 200 "$T/c1.out") / $(head -c 200 "$T/c2.out")"
    A -C "$W" data versions --json
    pycheck "$OUT" '
b = sorted(d["batches"], key=lambda x: x["batch_id"])
want([x["batch_id"] for x in b] == [1, 2], "batch ids %r" % [x["batch_id"] for x in b])
want(all(x["accepted"] == 40000 and x["status"] == "accepted" for x in b), "batches %r" % b)'
    [ "$(sql "$W/aipm.db" 'SELECT count(*) FROM v_events')" = 80000 ] ||
        fail "v_events holds $(sql "$W/aipm.db" 'SELECT count(*) FROM v_events') rows, expected 80000"
    A -C "$W" audit verify --data
    expect_rc 0 "audit verify --data after concurrent ingests"
}

# A writer waiting for a PostgreSQL store's lock says whom it waits for
# (the holder's application_name: an aipm gives its activity and pid), and
# --wait bounds the wait, as on SQLite (files.sh).
case_backends_pg_lock_wait() {
    local W url holder rc
    needs_pg
    mkws lw; W=$WS
    url=$(store_of "$W")
    PGAPPNAME="holder-of-the-lock" psql -X -q -d "$url" \
        -c "BEGIN" -c "SELECT pg_advisory_xact_lock(1634300013)" \
        -c "SELECT pg_sleep(4)" -c "COMMIT" >/dev/null 2>&1 &
    holder=$!
    sleep 1
    A -C "$W" --wait 1 ingest events "$EX/events.ndjson"
    expect_rc 1 "ingest --wait 1 while the lock is held"
    grep -q 'locked by another process' "$ERR" || fail "unclear: $(errtext)"
    A -C "$W" --wait 30 ingest events "$EX/events.ndjson"
    rc=$RC
    wait "$holder"
    [ "$rc" -eq 0 ] || fail "ingest --wait 30: exit $rc: $(errtext)"
    grep -q 'waiting for holder-of-the-lock writing to' "$ERR" ||
        fail "the wait does not name the holder: $(errtext)"
    A -C "$W" audit verify
    expect_rc 0 "audit verify after the wait"
}

# ---- ClickHouse: the events in ClickHouse, the rest in SQLite ----

CHDIR=${AIPM_TEST_CH_DIR:-}

# needs_ch: skip the case when there is no ClickHouse test cluster.
needs_ch() {
    if [ -z "$CHDIR" ]; then
        printf 'SKIP needs the ClickHouse test cluster (AIPM_TEST_CH_DIR)' >"$WHY"
        exit 77
    fi
}

# ch_url NAME SHARDS: a fresh database NAME on every shard of the test
# cluster, and the events store URL that uses it: over both shards through
# a Distributed table (SHARDS 2), or on the first server alone (1).
ch_url() {
    local name first shards
    name=$(printf 'w_%s_%s' "${T##*.}" "$1" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_\n' '_')
    name=${name:0:60}
    first=$("$ROOT/tests/ch/server.sh" newdb "$CHDIR" "$name" 2>"$T/.ch.err") ||
        fail "no ClickHouse database for $1: $(head -c 200 "$T/.ch.err")"
    if [ "$2" = 1 ]; then
        echo "$first"
    else
        shards=$(sed 's#^http://##' "$CHDIR/urls" | paste -sd, -)
        echo "$first?cluster=$(cat "$CHDIR/cluster")&shards=$shards"
    fi
}

# ch_q URL SQL: ClickHouse's answer to SQL at URL (a shard's HTTP address).
ch_q() {
    curl -sS --max-time 30 --data-binary "$2" "$1/" 2>&1
}

# The demo data of seed 4 on SQLite and with its events on a two-shard
# ClickHouse cluster: every analysis's output and every batch's rows
# digest are the same; the events are spread over both shards.
case_backends_ch_same_outputs() {
    local c db u n total
    needs_ch
    N_SAME=0
    CH_EVENTS=$(ch_url co 2)
    pair co 4
    for c in "data versions --json" "quality --json" "quarantine --json --limit 50" \
        "quarantine --reason duplicate_message_id --json" "kpi --json" \
        "kpi --period day --json" "kpi --period month" "prioritize --json --no-record" \
        "graph stats --json"; do
        # shellcheck disable=SC2086
        same $c
    done
    same_experiments
    same_digests
    # every event in ClickHouse, on both shards, none twice
    db=${CH_EVENTS%%\?*}; db=${db##*/}
    total=$(sql "$SQ/aipm.db" 'SELECT count(*) FROM events')
    n=$(ch_q "$(head -n 1 "$CHDIR/urls")" "SELECT count(), uniqExact(message_id) FROM $db.events")
    [ "$n" = "$total	$total" ] || fail "ClickHouse holds '$n' rows (and ids), SQLite $total"
    for u in $(cat "$CHDIR/urls"); do
        n=$(ch_q "$u" "SELECT count() FROM $db.events_local")
        [ "$n" -gt 0 ] 2>/dev/null && [ "$n" -lt "$total" ] || fail "shard $u holds '$n' of $total rows"
    done
    echo "# backends: $N_SAME commands give identical output on SQLite and with the events on 2 ClickHouse shards (demo seed 4, $(echo $EXPS | wc -w) experiments)" |
        tee -a "${CLI_FIGURES:-/dev/null}" >&2
}

# One ClickHouse server, no cluster: the same outputs; a re-sent file is
# all duplicates; a reverted batch's events are gone from the analyses and
# its messages can be stored again, as on SQLite.
case_backends_ch_one_shard_dedupe_revert() {
    needs_ch
    N_SAME=0
    CH_EVENTS=$(ch_url c1 1)
    pair c1 7
    same kpi --json
    same experiment analyze onboarding_checklist --json --no-record
    same ingest events "$T/c1-data/events.ndjson.gz" --json
    grep -q '"accepted": 0' "$T/same.pg" || fail "a re-sent file stored events: $(head -c 300 "$T/same.pg")"
    same kpi --json
    for w in "$SQ" "$PGW"; do
        A -C "$w" data revert 1 --reason "test: take the events back" --json
        expect_rc 0 "data revert 1"
    done
    same kpi --json
    same experiment analyze onboarding_checklist --json --no-record
    same ingest events "$T/c1-data/events.ndjson.gz" --json
    grep -q '"accepted": 0' "$T/same.pg" && fail "the re-send after the revert stored nothing"
    same kpi --json
    same experiment analyze onboarding_checklist --json --no-record
    A -C "$PGW" audit verify --data
    expect_rc 0 "audit verify --data"
}

# An events store that cannot be reached, a password in its URL, or
# ClickHouse as the whole store: one clear line each.
case_backends_ch_errors() {
    needs_ch
    mkws ce
    A -C "$WS" --events-store "clickhouse://127.0.0.1:1/x" data versions
    expect_rc 1 "an unreachable ClickHouse"
    expect_one_line_stderr "an unreachable ClickHouse"
    grep -q 'ClickHouse at http://127.0.0.1:1' "$ERR" || fail "unclear: $(errtext)"
    A --events-store "clickhouse://u:s3cr3tpw@127.0.0.1:1/x" init "$T/ce2"
    expect_rc 1 "a password in the events store URL"
    grep -q s3cr3tpw "$ERR" && fail "the password was printed"
    A --store "clickhouse://127.0.0.1:1/x" init "$T/ce3"
    expect_rc 1 "ClickHouse as the store"
    grep -q 'events only' "$ERR" || fail "unclear: $(errtext)"
    true
}

# The metadata store remembers that its events are in ClickHouse: opening
# the workspace without its events store, or with another database, is an
# error, not an analysis of no events; nor can a workspace whose events
# are in its own store be given one (they would no longer be read).
case_backends_ch_workspace_mismatch() {
    local url other
    needs_ch
    url=$(ch_url cm 1)
    other=$(ch_url cm_other 1)
    A --events-store "$url" init "$T/cm"
    expect_rc 0 "init with an events store"
    A -C "$T/cm" ingest events "$ROOT/tests/data/schema_a.ndjson" --json
    expect_rc 0 "ingest into ClickHouse"
    sed -i '/^events_store:/d' "$T/cm/aipm.yaml"
    A -C "$T/cm" data versions
    expect_rc 1 "the workspace without its events store"
    expect_one_line_stderr "the workspace without its events store"
    grep -q 'keeps its events in ClickHouse' "$ERR" || fail "unclear: $(errtext)"
    A -C "$T/cm" --events-store "$other" data versions
    expect_rc 1 "another ClickHouse database"
    expect_one_line_stderr "another ClickHouse database"
    grep -q "database '${url##*/}'" "$ERR" || fail "unclear: $(errtext)"
    A -C "$T/cm" --events-store "$url" data versions --json
    expect_rc 0 "the workspace with its own events store again"
    mkws cs
    A -C "$WS" ingest events "$ROOT/tests/data/schema_a.ndjson" --json
    expect_rc 0 "ingest into SQLite"
    A -C "$WS" --events-store "$other" data versions
    expect_rc 1 "ClickHouse for a workspace with events of its own"
    expect_one_line_stderr "ClickHouse for a workspace with events of its own"
    grep -q 'already keeps events' "$ERR" || fail "unclear: $(errtext)"
    A -C "$WS" data versions --json
    expect_rc 0 "the SQLite workspace is still whole"
}
