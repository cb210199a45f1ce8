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

/** What {@link servedFile} is given: a served file without its joined body (`length` counted when not given). */
export type ServedFileInit = Omit<ServedFile, 'body' | 'length'> & { readonly length?: number };

/** {@link ServedFile} with `body` joined on first use (a class: one hidden shape, the getter on the prototype). */
class LazyServedFile implements ServedFile {
  readonly file: FileMeta;
  readonly parts: readonly Buffer[];
  readonly length: number;
  readonly mac: string | null;
  readonly vendor: Vendor;
  readonly syncConfirmed?: { readonly elapsedMs: number };
  private joined: Buffer | undefined;

  constructor(o: ServedFileInit) {
    this.file = o.file;
    this.parts = o.parts;
    this.length = o.length ?? o.parts.reduce((n, p) => n + p.length, 0);
    this.mac = o.mac;
    this.vendor = o.vendor;
    if (o.syncConfirmed !== undefined) this.syncConfirmed = o.syncConfirmed;
  }

  get body(): Buffer {
    this.joined ??= this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts as Buffer[], this.length);
    return this.joined;
  }
}

/**
 * A served file from its parts; `body` joins them on first use and keeps the result. Object spread of
 * one reads `body` (and so joins) and loses the getter: build each answer with this instead.
 */
export function servedFile(o: ServedFileInit): ServedFile {
  return new LazyServedFile(o);
}
