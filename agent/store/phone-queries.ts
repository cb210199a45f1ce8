/**
 * Phone rows in SQLite (used by Store): look-ups, and writes of a phone's
 * directory fields, provisioning credential and learned facts. A new phone gets a random provisioning credential
 * (sealed with the data key) and screen token; secrets never leave as text.
 */
import { randomBytes } from 'node:crypto';
import { HotdeskError } from '../core/errors.js';
import type { AuditEvent, Phone, Vendor } from '../core/model.js';
import { normalizeMac } from '../core/model.js';
import { syncHotdeskLineRow } from './hotdesk-line-queries.js';
import { open, seal } from './secret-box.js';
import type { PhoneRow, SqlFn } from './store-rows.js';
import { DEFAULT_SIP_PORT, phoneFromRow } from './store-rows.js';
import type { EnrolledVia } from './store-types.js';

const randomToken = (bytes: number): string => randomBytes(bytes).toString('base64url');

/** A fresh random provisioning credential: username `hd-` and 12 hex digits, password sealed with the data key. */
export function newProvCredential(key: Buffer): { readonly provUser: string; readonly provPass: string } {
  return { provUser: `hd-${randomBytes(6).toString('hex')}`, provPass: seal(key, randomToken(18)) };
}

/** A fresh random screen token (the secret in the URLs the agent gives the phone). */
export const newScreenToken = (): string => randomToken(18);

/** The directory fields of a phone row, as written by an insert or update of the phone. */
export interface PhoneFields {
  readonly mac: string;
  readonly vendor: Vendor;
  readonly model: string;
  readonly label: string;
  readonly location: string | null;
  readonly hotdesk: number;
  readonly deviceUser: string | null;
  readonly accountEnc: string | null;
  readonly identities: string;
  readonly keys: string;
  readonly via: EnrolledVia;
  readonly sipPort: number;
}

/**
 * The directory fields to write for `phone` (normalized MAC `mac`) over the row `old` (undefined: a
 * new phone); an unchanged device account keeps its sealed value.
 */
export function phoneFieldsOf(key: Buffer, mac: string, phone: Phone, via: EnrolledVia, old: PhoneRow | undefined): PhoneFields {
  const account = phone.deviceAccount;
  const accountJson = account ? JSON.stringify(account) : null;
  const accountEnc =
    accountJson === null
      ? null
      : old?.device_account_enc && open(key, old.device_account_enc) === accountJson
        ? old.device_account_enc
        : seal(key, accountJson);
  return {
    mac,
    vendor: phone.vendor,
    model: phone.model,
    label: phone.label,
    location: phone.location ?? null,
    hotdesk: phone.hotdesk ? 1 : 0,
    deviceUser: account?.user ?? null,
    accountEnc,
    identities: JSON.stringify(phone.identities),
    keys: JSON.stringify(phone.keys),
    via,
    sipPort: phone.sipPort ?? DEFAULT_SIP_PORT,
  };
}

/** The phone auto-enrolment of `p` (normalized MAC) adds, and its `enrolment` audit event. */
export function autoEnrolment(p: { mac: string; vendor: Vendor; model: string }, now: number): { phone: Phone; audit: AuditEvent } {
  return {
    phone: { mac: p.mac, vendor: p.vendor, model: p.model, label: `auto ${p.mac}`, hotdesk: true, identities: [], keys: [] },
    audit: { kind: 'enrolment', at: now, phone: p.mac, detail: { vendor: p.vendor, model: p.model } },
  };
}

/** The raw row of the phone with this MAC (any notation). */
export function phoneRow(sql: SqlFn, mac: string): PhoneRow | undefined {
  const m = normalizeMac(mac);
  return m === null ? undefined : (sql('SELECT * FROM phones WHERE mac = ?').get(m) as PhoneRow | undefined);
}

/**
 * Inserts or updates a phone's directory fields. A new phone gets a random
 * provisioning credential and screen token, revision 1, pending sync. An
 * existing phone keeps its runtime (credential, revision, sync state). A
 * hot-desk phone gets its hot-desk line (kept when it has one); a phone that
 * is not hot-desk loses it (hotdesk-line-queries.ts). Run inside a transaction.
 */
