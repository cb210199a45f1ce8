import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { EMPTY_LOCK } from '../../agent/core/model.js';
import { applyMigrations, MIGRATIONS, schemaVersion } from '../../agent/store/migrations.js';
import { DB_FILE, openDatabase, openStore } from '../../agent/store/store.js';
import { demoStore, LIFT, POLY, rawBytes, SNOM, tempDir, YEALINK } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function temp(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
async function demo(now = 1_000_000) {
  const d = await demoStore(now);
  cleanups.push(d.cleanup);
  return d;
}

describe('opening and migrations', () => {
  test('a fresh data dir gets the database, all migrations and a default site', () => {
    const dir = join(temp(), 'nested', 'data');
    const store = openStore(dir);
    cleanups.push(() => store.close());
    expect(schemaVersion(store.db)).toBe(MIGRATIONS.at(-1)?.version);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    const site = store.getSite();
    expect(site.provisioning.autoEnrol).toBe(false);
    expect(site.provisioning.bootstrap.password.length).toBeGreaterThanOrEqual(20);
    expect(store.warnings).toEqual([]);
  });

  test('re-opening is idempotent and keeps data and the site', () => {
    const dir = temp();
    const a = openStore(dir);
    const site = a.getSite();
    a.appendAudit({ kind: 'import', at: 1 });
    a.close();
    const b = openStore(dir);
    cleanups.push(() => b.close());
    expect(b.getSite()).toEqual(site);
    expect(b.queryAudit()).toHaveLength(1);
    expect(applyMigrations(b.db)).toEqual([]);
    const rows = b.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
  });

  test('an existing database at version 1 is migrated forward, keeping its rows', () => {
    const dir = temp();
    const db = openDatabase(join(dir, DB_FILE));
    expect(applyMigrations(db, MIGRATIONS.slice(0, 1))).toEqual([1]);
    db.prepare("INSERT INTO audit (at, kind) VALUES (5, 'import')").run();
    expect(() => db.prepare('SELECT * FROM pnp_sightings').all()).toThrow();
    db.close();
    const store = openStore(dir);
    cleanups.push(() => store.close());
    expect(schemaVersion(store.db)).toBe(MIGRATIONS.at(-1)?.version);
    expect(store.queryAudit().map((e) => e.at)).toEqual([5]);
    // the due-sync query uses its index instead of scanning every phone
    const plan = store.db
      .prepare(
        "EXPLAIN QUERY PLAN SELECT mac FROM phones WHERE sync_state = 'pending' AND sync_next_at IS NOT NULL AND sync_next_at <= ? AND notify_ip IS NOT NULL",
      )
      .all(0) as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING INDEX phones_sync_due/);
    store.recordSighting({ mac: '00:15:65:11:22:33', ip: '10.0.0.9', vendor: 'yealink', at: 7 });
    store.recordSighting({ mac: '001565112233', ip: '10.0.0.10', at: 8 });
    expect(store.listSightings()).toEqual([{ mac: '001565112233', firstAt: 7, at: 8, ip: '10.0.0.10', vendor: 'yealink', model: null, count: 2, via: 'pnp' }]);
  });

  test('a database newer than the agent is refused', () => {
    const dir = temp();
    const db = openDatabase(join(dir, DB_FILE));
    applyMigrations(db);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)").run();
    db.close();
    expect(() => openStore(dir)).toThrow(expect.objectContaining({ code: 'storage-error' }));
  });

  test('secret.key is 32 bytes with mode 0600; looser permissions are fixed and reported', () => {
    const dir = temp();
    openStore(dir).close();
    const key = join(dir, 'secret.key');
    expect(statSync(key).size).toBe(32);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    chmodSync(key, 0o644);
    const s = openStore(dir);
    s.close();
    expect(s.warnings.join()).toMatch(/0600/);
    expect(statSync(key).mode & 0o777).toBe(0o600);
  });

  test('a key file of the wrong size is refused', () => {
    const dir = temp();
    writeFileSync(join(dir, 'secret.key'), 'short', { mode: 0o600 });
    expect(() => openStore(dir)).toThrow(expect.objectContaining({ code: 'storage-error' }));
  });

  test('secrets sealed with another key cannot be read: storage-error', async () => {
    const { dir, store } = await demo();
    store.close();
    writeFileSync(join(dir, 'secret.key'), Buffer.alloc(32, 7), { mode: 0o600 });
    const s = openStore(dir);
    cleanups.push(() => s.close());
    expect(() => s.getSite()).toThrow(expect.objectContaining({ code: 'storage-error' }));
  });
});

