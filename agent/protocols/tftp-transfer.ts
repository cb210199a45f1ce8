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
 * - Adaptive retransmission timeout (RFC 6298 §2, applied per transfer):
 *   ACK 0 of an OACK sent once, and each ACK that advances the window and
 *   acknowledges a block sent exactly once, give a round-trip sample (OACK
 *   or DATA sent → its ACK; Karn's rule, RFC 6298 §3: a datagram sent more
 *   than once, by the timer or again after a window rollback, is never
 *   sampled). SRTT and RTTVAR are smoothed with α = 1/8, β = 1/4 and
 *   RTO = SRTT + max(1 ms, 4·RTTVAR), clamped to
 *   [`minTimeoutMs`, `timeoutMs`]. The floor (default 5 ms) is a few LAN
 *   round trips: a loss costs about that long, and a needless resend (a
 *   phone busy writing flash) costs one datagram in lock-step, whose
 *   duplicate ACK is ignored. The ceiling is the unmeasured timeout (1 s, or
 *   the client's RFC 2349 `timeout`), so measuring can only make resends
 *   sooner, never later than an unmeasured transfer would send them. Until
 *   the first sample the timeout is `timeoutMs`.
 * - First-ACK deadline: a transfer the client has not started yet (no ACK 0
 *   for the OACK, no ACK for the first DATA window) fails once
 *   `firstAckTimeoutMs` has passed since it was created, however many resends
 *   remain. A client that never answers (a stalled or spoofed request) thus
 *   holds its slot for seconds, not for the full backoff of a transfer in
 *   progress. A real client that lost every answer times out and resends its
 *   RRQ (RFC 1350 §2), which gets a fresh transfer once this one is gone.
 * - The OACK is never resent by the timer: the client's own timeout drives
 *   its recovery (RFC 1350 §2). A client that lost the OACK repeats its
 *   request, which is answered with the OACK again ({@link onRequestRepeated});
 *   one whose ACK 0 was lost repeats ACK 0. A timer resend would be wrong
 *   half the time: when ACK 0 was lost, the client has the OACK and some
 *   clients (atftp) abort the transfer on a second one.
 * - On timeout the outstanding window is resent from the first
 *   unacknowledged block (RFC 7440 §4), with the wait doubling on each
 *   consecutive timeout up to `maxTimeoutMs` (exponential backoff, RFC 1123
 *   §4.2.3.2; RFC 6298 §5.5) and reset by progress. A started transfer
 *   resends four times quickly (after RTO, 2, 4 and 8·RTO: a loss and up to
 *   three lost resends are repaired by then), then waits `maxTimeoutMs`
 *   between resends. What is left is mostly a client waiting out its own
 *   timer: atftp answers a duplicate DATA with one extra ACK only, then
 *   re-ACKs after 5 s of silence, and every resend restarts that silence;
 *   plain doubling from a short RTO would leave that gap only after many
 *   seconds of resends.
 * - A transfer not started yet fails after `maxRetries` resends of its first
 *   DATA window (or at its first-ACK deadline, the only one of an OACK). A started transfer fails once it has gone without
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
import { TFTP_BLKSIZE_MAX, TFTP_DEFAULT_BLKSIZE, TFTP_WINDOWSIZE_MAX, encodeTftpData, encodeTftpPacket, parseRequestedOptions } from './tftp-packet.js';
import {
  DEFAULT_TFTP_TRANSFER_LIMITS,
  type CreateTransferInput,
  type TftpStep,
  type TftpTransferLimits,
  type TftpTransferState,
} from './tftp-transfer-types.js';

export {
  DEFAULT_TFTP_TRANSFER_LIMITS,
  type CreateTransferInput,
  type TftpStep,
  type TftpTransferLimits,
  type TftpTransferPhase,
  type TftpTransferState,
} from './tftp-transfer-types.js';

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
function waitMs(state: TftpTransferState, retries: number, rtoMs = state.rtoMs, started = state.started): number {
  return backoff(rtoMs, state.maxTimeoutMs, started && retries >= QUICK_RESENDS ? 30 : retries);
}

/** Resends of a started transfer on the doubling RTO before the wait goes to the cap. */
const QUICK_RESENDS = 4;

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
function nextDeadline(state: TftpTransferState, resendAt: number, started = state.started, progressAt = state.progressAt): number {
  return started ? Math.min(resendAt, progressAt + state.stallBudgetMs) : Math.min(resendAt, state.firstAckDeadline);
}

/** What an ACK that advances the window changes: the RTT estimate (when sampled) and the progress marks. */
interface Progress {
  readonly acked: number;
  readonly started: true;
  readonly progressAt: number;
  readonly srttMs: number | null;
  readonly rttvarMs: number;
  readonly rtoMs: number;
  readonly samples: number;
}

/** The RTT fields after folding in sample `rtt` (ms), RFC 6298 §2.2–2.4, RTO clamped to [`minTimeoutMs`, `timeoutMs`]. */
function rttAfter(state: TftpTransferState, rtt: number): Pick<TftpTransferState, 'srttMs' | 'rttvarMs' | 'rtoMs' | 'samples'> {
  const r = Math.max(0, rtt);
  const srtt = state.srttMs === null ? r : 0.875 * state.srttMs + 0.125 * r;
  const rttvar = state.srttMs === null ? r / 2 : 0.75 * state.rttvarMs + 0.25 * Math.abs(state.srttMs - r);
  const floor = Math.min(state.minTimeoutMs, state.timeoutMs);
  const rto = Math.min(state.timeoutMs, Math.max(floor, srtt + Math.max(1, 4 * rttvar)));
  return { srttMs: srtt, rttvarMs: rttvar, rtoMs: rto, samples: state.samples + 1 };
}

/**
 * Folds one round-trip sample `rtt` (ms) into SRTT/RTTVAR and recomputes the
 * RTO (RFC 6298 §2.2–2.4), clamped to [`minTimeoutMs`, `timeoutMs`].
 */
export function sampleRtt(state: TftpTransferState, rtt: number): TftpTransferState {
  return { ...state, ...rttAfter(state, rtt) };
}

function step(state: TftpTransferState, send: readonly Buffer[] = []): TftpStep {
  return { state, send, done: state.phase === 'done', failed: state.phase === 'failed' };
}

/** Encodes absolute block `n` (1-based, no wrap) of the file. */
function dataPacket(state: TftpTransferState, n: number): Buffer {
  const start = (n - 1) * state.blksize;
  const end = Math.min(start + state.blksize, state.data.length);
  return encodeTftpData(n & 0xffff, state.data.subarray(start, Math.max(start, end)));
}

/**
 * Sends the window starting at absolute block `from` (the first
 * unacknowledged block). `retries` > 0 means the timer resent it: then no
 * block of it may be sampled (Karn); otherwise only the blocks never sent
 * before may. `progress` (an ACK that advanced the window) is applied in
 * the same step: one new state object per ACK.
 */
function sendWindow(
  state: TftpTransferState,
  from: number,
  now: number,
  retries: number,
  upTo = from + state.windowsize - 1,
  progress: Progress | null = null,
): TftpStep {
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
  const started = progress ? true : state.started;
  const progressAt = progress ? progress.progressAt : state.progressAt;
  const rtoMs = progress ? progress.rtoMs : state.rtoMs;
  const next: TftpTransferState = {
    ...state,
    ...progress,
    phase: 'data',
    sent: Math.max(last, from - 1, state.sent),
    recoverUntil: again > 0 ? state.sent : state.recoverUntil,
    retries,
    sentAt: fresh ? now : state.sentAt,
    sampleFrom: !fresh ? state.sampleFrom : retries > 0 ? Number.POSITIVE_INFINITY : Math.max(from, state.sent + 1),
    deadline: nextDeadline(state, now + waitMs(state, retries, rtoMs, started), started, progressAt),
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
    // An OACK is not resent by the timer (see onTimeout): its only deadline is the first ACK's.
    deadline: input.now + Math.max(0, hasOack ? limits.firstAckTimeoutMs : Math.min(timeoutMs, limits.firstAckTimeoutMs)),
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
    // OACK sent → ACK 0 is the first round-trip sample, unless the OACK went out twice (Karn).
    const first = state.resent === 0 ? rttAfter(state, now - state.sentAt) : state;
    const progress: Progress = {
      acked: 0,
      started: true,
      progressAt: now,
      srttMs: first.srttMs,
      rttvarMs: first.rttvarMs,
      rtoMs: first.rtoMs,
      samples: first.samples,
    };
    return sendWindow(state, 1, now, 0, undefined, progress);
  }
  if (state.phase !== 'data') return step(state);
  // Map the 16-bit number onto the highest absolute block <= sent with the same low bits.
  const diff = ((state.sent & 0xffff) - (block & 0xffff)) & 0xffff;
  const abs = state.sent - diff;
  if (abs <= state.acked) return step(state); // duplicate or stale: ignore (no Sorcerer's Apprentice)
  const rtt = abs >= state.sampleFrom ? rttAfter(state, now - state.sentAt) : state;
  const progress: Progress = {
    acked: abs,
    started: true,
    progressAt: now,
    srttMs: rtt.srttMs,
    rttvarMs: rtt.rttvarMs,
    rtoMs: rtt.rtoMs,
    samples: rtt.samples,
  };
  if (abs >= state.totalBlocks) return step({ ...state, ...progress, phase: 'done', retries: 0 });
  // Inside the window while resent blocks may still be in flight: slide, send only blocks never sent.
  if (abs < state.sent && state.acked < state.recoverUntil) return sendWindow(state, state.sent + 1, now, 0, abs + state.windowsize, progress);
  return sendWindow(state, abs + 1, now, 0, undefined, progress);
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
  if (state.phase === 'oack') return step({ ...state, deadline: state.firstAckDeadline }); // the client's resend drives recovery
  return sendWindow(state, state.acked + 1, now, state.retries + 1);
}

/**
 * Handles the client repeating its request (same transfer ID) while the
 * transfer waits for ACK 0: the client timed out without the OACK, so the
 * OACK is sent again (RFC 1350 §2: the side that times out retransmits,
 * which makes the sender of the lost packet send it again): one OACK per
 * repeated request, never more. In any other phase nothing happens: DATA in
 * flight is the timer's business.
 */
export function onRequestRepeated(state: TftpTransferState, now: number): TftpStep {
  if (state.phase !== 'oack') return step(state);
  return step({ ...state, sentAt: now, resent: state.resent + 1 }, [encodeTftpPacket({ op: 'oack', options: state.oack ?? {} })]);
}

/** Ends the transfer as failed (client sent ERROR, socket failed, server closing). Sends nothing. */
export function abortTransfer(state: TftpTransferState, reason: string): TftpStep {
  if (state.phase === 'done' || state.phase === 'failed') return step(state);
  return step({ ...state, phase: 'failed', failure: reason });
}
