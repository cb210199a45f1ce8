import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PIN_LOCKOUT,
  LOCKOUT_MEMORY_SECONDS,
  isLocked,
  lockSecondsFor,
  lockedUntilOf,
  recentFailures,
  recordFailure,
  sameCounter,
} from '../../agent/core/pin-guard.js';
import { EMPTY_LOCK, type LockCounter, type PinLockoutPolicy } from '../../agent/core/model.js';
import { mulberry32 } from '../helpers/prng.js';

const P = DEFAULT_PIN_LOCKOUT;
const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const S = 1000;
const W = P.windowSeconds * S;

/**
 * An attacker with an injected clock: tries once at every `stepMs` from
 * `start` to `end`, skipping attempts the guard refuses (as the state machine
 * does), and returns the times of the failures it got counted.
 */
function attack(policy: PinLockoutPolicy, start: number, end: number, stepMs: number, c0: LockCounter = EMPTY_LOCK): { at: number[]; counter: LockCounter } {
  let c = c0;
  const at: number[] = [];
  for (let now = start; now < end; now += stepMs) {
    const until = lockedUntilOf(c, policy, now);
    if (until > 0) {
      // Every attempt until the lock ends is refused: skip to the first grid point after it.
      now += Math.ceil((until - now) / stepMs) * stepMs - stepMs;
      continue;
    }
    c = recordFailure(c, policy, now).counter;
    at.push(now);
  }
  return { at, counter: c };
}

/** Most failures inside any half-open interval of `windowMs`. */
function maxInAnyWindow(at: readonly number[], windowMs: number): number {
  let best = 0;
  for (let i = 0; i < at.length; i++) {
    let n = 0;
    for (let j = i; j < at.length && (at[j] ?? 0) - (at[i] ?? 0) < windowMs; j++) n++;
    best = Math.max(best, n);
  }
  return best;
}

