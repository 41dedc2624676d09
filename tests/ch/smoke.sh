#!/bin/sh
# The ClickHouse test cluster answers as a cluster: rows written through a
# Distributed table land on every shard, read back whole through any
# shard, and a re-sent row is counted once.
#
#   tests/ch/smoke.sh DIR      DIR as given to `server.sh start DIR`
#
# In a fresh database aipm_smoke each shard gets a local table events_local
# (ReplacingMergeTree, sorted by user, time and message id) and a
# Distributed table events over the cluster aipm, sharded by
# cityHash64(user_id) so that a user's rows, and so a re-sent row, always
# land on the same shard (ReplacingMergeTree only collapses rows within one
# shard). 1000 rows (100 users, 10 each) go in through shard 1's events as
# TSV over HTTP with insert_distributed_sync=1, so they are on the shards
# when the INSERT returns. Then: every shard's events counts 1000; each
# shard holds an active part with rows, only of users that hash to it, and
# the shards' rows add up to 1000; the first row sent again (as RowBinary,
# through the last shard, merges stopped) makes 1001 stored rows, and
# SELECT ... FINAL and uniqExact(message_id) still count 1000.
#
# CTest runs it as ch_smoke inside the fixture `ch` (CMakeLists.txt). Fails
# (exit 1, one line on stderr) at the first check that does not hold.
set -eu

[ $# -eq 1 ] || {
    echo "usage: smoke.sh DIR" >&2
    exit 2
}
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$1
DB=aipm_smoke
ROWS=1000
USERS=100
T0=1767225600 # 2026-01-01T00:00:00Z, the first row's ts

fail() {
    echo "smoke.sh: $*" >&2
    exit 1
}

url=$("$HERE/server.sh" newdb "$DIR" $DB) || exit 1
cluster=$(cat "$DIR/cluster")
urls=$(cat "$DIR/urls")
shards=$(echo "$urls" | wc -l)
last=$(echo "$urls" | tail -n 1)

# q URL SQL [PARAMS]: runs SQL at URL (the body, or a query= parameter when
# standard input carries data), prints the answer; fails with the server's
# message.
q() {
    out=$(curl -sS --max-time 60 -w '\n%{http_code}' --data-binary "$2" \
        "$1/?database=$DB${3:+&$3}" 2>&1) ||
        fail "no answer from $1: $(echo "$out" | tr '\n' ' ')"
    code=$(echo "$out" | tail -n 1)
    [ "$code" = 200 ] || fail "$1 refused '$2' (HTTP $code):" \
        "$(echo "$out" | sed '$d' | tr '\n' ' ' | cut -c 1-300)"
    echo "$out" | sed '$d'
}

# qin URL SQL PARAMS: sends standard input as the data of INSERT SQL.
qin() {
    sql=$(printf '%s' "$2" | od -An -tx1 | tr -d ' \n' | sed 's/../%&/g')
    out=$(curl -sS --max-time 60 -w '\n%{http_code}' --data-binary @- \
        "$1/?database=$DB&$3&query=$sql" 2>&1) ||
        fail "no answer from $1: $(echo "$out" | tr '\n' ' ')"
    code=$(echo "$out" | tail -n 1)
    [ "$code" = 200 ] || fail "$1 refused '$2' (HTTP $code):" \
        "$(echo "$out" | sed '$d' | tr '\n' ' ' | cut -c 1-300)"
}

# The tables, on every shard: the old MergeTree(date, key, granularity)
# form is not needed, 18.16 takes ORDER BY.
for u in $urls; do
    q "$u" "CREATE TABLE events_local (message_id String, user_id String,
        ts Int64) ENGINE = ReplacingMergeTree
        ORDER BY (user_id, ts, message_id)" >/dev/null
    q "$u" "CREATE TABLE events AS events_local
        ENGINE = Distributed($cluster, $DB, events_local,
        cityHash64(user_id))" >/dev/null
done

# Row i (0-based): message m0000..m0999, user u(i % 100), ts T0 + 60 i.
awk -v n=$ROWS -v users=$USERS -v t0=$T0 'BEGIN {
    for (i = 0; i < n; i++)
        printf "m%04d\tu%03d\t%d\n", i, i % users, t0 + 60 * i
}' | qin "$(echo "$urls" | head -n 1)" \
    "INSERT INTO events FORMAT TabSeparated" insert_distributed_sync=1

for u in $urls; do
    n=$(q "$u" "SELECT count() FROM events")
    [ "$n" = $ROWS ] || fail "count() through $u's events is $n, not $ROWS"
done

total=0
i=0
for u in $urls; do
    n=$(q "$u" "SELECT count() FROM events_local")
    parts=$(q "$u" "SELECT count() FROM system.parts WHERE active
        AND database = '$DB' AND table = 'events_local' AND rows > 0")
    if [ "$n" -eq 0 ] || [ "$parts" -eq 0 ]; then
        fail "shard $((i + 1)) ($u) holds $n rows in $parts parts"
    fi
    # The Distributed engine sends a row to shard
    # (sharding key % total weight), weights 1, shards in order.
    stray=$(q "$u" "SELECT count() FROM events_local
        WHERE cityHash64(user_id) % $shards != $i")
    [ "$stray" = 0 ] ||
        fail "shard $((i + 1)) ($u) holds $stray rows of another shard's users"
    total=$((total + n))
    i=$((i + 1))
done
[ $total = $ROWS ] || fail "the shards hold $total rows, not $ROWS"

# Row 0 again, as RowBinary (String: LEB128 length and bytes; Int64: 8
# bytes little-endian), through the last shard.
for u in $urls; do
    q "$u" "SYSTEM STOP MERGES" >/dev/null
done
python3 -c 'import struct, sys
def s(t):
    b = t.encode()
    return bytes([len(b)]) + b
sys.stdout.buffer.write(s("m0000") + s("u000") + struct.pack("<q", int(sys.argv[1])))
' $T0 | qin "$last" "INSERT INTO events FORMAT RowBinary" \
    insert_distributed_sync=1
stored=$(q "$last" "SELECT count() FROM events")
final=$(q "$last" "SELECT count() FROM events FINAL")
distinct=$(q "$last" "SELECT uniqExact(message_id) FROM events")
for u in $urls; do
    q "$u" "SYSTEM START MERGES" >/dev/null
done
[ "$stored" = $((ROWS + 1)) ] ||
    fail "after the re-sent row, count() is $stored, not $((ROWS + 1))"
[ "$final" = $ROWS ] ||
    fail "after the re-sent row, count() ... FINAL is $final, not $ROWS"
[ "$distinct" = $ROWS ] ||
    fail "after the re-sent row, uniqExact(message_id) is $distinct"
echo "ok - ch_smoke: $ROWS rows over $shards shards through Distributed" \
    "tables, a re-sent row counted once ($url)"
