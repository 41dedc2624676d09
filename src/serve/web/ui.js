/* ui.js - the web UI's helpers, window.AIPM.ui: DOM, numbers and words,
 * tables and charts, shared by the renderers (render.js, render_ops.js)
 * that the pages (aipm serve) and the self-contained report (aipm report)
 * draw with.
 *
 * It stands alone (no other global but Chart, Chart.js 3, optional:
 * without it a chart is its table). Text from the data goes in with
 * textContent only (never innerHTML): backlog titles and feedback are
 * customers' words.
 *
 * Charts: a <canvas data-chart="NAME" role="img" aria-label="summary">
 * inside a <figure>, its numbers in a table in a <details> below; once
 * drawn the canvas gets data-points="N", N the number of data points it
 * plotted (the categories or x positions with a value; a reference line
 * such as a target is not a data point). Colours are the Okabe-Ito
 * palette (safe for the common colour-vision deficiencies), and status is
 * always written, never colour alone.
 */
(function () {
    'use strict';

    const AIPM = (window.AIPM = window.AIPM || {});
    const ui = (AIPM.ui = AIPM.ui || {});

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
     * num, header, cls}], rows, rowAttrs(row), attrs}): a table in a scrolling
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
                const cls = [c.num ? 'num' : null, c.cls || null].filter((x) => x).join(' ');
                tr.appendChild(el(c.header ? 'th' : 'td', { scope: c.header ? 'row' : null, class: cls || null }, content));
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
        const given = options.plugins || {};
        const legend = Object.assign({ position: 'bottom' }, given.legend || {});
        legend.labels = Object.assign({ boxWidth: 14 }, (given.legend || {}).labels || {});
        options.plugins = Object.assign({}, given, { legend: legend });
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

    /* The level of a renderer's own headings: opts.level (2 by default;
     * a report that puts a renderer under its own h2 passes 3), and one
     * more for its subsections. */
    function headLevel(opts) {
        const l = opts && Number(opts.level);
        return l >= 1 && l <= 4 ? Math.floor(l) : 2;
    }

    /* What a monitoring check is about: model, feature, dataset. */
    function checkSubject(c) {
        return [c.model, c.feature, c.dataset].filter((x) => x).join(' · ') || '—';
    }

    Object.assign(ui, {
        checkSubject, el, append, clear, newId, section, note, kv, list, isNum, fmt,
        statusKind, badge, table, palette, grey, rgba, chartName, countPoints,
        chart, axis, rangeTooltip, headLevel,
    });
})();
