import dgram from 'node:dgram';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildSsdpMSearch, parseSsdpMessage, SSDP_SERVICE_TYPE, type SsdpMessage } from '../../../agent/protocols/ssdp-message.js';
import { startSsdpAdvertiser } from '../../../agent/shell/discovery/ssdp-advertiser.js';
import { discoverAgents } from '../../../agent/shell/discovery/ssdp-discover.js';

const GROUP = '239.255.255.250';
const LO = '127.0.0.1';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** A socket on the group/port that records every SSDP datagram (a bystander on the LAN). */
async function listener(port: number): Promise<{ messages: SsdpMessage[]; socket: dgram.Socket }> {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const messages: SsdpMessage[] = [];
  s.on('message', (msg) => {
    const m = parseSsdpMessage(msg);
    if (m) messages.push(m);
  });
  await new Promise<void>((r) => s.bind(port, '0.0.0.0', r));
  s.addMembership(GROUP, LO);
  s.setMulticastInterface(LO);
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return { messages, socket: s };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

let loopbackMulticast = false;
beforeAll(async () => {
  // Does multicast over the loopback interface work here?
  const rx = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => rx.bind(0, '0.0.0.0', r));
  rx.addMembership(GROUP, LO);
  const got = new Promise<boolean>((resolve) => {
    rx.once('message', () => resolve(true));
    setTimeout(() => resolve(false), 1000);
  });
  const tx = dgram.createSocket('udp4');
  await new Promise<void>((r) => tx.bind(0, LO, r));
  tx.setMulticastInterface(LO);
  tx.send('probe', rx.address().port, GROUP);
  loopbackMulticast = await got;
  tx.close();
  rx.close();
  if (!loopbackMulticast) console.log('SKIP reason: multicast over 127.0.0.1 does not work on this host');
});

describe('SSDP over loopback multicast', () => {
  it('discoverAgents finds an advertiser (deduplicated by USN) and the alive/byebye announcements are sent', async (ctx) => {
    if (!loopbackMulticast) ctx.skip();
    const adv = await startSsdpAdvertiser({
      uuid: '2f1e6c1a-0000-4000-8000-000000000001',
      location: 'http://127.0.0.1:8080/.well-known/hotdesk.json',
      port: 0,
      group: GROUP,
      interfaceAddress: LO,
      maxResponseDelayMs: 0,
    });
    let open = true;
    cleanups.push(() => (open ? adv.close() : undefined));
    const bystander = await listener(adv.port);

    const found = await discoverAgents({ timeoutMs: 600, port: adv.port, group: GROUP, interfaceAddress: LO });
    expect(found).toEqual([
      {
        location: 'http://127.0.0.1:8080/.well-known/hotdesk.json',
        usn: `uuid:2f1e6c1a-0000-4000-8000-000000000001::${SSDP_SERVICE_TYPE}`,
        server: expect.stringContaining('hotdesk-agent'),
        address: LO,
      },
    ]);
    expect(adv.answered()).toBeGreaterThanOrEqual(2); // two searches, one entry

    await adv.close();
    open = false;
    await until(() => bystander.messages.some((m) => m.kind === 'notify' && m.headers.get('NTS') === 'ssdp:byebye'));
    const byebye = bystander.messages.find((m) => m.headers.get('NTS') === 'ssdp:byebye');
    expect(byebye?.headers.get('USN')).toBe(`uuid:2f1e6c1a-0000-4000-8000-000000000001::${SSDP_SERVICE_TYPE}`);
  });

  it('announces ssdp:alive periodically and answers ssdp:all but not other search targets', async (ctx) => {
    if (!loopbackMulticast) ctx.skip();
    // Bind the bystander first on a free port so the first alive is not missed.
    const probe = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((r) => probe.bind(0, '0.0.0.0', r));
    const port = probe.address().port;
    const bystander = await listener(port);
    probe.close();
    const adv = await startSsdpAdvertiser({
      uuid: 'abc',
      location: 'http://127.0.0.1:1/x.json',
      port,
      group: GROUP,
      interfaceAddress: LO,
      announceIntervalMs: 50,
      maxAgeSec: 60,
      maxResponseDelayMs: 0,
    });
    cleanups.push(() => adv.close());
    await until(() => bystander.messages.filter((m) => m.headers.get('NTS') === 'ssdp:alive').length >= 2);
    const alive = bystander.messages.find((m) => m.headers.get('NTS') === 'ssdp:alive');
    expect(alive?.headers.get('CACHE-CONTROL')).toBe('max-age=60');
    expect(alive?.headers.get('LOCATION')).toBe('http://127.0.0.1:1/x.json');
    expect(alive?.headers.get('NT')).toBe(SSDP_SERVICE_TYPE);

    const searcher = dgram.createSocket('udp4');
    const answers: SsdpMessage[] = [];
    searcher.on('message', (msg) => {
      const m = parseSsdpMessage(msg);
      if (m) answers.push(m);
    });
    await new Promise<void>((r) => searcher.bind(0, LO, r));
    cleanups.push(() => new Promise<void>((r) => searcher.close(() => r())));
    searcher.setMulticastInterface(LO);
    searcher.send(buildSsdpMSearch({ st: 'urn:schemas-upnp-org:device:MediaServer:1', port }), port, GROUP);
    searcher.send('M-SEARCH garbage', port, GROUP);
    searcher.send(buildSsdpMSearch({ st: 'ssdp:all', port }), port, GROUP);
    await until(() => answers.length >= 1);
    await new Promise((r) => setTimeout(r, 100)); // give a wrong answer the chance to show up
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ kind: 'response', status: 200 });
    expect(answers[0]?.headers.get('ST')).toBe(SSDP_SERVICE_TYPE);
    expect(answers[0]?.headers.has('EXT')).toBe(true);
  });

  it('discoverAgents returns an empty list when nobody answers', async (ctx) => {
    if (!loopbackMulticast) ctx.skip();
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, LO, r));
    const port = probe.address().port;
    probe.close();
    expect(await discoverAgents({ timeoutMs: 300, port, interfaceAddress: LO })).toEqual([]);
  });
});
