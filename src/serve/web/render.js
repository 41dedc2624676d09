/* render.js - the web UI's renderers: one pure function per page section,
 * from the API's documents to DOM and charts (aipm serve, aipm report).
 *
 * Every renderer takes a container and the documents the API answers
 * (the same the CLI's --json prints) and never fetches: the pages' scripts
 * fetch and call them, and a self-contained report calls them on embedded
 * documents. So this file stands alone: it defines window.AIPM.ui (DOM,
 * number, table and chart helpers) and window.AIPM.render, and uses no
 * other global but Chart (Chart.js 3, optional: without it a chart is its
 * table). Text from the data goes in with textContent only (never
 * innerHTML): backlog titles and feedback are customers' words.
 *
 * Charts: a <canvas data-chart="NAME" role="img" aria-label="summary">
 * inside a <figure>, its numbers in a table in a <details> below; once
 * drawn the canvas gets data-points="N", N the number of data points it
 * plotted (the categories or x positions with a value; a reference line,
 * such as a target, is not a data point). Colours are the
 * Okabe-Ito palette (safe for the common colour-vision deficiencies), and
 * status is always written, never colour alone.
 */
(function () {
    'use strict';

    const AIPM = (window.AIPM = window.AIPM || {});
    const ui = (AIPM.ui = AIPM.ui || {});
    const render = (AIPM.render = AIPM.render || {});

    /* ---- DOM ---- */

    /* el('td', {class: 'num', data: {x: 1}, colspan: 2}, 'text', node, ...):
     * attributes set with setAttribute (null/false skipped), children as
     * text nodes or nodes (arrays flattened, null skipped). */
    function el(tag, attrs, ...children) {
        const node = document.createElement(tag);
        if (attrs) {
            for (const [k, v] of Object.entries(attrs)) {
                if (v === null || v === undefined || v === false) continue;
                if (k === 'class') node.className = v;
                else if (k === 'text') node.textContent = String(v);
                else if (k === 'data') {
                    for (const [dk, dv] of Object.entries(v))
                        if (dv !== null && dv !== undefined) node.dataset[dk] = String(dv);
                } else node.setAttribute(k, v === true ? '' : String(v));
            }
        }
        append(node, children);
        return node;
    }

    function append(node, children) {
        for (const c of children) {
            if (c === null || c === undefined || c === false) continue;
            if (Array.isArray(c)) append(node, c);
            else if (c instanceof Node) node.appendChild(c);
            else node.appendChild(document.createTextNode(String(c)));
        }
        return node;
    }

    /* Empties a node, destroying its charts first (Chart.js keeps them). */
    function clear(node) {
        if (typeof Chart !== 'undefined' && Chart.getChart) {
            node.querySelectorAll('canvas').forEach((c) => {
                const ch = Chart.getChart(c);
                if (ch) ch.destroy();
            });
        }
        node.replaceChildren();
        return node;
    }

    let uid = 0;
    function newId(prefix) {
        uid += 1;
        return (prefix || 'x') + '-' + uid;
    }

    /* A section with its heading (h2 by default), appended to parent. */
    function section(parent, title, level, attrs) {
        const id = newId('sec');
        const s = el('section', Object.assign({ 'aria-labelledby': id }, attrs || {}));
        s.appendChild(el('h' + (level || 2), { id: id, text: title }));
        parent.appendChild(s);
        return s;
    }

    function note(text, kind) {
        return el('p', { class: 'note' + (kind ? ' ' + kind : '') }, text);
    }

    /* <dl class="kv"> of [label, value] pairs (null values skipped). */
    function kv(pairs) {
        const dl = el('dl', { class: 'kv' });
        for (const [k, v] of pairs) {
            if (v === null || v === undefined || v === '') continue;
            dl.appendChild(el('dt', null, k));
            dl.appendChild(el('dd', null, v));
        }
        return dl;
    }

    function list(items) {
        return el('ul', { class: 'plain' }, items.map((t) => el('li', null, t)));
    }

    /* ---- numbers and words ---- */

    const isNum = (x) => typeof x === 'number' && isFinite(x);

    const fmt = {
        /* up to `digits` decimals, thousands separated; — for none */
        num(x, digits) {
            if (!isNum(x)) return '—';
            const d = digits === undefined ? 2 : digits;
            if (x !== 0 && Math.abs(x) < Math.pow(10, -d)) return x.toPrecision(2);
            return x.toLocaleString('en-US', { maximumFractionDigits: d });
        },
        int(x) {
            return isNum(x) ? Math.round(x).toLocaleString('en-US') : '—';
        },
        /* a share as a percentage */
        pct(x, digits) {
            if (!isNum(x)) return '—';
            return (x * 100).toFixed(digits === undefined ? 1 : digits) + '%';
        },
        signedPct(x, digits) {
            if (!isNum(x)) return '—';
            return (x > 0 ? '+' : x < 0 ? '−' : '') + Math.abs(x * 100).toFixed(digits === undefined ? 1 : digits) + '%';
        },
        /* a p-value or other small probability: 3 significant digits */
        p(x) {
            if (!isNum(x)) return '—';
            if (x === 0) return '0';
            return Math.abs(x) < 0.001 ? x.toExponential(1) : x.toPrecision(3);
        },
        /* an ISO time as "2026-11-27 00:00 UTC" (a date stays a date) */
        time(s) {
            if (typeof s !== 'string') return '—';
            const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(s);
            return m ? m[1] + ' ' + m[2] + ' UTC' : s;
        },
        date(s) {
            return typeof s === 'string' ? s.slice(0, 10) : '—';
        },
        short(s, n) {
            if (typeof s !== 'string') return '';
            return s.length > n ? s.slice(0, n - 1) + '…' : s;
        },
        hash(s) {
            return typeof s === 'string' && s.length > 16 ? s.slice(0, 12) + '…' : s || '—';
        },
        value(x) {
            if (x === null || x === undefined) return '—';
            if (typeof x === 'boolean') return x ? 'yes' : 'no';
            if (isNum(x)) return fmt.num(x, Math.abs(x) < 1 ? 4 : 2);
            if (typeof x === 'object') return JSON.stringify(x);
            return String(x);
        },
    };

    /* A status word's kind: ok, warn or bad (for the badge's colour). */
    function statusKind(s) {
        const v = String(s).toLowerCase();
        if (/^(ok|pass|passed|approved|intact|accepted|true|yes|ship|meets|stable|applied|production)$/.test(v)) return 'ok';
        if (/^(warn|warning|pending|proposed|keep_running|stale|moderate|overridden|running)$/.test(v)) return 'warn';
        if (/^(alert|fail|failed|error|rejected|false|no|invalid|broken|do_not_ship|mismatch|quarantined|significant|below)$/.test(v)) return 'bad';
        return '';
    }

    function badge(text, kind) {
        const k = kind === undefined ? statusKind(text) : kind;
        return el('span', { class: 'badge' + (k ? ' ' + k : '') }, String(text));
    }

    /* ---- tables ---- */

    /* table({caption, columns: [{label, value(row) | key, cell(row) -> node,
     * num, header}], rows, rowAttrs(row), attrs}): a table in a scrolling
     * box. A column with header: true is the row's <th scope="row">. */
    function table(spec) {
        const cols = spec.columns;
        const t = el('table', spec.attrs || null);
        t.appendChild(el('caption', null, spec.caption));
        t.appendChild(
            el('thead', null,
                el('tr', null, cols.map((c) => el('th', { scope: 'col', class: c.num ? 'num' : null }, c.label))))
        );
        const body = el('tbody');
        for (const row of spec.rows) {
            const tr = el('tr', spec.rowAttrs ? spec.rowAttrs(row) : null);
            for (const c of cols) {
                let content;
                if (c.cell) content = c.cell(row);
                else if (c.value) content = c.value(row);
                else content = fmt.value(row[c.key]);
                tr.appendChild(
                    el(c.header ? 'th' : 'td', { scope: c.header ? 'row' : null, class: c.num ? 'num' : null }, content)
                );
            }
            body.appendChild(tr);
        }
        t.appendChild(body);
        if (spec.rows.length === 0) {
            body.appendChild(el('tr', null, el('td', { colspan: cols.length, class: 'muted' }, spec.empty || 'None.')));
        }
        return el('div', { class: 'table-wrap', role: 'region', 'aria-label': spec.caption, tabindex: '0' }, t);
    }

    /* ---- charts ---- */

    const palette = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
    const grey = '#8a929c';

    function rgba(hex, a) {
        const n = parseInt(hex.slice(1), 16);
        return 'rgba(' + ((n >> 16) & 255) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
    }

    /* A chart name a data-chart attribute can hold. */
    function chartName(s) {
        return String(s).replace(/[^A-Za-z0-9_-]+/g, '-');
    }

    /* How many points a chart plots: the labels with a value in some
     * dataset, or the points of the largest dataset when there are no
     * labels (scatter). */
    function countPoints(data) {
        const sets = (data.datasets || []).filter((d) => !d.aipmReference);
        const has = (v) => v !== null && v !== undefined && !(typeof v === 'number' && !isFinite(v));
        if (data.labels && data.labels.length) {
            let n = 0;
            for (let i = 0; i < data.labels.length; i++) if (sets.some((d) => has(d.data[i]))) n++;
            return n;
        }
        return sets.reduce((m, d) => Math.max(m, d.data.filter(has).length), 0);
    }

    let defaultsSet = false;
    function chartDefaults() {
        if (defaultsSet || typeof Chart === 'undefined') return;
        defaultsSet = true;
        Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily || 'system-ui, sans-serif';
        Chart.defaults.font.size = 12;
        Chart.defaults.color = '#3a4149';
        Chart.defaults.borderColor = 'rgba(0,0,0,0.1)';
    }

    /* chart(parent, {name, title, summary, type, data, options, height,
     * table}): a figure with the canvas (role="img", aria-label the
     * summary) and the numbers' table in a <details>. Returns the figure;
     * a chart with no point is a note instead. */
    function chart(parent, spec) {
        const points = countPoints(spec.data);
        const fig = el('figure', { class: 'chart' });
        fig.appendChild(el('figcaption', null, spec.title));
        parent.appendChild(fig);
        if (points === 0) {
            fig.appendChild(note('Nothing to plot: the document has no values for this chart.'));
            if (spec.table) fig.appendChild(spec.table);
            return fig;
        }
        const box = el('div', { class: 'chart-box' });
        if (spec.height) box.style.height = spec.height + 'px';
        const canvas = el('canvas', { role: 'img', 'aria-label': spec.summary, data: { chart: chartName(spec.name) } });
        canvas.textContent = spec.summary;
        box.appendChild(canvas);
        fig.appendChild(box);
        if (spec.table) {
            fig.appendChild(el('details', null, el('summary', null, 'The numbers behind this chart'), spec.table));
        }
        if (typeof Chart === 'undefined') {
            box.replaceWith(note('Charts are unavailable (Chart.js did not load); the numbers are in the table.'));
            return fig;
        }
        chartDefaults();
        const options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, spec.options || {});
        options.plugins = Object.assign({ legend: { position: 'bottom', labels: { boxWidth: 14 } } }, options.plugins || {});
        new Chart(canvas, { type: spec.type, data: spec.data, options: options });
        canvas.dataset.points = String(points);
        return fig;
    }

    /* Axis options with a title. */
    function axis(title, extra) {
        return Object.assign({ title: { display: !!title, text: title } }, extra || {});
    }

    /* A floating bar's tooltip: "label: lo .. hi". */
    function rangeTooltip(format) {
        return {
            callbacks: {
                label(ctx) {
                    const v = ctx.raw;
                    if (Array.isArray(v)) return ctx.dataset.label + ': ' + format(v[0]) + ' .. ' + format(v[1]);
                    if (v && typeof v === 'object' && 'x' in v) return ctx.dataset.label + ': ' + format(ctx.parsed.x);
                    return ctx.dataset.label + ': ' + format(ctx.parsed[ctx.chart.options.indexAxis === 'y' ? 'x' : 'y']);
                },
            },
        };
    }

    ui.el = el;
    ui.append = append;
    ui.clear = clear;
    ui.section = section;
    ui.note = note;
    ui.kv = kv;
    ui.list = list;
    ui.fmt = fmt;
    ui.badge = badge;
    ui.statusKind = statusKind;
    ui.table = table;
    ui.chart = chart;
    ui.chartName = chartName;
    ui.palette = palette;
    ui.newId = newId;

    /* ==== overview: KPIs, alerts, quality, pending decisions ==== */

    const shareTypes = { conversion: 1, retention: 1, adoption: 1, share: 1, ratio: 1 };

    function kpiFormat(k) {
        return shareTypes[k.type] ? (x) => fmt.pct(x, 1) : (x) => fmt.num(x, 2);
    }

    function lastValue(values) {
        for (let i = values.length - 1; i >= 0; i--) if (isNum(values[i].value)) return values[i];
        return null;
    }

    /* GET /api/v1/kpis: each KPI against its target, and the active users
     * per period. */
    render.kpis = function (container, doc) {
        clear(container);
        const period = doc.period || 'period';
        const s = section(container, 'KPIs against their targets');
        s.appendChild(el('p', { class: 'muted' }, 'Per ' + period + ', ' + fmt.date(doc.from) + ' to ' + fmt.date(doc.to) + '.'));
        const kpis = doc.kpis || [];
        if (kpis.length === 0) s.appendChild(note('aipm.yaml names no KPI (kpis:), so there is no target to compare with.'));
        const cards = el('ul', { class: 'cards' });
        for (const k of kpis) {
            const f = kpiFormat(k);
            const last = lastValue(k.values || []);
            const met = last ? last.meets_target : null;
            cards.appendChild(
                el('li', { class: 'card', data: { kpi: k.key } },
                    el('p', { class: 'label' }, k.key + ' (' + k.metric + ')'),
                    el('p', { class: 'value' }, last ? f(last.value) : '—'),
                    el('p', { class: 'sub' },
                        'target ' + (k.direction === 'down' ? '≤ ' : '≥ ') + f(k.target) + ' ',
                        met === null || met === undefined ? badge('no value', '') : badge(met ? 'meets target' : 'misses target', met ? 'ok' : 'bad')),
                    el('p', { class: 'sub muted' }, last ? period + ' of ' + last.start : 'no complete ' + period + ' yet'))
            );
        }
        if (kpis.length) s.appendChild(cards);

        for (const k of kpis) {
            const f = kpiFormat(k);
            const vals = k.values || [];
            const scale = shareTypes[k.type] ? 100 : 1;
            const last = lastValue(vals);
            const hits = vals.filter((v) => v.meets_target === true).length;
            const counted = vals.filter((v) => v.meets_target === true || v.meets_target === false).length;
            chart(s, {
                name: 'kpi-' + k.key,
                title: k.key + ' per ' + period + ' against its target',
                summary: k.key + ' (' + k.type + ' of ' + k.metric + ') per ' + period + ': latest ' +
                    (last ? f(last.value) + ' in the ' + period + ' of ' + last.start : 'none') + ', target ' + f(k.target) +
                    ' (' + (k.direction === 'down' ? 'lower' : 'higher') + ' is better); met in ' + hits + ' of ' + counted + ' ' + period + 's.',
                type: 'line',
                height: 240,
                data: {
                    labels: vals.map((v) => v.start),
                    datasets: [
                        { label: k.key, data: vals.map((v) => (isNum(v.value) ? v.value * scale : null)), borderColor: palette[0], backgroundColor: palette[0], pointRadius: 3, spanGaps: false },
                        { label: 'target', aipmReference: true, data: vals.map(() => k.target * scale), borderColor: palette[5], borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 },
                    ],
                },
                options: { scales: { y: axis(scale === 100 ? '%' : k.unit || '', { beginAtZero: true }) } },
                table: table({
                    caption: k.key + ' per ' + period,
                    columns: [
                        { label: period + ' from', header: true, value: (v) => v.start },
                        { label: 'value', num: true, value: (v) => f(v.value) },
                        { label: 'target', num: true, value: () => f(k.target) },
                        { label: 'meets target', value: (v) => (v.meets_target === null || v.meets_target === undefined ? '—' : v.meets_target ? 'yes' : 'no') },
                    ],
                    rows: vals,
                }),
            });
        }

        const periods = doc.periods || [];
        const a = section(container, 'Active users');
        const lastP = periods[periods.length - 1];
        const plabel = (p) => p.start + (p.days && doc.period === 'week' && p.days < 7 ? ' (' + p.days + ' days)' : '');
        chart(a, {
            name: 'active-users',
            title: 'Daily, weekly and monthly active users per ' + period,
            summary: 'Active users per ' + period + ' from ' + fmt.date(doc.from) + ' to ' + fmt.date(doc.to) +
                (lastP ? ': in the latest ' + period + ' (' + lastP.start + ') DAU ' + fmt.num(lastP.dau, 1) + ', WAU ' + fmt.int(lastP.wau) + ', MAU ' + fmt.int(lastP.mau) : '') + '.',
            type: 'line',
            data: {
                labels: periods.map(plabel),
                datasets: [
                    { label: 'DAU (mean per day)', data: periods.map((p) => p.dau), borderColor: palette[0], backgroundColor: palette[0], pointRadius: 2 },
                    { label: 'WAU', data: periods.map((p) => p.wau), borderColor: palette[1], backgroundColor: palette[1], pointRadius: 2, borderDash: [5, 3] },
                    { label: 'MAU', data: periods.map((p) => p.mau), borderColor: palette[2], backgroundColor: palette[2], pointRadius: 2, borderDash: [2, 2] },
                ],
            },
            options: { scales: { y: axis('users', { beginAtZero: true }) } },
            table: table({
                caption: 'Active users per ' + period,
                columns: [
                    { label: period + ' from', header: true, value: (p) => p.start },
                    { label: 'days', num: true, value: (p) => fmt.int(p.days) },
                    { label: 'DAU', num: true, value: (p) => fmt.num(p.dau, 1) },
                    { label: 'WAU', num: true, value: (p) => fmt.int(p.wau) },
                    { label: 'MAU', num: true, value: (p) => fmt.int(p.mau) },
                    { label: 'stickiness', num: true, value: (p) => fmt.pct(p.stickiness) },
                    { label: 'new users', num: true, value: (p) => fmt.int(p.new_users) },
                ],
                rows: periods,
            }),
        });
        const words = [].concat(doc.warnings || [], doc.notes || []);
        if (words.length) a.appendChild(list(words.map(String)));
    };

    /* The checks of a monitoring run that alert or warn. */
    function checkSubject(c) {
        return [c.model, c.feature, c.dataset].filter((x) => x).join(' · ') || '—';
    }

    /* GET /api/v1/monitoring: the latest run's alerts and warnings. */
    render.alerts = function (container, doc) {
        clear(container);
        const s = section(container, 'Monitoring alerts');
        const run = (doc.runs || [])[0];
        if (!run) {
            s.appendChild(note('No monitoring run is stored yet (aipm monitor).'));
            return;
        }
        s.appendChild(
            el('p', null, 'Latest run ', el('span', { class: 'mono' }, '#' + run.seq), ' at ' + fmt.time(run.time) + ': ',
                badge(run.status), ' — ' + run.alerts + ' alert' + (run.alerts === 1 ? '' : 's') + ', ' + run.warnings + ' warning' + (run.warnings === 1 ? '' : 's') + '.')
        );
        const bad = (run.checks || []).filter((c) => c.status === 'alert' || c.status === 'warn');
        bad.sort((x, y) => (x.status === y.status ? 0 : x.status === 'alert' ? -1 : 1));
        s.appendChild(
            table({
                caption: 'Checks that alert or warn in run #' + run.seq,
                columns: [
                    { label: 'status', cell: (c) => badge(c.status) },
                    { label: 'check', header: true, value: (c) => c.check },
                    { label: 'of', value: checkSubject },
                    { label: 'statistic', num: true, value: (c) => fmt.p(c.statistic) },
                ],
                rows: bad,
                empty: 'Every check is ok.',
            })
        );
        if ((run.actions || []).length) {
            s.appendChild(el('h3', null, 'Actions taken'));
            s.appendChild(list(run.actions.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))));
        }
    };

    function gateText(g) {
        const parts = [g.gate + ': ' + g.result];
        if (isNum(g.value) && isNum(g.threshold)) parts.push('(' + fmt.num(g.value, 4) + ' against ' + fmt.num(g.threshold, 4) + ')');
        else if (isNum(g.changes)) parts.push('(' + g.changes + ' change' + (g.changes === 1 ? '' : 's') + ')');
        else if (isNum(g.age_hours)) parts.push('(' + fmt.num(g.age_hours, 1) + ' hours old)');
        if (g.note) parts.push('— ' + g.note);
        return parts.join(' ');
    }

    /* GET /api/v1/quality: each dataset's latest batch and its gates. */
    render.quality = function (container, doc) {
        clear(container);
        const s = section(container, 'Data quality gates');
        const ds = doc.datasets || [];
        s.appendChild(
            table({
                caption: 'Each dataset’s latest batch and its quality gates',
                columns: [
                    { label: 'dataset', header: true, value: (d) => d.dataset },
                    { label: 'batch', num: true, value: (d) => fmt.int(d.batch_id) },
                    { label: 'verdict', cell: (d) => badge(d.verdict) },
                    { label: 'status', value: (d) => d.status },
                    { label: 'rows read', num: true, value: (d) => fmt.int(d.read) },
                    { label: 'accepted', num: true, value: (d) => fmt.int(d.accepted) },
                    { label: 'quarantined', num: true, value: (d) => fmt.int(d.quarantined) },
                    { label: 'gates', cell: (d) => list((d.gates || []).map(gateText)) },
                ],
                rows: ds,
                empty: 'No batch has been ingested yet.',
            })
        );
    };

    /* GET /api/v1/decisions?status=proposed: how many wait for review. */
    render.pending = function (container, doc, opts) {
        clear(container);
        const o = opts || {};
        const s = section(container, 'Decisions waiting for review');
        const ds = doc.decisions || [];
        const p = el('p', { data: { pending: ds.length } },
            el('strong', null, String(ds.length)), ' decision record' + (ds.length === 1 ? '' : 's') + ' proposed, waiting for an approver.');
        if (o.href) p.append(' ', el('a', { href: o.href }, 'Review them'));
        s.appendChild(p);
        if (ds.length) {
            const kinds = {};
            for (const d of ds) kinds[d.kind] = (kinds[d.kind] || 0) + 1;
            s.appendChild(list(Object.entries(kinds).map(([k, n]) => n + ' ' + k)));
        }
    };

    /* ==== roadmap ==== */

    const factorColor = { rice: palette[0], reach: palette[1], market: palette[2], demand: palette[3] };

    /* GET /api/v1/roadmap: the ranked backlog with its intervals, the
     * factors behind each item, the feedback behind its demand and the
     * capacity plan; opts.canRecord shows "Record this ranking", which
     * calls opts.onRecord() (a promise of the recorded document). */
    render.roadmap = function (container, doc, opts) {
        clear(container);
        const o = opts || {};
        const items = doc.items || [];
        const byId = {};
        for (const it of items) byId[it.id] = it;
        const model = doc.model || {};
        const params = doc.parameters || {};

        const head = section(container, 'Ranking');
        head.appendChild(
            kv([
                ['as of', doc.as_of],
                ['items ranked', fmt.int(items.length)],
                ['value model', (model.kind || '—') + (model.registry ? ' (registry ' + model.registry.name + '@' + model.registry.version + ')' : ' (trained in this run)') + ', trained on ' + fmt.int(model.trained_on) + ' shipped items'],
                ['risk aversion', fmt.num(params.risk_aversion, 2)],
                ['draws, seed', fmt.int(params.draws) + ', ' + fmt.value(params.seed)],
                ['unit of value', 'distinct daily users per 10,000 daily actives'],
            ])
        );
        if (doc.decision_id) head.appendChild(note('Recorded as decision ' + doc.decision_id + '.'));
        if (o.canRecord) {
            const result = el('p', { 'aria-live': 'polite', class: 'muted' });
            const btn = el('button', { type: 'button', class: 'secondary', data: { record: '1' } }, 'Record this ranking');
            btn.addEventListener('click', () => {
                btn.disabled = true;
                result.textContent = 'Recording…';
                Promise.resolve(o.onRecord ? o.onRecord() : null).then(
                    (d) => {
                        result.textContent = d && d.decision_id ? 'Recorded as decision ' + d.decision_id + ' (proposed, waiting for review).' : 'Recorded.';
                    },
                    (e) => {
                        btn.disabled = false;
                        result.textContent = 'Not recorded: ' + (e && e.message ? e.message : String(e));
                    }
                );
            });
            head.appendChild(el('div', { class: 'form-row' }, btn));
            head.appendChild(result);
        }

        if (doc.plan) {
            const plan = doc.plan;
            const ps = section(container, 'Capacity plan');
            ps.appendChild(
                kv([
                    ['capacity', fmt.num(plan.capacity, 1) + ' person-weeks'],
                    ['planned effort', fmt.num(plan.effort, 1) + ' person-weeks'],
                    ['expected value', fmt.num(plan.expected_value, 1)],
                    ['risk-adjusted value', fmt.num(plan.risk_adjusted_value, 1)],
                    ['P10 – P90', fmt.num(plan.p10, 1) + ' – ' + fmt.num(plan.p90, 1)],
                ])
            );
            ps.appendChild(
                el('ol', null, (plan.items || []).map((id) => {
                    const it = byId[id];
                    return el('li', null, el('span', { class: 'mono' }, id), it ? ' ' + it.title + ' (' + fmt.num(it.effort, 1) + ' weeks)' : '');
                }))
            );
        }

        const top = items.slice(0, 30);
        const label = (it) => it.rank + '. ' + it.id + ' ' + fmt.short(it.title, 34);
        const cs = section(container, 'Value with its uncertainty');
        chart(cs, {
            name: 'roadmap-intervals',
            title: 'P10 – P90 of each item’s value' + (items.length > top.length ? ' (the top ' + top.length + ' of ' + items.length + ')' : ''),
            summary: 'Floating bars from P10 to P90 of the value of the top ' + top.length + ' ranked items, with the expected value marked' +
                (top.length ? '; ' + top[0].id + ' ranks first: expected ' + fmt.num(top[0].expected_value, 1) + ', P10 ' + fmt.num(top[0].p10, 1) + ', P90 ' + fmt.num(top[0].p90, 1) : '') + '.',
            type: 'bar',
            height: Math.max(260, 40 + top.length * 22),
            data: {
                labels: top.map(label),
                datasets: [
                    { type: 'bar', label: 'P10 – P90', data: top.map((it) => [it.p10, it.p90]), backgroundColor: rgba(palette[0], 0.35), borderColor: palette[0], borderWidth: 1, barPercentage: 0.7 },
                    { type: 'line', label: 'expected value', data: top.map((it) => it.expected_value), showLine: false, pointStyle: 'rectRot', pointRadius: 5, borderColor: palette[5], backgroundColor: palette[5] },
                ],
            },
            options: {
                indexAxis: 'y',
                scales: { x: axis('value (daily users per 10,000 daily actives)'), y: { ticks: { autoSkip: false } } },
                plugins: { tooltip: rangeTooltip((x) => fmt.num(x, 1)) },
            },
            table: table({
                caption: 'Value intervals of the top ' + top.length + ' items',
                columns: [
                    { label: 'rank', num: true, value: (it) => it.rank },
                    { label: 'item', header: true, value: (it) => it.id },
                    { label: 'P10', num: true, value: (it) => fmt.num(it.p10, 1) },
                    { label: 'P50', num: true, value: (it) => fmt.num(it.p50, 1) },
                    { label: 'expected', num: true, value: (it) => fmt.num(it.expected_value, 1) },
                    { label: 'P90', num: true, value: (it) => fmt.num(it.p90, 1) },
                ],
                rows: top,
            }),
        });

        const few = items.slice(0, 15);
        const factors = [];
        for (const it of few) for (const c of it.contributions || []) if (!factors.includes(c.factor)) factors.push(c.factor);
        const effect = (it, f) => {
            const c = (it.contributions || []).find((x) => x.factor === f);
            return c && isNum(c.effect) ? c.effect * 100 : null;
        };
        const textOf = (it, f) => {
            const c = (it.contributions || []).find((x) => x.factor === f);
            return c ? c.text : '';
        };
        chart(cs, {
            name: 'roadmap-contributions',
            title: 'What moves each item’s value (the top ' + few.length + ')',
            summary: 'Stacked bars of each factor’s effect on the value of the top ' + few.length + ' items, in percent: ' + factors.join(', ') + '.' +
                (few.length && few[0].contributions && few[0].contributions[0] ? ' For ' + few[0].id + ': ' + few[0].contributions[0].text + '.' : ''),
            type: 'bar',
            height: Math.max(240, 60 + few.length * 24),
            data: {
                labels: few.map(label),
                datasets: factors.map((f, i) => ({
                    label: f,
                    data: few.map((it) => effect(it, f)),
                    backgroundColor: factorColor[f] || palette[(i + 4) % palette.length],
                })),
            },
            options: {
                indexAxis: 'y',
                scales: { x: axis('effect on value (%)', { stacked: true }), y: { stacked: true, ticks: { autoSkip: false } } },
                plugins: {
                    tooltip: {
                        callbacks: {
                            label: (ctx) => textOf(few[ctx.dataIndex], ctx.dataset.label) || ctx.dataset.label + ': ' + fmt.num(ctx.parsed.x, 1) + '%',
                        },
                    },
                },
            },
            table: table({
                caption: 'Effect of each factor on the value of the top ' + few.length + ' items (%)',
                columns: [{ label: 'item', header: true, value: (it) => it.id }].concat(
                    factors.map((f) => ({ label: f, num: true, value: (it) => fmt.num(effect(it, f), 1) }))
                ),
                rows: few,
            }),
        });

        const fb = doc.feedback || {};
        const fs = section(container, 'Feedback behind the demand signal');
        fs.appendChild(
            el('p', null,
                fmt.int(fb.rows) + ' feedback rows: ' + fmt.int(fb.given) + ' given an item by their source, ' + fmt.int(fb.linked) +
                ' linked by their text, ' + fmt.int(fb.corrected) + ' corrected by hand; ' + fmt.int(fb.needs_review) +
                ' candidate links need review (aipm feedback links --review). Each item’s linked rows and accounts are in the table below.')
        );

        const plan = doc.plan ? new Set(doc.plan.items || []) : null;
        const ts = section(container, 'Ranked backlog');
        ts.appendChild(
            table({
                caption: 'The ranked backlog (' + items.length + ' open items)',
                columns: [
                    { label: 'rank', num: true, value: (it) => it.rank },
                    { label: 'item', header: true, value: (it) => it.id },
                    { label: 'title', value: (it) => it.title },
                    { label: 'area', value: (it) => it.area || '—' },
                    { label: 'expected', num: true, value: (it) => fmt.num(it.expected_value, 1) },
                    { label: 'P10 – P90', num: true, value: (it) => fmt.num(it.p10, 1) + ' – ' + fmt.num(it.p90, 1) },
                    { label: 'risk-adj.', num: true, value: (it) => fmt.num(it.risk_adjusted_value, 1) },
                    { label: 'effort (wk)', num: true, value: (it) => fmt.num(it.effort, 1) },
                    { label: 'score', num: true, value: (it) => fmt.num(it.score, 1) },
                    { label: 'confidence', num: true, value: (it) => fmt.pct(it.confidence, 0) },
                    plan ? { label: 'in plan', value: (it) => (plan.has(it.id) ? 'yes' : 'no') } : null,
                    {
                        label: 'feedback',
                        value: (it) => {
                            const sg = it.signals || {};
                            return fmt.int(it.linked_feedback) + ' linked' + (it.needs_review ? ', ' + it.needs_review + ' to review' : '') +
                                (isNum(sg.accounts) ? '; ' + sg.accounts + ' account' + (sg.accounts === 1 ? '' : 's') + (sg.enterprise_accounts ? ' (' + sg.enterprise_accounts + ' enterprise)' : '') : '');
                        },
                    },
                    {
                        label: 'why',
                        cell: (it) => el('details', null, el('summary', null, 'factors'),
                            list((it.contributions || []).map((c) => c.text)),
                            it.signals ? kv([
                                ['demand (weighted accounts)', fmt.num(it.signals.demand, 2)],
                                ['per month', fmt.num(it.signals.demand_per_month, 2)],
                                ['reach', fmt.pct(it.signals.reach, 1) + ' of daily actives (' + fmt.num(it.signals.reach_daily_users, 1) + ' a day)'],
                                ['market', fmt.signedPct(it.signals.market, 1) + ' a month'],
                            ]) : null),
                    },
                ].filter((c) => c),
                rows: items,
                rowAttrs: (it) => ({ data: { item: it.id }, class: plan && plan.has(it.id) ? 'highlight' : null }),
            })
        );
    };

    /* ==== forecasts ==== */

    /* GET /api/v1/forecasts/FEATURE[?by=TRAIT]: the adoption curve with its
     * 80% and 95% bands per segment, and the backtest. */
    render.forecast = function (container, doc) {
        clear(container);
        const segs = doc.segments || [];
        const bt = doc.backtest || {};
        const reg = doc.registry || {};
        const s = section(container, 'Adoption forecast: ' + doc.feature);
        s.appendChild(
            kv([
                ['feature', doc.feature],
                ['model', doc.model],
                ['segments by', doc.by || 'none (everyone)'],
                ['as of', doc.as_of],
                ['launched', doc.launch],
                ['horizon', fmt.int(doc.horizon) + ' days'],
                ['draws', fmt.int(doc.draws)],
                ['registry', reg.name ? reg.name + '@' + reg.version + (reg.used ? ' used' : ' not used') + (reg.why ? ': ' + reg.why : '') : 'none'],
            ])
        );
        if (doc.prior) s.appendChild(note('No adopter yet: the forecast uses the prior from the features of its area. ' + JSON.stringify(doc.prior)));

        const b = section(container, 'Backtest accuracy', 3);
        b.appendChild(
            el('p', null,
                'The last ' + fmt.int(bt.days) + ' days before ' + fmt.value(bt.cutoff) + ' held out and forecast: WAPE (weighted absolute percentage error, lower is better) of each model and of two naive baselines.')
        );
        if (bt.note) b.appendChild(note(bt.note, 'warn'));
        b.appendChild(
            table({
                caption: 'Backtest WAPE, all segments',
                columns: [
                    { label: 'method', header: true, value: (r) => r[0] },
                    { label: 'WAPE', num: true, value: (r) => fmt.pct(r[1], 1) },
                ],
                rows: [
                    ['Bass', bt.bass_wape],
                    ['hazard', bt.hazard_wape],
                    ['naive (last value)', bt.naive_wape],
                    ['naive (linear trend)', bt.trend_wape],
                ],
            })
        );
        b.appendChild(
            table({
                caption: 'Backtest per segment',
                columns: [
                    { label: 'segment', header: true, value: (g) => g.segment },
                    { label: 'model', value: (g) => g.model },
                    { label: 'users', num: true, value: (g) => fmt.int(g.users) },
                    { label: 'adopters now', num: true, value: (g) => fmt.int(g.adopters) },
                    { label: 'WAPE', num: true, value: (g) => fmt.pct((g.backtest || {}).wape) },
                    { label: 'MAPE', num: true, value: (g) => fmt.pct((g.backtest || {}).mape) },
                    { label: 'naive WAPE', num: true, value: (g) => fmt.pct((g.backtest || {}).naive_wape) },
                    { label: 'trend WAPE', num: true, value: (g) => fmt.pct((g.backtest || {}).trend_wape) },
                ],
                rows: segs,
            })
        );

        const c = section(container, 'Adoption curves', 3);
        c.appendChild(el('p', { class: 'muted' }, 'Adopters from today (' + doc.as_of + ', the adopters seen so far) to the horizon: the middle forecast, its 80% band (darker) and its 95% band (lighter).'));
        segs.forEach((g, i) => {
            const col = palette[i % palette.length === 6 ? 0 : i % palette.length];
            const fc = g.forecast || [];
            const rows = [{ day: doc.as_of, adopters: g.adopters, lo80: g.adopters, hi80: g.adopters, lo95: g.adopters, hi95: g.adopters, now: true }].concat(fc);
            const end = fc[fc.length - 1];
            chart(c, {
                name: 'forecast-' + g.segment,
                title: doc.feature + ' adopters, segment ' + g.segment + ' (' + g.model + ')',
                summary: 'Adoption forecast of ' + doc.feature + ' for segment ' + g.segment + ' (' + fmt.int(g.users) + ' users): ' + fmt.int(g.adopters) + ' adopters on ' + doc.as_of +
                    (end ? ', ' + fmt.num(end.adopters, 1) + ' expected on ' + end.day + ' (80% band ' + fmt.num(end.lo80, 1) + ' to ' + fmt.num(end.hi80, 1) + ', 95% band ' + fmt.num(end.lo95, 1) + ' to ' + fmt.num(end.hi95, 1) + ')' : '') + '.',
                type: 'line',
                height: 260,
                data: {
                    labels: rows.map((r) => r.day),
                    datasets: [
                        { label: '95% band (low)', data: rows.map((r) => r.lo95), borderColor: 'transparent', pointRadius: 0, fill: false },
                        { label: '95% band', data: rows.map((r) => r.hi95), borderColor: 'transparent', backgroundColor: rgba(col, 0.15), pointRadius: 0, fill: '-1' },
                        { label: '80% band (low)', data: rows.map((r) => r.lo80), borderColor: 'transparent', pointRadius: 0, fill: false },
                        { label: '80% band', data: rows.map((r) => r.hi80), borderColor: 'transparent', backgroundColor: rgba(col, 0.35), pointRadius: 0, fill: '-1' },
                        { label: 'forecast', data: rows.map((r) => r.adopters), borderColor: col, backgroundColor: col, pointRadius: 0, borderWidth: 2 },
                    ],
                },
                options: {
                    interaction: { mode: 'index', intersect: false },
                    scales: { y: axis('adopters'), x: { ticks: { maxTicksLimit: 10 } } },
                    plugins: { legend: { labels: { filter: (item) => !/\(low\)$/.test(item.text) } } },
                },
                table: table({
                    caption: doc.feature + ' adopters per day, segment ' + g.segment,
                    columns: [
                        { label: 'day', header: true, value: (r) => r.day + (r.now ? ' (today, seen)' : '') },
                        { label: 'forecast', num: true, value: (r) => fmt.num(r.adopters, 1) },
                        { label: '80% low', num: true, value: (r) => fmt.num(r.lo80, 1) },
                        { label: '80% high', num: true, value: (r) => fmt.num(r.hi80, 1) },
                        { label: '95% low', num: true, value: (r) => fmt.num(r.lo95, 1) },
                        { label: '95% high', num: true, value: (r) => fmt.num(r.hi95, 1) },
                    ],
                    rows: rows,
                }),
            });
        });
        if (segs.length === 0) c.appendChild(note('The forecast has no segment.'));

        const p = section(container, 'Fitted parameters', 3);
        p.appendChild(
            table({
                caption: 'Each segment’s fit',
                columns: [
                    { label: 'segment', header: true, value: (g) => g.segment },
                    { label: 'Bass p', num: true, value: (g) => fmt.p(g.p) },
                    { label: 'Bass q', num: true, value: (g) => fmt.p(g.q) },
                    { label: 'Bass m', num: true, value: (g) => fmt.num(g.m, 1) },
                    { label: 'graph coef.', num: true, value: (g) => fmt.num(g.graph_coef, 3) },
                    { label: 'hazard events', num: true, value: (g) => fmt.int((g.hazard || {}).events) },
                    { label: 'Bass rejected', value: (g) => (g.bass_rejected ? String(g.bass_rejected) : '—') },
                ],
                rows: segs,
            })
        );
    };

    /* ==== experiments ==== */

    /* GET /api/v1/experiments/KEY: the verdict, SRM, and each metric's lift
     * with its interval. */
    render.experiment = function (container, doc) {
        clear(container);
        const v = doc.verdict || {};
        const srm = doc.srm || {};
        const s = section(container, 'Experiment: ' + doc.experiment);
        s.appendChild(el('p', null, 'Verdict: ', badge(v.decision || '—'), isNum(v.confidence) ? ' with confidence ' + fmt.pct(v.confidence, 1) : ''));
        if ((v.reasons || []).length) s.appendChild(list(v.reasons));
        s.appendChild(
            el('p', { data: { srm: srm.ok ? 'ok' : 'mismatch' } }, 'Sample ratio: ',
                badge(srm.ok ? 'SRM ok' : 'SRM mismatch', srm.ok ? 'ok' : 'bad'),
                ' chi-square ' + fmt.num(srm.chi2, 2) + ', p = ' + fmt.p(srm.p_value) +
                (srm.ok ? ': the exposures match the configured weights.' : ': the exposures do not match the configured weights; read no metric until the assignment is fixed.'))
        );
        const ex = doc.exposure || {};
        s.appendChild(
            kv([
                ['engine', doc.engine + (doc.cuped ? ', CUPED' : '')],
                ['multiple-comparison correction', doc.correction || 'none'],
                ['running', doc.running ? 'yes' : 'no'],
                ['analysed up to', fmt.time(doc.analysis_end)],
                ['units in more than one variation', fmt.int(ex.multi_exposed_units) + ' (' + fmt.pct(ex.multi_exposed_share, 2) + ')'],
            ])
        );
        if ((doc.warnings || []).length) for (const w of doc.warnings) s.appendChild(note(String(w), 'warn'));

        const rows = [];
        for (const m of doc.metrics || []) {
            for (const va of m.variations || []) {
                if (isNum(va.lift_rel)) rows.push({ m: m, v: va });
            }
        }
        const interval = doc.engine === 'bayesian' ? 'credible interval' : doc.engine === 'sequential' ? 'always-valid interval' : 'confidence interval';
        const lbl = (r) => r.m.metric + (r.m.guardrail ? ' (guardrail)' : '') + ' · ' + r.v.key;
        const c = section(container, 'Lift per metric', 3);
        chart(c, {
            name: 'experiment-lift',
            title: 'Relative lift of each variation over control, with its ' + interval,
            summary: 'Relative lift per metric and variation with its ' + interval + ': ' +
                rows.map((r) => lbl(r) + ' ' + fmt.signedPct(r.v.lift_rel) + ' (' + fmt.signedPct(r.v.ci_low) + ' to ' + fmt.signedPct(r.v.ci_high) + ')').join('; ') + '.',
            type: 'bar',
            height: Math.max(200, 70 + rows.length * 46),
            data: {
                labels: rows.map(lbl),
                datasets: [
                    {
                        type: 'bar', label: interval, barPercentage: 0.5,
                        data: rows.map((r) => (isNum(r.v.ci_low) && isNum(r.v.ci_high) ? [r.v.ci_low * 100, r.v.ci_high * 100] : null)),
                        backgroundColor: rows.map((r) => rgba(r.m.guardrail ? palette[1] : palette[0], 0.4)),
                        borderColor: rows.map((r) => (r.m.guardrail ? palette[1] : palette[0])), borderWidth: 1,
                    },
                    { type: 'line', label: 'lift', data: rows.map((r) => r.v.lift_rel * 100), showLine: false, pointStyle: 'rectRot', pointRadius: 6, borderColor: '#000', backgroundColor: '#000' },
                ],
            },
            options: {
                indexAxis: 'y',
                scales: {
                    x: axis('relative lift (%)', { grid: { color: (ctx) => (ctx.tick && ctx.tick.value === 0 ? '#333' : 'rgba(0,0,0,0.1)') } }),
                    y: { ticks: { autoSkip: false } },
                },
                plugins: { tooltip: rangeTooltip((x) => fmt.num(x, 2) + '%') },
            },
            table: table({
                caption: 'Relative lift and its ' + interval,
                columns: [
                    { label: 'metric · variation', header: true, value: lbl },
                    { label: 'lift', num: true, value: (r) => fmt.signedPct(r.v.lift_rel, 2) },
                    { label: 'low', num: true, value: (r) => fmt.signedPct(r.v.ci_low, 2) },
                    { label: 'high', num: true, value: (r) => fmt.signedPct(r.v.ci_high, 2) },
                ],
                rows: rows,
            }),
        });

        for (const m of doc.metrics || []) {
            const ms = section(container, m.metric + (m.guardrail ? ' (guardrail)' : ''), 3);
            ms.appendChild(el('p', { class: 'muted' }, m.type + ' per ' + m.unit + '; ' + (m.direction === 'down' ? 'lower' : 'higher') + ' is better.'));
            ms.appendChild(variationTable(m.metric, m.variations || [], doc.engine));
            if (m.by) {
                for (const lv of m.by.levels || []) {
                    const lsrm = lv.srm || {};
                    ms.appendChild(el('h4', null, m.by.trait + ' = ' + lv.level + ' ', badge(lsrm.ok ? 'SRM ok' : 'SRM mismatch', lsrm.ok ? 'ok' : 'bad')));
                    ms.appendChild(variationTable(m.metric + ', ' + m.by.trait + ' = ' + lv.level, lv.variations || [], doc.engine));
                }
            }
        }
    };

    function variationTable(caption, vars, engine) {
        return table({
            caption: caption + ' per variation',
            columns: [
                { label: 'variation', header: true, value: (v) => v.key },
                { label: 'units', num: true, value: (v) => fmt.int(v.units) },
                { label: 'mean', num: true, value: (v) => fmt.num(v.mean, 4) },
                { label: 'std. dev.', num: true, value: (v) => fmt.num(v.stddev, 4) },
                { label: 'lift', num: true, value: (v) => fmt.signedPct(v.lift_rel, 2) },
                { label: 'interval', num: true, value: (v) => (isNum(v.ci_low) ? fmt.signedPct(v.ci_low, 2) + ' .. ' + fmt.signedPct(v.ci_high, 2) : '—') },
                engine === 'bayesian' ? null : { label: 'p-value', num: true, value: (v) => fmt.p(v.p_value) },
                engine === 'bayesian' ? null : { label: 'p adjusted', num: true, value: (v) => fmt.p(v.p_adjusted) },
                { label: 'chance to win', num: true, value: (v) => fmt.pct(v.chance_to_win, 1) },
                { label: 'expected loss', num: true, value: (v) => fmt.p(v.expected_loss) },
            ].filter((c) => c),
            rows: vars,
        });
    }

    /* ==== scenarios ==== */

    /* A simulate document (the output of a decision of kind simulate):
     * each scenario's distribution, P(loss), paths and the tornado. */
    render.simulation = function (container, doc) {
        clear(container);
        const obj = doc.objective || {};
        const rec = doc.recommendation || {};
        const scs = doc.scenarios || [];
        const unit = obj.kind === 'value' ? 'value' : obj.kpi;
        const isShare = obj.kind === 'kpi' && scs.every((x) => !isNum(x.p90) || (x.p90 >= 0 && x.p90 <= 1));
        const f = isShare ? (x) => fmt.pct(x, 2) : (x) => fmt.num(x, 2);
        const scale = isShare ? 100 : 1;

        const s = section(container, 'Recommendation');
        s.appendChild(el('p', null, 'Recommended: ', el('strong', null, rec.scenario || '—'), isNum(rec.risk_adjusted) ? ', risk-adjusted ' + f(rec.risk_adjusted) : ''));
        if ((rec.reasons || []).length) s.appendChild(list(rec.reasons));
        s.appendChild(
            kv([
                ['objective', obj.kpi + ' (' + obj.kind + '), ' + (obj.better || 'higher') + ' is better'],
                ['horizon', fmt.int(obj.horizon_days) + ' days'],
                ['baseline', doc.baseline],
                ['risk aversion, tail', fmt.num(doc.risk_aversion, 2) + ', ' + fmt.pct(doc.tail, 0)],
                ['draws, seed', fmt.int(doc.draws) + ', ' + fmt.value(doc.seed)],
                ['as of', fmt.time(doc.as_of)],
                ['scenario file SHA-256', el('span', { class: 'mono' }, fmt.hash(doc.scenario_sha256))],
            ])
        );
        for (const w of doc.warnings || []) s.appendChild(note(String(w), 'warn'));

        const d = section(container, 'Outcomes per scenario');
        d.appendChild(
            table({
                caption: 'Each scenario’s ' + unit + ' over ' + fmt.int(obj.horizon_days) + ' days',
                columns: [
                    { label: 'scenario', header: true, value: (x) => x.name + (x.name === rec.scenario ? ' (recommended)' : '') + (x.name === doc.baseline ? ' (baseline)' : '') },
                    { label: 'mean', num: true, value: (x) => f(x.mean) },
                    { label: 'P10', num: true, value: (x) => f(x.p10) },
                    { label: 'P50', num: true, value: (x) => f(x.p50) },
                    { label: 'P90', num: true, value: (x) => f(x.p90) },
                    { label: 'CVaR', num: true, value: (x) => f(x.cvar) },
                    { label: 'risk-adjusted', num: true, value: (x) => f(x.risk_adjusted) },
                    { label: 'P(loss)', num: true, value: (x) => fmt.pct(x.p_loss, 1) },
                    { label: 'feasible', value: (x) => (x.feasible === false ? 'no' : 'yes') },
                    { label: 'assumptions', cell: (x) => ((x.assumptions || []).length ? list(x.assumptions) : '—') },
                ],
                rows: scs,
                rowAttrs: (x) => ({ class: x.name === rec.scenario ? 'highlight' : null, data: { scenario: x.name } }),
            })
        );
        const g = el('div', { class: 'grid-2' });
        d.appendChild(g);
        chart(g, {
            name: 'simulation-distribution',
            title: 'P10 – P90 of each scenario, with P50 and mean',
            summary: 'Distribution of ' + unit + ' per scenario: ' + scs.map((x) => x.name + ' P10 ' + f(x.p10) + ', P50 ' + f(x.p50) + ', P90 ' + f(x.p90)).join('; ') + '.',
            type: 'bar',
            height: Math.max(220, 80 + scs.length * 40),
            data: {
                labels: scs.map((x) => x.name),
                datasets: [
                    { type: 'bar', label: 'P10 – P90', data: scs.map((x) => [x.p10 * scale, x.p90 * scale]), backgroundColor: scs.map((x) => rgba(x.name === rec.scenario ? palette[2] : palette[0], 0.4)), borderColor: scs.map((x) => (x.name === rec.scenario ? palette[2] : palette[0])), borderWidth: 1, barPercentage: 0.6 },
                    { type: 'line', label: 'P50', data: scs.map((x) => x.p50 * scale), showLine: false, pointStyle: 'line', pointRadius: 10, borderWidth: 3, borderColor: '#000' },
                    { type: 'line', label: 'mean', data: scs.map((x) => x.mean * scale), showLine: false, pointStyle: 'rectRot', pointRadius: 5, borderColor: palette[5], backgroundColor: palette[5] },
                ],
            },
            options: { indexAxis: 'y', scales: { x: axis(isShare ? unit + ' (%)' : unit) }, plugins: { tooltip: rangeTooltip((x) => fmt.num(x, 2)) } },
            table: table({
                caption: 'Distribution per scenario',
                columns: [
                    { label: 'scenario', header: true, value: (x) => x.name },
                    { label: 'P10', num: true, value: (x) => f(x.p10) },
                    { label: 'P50', num: true, value: (x) => f(x.p50) },
                    { label: 'mean', num: true, value: (x) => f(x.mean) },
                    { label: 'P90', num: true, value: (x) => f(x.p90) },
                ],
                rows: scs,
            }),
        });
        const others = scs.filter((x) => x.name !== doc.baseline);
        chart(g, {
            name: 'simulation-ploss',
            title: 'P(loss): chance of ending below the baseline ' + doc.baseline,
            summary: 'Probability of ending below the baseline ' + doc.baseline + ': ' + others.map((x) => x.name + ' ' + fmt.pct(x.p_loss, 1)).join('; ') + '.',
            type: 'bar',
            height: Math.max(220, 80 + others.length * 40),
            data: {
                labels: others.map((x) => x.name),
                datasets: [{ label: 'P(loss) %', data: others.map((x) => (isNum(x.p_loss) ? x.p_loss * 100 : null)), backgroundColor: palette[5], barPercentage: 0.6 }],
            },
            options: { indexAxis: 'y', scales: { x: axis('%', { min: 0, max: 100 }) }, plugins: { legend: { display: false } } },
            table: table({
                caption: 'P(loss) per scenario',
                columns: [
                    { label: 'scenario', header: true, value: (x) => x.name },
                    { label: 'P(loss)', num: true, value: (x) => fmt.pct(x.p_loss, 1) },
                ],
                rows: others,
            }),
        });

        const withPath = scs.filter((x) => (x.path || []).length);
        if (withPath.length) {
            const days = withPath[0].path.map((p) => p.date || 'day ' + p.day);
            chart(d, {
                name: 'simulation-paths',
                title: 'The objective over the horizon (P50 of each scenario, P10 – P90 of the recommended one)',
                summary: 'Daily ' + unit + ' over the horizon per scenario (median): ' + withPath.map((x) => x.name + ' ends at ' + f(x.path[x.path.length - 1].p50)).join('; ') + '.',
                type: 'line',
                height: 280,
                data: {
                    labels: days,
                    datasets: [].concat(
                        withPath.filter((x) => x.name === rec.scenario).flatMap((x) => [
                            { label: x.name + ' P10', data: x.path.map((p) => p.p10 * scale), borderColor: 'transparent', pointRadius: 0, fill: false },
                            { label: x.name + ' P10 – P90', data: x.path.map((p) => p.p90 * scale), borderColor: 'transparent', backgroundColor: rgba(palette[2], 0.18), pointRadius: 0, fill: '-1' },
                        ]),
                        withPath.map((x, i) => ({
                            label: x.name + ' P50',
                            data: x.path.map((p) => p.p50 * scale),
                            borderColor: x.name === rec.scenario ? palette[2] : palette[[0, 1, 3, 4, 5, 7][i % 6]],
                            backgroundColor: x.name === rec.scenario ? palette[2] : palette[[0, 1, 3, 4, 5, 7][i % 6]],
                            borderDash: x.name === rec.scenario ? [] : [[6, 3], [2, 2], [8, 3, 2, 3]][i % 3],
                            pointRadius: 2,
                        }))
                    ),
                },
                options: {
                    interaction: { mode: 'index', intersect: false },
                    scales: { y: axis(isShare ? unit + ' (%)' : unit) },
                    plugins: { legend: { labels: { filter: (item) => !/ P10$/.test(item.text) } } },
                },
                table: table({
                    caption: 'P50 per scenario over the horizon',
                    columns: [{ label: 'day', header: true, value: (r) => r.label }].concat(
                        withPath.map((x) => ({ label: x.name, num: true, value: (r) => f((x.path[r.i] || {}).p50) }))
                    ),
                    rows: days.map((label, i) => ({ label: label, i: i })),
                }),
            });
        }

        const sens = doc.sensitivity || {};
        const inputs = sens.inputs || [];
        const t = section(container, 'What drives the uncertainty of ' + (sens.scenario || rec.scenario || 'the recommendation'));
        if (sens.method) t.appendChild(el('p', { class: 'muted' }, sens.method + '.'));
        const rscn = scs.find((x) => x.name === sens.scenario);
        chart(t, {
            name: 'simulation-tornado',
            title: 'Tornado: the objective when each input is in its lowest and highest tenth',
            summary: 'Sensitivity of ' + (sens.scenario || '') + ': ' + inputs.map((x) => x.input + ' ' + fmt.pct(x.share, 1) + ' of the variance (' + f(x.low) + ' to ' + f(x.high) + ')').join('; ') + '.',
            type: 'bar',
            height: Math.max(200, 70 + inputs.length * 34),
            data: {
                labels: inputs.map((x) => fmt.short(x.input, 48) + ' (' + fmt.pct(x.share, 0) + ')'),
                datasets: [
                    { label: 'low tenth .. high tenth', data: inputs.map((x) => (isNum(x.low) && isNum(x.high) ? [Math.min(x.low, x.high) * scale, Math.max(x.low, x.high) * scale] : null)), backgroundColor: inputs.map((x) => (x.high >= x.low ? rgba(palette[0], 0.6) : rgba(palette[5], 0.6))), borderColor: inputs.map((x) => (x.high >= x.low ? palette[0] : palette[5])), borderWidth: 1, barPercentage: 0.7 },
                    rscn ? { type: 'line', label: 'mean of ' + rscn.name, aipmReference: true, data: inputs.map(() => rscn.mean * scale), pointRadius: 0, borderColor: '#000', borderDash: [4, 3], borderWidth: 1.5 } : null,
                ].filter((x) => x),
            },
            options: { indexAxis: 'y', scales: { x: axis(isShare ? unit + ' (%)' : unit), y: { ticks: { autoSkip: false } } }, plugins: { tooltip: rangeTooltip((x) => fmt.num(x, 2)) } },
            table: table({
                caption: 'Inputs by share of the variance',
                columns: [
                    { label: 'input', header: true, value: (x) => x.input },
                    { label: 'kind', value: (x) => x.kind || '—' },
                    { label: 'share', num: true, value: (x) => fmt.pct(x.share, 1) },
                    { label: 'low tenth', num: true, value: (x) => f(x.low) },
                    { label: 'high tenth', num: true, value: (x) => f(x.high) },
                ],
                rows: inputs,
            }),
        });

        const names = scs.map((x) => x.name);
        const beats = doc.beats || {};
        if (names.length > 1) {
            const bsec = section(container, 'How often each scenario beats another', 3);
            bsec.appendChild(
                table({
                    caption: 'Share of draws where the row’s scenario does better than the column’s',
                    columns: [{ label: 'scenario', header: true, value: (n) => n }].concat(
                        names.map((c) => ({ label: 'vs ' + c, num: true, value: (n) => (n === c ? '—' : fmt.pct((beats[n] || {})[c], 1)) }))
                    ),
                    rows: names,
                })
            );
        }
        const cap = scs.filter((x) => x.capacity);
        if (cap.length) {
            const cs = section(container, 'Capacity and build order', 3);
            cs.appendChild(
                table({
                    caption: 'Person-weeks per scenario',
                    columns: [
                        { label: 'scenario', header: true, value: (x) => x.name },
                        { label: 'available', num: true, value: (x) => fmt.num(x.capacity.available_weeks, 1) },
                        { label: 'planned', num: true, value: (x) => fmt.num(x.capacity.planned_weeks, 1) },
                        { label: 'effort (mean)', num: true, value: (x) => fmt.num(x.capacity.effort_mean, 1) },
                        { label: 'P(over capacity)', num: true, value: (x) => fmt.pct(x.capacity.p_over, 1) },
                        { label: 'shortfall (mean)', num: true, value: (x) => fmt.num(x.capacity.shortfall_mean, 2) },
                        { label: 'items (ship day)', cell: (x) => ((x.items || []).length ? list(x.items.map((it) => it.id + ' — day ' + fmt.num(it.ship_day, 0) + (it.live ? '' : ' (not live in the horizon)') + ', ' + fmt.num(it.effort, 1) + ' wk')) : '—') },
                        { label: 'not live', value: (x) => ((x.not_live || []).length ? x.not_live.join(', ') : '—') },
                    ],
                    rows: cap,
                })
            );
        }
        if (doc.models) {
            const msec = section(container, 'Models behind the draws', 3);
            msec.appendChild(el('pre', null, JSON.stringify(doc.models, null, 2)));
        }
    };

    /* ==== models ==== */

    function scalarMetrics(m) {
        return Object.entries(m || {}).filter(([, v]) => isNum(v));
    }

    /* GET /api/v1/models and /api/v1/monitoring: the registry, and each
     * production model's drift in the latest monitoring run.
     * opts.href(ref) links a version to its card. */
    render.models = function (container, modelsDoc, monitoringDoc, opts) {
        clear(container);
        const o = opts || {};
        const models = (modelsDoc && modelsDoc.models) || [];
        const s = section(container, 'Model registry');
        if (models.length === 0) s.appendChild(note('No model is registered yet (aipm model train).'));
        const rows = [];
        for (const m of models) for (const v of m.versions || []) rows.push({ m: m, v: v });
        if (rows.length) {
            s.appendChild(
                table({
                    caption: 'Every model version with its holdout metrics',
                    columns: [
                        { label: 'model', header: true, cell: (r) => (o.href ? el('a', { href: o.href(r.m.name + '@' + r.v.version) }, r.m.name + '@' + r.v.version) : r.m.name + '@' + r.v.version) },
                        { label: 'aliases', cell: (r) => ((r.v.aliases || []).length ? r.v.aliases.map((a) => badge(a, a === 'production' ? 'ok' : '')) : '—') },
                        { label: 'trained', value: (r) => fmt.time(r.v.trained) + ' by ' + (r.v.trained_by || '—') },
                        { label: 'cutoff', value: (r) => r.v.cutoff || '—' },
                        { label: 'holdout metrics', value: (r) => scalarMetrics(r.v.metrics).filter(([k]) => !/bins|points/.test(k)).map(([k, x]) => k + ' ' + fmt.num(x, 4)).join(', ') },
                    ],
                    rows: rows,
                })
            );
        }

        const runs = (monitoringDoc && monitoringDoc.runs) || [];
        const ms = section(container, 'Monitoring');
        if (runs.length === 0) {
            ms.appendChild(note('No monitoring run is stored yet (aipm monitor).'));
            return;
        }
        const run = runs[0];
        ms.appendChild(el('p', null, 'Latest run #' + run.seq + ' at ' + fmt.time(run.time) + ': ', badge(run.status), ' — ' + run.alerts + ' alerts, ' + run.warnings + ' warnings.'));
        ms.appendChild(
            note('The stored runs give each check’s statistic and status but not its test or threshold (aipm monitor prints them), so the charts show the statistic and the status only. A p-value test (ks, chisquare, z) drifts below its threshold; a distance (wasserstein, jensenshannon) above it.')
        );
        const checks = run.checks || [];
        const byModel = {};
        for (const c of checks) if (c.model && (c.check === 'drift' || c.check === 'score_drift')) (byModel[c.model] = byModel[c.model] || []).push(c);
        const stColor = { ok: palette[2], warn: palette[1], alert: palette[5] };
        for (const [name, cs] of Object.entries(byModel)) {
            chart(ms, {
                name: 'drift-' + name,
                title: 'Drift of ' + name + '’s features in run #' + run.seq,
                summary: 'Drift statistic per feature of model ' + name + ': ' + cs.map((c) => c.feature + ' ' + fmt.p(c.statistic) + ' (' + c.status + ')').join('; ') + '.',
                type: 'bar',
                height: Math.max(200, 70 + cs.length * 30),
                data: {
                    labels: cs.map((c) => c.feature + ' — ' + c.status),
                    datasets: [{ label: 'statistic', data: cs.map((c) => c.statistic), backgroundColor: cs.map((c) => stColor[c.status] || grey), barPercentage: 0.7 }],
                },
                options: { indexAxis: 'y', scales: { x: axis('statistic (test not in the document)'), y: { ticks: { autoSkip: false } } }, plugins: { legend: { display: false } } },
                table: table({
                    caption: 'Drift checks of ' + name,
                    columns: [
                        { label: 'feature', header: true, value: (c) => c.feature },
                        { label: 'check', value: (c) => c.check },
                        { label: 'statistic', num: true, value: (c) => fmt.p(c.statistic) },
                        { label: 'status', cell: (c) => badge(c.status) },
                    ],
                    rows: cs,
                }),
            });
        }
        ms.appendChild(
            table({
                caption: 'Every check of run #' + run.seq,
                columns: [
                    { label: 'check', header: true, value: (c) => c.check },
                    { label: 'of', value: checkSubject },
                    { label: 'statistic', num: true, value: (c) => fmt.p(c.statistic) },
                    { label: 'status', cell: (c) => badge(c.status) },
                ],
                rows: checks,
            })
        );
        ms.appendChild(
            table({
                caption: 'Monitoring runs, newest first',
                columns: [
                    { label: 'run', header: true, value: (r) => '#' + r.seq },
                    { label: 'time', value: (r) => fmt.time(r.time) },
                    { label: 'status', cell: (r) => badge(r.status) },
                    { label: 'alerts', num: true, value: (r) => fmt.int(r.alerts) },
                    { label: 'warnings', num: true, value: (r) => fmt.int(r.warnings) },
                    { label: 'actions', value: (r) => ((r.actions || []).length ? r.actions.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('; ') : '—') },
                ],
                rows: runs,
            })
        );
    };

    /* GET /api/v1/models/NAME[@VERSION]: a model card with its calibration
     * and its alias history. */
    render.modelCard = function (container, card) {
        clear(container);
        const s = section(container, 'Model card: ' + card.name + '@' + card.version);
        if (card.predicts) s.appendChild(el('p', null, 'Predicts ' + card.predicts + '.'));
        s.appendChild(
            kv([
                ['kind', card.kind],
                ['aliases', (card.aliases || []).length ? card.aliases.join(', ') : 'none'],
                ['trained', fmt.time(card.trained) + ' by ' + (card.trained_by || '—')],
                ['code version', card.code_version],
                ['seed', fmt.value(card.seed)],
                ['artifact', el('span', null, el('span', { class: 'mono' }, fmt.hash(card.artifact_sha256)), ' ', card.artifact_check ? badge(card.artifact_check) : '')],
                ['segments by', card.segments_by],
                ['data', card.data ? Object.entries(card.data).filter(([, v]) => !Array.isArray(v) || v.length < 12).map(([k, v]) => k + ' ' + (Array.isArray(v) ? (v.length ? v.join(', ') : 'none') : fmt.value(v))).join('; ') : null],
            ])
        );
        const metrics = card.metrics || {};
        s.appendChild(el('h3', null, 'Holdout metrics'));
        s.appendChild(kv(scalarMetrics(metrics).map(([k, v]) => [k, fmt.num(v, 4)])));

        const cal = metrics.calibration;
        if (Array.isArray(cal) && cal.length) {
            const pts = cal.filter((b) => isNum(b.mean_p) && isNum(b.mean_y));
            const hi = pts.reduce((m, b) => Math.max(m, b.mean_p, b.mean_y), 0) * 1.05;
            chart(s, {
                name: 'model-calibration',
                title: 'Calibration: observed rate against predicted probability, per bin',
                summary: 'Calibration of ' + card.name + '@' + card.version + ' over ' + pts.length + ' bins' + (isNum(metrics.ece) ? ', expected calibration error ' + fmt.p(metrics.ece) : '') + '; points on the diagonal are perfectly calibrated.',
                type: 'scatter',
                height: 300,
                data: {
                    datasets: [
                        { label: 'bins', data: pts.map((b) => ({ x: b.mean_p, y: b.mean_y })), backgroundColor: palette[0], borderColor: palette[0], pointRadius: 4 },
                        { type: 'line', label: 'perfect calibration', aipmReference: true, data: [{ x: 0, y: 0 }, { x: hi, y: hi }], borderColor: grey, borderDash: [5, 4], pointRadius: 0, borderWidth: 1 },
                    ],
                },
                options: { scales: { x: axis('predicted probability', { type: 'linear', min: 0 }), y: axis('observed rate', { min: 0 }) } },
                table: table({
                    caption: 'Calibration bins',
                    columns: [
                        { label: 'bin', header: true, value: (b) => fmt.p(b.lo) + ' .. ' + fmt.p(b.hi) },
                        { label: 'predicted', num: true, value: (b) => fmt.p(b.mean_p) },
                        { label: 'observed', num: true, value: (b) => fmt.p(b.mean_y) },
                        { label: 'n', num: true, value: (b) => fmt.int(b.n) },
                    ],
                    rows: cal,
                }),
            });
        } else {
            s.appendChild(note('This card has no calibration (a ' + (card.kind || 'model') + ' model reports ' + Object.keys(metrics).join(', ') + ').'));
        }

        const segs = card.segments || [];
        if (segs.length) {
            const keys = Array.from(new Set(segs.flatMap((x) => Object.keys(x).filter((k) => k !== 'segment' && k !== 'ece_bins'))));
            s.appendChild(el('h3', null, 'Per segment'));
            s.appendChild(table({
                caption: 'Holdout metrics per segment',
                columns: [{ label: 'segment', header: true, value: (x) => x.segment || x.area || '—' }].concat(keys.map((k) => ({ label: k, num: true, value: (x) => fmt.value(x[k]) }))),
                rows: segs,
            }));
        }
        const perFeature = metrics.features;
        if (Array.isArray(perFeature) && perFeature.length && typeof perFeature[0] === 'object') {
            const keys = Array.from(new Set(perFeature.flatMap((x) => Object.keys(x).filter((k) => k !== 'feature' && k !== 'ece_bins'))));
            s.appendChild(table({
                caption: 'Holdout metrics per catalog feature',
                columns: [{ label: 'feature', header: true, value: (x) => x.feature }].concat(keys.map((k) => ({ label: k, num: true, value: (x) => fmt.value(x[k]) }))),
                rows: perFeature,
            }));
        }
        if ((card.features || []).length) {
            s.appendChild(el('h3', null, 'Features'));
            s.appendChild(table({
                caption: 'The model’s features and the columns they read',
                columns: [
                    { label: 'feature', header: true, value: (x) => x.name },
                    { label: 'definition', value: (x) => x.definition || '—' },
                    { label: 'columns', value: (x) => (x.columns || []).join(', ') },
                ],
                rows: card.features,
            }));
        }
        if ((card.limits || []).length) {
            s.appendChild(el('h3', null, 'Known limits'));
            s.appendChild(list(card.limits));
        }
        if (card.hyperparameters) {
            s.appendChild(el('h3', null, 'Hyperparameters'));
            s.appendChild(kv(Object.entries(card.hyperparameters).map(([k, v]) => [k, fmt.value(v)])));
        }
        s.appendChild(el('h3', null, 'Alias history'));
        s.appendChild(table({
            caption: 'Moves of ' + card.name + '’s aliases',
            columns: [
                { label: 'seq', header: true, value: (a) => String(a.seq) },
                { label: 'time', value: (a) => fmt.time(a.time) },
                { label: 'alias', value: (a) => a.alias },
                { label: 'from', num: true, value: (a) => fmt.value(a.from) },
                { label: 'to', num: true, value: (a) => fmt.value(a.to) },
                { label: 'by', value: (a) => a.by || '—' },
                { label: 'reason', value: (a) => a.reason || '—' },
            ],
            rows: card.alias_log || [],
            empty: 'No alias has pointed at this model yet.',
        }));
    };

    /* ==== decisions ==== */

    function decisionTitle(d) {
        return d.kind + ': ' + d.subject + ' → ' + d.decision;
    }

    /* The outcome of an act in its data-act-result element. */
    function showActResult(box, outcome) {
        box.replaceChildren();
        if (outcome.error) {
            const e = outcome.error;
            box.appendChild(el('span', null, e.message || String(e)));
            if (e.command) {
                box.append(' Run this on your machine (replace ... with your reason):');
                box.appendChild(el('code', null, e.command));
            }
            box.dataset.outcome = e.code || 'error';
            return;
        }
        const r = outcome.doc || {};
        box.dataset.outcome = r.status || 'done';
        box.appendChild(el('strong', null, r.status || 'done'));
        const more = [];
        if (isNum(r.approvals) && isNum(r.needed)) more.push(r.approvals + ' of ' + r.needed + ' approval' + (r.needed === 1 ? '' : 's'));
        if (r.rule) more.push('rule ' + r.rule);
        if (more.length) box.append(' — ' + more.join(', '));
    }

    /* GET /api/v1/decisions: the queue of proposed records (with approve
     * and reject when opts.onAct(id, action, reason) is given: a promise of
     * the act's document, or a rejection {code, message, command}) and
     * every record. opts.href(id) links a record to its provenance;
     * opts.note is said above the queue. */
    render.decisions = function (container, doc, opts) {
        clear(container);
        const o = opts || {};
        const all = doc.decisions || [];
        const proposed = all.filter((d) => d.status === 'proposed');
        const q = section(container, 'Waiting for review (' + proposed.length + ')');
        if (o.note) q.appendChild(note(o.note));
        if (proposed.length === 0) q.appendChild(el('p', { class: 'muted' }, 'No record waits for review.'));
        const ul = el('ul', { class: 'queue' });
        for (const d of proposed) {
            const li = el('li', { data: { decision: d.id } });
            const hid = newId('dec');
            li.appendChild(
                el('div', { class: 'head' },
                    el('h3', { id: hid }, decisionTitle(d)),
                    el('span', { class: 'muted' }, fmt.time(d.time)),
                    o.href ? el('a', { href: o.href(d.id) }, 'provenance') : null,
                    el('span', { class: 'mono muted' }, d.id))
            );
            if (o.onAct) {
                const rid = newId('reason');
                const reason = el('textarea', { id: rid, name: 'reason', rows: '2', required: true, 'aria-describedby': hid });
                const result = el('div', { 'data-act-result': '', 'aria-live': 'polite' });
                const buttons = ['approve', 'reject'].map((act) =>
                    el('button', { type: 'button', data: { act: act }, 'aria-describedby': hid }, act === 'approve' ? 'Approve' : 'Reject')
                );
                buttons.forEach((btn) => {
                    btn.addEventListener('click', () => {
                        const text = reason.value.trim();
                        if (!text) {
                            showActResult(result, { error: { code: 'invalid', message: 'Write the reason first: every act is logged with one.' } });
                            reason.focus();
                            return;
                        }
                        buttons.forEach((b) => (b.disabled = true));
                        result.textContent = 'Sending…';
                        Promise.resolve(o.onAct(d.id, btn.dataset.act, text)).then(
                            (r) => {
                                showActResult(result, { doc: r });
                                const still = r && r.status === 'proposed';
                                buttons.forEach((b) => (b.disabled = !still));
                                const cell = container.querySelector('[data-status-for="' + d.id + '"]');
                                if (cell && r && r.status) cell.replaceChildren(badge(r.status));
                            },
                            (e) => {
                                showActResult(result, { error: e || { message: 'failed' } });
                                buttons.forEach((b) => (b.disabled = false));
                            }
                        );
                    });
                });
                li.appendChild(el('div', { class: 'act-field' }, el('label', { for: rid }, 'Reason'), reason));
                li.appendChild(el('div', { class: 'actions' }, buttons));
                li.appendChild(result);
            }
            ul.appendChild(li);
        }
        if (proposed.length) q.appendChild(ul);

        const a = section(container, 'All decision records (' + all.length + ')');
        a.appendChild(
            table({
                caption: 'Decision records, newest first',
                columns: [
                    { label: 'time', value: (d) => fmt.time(d.time) },
                    { label: 'kind', value: (d) => d.kind },
                    { label: 'subject', header: true, value: (d) => d.subject },
                    { label: 'decision', value: (d) => d.decision },
                    { label: 'status', cell: (d) => el('span', { data: { statusFor: d.id } }, badge(d.status)) },
                    { label: 'record', cell: (d) => (o.href ? el('a', { href: o.href(d.id), class: 'mono' }, d.id.slice(0, 8)) : el('span', { class: 'mono' }, d.id)) },
                ],
                rows: all.slice().reverse(),
                rowAttrs: (d) => ({ data: { record: d.id } }),
            })
        );
    };

    /* GET /api/v1/decisions/ID: one record's provenance and acts. */
    render.decision = function (container, d, opts) {
        clear(container);
        const o = opts || {};
        const s = section(container, 'Provenance of ' + decisionTitle(d), 2, { data: { provenance: d.id } });
        s.querySelector('h2').setAttribute('tabindex', '-1');
        s.appendChild(
            kv([
                ['record', el('span', { class: 'mono' }, d.id)],
                ['time', fmt.time(d.time)],
                ['status', badge(d.status)],
                ['model', d.model],
                ['rationale', d.rationale],
                ['confidence', isNum(d.confidence) ? fmt.pct(d.confidence, 1) : null],
                ['code version', d.code_version],
                ['policy SHA-256', el('span', { class: 'mono' }, fmt.hash(d.policy_sha256))],
                ['output SHA-256', el('span', { class: 'mono' }, fmt.hash(d.output_sha256))],
                ['output check', d.output_check ? badge(d.output_check) : null],
            ])
        );
        if (o.extra) s.appendChild(o.extra);
        const inputs = [];
        for (const [k, v] of Object.entries(d.inputs || {})) {
            if (Array.isArray(v)) for (const b of v) inputs.push({ set: k, id: b.id, sha: b.rows_sha256, b: b });
            else inputs.push({ set: k, id: null, sha: null, b: v });
        }
        s.appendChild(el('h3', null, 'Inputs'));
        s.appendChild(table({
            caption: 'The data versions the record read',
            columns: [
                { label: 'input', header: true, value: (r) => r.set },
                { label: 'batch', num: true, value: (r) => fmt.value(r.id) },
                { label: 'rows SHA-256', cell: (r) => el('span', { class: 'mono' }, r.sha ? fmt.hash(r.sha) : JSON.stringify(r.b)) },
            ],
            rows: inputs,
            empty: 'No data input (the record rests on other records or a model).',
        }));
        s.appendChild(el('h3', null, 'Parameters'));
        s.appendChild(el('pre', null, JSON.stringify(d.params || {}, null, 2)));
        s.appendChild(el('h3', null, 'Acts'));
        s.appendChild(table({
            caption: 'Approvals, rejections and overrides',
            columns: [
                { label: 'seq', header: true, value: (x) => String(x.seq) },
                { label: 'act', cell: (x) => badge(x.action, x.action === 'approve' ? 'ok' : x.action === 'reject' ? 'bad' : 'warn') },
                { label: 'by', value: (x) => x.user },
                { label: 'time', value: (x) => fmt.time(x.time) },
                { label: 'reason', value: (x) => x.reason || '—' },
                { label: 'value', value: (x) => (x.value === null || x.value === undefined ? '—' : JSON.stringify(x.value)) },
            ],
            rows: d.acts || [],
            empty: 'No act yet.',
        }));
        if (d.output !== undefined) {
            s.appendChild(el('details', { class: 'details' }, el('summary', null, 'The recorded output (JSON)'), el('pre', null, JSON.stringify(d.output, null, 2))));
        }
    };

    /* ==== audit ==== */

    function verifyText(v) {
        if (v.intact) {
            return 'The log is intact: ' + fmt.int(v.entries) + ' entries, checkpoint ' + (v.checkpoint || '—') +
                (v.signatures ? ', signatures ' + (v.signatures.intact ? 'intact (' + fmt.int(v.signatures.valid) + ' valid)' : 'BROKEN') : '') + '.';
        }
        return 'The log FAILED verification: ' + fmt.int(v.entries) + ' entries, checkpoint ' + (v.checkpoint || '—') + '.';
    }

    /* GET /api/v1/audit and /api/v1/audit/verify: the verification and
     * every entry, newest first, with a filter. */
    render.audit = function (container, auditDoc, verifyDoc) {
        clear(container);
        const v = verifyDoc || {};
        const s = section(container, 'Verification');
        s.appendChild(el('p', { 'data-verify': v.intact ? 'intact' : 'broken' }, badge(v.intact ? 'intact' : 'broken', v.intact ? 'ok' : 'bad'), ' ', verifyText(v)));
        const sig = v.signatures || {};
        const rest = Object.entries(v).filter(([k]) => !['intact', 'entries', 'checkpoint', 'signatures', 'tree_head'].includes(k));
        s.appendChild(
            kv([
                ['entries', fmt.int(v.entries)],
                ['tree head', el('span', { class: 'mono' }, v.tree_head || '—')],
                ['checkpoint', v.checkpoint ? badge(v.checkpoint) : null],
                ['signatures', v.signatures ? fmt.int(sig.valid) + ' valid, ' + fmt.int(sig.users) + ' users, ' + fmt.int(sig.keys) + ' keys, ' + fmt.int(sig.acts) + ' acts, ' + fmt.int(sig.bootstrap) + ' bootstrap' : null],
            ].concat(rest.map(([k, x]) => [k, fmt.value(x)])))
        );
        if ((sig.problems || []).length) {
            s.appendChild(el('h3', null, 'Signature problems'));
            s.appendChild(list(sig.problems.map((p) => (typeof p === 'string' ? p : JSON.stringify(p)))));
        }

        const entries = (auditDoc.entries || []).slice().reverse();
        const a = section(container, 'Entries (' + entries.length + ')');
        const fid = newId('filter');
        const input = el('input', { id: fid, type: 'search', autocomplete: 'off', 'aria-controls': fid + '-t' });
        const count = el('span', { class: 'hint', 'aria-live': 'polite' });
        a.appendChild(el('div', { class: 'form-row' }, el('div', { class: 'field' }, el('label', { for: fid }, 'Filter by actor, action or object'), input), count));
        const wrap = table({
            caption: 'The audit log, newest first',
            attrs: { 'data-table': 'audit', id: fid + '-t' },
            columns: [
                { label: 'seq', header: true, value: (x) => String(x.seq) },
                { label: 'time', value: (x) => fmt.time(x.entry.time) },
                { label: 'actor', value: (x) => x.entry.actor },
                { label: 'action', value: (x) => x.entry.action },
                { label: 'object', value: (x) => x.entry.object || '—' },
                { label: 'detail', cell: (x) => (x.entry.detail ? el('details', null, el('summary', null, 'detail'), el('pre', null, JSON.stringify(x.entry.detail, null, 2))) : '—') },
            ],
            rows: entries.map((x) => ({ seq: x.seq, entry: x.entry || {} })),
            rowAttrs: (x) => ({ data: { seq: x.seq, action: x.entry.action } }),
        });
        a.appendChild(wrap);
        input.addEventListener('input', () => {
            const q = input.value.trim().toLowerCase();
            let shown = 0;
            wrap.querySelectorAll('tbody tr').forEach((tr, i) => {
                const e = entries[i] ? entries[i].entry : null;
                const hay = e ? [e.actor, e.action, e.object].join(' ').toLowerCase() : '';
                tr.hidden = q !== '' && !hay.includes(q);
                if (!tr.hidden) shown++;
            });
            count.textContent = q ? shown + ' of ' + entries.length + ' entries shown' : '';
        });
    };
})();
