// tests/browser/ui_test.mjs - aipm serve's web UI in a real browser
// (issue 18): Debian's chromium, headless, driven by playwright-core.
//
// usage: node tests/browser/ui_test.mjs AIPM OUTDIR
//
// Makes the demo workspace (people of each role with tokens, both models
// trained and promoted, a monitoring run, a recorded simulation), starts
// `aipm serve` on a free loopback port, then opens every page signed in as
// an approver: each must finish loading (body[data-ready="1"]), draw every
// chart it has with data (canvas[data-chart][data-points > 0]) and log no
// console error (a CSP violation is one). On the roadmap page it opens an
// item's feedback and compares the rows it shows with the CLI's `feedback
// links --item ID`. On the decisions page it approves a proposed record
// through the UI and then finds the approval in the audit page's table and
// in the CLI's `decisions show`; then it overrides a second one with a
// JSON value (a malformed one first, which the page must refuse without
// sending) and finds the override and its value in `decisions show`. Screenshots
// of every page go to OUTDIR (the test's artifacts). Exits 0 when all
// held, 1 with a line per failure.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [aipmArg, outArg] = process.argv.slice(2);
if (!aipmArg || !outArg) {
    console.error('usage: node ui_test.mjs AIPM OUTDIR');
    process.exit(2);
}
const AIPM = path.resolve(aipmArg);
const OUT = path.resolve(outArg);
const CHROMIUM = process.env.AIPM_CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(OUT, { recursive: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aipm-ui-'));
const WS = path.join(tmp, 'ws');
const env = {
    ...process.env,
    AIPM_KEYS: path.join(tmp, 'keys'),
    AIPM_NOW: '2026-11-27T00:00:00Z',
    LC_ALL: 'C',
};
const failures = [];
const fail = (msg) => {
    failures.push(msg);
    console.log(`not ok - ${msg}`);
};
const ok = (msg) => console.log(`ok - ${msg}`);

function aipm(...args) {
    return execFileSync(AIPM, ['-C', WS, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function setup() {
    execFileSync(AIPM, ['demo', WS], { env, stdio: 'ignore' });
    aipm('users', 'add', 'ada', '--role', 'admin');
    aipm('keys', 'generate', '--as', 'ada');
    aipm('users', 'add', 'apo', '--role', 'approver', '--by', 'ada');
    aipm('keys', 'generate', '--as', 'apo', '--by', 'ada');
    aipm('users', 'add', 'vic', '--role', 'viewer', '--by', 'ada');
    const token = (u) => JSON.parse(aipm('--json', 'tokens', 'create', '--as', u, '--by', 'ada')).token;
    const tokens = { apo: token('apo'), vic: token('vic') };
    // models and monitoring, so the models page has cards and drift
    for (const name of ['value', 'adoption']) {
        const card = JSON.parse(aipm('--json', 'model', 'train', name));
        try {
            aipm('model', 'promote', name, String(card.version), '--reason', 'ui test');
        } catch (e) {
            const m = /decisions approve ([0-9a-f]+)/.exec(String(e.stderr));
            aipm('decisions', 'approve', m[1], '--as', 'apo', '--reason', 'ui test');
            aipm('model', 'promote', name, String(card.version), '--reason', 'ui test');
        }
    }
    try {
        aipm('monitor');
    } catch (e) {
        if (e.status !== 4) throw e; // 4: an alert, still a recorded run
    }
    // a recorded simulation, for the scenarios page
    const items = JSON.parse(aipm('--json', 'prioritize', '--no-record')).items;
    fs.writeFileSync(path.join(tmp, 'sc.yaml'),
        'objective: {kpi: value, horizon_days: 90}\nscenarios:\n  - name: none\n' +
        `  - name: first\n    build: [${items[0].id}]\n` +
        `  - name: two\n    build: [${items[0].id}, ${items[1].id}]\n`);
    aipm('simulate', path.join(tmp, 'sc.yaml'), '--draws', '20000', '--threads', '1');
    // a fresh proposed ranking for the approval
    aipm('prioritize', '--draws', '1000');
    return tokens;
}

function startServer() {
    const portFile = path.join(tmp, 'port');
    const srv = spawn(AIPM, ['-C', WS, 'serve', '--listen', '127.0.0.1:0', '--port-file', portFile,
        '--workers', '2', '--sign-for', 'apo', '--rate', '1000'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    srv.stderr.on('data', (d) => { err += d; });
    return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const poll = () => {
            if (fs.existsSync(portFile) && fs.readFileSync(portFile, 'utf8').trim()) {
                resolve({ srv, base: `http://127.0.0.1:${fs.readFileSync(portFile, 'utf8').trim()}` });
            } else if (srv.exitCode !== null || Date.now() - t0 > 15000) {
                reject(new Error(`aipm serve did not start: ${err.slice(0, 300)}`));
            } else {
                setTimeout(poll, 100);
            }
        };
        poll();
    });
}

const PAGES = ['index', 'roadmap', 'forecasts', 'experiments', 'scenarios', 'models', 'decisions', 'audit'];

async function signIn(page, base, token) {
    await page.goto(`${base}/index.html`);
    const field = page.locator('input[type="password"], input[name="token"], #token').first();
    await field.waitFor({ timeout: 15000 });
    await field.fill(token);
    await field.press('Enter');
    await page.waitForFunction(() => document.body.dataset.ready === '1' || document.body.dataset.ready === 'error',
        null, { timeout: 60000 });
}

async function checkPage(page, base, name) {
    const errors = [];
    const onConsole = (m) => { if (m.type() === 'error') errors.push(m.text()); };
    const onError = (e) => errors.push(String(e));
    page.on('console', onConsole);
    page.on('pageerror', onError);
    try {
        await page.goto(`${base}/${name}.html`);
        await page.waitForFunction(() => document.body.dataset.ready === '1' || document.body.dataset.ready === 'error',
            null, { timeout: 90000 });
        const ready = await page.evaluate(() => document.body.dataset.ready);
        if (ready !== '1') fail(`${name}: the page did not load (data-ready=${ready})`);
        const charts = await page.$$eval('canvas[data-chart]', (cs) => cs.map((c) => ({
            name: c.dataset.chart, points: Number(c.dataset.points || 0), w: c.width, h: c.height,
            label: c.getAttribute('aria-label') || '',
        })));
        for (const c of charts) {
            if (!(c.points > 0)) fail(`${name}: chart ${c.name} drew no data`);
            if (!(c.w > 0 && c.h > 0)) fail(`${name}: chart ${c.name} has no size`);
            if (!c.label) fail(`${name}: chart ${c.name} has no aria-label`);
        }
        const wantCharts = { index: 1, roadmap: 1, forecasts: 1, experiments: 1, scenarios: 1, models: 1 };
        if (charts.length < (wantCharts[name] || 0)) fail(`${name}: ${charts.length} charts, expected at least ${wantCharts[name]}`);
        // keyboard: the first Tab reaches a visible, focusable element
        await page.keyboard.press('Tab');
        const focused = await page.evaluate(() => document.activeElement && document.activeElement.tagName);
        if (!focused || focused === 'BODY') fail(`${name}: Tab focuses nothing`);
        await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
        for (const e of errors) fail(`${name}: console error: ${e.slice(0, 200)}`);
        if (!failures.some((f) => f.startsWith(`${name}:`))) ok(`${name}: loaded, ${charts.length} charts drawn`);
    } finally {
        page.off('console', onConsole);
        page.off('pageerror', onError);
    }
}

async function approveThroughUi(page, base) {
    await page.goto(`${base}/decisions.html`);
    await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60000 });
    const row = page.locator('[data-decision]').first();
    if (await row.count() === 0) {
        fail('decisions: no proposed record to approve');
        return;
    }
    const id = await row.getAttribute('data-decision');
    await row.locator('textarea, input[type="text"]').first().fill('approved in the browser test');
    await row.locator('[data-act="approve"]').click();
    const result = page.locator('[data-act-result]').first();
    await result.waitFor({ timeout: 30000 });
    await page.waitForFunction(() => {
        const e = document.querySelector('[data-act-result]');
        return e && e.textContent.trim().length > 0;
    }, null, { timeout: 30000 });
    const text = (await result.textContent()).trim();
    if (!/approved|proposed/.test(text)) fail(`decisions: the approval's result is "${text.slice(0, 120)}"`);
    await page.screenshot({ path: path.join(OUT, 'decisions-approved.png'), fullPage: true });
    // the CLI sees it, signed by apo
    const shown = JSON.parse(aipm('--json', 'decisions', 'show', id));
    const acts = shown.acts || [];
    if (!acts.some((a) => a.user === 'apo' && a.action === 'approve' && a.reason === 'approved in the browser test')) {
        fail(`decisions: the CLI shows no approval by apo of ${id}: ${JSON.stringify(acts).slice(0, 200)}`);
    }
    // and the audit page lists it, with the log intact
    await page.goto(`${base}/audit.html`);
    await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60000 });
    const actions = await page.$$eval('[data-table="audit"] tr', (rows) => rows.map((r) => r.textContent));
    if (!actions.some((t) => /approve/.test(t) && t.includes('apo'))) fail('audit: no approve entry by apo in the table');
    const verify = await page.locator('[data-verify]').first().textContent();
    if (!/intact/.test(verify)) fail(`audit: verify status "${verify.slice(0, 100)}"`);
    await page.screenshot({ path: path.join(OUT, 'audit-after-approval.png'), fullPage: true });
    if (!failures.some((f) => f.startsWith('decisions:') || f.startsWith('audit:'))) {
        ok(`decisions: ${id.slice(0, 8)} approved through the UI, in the audit log, the log intact`);
    }
    return id;
}

// The roadmap: an item's feedback opens from its row (loaded then, from
// GET /api/v1/feedback?item=ID) and shows the rows the CLI links to it,
// their words as text.
async function roadmapFeedback(page, base) {
    const errors = [];
    const onConsole = (m) => { if (m.type() === 'error') errors.push(m.text()); };
    page.on('console', onConsole);
    try {
        await page.goto(`${base}/roadmap.html`);
        await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 90000 });
        // the item with the most linked rows (its summary's count)
        const counts = await page.$$eval('details[data-feedback-for]', (ds) => ds.map((d) => [d.dataset.feedbackFor, parseInt(d.querySelector('summary').textContent.replace(/,/g, ''), 10) || 0]));
        if (counts.length === 0) {
            fail('roadmap: no item has a feedback row to open');
            return;
        }
        const id = counts.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
        const details = page.locator(`details[data-feedback-for="${id}"]`);
        if (await details.locator('[data-feedback-row]').count() !== 0) fail('roadmap: the feedback was there before it was opened');
        await details.locator('summary').click();
        await page.waitForFunction((item) => {
            const d = document.querySelector(`details[data-feedback-for="${item}"]`);
            return d && d.dataset.loaded;
        }, id, { timeout: 30000 });
        const shown = await details.locator('[data-feedback-row]').evaluateAll((lis) => lis.map((li) => {
            const t = li.querySelector('[data-feedback-text]');
            return { id: li.dataset.feedbackRow, text: t ? t.textContent : '', elements: t ? t.children.length : -1, meta: li.textContent };
        }));
        const cli = JSON.parse(aipm('--json', 'feedback', 'links', '--item', id)).links;
        if (shown.length === 0) fail(`roadmap: ${id}'s feedback shows no row`);
        if (shown.length !== Math.min(cli.length, 100)) fail(`roadmap: ${id} shows ${shown.length} rows, the CLI links ${cli.length}`);
        shown.forEach((r, i) => {
            const c = cli[i];
            if (!c || r.id !== c.feedback_id || r.text !== c.text) fail(`roadmap: ${id} row ${i} is ${r.id} "${r.text.slice(0, 60)}", the CLI's ${c && c.feedback_id} "${c && String(c.text).slice(0, 60)}"`);
            else if (!r.text.trim()) fail(`roadmap: ${id} row ${r.id} has no text`);
            if (r.elements !== 0) fail(`roadmap: ${id} row ${r.id}'s text holds markup`);
            if (c && !r.meta.includes(c.status)) fail(`roadmap: ${id} row ${r.id} does not say why (${c.status})`);
            if (c && c.account_id && !r.meta.includes(c.account_id)) fail(`roadmap: ${id} row ${r.id} does not name its account ${c.account_id}`);
        });
        await details.scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(OUT, 'roadmap-feedback.png'), fullPage: true });
        await page.locator(`tr[data-item="${id}"]`).screenshot({ path: path.join(OUT, 'roadmap-feedback-item.png') });
        for (const e of errors) fail(`roadmap: console error: ${e.slice(0, 200)}`);
        if (!failures.some((f) => f.startsWith('roadmap:'))) ok(`roadmap: ${id}'s feedback opened, ${shown.length} rows as the CLI links them`);
    } finally {
        page.off('console', onConsole);
    }
}

