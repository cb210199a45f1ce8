/**
 * The directory in PostgreSQL (the StoreData methods of the PostgreSQL backend for the site, users and
 * phones), the same as SQLite's site-queries.ts, user-queries.ts, phone-queries.ts and the hot-desk line
 * rows of hotdesk-line-queries.ts: the same rows (store-rows.ts maps them), the same secrets sealed with
 * the data key, the same audit events. Text orderings use the C collation, like SQLite's BINARY.
 */
import { HotdeskError } from '../../core/errors.js';
import type { IdentityKey, Phone, SiteSettings, User, Vendor } from '../../core/model.js';
import { normalizeMac } from '../../core/model.js';
import { defaultSite } from '../default-site.js';
import { lineUsername, newLinePassword } from '../hotdesk-line-queries.js';
import { autoEnrolment, newProvCredential, newScreenToken, phoneFieldsOf } from '../phone-queries.js';
import { verifyPinHash } from '../pin-hash.js';
import { open, seal } from '../secret-box.js';
import type { PhoneRow, UserRow } from '../store-rows.js';
import { phoneFromRow, runtimeFromRow, siteFromRow, siteToRow, userFromRow } from '../store-rows.js';
import type { EnrolledVia, PhoneRuntime } from '../store-types.js';
import { identityKeysFrom, userSecretsOf } from '../user-queries.js';
import { appendAudit } from './pg-audit-queries.js';
import type { PgDb } from './pg-db.js';

// --- site ---

/** Inserts the default site when there is no site row yet (agents starting together: the first default wins). */
export async function ensureSite(db: PgDb, key: Buffer, now: number): Promise<void> {
  if ((await db.one('SELECT 1 FROM site WHERE id = 1')) !== undefined) return;
  const { settings, secrets } = siteToRow(key, defaultSite());
  await db.run('INSERT INTO site (id, settings, secrets_enc, updated_at) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING', [settings, secrets, now]);
}

/** The last site row read and its decrypted settings (decrypting and parsing cost more than the look-up). */
const siteMemo = new WeakMap<Buffer, { settings: string; secrets: string; site: SiteSettings }>();

/** The site settings with secrets (bootstrap password, API tokens) decrypted. Throws `storage-error` when the row is missing. */
export async function getSite(db: PgDb, key: Buffer): Promise<SiteSettings> {
  const r = await db.one<{ settings: string; secrets_enc: string }>('SELECT settings, secrets_enc FROM site WHERE id = 1');
  if (!r) throw new HotdeskError('storage-error', 'site settings are missing');
  const memo = siteMemo.get(key);
  if (memo && memo.settings === r.settings && memo.secrets === r.secrets_enc) return memo.site;
  const site = siteFromRow(key, r.settings, r.secrets_enc);
  siteMemo.set(key, { settings: r.settings, secrets: r.secrets_enc, site });
  return site;
}

/** Replaces the site settings (secrets sealed). */
export async function putSite(db: PgDb, key: Buffer, site: SiteSettings, now: number): Promise<void> {
  const { settings, secrets } = siteToRow(key, site);
  await db.run(
    `INSERT INTO site (id, settings, secrets_enc, updated_at) VALUES (1, $1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, secrets_enc = excluded.secrets_enc, updated_at = excluded.updated_at`,
    [settings, secrets, now],
  );
}

// --- users ---

/** The raw row of the user with short number `ext`. */
export function userRow(db: PgDb, ext: string): Promise<UserRow | undefined> {
  return db.one<UserRow>('SELECT * FROM users WHERE ext = $1', [ext]);
}

/** The user with short number `ext` (SIP password decrypted). */
export async function getUser(db: PgDb, key: Buffer, ext: string): Promise<User | undefined> {
  const r = await userRow(db, ext);
  return r ? userFromRow(key, r) : undefined;
}

/** Every user, by short number. */
export async function listUsers(db: PgDb, key: Buffer): Promise<User[]> {
  return (await db.query<UserRow>('SELECT * FROM users ORDER BY ext COLLATE "C"')).map((r) => userFromRow(key, r));
}

/** True when `ext` has a PIN. */
export async function userHasPin(db: PgDb, ext: string): Promise<boolean> {
  return (await userRow(db, ext))?.pin_hash != null;
}

/** The user's clear PIN; undefined when none. */
export async function userPin(db: PgDb, key: Buffer, ext: string): Promise<string | undefined> {
  const r = await userRow(db, ext);
  return r?.pin_enc ? open(key, r.pin_enc) : undefined;
}

/** Checks `pin` against the user's keyed PIN hash (constant-time). False for an unknown user or no PIN. */
export async function verifyPin(db: PgDb, key: Buffer, ext: string, pin: string): Promise<boolean> {
  const r = await userRow(db, ext);
  if (!r?.pin_hash) return false;
  return verifyPinHash(pin, r.pin_hash, key);
}

