import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import {
  buildResponseTo,
  getHeader,
  parseNameAddr,
  parseSipMessage,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../../agent/protocols/sip-message.js';
import { startPnpResponder, type PnpResponderOptions, type PnpSighting } from '../../../agent/shell/discovery/pnp-responder.js';
import { pnpSubscribe, SNOM_D785_EVENT, uaProfileEvent } from '../../helpers/pnp-subscribe.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** A phone's UDP socket that queues every SIP message it receives. */
async function phoneSocket(opts: { multicastIf?: string } = {}): Promise<{
  port: number;
  send: (wire: string, port: number, host?: string) => void;
  next: (pred?: (m: SipMessage) => boolean) => Promise<SipMessage>;
  socket: dgram.Socket;
}> {
  const s = dgram.createSocket('udp4');
  const queue: SipMessage[] = [];
  const waiters: Array<{ pred: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];
  s.on('message', (msg) => {
    const p = parseSipMessage(msg);
    if (!p.ok) return;
    const w = waiters.findIndex((x) => x.pred(p.message));
    if (w >= 0) waiters.splice(w, 1)[0]?.resolve(p.message);
    else queue.push(p.message);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  if (opts.multicastIf) s.setMulticastInterface(opts.multicastIf);
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return {
    port: s.address().port,
    socket: s,
    send: (wire, port, host = '127.0.0.1') => s.send(wire, port, host),
    next: (pred = () => true) => {
      const i = queue.findIndex(pred);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]!);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

function subscribe(p: { port: number; user: string; event: string; callId?: string; host?: string }): string {
  return pnpSubscribe({
    user: p.user,
    ...(p.host !== undefined ? { domain: p.host } : {}),
    via: `127.0.0.1:${p.port}`,
    branch: `z9hG4bK${p.callId ?? 'b1'}`,
    rport: true,
    fromTag: 'phone1',
    callId: `${p.callId ?? 'pnp1'}@127.0.0.1`,
    contact: `127.0.0.1:${p.port}`,
    event: p.event,
  });
}

const SNOM_EVENT = SNOM_D785_EVENT;
const YEALINK_EVENT = uaProfileEvent({ vendor: 'Yealink', model: 'SIP-T46U', version: '108.86.0.45' });

async function responder(o: Partial<PnpResponderOptions> = {}) {
  const sightings: PnpSighting[] = [];
  const r = await startPnpResponder({
    port: 0,
    multicast: false,
    interface: '127.0.0.1',
    provisioningUrlFor: (p) => `http://127.0.0.1:8080/${p.vendorId ?? 'x'}/${p.mac}`,
    onSighting: (s) => sightings.push(s),
    t1Ms: 50,
    ...o,
  });
  cleanups.push(() => r.close());
  return { r, sightings };
}

const isResponse = (m: SipMessage): m is SipResponse => m.kind === 'response';
const isNotify = (m: SipMessage): m is SipRequest => m.kind === 'request' && m.method === 'NOTIFY';

describe('PnP responder (unicast on loopback)', () => {
  it('answers a Snom PnP SUBSCRIBE with 200 OK and a NOTIFY carrying the provisioning URL', async () => {
    const { r, sightings } = await responder();
    const phone = await phoneSocket();
    phone.send(subscribe({ port: phone.port, user: 'MAC%3a000413AABBCC', event: SNOM_EVENT }), r.port);

    const ok = (await phone.next(isResponse)) as SipResponse;
    expect(ok.status).toBe(200);
    expect(getHeader(ok, 'CSeq')).toBe('1 SUBSCRIBE');
    expect(getHeader(ok, 'Call-ID')).toBe('pnp1@127.0.0.1');
    expect(getHeader(ok, 'Expires')).toBe('0');
    const toTag = parseNameAddr(getHeader(ok, 'To') ?? '')?.params.get('tag');
    expect(toTag).toBeTruthy();

    const notify = (await phone.next(isNotify)) as SipRequest;
    expect(notify.uri).toBe(`sip:127.0.0.1:${phone.port}`);
    expect(notify.body).toBe('http://127.0.0.1:8080/snom/000413aabbcc');
    expect(getHeader(notify, 'Content-Type')).toBe('application/url');
    expect(getHeader(notify, 'Event')).toBe(SNOM_EVENT);
    expect(getHeader(notify, 'Subscription-State')).toMatch(/^terminated/);
    expect(getHeader(notify, 'Call-ID')).toBe('pnp1@127.0.0.1');
    expect(parseNameAddr(getHeader(notify, 'From') ?? '')?.params.get('tag')).toBe(toTag);
    expect(parseNameAddr(getHeader(notify, 'To') ?? '')?.params.get('tag')).toBe('phone1');

    phone.send(buildResponseTo(notify, { status: 200 }), r.port);
    for (let i = 0; i < 100 && r.stats.notifyAcknowledged === 0; i++) await new Promise((res) => setTimeout(res, 20));
    expect(r.stats.notifyAcknowledged).toBe(1);
    expect(r.stats.answered).toBe(1);
    expect(sightings).toEqual([
      expect.objectContaining({
        mac: '000413aabbcc',
        vendor: 'snom',
        vendorId: 'snom',
        model: 'snomD785',
        version: '10.1.33.33',
        url: 'http://127.0.0.1:8080/snom/000413aabbcc',
      }),
    ]);
  });

  it('survives garbage and unrelated SIP, counting them, and still answers', async () => {
    const { r } = await responder();
    const phone = await phoneSocket();
    for (const junk of ['', '\r\n\r\n', 'hello', '\x00\xff\xfe', 'SUBSCRIBE nonsense\r\n\r\n', 'GET / HTTP/1.1\r\n\r\n']) phone.send(junk, r.port);
    phone.send(subscribe({ port: phone.port, user: 'MAC%3a000413AABBCC', event: 'presence' }), r.port);
    phone.send(subscribe({ port: phone.port, user: 'bob', event: SNOM_EVENT, callId: 'nomac' }), r.port);
    phone.send(['OPTIONS sip:x@127.0.0.1 SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKo', 'CSeq: 1 OPTIONS', '', ''].join('\r\n'), r.port);
    phone.send(subscribe({ port: phone.port, user: 'MAC%3A001565AABBCC', event: YEALINK_EVENT, callId: 'good' }), r.port);
    const notify = (await phone.next(isNotify)) as SipRequest;
    expect(notify.body).toBe('http://127.0.0.1:8080/yealink/001565aabbcc');
    expect(r.stats.malformed).toBeGreaterThanOrEqual(4);
    expect(r.stats.ignored).toBeGreaterThanOrEqual(3);
    expect(r.stats.answered).toBe(1);
  });

  it('answers a retransmitted SUBSCRIBE with the same 200 and sends one NOTIFY; retransmits the NOTIFY until answered', async () => {
    const { r } = await responder();
    const phone = await phoneSocket();
    const sub = subscribe({ port: phone.port, user: '000413aabbcc', event: SNOM_EVENT });
    phone.send(sub, r.port);
    const ok1 = (await phone.next(isResponse)) as SipResponse;
    phone.send(sub, r.port);
    const ok2 = (await phone.next(isResponse)) as SipResponse;
    expect(getHeader(ok2, 'To')).toBe(getHeader(ok1, 'To'));
    const n1 = (await phone.next(isNotify)) as SipRequest;
    const n2 = (await phone.next(isNotify)) as SipRequest; // retransmission (T1 = 50 ms)
    expect(getHeader(n2, 'Via')).toBe(getHeader(n1, 'Via'));
    expect(r.stats.retransmissions).toBe(1);
    expect(r.stats.answered).toBe(1);
  });

  it('leaves a phone unanswered when no URL is known for it', async () => {
    const { r, sightings } = await responder({ provisioningUrlFor: () => null });
    const phone = await phoneSocket();
    phone.send(subscribe({ port: phone.port, user: 'MAC%3a000413AABBCC', event: SNOM_EVENT }), r.port);
    for (let i = 0; i < 100 && sightings.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
    expect(sightings[0]).toMatchObject({ mac: '000413aabbcc', url: null });
    expect(r.stats.declined).toBe(1);
    expect(r.stats.answered).toBe(0);
  });

  it('a taken UDP port rejects with port-in-use and advice', async () => {
    const pbx = dgram.createSocket('udp4'); // no reuseAddr, like a PBX
    await new Promise<void>((res) => pbx.bind(0, '0.0.0.0', res));
    cleanups.push(() => new Promise<void>((res) => pbx.close(() => res())));
    const err = await startPnpResponder({ port: pbx.address().port, multicast: true, interface: '127.0.0.1', provisioningUrlFor: () => null }).catch(
      (e: unknown) => e,
    );
    expect(isHotdeskError(err, 'port-in-use')).toBe(true);
    expect((err as Error).message).toContain('--pnp-port');
  });
});

describe('PnP responder (multicast 224.0.1.75 on loopback)', () => {
  it('a group the host cannot join on the given interface rejects with network-unavailable', async () => {
    // 192.0.2.1 (TEST-NET-1) is no address of this host: the kernel refuses the membership.
    const err = await startPnpResponder({ port: 0, multicast: true, interface: '192.0.2.1', provisioningUrlFor: () => null }).catch((e: unknown) => e);
    expect(isHotdeskError(err, 'network-unavailable')).toBe(true);
    expect((err as { detail: Record<string, unknown> }).detail).toEqual({ group: '224.0.1.75', interface: '192.0.2.1' });
  });

  it('joins the group and answers a multicast SUBSCRIBE by unicast', async () => {
    const { r } = await responder({ multicast: true, interface: '127.0.0.1' });
    const phone = await phoneSocket({ multicastIf: '127.0.0.1' });
    phone.send(subscribe({ port: phone.port, user: 'MAC%3A001565AABBCC', event: YEALINK_EVENT }), r.port, '224.0.1.75');
    const ok = (await phone.next(isResponse)) as SipResponse;
    expect(ok.status).toBe(200);
    const notify = (await phone.next(isNotify)) as SipRequest;
    expect(notify.body).toBe('http://127.0.0.1:8080/yealink/001565aabbcc');
  });
});
