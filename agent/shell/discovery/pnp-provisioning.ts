/**
 * What the agent does with a SIP PnP SUBSCRIBE (docs/deployment.md "SIP PnP"):
 * decides which provisioning URL the phone gets (an unknown phone of a known
 * model too when the site has `autoEnrol`: it is enrolled only once it fetches
 * its own file with the bootstrap credential), and records every request as a
 * sighting (store row, capped per source and in total, + `pnp-sighting` audit
 * event for a new one).
 *
 * Phones the agent does not know and will not enrol are left unanswered so
 * that another provisioning server on the segment can still serve them.
 */
import type { SiteSettings, Vendor } from '../../core/model.js';
import type { PnpRequest } from '../../protocols/pnp.js';
import type { FirmwareProfile, FirmwareProfiles } from '../../vendors/firmware-profile.js';
import type { StoreData } from '../../store/store-api.js';
import { trimBase } from '../provisioning/agent-urls.js';
import type { Logger } from '../logger.js';
import type { PnpSighting } from './pnp-responder.js';

/**
 * The firmware profile for the model string a phone puts in its PnP Event
 * header. Phones write it in several ways: Snom `snomD785` (its User-Agent
 * token) or `D785`, Yealink `SIP-T46U` or `T46U`, Poly `VVX_450` or `VVX450`.
 * Tries the profile model, the User-Agent token, the file model name, then
 * the string without a `snom` / `SIP-` / `Polycom` prefix.
 */
export function pnpModelProfile(profiles: FirmwareProfiles, vendor: Vendor, model: string): FirmwareProfile | undefined {
  const m = model.trim();
  if (m === '') return undefined;
  const candidates = [m, m.replace(/^(snom|sip-|polycom[-_ ]?)/i, '')];
  for (const c of candidates) {
    if (c === '') continue;
    const p = profiles.find(vendor, c) ?? profiles.findByUserAgentName(vendor, c) ?? profiles.findByFileModelName(vendor, c);
    if (p) return p;
  }
  return undefined;
}

/**
 * The provisioning URL handed to a phone of `vendor` by PnP. Every vendor gets
 * the root URL `<base>/` (docs/deployment.md "URL forms per vendor": Snom's
 * `setting_server` accepts the root and then asks for `snom<MODEL>.htm` and
 * `snom<MODEL>-<MAC>.htm`; Yealink asks for `<mac>.boot`; Poly for `<mac>.cfg`).
 */
export function pnpProvisioningUrl(base: string, vendor: Vendor): string {
  switch (vendor) {
    case 'snom':
    case 'yealink':
    case 'poly':
      return `${trimBase(base)}/`;
  }
}

/** What {@link createPnpProvisioning} needs. */
export interface PnpProvisioningDeps {
  readonly store: Pick<StoreData, 'getSite' | 'getPhone' | 'recordSighting' | 'appendAudit'>;
  readonly profiles: FirmwareProfiles;
  readonly clock: () => number;
  /** The agent's provisioning base URL (`site.provisioning.baseUrl`, else the listening address). */
  readonly baseUrl: (site: SiteSettings) => string;
  readonly log: Logger;
}

/** The two hooks `startPnpResponder` takes. */
export interface PnpProvisioning {
  provisioningUrlFor(pnp: PnpRequest): Promise<string | null>;
  onSighting(s: PnpSighting): Promise<void>;
}

/**
 * Builds the responder hooks: a known phone gets its vendor's URL; an unknown
 * MAC of a vendor we drive and a model in the firmware profiles gets the URL
 * too when the site has `provisioning.autoEnrol`, but is **not** enrolled: a
 * SUBSCRIBE proves nothing, so the phone is enrolled only when it then fetches
 * its own file with the bootstrap credential. Anything else gets null (left
 * unanswered). Every SUBSCRIBE is a sighting, capped per source and in total.
 */
export function createPnpProvisioning(d: PnpProvisioningDeps): PnpProvisioning {
  return {
    async provisioningUrlFor(pnp) {
      const [known, site] = await Promise.all([d.store.getPhone(pnp.mac), d.store.getSite()]);
      if (known) return pnpProvisioningUrl(d.baseUrl(site), known.vendor);
      if (pnp.vendorId === null) return null;
      const profile = pnpModelProfile(d.profiles, pnp.vendorId, pnp.model);
      if (!profile || !site.provisioning.autoEnrol) return null;
      return pnpProvisioningUrl(d.baseUrl(site), pnp.vendorId);
    },
    async onSighting(s) {
      const at = d.clock();
      const recorded = await d.store.recordSighting({
        mac: s.mac,
        ip: s.address,
        at,
        via: 'pnp',
        // The vendor id we drive when the Event header names one (so an admin can accept it), else the raw name.
        ...(s.vendorId !== null ? { vendor: s.vendorId } : s.vendor !== '' ? { vendor: s.vendor } : {}),
        ...(s.model !== '' ? { model: s.model } : {}),
      });
      // Repeats and capped floods leave no audit row: the audit log must not grow at a stranger's pace.
      if (recorded !== 'new') return;
      await d.store.appendAudit({
        kind: 'pnp-sighting',
        at,
        phone: s.mac,
        detail: { vendor: s.vendor, model: s.model, version: s.version, ip: s.address, answered: s.url !== null },
      });
    },
  };
}
