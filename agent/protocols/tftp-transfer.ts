/**
 * The sending side of one TFTP read transfer as a pure state machine.
 *
 * Behaviour, by RFC:
 * - Option negotiation (RFC 2347): when the request carries options this
 *   server accepts, it answers OACK and waits for ACK 0 before DATA 1;
 *   otherwise it sends DATA 1 at once. `blksize` (RFC 2348) is clamped to the
 *   server maximum, `tsize` (RFC 2349) is answered with the real size,
 *   `timeout` (RFC 2349) is echoed and used, `windowsize` (RFC 7440) is
 *   clamped to the server maximum.
 * - DATA blocks (RFC 1350 §6): every block but the last carries exactly
 *   `blksize` bytes; the last is shorter, and is empty when the size is a
 *   multiple of `blksize`. Block numbers wrap from 65535 to 0 (the common
 *   convention for files larger than 65535 blocks); internally blocks are
 *   counted without wrap and an ACK's 16-bit number is mapped back into the
 *   window in flight.
 * - Windows (RFC 7440 §4): up to `windowsize` DATA packets are sent before an
 *   ACK is awaited; an ACK for a block inside the window acknowledges
 *   everything up to it and the next window starts right after it (rollback).
 *   One rollback per loss: once blocks went out twice (rollback or timer),
 *   and until everything sent by then is acknowledged, a further ACK inside
 *   the window only slides it (the blocks never sent go out, the ones in
 *   flight are left to the timer). A client that acknowledges a duplicate
 *   block (atftp does, once per duplicate) would otherwise turn every resent
 *   window into a partial ACK, another rollback, more duplicates: a windowed
 *   Sorcerer's Apprentice that sends much of the file twice.
 * - Duplicate and stale ACKs are ignored, never answered with a resend: only
 *   the retransmission timer resends. This avoids the Sorcerer's Apprentice
 *   syndrome (RFC 1123 §4.2.3.1: the sender must never resend the current
 *   DATA on a duplicate ACK), and a duplicate ACK is not a round-trip sample.
 * - Adaptive retransmission timeout once the transfer is started (RFC 6298
 *   §2, applied per transfer): each ACK that advances the window and
 *   acknowledges a block sent exactly once gives a round-trip sample (DATA
 *   sent → its ACK; Karn's rule, RFC 6298 §3: a block sent more than once,
 *   by the timer or again after a window rollback, is never sampled). SRTT
 *   and RTTVAR are smoothed with α = 1/8, β = 1/4 and
 *   RTO = SRTT + max(1 ms, 4·RTTVAR), clamped to
 *   [`minTimeoutMs`, `timeoutMs`]. The floor (default 50 ms) keeps an event
 *   loop stall or a phone busy writing flash from looking like a loss; the
 *   ceiling is the unmeasured timeout (1 s, or the client's RFC 2349
 *   `timeout`), so measuring can only make resends sooner, never later than
 *   an unmeasured transfer would send them. Until the first sample (the first
 *   DATA window, the OACK) the timeout is `timeoutMs`.
 * - First-ACK deadline: a transfer the client has not started yet (no ACK 0
 *   for the OACK, no ACK for the first DATA window) fails once
 *   `firstAckTimeoutMs` has passed since it was created, however many resends
 *   remain. A client that never answers (a stalled or spoofed request) thus
 *   holds its slot for seconds, not for the full backoff of a transfer in
 *   progress. A real client that lost every answer times out and resends its
 *   RRQ (RFC 1350 §2), which gets a fresh transfer once this one is gone.
 * - On timeout the outstanding OACK or window is resent from the first
 *   unacknowledged block (RFC 7440 §4), with the wait doubling on each
 *   consecutive timeout up to `maxTimeoutMs` (exponential backoff, RFC 1123
 *   §4.2.3.2; RFC 6298 §5.5) and reset by progress. A started transfer
 *   resends twice quickly (after RTO and 2·RTO: a loss and a lost resend are
 *   repaired by then), then waits `maxTimeoutMs` between resends. What is
 *   left is mostly a client waiting out its own timer: atftp answers
 *   a duplicate DATA with one extra ACK only, then re-ACKs after 5 s of
 *   silence, and every resend restarts that silence; doubling from a 50 ms
 *   RTO would first leave a 5 s gap after 6 s of resends.
 * - A transfer not started yet fails after `maxRetries` resends (or at its
 *   first-ACK deadline). A started transfer fails once it has gone without
 *   progress for as long as the unmeasured schedule would take (`timeoutMs`
 *   doubling to `maxTimeoutMs` over `maxRetries` resends, 39 s with the
 *   defaults), however short its measured timeout, so a client that waits
 *   out its own (atftp: 5 s) timer on a lossy network is not given up on.
 *
 * Time is a parameter (`now`, in milliseconds); the caller arms a timer for
 * `state.deadline` and calls {@link onTimeout}.
 *
 * Pure module: no I/O.
 */
