/**
 * `hotdesk backup FILE` and `hotdesk restore FILE`: a consistent copy of the
 * data directory's database (online, while the agent serves) with the site's
 * template overrides, and the data key only when asked (store/backup.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HotdeskError } from '../core/errors.js';
import { backupDataDir, restoreDataDir, type BackupSummary } from '../store/backup.js';
import {
  COMMON_HELP,
  EXIT,
  JSON_OPTION,
  STORE_OPTION,
  dataDir,
  defineCommand,
  optFlag,
  optString,
  printJson,
  storeSetting,
  type Command,
  type Io,
  type Parsed,
} from './cli-kit.js';

const backupHelp = `Usage: hotdesk backup FILE [--with-key] [--json] [--data DIR]

Write a consistent backup of the data directory to FILE: the database (users,
phones, sessions, PIN lock counters, audit log, site settings) copied with
SQLite's online backup while the agent keeps serving, and the site's template
overrides (<data>/templates). Firmware images and phone uploads are not included.
A PostgreSQL store (--store or $HOTDESK_STORE) is refused: back it up with
pg_dump, and keep a copy of the data key (secret.key) apart.

Secrets in the database stay sealed with the data key (secret.key). By default
the key is NOT written into FILE: keep one copy of secret.key apart from the
backups (it never changes), and give it to 'hotdesk restore --key'. With
--with-key FILE holds the key too and must be kept like a password.

Options:
  --with-key   include the data key (a self-contained backup)
  --json       print {"ok": true, file, bytes, keyIncluded, templates, phones, users, sessions}
  --service    as a service: data directory $STATE_DIRECTORY or /var/lib/hotdesk
  --store URL  refused unless SQLite (default: $HOTDESK_STORE, else SQLite)
${COMMON_HELP}

Examples:
  hotdesk backup /var/backups/hotdesk-$(date +%F).sqlite --data /var/lib/hotdesk
  hotdesk backup site.sqlite --with-key
`;

const restoreHelp = `Usage: hotdesk restore FILE [--key KEYFILE] [--force] [--json] [--data DIR]

Restore a backup written by 'hotdesk backup' into the data directory. FILE is
checked first (a hotdesk backup whose secrets the data key opens); on any
problem nothing is changed. A data directory that is not empty is refused
unless --force (stop the agent first: --force replaces its database, key and
template overrides). Then start the agent on it. A PostgreSQL store (--store
or $HOTDESK_STORE) is refused: restore it with pg_restore or psql.

Options:
  --key KEYFILE  the data key (a copy of secret.key) when FILE holds none
  --force        replace the contents of a non-empty data directory
  --json         print {"ok": true, file, bytes, keyIncluded, templates, phones, users, sessions}
  --service      as a service: data directory $STATE_DIRECTORY or /var/lib/hotdesk
  --store URL    refused unless SQLite (default: $HOTDESK_STORE, else SQLite)
${COMMON_HELP}

Exit codes: 0 restored, 1 not a backup / wrong key / not empty / storage error, 2 usage error.
`;

/** Backup and restore copy the SQLite store: a PostgreSQL store is refused (pg_dump is its tool). */
function requireSqlite(p: Parsed, io: Io, what: 'backup' | 'restore'): void {
  if (storeSetting(p, io) === undefined) return;
  throw new HotdeskError(
    'bad-request',
    what === 'backup'
      ? "'hotdesk backup' copies the SQLite store only: back up a PostgreSQL store with pg_dump (and keep a copy of secret.key)"
      : "'hotdesk restore' restores the SQLite store only: restore a PostgreSQL store with pg_restore or psql",
  );
}

function describe(s: BackupSummary): string {
  return `${s.phones} phones, ${s.users} users, ${s.sessions} sessions, ${s.templates} template overrides`;
}

/** `hotdesk backup`. */
export const backupCommand: Command = defineCommand(
  {
    name: 'backup',
    help: backupHelp,
    options: { ...JSON_OPTION, ...STORE_OPTION, 'with-key': { type: 'boolean' }, service: { type: 'boolean' } },
    positionals: { min: 1, max: 1, what: 'FILE' },
  },
  async (p, io) => {
    requireSqlite(p, io, 'backup');
    const file = resolve(io.cwd, p.positionals[0] ?? '');
    const summary = await backupDataDir(dataDir(p, io), file, { withKey: optFlag(p, 'with-key') });
    if (optFlag(p, 'json')) printJson(io, { ok: true, ...summary });
    else {
      io.out(`backup written: ${summary.file} (${summary.bytes} bytes; ${describe(summary)})\n`);
      io.out(
        summary.keyIncluded
          ? 'the data key is inside: keep this file like a password\n'
          : 'the data key is NOT inside: restoring needs a copy of secret.key (--key)\n',
      );
    }
    return EXIT.ok;
  },
);

/** `hotdesk restore`. */
export const restoreCommand: Command = defineCommand(
  {
    name: 'restore',
    help: restoreHelp,
    options: { ...JSON_OPTION, ...STORE_OPTION, key: { type: 'string' }, force: { type: 'boolean' }, service: { type: 'boolean' } },
    positionals: { min: 1, max: 1, what: 'FILE' },
  },
  (p, io) => {
    requireSqlite(p, io, 'restore');
    const file = resolve(io.cwd, p.positionals[0] ?? '');
    const keyFile = optString(p, 'key');
    let key: Buffer | undefined;
    if (keyFile !== undefined) {
      try {
        key = readFileSync(resolve(io.cwd, keyFile));
      } catch (e) {
        throw new HotdeskError('not-found', `cannot read the key file ${keyFile}`, {}, { cause: e });
      }
    }
    const dir = dataDir(p, io);
    const summary = restoreDataDir(file, dir, { ...(key ? { key } : {}), force: optFlag(p, 'force') });
    if (optFlag(p, 'json')) printJson(io, { ok: true, dataDir: dir, ...summary });
    else io.out(`restored ${summary.file} into ${dir} (${describe(summary)})\n`);
    return EXIT.ok;
  },
);
