#!/usr/bin/python3
"""gen.py USERS OUTDIR: the graph benchmark's data (seed 11).

events.ndjson: per user one group call (USERS / 8 accounts) and first uses
  of 4 of 16 catalog features (one event each): USERS member_of edges and
  4 x USERS uses edges.
graph.csv:     5 x USERS `invited` edges between random users.
aipm.yaml:     the 16 features.
So USERS = 1,000,000 gives 1,000,000 user nodes and 10,000,000 edges.
Standard library only; written in one pass.
"""
import os
import random
import sys


def main():
    users, out = int(sys.argv[1]), sys.argv[2]
    r = random.Random(11)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "aipm.yaml"), "w") as f:
        f.write("product: graph-bench\nstore: aipm.db\ncatalog:\n")
        for k in range(16):
            f.write("  - {key: f%d, area: a%d, events: [Feature %d Used]}\n" % (k, k % 4, k))
        f.write("policies:\n  data: {max_quarantine_share: 0.05, on_schema_change: warn}\n")
    n = 0
    with open(os.path.join(out, "events.ndjson"), "w") as f:
        w = f.write
        for u in range(users):
            n += 1
            w('{"type":"group","messageId":"m%d","userId":"u%d","groupId":"a%d","timestamp":"2026-10-01T00:00:00Z","traits":{}}\n' % (n, u, u % max(1, users // 8)))
            for k in r.sample(range(16), 4):
                n += 1
                w('{"type":"track","messageId":"m%d","userId":"u%d","event":"Feature %d Used","timestamp":"2026-10-%02dT12:00:00Z","properties":{}}\n' % (n, u, k, 2 + r.randrange(27)))
    with open(os.path.join(out, "graph.csv"), "w") as f:
        f.write("src,relation,dst\n")
        seen = set()
        while len(seen) < 5 * users:
            a, b = r.randrange(users), r.randrange(users)
            if a != b and (a, b) not in seen:
                seen.add((a, b))
                f.write("user:u%d,invited,user:u%d\n" % (a, b))


if __name__ == "__main__":
    main()
