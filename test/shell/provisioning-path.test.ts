import { describe, expect, it } from 'vitest';
import { sanitizeFileName } from '../../agent/shell/provisioning-pipeline.js';
import { isHotdeskError } from '../../agent/core/errors.js';

function code(raw: string, encoded = true): string {
  try {
    sanitizeFileName(raw, encoded);
    return 'ok';
  } catch (e) {
    return isHotdeskError(e) ? e.code : 'thrown';
  }
}

describe('sanitizeFileName', () => {
  it('keeps root file names', () => {
    expect(sanitizeFileName('/001565aabb01.cfg', true)).toBe('001565aabb01.cfg');
    expect(sanitizeFileName('snomD785-000413AABB02.htm', false)).toBe('snomD785-000413AABB02.htm');
  });
  it('refuses traversal in every spelling', () => {
    for (const p of ['/../etc/passwd', '/..', '//etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2fetc%2fpasswd', '/a\\..\\b', '/%5c..%5cwin.ini', '/x%00.cfg', '/./x.cfg', 'C:/boot.ini']) {
      expect(['path-traversal', 'unknown-file']).toContain(code(p));
    }
    expect(code('/../etc/passwd')).toBe('path-traversal');
    expect(code('..\\..\\x', false)).toBe('path-traversal');
  });
  it('refuses nested paths, odd names and bad encodings', () => {
    expect(code('/a/b.cfg')).toBe('unknown-file');
    expect(code('/.hidden')).toBe('unknown-file');
    expect(code('/%E0%A4%A')).toBe('bad-request');
    expect(code('/' + 'a'.repeat(600))).toBe('bad-request');
  });
});