import { TFTP_BLKSIZE_MAX, TFTP_DEFAULT_BLKSIZE, TFTP_WINDOWSIZE_MAX, encodeTftpPacket, parseRequestedOptions } from './tftp-packet.js';

/** Server-side bounds for a transfer. */
export interface TftpTransferLimits {
  /** Largest `blksize` granted (clamped to 65464). Default 1468 (fits a 1500-byte Ethernet MTU). */
  readonly maxBlksize: number;
  /** Largest `windowsize` granted. Default 64. */
  readonly maxWindowsize: number;
  /** First retransmission timeout when the client does not ask for one (ms). Default 1000. */
  readonly timeoutMs: number;
  /** Cap of the doubling retransmission timeout (ms). Default 8000. */
  readonly maxTimeoutMs: number;
  /** Resends of one OACK/window before giving up. Default 6 (about 40 s with the defaults). */
  readonly maxRetries: number;
  /** How long a transfer waits for the client's first ACK (of the OACK or the first DATA window) in all (ms). Default 8000. */
  readonly firstAckTimeoutMs: number;
  /** Floor of the measured (adaptive) retransmission timeout (ms). Default 50. */
  readonly minTimeoutMs: number;
}

/** Defaults for {@link TftpTransferLimits}. */
export const DEFAULT_TFTP_TRANSFER_LIMITS: TftpTransferLimits = {
  maxBlksize: 1468,
  maxWindowsize: 64,
  timeoutMs: 1000,
  maxTimeoutMs: 8000,
  maxRetries: 6,
  firstAckTimeoutMs: 8000,
  minTimeoutMs: 50,
};

/** Where a transfer stands: waiting for ACK 0 of an OACK, sending data, or finished. */
export type TftpTransferPhase = 'oack' | 'data' | 'done' | 'failed';

/** Immutable state of one read transfer. */
export interface TftpTransferState {
  readonly phase: TftpTransferPhase;
  readonly data: Buffer;
  /** Negotiated block size. */
  readonly blksize: number;
  /** Negotiated window size (1 = RFC 1350 lock-step). */
  readonly windowsize: number;
  /** Retransmission timeout before any round trip is measured, and the ceiling of the measured one (ms). */
  readonly timeoutMs: number;
  /** Floor of the measured retransmission timeout (ms). */
  readonly minTimeoutMs: number;
  /** Current retransmission timeout before backoff (ms): `timeoutMs` until the first sample. */
  readonly rtoMs: number;
  /** Smoothed round-trip time (ms), null before the first sample. */
  readonly srttMs: number | null;
  /** Round-trip time variation (ms). */
  readonly rttvarMs: number;
  /** Round-trip samples taken. */
  readonly samples: number;
  /** When the outstanding window (or OACK) was last put on the wire (ms). */
  readonly sentAt: number;
  /** Lowest block of the outstanding window sent exactly once (its ACK is a valid sample); Infinity when none. */
  readonly sampleFrom: number;
  /** When the transfer last made progress (created, or a new ACK) (ms). */
  readonly progressAt: number;
  /** How long a started transfer may go without progress before it fails (ms). */
  readonly stallBudgetMs: number;
  /** Cap of the doubling timeout (ms). */
  readonly maxTimeoutMs: number;
  readonly maxRetries: number;
  /** Options acknowledged in the OACK, or null when none was sent. */
  readonly oack: Readonly<Record<string, string>> | null;
  /** Number of DATA blocks in the file (always >= 1: the final short block may be empty). */
  readonly totalBlocks: number;
  /** Highest block acknowledged, counted without wrap (0 = none). */
  readonly acked: number;
  /** Highest block sent, counted without wrap (0 = none). */
  readonly sent: number;
  /** Highest block sent when blocks last went out twice: until `acked` reaches it, an ACK inside the window slides it instead of rolling back. */
  readonly recoverUntil: number;
  /** Resends since the last progress. */
  readonly retries: number;
  /** True once the client acknowledged something (ACK 0 of the OACK, or a DATA block). */
  readonly started: boolean;
  /** Until the transfer is started: when it fails for want of a first ACK (ms, same clock as `now`). */
  readonly firstAckDeadline: number;
  /** When {@link onTimeout} should be called (ms, same clock as `now`). */
  readonly deadline: number;
  /** DATA payload bytes put on the wire, resends included. */
  readonly bytesSent: number;
  /** Datagrams sent again (OACK resends, DATA blocks sent before), by the timer or after a window rollback. */
  readonly resent: number;
  /** Why the transfer failed (for logs; never holds file content). */
  readonly failure: string | null;
}

