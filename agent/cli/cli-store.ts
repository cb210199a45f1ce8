/**
 * Opening the agent's store from the CLI: one store per command, always
 * closed, and a clear error when the data directory does not exist yet
 * (instead of silently creating an empty database somewhere unexpected).
 */
import { existsSync } from 'node:fs';
import { HotdeskError } from '../core/errors.js';
import { openStore, type Store } from '../store/store.js';

/**
 * Opens the store in `dir`, runs `fn`, closes the store. Unless `create` is
 * set, a missing `dir` is a `not-found` error that says how to create it.
 */
export async function withStore<T>(dir: string, fn: (store: Store) => T | Promise<T>, options: { readonly create?: boolean } = {}): Promise<T> {
  if (options.create !== true && !existsSync(dir)) {
    throw new HotdeskError('not-found', `data directory ${dir} does not exist (run 'hotdesk import FILE --data ${dir}' first)`);
  }
  const store = openStore(dir);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
