/**
 * Shared plumbing of the three drivers: turn a RenderInput into a key layout
 * and a render context, and one file spec into a PhoneFile.
 *
 * Pure module (templates come in already loaded, inside the TemplateEngine).
 */
import type { Transport, Vendor } from '../core/model.js';
import type { CommonInput, Identification, PhoneFile, RenderInput } from './driver.js';
import type { FirmwareProfile, FirmwareProfiles } from './firmware-profile.js';
import { hotdeskLineLayout } from './hotdesk-line.js';
import { keyLayout } from './key-layout.js';
import { buildRenderContext, type RenderContext } from './render-context.js';
import type { OutputFormat, TemplateEngine } from './template-engine.js';

/** What every driver is built from. */
export interface DriverDeps {
  readonly engine: TemplateEngine;
  readonly profiles: FirmwareProfiles;
}

/** One file a phone may fetch. */
export interface FileSpec {
  /** Canonical name (the case the vendor uses). */
  readonly name: string;
  readonly template: string;
  readonly format: OutputFormat;
  readonly contentType: string;
  readonly secret: boolean;
  readonly carriesRevision: boolean;
}

/** A phone's profile and context, ready for templates. */
export interface Prepared {
  readonly profile: FirmwareProfile;
  readonly context: RenderContext;
}

/** Profile, key layout and frozen context for `input`. */
export function prepare(input: RenderInput, transportCodes: Readonly<Record<Transport, string | number>>, files: Readonly<Record<string, string>>): Prepared {
  const { profile } = input;
  const hotdesk = input.phone.hotdesk;
  const layout = keyLayout(input.phone, profile, { hotdeskMenu: hotdesk, hotdeskKey: hotdesk, hotdeskLine: hotdeskLineLayout(input) });
  return { profile, context: buildRenderContext(input, profile, layout, { transportCodes, files }) };
}

/** Renders `spec` for the prepared phone. */
export function renderSpec(deps: DriverDeps, vendor: Vendor, p: Prepared, spec: FileSpec): PhoneFile {
  const body = deps.engine.render({ vendor, model: p.profile.model, template: spec.template, format: spec.format, context: p.context });
  return Object.freeze({ name: spec.name, contentType: spec.contentType, body, secret: spec.secret, carriesRevision: spec.carriesRevision });
}

/** The frozen context of a MAC-less common-file template (docs/firmware-profiles.md "Files before the phone's own"). */
export interface CommonContext {
  readonly site: { readonly name: string; readonly pollMinutes: number; readonly pollSeconds: number };
  readonly urls: { readonly provisioning: string; readonly provisioningDir: string };
  /** Model id when the request or the file name tells it, else empty. */
  readonly model: string;
  /** The file being rendered. */
  readonly file: string;
}

/**
 * Renders a MAC-less common file from `template` (never secret, never
 * carrying a revision, no firmware: firmware comes with the phone's own files).
 */
export function renderCommonSpec(
  deps: DriverDeps,
  vendor: Vendor,
  input: CommonInput,
  spec: { name: string; template: string; format: OutputFormat; contentType: string; model?: string },
): PhoneFile {
  const model = spec.model ?? input.model ?? '';
  const base = input.provisioning.replace(/\/+$/, '');
  const context: CommonContext = Object.freeze({
    site: Object.freeze({ name: input.site.name, pollMinutes: input.site.provisioning.pollMinutes, pollSeconds: input.site.provisioning.pollMinutes * 60 }),
    urls: Object.freeze({ provisioning: base, provisioningDir: `${base}/` }),
    model,
    file: spec.name,
  });
  const body = deps.engine.render({ vendor, model, template: spec.template, format: spec.format, context });
  return Object.freeze({ name: spec.name, contentType: spec.contentType, body, secret: false, carriesRevision: false });
}

/** Finds `name` among `specs`, case-insensitively. */
export function findSpec(specs: readonly FileSpec[], name: string): FileSpec | undefined {
  const n = name.toLowerCase();
  return specs.find((s) => s.name.toLowerCase() === n);
}

/** First 12-hex-digit MAC in a string with or without `:` separators, normalised; undefined if none. */
export function macIn(s: string): string | undefined {
  const m = /(?:^|[^0-9a-f:])((?:[0-9a-f]{2}:){5}[0-9a-f]{2}|[0-9a-f]{12})(?![0-9a-f:])/i.exec(s);
  return m?.[1] ? m[1].replace(/:/g, '').toLowerCase() : undefined;
}

/** Builds an Identification without undefined optional fields (`mac` = path MAC, else User-Agent MAC). */
export function identification(
  vendor: Vendor,
  file: string,
  facts: { macFromPath?: string | undefined; macFromUserAgent?: string | undefined; model?: string | undefined; firmware?: string | undefined },
): Identification {
  const mac = facts.macFromPath ?? facts.macFromUserAgent;
  return {
    vendor,
    file,
    ...(mac !== undefined ? { mac } : {}),
    ...(facts.macFromPath !== undefined ? { macFromPath: facts.macFromPath } : {}),
    ...(facts.macFromUserAgent !== undefined ? { macFromUserAgent: facts.macFromUserAgent } : {}),
    ...(facts.model !== undefined ? { model: facts.model } : {}),
    ...(facts.firmware !== undefined ? { firmware: facts.firmware } : {}),
  };
}

/** Which vendor a User-Agent names, if any. */
export function userAgentVendor(ua: string | undefined): Vendor | undefined {
  if (ua === undefined) return undefined;
  if (/\byealink\b/i.test(ua)) return 'yealink';
  if (/\bsnom/i.test(ua)) return 'snom';
  if (/polycom|\bpoly\b|\bpolyedge\b/i.test(ua)) return 'poly';
  return undefined;
}
