/**
 * Directory (upload → validation with line:col and the offending line →
 * preview of the changes → apply or cancel; download without secrets, or
 * with them for admins on explicit request) and Audit (filter by kind,
 * phone, user, time; CSV export).
 */
import type { FastifyRequest } from 'fastify';
import { HotdeskError } from '../../core/errors.js';
import { AUDIT_KINDS, normalizeMac, type AuditKind } from '../../core/model.js';
import { exportDirectory } from '../../directory/export-directory.js';
import { importDirectory } from '../../directory/import-directory.js';
import { parseDirectory } from '../../directory/parse-directory.js';
import type { HttpPlugin } from '../http/server.js';
import { auditCsv, auditTable } from './audit-view.js';
import { isHtmx, sendHtml, viewerOf, type ConsoleContext } from './console-deps.js';
import {
  directoryFingerprint,
  directoryProblems,
  PendingImports,
  previewDirectory,
  type ChangeList,
  type DirectoryPreview,
  type PositionedProblem,
} from './directory-preview.js';
import { html, type SafeHtml } from './html.js';
import { CONSOLE_BASE, csrfField, errorNotice, okNotice, page, type Viewer } from './layout.js';
import { requireRole, roleAllows } from './roles.js';

/** Largest directory text accepted from the console. */
const MAX_DIRECTORY = 1024 * 1024;

function uploadForm(v: Viewer): SafeHtml {
  if (!roleAllows(v.role, 'import')) return html`<p class="muted">Importing a directory needs the admin role.</p>`;
  return html`<h2>Import a directory file</h2>
<form id="upload" method="post" action="${CONSOLE_BASE}/directory/preview" hx-post="${CONSOLE_BASE}/directory/preview" hx-target="#result" hx-swap="innerHTML">${csrfField(v)}
<div class="toolbar"><div><label for="dir-file">YAML file</label><input id="dir-file" type="file" accept=".yaml,.yml,text/yaml" data-into="dir-text" data-name-into="dir-name"></div>
<div><label for="dir-name">File name (for messages)</label><input id="dir-name" name="file" value="directory.yaml" maxlength="200"></div></div>
<div><label for="dir-text">Directory (YAML)</label><textarea id="dir-text" name="text" required spellcheck="false"></textarea></div>
<p><button class="primary" type="submit">Check and preview</button> <span class="muted">Nothing is applied until you confirm the preview.</span></p>
</form>`;
}

function downloads(v: Viewer): SafeHtml {
  return html`<h2>Download the current directory</h2>
<p><a class="button" href="${CONSOLE_BASE}/directory/export" download="directory.yaml">Download without secrets</a>
<span class="muted">PINs, SIP passwords, the bootstrap password and API tokens read <code>********</code> (re-importing keeps the stored values).</span></p>
${
  roleAllows(v.role, 'secrets')
    ? html`<form method="post" action="${CONSOLE_BASE}/directory/export-secrets">${csrfField(v)}
<label><input type="checkbox" name="confirm" value="yes" required> I will keep this file like a password</label>
<button type="submit" class="danger">Download with secrets</button></form>`
    : ''
}`;
}

function problemsView(problems: readonly PositionedProblem[]): SafeHtml {
  return html`<div class="notice error" role="alert" data-code="${problems[0]?.code ?? 'directory-invalid'}"><h2>The file has ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was applied</h2>
<p>Fix these lines and check again.</p>
<ol class="problems">${problems.map(
    (p) => html`<li><strong class="mono">${p.file}:${p.line}:${p.column}</strong> ${p.path ? html`<code>${p.path}</code>: ` : ''}${p.message}
${p.source !== '' ? html`<pre class="offending" aria-label="line ${p.line}">${String(p.line).padStart(4)} | ${p.source}\n${' '.repeat(7 + Math.max(0, p.column - 1))}^</pre>` : ''}</li>`,
  )}</ol></div>`;
}

function changeList(title: string, c: ChangeList): SafeHtml {
  const none = c.added.length + c.updated.length + c.removed.length === 0;
  return html`<h3>${title}</h3>${
    none
      ? html`<p class="muted">No change.</p>`
      : html`<ul>${c.added.map((x) => html`<li class="added">added: ${x}</li>`)}${c.updated.map((x) => html`<li class="updated">updated: ${x}</li>`)}${c.removed.map((x) => html`<li class="removed">removed: ${x}</li>`)}</ul>`
  }`;
}

