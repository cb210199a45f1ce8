/**
 * The re-provisioning loop's sender (docs/behaviour.md §9): for every phone whose
 * revision was bumped and that has not fetched it yet, send SIP NOTIFY
 * check-sync to its last-known address; fall back to the vendor's HTTP
 * trigger when NOTIFY gets no answer; retry with backoff; report the phone
 * unreachable after the deadline. Confirmation itself happens in the
 * provisioning pipeline when the phone fetches the new revision.
 *
 * Phones are handled concurrently (bounded), so one silent phone never holds
 * up another.
 */
import { isHotdeskError } from '../../core/errors.js';
import type { AuditEvent, Vendor } from '../../core/model.js';
import { DEFAULT_SYNC_RETRY, nextSyncAttempt, type SyncRetryPolicy } from '../../core/sync-backoff.js';
import type { Logger } from '../logger.js';

/** A phone waiting for its new revision to be fetched. */
export interface PendingSync {
  readonly mac: string;
  readonly vendor: Vendor;
  /** The authenticated address (last authenticated fetch of its secret file), null when never proven. */
  readonly notifyIp: string | null;
  readonly sipPort: number;
  readonly revision: number;
  readonly attempts: number;
  readonly requestedAt: number;
  /** SIP user for the Request-URI (logged-in line user, device account user, or the MAC). */
  readonly requestUser: string;
  /** Line credentials to answer a 401/407 challenge, when known (the phone's current line only). */
  readonly credentials?: { readonly username: string; readonly password: string };
  /** The only digest realm those credentials may answer (site PBX realm); absent = never answer. */
  readonly realm?: string;
  /**
   * The credentials are the phone's own hot-desk line's, and the target is the address that
   * line registered from: a challenge in any realm may be answered (the challenger already
   * proved it holds them).
   */
  readonly anyRealm?: boolean;
}

/** What the worker needs from the store. */
export interface SyncStore {
  /**
   * Phones due for a NOTIFY at `now`, fewest attempts first (fresh requests before
   * retries), skipping `skip` (in flight), at most `limit`.
   */
  pendingSyncs(now: number, limit: number, skip: ReadonlySet<string>): Promise<readonly PendingSync[]>;
  /** The given phones' pending syncs that are due now (after a commit that bumped them). */
  pendingFor(macs: readonly string[], now: number): Promise<readonly PendingSync[]>;
  markSyncAttempt(mac: string, a: { now: number; nextAt: number }): Promise<void>;
  /** Marks the phone unreachable and audits `sync-failed`. */
  markUnreachable(mac: string, now: number): Promise<void>;
  appendAudit(e: AuditEvent): Promise<void>;
  /**
   * Runs `fn` in one store transaction (the attempts of one pass commit together); absent: as is.
   * `fn` only touches the store (it may run again on a serialization failure).
   */
  batch?<T>(fn: () => Promise<T>): Promise<T>;
}

/** What one pass claimed in its transaction: phones to notify now, phones given up on. */
interface Claimed {
  readonly send: readonly PendingSync[];
  readonly unreachable: readonly PendingSync[];
}

/** Sends one NOTIFY (SipNotifier.notify). */
export type NotifyFn = (n: {
  host: string;
  port: number;
  event: string;
  requestUser: string;
  credentials?: { username: string; password: string };
  realm?: string;
  anyRealm?: boolean;
}) => Promise<{ status: number; attempts: number; elapsedMs: number }>;

/** Vendor HTTP re-sync trigger (Yealink action URI, Poly REST); resolves to true when the phone accepted. */
export type HttpFallbackFn = (p: PendingSync) => Promise<boolean>;

export interface SyncWorkerOptions {
  readonly store: SyncStore;
  readonly notify: NotifyFn;
  readonly eventFor: (vendor: Vendor) => string;
  readonly httpFallback?: HttpFallbackFn;
  readonly clock: () => number;
  readonly log: Logger;
  readonly policy?: SyncRetryPolicy;
  /** Poll interval for due retries (ms). */
  readonly tickMs?: number;
  /** NOTIFY transactions in flight at once (default 512: UDP datagrams are cheap, silent phones must not starve the rest). */
  readonly concurrency?: number;
}

/** Runs the loop; `poke()` after a commit makes it act at once. */
export class SyncWorker {
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<string>();
  private running = false;
  private stopped = false;
  private again = false;
  private readonly policy: SyncRetryPolicy;

  constructor(private readonly o: SyncWorkerOptions) {
    this.policy = o.policy ?? DEFAULT_SYNC_RETRY;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /**
   * After a commit: notify the phones it bumped at once (`macs`), without scanning
   * every pending phone; with no `macs`, run a full pass now.
   */
  poke(macs?: readonly string[]): void {
    if (this.stopped) return;
    if (macs !== undefined) {
      void this.notifyNow(macs);
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    void this.pass();
  }

  /** Stops timers; in-flight NOTIFYs finish on their own. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Phones with a NOTIFY in flight now. */
  get busy(): number {
    return this.inFlight.size;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), this.o.tickMs ?? 1_000);
    this.timer.unref();
  }

