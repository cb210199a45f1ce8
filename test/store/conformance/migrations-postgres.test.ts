/**
 * PostgreSQL store migrations seen through the store contract (pg-migrations.ts checks the schema
 * itself): an empty database opens at the newest version with a working store, and a database at
 * version 1 (SQLite's schema 7, before the multi-agent columns) opens with every row kept and readable
 * with the same data key, old audit events naming no agent and new ones naming theirs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { SiteSettings } from '../../../agent/core/model.js';
import { loadOrCreateDataKey } from '../../../agent/store/data-key.js';
import { defaultSite } from '../../../agent/store/default-site.js';
import { hashPin } from '../../../agent/store/pin-hash.js';
import { PgConnection } from '../../../agent/store/postgres/pg-db.js';
import { applyPgMigrations, PG_MIGRATIONS } from '../../../agent/store/postgres/pg-migrations.js';
import { openPgStore, type PgStoreApi } from '../../../agent/store/postgres/pg-store.js';
import { seal } from '../../../agent/store/secret-box.js';
import { siteToRow } from '../../../agent/store/store-rows.js';
import { type PgCluster, postgresUnavailable, startPostgres } from '../../helpers/postgres.js';
import { LIFT, SNOM, seed, T0, USERS, YEALINK } from './fixtures.js';

const why = postgresUnavailable();
if (why !== undefined) console.warn(`store conformance: skipping the postgres migrations: ${why}`);
const LATEST = PG_MIGRATIONS.at(-1)?.version ?? 0;

describe.skipIf(why)('postgres migrations through the store', () => {
  let cluster: PgCluster;
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 60_000);
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  const temp = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'hotdesk-conformance-pgmig-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const connect = (url: string): PgConnection => {
    const db = new PgConnection({ url, agentId: 'builder' });
    cleanups.push(() => db.close());
    return db;
  };
  const open = async (url: string, dataDir: string): Promise<PgStoreApi> => {
    const store = await openPgStore({ url, dataDir, agentId: 'conformance' });
    cleanups.push(() => store.close());
    return store;
  };
  const versions = async (db: PgConnection): Promise<number[]> =>
    (await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version);

  test('an empty database opens at the newest version with a working store; opening again applies nothing', async () => {
    const url = await cluster.createDatabase('mig_empty');
    const dataDir = temp();
    const store = await open(url, dataDir);
    const db = connect(url);
    expect(await versions(db)).toEqual(PG_MIGRATIONS.map((m) => m.version));
    expect(Math.max(...(await versions(db)))).toBe(LATEST);
    const site = await store.getSite();
    expect(site).toEqual(defaultSite(site.provisioning.bootstrap.password));
    await seed(store);
    expect(await store.listUsers()).toEqual(USERS.map((u) => u.user));
    await store.close();
    expect(await applyPgMigrations(db)).toEqual([]);
    const again = await open(url, dataDir);
    expect(await again.getSite()).toEqual(site);
    expect(await again.verifyPin('101', '4321')).toBe(true);
    expect(await versions(db)).toEqual(PG_MIGRATIONS.map((m) => m.version));
  });

  test('a version-1 database keeps its data, readable with the same key; old audit events name no agent', async () => {
    const url = await cluster.createDatabase('mig_v1');
    const dataDir = temp();
    const { key } = loadOrCreateDataKey(dataDir);
    const db = connect(url);
    expect(
      await applyPgMigrations(
        db,
        T0,
        PG_MIGRATIONS.filter((m) => m.version <= 1),
      ),
    ).toEqual([1]);
    const site: SiteSettings = { ...defaultSite('bootstrap-v1'), name: 'Old office', apiTokens: ['token-v1'] };
    const { settings, secrets } = siteToRow(key, site);
    await db.run('INSERT INTO site (id, settings, secrets_enc, updated_at) VALUES (1, $1, $2, $3)', [settings, secrets, T0]);
    await db.run(
      `INSERT INTO users (ext, name, hotdesk, sip_user, sip_auth_name, sip_password_enc, display_name, outbound_caller_id, pin_hash, pin_enc, updated_at)
       VALUES ('101', 'Alex Sales', 1, '101', '101', $1, 'Alex (Sales)', '+4930123451', $2, $3, $4)`,
      [seal(key, 'alex-sales-secret'), hashPin('4321', key), seal(key, '4321'), T0],
    );
    const phone = `INSERT INTO phones (mac, vendor, model, label, hotdesk, device_sip_user, device_account_enc, identities, enrolled_via, created_at,
         prov_username, prov_password_enc, own_credential_used, screen_token, revision, notify_ip, sync_state, sync_revision, sync_confirmed_at)
       VALUES ($1, 'yealink', 'T46U', $2, $3, $4, $5, $6, 'directory', $7, $8, $9, 1, $10, 3, '10.0.0.21', 'synced', 3, $11)`;
    await db.run(phone, [YEALINK, 'Desk 1', 1, null, null, '["101"]', T0, 'hd-000000000001', seal(key, 'prov-pw-1'), 'token-1', T0 + 1]);
    await db.run(phone, [SNOM, 'Desk 2', 1, null, null, '[]', T0, 'hd-000000000002', seal(key, 'prov-pw-2'), 'token-2', T0 + 1]);
    const account = JSON.stringify({ user: 'lift', authName: 'lift', password: 'lift-secret', displayName: 'Lift' });
    await db.run(phone, [LIFT, 'Lift', 0, 'lift', seal(key, account), '[]', T0, 'hd-000000000009', seal(key, 'prov-pw-9'), 'token-9', T0 + 1]);
    await db.run('INSERT INTO hotdesk_lines (mac, username, password_enc, created_at) VALUES ($1, $2, $3, $4)', [
      YEALINK,
      `hd-${YEALINK}`,
      seal(key, 'LinePassword0123456789ab'),
      T0,
    ]);
    await db.run('INSERT INTO sessions (phone_mac, user_ext, started_at, exclusive_user) VALUES ($1, $2, $3, $4)', [YEALINK, '101', T0 + 2, '101']);
    await db.run("INSERT INTO audit (at, kind, phone_mac, user_ext, detail) VALUES ($1, 'login', $2, '101', '{\"via\":\"dtmf\"}')", [T0 + 2, YEALINK]);
    await db.run(
      "INSERT INTO pnp_sightings (mac, first_at, at, ip, vendor, model, count, via) VALUES ('0004f2000001', $1, $2, '10.0.0.40', 'poly', 'VVX450', 2, 'http')",
      [T0, T0 + 3],
    );
    await db.run("INSERT INTO admins (name, role, password_hash, created_at, updated_at) VALUES ('root', 'admin', 'scrypt$x', $1, $1)", [T0]);
    await db.run("INSERT INTO pin_failures (scope, subject, at) VALUES ('user', '101', $1)", [T0 + 4]);
    await db.run("INSERT INTO lock_counters (scope, subject, failures, window_start, lockouts, locked_until) VALUES ('user', '101', 1, $1, 1, $2)", [
      T0 + 4,
      T0 + 60_000,
    ]);

    const store = await open(url, dataDir);
    expect(await versions(db)).toEqual(PG_MIGRATIONS.map((m) => m.version));
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
    expect(await store.phoneRuntime(YEALINK)).toMatchObject({
      revision: 3,
      provPassword: 'prov-pw-1',
      ownCredentialUsed: true,
      notifyIp: '10.0.0.21',
      sync: { state: 'synced', revision: 3, confirmedAt: T0 + 1 },
    });
    expect(await store.sessionOf(YEALINK)).toEqual({ phoneMac: YEALINK, userExt: '101', startedAt: T0 + 2 });
    expect(await store.listSightings()).toEqual([
      { mac: '0004f2000001', firstAt: T0, at: T0 + 3, ip: '10.0.0.40', vendor: 'poly', model: 'VVX450', count: 2, via: 'http' },
    ]);
    expect((await store.getAdmin('root'))?.role).toBe('admin');
    expect(await store.getLock('user', '101')).toEqual({ failures: [T0 + 4], lockouts: 1, lockedUntil: T0 + 60_000 });
    // the existing line is kept; a hot-desk phone that lacked one has one now; the lift has none
    expect(await store.getHotdeskLine(YEALINK)).toEqual({ mac: YEALINK, username: `hd-${YEALINK}`, password: 'LinePassword0123456789ab', registration: null });
    expect((await store.getHotdeskLine(SNOM))?.password).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(await store.getHotdeskLine(LIFT)).toBeUndefined();
    // the old event names no agent; a new one names this agent
    await store.appendAudit({ kind: 'logout', at: T0 + 5, phone: YEALINK, user: '101' });
    expect(await store.queryAudit()).toEqual([
      { id: 1, kind: 'login', at: T0 + 2, phone: YEALINK, user: '101', detail: { via: 'dtmf' } },
      { id: 2, kind: 'logout', at: T0 + 5, phone: YEALINK, user: '101', agent: 'conformance' },
    ]);
    // the new columns start empty
    expect(await db.query('SELECT mac, served_pool, sync_claimed_by FROM phones ORDER BY mac')).toEqual(
      [SNOM, YEALINK, LIFT].sort().map((mac) => ({ mac, served_pool: null, sync_claimed_by: null })),
    );
  });
});
