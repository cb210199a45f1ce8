import dgram from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEMPLATES_DIR } from '../../agent/paths.js';
import { afterEach, describe, expect, it } from 'vitest';
import { doctorCommand } from '../../agent/cli/doctor-command.js';
import type { Io } from '../../agent/cli/cli-kit.js';
import { buildResponseTo, parseSipMessage } from '../../agent/protocols/sip-message.js';
import { DEMO_PHONES, startHarness, type Harness } from '../helpers/agent-harness.js';
import { closedUdpPort } from './ops-fixtures.js';

let h: Harness | null = null;
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  await h?.stop();
  h = null;
  for (const s of sockets.splice(0)) s.close();
});

function captureIo(): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    env: {},
    cwd: process.cwd(),
    stdout: () => out,
    stderr: () => err,
  };
}

interface Report {
  ok: boolean;
  findings: { check: string; status: string; message: string; items?: string[]; fix?: string }[];
}

async function doctor(dataDir: string, base: string, ...extra: string[]): Promise<{ code: number; report: Report; text: string }> {
  const io = captureIo();
  const code = await doctorCommand.run(['--data', dataDir, '--url', base, '--lan', '127.0.0.1', '--timeout', '2', '--json', ...extra], io);
  const textIo = captureIo();
  await doctorCommand.run(['--data', dataDir, '--url', base, '--lan', '127.0.0.1', '--timeout', '2', ...extra], textIo);
  return { code, report: JSON.parse(io.stdout()) as Report, text: textIo.stdout() };
}

function pointPbxAt(harness: Harness, port: number): void {
  const site = harness.agent.sqlite.getSite();
  harness.agent.sqlite.putSite({ ...site, pbx: { host: '127.0.0.1', port, transport: 'udp' } }, Date.now());
}

