/**
 * Prometheus metrics of the agent: one registry, every metric definition, and
 * small typed recording functions the shell calls in one line where things
 * happen. Scraped at `/metrics` (API token) or on `--metrics-host/--metrics-port`
 * (metrics-routes.ts). Exposition format: Prometheus text format 0.0.4.
 *
 * Labels are bounded sets (vendor, protocol, outcome or error code, sync
 * state); never a MAC, a user, a path or anything secret.
 */
import client from 'prom-client';
import type { StoredAuditEvent } from './event-stream.js';

/** The agent's registry (process-wide: one agent per process in production). */
export const registry = new client.Registry();

let defaultsOn = false;
/** Adds Node's process metrics (CPU, memory, GC, event-loop lag) once per process. */
export function enableProcessMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  client.collectDefaultMetrics({ register: registry, prefix: 'hotdesk_', eventLoopMonitoringPrecision: 20 });
}

const fetches = new client.Counter({
  name: 'hotdesk_fetches_total',
  help: 'Phone file requests by protocol, vendor and outcome (ok or the refusal error code)',
  labelNames: ['protocol', 'vendor', 'outcome'] as const,
  registers: [registry],
});

const serveSeconds = new client.Histogram({
  name: 'hotdesk_render_seconds',
  help: 'Time to identify, render (or take from the render cache) and authorise one phone file',
  labelNames: ['protocol'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

const refusals = new client.Counter({
  name: 'hotdesk_refusals_total',
  help: 'Refused requests by protocol and stable error code (docs/errors.md)',
  labelNames: ['protocol', 'code'] as const,
  registers: [registry],
});

const deskEvents = new client.Counter({
  name: 'hotdesk_logins_total',
  help: 'Hot-desk events by kind (login, logout, switch, auto-logout, wrong-pin, lockout, refused)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

const notifyRoundTrip = new client.Histogram({
  name: 'hotdesk_notify_round_trip_seconds',
  help: 'SIP NOTIFY check-sync round trip (first send to final answer) by answer class',
  labelNames: ['result'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8],
  registers: [registry],
});

const syncConfirm = new client.Histogram({
  name: 'hotdesk_sync_confirm_seconds',
  help: "From a change of a phone's files to the phone fetching the new revision",
  buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
  registers: [registry],
});

const notifyTimeouts = new client.Counter({
  name: 'hotdesk_notify_timeouts_total',
  help: 'SIP NOTIFY check-sync transactions that got no final answer',
  registers: [registry],
});

const syncFailures = new client.Counter({
  name: 'hotdesk_sync_failures_total',
  help: 'Phones given up on (never fetched their new revision before the deadline)',
  registers: [registry],
});

/** Read-only views the agent hands in at start (scraped on demand). */
export interface MetricSources {
  /** Phones by sync state (synced, pending, unreachable). */
  phonesBySyncState(): Promise<Readonly<Record<string, number>>>;
  /** Bytes held by the render cache. */
  renderCacheBytes?(): number;
  /** Hot-desk-line calls up now. */
  voiceCalls?(): number;
  /** Hot-desk lines registered now. */
  linesRegistered?(): Promise<number>;
  /** TFTP counters (TftpServer.stats()). */
  tftp?(): { readonly transfersOk: number; readonly transfersFailed: number; readonly refused: number; readonly bytesOk: number; readonly bytesSent: number };
}

let sources: MetricSources | null = null;

/** Connects the scrape-time views of a running agent (null on close). */
export function setMetricSources(s: MetricSources | null): void {
  sources = s;
}

new client.Gauge({
  name: 'hotdesk_render_cache_bytes',
  help: 'Bytes of rendered phone files held in the render cache (approximate heap cost)',
  registers: [registry],
  collect() {
    this.set(sources?.renderCacheBytes?.() ?? 0);
  },
});

new client.Gauge({
  name: 'hotdesk_voice_calls',
  help: 'Calls on the hot-desk line answered by the agent and up now',
  registers: [registry],
  collect() {
    this.set(sources?.voiceCalls?.() ?? 0);
  },
});

new client.Gauge({
  name: 'hotdesk_lines_registered',
  help: 'Phones whose hot-desk line is registered at the agent now',
  registers: [registry],
  async collect() {
    this.set((await sources?.linesRegistered?.()) ?? 0);
  },
});

new client.Gauge({
  name: 'hotdesk_phones',
  help: 'Phones by sync state',
  labelNames: ['state'] as const,
  registers: [registry],
  async collect() {
    const counts = (await sources?.phonesBySyncState()) ?? {};
    this.reset();
    for (const state of ['synced', 'pending', 'unreachable']) this.set({ state }, counts[state] ?? 0);
  },
});

new client.Gauge({
  name: 'hotdesk_tftp_transfers',
  help: 'TFTP transfers since start by result (ok, failed, refused); only grows, read from the server at scrape time',
  labelNames: ['result'] as const,
  registers: [registry],
  collect() {
    const t = sources?.tftp?.();
    this.set({ result: 'ok' }, t?.transfersOk ?? 0);
    this.set({ result: 'failed' }, t?.transfersFailed ?? 0);
    this.set({ result: 'refused' }, t?.refused ?? 0);
  },
});

new client.Gauge({
  name: 'hotdesk_tftp_retransmitted_bytes',
  help: 'TFTP bytes sent since start beyond the files delivered (retransmissions and cut-off transfers); only grows',
  registers: [registry],
  collect() {
    const t = sources?.tftp?.();
    this.set(t ? Math.max(0, t.bytesSent - t.bytesOk) : 0);
  },
});

/** A phone file request ended: `outcome` is `ok` or the error code. */
export function recordFetch(protocol: 'http' | 'tftp', vendor: string | null | undefined, outcome: string, seconds: number): void {
  fetches.inc({ protocol, vendor: vendor ?? 'unknown', outcome });
  serveSeconds.observe({ protocol }, seconds);
}

/** A request was refused with a coded error. */
export function recordRefusal(protocol: 'http' | 'tftp' | 'sip', code: string): void {
  refusals.inc({ protocol, code });
}

/** A check-sync NOTIFY finished (`status` 0 = no answer). */
export function recordNotify(status: number, seconds: number): void {
  const result = status === 0 ? 'timeout' : status >= 200 && status < 300 ? 'accepted' : 'refused';
  notifyRoundTrip.observe({ result }, seconds);
}

const DESK_KINDS = new Set(['login', 'logout', 'switch', 'auto-logout', 'wrong-pin', 'lockout', 'refused']);

/** Feeds an audit event into the metrics (the agent subscribes this to its audit tail). */
export function observeAuditEvent(e: StoredAuditEvent): void {
  if (DESK_KINDS.has(e.kind)) deskEvents.inc({ outcome: e.kind });
  else if (e.kind === 'sync-sent' && e.detail?.['via'] === 'sip') {
    const status = e.detail['status'];
    const ms = e.detail['ms'];
    if (status === 'timeout') notifyTimeouts.inc();
    else if (typeof status === 'number' && typeof ms === 'number') recordNotify(status, ms / 1000);
  } else if (e.kind === 'sync-confirmed') {
    const ms = e.detail?.['elapsedMs'];
    if (typeof ms === 'number') syncConfirm.observe(ms / 1000);
  } else if (e.kind === 'sync-failed') syncFailures.inc();
}

/** Seconds since `start` (a `performance.now()` value). */
export function since(start: number): number {
  return (performance.now() - start) / 1000;
}

/** The exposition text and its content type. */
export async function renderMetrics(): Promise<{ readonly contentType: string; readonly body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
