/**
 * The store's foundation (store.ts extends it): the database, its statement
 * caches, transactions with change notification, the in-memory state and
 * write-behind (store-memory.ts), the site settings and the users.
 */
import type Database from 'better-sqlite3';
import type { SiteSettings, User } from '../core/model.js';
import * as lines from './hotdesk-line-queries.js';
import { SiteRow } from './site-queries.js';
import { statementCache } from './statement-cache.js';
import { ChangeTracker } from './store-changes.js';
import { type DeferredWriteListener, StoreMemory } from './store-memory.js';
import type { SqlFn } from './store-rows.js';
import type { ChangeListener } from './store-types.js';
import { getUserRow, listUserRows, putUserRow, userPinOf, userRow, verifyUserPin } from './user-queries.js';
import type { WriteBehindOptions } from './write-behind.js';

/** The store's foundation; use {@link Store} (store.ts). */
export class StoreBase {
  /** Transactions and the change listeners (store-changes.ts). */
  protected readonly changes: ChangeTracker;
  /** A prepared statement for an SQL text, prepared once per store (statement-cache.ts; handed to the query helpers). */
  protected readonly sql: SqlFn;
  /** Statements for writes that name their phone (its snapshot row is forgotten by hand); they still flush the write-behind. */
  protected readonly keyedSql: SqlFn;
  /** The site settings row (site-queries.ts). */
  protected readonly site: SiteRow;
  /** Phone snapshot, site memo and write-behind (store-memory.ts). */
  protected readonly memory: StoreMemory;

  /**
   * @param db an open database with migrations applied
   * @param key the 32-byte data key
   * @param warnings start-up warnings for the operator (e.g. key permissions fixed)
   */
  constructor(
    readonly db: Database.Database,
    protected readonly key: Buffer,
    readonly warnings: readonly string[] = [],
  ) {
    this.changes = new ChangeTracker(db, () => this.memory.flush());
    this.sql = statementCache(db, (use) => this.memory.onStatement(use));
    this.keyedSql = statementCache(db, () => this.memory.flush());
    this.site = new SiteRow(this.sql, key);
    this.memory = new StoreMemory(db, key, statementCache(db), this.site, (fn) => this.changes.transaction(fn));
    this.site.ensure(Date.now());
    // Phones stored before the hot-desk line existed get theirs now (migration 7 made the table).
    if (lines.hotdeskLinesOutOfStep(this.sql)) this.transaction(() => lines.syncAllHotdeskLines(this.sql, key, Date.now()));
  }

  /** Writes what the write-behind holds, then closes the database. */
  close(): void {
    try {
      this.memory.close();
    } finally {
      this.db.close();
    }
  }

  // --- write-behind of served files (write-behind.ts) ---

  /** Turns on the write-behind of {@link recordServed} (the agent; `schedule` runs the flush a few ms later). */
  deferWrites(o: WriteBehindOptions): void {
    this.memory.defer(o);
  }

  /** Writes every waiting served-file record now. */
  flushWrites(): void {
    this.memory.flush();
  }

  /** Hears each write-behind commit with the phones whose sync it confirmed; returns an unsubscribe function. */
  onDeferredWrite(listener: DeferredWriteListener): () => void {
    return this.memory.onWritten(listener);
  }

  // --- transactions and change notification ---

  /**
   * Runs `fn` in one `BEGIN IMMEDIATE` transaction (nested calls become
   * savepoints). After the outermost commit, change listeners receive every
   * MAC whose revision was bumped inside; on a throw everything rolls back and
   * nobody is notified.
   */
  transaction<T>(fn: () => T): T {
    return this.changes.transaction(fn);
  }

  /** Opens an outermost transaction held across awaits (sqlite-store.ts; nested sync transactions become savepoints). */
  beginOuter(): void {
    this.changes.beginOuter();
  }

  /** Commits (listeners then hear) or rolls back what {@link beginOuter} opened. */
  endOuter(commit: boolean): void {
    this.changes.endOuter(commit);
  }

  /** Opens a savepoint in the transaction {@link beginOuter} opened; returns its undo for {@link rollBackSavepoint}. */
  savepoint(name: string): ReadonlySet<string> | null {
    this.db.exec(`SAVEPOINT ${name}`);
    return this.changes.notedSoFar();
  }

  /** Releases (`ok`) or rolls back and releases a savepoint; a rolled-back one's changes are not heard. */
  endSavepoint(name: string, ok: boolean, noted: ReadonlySet<string> | null): void {
    if (!ok) {
      this.db.exec(`ROLLBACK TO ${name}`);
      this.changes.rollBackTo(noted);
    }
    this.db.exec(`RELEASE ${name}`);
  }

  /** Registers a listener for re-provisioned MACs (in this process only); returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    return this.changes.onChange(listener);
  }

  // --- site ---

  /** The site settings with secrets (bootstrap password, API tokens) decrypted. */
  getSite(): SiteSettings {
    this.memory.fresh();
    return this.site.get(!this.db.inTransaction);
  }

  /** Replaces the site settings (secrets sealed). */
  putSite(site: SiteSettings, now: number): void {
    this.site.put(site, now);
  }

  // --- users ---

  /** The user with short number `ext` (SIP password decrypted: the renderer needs it). */
  getUser(ext: string): User | undefined {
    return getUserRow(this.sql, this.key, ext);
  }

  /** Every user, by short number. */
  listUsers(): User[] {
    return listUserRows(this.sql, this.key);
  }

  /** True when `ext` has a PIN (hot-desk login possible). */
  userHasPin(ext: string): boolean {
    return userRow(this.sql, ext)?.pin_hash != null;
  }

  /** The user's clear PIN (for one-touch keys and export with secrets); undefined when none. */
  userPin(ext: string): string | undefined {
    return userPinOf(this.sql, this.key, ext);
  }

  /** Checks `pin` against the user's keyed PIN hash (constant-time). False for an unknown user or no PIN. */
  verifyPin(ext: string, pin: string): boolean {
    return verifyUserPin(this.sql, this.key, ext, pin);
  }

  /**
   * Inserts or updates a user. `pin` null removes the PIN; an unchanged PIN
   * keeps its hash (no re-hash, so re-importing the same file is cheap).
   */
  putUser(user: User, pin: string | null, now: number): void {
    putUserRow(this.sql, this.key, user, pin, now);
  }

  /** Phones by sync state (`synced`, `pending`, `unreachable`). */
  syncStateCounts(): Record<string, number> {
    this.memory.flush();
    const out: Record<string, number> = {};
    for (const r of this.sql('SELECT sync_state AS state, count(*) AS n FROM phones GROUP BY sync_state').all() as { state: string; n: number }[])
      out[r.state] = r.n;
    return out;
  }

  /** Subjects with a PIN failure on record or a lock ending after `now`, by scope then subject. */
  lockSubjects(now: number): { scope: 'user' | 'phone'; subject: string }[] {
    return this.sql('SELECT DISTINCT scope, subject FROM pin_failures UNION SELECT scope, subject FROM lock_counters WHERE locked_until > ? ORDER BY 1, 2').all(
      now,
    ) as {
      scope: 'user' | 'phone';
      subject: string;
    }[];
  }

  /** Deletes a user (their sessions go with them: end them first to audit and re-provision). */
  deleteUser(ext: string): void {
    this.sql('DELETE FROM users WHERE ext = ?').run(ext);
  }
}
