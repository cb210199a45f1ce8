/**
 * Joining an IPv4 multicast group on every attached interface, shared by the
 * SIP PnP responder (RFC 3261 multicast SUBSCRIBE on 224.0.1.75) and the SSDP
 * advertiser (UPnP Device Architecture 1.1 §1, 239.255.255.250).
 */
import type dgram from 'node:dgram';
import os from 'node:os';
import { HotdeskError } from '../../core/errors.js';
import type { Logger } from '../logger.js';

/**
 * The error of a membership the host refused (no such interface, no
 * multicast route): `network-unavailable`, naming the group and interface.
 */
export function multicastJoinError(group: string, iface: string | undefined, cause: unknown): HotdeskError {
  return new HotdeskError(
    'network-unavailable',
    `cannot join multicast group ${group}${iface ? ` on ${iface}` : ''}`,
    { group, ...(iface ? { interface: iface } : {}) },
    { cause },
  );
}

/**
 * Joins `group` on every IPv4 interface so requests from any attached segment
 * are heard; when no interface accepts the membership, falls back to the
 * kernel's choice of interface. Skipped interfaces are logged at debug level
 * as `<label> multicast join skipped`.
 */
export function joinMulticastOnEveryInterface(socket: dgram.Socket, group: string, log: Logger, label: string): void {
  let joined = 0;
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4') continue;
      try {
        socket.addMembership(group, a.address);
        joined += 1;
      } catch (e) {
        log.debug(`${label} multicast join skipped`, { interface: a.address, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  if (joined === 0) socket.addMembership(group);
}
