# tests/cli/cases/batches.sh - dataset batches against the audit log
# (issue 14): each ingest entry holds the digest of the rows it stored;
# `audit verify --data` recomputes it and replays the batch's status, so a
# row edited, added or deleted in the store, or a status changed by SQL,
# is named. The digests are recomputed here from the SQLite file with
# Python's hashlib, by the encoding docs/storage.md gives.

# rows_digests DB: each batch's digest, "batch:N=HEX" per line, from SQL.
rows_digests() {
    "$PY" - "$1" <<'PYEOF'
import hashlib, sqlite3, struct, sys
con = sqlite3.connect(sys.argv[1])
tables = {"events": "rowid", "backlog": "rid", "feedback": "rid", "signals": "rid", "graph": "rid"}
for bid, ds in con.execute("select id, dataset from batches order by id"):
    cur = con.execute("select * from %s where batch_id = ? order by %s" % (ds, tables[ds]), (bid,))
    cols = [c[0] for c in cur.description]
    h = hashlib.sha256()
    for row in cur:
        for name, v in zip(cols, row):
            if name in ("rid", "batch_id", "live"):
                continue
            if v is None:
                h.update(b"n")
            elif isinstance(v, int):
                h.update(b"i" + struct.pack(">q", v))
            elif isinstance(v, float):
                h.update(b"r" + struct.pack(">d", v))
            else:
                b = v.encode() if isinstance(v, str) else bytes(v)
                h.update((b"t" if isinstance(v, str) else b"b") + struct.pack(">Q", len(b)) + b)
    print("batch:%d=%s" % (bid, h.hexdigest()))
PYEOF
}

case_batches_rows_digest() {
    sqlite_only "recomputes the digests from the SQLite file (cases/backends.sh: PostgreSQL's digests equal SQLite's)"
    local W V
    mkws bd; W=$WS
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "ingest events"
    A -C "$W" ingest backlog "$EX/backlog.csv"
    expect_rc 0 "ingest backlog"
    A -C "$W" ingest feedback "$EX/feedback.csv"
    expect_rc 0 "ingest feedback"
    # Each ingest entry's rows_sha256 is the digest of the rows as stored.
    rows_digests "$W/aipm.db" >"$T/digests.txt"
    A -C "$W" --json audit log
    pycheck "$OUT" '
want_d = dict(l.split("=") for l in open(args[0]).read().split())
got = {e["entry"]["object"]: e["entry"]["detail"]["rows_sha256"] for e in d["entries"] if e["entry"]["action"] == "ingest"}
want(got == want_d and len(got) == 3, "log %r, recomputed %r" % (got, want_d))' "$T/digests.txt"
    A -C "$W" --json audit verify --data
    expect_rc 0 "verify --data of an untouched store"
    pycheck "$OUT" '
x = d["data"]
want(x["intact"] and x["batches"] == 3 and x["rows"] == int(args[0]) and x["batches_not_hashed"] == 0, "data %r" % x)' \
        "$(sql "$W/aipm.db" "select (select count(*) from events) + (select count(*) from backlog) + (select count(*) from feedback)")"
    # A revert changes the status (logged) and the rows' live flag (not
    # hashed): still intact.
    A -C "$W" data revert 3 --reason "re-sent"
    expect_rc 0 "data revert"
    A -C "$W" audit verify --data
    expect_rc 0 "verify --data after a revert"

    # Event rows edited, as the issue measured (their timestamps moved).
    V=$T/bd-ev; ws_copy "$W" "$V"
    sql "$V/aipm.db" "update events set ts = ts + 86400000 where $RID in (select $RID from events where batch_id = 1 limit 50)" >/dev/null
    A -C "$V" audit verify --data
    expect_rc 3 "verify --data after event rows were edited"
    grep -q "batch:1: its 300 stored rows do not hash" "$ERR" || fail "stderr: $(errtext)"
    # A backlog row deleted, and one added to a batch.
    V=$T/bd-del; ws_copy "$W" "$V"
    sql "$V/aipm.db" "delete from backlog where rid = (select min(rid) from backlog)" >/dev/null
    sql "$V/aipm.db" "insert into feedback(batch_id, key, row_sha, live) select batch_id, key || 'x', row_sha, live from feedback limit 1" >/dev/null
    A -C "$V" --json audit verify --data
    expect_rc 3 "verify --data after a row was deleted and one added"
    pycheck "$OUT" '
p = sorted((x["batch"], "do not hash" in x["problem"]) for x in d["data"]["problems"])
want(p == [("2", True), ("3", True)], "problems %r" % d["data"]["problems"])'
    # A status changed by SQL: a reverted batch made visible again.
    V=$T/bd-st; ws_copy "$W" "$V"
    sql "$V/aipm.db" "update batches set status = 'accepted' where id = 3" >/dev/null
    A -C "$V" audit verify --data
    expect_rc 3 "verify --data after a status edit"
    grep -q "batch:3: status accepted in the store, reverted by the log" "$ERR" || fail "stderr: $(errtext)"
    # Plain verify does not read the data.
    A -C "$V" audit verify
    expect_rc 0 "plain verify does not check batches"
}
