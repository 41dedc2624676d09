#!/usr/bin/python3
"""bench/simulate's peer: the scenario Monte Carlo of sim_bench.c written
the way a data team would in numpy, vectorized over draws and items, with
the same problem (sim_bench.c's make(), here problem()), the same model
and the same summaries. Its own random numbers (numpy's default_rng,
PCG64), so the two agree in distribution, not draw by draw.

Per chunk of draws (CHUNK, default 4096: 6.5 MB an items x draws array;
smaller chunks were faster here, up to about that size):
the posterior's s = sqrt(bn / Gamma(an)) and z, then Y = M + s (A Z + E)
for all items at once, value = expm1(max(Y, 0)) (the same as max(0,
expm1(Y))), efforts effort exp(sd H), the overrides, objectives W @ V +
C @ shared and efforts B @ effort by matrix products (numpy's BLAS).
Then the summaries over the kept 20 x DRAWS objectives: np.mean,
np.quantile (type 7), CVaR as the mean of np.partition's lowest
ceil(0.05 n), P(loss) against scenario 0 and the P(a beats b) matrix by
comparison. Only that is timed (the problem's making is not), by phase.

After the timing, not timed: the standard errors the run script needs
to compare with aipm's figures (the means' from the draws' sd, the
quantiles' from sqrt(p (1 - p) / n) / density, the density from the
quantiles 0.01 either side; CVaR's by Chen 2008's formula).

usage: numpy_ref.py DRAWS [CHUNK [SEED]]"""
import json
import math
import resource
import sys
import time

import numpy as np

P, ITEMS, SCENARIOS, SHARED = 8, 200, 20, 5
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
GOLD = np.uint64(0x9E3779B97F4A7C15)


