/**
 * Finds hotdesk agents on the LAN by SSDP (UPnP Device Architecture 1.1
 * §1.3): multicasts an M-SEARCH for our service type from an ephemeral port
 * and collects the unicast 200 OK answers until `timeoutMs`, one entry per
 * USN. The caller then GETs each LOCATION's JSON description.
 */
import dgram from 'node:dgram';
import os from 'node:os';
import { HotdeskError } from '../../core/errors.js';
import { buildSsdpMSearch, parseSsdpMessage, SSDP_GROUP, SSDP_PORT, SSDP_SERVICE_TYPE } from '../../protocols/ssdp-message.js';

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
  /** IPv4 address of the interface to search on (default: every IPv4 interface). */
  readonly interfaceAddress?: string;
  /** Multicast TTL (default 2). */
  readonly ttl?: number;
}

/** True for an IPv4 multicast address (224.0.0.0/4). */
function isMulticast(addr: string): boolean {
  const first = Number(addr.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** Every local IPv4 address (loopback included): the interfaces a search goes out on by default. */
function localIPv4Addresses(): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !out.includes(a.address)) out.push(a.address);
  }
  return out;
}

/**
 * Searches and resolves with the agents heard (possibly none). The M-SEARCH
 * is sent twice (at start and a third of the way through) because UDP may
 * drop one (UDA 1.1 §1.3.2 recommends repeating). Without `interfaceAddress`
 * a multicast search goes out on every IPv4 interface, loopback included
 * (one socket each), so agents on any attached segment or on this host answer.
 * Rejects with `bad-request` when `interfaceAddress` is not a local address.
 */
export async function discoverAgents(opts: DiscoverOptions): Promise<DiscoveredAgent[]> {
  const group = opts.group ?? SSDP_GROUP;
  const port = opts.port ?? SSDP_PORT;
  const found = new Map<string, DiscoveredAgent>();
  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    const m = parseSsdpMessage(msg);
    if (m?.kind !== 'response' || m.status !== 200) return;
    const st = m.headers.get('ST') ?? '';
    const usn = m.headers.get('USN') ?? '';
    const location = m.headers.get('LOCATION') ?? '';
    if (st !== SSDP_SERVICE_TYPE || !usn || !location) return;
    if (!found.has(usn)) found.set(usn, { location, usn, server: m.headers.get('SERVER') ?? '', address: rinfo.address });
  };
  // undefined = the kernel's choice of interface.
  const interfaces: (string | undefined)[] = opts.interfaceAddress ? [opts.interfaceAddress] : isMulticast(group) ? localIPv4Addresses() : [undefined];
  if (interfaces.length === 0) interfaces.push(undefined);
  const sockets: dgram.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    for (const iface of interfaces) {
      const socket = dgram.createSocket({ type: 'udp4' });
      sockets.push(socket);
      socket.on('message', onMessage);
      socket.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ port: 0, address: '0.0.0.0' }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      if (iface !== undefined) {
        try {
          socket.setMulticastInterface(iface);
        } catch (e) {
          if (opts.interfaceAddress === undefined) {
            // An interface that went away since it was listed: search on the others.
            sockets.pop();
            socket.close();
            continue;
          }
          throw new HotdeskError('bad-request', `cannot search on interface ${iface}: not an address of this host`, { interface: iface }, { cause: e });
        }
      }
      socket.setMulticastTTL(opts.ttl ?? 2);
      socket.setMulticastLoopback(true);
    }
    const mx = Math.min(5, Math.max(1, Math.floor(opts.timeoutMs / 1000)));
    const search = Buffer.from(buildSsdpMSearch({ st: SSDP_SERVICE_TYPE, mx, group, port }), 'utf8');
    const send = (): void => {
      for (const socket of sockets) socket.send(search, port, group, () => undefined);
    };
    // UDP multicast is lossy: send the search three times within the first third of the
    // window (UPnP Device Architecture 1.1 §1.3.2 advises repeating M-SEARCH).
    send();
    timers.push(setTimeout(send, Math.floor(opts.timeoutMs / 6)));
    timers.push(setTimeout(send, Math.floor(opts.timeoutMs / 3)));
    await new Promise<void>((resolve) => timers.push(setTimeout(resolve, opts.timeoutMs)));
  } finally {
    for (const t of timers) clearTimeout(t);
    await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  }
  return [...found.values()];
}
