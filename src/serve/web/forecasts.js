/* forecasts.js - forecasts.html: the catalog's features (the adoption
 * shares of GET /kpis name them), then GET /forecasts/FEATURE with the
 * trait (by), horizon from the address. The adoption model's segment
 * trait (GET /models/adoption, when one is registered) is offered. */
AIPM.app.page(async (ctx) => {
    const [kpis, adoption] = await Promise.all([
        ctx.api('/kpis'),
        ctx.api('/models/adoption').catch((e) => {
            if (e.status === 404) return null;
            throw e;
        }),
    ]);
    const periods = kpis.periods || [];
    const features = periods.length ? Object.keys(periods[periods.length - 1].adoption || {}) : [];
    if (features.length === 0) {
        ctx.page.appendChild(AIPM.ui.note('The KPI report names no catalog feature (catalog: in aipm.yaml), so there is nothing to forecast.'));
        return;
    }
    const feature = ctx.params.get('feature') || features[0];
    const by = ctx.params.get('by') || '';
    const horizon = ctx.params.get('horizon') || '';
    const traits = adoption && adoption.segments_by ? [adoption.segments_by] : [];
    ctx.page.appendChild(
        AIPM.app.optionsForm([
            { name: 'feature', label: 'Feature', type: 'select', value: feature, options: features.map((f) => [f, f]) },
            { name: 'by', label: 'Segments by', hint: '(a user trait; empty: everyone)', value: by, list: traits, placeholder: traits[0] || 'e.g. plan', size: 14 },
            { name: 'horizon', label: 'Horizon', hint: '(days)', type: 'number', value: horizon, min: 1, max: 3650, placeholder: '30', size: 6 },
        ], 'Forecast')
    );
    const doc = await ctx.api('/forecasts/' + encodeURIComponent(feature), { query: { by, horizon } });
    AIPM.render.forecast(ctx.part(), doc);
});
