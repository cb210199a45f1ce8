import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestAlgorithm, digestResponse, parseDigestParams } from '../../agent/protocols/digest.js';
import { buildDigestAuthorization, chooseDigestChallenge } from '../../agent/protocols/sip-digest.js';
import { DigestAuthority, parseDigestAuthorization } from '../../agent/shell/provisioning/http-digest-auth.js';

describe('digestResponse', () => {
  it('matches the RFC 2617 §3.5 example', () => {
    expect(
      digestResponse({
        algorithm: 'MD5',
        username: 'Mufasa',
        realm: 'testrealm@host.com',
        password: 'Circle Of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('matches the RFC 7616 §3.9.1 SHA-256 example', () => {
    expect(
      digestResponse({
        algorithm: 'SHA-256',
        username: 'Mufasa',
        realm: 'http-auth@example.org',
        password: 'Circle of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        qop: 'auth',
        nc: '00000001',
        cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      }),
    ).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('RFC 2069 form without qop, and -sess / auth-int variants', () => {
    const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
    const ha1 = md5('u:r:p');
    expect(digestResponse({ algorithm: 'MD5', username: 'u', realm: 'r', password: 'p', method: 'NOTIFY', uri: 'sip:a@b', nonce: 'n' })).toBe(
      md5(`${ha1}:n:${md5('NOTIFY:sip:a@b')}`),
    );
    const sessHa1 = md5(`${ha1}:n:c`);
    const ha2int = md5(`NOTIFY:sip:a@b:${md5('')}`);
    expect(
      digestResponse({
        algorithm: 'MD5-sess',
        username: 'u',
        realm: 'r',
        password: 'p',
        method: 'NOTIFY',
        uri: 'sip:a@b',
        nonce: 'n',
        qop: 'auth-int',
        nc: '00000001',
        cnonce: 'c',
        entityBody: '',
      }),
    ).toBe(md5(`${sessHa1}:n:00000001:c:auth-int:${ha2int}`));
  });
});

describe('parseDigestParams (RFC 7235 §2.1 auth-param list)', () => {
  it('parses params, quoted commas and escapes; first occurrence wins; keys lowercased', () => {
    const p = parseDigestParams('realm="a\\"b", nonce="x,y", qop="auth,auth-int", algorithm=SHA-256, stale=TRUE, Realm="second"');
    expect(p.get('realm')).toBe('a"b');
    expect(p.get('nonce')).toBe('x,y');
    expect(p.get('qop')).toBe('auth,auth-int');
    expect(p.get('algorithm')).toBe('SHA-256');
    expect(p.get('stale')).toBe('TRUE');
  });

  it('skips what is not a parameter and keeps the parameters after it', () => {
    const p = parseDigestParams('junk, "quoted, junk" username="u" realm = r ,, =x nc=00000001');
    expect(Object.fromEntries(p)).toEqual({ username: 'u', realm: 'r', nc: '00000001' });
    expect([...parseDigestParams('')]).toEqual([]);
    expect([...parseDigestParams('a="unterminated')]).toEqual([['a', '']]);
  });

  it('names the supported algorithms (absent = MD5)', () => {
    expect(digestAlgorithm(undefined)).toBe('MD5');
    expect(digestAlgorithm('md5-sess')).toBe('MD5-sess');
    expect(digestAlgorithm('sha-256')).toBe('SHA-256');
    expect(digestAlgorithm('SHA-512-256')).toBeNull();
  });
});

describe('client and server side agree', () => {
  it('an answer built by the client side verifies at the server side, once, for MD5 and SHA-256', () => {
    const auth = new DigestAuthority('hotdesk', 60_000);
    const client = '10.0.0.23';
    for (const i of [0, 1]) {
      // One nonce per challenge (both headers of a challenge carry the same nonce, and its count is used up once).
      const challenge = chooseDigestChallenge([auth.challenge(1_000 + i, false, client)[i]!])!;
      const answer = buildDigestAuthorization({
        challenge,
        username: 'bootstrap',
        password: 'hotdesk-demo',
        method: 'GET',
        uri: '/001565aabb01.cfg',
        cnonce: 'c0ffee',
      });
      const creds = parseDigestAuthorization(answer)!;
      expect(creds.algorithm).toBe(['MD5', 'SHA-256'][i]);
      expect(auth.verify(creds, 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000, client)).toBe('ok');
      expect(auth.verify(creds, 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000, client)).toBe('stale');
      expect(auth.verify(creds, 'GET', '/001565aabb01.cfg', 'wrong', 2_000, client)).toBe('bad');
    }
  });
});
