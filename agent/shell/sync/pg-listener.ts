/**
 * The wake-up between agents sharing a PostgreSQL store: one dedicated connection that `LISTEN`s on
 * `hotdesk_sync` (a phone's revision was bumped: its payload is the MAC) and `hotdesk_audit` (an event
 * was written). Notifications are only a wake-up: the pending-sync rows and the audit table are the
 * truth, so a lost notification costs latency, never a NOTIFY. After every (re)connection `onConnect`
 * runs, and the agent scans for what it missed while disconnected (PostgreSQL delivers notifications
 * only to sessions listening at commit time: https://www.postgresql.org/docs/15/sql-notify.html).
 */
import pg from 'pg';
import type { Logger } from '../logger.js';

/** Channels the store notifies on (pg-sync-queries.ts, pg-audit-queries.ts). */
export const SYNC_CHANNEL = 'hotdesk_sync';
export const AUDIT_CHANNEL = 'hotdesk_audit';

/** Options of {@link PgListener}. */
export interface PgListenerOptions {
  readonly url: string;
  readonly log: Logger;
  /** Phones re-provisioned by any agent (deduplicated per batch). */
  readonly onSync: (macs: readonly string[]) => void;
  /** Some agent wrote audit events. */
  readonly onAudit: () => void;
  /** Connected (first time or again): scan for what was missed. */
  readonly onConnect: () => void;
  /** Delay before reconnecting, doubled per failure up to 10 s (default 250 ms). */
  readonly retryMs?: number;
}

const MAC = /^[0-9a-f]{12}$/;

/** Listens for other agents' commits and reconnects after a database restart. */
export class PgListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private batch = new Set<string>();
  private audit = false;
  private flushing = false;

  constructor(private readonly o: PgListenerOptions) {}

  /** Connects (resolves after the first attempt, connected or not: reconnection continues in the background). */
  async start(): Promise<void> {
    await this.connect();
  }

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.client !== null;
  }

  /** Stops listening and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.o.url });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (n) => this.heard(n.channel, n.payload));
    try {
      await client.connect();
      await client.query(`LISTEN ${SYNC_CHANNEL}; LISTEN ${AUDIT_CHANNEL}`);
    } catch (e) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      this.o.log.warn('database listener not connected; retrying', { error: String((e as Error).message ?? e) });
      this.retry();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    if (this.failures > 0) this.o.log.info('database listener reconnected');
    this.failures = 0;
    this.o.onConnect();
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners('end');
    void client.end().catch(() => {});
    if (!this.stopped) {
      this.o.log.warn('database listener lost its connection; reconnecting');
      this.retry();
    }
  }

  private retry(): void {
    if (this.stopped || this.timer) return;
    const delay = Math.min(10_000, (this.o.retryMs ?? 250) * 2 ** this.failures++);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
    this.timer.unref();
  }

  /** Notifications arrive in bursts (one per bumped phone): hand them over once per turn. */
  private heard(channel: string, payload: string | undefined): void {
    if (channel === SYNC_CHANNEL && payload !== undefined && MAC.test(payload)) this.batch.add(payload);
    else if (channel === AUDIT_CHANNEL) this.audit = true;
    else return;
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      const macs = [...this.batch];
      this.batch = new Set();
      const audit = this.audit;
      this.audit = false;
      if (macs.length > 0) this.o.onSync(macs);
      if (audit) this.o.onAudit();
    });
  }
}
