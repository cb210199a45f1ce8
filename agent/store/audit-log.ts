/**
 * The audit log and SIP PnP sightings tables (used by Store). Audit events
 * never hold secrets: callers pass only ids, codes and counts.
 */
import type Database from 'better-sqlite3';
import type { AuditEvent } from '../core/model.js';
import { normalizeMac } from '../core/model.js';
import type { AuditQuery, PnpSighting, StoredAuditEvent } from './store-types.js';

/** Appends an audit event (never holding a secret); returns its id. */
export function appendAuditRow(db: Database.Database, e: AuditEvent): number {
  const r = db
    .prepare('INSERT INTO audit (at, kind, phone_mac, user_ext, detail) VALUES (?, ?, ?, ?, ?)')
    .run(e.at, e.kind, e.phone ?? null, e.user ?? null, e.detail !== undefined ? JSON.stringify(e.detail) : null);
  return Number(r.lastInsertRowid);
}

/** Audit events matching `q`, oldest first (see {@link AuditQuery} for `limit` and `afterId`). */
export function queryAuditRows(db: Database.Database, q: AuditQuery): StoredAuditEvent[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.since !== undefined) where.push('at >= ?'), args.push(q.since);
  if (q.afterId !== undefined) where.push('id > ?'), args.push(q.afterId);
  if (q.phone !== undefined) where.push('phone_mac = ?'), args.push(normalizeMac(q.phone) ?? q.phone);
  if (q.user !== undefined) where.push('user_ext = ?'), args.push(q.user);
  if (q.kinds !== undefined) {
    if (q.kinds.length === 0) return [];
    where.push(`kind IN (${q.kinds.map(() => '?').join(', ')})`);
    args.push(...q.kinds);
  }
  const limit = Math.min(Math.max(1, Math.floor(q.limit ?? 100)), 10_000);
  const order = q.afterId !== undefined ? 'ASC' : 'DESC';
  const sql = `SELECT id, at, kind, phone_mac, user_ext, detail FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ${limit}`;
  const rows = db.prepare(sql).all(...args) as {
    id: number;
    at: number;
    kind: AuditEvent['kind'];
    phone_mac: string | null;
    user_ext: string | null;
    detail: string | null;
  }[];
  if (order === 'DESC') rows.reverse();
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    kind: r.kind,
    ...(r.phone_mac !== null ? { phone: r.phone_mac } : {}),
    ...(r.user_ext !== null ? { user: r.user_ext } : {}),
    ...(r.detail !== null ? { detail: JSON.parse(r.detail) as NonNullable<AuditEvent['detail']> } : {}),
  }));
}

/** Caps on quarantined sightings: nothing an unauthenticated sender does grows them without bound. */
export interface SightingCaps {
  /** Distinct MACs one source address may have in the table. */
  readonly perSource: number;
  /** Rows in the table. */
  readonly total: number;
  /** Rows older than this (ms) make room for new ones when the table is full. */
  readonly maxAgeMs: number;
}

export const DEFAULT_SIGHTING_CAPS: SightingCaps = { perSource: 16, total: 1_000, maxAgeMs: 7 * 24 * 3_600_000 };

/** One sighting: an unauthenticated first contact (SIP PnP, HTTP or TFTP) of a phone that is not enrolled. */
export interface SightingInput {
  readonly mac: string;
  readonly ip: string;
  readonly vendor?: string;
  readonly model?: string;
  readonly at: number;
  readonly via?: 'pnp' | 'http' | 'tftp';
}

/**
 * Records a sighting (one row per MAC, counting repeats). A new MAC is added
 * only while its source holds fewer than `caps.perSource` rows and the table
 * fewer than `caps.total` (rows older than `caps.maxAgeMs` are dropped to make
 * room). Returns `new`, `repeat` or `capped` (nothing written).
 */
export function recordSightingRow(db: Database.Database, s: SightingInput, caps: SightingCaps = DEFAULT_SIGHTING_CAPS): 'new' | 'repeat' | 'capped' {
  const m = normalizeMac(s.mac);
  if (m === null) return 'capped';
  const repeat = db
    .prepare('UPDATE pnp_sightings SET at = ?, ip = ?, vendor = COALESCE(?, vendor), model = COALESCE(?, model), count = count + 1 WHERE mac = ?')
    .run(s.at, s.ip, s.vendor ?? null, s.model ?? null, m);
  if (repeat.changes > 0) return 'repeat';
  const fromSource = (db.prepare('SELECT COUNT(*) AS n FROM pnp_sightings WHERE ip = ?').get(s.ip) as { n: number }).n;
  if (fromSource >= caps.perSource) return 'capped';
  const count = (): number => (db.prepare('SELECT COUNT(*) AS n FROM pnp_sightings').get() as { n: number }).n;
  if (count() >= caps.total) {
    db.prepare('DELETE FROM pnp_sightings WHERE at < ?').run(s.at - caps.maxAgeMs);
    if (count() >= caps.total) return 'capped';
  }
  db.prepare('INSERT INTO pnp_sightings (mac, first_at, at, ip, vendor, model, via) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    m,
    s.at,
    s.at,
    s.ip,
    s.vendor ?? null,
    s.model ?? null,
    s.via ?? 'pnp',
  );
  return 'new';
}

/** Forgets a sighting (accepted or dismissed by an admin); false when there was none. */
export function deleteSightingRow(db: Database.Database, mac: string): boolean {
  return db.prepare('DELETE FROM pnp_sightings WHERE mac = ?').run(normalizeMac(mac) ?? '').changes > 0;
}

/** Every sighting, most recent first. */
export function listSightingRows(db: Database.Database): PnpSighting[] {
  const rows = db.prepare('SELECT mac, first_at, at, ip, vendor, model, count, via FROM pnp_sightings ORDER BY at DESC, mac').all() as {
    mac: string;
    first_at: number;
    at: number;
    ip: string;
    vendor: string | null;
    model: string | null;
    count: number;
    via: string;
  }[];
  return rows.map((r) => ({ mac: r.mac, firstAt: r.first_at, at: r.at, ip: r.ip, vendor: r.vendor, model: r.model, count: r.count, via: r.via }));
}
