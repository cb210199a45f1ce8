import { describe, expect, it } from 'vitest';
import { buildCheckSyncNotify } from '../../agent/protocols/sip-check-sync.js';
import {
  bodyText,
  buildRequest,
  buildResponse,
  buildResponseTo,
  canonicalHeaderName,
  contentType,
  escapeSipUser,
  getHeader,
  getHeaders,
  parseCSeq,
  parseNameAddr,
  parseSipMessage,
  parseSipUri,
  parseVia,
  serializeSipMessage,
  splitHeaderList,
  type SipRequest,
} from '../../agent/protocols/sip-message.js';

const INVITE_LIKE = [
  'SUBSCRIBE sip:MAC%3a000413AABBCC@224.0.1.75 SIP/2.0',
  'v: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa1;rport, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKb2',
  'f: "Desk, 12" <sip:MAC%3a000413AABBCC@224.0.1.75>;tag=t1',
  't: <sip:MAC%3a000413AABBCC@224.0.1.75>',
  'i: abc@10.0.0.5',
  'CSEQ: 7 SUBSCRIBE',
  'm: <sip:10.0.0.5:5060>',
  'o: ua-profile;profile-type="device";vendor="snom"',
  'Subject: first',
  ' continued',
  'c: text/plain',
  'l: 5',
  '',
  'hello EXTRA',
].join('\r\n');

describe('parseSipMessage', () => {
  it('parses a request with compact headers, folding, multi-value Via and Content-Length body', () => {
    const r = parseSipMessage(INVITE_LIKE);
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.kind !== 'request') throw new Error('not a request');
    const m = r.message;
    expect(m.method).toBe('SUBSCRIBE');
    expect(m.uri).toBe('sip:MAC%3a000413AABBCC@224.0.1.75');
    expect(getHeaders(m, 'Via')).toHaveLength(2);
    expect(getHeader(m, 'via')).toBe('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa1;rport');
    expect(getHeader(m, 'v')).toBe(getHeader(m, 'VIA'));
    expect(getHeader(m, 'call-id')).toBe('abc@10.0.0.5');
    expect(getHeader(m, 'CSeq')).toBe('7 SUBSCRIBE');
    expect(getHeader(m, 'Event')).toMatch(/^ua-profile/);
    expect(getHeader(m, 'Contact')).toBe('<sip:10.0.0.5:5060>');
    expect(getHeader(m, 'Subject')).toBe('first continued');
    expect(getHeader(m, 'From')).toBe('"Desk, 12" <sip:MAC%3a000413AABBCC@224.0.1.75>;tag=t1');
    expect(getHeaders(m, 'From')).toHaveLength(1); // From is never split on commas
    expect(m.body).toBe('hello');
  });

  it('parses responses (bare LF tolerated) and round-trips build -> parse', () => {
    const wire = buildResponse({ status: 401, headers: [{ name: 'WWW-Authenticate', value: 'Digest realm="a", nonce="b", qop="auth,auth-int"' }], body: 'é' });
    expect(wire).toMatch(/^SIP\/2\.0 401 Unauthorized\r\n/);
    expect(wire).toContain('\r\nContent-Length: 2\r\n\r\né');
    const r = parseSipMessage(Buffer.from(wire));
    expect(r.ok && r.message.kind === 'response' && r.message.status).toBe(401);
    if (!r.ok) return;
    expect(getHeaders(r.message, 'WWW-Authenticate')).toEqual(['Digest realm="a", nonce="b", qop="auth,auth-int"']);
    expect(r.message.body).toBe('é');
    expect(serializeSipMessage(r.message)).toBe(wire);
    const lf = parseSipMessage('SIP/2.0 200 OK\nCall-ID: x\n\n');
    expect(lf.ok && lf.message.kind === 'response' && getHeader(lf.message, 'Call-ID')).toBe('x');
  });

  it('returns an error result for garbage, never throws', () => {
    const bad = [
      '',
      '\r\n\r\n',
      'hello',
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
      'NOTIFY sip:x SIP/3.0\r\n\r\n',
      'NOTIFY noscheme SIP/2.0\r\n\r\n',
      'SIP/2.0 99 Low\r\n\r\n',
      'NOTIFY sip:a@b SIP/2.0\r\nno colon line\r\n\r\n',
      'NOTIFY sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nshort',
      'NOTIFY sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n',
      Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a]),
      Buffer.alloc(70_000, 0x41),
    ];
    for (const b of bad) {
      const r = parseSipMessage(b);
      expect(r.ok, String(b).slice(0, 40)).toBe(false);
    }
    for (let i = 0; i < 300; i++) {
      const junk = Buffer.from(Array.from({ length: (i * 7) % 200 }, (_, j) => (i * 31 + j * 17) % 256));
      expect(() => parseSipMessage(junk)).not.toThrow();
    }
  });

  it('offers the answer to a malformed request it can answer, never to an ACK or a response', () => {
    const head = (method: string, extra: string): string =>
      [
        `${method} sip:a@b SIP/2.0`,
        'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
        'From: <sip:x@h>;tag=1',
        'To: <sip:a@b>',
        'Call-ID: c',
        `CSeq: 1 ${method}`,
        extra,
        '',
        '',
      ].join('\r\n');
    const bad = parseSipMessage(head('OPTIONS', 'Bad Header Line'));
    expect(bad).toMatchObject({ ok: false, error: 'malformed header line', reply: { status: 400, reason: 'Bad Request' } });
    expect(!bad.ok && bad.reply?.request.method).toBe('OPTIONS');
    expect(parseSipMessage(head('ACK', 'Bad Header Line'))).toEqual({ ok: false, error: 'malformed header line' });
    expect(parseSipMessage(head('OPTIONS', 'X-Evil: a\rb'))).toMatchObject({ ok: false, reply: { status: 400 } }); // a lone CR is never valid
    expect(parseSipMessage('SIP/2.0 200 OK\r\nVia: x\r\nContent-Length: 9\r\n\r\nshort')).toEqual({ ok: false, error: 'body shorter than Content-Length' });
    expect(parseSipMessage('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: c\r\nContent-Length: 9\r\n\r\nshort')).toEqual({
      ok: false,
      error: 'body shorter than Content-Length',
    });
  });

  it('keeps the method as sent and the body as bytes with a text view for text types only', () => {
    const r = parseSipMessage(
      Buffer.concat([
        Buffer.from('invite sip:a@b SIP/2.0\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\n'),
        Buffer.from([0xff, 0, 0x41]),
      ]),
    );
    if (!r.ok || r.message.kind !== 'request') throw new Error('bad');
    expect(r.message.method).toBe('invite');
    expect([...r.message.bodyBytes]).toEqual([0xff, 0, 0x41]);
    expect(bodyText(r.message)).toBeNull();
    const t = parseSipMessage('MESSAGE sip:a@b SIP/2.0\r\nc: text/plain;charset=utf-8\r\nl: 2\r\n\r\né');
    expect(t.ok && bodyText(t.message)).toBe('é');
    expect(t.ok && contentType(t.message)).toBe('text/plain');
  });

  it('canonicalises compact and odd-case names', () => {
    expect(['v', 'f', 't', 'i', 'm', 'l', 'e', 'c', 'o', 'k'].map(canonicalHeaderName)).toEqual([
      'Via',
      'From',
      'To',
      'Call-ID',
      'Contact',
      'Content-Length',
      'Content-Encoding',
      'Content-Type',
      'Event',
      'Supported',
    ]);
    expect(canonicalHeaderName('call-id')).toBe('Call-ID');
    expect(canonicalHeaderName('X-Custom')).toBe('X-Custom');
  });
});