export function putPhoneRow(sql: SqlFn, key: Buffer, phone: Phone, via: EnrolledVia, now: number): void {
  const mac = normalizeMac(phone.mac);
  if (mac === null) throw new HotdeskError('bad-request', 'invalid MAC address');
  const old = phoneRow(sql, mac);
  const fields = phoneFieldsOf(key, mac, phone, via, old);
  if (old) {
    sql(
      `UPDATE phones SET vendor = @vendor, model = @model, label = @label, location = @location, hotdesk = @hotdesk,
             device_sip_user = @deviceUser, device_account_enc = @accountEnc, identities = @identities, keys = @keys, enrolled_via = @via,
             sip_port = @sipPort
           WHERE mac = @mac`,
    ).run(fields);
    syncHotdeskLineRow(sql, key, mac, phone.hotdesk, now);
    return;
  }
  sql(
    `INSERT INTO phones (mac, vendor, model, label, location, hotdesk, device_sip_user, device_account_enc, identities, keys, enrolled_via,
           sip_port, created_at, prov_username, prov_password_enc, screen_token, revision, sync_state, sync_revision, sync_requested_at, sync_next_at)
         VALUES (@mac, @vendor, @model, @label, @location, @hotdesk, @deviceUser, @accountEnc, @identities, @keys, @via,
           @sipPort, @now, @provUser, @provPass, @screen, 1, 'pending', 1, @now, @now)`,
  ).run({ ...fields, now, ...newProvCredential(key), screen: newScreenToken() });
  syncHotdeskLineRow(sql, key, mac, phone.hotdesk, now);
}

/** Replaces the phone's own provisioning credential with a new random one, marked unused. */
export function resetEnrolmentRow(sql: SqlFn, key: Buffer, mac: string): void {
  const { provUser, provPass } = newProvCredential(key);
  sql('UPDATE phones SET prov_username = ?, prov_password_enc = ?, own_credential_used = 0 WHERE mac = ?').run(provUser, provPass, normalizeMac(mac) ?? '');
}

/** Every phone row, by MAC. */
export function listPhoneRows(sql: SqlFn): PhoneRow[] {
  return sql('SELECT * FROM phones ORDER BY mac').all() as PhoneRow[];
}

/** The row of the phone whose own provisioning username is `username`. */
export function phoneRowByProvUsername(sql: SqlFn, username: string): PhoneRow | undefined {
  return sql('SELECT * FROM phones WHERE prov_username = ?').get(username) as PhoneRow | undefined;
}

/** The row of the phone a user with SIP user `sipUser` is logged in on (latest session), else one whose device account it is. */
export function phoneRowBySipUser(sql: SqlFn, sipUser: string): PhoneRow | undefined {
  return (
    (sql(
      'SELECT p.* FROM phones p JOIN sessions s ON s.phone_mac = p.mac JOIN users u ON u.ext = s.user_ext WHERE u.sip_user = ? ORDER BY s.started_at DESC LIMIT 1',
    ).get(sipUser) as PhoneRow | undefined) ?? (sql('SELECT * FROM phones WHERE device_sip_user = ? ORDER BY mac LIMIT 1').get(sipUser) as PhoneRow | undefined)
  );
}

/** Marks the phone's own provisioning credential as used. */
export function markOwnCredentialUsedRow(sql: SqlFn, mac: string): void {
  sql('UPDATE phones SET own_credential_used = 1 WHERE mac = ?').run(normalizeMac(mac) ?? '');
}

/** Sets the SIP port a phone listens on for NOTIFY. */
export function setSipPortRow(sql: SqlFn, mac: string, port: number): void {
  sql('UPDATE phones SET sip_port = ? WHERE mac = ?').run(port, normalizeMac(mac) ?? '');
}

/**
 * Auto-enrolment of phone `p.mac` (normalized): hot-desking on, no identities,
 * label `auto <mac>`, audit `enrolment`. Returns the existing phone unchanged
 * when it is already known. Run inside a transaction.
 */
export function enrolPhoneRow(
  sql: SqlFn,
  key: Buffer,
  p: { mac: string; vendor: Vendor; model: string },
  now: number,
  audit: (e: AuditEvent) => unknown,
): Phone {
  const existing = phoneRow(sql, p.mac);
  if (existing) return phoneFromRow(key, existing);
  const enrolment = autoEnrolment(p, now);
  putPhoneRow(sql, key, enrolment.phone, 'auto', now);
  audit(enrolment.audit);
  return enrolment.phone;
}
