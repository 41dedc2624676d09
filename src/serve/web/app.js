/* app.js - the served pages' shared layer: the token, the API's fetch
 * wrapper, the navigation, the sign-in form and the status area.
 *
 * The API wants "Authorization: Bearer TOKEN" (aipm tokens create). The
 * token is kept in sessionStorage (this tab only, gone when it closes) and
 * sent only to this origin's /api/v1. A page script calls
 * AIPM.app.page(load): with no token the sign-in form shows; with one,
 * GET /api/v1/whoami names the user, then load(ctx) fetches the page's
 * documents and calls AIPM.render. A 401 anywhere forgets the token and
 * brings the form back with the server's message; any other error shows
 * the message of {"error": {"code", "message"}}. When the load ends,
 * body[data-ready] is "1" (or "error"): the browser tests wait for it.
 * Needs render.js (AIPM.ui) loaded first.
 */
(function () {
    'use strict';

    const AIPM = (window.AIPM = window.AIPM || {});
    const ui = AIPM.ui;
    const el = ui.el;

    const PAGES = [
        ['index.html', 'Overview'],
        ['roadmap.html', 'Roadmap'],
        ['forecasts.html', 'Forecasts'],
        ['experiments.html', 'Experiments'],
        ['scenarios.html', 'Scenarios'],
        ['models.html', 'Models'],
        ['decisions.html', 'Decisions'],
        ['audit.html', 'Audit'],
    ];
    const ROLES = ['viewer', 'analyst', 'approver', 'admin'];
    const TOKEN_KEY = 'aipm.token';

    /* ---- the token ---- */

    const token = {
        get() {
            try {
                return sessionStorage.getItem(TOKEN_KEY);
            } catch (e) {
                return null;
            }
        },
        set(t) {
            sessionStorage.setItem(TOKEN_KEY, t);
        },
        clear() {
            try {
                sessionStorage.removeItem(TOKEN_KEY);
            } catch (e) {
                /* storage off: nothing kept */
            }
        },
    };

    /* ---- the API ---- */

    class ApiError extends Error {
        constructor(status, code, message, detail) {
            super(message);
            this.status = status;
            this.code = code;
            this.detail = detail || null;
            this.command = detail && detail.command ? detail.command : null;
        }
    }

    /* api('/roadmap', {query: {capacity_weeks: 12}, method: 'POST', body}):
     * the parsed document; throws ApiError with the server's code and
     * message. Empty query values are left out. */
    async function api(path, opts) {
        const o = opts || {};
        const headers = { Accept: 'application/json' };
        const t = token.get();
        if (t) headers.Authorization = 'Bearer ' + t;
        let body;
        if (o.body !== undefined) {
            headers['Content-Type'] = 'application/json';
            body = JSON.stringify(o.body);
        }
        let url = '/api/v1' + path;
        if (o.query) {
            const q = new URLSearchParams();
            for (const [k, v] of Object.entries(o.query)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
            const s = q.toString();
            if (s) url += '?' + s;
        }
        let res;
        try {
            res = await fetch(url, { method: o.method || (body !== undefined ? 'POST' : 'GET'), headers, body, cache: 'no-cache', credentials: 'omit' });
        } catch (e) {
            throw new ApiError(0, 'network', 'The server could not be reached (' + e.message + ').');
        }
        const text = await res.text();
        let doc = null;
        if (text) {
            try {
                doc = JSON.parse(text);
            } catch (e) {
                doc = null;
            }
        }
        if (!res.ok) {
            const err = doc && doc.error ? doc.error : {};
            throw new ApiError(res.status, err.code || 'http_' + res.status, err.message || 'HTTP ' + res.status + ' ' + res.statusText, err);
        }
        if (doc === null) throw new ApiError(res.status, 'bad_response', 'The server answered ' + url + ' with no JSON document.');
        return doc;
    }

    /* ---- the page's frame ---- */

    function $(id) {
        return document.getElementById(id);
    }

    function buildNav() {
        const nav = $('site-nav');
        if (!nav || nav.childElementCount) return;
        const here = (location.pathname.split('/').pop() || 'index.html').toLowerCase();
        nav.appendChild(
            el('ul', null, PAGES.map(([href, label]) => el('li', null, el('a', { href: '/' + href, 'aria-current': here === href ? 'page' : null }, label))))
        );
    }

    function status(message, kind) {
        const s = $('status');
        if (!s) return;
        s.className = 'status' + (kind ? ' ' + kind : '');
        s.textContent = message || '';
    }

    function setReady(v) {
        if (v === null) delete document.body.dataset.ready;
        else document.body.dataset.ready = v;
    }

    function showSession(who) {
        const box = $('session');
        if (!box) return;
        box.replaceChildren();
        if (!who) return;
        const out = el('button', { type: 'button', class: 'secondary', id: 'sign-out' }, 'Sign out');
        out.addEventListener('click', () => signOut('You are signed out.'));
        box.append(el('span', { data: { user: who.user, role: who.role } }, 'Signed in as ', el('strong', null, who.user), ' (' + who.role + ')'), out);
    }

    function showSignIn(message, kind) {
        const box = $('signin');
        const page = $('page');
        if (page) ui.clear(page);
        showSession(null);
        if (!box) return;
        box.hidden = false;
        box.replaceChildren();
        const form = el('form', { class: 'signin', 'aria-labelledby': 'signin-title', novalidate: true });
        form.appendChild(el('h2', { id: 'signin-title' }, 'Sign in'));
        /* the reason (a refused token, a sign-out) goes to the live status */
        status(message || '', message ? kind || 'error' : null);
        form.appendChild(
            el('p', null, 'Paste an API token (',
                el('code', null, 'aipm tokens create --as USER'),
                ' makes one). It is kept in this browser tab only, until you sign out or close the tab.')
        );
        const input = el('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': message ? 'status' : null });
        form.appendChild(el('p', null, el('label', { for: 'token' }, 'API token'), el('br'), input));
        form.appendChild(el('p', null, el('button', { type: 'submit' }, 'Sign in')));
        form.addEventListener('submit', (ev) => {
            ev.preventDefault();
            const t = input.value.trim();
            if (!t) {
                status('Paste a token first.', 'error');
                input.focus();
                return;
            }
            token.set(t);
            run();
        });
        box.appendChild(form);
        input.focus();
    }

    function hideSignIn() {
        const box = $('signin');
        if (box) {
            box.hidden = true;
            box.replaceChildren();
        }
    }

    function signOut(message) {
        token.clear();
        setReady(null);
        showSignIn(message, 'info');
    }

    /* A failure of a load or an action: a 401 signs out with the server's
     * message, anything else is shown in the status area. */
    function fail(e) {
        if (e && e.status === 401) {
            token.clear();
            showSignIn('Not signed in: ' + e.message);
        } else {
            status(e && e.message ? e.message : String(e), 'error');
        }
    }

    let loader = null;
    let who = null;

    async function run() {
        setReady(null);
        if (!token.get()) {
            showSignIn(null);
            return;
        }
        status('Loading…');
        try {
            who = await api('/whoami');
            hideSignIn();
            showSession(who);
            const page = $('page');
            ui.clear(page);
            const params = new URLSearchParams(location.search);
            const ctx = {
                api,
                who,
                page,
                params,
                status,
                fail,
                /* whether the signed-in role is at least `role` */
                atLeast: (role) => ROLES.indexOf(who.role) >= ROLES.indexOf(role),
                /* a container appended to the page */
                part: (attrs) => page.appendChild(el('div', attrs || null)),
                reload: run,
            };
            await loader(ctx);
            status('');
            setReady('1');
            /* an anchor into content drawn after the load */
            const target = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
            if (target) target.scrollIntoView();
        } catch (e) {
            fail(e);
            setReady('error');
        }
    }

    /* The page's entry: load(ctx) fetches and renders; it may throw. */
    function page(load) {
        loader = load;
        const start = () => {
            buildNav();
            run();
        };
        if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
        else start();
    }

    /* A GET form of options (fields: [{name, label, type, value, options,
     * hint, min, max, step, list}]) that reloads the page with them. */
    function optionsForm(fields, submitLabel) {
        const form = el('form', { class: 'options', method: 'get', action: location.pathname });
        const row = el('div', { class: 'form-row' });
        for (const f of fields) {
            const id = 'opt-' + f.name;
            let input;
            if (f.type === 'hidden') {
                form.appendChild(el('input', { type: 'hidden', name: f.name, value: f.value }));
                continue;
            }
            if (f.type === 'select') {
                input = el('select', { id, name: f.name }, f.options.map(([v, label]) => el('option', { value: v, selected: String(v) === String(f.value) }, label)));
            } else if (f.type === 'checkbox') {
                input = el('input', { id, name: f.name, type: 'checkbox', value: 'true', checked: !!f.value });
                row.appendChild(el('div', { class: 'field inline' }, input, el('label', { for: id }, ' ' + f.label)));
                continue;
            } else {
                input = el('input', { id, name: f.name, type: f.type || 'text', value: f.value === null || f.value === undefined ? '' : f.value, min: f.min, max: f.max, step: f.step, list: f.list ? id + '-list' : null, placeholder: f.placeholder || null, size: f.size || null });
            }
            const field = el('div', { class: 'field' }, el('label', { for: id }, f.label, f.hint ? el('span', { class: 'hint' }, ' ' + f.hint) : null), input);
            if (f.list) field.appendChild(el('datalist', { id: id + '-list' }, f.list.map((v) => el('option', { value: v }))));
            row.appendChild(field);
        }
        row.appendChild(el('div', { class: 'field' }, el('button', { type: 'submit' }, submitLabel || 'Show')));
        form.appendChild(row);
        /* empty fields stay out of the address, as the API wants */
        form.addEventListener('submit', () => {
            form.querySelectorAll('input, select').forEach((i) => {
                if (i.type !== 'checkbox' && i.value === '') i.disabled = true;
            });
        });
        /* back to this page from the browser's cache: usable again */
        window.addEventListener('pageshow', () => form.querySelectorAll('input, select').forEach((i) => (i.disabled = false)));
        return form;
    }

    AIPM.token = token;
    AIPM.api = api;
    AIPM.ApiError = ApiError;
    AIPM.app = { page, status, fail, signOut, optionsForm, pages: PAGES, roles: ROLES };
})();
