#!/bin/sh
# A throwaway ClickHouse cluster for the ClickHouse events backend's tests.
#
#   tests/ch/server.sh start DIR [SHARDS]  start SHARDS (default 2)
#                                          clickhouse-server processes, one
#                                          per DIR/shardN, and write DIR/urls
#                                          and DIR/cluster (below)
#   tests/ch/server.sh newdb DIR NAME      (re)create database NAME on every
#                                          shard, print the first shard's URL
#   tests/ch/server.sh stop DIR            stop every shard, remove their data
#
# DIR/urls holds one line per shard, in shard order, http://127.0.0.1:PORT
# (its HTTP interface); DIR/cluster holds the cluster's name, aipm. Every
# shard's config declares the cluster aipm (remote_servers) listing all the
# shards, one replica each on its native TCP port, so a Distributed table
# made on any shard reads from and writes to all of them. newdb prints
# clickhouse://127.0.0.1:PORT/NAME, PORT the first shard's HTTP port.
#
# Each shard is an independent server with its own config.xml and users.xml
# (written here; /etc/clickhouse-server is not read), data/, tmp/ and log/
# under DIR/shardN, listening on 127.0.0.1 only on three free ports (HTTP,
# native TCP, interserver HTTP; they are in DIR/shardN/config.xml). The
# servers are for tests only: user default without a password, reachable
# from loopback only; small caches and per-query and per-server memory
# limits and few threads, for a 2-core machine shared with other tests
# (ClickHouse 18.16, Debian 12's, has no max_server_memory_usage: the
# closest is the profile's max_memory_usage_for_all_queries). start stops
# the servers an earlier run left in DIR and always begins from empty data.
# As root the servers run as the clickhouse system user (Debian's
# clickhouse-server package creates it) in a DIR chowned to it; any other
# user runs them directly. A server is found again by its command line
# (--config-file=DIR/shardN/config.xml), so stop also ends the servers of a
# start that was killed half-way. CTest runs start and stop as the fixture
# `ch` (CMakeLists.txt), DIR build/<preset>/ch. A failure prints one line on
# stderr (with the end of the failing shard's log when it did not start)
# and exits 1; a usage error exits 2.
set -eu

PROG=server.sh
SERVER=${AIPM_CH_SERVER:-/usr/sbin/clickhouse-server}
CLUSTER=aipm
MAX_SHARDS=8
# Memory limits in bytes, a query's and all of a server's queries': small
# for tests; bench/scale raises them to ClickHouse's own default (10 GB a
# query) through these variables.
QUERY_MEMORY=${AIPM_CH_QUERY_MEMORY:-1000000000}
SERVER_MEMORY=${AIPM_CH_SERVER_MEMORY:-2000000000}

die() {
    echo "$PROG: $*" >&2
    exit 1
}

usage() {
    echo "usage: $PROG start DIR [SHARDS] | stop DIR | newdb DIR NAME" >&2
    exit 2
}

# DIR as an absolute path; with "create", made first.
absdir() {
    if [ "${2:-}" = create ]; then
        mkdir -p "$1" || die "cannot create $1"
    fi
    (cd "$1" 2>/dev/null && pwd -P) || die "$1 is not a directory"
}

# The pids of the servers running with a config under DIR/shard*/ (a
# zombie's command line is empty: it is not running). Only processes named
# clickhouse-serv (the kernel's 15 characters) have theirs read.
server_pids() {
    for d in /proc/[0-9]*; do
        comm=
        { read -r comm <"$d/comm"; } 2>/dev/null || continue
        [ "$comm" = clickhouse-serv ] || continue
        cmd=$({ tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null) || continue
        case $cmd in
        *" --config-file=$DIR/shard"*"/config.xml "*) echo "${d#/proc/}" ;;
        esac
    done
}

