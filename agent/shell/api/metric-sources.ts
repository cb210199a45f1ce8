/**
 * Scrape-time counts the metrics read from the store (api/metrics.ts
 * `MetricSources`) beyond the store's own `syncStateCounts()`: cheap
 * queries, run only when /metrics is scraped.
 */
import type { StoreData } from '../../store/store-api.js';

/** Hot-desk lines registered now (a lapsed binding does not count). */
export async function registeredLines(store: Pick<StoreData, 'listLineRegistrations'>, now: number): Promise<number> {
  let n = 0;
  for (const e of await store.listLineRegistrations()) if (e.registration !== null && e.registration.expiresAt > now) n++;
  return n;
}
