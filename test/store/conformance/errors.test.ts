/**
 * Store contract, errors: what refuses with which HotdeskError code (always as a rejected promise,
 * never a synchronous throw), and what quietly does nothing for a phone, user or key that does not
 * exist (the store's state afterwards is unchanged).
 */
import { describe, expect, test } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import { EMPTY_LOCK, type Phone } from '../../../agent/core/model.js';
import type { StoreApi } from '../../../agent/store/store-api.js';
import { backends, useBackend } from './backends.js';
import { LIFT, NOBODY, rejection, seed, T0 } from './fixtures.js';

const REG = {
  contact: 'sip:x@10.0.0.1',
  address: '10.0.0.1',
  port: 5060,
  transport: 'udp',
  callId: 'c',
  cseq: 1,
  registeredAt: T0,
  expiresAt: T0 + 60_000,
} as const;

/** Everything a quiet no-op could have touched. */
async function snapshot(store: StoreApi): Promise<unknown> {
  return {
    users: await store.listUsers(),
    phones: await store.listPhones(),
    runtimes: await Promise.all((await store.listPhones()).map((p) => store.phoneRuntime(p.mac))),
    sessions: await store.listSessions(),
    lines: await store.listLineRegistrations(),
    audit: await store.queryAudit({ limit: 10_000 }),
    sightings: await store.listSightings(),
    locks: await store.lockRowCounts(),
    sync: await store.syncStateCounts(),
  };
}

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('errors', () => {
    const b = useBackend(backend);

    test('unknown-phone: a revision bump or a line registration of a phone that is not there (or has no line)', async () => {
      const { store } = await b.open();
      await seed(store);
      const before = await snapshot(store);
      for (const [what, p] of [
        ['bumpRevision', () => store.bumpRevision(NOBODY, T0)],
        ['bumpRevision bad MAC', () => store.bumpRevision('nonsense', T0)],
        ['setLineRegistration', () => store.setLineRegistration(NOBODY, REG, T0)],
        ['setLineRegistration no line', () => store.setLineRegistration(LIFT, null, T0)],
        ['acceptSighting', () => store.acceptSighting(NOBODY, () => 'T46U', T0)],
      ] as const) {
        const e = await rejection(p());
        expect(isHotdeskError(e, 'unknown-phone'), `${what}: ${String(e)}`).toBe(true);
      }
      expect(await snapshot(store)).toEqual(before);
    });

    test('bad-request: an invalid MAC to enrol, accept or put, a bad account name; unknown-model; conflict on a taken account name', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.addAdmin({ name: 'root', role: 'admin', passwordHash: 'h' }, T0);
      await store.recordSighting({ mac: '001565000001', ip: '10.0.0.1', vendor: 'poly', model: 'nope', at: T0 });
      const before = await snapshot(store);
      const bad: Phone = { mac: 'zz', vendor: 'yealink', model: 'T46U', label: 'x', hotdesk: true, identities: [], keys: [] };
      for (const [code, what, p] of [
        ['bad-request', 'enrolPhone', () => store.enrolPhone({ mac: 'zz', vendor: 'yealink', model: 'T46U' }, T0)],
        ['bad-request', 'acceptSighting', () => store.acceptSighting('zz', () => 'T46U', T0)],
        ['bad-request', 'putPhone', () => store.putPhone(bad, 'directory', T0)],
        ['bad-request', 'addAdmin', () => store.addAdmin({ name: 'bad name', role: 'admin', passwordHash: 'h' }, T0)],
        ['unknown-model', 'acceptSighting', () => store.acceptSighting('001565000001', () => undefined, T0)],
        ['conflict', 'addAdmin', () => store.addAdmin({ name: 'root', role: 'helpdesk', passwordHash: 'h' }, T0)],
      ] as const) {
        const e = await rejection(p());
        expect(isHotdeskError(e, code), `${what}: ${String(e)}`).toBe(true);
      }
      expect(await snapshot(store)).toEqual(before);
      expect(await store.countAdmins()).toBe(1);
    });

    test('errors are rejected promises, never synchronous throws', async () => {
      const { store } = await b.open();
      let p: Promise<unknown> | undefined;
      expect(() => {
        p = store.bumpRevision(NOBODY, T0);
      }).not.toThrow();
      expect(isHotdeskError(await rejection(p ?? Promise.resolve()), 'unknown-phone')).toBe(true);
      expect(() => {
        p = store.enrolPhone({ mac: 'zz', vendor: 'yealink', model: 'T46U' }, T0);
      }).not.toThrow();
      expect(isHotdeskError(await rejection(p ?? Promise.resolve()), 'bad-request')).toBe(true);
    });

    test('look-ups of what is not there answer undefined, empty or false', async () => {
      const { store } = await b.open();
      await seed(store);
      for (const mac of [NOBODY, 'nonsense']) {
        expect(await store.getPhone(mac)).toBeUndefined();
        expect(await store.phoneRuntime(mac)).toBeUndefined();
        expect(await store.provisioningRuntime(mac)).toBeUndefined();
        expect(await store.identityKeysFor(mac)).toEqual([]);
        expect(await store.pendingSyncOf(mac, T0 + 1e9)).toBeUndefined();
        expect(await store.getHotdeskLine(mac)).toBeUndefined();
        expect(await store.sessionOf(mac)).toBeUndefined();
      }
      expect(await store.getUser('999')).toBeUndefined();
      expect(await store.sessionsOfUser('999')).toEqual([]);
      expect(await store.findPhoneByProvUsername('nope')).toBeUndefined();
      expect(await store.findPhoneBySipUser('nope')).toBeUndefined();
      expect(await store.findHotdeskLine('nope')).toBeUndefined();
      expect(await store.getLock('phone', NOBODY)).toEqual(EMPTY_LOCK);
      expect(await store.getAdmin('nobody')).toBeUndefined();
      expect(await store.getConsoleSession('nope')).toBeUndefined();
      expect(await store.endSession({ phoneMac: NOBODY, userExt: '101' })).toBe(false);
      expect(await store.dismissSighting(NOBODY)).toBe(false);
      expect(await store.removeAdmin('nobody')).toBe(false);
      expect(await store.deleteConsoleSession('nope')).toBe(false);
    });

    test('writes for a phone, user or key that is not there do nothing', async () => {
      const { store } = await b.open();
      await seed(store);
      const before = await snapshot(store);
      for (const mac of [NOBODY, 'nonsense']) {
        expect(await store.recordFetch(mac, { ip: '10.0.0.1', file: 'x', revision: 1, authenticated: true, now: T0 })).toEqual({ confirmed: false });
        await store.markOwnCredentialUsed(mac);
        await store.resetEnrolment(mac);
        await store.setSipPort(mac, 5099);
        await store.markSyncAttempt(mac, { now: T0, nextAt: T0 });
        await store.markUnreachable(mac, T0);
      }
      await store.deletePhone(NOBODY);
      await store.deleteUser('999');
      await store.touchConsoleSession('nope', T0);
      expect(await store.deleteConsoleSessionsOf('nobody')).toBe(0);
      expect(await store.pruneLocks(0, 0)).toBe(0);
      expect(await store.pruneConsoleSessions(0, 0)).toBe(0);
      expect(await snapshot(store)).toEqual(before);
    });
  });
});
