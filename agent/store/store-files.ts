/**
 * The store's files in the data directory: creating the directory, the data
 * key (`secret.key`, data-key.ts) and opening `hotdesk.sqlite` with the
 * agent's pragmas and migrations (used by openStore in store.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HotdeskError } from '../core/errors.js';
import { loadOrCreateDataKey } from './data-key.js';
import { applyMigrations } from './migrations.js';

/** File name of the database inside the data directory. */
export const DB_FILE = 'hotdesk.sqlite';

/** Opens the database file with the agent's pragmas (WAL checkpointed every 10,000 pages, busy_timeout 5000, foreign keys). */
export function openDatabase(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  // A checkpoint (copying the log back into the database, with an fsync) runs inside the commit that
  // crosses this many log pages: 10,000 pages (about 40 MB of log) instead of SQLite's 1,000 makes it
  // ten times rarer on the serving thread; a process crash loses no commit either way (WAL, synchronous NORMAL).
  db.pragma('wal_autocheckpoint = 10000');
  return db;
}

/**
 * Creates `dataDir` when needed, loads (or creates, mode 0600) the data key
 * and opens the database with its migrations applied. Throws `storage-error`
 * when the database cannot be opened or is newer than this agent.
 */
export function openStoreFiles(dataDir: string): { db: Database.Database; key: Buffer; warnings: string[] } {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new HotdeskError('storage-error', 'cannot create the data directory', { dataDir }, { cause: e });
  }
  const { key, permissionsFixed } = loadOrCreateDataKey(dataDir);
  let db: Database.Database;
  try {
    db = openDatabase(join(dataDir, DB_FILE));
    applyMigrations(db);
  } catch (e) {
    if (e instanceof HotdeskError) throw e;
    throw new HotdeskError('storage-error', 'cannot open the database', { dataDir }, { cause: e });
  }
  const warnings = permissionsFixed ? ['secret.key was readable by other users; its mode was set to 0600'] : [];
  return { db, key, warnings };
}
