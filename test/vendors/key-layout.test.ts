import { describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../agent/core/errors.js';
import { keyCapacity, keyLayout } from '../../agent/vendors/key-layout.js';
import { phone, profileOf } from './fixtures.js';

describe('keyLayout', () => {
  it('puts line appearance, identities, hot-desk menu, then IT keys in order', () => {
    const p = phone('yealink');
    const layout = keyLayout(p, profileOf('yealink', 'T46U'), { hotdeskMenu: true });
    expect(layout.map((k) => [k.slot, k.role, k.value])).toEqual([
      [1, 'line', ''],
      [2, 'identity', '101'],
      [3, 'identity', '102'],
      [4, 'hotdesk-menu', ''],
      [5, 'blf', '100'],
      [6, 'speed', '200'],
    ]);
    expect(layout.every((k) => k.area === 'line' && k.module === 0)).toBe(true);
  });

  it('omits the menu key when hot-desking is off, the option is off, or IT placed one', () => {
    const prof = profileOf('yealink', 'T46U');
    expect(keyLayout(phone('yealink', 'T46U', { hotdesk: false }), prof, { hotdeskMenu: true }).some((k) => k.role === 'hotdesk-menu')).toBe(false);
    expect(keyLayout(phone('yealink'), prof, { hotdeskMenu: false }).some((k) => k.role === 'hotdesk-menu')).toBe(false);
    const own = keyLayout(phone('yealink', 'T46U', { keys: [{ kind: 'hotdesk-menu', label: 'Desk', value: '' }] }), prof, { hotdeskMenu: true });
    expect(own.filter((k) => k.role === 'hotdesk-menu').map((k) => [k.slot, k.label])).toEqual([[4, 'Desk']]);
  });

  it('puts URL keys on soft keys where the model cannot open a URL from a line key (Poly)', () => {
    const layout = keyLayout(phone('poly'), profileOf('poly', 'VVX450'), { hotdeskMenu: true });
    const menu = layout.find((k) => k.role === 'hotdesk-menu');
    expect(menu).toMatchObject({ area: 'soft', position: 1 });
    expect(layout.filter((k) => k.area !== 'soft').map((k) => k.role)).toEqual(['line', 'identity', 'identity', 'blf', 'speed']);
  });

  it('continues onto expansion modules', () => {
    const prof = profileOf('yealink', 'T46U');
    const keys = Array.from({ length: 30 }, (_, i) => ({ kind: 'speed' as const, label: `k${i}`, value: String(300 + i) }));
    const layout = keyLayout(phone('yealink', 'T46U', { keys }), prof, { hotdeskMenu: true });
    const last = layout[layout.length - 1];
    expect(last).toMatchObject({ area: 'expansion', module: 1, position: 1 + 30 + 4 - 27 - 1, slot: 34 });
  });

  it('throws too-many-keys with the phone, model and counts', () => {
    const prof = profileOf('yealink', 'T31G');
    expect(keyCapacity(prof)).toBe(2);
    const p = phone('yealink', 'T31G');
    let err: unknown;
    try {
      keyLayout(p, prof, { hotdeskMenu: true });
    } catch (e) {
      err = e;
    }
    expect(isHotdeskError(err, 'too-many-keys')).toBe(true);
    expect((err as Error).message).toBe(`phone ${p.mac} (T31G) needs 6 keys but has 2`);
  });

  it('throws too-many-keys past the expansion modules too', () => {
    const prof = profileOf('snom', 'D785');
    const keys = Array.from({ length: keyCapacity(prof) }, (_, i) => ({ kind: 'speed' as const, label: `k${i}`, value: String(i) }));
    expect(() => keyLayout(phone('snom', 'D785', { keys }), prof, { hotdeskMenu: false })).toThrow(/needs \d+ keys but has 78/);
  });

  it('counts soft keys separately', () => {
    const prof = profileOf('poly', 'VVX450');
    const keys = Array.from({ length: 4 }, (_, i) => ({ kind: 'url' as const, label: `u${i}`, value: `http://x/${i}` }));
    expect(() => keyLayout(phone('poly', 'VVX450', { keys }), prof, { hotdeskMenu: true })).toThrow(/needs 5 soft keys but has 4/);
  });

  it('binds identity keys and the Hot desk key to the hot-desk line, after the identities and before the menu', () => {
    const layout = keyLayout(phone('yealink'), profileOf('yealink', 'T46U'), {
      hotdeskMenu: true,
      hotdeskKey: true,
      hotdeskLine: { slot: 16, lineKey: false },
    });
    expect(layout.map((k) => [k.slot, k.role, k.line, k.label])).toEqual([
      [1, 'line', 1, ''],
      [2, 'identity', 16, '101'],
      [3, 'identity', 16, '102'],
      [4, 'hotdesk', 16, 'Hot desk'],
      [5, 'hotdesk-menu', 1, 'Hot desk menu'],
      [6, 'blf', 1, 'Reception'],
      [7, 'speed', 1, 'Support'],
    ]);
  });

  it('gives the hot-desk line a line key of its own only when asked, and never twice for account 1', () => {
    const prof = profileOf('yealink', 'T46U');
    const withKey = keyLayout(phone('yealink'), prof, { hotdeskMenu: false, hotdeskLine: { slot: 16, lineKey: true } });
    expect(withKey.filter((k) => k.role === 'line').map((k) => [k.slot, k.line, k.label])).toEqual([
      [1, 1, ''],
      [2, 16, 'Hot desk'],
    ]);
    const single = profileOf('yealink', 'T19P_E2');
    const one = keyLayout(phone('yealink', 'T19P_E2', { identities: [], keys: [] }), single, { hotdeskMenu: false, hotdeskLine: { slot: 1, lineKey: true } });
    expect(one.filter((k) => k.role === 'line' && k.line === 1 && k.label !== '')).toEqual([]);
  });

  it('places the Hot desk key only on a key that would otherwise stay free', () => {
    const prof = profileOf('yealink', 'T31G');
    // T31G: 2 keys. Line appearance + one identity fill it: no Hot desk key, and no too-many-keys either.
    const full = keyLayout(phone('yealink', 'T31G', { identities: ['101'], keys: [] }), prof, { hotdeskMenu: false, hotdeskKey: true });
    expect(full.map((k) => k.role)).toEqual(['line', 'identity']);
    const room = keyLayout(phone('yealink', 'T31G', { identities: [], keys: [] }), prof, { hotdeskMenu: false, hotdeskKey: true });
    expect(room.map((k) => k.role)).toEqual(['line', 'hotdesk']);
    // not on a phone without hot-desking, nor where one-touch dial keys are dead (SoundPoint IP)
    expect(
      keyLayout(phone('yealink', 'T46U', { hotdesk: false, identities: [] }), profileOf('yealink', 'T46U'), { hotdeskMenu: true, hotdeskKey: true }).map(
        (k) => k.role,
      ),
    ).not.toContain('hotdesk');
    expect(
      keyLayout(phone('poly', 'SPIP335', { identities: [], keys: [] }), profileOf('poly', 'SPIP335'), { hotdeskMenu: false, hotdeskKey: true }).map(
        (k) => k.role,
      ),
    ).not.toContain('hotdesk');
  });
});
