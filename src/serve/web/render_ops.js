/* render_ops.js - the web UI's renderers of operations and governance:
 * scenarios, models and monitoring, decisions and the audit log (render.js
 * has the product's). The same contract as render.js: pure functions from
 * the API's documents to DOM and charts, on the helpers of ui.js. */
(function () {
    'use strict';

    const AIPM = (window.AIPM = window.AIPM || {});
    const render = (AIPM.render = AIPM.render || {});
    const { checkSubject, el, newId, section, note, kv, list, isNum, fmt, badge, table, palette, grey, rgba, chart, axis, rangeTooltip, headLevel } = AIPM.ui;

    /* ==== scenarios ==== */

    /* A simulate document (the output of a decision of kind simulate):
     * each scenario's distribution, P(loss), paths and the tornado. */
    render.simulation = function (container, doc, opts) {
        const L = headLevel(opts);
        const obj = doc.objective || {};
        const rec = doc.recommendation || {};
        const scs = doc.scenarios || [];
        const unit = obj.kind === 'value' ? 'value' : obj.kpi;
        const isShare = obj.kind === 'kpi' && scs.every((x) => !isNum(x.p90) || (x.p90 >= 0 && x.p90 <= 1));
        const f = isShare ? (x) => fmt.pct(x, 2) : (x) => fmt.num(x, 2);
        const scale = isShare ? 100 : 1;

        const s = section(container, 'Recommendation', L);
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

        const d = section(container, 'Outcomes per scenario', L);
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
                datasets: [{ label: 'P(loss) %', data: others.map((x) => (isNum(x.p_loss) ? x.p_loss * 100 : null)), backgroundColor: palette[5], barPercentage: 0.6, minBarLength: 3 }],
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

        /* The draws' distributions over the bins the document shares
         * among its scenarios (histogram.edges, ascending, in the
         * objective's units); a simulation recorded before it had them
         * has no chart here. */
        const edges = (doc.histogram || {}).edges;
        const withHist = Array.isArray(edges) && edges.length > 1 && edges.every(isNum) ? scs.filter((x) => x.histogram && Array.isArray(x.histogram.counts) && x.histogram.counts.length === edges.length - 1) : [];
        if (withHist.length) {
            const nb = edges.length - 1;
            const width = (edges[nb] - edges[0]) / nb;
            /* decimals enough to tell neighbouring bins apart */
            const digits = Math.min(6, Math.max(0, 1 - Math.floor(Math.log10(width * scale))));
            const at = (x) => fmt.num(x * scale, digits) + (isShare ? '%' : '');
            const centres = edges.slice(0, nb).map((e, i) => (e + edges[i + 1]) / 2);
            const range = (i) => at(edges[i]) + ' – ' + at(edges[i + 1]);
            /* counts, below and above add up to the draws */
            const share = (x, c) => (doc.draws > 0 ? (100 * c) / doc.draws : null);
            const colour = (x, i) => (x.name === rec.scenario ? palette[2] : palette[[0, 1, 3, 4, 5, 7][i % 6]]);
            const mode = (x) => x.histogram.counts.reduce((m, c, i, a) => (c > a[m] ? i : m), 0);
            /* A scenario whose draws are all one value (nothing built)
             * is one bin of 100%: the axis is scaled to the others, and
             * its spike runs off the top, said in a note. */
            const single = (x) => !(x.histogram.below || x.histogram.above) && x.histogram.counts.filter((c) => c > 0).length === 1;
            const spread = withHist.filter((x) => !single(x));
            const top = Math.max(0, ...spread.map((x) => share(x, x.histogram.counts[mode(x)]) || 0));
            const yMax = spread.length && spread.length < withHist.length && top > 0 ? Math.min(100, 5 * Math.ceil((top * 1.1) / 5)) : undefined;
            const fig = chart(d, {
                name: 'simulation-histogram',
                title: 'Distribution of the draws (share of each scenario’s draws per bin, on common bins)',
                summary:
                    'Distribution of ' + unit + ' per scenario over ' + nb + ' bins from ' + at(edges[0]) + ' to ' + at(edges[nb]) + ': ' +
                    withHist.map((x) => x.name + ' most often ' + range(mode(x)) + ' (' + fmt.pct(share(x, x.histogram.counts[mode(x)]) / 100, 1) + ' of draws), ' + fmt.pct(share(x, x.histogram.below || 0) / 100, 1) + ' below and ' + fmt.pct(share(x, x.histogram.above || 0) / 100, 1) + ' above the range').join('; ') + '.',
                type: 'line',
                height: 280,
                data: {
                    labels: centres.map(at),
                    datasets: withHist.map((x, i) => ({
                        label: x.name,
                        data: x.histogram.counts.map((c) => share(x, c)),
                        stepped: 'middle',
                        pointRadius: 0,
                        borderWidth: x.name === rec.scenario ? 2.5 : 1.5,
                        borderColor: colour(x, i),
                        backgroundColor: x.name === rec.scenario ? rgba(palette[2], 0.15) : colour(x, i),
                        borderDash: x.name === rec.scenario ? [] : [[6, 3], [2, 2], [8, 3, 2, 3]][i % 3],
                        fill: x.name === rec.scenario ? 'origin' : false,
                    })),
                },
                options: {
                    interaction: { mode: 'index', intersect: false },
                    scales: { x: axis(isShare ? unit + ' (%), bin centre' : unit + ', bin centre'), y: axis('% of draws', yMax === undefined ? { min: 0 } : { min: 0, max: yMax }) },
                    plugins: {
                        tooltip: {
                            callbacks: {
                                title: (items) => (items.length ? range(items[0].dataIndex) : ''),
                                label: (ctx) => ctx.dataset.label + ': ' + fmt.num(ctx.parsed.y, 2) + '% of draws',
                            },
                        },
                    },
                },
                table: table({
                    caption: 'Share of each scenario’s draws per bin',
                    columns: [{ label: unit + (isShare ? ' (%)' : ''), header: true, value: (r) => r.label }].concat(
                        withHist.map((x) => ({ label: x.name, num: true, value: (r) => fmt.pct(share(x, r.count(x)) / 100, 2) }))
                    ),
                    rows: [{ label: 'below ' + at(edges[0]), count: (x) => x.histogram.below || 0 }]
                        .concat(centres.map((_, i) => ({ label: range(i), count: (x) => x.histogram.counts[i] })))
                        .concat([{ label: 'above ' + at(edges[nb]), count: (x) => x.histogram.above || 0 }]),
                }),
            });
            if (yMax !== undefined) {
                const off = withHist.filter(single).map((x) => x.name + ' (all its draws in ' + range(mode(x)) + ')');
                fig.insertBefore(note('One value in every draw, a spike of 100% above the scale: ' + off.join(', ') + '.'), fig.querySelector('details'));
            }
        }

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
        const t = section(container, 'What drives the uncertainty of ' + (sens.scenario || rec.scenario || 'the recommendation'), L);
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
            const bsec = section(container, 'How often each scenario beats another', L + 1);
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
            const cs = section(container, 'Capacity and build order', L + 1);
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
            const msec = section(container, 'Models behind the draws', L + 1);
            msec.appendChild(el('pre', null, JSON.stringify(doc.models, null, 2)));
        }
    };

    /* ==== models ==== */

    function scalarMetrics(m) {
        return Object.entries(m || {}).filter(([, v]) => isNum(v));
    }

    /* GET /api/v1/models and /api/v1/monitoring: the registry, and each
     * production model's drift in the latest monitoring run.
     * opts.href(ref) links a version to its card. Model cards (GET
     * /api/v1/models/NAME) are shown between the two: opts.card, and
     * opts.cards[NAME] (or opts[NAME]) for each registered model NAME. */
    render.models = function (container, modelsDoc, monitoringDoc, opts) {
        const L = headLevel(opts);
        const o = opts || {};
        const models = (modelsDoc && modelsDoc.models) || [];
        const s = section(container, 'Model registry', L);
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
                        { label: 'cutoff', cls: 'nowrap', value: (r) => r.v.cutoff || '—' },
                        { label: 'holdout metrics', value: (r) => scalarMetrics(r.v.metrics).filter(([k]) => !/bins|points/.test(k)).map(([k, x]) => k + ' ' + fmt.num(x, 4)).join(', ') },
                    ],
                    rows: rows,
                })
            );
        }

        const cards = o.card ? [o.card] : [];
        for (const m of models) {
            const c = (o.cards && o.cards[m.name]) || o[m.name];
            if (c && typeof c === 'object' && c.name && !cards.includes(c)) cards.push(c);
        }
        cards.forEach((c, i) => render.modelCard(container.appendChild(el('div', { id: i === 0 ? 'card' : null })), c, { level: L }));

        const runs = (monitoringDoc && monitoringDoc.runs) || [];
        const ms = section(container, 'Monitoring', L);
        if (runs.length === 0) {
            ms.appendChild(note('No monitoring run is stored yet (aipm monitor).'));
            return;
        }
        const run = runs[0];
        ms.appendChild(el('p', null, 'Latest run #' + run.seq + ' at ' + fmt.time(run.time) + ': ', badge(run.status), ' — ' + run.alerts + ' alerts, ' + run.warnings + ' warnings.'));
        ms.appendChild(
            note('Each feature’s drift statistic against its test’s threshold. A p-value test (ks, chisquare, z) drifts below its threshold; a distance (wasserstein, jensenshannon, psi) above it.')
        );
        const checks = run.checks || [];
        const byModel = {};
        for (const c of checks) if (c.model && (c.check === 'drift' || c.check === 'score_drift')) (byModel[c.model] = byModel[c.model] || []).push(c);
        const stColor = { ok: palette[2], warn: palette[1], alert: palette[5] };
        for (const [name, cs] of Object.entries(byModel)) {
            chart(ms, {
                name: 'drift-' + name,
                title: 'Drift of ' + name + '’s features in run #' + run.seq,
                summary: 'Drift statistic against threshold per feature of model ' + name + ': ' + cs.map((c) => c.feature + ' ' + (c.test || 'test') + ' ' + fmt.p(c.statistic) + ' vs ' + fmt.p(c.threshold) + ' (' + c.status + ')').join('; ') + '.',
                type: 'bar',
                height: Math.max(200, 70 + cs.length * 40),
                data: {
                    labels: cs.map((c) => c.feature + ' (' + (c.test || '?') + ') — ' + c.status),
                    datasets: [
                        { label: 'statistic', data: cs.map((c) => c.statistic), backgroundColor: cs.map((c) => stColor[c.status] || grey), barPercentage: 0.8 },
                        { label: 'threshold', data: cs.map((c) => (isNum(c.threshold) ? c.threshold : null)), backgroundColor: grey, barPercentage: 0.8 },
                    ],
                },
                options: { indexAxis: 'y', scales: { x: axis('statistic and threshold (the test’s own scale)'), y: { ticks: { autoSkip: false } } } },
                table: table({
                    caption: 'Drift checks of ' + name,
                    columns: [
                        { label: 'feature', header: true, value: (c) => c.feature },
                        { label: 'check', value: (c) => c.check },
                        { label: 'test', value: (c) => c.test || '—' },
                        { label: 'statistic', num: true, value: (c) => fmt.p(c.statistic) },
                        { label: 'threshold', num: true, value: (c) => (isNum(c.threshold) ? fmt.p(c.threshold) : '—') },
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
    render.modelCard = function (container, card, opts) {
        const L = headLevel(opts);
        const s = section(container, 'Model card: ' + card.name + '@' + card.version, L);
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
        s.appendChild(el('h' + (L + 1), null, 'Holdout metrics'));
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
            s.appendChild(el('h' + (L + 1), null, 'Per segment'));
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
            s.appendChild(el('h' + (L + 1), null, 'Features'));
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
            s.appendChild(el('h' + (L + 1), null, 'Known limits'));
            s.appendChild(list(card.limits));
        }
        if (card.hyperparameters) {
            s.appendChild(el('h' + (L + 1), null, 'Hyperparameters'));
            s.appendChild(kv(Object.entries(card.hyperparameters).map(([k, v]) => [k, fmt.value(v)])));
        }
        s.appendChild(el('h' + (L + 1), null, 'Alias history'));
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
                box.append(' Run this on your machine (replace ... with your reason' + (/--value/.test(e.command) ? ' and JSON with the replacement value' : '') + '):');
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

    /* GET /api/v1/decisions: the queue of proposed records (with approve,
     * reject and override when opts.onAct(id, action, reason, value) is
     * given: a promise of the act's document, or a rejection {code,
     * message, command}; value, the parsed replacement, only for an
     * override) and every record. opts.href(id) links a record to its
     * provenance; opts.note is said above the queue. */
    render.decisions = function (container, doc, opts) {
        const L = headLevel(opts);
        const o = opts || {};
        const all = doc.decisions || [];
        const proposed = all.filter((d) => d.status === 'proposed');
        const q = section(container, 'Waiting for review (' + proposed.length + ')', L);
        if (o.note) q.appendChild(note(o.note));
        if (proposed.length === 0) q.appendChild(el('p', { class: 'muted' }, 'No record waits for review.'));
        const ul = el('ul', { class: 'queue' });
        for (const d of proposed) {
            const li = el('li', { data: { decision: d.id } });
            const hid = newId('dec');
            li.appendChild(
                el('div', { class: 'head' },
                    el('h' + (L + 1), { id: hid }, decisionTitle(d)),
                    el('span', { class: 'muted' }, fmt.time(d.time)),
                    o.href ? el('a', { href: o.href(d.id) }, 'provenance') : null,
                    el('span', { class: 'mono muted' }, d.id))
            );
            if (o.onAct) {
                const rid = newId('reason');
                const vid = newId('value');
                const resid = newId('result');
                const reason = el('textarea', { id: rid, name: 'reason', rows: '2', required: true, 'aria-describedby': hid });
                const value = el('textarea', {
                    id: vid, name: 'value', rows: '3', class: 'mono', spellcheck: 'false', autocomplete: 'off',
                    'aria-describedby': vid + '-hint ' + resid,
                    placeholder: typeof d.decision === 'string' ? JSON.stringify(d.decision) : null,
                });
                const result = el('div', { id: resid, 'data-act-result': '', 'aria-live': 'polite' });
                const busy = el('span', { class: 'muted', 'aria-live': 'polite' });
                const label = { approve: 'Approve', reject: 'Reject', override: 'Override' };
                const buttons = ['approve', 'reject', 'override'].map((act) =>
                    el('button', { type: 'button', class: act === 'override' ? 'secondary' : null, data: { act: act }, 'aria-describedby': hid }, label[act])
                );
                const refuse = (message, field) => {
                    showActResult(result, { error: { code: 'invalid', message: message } });
                    field.focus();
                };
                buttons.forEach((btn) => {
                    btn.addEventListener('click', () => {
                        const act = btn.dataset.act;
                        const text = reason.value.trim();
                        value.removeAttribute('aria-invalid');
                        if (!text) return refuse('Write the reason first: every act is logged with one.', reason);
                        let replacement;
                        if (act === 'override') {
                            const raw = value.value.trim();
                            if (!raw) return refuse('An override needs the replacement value: write it as JSON (a string in double quotes, a number, an object…).', value);
                            try {
                                replacement = JSON.parse(raw);
                            } catch (e) {
                                value.setAttribute('aria-invalid', 'true');
                                return refuse('The replacement value is not valid JSON (' + e.message + '); a string needs double quotes, e.g. "BL-12".', value);
                            }
                        }
                        buttons.forEach((b) => (b.disabled = true));
                        busy.textContent = 'Sending…';
                        const sent = act === 'override' ? o.onAct(d.id, act, text, replacement) : o.onAct(d.id, act, text);
                        Promise.resolve(sent).then(
                            (r) => {
                                busy.textContent = '';
                                showActResult(result, { doc: r });
                                const still = r && r.status === 'proposed';
                                buttons.forEach((b) => (b.disabled = !still));
                                const cell = container.querySelector('[data-status-for="' + d.id + '"]');
                                if (cell && r && r.status) cell.replaceChildren(badge(r.status));
                            },
                            (e) => {
                                busy.textContent = '';
                                showActResult(result, { error: e || { message: 'failed' } });
                                buttons.forEach((b) => (b.disabled = false));
                            }
                        );
                    });
                });
                li.appendChild(
                    el('div', { class: 'act-row' },
                        el('div', { class: 'act-field' }, el('label', { for: rid }, 'Reason'), reason),
                        el('div', { class: 'actions' }, buttons.slice(0, 2), busy))
                );
                li.appendChild(
                    el('details', { class: 'override', data: { override: d.id } },
                        el('summary', null, 'Override: replace the recommendation'),
                        el('div', { class: 'act-row' },
                            el('div', { class: 'act-field' },
                                el('label', { for: vid }, 'Replacement value (JSON)'),
                                el('span', { id: vid + '-hint', class: 'hint muted' }, ' what the record should say instead; the original output stays on record'),
                                value),
                            el('div', { class: 'actions' }, buttons[2])))
                );
                li.appendChild(result);
            }
            ul.appendChild(li);
        }
        if (proposed.length) q.appendChild(ul);

        const a = section(container, 'All decision records (' + all.length + ')', L);
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

    /* The policy version a record was made under, from GET
     * /api/v1/policies when given (else its SHA-256 alone). */
    function policyText(sha, policies) {
        const v = policies && (policies.versions || []).find((x) => x.policy_sha256 === sha);
        const hash = el('span', { class: 'mono' }, fmt.hash(sha));
        if (!v) return hash;
        const line = el('span', null, 'version #' + v.seq + ' of ' + fmt.time(v.time) + ' by ' + (v.actor || '—') + (v.reason ? ' (“' + v.reason + '”)' : '') + ', SHA-256 ', hash);
        if (v.policies === undefined || v.policies === null) return line;
        // what the version held: the rules the record was made under
        return el('span', null, line, el('details', { class: 'details', 'data-policy': sha }, el('summary', null, 'The policies in force (JSON)'), el('pre', null, JSON.stringify(v.policies, null, 2))));
    }

    /* GET /api/v1/decisions/ID: one record's provenance and acts;
     * opts.policies (GET /api/v1/policies) names its policy version,
     * opts.extra is a node shown under the summary. */
    render.decision = function (container, d, opts) {
        const L = headLevel(opts);
        const o = opts || {};
        const s = section(container, 'Provenance of ' + decisionTitle(d), L, { data: { provenance: d.id } });
        s.querySelector('h' + L).setAttribute('tabindex', '-1');
        s.appendChild(
            kv([
                ['record', el('span', { class: 'mono' }, d.id)],
                ['time', fmt.time(d.time)],
                ['status', badge(d.status)],
                ['model', d.model],
                ['rationale', d.rationale],
                ['confidence', isNum(d.confidence) ? fmt.pct(d.confidence, 1) : null],
                ['code version', d.code_version],
                ['policy', policyText(d.policy_sha256, o.policies)],
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
        s.appendChild(el('h' + (L + 1), null, 'Inputs'));
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
        s.appendChild(el('h' + (L + 1), null, 'Parameters'));
        s.appendChild(el('pre', null, JSON.stringify(d.params || {}, null, 2)));
        s.appendChild(el('h' + (L + 1), null, 'Acts'));
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
    render.audit = function (container, auditDoc, verifyDoc, opts) {
        const L = headLevel(opts);
        const v = verifyDoc || {};
        const s = section(container, 'Verification', L);
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
            s.appendChild(el('h' + (L + 1), null, 'Signature problems'));
            s.appendChild(list(sig.problems.map((p) => (typeof p === 'string' ? p : JSON.stringify(p)))));
        }

        const entries = (auditDoc.entries || []).slice().reverse();
        const a = section(container, 'Entries (' + entries.length + ')', L);
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
