import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DigestAuthority, expectedDigestResponse, parseDigestAuthorization } from '../../agent/shell/http-digest-auth.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

describe('HTTP digest (RFC 2617/7616)', () => {
  it('computes the RFC 2617 §3.5 example response', () => {
    const c = parseDigestAuthorization(
      'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    expect(c).not.toBeNull();
    expect(expectedDigestResponse(c!, 'GET', 'Circle Of Life')).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('accepts a correct answer to its own challenge and refuses tampering', () => {
    const auth = new DigestAuthority('hotdesk', 60_000);
    const challenge = auth.challenge(1_000)[0]!;
    const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
    const ha1 = md5('bootstrap:hotdesk:hotdesk-demo');
    const ha2 = md5('GET:/001565aabb01.cfg');
    const response = md5(`${ha1}:${nonce}:00000001:abc:auth:${ha2}`);
    const header = `Digest username="bootstrap", realm="hotdesk", nonce="${nonce}", uri="/001565aabb01.cfg", qop=auth, nc=00000001, cnonce="abc", response="${response}"`;
    const c = parseDigestAuthorization(header)!;
    expect(auth.verify(c, 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000)).toBe('ok');
    expect(auth.verify(c, 'GET', '/001565aabb01.cfg', 'wrong', 2_000)).toBe('bad');
    expect(auth.verify(c, 'GET', '/other.cfg', 'hotdesk-demo', 2_000)).toBe('bad');
    expect(auth.verify(c, 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 100_000)).toBe('stale');
    const forged = parseDigestAuthorization(header.replace(nonce, nonce.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A'))))!;
    expect(auth.verify(forged, 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000)).toBe('bad');
    // a nonce from another process (other key) is not ours
    expect(new DigestAuthority('hotdesk').checkNonce(nonce, 2_000)).toBe('invalid');
  });

  it('rejects malformed headers', () => {
    expect(parseDigestAuthorization('Basic Zm9vOmJhcg==')).toBeNull();
    expect(parseDigestAuthorization('Digest username="x"')).toBeNull();
    expect(parseDigestAuthorization('Digest ' + 'a=b,'.repeat(2000))).toBeNull();
    expect(parseDigestAuthorization('Digest username="a", realm="r", nonce="n", uri="/", response="x", algorithm=SHA-512')).toBeNull();
  });
});
