/**
 * Live event stream: audit rows are the single source of truth; this tails the
 * audit table (so events written by another process, e.g. `hotdesk dial`,
 * reach subscribers too) and fans new rows out in id order.
 */
import type { AuditEvent } from '../../core/model.js';

/** An audit row as stored (with its monotonically increasing id). */
export interface StoredAuditEvent extends AuditEvent {
  readonly id: number;
}

/** Reads audit rows after an id, oldest first. */
export type AuditReader = (afterId: number, limit: number) => readonly StoredAuditEvent[];

export type EventListener = (e: StoredAuditEvent) => void;

/** Tails the audit log and publishes each new event once, in order. */
export class AuditTail {
  private lastId: number;
  private readonly listeners = new Set<EventListener>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly read: AuditReader,
    startAfterId: number,
    private readonly intervalMs = 250,
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

  /** Publishes everything new now (call after an in-process commit). */
  drain(): void {
    for (;;) {
      const rows = this.read(this.lastId, 500);
      for (const r of rows) {
        this.lastId = r.id;
        for (const l of this.listeners) {
          try {
            l(r);
          } catch {
            // a broken subscriber must not stop the others
          }
        }
      }
      if (rows.length < 500) return;
    }
  }

  start(): void {
    const tick = (): void => {
      this.drain();
      this.timer = setTimeout(tick, this.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
