import { describe, expect, it } from 'vitest';
import { advanceRtpTimestamp, encodeRtpPacket, nextRtpPacket, parseRtpPacket, type RtpSenderState, startRtpSender } from '../../agent/protocols/rtp-packet.js';
import { mulberry32 } from '../helpers/prng.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('RTP packet codec (RFC 3550 §5.1)', () => {
  it('parses a telephone-event packet as SIPp sends it', () => {
    // From SIPp's dtmf_2833_1.pcap: V=2, M=1, PT=101, seq 0x1f30, ts 0x33e0, SSRC 0x0e05384e.
    const r = parseRtpPacket(hex('80e5 1f30 000033e0 0e05384e 010a0000'));
    expect(r).toEqual({
      ok: true,
      packet: {
        version: 2,
        padding: false,
        extension: false,
        marker: true,
        payloadType: 101,
        sequence: 0x1f30,
        timestamp: 0x33e0,
        ssrc: 0x0e05384e,
        csrc: [],
        payload: hex('010a0000'),
      },
    });
  });

  it('reads CSRCs, skips a header extension and removes padding', () => {
    // CC=2, X=1, P=1; extension profile 0xbede with 1 word; payload 3 bytes; 2 padding bytes (the last says 2).
    const wire = hex('b2 08 0001 00000002 00000003 aaaaaaaa bbbbbbbb bede0001 11223344 010203 0002');
    const r = parseRtpPacket(wire);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.packet).toMatchObject({ padding: true, extension: true, marker: false, payloadType: 8, sequence: 1, timestamp: 2, ssrc: 3 });
    expect(r.packet.csrc).toEqual([0xaaaaaaaa, 0xbbbbbbbb]);
    expect([...r.packet.payload]).toEqual([1, 2, 3]);
  });

  it('encodes the exact wire layout and round-trips', () => {
    const payload = Uint8Array.from({ length: 160 }, (_, i) => i);
    const wire = encodeRtpPacket({ marker: true, payloadType: 0, sequence: 65535, timestamp: 0xffffffff, ssrc: 0xdeadbeef, payload });
    expect(Buffer.from(wire.subarray(0, 12)).toString('hex')).toBe('8080ffffffffffffdeadbeef');
    expect(wire).toHaveLength(172);
    const r = parseRtpPacket(wire);
    expect(r.ok && r.packet).toMatchObject({ marker: true, payloadType: 0, sequence: 65535, timestamp: 0xffffffff, ssrc: 0xdeadbeef });
    expect(r.ok && [...r.packet.payload]).toEqual([...payload]);
    const withCsrc = encodeRtpPacket({
      marker: false,
      payloadType: 101,
      sequence: 70000,
      timestamp: 2 ** 32 + 5,
      ssrc: 1,
      csrc: [7, 9],
      payload: new Uint8Array(0),
    });
    expect(Buffer.from(withCsrc).toString('hex')).toBe('8265117000000005000000010000000700000009');
    expect(parseRtpPacket(withCsrc)).toMatchObject({ ok: true, packet: { sequence: 4464, timestamp: 5, csrc: [7, 9] } });
  });

  it('refuses garbage with a reason and never throws', () => {
    const bad: Array<[string, string]> = [
      ['', 'too short'],
      ['80e5 1f30 0000', 'too short'],
      ['40e5 1f30 000033e0 0e05384e', 'version 1'],
      ['00e5 1f30 000033e0 0e05384e', 'version 0'],
      ['80c8 0006 000033e0 0e05384e', 'RTCP'], // a sender report on the RTP port
      ['83e5 1f30 000033e0 0e05384e 00000001', 'CSRC'],
      ['90e5 1f30 000033e0 0e05384e bede', 'extension'],
      ['90e5 1f30 000033e0 0e05384e bede0002 00000000', 'extension'],
      ['a0e5 1f30 000033e0 0e05384e 0102 00', 'padding'],
      ['a0e5 1f30 000033e0 0e05384e 0102 09', 'padding'],
    ];
    for (const [wire, why] of bad) {
      const r = parseRtpPacket(hex(wire));
      expect(r.ok, wire).toBe(false);
      if (!r.ok) expect(r.error, wire).toContain(why);
    }
    const rand = mulberry32(3550);
    for (let i = 0; i < 5000; i++) {
      const junk = Uint8Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256));
      const r = parseRtpPacket(junk);
      if (r.ok) expect(r.packet.payload.length).toBeLessThanOrEqual(junk.length - 12);
    }
  });

  it('parses a packet inside a larger buffer (byteOffset honoured)', () => {
    const inner = encodeRtpPacket({ marker: false, payloadType: 8, sequence: 9, timestamp: 10, ssrc: 11, payload: hex('d5d5') });
    const outer = new Uint8Array(inner.length + 7);
    outer.set(inner, 5);
    expect(parseRtpPacket(outer.subarray(5, 5 + inner.length))).toMatchObject({ ok: true, packet: { sequence: 9, timestamp: 10, ssrc: 11 } });
  });
});

