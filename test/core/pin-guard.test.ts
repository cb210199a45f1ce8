import { describe, expect, it } from 'vitest';
import { DEFAULT_PIN_LOCKOUT, isLocked, lockSecondsFor, recordFailure, recordSuccess } from '../../agent/core/pin-guard.js';
import { EMPTY_LOCK, type LockCounter, type PinLockoutPolicy } from '../../agent/core/model.js';

const P = DEFAULT_PIN_LOCKOUT;
const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const S = 1000;

/** Applies `n` failures `gapMs` apart starting at `start`. */
function fail(c: LockCounter, n: number, start: number, gapMs = S, policy: PinLockoutPolicy = P): ReturnType<typeof recordFailure> {
  let last = { counter: c, lockedNow: false, attemptsLeft: policy.maxAttempts };
  for (let i = 0; i < n; i++) last = recordFailure(last.counter, policy, start + i * gapMs);
  return last;
}

describe('pin-guard', () => {
  it('default policy is 5 attempts / 15 min / 60 s doubling to 1 h', () => {
    expect(P).toEqual({ maxAttempts: 5, windowSeconds: 900, baseLockSeconds: 60, maxLockSeconds: 3600 });
  });

  it('counts attempts left and locks on the 5th failure within the window', () => {
    let c = EMPTY_LOCK;
    const left: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = recordFailure(c, P, T0 + i * 10 * S);
      expect(r.lockedNow).toBe(false);
      left.push(r.attemptsLeft);
      c = r.counter;
    }
    expect(left).toEqual([4, 3, 2, 1]);
    expect(c.windowStart).toBe(T0);
    const r5 = recordFailure(c, P, T0 + 60 * S);
    expect(r5.lockedNow).toBe(true);
    expect(r5.attemptsLeft).toBe(0);
    expect(r5.counter).toEqual({ failures: 0, windowStart: 0, lockouts: 1, lockedUntil: T0 + 60 * S + 60 * S });
    expect(isLocked(r5.counter, T0 + 119 * S)).toBe(true);
    expect(isLocked(r5.counter, T0 + 120 * S)).toBe(false);
  });

  it('a failure after the window expired starts a new window', () => {
    const r4 = fail(EMPTY_LOCK, 4, T0);
    expect(r4.counter.failures).toBe(4);
    const late = recordFailure(r4.counter, P, T0 + 900 * S);
    expect(late.lockedNow).toBe(false);
    expect(late.counter).toMatchObject({ failures: 1, windowStart: T0 + 900 * S });
    expect(late.attemptsLeft).toBe(4);
    // One ms before expiry still counts in the old window and locks.
    expect(recordFailure(r4.counter, P, T0 + 900 * S - 1).lockedNow).toBe(true);
  });

  it('the lock grows with repeated lockouts and is capped', () => {
    let c = EMPTY_LOCK;
    let now = T0;
    const lengths: number[] = [];
    for (let k = 0; k < 8; k++) {
      const r = fail(c, 5, now);
      expect(r.lockedNow).toBe(true);
      lengths.push((r.counter.lockedUntil - (now + 4 * S)) / S);
      c = r.counter;
      now = c.lockedUntil; // the lock has just ended
      expect(isLocked(c, now)).toBe(false);
    }
    expect(lengths).toEqual([60, 120, 240, 480, 960, 1920, 3600, 3600]);
    expect(c.lockouts).toBe(8);
    expect(lockSecondsFor(P, 1000)).toBe(3600);
  });

  it('failures while locked are ignored and do not extend the lock', () => {
    const locked = fail(EMPTY_LOCK, 5, T0).counter;
    const r = recordFailure(locked, P, T0 + 10 * S);
    expect(r).toEqual({ counter: locked, lockedNow: false, attemptsLeft: 0 });
  });

  it('success resets failures, window and lockouts', () => {
    const c = fail(fail(EMPTY_LOCK, 5, T0).counter, 3, T0 + 3600 * S).counter;
    expect(c).toMatchObject({ failures: 3, lockouts: 1 });
    expect(recordSuccess(c)).toEqual(EMPTY_LOCK);
    // After success the next lock is the base length again.
    const again = fail(recordSuccess(c), 5, T0 + 7200 * S);
    expect(again.counter.lockedUntil - (T0 + 7200 * S + 4 * S)).toBe(60 * S);
  });

  it('maxAttempts 1 locks on the first failure; nonsense policies do not break', () => {
    expect(recordFailure(EMPTY_LOCK, { ...P, maxAttempts: 1 }, T0).lockedNow).toBe(true);
    const r = recordFailure(EMPTY_LOCK, { maxAttempts: Number.NaN, windowSeconds: -1, baseLockSeconds: Number.NaN, maxLockSeconds: 10 }, T0);
    expect(r.lockedNow).toBe(false);
    expect(Number.isFinite(r.attemptsLeft)).toBe(true);
  });
});
