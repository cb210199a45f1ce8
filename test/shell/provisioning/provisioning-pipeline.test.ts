/**
 * The provisioning pipeline on its own (docs/behaviour.md §10, §11): the real
 * pipeline over a real SQLite store holding the demo office, the real drivers
 * and firmware profiles, an injected clock, no HTTP and no TFTP. Every refusal
 * is checked by its catalog code, every acceptance by what it did to the store.
 *
 * The digest check itself (nonces, replay, stale) is tested in
 * http-digest-auth.test.ts and end to end in test/e2e; here the protocol
 * shell's `authenticate` callback is a fake that compares the one credential
 * "presented" with the ones the pipeline says it accepts, and records what
 * the pipeline offered it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import { FailureLimiter } from '../../../agent/shell/http/rate-limiter.js';
import { agentUrls } from '../../../agent/shell/provisioning/agent-urls.js';
import {
  ProvisioningPipeline,
  type AcceptedCredential,
  type AuthCheck,
  type FileRequest,
  type ServedFile,
} from '../../../agent/shell/provisioning/provisioning-pipeline.js';
import { sqliteStore } from '../../../agent/store/sqlite-store.js';
import type { Store } from '../../../agent/store/store.js';
import { loadFirmwareProfiles } from '../../../agent/vendors/firmware-profile.js';
import { createDrivers } from '../../../agent/vendors/registry.js';
import { demoStore, POLY, SNOM, YEALINK } from '../../store/helpers.js';

const T0 = 1_700_000_000_000;
const BASE = 'http://10.0.0.1:8080';
const PHONE_IP = '10.0.0.21';
const BOOTSTRAP = { username: 'bootstrap', password: 'hotdesk-demo' };
const YEALINK_UA = 'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:01';
const SNOM_UA = 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413AABB02 SXM:0 UXM:0)';
const POLY_UA = 'FileTransport PolycomVVX-VVX_450-UA/6.4.0.0000 Type/Application';

// Loaded once: the pipeline only reads them.
const profiles = loadFirmwareProfiles();
const drivers = createDrivers({ profiles });

let store: Store;
let cleanup: () => void;
let now: number;

beforeEach(async () => {
  now = T0;
  ({ store, cleanup } = await demoStore(T0));
});
afterEach(() => {
  cleanup();
});

function pipeline(o: { limiter?: FailureLimiter } = {}): ProvisioningPipeline {
  return new ProvisioningPipeline({
    store: sqliteStore(store),
    drivers,
    profiles,
    clock: () => now,
    ...(o.limiter ? { limiter: o.limiter } : {}),
    urls: (phone, token) => agentUrls(BASE, phone, token, profiles.find(phone.vendor, phone.model)?.firmware?.file),
  });
}

/** A fake `authenticate`: the requester presents `cred` (or nothing); `offered` collects what the pipeline accepted. */
function presenting(cred: { username: string; password: string } | null, offered: Array<readonly AcceptedCredential[]> = []): AuthCheck {
  return (accepted) => {
    offered.push(accepted);
    if (!cred) return { status: 'missing' };
    const match = accepted.find((a) => a.username === cred.username && a.password === cred.password);
    return match ? { status: 'ok', kind: match.kind } : { status: 'bad' };
  };
}

function http(path: string, o: { ua?: string; ip?: string; auth?: AuthCheck } = {}): FileRequest {
  return {
    protocol: 'http',
    path,
    remoteAddress: o.ip ?? PHONE_IP,
    ...(o.ua !== undefined ? { userAgent: o.ua } : {}),
    ...(o.auth ? { authenticate: o.auth } : {}),
  };
}

function tftp(path: string, ip = PHONE_IP): FileRequest {
  return { protocol: 'tftp', path, remoteAddress: ip };
}

/** The catalog code `fn` rejects with (fails the test when it resolves or rejects with something else). */
async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (isHotdeskError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a refusal, the request was served');
}

