/**
 * Which address to tell phones: the configured host when it is a concrete
 * address, else the first non-internal IPv4 of this machine, else loopback.
 */
import { networkInterfaces } from 'node:os';

/** True for wildcard bind addresses. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** The address phones should use to reach an agent bound to `host`. */
export function advertisedAddress(host: string): string {
  if (!isWildcard(host)) return host;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return '127.0.0.1';
}

/** `http://host:port` with IPv6 brackets where needed. */
export function httpBase(scheme: 'http' | 'https', host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${h}:${port}`;
}