describe('pin-guard: sliding window', () => {
  it('default policy is 5 attempts / 15 min / 60 s doubling to 1 h', () => {
    expect(P).toEqual({ maxAttempts: 5, windowSeconds: 900, baseLockSeconds: 60, maxLockSeconds: 3600 });
  });

  it('counts attempts left and locks on the 5th failure, until the window frees a slot', () => {
    let c = EMPTY_LOCK;
    const left: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = recordFailure(c, P, T0 + i * 10 * S);
      expect(r.lockedNow).toBe(false);
      left.push(r.attemptsLeft);
      c = r.counter;
    }
    expect(left).toEqual([4, 3, 2, 1]);
    const r5 = recordFailure(c, P, T0 + 60 * S);
    expect(r5).toMatchObject({ lockedNow: true, attemptsLeft: 0 });
    // The first failure (T0) leaves the window at T0 + 15 min: that is later than the 60 s lock.
    expect(r5.counter).toEqual({ failures: [T0, T0 + 10 * S, T0 + 20 * S, T0 + 30 * S, T0 + 60 * S], lockouts: 1, lockedUntil: T0 + W });
    expect(isLocked(r5.counter, P, T0 + W - 1)).toBe(true);
    expect(isLocked(r5.counter, P, T0 + W)).toBe(false);
  });

  it('a lock does not reset the count: after it ends one slot is free, not five (the 62 s attack)', () => {
    // The old guard restarted the window at each lock: 10 guesses in 62 s. Now:
    const five = attack(P, T0, T0 + 62 * S, 1 * S);
    expect(five.at).toHaveLength(5);
    // Right after the first failure ages out, exactly one more guess is allowed, then locked again.
    const after = five.counter;
    expect(lockedUntilOf(after, P, T0 + 10 * S)).toBe(T0 + W);
    const sixth = recordFailure(after, P, T0 + W);
    expect(sixth.lockedNow).toBe(true);
    expect(sixth.counter.lockedUntil).toBe(Math.max(T0 + W + 120 * S, T0 + 1 * S + W)); // second lock: 120 s
    expect(isLocked(sixth.counter, P, T0 + W + 1 * S)).toBe(true);
  });

  it('never more than maxAttempts failures in any window, whatever the attacker paces (15 min, 1 h, 1 day)', () => {
    for (const stepMs of [7, 500, 1 * S, 13 * S, 61 * S, 179 * S, 181 * S, 899 * S, 901 * S]) {
      const { at } = attack(P, T0, T0 + 86_400 * S, stepMs);
      expect(maxInAnyWindow(at, W), `step ${stepMs} ms`).toBeLessThanOrEqual(5);
    }
    // About 20 guesses per hour at most with the defaults: 5 per 15 min.
    const hour = attack(P, T0, T0 + 3600 * S, 1 * S).at;
    expect(hour.length).toBeLessThanOrEqual(20);
  });

  it('holds for random spacing and random policies', () => {
    const rnd = mulberry32(0x5eed);
    for (let k = 0; k < 200; k++) {
      const policy: PinLockoutPolicy = {
        maxAttempts: 1 + Math.floor(rnd() * 8),
        windowSeconds: 10 + Math.floor(rnd() * 2000),
        baseLockSeconds: Math.floor(rnd() * 120),
        maxLockSeconds: 120 + Math.floor(rnd() * 3600),
      };
      let c = EMPTY_LOCK;
      const at: number[] = [];
      let now = T0;
      for (let i = 0; i < 300; i++) {
        now += Math.floor(rnd() * rnd() * 600 * S);
        if (isLocked(c, policy, now)) continue;
        c = recordFailure(c, policy, now).counter;
        at.push(now);
        expect(c.failures.length).toBeLessThanOrEqual(policy.maxAttempts); // bounded record
      }
      expect(maxInAnyWindow(at, policy.windowSeconds * S)).toBeLessThanOrEqual(policy.maxAttempts);
    }
  });

  it('failures age out one by one, not all at once', () => {
    const r4 = attack(P, T0, T0 + 4 * 60 * S, 60 * S).counter; // T0, +60, +120, +180 s
    expect(recentFailures(r4, P, T0 + W - 1)).toHaveLength(4);
    expect(recentFailures(r4, P, T0 + W)).toHaveLength(3);
    const late = recordFailure(r4, P, T0 + W);
    expect(late).toMatchObject({ lockedNow: false, attemptsLeft: 1 });
    expect(late.counter.failures).toEqual([T0 + 60 * S, T0 + 120 * S, T0 + 180 * S, T0 + W]);
  });

  it('the growing lock can only lengthen the wait, and is capped', () => {
    let c = EMPTY_LOCK;
    let now = T0;
    const waits: number[] = [];
    for (let k = 0; k < 9; k++) {
      const r = attack(P, now, now + 10 * S, 1 * S, c);
      c = r.counter;
      const last = r.at[r.at.length - 1] ?? now;
      waits.push((c.lockedUntil - last) / S);
      now = lockedUntilOf(c, P, last);
      expect(isLocked(c, P, now)).toBe(false);
    }
    // First: the window (15 min) dominates the 60 s lock; later the doubling takes over, capped at 1 h.
    expect(waits[0]).toBe(896);
    expect(waits.slice(-3)).toEqual([3600, 3600, 3600]);
    expect(lockSecondsFor(P, 1000)).toBe(3600);
  });

  it('failures while locked are ignored and do not extend the lock', () => {
    const locked = attack(P, T0, T0 + 5 * S, 1 * S).counter;
    const r = recordFailure(locked, P, T0 + 10 * S);
    expect(r).toEqual({ counter: locked, lockedNow: false, attemptsLeft: 0 });
  });

  it('a lowered maxAttempts applies to failures already recorded', () => {
    const three = attack(P, T0, T0 + 3 * S, 1 * S).counter;
    expect(isLocked(three, P, T0 + 4 * S)).toBe(false);
    expect(lockedUntilOf(three, { ...P, maxAttempts: 3 }, T0 + 4 * S)).toBe(T0 + W);
  });

  it('lockouts are forgotten a day after the last lock ended, not before', () => {
    const once = attack(P, T0, T0 + 5 * S, 1 * S).counter;
    expect(once.lockouts).toBe(1);
    const day = LOCKOUT_MEMORY_SECONDS * S;
    expect(recordFailure(once, P, once.lockedUntil + day - 1).counter.lockouts).toBe(1);
    expect(recordFailure(once, P, once.lockedUntil + day).counter).toEqual({ failures: [once.lockedUntil + day], lockouts: 0, lockedUntil: 0 });
  });

  it('there is no success reset: nothing in the guard gives attempts back', async () => {
    const mod = await import('../../agent/core/pin-guard.js');
    expect(Object.keys(mod)).not.toContain('recordSuccess');
  });

  it('maxAttempts 1 locks on the first failure; nonsense policies do not break', () => {
    expect(recordFailure(EMPTY_LOCK, { ...P, maxAttempts: 1 }, T0).lockedNow).toBe(true);
    const r = recordFailure(EMPTY_LOCK, { maxAttempts: Number.NaN, windowSeconds: -1, baseLockSeconds: Number.NaN, maxLockSeconds: 10 }, T0);
    expect(r.lockedNow).toBe(false);
    expect(Number.isFinite(r.attemptsLeft)).toBe(true);
  });

  it('sameCounter compares failure lists', () => {
    const a: LockCounter = { failures: [1, 2], lockouts: 0, lockedUntil: 0 };
    expect(sameCounter(a, { failures: [1, 2], lockouts: 0, lockedUntil: 0 })).toBe(true);
    expect(sameCounter(a, { failures: [1, 3], lockouts: 0, lockedUntil: 0 })).toBe(false);
    expect(sameCounter(a, { failures: [1], lockouts: 0, lockedUntil: 0 })).toBe(false);
  });
});
