/**
 * Discovery end to end (docs/deployment.md): a real agent answers SIP PnP SUBSCRIBEs sent
 * from a real UDP socket (unicast and, where loopback multicast works, to
 * 224.0.1.75), records sightings and auto-enrols known models; the built
 * `hotdesk discover` finds an agent advertising by SSDP (over loopback
 * multicast, and between two network namespaces joined by a veth pair when
 * the test runs as root); `hotdesk serve` stops with a clear message when the
 * PnP port is held by a program that does not share it.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildResponseTo, getHeader, parseSipMessage, type SipMessage, type SipRequest, type SipResponse } from '../../agent/protocols/sip-message.js';
import { demoDataDir, eventually, startHarness, type Harness } from '../helpers/agent-harness.js';
import { ensureBuilt, MAIN, ROOT, runCli } from '../cli/cli-harness.js';
import { curl } from './provisioning-kit.js';
import { pnpSubscribe, uaProfileEvent } from '../helpers/pnp-subscribe.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** A phone: a UDP socket on 127.0.0.1 that queues every SIP message it receives. */
async function phoneSocket(): Promise<{
  port: number;
  socket: dgram.Socket;
  send: (wire: string | Buffer, port: number, host?: string) => void;
  next: (pred: (m: SipMessage) => boolean) => Promise<SipMessage>;
  received: SipMessage[];
}> {
  const s = dgram.createSocket('udp4');
  const received: SipMessage[] = [];
  const queue: SipMessage[] = [];
  const waiters: Array<{ pred: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];
  s.on('message', (msg) => {
    const p = parseSipMessage(msg);
    if (!p.ok) return;
    received.push(p.message);
    const w = waiters.findIndex((x) => x.pred(p.message));
    if (w >= 0) waiters.splice(w, 1)[0]?.resolve(p.message);
    else queue.push(p.message);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return {
    port: s.address().port,
    socket: s,
    received,
    send: (wire, port, host = '127.0.0.1') => s.send(wire, port, host),
    next: (pred) => {
      const i = queue.findIndex(pred);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]!);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

/**
 * The PnP SUBSCRIBE as docs/vendors.md "SIP PnP" documents it (Snom
 * style: `sip:MAC%3a<MAC>@<domain>`, `Event: ua-profile;profile-type="device";vendor;model;version`).
 */
function phoneSubscribe(p: { phonePort: number; mac: string; vendor: string; model: string; version: string; callId: string }): string {
  return pnpSubscribe({
    user: `MAC%3a${p.mac.toUpperCase()}`,
    via: `127.0.0.1:${p.phonePort}`,
    branch: `z9hG4bK-${p.callId}`,
    rport: true,
    maxForwards: 20,
    fromTag: `ph${p.callId}`,
    callId: `${p.callId}@127.0.0.1`,
    contact: `127.0.0.1:${p.phonePort}`,
    event: uaProfileEvent(p),
  });
}

const isResponseTo =
  (callId: string) =>
  (m: SipMessage): m is SipResponse =>
    m.kind === 'response' && getHeader(m, 'Call-ID') === `${callId}@127.0.0.1`;
const isNotifyFor =
  (callId: string) =>
  (m: SipMessage): m is SipRequest =>
    m.kind === 'request' && m.method === 'NOTIFY' && getHeader(m, 'Call-ID') === `${callId}@127.0.0.1`;
const callIdOf = (m: SipMessage): string | undefined => getHeader(m, 'Call-ID');

/** Sends the SUBSCRIBE, expects 200 then the NOTIFY, acknowledges the NOTIFY, returns its body. */
async function pnpRoundTrip(
  phone: Awaited<ReturnType<typeof phoneSocket>>,
  to: { port: number; host?: string },
  p: Omit<Parameters<typeof phoneSubscribe>[0], 'phonePort'>,
): Promise<string> {
  phone.send(phoneSubscribe({ ...p, phonePort: phone.port }), to.port, to.host);
  const ok = (await phone.next(isResponseTo(p.callId))) as SipResponse;
  expect(ok.status).toBe(200);
  expect(getHeader(ok, 'CSeq')).toBe('1 SUBSCRIBE');
  const notify = (await phone.next(isNotifyFor(p.callId))) as SipRequest;
  expect(notify.uri).toBe(`sip:127.0.0.1:${phone.port}`);
  expect(getHeader(notify, 'Content-Type')).toBe('application/url');
  expect(getHeader(notify, 'Event')).toMatch(/^ua-profile;/);
  phone.send(buildResponseTo(notify, { status: 200 }), to.port, to.host);
  return notify.body;
}

/** The provisioning URL the agent advertises in its JSON description. */
async function advertisedProvisioningUrl(h: Harness): Promise<string> {
  const res = await fetch(`${h.base}/.well-known/hotdesk.json`);
  const d = (await res.json()) as { provisioning: string };
  return d.provisioning;
}

/** Does multicast over the loopback interface work here? */
async function probeLoopbackMulticast(group: string): Promise<boolean> {
  const rx = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => rx.bind(0, '0.0.0.0', r));
  const tx = dgram.createSocket('udp4');
  try {
    rx.addMembership(group, '127.0.0.1');
    const got = new Promise<boolean>((resolve) => {
      rx.once('message', () => resolve(true));
      setTimeout(() => resolve(false), 1000);
    });
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', r));
    tx.setMulticastInterface('127.0.0.1');
    tx.send('probe', rx.address().port, group);
    return await got;
  } catch {
    return false;
  } finally {
    tx.close();
    rx.close();
  }
}

let pnpLoopbackMulticast = false;
let ssdpLoopbackMulticast = false;
beforeAll(async () => {
  ensureBuilt();
  pnpLoopbackMulticast = await probeLoopbackMulticast('224.0.1.75');
  ssdpLoopbackMulticast = await probeLoopbackMulticast('239.255.255.250');
  if (!pnpLoopbackMulticast) console.log('SKIP reason: multicast to 224.0.1.75 over 127.0.0.1 does not work on this host (PnP multicast case)');
}, 200_000);

describe('SIP PnP against a running agent', () => {
  let h: Harness;
  beforeAll(async () => {
    // Every simulated phone sends from 127.0.0.1: lift the per-address answer budget meant for one phone.
    h = await startHarness({ pnpPort: 0, pnpMulticast: pnpLoopbackMulticast, pnpLimits: { perSourceBurst: 1000 } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers a Snom SUBSCRIBE for an unknown MAC of a known model with the provisioning URL and a sighting, but enrols nothing until the phone authenticates', async () => {
    const port = h.agent.pnpPort;
    if (port === null) throw new Error('PnP not started');
    const phone = await phoneSocket();
    const mac = '000413c0ffe1';
    expect((await h.api('GET', `/api/v1/phones/${mac}`)).status).toBe(404);

    const url = await pnpRoundTrip(phone, { port }, { mac, vendor: 'snom', model: 'snomD785', version: '10.1.33.33', callId: 'snom1' });
    expect(url).toBe(`${h.base}/`); // Snom's setting_server takes the root (docs/deployment.md)
    expect(url).toBe(await advertisedProvisioningUrl(h));

    // A SUBSCRIBE proves nothing: no phone yet, only a quarantined sighting.
    expect((await h.api('GET', `/api/v1/phones/${mac}`)).status).toBe(404);
    expect(h.agent.sqlite.listSightings()).toEqual(
      expect.arrayContaining([expect.objectContaining({ mac, ip: '127.0.0.1', vendor: 'snom', model: 'snomD785', count: 1, via: 'pnp' })]),
    );
    const audit = h.agent.sqlite.queryAudit({ phone: mac });
    expect(audit.map((e) => e.kind)).toEqual(['pnp-sighting']);
    expect(audit[0]?.detail).toMatchObject({ vendor: 'snom', model: 'snomD785', answered: true });

    // The phone follows the URL: its own file with the site bootstrap credential enrols it.
    const file = await curl(`${url}snomD785-${mac.toUpperCase()}.htm`, {
      digest: 'bootstrap:hotdesk-demo',
      userAgent: 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 1.1.5-IFX-05.01.12)',
    });
    expect(file.status).toBe(200);
    const got = await h.api('GET', `/api/v1/phones/${mac}`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ mac, vendor: 'snom', model: 'D785' });
    expect(h.agent.sqlite.queryAudit({ phone: mac }).map((e) => e.kind)).toContain('enrolment');
  });

  it.each([
    { vendor: 'Yealink', model: 'SIP-T46U', expected: 'T46U', mac: '001565c0ffe2' },
    { vendor: 'yealink', model: 'T46U', expected: 'T46U', mac: '001565c0ffe3' },
    { vendor: 'snom', model: 'D735', expected: 'D735', mac: '000413c0ffe4' },
  ])('maps the PnP model $model ($vendor) to the profile $expected; an admin accepts the sighting', async ({ vendor, model, expected, mac }) => {
    const port = h.agent.pnpPort!;
    const phone = await phoneSocket();
    const url = await pnpRoundTrip(phone, { port }, { mac, vendor, model, version: '1.0', callId: `m${mac}` });
    expect(url).toBe(await advertisedProvisioningUrl(h));
    const listed = (await h.api('GET', '/api/v1/sightings')).json as { sightings: { mac: string; knownModel: string | null }[] };
    expect(listed.sightings.find((x) => x.mac === mac)?.knownModel).toBe(expected);
    const accepted = await h.api('POST', `/api/v1/sightings/${mac}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.json).toMatchObject({ mac, vendor: vendor.toLowerCase(), model: expected });
    expect((await h.api('GET', `/api/v1/phones/${mac}`)).status).toBe(200);
    expect(h.agent.sqlite.listSightings().some((x) => x.mac === mac)).toBe(false);
  });

  it('answers a phone it already knows (demo Yealink) and counts the repeat sighting', async () => {
    const port = h.agent.pnpPort!;
    const phone = await phoneSocket();
    const mac = '001565aabb01';
    await pnpRoundTrip(phone, { port }, { mac, vendor: 'Yealink', model: 'SIP-T46U', version: '108.86.0.45', callId: 'known1' });
    await pnpRoundTrip(phone, { port }, { mac, vendor: 'Yealink', model: 'SIP-T46U', version: '108.86.0.45', callId: 'known2' });
    expect(h.agent.sqlite.listSightings().find((s) => s.mac === mac)?.count).toBe(2);
  });

  it('only records an unknown model or an unknown vendor: no answer, no enrolment', async () => {
    const port = h.agent.pnpPort!;
    const phone = await phoneSocket();
    phone.send(phoneSubscribe({ phonePort: phone.port, mac: '000413c0ffe5', vendor: 'snom', model: 'snomD999', version: '1', callId: 'unk1' }), port);
    phone.send(phoneSubscribe({ phonePort: phone.port, mac: '00a0c0ffee06', vendor: 'Acme', model: 'X1', version: '1', callId: 'unk2' }), port);
    // The responder handles datagrams in order: once this one is answered, the two before it were handled.
    await pnpRoundTrip(phone, { port }, { mac: '000413c0ffe7', vendor: 'snom', model: 'snomD785', version: '1', callId: 'after-unk' });
    expect(phone.received.filter((m) => callIdOf(m)?.startsWith('unk'))).toEqual([]);
    for (const mac of ['000413c0ffe5', '00a0c0ffee06']) {
      expect((await h.api('GET', `/api/v1/phones/${mac}`)).status).toBe(404);
      expect(h.agent.sqlite.listSightings().some((s) => s.mac === mac)).toBe(true);
      expect(h.agent.sqlite.queryAudit({ phone: mac }).map((e) => [e.kind, e.detail?.['answered']])).toEqual([['pnp-sighting', false]]);
    }
  });

  it('garbage datagrams do not stop the responder', async () => {
    const port = h.agent.pnpPort!;
    const phone = await phoneSocket();
    const junk: (string | Buffer)[] = [
      '',
      '\r\n\r\n',
      'hello',
      Buffer.from([0, 0xff, 0xfe, 0x80, 0x0a, 0x0d]),
      'SUBSCRIBE nonsense\r\n\r\n',
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKnothing\r\n\r\n',
      // A ua-profile SUBSCRIBE without a MAC, and one missing its Call-ID.
      phoneSubscribe({ phonePort: phone.port, mac: 'zz', vendor: 'snom', model: 'snomD785', version: '1', callId: 'junk1' }).replace('MAC%3aZZ', 'nobody'),
      phoneSubscribe({ phonePort: phone.port, mac: '000413c0ffe8', vendor: 'snom', model: 'snomD785', version: '1', callId: 'junk2' }).replace(
        /Call-ID: .*\r\n/,
        '',
      ),
      'INVITE sip:x@127.0.0.1 SIP/2.0\r\nContent-Length: 99999\r\n\r\n',
      Buffer.alloc(60_000, 0x41),
    ];
    for (const j of junk) phone.send(j, port);
    const before = await h.api('GET', '/api/v1/phones/000413c0ffe9');
    expect(before.status).toBe(404);
    const url = await pnpRoundTrip(phone, { port }, { mac: '000413c0ffe9', vendor: 'snom', model: 'snomD785', version: '1', callId: 'after-junk' });
    expect(url).toBe(await advertisedProvisioningUrl(h));
    expect(phone.received.filter((m) => callIdOf(m)?.startsWith('junk'))).toEqual([]);
    expect((await h.api('GET', '/api/v1/phones/000413c0ffe8')).status).toBe(404);
  });

  it('answers a SUBSCRIBE multicast to 224.0.1.75 by unicast', async (ctx) => {
    if (!pnpLoopbackMulticast) ctx.skip();
    const port = h.agent.pnpPort!;
    const phone = await phoneSocket();
    phone.socket.setMulticastInterface('127.0.0.1');
    phone.socket.setMulticastTTL(1);
    const url = await pnpRoundTrip(
      phone,
      { port, host: '224.0.1.75' },
      { mac: '000413c0ffea', vendor: 'snom', model: 'snomD785', version: '1', callId: 'mcast1' },
    );
    expect(url).toBe(await advertisedProvisioningUrl(h));
    expect(h.agent.sqlite.listSightings().some((x) => x.mac === '000413c0ffea')).toBe(true);
  });
});

describe('SIP PnP with auto-enrolment off', () => {
  it('records an unknown phone of a known model but neither enrols nor answers it', async () => {
    const h = await startHarness({ pnpPort: 0, pnpMulticast: false });
    cleanups.push(() => h.stop());
    const site = h.agent.sqlite.getSite();
    h.agent.sqlite.putSite({ ...site, provisioning: { ...site.provisioning, autoEnrol: false } }, Date.now());
    const phone = await phoneSocket();
    const port = h.agent.pnpPort!;
    phone.send(phoneSubscribe({ phonePort: phone.port, mac: '000413c0ffeb', vendor: 'snom', model: 'snomD785', version: '1', callId: 'off1' }), port);
    // A known phone is still answered; by then the first SUBSCRIBE was handled.
    await pnpRoundTrip(phone, { port }, { mac: '000413aabb02', vendor: 'snom', model: 'snomD785', version: '1', callId: 'off-known' });
    expect(phone.received.filter((m) => callIdOf(m) === 'off1@127.0.0.1')).toEqual([]);
    expect((await h.api('GET', '/api/v1/phones/000413c0ffeb')).status).toBe(404);
    expect(h.agent.sqlite.listSightings().map((s) => s.mac)).toContain('000413c0ffeb');
  });
});

describe('hotdesk discover (SSDP)', () => {
  it('finds a running agent over loopback multicast, with its provisioning URL', async (ctx) => {
    if (!ssdpLoopbackMulticast) {
      console.log('SKIP reason: multicast to 239.255.255.250 over 127.0.0.1 does not work on this host (the network-namespace case below covers discovery)');
      ctx.skip();
    }
    const h = await startHarness({ ssdpPort: 0 });
    cleanups.push(() => h.stop());
    const port = h.agent.ssdpPort;
    if (port === null) throw new Error('SSDP not started');
    expect(port).not.toBe(1900);
    const r = await runCli(['discover', '--port', String(port), '--timeout', '1500', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Array<{ location: string; description?: { site?: string; provisioning?: string; api?: string } }>;
    const ours = list.filter((a) => a.location === `${h.base}/.well-known/hotdesk.json`);
    expect(ours).toHaveLength(1);
    expect(ours[0]?.description).toMatchObject({
      site: h.agent.sqlite.getSite().name,
      provisioning: await advertisedProvisioningUrl(h),
      api: `${h.base}/api/v1/`,
    });
    expect(ours[0]?.description?.provisioning).toBe(`${h.base}/`);

    const text = await runCli(['discover', '--port', String(port), '--timeout', '1500', '--interface', '127.0.0.1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${h.agent.sqlite.getSite().name} (127.0.0.1)`);
    expect(text.stdout).toMatch(new RegExp(`^  provisioning +${h.base.replace(/\./g, '\\.')}/$`, 'm'));
  });

  it('finds an agent in another network namespace (veth pair), started with hotdesk serve --ssdp-port', async (ctx) => {
    const ns = createNamespacePair();
    if (typeof ns === 'string') {
      console.log(`SKIP reason: cannot create network namespaces here (${ns})`);
      ctx.skip();
      return;
    }
    cleanups.push(ns.cleanup);
    const dataDir = await demoDataDir();
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const serve = spawnIn(ns.agentNs, [
      'serve',
      '--data',
      dataDir,
      '--host',
      ns.agentAddr,
      '--http-port',
      '0',
      '--no-tftp',
      '--sip-port',
      '0',
      '--ssdp-port',
      '1900',
    ]);
    cleanups.push(() => stop(serve.child));
    const httpBase = await eventually(() => /HTTP {3}(http:\/\/\S+?)\/ /.exec(serve.stdout())?.[1], 15_000, `serve to start (stderr: ${serve.stderr()})`);
    await eventually(() => serve.stdout().includes('SSDP'), 5_000, 'SSDP line');

    // A veth link created a moment ago may drop the first multicast datagrams: an admin would
    // run discover again, and so does the test (at most three runs).
    let found = await runIn(ns.searchNs, ['discover', '--port', '1900', '--timeout', '1500', '--json']);
    for (let i = 0; i < 2 && found.stdout.trim() === '[]'; i++) found = await runIn(ns.searchNs, ['discover', '--port', '1900', '--timeout', '1500', '--json']);
    expect(found.stderr).toBe('');
    expect(found.code).toBe(0);
    const list = JSON.parse(found.stdout) as Array<{ address: string; description?: { provisioning?: string } }>;
    expect(list).toEqual([expect.objectContaining({ address: ns.agentAddr, description: expect.objectContaining({ provisioning: `${httpBase}/` }) })]);
    expect(httpBase).toMatch(new RegExp(`^http://${ns.agentAddr.replace(/\./g, '\\.')}:\\d+$`));
  });

  it('prints that nobody answered and exits 0 when no agent is there', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    const r = await runCli(['discover', '--port', String(silent.address().port), '--timeout', '300', '--interface', '127.0.0.1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No agent answered within 300 ms.');
    const bad = await runCli(['discover', '--timeout', '300', '--interface', '192.0.2.254']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('cannot search on interface 192.0.2.254');
    expect((await runCli(['discover', '--interface', 'eth0'])).code).toBe(2);
  });
});

describe('hotdesk serve and a taken PnP port', () => {
  it('exits 1 with a message naming the port and --pnp-port when a program holds the port without sharing it', async () => {
    const pbx = dgram.createSocket('udp4'); // no reuseAddr: like a PBX on 5060
    await new Promise<void>((r) => pbx.bind(0, '0.0.0.0', r));
    cleanups.push(() => new Promise<void>((r) => pbx.close(() => r())));
    const held = pbx.address().port;
    const dataDir = await demoDataDir();
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const r = await runCli(['serve', '--data', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--no-tftp', '--sip-port', '0', '--pnp-port', String(held)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`hotdesk: port-in-use: UDP port ${held} is in use (a PBX on this host?)`);
    expect(r.stderr).toContain('--pnp-port');
  });

  it('rejects malformed discovery options with a usage error', async () => {
    for (const args of [
      ['--ssdp-port', '70000'],
      ['--pnp-port', 'x'],
      ['--pnp-interface', 'eth0'],
      ['--ssdp-interface', '1.2.3'],
    ]) {
      const r = await runCli(['serve', '--data', '/nonexistent', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});

// ---------------------------------------------------------------------------
// network namespaces (root only)
// ---------------------------------------------------------------------------

interface NamespacePair {
  readonly agentNs: string;
  readonly searchNs: string;
  readonly agentAddr: string;
  readonly searchAddr: string;
  cleanup(): void;
}

let nsCounter = 0;

/** Two namespaces joined by a veth pair (10.213.0.1 / .2); a string says why not. */
function createNamespacePair(): NamespacePair | string {
  if (process.getuid?.() !== 0) return 'not root';
  const tag = `${process.pid}${nsCounter++}`;
  const agentNs = `hdA${tag}`;
  const searchNs = `hdB${tag}`;
  const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'pipe' });
  const cleanup = (): void => {
    for (const n of [agentNs, searchNs]) {
      try {
        ip('netns', 'del', n);
      } catch {
        // not created
      }
    }
  };
  try {
    ip('netns', 'add', agentNs);
    ip('netns', 'add', searchNs);
    ip('link', 'add', 'hdva', 'netns', agentNs, 'type', 'veth', 'peer', 'name', 'hdvb', 'netns', searchNs);
    ip('-n', agentNs, 'addr', 'add', '10.213.0.1/24', 'dev', 'hdva');
    ip('-n', searchNs, 'addr', 'add', '10.213.0.2/24', 'dev', 'hdvb');
    for (const [n, dev] of [
      [agentNs, 'hdva'],
      [searchNs, 'hdvb'],
    ] as const) {
      ip('-n', n, 'link', 'set', 'lo', 'up');
      ip('-n', n, 'link', 'set', dev, 'up');
    }
  } catch (e) {
    cleanup();
    return e instanceof Error ? (e.message.split('\n')[0] ?? 'ip failed') : 'ip failed';
  }
  return { agentNs, searchNs, agentAddr: '10.213.0.1', searchAddr: '10.213.0.2', cleanup };
}

/** Starts the built CLI inside a namespace (`ip netns exec` execs it: the pid is node's). */
function spawnIn(ns: string, args: string[]): { child: ChildProcessWithoutNullStreams; stdout: () => string; stderr: () => string } {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env['HOTDESK_DATA'];
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, MAIN, ...args], { cwd: ROOT, env });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { child, stdout: () => out, stderr: () => err };
}

/** Runs the built CLI inside a namespace to completion. */
async function runIn(ns: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnIn(ns, args);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 25_000);
  const code = await new Promise<number | null>((resolve) => p.child.on('close', resolve));
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** SIGTERM (serve stops cleanly), SIGKILL if it lingers. */
async function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await closed;
  clearTimeout(timer);
}