function runtime(mac: string) {
  const rt = store.phoneRuntime(mac);
  if (!rt) throw new Error(`no runtime for ${mac}`);
  return rt;
}

function own(mac: string): { username: string; password: string } {
  const rt = runtime(mac);
  return { username: rt.provUsername, password: rt.provPassword };
}

function editProvisioning(change: Partial<ReturnType<Store['getSite']>['provisioning']>): void {
  const site = store.getSite();
  store.putSite({ ...site, provisioning: { ...site.provisioning, ...change } }, now);
}

function auditKinds(): string[] {
  return store.queryAudit({}).map((e) => e.kind);
}

describe('path sanitising and identification', () => {
  it('refuses traversal in every spelling as path-traversal, over HTTP and TFTP, and counts nothing as served', async () => {
    const p = pipeline();
    for (const path of ['/../001565aabb01.cfg', '/%2e%2e/001565aabb01.cfg', '/..%2f..%2fetc%2fpasswd', '/..%5c001565aabb01.cfg']) {
      expect(await codeOf(() => p.serve(http(path, { ua: YEALINK_UA }))), path).toBe('path-traversal');
    }
    expect(await codeOf(() => p.serve(tftp('../001565aabb01.cfg')))).toBe('path-traversal');
    expect(await codeOf(() => p.serve(tftp('..\\..\\001565aabb01.cfg')))).toBe('path-traversal');
    expect(p.cacheStats.entries).toBe(0);
    expect(runtime(YEALINK).lastIp).toBeNull();
  });

  it('answers unknown-file for names no driver claims and for another vendor\u2019s file of a known phone', async () => {
    const p = pipeline();
    expect(await codeOf(() => p.serve(http('/index.html', { ua: YEALINK_UA })))).toBe('unknown-file');
    expect(await codeOf(() => p.serve(http('/001565aabb01.xml', { ua: YEALINK_UA })))).toBe('unknown-file');
    // A Poly name for a MAC the directory lists as Yealink.
    expect(await codeOf(() => p.serve(http(`/${YEALINK}-hotdesk.cfg`, { ua: POLY_UA, auth: presenting(BOOTSTRAP) })))).toBe('unknown-file');
    expect(p.cacheStats.entries).toBe(0);
  });

  it('refuses a MAC in the path that disagrees with the MAC in the User-Agent (mac-mismatch)', async () => {
    const p = pipeline();
    const otherUa = 'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:09';
    expect(await codeOf(() => p.serve(http('/001565aabb01.boot', { ua: otherUa })))).toBe('mac-mismatch');
    expect(await codeOf(() => p.serve(http('/001565aabb01.cfg', { ua: otherUa, auth: presenting(BOOTSTRAP) })))).toBe('mac-mismatch');
    // Neither phone was recorded as seen.
    expect(runtime(YEALINK).lastIp).toBeNull();
    expect(runtime('001565aabb09').lastIp).toBeNull();
  });

  it('refuses a source outside allowedNetworks (forbidden-source) before looking at the name', async () => {
    editProvisioning({ allowedNetworks: ['10.0.0.0/24'] });
    const p = pipeline();
    expect(await codeOf(() => p.serve(http('/001565aabb01.boot', { ua: YEALINK_UA, ip: '192.168.7.7' })))).toBe('forbidden-source');
    expect(await codeOf(() => p.serve(http('/../x', { ip: '192.168.7.7' })))).toBe('forbidden-source');
    expect((await p.serve(http('/001565aabb01.boot', { ua: YEALINK_UA }))).mac).toBe(YEALINK);
  });
});

