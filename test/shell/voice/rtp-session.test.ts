/**
 * The RTP session over real UDP on loopback: a test socket plays the phone.
 * Sequence numbers, timestamps and payloads are checked exactly; timing only
 * as lower bounds (deadline scheduling never sends early), which holds on a
 * loaded machine.
 */
import dgram from 'node:dgram';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeMuLaw, encodeALaw, encodeMuLaw, MU_LAW_SILENCE } from '../../../agent/protocols/g711.js';
import { encodeTelephoneEvent } from '../../../agent/protocols/rtp-dtmf.js';
import { encodeRtpPacket, parseRtpPacket, type RtpPacket } from '../../../agent/protocols/rtp-packet.js';
import type { NegotiatedMedia } from '../../../agent/protocols/sdp.js';
import { RtpPortPool } from '../../../agent/shell/voice/rtp-port-pool.js';
import { RtpSession } from '../../../agent/shell/voice/rtp-session.js';
import { readPcapUdp } from '../../helpers/pcap.js';

const HOST = '127.0.0.1';
const SLACK_MS = 2; // timer granularity: a slot may go out up to 1 ms early

interface Phone {
  readonly socket: dgram.Socket;
  readonly port: number;
  readonly packets: { at: number; p: RtpPacket }[];
  send(data: Uint8Array): void;
  /** Resolves once `n` packets arrived (or rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<void>;
}

async function phoneOn(address: string): Promise<Phone> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, address, r));
  const packets: Phone['packets'] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  socket.on('message', (m) => {
    const r = parseRtpPacket(m);
    if (!r.ok) throw new Error(r.error);
    packets.push({ at: performance.now(), p: r.packet });
    for (const w of waiters) if (packets.length >= w.n) w.resolve();
  });
  return {
    socket,
    port: socket.address().port,
    packets,
    send: (data) => socket.send(data, session.port, HOST),
    waitFor: (n, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (packets.length >= n) return resolve();
        const t = setTimeout(() => reject(new Error(`only ${packets.length} of ${n} packets`)), ms);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      }),
  };
}

const media = (phone: Phone, over: Partial<NegotiatedMedia> = {}): NegotiatedMedia => ({
  remoteAddress: HOST,
  remotePort: phone.port,
  codec: 'PCMU',
  payloadType: 0,
  telephoneEvent: 101,
  direction: 'sendrecv',
  onHold: false,
  ptimeMs: 20,
  ...over,
});

/** A 440 Hz tone, `frames` × 20 ms (plus `extra` samples). */
const tone = (frames: number, extra = 0): Int16Array =>
  Int16Array.from({ length: frames * 160 + extra }, (_, i) => Math.round(9000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The RFC 4733 packets of one key press from the phone: start, two updates, E bit three times. */
function keyPress(digit: number, timestamp: number, seq: number): Uint8Array[] {
  const packet = (i: number, end: boolean, duration: number): Uint8Array =>
    encodeRtpPacket({
      marker: i === 0,
      payloadType: 101,
      sequence: seq + i,
      timestamp,
      ssrc: 77,
      payload: encodeTelephoneEvent({ event: digit, end, volume: 10, duration }),
    });
  return [packet(0, false, 0), packet(1, false, 400), packet(2, false, 800), packet(3, true, 1200), packet(3, true, 1200), packet(3, true, 1200)];
}

let pool: RtpPortPool;
let session: RtpSession;
let phone: Phone;
const closers: (() => void)[] = [];

beforeEach(async () => {
  const base = 20000 + 2 * Math.floor(Math.random() * 10000);
  pool = new RtpPortPool({ address: HOST, min: base, max: base + 200 });
  session = await RtpSession.open(pool, { dtmfQuietMs: 150 });
  phone = await phoneOn(HOST);
  closers.push(() => phone.socket.close());
});
afterEach(() => {
  session.close();
  for (const c of closers.splice(0)) c();
});

describe('RTP session: sending prompts', () => {
  it('sends 20 ms G.711 frames with exact numbering, the played samples, and never early', async () => {
    session.setRemote(media(phone));
    const samples = tone(25, 80); // 25 frames and a half
    const t0 = performance.now();
    const result = await session.play(samples);
    const elapsed = performance.now() - t0;
    expect(result).toBe('done');
    await phone.waitFor(26);
    const pk = phone.packets.map((x) => x.p);
    expect(pk).toHaveLength(26);
    for (const [i, p] of pk.entries()) {
      expect(p.payloadType).toBe(0);
      expect(p.ssrc).toBe(pk[0]?.ssrc);
      expect(p.sequence).toBe(((pk[0]?.sequence ?? 0) + i) & 0xffff);
      expect(p.timestamp).toBe(((pk[0]?.timestamp ?? 0) + 160 * i) >>> 0);
      expect(p.marker).toBe(i === 0);
      expect(p.payload).toHaveLength(160);
    }
    // The phone decodes exactly the G.711 image of what was played; the half frame is padded with silence.
    const received = new Uint8Array(pk.flatMap((p) => [...p.payload]));
    expect([...received.subarray(0, samples.length)]).toEqual([...encodeMuLaw(samples)]);
    expect([...received.subarray(samples.length)]).toEqual(new Array(80).fill(MU_LAW_SILENCE));
    expect([...decodeMuLaw(received.subarray(0, 160))]).toEqual([...decodeMuLaw(encodeMuLaw(samples.subarray(0, 160)))]);
    // Deadline scheduling: packet k never leaves before t0 + 20k ms; play() lasts the audio's duration.
    const last = phone.packets[25]?.at ?? 0;
    expect(last - t0).toBeGreaterThanOrEqual(25 * 20 - SLACK_MS);
    expect(elapsed).toBeGreaterThanOrEqual(26 * 20 - SLACK_MS);
    expect(session.stats).toMatchObject({ sent: 26, stalls: 0 });
  });

  it('starts each session at a random SSRC, sequence number and timestamp (RFC 3550 §5.1)', async () => {
    const other = await RtpSession.open(pool);
    closers.push(() => other.close());
    session.setRemote(media(phone));
    other.setRemote(media(phone));
    await Promise.all([session.play(tone(1)), other.play(tone(1))]);
    await phone.waitFor(2);
    const [a, b] = phone.packets.map((x) => x.p);
    expect(a?.ssrc).not.toBe(b?.ssrc);
    expect([a?.sequence, a?.timestamp]).not.toEqual([b?.sequence, b?.timestamp]);
    expect(other.port).not.toBe(session.port);
  });

  it('sends PCMA with the negotiated (dynamic) payload type', async () => {
    session.setRemote(media(phone, { codec: 'PCMA', payloadType: 96 }));
    const samples = tone(3);
    await session.play(samples);
    await phone.waitFor(3);
    expect(phone.packets.map((x) => x.p.payloadType)).toEqual([96, 96, 96]);
    expect([...phone.packets.flatMap((x) => [...x.p.payload])]).toEqual([...encodeALaw(samples)]);
  });

  it('continues sequence and timestamps across back-to-back prompts; a pause starts a talkspurt (virtual clock)', async () => {
    let clock = 1000;
    session.close();
    session = await RtpSession.open(pool, { now: () => clock });
    session.setRemote(media(phone));
    const a = session.play(tone(2)); // frame 0 at 1000, frame 1 at 1020, done at 1040
    await phone.waitFor(1);
    clock = 1020;
    await phone.waitFor(2);
    clock = 1040;
    expect(await a).toBe('done');
    const b = session.play(tone(2)); // back to back: frames at 1040 and 1060 in the same stream
    await phone.waitFor(3);
    clock = 1060;
    await phone.waitFor(4);
    clock = 1080;
    expect(await b).toBe('done');
    clock = 1285; // 205 ms of silence: the grid moves 10 slots, to 1280
    const c = session.play(tone(2));
    await phone.waitFor(5);
    clock = 1300;
    await phone.waitFor(6);
    await sleep(30);
    expect(session.playing).toBe(true); // the last frame's 20 ms are not over before the clock says so
    clock = 1320;
    expect(await c).toBe('done');
    const pk = phone.packets.map((x) => x.p);
    expect(pk).toHaveLength(6);
    expect(pk.map((p) => (p.sequence - (pk[0]?.sequence ?? 0)) & 0xffff)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pk.map((p) => ((p.timestamp - (pk[0]?.timestamp ?? 0)) >>> 0) / 160)).toEqual([0, 1, 2, 3, 14, 15]);
    expect(pk.map((p) => p.marker)).toEqual([true, false, false, false, true, false]);
  });

  it('starts a talkspurt (marker, timestamp advanced by at least the pause) after a real pause', async () => {
    session.setRemote(media(phone));
    await session.play(tone(2));
    await sleep(200);
    await session.play(tone(1));
    await phone.waitFor(3);
    const [a, b, c] = phone.packets.map((x) => x.p);
    expect([a?.marker, b?.marker, c?.marker]).toEqual([true, false, true]);
    expect(c?.sequence).toBe(((b?.sequence ?? 0) + 1) & 0xffff);
    const jump = ((c?.timestamp ?? 0) - (b?.timestamp ?? 0)) >>> 0;
    expect(jump % 160).toBe(0);
    expect(jump).toBeGreaterThanOrEqual(160 * 10);
  });

  it('stops a prompt at once on stop() (barge-in) and sends nothing more', async () => {
    session.setRemote(media(phone));
    const playing = session.play(tone(250)); // 5 s
    await phone.waitFor(5);
    session.stop();
    expect(await playing).toBe('stopped');
    expect(session.playing).toBe(false);
    const sent = phone.packets.length;
    await sleep(120);
    expect(phone.packets.length).toBeLessThanOrEqual(sent + 1); // at most one already in flight
    expect(phone.packets.length).toBeLessThan(10);
    // A new play() ends the previous one the same way.
    const first = session.play(tone(250));
    const second = session.play(tone(1));
    expect(await first).toBe('stopped');
    expect(await second).toBe('done');
  });

  it('sends nothing on hold (the prompt still takes its time), then resumes the stream with a marker', async () => {
    session.setRemote(media(phone));
    await session.play(tone(2));
    session.setRemote(media(phone, { direction: 'sendonly', onHold: true }));
    const t0 = performance.now();
    expect(await session.play(tone(5))).toBe('done');
    // Back to back with the previous prompt, it may start up to one slot before play() was called.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(4 * 20 - SLACK_MS);
    await sleep(50);
    expect(phone.packets).toHaveLength(2);
    session.setRemote(media(phone));
    await session.play(tone(2));
    await phone.waitFor(4);
    const [a, b, c] = phone.packets.map((x) => x.p);
    expect(c?.marker).toBe(true);
    expect(c?.sequence).toBe(((b?.sequence ?? 0) + 1) & 0xffff);
    expect(((c?.timestamp ?? 0) - (a?.timestamp ?? 0)) >>> 0).toBeGreaterThanOrEqual(160 * 7);
    // A disabled stream (port 0) sends nothing either.
    session.setRemote(media(phone, { remotePort: 0 }));
    await session.play(tone(2));
    await sleep(30);
    expect(phone.packets).toHaveLength(4);
  });

  it('catches up at most a few packets after a stall, without losing audio', async () => {
    session.close();
    session = await RtpSession.open(pool, { maxCatchUp: 3 });
    session.setRemote(media(phone));
    const samples = tone(30);
    const t0 = performance.now();
    const playing = session.play(samples);
    await phone.waitFor(3);
    const spin = performance.now();
    while (performance.now() - spin < 250); // block the event loop: ~12 packets fall due
    expect(await playing).toBe('done');
    // Packets 4-6 went out at once after the stall, the other ~9 late ones were not burst: the rest of the
    // prompt moved later by the stall minus the catch-up (unbounded catch-up would end at t0 + 600 ms).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(40 + 250 + 25 * 20 - SLACK_MS);
    await phone.waitFor(30);
    const pk = phone.packets.map((x) => x.p);
    expect(pk.map((p) => (p.sequence - (pk[0]?.sequence ?? 0)) & 0xffff)).toEqual([...Array(30).keys()]);
    expect([...new Uint8Array(pk.flatMap((p) => [...p.payload]))]).toEqual([...encodeMuLaw(samples)]);
    expect(session.stats.stalls).toBeGreaterThanOrEqual(1);
  });
});

describe('RTP session: receiving DTMF', () => {
  it('reports each RFC 4733 key press once (triple E packets), ignoring audio and garbage', async () => {
    session.setRemote(media(phone));
    const digits: string[] = [];
    session.on('dtmf', (d) => digits.push(d));
    const keys = [10, 3, 5, 10, 1, 11]; // * 3 5 * 1 #
    let seq = 100;
    for (const [i, k] of keys.entries()) {
      for (const pkt of keyPress(k, 8000 + 2000 * i, seq)) phone.send(pkt);
      seq += 4;
      phone.send(encodeRtpPacket({ marker: false, payloadType: 0, sequence: seq++, timestamp: 9000 + i, ssrc: 77, payload: new Uint8Array(160) }));
      phone.send(Uint8Array.of(1, 2, 3));
    }
    await expectEventually(() => digits.join('') === '*35*1#');
    await sleep(250); // past the quiet time: nothing more
    expect(digits.join('')).toBe('*35*1#');
    expect(session.stats).toMatchObject({ digits: 6, dtmfPackets: 36, ignoredPayloadType: 6, ignoredMalformed: 6 });
  });

  it('reports a key press whose E packets were lost after the quiet time', async () => {
    session.setRemote(media(phone));
    const digits: string[] = [];
    session.on('dtmf', (d) => digits.push(d));
    for (const pkt of keyPress(7, 4000, 1).slice(0, 3)) phone.send(pkt);
    await expectEventually(() => digits.length === 1);
    expect(digits).toEqual(['7']);
  });

  it('ignores packets from any other address than the SDP one, but accepts any port of it', async () => {
    session.setRemote(media(phone));
    const digits: string[] = [];
    session.on('dtmf', (d) => digits.push(d));
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.2', r));
    closers.push(() => stranger.close());
    for (const pkt of keyPress(9, 100, 1)) stranger.send(pkt, session.port, HOST);
    await expectEventually(() => session.stats.ignoredSource === 6);
    await sleep(200);
    expect(digits).toEqual([]);
    // Same address as the SDP, another port: accepted (asymmetric RTP).
    const otherPort = dgram.createSocket('udp4');
    await new Promise<void>((r) => otherPort.bind(0, HOST, r));
    closers.push(() => otherPort.close());
    for (const pkt of keyPress(9, 100, 1)) otherPort.send(pkt, session.port, HOST);
    await expectEventually(() => digits.length === 1);
    expect(digits).toEqual(['9']);
  });

  it('ignores everything before the remote side is known, and telephone-events when none was negotiated', async () => {
    const digits: string[] = [];
    session.on('dtmf', (d) => digits.push(d));
    for (const pkt of keyPress(1, 100, 1)) phone.send(pkt);
    await expectEventually(() => session.stats.ignoredSource === 6);
    session.setRemote(media(phone, { telephoneEvent: null }));
    for (const pkt of keyPress(2, 200, 10)) phone.send(pkt);
    await expectEventually(() => session.stats.ignoredPayloadType === 6);
    await sleep(200);
    expect(digits).toEqual([]);
  });

  it("decodes the RTP of SIPp's dtmf_2833 captures replayed over UDP", async () => {
    session.setRemote(media(phone));
    const digits: string[] = [];
    session.on('dtmf', (d) => digits.push(d));
    for (const name of ['star', '3', '5', 'pound']) {
      for (const d of readPcapUdp(join('/usr/share/sip-tester', `dtmf_2833_${name}.pcap`))) phone.send(d.payload);
      await sleep(20);
    }
    await expectEventually(() => digits.length >= 4);
    await sleep(200);
    expect(digits.join('')).toBe('*35#'); // the captures are slices of one call: distinct timestamps, one digit each
  });

  it('releases the port on close; play after close is stopped', async () => {
    const port = session.port;
    expect(pool.inUse).toBe(1);
    session.setRemote(media(phone));
    const playing = session.play(tone(100));
    session.close();
    expect(await playing).toBe('stopped');
    expect(pool.inUse).toBe(0);
    expect(await session.play(tone(1))).toBe('stopped');
    const again = dgram.createSocket('udp4');
    await new Promise<void>((r, j) => {
      again.once('error', j);
      again.bind({ port, address: HOST, exclusive: true }, r);
    });
    again.close();
  });
});

async function expectEventually(cond: () => boolean, ms = 5_000): Promise<void> {
  const until = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}
