/**
 * Firmware images served read-only from `<data>/firmware/` over HTTP
 * (`/firmware/<name>`) and TFTP (`firmware/<name>`). They hold no secrets, so
 * no credential is needed; names are checked by the one file-name check
 * (protocols/file-name.ts). Files are cached in memory (bounded) and re-read
 * when their mtime or size changes.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HotdeskError, type ErrorCode } from '../../core/errors.js';
import { FIRMWARE_FILE_NAME, requireFileName, type FileNameFault } from '../../protocols/file-name.js';

/** Any refused firmware name is `path-traversal`, but a malformed HTTP encoding (`bad-request`). */
const REFUSED: Partial<Record<FileNameFault, ErrorCode>> = {
  empty: 'path-traversal',
  'too-long': 'path-traversal',
  nested: 'path-traversal',
  'bad-name': 'path-traversal',
};

interface Cached {
  readonly data: Buffer;
  readonly mtimeMs: number;
  readonly size: number;
}

/** The firmware directory of one data dir. */
export class FirmwareFiles {
  private readonly cache = new Map<string, Cached>();
  private cachedBytes = 0;

  constructor(
    readonly dir: string,
    private readonly maxCacheBytes = 512 * 1024 * 1024,
  ) {}

  /** True when `name` (after the `firmware/` prefix) is a plausible firmware file name. */
  static isFirmwarePath(path: string): string | null {
    const p = path.replace(/^\/+/, '');
    if (!p.startsWith('firmware/')) return null;
    return p.slice('firmware/'.length);
  }

  /**
   * Reads a firmware file; throws coded errors for bad names and missing files.
   * `percentEncoded`: `requested` is still percent-encoded (an HTTP path).
   */
  read(requested: string, o: { readonly percentEncoded?: boolean } = {}): Buffer {
    const name = requireFileName(requested, { ...FIRMWARE_FILE_NAME, percentEncoded: o.percentEncoded ?? false }, REFUSED);
    const path = join(this.dir, name);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch {
      throw new HotdeskError('not-found', 'no such firmware file');
    }
    if (!st.isFile()) throw new HotdeskError('not-found', 'no such firmware file');
    const hit = this.cache.get(name);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.data;
    const data = readFileSync(path);
    if (hit) this.cachedBytes -= hit.size;
    if (data.length <= this.maxCacheBytes) {
      while (this.cachedBytes + data.length > this.maxCacheBytes && this.cache.size > 0) {
        const [k, v] = this.cache.entries().next().value as [string, Cached];
        this.cache.delete(k);
        this.cachedBytes -= v.size;
      }
      this.cache.set(name, { data, mtimeMs: st.mtimeMs, size: st.size });
      this.cachedBytes += data.length;
    }
    return data;
  }
}