/**
 * Inserts or updates a user. `pin` null removes the PIN; an unchanged PIN keeps its hash (no re-hash),
 * an unchanged SIP password its sealed value.
 */
export function putUser(db: PgDb, key: Buffer, user: User, pin: string | null, now: number): Promise<void> {
  return db.transaction(async () => {
    const { passwordEnc, pinHash, pinEnc } = userSecretsOf(key, user, pin, await userRow(db, user.ext));
    const s = user.sip;
    await db.run(
      `INSERT INTO users (ext, name, hotdesk, sip_user, sip_auth_name, sip_password_enc, display_name, outbound_caller_id, voicemail_number, pin_hash, pin_enc, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (ext) DO UPDATE SET name = excluded.name, hotdesk = excluded.hotdesk, sip_user = excluded.sip_user,
           sip_auth_name = excluded.sip_auth_name, sip_password_enc = excluded.sip_password_enc, display_name = excluded.display_name,
           outbound_caller_id = excluded.outbound_caller_id, voicemail_number = excluded.voicemail_number,
           pin_hash = excluded.pin_hash, pin_enc = excluded.pin_enc, updated_at = excluded.updated_at`,
      [
        user.ext,
        user.name,
        user.hotdesk ? 1 : 0,
        s.user,
        s.authName,
        passwordEnc,
        s.displayName,
        s.outboundCallerId ?? null,
        s.voicemailNumber ?? null,
        pinHash,
        pinEnc,
        now,
      ],
    );
  });
}

/** Deletes a user (their sessions go with them). */
export async function deleteUser(db: PgDb, ext: string): Promise<void> {
  await db.run('DELETE FROM users WHERE ext = $1', [ext]);
}

// --- phones ---

/** The raw row of the phone with this MAC (any notation). */
export async function phoneRow(db: PgDb, mac: string): Promise<PhoneRow | undefined> {
  const m = normalizeMac(mac);
  return m === null ? undefined : db.one<PhoneRow>('SELECT * FROM phones WHERE mac = $1', [m]);
}

/** The phone with this MAC (any notation); device-account password decrypted. */
export async function getPhone(db: PgDb, key: Buffer, mac: string): Promise<Phone | undefined> {
  const r = await phoneRow(db, mac);
  return r ? phoneFromRow(key, r) : undefined;
}

/** Every phone, by MAC. */
export async function listPhones(db: PgDb, key: Buffer): Promise<Phone[]> {
  return (await db.query<PhoneRow>('SELECT * FROM phones ORDER BY mac COLLATE "C"')).map((r) => phoneFromRow(key, r));
}

/** Runtime facts of a phone (revision, provisioning credential, last fetch, sync state). */
export async function phoneRuntime(db: PgDb, key: Buffer, mac: string): Promise<PhoneRuntime | undefined> {
  const r = await phoneRow(db, mac);
  return r ? runtimeFromRow(key, r) : undefined;
}

/** The phone whose own provisioning username is `username`. */
export async function findPhoneByProvUsername(db: PgDb, key: Buffer, username: string): Promise<Phone | undefined> {
  const r = await db.one<PhoneRow>('SELECT * FROM phones WHERE prov_username = $1', [username]);
  return r ? phoneFromRow(key, r) : undefined;
}

/** The phone a user with SIP user `sipUser` is logged in on (latest session), else one whose device account it is. */
export async function findPhoneBySipUser(db: PgDb, key: Buffer, sipUser: string): Promise<Phone | undefined> {
  const r =
    (await db.one<PhoneRow>(
      'SELECT p.* FROM phones p JOIN sessions s ON s.phone_mac = p.mac JOIN users u ON u.ext = s.user_ext WHERE u.sip_user = $1 ORDER BY s.started_at DESC LIMIT 1',
      [sipUser],
    )) ?? (await db.one<PhoneRow>('SELECT * FROM phones WHERE device_sip_user = $1 ORDER BY mac COLLATE "C" LIMIT 1', [sipUser]));
  return r ? phoneFromRow(key, r) : undefined;
}

/**
 * The one-touch identity keys of a phone, in `identities` order, with clear PINs. Identities whose
 * user is gone or has no PIN are skipped.
 */
export async function identityKeysFor(db: PgDb, key: Buffer, mac: string): Promise<IdentityKey[]> {
  const phone = await getPhone(db, key, mac);
  if (!phone || phone.identities.length === 0) return [];
  const rows = await db.query<UserRow>('SELECT * FROM users WHERE ext = ANY($1::text[])', [phone.identities]);
  const byExt = new Map(rows.map((r) => [r.ext, r]));
  return identityKeysFrom(key, phone.identities, (ext) => byExt.get(ext));
}

/**
 * Gives phone `mac` its hot-desk line when `hotdesk` (kept when it exists), removes it otherwise
 * (hotdesk-line-queries.ts). Run inside the transaction that writes the phone.
 */
