/**
 * Shared helpers of the multi-agent acceptance tests (test/e2e/multi-agent-*.test.ts): several
 * built `hotdesk serve` processes on one throwaway PostgreSQL (test/helpers/postgres.ts), on
 * loopback with ephemeral ports, and UDP sockets standing in for the phones' SIP listeners (each
 * records the check-sync NOTIFYs it gets, with the agent's source port, and may answer 200 OK).
 *
 * Call {@link useMultiAgent} once at the top level of a test file: it starts the cluster before
 * the file's tests (unless PostgreSQL is unavailable) and kills agents, closes sockets and removes
 * temp dirs after each test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { MAIN, ensureBuilt, runCli } from '../cli/cli-harness.js';
import { eventually } from '../helpers/agent-harness.js';
import { type PgCluster, postgresUnavailable, startPostgres } from '../helpers/postgres.js';
import { curl } from './provisioning-kit.js';

/** The API token of every generated site. */
export const TOKEN = 'multi-agent-token';
/** The bootstrap credential (`user:password`) of every generated site. */
export const BOOTSTRAP = 'bootstrap:multi-agent-boot';
/** The PIN of every generated user. */
export const PIN = '1234';

/** A user of a generated site. */
export interface SiteUser {
  readonly ext: string;
  readonly name?: string;
}

/** A Yealink T46U hot-desk phone of a generated site. */
export interface SitePhone {
  readonly mac: string;
  /** UDP port its check-sync NOTIFYs go to (default 5060). */
  readonly sipPort?: number;
}

/** What {@link siteYaml} writes. */
export interface SiteSpec {
  readonly multipleLogin: 'move' | 'refuse' | 'allow';
  readonly users: readonly SiteUser[];
  readonly phones: readonly SitePhone[];
}

/** The directory YAML of a site with the given users (all PIN {@link PIN}) and Yealink hot-desk phones. */
export function siteYaml(s: SiteSpec): string {
  const [bootUser, bootPass] = BOOTSTRAP.split(':');
  const lines = [
    'site:',
    '  name: Multi-agent test',
    '  pbx: { host: 127.0.0.1, port: 5060, transport: udp }',
    '  featurePrefix: "*35"',
    `  policies: { identitySwitch: direct, multipleLogin: ${s.multipleLogin} }`,
    '  pinLockout: { maxAttempts: 100, windowSeconds: 60, baseLockSeconds: 1, maxLockSeconds: 1 }',
    '  provisioning:',
    `    bootstrap: { username: ${bootUser}, password: "${bootPass}" }`,
    '    autoEnrol: false',
    `  apiTokens: ["${TOKEN}"]`,
    'users:',
  ];
  for (const u of s.users) {
    lines.push(
      `  - ext: "${u.ext}"`,
      `    name: "${u.name ?? `User ${u.ext}`}"`,
      `    pin: "${PIN}"`,
      `    sip: { user: "${u.ext}", password: "pw-${u.ext}-secret" }`,
    );
  }
  lines.push('phones:');
  for (const p of s.phones) {
    lines.push(`  - mac: "${p.mac}"`, '    vendor: yealink', '    model: T46U', `    label: "Desk ${p.mac.slice(-4)}"`);
    if (p.sipPort !== undefined) lines.push(`    sipPort: ${p.sipPort}`);
  }
  return `${lines.join('\n')}\n`;
}

/** MAC of generated phone `i` (Yealink OUI). */
export const macOf = (i: number): string => `001565${(0xa00000 + i).toString(16)}`;

/** The User-Agent a Yealink T46U with this MAC sends. */
export const yealinkUserAgent = (mac: string): string => `Yealink SIP-T46U 108.86.0.45 ${mac.match(/../g)?.join(':')}`;

const tempDirs: string[] = [];
const children: ChildProcess[] = [];
const sockets: PhoneSocket[] = [];

