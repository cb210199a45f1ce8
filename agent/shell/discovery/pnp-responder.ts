/**
 * SIP PnP responder (docs/vendors.md "SIP PnP"; RFC 6080 §4.1): listens
 * on UDP (default 5060), joins the PnP multicast group 224.0.1.75, answers a
 * phone's ua-profile SUBSCRIBE with 200 OK and sends it a NOTIFY whose body is
 * its provisioning URL. The NOTIFY is an RFC 3261 §17.1.2 non-INVITE client
 * transaction (protocols/sip-client-transaction.ts, run by
 * sip-transaction-driver.ts): retransmitted on timer E until the phone
 * answers, at most `notifyRetransmits` times, given up at timer F, and only an
 * answer from the address and port it went to counts.
 *
 * Hardened against reflection, since a SUBSCRIBE is one unauthenticated
 * datagram whose source is easily forged:
 * - answers (200 and NOTIFY) go only to the SUBSCRIBE's source address and
 *   port, never to a Contact or Via host that differs (RFC 3581 symmetric
 *   response, applied to the NOTIFY too), and no name from a packet is ever
 *   resolved: the sockets' lookup accepts IP literals only;
 * - answers are budgeted per source address and overall (token buckets,
 *   bounded state), so a flood gets a bounded number of answers, and the
 *   NOTIFYs waiting for an answer are capped;
 * - the unicast socket binds `host` when one is given; multicast then arrives
 *   on a second socket bound to the group address, joined on `interface`.
 *
 * Malformed or unrelated datagrams are counted and ignored; a SUBSCRIBE for
 * which `provisioningUrlFor` returns null is left unanswered (another
 * provisioning server on the LAN may serve that phone).
 */
import { randomBytes } from 'node:crypto';
import type dgram from 'node:dgram';
import { isHotdeskError } from '../../core/errors.js';
import type { Vendor } from '../../core/model.js';
import { KeyedTokenBuckets } from '../../core/token-buckets.js';
import { buildPnpNotify, buildPnpOk, PNP_MULTICAST_GROUP, recognisePnpSubscribe, type PnpRequest } from '../../protocols/pnp.js';
import { getHeader, parseCSeq, parseNameAddr, parseSipMessage, toBranch, type SipRequest } from '../../protocols/sip-message.js';
import { silentLogger, type Logger } from '../logger.js';
import { multicastJoinError } from './multicast-join.js';
import { bindPnpSocket, ipLiteralLookup, joinGroup } from './pnp-sockets.js';
import { localAddressFor } from '../sync/sip-notifier.js';
import { SipTransactionDriver } from '../sip/sip-transaction-driver.js';

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
  /** IPv4 address the unicast socket binds (`--host`; default: `interface` when multicast is off, else all). */
  readonly host?: string;
  /** IPv4 address of the interface to join the group on (default: `host`, else every interface). */
  readonly interface?: string;
  /** Join the multicast group (phones multicast their SUBSCRIBE). */
  readonly multicast: boolean;
  /** Multicast group (default 224.0.1.75). */
  readonly group?: string;
  /** The provisioning URL for a phone, or null to leave it unanswered. */
  readonly provisioningUrlFor: (pnp: PnpRequest) => string | null | Promise<string | null>;
  /** Told of every SUBSCRIBE taken, before it is answered (a promise it returns is awaited). */
  readonly onSighting?: (s: PnpSighting) => unknown;
  /** Our address in Via/Contact (default: the local address that reaches the phone). */
  readonly advertisedHost?: string;
  /** RFC 3261 T1 / T2 / timer F for the NOTIFY (defaults 500 / 4000 / 64*T1 ms). */
  readonly t1Ms?: number;
  readonly t2Ms?: number;
  readonly timeoutMs?: number;
  /** Answer budgets and caps (see {@link PnpLimits}). */
  readonly limits?: Partial<PnpLimits>;
  /** Millisecond clock for the budgets. Default `Date.now`. */
  readonly clock?: () => number;
  /**
   * Address lookup of the sockets (tests watch it). Default: IP literals only;
   * a name fails without any DNS query. It is never given a name from a packet.
   */
  readonly lookup?: dgram.SocketOptions['lookup'];
  readonly log?: Logger;
}

/** Bounds on what the responder sends (defaults in {@link DEFAULT_PNP_LIMITS}). */
export interface PnpLimits {
  /** SUBSCRIBEs answered at once from one source address (a 200 resent to a retransmission counts too). */
  readonly perSourceBurst: number;
  /** One more answer per source every this many ms. */
  readonly perSourceIntervalMs: number;
  /** Answers at once, all sources together. */
  readonly globalBurst: number;
  /** One more answer overall every this many ms. */
  readonly globalIntervalMs: number;
  /** Source addresses whose budget is remembered (least recently seen forgotten first). */
  readonly maxSources: number;
  /** NOTIFYs waiting for the phone's answer at once; beyond, a SUBSCRIBE is not answered. */
  readonly maxPendingNotifies: number;
  /** Retransmissions of one NOTIFY (timer E) before waiting silently for timer F. */
  readonly notifyRetransmits: number;
}

