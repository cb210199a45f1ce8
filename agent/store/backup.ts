/**
 * Backup and restore of a data directory.
 *
 * A backup is ONE SQLite file: a consistent copy of `hotdesk.sqlite` made with
 * SQLite's online backup API (better-sqlite3 `db.backup()`, copied in a single
 * step, so it is one read snapshot; in WAL mode the serving agent keeps
 * writing meanwhile), plus a table `hotdesk_backup` holding the format tag,
 * the site's template overrides (`templates/...`) and, only with `withKey`,
 * the data key (`secret.key`).
 *
 * Secrets in the database are sealed with the data key (secret-box.ts): a
 * backup without the key is useless to a thief and useless to a restore
 * without a separate copy of `secret.key`. Firmware images and uploads are
 * not included (plain files: copy them with the file system).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import Database from 'better-sqlite3';
import { HotdeskError } from '../core/errors.js';
import { SECRET_KEY_FILE } from './data-key.js';
import { DATA_KEY_BYTES } from './secret-box.js';
import { siteFromRow } from './store-rows.js';
import { DB_FILE, openStore } from './store.js';

/** Format tag written into every backup. */
export const BACKUP_FORMAT = 'hotdesk-backup-1';
const META_TABLE = 'hotdesk_backup';

/** What a backup or restore did. */
export interface BackupSummary {
  readonly file: string;
  readonly bytes: number;
  readonly keyIncluded: boolean;
  readonly templates: number;
  readonly phones: number;
  readonly users: number;
  readonly sessions: number;
}

function counts(db: Database.Database): { phones: number; users: number; sessions: number } {
  const n = (t: string): number => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
  return { phones: n('phones'), users: n('users'), sessions: n('sessions') };
}

function listFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/**
 * Writes a backup of the data directory `dataDir` to `file` (written to a
 * temporary name first, then renamed: an existing `file` is replaced only by a
 * complete backup). Safe while an agent serves from `dataDir`, from another process.
 */
export async function backupDataDir(dataDir: string, file: string, options: { readonly withKey: boolean }): Promise<BackupSummary> {
  const src = join(dataDir, DB_FILE);
  if (!existsSync(src)) throw new HotdeskError('not-found', `no database in ${dataDir}`, { dataDir });
  const target = resolve(file);
  if (!existsSync(dirname(target))) throw new HotdeskError('not-found', `the directory of ${target} does not exist`, { file: target });
  const tmp = `${target}.partial-${process.pid}`;
  rmSync(tmp, { force: true });
  const db = new Database(src, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // One step copies every page under one read lock: a consistent snapshot even while the agent writes.
    await db.backup(tmp, { progress: () => 0x7fffffff });
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new HotdeskError('storage-error', 'the online backup failed', { dataDir }, { cause: e });
  } finally {
    db.close();
  }
  let summary: Omit<BackupSummary, 'file' | 'bytes'>;
  try {
    const copy = new Database(tmp);
    try {
      copy.pragma('journal_mode = DELETE'); // a self-contained single file
      copy.exec(`CREATE TABLE ${META_TABLE} (name TEXT PRIMARY KEY, data BLOB NOT NULL)`);
      const put = copy.prepare(`INSERT INTO ${META_TABLE} (name, data) VALUES (?, ?)`);
      const templateRoot = join(dataDir, 'templates');
      const templates = listFiles(templateRoot);
      copy.transaction(() => {
        put.run('format', Buffer.from(BACKUP_FORMAT));
        put.run('created-at', Buffer.from(new Date().toISOString()));
        for (const t of templates) put.run(`templates/${relative(templateRoot, t).split(sep).join('/')}`, readFileSync(t));
        if (options.withKey) put.run(SECRET_KEY_FILE, readFileSync(join(dataDir, SECRET_KEY_FILE)));
      })();
      summary = { keyIncluded: options.withKey, templates: templates.length, ...counts(copy) };
    } finally {
      copy.close();
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof HotdeskError) throw e;
    throw new HotdeskError('storage-error', 'could not finish the backup file', { file: target }, { cause: e });
  }
  return { file: target, bytes: statSync(target).size, ...summary };
}

