/**
 * Opening the store contract (store-api.ts) from a store setting: no setting (or `sqlite`) is the
 * embedded SQLite store in the data directory; a `postgres://` or `postgresql://` URL is the shared
 * PostgreSQL store (postgres/pg-store.ts, loaded only then). The data key stays in the data
 * directory either way (`secret.key`). A URL may carry a password: it is never put in an error
 * message (store-url.ts).
 */
import { hostname } from 'node:os';
import { HotdeskError, isHotdeskError } from '../core/errors.js';
import { openSqliteStore } from './sqlite-store.js';
import type { StoreApi } from './store-api.js';
import { isPostgresUrl, isSqliteSetting, redactInText, redactStoreUrl } from './store-url.js';

export { isPostgresUrl, isSqliteSetting, redactInText, redactStoreUrl } from './store-url.js';

/** Options of {@link openStoreApi}. */
export interface OpenStoreApiOptions {
  /** `postgres://…` / `postgresql://…`, or absent (also empty or `sqlite`) for SQLite in `dataDir`. */
  readonly store?: string | undefined;
  /** The data directory: the SQLite database, or for PostgreSQL only the data key (`secret.key`). */
  readonly dataDir: string;
  /** This agent's name on PostgreSQL (audit rows, sync claims); default `cli@<host name>`. */
  readonly agentId?: string | undefined;
  /** The agent's pool on PostgreSQL (default `default`). */
  readonly pool?: string | undefined;
  /** Sync claim lease on PostgreSQL (ms, default 15 s). */
  readonly leaseMs?: number | undefined;
}

/** The PostgreSQL backend's module (loaded on demand, so SQLite-only runs never load `pg`). */
type PgStoreModule = typeof import('./postgres/pg-store.js');

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** True when the backend's own module file is not there (Node's and Vite's spellings), not one it imports. */
function isBackendMissing(e: unknown): boolean {
  const msg = errorText(e);
  if (!msg.includes('pg-store')) return false;
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /(cannot find|failed to load|does not exist|not found)/i.test(msg);
}

async function loadPgStore(): Promise<PgStoreModule> {
  let mod: PgStoreModule;
  try {
    mod = await import('./postgres/pg-store.js');
  } catch (e) {
    if (isBackendMissing(e)) {
      throw new HotdeskError(
        'storage-error',
        'PostgreSQL stores are not available in this build (agent/store/postgres/pg-store.js is missing)',
        {},
        { cause: e },
      );
    }
    throw new HotdeskError(
      'storage-error',
      `the PostgreSQL backend does not load (${e instanceof Error ? e.name : 'error'}); is the 'pg' package installed?`,
      {},
      { cause: e },
    );
  }
  return mod;
}

/**
 * Opens the store `o.store` names (see {@link OpenStoreApiOptions}). Throws `storage-error` for a
 * setting that is neither SQLite nor a PostgreSQL URL, when the PostgreSQL backend is missing, or
 * when the database cannot be opened; messages never hold the URL's password.
 */
export async function openStoreApi(o: OpenStoreApiOptions): Promise<StoreApi> {
  const store = o.store;
  if (isSqliteSetting(store)) return openSqliteStore(o.dataDir);
  if (!isPostgresUrl(store)) {
    throw new HotdeskError(
      'storage-error',
      `unsupported store ${redactStoreUrl(store ?? '')}: give a postgres:// or postgresql:// URL, or none for SQLite in the data directory`,
    );
  }
  const pg = await loadPgStore();
  const agentId = o.agentId ?? `cli@${hostname()}`;
  try {
    return await pg.openPgStore({
      url: store.trim(),
      dataDir: o.dataDir,
      agentId,
      ...(o.pool !== undefined ? { pool: o.pool } : {}),
      ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
    });
  } catch (e) {
    const where = redactStoreUrl(store);
    if (isHotdeskError(e)) throw new HotdeskError(e.code, redactInText(e.message, store), redactDetail(e.detail, store));
    throw new HotdeskError('storage-error', `cannot open the PostgreSQL store ${where}: ${redactInText(errorText(e), store)}`, { store: where });
  }
}

function redactDetail(detail: Readonly<Record<string, unknown>>, url: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(detail)) out[k] = typeof v === 'string' ? redactInText(v, url) : v;
  return out;
}
