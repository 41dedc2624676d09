#!/usr/bin/python3
"""gen.py USERS OUTDIR: the adoption-forecast benchmark's data (numpy
default_rng(1), deterministic for a given USERS). Default 1,000,000 users.

180 days, day 0 = 2026-05-31, the last 2026-11-26 (day 179).
Users sign up uniformly over days 0..159 (time of day in the first 20 h)
and carry the trait segment s0..s9 (geometric sizes, 0.8^k); they are dealt
into accounts acct-N of 1..20 members (a random permutation).
Per user, in this order in events.ndjson (messageId m-1, m-2, ... unique):
  identify (traits.segment) at signup, group (groupId, traits.segment) 1 s
  later, "Session Started" 3 s later, a Poisson(3) number of further
  "Session Started" on uniform later days up to 179, and per catalog
  feature fK (20 features, launch day uniform on 0..60, area one of 5):
  eligible with probability m(f, seg) ~ U(0.2, 0.8), then an adoption time
  T since launch from the Bass distribution with p(f, seg) ~ U(0.002, 0.02)
  and q(f, seg) ~ U(0.05, 0.4) a day; adoption day = launch + floor(T),
  none if > 179, moved to the signup day if before it; one "Feature K Used"
  track event on that day (on the signup day at least 10 s after signup).
Writes OUTDIR/aipm.yaml (the catalog), OUTDIR/events.ndjson, OUTDIR/series.csv
(feature,segment,day,adopters: the daily new adopters per feature and
segment from its launch day to day 179, zeros included, counted from the
adoption events written) and OUTDIR/truth.json (the generating p, q, m).
"""
import datetime
import json
import os
import sys

import numpy as np

DAY0 = 20604          # 2026-05-31, days since 1970-01-01
DAYS = 180            # days 0..179
SIGNUP_DAYS = 160
N_SEG = 10
N_FEAT = 20
AREAS = ["reporting", "dashboards", "alerts", "data", "admin"]
DAY_MS = 86400000
CHUNK = 50000         # users formatted at a time


def date(day):
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=DAY0 + int(day))).isoformat()


