/**
 * Provisioning over TFTP (docs/tftp.md), through the full running agent (harness
 * with `tftpPort: 0`) with Debian's real clients: tftp-hpa and atftp (with
 * and without `blksize 1428` / `tsize 0`). Phone files are byte-exact with
 * what HTTP serves; files with secrets are refused (ERROR 2, nothing written)
 * unless the site sets `allowTftpSecrets: true`; firmware from
 * `<data>/firmware/`; write requests, traversal and garbage datagrams are
 * refused and the agent keeps serving.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_PHONES, startHarness, type Harness } from '../helpers/agent-harness.js';
import {
  atftpGet,
  atftpPut,
  curl,
  demoDataDirWith,
  killChildren,
  removeTempDirs,
  secretsIn,
  tempDir,
  tftpHpaGet,
  tftpHpaPut,
  written,
} from './provisioning-kit.js';
import { loopbackAddresses, stalledRequests } from '../helpers/tftp-raw-client.js';

const BOOT = 'bootstrap:hotdesk-demo';
const { yealink, snom, poly } = DEMO_PHONES;
const ATFTP_OPTIONS = ['blksize 1428', 'tsize 0'];

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  killChildren();
  while (cleanups.length) await cleanups.pop()?.();
  removeTempDirs();
});

async function harness(opts: Parameters<typeof startHarness>[0] = {}): Promise<{ h: Harness; port: number; dir: string }> {
  const h = await startHarness({ tftpPort: 0, ...opts });
  cleanups.push(() => h.stop());
  if (h.agent.tftpPort === null) throw new Error('TFTP did not start');
  return { h, port: h.agent.tftpPort, dir: tempDir('hotdesk-tftp-') };
}

/** Non-secret phone files whose names carry the MAC (TFTP has no User-Agent). */
const PLAIN_FILES: Array<{ file: string; ua: string }> = [
  { file: '001565aabb01.boot', ua: yealink.userAgent },
  { file: '0004f2aabb03.cfg', ua: poly.userAgent },
];

describe('phone files over TFTP', () => {
  it('tftp-hpa and atftp (plain and blksize/tsize) fetch non-secret files byte-exact with HTTP', async () => {
    const { h, port, dir } = await harness();
    for (const { file, ua } of PLAIN_FILES) {
      const viaHttp = await curl(`${h.base}/${file}`, { userAgent: ua });
      expect(viaHttp.status, file).toBe(200);
      expect(viaHttp.body.length).toBeGreaterThan(0);
      const outs = [path.join(dir, `${file}.hpa`), path.join(dir, `${file}.atftp`), path.join(dir, `${file}.atftp-opts`)];
      await tftpHpaGet(port, file, outs[0] ?? '');
      expect((await atftpGet(port, file, outs[1] ?? '')).code, file).toBe(0);
      expect((await atftpGet(port, file, outs[2] ?? '', ATFTP_OPTIONS)).code, file).toBe(0);
      for (const out of outs) expect(written(out)?.equals(viaHttp.body), `${file} ${out}`).toBe(true);
    }
    // A leading slash, as many phones send it, is accepted.
    const slash = path.join(dir, 'slash');
    await tftpHpaGet(port, '/001565aabb01.boot', slash);
    expect(written(slash)).not.toBeNull();
    // The fetch is recorded like an HTTP one.
    const view = (await h.api('GET', `/api/v1/phones/${poly.mac}`)).json as { lastIp: string | null };
    expect(view.lastIp).toBe('127.0.0.1');
  });

  it('refuses files with secrets (and the action-URL token) with ERROR 2 and writes nothing', async () => {
    const { port, dir } = await harness();
    const refused = [yealink.secretFile, snom.secretFile, 'snomd785-000413aabb02.htm', poly.secretFile, '001565aabb09.cfg'];
    for (const file of refused) {
      const hpaOut = path.join(dir, `${file}.hpa`);
      const hpa = await tftpHpaGet(port, file, hpaOut);
      expect(hpa.out, file).toMatch(/Error code 2/);
      expect(written(hpaOut), file).toBeNull();
      const atOut = path.join(dir, `${file}.atftp`);
      const at = await atftpGet(port, file, atOut, ATFTP_OPTIONS);
      expect(at.code, file).not.toBe(0);
      expect(written(atOut), file).toBeNull();
      expect(secretsIn(hpa.out + at.out)).toEqual([]);
    }
    // Poly's site file holds no secret and no token: legacy TFTP phones get it (re-sync without reboot).
    const siteOut = path.join(dir, 'site.cfg.hpa');
    await tftpHpaGet(port, '0004f2aabb03-site.cfg', siteOut);
    const site = written(siteOut);
    expect(site?.toString('utf8')).toContain('checkSync.alwaysReboot="0"');
    expect(secretsIn(site?.toString('utf8') ?? '')).toEqual([]);
    // Unknown names and unknown phones: ERROR 1, nothing written.
    // (y000000000000.boot is a MAC-less common file now: test/e2e/common-files.test.ts.)
    for (const file of ['nothing.cfg', '001565aabb01.xyz', 'y000000000999.cfg', '0004f2aabb03-directory.xml']) {
      const out = path.join(dir, `${file}.none`);
      const r = await tftpHpaGet(port, file, out);
      expect(r.out, file).toMatch(/Error code 1/);
      expect(written(out)).toBeNull();
    }
  });

  it('serves files with secrets byte-exact when the site sets allowTftpSecrets, and audits them', async () => {
    const dataDir = await demoDataDirWith((y) => y.replace(/allowTftpSecrets: false/, 'allowTftpSecrets: true'));
    const { h, port, dir } = await harness({ dataDir });
    for (const phone of [yealink, poly]) {
      const viaHttp = await curl(`${h.base}/${phone.secretFile}`, { userAgent: phone.userAgent, digest: BOOT });
      expect(viaHttp.status).toBe(200);
      const hpaOut = path.join(dir, `${phone.vendor}.hpa`);
      await tftpHpaGet(port, phone.secretFile, hpaOut);
      expect(written(hpaOut)?.equals(viaHttp.body), phone.vendor).toBe(true);
      const atOut = path.join(dir, `${phone.vendor}.atftp`);
      expect((await atftpGet(port, phone.secretFile, atOut, ATFTP_OPTIONS)).code).toBe(0);
      expect(written(atOut)?.equals(viaHttp.body), phone.vendor).toBe(true);
      const audit = (await h.api('GET', `/api/v1/audit?phone=${phone.mac}&kind=secret-served&limit=50`)).json as {
        events: { detail: Record<string, unknown> }[];
      };
      expect(audit.events.some((e) => e.detail['protocol'] === 'tftp' && e.detail['ip'] === '127.0.0.1')).toBe(true);
    }
  });
});

