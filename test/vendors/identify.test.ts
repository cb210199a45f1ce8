import { describe, expect, it } from 'vitest';
import { registry } from './fixtures.js';

const yealink = registry.driverFor('yealink');
const snom = registry.driverFor('snom');
const poly = registry.driverFor('poly');

describe('Yealink identify', () => {
  it('reads model, firmware and a colon MAC from the User-Agent', () => {
    expect(yealink.identify('001565aabbcc.cfg', 'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:cc')).toEqual({
      vendor: 'yealink',
      file: '001565aabbcc.cfg',
      mac: '001565aabbcc',
      macFromPath: '001565aabbcc',
      macFromUserAgent: '001565aabbcc',
      model: 'T46U',
      firmware: '108.86.0.45',
    });
  });

  it('handles the double space and colon-less MAC form', () => {
    const id = yealink.identify('y000000000000.boot', 'Yealink SIP-T56A  58.80.0.25 001565f429a4');
    expect(id).toEqual({
      vendor: 'yealink',
      file: 'y000000000000.boot',
      mac: '001565f429a4',
      macFromUserAgent: '001565f429a4',
      model: 'T56A',
      firmware: '58.80.0.25',
    });
  });

  it('handles lowercase vendor and W60B (no SIP- prefix)', () => {
    expect(yealink.identify('00156513ae0b.boot', 'yealink SIP-T28P 2.70.0.140 00:15:65:13:ae:0b')).toMatchObject({
      mac: '00156513ae0b',
      macFromUserAgent: '00156513ae0b',
      model: 'T28P',
      firmware: '2.70.0.140',
    });
    expect(yealink.identify('y000000000000.boot', 'Yealink W60B 77.81.0.35 80:5e:c0:09:ab:dc')).toMatchObject({
      mac: '805ec009abdc',
      model: 'W60B',
      firmware: '77.81.0.35',
    });
  });

  it('recognises every Yealink file name form, case-insensitively', () => {
    const ua = 'Yealink SIP-T54W 96.86.0.70 24:9a:d8:00:00:01';
    expect(yealink.identify('249AD8000001.boot', ua)).toMatchObject({ file: '249ad8000001.boot', macFromPath: '249ad8000001', model: 'T54W' });
    expect(yealink.identify('y000000000096.cfg', ua)).toMatchObject({ file: 'y000000000096.cfg', mac: '249ad8000001' });
    expect(yealink.identify('y000000000000.boot', undefined)).toEqual({ vendor: 'yealink', file: 'y000000000000.boot' });
    expect(yealink.identify('249ad8000001.cfg', undefined)).toMatchObject({ mac: '249ad8000001' });
  });

  it('reports MAC disagreement facts and refuses other vendors and names', () => {
    expect(yealink.identify('001565000001.cfg', 'Yealink SIP-T46U 108.86.0.45 00:15:65:00:00:02')).toMatchObject({
      macFromPath: '001565000001',
      macFromUserAgent: '001565000002',
    });
    expect(yealink.identify('0004f2aabb03.cfg', 'FileTransport PolycomVVX-VVX_450-UA/6.4.0.0000 Type/Application')).toBeNull();
    expect(yealink.identify('snomD785.htm', undefined)).toBeNull();
    expect(yealink.identify('000000000000.cfg', undefined)).toBeNull();
    expect(yealink.identify('001565aabbcc.xml', undefined)).toBeNull();
  });
});

describe('Snom identify', () => {
  const full = 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)';
  it('reads model, firmware and MAC from the User-Agent', () => {
    expect(snom.identify('snomD785.htm', full)).toEqual({
      vendor: 'snom',
      file: 'snomD785.htm',
      mac: '000413922d24',
      macFromUserAgent: '000413922d24',
      model: 'D785',
      firmware: '10.1.33.33',
    });
  });

  it('handles a build-date group before the MAC', () => {
    const ua = 'Mozilla/4.0 (compatible; snomD735-SIP 10.1.46.16 2010.12-00004-g9ba52f5 (Feb 18 2020) 000413A1B2C3 SXM:0 UXM:0)';
    expect(snom.identify('snomD735.htm', ua)).toMatchObject({ model: 'D735', firmware: '10.1.46.16', macFromUserAgent: '000413a1b2c3' });
  });

  it('handles old phones without a MAC', () => {
    const id = snom.identify('snom320.htm', 'Mozilla/4.0 (compatible; snom320-SIP 8.4.18 1.1.3-s)');
    expect(id).toEqual({ vendor: 'snom', file: 'snom320.htm', model: '320', firmware: '8.4.18' });
  });

  it('matches snom<MODEL>-<MAC>.htm case-insensitively and canonicalises the name', () => {
    expect(snom.identify('snomd785-000413922d24.htm', full)).toMatchObject({
      file: 'snomD785-000413922D24.htm',
      macFromPath: '000413922d24',
      macFromUserAgent: '000413922d24',
      model: 'D785',
    });
    expect(snom.identify('SNOMD785-000413922D24.HTM', undefined)).toMatchObject({ file: 'snomD785-000413922D24.htm', mac: '000413922d24', model: 'D785' });
    expect(snom.identify('snomD785-firmware.xml', full)).toMatchObject({ file: 'snomD785-firmware.xml', mac: '000413922d24' });
  });

  it('refuses other names and vendors', () => {
    expect(snom.identify('001565aabbcc.cfg', undefined)).toBeNull();
    expect(snom.identify('snomD785.htm', 'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:cc')).toBeNull();
    expect(snom.identify('snomD785.xml', full)).toBeNull();
  });
});

describe('Poly identify', () => {
  const ua = 'FileTransport PolycomVVX-VVX_450-UA/6.4.0.0000 Type/Application';
  it('takes the MAC from the path and the model from the User-Agent', () => {
    expect(poly.identify('0004f2aabb03.cfg', ua)).toEqual({
      vendor: 'poly',
      file: '0004f2aabb03.cfg',
      mac: '0004f2aabb03',
      macFromPath: '0004f2aabb03',
      model: 'VVX450',
      firmware: '6.4.0.0000',
    });
  });

  it('recognises the per-phone files and the default master', () => {
    for (const f of [
      '64167F000001-hotdesk.cfg',
      '64167f000001-site.cfg',
      '64167f000001-phone.cfg',
      '64167f000001-directory.xml',
      '64167f000001-app.log',
      '64167f000001-boot.log',
    ]) {
      expect(poly.identify(f, ua), f).toMatchObject({ mac: '64167f000001', file: f.toLowerCase() });
    }
    expect(poly.identify('000000000000.cfg', ua)).toEqual({ vendor: 'poly', file: '000000000000.cfg', model: 'VVX450', firmware: '6.4.0.0000' });
    expect(poly.identify('0004f2aabb03.cfg', 'FileTransport PolycomVVX-VVX_601-UA/5.9.5.0614 Type/BootROM')).toMatchObject({ model: 'VVX601' });
  });

  it('refuses other vendors and names', () => {
    expect(poly.identify('0004f2aabb03.cfg', 'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:cc')).toBeNull();
    expect(poly.identify('0004f2aabb03.boot', ua)).toBeNull();
    expect(poly.identify('000000000000-hotdesk.cfg', ua)).toBeNull();
  });
});
