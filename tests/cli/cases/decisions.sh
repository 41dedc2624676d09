# tests/cli/cases/decisions.sh - decision records: listed, shown, each with
# its full output and an audit entry; an edited output is caught (issue 14).

# A small demo: four experiments analysed and the backlog ranked, each a
# decision record. Counts and digests are recounted from the store with
# the sqlite3 shell and Python's hashlib, never taken from aipm.
case_decisions_list_show() {
    local W=$T/dec id
    timeout 120 "$AIPM" demo "$W" --seed 1 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    A -C "$W" --json decisions list
    expect_rc 0 "decisions list --json"
    cp "$OUT" "$T/dec-list.json"
    pycheck "$OUT" '
want([x["kind"] for x in d["decisions"]] == ["experiment"] * 4 + ["prioritize"], "kinds %r" % [x["kind"] for x in d["decisions"]])
want(len({x["id"] for x in d["decisions"]}) == 5, "ids not distinct")
want(all(x["status"] == "proposed" for x in d["decisions"]), "statuses")
want([x["time"] for x in d["decisions"]] == sorted(x["time"] for x in d["decisions"]), "not oldest first")'
    [ "$(sql "$W/aipm.db" "select count(*) from decisions")" = 5 ] || fail "the store holds $(sql "$W/aipm.db" "select count(*) from decisions") records"
    # Every record has its audit entry, naming it and its output digest.
    A -C "$W" --json audit log
    expect_rc 0 "audit log --json"
    pycheck "$OUT" '
import json, sqlite3
rows = sqlite3.connect(args[0]).execute("select id, kind, subject, decision, output_sha256 from decisions").fetchall()
ent = {e["entry"]["object"]: e["entry"] for e in d["entries"] if e["entry"]["action"] == "decision"}
want(len(ent) == len(rows) == 5, "%d decision entries for %d records" % (len(ent), len(rows)))
for i, kind, subject, decision, sha in rows:
    e = ent.get(i)
    want(e is not None and e["detail"] == {"kind": kind, "subject": subject, "decision": decision, "output_sha256": sha}, "entry of %s: %r" % (i, e))' "$W/aipm.db"
    # The stored output hashes to the recorded digest (hashlib, not aipm).
    pycheck - '
import hashlib, sqlite3
for i, out, sha in sqlite3.connect(args[0]).execute("select id, output, output_sha256 from decisions"):
    want(out is not None and hashlib.sha256(out.encode()).hexdigest() == sha, "%s: output does not hash to %s" % (i, sha))' "$W/aipm.db"
    id=$(sql "$W/aipm.db" "select id from decisions where kind = 'prioritize'")
    A -C "$W" --json decisions show "${id:0:8}"
    expect_rc 0 "decisions show PREFIX"
    pycheck "$OUT" '
want(d["id"] == args[0] and d["kind"] == "prioritize" and d["output_check"] == "ok", "show %r" % {k: d[k] for k in ("id", "kind", "output_check")})
want(d["output"]["model"]["kind"] == "bayesian_linear" and len(d["output"]["items"]) >= 1, "output %r" % list(d["output"]))
want(sorted(d["inputs"]) == ["backlog_batches", "events_batches", "feedback_batches", "signals_batches"], "inputs %r" % d["inputs"])
want(d["params"]["seed"] == 1 and d["params"]["draws"] > 0, "params %r" % d["params"])' "$id"
    A -C "$W" decisions show "$id"
    expect_rc 0 "decisions show ID"
    grep -q "matches the stored output" "$OUT" || fail "human show: $(head -c 300 "$OUT")"
    A -C "$W" --json decisions list --kind prioritize
    pycheck "$OUT" 'want([x["id"] for x in d["decisions"]] == [args[0]], "--kind %r" % d)' "$id"
    A -C "$W" decisions list --status approved
    expect_rc 0 "list --status approved"
    grep -q "no decision records match" "$OUT" || fail "empty list: $(cat "$OUT")"
    A -C "$W" decisions list --kindd prioritize
    expect_rc 1 "a misspelled option"
    grep -q -- "--kind" "$ERR" || fail "no did-you-mean: $(errtext)"
    A -C "$W" decisions show 00000000
    expect_rc 1 "an unknown id"
    A -C "$W" decisions show ""
    expect_rc 1 "an empty id"
    grep -q "several" "$ERR" || fail "an empty prefix matches all: $(errtext)"
    # An output edited in the store no longer hashes to its digest.
    sqlite3 "$W/aipm.db" "UPDATE decisions SET output = replace(output, '\"BL-', '\"XX-') WHERE id = '$id'" ||
        fail "editing the store"
    A -C "$W" --json decisions show "$id"
    expect_rc 3 "decisions show after the edit"
    pycheck "$OUT" 'want(d["output_check"] == "differs", "output_check %r" % d["output_check"])'
    grep -q "does not hash to its recorded digest" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" audit verify
    expect_rc 0 "plain verify: the log itself is intact"
    A -C "$W" --json audit verify --data
    expect_rc 3 "verify --data after the edit"
    pycheck "$OUT" '
want(d["intact"] and not d["data"]["intact"] and d["data"]["decisions"] == 5, "report %r" % d)
want([(p["decision"], "edited" in p["problem"]) for p in d["data"]["problems"]] == [(args[0], True)], "problems %r" % d["data"]["problems"])' "$id"
    # The output and its digest column edited together: the audit entry
    # still holds the old digest.
    "$PY" - "$W/aipm.db" "$id" <<'PYEOF' || fail "editing output and digest"
import hashlib, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
out, = con.execute("select output from decisions where id = ?", (sys.argv[2],)).fetchone()
con.execute("update decisions set output_sha256 = ? where id = ?", (hashlib.sha256(out.encode()).hexdigest(), sys.argv[2]))
con.execute("insert into decisions(id, time_ms, kind, subject, decision, inputs, params, output_sha256, output)"
            " values('forged', 1, 'prioritize', 'backlog', 'BL-1', '{}', '{}', ?, '{}')", (hashlib.sha256(b"{}").hexdigest(),))
con.commit()
PYEOF
    A -C "$W" decisions show "$id"
    expect_rc 0 "show: the output matches the edited digest"
    A -C "$W" audit verify --data
    expect_rc 3 "verify --data after editing output and digest"
    grep -q "decision $id: its digest differs from the one its audit entry holds" "$ERR" || fail "stderr: $(errtext)"
    grep -q "decision forged: no audit entry records it" "$ERR" || fail "stderr: $(errtext)"
    grep -q "2 of 6 decision records differ" "$ERR" || fail "stderr: $(errtext)"
}

