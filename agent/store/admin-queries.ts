/**
 * Console accounts and their sessions in SQLite (tables `admins` and
 * `console_sessions`, migration 6). Only password hashes are stored, and
 * sessions by the SHA-256 of their cookie value; removing an account ends
 * its sessions (foreign key, ON DELETE CASCADE).
 */
import type Database from 'better-sqlite3';
import { HotdeskError } from '../core/errors.js';

/** A console account's role (see shell/console/roles.ts). */
export type AdminRole = 'admin' | 'helpdesk';

/** A console account (never the password). */
export interface AdminAccount {
  readonly name: string;
  readonly role: AdminRole;
  readonly passwordHash: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A console session row. */
export interface ConsoleSessionRow {
  /** SHA-256 (hex) of the cookie value. */
  readonly key: string;
  readonly admin: string;
  readonly role: AdminRole;
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly source: string;
}

/** Account names: letters, digits, `.`, `_`, `-`, `@`; 1 to 64 characters. */
export const ADMIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** An `admins` row. */
export interface AdminRow {
  name: string;
  role: AdminRole;
  password_hash: string;
  created_at: number;
  updated_at: number;
}

/** A `console_sessions` row joined with its account's current `role`. */
export interface AdminSessionRow {
  id_hash: string;
  admin_name: string;
  role: AdminRole;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  source: string;
}

/** The account a row holds. */
export const adminFromRow = (r: AdminRow): AdminAccount => ({
  name: r.name,
  role: r.role,
  passwordHash: r.password_hash,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The console session a row holds. */
export const consoleSessionFromRow = (r: AdminSessionRow): ConsoleSessionRow => ({
  key: r.id_hash,
  admin: r.admin_name,
  role: r.role,
  csrfToken: r.csrf_token,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  source: r.source,
});

/** Throws `bad-request` unless `name` is a valid account name ({@link ADMIN_NAME}). */
export function checkAdminName(name: string): void {
  if (!ADMIN_NAME.test(name))
    throw new HotdeskError('bad-request', 'account names are 1-64 letters, digits, ".", "_", "-" or "@", starting with a letter or digit');
}

/** The `conflict` error of adding an account whose name is taken. */
export function adminNameTaken(name: string): HotdeskError {
  return new HotdeskError('conflict', `a console account named "${name}" exists already`, { name });
}

/** Console accounts and sessions over an open database (migrations applied). */
export class AdminStore {
  constructor(private readonly db: Database.Database) {}

  /** Adds an account; `bad-request` for a bad name, `conflict` when the name is taken. */
  addAdmin(a: { name: string; role: AdminRole; passwordHash: string }, now: number): void {
    checkAdminName(a.name);
    const r = this.db
      .prepare('INSERT INTO admins (name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING')
      .run(a.name, a.role, a.passwordHash, now, now);
    if (r.changes === 0) throw adminNameTaken(a.name);
  }

  getAdmin(name: string): AdminAccount | undefined {
    const r = this.db.prepare('SELECT * FROM admins WHERE name = ?').get(name) as AdminRow | undefined;
    return r ? adminFromRow(r) : undefined;
  }

  listAdmins(): AdminAccount[] {
    return (this.db.prepare('SELECT * FROM admins ORDER BY name').all() as AdminRow[]).map(adminFromRow);
  }

  /** Number of accounts. */
  countAdmins(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM admins').get() as { n: number }).n;
  }

  /** Removes an account and ends its sessions; false when there was none. */
  removeAdmin(name: string): boolean {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM console_sessions WHERE admin_name = ?').run(name);
      return this.db.prepare('DELETE FROM admins WHERE name = ?').run(name).changes > 0;
    })();
  }

  /** Stores a session (its key is the SHA-256 of the cookie value). */
  createSession(s: { key: string; admin: string; csrfToken: string; now: number; source: string }): void {
    this.db
      .prepare('INSERT INTO console_sessions (id_hash, admin_name, csrf_token, created_at, last_seen_at, source) VALUES (?, ?, ?, ?, ?, ?)')
      .run(s.key, s.admin, s.csrfToken, s.now, s.now, s.source);
  }

  /** The session with this key and its account's current role. */
  getSession(key: string): ConsoleSessionRow | undefined {
    const r = this.db.prepare('SELECT s.*, a.role AS role FROM console_sessions s JOIN admins a ON a.name = s.admin_name WHERE s.id_hash = ?').get(key) as
      | AdminSessionRow
      | undefined;
    return r ? consoleSessionFromRow(r) : undefined;
  }

  /** Records use of a session (idle timeout restarts). */
  touchSession(key: string, now: number): void {
    this.db.prepare('UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ?').run(now, key);
  }

  /** Ends one session; false when it did not exist. */
  deleteSession(key: string): boolean {
    return this.db.prepare('DELETE FROM console_sessions WHERE id_hash = ?').run(key).changes > 0;
  }

  /** Ends every session of an account; returns how many. */
  deleteSessionsOf(admin: string): number {
    return this.db.prepare('DELETE FROM console_sessions WHERE admin_name = ?').run(admin).changes;
  }

  /** Deletes sessions created before `createdBefore` or unused since `seenBefore`. */
  pruneSessions(createdBefore: number, seenBefore: number): number {
    return this.db.prepare('DELETE FROM console_sessions WHERE created_at < ? OR last_seen_at < ?').run(createdBefore, seenBefore).changes;
  }
}
