# tests/cli/cases/decisions.sh - decision records: listed, shown, each with
# its full output and an audit entry; an edited output is caught (issue 14).

# A small demo: four experiments analysed and the backlog ranked, each a
# decision record. Counts and digests are recounted from the store with
# the sqlite3 shell and Python's hashlib, never taken from aipm.
case_decisions_list_show() {
    sqlite_only "reads the SQLite file with Python"
    local W=$T/dec id
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 1 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
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
    want(e is not None and {k: e["detail"][k] for k in ("kind", "subject", "decision", "output_sha256")} == {"kind": kind, "subject": subject, "decision": decision, "output_sha256": sha}, "entry of %s: %r" % (i, e))' "$W/aipm.db"
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

# The SQL that takes a store back from migration 12 to 7 (for the tests
# of old stores).
undo_migration_8() {
    local c
    for c in model rationale confidence code_version policy_sha256; do
        printf 'ALTER TABLE decisions DROP COLUMN %s; ' "$c"
    done
    printf 'ALTER TABLE batches DROP COLUMN rows_sha256; DROP TABLE decision_inputs; DROP TABLE policy_versions; DROP TABLE store_settings; DROP TABLE model_versions; DROP TABLE model_aliases; DROP TABLE model_alias_moves; DROP TABLE monitor_runs; DROP TABLE api_tokens;'
}

# A store from before migration 5 (no stored output, no status) is
# migrated by the next write; its old records show "not stored".
case_decisions_old_store() {
    sqlite_only "makes a store of an older SQLite schema"
    local W=$T/decold id
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 2 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    sqlite3 "$W/aipm.db" "ALTER TABLE decisions DROP COLUMN output; ALTER TABLE decisions DROP COLUMN status;
        $(undo_migration_8)
        DROP TABLE audit_frontier; DROP TABLE people; DROP TABLE approvals; DELETE FROM schema_migrations WHERE version >= 5;" || fail "making a migration-4 store"
    id=$(sql "$W/aipm.db" "select id from decisions where kind = 'prioritize'")
    A -C "$W" prioritize --no-record
    expect_rc 0 "a command that opens the store for writing"
    [ "$(sql "$W/aipm.db" "select group_concat(version) from schema_migrations")" = 1,2,3,4,5,6,7,8,9,10,11,12 ] || fail "migrations 5 to 12 not applied"
    A -C "$W" --json decisions show "$id"
    expect_rc 0 "show an old record"
    pycheck "$OUT" 'want(d["output_check"] == "not stored" and d["output"] is None and d["status"] == "proposed", "old record %r" % d)'
    A -C "$W" --json audit verify --data
    expect_rc 0 "verify --data on old records"
    pycheck "$OUT" 'want({k: d["data"][k] for k in ("intact", "decisions", "not_stored", "problems", "batches_not_hashed")} == {"intact": True, "decisions": 5, "not_stored": 5, "problems": [], "batches_not_hashed": 0}, "data %r" % d["data"])'
}

# A record says what it is (model, rationale, confidence, code and policy
# versions, the rows digest of each batch read); a newer record of the same
# subject supersedes an older proposed one; reverting a batch makes the
# records that read it stale; the log replays both (issue 14).
case_decisions_lifecycle() {
    sqlite_only "reads the SQLite file with Python"
    local W=$T/life first second code
    export AIPM_KEYS=$T/keys
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 2 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    A --json version
    code=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["code"])' "$OUT")
    [ -n "$code" ] && [ "$code" != unknown ] || fail "no code version compiled in: $(cat "$OUT")"
    first=$(sql "$W/aipm.db" "select id from decisions where kind = 'prioritize'")
    A -C "$W" --json decisions show "$first"
    expect_rc 0 "show the ranking"
    # policy_sha256: SHA-256 of the policies in force in the documented
    # canonical form (compact, sorted keys), from aipm.yaml's values and
    # the defaults (docs/config.md), by Python's json.
    pycheck "$OUT" '
import hashlib, sqlite3
want(d["model"].startswith("bayesian_linear/") and d["code_version"] == args[0], "model %r code %r" % (d["model"], d["code_version"]))
top = d["output"]["items"][0]
want(d["rationale"].startswith(d["decision"] + " ranks first: ") and top["contributions"][0]["text"] in d["rationale"], "rationale %r" % d["rationale"])
want(abs(d["confidence"] - top["confidence"]) < 1e-12, "confidence %r vs %r" % (d["confidence"], top["confidence"]))
import json
pol = {"data": {"max_quarantine_samples": 10000.0, "max_quarantine_share": 0.05, "max_staleness_hours": 48.0,
                "on_schema_change": "warn", "volume_high": 2.0, "volume_low": 0.5}, "decisions": [], "pii": [], "fairness": [],
       "models": {"min_trained": 10.0, "max_backtest_wape": None}}
text = json.dumps(pol, sort_keys=True, separators=(",", ":"))
want(d["policy_sha256"] == hashlib.sha256(text.encode()).hexdigest(), "policy %s" % d["policy_sha256"])
con = sqlite3.connect(args[1])
for ds in ("backlog", "events", "feedback", "signals"):
    got = d["inputs"][ds + "_batches"]
    rows = con.execute("select id, rows_sha256 from batches where dataset = ? and status = \"accepted\" order by id desc", (ds,)).fetchall()
    want([(b["id"], b["rows_sha256"]) for b in got] == rows and all(r for _, r in rows), "%s inputs %r vs %r" % (ds, got, rows))' "$code" "$W/aipm.db"
    A -C "$W" --json decisions show "$(sql "$W/aipm.db" "select id from decisions where kind = 'experiment' limit 1")"
    pycheck "$OUT" '
v = d["output"]["verdict"]
want(d["model"] == "experiment-%s/1" % d["params"]["engine"] and d["confidence"] == v["confidence"] and d["rationale"] == "; ".join(v["reasons"]), "experiment record %r" % {k: d[k] for k in ("model", "confidence", "rationale")})'
    # A second ranking supersedes the first.
    A -C "$W" prioritize
    expect_rc 0 "prioritize again"
    second=$(sql "$W/aipm.db" "select id from decisions where kind = 'prioritize' and status = 'proposed'")
    [ "$(sql "$W/aipm.db" "select status from decisions where id = '$first'")" = superseded ] || fail "the first ranking is $(sql "$W/aipm.db" "select status from decisions where id = '$first'")"
    [ -n "$second" ] && [ "$second" != "$first" ] || fail "no new proposed ranking"
    A -C "$W" decisions approve "$first" --as nobody --reason x
    expect_rc 3 "acting on a superseded record"
    grep -q "is superseded, no longer proposed" "$ERR" || fail "stderr: $(errtext)"
    # Reverting the events batch makes every record that read it stale.
    A -C "$W" data revert 1 --reason "bad tracking"
    expect_rc 0 "data revert"
    [ "$(sql "$W/aipm.db" "select group_concat(status, ',') from (select status from decisions order by time_ms, $RID) x")" = "stale,stale,stale,stale,superseded,stale" ] ||
        fail "statuses after the revert: $(sql "$W/aipm.db" "select group_concat(status, ',') from (select status from decisions order by time_ms, $RID) x")"
    A -C "$W" --json audit log
    pycheck "$OUT" '
e = [x["entry"] for x in d["entries"]]
dec = [x for x in e if x["action"] == "decision" and x["object"] == args[0]][0]
want(dec["detail"]["supersedes"] == [args[1]], "supersedes %r" % dec["detail"])
rev = [x for x in e if x["action"] == "revert"][0]
want(len(rev["detail"]["stale_decisions"]) == 5 and args[0] in rev["detail"]["stale_decisions"], "stale %r" % rev["detail"])' "$second" "$first"
    A -C "$W" audit verify --data
    expect_rc 0 "verify replays superseded and stale"
    # A status edited back by SQL is named.
    sql "$W/aipm.db" "update decisions set status = 'proposed' where id = '$second'" >/dev/null
    A -C "$W" audit verify
    expect_rc 3 "verify after a stale record was made proposed again"
    grep -q "status proposed in the store, stale by the log" "$ERR" || fail "stderr: $(errtext)"
}