describe('firmware over TFTP and HTTP', () => {
  it('serves a 1 MiB firmware file byte-exact over TFTP (tftp-hpa, atftp plain and blksize 1428) and HTTP', async () => {
    const { h, port, dir } = await harness();
    const data = randomBytes(1024 * 1024);
    fs.mkdirSync(path.join(h.dataDir, 'firmware'), { recursive: true });
    fs.writeFileSync(path.join(h.dataDir, 'firmware', 'sip-6.4.0.bin'), data);
    const opts = path.join(dir, 'fw-opts');
    const r = await atftpGet(port, 'firmware/sip-6.4.0.bin', opts, ATFTP_OPTIONS);
    expect(r.code, r.out).toBe(0);
    expect(written(opts)?.equals(data)).toBe(true);
    const plain = path.join(dir, 'fw-plain');
    expect((await atftpGet(port, '/firmware/sip-6.4.0.bin', plain)).code).toBe(0);
    expect(written(plain)?.equals(data)).toBe(true);
    const hpa = path.join(dir, 'fw-hpa');
    await tftpHpaGet(port, 'firmware/sip-6.4.0.bin', hpa);
    expect(written(hpa)?.equals(data)).toBe(true);
    const viaHttp = await curl(`${h.base}/firmware/sip-6.4.0.bin`);
    expect(viaHttp.status).toBe(200);
    expect(viaHttp.body.equals(data)).toBe(true);
    const missing = path.join(dir, 'fw-missing');
    expect((await tftpHpaGet(port, 'firmware/nope.bin', missing)).out).toMatch(/Error code 1/);
    expect(written(missing)).toBeNull();
  });
});

