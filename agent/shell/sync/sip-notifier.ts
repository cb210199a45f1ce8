/**
 * Sends SIP NOTIFY check-sync to phones over UDP (docs/behaviour.md §9,
 * docs/vendors.md "Check-sync") as an RFC 3261 §17.1.2 non-INVITE client
 * transaction (retransmissions and timers: protocols/sip-client-transaction.ts,
 * run by sip-transaction-driver.ts), and answers one 401/407 challenge with
 * digest credentials (RFC 3261 §22.2).
 *
 * One UDP socket carries every transaction; responses are matched by Via
 * branch and CSeq, and accepted only from the address and port the NOTIFY was
 * sent to, so concurrent notifies never wait on each other and a stranger
 * cannot answer for a phone. A challenge is answered only when its realm is
 * the one configured for the line (`realm`): credentials never go to a
 * challenger the site did not name. They are used only to compute the digest
 * and are never logged.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { HotdeskError } from '../../core/errors.js';
import { buildDigestAuthorization, chooseDigestChallenge } from '../../protocols/sip-digest.js';
import { buildCheckSyncNotify, checkSyncRequestUri } from '../../protocols/sip-check-sync.js';
import { getHeaders, parseSipMessage, toBranch } from '../../protocols/sip-message.js';
import type { SipParseResult, SipResponse } from '../../protocols/sip-message.js';
import { silentLogger, type Logger } from '../logger.js';
import { SipTransactionDriver } from '../sip/sip-transaction-driver.js';

/** Options of {@link SipNotifier}. */
export interface SipNotifierOptions {
  /** Address to bind (default `0.0.0.0`). */
  readonly host?: string;
  /** UDP port to bind (default 0: ephemeral). */
  readonly port?: number;
  /**
   * Address written in Via/From, i.e. where phones send answers. Default: the
   * bound address, or when bound to the wildcard, the local address the
   * kernel would use to reach each phone.
   */
  readonly advertisedHost?: string;
  /** RFC 3261 T1, round-trip estimate (default 500 ms). */
  readonly t1Ms?: number;
  /** RFC 3261 T2, maximum retransmit interval (default 4000 ms). */
  readonly t2Ms?: number;
  /** Timer F, transaction timeout (default 64*T1). */
  readonly timeoutMs?: number;
  readonly userAgent?: string;
  readonly log?: Logger;
}

/** What to notify. */
export interface NotifyRequest {
  readonly host: string;
  readonly port: number;
  /** Event header value (`check-sync`, `check-sync;reboot=false`). */
  readonly event: string;
  /** User part of the Request-URI. */
  readonly requestUser: string;
  /** Line credentials used only to answer a 401/407 challenge. */
  readonly credentials?: { readonly username: string; readonly password: string };
  /**
   * The only digest realm the credentials may answer (the site's PBX realm).
   * Absent: a challenge is never answered and its status is returned.
   */
  readonly realm?: string;
  /**
   * Answer a challenge in any realm: only for the phone's own hot-desk line credentials sent
   * to the address that line registered from (the challenger proved it holds them).
   */
  readonly anyRealm?: boolean;
}

/**
 * Outcome of a notify: the final status (2xx accepted; 4xx-6xx refused; the
 * caller decides), `attempts` = datagrams sent including retransmissions and
 * the authenticated resend, `elapsedMs` from first send to final answer.
 */
export interface NotifyResult {
  readonly status: number;
  readonly attempts: number;
  readonly elapsedMs: number;
}

const rand = (bytes: number): string => randomBytes(bytes).toString('hex');

/** A check-sync NOTIFY sender bound to one UDP socket. */
export class SipNotifier {
  private readonly socket: dgram.Socket;
  private readonly transactions: SipTransactionDriver;
  private readonly log: Logger;
  private readonly localFor = new Map<string, Promise<string>>();
  private ready: Promise<void> | null = null;
  private closed = false;
  private boundPort = 0;
  private requestHandler: ((parsed: SipParseResult, raw: Buffer, from: dgram.RemoteInfo) => void) | undefined;

