/**
 * Console session rules, pure: session and CSRF token values, idle and
 * absolute expiry with the clock passed in, and the CSRF check.
 *
 * A session is a random 32-byte value in an `HttpOnly; SameSite=Strict`
 * cookie; the store keeps only its SHA-256 (a copy of the database opens no
 * session) with a per-session synchronizer CSRF token that every
 * state-changing request must echo (form field `_csrf` or header
 * `X-CSRF-Token`), compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Idle and absolute session lifetimes. */
export interface SessionPolicy {
  /** A session unused this long ends (ms). */
  readonly idleMs: number;
  /** A session ends this long after sign-in whatever its use (ms). */
  readonly absoluteMs: number;
}

/** 30 minutes idle, 12 hours at most (one working day). */
export const DEFAULT_SESSION_POLICY: SessionPolicy = Object.freeze({ idleMs: 30 * 60_000, absoluteMs: 12 * 3600_000 });

/** The times a session's expiry depends on. */
export interface SessionTimes {
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

/** Why a session is no longer valid, or `live`. */
export type SessionState = 'live' | 'idle' | 'expired';

/** The state of a session at `now`. */
export function sessionState(s: SessionTimes, now: number, policy: SessionPolicy = DEFAULT_SESSION_POLICY): SessionState {
  if (now - s.createdAt >= policy.absoluteMs) return 'expired';
  if (now - s.lastSeenAt >= policy.idleMs) return 'idle';
  return 'live';
}

/** When the session ends if unused from `now` on (for the cookie's Max-Age). */
export function sessionDeadline(s: SessionTimes, now: number, policy: SessionPolicy = DEFAULT_SESSION_POLICY): number {
  return Math.min(s.createdAt + policy.absoluteMs, now + policy.idleMs);
}

/** A new random token (session id or CSRF token) from `bytes` random bytes, base64url. */
export function newToken(random: (n: number) => Buffer): string {
  return random(32).toString('base64url');
}

/** The stored key of a session cookie value. */
export function sessionKey(cookieValue: string): string {
  return createHash('sha256').update(cookieValue, 'utf8').digest('hex');
}

/** True when the presented CSRF token equals the session's (constant time; a missing token never matches). */
export function csrfTokenMatches(expected: string, presented: string | undefined | null): boolean {
  if (typeof presented !== 'string' || presented.length === 0 || expected.length === 0 || presented.length > 256) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/**
 * True when a browser's `Origin` (or, without one, `Referer`) names this
 * host: a second defence next to the CSRF token. Absent both, the token
 * alone decides.
 */
export function sameOrigin(origin: string | undefined, referer: string | undefined, host: string | undefined): boolean {
  const from = origin ?? referer;
  if (from === undefined) return true;
  if (from === 'null' || host === undefined) return false;
  try {
    return new URL(from).host === host;
  } catch {
    return false;
  }
}
