#!/usr/bin/python3
"""Reference values for tests/unit/test_calibration.c, from scikit-learn
and numpy (Debian 12's python3-sklearn 1.2.1, python3-numpy 1.24.2). Run
it to see where each constant in the test comes from:
/usr/bin/python3 tests/unit/calibration_ref.py"""
import numpy as np
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score


def show(name, *v):
    print(name, " ".join(repr(float(x)) for x in v))


def ece(p, y, bins):
    """Equal-count bins as calibration.h defines them: ascending
    predictions, equal ones in index order (a stable sort), bin b the
    ranks [floor(b n / bins), floor((b + 1) n / bins))."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    n = len(p)
    order = np.argsort(p, kind="stable")
    total, table = 0.0, []
    for b in range(bins):
        lo, hi = b * n // bins, (b + 1) * n // bins
        if lo == hi:
            table.append(None)
            continue
        ps, ys = p[order[lo:hi]], y[order[lo:hi]]
        total += (hi - lo) / n * abs(ps.mean() - ys.mean())
        table.append((ps.min(), ps.max(), hi - lo, ps.mean(), ys.mean()))
    return total, table


# The fixed data set (test_calibration.c's P and Y): 20 predictions with
# ties at 0.1 (two negatives), 0.2, 0.65 (one of each), 0.4 (two and two)
# and 0.8 (two positives).
P = [0.1, 0.4, 0.35, 0.8, 0.4, 0.1, 0.9, 0.65, 0.4, 0.2,
     0.55, 0.8, 0.05, 0.3, 0.65, 0.7, 0.2, 0.95, 0.5, 0.4]
Y = [0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1]
show("auc", roc_auc_score(Y, P))
show("log_loss", log_loss(Y, P, eps=1e-15))
show("brier", brier_score_loss(Y, P))
for bins in (10, 3):
    e, table = ece(P, Y, bins)
    show("ece bins=%d" % bins, e)
    for row in table:
        print("  lo hi n mean_p mean_y", " ".join(repr(float(x)) for x in row))

# p exactly 0 and 1, right and wrong: clipped to [1e-15, 1 - 1e-15].
show("log_loss 0/1", log_loss([0, 1, 1, 0], [0.0, 1.0, 0.0, 1.0], eps=1e-15))
show("log_loss 0/1 right", log_loss([0, 1], [0.0, 1.0], eps=1e-15))
# all-equal predictions: every pair tied
show("auc all equal", roc_auc_score([0, 1, 1, 0, 1], [0.3] * 5))
show("log_loss all equal", log_loss([0, 1, 1, 0, 1], [0.3] * 5, eps=1e-15))
show("brier all equal", brier_score_loss([0, 1, 1, 0, 1], [0.3] * 5))
# one class: sklearn's roc_auc_score refuses (ValueError), the C returns
# NaN; log loss and Brier are defined
show("log_loss one class", log_loss([1, 1, 1], [0.2, 0.5, 0.9], eps=1e-15,
                                    labels=[0, 1]))
show("brier one class", brier_score_loss([1, 1, 1], [0.2, 0.5, 0.9]))
# fewer predictions than bins: 3 predictions in 10 bins
e, table = ece([0.2, 0.7, 0.4], [0, 1, 1], 10)
show("ece n=3 bins=10", e)
print("  non-empty bins", [b for b, row in enumerate(table) if row])
