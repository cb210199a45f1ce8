/**
 * PostgreSQL schema migrations (agent/store/postgres/pg-migrations.ts) and the start-up checks of
 * openPgStore against a real server: a fresh database gets SQLite's schema 7 plus the multi-agent
 * columns, an upgrade keeps the data, a newer database is refused, agents starting together apply each
 * migration once, and an agent with another data key is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MIGRATIONS } from '../../../agent/store/migrations.js';
import { openDatabase } from '../../../agent/store/store-files.js';
import { applyMigrations } from '../../../agent/store/migrations.js';
import { PgConnection } from '../../../agent/store/postgres/pg-db.js';
import { applyPgMigrations, PG_MIGRATIONS, pgSchemaVersion } from '../../../agent/store/postgres/pg-migrations.js';
import { openPgStore } from '../../../agent/store/postgres/pg-store.js';
import { type PgCluster, postgresUnavailable, startPostgres } from '../../helpers/postgres.js';

const why = postgresUnavailable();
if (why !== undefined) console.warn(`skipping PostgreSQL migration tests: ${why}`);

const NOW = 1_700_000_000_000;
/** Tables of SQLite's schema 7 (every table version 1 re-expresses). */
const V1_TABLES = [
  'admins',
  'audit',
  'console_sessions',
  'hotdesk_lines',
  'lock_counters',
  'phones',
  'pin_failures',
  'pnp_sightings',
  'sessions',
  'site',
  'users',
];

