/* render.js - the web UI's renderers of the product: KPIs, alerts,
 * quality, the roadmap, forecasts and experiments (render_ops.js has
 * scenarios, models, decisions and the audit log); one pure function per
 * page section, from the API's documents to DOM and charts (aipm serve,
 * aipm report), on the helpers of ui.js.
 *
 * Every renderer takes a container and the documents the API answers
 * (the same the CLI's --json prints), appends its sections to the
 * container (it never empties it, so a report can put several documents
 * in one section) and never fetches: the pages' scripts fetch and call
 * them, and a self-contained report calls them on embedded documents. A
 * last `opts` may give `level`, the level of the renderer's headings (2 by
 * default; its subsections one below): a report that puts it under its own
 * h2 passes {level: 3}. It needs ui.js before it and no other
 * global but Chart (Chart.js 3, optional: without it a chart is its
 * table). Text from the data goes in
 * with textContent only (never innerHTML): backlog titles and feedback are
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
    const render = (AIPM.render = AIPM.render || {});
    const { checkSubject, el, section, note, kv, list, isNum, fmt, badge, table, palette, rgba, chart, axis, rangeTooltip, headLevel } = AIPM.ui;

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
    render.kpis = function (container, doc, opts) {
        const L = headLevel(opts);
        const period = doc.period || 'period';
        const s = section(container, 'KPIs against their targets', L);
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
        const a = section(container, 'Active users', L);
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
    /* GET /api/v1/monitoring: the latest run's alerts and warnings. */
    render.alerts = function (container, doc, opts) {
        const L = headLevel(opts);
        const s = section(container, 'Monitoring alerts', L);
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
            s.appendChild(el('h' + (L + 1), null, 'Actions taken'));
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
    render.quality = function (container, doc, opts) {
        const L = headLevel(opts);
        const s = section(container, 'Data quality gates', L);
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
        const L = headLevel(opts);
        const o = opts || {};
        const s = section(container, 'Decisions waiting for review', L);
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

    /* Why a feedback row is linked to an item (aipm feedback links). */
    const linkWhy = {
        corrected: 'a person linked it by hand',
        given: 'its source named the item',
        linked: 'the model matched its words to the item',
        needs_review: 'a weak match, not counted as demand',
    };
    const FEEDBACK_SHOWN = 100;

    /* The rows of a GET /api/v1/feedback document linked to item id, each
     * with the confidence of that link (null: given or corrected). */
    function feedbackRows(fdoc, id) {
        const rows = [];
        for (const l of (fdoc && fdoc.links) || []) {
            const link = (l.items || []).find((x) => x.item_id === id);
            if (link) rows.push({ l: l, confidence: link.confidence });
        }
        return rows;
    }

    /* One item's feedback rows: each one's words, account, why and
     * confidence. */
    function feedbackList(fdoc, it) {
        const rows = feedbackRows(fdoc, it.id);
        if (rows.length === 0) return el('p', { class: 'muted' }, 'No feedback row is linked to ' + it.id + ' now.');
        const ul = el('ul', { class: 'feedback-rows', 'aria-label': 'Feedback linked to ' + it.id });
        for (const r of rows.slice(0, FEEDBACK_SHOWN)) {
            const l = r.l;
            ul.appendChild(
                el('li', { data: { feedbackRow: l.feedback_id, status: l.status } },
                    el('p', { class: 'feedback-text', data: { feedbackText: '' } }, l.text === null || l.text === undefined ? '—' : String(l.text)),
                    el('p', { class: 'feedback-meta' },
                        el('span', { class: 'mono' }, l.feedback_id),
                        ' · account ', l.account_id ? el('span', { class: 'mono' }, l.account_id) : '—',
                        ' · ', el('strong', null, l.status), ': ' + (linkWhy[l.status] || l.status),
                        ' · confidence ' + (isNum(r.confidence) ? fmt.pct(r.confidence, 0) : '— (not the model’s)')))
            );
        }
        const out = [ul];
        if (rows.length > FEEDBACK_SHOWN) out.push(el('p', { class: 'muted' }, 'The first ' + FEEDBACK_SHOWN + ' of ' + rows.length + ' rows; aipm feedback links --item ' + it.id + ' lists them all.'));
        return out;
    }

    /* The ranked table's feedback cell: the counts, and the rows behind
     * them in a <details> filled when first opened, from opts.feedback (a
     * GET /api/v1/feedback document: a report's) or opts.loadFeedback(id)
     * (a promise of GET /api/v1/feedback?item=ID: the served page's).
     * Neither: the counts alone. */
    function feedbackCell(it, o) {
        const count = fmt.int(it.linked_feedback) + ' linked' + (it.needs_review ? ' · ' + it.needs_review + ' to review' : '');
        if (!(it.linked_feedback > 0) || !(o.feedback || o.loadFeedback)) return count;
        const box = el('div', { class: 'feedback-box', 'aria-live': 'polite' });
        const d = el('details', { data: { feedbackFor: it.id } }, el('summary', null, count), box);
        let state = 'idle';
        const show = (fdoc) => {
            box.replaceChildren(...[].concat(feedbackList(fdoc, it)));
            state = 'done';
            d.dataset.loaded = '1';
        };
        d.addEventListener('toggle', () => {
            if (!d.open || state !== 'idle') return;
            if (o.feedback) {
                show(o.feedback);
                return;
            }
            state = 'loading';
            d.setAttribute('aria-busy', 'true');
            box.replaceChildren(el('p', { class: 'muted' }, 'Loading the feedback…'));
            Promise.resolve()
                .then(() => o.loadFeedback(it.id))
                .then(show, (e) => {
                    state = 'idle';
                    d.dataset.loaded = 'error';
                    box.replaceChildren(note('The feedback could not be loaded: ' + (e && e.message ? e.message : String(e)) + ' Close and open this again to retry.', 'error'));
                })
                .finally(() => d.removeAttribute('aria-busy'));
        });
        return d;
    }

    /* GET /api/v1/roadmap: the ranked backlog with its intervals, the
     * factors behind each item, the feedback behind its demand and the
     * capacity plan; opts.canRecord shows "Record this ranking", which
     * calls opts.onRecord() (a promise of the recorded document). Each
     * item's feedback rows open from the table with opts.feedback or
     * opts.loadFeedback (feedbackCell). */
    render.roadmap = function (container, doc, opts) {
        const L = headLevel(opts);
        const o = opts || {};
        const items = doc.items || [];
        const byId = {};
        for (const it of items) byId[it.id] = it;
        const model = doc.model || {};
        const params = doc.parameters || {};

        const head = section(container, 'Ranking', L);
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
            const ps = section(container, 'Capacity plan', L);
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
        const cs = section(container, 'Value with its uncertainty', L);
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
        const fs = section(container, 'Feedback behind the demand signal', L);
        fs.appendChild(
            el('p', null,
                fmt.int(fb.rows) + ' feedback rows: ' + fmt.int(fb.given) + ' given an item by their source, ' + fmt.int(fb.linked) +
                ' linked by their text, ' + fmt.int(fb.corrected) + ' corrected by hand; ' + fmt.int(fb.needs_review) +
                ' candidate links need review (aipm feedback links --review). ' +
                (o.feedback || o.loadFeedback ? 'Open an item’s feedback in the table below to read the rows behind it: their words, account, why they are linked and the confidence.' : 'Each item’s linked rows are counted in the table below.'))
        );

        const plan = doc.plan ? new Set(doc.plan.items || []) : null;
        const ts = section(container, 'Ranked backlog', L);
        ts.appendChild(
            table({
                caption: 'The ranked backlog (' + items.length + ' open items)',
                columns: [
                    { label: 'rank', num: true, value: (it) => it.rank },
                    { label: 'item', header: true, cls: 'nowrap', value: (it) => it.id },
                    { label: 'title', cls: 'wide', value: (it) => it.title },
                    { label: 'area', value: (it) => it.area || '—' },
                    { label: 'expected', num: true, value: (it) => fmt.num(it.expected_value, 1) },
                    { label: 'P10 – P90', num: true, value: (it) => fmt.num(it.p10, 1) + ' – ' + fmt.num(it.p90, 1) },
                    { label: 'risk-adj.', num: true, value: (it) => fmt.num(it.risk_adjusted_value, 1) },
                    { label: 'effort (wk)', num: true, value: (it) => fmt.num(it.effort, 1) },
                    { label: 'score', num: true, value: (it) => fmt.num(it.score, 1) },
                    { label: 'confidence', num: true, value: (it) => fmt.pct(it.confidence, 0) },
                    plan ? { label: 'in plan', value: (it) => (plan.has(it.id) ? 'yes' : 'no') } : null,
                    { label: 'feedback', cell: (it) => feedbackCell(it, o) },
                    {
                        label: 'why',
                        cell: (it) => {
                            const sg = it.signals || {};
                            return el('details', null, el('summary', null, 'factors'),
                                list((it.contributions || []).map((c) => c.text)),
                                it.signals ? kv([
                                    ['feedback', fmt.int(it.linked_feedback) + ' linked row' + (it.linked_feedback === 1 ? '' : 's') + ', ' + fmt.int(it.needs_review) + ' candidate' + (it.needs_review === 1 ? '' : 's') + ' to review'],
                                    ['accounts asking', fmt.int(sg.accounts) + (sg.enterprise_accounts ? ' (' + sg.enterprise_accounts + ' enterprise)' : '')],
                                    ['demand (weighted accounts)', fmt.num(sg.demand, 2) + ', ' + fmt.num(sg.demand_per_month, 2) + ' a month'],
                                    ['reach', fmt.pct(sg.reach, 1) + ' of daily actives (' + fmt.num(sg.reach_daily_users, 1) + ' a day)'],
                                    ['market', fmt.signedPct(sg.market, 1) + ' a month'],
                                ]) : null);
                        },
                    },
                ].filter((c) => c),
                rows: items,
                rowAttrs: (it) => ({ data: { item: it.id }, class: plan && plan.has(it.id) ? 'highlight' : null }),
            })
        );
    };

    /* ==== forecasts ==== */

    /* A forecast segment's points on one time axis, ascending by day: the
     * adopters seen (its "history", to as_of; none in an older document),
     * today's count, where the forecast starts from (its bands closed
     * there), and the forecast's days (a backtest's rows keep their
     * "observed"). rows: the table's, the history once a week back from
     * today, then today and every forecast day. */
    function forecastSeries(g, asOf) {
        const hist = Array.isArray(g.history) ? g.history : [];
        const fc = g.forecast || [];
        const now = { day: asOf, observed: g.adopters, adopters: g.adopters, lo80: g.adopters, hi80: g.adopters, lo95: g.adopters, hi95: g.adopters, now: true };
        const byDay = new Map();
        for (const h of hist) if (h.day !== asOf) byDay.set(h.day, { day: h.day, observed: h.adopters });
        byDay.set(asOf, now);
        for (const r of fc) byDay.set(r.day, Object.assign({}, byDay.get(r.day), r));
        const points = Array.from(byDay.values()).sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
        const weekly = hist.filter((h, i) => h.day !== asOf && (hist.length - 1 - i) % 7 === 0).map((h) => byDay.get(h.day));
        return { points, rows: weekly.concat([now], fc.map((r) => byDay.get(r.day))) };
    }

    /* GET /api/v1/forecasts/FEATURE[?by=TRAIT]: the adoption curve with its
     * 80% and 95% bands per segment, and the backtest. */
    render.forecast = function (container, doc, opts) {
        const L = headLevel(opts);
        const segs = doc.segments || [];
        const bt = doc.backtest || {};
        const reg = doc.registry || {};
        const s = section(container, 'Adoption forecast: ' + doc.feature, L);
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

        const b = section(container, 'Backtest accuracy', L + 1);
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

        const c = section(container, 'Adoption curves', L + 1);
        const seen = segs.some((g) => Array.isArray(g.history) && g.history.length > 0);
        c.appendChild(el('p', { class: 'muted' },
            (seen ? 'The adopters seen from ' + doc.history_from + ' (solid line) and the forecast' : 'Adopters') +
            ' from today (' + doc.as_of + ', the adopters seen so far) to the horizon: the middle forecast (dashed), its 80% band (darker) and its 95% band (lighter).' +
            (seen ? ' The table gives the adopters seen once a week back from today, then the forecast of each day.' : '')));
        if (doc.history_note) c.appendChild(note(doc.history_note));
        const val = (v) => (isNum(v) ? v : null);
        segs.forEach((g, i) => {
            const col = palette[i % palette.length === 6 ? 0 : i % palette.length];
            const fc = g.forecast || [];
            const { points, rows } = forecastSeries(g, doc.as_of);
            const first = (g.history || [])[0];
            const end = fc[fc.length - 1];
            chart(c, {
                name: 'forecast-' + g.segment,
                title: doc.feature + ' adopters, segment ' + g.segment + ' (' + g.model + ')',
                summary: 'Adoption of ' + doc.feature + ' for segment ' + g.segment + ' (' + fmt.int(g.users) + ' users): ' +
                    (first && first.day !== doc.as_of ? fmt.int(first.adopters) + ' adopters seen on ' + first.day + ', ' : '') +
                    fmt.int(g.adopters) + ' adopters on ' + doc.as_of +
                    (end ? ', ' + fmt.num(end.adopters, 1) + ' expected on ' + end.day + ' (80% band ' + fmt.num(end.lo80, 1) + ' to ' + fmt.num(end.hi80, 1) + ', 95% band ' + fmt.num(end.lo95, 1) + ' to ' + fmt.num(end.hi95, 1) + ')' : '') + '.',
                type: 'line',
                height: 260,
                data: {
                    labels: points.map((r) => r.day),
                    datasets: [
                        { label: '95% band (low)', data: points.map((r) => val(r.lo95)), borderColor: 'transparent', pointRadius: 0, fill: false },
                        { label: '95% band', data: points.map((r) => val(r.hi95)), borderColor: 'transparent', backgroundColor: rgba(col, 0.15), pointRadius: 0, fill: '-1' },
                        { label: '80% band (low)', data: points.map((r) => val(r.lo80)), borderColor: 'transparent', pointRadius: 0, fill: false },
                        { label: '80% band', data: points.map((r) => val(r.hi80)), borderColor: 'transparent', backgroundColor: rgba(col, 0.35), pointRadius: 0, fill: '-1' },
                        { label: 'forecast', data: points.map((r) => val(r.adopters)), borderColor: col, backgroundColor: col, pointRadius: 0, borderWidth: 2, borderDash: [6, 4] },
                        { label: 'seen', data: points.map((r) => val(r.observed)), borderColor: col, backgroundColor: col, pointRadius: 0, borderWidth: 2 },
                    ],
                },
                options: {
                    interaction: { mode: 'index', intersect: false },
                    scales: { y: axis('adopters'), x: { ticks: { maxTicksLimit: 10 } } },
                    plugins: { legend: { labels: { filter: (item) => !/\(low\)$/.test(item.text) } } },
                },
                table: table({
                    caption: doc.feature + ' adopters, segment ' + g.segment + (rows.length > fc.length + 1 ? ': seen each week to today, then forecast per day' : ' per day'),
                    columns: [
                        { label: 'day', header: true, value: (r) => r.day + (r.now ? ' (today, seen)' : '') },
                        { label: 'seen', num: true, value: (r) => fmt.num(r.observed, 1) },
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

        const p = section(container, 'Fitted parameters', L + 1);
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
    render.experiment = function (container, doc, opts) {
        const L = headLevel(opts);
        const v = doc.verdict || {};
        const srm = doc.srm || {};
        const s = section(container, 'Experiment: ' + doc.experiment, L);
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
        const c = section(container, 'Lift per metric', L + 1);
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
            const ms = section(container, m.metric + (m.guardrail ? ' (guardrail)' : ''), L + 1);
            ms.appendChild(el('p', { class: 'muted' }, m.type + ' per ' + m.unit + '; ' + (m.direction === 'down' ? 'lower' : 'higher') + ' is better.'));
            ms.appendChild(variationTable(m.metric, m.variations || [], doc.engine));
            if (m.by) {
                for (const lv of m.by.levels || []) {
                    const lsrm = lv.srm || {};
                    ms.appendChild(el('h' + (L + 2), null, m.by.trait + ' = ' + lv.level + ' ', badge(lsrm.ok ? 'SRM ok' : 'SRM mismatch', lsrm.ok ? 'ok' : 'bad')));
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

})();
