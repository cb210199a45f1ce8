/**
 * Small `node:dgram` helpers of the TFTP server: bind and close as promises,
 * and a safe rendering of peer-supplied text for logs.
 */
import type dgram from 'node:dgram';

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
