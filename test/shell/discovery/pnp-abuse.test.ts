/**
 * The PnP responder against reflection and floods, on loopback with real
 * sockets: answers go only to the SUBSCRIBE's source, names in the packet are
 * never resolved, a flood gets a bounded number of answers, NOTIFY
 * retransmissions are bounded, and the unicast socket binds where it is told.
 */
import dns from 'node:dns';
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildResponseTo, parseSipMessage, type SipMessage, type SipRequest } from '../../../agent/protocols/sip-message.js';
import { startPnpResponder, type PnpResponderOptions } from '../../../agent/shell/discovery/pnp-responder.js';
import { ipLiteralLookup } from '../../../agent/shell/discovery/pnp-sockets.js';
import { startHarness } from '../../helpers/agent-harness.js';
import { pnpSubscribe, SNOM_D785_EVENT } from '../../helpers/pnp-subscribe.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

interface Peer {
  readonly address: string;
  readonly port: number;
  /** Every SIP message received, with the sender. */
  readonly got: { m: SipMessage; from: string; bytes: number }[];
  send(wire: string, port: number, host?: string): void;
}

/** A UDP socket on `address` that records every SIP message it receives. */
async function peer(address: string, o: { multicastIf?: string } = {}): Promise<Peer> {
  const s = dgram.createSocket('udp4');
  const got: Peer['got'] = [];
  s.on('message', (msg, rinfo) => {
    const p = parseSipMessage(msg);
    if (p.ok) got.push({ m: p.message, from: `${rinfo.address}:${rinfo.port}`, bytes: msg.length });
  });
  s.on('error', () => {}); // ICMP port unreachable for a datagram nobody listens to
  await new Promise<void>((r) => s.bind(0, address, r));
  if (o.multicastIf) s.setMulticastInterface(o.multicastIf);
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return { address, port: s.address().port, got, send: (wire, port, host = '127.0.0.1') => s.send(wire, port, host) };
}

function subscribe(p: { via: string; contact: string; callId: string; mac?: string }): string {
  return pnpSubscribe({
    user: `MAC%3a${p.mac ?? '000413AABBCC'}`,
    via: p.via,
    branch: `z9hG4bK${p.callId}`,
    fromTag: `ph${p.callId}`,
    callId: `${p.callId}@phone`,
    contact: p.contact,
    event: SNOM_D785_EVENT,
  });
}

async function responder(o: Partial<PnpResponderOptions> = {}) {
  const r = await startPnpResponder({
    port: 0,
    host: '127.0.0.1',
    multicast: false,
    provisioningUrlFor: (p) => `http://127.0.0.1:8080/${p.vendorId ?? 'x'}/${p.mac}`,
    t1Ms: 10,
    timeoutMs: 400,
    ...o,
  });
  cleanups.push(() => r.close());
  return r;
}

async function waitFor(cond: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 100));

const isOk = (g: { m: SipMessage }): boolean => g.m.kind === 'response' && g.m.status === 200;
const isNotify = (g: { m: SipMessage }): boolean => g.m.kind === 'request' && g.m.method === 'NOTIFY';

