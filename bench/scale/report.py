#!/usr/bin/python3
"""report.py LAST_JSON PNG DATE MACHINE REV < rows

Each stdin row: events backend total ingest_s ingest_rss_kb first_s
analyze_s analyze_rss_kb store_bytes. Prints the table (with each
backend's time as a ratio to SQLite's at the same size), writes the JSON
and the cost curve (seconds against events, log-log) as a PNG."""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

last, png, date, machine, rev = sys.argv[1:6]
rows = []
for line in sys.stdin:
    f = line.split()
    if len(f) != 9:
        continue
    rows.append({"events": int(f[0]), "backend": f[1], "rows": int(f[2]),
                 "ingest_s": float(f[3]), "ingest_rss_mb": int(f[4]) / 1024,
                 "first_analysis_s": float(f[5]), "analysis_s": float(f[6]),
                 "analysis_rss_mb": int(f[7]) / 1024,
                 "store_mb": int(f[8]) / 1e6})
ref = {r["events"]: r for r in rows if r["backend"] == "sqlite"}
print("%-10s %-7s %9s %11s %8s %10s %9s %8s %9s" % (
    "events", "store", "ingest s", "events/s", "vs sqlite", "1st anl s",
    "analyze s", "vs sqlite", "store MB"))
for r in rows:
    s = ref.get(r["events"])
    r["events_per_s"] = r["rows"] / r["ingest_s"] if r["ingest_s"] else 0
    r["ingest_ratio"] = r["ingest_s"] / s["ingest_s"] if s and s["ingest_s"] else None
    r["analysis_ratio"] = r["analysis_s"] / s["analysis_s"] if s and s["analysis_s"] else None
    print("%-10d %-7s %9.2f %11.0f %8s %10.2f %9.2f %8s %9.0f" % (
        r["events"], r["backend"], r["ingest_s"], r["events_per_s"],
        "%.2f" % r["ingest_ratio"] if r["ingest_ratio"] else "-",
        r["first_analysis_s"], r["analysis_s"],
        "%.2f" % r["analysis_ratio"] if r["analysis_ratio"] else "-",
        r["store_mb"]))
json.dump({"date": date, "machine": machine, "git_rev": rev, "rows": rows},
          open(last, "w"), indent=2)

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for backend in sorted({r["backend"] for r in rows}):
    pts = sorted((r for r in rows if r["backend"] == backend), key=lambda r: r["events"])
    xs = [r["events"] for r in pts]
    axes[0].plot(xs, [r["ingest_s"] for r in pts], "o-", label=backend)
    axes[1].plot(xs, [r["analysis_s"] for r in pts], "o-", label=backend)
for ax, title in zip(axes, ("ingest", "experiment analysis (read-only)")):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("events")
    ax.set_ylabel("seconds")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
fig.suptitle("aipm bench/scale, %s, %s" % (machine, date[:10]))
fig.tight_layout()
fig.savefig(png, dpi=100)
print("bench/scale: wrote %s and %s" % (last, png), file=sys.stderr)
