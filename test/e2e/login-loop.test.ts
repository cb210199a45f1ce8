/**
 * The re-provisioning loop (docs/behaviour.md §9), end to end on loopback with real sockets: a phone is
 * curl (its vendor's User-Agent, HTTP digest) plus sipp (Debian sip-tester)
 * as its SIP side, asserting the check-sync Event header and answering 200.
 * `*35*001*1234` through the PBX endpoint -> NOTIFY -> the phone fetches ->
 * the new file carries user 001's line -> the agent reports synced with the
 * elapsed time. Then 001 logs in on a second phone: both phones get a NOTIFY
 * and the first phone's new file has every account cleared.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_PHONES, eventually, startHarness, type DemoPhone, type Harness } from '../helpers/agent-harness.js';
import { startSipp, type SippRun } from '../helpers/sipp.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function harness(opts: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(opts);
  cleanups.push(() => h.stop());
  return h;
}

async function sippFor(phone: DemoPhone): Promise<SippRun> {
  const run = await startSipp(phone.sippScenario, { timeoutS: 15 });
  cleanups.push(() => run.kill());
  return run;
}

interface PhoneView {
  sync: { state: string; revision: number; elapsedMs: number | null };
  revision: number;
  user: { ext: string } | null;
}

async function phoneView(h: Harness, mac: string): Promise<PhoneView> {
  const r = await h.api('GET', `/api/v1/phones/${mac}`);
  expect(r.status).toBe(200);
  return r.json as PhoneView;
}

const SECOND: Record<DemoPhone['vendor'], DemoPhone> = {
  yealink: DEMO_PHONES.snom,
  snom: DEMO_PHONES.poly,
  poly: DEMO_PHONES.yealink,
};

describe.each(Object.values(DEMO_PHONES))('login loop on $vendor', (phone) => {
  it('PBX dial -> NOTIFY -> fetch -> synced; a move re-provisions both phones and clears the first', async () => {
    const h = await harness();
    const other = SECOND[phone.vendor];

    // The phone boots: it fetches its file (logged out) and the agent learns its address.
    const boot = await h.fetchAs(phone);
    expect(boot.status).toBe(200);
    expect(boot.body).toMatch(phone.slotOneCleared);
    expect(boot.body).not.toContain('reception-secret');
    expect((await h.fetchAs(other)).status).toBe(200);

    // Its SIP side is sipp on a port of its own.
    const sipA = await sippFor(phone);
    h.agent.sqlite.setSipPort(phone.mac, sipA.port);

    const dial = await h.api('POST', '/api/v1/pbx/dial', { mac: phone.mac, digits: '*35*001*1234' });
    expect(dial.status).toBe(200);
    expect(dial.json).toMatchObject({ outcome: 'logged-in', prompt: 'logged-in', user: '001' });
    const pending = await phoneView(h, phone.mac);
    expect(pending.sync.state).toBe('pending');

    // sipp exits 0 only if the NOTIFY arrived with this vendor's Event and it answered 200.
    const a1 = await sipA.exit;
    expect(a1.code, a1.out).toBe(0);

    // The phone re-fetches and now carries 001's line.
    const after = await h.fetchAs(phone);
    expect(after.status).toBe(200);
    expect(after.body).toContain('reception-secret');
    expect(after.body).not.toMatch(phone.slotOneCleared);
    const synced = await phoneView(h, phone.mac);
    expect(synced.sync.state).toBe('synced');
    expect(synced.sync.revision).toBe(pending.sync.revision);
    expect(synced.sync.elapsedMs).toEqual(expect.any(Number));
    expect(synced.user?.ext).toBe('001');

    // 001 logs in on a second phone: both phones get a NOTIFY.
    const sipA2 = await sippFor(phone);
    const sipB = await sippFor(other);
    h.agent.sqlite.setSipPort(phone.mac, sipA2.port);
    h.agent.sqlite.setSipPort(other.mac, sipB.port);
    const move = await h.api('POST', '/api/v1/pbx/dial', { mac: other.mac, digits: '*35*001*1234' });
    expect(move.json).toMatchObject({ outcome: 'logged-in', user: '001' });
    const [ra, rb] = await Promise.all([sipA2.exit, sipB.exit]);
    expect(ra.code, ra.out).toBe(0);
    expect(rb.code, rb.out).toBe(0);

    // The first phone's new file has every account cleared; the second carries 001.
    const cleared = await h.fetchAs(phone);
    expect(cleared.body).toMatch(phone.slotOneCleared);
    expect(cleared.body).not.toContain('reception-secret');
    expect((await h.fetchAs(other)).body).toContain('reception-secret');
    expect((await phoneView(h, phone.mac)).user).toBeNull();

    const audit = (await h.api('GET', `/api/v1/audit?phone=${phone.mac}&limit=100`)).json as { events: { kind: string }[] };
    const kinds = audit.events.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['login', 'sync-sent', 'sync-confirmed', 'logout']));
  });
});

describe('a phone that never answers', () => {
  it('is retried with backoff, ends unreachable with an event, and holds nobody else up', async () => {
    const h = await harness({ syncRetry: { firstRetryMs: 200, maxRetryMs: 400, deadlineMs: 2_500 }, sipTimers: { t1Ms: 50, timeoutMs: 600 } });
    const silent = DEMO_PHONES.yealink;
    const healthy = DEMO_PHONES.snom;
    // A phone that swallows every NOTIFY (a fake by necessity: sipp cannot stay silent and count).
    const sock = dgram.createSocket('udp4');
    const transactions = new Set<string>();
    sock.on('message', (m) => {
      const branch = /branch=([^;\s]+)/.exec(m.toString('utf8'))?.[1];
      if (branch) transactions.add(branch);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
    await h.fetchAs(silent);
    await h.fetchAs(healthy);
    h.agent.sqlite.setSipPort(silent.mac, sock.address().port);
    const sipB = await sippFor(healthy);
    h.agent.sqlite.setSipPort(healthy.mac, sipB.port);

    expect((await h.api('POST', '/api/v1/pbx/dial', { mac: silent.mac, digits: '*35*001*1234' })).json).toMatchObject({ outcome: 'logged-in' });
    expect((await h.api('POST', '/api/v1/pbx/dial', { mac: healthy.mac, digits: '*35*200*2000' })).json).toMatchObject({ outcome: 'logged-in' });

    // The healthy phone is not held up by the silent one.
    const rb = await sipB.exit;
    expect(rb.code, rb.out).toBe(0);
    await h.fetchAs(healthy);
    expect((await phoneView(h, healthy.mac)).sync.state).toBe('synced');
    expect((await phoneView(h, silent.mac)).sync.state).toBe('pending');

    await eventually(async () => (await phoneView(h, silent.mac)).sync.state === 'unreachable', 15_000, 'unreachable');
    expect(transactions.size).toBeGreaterThanOrEqual(2); // several NOTIFY transactions (retries), each retransmitted
    const audit = (await h.api('GET', `/api/v1/audit?phone=${silent.mac}&kind=sync-failed`)).json as { events: unknown[] };
    expect(audit.events.length).toBe(1);
  });
});

describe('audit log', () => {
  it('survives a restart of the agent', async () => {
    const h = await harness();
    await h.api('POST', '/api/v1/pbx/dial', { mac: DEMO_PHONES.yealink.mac, digits: '*35*001*1234' });
    const before = (await h.api('GET', '/api/v1/audit?limit=100')).json as { events: { id: number; kind: string }[] };
    expect(before.events.some((e) => e.kind === 'login')).toBe(true);
    await h.stop();
    cleanups.pop();
    const again = await harness({ dataDir: h.dataDir });
    const after = (await again.api('GET', '/api/v1/audit?limit=100')).json as { events: { id: number; kind: string }[] };
    expect(after.events.slice(0, before.events.length)).toEqual(before.events);
  });
});
