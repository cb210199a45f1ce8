/**
 * Phones: the searchable, sortable list with live rows, the phone detail
 * (files with secrets masked, last fetch, audit trail, keys), and the phone
 * actions (log out, re-sync now, reset enrolment).
 */
import { HotdeskError } from '../../core/errors.js';
import { normalizeMac } from '../../core/model.js';
import { agentUrls } from '../provisioning/agent-urls.js';
import { hotdeskLineInput } from '../provisioning/hotdesk-line-input.js';
import type { HttpPlugin } from '../http/server.js';
import type { RenderInput } from '../../vendors/driver.js';
import { actionDone, phoneRows, sendHtml, stateBadge, viewerOf, type ConsoleContext, type PhoneRow } from './console-deps.js';
import { html, type SafeHtml } from './html.js';
import { CONSOLE_BASE, csrfField, macText, page, when, type Viewer } from './layout.js';
import { requireRole, roleAllows } from './roles.js';
import { auditTable } from './audit-view.js';
import { lineView } from '../api/views.js';

/** The MAC of a route parameter (`unknown-phone` when not a phone here). */
export async function phoneMacOf(ctx: ConsoleContext, raw: string): Promise<string> {
  const mac = normalizeMac(raw);
  if (mac === null || !(await ctx.store.getPhone(mac))) throw new HotdeskError('unknown-phone', 'no phone with this MAC address');
  return mac;
}

function actionForm(v: Viewer, action: string, mac: string, label: string, cls = ''): SafeHtml {
  return html`<form method="post" action="${CONSOLE_BASE}/phones/${mac}/${action}" hx-post="${CONSOLE_BASE}/phones/${mac}/${action}" hx-target="#flash" hx-swap="innerHTML">${csrfField(v)}<button type="submit" class="${cls}" aria-label="${label} (${mac})">${label}</button></form>`;
}

/** One phone's actions, by role (the rarer enrolment reset only on the detail page). */
function phoneActions(v: Viewer, r: PhoneRow, detail = false): SafeHtml {
  return html`<div class="actions">
${detail ? '' : html`<a class="button" href="${CONSOLE_BASE}/phones/${r.mac}" aria-label="Details of ${r.label}">Details</a>`}
${r.user ? actionForm(v, 'logout', r.mac, 'Log out') : ''}
${actionForm(v, 'resync', r.mac, 'Re-sync now')}
${detail && roleAllows(v.role, 'reset-enrolment') ? actionForm(v, 'reset-enrolment', r.mac, 'Reset enrolment', 'danger') : ''}
</div>`;
}

/** One row of the phones table (also the live-update fragment). */
export function phoneRow(v: Viewer, r: PhoneRow): SafeHtml {
  return html`<tr id="phone-${r.mac}" data-row-url="${CONSOLE_BASE}/phones/${r.mac}/row" data-state="${r.state}">
<td><a href="${CONSOLE_BASE}/phones/${r.mac}">${r.label}</a></td>
<td>${r.location}</td>
<td class="mono" data-key="${r.mac}">${macText(r.mac)}</td>
<td>${r.vendor} ${r.model}</td>
<td class="mono">${r.firmware ?? '—'}</td>
<td data-key="${r.user?.ext ?? ''}">${r.user ? html`${r.user.ext} ${r.user.name ?? ''}` : html`<span class="muted">nobody</span>`}</td>
<td>${r.identities.length ? r.identities.join(', ') : '—'}</td>
<td class="sync" data-key="${r.state}">${stateBadge(r)}</td>
<td data-key="${r.lastSeen ?? 0}">${r.lastSeen !== null ? html`<span data-since="${r.lastSeen}" data-ago>${when(r.lastSeen)}</span>` : '—'}</td>
<td class="mono">${r.address ?? '—'}</td>
<td>${phoneActions(v, r)}</td>
</tr>`;
}

function phonesTable(v: Viewer, rows: readonly PhoneRow[]): SafeHtml {
  const cols = ['Label', 'Location', 'MAC', 'Vendor / model', 'Firmware', 'User', 'Identities', 'Sync state', 'Last seen', 'Address'];
  return html`<div class="toolbar"><div><label for="phone-search">Search phones</label>
<input id="phone-search" type="search" data-filter="phones" placeholder="label, MAC, user, state…"></div>
<span class="muted" data-count-for="phones" aria-live="polite">${rows.length} shown</span></div>
<div class="table-wrap"><table id="phones"><caption class="skip">Phones</caption><thead><tr>
${cols.map((c) => html`<th scope="col"><button type="button" class="sort">${c}</button></th>`)}<th scope="col">Actions</th>
</tr></thead><tbody>${rows.map((r) => phoneRow(v, r))}</tbody></table></div>`;
}

/** Masks every secret value in a rendered file. */
function mask(body: string, secrets: readonly string[]): string {
  let out = body;
  for (const s of [...secrets].filter((x) => x.length >= 3).sort((a, b) => b.length - a.length)) out = out.split(s).join('********');
  return out;
}