describe('header value parsers', () => {
  it('Via, CSeq, name-addr, SIP URI', () => {
    expect(parseVia('SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKx;rport=5070;received=1.2.3.4')).toMatchObject({
      transport: 'UDP',
      host: '10.0.0.5',
      port: 5070,
      branch: 'z9hG4bKx',
      rport: '5070',
      received: '1.2.3.4',
    });
    expect(parseVia('SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKy')).toMatchObject({ host: '[2001:db8::1]', port: 5060 });
    expect(parseVia('garbage')).toBeNull();
    expect(parseCSeq('12 notify')).toEqual({ seq: 12, method: 'notify' }); // methods are case-sensitive (RFC 3261 §7.1)
    expect(parseCSeq('2147483648 INVITE')).toBeNull(); // must be below 2**31 (§8.1.1.5)
    expect(parseCSeq('x NOTIFY')).toBeNull();
    expect(parseNameAddr('"A \\"B\\"" <sip:a@b;transport=udp>;tag=9')).toMatchObject({ displayName: 'A "B"', uri: 'sip:a@b;transport=udp' });
    expect(parseNameAddr('sip:a@b;tag=9')?.params.get('tag')).toBe('9');
    expect(parseNameAddr('<sip:a@b')).toBeNull();
    expect(parseSipUri('sip:MAC%3a000413AABBCC@224.0.1.75')).toMatchObject({ user: 'MAC:000413AABBCC', host: '224.0.1.75' });
    expect(parseSipUri('sip:10.0.0.5:5062;transport=udp')).toMatchObject({ host: '10.0.0.5', port: 5062 });
    expect(parseSipUri('sip:alice:secret@example.com')).toMatchObject({ user: 'alice', host: 'example.com' });
    expect(parseSipUri('http://x')).toBeNull();
    expect(splitHeaderList('<sip:a@b>;q=1, "x,y" <sip:c@d>')).toEqual(['<sip:a@b>;q=1', '"x,y" <sip:c@d>']);
  });

  it('escapes URI user parts', () => {
    expect(escapeSipUser('*35*101')).toBe('*35*101');
    expect(escapeSipUser('a b@c')).toBe('a%20b%40c');
  });
});

