/**
 * SDP (RFC 4566) parsing, only what a G.711 voice service needs, and the
 * answerer's side of the RFC 3264 offer/answer model for one audio stream.
 *
 * Parsed: `v=` (must be the first line, value 0), `o=`, `s=`, `c=` at session
 * and media level, `m=` (media, port, proto, formats), and the attributes
 * `rtpmap`, `fmtp`, `ptime` and the direction flags `sendrecv`, `sendonly`,
 * `recvonly`, `inactive` (session level applies to every stream that has
 * none of its own, RFC 4566 §6). Other lines and attributes are skipped.
 * Parsing never throws; sizes are capped so that a hostile body cannot grow
 * the parsed structure without bound.
 *
 * {@link negotiateAudio} answers an offer: one `m=` line per offered `m=`
 * line, in order (RFC 3264 §6); the first usable `audio` stream over
 * `RTP/AVP` with PCMU or PCMA is accepted, every other stream is refused with
 * port 0. The answer keeps the offer's payload type numbers (RFC 3264 §6.1),
 * always carries `telephone-event` at the offerer's payload type when it was
 * offered (RFC 4733 §2.5.1.1; Snom phones fall back to in-band DTMF when the
 * answer lacks it), asks for 20 ms packets, and mirrors the offer's
 * direction (RFC 3264 §6.1: sendonly → recvonly, recvonly → sendonly).
 * Encrypted (`RTP/SAVP`) and feedback (`RTP/AVPF`) profiles are refused; an
 * `a=crypto` line inside an `RTP/AVP` stream (best-effort SRTP) is ignored
 * and plain RTP is answered.
 *
 * Pure module: no I/O.
 */
import type { G711Codec } from './g711.js';

/** Stream direction attributes (RFC 4566 §6, RFC 3264 §5.1). */
export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** A `c=` line (RFC 4566 §5.7); `address` without any `/ttl` suffix. */
export interface SdpConnection {
  readonly addrType: 'IP4' | 'IP6';
  readonly address: string;
}

/** An `a=rtpmap` attribute (RFC 4566 §6). */
export interface SdpRtpMap {
  readonly payloadType: number;
  /** As written (compare case-insensitively, RFC 4855 §3). */
  readonly encoding: string;
  readonly clockRate: number;
  /** 1 when absent. */
  readonly channels: number;
}

/** One `m=` section. */
export interface SdpMedia {
  readonly media: string;
  readonly port: number;
  readonly proto: string;
  readonly formats: readonly string[];
  /** Media-level `c=`, or null (then the session-level one applies). */
  readonly connection: SdpConnection | null;
  readonly rtpmaps: readonly SdpRtpMap[];
  readonly fmtps: readonly { readonly payloadType: number; readonly params: string }[];
  readonly ptime: number | null;
  /** Media-level direction attribute, or null. */
  readonly direction: SdpDirection | null;
}

/** A parsed session description. */
export interface SessionDescription {
  readonly origin: { readonly username: string; readonly sessionId: string; readonly sessionVersion: string; readonly address: string };
  readonly sessionName: string;
  readonly connection: SdpConnection | null;
  readonly ptime: number | null;
  /** Session-level direction attribute, or null. */
  readonly direction: SdpDirection | null;
  readonly media: readonly SdpMedia[];
}

/** Largest SDP body accepted (characters). */
export const SDP_MAX_LENGTH = 16_384;
/** Most `m=` lines accepted. */
export const SDP_MAX_MEDIA = 16;
/** Most formats, `rtpmap` or `fmtp` entries accepted per `m=` line. */
const MAX_FORMATS = 64;

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MediaDraft = Mutable<Omit<SdpMedia, 'rtpmaps' | 'fmtps'>> & { rtpmaps: SdpRtpMap[]; fmtps: { payloadType: number; params: string }[] };

function parseConnection(value: string): SdpConnection | null {
  const m = /^IN +(IP4|IP6) +([^ /]+)(?:\/\d+){0,2}$/.exec(value.trim());
  return m ? { addrType: m[1] as 'IP4' | 'IP6', address: m[2] ?? '' } : null;
}

function parsePayloadType(s: string): number | null {
  return /^\d{1,3}$/.test(s) && Number(s) <= 127 ? Number(s) : null;
}

