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
 * - Duplicate and stale ACKs are ignored, never answered with a resend: only
 *   the retransmission timer resends. This avoids the Sorcerer's Apprentice
 *   syndrome (RFC 1123 §4.2.3.1).
 * - First-ACK deadline: a transfer the client has not started yet (no ACK 0
 *   for the OACK, no ACK for the first DATA window) fails once
 *   `firstAckTimeoutMs` has passed since it was created, however many resends
 *   remain. A client that never answers (a stalled or spoofed request) thus
 *   holds its slot for seconds, not for the full backoff of a transfer in
 *   progress. A real client that lost every answer times out and resends its
 *   RRQ (RFC 1350 §2), which gets a fresh transfer once this one is gone.
 * - On timeout the outstanding OACK or window is resent, up to `maxRetries`
 *   times, with the wait doubling on each resend up to `maxTimeoutMs`
 *   (exponential backoff, RFC 1123 §4.2.3.2); then the transfer fails. The
 *   backoff matters: some clients (atftp) answer a duplicate DATA with one
 *   extra ACK only and then wait their own (5 s) timeout, so a server that
 *   gives up sooner than that loses transfers on a lossy network.
 *
 * Time is a parameter (`now`, in milliseconds); the caller arms a timer for
 * `state.deadline` and calls {@link onTimeout}.
 *
 * Pure module: no I/O.
 */
import {
  TFTP_BLKSIZE_MAX,
  TFTP_DEFAULT_BLKSIZE,
  TFTP_WINDOWSIZE_MAX,
  encodeTftpPacket,
  parseRequestedOptions,
} from './tftp-packet.js';

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
}

/** Defaults for {@link TftpTransferLimits}. */
export const DEFAULT_TFTP_TRANSFER_LIMITS: TftpTransferLimits = {
  maxBlksize: 1468,
  maxWindowsize: 64,
  timeoutMs: 1000,
  maxTimeoutMs: 8000,
  maxRetries: 6,
  firstAckTimeoutMs: 8000,
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
  /** First retransmission timeout in use (ms). */
  readonly timeoutMs: number;
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

/** Wait before the next resend after `retries` resends: doubling, capped. */
function waitMs(state: TftpTransferState, retries: number): number {
  return Math.min(state.timeoutMs * 2 ** Math.min(retries, 30), Math.max(state.timeoutMs, state.maxTimeoutMs));
}

/** The next timer: the resend time, or the first-ACK deadline when that comes first. */
function nextDeadline(state: TftpTransferState, resendAt: number): number {
  return state.started ? resendAt : Math.min(resendAt, state.firstAckDeadline);
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

/** Sends the window starting at absolute block `from`. */
function sendWindow(state: TftpTransferState, from: number, now: number, retries: number): TftpStep {
  const last = Math.min(from + state.windowsize - 1, state.totalBlocks);
  const send: Buffer[] = [];
  let bytes = 0;
  for (let n = from; n <= last; n++) {
    const pkt = dataPacket(state, n);
    bytes += pkt.length - 4;
    send.push(pkt);
  }
  const next: TftpTransferState = {
    ...state,
    phase: 'data',
    sent: Math.max(last, from - 1),
    retries,
    deadline: nextDeadline(state, now + waitMs(state, retries)),
    bytesSent: state.bytesSent + bytes,
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
  const state: TftpTransferState = {
    phase: hasOack ? 'oack' : 'data',
    data: input.data,
    blksize,
    windowsize,
    timeoutMs,
    maxTimeoutMs: limits.maxTimeoutMs,
    maxRetries: Math.max(0, limits.maxRetries),
    oack: hasOack ? oack : null,
    totalBlocks: Math.floor(input.data.length / blksize) + 1,
    acked: 0,
    sent: 0,
    retries: 0,
    started: false,
    firstAckDeadline: input.now + Math.max(0, limits.firstAckTimeoutMs),
    deadline: input.now + Math.min(timeoutMs, Math.max(0, limits.firstAckTimeoutMs)),
    bytesSent: 0,
    failure: null,
  };
  if (hasOack) return step(state, [encodeTftpPacket({ op: 'oack', options: oack })]);
  return sendWindow(state, 1, input.now, 0);
}

/**
 * Handles an ACK carrying 16-bit block number `block`. Progress sends the
 * next window (or finishes); a duplicate or stale ACK changes nothing and
 * sends nothing.
 */
export function onAck(state: TftpTransferState, block: number, now: number): TftpStep {
  if (state.phase === 'oack') {
    if (block !== 0) return step(state);
    return sendWindow({ ...state, acked: 0, started: true }, 1, now, 0);
  }
  if (state.phase !== 'data') return step(state);
  // Map the 16-bit number onto the highest absolute block <= sent with the same low bits.
  const diff = ((state.sent & 0xffff) - (block & 0xffff)) & 0xffff;
  const abs = state.sent - diff;
  if (abs <= state.acked) return step(state); // duplicate or stale: ignore (no Sorcerer's Apprentice)
  if (abs >= state.totalBlocks) return step({ ...state, acked: abs, phase: 'done', retries: 0, started: true });
  return sendWindow({ ...state, acked: abs, started: true }, abs + 1, now, 0);
}

/**
 * Handles the retransmission timer. Before `state.deadline` nothing happens;
 * after it the outstanding OACK or window is resent, or the transfer fails
 * once `maxRetries` resends went unanswered, or (not started yet) once the
 * first-ACK deadline has passed (`failure: 'no first ack'`).
 */
export function onTimeout(state: TftpTransferState, now: number): TftpStep {
  if (state.phase !== 'oack' && state.phase !== 'data') return step(state);
  if (now < state.deadline) return step(state);
  if (!state.started && now >= state.firstAckDeadline) return step({ ...state, phase: 'failed', failure: 'no first ack' });
  if (state.retries >= state.maxRetries) return step({ ...state, phase: 'failed', failure: 'timeout' });
  if (state.phase === 'oack') {
    const deadline = nextDeadline(state, now + waitMs(state, state.retries + 1));
    return step({ ...state, retries: state.retries + 1, deadline }, [encodeTftpPacket({ op: 'oack', options: state.oack ?? {} })]);
  }
  return sendWindow(state, state.acked + 1, now, state.retries + 1);
}

/** Ends the transfer as failed (client sent ERROR, socket failed, server closing). Sends nothing. */
export function abortTransfer(state: TftpTransferState, reason: string): TftpStep {
  if (state.phase === 'done' || state.phase === 'failed') return step(state);
  return step({ ...state, phase: 'failed', failure: reason });
}
