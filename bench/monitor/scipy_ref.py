#!/usr/bin/python3
"""bench/monitor's peer: the same features (drift_bench.c's make(), in
numpy) compared with scipy.stats.ks_2samp, scipy.stats.wasserstein_distance
normed by np.std of the reference, and PSI over numpy's Sturges bins with
Evidently's fill of empty shares. Only the statistics are timed.

usage: scipy_ref.py FEATURES ROWS"""
import json
import resource
import sys
import time

import numpy as np
from scipy import stats

M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
GOLD = np.uint64(0x9E3779B97F4A7C15)


def splitmix(x):
    z = x + GOLD
    z = (z ^ (z >> np.uint64(30))) * M1
    z = (z ^ (z >> np.uint64(27))) * M2
    return z ^ (z >> np.uint64(31))


def unit(h):
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def make(n, k, s):
    base = np.uint64((k * 2 + s + 1) << 40)
    i = np.arange(n, dtype=np.uint64)
    u = unit(splitmix(base + np.uint64(2) * i))
    scale = 1.0 + k % 7
    shift = 0.05 * scale if (s and k % 2) else 0.0
    if k % 3 == 0:
        w = u
    elif k % 3 == 1:
        w = (u + unit(splitmix(base + np.uint64(2) * i + np.uint64(1)))) / 2
    else:
        w = np.floor(u * 1000.0) / 1000.0
    return w * scale + shift


def psi(ref, cur):
    bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    r = np.histogram(ref, bins)[0] / len(ref)
    c = np.histogram(cur, bins)[0] / len(cur)
    for p in (r, c):
        m = min(p[p != 0])
        np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return float(np.sum((r - c) * np.log(r / c)))


def main():
    f, n = int(sys.argv[1]), int(sys.argv[2])
    total = 0.0
    for k in range(f):
        ref, cur = make(n, k, 0), make(n, k, 1)
        t0 = time.perf_counter()
        ks = stats.ks_2samp(ref, cur)
        w = stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
        p = psi(ref, cur)
        t = time.perf_counter() - t0
        total += t
        print(json.dumps({"feature": k, "ks_d": float(ks.statistic),
                          "ks_p": float(ks.pvalue), "wasserstein_norm": float(w),
                          "psi": p, "seconds": t}), flush=True)
    print(json.dumps({"total_seconds": total,
                      "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


main()
