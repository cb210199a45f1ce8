/**
 * The embedded backend of the store contract (store-api.ts): the synchronous SQLite {@link Store}
 * behind promises. Its calls run at once (their promises are already settled), except while an
 * asynchronous {@link StoreApi.transaction} is open: the database has one connection, so calls from
 * outside the transaction wait until it ends, and calls from inside it (found through
 * AsyncLocalStorage, whichever handle they use) join it; a nested transaction is a savepoint.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { HotdeskError } from '../core/errors.js';
import { AdminStore } from './admin-queries.js';
import type { StoreApi, StoreData, StoreTx } from './store-api.js';
import { openStore, type Store } from './store.js';

/** The SQLite store contract, with the synchronous store for what only SQLite offers (backup, tests). */
export interface SqliteStoreApi extends StoreApi {
  readonly kind: 'sqlite';
  readonly sync: Store;
}

/** One open asynchronous transaction (or savepoint level). */
interface TxContext {
  readonly owner: object;
  active: boolean;
  depth: number;
}

const context = new AsyncLocalStorage<TxContext>();
const adapters = new WeakMap<Store, SqliteStoreApi>();

/** Opens the SQLite store in `dataDir` (see {@link openStore}) behind the contract. */
export function openSqliteStore(dataDir: string): SqliteStoreApi {
  return sqliteStore(openStore(dataDir));
}

/** The contract over an open synchronous store (one adapter per store, so they share the gate). */
export function sqliteStore(store: Store): SqliteStoreApi {
  let a = adapters.get(store);
  if (!a) {
    a = createAdapter(store);
    adapters.set(store, a);
  }
  return a;
}

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

function createAdapter(s: Store): SqliteStoreApi {
  const owner = {};
  let gate: Promise<void> | null = null;
  let closed = false;
  const inside = (): TxContext | undefined => {
    const c = context.getStore();
    return c !== undefined && c.owner === owner && c.active ? c : undefined;
  };
  /** Runs `fn` now, unless another chain's transaction is open: then after it. */
  const run = <T>(fn: () => T): Promise<T> => {
    if (gate === null || inside()) return settle(fn);
    return gate.then(() => run(fn));
  };
  const admins = new AdminStore(s.db);
  const data = dataMethods(s, admins, run);

  const transaction = async <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> => {
    const outer = inside();
    if (outer) {
      // A savepoint inside the open transaction.
      const name = `hd_async_${outer.depth++}`;
      const noted = s.savepoint(name);
      try {
        const value = await fn(data);
        s.endSavepoint(name, true, noted);
        return value;
      } catch (e) {
        s.endSavepoint(name, false, noted);
        throw e;
      } finally {
        outer.depth--;
      }
    }
    while (gate !== null) await gate;
    if (closed) throw new HotdeskError('storage-error', 'the store is closed');
    let release = (): void => {};
    gate = new Promise<void>((r) => {
      release = r;
    });
    const ctx: TxContext = { owner, active: true, depth: 1 };
    let committed = false;
    try {
      s.beginOuter();
      const value = await context.run(ctx, () => fn(data));
      ctx.active = false;
      s.endOuter(true);
      committed = true;
      return value;
    } finally {
      ctx.active = false;
      if (!committed && s.db.inTransaction) s.endOuter(false);
      gate = null;
      release();
    }
  };

  return {
    ...data,
    kind: 'sqlite',
    sync: s,
    warnings: s.warnings,
    transaction,
    onChange: (l) => s.onChange(l),
    deferWrites: (o) => s.deferWrites(o),
    flushWrites: () => run(() => s.flushWrites()),
    onDeferredWrite: (l) => s.onDeferredWrite(l),
    ping: () =>
      run(() => {
        try {
          s.db.prepare('SELECT 1').get();
        } catch (e) {
          throw new HotdeskError('storage-error', `database not answering: ${String(e)}`);
        }
      }),
    close: async () => {
      while (gate !== null) await gate;
      if (closed) return;
      closed = true;
      s.close();
    },
  };
}

