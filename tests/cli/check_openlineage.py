#!/usr/bin/env python3
"""Check that every line of a file (or stdin) is one OpenLineage RunEvent.

usage: check_openlineage.py [FILE] [--runs N] [--min-inputs-complete 1]

Written from the OpenLineage 2-0-2 spec (RunEvent, Run, Job, InputDataset,
OutputDataset, BaseFacet), not from aipm's code. Prints one line naming the
first problem and exits 1, or exits 0 when every event is valid.
"""
import datetime
import json
import re
import sys

EVENT_TYPES = {'START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'}
UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
                     r'[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
RFC3339_RE = re.compile(r'^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})'
                        r'(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$')
URI_RE = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:\S+$')


class Bad(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Bad(msg)


def is_str(v):
    return isinstance(v, str) and v != ''


def check_time(v, where):
    need(isinstance(v, str), '%s is not a string' % where)
    m = RFC3339_RE.match(v)
    need(m is not None, '%s %r is not RFC 3339' % (where, v))
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    try:
        datetime.datetime(y, mo, d, h, mi, min(s, 59))
    except ValueError:
        raise Bad('%s %r is not a real date/time' % (where, v))
    need(s <= 60, '%s %r has seconds > 60' % (where, v))


def check_facets(facets, where):
    need(isinstance(facets, dict), '%s is not an object' % where)
    for name, f in facets.items():
        fw = '%s.%s' % (where, name)
        need(isinstance(f, dict), '%s is not an object' % fw)
        need(is_str(f.get('_producer')) and URI_RE.match(f['_producer']),
             '%s has no _producer URI' % fw)
        need(is_str(f.get('_schemaURL')) and URI_RE.match(f['_schemaURL']),
             '%s has no _schemaURL URI' % fw)


def check_dataset(ds, where, kind):
    need(isinstance(ds, dict), '%s is not an object' % where)
    need(is_str(ds.get('namespace')), '%s.namespace is not a string' % where)
    need(is_str(ds.get('name')), '%s.name is not a string' % where)
    need('facets' in ds, '%s has no facets' % where)
    check_facets(ds['facets'], where + '.facets')
    extra = 'inputFacets' if kind == 'input' else 'outputFacets'
    if extra in ds:
        check_facets(ds[extra], '%s.%s' % (where, extra))
    schema = ds['facets'].get('schema')
    if schema is not None:
        fields = schema.get('fields')
        need(isinstance(fields, list), '%s.facets.schema.fields is not a list' % where)
        for i, fl in enumerate(fields):
            need(isinstance(fl, dict) and is_str(fl.get('name')),
                 '%s.facets.schema.fields[%d] has no name' % (where, i))
            if 'type' in fl:
                need(isinstance(fl['type'], str),
                     '%s.facets.schema.fields[%d].type is not a string' % (where, i))


def check_input_quality(ds, where):
    """The input of a completed ingest: schema fields and data quality metrics."""
    schema = ds['facets'].get('schema')
    need(isinstance(schema, dict) and isinstance(schema.get('fields'), list)
         and schema['fields'], '%s has no facets.schema.fields' % where)
    dq = ds.get('inputFacets', {}).get('dataQualityMetrics')
    need(isinstance(dq, dict), '%s has no inputFacets.dataQualityMetrics' % where)
    rc = dq.get('rowCount')
    need(isinstance(rc, int) and not isinstance(rc, bool) and rc >= 0,
         '%s dataQualityMetrics.rowCount %r is not a count' % (where, rc))
    cm = dq.get('columnMetrics')
    need(isinstance(cm, dict), '%s dataQualityMetrics.columnMetrics is not an object' % where)
    for col, metrics in cm.items():
        need(isinstance(metrics, dict), '%s columnMetrics[%r] is not an object' % (where, col))
        for k, v in metrics.items():
            if k in ('nullCount', 'distinctCount', 'count'):
                need(isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                     '%s columnMetrics[%r].%s %r is not a count' % (where, col, k, v))
            elif k in ('sum', 'min', 'max'):
                need(isinstance(v, (int, float)) and not isinstance(v, bool),
                     '%s columnMetrics[%r].%s is not a number' % (where, col, k))


def check_event(ev, n):
    w = 'event %d' % n
    need(isinstance(ev, dict), '%s is not a JSON object' % w)
    need(ev.get('eventType') in EVENT_TYPES,
         '%s eventType %r is not one of %s' % (w, ev.get('eventType'), sorted(EVENT_TYPES)))
    check_time(ev.get('eventTime'), w + ' eventTime')
    need(is_str(ev.get('producer')) and URI_RE.match(ev['producer']),
         '%s producer %r is not a URI' % (w, ev.get('producer')))
    need(is_str(ev.get('schemaURL')) and URI_RE.match(ev['schemaURL']),
         '%s schemaURL %r is not a URI' % (w, ev.get('schemaURL')))
    run = ev.get('run')
    need(isinstance(run, dict), '%s has no run object' % w)
    need(isinstance(run.get('runId'), str) and UUID_RE.match(run['runId']),
         '%s run.runId %r is not a UUID' % (w, run.get('runId')))
    if 'facets' in run:
        check_facets(run['facets'], w + ' run.facets')
    job = ev.get('job')
    need(isinstance(job, dict), '%s has no job object' % w)
    need(is_str(job.get('namespace')), '%s job.namespace is not a string' % w)
    need(is_str(job.get('name')), '%s job.name is not a string' % w)
    if 'facets' in job:
        check_facets(job['facets'], w + ' job.facets')
    for kind, key in (('input', 'inputs'), ('output', 'outputs')):
        lst = ev.get(key)
        need(isinstance(lst, list), '%s %s is not an array' % (w, key))
        for i, ds in enumerate(lst):
            check_dataset(ds, '%s %s[%d]' % (w, key, i), kind)
    if ev['eventType'] == 'COMPLETE':
        need(len(ev['inputs']) >= 1, '%s COMPLETE event has no inputs' % w)
        need(len(ev['outputs']) >= 1, '%s COMPLETE event has no outputs' % w)
        for i, ds in enumerate(ev['inputs']):
            check_input_quality(ds, '%s inputs[%d]' % (w, i))


def main(argv):
    path = None
    runs = None
    i = 1
    while i < len(argv):
        if argv[i] == '--runs':
            runs = int(argv[i + 1])
            i += 2
        else:
            path = argv[i]
            i += 1
    data = open(path, 'rb').read() if path else sys.stdin.buffer.read()
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as e:
        print('output is not UTF-8: %s' % e)
        return 1
    lines = text.split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    else:
        print('output does not end with a newline')
        return 1
    try:
        for n, line in enumerate(lines, 1):
            need(line.strip() != '', 'line %d is blank' % n)
            try:
                ev = json.loads(line)
            except ValueError as e:
                raise Bad('line %d is not one JSON object: %s' % (n, e))
            check_event(ev, n)
        if runs is not None:
            need(len(lines) == runs, '%d events, expected %d' % (len(lines), runs))
        ids = [(json.loads(l)['run']['runId'], json.loads(l)['eventType']) for l in lines]
        need(len(set(ids)) == len(ids), 'two events share a runId and eventType')
    except Bad as e:
        print(str(e))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