/** Result of each event: new state and the datagrams to send, in order. */
export interface TftpStep {
  readonly state: TftpTransferState;
  readonly send: readonly Buffer[];
  readonly done: boolean;
  readonly failed: boolean;
}

/** Input to {@link createTransfer}. */
export interface CreateTransferInput {
  /** The whole file. */
  readonly data: Buffer;
  /** Options from the RRQ (names lower-cased, values as sent). */
  readonly options: Readonly<Record<string, string>>;
  readonly now: number;
  readonly limits?: Partial<TftpTransferLimits>;
}

/** `base` doubled `retries` times, capped at `maxTimeoutMs` (never below `base`). */
function backoff(base: number, maxTimeoutMs: number, retries: number): number {
  return Math.min(base * 2 ** Math.min(retries, 30), Math.max(base, maxTimeoutMs));
}

/**
 * Wait before the next resend after `retries` consecutive timeouts: the
 * current RTO doubled, capped at `maxTimeoutMs`; a started transfer goes to
 * the cap after its second unanswered resend (clients waiting out their own
 * timer, see the module comment).
 */
function waitMs(state: TftpTransferState, retries: number): number {
  return backoff(state.rtoMs, state.maxTimeoutMs, state.started && retries >= QUICK_RESENDS ? 30 : retries);
}

/** Resends of a started transfer on the doubling RTO before the wait goes to the cap. */
const QUICK_RESENDS = 2;

/**
 * How long a started transfer may go without progress: what the unmeasured
 * schedule takes, `timeoutMs` doubling to `maxTimeoutMs` over `maxRetries`
 * resends and a last wait (39 s with the defaults).
 */
function stallBudget(timeoutMs: number, maxTimeoutMs: number, maxRetries: number): number {
  let total = 0;
  for (let k = 0; k <= maxRetries; k++) total += backoff(timeoutMs, maxTimeoutMs, k);
  return total;
}

/** The next timer: the resend time, capped by the first-ACK deadline (not started) or the stall budget (started). */
function nextDeadline(state: TftpTransferState, resendAt: number): number {
  return state.started ? Math.min(resendAt, state.progressAt + state.stallBudgetMs) : Math.min(resendAt, state.firstAckDeadline);
}

/**
 * Folds one round-trip sample `rtt` (ms) into SRTT/RTTVAR and recomputes the
 * RTO (RFC 6298 §2.2–2.4), clamped to [`minTimeoutMs`, `timeoutMs`].
 */
export function sampleRtt(state: TftpTransferState, rtt: number): TftpTransferState {
  const r = Math.max(0, rtt);
  const srtt = state.srttMs === null ? r : 0.875 * state.srttMs + 0.125 * r;
  const rttvar = state.srttMs === null ? r / 2 : 0.75 * state.rttvarMs + 0.25 * Math.abs(state.srttMs - r);
  const floor = Math.min(state.minTimeoutMs, state.timeoutMs);
  const rto = Math.min(state.timeoutMs, Math.max(floor, srtt + Math.max(1, 4 * rttvar)));
  return { ...state, srttMs: srtt, rttvarMs: rttvar, rtoMs: rto, samples: state.samples + 1 };
}

