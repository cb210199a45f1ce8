/**
 * The agent's start options and the handle of a running agent (agent.ts starts it; `hotdesk
 * serve` and the end-to-end tests use both).
 */
import type { SyncRetryPolicy } from '../core/sync-backoff.js';
import type { Store } from '../store/store.js';
import type { StoreApi } from '../store/store-api.js';
import type { AuditTail } from './api/event-stream.js';
import type { HotdeskService } from './hotdesk-service.js';
import type { RunningHttpServer } from './http/server.js';
import type { Logger } from './logger.js';
import type { PnpLimits } from './discovery/pnp-responder.js';
import type { ProvisioningPipeline } from './provisioning/provisioning-pipeline.js';
import type { SyncWorker } from './sync/sync-worker.js';
import type { TftpServerLimits } from './tftp/tftp-server.js';
import type { VoiceServer } from './voice/voice-server.js';

/** How `startAgent` (agent.ts) runs the agent. */
export interface AgentOptions {
  /** The data directory: the SQLite database, or with `store` only the data key (`secret.key`) and local files. */
  readonly dataDir: string;
  /** A `postgres://` URL: the shared PostgreSQL store (docs/scaling.md); absent: SQLite in `dataDir`. */
  readonly store?: string;
  /** This agent's name on a shared store (audit rows, sync claims; default the host name). */
  readonly agentId?: string;
  /** This agent's pool on a shared store: agents that reach the same phones (default `default`). */
  readonly pool?: string;
  /** How long a sync claim holds before another agent of the pool takes it over (ms, default 15 s). */
  readonly syncLeaseMs?: number;
  /** Bind address for every listener (default `0.0.0.0`). */
  readonly host?: string;
  readonly httpPort?: number;
  readonly tftpPort?: number | null;
  /** The agent's SIP UDP port: hot-desk line registrar and calls, NOTIFY source (0 = ephemeral). */
  readonly sipPort?: number;
  /** UDP ports for call audio (default 40000-40999). */
  readonly rtpPorts?: { readonly min: number; readonly max: number };
  /** Hot-desk-line calls at once (default 50). */
  readonly callLimit?: number;
  /** Spoken-dialog timing (tests shorten it). */
  readonly voiceTiming?: { readonly firstDigitMs?: number; readonly interDigitMs?: number; readonly maxCallMs?: number };
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** SIP PnP responder port (null = off). */
  readonly pnpPort?: number | null;
  readonly pnpMulticast?: boolean;
  /** IPv4 address of the interface PnP listens and joins 224.0.1.75 on (default: `host` when not 0.0.0.0, else every interface). */
  readonly pnpInterface?: string;
  /** TFTP slot limits (`--tftp-per-source`; defaults in docs/tftp.md "Limits"). */
  readonly tftpLimits?: TftpServerLimits;
  /** PnP answer budgets (default `DEFAULT_PNP_LIMITS`: 6 answers at once per source address, one more per 10 s). */
  readonly pnpLimits?: Partial<PnpLimits>;
  /** SSDP advertisement (null = off). */
  readonly ssdpPort?: number | null;
  /** IPv4 address of the interface SSDP announces on (default: `host` when not 0.0.0.0, else the kernel's choice). */
  readonly ssdpInterface?: string;
  readonly log: Logger;
  readonly clock?: () => number;
  readonly syncRetry?: SyncRetryPolicy;
  /** SIP timer T1 and transaction timeout (tests shorten them). */
  readonly sipTimers?: { readonly t1Ms: number; readonly timeoutMs: number };
  /** Enable the vendor HTTP re-sync fallback (default true). */
  readonly httpResyncFallback?: boolean;
  readonly syncTickMs?: number;
  /**
   * Render phone files on this many worker threads (0 or absent = in this
   * thread). Needs the compiled `render-worker.js` (dist/); without it the
   * agent logs at debug level and renders in-thread.
   */
  readonly renderWorkers?: number;
  /**
   * Render phone files ahead of their fetch on idle render workers: every phone at start-up, a phone
   * whose revision changed first (default true; needs render workers; `--no-render-ahead`).
   */
  readonly renderAhead?: boolean;
  /** Render-cache budget in bytes (`--render-cache-mb`; default 128 MiB). */
  readonly renderCacheBytes?: number;
  /** Serve `/metrics` without token on this address too (`--metrics-host/--metrics-port`). */
  readonly metricsListen?: { readonly host: string; readonly port: number };
}

/** A started agent: its parts, the ports it bound, and how to stop it. */
export interface RunningAgent {
  /** The store contract every part of the agent uses. */
  readonly store: StoreApi;
  /** The synchronous SQLite store underneath it (tests, backup); throws `storage-error` on PostgreSQL. */
  readonly sqlite: Store;
  readonly service: HotdeskService;
  readonly http: RunningHttpServer;
  readonly tftpPort: number | null;
  readonly sipPort: number;
  /** The hot-desk line's call server, its RTP port range and call limit. */
  readonly voice: { readonly server: VoiceServer; readonly rtpPorts: { readonly min: number; readonly max: number }; readonly callLimit: number };
  readonly pnpPort: number | null;
  /** The SSDP advertiser's port (null = not advertising). */
  readonly ssdpPort: number | null;
  readonly baseUrl: string;
  readonly tail: AuditTail;
  readonly sync: SyncWorker;
  readonly pipeline: ProvisioningPipeline;
  /** Port of the token-free metrics listener (null = none). */
  readonly metricsPort: number | null;
  /**
   * Graceful stop, bounded by `timeoutMs`: `/readyz` turns 503, no new HTTP
   * connections, requests, TFTP transfers and check-sync NOTIFYs in flight finish. Resolves true
   * when all finished in time. Call {@link close} afterwards.
   */
  drain(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}
