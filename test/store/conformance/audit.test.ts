/**
 * Store contract, audit queries: appended events come back with their ids, oldest first; filters by
 * time, phone (any notation), user and kind; `limit` keeps the most recent, `afterId` tails from an id.
 */
import { describe, expect, test } from 'vitest';
import type { AuditEvent } from '../../../agent/core/model.js';
import type { StoreApi } from '../../../agent/store/store-api.js';
import { backends, useBackend } from './backends.js';
import { SNOM, T0, YEALINK } from './fixtures.js';

/** Appends five events alternating logout/login at T0+1000.. (users 101 ×3, then 200 ×2, all on YEALINK); returns their ids. */
async function five(store: StoreApi): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < 5; i++)
    ids.push(await store.appendAudit({ kind: i % 2 ? 'login' : 'logout', at: T0 + 1000 + i, phone: YEALINK, user: i < 3 ? '101' : '200', detail: { i } }));
  return ids;
}

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('audit queries', () => {
    const b = useBackend(backend);

    test('appendAudit returns increasing ids; events come back as written, oldest first', async () => {
      const { store } = await b.open();
      expect(await store.queryAudit()).toEqual([]);
      const events: AuditEvent[] = [
        { kind: 'import', at: T0 },
        { kind: 'login', at: T0 + 1, phone: YEALINK, user: '101', detail: { s: 'text', n: 42, f: 1.5, yes: true, no: false, none: null } },
        { kind: 'wrong-pin', at: T0 + 2, user: '102' },
        { kind: 'pnp-sighting', at: T0 + 3, phone: SNOM, detail: { ip: '10.0.0.9' } },
      ];
      const ids: number[] = [];
      for (const e of events) ids.push(await store.appendAudit(e));
      expect(ids.every((id, i) => Number.isInteger(id) && (i === 0 || id > (ids[i - 1] ?? 0)))).toBe(true);
      const got = await store.queryAudit();
      expect(got).toEqual(events.map((e, i) => ({ id: ids[i], ...e, ...backend.auditStamp })));
      // absent fields stay absent (not null)
      expect(got[0]).toEqual({ id: ids[0], kind: 'import', at: T0, ...backend.auditStamp });
      expect(Object.keys(got[2] ?? {}).sort()).toEqual(['at', 'id', 'kind', 'user', ...Object.keys(backend.auditStamp)].sort());
    });

    test('queueAudit: without write-behind the event is there once the call returns', async () => {
      const { store } = await b.open();
      await store.queueAudit({ kind: 'sync-sent', at: T0, phone: YEALINK, detail: { revision: 1 } });
      expect(await store.queryAudit()).toEqual([
        { id: expect.any(Number), kind: 'sync-sent', at: T0, phone: YEALINK, detail: { revision: 1 }, ...backend.auditStamp },
      ]);
    });

    test('filters by time, phone (any notation), user and kinds; combined with AND', async () => {
      const { store } = await b.open();
      await five(store);
      await store.appendAudit({ kind: 'login', at: T0 + 1005, phone: SNOM, user: '101' });
      const i = (es: readonly { detail?: Record<string, unknown> }[]): unknown[] => es.map((e) => e.detail?.['i'] ?? null);
      expect(i(await store.queryAudit({ since: T0 + 1003 }))).toEqual([3, 4, null]);
      expect((await store.queryAudit({ user: '200' })).map((e) => e.at)).toEqual([T0 + 1003, T0 + 1004]);
      expect(i(await store.queryAudit({ phone: '00:15:65:AA:BB:01', kinds: ['login'] }))).toEqual([1, 3]);
      expect(i(await store.queryAudit({ phone: YEALINK }))).toEqual([0, 1, 2, 3, 4]);
      expect(i(await store.queryAudit({ kinds: ['login'] }))).toEqual([1, 3, null]);
      expect(i(await store.queryAudit({ kinds: ['login', 'logout'], user: '101', since: T0 + 1001 }))).toEqual([1, 2, null]);
      expect(await store.queryAudit({ kinds: [] })).toEqual([]);
      expect(await store.queryAudit({ kinds: ['enrolment'] })).toEqual([]);
      expect(await store.queryAudit({ user: '999' })).toEqual([]);
      expect(await store.queryAudit({ phone: 'ffffffffffff' })).toEqual([]);
      expect(await store.queryAudit({ since: T0 + 2000 })).toEqual([]);
    });

    test('limit keeps the most recent (still oldest first); afterId tails the first ones after an id', async () => {
      const { store } = await b.open();
      const ids = await five(store);
      const id = (i: number): number => ids[i] ?? -1;
      expect((await store.queryAudit({ limit: 2 })).map((e) => e.id)).toEqual(ids.slice(3));
      expect((await store.queryAudit({ limit: 2.9 })).map((e) => e.id)).toEqual(ids.slice(3));
      // a limit below 1 is 1
      expect((await store.queryAudit({ limit: 0 })).map((e) => e.id)).toEqual(ids.slice(4));
      expect((await store.queryAudit({ limit: -5 })).map((e) => e.id)).toEqual(ids.slice(4));
      expect((await store.queryAudit({ afterId: id(1) })).map((e) => e.id)).toEqual(ids.slice(2));
      expect((await store.queryAudit({ afterId: id(0), limit: 2 })).map((e) => e.id)).toEqual(ids.slice(1, 3));
      expect((await store.queryAudit({ afterId: 0, limit: 1 })).map((e) => e.id)).toEqual(ids.slice(0, 1));
      expect(await store.queryAudit({ afterId: id(4) })).toEqual([]);
      expect((await store.queryAudit({ afterId: id(0), user: '200' })).map((e) => e.id)).toEqual(ids.slice(3));
    });

    test('the default limit is the 100 most recent', async () => {
      const { store } = await b.open();
      await store.transaction(async (tx) => {
        for (let n = 0; n < 105; n++) await tx.appendAudit({ kind: 'import', at: T0 + n });
      });
      const got = await store.queryAudit();
      expect(got).toHaveLength(100);
      expect(got[0]?.at).toBe(T0 + 5);
      expect(got.at(-1)?.at).toBe(T0 + 104);
      expect(await store.queryAudit({ limit: 10_000 })).toHaveLength(105);
      expect(await store.queryAudit({ limit: 1_000_000 })).toHaveLength(105);
    });
  });
});
