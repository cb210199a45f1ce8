/**
 * The agent's HTTP(S) listener: hardened node:http settings and a first-match
 * route table (phone files last, as the catch-all at the root path).
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { HotdeskError } from '../core/errors.js';
import type { Logger } from './logger.js';
import { sendError } from './http-respond.js';
import { listenOrExplain } from './listen.js';

/** One route: `match` gets the parsed URL; the first match handles. */
export interface HttpRoute {
  readonly name: string;
  match(url: URL, req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): void | Promise<void>;
}

/** A WebSocket (or other) upgrade handler. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly routes: readonly HttpRoute[];
  readonly log: Logger;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly onUpgrade?: UpgradeHandler;
}

export interface RunningHttpServer {
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

/** Starts the listener; rejects with `port-in-use` when the port is taken. */
export async function startHttpServer(o: HttpServerOptions): Promise<RunningHttpServer> {
  let inFlight = 0;
  let draining = false;
  const active = new Set<ServerResponse>();
  const idle = new Set<() => void>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight++;
    active.add(res);
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inFlight--;
      active.delete(res);
      if (draining) server.closeIdleConnections();
      if (inFlight === 0) for (const f of [...idle]) f();
    });
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://agent.invalid');
    } catch {
      sendError(res, new HotdeskError('bad-request', 'malformed request target'));
      return;
    }
    const route = o.routes.find((r) => r.match(url, req));
    if (!route) {
      req.resume();
      sendError(res, new HotdeskError('not-found'));
      return;
    }
    Promise.resolve()
      .then(() => route.handle(req, res, url))
      .catch((e: unknown) => {
        const err = e instanceof HotdeskError ? e : new HotdeskError('internal', 'internal error', {}, { cause: e });
        if (!(e instanceof HotdeskError)) o.log.error('request failed', { route: route.name, error: e instanceof Error ? e.stack : String(e) });
        sendError(res, err);
      });
  };
  const common = { maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 15_000, keepAliveTimeout: 5_000 };
  const server: Server = o.tls
    ? createHttps({ ...common, cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile) }, handler)
    : createHttp(common, handler);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  if (o.onUpgrade) {
    const up = o.onUpgrade;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!up(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
  }
  await listenOrExplain(server, o.port, o.host, 'HTTP', '--http-port');
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  const closeServer = (): Promise<void> => (closed ??= new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    server,
    port,
    secure: o.tls !== undefined,
    get inFlight() {
      return inFlight;
    },
    drain: async (timeoutMs) => {
      draining = true;
      // Answers still to come close their connection: no keep-alive past the drain.
      for (const res of active) if (!res.headersSent) res.setHeader('Connection', 'close');
      void closeServer();
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const finished = await new Promise<boolean>((resolve) => {
        const done = (): void => {
          idle.delete(done);
          resolve(true);
        };
        if (inFlight === 0) return resolve(true);
        idle.add(done);
        timer = setTimeout(() => {
          idle.delete(done);
          resolve(false);
        }, timeoutMs);
      });
      clearTimeout(timer);
      server.closeAllConnections();
      return finished;
    },
    close: () =>
      new Promise<void>((resolve) => {
        void closeServer().then(resolve);
        server.closeAllConnections();
      }),
  };
}
