/**
 * SIP PnP responder (reference/phones.md "SIP PnP"; RFC 6080 §4.1): listens
 * on UDP (default 5060), joins the PnP multicast group 224.0.1.75, answers a
 * phone's ua-profile SUBSCRIBE with 200 OK and sends it a NOTIFY whose body is
 * its provisioning URL. The NOTIFY is retransmitted on RFC 3261 timer E until
 * the phone answers or timer F fires.
 *
 * Malformed or unrelated datagrams are counted and ignored; a SUBSCRIBE for
 * which `provisioningUrlFor` returns null is left unanswered (another
 * provisioning server on the LAN may serve that phone).
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { HotdeskError } from '../core/errors.js';
import type { Vendor } from '../core/model.js';
import { buildPnpNotify, buildPnpOk, PNP_MULTICAST_GROUP, pnpNotifyTarget, recognisePnpSubscribe, type PnpRequest } from '../protocols/pnp.js';
import { getHeader, getHeaders, parseCSeq, parseNameAddr, parseSipMessage, parseVia, toBranch, type SipRequest } from '../protocols/sip-message.js';
import { silentLogger, type Logger } from './logger.js';
import { joinMulticastOnEveryInterface } from './multicast-join.js';
import { localAddressFor } from './sip-notifier.js';

/** A phone seen asking for its provisioning URL. */
export interface PnpSighting {
  readonly mac: string;
  readonly vendor: string;
  readonly vendorId: Vendor | null;
  readonly model: string;
  readonly version: string;
  /** Source address and port of the SUBSCRIBE. */
  readonly address: string;
  readonly port: number;
  /** The URL we answered with, or null when we left the phone to others. */
  readonly url: string | null;
}

/** Options of {@link startPnpResponder}. */
export interface PnpResponderOptions {
  /** UDP port (default 5060; 0 = ephemeral, for tests). */
  readonly port?: number;
  /** IPv4 address of the interface to listen on and join the group on (default: all). */
  readonly interface?: string;
  /** Join the multicast group (phones multicast their SUBSCRIBE). */
  readonly multicast: boolean;
  /** Multicast group (default 224.0.1.75). */
  readonly group?: string;
  /** The provisioning URL for a phone, or null to leave it unanswered. */
  readonly provisioningUrlFor: (pnp: PnpRequest) => string | null;
  readonly onSighting?: (s: PnpSighting) => void;
  /** Our address in Via/Contact (default: the local address that reaches the phone). */
  readonly advertisedHost?: string;
  /** RFC 3261 T1 / T2 / timer F for the NOTIFY (defaults 500 / 4000 / 64*T1 ms). */
  readonly t1Ms?: number;
  readonly t2Ms?: number;
  readonly timeoutMs?: number;
  readonly log?: Logger;
}

/** Counters of what the responder saw. */
export interface PnpStats {
  received: number;
  /** Not parseable as SIP. */
  malformed: number;
  /** SIP, but not a ua-profile device SUBSCRIBE (or a stray response). */
  ignored: number;
  /** PnP SUBSCRIBEs answered with 200 + NOTIFY. */
  answered: number;
  /** PnP SUBSCRIBEs left unanswered (no URL for that phone). */
  declined: number;
  /** Retransmitted SUBSCRIBEs (answered again with the same 200). */
  retransmissions: number;
  /** NOTIFYs the phone acknowledged with a final response. */
  notifyAcknowledged: number;
  /** NOTIFYs given up after timer F. */
  notifyTimedOut: number;
}

/** A running responder. */
export interface PnpResponder {
  readonly port: number;
  readonly stats: Readonly<PnpStats>;
  close(): Promise<void>;
}

const rand = (n: number): string => randomBytes(n).toString('hex');
/** How long a SUBSCRIBE's answer is remembered to absorb its retransmissions (timer J-like, 64*T1). */
const SEEN_TTL_MS = 32_000;
const SEEN_MAX = 4096;

