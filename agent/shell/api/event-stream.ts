/**
 * Live event stream: audit rows are the single source of truth; this tails the
 * audit table (so events written by another process, e.g. `hotdesk dial`, or by
 * another agent on a shared PostgreSQL store, reach subscribers too) and fans new
 * rows out in id order.
 *
 * On PostgreSQL ids come from a sequence and transactions commit in any order, so
 * a row with a smaller id may become visible after larger ones were published.
 * With a `readIds` reader the tail remembers the ids it skipped (holes) for
 * {@link HOLE_WINDOW_MS} and publishes such a row as soon as it is committed (then
 * out of id order); a hole that never fills was a rolled-back insert.
 */
import type { AuditEvent } from '../../core/model.js';

/** An audit row as stored (with its monotonically increasing id). */
export interface StoredAuditEvent extends AuditEvent {
  readonly id: number;
  /** The agent that wrote it (shared PostgreSQL store); absent on SQLite. */
  readonly agent?: string;
}

/** Reads audit rows after an id, oldest first. */
export type AuditReader = (afterId: number, limit: number) => Promise<readonly StoredAuditEvent[]>;

export type EventListener = (e: StoredAuditEvent) => void;

/** Rows read per query. */
const BATCH = 500;

/** How long a skipped id is looked for (longer than any decision transaction). */
export const HOLE_WINDOW_MS = 10_000;

/** At most this many skipped ids are remembered (the oldest are forgotten first). */
const MAX_HOLES = 10_000;

/** Reads the rows with these ids that exist now. */
export type AuditIdReader = (ids: readonly number[]) => Promise<readonly StoredAuditEvent[]>;

/** Tails the audit log and publishes each new event once, in order. */
export class AuditTail {
  private lastId: number;
  private readonly listeners = new Set<EventListener>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The drain under way (drains never overlap: a call meanwhile asks for one more round). */
  private running: Promise<void> | null = null;
  private again = false;
  /** Skipped ids → when first skipped (epoch ms). */
  private readonly holes = new Map<number, number>();

  /**
   * @param read the audit reader
   * @param startAfterId publish only rows after this id
   * @param intervalMs poll interval once started
   * @param onError hears a failed read (default: ignored; the next drain or tick tries again)
   * @param readIds reads rows by id: given on a store whose ids may commit out of order (PostgreSQL)
   * @param clock epoch ms now (for the hole window)
   */
  constructor(
    private readonly read: AuditReader,
    startAfterId: number,
    private readonly intervalMs = 250,
    private readonly onError: (e: unknown) => void = () => {},
    private readonly readIds?: AuditIdReader,
    private readonly clock: () => number = Date.now,
  ) {
    this.lastId = startAfterId;
  }

  /** Highest id published so far. */
  get position(): number {
    return this.lastId;
  }

  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * Publishes everything new now (call after an in-process commit); resolves once every row
   * committed before the call is published. Never rejects: a failed read goes to `onError`.
   */
  drain(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = async (): Promise<void> => {
      try {
        do {
          this.again = false;
          await this.drainOnce();
        } while (this.again);
      } catch (e) {
        this.onError(e);
      } finally {
        this.running = null;
      }
    };
    this.running = run();
    return this.running;
  }

  private async drainOnce(): Promise<void> {
    if (this.readIds && this.holes.size > 0) await this.fillHoles(this.readIds);
    for (;;) {
      const rows = await this.read(this.lastId, BATCH);
      for (const r of rows) {
        if (r.id <= this.lastId) continue;
        if (this.readIds) this.noteHoles(this.lastId, r.id);
        this.lastId = r.id;
        this.publish(r);
      }
      if (rows.length < BATCH) return;
    }
  }

  /** Remembers the ids between `from` and `to` (exclusive) as skipped. */
  private noteHoles(from: number, to: number): void {
    const now = this.clock();
    for (let id = Math.max(from + 1, to - MAX_HOLES); id < to; id++) this.holes.set(id, now);
    while (this.holes.size > MAX_HOLES) {
      const oldest = this.holes.keys().next().value;
      if (oldest === undefined) break;
      this.holes.delete(oldest);
    }
  }

  /** Publishes skipped rows committed since; forgets holes older than the window. */
  private async fillHoles(readIds: AuditIdReader): Promise<void> {
    const now = this.clock();
    for (const [id, at] of this.holes) if (now - at > HOLE_WINDOW_MS) this.holes.delete(id);
    if (this.holes.size === 0) return;
    const rows = await readIds([...this.holes.keys()]);
    for (const r of [...rows].sort((a, b) => a.id - b.id)) {
      if (!this.holes.delete(r.id)) continue;
      this.publish(r);
    }
  }

  private publish(r: StoredAuditEvent): void {
    for (const l of this.listeners) {
      try {
        l(r);
      } catch {
        // a broken subscriber must not stop the others
      }
    }
  }

  start(): void {
    this.stopped = false;
    const tick = async (): Promise<void> => {
      await this.drain();
      if (this.stopped) return;
      this.timer = setTimeout(() => void tick(), this.intervalMs);
      this.timer.unref();
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
