/**
 * Firmware profiles: per-model facts (key counts, account slots, file names,
 * key codes, capabilities). Key and account counts live ONLY in the profile
 * files under `firmware-profiles/<vendor>/<MODEL>.json`.
 *
 * `validateFirmwareProfile` and `FirmwareProfiles` are pure; the one thin I/O
 * part is `loadFirmwareProfiles`, which reads the shipped directory.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { HotdeskError } from '../core/errors.js';
import { VENDORS, type Vendor } from '../core/model.js';
import { PROFILES_DIR } from '../shell/paths.js';
import { FIRMWARE_PROFILE_SCHEMA } from './firmware-profile-schema.js';
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
  readonly unverified?: readonly string[];
  readonly notes?: string;
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
  return new HotdeskError('profile-invalid', `firmware profile ${file}: ${first}${errors.length > 1 ? ` (+${errors.length - 1} more)` : ''}`, { file, field, errors: [...errors] });
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
  if (more.length > 0) throw invalid(file, more);
  const frozen = deepFreeze(p);
  validated.add(frozen);
  return frozen;
}

/**
 * Narrows `RenderInput.profile` (typed `unknown` in the driver contract) to a
 * FirmwareProfile: profiles that passed validation are accepted as is, other
 * objects are validated now.
 */
export function asFirmwareProfile(value: unknown): FirmwareProfile {
  return validateFirmwareProfile(value, '(render input)');
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

/**
 * Reads and validates every `<dir>/<vendor>/<MODEL>.json` (I/O: the thin
 * shell part of this module). The file name must equal the profile's model
 * and its directory its vendor. Throws HotdeskError('profile-invalid') naming
 * the file and field of the first bad profile.
 */
export function loadFirmwareProfiles(dir: string = PROFILES_DIR): FirmwareProfiles {
  const list: FirmwareProfile[] = [];
  for (const vendor of VENDORS) {
    const vdir = join(dir, vendor);
    let names: string[];
    try {
      if (!statSync(vdir).isDirectory()) continue;
      names = readdirSync(vdir).filter((n) => n.endsWith('.json')).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const file = join(vendor, name);
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(join(vdir, name), 'utf8'));
      } catch (e) {
        throw new HotdeskError('profile-invalid', `firmware profile ${file}: not valid JSON`, { file, field: '(root)' }, { cause: e });
      }
      const p = validateFirmwareProfile(parsed, file);
      if (p.vendor !== vendor) throw invalid(file, [`vendor: must be ${vendor} (the directory it is in)`]);
      if (p.model !== basename(name, '.json')) throw invalid(file, [`model: must equal the file name (${basename(name, '.json')})`]);
      list.push(p);
    }
  }
  return firmwareProfiles(list);
}
