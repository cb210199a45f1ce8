/**
 * The agent's state in SQLite (better-sqlite3, synchronous): site settings, users, phones with their
 * runtime and sync state, hot-desk lines, sessions, PIN failure records, the audit log and PnP sightings.
 *
 * Files in the data directory: `hotdesk.sqlite` (WAL mode, so readers never block the writer;
 * `busy_timeout` 5 s so concurrent processes wait instead of failing; foreign keys on) and `secret.key`
 * (data-key.ts). Secrets are sealed with AES-256-GCM (secret-box.ts); PINs are also kept as keyed HMACs
 * for verification (pin-hash.ts). Clear secrets exist only in returned objects.
 *
 * Writes that belong together go through {@link Store.transaction} (`BEGIN IMMEDIATE`: the write lock
 * is taken up front, so a transaction's reads see the state it commits on top of). Listeners registered
 * with {@link Store.onChange} hear, after the commit, which phones need a re-sync.
 */
import { HotdeskError } from '../core/errors.js';
import type { AuditEvent, LockCounter, Phone, Session, Vendor, IdentityKey } from '../core/model.js';
import { normalizeMac } from '../core/model.js';
import { appendAuditRow, queryAuditRows } from './audit-log.js';
import { openStoreFiles } from './store-files.js';
import { enrolPhoneRow, listPhoneRows, markOwnCredentialUsedRow, phoneRowByProvUsername, phoneRowBySipUser } from './phone-queries.js';
import { putPhoneRow, resetEnrolmentRow, setSipPortRow } from './phone-queries.js';
import { deleteSessionRow, insertSessionRow, listSessionRows, sessionRowOf, sessionRowsOfUser, setSessionsExclusiveRows } from './session-queries.js';
import { deleteSightingRow, listSightingRows, recordSightingRow, type SightingCaps, type SightingInput, sightingToEnrol } from './sighting-queries.js';
import { StoreBase } from './store-base.js';
import { phoneFromRow } from './store-rows.js';
import { bumpRevisionRow, markSyncAttemptRow, markUnreachableRow, pendingSyncRow, pendingSyncRows, recordFetchRows } from './sync-queries.js';
import { identityKeysOf } from './user-queries.js';
import { getLockRow, lockRowCounts, pruneLockRows, setLockRow } from './lock-queries.js';
import * as lines from './hotdesk-line-queries.js';
import type { AuditQuery, EnrolledVia, FetchRecord, FetchResult, PendingSync, PhoneRuntime } from './store-types.js';
import type { HotdeskLine, LineRegistration, LineRegistrationChange, LineRegistrationEntry, PnpSighting, StoredAuditEvent } from './store-types.js';

export { DB_FILE, openDatabase } from './store-files.js';

/**
 * Opens (creating when needed) the store in `dataDir`: the directory, the data key (mode 0600), the
 * database, its migrations and the default site. Throws `storage-error` when the database cannot be
 * opened or is newer than this agent.
 */
export function openStore(dataDir: string): Store {
  const { db, key, warnings } = openStoreFiles(dataDir);
  return new Store(db, key, warnings);
}

/** The store. Create it with {@link openStore}; all methods are synchronous. */
export class Store extends StoreBase {
  // --- phones ---

  /** The phone with this MAC (any notation); device-account password decrypted. */
  getPhone(mac: string): Phone | undefined {
    const m = normalizeMac(mac);
    if (m === null) return undefined;
    this.memory.fresh();
    return this.memory.phones.phone(m);
  }

  /** Every phone, by MAC. */
  listPhones(): Phone[] {
    return listPhoneRows(this.sql).map((r) => phoneFromRow(this.key, r));
  }

  /** Runtime facts of a phone (revision, provisioning credential, last fetch, sync state). */
  phoneRuntime(mac: string): PhoneRuntime | undefined {
    const m = normalizeMac(mac);
    if (m === null) return undefined;
    this.memory.flush();
    this.memory.fresh();
    return this.memory.phones.runtime(m);
  }

