import { describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../agent/core/errors.js';
import {
  checkFileName,
  FIRMWARE_FILE_NAME,
  PROVISIONING_FILE_NAME,
  requireFileName,
  TFTP_FILE_NAME,
  type FileNameRules,
} from '../../agent/protocols/file-name.js';

const HTTP: FileNameRules = { ...PROVISIONING_FILE_NAME, percentEncoded: true };
const PLAIN: FileNameRules = { ...PROVISIONING_FILE_NAME, percentEncoded: false };

/** The fault (or `ok`) of `raw` under `rules`. */
function fault(raw: string, rules: FileNameRules): string {
  const r = checkFileName(raw, rules);
  return r.ok ? 'ok' : r.fault;
}

/** Traversal in every spelling, as each caller receives it. */
const TRAVERSAL_HTTP = [
  '/../etc/passwd',
  '/..',
  '//etc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/%2E%2E%2Fetc',
  '/..%2fetc%2fpasswd',
  '/%252e%252e%252fetc', // double encoding
  '/a\\..\\b',
  '/%5c..%5cwin.ini',
  '/x%00.cfg',
  '/x%0a.cfg',
  '/./x.cfg',
  'C:/boot.ini',
  '/c%3a/boot.ini',
];
const TRAVERSAL_RAW = [
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
  'a\u007fb',
  './x',
  'a//b',
  'a/',
];

describe('checkFileName: traversal in every spelling', () => {
  it.each(TRAVERSAL_HTTP)('HTTP path %j is traversal', (raw) => {
    expect(checkFileName(raw, HTTP)).toMatchObject({ ok: false, fault: 'traversal', code: 'path-traversal' });
  });

  it.each(TRAVERSAL_RAW)('TFTP name %j is traversal', (raw) => {
    expect(checkFileName(raw, TFTP_FILE_NAME)).toMatchObject({ ok: false, fault: 'traversal', code: 'path-traversal' });
  });

  it('every traversal spelling is refused by every rule set (HTTP spellings by those that decode)', () => {
    const decoding = [HTTP, { ...FIRMWARE_FILE_NAME, percentEncoded: true }];
    for (const rules of [...decoding, PLAIN, TFTP_FILE_NAME, { ...FIRMWARE_FILE_NAME, percentEncoded: false }]) {
      for (const raw of TRAVERSAL_RAW) expect(checkFileName(raw, rules).ok, `${raw} ${JSON.stringify(rules)}`).toBe(false);
    }
    for (const rules of decoding) for (const raw of TRAVERSAL_HTTP) expect(checkFileName(raw, rules).ok, raw).toBe(false);
    // Over TFTP `%3a` is literal text: `c%3a/boot.ini` is a relative name, not a drive.
    expect(checkFileName('c%3a/boot.ini', TFTP_FILE_NAME)).toEqual({ ok: true, name: 'c%3a/boot.ini' });
  });

  it('the reason never quotes the name', () => {
    const r = checkFileName('/../secret-name', HTTP);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).not.toContain('secret');
  });
});

describe('checkFileName: provisioning files (HTTP and TFTP)', () => {
  it('keeps root file names, one leading slash stripped, decoded over HTTP', () => {
    expect(checkFileName('/001565aabb01.cfg', HTTP)).toEqual({ ok: true, name: '001565aabb01.cfg' });
    expect(checkFileName('snomD785-000413AABB02.htm', PLAIN)).toEqual({ ok: true, name: 'snomD785-000413AABB02.htm' });
    expect(checkFileName('/%30%30%31565aabb01.cfg', HTTP)).toEqual({ ok: true, name: '001565aabb01.cfg' });
  });

  it('refuses nested paths and odd names as unknown-file', () => {
    expect(checkFileName('/a/b.cfg', HTTP)).toMatchObject({ fault: 'nested', code: 'unknown-file' });
    expect(checkFileName('/.hidden', HTTP)).toMatchObject({ fault: 'bad-name', code: 'unknown-file' });
    expect(checkFileName('/a b.cfg', PLAIN)).toMatchObject({ fault: 'bad-name', code: 'unknown-file' });
    expect(fault('/fw+1.bin', HTTP)).toBe('bad-name');
  });

  it('refuses malformed encodings and over-long input as bad-request', () => {
    expect(checkFileName('/%E0%A4%A', HTTP)).toMatchObject({ fault: 'bad-encoding', code: 'bad-request' });
    expect(checkFileName(`/${'a'.repeat(600)}`, HTTP)).toMatchObject({ fault: 'too-long', code: 'bad-request' });
    // a name longer than a served name but within the input limit is not a name we serve
    expect(checkFileName(`/${'a'.repeat(200)}`, HTTP)).toMatchObject({ fault: 'bad-name', code: 'unknown-file' });
    expect(fault(`/${'a'.repeat(128)}`, HTTP)).toBe('ok');
  });
});