function step(state: TftpTransferState, send: readonly Buffer[] = []): TftpStep {
  return { state, send, done: state.phase === 'done', failed: state.phase === 'failed' };
}

/** Encodes absolute block `n` (1-based, no wrap) of the file. */
function dataPacket(state: TftpTransferState, n: number): Buffer {
  const start = (n - 1) * state.blksize;
  const end = Math.min(start + state.blksize, state.data.length);
  return encodeTftpPacket({ op: 'data', block: n & 0xffff, data: state.data.subarray(start, Math.max(start, end)) });
}

/**
 * Sends the window starting at absolute block `from` (the first
 * unacknowledged block). `retries` > 0 means the timer resent it: then no
 * block of it may be sampled (Karn); otherwise only the blocks never sent
 * before may.
 */
function sendWindow(state: TftpTransferState, from: number, now: number, retries: number, upTo = from + state.windowsize - 1): TftpStep {
  const last = Math.min(upTo, state.totalBlocks);
  const send: Buffer[] = [];
  let bytes = 0;
  for (let n = from; n <= last; n++) {
    const pkt = dataPacket(state, n);
    bytes += pkt.length - 4;
    send.push(pkt);
  }
  const again = Math.max(0, Math.min(last, state.sent) - from + 1);
  const fresh = last >= from;
  const next: TftpTransferState = {
    ...state,
    phase: 'data',
    sent: Math.max(last, from - 1, state.sent),
    recoverUntil: again > 0 ? state.sent : state.recoverUntil,
    retries,
    sentAt: fresh ? now : state.sentAt,
    sampleFrom: !fresh ? state.sampleFrom : retries > 0 ? Number.POSITIVE_INFINITY : Math.max(from, state.sent + 1),
    deadline: nextDeadline(state, now + waitMs(state, retries)),
    bytesSent: state.bytesSent + bytes,
    resent: state.resent + again,
  };
  return step(next, send);
}

/**
 * Starts a read transfer of `data`: negotiates the request's options and
 * returns the first datagrams (an OACK, or the first DATA window).
 */
export function createTransfer(input: CreateTransferInput): TftpStep {
  const limits: TftpTransferLimits = { ...DEFAULT_TFTP_TRANSFER_LIMITS, ...input.limits };
  const maxBlksize = Math.max(TFTP_DEFAULT_BLKSIZE, Math.min(limits.maxBlksize, TFTP_BLKSIZE_MAX));
  const maxWindow = Math.max(1, Math.min(limits.maxWindowsize, TFTP_WINDOWSIZE_MAX));
  const req = parseRequestedOptions(input.options);
  const oack: Record<string, string> = {};
  let blksize = TFTP_DEFAULT_BLKSIZE;
  let windowsize = 1;
  let timeoutMs = limits.timeoutMs;
  if (req.blksize !== undefined) {
    blksize = Math.min(req.blksize, maxBlksize);
    oack['blksize'] = String(blksize);
  }
  if (req.timeout !== undefined) {
    timeoutMs = req.timeout * 1000;
    oack['timeout'] = String(req.timeout);
  }
  if (req.tsize !== undefined) oack['tsize'] = String(input.data.length);
  if (req.windowsize !== undefined) {
    windowsize = Math.min(req.windowsize, maxWindow);
    oack['windowsize'] = String(windowsize);
  }
  const hasOack = Object.keys(oack).length > 0;
  const maxRetries = Math.max(0, limits.maxRetries);
  const state: TftpTransferState = {
    phase: hasOack ? 'oack' : 'data',
    data: input.data,
    blksize,
    windowsize,
    timeoutMs,
    minTimeoutMs: Math.max(1, limits.minTimeoutMs),
    rtoMs: timeoutMs,
    srttMs: null,
    rttvarMs: 0,
    samples: 0,
    sentAt: input.now,
    sampleFrom: Number.POSITIVE_INFINITY,
    progressAt: input.now,
    stallBudgetMs: stallBudget(timeoutMs, limits.maxTimeoutMs, maxRetries),
    maxTimeoutMs: limits.maxTimeoutMs,
    maxRetries,
    oack: hasOack ? oack : null,
    totalBlocks: Math.floor(input.data.length / blksize) + 1,
    acked: 0,
    sent: 0,
    recoverUntil: 0,
    retries: 0,
    started: false,
    firstAckDeadline: input.now + Math.max(0, limits.firstAckTimeoutMs),
    deadline: input.now + Math.min(timeoutMs, Math.max(0, limits.firstAckTimeoutMs)),
    bytesSent: 0,
    resent: 0,
    failure: null,
  };
  if (hasOack) return step(state, [encodeTftpPacket({ op: 'oack', options: oack })]);
  return sendWindow(state, 1, input.now, 0);
}

