/**
 * The spoken dialog on the hot-desk line with keys typed during the call,
 * SIPp as the phone, on loopback with real sockets: RFC 4733 events made by
 * SIPp's own generator (play_dtmf), replayed from the captures SIPp ships,
 * and made by the test from two RTP sources (SIP INFO keys: voice-sipp.test.ts).
 * The test hears what the agent says on its own RTP socket and finds each
 * expected prompt in the stream (a key typed while a question is spoken cuts
 * it short: only its start is there).
 *
 * SIPp's play_dtmf starts every entry with a new SSRC and the same RTP
 * timestamps (24000 on); RFC 3550 §8 allows that, so the agent must tell
 * events apart per source, not by timestamp alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { VoicePromptId } from '../../agent/core/voice-prompts.js';
import { DEMO_PHONES, eventually } from '../helpers/agent-harness.js';
import { concatPayload, streamProblems } from '../helpers/rtp-listener.js';
import { startDtmfSender } from '../helpers/dtmf-sender.js';
import { bootAndReadLine, expectDialog, runCleanups, speechOf, startLinePhone, voiceHarness, type Cleanups } from '../helpers/voice-kit.js';

const cleanups: Cleanups = [];
afterEach(() => runCleanups(cleanups));

describe('RFC 4733 keys from SIPp (play_dtmf, payload type 96)', () => {
  it('*35 asks for the short number, 001# asks for the PIN, 1234# logs 001 in', async () => {
    const h = await voiceHarness(cleanups);
    const phone = DEMO_PHONES.yealink;
    const line = await bootAndReadLine(h, phone);
    const call = await startLinePhone(cleanups, h, line, {
      scenario: 'voice-dtmf.xml',
      service: '*35',
      te: 96,
      globals: { e1: '001#', e2: '1234#', e3: '', e4: '' },
    });
    const r = await call.sipp.exit;
    expect(r.code, r.out).toBe(0);
    expect(streamProblems(call.rtp.packets, 0)).toEqual([]);
    await expectDialog(concatPayload(call.rtp.packets), [['ask-extension'], ['ask-pin']], speechOf('logged-in', '001'));
    expect(h.agent.sqlite.sessionOf(phone.mac)?.userExt).toBe('001');
  });

  it('a wrong PIN is refused and asked again, twice, then the right one logs in', async () => {
    const h = await voiceHarness(cleanups);
    const phone = DEMO_PHONES.snom;
    const line = await bootAndReadLine(h, phone);
    const call = await startLinePhone(cleanups, h, line, {
      scenario: 'voice-dtmf.xml',
      service: '*35',
      te: 96,
      globals: { e1: '001#', e2: '9999#', e3: '8888#', e4: '1234#' },
      timeoutS: 28,
    });
    const r = await call.sipp.exit;
    expect(r.code, r.out).toBe(0);
    expect(streamProblems(call.rtp.packets, 0)).toEqual([]);
    const again: VoicePromptId[] = [...speechOf('wrong-pin'), 'ask-pin'];
    await expectDialog(concatPayload(call.rtp.packets), [['ask-extension'], ['ask-pin'], again, again], speechOf('logged-in', '001'));
    expect(h.agent.sqlite.sessionOf(phone.mac)?.userExt).toBe('001');
    const audit = (await h.api('GET', `/api/v1/audit?phone=${phone.mac}&limit=100`)).json as { events: { kind: string }[] };
    expect(audit.events.filter((e) => e.kind === 'login')).toHaveLength(1);
  }, 40_000);
});

describe('RFC 4733 keys from two RTP sources of the phone', () => {
  it('keys from a new SSRC count even when its timestamps repeat those of the previous source', async () => {
    const h = await voiceHarness(cleanups);
    const phone = DEMO_PHONES.snom;
    const line = await bootAndReadLine(h, phone);
    const call = await startLinePhone(cleanups, h, line, { scenario: 'voice-login.xml', service: '*35' });
    await call.rtp.waitForPackets(3);
    const agentRtp = { address: '127.0.0.1', port: call.rtp.packets[0]?.from.port ?? 0 };
    // As SIPp's play_dtmf does for every entry (RFC 3550 §8 lets a sender change SSRC): new SSRC, same timestamps.
    const first = await startDtmfSender('127.0.0.1', { ssrc: 0x1111, timestamp: 24_000 });
    cleanups.push(() => first.close());
    await first.send(agentRtp, '001#', 101);
    await new Promise((r) => setTimeout(r, 800));
    const second = await startDtmfSender('127.0.0.1', { ssrc: 0x2222, timestamp: 24_000 });
    cleanups.push(() => second.close());
    await second.send(agentRtp, '1234#', 101);
    await eventually(() => h.agent.sqlite.sessionOf(phone.mac)?.userExt === '001', 5_000, 'the PIN typed from the second source to log 001 in');
    const r = await call.sipp.exit;
    expect(r.code, r.out).toBe(0);
  });
});

describe("RFC 4733 keys from SIPp's shipped captures (payload type 101)", () => {
  it('*35*102 asks for the PIN; 8765# replayed from the pcaps logs 102 in', async () => {
    const h = await voiceHarness(cleanups);
    const phone = DEMO_PHONES.poly;
    const line = await bootAndReadLine(h, phone);
    const call = await startLinePhone(cleanups, h, line, { scenario: 'voice-pcap-dtmf.xml', service: '*35*102', te: 101 });
    const r = await call.sipp.exit;
    expect(r.code, r.out).toBe(0);
    expect(streamProblems(call.rtp.packets, 0)).toEqual([]);
    await expectDialog(concatPayload(call.rtp.packets), [['ask-pin']], speechOf('logged-in', '102'));
    expect(h.agent.sqlite.sessionOf(phone.mac)?.userExt).toBe('102');
  });
});
