/**
 * Store transactions and change notification (used by Store): `BEGIN
 * IMMEDIATE` transactions (nested calls become savepoints) and the listeners
 * that hear, after the outermost commit, which phones need a re-sync.
 */
import type Database from 'better-sqlite3';
import type { ChangeListener } from './store-types.js';

/** Runs transactions on one database and collects the MACs they re-provision. */
export class ChangeTracker {
  private readonly listeners = new Set<ChangeListener>();
  private depth = 0;
  private pending: Set<string> | null = null;

  /**
   * @param db the database
   * @param beforeOuter runs before each outermost transaction begins (the store flushes its write-behind)
   */
  constructor(
    private readonly db: Database.Database,
    private readonly beforeOuter: () => void = () => {},
  ) {}

  /**
   * Runs `fn` in one `BEGIN IMMEDIATE` transaction (nested calls become
   * savepoints). After the outermost commit, listeners receive every MAC
   * noted inside; on a throw everything rolls back and nobody is notified.
   */
  transaction<T>(fn: () => T): T {
    const outer = this.depth === 0;
    if (outer) {
      this.beforeOuter();
      this.pending = new Set();
    }
    this.depth++;
    const before = outer ? null : this.notedSoFar();
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (e) {
      // Rolled back: nothing changed, nobody hears about it, and later changes are not held back.
      if (outer) this.pending = null;
      else this.rollBackTo(before);
      throw e;
    } finally {
      this.depth--;
    }
    if (outer) {
      const macs = [...(this.pending ?? [])];
      this.pending = null;
      if (macs.length > 0) this.emit(macs);
    }
    return result;
  }

  /**
   * Opens an outermost `BEGIN IMMEDIATE` transaction held across awaits (sqlite-store.ts); close it
   * with {@link endOuter}. Synchronous transactions inside it become savepoints.
   */
  beginOuter(): void {
    if (this.depth !== 0) throw new Error('beginOuter inside a transaction');
    this.beforeOuter();
    this.db.exec('BEGIN IMMEDIATE');
    this.pending = new Set();
    this.depth = 1;
  }

  /** Commits (then listeners hear the noted MACs) or rolls back the transaction {@link beginOuter} opened. */
  endOuter(commit: boolean): void {
    this.depth = 0;
    const macs = [...(this.pending ?? [])];
    this.pending = null;
    if (!commit) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      return;
    }
    try {
      this.db.exec('COMMIT');
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
    if (macs.length > 0) this.emit(macs);
  }

  /** The MACs noted so far in the open transaction (to forget a rolled-back savepoint's with {@link rollBackTo}). */
  notedSoFar(): ReadonlySet<string> | null {
    return this.pending === null ? null : new Set(this.pending);
  }

  /** A savepoint rolled back: only what was noted before it is still heard at the commit. */
  rollBackTo(noted: ReadonlySet<string> | null): void {
    if (this.pending !== null && noted !== null) this.pending = new Set(noted);
  }

  /** Registers a listener for re-provisioned MACs; returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Notes a re-provisioned MAC: heard after the surrounding transaction commits (at once outside one). */
  noteChange(mac: string): void {
    if (this.pending) this.pending.add(mac);
    else this.emit([mac]);
  }

  private emit(macs: readonly string[]): void {
    tellListeners(this.listeners, macs);
  }
}

/** Hands committed changes `macs` to each of `listeners` (a snapshot: one may unsubscribe while told). */
export function tellListeners(listeners: ReadonlySet<ChangeListener>, macs: readonly string[]): void {
  for (const l of [...listeners]) {
    try {
      l(macs);
    } catch {
      // A listener's failure must not undo or fail a committed change.
    }
  }
}
