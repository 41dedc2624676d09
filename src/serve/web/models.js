/* models.js - models.html: GET /models and /monitoring (registry and
 * drift), and GET /models/NAME[@VERSION] for the card the address names
 * (the first model by default). */
AIPM.app.page(async (ctx) => {
    const [models, monitoring] = await Promise.all([ctx.api('/models'), ctx.api('/monitoring')]);
    const list = models.models || [];
    const ref = ctx.params.get('name') || (list.length ? list[0].name : null);
    const card = ref ? await ctx.api('/models/' + encodeURIComponent(ref)) : null;
    const href = (r) => 'models.html?name=' + encodeURIComponent(r) + '#card';
    AIPM.render.models(ctx.part(), models, monitoring, { href, card });
});
