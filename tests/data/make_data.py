#!/usr/bin/env python3
"""Regenerate examples/ and tests/data/ for aipm (deterministic, stdlib only).

    python3 tests/data/make_data.py            # writes examples/* and tests/data/*

Every bad row is written with the reason it is meant to trigger, and the
*.expect.json manifests are built from those labels as the files are written.
A small reference checker (below, written from the input contract, independent
of the aipm sources) then re-reads every file and the script aborts if its
counts differ from the labels, so a typo in a "good" row cannot slip through.

Contract assumptions baked in (see tests/data/README.md):
  * now = 2026-11-27T00:00:00Z, timestamp window [now - 20y, now + 1 day];
  * read = non-blank lines (NDJSON) or data records excluding the header (CSV);
    read = accepted + duplicates + quarantined;
  * an empty CSV cell means "absent";
  * each bad row has exactly one defect, so the order of checks only matters
    where the contract fixes it.
"""
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import zlib
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EX = os.path.join(ROOT, "examples")
TD = HERE

NOW = dt.datetime(2026, 11, 27, tzinfo=dt.timezone.utc)
TS_MIN = dt.datetime(2006, 11, 27, tzinfo=dt.timezone.utc)
TS_MAX = NOW + dt.timedelta(days=1)
UTC = dt.timezone.utc


# --------------------------------------------------------------------------
# deterministic PRNG (splitmix64; independent of Python's random module)
class Rng:
    def __init__(self, seed):
        self.s = seed & 0xFFFFFFFFFFFFFFFF

    def u64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def below(self, n):
        return self.u64() % n

    def randint(self, a, b):
        return a + self.below(b - a + 1)

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def chance(self, p):
        return (self.u64() >> 11) / float(1 << 53) < p