/** A fresh temp dir, removed after the test. */
function tempDir(prefix = 'hotdesk-multi-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/**
 * Registers the file's hooks and returns a getter for the cluster; `skip` is why the tests
 * cannot run here (printed once), undefined when they can.
 */
export function useMultiAgent(what: string): { skip: string | undefined; cluster: () => PgCluster } {
  const skip = postgresUnavailable();
  if (skip !== undefined) console.warn(`skipping ${what}: ${skip}`);
  let cluster: PgCluster | undefined;
  beforeAll(async () => {
    if (skip !== undefined) return;
    ensureBuilt();
    cluster = await startPostgres();
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map(killHard));
    for (const s of sockets.splice(0)) s.close();
    for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return {
    skip,
    cluster: () => {
      if (!cluster) throw new Error('no PostgreSQL cluster');
      return cluster;
    },
  };
}

/** SIGKILLs a child (if still running) and waits for its exit. */
async function killHard(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await exited;
}

/** A database loaded with a site, and the data key every agent needs. */
export interface LoadedStore {
  readonly url: string;
  /** The data dir `hotdesk import` wrote `secret.key` into. */
  readonly keyDir: string;
}

/** Creates a database and loads `yaml` into it with the built `hotdesk import --store`. */
export async function loadSite(cluster: PgCluster, yaml: string): Promise<LoadedStore> {
  const url = await cluster.createDatabase('multi');
  const dir = tempDir('hotdesk-multi-yaml-');
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(file, yaml);
  const keyDir = path.join(dir, 'data');
  const r = await runCli(['import', file, '--store', url, '--data', keyDir]);
  if (r.code !== 0) throw new Error(`hotdesk import failed (${r.code}): ${r.stdout}${r.stderr}`);
  if (!fs.existsSync(path.join(keyDir, 'secret.key'))) throw new Error('hotdesk import wrote no secret.key');
  return { url, keyDir };
}

/** One running `hotdesk serve`. */
export interface AgentProc {
  readonly name: string;
  readonly child: ChildProcess;
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
  /** The agent's SIP UDP port (source of its check-sync NOTIFYs). */
  readonly sipPort: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGKILL, resolved once it is gone. */
  kill(): Promise<void>;
}

/** What {@link startAgentProc} starts. */
export interface AgentSpec {
  readonly store: LoadedStore;
  readonly name: string;
  readonly pool?: string;
  readonly syncLease?: number;
}

/**
 * Starts `hotdesk serve --store URL` in its own data dir holding a copy of the data key; resolves
 * once it printed its HTTP and SIP listeners.
 */
export async function startAgentProc(spec: AgentSpec): Promise<AgentProc> {
  const dataDir = tempDir(`hotdesk-multi-${spec.name}-`);
  fs.copyFileSync(path.join(spec.store.keyDir, 'secret.key'), path.join(dataDir, 'secret.key'));
  fs.chmodSync(path.join(dataDir, 'secret.key'), 0o600);
  const env = { ...process.env };
  delete env['HOTDESK_DATA'];
  delete env['HOTDESK_STORE'];
  const args = [MAIN, 'serve', '--store', spec.store.url, '--data', dataDir, '--agent-id', spec.name, '--pool', spec.pool ?? 'default'];
  if (spec.syncLease !== undefined) args.push('--sync-lease', String(spec.syncLease));
  args.push(
    '--host',
    '127.0.0.1',
    '--http-port',
    '0',
    '--no-tftp',
    '--sip-port',
    '0',
    '--render-workers',
    '0',
    '--rtp-ports',
    rtpRange(),
    '--log-level',
    'warn',
  );
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  let gone = false;
  child.once('exit', () => (gone = true));
  const started = await eventually(
    () => {
      if (gone) throw new Error(`agent ${spec.name} exited at start-up:\n${out}`);
      const base = /HTTP {3}(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
      const sip = /SIP {4}udp 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      return base !== undefined && sip !== undefined ? { base, sipPort: Number(sip) } : undefined;
    },
    30_000,
    `agent ${spec.name} to start`,
  );
  return { name: spec.name, child, ...started, output: () => out, kill: () => killHard(child) };
}

let rtpNext = 41_000 + (process.pid % 200) * 40;
/** A small RTP port range of its own for each agent (two agents must not share one). */
function rtpRange(): string {
  const min = rtpNext;
  rtpNext += 20;
  return `${min}-${min + 19}`;
}

/** One HTTP answer. */
export interface ApiAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
}

/** An API request with the site's token; network errors become status 0. */
export async function api<T = Record<string, unknown>>(base: string, p: string, init: RequestInit = {}): Promise<ApiAnswer<T>> {
  try {
    const res = await fetch(`${base}${p}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) },
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: body as T };
  } catch (e) {
    return { status: 0, body: { error: String(e) } as T };
  }
}

/** What the PBX endpoint answers (the fields the tests read). */
export interface DialAnswer {
  readonly outcome?: string;
  readonly user?: string | null;
  readonly duplicate?: boolean;
  readonly code?: string;
}

/** `POST /api/v1/pbx/dial {mac, digits}`. */
export const dial = (base: string, mac: string, digits: string): Promise<ApiAnswer<DialAnswer>> =>
  api<DialAnswer>(base, '/api/v1/pbx/dial', { method: 'POST', body: JSON.stringify({ mac, digits }) });

/** One session as GET /api/v1/sessions lists it. */
export interface SessionRow {
  readonly phone: string;
  readonly user: string;
}

/** Every session (throws unless 200). */
export async function sessions(base: string): Promise<SessionRow[]> {
  const r = await api<{ sessions: SessionRow[] }>(base, '/api/v1/sessions');
  if (r.status !== 200) throw new Error(`GET /api/v1/sessions: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.sessions;
}

/** One audit event as the REST API shows it. */
export interface AuditRow {
  readonly id: number;
  readonly kind: string;
  readonly at: number;
  readonly phone?: string;
  readonly user?: string;
  readonly agent?: string;
  readonly detail?: Record<string, unknown>;
}

/** The audit events matching `query` (e.g. `phone=…&kind=login,logout`), oldest first (at most 10 000). */
export async function auditAll(base: string, query = ''): Promise<AuditRow[]> {
  const r = await api<{ events: AuditRow[] }>(base, `/api/v1/audit?after=0&limit=10000${query ? `&${query}` : ''}`);
  if (r.status !== 200) throw new Error(`GET /api/v1/audit: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.events;
}

/** A phone's sync state as GET /api/v1/phones/:mac shows it. */
export interface PhoneSync {
  readonly state: string;
  readonly revision: number;
}

/** The phone's sync block (throws unless 200). */
export async function phoneSync(base: string, mac: string): Promise<PhoneSync & { user: unknown }> {
  const r = await api<{ sync: PhoneSync; user: unknown }>(base, `/api/v1/phones/${mac}`);
  if (r.status !== 200) throw new Error(`GET /api/v1/phones/${mac}: ${r.status} ${JSON.stringify(r.body)}`);
  return { ...r.body.sync, user: r.body.user };
}

/** Fetches the phone's own secret file (`<mac>.cfg`) with HTTP digest `credential`, as the phone. */
export async function fetchOwnFile(base: string, mac: string, credential: string): Promise<string> {
  const r = await curl(`${base}/${mac}.cfg`, { userAgent: yealinkUserAgent(mac), digest: credential });
  if (r.status !== 200) throw new Error(`GET /${mac}.cfg as ${credential.split(':')[0]}: ${r.status}`);
  return r.text;
}

/** The phone's own provisioning credential (`user:password`) from its Yealink secret file. */
export function ownCredential(body: string): string {
  const user = /^static\.auto_provision\.server\.username = (\S+)$/m.exec(body)?.[1];
  const pass = /^static\.auto_provision\.server\.password = (\S+)$/m.exec(body)?.[1];
  if (!user || !pass) throw new Error('no provisioning credential in the Yealink file');
  return `${user}:${pass}`;
}

/** A NOTIFY a {@link PhoneSocket} received. */
export interface ReceivedNotify {
  /** Source port: the sending agent's SIP port. */
  readonly fromPort: number;
  readonly at: number;
  readonly event: string;
  readonly callId: string;
}

/** A phone's SIP listener on 127.0.0.1: records check-sync NOTIFYs, answers 200 OK when `answer`. */
export interface PhoneSocket {
  readonly port: number;
  readonly notifies: ReceivedNotify[];
  /** Distinct agent ports that sent it a NOTIFY. */
  senders(): Set<number>;
  close(): void;
}

const headerOf = (lines: readonly string[], name: string): string[] => {
  const re = new RegExp(`^${name}\\s*:`, 'i');
  return lines.filter((l) => re.test(l));
};

/** Binds a phone socket on an ephemeral loopback port. */
export async function phoneSocket(answer: boolean): Promise<PhoneSocket> {
  const sock = dgram.createSocket('udp4');
  const notifies: ReceivedNotify[] = [];
  sock.on('message', (msg, rinfo) => {
    const text = msg.toString('utf8');
    const lines = text.split('\r\n');
    if (!/^NOTIFY /.test(lines[0] ?? '')) return;
    const value = (n: string): string => (headerOf(lines, n)[0] ?? '').replace(/^[^:]*:\s*/, '');
    notifies.push({ fromPort: rinfo.port, at: Date.now(), event: value('Event'), callId: value('Call-ID') });
    if (!answer) return;
    const copied = ['Via', 'From', 'To', 'Call-ID', 'CSeq'].flatMap((n) => headerOf(lines, n));
    const reply = ['SIP/2.0 200 OK', ...copied, 'Content-Length: 0', '', ''].join('\r\n');
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => resolve());
  });
  const s: PhoneSocket = {
    port: sock.address().port,
    notifies,
    senders: () => new Set(notifies.map((n) => n.fromPort)),
    close: () => {
      try {
        sock.close();
      } catch {
        // already closed
      }
    },
  };
  sockets.push(s);
  return s;
}

/** Runs one SQL query on the shared database directly (what no API shows: sync claims). */
export async function sql<T extends Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** `fn` over `items`, at most `limit` at once; results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export { eventually };
