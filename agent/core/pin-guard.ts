/**
 * Bounded PIN guessing (DESIGN.md §2): failed attempts are counted per user
 * and per phone in a {@link LockCounter}; after `maxAttempts` failures within
 * a window the subject is locked for a growing interval.
 *
 * Rules:
 * - A window of `windowSeconds` opens at the first failure; a failure after
 *   the window has expired opens a new window (the count restarts at 1).
 * - When the failures in the window reach `maxAttempts` the subject is locked
 *   for `min(baseLockSeconds * 2^lockouts, maxLockSeconds)`; `lockouts` grows
 *   by one and the failure count and window restart.
 * - Failures recorded while the subject is locked are ignored (the state
 *   machine refuses a locked subject before a PIN is checked, so this only
 *   guards against misuse; a lock is never extended by further guesses).
 * - A success resets everything, including `lockouts`: the growing lock time
 *   punishes a run of failures, not a user who mistyped on three separate
 *   days weeks apart.
 *
 * Pure module: `now` is epoch ms passed in by the caller.
 */
import type { LockCounter, PinLockoutPolicy } from './model.js';
import { EMPTY_LOCK } from './model.js';

/** Site default: 5 failures in 15 minutes lock for 1 minute, doubling up to 1 hour. */
export const DEFAULT_PIN_LOCKOUT: PinLockoutPolicy = Object.freeze({
  maxAttempts: 5,
  windowSeconds: 900,
  baseLockSeconds: 60,
  maxLockSeconds: 3600,
});

/** Result of {@link recordFailure}. */
export interface FailureResult {
  readonly counter: LockCounter;
  /** This failure triggered a lock. */
  readonly lockedNow: boolean;
  /** Failures left before a lock (0 when locked). */
  readonly attemptsLeft: number;
}

/** True while `c` is locked at `now`. */
export function isLocked(c: LockCounter, now: number): boolean {
  return c.lockedUntil > now;
}

/** Non-negative finite number or `fallback`. */
function sane(n: number, fallback: number): number {
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/**
 * Length in seconds of the lock after `lockouts` earlier lockouts:
 * `min(base * 2^lockouts, max)`.
 */
export function lockSecondsFor(policy: PinLockoutPolicy, lockouts: number): number {
  const base = sane(policy.baseLockSeconds, DEFAULT_PIN_LOCKOUT.baseLockSeconds);
  const max = sane(policy.maxLockSeconds, DEFAULT_PIN_LOCKOUT.maxLockSeconds);
  const exp = Math.min(Math.max(0, Math.floor(sane(lockouts, 0))), 52);
  return Math.min(base * 2 ** exp, max);
}

/**
 * Records one failed PIN attempt at `now` and returns the new counter, whether
 * this failure locked the subject, and the attempts left before a lock.
 */
export function recordFailure(c: LockCounter, policy: PinLockoutPolicy, now: number): FailureResult {
  if (isLocked(c, now)) return { counter: c, lockedNow: false, attemptsLeft: 0 };
  const maxAttempts = Math.max(1, Math.floor(sane(policy.maxAttempts, DEFAULT_PIN_LOCKOUT.maxAttempts)));
  const windowMs = sane(policy.windowSeconds, DEFAULT_PIN_LOCKOUT.windowSeconds) * 1000;
  const windowOpen = c.failures > 0 && c.windowStart > 0 && now - c.windowStart < windowMs;
  const failures = windowOpen ? c.failures + 1 : 1;
  const windowStart = windowOpen ? c.windowStart : now;
  if (failures >= maxAttempts) {
    const lockedUntil = now + lockSecondsFor(policy, c.lockouts) * 1000;
    return {
      counter: { failures: 0, windowStart: 0, lockouts: c.lockouts + 1, lockedUntil },
      lockedNow: true,
      attemptsLeft: 0,
    };
  }
  return {
    counter: { failures, windowStart, lockouts: c.lockouts, lockedUntil: c.lockedUntil },
    lockedNow: false,
    attemptsLeft: maxAttempts - failures,
  };
}

/** A successful PIN resets failures, window, lockouts and any lock. */
export function recordSuccess(_c: LockCounter): LockCounter {
  return EMPTY_LOCK;
}

/** True when two counters hold the same values. */
export function sameCounter(a: LockCounter, b: LockCounter): boolean {
  return (
    a.failures === b.failures &&
    a.windowStart === b.windowStart &&
    a.lockouts === b.lockouts &&
    a.lockedUntil === b.lockedUntil
  );
}