describe('a known phone', () => {
  it('gets its public file without credentials; the pipeline never asks', async () => {
    const p = pipeline();
    const offered: Array<readonly AcceptedCredential[]> = [];
    const served = await p.serve(http('/001565aabb01.boot', { ua: YEALINK_UA, auth: presenting(null, offered) }));
    expect(served).toMatchObject({ mac: YEALINK, vendor: 'yealink' });
    expect(served.file.secret).toBe(false);
    expect(served.body.toString()).toContain('001565aabb01.cfg');
    expect(offered).toHaveLength(0);
    // Poly master and Snom model file too.
    expect((await p.serve(http(`/${POLY}.cfg`, { ua: POLY_UA }))).file.secret).toBe(false);
    expect((await p.serve(http('/snomD785.htm', { ua: SNOM_UA }))).file.secret).toBe(false);
  });

  it.each([
    { vendor: 'yealink', mac: YEALINK, file: '/001565aabb01.cfg', ua: YEALINK_UA },
    { vendor: 'snom', mac: SNOM, file: '/snomD785-000413AABB02.htm', ua: SNOM_UA },
    { vendor: 'poly', mac: POLY, file: `/${POLY}-hotdesk.cfg`, ua: POLY_UA },
  ])('$vendor: secret file needs credentials; bootstrap before enrolment, own after, bootstrap refused then', async ({ mac, file, ua }) => {
    const p = pipeline();
    // No credentials at all (no authenticate callback, or nothing presented): a challenge, nothing rendered.
    expect(await codeOf(() => p.serve(http(file, { ua })))).toBe('auth-required');
    expect(await codeOf(() => p.serve(http(file, { ua, auth: presenting(null) })))).toBe('auth-required');
    expect(p.cacheStats.entries).toBe(0);

    // Before the phone used its own credential, both are accepted.
    const offered: Array<readonly AcceptedCredential[]> = [];
    const first = await p.serve(http(file, { ua, auth: presenting(BOOTSTRAP, offered) }));
    expect(first.file.secret).toBe(true);
    expect(offered.at(-1)?.map((a) => a.kind)).toEqual(['own', 'bootstrap']);
    const cred = own(mac);
    // The file installs the phone's own credential.
    expect(first.body.toString()).toContain(cred.username);
    expect(first.body.toString()).toContain(cred.password);
    expect(runtime(mac).ownCredentialUsed).toBe(false);

    // The own credential works and retires the bootstrap one for this phone.
    expect((await p.serve(http(file, { ua, auth: presenting(cred) }))).file.secret).toBe(true);
    expect(runtime(mac).ownCredentialUsed).toBe(true);
    const after: Array<readonly AcceptedCredential[]> = [];
    expect(await codeOf(() => p.serve(http(file, { ua, auth: presenting(BOOTSTRAP, after) })))).toBe('auth-failed');
    expect(after.at(-1)?.map((a) => a.kind)).toEqual(['own']);
    expect(auditKinds()).toContain('auth-failure');
    // Still served with the own credential.
    expect((await p.serve(http(file, { ua, auth: presenting(cred) }))).mac).toBe(mac);
    expect(await codeOf(() => p.serve(http(file, { ua, auth: presenting({ username: cred.username, password: 'wrong' }) })))).toBe('auth-failed');
  });

  it('audits every secret served (never the body)', async () => {
    const p = pipeline();
    await p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, auth: presenting(BOOTSTRAP) }));
    const served = store.queryAudit({ kinds: ['secret-served'] });
    expect(served).toHaveLength(1);
    expect(served[0]).toMatchObject({ phone: YEALINK, detail: { ip: PHONE_IP, file: '001565aabb01.cfg', protocol: 'http' } });
    expect(JSON.stringify(served)).not.toContain(own(YEALINK).password);
  });
});

