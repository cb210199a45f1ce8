/**
 * A loopback UDP relay that drops a fraction of datagrams in both directions,
 * for exercising TFTP retransmission with real clients.
 *
 * TFTP changes ports mid-conversation (RFC 1350 §4: the server answers from a
 * fresh transfer ID), so the relay keeps one flow per client address/port:
 * - the client sends its request to the relay's front port;
 * - the flow forwards it from its own upstream socket to the server;
 * - each server port answering the flow gets its own client-facing socket, so
 *   the client also sees a new transfer ID and locks onto it; what the client
 *   sends there goes back to that server port.
 *
 * Drops are decided by a seeded PRNG (mulberry32), so a run is repeatable in
 * which datagrams (by order of arrival) are lost.
 */
import dgram from 'node:dgram';
import { mulberry32 } from './prng.js';

/** Options of {@link startLossyUdpRelay}. */
export interface LossyRelayOptions {
  /** The real server's listening address. */
  readonly target: { readonly host: string; readonly port: number };
  /** Fraction of datagrams dropped in each direction, 0..1. */
  readonly dropRate: number;
  readonly seed: number;
  /** Address the relay binds (default 127.0.0.1). */
  readonly host?: string;
  /** Observer of every datagram (for debugging a failing run). */
  readonly onDatagram?: (direction: 'to-server' | 'to-client', msg: Buffer, dropped: boolean) => void;
}

/** A running relay. */
export interface LossyRelay {
  /** Front port clients send their requests to. */
  readonly port: number;
  stats(): { forwarded: number; dropped: number; flows: number };
  close(): Promise<void>;
}

interface Flow {
  readonly client: { address: string; port: number };
  readonly upstream: dgram.Socket;
  readonly downstreams: Map<number, dgram.Socket>;
}

/** Starts the relay on an ephemeral port. */
export async function startLossyUdpRelay(opts: LossyRelayOptions): Promise<LossyRelay> {
  const host = opts.host ?? '127.0.0.1';
  const rand = mulberry32(opts.seed);
  const counts = { forwarded: 0, dropped: 0 };
  const sockets = new Set<dgram.Socket>();
  const flows = new Map<string, Flow>();

  const open = (): dgram.Socket => {
    const s = dgram.createSocket('udp4');
    s.on('error', () => {});
    s.bind(0, host);
    sockets.add(s);
    return s;
  };
  const forward = (from: dgram.Socket, msg: Buffer, port: number, address: string, direction: 'to-server' | 'to-client'): void => {
    const drop = rand() < opts.dropRate;
    opts.onDatagram?.(direction, msg, drop);
    if (drop) {
      counts.dropped++;
      return;
    }
    counts.forwarded++;
    from.send(msg, port, address);
  };

  const front = dgram.createSocket('udp4');
  front.on('error', () => {});
  await new Promise<void>((resolve) => front.bind(0, host, resolve));
  sockets.add(front);

  front.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}|${rinfo.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const f: Flow = { client: { address: rinfo.address, port: rinfo.port }, upstream: open(), downstreams: new Map() };
      f.upstream.on('message', (reply, from) => {
        if (from.address !== opts.target.host) return;
        let down = f.downstreams.get(from.port);
        if (!down) {
          const d = open();
          d.on('message', (m, r) => {
            if (r.address !== f.client.address || r.port !== f.client.port) return;
            forward(f.upstream, m, from.port, opts.target.host, 'to-server');
          });
          f.downstreams.set(from.port, d);
          down = d;
        }
        forward(down, reply, f.client.port, f.client.address, 'to-client');
      });
      flows.set(key, f);
      flow = f;
    }
    forward(flow.upstream, msg, opts.target.port, opts.target.host, 'to-server');
  });

  return {
    port: front.address().port,
    stats: () => ({ ...counts, flows: flows.size }),
    close: async () => {
      await Promise.all(
        [...sockets].map(
          (s) =>
            new Promise<void>((resolve) => {
              try {
                s.close(() => resolve());
              } catch {
                resolve();
              }
            }),
        ),
      );
      sockets.clear();
      flows.clear();
    },
  };
}
