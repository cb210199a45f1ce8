/**
 * The agent's state in SQLite (better-sqlite3, synchronous): site settings,
 * users, phones with their runtime and sync state, sessions, PIN failure
 * records, the audit log and PnP sightings.
 *
 * Files in the data directory: `hotdesk.sqlite` (WAL mode, so readers never
 * block the writer; `busy_timeout` 5 s so concurrent processes wait instead of
 * failing; foreign keys on) and `secret.key` (data-key.ts). Secrets are sealed
 * with AES-256-GCM (secret-box.ts); PINs are also kept as keyed HMACs for
 * verification (pin-hash.ts). Clear secrets exist only in returned objects.
 *
 * Writes that belong together go through {@link Store.transaction}
 * (`BEGIN IMMEDIATE`: the write lock is taken up front, so a transaction's
 * reads see the state it commits on top of). Listeners registered with
 * {@link Store.onChange} hear, after the commit, which phones need a re-sync.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HotdeskError } from '../core/errors.js';
import type { AuditEvent, LockCounter, Phone, Session, SiteSettings, User, Vendor } from '../core/model.js';
import { normalizeMac } from '../core/model.js';
import type { IdentityKey } from '../vendors/driver.js';
import { loadOrCreateDataKey } from './data-key.js';
import { defaultSite } from './default-site.js';
import { appendAuditRow, deleteSightingRow, listSightingRows, queryAuditRows, recordSightingRow, type SightingCaps, type SightingInput } from './audit-log.js';
import { applyMigrations } from './migrations.js';
import { phoneRow, putPhoneRow, resetEnrolmentRow } from './phone-queries.js';
import type { PhoneRow, SessionRow } from './store-rows.js';
import { phoneFromRow, runtimeFromRow, sessionFromRow, siteFromRow, siteToRow } from './store-rows.js';
import { bumpRevisionRow, markSyncAttemptRow, markUnreachableRow, pendingSyncRow, pendingSyncRows, recordFetchRows } from './sync-queries.js';
import { getUserRow, identityKeysOf, listUserRows, putUserRow, userPinOf, userRow, verifyUserPin } from './user-queries.js';
import { getLockRow, lockRowCounts, pruneLockRows, setLockRow } from './lock-queries.js';
import type {
  AuditQuery,
  ChangeListener,
  EnrolledVia,
  FetchRecord,
  FetchResult,
  PendingSync,
  PhoneRuntime,
  PnpSighting,
  StoredAuditEvent,
} from './store-types.js';

/** File name of the database inside the data directory. */
export const DB_FILE = 'hotdesk.sqlite';

/** Opens the database file with the agent's pragmas (WAL, busy_timeout 5000, foreign keys). */
export function openDatabase(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  return db;
}

/**
 * Opens (creating when needed) the store in `dataDir`: the directory, the
 * data key (mode 0600), the database, its migrations and the default site.
 * Throws `storage-error` when the database cannot be opened or is newer than
 * this agent.
 */
export function openStore(dataDir: string): Store {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new HotdeskError('storage-error', 'cannot create the data directory', { dataDir }, { cause: e });
  }
  const { key, permissionsFixed } = loadOrCreateDataKey(dataDir);
  let db: Database.Database;
  try {
    db = openDatabase(join(dataDir, DB_FILE));
    applyMigrations(db);
  } catch (e) {
    if (e instanceof HotdeskError) throw e;
    throw new HotdeskError('storage-error', 'cannot open the database', { dataDir }, { cause: e });
  }
  const warnings = permissionsFixed ? ['secret.key was readable by other users; its mode was set to 0600'] : [];
  return new Store(db, key, warnings);
}

/** The store. Create it with {@link openStore}; all methods are synchronous. */
export class Store {
  private readonly listeners = new Set<ChangeListener>();
  /** Prepared statements by SQL text (preparing costs more than running a small query). */
  private readonly statements = new Map<string, Database.Statement>();
  private siteMemo: { readonly settings: string; readonly secrets: string; readonly site: SiteSettings } | null = null;
  private depth = 0;
  private pending: Set<string> | null = null;

