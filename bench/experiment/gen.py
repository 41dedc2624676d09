#!/usr/bin/python3
"""gen.py USERS EVENTS [KEY] > events.ndjson

Deterministic Segment NDJSON for the experiment benchmark (standard library
only, fixed seed: the same USERS/EVENTS give byte-identical output).

* USERS exposed users u-0 .. u-(USERS-1). Variation by a multiplicative
  hash of the index (50/50). First exposure uniform over
  [2026-09-01, 2026-10-25). Extra `Experiment Viewed` events, which
  exercise "first exposure" and the multi-exposure exclusion:
  - 10% of users see the experiment a second time, same variation, later;
  - 0.1% of users also see the other variation (excluded by every analysis).
* EVENTS `Button Clicked` events: 95% go to exposed users picked uniformly
  at random (per-user counts are binomial ~ Poisson), a treatment user
  being 3% more likely to be picked; 5% go to never-exposed users
  n-0 .. n-(USERS/10). For an exposed user, 85% of its events fall in
  [first exposure, 2026-11-01) and 15% in [2026-09-01, first exposure), so
  they do not count. All timestamps are within Sept-Oct 2026, ms resolution.
"""
import random
import sys

START = 1788220800000          # 2026-09-01T00:00:00Z
END = 1793491200000            # 2026-11-01T00:00:00Z (end 2026-10-31 + 1 day)
EXPO_END = 1792886400000       # 2026-10-25T00:00:00Z
DAY = 86400000
LIFT = 1.03                    # treatment event rate / control event rate
NON_EXPOSED_SHARE = 0.05
REPEAT_SHARE = 0.10
MULTI_SHARE = 0.001
AFTER_SHARE = 0.85


def days():
    # 2026-09-01 .. 2026-10-31
    out = ["2026-09-%02d" % d for d in range(1, 31)]
    out += ["2026-10-%02d" % d for d in range(1, 32)]
    return out


DAYS = days()


def iso(ms):
    d, r = divmod(ms - START, DAY)
    s, milli = divmod(r, 1000)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return "%sT%02d:%02d:%02d.%03dZ" % (DAYS[d], h, m, s, milli)


def is_treatment(i):
    return ((i * 2654435761) & 0xFFFFFFFF) >> 31


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    users, events = int(sys.argv[1]), int(sys.argv[2])
    key = sys.argv[3] if len(sys.argv) == 4 else "bench_exp"
    rnd = random.Random(20260901)
    r = rnd.random
    out = sys.stdout
    buf = []
    mid = 0
    names = ("control", "treatment")
    t0 = [0] * users
    treat = bytearray(users)

    expo = ('{"type":"track","messageId":"x-%d","userId":"u-%d",'
            '"event":"Experiment Viewed","timestamp":"%s","properties":'
            '{"experiment_id":"' + key + '","variation_id":"%s"}}\n')
    click = ('{"type":"track","messageId":"x-%d","userId":"%s",'
             '"event":"Button Clicked","timestamp":"%s","properties":'
             '{"button":"cta"}}\n')

    for i in range(users):
        v = is_treatment(i)
        treat[i] = v
        t = START + int(r() * (EXPO_END - START))
        t0[i] = t
        buf.append(expo % (mid, i, iso(t), names[v]))
        mid += 1
        x = r()
        if x < REPEAT_SHARE:
            t2 = t + int(r() * (END - t))
            buf.append(expo % (mid, i, iso(t2), names[v]))
            mid += 1
        elif x < REPEAT_SHARE + MULTI_SHARE:
            t2 = t + int(r() * (END - t))
            buf.append(expo % (mid, i, iso(t2), names[1 - v]))
            mid += 1
        if len(buf) >= 65536:
            out.write("".join(buf))
            buf.clear()

    n_non = max(1, users // 10)
    accept_control = 1.0 / LIFT
    span = END - START
    for _ in range(events):
        if r() < NON_EXPOSED_SHARE:
            uid = "n-%d" % int(r() * n_non)
            t = START + int(r() * span)
        else:
            while True:
                i = int(r() * users)
                if treat[i] or r() < accept_control:
                    break
            uid = "u-%d" % i
            t = t0[i]
            if r() < AFTER_SHARE:
                t += int(r() * (END - t))
            else:
                t = START + int(r() * (t - START))
        buf.append(click % (mid, uid, iso(t)))
        mid += 1
        if len(buf) >= 65536:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))
    out.flush()


if __name__ == "__main__":
    main()
