/**
 * RTP fixed header (RFC 3550 §5.1) encode and parse, and the pure state of
 * one RTP sender.
 *
 * Parsing never throws: anything that is not a well-formed version-2 RTP
 * packet yields `{ ok: false, error }`. A header extension (RFC 3550 §5.3.1)
 * is skipped, padding (the P bit, last octet = padding length) is removed,
 * CSRCs are returned. RTCP packets that share the port (RFC 5761 §4: packet
 * types 200-204 read as marker + payload types 72-76) are refused as such.
 *
 * The sender state numbers packets: the sequence number grows by one per
 * packet and wraps at 2^16, the timestamp grows by the packet's sample count
 * and wraps at 2^32. RFC 3550 §5.1 asks for random initial values of both and
 * of the SSRC; they are given by the caller (this module has no randomness).
 *
 * Pure module: no I/O.
 */

/** The RTP fixed header length in bytes (RFC 3550 §5.1). */
export const RTP_HEADER_LENGTH = 12;

/** A parsed RTP packet (RFC 3550 §5.1). */
export interface RtpPacket {
  /** Always 2 for a packet that parsed. */
  readonly version: 2;
  /** P bit: padding octets were present (and are removed from `payload`). */
  readonly padding: boolean;
  /** X bit: a header extension was present (and skipped). */
  readonly extension: boolean;
  readonly marker: boolean;
  /** 0-127. */
  readonly payloadType: number;
  /** 0-65535. */
  readonly sequence: number;
  /** 0 to 2^32-1. */
  readonly timestamp: number;
  /** 0 to 2^32-1. */
  readonly ssrc: number;
  /** Contributing sources (CC of them, 0-15). */
  readonly csrc: readonly number[];
  /** The payload, a view into the parsed buffer (no copy). */
  readonly payload: Uint8Array;
}

/** Result of {@link parseRtpPacket}. */
export type RtpParseResult = { readonly ok: true; readonly packet: RtpPacket } | { readonly ok: false; readonly error: string };

/** What {@link encodeRtpPacket} needs. */
export interface RtpPacketFields {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrc?: readonly number[];
  readonly payload: Uint8Array;
}

/** Parses one datagram as an RTP packet (RFC 3550 §5.1, §5.3.1 for extensions). Never throws. */
export function parseRtpPacket(data: Uint8Array): RtpParseResult {
  if (data.length < RTP_HEADER_LENGTH) return { ok: false, error: `too short for an RTP header (${data.length} bytes)` };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const b0 = view.getUint8(0);
  const b1 = view.getUint8(1);
  const version = b0 >> 6;
  if (version !== 2) return { ok: false, error: `RTP version ${version}, expected 2` };
  if (b1 >= 200 && b1 <= 204) return { ok: false, error: `RTCP packet type ${b1}, not RTP` };
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let offset = RTP_HEADER_LENGTH + 4 * csrcCount;
  if (data.length < offset) return { ok: false, error: `truncated CSRC list (${csrcCount} announced)` };
  const csrc: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrc.push(view.getUint32(RTP_HEADER_LENGTH + 4 * i));
  if (extension) {
    if (data.length < offset + 4) return { ok: false, error: 'truncated header extension' };
    const words = view.getUint16(offset + 2);
    offset += 4 + 4 * words;
    if (data.length < offset) return { ok: false, error: `truncated header extension (${words} words announced)` };
  }
  let end = data.length;
  if (padding) {
    const count = view.getUint8(data.length - 1);
    if (count === 0 || end - count < offset) return { ok: false, error: `bad padding length ${count}` };
    end -= count;
  }
  return {
    ok: true,
    packet: {
      version: 2,
      padding,
      extension,
      marker: (b1 & 0x80) !== 0,
      payloadType: b1 & 0x7f,
      sequence: view.getUint16(2),
      timestamp: view.getUint32(4),
      ssrc: view.getUint32(8),
      csrc,
      payload: data.subarray(offset, end),
    },
  };
}

/**
 * Encodes an RTP packet (version 2, no padding, no extension). Numbers are
 * reduced to their field width (sequence mod 2^16, timestamp and SSRC mod
 * 2^32, payload type mod 128); at most 15 CSRCs are written.
 */
export function encodeRtpPacket(p: RtpPacketFields): Uint8Array {
  const csrc = (p.csrc ?? []).slice(0, 15);
  const headerLength = RTP_HEADER_LENGTH + 4 * csrc.length;
  const out = new Uint8Array(headerLength + p.payload.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, 0x80 | csrc.length);
  view.setUint8(1, (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f));
  view.setUint16(2, p.sequence & 0xffff);
  view.setUint32(4, p.timestamp >>> 0);
  view.setUint32(8, p.ssrc >>> 0);
  for (const [i, c] of csrc.entries()) view.setUint32(RTP_HEADER_LENGTH + 4 * i, c >>> 0);
  out.set(p.payload, headerLength);
  return out;
}

/** One RTP sender's numbering (RFC 3550 §5.1). Immutable: every step returns a new state. */
export interface RtpSenderState {
  readonly ssrc: number;
  /** Sequence number of the next packet. */
  readonly seq: number;
  /** Timestamp of the next packet. */
  readonly timestamp: number;
  readonly payloadType: number;
  /** Timestamp increment per packet (160 for 20 ms of 8000 Hz audio). */
  readonly samplesPerPacket: number;
}

/**
 * The sender state before its first packet. `ssrc`, `seq` and `timestamp`
 * should be random (RFC 3550 §5.1, §8.1): the caller draws them.
 */
export function startRtpSender(o: { ssrc: number; seq: number; timestamp: number; payloadType: number; samplesPerPacket: number }): RtpSenderState {
  return {
    ssrc: o.ssrc >>> 0,
    seq: o.seq & 0xffff,
    timestamp: o.timestamp >>> 0,
    payloadType: o.payloadType & 0x7f,
    samplesPerPacket: o.samplesPerPacket >>> 0,
  };
}

/**
 * Builds the next packet: it carries the state's sequence number and
 * timestamp; the new state has the sequence number plus one (mod 2^16) and
 * the timestamp plus `samplesPerPacket` (mod 2^32). `marker` marks the first
 * packet of a talkspurt (RFC 3551 §4.1).
 */
export function nextRtpPacket(state: RtpSenderState, payload: Uint8Array, marker: boolean): { state: RtpSenderState; packet: Uint8Array } {
  const packet = encodeRtpPacket({ marker, payloadType: state.payloadType, sequence: state.seq, timestamp: state.timestamp, ssrc: state.ssrc, payload });
  return { state: advanceRtpTimestamp({ ...state, seq: (state.seq + 1) & 0xffff }, state.samplesPerPacket), packet };
}

/**
 * Advances the timestamp without sending: for packets not sent during
 * silence, the timestamp still follows the sampling clock ("increased by 160
 * for each such block, regardless of whether the block is transmitted",
 * RFC 3550 §5.1). The sequence number does not move (it counts sent packets).
 */
export function advanceRtpTimestamp(state: RtpSenderState, samples: number): RtpSenderState {
  return { ...state, timestamp: (state.timestamp + samples) >>> 0 };
}
