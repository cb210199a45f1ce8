/**
 * The store's in-memory state and write-behind (store-memory.ts, write-behind.ts, phone-snapshot.ts):
 * served-file records wait in memory, but nothing reports them before they are committed, every
 * other write and every read that could report them flushes first, closing flushes, and the phone
 * snapshot and site memo follow this store's writes and other connections' commits.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import type { AuditEvent } from '../../agent/core/model.js';
import { DB_FILE, openStore, type Store } from '../../agent/store/store.js';
import { demoStore, SNOM, YEALINK } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A demo store whose write-behind flushes only when the test says so (or on a barrier). */
async function deferred(): Promise<{ store: Store; dir: string; timers: (() => void)[]; other: Database.Database }> {
  const d = await demoStore(1000);
  const timers: (() => void)[] = [];
  d.store.deferWrites({ schedule: (flush) => void timers.push(flush) });
  // Another connection: what is committed, as another process (or a crash survivor) sees it.
  const other = new Database(join(d.dir, DB_FILE), { readonly: true });
  cleanups.push(() => {
    other.close();
    d.cleanup();
  });
  return { store: d.store, dir: d.dir, timers, other };
}

const committedSync = (db: Database.Database, mac: string): { sync_state: string; last_file: string | null } =>
  db.prepare('SELECT sync_state, last_file FROM phones WHERE mac = ?').get(mac) as { sync_state: string; last_file: string | null };
const committedKinds = (db: Database.Database, mac: string): string[] =>
  (db.prepare('SELECT kind FROM audit WHERE phone_mac = ? ORDER BY id').all(mac) as { kind: string }[]).map((r) => r.kind);

const served = (rev: number, file = '001565aabb01.cfg'): AuditEvent => ({
  kind: 'secret-served',
  at: 2000,
  phone: YEALINK,
  detail: { ip: '10.0.0.21', file, revision: rev, protocol: 'http' },
});

describe('write-behind of served files', () => {
  test('a served file is decided at once, committed later, in order, in one transaction', async () => {
    const { store, timers, other } = await deferred();
    const rev = store.provisioningRuntime(YEALINK)?.revision ?? 0;
    const r = store.recordServed(YEALINK, { ip: '10.0.0.21', file: '001565aabb01.cfg', revision: rev, authenticated: true, now: 2000 }, served(rev));
    expect(r.confirmed).toBe(true);
    // The same fetch again is decided on the state that includes the first one.
    expect(store.recordServed(YEALINK, { ip: '10.0.0.21', file: '001565aabb01.cfg', revision: rev, authenticated: true, now: 2001 }).confirmed).toBe(false);
    expect(committedSync(other, YEALINK)).toEqual({ sync_state: 'pending', last_file: null });
    expect(committedKinds(other, YEALINK)).not.toContain('secret-served');
    expect(timers).toHaveLength(1);
    timers[0]?.();
    expect(committedSync(other, YEALINK)).toEqual({ sync_state: 'synced', last_file: '001565aabb01.cfg' });
    expect(committedKinds(other, YEALINK).slice(-2)).toEqual(['sync-confirmed', 'secret-served']);
  });

  test('nothing reports a waiting record before it is committed: runtime, lists, audit, pending syncs flush first', async () => {
    const reads: Record<string, (store: Store) => void> = {
      phoneRuntime: (store) => expect(store.phoneRuntime(YEALINK)?.sync.state).toBe('synced'),
      queryAudit: (store) => expect(store.queryAudit({ phone: YEALINK, kinds: ['secret-served'] })).toHaveLength(1),
      pendingSyncs: (store) => expect(store.pendingSyncs(10_000).map((p) => p.mac)).not.toContain(YEALINK),
      listPhones: (store) => expect(store.listPhones().length).toBeGreaterThan(0),
    };
    for (const [name, read] of Object.entries(reads)) {
      const { store, other } = await deferred();
      const rev = store.provisioningRuntime(YEALINK)?.revision ?? 0;
      store.recordServed(YEALINK, { ip: '10.0.0.21', file: '001565aabb01.cfg', revision: rev, authenticated: true, now: 2000 }, served(rev));
      expect(committedSync(other, YEALINK).sync_state, name).toBe('pending');
      read(store);
      expect(committedSync(other, YEALINK).sync_state, `${name} flushed first`).toBe('synced');
      expect(committedKinds(other, YEALINK), name).toContain('secret-served');
    }
  });

  test('another write flushes first, so the database sees program order (audit ids included)', async () => {
    const { store, other } = await deferred();
    store.recordServed(YEALINK, { ip: '10.0.0.21', file: '001565aabb01.cfg', now: 2000 }, served(1));
    store.appendAudit({ kind: 'import', at: 2001 });
    store.bumpRevision(SNOM, 2002);
    const rows = other.prepare("SELECT kind FROM audit WHERE kind IN ('secret-served', 'import') AND at >= 2000 ORDER BY id").all() as { kind: string }[];
    expect(rows.map((r) => r.kind)).toEqual(['secret-served', 'import']);
  });

  test('closing the store writes what waits', async () => {
    const { store, dir } = await deferred();
    store.recordServed(YEALINK, { ip: '10.0.0.21', file: '001565aabb01.cfg', now: 2000 }, served(1));
    store.close();
    const again = openStore(dir);
    cleanups.unshift(() => again.close());
    expect(again.queryAudit({ phone: YEALINK, kinds: ['secret-served'] })).toHaveLength(1);
    expect(again.phoneRuntime(YEALINK)?.lastFile).toBe('001565aabb01.cfg');
  });

  test('a failed flush keeps the records and reports the error; the next flush writes them', async () => {
    const d = await demoStore(1000);
    cleanups.push(d.cleanup);
    const timers: (() => void)[] = [];
    const errors: unknown[] = [];
    d.store.deferWrites({ schedule: (flush) => void timers.push(flush), onError: (e) => errors.push(e) });
    d.store.recordServed(YEALINK, { ip: '10.0.0.21', file: '001565aabb01.cfg', now: 2000 }, served(1));
    d.store.db.exec('CREATE TRIGGER refuse BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, "disk full"); END');
    timers.shift()?.();
    expect(errors).toHaveLength(1);
    expect(timers).toHaveLength(1);
    d.store.db.exec('DROP TRIGGER refuse');
    timers.shift()?.();
    expect(d.store.queryAudit({ phone: YEALINK, kinds: ['secret-served'] })).toHaveLength(1);
  });
});

