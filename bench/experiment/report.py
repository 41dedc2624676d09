#!/usr/bin/python3
"""report.py OUT_JSON RESULTS_DIR KEY=VALUE...

Reads RESULTS_DIR/{aipm,sqlite3,aipm_sql,pandas}.out (the last two
optional), checks that the analyses agree per variation (units exactly; mean, and the
relative lift against pandas, to a relative 1e-9; the multi-exposed units
excluded), prints the table and writes OUT_JSON. Exit 1 when they disagree.
KEY:=VALUE stores a number, KEY=VALUE a string. Standard library only.
"""
import json
import os
import sys

TARGET_SQL_RATIO = 1.5      # aipm seconds / bare SQL seconds: at most
TARGET_PANDAS_RATIO = 10.0  # pandas seconds / aipm seconds: at least
REL_TOL = 1e-9


def num(v):
    for t in (int, float):
        try:
            return t(v)
        except ValueError:
            pass
    return v


def close(a, b):
    if a is None or b is None:
        return False
    return abs(a - b) <= REL_TOL * max(1.0, abs(a), abs(b))


def load_aipm(path):
    d = json.load(open(path))
    m = d["metrics"][0]
    out = {"multi": d["exposure"]["multi_exposed_units"],
           "verdict": d["verdict"]["decision"], "vars": {}}
    for v in m["variations"]:
        out["vars"][v["key"]] = {"units": v["units"], "mean": v["mean"],
                                 "lift_rel": v.get("lift_rel"),
                                 "p_value": v.get("p_value")}
    return out


def load_sqlite(path):
    out = {"multi": 0, "vars": {}}
    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            continue
        f = line.split("|")
        if len(f) < 4:
            raise ValueError("unexpected sqlite3 output line: %r" % line)
        n = int(f[1])
        if f[0] == "":
            out["multi"] = n
            continue
        s, ss = float(f[2]), float(f[3])
        out["vars"][f[0]] = {"units": n, "mean": s / n if n else None,
                             "sum": s, "sum_sq": ss}
    return out


def load_pandas(path):
    d = json.load(open(path))
    out = {"multi": d["multi_exposed_units"], "vars": {}}
    for v in d["variations"]:
        out["vars"][v["key"]] = v
    return out


