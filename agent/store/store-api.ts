/**
 * The store contract: what the agent's shell and CLI ask of the store, asynchronous, implemented by two
 * backends that one conformance suite holds to the same behaviour (test/store/conformance/):
 *
 * - {@link SqliteStore} (sqlite-store.ts): the embedded default, one agent per database file
 *   (`--data DIR`); the synchronous {@link Store} underneath, so its promises are already settled;
 * - `PgStore` (postgres/pg-store.ts): PostgreSQL (`--store postgres://…`), shared by several agents.
 *
 * Every data method has the meaning documented on the synchronous {@link Store} of the same name.
 * Writes that belong together go through {@link StoreApi.transaction}: `fn` receives a {@link StoreTx}
 * whose methods run inside the transaction; only the transaction's own calls may touch the store while
 * it runs (SQLite serialises them; PostgreSQL runs it on one connection, SERIALIZABLE, re-running `fn`
 * on a serialization failure), so `fn` must have no effect outside the store before it returns.
 */
import type { IdentityKey, LockCounter, Phone, SiteSettings, AuditEvent, Session, User, Vendor } from '../core/model.js';
import type { AdminAccount, AdminRole, ConsoleSessionRow } from './admin-queries.js';
import type { SightingCaps, SightingInput } from './sighting-queries.js';
import type { DeferredWriteListener } from './store-memory.js';
import type { AuditQuery, ChangeListener, EnrolledVia, FetchRecord, FetchResult, HotdeskLine, LineRegistration } from './store-types.js';
import type { LineRegistrationChange, LineRegistrationEntry, PendingSync, PhoneRuntime, PnpSighting, StoredAuditEvent } from './store-types.js';
import type { WriteBehindOptions } from './write-behind.js';

/** What serving a file needs of a phone's runtime. */
export type ProvisioningRuntime = Pick<PhoneRuntime, 'revision' | 'provUsername' | 'provPassword' | 'ownCredentialUsed' | 'screenToken'>;

/** A short number or phone with a lock or PIN failures on record ({@link StoreData.lockSubjects}). */
export interface LockSubject {
  readonly scope: 'user' | 'phone';
  readonly subject: string;
}