describe('PnP responder: no reflection to third parties', () => {
  it('a SUBSCRIBE whose Contact and Via name a third party is answered to its source only', async () => {
    const r = await responder();
    const attacker = await peer('127.0.0.2');
    const victim = await peer('127.0.0.3');
    const sub = subscribe({ via: `127.0.0.3:${victim.port}`, contact: `127.0.0.3:${victim.port}`, callId: 'reflect1' });
    attacker.send(sub, r.port);
    // Timer F passes: every NOTIFY (first and retransmitted) has been sent.
    await waitFor(() => r.stats.notifyTimedOut === 1, 'NOTIFY given up');
    await settle();
    expect(victim.got).toEqual([]);
    expect(attacker.got.filter(isOk)).toHaveLength(1);
    const notifies = attacker.got.filter(isNotify);
    expect(notifies.length).toBeGreaterThanOrEqual(1);
    expect(notifies.length).toBeLessThanOrEqual(4); // the first NOTIFY and at most 3 retransmissions
    expect((notifies[0]!.m as SipRequest).uri).toBe(`sip:127.0.0.3:${victim.port}`); // the Contact, as text only
    expect(attacker.got.every((g) => g.from === `127.0.0.1:${r.port}`)).toBe(true);
  });

  it('never resolves a name from the packet: a Contact/Via host name causes no lookup and no datagram elsewhere', async () => {
    const names: string[] = [];
    const realLookup = dns.lookup;
    // Every lookup in the process, including the default one of any dgram socket created from here on.
    (dns as { lookup: unknown }).lookup = ((host: string, ...rest: unknown[]) => {
      names.push(host);
      return (realLookup as (...a: unknown[]) => unknown)(host, ...rest);
    }) as typeof dns.lookup;
    cleanups.push(() => {
      (dns as { lookup: unknown }).lookup = realLookup;
    });
    const injected: string[] = [];
    const lookup: NonNullable<PnpResponderOptions['lookup']> = (host, options, cb) => {
      injected.push(host);
      ipLiteralLookup(host, options, cb);
    };
    // Wildcard bind: the responder also looks for its own address towards the phone.
    const r = await responder({ host: '0.0.0.0', lookup });
    const phone = await peer('127.0.0.2');
    phone.send(subscribe({ via: 'pnp-victim.example.invalid:5060', contact: 'pnp-victim.example.invalid:5060', callId: 'dns1' }), r.port);
    await waitFor(() => phone.got.some(isNotify), 'NOTIFY at the source');
    const notify = phone.got.find(isNotify)!.m as SipRequest;
    expect(notify.uri).toBe('sip:pnp-victim.example.invalid:5060');
    phone.send(buildResponseTo(notify, { status: 200 }), r.port);
    await waitFor(() => r.stats.notifyAcknowledged === 1, 'NOTIFY acknowledged');
    expect(injected.length).toBeGreaterThan(0);
    for (const n of [...injected, ...names]) expect(isIP(n), n).not.toBe(0);
    expect(JSON.stringify([injected, names])).not.toContain('example');
  });

  it('only the phone the NOTIFY went to can acknowledge it: an answer from another address is ignored', async () => {
    const r = await responder({ timeoutMs: 10_000, t1Ms: 50 });
    const phone = await peer('127.0.0.2');
    const stranger = await peer('127.0.0.3');
    phone.send(subscribe({ via: `127.0.0.2:${phone.port}`, contact: `127.0.0.2:${phone.port}`, callId: 'ack1' }), r.port);
    await waitFor(() => phone.got.some(isNotify), 'NOTIFY at the phone');
    const notify = phone.got.find(isNotify)!.m as SipRequest;
    // Same branch, same CSeq, from elsewhere: not the phone's answer.
    stranger.send(buildResponseTo(notify, { status: 200 }), r.port);
    await waitFor(() => r.stats.ignored === 1, 'stranger answer seen');
    expect(r.stats.notifyAcknowledged).toBe(0);
    phone.send(buildResponseTo(notify, { status: 200 }), r.port);
    await waitFor(() => r.stats.notifyAcknowledged === 1, 'phone answer accepted');
    expect(r.stats.notifyTimedOut).toBe(0);
  });

  it('the default lookup refuses names without asking DNS', async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      ipLiteralLookup('phone.example.invalid', 4 as never, ((e: NodeJS.ErrnoException | null) => resolve(e)) as never),
    );
    expect(err?.code).toBe('ENOTFOUND');
  });
});

describe('PnP responder: bounded answers', () => {
  it('a flood from one address gets a bounded number of answers; another address is still answered; the budget refills with time', async () => {
    let now = 1_000_000;
    const r = await responder({ clock: () => now, limits: { perSourceBurst: 6, perSourceIntervalMs: 10_000 }, timeoutMs: 200 });
    const flooder = await peer('127.0.0.2');
    const repeated = subscribe({ via: `127.0.0.2:${flooder.port}`, contact: `127.0.0.2:${flooder.port}`, callId: 'same' });
    for (let i = 0; i < 200; i++) {
      flooder.send(
        subscribe({
          via: `127.0.0.2:${flooder.port}`,
          contact: `127.0.0.2:${flooder.port}`,
          callId: `f${i}`,
          mac: `000413AA${(i + 0x1000).toString(16).slice(-4)}`,
        }),
        r.port,
      );
      flooder.send(repeated, r.port);
      if (i % 20 === 19) await new Promise((res) => setTimeout(res, 5)); // stay under the socket buffer: every datagram is seen
    }
    await waitFor(() => r.stats.received >= 400, 'flood received');
    await waitFor(() => r.stats.notifyTimedOut + r.stats.notifyAcknowledged === r.stats.answered, 'NOTIFYs done');
    await settle();
    expect(r.stats.okSent).toBe(6);
    expect(flooder.got.filter(isOk)).toHaveLength(6);
    expect(flooder.got.filter(isNotify).length).toBeLessThanOrEqual(4 * r.stats.answered);
    expect(r.stats.answered).toBeLessThanOrEqual(6);
    expect(r.stats.rateLimited).toBe(400 - 6);

    const phone = await peer('127.0.0.4');
    phone.send(subscribe({ via: `127.0.0.4:${phone.port}`, contact: `127.0.0.4:${phone.port}`, callId: 'other' }), r.port);
    await waitFor(() => phone.got.some(isNotify), 'the other address answered');

    now += 10_000; // one more answer for the flooder
    const before = flooder.got.filter(isOk).length;
    for (let i = 0; i < 5; i++) flooder.send(subscribe({ via: `127.0.0.2:${flooder.port}`, contact: `127.0.0.2:${flooder.port}`, callId: `late${i}` }), r.port);
    await waitFor(() => r.stats.received >= 406, 'late SUBSCRIBEs received');
    await settle();
    expect(flooder.got.filter(isOk).length - before).toBe(1);
  });

  it('an unanswered NOTIFY is sent at most 1 + notifyRetransmits times', async () => {
    const r = await responder({ limits: { notifyRetransmits: 2 }, t1Ms: 10, timeoutMs: 500 });
    const phone = await peer('127.0.0.2');
    phone.send(subscribe({ via: `127.0.0.2:${phone.port}`, contact: `127.0.0.2:${phone.port}`, callId: 'silent' }), r.port);
    await waitFor(() => r.stats.notifyTimedOut === 1, 'timer F');
    await settle();
    expect(phone.got.filter(isNotify)).toHaveLength(3);
    expect(r.stats.notifySent).toBe(3);
  });
});