/** A tiny registrar stand-in: answers every OPTIONS with 200 OK and a Date header `skewS` seconds off. */
async function optionsResponder(skewS = 0): Promise<number> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  s.on('message', (data, rinfo) => {
    const p = parseSipMessage(data);
    if (!p.ok || p.message.kind !== 'request' || p.message.method !== 'OPTIONS') return;
    const res = buildResponseTo(p.message, {
      status: 200,
      toTag: 'r1',
      headers: [
        { name: 'Date', value: new Date(Date.now() + skewS * 1000).toUTCString() },
        { name: 'Server', value: 'tiny-registrar' },
      ],
    });
    s.send(res, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s.address().port;
}

describe('hotdesk doctor', () => {
  it('reports an unreachable PBX and phones never seen, with the DHCP value they need, and exits 1', async () => {
    h = await startHarness();
    pointPbxAt(h, await closedUdpPort());
    // One phone fetches its file: the other demo phones stay never seen.
    expect((await h.fetchAs(DEMO_PHONES.yealink)).status).toBe(200);
    const { code, report, text } = await doctor(h.dataDir, h.base);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    const by = (c: string) => report.findings.find((f) => f.check === c);
    expect(by('agent')?.status).toBe('ok');
    expect(by('http-port')?.status).toBe('ok');
    expect(by('pbx')).toMatchObject({ status: 'fail' });
    expect(by('pbx')?.message).toMatch(/port is closed/);
    expect(by('pbx')?.fix).toMatch(/site\.pbx/);
    const seen = by('phones-seen');
    expect(seen?.status).toBe('warn');
    expect(seen?.items?.some((i) => i.startsWith(DEMO_PHONES.snom.mac) && i.includes(`DHCP option 66 = ${h!.base}/`))).toBe(true);
    expect(seen?.items?.some((i) => i.startsWith(DEMO_PHONES.poly.mac) && i.includes('DHCP option 160'))).toBe(true);
    expect(seen?.items?.some((i) => i.startsWith(DEMO_PHONES.yealink.mac))).toBe(false);
    expect(text).toMatch(/FAIL {2}nothing listens at the PBX registrar/);
    expect(text).toMatch(/fix: /);
    // Doctor never prints secrets.
    expect(JSON.stringify(report) + text).not.toMatch(/hotdesk-demo|reception-secret|demo-token/);
  });

  it('reports the PBX as answering SIP OPTIONS and measures the clock against its Date header', async () => {
    h = await startHarness();
    pointPbxAt(h, await optionsResponder(0));
    const { report } = await doctor(h.dataDir, h.base);
    const pbx = report.findings.find((f) => f.check === 'pbx');
    expect(pbx?.status).toBe('ok');
    expect(pbx?.message).toMatch(/answers SIP OPTIONS \(200 OK/);
    expect(report.findings.find((f) => f.check === 'clock')?.status).toBe('ok');

    pointPbxAt(h, await optionsResponder(-120));
    const skewed = await doctor(h.dataDir, h.base);
    const clock = skewed.report.findings.find((f) => f.check === 'clock');
    expect(clock?.status).toBe('warn');
    expect(clock?.message).toMatch(/ahead of the PBX/);
  });

  it('reports a phone that never fetched its new files, with the last check-sync answer', async () => {
    h = await startHarness({ syncTickMs: 60_000 });
    pointPbxAt(h, await optionsResponder(0));
    const store = h.agent.sqlite;
    const mac = DEMO_PHONES.snom.mac;
    const now = Date.now();
    store.recordFetch(mac, { ip: '192.0.2.77', file: 'snomD785.htm', now: now - 600_000 });
    store.bumpRevision(mac, now - 300_000);
    store.appendAudit({ kind: 'sync-sent', at: now - 290_000, phone: mac, detail: { revision: 2, via: 'sip', status: 'timeout' } });
    store.markUnreachable(mac, now - 10_000);
    const { report } = await doctor(h.dataDir, h.base);
    const sync = report.findings.find((f) => f.check === 'phones-sync');
    expect(sync?.status).toBe('fail');
    const line = sync?.items?.find((i) => i.startsWith(mac));
    expect(line).toMatch(/unreachable since/);
    expect(line).toMatch(/gave up; last check-sync NOTIFY to 192\.0\.2\.77 got no answer/);
  });

  it('names a site template override that no longer renders, and passes a good one', async () => {
    h = await startHarness();
    pointPbxAt(h, await optionsResponder(0));
    const dir = join(h.dataDir, 'templates', 'yealink', 'T46U');
    mkdirSync(dir, { recursive: true });
    const shipped = readFileSync(join(TEMPLATES_DIR, 'yealink', 'common.cfg.liquid'), 'utf8');
    writeFileSync(join(dir, 'common.cfg.liquid'), `${shipped}\n## site: ring tone\nphone_setting.ring_type = Ring3.wav\n`);
    const good = await doctor(h.dataDir, h.base);
    expect(good.report.findings.find((f) => f.check === 'templates')).toMatchObject({ status: 'ok' });

    // A variable the render context does not have: strict variables make the render fail.
    writeFileSync(join(dir, 'common.cfg.liquid'), `${shipped}\nphone_setting.ring_type = {{ site.ringTone }}\n`);
    const bad = await doctor(h.dataDir, h.base);
    const t = bad.report.findings.find((f) => f.check === 'templates');
    expect(t?.status).toBe('fail');
    expect(t?.message).toContain('yealink/T46U/common.cfg.liquid');
    expect(t?.items?.some((i) => i.includes(DEMO_PHONES.yealink.mac))).toBe(true);
    expect(t?.fix).toMatch(/hotdesk render --phone/);
    expect(bad.code).toBe(1);
  });

  it('says when the agent does not answer, and --ready fails after its timeout', async () => {
    h = await startHarness();
    const base = h.base;
    const dir = h.dataDir;
    await h.stop();
    h = null;
    const { code, report } = await doctor(dir, base);
    expect(code).toBe(1);
    expect(report.findings.find((f) => f.check === 'agent')).toMatchObject({ status: 'fail' });
    const io = captureIo();
    expect(await doctorCommand.run(['--ready', '--url', base, '--timeout', '1'], io)).toBe(1);
    expect(io.stderr()).toMatch(/not ready/);
  });
});
