import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../agent/core/errors.js';
import { PROFILES_DIR } from '../../agent/paths.js';
import { loadFirmwareProfiles, validateFirmwareProfile } from '../../agent/vendors/firmware-profile.js';
import { FIRMWARE_PROFILE_SCHEMA } from '../../agent/vendors/firmware-profile-schema.js';

const REQUIRED = {
  yealink: ['T31G', 'T33G', 'T43U', 'T46U', 'T48U', 'T54W', 'T57W'],
  snom: ['D315', 'D385', 'D717', 'D735', 'D785'],
  poly: ['VVX150', 'VVX250', 'VVX350', 'VVX411', 'VVX450', 'VVX501', 'VVX601'],
} as const;

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempProfiles(vendor: string, name: string, body: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'hotdesk-profiles-'));
  dirs.push(dir);
  mkdirSync(join(dir, vendor));
  writeFileSync(join(dir, vendor, name), typeof body === 'string' ? body : JSON.stringify(body));
  return dir;
}

/** The merged T46U profile as plain JSON (its file extends families/t4xu). */
const t46u = (): Record<string, unknown> => JSON.parse(JSON.stringify(loadFirmwareProfiles().find('yealink', 'T46U'))) as Record<string, unknown>;

describe('firmware profiles', () => {
  it('ships a valid profile for every required model', () => {
    const profiles = loadFirmwareProfiles();
    for (const [vendor, models] of Object.entries(REQUIRED)) {
      for (const m of models) expect(profiles.find(vendor as keyof typeof REQUIRED, m)?.model, `${vendor} ${m}`).toBe(m);
    }
    expect(profiles.all().length).toBeGreaterThanOrEqual(19);
  });

  it('schema.json is the schema the validator uses', () => {
    const onDisk = JSON.parse(readFileSync(join(PROFILES_DIR, 'schema.json'), 'utf8')) as unknown;
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(FIRMWARE_PROFILE_SCHEMA)));
  });

  it('finds models case-insensitively and by User-Agent token', () => {
    const profiles = loadFirmwareProfiles();
    expect(profiles.find('yealink', 't46u')?.model).toBe('T46U');
    expect(profiles.findByUserAgentName('yealink', 'SIP-T46U')?.model).toBe('T46U');
    expect(profiles.findByUserAgentName('snom', 'snomd785')?.model).toBe('D785');
    expect(profiles.findByUserAgentName('poly', 'VVX_450')?.model).toBe('VVX450');
    expect(profiles.findByFileModelName('snom', 'd785')?.model).toBe('D785');
    expect(profiles.find('poly', 'T46U')).toBeUndefined();
    expect(profiles.find('yealink', 'T99X')).toBeUndefined();
  });

  it('profiles are frozen', () => {
    const p = loadFirmwareProfiles().find('yealink', 'T46U');
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p?.capabilities)).toBe(true);
  });

  it('rejects a profile with a wrong field type, naming file and field', () => {
    const bad = { ...t46u(), lineKeys: 'many' };
    const e = thrown(() => loadFirmwareProfiles(tempProfiles('yealink', 'T46U.json', bad)));
    expect(isHotdeskError(e, 'profile-invalid')).toBe(true);
    const he = e as { message: string; detail: Record<string, unknown> };
    expect(he.message).toContain('yealink/T46U.json');
    expect(he.message).toContain('lineKeys');
    expect(he.detail['field']).toBe('lineKeys');
    expect(he.detail['file']).toBe(join('yealink', 'T46U.json'));
  });

  it('rejects missing required, bad enum, unknown field, nested errors', () => {
    const base = t46u();
    const { accounts: _a, ...noAccounts } = base;
    const cases: [unknown, string][] = [
      [noAccounts, 'accounts'],
      [{ ...base, capabilities: { ...(base['capabilities'] as object), checkSync: 'maybe' } }, 'capabilities.checkSync'],
      [{ ...base, colour: 'red' }, 'colour'],
      [{ ...base, expansionModules: { max: -1, keysPerModule: 60 } }, 'expansionModules.max'],
      [{ ...base, keyTypes: { ...(base['keyTypes'] as object), speed: 'speed' } }, 'keyTypes.speed'],
      [{ ...base, commonFile: 'common.cfg' }, 'commonFile'],
    ];
    for (const [value, field] of cases) {
      const e = thrown(() => validateFirmwareProfile(value, 'x.json'));
      expect(isHotdeskError(e, 'profile-invalid'), field).toBe(true);
      expect((e as { detail: Record<string, unknown> }).detail['field'], field).toBe(field);
    }
  });

  it('rejects a profile without sources', () => {
    const { sources: _s, ...noSources } = t46u();
    const e = thrown(() => validateFirmwareProfile(noSources, 'x.json'));
    expect((e as { detail: Record<string, unknown> }).detail['field']).toBe('sources');
  });

  it('rejects a file whose name is not its model, and invalid JSON', () => {
    const e1 = thrown(() => loadFirmwareProfiles(tempProfiles('yealink', 'T48U.json', t46u())));
    expect(isHotdeskError(e1, 'profile-invalid')).toBe(true);
    expect((e1 as Error).message).toContain('T48U.json');
    const e2 = thrown(() => loadFirmwareProfiles(tempProfiles('snom', 'D785.json', '{ not json')));
    expect(isHotdeskError(e2, 'profile-invalid')).toBe(true);
    expect((e2 as Error).message).toContain('D785.json');
  });
});
