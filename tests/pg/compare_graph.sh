#!/bin/bash
# The knowledge graph and the adoption forecasts give the same output on
# PostgreSQL as on SQLite (the reference) for the same data.
#
#   tests/pg/compare_graph.sh AIPM DIR    AIPM the aipm binary, DIR as given
#                                         to `tests/pg/server.sh start DIR`
#
# Makes the demo's data (seed 1), then two workspaces, one on a SQLite file
# and one on a fresh database of the server, and feeds both the same files
# in the same order with the same AIPM_NOW: the first part of the events,
# backlog, feedback, signals, the first part of graph.csv; then the rest of
# the events and of graph.csv; last, a few events whose traits are of every
# JSON kind (numbers, true, arrays, objects, escapes). Between them it runs
# on both, with --json and without: graph stats (a full build, an
# incremental one, a restored one and --rebuild), graph neighbors of a few
# nodes, forecast adoption of the demo's features (no segments, --by plan,
# --by industry, a numeric trait and the trait of every JSON kind) and
# forecast backtest. Each command's stdout, stderr (the workspace's path
# made WS) and exit code must be byte-identical, and so must the
# graph.snapshot files the two write after each build, but for the
# header's store digest (a digest of the store's namespace, which names
# the backend) and its two row positions (the events' and graph.csv's
# newest: SQLite's rowid and PostgreSQL's rid count differently, e.g. a
# duplicate takes a rid and no rowid; a snapshot is only ever read back by
# the backend that wrote it).
#
# Prints each difference; exits 1 when there is any, 2 on a usage or setup
# error, 0 when all is the same. Keeps its folder ($TMPDIR) on failure.
set -u

