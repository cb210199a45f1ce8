/**
 * The store backends the conformance suite holds to one contract (agent/store/store-api.ts): each test
 * file runs its cases once per backend with `describe.each(backends)`, and {@link useBackend} gives every
 * case a fresh, empty store of that backend:
 *
 * - `sqlite`: {@link openSqliteStore} in a fresh temp data directory;
 * - `postgres`: `openPgStore` on a fresh database of a throwaway cluster (test/helpers/postgres.ts, one
 *   cluster per test file), copied from a migrated template with ICU `en-US` collation, its data key
 *   in a fresh temp data directory.
 *
 * PostgreSQL is never skipped silently: when its server binaries are missing, {@link Backend.unavailable}
 * says why, the suites skip it with `describe.skipIf`, and the reason is printed once per test file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { StoreApi, StoreKind } from '../../../agent/store/store-api.js';
import { openSqliteStore, type SqliteStoreApi } from '../../../agent/store/sqlite-store.js';
import { type PgCluster, postgresUnavailable, startPostgres } from '../../helpers/postgres.js';

/** One open store of a backend, with a side door to its tables. */
export interface OpenStore {
  readonly store: StoreApi;
  /** The data directory (the data key lives there). */
  readonly dataDir: string;
  /**
   * Runs one SQL statement on the store's database outside the store (another connection for
   * PostgreSQL, the store's own for SQLite) and returns its rows. Placeholders are `?`. Integers come
   * back as numbers on both backends (BIGINT included), so keep to SQL both dialects read alike.
   */
  raw<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Closes the store (and the side door); safe to call twice. */
  close(): Promise<void>;
}

/** A backend as one test file uses it (started once, many fresh stores). */
export interface RunningBackend {
  /** A fresh, empty store. */
  open(): Promise<OpenStore>;
  /** Closes `s` and opens the same database with the same data key again (a restart). */
  reopen(s: OpenStore): Promise<OpenStore>;
  /** Closes every store and stops what {@link Backend.start} started. */
  stop(): Promise<void>;
}

/** A store backend of the conformance suite. */
export interface Backend {
  readonly name: StoreKind;
  /** Why this backend cannot run here (the suites skip it and say so), or undefined. */
  readonly unavailable: string | undefined;
  /** What its stored audit events carry besides the event: `{ agent }` on PostgreSQL (shared by agents), nothing on SQLite. */
  readonly auditStamp: { readonly agent?: string };
  /**
   * Served-file records wait in memory until flushed, and deferred-write listeners hear each flush
   * (SQLite). PostgreSQL has no write-behind (pg-store.ts): records are written at once and those
   * listeners are never called.
   */
  readonly writeBehind: boolean;
  /** Starts the backend for one test file. */
  start(): Promise<RunningBackend>;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'hotdesk-conformance-'));
}

/** `?` placeholders to PostgreSQL's `$1`, `$2`, … (none of our raw statements has a `?` in a literal). */
function dollarParams(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Type parsers for raw PostgreSQL reads: BIGINT as a number, like the store's pool. */
const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** `fn` run once, however often the result is called. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= fn();
    return done;
  };
}

