#!/usr/bin/python3
"""Reference values for tests/unit/test_simulate.c, from scipy and numpy
(Debian 12's python3-scipy 1.10, python3-numpy 1.24) and from closed forms.
Run it to see where each constant in the test comes from:
python3 tests/unit/simulate_ref.py

Philox4x32-10 is written here again from Salmon et al. (SC 2011),
separately from the C, and checked against Random123's published
known-answer vectors (tests/kat_vectors of
github.com/DEShawResearch/random123); it then gives the exact uniforms and
the ziggurat's normals of a few draws of the stream layout that
include/aipm/simulate.h defines, so the C's layout is checked against a
second implementation, not against its own output."""
import math

import numpy as np
from scipy import integrate, optimize, stats

MASK = 0xFFFFFFFF


def philox4x32(ctr, key, rounds=10):
    """Salmon et al. 2011: N = 4 words of W = 32 bits, multipliers
    0xD2511F53 and 0xCD9E8D57, Weyl key schedule 0x9E3779B9, 0xBB67AE85."""
    x0, x1, x2, x3 = ctr
    k0, k1 = key
    for r in range(rounds):
        if r:
            k0, k1 = (k0 + 0x9E3779B9) & MASK, (k1 + 0xBB67AE85) & MASK
        p0, p1 = 0xD2511F53 * x0, 0xCD9E8D57 * x2
        x0, x1, x2, x3 = ((p1 >> 32) ^ x1 ^ k0, p1 & MASK,
                          (p0 >> 32) ^ x3 ^ k1, p0 & MASK)
    return x0, x1, x2, x3


# Random123 tests/kat_vectors, the "philox4x32 10" lines: ctr, key, out.
KAT = [((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C,
                                0x9B00DBD8)),
       ((MASK,) * 4, (MASK, MASK), (0x408F276D, 0x41C83B0E, 0xA20BC7C6,
                                    0x6D5451FD)),
       ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0), (0xD16CFE09, 0x94FDCCEB, 0x5001E420,
                                   0x24126EA1))]
for ctr, key, out in KAT:
    assert philox4x32(ctr, key) == out, (ctr, key)
print("philox4x32-10 reproduces Random123's 3 known answers")


def bulk_word(seed, stream, k):
    """Word k of a stream (simulate.h): block k >> 1 at counter
    (p low, p high, 0, stream), key (seed low, seed high); the even draw
    takes words 0-1, the odd one words 2-3, low word first."""
    p = k >> 1
    o = philox4x32((p & MASK, p >> 32, 0, stream), (seed & MASK, seed >> 32))
    return (o[1] << 32 | o[0]) if k % 2 == 0 else (o[3] << 32 | o[2])


def uniform(w):
    return ((w >> 12) + 0.5) * 2.0**-52


# The ziggurat (Marsaglia and Tsang 2000) with 256 layers for
# f(x) = exp(-x^2/2) on x >= 0: r, the base layer's edge, makes the
# 255 layers above the base of area v each end exactly at the top.
def f(x):
    return math.exp(-0.5 * x * x)


def area(r):
    # rectangle under f(r) plus the tail beyond r
    return r * f(r) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))


def top_residual(r, n=256):
    v, x = area(r), r
    for _ in range(1, n - 1):
        y = f(x) + v / x
        if y >= 1:
            return 1.0  # layers reached the top early: r too small
        x = math.sqrt(-2 * math.log(y))
    return f(x) + v / x - 1


R = optimize.brentq(top_residual, 3.0, 4.0, xtol=1e-16, rtol=8.9e-16)
V = area(R)
print("ziggurat 256 layers: r %.17g v %.17g" % (R, V))
print("  (Marsaglia and Tsang 2000 give r = 3.6541528853610088, "
      "v = 4.92867323399e-3)")

# The C's tables, built the same way: x[i] the right edge of layer i.
X = [0.0] * 257
X[0], X[1] = V / f(R), R
for i in range(1, 255):
    X[i + 1] = math.sqrt(-2 * math.log(f(X[i]) + V / X[i]))
X[256] = 0.0
KI = [int(2.0**52 * X[i + 1] / X[i]) for i in range(256)]
WI = [X[i] * 2.0**-52 for i in range(256)]


def normal_fast(w):
    """The ziggurat's first try on word w: (value, True) when it is
    accepted at once (about 98.8% of draws), else (None, False)."""
    layer, sign, m = w & 0xFF, (w >> 8) & 1, w >> 12
    if m < KI[layer]:
        x = m * WI[layer]
        return (-x if sign else x), True
    return None, False


