/* experiments.js - experiments.html: GET /experiments (the list), then
 * GET /experiments/KEY with the engine, CUPED and segment trait from the
 * address. */
AIPM.app.page(async (ctx) => {
    const ui = AIPM.ui;
    const list = await ctx.api('/experiments');
    const exps = list.experiments || [];
    if (exps.length === 0) {
        ctx.page.appendChild(ui.note('aipm.yaml defines no experiment (experiments:).'));
        return;
    }
    const key = ctx.params.get('key') || exps[0].key;
    const engine = ctx.params.get('engine') || '';
    const cuped = ctx.params.get('cuped') === 'true';
    const by = ctx.params.get('by') || '';
    const keep = (k) => {
        const q = new URLSearchParams();
        q.set('key', k);
        if (engine) q.set('engine', engine);
        if (cuped) q.set('cuped', 'true');
        return 'experiments.html?' + q.toString();
    };
    const s = ui.section(ctx.part(), 'Experiments of aipm.yaml');
    s.appendChild(
        ui.table({
            caption: 'Experiments (pick one to analyse)',
            columns: [
                { label: 'experiment', header: true, cell: (e) => ui.el('a', { href: keep(e.key), 'aria-current': e.key === key ? 'true' : null }, e.key) },
                { label: 'variations', value: (e) => (e.variations || []).join(', ') },
                { label: 'metrics', value: (e) => (e.metrics || []).join(', ') },
                { label: 'start', value: (e) => ui.fmt.date(e.start) },
                { label: 'end', value: (e) => (e.end ? ui.fmt.date(e.end) : 'open') },
                { label: 'running', value: (e) => (e.running ? 'yes' : 'no') },
            ],
            rows: exps,
            rowAttrs: (e) => ({ class: e.key === key ? 'highlight' : null }),
        })
    );
    ctx.page.appendChild(
        AIPM.app.optionsForm([
            { name: 'key', type: 'hidden', value: key },
            { name: 'engine', label: 'Engine', type: 'select', value: engine, options: [['', 'frequentist (default)'], ['bayesian', 'bayesian'], ['sequential', 'sequential']] },
            { name: 'cuped', label: 'CUPED variance reduction', type: 'checkbox', value: cuped },
            { name: 'by', label: 'Segments by', hint: '(a user trait)', value: by, placeholder: 'e.g. plan', size: 12 },
        ], 'Analyse')
    );
    const doc = await ctx.api('/experiments/' + encodeURIComponent(key), { query: { engine, cuped: cuped ? 'true' : '', by } });
    AIPM.render.experiment(ctx.part(), doc);
});