  /**
   * What serving a file needs of a phone's runtime (revision, credential, screen token), without
   * flushing the write-behind: a waiting served-file record never changes these.
   */
  provisioningRuntime(mac: string): Pick<PhoneRuntime, 'revision' | 'provUsername' | 'provPassword' | 'ownCredentialUsed' | 'screenToken'> | undefined {
    const m = normalizeMac(mac);
    if (m === null) return undefined;
    this.memory.fresh();
    return this.memory.phones.runtime(m);
  }

  /** The phone whose own provisioning username is `username`. */
  findPhoneByProvUsername(username: string): Phone | undefined {
    const r = phoneRowByProvUsername(this.sql, username);
    return r ? phoneFromRow(this.key, r) : undefined;
  }

  /** The phone carrying SIP user `sipUser`: the one a user with that SIP user is logged in on, else one whose device account it is. */
  findPhoneBySipUser(sipUser: string): Phone | undefined {
    const r = phoneRowBySipUser(this.sql, sipUser);
    return r ? phoneFromRow(this.key, r) : undefined;
  }

  /**
   * The one-touch identity keys of a phone, in `identities` order, with
   * clear PINs (for rendering this phone's own file only). Identities whose
   * user is gone or has no PIN are skipped.
   */
  identityKeysFor(mac: string): IdentityKey[] {
    const phone = this.getPhone(mac);
    return phone ? identityKeysOf(this.sql, this.key, phone.identities) : [];
  }

  /** Inserts or updates a phone's directory fields (a new phone gets a random credential; see {@link putPhoneRow}). */
  putPhone(phone: Phone, via: EnrolledVia, now: number): void {
    putPhoneRow(this.sql, this.key, phone, via, now);
  }

  /** Deletes a phone (its session goes with it: end it first to audit). */
  deletePhone(mac: string): void {
    this.sql('DELETE FROM phones WHERE mac = ?').run(mac);
  }

  /** Auto-enrolment of an unknown phone of a known model on first contact ({@link enrolPhoneRow}); a known phone is returned unchanged. */
  enrolPhone(p: { mac: string; vendor: Vendor; model: string }, now: number): Phone {
    const mac = normalizeMac(p.mac);
    if (mac === null) throw new HotdeskError('bad-request', 'invalid MAC address');
    return this.transaction(() => enrolPhoneRow(this.sql, this.key, { ...p, mac }, now, (e) => this.appendAudit(e)));
  }

  /**
   * Records a file fetch (address, User-Agent, firmware, file, time). When
   * `revision` is given (the file carries it) and equals the revision the
   * phone must fetch while it is not synced, the phone becomes `synced`,
   * `confirmedAt`/`elapsedMs` are set and a `sync-confirmed` event audited.
   */
  recordFetch(mac: string, f: FetchRecord): FetchResult {
    const m = normalizeMac(mac);
    if (m === null) return { confirmed: false };
    this.memory.phones.forget(m);
    return this.transaction(() => recordFetchRows(this.keyedSql, m, f, (e) => this.appendAudit(e)));
  }

  /**
   * A file was served: {@link recordFetch} and, for a file holding secrets, its audit entry (`audit`).
   * With {@link deferWrites} on they are written behind (write-behind.ts); the result is decided now.
   */
  recordServed(mac: string, f: FetchRecord, audit?: AuditEvent): FetchResult {
    const m = normalizeMac(mac);
    if (m === null) return { confirmed: false };
    const queued = this.memory.queue(m, f, audit);
    if (queued !== undefined) return queued;
    return this.transaction(() => {
      const r = this.recordFetch(m, f);
      if (audit) this.appendAudit(audit);
      return r;
    });
  }

  /** The phone authenticated with its own credential: from now on the bootstrap credential no longer unlocks its secret files. */
  markOwnCredentialUsed(mac: string): void {
    markOwnCredentialUsedRow(this.keyedSql, mac);
    this.memory.phones.forget(normalizeMac(mac) ?? '');
  }

