/** A store with the demo directory imported through the async contract, for the directory tests. */
import { importDirectory } from '../../agent/directory/import-directory.js';
import { sqliteStore, type SqliteStoreApi } from '../../agent/store/sqlite-store.js';
import { openStore, type Store } from '../../agent/store/store.js';
import { demoDirectory, tempDir } from '../store/helpers.js';

/** A fresh store: `store` synchronous (setup, asserts), `api` the contract over it; remove with `cleanup`. */
export interface DirectoryFixture {
  readonly store: Store;
  readonly api: SqliteStoreApi;
  readonly dir: string;
  cleanup(): void;
}

/** An empty store in a fresh temp dir. */
export function emptyStore(): DirectoryFixture {
  const t = tempDir('hotdesk-directory-');
  const store = openStore(t.dir);
  return {
    store,
    api: sqliteStore(store),
    dir: t.dir,
    cleanup: () => {
      if (store.db.open) store.close();
      t.cleanup();
    },
  };
}

/** A store with examples/demo.yaml imported at `now`. */
export async function demoFixture(now = 1_700_000_000_000): Promise<DirectoryFixture> {
  const f = emptyStore();
  try {
    await importDirectory(f.api, demoDirectory(), now);
  } catch (e) {
    f.cleanup();
    throw e;
  }
  return f;
}
