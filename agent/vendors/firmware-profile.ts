/**
 * Firmware profiles: per-model facts (key counts, account slots, file names,
 * key codes, capabilities). Key and account counts live ONLY in the profile
 * files under `firmware-profiles/<vendor>/<MODEL>.json`, optionally on top of
 * a family base `firmware-profiles/<vendor>/families/<name>.json`
 * (`"extends": "families/<name>"`, merge rules in profile-families.ts).
 *
 * `validateFirmwareProfile` and `FirmwareProfiles` are pure; the one thin I/O
 * part is `loadFirmwareProfiles`, which reads the shipped directory, merges
 * families and validates the merged result.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { HotdeskError } from '../core/errors.js';
import { VENDORS, type Vendor } from '../core/model.js';
import { PROFILES_DIR } from '../paths.js';
import { FIRMWARE_PROFILE_SCHEMA } from './firmware-profile-schema.js';
import { resolveFamilies, type JsonObject } from './profile-families.js';
import { checkSchema } from './schema-check.js';

/** Key kinds that have a vendor code. */
export type KeyTypeName = 'speed' | 'line' | 'blf' | 'url' | 'none';

/** One phone model's facts (see firmware-profiles/schema.json and docs/firmware-profiles.md). */
export interface FirmwareProfile {
  readonly vendor: Vendor;
  readonly model: string;
  readonly family?: string;
  readonly userAgentNames: readonly string[];
  readonly fileModelName: string;
  readonly lineKeys: number;
  readonly lineAppearanceKeys: number;
  readonly expansionModules: { readonly max: number; readonly keysPerModule: number; readonly firstKeyIndex?: number };
  readonly accounts: number;
  readonly keyTypes: Readonly<Record<KeyTypeName, number | string>>;
  readonly commonFile?: string;
  readonly firmware?: { readonly version: string; readonly file: string };
  readonly capabilities: {
    readonly xmlBrowser: boolean;
    readonly efk: boolean;
    readonly actionUrl: boolean;
    readonly checkSync: 'notify' | 'notify-reboot-false' | 'none';
    readonly urlKeys: 'line-key' | 'soft-key';
  };
  readonly softKeys: number;
  /** Firmware generations the model runs (Yealink: the ROM prefix such as `108` and releases such as `86`). */
  readonly firmwareFamilies?: readonly FirmwareFamily[];
  /** Citations for the facts (vendor guide + section or URL, or a field-used template set's repository and path). */
  readonly sources: readonly string[];
  readonly unverified?: readonly string[];
  readonly notes?: string;
}

/** One firmware generation of a model (see firmware-profiles/schema.json). */
export interface FirmwareFamily {
  /** Leading number of the firmware version (Yealink ROM prefix `108` in `108.86.0.45`; Snom major `10`; Poly `6`). */
  readonly prefix: string;
  /** Releases seen with that prefix (Yealink `84`, `86`: the second number of the version). */
  readonly releases?: readonly string[];
  /** Firmware file name as published (informational). */
  readonly rom?: string;
}

const validated = new WeakSet<object>();

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as Record<string, unknown>)) deepFreeze(x);
  }
  return v;
}

function invalid(file: string, errors: readonly string[]): HotdeskError {
  const first = errors[0] ?? 'invalid';
  const field = first.split(':')[0] ?? '(root)';
  return new HotdeskError('profile-invalid', `firmware profile ${file}: ${first}${errors.length > 1 ? ` (+${errors.length - 1} more)` : ''}`, {
    file,
    field,
    errors: [...errors],
  });
}

/**
 * Validates a parsed profile (schema plus vendor rules: Yealink needs a
 * `commonFile` and numeric key codes, Snom/Poly string codes). Returns a deep
 * frozen FirmwareProfile or throws HotdeskError('profile-invalid') whose
 * message and `detail` name `file` and the failing field.
 */
export function validateFirmwareProfile(value: unknown, file: string): FirmwareProfile {
  if (value !== null && typeof value === 'object' && validated.has(value)) return value as FirmwareProfile;
  const errors = checkSchema(value, FIRMWARE_PROFILE_SCHEMA);
  if (errors.length > 0) throw invalid(file, errors);
  const p = value as FirmwareProfile;
  const more: string[] = [];
  const numeric = p.vendor === 'yealink';
  for (const [k, v] of Object.entries(p.keyTypes)) {
    if (numeric !== (typeof v === 'number')) more.push(`keyTypes.${k}: must be ${numeric ? 'an integer' : 'a string'} for ${p.vendor}`);
  }
  if (p.vendor === 'yealink' && p.commonFile === undefined) more.push('commonFile: is required for yealink');
  if (p.vendor !== 'yealink' && p.commonFile !== undefined) more.push(`commonFile: is only for yealink`);
  if (p.vendor === 'snom' && p.accounts > 12) more.push('accounts: must be <= 12 for snom');
  if (p.lineAppearanceKeys > p.lineKeys) more.push('lineAppearanceKeys: must be <= lineKeys');
  if ((p as { extends?: unknown }).extends !== undefined) more.push('extends: must be resolved by the loader (loadFirmwareProfiles) before validation');
  if (more.length > 0) throw invalid(file, more);
  const frozen = deepFreeze(p);
  validated.add(frozen);
  return frozen;
}

