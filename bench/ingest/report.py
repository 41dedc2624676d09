#!/usr/bin/env python3
"""report.py MODE OUT_JSON KEY=VALUE...

MODE "ingest": prints the ingest table and writes OUT_JSON.
MODE "rss":    prints the RSS-scaling table and writes OUT_JSON; exits 1 if
               peak RSS grows with N beyond the tolerance below.
KEY:=VALUE stores a number, KEY=VALUE a string. Standard library only.
"""
import json
import sys

TARGET_EPS = 300_000      # events/s
TARGET_RATIO = 1.5        # aipm time / sqlite3 .import time (with key)
# RSS at N may exceed RSS at N/10 by this much and still count as streaming
# (SQLite page cache and allocator arenas fill up to a fixed bound).
RSS_TOL_FACTOR = 1.25
RSS_TOL_MB = 16.0


def num(v):
    for t in (int, float):
        try:
            return t(v)
        except ValueError:
            pass
    return v


def mb(kb):
    return kb / 1024.0


def ingest(d, out):
    n = d["events"]
    a = d["aipm_seconds"]
    k = d["sqlite_import_key_seconds"]
    nk = d["sqlite_import_nokey_seconds"]
    eps = n / a if a > 0 else float("inf")
    ratio = a / k if k > 0 else float("inf")
    d["aipm_events_per_sec"] = round(eps) if eps != float("inf") else None
    d["aipm_peak_rss_mb"] = round(mb(d["aipm_peak_rss_kb"]), 1)
    d["sqlite_import_key_events_per_sec"] = round(n / k) if k > 0 else None
    d["ratio_aipm_over_import_key"] = round(ratio, 3) if ratio != float("inf") else None
    d["target_events_per_sec"] = TARGET_EPS
    d["target_ratio"] = TARGET_RATIO
    d["meets_events_per_sec"] = eps >= TARGET_EPS
    d["meets_ratio"] = ratio <= TARGET_RATIO
    rows = [
        ("events", "%d" % n, ""),
        ("aipm ingest seconds", "%.2f" % a, ""),
        ("aipm events/s", "%.0f" % eps,
         "target >= %d: %s" % (TARGET_EPS, "ok" if d["meets_events_per_sec"] else "MISSED")),
        ("aipm peak RSS MB", "%.1f" % mb(d["aipm_peak_rss_kb"]), ""),
        ("sqlite3 .import seconds (key)", "%.2f" % k,
         "%.0f rows/s, peak RSS %.1f MB" % (n / k if k > 0 else 0, mb(d["sqlite_import_key_peak_rss_kb"]))),
        ("sqlite3 .import seconds (no key)", "%.2f" % nk,
         "%.0f rows/s, peak RSS %.1f MB" % (n / nk if nk > 0 else 0, mb(d["sqlite_import_nokey_peak_rss_kb"]))),
        ("ratio aipm / import(key)", "%.2f" % ratio,
         "target <= %.1f: %s" % (TARGET_RATIO, "ok" if d["meets_ratio"] else "MISSED")),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print()
    print("ingest bench  (%s, %s, nproc %s, runs %s, median)" % (d["date"], d["machine"], d["nproc"], d["runs"]))
    print("-" * (w0 + w1 + 40))
    for a_, b_, c_ in rows:
        print("%-*s  %*s  %s" % (w0, a_, w1, b_, c_))
    print()
    with open(out, "w") as f:
        json.dump(d, f, indent=2, sort_keys=True)
        f.write("\n")
    print("wrote %s" % out)
    return 0


def rss(d, out):
    small, big = d["events_small"], d["events"]
    rs, rb = mb(d["aipm_peak_rss_kb_small"]), mb(d["aipm_peak_rss_kb"])
    limit = rs * RSS_TOL_FACTOR + RSS_TOL_MB
    ok = rb <= limit
    d["aipm_peak_rss_mb_small"] = round(rs, 1)
    d["aipm_peak_rss_mb"] = round(rb, 1)
    d["rss_limit_mb"] = round(limit, 1)
    d["streaming_ok"] = ok
    print()
    print("aipm peak RSS scaling  (%s, %s)" % (d["date"], d["machine"]))
    print("-" * 56)
    print("%12s events  %8.1f MB  (%.2f s)" % (small, rs, d["aipm_seconds_small"]))
    print("%12s events  %8.1f MB  (%.2f s)" % (big, rb, d["aipm_seconds"]))
    print("growth x%.2f for x%.1f events; limit %.1f MB (%.2f x small + %.0f MB): %s"
          % (rb / rs if rs > 0 else 0, big / small, limit, RSS_TOL_FACTOR, RSS_TOL_MB,
             "ok (streaming)" if ok else "FAIL: peak RSS grows with N"))
    print()
    with open(out, "w") as f:
        json.dump(d, f, indent=2, sort_keys=True)
        f.write("\n")
    print("wrote %s" % out)
    return 0 if ok else 1


def main(argv):
    if len(argv) < 3 or argv[1] not in ("ingest", "rss"):
        sys.stderr.write("usage: report.py ingest|rss OUT_JSON KEY=VALUE...\n")
        return 2
    d = {}
    for kv in argv[3:]:
        k, _, v = kv.partition("=")
        if k.endswith(":"):
            d[k[:-1]] = num(v)
        else:
            d[k] = v
    return ingest(d, argv[2]) if argv[1] == "ingest" else rss(d, argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