describe('PnP responder: bind address', () => {
  it('binds the given unicast address and answers from it; other local addresses get nothing', async () => {
    const r = await responder({ host: '127.0.0.2' });
    expect(r.host).toBe('127.0.0.2');
    const phone = await peer('127.0.0.5');
    phone.send(subscribe({ via: `127.0.0.5:${phone.port}`, contact: `127.0.0.5:${phone.port}`, callId: 'elsewhere' }), r.port, '127.0.0.3');
    phone.send(subscribe({ via: `127.0.0.5:${phone.port}`, contact: `127.0.0.5:${phone.port}`, callId: 'here' }), r.port, '127.0.0.2');
    await waitFor(() => phone.got.some(isNotify), 'answer');
    await settle();
    expect(r.stats.received).toBe(1);
    expect(phone.got.every((g) => g.from === `127.0.0.2:${r.port}`)).toBe(true);
  });

  it('with multicast: unicast on the host address, the group joined on the interface, answers from the host address', async () => {
    const r = await responder({ host: '127.0.0.2', multicast: true, interface: '127.0.0.1' });
    const phone = await peer('127.0.0.1', { multicastIf: '127.0.0.1' });
    phone.send(subscribe({ via: `127.0.0.1:${phone.port}`, contact: `127.0.0.1:${phone.port}`, callId: 'unicast-elsewhere' }), r.port, '127.0.0.1');
    phone.send(subscribe({ via: `127.0.0.1:${phone.port}`, contact: `127.0.0.1:${phone.port}`, callId: 'mcast' }), r.port, '224.0.1.75');
    await waitFor(() => phone.got.some(isNotify), 'answer to the multicast SUBSCRIBE');
    await settle();
    expect(r.stats.received).toBe(1);
    expect(phone.got.every((g) => g.from === `127.0.0.2:${r.port}`)).toBe(true);
  });

  it('binds no wildcard address with a host given: a program holding the port exclusively on another address does not block it', async () => {
    const pbx = dgram.createSocket('udp4'); // no SO_REUSEADDR, like a PBX
    await new Promise<void>((res) => pbx.bind(0, '127.0.0.3', res));
    cleanups.push(() => new Promise<void>((res) => pbx.close(() => res())));
    const r = await responder({ port: pbx.address().port, host: '127.0.0.2', multicast: true, interface: '127.0.0.1' });
    expect(r.port).toBe(pbx.address().port);
  });

  it('the running agent binds PnP to --host (multicast on): a unicast SUBSCRIBE to another local address gets nothing', async () => {
    const h = await startHarness({ pnpPort: 0, pnpMulticast: true });
    cleanups.push(() => h.stop());
    const port = h.agent.pnpPort!;
    const phone = await peer('127.0.0.5');
    phone.send(subscribe({ via: `127.0.0.5:${phone.port}`, contact: `127.0.0.5:${phone.port}`, callId: 'other-addr', mac: '000413C0FFE1' }), port, '127.0.0.2');
    phone.send(subscribe({ via: `127.0.0.5:${phone.port}`, contact: `127.0.0.5:${phone.port}`, callId: 'host-addr', mac: '000413C0FFE2' }), port, '127.0.0.1');
    await waitFor(() => phone.got.some(isNotify), 'answer on --host');
    await settle();
    expect(phone.got.filter(isOk)).toHaveLength(1);
    expect(phone.got.every((g) => g.from === `127.0.0.1:${port}`)).toBe(true);
    expect(h.agent.sqlite.queryAudit({ phone: '000413c0ffe1' })).toEqual([]);
  });
});
