/**
 * Scrape-time counts the metrics read from the store (api/metrics.ts
 * `MetricSources`): cheap aggregate queries, run only when /metrics is
 * scraped.
 */
import type { Store } from '../../store/store.js';

/** Phones by sync state (synced, pending, unreachable). */
export function syncStateCounts(store: Store): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of store.db.prepare('SELECT sync_state AS state, count(*) AS n FROM phones GROUP BY sync_state').all() as { state: string; n: number }[])
    out[r.state] = r.n;
  return out;
}

/** Hot-desk lines registered now (a lapsed binding does not count). */
export function registeredLines(store: Store, now: number): number {
  let n = 0;
  for (const e of store.listLineRegistrations()) if (e.registration !== null && e.registration.expiresAt > now) n++;
  return n;
}
