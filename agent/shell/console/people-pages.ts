/**
 * Overview (phones by sync state, people logged in, locks, last events;
 * refreshed live) and People (who sits where since when, PIN locks with
 * unlock, log a user in on a phone, end a session).
 */
import { HotdeskError } from '../../core/errors.js';
import { EMPTY_LOCK, normalizeMac } from '../../core/model.js';
import type { HttpPlugin } from '../http/server.js';
import { auditTable } from './audit-view.js';
import { actionDone, lockRows, phoneRows, sendHtml, viewerOf, type ConsoleContext, type DisplayState } from './console-deps.js';
import { OUTCOME_REFUSALS } from '../api/views.js';
import { html, type SafeHtml } from './html.js';
import { CONSOLE_BASE, csrfField, macText, page, when, type Viewer } from './layout.js';
import { requireRole } from './roles.js';

const REFUSALS = OUTCOME_REFUSALS;

async function overviewPanel(ctx: ConsoleContext): Promise<SafeHtml> {
  const rows = await phoneRows(ctx.store);
  const count = (s: DisplayState): number => rows.filter((r) => r.state === s).length;
  const now = ctx.clock();
  const locks = (await lockRows(ctx.store, now)).filter((l) => l.locked);
  const sessions = await ctx.store.listSessions();
  const events = await ctx.store.queryAudit({ limit: 10 });
  const tz = (await ctx.store.getSite()).timezone;
  const cards: [string, number, string][] = [
    ['synced', count('synced'), 'synced'],
    ['pending', count('pending'), 'pending'],
    ['unreachable', count('unreachable'), 'unreachable'],
    ['never', count('never'), 'never seen'],
  ];
  return html`<h2>Phones by sync state</h2>
<div class="cards">${cards.map(([id, n, label]) => html`<a class="card" href="${CONSOLE_BASE}/phones" data-card="${id}"><div class="n">${n}</div><div class="l"><span class="state state-${id}">${label}</span></div></a>`)}</div>
<h2>People</h2>
<div class="cards"><a class="card" href="${CONSOLE_BASE}/people" data-card="logged-in"><div class="n">${sessions.length}</div><div class="l">logged in</div></a>
<a class="card" href="${CONSOLE_BASE}/people#locks" data-card="locked"><div class="n">${locks.length}</div><div class="l">locked (PIN)</div></a></div>
<h2>Last events</h2>${auditTable(events, tz)}`;
}

async function peoplePanel(ctx: ConsoleContext, v: Viewer): Promise<SafeHtml> {
  const store = ctx.store;
  const users = new Map((await store.listUsers()).map((u) => [u.ext, u]));
  const phones = new Map((await store.listPhones()).map((p) => [p.mac, p]));
  const sessions = await store.listSessions();
  const tz = (await store.getSite()).timezone;
  const locks = await lockRows(store, ctx.clock());
  return html`<h2>Who is logged in where</h2>
${
  sessions.length === 0
    ? html`<p class="muted">Nobody is logged in.</p>`
    : html`<div class="table-wrap"><table id="sessions"><thead><tr><th scope="col">User</th><th scope="col">Phone</th><th scope="col">Location</th><th scope="col">Since</th><th scope="col">Actions</th></tr></thead><tbody>
${sessions.map((s) => {
  const p = phones.get(s.phoneMac);
  return html`<tr id="session-${s.phoneMac}"><td>${s.userExt} ${users.get(s.userExt)?.name ?? ''}</td><td><a href="${CONSOLE_BASE}/phones/${s.phoneMac}">${p?.label ?? macText(s.phoneMac)}</a></td><td>${p?.location ?? ''}</td>
<td>${when(s.startedAt, tz)} (<span data-since="${s.startedAt}"></span>)</td>
<td><form method="post" action="${CONSOLE_BASE}/phones/${s.phoneMac}/logout" hx-post="${CONSOLE_BASE}/phones/${s.phoneMac}/logout" hx-target="#flash">${csrfField(v)}<button type="submit" aria-label="End the session of ${s.userExt} on ${p?.label ?? s.phoneMac}">End session</button></form></td></tr>`;
})}
</tbody></table></div>`
}
<h2 id="locks">PIN locks and recent wrong PINs</h2>
${
  locks.length === 0
    ? html`<p class="muted">No locks and no recent wrong PINs.</p>`
    : html`<div class="table-wrap"><table id="lock-table"><thead><tr><th scope="col">Who</th><th scope="col">State</th><th scope="col">Wrong PINs (window)</th><th scope="col">Actions</th></tr></thead><tbody>
${locks.map((l) => {
  const who = l.scope === 'user' ? `user ${l.subject} ${users.get(l.subject)?.name ?? ''}` : `phone ${phones.get(l.subject)?.label ?? macText(l.subject)}`;
  return html`<tr><td>${who}</td><td>${l.locked ? html`<span class="state state-unreachable">locked</span> until ${when(l.lockedUntil, tz)}` : 'not locked'}</td><td>${l.failures}</td>
<td><form method="post" action="${CONSOLE_BASE}/people/unlock" hx-post="${CONSOLE_BASE}/people/unlock" hx-target="#flash">${csrfField(v)}<input type="hidden" name="scope" value="${l.scope}"><input type="hidden" name="subject" value="${l.subject}"><button type="submit" aria-label="Unlock ${who}">Unlock</button></form></td></tr>`;
})}
</tbody></table></div>`
}`;
}

