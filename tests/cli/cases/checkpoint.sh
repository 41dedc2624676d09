# tests/cli/cases/checkpoint.sh - `aipm audit verify --checkpoint FILE`: a
# copy of the audit checkpoint kept outside the workspace catches a
# history rewritten together with the workspace's own checkpoint (issue
# 14).

# Rewrite the audit log of the store $1 the way someone with write access
# could, so that every leaf, tree head and the workspace checkpoint $2
# agree again: drop the triggers, apply the SQL $3, then recompute every
# leaf and head in Python (RFC 6962 section 2.1, written here from the
# RFC, not from aipm's code) and write "<size> <head>" to $2.
rewrite_log() {
    "$PY" - "$1" "$2" "$3" <<'PYEOF'
import hashlib, sqlite3, sys
db, cp, edit = sys.argv[1:4]
con = sqlite3.connect(db)
con.executescript("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;" + edit)

def mth(leaves):
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()

rows = con.execute("SELECT seq, entry FROM audit ORDER BY seq").fetchall()
leaves = []
for seq, entry in rows:
    leaf = hashlib.sha256(b"\x00" + bytes(entry)).digest()
    leaves.append(leaf)
    con.execute("UPDATE audit SET leaf = ?, root = ? WHERE seq = ?", (leaf, mth(leaves), seq))
con.commit()
open(cp, "w").write("%d %s\n" % (len(leaves), mth(leaves).hex()))
PYEOF
}

case_audit_kept_checkpoint() {
    sqlite_only "recomputes the log from the SQLite file"
    local W=$T/kept n
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 3 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    cp "$W/audit-checkpoint" "$T/kept-checkpoint"
    n=$(sql "$W/aipm.db" "select count(*) from audit")
    # More entries after the copy: the log still extends it.
    A -C "$W" feedback link FB-1 BL-1
    expect_rc 0 "a write after the copy"
    A -C "$W" --json audit verify --checkpoint "$T/kept-checkpoint"
    expect_rc 0 "verify against the kept checkpoint"
    pycheck "$OUT" '
want(d["intact"] and d["entries"] == int(args[0]) + 1, "report %r" % d)
want(d["kept_checkpoint"]["entries"] == int(args[0]), "kept %r" % d.get("kept_checkpoint"))' "$n"
    # Our recomputation agrees with aipm's on the untouched log (so the
    # rewrites below are consistent, and aipm's plain verify passes them).
    cp "$W/audit-checkpoint" "$T/before-rewrite"
    rewrite_log "$W/aipm.db" "$W/audit-checkpoint" "" || fail "recomputing the log"
    cmp -s "$W/audit-checkpoint" "$T/before-rewrite" ||
        fail "Python's RFC 6962 head differs from aipm's: $(cat "$W/audit-checkpoint") vs $(cat "$T/before-rewrite")"
    # An early entry edited and the log recomputed around it: the
    # workspace's checkpoint is rewritten too, so plain verify passes;
    # the kept copy does not.
    rewrite_log "$W/aipm.db" "$W/audit-checkpoint" \
        "UPDATE audit SET entry = CAST(replace(CAST(entry AS TEXT), '\"ingest\"', '\"ingestX\"') AS BLOB) WHERE seq = 2;" ||
        fail "rewriting the log"
    A -C "$W" audit verify
    expect_rc 0 "plain verify of a consistently rewritten log (what it cannot see)"
    A -C "$W" --json audit verify --checkpoint "$T/kept-checkpoint"
    expect_rc 3 "verify against the kept checkpoint after the rewrite"
    pycheck "$OUT" '
want(not d["intact"] and d["first_bad_entry"] == int(args[0]) and "kept checkpoint" in d["problem"], "report %r" % d)' "$n"
    grep -q "NOT intact" "$ERR" || fail "stderr: $(errtext)"
}

# The newest entries deleted and the workspace checkpoint rewritten to
# match: the kept copy, which recorded more, names the first missing one.
case_audit_kept_checkpoint_truncation() {
    sqlite_only "truncates the SQLite file's log"
    local W
    mkws kt; W=$WS
    A -C "$W" ingest backlog "$EX/backlog.csv"
    expect_rc 0 "ingest backlog"
    A -C "$W" ingest feedback "$EX/feedback.csv"
    expect_rc 0 "ingest feedback"
    cp "$W/audit-checkpoint" "$T/kt-kept"
    rewrite_log "$W/aipm.db" "$W/audit-checkpoint" "DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit);" ||
        fail "truncating the log"
    A -C "$W" audit verify
    expect_rc 0 "plain verify of the truncated log (what it cannot see)"
    A -C "$W" audit verify --checkpoint "$T/kt-kept"
    expect_rc 3 "verify against the kept checkpoint after the truncation"
    grep -q "entries were deleted" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" audit verify --checkpoint "$T/no-such-file"
    expect_rc 1 "a kept checkpoint that does not exist"
    A -C "$W" audit verify --checkpoint "$T"
    expect_rc 1 "a folder for a kept checkpoint"
}

