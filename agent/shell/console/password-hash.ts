/**
 * Console account passwords, hashed with scrypt (RFC 7914) from `node:crypto`.
 *
 * Stored form: `scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>`, a fresh
 * 16-byte salt per password and a 32-byte derived key. The cost travels with
 * the hash, so raising {@link DEFAULT_SCRYPT_COST} later leaves old hashes
 * verifiable. Comparison is constant time. The password itself is never
 * stored, logged or echoed.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters (RFC 7914 §2: N CPU/memory cost, r block size, p parallelism). */
export interface ScryptCost {
  /** log2 of N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** N = 2^15, r = 8, p = 1: 32 MiB of memory and tens of milliseconds per hash on a small server. */
export const DEFAULT_SCRYPT_COST: ScryptCost = Object.freeze({ logN: 15, r: 8, p: 1 });

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Longest password accepted (bounded work for hostile input). */
export const MAX_PASSWORD_LENGTH = 1024;
/** Shortest password `hotdesk admin add` accepts. */
export const MIN_PASSWORD_LENGTH = 10;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.logN;
  return new Promise((resolve, reject) => {
    // maxmem must exceed 128 * N * r (RFC 7914 §2 memory use), else node refuses.
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * Hashes `password` with a fresh random salt (or `salt`, for tests).
 *
 * @returns the stored form `scrypt$logN$r$p$salt$hash`
 */
export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST, salt: Buffer = randomBytes(SALT_LENGTH)): Promise<string> {
  const key = await derive(password, salt, cost);
  return ['scrypt', cost.logN, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Parses a stored hash; null when it is not one this module wrote. */
export function parsePasswordHash(stored: string): { cost: ScryptCost; salt: Buffer; key: Buffer } | null {
  const m = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return null;
  const cost = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (cost.logN < 10 || cost.logN > 22 || cost.r < 1 || cost.r > 32 || cost.p < 1 || cost.p > 16) return null;
  return { cost, salt: Buffer.from(m[4] ?? '', 'base64'), key: Buffer.from(m[5] ?? '', 'base64') };
}

/** True when `password` matches `stored`; false for a malformed hash or an over-long password. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  if (!parsed || password.length > MAX_PASSWORD_LENGTH) return false;
  const key = await derive(password, parsed.salt, parsed.cost);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

let dummy: Promise<string> | null = null;

/**
 * Spends the same work as a real verification (for an unknown account name),
 * so the answer time does not tell which names exist. Always false.
 */
export async function verifyNobody(password: string): Promise<false> {
  dummy ??= hashPassword('no account has this password', DEFAULT_SCRYPT_COST);
  await verifyPassword(password.slice(0, MAX_PASSWORD_LENGTH), await dummy);
  return false;
}
