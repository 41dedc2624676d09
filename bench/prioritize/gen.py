#!/usr/bin/python3
"""gen.py ITEMS FEEDBACK OUTDIR: the prioritization benchmark's data.

Writes, deterministically (seed 7):
  backlog.csv    ITEMS items: 8 areas, 4 made-up words of its own each (in
                 its title and description), effort, RICE on 3 in 4, 3% shipped
  feedback.csv   FEEDBACK rows: 6-12 common words and 2-3 of one item's words
                 (10% about no item), 15% with the item_id given, an account
  events.ndjson  telemetry for 60 days: 3,000 users in 600 accounts (group
                 calls with ARR), one catalog event a user a day, and events
                 carrying the shipped items' item_id
  aipm.yaml      the catalog (two features per area)
  truth.json     each feedback row's item (null: none)
Standard library only.
"""
import json
import os
import random
import sys

AREAS = ["reporting", "dashboards", "alerts", "data", "admin",
         "collaboration", "billing", "mobile"]
SYL = ["zor", "blax", "ven", "tri", "mok", "qua", "dex", "lum", "pir", "sna",
       "gol", "fen", "rik", "taz", "bru", "xel", "nox", "vim", "kra", "dul",
       "sep", "yor", "zin", "pla", "gru", "wex", "tok", "mir", "jas", "cor",
       "hul", "bex", "fra", "lod", "sku", "tev", "oma", "rin", "pux", "gav"]
COMMON = ["please", "export", "slow", "need", "would", "love", "dashboard",
          "team", "report", "broken", "again", "customers", "when", "really",
          "fast", "help", "missing", "can", "we", "get", "better", "option",
          "page", "data", "every", "time", "our", "users", "want", "manager",
          "keeps", "failing", "asked", "about", "still", "waiting", "great",
          "feature", "hard", "find", "setting", "the"]
DAY0 = 20390  # 2025-10-30
DAYS = 60


def date(day):
    import datetime
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=day)).isoformat()


def main():
    n_items, n_fb, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    r = random.Random(7)
    os.makedirs(out, exist_ok=True)
    used = set(COMMON) | set(AREAS)
    items = []
    for i in range(n_items):
        words = []
        while len(words) < 4:
            w = "".join(r.choice(SYL) for _ in range(r.choice((2, 3, 3, 4))))
            if w not in used:
                used.add(w)
                words.append(w)
        area = r.choice(AREAS)
        shipped = r.random() < 0.03
        items.append({
            "id": "IT-%d" % (i + 1), "area": area, "words": words,
            "title": "Faster %s for %s with %s" % (words[0], area, words[1]),
            "desc": "Customers want %s alongside %s, so that %s work gets done." % (words[2], words[3], area),
            "effort": round(max(0.5, min(20, r.lognormvariate(1.1, 0.8))) * 2) / 2,
            "value": r.lognormvariate(2.5, 0.6),
            "shipped": shipped,
            "ship_day": DAY0 + r.randint(5, DAYS - 25) if shipped else None,
            "created": DAY0 - r.randint(10, 200),
        })
    with open(os.path.join(out, "backlog.csv"), "w") as f:
        f.write("id,title,description,area,effort,status,created_at,shipped_at,feature_key,reach,impact,confidence\n")
        for it in items:
            rice = ["", "", ""]
            if r.random() < 0.75:
                rice = [str(round(it["value"] * 40 * r.lognormvariate(0, 0.5))),
                        r.choice(["0.25", "0.5", "1", "2", "3"]), r.choice(["0.5", "0.8", "1"])]
            status = "shipped" if it["shipped"] else r.choice(["idea", "planned", "in_progress", "dropped"])
            f.write("%s,%s,%s,%s,%s,%s,%s,%s,,%s\n" % (
                it["id"], it["title"], '"%s"' % it["desc"], it["area"], it["effort"], status,
                date(it["created"]), date(it["ship_day"]) if it["shipped"] else "", ",".join(rice)))
    truth = {}
    with open(os.path.join(out, "feedback.csv"), "w") as f:
        f.write("id,created_at,source,text,user_id,account_id,score,item_id\n")
        for k in range(n_fb):
            it = None if r.random() < 0.1 else items[int(n_items * r.random() ** 1.5)]
            words = [r.choice(COMMON) for _ in range(r.randint(6, 12))]
            if it:
                words += r.sample(it["words"], r.randint(2, 3))
            r.shuffle(words)
            fid = "FB-%d" % (k + 1)
            truth[fid] = it["id"] if it else None
            given = it["id"] if it and r.random() < 0.15 else ""
            user = r.randrange(3000)
            f.write("%s,%s,support,%s,u-%d,acct-%d,,%s\n" % (
                fid, date(DAY0 - r.randint(0, 300) + DAYS), " ".join(words), user, user // 5, given))
    with open(os.path.join(out, "truth.json"), "w") as f:
        json.dump({"item_of": truth}, f)
    n = 0
    with open(os.path.join(out, "events.ndjson"), "w") as f:
        def ev(kind, user, day, sec, extra):
            nonlocal n
            n += 1
            ts = "%sT%02d:%02d:%02dZ" % (date(day), sec // 3600, sec // 60 % 60, sec % 60)
            f.write('{"type":"%s","messageId":"m%d","userId":"u-%d","timestamp":"%s",%s}\n' % (kind, n, user, ts, extra))
        for u in range(3000):
            a = u // 5
            ev("group", u, DAY0, 60, '"groupId":"acct-%d","traits":{"plan":"%s","arr":%d}' % (
                a, "enterprise" if a % 10 == 0 else "pro", 50000 if a % 10 == 0 else 6000))
        for day in range(DAY0, DAY0 + DAYS):
            for u in range(3000):
                if r.random() < 0.4:
                    area = AREAS[u % len(AREAS)]
                    ev("track", u, day, 3600 + u, '"event":"%s Viewed","properties":{}' % area.capitalize())
            for it in items:
                if it["shipped"] and day >= it["ship_day"]:
                    for _ in range(int(r.gauss(1200 * it["value"] / 10000, 1) + 0.5)):
                        ev("track", r.randrange(3000), day, 7200, '"event":"Item Used","properties":{"item_id":"%s"}' % it["id"])
    with open(os.path.join(out, "aipm.yaml"), "w") as f:
        f.write("product: bench\nstore: aipm.db\ncatalog:\n")
        for a in AREAS:
            f.write("  - {key: %s_home, area: %s, events: [%s Viewed]}\n" % (a, a, a.capitalize()))
        f.write("policies:\n  data: {max_quarantine_share: 0.05, on_schema_change: warn}\n")


if __name__ == "__main__":
    main()