  /**
   * @param db an open database with migrations applied
   * @param key the 32-byte data key
   * @param warnings start-up warnings for the operator (e.g. key permissions fixed)
   */
  constructor(
    readonly db: Database.Database,
    private readonly key: Buffer,
    readonly warnings: readonly string[] = [],
  ) {
    const row = db.prepare('SELECT 1 FROM site WHERE id = 1').get();
    if (row === undefined) {
      // Two processes opening a fresh store at once: the first default wins.
      const { settings, secrets } = siteToRow(key, defaultSite());
      db.prepare('INSERT INTO site (id, settings, secrets_enc, updated_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING').run(settings, secrets, Date.now());
    }
  }

  /** A prepared statement for `text`, prepared once per store (an arrow, so it can be handed to the query helpers). */
  private readonly sql = (text: string): Database.Statement => {
    let st = this.statements.get(text);
    if (st === undefined) {
      st = this.db.prepare(text);
      if (this.statements.size < 500) this.statements.set(text, st);
    }
    return st;
  };

  /** Closes the database. */
  close(): void {
    this.db.close();
  }

  // -------------------------------------------------------------------------
  // transactions and change notification
  // -------------------------------------------------------------------------

  /**
   * Runs `fn` in one `BEGIN IMMEDIATE` transaction (nested calls become
   * savepoints). After the outermost commit, change listeners receive every
   * MAC whose revision was bumped inside; on a throw everything rolls back and
   * nobody is notified.
   */
  transaction<T>(fn: () => T): T {
    const outer = this.depth === 0;
    if (outer) this.pending = new Set();
    this.depth++;
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (e) {
      // Rolled back: nothing changed, nobody hears about it, and later changes are not held back.
      if (outer) this.pending = null;
      throw e;
    } finally {
      this.depth--;
    }
    if (outer) {
      const macs = [...(this.pending ?? [])];
      this.pending = null;
      if (macs.length > 0) this.emit(macs);
    }
    return result;
  }

  /** Registers a listener for re-provisioned MACs (in this process only); returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(macs: readonly string[]): void {
    for (const l of [...this.listeners]) {
      try {
        l(macs);
      } catch {
        // A listener's failure must not undo or fail a committed change.
      }
    }
  }

  private noteChange(mac: string): void {
    if (this.pending) this.pending.add(mac);
    else this.emit([mac]);
  }

  // -------------------------------------------------------------------------
  // site
  // -------------------------------------------------------------------------

  /** The site settings with secrets (bootstrap password, API tokens) decrypted. */
  getSite(): SiteSettings {
    const r = this.sql('SELECT settings, secrets_enc FROM site WHERE id = 1').get() as { settings: string; secrets_enc: string } | undefined;
    if (!r) throw new HotdeskError('storage-error', 'site settings are missing');
    // Decrypting and parsing costs more than the lookup: reuse the last result while the
    // row's text is unchanged (right under rollbacks and writes by other processes alike).
    const c = this.siteMemo;
    if (c && c.settings === r.settings && c.secrets === r.secrets_enc) return c.site;
    const site = siteFromRow(this.key, r.settings, r.secrets_enc);
    this.siteMemo = { settings: r.settings, secrets: r.secrets_enc, site };
    return site;
  }

  /** Replaces the site settings (secrets sealed). */
  putSite(site: SiteSettings, now: number): void {
    const { settings, secrets } = siteToRow(this.key, site);
    this.sql(
      'INSERT INTO site (id, settings, secrets_enc, updated_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, secrets_enc = excluded.secrets_enc, updated_at = excluded.updated_at',
    ).run(settings, secrets, now);
  }

  // -------------------------------------------------------------------------
  // users
  // -------------------------------------------------------------------------

  /** The user with short number `ext` (SIP password decrypted: the renderer needs it). */
  getUser(ext: string): User | undefined {
    return getUserRow(this.sql, this.key, ext);
  }

  /** Every user, by short number. */
  listUsers(): User[] {
    return listUserRows(this.sql, this.key);
  }

  /** True when `ext` has a PIN (hot-desk login possible). */
  userHasPin(ext: string): boolean {
    return userRow(this.sql, ext)?.pin_hash != null;
  }

  /** The user's clear PIN (for one-touch keys and export with secrets); undefined when none. */
  userPin(ext: string): string | undefined {
    return userPinOf(this.sql, this.key, ext);
  }

  /** Checks `pin` against the user's keyed PIN hash (constant-time). False for an unknown user or no PIN. */
  verifyPin(ext: string, pin: string): boolean {
    return verifyUserPin(this.sql, this.key, ext, pin);
  }

