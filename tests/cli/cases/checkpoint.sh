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
    local W=$T/kept n
    timeout 120 "$AIPM" demo "$W" --seed 3 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
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
    timeout 120 "$AIPM" demo "$W" --seed 4 --users 800 --days 60 >"$OUT" 2>"$ERR" </dev/null
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
