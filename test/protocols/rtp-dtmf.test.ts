import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DTMF_REMEMBERED,
  type DtmfReceiverState,
  decodeTelephoneEvent,
  dtmfDigitOfEvent,
  dtmfTimeoutAt,
  encodeTelephoneEvent,
  eventOfDtmfDigit,
  onDtmfPacket,
  onDtmfTimeout,
  startDtmfReceiver,
} from '../../agent/protocols/rtp-dtmf.js';
import { parseRtpPacket } from '../../agent/protocols/rtp-packet.js';
import { readPcapUdp } from '../helpers/pcap.js';
import { mulberry32 } from '../helpers/prng.js';

/** One telephone-event packet as the receiver sees it. */
interface Ev {
  readonly timestamp: number;
  readonly event: number;
  readonly end: boolean;
  readonly duration: number;
}

const packet = (e: Ev): { timestamp: number; payload: Uint8Array } => ({ timestamp: e.timestamp, payload: encodeTelephoneEvent({ ...e, volume: 10 }) });

/** The packets a phone sends for one key press: start, updates every 400 samples, E bit three times. */
function press(digit: string, timestamp: number, updates = 3): Ev[] {
  const event = eventOfDtmfDigit(digit) ?? -1;
  const out: Ev[] = [];
  for (let i = 0; i <= updates; i++) out.push({ timestamp, event, end: false, duration: i * 400 });
  for (let i = 0; i < 3; i++) out.push({ timestamp, event, end: true, duration: (updates + 1) * 400 });
  return out;
}

/** Feeds packets at 50 ms intervals from `t0`; returns the digits and the final state. */
function feed(events: readonly Ev[], state: DtmfReceiverState = startDtmfReceiver(), t0 = 0): { digits: string[]; state: DtmfReceiverState; now: number } {
  const digits: string[] = [];
  let s = state;
  let now = t0;
  for (const e of events) {
    const step = onDtmfPacket(s, packet(e), now);
    s = step.state;
    digits.push(...step.digits);
    now += 50;
  }
  return { digits, state: s, now };
}

describe('telephone-event payload (RFC 4733 §2.3)', () => {
  it('decodes and encodes the event, E bit, volume and duration', () => {
    expect(decodeTelephoneEvent(Uint8Array.of(0x01, 0x0a, 0x00, 0x00))).toEqual({ ok: true, event: { event: 1, end: false, volume: 10, duration: 0 } });
    expect(decodeTelephoneEvent(Uint8Array.of(0x0b, 0xca, 0x08, 0xc0))).toEqual({ ok: true, event: { event: 11, end: true, volume: 10, duration: 2240 } });
    expect([...encodeTelephoneEvent({ event: 11, end: true, volume: 10, duration: 2240 })]).toEqual([0x0b, 0x8a, 0x08, 0xc0]);
    expect([...encodeTelephoneEvent({ event: 5, end: false, volume: 63, duration: 1e9 })]).toEqual([5, 63, 0xff, 0xff]);
    expect(decodeTelephoneEvent(Uint8Array.of(1, 2, 3)).ok).toBe(false);
    expect(decodeTelephoneEvent(new Uint8Array(0)).ok).toBe(false);
  });

  it('maps events 0-15 to 0-9 * # A-D and nothing else', () => {
    expect(Array.from({ length: 16 }, (_, i) => dtmfDigitOfEvent(i)).join('')).toBe('0123456789*#ABCD');
    for (const e of [-1, 16, 32, 255, 1.5]) expect(dtmfDigitOfEvent(e)).toBeNull();
    expect(eventOfDtmfDigit('#')).toBe(11);
    expect(eventOfDtmfDigit('d')).toBe(15);
    expect(eventOfDtmfDigit('E')).toBeNull();
    expect(eventOfDtmfDigit('12')).toBeNull();
  });
});

