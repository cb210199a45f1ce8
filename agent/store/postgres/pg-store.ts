/**
 * The PostgreSQL backend of the store contract (store-api.ts), shared by several agents: every data
 * method is a query module function (pg-*-queries.ts) over one {@link PgConnection}, joining the
 * transaction open in the caller's async context. Secrets are sealed with the same 32-byte data key as
 * SQLite's, loaded from `<dataDir>/secret.key`; every agent of one database needs the same key, which
 * `meta.key_check` (a known text sealed with it) enforces at start.
 *
 * Differences from SQLite that callers may notice:
 * - transactions are SERIALIZABLE and may be re-run on a serialization failure (pg-db.ts), so a
 *   transaction's `fn` must have no effect outside the store;
 * - there is no write-behind: each served record is written at once, so `deferWrites` does nothing,
 *   `flushWrites` has nothing to wait for, and `onDeferredWrite` listeners are never called;
 * - change listeners hear only the changes committed through this agent's store (other agents' bumps
 *   arrive through the `hotdesk_sync` notification channel, pg-sync-queries.ts).
 */
import { mkdirSync } from 'node:fs';
import { HotdeskError } from '../../core/errors.js';
import { loadOrCreateDataKey } from '../data-key.js';
import { open, seal } from '../secret-box.js';
import type { SiteSettings } from '../../core/model.js';
import type { StoreApi, StoreData } from '../store-api.js';
import { tellListeners } from '../store-changes.js';
import type { ChangeListener } from '../store-types.js';
import * as admin from './pg-admin-queries.js';
import * as audit from './pg-audit-queries.js';
import { PgConnection } from './pg-db.js';
import * as dir from './pg-directory-queries.js';
import * as lines from './pg-line-queries.js';
import { applyPgMigrations } from './pg-migrations.js';
import * as sessions from './pg-session-queries.js';
import * as sightings from './pg-sighting-queries.js';
import * as sync from './pg-sync-queries.js';

/** The PostgreSQL store contract, with what the multi-agent parts need. */
export interface PgStoreApi extends StoreApi {
  readonly kind: 'postgres';
  /** This agent's name (on its audit rows and sync claims). */
  readonly agentId: string;
  /** This agent's pool: agents of one pool reach the same phones (default `default`). */
  readonly pool: string;
  /** The connection (listen/notify, claims, the agents table). */
  readonly db: PgConnection;
}

/** Options of {@link openPgStore}. */
export interface PgStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** Directory holding `secret.key` (created with the key when missing). */
  readonly dataDir: string;
  readonly agentId: string;
  /** Pool name (default `default`). */
  readonly pool?: string;
  /** How long a sync claim holds before another agent of the pool may take it over (default 15 s). */
  readonly leaseMs?: number;
  /** Connections in the pool (default 10). */
  readonly max?: number;
}

/** How long the site settings read outside a transaction are reused (another agent's change shows within this). */
export const SITE_MEMO_MS = 1_000;

/**
 * The site settings, read at most once per {@link SITE_MEMO_MS} outside transactions: every request
 * needs them and they change only on import. Inside a transaction they are always read fresh; this
 * agent's own change is seen at once (the memo is dropped on write and after its commit).
 */
class SiteMemo {
  private memo: { readonly at: number; readonly site: Promise<SiteSettings> } | null = null;

  constructor(
    private readonly db: PgConnection,
    private readonly key: Buffer,
  ) {}

  get(): Promise<SiteSettings> {
    if (this.db.inTransaction()) return dir.getSite(this.db, this.key);
    const now = Date.now();
    if (this.memo === null || now - this.memo.at > SITE_MEMO_MS) {
      const memo = { at: now, site: dir.getSite(this.db, this.key) };
      this.memo = memo;
      memo.site.catch(() => {
        if (this.memo === memo) this.memo = null;
      });
    }
    return this.memo.site;
  }

  async put(site: SiteSettings, now: number): Promise<void> {
    this.memo = null;
    await dir.putSite(this.db, this.key, site, now);
    this.memo = null;
    this.db.afterCommit(() => {
      this.memo = null;
    });
  }
}

/** Holds an advisory transaction lock per key, in the order given (a 64-bit hash of the key). */
async function lockKeys(db: PgConnection, keys: readonly string[]): Promise<void> {
  for (const k of keys) await db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`hotdesk:${k}`]);
}

/** Default lease of a sync claim (docs/scaling.md "Two agents for one office"). */
export const DEFAULT_SYNC_LEASE_MS = 15_000;

/** The text `meta.key_check` holds sealed: proves an agent's data key is the database's. */
export const KEY_CHECK_TEXT = 'hotdesk data key check v1';

