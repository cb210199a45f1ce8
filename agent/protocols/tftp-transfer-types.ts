/**
 * Types and default limits of the TFTP read-transfer state machine
 * (`tftp-transfer.ts`, which re-exports them): the server-side bounds, the
 * immutable transfer state and the step each event returns.
 *
 * Pure module: no I/O.
 */

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
  /** Floor of the measured (adaptive) retransmission timeout (ms). Default 5. */
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
  minTimeoutMs: 5,
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