  /** Notifies the given phones (bumped by a commit) when they are due. */
  private async notifyNow(macs: readonly string[]): Promise<void> {
    const now = this.o.clock();
    try {
      const candidates = macs.filter((m) => !this.inFlight.has(m));
      if (candidates.length === 0) return;
      const claimed = await this.batch(async () => this.claim(await this.o.store.pendingFor(candidates, now), now));
      this.launch(claimed);
    } catch (e) {
      this.o.log.error('sync poke failed', { error: String(e) });
    }
  }

  /** One pass over due phones. Exposed for tests. */
  async pass(): Promise<void> {
    if (this.stopped) return;
    this.running = true;
    try {
      const now = this.o.clock();
      // Fresh requests first: a new login's NOTIFY never waits behind retries to dead phones.
      const free = (this.o.concurrency ?? 512) - this.inFlight.size;
      if (free <= 0) return;
      const claimed = await this.batch(async () => this.claim(await this.o.store.pendingSyncs(now, free, this.inFlight), now));
      this.launch(claimed);
    } catch (e) {
      this.o.log.error('sync pass failed', { error: String(e) });
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        queueMicrotask(() => void this.pass());
      }
      this.schedule();
    }
  }

  private batch<T>(fn: () => Promise<T>): Promise<T> {
    return this.o.store.batch ? this.o.store.batch(fn) : fn();
  }

  /**
   * Records the next attempt of each due phone (store work only, inside the pass's transaction):
   * phones past the deadline are marked unreachable, phones never seen get a later attempt, the
   * rest (up to the concurrency limit) are claimed for a NOTIFY sent after the commit.
   */
  private async claim(due: readonly PendingSync[], now: number): Promise<Claimed> {
    const limit = this.o.concurrency ?? 512;
    const send: PendingSync[] = [];
    const unreachable: PendingSync[] = [];
    for (const p of due) {
      if (this.inFlight.size + send.length >= limit) break;
      const next = nextSyncAttempt(this.policy, p.requestedAt, p.attempts + 1, now);
      if (next === null) {
        // The store records `sync-failed` in the same transaction.
        await this.o.store.markUnreachable(p.mac, now);
        unreachable.push(p);
        continue;
      }
      // A phone never seen on the network is not notified: it gets the revision when it boots or polls.
      await this.o.store.markSyncAttempt(p.mac, { now, nextAt: next });
      if (p.notifyIp !== null) send.push(p);
    }
    return { send, unreachable };
  }

  /** After the commit: reports the phones given up on and sends the claimed NOTIFYs. */
  private launch(c: Claimed): void {
    for (const p of c.unreachable) this.o.log.warn('phone unreachable', { mac: p.mac, revision: p.revision, attempts: p.attempts });
    for (const p of c.send) {
      if (p.notifyIp === null || this.inFlight.has(p.mac)) continue;
      this.inFlight.add(p.mac);
      void this.sendOne(p, p.notifyIp)
        .catch((e: unknown) => this.o.log.warn('sync send failed', { mac: p.mac, error: String(e) }))
        .finally(() => this.inFlight.delete(p.mac));
    }
  }

  private async sendOne(p: PendingSync, host: string): Promise<void> {
    const event = this.o.eventFor(p.vendor);
    try {
      const r = await this.o.notify({
        host,
        port: p.sipPort,
        event,
        requestUser: p.requestUser,
        ...(p.credentials && p.realm !== undefined ? { credentials: { ...p.credentials }, realm: p.realm } : {}),
        ...(p.credentials && p.anyRealm === true ? { credentials: { ...p.credentials }, anyRealm: true } : {}),
      });
      await this.o.store.appendAudit({
        kind: 'sync-sent',
        at: this.o.clock(),
        phone: p.mac,
        detail: { revision: p.revision, via: 'sip', status: r.status, transmissions: r.attempts, ms: Math.round(r.elapsedMs) },
      });
      if (r.status >= 200 && r.status < 300) return;
    } catch (e) {
      if (this.stopped) return; // shutting down: the notifier cancelled the transaction
      if (!isHotdeskError(e, 'sip-timeout')) this.o.log.warn('notify failed', { mac: p.mac, error: String(e) });
      const status = isHotdeskError(e, 'sip-unreachable') ? 'unreachable' : 'timeout';
      await this.o.store.appendAudit({ kind: 'sync-sent', at: this.o.clock(), phone: p.mac, detail: { revision: p.revision, via: 'sip', status } });
    }
    if (!this.o.httpFallback) return;
    try {
      const ok = await this.o.httpFallback(p);
      await this.o.store.appendAudit({ kind: 'sync-sent', at: this.o.clock(), phone: p.mac, detail: { revision: p.revision, via: 'http', ok } });
    } catch (e) {
      this.o.log.debug('http re-sync fallback failed', { mac: p.mac, error: String(e) });
    }
  }
}
