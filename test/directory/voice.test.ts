/**
 * The `voice:` block of the site (docs/directory.md "voice"): defaults from one place,
 * validation with file:line:col, export -> import -> export round trip, which changes
 * re-provision phones, and `lineKey` counted in the key layout at import.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { DEFAULT_VOICE_SETTINGS, voiceSettings } from '../../agent/core/model.js';
import { HotdeskError } from '../../agent/core/errors.js';
import type { DirectoryErrorEntry } from '../../agent/directory/directory-types.js';
import { exportDirectory } from '../../agent/directory/export-directory.js';
import { importDirectory } from '../../agent/directory/import-directory.js';
import { parseDirectory } from '../../agent/directory/parse-directory.js';
import { sqliteStore } from '../../agent/store/sqlite-store.js';
import { openStore } from '../../agent/store/store.js';
import { demoText, tempDir } from '../store/helpers.js';
import { demoFixture } from './directory-fixture.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const MINI = (voice: string, phones = ''): string => `site:
  name: Mini
  pbx: { host: pbx.example }
  provisioning:
    bootstrap: { username: boot, password: "boot-pass" }
${voice}users:
  - ext: "101"
    name: Ann
    pin: "4321"
    sip: { password: "pw-101" }
phones:
${phones || '  - { mac: "001565aabb01", vendor: yealink, model: T46U }\n'}`;

function errorsOf(text: string): DirectoryErrorEntry[] {
  try {
    parseDirectory(text, 'bad.yaml');
  } catch (e) {
    if (!(e instanceof HotdeskError)) throw e;
    return e.detail['errors'] as DirectoryErrorEntry[];
  }
  throw new Error('expected the directory to be refused');
}

describe('parsing voice:', () => {
  test('absent: no voice field, and voiceSettings gives the defaults', () => {
    const d = parseDirectory(MINI(''), 'mini.yaml');
    expect(d.site.voice).toBeUndefined();
    expect(voiceSettings(d.site)).toEqual({ language: 'en', emergencyNumbers: ['112', '911', '999'], lineKey: false, realm: 'hotdesk', pbxAddresses: [] });
    expect(voiceSettings(d.site)).toBe(DEFAULT_VOICE_SETTINGS);
  });

  test('partial: the rest from the defaults', () => {
    const d = parseDirectory(MINI('  voice: { language: nl }\n'), 'mini.yaml');
    expect(d.site.voice).toEqual({ ...DEFAULT_VOICE_SETTINGS, language: 'nl' });
  });

  test('every field', () => {
    const voice = `  voice:
    language: de
    emergencyNumbers: ["110", "112"]
    lineKey: true
    realm: office.example
    pbxAddresses: ["10.0.0.10", "fd00::/8"]
`;
    expect(parseDirectory(MINI(voice), 'mini.yaml').site.voice).toEqual({
      language: 'de',
      emergencyNumbers: ['110', '112'],
      lineKey: true,
      realm: 'office.example',
      pbxAddresses: ['10.0.0.10', 'fd00::/8'],
    });
    expect(parseDirectory(MINI('  voice: { emergencyNumbers: [] }\n'), 'mini.yaml').site.voice?.emergencyNumbers).toEqual([]);
  });

  test('problems are reported with file, line and column', () => {
    const voice = `  voice:
    language: fr
    emergencyNumbers: [112, "11a", "112", "112"]
    lineKey: yes please
    realm: 'a"b'
    pbxAddresses: ["not-an-address"]
    volume: 11
`;
    const text = MINI(voice);
    const errors = errorsOf(text);
    const at = (path: string): DirectoryErrorEntry | undefined => errors.find((e) => e.path === path);
    const line = (needle: string): number => text.slice(0, text.indexOf(needle)).split('\n').length;
    expect(at('site.voice.language')).toMatchObject({ line: line('language: fr'), message: 'must be one of: en, nl, de' });
    expect(at('site.voice.emergencyNumbers[0]')?.message).toMatch(/quote it: "112"/);
    expect(at('site.voice.emergencyNumbers[1]')?.message).toMatch(/1 to 15 digits/);
    expect(at('site.voice.emergencyNumbers[3]')?.message).toBe('lists "112" twice');
    expect(at('site.voice.lineKey')).toMatchObject({ line: line('lineKey:'), message: 'must be true or false' });
    expect(at('site.voice.realm')?.message).toMatch(/without quotes/);
    expect(at('site.voice.pbxAddresses[0]')?.message).toMatch(/address or network/);
    expect(at('site.voice.volume')).toMatchObject({ line: line('volume:'), column: 5 });
    for (const e of errors) expect(e.file).toBe('bad.yaml');
  });

  test('lineKey: true counts the hot-desk line key when checking that keys fit', () => {
    // T31G: 2 keys. Line appearance + hot-desk menu fit; with the hot-desk line key they do not.
    const phones = '  - { mac: "001565aabb09", vendor: yealink, model: T31G }\n';
    expect(parseDirectory(MINI('', phones), 'mini.yaml').phones).toHaveLength(1);
    const errors = errorsOf(MINI('  voice: { lineKey: true }\n', phones));
    expect(errors.map((e) => [e.code, e.message])).toEqual([['too-many-keys', 'phone 001565aabb09 (T31G) needs 3 keys but has 2']]);
  });
});

describe('store round trip', () => {
  test('import -> export -> import keeps the voice block', async () => {
    const { store, api, cleanup } = await demoFixture();
    cleanups.push(cleanup);
    const imported = store.getSite().voice;
    expect(imported).toEqual(DEFAULT_VOICE_SETTINGS);
    const custom = demoText().replace('language: en ', 'language: nl ').replace('pbxAddresses: []', 'pbxAddresses: ["127.0.0.1"]');
    await importDirectory(api, parseDirectory(custom, 'demo.yaml'), 2_000_000);
    const exported = await exportDirectory(api, { withSecrets: true });
    const t = tempDir();
    cleanups.push(t.cleanup);
    const other = openStore(t.dir);
    cleanups.push(() => other.close());
    await importDirectory(sqliteStore(other), parseDirectory(exported, 'export.yaml'), 3_000_000);
    expect(other.getSite().voice).toEqual({ ...DEFAULT_VOICE_SETTINGS, language: 'nl', pbxAddresses: ['127.0.0.1'] });
    expect(await exportDirectory(sqliteStore(other), { withSecrets: true })).toBe(exported);
  });

  test('only the voice settings phone files hold re-provision phones', async () => {
    const { store, api, cleanup } = await demoFixture();
    cleanups.push(cleanup);
    const revisions = (): number[] => store.listPhones().map((p) => store.phoneRuntime(p.mac)?.revision ?? 0);
    const before = revisions();
    const quiet = demoText().replace('language: en ', 'language: de ').replace('pbxAddresses: []', 'pbxAddresses: ["10.0.0.0/8"]');
    expect((await importDirectory(api, parseDirectory(quiet, 'demo.yaml'), 2_000_000)).reprovisioned).toEqual([]);
    expect(revisions()).toEqual(before);
    const loud = quiet.replace('emergencyNumbers: ["112", "911", "999"]', 'emergencyNumbers: ["112"]');
    expect((await importDirectory(api, parseDirectory(loud, 'demo.yaml'), 3_000_000)).reprovisioned).toHaveLength(4);
  });
});
