/**
 * Secrets at rest (docs/security.md "Secrets at rest"): AES-256-GCM (NIST SP 800-38D) with the
 * agent's 32-byte data key (`<data>/secret.key`).
 *
 * Sealed form: `v1:<base64(iv[12] | tag[16] | ciphertext)>`. A fresh random
 * 96-bit IV per seal; the GCM tag authenticates the ciphertext, so a tampered
 * value or a wrong key fails to open (`storage-error`, never the plaintext).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HotdeskError } from '../core/errors.js';

const PREFIX = 'v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Length in bytes of a data key. */
export const DATA_KEY_BYTES = 32;

function checkKey(key: Buffer): void {
  if (key.length !== DATA_KEY_BYTES) throw new HotdeskError('storage-error', 'data key must be 32 bytes');
}

/** Encrypts `plaintext` (UTF-8) with `key`; returns the sealed string. */
export function seal(key: Buffer, plaintext: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/** Decrypts a value made by {@link seal}. Throws `storage-error` when it is malformed, tampered or sealed with another key. */
export function open(key: Buffer, sealed: string): string {
  checkKey(key);
  if (!sealed.startsWith(PREFIX)) throw new HotdeskError('storage-error', 'sealed value has an unknown format');
  const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new HotdeskError('storage-error', 'sealed value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch (e) {
    throw new HotdeskError('storage-error', 'a stored secret cannot be decrypted (wrong secret.key?)', {}, { cause: e });
  }
}