// A second proposed record overridden through the UI with a JSON value; a
// malformed value is refused in the page, and nothing is sent.
async function overrideThroughUi(page, base, approved) {
    await page.goto(`${base}/decisions.html`);
    await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60000 });
    const ids = await page.$$eval('[data-decision]', (lis) => lis.map((li) => li.dataset.decision));
    const id = ids.find((x) => x !== approved);
    if (!id) {
        fail(`decisions: no second proposed record to override (${ids.length} proposed)`);
        return;
    }
    const row = page.locator(`[data-decision="${id}"]`);
    const result = row.locator('[data-act-result]');
    await row.locator('textarea').first().fill('overridden in the browser test');
    await row.locator('details[data-override] > summary').click();
    const value = row.locator('textarea[name="value"]');
    await value.fill('{"items": ["BL-1",]}');
    await row.locator('[data-act="override"]').click();
    await page.waitForFunction((x) => {
        const e = document.querySelector(`[data-decision="${x}"] [data-act-result]`);
        return e && e.dataset.outcome;
    }, id, { timeout: 10000 });
    const refused = { outcome: await result.getAttribute('data-outcome'), text: await result.textContent(), invalid: await value.getAttribute('aria-invalid') };
    if (refused.outcome !== 'invalid' || !/JSON/.test(refused.text) || refused.invalid !== 'true') {
        fail(`decisions: a malformed value was not refused: ${JSON.stringify(refused).slice(0, 200)}`);
    }
    if (JSON.parse(aipm('--json', 'decisions', 'show', id)).status !== 'proposed') fail('decisions: a malformed override was sent');
    await row.screenshot({ path: path.join(OUT, 'decisions-override-invalid.png') });
    const sent = { items: ['BL-1', 'BL-2'], why: 'ui test' };
    await value.fill(JSON.stringify(sent, null, 1));
    await row.locator('[data-act="override"]').click();
    await page.waitForFunction((x) => {
        const e = document.querySelector(`[data-decision="${x}"] [data-act-result]`);
        return e && e.dataset.outcome && e.dataset.outcome !== 'invalid';
    }, id, { timeout: 30000 });
    const outcome = await result.getAttribute('data-outcome');
    if (outcome !== 'overridden') fail(`decisions: the override's result is ${outcome}: "${(await result.textContent()).slice(0, 160)}"`);
    await page.screenshot({ path: path.join(OUT, 'decisions-overridden.png'), fullPage: true });
    const shown = JSON.parse(aipm('--json', 'decisions', 'show', id));
    const act = (shown.acts || []).find((a) => a.action === 'override');
    if (shown.status !== 'overridden') fail(`decisions: ${id} is ${shown.status} after the override, not overridden`);
    if (!act || act.user !== 'apo' || act.reason !== 'overridden in the browser test' || JSON.stringify(act.value) !== JSON.stringify(sent)) {
        fail(`decisions: the CLI shows no override by apo with the value: ${JSON.stringify(shown.acts).slice(0, 240)}`);
    }
    if (!failures.some((f) => f.startsWith('decisions:'))) ok(`decisions: ${id.slice(0, 8)} overridden through the UI with its value, a malformed value refused`);
}

