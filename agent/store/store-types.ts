/**
 * Types of the store's API beyond the domain model (runtime facts of a phone,
 * sync state, audit queries, change notifications).
 */
import type { AuditEvent, AuditKind, Vendor } from '../core/model.js';

/** docs/behaviour.md §9: has the phone fetched its current revision? */
export type SyncState = 'synced' | 'pending' | 'unreachable';

/** How a phone came to be known. */
export type EnrolledVia = 'directory' | 'auto';

/** Re-sync bookkeeping of one phone. */
export interface SyncStatus {
  readonly state: SyncState;
  /** Revision the phone must fetch to be synced. */
  readonly revision: number;
  /** Epoch ms of the bump that made it pending (null: never). */
  readonly requestedAt: number | null;
  readonly confirmedAt: number | null;
  /** `confirmedAt - requestedAt` of the last confirmation. */
  readonly elapsedMs: number | null;
  /** NOTIFYs sent for the current revision. */
  readonly attempts: number;
  /** Epoch ms when the next NOTIFY is due (null: none). */
  readonly nextAt: number | null;
}

/** Per-phone runtime facts (not part of the directory). */
export interface PhoneRuntime {
  readonly revision: number;
  readonly provUsername: string;
  /** Clear text: only for the HTTP digest check and the phone's own file. */
  readonly provPassword: string;
  /** Once true, the site bootstrap credential no longer unlocks this phone's secret files. */
  readonly ownCredentialUsed: boolean;
  /** Random per-phone token carried in XML-browser URLs. */
  readonly screenToken: string;
  readonly enrolledVia: EnrolledVia;
  /** Last address any request for this phone's files came from (a sighting: not trusted). */
  readonly lastIp: string | null;
  /** Address of the last authenticated fetch of its secret file: where check-sync NOTIFYs go. */
  readonly notifyIp: string | null;
  readonly lastUserAgent: string | null;
  readonly lastFirmware: string | null;
  readonly lastFile: string | null;
  readonly lastSeen: number | null;
  /** SIP port the phone listens on for NOTIFY (5060 unless learned otherwise). */
  readonly sipPort: number;
  readonly sync: SyncStatus;
}

/** A phone due for a check-sync NOTIFY. */
export interface PendingSync {
  readonly mac: string;
  readonly vendor: Vendor;
  readonly model: string;
  readonly ip: string;
  readonly sipPort: number;
  readonly revision: number;
  readonly requestedAt: number;
  readonly attempts: number;
}

/** One file fetch, as recorded by {@link Store.recordFetch}. */
export interface FetchRecord {
  readonly ip: string;
  readonly userAgent?: string;
  readonly firmware?: string;
  readonly file: string;
  /** Set only when the served file carries the phone's revision. */
  readonly revision?: number;
  /**
   * The requester proved it is this phone (authenticated fetch of its secret file):
   * only then does `ip` become the phone's NOTIFY address and a revision confirm a sync.
   */
  readonly authenticated?: boolean;
  readonly now: number;
}

/** Result of {@link Store.recordFetch}. */
export interface FetchResult {
  /** This fetch confirmed the pending revision. */
  readonly confirmed: boolean;
  readonly elapsedMs?: number;
}

/** Filter for {@link Store.queryAudit}. */
export interface AuditQuery {
  /** Only events at or after this epoch ms. */
  readonly since?: number;
  /** Only events with a larger id (then the FIRST `limit` are returned, for tailing). */
  readonly afterId?: number;
  /** Only these ids (the live event stream re-asks for ids that were skipped while their transaction was open). */
  readonly ids?: readonly number[];
  /** At most this many (default 100, capped at 10 000); without `afterId` the most recent ones. */
  readonly limit?: number;
  readonly phone?: string;
  readonly user?: string;
  readonly kinds?: readonly AuditKind[];
}

/** An audit event as stored (with its id). */
export interface StoredAuditEvent extends AuditEvent {
  readonly id: number;
  /** The agent that wrote the event (PostgreSQL, shared by several agents; absent on SQLite). */
  readonly agent?: string;
}

/** A phone seen before it was enrolled (SIP PnP, or an unauthenticated HTTP/TFTP first contact). */
export interface PnpSighting {
  readonly mac: string;
  readonly firstAt: number;
  readonly at: number;
  readonly ip: string;
  readonly vendor: string | null;
  readonly model: string | null;
  readonly count: number;
  /** Channel of the first contact: `pnp`, `http` or `tftp`. */
  readonly via: string;
}

/**
 * Called after a commit with the MACs whose revision was bumped in it, or whose
 * hot-desk line became registered or unregistered in it.
 */
export type ChangeListener = (macs: readonly string[]) => void;

/** Where a phone's hot-desk line is registered (the binding the agent, as its registrar, keeps; RFC 3261 §10.3). */
export interface LineRegistration {
  /** The Contact URI the phone registered. */
  readonly contact: string;
  /** Source address and port of the REGISTER (where calls and NOTIFYs for the line go). */
  readonly address: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
  readonly userAgent?: string;
  readonly callId: string;
  readonly cseq: number;
  /** Epoch ms of the REGISTER that created or last refreshed the binding. */
  readonly registeredAt: number;
  /** Epoch ms when the binding lapses unless refreshed. */
  readonly expiresAt: number;
}

/**
 * A phone's hot-desk line: the extra SIP account every hot-desk phone carries,
 * registered to the agent. The password is clear only in this object: it is
 * never logged, audited or exported.
 */
export interface HotdeskLine {
  readonly mac: string;
  readonly username: string;
  readonly password: string;
  /** The current binding, null when the line is not registered (or never was). */
  readonly registration: LineRegistration | null;
}

/** The registration of one line, without its password ({@link Store.listLineRegistrations}). */
export interface LineRegistrationEntry {
  readonly mac: string;
  readonly username: string;
  readonly registration: LineRegistration | null;
}

/**
 * What {@link Store.setLineRegistration} did: `registered` (was not, or had
 * lapsed), `refreshed` (a binding replaced a live one), `unregistered`
 * (a binding was removed), `unchanged` (nothing to do).
 */
export type LineRegistrationChange = 'registered' | 'refreshed' | 'unregistered' | 'unchanged';