/** The data methods over the synchronous store, each through `run`. */
function dataMethods(s: Store, admins: AdminStore, run: <T>(fn: () => T) => Promise<T>): StoreData {
  return {
    getSite: () => run(() => s.getSite()),
    putSite: (site, now) => run(() => s.putSite(site, now)),
    getUser: (ext) => run(() => s.getUser(ext)),
    listUsers: () => run(() => s.listUsers()),
    userHasPin: (ext) => run(() => s.userHasPin(ext)),
    userPin: (ext) => run(() => s.userPin(ext)),
    verifyPin: (ext, pin) => run(() => s.verifyPin(ext, pin)),
    putUser: (user, pin, now) => run(() => s.putUser(user, pin, now)),
    deleteUser: (ext) => run(() => s.deleteUser(ext)),
    getPhone: (mac) => run(() => s.getPhone(mac)),
    listPhones: () => run(() => s.listPhones()),
    phoneRuntime: (mac) => run(() => s.phoneRuntime(mac)),
    provisioningRuntime: (mac) => run(() => s.provisioningRuntime(mac)),
    findPhoneByProvUsername: (u) => run(() => s.findPhoneByProvUsername(u)),
    findPhoneBySipUser: (u) => run(() => s.findPhoneBySipUser(u)),
    identityKeysFor: (mac) => run(() => s.identityKeysFor(mac)),
    putPhone: (phone, via, now) => run(() => s.putPhone(phone, via, now)),
    deletePhone: (mac) => run(() => s.deletePhone(mac)),
    enrolPhone: (p, now) => run(() => s.enrolPhone(p, now)),
    recordFetch: (mac, f) => run(() => s.recordFetch(mac, f)),
    recordServed: (mac, f, audit) => run(() => s.recordServed(mac, f, audit)),
    markOwnCredentialUsed: (mac) => run(() => s.markOwnCredentialUsed(mac)),
    resetEnrolment: (mac) => run(() => s.resetEnrolment(mac)),
    setSipPort: (mac, port) => run(() => s.setSipPort(mac, port)),
    bumpRevision: (mac, now) => run(() => s.bumpRevision(mac, now)),
    pendingSyncOf: (mac, now) => run(() => s.pendingSyncOf(mac, now)),
    pendingSyncs: (now, limit) => run(() => s.pendingSyncs(now, limit)),
    claimSyncs: (now, limit, macs) =>
      run(() => (macs === undefined ? s.pendingSyncs(now, limit) : macs.flatMap((m) => s.pendingSyncOf(m, now) ?? []).slice(0, limit))),
    markSyncAttempt: (mac, a) => run(() => s.markSyncAttempt(mac, a)),
    markUnreachable: (mac, now) => run(() => s.markUnreachable(mac, now)),
    syncStateCounts: () => run(() => s.syncStateCounts()),
    getHotdeskLine: (mac) => run(() => s.getHotdeskLine(mac)),
    findHotdeskLine: (u) => run(() => s.findHotdeskLine(u)),
    listLineRegistrations: () => run(() => s.listLineRegistrations()),
    setLineRegistration: (mac, reg, now) => run(() => s.setLineRegistration(mac, reg, now)),
    sessionOf: (mac) => run(() => s.sessionOf(mac)),
    sessionsOfUser: (ext) => run(() => s.sessionsOfUser(ext)),
    listSessions: () => run(() => s.listSessions()),
    startSession: (x, exclusive) => run(() => s.startSession(x, exclusive)),
    endSession: (x) => run(() => s.endSession(x)),
    setSessionsExclusive: (exclusive) => run(() => s.setSessionsExclusive(exclusive)),
    getLock: (scope, subject) => run(() => s.getLock(scope, subject)),
    setLock: (scope, subject, c) => run(() => s.setLock(scope, subject, c)),
    pruneLocks: (a, b) => run(() => s.pruneLocks(a, b)),
    lockRowCounts: () => run(() => s.lockRowCounts()),
    lockSubjects: (now) => run(() => s.lockSubjects(now)),
    appendAudit: (e) => run(() => s.appendAudit(e)),
    queueAudit: (e) => run(() => s.queueAudit(e)),
    queryAudit: (q) => run(() => s.queryAudit(q)),
    recordSighting: (x, caps) => run(() => s.recordSighting(x, caps)),
    listSightings: () => run(() => s.listSightings()),
    acceptSighting: (mac, known, now) => run(() => s.acceptSighting(mac, known, now)),
    dismissSighting: (mac) => run(() => s.dismissSighting(mac)),
    addAdmin: (a, now) => run(() => admins.addAdmin(a, now)),
    getAdmin: (name) => run(() => admins.getAdmin(name)),
    listAdmins: () => run(() => admins.listAdmins()),
    countAdmins: () => run(() => admins.countAdmins()),
    removeAdmin: (name) => run(() => admins.removeAdmin(name)),
    createConsoleSession: (x) => run(() => admins.createSession(x)),
    getConsoleSession: (key) => run(() => admins.getSession(key)),
    touchConsoleSession: (key, now) => run(() => admins.touchSession(key, now)),
    deleteConsoleSession: (key) => run(() => admins.deleteSession(key)),
    deleteConsoleSessionsOf: (admin) => run(() => admins.deleteSessionsOf(admin)),
    pruneConsoleSessions: (a, b) => run(() => admins.pruneSessions(a, b)),
    // One writer at a time already: a transaction holds the whole database.
    lockKeys: () => run(() => undefined),
  };
}
