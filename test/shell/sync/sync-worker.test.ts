/**
 * The sync worker against an in-memory store and a scripted notify function
 * (the real SIP path is covered with sipp in test/e2e/login-loop.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { HotdeskError } from '../../../agent/core/errors.js';
import type { AuditEvent } from '../../../agent/core/model.js';
import { SyncWorker, type NotifyFn, type PendingSync, type SyncStore } from '../../../agent/shell/sync/sync-worker.js';
import { silentLogger } from '../../../agent/shell/logger.js';

interface Row extends PendingSync {
  nextAt: number;
  state: 'pending' | 'unreachable';
}

function memoryStore(rows: Row[]): SyncStore & { audit: AuditEvent[]; rows: Row[] } {
  const audit: AuditEvent[] = [];
  return {
    rows,
    audit,
    pendingSyncs: async (now, limit, skip) =>
      rows
        .filter((r) => r.state === 'pending' && r.nextAt <= now && !skip.has(r.mac))
        .sort((a, b) => a.attempts - b.attempts)
        .slice(0, limit),
    pendingFor: async (macs, now) => rows.filter((r) => macs.includes(r.mac) && r.state === 'pending' && r.nextAt <= now),
    markSyncAttempt: async (mac, a) => {
      const r = rows.find((x) => x.mac === mac)!;
      Object.assign(r, { attempts: r.attempts + 1, nextAt: a.nextAt });
    },
    markUnreachable: async (mac, now) => {
      rows.find((x) => x.mac === mac)!.state = 'unreachable';
      audit.push({ kind: 'sync-failed', at: now, phone: mac });
    },
    appendAudit: async (e) => void audit.push(e),
  };
}

function row(mac: string, over: Partial<Row> = {}): Row {
  return {
    mac,
    vendor: 'yealink',
    notifyIp: '127.0.0.1',
    sipPort: 5060,
    revision: 2,
    attempts: 0,
    requestedAt: 0,
    requestUser: mac,
    nextAt: 0,
    state: 'pending',
    ...over,
  };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('SyncWorker', () => {
  it('sends a fresh request first even when every slot could go to retries of silent phones', async () => {
    const silent = Array.from({ length: 5 }, (_, i) => row(`dead${i}`, { attempts: 3 }));
    const store = memoryStore([...silent, row('fresh')]);
    const sent: string[] = [];
    const notify: NotifyFn = (n) => {
      sent.push(n.requestUser);
      return new Promise(() => {}); // nobody answers
    };
    const w = new SyncWorker({ store, notify, eventFor: () => 'check-sync', clock: () => 1_000, log: silentLogger, concurrency: 2 });
    await w.pass();
    expect(sent[0]).toBe('fresh');
    expect(w.busy).toBe(2);
    w.stop();
  });

  it('retries with backoff and reports unreachable after the deadline, once', async () => {
    let now = 0;
    const store = memoryStore([row('a')]);
    let calls = 0;
    const notify: NotifyFn = async () => {
      calls += 1;
      return { status: 408, attempts: 1, elapsedMs: 1 };
    };
    const w = new SyncWorker({
      store,
      notify,
      eventFor: () => 'check-sync',
      clock: () => now,
      log: silentLogger,
      policy: { firstRetryMs: 100, maxRetryMs: 400, deadlineMs: 1_000 },
    });
    for (now = 0; now <= 1_200; now += 50) {
      await w.pass();
      await flush();
    }
    w.stop();
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThan(10); // backoff, not one NOTIFY per tick
    expect(store.rows[0]!.state).toBe('unreachable');
    expect(store.audit.filter((e) => e.kind === 'sync-failed')).toHaveLength(1);
    expect(store.audit.filter((e) => e.kind === 'sync-sent').length).toBe(calls);
  });

  it('hands over no credentials when the site names no PBX realm', async () => {
    const store = memoryStore([row('s', { credentials: { username: 'u', password: 'p' } })]);
    const seen: Parameters<NotifyFn>[0][] = [];
    const w = new SyncWorker({
      store,
      notify: async (n) => {
        seen.push(n);
        return { status: 200, attempts: 1, elapsedMs: 1 };
      },
      eventFor: () => 'check-sync',
      clock: () => 0,
      log: silentLogger,
    });
    await w.pass();
    await flush();
    w.stop();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.credentials).toBeUndefined();
  });

  /** One pass over `store` whose every NOTIFY fails with `error`; what was notified and how often HTTP was tried. */
  async function passWithFailingNotify(store: ReturnType<typeof memoryStore>, error: Error): Promise<{ seen: Parameters<NotifyFn>[0][]; fallback: number }> {
    const seen: Parameters<NotifyFn>[0][] = [];
    let fallback = 0;
    const w = new SyncWorker({
      store,
      notify: async (n) => {
        seen.push(n);
        throw error;
      },
      httpFallback: async () => {
        fallback += 1;
        return true;
      },
      eventFor: (v) => (v === 'snom' ? 'check-sync;reboot=false' : 'check-sync'),
      clock: () => 0,
      log: silentLogger,
    });
    await w.pass();
    await flush();
    await flush();
    w.stop();
    return { seen, fallback };
  }

  it('uses the vendor event and the line credentials, and falls back to HTTP when SIP times out', async () => {
    const store = memoryStore([row('s', { vendor: 'snom', credentials: { username: 'u', password: 'p' }, realm: 'pbx.example' })]);
    const { seen, fallback } = await passWithFailingNotify(store, new HotdeskError('sip-timeout'));
    expect(seen[0]).toMatchObject({ event: 'check-sync;reboot=false', credentials: { username: 'u', password: 'p' }, realm: 'pbx.example' });
    expect(fallback).toBe(1);
    expect(store.audit.map((e) => [e.detail?.['via'], e.detail?.['status'] ?? e.detail?.['ok']])).toEqual([
      ['sip', 'timeout'],
      ['http', true],
    ]);
  });

  it('records a NOTIFY that could not be sent as unreachable (not as a timeout) and falls back to HTTP', async () => {
    const store = memoryStore([row('u')]);
    const { fallback } = await passWithFailingNotify(store, new HotdeskError('sip-unreachable', 'could not be sent'));
    expect(store.audit.map((e) => [e.detail?.['via'], e.detail?.['status'] ?? e.detail?.['ok']])).toEqual([
      ['sip', 'unreachable'],
      ['http', true],
    ]);
    expect(fallback).toBe(1);
  });

  it('a poke with the committed MACs notifies exactly those phones, without a full pass', async () => {
    const store = memoryStore([row('old', { attempts: 0 }), row('new1'), row('new2')]);
    let fullPasses = 0;
    const scan = store.pendingSyncs;
    store.pendingSyncs = (...args) => {
      fullPasses += 1;
      return scan(...args);
    };
    const sent: string[] = [];
    const w = new SyncWorker({
      store,
      notify: async (n) => {
        sent.push(n.requestUser);
        return { status: 200, attempts: 1, elapsedMs: 1 };
      },
      eventFor: () => 'check-sync',
      clock: () => 0,
      log: silentLogger,
    });
    w.poke(['new1', 'new2', 'unknown']);
    await flush();
    w.stop();
    expect(sent.sort()).toEqual(['new1', 'new2']);
    expect(fullPasses).toBe(0);
  });
});
