/**
 * What every API entry point (REST, PBX, action URLs, events) needs.
 */
import type { DeskOutcome } from '../../core/model.js';
import type { StoreApi } from '../../store/store-api.js';
import type { DialDedupe } from './dial-dedupe.js';
import type { AuditTail } from './event-stream.js';
import type { HotdeskService } from '../hotdesk-service.js';
import type { Logger } from '../logger.js';
import type { FailureLimiter } from '../http/rate-limiter.js';
import type { KnownModel } from '../provisioning/sightings.js';

/** What every entry-point plugin (REST, PBX, action URLs, events) needs. */
export interface ApiDeps {
  readonly store: StoreApi;
  readonly service: HotdeskService;
  readonly tail: AuditTail;
  readonly clock: () => number;
  readonly log: Logger;
  /** Called after any state change so the sync worker and the event tail act at once. */
  readonly onCommitted?: () => void;
  /** Per-source failure limiter shared with provisioning (wrong tokens count). */
  readonly limiter?: FailureLimiter;
  /** Dial dedupe shared by the PBX and action-URL routes (default: one per service). */
  readonly dedupe?: DialDedupe<Promise<DeskOutcome>>;
  /** Resolves a sighting's model to a profiled one (accepting sightings needs it). */
  readonly knownModel?: KnownModel;
}
