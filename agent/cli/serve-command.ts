/**
 * `hotdesk serve`: starts the agent (HTTP/TFTP provisioning, phone screens,
 * SIP check-sync, REST/WebSocket API, optional SIP PnP and SSDP) and prints
 * what it listens on and what to give the phones (DHCP option 66/160).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isIPv4 } from 'node:net';
import { parseCommand, optFlag, optInt, optString, dataDir, processIo, reportError, storeSetting, EXIT, UsageError, type Io, type Parsed } from './cli-kit.js';
import { startAgent, type AgentOptions, type RunningAgent } from '../shell/agent.js';
import { createLogger, type LogLevel } from '../shell/logger.js';
import { openStoreApi } from '../store/open-store-api.js';
import { redactStoreUrl } from '../store/store-url.js';
import type { StoreApi } from '../store/store-api.js';
import type { PgStoreApi } from '../store/postgres/pg-store.js';
import { DB_FILE } from '../store/store-files.js';
import { loadDirectoryFile } from '../directory/load-directory.js';
import { addDemoAdmin, consoleBannerLine, DEMO_ADMIN } from '../shell/console/demo-admin.js';
import { importDirectory } from '../directory/import-directory.js';
import { advertisedAddress } from '../shell/discovery/lan-address.js';
import { defaultRenderWorkers } from '../shell/provisioning/render-pool.js';
import type { NetworkSettings } from '../core/model.js';
import { HotdeskError } from '../core/errors.js';
import { openLogSink } from '../shell/log-file.js';
import { reloadDirectory, serveUntilStopped } from './serve-lifecycle.js';

export const SERVE_HELP = `Usage: hotdesk serve [options]

Run the agent for the phones in the data directory: HTTP(S) and TFTP
provisioning, XML-browser screens, SIP NOTIFY check-sync, the PBX endpoint,
the admin REST API and the live event stream.

Options:
  --data DIR          data directory (default: $HOTDESK_DATA, else ./data)
  --store URL         the store (default: $HOTDESK_STORE, else SQLite in the
                      data directory): postgres://USER@HOST:PORT/DB for a
                      PostgreSQL database shared by several agents; the data
                      directory then holds the data key (secret.key, the same
                      file on every agent) and this agent's own files
  --agent-id NAME     this agent's name on a shared store: in the audit log,
                      the event stream and sync claims (default: host name)
  --pool NAME         agents that reach the same phones (one office, one LAN)
                      share a pool; a phone belongs to the pool of the agent
                      it last fetched its own file from (default: default)
  --sync-lease S      seconds a claimed re-sync stays with this agent before
                      another agent of the pool takes it over (default 15)
  --demo FILE         import FILE first when the data directory holds no phones
  Listener options override the directory's site.network block, which
  overrides the defaults shown.
  --host ADDR         bind address for every listener (default 0.0.0.0)
  --http-port N       HTTP port (default 8080; 0 = any free port)
  --tftp-port N       TFTP port (default 6969; port 69 needs privileges, see docs/tftp.md)
  --no-tftp           do not serve TFTP
  --tftp-per-source N  TFTP transfers at once per source address (default 4;
                      raise it when many phones behind one NAT boot together)
  --sip-port N        the agent's SIP UDP port (default 5070): registrar and
                      call server of the phones' hot-desk line, and the source
                      of check-sync NOTIFYs
  --rtp-ports MIN-MAX  UDP ports for the voice of hot-desk-line calls (default
                      40000-40999; one even port per call)
  --call-limit N      hot-desk-line calls at once (default 50; more are
                      answered 486 Busy Here)
  --pnp               answer SIP PnP (multicast 224.0.1.75, UDP 5060) so phones
                      find the agent; exits 1 with port-in-use when the port is
                      held by a program that does not share it (a PBX)
  --pnp-port N        SIP PnP UDP port (default 5060; implies --pnp). Phones
                      always multicast to 5060: other ports are for tests and
                      forwarders
  --pnp-interface ADDR  IPv4 address of the interface PnP joins the group on
                      (default: --host, or every interface; implies --pnp); PnP
                      answers from --host when one is given
  --ssdp              advertise the agent on the LAN for 'hotdesk discover'
  --ssdp-port N       SSDP UDP port (default 1900; implies --ssdp)
  --ssdp-interface ADDR  IPv4 address of the interface SSDP announces on
                      (default: --host, or the kernel's choice; implies --ssdp)
  --tls-cert FILE     serve HTTPS with this certificate (PEM) ...
  --tls-key FILE      ... and this key
  --render-workers N  render phone files on N worker threads (default: cores
                      minus one; 0 = on the main thread)
  --no-render-ahead   render a phone's files only when it asks (default: every
                      phone's files at start-up and a phone's new files as
                      soon as its revision changes, on idle render workers)
  --render-cache-mb N  memory budget of the rendered-file cache in MiB
                      (default 128; files are kept as shared chunks, least
                      recently used files go first)
  --log-level LEVEL   debug | info | warn | error (default info)
  --json-logs         one JSON object per log line
  --log-file FILE     append log lines to FILE (default: standard error, which
                      systemd sends to the journal); SIGHUP reopens it
  --directory FILE    import this directory file at start (all or nothing) and
                      re-read it on SIGHUP: an invalid file is logged and
                      nothing is applied
  --metrics-host ADDR  also serve /metrics without token on this address ...
  --metrics-port N    ... and port (default 9464 when --metrics-host is given);
                      /metrics on the main HTTP port always needs the API token
  --shutdown-timeout S  on SIGTERM, let requests and check-sync transactions in
                      flight finish for at most S seconds (default 10)
  --service           run as a service: data directory $STATE_DIRECTORY or
                      /var/lib/hotdesk unless --data/HOTDESK_DATA say otherwise
                      (implied when systemd starts it: INVOCATION_ID is set)
  -h, --help          show this help

Health: GET /healthz (up), /readyz (store and listeners ready; 503 while
stopping). Stop with Ctrl-C (SIGINT) or SIGTERM; SIGHUP re-reads --directory
and reopens --log-file. Exit codes: 0 stopped cleanly, 1 could not start
(e.g. a port is in use), 2 usage error.
`;

const OPTIONS = {
  store: { type: 'string' },
  'agent-id': { type: 'string' },
  pool: { type: 'string' },
  'sync-lease': { type: 'string' },
  demo: { type: 'string' },
  host: { type: 'string' },
  'http-port': { type: 'string' },
  'tftp-port': { type: 'string' },
  'no-tftp': { type: 'boolean' },
  'tftp-per-source': { type: 'string' },
  'sip-port': { type: 'string' },
  'rtp-ports': { type: 'string' },
  'call-limit': { type: 'string' },
  pnp: { type: 'boolean' },
  'pnp-port': { type: 'string' },
  'pnp-interface': { type: 'string' },
  ssdp: { type: 'boolean' },
  'ssdp-port': { type: 'string' },
  'ssdp-interface': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'render-workers': { type: 'string' },
  'no-render-ahead': { type: 'boolean' },
  'render-cache-mb': { type: 'string' },
  'log-level': { type: 'string' },
  'json-logs': { type: 'boolean' },
  'log-file': { type: 'string' },
  directory: { type: 'string' },
  'metrics-host': { type: 'string' },
  'metrics-port': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  service: { type: 'boolean' },
} as const;

/** A UDP/TCP port option (0..65535), or undefined when absent. */
function optPort(p: Parsed, name: string): number | undefined {
  const n = optInt(p, name);
  if (n !== undefined && n > 65535) throw new UsageError(`--${name} must be at most 65535`);
  return n;
}

