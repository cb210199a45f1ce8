/**
 * Store contract, the store as a whole: its kind and warnings, ping, the write-behind of served files
 * (decided at once, written on flush, heard by deferred-write listeners), and close (writes what waits;
 * safe twice; the data is there after a restart).
 */
import { describe, expect, test } from 'vitest';
import type { AuditEvent } from '../../../agent/core/model.js';
import { backends, useBackend } from './backends.js';
import { seed, SNOM, T0, YEALINK } from './fixtures.js';

const served = (dt: number): AuditEvent => ({ kind: 'secret-served', at: T0 + dt, phone: YEALINK, detail: { ip: '10.0.0.21', file: '001565aabb01.cfg' } });
const fetch = (dt: number, revision?: number) =>
  ({ ip: '10.0.0.21', file: '001565aabb01.cfg', authenticated: true, now: T0 + dt, ...(revision !== undefined ? { revision } : {}) }) as const;

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('store lifecycle', () => {
    const b = useBackend(backend);

    test('kind, no warnings on a fresh store, ping answers', async () => {
      const { store } = await b.open();
      expect(store.kind).toBe(backend.name);
      expect(store.warnings).toEqual([]);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    test('write-behind: a served file is decided at once and written by flushWrites; listeners hear what it confirmed', async () => {
      const { store } = await b.open();
      await seed(store);
      const timers: (() => void)[] = [];
      store.deferWrites({ schedule: (flush) => void timers.push(flush) });
      const heard: string[][] = [];
      store.onDeferredWrite((confirmed) => heard.push([...confirmed]));
      expect((await store.provisioningRuntime(YEALINK))?.revision).toBe(1);
      expect(await store.recordServed(YEALINK, fetch(10, 1), served(10))).toEqual({ confirmed: true, elapsedMs: 10 });
      // the same fetch again is decided on the state that includes the first one
      expect(await store.recordServed(YEALINK, fetch(11, 1), served(11))).toEqual({ confirmed: false });
      await store.queueAudit({ kind: 'sync-sent', at: T0 + 12, phone: SNOM });
      await store.flushWrites();
      expect(heard).toEqual(backend.writeBehind ? [[YEALINK]] : []);
      expect((await store.phoneRuntime(YEALINK))?.sync).toMatchObject({ state: 'synced', confirmedAt: T0 + 10, elapsedMs: 10 });
      expect((await store.phoneRuntime(YEALINK))?.lastSeen).toBe(T0 + 11);
      expect((await store.queryAudit()).map((e) => [e.kind, e.at - T0])).toEqual([
        ['sync-confirmed', 10],
        ['secret-served', 10],
        ['secret-served', 11],
        ['sync-sent', 12],
      ]);
      // nothing waits any more: a scheduled flush finds nothing to write
      for (const t of timers.splice(0)) t();
      await store.flushWrites();
      expect(await store.queryAudit()).toHaveLength(4);
      expect(heard.flat()).toEqual(backend.writeBehind ? [YEALINK] : []);
    });

    test('reads that could report a waiting record see it written first', async () => {
      const { store } = await b.open();
      await seed(store);
      store.deferWrites({ schedule: () => undefined });
      await store.provisioningRuntime(YEALINK);
      await store.recordServed(YEALINK, fetch(10, 1), served(10));
      expect((await store.phoneRuntime(YEALINK))?.sync.state).toBe('synced');
      expect((await store.queryAudit({ phone: YEALINK })).map((e) => e.kind)).toEqual(['sync-confirmed', 'secret-served']);
      expect(await store.syncStateCounts()).toEqual({ synced: 1, pending: 3 });
    });

    test('close writes what waits, is safe twice, and the data is there after a restart', async () => {
      const s = await b.open();
      await seed(s.store);
      s.store.deferWrites({ schedule: () => undefined });
      await s.store.provisioningRuntime(YEALINK);
      await s.store.recordServed(YEALINK, fetch(10, 1), served(10));
      await s.store.close();
      await s.store.close();
      const again = await b.reopen(s);
      expect((await again.store.phoneRuntime(YEALINK))?.sync.state).toBe('synced');
      expect((await again.store.queryAudit()).map((e) => e.kind)).toEqual(['sync-confirmed', 'secret-served']);
      expect(await again.store.listUsers()).toHaveLength(5);
    });
  });
});