/** Parses an SDP body (RFC 4566 §5). Never throws. */
export function parseSdp(text: string): { readonly ok: true; readonly sdp: SessionDescription } | { readonly ok: false; readonly reason: string } {
  if (text.length > SDP_MAX_LENGTH) return { ok: false, reason: `SDP body over ${SDP_MAX_LENGTH} characters` };
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines[0]?.trim() !== 'v=0') return { ok: false, reason: 'SDP must start with v=0' };
  let origin: SessionDescription['origin'] | null = null;
  let sessionName = '';
  let connection: SdpConnection | null = null;
  let ptime: number | null = null;
  let direction: SdpDirection | null = null;
  const media: MediaDraft[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const m = /^([a-z])=(.*)$/.exec(line);
    if (!m) return { ok: false, reason: `line ${i + 1} is not <type>=<value>` };
    const type = m[1];
    const value = m[2] ?? '';
    const cur = media[media.length - 1];
    if (type === 'o') {
      const f = value.trim().split(/ +/);
      if (f.length !== 6 || f[3] !== 'IN') return { ok: false, reason: 'bad o= line' };
      origin = { username: f[0] ?? '', sessionId: f[1] ?? '', sessionVersion: f[2] ?? '', address: f[5] ?? '' };
    } else if (type === 's') {
      sessionName = value;
    } else if (type === 'c') {
      const c = parseConnection(value);
      if (!c) return { ok: false, reason: `bad c= line: ${value.slice(0, 60)}` };
      if (cur) cur.connection = c;
      else connection = c;
    } else if (type === 'm') {
      // <media> <port>[/<number of ports>] <proto> <fmt> ... (RFC 4566 §5.14)
      const [kind = '', portField = '', proto = '', ...formats] = value.trim().split(/ +/);
      const port = /^\d{1,5}(?:\/\d+)?$/.test(portField) ? Number.parseInt(portField, 10) : Number.NaN;
      if (!kind || !proto || !(port <= 65535)) return { ok: false, reason: `bad m= line: ${value.slice(0, 60)}` };
      if (media.length >= SDP_MAX_MEDIA) return { ok: false, reason: `more than ${SDP_MAX_MEDIA} m= lines` };
      if (formats.length > MAX_FORMATS) return { ok: false, reason: `more than ${MAX_FORMATS} formats on one m= line` };
      media.push({ media: kind, port, proto, formats, connection: null, rtpmaps: [], fmtps: [], ptime: null, direction: null });
    } else if (type === 'a') {
      const colon = value.indexOf(':');
      const name = colon < 0 ? value.trim() : value.slice(0, colon);
      const arg = colon < 0 ? '' : value.slice(colon + 1).trim();
      if (DIRECTIONS.has(name)) {
        if (cur) cur.direction = name as SdpDirection;
        else direction = name as SdpDirection;
      } else if (name === 'ptime') {
        const ms = Number(arg);
        const ok = Number.isFinite(ms) && ms > 0 && ms <= 1000 ? Math.round(ms) : null;
        if (cur) cur.ptime = ok;
        else ptime = ok;
      } else if (name === 'rtpmap' && cur && cur.rtpmaps.length < MAX_FORMATS) {
        const r = /^(\d{1,3}) +([^/\s]+)\/(\d+)(?:\/(\d+))?$/.exec(arg);
        const pt = parsePayloadType(r?.[1] ?? '');
        if (r && pt !== null) cur.rtpmaps.push({ payloadType: pt, encoding: r[2] ?? '', clockRate: Number(r[3]), channels: r[4] ? Number(r[4]) : 1 });
      } else if (name === 'fmtp' && cur && cur.fmtps.length < MAX_FORMATS) {
        const r = /^(\d{1,3}) +(.*)$/.exec(arg);
        const pt = parsePayloadType(r?.[1] ?? '');
        if (r && pt !== null) cur.fmtps.push({ payloadType: pt, params: r[2] ?? '' });
      }
    }
  }
  if (!origin) return { ok: false, reason: 'SDP has no o= line' };
  return { ok: true, sdp: { origin, sessionName, connection, ptime, direction, media } };
}

/** What was agreed for the one audio stream (the shell's RTP session works from this). */
export interface NegotiatedMedia {
  /** From `c=` (media level wins over session level). */
  readonly remoteAddress: string;
  /** 0 = the stream is rejected or disabled: send nothing. */
  readonly remotePort: number;
  readonly codec: 'PCMU' | 'PCMA';
  /** The offered payload type of the codec: 0 or 8, or a dynamic one mapped to PCMU/8000 or PCMA/8000. */
  readonly payloadType: number;
  /** The offered payload type of `telephone-event/8000` (101, 127, …), or null when not offered. */
  readonly telephoneEvent: number | null;
  /** The offerer's direction. */
  readonly direction: SdpDirection;
  /** The offerer holds the call: `sendonly`/`inactive` (RFC 3264 §8.4) or `c=` 0.0.0.0 (the RFC 2543 way). */
  readonly onHold: boolean;
  /** The offered `a=ptime`, else 20 (this agent always sends 20 ms packets). */
  readonly ptimeMs: number;
}

/** The local side of an answer. */
export interface LocalMedia {
  readonly address: string;
  readonly port: number;
  readonly sessionId: string;
  readonly sessionVersion: number;
  /** `o=` user name (default `hotdesk`). */
  readonly username?: string;
}

/** Result of {@link negotiateAudio}; on failure the caller answers 488 Not Acceptable Here. */
export type AudioNegotiation =
  | { readonly ok: true; readonly answer: string; readonly media: NegotiatedMedia }
  | { readonly ok: false; readonly reason: string };

const ANSWER_DIRECTION: Readonly<Record<SdpDirection, SdpDirection>> = {
  sendrecv: 'sendrecv',
  sendonly: 'recvonly',
  recvonly: 'sendonly',
  inactive: 'inactive',
};

