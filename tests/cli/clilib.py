"""Small helpers for the JSON checks in tests/cli/run.sh (stdlib only).

run.sh calls `python3 -c PRELUDE+CODE FILE ARGS...`; PRELUDE imports this
module, so CODE can use `d` (FILE parsed as JSON), `args`, `want`, `load`,
`match_manifest`, `sha256_of`.
"""
import hashlib
import json
import sys


class CheckFailed(Exception):
    pass


def want(cond, msg):
    """Fail the check with a one-line message unless cond holds."""
    if not cond:
        raise CheckFailed(msg)


def load(path):
    with open(path, 'rb') as fh:
        return json.load(fh)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


INGEST_KEYS = ('batch_id', 'source_sha256', 'read', 'accepted', 'duplicates',
               'quarantined', 'quarantine_reasons', 'schema_changes',
               'null_rates', 'gates', 'verdict')


def n_schema_changes(d):
    sc = d.get('schema_changes')
    if isinstance(sc, list):
        return len(sc)
    return sc


def match_manifest(d, m, label=''):
    """Compare an ingest --json report `d` with a hand-written manifest `m`."""
    p = (label + ': ') if label else ''
    missing = [k for k in INGEST_KEYS if k not in d]
    want(not missing, p + 'ingest JSON lacks keys %s' % missing)
    for k in ('read', 'accepted', 'duplicates', 'quarantined'):
        want(d[k] == m[k], p + '%s is %r, manifest says %r' % (k, d[k], m[k]))
    want(d['read'] == d['accepted'] + d['duplicates'] + d['quarantined'],
         p + 'read %d != accepted+duplicates+quarantined (%d+%d+%d)'
         % (d['read'], d['accepted'], d['duplicates'], d['quarantined']))
    got = {k: v for k, v in (d['quarantine_reasons'] or {}).items() if v}
    exp = {k: v for k, v in m.get('reasons', {}).items() if v}
    want(got == exp, p + 'quarantine_reasons %s, manifest says %s'
         % (json.dumps(got, sort_keys=True), json.dumps(exp, sort_keys=True)))
    want(sum(got.values()) == d['quarantined'],
         p + 'reason counts add up to %d, quarantined is %d'
         % (sum(got.values()), d['quarantined']))
    if 'schema_changes' in m:
        want(n_schema_changes(d) == m['schema_changes'],
             p + 'schema_changes %r, manifest says %r'
             % (d['schema_changes'], m['schema_changes']))


def run(code, argv):
    """Entry point used by run.sh's pycheck."""
    g = {'want': want, 'load': load, 'match_manifest': match_manifest,
         'sha256_of': sha256_of, 'n_schema_changes': n_schema_changes,
         'json': json, 'args': argv[1:], 'd': None}
    try:
        if argv and argv[0] != '-':
            try:
                g['d'] = load(argv[0])
            except ValueError as e:
                raise CheckFailed('%s is not valid JSON: %s' % (argv[0], e))
        exec(compile(code, '<check>', 'exec'), g)
    except CheckFailed as e:
        sys.stderr.write(str(e).replace('\n', ' ') + '\n')
        return 1
    except Exception as e:  # a KeyError etc. is a failed check too
        sys.stderr.write('%s: %s\n' % (type(e).__name__, str(e).replace('\n', ' ')))
        return 1
    return 0
