/**
 * The RFC 3261 §17.1.2 non-INVITE client transaction over an unreliable
 * transport (UDP), as a pure state machine.
 *
 * Behaviour, by RFC 3261 §17.1.2.2 (figure 6):
 * - Trying: the request is sent at start; timer E fires first after T1 and
 *   then at doubling intervals capped at T2 (T1, 2*T1, 4*T1, ... T2, T2),
 *   each firing retransmitting the request unchanged.
 * - Proceeding: once a provisional (1xx) answer arrived, every further
 *   retransmission waits T2. The retransmission already scheduled keeps its
 *   time; only the intervals after it change.
 * - Timer F (64*T1 by default) ends the transaction with a timeout in either
 *   state, whether or not retransmissions remain.
 * - The first final (2xx-6xx) answer completes the transaction; it is
 *   reported once, and every later answer (a retransmitted final, a late 1xx,
 *   another final) is absorbed. Timer K (T4 of "completed" state on UDP)
 *   serves only to absorb such retransmissions: here the completed state
 *   absorbs them for as long as the caller keeps the state, and the shell
 *   simply forgets the transaction, which absorbs them too (they then match
 *   nothing).
 *
 * A caller may bound the retransmissions (`maxRetransmits`): once spent, the
 * transaction waits silently for an answer or timer F. The SIP PnP NOTIFY
 * uses this to bound what one unauthenticated SUBSCRIBE makes us send.
 *
 * Time is a parameter (`now`, milliseconds of any monotonic clock): the caller
 * sends when a step says `transmit`, arms one timer for `wakeAt` and calls
 * {@link onClientTimer} when it fires. Server transactions follow the same
 * pattern.
 *
 * Pure module: no I/O.
 */

/** RFC 3261 timer values of a client transaction (ms). */
export interface SipTimerSettings {
  /** T1, the round-trip estimate (RFC 3261 §17.1.1.1 default 500 ms). */
  readonly t1Ms: number;
  /** T2, the longest retransmission interval of a non-INVITE request (default 4000 ms). */
  readonly t2Ms: number;
  /** Timer F, the transaction timeout (default 64*T1). */
  readonly timeoutMs: number;
  /** Retransmissions allowed before waiting silently for timer F (default unbounded). */
  readonly maxRetransmits: number;
}

/** Timer values to use instead of the defaults (an absent or undefined one keeps its default). */
export type SipTimerOverrides = { readonly [K in keyof SipTimerSettings]?: SipTimerSettings[K] | undefined };

/** RFC 3261 defaults (T1 500 ms, T2 4 s, timer F 64*T1, retransmissions unbounded). */
export const DEFAULT_SIP_TIMERS: SipTimerSettings = { t1Ms: 500, t2Ms: 4000, timeoutMs: 64 * 500, maxRetransmits: Number.POSITIVE_INFINITY };

/** Fills in the defaults; timer F defaults to 64 times the given T1. */
export function sipTimers(o: SipTimerOverrides = {}): SipTimerSettings {
  const t1Ms = Math.max(1, o.t1Ms ?? DEFAULT_SIP_TIMERS.t1Ms);
  return {
    t1Ms,
    t2Ms: Math.max(t1Ms, o.t2Ms ?? DEFAULT_SIP_TIMERS.t2Ms),
    timeoutMs: Math.max(0, o.timeoutMs ?? 64 * t1Ms),
    maxRetransmits: Math.max(0, o.maxRetransmits ?? DEFAULT_SIP_TIMERS.maxRetransmits),
  };
}

/** Where a transaction stands (RFC 3261 figure 6; `timed-out` is Terminated by timer F). */
export type ClientTransactionPhase = 'trying' | 'proceeding' | 'completed' | 'timed-out';