# --------------------------------------------------------------------------
# helpers
def jdump(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def ts(d, ms=True, offset_min=0):
    """RFC 3339 string for aware datetime d, rendered in the given offset."""
    tz = dt.timezone(dt.timedelta(minutes=offset_min))
    loc = d.astimezone(tz)
    s = loc.strftime("%Y-%m-%dT%H:%M:%S")
    if ms:
        s += ".%03d" % (loc.microsecond // 1000)
    if offset_min == 0:
        return s + "Z"
    sign = "+" if offset_min > 0 else "-"
    m = abs(offset_min)
    return s + "%s%02d:%02d" % (sign, m // 60, m % 60)


def write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_json(path, obj):
    write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def gz(data):
    # mtime=0 and no file name: same bytes on every run (like gzip -n)
    return gzip.compress(data, compresslevel=9, mtime=0)


def track(mid, when, event, props=None, user=None, anon=None, **extra):
    o = {"type": "track", "messageId": mid}
    if user is not None:
        o["userId"] = user
    if anon is not None:
        o["anonymousId"] = anon
    o["event"] = event
    o["timestamp"] = when
    if props is not None:
        o["properties"] = props
    o.update(extra)
    return o


def identify(mid, when, traits, user=None, anon=None):
    o = {"type": "identify", "messageId": mid}
    if user is not None:
        o["userId"] = user
    if anon is not None:
        o["anonymousId"] = anon
    o["timestamp"] = when
    o["traits"] = traits
    return o


def group(mid, when, user, gid, traits):
    return {"type": "group", "messageId": mid, "userId": user, "groupId": gid,
            "timestamp": when, "traits": traits}


# --------------------------------------------------------------------------
# labelled builders: the manifest comes from these labels
class Nd:
    def __init__(self):
        self.lines = []          # bytes without trailing newline
        self.t = Counter()
        self.reasons = Counter()
        self.seen = set()

    def good(self, obj):
        line = jdump(obj).encode()
        assert obj["messageId"] not in self.seen, obj["messageId"]
        self.seen.add(obj["messageId"])
        self.lines.append(line)
        self.t["accepted"] += 1
        return line

    def good_raw(self, raw, mid):
        assert mid not in self.seen
        self.seen.add(mid)
        self.lines.append(raw)
        self.t["accepted"] += 1

    def dup(self, raw):
        self.lines.append(raw)
        self.t["duplicates"] += 1

    def bad(self, reason, raw):
        if isinstance(raw, dict):
            raw = jdump(raw).encode()
        elif isinstance(raw, str):
            raw = raw.encode()
        self.lines.append(raw)
        self.reasons[reason] += 1

    def blank(self, raw=b""):
        self.lines.append(raw)
        self.t["blank"] += 1

    def data(self):
        return b"".join(l + b"\n" for l in self.lines)

    def manifest(self, **extra):
        q = sum(self.reasons.values())
        m = {"read": self.t["accepted"] + self.t["duplicates"] + q,
             "accepted": self.t["accepted"],
             "duplicates": self.t["duplicates"],
             "quarantined": q,
             "reasons": dict(sorted(self.reasons.items()))}
        m.update(extra)
        return m


def csv_field(v):
    if v is None:
        v = ""
    v = str(v)
    if any(c in v for c in ',"\n\r'):
        return '"' + v.replace('"', '""') + '"'
    return v


class Csv:
    def __init__(self, header):
        self.header = header
        self.rows = [",".join(header).encode()]
        self.t = Counter()
        self.reasons = Counter()

    def row(self, d):
        for k in d:
            assert k in self.header, k
        return ",".join(csv_field(d.get(k, "")) for k in self.header).encode()

    def good(self, d):
        r = self.row(d)
        self.rows.append(r)
        self.t["accepted"] += 1
        return r

    def dup(self, raw):
        self.rows.append(raw)
        self.t["duplicates"] += 1

    def bad(self, reason, row):
        raw = self.row(row) if isinstance(row, dict) else row
        if isinstance(raw, str):
            raw = raw.encode()
        self.rows.append(raw)
        self.reasons[reason] += 1

    def data(self):
        return b"".join(r + b"\n" for r in self.rows)

    def manifest(self, **extra):
        q = sum(self.reasons.values())
        m = {"read": self.t["accepted"] + self.t["duplicates"] + q,
             "accepted": self.t["accepted"],
             "duplicates": self.t["duplicates"],
             "quarantined": q,
             "reasons": dict(sorted(self.reasons.items()))}
        m.update(extra)
        return m


# --------------------------------------------------------------------------
# reference checker (from the contract; used only to cross-check labels)
RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
NUM = re.compile(r"^-?\d+(\.\d+)?$")


def parse_rfc3339(s):
    m = RFC3339.match(s)
    if not m:
        return None
    y, mo, d, h, mi, se = (int(x) for x in m.groups()[:6])
    off = m.group(8)
    try:
        if off == "Z":
            tz = UTC
        else:
            oh, om = int(off[1:3]), int(off[4:6])
            if oh > 23 or om > 59:
                return None
            delta = dt.timedelta(hours=oh, minutes=om)
            tz = dt.timezone(delta if off[0] == "+" else -delta)
        return dt.datetime(y, mo, d, h, mi, se, tzinfo=tz)
    except ValueError:
        return None


def ok_csv_date(s):
    if DATE.match(s):
        try:
            dt.date(*(int(x) for x in s.split("-")))
            return True
        except ValueError:
            return False
    return parse_rfc3339(s) is not None


def json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


class EventChecker:
    def __init__(self, policy="warn", max_line=1 << 20):
        self.policy, self.max_line = policy, max_line
        self.seen = set()
        self.types = {}
        self.changes = set()
        self.c = Counter()
        self.reasons = Counter()

    def validate(self, o):
        if not isinstance(o, dict):
            return "malformed_json"
        if ("type" not in o or "messageId" not in o or "timestamp" not in o
                or ("userId" not in o and "anonymousId" not in o)
                or (o["type"] == "track" and "event" not in o)
                or (o["type"] == "group" and "groupId" not in o)):
            return "missing_field"
        if isinstance(o["type"], str) and o["type"] not in ("track", "identify", "group"):
            return "unsupported_type"
        for k in ("messageId", "userId", "anonymousId", "event", "groupId", "timestamp", "type"):
            if k in o and not isinstance(o[k], str):
                return "bad_value"
        for k in ("properties", "traits"):
            if k in o and not isinstance(o[k], dict):
                return "bad_value"
        t = parse_rfc3339(o["timestamp"])
        if t is None or not (TS_MIN <= t <= TS_MAX):
            return "bad_timestamp"
        return None

    def obj(self, o):
        """o: parsed object (or non-object); returns outcome string."""
        r = self.validate(o)
        if r:
            return self.q(r)
        if o["messageId"] in self.seen:
            self.c["duplicates"] += 1
            return "duplicate"
        if o["type"] == "track":
            ev = o["event"]
            mism = []
            for k, v in (o.get("properties") or {}).items():
                jt = json_type(v)
                prev = self.types.get((ev, k))
                if prev is not None and prev != jt:
                    mism.append((ev, k, jt))
            if mism and self.policy == "block":
                return self.q("type_mismatch")
            for (e, k, jt) in mism:
                self.changes.add((e, k, jt))
            for k, v in (o.get("properties") or {}).items():
                self.types[(ev, k)] = json_type(v)
        self.seen.add(o["messageId"])
        self.c["accepted"] += 1
        return "accepted"

    def q(self, r):
        self.reasons[r] += 1
        return r

    def line(self, raw):
        if raw.strip(b" \t\r") == b"":
            return "blank"
        self.c["read"] += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return self.q("invalid_utf8")
        if len(raw) > self.max_line:
            return self.q("line_too_long")
        try:
            o = json.loads(text)
        except ValueError:
            return self.q("malformed_json")
        return self.obj(o)

    def feed(self, data):
        parts = data.split(b"\n")
        if parts and parts[-1] == b"":
            parts.pop()
        for p in parts:
            self.line(p)
        return self

    def manifest(self):
        return {"read": self.c["read"], "accepted": self.c["accepted"],
                "duplicates": self.c["duplicates"],
                "quarantined": sum(self.reasons.values()),
                "reasons": dict(sorted(self.reasons.items()))}


def csv_records(data):
    """RFC 4180 records from bytes: list of (fields, malformed)."""
    recs, i, n = [], 0, len(data)
    while i < n:
        fields, field, bad, state = [], bytearray(), False, "start"
        while True:
            if i >= n:
                fields.append(bytes(field))
                break
            c = data[i]
            if state == "start":
                if c == 0x22:
                    state, i = "q", i + 1
                    continue
                state = "u"
            if state == "u":
                if c == 0x2C:
                    fields.append(bytes(field)); field = bytearray(); state = "start"; i += 1
                elif c == 0x0A:
                    fields.append(bytes(field)); i += 1
                    break
                else:
                    if c == 0x22:
                        bad = True
                    field.append(c); i += 1
            elif state == "q":
                if c == 0x22:
                    if i + 1 < n and data[i + 1] == 0x22:
                        field.append(0x22); i += 2
                    else:
                        state, i = "after", i + 1
                else:
                    field.append(c); i += 1
            elif state == "after":
                if c == 0x2C:
                    fields.append(bytes(field)); field = bytearray(); state = "start"; i += 1
                elif c == 0x0A:
                    fields.append(bytes(field)); i += 1
                    break
                else:
                    bad = True; state = "u"; field.append(c); i += 1
        recs.append((fields, bad))
    return recs


def is_num(s):
    return bool(NUM.match(s))


def v_backlog(r):
    for k in ("id", "title", "effort", "status", "created_at"):
        if not r.get(k):
            return "missing_field"
    if not is_num(r["effort"]) or float(r["effort"]) <= 0:
        return "bad_value"
    if r["status"] not in ("idea", "planned", "in_progress", "shipped", "dropped"):
        return "bad_value"
    if r["status"] == "shipped" and not r.get("shipped_at"):
        return "missing_field"
    for k in ("reach", "impact", "confidence"):
        if r.get(k) and (not is_num(r[k]) or float(r[k]) < 0):
            return "bad_value"
    if not ok_csv_date(r["created_at"]) or (r.get("shipped_at") and not ok_csv_date(r["shipped_at"])):
        return "bad_timestamp"
    return None


def v_feedback(r):
    for k in ("id", "created_at", "source", "text"):
        if not r.get(k):
            return "missing_field"
    if r.get("score") and not is_num(r["score"]):
        return "bad_value"
    if not ok_csv_date(r["created_at"]):
        return "bad_timestamp"
    return None


def v_signals(r):
    for k in ("date", "signal", "value"):
        if not r.get(k):
            return "missing_field"
    if not is_num(r["value"]):
        return "bad_value"
    if not ok_csv_date(r["date"]):
        return "bad_timestamp"
    return None


TYPED = re.compile(r"^(user|account|feature):.+$", re.S)


def v_graph(r):
    for k in ("src", "relation", "dst"):
        if not r.get(k):
            return "missing_field"
    if not TYPED.match(r["src"]) or not TYPED.match(r["dst"]):
        return "bad_value"
    if r.get("weight") and not is_num(r["weight"]):
        return "bad_value"
    return None


def check_csv(data, validator, keyf):
    recs = csv_records(data)
    header = [f.decode() for f in recs[0][0]]
    c, reasons, stored = Counter(), Counter(), {}
    for fields, bad in recs[1:]:
        c["read"] += 1
        try:
            sf = [f.decode("utf-8") for f in fields]
        except UnicodeDecodeError:
            reasons["invalid_utf8"] += 1
            continue
        if bad or len(sf) != len(header):
            reasons["malformed_csv"] += 1
            continue
        r = dict(zip(header, sf))
        why = validator(r)
        if why:
            reasons[why] += 1
            continue
        k = keyf(r)
        if k in stored:
            assert stored[k] == r, ("same key, different row", k)
            c["duplicates"] += 1
            continue
        stored[k] = r
        c["accepted"] += 1
    return {"read": c["read"], "accepted": c["accepted"], "duplicates": c["duplicates"],
            "quarantined": sum(reasons.values()), "reasons": dict(sorted(reasons.items()))}


def check_events_csv(data):
    recs = csv_records(data)
    header = [f.decode() for f in recs[0][0]]
    ec = EventChecker()
    reasons = Counter()
    for fields, bad in recs[1:]:
        ec.c["read"] += 1
        sf = [f.decode("utf-8") for f in fields]
        if bad or len(sf) != len(header):
            ec.q("malformed_csv")
            continue
        o = {k: v for k, v in zip(header, sf) if v != ""}
        for k in ("properties", "traits"):
            if k in o:
                o[k] = json.loads(o[k])
        ec.obj(o)
    return ec.manifest()


def same(label, built, checked):
    b = {k: built[k] for k in ("read", "accepted", "duplicates", "quarantined", "reasons")}
    if b != checked:
        raise SystemExit("MISMATCH %s\n built:   %s\n checked: %s" % (label, b, checked))


# ==========================================================================
# examples/: Acme Analytics
FEATURES = {
    # event name: (backlog id, shipped_at) -- event only occurs after ship date
    "CSV Imported": ("BL-1", "2026-08-12"),
    "Report Exported": ("BL-2", "2026-08-26"),
    "Dashboard Shared": ("BL-3", "2026-09-09"),
    "Alert Configured": ("BL-4", "2026-09-30"),
    "Scheduled Report Created": ("BL-5", "2026-10-14"),
    "Slack Integration Connected": ("BL-6", "2026-10-21"),
    "Dark Mode Enabled": ("BL-7", "2026-11-04"),
    "SSO Configured": ("BL-8", "2026-11-11"),
}


def slug(name):
    return name.lower().replace(" ", "_")


ACCOUNTS = [
    # id, name, plan, industry, seats, arr
    ("acct-1", "Northwind Traders", "enterprise", "retail", 120, 96000),
    ("acct-2", "Globex", "pro", "manufacturing", 25, 15000),
    ("acct-3", "Initech", "free", "software", 3, 0),
    ("acct-4", "Umbrella Health", "enterprise", "healthcare", 200, 150000),
    ("acct-5", "Hooli", "pro", "software", 40, 24000),
    ("acct-6", "Vandelay Logistics", "pro", "logistics", 15, 9000),
    ("acct-7", "Stark Fintech", "enterprise", "fintech", 80, 72000),
    ("acct-8", "Pied Piper", "free", "software", 5, 0),
    ("acct-9", "Wayne Media", "pro", "media", 30, 18000),
    ("acct-10", "Soylent Foods", "free", "retail", 4, 0),
    ("acct-11", "Cyberdyne", "pro", "manufacturing", 20, 12000),
    ("acct-12", "Tyrell Bank", "enterprise", "fintech", 150, 120000),
]
ACCT = {a[0]: a for a in ACCOUNTS}
DOMAIN = {a[0]: a[1].split()[0].lower() + ".example" for a in ACCOUNTS}
N_USERS = 40


def user_acct(i):
    return "acct-%d" % ((i - 1) % 12 + 1)


WIN0 = dt.datetime(2026, 9, 26, tzinfo=UTC)           # 60-day window
WIN_DAYS = 60
EXP1 = ("exp-onboarding-checklist", ("control", "checklist"))
EXP2 = ("exp-annual-billing-toggle", ("control", "annual_toggle"))


def feature_props(rng, ev):
    if ev == "Query Run":
        return {"query_ms": rng.randint(40, 4000), "source": rng.choice(["sql", "builder"]),
                "rows": rng.randint(0, 50000)}
    if ev == "Dashboard Created":
        return {"dashboard_id": "db-%d" % rng.randint(100, 999), "widgets": rng.randint(1, 12),
                "from_template": rng.chance(0.4)}
    if ev == "Report Exported":
        return {"format": rng.choice(["pdf", "csv", "xlsx"]), "pages": rng.randint(1, 30)}
    if ev == "Alert Configured":
        return {"metric": rng.choice(["revenue", "signups", "error_rate", "latency_p95"]),
                "channel": rng.choice(["email", "slack"]), "threshold": rng.randint(1, 100)}
    if ev == "Scheduled Report Created":
        return {"frequency": rng.choice(["daily", "weekly", "monthly"]), "recipients": rng.randint(1, 8)}
    if ev == "Slack Integration Connected":
        return {"workspace_size": rng.randint(10, 900)}
    if ev == "Dashboard Shared":
        return {"dashboard_id": "db-%d" % rng.randint(100, 999), "share_type": rng.choice(["link", "user"]),
                "recipients": rng.randint(1, 10)}
    if ev == "CSV Imported":
        return {"rows": rng.randint(100, 200000), "size_kb": rng.randint(5, 9000)}
    if ev == "Dark Mode Enabled":
        return {"source": rng.choice(["settings", "shortcut"])}
    if ev == "SSO Configured":
        return {"provider": rng.choice(["okta", "azure_ad", "google"])}
    raise KeyError(ev)


def make_example_events():
    rng = Rng(20261127)
    items = []          # (datetime, seq, obj)
    seq = [0]
    mid_n = [0]

    def mid():
        mid_n[0] += 1
        return "acme-%04d" % mid_n[0]

    def add(when, obj_fn):
        seq[0] += 1
        items.append((when, seq[0], obj_fn))

    # Berlin users (ids divisible by 7) send +01:00/+02:00 offsets
    def stamp(i, when):
        if i % 7 == 0:
            off = 120 if when < dt.datetime(2026, 10, 25, 1, tzinfo=UTC) else 60
            return ts(when, ms=True, offset_min=off)
        return ts(when)

    first = {}
    for i in range(1, N_USERS + 1):
        day = rng.randint(0, 12) if i <= 24 else rng.randint(5, 40)
        first[i] = WIN0 + dt.timedelta(days=day, hours=rng.randint(8, 17), minutes=rng.randint(0, 59),
                                       seconds=rng.randint(0, 59), milliseconds=rng.randint(0, 999))
    exp1 = {i: EXP1[1][rng.below(2)] for i in range(1, N_USERS + 1)}
    exp2_users = [i for i in range(1, N_USERS + 1) if ACCT[user_acct(i)][2] != "enterprise"][:20]
    exp2 = {i: EXP2[1][rng.below(2)] for i in exp2_users}

    fixed = []  # list of (when, user index, kind, payload)
    for i in range(1, N_USERS + 1):
        u, a = "u-%d" % i, user_acct(i)
        t0 = first[i]
        anon = None
        if i > 35:  # five users arrive anonymously before signing up
            anon = "anon-%08x" % (rng.u64() & 0xFFFFFFFF)
            tp = t0 - dt.timedelta(minutes=rng.randint(5, 50))
            fixed.append((tp, i, lambda tp=tp, anon=anon, i=i: track(
                mid(), stamp(i, tp), "Pricing Viewed", {"referrer": rng.choice(["google", "g2", "direct"])}, anon=anon)))
            fixed.append((t0 - dt.timedelta(seconds=30), i, lambda i=i, anon=anon, u=u, a=a: track(
                mid(), stamp(i, first[i] - dt.timedelta(seconds=30)), "Signed Up",
                {"plan": ACCT[a][2]}, anon=anon)))
        fixed.append((t0, i, lambda i=i, u=u, a=a, anon=anon: identify(
            mid(), stamp(i, first[i]), {"email": "%s@%s" % (u, DOMAIN[a]), "plan": ACCT[a][2]},
            user=u, anon=anon)))
        te = t0 + dt.timedelta(minutes=2)
        fixed.append((te, i, lambda i=i, u=u, te=te: track(
            mid(), stamp(i, te), "Experiment Viewed",
            {"experiment_id": EXP1[0], "variation_id": exp1[i]}, user=u)))
    # group call by the first user of each account
    for a in ACCOUNTS:
        i = int(a[0].split("-")[1])
        tg = first[i] + dt.timedelta(minutes=1)
        fixed.append((tg, i, lambda a=a, i=i, tg=tg: group(
            mid(), stamp(i, tg), "u-%d" % i, a[0],
            {"name": a[1], "plan": a[2], "industry": a[3], "seats": a[4], "arr": a[5]})))
    # experiment 2 exposures (pricing page) and upgrades
    for i in exp2_users:
        tx = first[i] + dt.timedelta(days=rng.randint(3, 12), hours=2)
        fixed.append((tx, i, lambda i=i, tx=tx: track(
            mid(), stamp(i, tx), "Experiment Viewed",
            {"experiment_id": EXP2[0], "variation_id": exp2[i]}, user="u-%d" % i)))
        p = 0.5 if exp2[i] == "annual_toggle" else 0.15
        if rng.chance(p):
            tu = tx + dt.timedelta(minutes=rng.randint(3, 90))
            cur = ACCT[user_acct(i)][2]
            fixed.append((tu, i, lambda i=i, tu=tu, cur=cur: track(
                mid(), stamp(i, tu), "Plan Upgraded",
                {"from_plan": cur, "to_plan": "pro" if cur == "free" else "enterprise",
                 "annual": exp2[i] == "annual_toggle"}, user="u-%d" % i)))

    target = 300
    n_track = target - len(fixed)
    feats = ["Query Run"] * 6 + ["Dashboard Created"] * 3 + list(FEATURES) * 1
    tracks = []
    while len(tracks) < n_track:
        i = rng.randint(1, N_USERS)
        ev = rng.choice(feats)
        if ev == "Dashboard Created" and exp1[i] == "control" and rng.chance(0.5):
            ev = "Query Run"   # checklist variation creates more dashboards
        span = (WIN0 + dt.timedelta(days=WIN_DAYS) - first[i]).total_seconds()
        when = first[i] + dt.timedelta(seconds=600 + rng.below(int(span) - 3600))
        if ev in FEATURES:
            shipped = dt.datetime.fromisoformat(FEATURES[ev][1]).replace(tzinfo=UTC)
            if when < shipped + dt.timedelta(days=1):
                continue
        props = feature_props(rng, ev)
        tracks.append((when, i, lambda i=i, when=when, ev=ev, props=props: track(
            mid(), stamp(i, when), ev, props, user="u-%d" % i)))
    allitems = sorted(fixed + tracks, key=lambda x: (x[0], x[1]))
    objs = [fn() for (_, _, fn) in allitems]
    for (w, _, _) in allitems:
        assert dt.datetime(2026, 8, 1, tzinfo=UTC) <= w < dt.datetime(2026, 11, 25, tzinfo=UTC), w

    nd = Nd()
    raws = [nd.good(o) for o in objs]
    # rebuild line list with duplicates and bad rows spliced in
    out = Nd()
    out.seen = set()
    for k, (o, raw) in enumerate(zip(objs, raws)):
        out.good_raw(raw, o["messageId"])
        if k == 120:
            out.dup(raws[118])        # client retry: same line re-sent
        if k == 90:
            out.bad("malformed_json", b'{"type":"track","messageId":"acme-bad-1","userId":"u-4","event":"Query Run","timestamp":"2026-10-12T09:1')
        if k == 180:
            out.bad("missing_field", jdump({"type": "track", "messageId": "acme-bad-2", "userId": "u-9",
                                            "timestamp": "2026-10-30T14:02:11.000Z",
                                            "properties": {"format": "pdf", "pages": 3}}))
        if k == 240:
            out.bad("bad_timestamp", jdump({"type": "track", "messageId": "acme-bad-3", "userId": "u-17",
                                            "event": "Report Exported", "timestamp": "yesterday",
                                            "properties": {"format": "csv", "pages": 1}}))
        if k == 260:
            out.dup(raws[255])
    return out


def make_examples():
    nd = make_example_events()
    data = nd.data()
    write_bytes(os.path.join(EX, "events.ndjson"), data)
    m = nd.manifest(schema_changes=0)
    same("examples/events.ndjson", m, EventChecker().feed(data).manifest())
    write_json(os.path.join(TD, "examples_events.expect.json"), m)
    results = {"events.ndjson": m}

    # ---- backlog
    b = Csv(["id", "title", "description", "area", "effort", "status", "created_at", "shipped_at",
             "feature_key", "reach", "impact", "confidence"])
    shipped = [
        ("BL-1", "CSV import", "Upload CSV files as data sources, up to 200k rows.", "data", 3, "2026-08-01"),
        ("BL-2", "Report export (PDF, CSV, XLSX)", "Export any report to PDF, CSV or Excel.", "reporting", 2, "2026-08-03"),
        ("BL-3", "Dashboard sharing", "Share dashboards by link or with named users.", "collaboration", 4, "2026-08-04"),
        ("BL-4", "Metric alerts", "Alert by email or Slack when a metric crosses a threshold.", "alerts", 5, "2026-08-06"),
        ("BL-5", "Scheduled reports", "Email a report daily, weekly or monthly.", "reporting", 3, "2026-08-10"),
        ("BL-6", "Slack integration", "Connect a Slack workspace for alerts and report delivery.", "integrations", 2, "2026-08-12"),
        ("BL-7", "Dark mode", "Dark theme for the whole app.", "ui", 1.5, "2026-08-18"),
        ("BL-8", "SAML SSO", "Single sign-on with Okta, Azure AD and Google.", "security", 6, "2026-08-24"),
    ]
    ev_by_bl = {v[0]: k for k, v in FEATURES.items()}
    rng = Rng(7)
    for (bid, title, desc, area, eff, created) in shipped:
        ev = ev_by_bl[bid]
        b.good({"id": bid, "title": title, "description": desc, "area": area, "effort": eff,
                "status": "shipped", "created_at": created, "shipped_at": FEATURES[ev][1],
                "feature_key": slug(ev), "reach": rng.randint(50, 400), "impact": rng.choice([0.5, 1, 2, 3]),
                "confidence": rng.choice([0.5, 0.8, 1])})
    rest = [
        ("Anomaly detection for alerts", "Alert on unusual changes without a fixed threshold.", "alerts", 6, "planned"),
        ("Query result caching", "Cache query results for 15 minutes to speed up dashboards.", "performance", 3, "in_progress"),
        ("Dashboard templates gallery", "Start a dashboard from a gallery of templates.", "onboarding", 2, "planned"),
        ("Row-level permissions", "Restrict which rows a user can see in shared dashboards.", "security", 8, "idea"),
        ("Microsoft Teams integration", "Deliver alerts and scheduled reports to Teams.", "integrations", 3, "planned"),
        ("Audit log", "Record who changed dashboards, alerts and SSO settings.", "security", 4, "in_progress"),
        ("Query autocomplete", "Autocomplete table and column names in the SQL editor.", "querying", 2, "idea"),
        ("Mobile dashboards", "Responsive dashboards for phones.", "ui", 5, "idea"),
        ("Embedded analytics SDK", "Embed dashboards in customer apps.", "platform", 10, "idea"),
        ("Alert snoozing", "Snooze an alert during maintenance windows.", "alerts", 1, "planned"),
        ("Excel add-in", "Pull report data straight into Excel.", "integrations", 4, "dropped"),
        ("SCIM provisioning", "Provision and deprovision users from the identity provider.", "security", 3, "planned"),
        ("Saved query folders", "Organise saved queries in folders.", "querying", 1, "idea"),
        ("Export to Google Sheets", "Send report exports to Google Sheets.", "reporting", 2, "idea"),
        ("Onboarding checklist", "Guided checklist for new workspaces (see exp-onboarding-checklist).", "onboarding", 1, "in_progress"),
        ("Annual billing toggle", "Show annual pricing on the pricing page (see exp-annual-billing-toggle).", "billing", 1, "dropped"),
        ("Usage-based pricing", "Bill by queries run instead of seats.", "billing", 6, "idea"),
    ]
    for k, (title, desc, area, eff, status) in enumerate(rest):
        bid = "BL-%d" % (9 + k)
        created = (dt.date(2026, 8, 1) + dt.timedelta(days=rng.randint(0, 100))).isoformat()
        b.good({"id": bid, "title": title, "description": desc, "area": area, "effort": eff,
                "status": status, "created_at": created, "shipped_at": "",
                "feature_key": slug(title).replace("-", "_").replace("(", "").replace(")", ""),
                "reach": rng.randint(20, 500), "impact": rng.choice([0.25, 0.5, 1, 2, 3]),
                "confidence": rng.choice([0.5, 0.8, 1])})
    bd = b.data()
    write_bytes(os.path.join(EX, "backlog.csv"), bd)
    results["backlog.csv"] = b.manifest()
    same("examples/backlog.csv", b.manifest(), check_csv(bd, v_backlog, lambda r: r["id"]))

    # ---- feedback
    f = Csv(["id", "created_at", "source", "user_id", "account_id", "score", "item_id", "text"])
    fb = [
        ("nps", 9, "BL-2", "Report export to PDF is exactly what our execs wanted."),
        ("support", None, "BL-2", "XLSX export drops the number formatting on currency columns."),
        ("intercom", None, "BL-4", "Metric alerts on revenue saved us during the outage, thanks!"),
        ("nps", 6, "BL-9", "Alerts are noisy. Could you detect anomalies instead of fixed thresholds?"),
        ("support", None, "BL-18", "Need to snooze alerts during our Sunday maintenance window."),
        ("sales_call", None, "BL-8", "Security review requires SAML SSO before they sign the enterprise deal."),
        ("sales_call", None, "BL-20", "Prospect asked for SCIM provisioning alongside SSO."),
        ("intercom", None, "BL-13", "We use Microsoft Teams, not Slack. Any plans for a Teams integration?"),
        ("nps", 10, "BL-6", "Slack integration is great, scheduled reports land in our channel."),
        ("g2", 4, "", "Fast query builder, dashboards look good, pricing is a bit steep."),
        ("nps", 3, "BL-10", "Dashboards take forever to load on Monday mornings. Please cache queries."),
        ("support", None, "BL-10", "Query timeout on the weekly revenue dashboard again."),
        ("intercom", None, "BL-11", "A template gallery would help new teammates build their first dashboard."),
        ("nps", 8, "BL-3", "Sharing dashboards by link made our weekly review much easier."),
        ("support", None, "BL-12", "Contractors must only see their own region's rows; we need row-level permissions."),
        ("sales_call", None, "BL-12", "Enterprise buyer blocked on row-level permissions for shared dashboards."),
        ("g2", 5, "BL-7", "Dark mode! Finally."),
        ("nps", 7, "BL-15", "Autocomplete for column names in the SQL editor would save me time."),
        ("intercom", None, "BL-16", "Our field team wants mobile dashboards on their phones."),
        ("sales_call", None, "BL-17", "Partner wants to embed dashboards in their customer portal (embedded analytics)."),
        ("support", None, "BL-14", "Compliance asked who changed the alert thresholds last week. Is there an audit log?"),
        ("nps", 9, "BL-5", "Scheduled reports replaced a manual Monday export for us."),
        ("g2", 3, "BL-1", "CSV import choked on a 300k row file."),
        ("intercom", None, "BL-22", "Could exports go straight to Google Sheets?"),
        ("nps", 5, "BL-25", "We'd pay per query rather than per seat; most of our seats are read-only."),
        ("support", None, "BL-21", "Lost track of saved queries, folders please."),
        ("nps", 10, "", "Best analytics tool we have used."),
        ("intercom", None, "BL-23", "The onboarding checklist helped me create my first dashboard in minutes."),
        ("sales_call", None, "BL-24", "Finance prefers annual billing with a discount."),
        ("support", None, "BL-4", "Alert emails go to spam for some recipients."),
        ("nps", 4, "BL-9", "Too many false alerts on error_rate; thresholds don't fit weekends."),
        ("g2", 4, "BL-6", "Slack alerts are handy but need per-channel routing."),
        ("nps", 8, "BL-10", "Queries are fast now most days, dashboards still slow sometimes."),
        ("support", None, "BL-8", "SSO with Azure AD works, but group mapping is confusing."),
        ("intercom", None, "BL-13", "Teams integration please, same as Slack."),
        ("nps", 2, "BL-12", "Can't roll out to contractors without row-level permissions."),
        ("sales_call", None, "", "Procurement asked about data residency in the EU."),
        ("nps", 9, "BL-3", "Shared dashboards are now our source of truth."),
        ("support", None, "BL-19", "Is the Excel add-in coming back?"),
        ("g2", 5, "", "Great support team and easy setup."),
    ]
    rng = Rng(11)
    for k, (src, score, item, text) in enumerate(fb):
        ui = rng.randint(1, N_USERS)
        d0 = dt.datetime(2026, 8, 1, 9, tzinfo=UTC) + dt.timedelta(days=k * 2 + rng.randint(0, 1),
                                                                     hours=rng.randint(0, 8))
        if item in ev_by_bl and src != "sales_call":
            # feedback about a shipped feature comes after it shipped
            shipped_on = dt.datetime.fromisoformat(FEATURES[ev_by_bl[item]][1]).replace(tzinfo=UTC)
            d0 = max(d0, shipped_on + dt.timedelta(days=1 + rng.below(6), hours=9 + rng.below(8)))
        assert d0 < dt.datetime(2026, 11, 25, tzinfo=UTC)
        created = d0.date().isoformat() if k % 3 else ts(d0, ms=False)
        f.good({"id": "FB-%d" % (k + 1), "created_at": created, "source": src,
                "user_id": "u-%d" % ui if src != "sales_call" else "",
                "account_id": user_acct(ui), "score": "" if score is None else score,
                "item_id": item, "text": text})
    fd = f.data()
    write_bytes(os.path.join(EX, "feedback.csv"), fd)
    results["feedback.csv"] = f.manifest()
    same("examples/feedback.csv", f.manifest(), check_csv(fd, v_feedback, lambda r: r["id"]))

    # ---- signals: 15 weeks x 4 series
    s = Csv(["date", "signal", "area", "value"])
    rng = Rng(13)
    for w in range(15):
        d = (dt.date(2026, 8, 3) + dt.timedelta(weeks=w)).isoformat()
        s.good({"date": d, "signal": "weekly_active_users", "area": "", "value": 180 + 9 * w + rng.randint(-6, 6)})
        s.good({"date": d, "signal": "mrr_usd", "area": "billing", "value": 41000 + 650 * w + rng.randint(-300, 300)})
        s.good({"date": d, "signal": "support_tickets", "area": "reporting",
                "value": max(2, 22 - w + rng.randint(-3, 3))})
        s.good({"date": d, "signal": "support_tickets", "area": "alerts",
                "value": (3 if w < 9 else 14 - (w - 9)) + rng.randint(0, 3)})
    sd = s.data()
    write_bytes(os.path.join(EX, "signals.csv"), sd)
    results["signals.csv"] = s.manifest()
    same("examples/signals.csv", s.manifest(),
         check_csv(sd, v_signals, lambda r: (r["date"], r["signal"], r.get("area", ""))))

    # ---- graph: who invited whom
    g = Csv(["src", "relation", "dst", "weight"])
    rng = Rng(17)
    for i in range(13, N_USERS + 1):
        same_acct = [j for j in range(1, i) if user_acct(j) == user_acct(i)]
        g.good({"src": "user:u-%d" % rng.choice(same_acct), "relation": "invited", "dst": "user:u-%d" % i,
                "weight": 1})
    g.good({"src": "user:u-1", "relation": "invited", "dst": "user:u-2", "weight": 1})
    g.good({"src": "user:u-5", "relation": "invited", "dst": "user:u-8", "weight": 1})
    gd = g.data()
    write_bytes(os.path.join(EX, "graph.csv"), gd)
    results["graph.csv"] = g.manifest()
    same("examples/graph.csv", g.manifest(),
         check_csv(gd, v_graph, lambda r: (r["src"], r["relation"], r["dst"])))
    return results


# ==========================================================================
# tests/data
def make_bad_events():
    rng = Rng(424242)
    nd = Nd()
    base = dt.datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    n = [0]

    def mid():
        n[0] += 1
        return "be-%03d" % n[0]

    def when(k, **kw):
        return ts(base + dt.timedelta(hours=7 * k, minutes=13 * k % 60, seconds=k % 60,
                                      milliseconds=(37 * k) % 1000), **kw)

    good = []
    # 60 good lines
    for k in range(60):
        u = "u-%d" % (k % 12 + 1)
        kind = k % 10
        t = when(k)
        if k == 0:
            o = identify(mid(), t, {"email": "u-1@acme.example", "plan": "pro", "name": "Zoë Ångström"},
                         user="u-1", anon="anon-0001")
        elif k == 1:
            o = group(mid(), t, "u-1", "acct-1", {"name": "Northwind", "plan": "enterprise",
                                                  "industry": "retail", "seats": 120, "arr": 96000})
        elif k == 2:
            o = track(mid(), t, "Pricing Viewed", {"referrer": "google"}, anon="anon-0002")
        elif k == 3:
            o = track(mid(), when(k, offset_min=120), "Report Exported", {"format": "pdf", "pages": 4}, user=u)
        elif k == 4:
            o = track(mid(), when(k, ms=False, offset_min=-300), "Report Exported",
                      {"format": "csv", "pages": 1}, user=u)
        elif k == 5:
            o = track(mid(), t, "Dashboard Created", {"dashboard_id": "db-1", "widgets": 3,
                                                      "from_template": True, "folder": None,
                                                      "tags": ["kpi", "weekly"], "layout": {"cols": 2}}, user=u)
        elif k == 6:
            o = track(mid(), t, "Experiment Viewed", {"experiment_id": "exp-onboarding-checklist",
                                                      "variation_id": "checklist"}, user=u)
        elif k == 7:
            o = track(mid(), t, "Alert Configured", {"metric": "revenue", "channel": "slack", "threshold": 2.5},
                      user=u, context={"library": {"name": "analytics.js", "version": "4.1.0"},
                                       "ip": "203.0.113.7"})
        elif k == 8:
            o = track(mid(), t, "Query Run", {"query_ms": 120, "source": "sql", "rows": 10,
                                              "sql": "SELECT 'café — 日本語 — 🚀' AS note"}, user=u)
        elif k == 9:
            o = track(mid(), t, "Dark Mode Enabled", {}, user=u)
        elif k == 10:
            o = track(mid(), t, "SSO Configured", None, user=u)   # no properties key at all
        elif k == 11:
            o = identify(mid(), t, {"email": "anon@acme.example", "plan": "free"}, anon="anon-0003")
        elif k == 12:
            # 6-digit fraction
            o = track(mid(), (base + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S") + ".123456Z",
                      "Query Run", {"query_ms": 99, "source": "builder", "rows": 0, "sql": ""}, user=u)
        elif k == 25:  # non-ASCII text; written with \u escapes below
            o = track(mid(), t, "Query Run", {"query_ms": 77, "source": "sql", "rows": 1,
                                              "sql": "SELECT 'Zoë 😀'"}, user=u)
        elif k == 13:
            o = track(mid(), t, "Experiment Viewed", {"experiment_id": "exp-annual-billing-toggle",
                                                      "variation_id": "control"}, user=u)
        else:
            ev = ["Query Run", "Dashboard Created", "Report Exported", "Alert Configured",
                  "Experiment Viewed", "Query Run", "Dashboard Created", "Identify", "Group", "Query Run"][kind]
            if ev == "Query Run":
                o = track(mid(), t, ev, {"query_ms": rng.randint(10, 900), "source": rng.choice(["sql", "builder"]),
                                         "rows": rng.randint(0, 999), "sql": "SELECT %d" % k}, user=u)
            elif ev == "Dashboard Created":
                o = track(mid(), t, ev, {"dashboard_id": "db-%d" % k, "widgets": rng.randint(1, 9),
                                         "from_template": rng.chance(0.5), "folder": None,
                                         "tags": ["t%d" % k], "layout": {"cols": rng.randint(1, 3)}}, user=u)
            elif ev == "Report Exported":
                o = track(mid(), t, ev, {"format": "xlsx", "pages": rng.randint(1, 9)}, user=u)
            elif ev == "Alert Configured":
                o = track(mid(), t, ev, {"metric": "signups", "channel": "email", "threshold": rng.randint(1, 50)},
                          user=u)
            elif ev == "Experiment Viewed":
                o = track(mid(), t, ev, {"experiment_id": "exp-onboarding-checklist",
                                         "variation_id": rng.choice(["control", "checklist"])}, user=u)
            elif ev == "Identify":
                o = identify(mid(), t, {"email": "%s@acme.example" % u, "plan": "pro"}, user=u)
            else:
                o = group(mid(), t, u, "acct-%d" % (k % 5 + 2), {"name": "Acct %d" % k, "plan": "pro",
                                                                  "industry": "software", "seats": k, "arr": 1000 * k})
        good.append(o)
    # the one long (but valid) line: ~2 KB, for max-line-length tests
    good[30] = track(good[30]["messageId"], good[30]["timestamp"], "Query Run",
                     {"query_ms": 3000, "source": "sql", "rows": 5,
                      "sql": "SELECT " + ", ".join("col_%03d" % c for c in range(250)) + " FROM wide_table"},
                     user="u-7")
    raws = {}
    bad_lines = {
        # position (after good line k) -> list of (reason, raw)
        2: [("invalid_utf8", b'{"type":"track","messageId":"bad-u8-1","userId":"u-2","event":"Report Exported","timestamp":"2026-10-02T10:00:00Z","properties":{"format":"caf\xff","pages":1}}')],
        4: [("malformed_json", b'[1,2]'),
            ("missing_field", {"messageId": "bad-mf-1", "userId": "u-3", "event": "Query Run",
                               "timestamp": "2026-10-02T11:00:00Z"})],   # no type
        6: [("unsupported_type", {"type": "page", "messageId": "bad-ut-1", "userId": "u-4", "name": "Pricing",
                                  "timestamp": "2026-10-02T12:00:00Z", "properties": {"path": "/pricing"}})],
        8: [("bad_value", {"type": "track", "messageId": "bad-bv-1", "userId": 42, "anonymousId": "anon-42",
                           "event": "Query Run", "timestamp": "2026-10-03T09:00:00Z"}),
            ("bad_timestamp", {"type": "track", "messageId": "bad-ts-1", "userId": "u-5", "event": "Report Exported",
                               "timestamp": "2026-10-03 12:00", "properties": {"format": "pdf", "pages": 2}})],
        11: [("invalid_utf8", b'{"type":"identify","messageId":"bad-u8-2","userId":"u-6","timestamp":"2026-10-04T10:00:00Z","traits":{"name":"\xc3\x28ric"}}')],
        13: [("malformed_json", b'{"type":"track","messageId":"bad-mj-2","userId":"u-6","event":"Query Run"'),
             ("missing_field", {"type": "track", "userId": "u-6", "event": "Query Run",
                                "timestamp": "2026-10-04T11:00:00Z"})],   # no messageId
        16: [("unsupported_type", {"type": "screen", "messageId": "bad-ut-2", "userId": "u-7", "name": "Home",
                                   "timestamp": "2026-10-05T08:00:00Z"}),
             ("bad_value", {"type": "track", "messageId": "bad-bv-2", "userId": "u-7", "event": "Query Run",
                            "timestamp": "2026-10-05T09:00:00Z", "properties": "oops"})],
        19: [("bad_timestamp", {"type": "track", "messageId": "bad-ts-2", "userId": "u-8", "event": "Query Run",
                                "timestamp": "yesterday"})],
        21: [("invalid_utf8", b'{"type":"track","messageId":"bad-u8-3","userId":"u-8","event":"Report Exported","timestamp":"2026-10-06T10:00:00Z","properties":{"format":"\xc0\xaf","pages":1}}'),
             ("missing_field", {"type": "track", "messageId": "bad-mf-3", "event": "Query Run",
                                "timestamp": "2026-10-06T11:00:00Z"})],   # neither userId nor anonymousId
        24: [("malformed_json", b'this is not json'),
             ("bad_timestamp", {"type": "track", "messageId": "bad-ts-3", "userId": "u-9", "event": "Query Run",
                                "timestamp": "2026-13-01T00:00:00Z"})],
        27: [("bad_value", {"type": "identify", "messageId": "bad-bv-3", "userId": "u-9",
                            "timestamp": "2026-10-07T09:00:00Z", "traits": [1, 2]}),
             ("missing_field", {"type": "track", "messageId": "bad-mf-4", "userId": "u-9", "event": "Query Run"})],  # no timestamp
        33: [("unsupported_type", {"type": "alias", "messageId": "bad-ut-3", "userId": "u-10", "previousId": "anon-0002",
                                   "timestamp": "2026-10-08T09:00:00Z"}),
             ("bad_timestamp", {"type": "track", "messageId": "bad-ts-4", "userId": "u-10", "event": "Query Run",
                                "timestamp": "2026-10-03T12:00:00"})],   # no offset
        36: [("invalid_utf8", b'{"type":"track","messageId":"bad-u8-4","userId":"u-10","event":"Query Run","timestamp":"2026-10-09T10:00:00Z","properties":{"sql":"\xed\xa0\x80"}}'),
             ("missing_field", {"type": "track", "messageId": "bad-mf-5", "userId": "u-11",
                                "timestamp": "2026-10-09T11:00:00Z", "properties": {"format": "pdf", "pages": 1}})],  # track w/o event
        40: [("bad_value", {"type": 3, "messageId": "bad-bv-4", "userId": "u-11", "event": "Query Run",
                            "timestamp": "2026-10-10T09:00:00Z"}),
             ("malformed_json", b'"just a string"')],
        44: [("missing_field", {"type": "group", "messageId": "bad-mf-6", "userId": "u-12",
                                "timestamp": "2026-10-11T09:00:00Z", "traits": {"plan": "pro"}}),   # group w/o groupId
             ("bad_timestamp", {"type": "track", "messageId": "bad-ts-5", "userId": "u-12", "event": "Query Run",
                                "timestamp": "1999-01-01T00:00:00Z"})],
        48: [("bad_value", {"type": "track", "messageId": 12345, "userId": "u-12", "event": "Query Run",
                            "timestamp": "2026-10-12T09:00:00Z"}),
             ("invalid_utf8", b'{"type":"track","messageId":"bad-u8-5","userId":"u-1","event":"Query Run","timestamp":"2026-10-12T10:00:00Z","properties":{"sql":"\xe2\x82"}}')],
        52: [("bad_timestamp", {"type": "track", "messageId": "bad-ts-6", "userId": "u-1", "event": "Query Run",
                                "timestamp": "2027-06-01T00:00:00Z"}),
             ("malformed_json", b'{"type":"track" "messageId":"bad-mj-5"}')],
        55: [("bad_value", {"type": "group", "messageId": "bad-bv-5", "userId": "u-2", "groupId": 7,
                            "timestamp": "2026-10-13T09:00:00Z", "traits": {"plan": "pro"}}),
             ("bad_value", {"type": "track", "messageId": "bad-bv-6", "userId": "u-2", "event": "Query Run",
                            "timestamp": 1791000000})],
    }
    for k, o in enumerate(good):
        if k == 20:   # one good line with spaces between tokens
            raw = json.dumps(o, ensure_ascii=False, separators=(" , ", " : ")).replace("{", "{ ").encode()
            nd.good_raw(raw, o["messageId"])
        elif k == 25:  # \u escapes (é, surrogate pair for 😀)
            raw = json.dumps(o, ensure_ascii=True).encode()
            nd.good_raw(raw, o["messageId"])
        else:
            raw = nd.good(o)
        raws[k] = raw
        for reason, b in bad_lines.get(k, []):
            nd.bad(reason, b)
        if k == 15:
            nd.blank(b"")
        if k == 38:
            nd.blank(b"  \t ")
        if k == 30:
            nd.dup(raws[9])            # exact re-send
        if k == 50:
            nd.dup(raws[20])           # exact re-send of the spaced line
        if k == 58:                    # same messageId, different payload: still a duplicate
            o2 = dict(good[40])
            o2["timestamp"] = ts(base + dt.timedelta(days=20))
            nd.dup(jdump(o2).encode())
    assert b"\\u00eb" in raws[25] and b"\\ud83d\\ude00" in raws[25], raws[25]
    return nd, good


def make_tests():
    res = {}
    # ---------------- bad_events
    nd, good = make_bad_events()
    data = nd.data()
    lens = sorted((len(l) for l in nd.lines), reverse=True)
    assert lens[0] > 1500 and lens[1] < 1024, lens[:3]
    m = nd.manifest()
    m2 = json.loads(json.dumps(m))
    m2["accepted"] -= 1
    m2["quarantined"] += 1
    m2["reasons"]["line_too_long"] = 1
    m2["reasons"] = dict(sorted(m2["reasons"].items()))
    m["schema_changes"] = 0
    m["blank_lines"] = nd.t["blank"]
    m["max_line_bytes_in_file"] = lens[0]
    m["variants"] = {"max_line_length=1024": m2}
    same("bad_events", m, EventChecker().feed(data).manifest())
    same("bad_events block", m, EventChecker(policy="block").feed(data).manifest())
    same("bad_events 1024", m2, EventChecker(max_line=1024).feed(data).manifest())
    write_bytes(os.path.join(TD, "bad_events.ndjson"), data)
    write_bytes(os.path.join(TD, "bad_events.ndjson.gz"), gz(data))
    write_json(os.path.join(TD, "bad_events.expect.json"), m)
    res["bad_events.ndjson (+.gz)"] = m

    # ---------------- schema_a / schema_b
    sa, sb = Nd(), Nd()
    plans = ["free", "pro", "enterprise"]
    for k in range(10):
        sa.good(track("sa-%02d" % (k + 1), ts(dt.datetime(2026, 11, 1, 9, tzinfo=UTC) + dt.timedelta(hours=k)),
                      "Plan Changed", {"plan": plans[(k + 1) % 3], "previous_plan": plans[k % 3],
                                       "seats": 5 + k}, user="u-%d" % (k + 1)))
    ma = sa.manifest(schema_changes=0)
    same("schema_a", ma, EventChecker().feed(sa.data()).manifest())
    # numbers first, then strings: the count is the same whether or not schema_a was
    # loaded first, and whether or not a warn-accepted string re-learns the type.
    sbl = []
    for k in range(10):
        seats = 10 + k if k < 5 else str(10 + k)
        o = track("sb-%02d" % (k + 1), ts(dt.datetime(2026, 11, 10, 9, tzinfo=UTC) + dt.timedelta(hours=k)),
                  "Plan Changed", {"plan": plans[(k + 2) % 3], "previous_plan": plans[k % 3], "seats": seats},
                  user="u-%d" % (k + 11))
        sbl.append(jdump(o).encode())
    warn = {"read": 10, "accepted": 10, "duplicates": 0, "quarantined": 0, "reasons": {}, "schema_changes": 1}
    block = {"read": 10, "accepted": 5, "duplicates": 0, "quarantined": 5, "reasons": {"type_mismatch": 5},
             "schema_changes": 0}
    sbd = b"".join(l + b"\n" for l in sbl)
    for pol, exp in (("warn", warn), ("block", block)):
        for pre in (True, False):
            c = EventChecker(policy=pol)
            if pre:
                c.feed(sa.data())
                c.c.clear(); c.reasons.clear(); c.changes.clear()
            c.feed(sbd)
            same("schema_b %s pre=%s" % (pol, pre), exp, c.manifest())
            assert len(c.changes) == exp["schema_changes"], (pol, c.changes)
    mb = {"note": "Load schema_a.ndjson first (or not: same result). Counts are for schema_b.ndjson alone. "
                  "Lines 1-5 have seats as number, lines 6-10 as string.",
          "warn": warn, "block": block}
    write_bytes(os.path.join(TD, "schema_a.ndjson"), sa.data())
    write_bytes(os.path.join(TD, "schema_b.ndjson"), sbd)
    write_json(os.path.join(TD, "schema_a.expect.json"), ma)
    write_json(os.path.join(TD, "schema_b.expect.json"), mb)
    res["schema_a.ndjson"] = ma
    res["schema_b.ndjson"] = mb

    # ---------------- bad_backlog.csv
    H = ["id", "title", "description", "area", "effort", "status", "created_at", "shipped_at", "feature_key",
         "reach", "impact", "confidence"]
    c = Csv(H)
    r1 = c.good({"id": "BL-1", "title": "CSV import", "description": "Upload CSV files.", "area": "data",
                 "effort": 3, "status": "shipped", "created_at": "2026-08-02", "shipped_at": "2026-08-12",
                 "feature_key": "csv_imported", "reach": 200, "impact": 2, "confidence": 0.8})
    c.good({"id": "BL-2", "title": 'Export to "PDF"', "description": "First line, with a comma\nsecond line",
            "area": "reporting", "effort": 0.5, "status": "planned", "created_at": "2026-08-05T10:00:00Z",
            "feature_key": "report_exported", "reach": 100, "impact": 1, "confidence": 1})
    c.good({"id": "BL-3", "title": "Alertes métriques 🚨", "area": "alerts", "effort": 5, "status": "in_progress",
            "created_at": "2026-08-09T10:00:00+02:00", "feature_key": "alert_configured"})  # reach/impact/conf empty
    c.good({"id": "BL-4", "title": "Dark mode", "effort": 1, "status": "idea", "created_at": "2026-09-01",
            "reach": 0, "impact": 0, "confidence": 0})
    c.bad("missing_field", {"id": "BL-5", "title": "", "effort": 2, "status": "idea", "created_at": "2026-09-02"})
    c.bad("missing_field", {"id": "BL-6", "title": "SSO", "effort": 6, "status": "shipped",
                            "created_at": "2026-08-20"})   # shipped without shipped_at
    c.bad("missing_field", {"id": "BL-7", "title": "Audit log", "effort": "", "status": "idea",
                            "created_at": "2026-09-03"})
    c.good({"id": "BL-8", "title": "Slack integration", "effort": 2, "status": "shipped",
            "created_at": "2026-08-10", "shipped_at": "2026-10-21T15:30:00Z", "feature_key": "slack_integration_connected"})
    c.bad("bad_value", {"id": "BL-9", "title": "Zero effort", "effort": 0, "status": "idea", "created_at": "2026-09-04"})
    c.bad("bad_value", {"id": "BL-10", "title": "Negative effort", "effort": -1, "status": "idea", "created_at": "2026-09-04"})
    c.bad("bad_value", {"id": "BL-11", "title": "Word effort", "effort": "big", "status": "idea", "created_at": "2026-09-04"})
    c.bad("bad_value", {"id": "BL-12", "title": "Odd status", "effort": 1, "status": "done", "created_at": "2026-09-04"})
    c.bad("bad_value", {"id": "BL-13", "title": "Negative reach", "effort": 1, "status": "idea",
                        "created_at": "2026-09-04", "reach": -5})
    c.bad("bad_value", {"id": "BL-14", "title": "Word confidence", "effort": 1, "status": "idea",
                        "created_at": "2026-09-04", "confidence": "high"})
    c.bad("bad_timestamp", {"id": "BL-15", "title": "Bad created", "effort": 1, "status": "idea", "created_at": "2026-13-01"})
    c.bad("bad_timestamp", {"id": "BL-16", "title": "US date", "effort": 1, "status": "idea", "created_at": "10/03/2026"})
    c.bad("bad_timestamp", {"id": "BL-17", "title": "Bad shipped", "effort": 1, "status": "shipped",
                            "created_at": "2026-09-01", "shipped_at": "yesterday"})
    c.bad("invalid_utf8", b"BL-18,Caf\xff export,,,1,idea,2026-09-05,,,,,")
    c.bad("malformed_csv", b"BL-19,Too many,,,1,idea,2026-09-05,,,,,,extra")
    c.bad("malformed_csv", b"BL-20,Too few,,,1,idea,2026-09-05")
    c.bad("malformed_csv", b'BL-21,ab"c,,,1,idea,2026-09-05,,,,,')
    c.bad("malformed_csv", b'BL-22,"quoted"junk,,,1,idea,2026-09-05,,,,,')
    c.good({"id": "BL-23", "title": "Query caching", "description": "Cache results, 15 min TTL", "effort": 3,
            "status": "dropped", "created_at": "2026-09-06"})
    c.dup(r1)
    write_csv_test(res, "bad_backlog", c, v_backlog, lambda r: r["id"])

    # ---------------- bad_feedback.csv
    H = ["id", "created_at", "source", "text", "user_id", "account_id", "score", "item_id"]
    c = Csv(H)
    r1 = c.good({"id": "FB-1", "created_at": "2026-09-01", "source": "nps", "text": "Exports are great",
                 "user_id": "u-1", "account_id": "acct-1", "score": 9, "item_id": "BL-2"})
    c.good({"id": "FB-2", "created_at": "2026-09-02T08:15:00Z", "source": "support",
            "text": 'Alert emails say "threshold crossed", but which one?\nAlso, Slack please.',
            "user_id": "u-2", "item_id": "BL-4"})
    c.good({"id": "FB-3", "created_at": "2026-09-03", "source": "intercom", "text": "Très bien, merci 👍"})
    c.good({"id": "FB-4", "created_at": "2026-09-04T10:00:00-05:00", "source": "g2", "text": "Solid", "score": 4.5,
            "account_id": "acct-3"})
    c.bad("missing_field", {"id": "", "created_at": "2026-09-05", "source": "nps", "text": "no id", "score": 5})
    c.bad("missing_field", {"id": "FB-6", "created_at": "2026-09-05", "source": "nps", "text": "", "score": 5})
    c.bad("bad_value", {"id": "FB-7", "created_at": "2026-09-06", "source": "nps", "text": "score is a word",
                        "score": "great"})
    c.bad("bad_timestamp", {"id": "FB-8", "created_at": "2026/09/07", "source": "support", "text": "slashes"})
    c.bad("bad_timestamp", {"id": "FB-9", "created_at": "yesterday", "source": "support", "text": "words"})
    c.bad("invalid_utf8", b"FB-10,2026-09-08,intercom,Bad \xc3\x28 byte,u-3,,,")
    c.bad("malformed_csv", b"FB-11,2026-09-08,intercom,too many,u-3,acct-3,,,extra")
    c.bad("malformed_csv", b"FB-12,2026-09-08,intercom,too few")
    c.bad("malformed_csv", b'FB-13,2026-09-08,intercom,she said "hi" there,u-3,,,')
    c.good({"id": "FB-14", "created_at": "2026-09-09", "source": "sales_call", "text": "Needs SSO", "item_id": "BL-8"})
    c.dup(r1)
    write_csv_test(res, "bad_feedback", c, v_feedback, lambda r: r["id"])

    # ---------------- bad_signals.csv (columns deliberately out of order)
    H = ["signal", "area", "date", "value"]
    c = Csv(H)
    r1 = c.good({"signal": "weekly_active_users", "date": "2026-09-07", "value": 210})
    c.good({"signal": "support_tickets", "area": "reporting", "date": "2026-09-07", "value": 14})
    c.good({"signal": "support_tickets", "area": "alerts", "date": "2026-09-07", "value": 3})   # same date+signal, other area
    c.good({"signal": "support_tickets", "area": "growth, enterprise\nsegment", "date": "2026-09-07", "value": 1})
    c.good({"signal": "nps_delta", "date": "2026-09-14T00:00:00Z", "value": -3.5})
    c.good({"signal": "mrr_usd", "area": "billing", "date": "2026-09-14", "value": 41250.75})
    c.bad("missing_field", {"signal": "", "date": "2026-09-14", "value": 5})
    c.bad("missing_field", {"signal": "weekly_active_users", "date": "2026-09-21", "value": ""})
    c.bad("bad_value", {"signal": "weekly_active_users", "date": "2026-09-28", "value": "n/a"})
    c.bad("bad_value", {"signal": "weekly_active_users", "date": "2026-10-05", "value": "12abc"})
    c.bad("bad_timestamp", {"signal": "weekly_active_users", "date": "2026-13-01", "value": 200})
    c.bad("bad_timestamp", {"signal": "weekly_active_users", "date": "Oct 5 2026", "value": 200})
    c.bad("invalid_utf8", b"support_tickets,\xed\xa0\x80,2026-10-12,4")
    c.bad("malformed_csv", b"support_tickets,alerts,2026-10-12,4,extra")
    c.bad("malformed_csv", b'support_tickets,al"erts,2026-10-19,4')
    c.good({"signal": "weekly_active_users", "date": "2026-10-26", "value": 230})
    c.dup(r1)
    write_csv_test(res, "bad_signals", c, v_signals, lambda r: (r["date"], r["signal"], r["area"]))

    # ---------------- bad_graph.csv
    H = ["src", "relation", "dst", "weight"]
    c = Csv(H)
    r1 = c.good({"src": "user:u-1", "relation": "invited", "dst": "user:u-7", "weight": 1})
    c.good({"src": "user:u-2", "relation": "member_of", "dst": "account:acct-2"})
    c.good({"src": "account:acct-2", "relation": "uses", "dst": "feature:alert_configured", "weight": 0.75})
    c.good({"src": "user:u-3", "relation": "asked for,\nrepeatedly", "dst": "feature:sso_configured", "weight": 3})
    c.bad("missing_field", {"src": "user:u-4", "relation": "", "dst": "user:u-5"})
    c.bad("missing_field", {"src": "user:u-4", "relation": "invited", "dst": ""})
    c.bad("bad_value", {"src": "u-4", "relation": "invited", "dst": "user:u-5"})
    c.bad("bad_value", {"src": "user:u-4", "relation": "member_of", "dst": "team:t-1"})
    c.bad("bad_value", {"src": "user:u-4", "relation": "invited", "dst": "user:u-6", "weight": "heavy"})
    c.bad("invalid_utf8", b"user:u-5,invit\xc0\xafed,user:u-6,1")
    c.bad("malformed_csv", b"user:u-5,invited,user:u-8,1,extra")
    c.bad("malformed_csv", b'user:u-5,inv"ited,user:u-9,1')
    c.good({"src": "user:u-6", "relation": "invited", "dst": "user:u-10", "weight": 1})
    c.dup(r1)
    write_csv_test(res, "bad_graph", c, v_graph, lambda r: (r["src"], r["relation"], r["dst"]))

    # ---------------- events.csv
    H = ["type", "messageId", "userId", "anonymousId", "timestamp", "event", "groupId", "properties", "traits"]
    c = Csv(H)
    t0 = dt.datetime(2026, 10, 20, 9, tzinfo=UTC)
    for k in range(20):
        t = ts(t0 + dt.timedelta(hours=3 * k, minutes=k))
        u = "u-%d" % (k % 6 + 1)
        m_ = "ec-%02d" % (k + 1)
        if k == 7:
            c.bad("missing_field", {"type": "track", "messageId": m_, "userId": u, "timestamp": t,
                                    "properties": jdump({"format": "pdf", "pages": 2})})   # empty event
        elif k == 13:
            c.bad("bad_timestamp", {"type": "track", "messageId": m_, "userId": u, "timestamp": "2026-10-03 12:00",
                                    "event": "Query Run", "properties": jdump({"query_ms": 50, "source": "sql"})})
        elif k == 0:
            c.good({"type": "identify", "messageId": m_, "userId": u, "anonymousId": "anon-77", "timestamp": t,
                    "traits": jdump({"email": "u-1@acme.example", "plan": "pro"})})
        elif k == 1:
            c.good({"type": "group", "messageId": m_, "userId": u, "groupId": "acct-1", "timestamp": t,
                    "traits": jdump({"plan": "enterprise", "industry": "retail", "seats": 120, "arr": 96000})})
        elif k == 2:
            c.good({"type": "track", "messageId": m_, "anonymousId": "anon-78", "timestamp": t,
                    "event": "Pricing Viewed", "properties": jdump({"referrer": "g2"})})
        elif k % 4 == 0:
            c.good({"type": "track", "messageId": m_, "userId": u, "timestamp": t, "event": "Experiment Viewed",
                    "properties": jdump({"experiment_id": "exp-onboarding-checklist",
                                         "variation_id": ["control", "checklist"][k % 2 if k % 8 else 1]})})
        elif k % 4 == 1:
            c.good({"type": "track", "messageId": m_, "userId": u, "timestamp": t, "event": "Report Exported",
                    "properties": jdump({"format": "csv", "pages": k})})
        else:
            c.good({"type": "track", "messageId": m_, "userId": u, "timestamp": t, "event": "Query Run",
                    "properties": jdump({"query_ms": 10 * k, "source": "builder"})})
    ed = c.data()
    me = c.manifest(schema_changes=0)
    same("events.csv", me, check_events_csv(ed))
    assert me["read"] == 20
    write_bytes(os.path.join(TD, "events.csv"), ed)
    write_json(os.path.join(TD, "events.csv.expect.json"), me)
    res["events.csv"] = me

    # ---------------- truncated.ndjson.gz
    rng = Rng(99)
    lines = []
    t0 = dt.datetime(2026, 9, 1, tzinfo=UTC)
    for k in range(500):
        ev = rng.choice(["Query Run", "Dashboard Created", "Report Exported"])
        lines.append(jdump(track("tr-%04d" % (k + 1), ts(t0 + dt.timedelta(minutes=97 * k + rng.below(60))), ev,
                                 feature_props(rng, ev), user="u-%d" % rng.randint(1, 40))).encode())
    full = b"".join(l + b"\n" for l in lines)
    assert EventChecker().feed(full).manifest()["accepted"] == 500
    z = gz(full)
    cut = z[: len(z) * 60 // 100]
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    part = d.decompress(cut)
    assert not d.eof
    complete = part.count(b"\n")
    write_bytes(os.path.join(TD, "truncated.ndjson.gz"), cut)
    mt = {"error": "truncated gzip stream (unexpected end of compressed data; no gzip trailer)",
          "uncompressed_lines_in_full_stream": 500,
          "complete_lines_decodable_from_prefix": complete,
          "partial_trailing_line_bytes": len(part) - (part.rfind(b"\n") + 1),
          "compressed_bytes_full": len(z), "compressed_bytes_in_file": len(cut),
          "note": "Every line of the full stream is a valid, distinct track event. Whether the "
                  "complete lines are kept or the whole file is rejected is for the ingest "
                  "design to decide; the truncation must be reported as an error, never as success."}
    write_json(os.path.join(TD, "truncated.expect.json"), mt)
    res["truncated.ndjson.gz"] = mt

    # ---------------- empty / binary
    write_bytes(os.path.join(TD, "empty.ndjson"), b"")
    me = {"read": 0, "accepted": 0, "duplicates": 0, "quarantined": 0, "reasons": {}}
    write_json(os.path.join(TD, "empty.expect.json"), me)
    res["empty.ndjson"] = me

    seed = 0
    while True:
        blob = b""
        ctr = 0
        while len(blob) < 4096:
            blob += hashlib.sha256(b"aipm-binary-%d-%d" % (seed, ctr)).digest()
            ctr += 1
        blob = blob[:4096]
        parts = blob.split(b"\n")
        okay = all(p.strip(b" \t\r\n\x0b\x0c") != b"" for p in parts)
        if okay:
            for p in parts:
                try:
                    p.decode("utf-8")
                    okay = False
                except UnicodeDecodeError:
                    pass
        if okay and not blob.endswith(b"\n"):
            break
        seed += 1
    write_bytes(os.path.join(TD, "binary.bin"), blob)
    nlines = len(parts)
    mbin = {"read": nlines, "accepted": 0, "duplicates": 0, "quarantined": nlines,
            "reasons": {"invalid_utf8": nlines},
            "note": "4096 bytes, sha256 counter stream (seed %d). Split on 0x0A it has %d lines (the last "
                    "has no newline); none is blank and every one is invalid UTF-8. An ingest that "
                    "rejects the whole file as binary up front is also reasonable." % (seed, nlines)}
    assert EventChecker().feed(blob).manifest() == {k: mbin[k] for k in
                                                    ("read", "accepted", "duplicates", "quarantined", "reasons")}
    write_json(os.path.join(TD, "binary.expect.json"), mbin)
    res["binary.bin"] = mbin
    return res


def write_csv_test(res, name, c, validator, keyf):
    data = c.data()
    m = c.manifest()
    same(name, m, check_csv(data, validator, keyf))
    write_bytes(os.path.join(TD, name + ".csv"), data)
    write_json(os.path.join(TD, name + ".expect.json"), m)
    res[name + ".csv"] = m


def main():
    ex = make_examples()
    te = make_tests()
    for d in (ex, te):
        for k, v in d.items():
            print("%-28s %s" % (k, json.dumps({x: v[x] for x in v if x not in ("note", "variants")})))


if __name__ == "__main__":
    main()
