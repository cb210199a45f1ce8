/**
 * What the store keeps in memory between statements (used by Store): the phone
 * snapshot (phone-snapshot.ts), the memoised site row and the write-behind
 * queue of served files (write-behind.ts), with the rules that keep them exact:
 *
 * - a commit by another process (`PRAGMA data_version` moved, looked up once per
 *   run of synchronous code) flushes the queue and drops the snapshot and the site memo;
 * - a statement touching `phones` or `audit` first flushes the queue (so the
 *   database sees writes in program order and nothing reads around the queue),
 *   and one writing `phones` outside the keyed writes drops the snapshot;
 * - every outer transaction starts with a flush (change-tracker hook).
 */
import type Database from 'better-sqlite3';
import type { AuditEvent } from '../core/model.js';
import { appendAuditRow } from './audit-log.js';
import { PhoneSnapshot } from './phone-snapshot.js';
import type { SiteRow } from './site-queries.js';
import type { StatementUse } from './statement-cache.js';
import type { SqlFn } from './store-rows.js';
import type { FetchRecord, FetchResult } from './store-types.js';
import { applyFetch, recordFetchRows } from './sync-queries.js';
import { type ServedRecord, WriteBehind, type WriteBehindOptions } from './write-behind.js';

/** Hears, after a write-behind commit, the phones whose sync it confirmed (possibly none). */
export type DeferredWriteListener = (confirmed: readonly string[]) => void;

/** The store's in-memory state and its write-behind. */
export class StoreMemory {
  readonly phones: PhoneSnapshot;
  private deferred: WriteBehind | null = null;
  private readonly version: Database.Statement;
  private seen: number;
  private looked = false;
  private readonly unlook = (): void => {
    this.looked = false;
  };
  private readonly listeners = new Set<DeferredWriteListener>();

  /**
   * @param db the store's database
   * @param key the data key
   * @param rawSql statements without hooks (the flush's own writes)
   * @param site the site row (its memo is dropped on another process's commit)
   * @param transaction the store's transaction runner
   */
  constructor(
    private readonly db: Database.Database,
    key: Buffer,
    private readonly rawSql: SqlFn,
    private readonly site: SiteRow,
    private readonly transaction: <T>(fn: () => T) => T,
  ) {
    this.phones = new PhoneSnapshot(db, key);
    this.version = db.prepare('PRAGMA data_version').pluck();
    this.seen = this.version.get() as number;
  }

  /**
   * Another process committed since we last looked: write ours, forget what we kept. Looked up
   * once per turn of the event loop (the flag clears in `setImmediate`) outside transactions: the
   * pragma takes a read lock, which costs more than the rest of a cached read, and a commit
   * landing during one turn is the same as one landing just after it. (Once per run of synchronous
   * code, as before the store became asynchronous, meant once per `await`: 15 % of a warm storm.)
   */
  fresh(): void {
    // Inside a transaction always: it must decide on exactly what it commits on top of.
    if (this.looked && !this.db.inTransaction) return;
    this.looked = true;
    setImmediate(this.unlook);
    const v = this.version.get() as number;
    if (v === this.seen) return;
    this.seen = v;
    this.flush();
    this.phones.clear();
    this.site.forget();
  }

  /** The statement-cache hook of the store's ordinary statements. */
  onStatement(use: StatementUse): void {
    this.flush();
    if (use.writesPhones) this.phones.clear();
  }

  /** Writes every queued record now (one transaction). */
  flush(): void {
    if (this.deferred !== null && this.deferred.size > 0) this.deferred.flush();
  }

  /** Writes what waits and turns the write-behind off (the store is closing: later records are written at once). */
  close(): void {
    this.flush();
    this.deferred = null;
  }

  /** Records waiting to be written. */
  get pending(): number {
    return this.deferred?.size ?? 0;
  }

  /** Turns the write-behind on (the shell schedules the flushes). */
  defer(o: WriteBehindOptions): void {
    this.flush();
    this.deferred = new WriteBehind(o, (batch) => this.write(batch));
  }

  /** Registers a listener for write-behind commits; returns an unsubscribe function. */
  onWritten(listener: DeferredWriteListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Queues a served file when the write-behind is on and the phone's row is in the
   * snapshot (outside a transaction), applying the fetch to the row at once;
   * undefined: the caller writes it now.
   */
  queue(mac: string, fetch: FetchRecord, audit: AuditEvent | undefined): FetchResult | undefined {
    if (this.deferred === null || this.db.inTransaction) return undefined;
    this.fresh();
    const row = this.phones.row(mac);
    if (row === undefined || !this.phones.has(mac)) return undefined;
    const { row: next, result } = applyFetch(row, fetch);
    this.phones.update(mac, next);
    this.deferred.add({ mac, fetch, ...(audit ? { audit } : {}) });
    return result;
  }

  /** Queues an audit entry when the write-behind is on (outside a transaction); false: the caller writes it now. */
  queueAudit(e: AuditEvent): boolean {
    if (this.deferred === null || this.db.inTransaction) return false;
    this.deferred.add({ mac: e.phone ?? '', audit: e });
    return true;
  }

  private write(batch: readonly ServedRecord[]): void {
    const confirmed: string[] = [];
    const audit = (e: AuditEvent): number => appendAuditRow(this.rawSql, e);
    this.transaction(() => {
      for (const r of batch) {
        if (r.fetch && recordFetchRows(this.rawSql, r.mac, r.fetch, audit).confirmed) confirmed.push(r.mac);
        if (r.audit) audit(r.audit);
      }
    });
    for (const l of [...this.listeners]) {
      try {
        l(confirmed);
      } catch {
        // A listener's failure must not fail a committed write.
      }
    }
  }
}