describe('RFC 4733 receiver: each key press reported exactly once', () => {
  it('reports a digit on its first E packet and ignores the two repeats', () => {
    const events = press('5', 1000);
    let s = startDtmfReceiver();
    const reportedAt: number[] = [];
    events.forEach((e, i) => {
      const step = onDtmfPacket(s, packet(e), i * 50);
      s = step.state;
      if (step.digits.length > 0) reportedAt.push(i);
      expect(step.digits.length === 0 || step.digits[0] === '5').toBe(true);
    });
    expect(reportedAt).toEqual([4]); // the first E packet
    expect(dtmfTimeoutAt(s)).toBeNull(); // nothing pending after the end
  });

  it('reads a whole PIN entry, repeated digits included (new timestamp = new digit)', () => {
    const keys = '*35*101*1234#';
    const events = [...keys].flatMap((k, i) => press(k, 8000 + i * 1600));
    expect(feed(events).digits.join('')).toBe(keys);
    expect(feed([...press('1', 10), ...press('1', 20)]).digits).toEqual(['1', '1']);
  });

  it('reports a digit whose E packets were all lost when the next event starts', () => {
    const lostEnd = press('7', 100).filter((e) => !e.end);
    const r = feed([...lostEnd, ...press('8', 2000).slice(0, 1)]);
    expect(r.digits).toEqual(['7']); // '8' is still pending
    expect(feed(press('8', 2000).slice(1), r.state, r.now).digits).toEqual(['8']);
  });

  it('reports a digit whose E packets were all lost after the quiet time, once', () => {
    const r = feed(
      press('9', 100).filter((e) => !e.end),
      startDtmfReceiver({ quietMs: 300 }),
      1000,
    );
    const last = r.now - 50;
    expect(dtmfTimeoutAt(r.state)).toBe(last + 300);
    expect(onDtmfTimeout(r.state, last + 299).digits).toEqual([]);
    const fired = onDtmfTimeout(r.state, last + 300);
    expect(fired.digits).toEqual(['9']);
    expect(dtmfTimeoutAt(fired.state)).toBeNull();
    expect(onDtmfTimeout(fired.state, last + 10_000).digits).toEqual([]);
    // The E packets arriving late after all do not report it again.
    expect(
      feed(
        press('9', 100).filter((e) => e.end),
        fired.state,
        last + 400,
      ).digits,
    ).toEqual([]);
  });

  it('never reports again on late or reordered packets of a reported event', () => {
    const a = press('1', 100);
    const b = press('2', 900);
    // b's start overtakes a's end packets; a's update arrives after everything.
    const order = [a[0], a[1], b[0], a[4], a[5], a[2], b[1], b[4], a[6], b[5], a[3], b[6]] as Ev[];
    expect(feed(order).digits).toEqual(['1', '2']);
  });

  it('ignores non-DTMF events, conflicting events on one timestamp, and garbage payloads', () => {
    let s = startDtmfReceiver();
    const flash = onDtmfPacket(s, packet({ timestamp: 5, event: 16, end: true, duration: 800 }), 0);
    expect(flash).toEqual({ state: s, digits: [] });
    s = onDtmfPacket(s, packet({ timestamp: 10, event: 3, end: false, duration: 0 }), 0).state;
    const conflicting = onDtmfPacket(s, packet({ timestamp: 10, event: 4, end: true, duration: 800 }), 10);
    expect(conflicting).toEqual({ state: s, digits: [] });
    expect(onDtmfPacket(s, { timestamp: 10, payload: Uint8Array.of(3) }, 20)).toEqual({ state: s, digits: [] });
    expect(onDtmfPacket(s, packet({ timestamp: 10, event: 3, end: true, duration: 800 }), 30).digits).toEqual(['3']);
  });

  it('treats the segments of a key held longer than 8 s as one press (RFC 4733 §2.5.1.3)', () => {
    const seg1: Ev[] = [0, 20000, 40000, 0xffff].map((d) => ({ timestamp: 500, event: 0, end: false, duration: d }));
    const seg2: Ev[] = [
      { timestamp: 500 + 0xffff, event: 0, end: false, duration: 4000 },
      ...[0, 1, 2].map(() => ({ timestamp: 500 + 0xffff, event: 0, end: true, duration: 8000 })),
    ];
    expect(feed([...seg1, ...seg2]).digits).toEqual(['0']);
    // A repeated key with a new timestamp after a short press is two presses.
    const short: Ev[] = [{ timestamp: 500, event: 0, end: false, duration: 800 }];
    expect(feed([...short, ...seg2]).digits).toEqual(['0', '0']);
  });

  it('survives random loss, duplication and reordering within each press (property)', () => {
    const rand = mulberry32(4733);
    for (let round = 0; round < 200; round++) {
      const keys = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => '0123456789*#ABCD'[Math.floor(rand() * 16)] ?? '0');
      const expected: string[] = [];
      const wire: Ev[] = [];
      let ts = Math.floor(rand() * 2 ** 32);
      for (const k of keys) {
        let pkts = press(k, ts >>> 0, Math.floor(rand() * 5)).filter(() => rand() > 0.3);
        pkts = pkts.flatMap((p) => (rand() < 0.2 ? [p, p] : [p]));
        for (let i = 1; i < pkts.length; i++) {
          if (rand() < 0.3) [pkts[i - 1], pkts[i]] = [pkts[i] as Ev, pkts[i - 1] as Ev];
        }
        if (pkts.length > 0) expected.push(k);
        wire.push(...pkts);
        ts += 800 + Math.floor(rand() * 8000);
      }
      const r = feed(wire);
      const tail = onDtmfTimeout(r.state, r.now + 10_000);
      expect([...r.digits, ...tail.digits].join(''), `round ${round}`).toBe(expected.join(''));
    }
  });

  it('keeps its state bounded whatever is sent', () => {
    const rand = mulberry32(99);
    let s = startDtmfReceiver();
    for (let i = 0; i < 20_000; i++) {
      const payload = Uint8Array.from({ length: Math.floor(rand() * 6) }, () => Math.floor(rand() * 256));
      s = onDtmfPacket(s, { timestamp: Math.floor(rand() * 2 ** 32), payload }, i).state;
    }
    expect(s.done.length).toBeLessThanOrEqual(DTMF_REMEMBERED);
  });
});

