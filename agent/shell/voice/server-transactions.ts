/**
 * Runs RFC 3261 §17.2 server transactions (the pure machine in
 * protocols/sip-server-transaction.ts) for the voice server: it keeps one
 * entry per transaction key, owns the timers, and sends what the machine
 * says to the request's source. A retransmitted request is absorbed here (the
 * last answer is sent again) and never reaches the registrar or a call twice.
 *
 * The table is bounded: when `maxTransactions` are open a new request is not
 * taken (the caller answers 503 statelessly or drops it), so a flood cannot
 * grow the agent's memory.
 */
import type { SipRequest } from '../../protocols/sip-message.js';
import type { SipSource } from '../../protocols/sip-response-builder.js';
import {
  onServerRequest,
  onServerRespond,
  onServerTimer,
  type ServerTimerOverrides,
  type ServerTransactionState,
  type ServerTransactionStep,
  startServerTransaction,
  transactionKey,
} from '../../protocols/sip-server-transaction.js';
import type { SipHeader } from '../../protocols/sip-message.js';

/** Sends one datagram to an address. */
export type SendFn = (wire: string, to: SipSource) => void;

interface Entry {
  state: ServerTransactionState;
  readonly to: SipSource;
  timer: NodeJS.Timeout | undefined;
}

/** What {@link ServerTransactions.receive} found. */
export type Received =
  /** A new transaction: process the request, then answer with {@link ServerTransactions.respond}. */
  | { readonly kind: 'new'; readonly key: string }
  /** A retransmission or the ACK of a failure answer: already handled. */
  | { readonly kind: 'absorbed' }
  /** No transaction (a 2xx ACK, or a request without Via/CSeq): the caller decides. */
  | { readonly kind: 'none' }
  /** The table is full. */
  | { readonly kind: 'full' };

/** The open server transactions of one SIP socket. */
export class ServerTransactions {
  private readonly open = new Map<string, Entry>();

  constructor(
    private readonly o: {
      readonly send: SendFn;
      readonly clock?: () => number;
      readonly timers?: ServerTimerOverrides;
      readonly maxTransactions?: number;
      /** Headers of the automatic 100 Trying (Server). */
      readonly tryingHeaders?: readonly SipHeader[];
    },
  ) {}

  private now(): number {
    return (this.o.clock ?? (() => performance.now()))();
  }

  /** Transactions open now. */
  get size(): number {
    return this.open.size;
  }

  /** Offers a request: a new transaction is started (an INVITE's 100 Trying is sent at once). */
  receive(req: SipRequest, source: SipSource): Received {
    const key = transactionKey(req);
    if (key === null) return { kind: 'none' };
    const known = this.open.get(key);
    if (known) {
      this.apply(key, known, onServerRequest(known.state, req, this.now()));
      return { kind: 'absorbed' };
    }
    if (req.method === 'ACK') return { kind: 'none' };
    if (this.open.size >= (this.o.maxTransactions ?? 10_000)) return { kind: 'full' };
    const step = startServerTransaction(req, this.now(), this.o.timers, { source, ...(this.o.tryingHeaders ? { tryingHeaders: this.o.tryingHeaders } : {}) });
    const entry: Entry = { state: step.state, to: source, timer: undefined };
    this.open.set(key, entry);
    this.apply(key, entry, step);
    return { kind: 'new', key };
  }

  /** The answer to the request of transaction `key` (sent once; later answers are refused by the machine). */
  respond(key: string, wire: string, status: number): void {
    const entry = this.open.get(key);
    if (!entry) return;
    this.apply(key, entry, onServerRespond(entry.state, wire, status, this.now()));
  }

  private apply(key: string, entry: Entry, step: ServerTransactionStep): void {
    entry.state = step.state;
    for (const wire of step.send) this.o.send(wire, entry.to);
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    if (step.done || step.wakeAt === null) {
      if (this.open.get(key) === entry) this.open.delete(key);
      return;
    }
    entry.timer = setTimeout(() => this.apply(key, entry, onServerTimer(entry.state, this.now())), Math.max(0, step.wakeAt - this.now()));
    entry.timer.unref?.();
  }

  /** Stops every timer and forgets every transaction. */
  close(): void {
    for (const e of this.open.values()) if (e.timer) clearTimeout(e.timer);
    this.open.clear();
  }
}
