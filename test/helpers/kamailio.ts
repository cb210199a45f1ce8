/**
 * Runs Debian's Kamailio as the site's PBX in front of the agent, with the
 * routing of test/fixtures/kamailio/pbx.cfg (feature-code INVITEs relayed to
 * the agent, Record-Route, loose routing inside dialogs) on a loopback
 * address of its own, so the agent sees it as a distinct host.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'kamailio', 'pbx.cfg');
const MODULE_DIRS = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules', '/usr/local/lib64/kamailio/modules'];
const NEEDED = ['tm', 'sl', 'rr', 'pv', 'maxfwd', 'textops', 'siputils', 'xlog'];

/** Kamailio's module directory, or null when kamailio (with the modules pbx.cfg loads) is not installed. */
export function kamailioModules(): string | null {
  if (spawnSync('kamailio', ['-v']).error !== undefined) return null;
  return MODULE_DIRS.find((d) => NEEDED.every((m) => fs.existsSync(path.join(d, `${m}.so`)))) ?? null;
}

export interface Kamailio {
  readonly host: string;
  readonly port: number;
  /** Its log so far. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts Kamailio on `host:port`, relaying feature codes to `agent` (`host:port`); resolves once it is up. */
export async function startKamailio(o: { host: string; port: number; agent: string; modules: string }): Promise<Kamailio> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotdesk-kamailio-'));
  const cfg = fs
    .readFileSync(FIXTURE, 'utf8')
    .replaceAll('@LISTEN_HOST@', o.host)
    .replaceAll('@LISTEN_PORT@', String(o.port))
    .replaceAll('@MODULES@', o.modules)
    .replaceAll('@AGENT@', o.agent);
  fs.writeFileSync(path.join(dir, 'kamailio.cfg'), cfg);
  const child: ChildProcess = spawn('kamailio', ['-f', path.join(dir, 'kamailio.cfg'), '-DD', '-E', '-Y', dir, '-P', path.join(dir, 'k.pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (/INFO:.*(udp_init|init_child|main.c)/.test(log) || /listening on/i.test(log)) {
        clearInterval(t);
        resolve();
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(t);
      reject(new Error(`kamailio exited (${String(code)}): ${log.slice(-2000)}`));
    });
  });
  return {
    host: o.host,
    port: o.port,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