  /**
   * Admin: forget the phone's own credential (factory-reset phone, replaced
   * unit). A new random credential is generated and the bootstrap credential
   * unlocks the phone's files again until the new one is used.
   */
  resetEnrolment(mac: string): void {
    resetEnrolmentRow(this.sql, this.key, mac);
  }

  /** Sets the SIP port a phone listens on for NOTIFY (learned from PnP or REGISTER). */
  setSipPort(mac: string, port: number): void {
    setSipPortRow(this.sql, mac, port);
  }

  /**
   * The phone's files changed: revision + 1, sync `pending` for the new
   * revision, requested now, attempts 0, first NOTIFY due now. Listeners hear
   * about it after the surrounding transaction commits (at once outside one).
   */
  bumpRevision(mac: string, now: number): number {
    const m = normalizeMac(mac) ?? '';
    const revision = bumpRevisionRow(this.keyedSql, m, now);
    this.memory.phones.forget(m);
    this.changes.noteChange(m);
    return revision;
  }

  /** The phone's pending re-sync when it is due at `now` and its address is known, else undefined. */
  pendingSyncOf(mac: string, now: number): PendingSync | undefined {
    return pendingSyncRow(this.sql, mac, now);
  }

  /**
   * Phones pending a re-sync whose next NOTIFY is due at `now` and whose address is known,
   * fewest attempts first (fresh requests before retries), then oldest due; at most `limit`.
   */
  pendingSyncs(now: number, limit = 10_000): PendingSync[] {
    return pendingSyncRows(this.sql, now, limit);
  }

  /** A NOTIFY was sent: attempts + 1, next one due at `nextAt`. No audit (the sender appends `sync-sent`). */
  markSyncAttempt(mac: string, a: { now: number; nextAt: number }): void {
    markSyncAttemptRow(this.keyedSql, mac, a);
    this.memory.phones.forget(normalizeMac(mac) ?? '');
  }

  /** The phone never confirmed: state `unreachable`, no further NOTIFY, audit `sync-failed`. */
  markUnreachable(mac: string, now: number): void {
    const m = normalizeMac(mac) ?? '';
    this.transaction(() => markUnreachableRow(this.keyedSql, m, now, (e) => this.appendAudit(e)));
    this.memory.phones.forget(m);
  }

  // --- hot-desk lines (hotdesk-line-queries.ts) ---

  /** The phone's hot-desk line, password decrypted (for its own files and the registrar only); undefined when it has none. */
  getHotdeskLine(mac: string): HotdeskLine | undefined {
    return lines.hotdeskLineRow(this.sql, this.key, mac);
  }

  /** The hot-desk line whose SIP user name is `username` (the registrar's digest lookup). */
  findHotdeskLine(username: string): HotdeskLine | undefined {
    return lines.hotdeskLineByUsername(this.sql, this.key, username);
  }

  /** Every hot-desk line with its registration, no password, by MAC. */
  listLineRegistrations(): LineRegistrationEntry[] {
    return lines.lineRegistrationRows(this.sql);
  }

  /** Sets or clears (null) the line's binding; registered ↔ not is audited and heard by change listeners. Throws `unknown-phone`. */
  setLineRegistration(mac: string, reg: LineRegistration | null, now: number): LineRegistrationChange {
    const hooks = { audit: (e: AuditEvent) => this.appendAudit(e), changed: (m: string) => this.changes.noteChange(m) };
    return this.transaction(() => lines.setLineRegistrationRow(this.sql, mac, reg, now, hooks));
  }

  // --- sessions ---

  /** The session on a phone, if any. */
  sessionOf(mac: string): Session | undefined {
    return sessionRowOf(this.sql, mac);
  }

  /** Every session of a user (several only under `multipleLogin: allow`). */
  sessionsOfUser(ext: string): Session[] {
    return sessionRowsOfUser(this.sql, ext);
  }

