#!/usr/bin/python3
"""Reference values for tests/unit/test_stats.c, computed independently of
aipm with Debian's python3-scipy 1.10.1 and python3-statsmodels 0.13.5.
Run: /usr/bin/python3 tests/unit/stats_reference.py (not part of the tests;
its printout is what the test's constants were copied from)."""
import math
import numpy as np
from scipy import stats, integrate
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower

# Welch t-test from summary statistics.
mc, sc, nc = 10.0, 4.0, 1000      # control: mean, sd, n
mt, st, nt = 10.5, 4.4, 1100      # treatment
r = stats.ttest_ind_from_stats(mt, st, nt, mc, sc, nc, equal_var=False)
vc, vt = sc**2 / nc, st**2 / nt
df = (vc + vt)**2 / (vc**2 / (nc - 1) + vt**2 / (nt - 1))
print("welch abs: t=%.12g p=%.12g df=%.12g" % (r.statistic, r.pvalue, df))
# Relative lift, delta method (Deng et al. 2018), t with Welch df.
lift = mt / mc - 1
se = math.sqrt(vt / mc**2 + mt**2 * vc / mc**4)
q = stats.t.ppf(0.975, df)
print("rel: lift=%.12g se=%.12g p=%.12g ci=(%.12g, %.12g)" %
      (lift, se, 2 * stats.t.sf(abs(lift / se), df), lift - q * se, lift + q * se))

# SRM: Pearson chi-square against 50/50.
obs = [5021, 4812]
r = stats.chisquare(obs, [sum(obs) / 2] * 2)
print("srm: chi2=%.12g p=%.12g" % (r.statistic, r.pvalue))
obs3 = [3400, 3300, 3050]
w = [1 / 3] * 3
r = stats.chisquare(obs3, [sum(obs3) * x for x in w])
print("srm3: chi2=%.12g p=%.12g" % (r.statistic, r.pvalue))

# Bayesian: chance to win and expected loss for N(0.02, 0.015^2), by
# numerical integration (not the closed form used in aipm).
mu, sd = 0.02, 0.015
ctw = stats.norm.sf(0, mu, sd)
rt = integrate.quad(lambda x: max(0, -x) * stats.norm.pdf(x, mu, sd), -1, 1, points=[0])[0]
rc = integrate.quad(lambda x: max(0, x) * stats.norm.pdf(x, mu, sd), -1, 1, points=[0])[0]
print("bayes: ctw=%.12g risk_t=%.12g risk_c=%.12g" % (ctw, rt, rc))

# Sequential (Waudby-Smith et al. 2023 asymptotic CS, GrowthBook tuning).
def halfwidth(v, n, alpha, nstar):
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / nstar
    return math.sqrt(v * n) * math.sqrt(2 * (n * rho2 + 1) / (n * n * rho2)
                                        * math.log(math.sqrt(n * rho2 + 1) / alpha))
print("cs: hw=%.12g" % halfwidth(se**2, nc + nt, 0.05, 5000))

# Holm and BH (statsmodels).
p = [0.01, 0.04, 0.03, 0.005, 0.20]
print("holm:", ["%.12g" % x for x in multipletests(p, method="holm")[1]])
print("bh:", ["%.12g" % x for x in multipletests(p, method="fdr_bh")[1]])

# Sample size: statsmodels NormalIndPower, effect = mde * mean / sd.
mean, var, mde = 2.0, 9.0, 0.05
n = NormalIndPower().solve_power(effect_size=mde * mean / math.sqrt(var),
                                 alpha=0.05, power=0.8, ratio=1)
print("power: n=%.12g" % n)

# CUPED on simulated data: theta = OLS slope of y on x (pooled), adjusted
# values y - theta (x - mean x); their per-group mean and variance.
rng = np.random.default_rng(7)
x = rng.gamma(2.0, 3.0, 4000)
g = rng.integers(0, 2, 4000)
y = 0.8 * x + rng.normal(0, 2.0, 4000) + 0.5 * g
np.savetxt("/tmp/cuped.txt", np.column_stack([g, x, y]), fmt="%.17g")
theta = np.polyfit(x, y, 1)[0]
adj = y - theta * (x - x.mean())
for k in (0, 1):
    print("cuped group %d: mean=%.12g var=%.12g" % (k, adj[g == k].mean(), adj[g == k].var(ddof=1)))
print("cuped theta=%.12g reduction=%.12g" % (theta, 1 - adj.var(ddof=1) / y.var(ddof=1)))
# The sufficient statistics the C test feeds in (per group: n, sums of y,
# y^2, x, x^2, xy).
for k in (0, 1):
    yy, xx = y[g == k], x[g == k]
    print("cuped input %d: n=%d sy=%.17g syy=%.17g sx=%.17g sxx=%.17g sxy=%.17g" %
          (k, len(yy), yy.sum(), (yy * yy).sum(), xx.sum(), (xx * xx).sum(), (xx * yy).sum()))

# Ratio metric by the delta method: per-unit (y, x) pairs; R = sum y / sum x,
# n var(R) from the sample moments (Deng, Knoblich and Lu 2018), computed
# here with numpy's cov.
y = np.array([3.0, 0.0, 5.0, 2.0, 7.0, 1.0, 4.0, 6.0])
x = np.array([2.0, 1.0, 3.0, 2.0, 4.0, 1.0, 2.0, 3.0])
n = len(y)
c = np.cov(y, x, ddof=1)
my, mx = y.mean(), x.mean()
var_unit = c[0, 0] / mx**2 - 2 * my * c[0, 1] / mx**3 + my**2 * c[1, 1] / mx**4
print("ratio: n=%d sy=%g syy=%g sx=%g sxx=%g sxy=%g R=%.12g var_unit=%.12g" %
      (n, y.sum(), (y * y).sum(), x.sum(), (x * x).sum(), (x * y).sum(), y.sum() / x.sum(), var_unit))
