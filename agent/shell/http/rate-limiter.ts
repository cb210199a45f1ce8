/**
 * Per-source failure limiter (docs/behaviour.md §11): counts failures (bad credentials,
 * unknown MACs) per source address in a sliding window and blocks a source
 * that exceeds the budget for a cool-down period. Time is injected.
 */
export interface RateLimitPolicy {
  /** Failures allowed per window before the source is blocked. */
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly blockMs: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitPolicy = { maxFailures: 20, windowMs: 60_000, blockMs: 300_000 };

interface Entry {
  count: number;
  windowStart: number;
  blockedUntil: number;
}

/** In-memory failure limiter keyed by source (IP address). Bounded in size. */
export class FailureLimiter {
  private readonly entries = new Map<string, Entry>();
  constructor(
    private readonly policy: RateLimitPolicy = DEFAULT_RATE_LIMIT,
    private readonly maxEntries = 50_000,
  ) {}

  /** True while `source` is blocked. */
  blocked(source: string, now: number): boolean {
    const e = this.entries.get(source);
    return e !== undefined && e.blockedUntil > now;
  }

  /** Counts one failure; returns true when this failure blocks the source. */
  fail(source: string, now: number): boolean {
    let e = this.entries.get(source);
    if (!e || now - e.windowStart > this.policy.windowMs) {
      e = { count: 0, windowStart: now, blockedUntil: e?.blockedUntil ?? 0 };
      if (!this.entries.has(source) && this.entries.size >= this.maxEntries) this.evict(now);
      this.entries.set(source, e);
    }
    e.count += 1;
    if (e.count >= this.policy.maxFailures) {
      e.blockedUntil = now + this.policy.blockMs;
      e.count = 0;
      e.windowStart = now;
      return true;
    }
    return false;
  }

  /** Forgets a source (e.g. after an admin reset). */
  reset(source: string): void {
    this.entries.delete(source);
  }

  private evict(now: number): void {
    for (const [k, v] of this.entries) {
      if (v.blockedUntil <= now && now - v.windowStart > this.policy.windowMs) this.entries.delete(k);
    }
    if (this.entries.size >= this.maxEntries) {
      const first = this.entries.keys().next();
      if (!first.done) this.entries.delete(first.value);
    }
  }
}
