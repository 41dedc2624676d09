#!/usr/bin/env python3
"""Deterministic generator of Segment-spec track events for the ingest bench.

Usage: gen.py N OUT_NDJSON OUT_CSV

Writes the SAME N rows twice:
  * OUT_NDJSON: one JSON object per line (what `aipm ingest events` reads)
  * OUT_CSV:    header `messageId,type,userId,event,timestamp,properties`,
                properties = the JSON object text, CSV-quoted (the sqlite3 peer)

Properties of the data (stable across runs, seed fixed):
  * ~20 event names with a skewed frequency, ~200k users (skewed activity)
  * timestamps uniform over the 90 days before 2026-11-20T00:00:00Z
    (2026-08-22T00:00:00.000Z .. 2026-11-19T23:59:59.999Z), not sorted
  * every messageId unique: m-000000001 .. m-<N>
  * each property key has one JSON type everywhere it appears
  * ~200-300 bytes per NDJSON line
Python 3 standard library only.
"""
import datetime
import os
import random
import sys

GEN_VERSION = "1"
SEED = 20261120
CHUNK = 50_000
N_USERS = 200_000
DAYS = 90
END = datetime.date(2026, 11, 20)

# (event name, relative weight, property keys used). Key types are global and
# fixed: see PROP_TYPES below.
EVENTS = [
    ("Page Viewed", 30, ("path", "referrer", "plan")),
    ("Signed In", 8, ("method", "plan")),
    ("Signed Up", 1, ("method", "plan", "trial")),
    ("Report Exported", 4, ("plan", "count", "item_id", "format")),
    ("Report Viewed", 10, ("plan", "item_id", "duration_ms")),
    ("Dashboard Created", 2, ("plan", "item_id", "count")),
    ("Dashboard Viewed", 12, ("plan", "item_id", "duration_ms")),
    ("Filter Applied", 9, ("plan", "count", "path")),
    ("Search Performed", 7, ("plan", "count", "query_len")),
    ("Item Shared", 2, ("plan", "item_id", "method")),
    ("Comment Added", 3, ("plan", "item_id", "query_len")),
    ("Invite Sent", 1, ("plan", "count", "method")),
    ("Plan Upgraded", 1, ("plan", "amount", "trial")),
    ("Plan Downgraded", 1, ("plan", "amount")),
    ("Checkout Started", 1, ("plan", "amount", "item_id")),
    ("Order Completed", 1, ("plan", "amount", "count", "item_id")),
    ("Integration Connected", 1, ("plan", "method", "item_id")),
    ("Alert Triggered", 3, ("plan", "item_id", "count")),
    ("Settings Updated", 2, ("plan", "path", "trial")),
    ("Signed Out", 2, ("method", "plan")),
]

PLANS = ("free", "free", "free", "starter", "pro", "pro", "enterprise")
METHODS = ("email", "google", "github", "sso", "link")
PATHS = ("/home", "/reports", "/dashboards", "/settings", "/billing",
         "/search", "/integrations", "/alerts", "/team", "/docs/getting-started")
REFERRERS = ("https://www.google.com/", "https://news.ycombinator.com/",
             "https://github.com/", "direct", "https://twitter.com/")
FORMATS = ("csv", "pdf", "xlsx", "png")
ITEM_PREFIX = ("BL", "RP", "DB", "AL", "IN")
LIBS = ('{"name":"analytics.js","version":"4.1.0"}',
        '{"name":"analytics-node","version":"6.2.0"}',
        '{"name":"analytics-python","version":"2.3.2"}')


def prop_fragment(key, r):
    """Return the `"key":value` text; each key always has the same JSON type."""
    rnd = r.random
    if key == "plan":        # string
        return '"plan":"%s"' % PLANS[int(rnd() * len(PLANS))]
    if key == "count":       # integer
        return '"count":%d' % (1 + int(rnd() * rnd() * 50))
    if key == "item_id":     # string
        return '"item_id":"%s-%d"' % (ITEM_PREFIX[int(rnd() * 5)], int(rnd() * 5000))
    if key == "format":      # string
        return '"format":"%s"' % FORMATS[int(rnd() * len(FORMATS))]
    if key == "duration_ms": # integer
        return '"duration_ms":%d' % int(50 + rnd() * rnd() * 120000)
    if key == "path":        # string
        return '"path":"%s"' % PATHS[int(rnd() * len(PATHS))]
    if key == "referrer":    # string
        return '"referrer":"%s"' % REFERRERS[int(rnd() * len(REFERRERS))]
    if key == "method":      # string
        return '"method":"%s"' % METHODS[int(rnd() * len(METHODS))]
    if key == "trial":       # boolean
        return '"trial":%s' % ("true" if rnd() < 0.3 else "false")
    if key == "query_len":   # integer
        return '"query_len":%d' % (1 + int(rnd() * 80))
    if key == "amount":      # number (float, 2 decimals)
        return '"amount":%.2f' % (9 + rnd() * 990)
    raise KeyError(key)


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: gen.py N OUT_NDJSON OUT_CSV\n")
        return 2
    n = int(argv[1])
    if n < 1 or n > 999_999_999:
        sys.stderr.write("gen.py: N must be in 1..999999999\n")
        return 2
    out_json, out_csv = argv[2], argv[3]

    r = random.Random(SEED)
    rnd = r.random
    names = [e[0] for e in EVENTS]
    weights = [e[1] for e in EVENTS]
    keys_of = {e[0]: e[2] for e in EVENTS}
    start = END - datetime.timedelta(days=DAYS)
    day_str = [(start + datetime.timedelta(days=d)).isoformat() for d in range(DAYS)]
    hh = ["%02d" % i for i in range(24)]
    mm = ["%02d" % i for i in range(60)]
    # User activity is skewed: low ids are the heavy users.
    tmp_json, tmp_csv = out_json + ".tmp", out_csv + ".tmp"
    with open(tmp_json, "w", buffering=1 << 22, newline="\n") as fj, \
         open(tmp_csv, "w", buffering=1 << 22, newline="\n") as fc:
        fc.write("messageId,type,userId,event,timestamp,properties\n")
        i = 0
        while i < n:
            k = min(CHUNK, n - i)
            evs = r.choices(names, weights=weights, k=k)
            jl, cl = [], []
            for ev in evs:
                i += 1
                mid = "m-%09d" % i
                uid = "u-%d" % (1 + int(N_USERS * rnd() ** 1.6))
                t = int(rnd() * 86_400_000)
                ts = "%sT%s:%s:%s.%03dZ" % (
                    day_str[int(rnd() * DAYS)], hh[t // 3_600_000],
                    mm[(t // 60_000) % 60], mm[(t // 1000) % 60], t % 1000)
                props = "{" + ",".join([prop_fragment(key, r) for key in keys_of[ev]]) + "}"
                lib = LIBS[int(rnd() * 3)]
                jl.append(
                    '{"type":"track","messageId":"%s","userId":"%s","event":"%s",'
                    '"timestamp":"%s","properties":%s,"context":{"library":%s}}\n'
                    % (mid, uid, ev, ts, props, lib))
                cl.append('%s,track,%s,%s,%s,"%s"\n'
                          % (mid, uid, ev, ts, props.replace('"', '""')))
            fj.write("".join(jl))
            fc.write("".join(cl))
    os.replace(tmp_json, out_json)
    os.replace(tmp_csv, out_csv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
