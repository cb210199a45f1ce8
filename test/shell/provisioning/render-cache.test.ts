/** The rendered-file cache is bounded in bytes, evicts the least recently used file first and keeps shared text once. */
import { describe, expect, it } from 'vitest';
import { encodeFile } from '../../../agent/shell/provisioning/chunk-pool.js';
import { cachedBody, RenderCache } from '../../../agent/shell/provisioning/render-cache.js';
import type { PhoneFile } from '../../../agent/vendors/driver.js';

/** A file of `bytes` bytes on one line, its own text (nothing to share with another name's). */
const file = (name: string, bytes: number): PhoneFile => ({
  name,
  contentType: 'text/plain',
  body: name + 'x'.repeat(bytes - name.length),
  secret: false,
  carriesRevision: false,
});

/** A config file like a real one: many lines the same in every phone's file, a few that are the phone's own. */
function phoneFile(i: number): PhoneFile {
  const lines: string[] = [];
  for (let k = 1; k <= 400; k++) lines.push(`features.setting_${k} = ${k % 3}`);
  for (let a = 1; a <= 16; a++) {
    if (a === 1)
      lines.push(`account.1.enable = 1`, `account.1.user_name = u${10000 + i}`, `account.1.password = secret-${i * 7919}`, `account.1.label = Zoë ${i}`);
    else lines.push(`account.${a}.enable = 0`, `account.${a}.user_name = `, `account.${a}.password = `, `account.${a}.label = `);
  }
  for (let k = 1; k <= 60; k++) lines.push(`linekey.${k}.type = 0`, `linekey.${k}.value = `, `linekey.${k}.label = `);
  lines.push(`# hotdesk revision ${i}`);
  for (let k = 1; k <= 400; k++) lines.push(`local.setting_${k} = ${k % 5}`);
  return { name: `p${i}.cfg`, contentType: 'text/plain', body: `${lines.join('\n')}\n`, secret: true, carriesRevision: true };
}

describe('RenderCache', () => {
  it('stays within its byte budget, evicting least recently used first', () => {
    const c = new RenderCache(10_000);
    c.set('a', encodeFile(file('a', 2_400)));
    c.set('b', encodeFile(file('b', 2_400)));
    c.set('c', encodeFile(file('c', 2_400)));
    expect(c.size).toBe(3);
    expect(c.get('a')?.meta.name).toBe('a'); // a is now the most recently used
    c.set('d', encodeFile(file('d', 2_400)));
    expect(c.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => c.get(k)?.meta.name)).toEqual(['a', 'c', 'd']);
    expect(c.bytes).toBeLessThanOrEqual(10_000);
  });

  it('counts bytes, not entries: many small files fit where few large ones do', () => {
    const c = new RenderCache(200_000);
    for (let i = 0; i < 200; i++) c.set(`s${i}`, encodeFile(file(`s${i}`, 100)));
    expect(c.size).toBe(200);
    for (let i = 0; i < 10; i++) c.set(`l${i}`, encodeFile(file(`l${i}`, 74_000)));
    expect(c.bytes).toBeLessThanOrEqual(200_000);
    expect(c.size).toBeLessThan(10);
  });

  it('does not cache a file larger than the whole budget (but returns it whole); replacing a key does not double count', () => {
    const c = new RenderCache(1_000);
    const big = c.set('big', encodeFile(file('big', 5_000)));
    expect(cachedBody(big).toString()).toBe(file('big', 5_000).body);
    expect(c.size).toBe(0);
    expect(c.bytes).toBe(0);
    c.set('k', encodeFile(file('k', 100)));
    const once = c.bytes;
    c.set('k', encodeFile(file('k', 100)));
    expect(c.bytes).toBe(once);
    c.clear();
    expect([c.size, c.bytes, c.chunks]).toEqual([0, 0, 0]);
  });

  it('gives back every file byte for byte, UTF-8 encoded', () => {
    const c = new RenderCache();
    for (let i = 0; i < 50; i++) c.set(`p${i}`, encodeFile(phoneFile(i)));
    for (let i = 0; i < 50; i++) {
      const got = c.get(`p${i}`);
      expect(got?.meta).toEqual({ name: `p${i}.cfg`, contentType: 'text/plain', secret: true, carriesRevision: true });
      expect(got && cachedBody(got).equals(Buffer.from(phoneFile(i).body, 'utf8'))).toBe(true);
    }
  });

  it('keeps the text files share once: 1,000 similar files cost a fraction of their size, and eviction frees what only they held', () => {
    const c = new RenderCache();
    let total = 0;
    for (let i = 0; i < 1_000; i++) {
      const f = phoneFile(i);
      total += Buffer.byteLength(f.body);
      c.set(`p${i}`, encodeFile(f));
    }
    expect(c.size).toBe(1_000);
    // Each file's own lines are a few percent of it; the shared chunks are held once.
    expect(c.bytes).toBeLessThan(total / 4);
    expect(c.chunks).toBeLessThan(1_000 * 4);
    // A budget below what is held evicts the oldest files; their own chunks go, the shared ones stay.
    const small = new RenderCache(Math.floor(c.bytes / 2));
    for (let i = 0; i < 1_000; i++) small.set(`p${i}`, encodeFile(phoneFile(i)));
    expect(small.bytes).toBeLessThanOrEqual(small.maxBytes);
    expect(small.get('p0')).toBeUndefined();
    const last = small.get('p999');
    expect(last && cachedBody(last).toString()).toBe(phoneFile(999).body);
    small.clear();
    for (let i = 0; i < 10; i++) small.set(`p${i}`, encodeFile(phoneFile(i)));
    const chunksOfTen = small.chunks;
    for (let i = 0; i < 10; i++) small.set(`p${i}`, encodeFile(phoneFile(i))); // replaced: same chunks, nothing leaks
    expect(small.chunks).toBe(chunksOfTen);
  });

  it('drops the version a newer one of the same file replaces, and does not let an older one replace a newer', () => {
    const c = new RenderCache();
    c.set('p1/r1', encodeFile(phoneFile(1)), { name: 'p1.cfg', version: 1 });
    c.set('p2/r1', encodeFile(phoneFile(2)), { name: 'p2.cfg', version: 1 });
    const held = c.bytes;
    c.set('p1/r2', encodeFile(phoneFile(3)), { name: 'p1.cfg', version: 2 });
    expect(c.get('p1/r1')).toBeUndefined();
    expect(c.get('p2/r1')).toBeDefined();
    expect(c.size).toBe(2);
    expect(c.bytes).toBeLessThan(held + 2_000);
    // A slow render of revision 1 finishing after revision 2 was cached is answered but not kept.
    const late = c.set('p1/r1', encodeFile(phoneFile(1)), { name: 'p1.cfg', version: 1 });
    expect(cachedBody(late).toString()).toBe(phoneFile(1).body);
    expect(c.get('p1/r1')).toBeUndefined();
    expect(c.get('p1/r2')).toBeDefined();
    // Evicted or cleared, a slot forgets its version.
    c.clear();
    c.set('p1/r1', encodeFile(phoneFile(1)), { name: 'p1.cfg', version: 1 });
    expect(c.get('p1/r1')).toBeDefined();
  });
});
