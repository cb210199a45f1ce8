/**
 * The audit log in PostgreSQL (the StoreData audit methods of the PostgreSQL backend), the same as
 * SQLite's audit-log.ts (whose row mapping and paging it uses) plus two things a shared database needs: each row names the agent that wrote
 * it (`audit.agent`), and each append wakes the other agents' event streams with
 * `pg_notify('hotdesk_audit', '')`, delivered when the writing transaction commits.
 * Audit events never hold secrets: callers pass only ids, codes and counts.
 */
import type { AuditEvent } from '../../core/model.js';
import { normalizeMac } from '../../core/model.js';
import { type AuditRow, auditEventFromRow, auditPage } from '../audit-log.js';
import type { AuditQuery, StoredAuditEvent } from '../store-types.js';
import type { PgDb } from './pg-db.js';

/** The channel an audit append notifies (payload empty: listeners re-query with their last id). */
export const AUDIT_CHANNEL = 'hotdesk_audit';

/**
 * Appends an audit event (never holding a secret) written by `db.agentId`; returns its id. In the same
 * statement notifies {@link AUDIT_CHANNEL}, so listeners hear of it once it is committed (never on rollback).
 */
export async function appendAudit(db: PgDb, e: AuditEvent): Promise<number> {
  const r = await db.one<{ id: number }>(
    `WITH ins AS (
       INSERT INTO audit (at, kind, phone_mac, user_ext, detail, agent) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
     )
     SELECT id, pg_notify('${AUDIT_CHANNEL}', '') FROM ins`,
    [e.at, e.kind, e.phone ?? null, e.user ?? null, e.detail !== undefined ? JSON.stringify(e.detail) : null, db.agentId],
  );
  return r?.id ?? Number.NaN;
}

/** An audit event nothing waits for: on PostgreSQL appended at once (there is no write-behind), visible once committed. */
export async function queueAudit(db: PgDb, e: AuditEvent): Promise<void> {
  await appendAudit(db, e);
}

/** Audit events matching `q`, oldest first (see {@link AuditQuery} for `limit` and `afterId`); each names its agent when known. */
export async function queryAudit(db: PgDb, q: AuditQuery = {}): Promise<StoredAuditEvent[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const param = (v: unknown): string => {
    args.push(v);
    return `$${args.length}`;
  };
  if (q.since !== undefined) where.push(`at >= ${param(q.since)}`);
  if (q.afterId !== undefined) where.push(`id > ${param(q.afterId)}`);
  if (q.ids !== undefined) {
    if (q.ids.length === 0) return [];
    where.push(`id = ANY(${param(q.ids.slice(0, 10_000))}::bigint[])`);
  }
  if (q.phone !== undefined) where.push(`phone_mac = ${param(normalizeMac(q.phone) ?? q.phone)}`);
  if (q.user !== undefined) where.push(`user_ext = ${param(q.user)}`);
  if (q.kinds !== undefined) {
    if (q.kinds.length === 0) return [];
    where.push(`kind = ANY(${param([...q.kinds])}::text[])`);
  }
  const { limit, order } = auditPage(q);
  const text = `SELECT id, at, kind, phone_mac, user_ext, detail, agent FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ${limit}`;
  const rows = await db.query<AuditRow>(text, args);
  if (order === 'DESC') rows.reverse();
  return rows.map(auditEventFromRow);
}