// `aipm report`: one file, opened from disk; it must draw its charts with
// nothing but what it carries (any request it made would fail: the page's
// CSP and the file:// origin allow none).
async function checkReport(browser) {
    const file = path.join(OUT, 'report.html');
    aipm('report', '--out', file);
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    const errors = [];
    const requests = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
    await page.goto(`file://${file}`);
    await page.waitForFunction(() => document.body.dataset.ready === '1' || document.body.dataset.ready === 'error',
        null, { timeout: 60000 });
    const ready = await page.evaluate(() => document.body.dataset.ready);
    if (ready !== '1') fail(`report: data-ready=${ready}`);
    const charts = await page.$$eval('canvas[data-chart]', (cs) => cs.map((c) => ({ name: c.dataset.chart, points: Number(c.dataset.points || 0) })));
    if (charts.length < 6) fail(`report: ${charts.length} charts`);
    for (const c of charts) if (!(c.points > 0)) fail(`report: chart ${c.name} drew no data`);
    const sections = await page.$$eval('main section h2', (hs) => hs.map((h) => h.textContent));
    for (const want of ['KPIs', 'Roadmap', 'Experiments', 'Decisions', 'Audit log']) {
        if (!sections.includes(want)) fail(`report: no section ${want} (has ${sections.join(', ')})`);
    }
    // each record's provenance shows the policies it was made under: the
    // very version `aipm policy log --json` lists for its SHA-256
    const held = await page.$$eval('details[data-policy]', (ds) => ds.map((d) => ({ sha: d.dataset.policy, text: d.querySelector('pre').textContent })));
    const versions = JSON.parse(aipm('--json', 'policy', 'log')).versions;
    if (held.length === 0) fail('report: no decision shows its policies');
    for (const h of held) {
        const v = versions.find((x) => x.policy_sha256 === h.sha);
        if (!v) fail(`report: policy ${h.sha.slice(0, 12)} is not in policy log`);
        else if (JSON.stringify(JSON.parse(h.text)) !== JSON.stringify(v.policies)) fail(`report: policy ${h.sha.slice(0, 12)} differs from policy log`);
    }
    for (const e of errors) fail(`report: console error: ${e.slice(0, 200)}`);
    for (const u of requests) fail(`report: it requested ${u.slice(0, 120)}`);
    await page.screenshot({ path: path.join(OUT, 'report.png'), fullPage: true });
    await context.close();
    if (!failures.some((f) => f.startsWith('report:'))) ok(`report: ${sections.length} sections, ${charts.length} charts, no request`);
}

