#!/usr/bin/python3
"""pandas_analysis.py DB KEY METRIC_EVENT START_MS END_MS [CONTROL] > out.json

The same analysis as `aipm experiment analyze KEY` for one `count`
metric, written the way a data team would: pandas + scipy on the events
read from the same SQLite store. Run with Debian's /usr/bin/python3
(python3-pandas, python3-scipy).

Exposure: a user's first `Experiment Viewed` with this experiment_id in
[START, END); users who saw more than one variation are excluded. Metric:
the user's METRIC_EVENT events with first exposure <= ts < END (0 if none).
Welch's t-test (scipy.stats.ttest_ind_from_stats, equal_var=False) and the
relative lift of each variation against CONTROL (default: "control").
"""
import json
import sqlite3
import sys

import pandas as pd
from scipy import stats


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    db, key, metric_event = sys.argv[1], sys.argv[2], sys.argv[3]
    start, end = int(sys.argv[4]), int(sys.argv[5])
    control = sys.argv[6] if len(sys.argv) == 7 else "control"

    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    df = pd.read_sql(
        "SELECT user_id, event, ts, payload FROM v_events"
        " WHERE event IN ('Experiment Viewed', ?)",
        con, params=(metric_event,))
    con.close()

    # Exposures: parse the payload, keep this experiment within the window.
    ev = df[df["event"] == "Experiment Viewed"]
    props = ev["payload"].map(json.loads)
    ev = pd.DataFrame({
        "user_id": ev["user_id"].values,
        "ts": ev["ts"].values,
        "experiment_id": props.map(lambda p: p.get("experiment_id")).values,
        "variation_id": props.map(lambda p: p.get("variation_id")).values,
    })
    ev = ev[(ev["experiment_id"] == key) & (ev["ts"] >= start) &
            (ev["ts"] < end) & ev["user_id"].notna()]
    expo = ev.groupby("user_id").agg(
        t0=("ts", "min"), variation=("variation_id", "min"),
        nv=("variation_id", "nunique"))
    multi = int((expo["nv"] > 1).sum())
    expo = expo[expo["nv"] == 1].drop(columns="nv")

    # Metric events after first exposure, counted per user (0 if none).
    me = df.loc[df["event"] == metric_event, ["user_id", "ts"]]
    del df
    m = me.merge(expo[["t0"]], left_on="user_id", right_index=True,
                 how="inner")
    m = m[(m["ts"] >= m["t0"]) & (m["ts"] < end)]
    per_user = m.groupby("user_id").size()
    expo["y"] = per_user.reindex(expo.index, fill_value=0).astype("float64")

    g = expo.groupby("variation")["y"].agg(["count", "mean", "std", "sum"])
    g["sum_sq"] = (expo["y"] ** 2).groupby(expo["variation"]).sum()

    out = {"multi_exposed_units": multi, "variations": []}
    c = g.loc[control]
    for v, r in g.iterrows():
        row = {"key": v, "units": int(r["count"]), "mean": float(r["mean"]),
               "stddev": float(r["std"]), "sum": float(r["sum"]),
               "sum_sq": float(r["sum_sq"])}
        if v != control:
            t = stats.ttest_ind_from_stats(
                r["mean"], r["std"], r["count"], c["mean"], c["std"],
                c["count"], equal_var=False)
            row["lift_abs"] = float(r["mean"] - c["mean"])
            row["lift_rel"] = float(r["mean"] / c["mean"] - 1)
            row["t"] = float(t.statistic)
            row["p_value"] = float(t.pvalue)
        out["variations"].append(row)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
