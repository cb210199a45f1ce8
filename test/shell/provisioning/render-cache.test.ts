/** The rendered-file cache is bounded in bytes and evicts the least recently used file first. */
import { describe, expect, it } from 'vitest';
import { RenderCache } from '../../../agent/shell/provisioning/render-cache.js';
import type { PhoneFile } from '../../../agent/vendors/driver.js';

const file = (name: string, bytes: number): PhoneFile => ({ name, contentType: 'text/plain', body: 'x'.repeat(bytes), secret: false, carriesRevision: false });

describe('RenderCache', () => {
  it('stays within its byte budget, evicting least recently used first', () => {
    const c = new RenderCache(10_000);
    c.set('a', file('a', 3_000));
    c.set('b', file('b', 3_000));
    c.set('c', file('c', 3_000));
    expect(c.size).toBe(3);
    expect(c.get('a')?.name).toBe('a'); // a is now the most recently used
    c.set('d', file('d', 3_000));
    expect(c.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => c.get(k)?.name)).toEqual(['a', 'c', 'd']);
    expect(c.bytes).toBeLessThanOrEqual(10_000);
  });

  it('counts bytes, not entries: many small files fit where few large ones do', () => {
    const c = new RenderCache(100_000);
    for (let i = 0; i < 200; i++) c.set(`s${i}`, file(`s${i}`, 100));
    expect(c.size).toBe(200);
    for (let i = 0; i < 10; i++) c.set(`l${i}`, file(`l${i}`, 37_000));
    expect(c.bytes).toBeLessThanOrEqual(100_000);
    expect(c.size).toBeLessThan(10);
  });

  it('does not cache a file larger than the whole budget; replacing a key does not double count', () => {
    const c = new RenderCache(1_000);
    c.set('big', file('big', 5_000));
    expect(c.size).toBe(0);
    expect(c.bytes).toBe(0);
    c.set('k', file('k', 100));
    const once = c.bytes;
    c.set('k', file('k', 100));
    expect(c.bytes).toBe(once);
    c.clear();
    expect([c.size, c.bytes]).toEqual([0, 0]);
  });
});
