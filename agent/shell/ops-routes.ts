/**
 * Operations endpoints on the agent's HTTP listener:
 *
 * - `GET /healthz`: the process is up and its event loop answers (always 200
 *   while the listener accepts). For a supervisor's liveness check.
 * - `GET /readyz`: 200 when the store answers a query and every listener is
 *   bound, 503 otherwise (and while the agent drains on SIGTERM). The body
 *   names each check and the bound ports (no secrets: `hotdesk doctor` and
 *   `ExecStartPost` read it).
 * - `GET /metrics`: Prometheus exposition, behind the API token (api-auth.ts);
 *   or without token on its own listener ({@link startMetricsServer}) that IT
 *   binds to loopback or a management address.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HotdeskError } from '../core/errors.js';
import { authorize, bearerChallenge, type AuthorizeDeps } from './api-auth.js';
import { sendError, sendJson, sendText } from './http-respond.js';
import type { HttpRoute } from './http-server.js';
import { listenOrExplain } from './listen.js';
import { renderMetrics } from './metrics.js';

/** Path of the liveness endpoint. */
export const HEALTHZ_PATH = '/healthz';
/** Path of the readiness endpoint. */
export const READYZ_PATH = '/readyz';
/** Path of the metrics endpoint. */
export const METRICS_PATH = '/metrics';

/** What readiness looks at. */
export interface ReadinessSource {
  /** Runs a trivial query; throws when the database does not answer. */
  pingStore(): void;
  /** Bound listeners by name (`http`, `tftp`, `sip`, `pnp`...): port, or null when it is not bound (yet / any more). */
  listeners(): Readonly<Record<string, number | null>>;
  /** True once SIGTERM started the drain. */
  draining(): boolean;
}

/** The readiness verdict as `/readyz` reports it. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, 'ok' | string>>;
  readonly listeners: Readonly<Record<string, number | null>>;
}

/** Evaluates readiness now. */
export function readiness(src: ReadinessSource): Readiness {
  const checks: Record<string, string> = {};
  try {
    src.pingStore();
    checks['store'] = 'ok';
  } catch {
    checks['store'] = 'the database does not answer';
  }
  const listeners = src.listeners();
  for (const [name, port] of Object.entries(listeners)) checks[`listener:${name}`] = port === null ? 'not bound' : 'ok';
  if (src.draining()) checks['lifecycle'] = 'shutting down';
  return { ready: Object.values(checks).every((v) => v === 'ok'), checks, listeners };
}

async function sendMetrics(res: import('node:http').ServerResponse, head: boolean): Promise<void> {
  const m = await renderMetrics();
  if (head) {
    res.writeHead(200, { 'Content-Type': m.contentType, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  sendText(res, 200, m.body, m.contentType);
}

/** The `/healthz`, `/readyz` and token-protected `/metrics` routes. */
export function createOpsRoutes(deps: AuthorizeDeps & { readonly readiness: ReadinessSource }): HttpRoute[] {
  const getOnly = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): boolean => {
    req.resume();
    if (req.method === 'GET' || req.method === 'HEAD') return true;
    res.setHeader('Allow', 'GET, HEAD');
    sendError(res, new HotdeskError('method-not-allowed'));
    return false;
  };
  return [
    {
      name: 'healthz',
      match: (url) => url.pathname === HEALTHZ_PATH,
      handle: (req, res) => {
        if (getOnly(req, res)) sendJson(res, 200, { status: 'ok' });
      },
    },
    {
      name: 'readyz',
      match: (url) => url.pathname === READYZ_PATH,
      handle: (req, res) => {
        if (!getOnly(req, res)) return;
        const r = readiness(deps.readiness);
        sendJson(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not-ready', ...r });
      },
    },
    {
      name: 'metrics',
      match: (url) => url.pathname === METRICS_PATH,
      handle: async (req, res, url) => {
        if (!getOnly(req, res)) return;
        try {
          authorize(deps, req, url, false);
        } catch (e) {
          if (e instanceof HotdeskError && (e.code === 'token-required' || e.code === 'token-invalid')) res.setHeader('WWW-Authenticate', bearerChallenge(e));
          throw e;
        }
        await sendMetrics(res, req.method === 'HEAD');
      },
    },
  ];
}

/** A metrics-only listener. */
export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (and `/healthz`) without a token on `host:port`. Bind it
 * to loopback or the management network only: it has no authentication.
 */
export async function startMetricsServer(host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendError(res, new HotdeskError('method-not-allowed'));
    }
    if (path === METRICS_PATH) return void sendMetrics(res, req.method === 'HEAD').catch(() => sendError(res, new HotdeskError('internal')));
    if (path === HEALTHZ_PATH) return sendJson(res, 200, { status: 'ok' });
    sendError(res, new HotdeskError('not-found'));
  });
  await listenOrExplain(server, port, host, 'metrics', '--metrics-port');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
