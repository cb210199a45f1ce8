import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HotdeskError } from '../../../agent/core/errors.js';
import { TFTP_ERROR_MAP, tftpBusyError, tftpErrorFor, tftpErrorForError } from '../../../agent/shell/tftp/tftp-errors.js';

describe('TFTP_ERROR_MAP', () => {
  it('maps every code to a TFTP error code 0..8', () => {
    for (const code of ERROR_CODES) {
      expect(TFTP_ERROR_MAP[code], code).toBeGreaterThanOrEqual(0);
      expect(TFTP_ERROR_MAP[code], code).toBeLessThanOrEqual(8);
    }
    expect(Object.keys(TFTP_ERROR_MAP).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('uses File not found, Access violation and Illegal operation as docs/tftp.md says', () => {
    for (const c of ['unknown-phone', 'unknown-file', 'not-found'] as const) expect(TFTP_ERROR_MAP[c]).toBe(1);
    for (const c of ['path-traversal', 'secret-over-tftp', 'auth-required', 'auth-failed', 'forbidden-source', 'write-refused'] as const)
      expect(TFTP_ERROR_MAP[c]).toBe(2);
    expect(TFTP_ERROR_MAP['bad-request']).toBe(4);
    expect(TFTP_ERROR_MAP.internal).toBe(0);
    expect(TFTP_ERROR_MAP['storage-error']).toBe(0);
  });

  it('sends the catalog text, never the error message', () => {
    const e = new HotdeskError('secret-over-tftp', 'account.1.password = hunter2');
    const t = tftpErrorForError(e);
    expect(t.code).toBe(2);
    expect(t.message).toMatch(/^secret-over-tftp: /);
    expect(t.message).not.toContain('hunter2');
    expect(tftpErrorFor('internal').message).toBe('internal: An unexpected internal error.');
  });

  it('says which limit refused a request, with the busy code and no false rate-limit text', () => {
    expect(tftpBusyError('source')).toEqual({ code: 0, message: 'busy: too many transfers in progress from this address' });
    expect(tftpBusyError('server')).toEqual({ code: 0, message: 'busy: server busy, retry' });
    expect(TFTP_ERROR_MAP.busy).toBe(0);
  });
});
