#!/bin/bash
# `aipm prioritize` gives the same bytes on PostgreSQL as on SQLite.
#
#   tests/pg/compare_prioritize.sh AIPM DIR
#
# AIPM is the aipm binary, DIR a server started by `tests/pg/server.sh
# start DIR`. Makes the demo workspace (SQLite) in a temporary folder, a
# PostgreSQL workspace on a fresh database of that server with the same
# aipm.yaml (but its own store: line), ingests the demo files into it in
# the order the demo did (events backlog feedback signals graph) and makes
# the feedback corrections the demo made (truth.json), then runs each
# prioritize command below on both, with and without --json, and compares
# stdout, stderr and the exit code. AIPM_NOW is fixed, so the runs are
# the same on both; only a decision record's id (a random UUID) is
# masked. Exits 0 when every output is identical and the SQLite runs
# succeeded, 1 otherwise (a diff of each difference is printed), 2 on a
# usage error. Needs python3 (for truth.json), as server.sh does.
set -u

[ $# -eq 2 ] || { echo "usage: compare_prioritize.sh AIPM DIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
AIPM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SERVER=$2
export AIPM_NOW=2026-11-27T00:00:00Z
TMP=$(mktemp -d "${TMPDIR:-/tmp}/aipm-cmp-prio.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

fail() {
    echo "compare_prioritize.sh: $*" >&2
    exit 1
}

url=$("$HERE/server.sh" newdb "$SERVER" aipm_cmp_prioritize) ||
    fail "no database on the server in $SERVER"
"$AIPM" demo "$TMP/sq" --seed 1 >/dev/null 2>"$TMP/err" ||
    fail "aipm demo failed: $(head -c 300 "$TMP/err")"
"$AIPM" --store "$url" init "$TMP/pg" >/dev/null 2>"$TMP/err" ||
    fail "aipm init on $url failed: $(head -c 300 "$TMP/err")"
{
    grep '^store:' "$TMP/pg/aipm.yaml"
    grep -v '^store:' "$TMP/sq/aipm.yaml"
} >"$TMP/aipm.yaml" && mv "$TMP/aipm.yaml" "$TMP/pg/aipm.yaml"
data=$TMP/sq/demo-data
for d in events backlog feedback signals graph; do
    f=$data/$d.csv
    [ $d = events ] && f=$data/events.ndjson.gz
    "$AIPM" -C "$TMP/pg" ingest $d "$f" >/dev/null 2>"$TMP/err" ||
        fail "ingest $d into PostgreSQL failed: $(head -c 300 "$TMP/err")"
done

# The demo also made, as a PM would, the feedback corrections truth.json
# lists (the links prioritize counts as demand): make them here too, in
# its order.
python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["feedback"]["corrections"]:
    if c.get("feedback_id") is not None and c.get("item_id") is not None:
        print("unlink" if c.get("unlink") is True else "link",
              c["feedback_id"], c["item_id"])' "$data/truth.json" >"$TMP/fixes" ||
    fail "cannot read the corrections of $data/truth.json"
while read -r verb fb item; do
    "$AIPM" -C "$TMP/pg" feedback "$verb" "$fb" "$item" >/dev/null \
        2>"$TMP/err" || fail "feedback $verb $fb $item: $(head -c 300 "$TMP/err")"
done <"$TMP/fixes"

# Each case: the arguments after `aipm`, run on both stores in this order
# (a run is recorded as a decision, so the order matters to later runs).
cases=(
    "prioritize"
    "--json prioritize"
    "prioritize --capacity 12 --seed 7"
    "--json prioritize --capacity 12 --seed 7"
    "prioritize --backtest"
    "--json prioritize --backtest"
    "prioritize --backtest --cutoff 2025-06-01"
    "--json prioritize --backtest --cutoff 2025-06-01"
)
uuid='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
status=0
n=0
for c in "${cases[@]}"; do
    n=$((n + 1))
    for ws in sq pg; do
        # shellcheck disable=SC2086 # the case is a list of arguments
        "$AIPM" -C "$TMP/$ws" $c >"$TMP/$ws.$n.raw" 2>"$TMP/$ws.$n.err"
        echo "exit $?" >>"$TMP/$ws.$n.err"
        # a decision record's id is a random UUID (version 4)
        sed -E "s/$uuid/UUID/g" "$TMP/$ws.$n.raw" >"$TMP/$ws.$n.out"
    done
    if [ "$(tail -n 1 "$TMP/sq.$n.err")" != "exit 0" ]; then
        echo "not ok - aipm $c: fails on SQLite: $(head -c 300 "$TMP/sq.$n.err")"
        status=1
    elif cmp -s "$TMP/sq.$n.out" "$TMP/pg.$n.out" &&
        cmp -s "$TMP/sq.$n.err" "$TMP/pg.$n.err"; then
        echo "ok - aipm $c: identical ($(wc -c <"$TMP/sq.$n.out") bytes)"
    else
        echo "not ok - aipm $c: SQLite (<) and PostgreSQL (>) differ"
        diff "$TMP/sq.$n.out" "$TMP/pg.$n.out" | head -n 40
        diff "$TMP/sq.$n.err" "$TMP/pg.$n.err" | head -n 10
        status=1
    fi
done
exit $status
