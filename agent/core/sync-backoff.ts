/**
 * Re-sync retry policy (docs/behaviour.md §9): when to send the next check-sync to a
 * pending phone, and when to give up and call it unreachable. Pure.
 */

export interface SyncRetryPolicy {
  /** Delay before the second attempt; doubles each attempt. */
  readonly firstRetryMs: number;
  readonly maxRetryMs: number;
  /** From the revision bump: after this the phone is reported unreachable. */
  readonly deadlineMs: number;
}

export const DEFAULT_SYNC_RETRY: SyncRetryPolicy = { firstRetryMs: 5_000, maxRetryMs: 60_000, deadlineMs: 300_000 };

/**
 * Next attempt time after `attempts` attempts (1 = the first NOTIFY was just
 * sent), or null when the deadline has passed.
 */
export function nextSyncAttempt(policy: SyncRetryPolicy, requestedAt: number, attempts: number, now: number): number | null {
  if (now - requestedAt >= policy.deadlineMs) return null;
  const delay = Math.min(policy.firstRetryMs * 2 ** Math.max(0, attempts - 1), policy.maxRetryMs);
  return Math.min(now + delay, requestedAt + policy.deadlineMs);
}
