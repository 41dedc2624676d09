/* decisions.js - decisions.html: GET /decisions (the queue and every
 * record), approve / reject / override for an approver (POST
 * /decisions/ID/approve|reject {"reason"}, /decisions/ID/override
 * {"reason", "value"}), and the provenance of the
 * record the address names (GET /decisions/ID, with GET /policies for its
 * policy version). */
AIPM.app.page(async (ctx) => {
    const id = ctx.params.get('id');
    const [list, record, policies] = await Promise.all([
        ctx.api('/decisions'),
        id ? ctx.api('/decisions/' + encodeURIComponent(id)) : null,
        id ? ctx.api('/policies') : null,
    ]);
    const href = (x) => 'decisions.html?id=' + encodeURIComponent(x);
    if (record) {
        const extra = record.kind === 'simulate' ? AIPM.ui.el('p', null, AIPM.ui.el('a', { href: 'scenarios.html?id=' + encodeURIComponent(record.id) }, 'See this simulation’s charts')) : null;
        AIPM.render.decision(ctx.part(), record, { extra, policies });
    }
    const canAct = ctx.atLeast('approver');
    let note = null;
    if (!canAct) note = 'Approving, rejecting and overriding need the approver role; you are ' + ctx.who.role + '.';
    else if (!ctx.who.server_signs) note = 'This server does not hold your signing key: an approval here answers with the aipm command that signs it on your machine.';
    AIPM.render.decisions(ctx.part(), list, {
        href,
        note,
        onAct: canAct
            ? (rid, action, reason, value) =>
                ctx.api('/decisions/' + encodeURIComponent(rid) + '/' + action, {
                    method: 'POST',
                    body: action === 'override' ? { reason, value } : { reason },
                }).catch((e) => {
                    if (e.status === 401) ctx.fail(e);
                    throw e;
                })
            : null,
    });
    if (record) {
        const h = document.querySelector('[data-provenance] h2');
        if (h) h.focus();
    }
});