/** The G.711 codec an offered format stands for (rtpmap wins; 0 and 8 are static, RFC 3551 table 4). */
function codecOf(m: SdpMedia, format: string): G711Codec | null {
  const pt = parsePayloadType(format);
  if (pt === null) return null;
  const map = m.rtpmaps.find((r) => r.payloadType === pt);
  if (!map) return pt === 0 ? 'PCMU' : pt === 8 ? 'PCMA' : null;
  const name = map.encoding.toUpperCase();
  return (name === 'PCMU' || name === 'PCMA') && map.clockRate === 8000 && map.channels === 1 ? name : null;
}

/** The chosen codec and its payload type: the offerer's order, or `prefer`'s order when given. */
function chooseCodec(m: SdpMedia, prefer: readonly G711Codec[] | undefined): { codec: G711Codec; payloadType: number } | null {
  const offered = m.formats.flatMap((f) => {
    const codec = codecOf(m, f);
    return codec && (!prefer || prefer.includes(codec)) ? [{ codec, payloadType: Number(f) }] : [];
  });
  if (!prefer) return offered[0] ?? null;
  for (const want of prefer) {
    const hit = offered.find((o) => o.codec === want);
    if (hit) return hit;
  }
  return null;
}

function telephoneEventOf(m: SdpMedia): number | null {
  for (const f of m.formats) {
    const pt = parsePayloadType(f);
    const map = m.rtpmaps.find((r) => r.payloadType === pt);
    if (pt !== null && map && map.encoding.toLowerCase() === 'telephone-event' && map.clockRate === 8000) return pt;
  }
  return null;
}

const addrType = (address: string): 'IP4' | 'IP6' => (address.includes(':') ? 'IP6' : 'IP4');

/**
 * Answers an SDP offer for the agent's voice service (RFC 3264 §6). `prefer`
 * restricts and orders the acceptable codecs; without it the offer's own
 * order decides (the offerer lists formats by preference, RFC 3264 §5.1).
 * An offer whose audio stream is disabled (port 0) is answered with port 0
 * and `remotePort` 0. No usable audio stream at all gives `{ ok: false }`.
 */
export function negotiateAudio(offerBody: string, local: LocalMedia, prefer?: readonly G711Codec[]): AudioNegotiation {
  const parsed = parseSdp(offerBody);
  if (!parsed.ok) return parsed;
  const sdp = parsed.sdp;
  let chosen: { index: number; media: NegotiatedMedia } | null = null;
  let disabled: { index: number; media: NegotiatedMedia } | null = null;
  for (const [index, m] of sdp.media.entries()) {
    if (chosen || m.media !== 'audio' || m.proto.toUpperCase() !== 'RTP/AVP') continue;
    const connection = m.connection ?? sdp.connection;
    const codec = chooseCodec(m, prefer);
    if (!connection || !codec) continue;
    const direction = m.direction ?? sdp.direction ?? 'sendrecv';
    const media: NegotiatedMedia = {
      remoteAddress: connection.address,
      remotePort: m.port,
      codec: codec.codec,
      payloadType: codec.payloadType,
      telephoneEvent: telephoneEventOf(m),
      direction,
      onHold: direction === 'sendonly' || direction === 'inactive' || connection.address === '0.0.0.0',
      ptimeMs: m.ptime ?? sdp.ptime ?? 20,
    };
    if (m.port !== 0) chosen = { index, media };
    else disabled ??= { index, media };
  }
  const accepted = chosen ?? disabled;
  if (!accepted) {
    const audio = sdp.media.some((m) => m.media === 'audio');
    return { ok: false, reason: audio ? 'no offered audio stream has PCMU or PCMA over RTP/AVP' : 'the offer has no audio stream' };
  }
  const a = accepted.media;
  const lines = [
    'v=0',
    `o=${local.username ?? 'hotdesk'} ${local.sessionId} ${local.sessionVersion} IN ${addrType(local.address)} ${local.address}`,
    's=hotdesk',
    `c=IN ${addrType(local.address)} ${local.address}`,
    't=0 0',
  ];
  for (const [index, m] of sdp.media.entries()) {
    if (index !== accepted.index) {
      // Refused (RFC 3264 §6): port 0, the offered formats echoed (SDP needs at least one).
      lines.push(`m=${m.media} 0 ${m.proto} ${m.formats.length > 0 ? m.formats.join(' ') : '0'}`);
      continue;
    }
    const port = a.remotePort === 0 ? 0 : local.port;
    const te = a.telephoneEvent;
    lines.push(`m=audio ${port} ${m.proto} ${a.payloadType}${te === null ? '' : ` ${te}`}`);
    lines.push(`a=rtpmap:${a.payloadType} ${a.codec}/8000`);
    if (te !== null) lines.push(`a=rtpmap:${te} telephone-event/8000`, `a=fmtp:${te} 0-15`);
    lines.push('a=ptime:20', `a=${ANSWER_DIRECTION[a.direction]}`);
  }
  return { ok: true, answer: `${lines.join('\r\n')}\r\n`, media: a };
}
