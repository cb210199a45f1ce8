/** What the provisioning pipeline answers for one file request (shared by the pipeline and the MAC-less common files). */
import type { Vendor } from '../../core/model.js';
import type { PhoneFile } from '../../vendors/driver.js';

/** A served file. */
export interface ServedFile {
  readonly file: PhoneFile;
  readonly mac: string | null;
  readonly vendor: Vendor;
  /** Set when this fetch confirmed a pending sync. */
  readonly syncConfirmed?: { readonly elapsedMs: number };
}
