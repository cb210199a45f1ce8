import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { DeskOutcome } from '../../agent/core/model.js';
import { VENDORS } from '../../agent/core/model.js';
import type { ScreenContext } from '../../agent/vendors/driver.js';
import { YEALINK_MAX_XML_BYTES } from '../../agent/vendors/screens/yealink-screens.js';
import { utf8Length } from '../../agent/vendors/screens/screen-text.js';
import { registry } from './fixtures.js';

const BASE = 'http://10.0.0.5:8080/xml/001565aabb01/tok123';
const CTX: ScreenContext = {
  baseUrl: BASE,
  phoneLabel: 'Desk <3> & "co"',
  currentUser: { ext: '101', name: "Alice O'Neil" },
  identities: [
    { ext: '101', label: 'Alice' },
    { ext: '102', label: 'Bob & Co' },
  ],
};
const OUTCOME: DeskOutcome = { code: 'logged-in', prompt: 'logged-in', phone: '001565aabb01', user: '101', userName: 'Alice <Admin>', message: 'logged in' };

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' });

function all(vendor: (typeof VENDORS)[number]): string[] {
  const s = registry.driverFor(vendor).screens;
  return [
    s.renderMenu(CTX).body,
    s.renderLoginForm(CTX).body,
    s.renderPinForm(CTX, '101').body,
    s.renderResult(CTX, OUTCOME).body,
    s.renderMenu({ ...CTX, identities: [] }).body,
  ];
}

describe('screens', () => {
  for (const vendor of VENDORS) {
    it(`${vendor}: every screen is well-formed XML with escaped text`, () => {
      for (const body of all(vendor)) {
        expect(XMLValidator.validate(body), body).toBe(true);
        expect(body).not.toContain('<3>');
        expect(body).not.toContain('Alice <Admin>');
      }
      const menu = registry.driverFor(vendor).screens.renderMenu(CTX).body;
      expect(menu).toContain('Bob &amp; Co (102)');
      expect(menu).toContain(`${BASE}/login/102`);
      expect(menu).toContain(`${BASE}/logout`);
      expect(registry.driverFor(vendor).screens.renderResult(CTX, OUTCOME).body).toContain('Logged in as Alice &lt;Admin&gt; (101)');
      expect(registry.driverFor(vendor).screens.renderMenu({ ...CTX, phoneLabel: 'Lobby' }).body).not.toContain('Lobby');
      const { currentUser: _c, ...loggedOut } = CTX;
      const out = registry.driverFor(vendor).screens.renderMenu({ ...loggedOut, phoneLabel: 'Lobby' }).body;
      expect(out).toContain('Lobby');
      expect(out).not.toContain('/logout');
    });
  }

  it('Yealink: menu, input screen with ext and password PIN, text screen', () => {
    const s = registry.driverFor('yealink').screens;
    const menu = parser.parse(s.renderMenu(CTX).body) as { YealinkIPPhoneTextMenu: { MenuItem: unknown[] } };
    expect(menu.YealinkIPPhoneTextMenu.MenuItem).toHaveLength(4);
    const form = parser.parse(s.renderLoginForm(CTX).body) as {
      YealinkIPPhoneInputScreen: { URL: string; InputField: { Parameter: string; '@password'?: string }[] };
    };
    expect(form.YealinkIPPhoneInputScreen.URL).toBe(`${BASE}/submit`);
    expect(form.YealinkIPPhoneInputScreen.InputField.map((f) => [f.Parameter, f['@password']])).toEqual([
      ['ext', undefined],
      ['pin', 'yes'],
    ]);
    expect(s.renderResult(CTX, OUTCOME).body).toContain('<YealinkIPPhoneTextScreen');
  });

  it('Yealink: the menu stays within 10,000 bytes by dropping identities that do not fit', () => {
    const many = Array.from({ length: 400 }, (_, i) => ({ ext: String(1000 + i), label: `Person number ${i}` }));
    const body = registry.driverFor('yealink').screens.renderMenu({ ...CTX, identities: many }).body;
    expect(utf8Length(body)).toBeLessThanOrEqual(YEALINK_MAX_XML_BYTES);
    expect(XMLValidator.validate(body)).toBe(true);
    expect(body).toContain('Person number 0');
    expect(body).not.toContain('Person number 399');
    expect(body).toContain(`${BASE}/logout`);
  });

  it('Snom: one input item per screen, n for the short number, pn for the PIN', () => {
    const s = registry.driverFor('snom').screens;
    const login = parser.parse(s.renderLoginForm(CTX).body) as {
      SnomIPPhoneInput: { URL: string; InputItem: { QueryStringParam: string; InputFlags: string } };
    };
    expect(login.SnomIPPhoneInput.URL).toBe(`${BASE}/login`);
    expect(login.SnomIPPhoneInput.InputItem).toMatchObject({ QueryStringParam: 'ext', InputFlags: 'n' });
    const pin = parser.parse(s.renderPinForm(CTX, '101').body) as {
      SnomIPPhoneInput: { URL: string; InputItem: { QueryStringParam: string; InputFlags: string } };
    };
    expect(pin.SnomIPPhoneInput.URL).toBe(`${BASE}/submit/101`);
    expect(pin.SnomIPPhoneInput.InputItem).toMatchObject({ QueryStringParam: 'pin', InputFlags: 'pn' });
    expect(s.renderMenu(CTX).body).toContain('<SnomIPPhoneMenu>');
    expect(s.renderResult(CTX, OUTCOME).body).toContain('<SnomIPPhoneText>');
  });

  it('Poly: strict XHTML GET forms', () => {
    const s = registry.driverFor('poly').screens;
    const body = s.renderLoginForm(CTX).body;
    expect(body).toContain('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"');
    expect(body).toContain(`<form method="get" action="${BASE}/submit">`);
    expect(body).toContain('<input type="text" name="ext" value=""/>');
    expect(body).toContain('<input type="password" name="pin" value=""/>');
    expect(s.renderPinForm(CTX, '102').body).toContain(`action="${BASE}/submit/102"`);
  });
});
