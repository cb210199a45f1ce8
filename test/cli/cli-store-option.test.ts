/**
 * `--store URL` and `$HOTDESK_STORE` through the built CLI: documented in every store command's help,
 * validated (a value that is not a PostgreSQL URL is a usage error that does not echo it), a
 * PostgreSQL URL's password never printed, `backup`/`restore` refuse a PostgreSQL store, and, when
 * the PostgreSQL backend and server are there, import and the listings on a real PostgreSQL.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, postgresUnavailable, startPostgres } from '../helpers/postgres.js';
import { DEMO, ROOT, ensureBuilt, runCli, tempDir } from './cli-harness.js';

const STORE_COMMANDS = ['import', 'export', 'users', 'phones', 'sessions', 'login', 'logout', 'dial', 'audit', 'render', 'sightings', 'doctor', 'admin'];
const PASSWORD = 'Sup3r-s3cret-pw';
/** Nothing listens on port 1: opening this store fails, with the password in the URL. */
const DEAD_URL = `postgres://hotdesk:${PASSWORD}@127.0.0.1:1/hotdesk`;

let tmp: string;
let data: string;

beforeAll(async () => {
  ensureBuilt();
  tmp = tempDir();
  data = join(tmp, 'data');
  expect((await runCli(['import', DEMO, '--data', data])).code).toBe(0);
}, 200_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('--store in the help texts', () => {
  it.each(STORE_COMMANDS)('%s --help documents --store and HOTDESK_STORE', async (cmd) => {
    const r = await runCli([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--store URL');
    expect(r.stdout).toContain('$HOTDESK_STORE');
  });

  it('serve --help documents --store and HOTDESK_STORE', async () => {
    const r = await runCli(['serve', '--help']);
    expect(r.stdout).toMatch(/--store URL[\s\S]*\$HOTDESK_STORE[\s\S]*postgres:\/\//);
  });
});

describe('--store values', () => {
  it('a value that is not a PostgreSQL URL is a usage error that does not echo it', async () => {
    const r = await runCli(['users', '--data', data, '--store', `mysql://root:${PASSWORD}@db/x`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--store must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(r.stderr + r.stdout).not.toContain(PASSWORD);
    const env = await runCli(['users', '--data', data], { env: { HOTDESK_STORE: `mysql://root:${PASSWORD}@db/x` } });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/HOTDESK_STORE must be/);
    expect(env.stderr + env.stdout).not.toContain(PASSWORD);
  });

  it('sqlite (or an empty value) is the data directory, as without the option', async () => {
    const plain = await runCli(['users', '--json', '--data', data]);
    const explicit = await runCli(['users', '--json', '--data', data, '--store', 'sqlite']);
    const empty = await runCli(['users', '--json', '--data', data], { env: { HOTDESK_STORE: '' } });
    expect(plain.code).toBe(0);
    expect(explicit).toEqual(plain);
    expect(empty).toEqual(plain);
    expect(JSON.parse(plain.stdout)).toHaveLength(4);
  });

  it('a PostgreSQL store that does not answer is store-unavailable without the password (--store, HOTDESK_STORE, --json)', async () => {
    for (const r of [
      await runCli(['users', '--data', data, '--store', DEAD_URL]),
      await runCli(['phones', '--data', data], { env: { HOTDESK_STORE: DEAD_URL } }),
      await runCli(['sessions', '--json', '--data', data, '--store', DEAD_URL]),
    ]) {
      expect(r.code).toBe(1);
      expect(r.stderr + r.stdout).toMatch(/store-unavailable/);
      expect(r.stderr + r.stdout).not.toContain(PASSWORD);
    }
  });

  it('the option wins over HOTDESK_STORE', async () => {
    const r = await runCli(['users', '--json', '--data', data, '--store', 'sqlite'], { env: { HOTDESK_STORE: DEAD_URL } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(4);
  });

  it('backup and restore refuse a PostgreSQL store, naming the tool to use', async () => {
    const backup = await runCli(['backup', join(tmp, 'b.sqlite'), '--data', data], { env: { HOTDESK_STORE: DEAD_URL } });
    expect(backup.code).toBe(1);
    expect(backup.stderr).toMatch(/pg_dump/);
    expect(existsSync(join(tmp, 'b.sqlite'))).toBe(false);
    const restore = await runCli(['restore', join(tmp, 'b.sqlite'), '--data', join(tmp, 'new'), '--store', DEAD_URL]);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toMatch(/pg_restore/);
    for (const r of [backup, restore]) expect(r.stderr + r.stdout).not.toContain(PASSWORD);
  });
});

const noPostgres = postgresUnavailable() ?? (existsSync(join(ROOT, 'agent', 'store', 'postgres', 'pg-store.ts')) ? undefined : 'no PostgreSQL backend yet');

describe.skipIf(noPostgres !== undefined)('on a real PostgreSQL', () => {
  let cluster: PgCluster;
  let url: string;
  beforeAll(async () => {
    cluster = await startPostgres();
    url = await cluster.createDatabase('cli');
  }, 120_000);
  afterAll(async () => cluster?.stop());

  it('imports into PostgreSQL and lists from it; the SQLite data directory stays apart', async () => {
    const keyDir = join(tmp, 'pg-key');
    const imported = await runCli(['import', DEMO, '--json', '--data', keyDir, '--store', url]);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ ok: true, summary: { usersAdded: 4, phonesAdded: 4 } });
    const users = await runCli(['users', '--json', '--data', keyDir], { env: { HOTDESK_STORE: url } });
    expect(users.code).toBe(0);
    expect((JSON.parse(users.stdout) as { ext: string }[]).map((u) => u.ext)).toEqual(['001', '101', '102', '200']);
    const login = await runCli(['login', '--phone', '001565aabb01', '101', '--json', '--data', keyDir, '--store', url]);
    expect(login.code).toBe(0);
    const sessions = await runCli(['sessions', '--json', '--data', keyDir, '--store', url]);
    expect(JSON.parse(sessions.stdout)).toEqual([expect.objectContaining({ phone: '001565aabb01', user: '101' })]);
    // The SQLite store in `data` did not see any of it.
    expect(JSON.parse((await runCli(['sessions', '--json', '--data', data])).stdout)).toEqual([]);
  }, 60_000);
});
