/**
 * RFC 3261 §17.2 server transactions over UDP, as pure state machines, in the
 * style of sip-client-transaction.ts: each step returns the new state, the
 * datagrams to send to the request's source (`send`), when to call
 * {@link onServerTimer} next (`wakeAt`) and whether the transaction is over
 * (`done`: the caller forgets it).
 *
 * INVITE (§17.2.1, figure 7):
 * - Proceeding: a 100 Trying is sent at once; a retransmitted INVITE re-sends
 *   the last provisional answer; the TU's provisional answers are sent.
 * - A 2xx from the TU is sent and ends the transaction: the TU (the call,
 *   sip-uas-call.ts) retransmits it until the ACK (§13.3.1.4).
 * - A 3xx-6xx moves to Completed: timer G retransmits it at T1, 2*T1, ...
 *   capped at T2 until the ACK; a retransmitted INVITE re-sends it; timer H
 *   (64*T1) gives up (`timeout`: the ACK never came).
 * - The ACK moves to Confirmed, which absorbs further ACKs until timer I
 *   (T4) ends the transaction.
 *
 * Non-INVITE (§17.2.2, figure 8):
 * - Trying absorbs retransmissions silently; a provisional answer moves to
 *   Proceeding, where retransmissions re-send it.
 * - A final answer moves to Completed: retransmissions re-send it until timer
 *   J (64*T1) ends the transaction.
 *
 * Bounds: a transaction the TU never answers is abandoned after 64*T1
 * (non-INVITE) or `inviteLimitMs` (INVITE, 3 minutes by default, RFC 3261
 * §13.3.1.1 expects a final answer well before); every transaction is over
 * within those limits plus T2-bounded retransmission schedules, so a table of
 * them cannot grow without bound at a bounded request rate.
 *
 * Pure module: no I/O.
 */
import { parseCSeq, parseNameAddr, parseVia } from './sip-headers.js';
import { getHeader, type SipHeader, type SipRequest } from './sip-message.js';
import { buildSipResponse, type SipSource } from './sip-response-builder.js';

/** Timer values of a server transaction (ms). */
export interface ServerTimerSettings {
  /** T1, the round-trip estimate (500 ms). */
  readonly t1Ms: number;
  /** T2, the longest retransmission interval (4 s). */
  readonly t2Ms: number;
  /** T4, how long the network keeps a message (5 s): timer I. */
  readonly t4Ms: number;
  /** Timers H and J (64*T1). */
  readonly timeoutMs: number;
  /** How long an INVITE may wait for the TU's final answer (3 min). */
  readonly inviteLimitMs: number;
}

/** Timer values to use instead of the defaults. */
export type ServerTimerOverrides = { readonly [K in keyof ServerTimerSettings]?: ServerTimerSettings[K] | undefined };

/** Fills in the RFC 3261 defaults; timers H and J default to 64 times the given T1. */
export function serverTimers(o: ServerTimerOverrides = {}): ServerTimerSettings {
  const t1Ms = Math.max(1, o.t1Ms ?? 500);
  return {
    t1Ms,
    t2Ms: Math.max(t1Ms, o.t2Ms ?? 4000),
    t4Ms: Math.max(0, o.t4Ms ?? 5000),
    timeoutMs: Math.max(0, o.timeoutMs ?? 64 * t1Ms),
    inviteLimitMs: Math.max(0, o.inviteLimitMs ?? 180_000),
  };
}

/** Where a server transaction stands (RFC 3261 figures 7 and 8). */
export type ServerTransactionPhase = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'terminated';

/** Immutable state of one server transaction. */
export interface ServerTransactionState {
  readonly invite: boolean;
  readonly key: string;
  readonly phase: ServerTransactionPhase;
  readonly timers: ServerTimerSettings;
  /** The last response sent (re-sent on a retransmitted request and by timer G). */
  readonly lastResponse: string | null;
  readonly lastStatus: number | null;
  /** Timer G's next firing and its current interval (INVITE Completed). */
  readonly retransmitAt: number | null;
  readonly interval: number;
  /** Timer H, I or J, or the abandonment limit while the TU has not answered. */
  readonly endAt: number;
}

/** What happened at a step. */
export type ServerTransactionEvent = 'start' | 'retransmission' | 'ack' | 'response' | 'refused' | 'timeout' | 'abandoned' | 'terminated' | 'none';

/** Result of every step. */
export interface ServerTransactionStep {
  readonly state: ServerTransactionState;
  /** Datagrams to send now, in order, to the request's source. */
  readonly send: readonly string[];
  readonly event: ServerTransactionEvent;
  /** When {@link onServerTimer} should run next; null once done. */
  readonly wakeAt: number | null;
  /** The transaction is over: forget it. */
  readonly done: boolean;
}

function step(state: ServerTransactionState, event: ServerTransactionEvent, send: readonly string[] = []): ServerTransactionStep {
  const done = state.phase === 'terminated';
  const wakeAt = done ? null : Math.min(state.retransmitAt ?? Number.POSITIVE_INFINITY, state.endAt);
  return { state, send, event, wakeAt, done };
}

/**
 * The transaction a request belongs to (RFC 3261 §17.2.3): the top Via branch
 * with the magic cookie, its sent-by and the method (an ACK belongs to its
 * INVITE's transaction; a CANCEL has its own). Without the cookie (RFC 2543
 * peer): Request-URI, From tag, Call-ID, CSeq number, top Via and method.
 * Null when the request lacks a Via or CSeq.
 */
