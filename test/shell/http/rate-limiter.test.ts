import { describe, expect, it } from 'vitest';
import { FailureLimiter } from '../../../agent/shell/http/rate-limiter.js';

describe('FailureLimiter', () => {
  it('blocks a source after the budget within the window, then releases it', () => {
    const l = new FailureLimiter({ maxFailures: 3, windowMs: 1_000, blockMs: 10_000 });
    expect(l.fail('a', 0)).toBe(false);
    expect(l.fail('a', 10)).toBe(false);
    expect(l.blocked('a', 20)).toBe(false);
    expect(l.fail('a', 20)).toBe(true);
    expect(l.blocked('a', 21)).toBe(true);
    expect(l.blocked('b', 21)).toBe(false);
    expect(l.blocked('a', 10_021)).toBe(false);
  });
  it('forgets failures outside the window', () => {
    const l = new FailureLimiter({ maxFailures: 2, windowMs: 100, blockMs: 1_000 });
    l.fail('a', 0);
    expect(l.fail('a', 500)).toBe(false);
    expect(l.blocked('a', 501)).toBe(false);
  });
  it('stays bounded in memory', () => {
    const l = new FailureLimiter({ maxFailures: 5, windowMs: 10, blockMs: 10 }, 100);
    for (let i = 0; i < 1_000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`, i * 100);
    expect((l as unknown as { entries: Map<string, unknown> }).entries.size).toBeLessThanOrEqual(100);
  });
});