SEED, STREAM = 0x0123456789ABCDEF, 7
print("stream seed 0x%x id %d:" % (SEED, STREAM))
for k in [0, 1, 2, 3, 1000001, 2**40 + 5]:
    w = bulk_word(SEED, STREAM, k)
    z, ok = normal_fast(w)
    print("  draw %d: word 0x%016x uniform %r normal %s" %
          (k, w, uniform(w), repr(z) if ok else "(slow path)"))

N = 1_000_000
print("n = %d draws: standard errors" % N)

# Normal: the moments' standard errors, the ziggurat's tail.
print("normal: se mean %r var %r skew %r kurt %r" %
      (1 / math.sqrt(N), math.sqrt(2 / N), math.sqrt(6 / N),
       math.sqrt(24 / N)))
p_tail = stats.norm.sf(R)
p4 = 2 * stats.norm.sf(4.0)
print("P(Z > r) %r  P(|Z| > 4) %r" % (p_tail, p4))
print("Kolmogorov: P(sqrt(n) D > %r) = 0.001" % stats.kstwobign.isf(0.001))
# The draws beyond r, on one side: E[Z | Z > r] = phi(r) / Q(r) and
# E[Z^2 | Z > r] = 1 + r phi(r) / Q(r) (the tail sampler's check, over
# 1e7 draws: 2 Q(r) 1e7 ~ 2580 of them).
mills = stats.norm.pdf(R) / stats.norm.sf(R)
print("beyond r: E[Z | Z > r] %r sd %r" %
      (mills, math.sqrt(1 + R * mills - mills**2)))

# Uniform(0,1): mean 1/2, variance 1/12, fourth central moment 1/80.
print("uniform: se mean %r var %r" %
      (math.sqrt(1 / 12 / N), math.sqrt((1 / 80 - 1 / 144) / N)))


def skew_se(m2, m3, m4, m5, m6, n):
    """The delta method's standard error of the sample skewness
    m3 / m2^1.5 from the central moments (Kendall and Stuart, vol. 1,
    10.5); 6 / n for a normal."""
    v = (m6 / m2**3 - 3 * m3 * m5 / m2**4 - 6 * m4 / m2**2
         + 9 * m3**2 * m4 / (4 * m2**5) + 35 * m3**2 / (4 * m2**3) + 9)
    return math.sqrt(v / n)


def central(dist, order=6):
    mu = dist.mean()
    raw = [dist.moment(j) for j in range(order + 1)]
    return [sum(math.comb(j, i) * raw[i] * (-mu)**(j - i)
                for i in range(j + 1)) for j in range(order + 1)]


assert abs(skew_se(1, 0, 3, 0, 15, 1) - math.sqrt(6)) < 1e-12
for a in (0.5, 3.7):
    g = stats.gamma(a)
    c = central(g)
    print("gamma(%g): mean %r var %r skew %r; se mean %r var %r skew %r" %
          (a, g.mean(), g.var(), float(g.stats(moments="s")),
           math.sqrt(c[2] / N), math.sqrt((c[4] - c[2]**2) / N),
           skew_se(*c[2:7], N)))
    # the formula against the spread of skewness over repeated samples
    rng = np.random.default_rng(17)
    sk = [stats.skew(rng.gamma(a, size=20000)) for _ in range(400)]
    print("  skew se at n=20000: formula %.4g, 400 samples %.4g" %
          (skew_se(*c[2:7], 20000), np.std(sk, ddof=1)))

ig = stats.invgamma(5.0, scale=2.0)
c = central(ig, 4)  # its 5th and 6th do not exist
print("invgamma(5, scale 2): mean %r var %r; se mean %r var %r" %
      (ig.mean(), ig.var(), math.sqrt(c[2] / N),
       math.sqrt((c[4] - c[2]**2) / N)))


def cvar_se(dist, alpha, n):
    """Standard error of the mean of the ceil(alpha n) lowest draws:
    (Var(X | X <= q) + (1 - alpha)(q - ES)^2) / (alpha n), q the alpha
    quantile (Brazauskas et al. 2008, "Estimating conditional tail
    expectation with actuarial applications", eq. 2.3)."""
    q = dist.ppf(alpha)
    es = integrate.quad(lambda x: x * dist.pdf(x), -np.inf if
                        dist.support()[0] == -np.inf else dist.support()[0],
                        q)[0] / alpha
    e2 = integrate.quad(lambda x: x * x * dist.pdf(x), -np.inf if
                        dist.support()[0] == -np.inf else dist.support()[0],
                        q)[0] / alpha
    return es, math.sqrt((e2 - es * es + (1 - alpha) * (q - es)**2) /
                         (alpha * n))