describe('RTP sender state', () => {
  const fields = (wire: Uint8Array): { seq: number; ts: number; marker: boolean; pt: number; ssrc: number } => {
    const r = parseRtpPacket(wire);
    if (!r.ok) throw new Error(r.error);
    return { seq: r.packet.sequence, ts: r.packet.timestamp, marker: r.packet.marker, pt: r.packet.payloadType, ssrc: r.packet.ssrc };
  };

  it('numbers packets from the given start, +1 sequence and +160 timestamp each', () => {
    let s: RtpSenderState = startRtpSender({ ssrc: 0x12345678, seq: 1000, timestamp: 5000, payloadType: 0, samplesPerPacket: 160 });
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const step = nextRtpPacket(s, new Uint8Array(160), i === 0);
      s = step.state;
      seen.push(fields(step.packet));
    }
    expect(seen).toEqual([
      { seq: 1000, ts: 5000, marker: true, pt: 0, ssrc: 0x12345678 },
      { seq: 1001, ts: 5160, marker: false, pt: 0, ssrc: 0x12345678 },
      { seq: 1002, ts: 5320, marker: false, pt: 0, ssrc: 0x12345678 },
    ]);
    expect(s).toMatchObject({ seq: 1003, timestamp: 5480 });
  });

  it('wraps the sequence at 2^16 and the timestamp at 2^32', () => {
    let s = startRtpSender({ ssrc: 1, seq: 65534, timestamp: 2 ** 32 - 200, payloadType: 8, samplesPerPacket: 160 });
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const step = nextRtpPacket(s, new Uint8Array(160), false);
      s = step.state;
      seen.push(fields(step.packet));
    }
    expect(seen.map((p) => p.seq)).toEqual([65534, 65535, 0]);
    expect(seen.map((p) => p.ts)).toEqual([2 ** 32 - 200, 2 ** 32 - 40, 120]);
  });

  it('advances the timestamp alone over silence (RFC 3550 §5.1)', () => {
    const s = startRtpSender({ ssrc: 1, seq: 7, timestamp: 2 ** 32 - 100, payloadType: 0, samplesPerPacket: 160 });
    const later = advanceRtpTimestamp(s, 1600);
    expect(later).toMatchObject({ seq: 7, timestamp: 1500 });
    expect(s.timestamp).toBe(2 ** 32 - 100); // immutable
  });

  it('normalises start values to their field widths', () => {
    expect(startRtpSender({ ssrc: 2 ** 32 + 1, seq: 65536 + 2, timestamp: -1, payloadType: 128 + 101, samplesPerPacket: 160 })).toEqual({
      ssrc: 1,
      seq: 2,
      timestamp: 2 ** 32 - 1,
      payloadType: 101,
      samplesPerPacket: 160,
    });
  });
});