  /** Every session. */
  listSessions(): Session[] {
    return listSessionRows(this.sql);
  }

  /** Inserts a session (`exclusive`: one session per user, see {@link insertSessionRow}); throws the SQLite constraint error on a violation. */
  startSession(s: Session, exclusive: boolean): void {
    insertSessionRow(this.sql, s, exclusive);
  }

  /** Deletes the session of `s.userExt` on `s.phoneMac`; false when no such session exists (anymore). */
  endSession(s: { phoneMac: string; userExt: string }): boolean {
    return deleteSessionRow(this.sql, s);
  }

  /** Sets `exclusive_user` on every session (true) or clears it (false), after a `multipleLogin` policy change. */
  setSessionsExclusive(exclusive: boolean): void {
    setSessionsExclusiveRows(this.sql, exclusive);
  }

  // --- PIN lock counters ---

  /** The PIN failure record of a short number or phone ({@link EMPTY_LOCK} when none). */
  getLock(scope: 'user' | 'phone', subject: string): LockCounter {
    return getLockRow(this.sql, scope, subject);
  }

  /** Replaces the failure record of a short number or phone (an empty counter leaves no row). */
  setLock(scope: 'user' | 'phone', subject: string, c: LockCounter): void {
    setLockRow(this.sql, scope, subject, c);
  }

  /**
   * Forgets PIN failures recorded at or before `failuresUpTo` and lock
   * histories whose lock ended at or before `locksUpTo`; returns the rows deleted.
   */
  pruneLocks(failuresUpTo: number, locksUpTo: number): number {
    return pruneLockRows(this.sql, failuresUpTo, locksUpTo);
  }

  /** How many PIN failure rows and lock rows the store holds. */
  lockRowCounts(): { failures: number; locks: number } {
    return lockRowCounts(this.sql);
  }

  // --- audit and PnP sightings ---

  /** Appends an audit event (never holding a secret); returns its id. */
  appendAudit(e: AuditEvent): number {
    return appendAuditRow(this.sql, e);
  }

  /** Appends an audit event that nothing waits for (write-behind when on, see write-behind.ts): visible once committed. */
  queueAudit(e: AuditEvent): void {
    if (!this.memory.queueAudit(e)) this.appendAudit(e);
  }

  /** Audit events matching `q`, oldest first (see {@link AuditQuery} for `limit` and `afterId`). */
  queryAudit(q: AuditQuery = {}): StoredAuditEvent[] {
    return queryAuditRows(this.sql, q);
  }

  /**
   * Records a quarantined sighting (SIP PnP, or an unauthenticated HTTP/TFTP first contact),
   * capped per source and in total: `new`, `repeat`, or `capped` (nothing written).
   */
  recordSighting(s: SightingInput, caps?: SightingCaps): 'new' | 'repeat' | 'capped' {
    return recordSightingRow(this.db, s, caps);
  }

  /** Every sighting, most recent first. */
  listSightings(): PnpSighting[] {
    return listSightingRows(this.db);
  }

  /**
   * Admin: accepts a sighting as an enrolled phone (hot-desk on, logged out; audit
   * `enrolment`). Throws `unknown-phone` when there is no such
   * sighting and `unknown-model` when its model is unknown or missing.
   */
  acceptSighting(mac: string, knownModel: (vendor: Vendor, model: string) => string | undefined, now: number): Phone {
    const m = normalizeMac(mac);
    if (m === null) throw new HotdeskError('bad-request', 'invalid MAC address');
    return this.transaction(() => {
      const phone = this.enrolPhone(sightingToEnrol(this.db, m, knownModel), now);
      deleteSightingRow(this.db, m);
      return phone;
    });
  }

  /** Admin: forgets a sighting without enrolling it; false when there was none. */
  dismissSighting(mac: string): boolean {
    return deleteSightingRow(this.db, mac);
  }
}
