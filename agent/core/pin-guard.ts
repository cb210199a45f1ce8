/**
 * Bounded PIN guessing: failed attempts are recorded per short number and per
 * phone in a {@link LockCounter}, and counted in a **sliding window**.
 *
 * Guarantee: within any `windowSeconds` interval a subject accumulates at
 * most `maxAttempts` failures, whatever the spacing of the attempts, and
 * whatever locks happen in between.
 *
 * Rules:
 * - A failure counts while it is younger than `windowSeconds` (it expires at
 *   `at + windowSeconds`). A lock never resets the record: the failures stay
 *   and keep counting until they age out.
 * - A subject is locked while `maxAttempts` failures are inside the window,
 *   and while an explicit lock runs. The failure that reaches `maxAttempts`
 *   sets a lock until the later of the window freeing a slot and
 *   `now + min(baseLockSeconds * 2^lockouts, maxLockSeconds)` (the growing
 *   lock, which may only lengthen the wait); `lockouts` grows by one.
 * - Failures are refused while the subject is locked (the state machine
 *   refuses a locked subject before a PIN is checked; this only guards
 *   against misuse): a lock is never extended by further guesses.
 * - A success changes nothing. Clearing failures on a success would hand a
 *   guesser a fresh budget whenever the real person logs in (or, for a
 *   phone, whenever the guesser logs in as themselves between rounds), so
 *   failures only ever expire with time.
 * - `lockouts` is forgotten {@link LOCKOUT_MEMORY_SECONDS} after the last
 *   lock ended: the growing lock punishes a run of failures, not a person
 *   who mistyped on separate days.
 *
 * Pure module: `now` is epoch ms passed in by the caller.
 */
import type { LockCounter, PinLockoutPolicy } from './model.js';

/** Site default: 5 failures in 15 minutes lock for at least 1 minute, doubling up to 1 hour. */
export const DEFAULT_PIN_LOCKOUT: PinLockoutPolicy = Object.freeze({
  maxAttempts: 5,
  windowSeconds: 900,
  baseLockSeconds: 60,
  maxLockSeconds: 3600,
});

/** A lock that ended this long ago no longer makes the next one longer (one day). */
export const LOCKOUT_MEMORY_SECONDS = 86_400;

/** Result of {@link recordFailure}. */
export interface FailureResult {
  readonly counter: LockCounter;
  /** This failure triggered a lock. */
  readonly lockedNow: boolean;
  /** Failures left before a lock (0 when locked). */
  readonly attemptsLeft: number;
}

/** Non-negative finite number or `fallback`. */
function sane(n: number, fallback: number): number {
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

function maxAttemptsOf(policy: PinLockoutPolicy): number {
  return Math.max(1, Math.floor(sane(policy.maxAttempts, DEFAULT_PIN_LOCKOUT.maxAttempts)));
}

/** The policy window in ms. */
export function windowMsOf(policy: PinLockoutPolicy): number {
  return sane(policy.windowSeconds, DEFAULT_PIN_LOCKOUT.windowSeconds) * 1000;
}

/** Failures of `c` still inside the window at `now`, oldest first. */
export function recentFailures(c: LockCounter, policy: PinLockoutPolicy, now: number): number[] {
  const windowMs = windowMsOf(policy);
  return c.failures.filter((t) => Number.isFinite(t) && now - t < windowMs).sort((a, b) => a - b);
}

/**
 * Epoch ms until which `c` is locked at `now`, or 0 when it is not: the later
 * of the explicit lock and the moment the window frees a slot.
 */
export function lockedUntilOf(c: LockCounter, policy: PinLockoutPolicy, now: number): number {
  const recent = recentFailures(c, policy, now);
  const max = maxAttemptsOf(policy);
  const byWindow = recent.length >= max ? (recent[recent.length - max] ?? now) + windowMsOf(policy) : 0;
  const until = Math.max(c.lockedUntil, byWindow);
  return until > now ? until : 0;
}

/** True while `c` is locked at `now`. */
export function isLocked(c: LockCounter, policy: PinLockoutPolicy, now: number): boolean {
  return lockedUntilOf(c, policy, now) > 0;
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
 * Failures outside the window are dropped from the returned counter (at most
 * `maxAttempts` are kept), so the record stays bounded.
 */
export function recordFailure(c: LockCounter, policy: PinLockoutPolicy, now: number): FailureResult {
  if (isLocked(c, policy, now)) return { counter: c, lockedNow: false, attemptsLeft: 0 };
  const max = maxAttemptsOf(policy);
  const forgotten = c.lockedUntil > 0 && now - c.lockedUntil >= LOCKOUT_MEMORY_SECONDS * 1000;
  const lockouts = forgotten ? 0 : c.lockouts;
  const failures = [...recentFailures(c, policy, now), now].slice(-max);
  if (failures.length >= max) {
    const byWindow = (failures[0] ?? now) + windowMsOf(policy);
    const lockedUntil = Math.max(now + lockSecondsFor(policy, lockouts) * 1000, byWindow);
    return { counter: { failures, lockouts: lockouts + 1, lockedUntil }, lockedNow: true, attemptsLeft: 0 };
  }
  return {
    counter: { failures, lockouts, lockedUntil: forgotten ? 0 : c.lockedUntil },
    lockedNow: false,
    attemptsLeft: max - failures.length,
  };
}

/** True when two counters hold the same values. */
export function sameCounter(a: LockCounter, b: LockCounter): boolean {
  return (
    a.lockouts === b.lockouts && a.lockedUntil === b.lockedUntil && a.failures.length === b.failures.length && a.failures.every((t, i) => t === b.failures[i])
  );
}
