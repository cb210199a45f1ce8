/**
 * Sockets of the SIP PnP responder: binding (with `port-in-use` advice),
 * joining the PnP multicast group, and the address lookup they use, which
 * accepts IP literals only so that no name ever reaches DNS from there.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { HotdeskError } from '../../core/errors.js';
import type { Logger } from '../logger.js';
import { joinMulticastOnEveryInterface } from './multicast-join.js';

/**
 * Lookup for the PnP sockets: IP literals pass, any name fails at once. Names
 * in a SUBSCRIBE (Contact, Via) are never used as destinations anyway; this
 * makes a DNS query from packet content impossible, not just unused.
 */
export const ipLiteralLookup: NonNullable<dgram.SocketOptions['lookup']> = (hostname, _options, callback) => {
  const family = isIP(hostname);
  const cb = callback as unknown as (err: NodeJS.ErrnoException | null, address: string, family: number) => void;
  if (family !== 0) {
    process.nextTick(cb, null, hostname, family);
    return;
  }
  const err: NodeJS.ErrnoException = new Error(`PnP does not resolve names (${hostname.slice(0, 64)})`);
  err.code = 'ENOTFOUND';
  process.nextTick(cb, err, '', 0);
};

/** Binds a PnP socket (shared with other SO_REUSEADDR listeners); `port-in-use` with advice when the port is held. */
export async function bindPnpSocket(address: string, port: number, lookup: NonNullable<dgram.SocketOptions['lookup']>): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true, lookup });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      socket.close();
      if (e.code === 'EADDRINUSE' || e.code === 'EACCES') {
        reject(
          new HotdeskError(
            'port-in-use',
            e.code === 'EACCES'
              ? `UDP port ${port} needs privileges: SIP PnP cannot listen there; choose another port with --pnp-port N, or leave --pnp off (docs/deployment.md)`
              : `UDP port ${port} is in use (a PBX on this host?): SIP PnP cannot listen there; choose another port with --pnp-port N, or leave --pnp off and rely on DHCP (docs/deployment.md)`,
            { port },
          ),
        );
      } else reject(e);
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: false }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  return socket;
}

/** Joins `group` on the given interface, or on every IPv4 interface (falling back to the kernel's choice). */
export function joinGroup(socket: dgram.Socket, group: string, iface: string | undefined, log: Logger): void {
  if (iface) {
    socket.addMembership(group, iface);
    return;
  }
  joinMulticastOnEveryInterface(socket, group, log, 'pnp');
}