async function loginForm(ctx: ConsoleContext, v: Viewer): Promise<SafeHtml> {
  const phones = (await ctx.store.listPhones()).filter((p) => p.hotdesk);
  return html`<h2>Log a user in on a phone</h2>
<form class="inline" method="post" action="${CONSOLE_BASE}/people/login" hx-post="${CONSOLE_BASE}/people/login" hx-target="#flash">${csrfField(v)}
<label for="login-ext">Short number</label><input id="login-ext" name="ext" inputmode="numeric" pattern="[0-9]{1,15}" required size="8">
<label for="login-phone">Phone</label><select id="login-phone" name="phone" required>${phones.map((p) => html`<option value="${p.mac}">${p.label}${p.location ? ` (${p.location})` : ''}</option>`)}</select>
<button class="primary" type="submit">Log in</button></form>`;
}

/** Overview and People. */
export function peoplePages(ctx: ConsoleContext): HttpPlugin {
  return async (app) => {
    const site = async (): Promise<string> => (await ctx.store.getSite()).name;
    app.get(`${CONSOLE_BASE}/`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      return sendHtml(
        reply,
        page({
          title: 'Overview',
          nav: 'overview',
          viewer: v,
          site: await site(),
          live: true,
          body: html`<h1>Overview</h1><div id="overview" data-live-refresh="${CONSOLE_BASE}/overview/panel">${await overviewPanel(ctx)}</div>`,
        }),
      );
    });
    app.get(`${CONSOLE_BASE}/overview/panel`, { schema: { hide: true } }, async (_request, reply) => sendHtml(reply, await overviewPanel(ctx)));
    app.get(`${CONSOLE_BASE}/people`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      return sendHtml(
        reply,
        page({
          title: 'People',
          nav: 'people',
          viewer: v,
          site: await site(),
          live: true,
          body: html`<h1>People</h1>${await loginForm(ctx, v)}<div id="people" data-live-refresh="${CONSOLE_BASE}/people/panel">${await peoplePanel(ctx, v)}</div>`,
        }),
      );
    });
    app.get(`${CONSOLE_BASE}/people/panel`, { schema: { hide: true } }, async (request, reply) => sendHtml(reply, await peoplePanel(ctx, viewerOf(request))));
    app.post(`${CONSOLE_BASE}/people/login`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      requireRole(v.role, 'desk');
      const body = (request.body ?? {}) as Record<string, unknown>;
      const ext = typeof body['ext'] === 'string' ? body['ext'].trim() : '';
      const mac = normalizeMac(typeof body['phone'] === 'string' ? body['phone'] : '');
      if (!/^[0-9]{1,15}$/.test(ext)) throw new HotdeskError('bad-request', 'the short number is 1 to 15 digits');
      if (mac === null || !(await ctx.store.getPhone(mac))) throw new HotdeskError('unknown-phone', 'choose a phone from the list');
      const o = await ctx.service.adminLogin(mac, ext);
      ctx.onCommitted?.();
      const refusal = REFUSALS[o.code];
      if (refusal !== undefined) throw new HotdeskError(refusal, o.message, { phone: mac, user: ext });
      ctx.log.info('console action', { account: v.name, action: 'login', phone: mac, user: ext });
      const label = (await ctx.store.getPhone(mac))?.label ?? mac;
      const text = o.code === 'no-change' ? `${ext} is already logged in on ${label}.` : `${ext} logged in on ${label}: the phone is being re-provisioned.`;
      return actionDone(request, reply, text, `${CONSOLE_BASE}/people`, mac);
    });
    app.post(`${CONSOLE_BASE}/people/unlock`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      requireRole(v.role, 'desk');
      const body = (request.body ?? {}) as Record<string, unknown>;
      const scope = body['scope'];
      const subject = typeof body['subject'] === 'string' ? body['subject'] : '';
      if ((scope !== 'user' && scope !== 'phone') || !/^[0-9a-f]{1,15}$/.test(subject)) throw new HotdeskError('bad-request', 'nothing to unlock');
      await ctx.store.transaction((tx) => tx.setLock(scope, subject, EMPTY_LOCK));
      ctx.log.info('console action', { account: v.name, action: 'unlock', scope, subject });
      return actionDone(request, reply, `Unlocked ${scope} ${subject}: wrong PINs forgotten.`, `${CONSOLE_BASE}/people`);
    });
  };
}