/**
 * Opens the PostgreSQL store: loads (or creates, mode 0600) the data key in `o.dataDir`, applies the
 * migrations, checks the key against `meta.key_check` (setting it when the database is new), and
 * makes sure the site row exists. Throws `storage-error` when the database cannot be reached (password
 * redacted), is newer than this agent, or was set up with another data key.
 */
export async function openPgStore(o: PgStoreOptions): Promise<PgStoreApi> {
  try {
    mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new HotdeskError('storage-error', 'cannot create the data directory', { dataDir: o.dataDir }, { cause: e });
  }
  const { key, permissionsFixed } = loadOrCreateDataKey(o.dataDir);
  const db = new PgConnection({ url: o.url, agentId: o.agentId, ...(o.max !== undefined ? { max: o.max } : {}) });
  try {
    const now = Date.now();
    await applyPgMigrations(db, now);
    await checkDataKey(db, key, o.dataDir);
    await dir.ensureSite(db, key, now);
    await dir.syncAllHotdeskLines(db, key, now);
  } catch (e) {
    await db.close();
    throw e;
  }
  const warnings = permissionsFixed ? ['secret.key was readable by other users; its mode was set to 0600'] : [];
  return pgStore(db, key, o.pool ?? 'default', o.leaseMs ?? DEFAULT_SYNC_LEASE_MS, warnings);
}

/** Sets `meta.key_check` on a new database; refuses a data key that does not open it. */
async function checkDataKey(db: PgConnection, key: Buffer, dataDir: string): Promise<void> {
  await db.run("INSERT INTO meta (key, value) VALUES ('key_check', $1) ON CONFLICT (key) DO NOTHING", [seal(key, KEY_CHECK_TEXT)]);
  const r = await db.one<{ value: string }>("SELECT value FROM meta WHERE key = 'key_check'");
  let ok = false;
  try {
    ok = r !== undefined && open(key, r.value) === KEY_CHECK_TEXT;
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new HotdeskError(
      'storage-error',
      `the data key (secret.key in ${dataDir}) is not the one this database was set up with: copy the first agent's secret.key into ${dataDir}`,
      { dataDir, url: db.safeUrl },
    );
  }
}

/** Collects the MACs heard after commits and hands them to the listeners in one call per batch. */
class ChangeBatch {
  private readonly listeners = new Set<ChangeListener>();
  private pending: Set<string> | null = null;

