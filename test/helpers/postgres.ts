/**
 * A throwaway PostgreSQL cluster for one test file (or one bench run), from
 * Debian's `postgresql` package: its own temp dir, `initdb` with trust auth,
 * a server on a free 127.0.0.1 port tuned for tests (no fsync), stopped and
 * removed by `stop()`. As root, every PostgreSQL program runs as the OS user
 * `postgres` (the server refuses to run as root).
 *
 * initdb is the slow part (~1.5 s), so its pristine output is kept once per
 * PostgreSQL build in `$TMPDIR/hotdesk-pg-template-<key>` and copied into each
 * new cluster; deleting that directory is always safe. A detached watchdog
 * stops the server if the test process dies without calling `stop()`.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** OS user the server runs as when the tests run as root. */
const PG_OS_USER = 'postgres';
/** Database superuser initdb creates; every URL connects as it. */
const SUPERUSER = 'postgres';
const INITDB_ARGS = ['-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'];
/** Settings for a disposable server: fast, not durable. */
const SETTINGS: Record<string, string | number> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: 200,
  shared_buffers: '32MB',
  listen_addresses: '127.0.0.1',
  logging_collector: 'off',
  log_min_messages: 'warning',
};

/** A running throwaway cluster. */
export interface PgCluster {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (the maintenance database). */
  readonly url: string;
  readonly port: number;
  /** The cluster's data directory (inside its temp dir). */
  readonly dataDir: string;
  /**
   * Creates a fresh, empty database and returns its URL. `name` is a prefix
   * (lower-case letters, digits, `_`); a unique suffix is always added.
   */
  createDatabase(name?: string): Promise<string>;
  /** `pg_ctl restart -m fast`: drops every connection; same port, same data. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m immediate`, then removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
  /** The server log so far (last 20 000 characters). */
  log(): string;
}

let binDirCache: string | null | undefined;

/** Directory holding initdb, pg_ctl and postgres, or null when they are not installed. */
function binDir(): string | null {
  if (binDirCache !== undefined) return binDirCache;
  const has = (d: string): boolean => ['initdb', 'pg_ctl', 'postgres'].every((b) => fs.existsSync(path.join(d, b)));
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config (or libpq-dev's, pointing at /usr/bin): fall back to Debian's layout
  }
  try {
    const versions = fs
      .readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // no /usr/lib/postgresql
  }
  binDirCache = candidates.find(has) ?? null;
  return binDirCache;
}

/** Why PostgreSQL tests cannot run here (its binaries are not installed), or undefined when they can. */
export function postgresUnavailable(): string | undefined {
  if (binDir() !== null) return undefined;
  return 'PostgreSQL server binaries not found (pg_config --bindir, /usr/lib/postgresql/*/bin): apt-get install postgresql';
}

const asRoot = (): boolean => process.getuid?.() === 0;