# `audit export` is checkable with nothing but SHA-256, by the README's
# recipe (written again here in Python): each line's leaf is SHA-256(0x00
# || entry bytes), its tree head the RFC 6962 head of the leaves so far,
# and the last head is the workspace's checkpoint.
case_audit_export_verifies() {
    local W=$T/exp
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 4 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo"
    A -C "$W" audit export --format jsonl
    expect_rc 0 "audit export"
    cp "$OUT" "$T/export.jsonl"
    pycheck - '
import hashlib, json
def mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()
lines = open(args[0]).read().splitlines()
want(len(lines) == int(args[2]), "%d lines for %s entries" % (len(lines), args[2]))
leaves = []
for n, line in enumerate(lines, 1):
    o = json.loads(line)
    want(o["seq"] == n, "line %d: seq %r" % (n, o["seq"]))
    data = o["entry"].encode("utf-8")
    leaf = hashlib.sha256(b"\x00" + data).digest()
    want(leaf.hex() == o["leaf_hash"], "line %d: leaf" % n)
    leaves.append(leaf)
    want(mth(leaves).hex() == o["tree_head"], "line %d: tree head" % n)
    want(json.loads(data)["seq"] == n, "line %d: entry seq" % n)
size, head = open(args[1]).read().split()
want(int(size) == len(leaves) and head == mth(leaves).hex(), "checkpoint %s %s" % (size, head))' \
        "$T/export.jsonl" "$W/audit-checkpoint" "$(sql "$W/aipm.db" "select count(*) from audit")"
    A -C "$W" audit export --format csv
    expect_rc 1 "an unknown export format"
}

# ---- signed checkpoints (C2SP tlog-checkpoint notes) and proofs ----

# sc_setup NAME: a workspace $T/NAME with three entries, a signed note of
# them in $T/NAME.note and its verifier key in $T/NAME.vkey; the key
# folder is $AIPM_KEYS=$T/NAME-keys.
sc_setup() {
    export AIPM_KEYS=$T/$1-keys
    mkws "$1"; W=$WS
    A -C "$W" ingest backlog "$EX/backlog.csv"
    expect_rc 0 "ingest backlog"
    A -C "$W" ingest feedback "$EX/feedback.csv"
    expect_rc 0 "ingest feedback"
    A -C "$W" --json audit checkpoint --out "$T/$1.note" --key-out "$T/$1.vkey"
    expect_rc 0 "audit checkpoint"
    cp "$OUT" "$T/$1.json"
}

case_audit_signed_checkpoint() {
    sqlite_only "recomputes the log from the SQLite file"
    local W
    sc_setup sc
    # The note's lines from the formats (c2sp.org/tlog-checkpoint and
    # signed-note), the root as audit log's own head at size 3, and the
    # files: the note and the secret key 0600, the key outside the
    # workspace.
    pycheck "$T/sc.json" '
import base64, os, stat
note = open(args[0], encoding="utf-8").read()
want(note == d["checkpoint"], "note file %r vs json %r" % (note, d["checkpoint"]))
lines = note.split("\n")
want(len(lines) == 6 and lines[3] == "" and lines[5] == "", "lines %r" % lines)
want(lines[0] == d["origin"] and d["origin"].startswith("aipm.local/log/") and len(d["origin"]) == 31, "origin %r" % lines[0])
want(lines[1] == "3" and d["size"] == 3, "size %r" % lines[1])
want(base64.b64decode(lines[2]).hex() == d["root_hash"] == args[1], "root %r vs head %s" % (lines[2], args[1]))
mark, name, sig = lines[4].split(" ")
want(mark == "\u2014" and name == d["origin"] and len(base64.b64decode(sig)) == 68, "signature line %r" % lines[4])
want(d["key"].startswith(d["origin"] + "+") and base64.b64decode(sig)[:4].hex() == d["key"].split("+")[1], "key %r" % d["key"])
want(open(args[2]).read() == d["key"] + "\n", "--key-out file")
want(d["key_created"] and d["key_file"].startswith(args[3] + "/") and d["audit_entry"] == 4, "key %r" % d)
for f in (args[0], d["key_file"]):
    want(stat.S_IMODE(os.stat(f).st_mode) == 0o600, "%s mode %o" % (f, os.stat(f).st_mode))' \
        "$T/sc.note" "$(sql "$WS/aipm.db" "select hex(root) from audit where seq = 3" | tr A-F a-f)" \
        "$T/sc.vkey" "$T/sc-keys"
    # The log records it: a "checkpoint" entry with size, root and key.
    sql "$W/aipm.db" "select entry from audit where seq = 4" | grep -q '"action":"checkpoint"' ||
        fail "no checkpoint audit entry"
    # A second one reuses the key.
    A -C "$W" --json audit checkpoint
    expect_rc 0 "a second checkpoint"
    pycheck "$OUT" 'want(not d["key_created"] and d["size"] == 4 and d["out"] is None, "%r" % d)'
    A -C "$W" ingest signals "$EX/signals.csv"
    expect_rc 0 "a write after the checkpoint"
    A -C "$W" audit verify --checkpoint "$T/sc.note"
    expect_rc 0 "verify against the signed checkpoint (workspace key)"
    grep -q "signed checkpoint .*(3 entries), signature good" "$OUT" || fail "stdout: $(head -c 300 "$OUT")"
    A -C "$W" --json audit verify --checkpoint "$T/sc.note" --key "$T/sc.vkey"
    expect_rc 0 "verify with --key"
    pycheck "$OUT" '
k = d["kept_checkpoint"]
want(d["intact"] and d["entries"] == 6 and k["entries"] == 3 and k["signed"] and k["signature"] == "ok", "report %r" % d)'
    # No key at hand: checked but for the signature, which is said.
    AIPM_KEYS=$T/no-keys A -C "$W" --json audit verify --checkpoint "$T/sc.note"
    expect_rc 0 "verify without a verifier key"
    pycheck "$OUT" 'want(d["kept_checkpoint"]["signature"] == "unchecked", "%r" % d)'
    grep -q "was not checked" "$ERR" || fail "stderr: $(errtext)"
    A -C "$W" audit verify --key "$T/sc.vkey"
    expect_rc 1 "--key without --checkpoint"
    A -C "$W" audit verify --checkpoint "$T/sc.note" --key "$T/sc.note"
    expect_rc 1 "--key of a file that is no verifier key"
    expect_one_line_stderr "a bad --key"
}