describe('an unknown MAC', () => {
  const mac = '001565ccdd01';
  const ua = 'Yealink SIP-T46U 108.86.0.45 00:15:65:cc:dd:01';

  it('is not enrolled without the bootstrap credential, and nothing is rendered', async () => {
    const p = pipeline();
    expect(await codeOf(() => p.serve(http(`/${mac}.cfg`, { ua })))).toBe('unknown-phone');
    expect(await codeOf(() => p.serve(http(`/${mac}.cfg`, { ua, auth: presenting(null) })))).toBe('auth-required');
    expect(await codeOf(() => p.serve(http(`/${mac}.cfg`, { ua, auth: presenting({ username: 'bootstrap', password: 'guess' }) })))).toBe('auth-failed');
    // A public file never enrols, even with the right credential.
    expect(await codeOf(() => p.serve(http(`/${mac}.boot`, { ua, auth: presenting(BOOTSTRAP) })))).toBe('unknown-phone');
    // Nor does TFTP (no credentials there).
    expect(await codeOf(() => p.serve(tftp(`${mac}.cfg`)))).toBe('unknown-phone');
    expect(store.getPhone(mac)).toBeUndefined();
    expect(p.cacheStats.entries).toBe(0);
    expect(auditKinds()).not.toContain('enrolment');
    // No sightings unless the site asks for them.
    expect(store.listSightings()).toEqual([]);
  });

  it('is enrolled by a fetch of its secret file with the bootstrap credential', async () => {
    const p = pipeline();
    const served = await p.serve(http(`/${mac}.cfg`, { ua, auth: presenting(BOOTSTRAP) }));
    expect(served).toMatchObject({ mac, vendor: 'yealink' });
    expect(served.file.secret).toBe(true);
    expect(store.getPhone(mac)).toMatchObject({ mac, vendor: 'yealink', model: 'T46U', hotdesk: true });
    expect(runtime(mac).enrolledVia).toBe('auto');
    expect(runtime(mac).notifyIp).toBe(PHONE_IP);
    expect(store.queryAudit({ kinds: ['enrolment'] })).toMatchObject([{ phone: mac, detail: { vendor: 'yealink', model: 'T46U' } }]);
    expect(served.body.toString()).toContain(runtime(mac).provPassword);
    expect(p.cacheStats.entries).toBe(1);
    // From now on it is a known phone: its public file needs nothing.
    expect((await p.serve(http(`/${mac}.boot`, { ua }))).mac).toBe(mac);
  });

  it('is not enrolled when the site has autoEnrol off, even with the bootstrap credential', async () => {
    editProvisioning({ autoEnrol: false });
    const p = pipeline();
    expect(await codeOf(() => p.serve(http(`/${mac}.cfg`, { ua, auth: presenting(BOOTSTRAP) })))).toBe('unknown-phone');
    expect(store.getPhone(mac)).toBeUndefined();
  });

  it('with anonymousEnrolment is recorded as a quarantined sighting, capped per source', async () => {
    editProvisioning({ anonymousEnrolment: true });
    // A generous failure limit: this test is about the sighting cap, not the limiter.
    const p = pipeline({ limiter: new FailureLimiter({ maxFailures: 1_000, windowMs: 60_000, blockMs: 300_000 }) });
    const macs = Array.from({ length: 18 }, (_, i) => `001565ee${i.toString(16).padStart(4, '0')}`);
    for (const m of macs) {
      const colons = m.match(/../g)?.join(':') ?? m;
      expect(await codeOf(() => p.serve(http(`/${m}.boot`, { ua: `Yealink SIP-T46U 108.86.0.45 ${colons}`, ip: '10.0.0.66' })))).toBe('unknown-phone');
    }
    const seen = store.listSightings();
    // 16 per source (DEFAULT_SIGHTING_CAPS.perSource): a sender cannot grow the table at will.
    expect(seen).toHaveLength(16);
    expect(seen.every((s) => s.ip === '10.0.0.66' && s.via === 'http' && s.vendor === 'yealink' && s.model === 'T46U')).toBe(true);
    // A repeat is counted on the existing row; another source still gets in.
    expect(await codeOf(() => p.serve(http(`/${macs[0]}.boot`, { ua: `Yealink SIP-T46U 108.86.0.45 ${macs[0]}`, ip: '10.0.0.66' })))).toBe('unknown-phone');
    expect(store.listSightings().find((s) => s.mac === macs[0])?.count).toBe(2);
    expect(await codeOf(() => p.serve(http(`/${mac}.cfg`, { ua, ip: '10.0.0.67', auth: presenting(null) })))).toBe('auth-required');
    expect(store.listSightings().find((s) => s.mac === mac)).toMatchObject({ ip: '10.0.0.67', via: 'http' });
    // A sighting is not an enrolment.
    expect(store.getPhone(mac)).toBeUndefined();
    expect(p.cacheStats.entries).toBe(0);
  });

  it('with anonymousEnrolment, a TFTP first contact is a sighting too; an unprofiled model is not', async () => {
    editProvisioning({ anonymousEnrolment: true });
    const p = pipeline();
    // TFTP has no User-Agent: no model, so nothing to quarantine.
    expect(await codeOf(() => p.serve(tftp(`${mac}.boot`)))).toBe('unknown-phone');
    expect(await codeOf(() => p.serve(http('/001565ccdd02.boot', { ua: 'Yealink SIP-X99Z 1.2.3.4 00:15:65:cc:dd:02' })))).toBe('unknown-phone');
    expect(store.listSightings()).toEqual([]);
  });
});