def main():
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    out = sys.argv[2] if len(sys.argv) > 2 else "forecast-data"
    if users < 1:
        sys.exit("gen.py: USERS must be >= 1")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1)

    # ---- users ----
    w = 0.8 ** np.arange(N_SEG)
    seg = rng.choice(N_SEG, size=users, p=w / w.sum()).astype(np.int8)
    signup = rng.integers(0, SIGNUP_DAYS, size=users).astype(np.int16)
    signup_tod = rng.integers(0, 20 * 3600 * 1000, size=users)  # ms into the day
    signup_ms = (DAY0 + signup.astype(np.int64)) * DAY_MS + signup_tod
    sizes = rng.integers(1, 21, size=users)
    n_acct = int(np.searchsorted(np.cumsum(sizes), users)) + 1
    acct = np.empty(users, dtype=np.int32)
    acct[rng.permutation(users)] = np.repeat(np.arange(n_acct, dtype=np.int32), sizes[:n_acct])[:users]

    # ---- catalog and the Bass parameters per feature and segment ----
    launch = rng.integers(0, 61, size=N_FEAT)
    P = rng.uniform(0.002, 0.02, size=(N_FEAT, N_SEG))
    Q = rng.uniform(0.05, 0.4, size=(N_FEAT, N_SEG))
    M = rng.uniform(0.2, 0.8, size=(N_FEAT, N_SEG))

    # ---- adoptions: day per user and feature, -1 none ----
    adopt = np.full((N_FEAT, users), -1, dtype=np.int16)
    for f in range(N_FEAT):
        elig = rng.random(users) < M[f, seg]
        u = rng.random(users)
        p, q = P[f, seg], Q[f, seg]
        T = -np.log((1 - u) / (1 + u * q / p)) / (p + q)  # F(T) = u
        day = launch[f] + np.floor(np.minimum(T, 1e6)).astype(np.int64)
        ok = elig & (day <= DAYS - 1)
        day = np.maximum(day, signup)
        adopt[f, ok] = day[ok]

    # ---- track events: (user, ms, name) name 0 = Session Started, 1+K = Feature K Used ----
    n_sess = rng.poisson(3, size=users)
    s_user = np.repeat(np.arange(users, dtype=np.int32), n_sess)
    s_first = signup[s_user].astype(np.int64)
    s_day = s_first + 1 + np.floor(rng.random(s_user.size) * (DAYS - 1 - s_first)).astype(np.int64)
    s_ms = (DAY0 + s_day) * DAY_MS + rng.integers(0, DAY_MS, size=s_user.size)
    parts_u, parts_ms, parts_n = [np.arange(users, dtype=np.int32), s_user], [signup_ms + 3000, s_ms], \
        [np.zeros(users, np.int8), np.zeros(s_user.size, np.int8)]
    for f in range(N_FEAT):
        fu = np.flatnonzero(adopt[f] >= 0).astype(np.int32)
        fd = adopt[f, fu].astype(np.int64)
        r = rng.random(fu.size)
        on_signup = fd == signup[fu]
        tod = np.where(on_signup,
                       signup_tod[fu] + 10000 + np.floor(r * (DAY_MS - signup_tod[fu] - 10000)),
                       np.floor(r * DAY_MS)).astype(np.int64)
        parts_u.append(fu)
        parts_ms.append((DAY0 + fd) * DAY_MS + tod)
        parts_n.append(np.full(fu.size, f + 1, np.int8))
    t_user = np.concatenate(parts_u)
    t_ms = np.concatenate(parts_ms)
    t_name = np.concatenate(parts_n)
    del parts_u, parts_ms, parts_n, s_user, s_first, s_day, s_ms
    order = np.lexsort((t_ms, t_user))
    t_user, t_ms, t_name = t_user[order], t_ms[order], t_name[order]
    del order

    # ---- aipm.yaml ----
    with open(os.path.join(out, "aipm.yaml"), "w") as fh:
        fh.write("# aipm.yaml of bench/forecast (gen.py %d users)\nproduct: forecast-bench\nstore: aipm.db\n\ncatalog:\n" % users)
        for f in range(N_FEAT):
            fh.write("  - key: f%d\n    name: Feature %d\n    area: %s\n    events: [Feature %d Used]\n"
                     "    launched_at: %s\n" % (f, f, AREAS[f % len(AREAS)], f, date(launch[f])))
        fh.write("\npolicies:\n  data: {max_quarantine_share: 0.05, on_schema_change: warn}\n")

    # ---- events.ndjson, in chunks of users ----
    track_extra = ['"event":"Session Started","properties":{}'] + \
        ['"event":"Feature %d Used","properties":{}' % f for f in range(N_FEAT)]
    types = np.array(["identify", "group", "track"], dtype=object)
    line = '{"type":"%s","messageId":"m-%d","userId":"u-%d","timestamp":"%sZ",%s}\n'
    mid = 1
    bounds = np.searchsorted(t_user, np.arange(0, users + CHUNK, CHUNK).clip(max=users))
    with open(os.path.join(out, "events.ndjson"), "w", buffering=1 << 24) as fh:
        for c, a in enumerate(range(0, users, CHUNK)):
            b = min(a + CHUNK, users)
            nu = b - a
            lo, hi = bounds[c], bounds[c + 1]
            cu = np.arange(a, b)
            segs = seg[a:b].tolist()
            extra = np.array(track_extra +
                             ['"traits":{"segment":"s%d"}' % s for s in segs] +
                             ['"groupId":"acct-%d","traits":{"segment":"s%d"}' % (g, s)
                              for g, s in zip(acct[a:b].tolist(), segs)], dtype=object)
            e_user = np.concatenate([cu, cu, t_user[lo:hi]])
            e_ms = np.concatenate([signup_ms[a:b], signup_ms[a:b] + 1000, t_ms[lo:hi]])
            e_type = np.concatenate([np.zeros(nu, np.int8), np.ones(nu, np.int8),
                                     np.full(hi - lo, 2, np.int8)])
            e_extra = np.concatenate([N_FEAT + 1 + np.arange(nu), N_FEAT + 1 + nu + np.arange(nu),
                                      t_name[lo:hi].astype(np.int64)])
            o = np.lexsort((e_ms, e_user))
            ts = np.datetime_as_string(e_ms[o].astype("datetime64[ms]"), unit="ms").tolist()
            n = o.size
            fh.write("".join([line % x for x in zip(types[e_type[o]].tolist(), range(mid, mid + n),
                                                     e_user[o].tolist(), ts, extra[e_extra[o]].tolist())]))
            mid += n

    # ---- series.csv: from the adoption days written ----
    rows = ["feature,segment,day,adopters\n"]
    for f in range(N_FEAT):
        ok = adopt[f] >= 0
        cnt = np.bincount(seg[ok].astype(np.int64) * DAYS + adopt[f, ok], minlength=N_SEG * DAYS)
        cnt = cnt.reshape(N_SEG, DAYS)
        for s in range(N_SEG):
            rows.append("".join(["f%d,s%d,%d,%d\n" % (f, s, d, cnt[s, d]) for d in range(launch[f], DAYS)]))
    with open(os.path.join(out, "series.csv"), "w") as fh:
        fh.write("".join(rows))
    with open(os.path.join(out, "truth.json"), "w") as fh:
        json.dump({"users": users, "lines": mid - 1, "accounts": n_acct, "day0": date(0),
                   "launch_day": launch.tolist(), "p": P.round(6).tolist(), "q": Q.round(6).tolist(),
                   "m_share": M.round(6).tolist(),
                   "segment_users": np.bincount(seg, minlength=N_SEG).tolist()}, fh)
    print("gen.py: %d users, %d accounts, %d event lines" % (users, n_acct, mid - 1), file=sys.stderr)


if __name__ == "__main__":
    main()