describe('checkFileName: TFTP request names', () => {
  it('accepts plain names and directories, strips one leading slash, keeps harmless %XX literal', () => {
    expect(checkFileName('y000000000044.cfg', TFTP_FILE_NAME)).toEqual({ ok: true, name: 'y000000000044.cfg' });
    expect(checkFileName('/0004f2abcdef.cfg', TFTP_FILE_NAME)).toEqual({ ok: true, name: '0004f2abcdef.cfg' });
    expect(checkFileName('/etc/passwd', TFTP_FILE_NAME)).toEqual({ ok: true, name: 'etc/passwd' }); // relative to the served tree
    expect(checkFileName('fw/T46S%20v86.rom', TFTP_FILE_NAME)).toEqual({ ok: true, name: 'fw/T46S%20v86.rom' });
  });

  it('refuses empty and over-long names as bad-request', () => {
    expect(checkFileName('', TFTP_FILE_NAME)).toMatchObject({ ok: false, fault: 'empty', code: 'bad-request' });
    expect(checkFileName('/', TFTP_FILE_NAME)).toMatchObject({ ok: false, fault: 'empty', code: 'bad-request' });
    expect(checkFileName('a'.repeat(256), TFTP_FILE_NAME)).toMatchObject({ ok: false, fault: 'too-long', code: 'bad-request' });
    expect(checkFileName('a'.repeat(255), TFTP_FILE_NAME).ok).toBe(true);
  });
});

describe('checkFileName: firmware images', () => {
  const fw = (raw: string, percentEncoded = false) => checkFileName(raw, { ...FIRMWARE_FILE_NAME, percentEncoded });
  it('accepts vendor image names with + and dots, decoded over HTTP', () => {
    expect(fw('snomD785-10.1.33.33-r.bin')).toEqual({ ok: true, name: 'snomD785-10.1.33.33-r.bin' });
    expect(fw('2.0.0.9%2Bsnom.bin', true)).toEqual({ ok: true, name: '2.0.0.9+snom.bin' });
  });
  it('refuses sub-directories and names it does not serve', () => {
    expect(fw('a/b.rom').ok).toBe(false);
    expect(fw('-x.rom').ok).toBe(false);
    expect(fw('a'.repeat(129)).ok).toBe(false);
  });
});

describe('requireFileName', () => {
  it('returns the name or throws the fault code, or the code the caller gives the fault', () => {
    expect(requireFileName('/001565aabb01.cfg', HTTP)).toBe('001565aabb01.cfg');
    const thrown = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return null;
    };
    const e1 = thrown(() => requireFileName('/../x', HTTP));
    expect(isHotdeskError(e1, 'path-traversal')).toBe(true);
    expect((e1 as { detail: unknown }).detail).toEqual({ fault: 'traversal' });
    expect(
      isHotdeskError(
        thrown(() => requireFileName('/a/b', HTTP)),
        'unknown-file',
      ),
    ).toBe(true);
    expect(
      isHotdeskError(
        thrown(() => requireFileName('a/b', { ...FIRMWARE_FILE_NAME, percentEncoded: false }, { nested: 'path-traversal' })),
        'path-traversal',
      ),
    ).toBe(true);
  });
});