describe('hostile TFTP traffic', () => {
  it('refuses write requests, traversal and garbage, then still serves; nothing outside leaks', async () => {
    const { h, port, dir } = await harness();
    fs.writeFileSync(path.join(h.dataDir, 'canary.txt'), 'CANARY-OUTSIDE-THE-TREE');
    fs.mkdirSync(path.join(h.dataDir, 'firmware'), { recursive: true });
    const before = new Set(fs.readdirSync(h.dataDir));
    const outputs: string[] = [];

    // Write requests: refused by both clients; nothing appears in the data dir.
    const upload = path.join(dir, 'upload.cfg');
    fs.writeFileSync(upload, 'account.1.password = attacker\n');
    const put1 = await tftpHpaPut(port, upload, '001565aabb01.cfg');
    expect(put1.out).toMatch(/Error code 2/);
    const put2 = await atftpPut(port, upload, 'evil.cfg');
    expect(put2.code).not.toBe(0);
    const put3 = await tftpHpaPut(port, upload, 'firmware/evil.bin');
    expect(put3.out).toMatch(/Error code 2/);
    outputs.push(put1.out, put2.out, put3.out);
    expect(fs.readdirSync(h.dataDir).filter((f) => !before.has(f) && !f.startsWith('hotdesk.'))).toEqual([]);
    expect(fs.readdirSync(path.join(h.dataDir, 'firmware'))).toEqual([]);

    // Traversal in every spelling: an error, nothing written.
    const spellings = [
      '../canary.txt',
      '/../canary.txt',
      '//etc/passwd',
      '/etc/passwd',
      'firmware/../canary.txt',
      'firmware/../../etc/passwd',
      '..%2fcanary.txt',
      '%2e%2e/canary.txt',
      '..\\canary.txt',
      'firmware\\..\\canary.txt',
      'C:/Windows/win.ini',
      'firmware/%2e%2e%2fcanary.txt',
    ];
    for (const [i, p] of spellings.entries()) {
      const out = path.join(dir, `trav-${i}`);
      const r = await tftpHpaGet(port, p, out);
      expect(r.out, p).toMatch(/Error code [12]/);
      expect(written(out), p).toBeNull();
      const out2 = path.join(dir, `trav-a-${i}`);
      const a = await atftpGet(port, p, out2, ATFTP_OPTIONS);
      expect(a.code, p).not.toBe(0);
      expect(written(out2), p).toBeNull();
      outputs.push(r.out, a.out);
    }

    // Garbage datagrams on the listening port.
    const sock = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const replies: Buffer[] = [];
    sock.on('message', (m) => replies.push(m));
    const garbage = [
      Buffer.alloc(0),
      Buffer.from([0]),
      Buffer.from([0, 1]),
      Buffer.from([0, 1, 0x61, 0x62]), // RRQ without terminators
      Buffer.from([0, 9, 1, 2, 3]), // unknown opcode
      Buffer.from([0, 3, 0, 1, 0x41]), // DATA to the listening port
      Buffer.from([0, 4, 0, 1]), // ACK out of nowhere
      Buffer.concat([Buffer.from([0, 1]), Buffer.from('001565aabb01.boot\0octet\0blksize\0'), Buffer.alloc(3)]), // options cut short
      Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(600, 0x41), Buffer.from('\0octet\0')]), // over-long name
      randomBytes(1400),
      ...Array.from({ length: 30 }, () => randomBytes(64)),
    ];
    for (const g of garbage) sock.send(g, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 200));
    // Each reply is at most one datagram per datagram and carries no file content.
    expect(replies.length).toBeLessThanOrEqual(garbage.length);
    for (const r of replies) expect(r.readUInt16BE(0)).toBe(5);
    outputs.push(...replies.map((r) => r.toString('latin1')));

    // Still serving, over TFTP and HTTP.
    const after = path.join(dir, 'after');
    expect((await atftpGet(port, '001565aabb01.boot', after, ATFTP_OPTIONS)).code).toBe(0);
    expect(written(after)?.toString('utf8')).toMatch(/^#!version:1\.0\.0\.1/);
    const hpaAfter = path.join(dir, 'after-hpa');
    await tftpHpaGet(port, '0004f2aabb03.cfg', hpaAfter);
    expect(written(hpaAfter)).not.toBeNull();
    expect((await h.fetchAs(yealink)).status).toBe(200);

    for (const o of outputs) {
      expect(o).not.toContain('CANARY');
      expect(o).not.toMatch(/root:.*:0:0:/);
      expect(secretsIn(o)).toEqual([]);
    }
  });
});

describe('TFTP slot exhaustion against the running agent', () => {
  it('260 never-acknowledged RRQs from 26 addresses: a fresh phone still gets its boot file, the attackers a true busy text', async () => {
    const { h, port, dir } = await harness();
    const stalled = await stalledRequests(port, '001565aabb01.boot', loopbackAddresses(2, 26), 10);
    cleanups.push(() => Promise.all(stalled.map((c) => c.close())).then(() => undefined));
    const firsts = stalled.map((c) => c.received[0]?.packet);
    expect(firsts.filter((p) => p?.op === 'data')).toHaveLength(26 * 4);
    const refusals = firsts.filter((p) => p?.op === 'error');
    expect(refusals).toHaveLength(260 - 26 * 4);
    for (const p of refusals) expect(p).toMatchObject({ code: 0, message: 'busy: too many transfers in progress from this address' });

    const viaHttp = await curl(`${h.base}/001565aabb01.boot`, { userAgent: yealink.userAgent });
    expect(viaHttp.status).toBe(200);
    const hpa = path.join(dir, 'boot.hpa');
    await tftpHpaGet(port, '001565aabb01.boot', hpa);
    expect(written(hpa)?.equals(viaHttp.body)).toBe(true);
    const at = path.join(dir, 'boot.atftp');
    expect((await atftpGet(port, '001565aabb01.boot', at, ATFTP_OPTIONS)).code).toBe(0);
    expect(written(at)?.equals(viaHttp.body)).toBe(true);
  });
});