describe('what a fetch records', () => {
  it('an unauthenticated fetch sets lastIp only; an authenticated secret fetch sets notifyIp', async () => {
    const p = pipeline();
    await p.serve(http('/001565aabb01.boot', { ua: YEALINK_UA, ip: '10.0.0.31' }));
    expect(runtime(YEALINK)).toMatchObject({ lastIp: '10.0.0.31', notifyIp: null, lastFirmware: '108.86.0.45', lastFile: '001565aabb01.boot' });
    // A refused secret fetch records nothing.
    expect(await codeOf(() => p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, ip: '10.0.0.32' })))).toBe('auth-required');
    expect(runtime(YEALINK).lastIp).toBe('10.0.0.31');

    await p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, ip: '10.0.0.33', auth: presenting(BOOTSTRAP) }));
    expect(runtime(YEALINK)).toMatchObject({ lastIp: '10.0.0.33', notifyIp: '10.0.0.33' });
    // Someone else asking for the public file moves lastIp, never where NOTIFYs go.
    await p.serve(http('/001565aabb01.boot', { ua: YEALINK_UA, ip: '10.0.0.99' }));
    expect(runtime(YEALINK)).toMatchObject({ lastIp: '10.0.0.99', notifyIp: '10.0.0.33' });
  });

  it('an authenticated fetch of the secret file with the pending revision confirms the sync', async () => {
    const p = pipeline();
    // The first authenticated fetch confirms the revision the import left pending.
    await p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, auth: presenting(BOOTSTRAP) }));
    expect(runtime(YEALINK).sync.state).toBe('synced');
    const baseline = store.queryAudit({}).at(-1)?.id ?? 0;
    now += 60_000;
    const revision = store.bumpRevision(YEALINK, now);
    expect(runtime(YEALINK).sync).toMatchObject({ state: 'pending', revision });

    // The public file does not carry the revision: nothing confirmed.
    expect((await p.serve(http('/001565aabb01.boot', { ua: YEALINK_UA }))).syncConfirmed).toBeUndefined();
    expect(runtime(YEALINK).sync.state).toBe('pending');

    now += 2_500;
    const served = await p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, auth: presenting(own(YEALINK)) }));
    expect(served.body.toString()).toContain(`hotdesk revision ${revision}`);
    expect(served.syncConfirmed).toEqual({ elapsedMs: 2_500 });
    expect(runtime(YEALINK).sync).toMatchObject({ state: 'synced', revision, confirmedAt: now, elapsedMs: 2_500 });
    expect(store.queryAudit({ kinds: ['sync-confirmed'], afterId: baseline })).toMatchObject([{ phone: YEALINK, detail: { revision, elapsedMs: 2_500 } }]);
    // Fetched again: already synced, nothing more to confirm.
    expect((await p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, auth: presenting(own(YEALINK)) }))).syncConfirmed).toBeUndefined();
  });
});