/**
 * Handles an ACK carrying 16-bit block number `block`. Progress samples the
 * round trip (when the block was sent exactly once), resets the backoff and
 * sends the next window from the block after it (or finishes); a duplicate
 * or stale ACK changes nothing and sends nothing.
 */
export function onAck(state: TftpTransferState, block: number, now: number): TftpStep {
  if (state.phase === 'oack') {
    if (block !== 0) return step(state);
    return sendWindow({ ...state, acked: 0, started: true, progressAt: now }, 1, now, 0);
  }
  if (state.phase !== 'data') return step(state);
  // Map the 16-bit number onto the highest absolute block <= sent with the same low bits.
  const diff = ((state.sent & 0xffff) - (block & 0xffff)) & 0xffff;
  const abs = state.sent - diff;
  if (abs <= state.acked) return step(state); // duplicate or stale: ignore (no Sorcerer's Apprentice)
  const measured = abs >= state.sampleFrom ? sampleRtt(state, now - state.sentAt) : state;
  const progressed: TftpTransferState = { ...measured, acked: abs, started: true, progressAt: now };
  if (abs >= state.totalBlocks) return step({ ...progressed, phase: 'done', retries: 0 });
  // Inside the window while resent blocks may still be in flight: slide, send only blocks never sent.
  if (abs < state.sent && state.acked < state.recoverUntil) return sendWindow(progressed, state.sent + 1, now, 0, abs + state.windowsize);
  return sendWindow(progressed, abs + 1, now, 0);
}

/**
 * Handles the retransmission timer. Before `state.deadline` nothing happens;
 * after it the outstanding OACK or window is resent from the first
 * unacknowledged block, or the transfer fails: not started yet, once the
 * first-ACK deadline has passed (`failure: 'no first ack'`) or `maxRetries`
 * resends went unanswered; started, once it has gone `stallBudgetMs` without
 * progress (`failure: 'timeout'`).
 */
export function onTimeout(state: TftpTransferState, now: number): TftpStep {
  if (state.phase !== 'oack' && state.phase !== 'data') return step(state);
  if (now < state.deadline) return step(state);
  if (!state.started && now >= state.firstAckDeadline) return step({ ...state, phase: 'failed', failure: 'no first ack' });
  if (state.started ? now >= state.progressAt + state.stallBudgetMs : state.retries >= state.maxRetries) {
    return step({ ...state, phase: 'failed', failure: 'timeout' });
  }
  if (state.phase === 'oack') {
    const deadline = nextDeadline(state, now + waitMs(state, state.retries + 1));
    return step({ ...state, retries: state.retries + 1, deadline, sentAt: now, resent: state.resent + 1 }, [
      encodeTftpPacket({ op: 'oack', options: state.oack ?? {} }),
    ]);
  }
  return sendWindow(state, state.acked + 1, now, state.retries + 1);
}

/** Ends the transfer as failed (client sent ERROR, socket failed, server closing). Sends nothing. */
export function abortTransfer(state: TftpTransferState, reason: string): TftpStep {
  if (state.phase === 'done' || state.phase === 'failed') return step(state);
  return step({ ...state, phase: 'failed', failure: reason });
}
