/**
 * `hotdesk migrate` through the built CLI: on SQLite it brings a database of an older schema up to
 * date and says which versions it applied (a second run applies nothing); on a real throwaway
 * PostgreSQL it migrates an empty database and the shared schema is then current. A missing data
 * directory is an error, not a new empty store.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../agent/store/store.js';
import { MIGRATIONS, applyMigrations } from '../../agent/store/migrations.js';
import { PG_MIGRATIONS } from '../../agent/store/postgres/pg-migrations.js';
import { type PgCluster, postgresUnavailable, startPostgres } from '../helpers/postgres.js';
import { ensureBuilt, runCli, tempDir } from './cli-harness.js';

const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));
const PG_LATEST = Math.max(...PG_MIGRATIONS.map((m) => m.version));

let tmp: string;
beforeAll(() => {
  ensureBuilt();
  tmp = tempDir();
}, 200_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('hotdesk migrate on SQLite', () => {
  it('applies the missing versions of an older database, then reports it current', async () => {
    const data = join(tmp, 'old');
    mkdirSync(data, { recursive: true });
    const db = openDatabase(join(data, 'hotdesk.sqlite'));
    expect(
      applyMigrations(
        db,
        MIGRATIONS.filter((m) => m.version <= LATEST - 2),
      ),
    ).toHaveLength(LATEST - 2);
    db.close();

    const first = await runCli(['migrate', '--json', '--data', data]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ backend: 'sqlite', from: LATEST - 2, to: LATEST, latest: LATEST, applied: [LATEST - 1, LATEST] });

    const again = await runCli(['migrate', '--data', data]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`schema ${LATEST} (current)`);
  });

  it('refuses a data directory that does not exist', async () => {
    const r = await runCli(['migrate', '--data', join(tmp, 'missing')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not exist/);
  });
});

const reason = postgresUnavailable();
if (reason !== undefined) console.warn(`hotdesk migrate on PostgreSQL skipped: ${reason}`);

describe.skipIf(reason !== undefined)('hotdesk migrate on PostgreSQL', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 60_000);
  afterAll(async () => cluster?.stop());

  it('migrates an empty database, and the next run finds it current', async () => {
    const url = await cluster.createDatabase('migrate');
    const data = join(tmp, 'pg');
    mkdirSync(data, { recursive: true });
    const first = await runCli(['migrate', '--json', '--store', url, '--data', data]);
    expect(first.code, first.stderr).toBe(0);
    const applied = Array.from({ length: PG_LATEST }, (_, i) => i + 1);
    expect(JSON.parse(first.stdout)).toEqual({ backend: 'postgres', from: 0, to: PG_LATEST, latest: PG_LATEST, applied });
    const again = await runCli(['migrate', '--data', data], { env: { HOTDESK_STORE: url } });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`PostgreSQL postgres://.*: schema ${PG_LATEST} \\(current\\)`));
  }, 60_000);
});
