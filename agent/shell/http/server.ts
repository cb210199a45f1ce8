/**
 * The agent's one HTTP(S) listener: a Fastify instance on a hardened
 * `node:http` (or `node:https` with `--tls-cert/--tls-key`) server, with the
 * routes registered as plugins per concern (API, PBX, screens, action URLs,
 * operations, phone files). Errors go through the one handler in
 * error-handler.ts; request logging is off (URLs of phone screens and action
 * URLs carry tokens and dialled PINs), Fastify's own messages go to the
 * agent's pino logger.
 *
 * Request-body parsing: JSON (an empty body is no body) and plain text by
 * default; plugins that take other bodies (form-encoded PBX requests, raw
 * uploads, phone XML) register their own parsers in their own context.
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { HotdeskError } from '../../core/errors.js';
import type { DigestAuthority } from '../provisioning/http-digest-auth.js';
import { listenOrExplain } from './listen.js';
import { pinoOf, type Logger } from '../logger.js';
import { errorHandler, frameworkErrors, sendProblem, type ErrorHandlingOptions } from './error-handler.js';

/** The agent's Fastify instance type (TypeBox schemas give handlers their types). */
export type HttpApp = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

/** A route plugin (one concern: API, PBX, screens, ...). */
export type HttpPlugin = FastifyPluginAsync<Record<never, never>, Server, TypeBoxTypeProvider>;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Route plugins, registered in this order. */
  readonly plugins: readonly HttpPlugin[];
  /** Digest challenges for refused provisioning requests. */
  readonly digest?: DigestAuthority;
  readonly clock?: () => number;
}

/** A route as registered (collected with Fastify's `onRoute` hook). */
export interface RegisteredRoute {
  readonly methods: readonly string[];
  readonly url: string;
  /** Left out of the OpenAPI document (phone-facing routes, 405 guards, WebSocket internals). */
  readonly hidden: boolean;
  /** A 405 guard or catch-all rather than an endpoint. */
  readonly guard: boolean;
}

export interface RunningHttpServer {
  readonly app: HttpApp;
  /** Every route the plugins registered. */
  readonly routes: readonly RegisteredRoute[];
  readonly server: Server;
  readonly port: number;
  readonly secure: boolean;
  /** Requests being handled now. */
  readonly inFlight: number;
  /**
   * Graceful stop: accept no new connections, let requests in flight finish
   * (idle keep-alive connections are closed, busy ones get `Connection: close`),
   * and after `timeoutMs` cut whatever is left. Resolves true when everything
   * finished in time.
   */
  drain(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Longest request head; longer ones get 431. */
const MAX_HEADER = 16 * 1024;
/** Default request-body limit (JSON); plugins set their own. */
const BODY_LIMIT = 16 * 1024;

/** A refused request line or header block: answered by hand, there is no request to route. */
function clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Builds the Fastify app (not listening) and the request counter the drain needs. */
export function createHttpApp(o: Omit<HttpServerOptions, 'host' | 'port' | 'plugins'>): {
  readonly app: HttpApp;
  readonly tracker: RequestTracker;
  readonly routes: readonly RegisteredRoute[];
} {
  const tracker = new RequestTracker();
  const routes: RegisteredRoute[] = [];
  const eo: ErrorHandlingOptions = { log: o.log, clock: o.clock ?? Date.now, ...(o.digest ? { digest: o.digest } : {}) };
  const common = { maxHeaderSize: MAX_HEADER, requestTimeout: 30_000, headersTimeout: 15_000, keepAliveTimeout: 5_000 };
  const tls = o.tls ? { cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile) } : null;
  const logger = pinoOf(o.log);
  const app = Fastify({
    serverFactory: (handler) => {
      const counted = (req: IncomingMessage, res: ServerResponse): void => {
        tracker.start(res);
        handler(req, res);
      };
      // node:https.Server answers the same request/upgrade events; Fastify only needs those.
      const server = tls ? (createHttps({ ...common, ...tls }, counted) as unknown as Server) : createHttp(common, counted);
      tracker.server = server;
      return server;
    },
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: request logging is off, and the hot path stays lean.
    childLoggerFactory: (parent) => parent,
    clientErrorHandler: clientError,
    frameworkErrors: frameworkErrors(eo),
    bodyLimit: BODY_LIMIT,
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    // Bodies are validated as sent: `{"ext": 101}` is not the string "101".
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRoute', (r) => {
    const schema = r.schema as { hide?: boolean } | undefined;
    routes.push({ methods: [r.method].flat(), url: r.url, hidden: schema?.hide === true, guard: r.config?.guard === true });
  });
  app.setErrorHandler(errorHandler(eo));
  app.setNotFoundHandler((_request, reply) => sendProblem(reply, new HotdeskError('not-found'), eo));
  // JSON: an empty body is no body (clients send `Content-Type: application/json` on body-less POSTs).
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else json(request, body as string, done);
  });
  return { app: app as unknown as HttpApp, tracker, routes };
}

/** Counts requests in flight and closes connections during a drain. */
export class RequestTracker {
  server: Server | null = null;
  inFlight = 0;
  draining = false;
  private readonly active = new Set<ServerResponse>();
  private readonly idle = new Set<() => void>();

  start(res: ServerResponse): void {
    this.inFlight++;
    this.active.add(res);
    if (this.draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      this.inFlight--;
      this.active.delete(res);
      if (this.draining) this.server?.closeIdleConnections();
      if (this.inFlight === 0) for (const f of [...this.idle]) f();
    });
  }

  /** Marks answers still to come `Connection: close`; resolves true once nothing is in flight, false after `timeoutMs`. */
  async settle(timeoutMs: number): Promise<boolean> {
    this.draining = true;
    for (const res of this.active) if (!res.headersSent) res.setHeader('Connection', 'close');
    this.server?.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const finished = await new Promise<boolean>((resolve) => {
      const done = (): void => {
        this.idle.delete(done);
        resolve(true);
      };
      if (this.inFlight === 0) return resolve(true);
      this.idle.add(done);
      timer = setTimeout(() => {
        this.idle.delete(done);
        resolve(false);
      }, timeoutMs);
    });
    clearTimeout(timer);
    return finished;
  }
}

/** Builds the app, registers the plugins and listens; rejects with `port-in-use` when the port is taken. */
export async function startHttpServer(o: HttpServerOptions): Promise<RunningHttpServer> {
  const { app, tracker, routes } = createHttpApp(o);
  for (const plugin of o.plugins) await app.register(plugin);
  await app.ready();
  const server = app.server;
  try {
    await listenOrExplain(server, o.port, o.host, 'HTTP', '--http-port');
  } catch (e) {
    await app.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  const closeServer = (): Promise<void> => (closed ??= new Promise<void>((resolve) => server.close(() => resolve())));
  let appClosed: Promise<void> | null = null;
  const closeApp = (): Promise<void> => (appClosed ??= app.close());
  return {
    app,
    routes,
    server,
    port,
    secure: o.tls !== undefined,
    get inFlight() {
      return tracker.inFlight;
    },
    drain: async (timeoutMs) => {
      void closeServer();
      const finished = await tracker.settle(timeoutMs);
      server.closeAllConnections();
      return finished;
    },
    close: async () => {
      const done = closeServer();
      server.closeAllConnections();
      await closeApp();
      await done;
    },
  };
}
