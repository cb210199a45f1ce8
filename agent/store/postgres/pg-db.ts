/**
 * The PostgreSQL connection the store's query modules use: statements with `$n` parameters that join
 * the transaction open in the current async context (AsyncLocalStorage), transactions with savepoints
 * when nested, and a retry of the whole transaction on a serialization failure or deadlock.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { HotdeskError } from '../../core/errors.js';

/** Isolation of a transaction: decisions are SERIALIZABLE; queue claims use READ COMMITTED with `SKIP LOCKED`. */
export type Isolation = 'serializable' | 'read committed';

/** What the query modules need of the database. */
export interface PgDb {
  /** This agent's name (recorded on audit rows and sync claims). */
  readonly agentId: string;
  /** Runs one statement, inside the current transaction when one is open; returns its rows. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** The first row of {@link query}, or undefined. */
  one<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R | undefined>;
  /** The number of rows a statement changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Runs `fn` in one transaction (default SERIALIZABLE): nested calls become savepoints; the outermost
   * is re-run on a serialization failure (40001) or deadlock (40P01), a few times with jitter.
   */
  transaction<T>(fn: () => Promise<T>, isolation?: Isolation): Promise<T>;
  /** Inside a transaction: runs `fn` after the outermost commit (never on rollback); outside: at once. */
  afterCommit(fn: () => void): void;
}

/** How many times the outermost transaction is re-run after a serialization failure or deadlock. */
export const MAX_TRANSACTION_RETRIES = 12;

/** PostgreSQL's OIDs of `int8` and `int8[]`. */
const INT8 = 20;
const INT8_ARRAY = 1016;

/** `pg`'s own parser of a type (typed loosely: its `TypeId` enum lists no array types). */
const defaultParser = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (v: string) => unknown;

/** Type parsers of the pool: `int8` (counts, epoch ms, identity ids) as a JS number, the rest as `pg` parses them. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary' && oid === INT8) return (v: string) => Number(v);
    if (format !== 'binary' && oid === INT8_ARRAY) {
      const strings = defaultParser(INT8_ARRAY, 'text') as (v: string) => (string | null)[];
      return (v: string) => strings(v).map((x) => (x === null ? null : Number(x)));
    }
    return defaultParser(oid, format ?? 'text');
  }) as typeof pg.types.getTypeParser,
};

/** True for a serialization failure (40001) or a deadlock (40P01): the transaction may succeed when re-run. */
export function isRetryable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

/** True when `e` says the database cannot be reached or the connection is gone (not an SQL error of the statement). */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    // 08: connection exception; 28: authorization; 3D000: no such database; 53300: too many connections;
    // 57P01-57P03: shutdown / cannot connect now; E...: a socket error (ECONNREFUSED, ENOTFOUND, ...).
    if (/^(08|28)/.test(code) || ['3D000', '53300', '57P01', '57P02', '57P03'].includes(code) || /^E[A-Z]+$/.test(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return false;
  }
  const message = e instanceof Error ? e.message : '';
  return /connection terminated|connection timeout|timeout exceeded when trying to connect|connection error|not queryable|Client was closed/i.test(message);
}

/** `url` with its password replaced by `***` (URL form, or `password=` in a key/value connection string). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/(password\s*=\s*)('[^']*'|\S+)/gi, '$1***');
  }
}

/** The password in `url` (decoded), or undefined. */
function passwordOf(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p === '' ? undefined : decodeURIComponent(p);
  } catch {
    return /password\s*=\s*'?([^'\s]+)/i.exec(url)?.[1];
  }
}

/** One transaction level: the outermost transaction or a savepoint inside it. */
interface Level {
  readonly conn: PgConnection;
  readonly parent: Level | undefined;
  readonly root: Root;
  /** After-commit hooks registered at this level (handed to the parent when a savepoint is released). */
  readonly hooks: (() => void)[];
  /** Savepoints opened at this level run one after another (they share one connection). */
  chain: Promise<void>;
  /** False once the level has ended: statements from late continuations then go to the parent (or the pool). */
  active: boolean;
}

/** What all levels of one transaction share. */
interface Root {
  readonly client: pg.PoolClient;
  /** False once the connection went back to the pool: a late savepoint must not run on it. */
  open: boolean;
  /** Savepoint names handed out so far. */
  savepoints: number;
  /** A serialization failure or deadlock seen inside: the whole transaction is re-run even if `fn` caught it. */
  doomed: unknown;
  /** Statements of the transaction run one after another (`Promise.all` inside `fn` is fine). */
  queue: Promise<unknown>;
}

