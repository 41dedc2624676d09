/* scenarios.js - scenarios.html: the recorded simulations (GET
 * /decisions?kind=simulate), then the chosen one's record (GET
 * /decisions/ID), whose output is the simulate document. */
AIPM.app.page(async (ctx) => {
    const ui = AIPM.ui;
    const list = await ctx.api('/decisions', { query: { kind: 'simulate' } });
    const sims = (list.decisions || []).slice().reverse();
    const s = ui.section(ctx.part(), 'Recorded simulations');
    if (sims.length === 0) {
        s.appendChild(ui.note('No simulation is recorded yet: run aipm simulate FILE (docs/scenarios.md), or POST /api/v1/simulations.'));
        return;
    }
    const id = ctx.params.get('id') || sims[0].id;
    s.appendChild(
        ui.table({
            caption: 'Simulations, newest first (pick one)',
            columns: [
                { label: 'scenario file', header: true, cell: (d) => ui.el('a', { href: 'scenarios.html?id=' + encodeURIComponent(d.id), 'aria-current': d.id === id ? 'true' : null }, d.subject) },
                { label: 'recommended', value: (d) => d.decision },
                { label: 'time', value: (d) => ui.fmt.time(d.time) },
                { label: 'status', cell: (d) => ui.badge(d.status) },
                { label: 'record', cell: (d) => ui.el('a', { href: 'decisions.html?id=' + encodeURIComponent(d.id), class: 'mono' }, d.id.slice(0, 8)) },
            ],
            rows: sims,
            rowAttrs: (d) => ({ class: d.id === id ? 'highlight' : null }),
        })
    );
    const rec = await ctx.api('/decisions/' + encodeURIComponent(id));
    if (rec.kind !== 'simulate' || !rec.output) {
        ctx.page.appendChild(ui.note('Record ' + id + ' is not a simulation (kind ' + rec.kind + ').', 'error'));
        return;
    }
    const head = ui.section(ctx.part(), 'Simulation of ' + rec.subject);
    head.appendChild(
        ui.kv([
            ['record', ui.el('a', { href: 'decisions.html?id=' + encodeURIComponent(rec.id), class: 'mono' }, rec.id)],
            ['recorded', ui.fmt.time(rec.time)],
            ['status', ui.badge(rec.status)],
            ['model', rec.model],
        ])
    );
    AIPM.render.simulation(ctx.part(), rec.output);
});
