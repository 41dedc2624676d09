# The demo's realistic feedback (issue 13, sourced by tests/cli/run.sh).

# `aipm demo` links the 40 rows truth.json lists as the PM's corrections
# (each to every item it asks for) and unlinks 15 rows about no item, each
# through the audited path, and reports the linker's top-1 and the
# precision of `linked` against items_of (a multi-ask row is right when
# the link names any of its items).
case_demo13_corrections_and_checks() {
    local W=$T/demo13
    timeout 120 "$AIPM" $(demo_store "$W") demo "$W" --seed 5 --json >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "aipm demo --seed 5"
    cp "$OUT" "$T/demo13.json"
    pycheck "$W/demo-data/truth.json" '
import json
fb = d["feedback"]
corr = [c for c in fb["corrections"] if not c.get("unlink")]
unl = [c for c in fb["corrections"] if c.get("unlink")]
want(len({c["feedback_id"] for c in corr}) == 40 and len(unl) == 15, "corrections %d, unlinks %d" % (len(corr), len(unl)))
by = {}
for c in corr:
    by.setdefault(c["feedback_id"], []).append(c["item_id"])
for k, v in by.items():
    want(v == fb["items_of"][k], "correction of %s: %r, items_of %r" % (k, v, fb["items_of"][k]))
for c in unl:
    want(fb["item_of"][c["feedback_id"]] is None, "unlink of a row about an item: %r" % c)
n_corr = len(fb["corrections"])
for k, v in fb["item_of"].items():
    want(v == (fb["items_of"][k][0] if fb["items_of"][k] else None), "%s: item_of %r, items_of %r" % (k, v, fb["items_of"][k]))
j = json.load(open(args[0]))
want(j["all_checks_ok"] is True, "all_checks_ok %r" % j["all_checks_ok"])
c = [x for x in j["checks"] if x["check"] == "feedback corrections"]
want(len(c) == 1 and c[0]["applied"] == n_corr, "corrections check %r" % c)
l = [x for x in j["checks"] if x["check"] == "feedback links"][0]
for f in ("top1", "linked_precision", "untagged", "linked"):
    want(f in l, "links check lacks %s" % f)
print("# demo seed 5: top-1 %.3f of %d untagged item rows, linked precision %.3f of %d" % (l["top1"], l["untagged"], l["linked_precision"], l["linked"]))' "$T/demo13.json"
    A -C "$W" feedback links --json
    expect_rc 0 "feedback links"
    pycheck "$W/demo-data/truth.json" '
import json
links = json.load(open(args[0]))["links"]
j = json.load(open(args[1]))
l = [x for x in j["checks"] if x["check"] == "feedback links"][0]
io = d["feedback"]["items_of"]
unt = [x for x in links if io[x["feedback_id"]] and x["status"] != "given"]
top1 = sum(1 for x in unt if x["model_item"] in io[x["feedback_id"]])
lk = [x for x in links if x["status"] == "linked"]
right = sum(1 for x in lk if x["item_id"] in io[x["feedback_id"]])
want((len(unt), top1) == (l["untagged"], l["top1_right"]), "top-1 %d of %d, the demo says %r" % (top1, len(unt), l))
want((len(lk), right) == (l["linked"], l["linked_right"]), "linked %d of %d, the demo says %r" % (right, len(lk), l))
c = {x["feedback_id"]: x for x in links if x["status"] == "corrected"}
want(sorted(c) == sorted({x["feedback_id"] for x in d["feedback"]["corrections"]}), "corrected rows differ from truth")' "$OUT" "$T/demo13.json"
    A -C "$W" audit log --json
    [ "$(grep -o 'feedback\.link' "$OUT" | wc -l)" -ge 40 ] || fail "the 40 rows' links are not in the audit log"
    [ "$(grep -o 'feedback\.unlink' "$OUT" | wc -l)" -ge 15 ] || fail "the 15 unlinks are not in the audit log"
    A -C "$W" audit verify
    expect_rc 0 "audit verify after the demo's corrections"
}

# Same options, same bytes (the CLI end of test_demo.c's determinism),
# and feedback text that is not the old pseudo-words: customers' phrasings
# of a concept, never in the backlog's own text.
case_demo13_generate_same_bytes() {
    A demo generate "$T/d13a" --users 1000 --days 60 --seed 9 --end 2026-11-27
    expect_rc 0 "generate a"
    A demo generate "$T/d13b" --users 1000 --days 60 --seed 9 --end 2026-11-27
    expect_rc 0 "generate b"
    for f in feedback.csv backlog.csv truth.json; do
        cmp -s "$T/d13a/$f" "$T/d13b/$f" || fail "$f differs for the same seed"
    done
    pycheck "$T/d13a/truth.json" '
import csv
items = {i["id"]: i for i in d["backlog"]["items"]}
text = {r["id"]: (r["title"] + " " + r["description"]).lower() for r in csv.DictReader(open(args[0], encoding="utf-8", errors="replace")) if r["id"].startswith("BL-") and r["id"][3:].isdigit()}
for k, i in items.items():
    want(len(i["concept_phrases"]) >= 2, "%s: phrasings %r" % (k, i["concept_phrases"]))
    for p in i["concept_phrases"]:
        want(p not in text[k], "%s: phrasing %r in the item text" % (k, p))
lang = d["feedback"]["language"]
want(abs(lang["typo_share"] - 1 / 6) < 1e-9 and lang["own_term_share"] == 0.4, "language %r" % {k: v for k, v in lang.items() if k != "vocabulary"})' "$T/d13a/backlog.csv"
}
