/**
 * The live event stream over WebSocket (RFC 6455), `GET /api/v1/events`
 * (docs/behaviour.md §8, §9: every step is an audit event and a live event).
 *
 * Each client receives every audit event, in id order, as one JSON text
 * message `{id, kind, at, phone?, user?, detail?}`. With `?since=<id>` the
 * stored events with a larger id are replayed first, then live events follow
 * without gap or duplicate: the client subscribes to the tail before the
 * replay, buffers live events during it, and afterwards sends only events
 * with an id above the last one sent.
 *
 * Token: `Authorization: Bearer`, `X-Hotdesk-Token` or `?token=` (browsers
 * cannot set headers on `new WebSocket()`). A refused upgrade gets a plain
 * HTTP answer (401 with a problem body) on the socket and is closed.
 *
 * Slow clients are disconnected (close code 1013, RFC 6455 §7.4 / IANA
 * registry "Try Again Later") once their send buffer exceeds a bound; dead
 * clients are found by ping/pong.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import { HotdeskError } from '../core/errors.js';
import { authorize, bearerChallenge } from './api-auth.js';
import type { ApiDeps } from './api-routes.js';
import { eventView } from './api-routes.js';
import type { StoredAuditEvent } from './event-stream.js';
import { HTTP_STATUS, problemBody } from './http-errors.js';
import type { UpgradeHandler } from './http-server.js';

/** Path of the event stream. */
export const EVENTS_PATH = '/api/v1/events';

/** Options for {@link createEventSocket} beyond the deps. */
export interface EventSocketOptions {
  /** Disconnect a client whose unsent data exceeds this many bytes (default 4 MiB). */
  readonly maxBufferedBytes?: number;
  /** Ping interval in ms (default 30 000; 0 = no pings). */
  readonly pingIntervalMs?: number;
  /** Most clients at once (default 256); more are refused with 429. */
  readonly maxClients?: number;
}

/** The running event stream. */
export interface EventSocket {
  /** Pass to `startHttpServer({ onUpgrade })`. */
  readonly upgrade: UpgradeHandler;
  /** Number of connected clients. */
  readonly clients: () => number;
  /** Disconnects every client and stops. */
  close(): void;
}

const REPLAY_BATCH = 500;
const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error' };

/** Writes a plain HTTP refusal on a socket that asked for an upgrade. */
function refuseUpgrade(socket: Duplex, err: HotdeskError): void {
  const status = HTTP_STATUS[err.code];
  const body = problemBody(err);
  const extra = err.code === 'token-required' || err.code === 'token-invalid' ? `WWW-Authenticate: ${bearerChallenge(err)}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function sinceParam(url: URL): number | undefined {
  const v = url.searchParams.get('since') ?? url.searchParams.get('after');
  if (v === null || v === '') return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new HotdeskError('bad-request', '"since" must be an event id (non-negative integer)');
  return Number(v);
}

/** Creates the WebSocket endpoint on the shared HTTP server (`noServer`). */
export function createEventSocket(deps: ApiDeps, options: EventSocketOptions = {}): EventSocket {
  const maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const maxClients = options.maxClients ?? 256;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024, clientTracking: true });
  const unsubscribers = new Map<WebSocket, () => void>();
  const alive = new WeakMap<WebSocket, boolean>();
  let closed = false;

  const attach = (ws: WebSocket, since: number | undefined): void => {
    let lastSent = since ?? -1;
    let replaying = since !== undefined;
    const buffered: StoredAuditEvent[] = [];
    const send = (e: StoredAuditEvent): void => {
      if (e.id <= lastSent || ws.readyState !== WebSocket.OPEN) return;
      if (ws.bufferedAmount > maxBuffered) {
        ws.close(1013, 'too slow');
        return;
      }
      lastSent = e.id;
      ws.send(JSON.stringify(eventView(e)));
    };
    // Subscribe first: nothing published during the replay is lost.
    const unsubscribe = deps.tail.subscribe((e) => {
      if (replaying) buffered.push(e);
      else send(e);
    });
    unsubscribers.set(ws, unsubscribe);
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('message', () => {
      // The stream is one-way; client messages are ignored.
    });
    ws.on('close', () => {
      unsubscribe();
      unsubscribers.delete(ws);
    });
    ws.on('error', () => ws.terminate());
    if (since !== undefined) {
      try {
        for (;;) {
          const rows = deps.store.queryAudit({ afterId: lastSent, limit: REPLAY_BATCH });
          for (const r of rows) send(r);
          if (rows.length < REPLAY_BATCH || ws.readyState !== WebSocket.OPEN) break;
        }
      } catch (e) {
        deps.log.error('event replay failed', { error: String(e) });
        ws.close(1011, 'replay failed');
      }
      replaying = false;
      for (const e of buffered.splice(0)) send(e);
    }
  };

  const upgrade: UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://agent.invalid');
    } catch {
      return false;
    }
    if (url.pathname !== EVENTS_PATH) return false;
    socket.on('error', () => socket.destroy());
    try {
      if (closed) throw new HotdeskError('not-found', 'the event stream is closed');
      authorize(deps, req, url, true);
      const since = sinceParam(url);
      if (wss.clients.size >= maxClients) throw new HotdeskError('rate-limited', 'too many event stream clients');
      wss.handleUpgrade(req, socket, head, (ws) => attach(ws, since));
    } catch (e) {
      const err = e instanceof HotdeskError ? e : new HotdeskError('internal', 'internal error', {}, { cause: e });
      if (!(e instanceof HotdeskError)) deps.log.error('event upgrade failed', { error: String(e) });
      refuseUpgrade(socket, err);
    }
    return true;
  };

  const pingMs = options.pingIntervalMs ?? 30_000;
  const pinger =
    pingMs > 0
      ? setInterval(() => {
          for (const ws of wss.clients) {
            if (alive.get(ws) === false) {
              ws.terminate();
              continue;
            }
            alive.set(ws, false);
            ws.ping();
          }
        }, pingMs)
      : null;
  pinger?.unref();

  return {
    upgrade,
    clients: () => wss.clients.size,
    close: () => {
      closed = true;
      if (pinger) clearInterval(pinger);
      for (const u of unsubscribers.values()) u();
      unsubscribers.clear();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
