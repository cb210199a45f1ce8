/**
 * The requester's address as the agent keys it (failure limits, digest nonce
 * binding, logs): the socket's remote address without the IPv4-mapped prefix.
 */
import type { IncomingMessage } from 'node:http';

/** The remote address without the IPv4-mapped prefix (`::ffff:10.0.0.5` → `10.0.0.5`). */
export function remoteAddressOf(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