async function detailBody(ctx: ConsoleContext, v: Viewer, mac: string): Promise<SafeHtml> {
  const store = ctx.store;
  const phone = await store.getPhone(mac);
  const rt = await store.phoneRuntime(mac);
  const row = (await phoneRows(store, mac))[0];
  if (!phone || !rt || !row) throw new HotdeskError('unknown-phone', 'no phone with this MAC address');
  const profile = ctx.profiles.find(phone.vendor, phone.model);
  const driver = ctx.drivers.find((d) => d.vendor === phone.vendor);
  let files: SafeHtml = html`<p class="muted">No firmware profile for ${phone.vendor} ${phone.model}: no files.</p>`;
  if (profile && driver) {
    const session = await store.sessionOf(mac);
    const user = session ? ((await store.getUser(session.userExt)) ?? null) : null;
    const site = await store.getSite();
    const input: RenderInput = {
      site,
      phone,
      profile,
      user,
      identityKeys: await store.identityKeysFor(mac),
      revision: rt.revision,
      credential: { username: rt.provUsername, password: rt.provPassword },
      urls: agentUrls(ctx.baseUrl(site), phone, rt.screenToken, profile.firmware?.file),
      hotdeskLine: hotdeskLineInput(await store.getHotdeskLine(mac), phone, ctx.sipAdvertised?.(site) ?? null),
    };
    const secrets = [
      rt.provPassword,
      rt.screenToken,
      site.provisioning.bootstrap.password,
      user?.sip.password ?? '',
      phone.deviceAccount?.password ?? '',
      input.hotdeskLine?.password ?? '',
      ...site.apiTokens,
    ];
    const keyUsers = await Promise.all(input.identityKeys.map((k) => store.getUser(k.ext)));
    for (const [i, k] of input.identityKeys.entries()) {
      secrets.push(k.pin);
      const u = keyUsers[i];
      if (u) secrets.push(u.sip.password);
    }
    const list = driver.fileNames(input).map((name) => {
      try {
        const f = driver.render(input, name);
        if (!f) return html`<li>${name} <span class="muted">(not rendered)</span></li>`;
        return html`<li><details><summary><span class="mono">${f.name}</span> · ${f.contentType}${f.secret ? ' · holds secrets (masked)' : ''}${f.carriesRevision ? html` · carries revision ${rt.revision}` : ''}</summary><pre>${mask(f.body, secrets)}</pre></details></li>`;
      } catch (e) {
        return html`<li><span class="mono">${name}</span> <span class="muted">cannot be rendered: ${e instanceof HotdeskError ? e.code : 'error'}</span></li>`;
      }
    });
    files = html`<ul>${list}</ul>`;
  }
  const idKeys = await store.identityKeysFor(mac);
  const keys = html`<div class="table-wrap"><table><thead><tr><th scope="col">#</th><th scope="col">Kind</th><th scope="col">Label</th><th scope="col">Value</th></tr></thead><tbody>
${idKeys.map((k, i) => html`<tr><td>${i + 1}</td><td>identity</td><td>${k.label}</td><td>${k.ext}</td></tr>`)}
${phone.keys.map((k, i) => html`<tr><td>${idKeys.length + i + 1}</td><td>${k.kind}</td><td>${k.label}</td><td class="mono">${k.kind === 'url' ? '(agent URL)' : k.value}</td></tr>`)}
</tbody></table></div>`;
  const events = await store.queryAudit({ phone: mac, limit: 50 });
  const fetches = await store.queryAudit({ phone: mac, kinds: ['secret-served', 'sync-confirmed'], limit: 10 });
  const line = await lineText(store, mac);
  return html`<h1>${phone.label} <span class="muted mono">${macText(mac)}</span></h1>
<div data-live-refresh="${CONSOLE_BASE}/phones/${mac}/summary" data-live-phone="${mac}">${detailSummary(v, row, rt, line)}</div>
<h2>Last fetches</h2>
<p>Last request: <span class="mono">${rt.lastFile ?? '—'}</span> from <span class="mono">${rt.lastIp ?? '—'}</span> at ${when(rt.lastSeen)}<br>User-Agent: <span class="mono">${rt.lastUserAgent ?? '—'}</span></p>
${fetches.length ? auditTable(fetches) : html`<p class="muted">No file with secrets fetched yet.</p>`}
<h2>Files (revision ${rt.revision})</h2>${files}
<h2>Keys as the phone shows them</h2>${keys}
<h2>Audit trail</h2>${auditTable(events)}`;
}

/** The hot-desk line's registration in words (docs/voice.md); never its password. */
async function lineText(store: ConsoleContext['store'], mac: string): Promise<string> {
  const line = await store.getHotdeskLine(mac);
  if (!line) return 'none (not a hot-desk phone)';
  const v = lineView({ mac, username: line.username, registration: line.registration }, Date.now());
  return v.registered ? `${v.username} registered from ${v.address}:${v.port} until ${when(v.expiresAt)}` : `${v.username} not registered`;
}

