/**
 * SQLite store migrations seen through the store contract: a fresh data directory opens at the newest
 * schema with a working store, and a database at the previous schema version (6, before the hot-desk
 * lines) opens with every row kept, the hot-desk phones given their lines and re-synced, the others
 * left alone; opening again changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { EMPTY_LOCK, type SiteSettings } from '../../../agent/core/model.js';
import { loadOrCreateDataKey } from '../../../agent/store/data-key.js';
import { defaultSite } from '../../../agent/store/default-site.js';
import { applyMigrations, MIGRATIONS, schemaVersion } from '../../../agent/store/migrations.js';
import { hashPin } from '../../../agent/store/pin-hash.js';
import { seal } from '../../../agent/store/secret-box.js';
import { openSqliteStore, type SqliteStoreApi } from '../../../agent/store/sqlite-store.js';
import { DB_FILE, openDatabase } from '../../../agent/store/store-files.js';
import { siteToRow } from '../../../agent/store/store-rows.js';
import { LIFT, seed, T0, USERS, YEALINK } from './fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hotdesk-conformance-mig-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
function open(dir: string): SqliteStoreApi {
  const store = openSqliteStore(dir);
  cleanups.push(() => store.close());
  return store;
}
const LATEST = MIGRATIONS.at(-1)?.version ?? 0;

/** A database at schema 6 in `dir` holding one of everything, sealed with the directory's data key. */
function buildV6(dir: string, site: SiteSettings): void {
  const { key } = loadOrCreateDataKey(dir);
  const db = openDatabase(join(dir, DB_FILE));
  try {
    expect(
      applyMigrations(
        db,
        MIGRATIONS.filter((m) => m.version <= 6),
      ),
    ).toEqual([1, 2, 3, 4, 5, 6]);
    const { settings, secrets } = siteToRow(key, site);
    db.prepare('INSERT INTO site (id, settings, secrets_enc, updated_at) VALUES (1, ?, ?, ?)').run(settings, secrets, T0);
    db.prepare(
      `INSERT INTO users (ext, name, hotdesk, sip_user, sip_auth_name, sip_password_enc, display_name, outbound_caller_id, pin_hash, pin_enc, updated_at)
       VALUES ('101', 'Alex Sales', 1, '101', '101', ?, 'Alex (Sales)', '+4930123451', ?, ?, ?)`,
    ).run(seal(key, 'alex-sales-secret'), hashPin('4321', key), seal(key, '4321'), T0);
    const phone = db.prepare(
      `INSERT INTO phones (mac, vendor, model, label, hotdesk, device_sip_user, device_account_enc, identities, enrolled_via, created_at,
         prov_username, prov_password_enc, own_credential_used, screen_token, revision, notify_ip, sync_state, sync_revision, sync_confirmed_at)
       VALUES (?, 'yealink', 'T46U', ?, ?, ?, ?, ?, 'directory', ?, ?, ?, 1, ?, 3, '10.0.0.21', 'synced', 3, ?)`,
    );
    phone.run(YEALINK, 'Desk 1', 1, null, null, '["101"]', T0, 'hd-000000000001', seal(key, 'prov-pw-1'), 'token-1', T0 + 1);
    const account = JSON.stringify({ user: 'lift', authName: 'lift', password: 'lift-secret', displayName: 'Lift' });
    phone.run(LIFT, 'Lift', 0, 'lift', seal(key, account), '[]', T0, 'hd-000000000009', seal(key, 'prov-pw-9'), 'token-9', T0 + 1);
    db.prepare('INSERT INTO sessions (phone_mac, user_ext, started_at, exclusive_user) VALUES (?, ?, ?, ?)').run(YEALINK, '101', T0 + 2, '101');
    db.prepare("INSERT INTO audit (at, kind, phone_mac, user_ext, detail) VALUES (?, 'login', ?, '101', '{\"via\":\"dtmf\"}')").run(T0 + 2, YEALINK);
    db.prepare(
      "INSERT INTO pnp_sightings (mac, first_at, at, ip, vendor, model, count, via) VALUES ('0004f2000001', ?, ?, '10.0.0.40', 'poly', 'VVX450', 2, 'http')",
    ).run(T0, T0 + 3);
    db.prepare("INSERT INTO admins (name, role, password_hash, created_at, updated_at) VALUES ('root', 'admin', 'scrypt$x', ?, ?)").run(T0, T0);
    db.prepare("INSERT INTO pin_failures (scope, subject, at) VALUES ('user', '101', ?)").run(T0 + 4);
    db.prepare("INSERT INTO lock_counters (scope, subject, failures, window_start, lockouts, locked_until) VALUES ('user', '101', 1, ?, 1, ?)").run(
      T0 + 4,
      T0 + 60_000,
    );
  } finally {
    db.close();
  }
}