# A store from before migration 5 (no stored output, no status) is
# migrated by the next write; its old records show "not stored".
case_decisions_old_store() {
    local W=$T/decold id
    timeout 120 "$AIPM" demo "$W" --seed 2 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    sqlite3 "$W/aipm.db" "ALTER TABLE decisions DROP COLUMN output; ALTER TABLE decisions DROP COLUMN status;
        DROP TABLE audit_frontier; DROP TABLE people; DROP TABLE approvals; DELETE FROM schema_migrations WHERE version >= 5;" || fail "making a migration-4 store"
    id=$(sql "$W/aipm.db" "select id from decisions where kind = 'prioritize'")
    A -C "$W" prioritize --no-record
    expect_rc 0 "a command that opens the store for writing"
    [ "$(sql "$W/aipm.db" "select group_concat(version) from schema_migrations")" = 1,2,3,4,5,6,7 ] || fail "migrations 5 to 7 not applied"
    A -C "$W" --json decisions show "$id"
    expect_rc 0 "show an old record"
    pycheck "$OUT" 'want(d["output_check"] == "not stored" and d["output"] is None and d["status"] == "proposed", "old record %r" % d)'
    A -C "$W" --json audit verify --data
    expect_rc 0 "verify --data on old records"
    pycheck "$OUT" 'want({k: d["data"][k] for k in ("intact", "decisions", "not_stored", "problems", "batches_not_hashed")} == {"intact": True, "decisions": 5, "not_stored": 5, "problems": [], "batches_not_hashed": 0}, "data %r" % d["data"])'
}
