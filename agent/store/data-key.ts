/**
 * The agent's data key: 32 random bytes in `<data>/secret.key`, mode 0600,
 * created on first start. Secrets in the database are sealed with it
 * (secret-box.ts); losing it makes the stored secrets unreadable.
 */
import { chmodSync, closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { HotdeskError } from '../core/errors.js';
import { DATA_KEY_BYTES } from './secret-box.js';

/** File name of the data key inside the data directory. */
export const SECRET_KEY_FILE = 'secret.key';

/** The loaded key and what had to be done to it. */
export interface DataKey {
  readonly key: Buffer;
  /** The file was created now. */
  readonly created: boolean;
  /** The file was readable by group/others and has been chmod-ed to 0600. */
  readonly permissionsFixed: boolean;
}

/**
 * Loads `<dataDir>/secret.key`, creating it (exclusive create, mode 0600)
 * when missing. A key file with looser permissions is chmod-ed to 0600 and
 * reported through `permissionsFixed`. Throws `storage-error` when the file
 * is not exactly 32 bytes.
 */
export function loadOrCreateDataKey(dataDir: string): DataKey {
  const path = join(dataDir, SECRET_KEY_FILE);
  let created = false;
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(DATA_KEY_BYTES));
    } finally {
      closeSync(fd);
    }
    created = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new HotdeskError('storage-error', `cannot create ${SECRET_KEY_FILE} in the data directory`, { path }, { cause: e });
    }
  }
  let permissionsFixed = false;
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    chmodSync(path, 0o600);
    permissionsFixed = true;
  }
  const key = readFileSync(path);
  if (key.length !== DATA_KEY_BYTES) {
    throw new HotdeskError('storage-error', `${SECRET_KEY_FILE} must hold exactly ${DATA_KEY_BYTES} bytes`, { path });
  }
  return { key, created, permissionsFixed };
}
