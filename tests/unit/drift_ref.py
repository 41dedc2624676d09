#!/usr/bin/python3
"""Reference values for tests/unit/test_drift.c, from scipy and numpy
(Debian 12's python3-scipy 1.10, python3-numpy 1.24), computed the way
Evidently's legacy stattests compute them. Run it to see where each
constant in the test comes from: python3 tests/unit/drift_ref.py"""
import numpy as np
from scipy import stats
from scipy.spatial import distance


def seq(n, mul, mod, scale, shift=0.0):
    # the same integers-based samples the C test makes (exact in both)
    return np.array([((i * mul) % mod) / scale + shift for i in range(n)])


def binned(ref, cur, numerical, fill):
    if numerical and len(np.unique(ref)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        r = np.histogram(ref, bins)[0] / len(ref)
        c = np.histogram(cur, bins)[0] / len(cur)
    else:
        keys = sorted(set(ref) | set(cur))
        r = np.array([np.sum(ref == k) / len(ref) for k in keys])
        c = np.array([np.sum(cur == k) / len(cur) for k in keys])
    if fill:
        for p in (r, c):
            m = min(p[p != 0])
            np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return r, c


def show(name, *v):
    print(name, " ".join(repr(float(x)) for x in v))


a = seq(60, 7919, 1000, 100.0)
b = seq(45, 104729, 1000, 100.0, 2.0)
r = stats.ks_2samp(a, b)
show("ks_unequal D p", r.statistic, r.pvalue)
c = seq(40, 7919, 997, 100.0)
d = seq(40, 6007, 991, 100.0, 4.0)
r = stats.ks_2samp(c, d)
show("ks_equal D p", r.statistic, r.pvalue)
e = seq(12000, 7919, 10007, 1000.0)
f = seq(15000, 6007, 10009, 1000.0, 0.12)
r = stats.ks_2samp(e, f)
show("ks_asymp D p", r.statistic, r.pvalue)
show("kstwobign.sf 0.5 1.0 1.5", stats.kstwobign.sf(0.5), stats.kstwobign.sf(1.0),
     stats.kstwobign.sf(1.5))
w = stats.wasserstein_distance(a, b)
show("wasserstein raw normed", w, w / max(np.std(a), 0.001))
# categorical: chi-square as Evidently's chi_stat_test
ref = np.array([0] * 30 + [1] * 50 + [2] * 20 + [3] * 7)
cur = np.array([0] * 20 + [1] * 45 + [2] * 35 + [3] * 3)
keys = sorted(set(ref) | set(cur))
f_exp = [np.sum(ref == k) * len(cur) / len(ref) for k in keys]
f_obs = [np.sum(cur == k) for k in keys]
r = stats.chisquare(f_obs, f_exp)
show("chisquare stat p", r.statistic, r.pvalue)
# binary: Evidently's proportions z-test
rb = np.array([0] * 70 + [1] * 30)
cb = np.array([0] * 50 + [1] * 50)
n1, n2 = len(rb), len(cb)
p1, p2 = rb.mean(), cb.mean()
P = (p1 * n1 + p2 * n2) / (n1 + n2)
z = (p1 - p2) / np.sqrt(P * (1 - P) * (1 / n1 + 1 / n2))
show("z z p", z, 2 * (1 - stats.norm.cdf(abs(z))))
# numerical shares: sturges bins, with empty bins in the current sample
g = seq(1500, 7919, 1009, 10.0)
h = np.concatenate([seq(700, 6007, 503, 10.0), seq(300, 101, 97, 10.0, 60.0)])
rp, cp = binned(g, h, True, False)
show("js_numerical bins", len(rp))
show("js_numerical", distance.jensenshannon(rp, cp))
rp, cp = binned(g, h, True, True)
show("psi_numerical", np.sum((rp - cp) * np.log(rp / cp)))
rp, cp = binned(ref, cur, False, False)
show("js_categorical", distance.jensenshannon(rp, cp))
# a category only in the current sample: PSI's fill of the empty share
ref2 = np.array([0] * 30 + [1] * 70)
cur2 = np.array([0] * 25 + [1] * 70 + [2] * 5)
rp, cp = binned(ref2, cur2, False, True)
show("psi_new_category", np.sum((rp - cp) * np.log(rp / cp)))
# ties: integer values 0..9 in both samples
t1 = seq(80, 7, 10, 1.0)
t2 = np.floor(seq(50, 13, 100, 10.0) * 1.3) % 10
r = stats.ks_2samp(t1, t2)
show("ks_ties D p", r.statistic, r.pvalue)
# negative values, zeros and more than 4096 values (the radix sort)
e2 = seq(6000, 7919, 10007, 100.0, -50.0)
f2 = seq(5000, 6007, 10009, 100.0, -45.0)
r = stats.ks_2samp(e2, f2)
w = stats.wasserstein_distance(e2, f2)
rp, cp = binned(e2, f2, True, True)
show("negatives D p W/sd psi", r.statistic, r.pvalue, w / np.std(e2),
     np.sum((rp - cp) * np.log(rp / cp)))