/** Columns by table and the non-key indexes of SQLite's schema at its newest migration. */
function sqliteSchema(): { columns: Record<string, string[]>; indexes: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'hotdesk-sqlite-schema-'));
  try {
    const db = openDatabase(join(dir, 'schema.sqlite'));
    applyMigrations(db);
    const columns: Record<string, string[]> = {};
    for (const t of V1_TABLES) columns[t] = (db.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => c.name).sort();
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'").all() as { name: string }[])
      .map((r) => r.name)
      .sort();
    db.close();
    return { columns, indexes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Columns by table and the indexes not made by a PRIMARY KEY or UNIQUE constraint, in the PostgreSQL database. */
async function pgSchema(db: PgConnection): Promise<{ columns: Record<string, string[]>; indexes: string[] }> {
  const columns: Record<string, string[]> = {};
  for (const r of await db.query<{ t: string; c: string }>(
    "SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2",
  )) {
    columns[r.t] = [...(columns[r.t] ?? []), r.c];
  }
  const indexes = (
    await db.query<{ name: string }>(
      `SELECT i.indexname AS name FROM pg_indexes i WHERE i.schemaname = 'public'
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) ORDER BY 1`,
    )
  ).map((r) => r.name);
  return { columns, indexes };
}

describe.skipIf(why !== undefined)('PostgreSQL migrations', () => {
  let cluster: PgCluster;
  const open: PgConnection[] = [];
  const dirs: string[] = [];
  const connect = async (url?: string): Promise<PgConnection> => {
    const db = new PgConnection({ url: url ?? (await cluster.createDatabase('mig')), agentId: `agent-${open.length}` });
    open.push(db);
    return db;
  };
  const dataDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'hotdesk-pg-data-'));
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    for (const db of open) await db.close();
    await cluster?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('a fresh database gets every migration: SQLite schema 7 plus the multi-agent columns and tables', async () => {
    const db = await connect();
    expect(await pgSchemaVersion(db)).toBe(0);
    expect(await applyPgMigrations(db, NOW)).toEqual([1, 2]);
    expect(await applyPgMigrations(db, NOW)).toEqual([]);
    expect(await pgSchemaVersion(db)).toBe(2);
    expect(await db.query('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')).toEqual(
      PG_MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: NOW })),
    );

    const sqlite = sqliteSchema();
    expect(MIGRATIONS.at(-1)?.version).toBe(7); // version 1 re-expresses SQLite schema 7: revisit when SQLite moves on
    const pgs = await pgSchema(db);
    const added: Record<string, string[]> = { audit: ['agent'], phones: ['served_pool', 'sync_claimed_by'] };
    for (const t of V1_TABLES) expect([t, pgs.columns[t]]).toEqual([t, [...(sqlite.columns[t] ?? []), ...(added[t] ?? [])].sort()]);
    expect(pgs.columns['agents']).toEqual(['id', 'pool', 'seen_at', 'started_at']);
    expect(pgs.columns['meta']).toEqual(['key', 'value']);
    expect(pgs.columns['schema_migrations']).toEqual(['applied_at', 'name', 'version']);
    expect(pgs.indexes).toEqual(sqlite.indexes);

    // the CHECKs hold as in SQLite
    const phone = (mac: string) =>
      db.run(
        `INSERT INTO phones (mac, vendor, model, label, hotdesk, enrolled_via, created_at, prov_username, prov_password_enc, screen_token)
           VALUES ($1, 'yealink', 'T54W', 'x', 1, 'auto', 0, $1, 'v1:x', $1)`,
        [mac],
      );
    await phone('0015651234ab');
    await expect(phone('0015651234AB')).rejects.toMatchObject({ code: '23514' });
    await expect(phone('0015651234a')).rejects.toMatchObject({ code: '23514' });
    await expect(
      db.run(
        "INSERT INTO users (ext, name, hotdesk, sip_user, sip_auth_name, sip_password_enc, display_name, updated_at) VALUES ('12a', 'x', 1, 'u', 'u', 'e', 'd', 0)",
      ),
    ).rejects.toMatchObject({ code: '23514' });
    await db.run(
      "INSERT INTO users (ext, name, hotdesk, sip_user, sip_auth_name, sip_password_enc, display_name, updated_at) VALUES ('201', 'x', 1, 'u', 'u', 'e', 'd', 0)",
    );
    // one session per user when exclusive: the UNIQUE index on exclusive_user
    await phone('0015651234ac');
    await db.run("INSERT INTO sessions (phone_mac, user_ext, started_at, exclusive_user) VALUES ('0015651234ab', '201', 1, '201')");
    await expect(
      db.run("INSERT INTO sessions (phone_mac, user_ext, started_at, exclusive_user) VALUES ('0015651234ac', '201', 2, '201')"),
    ).rejects.toMatchObject({
      code: '23505',
    });
    // the pending-sync index is partial, as in SQLite
    expect(await db.one("SELECT indexdef FROM pg_indexes WHERE indexname = 'phones_sync_due'")).toEqual({
      indexdef: expect.stringMatching(/\(sync_state, sync_next_at\) WHERE \(sync_state = 'pending'::text\)$/),
    });
    // audit ids are an identity the database hands out
    await expect(db.run("INSERT INTO audit (id, at, kind) VALUES (1, 0, 'x')")).rejects.toMatchObject({ code: '428C9' });
  });

  test('version 1 → 2 keeps the data and adds empty multi-agent columns', async () => {
    const db = await connect();
    expect(await applyPgMigrations(db, NOW, PG_MIGRATIONS.slice(0, 1))).toEqual([1]);
    await db.run(
      `INSERT INTO phones (mac, vendor, model, label, hotdesk, enrolled_via, created_at, prov_username, prov_password_enc, screen_token, revision, last_seen)
         VALUES ('0015651234ab', 'snom', 'D785', 'desk 1', 1, 'directory', $1, 'hd-1', 'v1:x', 'tok', 4, $1)`,
      [NOW],
    );
    await db.run("INSERT INTO audit (at, kind, phone_mac, detail) VALUES ($1, 'enrolment', '0015651234ab', '{\"a\":1}')", [NOW]);
    await expect(db.query('SELECT agent FROM audit')).rejects.toMatchObject({ code: '42703' });

    expect(await applyPgMigrations(db, NOW + 1)).toEqual([2]);
    expect(await db.query('SELECT mac, label, revision, last_seen, served_pool, sync_claimed_by FROM phones')).toEqual([
      { mac: '0015651234ab', label: 'desk 1', revision: 4, last_seen: NOW, served_pool: null, sync_claimed_by: null },
    ]);
    expect(await db.query('SELECT id, at, kind, phone_mac, detail, agent FROM audit')).toEqual([
      { id: 1, at: NOW, kind: 'enrolment', phone_mac: '0015651234ab', detail: '{"a":1}', agent: null },
    ]);
    expect(await db.query('SELECT version, applied_at FROM schema_migrations ORDER BY version')).toEqual([
      { version: 1, applied_at: NOW },
      { version: 2, applied_at: NOW + 1 },
    ]);
    expect(await db.query('SELECT * FROM agents')).toEqual([]);
  });

  test('a database newer than the agent is refused with storage-error', async () => {
    const db = await connect();
    await applyPgMigrations(db, NOW);
    await db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)");
    await expect(applyPgMigrations(db, NOW)).rejects.toMatchObject({ code: 'storage-error', message: expect.stringMatching(/version 99 is newer .*upgrade/) });
    await expect(openPgStore({ url: db.safeUrl, dataDir: dataDir(), agentId: 'late' })).rejects.toMatchObject({ code: 'storage-error' });
  });

  test('agents starting together apply each migration exactly once', async () => {
    const url = await cluster.createDatabase('race');
    const agents = await Promise.all([1, 2, 3, 4, 5].map(() => connect(url)));
    const applied = await Promise.all(agents.map((db) => applyPgMigrations(db, NOW)));
    expect(applied.flat().sort()).toEqual([1, 2]);
    expect(await agents[0]!.query('SELECT version FROM schema_migrations ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }]);

    // the whole start-up (migrations, key check, default site) on a fresh database, four agents at once, one data key
    const fresh = await cluster.createDatabase('race_store');
    const shared = dataDir();
    const stores = await Promise.all(['a', 'b', 'c', 'd'].map((agentId) => openPgStore({ url: fresh, dataDir: shared, agentId })));
    try {
      const sites = await Promise.all(stores.map((s) => s.getSite()));
      expect(new Set(sites.map((s) => s.provisioning.bootstrap.password)).size).toBe(1);
      expect(await stores[0]!.db.query('SELECT count(*) AS n FROM site')).toEqual([{ n: 1 }]);
      expect(await stores[0]!.db.query("SELECT count(*) AS n FROM meta WHERE key = 'key_check'")).toEqual([{ n: 1 }]);
      expect(stores.map((s) => [s.kind, s.agentId, s.pool])).toEqual([
        ['postgres', 'a', 'default'],
        ['postgres', 'b', 'default'],
        ['postgres', 'c', 'default'],
        ['postgres', 'd', 'default'],
      ]);
    } finally {
      for (const s of stores) await s.close();
    }
  });

  test('an agent with another data key is refused: copy the first agent’s secret.key', async () => {
    const url = await cluster.createDatabase('key');
    const first = dataDir();
    const s1 = await openPgStore({ url, dataDir: first, agentId: 'first', pool: 'hq' });
    expect(s1.pool).toBe('hq');
    await s1.close();
    await expect(openPgStore({ url, dataDir: dataDir(), agentId: 'second' })).rejects.toMatchObject({
      code: 'storage-error',
      message: expect.stringMatching(/copy the first agent's secret\.key/),
    });
    // the right key opens it again, and the site sealed with it reads back
    const again = await openPgStore({ url, dataDir: first, agentId: 'first-again' });
    try {
      await again.ping();
      expect((await again.getSite()).name).toBe('hotdesk');
    } finally {
      await again.close();
    }
  });
});