  constructor(private readonly opts: SipNotifierOptions = {}) {
    this.log = opts.log ?? silentLogger;
    this.socket = dgram.createSocket({ type: opts.host && isIP(opts.host) === 6 ? 'udp6' : 'udp4' });
    this.transactions = new SipTransactionDriver({
      socket: this.socket,
      timers: { t1Ms: opts.t1Ms, t2Ms: opts.t2Ms, timeoutMs: opts.timeoutMs },
    });
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.socket.on('error', (e) => this.log.warn('sip notifier socket error', { error: e.message }));
  }

  /** Creates a notifier and binds its socket (rejects with `port-in-use` when the port is taken). */
  static async open(opts: SipNotifierOptions = {}): Promise<SipNotifier> {
    const n = new SipNotifier(opts);
    try {
      await n.start();
    } catch (e) {
      await n.close();
      throw e;
    }
    return n;
  }

  /** Binds the socket (idempotent; `notify` calls it). Rejects with `port-in-use` when the port is taken. */
  start(): Promise<void> {
    this.ready ??= new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException): void => {
        reject(
          e.code === 'EADDRINUSE' || e.code === 'EACCES' ? new HotdeskError('port-in-use', `SIP notifier UDP port ${this.opts.port ?? 0} is not available`) : e,
        );
      };
      this.socket.once('error', onError);
      this.socket.bind({ port: this.opts.port ?? 0, address: this.opts.host ?? '0.0.0.0' }, () => {
        this.socket.off('error', onError);
        this.boundPort = this.socket.address().port;
        // Answers to a burst of notifies arrive together: a larger buffer avoids drops (capped by net.core.rmem_max).
        try {
          this.socket.setRecvBufferSize(1 << 20);
        } catch {
          // keep the default
        }
        resolve();
      });
    });
    return this.ready;
  }

  /** The bound UDP port (after `start`). */
  get port(): number {
    return this.boundPort;
  }

  /** Number of transactions waiting for an answer. */
  get inFlight(): number {
    return this.transactions.size;
  }

  /**
   * Sends NOTIFY and resolves with the final status, whatever it is (the
   * caller decides what a refusal means). Rejects with HotdeskError
   * `sip-timeout` when no final answer arrives before timer F, and
   * `sip-unreachable` when the datagram cannot be sent. A 401/407 is answered
   * once when credentials are given; otherwise its status is returned.
   */
  async notify(req: NotifyRequest): Promise<NotifyResult> {
    if (this.closed) throw new HotdeskError('internal', 'SIP notifier is closed');
    await this.start();
    const started = performance.now();
    const local = { host: await this.localHost(req.host), port: this.boundPort };
    const callId = `${rand(12)}@hotdesk`;
    const fromTag = rand(6);
    let attempts = 0;
    let cseq = 1;
    let authorization: { header: 'Authorization' | 'Proxy-Authorization'; value: string } | undefined;
    for (;;) {
      const branch = toBranch(rand(10));
      const wire = buildCheckSyncNotify({
        target: { host: req.host, port: req.port },
        requestUser: req.requestUser,
        local,
        event: req.event,
        branch,
        fromTag,
        callId,
        cseq,
        ...(authorization ? { authorization } : {}),
        ...(this.opts.userAgent ? { userAgent: this.opts.userAgent } : {}),
      });
      const { res, sent } = await this.transact(branch, cseq, Buffer.from(wire, 'utf8'), req);
      attempts += sent;
      const challenged = (res.status === 401 || res.status === 407) && !authorization;
      const challenge = challenged ? chooseDigestChallenge(getHeaders(res, res.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate')) : null;
      // Answer only the realm the site named for this line: a challenge for any other realm
      // (or with no realm configured) gets no credentials at all.
      const realmOk = req.anyRealm === true || (req.realm !== undefined && challenge?.realm === req.realm);
      if (!challenge || !req.credentials || !realmOk) {
        const elapsedMs = Math.round(performance.now() - started);
        if (challenge && req.credentials)
          this.log.info('sip challenge not answered (realm is not the site PBX realm)', { host: req.host, port: req.port, status: res.status });
        this.log.debug('sip notify answered', { host: req.host, port: req.port, status: res.status, attempts, elapsedMs });
        return { status: res.status, attempts, elapsedMs };
      }
      const uri = checkSyncRequestUri({ host: req.host, port: req.port }, req.requestUser);
      authorization = {
        header: res.status === 401 ? 'Authorization' : 'Proxy-Authorization',
        value: buildDigestAuthorization({
          challenge,
          username: req.credentials.username,
          password: req.credentials.password,
          method: 'NOTIFY',
          uri,
          cnonce: rand(8),
        }),
      };
      cseq += 1;
    }
  }

  /** One client transaction: resolves with the final answer, rejects with a coded error otherwise. */
  private async transact(branch: string, cseq: number, wire: Buffer, req: NotifyRequest): Promise<{ res: SipResponse; sent: number }> {
    if (this.closed) throw new HotdeskError('internal', 'SIP notifier closed');
    const to = { host: req.host, port: req.port };
    const outcome = await this.transactions.start({ wire, branch, cseq, method: 'NOTIFY', to });
    switch (outcome.kind) {
      case 'final':
        return { res: outcome.response, sent: outcome.sent };
      case 'timeout':
        throw new HotdeskError('sip-timeout', `no final SIP answer from ${req.host}:${req.port}`, { ...to, attempts: outcome.sent });
      case 'unreachable':
        throw new HotdeskError('sip-unreachable', `SIP NOTIFY to ${req.host}:${req.port} could not be sent`, { ...to, reason: outcome.reason });
      case 'cancelled':
        throw new HotdeskError('internal', 'SIP notifier closed');
    }
  }

  private onMessage(msg: Buffer, from: dgram.RemoteInfo): void {
    const parsed = parseSipMessage(msg);
    // Answers to NOTIFYs are ours; requests, unparseable datagrams and answers to the voice
    // server's own requests (BYE) belong to the voice server sharing this port.
    if (parsed.ok && parsed.message.kind === 'response' && this.transactions.receive(parsed.message, from)) return;
    this.requestHandler?.(parsed, msg, from);
  }

  /**
   * Hands every datagram on this socket that is not an answer to a NOTIFY to
   * `handler` (the hot-desk line's registrar and call server share the port:
   * one SIP port for the line, the registrar and the NOTIFY source).
   */
  setRequestHandler(handler: ((parsed: SipParseResult, raw: Buffer, from: dgram.RemoteInfo) => void) | null): void {
    this.requestHandler = handler ?? undefined;
  }

  /** Sends one datagram from the SIP socket (answers and requests of the voice server). */
  send(wire: string | Uint8Array, host: string, port: number): void {
    if (this.closed) return;
    const data = typeof wire === 'string' ? Buffer.from(wire, 'utf8') : wire;
    this.socket.send(data, port, host, (e) => {
      if (e) this.log.debug('sip send failed', { host, port, error: e.message });
    });
  }

  /** Our address as seen from `target` (the advertised or bound address, else the kernel's choice). */
  localAddress(target: string): Promise<string> {
    return this.localHost(target);
  }

  /** Our address as seen from `target` (cached per target). */
  private localHost(target: string): Promise<string> {
    if (this.opts.advertisedHost) return Promise.resolve(this.opts.advertisedHost);
    const bound = this.opts.host;
    if (bound && bound !== '0.0.0.0' && bound !== '::') return Promise.resolve(bound);
    let p = this.localFor.get(target);
    if (!p) {
      p = localAddressFor(target);
      this.localFor.set(target, p);
    }
    return p;
  }

  /** Closes the socket; notifies still waiting reject with `internal`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.transactions.cancelAll();
    if (this.ready) await this.ready.catch(() => undefined);
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed (failed bind)
      }
    });
  }
}

/**
 * The source address the kernel picks to reach `target` (found by connecting
 * a throw-away UDP socket, which sends nothing); loopback when unknown.
 */
export function localAddressFor(target: string): Promise<string> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(isIP(target) === 6 ? 'udp6' : 'udp4');
    const done = (addr: string): void => {
      try {
        s.close();
      } catch {
        // already closed
      }
      resolve(addr);
    };
    s.on('error', () => done(isIP(target) === 6 ? '::1' : '127.0.0.1'));
    s.connect(9, target, () => done(s.address().address));
  });
}
