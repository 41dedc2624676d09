/* overview.js - index.html: the KPIs against their targets (GET /kpis),
 * the latest monitoring run's alerts (GET /monitoring), the quality gates
 * (GET /quality) and the decisions waiting for review (GET
 * /decisions?status=proposed). */
AIPM.app.page(async (ctx) => {
    const by = ctx.params.get('by') || 'week';
    ctx.page.appendChild(
        AIPM.app.optionsForm([
            { name: 'by', label: 'KPIs per', type: 'select', value: by, options: [['day', 'day'], ['week', 'week'], ['month', 'month']] },
        ], 'Show')
    );
    const [kpis, monitoring, quality, pending] = await Promise.all([
        ctx.api('/kpis', { query: { by } }),
        ctx.api('/monitoring', { query: { limit: 1 } }),
        ctx.api('/quality'),
        ctx.api('/decisions', { query: { status: 'proposed' } }),
    ]);
    const grid = ctx.part({ class: 'grid-2' });
    AIPM.render.pending(grid.appendChild(document.createElement('div')), pending, { href: '/decisions.html' });
    AIPM.render.alerts(grid.appendChild(document.createElement('div')), monitoring);
    AIPM.render.kpis(ctx.part(), kpis);
    AIPM.render.quality(ctx.part(), quality);
});
