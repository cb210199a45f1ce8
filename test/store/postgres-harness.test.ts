/**
 * The throwaway PostgreSQL of test/helpers/postgres.ts: a real server from
 * Debian's package, tuned for tests, never running as root, surviving a
 * restart on the same port, gone after stop().
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type PgCluster, postgresUnavailable, startPostgres } from '../helpers/postgres.js';

const why = postgresUnavailable();
if (why !== undefined) console.warn(`skipping PostgreSQL harness tests: ${why}`);

/** Runs `sql` on a fresh connection to `url` and returns the rows. */
async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Real uid of a process, from /proc. */
function uidOf(pid: number): number {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Uid:'));
  return Number(line?.split(/\s+/)[1]);
}

describe.skipIf(why !== undefined)('throwaway PostgreSQL cluster', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    const t0 = performance.now();
    cluster = await startPostgres();
    console.info(`startPostgres() took ${(performance.now() - t0).toFixed(0)} ms`);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  test('serves two fresh databases on 127.0.0.1, tuned for tests', async () => {
    expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`);
    const a = await cluster.createDatabase();
    const b = await cluster.createDatabase('hotdesk');
    expect(a).not.toBe(b);
    expect(b).toMatch(new RegExp(`^postgres://postgres@127\\.0\\.0\\.1:${cluster.port}/hotdesk_\\w+$`));
    await query(a, 'CREATE TABLE t (x int)');
    await query(a, 'INSERT INTO t VALUES (1), (2)');
    expect(await query(a, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 2 }]);
    // the other database is separate and empty
    expect(await query(b, "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 't'")).toEqual([{ n: 0 }]);
    expect(await query(b, 'SHOW fsync')).toEqual([{ fsync: 'off' }]);
    expect(await query(b, 'SHOW synchronous_commit')).toEqual([{ synchronous_commit: 'off' }]);
    expect(await query(b, 'SHOW max_connections')).toEqual([{ max_connections: '200' }]);
    expect(await query(b, 'SHOW server_encoding')).toEqual([{ server_encoding: 'UTF8' }]);
  });

  test('the server never runs as root', async () => {
    // the postmaster (first line of postmaster.pid) and a live backend, read while it is connected
    const postmaster = Number(fs.readFileSync(`${cluster.dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    let uids: number[];
    try {
      const [row] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
      uids = [uidOf(postmaster), uidOf(Number(row?.pid))];
    } finally {
      await client.end();
    }
    const expected = process.getuid?.() === 0 ? Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()) : process.getuid?.();
    expect(uids).toEqual([expected, expected]);
    expect(uids).not.toContain(0);
  });

  test('restart drops connections and comes back on the same port with the data', async () => {
    const db = await cluster.createDatabase('restart');
    await query(db, 'CREATE TABLE kept (v text)');
    await query(db, "INSERT INTO kept VALUES ('before')");
    const held = new pg.Client({ connectionString: db });
    held.on('error', () => undefined); // the restart terminates it
    await held.connect();
    const port = cluster.port;
    await cluster.restart();
    expect(cluster.port).toBe(port);
    await expect(held.query('SELECT 1')).rejects.toThrow();
    await held.end().catch(() => undefined);
    expect(await query(db, 'SELECT v FROM kept')).toEqual([{ v: 'before' }]);
  });

  test('stop removes the cluster and frees the port', async () => {
    const dataDir = cluster.dataDir;
    await cluster.stop();
    expect(fs.existsSync(dataDir)).toBe(false);
    await expect(query(cluster.url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
    await cluster.stop(); // idempotent
  });
});
