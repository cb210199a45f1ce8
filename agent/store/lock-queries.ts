/**
 * PIN failure records in SQLite (used by Store): one `pin_failures` row per
 * recorded failure `(scope, subject, at)` and one `lock_counters` row per
 * subject with a lock history (`lockouts`, `locked_until`). The subject is a
 * short number (scope `user`, whether or not a user has it) or a phone MAC.
 *
 * The rows stay bounded: a counter keeps at most `maxAttempts` failures (the
 * guard drops older ones), {@link pruneLockRows} deletes failures outside the
 * window and lock histories older than the lockout memory, and failures are
 * only recorded for attempts the per-phone limit let through.
 */
import type { LockCounter } from '../core/model.js';
import { EMPTY_LOCK } from '../core/model.js';
import type { SqlFn } from './store-rows.js';

/** Scope of a failure record. */
export type LockScope = 'user' | 'phone';

/** The `lock_counters` columns a failure record is read from. */
export interface LockCounterRow {
  lockouts: number;
  locked_until: number;
}

/** The failure record of a subject's failure times (oldest first) and lock row ({@link EMPTY_LOCK} when neither). */
export function lockCounterOf(failures: number[], r: LockCounterRow | undefined): LockCounter {
  if (!r && failures.length === 0) return EMPTY_LOCK;
  return { failures, lockouts: r?.lockouts ?? 0, lockedUntil: r?.locked_until ?? 0 };
}

/** The failure record of a short number or phone ({@link EMPTY_LOCK} when none). */
export function getLockRow(sql: SqlFn, scope: LockScope, subject: string): LockCounter {
  const failures = (sql('SELECT at FROM pin_failures WHERE scope = ? AND subject = ? ORDER BY at').all(scope, subject) as { at: number }[]).map((r) => r.at);
  return lockCounterOf(
    failures,
    sql('SELECT lockouts, locked_until FROM lock_counters WHERE scope = ? AND subject = ?').get(scope, subject) as LockCounterRow | undefined,
  );
}

/**
 * Replaces the failure record of a subject with `c` (its failure rows and its
 * lock row; an empty counter leaves no row behind).
 */
export function setLockRow(sql: SqlFn, scope: LockScope, subject: string, c: LockCounter): void {
  sql('DELETE FROM pin_failures WHERE scope = ? AND subject = ?').run(scope, subject);
  const insert = sql('INSERT INTO pin_failures (scope, subject, at) VALUES (?, ?, ?)');
  for (const at of c.failures) insert.run(scope, subject, at);
  if (c.lockouts === 0 && c.lockedUntil === 0) {
    sql('DELETE FROM lock_counters WHERE scope = ? AND subject = ?').run(scope, subject);
    return;
  }
  // `failures`/`window_start` are informational since the failure rows exist: count and oldest.
  sql(
    `INSERT INTO lock_counters (scope, subject, failures, window_start, lockouts, locked_until) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (scope, subject) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
           lockouts = excluded.lockouts, locked_until = excluded.locked_until`,
  ).run(scope, subject, c.failures.length, c.failures[0] ?? 0, c.lockouts, c.lockedUntil);
}

/**
 * Deletes failures recorded at or before `failuresUpTo` (outside the window:
 * they no longer count) and lock histories whose lock ended at or before
 * `locksUpTo` (the guard has forgotten them). Returns the rows deleted.
 */
export function pruneLockRows(sql: SqlFn, failuresUpTo: number, locksUpTo: number): number {
  const f = sql('DELETE FROM pin_failures WHERE at <= ?').run(failuresUpTo).changes;
  const l = sql('DELETE FROM lock_counters WHERE locked_until <= ?').run(locksUpTo).changes;
  return f + l;
}

/** Number of failure rows and lock rows (for tests and metrics). */
export function lockRowCounts(sql: SqlFn): { failures: number; locks: number } {
  const f = sql('SELECT COUNT(*) AS n FROM pin_failures').get() as { n: number };
  const l = sql('SELECT COUNT(*) AS n FROM lock_counters').get() as { n: number };
  return { failures: f.n, locks: l.n };
}