describe('secrets at rest', () => {
  test('no password, PIN, token or provisioning credential appears in the raw database files', async () => {
    const { dir, store } = await demo();
    const runtime = store.phoneRuntime(YEALINK);
    expect(runtime).toBeDefined();
    store.db.pragma('wal_checkpoint(PASSIVE)');
    const raw = rawBytes(dir);
    // sanity: the files do hold the data in clear where it is not secret
    expect(raw.includes('Alex Sales')).toBe(true);
    expect(raw.includes('Desk 1')).toBe(true);
    for (const secret of [
      'reception-secret',
      'alex-sales-secret',
      'alex-support-secret',
      'sam-secret',
      'lift-secret',
      'hotdesk-demo',
      'demo-token',
      runtime?.provPassword ?? 'x',
    ]) {
      expect(raw.includes(secret), secret).toBe(false);
    }
    // the store still gives them back
    expect(store.getUser('101')?.sip.password).toBe('alex-sales-secret');
    expect(store.getPhone(LIFT)?.deviceAccount?.password).toBe('lift-secret');
    expect(store.getSite().apiTokens).toEqual(['demo-token']);
    expect(store.userPin('102')).toBe('8765');
  });

  test('distinctive PINs are stored neither in clear nor recoverable without the key', async () => {
    const { dir, store } = await demo();
    store.putUser(
      { ext: '777', name: 'Pin Test', hotdesk: true, sip: { user: '777', authName: '777', password: 'pw-777-xyz', displayName: 'P' } },
      '739158246',
      5,
    );
    store.close();
    expect(rawBytes(dir).includes('739158246')).toBe(false);
    const s = openStore(dir);
    cleanups.push(() => s.close());
    expect(s.verifyPin('777', '739158246')).toBe(true);
    expect(s.verifyPin('777', '739158247')).toBe(false);
    expect(s.verifyPin('nobody', '739158246')).toBe(false);
  });
});

