/**
 * Provisioning (docs/behaviour.md §10, §11), HTTP side, against the full running agent on loopback:
 * every vendor's real User-Agent forms (docs/vendors.md) against the
 * right files, Snom names case-insensitive, auto-enrolment on and off,
 * traversal in every spelling (curl --path-as-is and raw request lines),
 * oversized and malformed requests, Poly PUT uploads, firmware over HTTP.
 * After every refusal the agent still serves and no refusal carries a secret.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../cli/cli-harness.js';
import { DEMO_PHONES } from '../helpers/agent-harness.js';
import { curl, demoDataDirWith, ownCredentialIn, rawHttp, secretsIn, tempDir, useHarness } from './provisioning-kit.js';

const BOOT = 'bootstrap:hotdesk-demo';
const { yealink, snom, poly } = DEMO_PHONES;

const harness = useHarness();

interface PhoneJson {
  mac: string;
  vendor: string;
  model: string;
  enrolledVia: string | null;
  lastIp: string | null;
  lastFirmware: string | null;
}

describe('User-Agent forms of every vendor (docs/vendors.md)', () => {
  it('Yealink with colons, without colons (double space), lowercase vendor: boot and secret files', async () => {
    const h = await harness();
    const forms = [
      'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:01',
      'Yealink SIP-T56A  58.80.0.25 001565aabb01',
      'yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:01',
    ];
    for (const ua of forms) {
      // The generic boot file carries no MAC: the MAC comes from the User-Agent.
      const boot = await curl(`${h.base}/y000000000000.boot`, { userAgent: ua });
      expect(boot.status, ua).toBe(200);
      expect(boot.text).toMatch(/^#!version:1\.0\.0\.1/);
      expect(boot.text).toContain('001565aabb01.cfg');
      const own = await curl(`${h.base}/001565aabb01.boot`, { userAgent: ua });
      expect(own.status, ua).toBe(200);
      const secret = await curl(`${h.base}/001565aabb01.cfg`, { userAgent: ua, digest: BOOT });
      expect(secret.status, ua).toBe(200);
      expect(secret.text).toContain('static.auto_provision.server.username');
    }
    const view = (await h.api('GET', `/api/v1/phones/${yealink.mac}`)).json as PhoneJson;
    expect(view.lastIp).toBe('127.0.0.1');
    expect(view.lastFirmware).toBe('108.86.0.45');
  });

  it('Snom with build id, with a (build date) group, without MAC; names case-insensitive', async () => {
    const h = await harness();
    const withBuild = snom.userAgent;
    const withDate = 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 (Feb 18 2020) 000413AABB02 SXM:0 UXM:0)';
    const noBuild = 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.46.16 000413AABB02 SXM:0 UXM:0)';
    for (const ua of [withBuild, withDate, noBuild]) {
      const model = await curl(`${h.base}/snomD785.htm`, { userAgent: ua, digest: BOOT });
      expect(model.status, ua).toBe(200);
      expect(model.text).toContain('<settings');
      for (const name of ['snomD785-000413AABB02.htm', 'snomd785-000413aabb02.htm', 'SNOMD785-000413aabb02.HTM']) {
        const r = await curl(`${h.base}/${name}`, { userAgent: ua, digest: BOOT });
        expect(r.status, `${ua} ${name}`).toBe(200);
        expect(r.text).toContain('<http_client_user');
      }
    }
    // An old Snom sends no MAC: the MAC comes from the path.
    const old = await curl(`${h.base}/snomD785-000413AABB02.htm`, { userAgent: 'Mozilla/4.0 (compatible; snomD785-SIP 8.4.18 1.1.3-s)', digest: BOOT });
    expect(old.status).toBe(200);
    const view = (await h.api('GET', `/api/v1/phones/${snom.mac}`)).json as PhoneJson;
    expect(view.lastFirmware).toBe('8.4.18');
  });

  it('Poly sends no MAC: the MAC comes from the path (master, site and secret files)', async () => {
    const h = await harness();
    for (const ua of [poly.userAgent, 'FileTransport PolycomVVX-VVX_450-UA/5.9.5.0614 Type/BootROM']) {
      const master = await curl(`${h.base}/0004f2aabb03.cfg`, { userAgent: ua });
      expect(master.status, ua).toBe(200);
      expect(master.text).toContain('CONFIG_FILES="[PHONE_MAC_ADDRESS]-hotdesk.cfg');
      expect((await curl(`${h.base}/0004f2aabb03-site.cfg`, { userAgent: ua, digest: BOOT })).status).toBe(200);
      const secret = await curl(`${h.base}/0004f2aabb03-hotdesk.cfg`, { userAgent: ua, digest: BOOT });
      expect(secret.status, ua).toBe(200);
      expect(secret.text).toContain('device.prov.user=');
    }
  });

  it('a phone of one vendor asking for another vendor\u2019s file is refused', async () => {
    const h = await harness();
    // Yealink User-Agent, Poly file: no driver claims it.
    const r = await curl(`${h.base}/0004f2aabb03-hotdesk.cfg`, { userAgent: yealink.userAgent, digest: BOOT });
    expect(r.status).toBe(404);
    expect(secretsIn(r.text)).toEqual([]);
  });
});

describe('enrolment', () => {
  it('an unknown MAC of a known model is auto-enrolled when the site allows it', async () => {
    const h = await harness();
    const mac = '001565ccdd01';
    expect((await h.api('GET', `/api/v1/phones/${mac}`)).status).toBe(404);
    const r = await curl(`${h.base}/${mac}.cfg`, { userAgent: `Yealink SIP-T46U 108.86.0.45 00:15:65:cc:dd:01`, digest: BOOT });
    expect(r.status).toBe(200);
    const view = await h.api('GET', `/api/v1/phones/${mac}`);
    expect(view.status).toBe(200);
    expect(view.json).toMatchObject({ mac, vendor: 'yealink', model: 'T46U', enrolledVia: 'auto', hotdesk: true, user: null });
    const audit = (await h.api('GET', `/api/v1/audit?phone=${mac}`)).json as { events: { kind: string }[] };
    expect(audit.events.map((e) => e.kind)).toContain('enrolment');
  });

  it('with autoEnrol false an unknown MAC gets 404 and is not added; known phones still served', async () => {
    const dataDir = await demoDataDirWith((y) => y.replace(/autoEnrol: true/, 'autoEnrol: false'));
    const h = await harness({ dataDir });
    const mac = '001565ccdd02';
    const r = await curl(`${h.base}/${mac}.cfg`, { userAgent: 'Yealink SIP-T46U 108.86.0.45 00:15:65:cc:dd:02', digest: BOOT });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text)).toMatchObject({ code: 'unknown-phone' });
    const boot = await curl(`${h.base}/${mac}.boot`, { userAgent: 'Yealink SIP-T46U 108.86.0.45 00:15:65:cc:dd:02' });
    expect(boot.status).toBe(404);
    expect((await h.api('GET', `/api/v1/phones/${mac}`)).status).toBe(404);
    expect((await h.fetchAs(yealink)).status).toBe(200);
  });
});

/** Keeps every answer seen in a test, to check them all for leaks at the end. */
function collect(into: { status: number; text: string }[]) {
  return <T extends { status: number; text: string }>(r: T): T => {
    into.push(r);
    return r;
  };
}

