/**
 * The audit log table (used by Store). Audit events never hold secrets:
 * callers pass only ids, codes and counts. PnP sightings live in
 * sighting-queries.ts.
 */
import type { AuditEvent } from '../core/model.js';
import { normalizeMac } from '../core/model.js';
import type { SqlFn } from './store-rows.js';
import type { AuditQuery, StoredAuditEvent } from './store-types.js';

/** Appends an audit event (never holding a secret); returns its id. */
export function appendAuditRow(sql: SqlFn, e: AuditEvent): number {
  const r = sql('INSERT INTO audit (at, kind, phone_mac, user_ext, detail) VALUES (?, ?, ?, ?, ?)').run(
    e.at,
    e.kind,
    e.phone ?? null,
    e.user ?? null,
    e.detail !== undefined ? JSON.stringify(e.detail) : null,
  );
  return Number(r.lastInsertRowid);
}

/** An `audit` row (`agent` only on PostgreSQL, shared by several agents). */
export interface AuditRow {
  id: number;
  at: number;
  kind: AuditEvent['kind'];
  phone_mac: string | null;
  user_ext: string | null;
  detail: string | null;
  agent?: string | null;
}

/** The stored event a row holds (naming its agent when the row does). */
export function auditEventFromRow(r: AuditRow): StoredAuditEvent {
  return {
    id: r.id,
    at: r.at,
    kind: r.kind,
    ...(r.phone_mac !== null ? { phone: r.phone_mac } : {}),
    ...(r.user_ext !== null ? { user: r.user_ext } : {}),
    ...(r.detail !== null ? { detail: JSON.parse(r.detail) as NonNullable<AuditEvent['detail']> } : {}),
    ...(r.agent != null ? { agent: r.agent } : {}),
  };
}

/**
 * How a query reads the log: at most `limit` rows by id, ascending after `q.afterId` (the first ones,
 * for tailing), otherwise descending (the most recent ones, to be reversed into oldest first).
 */
export function auditPage(q: AuditQuery): { readonly limit: number; readonly order: 'ASC' | 'DESC' } {
  return { limit: Math.min(Math.max(1, Math.floor(q.limit ?? 100)), 10_000), order: q.afterId !== undefined ? 'ASC' : 'DESC' };
}

/** Audit events matching `q`, oldest first (see {@link AuditQuery} for `limit` and `afterId`). */
export function queryAuditRows(sql: SqlFn, q: AuditQuery): StoredAuditEvent[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.since !== undefined) {
    where.push('at >= ?');
    args.push(q.since);
  }
  if (q.afterId !== undefined) {
    where.push('id > ?');
    args.push(q.afterId);
  }
  if (q.ids !== undefined) {
    if (q.ids.length === 0) return [];
    where.push(`id IN (${q.ids.map(() => '?').join(', ')})`);
    args.push(...q.ids.slice(0, 10_000));
  }
  if (q.phone !== undefined) {
    where.push('phone_mac = ?');
    args.push(normalizeMac(q.phone) ?? q.phone);
  }
  if (q.user !== undefined) {
    where.push('user_ext = ?');
    args.push(q.user);
  }
  if (q.kinds !== undefined) {
    if (q.kinds.length === 0) return [];
    where.push(`kind IN (${q.kinds.map(() => '?').join(', ')})`);
    args.push(...q.kinds);
  }
  const { limit, order } = auditPage(q);
  const text = `SELECT id, at, kind, phone_mac, user_ext, detail FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ${limit}`;
  const rows = sql(text).all(...args) as AuditRow[];
  if (order === 'DESC') rows.reverse();
  return rows.map(auditEventFromRow);
}
