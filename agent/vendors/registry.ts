/**
 * The vendor driver registry: one driver per vendor over one set of loaded
 * templates and firmware profiles.
 *
 * `createDriverRegistry` is pure; `createDrivers` is the shell's one-call
 * convenience that also reads the profiles and templates (I/O). Typical use:
 * ```ts
 * const profiles = loadFirmwareProfiles();
 * const sources = loadTemplateSources({ siteDir: join(dataDir, 'templates') });
 * const registry = createDriverRegistry({ profiles, sources });
 * registry.driverFor('snom').checkSyncEvent; // 'check-sync;reboot=false'
 * ```
 */
import type { Vendor } from '../core/model.js';
import type { VendorDriver } from './driver.js';
import { loadFirmwareProfiles, type FirmwareProfiles } from './firmware-profile.js';
import { createPolyDriver } from './poly.js';
import { createSnomDriver } from './snom.js';
import { TemplateEngine, type TemplateSources } from './template-engine.js';
import { loadTemplateSources } from './template-loader.js';
import { createYealinkDriver } from './yealink.js';

/** All drivers, plus lookup by vendor. */
export interface DriverRegistry {
  /** Yealink, Snom, Poly (in this order). */
  readonly allDrivers: readonly VendorDriver[];
  driverFor(vendor: Vendor): VendorDriver;
  /** The engine the drivers render with (shared parsed-template cache). */
  readonly engine: TemplateEngine;
}

/** Builds the drivers over loaded template sources and profiles. */
export function createDriverRegistry(opts: { readonly profiles: FirmwareProfiles; readonly sources: TemplateSources }): DriverRegistry {
  const engine = new TemplateEngine(opts.sources);
  const deps = { engine, profiles: opts.profiles };
  const byVendor: Record<Vendor, VendorDriver> = {
    yealink: createYealinkDriver(deps),
    snom: createSnomDriver(deps),
    poly: createPolyDriver(deps),
  };
  const allDrivers = Object.freeze([byVendor.yealink, byVendor.snom, byVendor.poly]);
  return Object.freeze({ allDrivers, driverFor: (vendor: Vendor) => byVendor[vendor], engine });
}

/** Options of {@link createDrivers}. */
export interface CreateDriversOptions {
  /** Site template override root (`<data>/templates`). */
  readonly siteTemplateDir?: string;
  /** Shipped templates root (default `provisioning-templates/`). */
  readonly shippedTemplateDir?: string;
  /** Profiles to use (default: loaded from `firmware-profiles/`). */
  readonly profiles?: FirmwareProfiles;
}

/**
 * Shell convenience (reads files): loads templates (and profiles unless
 * given) and returns the three drivers (Yealink, Snom, Poly).
 */
export function createDrivers(opts: CreateDriversOptions = {}): readonly VendorDriver[] {
  const sources = loadTemplateSources({
    ...(opts.siteTemplateDir !== undefined ? { siteDir: opts.siteTemplateDir } : {}),
    ...(opts.shippedTemplateDir !== undefined ? { shippedDir: opts.shippedTemplateDir } : {}),
  });
  return createDriverRegistry({ profiles: opts.profiles ?? loadFirmwareProfiles(), sources }).allDrivers;
}
