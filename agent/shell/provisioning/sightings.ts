/**
 * Quarantined sightings: unknown phones that made contact without proving who
 * they are (a SIP PnP SUBSCRIBE, or an unauthenticated HTTP/TFTP request when
 * the site has `provisioning.anonymousEnrolment`). They are never enrolled by
 * themselves; an admin accepts one (`hotdesk sightings accept MAC`, REST
 * `POST /api/v1/sightings/{mac}/accept`) or dismisses it. The store caps them
 * per source and in total.
 */
import type { Phone, Vendor } from '../../core/model.js';
import type { StoreData } from '../../store/store-api.js';
import type { PnpSighting } from '../../store/store-types.js';
import type { FirmwareProfiles } from '../../vendors/firmware-profile.js';
import { pnpModelProfile } from '../discovery/pnp-provisioning.js';

/** Resolves a sighting's vendor and model string to a profiled model id, if any. */
export type KnownModel = (vendor: Vendor, model: string) => string | undefined;

const VENDORS: readonly Vendor[] = ['yealink', 'snom', 'poly'];

/** The {@link KnownModel} of a set of firmware profiles (model id, User-Agent or file-name spelling). */
export function knownModelOf(profiles: FirmwareProfiles): KnownModel {
  return (vendor, model) => (VENDORS.includes(vendor) ? pnpModelProfile(profiles, vendor, model)?.model : undefined);
}

/** A sighting as the API and CLI show it. */
export interface SightingView {
  readonly mac: string;
  readonly vendor: string | null;
  readonly model: string | null;
  /** The profiled model the sighting resolves to (null: cannot be accepted). */
  readonly knownModel: string | null;
  readonly ip: string;
  readonly via: string;
  readonly firstAt: number;
  readonly at: number;
  readonly count: number;
}

/** A sighting as the API and CLI show it. */
export function sightingView(s: PnpSighting, known: KnownModel): SightingView {
  const model = s.vendor && s.model ? known(s.vendor as Vendor, s.model) : undefined;
  return { mac: s.mac, vendor: s.vendor, model: s.model, knownModel: model ?? null, ip: s.ip, via: s.via, firstAt: s.firstAt, at: s.at, count: s.count };
}

/** Accepts the sighting of `mac` as an enrolled phone (see Store.acceptSighting). */
export function acceptSighting(store: Pick<StoreData, 'acceptSighting'>, known: KnownModel, mac: string, now: number): Promise<Phone> {
  return store.acceptSighting(mac, known, now);
}
