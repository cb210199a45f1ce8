/**
 * Announces the agent on the LAN by SSDP (UPnP Device Architecture 1.1 §1.2,
 * §1.3) on `node:dgram`: ssdp:alive at start and every `announceIntervalMs`,
 * ssdp:byebye on close, and a unicast 200 OK to every M-SEARCH for our
 * service type or `ssdp:all`, after a random delay within the searcher's MX.
 */
import dgram from 'node:dgram';
import { HotdeskError } from '../../core/errors.js';
import {
  buildSsdpAlive,
  buildSsdpByebye,
  buildSsdpSearchResponse,
  msearchMx,
  msearchWantsUs,
  parseSsdpMessage,
  SSDP_GROUP,
  SSDP_PORT,
  SSDP_SERVICE_TYPE,
  type SsdpAdvert,
} from '../../protocols/ssdp-message.js';
import { silentLogger, type Logger } from '../logger.js';
import { joinMulticastOnEveryInterface, multicastJoinError } from './multicast-join.js';

/** Options of {@link startSsdpAdvertiser}. */
export interface SsdpAdvertiserOptions {
  /** Agent UUID (stable across restarts). */
  readonly uuid: string;
  /** URL of the agent's JSON description. */
  readonly location: string;
  /** UDP port (default 1900). */
  readonly port?: number;
  /** Multicast group (default 239.255.255.250). */
  readonly group?: string;
  /**
   * IPv4 address of the interface to announce and listen on (default: listen
   * for M-SEARCH on every IPv4 interface, announce on the kernel's choice).
   */
  readonly interfaceAddress?: string;
  /** Interval between ssdp:alive repeats (default: a third of max-age). */
  readonly announceIntervalMs?: number;
  /** CACHE-CONTROL max-age in seconds (default 1800, the UDA minimum). */
  readonly maxAgeSec?: number;
  /** SERVER header (default `Node.js/<version> UPnP/1.1 hotdesk-agent/1`). */
  readonly server?: string;
  /** Cap on the random answer delay (default: the searcher's MX, at most 5 s). */
  readonly maxResponseDelayMs?: number;
  /** Multicast TTL (default 2, UDA 1.1 §1.1.2). */
  readonly ttl?: number;
  readonly log?: Logger;
}

/** A running advertiser. */
export interface SsdpAdvertiser {
  readonly port: number;
  /** Number of M-SEARCH answers sent. */
  readonly answered: () => number;
  /** Sends ssdp:byebye, then closes the socket. */
  close(): Promise<void>;
}

/** Starts announcing; rejects with `port-in-use` when the port cannot be bound. */
export async function startSsdpAdvertiser(opts: SsdpAdvertiserOptions): Promise<SsdpAdvertiser> {
  const log = opts.log ?? silentLogger;
  const group = opts.group ?? SSDP_GROUP;
  const requestedPort = opts.port ?? SSDP_PORT;
  const maxAgeSec = opts.maxAgeSec ?? 1800;
  const advert: SsdpAdvert = {
    uuid: opts.uuid,
    location: opts.location,
    maxAgeSec,
    server: opts.server ?? `Node.js/${process.versions.node} UPnP/1.1 hotdesk-agent/1`,
    type: SSDP_SERVICE_TYPE,
  };
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      socket.close();
      reject(
        e.code === 'EADDRINUSE' || e.code === 'EACCES'
          ? new HotdeskError(
              'port-in-use',
              `SSDP UDP port ${requestedPort} is in use by a program that does not share it: choose another with --ssdp-port or leave SSDP off`,
              { port: requestedPort },
            )
          : e,
      );
    };
    socket.once('error', onError);
    socket.bind({ port: requestedPort, address: '0.0.0.0' }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  socket.on('error', (e) => log.warn('ssdp socket error', { error: e.message }));
  try {
    if (opts.interfaceAddress) {
      socket.setMulticastInterface(opts.interfaceAddress);
      socket.addMembership(group, opts.interfaceAddress);
    } else {
      joinMulticastOnEveryInterface(socket, group, log, 'ssdp');
    }
    socket.setMulticastTTL(opts.ttl ?? 2);
    socket.setMulticastLoopback(true);
  } catch (e) {
    socket.close();
    throw multicastJoinError(group, opts.interfaceAddress, e);
  }
  const port = socket.address().port;
  const dest = { group, port };
  let closed = false;
  let answered = 0;
  const timers = new Set<NodeJS.Timeout>();

  const send = (wire: string, toPort: number, toHost: string): Promise<void> =>
    new Promise((resolve) => {
      if (closed) return resolve();
      socket.send(Buffer.from(wire, 'utf8'), toPort, toHost, (err) => {
        if (err) log.debug('ssdp send failed', { host: toHost, port: toPort, error: err.message });
        resolve();
      });
    });

  const announce = (): void => {
    void send(buildSsdpAlive(advert, dest), port, group);
  };

  socket.on('message', (msg, rinfo) => {
    const m = parseSsdpMessage(msg);
    if (!m || !msearchWantsUs(m)) return;
    const cap = opts.maxResponseDelayMs ?? 5000;
    const delay = Math.floor(Math.random() * Math.min(cap, msearchMx(m) * 1000));
    const t = setTimeout(() => {
      timers.delete(t);
      answered += 1;
      void send(buildSsdpSearchResponse(advert, new Date().toUTCString()), rinfo.port, rinfo.address);
    }, delay);
    timers.add(t);
  });

  announce();
  const interval = setInterval(announce, opts.announceIntervalMs ?? Math.floor((maxAgeSec * 1000) / 3));
  log.info('ssdp advertiser started', { port, group, location: opts.location });

  return {
    port,
    answered: () => answered,
    close: async () => {
      if (closed) return;
      clearInterval(interval);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await send(buildSsdpByebye({ uuid: opts.uuid, type: SSDP_SERVICE_TYPE }, dest), port, group);
      closed = true;
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
