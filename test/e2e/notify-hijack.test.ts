/**
 * Attack: steer the check-sync NOTIFY (and the line's digest) to a stranger.
 *
 * The attacker on the LAN asks for a phone's *public* file (HTTP without
 * credentials, or TFTP from its own address) hoping to become the phone's
 * NOTIFY target, then answers the NOTIFY with 401 to harvest a digest of the
 * logged-in user's SIP credentials. The agent must keep sending NOTIFYs to the
 * address of the last *authenticated* fetch of the phone's secret file, and
 * answer a challenge only for the site's PBX realm.
 *
 * Real sockets on loopback: curl as the phone and the attacker's HTTP client
 * (bound to 127.0.0.2), a raw UDP socket as the attacker's TFTP client, and two
 * UDP "SIP phones" on the same port at 127.0.0.1 (the phone) and 127.0.0.2 (the attacker).
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeTftpPacket } from '../../agent/protocols/tftp-packet.js';
import { buildResponseTo, getHeader, parseSipMessage, type SipRequest } from '../../agent/protocols/sip-message.js';
import { DEMO_PHONES, eventually, startHarness, type Harness } from '../helpers/agent-harness.js';
import { curl, ownCredentialIn } from './provisioning-kit.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

interface SipEar {
  readonly received: SipRequest[];
  readonly port: number;
}

/** A UDP socket playing a phone's SIP side at `host:port`; `answer` picks the reply to each request. */
async function sipEar(host: string, port: number, answer: (req: SipRequest) => string | null): Promise<SipEar> {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  const received: SipRequest[] = [];
  s.on('message', (msg, rinfo) => {
    const p = parseSipMessage(msg);
    if (!p.ok || p.message.kind !== 'request') return;
    received.push(p.message);
    const reply = answer(p.message);
    if (reply) s.send(Buffer.from(reply), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => s.bind(port, host, () => resolve()));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return { received, port: s.address().port };
}

async function harness(opts: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(opts);
  cleanups.push(() => h.stop());
  return h;
}

const phone = DEMO_PHONES.yealink;
const challenge = (realm: string) => (req: SipRequest) =>
  buildResponseTo(req, { status: 401, headers: [{ name: 'WWW-Authenticate', value: `Digest realm="${realm}", nonce="attacker-nonce", qop="auth"` }] });

describe('NOTIFY hijack', () => {
  it.each(['http', 'tftp'] as const)('a public-file fetch over %s from a stranger does not move the NOTIFY target', async (via) => {
    const h = await harness({ tftpPort: 0 });
    // The phone boots and authenticates for its secret file from 127.0.0.1.
    expect((await h.fetchAs(phone)).status).toBe(200);
    const real = await sipEar('127.0.0.1', 0, (req) => buildResponseTo(req, { status: 200 }));
    const attacker = await sipEar('127.0.0.2', real.port, challenge('pbx.demo'));
    h.agent.sqlite.setSipPort(phone.mac, real.port);

    // The attacker asks for the phone's public boot file from 127.0.0.2.
    if (via === 'http') {
      const r = await curl(`${h.base}/${phone.mac}.boot`, { userAgent: phone.userAgent, from: '127.0.0.2' });
      expect(r.status).toBe(200);
    } else {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.2', () => r()));
      const got = new Promise<Buffer>((r) => s.once('message', (m) => r(m)));
      s.send(encodeTftpPacket({ op: 'rrq', filename: `${phone.mac}.boot`, mode: 'octet', options: {} }), h.agent.tftpPort!, '127.0.0.1');
      const first = await got;
      expect(first.readUInt16BE(0)).toBe(3); // DATA: the public file is served
      s.close();
    }
    expect(h.agent.sqlite.phoneRuntime(phone.mac)).toMatchObject({ lastIp: '127.0.0.2', notifyIp: '127.0.0.1' });

    const dial = await h.api('POST', '/api/v1/pbx/dial', { mac: phone.mac, digits: '*35*001*1234' });
    expect(dial.json).toMatchObject({ outcome: 'logged-in' });
    await eventually(() => real.received.length > 0, 10_000, 'NOTIFY at the authenticated address');
    expect(getHeader(real.received[0]!, 'Event')).toBe('check-sync');
    // give a misdirected NOTIFY every chance to arrive
    await new Promise((r) => setTimeout(r, 300));
    expect(attacker.received).toEqual([]);
  });

  it('an authenticated fetch from a new address moves the target (a phone that changed address keeps working)', async () => {
    const h = await harness();
    const first = await h.fetchAs(phone);
    expect(first.status).toBe(200);
    expect(h.agent.sqlite.phoneRuntime(phone.mac)?.notifyIp).toBe('127.0.0.1');
    const moved = await curl(`${h.base}/${phone.secretFile}`, { userAgent: phone.userAgent, digest: ownCredentialIn(phone, first.body), from: '127.0.0.3' });
    expect(moved.status).toBe(200);
    expect(h.agent.sqlite.phoneRuntime(phone.mac)?.notifyIp).toBe('127.0.0.3');
  });

  it('a phone that answers with a foreign realm gets no credentials; the site realm gets a digest of the line on that phone', async () => {
    const h = await harness();
    const site = h.agent.sqlite.getSite();
    h.agent.sqlite.putSite({ ...site, pbx: { ...site.pbx, realm: 'pbx.demo' } }, Date.now());
    expect((await h.fetchAs(phone)).status).toBe(200);
    let realm = 'elsewhere';
    const ear = await sipEar('127.0.0.1', 0, (req) => (getHeader(req, 'Authorization') ? buildResponseTo(req, { status: 200 }) : challenge(realm)(req)));
    h.agent.sqlite.setSipPort(phone.mac, ear.port);

    expect((await h.api('POST', '/api/v1/pbx/dial', { mac: phone.mac, digits: '*35*001*1234' })).json).toMatchObject({ outcome: 'logged-in' });
    await eventually(() => ear.received.length > 0, 10_000, 'first NOTIFY');
    await new Promise((r) => setTimeout(r, 300));
    expect(ear.received.every((m) => getHeader(m, 'Authorization') === undefined)).toBe(true);

    // Now the challenge names the site realm: the agent answers with the line the phone carries now (user 101), never 001's.
    realm = 'pbx.demo';
    ear.received.length = 0;
    expect((await h.api('POST', `/api/v1/phones/${phone.mac}/logout`)).json).toMatchObject({ outcome: 'logged-out' });
    expect((await h.api('POST', `/api/v1/phones/${phone.mac}/login`, { ext: '101' })).json).toMatchObject({ outcome: 'logged-in' });
    const answered = await eventually(() => ear.received.find((m) => getHeader(m, 'Authorization') !== undefined), 10_000, 'authenticated NOTIFY');
    const user101 = h.agent.sqlite.getUser('101')!;
    expect(getHeader(answered, 'Authorization')).toContain(`username="${user101.sip.authName}"`);
    expect(getHeader(answered, 'Authorization')).not.toContain(`username="${h.agent.sqlite.getUser('001')!.sip.authName}"`);
    expect(getHeader(answered, 'Authorization')).toContain('realm="pbx.demo"');
  });
});