/**
 * Defaults: a booting phone sends one SUBSCRIBE (plus retransmissions if our
 * 200 is lost); 6 at once and one per 10 s per address leaves room for that
 * and for a reboot loop, and 60 at once and 10 per second overall for a
 * whole floor powering up together.
 */
export const DEFAULT_PNP_LIMITS: PnpLimits = {
  perSourceBurst: 6,
  perSourceIntervalMs: 10_000,
  globalBurst: 60,
  globalIntervalMs: 100,
  maxSources: 4096,
  maxPendingNotifies: 256,
  notifyRetransmits: 3,
};

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
  /** NOTIFYs that could not be sent at all (no route to the phone). */
  notifyUnsent: number;
  /** SUBSCRIBEs left unanswered because a budget or the pending-NOTIFY cap was exhausted. */
  rateLimited: number;
  /** Datagrams sent: 200 OKs (first and repeated) and NOTIFYs (first and retransmitted). */
  okSent: number;
  notifySent: number;
}

/** A running responder. */
export interface PnpResponder {
  readonly port: number;
  /** Address the unicast socket is bound to (`0.0.0.0` = all). */
  readonly host: string;
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
  const requestedPort = opts.port ?? 5060;
  const limits: PnpLimits = { ...DEFAULT_PNP_LIMITS, ...opts.limits };
  const clock = opts.clock ?? Date.now;
  const lookup = opts.lookup ?? ipLiteralLookup;
  const stats: PnpStats = {
    received: 0,
    malformed: 0,
    ignored: 0,
    answered: 0,
    declined: 0,
    retransmissions: 0,
    notifyAcknowledged: 0,
    notifyTimedOut: 0,
    notifyUnsent: 0,
    rateLimited: 0,
    okSent: 0,
    notifySent: 0,
  };
  const wildcard = (a: string | undefined): boolean => a === undefined || a === '0.0.0.0';
  // The unicast socket binds --host; without one, multicast needs the wildcard and unicast-only may bind the interface.
  const bindAddress = !wildcard(opts.host) ? (opts.host as string) : !opts.multicast && opts.interface ? opts.interface : '0.0.0.0';
  const joinOn = opts.interface ?? (bindAddress !== '0.0.0.0' ? bindAddress : undefined);
  const socket = await bindPnpSocket(bindAddress, requestedPort, lookup);
  socket.on('error', (e) => log.warn('pnp socket error', { error: e.message }));
  const port = socket.address().port;
  // With a unicast address bound, multicast SUBSCRIBEs arrive on a second socket bound to the group (Linux).
  let groupSocket: dgram.Socket | null = null;
  if (opts.multicast) {
    try {
      if (bindAddress === '0.0.0.0') joinGroup(socket, group, joinOn, log);
      else {
        groupSocket = await bindPnpSocket(group, port, lookup);
        groupSocket.on('error', (e) => log.warn('pnp multicast socket error', { error: e.message }));
        joinGroup(groupSocket, group, joinOn, log);
      }
    } catch (e) {
      socket.close();
      groupSocket?.close();
      if (isHotdeskError(e)) throw e;
      throw multicastJoinError(group, joinOn, e);
    }
  }

  // Answers to recent SUBSCRIBEs, by transaction key, so a retransmitted SUBSCRIBE gets the same 200.
  const seen = new Map<string, { at: number; ok: string | null; to: { host: string; port: number } }>();
  // NOTIFYs waiting for the phone's answer.
  const notifies = new SipTransactionDriver({
    socket,
    timers: { t1Ms: opts.t1Ms, t2Ms: opts.t2Ms, timeoutMs: opts.timeoutMs, maxRetransmits: limits.notifyRetransmits },
    onTransmit: () => {
      stats.notifySent += 1;
    },
  });
  const perSource = new KeyedTokenBuckets({ capacity: limits.perSourceBurst, refillMs: limits.perSourceIntervalMs, maxKeys: limits.maxSources });
  const overall = new KeyedTokenBuckets({ capacity: limits.globalBurst, refillMs: limits.globalIntervalMs, maxKeys: 1 });
  let closed = false;

  /** Spends one answer of `address`'s budget and of the global one; false (nothing spent) when either is empty. */
  const spend = (address: string, now: number): boolean => {
    if (!perSource.peek(address, now) || !overall.peek('*', now)) return false;
    perSource.take(address, now);
    overall.take('*', now);
    return true;
  };

