#!/usr/bin/python3
"""Reference values for tests/unit/test_sim_engine.c, from scipy (Debian
12's python3-scipy 1.10) and closed forms. Run it to see where each
constant in the test comes from:
python3 tests/unit/sim_engine_ref.py

The engine's value model (include/aipm/sim_engine.h) with p = 1: the
posterior mn, L (Ln^-1 = L^2), s2 ~ InvGamma(an, bn), z, e ~ N(0, 1),

    y = x mn + sqrt(s2) (L x z + e),   value = max(0, expm1(y)),

so y given s2 is normal with variance s2 (1 + (L x)^2), and over s2 it is
Student t with 2 an degrees of freedom, location x mn and scale
sqrt(bn / an (1 + (L x)^2)) (the conjugate predictive, Murphy 2007
section 9; Bishop PRML eq. 3.58 for the known-variance case). Quantiles
of the value are expm1 of the t's quantiles (expm1 is increasing, and the
max clips only below P(y <= 0)).

The mean of exp(t) is infinite for any degrees of freedom: the integrand
exp(y) f(y) turns upward far out in the tail (y around 2 an + 1 scales),
where 1e6 draws never go. The moments here are those of y below its
1 - 1e-15 quantile, which 1e6 draws all stay below with probability
1 - 1e-9: what the Monte Carlo mean estimates. Its variance (the
truncated second moment) gives the standard error the test allows 5 of.

Effort = effort exp(sd h), h ~ N(0, 1), is lognormal: mean effort
exp(sd^2 / 2), P(effort > cap) = 1 - Phi(log(cap / effort) / sd), and
E[(effort - cap)+] = effort exp(sd^2/2) Phi(d + sd) - cap Phi(d) with
d = (log(effort / cap)) / sd (the Black-Scholes call, Hull ch. 15).
"""
import math

from scipy import integrate, stats

N = 1000000
ALPHA = 0.05
TAIL = 1e-15


def predictive(mn, L, an, bn, x):
    a = L * x
    return stats.t(2 * an, loc=x * mn, scale=math.sqrt(bn / an * (1 + a * a)))


def moments(t):
    """Truncated moments of value = max(0, expm1(y)), y ~ t, y < t.isf(TAIL):
    mean, variance, fourth central moment."""
    hi = t.isf(TAIL)
    lo = max(0.0, t.ppf(1e-300))
    pts = [t.ppf(p) for p in (0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999)]
    pts = [p for p in pts if 0 < p < hi]

    def raw(k):
        v, _ = integrate.quad(lambda y: math.expm1(y) ** k * t.pdf(y), lo, hi,
                              points=pts, limit=500, epsabs=0, epsrel=1e-13)
        return v
    m1, m2, m3, m4 = raw(1), raw(2), raw(3), raw(4)
    var = m2 - m1 * m1
    mu4 = m4 - 4 * m3 * m1 + 6 * m2 * m1 ** 2 - 3 * m1 ** 4
    return m1, var, mu4


def quantile_and_se(t, p):
    """Value quantile and its standard error sqrt(p (1 - p) / N) / f_v(q)."""
    y = t.ppf(p)
    q = max(0.0, math.expm1(y))
    dens = t.pdf(y) / math.exp(y)  # f_v(v) = f_y(y) / (dv/dy), dv/dy = e^y
    return q, math.sqrt(p * (1 - p) / N) / dens


def cvar_and_se(t, alpha):
    """Mean of the value's lowest alpha share, and the asymptotic standard
    error of its estimate, sqrt((Var(v | v <= q) + (1 - alpha)
    (q - CVaR)^2) / (alpha N)) (Chen, J. Fin. Econometrics 6(1), 2008)."""
    yq = t.ppf(alpha)
    q = max(0.0, math.expm1(yq))

    def part(k):
        lo = t.ppf(1e-18)
        if yq <= 0:
            return 0.0
        v, _ = integrate.quad(lambda y: math.expm1(y) ** k * t.pdf(y),
                              max(0.0, lo), yq, limit=500, epsabs=0,
                              epsrel=1e-13)
        return v
    m1 = part(1) / alpha
    m2 = part(2) / alpha
    var_tail = m2 - m1 * m1
    se = math.sqrt((var_tail + (1 - alpha) * (q - m1) ** 2) / (alpha * N))
    return m1, se


def show(name, x):
    print("#define %-24s %.17g" % (name, x))


# test_one_item: mn 1, L 0.3, an 20, bn 5, x 1.5; effort 4, sd 0.5, cap 6
t1 = predictive(1.0, 0.3, 20.0, 5.0, 1.5)
mean, var, mu4 = moments(t1)
print("/* test_one_item: y ~ t(40, %.4f, %.6f) */" % (t1.mean(), t1.std()))
show("ONE_MEAN", mean)
show("ONE_MEAN_SE", math.sqrt(var / N))
for p, nm in ((0.1, "P10"), (0.5, "P50"), (0.9, "P90")):
    q, se = quantile_and_se(t1, p)
    show("ONE_" + nm, q)
    show("ONE_" + nm + "_SE", se)
cv, cv_se = cvar_and_se(t1, ALPHA)
show("ONE_CVAR", cv)
show("ONE_CVAR_SE", cv_se)
eff, sd, cap = 4.0, 0.5, 6.0
p_over = stats.norm.sf(math.log(cap / eff) / sd)
d = math.log(eff / cap) / sd
show("ONE_EFFORT_MEAN", eff * math.exp(sd * sd / 2))
show("ONE_EFFORT_MEAN_SE",
     eff * math.sqrt((math.exp(sd * sd) - 1) * math.exp(sd * sd) / N))
show("ONE_P_OVER", p_over)
show("ONE_P_OVER_SE", math.sqrt(p_over * (1 - p_over) / N))
short = (eff * math.exp(sd * sd / 2) * stats.norm.cdf(d + sd)
         - cap * stats.norm.cdf(d))
short2, _ = integrate.quad(
    lambda h: (eff * math.exp(sd * h) - cap) ** 2 * stats.norm.pdf(h),
    math.log(cap / eff) / sd, 40, epsrel=1e-12)
show("ONE_SHORTFALL", short)
show("ONE_SHORTFALL_SE", math.sqrt((short2 - short * short) / N))

# test_crn: the same posterior; item 2 at x 0.8. A - B = item 2's value.
t2 = predictive(1.0, 0.3, 20.0, 5.0, 0.8)
m2, var2, mu4_2 = moments(t2)
print("/* test_crn: Var(value) of items 1 (x 1.5) and 2 (x 0.8), and the")
print("   standard error of a sample variance, sqrt((mu4 - var^2) / N) */")
show("CRN_VAR1", var)
show("CRN_VAR2", var2)
show("CRN_VAR2_SE", math.sqrt((mu4_2 - var2 * var2) / N))
