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
 * A Fastify plugin over @fastify/websocket: the upgrade request runs through
 * the route's hooks (token, client limit) and schema (`since`) like any other
 * request, so refusals come from the one error handler. Upgrades to any other
 * path are answered 404 without a handshake.
 *
 * Slow clients are disconnected (close code 1013, RFC 6455 §7.4 / IANA
 * registry "Try Again Later") once their send buffer exceeds a bound; dead
 * clients are found by ping/pong.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import websocket from '@fastify/websocket';
import { Type } from '@sinclair/typebox';
import { WebSocket, type WebSocketServer } from 'ws';
import { HotdeskError } from '../../core/errors.js';
import type { ApiDeps } from './deps.js';
import { AUTH_ERRORS, AuditEvent, EventsQuery, problem } from './schemas.js';
import { eventView } from './views.js';
import type { StoredAuditEvent } from './event-stream.js';
import { tokenAuth } from '../http/auth-hook.js';
import type { HttpPlugin } from '../http/server.js';

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
  /** Register on the HTTP server (`startHttpServer({ plugins })`). */
  readonly plugin: HttpPlugin;
  /** Number of connected clients. */
  readonly clients: () => number;
  /** Disconnects every client and stops. */
  close(): void;
}

const REPLAY_BATCH = 500;

export function createEventSocket(deps: ApiDeps, options: EventSocketOptions = {}): EventSocket {
  const maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const maxClients = options.maxClients ?? 256;
  const unsubscribers = new Map<WebSocket, () => void>();
  const alive = new WeakMap<WebSocket, boolean>();
  let wss: WebSocketServer | null = null;
  let closed = false;

  const attach = async (ws: WebSocket, since: number | undefined): Promise<void> => {
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
          const rows = await deps.store.queryAudit({ afterId: lastSent, limit: REPLAY_BATCH });
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

  const plugin: HttpPlugin = async (app) => {
    // Only the event stream upgrades; anything else is refused before a handshake.
    const upgrades = new EventEmitter();
    app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (req.url ?? '/').split('?')[0]?.replace(/\/+$/, '');
      if (path === EVENTS_PATH && !closed) upgrades.emit('upgrade', req, socket, head);
      else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    await app.register(websocket, { options: { maxPayload: 1024, clientTracking: true, server: upgrades as never } });
    wss = app.websocketServer;
    app.route({
      method: 'GET',
      url: EVENTS_PATH,
      onRequest: tokenAuth(deps, true),
      preHandler: async () => {
        if (closed) throw new HotdeskError('not-found', 'the event stream is closed');
        if ((wss?.clients.size ?? 0) >= maxClients) throw new HotdeskError('rate-limited', 'too many event stream clients');
      },
      schema: {
        summary: 'Live event stream (WebSocket). Each message is one AuditEvent as JSON, in id order.',
        description:
          'Upgrade to WebSocket. Token by header, or `?token=` for browsers. `?since=<id>` first replays stored events with a larger id, then continues live without gaps or duplicates.',
        security: [{ bearer: [] }, { headerToken: [] }, { queryToken: [] }],
        querystring: EventsQuery,
        response: {
          101: {
            description: 'Switching protocols; each message is one AuditEvent as JSON.',
            content: { 'application/json': { schema: Type.Ref(AuditEvent) } },
          },
          400: problem('Not a WebSocket upgrade, or a bad `since`.'),
          ...AUTH_ERRORS,
          429: problem('Too many wrong tokens from this source, or too many clients (`rate-limited`).'),
        },
      },
      handler: async () => {
        throw new HotdeskError('bad-request', 'the event stream needs a WebSocket upgrade');
      },
      wsHandler: (socket, request) => {
        const q = request.query as { since?: string; after?: string };
        const since = q.since ?? q.after;
        void attach(socket, since !== undefined && since !== '' ? Number(since) : undefined);
      },
    });
  };

  const pingMs = options.pingIntervalMs ?? 30_000;
  const pinger =
    pingMs > 0
      ? setInterval(() => {
          for (const ws of wss?.clients ?? []) {
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
    plugin,
    clients: () => wss?.clients.size ?? 0,
    close: () => {
      closed = true;
      if (pinger) clearInterval(pinger);
      for (const u of unsubscribers.values()) u();
      unsubscribers.clear();
      for (const ws of wss?.clients ?? []) ws.terminate();
    },
  };
}