describe('traversal, oversized and malformed requests', () => {
  it('refuses every traversal spelling (curl --path-as-is and raw request lines) and leaks nothing', async () => {
    const h = await harness();
    // Something outside the served tree that an attacker would like: a canary in the data dir and /etc/passwd.
    fs.writeFileSync(path.join(h.dataDir, 'canary.txt'), 'CANARY-OUTSIDE-THE-TREE');
    fs.mkdirSync(path.join(h.dataDir, 'firmware'), { recursive: true });
    fs.writeFileSync(path.join(h.dataDir, 'firmware', 'fw.bin'), 'FIRMWARE-OK');
    const seen: { status: number; text: string }[] = [];
    const keep = collect(seen);
    const spellings = [
      '/../canary.txt',
      '/../../../../etc/passwd',
      '/%2e%2e/canary.txt',
      '/%2e%2e%2fcanary.txt',
      '/..%2f..%2f..%2fetc%2fpasswd',
      '/%252e%252e%252fcanary.txt',
      '/..%5ccanary.txt',
      '/..\\canary.txt',
      '/%00001565aabb01.cfg',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
      '/C:/Windows/win.ini',
      '/firmware/../canary.txt',
      '/firmware/..%2fcanary.txt',
      '/firmware/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/firmware/..%5ccanary.txt',
      '/001565aabb01.cfg/../../canary.txt',
      '/./001565aabb01.cfg',
    ];
    for (const p of spellings) {
      const r = keep(await curl(`${h.base}${p}`, { userAgent: yealink.userAgent, digest: BOOT, pathAsIs: true }));
      expect([400, 404], p).toContain(r.status);
    }
    // Raw request lines: what curl will not send.
    const port = h.agent.http.port;
    const raw = [
      'GET ../canary.txt HTTP/1.1',
      'GET ..\\..\\canary.txt HTTP/1.1',
      'GET /..\\..\\canary.txt HTTP/1.1',
      'GET /etc/passwd HTTP/1.1',
      'GET http://127.0.0.1/../../canary.txt HTTP/1.1',
      'GET /firmware/..%2F..%2Fcanary.txt HTTP/1.1',
      'GET /%2E%2E%2F%2E%2E%2Fcanary.txt HTTP/1.1',
      'GET /001565aabb01.cfg%00.txt HTTP/1.1',
      'GET /\u0000canary.txt HTTP/1.1',
    ];
    for (const line of raw) {
      const r = keep(await rawHttp(port, `${line}\r\nHost: x\r\nUser-Agent: ${yealink.userAgent}\r\nConnection: close\r\n\r\n`));
      expect([400, 404], JSON.stringify(line)).toContain(r.status);
    }
    for (const r of seen) {
      expect(r.text).not.toContain('CANARY');
      expect(r.text).not.toMatch(/root:.*:0:0:/);
      expect(r.text).not.toContain('account.1.');
      expect(secretsIn(r.text)).toEqual([]);
    }
    // Firmware and phone files are still served.
    expect((await curl(`${h.base}/firmware/fw.bin`)).text).toBe('FIRMWARE-OK');
    expect((await h.fetchAs(yealink)).status).toBe(200);
  });

  it('answers oversized headers 431, malformed request lines 400, unknown methods 405, and keeps serving', async () => {
    const h = await harness();
    const port = h.agent.http.port;
    const big = await rawHttp(port, `GET /001565aabb01.boot HTTP/1.1\r\nHost: x\r\nX-Fill: ${'a'.repeat(17 * 1024)}\r\nConnection: close\r\n\r\n`);
    expect(big.status).toBe(431);
    const many = await rawHttp(
      port,
      `GET /001565aabb01.boot HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'b'.repeat(60)}\r\n`).join('')}Connection: close\r\n\r\n`,
    );
    expect(many.status).toBe(431);
    for (const bad of [
      'GARBAGE\r\n\r\n',
      'GET\r\n\r\n',
      'GET / HTTP/9.9.9\r\n\r\n',
      '\u0001\u0002\u0003 / HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.1\r\nBad Header Line\r\n\r\n',
    ]) {
      const r = await rawHttp(port, bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
    }
    const del = await curl(`${h.base}/001565aabb01.cfg`, { method: 'DELETE', userAgent: yealink.userAgent });
    expect(del.status).toBe(405);
    const longPath = await curl(`${h.base}/${'a'.repeat(600)}.cfg`, { userAgent: yealink.userAgent });
    expect([400, 404, 414]).toContain(longPath.status);
    const ok = await h.fetchAs(yealink);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('static.auto_provision.server.username');
  });
});

describe('Poly PUT uploads', () => {
  it('stores <mac>-app.log under data/uploads/<mac>/ with digest auth; refuses other names, no auth and oversized bodies', async () => {
    const h = await harness();
    const dir = tempDir();
    const log = path.join(dir, 'app.log');
    const logText = `0101000000|boot  |5|00|Poly log line ${Date.now()}\n`.repeat(50);
    fs.writeFileSync(log, logText);
    const put = (name: string, file: string, creds?: string) =>
      curl(`${h.base}/${name}`, { method: 'PUT', uploadFile: file, userAgent: poly.userAgent, ...(creds !== undefined ? { digest: creds } : {}) });

    // No credentials: 401 with a challenge, nothing stored.
    const anon = await put('0004f2aabb03-app.log', log);
    expect(anon.status).toBe(401);
    expect(anon.headers).toMatch(/WWW-Authenticate: Digest /i);
    const stored = path.join(h.dataDir, 'uploads', poly.mac, '0004f2aabb03-app.log');
    expect(fs.existsSync(stored)).toBe(false);

    const ok = await put('0004f2aabb03-app.log', log, BOOT);
    expect(ok.status).toBe(201);
    expect(fs.readFileSync(stored, 'utf8')).toBe(logText);

    // With the phone's own credential too (after it read it from its file).
    const file = await h.fetchAs(poly);
    const own = ownCredentialIn(poly, file.body);
    const phoneCfg = path.join(dir, 'phone.cfg');
    fs.writeFileSync(phoneCfg, '<PHONE_CONFIG><OVERRIDES up.backlight.idleIntensity="1"/></PHONE_CONFIG>');
    expect((await put('0004f2aabb03-phone.cfg', phoneCfg, own)).status).toBe(201);
    expect(fs.existsSync(path.join(h.dataDir, 'uploads', poly.mac, '0004f2aabb03-phone.cfg'))).toBe(true);

    // Other names: 405 write-refused, nothing written anywhere.
    for (const name of ['0004f2aabb03-hotdesk.cfg', '0004f2aabb03.cfg', 'evil.txt', '..%2fevil.log', '0004f2aabb03-app.log.sh']) {
      const r = await put(name, log, BOOT);
      expect([400, 405], name).toContain(r.status);
      if (r.status === 405) expect(JSON.parse(r.text)).toMatchObject({ code: 'write-refused' });
    }
    expect(fs.existsSync(path.join(h.dataDir, 'evil.txt'))).toBe(false);
    expect(fs.existsSync(path.join(h.dataDir, 'evil.log'))).toBe(false);

    // Oversized upload (limit 1 MiB): 413, nothing stored.
    const big = path.join(dir, 'big.log');
    fs.writeFileSync(big, randomBytes(1024 * 1024 + 10));
    const tooBig = await put('0004f2aabb03-boot.log', big, BOOT);
    expect(tooBig.status).toBe(413);
    expect(fs.existsSync(path.join(h.dataDir, 'uploads', poly.mac, '0004f2aabb03-boot.log'))).toBe(false);
    // An oversized body without Content-Length (chunked) is cut off as well.
    const chunked = await rawHttpChunked(h.agent.http.port, '/0004f2aabb03-boot.log', 1024 * 1024 + 64 * 1024);
    expect([401, 413]).toContain(chunked);

    // Upload for an unknown MAC: refused.
    expect((await put('0004f2ffff99-app.log', log, BOOT)).status).toBe(404);
    // The agent still serves.
    expect((await h.fetchAs(poly)).status).toBe(200);
  });
});

/** PUTs `size` bytes chunked without credentials and returns the status. */
async function rawHttpChunked(port: number, target: string, size: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const parts: Buffer[] = [Buffer.from(`PUT ${target} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`)];
  for (let sent = 0; sent < size; sent += chunk.length) parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  parts.push(Buffer.from('0\r\n\r\n'));
  return (await rawHttp(port, Buffer.concat(parts))).status;
}

describe('firmware over HTTP', () => {
  it('serves <data>/firmware/<name> byte-exact (GET and HEAD), 404 for a missing one', async () => {
    const h = await harness();
    const data = randomBytes(1024 * 1024);
    fs.mkdirSync(path.join(h.dataDir, 'firmware'), { recursive: true });
    fs.writeFileSync(path.join(h.dataDir, 'firmware', 'T46U-108.86.0.45.rom'), data);
    const r = await curl(`${h.base}/firmware/T46U-108.86.0.45.rom`, { userAgent: yealink.userAgent });
    expect(r.status).toBe(200);
    expect(r.body.equals(data)).toBe(true);
    const head = await curl(`${h.base}/firmware/T46U-108.86.0.45.rom`, { method: 'HEAD' });
    expect(head.headers).toMatch(/content-length: 1048576/i);
    expect((await curl(`${h.base}/firmware/missing.rom`)).status).toBe(404);
  });
});

describe('phone files over HTTP', () => {
  it('sends a phone file as rendered, again from the cache, with its length and headers; HEAD the same without body', async () => {
    const h = await harness();
    const url = `${h.base}/${yealink.secretFile}`;
    const first = await curl(url, { userAgent: yealink.userAgent, digest: BOOT });
    const again = await curl(url, { userAgent: yealink.userAgent, digest: BOOT });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    // Several chunks of the render cache, written one after another: the same bytes every time.
    expect(first.body.length).toBeGreaterThan(4 * 1024);
    expect(again.body.equals(first.body)).toBe(true);
    // Byte for byte what `hotdesk render` makes of the same phone: every part, in order.
    await ensureBuilt();
    const rendered = await runCli([
      'render',
      '--phone',
      yealink.mac,
      '--file',
      yealink.secretFile,
      '--data',
      h.dataDir,
      '--base',
      h.base,
      '--sip-port',
      String(h.agent.sipPort),
    ]);
    expect(rendered.code).toBe(0);
    expect(first.body.equals(Buffer.from(rendered.stdout, 'utf8'))).toBe(true);
    for (const r of [first, again]) {
      expect(r.headers).toMatch(new RegExp(`^content-length: ${first.body.length}\\r?$`, 'im'));
      expect(r.headers).toMatch(/^content-type: text\/plain/im);
      expect(r.headers).toMatch(/^cache-control: no-store\r?$/im);
    }
    const head = await curl(url, { userAgent: yealink.userAgent, digest: BOOT, method: 'HEAD' });
    expect(head.status).toBe(200);
    // (curl -I writes the header block where a body would go: no file text may follow it.)
    expect(head.text).not.toContain('static.auto_provision');
    expect(head.headers).toMatch(new RegExp(`^content-length: ${first.body.length}\\r?$`, 'im'));
    // The connection is still good for the next request after the corked write.
    expect((await curl(`${h.base}/${yealink.mac}.boot`, { userAgent: yealink.userAgent })).status).toBe(200);
  });
});
