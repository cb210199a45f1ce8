import { describe, expect, it } from 'vitest';
import type { FirmwareProfile } from '../../agent/vendors/firmware-profile.js';
import { isPhoneIndependent } from '../../agent/vendors/partial-memo.js';
import { buildRenderContext } from '../../agent/vendors/render-context.js';
import { clearedKeys, emptyAccount, emptyListSlot, indexZero } from '../../agent/vendors/render-slots.js';
import { input, phone, profileOf, USER_101 } from './fixtures.js';

describe('cleared slots are shared, frozen and marked phone-independent', () => {
  it('one cleared account slot per index', () => {
    const a = emptyAccount(3);
    expect(emptyAccount(3)).toBe(a);
    expect(emptyAccount(4)).not.toBe(a);
    expect(a).toMatchObject({ index: 3, active: false, source: 'none', password: '', port: 0, mwi: false });
    expect(Object.isFrozen(a)).toBe(true);
    expect(isPhoneIndependent(a)).toBe(true);
    expect(emptyListSlot(2)).toEqual({ index: 2, used: false, label: '', value: '' });
    expect(emptyListSlot(2)).toBe(emptyListSlot(2));
  });

  it('cleared keys follow the profile geometry (phone keys, then modules from firstKeyIndex)', () => {
    const t46u = profileOf('yealink', 'T46U');
    const k = clearedKeys(t46u);
    expect(k.key(1)).toMatchObject({ slot: 1, area: 'line', module: 0, position: 1, index0: 0, used: false, type: t46u.keyTypes.none });
    const firstModuleKey = k.key(t46u.lineKeys + 1);
    expect(firstModuleKey).toMatchObject({ area: 'expansion', module: 1, position: 1, index0: indexZero(t46u, { area: 'expansion', module: 1, position: 1 }) });
    expect(k.key(t46u.lineKeys + t46u.expansionModules.keysPerModule + 1)).toMatchObject({ module: 2, position: 1 });
    const d785 = profileOf('snom', 'D785');
    expect(indexZero(d785, { area: 'expansion', module: 2, position: 3 })).toBe(
      (d785.expansionModules.firstKeyIndex ?? 0) + d785.expansionModules.keysPerModule + 2,
    );
    expect(clearedKeys(t46u).soft(2)).toMatchObject({ slot: 2, index0: 1, area: 'soft', position: 2 });
    expect(clearedKeys(t46u).key(5)).toBe(k.key(5));
    expect(isPhoneIndependent(k.key(5))).toBe(true);
  });

  it('another key code for "none" gets other slot objects (never another profile\'s text)', () => {
    const t46u = profileOf('yealink', 'T46U');
    const other: FirmwareProfile = { ...t46u, keyTypes: { ...t46u.keyTypes, none: 'off' } };
    expect(clearedKeys(other).key(5)).not.toBe(clearedKeys(t46u).key(5));
    expect(clearedKeys(other).key(5).type).toBe('off');
    expect(clearedKeys(t46u).key(5).type).toBe(t46u.keyTypes.none);
  });
});

describe('render context uses the shared cleared slots and keeps phone values apart', () => {
  it("unused slots are the shared objects; used ones are the phone's own and not marked", () => {
    const inp = input(phone('yealink'), USER_101);
    const ctx = buildRenderContext(inp, inp.profile, [], { transportCodes: { udp: 0, tcp: 1, tls: 2 }, files: {} });
    expect(ctx.accounts[0]?.active).toBe(true);
    expect(isPhoneIndependent(ctx.accounts[0])).toBe(false);
    expect(ctx.accounts[5]).toBe(emptyAccount(6));
    expect(ctx.keys[10]).toBe(clearedKeys(inp.profile).key(11));
    expect(Object.isFrozen(ctx.keys)).toBe(true);
  });
});