describe('phone snapshot and site memo', () => {
  test('follow this store’s writes and a rolled-back transaction', async () => {
    const d = await demoStore(1000);
    cleanups.push(d.cleanup);
    const { store } = d;
    const before = store.provisioningRuntime(YEALINK)?.revision ?? 0;
    store.bumpRevision(YEALINK, 2000);
    expect(store.provisioningRuntime(YEALINK)?.revision).toBe(before + 1);
    expect(() =>
      store.transaction(() => {
        store.bumpRevision(YEALINK, 2001);
        expect(store.provisioningRuntime(YEALINK)?.revision).toBe(before + 2);
        store.putSite({ ...store.getSite(), featurePrefix: '*77' }, 2001);
        expect(store.getSite().featurePrefix).toBe('*77');
        throw new Error('roll back');
      }),
    ).toThrow('roll back');
    expect(store.provisioningRuntime(YEALINK)?.revision).toBe(before + 1);
    expect(store.getSite().featurePrefix).not.toBe('*77');
    const phone = store.getPhone(YEALINK);
    if (!phone) throw new Error('no phone');
    store.putPhone({ ...phone, label: 'renamed' }, 'directory', 2002);
    expect(store.getPhone(YEALINK)?.label).toBe('renamed');
  });

  test('see another connection’s commit (another process) from the next turn on', async () => {
    const d = await demoStore(1000);
    cleanups.push(d.cleanup);
    const other = openStore(d.dir);
    cleanups.unshift(() => other.close());
    const before = d.store.provisioningRuntime(YEALINK)?.revision ?? 0;
    expect(d.store.getSite().featurePrefix).toBe(other.getSite().featurePrefix);
    other.bumpRevision(YEALINK, 2000);
    other.putSite({ ...other.getSite(), featurePrefix: '*78' }, 2000);
    // Within this turn the kept state may still be used ...
    await Promise.resolve();
    expect(d.store.getSite().featurePrefix).not.toBe('*78');
    // ... from the next turn on the other connection's commits are seen.
    await new Promise((r) => setImmediate(r));
    expect(d.store.provisioningRuntime(YEALINK)?.revision).toBe(before + 1);
    expect(d.store.getSite().featurePrefix).toBe('*78');
    // Within one turn a transaction still decides on exactly what it commits on top of.
    expect(d.store.provisioningRuntime(YEALINK)?.revision).toBe(before + 1);
    other.bumpRevision(YEALINK, 2001);
    expect(d.store.transaction(() => d.store.provisioningRuntime(YEALINK)?.revision)).toBe(before + 2);
  });
});
