/* roadmap.js - roadmap.html: GET /roadmap (capacity_weeks and
 * risk_aversion from the address), each item's feedback rows when its
 * row is opened (GET /feedback?item=ID), and for an analyst or more
 * "Record this ranking" (POST /roadmap with the same options). */
AIPM.app.page(async (ctx) => {
    const capacity = ctx.params.get('capacity_weeks') || '';
    const risk = ctx.params.get('risk_aversion') || '';
    ctx.page.appendChild(
        AIPM.app.optionsForm([
            { name: 'capacity_weeks', label: 'Capacity', hint: '(person-weeks; empty: no plan)', type: 'number', value: capacity, min: 0, max: 520, step: 'any', size: 8 },
            { name: 'risk_aversion', label: 'Risk aversion', hint: '(0 to 1; empty: the default)', type: 'number', value: risk, min: 0, max: 1, step: 'any', size: 6 },
        ], 'Rank')
    );
    const query = { capacity_weeks: capacity, risk_aversion: risk };
    const doc = await ctx.api('/roadmap', { query });
    const body = {};
    if (capacity !== '') body.capacity_weeks = Number(capacity);
    if (risk !== '') body.risk_aversion = Number(risk);
    AIPM.render.roadmap(ctx.part(), doc, {
        loadFeedback: (id) =>
            ctx.api('/feedback', { query: { item: id } }).catch((e) => {
                if (e.status === 401) ctx.fail(e);
                throw e;
            }),
        canRecord: ctx.atLeast('analyst'),
        onRecord: () =>
            ctx.api('/roadmap', { method: 'POST', body }).catch((e) => {
                if (e.status === 401) ctx.fail(e);
                throw e;
            }),
    });
});
