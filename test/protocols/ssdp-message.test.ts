import { describe, expect, it } from 'vitest';
import {
  buildSsdpAlive,
  buildSsdpByebye,
  buildSsdpMSearch,
  buildSsdpSearchResponse,
  msearchMx,
  msearchWantsUs,
  parseMaxAge,
  parseSsdpMessage,
  SSDP_SERVICE_TYPE,
  ssdpUsn,
} from '../../agent/protocols/ssdp-message.js';

const ADVERT = { uuid: 'u-1', location: 'http://10.0.0.2:8080/hotdesk.json', maxAgeSec: 1800, server: 'Linux/6 UPnP/1.1 hotdesk-agent/1' };

describe('SSDP codec', () => {
  it('alive round-trips with every UDA header', () => {
    const wire = buildSsdpAlive(ADVERT);
    expect(wire.startsWith('NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n')).toBe(true);
    expect(wire.endsWith('\r\n\r\n')).toBe(true);
    const m = parseSsdpMessage(wire);
    expect(m?.kind).toBe('notify');
    expect(Object.fromEntries(m?.headers ?? [])).toEqual({
      HOST: '239.255.255.250:1900',
      'CACHE-CONTROL': 'max-age=1800',
      LOCATION: ADVERT.location,
      NT: SSDP_SERVICE_TYPE,
      NTS: 'ssdp:alive',
      SERVER: ADVERT.server,
      USN: `uuid:u-1::${SSDP_SERVICE_TYPE}`,
    });
    expect(parseMaxAge(m?.headers.get('CACHE-CONTROL'))).toBe(1800);
  });

  it('byebye, M-SEARCH and the search answer', () => {
    const bye = parseSsdpMessage(buildSsdpByebye({ uuid: 'u-1' }, { port: 41900 }));
    expect(bye?.headers.get('NTS')).toBe('ssdp:byebye');
    expect(bye?.headers.get('HOST')).toBe('239.255.255.250:41900');
    expect(bye?.headers.has('LOCATION')).toBe(false);

    const search = parseSsdpMessage(buildSsdpMSearch({ mx: 9 }));
    expect(search?.kind).toBe('msearch');
    expect(search?.headers.get('MAN')).toBe('"ssdp:discover"');
    expect(search?.headers.get('MX')).toBe('5');
    expect(msearchWantsUs(search!)).toBe(true);
    expect(msearchMx(search!)).toBe(5);

    const res = parseSsdpMessage(buildSsdpSearchResponse(ADVERT, 'Sat, 01 Jan 2000 00:00:00 GMT'));
    expect(res).toMatchObject({ kind: 'response', status: 200 });
    expect(res?.headers.get('EXT')).toBe('');
    expect(res?.headers.get('ST')).toBe(SSDP_SERVICE_TYPE);
    expect(res?.headers.get('USN')).toBe(ssdpUsn('u-1'));
    expect(res?.headers.get('DATE')).toBe('Sat, 01 Jan 2000 00:00:00 GMT');
  });

  it('matches only our ST or ssdp:all, with MAN ssdp:discover', () => {
    const ask = (st: string, man = '"ssdp:discover"'): boolean =>
      msearchWantsUs(parseSsdpMessage(`M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: ${man}\r\nMX: 1\r\nST: ${st}\r\n\r\n`)!);
    expect(ask('ssdp:all')).toBe(true);
    expect(ask(SSDP_SERVICE_TYPE)).toBe(true);
    expect(ask('upnp:rootdevice')).toBe(false);
    expect(ask('ssdp:all', '"ssdp:other"')).toBe(false);
    expect(msearchWantsUs(parseSsdpMessage(buildSsdpAlive(ADVERT))!)).toBe(false);
  });

  it('rejects garbage and header injection', () => {
    for (const g of ['', 'hello', 'GET / HTTP/1.1\r\n\r\n', 'NOTIFY * HTTP/1.1\r\nbad line\r\n\r\n', Buffer.alloc(9000, 65)]) {
      expect(parseSsdpMessage(g)).toBeNull();
    }
    expect(() => buildSsdpAlive({ ...ADVERT, location: 'http://x/\r\nEvil: 1' })).toThrow(RangeError);
    expect(parseMaxAge('no-cache')).toBeNull();
  });
});
