/**
 * Phones without an XML browser: no rendered file may carry a key (or any
 * other setting) that opens the hot-desk screens, whatever IT placed in the
 * directory; the one-touch identity keys still dial the feature code.
 */
import { describe, expect, it } from 'vitest';
import { HotdeskError, isHotdeskError } from '../../agent/core/errors.js';
import type { Phone, Vendor } from '../../agent/core/model.js';
import type { DirectoryErrorEntry } from '../../agent/directory/directory-types.js';
import { parseDirectory } from '../../agent/directory/parse-directory.js';
import type { RenderInput } from '../../agent/vendors/driver.js';
import { validateFirmwareProfile, type FirmwareProfile } from '../../agent/vendors/firmware-profile.js';
import { deadKeyKinds, keyLayout } from '../../agent/vendors/key-layout.js';
import { renderAllPhoneFiles } from '../../agent/vendors/render.js';
import { input, phone, profiles, registry, USER_101 } from './fixtures.js';

/** `profile` as if it had no XML browser (exercises every driver, whatever the shipped data says). */
function withoutBrowser(profile: FirmwareProfile): FirmwareProfile {
  return validateFirmwareProfile({ ...profile, capabilities: { ...profile.capabilities, xmlBrowser: false } }, `${profile.model} without browser`);
}

/**
 * A hot-desk phone whose IT keys ask for a menu key and a URL key (which a
 * browserless model must drop), plus identities and a speed key trimmed from
 * the end until the model's keys hold them.
 */
function deskPhone(profile: FirmwareProfile): Phone {
  const browserKeys: Phone['keys'] = [
    { kind: 'hotdesk-menu', label: 'Desk', value: '' },
    { kind: 'url', label: 'Intranet', value: 'http://10.0.0.5:8080/xml/elsewhere' },
  ];
  let identities = ['101', '102'];
  let speed: Phone['keys'] = [{ kind: 'speed', label: 'Support', value: '200' }];
  for (;;) {
    const p = phone(profile.vendor, profile.model, { identities, keys: [...browserKeys, ...speed] });
    try {
      keyLayout(p, profile, { hotdeskMenu: true });
      return p;
    } catch (e) {
      if (!isHotdeskError(e, 'too-many-keys')) throw e;
      if (speed.length > 0) speed = [];
      else if (identities.length > 0) identities = identities.slice(0, -1);
      else throw e;
    }
  }
}

function render(profile: FirmwareProfile, p: Phone, loggedIn: boolean): { inp: RenderInput; bodies: string[] } {
  const inp: RenderInput = { ...input(p, loggedIn ? USER_101 : null), profile };
  return { inp, bodies: renderAllPhoneFiles(registry.driverFor(profile.vendor), inp).map((f) => f.body) };
}

const shipped = profiles.all().filter((p) => !p.capabilities.xmlBrowser);
const everyModel = profiles.all().map(withoutBrowser);

describe('phones without an XML browser carry no screen key', () => {
  it('at least one shipped profile per vendor lacks a browser or is forced to', () => {
    const vendors = new Set<Vendor>(everyModel.map((p) => p.vendor));
    expect([...vendors].sort()).toEqual(['poly', 'snom', 'yealink']);
    expect(shipped.length).toBeGreaterThan(0);
  });

  for (const profile of [...shipped, ...everyModel]) {
    const tag = `${profile.vendor} ${profile.model}${shipped.includes(profile) ? '' : ' (forced)'}`;
    it(`${tag}: no screen URL in any file, logged in or out; identity keys dial the feature code`, () => {
      const p = deskPhone(profile);
      const layout = keyLayout(p, profile, { hotdeskMenu: true });
      expect(layout.some((k) => k.role === 'hotdesk-menu' || k.role === 'url')).toBe(false);
      for (const loggedIn of [false, true]) {
        const { inp, bodies } = render(profile, p, loggedIn);
        for (const body of bodies) {
          expect(body).not.toContain(inp.urls.screens);
          expect(body).not.toContain('/xml/');
        }
        const all = bodies.join('\n');
        if (deadKeyKinds(profile).includes('identity')) expect(all).not.toContain('*35*');
        else for (const ext of p.identities) expect(all).toContain(`*35*${ext}*`);
        if (p.keys.some((k) => k.kind === 'speed') && !deadKeyKinds(profile).includes('speed')) expect(all).toContain('200');
      }
    });
  }

  it('the same phone with a browser does get the menu (the test above would notice a regression)', () => {
    const profile = profiles.find('yealink', 'T46U');
    if (!profile) throw new Error('no T46U');
    const { inp, bodies } = render(profile, deskPhone(profile), true);
    expect(bodies.join('\n')).toContain(inp.urls.screens);
  });
});

describe('Poly models without EFK line keys (SoundPoint IP)', () => {
  const noEfk = profiles.all().filter((p) => p.vendor === 'poly' && !p.capabilities.efk);

  it('exist, and lay out no identity or speed key (they would be dead keys)', () => {
    expect(noEfk.length).toBeGreaterThan(0);
    for (const profile of noEfk) {
      const p = phone('poly', profile.model, { identities: ['101'], keys: [{ kind: 'speed', label: 'Support', value: '200' }] });
      expect(
        keyLayout(p, profile, { hotdeskMenu: false }).map((k) => k.role),
        profile.model,
      ).toEqual(['line']);
    }
  });

  it('the directory refuses identities on them, naming the model', () => {
    const model = noEfk[0];
    if (!model) throw new Error('no Poly model without EFK');
    const text = `site:
  name: Mini
  pbx: { host: pbx.example }
  provisioning:
    bootstrap: { username: boot, password: "boot-pass" }
users:
  - ext: "101"
    name: Ann
    pin: "4321"
    sip: { password: "pw-101" }
phones:
  - mac: "0004f2aabb07"
    vendor: poly
    model: ${model.model}
    identities: ["101"]
`;
    let err: unknown;
    try {
      parseDirectory(text, 'bad.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HotdeskError);
    const errors = (err as HotdeskError).detail['errors'] as DirectoryErrorEntry[];
    expect(errors).toEqual([expect.objectContaining({ path: 'phones[0].identities[0]', code: 'directory-invalid' })]);
    expect(errors[0]?.message).toContain(`${model.model} has no one-touch (EFK) line keys`);
  });
});

describe('the directory refuses browser keys on a model without a browser', () => {
  const model = shipped.find((p) => p.vendor === 'poly') ?? shipped[0];

  it('hotdesk-menu and url keys are directory-invalid, naming the model', () => {
    if (!model) throw new Error('no browserless profile shipped');
    const text = `site:
  name: Mini
  pbx: { host: pbx.example }
  provisioning:
    bootstrap: { username: boot, password: "boot-pass" }
users:
  - ext: "101"
    name: Ann
    pin: "4321"
    sip: { password: "pw-101" }
phones:
  - mac: "0004f2aabb07"
    vendor: ${model.vendor}
    model: ${model.model}
    keys:
      - { kind: hotdesk-menu, label: Desk }
      - { kind: url, label: Intranet, value: "http://intranet.example/" }
`;
    let err: unknown;
    try {
      parseDirectory(text, 'bad.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HotdeskError);
    const he = err as HotdeskError;
    expect(he.code).toBe('directory-invalid');
    const errors = he.detail['errors'] as DirectoryErrorEntry[];
    expect(errors.map((e) => e.path)).toEqual(['phones[0].keys[0]', 'phones[0].keys[1]']);
    for (const e of errors) expect(e.message).toContain(`${model.model} has no XML browser`);
  });
});