  const send = (wire: string, to: { host: string; port: number }): void => {
    if (closed) return;
    socket.send(Buffer.from(wire, 'utf8'), to.port, to.host, (err) => {
      if (err) log.warn('pnp send failed', { host: to.host, port: to.port, error: err.message });
    });
  };

  const sendNotify = (wire: string, branch: string, to: { host: string; port: number }): void => {
    if (closed) return;
    notifies.start({ wire: Buffer.from(wire, 'utf8'), branch, cseq: 1, method: 'NOTIFY', to }).then(
      (outcome) => {
        if (outcome.kind === 'final') stats.notifyAcknowledged += 1;
        else if (outcome.kind === 'timeout') {
          stats.notifyTimedOut += 1;
          log.info('pnp notify unanswered', { host: to.host, port: to.port });
        } else if (outcome.kind === 'unreachable') {
          stats.notifyUnsent += 1;
          log.warn('pnp notify not sent', { host: to.host, port: to.port, error: outcome.reason });
        }
      },
      (e: unknown) => log.warn('pnp notify failed', { error: e instanceof Error ? e.message : String(e) }),
    );
  };

  const onSubscribe = async (req: SipRequest, pnp: PnpRequest, rinfo: dgram.RemoteInfo): Promise<void> => {
    // RFC 3581 symmetric response, for the 200 and the NOTIFY alike: the source address and port,
    // never a Via or Contact host (a third party) nor a name to resolve.
    const replyTo = { host: rinfo.address, port: rinfo.port };
    const key = transactionKey(req);
    const now = clock();
    const prior = seen.get(key);
    if (prior && now - prior.at < SEEN_TTL_MS) {
      stats.retransmissions += 1;
      if (!prior.ok || prior.to.host !== replyTo.host || prior.to.port !== replyTo.port) return;
      if (!spend(replyTo.host, now)) {
        stats.rateLimited += 1;
        return;
      }
      stats.okSent += 1;
      send(prior.ok, prior.to);
      return;
    }
    if (notifies.size >= limits.maxPendingNotifies || !spend(replyTo.host, now)) {
      stats.rateLimited += 1;
      log.debug('pnp subscribe over budget', { address: rinfo.address, pending: notifies.size });
      return;
    }
    // Taken now: a retransmission that arrives while the store is asked is dropped, like one that arrives before the 200 is built.
    remember(seen, key, { at: now, ok: null, to: replyTo });
    let url: string | null = null;
    try {
      url = await opts.provisioningUrlFor(pnp);
    } catch (e) {
      log.warn('pnp provisioningUrlFor failed', { mac: pnp.mac, error: e instanceof Error ? e.message : String(e) });
    }
    try {
      await opts.onSighting?.({
        mac: pnp.mac,
        vendor: pnp.vendor,
        vendorId: pnp.vendorId,
        model: pnp.model,
        version: pnp.version,
        address: rinfo.address,
        port: rinfo.port,
        url,
      });
    } catch (e) {
      log.warn('pnp onSighting failed', { error: e instanceof Error ? e.message : String(e) });
    }
    if (url === null) {
      stats.declined += 1;
      log.info('pnp phone left unanswered', { mac: pnp.mac, vendor: pnp.vendor, model: pnp.model });
      return;
    }
    const localHost = opts.advertisedHost ?? (bindAddress !== '0.0.0.0' ? bindAddress : await localAddressFor(replyTo.host));
    const local = { host: localHost, port };
    const toTag = rand(6);
    const ok = buildPnpOk(req, { toTag, contact: local });
    remember(seen, key, { at: now, ok, to: replyTo });
    stats.okSent += 1;
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
    sendNotify(notify, branch, replyTo);
  };

  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    stats.received += 1;
    const parsed = parseSipMessage(msg);
    if (!parsed.ok) {
      stats.malformed += 1;
      return;
    }
    const m = parsed.message;
    if (m.kind === 'response') {
      if (!notifies.receive(m, rinfo)) stats.ignored += 1;
      return;
    }
    const rec = recognisePnpSubscribe(m);
    if (!rec.ok) {
      if (rec.reason === 'malformed') stats.malformed += 1;
      else stats.ignored += 1;
      return;
    }
    onSubscribe(m, rec.pnp, rinfo).catch((e: unknown) => log.warn('pnp answer failed', { error: e instanceof Error ? e.message : String(e) }));
  };
  socket.on('message', onMessage);
  groupSocket?.on('message', onMessage);

  log.info('pnp responder listening', { host: bindAddress, port, multicast: opts.multicast, group });
  return {
    port,
    host: bindAddress,
    stats,
    close: async () => {
      if (closed) return;
      closed = true;
      notifies.cancelAll();
      await Promise.all([socket, groupSocket].map((s) => (s ? new Promise<void>((resolve) => s.close(() => resolve())) : undefined)));
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