  /**
   * Inserts or updates a user. `pin` null removes the PIN; an unchanged PIN
   * keeps its hash (no re-hash, so re-importing the same file is cheap).
   */
  putUser(user: User, pin: string | null, now: number): void {
    putUserRow(this.sql, this.key, user, pin, now);
  }

  /** Deletes a user (their sessions go with them: end them first to audit and re-provision). */
  deleteUser(ext: string): void {
    this.sql('DELETE FROM users WHERE ext = ?').run(ext);
  }

  // -------------------------------------------------------------------------
  // phones
  // -------------------------------------------------------------------------

  /** The phone with this MAC (any notation); device-account password decrypted. */
  getPhone(mac: string): Phone | undefined {
    const r = phoneRow(this.sql, mac);
    return r ? phoneFromRow(this.key, r) : undefined;
  }

  /** Every phone, by MAC. */
  listPhones(): Phone[] {
    return (this.sql('SELECT * FROM phones ORDER BY mac').all() as PhoneRow[]).map((r) => phoneFromRow(this.key, r));
  }

  /** Runtime facts of a phone (revision, provisioning credential, last fetch, sync state). */
  phoneRuntime(mac: string): PhoneRuntime | undefined {
    const r = phoneRow(this.sql, mac);
    return r ? runtimeFromRow(this.key, r) : undefined;
  }

  /** The phone whose own provisioning username is `username`. */
  findPhoneByProvUsername(username: string): Phone | undefined {
    const r = this.sql('SELECT * FROM phones WHERE prov_username = ?').get(username) as PhoneRow | undefined;
    return r ? phoneFromRow(this.key, r) : undefined;
  }

