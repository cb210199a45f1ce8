/**
 * Finds hotdesk agents on the LAN by SSDP (UPnP Device Architecture 1.1
 * §1.3): multicasts an M-SEARCH for our service type from an ephemeral port
 * and collects the unicast 200 OK answers until `timeoutMs`, one entry per
 * USN. The caller then GETs each LOCATION's JSON description.
 */
import dgram from 'node:dgram';
import { buildSsdpMSearch, parseSsdpMessage, SSDP_GROUP, SSDP_PORT, SSDP_SERVICE_TYPE } from '../protocols/ssdp-message.js';

/** One agent that answered. */
export interface DiscoveredAgent {
  readonly location: string;
  readonly usn: string;
  readonly server: string;
  /** Source address of the answer. */
  readonly address: string;
}

/** Options of {@link discoverAgents}. */
export interface DiscoverOptions {
  /** How long to collect answers. */
  readonly timeoutMs: number;
  /** Destination port (default 1900). */
  readonly port?: number;
  /** Multicast group (default 239.255.255.250). */
  readonly group?: string;
  /** IPv4 address of the interface to search on (default: the kernel's choice). */
  readonly interfaceAddress?: string;
  /** Multicast TTL (default 2). */
  readonly ttl?: number;
}

/**
 * Searches and resolves with the agents heard (possibly none). The M-SEARCH
 * is sent twice (at start and a third of the way through) because UDP may
 * drop one (UDA 1.1 §1.3.2 recommends repeating).
 */
export async function discoverAgents(opts: DiscoverOptions): Promise<DiscoveredAgent[]> {
  const socket = dgram.createSocket({ type: 'udp4' });
  const found = new Map<string, DiscoveredAgent>();
  socket.on('message', (msg, rinfo) => {
    const m = parseSsdpMessage(msg);
    if (!m || m.kind !== 'response' || m.status !== 200) return;
    const st = m.headers.get('ST') ?? '';
    const usn = m.headers.get('USN') ?? '';
    const location = m.headers.get('LOCATION') ?? '';
    if (st !== SSDP_SERVICE_TYPE || !usn || !location) return;
    if (!found.has(usn)) found.set(usn, { location, usn, server: m.headers.get('SERVER') ?? '', address: rinfo.address });
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port: 0, address: '0.0.0.0' }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const group = opts.group ?? SSDP_GROUP;
  const port = opts.port ?? SSDP_PORT;
  const timers: NodeJS.Timeout[] = [];
  try {
    if (opts.interfaceAddress) socket.setMulticastInterface(opts.interfaceAddress);
    socket.setMulticastTTL(opts.ttl ?? 2);
    socket.setMulticastLoopback(true);
    const mx = Math.min(5, Math.max(1, Math.floor(opts.timeoutMs / 1000)));
    const search = Buffer.from(buildSsdpMSearch({ st: SSDP_SERVICE_TYPE, mx, group, port }), 'utf8');
    const send = (): void => socket.send(search, port, group, () => undefined);
    send();
    timers.push(setTimeout(send, Math.floor(opts.timeoutMs / 3)));
    await new Promise<void>((resolve) => timers.push(setTimeout(resolve, opts.timeoutMs)));
  } finally {
    timers.forEach((t) => clearTimeout(t));
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
  return [...found.values()];
}