[ $# -eq 2 ] || { echo "usage: compare_graph.sh AIPM DIR" >&2; exit 2; }
AIPM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SERVER=$2
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$AIPM" ] || { echo "compare_graph.sh: no binary $AIPM" >&2; exit 2; }

export AIPM_NOW=2026-11-27T00:00:00Z LC_ALL=C
T=$(mktemp -d "${TMPDIR:-/tmp}/compare_graph.XXXXXX")
fail() {
    echo "compare_graph.sh: $*" >&2
    exit 2
}

url=$("$HERE/server.sh" newdb "$SERVER" aipm_compare_graph) ||
    fail "no database on the server in $SERVER"

# ---- the data ----
"$AIPM" demo "$T/gen" --seed 1 >/dev/null 2>&1 || fail "aipm demo failed"
D=$T/gen/demo-data
mkdir -p "$T/data"
gzip -dc "$D/events.ndjson.gz" >"$T/data/events.ndjson" ||
    fail "cannot read the demo's events"
n=$(wc -l <"$T/data/events.ndjson")
head -n $((n / 2)) "$T/data/events.ndjson" >"$T/data/events1.ndjson"
tail -n +$((n / 2 + 1)) "$T/data/events.ndjson" >"$T/data/events2.ndjson"
g=$(wc -l <"$D/graph.csv")
head -n $((g / 2)) "$D/graph.csv" >"$T/data/graph1.csv"
{
    head -n 1 "$D/graph.csv"
    tail -n +$((g / 2 + 1)) "$D/graph.csv"
} >"$T/data/graph2.csv"
# The trait "tier" of every JSON kind: users' own (identify) and their
# accounts' (group), for users who adopt the features (u-0..u-9).
{
    i=0
    for v in '"pro"' '2.0' '0.1' '1.0E+20' '12345678901234567890' '-7' \
        'true' 'false' '[1, 2, "a"]' '{ "b" : [3] , "a":"x\"y" }' \
        '"caf\u00e9 \"q\""' '1e-7' '123456789.123456789'; do
        printf '{"type":"identify","messageId":"tier-u-%d","userId":"u-%d",' \
            "$i" "$i"
        printf '"timestamp":"2026-08-01T00:00:%02d.000Z",' "$i"
        printf '"traits":{"tier": %s}}\n' "$v"
        printf '{"type":"group","messageId":"tier-g-%d","userId":"u-%d",' \
            "$i" "$((i + 20))"
        printf '"groupId":"acct-tier-%d",' "$((i % 5))"
        printf '"timestamp":"2026-08-01T00:01:%02d.000Z",' "$i"
        printf '"traits":{"tier": %s}}\n' "$v"
        i=$((i + 1))
    done
    # JSON null counts as absent: an older value wins.
    printf '{"type":"identify","messageId":"tier-null","userId":"u-1",'
    printf '"timestamp":"2026-08-02T00:00:00.000Z","traits":{"tier":null}}\n'
} >"$T/data/events3.ndjson"

# ---- the workspaces ----
"$AIPM" init "$T/sq" >/dev/null || fail "aipm init (SQLite) failed"
cp "$D/aipm.yaml" "$T/sq/aipm.yaml"
"$AIPM" --store "$url" init "$T/pg" >/dev/null ||
    fail "aipm init (PostgreSQL) failed"
store_line=$(grep '^store:' "$T/pg/aipm.yaml")
awk -v s="$store_line" '/^store:/ { print s; next } { print }' \
    "$D/aipm.yaml" >"$T/pg/aipm.yaml"

# run NAME ARGS...: the command on both workspaces, its output kept.
step=0
run() {
    local name=$1 w o
    shift
    step=$((step + 1))
    for w in sq pg; do
        mkdir -p "$T/out/$w"
        o=$T/out/$w/$(printf '%02d' $step)-$name
        (cd "$T/$w" && "$AIPM" "$@") >"$o.out" 2>"$o.err"
        echo "rc $?" >>"$o.out"
        # What differs from run to run: the workspace's path, times, the
        # decision records' random ids.
        perl -0pi -e "s|\Q$T/$w\E|WS|g;" \
            -e 's/\((\d+\.\d+) s\)/(T s)/g;' \
            -e 's/("(?:save_)?seconds": )[-+.0-9eE]+/${1}T/g;' \
            -e 's/("fit_seconds": \{)[^}]*\}/${1}T}/g;' \
            -e 's/("decision_id": )"[^"]*"/${1}"ID"/g' "$o.out" "$o.err"
    done
}

ingest() {
    local w
    for w in sq pg; do
        (cd "$T/$w" && "$AIPM" ingest "$1" "$2") >/dev/null 2>&1 ||
            fail "ingest $1 $2 failed in $w"
    done
}

# snap NAME: both workspaces' graph.snapshot, the header's store digest
# (bytes 48..79) and row positions (88..103) zeroed.
snap() {
    local w o
    step=$((step + 1))
    for w in sq pg; do
        o=$T/out/$w/$(printf '%02d' $step)-snapshot-$1
        python3 - "$T/$w/graph.snapshot" "$o" <<'EOF' || fail "no snapshot in $w"
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[48:80] = bytes(32)
b[88:104] = bytes(16)
open(sys.argv[2], "wb").write(b)
EOF
    done
}

# The catalog's features: the keys of its list, up to the next section.
FEATURES=$(awk '/^[a-z]/ { in_catalog = $1 == "catalog:" }
    in_catalog && /^  - key:/ { printf "%s ", $3 }' "$D/aipm.yaml")

both() { # the command with and without --json
    local name=$1
    shift
    run "$name" "$@"
    run "$name-json" --json "$@"
}

ingest events "$T/data/events1.ndjson"
ingest backlog "$D/backlog.csv"
ingest feedback "$D/feedback.csv"
ingest signals "$D/signals.csv"
ingest graph "$T/data/graph1.csv"
run stats-full graph stats
snap full
run stats-restored-json --json graph stats

ingest events "$T/data/events2.ndjson"
ingest graph "$T/data/graph2.csv"
run stats-incremental graph stats
snap incremental
run stats-incremental-restored-json --json graph stats
for node in user:u-0 user:u-15 account:acct-264 feature:export feature:share; do
    both "neighbors-${node//:/_}" graph neighbors "$node" --limit 0
done
both neighbors-invited graph neighbors user:u-9 --relation invited
# shellcheck disable=SC2086
{
    both adoption forecast adoption $FEATURES
    both adoption-plan forecast adoption $FEATURES --by plan
    both adoption-industry forecast adoption export share --by industry
    both adoption-seats forecast adoption export --by seats
    both adoption-cohort forecast adoption query --by cohort
    both backtest forecast backtest export share --holdout 14
    both backtest-plan forecast backtest export --by plan
}
run stats-rebuild graph stats --rebuild
snap rebuild
run stats-rebuild-json --json graph stats --rebuild

ingest events "$T/data/events3.ndjson"
run stats-after-traits graph stats
snap after-traits
both adoption-tier forecast adoption export share --by tier
both adoption-tier-no-record forecast adoption dashboard --by tier --no-record

# ---- the verdict ----
if diff -r "$T/out/sq" "$T/out/pg"; then
    echo "ok - compare_graph: $step steps byte-identical on SQLite and" \
        "PostgreSQL"
    "$HERE/server.sh" newdb "$SERVER" aipm_compare_graph >/dev/null 2>&1
    rm -rf "$T"
    exit 0
fi
echo "compare_graph.sh: SQLite and PostgreSQL differ (outputs in $T/out)" >&2
exit 1
