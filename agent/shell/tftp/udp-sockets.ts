/**
 * Small `node:dgram` helpers of the TFTP server: bind and close as promises,
 * and a safe rendering of peer-supplied text for logs.
 */
import dns from 'node:dns';
import type dgram from 'node:dgram';
import { isIP } from 'node:net';

/** Printable, bounded rendering of peer-supplied text for logs. */
export function printable(s: string, max = 80): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, max);
}

/** Binds `sock` exclusively to `host:port` (0 = ephemeral); rejects with the bind error. */
export function bindSocket(sock: dgram.Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    sock.once('error', onError);
    sock.bind({ port, address: host, exclusive: true }, () => {
      sock.off('error', onError);
      resolve();
    });
  });
}

/** Closes `sock`; resolves once closed (at once when it already was). */
export function closeSocket(sock: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/**
 * `lookup` for a `dgram` socket that sends to addresses taken from received
 * datagrams: an IP literal is answered at once (the default `dns.lookup`
 * defers even a literal to the next tick, once per datagram sent); anything
 * else goes to `dns.lookup`.
 */
export function literalLookup(
  host: string,
  options: dns.LookupOneOptions | number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(host);
  if (family !== 0) {
    callback(null, host, family);
    return;
  }
  const opts: dns.LookupOneOptions = typeof options === 'number' ? { family: options } : options;
  dns.lookup(host, opts, callback);
}

/**
 * Sends `buf` to `address:port` without a completion callback (each one
 * costs a tick per datagram, thousands a second in a transfer); returns the
 * error of a send that failed at once. A send that fails later is lost like
 * a datagram on the wire: the retransmission timer repairs it.
 */
export function sendQuiet(sock: dgram.Socket, buf: Buffer, port: number, address: string): Error | null {
  try {
    sock.send(buf, port, address);
    return null;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
