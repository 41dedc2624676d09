#!/bin/sh
# A throwaway PostgreSQL server for the PostgreSQL backend's tests.
#
#   tests/pg/server.sh start DIR       initdb DIR/data, start the server on a
#                                      free loopback port, write its URL to
#                                      DIR/url (below)
#   tests/pg/server.sh newdb DIR NAME  (re)create database NAME on it, print
#                                      its URL
#   tests/pg/server.sh stop DIR        stop the server, remove DIR/data
#   tests/pg/server.sh bindir          print the directory of the PostgreSQL
#                                      programs used (initdb, pg_ctl, psql)
#
# DIR/url holds one line, postgresql://aipm@127.0.0.1:PORT/postgres.
# The server is for tests only: superuser aipm with trust authentication,
# listening on 127.0.0.1 and a socket in DIR, no fsync. start stops a
# server an earlier run left in DIR and always begins from an empty cluster.
# initdb and the server refuse to run as root, so as root they run as the
# postgres system user (Debian's postgresql package creates it) in a DIR
# chowned to it; any other user runs them directly. The programs are found
# in $AIPM_PG_BINDIR, else `pg_config --bindir`, else the highest
# /usr/lib/postgresql/*/bin, else next to initdb on the PATH. CTest runs
# start and stop as the fixture `pg` (CMakeLists.txt), DIR build/<preset>/pg.
# A failure prints one line on stderr (with the end of DIR/log when the
# server did not start) and exits 1; a usage error exits 2.
set -eu

PROG=server.sh

die() {
    echo "$PROG: $*" >&2
    exit 1
}

usage() {
    echo "usage: $PROG start DIR | stop DIR | newdb DIR NAME | bindir" >&2
    exit 2
}

