/**
 * Poly specifics: provisioning server as host/path plus serverType, one-touch
 * identity keys as EFK line keys, and identification of the VVX, SoundPoint IP
 * and Edge E User-Agent forms.
 */
import { describe, expect, it } from 'vitest';
import type { RenderInput } from '../../agent/vendors/driver.js';
import { renderAllPhoneFiles } from '../../agent/vendors/render.js';
import { input, phone, profiles, registry, USER_101 } from './fixtures.js';

const poly = registry.driverFor('poly');

function secretBody(inp: RenderInput): string {
  const f = renderAllPhoneFiles(poly, inp).find((x) => x.secret);
  if (!f) throw new Error('no secret file');
  return f.body;
}

describe('Poly device.prov server', () => {
  it('writes host:port/path without a scheme, the scheme in serverType (HTTP)', () => {
    const body = secretBody(input(phone('poly'), USER_101));
    expect(body).toContain('device.prov.serverType="HTTP" device.prov.serverType.set="1"');
    expect(body).toContain('device.prov.serverName="10.0.0.5:8080/" device.prov.serverName.set="1"');
    expect(body).not.toMatch(/serverName="[a-z]+:\/\//i);
  });

  it('HTTPS with a path', () => {
    const base = input(phone('poly'), USER_101);
    const body = secretBody({ ...base, urls: { ...base.urls, provisioning: 'https://prov.example.test:8443/hd' } });
    expect(body).toContain('device.prov.serverType="HTTPS"');
    expect(body).toContain('device.prov.serverName="prov.example.test:8443/hd/"');
  });
});

describe('Poly one-touch identity keys', () => {
  it('are EFK line keys whose macro dials the feature code, with EFK line keys enabled site-wide', () => {
    const inp = input(phone('poly', 'VVX450'), USER_101);
    const files = renderAllPhoneFiles(poly, inp);
    const body = secretBody(inp);
    expect(body).toContain('lineKey.2.category="EFK" lineKey.2.index="1"');
    expect(body).toContain(
      'efk.efklist.1.mname="hotdesk1" efk.efklist.1.status="1" efk.efklist.1.label="Alice" efk.efklist.1.action.string="*35*101*1234$Tinvite$"',
    );
    const site = files.find((f) => f.name.endsWith('-site.cfg'));
    expect(site?.body).toContain('feature.enhancedFeatureKeys.enabled="1" feature.EFKLineKey.enabled="1"');
    expect(site?.body).toContain('efk.version="2"');
  });

  it('a SoundPoint IP (no EFK line keys) gets no EFK line key and EFK line keys stay off', () => {
    const inp = input(phone('poly', 'SPIP550', { identities: [], keys: [] }), USER_101);
    const files = renderAllPhoneFiles(poly, inp);
    expect(secretBody(inp)).not.toContain('category="EFK"');
    expect(files.find((f) => f.name.endsWith('-site.cfg'))?.body).toContain('feature.EFKLineKey.enabled="0"');
  });
});

describe('Poly identification of every User-Agent family', () => {
  const cases: Array<[string, string, string]> = [
    ['FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614 Type/Application', 'VVX411', '5.9.5.0614'],
    ['FileTransport PolycomVVX-VVX_1500-UA/5.4.3.1014 Type/Application', 'VVX1500', '5.4.3.1014'],
    ['FileTransport PolycomSoundPointIP-SPIP_335-UA/4.0.15.1009', 'SPIP335', '4.0.15.1009'],
    ['FileTransport PolyEdge-Edge_E450-UA/8.0.0.15602 Type/Application', 'EdgeE450', '8.0.0.15602'],
    ['FileTransport PolyEdge-Edge_E100-UA/8.1.2.0123 Type/Application', 'EdgeE100', '8.1.2.0123'],
  ];
  for (const [ua, model, firmware] of cases) {
    it(`${ua} -> ${model}`, () => {
      expect(profiles.find('poly', model)?.model).toBe(model);
      expect(poly.identify('0004f2aabb03.cfg', ua)).toMatchObject({ vendor: 'poly', mac: '0004f2aabb03', model, firmware });
    });
  }

  it('another vendor still does not claim a Poly Edge request', () => {
    const ua = 'FileTransport PolyEdge-Edge_E450-UA/8.0.0.15602 Type/Application';
    expect(registry.driverFor('yealink').identify('0004f2aabb03.cfg', ua)).toBeNull();
    expect(registry.driverFor('snom').identify('0004f2aabb03.cfg', ua)).toBeNull();
  });
});
