#!/bin/sh
# The PostgreSQL test server answers: a fresh database, a table, a row
# written and read back over TCP.
#
#   tests/pg/smoke.sh DIR      DIR as given to `server.sh start DIR`
#
# CTest runs it as pg_smoke inside the fixture `pg` (CMakeLists.txt). Fails
# (exit 1, one line on stderr) when the server cannot be reached or the row
# read back is not the row written.
set -eu

[ $# -eq 1 ] || { echo "usage: smoke.sh DIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$("$HERE/server.sh" bindir)
url=$("$HERE/server.sh" newdb "$1" aipm_smoke)

# The value is chosen here, not read from the server: a text with a
# multibyte character (the cluster is UTF8) and a number.
export PGCONNECT_TIMEOUT=10 PGCLIENTENCODING=UTF8
out=$("$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$url" \
    -c "CREATE TABLE smoke (id integer PRIMARY KEY, note text NOT NULL)" \
    -c "INSERT INTO smoke VALUES (1, 'café'), (2, 'two')" \
    -c "SELECT note || '/' || id FROM smoke WHERE id = 1" 2>&1) || {
    echo "smoke.sh: psql failed at $url: $(echo "$out" | tr '\n' ' ')" >&2
    exit 1
}
if [ "$out" != "café/1" ]; then
    echo "smoke.sh: read back '$out', expected 'café/1' ($url)" >&2
    exit 1
fi
echo "ok - pg_smoke: wrote and read back a row at $url"