function detailSummary(v: Viewer, r: PhoneRow, rt: { revision: number; sync: { revision: number; attempts: number } }, line: string): SafeHtml {
  return html`<dl class="facts">
<dt>Location</dt><dd>${r.location || '—'}</dd>
<dt>Vendor / model</dt><dd>${r.vendor} ${r.model} · firmware ${r.firmware ?? 'unknown'}</dd>
<dt>User</dt><dd>${r.user ? html`${r.user.ext} ${r.user.name ?? ''} since ${when(r.user.since)}` : 'nobody'}</dd>
<dt>Sync</dt><dd>${stateBadge(r)} · revision ${rt.revision} (phone has ${rt.sync.revision})${rt.sync.attempts ? ` · ${rt.sync.attempts} NOTIFY attempts` : ''}</dd>
<dt>Hot-desk</dt><dd>${r.hotdesk ? 'on' : 'off'}</dd>
<dt>Hot-desk line</dt><dd class="mono">${line}</dd>
</dl>${phoneActions(v, r, true)}`;
}

/** The phone pages and actions. */
export function phonePages(ctx: ConsoleContext): HttpPlugin {
  return async (app) => {
    const site = async (): Promise<string> => (await ctx.store.getSite()).name;
    const done = (mac: string, action: string, account: string): void => {
      ctx.onCommitted?.();
      ctx.log.info('console action', { account, action, phone: mac });
    };
    app.get(`${CONSOLE_BASE}/phones`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      const rows = await phoneRows(ctx.store);
      return sendHtml(
        reply,
        page({ title: 'Phones', nav: 'phones', viewer: v, site: await site(), live: true, body: html`<h1>Phones</h1>${phonesTable(v, rows)}` }),
      );
    });
    app.get<{ Params: { mac: string } }>(`${CONSOLE_BASE}/phones/:mac/row`, { schema: { hide: true } }, async (request, reply) => {
      const mac = await phoneMacOf(ctx, request.params.mac);
      const r = (await phoneRows(ctx.store, mac))[0];
      return sendHtml(reply, r ? phoneRow(viewerOf(request), r) : '');
    });
    app.get<{ Params: { mac: string } }>(`${CONSOLE_BASE}/phones/:mac/summary`, { schema: { hide: true } }, async (request, reply) => {
      const mac = await phoneMacOf(ctx, request.params.mac);
      const r = (await phoneRows(ctx.store, mac))[0];
      const rt = await ctx.store.phoneRuntime(mac);
      return sendHtml(reply, r && rt ? detailSummary(viewerOf(request), r, rt, await lineText(ctx.store, mac)) : '');
    });
    app.get<{ Params: { mac: string } }>(`${CONSOLE_BASE}/phones/:mac`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      const mac = await phoneMacOf(ctx, request.params.mac);
      const title = (await ctx.store.getPhone(mac))?.label ?? mac;
      const body = await detailBody(ctx, v, mac);
      return sendHtml(reply, page({ title, nav: 'phones', viewer: v, site: await site(), live: true, body }));
    });
    app.post<{ Params: { mac: string } }>(`${CONSOLE_BASE}/phones/:mac/logout`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      requireRole(v.role, 'desk');
      const mac = await phoneMacOf(ctx, request.params.mac);
      const s = await ctx.store.sessionOf(mac);
      if (!s) throw new HotdeskError('not-logged-in');
      await ctx.service.logout(mac, 'admin');
      done(mac, 'logout', v.name);
      const label = (await ctx.store.getPhone(mac))?.label ?? mac;
      return actionDone(request, reply, `${s.userExt} logged out of ${label}.`, `${CONSOLE_BASE}/phones`, mac);
    });
    app.post<{ Params: { mac: string } }>(`${CONSOLE_BASE}/phones/:mac/resync`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      requireRole(v.role, 'desk');
      const mac = await phoneMacOf(ctx, request.params.mac);
      // A new revision marks the phone pending: the sync worker sends a check-sync NOTIFY at once.
      const now = ctx.clock();
      const revision = await ctx.store.transaction((tx) => tx.bumpRevision(mac, now));
      done(mac, 'resync', v.name);
      const label = (await ctx.store.getPhone(mac))?.label ?? mac;
      return actionDone(request, reply, `Re-sync requested for ${label} (revision ${revision}).`, `${CONSOLE_BASE}/phones`, mac);
    });
    app.post<{ Params: { mac: string } }>(`${CONSOLE_BASE}/phones/:mac/reset-enrolment`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      requireRole(v.role, 'reset-enrolment');
      const mac = await phoneMacOf(ctx, request.params.mac);
      await ctx.store.resetEnrolment(mac);
      done(mac, 'reset-enrolment', v.name);
      const label = (await ctx.store.getPhone(mac))?.label ?? mac;
      return actionDone(request, reply, `Enrolment of ${label} reset: the site bootstrap credential works for it again.`, `${CONSOLE_BASE}/phones`, mac);
    });
  };
}