describe('TFTP', () => {
  it('refuses the secret file (secret-over-tftp) before rendering; public files are served', async () => {
    const p = pipeline();
    expect(await codeOf(() => p.serve(tftp('001565aabb01.cfg')))).toBe('secret-over-tftp');
    expect(await codeOf(() => p.serve(tftp(`${POLY}-hotdesk.cfg`)))).toBe('secret-over-tftp');
    expect(await codeOf(() => p.serve(tftp('snomD785-000413AABB02.htm')))).toBe('secret-over-tftp');
    expect(p.cacheStats.entries).toBe(0);
    expect(runtime(YEALINK).lastIp).toBeNull();
    const boot = await p.serve(tftp('001565aabb01.boot'));
    expect(boot).toMatchObject({ mac: YEALINK, vendor: 'yealink' });
    expect(boot.file.secret).toBe(false);
    expect(runtime(YEALINK)).toMatchObject({ lastIp: PHONE_IP, notifyIp: null });
  });

  it('serves the secret file when the site allows TFTP secrets', async () => {
    editProvisioning({ allowTftpSecrets: true });
    const p = pipeline();
    const served = await p.serve(tftp('001565aabb01.cfg'));
    expect(served.file.secret).toBe(true);
    expect(served.body.toString()).toContain(own(YEALINK).password);
    expect(store.queryAudit({ kinds: ['secret-served'] })).toMatchObject([{ phone: YEALINK, detail: { protocol: 'tftp' } }]);
  });
});

describe('render cache', () => {
  it('a second request is answered from the cache; a revision bump renders anew and replaces it', async () => {
    const p = pipeline();
    const req = http('/001565aabb01.boot', { ua: YEALINK_UA });
    const first = await p.serve(req);
    expect(p.cacheStats.entries).toBe(1);
    expect(p.cacheStats.bytes).toBeGreaterThan(0);
    const second = await p.serve(req);
    // The very object the cache holds, not a re-render of the same text.
    expect(second.file).toBe(first.file);
    expect(second.body.toString()).toBe(first.body.toString());
    expect(p.cacheStats.entries).toBe(1);

    store.bumpRevision(YEALINK, now);
    const third = await p.serve(req);
    expect(third.file).not.toBe(first.file);
    // The new revision replaced the old one: nobody asks for a superseded revision again.
    expect(p.cacheStats.entries).toBe(1);
  });

  it('a cached secret file still needs credentials', async () => {
    const p = pipeline();
    const first = await p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, auth: presenting(BOOTSTRAP) }));
    expect(p.cacheStats.entries).toBe(1);
    expect(await codeOf(() => p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, auth: presenting(null) })))).toBe('auth-required');
    expect(await codeOf(() => p.serve(tftp('001565aabb01.cfg')))).toBe('secret-over-tftp');
    const again = await p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, auth: presenting(BOOTSTRAP) }));
    expect(again.body.toString()).toBe(first.body.toString());
    expect(p.cacheStats.entries).toBe(1);
  });

  it('an admin reset of the enrolment is not answered from the old cache entry', async () => {
    const p = pipeline();
    const before = await p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, auth: presenting(BOOTSTRAP) }));
    const old = own(YEALINK);
    store.resetEnrolment(YEALINK);
    const fresh = own(YEALINK);
    expect(fresh.username).not.toBe(old.username);
    const after = await p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, auth: presenting(BOOTSTRAP) }));
    expect(after.body.toString()).toContain(fresh.password);
    expect(after.body.toString()).not.toContain(old.password);
    expect(after.file).not.toBe(before.file);
  });
});

