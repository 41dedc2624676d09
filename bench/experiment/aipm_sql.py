#!/usr/bin/python3
"""aipm_sql.py AIPM_BINARY SQL_C KEY METRIC_EVENT START_MS END_MS > aipm.sql

Prints aipm's own experiment statement with the parameters of a `count`
metric substituted as aipm_metrics_experiment() binds them without --cuped
or capping, so that the sqlite3 shell can time it or EXPLAIN QUERY PLAN it.

The text comes from the binary being benchmarked (the NUL-terminated string
that starts "WITH exp AS MATERIALIZED" and ends with the multi-exposure
row), so it is the statement that binary runs even while
src/lib/metrics/sql.c moves on; if the binary holds no such string, from
the `experiment_sql` initializer of SQL_C (string literals and the macros
it names). Standard library only. Prints the origin on stderr.
"""
import json
import re
import sys

TAIL = "FROM exp WHERE nv > 1"


def from_binary(path):
    try:
        data = open(path, "rb").read()
    except OSError:
        return None
    for m in re.finditer(rb"WITH exp AS MATERIALIZED \([^\x00]*", data):
        s = m.group(0).decode("utf-8", "replace")
        if s.rstrip().endswith(TAIL) and "GROUP BY v" in s:
            return s
    return None


def strings_of(text):
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
    return "".join(p.replace('\\"', '"').replace("\\\\", "\\") for p in parts)


def from_source(path):
    src = open(path, encoding="utf-8").read()
    m = re.search(r"static const char experiment_sql\[\]\s*=(.*?);\s*\n", src, re.S)
    if not m:
        return None
    out = []
    # Tokens: string literals, or identifiers naming a #define of literals.
    for tok in re.findall(r'"(?:[^"\\]|\\.)*"|[A-Za-z_]\w*', m.group(1)):
        if tok.startswith('"'):
            out.append(strings_of(tok))
            continue
        d = re.search(r"#define\s+" + tok + r"\s+((?:.*\\\n)*.*)", src)
        if not d:
            return None
        out.append(strings_of(d.group(1)))
    return "".join(out)


def q(s):
    return "NULL" if s is None else "'" + str(s).replace("'", "''") + "'"


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    binary, path, key, event, start, end = sys.argv[1:]
    sql, origin = from_binary(binary), binary
    if sql is None:
        sql, origin = from_source(path), path
    if not sql or not sql.startswith("WITH exp"):
        sys.exit("aipm_sql.py: aipm's experiment statement not found")
    binds = {
        1: q(key), 2: str(int(start)), 3: str(int(end)),
        4: q(json.dumps([event], separators=(",", ":"))),
        5: "0", 6: str(1 << 50),          # window [exposure, +inf)
        7: "NULL", 8: "NULL", 9: "NULL",  # no sum property, no filter
        10: "0",                          # pre_days = 0 without --cuped
        11: "0",                          # not a conversion
    }
    # Later parameters (a cap, a quantile, a trait path) are unused: NULL.
    sql = re.sub(r"\?(\d+)", lambda m: binds.get(int(m.group(1)), "NULL"), sql)
    sys.stdout.write(sql + ";\n")
    print("aipm_sql.py: statement from %s" % origin, file=sys.stderr)


if __name__ == "__main__":
    main()