# Whether process $1 runs (a zombie, which its new parent has not reaped
# yet, does not).
alive() {
    state=$({ sed 's/.*) \(.\).*/\1/' "/proc/$1/stat"; } 2>/dev/null) ||
        return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Stops every server of DIR: SIGTERM, then SIGKILL after 10 seconds (a
# server stops in about 1.5 s here; the data is thrown away anyway).
stop_servers() {
    pids=$(server_pids)
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || :
    waited=0
    while [ -n "$(server_pids)" ]; do
        if [ $waited -eq 100 ]; then
            # shellcheck disable=SC2046
            kill -KILL $(server_pids) 2>/dev/null || :
        elif [ $waited -ge 150 ]; then
            die "could not stop the servers in $DIR (pids $(server_pids |
                tr '\n' ' '))"
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

# COUNT distinct free loopback ports, one a line: held open together while
# they are chosen, so none repeats.
free_ports() {
    python3 -c 'import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])' "$1"
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

# The log that says why shard $1 failed: its error log (errors only), else
# its full log, else what it printed before it opened them.
failure_log() {
    for f in "$DIR/shard$1/log/server.err.log" "$DIR/shard$1/log/server.log" \
        "$DIR/shard$1/log/stdout.log"; do
        if [ -s "$f" ]; then
            echo "$f"
            return
        fi
    done
    echo "$DIR/shard$1/log/stdout.log"
}

# The <remote_servers> section every shard shares: cluster aipm, one
# replica per shard on its native TCP port.
write_cluster() {
    echo "    <remote_servers>"
    echo "        <$CLUSTER>"
    for tcp in $TCP_PORTS; do
        echo "            <shard>"
        echo "                <replica>"
        echo "                    <host>127.0.0.1</host>"
        echo "                    <port>$tcp</port>"
        echo "                </replica>"
        echo "            </shard>"
    done
    echo "        </$CLUSTER>"
    echo "    </remote_servers>"
}

# Writes DIR/shard$1/config.xml and users.xml for HTTP port $2, native TCP
# port $3 and interserver port $4. Based on the example config.xml of
# Debian's clickhouse-server 18.16 (its <yandex> root and key names), with
# everything a test server does not need left out: no query or part log
# tables, no ZooKeeper, no TLS, no dictionaries.
write_config() {
    s=$DIR/shard$1
    cat >"$s/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Written by tests/ch/server.sh: shard $1 of $SHARDS, a test server. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$s/log/server.log</log>
        <errorlog>$s/log/server.err.log</errorlog>
        <size>20M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$2</http_port>
    <tcp_port>$3</tcp_port>
    <interserver_http_port>$4</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <max_connections>256</max_connections>
    <max_concurrent_queries>32</max_concurrent_queries>
    <keep_alive_timeout>3</keep_alive_timeout>
    <!-- The example's 5 GiB mark cache and 8 GiB uncompressed cache are
         for a dedicated machine; a test's tables fit in far less. -->
    <mark_cache_size>67108864</mark_cache_size>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <path>$s/data/</path>
    <tmp_path>$s/tmp/</tmp_path>
    <user_files_path>$s/data/user_files/</user_files_path>
    <format_schema_path>$s/data/format_schemas/</format_schema_path>
    <users_config>$s/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <!-- Tests drop whatever they made, whatever its size. -->
    <max_table_size_to_drop>0</max_table_size_to_drop>
    <max_partition_size_to_drop>0</max_partition_size_to_drop>
$(write_cluster)
</yandex>
EOF
    cat >"$s/users.xml" <<EOF
<?xml version="1.0"?>
<!-- Written by tests/ch/server.sh: one user, default, no password,
     loopback only. -->
<yandex>
    <profiles>
        <default>
            <!-- $QUERY_MEMORY bytes a query, $SERVER_MEMORY for all of a
                 server's queries (AIPM_CH_QUERY_MEMORY, _SERVER_MEMORY;
                 1 GB and 2 GB unless set); two threads a query and small background pools (defaults:
                 the cores, 16 and 16). -->
            <max_memory_usage>$QUERY_MEMORY</max_memory_usage>
            <max_memory_usage_for_all_queries>$SERVER_MEMORY</max_memory_usage_for_all_queries>
            <max_threads>2</max_threads>
            <background_pool_size>4</background_pool_size>
            <background_schedule_pool_size>4</background_schedule_pool_size>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>in_order</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

# Starts shard $1 in the background (its own session, so it outlives the
# caller's process group) and prints its pid.
spawn() {
    s=$DIR/shard$1
    if [ "$(id -u)" = 0 ]; then
        (cd "$s" && exec setsid setpriv --reuid=clickhouse \
            --regid=clickhouse --init-groups -- "$SERVER" \
            --config-file="$s/config.xml" \
            </dev/null >"$s/log/stdout.log" 2>&1) &
    else
        (cd "$s" && exec setsid "$SERVER" --config-file="$s/config.xml" \
            </dev/null >"$s/log/stdout.log" 2>&1) &
    fi
    echo $!
}

# Whether the server at HTTP port $1 answers SELECT 1.
answers() {
    [ "$(curl -s --max-time 2 "http://127.0.0.1:$1/?query=SELECT%201" \
        2>/dev/null)" = 1 ]
}

# One attempt at starting every shard on fresh ports. Returns 0 when all
# answer; 3 when one lost its port to another process (try again); else
# dies naming the shard.
start_once() {
    ports=$(free_ports $((SHARDS * 3))) ||
        die "python3 could not find free ports"
    TCP_PORTS=$(echo "$ports" | awk -v n="$SHARDS" 'NR > n && NR <= 2 * n')
    rm -rf "$DIR"/shard* "$DIR/urls" "$DIR/cluster"
    i=1
    while [ $i -le "$SHARDS" ]; do
        mkdir -p "$DIR/shard$i/data" "$DIR/shard$i/tmp" "$DIR/shard$i/log" ||
            die "cannot create $DIR/shard$i"
        http=$(echo "$ports" | sed -n "${i}p")
        tcp=$(echo "$ports" | sed -n "$((SHARDS + i))p")
        inter=$(echo "$ports" | sed -n "$((2 * SHARDS + i))p")
        write_config $i "$http" "$tcp" "$inter" ||
            die "cannot write $DIR/shard$i/config.xml"
        i=$((i + 1))
    done
    [ "$(id -u)" != 0 ] || chown -R clickhouse: "$DIR" ||
        die "cannot chown $DIR to clickhouse"
    pids=
    i=1
    while [ $i -le "$SHARDS" ]; do
        pids="$pids $(spawn $i)"
        i=$((i + 1))
    done
    # Wait for each in turn (they start together): at most 120 s in all.
    deadline=$(($(date +%s) + 120))
    i=1
    for pid in $pids; do
        http=$(echo "$ports" | sed -n "${i}p")
        until answers "$http"; do
            if ! alive "$pid"; then
                log=$(failure_log $i)
                if grep -q 'Address already in use' "$log" 2>/dev/null; then
                    stop_servers
                    return 3
                fi
                stop_servers
                die "shard $i of $SHARDS exited while starting; $log ends:" \
                    "$(tail_line "$log")"
            fi
            if [ "$(date +%s)" -ge $deadline ]; then
                stop_servers
                log=$(failure_log $i)
                die "shard $i of $SHARDS did not answer SELECT 1 on" \
                    "port $http within 120 s; $log ends:" \
                    "$(tail_line "$log")"
            fi
            sleep 0.2
        done
        echo "http://127.0.0.1:$http" >>"$DIR/urls.new"
        echo "$pid" >"$DIR/shard$i/pid"
        i=$((i + 1))
    done
    echo "$CLUSTER" >"$DIR/cluster"
    mv "$DIR/urls.new" "$DIR/urls"
}

cmd_start() {
    case $QUERY_MEMORY$SERVER_MEMORY in
    *[!0-9]*) die "AIPM_CH_QUERY_MEMORY and AIPM_CH_SERVER_MEMORY are bytes" ;;
    esac
    DIR=$(absdir "$1" create)
    SHARDS=$2
    case $SHARDS in
    '' | *[!0-9]*) die "SHARDS must be a number from 1 to $MAX_SHARDS" ;;
    esac
    if [ "$SHARDS" -lt 1 ] || [ "$SHARDS" -gt $MAX_SHARDS ]; then
        die "SHARDS must be a number from 1 to $MAX_SHARDS"
    fi
    case $DIR in
    *[[:space:]\'\"\\\<\>\&]*)
        die "DIR may not hold spaces, quotes or <>&: $DIR"
        ;;
    esac
    [ -x "$SERVER" ] ||
        die "no $SERVER: install the clickhouse-server package" \
            "(scripts/install-deps)"
    command -v curl >/dev/null 2>&1 ||
        die "no curl: install the curl package (scripts/install-deps)"
    stop_servers
    rm -f "$DIR/urls.new"
    if [ "$(id -u)" = 0 ]; then
        id clickhouse >/dev/null 2>&1 ||
            die "running as root needs the clickhouse user" \
                "(the clickhouse-server package)"
        chown clickhouse: "$DIR"
        setpriv --reuid=clickhouse --regid=clickhouse --init-groups -- \
            test -w "$DIR" ||
            die "the clickhouse user cannot write $DIR (a parent directory" \
                "is not searchable): choose a DIR under /tmp"
    fi
    # Another process may take a free port before a server binds it: then
    # start them all again on other ports.
    attempt=1
    while :; do
        st=0
        start_once || st=$?
        [ $st = 0 ] && return 0
        [ $attempt -lt 5 ] || die "every shard's ports were taken 5 times"
        attempt=$((attempt + 1))
    done
}

cmd_stop() {
    [ -d "$1" ] || return 0
    DIR=$(absdir "$1")
    stop_servers
    rm -rf "$DIR"/shard*/data "$DIR"/shard*/tmp "$DIR"/shard*/pid \
        "$DIR/urls" "$DIR/urls.new" "$DIR/cluster"
}

# Runs SQL $2 at URL $1; fails with the server's message (one line).
query() {
    out=$(curl -sS --max-time 60 -w '\n%{http_code}' --data-binary "$2" \
        "$1/" 2>&1) || die "no answer from $1 to '$2':" \
        "$(echo "$out" | tr '\n' ' ')"
    code=$(echo "$out" | tail -n 1)
    [ "$code" = 200 ] || die "$1 refused '$2' (HTTP $code):" \
        "$(echo "$out" | sed '$d' | tr '\n' ' ' | cut -c 1-300)"
}

cmd_newdb() {
    DIR=$(absdir "$1")
    name=$2
    # ClickHouse takes other names only quoted: keep them plain.
    case $name in
    '' | [0-9]* | *[!A-Za-z0-9_]*)
        die "database name must be letters, digits or _, not starting" \
            "with a digit: $name"
        ;;
    esac
    [ ${#name} -le 63 ] || die "database name longer than 63 bytes: $name"
    [ -s "$DIR/urls" ] || die "no servers in $DIR (run: $PROG start $DIR)"
    while read -r url; do
        query "$url" "DROP DATABASE IF EXISTS $name"
        query "$url" "CREATE DATABASE $name"
    done <"$DIR/urls"
    first=$(head -n 1 "$DIR/urls")
    echo "clickhouse://${first#http://}/$name"
}

[ $# -ge 1 ] || usage
export LC_ALL=C
case $1 in
start)
    [ $# -eq 2 ] || [ $# -eq 3 ] || usage
    cmd_start "$2" "${3:-2}"
    ;;
stop)
    [ $# -eq 2 ] || usage
    cmd_stop "$2"
    ;;
newdb)
    [ $# -eq 3 ] || usage
    cmd_newdb "$2" "$3"
    ;;
*) usage ;;
esac
