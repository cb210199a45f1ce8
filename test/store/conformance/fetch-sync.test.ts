/**
 * Store contract, fetch records and re-sync: a fetch confirming the pending revision (elapsed time,
 * `sync-confirmed` audit), fetches that confirm nothing, revision bumps heard by change listeners, the
 * due-sync queue (order and limit), NOTIFY attempts, unreachable phones (`sync-failed`) and the counts
 * by sync state.
 */
import { describe, expect, test } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import type { FetchRecord } from '../../../agent/store/store-types.js';
import { backends, useBackend } from './backends.js';
import { LIFT, NOBODY, POLY, rejection, SNOM, seed, T0, YEALINK } from './fixtures.js';

const UA = 'Yealink SIP-T46U 108.86.0.20 00:15:65:aa:bb:01';
/** An authenticated fetch of YEALINK's own file at `T0 + dt`. */
const own = (dt: number, more: Partial<FetchRecord> = {}): FetchRecord => ({
  ip: '10.0.0.21',
  userAgent: UA,
  firmware: '108.86.0.20',
  file: '001565aabb01.cfg',
  authenticated: true,
  now: T0 + dt,
  ...more,
});

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('fetch records and sync', () => {
    const b = useBackend(backend);

    test('an authenticated fetch of the pending revision confirms it, with the elapsed time and a sync-confirmed audit', async () => {
      const { store } = await b.open();
      await seed(store);
      expect(await store.recordFetch('00:15:65:AA:BB:01', own(10, { revision: 1 }))).toEqual({ confirmed: true, elapsedMs: 10 });
      const rt = await store.phoneRuntime(YEALINK);
      expect(rt).toMatchObject({
        lastIp: '10.0.0.21',
        notifyIp: '10.0.0.21',
        lastUserAgent: UA,
        lastFirmware: '108.86.0.20',
        lastFile: '001565aabb01.cfg',
        lastSeen: T0 + 10,
      });
      expect(rt?.sync).toEqual({ state: 'synced', revision: 1, requestedAt: T0, confirmedAt: T0 + 10, elapsedMs: 10, attempts: 0, nextAt: null });
      expect(await store.queryAudit({ kinds: ['sync-confirmed'] })).toEqual([
        {
          id: expect.any(Number),
          kind: 'sync-confirmed',
          at: T0 + 10,
          phone: YEALINK,
          detail: { revision: 1, elapsedMs: 10, attempts: 0 },
          ...backend.auditStamp,
        },
      ]);
      // once synced, the same fetch again confirms nothing and audits nothing
      expect(await store.recordFetch(YEALINK, own(11, { revision: 1 }))).toEqual({ confirmed: false });
      expect(await store.queryAudit({ kinds: ['sync-confirmed'] })).toHaveLength(1);
      expect((await store.phoneRuntime(YEALINK))?.lastSeen).toBe(T0 + 11);
    });

    test('fetches that confirm nothing: no revision, another revision, unauthenticated, unknown phone', async () => {
      const { store } = await b.open();
      await seed(store);
      expect(await store.recordFetch(YEALINK, own(5))).toEqual({ confirmed: false });
      expect(await store.recordFetch(YEALINK, own(6, { revision: 2 }))).toEqual({ confirmed: false });
      // an unauthenticated fetch of the right revision is a sighting: it moves last_ip, never the NOTIFY address
      expect(await store.recordFetch(YEALINK, { ip: '10.6.6.6', file: '001565aabb01.cfg', revision: 1, now: T0 + 7 })).toEqual({ confirmed: false });
      const rt = await store.phoneRuntime(YEALINK);
      expect(rt).toMatchObject({ lastIp: '10.6.6.6', notifyIp: '10.0.0.21', lastFile: '001565aabb01.cfg', lastSeen: T0 + 7 });
      // a fetch without User-Agent or firmware keeps the ones known
      expect(rt).toMatchObject({ lastUserAgent: UA, lastFirmware: '108.86.0.20' });
      expect(rt?.sync.state).toBe('pending');
      expect(await store.recordFetch(NOBODY, own(8, { revision: 1 }))).toEqual({ confirmed: false });
      expect(await store.recordFetch('nonsense', own(8, { revision: 1 }))).toEqual({ confirmed: false });
      expect(await store.queryAudit({ kinds: ['sync-confirmed'] })).toEqual([]);
    });

    test('recordServed: the fetch and its audit entry, in that order', async () => {
      const { store } = await b.open();
      await seed(store);
      const served = { kind: 'secret-served', at: T0 + 20, phone: YEALINK, detail: { ip: '10.0.0.21', file: '001565aabb01.cfg', protocol: 'http' } } as const;
      expect(await store.recordServed(YEALINK, own(20, { revision: 1 }), served)).toEqual({ confirmed: true, elapsedMs: 20 });
      expect((await store.queryAudit({ phone: YEALINK })).map((e) => e.kind)).toEqual(['sync-confirmed', 'secret-served']);
      expect(await store.recordServed(YEALINK, own(21))).toEqual({ confirmed: false });
      expect((await store.phoneRuntime(YEALINK))?.lastSeen).toBe(T0 + 21);
      expect(await store.queryAudit({ phone: YEALINK })).toHaveLength(2);
      expect(await store.recordServed('nonsense', own(22), served)).toEqual({ confirmed: false });
      expect(await store.queryAudit({ phone: YEALINK })).toHaveLength(2);
    });

    test('bumpRevision: revision + 1, pending again from now, heard by change listeners; an unknown phone is refused', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.recordFetch(YEALINK, own(10, { revision: 1 }));
      const heard: string[][] = [];
      const off = store.onChange((m) => heard.push([...m]));
      expect(await store.bumpRevision('00:15:65:aa:bb:01', T0 + 100)).toBe(2);
      expect(heard).toEqual([[YEALINK]]);
      expect((await store.phoneRuntime(YEALINK))?.revision).toBe(2);
      expect((await store.phoneRuntime(YEALINK))?.sync).toEqual({
        state: 'pending',
        revision: 2,
        requestedAt: T0 + 100,
        confirmedAt: T0 + 10,
        elapsedMs: 10,
        attempts: 0,
        nextAt: T0 + 100,
      });
      expect((await store.provisioningRuntime(YEALINK))?.revision).toBe(2);
      expect(await store.recordFetch(YEALINK, own(130, { revision: 2 }))).toEqual({ confirmed: true, elapsedMs: 30 });
      const e = await rejection(store.bumpRevision(NOBODY, T0));
      expect(isHotdeskError(e, 'unknown-phone')).toBe(true);
      expect(heard).toEqual([[YEALINK]]);
      off();
      await store.bumpRevision(YEALINK, T0 + 200);
      expect(heard).toHaveLength(1);
      expect((await store.queryAudit({ kinds: ['sync-confirmed'] })).map((x) => x.detail?.['revision'])).toEqual([1, 2]);
    });

    test('pendingSyncs: due phones with an authenticated address, fewest attempts first, then oldest due, at most limit', async () => {
      const { store } = await b.open();
      await seed(store);
      for (const [mac, ip] of [
        [YEALINK, '10.0.0.21'],
        [SNOM, '10.0.0.22'],
        [POLY, '10.0.0.23'],
      ] as const)
        await store.recordFetch(mac, { ip, file: 'x', authenticated: true, now: T0 + 1 });
      // the lift is pending too, but no authenticated fetch gave it an address
      await store.recordFetch(LIFT, { ip: '10.0.0.29', file: 'x', now: T0 + 1 });
      await store.bumpRevision(YEALINK, T0 + 100);
      await store.bumpRevision(SNOM, T0 + 50);
      await store.bumpRevision(POLY, T0 + 70);
      expect(await store.pendingSyncs(T0 + 49)).toEqual([]);
      expect((await store.pendingSyncs(T0 + 70)).map((p) => p.mac)).toEqual([SNOM, POLY]);
      expect((await store.pendingSyncs(T0 + 1000)).map((p) => p.mac)).toEqual([SNOM, POLY, YEALINK]);
      await store.markSyncAttempt(SNOM, { now: T0 + 100, nextAt: T0 + 100 });
      expect((await store.pendingSyncs(T0 + 1000)).map((p) => p.mac)).toEqual([POLY, YEALINK, SNOM]);
      expect((await store.pendingSyncs(T0 + 1000, 2)).map((p) => p.mac)).toEqual([POLY, YEALINK]);
      expect((await store.pendingSyncs(T0 + 1000, 1.9)).map((p) => p.mac)).toEqual([POLY]);
      expect(await store.pendingSyncs(T0 + 1000, 0)).toEqual([]);
      const expected = { mac: SNOM, vendor: 'snom', model: 'D785', ip: '10.0.0.22', sipPort: 5060, revision: 2, requestedAt: T0 + 50, attempts: 1 };
      expect((await store.pendingSyncs(T0 + 1000)).at(-1)).toEqual(expected);
      expect(await store.pendingSyncOf('00:04:13:aa:bb:02', T0 + 100)).toEqual(expected);
      expect(await store.pendingSyncOf(SNOM, T0 + 99)).toBeUndefined();
      expect(await store.pendingSyncOf(LIFT, T0 + 1000)).toBeUndefined();
      expect(await store.pendingSyncOf(NOBODY, T0 + 1000)).toBeUndefined();
      await store.setSipPort(POLY, 5062);
      expect(await store.pendingSyncOf(POLY, T0 + 1000)).toMatchObject({ sipPort: 5062, ip: '10.0.0.23' });
    });

    test('markSyncAttempt counts NOTIFYs of a pending phone only', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.markSyncAttempt(YEALINK, { now: T0 + 1, nextAt: T0 + 5 });
      await store.markSyncAttempt('00:15:65:aa:bb:01', { now: T0 + 5, nextAt: T0 + 15 });
      expect((await store.phoneRuntime(YEALINK))?.sync).toMatchObject({ state: 'pending', attempts: 2, nextAt: T0 + 15 });
      await store.recordFetch(YEALINK, own(20, { revision: 1 }));
      await store.markSyncAttempt(YEALINK, { now: T0 + 21, nextAt: T0 + 30 });
      expect((await store.phoneRuntime(YEALINK))?.sync).toMatchObject({ state: 'synced', attempts: 2, nextAt: null });
      expect(await store.queryAudit({ kinds: ['sync-confirmed'] })).toEqual([expect.objectContaining({ detail: { revision: 1, elapsedMs: 20, attempts: 2 } })]);
      await store.markSyncAttempt(NOBODY, { now: T0, nextAt: T0 }); // nothing to count
    });

    test('markUnreachable: no more NOTIFYs, sync-failed audited once, and a late fetch still confirms', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.recordFetch(SNOM, { ip: '10.0.0.30', file: 'snomD785-000413AABB02.htm', authenticated: true, now: T0 + 1 });
      await store.bumpRevision(SNOM, T0 + 10);
      await store.markSyncAttempt(SNOM, { now: T0 + 10, nextAt: T0 + 20 });
      await store.markUnreachable('00:04:13:AA:BB:02', T0 + 400);
      expect(await store.pendingSyncs(T0 + 10_000)).toEqual([]);
      expect((await store.phoneRuntime(SNOM))?.sync).toMatchObject({ state: 'unreachable', revision: 2, attempts: 1, nextAt: null });
      expect(await store.queryAudit({ kinds: ['sync-failed'] })).toEqual([
        { id: expect.any(Number), kind: 'sync-failed', at: T0 + 400, phone: SNOM, detail: { revision: 2, attempts: 1 }, ...backend.auditStamp },
      ]);
      // not pending any more: a second call, or one for a synced or unknown phone, does nothing
      await store.markUnreachable(SNOM, T0 + 401);
      await store.recordFetch(YEALINK, own(5, { revision: 1 }));
      await store.markUnreachable(YEALINK, T0 + 402);
      await store.markUnreachable(NOBODY, T0 + 403);
      expect(await store.queryAudit({ kinds: ['sync-failed'] })).toHaveLength(1);
      expect((await store.phoneRuntime(YEALINK))?.sync.state).toBe('synced');
      expect(await store.recordFetch(SNOM, { ip: '10.0.0.30', file: 'x', revision: 2, authenticated: true, now: T0 + 500 })).toEqual({
        confirmed: true,
        elapsedMs: 490,
      });
      expect((await store.phoneRuntime(SNOM))?.sync.state).toBe('synced');
    });

    test('syncStateCounts: phones by sync state', async () => {
      const { store } = await b.open();
      expect(await store.syncStateCounts()).toEqual({});
      await seed(store);
      expect(await store.syncStateCounts()).toEqual({ pending: 4 });
      await store.recordFetch(YEALINK, own(1, { revision: 1 }));
      await store.markUnreachable(SNOM, T0 + 2);
      expect(await store.syncStateCounts()).toEqual({ pending: 2, synced: 1, unreachable: 1 });
      await store.bumpRevision(YEALINK, T0 + 3);
      await store.bumpRevision(SNOM, T0 + 3);
      expect(await store.syncStateCounts()).toEqual({ pending: 4 });
    });
  });
});
