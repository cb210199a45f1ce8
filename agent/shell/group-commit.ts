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
 * decision: under load the PBX's logins no longer pay a commit each.
 */

/** Runs `fn` in one store transaction (nested calls become savepoints): `Store.transaction`. */
export type TransactionFn = <T>(fn: () => T) => T;

interface Job {
  readonly run: () => unknown;
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
   * @param transaction the store's transaction runner
   * @param defer runs the group later in this turn's wake (default `setImmediate`: after the I/O
   *   callbacks that queued the jobs)
   * @param maxJobs at most this many jobs per transaction (the rest go in the next one)
   */
  constructor(
    private readonly transaction: TransactionFn,
    private readonly defer: (fn: () => void) => void = (fn) => void setImmediate(fn),
    private readonly maxJobs = 64,
  ) {}

  /**
   * Queues `run` (synchronous store work) and resolves with its value once the group's
   * transaction committed; rejects with its own error (its savepoint rolled back) or with the
   * commit's error, after calling `undo(value)` for a job whose work the failed commit discarded.
   */
  run<T>(run: () => T, undo?: (value: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, undo: undo as ((value: unknown) => void) | undefined, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.defer(() => this.flush());
      }
    });
  }

  /** Jobs waiting for the next group. */
  get waiting(): number {
    return this.queue.length;
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxJobs);
    if (this.queue.length > 0) {
      this.scheduled = true;
      this.defer(() => this.flush());
    }
    if (batch.length === 0) return;
    const results: Result[] = [];
    try {
      this.transaction(() => {
        for (const job of batch) {
          try {
            results.push({ ok: true, value: this.transaction(job.run) });
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
