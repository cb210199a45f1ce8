/**
 * The hot-desk line under hostile or careless peers, on loopback with real
 * sockets: wrong credentials, unauthenticated calls, malformed and garbage
 * datagrams (RFC 4475 §3.1.2 torture messages and random bytes), the call
 * limit, and key presses injected from another address than the one the
 * caller's SDP gave.
 */
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_PHONES, eventually, type Harness } from '../helpers/agent-harness.js';
import { startDtmfSender } from '../helpers/dtmf-sender.js';
import { concatPayload } from '../helpers/rtp-listener.js';
import { startSippUac } from '../helpers/sipp-uac.js';
import { bootAndReadLine, expectDialog, registerLine, runCleanups, speechOf, startLinePhone, voiceHarness, type Cleanups } from '../helpers/voice-kit.js';

const cleanups: Cleanups = [];
afterEach(() => runCleanups(cleanups));

const TORTURE = join(import.meta.dirname, '..', 'fixtures', 'rfc4475');
/** RFC 4475 §3.1.2: invalid messages (and §3.3.9 mcl01); bigcode and scalarlg are responses. */
const INVALID = [
  'badinv01',
  'clerr',
  'ncl',
  'scalar02',
  'quotbal',
  'ltgtruri',
  'lwsruri',
  'lwsstart',
  'trws',
  'escruri',
  'regbadct',
  'badaspec',
  'baddn',
  'badvers',
  'mismatch01',
  'mismatch02',
  'mcl01',
  'bigcode',
  'scalarlg',
];

/** Answers RFC 4475 allows besides 400: 505 for an unknown SIP version (§3.1.2.16), 501 for an unknown method (§3.1.2.18). */
const ALSO_ALLOWED: Record<string, number[]> = { badvers: [400, 505], mismatch02: [400, 501] };