def compare(a, s, p):
    errors = []
    peers = [("sqlite3", s)] + ([("pandas", p)] if p else [])
    for name, o in peers:
        if set(o["vars"]) != set(a["vars"]):
            errors.append("variations differ: aipm %s vs %s %s"
                          % (sorted(a["vars"]), name, sorted(o["vars"])))
            continue
        if o["multi"] != a["multi"]:
            errors.append("multi-exposed units: aipm %s vs %s %s"
                          % (a["multi"], name, o["multi"]))
        for k, av in a["vars"].items():
            ov = o["vars"][k]
            if av["units"] != ov["units"]:
                errors.append("%s units: aipm %s vs %s %s"
                              % (k, av["units"], name, ov["units"]))
            if not close(av["mean"], ov["mean"]):
                errors.append("%s mean: aipm %r vs %s %r"
                              % (k, av["mean"], name, ov["mean"]))
            if name == "pandas" and av["lift_rel"] is not None and \
                    not close(av["lift_rel"], ov.get("lift_rel")):
                errors.append("%s lift_rel: aipm %r vs pandas %r"
                              % (k, av["lift_rel"], ov.get("lift_rel")))
    return errors


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    out, res = argv[1], argv[2]
    d = {}
    for kv in argv[3:]:
        k, _, v = kv.partition("=")
        if k.endswith(":"):
            d[k[:-1]] = num(v)
        else:
            d[k] = v
    try:
        a = load_aipm(os.path.join(res, "aipm.out"))
        s = load_sqlite(os.path.join(res, "sqlite3.out"))
        qp = os.path.join(res, "aipm_sql.out")
        q = load_sqlite(qp) if d.get("aipm_sql_in_sqlite_seconds") and os.path.exists(qp) else None
        pp = os.path.join(res, "pandas.out")
        p = load_pandas(pp) if d.get("pandas_seconds") and os.path.exists(pp) else None
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        print("bench/experiment: ERROR: cannot read the results in %s: %s" % (res, e),
              file=sys.stderr)
        return 1
    errors = compare(a, s, p)
    if q is not None:
        errors += [e.replace("sqlite3", "aipm's SQL in sqlite3")
                   for e in compare(a, q, None)]

    at, st, pt = d["aipm_seconds"], d["sqlite_seconds"], d["pandas_seconds"]
    r_sql = at / st if st > 0 else float("inf")
    r_pd = pt / at if (p and at > 0) else None
    d["aipm_peak_rss_mb"] = round(d["aipm_peak_rss_kb"] / 1024, 1)
    d["sqlite_peak_rss_mb"] = round(d["sqlite_peak_rss_kb"] / 1024, 1)
    d["pandas_peak_rss_mb"] = round(d["pandas_peak_rss_kb"] / 1024, 1) if p else None
    d["ratio_aipm_over_sqlite"] = round(r_sql, 3)
    d["ratio_pandas_over_aipm"] = round(r_pd, 2) if r_pd is not None else None
    d["target_ratio_aipm_over_sqlite_max"] = TARGET_SQL_RATIO
    d["target_ratio_pandas_over_aipm_min"] = TARGET_PANDAS_RATIO
    d["meets_sqlite_target"] = r_sql <= TARGET_SQL_RATIO
    d["meets_pandas_target"] = (r_pd >= TARGET_PANDAS_RATIO) if r_pd is not None else None
    d["verdict"] = a["verdict"]
    d["multi_exposed_units"] = a["multi"]
    d["variations"] = a["vars"]
    d["agree"] = not errors
    d["disagreements"] = errors

    def ok(b):
        return "ok" if b else "MISSED"

    rows = [
        ("aipm experiment analyze", "%.2f" % at, "%.1f" % d["aipm_peak_rss_mb"],
         "verdict %s" % a["verdict"]),
        ("(a) sqlite3 bare GROUP BY", "%.2f" % st, "%.1f" % d["sqlite_peak_rss_mb"],
         "aipm / (a) = %.2f  (target <= %.1f: %s)"
         % (r_sql, TARGET_SQL_RATIO, ok(d["meets_sqlite_target"]))),
    ]
    if q is not None:
        qt = d["aipm_sql_in_sqlite_seconds"]
        d["aipm_sql_in_sqlite_peak_rss_mb"] = round(d["aipm_sql_in_sqlite_peak_rss_kb"] / 1024, 1)
        d["ratio_aipm_sql_over_sqlite"] = round(qt / st, 3) if st > 0 else None
        rows.append(("(ref) aipm's SQL in sqlite3", "%.2f" % qt,
                     "%.1f" % d["aipm_sql_in_sqlite_peak_rss_mb"],
                     "its statement / (a) = %.2f  (reference, no target)"
                     % (qt / st if st > 0 else float("inf"))))
    if p:
        rows.append(("(b) pandas + scipy", "%.2f" % pt, "%.1f" % d["pandas_peak_rss_mb"],
                     "(b) / aipm = %.1f  (target >= %.0f: %s)"
                     % (r_pd, TARGET_PANDAS_RATIO, ok(d["meets_pandas_target"]))))
    else:
        rows.append(("(b) pandas + scipy", "-", "-", "skipped (--no-pandas)"))
    w0 = max(len(r[0]) for r in rows)
    print()
    print("experiment bench: %s users, %s metric events  (%s, %s, nproc %s, SQLite %s, runs %s, median)"
          % (format(d["users"], ","), format(d["events"], ","), d["date"], d["machine"],
             d["nproc"], d["sqlite_version"], d["runs"]))
    print("-" * (w0 + 70))
    print("%-*s  %9s  %12s" % (w0, "", "seconds", "peak RSS MB"))
    for r in rows:
        print("%-*s  %9s  %12s  %s" % (w0, r[0], r[1], r[2], r[3]))
    print()
    print("%-10s %10s %20s %20s %12s" % ("variation", "units", "mean (aipm)", "mean (a)",
                                          "lift_rel"))
    for k, v in a["vars"].items():
        lr = v["lift_rel"]
        print("%-10s %10d %20.12f %20.12f %12s" % (
            k, v["units"], v["mean"], s["vars"].get(k, {}).get("mean") or float("nan"),
            "%+.4f%%" % (100 * lr) if lr is not None else "-"))
    print("multi-exposed units excluded: %d" % a["multi"])
    if errors:
        print()
        print("NUMBERS DISAGREE:")
        for e in errors:
            print("  " + e)
    else:
        print("numbers agree: units, means%s, multi-exposed units (aipm = (a)%s)"
              % (", lift_rel" if p else "", " = (b)" if p else ""))
    with open(out, "w") as f:
        json.dump(d, f, indent=2, sort_keys=True)
        f.write("\n")
    print("wrote %s" % out)
    if errors:
        print("bench/experiment: ERROR: the analyses disagree (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
