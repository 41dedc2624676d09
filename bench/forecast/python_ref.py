#!/usr/bin/python3
"""python_ref.py DIR: the adoption-forecast benchmark's peer, the Bass part
the way a data team would write it, on DIR/series.csv (gen.py's daily new
adopters per feature and segment from launch to the last day).

Per feature x segment, scipy.optimize.curve_fit of the per-period Bass
model y_t = m (F(t) - F(t-1)), F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p)
e^{-(p+q)t}), t = 1..n days since launch (p0 = [0.01, 0.2, 1.5 x total],
bounds p, q, m > 0), twice, as aipm does: on all n days (the forecast fit)
and without the last min(30, n // 3) days (the backtest fit). A series
without adopters is skipped (aipm does not fit it either).
Prints one JSON object: series, fits, fit_seconds (time in curve_fit
only), load_seconds, failed, p_median, q_median (of the forecast fits) and
per_series {"f/s": [p, q, m]} of the forecast fits.
"""
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeWarning, curve_fit


def bass_period(t, p, q, m):
    def F(x):
        e = np.exp(-(p + q) * x)
        return (1 - e) / (1 + (q / p) * e)
    return m * (F(t) - F(t - 1))


def main():
    d = sys.argv[1]
    t0 = time.perf_counter()
    df = pd.read_csv(d + "/series.csv")
    df = df.sort_values(["feature", "segment", "day"])
    series = [(f, s, g["adopters"].to_numpy(dtype=float)) for (f, s), g in df.groupby(["feature", "segment"], sort=True)]
    load = time.perf_counter() - t0
    fit_s, fits, failed, per = 0.0, 0, 0, {}
    warnings.simplefilter("ignore", OptimizeWarning)
    for f, s, y in series:
        n = len(y)
        if n < 4 or y.sum() <= 0:
            continue
        for cut in (n, n - min(30, n // 3)):
            yy = y[:cut]
            if cut < 4 or yy.sum() <= 0:
                continue
            t = np.arange(1, cut + 1, dtype=float)
            fits += 1
            a = time.perf_counter()
            try:
                popt, _ = curve_fit(bass_period, t, yy, p0=[0.01, 0.2, 1.5 * yy.sum()],
                                    bounds=([1e-6, 1e-6, 1e-9], [1, 5, np.inf]), maxfev=10000)
            except (RuntimeError, ValueError):
                popt = None
            fit_s += time.perf_counter() - a
            if popt is None or not np.all(np.isfinite(popt)):
                failed += 1
            elif cut == n:
                per["%s/%s" % (f, s)] = [float(v) for v in popt]
    ps = [v[0] for v in per.values()]
    qs = [v[1] for v in per.values()]
    print(json.dumps({"series": len(series), "fits": fits, "fit_seconds": fit_s, "load_seconds": load,
                      "failed": failed, "p_median": float(np.median(ps)) if ps else None,
                      "q_median": float(np.median(qs)) if qs else None, "per_series": per}))


if __name__ == "__main__":
    main()
