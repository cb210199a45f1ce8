/**
 * Token buckets keyed by source (an IP address, or one shared key for a
 * global budget), with a bounded number of keys: used to cap how many
 * answers an unauthenticated UDP service gives one source, so a flood or a
 * spoofed source gets a bounded number of replies.
 *
 * Each key holds up to `capacity` tokens and regains one every `refillMs`.
 * When `maxKeys` keys are held, the least recently used one is forgotten (it
 * starts full again if it comes back): the state is bounded, at the price
 * that a source rotating through more than `maxKeys` addresses is not
 * remembered.
 *
 * Pure module: time is a parameter.
 */

/** Shape of a {@link KeyedTokenBuckets}. */
export interface TokenBucketPolicy {
  /** Tokens a fresh key holds (the burst allowed). >= 1. */
  readonly capacity: number;
  /** Milliseconds to regain one token. > 0. */
  readonly refillMs: number;
  /** Keys remembered at most. >= 1. */
  readonly maxKeys: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Per-key token buckets; see the module comment. */
export class KeyedTokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly refillMs: number;
  private readonly maxKeys: number;

  constructor(policy: TokenBucketPolicy) {
    this.capacity = Math.max(1, policy.capacity);
    this.refillMs = Math.max(1, policy.refillMs);
    this.maxKeys = Math.max(1, Math.floor(policy.maxKeys));
  }

  /** Keys currently remembered. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token for `key` at time `now`; false (nothing taken) when its bucket is empty. */
  take(key: string, now: number): boolean {
    const b = this.refresh(key, now);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** True when `key` has a token at time `now` (takes nothing, but refreshes the key). */
  peek(key: string, now: number): boolean {
    return this.refresh(key, now).tokens >= 1;
  }

  private refresh(key: string, now: number): Bucket {
    const old = this.buckets.get(key);
    let b: Bucket;
    if (old) {
      this.buckets.delete(key); // re-inserted below: the map stays in least-recently-used order
      b = { tokens: Math.min(this.capacity, old.tokens + Math.max(0, now - old.at) / this.refillMs), at: Math.max(now, old.at) };
    } else {
      b = { tokens: this.capacity, at: now };
      while (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next();
        if (oldest.done) break;
        this.buckets.delete(oldest.value);
      }
    }
    this.buckets.set(key, b);
    return b;
  }
}