describe('sqlite migrations through the store', () => {
  test('a fresh data directory opens at the newest schema with a working store; opening again applies nothing', async () => {
    const dir = join(temp(), 'nested', 'data');
    const store = open(dir);
    expect(schemaVersion(store.sync.db)).toBe(LATEST);
    expect(store.sync.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    const site = await store.getSite();
    expect(site).toEqual(defaultSite(site.provisioning.bootstrap.password));
    await seed(store);
    expect(await store.listUsers()).toEqual(USERS.map((u) => u.user));
    await store.close();
    const again = open(dir);
    expect(applyMigrations(again.sync.db)).toEqual([]);
    expect(await again.getSite()).toEqual(site);
    expect(await again.verifyPin('101', '4321')).toBe(true);
  });

  test('a schema-6 database keeps its data; hot-desk phones get their line and a re-sync; reopening changes nothing', async () => {
    const dir = temp();
    const site: SiteSettings = { ...defaultSite('bootstrap-v6'), name: 'Old office', apiTokens: ['token-v6'] };
    buildV6(dir, site);
    const before = Date.now();
    const store = open(dir);
    expect(schemaVersion(store.sync.db)).toBe(LATEST);
    // every row is kept, secrets still open with the same key
    expect(await store.getSite()).toEqual(site);
    expect(await store.getUser('101')).toEqual({
      ext: '101',
      name: 'Alex Sales',
      hotdesk: true,
      sip: { user: '101', authName: '101', password: 'alex-sales-secret', displayName: 'Alex (Sales)', outboundCallerId: '+4930123451' },
    });
    expect(await store.verifyPin('101', '4321')).toBe(true);
    expect(await store.identityKeysFor(YEALINK)).toEqual([{ ext: '101', label: 'Alex Sales', pin: '4321', outboundCallerId: '+4930123451' }]);
    expect((await store.getPhone(LIFT))?.deviceAccount?.password).toBe('lift-secret');
    expect(await store.getPhone(YEALINK)).toEqual({
      mac: YEALINK,
      vendor: 'yealink',
      model: 'T46U',
      label: 'Desk 1',
      hotdesk: true,
      identities: ['101'],
      keys: [],
    });
    expect(await store.sessionOf(YEALINK)).toEqual({ phoneMac: YEALINK, userExt: '101', startedAt: T0 + 2 });
    expect(await store.queryAudit()).toEqual([{ id: 1, kind: 'login', at: T0 + 2, phone: YEALINK, user: '101', detail: { via: 'dtmf' } }]);
    expect(await store.listSightings()).toEqual([
      { mac: '0004f2000001', firstAt: T0, at: T0 + 3, ip: '10.0.0.40', vendor: 'poly', model: 'VVX450', count: 2, via: 'http' },
    ]);
    expect((await store.getAdmin('root'))?.role).toBe('admin');
    expect(await store.getLock('user', '101')).toEqual({ failures: [T0 + 4], lockouts: 1, lockedUntil: T0 + 60_000 });
    // the hot-desk phone got its line and must fetch a new revision; the lift got none and stays synced
    const line = await store.getHotdeskLine(YEALINK);
    expect(line).toEqual({ mac: YEALINK, username: `hd-${YEALINK}`, password: expect.stringMatching(/^[A-Za-z0-9]{24}$/), registration: null });
    expect(await store.getHotdeskLine(LIFT)).toBeUndefined();
    const hot = await store.phoneRuntime(YEALINK);
    expect(hot).toMatchObject({ revision: 4, provPassword: 'prov-pw-1', ownCredentialUsed: true, notifyIp: '10.0.0.21' });
    expect(hot?.sync).toMatchObject({ state: 'pending', revision: 4, attempts: 0 });
    expect(hot?.sync.requestedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect((await store.pendingSyncs(Date.now() + 1000)).map((p) => [p.mac, p.revision])).toEqual([[YEALINK, 4]]);
    expect(await store.phoneRuntime(LIFT)).toMatchObject({ revision: 3, sync: { state: 'synced', revision: 3 } });
    // the new schema works: a registration on the new line
    const reg = {
      contact: 'sip:x@10.0.0.21',
      address: '10.0.0.21',
      port: 5060,
      transport: 'udp',
      callId: 'c',
      cseq: 1,
      registeredAt: T0,
      expiresAt: T0 + 60_000,
    } as const;
    expect(await store.setLineRegistration(YEALINK, reg, T0)).toBe('registered');
    await store.close();

    const again = open(dir);
    expect(applyMigrations(again.sync.db)).toEqual([]);
    expect(await again.getHotdeskLine(YEALINK)).toEqual({ ...line, registration: reg });
    expect((await again.phoneRuntime(YEALINK))?.revision).toBe(4);
    expect(await again.getLock('user', '999')).toEqual(EMPTY_LOCK);
  });
});
