/**
 * HTTP digest replay on loopback: a real client (curl --digest) fetches a
 * phone's secret file; the exact `Authorization` header it sent is then
 * replayed from the same address and from another one (127.0.0.2). Every
 * replay is refused with a fresh challenge; a fresh exchange still works, and
 * a kept-alive client counting `nc` up keeps working.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDigestAuthorization, chooseDigestChallenge } from '../../agent/protocols/sip-digest.js';
import { DEMO_PHONES, startHarness, type Harness } from '../helpers/agent-harness.js';

const run = promisify(execFile);
const PHONE = DEMO_PHONES.yealink;
const CREDS = 'bootstrap:hotdesk-demo';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

/** curl --digest, verbose: the statuses and the Authorization headers it sent. */
async function curlDigest(paths: readonly string[]): Promise<{ statuses: number[]; authorizations: string[]; bodies: string }> {
  const args = ['-s', '-v', '--digest', '-u', CREDS, '-A', PHONE.userAgent, '-w', '\n@@%{http_code}\n'];
  const { stdout, stderr } = await run('curl', [...args, ...paths.map((p) => `${h.base}${p}`)]);
  const statuses = [...stdout.matchAll(/@@(\d{3})/g)].map((m) => Number(m[1]));
  const authorizations = [...stderr.matchAll(/^> Authorization: (Digest .*)\r?$/gim)].map((m) => (m[1] ?? '').trim());
  return { statuses, authorizations, bodies: stdout };
}

/** One GET with a given Authorization header, from a chosen local address. */
function getWith(localAddress: string, path: string, authorization: string): Promise<{ status: number; challenge: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${h.base}${path}`, { localAddress, agent: false, headers: { authorization, 'user-agent': PHONE.userAgent } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, challenge: String(res.headers['www-authenticate'] ?? ''), body }));
    });
    req.on('error', reject);
  });
}

describe('HTTP digest replay', () => {
  it('a captured Authorization header is refused 5 of 5 times from the same and from another address; a fresh exchange works', async () => {
    const path = `/${PHONE.secretFile}`;
    const first = await curlDigest([path]);
    expect(first.statuses).toEqual([200]);
    expect(first.bodies).toContain('account.1');
    const captured = first.authorizations.at(-1);
    expect(captured).toMatch(/nc=00000001/);

    for (const from of ['127.0.0.1', '127.0.0.2']) {
      for (let i = 0; i < 5; i++) {
        const r = await getWith(from, path, captured as string);
        expect(r.status, `${from} replay ${i + 1}`).toBe(401);
        expect(r.challenge).toMatch(/^Digest realm="hotdesk"/);
        expect(r.body).not.toContain('account.1');
        expect(r.body).not.toContain('hotdesk-demo');
      }
    }

    // A fresh exchange by a real client still works, from either address.
    expect((await curlDigest([path])).statuses).toEqual([200]);
    const other = await run('curl', [
      '-s',
      '--interface',
      '127.0.0.2',
      '--digest',
      '-u',
      CREDS,
      '-A',
      PHONE.userAgent,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `${h.base}${path}`,
    ]);
    expect(other.stdout).toBe('200');
  });

  it('curl fetching several times in one run gets every one', async () => {
    const path = `/${PHONE.secretFile}`;
    const r = await curlDigest([path, path, path]);
    expect(r.statuses).toEqual([200, 200, 200]);
  });

  it('a kept-alive client that counts nc up on one nonce keeps working; repeated and lower counts are refused', async () => {
    const path = `/${PHONE.secretFile}`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (authorization?: string) =>
      new Promise<{ status: number; challenges: string[]; local: number }>((resolve, reject) => {
        const req = http.get(`${h.base}${path}`, { agent, headers: { 'user-agent': PHONE.userAgent, ...(authorization ? { authorization } : {}) } }, (res) => {
          res.resume();
          res.on('end', () => {
            const c = res.headers['www-authenticate'];
            resolve({ status: res.statusCode ?? 0, challenges: Array.isArray(c) ? c : c ? [c] : [], local: req.socket?.localPort ?? 0 });
          });
        });
        req.on('error', reject);
      });
    try {
      const first = await get();
      expect(first.status).toBe(401);
      const challenge = chooseDigestChallenge(first.challenges);
      expect(challenge).not.toBeNull();
      const answer = (nc: number) =>
        buildDigestAuthorization({ challenge: challenge!, username: 'bootstrap', password: 'hotdesk-demo', method: 'GET', uri: path, cnonce: 'c0ffee42', nc });
      const ok = [await get(answer(1)), await get(answer(2)), await get(answer(3)), await get(answer(7))];
      expect(ok.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(new Set(ok.map((r) => r.local)).size).toBe(1); // one kept-alive connection
      // Replays of counts already used (equal or lower) are refused with a stale challenge.
      for (const nc of [7, 3, 1]) {
        const r = await get(answer(nc));
        expect(r.status).toBe(401);
        expect(r.challenges.join(' ')).toContain('stale=true');
      }
      expect((await get(answer(8))).status).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});