def unit(kind, a, b):
    """sim_bench.c's unit(): splitmix64 of kind << 48 | a << 24 | b."""
    z = np.uint64((kind << 48 | a << 24 | b) & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        z = z + GOLD
        z = (z ^ (z >> np.uint64(30))) * M1
        z = (z ^ (z >> np.uint64(27))) * M2
        z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


def problem():
    """The doubles sim_bench.c's make() makes, in the same order of + and *."""
    mn = np.array([2.0, 0.35, 0.25, 0.15, -0.1, 0.2, 0.3, 0.1])
    L = np.zeros((P, P))
    for i in range(P):
        for j in range(i):
            L[i, j] = 0.04 * (unit(1, i, j) - 0.5)
        L[i, i] = 0.05 + 0.05 * unit(1, i, i)
    an, bn = 50.5, 18.25
    X = np.zeros((ITEMS, P))
    effort = np.zeros(ITEMS)
    fixed_v = np.zeros(ITEMS, bool)
    fixed_e = np.zeros(ITEMS, bool)
    value = np.zeros(ITEMS)
    for i in range(ITEMS):
        X[i, 0] = 1
        for j in range(1, P):
            X[i, j] = 3 * unit(2, i, j) - 1.5
        effort[i] = 1 + 9 * unit(3, i, 0)
        if i % 25 == 7:
            fixed_v[i], value[i] = True, 20.0
        if i % 40 == 11:
            fixed_e[i] = True
    mu = np.array([2 + 8 * unit(4, j, 0) for j in range(SHARED)])
    sd = np.array([1 + 4 * unit(4, j, 1) for j in range(SHARED)])
    W = np.zeros((SCENARIOS, ITEMS))
    C = np.zeros((SCENARIOS, SHARED))
    cap = np.zeros(SCENARIOS)
    for s in range(SCENARIOS):
        e = 0.0
        for i in range(ITEMS):
            if unit(5, s, i) >= 0.5:
                continue
            W[s, i] = 1.0 if unit(6, s, i) < 0.8 else 0.25 + 0.5 * unit(7, s, i)
            e += effort[i]
        for j in range(SHARED):
            C[s, j] = 20.0 if unit(8, s, j) < 0.4 else 0.0
        cap[s] = 1.15 * e
    return dict(mn=mn, L=L, an=an, bn=bn, X=X, effort=effort, fixed_v=fixed_v,
                fixed_e=fixed_e, value=value, mu=mu, sd=sd, W=W, C=C, cap=cap,
                effort_log_sd=0.5)


def digest(pb):
    """sim_bench.c's print_problem(): sums in the same order, to the bit."""
    x = chol = effort = 0.0
    for v in pb["L"].ravel():
        chol += float(v)
    for i in range(ITEMS):
        for j in range(P):
            x += float(pb["X"][i, j])
        effort += float(pb["effort"][i])
    w, c = [], []
    for s in range(SCENARIOS):
        ws = cs = 0.0
        for i in range(ITEMS):
            ws += float(pb["W"][s, i])
        for j in range(SHARED):
            cs += float(pb["C"][s, j])
        w.append(ws)
        c.append(cs)
    shared = []
    for j in range(SHARED):
        shared += [float(pb["mu"][j]), float(pb["sd"][j])]
    return {"x_sum": x, "chol_sum": chol, "effort_sum": effort,
            "capacity": [float(v) for v in pb["cap"]], "weight_sum": w,
            "coef_sum": c, "shared": shared}


def blas_library():
    """The BLAS numpy's matrix products run on: the library mapped into
    this process (numpy's build config names only the interface)."""
    np.ones((64, 64)) @ np.ones((64, 64))
    with open("/proc/self/maps") as f:
        libs = [line.split()[-1] for line in f if ".so" in line]
    for lib in libs:
        name = lib.rsplit("/", 1)[-1]
        if "blas" in name or "mkl" in name or "blis" in name:
            return lib
    return "unknown"


def simulate(pb, n, chunk, seed):
    t = {"rng": 0.0, "value_effort": 0.0, "matmul": 0.0, "summaries": 0.0}
    clock = time.perf_counter
    rng = np.random.default_rng(seed)
    M = pb["X"] @ pb["mn"]           # m_i = x_i' mn
    A = pb["X"] @ pb["L"]            # rows a_i' = (L' x_i)'
    W, C, cap = pb["W"], pb["C"], pb["cap"]
    B = (W > 0).astype(np.float64)   # an item's effort counts in full
    fv, fe = pb["fixed_v"], pb["fixed_e"]
    eff0 = pb["effort"][:, None]
    sig = pb["effort_log_sd"]
    D = np.empty((SCENARIOS, n))
    eff_sum = np.zeros(SCENARIOS)
    over = np.zeros(SCENARIOS)
    for c0 in range(0, n, chunk):
        c = min(chunk, n - c0)
        t0 = clock()
        s = np.sqrt(pb["bn"] / rng.gamma(pb["an"], 1.0, c))
        Z = rng.standard_normal((P, c))
        E = rng.standard_normal((ITEMS, c))
        H = rng.standard_normal((ITEMS, c))
        U = rng.standard_normal((SHARED, c))
        t1 = clock()
        Y = A @ Z
        t2 = clock()
        Y += E
        Y *= s
        Y += M[:, None]
        np.maximum(Y, 0.0, out=Y)
        np.expm1(Y, out=Y)
        Y[fv] = pb["value"][fv, None]
        H *= sig
        np.exp(H, out=H)
        H *= eff0
        H[fe] = eff0[fe]
        U *= pb["sd"][:, None]
        U += pb["mu"][:, None]
        t3 = clock()
        obj = W @ Y
        obj += C @ U
        D[:, c0:c0 + c] = obj
        tot = B @ H
        t4 = clock()
        eff_sum += tot.sum(axis=1)
        over += (tot > cap[:, None]).sum(axis=1)
        t5 = clock()
        t["rng"] += t1 - t0
        t["matmul"] += (t2 - t1) + (t4 - t3)
        t["value_effort"] += (t3 - t2) + (t5 - t4)
    t0 = clock()
    mean = D.mean(axis=1)
    q = np.quantile(D, [0.1, 0.5, 0.9], axis=1)
    k = math.ceil(0.05 * n)
    cvar = np.partition(D, k - 1, axis=1)[:, :k].mean(axis=1)
    p_loss = (D < D[0]).mean(axis=1)
    beats = np.empty((SCENARIOS, SCENARIOS))
    for a in range(SCENARIOS):
        beats[a] = (D[a] > D).mean(axis=1)
    t["summaries"] = clock() - t0
    out = {"mean": mean, "p10": q[0], "p50": q[1], "p90": q[2], "cvar": cvar,
           "p_loss": p_loss, "p_over": over / n, "effort_mean": eff_sum / n,
           "beats": beats}
    return D, out, t


def standard_errors(D, cvar):
    """The Monte Carlo standard errors of each scenario's summaries."""
    n = D.shape[1]
    se = {"mean": D.std(axis=1, ddof=1) / math.sqrt(n)}
    for p, name in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
        lo, hi = np.quantile(D, [p - 0.01, p + 0.01], axis=1)
        se[name] = math.sqrt(p * (1 - p) / n) * (hi - lo) / 0.02
    k = math.ceil(0.05 * n)
    low = np.partition(D, k - 1, axis=1)[:, :k]
    q = low.max(axis=1)
    se["cvar"] = np.sqrt((low.var(axis=1) + 0.95 * (q - cvar) ** 2) / k)
    return se


def main():
    n = int(sys.argv[1])
    chunk = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20261207
    pb = problem()
    t0 = time.perf_counter()
    D, out, phases = simulate(pb, n, chunk, seed)
    total = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    se = standard_errors(D, out["cvar"])
    res = {"impl": "numpy", "numpy": np.__version__, "blas": blas_library(),
           "problem": digest(pb), "threads": 1, "draws": n,
           "items": ITEMS, "scenarios": SCENARIOS, "shared": SHARED,
           "chunk": chunk, "seconds": total,
           "draw_seconds": total - phases["summaries"],
           "summary_seconds": phases["summaries"],
           "phase_seconds": phases, "peak_rss_kb": rss}
    for key, v in out.items():
        res[key] = v.tolist()
    res["se"] = {key: v.tolist() for key, v in se.items()}
    print(json.dumps(res))


main()