/** Tracks what a running backend must close and remove when it stops. */
class Resources {
  private readonly closers: (() => Promise<void> | void)[] = [];
  add(fn: () => Promise<void> | void): void {
    this.closers.push(fn);
  }
  async closeAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const c of this.closers.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

const sqlite: Backend = {
  name: 'sqlite',
  unavailable: undefined,
  auditStamp: {},
  writeBehind: true,
  async start() {
    const res = new Resources();
    const openAt = (dataDir: string): OpenStore => {
      const store: SqliteStoreApi = openSqliteStore(dataDir);
      const close = once(() => store.close());
      res.add(close);
      return {
        store,
        dataDir,
        raw: async <R>(sql: string, params: readonly unknown[] = []) => store.sync.db.prepare(sql).all(...params) as R[],
        close,
      };
    };
    return {
      async open() {
        const dir = tempDir();
        res.add(() => rmSync(dir, { recursive: true, force: true }));
        return openAt(dir);
      },
      async reopen(s) {
        await s.close();
        return openAt(s.dataDir);
      },
      stop: () => res.closeAll(),
    };
  },
};

const pgWhy = postgresUnavailable();
/** The agent name the PostgreSQL stores of the suite run as. */
const AGENT_ID = 'conformance';

const postgres: Backend = {
  name: 'postgres',
  unavailable: pgWhy,
  auditStamp: { agent: AGENT_ID },
  writeBehind: false,
  async start() {
    const res = new Resources();
    const cluster: PgCluster = await startPostgres();
    res.add(() => cluster.stop());
    // Loaded here, so a PostgreSQL backend that does not load fails its own cases only.
    const { openPgStore } = await import('../../../agent/store/postgres/pg-store.js');
    const urls = new WeakMap<OpenStore, string>();
    const { PgConnection } = await import('../../../agent/store/postgres/pg-db.js');
    const { applyPgMigrations } = await import('../../../agent/store/postgres/pg-migrations.js');
    const urlOf = (name: string): string => cluster.url.replace(/\/postgres$/, `/${name}`);
    const maintenance = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
      const c = new pg.Client({ connectionString: cluster.url });
      await c.connect();
      try {
        return await fn(c);
      } finally {
        await c.end();
      }
    };
    /**
     * The template every case's database is copied from: text collation ICU `en-US` (a production
     * server's usual kind, unlike the cluster's C), so ORDER BY sorts case and punctuation unlike
     * SQLite's byte order and a query that forgets `COLLATE "C"` shows; migrations applied (copying it
     * is much faster than migrating each database; migrations-postgres.test.ts starts from empty ones),
     * but no site and no key check, so each store starts as the first agent of its database.
     * Without ICU, a C-collated template (and a warning).
     */
    const template = `conformance_template_${process.pid}`;
    await maintenance(async (c) => {
      try {
        await c.query(`CREATE DATABASE "${template}" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`);
      } catch (e) {
        console.warn(`store conformance: no ICU collation (${String(e)}); using C-collated databases`);
        await c.query(`CREATE DATABASE "${template}"`);
      }
    });
    const migrator = new PgConnection({ url: urlOf(template), agentId: 'template' });
    try {
      await applyPgMigrations(migrator);
    } finally {
      await migrator.close();
    }
    let dbCount = 0;
    const createDatabase = async (): Promise<string> => {
      const name = `conformance_${++dbCount}_${process.pid}`;
      await maintenance((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
      return urlOf(name);
    };
    const openAt = async (url: string, dataDir: string): Promise<OpenStore> => {
      const store: StoreApi = await openPgStore({ url, dataDir, agentId: AGENT_ID });
      let client: Promise<pg.Client> | undefined;
      const close = once(async () => {
        try {
          await store.close();
        } finally {
          if (client !== undefined) await (await client).end();
        }
      });
      res.add(close);
      const o: OpenStore = {
        store,
        dataDir,
        async raw<R>(sql: string, params: readonly unknown[] = []) {
          client ??= (async () => {
            const c = new pg.Client({ connectionString: url, types: PG_TYPES });
            await c.connect();
            return c;
          })();
          return (await (await client).query(dollarParams(sql), [...params])).rows as R[];
        },
        close,
      };
      urls.set(o, url);
      return o;
    };
    return {
      async open() {
        const dir = tempDir();
        res.add(() => rmSync(dir, { recursive: true, force: true }));
        return openAt(await createDatabase(), dir);
      },
      async reopen(s) {
        const url = urls.get(s);
        if (url === undefined) throw new Error('not a store of this backend');
        await s.close();
        return openAt(url, s.dataDir);
      },
      stop: () => res.closeAll(),
    };
  },
};

/** Every backend of the store contract. */
export const backends: readonly Backend[] = [sqlite, postgres];

if (pgWhy !== undefined) {
  console.warn(`store conformance: skipping the postgres backend: ${pgWhy}`);
}

/**
 * Starts `backend` for the enclosing `describe` (before its first case; stopped after its last) and
 * closes the stores each case opened after it. Call it inside a `describe.skipIf(backend.unavailable)`.
 */
export function useBackend(backend: Backend): { open(): Promise<OpenStore>; reopen(s: OpenStore): Promise<OpenStore> } {
  let running: RunningBackend | undefined;
  const opened: OpenStore[] = [];
  beforeAll(async () => {
    running = await backend.start();
  }, 60_000);
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });
  afterAll(async () => {
    await running?.stop();
  });
  const need = (): RunningBackend => {
    if (running === undefined) throw new Error(`${backend.name} backend did not start`);
    return running;
  };
  return {
    async open() {
      const s = await need().open();
      opened.push(s);
      return s;
    },
    async reopen(old) {
      const s = await need().reopen(old);
      opened.push(s);
      return s;
    },
  };
}
