/**
 * `hotdesk migrate`: brings the store's schema up to this agent's version and says which versions it
 * applied. The agent migrates by itself when it opens the store; this command does it ahead of a
 * rolling upgrade (upgrade one agent's package, migrate, then restart the agents one by one) and
 * shows where a database stands. On PostgreSQL each step takes an advisory lock, so agents starting
 * at the same moment apply it once (store/postgres/pg-migrations.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MIGRATIONS, schemaVersion } from '../store/migrations.js';
import { PG_MIGRATIONS, pgSchemaVersion } from '../store/postgres/pg-migrations.js';
import type { PgStoreApi } from '../store/postgres/pg-store.js';
import type { SqliteStoreApi } from '../store/sqlite-store.js';
import { DB_FILE } from '../store/store-files.js';
import { redactStoreUrl } from '../store/store-url.js';
import { EXIT, JSON_OPTION, STORE_HELP, STORE_OPTION, dataDir, defineCommand, optFlag, printJson, storeSetting, type Command } from './cli-kit.js';
import { withStore } from './cli-store.js';

const migrateHelp = `Usage: hotdesk migrate [--json] [--store URL] [--data DIR]

Bring the store's schema up to this agent's version and print the versions
before and after. The agent also migrates when it starts; run this before a
rolling upgrade of several agents sharing one PostgreSQL database. Migrations
are applied in order, each in its own transaction (a crash leaves a whole
version); a database newer than this agent is refused (storage-error).

Options:
  --json       print {backend, from, to, latest, applied}
${STORE_HELP}
`;

/** The schema version of an SQLite database file before opening it (0 when new). */
function sqliteVersionBefore(dir: string): number {
  const file = join(dir, DB_FILE);
  if (!existsSync(file)) return 0;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (table === undefined) return 0;
    return (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  } finally {
    db.close();
  }
}

/** The schema version of a PostgreSQL database before opening it (0 when new). */
async function pgVersionBefore(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const t = await client.query<{ t: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS t");
    if (t.rows[0]?.t !== true) return 0;
    const r = await client.query<{ v: string | null }>('SELECT MAX(version) AS v FROM schema_migrations');
    return Number(r.rows[0]?.v ?? 0);
  } catch {
    return 0; // opening the store below reports the real problem (password redacted)
  } finally {
    await client.end().catch(() => {});
  }
}

/** `hotdesk migrate`. */
export const migrateCommand: Command = defineCommand({ name: 'migrate', help: migrateHelp, options: { ...JSON_OPTION, ...STORE_OPTION } }, async (p, io) => {
  const dir = dataDir(p, io);
  const store = storeSetting(p, io);
  const postgres = store !== undefined;
  const from = postgres ? await pgVersionBefore(store) : sqliteVersionBefore(dir);
  const to = await withStore(dir, (s) => (s.kind === 'postgres' ? pgSchemaVersion((s as PgStoreApi).db) : schemaVersion((s as SqliteStoreApi).sync.db)), {
    store,
  });
  const latest = Math.max(...(postgres ? PG_MIGRATIONS : MIGRATIONS).map((m) => m.version));
  const applied = Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i + 1);
  const where = postgres ? `PostgreSQL ${redactStoreUrl(store)}` : `SQLite ${join(dir, DB_FILE)}`;
  if (optFlag(p, 'json')) printJson(io, { backend: postgres ? 'postgres' : 'sqlite', from, to, latest, applied });
  else io.out(applied.length > 0 ? `${where}: schema ${from} → ${to} (applied ${applied.join(', ')})\n` : `${where}: schema ${to} (current)\n`);
  return EXIT.ok;
});
