/**
 * Conveniences over a driver: render one named file (throwing a coded error
 * when it is not one of the phone's files) and render every file of a phone.
 *
 * Pure module.
 */
import { HotdeskError } from '../core/errors.js';
import type { PhoneFile, RenderInput, VendorDriver } from './driver.js';

/** Renders `name` for the phone of `input`; throws HotdeskError('unknown-file') when the phone has no such file. */
export function renderPhoneFile(driver: VendorDriver, input: RenderInput, name: string): PhoneFile {
  const f = driver.render(input, name);
  if (!f) throw new HotdeskError('unknown-file', `${name} is not a file of phone ${input.phone.mac}`, { file: name, phone: input.phone.mac });
  return f;
}

/** Every file of the phone, in `fileNames` order, rendered. */
export function renderAllPhoneFiles(driver: VendorDriver, input: RenderInput): readonly PhoneFile[] {
  return driver.fileNames(input).map((n) => renderPhoneFile(driver, input, n));
}

/** File listing of a phone: name, secret, carriesRevision, content type (no bodies). */
export function listPhoneFiles(
  driver: VendorDriver,
  input: RenderInput,
): readonly { readonly name: string; readonly secret: boolean; readonly carriesRevision: boolean; readonly contentType: string }[] {
  return renderAllPhoneFiles(driver, input).map((f) => ({ name: f.name, secret: f.secret, carriesRevision: f.carriesRevision, contentType: f.contentType }));
}
