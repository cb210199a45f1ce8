/**
 * The files phones ask for before their own, when nothing in the request
 * tells which phone is asking (no MAC in the path nor in the User-Agent:
 * every TFTP request, HTTP without a User-Agent, and Poly, whose User-Agent
 * never carries a MAC):
 *
 * - Yealink `y000000000000.boot` (asked when `<mac>.boot` is missing) and the
 *   common `y0000000000NN.cfg` (asked before `<mac>.cfg`, or named by a boot
 *   file); the boot file leads the phone to `$MAC.cfg`;
 * - Poly `000000000000.cfg`, the default master, listing
 *   `[PHONE_MAC_ADDRESS]-...` files;
 * - Snom `snom<MODEL>.htm`, whose `setting_server` leads the phone to
 *   `snom<MODEL>-<MAC>.htm`.
 *
 * The drivers render them (`VendorDriver.renderCommon`, vendor citations
 * there). Guarantees, whatever the driver returns: no secret (a file marked
 * secret is refused), no per-phone token, no enrolment and no recorded
 * address (nothing here touches the store), served the same over HTTP and
 * TFTP. Anything else without a MAC is `unknown-phone`, as before.
 */
import { HotdeskError } from '../../core/errors.js';
import type { Phone, SiteSettings } from '../../core/model.js';
import type { AgentUrls, Identification, VendorDriver } from '../../vendors/driver.js';
import { type ServedFile, servedFile } from './served-file.js';

/** What the pipeline hands over at its "no MAC" point. */
export interface CommonFileRequest {
  readonly driver: VendorDriver;
  /** Sanitised file name as requested. */
  readonly name: string;
  readonly id: Identification;
  readonly site: SiteSettings;
  /** The pipeline's URL builder (only the provisioning base is used). */
  readonly urls: UrlBuilder;
}

/** The URLs a phone's files carry, for `phone` with its screen token, under the `site` read for the request. */
export type UrlBuilder = (phone: Phone, screenToken: string, site: SiteSettings) => AgentUrls;

/** A phone nobody knows, used only to ask the URL builder for the provisioning base. */
function placeholder(id: Identification): Phone {
  return { mac: '000000000000', vendor: id.vendor, model: id.model ?? '', label: '', hotdesk: false, identities: [], keys: [] };
}

/**
 * Serves the MAC-less common file `req.name`, or throws
 * HotdeskError('unknown-phone') when it is not one (the caller does not count
 * that as a failure: nothing was guessed).
 */
export function serveCommonFile(req: CommonFileRequest): ServedFile {
  const provisioning = req.urls(placeholder(req.id), '', req.site).provisioning;
  const file = req.driver.renderCommon(req.name, {
    site: req.site,
    provisioning,
    ...(req.id.model !== undefined ? { model: req.id.model } : {}),
  });
  if (!file) throw new HotdeskError('unknown-phone', 'cannot tell which phone is asking (no MAC in path or User-Agent)');
  if (file.secret || file.carriesRevision) throw new HotdeskError('internal', `common file ${file.name} is marked per-phone`);
  const { body, ...meta } = file;
  return servedFile({ file: meta, parts: [Buffer.from(body, 'utf8')], mac: null, vendor: req.driver.vendor });
}