export async function syncHotdeskLine(db: PgDb, key: Buffer, mac: string, hotdesk: boolean, now: number): Promise<void> {
  if (!hotdesk) {
    await db.run('DELETE FROM hotdesk_lines WHERE mac = $1', [mac]);
    return;
  }
  await db.run('INSERT INTO hotdesk_lines (mac, username, password_enc, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (mac) DO NOTHING', [
    mac,
    lineUsername(mac),
    seal(key, newLinePassword()),
    now,
  ]);
}

/** Brings every phone's line in step with its `hotdesk` flag, when some is out of step (a database filled from elsewhere). */
export function syncAllHotdeskLines(db: PgDb, key: Buffer, now: number): Promise<void> {
  return db.transaction(async () => {
    const off = await db.query<{ mac: string; hotdesk: number }>(
      `SELECT p.mac, p.hotdesk FROM phones p LEFT JOIN hotdesk_lines l ON l.mac = p.mac
         WHERE (p.hotdesk = 1 AND l.mac IS NULL) OR (p.hotdesk = 0 AND l.mac IS NOT NULL)`,
    );
    for (const p of off) await syncHotdeskLine(db, key, p.mac, p.hotdesk === 1, now);
  });
}

/**
 * Inserts or updates a phone's directory fields. A new phone gets a random provisioning credential and
 * screen token, revision 1, pending sync. An existing phone keeps its runtime (credential, revision,
 * sync state). A hot-desk phone gets its hot-desk line (kept when it has one); a phone that is not
 * hot-desk loses it. One transaction (a savepoint inside one). Throws `bad-request` for a bad MAC.
 */
export function putPhone(db: PgDb, key: Buffer, phone: Phone, via: EnrolledVia, now: number): Promise<void> {
  const mac = normalizeMac(phone.mac);
  if (mac === null) return Promise.reject(new HotdeskError('bad-request', 'invalid MAC address'));
  return db.transaction(async () => {
    const old = await phoneRow(db, mac);
    const f = phoneFieldsOf(key, mac, phone, via, old);
    const fields = [f.mac, f.vendor, f.model, f.label, f.location, f.hotdesk, f.deviceUser, f.accountEnc, f.identities, f.keys, f.via, f.sipPort];
    if (old) {
      await db.run(
        `UPDATE phones SET vendor = $2, model = $3, label = $4, location = $5, hotdesk = $6, device_sip_user = $7, device_account_enc = $8,
           identities = $9, keys = $10, enrolled_via = $11, sip_port = $12 WHERE mac = $1`,
        fields,
      );
    } else {
      const cred = newProvCredential(key);
      await db.run(
        `INSERT INTO phones (mac, vendor, model, label, location, hotdesk, device_sip_user, device_account_enc, identities, keys, enrolled_via,
           sip_port, created_at, prov_username, prov_password_enc, screen_token, revision, sync_state, sync_revision, sync_requested_at, sync_next_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, 'pending', 1, $13, $13)`,
        [...fields, now, cred.provUser, cred.provPass, newScreenToken()],
      );
    }
    await syncHotdeskLine(db, key, mac, phone.hotdesk, now);
  });
}

/** Deletes a phone (its session and hot-desk line go with it). */
export async function deletePhone(db: PgDb, mac: string): Promise<void> {
  await db.run('DELETE FROM phones WHERE mac = $1', [mac]);
}

/**
 * Auto-enrolment of phone `p.mac`: hot-desking on, no identities, label `auto <mac>`, audit
 * `enrolment`, in one transaction. Returns the existing phone unchanged when it is already known.
 * Throws `bad-request` for a bad MAC.
 */
export function enrolPhone(db: PgDb, key: Buffer, p: { mac: string; vendor: Vendor; model: string }, now: number): Promise<Phone> {
  const mac = normalizeMac(p.mac);
  if (mac === null) return Promise.reject(new HotdeskError('bad-request', 'invalid MAC address'));
  return db.transaction(async () => {
    const existing = await phoneRow(db, mac);
    if (existing) return phoneFromRow(key, existing);
    const enrolment = autoEnrolment({ mac, vendor: p.vendor, model: p.model }, now);
    await putPhone(db, key, enrolment.phone, 'auto', now);
    await appendAudit(db, enrolment.audit);
    return enrolment.phone;
  });
}

/** Replaces the phone's own provisioning credential with a new random one, marked unused. */
export async function resetEnrolment(db: PgDb, key: Buffer, mac: string): Promise<void> {
  const { provUser, provPass } = newProvCredential(key);
  await db.run('UPDATE phones SET prov_username = $1, prov_password_enc = $2, own_credential_used = 0 WHERE mac = $3', [
    provUser,
    provPass,
    normalizeMac(mac) ?? '',
  ]);
}