# `decisions replay` runs a record's analysis again on exactly the batches
# it read and compares the output's digest (issue 14); experiment,
# prioritize and adoption forecast records (the graph's second connection
# must not miss the replay's batches): newer batches are
# set aside, a reverted one is used as it was, nothing is written; rows
# edited in the store make it differ (exit 3) and are named.
case_decisions_replay() {
    sqlite_only "reads the SQLite file with Python"
    local W=$T/rep id state
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 3 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    A -C "$W" forecast adoption export --by plan
    expect_rc 0 "an adoption forecast, recorded"
    printf 'period,adopters\n1,10\n2,25\n3,45\n4,60\n5,55\n6,40\n' >"$T/series.csv"
    A -C "$W" forecast bass --series "$T/series.csv"
    expect_rc 0 "a Bass fit of a series, recorded"
    # The series is kept with the record: the fit replays after the file
    # is gone; the record's digest of it is the file's SHA-256.
    id=$(sql "$W/aipm.db" "select id from decisions where kind = 'forecast' order by $RID desc limit 1")
    [ "$(sql "$W/aipm.db" "select json_extract(params, '$.series_sha256') from decisions where id = '$id'")" = "$(sha256sum "$T/series.csv" | cut -d' ' -f1)" ] ||
        fail "the series digest is not the file's SHA-256"
    rm "$T/series.csv"
    A -C "$W" decisions replay "$id"
    expect_rc 0 "replay of a series fit"
    sql "$W/aipm.db" "update decisions set params = json_remove(params, '$.series_csv') where id = '$id'" >/dev/null
    A -C "$W" decisions replay "$id"
    expect_rc 1 "replay of a series fit that did not keep its series"
    expect_one_line_stderr "series fit replay refused"
    for id in $(sql "$W/aipm.db" "select id from decisions where params not like '%\"series\"%' order by time_ms, $RID"); do
        A -C "$W" --json decisions replay "${id:0:8}"
        expect_rc 0 "replay $id"
        pycheck "$OUT" 'want(d["matches"] and d["replay_sha256"] == d["recorded_sha256"] and d["inputs_changed"] == 0 and not d["code_differs"], "%r" % d)'
    done
    # More data later, and the events batch reverted: the records still
    # replay as they were made.
    A -C "$W" ingest events "$EX/events.ndjson"
    expect_rc 0 "a newer events batch"
    A -C "$W" data revert 1 --reason "replay test"
    expect_rc 0 "revert the batch the records read"
    state="$(sql "$W/aipm.db" "select group_concat(id || status) from batches")|$(sql "$W/aipm.db" "select count(*) from audit")|$(sql "$W/aipm.db" "select group_concat(status) from decisions")"
    for id in $(sql "$W/aipm.db" "select id from decisions where params not like '%\"series\"%' order by time_ms, $RID"); do
        A -C "$W" decisions replay "$id"
        expect_rc 0 "replay $id after a newer batch and a revert"
        grep -q "output matches the record" "$OUT" || fail "stdout: $(cat "$OUT")"
    done
    [ "$state" = "$(sql "$W/aipm.db" "select group_concat(id || status) from batches")|$(sql "$W/aipm.db" "select count(*) from audit")|$(sql "$W/aipm.db" "select group_concat(status) from decisions")" ] ||
        fail "replay changed the store"
    # Event rows edited in the store: the experiments no longer reproduce.
    id=$(sql "$W/aipm.db" "select id from decisions where kind = 'experiment' order by time_ms, $RID limit 1")
    sql "$W/aipm.db" "update events set ts = ts + 40 * 86400000 where batch_id = 1 and $RID % 3 = 0" >/dev/null
    A -C "$W" --json decisions replay "$id"
    expect_rc 3 "replay after event rows were edited"
    pycheck "$OUT" 'want(not d["matches"] and d["first_difference"] and d["inputs_changed"] == 1 and d["first_changed_input"] == "events batch 1", "%r" % d)'
    grep -q "does not reproduce the recorded output" "$ERR" || fail "stderr: $(errtext)"
    grep -q "events batch 1" "$ERR" || fail "the edited batch is not named: $(errtext)"
    A -C "$W" decisions replay 00000000
    expect_rc 1 "replay of an unknown record"
}
