/**
 * Re-sync bookkeeping of phones in SQLite (used by Store): the revision a
 * phone must fetch, its sync state (`pending` / `synced` / `unreachable`),
 * NOTIFY attempts and the last file fetch that confirms a sync.
 *
 * The helpers run their statements only; Store wraps them in its
 * transactions and change notification.
 */
import { HotdeskError } from '../core/errors.js';
import type { AuditEvent, Vendor } from '../core/model.js';
import { normalizeMac } from '../core/model.js';
import type { PhoneRow, SqlFn } from './store-rows.js';
import type { FetchRecord, FetchResult, PendingSync } from './store-types.js';

/** Appends an audit event (Store.appendAudit). */
export type AuditFn = (e: AuditEvent) => unknown;

/** The columns of a phone row a pending re-sync is read from ({@link PendingRow}), for `SELECT`. */
export const PENDING_COLUMNS = 'mac, vendor, model, notify_ip, sip_port, sync_revision, sync_requested_at, sync_attempts';

/** The {@link PENDING_COLUMNS} of a phone row. */
export interface PendingRow {
  mac: string;
  vendor: Vendor;
  model: string;
  notify_ip: string;
  sip_port: number;
  sync_revision: number;
  sync_requested_at: number | null;
  sync_attempts: number;
}

/** The pending re-sync a row holds (requested `now` when the row has no request time). */
export const pendingFromRow = (r: PendingRow, now: number): PendingSync => ({
  mac: r.mac,
  vendor: r.vendor,
  model: r.model,
  ip: r.notify_ip,
  sipPort: r.sip_port,
  revision: r.sync_revision,
  requestedAt: r.sync_requested_at ?? now,
  attempts: r.sync_attempts,
});

/** The sync columns of a phone row a fetch is checked against. */
export type SyncFields = Pick<PhoneRow, 'sync_state' | 'sync_revision' | 'sync_requested_at' | 'sync_attempts'>;

/**
 * How long the sync took that fetch `f` confirms, given the phone's sync columns `r` (undefined: no
 * such phone); undefined when it confirms none. Only an authenticated fetch of the pending revision
 * confirms a sync.
 */
export function confirmedSyncMs(r: SyncFields | undefined, f: FetchRecord): number | undefined {
  if (f.revision === undefined || f.authenticated !== true) return undefined;
  if (!r || r.sync_state === 'synced' || r.sync_revision !== f.revision) return undefined;
  return Math.max(0, f.now - (r.sync_requested_at ?? f.now));
}

/** The `sync-confirmed` audit event of phone `m`, whose fetch at `now` confirmed revision `r.sync_revision` after `elapsedMs`. */
export function syncConfirmedEvent(m: string, now: number, r: Pick<PhoneRow, 'sync_revision' | 'sync_attempts'>, elapsedMs: number): AuditEvent {
  return { kind: 'sync-confirmed', at: now, phone: m, detail: { revision: r.sync_revision, elapsedMs, attempts: r.sync_attempts } };
}

/** The `sync-failed` audit event of phone `m`, which never confirmed revision `r.sync_revision`. */
export function syncFailedEvent(m: string, now: number, r: Pick<PhoneRow, 'sync_revision' | 'sync_attempts'>): AuditEvent {
  return { kind: 'sync-failed', at: now, phone: m, detail: { revision: r.sync_revision, attempts: r.sync_attempts } };
}

/**
 * Records a file fetch of phone `m` (normalized MAC) and confirms its sync
 * when `f.revision` is the pending one (audit `sync-confirmed`). Run inside a transaction.
 * {@link applyFetch} is the same change on a row in memory: keep them in step.
 */
export function recordFetchRows(sql: SqlFn, m: string, f: FetchRecord, audit: AuditFn): FetchResult {
  // Only a request that proved it is this phone moves its NOTIFY target (notify_ip);
  // any other fetch is a sighting (last_ip) and never steers outgoing traffic.
  const r = sql(
    `UPDATE phones SET last_ip = ?, last_user_agent = COALESCE(?, last_user_agent), last_firmware = COALESCE(?, last_firmware),
             last_file = ?, last_seen = ?, notify_ip = CASE WHEN ? THEN ? ELSE notify_ip END WHERE mac = ?
       RETURNING sync_state, sync_revision, sync_requested_at, sync_attempts`,
  ).get(f.ip, f.userAgent ?? null, f.firmware ?? null, f.file, f.now, f.authenticated === true ? 1 : 0, f.ip, m) as SyncFields | undefined;
  const elapsedMs = confirmedSyncMs(r, f);
  if (r === undefined || elapsedMs === undefined) return { confirmed: false };
  sql("UPDATE phones SET sync_state = 'synced', sync_confirmed_at = ?, sync_elapsed_ms = ?, sync_next_at = NULL WHERE mac = ?").run(f.now, elapsedMs, m);
  audit(syncConfirmedEvent(m, f.now, r, elapsedMs));
  return { confirmed: true, elapsedMs };
}

