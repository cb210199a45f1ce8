/**
 * Public types of the TFTP server (tftp-server.ts): its options, the
 * `resolve` contract, the limits with their defaults, and the stats counters.
 */
import type { HotdeskError } from '../../core/errors.js';
import type { TftpTransferLimits } from '../../protocols/tftp-transfer.js';
import type { LogFields, LogLevel } from '../logger.js';

/** Default of {@link TftpServerLimits.maxTransfers}. */
export const DEFAULT_TFTP_MAX_TRANSFERS = 256;
/** Default of {@link TftpServerLimits.maxPerSource}. */
export const DEFAULT_TFTP_MAX_PER_SOURCE = 4;

/** Where a request came from. */
export interface TftpRemote {
  readonly address: string;
  readonly port: number;
}

/** What `resolve` is asked: a checked file name (one leading `/` stripped). */
export interface TftpResolveRequest {
  readonly path: string;
  readonly remote: TftpRemote;
  /** Options from the RRQ (names lower-cased, values as sent). */
  readonly options: Readonly<Record<string, string>>;
}

/** What `resolve` answers: the file, or a refusal. */
export type TftpResolveResult = { readonly data: Buffer } | { readonly error: HotdeskError };

/** Server bounds: transfer limits plus concurrency. */
export interface TftpServerLimits extends Partial<TftpTransferLimits> {
  /** Transfers (including requests being resolved) at once. Default {@link DEFAULT_TFTP_MAX_TRANSFERS}. */
  readonly maxTransfers?: number;
  /**
   * Transfers at once from one source address. Default 4: a phone fetches its
   * files one after the other; raise it when many phones share one address
   * (NAT) and boot together.
   */
  readonly maxPerSource?: number;
}

/** Options of {@link startTftpServer}. */
export interface TftpServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly resolve: (req: TftpResolveRequest) => Promise<TftpResolveResult>;
  readonly log?: (level: LogLevel, msg: string, fields: LogFields) => void;
  readonly limits?: TftpServerLimits;
  /** Millisecond clock for the state machine. Default `Date.now`. */
  readonly clock?: () => number;
}

/** Counters since start. */
export interface TftpServerStats {
  /** Transfers running or being resolved. */
  readonly active: number;
  /** Open per-transfer sockets. */
  readonly sockets: number;
  readonly transfersOk: number;
  readonly transfersFailed: number;
  /** Requests answered with an ERROR before any transfer started. */
  readonly refused: number;
  /** Of `refused`: requests refused for want of a slot (`busy`). */
  readonly refusedBusy: number;
  /** Never-started transfers evicted to give a slot to a source holding fewer. */
  readonly evicted: number;
  /** Source addresses holding a slot (the per-source state kept; at most `maxTransfers`). */
  readonly sources: number;
  /** File bytes delivered by completed transfers. */
  readonly bytesOk: number;
  /** DATA payload bytes sent, resends included. */
  readonly bytesSent: number;
  /** Datagrams sent again by finished transfers (OACK resends, DATA blocks sent more than once). */
  readonly resent: number;
}

/** A running server. */
export interface TftpServer {
  readonly port: number;
  close(): Promise<void>;
  stats(): TftpServerStats;
}

/** The per-transfer limits given in `limits` (absent ones keep the state machine's defaults). */
export function transferLimitsOf(limits: TftpServerLimits): Partial<TftpTransferLimits> {
  return {
    ...(limits.maxBlksize !== undefined ? { maxBlksize: limits.maxBlksize } : {}),
    ...(limits.maxWindowsize !== undefined ? { maxWindowsize: limits.maxWindowsize } : {}),
    ...(limits.timeoutMs !== undefined ? { timeoutMs: limits.timeoutMs } : {}),
    ...(limits.maxRetries !== undefined ? { maxRetries: limits.maxRetries } : {}),
    ...(limits.maxTimeoutMs !== undefined ? { maxTimeoutMs: limits.maxTimeoutMs } : {}),
    ...(limits.firstAckTimeoutMs !== undefined ? { firstAckTimeoutMs: limits.firstAckTimeoutMs } : {}),
    ...(limits.minTimeoutMs !== undefined ? { minTimeoutMs: limits.minTimeoutMs } : {}),
  };
}
