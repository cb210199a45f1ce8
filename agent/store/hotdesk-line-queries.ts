/**
 * The hot-desk line of each phone in SQLite (used by Store): one extra SIP
 * account per hot-desk phone, registered to the agent (docs/voice.md).
 *
 * A hot-desk phone gets its line when it is added, enrolled or turned hot-desk
 * (and existing phones when the store opens after the upgrade that brought
 * the table); it keeps the same username and password across re-imports; the
 * row goes when the phone goes (foreign key, ON DELETE CASCADE) or stops being
 * a hot-desk phone. The password is random, sealed with the data key
 * (secret-box.ts), and drawn from letters and digits only, so it needs no
 * escaping in any vendor file.
 *
 * The registration columns hold the binding the agent keeps as the line's
 * registrar (RFC 3261 §10.3). A change between registered and not is audited
 * (`line-registered`, `line-unregistered`); refreshes are not.
 */
import { randomBytes } from 'node:crypto';
import { HotdeskError } from '../core/errors.js';
import type { AuditEvent } from '../core/model.js';
import { normalizeMac } from '../core/model.js';
import { LINE_COLUMNS, type LineRow, lineEntryOf, lineOf, lineRegistrationStep, registrationOf, registrationValues } from './line-rows.js';
import { seal } from './secret-box.js';
import type { SqlFn } from './store-rows.js';
import type { HotdeskLine, LineRegistration, LineRegistrationChange, LineRegistrationEntry } from './store-types.js';

/** Characters of a line password: safe unescaped in Yealink `key = value`, Snom and Poly XML, and SIP digest. */
export const LINE_PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Length of a line password (about 143 bits). */
export const LINE_PASSWORD_LENGTH = 24;

/** A fresh random line password: {@link LINE_PASSWORD_LENGTH} characters of {@link LINE_PASSWORD_ALPHABET}, uniformly drawn. */
export function newLinePassword(): string {
  const n = LINE_PASSWORD_ALPHABET.length;
  const limit = 256 - (256 % n); // reject bytes that would favour the first characters
  let out = '';
  while (out.length < LINE_PASSWORD_LENGTH) {
    for (const b of randomBytes(LINE_PASSWORD_LENGTH * 2)) {
      if (b < limit && out.length < LINE_PASSWORD_LENGTH) out += LINE_PASSWORD_ALPHABET[b % n];
    }
  }
  return out;
}

/** The SIP user name of a phone's hot-desk line: `hd-` and the MAC. */
export function lineUsername(mac: string): string {
  return `hd-${mac}`;
}

/**
 * Gives phone `mac` its hot-desk line when `hotdesk` (kept when it exists),
 * removes it otherwise. Run inside the transaction that writes the phone.
 */
export function syncHotdeskLineRow(sql: SqlFn, key: Buffer, mac: string, hotdesk: boolean, now: number): void {
  if (!hotdesk) {
    sql('DELETE FROM hotdesk_lines WHERE mac = ?').run(mac);
    return;
  }
  sql('INSERT INTO hotdesk_lines (mac, username, password_enc, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (mac) DO NOTHING').run(
    mac,
    lineUsername(mac),
    seal(key, newLinePassword()),
    now,
  );
}

/** True when some hot-desk phone lacks its line or a phone that is not hot-desk still has one. */
export function hotdeskLinesOutOfStep(sql: SqlFn): boolean {
  return (
    sql(
      `SELECT 1 FROM phones p LEFT JOIN hotdesk_lines l ON l.mac = p.mac
         WHERE (p.hotdesk = 1 AND l.mac IS NULL) OR (p.hotdesk = 0 AND l.mac IS NOT NULL) LIMIT 1`,
    ).get() !== undefined
  );
}

/** Brings every phone's line in step with its `hotdesk` flag (after the upgrade that added the table). */
export function syncAllHotdeskLines(sql: SqlFn, key: Buffer, now: number): void {
  const phones = sql('SELECT mac, hotdesk FROM phones').all() as { mac: string; hotdesk: number }[];
  for (const p of phones) syncHotdeskLineRow(sql, key, p.mac, p.hotdesk === 1, now);
}

/** The line of phone `mac` (any notation), password decrypted. */
export function hotdeskLineRow(sql: SqlFn, key: Buffer, mac: string): HotdeskLine | undefined {
  const m = normalizeMac(mac);
  const r = m === null ? undefined : (sql(`SELECT ${LINE_COLUMNS} FROM hotdesk_lines WHERE mac = ?`).get(m) as LineRow | undefined);
  return r ? lineOf(key, r) : undefined;
}

/** The line whose SIP user name is `username`, password decrypted. */
export function hotdeskLineByUsername(sql: SqlFn, key: Buffer, username: string): HotdeskLine | undefined {
  const r = sql(`SELECT ${LINE_COLUMNS} FROM hotdesk_lines WHERE username = ?`).get(username) as LineRow | undefined;
  return r ? lineOf(key, r) : undefined;
}

/** Every line with its registration (no password), by MAC. */
export function lineRegistrationRows(sql: SqlFn): LineRegistrationEntry[] {
  return (sql(`SELECT ${LINE_COLUMNS} FROM hotdesk_lines ORDER BY mac`).all() as LineRow[]).map(lineEntryOf);
}

/**
 * Replaces the binding of phone `mac`'s line (null removes it) and audits a
 * change between registered and not; a binding that lapsed (`expiresAt` at or
 * before `now`) counts as not registered (line-rows.ts). `hooks.audit` appends the audit
 * event, `hooks.changed` hears the MAC of such a change. Throws `unknown-phone` when the phone has no line. Run inside a transaction.
 */
export function setLineRegistrationRow(
  sql: SqlFn,
  mac: string,
  reg: LineRegistration | null,
  now: number,
  hooks: { readonly audit: (e: AuditEvent) => unknown; readonly changed: (mac: string) => void },
): LineRegistrationChange {
  const m = normalizeMac(mac) ?? '';
  const r = sql(`SELECT ${LINE_COLUMNS} FROM hotdesk_lines WHERE mac = ?`).get(m) as LineRow | undefined;
  if (!r) throw new HotdeskError('unknown-phone', 'this phone has no hot-desk line', { phone: m });
  const step = lineRegistrationStep(m, registrationOf(r), reg, now);
  if (step.change === 'unchanged') return step.change;
  sql(
    `UPDATE hotdesk_lines SET contact = ?, address = ?, port = ?, transport = ?, user_agent = ?, call_id = ?, cseq = ?,
           registered_at = ?, expires_at = ? WHERE mac = ?`,
  ).run(...registrationValues(reg), m);
  if (step.audit) {
    hooks.audit(step.audit);
    hooks.changed(m);
  }
  return step.change;
}
