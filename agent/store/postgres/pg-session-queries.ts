/**
 * Hot-desk sessions and PIN failure records in PostgreSQL (the StoreData methods of the PostgreSQL
 * backend), the same as SQLite's session-queries.ts, lock-queries.ts and the lock look-ups of
 * store-base.ts. One `sessions` row per phone; `exclusive_user` carries the user's short number under
 * `multipleLogin` `move`/`refuse`, so the UNIQUE index allows one session per user. A violation throws
 * PostgreSQL's error unchanged (SQLSTATE 23505 in `code`: `isConflict` in store-api.ts).
 */
import type { LockCounter, Session } from '../../core/model.js';
import { normalizeMac } from '../../core/model.js';
import { type LockCounterRow, type LockScope, lockCounterOf } from '../lock-queries.js';
import type { LockSubject } from '../store-api.js';
import type { SessionRow } from '../store-rows.js';
import { SESSION_COLUMNS, sessionFromRow } from '../store-rows.js';
import type { PgDb } from './pg-db.js';

/** The session on a phone (any MAC notation), if any. */
export async function sessionOf(db: PgDb, mac: string): Promise<Session | undefined> {
  const r = await db.one<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE phone_mac = $1`, [normalizeMac(mac) ?? '']);
  return r ? sessionFromRow(r) : undefined;
}

/** Every session of a user, oldest first. */
export async function sessionsOfUser(db: PgDb, ext: string): Promise<Session[]> {
  return (await db.query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE user_ext = $1 ORDER BY started_at, phone_mac COLLATE "C"`, [ext])).map(
    sessionFromRow,
  );
}

/** Every session, oldest first. */
export async function listSessions(db: PgDb): Promise<Session[]> {
  return (await db.query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions ORDER BY started_at, phone_mac COLLATE "C"`)).map(sessionFromRow);
}

/**
 * Inserts a session. `exclusive` (multipleLogin `move`/`refuse`) sets `exclusive_user`, so the UNIQUE
 * index rejects a second session of the same user; the primary key rejects a second session on the phone.
 */
export async function startSession(db: PgDb, s: Session, exclusive: boolean): Promise<void> {
  await db.run('INSERT INTO sessions (phone_mac, user_ext, started_at, exclusive_user) VALUES ($1, $2, $3, $4)', [
    s.phoneMac,
    s.userExt,
    s.startedAt,
    exclusive ? s.userExt : null,
  ]);
}

/** Deletes the session of `s.userExt` on `s.phoneMac`; false when there was none. */
export async function endSession(db: PgDb, s: { phoneMac: string; userExt: string }): Promise<boolean> {
  return (await db.run('DELETE FROM sessions WHERE phone_mac = $1 AND user_ext = $2', [s.phoneMac, s.userExt])) === 1;
}

/** Sets `exclusive_user` on every session (true) or clears it (false). */
export async function setSessionsExclusive(db: PgDb, exclusive: boolean): Promise<void> {
  await db.run(exclusive ? 'UPDATE sessions SET exclusive_user = user_ext' : 'UPDATE sessions SET exclusive_user = NULL');
}

// --- PIN failure records ---

/** The failure record of a short number or phone ({@link EMPTY_LOCK} when none). */
export async function getLock(db: PgDb, scope: LockScope, subject: string): Promise<LockCounter> {
  const failures = (await db.query<{ at: number }>('SELECT at FROM pin_failures WHERE scope = $1 AND subject = $2 ORDER BY at', [scope, subject])).map(
    (r) => r.at,
  );
  return lockCounterOf(
    failures,
    await db.one<LockCounterRow>('SELECT lockouts, locked_until FROM lock_counters WHERE scope = $1 AND subject = $2', [scope, subject]),
  );
}

/** Replaces the failure record of a subject with `c` (its failure rows and its lock row; an empty counter leaves no row). */
export function setLock(db: PgDb, scope: LockScope, subject: string, c: LockCounter): Promise<void> {
  return db.transaction(async () => {
    await db.run('DELETE FROM pin_failures WHERE scope = $1 AND subject = $2', [scope, subject]);
    if (c.failures.length > 0) {
      await db.run('INSERT INTO pin_failures (scope, subject, at) SELECT $1, $2, unnest($3::bigint[])', [scope, subject, [...c.failures]]);
    }
    if (c.lockouts === 0 && c.lockedUntil === 0) {
      await db.run('DELETE FROM lock_counters WHERE scope = $1 AND subject = $2', [scope, subject]);
      return;
    }
    // `failures`/`window_start` are informational since the failure rows exist: count and oldest.
    await db.run(
      `INSERT INTO lock_counters (scope, subject, failures, window_start, lockouts, locked_until) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (scope, subject) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
           lockouts = excluded.lockouts, locked_until = excluded.locked_until`,
      [scope, subject, c.failures.length, c.failures[0] ?? 0, c.lockouts, c.lockedUntil],
    );
  });
}

/**
 * Deletes failures recorded at or before `failuresUpTo` and lock histories whose lock ended at or
 * before `locksUpTo`. Returns the rows deleted.
 */
export function pruneLocks(db: PgDb, failuresUpTo: number, locksUpTo: number): Promise<number> {
  return db.transaction(async () => {
    const f = await db.run('DELETE FROM pin_failures WHERE at <= $1', [failuresUpTo]);
    const l = await db.run('DELETE FROM lock_counters WHERE locked_until <= $1', [locksUpTo]);
    return f + l;
  });
}

/** Number of failure rows and lock rows (for tests and metrics). */
export async function lockRowCounts(db: PgDb): Promise<{ failures: number; locks: number }> {
  const r = await db.one<{ failures: number; locks: number }>(
    'SELECT (SELECT count(*) FROM pin_failures) AS failures, (SELECT count(*) FROM lock_counters) AS locks',
  );
  return { failures: r?.failures ?? 0, locks: r?.locks ?? 0 };
}

/** Subjects with a PIN failure on record or a lock ending after `now`, by scope then subject. */
export function lockSubjects(db: PgDb, now: number): Promise<LockSubject[]> {
  return db.query<LockSubject>(
    `SELECT scope, subject FROM (SELECT scope, subject FROM pin_failures UNION SELECT scope, subject FROM lock_counters WHERE locked_until > $1) s
       ORDER BY scope COLLATE "C", subject COLLATE "C"`,
    [now],
  );
}