describe('builders', () => {
  it('buildCheckSyncNotify follows phones.md', () => {
    const wire = buildCheckSyncNotify({
      target: { host: '10.0.0.20', port: 5060 },
      requestUser: '101',
      local: { host: '10.0.0.2', port: 5080 },
      event: 'check-sync;reboot=false',
      branch: 'abc123',
      fromTag: 'ft',
      callId: 'cid@h',
      cseq: 1,
    });
    expect(wire.split('\r\n')[0]).toBe('NOTIFY sip:101@10.0.0.20:5060 SIP/2.0');
    expect(wire.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
    expect(wire).not.toMatch(/[^\r]\n/);
    const r = parseSipMessage(wire);
    if (!r.ok || r.message.kind !== 'request') throw new Error('bad');
    const m = r.message;
    expect(parseVia(getHeader(m, 'Via') ?? '')).toMatchObject({ transport: 'UDP', host: '10.0.0.2', port: 5080, branch: 'z9hG4bKabc123', rport: '' });
    expect(getHeader(m, 'From')).toBe('<sip:hotdesk@10.0.0.2:5080>;tag=ft');
    expect(getHeader(m, 'To')).toBe('<sip:101@10.0.0.20:5060>');
    expect(getHeader(m, 'Call-ID')).toBe('cid@h');
    expect(getHeader(m, 'CSeq')).toBe('1 NOTIFY');
    expect(getHeader(m, 'Event')).toBe('check-sync;reboot=false');
    expect(getHeader(m, 'Subscription-State')).toBe('terminated');
    expect(getHeader(m, 'Max-Forwards')).toBe('70');
    expect(getHeader(m, 'Authorization')).toBeUndefined();
    const withAuth = buildCheckSyncNotify({
      target: { host: '::1', port: 5060 },
      requestUser: '101',
      local: { host: '::1', port: 1 },
      event: 'check-sync',
      branch: 'z9hG4bKq',
      fromTag: 'f',
      callId: 'c',
      cseq: 2,
      authorization: { header: 'Proxy-Authorization', value: 'Digest x="y"' },
    });
    expect(withAuth).toContain('NOTIFY sip:101@[::1]:5060 SIP/2.0');
    expect(withAuth).toContain(';branch=z9hG4bKq;');
    expect(withAuth).toContain('\r\nProxy-Authorization: Digest x="y"\r\n');
  });

  it('refuses header injection and replaces a caller-given Content-Length', () => {
    expect(() => buildRequest({ method: 'NOTIFY', uri: 'sip:a@b', headers: [{ name: 'Event', value: 'x\r\nEvil: 1' }] })).toThrow(RangeError);
    const w = buildRequest({ method: 'NOTIFY', uri: 'sip:a@b', headers: [{ name: 'Content-Length', value: '99' }], body: 'abc' });
    expect(w.match(/Content-Length/g)).toHaveLength(1);
    expect(w).toContain('Content-Length: 3\r\n\r\nabc');
  });

  it('buildResponseTo copies Via/From/To/Call-ID/CSeq and adds a To tag once', () => {
    const r = parseSipMessage(INVITE_LIKE);
    if (!r.ok) throw new Error('bad');
    const req = r.message as SipRequest;
    const res = parseSipMessage(buildResponseTo(req, { status: 200, toTag: 'mine' }));
    if (!res.ok) throw new Error('bad');
    expect(getHeaders(res.message, 'Via')).toEqual(getHeaders(req, 'Via'));
    expect(getHeader(res.message, 'To')).toBe('<sip:MAC%3a000413AABBCC@224.0.1.75>;tag=mine');
    expect(getHeader(res.message, 'CSeq')).toBe('7 SUBSCRIBE');
    const again = buildResponseTo(res.message.kind === 'response' ? { ...req, headers: res.message.headers } : req, { status: 200, toTag: 'other' });
    expect(again).toContain(';tag=mine');
    expect(again).not.toContain('other');
  });
});
