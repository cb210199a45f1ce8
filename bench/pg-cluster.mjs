// A throwaway PostgreSQL server for the bench's "two agents on PostgreSQL" row:
// Debian's `postgresql` package (/usr/lib/postgresql/<version>/bin), a fresh
// `initdb` in its own temp dir, a server on a free 127.0.0.1 port, stopped and
// removed by `stop()`. As root every PostgreSQL program runs as the OS user
// `postgres` through runuser (the server refuses to run as root).
//
// Unlike the test suite's cluster (test/helpers/postgres.ts, no fsync), this one
// is durable as in production: fsync, synchronous_commit and full_page_writes
// stay on, so every acknowledged commit has waited for its WAL flush to the
// disk. Only initdb runs with --no-sync (it builds an empty cluster once; it
// says nothing about commits).
//
// A detached watchdog stops the server and removes the dir if the bench dies
// without calling `stop()` (kill -9, Ctrl-C between two awaits).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './lib.mjs';

const PG_OS_USER = 'postgres';
const SUPERUSER = 'postgres';

/**
 * Server settings: PostgreSQL's durable defaults (fsync, synchronous_commit,
 * full_page_writes on; written out so the run says what it measured), a
 * buffer cache that holds the whole bench database, and no logging of
 * statements. Errors (serialization failures included) go to the server log.
 */
export const PG_SETTINGS = {
  fsync: 'on',
  synchronous_commit: 'on',
  full_page_writes: 'on',
  wal_level: 'replica',
  shared_buffers: '256MB',
  max_connections: 100,
  listen_addresses: '127.0.0.1',
  logging_collector: 'off',
  log_min_messages: 'warning',
  log_min_error_statement: 'error',
  // for the bench's profile: time spent writing and fsyncing WAL (pg_stat_wal.wal_sync_time)
  track_wal_io_timing: 'on',
};

/** Directory holding initdb, pg_ctl and postgres (newest version), or null. */
export function pgBinDir() {
  let versions = [];
  try {
    versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    return null;
  }
  for (const v of versions) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(dir, b)))) return dir;
  }
  return null;
}

const asRoot = () => process.getuid?.() === 0;

/** The command line running a PostgreSQL program as the right OS user. */
const asPgUser = (bin, args) => (asRoot() ? ['runuser', ['-u', PG_OS_USER, '--', bin, ...args]] : [bin, args]);

function exec(file, args, cwd = '/') {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`.slice(0, 4000)));
      else resolve(stdout);
    });
  });
}

/**
 * Starts a fresh server (`settings` adds to or overrides {@link PG_SETTINGS}). Resolves to `{ url(db), port, version, dataDir, createDatabase(name),
 * query(sql), pids(), cpuSeconds(), log(), stop() }`; `stop()` is safe to call twice.
 */
export async function startPgCluster({ log = () => {}, settings: extra = {} } = {}) {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin (apt-get install postgresql)');
  const version = execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' })
    .trim()
    .replace(/^postgres \(PostgreSQL\) /, '');
  const dir = mkdtempSync(join(os.tmpdir(), 'hotdesk-bench-pg-'));
  if (asRoot()) {
    const id = (flag) => Number(execFileSync('id', [flag, PG_OS_USER], { encoding: 'utf8' }).trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const pgCtl = join(bin, 'pg_ctl');
  const stopCmd = asPgUser(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
  // the watchdog: waits for this process to end, then stops the server and removes the dir
  const watchdog = spawn(
    'sh',
    [
      '-c',
      'p=$1 d=$2; shift 2; while kill -0 "$p" 2>/dev/null; do sleep 1; done; "$@" >/dev/null 2>&1; rm -rf "$d"',
      'hotdesk-bench-pg-watchdog',
      String(process.pid),
      dir,
      stopCmd[0],
      ...stopCmd[1],
    ],
    { cwd: '/', detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  let stopped = false;
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (existsSync(join(dataDir, 'postmaster.pid'))) await exec(...stopCmd, dir).catch((e) => log(`pg_ctl stop: ${e.message}`));
    watchdog.kill();
    rmSync(dir, { recursive: true, force: true });
  };

  let port;
  try {
    await exec(
      ...asPgUser(join(bin, 'initdb'), ['-D', dataDir, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']),
      dir,
    );
    // a port can be taken between freePort() and bind(): retry on a new one (the last `port =` line wins)
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const settings = { ...PG_SETTINGS, ...extra, unix_socket_directories: dir, port };
      const lines = Object.entries(settings).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${v}'`}`);
      appendFileSync(join(dataDir, 'postgresql.conf'), `\n# hotdesk bench (bench/pg-cluster.mjs)\n${lines.join('\n')}\n`);
      try {
        await exec(...asPgUser(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start']), dir);
        break;
      } catch (e) {
        if (attempt >= 3 || !/could not bind|Address already in use/i.test(readLog())) throw new Error(`${e.message}\n${readLog().slice(-2000)}`);
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }

  const url = (db = 'postgres') => `postgres://${SUPERUSER}@127.0.0.1:${port}/${db}`;
  /** One statement on a short-lived connection to `db`. */
  const query = async (sql, params, db = 'postgres') => {
    const client = new pg.Client({ connectionString: url(db) });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  const postmasterPid = () => Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    port,
    version,
    dataDir,
    url,
    query,
    log: readLog,
    stop,
    /** Creates an empty database `name` and returns its URL. */
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]{0,40}$/.test(name)) throw new Error(`bad database name: ${name}`);
      await query(`CREATE DATABASE "${name}"`);
      return url(name);
    },
    /** The postmaster and all its children (backends, WAL writer, checkpointer, ...). */
    pids() {
      const root = postmasterPid();
      const pids = [root];
      for (const d of readdirSync('/proc')) {
        if (!/^\d+$/.test(d)) continue;
        try {
          const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
          if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root) pids.push(Number(d));
        } catch {
          // gone meanwhile
        }
      }
      return pids;
    },
    /** CPU seconds the whole server has used so far: postmaster, live children and exited ones. */
    cpuSeconds() {
      const [root, ...children] = this.pids();
      return cpuSeconds(root, true) + children.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    },
  };
}

/**
 * CPU seconds (user + system) a process has used so far; with `reaped`, also
 * its children that have exited and been waited for (a PostgreSQL backend that
 * ended during a run still counts in its postmaster's). 0 when it is gone.
 */
export function cpuSeconds(pid, reaped = false) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // proc(5) fields 14-17 (utime, stime, cutime, cstime); f[0] is field 3 (state)
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return (f[11] + f[12] + (reaped ? f[13] + f[14] : 0)) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine so far (all cores: everything but idle and iowait). */
export function machineBusySeconds() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return (total - f[3] - f[4]) / CLOCK_TICKS;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
