/**
 * A PBX forwarding feature-code calls to the agent as plain SIP, end to end
 * on loopback: Kamailio on 127.0.0.2 (test/fixtures/kamailio/pbx.cfg) relays
 * INVITEs whose Request-URI starts with *35 to the agent, which trusts it by
 * address (`voice.pbxAddresses: [127.0.0.2/32]` in
 * test/fixtures/kamailio/site.yaml) and finds the phone by the caller's SIP
 * user: the phone's device account, then the SIP account of the user logged
 * in on it. SIPp is the phone; the agent answers through the PBX (Record-Route)
 * and sends its audio straight to the phone's SDP address.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/agent-harness.js';
import { kamailioModules, startKamailio, type Kamailio } from '../helpers/kamailio.js';
import { concatPayload, startRtpListener, streamProblems, type RtpListener } from '../helpers/rtp-listener.js';
import { freeUdpPort } from '../helpers/sipp.js';
import { startSippUac } from '../helpers/sipp-uac.js';
import { dataDirFrom, expectedSpeech, runCleanups, speechOf, voiceHarness, type Cleanups } from '../helpers/voice-kit.js';

const cleanups: Cleanups = [];
afterEach(() => runCleanups(cleanups));

const modules = kamailioModules();
const SITE = join(import.meta.dirname, '..', 'fixtures', 'kamailio', 'site.yaml');
const PHONE = '001565aabb21';

/** SIPp as the phone calls `service` at the PBX from SIP user `caller`; resolves with the RTP it heard once the agent hung up. */
async function pbxCall(pbx: Kamailio, caller: string, service: string): Promise<RtpListener> {
  const rtp = await startRtpListener();
  cleanups.push(() => rtp.close());
  const sipp = await startSippUac({
    scenario: 'voice-pbx-call.xml',
    remote: `${pbx.host}:${pbx.port}`,
    service,
    keys: { caller, rtp_port: String(rtp.port) },
    timeoutS: 15,
  });
  cleanups.push(() => sipp.kill());
  const r = await sipp.exit;
  expect(r.code, `${r.out}\n--- kamailio\n${pbx.log().slice(-3000)}`).toBe(0);
  return rtp;
}

describe.skipIf(modules === null)('feature code through Kamailio', () => {
  it('the phone dials *35*001*1234 at its PBX and is logged in; then, calling from 001, *35 logs it out', async () => {
    const h = await voiceHarness(cleanups, { dataDir: await dataDirFrom(SITE) });
    const pbx = await startKamailio({ host: '127.0.0.2', port: await freeUdpPort(), agent: `127.0.0.1:${h.agent.sipPort}`, modules: modules ?? '' });
    cleanups.push(() => pbx.stop());

    // The phone calls its PBX from its device account: *35*001*1234 logs 001 in.
    const login = await pbxCall(pbx, 'desk21', '*35*001*1234');
    expect(streamProblems(login.packets, 8)).toEqual([]);
    expect(concatPayload(login.packets).equals(await expectedSpeech(speechOf('logged-in', '001'), 'PCMA'))).toBe(true);
    await eventually(() => h.agent.sqlite.sessionOf(PHONE)?.userExt === '001', 2_000, 'session of 001');
    expect(pbx.log()).toMatch(/hotdesk: \*35\*001\*1234 from desk21 to the agent/);

    // Now it carries 001's account and calls from it: the agent finds the phone by that user; *35 logs out.
    const logout = await pbxCall(pbx, '001', '*35');
    expect(concatPayload(logout.packets).equals(await expectedSpeech(speechOf('logged-out', '001'), 'PCMA'))).toBe(true);
    await eventually(() => h.agent.sqlite.sessionOf(PHONE) === undefined, 2_000, 'logout');
  });
});

describe('trust by address', () => {
  it("the same INVITE without credentials straight from the phone's address (no PBX of the site) is challenged", async () => {
    const h = await voiceHarness(cleanups, { dataDir: await dataDirFrom(SITE) });
    const sipp = await startSippUac({
      scenario: 'voice-invite-noauth.xml',
      remote: `127.0.0.1:${h.agent.sipPort}`,
      service: '*35*001*1234',
      // From: the phone's device account, as the PBX would forward it.
      keys: { lineuser: 'desk21', rtp_port: '40000' },
      timeoutS: 10,
    });
    cleanups.push(() => sipp.kill());
    const r = await sipp.exit;
    expect(r.code, r.out).toBe(0);
    expect(h.agent.sqlite.sessionOf(PHONE)).toBeUndefined();
  });
});
