/**
 * Provisioning security (docs/behaviour.md §11), against the full running agent on
 * loopback with curl as the phone: HTTP digest with the site bootstrap
 * credential, then the per-phone credential the first file installs; the
 * bootstrap credential refused after enrolment (and accepted again after an
 * admin reset); another phone's MAC with this phone's credential; MAC in
 * path vs User-Agent; per-source rate limits (each test has its own agent:
 * the limiter is per source address); secrets never in a refusal or a log.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../agent/shell/logger.js';
import { DEMO_PHONES, type DemoPhone, type Harness } from '../helpers/agent-harness.js';
import { curl, demoDataDirWith, ownCredentialIn, secretsIn, tempDir, tftpHpaGet, useHarness, written, type CurlResult } from './provisioning-kit.js';

const BOOT = 'bootstrap:hotdesk-demo';
const { yealink, snom, poly } = DEMO_PHONES;
/** The lift phone (Yealink T31G, a device account, no hot-desking). */
const LIFT_UA = 'Yealink SIP-T31G 124.86.0.40 00:15:65:aa:bb:09';

const harness = useHarness();

function fetchSecret(h: Harness, phone: DemoPhone, creds?: string, file = phone.secretFile): Promise<CurlResult> {
  return curl(`${h.base}/${file}`, { userAgent: phone.userAgent, ...(creds !== undefined ? { digest: creds } : {}) });
}