describe('failure limiter', () => {
  it('blocks a source after repeated failures (rate-limited) while another source is still served', async () => {
    const limiter = new FailureLimiter({ maxFailures: 3, windowMs: 60_000, blockMs: 300_000 });
    const p = pipeline({ limiter });
    const attacker = '10.0.0.66';
    expect(await codeOf(() => p.serve(http('/nothing-here.txt', { ip: attacker })))).toBe('unknown-file');
    expect(await codeOf(() => p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, ip: attacker, auth: presenting({ username: 'x', password: 'y' }) })))).toBe(
      'auth-failed',
    );
    expect(await codeOf(() => p.serve(http('/001565ffff01.boot', { ua: 'Yealink SIP-T46U 108.86.0.45 00:15:65:ff:ff:01', ip: attacker })))).toBe(
      'unknown-phone',
    );
    // Blocked now, even for a request that would be served.
    expect(await codeOf(() => p.serve(http('/001565aabb01.boot', { ua: YEALINK_UA, ip: attacker })))).toBe('rate-limited');
    expect(await codeOf(() => p.serve(http('/y000000000000.boot', { ip: attacker })))).toBe('rate-limited');
    // Another source is unaffected.
    expect((await p.serve(http('/001565aabb01.boot', { ua: YEALINK_UA, ip: '10.0.0.67' }))).mac).toBe(YEALINK);
    // The block ends with its cool-down (injected clock).
    now += 300_001;
    expect((await p.serve(http('/001565aabb01.boot', { ua: YEALINK_UA, ip: attacker }))).mac).toBe(YEALINK);
  });

  it('a credential challenge and a known phone\u2019s unrendered name do not count as failures', async () => {
    const limiter = new FailureLimiter({ maxFailures: 3, windowMs: 60_000, blockMs: 300_000 });
    const p = pipeline({ limiter });
    for (let i = 0; i < 5; i++) {
      expect(await codeOf(() => p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, auth: presenting(null) })))).toBe('auth-required');
      // Poly asks for `<mac>-directory.xml` at every boot: a plain 404.
      expect(await codeOf(() => p.serve(http(`/${POLY}-directory.xml`, { ua: POLY_UA })))).toBe('unknown-file');
    }
    expect(limiter.blocked(PHONE_IP, now)).toBe(false);
    expect((await p.serve(http('/001565aabb01.cfg', { ua: YEALINK_UA, auth: presenting(BOOTSTRAP) }))).mac).toBe(YEALINK);
  });
});

describe('MAC-less common files', () => {
  it('serves y000000000000.boot without a MAC (TFTP, HTTP without User-Agent) and records nothing', async () => {
    const p = pipeline();
    const phonesBefore = store.listPhones().length;
    const results: ServedFile[] = [await p.serve(tftp('y000000000000.boot')), await p.serve(http('/y000000000000.boot'))];
    for (const r of results) {
      expect(r).toMatchObject({ mac: null, vendor: 'yealink' });
      expect(r.file.secret).toBe(false);
      expect(r.body.toString()).toMatch(/^include:config "\$MAC\.cfg"$/m);
      expect(r.body.toString()).not.toContain('/xml/');
    }
    expect(results[0]?.body.toString()).toBe(results[1]?.body.toString());
    expect(await p.serve(tftp('000000000000.cfg'))).toMatchObject({ mac: null, vendor: 'poly' });
    expect(store.listPhones()).toHaveLength(phonesBefore);
    expect(runtime(YEALINK).lastIp).toBeNull();
    expect(p.cacheStats.entries).toBe(0);
  });

  it('an unknown MAC-less name is unknown-phone and does not count as a failure', async () => {
    const limiter = new FailureLimiter({ maxFailures: 2, windowMs: 60_000, blockMs: 300_000 });
    const p = pipeline({ limiter });
    for (let i = 0; i < 3; i++) expect(await codeOf(() => p.serve(tftp('y000000000999.cfg')))).toBe('unknown-phone');
    expect(limiter.blocked(PHONE_IP, now)).toBe(false);
  });
});