export function transactionKey(req: SipRequest): string | null {
  const top = getHeader(req, 'Via');
  const via = parseVia(top ?? '');
  const cseq = parseCSeq(getHeader(req, 'CSeq'));
  if (!via || !cseq) return null;
  const method = req.method === 'ACK' ? 'INVITE' : req.method;
  const sentBy = `${via.host.toLowerCase()}:${via.port ?? 5060}`;
  if (via.branch?.startsWith('z9hG4bK')) return `${via.branch}|${sentBy}|${method}`;
  const fromTag = parseNameAddr(getHeader(req, 'From') ?? '')?.params.get('tag') ?? '';
  return `2543|${req.uri}|${fromTag}|${getHeader(req, 'Call-ID') ?? ''}|${cseq.seq}|${sentBy}|${via.branch ?? ''}|${method}`;
}

/** Options of {@link startServerTransaction}. */
export interface ServerTransactionOptions {
  /** The request's source (stamps the 100 Trying's Via). */
  readonly source?: SipSource;
  /** Extra headers of the 100 Trying (e.g. Server). */
  readonly tryingHeaders?: readonly SipHeader[];
}

/**
 * Starts the server transaction of a new request at `now`. An INVITE gets a
 * 100 Trying at once (RFC 3261 §17.2.1: the agent may take longer than
 * 200 ms to answer, e.g. while checking credentials); an ACK has no
 * transaction of its own and yields a done step.
 */
export function startServerTransaction(
  req: SipRequest,
  now: number,
  timers: ServerTimerOverrides = {},
  opts: ServerTransactionOptions = {},
): ServerTransactionStep {
  const t = serverTimers(timers);
  const invite = req.method === 'INVITE';
  const base = { invite, key: transactionKey(req) ?? '', timers: t, retransmitAt: null, interval: t.t1Ms };
  if (req.method === 'ACK') return step({ ...base, phase: 'terminated', lastResponse: null, lastStatus: null, endAt: now }, 'none');
  if (!invite) return step({ ...base, phase: 'trying', lastResponse: null, lastStatus: null, endAt: now + t.timeoutMs }, 'start');
  const trying = buildSipResponse(req, { status: 100, ...(opts.source ? { source: opts.source } : {}), headers: opts.tryingHeaders ?? [] });
  return step({ ...base, phase: 'proceeding', lastResponse: trying, lastStatus: 100, endAt: now + t.inviteLimitMs }, 'start', [trying]);
}

/**
 * A request that matched this transaction ({@link transactionKey}) arrived
 * again: a retransmission (re-send the last answer, if any) or, for an INVITE
 * transaction, the ACK of a 3xx-6xx (Completed -> Confirmed, timer I).
 */
export function onServerRequest(state: ServerTransactionState, req: SipRequest, now: number): ServerTransactionStep {
  if (state.phase === 'terminated') return step(state, 'none');
  if (req.method === 'ACK') {
    if (!state.invite || state.phase !== 'completed') return step(state, 'none');
    return step({ ...state, phase: 'confirmed', retransmitAt: null, endAt: now + state.timers.t4Ms }, 'ack');
  }
  const resend = state.lastResponse !== null && (state.phase === 'proceeding' || state.phase === 'completed');
  return step(state, 'retransmission', resend && state.lastResponse !== null ? [state.lastResponse] : []);
}

/**
 * The TU answers with `wire` (status `status`). Provisional answers are sent
 * while the transaction is Trying/Proceeding; a final answer is sent once:
 * a 2xx ends an INVITE transaction, a 3xx-6xx completes it (timers G and H);
 * a non-INVITE final completes (timer J). An answer after the final one is
 * refused (nothing sent).
 */
export function onServerRespond(state: ServerTransactionState, wire: string, status: number, now: number): ServerTransactionStep {
  if (state.phase !== 'trying' && state.phase !== 'proceeding') return step(state, 'refused');
  const t = state.timers;
  if (status < 200) return step({ ...state, phase: 'proceeding', lastResponse: wire, lastStatus: status }, 'response', [wire]);
  if (state.invite && status < 300)
    return step({ ...state, phase: 'terminated', lastResponse: wire, lastStatus: status, retransmitAt: null }, 'response', [wire]);
  const completed: ServerTransactionState = state.invite
    ? { ...state, phase: 'completed', lastResponse: wire, lastStatus: status, retransmitAt: now + t.t1Ms, interval: t.t1Ms, endAt: now + t.timeoutMs }
    : { ...state, phase: 'completed', lastResponse: wire, lastStatus: status, retransmitAt: null, endAt: now + t.timeoutMs };
  return step(completed, 'response', [wire]);
}

/**
 * The timer fired. INVITE Completed: timer H at `endAt` gives up
 * (`timeout`), else timer G re-sends the final answer and doubles its
 * interval up to T2. Confirmed (timer I) and non-INVITE Completed (timer J)
 * end at `endAt`. A transaction still waiting for its TU is `abandoned` at
 * its limit. Early or stray calls change nothing.
 */
export function onServerTimer(state: ServerTransactionState, now: number): ServerTransactionStep {
  if (state.phase === 'terminated') return step(state, 'none');
  if (now >= state.endAt) {
    const event =
      state.phase === 'completed' && state.invite ? 'timeout' : state.phase === 'trying' || state.phase === 'proceeding' ? 'abandoned' : 'terminated';
    return step({ ...state, phase: 'terminated', retransmitAt: null }, event);
  }
  if (state.retransmitAt === null || now < state.retransmitAt || state.lastResponse === null) return step(state, 'none');
  const interval = Math.min(state.interval * 2, state.timers.t2Ms);
  return step({ ...state, retransmitAt: now + interval, interval }, 'retransmission', [state.lastResponse]);
}