/** Immutable state of one client transaction. */
export interface ClientTransactionState {
  readonly phase: ClientTransactionPhase;
  readonly timers: SipTimerSettings;
  /** When the request was first sent. */
  readonly startedAt: number;
  /** The wait timer E was last armed with (T1, doubling up to T2; T2 once proceeding). */
  readonly interval: number;
  /** When timer E fires next (retransmission), or null when none is due any more. */
  readonly retransmitAt: number | null;
  /** When timer F fires (timeout). */
  readonly timeoutAt: number;
  /** Datagrams sent: the first one and every retransmission. */
  readonly sent: number;
  /** The final status, once completed. */
  readonly finalStatus: number | null;
  /** When the final answer arrived, once completed. */
  readonly finishedAt: number | null;
}

/** What happened at a step, for the transaction user. */
export type ClientTransactionEvent = 'start' | 'retransmit' | 'provisional' | 'final' | 'timeout' | 'absorbed' | 'none';

/** Result of each event: new state, whether to (re)send the request now, and when to wake next. */
export interface ClientTransactionStep {
  readonly state: ClientTransactionState;
  /** Send the request (first transmission or retransmission) now. */
  readonly transmit: boolean;
  readonly event: ClientTransactionEvent;
  /** When {@link onClientTimer} should run next; null once the transaction is over. */
  readonly wakeAt: number | null;
}

const active = (s: ClientTransactionState): boolean => s.phase === 'trying' || s.phase === 'proceeding';

function step(state: ClientTransactionState, event: ClientTransactionEvent, transmit = false): ClientTransactionStep {
  const wakeAt = active(state) ? Math.min(state.retransmitAt ?? Number.POSITIVE_INFINITY, state.timeoutAt) : null;
  return { state, transmit, event, wakeAt };
}

/** Starts a transaction at `now`: the request is sent at once, timer E is armed at T1 and timer F at its value. */
export function startClientTransaction(now: number, timers: SipTimerOverrides = {}): ClientTransactionStep {
  const t = sipTimers(timers);
  const state: ClientTransactionState = {
    phase: 'trying',
    timers: t,
    startedAt: now,
    interval: t.t1Ms,
    retransmitAt: t.maxRetransmits > 0 ? now + t.t1Ms : null,
    timeoutAt: now + t.timeoutMs,
    sent: 1,
    finalStatus: null,
    finishedAt: null,
  };
  return step(state, 'start', true);
}

/**
 * Handles a response that matched this transaction (the caller matched
 * branch, CSeq and source). A 1xx moves Trying to Proceeding; the first
 * final answer completes; anything once completed or timed out is absorbed.
 */
export function onClientResponse(state: ClientTransactionState, status: number, now: number): ClientTransactionStep {
  if (!active(state)) return step(state, 'absorbed');
  if (status < 200) return step(state.phase === 'proceeding' ? state : { ...state, phase: 'proceeding' }, 'provisional');
  return step({ ...state, phase: 'completed', retransmitAt: null, finalStatus: status, finishedAt: now }, 'final');
}

/**
 * Handles the timer. Timer F at or past `timeoutAt` ends the transaction
 * (`timeout`); timer E at or past `retransmitAt` retransmits and schedules
 * the next one (doubling up to T2 in Trying, T2 in Proceeding) while the
 * retransmission budget lasts. Early or stray calls change nothing.
 */
export function onClientTimer(state: ClientTransactionState, now: number): ClientTransactionStep {
  if (!active(state)) return step(state, 'none');
  if (now >= state.timeoutAt) return step({ ...state, phase: 'timed-out', retransmitAt: null }, 'timeout');
  if (state.retransmitAt === null || now < state.retransmitAt) return step(state, 'none');
  const t = state.timers;
  const sent = state.sent + 1;
  const interval = state.phase === 'proceeding' ? t.t2Ms : Math.min(state.interval * 2, t.t2Ms);
  const retransmitAt = sent - 1 < t.maxRetransmits ? now + interval : null;
  return step({ ...state, sent, interval, retransmitAt }, 'retransmit', true);
}
