/**
 * Opening the agent's store from the CLI: one store per command, always
 * closed, and a clear error when the data directory does not exist yet
 * (instead of silently creating an empty database somewhere unexpected).
 * The store is SQLite in the data directory, or PostgreSQL when `--store`
 * (or `$HOTDESK_STORE`) gives a `postgres://` URL (cli-kit.ts `storeSetting`);
 * the data directory then holds the data key.
 */
import { existsSync } from 'node:fs';
import { HotdeskError } from '../core/errors.js';
import { openStoreApi } from '../store/open-store-api.js';
import type { StoreApi } from '../store/store-api.js';

/** Options of {@link withStore}. */
export interface WithStoreOptions {
  /** Create the data directory (and store) when missing (`import`, `admin add`). */
  readonly create?: boolean;
  /** The store setting (cli-kit.ts `storeSetting`): a PostgreSQL URL, or undefined for SQLite in `dir`. */
  readonly store?: string | undefined;
}

/**
 * Opens the store (in `dir`, or `options.store`), runs `fn`, closes the store.
 * Unless `create` is set, a missing `dir` is a `not-found` error that says how
 * to create it.
 */
export async function withStore<T>(dir: string, fn: (store: StoreApi) => T | Promise<T>, options: WithStoreOptions = {}): Promise<T> {
  if (options.create !== true && !existsSync(dir)) {
    const what = options.store === undefined ? 'data directory' : 'data directory (it holds the data key, secret.key)';
    throw new HotdeskError('not-found', `${what} ${dir} does not exist (run 'hotdesk import FILE --data ${dir}' first)`);
  }
  // Opening SQLite waits synchronously for the write lock: let an in-process agent (tests, `doctor`
  // run in the agent's process) finish the transaction it has open first.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const store = await openStoreApi({ store: options.store, dataDir: dir });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
