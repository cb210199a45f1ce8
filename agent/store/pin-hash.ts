/**
 * PIN verification hashes: scrypt (RFC 7914) with a per-user random salt,
 * compared with `timingSafeEqual`.
 *
 * Stored form: `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`, so the cost can be
 * raised later without breaking existing hashes.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters used for new hashes (N = 2^14, r = 8, p = 1). */
export const PIN_SCRYPT = Object.freeze({ N: 16384, r: 8, p: 1, keyLen: 32, saltLen: 16 });

/** Hashes `pin` with a fresh random salt. */
export function hashPin(pin: string): string {
  const { N, r, p, keyLen, saltLen } = PIN_SCRYPT;
  const salt = randomBytes(saltLen);
  const hash = scryptSync(pin, salt, keyLen, { N, r, p });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** True when `pin` matches `stored` (constant-time compare); false for a malformed hash. */
export function verifyPinHash(pin: string, stored: string): boolean {
  const parts = stored.split('$');
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