  /** The phone carrying SIP user `sipUser`: the one a user with that SIP user is logged in on, else one whose device account it is. */
  findPhoneBySipUser(sipUser: string): Phone | undefined {
    const r =
      (this.sql(
        'SELECT p.* FROM phones p JOIN sessions s ON s.phone_mac = p.mac JOIN users u ON u.ext = s.user_ext WHERE u.sip_user = ? ORDER BY s.started_at DESC LIMIT 1',
      ).get(sipUser) as PhoneRow | undefined) ??
      (this.sql('SELECT * FROM phones WHERE device_sip_user = ? ORDER BY mac LIMIT 1').get(sipUser) as PhoneRow | undefined);
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

  /**
   * Inserts or updates a phone's directory fields. A new phone gets a random
   * provisioning credential and screen token, revision 1, pending sync. An
   * existing phone keeps its runtime (credential, revision, sync state).
   */
  putPhone(phone: Phone, via: EnrolledVia, now: number): void {
    putPhoneRow(this.sql, this.key, phone, via, now);
  }

  /** Deletes a phone (its session goes with it: end it first to audit). */
  deletePhone(mac: string): void {
    this.sql('DELETE FROM phones WHERE mac = ?').run(mac);
  }

  /**
   * Auto-enrolment of an unknown phone of a known model on first contact:
   * hot-desking on, no identities, label `auto <mac>`, audit `enrolment`.
   * Returns the existing phone unchanged when it is already known.
   */
  enrolPhone(p: { mac: string; vendor: Vendor; model: string }, now: number): Phone {
    const mac = normalizeMac(p.mac);
    if (mac === null) throw new HotdeskError('bad-request', 'invalid MAC address');
    return this.transaction(() => {
      const existing = this.getPhone(mac);
      if (existing) return existing;
      const phone: Phone = { mac, vendor: p.vendor, model: p.model, label: `auto ${mac}`, hotdesk: true, identities: [], keys: [] };
      this.putPhone(phone, 'auto', now);
      this.appendAudit({ kind: 'enrolment', at: now, phone: mac, detail: { vendor: p.vendor, model: p.model } });
      return phone;
    });
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
    return this.transaction(() => recordFetchRows(this.sql, m, f, (e) => this.appendAudit(e)));
  }

  /** The phone authenticated with its own credential: from now on the bootstrap credential no longer unlocks its secret files. */
  markOwnCredentialUsed(mac: string): void {
    this.sql('UPDATE phones SET own_credential_used = 1 WHERE mac = ?').run(normalizeMac(mac) ?? '');
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
    this.sql('UPDATE phones SET sip_port = ? WHERE mac = ?').run(port, normalizeMac(mac) ?? '');
  }

  /**
   * The phone's files changed: revision + 1, sync `pending` for the new
   * revision, requested now, attempts 0, first NOTIFY due now. Listeners hear
   * about it after the surrounding transaction commits (at once outside one).
   */
  bumpRevision(mac: string, now: number): number {
    const m = normalizeMac(mac) ?? '';
    const revision = bumpRevisionRow(this.sql, m, now);
    this.noteChange(m);
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
    markSyncAttemptRow(this.sql, mac, a);
  }

  /** The phone never confirmed: state `unreachable`, no further NOTIFY, audit `sync-failed`. */
  markUnreachable(mac: string, now: number): void {
    const m = normalizeMac(mac) ?? '';
    this.transaction(() => markUnreachableRow(this.sql, m, now, (e) => this.appendAudit(e)));
  }

  // -------------------------------------------------------------------------
  // sessions
  // -------------------------------------------------------------------------

  /** The session on a phone, if any. */
  sessionOf(mac: string): Session | undefined {
    const r = this.sql('SELECT phone_mac, user_ext, started_at FROM sessions WHERE phone_mac = ?').get(normalizeMac(mac) ?? '') as SessionRow | undefined;
    return r ? sessionFromRow(r) : undefined;
  }

  /** Every session of a user (several only under `multipleLogin: allow`). */
  sessionsOfUser(ext: string): Session[] {
    return (this.sql('SELECT phone_mac, user_ext, started_at FROM sessions WHERE user_ext = ? ORDER BY started_at, phone_mac').all(ext) as SessionRow[]).map(
      sessionFromRow,
    );
  }

  /** Every session. */
  listSessions(): Session[] {
    return (this.sql('SELECT phone_mac, user_ext, started_at FROM sessions ORDER BY started_at, phone_mac').all() as SessionRow[]).map(sessionFromRow);
  }

  /**
   * Inserts a session. `exclusive` (multipleLogin `move`/`refuse`) sets
   * `exclusive_user`, so the schema's UNIQUE index rejects a second session of
   * the same user; the primary key rejects a second session on the phone.
   * Throws the SQLite constraint error on a violation.
   */
  startSession(s: Session, exclusive: boolean): void {
    this.sql('INSERT INTO sessions (phone_mac, user_ext, started_at, exclusive_user) VALUES (?, ?, ?, ?)').run(
      s.phoneMac,
      s.userExt,
      s.startedAt,
      exclusive ? s.userExt : null,
    );
  }

  /** Deletes the session of `s.userExt` on `s.phoneMac`; false when no such session exists (anymore). */
  endSession(s: { phoneMac: string; userExt: string }): boolean {
    return this.sql('DELETE FROM sessions WHERE phone_mac = ? AND user_ext = ?').run(s.phoneMac, s.userExt).changes === 1;
  }

  /** Sets `exclusive_user` on every session (true) or clears it (false), after a `multipleLogin` policy change. */
  setSessionsExclusive(exclusive: boolean): void {
    this.sql(exclusive ? 'UPDATE sessions SET exclusive_user = user_ext' : 'UPDATE sessions SET exclusive_user = NULL').run();
  }

  // -------------------------------------------------------------------------
  // PIN lock counters
  // -------------------------------------------------------------------------

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

  // -------------------------------------------------------------------------
  // audit and PnP sightings
  // -------------------------------------------------------------------------

  /** Appends an audit event (never holding a secret); returns its id. */
  appendAudit(e: AuditEvent): number {
    return appendAuditRow(this.db, e);
  }

  /** Audit events matching `q`, oldest first (see {@link AuditQuery} for `limit` and `afterId`). */
  queryAudit(q: AuditQuery = {}): StoredAuditEvent[] {
    return queryAuditRows(this.db, q);
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
      const s = listSightingRows(this.db).find((x) => x.mac === m);
      if (!s) throw new HotdeskError('unknown-phone', `no sighting of ${m}`);
      const vendor = s.vendor as Vendor | null;
      const model = vendor && s.model ? knownModel(vendor, s.model) : undefined;
      if (!vendor || !model)
        throw new HotdeskError(
          'unknown-model',
          `sighting ${m} names no known model (${s.vendor ?? '?'} ${s.model ?? '?'}): add the phone to the directory instead`,
        );
      const phone = this.enrolPhone({ mac: m, vendor, model }, now);
      deleteSightingRow(this.db, m);
      return phone;
    });
  }

  /** Admin: forgets a sighting without enrolling it; false when there was none. */
  dismissSighting(mac: string): boolean {
    return deleteSightingRow(this.db, mac);
  }
}
