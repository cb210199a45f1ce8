/**
 * Audit events as a table (audit page, phone detail) and as CSV.
 * Events never hold a secret (core/model.ts), so both roles see them whole.
 */
import type { StoredAuditEvent } from '../api/event-stream.js';
import { html, type SafeHtml } from './html.js';
import { CONSOLE_BASE, macText, when } from './layout.js';

function detailText(d: StoredAuditEvent['detail']): string {
  if (!d) return '';
  return Object.entries(d)
    .map(([k, v]) => `${k}=${v === null ? '' : String(v)}`)
    .join(' ');
}

/** A table of events, newest first; with an Agent column when the events name their agent (a shared PostgreSQL store). */
export function auditTable(events: readonly StoredAuditEvent[], timeZone?: string): SafeHtml {
  if (events.length === 0) return html`<p class="muted">No events.</p>`;
  const agents = events.some((e) => e.agent !== undefined);
  return html`<div class="table-wrap"><table class="audit"><thead><tr><th scope="col">Time</th>${agents ? html`<th scope="col">Agent</th>` : ''}<th scope="col">Kind</th><th scope="col">Phone</th><th scope="col">User</th><th scope="col">Detail</th></tr></thead><tbody>
${[...events]
  .sort((a, b) => b.id - a.id)
  .map(
    (e) =>
      html`<tr><td data-key="${e.at}">${when(e.at, timeZone)}</td>${agents ? html`<td>${e.agent ?? ''}</td>` : ''}<td>${e.kind}</td><td class="mono">${e.phone ? html`<a href="${CONSOLE_BASE}/phones/${e.phone}">${macText(e.phone)}</a>` : ''}</td><td>${e.user ?? ''}</td><td class="mono">${detailText(e.detail)}</td></tr>`,
  )}
</tbody></table></div>`;
}

function csvField(v: string): string {
  // Spreadsheet formula injection: a leading = + - @ is neutralised with a quote.
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Events as CSV (RFC 4180): id, time (ISO 8601), kind, phone, user, detail as JSON, and agent when the events name one. */
export function auditCsv(events: readonly StoredAuditEvent[]): string {
  const agents = events.some((e) => e.agent !== undefined);
  const lines = [agents ? 'id,time,kind,phone,user,detail,agent' : 'id,time,kind,phone,user,detail'];
  for (const e of events) {
    const fields = [String(e.id), new Date(e.at).toISOString(), e.kind, e.phone ?? '', e.user ?? '', e.detail ? JSON.stringify(e.detail) : ''];
    if (agents) fields.push(e.agent ?? '');
    lines.push(fields.map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
