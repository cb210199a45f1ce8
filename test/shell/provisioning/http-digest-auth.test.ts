import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DigestAuthority, expectedDigestResponse, parseDigestAuthorization } from '../../../agent/shell/provisioning/http-digest-auth.js';

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
    const forged = parseDigestAuthorization(
      header.replace(
        nonce,
        nonce.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A')),
      ),
    )!;
    expect(auth.verify(forged, 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000)).toBe('bad');
    // a nonce from another process (other key) is not ours
    expect(new DigestAuthority('hotdesk').checkNonce(nonce, 2_000)).toBe('invalid');
  });

  it('rejects malformed headers', () => {
    expect(parseDigestAuthorization('Basic Zm9vOmJhcg==')).toBeNull();
    expect(parseDigestAuthorization('Digest username="x"')).toBeNull();
    expect(parseDigestAuthorization(`Digest ${'a=b,'.repeat(2000)}`)).toBeNull();
    expect(parseDigestAuthorization('Digest username="a", realm="r", nonce="n", uri="/", response="x", algorithm=SHA-512')).toBeNull();
  });
});

describe('HTTP digest replay protection (RFC 7616 §3.4 nonce count)', () => {
  const ha1 = md5('bootstrap:hotdesk:hotdesk-demo');
  const ha2 = md5('GET:/001565aabb01.cfg');
  const answer = (nonce: string, nc: string, extra = '') =>
    parseDigestAuthorization(
      `Digest username="bootstrap", realm="hotdesk", nonce="${nonce}", uri="/001565aabb01.cfg", qop=auth, nc=${nc}, cnonce="abc", response="${md5(`${ha1}:${nonce}:${nc}:abc:auth:${ha2}`)}"${extra}`,
    )!;
  const nonceOf = (auth: DigestAuthority, now: number, client: string) => /nonce="([^"]+)"/.exec(auth.challenge(now, false, client)[0]!)![1]!;
  const A = '10.0.0.23';

  it('accepts rising counts, refuses a repeated or lower count as stale', () => {
    const auth = new DigestAuthority('hotdesk', 60_000);
    const n = nonceOf(auth, 1_000, A);
    const v = (nc: string) => auth.verify(answer(n, nc), 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000, A);
    expect(v('00000001')).toBe('ok');
    expect(v('00000001')).toBe('stale');
    expect(v('00000002')).toBe('ok');
    expect(v('00000005')).toBe('ok');
    expect(v('00000004')).toBe('stale');
    expect(v('00000005')).toBe('stale');
    expect(v('00000000')).toBe('stale');
    expect(v('0000006')).toBe('bad'); // nc is 8 hex digits
  });

  it('a wrong password does not use up a count', () => {
    const auth = new DigestAuthority('hotdesk', 60_000);
    const n = nonceOf(auth, 1_000, A);
    expect(auth.verify(answer(n, '00000001'), 'GET', '/001565aabb01.cfg', 'wrong', 2_000, A)).toBe('bad');
    expect(auth.verify(answer(n, '00000001'), 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000, A)).toBe('ok');
  });

  it('binds a nonce to the address it was issued to', () => {
    const auth = new DigestAuthority('hotdesk', 60_000);
    const n = nonceOf(auth, 1_000, A);
    expect(auth.checkNonce(n, 2_000, A)).toBe('valid');
    expect(auth.checkNonce(n, 2_000, '10.0.0.24')).toBe('invalid');
    expect(auth.verify(answer(n, '00000001'), 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000, '10.0.0.24')).toBe('bad');
    // ... and the refusal elsewhere did not spend the owner's count.
    expect(auth.verify(answer(n, '00000001'), 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000, A)).toBe('ok');
  });

  it('a nonce in use stays bound to its address (its signature is not re-checked for the owner only)', () => {
    const auth = new DigestAuthority('hotdesk', 60_000);
    const n = nonceOf(auth, 1_000, A);
    expect(auth.verify(answer(n, '00000001'), 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000, A)).toBe('ok');
    // Known to the count table now: from another address it is still refused, and still expires.
    expect(auth.verify(answer(n, '00000002'), 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000, '10.0.0.24')).toBe('bad');
    expect(auth.verify(answer(n, '00000002'), 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000, A)).toBe('ok');
    expect(auth.verify(answer(n, '00000003'), 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 62_000, A)).toBe('stale');
  });

  it('without qop (RFC 2069 form) a nonce is good for one request', () => {
    const auth = new DigestAuthority('hotdesk', 60_000);
    const n = nonceOf(auth, 1_000, A);
    const c = parseDigestAuthorization(
      `Digest username="bootstrap", realm="hotdesk", nonce="${n}", uri="/001565aabb01.cfg", response="${md5(`${ha1}:${n}:${ha2}`)}"`,
    )!;
    expect(auth.verify(c, 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000, A)).toBe('ok');
    expect(auth.verify(c, 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000, A)).toBe('stale');
  });

  it('the count table is capped, and forgetting a live nonce never reopens a replay', () => {
    const auth = new DigestAuthority('hotdesk', 600_000, undefined, 100);
    const used: string[] = [];
    for (let i = 0; i < 1_000; i++) {
      const n = nonceOf(auth, 1_000 + i, A);
      expect(auth.verify(answer(n, '00000001'), 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 2_000 + i, A)).toBe('ok');
      used.push(n);
      expect(auth.rememberedNonces).toBeLessThanOrEqual(100);
    }
    // Every answer ever accepted is refused when replayed, remembered or not.
    for (const n of used) expect(auth.verify(answer(n, '00000001'), 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 3_000, A)).toBe('stale');
    // A fresh nonce still works.
    expect(auth.verify(answer(nonceOf(auth, 3_000, A), '00000001'), 'GET', '/001565aabb01.cfg', 'hotdesk-demo', 3_001, A)).toBe('ok');
  });

  it('expired nonces leave the table', () => {
    const auth = new DigestAuthority('hotdesk', 1_000, undefined, 10);
    for (let i = 0; i < 50; i++) {
      const t = i * 2_000;
      expect(auth.verify(answer(nonceOf(auth, t, A), '00000001'), 'GET', '/001565aabb01.cfg', 'hotdesk-demo', t + 1, A)).toBe('ok');
    }
    expect(auth.rememberedNonces).toBeLessThanOrEqual(10);
  });
});