  /** Registers a listener; returns an unsubscribe function. */
  add(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Notes a changed MAC once its transaction commits (at once outside one). The after-commit hooks
   * of one commit run together, so their MACs reach the listeners in one call, before the
   * transaction's caller resumes.
   */
  note(db: PgConnection, mac: string): void {
    db.afterCommit(() => {
      if (this.pending === null) {
        this.pending = new Set();
        queueMicrotask(() => this.emit());
      }
      this.pending.add(mac);
    });
  }

  private emit(): void {
    const macs = [...(this.pending ?? [])];
    this.pending = null;
    if (macs.length > 0) tellListeners(this.listeners, macs);
  }
}

/** The contract over an open connection (migrations applied, key checked). */
function pgStore(db: PgConnection, key: Buffer, pool: string, leaseMs: number, warnings: readonly string[]): PgStoreApi {
  const site = new SiteMemo(db, key);
  const changes = new ChangeBatch();
  const changed = (mac: string): void => changes.note(db, mac);
  const data: StoreData = {
    // site and users
    getSite: () => site.get(),
    putSite: (value, now) => site.put(value, now),
    getUser: (ext) => dir.getUser(db, key, ext),
    listUsers: () => dir.listUsers(db, key),
    userHasPin: (ext) => dir.userHasPin(db, ext),
    userPin: (ext) => dir.userPin(db, key, ext),
    verifyPin: (ext, pin) => dir.verifyPin(db, key, ext, pin),
    putUser: (user, pin, now) => dir.putUser(db, key, user, pin, now),
    deleteUser: (ext) => dir.deleteUser(db, ext),
    // phones
    getPhone: (mac) => dir.getPhone(db, key, mac),
    listPhones: () => dir.listPhones(db, key),
    phoneRuntime: (mac) => dir.phoneRuntime(db, key, mac),
    provisioningRuntime: (mac) => dir.phoneRuntime(db, key, mac),
    findPhoneByProvUsername: (u) => dir.findPhoneByProvUsername(db, key, u),
    findPhoneBySipUser: (u) => dir.findPhoneBySipUser(db, key, u),
    identityKeysFor: (mac) => dir.identityKeysFor(db, key, mac),
    putPhone: (phone, via, now) => dir.putPhone(db, key, phone, via, now),
    deletePhone: (mac) => dir.deletePhone(db, mac),
    enrolPhone: (p, now) => dir.enrolPhone(db, key, p, now),
    recordFetch: (mac, f) => sync.recordFetch(db, mac, f, pool),
    recordServed: (mac, f, a) => sync.recordServed(db, mac, f, pool, a),
    markOwnCredentialUsed: (mac) => sync.markOwnCredentialUsed(db, mac),
    resetEnrolment: (mac) => dir.resetEnrolment(db, key, mac),
    setSipPort: (mac, port) => sync.setSipPort(db, mac, port),
    // re-sync
    bumpRevision: (mac, now) => sync.bumpRevision(db, mac, now, changed),
    pendingSyncOf: (mac, now) => sync.pendingSyncOf(db, mac, now),
    pendingSyncs: (now, limit) => sync.pendingSyncs(db, now, limit),
    claimSyncs: (now, limit, macs) => sync.claimPendingSyncs(db, { now, limit, pool, leaseMs, ...(macs !== undefined ? { macs } : {}) }),
    // Retries are at most one lease apart: whichever agent of the pool is alive sends the next one in time.
    lockKeys: (keys) => lockKeys(db, keys),
    markSyncAttempt: (mac, a) => sync.markSyncAttempt(db, mac, { now: a.now, nextAt: Math.min(a.nextAt, a.now + leaseMs) }),
    markUnreachable: (mac, now) => sync.markUnreachable(db, mac, now),
    syncStateCounts: () => sync.syncStateCounts(db),
    // hot-desk lines
    getHotdeskLine: (mac) => lines.getHotdeskLine(db, key, mac),
    findHotdeskLine: (u) => lines.findHotdeskLine(db, key, u),
    listLineRegistrations: () => lines.listLineRegistrations(db),
    setLineRegistration: (mac, reg, now) => lines.setLineRegistration(db, mac, reg, now, changed),
    // sessions
    sessionOf: (mac) => sessions.sessionOf(db, mac),
    sessionsOfUser: (ext) => sessions.sessionsOfUser(db, ext),
    listSessions: () => sessions.listSessions(db),
    startSession: (s, exclusive) => sessions.startSession(db, s, exclusive),
    endSession: (s) => sessions.endSession(db, s),
    setSessionsExclusive: (exclusive) => sessions.setSessionsExclusive(db, exclusive),
    // PIN lock counters
    getLock: (scope, subject) => sessions.getLock(db, scope, subject),
    setLock: (scope, subject, c) => sessions.setLock(db, scope, subject, c),
    pruneLocks: (f, l) => sessions.pruneLocks(db, f, l),
    lockRowCounts: () => sessions.lockRowCounts(db),
    lockSubjects: (now) => sessions.lockSubjects(db, now),
    // audit and sightings
    appendAudit: (e) => audit.appendAudit(db, e),
    queueAudit: (e) => audit.queueAudit(db, e),
    queryAudit: (q) => audit.queryAudit(db, q),
    recordSighting: (s, caps) => sightings.recordSighting(db, s, caps),
    listSightings: () => sightings.listSightings(db),
    acceptSighting: (mac, known, now) => sightings.acceptSighting(db, key, mac, known, now),
    dismissSighting: (mac) => sightings.dismissSighting(db, mac),
    // console accounts and sessions
    addAdmin: (a, now) => admin.addAdmin(db, a, now),
    getAdmin: (name) => admin.getAdmin(db, name),
    listAdmins: () => admin.listAdmins(db),
    countAdmins: () => admin.countAdmins(db),
    removeAdmin: (name) => admin.removeAdmin(db, name),
    createConsoleSession: (s) => admin.createConsoleSession(db, s),
    getConsoleSession: (k) => admin.getConsoleSession(db, k),
    touchConsoleSession: (k, now) => admin.touchConsoleSession(db, k, now),
    deleteConsoleSession: (k) => admin.deleteConsoleSession(db, k),
    deleteConsoleSessionsOf: (name) => admin.deleteConsoleSessionsOf(db, name),
    pruneConsoleSessions: (c, s) => admin.pruneConsoleSessions(db, c, s),
  };
  return {
    ...data,
    kind: 'postgres',
    agentId: db.agentId,
    pool,
    db,
    warnings,
    // The data methods join the transaction through the async context, so the tx is the same object.
    transaction: (fn, o) =>
      o?.locks !== undefined && o.locks.length > 0
        ? db.transaction(async () => {
            await lockKeys(db, o.locks ?? []);
            return fn(data);
          }, 'read committed')
        : db.transaction(() => fn(data)),
    onChange: (listener) => changes.add(listener),
    // No write-behind on PostgreSQL: each served record is written at once (see the module comment).
    deferWrites: () => {},
    flushWrites: () => Promise.resolve(),
    onDeferredWrite: () => () => {},
    ping: async () => {
      try {
        await db.query('SELECT 1');
      } catch (e) {
        throw e instanceof HotdeskError ? e : new HotdeskError('storage-error', `database not answering: ${String(e)}`, { url: db.safeUrl }, { cause: e });
      }
    },
    close: () => db.close(),
  };
}
