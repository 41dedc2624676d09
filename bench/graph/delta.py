#!/usr/bin/python3
"""delta.py USERS N OUTDIR: a later batch for the graph benchmark's data
(gen.py's), for the incremental build (seed 12).

delta.ndjson: N events - a tenth group calls, the rest first uses of the
  16 features - by existing users and N / 10 new ones, half dated in
  September, before every use gen.py wrote (an existing user's first use
  moves back), half in November.
delta.csv:    N invitations from existing and new users, with weights
  2-4 (an existing pair gets a new weight: the newest row wins).
Standard library only.
"""
import os
import random
import sys


def main():
    users, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    r = random.Random(12)
    os.makedirs(out, exist_ok=True)
    new = max(1, n // 10)

    def who():
        return "n%d" % r.randrange(new) if r.random() < 0.2 else "u%d" % r.randrange(users)

    with open(os.path.join(out, "delta.ndjson"), "w") as f:
        for i in range(n):
            u = who()
            day = ("2026-09-%02d" % (1 + r.randrange(28)) if r.random() < 0.5
                   else "2026-11-%02d" % (1 + r.randrange(20)))
            if i % 10 == 0:
                f.write('{"type":"group","messageId":"d%d","userId":"%s","groupId":"a%d",'
                        '"timestamp":"%sT00:00:00Z","traits":{}}\n'
                        % (i, u, r.randrange(max(1, users // 8)), day))
            else:
                f.write('{"type":"track","messageId":"d%d","userId":"%s","event":"Feature %d Used",'
                        '"timestamp":"%sT12:00:00Z","properties":{}}\n'
                        % (i, u, r.randrange(16), day))
    with open(os.path.join(out, "delta.csv"), "w") as f:
        f.write("src,relation,dst,weight\n")
        for _ in range(n):
            f.write("user:%s,invited,user:u%d,%d\n" % (who(), r.randrange(users), 2 + r.randrange(3)))


if __name__ == "__main__":
    main()
