/**
 * PIN verification hashes.
 *
 * New hashes are keyed: `hmac-sha256$<salt b64>$<mac b64>` = HMAC-SHA256 with
 * the data-dir key (`secret.key`, mode 0600) over salt and PIN. Why not a slow
 * password hash: a hot-desk PIN has 4 to 12 digits, so an attacker holding the
 * hash can try every PIN within minutes whatever the work factor; what protects
 * a PIN at rest is a secret the database file does not hold. Without the key a
 * stolen database reveals nothing; with the key, the sealed copy kept for
 * one-touch keys would be readable anyway. Online guessing is bounded by the
 * PIN lockout (core/pin-guard.ts). The keyed hash costs microseconds, so a
 * login never blocks the event loop (scrypt at N=2^14 took ~45 ms per login).
 *
 * Older `scrypt$N$r$p$salt$hash` hashes still verify.
 */
import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const SALT_LEN = 16;

/** Hashes `pin` with a fresh random salt under the data key. */
export function hashPin(pin: string, key: Buffer): string {
  const salt = randomBytes(SALT_LEN);
  const mac = createHmac('sha256', key).update(salt).update(pin, 'utf8').digest();
  return `hmac-sha256$${salt.toString('base64')}$${mac.toString('base64')}`;
}

/** True when `pin` matches `stored` (constant-time compare); false for a malformed hash. */
export function verifyPinHash(pin: string, stored: string, key: Buffer): boolean {
  const parts = stored.split('$');
  if (parts[0] === 'hmac-sha256' && parts.length === 3) {
    const salt = Buffer.from(parts[1] ?? '', 'base64');
    const expected = Buffer.from(parts[2] ?? '', 'base64');
    if (salt.length === 0 || expected.length !== 32) return false;
    const actual = createHmac('sha256', key).update(salt).update(pin, 'utf8').digest();
    return timingSafeEqual(actual, expected);
  }
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const N = Number(parts[1]);
  const r = Number(parts[2]);
  const p = Number(parts[3]);
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1 << 20) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  if (salt.length === 0 || expected.length === 0) return false;
  const actual = scryptSync(pin, salt, expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return timingSafeEqual(actual, expected);
}
