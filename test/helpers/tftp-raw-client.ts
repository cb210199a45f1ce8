/**
 * Raw TFTP datagrams for tests that act as a misbehaving client: RRQs sent
 * from chosen loopback addresses (127.0.0.x all reach 127.0.0.1 on Linux) and
 * never acknowledged, with every reply recorded.
 */
import dgram from 'node:dgram';
import { decodeTftpPacket, encodeTftpPacket, type TftpPacket } from '../../agent/protocols/tftp-packet.js';

/** A read request datagram. */
export function rrq(filename: string, options: Record<string, string> = {}): Buffer {
  return encodeTftpPacket({ op: 'rrq', filename, mode: 'octet', options });
}

/** A client socket bound to `address` that records what it receives. */
export interface RawTftpClient {
  readonly sock: dgram.Socket;
  readonly address: string;
  /** Every datagram received, decoded, with the sender's port. */
  readonly received: { packet: TftpPacket; port: number }[];
  send(buf: Buffer, port: number, host?: string): void;
  /** The next datagram not yet taken by `next`, or null after `limitMs`. */
  next(limitMs?: number): Promise<{ packet: TftpPacket; port: number } | null>;
  close(): Promise<void>;
}

/** Opens a {@link RawTftpClient} on `address` (ephemeral port). */
export async function rawTftpClient(address = '127.0.0.1'): Promise<RawTftpClient> {
  const sock = dgram.createSocket('udp4');
  const received: { packet: TftpPacket; port: number }[] = [];
  let taken = 0;
  let waiter: (() => void) | null = null;
  sock.on('message', (msg, rinfo) => {
    const r = decodeTftpPacket(msg);
    received.push({ packet: r.ok ? r.packet : { op: 'error', code: -1, message: r.reason }, port: rinfo.port });
    waiter?.();
  });
  await new Promise<void>((resolve) => sock.bind(0, address, resolve));
  let closed = false;
  return {
    sock,
    address,
    received,
    send: (buf, port, host = '127.0.0.1') => sock.send(buf, port, host),
    next: async (limitMs = 3000) => {
      if (taken >= received.length) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, limitMs);
          waiter = () => {
            clearTimeout(t);
            resolve();
          };
        });
        waiter = null;
      }
      return taken < received.length ? (received[taken++] ?? null) : null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        sock.close(() => resolve());
      }),
  };
}

/**
 * The attack: `perAddress` RRQs for `file` from each of `addresses`, each
 * from its own port, never acknowledged. The burst can overflow the server's
 * socket buffer, so a client without any reply resends its RRQ (as a real
 * client does; the server ignores a repeat from a TID holding a slot).
 * Resolves once every client got a first reply (or `limitMs` passed); the
 * clients stay open (and silent).
 */
export async function stalledRequests(
  port: number,
  file: string,
  addresses: readonly string[],
  perAddress: number,
  limitMs = 20_000,
): Promise<RawTftpClient[]> {
  const clients: RawTftpClient[] = [];
  for (const a of addresses) for (let i = 0; i < perAddress; i++) clients.push(await rawTftpClient(a));
  for (const c of clients) c.send(rrq(file), port);
  const until = Date.now() + limitMs;
  let resendAt = Date.now() + 500;
  while (clients.some((c) => c.received.length === 0) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    if (Date.now() < resendAt) continue;
    for (const c of clients) if (c.received.length === 0) c.send(rrq(file), port);
    resendAt = Date.now() + 500;
  }
  return clients;
}

/** `127.0.0.<first>` … `127.0.0.<first + n - 1>`. */
export function loopbackAddresses(first: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.0.${first + i}`);
}
