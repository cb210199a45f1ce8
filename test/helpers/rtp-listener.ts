/**
 * The test's own RTP endpoint: a UDP socket on loopback that records every
 * datagram it receives, with its own small RTP header reader (RFC 3550 §5.1),
 * written independently of the agent's so a test checks the agent against the
 * RFC rather than against itself. Also the checks the voice tests make on a
 * received stream: one SSRC, one payload type, 20 ms G.711 packets, sequence
 * numbers and timestamps that continue, and where a prompt's audio sits in
 * the concatenated payload.
 */
import dgram from 'node:dgram';
import { A_LAW_SILENCE, encodeG711, MU_LAW_SILENCE, type G711Codec } from '../../agent/protocols/g711.js';

/** One RTP packet as received. */
export interface RtpRecord {
  /** Arrival time, `performance.now()` milliseconds. */
  readonly at: number;
  readonly from: { readonly address: string; readonly port: number };
  readonly payloadType: number;
  readonly marker: boolean;
  readonly seq: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly payload: Buffer;
}

/** The fixed header fields of an RTP packet, or null when `buf` is not RTP version 2 (RFC 3550 §5.1). */
export function readRtpHeader(buf: Buffer): Omit<RtpRecord, 'at' | 'from'> | null {
  if (buf.length < 12 || buf[0] === undefined || buf[1] === undefined) return null;
  const b0 = buf[0];
  if (b0 >> 6 !== 2) return null;
  let start = 12 + (b0 & 0x0f) * 4; // CSRC list
  if (b0 & 0x10) {
    // header extension: 16-bit profile, 16-bit length in 32-bit words
    if (buf.length < start + 4) return null;
    start += 4 + buf.readUInt16BE(start + 2) * 4;
  }
  let end = buf.length;
  if (b0 & 0x20) end -= buf[buf.length - 1] ?? 0; // padding count in the last octet
  if (end < start) return null;
  return {
    payloadType: buf[1] & 0x7f,
    marker: (buf[1] & 0x80) !== 0,
    seq: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(start, end),
  };
}

/** A loopback UDP socket recording RTP. */
export interface RtpListener {
  readonly address: string;
  readonly port: number;
  readonly socket: dgram.Socket;
  /** RTP packets in arrival order. */
  readonly packets: RtpRecord[];
  /** Datagrams that were not RTP. */
  readonly strays: number;
  /** Resolves once `count` packets arrived (rejects after `timeoutMs`). */
  waitForPackets(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when no packet arrived for `quietMs` after at least one did (rejects after `timeoutMs`). */
  waitQuiet(quietMs: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Binds a recording RTP socket on `address` (default 127.0.0.1), any free port. */
export async function startRtpListener(address = '127.0.0.1'): Promise<RtpListener> {
  const socket = dgram.createSocket('udp4');
  const packets: RtpRecord[] = [];
  let strays = 0;
  socket.on('message', (msg, rinfo) => {
    const h = readRtpHeader(msg);
    if (h === null) strays++;
    else packets.push({ ...h, payload: Buffer.from(h.payload), at: performance.now(), from: { address: rinfo.address, port: rinfo.port } });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => resolve());
  });
  const poll = async (done: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    const end = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > end) throw new Error(`RTP listener: timed out waiting for ${what} (${packets.length} packets so far)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    address,
    port: socket.address().port,
    socket,
    packets,
    get strays() {
      return strays;
    },
    waitForPackets: (count, timeoutMs = 10_000) => poll(() => packets.length >= count, timeoutMs, `${count} packets`),
    waitQuiet: (quietMs, timeoutMs = 20_000) =>
      poll(() => packets.length > 0 && performance.now() - (packets.at(-1)?.at ?? 0) >= quietMs, timeoutMs, `${quietMs} ms of quiet`),
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

/** The codec of a static G.711 payload type (RFC 3551 table 4). */
export function codecOfPayloadType(pt: number): G711Codec {
  if (pt === 0) return 'PCMU';
  if (pt === 8) return 'PCMA';
  throw new Error(`payload type ${pt} is not G.711`);
}

/**
 * What is wrong with `packets` as one G.711 stream of 20 ms packets (empty:
 * nothing): one SSRC, payload type `payloadType`, 160-byte payloads, sequence
 * numbers +1 (mod 2^16), timestamps +160 (mod 2^32) except where the marker
 * bit starts a talkspurt, after which the timestamp may jump forward by a
 * whole number of packets (RFC 3550 §5.1, RFC 3551 §4.1).
 */
export function streamProblems(packets: readonly RtpRecord[], payloadType: number): string[] {
  const problems: string[] = [];
  if (packets.length === 0) return ['no packets'];
  const ssrcs = new Set(packets.map((p) => p.ssrc));
  if (ssrcs.size !== 1) problems.push(`${ssrcs.size} SSRCs`);
  for (const [i, p] of packets.entries()) {
    if (p.payloadType !== payloadType) problems.push(`packet ${i}: payload type ${p.payloadType}, expected ${payloadType}`);
    if (p.payload.length !== 160) problems.push(`packet ${i}: ${p.payload.length} payload bytes, expected 160`);
    const prev = packets[i - 1];
    if (!prev) continue;
    if (p.seq !== ((prev.seq + 1) & 0xffff)) problems.push(`packet ${i}: sequence ${p.seq} after ${prev.seq}`);
    const step = (p.timestamp - prev.timestamp) >>> 0;
    const okStep = step === 160 || (p.marker && step > 160 && step % 160 === 0 && step < 8000 * 60);
    if (!okStep) problems.push(`packet ${i}: timestamp +${step}${p.marker ? ' (marker)' : ''}`);
  }
  return problems.slice(0, 10);
}

/** The payloads of `packets` one after the other. */
export function concatPayload(packets: readonly RtpRecord[]): Buffer {
  return Buffer.concat(packets.map((p) => p.payload));
}

/** The silence byte of a codec. */
export function silenceOf(codec: G711Codec): number {
  return codec === 'PCMU' ? MU_LAW_SILENCE : A_LAW_SILENCE;
}

/** `samples` as the agent should send them: G.711 in `codec`, padded with silence to whole 160-sample packets. */
export function expectedPayload(samples: Int16Array, codec: G711Codec): Buffer {
  const encoded = encodeG711(codec, samples);
  const padded = Buffer.alloc(Math.ceil(encoded.length / 160) * 160, silenceOf(codec));
  padded.set(encoded);
  return padded;
}

/**
 * Where `needle` starts in `stream`, looking only at packet boundaries (every
 * prompt starts a packet), from byte `from` on; -1 when absent. `minBytes`
 * (default all of `needle`) is how much of the needle must match: a prompt
 * cut short by a key press (barge-in) matches only at its start.
 */
export function findAtPacket(stream: Buffer, needle: Buffer, from = 0, minBytes = needle.length): number {
  const want = needle.subarray(0, Math.min(minBytes, needle.length));
  for (let at = Math.ceil(from / 160) * 160; at + want.length <= stream.length; at += 160) {
    if (stream.subarray(at, at + want.length).equals(want)) return at;
  }
  return -1;
}

/** How many leading bytes of `a` and `b` agree. */
export function commonPrefix(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
