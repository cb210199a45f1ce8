/** What the provisioning pipeline answers for one file request (shared by the pipeline and the MAC-less common files). */
import type { Vendor } from '../../core/model.js';
import type { PhoneFile } from '../../vendors/driver.js';

/** A file's description without its text. */
export type FileMeta = Omit<PhoneFile, 'body'>;

/** A served file. */
export interface ServedFile {
  readonly file: FileMeta;
  /**
   * The file's text, encoded as sent (UTF-8), as pieces to send in order: the render cache's shared
   * chunks themselves, never modified, so a writer sends them without copying (HTTP writes them in one
   * `writev`).
   */
  readonly parts: readonly Buffer[];
  /** Bytes in `parts`. */
  readonly length: number;
  /** The file's text as one Buffer, joined from `parts` on first use (TFTP, which sends it in blocks). */
  readonly body: Buffer;
  readonly mac: string | null;
  readonly vendor: Vendor;
  /** Set when this fetch confirmed a pending sync. */
  readonly syncConfirmed?: { readonly elapsedMs: number };
}

/**
 * A served file from its parts; `body` joins them on first use and keeps the result. Copying one with
 * object spread reads `body` (and so joins): build each answer with this instead.
 */
export function servedFile(o: Omit<ServedFile, 'body' | 'length'>): ServedFile {
  let joined: Buffer | undefined;
  const length = o.parts.reduce((n, p) => n + p.length, 0);
  return {
    ...o,
    length,
    get body(): Buffer {
      joined ??= o.parts.length === 1 ? (o.parts[0] as Buffer) : Buffer.concat(o.parts as Buffer[], length);
      return joined;
    },
  };
}