function previewView(v: Viewer, id: string, file: string, p: DirectoryPreview): SafeHtml {
  return html`<section class="notice diff" id="preview" aria-labelledby="preview-title"><h2 id="preview-title">Preview of ${file}</h2>
<p>The file is valid. Importing it would make these changes:</p>
${changeList('Users', p.users)}${changeList('Phones', p.phones)}
<h3>Sessions that would end</h3>${p.sessionsEnded.length ? html`<ul>${p.sessionsEnded.map((s) => html`<li class="removed">${s}</li>`)}</ul>` : html`<p class="muted">None.</p>`}
<p>Phones re-provisioned: ${p.summary.reprovisioned.length}</p>
<div class="actions">
<form method="post" action="${CONSOLE_BASE}/directory/apply" hx-post="${CONSOLE_BASE}/directory/apply" hx-target="#result">${csrfField(v)}<input type="hidden" name="id" value="${id}"><button class="primary" type="submit">Apply</button></form>
<form method="post" action="${CONSOLE_BASE}/directory/cancel" hx-post="${CONSOLE_BASE}/directory/cancel" hx-target="#result">${csrfField(v)}<input type="hidden" name="id" value="${id}"><button type="submit">Cancel</button></form>
</div></section>`;
}

function field(request: FastifyRequest, name: string): string {
  const b = (request.body ?? {}) as Record<string, unknown>;
  return typeof b[name] === 'string' ? (b[name] as string) : '';
}

