# tests/cli/cases/link.sh - the feedback linker learns customers' words from
# labelled rows, matches typos, links several asks, and reports its
# cross-validated accuracy (issue 13).

# The end of each corpus script: feedback.csv from its rows and tests,
# lists of (id, text, item_id).
LINK_FEEDBACK_CSV='with open(os.path.join(out, "feedback.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "created_at", "source", "user_id", "account_id", "score", "item_id", "text"])
    for i, t, item in rows + tests:
        w.writerow([i, "2026-09-01T10:00:00Z", "support", "u-1", "acct-1", "", item, t])'

# A small product: four items; 48 labelled rows in customers' own words
# (none of which the item texts contain: "cross tab", "okta", "ping",
# "printout"); then rows the model must link.
link_corpus() {
    { cat <<'PYEOF'
import csv, os, random, sys
out = sys.argv[1]
items = [
    ("BL-1", "Pivot tables in reports", "Let analysts summarise any report as a pivot table."),
    ("BL-2", "Export dashboards to PDF", "Scheduled PDF export of dashboards for executives."),
    ("BL-3", "Slack notifications for alerts", "Send alert notifications to a Slack channel."),
    ("BL-4", "Single sign-on with SAML", "Enterprise login through a SAML identity provider."),
]
with open(os.path.join(out, "backlog.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "title", "description", "area", "effort", "status", "created_at"])
    for i, t, d in items:
        w.writerow([i, t, d, "reporting", 2, "planned", "2026-08-01"])
asks = {
    "BL-1": ["cross tab of sales by region", "a crosstab view would help", "need cross tab totals",
             "crosstab with subtotals please", "can we get a cross tab", "cross tab grouping by month"],
    "BL-2": ["a printout of the board for the execs", "printout for our monthly meeting",
             "printable version of the board", "the board as a printout", "printout every friday",
             "board printout for leadership"],
    "BL-3": ["ping our channel when something breaks", "ping us in chat on failures",
             "chat ping when a threshold is crossed", "ping the team channel", "channel ping please",
             "ping me when a number drops"],
    "BL-4": ["login with okta", "okta login for our staff", "we use okta for everything",
             "okta integration for login", "sign in through okta", "let people use okta"],
}
rng = random.Random(7)
rows = []
n = 0
for item, texts in asks.items():
    for rep in range(2):
        for t in texts:
            n += 1
            rows.append(("FB-L%d" % n, t + ("" if rep == 0 else " " + rng.choice(["thanks", "asap", "today"])), item))
tests = [
    ("FB-T1", "our finance people want a cross tab in the quarterly report", ""),
    ("FB-T2", "when will okta be supported for the login", ""),
    ("FB-T3", "a prinotut of the board before the meeting", ""),
    ("FB-T4", "Please add okta login. Also a crosstab for the sales numbers.", ""),
    ("FB-T5", "billing question about our invoice", ""),
]
PYEOF
    echo "$LINK_FEEDBACK_CSV"; } | "$PY" - "$1"
}

# A workspace named NAME with the corpus MAKER writes into $T/NAME-data
# ingested: link_ws NAME MAKER; the workspace is $WS.
link_ws() {
    mkws "$1"
    mkdir -p "$T/$1-data" && "$2" "$T/$1-data" || fail "making the corpus"
    A -C "$WS" ingest backlog "$T/$1-data/backlog.csv"
    expect_rc 0 "ingest backlog"
    A -C "$WS" ingest feedback "$T/$1-data/feedback.csv"
    expect_rc 0 "ingest feedback"
}

case_link_learns_words_typos_and_asks() {
    local W
    link_ws lk link_corpus; W=$WS
    A -C "$W" feedback links --json
    expect_rc 0 "feedback links --json"
    pycheck "$OUT" '
links = {l["feedback_id"]: l for l in d["links"]}
m = d["summary"]["model"]
want(m["labelled"] == 48 and m["fitted"], "model %r" % m)
want(m["threshold_from"] == "cross-validation", "threshold from %r" % m["threshold_from"])
# Four items, six phrasings each: every held-out row has three siblings in
# its own words, so the held-out top-1 must be perfect.
want(m["top1"] == 1.0 and m["top3"] == 1.0, "cv top-1 %r top-3 %r" % (m["top1"], m["top3"]))
want(m["linked_precision"] >= 0.9, "cv precision %r" % m["linked_precision"])
def items(i):
    return [x["item_id"] for x in links[i]["items"]]
# The item text never says "cross tab" or "okta": learnt from the labels.
want(links["FB-T1"]["status"] == "linked" and items("FB-T1") == ["BL-1"], "T1 %r" % links["FB-T1"])
want(links["FB-T2"]["status"] == "linked" and items("FB-T2") == ["BL-4"], "T2 %r" % links["FB-T2"])
# A typo of a learnt word.
want(links["FB-T3"]["model_item"] == "BL-2", "T3 %r" % links["FB-T3"])
# Two asks: both items, each once.
want(sorted(items("FB-T4")) == ["BL-1", "BL-4"], "T4 %r" % links["FB-T4"])
want(d["summary"]["several_items"] >= 1, "several_items %r" % d["summary"]["several_items"])
# Chatter about no item is not demand.
want(links["FB-T5"]["status"] == "needs_review" and items("FB-T5") == [], "T5 %r" % links["FB-T5"])'
    # Without the labelled rows the same texts cannot be linked: the words
    # come from the labels, not from the items.
    A -C "$W" feedback links --review --json
    expect_rc 0 "feedback links --review --json"
    pycheck "$OUT" '
r = {l["feedback_id"]: l for l in d["links"]}
want("FB-T5" in r, "the chatter row is not in the review queue")
l = r["FB-T5"]
want(l["text"] == "billing question about our invoice", "review text %r" % l.get("text"))
want(all("title" in c and "confidence" in c for c in l["candidates"]), "candidates %r" % l["candidates"])'
    A -C "$W" feedback links --review
    expect_rc 0 "feedback links --review"
    grep -q '^FB-T5  billing question about our invoice' "$OUT" || fail "review shows no text: $(head -c 300 "$OUT")"
    A -C "$W" feedback links --summary
    grep -q '^model: learnt from 48 labelled rows; 5-fold cross-validation on 48 of them: top-1 1.000' "$OUT" ||
        fail "summary: $(cat "$OUT")"
}

# Fewer than 30 labelled rows: fixed weights, the default threshold, said.
case_link_too_few_labels() {
    local W
    mkws lk2; W=$WS
    A -C "$W" ingest backlog "$EX/backlog.csv"
    head -21 "$EX/feedback.csv" >"$T/fb20.csv"
    A -C "$W" ingest feedback "$T/fb20.csv"
    expect_rc 0 "ingest feedback"
    A -C "$W" feedback links --summary
    expect_rc 0 "feedback links --summary"
    grep -q "^model: [0-9]* labelled rows (fewer than 30): fixed weights, threshold 0.50" "$OUT" ||
        fail "no fixed-weights line: $(cat "$OUT")"
}

# A grid of items (four features on three surfaces) where customers' words
# are learnt from the rows of one item and must carry to a sibling no row
# was labelled with: "mass update" is only ever said of bulk edit in the
# inbox, "voice" only of CSV export for calls; "mass update in voice" is
# bulk edit for phone calls.
grid_corpus() {
    { cat <<'PYEOF'
import csv, os, sys
out = sys.argv[1]
features = [("Bulk edit", "Select many {s} and apply changes to all of them at once."),
            ("CSV export", "Download {s} as a spreadsheet file."),
            ("Full-text search", "Search every word of old {s}."),
            ("Automatic tagging", "Tag incoming {s} by topic.")]
surfaces = [("the email inbox", "emails"), ("phone calls", "phone calls"), ("live chat", "chat conversations")]
items = {}
with open(os.path.join(out, "backlog.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "title", "description", "area", "effort", "status", "created_at"])
    n = 0
    for fi, (ft, fd) in enumerate(features):
        for si, (st, sd) in enumerate(surfaces):
            n += 1
            items[(fi, si)] = "BL-%d" % n
            w.writerow(["BL-%d" % n, "%s for %s" % (ft, st), fd.format(s=sd), "core", 2, "planned", "2026-08-01"])
labels = {
    (0, 0): ["mass update for our mailbox", "we need mass update in the mailbox", "mass update please",
             "mailbox mass update", "a mass update of mailbox threads", "mass update would save hours",
             "any plans for mass update"],
    (1, 1): ["csv export in voice", "voice csv export please", "export voice to csv", "csv of voice history",
             "voice log as csv", "we need voice csv export", "csv export for voice"],
    (1, 0): ["csv export of the mailbox", "mailbox to csv", "csv of our mailbox", "mailbox csv export please",
             "export mailbox threads to csv", "csv export for mailbox", "a mailbox csv"],
    (2, 2): ["find old messenger threads", "find anything in the messenger", "messenger find box",
             "we cannot find old messenger threads", "find in messenger history", "messenger find please",
             "let us find old messenger threads"],
    (3, 2): ["auto label the messenger", "messenger auto label", "auto label messenger threads",
             "we want auto label in the messenger", "auto label for messenger", "messenger threads auto label",
             "auto label please"],
    (2, 0): ["find old mailbox threads", "mailbox find box", "find anything in the mailbox",
             "find in mailbox history", "mailbox find please", "we cannot find old mailbox threads",
             "let us find mailbox threads"],
    # the learnt words in other combinations: what teaches the model that
    # a word learnt on one item speaks for its siblings
    (2, 1): ["find old voice threads", "voice find box", "find anything in voice", "find in voice history",
             "we cannot find old voice threads"],
    (0, 2): ["mass update in the messenger", "messenger mass update", "mass update of messenger threads",
             "we need mass update for messenger", "mass update for the messenger please"],
}
# and, as most asks do, the items' own words: two rows for every item but
# BL-2
for key, item in items.items():
    if item != "BL-2":
        ft, st = features[key[0]][0].lower(), surfaces[key[1]][0]
        labels.setdefault(key, []).extend(["%s for %s" % (ft, st), "we want %s in %s" % (ft, st)])
rows = []
n = 0
for key, texts in labels.items():
    for t in texts:
        n += 1
        rows.append(("FB-L%d" % n, t, items[key]))
tests = [("FB-G1", "mass update in voice", ""),
         ("FB-G2", "let us apply chages to many phone calls", "")]
PYEOF
    echo "$LINK_FEEDBACK_CSV"; } | "$PY" - "$1"
}

case_link_words_carry_to_siblings() {
    local W
    link_ws lkg grid_corpus; W=$WS
    A -C "$W" feedback links --json
    expect_rc 0 "feedback links --json"
    pycheck "$OUT" '
links = {l["feedback_id"]: l for l in d["links"]}
m = d["summary"]["model"]
want(m["labelled"] == 74 and m["fitted"], "model %r" % m)
# BL-2 (bulk edit for phone calls) has no labelled row: "mass update" is
# learnt from the rows of BL-1 and BL-3, "voice" from those of BL-5 and
# BL-8.
want(links["FB-G1"]["model_item"] == "BL-2", "G1 %r" % links["FB-G1"])
# "chages" is one edit from the word "changes" but two from its stem.
want(links["FB-G2"]["model_item"] == "BL-2", "G2 %r" % links["FB-G2"])'
}

# link_corpus and eight billing rows about no item (FB-C1..8), then two
# new billing rows (FB-N1, FB-N2).
unlink_corpus() {
    link_corpus "$1" || return 1
    "$PY" - "$1/feedback.csv" <<'PYEOF'
import csv, sys
chat = ["billing question about the pdf invoice", "the pdf invoice shows the wrong billing address",
        "refund for the invoice pdf please", "invoice pdf was sent twice",
        "our billing contact changed, update the invoice", "vat number missing on the invoice pdf",
        "who do we call about a billing invoice", "the invoice pdf total is wrong"]
new = ["vat number missing on our invoice", "the invoice total is wrong again"]
with open(sys.argv[1], "a", newline="") as f:
    w = csv.writer(f)
    for k, t in enumerate(chat):
        w.writerow(["FB-C%d" % (k + 1), "2026-09-01T10:00:00Z", "support", "u-1", "acct-1", "", "", t])
    for k, t in enumerate(new):
        w.writerow(["FB-N%d" % (k + 1), "2026-09-01T10:00:00Z", "support", "u-1", "acct-1", "", "", t])
PYEOF
}

# Unlinked rows are labelled too: about no item. Eight billing rows that
# people unlinked teach the model that billing talk is no ask, so new
# billing rows that matched an item's learnt words ("number", "pdf") stop
# being linked; the asks stay linked; the threshold is not dragged down to
# the unlinked rows' near-zero confidence.
case_link_learns_from_unlinks() {
    local W k
    link_ws lku unlink_corpus; W=$WS
    A -C "$W" feedback links --json
    expect_rc 0 "feedback links --json (before)"
    cp "$OUT" "$T/lku-before.json"
    for k in 1 2 3 4 5 6 7 8; do
        A -C "$W" feedback unlink FB-C$k BL-2
        expect_rc 0 "feedback unlink FB-C$k"
    done
    A -C "$W" feedback links --json
    expect_rc 0 "feedback links --json (after)"
    pycheck "$OUT" '
import json
before = {l["feedback_id"]: l for l in json.load(open(args[0]))["links"]}
links = {l["feedback_id"]: l for l in d["links"]}
m = d["summary"]["model"]
want(m["labelled"] == 56 and m["cv_none"] == 8, "model %r" % m)
# Before the unlinks both billing rows were linked (the failure this fixes).
want(all(before[i]["status"] == "linked" for i in ("FB-N1", "FB-N2")),
     "before: %r" % [before[i] for i in ("FB-N1", "FB-N2")])
for i in ("FB-N1", "FB-N2"):
    want(links[i]["status"] == "needs_review" and links[i]["items"] == [], "%s after: %r" % (i, links[i]))
for i in ("FB-T1", "FB-T2"):
    want(links[i]["status"] == "linked", "%s no longer linked: %r" % (i, links[i]))
want(all(links["FB-C%d" % k]["status"] == "corrected" for k in range(1, 9)), "corrections")
# Every held-out ask is right and linked; no unlinked row is: the threshold
# stays above their confidence.
want(m["linked_precision"] == 1.0 and m["linked_recall"] == 1.0, "cv %r" % m)
want(m["threshold"] > 0.5, "threshold %r" % m["threshold"])' "$T/lku-before.json"
    A -C "$W" feedback links --summary
    grep -q '^model: learnt from 56 labelled rows; 5-fold cross-validation on 56 of them (8 unlinked: about no item): top-1 1.000' "$OUT" ||
        fail "summary: $(cat "$OUT")"
}

# A person may link one row to several items (a message with several
# asks); an unlink removes one; a row left with none is about no item.
case_link_corrections_several_items() {
    local W
    link_ws lkm link_corpus; W=$WS
    A -C "$W" feedback link FB-T5 BL-2
    expect_rc 0 "link FB-T5 BL-2"
    A -C "$W" feedback link FB-T5 BL-3
    expect_rc 0 "link FB-T5 BL-3"
    A -C "$W" feedback link FB-T5 BL-3
    expect_rc 0 "link FB-T5 BL-3 again"
    A -C "$W" feedback links --json
    pycheck "$OUT" '
l = {x["feedback_id"]: x for x in d["links"]}["FB-T5"]
want(l["status"] == "corrected" and sorted(x["item_id"] for x in l["items"]) == ["BL-2", "BL-3"], "two links: %r" % l)'
    A -C "$W" feedback unlink FB-T5 BL-2
    expect_rc 0 "unlink FB-T5 BL-2"
    A -C "$W" feedback links --json
    pycheck "$OUT" '
l = {x["feedback_id"]: x for x in d["links"]}["FB-T5"]
want([x["item_id"] for x in l["items"]] == ["BL-3"], "after one unlink: %r" % l)'
    A -C "$W" feedback unlink FB-T5 BL-3
    expect_rc 0 "unlink FB-T5 BL-3"
    A -C "$W" --json feedback links --summary
    pycheck "$OUT" '
want(d["summary"]["model"]["cv_none"] == 1, "the row about no item is labelled: %r" % d["summary"]["model"])'
    A -C "$W" feedback links --json
    pycheck "$OUT" '
l = {x["feedback_id"]: x for x in d["links"]}["FB-T5"]
want(l["status"] == "corrected" and l["items"] == [], "about no item: %r" % l)'
    [ "$(sql "$W/aipm.db" "select group_concat(item_id, '|') from feedback_links where feedback_id = 'FB-T5'")" = "" ] ||
        fail "the store does not mark FB-T5 about no item"
    [ "$(sql "$W/aipm.db" "select count(*) from feedback_links where feedback_id = 'FB-T5'")" = 1 ] ||
        fail "FB-T5 has more than its no-item mark"
    A -C "$W" feedback link FB-T5 BL-1
    expect_rc 0 "link FB-T5 BL-1 after the unlinks"
    [ "$(sql "$W/aipm.db" "select group_concat(item_id, '|') from feedback_links where feedback_id = 'FB-T5'")" = "BL-1" ] ||
        fail "a link did not clear the no-item mark"
    A -C "$W" audit verify
    expect_rc 0 "audit verify after the corrections"
}

# A store made before migration 4 (one correction per row, NULL for no
# item) keeps its corrections when a write command migrates it.
case_link_store_migration() {
    sqlite_only "makes a store of an older SQLite schema"
    local W
    link_ws lkmig link_corpus; W=$WS
    # Migration 3's table, as a store of 2026-12-04 had it.
    sqlite3 "$W/aipm.db" "DROP TABLE feedback_links;
        CREATE TABLE feedback_links(feedback_id TEXT PRIMARY KEY, item_id TEXT, actor TEXT NOT NULL, time_ms INTEGER NOT NULL);
        INSERT INTO feedback_links VALUES('FB-T5', NULL, 'pm', 1), ('FB-T1', 'BL-2', 'pm', 2);
        ALTER TABLE decisions DROP COLUMN output; ALTER TABLE decisions DROP COLUMN status;
        $(undo_migration_8)
        DROP TABLE audit_frontier; DROP TABLE people; DROP TABLE approvals; DELETE FROM schema_migrations WHERE version >= 4;" || fail "making a migration-3 store"
    A -C "$W" feedback link FB-T4 BL-1
    expect_rc 0 "a write command (migrates)"
    [ "$(sql "$W/aipm.db" "select group_concat(version) from schema_migrations")" = 1,2,3,4,5,6,7,8,9,10,11,12 ] ||
        fail "migrations 4 to 12 not applied"
    [ "$(sql "$W/aipm.db" "select group_concat(feedback_id || '=' || item_id, ' ') from (select * from feedback_links order by feedback_id) x")" = "FB-T1=BL-2 FB-T4=BL-1 FB-T5=" ] ||
        fail "corrections after the migration: $(sql "$W/aipm.db" "select * from feedback_links")"
    A -C "$W" feedback links --json
    pycheck "$OUT" '
l = {x["feedback_id"]: x for x in d["links"]}
want(l["FB-T5"]["status"] == "corrected" and l["FB-T5"]["items"] == [], "FB-T5 %r" % l["FB-T5"])
want([x["item_id"] for x in l["FB-T1"]["items"]] == ["BL-2"], "FB-T1 %r" % l["FB-T1"])'
}