/** A `MIN-MAX` UDP port range option (at least two ports, MIN even), or undefined when absent. */
function optPortRange(p: Parsed, name: string): { min: number; max: number } | undefined {
  const v = optString(p, name);
  if (v === undefined) return undefined;
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(v.trim());
  const min = m ? Number(m[1]) : Number.NaN;
  const max = m ? Number(m[2]) : Number.NaN;
  if (!m || min < 1024 || max > 65535 || max <= min) throw new UsageError(`--${name} must be MIN-MAX with 1024 <= MIN < MAX <= 65535, e.g. 40000-40999`);
  return { min, max };
}

/** An IPv4 interface address option, or undefined when absent. */
function optIPv4(p: Parsed, name: string): string | undefined {
  const v = optString(p, name);
  if (v !== undefined && !isIPv4(v)) throw new UsageError(`--${name} must be an IPv4 address (the interface's address)`);
  return v;
}

/** Listener settings after applying flags over the site's `network:` block over defaults. */
export interface Listeners {
  readonly host: string;
  readonly httpPort: number;
  readonly tftpPort: number | null;
  readonly sipPort: number;
  readonly pnpPort: number | null;
}

/** Flags win, then the directory's `site.network`, then the defaults (8080, 6969, 5070, PnP off). */
export function resolveListeners(
  flags: { host?: string; httpPort?: number; tftpPort?: number; noTftp: boolean; sipPort?: number; pnpPort?: number; pnp: boolean },
  network: NetworkSettings | undefined,
): Listeners {
  const tftp = flags.noTftp ? 0 : (flags.tftpPort ?? network?.tftpPort ?? 6969);
  const pnp = flags.pnpPort ?? (flags.pnp ? (network?.pnpPort ?? 5060) : (network?.pnpPort ?? null));
  return {
    host: flags.host ?? network?.host ?? '0.0.0.0',
    httpPort: flags.httpPort ?? network?.httpPort ?? 8080,
    tftpPort: tftp === 0 ? null : tftp,
    sipPort: flags.sipPort ?? network?.sipPort ?? 5070,
    pnpPort: pnp,
  };
}

