/**
 * Console accounts and their sessions in PostgreSQL (the StoreData console methods of the PostgreSQL
 * backend), the same as SQLite's admin-queries.ts (whose rows, mappers and name check it uses): only password hashes are stored, sessions by the
 * SHA-256 of their cookie value; removing an account ends its sessions.
 */
import {
  type AdminAccount,
  type AdminRole,
  type AdminRow,
  type AdminSessionRow,
  adminFromRow,
  adminNameTaken,
  type ConsoleSessionRow,
  checkAdminName,
  consoleSessionFromRow,
} from '../admin-queries.js';
import type { PgDb } from './pg-db.js';

/** Adds an account; `bad-request` for a bad name, `conflict` when the name is taken. */
export async function addAdmin(db: PgDb, a: { name: string; role: AdminRole; passwordHash: string }, now: number): Promise<void> {
  checkAdminName(a.name);
  const n = await db.run('INSERT INTO admins (name, role, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING', [
    a.name,
    a.role,
    a.passwordHash,
    now,
    now,
  ]);
  if (n === 0) throw adminNameTaken(a.name);
}

/** The account with this name. */
export async function getAdmin(db: PgDb, name: string): Promise<AdminAccount | undefined> {
  const r = await db.one<AdminRow>('SELECT * FROM admins WHERE name = $1', [name]);
  return r ? adminFromRow(r) : undefined;
}

/** Every account, by name. */
export async function listAdmins(db: PgDb): Promise<AdminAccount[]> {
  return (await db.query<AdminRow>('SELECT * FROM admins ORDER BY name COLLATE "C"')).map(adminFromRow);
}

/** Number of accounts. */
export async function countAdmins(db: PgDb): Promise<number> {
  return (await db.one<{ n: number }>('SELECT count(*) AS n FROM admins'))?.n ?? 0;
}

/** Removes an account and ends its sessions; false when there was none. */
export function removeAdmin(db: PgDb, name: string): Promise<boolean> {
  return db.transaction(async () => {
    await db.run('DELETE FROM console_sessions WHERE admin_name = $1', [name]);
    return (await db.run('DELETE FROM admins WHERE name = $1', [name])) > 0;
  });
}

/** Stores a session (its key is the SHA-256 of the cookie value). */
export async function createConsoleSession(db: PgDb, s: { key: string; admin: string; csrfToken: string; now: number; source: string }): Promise<void> {
  await db.run('INSERT INTO console_sessions (id_hash, admin_name, csrf_token, created_at, last_seen_at, source) VALUES ($1, $2, $3, $4, $5, $6)', [
    s.key,
    s.admin,
    s.csrfToken,
    s.now,
    s.now,
    s.source,
  ]);
}

/** The session with this key and its account's current role. */
export async function getConsoleSession(db: PgDb, key: string): Promise<ConsoleSessionRow | undefined> {
  const r = await db.one<AdminSessionRow>('SELECT s.*, a.role AS role FROM console_sessions s JOIN admins a ON a.name = s.admin_name WHERE s.id_hash = $1', [
    key,
  ]);
  return r ? consoleSessionFromRow(r) : undefined;
}

/** Records use of a session (idle timeout restarts). */
export async function touchConsoleSession(db: PgDb, key: string, now: number): Promise<void> {
  await db.run('UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2', [now, key]);
}

/** Ends one session; false when it did not exist. */
export async function deleteConsoleSession(db: PgDb, key: string): Promise<boolean> {
  return (await db.run('DELETE FROM console_sessions WHERE id_hash = $1', [key])) > 0;
}

/** Ends every session of an account; returns how many. */
export function deleteConsoleSessionsOf(db: PgDb, admin: string): Promise<number> {
  return db.run('DELETE FROM console_sessions WHERE admin_name = $1', [admin]);
}

/** Deletes sessions created before `createdBefore` or unused since `seenBefore`. */
export function pruneConsoleSessions(db: PgDb, createdBefore: number, seenBefore: number): Promise<number> {
  return db.run('DELETE FROM console_sessions WHERE created_at < $1 OR last_seen_at < $2', [createdBefore, seenBefore]);
}
