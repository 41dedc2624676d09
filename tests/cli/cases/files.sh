# tests/cli/cases/files.sh - files, store and workspace (issue 12): the one
# safe writer, private modes, the store's place, read-only workspaces,
# foreign stores, atomic init, the audit checkpoint, passwords in URLs and
# waiting for another writer's lock. Sourced by tests/cli/run.sh.

# A link planted AT audit-checkpoint pointing outside the workspace is
# never written through: the writer refuses (the checkpoint cannot be read
# through a link) or replaces the link; the outside file stays as it was.
# (The temporary name is <path>.tmp.<pid>, covered by test_core's unit
# test: a link cannot be planted at every pid the next command may get.)
case_files_checkpoint_symlink_not_followed() {
    local W
    mkws fsym; W=$WS
    cp "$W/audit-checkpoint" "$T/fsym-victim"
    printf 'precious\n' >>"$T/fsym-victim"
    cp "$T/fsym-victim" "$T/fsym-victim.orig"
    rm "$W/audit-checkpoint"
    ln -s "$T/fsym-victim" "$W/audit-checkpoint"
    A -C "$W" ingest events "$EX/events.ndjson"
    cmp -s "$T/fsym-victim" "$T/fsym-victim.orig" ||
        fail "the file behind the audit-checkpoint link was changed"
    if [ "$RC" -eq 0 ]; then
        [ -f "$W/audit-checkpoint" ] && [ ! -L "$W/audit-checkpoint" ] ||
            fail "ingest succeeded but audit-checkpoint is still a link"
        A -C "$W" audit verify
        expect_rc 0 "audit verify"
    else
        expect_rc 1 "ingest through a checkpoint link"
        expect_one_line_stderr "ingest through a checkpoint link"
        grep -q "symbolic link" "$ERR" || fail "the error does not say why: $(errtext)"
        [ "$(sql "$W/aipm.db" 'select count(*) from batches')" = 0 ] ||
            fail "ingest refused but stored a batch"
    fi
}

# A link planted at the checkpoint's lock file (<checkpoint>.lock) is
# refused before anything is committed, never followed.
case_files_checkpoint_lock_symlink() {
    local W
    mkws flsym; W=$WS
    printf 'precious\n' >"$T/flsym-victim"
    ln -s "$T/flsym-victim" "$W/audit-checkpoint.lock"
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 1 "ingest with a link at audit-checkpoint.lock"
    expect_one_line_stderr "ingest with a link at audit-checkpoint.lock"
    grep -q "audit-checkpoint.lock is a symbolic link; move it away" "$ERR" ||
        fail "the error does not say what to do: $(errtext)"
    [ "$(cat "$T/flsym-victim")" = precious ] || fail "the link was followed"
    [ "$(sql "$W/aipm.db" 'select count(*) from audit')" = 1 ] ||
        fail "an audit entry was committed"
    rm "$W/audit-checkpoint.lock"
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest once the link is gone"
    [ "$(stat -c %a "$W/audit-checkpoint.lock")" = 600 ] ||
        fail "audit-checkpoint.lock is not 0600"
}

# Writers running side by side: the moment between one writer's commit and
# its checkpoint write is not a lag, so no checkpoint_repair entry appears
# and the checkpoint never goes backwards (it ended at the log's size).
case_files_checkpoint_concurrent_writers() {
    local W loop i
    mkws fconc; W=$WS
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest"
    for loop in 1 2 3; do
        (
            for i in 1 2 3 4 5 6 7 8 9 10; do
                "$AIPM" -C "$W" data revert 1 --reason "loop $loop" >/dev/null 2>&1
                "$AIPM" -C "$W" data accept 1 --reason "loop $loop" >/dev/null 2>&1
            done
        ) &
    done
    wait
    [ "$(sql "$W/aipm.db" "select count(*) from audit where entry like '%checkpoint_repair%'")" = 0 ] ||
        fail "concurrent writers made checkpoint_repair entries"
    [ "$(cut -d' ' -f1 "$W/audit-checkpoint")" = "$(sql "$W/aipm.db" 'select max(seq) from audit')" ] ||
        fail "the checkpoint does not record the whole log: $(cat "$W/audit-checkpoint")"
    A -C "$W" audit verify --json
    expect_rc 0 "audit verify after concurrent writers"
    pycheck "$OUT" 'want(d["checkpoint"] == "ok", "checkpoint: %r" % d.get("checkpoint"))'
}

