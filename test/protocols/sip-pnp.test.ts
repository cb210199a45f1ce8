import { describe, expect, it } from 'vitest';
import * as pnpModule from '../../agent/protocols/pnp.js';
import { buildPnpNotify, buildPnpOk, macFromPnpUri, pnpVendorId, recognisePnpSubscribe } from '../../agent/protocols/pnp.js';
import { getHeader, parseNameAddr, parseSipMessage, type SipRequest } from '../../agent/protocols/sip-message.js';
import { pnpSubscribe, SNOM_D785_EVENT } from '../helpers/pnp-subscribe.js';

function req(wire: string): SipRequest {
  const r = parseSipMessage(wire);
  if (!r.ok || r.message.kind !== 'request') throw new Error('not a request');
  return r.message;
}

const SNOM = pnpSubscribe({
  user: 'MAC%3a000413AABBCC',
  via: '10.0.0.5:5060',
  branch: 'z9hG4bK-1',
  rport: true,
  fromTag: 'ph1',
  callId: 'pnp-1@10.0.0.5',
  contact: '10.0.0.5:5060',
  event: SNOM_D785_EVENT,
});

describe('recognisePnpSubscribe', () => {
  it('extracts MAC, vendor, model, version and the Contact', () => {
    const r = recognisePnpSubscribe(req(SNOM));
    expect(r).toEqual({
      ok: true,
      pnp: {
        mac: '000413aabbcc',
        vendor: 'snom',
        vendorId: 'snom',
        model: 'snomD785',
        version: '10.1.33.33',
        profileType: 'device',
        event: 'ua-profile;profile-type="device";vendor="snom";model="snomD785";version="10.1.33.33"',
        contactUri: 'sip:10.0.0.5:5060',
        expires: 0,
      },
    });
  });

  it('accepts MAC%3A upper case, plain MAC users, unquoted params and compact headers', () => {
    const yealink = SNOM.replace(/MAC%3a000413AABBCC/g, 'MAC%3A001565aabbcc')
      .replace(/^Event: .*$/m, 'o: ua-profile;profile-type=device;vendor=Yealink;model=SIP-T46U;version=108.86.0.45')
      .replace(/^Contact: /m, 'm: ');
    const r = recognisePnpSubscribe(req(yealink));
    expect(r.ok && r.pnp).toMatchObject({ mac: '001565aabbcc', vendorId: 'yealink', model: 'SIP-T46U', contactUri: 'sip:10.0.0.5:5060' });
    expect(macFromPnpUri('sip:001565AABBCC@pnp.example')).toBe('001565aabbcc');
    expect(macFromPnpUri('sip:MAC:00-04-13-AA-BB-CC@x')).toBe('000413aabbcc');
    expect(macFromPnpUri('sip:alice@x')).toBeNull();
    expect(pnpVendorId('Polycom')).toBe('poly');
    expect(pnpVendorId('Grandstream')).toBeNull();
  });

  it('rejects unrelated requests with a reason', () => {
    expect(recognisePnpSubscribe(req(SNOM.replace('SUBSCRIBE sip', 'OPTIONS sip').replace('1 SUBSCRIBE', '1 OPTIONS')))).toEqual({
      ok: false,
      reason: 'not-subscribe',
    });
    expect(recognisePnpSubscribe(req(SNOM.replace(/^Event: .*$/m, 'Event: presence')))).toEqual({ ok: false, reason: 'not-ua-profile' });
    expect(recognisePnpSubscribe(req(SNOM.replace(/^Event: .*$/m, 'Event: ua-profile;profile-type="user"')))).toEqual({ ok: false, reason: 'not-ua-profile' });
    expect(recognisePnpSubscribe(req(SNOM.replace('sip:MAC%3a000413AABBCC@224', 'sip:bob@224')))).toEqual({ ok: false, reason: 'no-mac' });
    expect(recognisePnpSubscribe(req(SNOM.replace(/^Call-ID: .*\r\n/m, '')))).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('PnP answers', () => {
  const request = req(SNOM);
  const rec = recognisePnpSubscribe(request);
  if (!rec.ok) throw new Error('fixture');

  it('200 OK copies the transaction and tags To', () => {
    const ok = req(buildPnpOk(request, { toTag: 'srv', contact: { host: '10.0.0.2', port: 5060 } }).replace(/^SIP\/2\.0 200 OK/, 'X sip:x SIP/2.0'));
    expect(getHeader(ok, 'Via')).toBe('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-1;rport');
    expect(getHeader(ok, 'To')).toBe('<sip:MAC%3a000413AABBCC@224.0.1.75>;tag=srv');
    expect(getHeader(ok, 'Expires')).toBe('0');
    expect(getHeader(ok, 'Contact')).toBe('<sip:10.0.0.2:5060>');
    expect(buildPnpOk(request, { toTag: 's', contact: { host: 'h', port: 1 } })).toMatch(/^SIP\/2\.0 200 OK\r\n/);
  });

  it('NOTIFY names the Contact as Request-URI in the SUBSCRIBE dialog with the URL as body', () => {
    const wire = buildPnpNotify({
      request,
      pnp: rec.pnp,
      local: { host: '10.0.0.2', port: 5060 },
      toTag: 'srv',
      branch: 'xyz',
      cseq: 1,
      url: 'http://10.0.0.2:8080/',
    });
    const n = req(wire);
    expect(n.method).toBe('NOTIFY');
    expect(n.uri).toBe('sip:10.0.0.5:5060');
    expect(parseNameAddr(getHeader(n, 'From') ?? '')?.params.get('tag')).toBe('srv');
    expect(parseNameAddr(getHeader(n, 'To') ?? '')?.params.get('tag')).toBe('ph1');
    expect(getHeader(n, 'Call-ID')).toBe('pnp-1@10.0.0.5');
    expect(getHeader(n, 'Event')).toBe(rec.pnp.event);
    expect(getHeader(n, 'Subscription-State')).toBe('terminated;reason=timeout');
    expect(getHeader(n, 'Content-Type')).toBe('application/url');
    expect(getHeader(n, 'Content-Length')).toBe(String('http://10.0.0.2:8080/'.length));
    expect(n.body).toBe('http://10.0.0.2:8080/');
    // The Contact is text in the NOTIFY only: the codec offers no way to turn it into a destination.
    expect(Object.keys(pnpModule).filter((k) => /target/i.test(k))).toEqual([]);
    expect(() =>
      buildPnpNotify({ request, pnp: rec.pnp, local: { host: 'h', port: 1 }, toTag: 't', branch: 'b', cseq: 1, url: 'http://x/\r\nEvil: 1' }),
    ).toThrow(RangeError);
  });
});
