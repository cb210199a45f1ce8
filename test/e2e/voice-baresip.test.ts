/**
 * baresip (Debian) as a second, independent desk phone on the hot-desk line,
 * on loopback with real sockets: it registers the line read from the demo
 * Yealink's own secret file, dials `*35*001*1234` through its control
 * interface, and records what it hears (baresip's sndfile module). The agent
 * shows the registration in the REST API, 001 is logged in, and the
 * recording holds the spoken outcome, sample for sample as G.711 decodes it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMuLaw } from '../../agent/protocols/g711.js';
import { DEMO_PHONES, eventually } from '../helpers/agent-harness.js';
import { baresipModules, readPcmWav, startBaresip, type BaresipMessage } from '../helpers/baresip.js';
import { bootAndReadLine, expectedSpeech, runCleanups, speechOf, voiceHarness, type Cleanups } from '../helpers/voice-kit.js';

const cleanups: Cleanups = [];
afterEach(() => runCleanups(cleanups));

const modules = baresipModules();

const rms = (s: Int16Array): number => Math.sqrt(s.reduce((a, v) => a + v * v, 0) / Math.max(1, s.length));

describe.skipIf(modules === null)('baresip on the hot-desk line', () => {
  it('registers, dials *35*001*1234, is answered, hears the login and is hung up on; 001 is logged in', async () => {
    const h = await voiceHarness(cleanups);
    const phone = DEMO_PHONES.yealink;
    const line = await bootAndReadLine(h, phone);
    const bs = await startBaresip({
      account: `<sip:${line.username}@${line.server}>;auth_pass=${line.password};regint=60`,
      modules: modules ?? '',
    });
    cleanups.push(() => bs.stop());
    const event = (type: string) => (m: BaresipMessage) => m.event === true && m.type === type;

    // Registered (baresip may have registered before the control connection was up: ask the agent).
    const view = await eventually(
      async () => {
        const v = (await h.api('GET', `/api/v1/phones/${phone.mac}`)).json as { hotdeskLine: Record<string, unknown> | null };
        return v.hotdeskLine?.['registered'] === true ? v : undefined;
      },
      10_000,
      `registration of ${line.username}`,
    );
    expect(view.hotdeskLine).toMatchObject({ username: line.username, registered: true, address: '127.0.0.1', port: bs.sipPort });
    expect(String(view.hotdeskLine?.['userAgent'])).toMatch(/baresip/i);

    const dial = await bs.command('dial', '*35*001*1234');
    expect(dial.ok, JSON.stringify(dial)).toBe(true);
    await bs.waitFor(event('CALL_ESTABLISHED'), 10_000, 'CALL_ESTABLISHED');
    await bs.waitFor(event('CALL_CLOSED'), 20_000, 'CALL_CLOSED (the agent hangs up)');
    await eventually(() => h.agent.sqlite.sessionOf(phone.mac)?.userExt === '001', 5_000, 'session of 001');
    const sessions = (await h.api('GET', '/api/v1/sessions')).json as { sessions: { phone: string; user: string }[] };
    expect(sessions.sessions).toEqual([expect.objectContaining({ phone: phone.mac, user: '001' })]);

    // What baresip heard: the agent's "You are logged in as 0 0 1". Decoders differ only in what the two
    // μ-law zero codes become (baresip: ±2, the agent's table: 0), so the recording, encoded again, must
    // be the very bytes the agent sent, from the first packet on.
    const files = await eventually(
      () => {
        const d = bs.recordings().decoded;
        return d.length > 0 ? d : undefined;
      },
      5_000,
      'a recording',
    );
    expect(files).toHaveLength(1);
    const heard = readPcmWav(files[0] ?? '');
    expect(heard.rate).toBe(8000);
    expect(rms(heard.samples)).toBeGreaterThan(200);
    const sent = await expectedSpeech(speechOf('logged-in', '001'), 'PCMU');
    const again = Buffer.from(encodeMuLaw(heard.samples));
    const at = again.indexOf(sent.subarray(0, 1600));
    expect(at, bs.log()).toBeGreaterThanOrEqual(0);
    const overlap = Math.min(sent.length, again.length - at);
    // About as long as the speech: baresip may keep its last jitter-buffer frames when the agent hangs up.
    expect(overlap).toBeGreaterThanOrEqual(sent.length * 0.9);
    expect(again.subarray(at, at + overlap).equals(sent.subarray(0, overlap))).toBe(true);
  });
});