/** The site's network block, read before the agent starts. */
async function siteNetwork(dir: string, store: string | undefined): Promise<NetworkSettings | undefined> {
  if (!existsSync(dir)) return undefined;
  const s = await openStoreApi({ store, dataDir: dir });
  try {
    return (await s.getSite()).network;
  } finally {
    await s.close();
  }
}

/** Imports the demo directory into an empty store; returns true when it did. */
async function importDemoIfEmpty(dir: string, store: string | undefined, file: string, io: Io): Promise<boolean> {
  const s = await openStoreApi({ store, dataDir: dir });
  try {
    if ((await s.listPhones()).length > 0) return false;
    const directory = loadDirectoryFile(file);
    await importDirectory(s, directory, Date.now());
    io.out(`imported ${file} into ${store === undefined ? dir : redactStoreUrl(store)}\n`);
    if (await addDemoAdmin(s, Date.now()))
      io.out(
        `console account ${DEMO_ADMIN.name} / ${DEMO_ADMIN.password} created (demo only: add real accounts with 'hotdesk admin add', then 'hotdesk admin remove ${DEMO_ADMIN.name}')\n`,
      );
    return true;
  } finally {
    await s.close();
  }
}

/** Which store the agent runs on (a PostgreSQL URL without its password). */
function storeLine(store: StoreApi, dataDir: string): string {
  if (store.kind !== 'postgres') return `  Store  SQLite ${join(dataDir, DB_FILE)}`;
  const pg = store as PgStoreApi;
  return `  Store  PostgreSQL ${pg.db.safeUrl}    agent ${pg.agentId}, pool ${pg.pool} (docs/scaling.md)`;
}

