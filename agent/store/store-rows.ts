/**
 * Row shapes of the SQLite tables and their mapping to domain objects.
 * Decryption happens here, with the data key handed in.
 */
import type Database from 'better-sqlite3';
import type { KeySpec, Phone, Session, SipAccount, SiteSettings, User, Vendor } from '../core/model.js';
import { open, seal } from './secret-box.js';
import type { EnrolledVia, PhoneRuntime, SyncState } from './store-types.js';

/** The prepared statement for an SQL text, from Store's statement cache (handed to the query helpers). */
export type SqlFn = (text: string) => Database.Statement;

export interface UserRow {
  ext: string;
  name: string;
  hotdesk: number;
  sip_user: string;
  sip_auth_name: string;
  sip_password_enc: string;
  display_name: string;
  outbound_caller_id: string | null;
  voicemail_number: string | null;
  pin_hash: string | null;
  pin_enc: string | null;
}

export interface PhoneRow {
  mac: string;
  vendor: Vendor;
  model: string;
  label: string;
  location: string | null;
  hotdesk: number;
  device_sip_user: string | null;
  device_account_enc: string | null;
  identities: string;
  keys: string;
  enrolled_via: EnrolledVia;
  prov_username: string;
  prov_password_enc: string;
  own_credential_used: number;
  screen_token: string;
  revision: number;
  last_ip: string | null;
  notify_ip: string | null;
  last_user_agent: string | null;
  last_firmware: string | null;
  last_file: string | null;
  last_seen: number | null;
  sip_port: number;
  sync_state: SyncState;
  sync_revision: number;
  sync_requested_at: number | null;
  sync_confirmed_at: number | null;
  sync_elapsed_ms: number | null;
  sync_attempts: number;
  sync_next_at: number | null;
}

export interface SessionRow {
  phone_mac: string;
  user_ext: string;
  started_at: number;
}

/** The columns of {@link SessionRow}, for `SELECT`. */
export const SESSION_COLUMNS = 'phone_mac, user_ext, started_at';

/** Site secrets sealed together in `site.secrets_enc`. */
interface SiteSecrets {
  bootstrapPassword: string;
  apiTokens: string[];
}

/** Splits site settings into the clear JSON and the sealed secrets. */
export function siteToRow(key: Buffer, site: SiteSettings): { settings: string; secrets: string } {
  const { apiTokens, ...rest } = site;
  const clear = { ...rest, provisioning: { ...rest.provisioning, bootstrap: { username: rest.provisioning.bootstrap.username } } };
  const secrets: SiteSecrets = { bootstrapPassword: site.provisioning.bootstrap.password, apiTokens: [...apiTokens] };
  return { settings: JSON.stringify(clear), secrets: seal(key, JSON.stringify(secrets)) };
}

/** Joins the stored site JSON and its decrypted secrets. */
export function siteFromRow(key: Buffer, settings: string, secretsEnc: string): SiteSettings {
  const clear = JSON.parse(settings) as Omit<SiteSettings, 'apiTokens'> & { provisioning: { bootstrap: { username: string } } };
  const secrets = JSON.parse(open(key, secretsEnc)) as SiteSecrets;
  return {
    ...clear,
    provisioning: { ...clear.provisioning, bootstrap: { username: clear.provisioning.bootstrap.username, password: secrets.bootstrapPassword } },
    apiTokens: secrets.apiTokens,
  };
}

/** Domain user from a row (SIP password decrypted). */
export function userFromRow(key: Buffer, r: UserRow): User {
  const sip: SipAccount = {
    user: r.sip_user,
    authName: r.sip_auth_name,
    password: open(key, r.sip_password_enc),
    displayName: r.display_name,
    ...(r.outbound_caller_id !== null ? { outboundCallerId: r.outbound_caller_id } : {}),
    ...(r.voicemail_number !== null ? { voicemailNumber: r.voicemail_number } : {}),
  };
  return { ext: r.ext, name: r.name, hotdesk: r.hotdesk === 1, sip };
}

/** The SIP port phones take NOTIFYs on unless the directory says otherwise. */
export const DEFAULT_SIP_PORT = 5060;

/** Domain phone from a row (device account password decrypted). */
export function phoneFromRow(key: Buffer, r: PhoneRow): Phone {
  return {
    mac: r.mac,
    vendor: r.vendor,
    model: r.model,
    label: r.label,
    ...(r.location !== null ? { location: r.location } : {}),
    hotdesk: r.hotdesk === 1,
    ...(r.device_account_enc !== null ? { deviceAccount: JSON.parse(open(key, r.device_account_enc)) as SipAccount } : {}),
    identities: JSON.parse(r.identities) as string[],
    keys: JSON.parse(r.keys) as KeySpec[],
    ...(r.sip_port !== DEFAULT_SIP_PORT ? { sipPort: r.sip_port } : {}),
  };
}

/** Runtime facts from a row (provisioning password decrypted, unless the caller already has it in `provPassword`). */
export function runtimeFromRow(key: Buffer, r: PhoneRow, provPassword?: string): PhoneRuntime {
  return {
    revision: r.revision,
    provUsername: r.prov_username,
    provPassword: provPassword ?? open(key, r.prov_password_enc),
    ownCredentialUsed: r.own_credential_used === 1,
    screenToken: r.screen_token,
    enrolledVia: r.enrolled_via,
    lastIp: r.last_ip,
    notifyIp: r.notify_ip,
    lastUserAgent: r.last_user_agent,
    lastFirmware: r.last_firmware,
    lastFile: r.last_file,
    lastSeen: r.last_seen,
    sipPort: r.sip_port,
    sync: {
      state: r.sync_state,
      revision: r.sync_revision,
      requestedAt: r.sync_requested_at,
      confirmedAt: r.sync_confirmed_at,
      elapsedMs: r.sync_elapsed_ms,
      attempts: r.sync_attempts,
      nextAt: r.sync_next_at,
    },
  };
}

export function sessionFromRow(r: SessionRow): Session {
  return { phoneMac: r.phone_mac, userExt: r.user_ext, startedAt: r.started_at };
}
