/**
 * Re-sync bookkeeping of phones in PostgreSQL (the StoreData sync methods of the PostgreSQL backend):
 * the same statements and audit events as SQLite's sync-queries.ts (whose rows, mappers, confirmation
 * check and events it uses), plus what several agents sharing
 * one database need:
 *
 * - an authenticated fetch records the pool of the agent that served it (`phones.served_pool`): that
 *   agent's LAN reaches the phone, so only agents of that pool send it check-sync NOTIFYs;
 * - {@link bumpRevision} notifies channel {@link SYNC_CHANNEL} with the MAC (delivered at commit), so
 *   every agent's sync worker wakes, and releases any claim on the phone;
 * - {@link claimPendingSyncs} hands each due re-sync to exactly one agent of its pool.
 *
 * Functions that bump a revision take a `changed` callback (pg-store.ts wires it to its change
 * tracker, which fires after the commit).
 */
import { HotdeskError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/model.js';
import { normalizeMac } from '../../core/model.js';
import type { FetchRecord, FetchResult, PendingSync } from '../store-types.js';
import { confirmedSyncMs, PENDING_COLUMNS, type PendingRow, pendingFromRow, type SyncFields, syncConfirmedEvent, syncFailedEvent } from '../sync-queries.js';
import { appendAudit } from './pg-audit-queries.js';
import type { PgDb } from './pg-db.js';

/** The channel a revision bump notifies; the payload is the phone's normalized MAC. */
export const SYNC_CHANNEL = 'hotdesk_sync';

/** A pending re-sync that is due at `$1` and has an authenticated address (pendingSyncRows' condition). */
const DUE = "sync_state = 'pending' AND sync_next_at IS NOT NULL AND sync_next_at <= $1 AND notify_ip IS NOT NULL";

/**
 * Records a file fetch of phone `mac` and confirms its sync when `f.revision` is the pending one
 * (audit `sync-confirmed`), in one transaction. Only an authenticated fetch moves the NOTIFY address
 * (`notify_ip`) and sets `served_pool` to `pool`, the pool of the agent that served it.
 */
export async function recordFetch(db: PgDb, mac: string, f: FetchRecord, pool: string): Promise<FetchResult> {
  const m = normalizeMac(mac);
  if (m === null) return { confirmed: false };
  // READ COMMITTED is enough: the first UPDATE locks the phone row, so a concurrent fetch of the same
  // phone waits and then sees the committed state (one `sync-confirmed`, never two).
  return db.transaction(() => recordFetchOf(db, m, f, pool), 'read committed');
}

/** {@link recordFetch} of a normalized MAC, inside the caller's transaction. */
async function recordFetchOf(db: PgDb, m: string, f: FetchRecord, pool: string): Promise<FetchResult> {
  const authenticated = f.authenticated === true;
  const r = await db.one<SyncFields>(
    `UPDATE phones SET last_ip = $1, last_user_agent = COALESCE($2, last_user_agent), last_firmware = COALESCE($3, last_firmware),
            last_file = $4, last_seen = $5, notify_ip = CASE WHEN $6::boolean THEN $1 ELSE notify_ip END,
            served_pool = CASE WHEN $6::boolean THEN $7 ELSE served_pool END
       WHERE mac = $8
       RETURNING sync_state, sync_revision, sync_requested_at, sync_attempts`,
    [f.ip, f.userAgent ?? null, f.firmware ?? null, f.file, f.now, authenticated, pool, m],
  );
  const elapsedMs = confirmedSyncMs(r, f);
  if (r === undefined || elapsedMs === undefined) return { confirmed: false };
  await db.run("UPDATE phones SET sync_state = 'synced', sync_confirmed_at = $1, sync_elapsed_ms = $2, sync_next_at = NULL WHERE mac = $3", [
    f.now,
    elapsedMs,
    m,
  ]);
  await appendAudit(db, syncConfirmedEvent(m, f.now, r, elapsedMs));
  return { confirmed: true, elapsedMs };
}

/** A file was served: {@link recordFetch} and, for a file holding secrets, its audit entry, in one transaction. */
export async function recordServed(db: PgDb, mac: string, f: FetchRecord, pool: string, audit?: AuditEvent): Promise<FetchResult> {
  const m = normalizeMac(mac);
  if (m === null) return { confirmed: false };
  return db.transaction(async () => {
    const r = await recordFetchOf(db, m, f, pool);
    if (audit) await appendAudit(db, audit);
    return r;
  }, 'read committed');
}

/** The phone authenticated with its own credential: the bootstrap credential no longer unlocks its secret files. */
export async function markOwnCredentialUsed(db: PgDb, mac: string): Promise<void> {
  await db.run('UPDATE phones SET own_credential_used = 1 WHERE mac = $1', [normalizeMac(mac) ?? '']);
}

/** Sets the SIP port a phone listens on for NOTIFY. */
export async function setSipPort(db: PgDb, mac: string, port: number): Promise<void> {
  await db.run('UPDATE phones SET sip_port = $1 WHERE mac = $2', [port, normalizeMac(mac) ?? '']);
}

/**
 * The phone's files changed: revision + 1, sync `pending` for the new revision, requested now,
 * attempts 0, first NOTIFY due now, claim released. One statement also notifies {@link SYNC_CHANNEL}
 * with the MAC (delivered at commit, so other agents' sync workers wake and see the new row) and
 * `changed` hears the MAC. Returns the new revision; throws `unknown-phone`.
 */
export async function bumpRevision(db: PgDb, mac: string, now: number, changed: (mac: string) => void): Promise<number> {
  const m = normalizeMac(mac) ?? '';
  const r = await db.one<{ revision: number }>(
    `WITH bumped AS (
       UPDATE phones SET revision = revision + 1, sync_state = 'pending', sync_revision = revision + 1, sync_requested_at = $1,
              sync_attempts = 0, sync_next_at = $1, sync_claimed_by = NULL
         WHERE mac = $2 RETURNING mac, revision
     )
     SELECT revision, pg_notify('${SYNC_CHANNEL}', mac) FROM bumped`,
    [now, m],
  );
  if (!r) throw new HotdeskError('unknown-phone', 'unknown phone', { mac: m });
  changed(m);
  return r.revision;
}

/** The phone's pending re-sync when it is due at `now` and its authenticated address is known, else undefined. */
export async function pendingSyncOf(db: PgDb, mac: string, now: number): Promise<PendingSync | undefined> {
  const r = await db.one<PendingRow>(`SELECT ${PENDING_COLUMNS} FROM phones WHERE ${DUE} AND mac = $2`, [now, normalizeMac(mac) ?? '']);
  return r ? pendingFromRow(r, now) : undefined;
}

/** Due pending re-syncs with a known authenticated address, fewest attempts first, then oldest due; at most `limit`. */
export async function pendingSyncs(db: PgDb, now: number, limit = 10_000): Promise<PendingSync[]> {
  const rows = await db.query<PendingRow>(`SELECT ${PENDING_COLUMNS} FROM phones WHERE ${DUE} ORDER BY sync_attempts, sync_next_at, mac LIMIT $2`, [
    now,
    Math.max(0, Math.floor(limit)),
  ]);
  return rows.map((r) => pendingFromRow(r, now));
}

/** What {@link claimPendingSyncs} claims. */
export interface ClaimOptions {
  readonly now: number;
  /** At most this many. */
  readonly limit: number;
  /** The claiming agent's pool: only phones last served by this pool (or by none yet) are claimed. */
  readonly pool: string;
  /** How long a claim holds: a phone not re-scheduled by then is due again for any agent of the pool. */
  readonly leaseMs: number;
  /** Only these phones (any notation) when given. */
  readonly macs?: readonly string[];
}

/**
 * Claims due re-syncs for this agent (`db.agentId`): the phones {@link pendingSyncs} would list (same
 * conditions, same order, restricted to `o.macs` when given) whose `served_pool` is `o.pool` or not
 * yet known, at most `o.limit`. Each claimed phone gets `sync_claimed_by = db.agentId` and
 * `sync_next_at = now + leaseMs`; the caller sends its NOTIFY, then {@link markSyncAttempt} sets the
 * real next time.
 *
 * Why each pending re-sync is sent once: the claim is one READ COMMITTED transaction that locks the
 * rows it picks (`FOR UPDATE SKIP LOCKED`) and moves them out of the due set before it commits. A
 * concurrent claim by another agent skips rows locked by this one instead of waiting for them, and
 * a claim that starts after this one committed re-checks each row's latest version (READ COMMITTED
 * re-evaluates the condition of a locked row on its newest version) and finds it no longer due. So
 * every due row goes to exactly one claimant, and no claimant blocks or fails with a serialization
 * error. Takeover: if the claimant dies before {@link markSyncAttempt}, nothing releases the claim,
 * but `sync_next_at` is only the lease end: once it passes the row is due again and the next claim of
 * any agent of the pool takes it. A {@link bumpRevision} makes it due at once and releases the claim.
 */
export async function claimPendingSyncs(db: PgDb, o: ClaimOptions): Promise<PendingSync[]> {
  const limit = Math.max(0, Math.floor(o.limit));
  if (limit === 0) return [];
  const macs = o.macs?.map((x) => normalizeMac(x)).filter((x): x is string => x !== null);
  if (macs !== undefined && macs.length === 0) return [];
  const args: unknown[] = [o.now, o.pool, limit, db.agentId, o.now + Math.max(0, o.leaseMs)];
  if (macs !== undefined) args.push(macs);
  const rows = await db.transaction(
    () =>
      db.query<PendingRow & { due_at: number }>(
        `WITH due AS (
           SELECT mac, sync_next_at AS due_at FROM phones
             WHERE ${DUE} AND (served_pool = $2 OR served_pool IS NULL)${macs !== undefined ? ' AND mac = ANY($6::text[])' : ''}
             ORDER BY sync_attempts, sync_next_at, mac
             LIMIT $3
             FOR UPDATE SKIP LOCKED
         ), claimed AS (
           UPDATE phones p SET sync_claimed_by = $4, sync_next_at = $5 FROM due WHERE p.mac = due.mac
             RETURNING p.mac, p.vendor, p.model, p.notify_ip, p.sip_port, p.sync_revision, p.sync_requested_at, p.sync_attempts, due.due_at
         )
         SELECT * FROM claimed ORDER BY sync_attempts, due_at, mac`,
        args,
      ),
    'read committed',
  );
  return rows.map((r) => pendingFromRow(r, o.now));
}

/** A NOTIFY was sent: attempts + 1, next one due at `a.nextAt`. No audit (the sender appends `sync-sent`). */
export async function markSyncAttempt(db: PgDb, mac: string, a: { now: number; nextAt: number }): Promise<void> {
  await db.run("UPDATE phones SET sync_attempts = sync_attempts + 1, sync_next_at = $1 WHERE mac = $2 AND sync_state = 'pending'", [
    a.nextAt,
    normalizeMac(mac) ?? '',
  ]);
}

/** The pending phone never confirmed: state `unreachable`, no further NOTIFY, audit `sync-failed`. */
export async function markUnreachable(db: PgDb, mac: string, now: number): Promise<void> {
  const m = normalizeMac(mac) ?? '';
  await db.transaction(async () => {
    const r = await db.one<{ sync_revision: number; sync_attempts: number }>(
      "UPDATE phones SET sync_state = 'unreachable', sync_next_at = NULL WHERE mac = $1 AND sync_state = 'pending' RETURNING sync_revision, sync_attempts",
      [m],
    );
    if (r) await appendAudit(db, syncFailedEvent(m, now, r));
  }, 'read committed');
}

/** Phones by sync state (`synced`, `pending`, `unreachable`). */
export async function syncStateCounts(db: PgDb): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await db.query<{ state: string; n: number }>('SELECT sync_state AS state, count(*)::int AS n FROM phones GROUP BY sync_state')) {
    out[r.state] = r.n;
  }
  return out;
}