async function printListening(io: Io, a: RunningAgent, host: string, dataDir: string): Promise<void> {
  const ip = advertisedAddress(host);
  const [site, phones, users] = await Promise.all([a.store.getSite(), a.store.listPhones(), a.store.listUsers()]);
  const lines = [
    `hotdesk agent for site "${site.name}" (${phones.length} phones, ${users.length} users)`,
    storeLine(a.store, dataDir),
    `  HTTP   ${a.baseUrl}/    phones: DHCP option 66 / 160 = ${a.baseUrl}/`,
  ];
  if (a.tftpPort !== null) {
    lines.push(
      `  TFTP   udp ${host}:${a.tftpPort}${a.tftpPort === 69 ? `    DHCP option 66 = ${ip}` : '    (phones use port 69: redirect it here, see docs/tftp.md)'}`,
    );
  }
  lines.push(`  SIP    udp ${host}:${a.sipPort}    hot-desk line registrar and calls, check-sync NOTIFY source`);
  lines.push(`  RTP    udp ${host}:${a.voice.rtpPorts.min}-${a.voice.rtpPorts.max}    voice of hot-desk-line calls (at most ${a.voice.callLimit} at once)`);
  if (a.pnpPort !== null) lines.push(`  PnP    udp ${host}:${a.pnpPort}    SIP PnP responder (224.0.1.75)`);
  if (a.ssdpPort !== null) lines.push(`  SSDP   udp 0.0.0.0:${a.ssdpPort}    advertised for 'hotdesk discover' (239.255.255.250)`);
  lines.push(await consoleBannerLine(a.store, a.baseUrl, dataDir));
  lines.push(`  API    ${a.baseUrl}/api/v1/    events ${a.baseUrl.replace(/^http/, 'ws')}/api/v1/events    (token required)`);
  lines.push(
    `  Ops    ${a.baseUrl}/readyz  ${a.baseUrl}/healthz  ${a.baseUrl}/metrics (token)${a.metricsPort !== null ? `    metrics without token: port ${a.metricsPort}` : ''}`,
  );
  io.out(`${lines.join('\n')}\n`);
}