/** A UDP socket that sends datagrams to the agent and collects what comes back. */
async function probe(h: Harness): Promise<{ send(data: Buffer | string): Promise<string[]>; port: number }> {
  const sock = dgram.createSocket('udp4');
  const answers: string[] = [];
  sock.on('message', (m) => answers.push(m.toString('latin1')));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
  return {
    port: sock.address().port,
    async send(data) {
      answers.length = 0;
      await new Promise<void>((resolve, reject) => sock.send(data, h.agent.sipPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      await new Promise((r) => setTimeout(r, 150));
      return [...answers];
    },
  };
}

const status = (answer: string): number => Number(/^SIP\/2\.0 (\d{3}) /.exec(answer)?.[1] ?? NaN);

function options(agentPort: number, myPort: number, n: number): string {
  return [
    `OPTIONS sip:127.0.0.1:${agentPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${myPort};branch=z9hG4bK-probe-${n};rport`,
    'From: <sip:probe@127.0.0.1>;tag=probe',
    `To: <sip:127.0.0.1:${agentPort}>`,
    `Call-ID: probe-${n}@127.0.0.1`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('credentials', () => {
  it('a REGISTER with a wrong password is challenged again and registers nothing; so is an unknown line', async () => {
    const h = await voiceHarness(cleanups);
    const phone = DEMO_PHONES.yealink;
    const line = await bootAndReadLine(h, phone);
    for (const [username, password] of [
      [line.username, `${line.password}x`],
      ['hd-0000000000ff', line.password],
    ] as const) {
      const sipp = await startSippUac({
        scenario: 'voice-register-wrong.xml',
        remote: `127.0.0.1:${h.agent.sipPort}`,
        auth: { username, password },
        keys: { lineuser: username },
        timeoutS: 10,
      });
      cleanups.push(() => sipp.kill());
      const r = await sipp.exit;
      expect(r.code, r.out).toBe(0);
    }
    expect(h.agent.sqlite.getHotdeskLine(phone.mac)?.registration).toBeNull();
    const audit = (await h.api('GET', `/api/v1/audit?phone=${phone.mac}&kind=line-registered`)).json as { events: unknown[] };
    expect(audit.events).toEqual([]);
  });

  it('an INVITE without credentials from an address that is no PBX is challenged (401), never answered', async () => {
    const h = await voiceHarness(cleanups);
    const phone = DEMO_PHONES.snom;
    const line = await bootAndReadLine(h, phone);
    const sipp = await startSippUac({
      scenario: 'voice-invite-noauth.xml',
      remote: `127.0.0.1:${h.agent.sipPort}`,
      service: '*35*001*1234',
      keys: { lineuser: line.username, rtp_port: '40000' },
      timeoutS: 10,
    });
    cleanups.push(() => sipp.kill());
    const r = await sipp.exit;
    expect(r.code, r.out).toBe(0);
    expect(h.agent.sqlite.sessionOf(phone.mac)).toBeUndefined();
  });
});

describe('malformed input', () => {
  it('answers RFC 4475 invalid requests with 400 (or the 505/501 the RFC allows) or not at all, garbage not at all, and keeps serving', async () => {
    const h = await voiceHarness(cleanups);
    const p = await probe(h);
    expect(readdirSync(TORTURE)).toEqual(expect.arrayContaining(INVALID.map((n) => `${n}.dat`)));
    const answered: Record<string, number[]> = {};
    for (const name of INVALID) {
      answered[name] = (await p.send(readFileSync(join(TORTURE, `${name}.dat`)))).map(status);
    }
    for (const [name, codes] of Object.entries(answered)) {
      expect(codes.length, name).toBeLessThanOrEqual(1);
      for (const c of codes) expect(ALSO_ALLOWED[name] ?? [400], `${name} answered ${c}`).toContain(c);
    }
    // Not vacuous: the requests the agent can read enough of get their 400.
    expect(Object.values(answered).filter((c) => c[0] === 400).length).toBeGreaterThanOrEqual(8);
    // Nothing at all for the responses among them.
    expect(answered['bigcode']).toEqual([]);
    expect(answered['scalarlg']).toEqual([]);

    // Datagrams that are no SIP request get nothing; a bare request line at most a 400.
    const garbage: (Buffer | string)[] = [
      Buffer.alloc(0),
      Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0x80]),
      Buffer.from(Array.from({ length: 1400 }, (_, i) => (i * 7919) & 0xff)),
      'INVITE',
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nCall-ID: x\r\nCSeq: 1 NOTIFY\r\n\r\n',
      `${'A'.repeat(60_000)}\r\n\r\n`,
      '\r\n\r\n',
    ];
    for (const g of garbage) expect(await p.send(g)).toEqual([]);
    for (const c of (await p.send('INVITE sip:x SIP/2.0\r\n\r\n')).map(status)) expect(c).toBe(400);

    // Still serving: an OPTIONS is answered 200, a phone registers.
    const ok = await p.send(options(h.agent.sipPort, p.port, 1));
    expect(ok.map(status)).toEqual([200]);
    expect(ok[0]).toMatch(/^Allow: .*INVITE.*REGISTER/m);
    const line = await bootAndReadLine(h, DEMO_PHONES.poly);
    await registerLine(cleanups, h, line);
    expect(h.agent.sqlite.getHotdeskLine(DEMO_PHONES.poly.mac)?.registration).not.toBeNull();
  });
});

describe('call limit', () => {
  it('with callLimit 1 a second concurrent call is answered 486 Busy Here, after its credentials', async () => {
    const h = await voiceHarness(cleanups, { callLimit: 1 });
    const first = await bootAndReadLine(h, DEMO_PHONES.yealink);
    const second = await bootAndReadLine(h, DEMO_PHONES.snom);
    // The first call waits for a PIN: it stays up.
    const call = await startLinePhone(cleanups, h, first, { scenario: 'voice-login.xml', service: '*35*001' });
    await call.rtp.waitForPackets(5);
    const busy = await startSippUac({
      scenario: 'voice-busy.xml',
      remote: `127.0.0.1:${h.agent.sipPort}`,
      service: '*35*001*1234',
      auth: { username: second.username, password: second.password },
      authUri: `*35*001*1234@127.0.0.1:${h.agent.sipPort}`,
      keys: { lineuser: second.username, rtp_port: '40000' },
      timeoutS: 10,
    });
    cleanups.push(() => busy.kill());
    const r = await busy.exit;
    expect(r.code, r.out).toBe(0);
    expect(h.agent.sqlite.sessionOf(DEMO_PHONES.snom.mac)).toBeUndefined();
    expect(h.agent.voice.server.activeCalls).toBe(1);
  });
});

describe('media from strangers', () => {
  it('key presses from an address other than the SDP one are ignored; from the SDP address they log in', async () => {
    const h = await voiceHarness(cleanups);
    const phone = DEMO_PHONES.yealink;
    const line = await bootAndReadLine(h, phone);
    // The phone's SDP names 127.0.0.3 for media (allowed: the call is authenticated); SIP comes from 127.0.0.1.
    const call = await startLinePhone(cleanups, h, line, { scenario: 'voice-login.xml', service: '*35*001', mediaIp: '127.0.0.3' });
    await call.rtp.waitForPackets(3);
    const agentRtp = { address: '127.0.0.1', port: call.rtp.packets[0]?.from.port ?? 0 };

    const stranger = await startDtmfSender('127.0.0.2');
    cleanups.push(() => stranger.close());
    await stranger.send(agentRtp, '1234#', 101);
    await new Promise((r) => setTimeout(r, 500));
    expect(h.agent.sqlite.sessionOf(phone.mac)).toBeUndefined();

    const own = await startDtmfSender('127.0.0.3');
    cleanups.push(() => own.close());
    await own.send(agentRtp, '1234#', 101);
    const r = await call.sipp.exit;
    expect(r.code, r.out).toBe(0);
    await eventually(() => h.agent.sqlite.sessionOf(phone.mac)?.userExt === '001', 2_000, 'login of 001');
    await expectDialog(concatPayload(call.rtp.packets), [['ask-pin']], speechOf('logged-in', '001'));
  });
});