# The same race made certain: a writer has committed but not yet written
# its checkpoint (simulated: the older checkpoint back in place while the
# checkpoint lock is held, the up-to-date one written before release). The
# next writer waits for the lock and sees no lag: no checkpoint_repair
# (before the fix it "repaired" what was only an unfinished write).
case_files_checkpoint_write_in_progress() {
    local W holder
    mkws fprog; W=$WS
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest"
    cp "$W/audit-checkpoint" "$T/fprog-cp2"
    printf '1 %s\n' "$(sql "$W/aipm.db" "select hex(root) from audit where seq = 1" | tr A-F a-f)" \
        >"$T/fprog-cp1"
    flock "$W/audit-checkpoint.lock" sh -c \
        "cp '$T/fprog-cp1' '$W/audit-checkpoint'; touch '$T/fprog-held'; sleep 1; cp '$T/fprog-cp2' '$W/audit-checkpoint'" &
    holder=$!
    for _ in $(seq 50); do [ -e "$T/fprog-held" ] && break; sleep 0.1; done
    [ -e "$T/fprog-held" ] || fail "the lock holder did not start"
    A -C "$W" data revert 1 --reason "while a write is in progress"
    wait "$holder"
    expect_rc 0 "data revert while another checkpoint write is in progress"
    grep -q "lagged the log" "$ERR" && fail "a false repair note: $(errtext)"
    [ "$(sql "$W/aipm.db" "select count(*) from audit where entry like '%checkpoint_repair%'")" = 0 ] ||
        fail "an unfinished checkpoint write was taken for a lag"
    A -C "$W" audit verify --json
    expect_rc 0 "audit verify"
    pycheck "$OUT" 'want(d["checkpoint"] == "ok" and d["entries"] == 3, "report: %r" % d)'
}

# The store (and its -wal/-shm), the checkpoint, aipm.yaml and the graph
# snapshot are private to the owner: 0600 (README "Files and permissions").
case_files_private_modes() {
    sqlite_only "checks the aipm.db file's mode"
    local W f m
    mkws fmode; W=$WS
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest"
    # Hold a reader open so the -wal and -shm files exist to be checked.
    A -C "$W" graph stats
    expect_rc 0 "graph stats"
    for f in aipm.db aipm.yaml audit-checkpoint graph.snapshot; do
        [ -e "$W/$f" ] || fail "$f missing"
        m=$(stat -c %a "$W/$f")
        [ "$m" = 600 ] || fail "$f has mode $m, expected 600"
    done
    sqlite3 "$W/aipm.db" 'PRAGMA journal_mode' >/dev/null # may create -shm
    for f in aipm.db-wal aipm.db-shm; do
        [ -e "$W/$f" ] || continue
        m=$(stat -c %a "$W/$f")
        [ "$m" = 600 ] || fail "$f has mode $m, expected 600"
    done
}

# Without `store:` in aipm.yaml the store is the workspace's own aipm.db,
# also with -C from another folder (it resolved against the current one).
case_files_store_default_from_elsewhere() {
    sqlite_only "the default aipm.db beside aipm.yaml"
    local W
    mkws fdef; W=$WS
    sed -i '/^store:/d' "$W/aipm.yaml"
    grep -q '^store:' "$W/aipm.yaml" && fail "could not remove store:"
    mkdir -p "$T/fdef-elsewhere"
    cd "$T/fdef-elsewhere" || fail "cd"
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest with -C from another folder, no store: key"
    A -C ../fdef data versions --json
    expect_rc 0 "data versions with a relative -C"
    [ ! -e aipm.db ] || fail "an aipm.db was created in the current folder"
    [ "$(sql "$W/aipm.db" 'select count(*) from batches')" = 1 ] ||
        fail "the batch is not in the workspace's aipm.db"
}