function code(r: CurlResult): string | undefined {
  try {
    return (JSON.parse(r.text) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

describe.each(Object.values(DEMO_PHONES))('digest credentials on $vendor', (phone) => {
  it('bootstrap before enrolment, own credential after, bootstrap refused then, admin reset re-opens it', async () => {
    const h = await harness();
    const refusals: CurlResult[] = [];
    const refused = (r: CurlResult): CurlResult => {
      refusals.push(r);
      return r;
    };

    // No credentials: 401 with a digest challenge (MD5 for the phones, SHA-256 too).
    const anon = refused(await fetchSecret(h, phone));
    expect(anon.status).toBe(401);
    expect(anon.headers).toMatch(/^WWW-Authenticate: Digest realm="hotdesk", qop="auth", algorithm=MD5, nonce="[^"]+"/im);
    expect(code(anon)).toBe('auth-required');
    // Wrong password, wrong user: 401.
    expect(refused(await fetchSecret(h, phone, 'bootstrap:wrong-password')).status).toBe(401);
    expect(refused(await fetchSecret(h, phone, 'someone:hotdesk-demo')).status).toBe(401);

    // Bootstrap before enrolment: accepted; the file installs the phone's own credential.
    const first = await fetchSecret(h, phone, BOOT);
    expect(first.status).toBe(200);
    const own = ownCredentialIn(phone, first.text);
    expect(own.startsWith('bootstrap:')).toBe(false);
    // Bootstrap still works until the phone has used its own credential.
    expect((await fetchSecret(h, phone, BOOT)).status).toBe(200);

    // The phone's own credential: accepted.
    const second = await fetchSecret(h, phone, own);
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);

    // From now on the bootstrap credential no longer unlocks this MAC's secret file...
    const stale = refused(await fetchSecret(h, phone, BOOT));
    expect(stale.status).toBe(401);
    expect(code(stale)).toBe('auth-failed');
    expect(stale.headers).toMatch(/WWW-Authenticate: Digest/i);
    // ... but it still does for another phone that has not enrolled yet.
    expect((await curl(`${h.base}/001565aabb09.cfg`, { userAgent: LIFT_UA, digest: BOOT })).status).toBe(200);
    // Non-secret files need no credential at all.
    expect((await fetchSecret(h, phone, own)).status).toBe(200);

    // Another phone's MAC with this phone's credential: refused.
    const other = refused(await curl(`${h.base}/001565aabb09.cfg`, { userAgent: LIFT_UA, digest: own }));
    expect(other.status).toBe(401);
    for (const o of Object.values(DEMO_PHONES).filter((p) => p !== phone)) {
      expect(refused(await fetchSecret(h, o, own)).status, o.vendor).toBe(401);
    }

    // Admin reset: the bootstrap credential works again and the file carries a NEW own credential.
    const reset = await h.api('POST', `/api/v1/phones/${phone.mac}/reset-enrolment`);
    expect(reset.status).toBe(200);
    const again = await fetchSecret(h, phone, BOOT);
    expect(again.status).toBe(200);
    const fresh = ownCredentialIn(phone, again.text);
    expect(fresh).not.toBe(own);
    expect(refused(await fetchSecret(h, phone, own)).status).toBe(401);
    expect((await fetchSecret(h, phone, fresh)).status).toBe(200);
    expect(refused(await fetchSecret(h, phone, BOOT)).status).toBe(401);
    // The reset endpoint needs the admin token.
    const noToken = await fetch(`${h.base}/api/v1/phones/${phone.mac}/reset-enrolment`, { method: 'POST' });
    expect(noToken.status).toBe(401);

    // Every secret file served is audited; failures too.
    const audit = (await h.api('GET', `/api/v1/audit?phone=${phone.mac}&limit=200`)).json as { events: { kind: string; detail: Record<string, unknown> }[] };
    const served = audit.events.filter((e) => e.kind === 'secret-served');
    expect(served.length).toBeGreaterThanOrEqual(4);
    expect(served[0]?.detail).toMatchObject({ ip: '127.0.0.1', revision: expect.any(Number) });
    expect(audit.events.some((e) => e.kind === 'auth-failure')).toBe(true);

    // No refusal carried a secret (SIP passwords, PINs, either provisioning password).
    const ownPass = own.split(':')[1] ?? '';
    const freshPass = fresh.split(':')[1] ?? '';
    for (const r of refusals) {
      expect(r.status).not.toBe(200);
      expect(secretsIn(r.text + r.headers, [ownPass, freshPass])).toEqual([]);
    }
  });
});

describe('the phone\u2019s action-URL token', () => {
  it('is only in the phone\u2019s own secret file: shared files are served without credentials and never carry it', async () => {
    const h = await harness();
    const files: Array<[DemoPhone, string]> = [
      [yealink, 'y000000000108.cfg'],
      [snom, 'snomD785.htm'],
      [poly, '0004f2aabb03-site.cfg'],
    ];
    for (const [phone, file] of files) {
      const token = h.agent.sqlite.phoneRuntime(phone.mac)?.screenToken ?? '';
      expect(token.length).toBeGreaterThan(8);
      const anon = await curl(`${h.base}/${file}`, { userAgent: phone.userAgent });
      expect(anon.status, file).toBe(200);
      expect(anon.text, file).not.toContain(token);
      expect(secretsIn(anon.text)).toEqual([]);
      const own = await curl(`${h.base}/${phone.secretFile}`, { userAgent: phone.userAgent, digest: BOOT });
      expect(own.status, phone.secretFile).toBe(200);
      expect(own.text, phone.secretFile).toContain(token);
    }
  });
});

describe('MAC in path vs User-Agent', () => {
  it('a disagreement is 403 mac-mismatch even with valid credentials; agreement in any spelling is served', async () => {
    const h = await harness();
    const cases: Array<[string, string]> = [
      ['001565aabb01.cfg', 'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:09'],
      ['001565aabb01.cfg', 'Yealink SIP-T56A  58.80.0.25 001565aabb09'],
      ['001565aabb01.boot', 'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:09'],
      ['snomD785-000413AABB02.htm', 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413AABB99 SXM:0 UXM:0)'],
    ];
    for (const [file, ua] of cases) {
      const r = await curl(`${h.base}/${file}`, { userAgent: ua, digest: BOOT });
      expect(r.status, `${file} ${ua}`).toBe(403);
      expect(code(r)).toBe('mac-mismatch');
      expect(secretsIn(r.text)).toEqual([]);
    }
    expect((await curl(`${h.base}/001565aabb01.cfg`, { userAgent: 'Yealink SIP-T46U 108.86.0.45 00:15:65:AA:BB:01', digest: BOOT })).status).toBe(200);
    expect((await curl(`${h.base}/snomd785-000413aabb02.htm`, { userAgent: snom.userAgent, digest: BOOT })).status).toBe(200);
  });
});

describe('per-source rate limit', () => {
  it('many failures from one address -> 429 for that address only; the agent keeps serving others', async () => {
    const h = await harness();
    // Warm up: a good fetch works.
    expect((await h.fetchAs(yealink)).status).toBe(200);
    // Wrong passwords and MAC mismatches count (20 per minute by default).
    for (let i = 0; i < 10; i++) expect((await fetchSecret(h, yealink, `bootstrap:guess-${i}`)).status).toBe(401);
    let last: CurlResult | null = null;
    for (let i = 0; i < 12; i++) {
      last = await curl(`${h.base}/001565aabb01.cfg`, { userAgent: 'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:09', digest: BOOT });
      if (last.status === 429) break;
    }
    expect(last?.status).toBe(429);
    // Blocked now: even the right credential and non-secret files.
    const blocked = await curl(`${h.base}/${yealink.secretFile}`, { userAgent: yealink.userAgent, digest: BOOT });
    expect(blocked.status).toBe(429);
    expect(code(blocked)).toBe('rate-limited');
    expect(secretsIn(blocked.text)).toEqual([]);
    expect((await curl(`${h.base}/001565aabb01.boot`, { userAgent: yealink.userAgent })).status).toBe(429);
    // Another source address (127.0.0.2 on loopback) is not affected.
    const elsewhere = await curl(`${h.base}/${yealink.secretFile}`, { userAgent: yealink.userAgent, digest: BOOT, from: '127.0.0.2' });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.text).toContain('static.auto_provision.server.username');
  });

  it('unknown MACs count when auto-enrolment is off', async () => {
    const dataDir = await demoDataDirWith((y) => y.replace(/autoEnrol: true/, 'autoEnrol: false'));
    const h = await harness({ dataDir });
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const mac = `001565ee${i.toString(16).padStart(4, '0')}`;
      statuses.push((await curl(`${h.base}/${mac}.boot`, { userAgent: `Yealink SIP-T46U 108.86.0.45 ${mac}` })).status);
    }
    expect(statuses.slice(0, 19).every((s) => s === 404)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    expect((await curl(`${h.base}/001565aabb01.boot`, { userAgent: yealink.userAgent, from: '127.0.0.2' })).status).toBe(200);
  });

  it('a booting Poly asking for files the agent does not render (<mac>-directory.xml ...) gets 404 without being rate-limited', async () => {
    const h = await harness();
    const names = ['0004f2aabb03-directory.xml', '0004f2aabb03-calls.xml', '0004f2aabb03-phone.cfg', '0004f2aabb03-web.cfg', '0004f2aabb03-app.log'];
    // Far more than the failure budget (20): several boots of one phone.
    for (let boot = 0; boot < 5; boot++) {
      expect((await curl(`${h.base}/0004f2aabb03.cfg`, { userAgent: poly.userAgent })).status).toBe(200);
      for (const name of names) {
        const r = await curl(`${h.base}/${name}`, { userAgent: poly.userAgent });
        expect(r.status, `${boot} ${name}`).toBe(404);
        expect(code(r)).toBe('unknown-file');
      }
      expect((await fetchSecret(h, poly, BOOT)).status).toBe(200);
    }
    // A Snom asking for a firmware file the site does not configure: the same rule.
    for (let i = 0; i < 21; i++) expect((await curl(`${h.base}/snomD785-firmware.xml`, { userAgent: snom.userAgent })).status).toBe(404);
    expect((await fetchSecret(h, snom, BOOT)).status).toBe(200);
    // Generic names without any MAC that are no common file (no User-Agent to tell the phone): 404, nothing guessed, not counted.
    for (let i = 0; i < 21; i++) expect((await curl(`${h.base}/y000000000999.cfg`)).status).toBe(404);
    expect((await fetchSecret(h, yealink, BOOT)).status).toBe(200);
  });
});

describe('secrets never logged', () => {
  it('a debug log through login, fetches with credentials and refusals holds no secret', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
    const h = await harness({ log, tftpPort: 0 });
    const creds: string[] = [];
    for (const phone of [yealink, snom, poly]) {
      const first = await fetchSecret(h, phone, BOOT);
      expect(first.status).toBe(200);
      const own = ownCredentialIn(phone, first.text);
      creds.push(own.split(':')[1] ?? '');
      expect((await fetchSecret(h, phone, own)).status).toBe(200);
      expect((await fetchSecret(h, phone, BOOT)).status).toBe(401);
      expect((await fetchSecret(h, phone, 'bootstrap:not-the-password')).status).toBe(401);
    }
    // Log in by feature code (PIN in the digits), a wrong PIN, then fetch the file with the SIP password.
    expect((await h.api('POST', '/api/v1/pbx/dial', { mac: yealink.mac, digits: '*35*001*1234' })).json).toMatchObject({ outcome: 'logged-in' });
    expect((await h.api('POST', '/api/v1/pbx/dial', { mac: snom.mac, digits: '*35*101*9999' })).json).toMatchObject({ outcome: 'wrong-pin' });
    const withLine = await fetchSecret(h, yealink, ownOf(h, yealink));
    expect(withLine.text).toContain('reception-secret');
    // The phone dials the hot-desk code itself: the Yealink action URL (in its own file) carries the PIN in `remote`.
    const action = /^action_url\.outgoing_call = (\S+)$/m.exec(withLine.text)?.[1];
    expect(action).toBeDefined();
    const actionUrl = (action ?? '').replace('$mac', yealink.mac).replace('$remote', encodeURIComponent('sip:*35*101*4321@127.0.0.1'));
    expect((await fetch(actionUrl)).status).toBe(200);
    // TFTP: a served file and a refused secret file are logged too.
    const dir = tempDir();
    const tftpPort = h.agent.tftpPort ?? 0;
    await tftpHpaGet(tftpPort, '001565aabb01.boot', path.join(dir, 'boot'));
    await tftpHpaGet(tftpPort, yealink.secretFile, path.join(dir, 'cfg'));
    expect(written(path.join(dir, 'boot'))).not.toBeNull();
    expect(written(path.join(dir, 'cfg'))).toBeNull();
    const text = lines.join('\n');
    expect(text).toContain('provisioning refused');
    expect(secretsIn(text, creds)).toEqual([]);
    const token = h.agent.sqlite.phoneRuntime(yealink.mac)?.screenToken ?? '';
    expect(token.length).toBeGreaterThan(8);
    expect(text).not.toContain(token);
    expect(text).not.toContain('9999');
  });
});

/** The phone's own `user:password`, read from the store through the API-less runtime. */
function ownOf(h: Harness, phone: DemoPhone): string {
  const rt = h.agent.sqlite.phoneRuntime(phone.mac);
  if (!rt) throw new Error('no runtime');
  return `${rt.provUsername}:${rt.provPassword}`;
}