/** uid/gid of the OS user `postgres`; throws a clear error when it does not exist. */
function pgOsUser(): { uid: number; gid: number } {
  try {
    const id = (flag: string): number => Number(execFileSync('id', [flag, PG_OS_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(`running as root, PostgreSQL needs the OS user "${PG_OS_USER}" (Debian's postgresql package creates it)`);
  }
}

/** The command line running a PostgreSQL program: as `postgres` (via runuser) when we are root. */
function asPgUser(bin: string, args: string[]): [string, string[]] {
  return asRoot() ? ['runuser', ['-u', PG_OS_USER, '--', bin, ...args]] : [bin, args];
}

/** Runs `file args`; rejects with its output on failure. */
function exec(file: string, args: string[], cwd = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Runs a PostgreSQL program as the right user. */
const run = (bin: string, args: string[], cwd: string): Promise<string> => exec(...asPgUser(bin, args), cwd);

/** A TCP port that was free on 127.0.0.1 a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Cache dir for initdb output, keyed by the server build, initdb's arguments and the owner. */
function templateDir(bin: string): string {
  const st = fs.statSync(path.join(bin, 'postgres'));
  const key = createHash('sha256')
    .update([bin, st.size, st.mtimeMs, INITDB_ARGS.join(' '), asRoot() ? PG_OS_USER : String(process.getuid?.())].join('\0'))
    .digest('hex')
    .slice(0, 16);
  return path.join(os.tmpdir(), `hotdesk-pg-template-${key}`);
}

const hasTemplate = (t: string): boolean => fs.existsSync(path.join(t, 'PG_VERSION'));

/**
 * Fills `dataDir` from the template, or runs initdb there and saves the
 * template. A lock directory makes parallel test files wait for one initdb
 * instead of all running their own; a lock older than a minute is stale.
 */
async function initData(bin: string, dataDir: string, cwd: string): Promise<void> {
  const template = templateDir(bin);
  const lock = `${template}.lock`;
  let locked = false;
  for (const deadline = Date.now() + 30_000; !hasTemplate(template) && Date.now() < deadline; ) {
    try {
      fs.mkdirSync(lock);
      locked = true;
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') break;
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 60_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (hasTemplate(template)) {
      // cp -a keeps owner (postgres) and mode 0700, both of which the server checks
      await exec('cp', ['-a', template, dataDir]);
      return;
    }
    await run(path.join(bin, 'initdb'), ['-D', dataDir, ...INITDB_ARGS], cwd);
    const tmp = `${template}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await exec('cp', ['-a', dataDir, tmp]);
      fs.renameSync(tmp, template); // atomic: a reader sees a complete template or none
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another process won the race, or /tmp is full: no cache
    }
  } finally {
    if (locked) fs.rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * A detached shell that waits for this process to end, then stops the server
 * and removes `dir`: vitest ends its workers with SIGTERM, which skips every
 * 'exit' hook, and a crashed test file must not leave a server behind.
 */
function startWatchdog(dir: string, stopCmd: [string, string[]]): ChildProcess {
  const script = 'p=$1 d=$2; shift 2; while kill -0 "$p" 2>/dev/null; do sleep 1; done; "$@" >/dev/null 2>&1; rm -rf "$d"';
  const child = spawn('sh', ['-c', script, 'hotdesk-pg-watchdog', String(process.pid), dir, stopCmd[0], ...stopCmd[1]], {
    cwd: '/',
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child;
}

/** Starts a fresh cluster; resolves once it accepts connections. */
export async function startPostgres(): Promise<PgCluster> {
  const bin = binDir();
  if (bin === null) throw new Error(postgresUnavailable());
  const owner = asRoot() ? pgOsUser() : undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotdesk-pg-'));
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const pgCtl = path.join(bin, 'pg_ctl');
  const ctl = (...args: string[]): Promise<string> => run(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '30', ...args], dir);
  const readLog = (): string => {
    try {
      return fs.readFileSync(logFile, 'utf8').slice(-20_000);
    } catch {
      return '';
    }
  };

  const stopNow = asPgUser(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
  const watchdog = startWatchdog(dir, stopNow);
  let port = 0;
  let stopped = false;
  /** Stops the server (if up) and removes the temp dir. */
  const teardown = async (): Promise<void> => {
    stopped = true;
    watchdog.kill();
    if (fs.existsSync(path.join(dataDir, 'postmaster.pid'))) await exec(...stopNow, dir).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await initData(bin, dataDir, dir);
    const conf = path.join(dataDir, 'postgresql.conf');
    const base = { ...SETTINGS, unix_socket_directories: `'${dir}'` };
    // a port can be taken between freePort() and bind(): retry on a new one (the last `port =` line wins)
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const lines = Object.entries({ ...base, port }).map(([k, v]) => `${k} = ${typeof v === 'number' || v.startsWith("'") ? v : `'${v}'`}`);
      fs.appendFileSync(conf, `\n# hotdesk test harness\n${lines.join('\n')}\n`);
      try {
        await ctl('start');
        break;
      } catch (err) {
        if (attempt >= 3 || !/could not bind|Address already in use/i.test(readLog())) throw new Error(`${(err as Error).message}\n${readLog()}`);
      }
    }
  } catch (err) {
    await teardown();
    throw err;
  }

  const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
  let dbCounter = 0;
  return {
    url,
    port,
    dataDir,
    log: readLog,
    async createDatabase(name = 'test') {
      if (!/^[a-z_][a-z0-9_]{0,40}$/.test(name)) throw new Error(`bad database name prefix: ${name}`);
      const db = `${name}_${++dbCounter}_${randomBytes(3).toString('hex')}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${db}"`);
      } finally {
        await client.end();
      }
      return `postgres://${SUPERUSER}@127.0.0.1:${port}/${db}`;
    },
    async restart() {
      if (stopped) throw new Error('cluster is stopped');
      try {
        await ctl('-m', 'fast', 'restart');
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${readLog()}`);
      }
    },
    async stop() {
      if (!stopped) await teardown();
    },
  };
}
