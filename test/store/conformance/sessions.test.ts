/**
 * Store contract, sessions and their invariants: one session per phone always, one per user when
 * exclusive (`multipleLogin` move/refuse). A refused session is an error `isConflict` recognises (the
 * shell maps it to "a concurrent change won") and leaves the state as it was.
 */
import { describe, expect, test } from 'vitest';
import type { Session } from '../../../agent/core/model.js';
import { isConflict } from '../../../agent/store/store-api.js';
import { backends, useBackend } from './backends.js';
import { LIFT, NOBODY, POLY, rejection, SNOM, seed, T0, YEALINK } from './fixtures.js';

const s = (phoneMac: string, userExt: string, dt: number): Session => ({ phoneMac, userExt, startedAt: T0 + dt });

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('sessions and invariants', () => {
    const b = useBackend(backend);

    test('sessions round-trip: by phone in any notation, by user and all, oldest first', async () => {
      const { store } = await b.open();
      await seed(store);
      expect(await store.listSessions()).toEqual([]);
      await store.startSession(s(YEALINK, '200', 5), true);
      await store.startSession(s(POLY, '101', 3), false);
      await store.startSession(s(SNOM, '101', 3), false);
      await store.startSession(s(LIFT, '101', 1), false);
      expect(await store.sessionOf('00:15:65:AA:BB:01')).toEqual(s(YEALINK, '200', 5));
      expect(await store.sessionOf('nonsense')).toBeUndefined();
      expect(await store.sessionOf(NOBODY)).toBeUndefined();
      // by start time, then MAC
      expect(await store.sessionsOfUser('101')).toEqual([s(LIFT, '101', 1), s(SNOM, '101', 3), s(POLY, '101', 3)]);
      expect(await store.sessionsOfUser('102')).toEqual([]);
      expect(await store.listSessions()).toEqual([s(LIFT, '101', 1), s(SNOM, '101', 3), s(POLY, '101', 3), s(YEALINK, '200', 5)]);
    });

    test('endSession: only the session of that user on that phone; false when there is none', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.startSession(s(YEALINK, '200', 1), true);
      expect(await store.endSession({ phoneMac: YEALINK, userExt: '101' })).toBe(false);
      expect(await store.sessionOf(YEALINK)).toEqual(s(YEALINK, '200', 1));
      expect(await store.endSession({ phoneMac: YEALINK, userExt: '200' })).toBe(true);
      expect(await store.sessionOf(YEALINK)).toBeUndefined();
      expect(await store.endSession({ phoneMac: YEALINK, userExt: '200' })).toBe(false);
      // the user may start again at once
      await store.startSession(s(SNOM, '200', 2), true);
      expect(await store.sessionsOfUser('200')).toEqual([s(SNOM, '200', 2)]);
    });

    test('a second session on a phone is refused as a conflict, exclusive or not, and changes nothing', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.startSession(s(YEALINK, '200', 1), true);
      for (const [user, exclusive] of [
        ['101', true],
        ['101', false],
        ['200', false],
      ] as const) {
        const e = await rejection(store.startSession(s(YEALINK, user, 2), exclusive));
        expect(isConflict(e), `${user} ${exclusive}: ${String(e)}`).toBe(true);
      }
      expect(await store.listSessions()).toEqual([s(YEALINK, '200', 1)]);
      expect(await store.sessionsOfUser('101')).toEqual([]);
    });

    test('exclusive: a second session of the user is refused as a conflict and changes nothing', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.startSession(s(YEALINK, '200', 1), true);
      const e = await rejection(store.startSession(s(SNOM, '200', 2), true));
      expect(isConflict(e), String(e)).toBe(true);
      expect(await store.listSessions()).toEqual([s(YEALINK, '200', 1)]);
      expect(await store.sessionOf(SNOM)).toBeUndefined();
      // another user is welcome on that phone
      await store.startSession(s(SNOM, '101', 3), true);
      expect((await store.listSessions()).map((x) => x.userExt)).toEqual(['200', '101']);
    });

    test('not exclusive (multipleLogin allow): a user may hold several phones', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.startSession(s(SNOM, '101', 3), false);
      await store.startSession(s(POLY, '101', 4), false);
      expect((await store.sessionsOfUser('101')).map((x) => x.phoneMac)).toEqual([SNOM, POLY]);
    });

    test('setSessionsExclusive: on refuses while a user holds two phones (a conflict, nothing changed); then one per user', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.startSession(s(SNOM, '101', 3), false);
      await store.startSession(s(POLY, '101', 4), false);
      await store.startSession(s(YEALINK, '200', 5), false);
      const e = await rejection(store.setSessionsExclusive(true));
      expect(isConflict(e), String(e)).toBe(true);
      // nothing became exclusive: 200 may still take a second phone
      await store.startSession(s(LIFT, '200', 6), true);
      expect(await store.endSession({ phoneMac: LIFT, userExt: '200' })).toBe(true);
      expect(await store.endSession({ phoneMac: POLY, userExt: '101' })).toBe(true);
      await store.setSessionsExclusive(true);
      for (const user of ['101', '200']) {
        const refused = await rejection(store.startSession(s(LIFT, user, 7), true));
        expect(isConflict(refused), `${user}: ${String(refused)}`).toBe(true);
      }
      expect(await store.sessionOf(LIFT)).toBeUndefined();
      // and off again (policy back to allow): a second exclusive session is no longer checked against them
      await store.setSessionsExclusive(false);
      await store.startSession(s(LIFT, '101', 8), true);
      expect((await store.sessionsOfUser('101')).map((x) => x.phoneMac)).toEqual([SNOM, LIFT]);
      expect(await store.listSessions()).toHaveLength(3);
    });

    test('a session needs a known phone and a known user; refused, nothing is written', async () => {
      const { store } = await b.open();
      await seed(store);
      await rejection(store.startSession(s(SNOM, '999', 1), false));
      await rejection(store.startSession(s(NOBODY, '101', 1), true));
      expect(await store.listSessions()).toEqual([]);
      expect(await store.sessionsOfUser('999')).toEqual([]);
    });

    test('a conflict inside a transaction rolls back the whole transaction', async () => {
      const { store } = await b.open();
      await seed(store);
      await store.startSession(s(YEALINK, '200', 1), true);
      const e = await rejection(
        store.transaction(async (tx) => {
          await tx.startSession(s(POLY, '102', 2), true);
          await tx.appendAudit({ kind: 'login', at: T0 + 2, phone: POLY, user: '102' });
          await tx.startSession(s(SNOM, '200', 2), true);
        }),
      );
      expect(isConflict(e), String(e)).toBe(true);
      expect(await store.listSessions()).toEqual([s(YEALINK, '200', 1)]);
      expect(await store.queryAudit({ kinds: ['login'] })).toEqual([]);
    });
  });
});