function auditFilters(q: Record<string, string | undefined>): { kinds: AuditKind[]; phone?: string; user?: string; since?: number; until?: number } {
  const kind = q['kind'] ?? '';
  const known: readonly string[] = AUDIT_KINDS;
  if (kind !== '' && !known.includes(kind)) throw new HotdeskError('bad-request', 'unknown event kind');
  const phoneRaw = (q['phone'] ?? '').trim();
  const phone = phoneRaw === '' ? undefined : (normalizeMac(phoneRaw) ?? undefined);
  if (phoneRaw !== '' && phone === undefined) throw new HotdeskError('bad-request', 'the phone filter is not a MAC address');
  const user = (q['user'] ?? '').trim();
  const time = (k: string): number | undefined => {
    const s = (q[k] ?? '').trim();
    if (s === '') return undefined;
    const t = Date.parse(s);
    if (Number.isNaN(t)) throw new HotdeskError('bad-request', `"${k}" is not a date and time`);
    return t;
  };
  const since = time('from');
  const until = time('to');
  return {
    kinds: kind ? [kind as AuditKind] : [],
    ...(phone ? { phone } : {}),
    ...(user ? { user } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
  };
}

/** Directory and Audit. */
export function directoryPages(ctx: ConsoleContext): HttpPlugin {
  return async (app) => {
    const pending = new PendingImports();
    const site = async (): Promise<string> => (await ctx.store.getSite()).name;
    const result = async (request: FastifyRequest, body: SafeHtml) => {
      const v = viewerOf(request);
      return isHtmx(request)
        ? body
        : page({
            title: 'Directory',
            nav: 'directory',
            viewer: v,
            site: await site(),
            body: html`<h1>Directory</h1><div id="result">${body}</div>${uploadForm(v)}${downloads(v)}`,
          });
    };

    app.get(`${CONSOLE_BASE}/directory`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      return sendHtml(
        reply,
        page({
          title: 'Directory',
          nav: 'directory',
          viewer: v,
          site: await site(),
          body: html`<h1>Directory</h1><div id="result" aria-live="polite"></div>${uploadForm(v)}${downloads(v)}`,
        }),
      );
    });
    app.get(`${CONSOLE_BASE}/directory/export`, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .header('Cache-Control', 'no-store')
        .header('Content-Disposition', 'attachment; filename="directory.yaml"')
        .type('text/yaml; charset=utf-8')
        .send(await exportDirectory(ctx.store, { withSecrets: false })),
    );
    app.post(`${CONSOLE_BASE}/directory/export-secrets`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      requireRole(v.role, 'secrets');
      if (field(request, 'confirm') !== 'yes') throw new HotdeskError('bad-request', 'tick the box to confirm you want the secrets');
      ctx.log.warn('console directory export with secrets', { account: v.name });
      return reply
        .header('Cache-Control', 'no-store')
        .header('Content-Disposition', 'attachment; filename="directory-with-secrets.yaml"')
        .type('text/yaml; charset=utf-8')
        .send(await exportDirectory(ctx.store, { withSecrets: true }));
    });
    app.post(`${CONSOLE_BASE}/directory/preview`, { schema: { hide: true }, bodyLimit: MAX_DIRECTORY * 2 }, async (request, reply) => {
      const v = viewerOf(request);
      requireRole(v.role, 'import');
      const text = field(request, 'text');
      const file = (field(request, 'file').trim() || 'directory.yaml').replace(/[^\w.@+-]/g, '_').slice(0, 200);
      if (text.trim() === '') throw new HotdeskError('bad-request', 'choose a file or paste the directory first');
      if (Buffer.byteLength(text) > MAX_DIRECTORY) throw new HotdeskError('too-large', 'the directory is larger than 1 MiB');
      let preview: DirectoryPreview;
      let fingerprint: string;
      try {
        // The preview and the fingerprint of what it was computed on, in one transaction.
        [preview, fingerprint] = await ctx.store.transaction(async () => {
          const pv = await previewDirectory(ctx.store, text, file, ctx.clock());
          return [pv, await directoryFingerprint(ctx.store)] as const;
        });
      } catch (e) {
        const problems = directoryProblems(e, text, file);
        if (!problems) throw e;
        return sendHtml(reply, await result(request, problemsView(problems)), isHtmx(request) ? 200 : 422);
      }
      const id = pending.put({ text, file, owner: v.key, fingerprint, at: ctx.clock() });
      return sendHtml(reply, await result(request, previewView(v, id, file, preview)));
    });
    app.post(`${CONSOLE_BASE}/directory/apply`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      requireRole(v.role, 'import');
      const p = pending.take(field(request, 'id'), v.key, ctx.clock());
      if (!p) throw new HotdeskError('not-found', 'this preview expired or was already used: check the file again');
      // The check and the import in one transaction: no change slips in between them.
      const r = await ctx.store.transaction(async () => {
        if ((await directoryFingerprint(ctx.store)) !== p.fingerprint)
          throw new HotdeskError('conflict', 'the directory changed since this preview: check the file again');
        return importDirectory(ctx.store, parseDirectory(p.text, p.file), ctx.clock());
      });
      ctx.onCommitted?.();
      ctx.log.info('console directory import', {
        account: v.name,
        file: p.file,
        usersAdded: r.usersAdded,
        phonesAdded: r.phonesAdded,
        sessionsEnded: r.sessionsEnded,
      });
      return sendHtml(
        reply,
        await result(
          request,
          okNotice(
            html`<strong>Imported ${p.file}.</strong> Users: ${r.usersAdded} added, ${r.usersUpdated} kept or updated, ${r.usersRemoved} removed. Phones: ${r.phonesAdded} added, ${r.phonesUpdated} kept or updated, ${r.phonesRemoved} removed. Sessions ended: ${r.sessionsEnded}. Phones re-provisioned: ${r.reprovisioned.length}.`,
          ),
        ),
      );
    });
    app.post(`${CONSOLE_BASE}/directory/cancel`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      pending.take(field(request, 'id'), v.key, ctx.clock());
      return sendHtml(reply, await result(request, okNotice('Import cancelled: nothing was applied.')));
    });

    app.get(`${CONSOLE_BASE}/audit`, { schema: { hide: true } }, async (request, reply) => {
      const v = viewerOf(request);
      const q = request.query as Record<string, string | undefined>;
      let body: SafeHtml;
      try {
        const f = auditFilters(q);
        const events = (
          await ctx.store.queryAudit({
            limit: 500,
            kinds: f.kinds,
            ...(f.phone ? { phone: f.phone } : {}),
            ...(f.user ? { user: f.user } : {}),
            ...(f.since !== undefined ? { since: f.since } : {}),
          })
        ).filter((e) => f.until === undefined || e.at <= f.until);
        body = auditTable(events, (await ctx.store.getSite()).timezone);
      } catch (e) {
        if (!(e instanceof HotdeskError)) throw e;
        body = errorNotice(e);
      }
      const qs = new URLSearchParams(Object.entries(q).filter((x): x is [string, string] => typeof x[1] === 'string' && x[1] !== '')).toString();
      const val = (k: string): string => q[k] ?? '';
      return sendHtml(
        reply,
        page({
          title: 'Audit',
          nav: 'audit',
          viewer: v,
          site: await site(),
          body: html`<h1>Audit</h1>
<form class="toolbar" method="get" action="${CONSOLE_BASE}/audit" role="search">
<div><label for="f-kind">Kind</label><select id="f-kind" name="kind"><option value="">any</option>${AUDIT_KINDS.map((k) => html`<option${k === val('kind') ? html` selected` : ''}>${k}</option>`)}</select></div>
<div><label for="f-phone">Phone (MAC)</label><input id="f-phone" name="phone" value="${val('phone')}" size="17"></div>
<div><label for="f-user">User (short number)</label><input id="f-user" name="user" value="${val('user')}" size="8"></div>
<div><label for="f-from">From</label><input id="f-from" name="from" type="datetime-local" value="${val('from')}"></div>
<div><label for="f-to">To</label><input id="f-to" name="to" type="datetime-local" value="${val('to')}"></div>
<div><button class="primary" type="submit">Filter</button></div>
<div><a class="button" href="${CONSOLE_BASE}/audit.csv${qs ? `?${qs}` : ''}">Export CSV</a></div>
</form>${body}`,
        }),
      );
    });
    app.get(`${CONSOLE_BASE}/audit.csv`, { schema: { hide: true } }, async (request, reply) => {
      const f = auditFilters(request.query as Record<string, string | undefined>);
      const events = (
        await ctx.store.queryAudit({
          limit: 10_000,
          kinds: f.kinds,
          ...(f.phone ? { phone: f.phone } : {}),
          ...(f.user ? { user: f.user } : {}),
          ...(f.since !== undefined ? { since: f.since } : {}),
        })
      ).filter((e) => f.until === undefined || e.at <= f.until);
      return reply
        .header('Cache-Control', 'no-store')
        .header('Content-Disposition', 'attachment; filename="hotdesk-audit.csv"')
        .type('text/csv; charset=utf-8')
        .send(auditCsv(events));
    });
  };
}
