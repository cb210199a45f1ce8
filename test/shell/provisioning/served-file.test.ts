/** The served file's parts and its body joined on demand (served-file.ts). */
import { describe, expect, it } from 'vitest';
import { servedFile } from '../../../agent/shell/provisioning/served-file.js';

const meta = { name: '001565aabb01.cfg', contentType: 'text/plain', secret: true, carriesRevision: true, format: 'kv' } as const;

describe('servedFile', () => {
  it('keeps the parts as given, counts their bytes and joins them into the body once, in order', () => {
    const parts = [Buffer.from('#!version:1.0.0.1\n'), Buffer.from('account.1.enable = 1\n'), Buffer.from('')];
    const s = servedFile({ file: meta, parts, mac: '001565aabb01', vendor: 'yealink' });
    expect(s.parts).toBe(parts);
    expect(s.length).toBe(parts[0]!.length + parts[1]!.length);
    expect(s.body.toString('utf8')).toBe('#!version:1.0.0.1\naccount.1.enable = 1\n');
    // Joined once: the same Buffer on every read, not a fresh copy.
    expect(s.body).toBe(s.body);
  });

  it('a single part is the body itself; the sync confirmation is kept', () => {
    const only = Buffer.from('boot\n');
    const s = servedFile({ file: meta, parts: [only], mac: null, vendor: 'snom', syncConfirmed: { elapsedMs: 12 } });
    expect(s.body).toBe(only);
    expect(s.length).toBe(5);
    expect(s.syncConfirmed).toEqual({ elapsedMs: 12 });
  });

  it('takes the length the render cache already knows, and joins to exactly that many bytes', () => {
    const parts = [Buffer.from('abc'), Buffer.from('defg')];
    const s = servedFile({ file: meta, parts, length: 7, mac: null, vendor: 'poly' });
    expect(s.length).toBe(7);
    expect(s.body.toString('latin1')).toBe('abcdefg');
    expect(s.syncConfirmed).toBeUndefined();
  });
});
