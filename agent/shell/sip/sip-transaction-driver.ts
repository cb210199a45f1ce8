/**
 * Runs RFC 3261 §17.1.2 non-INVITE client transactions (the pure machine in
 * protocols/sip-client-transaction.ts) on a UDP socket: it owns the real
 * timers, sends the datagrams the machine asks for, and matches answers.
 *
 * An answer belongs to a transaction when its top Via branch, its CSeq number
 * and method are the request's (RFC 3261 §17.1.3) AND it comes from the
 * address and port the request went to: a stranger who saw the request cannot
 * answer (or challenge) for its destination. The socket's owner reads the
 * socket and hands every parsed response to {@link SipTransactionDriver.receive}.
 * Used by the check-sync notifier and the SIP PnP responder.
 */
import type dgram from 'node:dgram';
import {
  onClientResponse,
  onClientTimer,
  startClientTransaction,
  type ClientTransactionState,
  type SipTimerOverrides,
} from '../../protocols/sip-client-transaction.js';
import { getHeader, getHeaders, parseCSeq, parseVia, type SipResponse } from '../../protocols/sip-message.js';

/** Where a request goes (an IP literal and a port). */
export interface SipDestination {
  readonly host: string;
  readonly port: number;
}

/** One request to run as a client transaction. */
export interface ClientRequest {
  /** The request as sent (retransmissions send these same bytes). */
  readonly wire: Buffer;
  /** Via branch of the request (the transaction id, RFC 3261 §17.1.3). */
  readonly branch: string;
  readonly cseq: number;
  readonly method: string;
  readonly to: SipDestination;
}

/**
 * How a transaction ended: a final answer; timer F (`timeout`); the datagram
 * could not be sent (`unreachable`); or the driver was closed (`cancelled`).
 * `sent` counts datagrams, the first one included.
 */
export type ClientOutcome =
  | { readonly kind: 'final'; readonly response: SipResponse; readonly sent: number; readonly elapsedMs: number }
  | { readonly kind: 'timeout'; readonly sent: number; readonly elapsedMs: number }
  | { readonly kind: 'unreachable'; readonly sent: number; readonly reason: string; readonly code?: string }
  | { readonly kind: 'cancelled'; readonly sent: number };

/** Options of {@link SipTransactionDriver}. */
export interface SipTransactionDriverOptions {
  /** A bound UDP socket to send on (its owner reads it). */
  readonly socket: dgram.Socket;
  /** The socket is connected to the one destination of its requests: send without an address. */
  readonly connected?: boolean;
  /** Timer values of every transaction (RFC 3261 defaults otherwise). */
  readonly timers?: SipTimerOverrides;
  /** Monotonic millisecond clock (default `performance.now`). */
  readonly clock?: () => number;
  /** Told of every datagram sent (`retransmission` false for the first). */
  readonly onTransmit?: (retransmission: boolean) => void;
}

interface Live {
  readonly req: ClientRequest;
  state: ClientTransactionState;
  timer: NodeJS.Timeout | undefined;
  readonly settle: (o: ClientOutcome) => void;
}

/** True when a datagram's source address is the host a request went to (IPv4-mapped forms equal). */
export function sameHost(source: string, target: string): boolean {
  const strip = (a: string): string => (a.startsWith('::ffff:') ? a.slice(7) : a).toLowerCase();
  return strip(source) === strip(target);
}

/** Client transactions in flight on one socket. */
export class SipTransactionDriver {
  private readonly live = new Map<string, Live>();
  private readonly clock: () => number;

  constructor(private readonly o: SipTransactionDriverOptions) {
    this.clock = o.clock ?? (() => performance.now());
  }

  /** Transactions waiting for a final answer. */
  get size(): number {
    return this.live.size;
  }

  /** Sends `req` and resolves with how its transaction ended (never rejects). */
  start(req: ClientRequest): Promise<ClientOutcome> {
    if (this.live.has(req.branch)) return Promise.reject(new RangeError(`a transaction with branch ${req.branch} is already running`));
    return new Promise((settle) => {
      const first = startClientTransaction(this.clock(), this.o.timers);
      const tx: Live = { req, state: first.state, timer: undefined, settle };
      this.live.set(req.branch, tx);
      this.transmit(tx, false);
      if (this.live.get(req.branch) === tx) this.arm(tx, first.wakeAt);
    });
  }

  /**
   * Offers a received response; true when it belonged to a transaction in
   * flight (from the request's destination, same branch, CSeq and method).
   */
  receive(res: SipResponse, from: { readonly address: string; readonly port: number }): boolean {
    const branch = parseVia(getHeaders(res, 'Via')[0] ?? '')?.branch;
    const tx = branch ? this.live.get(branch) : undefined;
    if (!tx) return false;
    const cseq = parseCSeq(getHeader(res, 'CSeq'));
    if (!cseq || cseq.seq !== tx.req.cseq || cseq.method !== tx.req.method) return false;
    if (!sameHost(from.address, tx.req.to.host) || from.port !== tx.req.to.port) return false;
    const now = this.clock();
    const s = onClientResponse(tx.state, res.status, now);
    tx.state = s.state;
    if (s.event === 'final') this.finish(tx, { kind: 'final', response: res, sent: s.state.sent, elapsedMs: now - s.state.startedAt });
    return true;
  }

  /** Ends every transaction in flight as `cancelled` (sends nothing more). */
  cancelAll(): void {
    for (const tx of [...this.live.values()]) this.finish(tx, { kind: 'cancelled', sent: tx.state.sent });
  }

  private arm(tx: Live, wakeAt: number | null): void {
    clearTimeout(tx.timer);
    tx.timer = wakeAt === null ? undefined : setTimeout(() => this.tick(tx), Math.max(1, Math.ceil(wakeAt - this.clock())));
  }

  private tick(tx: Live): void {
    if (this.live.get(tx.req.branch) !== tx) return;
    const now = this.clock();
    const s = onClientTimer(tx.state, now);
    tx.state = s.state;
    if (s.event === 'timeout') {
      this.finish(tx, { kind: 'timeout', sent: s.state.sent, elapsedMs: now - s.state.startedAt });
      return;
    }
    if (s.transmit) this.transmit(tx, true);
    this.arm(tx, s.wakeAt);
  }

  private transmit(tx: Live, retransmission: boolean): void {
    this.o.onTransmit?.(retransmission);
    const { host, port } = tx.req.to;
    const failed = (err: NodeJS.ErrnoException): void => {
      const code = typeof err.code === 'string' ? { code: err.code } : {};
      if (this.live.get(tx.req.branch) === tx) this.finish(tx, { kind: 'unreachable', sent: tx.state.sent, reason: err.message, ...code });
    };
    try {
      const done = (err: Error | null): void => {
        if (err) failed(err);
      };
      if (this.o.connected) this.o.socket.send(tx.req.wire, done);
      else this.o.socket.send(tx.req.wire, port, host, done);
    } catch (e) {
      failed(e instanceof Error ? e : new Error(String(e))); // socket closed, bad address
    }
  }

  private finish(tx: Live, outcome: ClientOutcome): void {
    clearTimeout(tx.timer);
    this.live.delete(tx.req.branch);
    tx.settle(outcome);
  }
}
