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
 * - `GET /.well-known/hotdesk.json`: where the API, its OpenAPI document, the
 *   event stream and the provisioning root are (no token; what the SSDP
 *   advertisement points to).
 *
 * A Fastify plugin; other methods on these paths answer 405 with `Allow`.
 */
import { Type } from '@sinclair/typebox';
import type { AddressInfo } from 'node:net';
import type { FastifyReply } from 'fastify';
import type { AuthorizeDeps } from './api-auth.js';
import { AUTH_ERRORS, json } from './schemas.js';
import { tokenAuth } from '../http/auth-hook.js';
import { guardMethods } from '../http/method-guard.js';
import { createHttpApp, type HttpApp, type HttpPlugin } from '../http/server.js';
import { listenOrExplain } from '../http/listen.js';
import { silentLogger } from '../logger.js';
import { renderMetrics } from './metrics.js';

/** Path of the liveness endpoint. */
export const HEALTHZ_PATH = '/healthz';
/** Path of the readiness endpoint. */
export const READYZ_PATH = '/readyz';
/** Path of the metrics endpoint. */
export const METRICS_PATH = '/metrics';
/** Path of the service description. */
export const DESCRIPTION_PATH = '/.well-known/hotdesk.json';

/** What readiness looks at. */
export interface ReadinessSource {
  /** Runs a trivial query; rejects (or throws) when the database does not answer. */
  pingStore(): Promise<void> | void;
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
export async function readiness(src: ReadinessSource): Promise<Readiness> {
  const checks: Record<string, string> = {};
  try {
    await src.pingStore();
    checks['store'] = 'ok';
  } catch {
    checks['store'] = 'the database does not answer';
  }
  const listeners = src.listeners();
  for (const [name, port] of Object.entries(listeners)) checks[`listener:${name}`] = port === null ? 'not bound' : 'ok';
  if (src.draining()) checks['lifecycle'] = 'shutting down';
  return { ready: Object.values(checks).every((v) => v === 'ok'), checks, listeners };
}

async function sendMetrics(reply: FastifyReply): Promise<FastifyReply> {
  const m = await renderMetrics();
  return reply.header('Cache-Control', 'no-store').type(m.contentType).send(m.body);
}

const GET_ONLY = ['GET', 'HEAD'];

const Health = Type.Object({ status: Type.Literal('ok') });
const ReadinessAnswer = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('not-ready')]),
    ready: Type.Boolean(),
    checks: Type.Record(Type.String(), Type.String(), { description: '`ok`, or what is wrong.' }),
    listeners: Type.Record(Type.String(), Type.Union([Type.Integer(), Type.Null()]), { description: 'Bound port per listener (null: not bound).' }),
  },
  { additionalProperties: true },
);
const MetricsAnswer = { description: 'Prometheus text exposition', content: { 'text/plain': { schema: Type.String() } } };
const Description = Type.Object(
  { service: Type.Literal('hotdesk'), site: Type.String(), provisioning: Type.String(), api: Type.String(), openapi: Type.String(), events: Type.String() },
  { additionalProperties: true },
);
export type ServiceDescription = typeof Description.static;

/** What the operations plugin needs. */
export interface OpsDeps extends AuthorizeDeps {
  readonly readiness: ReadinessSource;
  /** The service description (`/.well-known/hotdesk.json`); absent = not served. */
  readonly describe?: () => ServiceDescription | Promise<ServiceDescription>;
}

function healthRoute(app: HttpApp): void {
  app.get(HEALTHZ_PATH, { schema: { summary: 'Liveness: the process answers', security: [], response: { 200: json('Alive', Health) } } }, async () => ({
    status: 'ok' as const,
  }));
  guardMethods(app, HEALTHZ_PATH, GET_ONLY);
}

/** The `/healthz`, `/readyz`, token-protected `/metrics` and service-description routes. */
export function opsRoutes(deps: OpsDeps): HttpPlugin {
  return async (app) => {
    healthRoute(app);
    app.get(
      READYZ_PATH,
      {
        schema: {
          summary: 'Readiness: store answers, listeners bound, not draining',
          security: [],
          response: { 200: json('Ready', ReadinessAnswer), 503: json('Not ready (or shutting down)', ReadinessAnswer) },
        },
      },
      async (_request, reply) => {
        const r = await readiness(deps.readiness);
        return reply
          .code(r.ready ? 200 : 503)
          .header('Cache-Control', 'no-store')
          .send({ status: r.ready ? 'ready' : 'not-ready', ...r });
      },
    );
    guardMethods(app, READYZ_PATH, GET_ONLY);
    app.get(
      METRICS_PATH,
      { onRequest: tokenAuth(deps), schema: { summary: 'Prometheus metrics', response: { 200: MetricsAnswer, ...AUTH_ERRORS } } },
      async (_request, reply) => sendMetrics(reply),
    );
    guardMethods(app, METRICS_PATH, GET_ONLY);
    const describe = deps.describe;
    if (describe) {
      app.get(
        DESCRIPTION_PATH,
        {
          schema: {
            summary: 'Where the API, its description, the event stream and the phone files are',
            security: [],
            response: { 200: json('Service description', Description) },
          },
        },
        async () => describe(),
      );
      guardMethods(app, DESCRIPTION_PATH, GET_ONLY);
    }
  };
}

/** A metrics-only listener. */
export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (and `/healthz`) without token on `host:port`. Bind it
 * to loopback or the management network only: it has no authentication.
 */
export async function startMetricsServer(host: string, port: number): Promise<MetricsServer> {
  const { app } = createHttpApp({ log: silentLogger });
  await app.register(async (scope) => {
    healthRoute(scope);
    scope.get(METRICS_PATH, async (_request, reply) => sendMetrics(reply));
    guardMethods(scope, METRICS_PATH, GET_ONLY);
  });
  await app.ready();
  const server = app.server;
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await listenOrExplain(server, port, host, 'metrics', '--metrics-port');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await app.close();
      await closed;
    },
  };
}