/** The loaded, validated set of profiles. */
export interface FirmwareProfiles {
  /** Profile of `vendor`/`model` (model matched case-insensitively). */
  find(vendor: Vendor, model: string): FirmwareProfile | undefined;
  /** Profile whose `userAgentNames` holds `token` (case-insensitive), e.g. `SIP-T46U`, `snomD785`, `VVX_450`. */
  findByUserAgentName(vendor: Vendor, token: string): FirmwareProfile | undefined;
  /** Profile whose `fileModelName` is `name` (case-insensitive), e.g. Snom `D785`. */
  findByFileModelName(vendor: Vendor, name: string): FirmwareProfile | undefined;
  /** Every profile, sorted by vendor then model. */
  all(): readonly FirmwareProfile[];
}

/** Builds the lookup over already validated profiles; rejects duplicates. */
export function firmwareProfiles(list: readonly FirmwareProfile[]): FirmwareProfiles {
  const sorted = [...list].sort((a, b) => (a.vendor === b.vendor ? (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) : a.vendor < b.vendor ? -1 : 1));
  const byModel = new Map<string, FirmwareProfile>();
  const byUa = new Map<string, FirmwareProfile>();
  const byFile = new Map<string, FirmwareProfile>();
  for (const p of sorted) {
    const key = `${p.vendor}/${p.model.toLowerCase()}`;
    if (byModel.has(key)) throw new HotdeskError('profile-invalid', `duplicate firmware profile ${p.vendor} ${p.model}`, { field: 'model' });
    byModel.set(key, p);
    for (const ua of p.userAgentNames) {
      const k = `${p.vendor}/${ua.toLowerCase()}`;
      if (byUa.has(k)) throw new HotdeskError('profile-invalid', `User-Agent name ${ua} claimed by two ${p.vendor} profiles`, { field: 'userAgentNames' });
      byUa.set(k, p);
    }
    byFile.set(`${p.vendor}/${p.fileModelName.toLowerCase()}`, p);
  }
  const frozen = Object.freeze(sorted);
  return Object.freeze({
    find: (vendor: Vendor, model: string) => byModel.get(`${vendor}/${model.toLowerCase()}`),
    findByUserAgentName: (vendor: Vendor, token: string) => byUa.get(`${vendor}/${token.toLowerCase()}`),
    findByFileModelName: (vendor: Vendor, name: string) => byFile.get(`${vendor}/${name.toLowerCase()}`),
    all: () => frozen,
  });
}

/** Parses one JSON file of the profile tree; a syntax error is profile-invalid naming `file`. */
function readJson(path: string, file: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HotdeskError('profile-invalid', `firmware profile ${file}: not valid JSON`, { file, field: '(root)' }, { cause: e });
  }
}

function jsonNames(dir: string): string[] {
  try {
    if (!statSync(dir).isDirectory()) return [];
    return readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Reads and validates every `<dir>/<vendor>/<MODEL>.json` (I/O: the thin
 * shell part of this module), each merged over its family bases
 * (`<dir>/<vendor>/families/<name>.json`). The file name must equal the
 * profile's model and its directory its vendor. Throws
 * HotdeskError('profile-invalid') naming the file and field of the first bad
 * profile, a missing base or an `extends` cycle.
 */
export function loadFirmwareProfiles(dir: string = PROFILES_DIR): FirmwareProfiles {
  const list: FirmwareProfile[] = [];
  for (const vendor of VENDORS) {
    const vdir = join(dir, vendor);
    const bases = new Map<string, JsonObject>();
    const baseFile = (ref: string): string => join(vendor, `${ref}.json`);
    for (const name of jsonNames(join(vdir, 'families'))) {
      const ref = `families/${basename(name, '.json')}`;
      const parsed = readJson(join(vdir, 'families', name), baseFile(ref));
      if (!isObject(parsed)) throw invalid(baseFile(ref), ['(root): must be object']);
      bases.set(ref, parsed);
    }
    for (const name of jsonNames(vdir)) {
      const file = join(vendor, name);
      const parsed = readJson(join(vdir, name), file);
      const merged = isObject(parsed) ? resolveFamilies(parsed, file, bases, baseFile) : parsed;
      const p = validateFirmwareProfile(merged, file);
      if (p.vendor !== vendor) throw invalid(file, [`vendor: must be ${vendor} (the directory it is in)`]);
      if (p.model !== basename(name, '.json')) throw invalid(file, [`model: must equal the file name (${basename(name, '.json')})`]);
      list.push(p);
    }
  }
  return firmwareProfiles(list);
}