/** Starts the agent; resolves with the process exit code when it stops. */
export async function runServe(argv: string[], io: Io = processIo()): Promise<number> {
  let agent: RunningAgent | null = null;
  try {
    const p = parseCommand(argv, OPTIONS);
    if (optFlag(p, 'help')) {
      io.out(SERVE_HELP);
      return EXIT.ok;
    }
    const dir = dataDir(p, io);
    const store = storeSetting(p, io);
    const level = (optString(p, 'log-level') ?? 'info') as LogLevel;
    if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError('--log-level must be debug, info, warn or error');
    const tlsCert = optString(p, 'tls-cert');
    const tlsKey = optString(p, 'tls-key');
    if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
    const pnpInterface = optIPv4(p, 'pnp-interface');
    const _pnpPort = optPort(p, 'pnp-port') ?? (optFlag(p, 'pnp') || pnpInterface !== undefined ? 5060 : null);
    const ssdpInterface = optIPv4(p, 'ssdp-interface');
    const ssdpPort = optPort(p, 'ssdp-port') ?? (optFlag(p, 'ssdp') || ssdpInterface !== undefined ? 1900 : null);
    const demo = optString(p, 'demo');
    if (demo !== undefined) {
      const file = resolve(io.cwd, demo);
      if (!existsSync(file)) throw new UsageError(`--demo: no such file ${file}`);
      await importDemoIfEmpty(dir, store, file, io);
    }
    const flags = { noTftp: optFlag(p, 'no-tftp'), pnp: optFlag(p, 'pnp') } as Parameters<typeof resolveListeners>[0];
    const setOpt = (k: 'host' | 'httpPort' | 'tftpPort' | 'sipPort' | 'pnpPort', v: string | number | undefined): void => {
      if (v !== undefined) (flags as Record<string, unknown>)[k] = v;
    };
    setOpt('host', optString(p, 'host'));
    setOpt('httpPort', optInt(p, 'http-port'));
    setOpt('tftpPort', optInt(p, 'tftp-port'));
    setOpt('sipPort', optInt(p, 'sip-port'));
    setOpt('pnpPort', optInt(p, 'pnp-port'));
    const listen = resolveListeners(flags, await siteNetwork(dir, store));
    const host = listen.host;
    const logFile = optString(p, 'log-file');
    const sink = openLogSink(logFile !== undefined ? resolve(io.cwd, logFile) : undefined);
    const log = createLogger({ level, json: optFlag(p, 'json-logs'), write: sink.write });
    const directoryOpt = optString(p, 'directory');
    const directoryFile = directoryOpt !== undefined ? resolve(io.cwd, directoryOpt) : undefined;
    if (directoryFile !== undefined && !existsSync(directoryFile)) throw new UsageError(`--directory: no such file ${directoryFile}`);
    const metricsHost = optString(p, 'metrics-host');
    const metricsPort = optPort(p, 'metrics-port');
    const shutdownMs = (optInt(p, 'shutdown-timeout', 1) ?? 10) * 1000;
    const cacheMb = optInt(p, 'render-cache-mb');
    const tftpPerSource = optInt(p, 'tftp-per-source', 1);
    const rtpPorts = optPortRange(p, 'rtp-ports');
    const callLimit = optInt(p, 'call-limit', 1);
    const agentId = optString(p, 'agent-id');
    const pool = optString(p, 'pool');
    for (const [name, v] of [
      ['agent-id', agentId],
      ['pool', pool],
    ] as const)
      if (v !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(v)) throw new UsageError(`--${name}: 1 to 64 letters, digits, '.', '_', '-' or '@'`);
    const leaseS = optInt(p, 'sync-lease', 1);
    const options: AgentOptions = {
      dataDir: dir,
      ...(store !== undefined ? { store } : {}),
      ...(agentId !== undefined ? { agentId } : {}),
      ...(pool !== undefined ? { pool } : {}),
      ...(leaseS !== undefined ? { syncLeaseMs: leaseS * 1000 } : {}),
      host,
      httpPort: listen.httpPort,
      tftpPort: listen.tftpPort,
      sipPort: listen.sipPort,
      pnpPort: listen.pnpPort,
      ...(pnpInterface !== undefined ? { pnpInterface } : {}),
      ...(tftpPerSource !== undefined ? { tftpLimits: { maxPerSource: tftpPerSource } } : {}),
      ...(rtpPorts !== undefined ? { rtpPorts } : {}),
      ...(callLimit !== undefined ? { callLimit } : {}),
      ssdpPort,
      ...(ssdpInterface !== undefined ? { ssdpInterface } : {}),
      renderWorkers: optInt(p, 'render-workers') ?? defaultRenderWorkers(),
      ...(optFlag(p, 'no-render-ahead') ? { renderAhead: false } : {}),
      ...(cacheMb !== undefined ? { renderCacheBytes: cacheMb * 1024 * 1024 } : {}),
      ...(tlsCert !== undefined && tlsKey !== undefined ? { tls: { certFile: resolve(io.cwd, tlsCert), keyFile: resolve(io.cwd, tlsKey) } } : {}),
      ...(metricsHost !== undefined || metricsPort !== undefined ? { metricsListen: { host: metricsHost ?? '127.0.0.1', port: metricsPort ?? 9464 } } : {}),
      log,
    };
    agent = await startAgent(options);
    // The directory file is the source of truth when given: apply it before announcing readiness.
    if (directoryFile !== undefined && (await reloadDirectory(agent, directoryFile, log)) === null)
      throw new HotdeskError('directory-invalid', `--directory ${directoryFile} is invalid (see the log); nothing was applied`);
    await printListening(io, agent, host, dir);
    await serveUntilStopped(agent, {
      log,
      shutdownMs,
      say: (t) => io.out(t),
      reopenLogs: () => sink.reopen(),
      ...(directoryFile !== undefined ? { directoryFile } : {}),
    });
    return EXIT.ok;
  } catch (e) {
    if (agent) await agent.close();
    return reportError(io, e, false);
  }
}
