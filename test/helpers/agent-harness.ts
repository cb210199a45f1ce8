/**
 * Starts a real agent (startAgent) on loopback with a temp data dir holding the
 * demo office, short SIP/sync timers so tests stay quick, and helpers that act
 * as a phone: curl with the vendor's User-Agent and HTTP digest auth.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startAgent, type AgentOptions, type RunningAgent } from '../../agent/shell/agent.js';
import { openSqliteStore } from '../../agent/store/sqlite-store.js';
import { loadDirectoryFile } from '../../agent/directory/load-directory.js';
import { importDirectory } from '../../agent/directory/import-directory.js';
import { silentLogger } from '../../agent/shell/logger.js';
import { EXAMPLES_DIR } from '../../agent/paths.js';

const run = promisify(execFile);

/** A demo phone as a test drives it. */
export interface DemoPhone {
  readonly mac: string;
  readonly vendor: 'yealink' | 'snom' | 'poly';
  readonly userAgent: string;
  /** The file that carries secrets and the revision. */
  readonly secretFile: string;
  /** sipp scenario that asserts this vendor's check-sync Event. */
  readonly sippScenario: string;
  /** Matches a file in which account slot 1 carries nobody (logged out, no device account). */
  readonly slotOneCleared: RegExp;
}

export const DEMO_PHONES: Readonly<Record<'yealink' | 'snom' | 'poly', DemoPhone>> = {
  yealink: {
    mac: '001565aabb01',
    vendor: 'yealink',
    userAgent: 'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:01',
    secretFile: '001565aabb01.cfg',
    sippScenario: 'check-sync-uas.xml',
    slotOneCleared: /^account\.1\.enable = 0$/m,
  },
  snom: {
    mac: '000413aabb02',
    vendor: 'snom',
    userAgent: 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413AABB02 SXM:0 UXM:0)',
    secretFile: 'snomD785-000413AABB02.htm',
    sippScenario: 'check-sync-snom-uas.xml',
    slotOneCleared: /<user_active idx="1" perm="">off<\/user_active>/,
  },
  poly: {
    mac: '0004f2aabb03',
    vendor: 'poly',
    userAgent: 'FileTransport PolycomVVX-VVX_450-UA/6.4.0.0000 Type/Application',
    secretFile: '0004f2aabb03-hotdesk.cfg',
    sippScenario: 'check-sync-uas.xml',
    slotOneCleared: /reg\.1\.address=""/,
  },
};

export interface Harness {
  readonly agent: RunningAgent;
  readonly dataDir: string;
  readonly base: string;
  /** Fetches a file as the phone would (curl, digest with the bootstrap credential). */
  fetchAs(phone: DemoPhone, file?: string, creds?: string): Promise<{ status: number; body: string }>;
  /** POSTs JSON to the API with the demo token. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  stop(): Promise<void>;
}

/** Imports the demo office into a fresh temp data dir. */
export async function demoDataDir(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotdesk-e2e-'));
  const store = openSqliteStore(dir);
  try {
    await importDirectory(store, loadDirectoryFile(path.join(EXAMPLES_DIR, 'demo.yaml')), Date.now());
  } finally {
    await store.close();
  }
  return dir;
}

/** Starts the agent on the demo (or an existing data dir). */
export async function startHarness(opts: Partial<AgentOptions> & { dataDir?: string } = {}): Promise<Harness> {
  const dataDir = opts.dataDir ?? (await demoDataDir());
  const agent = await startAgent({
    host: '127.0.0.1',
    httpPort: 0,
    tftpPort: null,
    sipPort: 0,
    log: silentLogger,
    syncRetry: { firstRetryMs: 300, maxRetryMs: 1_000, deadlineMs: 20_000 },
    sipTimers: { t1Ms: 100, timeoutMs: 3_000 },
    httpResyncFallback: false,
    syncTickMs: 100,
    ...opts,
    dataDir,
  });
  const base = `http://127.0.0.1:${agent.http.port}`;
  return {
    agent,
    dataDir,
    base,
    async fetchAs(phone, file = phone.secretFile, creds = 'bootstrap:hotdesk-demo') {
      const { stdout } = await run('curl', ['-s', '--digest', '-u', creds, '-A', phone.userAgent, '-w', '\n%{http_code}', `${base}/${file}`]);
      const i = stdout.lastIndexOf('\n');
      return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
    },
    async api(method, p, body) {
      const res = await fetch(`${base}${p}`, {
        method,
        headers: { authorization: 'Bearer demo-token', 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
    },
    async stop() {
      await agent.close();
    },
  };
}

/** Polls `check` until it returns a value (not undefined/false) or the time runs out. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
