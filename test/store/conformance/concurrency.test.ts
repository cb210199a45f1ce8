/**
 * Store contract, concurrent calls on one store: transactions that read and then write lose no update
 * (SQLite runs them one at a time; PostgreSQL re-runs one that lost a serialization race), and racing
 * writers of the same row end as if they had run one after another: one enrolment, one new sighting,
 * one registration, one account, one session per user; the losers see a conflict or the winner's row.
 */
import { describe, expect, test } from 'vitest';
import { HotdeskError, isHotdeskError } from '../../../agent/core/errors.js';
import type { Phone } from '../../../agent/core/model.js';
import { isConflict } from '../../../agent/store/store-api.js';
import type { LineRegistration } from '../../../agent/store/store-types.js';
import { backends, useBackend } from './backends.js';
import { POLY, SNOM, seed, T0, YEALINK } from './fixtures.js';

/** How often each value occurs, sorted by value. */
const tally = (xs: readonly string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of [...xs].sort()) out[x] = (out[x] ?? 0) + 1;
  return out;
};
const settled = <T>(ps: Promise<T>[]): Promise<PromiseSettledResult<T>[]> => Promise.allSettled(ps);

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('concurrency', () => {
    const b = useBackend(backend);

    test('concurrent read-modify-write transactions lose no update', async () => {
      const { store } = await b.open();
      await Promise.all(
        [1, 2, 3, 4, 5, 6].map((n) =>
          store.transaction(async (tx) => {
            const c = await tx.getLock('user', '101');
            await tx.setLock('user', '101', { ...c, failures: [...c.failures, T0 + n] });
          }),
        ),
      );
      expect((await store.getLock('user', '101')).failures).toEqual([1, 2, 3, 4, 5, 6].map((n) => T0 + n));
    });

    test('concurrent exclusive logins of one user: exactly one wins, the other is a conflict', async () => {
      const { store } = await b.open();
      await seed(store);
      const results = await Promise.allSettled(
        [YEALINK, SNOM, POLY].map((mac, i) =>
          store.transaction(async (tx) => {
            if ((await tx.sessionsOfUser('200')).length > 0) throw new HotdeskError('already-logged-in', 'taken');
            await tx.startSession({ phoneMac: mac, userExt: '200', startedAt: T0 + i }, true);
            await tx.appendAudit({ kind: 'login', at: T0 + i, phone: mac, user: '200' });
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(isConflict(r.reason) || isHotdeskError(r.reason, 'already-logged-in'), String(r.reason)).toBe(true);
      }
      expect(await store.sessionsOfUser('200')).toHaveLength(1);
      expect(await store.queryAudit({ kinds: ['login'] })).toHaveLength(1);
    });

    test('concurrent revision bumps outside transactions each get their own revision', async () => {
      const { store } = await b.open();
      await seed(store);
      const revisions = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => store.bumpRevision(YEALINK, T0 + n)));
      expect([...revisions].sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
      expect((await store.phoneRuntime(YEALINK))?.revision).toBe(9);
    });

    test('racing enrolments of one new phone: one phone, one line, one audit; every caller gets the phone', async () => {
      const { store } = await b.open();
      const mac = '001565777777';
      const phones = await Promise.all([1, 2, 3, 4].map((n) => store.enrolPhone({ mac, vendor: 'yealink', model: 'T46U' }, T0 + n)));
      expect(new Set(phones.map((p) => JSON.stringify(p))).size).toBe(1);
      expect(await store.listPhones()).toHaveLength(1);
      expect((await store.getHotdeskLine(mac))?.username).toBe(`hd-${mac}`);
      expect(await store.queryAudit({ kinds: ['enrolment'] })).toHaveLength(1);
    });

    test('racing sightings of one new MAC: one new, the rest repeats, all counted', async () => {
      const { store } = await b.open();
      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => store.recordSighting({ mac: '001565888888', ip: '10.0.0.2', at: T0 + n })));
      expect(tally(results)).toEqual({ new: 1, repeat: 4 });
      expect((await store.listSightings()).map((s) => [s.mac, s.count, s.firstAt])).toEqual([['001565888888', 5, expect.any(Number)]]);
    });

    test('racing registrations of one line: one registered, the rest refreshed, one audit, heard once', async () => {
      const { store } = await b.open();
      await seed(store);
      const heard: string[][] = [];
      store.onChange((m) => heard.push([...m]));
      const reg = (cseq: number): LineRegistration => ({
        contact: `sip:hd-${YEALINK}@10.0.0.21`,
        address: '10.0.0.21',
        port: 5060,
        transport: 'udp',
        callId: 'race',
        cseq,
        registeredAt: T0,
        expiresAt: T0 + 3_600_000,
      });
      const results = await Promise.all([1, 2, 3].map((n) => store.setLineRegistration(YEALINK, reg(n), T0)));
      expect(tally(results)).toEqual({ refreshed: 2, registered: 1 });
      expect(await store.queryAudit({ kinds: ['line-registered'] })).toHaveLength(1);
      expect(heard).toEqual([[YEALINK]]);
    });

    test('racing accounts of one name: one added, the others refused with conflict', async () => {
      const { store } = await b.open();
      const results = await settled([1, 2, 3].map((n) => store.addAdmin({ name: 'root', role: 'admin', passwordHash: `h${n}` }, T0 + n)));
      const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : isHotdeskError(r.reason) ? r.reason.code : String(r.reason)));
      expect(tally(codes)).toEqual({ conflict: 2, ok: 1 });
      expect(await store.countAdmins()).toBe(1);
    });

    test('racing writers of one counter, user and phone: the last write is whole, never a mix', async () => {
      const { store } = await b.open();
      await Promise.all([1, 2, 3].map((n) => store.setLock('user', '101', { failures: [T0 + n, T0 + n], lockouts: n, lockedUntil: T0 + n })));
      const c = await store.getLock('user', '101');
      const n = c.lockouts;
      expect(c).toEqual({ failures: [T0 + n, T0 + n], lockouts: n, lockedUntil: T0 + n });
      expect(await store.lockRowCounts()).toEqual({ failures: 2, locks: 1 });

      const phone = (n: number): Phone => ({ mac: POLY, vendor: 'poly', model: 'VVX450', label: `Desk ${n}`, hotdesk: true, identities: [], keys: [] });
      await Promise.all([1, 2, 3].map((k) => store.putPhone(phone(k), 'directory', T0 + k)));
      expect(await store.listPhones()).toHaveLength(1);
      expect(await store.getPhone(POLY)).toEqual(phone(Number((await store.getPhone(POLY))?.label.slice(5))));
      expect((await store.listLineRegistrations()).map((l) => l.mac)).toEqual([POLY]);

      const sip = { user: '555', authName: '555', password: 'p', displayName: 'd' };
      await Promise.all(['1111', '2222', '3333'].map((pin, k) => store.putUser({ ext: '555', name: `n${k}`, hotdesk: true, sip }, pin, T0)));
      const pin = await store.userPin('555');
      expect(['1111', '2222', '3333']).toContain(pin);
      expect(await store.verifyPin('555', pin ?? '')).toBe(true);
    });
  });
});