/** Starts the responder; rejects with `port-in-use` when the UDP port is taken. */
export async function startPnpResponder(opts: PnpResponderOptions): Promise<PnpResponder> {
  const log = opts.log ?? silentLogger;
  const group = opts.group ?? PNP_MULTICAST_GROUP;
  const t1 = opts.t1Ms ?? 500;
  const t2 = opts.t2Ms ?? 4000;
  const timeoutMs = opts.timeoutMs ?? 64 * t1;
  const requestedPort = opts.port ?? 5060;
  const stats: PnpStats = {
    received: 0, malformed: 0, ignored: 0, answered: 0, declined: 0, retransmissions: 0, notifyAcknowledged: 0, notifyTimedOut: 0,
  };
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  // Multicast needs the wildcard bind; unicast-only may bind the given interface.
  const bindAddress = opts.multicast || !opts.interface ? '0.0.0.0' : opts.interface;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      socket.close();
      if (e.code === 'EADDRINUSE' || e.code === 'EACCES') {
        reject(
          new HotdeskError(
            'port-in-use',
            e.code === 'EACCES'
              ? `UDP port ${requestedPort} needs privileges: SIP PnP cannot listen there; choose another port with --pnp-port N, or leave --pnp off (docs/deployment.md)`
              : `UDP port ${requestedPort} is in use (a PBX on this host?): SIP PnP cannot listen there; choose another port with --pnp-port N, or leave --pnp off and rely on DHCP (docs/deployment.md)`,
            { port: requestedPort },
          ),
        );
      } else reject(e);
    };
    socket.once('error', onError);
    socket.bind({ port: requestedPort, address: bindAddress, exclusive: false }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  socket.on('error', (e) => log.warn('pnp socket error', { error: e.message }));
  if (opts.multicast) {
    try {
      joinGroup(socket, group, opts.interface, log);
    } catch (e) {
      socket.close();
      throw new HotdeskError('bad-request', `cannot join multicast group ${group}${opts.interface ? ` on ${opts.interface}` : ''}`, {}, { cause: e });
    }
  }
  const port = socket.address().port;

  // Answers to recent SUBSCRIBEs, by transaction key, so a retransmitted SUBSCRIBE gets the same 200.
  const seen = new Map<string, { at: number; ok: string | null; to: { host: string; port: number } }>();
  // NOTIFYs waiting for the phone's answer, by branch.
  const notifies = new Map<string, { timers: NodeJS.Timeout[] }>();
  let closed = false;

  const send = (wire: string, to: { host: string; port: number }): void => {
    if (closed) return;
    socket.send(Buffer.from(wire, 'utf8'), to.port, to.host, (err) => {
      if (err) log.warn('pnp send failed', { host: to.host, port: to.port, error: err.message });
    });
  };

  const sendNotify = (wire: string, branch: string, to: { host: string; port: number }): void => {
    const entry = { timers: [] as NodeJS.Timeout[] };
    notifies.set(branch, entry);
    let interval = t1;
    const retransmit = (): void => {
      entry.timers[0] = setTimeout(() => {
        send(wire, to);
        interval = Math.min(interval * 2, t2);
        retransmit();
      }, interval);
    };
    entry.timers[1] = setTimeout(() => {
      entry.timers.forEach((t) => clearTimeout(t));
      notifies.delete(branch);
      stats.notifyTimedOut += 1;
      log.info('pnp notify unanswered', { host: to.host, port: to.port });
    }, timeoutMs);
    send(wire, to);
    retransmit();
  };

  const onResponse = (msg: { headers: readonly { name: string; value: string }[]; status: number }): void => {
    const branch = parseVia(getHeaders(msg, 'Via')[0] ?? '')?.branch;
    const entry = branch ? notifies.get(branch) : undefined;
    if (!branch || !entry) {
      stats.ignored += 1;
      return;
    }
    if (msg.status < 200) return;
    entry.timers.forEach((t) => clearTimeout(t));
    notifies.delete(branch);
    stats.notifyAcknowledged += 1;
  };

  const onSubscribe = async (req: SipRequest, pnp: PnpRequest, rinfo: dgram.RemoteInfo): Promise<void> => {
    const via = parseVia(getHeaders(req, 'Via')[0] ?? '');
    // RFC 3261 §18.2.2 / RFC 3581: answer the source address; the Via port unless rport asks for the source port.
    const replyTo = { host: rinfo.address, port: via?.rport !== undefined ? rinfo.port : (via?.port ?? 5060) };
    const key = transactionKey(req);
    const now = Date.now();
    const prior = seen.get(key);
    if (prior && now - prior.at < SEEN_TTL_MS) {
      stats.retransmissions += 1;
      if (prior.ok) send(prior.ok, prior.to);
      return;
    }
    let url: string | null = null;
    try {
      url = opts.provisioningUrlFor(pnp);
    } catch (e) {
      log.warn('pnp provisioningUrlFor failed', { mac: pnp.mac, error: e instanceof Error ? e.message : String(e) });
    }
    try {
      opts.onSighting?.({
        mac: pnp.mac, vendor: pnp.vendor, vendorId: pnp.vendorId, model: pnp.model, version: pnp.version,
        address: rinfo.address, port: rinfo.port, url,
      });
    } catch (e) {
      log.warn('pnp onSighting failed', { error: e instanceof Error ? e.message : String(e) });
    }
    remember(seen, key, { at: now, ok: null, to: replyTo });
    if (url === null) {
      stats.declined += 1;
      log.info('pnp phone left unanswered', { mac: pnp.mac, vendor: pnp.vendor, model: pnp.model });
      return;
    }
    const target = pnpNotifyTarget(pnp) ?? { host: rinfo.address, port: rinfo.port };
    const localHost = opts.advertisedHost ?? (bindAddress !== '0.0.0.0' ? bindAddress : await localAddressFor(target.host));
    const local = { host: localHost, port };
    const toTag = rand(6);
    const ok = buildPnpOk(req, { toTag, contact: local });
    remember(seen, key, { at: now, ok, to: replyTo });
    send(ok, replyTo);
    const branch = toBranch(rand(10));
    let notify: string;
    try {
      notify = buildPnpNotify({ request: req, pnp, local, toTag, branch, cseq: 1, url });
    } catch (e) {
      log.warn('pnp notify not built', { mac: pnp.mac, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    stats.answered += 1;
    log.info('pnp phone answered', { mac: pnp.mac, vendor: pnp.vendor, model: pnp.model, address: rinfo.address });
    sendNotify(notify, branch, target);
  };

  socket.on('message', (msg, rinfo) => {
    stats.received += 1;
    const parsed = parseSipMessage(msg);
    if (!parsed.ok) {
      stats.malformed += 1;
      return;
    }
    const m = parsed.message;
    if (m.kind === 'response') {
      onResponse(m);
      return;
    }
    const rec = recognisePnpSubscribe(m);
    if (!rec.ok) {
      if (rec.reason === 'malformed') stats.malformed += 1;
      else stats.ignored += 1;
      return;
    }
    onSubscribe(m, rec.pnp, rinfo).catch((e: unknown) => log.warn('pnp answer failed', { error: e instanceof Error ? e.message : String(e) }));
  });

  log.info('pnp responder listening', { port, multicast: opts.multicast, group });
  return {
    port,
    stats,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const n of notifies.values()) n.timers.forEach((t) => clearTimeout(t));
      notifies.clear();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

function transactionKey(req: SipRequest): string {
  const fromTag = parseNameAddr(getHeader(req, 'From') ?? '')?.params.get('tag') ?? '';
  const cseq = parseCSeq(getHeader(req, 'CSeq'));
  return `${getHeader(req, 'Call-ID') ?? ''}|${fromTag}|${cseq?.seq ?? ''}`;
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > SEEN_MAX) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}

/** Joins `group` on the given interface, or on every IPv4 interface (falling back to the kernel's choice). */
function joinGroup(socket: dgram.Socket, group: string, iface: string | undefined, log: Logger): void {
  if (iface) {
    socket.addMembership(group, iface);
    return;
  }
  joinMulticastOnEveryInterface(socket, group, log, 'pnp');
}