/** The data methods: the same inside and outside a transaction (see the synchronous `Store` for each one's meaning). */
export interface StoreData {
  // site and users
  getSite(): Promise<SiteSettings>;
  putSite(site: SiteSettings, now: number): Promise<void>;
  getUser(ext: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  userHasPin(ext: string): Promise<boolean>;
  userPin(ext: string): Promise<string | undefined>;
  verifyPin(ext: string, pin: string): Promise<boolean>;
  putUser(user: User, pin: string | null, now: number): Promise<void>;
  deleteUser(ext: string): Promise<void>;
  // phones
  getPhone(mac: string): Promise<Phone | undefined>;
  listPhones(): Promise<Phone[]>;
  phoneRuntime(mac: string): Promise<PhoneRuntime | undefined>;
  provisioningRuntime(mac: string): Promise<ProvisioningRuntime | undefined>;
  findPhoneByProvUsername(username: string): Promise<Phone | undefined>;
  findPhoneBySipUser(sipUser: string): Promise<Phone | undefined>;
  identityKeysFor(mac: string): Promise<IdentityKey[]>;
  putPhone(phone: Phone, via: EnrolledVia, now: number): Promise<void>;
  deletePhone(mac: string): Promise<void>;
  enrolPhone(p: { mac: string; vendor: Vendor; model: string }, now: number): Promise<Phone>;
  recordFetch(mac: string, f: FetchRecord): Promise<FetchResult>;
  recordServed(mac: string, f: FetchRecord, audit?: AuditEvent): Promise<FetchResult>;
  markOwnCredentialUsed(mac: string): Promise<void>;
  resetEnrolment(mac: string): Promise<void>;
  setSipPort(mac: string, port: number): Promise<void>;
  // re-sync
  bumpRevision(mac: string, now: number): Promise<number>;
  pendingSyncOf(mac: string, now: number): Promise<PendingSync | undefined>;
  pendingSyncs(now: number, limit?: number): Promise<PendingSync[]>;
  /**
   * The due re-syncs this agent takes on now (all due ones, or only `macs`), at most `limit`: on SQLite
   * simply {@link pendingSyncs} / {@link pendingSyncOf} (one agent); on PostgreSQL claimed for this
   * agent with a lease, only phones of its pool (docs/scaling.md), so each is sent by one agent.
   */
  claimSyncs(now: number, limit: number, macs?: readonly string[]): Promise<PendingSync[]>;
  markSyncAttempt(mac: string, a: { now: number; nextAt: number }): Promise<void>;
  markUnreachable(mac: string, now: number): Promise<void>;
  /** Phones by sync state (`synced`, `pending`, `unreachable`). */
  syncStateCounts(): Promise<Record<string, number>>;
  // hot-desk lines
  getHotdeskLine(mac: string): Promise<HotdeskLine | undefined>;
  findHotdeskLine(username: string): Promise<HotdeskLine | undefined>;
  listLineRegistrations(): Promise<LineRegistrationEntry[]>;
  setLineRegistration(mac: string, reg: LineRegistration | null, now: number): Promise<LineRegistrationChange>;
  // sessions
  sessionOf(mac: string): Promise<Session | undefined>;
  sessionsOfUser(ext: string): Promise<Session[]>;
  listSessions(): Promise<Session[]>;
  startSession(s: Session, exclusive: boolean): Promise<void>;
  endSession(s: { phoneMac: string; userExt: string }): Promise<boolean>;
  setSessionsExclusive(exclusive: boolean): Promise<void>;
  // PIN lock counters
  getLock(scope: 'user' | 'phone', subject: string): Promise<LockCounter>;
  setLock(scope: 'user' | 'phone', subject: string, c: LockCounter): Promise<void>;
  pruneLocks(failuresUpTo: number, locksUpTo: number): Promise<number>;
  lockRowCounts(): Promise<{ failures: number; locks: number }>;
  /** Subjects with a PIN failure on record or a lock ending after `now`, by scope then subject. */
  lockSubjects(now: number): Promise<LockSubject[]>;
  // audit and sightings
  appendAudit(e: AuditEvent): Promise<number>;
  queueAudit(e: AuditEvent): Promise<void>;
  queryAudit(q?: AuditQuery): Promise<StoredAuditEvent[]>;
  recordSighting(s: SightingInput, caps?: SightingCaps): Promise<'new' | 'repeat' | 'capped'>;
  listSightings(): Promise<PnpSighting[]>;
  acceptSighting(mac: string, knownModel: (vendor: Vendor, model: string) => string | undefined, now: number): Promise<Phone>;
  dismissSighting(mac: string): Promise<boolean>;
  /**
   * Inside a transaction: holds an exclusive lock on each key (e.g. `user:001`) until the transaction
   * ends, taken in the order given. PostgreSQL: advisory transaction locks, so decisions about the same
   * phone or user run one after another across every agent. SQLite: nothing to do (one writer).
   */
  lockKeys(keys: readonly string[]): Promise<void>;
  // console accounts and sessions
  addAdmin(a: { name: string; role: AdminRole; passwordHash: string }, now: number): Promise<void>;
  getAdmin(name: string): Promise<AdminAccount | undefined>;
  listAdmins(): Promise<AdminAccount[]>;
  countAdmins(): Promise<number>;
  removeAdmin(name: string): Promise<boolean>;
  createConsoleSession(s: { key: string; admin: string; csrfToken: string; now: number; source: string }): Promise<void>;
  getConsoleSession(key: string): Promise<ConsoleSessionRow | undefined>;
  touchConsoleSession(key: string, now: number): Promise<void>;
  deleteConsoleSession(key: string): Promise<boolean>;
  deleteConsoleSessionsOf(admin: string): Promise<number>;
  pruneConsoleSessions(createdBefore: number, seenBefore: number): Promise<number>;
}

/** The data methods bound to one transaction. */
export type StoreTx = StoreData;

/** Options of {@link StoreApi.transaction}. */
export interface TransactionOptions {
  /**
   * Keys the transaction decides about (`phone:<mac>`, then `user:<ext>` via {@link StoreData.lockKeys}).
   * PostgreSQL: with keys the transaction runs READ COMMITTED holding an advisory lock per key, so
   * transactions about the same phone or user queue while others run in parallel (no serialization
   * failures on small, busy tables); without keys it is SERIALIZABLE. SQLite ignores them.
   */
  readonly locks?: readonly string[];
}

/** Which backend a store is. */
export type StoreKind = 'sqlite' | 'postgres';

/** The store as the shell and the CLI use it. */
export interface StoreApi extends StoreData {
  readonly kind: StoreKind;
  /** Start-up warnings for the operator (e.g. key permissions fixed). */
  readonly warnings: readonly string[];
  /**
   * Runs `fn` as one transaction; nested calls (on the tx) become savepoints. Change listeners hear
   * the re-provisioned phones after the commit; on a throw everything rolls back and nobody hears.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Hears, after each commit, the MACs re-provisioned in it; returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void;
  /** Turns on the write-behind of served-file records (see write-behind.ts). */
  deferWrites(o: WriteBehindOptions): void;
  /** Writes every waiting served-file record now. */
  flushWrites(): Promise<void>;
  /** Hears each write-behind commit with the phones whose sync it confirmed. */
  onDeferredWrite(listener: DeferredWriteListener): () => void;
  /** Throws `storage-error` when the database does not answer. */
  ping(): Promise<void>;
  /** Writes what waits and closes the database (connections). */
  close(): Promise<void>;
}

/** SQLite's constraint errors and PostgreSQL's unique/exclusion/serialization failures: a concurrent change won. */
export function isConflict(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return code.startsWith('SQLITE_CONSTRAINT') || code === '23505' || code === '23503' || code === '40001' || code === '40P01';
}