describe('RFC 4733 receiver against the captures SIPp ships (sip-tester)', () => {
  const dir = '/usr/share/sip-tester';
  const files = readdirSync(dir).filter((f) => /^dtmf_2833_\w+\.pcap$/.test(f));
  const digitOf = (f: string): string => ({ pound: '#', star: '*' })[f.slice(10, -5)] ?? f.slice(10, -5);

  it('finds the twelve captures (0-9, star, pound)', () => {
    expect(files.map(digitOf).sort()).toEqual([...'#*0123456789'].sort());
  });

  it.each(files)('decodes %s to its digit exactly once', (file) => {
    const datagrams = readPcapUdp(join(dir, file));
    expect(datagrams.length).toBeGreaterThan(5);
    expect(datagrams[0]).toMatchObject({ src: '192.168.0.3', srcPort: 49176, dst: '192.168.0.1', dstPort: 10000 });
    let s = startDtmfReceiver();
    const digits: string[] = [];
    let ends = 0;
    for (const d of datagrams) {
      const rtp = parseRtpPacket(d.payload);
      if (!rtp.ok) throw new Error(`${file}: ${rtp.error}`);
      expect(rtp.packet.payloadType).toBe(101);
      const ev = decodeTelephoneEvent(rtp.packet.payload);
      if (ev.ok && ev.event.end) ends++;
      const step = onDtmfPacket(s, rtp.packet, d.timeMs);
      s = step.state;
      digits.push(...step.digits);
    }
    expect(ends).toBe(3); // the capture carries the triple E packet
    expect(digits).toEqual([digitOf(file)]);
  });
});

describe('RFC 4733 receiver: several sources', () => {
  const press = (event: number, duration: number, end: boolean): Uint8Array => encodeTelephoneEvent({ event, end, volume: 10, duration });

  it('a new SSRC repeating an earlier source timestamps is a new key press (SIPp sends each digit from a new source)', () => {
    let s = startDtmfReceiver();
    const heard: string[] = [];
    for (const [ssrc, event] of [
      [1, 1],
      [2, 1],
      [3, 2],
    ] as const) {
      for (const end of [false, true, true, true]) {
        const step = onDtmfPacket(s, { timestamp: 24_000, payload: press(event, end ? 800 : 160, end), ssrc }, 0);
        s = step.state;
        heard.push(...step.digits);
      }
    }
    expect(heard).toEqual(['1', '1', '2']);
  });

  it('a source change ends the key press the old source left open', () => {
    let s = startDtmfReceiver();
    s = onDtmfPacket(s, { timestamp: 100, payload: press(5, 160, false), ssrc: 7 }, 0).state;
    const step = onDtmfPacket(s, { timestamp: 100, payload: press(6, 160, true), ssrc: 8 }, 10);
    expect(step.digits).toEqual(['5', '6']);
  });
});