# The README's recipe (extracted from it): an inclusion proof from `audit
# prove` checked against the signed checkpoint with Python's hashlib.
case_audit_prove_recipe() {
    local W seq
    sc_setup pr
    sed -n '/^# prove.py/,/^```/p' "$ROOT/README.md" | sed '$d' >"$T/prove.py"
    [ -s "$T/prove.py" ] || fail "no prove.py recipe in README.md"
    A -C "$W" ingest signals "$EX/signals.csv"
    expect_rc 0 "a write after the checkpoint"
    for seq in 1 2 3; do
        A -C "$W" --json audit prove "$seq" --checkpoint "$T/pr.note"
        expect_rc 0 "audit prove $seq"
        cp "$OUT" "$T/proof.json"
        /usr/bin/python3 "$T/prove.py" "$T/proof.json" "$T/pr.note" >"$OUT" 2>"$ERR" ||
            fail "the README recipe rejects entry $seq: $(cat "$OUT") $(errtext)"
        grep -q "entry $seq is in the checkpoint's tree" "$OUT" || fail "recipe said: $(cat "$OUT")"
    done
    # Against another root, the recipe says no.
    sed '3{s/^A/B/;t;s/^./A/}' "$T/pr.note" >"$T/pr-edited.note"
    ! /usr/bin/python3 "$T/prove.py" "$T/proof.json" "$T/pr-edited.note" >/dev/null 2>&1 ||
        fail "the recipe accepted another root"
    # The current log, and a chosen size; errors.
    A -C "$W" --json audit prove 5
    expect_rc 0 "prove in the current log"
    pycheck "$OUT" 'want(d["tree_size"] == 5 and d["leaf_index"] == 4 and d["checkpoint"] is None and len(d["audit_path"]) == 1, "%r" % d)'
    A -C "$W" --json audit prove 2 --size 4
    expect_rc 0 "prove at size 4"
    pycheck "$OUT" 'want(d["tree_size"] == 4 and len(d["audit_path"]) == 2, "%r" % d)'
    A -C "$W" audit prove 6 --size 5
    expect_rc 1 "an entry beyond the size"
    A -C "$W" audit prove 1 --size 99
    expect_rc 1 "a size beyond the log"
    A -C "$W" audit prove 0
    expect_rc 1 "entry 0"
    A -C "$W" audit prove
    expect_rc 1 "no entry"
    expect_one_line_stderr "no entry"
}

