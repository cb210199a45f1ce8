/**
 * Group commit of hot-desk decisions: decisions that arrive together (queued in
 * the same turn of the event loop) run one after another inside one store
 * transaction, each in its own savepoint, so each is decided on state that
 * includes the earlier ones and a failing one rolls back alone. Answers are
 * released only after the commit: nobody hears of a decision before it is
 * durable in the database. If the commit itself fails, every decision of the
 * group is rolled back and each caller gets the error (and its `undo`).
 *
 * One commit (and one write-ahead-log append) for the group instead of one per
 * decision: under load the PBX's logins no longer pay a commit each. For the
 * SQLite store only (one connection, one writer); on PostgreSQL each decision
 * runs as its own transaction, concurrently with the others.
 */
import type { StoreApi, StoreTx } from '../store/store-api.js';

/** What the group commit needs of the store: its transactions (nested calls become savepoints). */
export type TransactionStore = Pick<StoreApi, 'transaction'>;

/** A job: store work only (no network, no timers), on the group's transaction. */
export type GroupJob<T> = (tx: StoreTx) => Promise<T>;

interface Job {
  readonly run: GroupJob<unknown>;
  readonly undo: ((value: unknown) => void) | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (e: unknown) => void;
}

/** Outcome of one job inside the group's transaction. */
type Result = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Queues jobs and commits each turn's jobs together. */
export class GroupCommit {
  private queue: Job[] = [];
  private scheduled = false;

  /**
   * @param store the store whose transactions group the jobs (SQLite: one connection, one writer)
   * @param defer runs the group later in this turn's wake (default `setImmediate`: after the I/O
   *   callbacks that queued the jobs)
   * @param maxJobs at most this many jobs per transaction (the rest go in the next one)
   */
  constructor(
    private readonly store: TransactionStore,
    private readonly defer: (fn: () => void) => void = (fn) => void setImmediate(fn),
    private readonly maxJobs = 64,
  ) {}

  /**
   * Queues `run` (store work on the group's transaction) and resolves with its value once the
   * group's transaction committed; rejects with its own error (its savepoint rolled back) or with
   * the commit's error, after calling `undo(value)` for a job whose work the failed commit discarded.
   */
  run<T>(run: GroupJob<T>, undo?: (value: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, undo: undo as ((value: unknown) => void) | undefined, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.defer(() => void this.flush());
      }
    });
  }

  /** Jobs waiting for the next group. */
  get waiting(): number {
    return this.queue.length;
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxJobs);
    if (this.queue.length > 0) {
      this.scheduled = true;
      this.defer(() => void this.flush());
    }
    if (batch.length === 0) return;
    let results: Result[] = [];
    try {
      await this.store.transaction(async (tx) => {
        // A re-run transaction starts over: only the last run's results count.
        results = [];
        for (const job of batch) {
          try {
            results.push({ ok: true, value: await this.store.transaction(() => job.run(tx)) });
          } catch (error) {
            results.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      batch.forEach((job, i) => {
        const r = results[i];
        if (r?.ok === true) job.undo?.(r.value);
        job.reject(error);
      });
      return;
    }
    batch.forEach((job, i) => {
      const r = results[i];
      if (r === undefined) job.reject(new Error('group commit lost a job'));
      else if (r.ok) job.resolve(r.value);
      else job.reject(r.error);
    });
  }
}
