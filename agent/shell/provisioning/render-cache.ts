/**
 * The provisioning pipeline's cache of rendered phone files, bounded in bytes
 * (not entries: a fully written Yealink file is ~37 KB, a boot file a few
 * hundred bytes). Least recently used entries go first. Only files rendered
 * for a request that was authorised to receive them are ever put here.
 *
 * Files are kept encoded (UTF-8, what is sent) and split into chunks shared
 * between files (chunk-pool.ts): the bytes counted against the budget are the
 * distinct chunks plus each entry's bookkeeping, so an office's files, which
 * are mostly the same text, cost a small fraction of their total size.
 */
import { type Chunk, ChunkPool, type EncodedFile, joinChunks } from './chunk-pool.js';
import type { FileMeta } from './served-file.js';

/**
 * Default budget: 128 MiB. Kept as shared chunks, a 10,000-phone office of fully written Yealink files
 * takes about 30 MiB, so a warm boot storm is served from memory with room for a day's revisions; a
 * smaller budget trades memory for re-rendering (a cache smaller than the office's files turns a warm
 * boot storm into a cold one).
 */
export const DEFAULT_RENDER_CACHE_BYTES = 128 * 1024 * 1024;

/** Bookkeeping cost of one entry besides its key and chunk list (entry object, map slot, metadata). */
const ENTRY_OVERHEAD = 256;

/** A cached file: its description and its encoded text as shared chunks. */
export interface CachedFile {
  readonly meta: FileMeta;
  readonly chunks: readonly Chunk[];
  /** Bytes of the encoded text. */
  readonly length: number;
  /** The last screen token the text was searched for, and whether it was found (pipeline safety net). */
  tokenCheck?: { readonly token: string; readonly found: boolean };
}

interface Entry {
  readonly file: CachedFile;
  readonly cost: number;
  /** The file this entry is a version of (see {@link RenderCache.set}). */
  readonly slot: FileSlot | undefined;
}

/** Which file a cache entry is a version of, and which version (higher is newer). */
export interface FileSlot {
  readonly name: string;
  readonly version: number;
}

/** A file answered but not kept: its text as one chunk outside the pool. */
function unshared(meta: FileMeta, bytes: Buffer): CachedFile {
  return { meta, chunks: [{ bytes, hash: 0, refs: 0 }], length: bytes.length };
}

/** The encoded text of a cached file. */
export function cachedBody(file: CachedFile): Buffer {
  return joinChunks(file.chunks, file.length);
}

/** An LRU map of rendered files whose total size stays within `maxBytes`. */
export class RenderCache {
  private readonly entries = new Map<string, Entry>();
  /** Slot name -> the key and version of the version of that file held now. */
  private readonly slots = new Map<string, { readonly key: string; readonly version: number }>();
  private readonly pool = new ChunkPool();
  private own = 0;

  constructor(readonly maxBytes: number = DEFAULT_RENDER_CACHE_BYTES) {
    if (!(maxBytes >= 0)) throw new RangeError('render cache budget must be >= 0 bytes');
  }

  /** The cached file (and marks it recently used), or undefined. */
  get(key: string): CachedFile | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.file;
  }

  /** Whether `key` is cached (without marking it used). */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * Caches `file` under `key`, evicting least recently used entries to stay within budget, and returns
   * it as cached. A file that cannot fit even alone is returned as one unshared chunk, not cached.
   * `slot` names the file `key` is a version of (a phone's file name) and its version (the phone's
   * revision): the version it replaces is dropped at once, since nobody asks for a superseded revision
   * again; a file older than the one held (a slow render overtaken by a newer one) is not cached.
   */
  set(key: string, file: EncodedFile, slot?: FileSlot): CachedFile {
    const { meta, bytes } = file;
    this.delete(key);
    const previous = slot === undefined ? undefined : this.slots.get(slot.name);
    if (previous !== undefined && slot !== undefined && previous.version > slot.version) return unshared(meta, bytes);
    if (previous !== undefined) this.delete(previous.key);
    const own = ENTRY_OVERHEAD + 2 * key.length + meta.name.length + meta.contentType.length;
    if (own + bytes.length > this.maxBytes) return unshared(meta, bytes);
    const { chunks } = this.pool.intern(bytes, file.cuts);
    const cost = own + 8 * chunks.length;
    const cached: CachedFile = { meta, chunks, length: bytes.length };
    this.entries.set(key, { file: cached, cost, slot });
    if (slot !== undefined) this.slots.set(slot.name, { key, version: slot.version });
    this.own += cost;
    while (this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      // The newest entry goes last: then it is alone and does not fit (its chunks stay valid for the caller).
      this.delete(oldest.value);
    }
    return cached;
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    if (e.slot !== undefined && this.slots.get(e.slot.name)?.key === key) this.slots.delete(e.slot.name);
    this.own -= e.cost;
    this.pool.release(e.file.chunks);
  }

  /** Bytes held now (approximate memory: distinct chunks and entries). */
  get bytes(): number {
    return this.own + this.pool.bytes;
  }

  /** Entries held now. */
  get size(): number {
    return this.entries.size;
  }

  /** Distinct chunks held now (shared between entries). */
  get chunks(): number {
    return this.pool.size;
  }

  /** Empties the cache. */
  clear(): void {
    this.entries.clear();
    this.slots.clear();
    this.pool.clear();
    this.own = 0;
  }
}
