/**
 * Store contract, transactions: a commit keeps everything, a throw rolls everything back (the error
 * comes out as thrown), a nested transaction is a savepoint that rolls back alone, change listeners
 * hear only after the commit and never on a rollback, and calls on the store itself inside
 * `transaction` join it.
 */
import { describe, expect, test } from 'vitest';
import { HotdeskError, isHotdeskError } from '../../../agent/core/errors.js';
import { backends, useBackend } from './backends.js';
import { NOBODY, POLY, rejection, SNOM, seed, T0, userOf, YEALINK } from './fixtures.js';

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('transactions', () => {
    const b = useBackend(backend);

    test('a commit keeps every write and returns what fn returned; reads inside see the writes', async () => {
      const { store } = await b.open();
      const value = await store.transaction(async (tx) => {
        await tx.putUser(userOf('101'), '4321', T0);
        await tx.putPhone({ mac: YEALINK, vendor: 'yealink', model: 'T46U', label: 'D', hotdesk: true, identities: [], keys: [] }, 'directory', T0);
        await tx.startSession({ phoneMac: YEALINK, userExt: '101', startedAt: T0 }, true);
        const id = await tx.appendAudit({ kind: 'login', at: T0, phone: YEALINK, user: '101' });
        expect(await tx.getUser('101')).toEqual(userOf('101'));
        expect(await tx.sessionOf(YEALINK)).toBeDefined();
        expect((await tx.queryAudit()).map((e) => e.id)).toEqual([id]);
        return { id };
      });
      expect(value).toEqual({ id: expect.any(Number) });
      expect(await store.getUser('101')).toEqual(userOf('101'));
      expect(await store.sessionOf(YEALINK)).toEqual({ phoneMac: YEALINK, userExt: '101', startedAt: T0 });
      expect((await store.queryAudit()).map((e) => e.id)).toEqual([value.id]);
      expect((await store.getHotdeskLine(YEALINK))?.username).toBe(`hd-${YEALINK}`);
    });

    test('a throw rolls back everything, and the error comes out as thrown', async () => {
      const { store } = await b.open();
      await seed(store);
      const site = await store.getSite();
      const boom = new Error('boom');
      const e = await rejection(
        store.transaction(async (tx) => {
          await tx.putUser({ ...userOf('101'), name: 'changed' }, null, T0 + 1);
          await tx.deleteUser('200');
          await tx.putSite({ ...site, name: 'changed' }, T0 + 1);
          await tx.bumpRevision(YEALINK, T0 + 1);
          await tx.startSession({ phoneMac: SNOM, userExt: '102', startedAt: T0 + 1 }, true);
          await tx.setLock('user', '101', { failures: [T0], lockouts: 1, lockedUntil: T0 + 60_000 });
          await tx.appendAudit({ kind: 'import', at: T0 + 1 });
          await tx.queueAudit({ kind: 'sync-sent', at: T0 + 1, phone: YEALINK });
          await tx.recordSighting({ mac: '001565000001', ip: '10.0.0.1', at: T0 + 1 });
          await tx.addAdmin({ name: 'root', role: 'admin', passwordHash: 'h' }, T0 + 1);
          await tx.enrolPhone({ mac: '001565000002', vendor: 'yealink', model: 'T46U' }, T0 + 1);
          throw boom;
        }),
      );
      expect(e).toBe(boom);
      expect(await store.getUser('101')).toEqual(userOf('101'));
      expect(await store.verifyPin('101', '4321')).toBe(true);
      expect(await store.getUser('200')).toEqual(userOf('200'));
      expect(await store.getSite()).toEqual(site);
      expect((await store.phoneRuntime(YEALINK))?.revision).toBe(1);
      expect(await store.listSessions()).toEqual([]);
      expect(await store.lockRowCounts()).toEqual({ failures: 0, locks: 0 });
      expect(await store.queryAudit()).toEqual([]);
      expect(await store.listSightings()).toEqual([]);
      expect(await store.countAdmins()).toBe(0);
      expect(await store.getPhone('001565000002')).toBeUndefined();
      expect(await store.getHotdeskLine('001565000002')).toBeUndefined();
    });

    test("a store method's error inside fn rolls back the writes before it", async () => {
      const { store } = await b.open();
      await seed(store);
      const e = await rejection(
        store.transaction(async (tx) => {
          await tx.appendAudit({ kind: 'import', at: T0 });
          await tx.bumpRevision(NOBODY, T0);
        }),
      );
      expect(isHotdeskError(e, 'unknown-phone')).toBe(true);
      expect(await store.queryAudit()).toEqual([]);
    });

    test('a nested transaction is a savepoint: its throw rolls back only its own writes', async () => {
      const { store } = await b.open();
      await seed(store);
      const inner = new HotdeskError('conflict', 'inner');
      await store.transaction(async (tx) => {
        await tx.appendAudit({ kind: 'import', at: T0 + 1, detail: { step: 'before' } });
        const e = await rejection(
          store.transaction(async (tx2) => {
            await tx2.appendAudit({ kind: 'import', at: T0 + 2, detail: { step: 'inner' } });
            await tx2.deleteUser('200');
            throw inner;
          }),
        );
        expect(e).toBe(inner);
        expect(await tx.getUser('200')).toEqual(userOf('200'));
        // a savepoint that succeeds is part of the outer transaction
        const n = await store.transaction(async (tx2) => {
          await tx2.appendAudit({ kind: 'import', at: T0 + 3, detail: { step: 'kept' } });
          return 7;
        });
        expect(n).toBe(7);
        await tx.appendAudit({ kind: 'import', at: T0 + 4, detail: { step: 'after' } });
      });
      expect((await store.queryAudit()).map((e) => e.detail?.['step'])).toEqual(['before', 'kept', 'after']);
      expect(await store.getUser('200')).toEqual(userOf('200'));
    });

    test('a committed savepoint goes when the outer transaction rolls back', async () => {
      const { store } = await b.open();
      await seed(store);
      await rejection(
        store.transaction(async () => {
          await store.transaction(async (tx2) => {
            await tx2.deleteUser('200');
          });
          throw new Error('outer');
        }),
      );
      expect(await store.getUser('200')).toEqual(userOf('200'));
    });

    test('change listeners hear after the commit, each MAC once; on a rollback nobody hears', async () => {
      const { store } = await b.open();
      await seed(store);
      const heard: string[][] = [];
      store.onChange((m) => heard.push([...m]));
      store.onChange(() => {
        throw new Error('a broken listener breaks neither the store nor the other listeners');
      });
      await store.transaction(async (tx) => {
        await tx.bumpRevision(YEALINK, T0 + 1);
        await tx.bumpRevision(SNOM, T0 + 1);
        await tx.bumpRevision(YEALINK, T0 + 2);
        expect(heard).toEqual([]);
      });
      expect(heard).toHaveLength(1);
      expect([...(heard[0] ?? [])].sort()).toEqual([YEALINK, SNOM].sort());
      expect((await store.phoneRuntime(YEALINK))?.revision).toBe(3);

      await rejection(
        store.transaction(async (tx) => {
          await tx.bumpRevision(POLY, T0 + 3);
          throw new Error('roll back');
        }),
      );
      expect(heard).toHaveLength(1);
      expect((await store.phoneRuntime(POLY))?.revision).toBe(1);
      // a change after the rollback, outside any transaction, is heard when its call returns
      await store.bumpRevision(SNOM, T0 + 4);
      expect(heard.at(-1)).toEqual([SNOM]);
    });

    test('calls on the store itself inside transaction join it: they see its writes and roll back with it', async () => {
      const { store } = await b.open();
      await seed(store);
      const heard: string[][] = [];
      store.onChange((m) => heard.push([...m]));
      await rejection(
        store.transaction(async (tx) => {
          await store.deleteUser('200');
          expect(await tx.getUser('200')).toBeUndefined();
          await tx.putUser({ ...userOf('101'), name: 'Renamed' }, '4321', T0 + 1);
          expect((await store.getUser('101'))?.name).toBe('Renamed');
          await store.bumpRevision(POLY, T0 + 2);
          expect((await tx.phoneRuntime(POLY))?.revision).toBe(2);
          expect(heard).toEqual([]);
          throw new Error('roll back');
        }),
      );
      expect(await store.getUser('200')).toEqual(userOf('200'));
      expect(await store.getUser('101')).toEqual(userOf('101'));
      expect((await store.phoneRuntime(POLY))?.revision).toBe(1);
      expect(heard).toEqual([]);
      // and commit with it
      await store.transaction(async () => {
        await store.deleteUser('200');
        await store.bumpRevision(POLY, T0 + 3);
      });
      expect(await store.getUser('200')).toBeUndefined();
      expect(heard).toEqual([[POLY]]);
    });

    test('transactions one after another, and a site written inside one', async () => {
      const { store } = await b.open();
      const site = await store.getSite();
      for (let n = 0; n < 5; n++) {
        await store.transaction(async (tx) => {
          await tx.putSite({ ...site, name: `office ${n}` }, T0 + n);
          expect((await tx.getSite()).name).toBe(`office ${n}`);
        });
      }
      expect((await store.getSite()).name).toBe('office 4');
      await rejection(
        store.transaction(async (tx) => {
          await tx.putSite({ ...site, name: 'never' }, T0 + 9);
          throw new Error('no');
        }),
      );
      expect((await store.getSite()).name).toBe('office 4');
    });
  });
});
