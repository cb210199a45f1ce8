import { describe, expect, it } from 'vitest';
import { getHeader, getHeaders } from '../../agent/protocols/sip-message.js';
import { buildSipResponse, responseDestination, stampVia } from '../../agent/protocols/sip-response-builder.js';
import { PHONE, phoneRequest, req, res } from './sip-test-kit.js';

describe('buildSipResponse (RFC 3261 §8.2.6)', () => {
  const options = req(
    [
      'OPTIONS sip:hotdesk@10.0.0.2 SIP/2.0',
      'Via: SIP/2.0/UDP 192.168.1.50:5062;branch=z9hG4bKa;rport',
      'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKb',
      'From: <sip:hd-12@10.0.0.2>;tag=f',
      'To: <sip:hotdesk@10.0.0.2>',
      'Call-ID: c1',
      'CSeq: 3 OPTIONS',
      'Timestamp: 54',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );

  it('copies every Via in order (the top one stamped), From, To with our tag, Call-ID, CSeq, then our headers and body', () => {
    const r = res(buildSipResponse(options, { status: 200, toTag: 'ours', source: PHONE, headers: [{ name: 'Allow', value: 'INVITE, ACK' }], body: 'x' }));
    expect(getHeaders(r, 'Via')).toEqual([
      'SIP/2.0/UDP 192.168.1.50:5062;branch=z9hG4bKa;rport=5062;received=10.0.0.50',
      'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKb',
    ]);
    expect(getHeader(r, 'From')).toBe('<sip:hd-12@10.0.0.2>;tag=f');
    expect(getHeader(r, 'To')).toBe('<sip:hotdesk@10.0.0.2>;tag=ours');
    expect(getHeader(r, 'CSeq')).toBe('3 OPTIONS');
    expect(getHeaders(r, 'Allow')).toEqual(['INVITE', 'ACK']);
    expect(getHeader(r, 'Timestamp')).toBeUndefined();
    expect(r.body).toBe('x');
  });

  it('a 100 Trying has no To tag and echoes Timestamp (§8.2.6.1)', () => {
    const r = res(buildSipResponse(options, { status: 100, toTag: 'ours' }));
    expect(getHeader(r, 'To')).toBe('<sip:hotdesk@10.0.0.2>');
    expect(getHeader(r, 'Timestamp')).toBe('54');
  });
});

describe('stampVia (RFC 3261 §18.2.1, RFC 3581 §4)', () => {
  it('adds received when the sent-by host differs or rport was asked, fills rport, replaces an old received', () => {
    expect(stampVia('SIP/2.0/UDP 10.0.0.50:5062;branch=z9hG4bKa', PHONE)).toBe('SIP/2.0/UDP 10.0.0.50:5062;branch=z9hG4bKa');
    expect(stampVia('SIP/2.0/UDP 10.0.0.50:5062;branch=z9hG4bKa;rport', PHONE)).toBe(
      'SIP/2.0/UDP 10.0.0.50:5062;branch=z9hG4bKa;rport=5062;received=10.0.0.50',
    );
    expect(stampVia('SIP/2.0/UDP phone.lan;branch=z9hG4bKa;received=1.2.3.4', PHONE)).toBe('SIP/2.0/UDP phone.lan;branch=z9hG4bKa;received=10.0.0.50');
    expect(stampVia('SIP/2.0/UDP [2001:db8::5];rport', { address: '2001:db8::9', port: 7 })).toBe('SIP/2.0/UDP [2001:db8::5];rport=7;received=2001:db8::9');
    expect(stampVia('garbage', PHONE)).toBe('garbage');
  });
});

describe('responseDestination', () => {
  it('is always the source, whatever Via or Contact say', () => {
    const r = phoneRequest({ method: 'REGISTER', cseq: 1, branch: 'z9hG4bKq', headers: ['Contact: <sip:x@203.0.113.9:9999>'] });
    expect(responseDestination(r, { address: '10.0.0.77', port: 40000 })).toEqual({ address: '10.0.0.77', port: 40000 });
  });
});
