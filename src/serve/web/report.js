// report.js - the self-contained report (`aipm report`): the dashboard's
// renderers (render.js) over the documents the report carries in
// <script id="aipm-data">, keyed by API path. No fetch: the file reaches
// nothing. Sections in the order a roadmap review reads them.
(function () {
    'use strict';
    const data = JSON.parse(document.getElementById('aipm-data').textContent);
    const docs = data.documents;
    const R = window.AIPM.render;
    const main = document.createElement('main');
    main.id = 'main';
    document.body.appendChild(main);

    function el(tag, text, cls) {
        const e = document.createElement(tag);
        if (text !== undefined && text !== null) e.textContent = text;
        if (cls) e.className = cls;
        return e;
    }

    function section(title, id) {
        const s = el('section');
        s.id = id;
        s.setAttribute('aria-labelledby', id + '-h');
        const h = el('h2', title);
        h.id = id + '-h';
        s.appendChild(h);
        main.appendChild(s);
        return s;
    }

    const header = el('header');
    header.appendChild(el('h1', 'aipm decision report: ' + data.workspace));
    header.appendChild(el('p', 'Generated ' + data.generated + ' by ' + data.user +
        ' with aipm ' + data.version + '. Every number below is what the API (aipm serve) ' +
        'answered at that moment; the decisions carry their provenance.'));
    document.body.insertBefore(header, main);

    const toc = el('nav');
    toc.setAttribute('aria-label', 'Sections');
    const ul = el('ul');
    toc.appendChild(ul);
    document.body.insertBefore(toc, main);

    const sections = [];
    function add(title, id, fn) {
        sections.push([title, id, fn]);
    }
    const L = { level: 3 }; // the renderers' headings, under each section's h2
    const byPrefix = (p) => Object.keys(docs).filter((k) => k.startsWith(p)).sort();

    if (docs['/api/v1/kpis']) add('KPIs', 'kpis', (s) => R.kpis(s, docs['/api/v1/kpis'], L));
    if (docs['/api/v1/quality'] && R.quality) add('Data quality', 'quality', (s) => R.quality(s, docs['/api/v1/quality'], L));
    // the feedback behind each item, when the report carries GET
    // /api/v1/feedback (its rows linked to an item suffice)
    if (docs['/api/v1/roadmap']) add('Roadmap', 'roadmap', (s) => R.roadmap(s, docs['/api/v1/roadmap'], { canRecord: false, feedback: docs['/api/v1/feedback'] || null, level: 3 }));
    const exps = byPrefix('/api/v1/experiments/');
    if (exps.length) add('Experiments', 'experiments', (s) => exps.forEach((k) => R.experiment(s, docs[k], L)));
    const fcs = byPrefix('/api/v1/forecasts/');
    if (fcs.length) add('Adoption forecasts', 'forecasts', (s) => fcs.forEach((k) => R.forecast(s, docs[k], L)));
    const sims = byPrefix('/api/v1/decisions/').map((k) => docs[k]).filter((d) => d && d.kind === 'simulate');
    if (sims.length) add('Scenarios', 'scenarios', (s) => sims.forEach((d) => R.simulation(s, d.output || d, L)));
    if (docs['/api/v1/models']) add('Models and monitoring', 'models', (s) => R.models(s, docs['/api/v1/models'],
        docs['/api/v1/monitoring'], {
            value: docs['/api/v1/models/value@production'],
            adoption: docs['/api/v1/models/adoption@production'],
            level: 3,
        }));
    if (docs['/api/v1/decisions']) add('Decisions', 'decisions', (s) => {
        R.decisions(s, docs['/api/v1/decisions'], { level: 3 });
        const withPolicies = Object.assign({}, L, { policies: docs['/api/v1/policies'] || null });
        if (R.decision) byPrefix('/api/v1/decisions/').forEach((k) => R.decision(s, docs[k], withPolicies));
    });
    if (docs['/api/v1/audit']) add('Audit log', 'audit', (s) => R.audit(s, docs['/api/v1/audit'], docs['/api/v1/audit/verify'], L));
    const missing = Object.keys(data.missing || {});
    if (missing.length) add('Not in this report', 'missing', (s) => {
        const t = el('ul');
        missing.sort().forEach((k) => t.appendChild(el('li', k + ': ' + data.missing[k])));
        s.appendChild(t);
    });

    let failed = false;
    for (const [title, id, fn] of sections) {
        const li = el('li');
        const a = el('a', title);
        a.href = '#' + id;
        li.appendChild(a);
        ul.appendChild(li);
        const s = section(title, id);
        try {
            fn(s);
        } catch (e) {
            failed = true;
            s.appendChild(el('p', 'This section could not be drawn: ' + e.message, 'error'));
            console.error(e);
        }
    }
    document.body.dataset.ready = failed ? 'error' : '1';
}());
