/**
 * Users and their PINs in SQLite (used by Store; PIN failure records: lock-queries.ts).
 * SIP passwords and PINs are sealed with the data key (secret-box.ts); PINs
 * are also kept as keyed HMACs for verification (pin-hash.ts).
 */
import type { User, IdentityKey } from '../core/model.js';
import { hashPin, verifyPinHash } from './pin-hash.js';
import { open, seal } from './secret-box.js';
import type { SqlFn, UserRow } from './store-rows.js';
import { userFromRow } from './store-rows.js';

/** The raw row of the user with short number `ext`. */
export function userRow(sql: SqlFn, ext: string): UserRow | undefined {
  return sql('SELECT * FROM users WHERE ext = ?').get(ext) as UserRow | undefined;
}

/** The user with short number `ext` (SIP password decrypted). */
export function getUserRow(sql: SqlFn, key: Buffer, ext: string): User | undefined {
  const r = userRow(sql, ext);
  return r ? userFromRow(key, r) : undefined;
}

/** Every user, by short number. */
export function listUserRows(sql: SqlFn, key: Buffer): User[] {
  return (sql('SELECT * FROM users ORDER BY ext').all() as UserRow[]).map((r) => userFromRow(key, r));
}

/** The user's clear PIN; undefined when none. */
export function userPinOf(sql: SqlFn, key: Buffer, ext: string): string | undefined {
  const r = userRow(sql, ext);
  return r?.pin_enc ? open(key, r.pin_enc) : undefined;
}

/** Checks `pin` against the user's keyed PIN hash (constant-time). False for an unknown user or no PIN. */
export function verifyUserPin(sql: SqlFn, key: Buffer, ext: string, pin: string): boolean {
  const r = userRow(sql, ext);
  if (!r?.pin_hash) return false;
  return verifyPinHash(pin, r.pin_hash, key);
}

/** The sealed secrets of a user row: SIP password, keyed PIN hash and sealed PIN (null: no PIN). */
export interface UserSecrets {
  readonly passwordEnc: string;
  readonly pinHash: string | null;
  readonly pinEnc: string | null;
}

/**
 * The secrets to write for `user` with `pin` (null: none) over the row `old` (undefined: a new user):
 * an unchanged PIN keeps its hash (no re-hash) and sealed value, an unchanged SIP password its sealed value.
 */
export function userSecretsOf(key: Buffer, user: User, pin: string | null, old: UserRow | undefined): UserSecrets {
  let pinHash: string | null = null;
  let pinEnc: string | null = null;
  if (pin !== null) {
    const same = old?.pin_enc != null && old.pin_hash != null && open(key, old.pin_enc) === pin;
    pinHash = same && old?.pin_hash ? old.pin_hash : hashPin(pin, key);
    pinEnc = same && old?.pin_enc ? old.pin_enc : seal(key, pin);
  }
  const password = user.sip.password;
  const passwordEnc = old && open(key, old.sip_password_enc) === password ? old.sip_password_enc : seal(key, password);
  return { passwordEnc, pinHash, pinEnc };
}

/**
 * Inserts or updates a user. `pin` null removes the PIN; an unchanged PIN
 * keeps its hash (no re-hash), an unchanged SIP password its sealed value.
 */
export function putUserRow(sql: SqlFn, key: Buffer, user: User, pin: string | null, now: number): void {
  const { passwordEnc, pinHash, pinEnc } = userSecretsOf(key, user, pin, userRow(sql, user.ext));
  const s = user.sip;
  sql(
    `INSERT INTO users (ext, name, hotdesk, sip_user, sip_auth_name, sip_password_enc, display_name, outbound_caller_id, voicemail_number, pin_hash, pin_enc, updated_at)
         VALUES (@ext, @name, @hotdesk, @sipUser, @authName, @password, @displayName, @outbound, @voicemail, @pinHash, @pinEnc, @now)
         ON CONFLICT (ext) DO UPDATE SET name = excluded.name, hotdesk = excluded.hotdesk, sip_user = excluded.sip_user,
           sip_auth_name = excluded.sip_auth_name, sip_password_enc = excluded.sip_password_enc, display_name = excluded.display_name,
           outbound_caller_id = excluded.outbound_caller_id, voicemail_number = excluded.voicemail_number,
           pin_hash = excluded.pin_hash, pin_enc = excluded.pin_enc, updated_at = excluded.updated_at`,
  ).run({
    ext: user.ext,
    name: user.name,
    hotdesk: user.hotdesk ? 1 : 0,
    sipUser: s.user,
    authName: s.authName,
    password: passwordEnc,
    displayName: s.displayName,
    outbound: s.outboundCallerId ?? null,
    voicemail: s.voicemailNumber ?? null,
    pinHash,
    pinEnc,
    now,
  });
}

/**
 * The one-touch identity keys for `identities` (a phone's list, in order),
 * with clear PINs. Identities whose user is gone or has no PIN are skipped.
 */
export function identityKeysOf(sql: SqlFn, key: Buffer, identities: readonly string[]): IdentityKey[] {
  return identityKeysFrom(key, identities, (ext) => userRow(sql, ext));
}

/**
 * The one-touch identity keys for `identities` (in order) with clear PINs, `rowOf` giving each
 * short number's user row; identities whose user is gone or has no PIN are skipped.
 */
export function identityKeysFrom(key: Buffer, identities: readonly string[], rowOf: (ext: string) => UserRow | undefined): IdentityKey[] {
  const keys: IdentityKey[] = [];
  for (const ext of identities) {
    const r = rowOf(ext);
    if (!r?.pin_enc) continue;
    keys.push({
      ext,
      label: r.name,
      pin: open(key, r.pin_enc),
      ...(r.outbound_caller_id !== null ? { outboundCallerId: r.outbound_caller_id } : {}),
    });
  }
  return keys;
}
