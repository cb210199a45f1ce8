/** What the provisioning pipeline answers for one file request (shared by the pipeline and the MAC-less common files). */
import type { Vendor } from '../../core/model.js';
import type { PhoneFile } from '../../vendors/driver.js';

/** A file's description without its text. */
export type FileMeta = Omit<PhoneFile, 'body'>;

/** A served file. */
export interface ServedFile {
  readonly file: FileMeta;
  /** The file's text, encoded as sent (UTF-8). */
  readonly body: Buffer;
  readonly mac: string | null;
  readonly vendor: Vendor;
  /** Set when this fetch confirmed a pending sync. */
  readonly syncConfirmed?: { readonly elapsedMs: number };
}