# Each way of getting round a signed checkpoint is caught, with its reason.
case_audit_signed_checkpoint_tamper() {
    sqlite_only "rewrites the SQLite file's log"
    local W
    sc_setup st
    # A note with an edited size or root: the signature fails.
    sed '2s/.*/2/' "$T/st.note" >"$T/st-size.note"
    A -C "$W" --json audit verify --checkpoint "$T/st-size.note"
    expect_rc 3 "a note with an edited size"
    pycheck "$OUT" 'want(not d["intact"] and d["kept_checkpoint"]["signature"] == "bad" and "does not verify" in d["problem"], "%r" % d)'
    sed '3{s/^A/B/;t;s/^./A/}' "$T/st.note" >"$T/st-root.note"
    A -C "$W" audit verify --checkpoint "$T/st-root.note"
    expect_rc 3 "a note with an edited root"
    grep -q "does not verify (the note was edited or forged)" "$ERR" || fail "stderr: $(errtext)"
    expect_one_line_stderr "an edited root"
    # Malformed: no blank line before the signature.
    sed '4d' "$T/st.note" >"$T/st-bad.note"
    A -C "$W" audit verify --checkpoint "$T/st-bad.note"
    expect_rc 3 "a malformed note"
    grep -q "not a checkpoint note: no blank line" "$ERR" || fail "stderr: $(errtext)"
    expect_one_line_stderr "a malformed note"
    # Signed by another key of the same name (a key folder elsewhere).
    AIPM_KEYS=$T/other-keys A -C "$W" audit checkpoint --out "$T/other.note" --key-out "$T/other.vkey"
    expect_rc 0 "a checkpoint by another key"
    A -C "$W" --json audit verify --checkpoint "$T/other.note"
    expect_rc 3 "a note by another key"
    pycheck "$OUT" 'want(d["kept_checkpoint"]["signature"] == "not_signed" and "not signed by the key" in d["problem"], "%r" % d)'
    A -C "$W" audit verify --checkpoint "$T/st.note" --key "$T/other.vkey"
    expect_rc 3 "the right note, checked with another key"
    # A fork: the same log up to here, then two different histories; a
    # note of the fork, signed by the same key, is not extended by ours.
    ws_copy "$W" "$T/st-fork"
    A -C "$T/st-fork" ingest signals "$EX/signals.csv"
    expect_rc 0 "the fork's write"
    A -C "$T/st-fork" audit checkpoint --out "$T/fork.note"
    expect_rc 0 "a checkpoint of the fork"
    A -C "$W" ingest graph "$EX/graph.csv"
    expect_rc 0 "our write"
    A -C "$W" audit checkpoint --out "$T/ours.note"
    expect_rc 0 "a checkpoint of ours"
    A -C "$W" audit verify --checkpoint "$T/st.note"
    expect_rc 0 "both extend the note before the fork"
    A -C "$W" --json audit verify --checkpoint "$T/fork.note"
    expect_rc 3 "a checkpoint of the fork"
    pycheck "$OUT" 'want(d["kept_checkpoint"]["signature"] == "ok" and "does not extend it" in d["problem"] and d["first_bad_entry"] == 6, "%r" % d)'
    # The tail deleted (and every head and the workspace checkpoint
    # recomputed): the note records more entries than the log has.
    ws_copy "$W" "$T/st-trunc"
    rewrite_log "$T/st-trunc/aipm.db" "$T/st-trunc/audit-checkpoint" "DELETE FROM audit WHERE seq > 5;" ||
        fail "truncating the log"
    A -C "$T/st-trunc" audit verify
    expect_rc 0 "plain verify of the truncated log (what it cannot see)"
    A -C "$T/st-trunc" audit verify --checkpoint "$T/ours.note"
    expect_rc 3 "a truncated log"
    grep -q "records 6 entries but the log has 5 (entries were deleted)" "$ERR" || fail "stderr: $(errtext)"
    # History rewritten with every head recomputed: the signed note's
    # root is not a prefix of the new tree.
    rewrite_log "$W/aipm.db" "$W/audit-checkpoint" \
        "UPDATE audit SET entry = CAST(replace(CAST(entry AS TEXT), '\"ingest\"', '\"ingestX\"') AS BLOB) WHERE seq = 2;" ||
        fail "rewriting the log"
    A -C "$W" audit verify
    expect_rc 0 "plain verify of a consistently rewritten log (what it cannot see)"
    A -C "$W" --json audit verify --checkpoint "$T/st.note"
    expect_rc 3 "a rewritten history"
    pycheck "$OUT" 'want(not d["intact"] and d["first_bad_entry"] == 3 and "consistency proof from 3 to" in d["problem"], "%r" % d)'
    A -C "$W" audit prove 2 --checkpoint "$T/st.note"
    expect_rc 3 "a proof against the note of a rewritten log"
    # A checkpoint of another log (another origin).
    sc_setup st2
    A -C "$W" audit verify --checkpoint "$T/st.note"
    expect_rc 3 "a checkpoint of another log"
    grep -q "is not this log's" "$ERR" || fail "stderr: $(errtext)"
}
