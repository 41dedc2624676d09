# tests/cli/cases/link.sh - the feedback linker learns customers' words from
# labelled rows, matches typos, links several asks, and reports its
# cross-validated accuracy (issue 13).

# A small product: four items; 48 labelled rows in customers' own words
# (none of which the item texts contain: "cross tab", "okta", "ping",
# "printout"); then rows the model must link.
link_corpus() {
    "$PY" - "$1" <<'PYEOF'
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
with open(os.path.join(out, "feedback.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "created_at", "source", "user_id", "account_id", "score", "item_id", "text"])
    for i, t, item in rows + tests:
        w.writerow([i, "2026-09-01T10:00:00Z", "support", "u-1", "acct-1", "", item, t])
PYEOF
}

case_link_learns_words_typos_and_asks() {
    local W
    mkws lk; W=$WS
    mkdir -p "$T/lk-data" && link_corpus "$T/lk-data" || fail "making the corpus"
    A -C "$W" ingest backlog "$T/lk-data/backlog.csv"
    expect_rc 0 "ingest backlog"
    A -C "$W" ingest feedback "$T/lk-data/feedback.csv"
    expect_rc 0 "ingest feedback"
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
