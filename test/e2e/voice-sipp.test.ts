/**
 * The hot-desk line end to end with SIPp as each vendor's demo phone, on
 * loopback with real sockets: the phone fetches its (logged-out) secret
 * file, reads the line labelled "Hot desk" in its own vendor syntax,
 * registers it to the agent (digest, 401 then 200), dials `*35*001*1234`
 * over it (401, ACK, INVITE with credentials, 200 with the SDP answer, ACK),
 * hears the outcome as G.711 RTP on a socket of the test, is hung up on
 * (BYE), receives the check-sync NOTIFY at the address it registered from,
 * and its re-fetched file carries user 001's line. Also: another number on a
 * logged-out phone hears "no user"; an emergency number is redirected (302)
 * to the PBX; keys typed as SIP INFO drive the spoken dialog.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_PHONES, type DemoPhone, type Harness } from '../helpers/agent-harness.js';
import { slotOneUser } from '../helpers/hotdesk-line-file.js';
import { codecOfPayloadType, concatPayload, streamProblems, type RtpRecord } from '../helpers/rtp-listener.js';
import { startSippUac } from '../helpers/sipp-uac.js';
import { bootAndReadLine, expectDialog, expectedSpeech, runCleanups, speechOf, startLinePhone, voiceHarness, type Cleanups } from '../helpers/voice-kit.js';

const cleanups: Cleanups = [];
afterEach(() => runCleanups(cleanups));

interface PhoneView {
  sync: { state: string };
  user: { ext: string } | null;
  hotdeskLine: { username: string; registered: boolean; address: string | null; port: number | null; userAgent: string | null } | null;
}

async function phoneView(h: Harness, mac: string): Promise<PhoneView> {
  const r = await h.api('GET', `/api/v1/phones/${mac}`);
  expect(r.status).toBe(200);
  return r.json as PhoneView;
}

/** Asserts the packets are one clean 20 ms G.711 talkspurt (one prompt sequence) from the agent's RTP range. */
function expectCleanStream(packets: readonly RtpRecord[], payloadType: number): void {
  expect(packets.length).toBeGreaterThan(0);
  expect(streamProblems(packets, payloadType)).toEqual([]);
  // One talkspurt: the marker bit on the first packet only, so every timestamp step is +160.
  expect(packets.map((p, i) => (p.marker ? i : -1)).filter((i) => i >= 0)).toEqual([0]);
  const sources = new Set(packets.map((p) => `${p.from.address}:${p.from.port}`));
  expect(sources.size).toBe(1);
  const from = packets[0]?.from;
  expect(from?.address).toBe('127.0.0.1');
  expect(from && from.port >= 40000 && from.port <= 40999 && from.port % 2 === 0).toBe(true);
}

const VENDORS: readonly { phone: DemoPhone; codecs: string; te: number }[] = [
  { phone: DEMO_PHONES.yealink, codecs: '0 8', te: 101 },
  // Snom offered A-law first: the agent keeps the offerer's order.
  { phone: DEMO_PHONES.snom, codecs: '8 0', te: 101 },
  // Poly's factory files use payload type 127 for telephone-event.
  { phone: DEMO_PHONES.poly, codecs: '0 8', te: 127 },
];

