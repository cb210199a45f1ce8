/**
 * Rows of the `hotdesk_lines` table and the registration bookkeeping both store backends share
 * (SQLite's hotdesk-line-queries.ts, PostgreSQL's pg-line-queries.ts): mapping a row to a line, and
 * deciding what replacing a line's binding changes and audits. No SQL here.
 */
import type { AuditEvent } from '../core/model.js';
import { open } from './secret-box.js';
import type { HotdeskLine, LineRegistration, LineRegistrationChange, LineRegistrationEntry } from './store-types.js';

/** A `hotdesk_lines` row (epoch ms as numbers on both backends). */
export interface LineRow {
  mac: string;
  username: string;
  password_enc: string;
  contact: string | null;
  address: string | null;
  port: number | null;
  transport: 'udp' | 'tcp' | null;
  user_agent: string | null;
  call_id: string | null;
  cseq: number | null;
  registered_at: number | null;
  expires_at: number | null;
}

/** The columns of {@link LineRow}, for `SELECT`. */
export const LINE_COLUMNS = 'mac, username, password_enc, contact, address, port, transport, user_agent, call_id, cseq, registered_at, expires_at';

/** The binding a row holds; null when it has none. */
export function registrationOf(r: LineRow): LineRegistration | null {
  if (r.contact === null || r.address === null || r.port === null || r.transport === null || r.call_id === null) return null;
  return {
    contact: r.contact,
    address: r.address,
    port: r.port,
    transport: r.transport,
    ...(r.user_agent !== null ? { userAgent: r.user_agent } : {}),
    callId: r.call_id,
    cseq: r.cseq ?? 0,
    registeredAt: r.registered_at ?? 0,
    expiresAt: r.expires_at ?? 0,
  };
}

/** The line a row holds, password decrypted with the data key. */
export function lineOf(key: Buffer, r: LineRow): HotdeskLine {
  return { mac: r.mac, username: r.username, password: open(key, r.password_enc), registration: registrationOf(r) };
}

/** The line a row holds with its registration, without the password. */
export function lineEntryOf(r: LineRow): LineRegistrationEntry {
  return { mac: r.mac, username: r.username, registration: registrationOf(r) };
}

function sameRegistration(a: LineRegistration, b: LineRegistration): boolean {
  return (
    a.contact === b.contact &&
    a.address === b.address &&
    a.port === b.port &&
    a.transport === b.transport &&
    a.userAgent === b.userAgent &&
    a.callId === b.callId &&
    a.cseq === b.cseq &&
    a.registeredAt === b.registeredAt &&
    a.expiresAt === b.expiresAt
  );
}

/** What replacing a line's binding does: the change, and the audit event to append (then the phone's listeners hear of it). */
export interface LineRegistrationStep {
  readonly change: LineRegistrationChange;
  /** Set for a change between registered and not; absent for `unchanged` and `refreshed`. */
  readonly audit?: AuditEvent;
}

/**
 * What replacing binding `old` of phone `m`'s line by `reg` (null: none) at `now` does. A binding that
 * lapsed (`expiresAt` at or before `now`) counts as not registered. `unchanged` writes nothing; the
 * others write `reg` ({@link registrationValues}).
 */
export function lineRegistrationStep(m: string, old: LineRegistration | null, reg: LineRegistration | null, now: number): LineRegistrationStep {
  const wasLive = old !== null && old.expiresAt > now;
  if (reg === null && old === null) return { change: 'unchanged' };
  if (reg !== null && old !== null && sameRegistration(reg, old)) return { change: 'unchanged' };
  if (reg !== null && wasLive) return { change: 'refreshed' };
  if (reg !== null) {
    return {
      change: 'registered',
      audit: {
        kind: 'line-registered',
        at: now,
        phone: m,
        detail: { address: reg.address, port: reg.port, transport: reg.transport, expiresAt: reg.expiresAt, userAgent: reg.userAgent ?? null },
      },
    };
  }
  return { change: 'unregistered', audit: { kind: 'line-unregistered', at: now, phone: m, detail: { reason: wasLive ? 'unregistered' : 'expired' } } };
}

/**
 * The values of the registration columns for `reg` (all null for none), in the order `contact,
 * address, port, transport, user_agent, call_id, cseq, registered_at, expires_at`.
 */
export function registrationValues(reg: LineRegistration | null): (string | number | null)[] {
  return [
    reg?.contact ?? null,
    reg?.address ?? null,
    reg?.port ?? null,
    reg?.transport ?? null,
    reg?.userAgent ?? null,
    reg?.callId ?? null,
    reg?.cseq ?? null,
    reg?.registeredAt ?? null,
    reg?.expiresAt ?? null,
  ];
}