describe('users, phones and runtime', () => {
  test('reads back the demo directory', async () => {
    const { store } = await demo();
    expect(store.listUsers().map((u) => u.ext)).toEqual(['001', '101', '102', '200']);
    expect(store.listPhones().map((p) => p.mac)).toEqual([SNOM, POLY, YEALINK, LIFT].sort());
    expect(store.getPhone('00:15:65:AA:BB:01')?.label).toBe('Desk 1');
    expect(store.getPhone('nonsense')).toBeUndefined();
    expect(store.getUser('101')?.sip).toMatchObject({ user: '101', outboundCallerId: '+4930123451', voicemailNumber: '*97', displayName: 'Alex (Sales)' });
    expect(store.userHasPin('200')).toBe(true);
  });

  test('identity keys carry decrypted PINs and outbound numbers, in order', async () => {
    const { store } = await demo();
    expect(store.identityKeysFor(SNOM)).toEqual([
      { ext: '101', label: 'Alex Sales', pin: '4321', outboundCallerId: '+4930123451' },
      { ext: '102', label: 'Alex Support', pin: '8765', outboundCallerId: '+4930123452' },
    ]);
    expect(store.identityKeysFor(LIFT)).toEqual([]);
    expect(store.identityKeysFor('ffffffffffff')).toEqual([]);
  });

  test('each phone gets its own random provisioning credential and screen token', async () => {
    const { store } = await demo(42);
    const a = store.phoneRuntime(YEALINK);
    const b = store.phoneRuntime(SNOM);
    expect(a && b).toBeTruthy();
    expect(a?.provUsername).not.toBe(b?.provUsername);
    expect(a?.provPassword).not.toBe(b?.provPassword);
    expect(a?.screenToken).not.toBe(b?.screenToken);
    expect(a?.provPassword.length).toBeGreaterThanOrEqual(20);
    expect(a).toMatchObject({
      revision: 1,
      ownCredentialUsed: false,
      enrolledVia: 'directory',
      sipPort: 5060,
      lastIp: null,
      sync: { state: 'pending', revision: 1, requestedAt: 42, attempts: 0 },
    });
    expect(store.findPhoneByProvUsername(a?.provUsername ?? '')?.mac).toBe(YEALINK);
    expect(store.findPhoneByProvUsername('nope')).toBeUndefined();
  });

  test('credential lifecycle: own credential used, then reset', async () => {
    const { store } = await demo();
    const before = store.phoneRuntime(YEALINK);
    store.markOwnCredentialUsed(YEALINK);
    expect(store.phoneRuntime(YEALINK)?.ownCredentialUsed).toBe(true);
    store.resetEnrolment(YEALINK);
    const after = store.phoneRuntime(YEALINK);
    expect(after?.ownCredentialUsed).toBe(false);
    expect(after?.provPassword).not.toBe(before?.provPassword);
    expect(after?.provUsername).not.toBe(before?.provUsername);
  });

  test('auto-enrolment adds a hot-desk phone once and audits it', async () => {
    const { store } = await demo();
    const p = store.enrolPhone({ mac: '00:15:65:12:34:56', vendor: 'yealink', model: 'T46U' }, 77);
    expect(p).toEqual({ mac: '001565123456', vendor: 'yealink', model: 'T46U', label: 'auto 001565123456', hotdesk: true, identities: [], keys: [] });
    expect(store.enrolPhone({ mac: '001565123456', vendor: 'yealink', model: 'T46U' }, 78)).toEqual(p);
    expect(store.phoneRuntime('001565123456')?.enrolledVia).toBe('auto');
    expect(store.queryAudit({ kinds: ['enrolment'] })).toEqual([expect.objectContaining({ kind: 'enrolment', at: 77, phone: '001565123456' })]);
  });

  test('sightings are capped per source and in total; repeats update; accept enrols, dismiss forgets', async () => {
    const { store } = await demo();
    const caps = { perSource: 3, total: 5, maxAgeMs: 1_000 };
    const mac = (i: number): string => `0015650000${String(i).padStart(2, '0')}`;
    const results = [0, 1, 2, 3].map((i) => store.recordSighting({ mac: mac(i), ip: '10.0.0.1', vendor: 'yealink', model: 'T46U', at: 10, via: 'http' }, caps));
    expect(results).toEqual(['new', 'new', 'new', 'capped']);
    expect(store.recordSighting({ mac: mac(0), ip: '10.0.0.1', at: 20 }, caps)).toBe('repeat');
    expect(store.recordSighting({ mac: mac(4), ip: '10.0.0.2', at: 12 }, caps)).toBe('new');
    expect(store.recordSighting({ mac: mac(5), ip: '10.0.0.3', at: 13 }, caps)).toBe('new');
    // table full: a new one is refused until old rows age out
    expect(store.recordSighting({ mac: mac(6), ip: '10.0.0.4', at: 14 }, caps)).toBe('capped');
    expect(store.listSightings()).toHaveLength(5);
    expect(store.recordSighting({ mac: mac(6), ip: '10.0.0.4', at: 1_012 }, caps)).toBe('new');
    expect(
      store
        .listSightings()
        .map((x) => x.mac)
        .sort(),
    ).toEqual([mac(0), mac(4), mac(5), mac(6)].sort());
    // accept: needs a known model
    const known = (v: string, m: string): string | undefined => (v === 'yealink' && m === 'T46U' ? 'T46U' : undefined);
    expect(() => store.acceptSighting(mac(4), known, 20)).toThrow(expect.objectContaining({ code: 'unknown-model' }));
    expect(() => store.acceptSighting('001565999999', known, 20)).toThrow(expect.objectContaining({ code: 'unknown-phone' }));
    const phone = store.acceptSighting(mac(0), known, 20);
    expect(phone).toMatchObject({ mac: mac(0), vendor: 'yealink', model: 'T46U', hotdesk: true });
    expect(store.getPhone(mac(0))).toBeDefined();
    expect(store.listSightings().some((x) => x.mac === mac(0))).toBe(false);
    expect(store.dismissSighting(mac(5))).toBe(true);
    expect(store.dismissSighting(mac(5))).toBe(false);
  });

  test('findPhoneBySipUser: logged-in user first, then device account', async () => {
    const { store } = await demo();
    expect(store.findPhoneBySipUser('lift')?.mac).toBe(LIFT);
    expect(store.findPhoneBySipUser('200')).toBeUndefined();
    store.startSession({ phoneMac: SNOM, userExt: '200', startedAt: 5 }, true);
    expect(store.findPhoneBySipUser('200')?.mac).toBe(SNOM);
  });
});

