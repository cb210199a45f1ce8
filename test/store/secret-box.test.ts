import { randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { isHotdeskError } from '../../agent/core/errors.js';
import { hashPin, verifyPinHash } from '../../agent/store/pin-hash.js';
import { open, seal } from '../../agent/store/secret-box.js';

describe('secret-box', () => {
  const key = randomBytes(32);

  test('round-trips and never shows the plaintext', () => {
    const sealed = seal(key, 'sip-password-ä€');
    expect(sealed.startsWith('v1:')).toBe(true);
    expect(sealed).not.toContain('sip-password');
    expect(open(key, sealed)).toBe('sip-password-ä€');
  });

  test('same plaintext seals differently each time (random IV)', () => {
    expect(seal(key, 'x')).not.toBe(seal(key, 'x'));
  });

  test('wrong key, tampering and garbage fail with storage-error', () => {
    const sealed = seal(key, 'secret');
    expect(() => open(randomBytes(32), sealed)).toThrow(expect.objectContaining({ code: 'storage-error' }));
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(() => open(key, `v1:${raw.toString('base64')}`)).toThrow(expect.objectContaining({ code: 'storage-error' }));
    expect(() => open(key, 'plain')).toThrow(expect.objectContaining({ code: 'storage-error' }));
    expect(() => open(key, 'v1:AAAA')).toThrow(expect.objectContaining({ code: 'storage-error' }));
    try {
      open(randomBytes(32), sealed);
    } catch (e) {
      expect(isHotdeskError(e) && e.message.includes('secret')).toBe(true);
      expect(String((e as Error).message)).not.toContain(sealed);
    }
  });

  test('refuses a key of the wrong size', () => {
    expect(() => seal(randomBytes(16), 'x')).toThrow(expect.objectContaining({ code: 'storage-error' }));
  });
});

describe('pin-hash', () => {
  const key = randomBytes(32);

  test('verifies the right PIN only, with per-hash salt, under the data key', () => {
    const h = hashPin('4321', key);
    expect(h.startsWith('hmac-sha256$')).toBe(true);
    expect(h).not.toContain('4321');
    expect(verifyPinHash('4321', h, key)).toBe(true);
    expect(verifyPinHash('4322', h, key)).toBe(false);
    expect(verifyPinHash('', h, key)).toBe(false);
    expect(hashPin('4321', key)).not.toBe(h);
    // without the data key the hash is useless: another key never verifies
    expect(verifyPinHash('4321', h, randomBytes(32))).toBe(false);
  });

  test('hashes written by the earlier scrypt scheme still verify', () => {
    const salt = Buffer.from('0123456789abcdef');
    const legacy = `scrypt$1024$8$1$${salt.toString('base64')}$${scryptSync('1234', salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64')}`;
    expect(verifyPinHash('1234', legacy, key)).toBe(true);
    expect(verifyPinHash('1235', legacy, key)).toBe(false);
  });

  test('malformed hashes never verify', () => {
    for (const bad of ['', 'scrypt$', 'bcrypt$1$2$3$4$5', 'scrypt$abc$8$1$AA==$AA==', 'scrypt$16384$8$1$$', 'hmac-sha256$$', 'hmac-sha256$AA==$AA==']) {
      expect(verifyPinHash('1234', bad, key)).toBe(false);
    }
  });
});
