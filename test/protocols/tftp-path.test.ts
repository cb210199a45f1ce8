import { describe, expect, it } from 'vitest';
import { sanitizeTftpPath } from '../../agent/protocols/tftp-path.js';

describe('sanitizeTftpPath', () => {
  it('accepts plain names and strips one leading slash', () => {
    expect(sanitizeTftpPath('y000000000044.cfg')).toEqual({ ok: true, path: 'y000000000044.cfg' });
    expect(sanitizeTftpPath('/0004f2abcdef.cfg')).toEqual({ ok: true, path: '0004f2abcdef.cfg' });
    expect(sanitizeTftpPath('/etc/passwd')).toEqual({ ok: true, path: 'etc/passwd' }); // relative to the served tree
    expect(sanitizeTftpPath('fw/T46S%20v86.rom')).toEqual({ ok: true, path: 'fw/T46S%20v86.rom' });
  });

  it.each([
    '../etc/passwd',
    'a/../../etc/passwd',
    '..',
    '//etc/passwd',
    '..%2f..%2fetc%2fpasswd',
    '%2e%2e/etc/passwd',
    '%2E%2E%2Fx',
    '%252e%252e%252fx',
    'x%00.cfg',
    '..\\..\\x',
    'a\\b',
    'C:/Windows/win.ini',
    'c:x',
    'a\u0000b',
    'a\nb',
    './x',
    'a//b',
    'a/',
  ])('refuses %j as path-traversal', (name) => {
    const r = sanitizeTftpPath(name);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('path-traversal');
  });

  it('refuses empty and over-long names as bad-request', () => {
    expect(sanitizeTftpPath('')).toMatchObject({ ok: false, code: 'bad-request' });
    expect(sanitizeTftpPath('/')).toMatchObject({ ok: false, code: 'bad-request' });
    expect(sanitizeTftpPath('a'.repeat(256))).toMatchObject({ ok: false, code: 'bad-request' });
    expect(sanitizeTftpPath('a'.repeat(255)).ok).toBe(true);
  });
});
