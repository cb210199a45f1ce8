/**
 * Write-behind of served files (used by Store): the fetch record and the
 * `secret-served` audit entry of every file served (and audit entries the store
 * is asked to queue, such as `sync-sent`) wait in memory a few milliseconds and
 * are written together, in order, in one transaction.
 *
 * What waits here is visible to nobody: the store applies a fetch to its phone
 * snapshot at once (so the next request is decided on it), but every read that
 * could report it (phone runtime and lists, the audit, the sync worker's
 * pending list) and every other write first flushes the queue (store.ts), and
 * closing the store flushes it too. A crash (power loss, `kill -9`) can lose
 * only the records still waiting: fetches answered and queued audit entries of
 * the last few milliseconds, which nothing has reported yet; after a restart a
 * phone whose confirming fetch was lost is still pending and is notified again.
 */
import type { AuditEvent } from '../core/model.js';
import type { FetchRecord } from './store-types.js';

/** One record to write: a served file's fetch (of phone `mac`) and/or an audit entry (a secret file's, or one the store was asked to queue). */
export interface ServedRecord {
  /** Normalized MAC of the fetch. */
  readonly mac: string;
  readonly fetch?: FetchRecord;
  readonly audit?: AuditEvent;
}

/** How the shell drives the write-behind (Store.deferWrites). */
export interface WriteBehindOptions {
  /** Calls `flush` a few milliseconds from now (the shell owns the timer). */
  readonly schedule: (flush: () => void) => void;
  /** Flush at once when this many records wait (default 256). */
  readonly maxPending?: number;
  /** A scheduled flush failed: the records stay queued and the flush is scheduled again. */
  readonly onError?: (e: unknown) => void;
}

/** The queue of served records and its flushing. */
export class WriteBehind {
  private queue: ServedRecord[] = [];
  private scheduled = false;
  private readonly max: number;

  /**
   * @param o scheduling and limits
   * @param write writes a batch in one transaction (throws: nothing of it was written)
   */
  constructor(
    private readonly o: WriteBehindOptions,
    private readonly write: (batch: readonly ServedRecord[]) => void,
  ) {
    this.max = Math.max(1, o.maxPending ?? 256);
  }

  /** Records waiting. */
  get size(): number {
    return this.queue.length;
  }

  /** Queues a record; flushes at once when the queue is full, else schedules a flush. */
  add(r: ServedRecord): void {
    this.queue.push(r);
    if (this.queue.length >= this.max) this.flush();
    else this.soon();
  }

  /** Writes everything waiting now; on a failure the records stay queued and the error is thrown. */
  flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    try {
      this.write(batch);
    } catch (e) {
      this.queue = batch.concat(this.queue);
      throw e;
    }
  }

  private soon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.o.schedule(() => {
      this.scheduled = false;
      try {
        this.flush();
      } catch (e) {
        this.o.onError?.(e);
        this.soon();
      }
    });
  }
}