async function main() {
    let srv = null;
    let browser = null;
    try {
        const tokens = setup();
        const s = await startServer();
        srv = s.srv;
        browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
        const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
        const page = await context.newPage();
        // a wrong token is refused with the API's message
        await page.goto(`${s.base}/index.html`);
        const field = page.locator('input[type="password"], input[name="token"], #token').first();
        await field.waitFor({ timeout: 15000 });
        await field.fill('aipm_wrong');
        await field.press('Enter');
        await page.waitForFunction(() => /token/i.test(document.querySelector('[aria-live]')?.textContent || ''),
            null, { timeout: 15000 }).catch(() => fail('sign-in: a wrong token shows no message'));
        await signIn(page, s.base, tokens.apo);
        for (const name of PAGES) await checkPage(page, s.base, name);
        await roadmapFeedback(page, s.base);
        const approved = await approveThroughUi(page, s.base);
        await overrideThroughUi(page, s.base, approved);
        // the self-contained report, opened from the disk with no server
        await checkReport(browser);
        // laptop width down to 800 px: no horizontal scroll on the overview
        await page.setViewportSize({ width: 800, height: 900 });
        await page.goto(`${s.base}/index.html`);
        await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60000 });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        if (overflow > 16) fail(`index at 800 px scrolls sideways by ${overflow} px`);
        await page.screenshot({ path: path.join(OUT, 'index-800.png'), fullPage: true });
    } catch (e) {
        fail(`aborted: ${String(e.stack || e).slice(0, 400)}`);
    } finally {
        if (browser) await browser.close();
        if (srv) srv.kill('SIGTERM');
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    console.log(`${failures.length === 0 ? 'passed' : `${failures.length} failed`}; screenshots in ${OUT}`);
    process.exit(failures.length === 0 ? 0 : 1);
}

main();
