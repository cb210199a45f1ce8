/**
 * Snom model families: 7xx (firmware 8.x) and D-series (10.x) User-Agent
 * forms, file names, and expansion-module keys continuing the fkey numbering.
 */
import { describe, expect, it } from 'vitest';
import { renderAllPhoneFiles } from '../../agent/vendors/render.js';
import { keyCapacity } from '../../agent/vendors/key-layout.js';
import { input, phone, profiles, registry, USER_101 } from './fixtures.js';

const snom = registry.driverFor('snom');

describe('Snom identification across families', () => {
  const cases: Array<[string, string, string, string, string | undefined]> = [
    ['snom710-000413741767.htm', 'Mozilla/4.0 (compatible; snom710-SIP 8.7.5.35 1.1.5-IFX-05.01.12 000413741767)', '710', '8.7.5.35', '000413741767'],
    ['snom870.htm', 'Mozilla/4.0 (compatible; snom870-SIP 8.4.35 SPEAr300 SNOM 1.4)', '870', '8.4.35', undefined],
    ['snomD120-000413AABB01.htm', 'Mozilla/4.0 (compatible; snomD120-SIP 10.1.54.13 000413AABB01)', 'D120', '10.1.54.13', '000413aabb01'],
    ['snomD865-000413AABB02.htm', 'Mozilla/4.0 (compatible; snomD865-SIP 10.1.152.12 000413AABB02)', 'D865', '10.1.152.12', '000413aabb02'],
  ];
  for (const [path, ua, model, firmware, mac] of cases) {
    it(`${path} -> ${model}`, () => {
      expect(profiles.find('snom', model)?.model).toBe(model);
      const id = snom.identify(path, ua);
      expect(id).toMatchObject({ vendor: 'snom', model, firmware });
      if (mac) expect(id?.mac).toBe(mac);
    });
  }
});

describe('Snom expansion-module keys', () => {
  it('continue the fkey numbering after the phone keys (D725 + D7 modules)', () => {
    const profile = profiles.find('snom', 'D725');
    if (!profile) throw new Error('no D725');
    expect(keyCapacity(profile)).toBe(18 + 3 * 18);
    const keys = Array.from({ length: 20 }, (_, i) => ({ kind: 'speed' as const, label: `k${i}`, value: String(300 + i) }));
    const inp = input(phone('snom', 'D725', { identities: [], keys }), USER_101);
    const f = renderAllPhoneFiles(snom, inp).find((x) => x.secret);
    expect(f?.name).toBe('snomD725-000413922D24.htm');
    // line appearance, Hot desk key, menu key, then k0..: slot 19 (k15) is the first module key, fkey idx 18
    expect(f?.body).toContain('<fkey idx="1" context="12" label="Hot desk" perm="">speed *35</fkey>');
    expect(f?.body).toContain('<fkey idx="18" context="active" label="k15" perm="">speed 315</fkey>');
    expect(f?.body).toContain(`<fkey idx="${18 + 3 * 18 - 1}" `);
    expect(f?.body).not.toContain(`<fkey idx="${18 + 3 * 18}" `);
  });
});
