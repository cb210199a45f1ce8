import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildDigestAuthorization,
  chooseDigestChallenge,
  digestResponse,
  parseDigestChallenge,
  parseDigestParams,
} from '../../agent/protocols/sip-digest.js';

describe('digestResponse', () => {
  it('matches the RFC 2617 §3.5 example', () => {
    expect(
      digestResponse({
        algorithm: 'MD5', username: 'Mufasa', realm: 'testrealm@host.com', password: 'Circle Of Life', method: 'GET',
        uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: 'auth', nc: '00000001', cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('matches the RFC 7616 §3.9.1 SHA-256 example', () => {
    expect(
      digestResponse({
        algorithm: 'SHA-256', username: 'Mufasa', realm: 'http-auth@example.org', password: 'Circle of Life', method: 'GET',
        uri: '/dir/index.html', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', qop: 'auth', nc: '00000001',
        cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      }),
    ).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('RFC 2069 form without qop, and -sess / auth-int variants', () => {
    const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
    const ha1 = md5('u:r:p');
    expect(digestResponse({ algorithm: 'MD5', username: 'u', realm: 'r', password: 'p', method: 'NOTIFY', uri: 'sip:a@b', nonce: 'n' }))
      .toBe(md5(`${ha1}:n:${md5('NOTIFY:sip:a@b')}`));
    const sessHa1 = md5(`${ha1}:n:c`);
    const ha2int = md5(`NOTIFY:sip:a@b:${md5('')}`);
    expect(digestResponse({ algorithm: 'MD5-sess', username: 'u', realm: 'r', password: 'p', method: 'NOTIFY', uri: 'sip:a@b', nonce: 'n', qop: 'auth-int', nc: '00000001', cnonce: 'c', entityBody: '' }))
      .toBe(md5(`${sessHa1}:n:00000001:c:auth-int:${ha2int}`));
  });
});

describe('challenge parsing', () => {
  it('parses Digest params, quoted commas and escapes', () => {
    const p = parseDigestParams('realm="a\\"b", nonce="x,y", qop="auth,auth-int", algorithm=SHA-256, stale=TRUE');
    expect(p.get('realm')).toBe('a"b');
    expect(p.get('nonce')).toBe('x,y');
    expect(p.get('qop')).toBe('auth,auth-int');
    expect(p.get('algorithm')).toBe('SHA-256');
    const c = parseDigestChallenge('Digest realm="pbx", nonce="n1", opaque="o", qop="auth-int, auth", algorithm=md5, stale=TRUE');
    expect(c).toEqual({ realm: 'pbx', nonce: 'n1', opaque: 'o', qop: ['auth-int', 'auth'], algorithm: 'MD5', stale: true });
  });

  it('refuses non-Digest, incomplete and unsupported challenges; picks the first supported', () => {
    expect(parseDigestChallenge('Basic realm="x"')).toBeNull();
    expect(parseDigestChallenge('Digest realm="x"')).toBeNull();
    expect(parseDigestChallenge('Digest realm="x", nonce="n", algorithm=SHA-512-256')).toBeNull();
    expect(parseDigestChallenge('garbage')).toBeNull();
    expect(chooseDigestChallenge(['Digest realm="x", nonce="n", algorithm=SHA-512-256', 'Digest realm="x", nonce="n", algorithm=SHA-256', 'Digest realm="x", nonce="n"'])?.algorithm).toBe('SHA-256');
    expect(chooseDigestChallenge([])).toBeNull();
  });
});

describe('buildDigestAuthorization', () => {
  it('answers a qop=auth challenge with every field, and the response verifies', () => {
    const challenge = parseDigestChallenge('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"')!;
    const h = buildDigestAuthorization({ challenge, username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', cnonce: '0a4f113b' });
    expect(h).toMatch(/^Digest /);
    const p = parseDigestParams(h.slice(7));
    expect(Object.fromEntries(p)).toEqual({
      username: 'Mufasa', realm: 'testrealm@host.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', uri: '/dir/index.html',
      response: '6629fae49393a05397450978507c4ef1', algorithm: 'MD5', cnonce: '0a4f113b', opaque: '5ccc069c403ebaf9f0171e9517f40e41',
      qop: 'auth', nc: '00000001',
    });
    expect(h).not.toContain('Circle Of Life');
  });

  it('omits qop/nc/cnonce when the server offered no qop, and quotes awkward usernames', () => {
    const challenge = parseDigestChallenge('Digest realm="r", nonce="n"')!;
    const h = buildDigestAuthorization({ challenge, username: 'a"b\\c', password: 'p', method: 'NOTIFY', uri: 'sip:1@h', cnonce: 'c' });
    expect(h).not.toMatch(/qop=|nc=|cnonce=/);
    expect(parseDigestParams(h.slice(7)).get('username')).toBe('a"b\\c');
  });
});
