/**
 * The provisioning pipeline's cache of rendered phone files, bounded in bytes
 * (not entries: a fully written Yealink file is ~37 KB, a boot file a few
 * hundred bytes). Least recently used entries go first. Only files rendered
 * for a request that was authorised to receive them are ever put here.
 */
import type { PhoneFile } from '../../vendors/driver.js';

/**
 * Default budget: 512 MiB of file text, enough for every file of a 10,000-phone office (a fully
 * written Yealink file is ~37 KB), so a warm boot storm is served from memory. Only files rendered
 * for an authorised request are cached, so the set is bounded by the enrolled phones; a smaller
 * budget trades memory for re-rendering (a cache smaller than the office's files turns a warm
 * boot storm into a cold one).
 */
export const DEFAULT_RENDER_CACHE_BYTES = 512 * 1024 * 1024;

/** Bookkeeping cost of one entry besides its text (key, object, map slot). */
const ENTRY_OVERHEAD = 256;

/** Approximate heap bytes of one cached file. */
function costOf(key: string, file: PhoneFile): number {
  // V8 keeps ASCII strings at one byte per character; templates are ASCII apart from names.
  return ENTRY_OVERHEAD + key.length + file.name.length + file.contentType.length + Buffer.byteLength(file.body, 'utf8');
}

/** An LRU map of rendered files whose total size stays within `maxBytes`. */
export class RenderCache {
  private readonly entries = new Map<string, { file: PhoneFile; cost: number }>();
  private total = 0;

  constructor(readonly maxBytes: number = DEFAULT_RENDER_CACHE_BYTES) {
    if (!(maxBytes >= 0)) throw new RangeError('render cache budget must be >= 0 bytes');
  }

  /** The cached file (and marks it recently used), or undefined. */
  get(key: string): PhoneFile | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.file;
  }

  /** Caches `file` under `key`, evicting least recently used entries to stay within budget. A file larger than the whole budget is not cached. */
  set(key: string, file: PhoneFile): void {
    const cost = costOf(key, file);
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.total -= old.cost;
    }
    if (cost > this.maxBytes) return;
    while (this.total + cost > this.maxBytes) {
      const first = this.entries.entries().next();
      if (first.done) break;
      this.entries.delete(first.value[0]);
      this.total -= first.value[1].cost;
    }
    this.entries.set(key, { file, cost });
    this.total += cost;
  }

  /** Bytes held now (approximate heap cost). */
  get bytes(): number {
    return this.total;
  }

  /** Entries held now. */
  get size(): number {
    return this.entries.size;
  }

  /** Empties the cache. */
  clear(): void {
    this.entries.clear();
    this.total = 0;
  }
}