/** Options of {@link restoreDataDir}. */
export interface RestoreOptions {
  /** The data key when the backup does not include it (contents of a `secret.key` copy). */
  readonly key?: Buffer;
  /** Replace the database, key and templates of a non-empty data directory. */
  readonly force?: boolean;
}

function readMeta(file: string): Map<string, Buffer> {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new HotdeskError('backup-invalid', `cannot open ${file} as a backup`, { file }, { cause: e });
  }
  try {
    const rows = db.prepare(`SELECT name, data FROM ${META_TABLE}`).all() as { name: string; data: Buffer }[];
    const meta = new Map(rows.map((r) => [r.name, Buffer.from(r.data)]));
    if (meta.get('format')?.toString() !== BACKUP_FORMAT) throw new Error('format tag');
    return meta;
  } catch (e) {
    throw new HotdeskError('backup-invalid', `${file} is not a hotdesk backup (written by 'hotdesk backup')`, { file }, { cause: e });
  } finally {
    db.close();
  }
}

/**
 * Restores `file` into `dataDir`: checks first that it is a backup and that
 * the key (included or `options.key`) opens its secrets; refuses a non-empty
 * `dataDir` without `force`. Nothing is changed in `dataDir` when a check fails.
 * No agent may be serving from `dataDir` meanwhile.
 */
export function restoreDataDir(file: string, dataDir: string, options: RestoreOptions = {}): BackupSummary {
  if (!existsSync(file)) throw new HotdeskError('not-found', `no such backup file ${file}`, { file });
  const meta = readMeta(file);
  const key = meta.get(SECRET_KEY_FILE) ?? options.key;
  if (key === undefined)
    throw new HotdeskError('backup-invalid', 'this backup holds no data key: give --key FILE (the copy of secret.key kept with the backups)', { file });
  if (key.length !== DATA_KEY_BYTES) throw new HotdeskError('backup-invalid', `a data key is exactly ${DATA_KEY_BYTES} bytes`, { file });
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0 && options.force !== true) {
    throw new HotdeskError(
      'data-dir-not-empty',
      `${dataDir} is not empty; nothing was changed (stop the agent, then --force replaces its database, key and templates)`,
      { dataDir },
    );
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const staging = join(dataDir, `.restore-${process.pid}.sqlite`);
  copyFileSync(file, staging);
  let summary: Omit<BackupSummary, 'file' | 'bytes'>;
  try {
    const db = new Database(staging);
    try {
      const site = db.prepare('SELECT settings, secrets_enc FROM site WHERE id = 1').get() as { settings: string; secrets_enc: string } | undefined;
      if (!site) throw new HotdeskError('backup-invalid', 'the backup holds no site settings', { file });
      try {
        siteFromRow(key, site.settings, site.secrets_enc);
      } catch (e) {
        throw new HotdeskError('backup-invalid', 'the data key does not open this backup (wrong secret.key?)', { file }, { cause: e });
      }
      db.exec(`DROP TABLE ${META_TABLE}`);
      db.pragma('journal_mode = WAL');
      summary = { keyIncluded: meta.has(SECRET_KEY_FILE), templates: [...meta.keys()].filter((k) => k.startsWith('templates/')).length, ...counts(db) };
    } finally {
      db.close();
    }
  } catch (e) {
    rmSync(staging, { force: true });
    throw e;
  }
  for (const f of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`]) rmSync(join(dataDir, f), { force: true });
  renameSync(staging, join(dataDir, DB_FILE));
  writeFileSync(join(dataDir, SECRET_KEY_FILE), key, { mode: 0o600 });
  chmodSync(join(dataDir, SECRET_KEY_FILE), 0o600);
  const templateRoot = join(dataDir, 'templates');
  if (options.force === true) rmSync(templateRoot, { recursive: true, force: true });
  for (const [name, data] of meta) {
    if (!name.startsWith('templates/')) continue;
    const rel = name.slice('templates/'.length);
    const dest = resolve(templateRoot, rel);
    if (!dest.startsWith(templateRoot + sep)) continue; // never write outside the templates directory
    mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
    writeFileSync(dest, data, { mode: 0o640 });
  }
  // Migrations of an older backup run now, with the restored key.
  openStore(dataDir).close();
  return { file: resolve(file), bytes: statSync(join(dataDir, DB_FILE)).size, ...summary };
}
