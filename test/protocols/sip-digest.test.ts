import { describe, expect, it } from 'vitest';
import { parseDigestParams } from '../../agent/protocols/digest.js';
import { buildDigestAuthorization, chooseDigestChallenge, parseDigestChallenge } from '../../agent/protocols/sip-digest.js';

describe('challenge parsing', () => {
  it('parses a challenge', () => {
    const c = parseDigestChallenge('Digest realm="pbx", nonce="n1", opaque="o", qop="auth-int, auth", algorithm=md5, stale=TRUE');
    expect(c).toEqual({ realm: 'pbx', nonce: 'n1', opaque: 'o', qop: ['auth-int', 'auth'], algorithm: 'MD5', stale: true });
  });

  it('refuses non-Digest, incomplete and unsupported challenges; picks the first supported', () => {
    expect(parseDigestChallenge('Basic realm="x"')).toBeNull();
    expect(parseDigestChallenge('Digest realm="x"')).toBeNull();
    expect(parseDigestChallenge('Digest realm="x", nonce="n", algorithm=SHA-512-256')).toBeNull();
    expect(parseDigestChallenge('garbage')).toBeNull();
    expect(
      chooseDigestChallenge([
        'Digest realm="x", nonce="n", algorithm=SHA-512-256',
        'Digest realm="x", nonce="n", algorithm=SHA-256',
        'Digest realm="x", nonce="n"',
      ])?.algorithm,
    ).toBe('SHA-256');
    expect(chooseDigestChallenge([])).toBeNull();
  });
});

describe('buildDigestAuthorization', () => {
  it('answers a qop=auth challenge with every field, and the response verifies', () => {
    const challenge = parseDigestChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    )!;
    const h = buildDigestAuthorization({
      challenge,
      username: 'Mufasa',
      password: 'Circle Of Life',
      method: 'GET',
      uri: '/dir/index.html',
      cnonce: '0a4f113b',
    });
    expect(h).toMatch(/^Digest /);
    const p = parseDigestParams(h.slice(7));
    expect(Object.fromEntries(p)).toEqual({
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      response: '6629fae49393a05397450978507c4ef1',
      algorithm: 'MD5',
      cnonce: '0a4f113b',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
      qop: 'auth',
      nc: '00000001',
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
