/**
 * Store contract, PIN lock counters: one failure row per recorded failure and one lock row per subject
 * with a lock history; round-trips, empty counters leave no rows, pruning, row counts, and the subjects
 * with something on record.
 */
import { describe, expect, test } from 'vitest';
import { EMPTY_LOCK } from '../../../agent/core/model.js';
import { backends, useBackend } from './backends.js';
import { T0, YEALINK, SNOM } from './fixtures.js';

describe.each(backends)('$name', (backend) => {
  describe.skipIf(backend.unavailable)('lock counters', () => {
    const b = useBackend(backend);

    test('failure records round-trip per scope and subject, failures oldest first', async () => {
      const { store } = await b.open();
      expect(await store.getLock('user', '101')).toEqual(EMPTY_LOCK);
      const c = { failures: [T0 + 10, T0 + 20], lockouts: 1, lockedUntil: T0 + 99 };
      await store.setLock('user', '101', c);
      expect(await store.getLock('user', '101')).toEqual(c);
      await store.setLock('user', '101', { ...c, failures: [T0 + 30, T0 + 10, T0 + 20] });
      expect(await store.getLock('user', '101')).toEqual({ ...c, failures: [T0 + 10, T0 + 20, T0 + 30] });
      expect(await store.getLock('phone', '101')).toEqual(EMPTY_LOCK);
      expect(await store.getLock('user', '102')).toEqual(EMPTY_LOCK);
      // a short number nobody has keeps its record too (unknown numbers count like wrong PINs)
      await store.setLock('user', '999', { failures: [T0 + 5], lockouts: 0, lockedUntil: 0 });
      expect(await store.getLock('user', '999')).toEqual({ failures: [T0 + 5], lockouts: 0, lockedUntil: 0 });
      // a lock history without failures in the window
      await store.setLock('phone', YEALINK, { failures: [], lockouts: 3, lockedUntil: T0 + 500 });
      expect(await store.getLock('phone', YEALINK)).toEqual({ failures: [], lockouts: 3, lockedUntil: T0 + 500 });
      // the same failure time twice is two failures
      await store.setLock('phone', SNOM, { failures: [T0, T0], lockouts: 0, lockedUntil: 0 });
      expect((await store.getLock('phone', SNOM)).failures).toEqual([T0, T0]);
      expect(await store.lockRowCounts()).toEqual({ failures: 6, locks: 2 });
    });

    test('an empty counter leaves no rows behind', async () => {
      const { store } = await b.open();
      await store.setLock('user', '101', { failures: [T0 + 1, T0 + 2], lockouts: 1, lockedUntil: T0 + 60_000 });
      await store.setLock('user', '999', { failures: [T0 + 5], lockouts: 0, lockedUntil: 0 });
      expect(await store.lockRowCounts()).toEqual({ failures: 3, locks: 1 });
      await store.setLock('user', '101', { failures: [], lockouts: 0, lockedUntil: 0 });
      await store.setLock('user', '999', EMPTY_LOCK);
      expect(await store.lockRowCounts()).toEqual({ failures: 0, locks: 0 });
      expect(await store.getLock('user', '101')).toEqual(EMPTY_LOCK);
    });

    test('pruning drops failures outside the window and forgotten lock histories only, and counts them', async () => {
      const { store } = await b.open();
      await store.setLock('phone', YEALINK, { failures: [T0 + 100, T0 + 200, T0 + 300], lockouts: 2, lockedUntil: T0 + 1000 });
      await store.setLock('user', '101', { failures: [T0 + 250], lockouts: 0, lockedUntil: 0 });
      expect(await store.pruneLocks(T0 + 199, T0 + 999)).toBe(1);
      expect(await store.pruneLocks(T0 + 200, T0 + 999)).toBe(1);
      expect(await store.getLock('phone', YEALINK)).toEqual({ failures: [T0 + 300], lockouts: 2, lockedUntil: T0 + 1000 });
      expect(await store.getLock('user', '101')).toEqual({ failures: [T0 + 250], lockouts: 0, lockedUntil: 0 });
      expect(await store.pruneLocks(T0 + 300, T0 + 1000)).toBe(3);
      expect(await store.getLock('phone', YEALINK)).toEqual(EMPTY_LOCK);
      expect(await store.getLock('user', '101')).toEqual(EMPTY_LOCK);
      expect(await store.lockRowCounts()).toEqual({ failures: 0, locks: 0 });
      expect(await store.pruneLocks(T0 + 10_000, T0 + 10_000)).toBe(0);
    });

    test('lockSubjects: a failure on record or a lock ending after now, by scope then subject, each once', async () => {
      const { store } = await b.open();
      expect(await store.lockSubjects(T0)).toEqual([]);
      await store.setLock('user', '200', { failures: [T0 - 5, T0 - 4], lockouts: 1, lockedUntil: T0 + 60_000 });
      await store.setLock('user', '101', { failures: [], lockouts: 1, lockedUntil: T0 + 60_000 });
      await store.setLock('user', '102', { failures: [], lockouts: 4, lockedUntil: T0 - 1 }); // lock over: only history
      await store.setLock('phone', YEALINK, { failures: [T0 - 1], lockouts: 0, lockedUntil: 0 });
      await store.setLock('phone', SNOM, { failures: [], lockouts: 1, lockedUntil: T0 + 1 });
      expect(await store.lockSubjects(T0)).toEqual([
        { scope: 'phone', subject: SNOM },
        { scope: 'phone', subject: YEALINK },
        { scope: 'user', subject: '101' },
        { scope: 'user', subject: '200' },
      ]);
      expect(await store.lockSubjects(T0 + 1)).toEqual([
        { scope: 'phone', subject: YEALINK },
        { scope: 'user', subject: '101' },
        { scope: 'user', subject: '200' },
      ]);
      expect(await store.lockSubjects(T0 + 60_000)).toEqual([
        { scope: 'phone', subject: YEALINK },
        { scope: 'user', subject: '200' },
      ]);
    });
  });
});