const context = new AsyncLocalStorage<Level>();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const noop = (): void => {};

/** Options of {@link PgConnection}. */
export interface PgConnectionOptions {
  /** `postgres://user:password@host:port/database` (or any connection string `pg` accepts). */
  readonly url: string;
  /** This agent's name. */
  readonly agentId: string;
  /** Connections in the pool (default 10). */
  readonly max?: number;
  /** Milliseconds to wait for a connection before failing (default 10 000). */
  readonly connectTimeoutMs?: number;
}

/**
 * {@link PgDb} over a `pg.Pool`. `int8` values arrive as numbers. Errors that mean the database is out
 * of reach become `storage-error` (the URL's password redacted); SQL errors pass through unchanged, so
 * callers see PostgreSQL's SQLSTATE in `code` (`isConflict` in store-api.ts).
 */
export class PgConnection implements PgDb {
  readonly agentId: string;
  /** The connection URL with its password redacted (for messages). */
  readonly safeUrl: string;
  private readonly pool: pg.Pool;
  private readonly password: string | undefined;
  private closing: Promise<void> | undefined;

  constructor(o: PgConnectionOptions) {
    this.agentId = o.agentId;
    this.safeUrl = redactUrl(o.url);
    this.password = passwordOf(o.url);
    this.pool = new pg.Pool({
      connectionString: o.url,
      max: o.max ?? 10,
      connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000,
      application_name: `hotdesk ${o.agentId}`.slice(0, 63),
      // Every statement of the agent looks rows up by key. Under SERIALIZABLE a sequential scan takes a
      // predicate lock on the whole table, which makes unrelated decisions conflict on small tables;
      // index scans lock only what they read (PostgreSQL 15 manual, 13.2.3 Serializable Isolation Level).
      options: '-c enable_seqscan=off',
      types: TYPES,
    });
    // An idle connection the server dropped: the pool discards it; the next statement reports any lasting failure.
    this.pool.on('error', noop);
  }

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return (await this.exec(sql, params)).rows as R[];
  }

  async one<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R | undefined> {
    return (await this.exec(sql, params)).rows[0] as R | undefined;
  }

  async run(sql: string, params?: readonly unknown[]): Promise<number> {
    return (await this.exec(sql, params)).rowCount ?? 0;
  }

  /** True while the caller runs inside one of this connection's transactions. */
  inTransaction(): boolean {
    return this.current() !== undefined;
  }

  transaction<T>(fn: () => Promise<T>, isolation: Isolation = 'serializable'): Promise<T> {
    const level = this.current();
    return level ? this.savepoint(level, fn) : this.outermost(fn, isolation);
  }

  afterCommit(fn: () => void): void {
    const level = this.current();
    if (level) level.hooks.push(fn);
    else runHook(fn);
  }

  /** Ends the pool: waits for connections in use to be released, then closes them all. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.pool.end().catch(noop);
    return this.closing;
  }

  /** The innermost active level of this connection in the current async context. */
  private current(): Level | undefined {
    let level = context.getStore();
    if (level === undefined || level.conn !== this) return undefined;
    while (level !== undefined && !level.active) level = level.parent;
    return level;
  }

  /** Runs a statement in the current transaction (or on any pooled connection). */
  private async exec(sql: string, params: readonly unknown[] | undefined): Promise<pg.QueryResult> {
    const level = this.current();
    if (level) return this.onClient(level.root, sql, params);
    if (this.closing) throw this.closedError();
    try {
      return await this.pool.query(sql, params as unknown[] | undefined);
    } catch (e) {
      throw this.wrap(e);
    }
  }

  /** Runs a statement on the transaction's connection, remembering a serialization failure. */
  private async onClient(root: Root, sql: string, params?: readonly unknown[]): Promise<pg.QueryResult> {
    if (!root.open) throw new Error('the transaction has ended: a nested transaction outlived it (await nested work inside the transaction)');
    const run = (): Promise<pg.QueryResult> => root.client.query(sql, params as unknown[] | undefined);
    const result = root.queue.then(run, run);
    root.queue = result.catch(noop);
    try {
      return await result;
    } catch (e) {
      if (isRetryable(e)) root.doomed ??= e;
      throw this.wrap(e);
    }
  }

  private async savepoint<T>(parent: Level, fn: () => Promise<T>): Promise<T> {
    const step = async (): Promise<T> => {
      const name = `hd_sp_${++parent.root.savepoints}`;
      await this.onClient(parent.root, `SAVEPOINT ${name}`);
      const level: Level = { conn: this, parent, root: parent.root, hooks: [], chain: Promise.resolve(), active: true };
      let value: T;
      try {
        value = await context.run(level, fn);
      } catch (e) {
        level.active = false;
        await this.onClient(parent.root, `ROLLBACK TO SAVEPOINT ${name}`).catch(noop);
        await this.onClient(parent.root, `RELEASE SAVEPOINT ${name}`).catch(noop);
        throw e;
      }
      level.active = false;
      await this.onClient(parent.root, `RELEASE SAVEPOINT ${name}`);
      parent.hooks.push(...level.hooks);
      return value;
    };
    const result = parent.chain.then(step, step);
    parent.chain = result.then(noop, noop);
    return result;
  }

  private async outermost<T>(fn: () => Promise<T>, isolation: Isolation): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.closing) throw this.closedError();
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (e) {
        throw this.wrap(e);
      }
      let broken: Error | undefined;
      const root: Root = { client, open: true, savepoints: 0, doomed: undefined, queue: Promise.resolve() };
      // A connection the server ends mid-transaction (restart, admin shutdown) emits 'error': the pool
      // listens only while the connection is idle, so listen here, or the process would crash.
      const onError = (e: Error): void => {
        broken ??= e;
      };
      client.on('error', onError);
      const level: Level = { conn: this, parent: undefined, root, hooks: [], chain: Promise.resolve(), active: true };
      let begun = false;
      let committed = false;
      let value: T | undefined;
      let failure: unknown;
      try {
        await this.onClient(root, `BEGIN ISOLATION LEVEL ${isolation === 'serializable' ? 'SERIALIZABLE' : 'READ COMMITTED'}`);
        begun = true;
        value = await context.run(level, fn);
        level.active = false;
        if (root.doomed !== undefined) throw root.doomed;
        await this.onClient(root, 'COMMIT');
        committed = true;
      } catch (e) {
        level.active = false;
        failure = e;
        await client.query('ROLLBACK').catch((re: unknown) => {
          broken = re instanceof Error ? re : new Error(String(re));
        });
      } finally {
        root.open = false;
        client.off('error', onError);
        client.release(broken);
      }
      if (committed) {
        for (const hook of level.hooks) runHook(hook);
        return value as T;
      }
      const cause = root.doomed ?? failure;
      // Re-run after a serialization failure or deadlock; also when a pooled connection turned out dead (BEGIN failed).
      const again = isRetryable(cause) || !begun;
      if (!again || attempt >= MAX_TRANSACTION_RETRIES) throw isRetryable(cause) ? cause : failure;
      // Randomised exponential backoff (1 ms up to 2^attempt × 2 ms, at most 250 ms), so retries spread out.
      await sleep(1 + Math.floor(Math.random() * Math.min(250, 2 ** (attempt + 1))));
    }
  }

  /** A connection failure as `store-unavailable` (`storage-error` for wrong credentials or database; password redacted); anything else unchanged. */
  private wrap(e: unknown): unknown {
    if (e instanceof HotdeskError) return e;
    if ((e as Error | null)?.message === 'Cannot use a pool after calling end on the pool') return this.closedError();
    if (!isConnectionError(e)) return e;
    const code = (e as { code?: unknown }).code;
    let reason = e instanceof Error && e.message !== '' ? e.message : typeof code === 'string' ? code : String(e);
    if (this.password !== undefined && this.password.length >= 3) reason = reason.split(this.password).join('***');
    // Wrong credentials or database name are configuration errors; anything else is the database not answering now.
    const misconfigured = typeof code === 'string' && (code.startsWith('28') || code === '3D000');
    return new HotdeskError(
      misconfigured ? 'storage-error' : 'store-unavailable',
      `PostgreSQL at ${this.safeUrl} is not available: ${reason}`,
      { url: this.safeUrl },
      { cause: e },
    );
  }

  private closedError(): HotdeskError {
    return new HotdeskError('storage-error', 'the PostgreSQL store is closed', { url: this.safeUrl });
  }
}

/** Runs an after-commit hook; its failure must not fail (or undo) a committed transaction. */
function runHook(fn: () => void): void {
  try {
    fn();
  } catch {
    // ignored: the transaction is committed
  }
}