# The directory holding initdb, pg_ctl and psql of one installation.
find_bindir() {
    if [ -n "${AIPM_PG_BINDIR:-}" ]; then
        has_programs "$AIPM_PG_BINDIR" && { echo "$AIPM_PG_BINDIR"; return; }
        die "AIPM_PG_BINDIR=$AIPM_PG_BINDIR has no initdb, pg_ctl and psql"
    fi
    # libpq-dev's pg_config reports the server's bindir even when only the
    # client is installed: trust it only if initdb is there.
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null) || d=
        if [ -n "$d" ] && has_programs "$d"; then
            echo "$d"
            return
        fi
    fi
    d=$(for f in /usr/lib/postgresql/*/bin/initdb; do
        [ -x "$f" ] && dirname "$f"
    done | sort -V | tail -n 1)
    if [ -n "$d" ] && has_programs "$d"; then
        echo "$d"
        return
    fi
    if f=$(command -v initdb 2>/dev/null); then
        d=$(dirname "$(readlink -f "$f")")
        has_programs "$d" && { echo "$d"; return; }
    fi
    die "no PostgreSQL server programs (initdb, pg_ctl): install the" \
        "postgresql package (scripts/install-deps)"
}

has_programs() {
    [ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ] && [ -x "$1/psql" ]
}

# DIR as an absolute path; with "create", made first.
absdir() {
    if [ "${2:-}" = create ]; then
        mkdir -p "$1" || die "cannot create $1"
    fi
    (cd "$1" 2>/dev/null && pwd -P) || die "$1 is not a directory"
}

# Runs a server program as the owner of the cluster: when we are root, the
# owner of DIR/data (postgres, for a cluster start made as root), else
# ourselves. It runs in DIR, so it never starts in a directory its user
# cannot read (root's home).
as_server() {
    if [ "$(id -u)" = 0 ]; then
        owner=postgres
        if [ -d "$DIR/data" ]; then
            owner=$(stat -c %U "$DIR/data")
        fi
        (cd "$DIR" && runuser -u "$owner" -- "$@")
    else
        (cd "$DIR" && "$@")
    fi
}

# Stops a server running in DIR/data, if any (an immediate stop: the
# cluster is thrown away). A stale postmaster.pid is not an error.
stop_server() {
    [ -f "$DIR/data/postmaster.pid" ] || return 0
    as_server "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w -t 30 stop \
        >/dev/null 2>&1 && return 0
    # pg_ctl status: 3 when no server runs.
    st=0
    as_server "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1 || st=$?
    [ "$st" = 3 ] || [ "$st" = 4 ] ||
        die "could not stop the server in $DIR/data (pg_ctl status $st)"
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# The last lines of a file on one line, " | " between them.
tail_line() {
    if [ -s "$1" ]; then
        tail -n "${2:-5}" "$1" |
            awk 'NR > 1 { printf " | " } { printf "%s", $0 } END { print "" }'
    else
        echo "(empty)"
    fi
}

cmd_start() {
    DIR=$(absdir "$1" create)
    case $DIR in
    *[[:space:]\'\"\\]*) die "DIR may not hold spaces or quotes: $DIR" ;;
    esac
    stop_server
    rm -rf "$DIR/data" "$DIR/url" "$DIR/log" "$DIR/initdb.log"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 ||
            die "running as root needs the postgres user" \
                "(the postgresql package)"
        chown postgres: "$DIR"
        runuser -u postgres -- test -w "$DIR" ||
            die "the postgres user cannot write $DIR (a parent directory" \
                "is not searchable): choose a DIR under /tmp"
    fi
    as_server "$BIN/initdb" -D "$DIR/data" -A trust -U aipm --no-sync \
        -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 ||
        die "initdb failed in $DIR/data: $(tail_line "$DIR/initdb.log" 3)"

    # A socket path longer than sun_path (107 bytes) stops the server:
    # without room for DIR/.s.PGSQL.PORT it listens on TCP only.
    sockdir=$DIR
    [ ${#DIR} -le 90 ] || sockdir=
    # Another process may take the free port before the server binds it:
    # then pick another.
    attempt=1
    while :; do
        port=$(free_port) || die "python3 could not find a free port"
        rm -f "$DIR/log"
        # pg_ctl hands the options to sh -c: one line.
        opts="-c listen_addresses=127.0.0.1 -p $port"
        opts="$opts -c unix_socket_directories='$sockdir' -c fsync=off"
        opts="$opts -c synchronous_commit=off -c full_page_writes=off"
        if as_server "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -t 60 \
            start -o "$opts" >/dev/null 2>&1; then
            break
        fi
        stop_server
        if [ $attempt -lt 5 ] && [ -f "$DIR/log" ] &&
            grep -q 'could not bind\|in use' "$DIR/log"; then
            attempt=$((attempt + 1))
            continue
        fi
        die "the server did not start in $DIR; $DIR/log ends:" \
            "$(tail_line "$DIR/log")"
    done
    echo "postgresql://aipm@127.0.0.1:$port/postgres" >"$DIR/url"
}

cmd_stop() {
    [ -d "$1" ] || return 0
    DIR=$(absdir "$1")
    stop_server
    rm -rf "$DIR/data" "$DIR/url"
}

cmd_newdb() {
    DIR=$(absdir "$1")
    name=$2
    case $name in
    '' | *[!A-Za-z0-9_-]*)
        die "database name must be letters, digits, _ or -: $name"
        ;;
    esac
    [ ${#name} -le 63 ] || die "database name longer than 63 bytes: $name"
    [ -s "$DIR/url" ] || die "no server in $DIR (run: $PROG start $DIR)"
    base=$(cat "$DIR/url")
    base=${base%/*}
    err=$(PGCONNECT_TIMEOUT=10 "$BIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -d "$base/postgres" \
        -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" \
        -c "CREATE DATABASE \"$name\"" 2>&1 >/dev/null) ||
        die "could not create database $name at $base:" \
            "$(echo "$err" | tr '\n\t' '  ' | tr -s ' ')"
    echo "$base/$name"
}

[ $# -ge 1 ] || usage
export LC_ALL=C
case $1 in
start | stop)
    [ $# -eq 2 ] || usage
    BIN=$(find_bindir)
    "cmd_$1" "$2"
    ;;
newdb)
    [ $# -eq 3 ] || usage
    BIN=$(find_bindir)
    cmd_newdb "$2" "$3"
    ;;
bindir)
    [ $# -eq 1 ] || usage
    find_bindir
    ;;
*) usage ;;
esac