describe.each(VENDORS)('hot-desk line of the $phone.vendor demo phone', ({ phone, codecs, te }) => {
  it('registers, dials *35*001*1234, hears the login, is hung up on, gets check-sync, then carries 001', async () => {
    const h = await voiceHarness(cleanups);
    const line = await bootAndReadLine(h, phone);
    expect(line.username).toBe(`hd-${phone.mac}`);
    expect(line.password).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(line.server).toBe(`127.0.0.1:${h.agent.sipPort}`);
    expect(h.agent.sqlite.sessionOf(phone.mac)).toBeUndefined();

    const call = await startLinePhone(cleanups, h, line, { scenario: 'voice-login.xml', service: '*35*001*1234', codecs, te });
    const r = await call.sipp.exit;
    expect(r.code, r.out).toBe(0);

    // The registrar kept the binding: the address and port sipp registered from.
    const reg = h.agent.sqlite.getHotdeskLine(phone.mac)?.registration;
    expect(reg).toMatchObject({ address: '127.0.0.1', port: call.sipp.port, transport: 'udp' });
    expect(reg?.expiresAt).toBeGreaterThan(Date.now());

    // What the phone heard: "You are logged in as 0 0 1", one clean stream in the offered codec.
    const pt = Number(codecs.split(' ')[0]);
    expectCleanStream(call.rtp.packets, pt);
    const heard = concatPayload(call.rtp.packets);
    const expected = await expectedSpeech(speechOf('logged-in', '001'), codecOfPayloadType(pt));
    expect(heard.length).toBe(expected.length);
    expect(heard.equals(expected)).toBe(true);
    expect(call.rtp.strays).toBe(0);

    // Logged in, and the phone's re-fetched file carries 001's line next to the hot-desk line.
    expect(h.agent.sqlite.sessionOf(phone.mac)?.userExt).toBe('001');
    const after = await h.fetchAs(phone);
    expect(after.status).toBe(200);
    expect(slotOneUser(phone.vendor, after.body)).toBe('001');
    expect(after.body).toContain('reception-secret');
    expect(after.body).toContain(line.username);
    const view = await phoneView(h, phone.mac);
    expect(view.user?.ext).toBe('001');
    expect(view.sync.state).toBe('synced');
    expect(view.hotdeskLine).toMatchObject({
      username: line.username,
      registered: true,
      address: '127.0.0.1',
      port: call.sipp.port,
      userAgent: 'sipp hot-desk line',
    });
  });
});

describe('hot-desk line: other numbers', () => {
  it('a number that is no feature code, on a logged-out phone, hears "no user" and nothing changes', async () => {
    const h = await voiceHarness(cleanups);
    const phone = DEMO_PHONES.yealink;
    const line = await bootAndReadLine(h, phone);
    const call = await startLinePhone(cleanups, h, line, { scenario: 'voice-login.xml', service: '0201234567', expectNotify: false });
    const r = await call.sipp.exit;
    expect(r.code, r.out).toBe(0);
    expectCleanStream(call.rtp.packets, 0);
    const heard = concatPayload(call.rtp.packets);
    expect(heard.equals(await expectedSpeech(['no-user'], 'PCMU'))).toBe(true);
    expect(h.agent.sqlite.sessionOf(phone.mac)).toBeUndefined();
  });

  it.each(['112', '911', '999'])('emergency number %s is redirected to the PBX (302), never answered', async (number) => {
    const h = await voiceHarness(cleanups);
    const phone = DEMO_PHONES.snom;
    const line = await bootAndReadLine(h, phone);
    const sipp = await startSippUac({
      scenario: 'voice-emergency.xml',
      remote: `127.0.0.1:${h.agent.sipPort}`,
      service: number,
      auth: { username: line.username, password: line.password },
      authUri: `${number}@127.0.0.1:${h.agent.sipPort}`,
      keys: { lineuser: line.username, rtp_port: '40000' },
      // The demo site's PBX is 127.0.0.1:5060 (examples/demo.yaml).
      globals: { expect_contact: `sip:${number}@127.0.0.1:5060` },
      timeoutS: 10,
    });
    cleanups.push(() => sipp.kill());
    const r = await sipp.exit;
    expect(r.code, r.out).toBe(0);
    expect(h.agent.sqlite.sessionOf(phone.mac)).toBeUndefined();
  });
});

describe('SIP INFO keys (application/dtmf-relay)', () => {
  it('*35, then 001# and 1234# as INFO requests, logs 001 in', async () => {
    const h = await voiceHarness(cleanups);
    const phone = DEMO_PHONES.yealink;
    const line = await bootAndReadLine(h, phone);
    const call = await startLinePhone(cleanups, h, line, { scenario: 'voice-info-dtmf.xml', service: '*35' });
    const r = await call.sipp.exit;
    expect(r.code, r.out).toBe(0);
    expect(streamProblems(call.rtp.packets, 0)).toEqual([]);
    await expectDialog(concatPayload(call.rtp.packets), [['ask-extension'], ['ask-pin']], speechOf('logged-in', '001'));
    expect(h.agent.sqlite.sessionOf(phone.mac)?.userExt).toBe('001');
  });
});
