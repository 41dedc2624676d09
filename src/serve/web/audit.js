/* audit.js - audit.html: GET /audit (every entry) and GET /audit/verify
 * (the log against its checkpoint and signatures). */
AIPM.app.page(async (ctx) => {
    const [log, verify] = await Promise.all([ctx.api('/audit'), ctx.api('/audit/verify')]);
    AIPM.render.audit(ctx.part(), log, verify);
});
