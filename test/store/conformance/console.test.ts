/**
 * Store contract, console accounts and their sessions: accounts by name (bad names and taken names
 * refused), sessions keyed by the hash of their cookie carrying the account's current role, touched,
 * ended one by one or per account, pruned by age and idleness, and ended with their account.
 */
import { describe, expect, test } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import type { StoreApi } from '../../../agent/store/store-api.js';
import { backends, useBackend } from './backends.js';
import { rejection, T0 } from './fixtures.js';

const HASH = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';
const key = (n: number): string => n.toString(16).padStart(64, '0');

async function twoAccounts(store: StoreApi): Promise<void> {
  await store.addAdmin({ name: 'root', role: 'admin', passwordHash: HASH }, T0);
  await store.addAdmin({ name: 'desk.help@example', role: 'helpdesk', passwordHash: `${HASH}2` }, T0 + 1);
}

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('console accounts and sessions', () => {
    const b = useBackend(backend);

    test('accounts: added, read by name, listed by name, counted, removed once', async () => {
      const { store } = await b.open();
      expect(await store.countAdmins()).toBe(0);
      expect(await store.listAdmins()).toEqual([]);
      await twoAccounts(store);
      expect(await store.getAdmin('root')).toEqual({ name: 'root', role: 'admin', passwordHash: HASH, createdAt: T0, updatedAt: T0 });
      expect(await store.getAdmin('nobody')).toBeUndefined();
      expect((await store.listAdmins()).map((a) => [a.name, a.role])).toEqual([
        ['desk.help@example', 'helpdesk'],
        ['root', 'admin'],
      ]);
      expect(await store.countAdmins()).toBe(2);
      expect(await store.removeAdmin('root')).toBe(true);
      expect(await store.removeAdmin('root')).toBe(false);
      expect(await store.getAdmin('root')).toBeUndefined();
      expect(await store.countAdmins()).toBe(1);
    });

    test('accounts are listed in byte order of their names (capitals first, then - . _ before letters)', async () => {
      const { store } = await b.open();
      const names = ['Zed', 'alice', 'Bob', 'a.b', 'a-b', 'a_b', 'ab', '9lives'];
      for (const name of names) await store.addAdmin({ name, role: 'helpdesk', passwordHash: HASH }, T0);
      expect((await store.listAdmins()).map((a) => a.name)).toEqual(['9lives', 'Bob', 'Zed', 'a-b', 'a.b', 'a_b', 'ab', 'alice']);
      expect(await store.getAdmin('zed')).toBeUndefined();
      expect((await store.getAdmin('Zed'))?.name).toBe('Zed');
    });

    test('a bad account name is refused with bad-request, a taken one with conflict; nothing is written', async () => {
      const { store } = await b.open();
      await twoAccounts(store);
      for (const name of ['', '.dot', 'has space', 'x'.repeat(65), 'semi;colon']) {
        const e = await rejection(store.addAdmin({ name, role: 'admin', passwordHash: HASH }, T0));
        expect(isHotdeskError(e, 'bad-request'), name).toBe(true);
      }
      const e = await rejection(store.addAdmin({ name: 'root', role: 'helpdesk', passwordHash: 'other' }, T0 + 9));
      expect(isHotdeskError(e, 'conflict')).toBe(true);
      expect(await store.getAdmin('root')).toEqual({ name: 'root', role: 'admin', passwordHash: HASH, createdAt: T0, updatedAt: T0 });
      expect(await store.countAdmins()).toBe(2);
      await store.addAdmin({ name: 'x'.repeat(64), role: 'helpdesk', passwordHash: HASH }, T0);
      expect(await store.countAdmins()).toBe(3);
    });

    test('sessions: created, read with the account role, touched, deleted once', async () => {
      const { store } = await b.open();
      await twoAccounts(store);
      await store.createConsoleSession({ key: key(1), admin: 'root', csrfToken: 'csrf-1', now: T0 + 10, source: '10.0.0.5' });
      expect(await store.getConsoleSession(key(1))).toEqual({
        key: key(1),
        admin: 'root',
        role: 'admin',
        csrfToken: 'csrf-1',
        createdAt: T0 + 10,
        lastSeenAt: T0 + 10,
        source: '10.0.0.5',
      });
      expect(await store.getConsoleSession(key(2))).toBeUndefined();
      await store.touchConsoleSession(key(1), T0 + 50);
      await store.touchConsoleSession(key(2), T0 + 50); // no such session: nothing to do
      expect(await store.getConsoleSession(key(1))).toMatchObject({ createdAt: T0 + 10, lastSeenAt: T0 + 50 });
      expect(await store.deleteConsoleSession(key(1))).toBe(true);
      expect(await store.deleteConsoleSession(key(1))).toBe(false);
      expect(await store.getConsoleSession(key(1))).toBeUndefined();
    });

    test("a session carries its account's current role, and ends with its account", async () => {
      const { store } = await b.open();
      await twoAccounts(store);
      await store.createConsoleSession({ key: key(3), admin: 'desk.help@example', csrfToken: 'c', now: T0, source: '::1' });
      expect((await store.getConsoleSession(key(3)))?.role).toBe('helpdesk');
      expect(await store.removeAdmin('desk.help@example')).toBe(true);
      expect(await store.getConsoleSession(key(3))).toBeUndefined();
      // a session of an account that does not exist is refused
      await rejection(store.createConsoleSession({ key: key(4), admin: 'ghost', csrfToken: 'c', now: T0, source: '::1' }));
      expect(await store.getConsoleSession(key(4))).toBeUndefined();
    });

    test('deleteConsoleSessionsOf ends every session of one account and counts them', async () => {
      const { store } = await b.open();
      await twoAccounts(store);
      for (const n of [1, 2, 3]) await store.createConsoleSession({ key: key(n), admin: 'root', csrfToken: `c${n}`, now: T0, source: 's' });
      await store.createConsoleSession({ key: key(9), admin: 'desk.help@example', csrfToken: 'c9', now: T0, source: 's' });
      expect(await store.deleteConsoleSessionsOf('root')).toBe(3);
      expect(await store.deleteConsoleSessionsOf('root')).toBe(0);
      expect(await store.deleteConsoleSessionsOf('ghost')).toBe(0);
      expect(await store.getConsoleSession(key(9))).toBeDefined();
      expect(await store.getAdmin('root')).toBeDefined();
    });

    test('pruneConsoleSessions deletes sessions created before the first time or unused since the second', async () => {
      const { store } = await b.open();
      await twoAccounts(store);
      await store.createConsoleSession({ key: key(1), admin: 'root', csrfToken: 'c', now: T0, source: 's' }); // old, but used
      await store.createConsoleSession({ key: key(2), admin: 'root', csrfToken: 'c', now: T0 + 100, source: 's' }); // idle
      await store.createConsoleSession({ key: key(3), admin: 'root', csrfToken: 'c', now: T0 + 200, source: 's' });
      await store.touchConsoleSession(key(1), T0 + 300);
      await store.touchConsoleSession(key(3), T0 + 300);
      expect(await store.pruneConsoleSessions(T0, T0 + 150)).toBe(1);
      expect(await store.getConsoleSession(key(2))).toBeUndefined();
      expect(await store.pruneConsoleSessions(T0 + 1, T0 + 150)).toBe(1);
      expect(await store.getConsoleSession(key(1))).toBeUndefined();
      expect(await store.getConsoleSession(key(3))).toBeDefined();
      expect(await store.pruneConsoleSessions(T0 + 200, T0 + 300)).toBe(0);
    });
  });
});