# Read-only commands work on a read-only workspace. Permission bits do not
# stop root, so as root the commands run as nobody (setpriv) on a workspace
# nobody may read but not write; otherwise the folder and files are chmod
# a-w. Either way the store is opened read-only: nothing is created or
# changed, and a write command says the store cannot be written.
case_files_readonly_workspace() {
    sqlite_only "a read-only folder holding the SQLite file"
    local W run sum1 sum2 c
    mkws fro; W=$WS
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest"
    A -C "$W" ingest backlog "$EX/backlog.csv"
    expect_rc 0 "ingest backlog"
    rm -f "$W/aipm.db-wal" "$W/aipm.db-shm"
    [ ! -e "$W/aipm.db-wal" ] || fail "a -wal file remained after the writers"
    if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null || fail "root without setpriv: cannot test"
        chmod 711 "$T"
        chmod 755 "$W"
        chmod 644 "$W"/*
        run="setpriv --reuid=65534 --regid=65534 --clear-groups"
    else
        chmod a-w "$W" "$W"/*
        run=""
    fi
    sum1=$(cd "$W" && sha256sum aipm.db aipm.yaml audit-checkpoint)
    for c in "data versions" "data show 1" "quality" "kpi" "audit verify" \
        "audit log" "quarantine" "lineage" "experiment list" "graph stats"; do
        # shellcheck disable=SC2086
        timeout 60 $run "$AIPM" -C "$W" $c >"$OUT" 2>"$ERR" </dev/null
        RC=$?
        expect_rc 0 "aipm $c on a read-only workspace"
    done
    # shellcheck disable=SC2086
    timeout 60 $run "$AIPM" -C "$W" ingest signals "$EX/signals.csv" \
        >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    chmod u+w "$W" "$W"/* 2>/dev/null
    expect_rc 1 "ingest on a read-only workspace"
    expect_one_line_stderr "ingest on a read-only workspace"
    grep -q "write access" "$ERR" || fail "the error does not say why: $(errtext)"
    sum2=$(cd "$W" && sha256sum aipm.db aipm.yaml audit-checkpoint)
    [ "$sum1" = "$sum2" ] || fail "a read-only command changed the workspace"
    [ ! -e "$W/aipm.db-wal" ] || fail "a read-only command created aipm.db-wal"
}

# A file that is not an aipm store is refused, named, and left untouched;
# an empty aipm.db beside an audit checkpoint is an error, not a new store.
case_files_not_an_aipm_store() {
    sqlite_only "checks SQLite files of other applications"
    local W
    sqlite3 "$T/other.db" 'create table notes(x); insert into notes values(1);'
    A --store "$T/other.db" data versions
    expect_rc 1 "another application's SQLite file"
    expect_one_line_stderr "another application's SQLite file"
    grep -q "$T/other.db' is not an aipm store" "$ERR" ||
        fail "the message does not name the file: $(errtext)"
    [ "$(sqlite3 "$T/other.db" .tables)" = notes ] ||
        fail "aipm tables were added to another application's file"
    # golang-migrate (and Rails) have a schema_migrations table too.
    sqlite3 "$T/gm.db" 'CREATE TABLE schema_migrations(version uint64, dirty bool);
        INSERT INTO schema_migrations VALUES(20240101120000, 0); CREATE TABLE users(id);'
    A --store "$T/gm.db" ingest backlog "$EX/backlog.csv"
    expect_rc 1 "a golang-migrate database"
    expect_one_line_stderr "a golang-migrate database"
    grep -q "$T/gm.db' is not an aipm store" "$ERR" || fail "golang-migrate: $(errtext)"
    [ "$(sqlite3 "$T/gm.db" .tables | tr -s ' \n' ' ')" = "schema_migrations users " ] ||
        fail "aipm tables were added to a golang-migrate database: $(sqlite3 "$T/gm.db" .tables)"
    # Another application's id, even with aipm's table names: refused.
    sqlite3 "$T/app.db" 'PRAGMA application_id=42;
        CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, applied_ms INTEGER);
        CREATE TABLE audit(seq);'
    A --store "$T/app.db" data versions
    expect_rc 1 "another application_id"
    grep -q "application_id 0x0000002a" "$ERR" || fail "application_id: $(errtext)"
    # A store made before aipm set its application_id: read as is, given
    # the id by the first write.
    mkws fnoid; W=$WS
    [ "$(sqlite3 "$W/aipm.db" 'PRAGMA application_id')" = 1634300013 ] ||
        fail "a new store's application_id is not 0x6169706d"
    sqlite3 "$W/aipm.db" 'PRAGMA application_id=0'
    A -C "$W" data versions
    expect_rc 0 "data versions on a store without application_id"
    [ "$(sqlite3 "$W/aipm.db" 'PRAGMA application_id')" = 0 ] ||
        fail "a read-only command set the application_id"
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest on a store without application_id"
    [ "$(sqlite3 "$W/aipm.db" 'PRAGMA application_id')" = 1634300013 ] ||
        fail "the first write did not set the application_id"
    printf 'just text\n' >"$T/text.db"
    A --store "$T/text.db" data versions
    expect_rc 1 "a text file as the store"
    grep -q "not an aipm store" "$ERR" || fail "text file: $(errtext)"
    [ "$(cat "$T/text.db")" = "just text" ] || fail "the text file was changed"

    mkws fempty; W=$WS
    : >"$W/aipm.db"
    rm -f "$W/aipm.db-wal" "$W/aipm.db-shm"
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 1 "an empty aipm.db"
    expect_one_line_stderr "an empty aipm.db"
    grep -q "empty" "$ERR" || fail "empty store: $(errtext)"
    [ ! -s "$W/aipm.db" ] || fail "the empty aipm.db was re-initialised"
}

# init is atomic: killed after building everything but before moving it
# into place (the test hook AIPM_TEST_KILL_AT, compiled in the dev, ci and
# asan builds only), it leaves no workspace, and the next init succeeds
# (and removes the dead build folder). Killed between moving aipm.db and
# aipm.yaml into an existing folder, the next init refuses, naming the
# leftover, and a command says there is no aipm.yaml.
case_files_init_killed_leaves_nothing() {
    local rc
    { AIPM_TEST_KILL_AT=init-built "$AIPM" init "$T/fkill" >/dev/null 2>&1; } 2>/dev/null
    rc=$?
    if [ "$rc" -eq 0 ]; then
        echo "# case_files_init_killed_leaves_nothing: no test hooks in this build (AIPM_TEST_HOOKS off), skipped" >&2
        return 0
    fi
    [ "$rc" -eq 137 ] || fail "init with the kill hook exited $rc, expected 137"
    [ ! -e "$T/fkill" ] || fail "a killed init left $T/fkill"
    mkdir "$T/fkill2"
    { AIPM_TEST_KILL_AT=init-built "$AIPM" init "$T/fkill2" >/dev/null 2>&1; } 2>/dev/null
    [ ! -e "$T/fkill2/aipm.yaml" ] && [ ! -e "$T/fkill2/aipm.db" ] ||
        fail "a killed init into an existing folder left workspace files"
    A init "$T/fkill"
    expect_rc 0 "init after a killed init"
    A init "$T/fkill2"
    expect_rc 0 "init into the folder after a killed init"
    # shellcheck disable=SC2012
    [ "$(ls -A "$T/fkill2" | grep -c aipm-init)" = 0 ] ||
        fail "the dead build folder was not removed"
    ls "$T" | grep -q 'fkill.aipm-init' && fail "a dead build folder remains"
    A -C "$T/fkill2" audit log --json
    expect_rc 0 "audit log"
    pycheck "$OUT" '
e = d["entries"]
want(len(e) == 1 and e[0]["entry"]["action"] == "init", "entries: %r" % e)'
    mkdir "$T/fkill3"
    { AIPM_TEST_KILL_AT=init-moved-db "$AIPM" init "$T/fkill3" >/dev/null 2>&1; } 2>/dev/null
    rc=$?
    [ "$rc" -eq 137 ] || fail "init killed after moving aipm.db exited $rc"
    [ -e "$T/fkill3/aipm.db" ] && [ ! -e "$T/fkill3/aipm.yaml" ] ||
        fail "the kill point init-moved-db did not leave aipm.db alone"
    A init "$T/fkill3"
    expect_rc 1 "init over a killed init's aipm.db"
    expect_one_line_stderr "init over a killed init's aipm.db"
    grep -q "holds aipm.db but no aipm.yaml" "$ERR" ||
        fail "init does not name the leftover: $(errtext)"
    A -C "$T/fkill3" data versions
    expect_rc 1 "a command in a folder with aipm.db but no aipm.yaml"
    grep -q "aipm.db but no aipm.yaml" "$ERR" ||
        fail "the command does not name the leftover: $(errtext)"
}

# The sweep of dead build folders never follows a link: a planted
# <name>.aipm-init.<pid> link to another workspace leaves that workspace
# whole; only exact build-folder names that are our own real folders go.
case_files_init_sweep_no_symlink() {
    sqlite_only "checks the aipm.db files of workspaces"
    local sum1 sum2
    mkws fprecious
    sum1=$(cd "$T/fprecious" && sha256sum aipm.db aipm.yaml audit-checkpoint)
    mkdir "$T/fsw"
    ln -s "$T/fprecious" "$T/fsw/x.aipm-init.999999"
    ln -s "$T/fprecious" "$T/fsw/newws.aipm-init.999999"
    ln -s "$T/fprecious" "$T/fsw/newws.aipm-init.$$"
    A init "$T/fsw/newws"
    expect_rc 0 "init beside planted links"
    mkdir "$T/fsw2"
    ln -s "$T/fprecious" "$T/fsw2/.aipm-init.999999"
    A init "$T/fsw2"
    expect_rc 0 "init into a folder with a planted link"
    sum2=$(cd "$T/fprecious" && sha256sum aipm.db aipm.yaml audit-checkpoint) ||
        fail "the sweep removed files of another workspace"
    [ "$sum1" = "$sum2" ] || fail "the sweep changed another workspace"
    [ -L "$T/fsw/newws.aipm-init.999999" ] ||
        fail "a link was removed as if it were a build folder"
    # A real dead build folder with a near-miss name is not ours to remove.
    mkdir "$T/fsw/newws2.aipm-init.0999999" "$T/fsw/newws2.aipm-init.999999"
    : >"$T/fsw/newws2.aipm-init.999999/aipm.db"
    : >"$T/fsw/newws2.aipm-init.0999999/aipm.db"
    A init "$T/fsw/newws2"
    expect_rc 0 "init beside a dead build folder"
    [ ! -e "$T/fsw/newws2.aipm-init.999999" ] ||
        fail "the dead build folder was not removed"
    [ -e "$T/fsw/newws2.aipm-init.0999999/aipm.db" ] ||
        fail "a folder whose name is not exactly a build folder's was swept"
}

# A folder with any file of a workspace (a stale -wal would be replayed
# onto the new store) is refused by init, which names the file.
case_files_init_refuses_stale_files() {
    local f
    for f in aipm.db-wal aipm.db-shm aipm.db-writer audit-checkpoint aipm.db; do
        rm -rf "$T/fstale"
        mkdir "$T/fstale"
        printf 'stale' >"$T/fstale/$f"
        A init "$T/fstale"
        expect_rc 1 "init into a folder holding $f"
        expect_one_line_stderr "init into a folder holding $f"
        grep -q "holds $f but no aipm.yaml" "$ERR" ||
            fail "init does not name $f: $(errtext)"
        [ "$(ls -A "$T/fstale")" = "$f" ] || fail "init with a stale $f changed the folder"
    done
    mkws fstale2
    A init "$T/fstale2"
    expect_rc 1 "init over a workspace"
    grep -q "already holds an aipm workspace" "$ERR" || fail "init over a workspace: $(errtext)"
}

# Two inits racing for one folder (empty, or not yet made): exactly one
# says Created, the other fails saying the folder was taken meanwhile.
case_files_init_concurrent() {
    local i n_ok n_fail
    for i in 1 2 3 4 5 6 7 8 9 10; do
        if [ $((i % 2)) -eq 0 ]; then mkdir "$T/frace$i"; fi
        "$AIPM" init "$T/frace$i" >"$T/frace$i.a.out" 2>"$T/frace$i.a.err" &
        "$AIPM" init "$T/frace$i" >"$T/frace$i.b.out" 2>"$T/frace$i.b.err" &
    done
    wait
    for i in 1 2 3 4 5 6 7 8 9 10; do
        n_ok=$(cat "$T/frace$i.a.out" "$T/frace$i.b.out" | grep -c '^Created')
        n_fail=$(cat "$T/frace$i.a.err" "$T/frace$i.b.err" | grep -c 'meanwhile\|already holds')
        [ "$n_ok" -eq 1 ] && [ "$n_fail" -eq 1 ] ||
            fail "pair $i: $n_ok Created, $n_fail refused: $(cat "$T/frace$i".?.err)"
        A -C "$T/frace$i" audit verify
        expect_rc 0 "audit verify after race $i"
        # shellcheck disable=SC2012
        [ "$(ls -A "$T/frace$i" | grep -c aipm-init)" = 0 ] ||
            fail "race $i left a build folder"
    done
}

# A checkpoint path that is a FIFO or a folder: a message, never a hang.
case_files_checkpoint_fifo_or_folder() {
    local W
    mkws ffifo; W=$WS
    rm -f "$W/audit-checkpoint"
    mkfifo "$W/audit-checkpoint"
    A -C "$W" audit verify
    [ "$RC" -ne 124 ] || fail "audit verify hung on a FIFO checkpoint"
    expect_rc 1 "audit verify, FIFO checkpoint"
    expect_one_line_stderr "audit verify, FIFO checkpoint"
    grep -q "FIFO" "$ERR" || fail "the message does not say FIFO: $(errtext)"
    A -C "$W" ingest events "$EX/events.ndjson"
    [ "$RC" -ne 124 ] || fail "ingest hung on a FIFO checkpoint"
    expect_rc 1 "ingest, FIFO checkpoint"
    rm -f "$W/audit-checkpoint"
    mkdir "$W/audit-checkpoint"
    A -C "$W" audit verify
    expect_rc 1 "audit verify, folder checkpoint"
    grep -q "folder" "$ERR" || fail "the message does not say folder: $(errtext)"
}

# A checkpoint that lags the log (a command killed between its commit and
# the checkpoint's write) or is missing: verify warns (stderr and JSON),
# the next write command repairs it with an audit entry saying so.
case_files_checkpoint_lag() {
    local W
    mkws flag; W=$WS
    cp "$W/audit-checkpoint" "$T/flag-cp1" # 1 entry: init
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest"
    cp "$T/flag-cp1" "$W/audit-checkpoint" # as if the write never happened
    A -C "$W" audit verify --json
    expect_rc 0 "audit verify, checkpoint behind"
    grep -q "warning: the audit checkpoint .* records 1 entries but the log has 2" "$ERR" ||
        fail "no warning for a lagging checkpoint: $(errtext)"
    pycheck "$OUT" 'want(d["checkpoint"] == "behind", "checkpoint: %r" % d.get("checkpoint"))'
    A -C "$W" ingest backlog "$EX/backlog.csv"
    expect_rc 0 "ingest after the lag"
    grep -q "lagged the log; it was repaired" "$ERR" || fail "no repair note: $(errtext)"
    A -C "$W" audit log --json
    pycheck "$OUT" '
acts = [e["entry"]["action"] for e in d["entries"]]
want(acts[2] == "checkpoint_repair", "actions: %r" % acts)
det = d["entries"][2]["entry"]["detail"]
want(det == {"checkpoint": "behind", "checkpoint_entries": 1, "log_entries": 2}, "detail %r" % det)'
    A -C "$W" audit verify --json
    expect_rc 0 "audit verify after the repair"
    pycheck "$OUT" 'want(d["checkpoint"] == "ok", "checkpoint: %r" % d.get("checkpoint"))'
    [ ! -s "$ERR" ] || fail "a warning after the repair: $(errtext)"
    rm "$W/audit-checkpoint"
    A -C "$W" audit verify --json
    expect_rc 0 "audit verify, checkpoint missing"
    grep -q "warning: the audit checkpoint .* is missing" "$ERR" ||
        fail "no warning for a missing checkpoint: $(errtext)"
    pycheck "$OUT" 'want(d["checkpoint"] == "missing", "checkpoint: %r" % d.get("checkpoint"))'
}

# A password in a store URL is never echoed.
case_files_store_password_hidden() {
    A --store 'postgresql://u:s3cr3tpw@db.example/aipm' data versions
    expect_rc 1 "a PostgreSQL URL"
    grep -q s3cr3tpw "$ERR" && fail "the password was printed: $(errtext)"
    grep -q 'postgresql://u:\*\*\*@db.example/aipm' "$ERR" ||
        fail "the URL is not shown redacted: $(errtext)"
    A --store 'postgresql://db.example/aipm?user=u&password=s3cr3tpw' data versions
    expect_rc 1 "a PostgreSQL URL with password="
    grep -q s3cr3tpw "$ERR" && fail "the password was printed: $(errtext)"
    # Every password= (not only the first), userinfo passwords holding '?'
    # or '#', other schemes and any case of the scheme, and a libpq
    # key=value string, whichever backend's message shows them.
    local u
    for u in 'postgresql://h/db?sslpassword=x&password=s3cr3tpw' \
        'postgresql://u:s3c?r3tpw@h/db' 'postgresql://u:s3c#r3tpw@h/db' \
        'mysql://u:s3cr3tpw@h/db' 'Postgresql://u:s3cr3tpw@h/db' \
        'sqlite://u:s3cr3tpw@h/db' 'host=h password=s3cr3tpw'; do
        A --store "$u" data versions
        expect_rc 1 "--store $u"
        expect_one_line_stderr "--store $u"
        grep -q 'r3tpw' "$ERR" && fail "the password was printed for $u: $(errtext)"
        grep -qF '***' "$ERR" || fail "no *** for $u: $(errtext)"
    done
    true
}

# Another process holds the write lock: --wait bounds the wait (a clear
# message, exit 1); without it the writer waits, says so, and succeeds
# when the holder ends.
case_files_lock_wait() {
    sqlite_only "holds SQLite's file lock with the sqlite3 shell"
    local W holder pid rc
    mkws flock; W=$WS
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest"
    { echo 'BEGIN IMMEDIATE;'; echo 'SELECT 1;'; sleep 6; echo 'COMMIT;'; } |
        sqlite3 "$W/aipm.db" >/dev/null 2>&1 &
    holder=$!
    sleep 1
    A --wait 2 -C "$W" ingest backlog "$EX/backlog.csv"
    expect_rc 1 "ingest --wait 2 while locked"
    grep -q "is locked by another process writing to it; gave up after waiting 2 s" "$ERR" ||
        fail "no clear message after --wait: $(errtext)"
    timeout 60 "$AIPM" -C "$W" ingest backlog "$EX/backlog.csv" >"$OUT" 2>"$ERR" </dev/null &
    pid=$!
    wait "$pid"
    rc=$?
    wait "$holder"
    [ "$rc" -eq 0 ] || fail "ingest without --wait exited $rc: $(errtext)"
    grep -q "waiting for another process writing to" "$ERR" ||
        fail "no waiting message: $(errtext)"
    [ "$(sql "$W/aipm.db" "select count(*) from batches where dataset='backlog' and status='accepted'")" = 1 ] ||
        fail "the backlog batch was not accepted after the wait"
}

# A writer waiting for another aipm names it: the command line and its pid
# (from the holder's note, <store>-writer, gone when the holder commits).
case_files_lock_wait_names_holder() {
    sqlite_only "reads the SQLite store's writer note"
    local W holder rc
    mkws flockn; W=$WS
    # The holder: an ingest from a pipe that stalls for 4 s mid-file, inside
    # its transaction.
    { head -3 "$EX/feedback.csv"; sleep 4; tail -n +4 "$EX/feedback.csv"; } |
        timeout 60 "$AIPM" -C "$W" ingest feedback - --format csv >/dev/null 2>&1 &
    holder=$!
    sleep 1
    [ -f "$W/aipm.db-writer" ] || fail "no writer note while the ingest runs"
    A -C "$W" ingest backlog "$EX/backlog.csv"
    rc=$RC
    wait "$holder" || fail "the holding ingest failed"
    [ "$rc" -eq 0 ] || fail "the waiting ingest exited $rc: $(errtext)"
    grep -q "waiting for aipm ingest feedback - --format csv, batch 1 (pid [0-9]*) writing to $W/aipm.db" "$ERR" ||
        fail "the wait does not name the holder: $(errtext)"
    [ ! -e "$W/aipm.db-writer" ] || fail "the writer note outlived its transaction"
    [ "$(sql "$W/aipm.db" "select count(*) from batches where status='accepted'")" = 2 ] ||
        fail "both batches should be accepted"
    # A note left by a process that is gone names nobody.
    echo "999999999 aipm ingest events gone.ndjson" >"$W/aipm.db-writer"
    { echo 'BEGIN IMMEDIATE;'; echo 'SELECT 1;'; sleep 3; echo 'COMMIT;'; } |
        sqlite3 "$W/aipm.db" >/dev/null 2>&1 &
    holder=$!
    sleep 1
    A --wait 1.5 -C "$W" ingest signals "$EX/signals.csv"
    wait "$holder"
    expect_rc 1 "ingest --wait 1.5 under the shell's lock"
    ! grep -q "gone.ndjson" "$ERR" || fail "a dead holder's note was believed: $(errtext)"
    grep -q "waiting for another process writing to" "$ERR" ||
        fail "no waiting message under the shell's lock: $(errtext)"
}
