/**
 * The hot-desk line of each phone in PostgreSQL (the StoreData line methods of the PostgreSQL
 * backend): the same reads as SQLite's hotdesk-line-queries.ts, and the same rows and registration
 * bookkeeping, shared with it in line-rows.ts (passwords sealed with the data key, a change between
 * registered and not audited as `line-registered` / `line-unregistered`, refreshes not). Lines are created and removed with their
 * phone by the directory queries.
 */
import { HotdeskError } from '../../core/errors.js';
import { normalizeMac } from '../../core/model.js';
import { LINE_COLUMNS, type LineRow, lineEntryOf, lineOf, lineRegistrationStep, registrationOf, registrationValues } from '../line-rows.js';
import type { HotdeskLine, LineRegistration, LineRegistrationChange, LineRegistrationEntry } from '../store-types.js';
import { appendAudit } from './pg-audit-queries.js';
import type { PgDb } from './pg-db.js';

/** The line of phone `mac` (any notation), password decrypted; undefined when it has none. */
export async function getHotdeskLine(db: PgDb, key: Buffer, mac: string): Promise<HotdeskLine | undefined> {
  const m = normalizeMac(mac);
  if (m === null) return undefined;
  const r = await db.one<LineRow>(`SELECT ${LINE_COLUMNS} FROM hotdesk_lines WHERE mac = $1`, [m]);
  return r ? lineOf(key, r) : undefined;
}

/** The line whose SIP user name is `username` (the registrar's digest lookup), password decrypted. */
export async function findHotdeskLine(db: PgDb, key: Buffer, username: string): Promise<HotdeskLine | undefined> {
  const r = await db.one<LineRow>(`SELECT ${LINE_COLUMNS} FROM hotdesk_lines WHERE username = $1`, [username]);
  return r ? lineOf(key, r) : undefined;
}

/** Every line with its registration (no password), by MAC. */
export async function listLineRegistrations(db: PgDb): Promise<LineRegistrationEntry[]> {
  return (await db.query<LineRow>(`SELECT ${LINE_COLUMNS} FROM hotdesk_lines ORDER BY mac`)).map(lineEntryOf);
}

/**
 * Replaces the binding of phone `mac`'s line (null removes it), in one transaction, and audits a
 * change between registered and not; a binding that lapsed (`expiresAt` at or before `now`) counts as
 * not registered (line-rows.ts). `changed` hears the MAC of such a change. Throws `unknown-phone` when
 * the phone has no line.
 */
export async function setLineRegistration(
  db: PgDb,
  mac: string,
  reg: LineRegistration | null,
  now: number,
  changed: (mac: string) => void,
): Promise<LineRegistrationChange> {
  const m = normalizeMac(mac) ?? '';
  return db.transaction(async () => {
    const r = await db.one<LineRow>(`SELECT ${LINE_COLUMNS} FROM hotdesk_lines WHERE mac = $1 FOR UPDATE`, [m]);
    if (!r) throw new HotdeskError('unknown-phone', 'this phone has no hot-desk line', { phone: m });
    const step = lineRegistrationStep(m, registrationOf(r), reg, now);
    if (step.change === 'unchanged') return step.change;
    await db.run(
      `UPDATE hotdesk_lines SET contact = $1, address = $2, port = $3, transport = $4, user_agent = $5, call_id = $6, cseq = $7,
              registered_at = $8, expires_at = $9 WHERE mac = $10`,
      [...registrationValues(reg), m],
    );
    if (step.audit) {
      await appendAudit(db, step.audit);
      changed(m);
    }
    return step.change;
  });
}
