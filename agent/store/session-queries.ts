/**
 * Hot-desk sessions in SQLite (used by Store): one `sessions` row per phone
 * a user is logged in on. `exclusive_user` carries the user's short number
 * under `multipleLogin` `move`/`refuse`, so the schema's UNIQUE index allows
 * one session per user; the primary key allows one session per phone.
 */
import type { Session } from '../core/model.js';
import { normalizeMac } from '../core/model.js';
import type { SessionRow, SqlFn } from './store-rows.js';
import { SESSION_COLUMNS, sessionFromRow } from './store-rows.js';

/** The session on a phone (any MAC notation), if any. */
export function sessionRowOf(sql: SqlFn, mac: string): Session | undefined {
  const r = sql(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE phone_mac = ?`).get(normalizeMac(mac) ?? '') as SessionRow | undefined;
  return r ? sessionFromRow(r) : undefined;
}

/** Every session of a user, oldest first. */
export function sessionRowsOfUser(sql: SqlFn, ext: string): Session[] {
  return (sql(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE user_ext = ? ORDER BY started_at, phone_mac`).all(ext) as SessionRow[]).map(sessionFromRow);
}

/** Every session, oldest first. */
export function listSessionRows(sql: SqlFn): Session[] {
  return (sql(`SELECT ${SESSION_COLUMNS} FROM sessions ORDER BY started_at, phone_mac`).all() as SessionRow[]).map(sessionFromRow);
}

/**
 * Inserts a session. `exclusive` (multipleLogin `move`/`refuse`) sets
 * `exclusive_user`, so the schema's UNIQUE index rejects a second session of
 * the same user; the primary key rejects a second session on the phone.
 * Throws the SQLite constraint error on a violation.
 */
export function insertSessionRow(sql: SqlFn, s: Session, exclusive: boolean): void {
  sql('INSERT INTO sessions (phone_mac, user_ext, started_at, exclusive_user) VALUES (?, ?, ?, ?)').run(
    s.phoneMac,
    s.userExt,
    s.startedAt,
    exclusive ? s.userExt : null,
  );
}

/** Deletes the session of `s.userExt` on `s.phoneMac`; false when there was none. */
export function deleteSessionRow(sql: SqlFn, s: { phoneMac: string; userExt: string }): boolean {
  return sql('DELETE FROM sessions WHERE phone_mac = ? AND user_ext = ?').run(s.phoneMac, s.userExt).changes === 1;
}

/** Sets `exclusive_user` on every session (true) or clears it (false). */
export function setSessionsExclusiveRows(sql: SqlFn, exclusive: boolean): void {
  sql(exclusive ? 'UPDATE sessions SET exclusive_user = user_ext' : 'UPDATE sessions SET exclusive_user = NULL').run();
}
