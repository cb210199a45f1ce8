import { describe, expect, it } from 'vitest';
import { KeyedTokenBuckets } from '../../agent/core/token-buckets.js';

describe('keyed token buckets', () => {
  it('allows a burst per key, then one more per refill interval', () => {
    const b = new KeyedTokenBuckets({ capacity: 3, refillMs: 1000, maxKeys: 10 });
    expect([1, 2, 3, 4].map(() => b.take('a', 0))).toEqual([true, true, true, false]);
    expect(b.take('b', 0)).toBe(true); // keys are independent
    expect(b.take('a', 999)).toBe(false);
    expect(b.take('a', 1000)).toBe(true);
    expect(b.take('a', 1000)).toBe(false);
    expect(b.peek('a', 5000)).toBe(true);
    // Refill is capped at the burst.
    expect([1, 2, 3, 4].map(() => b.take('a', 100_000))).toEqual([true, true, true, false]);
  });

  it('bounds the keys it remembers, forgetting the least recently used', () => {
    const b = new KeyedTokenBuckets({ capacity: 1, refillMs: 60_000, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) b.take(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(b.size).toBe(100);
    expect(b.take('10.0.39.15', 1)).toBe(false); // the most recent key is remembered (empty)
    expect(b.take('10.0.0.0', 1)).toBe(true); // the first was forgotten: it starts full again
  });

  it('does not refill when the clock goes backwards', () => {
    const b = new KeyedTokenBuckets({ capacity: 1, refillMs: 1000, maxKeys: 10 });
    expect(b.take('a', 10_000)).toBe(true);
    expect(b.take('a', 0)).toBe(false);
    expect(b.take('a', 10_999)).toBe(false);
    expect(b.take('a', 11_000)).toBe(true);
  });
});