/** {@link recordFetchRows} applied to a phone row in memory (the write-behind snapshot): the new row and the result. */
export function applyFetch(r: PhoneRow, f: FetchRecord): { row: PhoneRow; result: FetchResult } {
  const row: PhoneRow = {
    ...r,
    last_ip: f.ip,
    last_user_agent: f.userAgent ?? r.last_user_agent,
    last_firmware: f.firmware ?? r.last_firmware,
    last_file: f.file,
    last_seen: f.now,
    notify_ip: f.authenticated === true ? f.ip : r.notify_ip,
  };
  const elapsedMs = confirmedSyncMs(r, f);
  if (elapsedMs === undefined) return { row, result: { confirmed: false } };
  return {
    row: { ...row, sync_state: 'synced', sync_confirmed_at: f.now, sync_elapsed_ms: elapsedMs, sync_next_at: null },
    result: { confirmed: true, elapsedMs },
  };
}

/** Revision + 1 and a fresh pending sync for phone `m`; returns the new revision. Throws `unknown-phone`. */
export function bumpRevisionRow(sql: SqlFn, m: string, now: number): number {
  const r = sql(
    `UPDATE phones SET revision = revision + 1, sync_state = 'pending', sync_revision = revision + 1, sync_requested_at = ?,
           sync_attempts = 0, sync_next_at = ? WHERE mac = ? RETURNING revision`,
  ).get(now, now, m) as { revision: number } | undefined;
  if (!r) throw new HotdeskError('unknown-phone', 'unknown phone', { mac: m });
  return r.revision;
}

/** The phone's pending re-sync when it is due at `now` and its authenticated address is known, else undefined. */
export function pendingSyncRow(sql: SqlFn, mac: string, now: number): PendingSync | undefined {
  const r = sql(
    `SELECT ${PENDING_COLUMNS} FROM phones
       WHERE mac = ? AND sync_state = 'pending' AND sync_next_at IS NOT NULL AND sync_next_at <= ? AND notify_ip IS NOT NULL`,
  ).get(normalizeMac(mac) ?? '', now) as PendingRow | undefined;
  return r ? pendingFromRow(r, now) : undefined;
}

/** Due pending re-syncs with a known authenticated address, fewest attempts first, then oldest due; at most `limit`. */
export function pendingSyncRows(sql: SqlFn, now: number, limit: number): PendingSync[] {
  const rows = sql(
    `SELECT ${PENDING_COLUMNS} FROM phones
         WHERE sync_state = 'pending' AND sync_next_at IS NOT NULL AND sync_next_at <= ? AND notify_ip IS NOT NULL
         ORDER BY sync_attempts, sync_next_at, mac LIMIT ?`,
  ).all(now, Math.max(0, Math.floor(limit))) as PendingRow[];
  return rows.map((r) => pendingFromRow(r, now));
}

/** A NOTIFY was sent: attempts + 1, next one due at `a.nextAt`. */
export function markSyncAttemptRow(sql: SqlFn, mac: string, a: { now: number; nextAt: number }): void {
  sql("UPDATE phones SET sync_attempts = sync_attempts + 1, sync_next_at = ? WHERE mac = ? AND sync_state = 'pending'").run(a.nextAt, normalizeMac(mac) ?? '');
}

/** Pending phone `m` never confirmed: state `unreachable`, audit `sync-failed`. Run inside a transaction. */
export function markUnreachableRow(sql: SqlFn, m: string, now: number, audit: AuditFn): void {
  const r = sql(
    "UPDATE phones SET sync_state = 'unreachable', sync_next_at = NULL WHERE mac = ? AND sync_state = 'pending' RETURNING sync_revision, sync_attempts",
  ).get(m) as { sync_revision: number; sync_attempts: number } | undefined;
  if (r) audit(syncFailedEvent(m, now, r));
}