alpha = 0.05
z = stats.norm.ppf(alpha)
es, se = cvar_se(stats.norm, alpha, N)
print("normal CVaR_0.05 closed form -phi(z)/alpha %r, by quad %r, se %r" %
      (-stats.norm.pdf(z) / alpha, es, se))
es, se = cvar_se(stats.uniform, alpha, N)
print("uniform CVaR_0.05 %r (alpha / 2), se %r" % (es, se))
for p in (0.1, 0.5, 0.9):
    q = stats.norm.ppf(p)
    print("normal q%.1f %r se %r; uniform se %r" %
          (p, q, math.sqrt(p * (1 - p) / N) / stats.norm.pdf(q),
           math.sqrt(p * (1 - p) / N)))

# P(loss): X = 0.1 + Z1, B = 1.5 (0.6 Z1 + 0.8 Z2), so corr(X, B) = 0.6;
# X - B is normal with mean 0.1 and variance 1 + 2.25 - 2 0.6 1.5 = 1.45.
p = stats.norm.cdf(-0.1 / math.sqrt(1 + 2.25 - 2 * 0.6 * 1.5))
print("P(X < B) %r se %r" % (p, math.sqrt(p * (1 - p) / N)))
# P(A beats B) for A = X, B as above: the same event reversed
print("P(B beats X) %r" % p)

# Common random numbers: A = 2 X + 0.5 Y_A, B = 1.5 X + 0.5 Y_B with X,
# Y_A, Y_B independent N(0,1). Shared X: var(A - B) = 0.25 + 0.5; a
# separate X for B: 4 + 2.25 + 0.5. Each sample variance has relative
# se sqrt(2 / (n - 1)); the ratio's, sqrt(2) times that at most (the two
# estimates share Y_A and Y_B, so are positively correlated).
print("CRN var(A-B) shared %r independent %r ratio %r rel se <= %r" %
      (0.75, 6.75, 0.75 / 6.75, math.sqrt(2) * math.sqrt(2 / (N - 1))))

# Type 7 quantiles of a small array (numpy's default method "linear").
x = np.array([3.5, -1.25, 7.0, 0.0, 2.5, 2.5, 10.0, -4.75, 1.0])
qs = [0.0, 0.1, 0.25, 1 / 3, 0.5, 0.9, 0.95, 1.0]
print("quantiles", [repr(float(v)) for v in np.quantile(x, qs)])
print("quantiles n=1", repr(float(np.quantile([4.25], 0.3))),
      "n=2", repr(float(np.quantile([1.0, -2.0], 0.3))))
# CVaR: the mean of the ceil(alpha n) lowest
for a_, arr in ((0.25, x), (0.1, np.arange(30.0)), (0.3, x),
                (1.0, x)):
    k = math.ceil(round(a_ * len(arr), 9))
    print("cvar alpha %g n %d: k %d mean %r" %
          (a_, len(arr), k, float(np.mean(np.sort(arr)[:k]))))

# Histograms: numpy.histogram(x, bins, (lo, hi)) over the finite draws
# (numpy drops what is outside the range; the C counts it in below and
# above, as x < lo and x > hi do here). Set 1 puts draws on the edges
# numpy.linspace rounds up (3 * 0.1 is 0.30000000000000004), where
# (x - lo) / width gives the bin above the edges' own answer; set 2 is
# rounded normals with numpy's 8 edges of [-2.2, 3.7] among them.
h1 = np.array([0.0, 0.1, 0.3, 0.6, 0.7, 0.9999999999999999, 1.0, -0.0,
               -1e-300, 1.0000000000000002, 0.55, 0.05, np.inf, -np.inf,
               0.2, 0.30000000000000004])
c, e = np.histogram(h1[np.isfinite(h1)], 10, (0.0, 1.0))
print("histogram set 1: counts", [int(v) for v in c], "below",
      int((h1 < 0).sum()), "above", int((h1 > 1).sum()), "edges",
      [repr(float(v)) for v in e])
h2 = np.concatenate([np.round(np.random.default_rng(17).normal(0.6, 1.6, 40),
                              3), np.linspace(-2.2, 3.7, 8)])
c, e = np.histogram(h2, 7, (-2.2, 3.7))
print("histogram set 2:", [repr(float(v)) for v in h2])
print("  counts", [int(v) for v in c], "below", int((h2 < -2.2).sum()),
      "above", int((h2 > 3.7).sum()), "edges", [repr(float(v)) for v in e])