describe('re-sync bookkeeping', () => {
  test('bump -> pending -> due -> attempt -> fetch of that revision confirms', async () => {
    const { store } = await demo(0);
    const heard: string[][] = [];
    const off = store.onChange((m) => heard.push([...m]));
    store.recordFetch(YEALINK, {
      ip: '10.0.0.21',
      userAgent: 'Yealink SIP-T46U 108.86.0.20 00:15:65:aa:bb:01',
      firmware: '108.86.0.20',
      file: '001565aabb01.cfg',
      revision: 1,
      authenticated: true,
      now: 10,
    });
    expect(store.phoneRuntime(YEALINK)?.sync).toMatchObject({ state: 'synced', confirmedAt: 10, elapsedMs: 10 });
    expect(store.bumpRevision(YEALINK, 100)).toBe(2);
    expect(heard).toEqual([[YEALINK]]);
    expect(store.phoneRuntime(YEALINK)?.sync).toMatchObject({ state: 'pending', revision: 2, requestedAt: 100, attempts: 0, nextAt: 100 });
    expect(store.pendingSyncs(99)).toEqual([]);
    // phones never seen have no address: not due
    expect(store.pendingSyncs(100).map((p) => p.mac)).toEqual([YEALINK]);
    expect(store.pendingSyncs(100)[0]).toEqual({
      mac: YEALINK,
      vendor: 'yealink',
      model: 'T46U',
      ip: '10.0.0.21',
      sipPort: 5060,
      revision: 2,
      requestedAt: 100,
      attempts: 0,
    });
    store.markSyncAttempt(YEALINK, { now: 100, nextAt: 105 });
    expect(store.pendingSyncs(104)).toEqual([]);
    expect(store.pendingSyncs(105)[0]?.attempts).toBe(1);
    // a fetch of a file without the revision, or of the old revision, confirms nothing
    expect(store.recordFetch(YEALINK, { ip: '10.0.0.21', file: 'y000000000028.cfg', now: 120 })).toEqual({ confirmed: false });
    expect(store.recordFetch(YEALINK, { ip: '10.0.0.21', file: '001565aabb01.cfg', revision: 1, authenticated: true, now: 121 })).toEqual({ confirmed: false });
    // an unauthenticated fetch of the right revision confirms nothing and moves no NOTIFY target
    expect(store.recordFetch(YEALINK, { ip: '10.6.6.6', file: '001565aabb01.cfg', revision: 2, now: 125 })).toEqual({ confirmed: false });
    expect(store.phoneRuntime(YEALINK)).toMatchObject({ lastIp: '10.6.6.6', notifyIp: '10.0.0.21' });
    expect(store.pendingSyncs(125)[0]?.ip).toBe('10.0.0.21');
    expect(store.recordFetch(YEALINK, { ip: '10.0.0.22', file: '001565aabb01.cfg', revision: 2, authenticated: true, now: 130 })).toEqual({
      confirmed: true,
      elapsedMs: 30,
    });
    expect(store.recordFetch(YEALINK, { ip: '10.0.0.22', file: '001565aabb01.cfg', revision: 2, authenticated: true, now: 131 })).toEqual({ confirmed: false });
    const rt = store.phoneRuntime(YEALINK);
    expect(rt).toMatchObject({ lastIp: '10.0.0.22', notifyIp: '10.0.0.22', lastFile: '001565aabb01.cfg', lastSeen: 131, lastFirmware: '108.86.0.20' });
    expect(rt?.sync).toMatchObject({ state: 'synced', revision: 2, confirmedAt: 130, elapsedMs: 30, nextAt: null });
    expect(store.queryAudit({ kinds: ['sync-confirmed'] }).map((e) => e.detail?.['revision'])).toEqual([1, 2]);
    off();
    store.bumpRevision(YEALINK, 200);
    expect(heard).toHaveLength(1);
  });

  test('unreachable: no more NOTIFYs, audited, and a late fetch still confirms', async () => {
    const { store } = await demo(0);
    store.recordFetch(SNOM, { ip: '10.0.0.30', file: 'snomD785-000413AABB02.htm', authenticated: true, now: 1 });
    store.bumpRevision(SNOM, 10);
    store.setSipPort(SNOM, 5062);
    expect(store.pendingSyncs(10)[0]?.sipPort).toBe(5062);
    store.markUnreachable(SNOM, 400);
    expect(store.pendingSyncs(1000)).toEqual([]);
    expect(store.phoneRuntime(SNOM)?.sync.state).toBe('unreachable');
    expect(store.queryAudit({ kinds: ['sync-failed'] })).toEqual([expect.objectContaining({ phone: SNOM, detail: { revision: 2, attempts: 0 } })]);
    expect(store.recordFetch(SNOM, { ip: '10.0.0.30', file: 'x', revision: 2, authenticated: true, now: 500 })).toEqual({ confirmed: true, elapsedMs: 490 });
  });

  test('listeners hear bumps once, after the commit, and nothing after a rollback', async () => {
    const { store } = await demo(0);
    const heard: string[][] = [];
    store.onChange((m) => heard.push([...m]));
    store.onChange(() => {
      throw new Error('a broken listener does not break the store');
    });
    store.transaction(() => {
      store.bumpRevision(YEALINK, 1);
      store.bumpRevision(SNOM, 1);
      store.bumpRevision(YEALINK, 2);
      expect(heard).toEqual([]);
    });
    expect(heard).toEqual([[YEALINK, SNOM]]);
    expect(() =>
      store.transaction(() => {
        store.bumpRevision(POLY, 3);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(heard).toHaveLength(1);
    expect(store.phoneRuntime(POLY)?.revision).toBe(1);
    // a change after the rollback, outside any transaction, is heard at once
    store.bumpRevision(SNOM, 4);
    expect(heard.at(-1)).toEqual([SNOM]);
    expect(() => store.bumpRevision('ffffffffffff', 1)).toThrow(expect.objectContaining({ code: 'unknown-phone' }));
  });
});

describe('sessions, locks and audit', () => {
  test('the schema allows one session per phone and (exclusive) one per user', async () => {
    const { store } = await demo();
    store.startSession({ phoneMac: YEALINK, userExt: '200', startedAt: 1 }, true);
    expect(() => store.startSession({ phoneMac: YEALINK, userExt: '101', startedAt: 2 }, true)).toThrow(/UNIQUE|PRIMARY/);
    expect(() => store.startSession({ phoneMac: SNOM, userExt: '200', startedAt: 2 }, true)).toThrow(/UNIQUE/);
    expect(() => store.startSession({ phoneMac: SNOM, userExt: '999', startedAt: 2 }, false)).toThrow(/FOREIGN KEY/);
    // under `allow` the same user may hold two phones
    store.startSession({ phoneMac: SNOM, userExt: '101', startedAt: 3 }, false);
    store.startSession({ phoneMac: POLY, userExt: '101', startedAt: 4 }, false);
    expect(store.sessionsOfUser('101').map((s) => s.phoneMac)).toEqual([SNOM, POLY]);
    expect(store.listSessions()).toHaveLength(3);
    expect(store.sessionOf(YEALINK)).toEqual({ phoneMac: YEALINK, userExt: '200', startedAt: 1 });
    expect(store.endSession({ phoneMac: YEALINK, userExt: '101' })).toBe(false);
    expect(store.endSession({ phoneMac: YEALINK, userExt: '200' })).toBe(true);
    expect(store.sessionOf(YEALINK)).toBeUndefined();
  });

  test('PIN failure records round-trip; an empty counter deletes the rows', async () => {
    const { store } = await demo();
    expect(store.getLock('user', '101')).toEqual(EMPTY_LOCK);
    const c = { failures: [10, 20], lockouts: 1, lockedUntil: 99 };
    store.setLock('user', '101', c);
    store.setLock('user', '101', { ...c, failures: [10, 20, 30] });
    expect(store.getLock('user', '101')).toEqual({ ...c, failures: [10, 20, 30] });
    expect(store.getLock('phone', '101')).toEqual(EMPTY_LOCK);
    // A short number nobody has keeps its record too (unknown numbers count like wrong PINs).
    store.setLock('user', '999', { failures: [5], lockouts: 0, lockedUntil: 0 });
    expect(store.getLock('user', '999')).toEqual({ failures: [5], lockouts: 0, lockedUntil: 0 });
    store.setLock('user', '101', EMPTY_LOCK);
    store.setLock('user', '999', EMPTY_LOCK);
    expect(store.lockRowCounts()).toEqual({ failures: 0, locks: 0 });
  });

  test('pruning drops failures outside the window and forgotten lock histories only', async () => {
    const { store } = await demo();
    store.setLock('phone', YEALINK, { failures: [100, 200, 300], lockouts: 2, lockedUntil: 1000 });
    store.setLock('user', '101', { failures: [250], lockouts: 0, lockedUntil: 0 });
    expect(store.pruneLocks(200, 999)).toBe(2);
    expect(store.getLock('phone', YEALINK)).toEqual({ failures: [300], lockouts: 2, lockedUntil: 1000 });
    expect(store.pruneLocks(300, 1000)).toBe(3);
    expect(store.getLock('phone', YEALINK)).toEqual(EMPTY_LOCK);
    expect(store.getLock('user', '101')).toEqual(EMPTY_LOCK);
    expect(store.lockRowCounts()).toEqual({ failures: 0, locks: 0 });
  });

  test('migration 5 turns old counters into failure rows that expire when the old window did', () => {
    const { dir, cleanup } = tempDir('hotdesk-lockmig-');
    try {
      const db = openDatabase(join(dir, 'old.sqlite'));
      applyMigrations(
        db,
        MIGRATIONS.filter((m) => m.version < 5),
      );
      db.prepare('INSERT INTO lock_counters VALUES (?, ?, ?, ?, ?, ?)').run('user', '101', 3, 5000, 1, 7000);
      db.prepare('INSERT INTO lock_counters VALUES (?, ?, ?, ?, ?, ?)').run('phone', YEALINK, 2, 6000, 0, 0);
      applyMigrations(db);
      const rows = db.prepare('SELECT scope, subject, at FROM pin_failures ORDER BY scope, subject, at').all();
      expect(rows).toEqual([
        { scope: 'phone', subject: YEALINK, at: 6000 },
        { scope: 'phone', subject: YEALINK, at: 6000 },
        { scope: 'user', subject: '101', at: 5000 },
        { scope: 'user', subject: '101', at: 5000 },
        { scope: 'user', subject: '101', at: 5000 },
      ]);
      expect(db.prepare('SELECT scope, subject, lockouts, locked_until FROM lock_counters').all()).toEqual([
        { scope: 'user', subject: '101', lockouts: 1, locked_until: 7000 },
      ]);
      db.close();
    } finally {
      cleanup();
    }
  });

  test('audit queries filter by time, phone, user and kind; limit keeps the latest', async () => {
    const { store } = await demo(0);
    const base = store.queryAudit({ limit: 10_000 }).length;
    for (let i = 0; i < 5; i++)
      store.appendAudit({ kind: i % 2 ? 'login' : 'logout', at: 1000 + i, phone: YEALINK, user: i < 3 ? '101' : '200', detail: { i } });
    expect(store.queryAudit({ limit: 10_000 })).toHaveLength(base + 5);
    expect(store.queryAudit({ since: 1003 }).map((e) => e.detail?.['i'])).toEqual([3, 4]);
    expect(store.queryAudit({ user: '200' }).map((e) => e.at)).toEqual([1003, 1004]);
    expect(store.queryAudit({ phone: '00:15:65:aa:bb:01', kinds: ['login'] }).map((e) => e.at)).toEqual([1001, 1003]);
    expect(store.queryAudit({ kinds: [] })).toEqual([]);
    const last2 = store.queryAudit({ limit: 2 });
    expect(last2.map((e) => e.at)).toEqual([1003, 1004]);
    const first = last2[0]?.id ?? 0;
    expect(store.queryAudit({ afterId: first - 2, limit: 1 }).map((e) => e.at)).toEqual([1002]);
  });
});

describe('raw database file', () => {
  test('another connection sees committed rows (WAL)', async () => {
    const { dir, store } = await demo();
    store.startSession({ phoneMac: YEALINK, userExt: '200', startedAt: 1 }, true);
    const other = new Database(join(dir, DB_FILE), { readonly: true });
    expect(other.prepare('SELECT user_ext, exclusive_user FROM sessions').all()).toEqual([{ user_ext: '200', exclusive_user: '200' }]);
    other.close();
  });
});
