import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../agent/core/errors.js';
import { PROFILES_DIR } from '../../agent/paths.js';
import { loadFirmwareProfiles } from '../../agent/vendors/firmware-profile.js';
import { mergeProfile, resolveFamilies } from '../../agent/vendors/profile-families.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A profile tree in a temp dir: `files` maps `<vendor>/<path>.json` to content. */
function tree(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hotdesk-families-'));
  dirs.push(dir);
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), typeof body === 'string' ? body : JSON.stringify(body));
  }
  return dir;
}

function thrown(fn: () => unknown): { code: string; message: string; detail: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    expect(isHotdeskError(e, 'profile-invalid')).toBe(true);
    return e as { code: string; message: string; detail: Record<string, unknown> };
  }
  throw new Error('expected a throw');
}

const BASE = {
  vendor: 'yealink',
  family: 'Base',
  lineAppearanceKeys: 1,
  expansionModules: { max: 3, keysPerModule: 60 },
  keyTypes: { speed: 13, line: 15, blf: 16, url: 27, none: 0 },
  capabilities: { xmlBrowser: true, efk: false, actionUrl: true, checkSync: 'notify', urlKeys: 'line-key' },
  softKeys: 4,
  sources: ['base guide'],
  unverified: ['keyTypes.url'],
};
const MODEL = {
  extends: 'families/base',
  model: 'T99X',
  userAgentNames: ['SIP-T99X'],
  fileModelName: 'T99X',
  lineKeys: 10,
  accounts: 4,
  commonFile: 'y000000000099.cfg',
  sources: ['model guide', 'base guide'],
  unverified: ['lineKeys'],
};

describe('mergeProfile', () => {
  it('merges objects key by key, replaces arrays and scalars, concatenates unverified and sources without duplicates', () => {
    const merged = mergeProfile(
      { a: 1, o: { x: 1, y: { z: 1, w: 2 } }, list: [1, 2], sources: ['s1', 's2'], unverified: ['u1'] },
      { a: 2, o: { y: { z: 3 } }, list: [3], sources: ['s2', 's3'], unverified: ['u2', 'u1'] },
    );
    expect(merged).toEqual({ a: 2, o: { x: 1, y: { z: 3, w: 2 } }, list: [3], sources: ['s1', 's2', 's3'], unverified: ['u1', 'u2'] });
  });

  it('resolves a two-level chain base first and drops extends', () => {
    const bases = new Map<string, Record<string, unknown>>([
      ['families/a', { family: 'A', softKeys: 1, sources: ['a'] }],
      ['families/b', { extends: 'families/a', softKeys: 2, sources: ['b'] }],
    ]);
    const out = resolveFamilies({ extends: 'families/b', model: 'M', sources: ['m'] }, 'v/M.json', bases, (r) => `v/${r}.json`);
    expect(out).toEqual({ family: 'A', softKeys: 2, model: 'M', sources: ['a', 'b', 'm'] });
  });
});

describe('loading families', () => {
  it('loads a model over its base; the merged result is validated', () => {
    const dir = tree({ 'yealink/families/base.json': BASE, 'yealink/T99X.json': MODEL });
    const p = loadFirmwareProfiles(dir).find('yealink', 'T99X');
    expect(p).toMatchObject({
      family: 'Base',
      lineKeys: 10,
      expansionModules: { max: 3, keysPerModule: 60 },
      sources: ['base guide', 'model guide'],
      unverified: ['keyTypes.url', 'lineKeys'],
    });
    expect(p && 'extends' in p).toBe(false);
    // A merged result missing a required field names the model file and the field.
    const { softKeys: _s, ...noSoftKeys } = BASE;
    const e = thrown(() => loadFirmwareProfiles(tree({ 'yealink/families/base.json': noSoftKeys, 'yealink/T99X.json': MODEL })));
    expect(e.message).toContain(join('yealink', 'T99X.json'));
    expect(e.detail['field']).toBe('softKeys');
  });

  it('a missing base, a cycle, a base naming a model and a malformed extends are profile-invalid naming the file', () => {
    const missing = thrown(() => loadFirmwareProfiles(tree({ 'yealink/T99X.json': MODEL })));
    expect(missing.message).toContain(join('yealink', 'T99X.json'));
    expect(missing.message).toContain('families/base');
    expect(missing.detail['field']).toBe('extends');

    const cycle = thrown(() =>
      loadFirmwareProfiles(
        tree({
          'yealink/families/base.json': { ...BASE, extends: 'families/other' },
          'yealink/families/other.json': { extends: 'families/base' },
          'yealink/T99X.json': MODEL,
        }),
      ),
    );
    expect(cycle.message).toContain(join('yealink', 'T99X.json'));
    expect(cycle.message).toMatch(/cycle: families\/base -> families\/other -> families\/base/);

    const named = thrown(() => loadFirmwareProfiles(tree({ 'yealink/families/base.json': { ...BASE, model: 'X' }, 'yealink/T99X.json': MODEL })));
    expect(named.message).toContain(join('yealink', 'families', 'base.json'));

    const malformed = thrown(() =>
      loadFirmwareProfiles(tree({ 'yealink/families/base.json': BASE, 'yealink/T99X.json': { ...MODEL, extends: '../snom/families/base' } })),
    );
    expect(malformed.message).toContain(join('yealink', 'T99X.json'));

    const json = thrown(() => loadFirmwareProfiles(tree({ 'yealink/families/base.json': '{ nope', 'yealink/T99X.json': MODEL })));
    expect(json.message).toContain(join('yealink', 'families', 'base.json'));
  });

  it('every shipped model file that extends a base names one that exists, and no base names a model', () => {
    for (const vendor of ['yealink', 'snom', 'poly']) {
      const fam = join(PROFILES_DIR, vendor, 'families');
      for (const f of readdirSync(fam)) expect(JSON.parse(readFileSync(join(fam, f), 'utf8')), f).not.toHaveProperty('model');
    }
    expect(
      loadFirmwareProfiles()
        .all()
        .every((p) => p.sources.length > 0),
    ).toBe(true);
  });
});
