/**
 * RIFF/WAVE files for voice prompts: parse the ones the agent can play on a
 * telephone call (8000 Hz, mono; 16-bit linear PCM, or G.711 μ-law / A-law
 * with one byte per sample) to 16-bit samples, and build 16-bit PCM files.
 *
 * Layout (Microsoft "Multimedia Programming Interface and Data Specifications
 * 1.0", RIFF and WAVE chapters): `RIFF <size> WAVE` followed by chunks, each
 * `<4-byte id> <32-bit little-endian size> <data>` plus one pad byte when the
 * size is odd. The `fmt ` chunk (WAVEFORMAT/PCMWAVEFORMAT: format tag,
 * channels, samples per second, average bytes per second, block align, bits
 * per sample) must come before `data`; every other chunk (`LIST`, `fact`,
 * `cue `, ...) is skipped. Format tags: 1 PCM, 6 A-law, 7 μ-law (RFC 2361
 * appendix A), 0xFFFE WAVE_FORMAT_EXTENSIBLE whose sub-format GUID starts
 * with one of those tags. G.711 decoding is ITU-T G.711 (protocols/g711.ts).
 *
 * Pure module: bytes in, samples out.
 */
import { decodeALaw, decodeMuLaw } from './g711.js';

/** Sample rate of every prompt (G.711 telephony, RFC 3551 §4.5.14). */
export const PROMPT_RATE = 8000;

/** How the samples were stored in the file. */
export type WavEncoding = 'pcm16' | 'ulaw' | 'alaw';

/** Result of {@link parseWav}. */
export type WavParse =
  | { readonly ok: true; readonly samples: Int16Array; readonly encoding: WavEncoding; readonly rate: number }
  | { readonly ok: false; readonly error: string };

const FORMAT_PCM = 1;
const FORMAT_IEEE_FLOAT = 3;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Names of common format tags, for error messages. */
const FORMAT_NAMES: ReadonlyMap<number, string> = new Map([
  [FORMAT_PCM, 'PCM'],
  [0x0002, 'MS ADPCM'],
  [FORMAT_IEEE_FLOAT, 'IEEE float'],
  [FORMAT_ALAW, 'A-law'],
  [FORMAT_MULAW, 'mu-law'],
  [0x0011, 'IMA ADPCM'],
  [0x0031, 'GSM 6.10'],
  [0x0055, 'MP3'],
]);

const EXPECTED = 'prompts must be 8000 Hz mono, 16-bit PCM, mu-law or A-law';

interface Fmt {
  readonly tag: number;
  readonly channels: number;
  readonly rate: number;
  readonly bits: number;
}

function fail(error: string): WavParse {
  return { ok: false, error };
}

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at] ?? 0, b[at + 1] ?? 0, b[at + 2] ?? 0, b[at + 3] ?? 0);
}

function readFmt(view: DataView, at: number, size: number): Fmt | string {
  if (size < 16) return `the fmt chunk is ${size} bytes, shorter than 16`;
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const rate = view.getUint32(at + 4, true);
  const bits = view.getUint16(at + 14, true);
  if (tag === FORMAT_EXTENSIBLE) {
    // WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) channelMask(4) SubFormat GUID(16), the GUID's first 2 bytes the tag.
    if (size < 40) return 'the extensible fmt chunk is too short';
    tag = view.getUint16(at + 24, true);
  }
  return { tag, channels, rate, bits };
}

function formatName(tag: number): string {
  return FORMAT_NAMES.get(tag) ?? `format ${tag}`;
}

/** The reason `fmt` cannot be played, or the encoding it holds. */
function checkFmt(fmt: Fmt): WavEncoding | string {
  let encoding: WavEncoding;
  if (fmt.tag === FORMAT_PCM && fmt.bits === 16) encoding = 'pcm16';
  else if (fmt.tag === FORMAT_MULAW && fmt.bits === 8) encoding = 'ulaw';
  else if (fmt.tag === FORMAT_ALAW && fmt.bits === 8) encoding = 'alaw';
  else return `${formatName(fmt.tag)} ${fmt.bits}-bit: ${EXPECTED}`;
  if (fmt.rate !== PROMPT_RATE) return `${fmt.rate} Hz: ${EXPECTED}`;
  if (fmt.channels !== 1) return `${fmt.channels} channels: ${EXPECTED}`;
  return encoding;
}

function decode(encoding: WavEncoding, bytes: Uint8Array): Int16Array {
  if (encoding === 'ulaw') return decodeMuLaw(bytes);
  if (encoding === 'alaw') return decodeALaw(bytes);
  const n = bytes.length >> 1; // an odd trailing byte is not a sample
  const out = new Int16Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/**
 * Parses a WAVE file into 16-bit samples. Accepts 8000 Hz mono 16-bit PCM,
 * μ-law or A-law (also as WAVE_FORMAT_EXTENSIBLE); skips unknown chunks and
 * honours odd-size chunk padding. Anything else answers `ok: false` with a
 * reason a person can act on, e.g. `44100 Hz: prompts must be 8000 Hz mono, …`.
 */
export function parseWav(bytes: Uint8Array): WavParse {
  if (bytes.length < 12 || fourcc(bytes, 0) !== 'RIFF' || fourcc(bytes, 8) !== 'WAVE') {
    return fail(fourcc(bytes, 0) === 'RIFX' ? 'big-endian RIFX files are not supported' : 'not a WAV file (no RIFF/WAVE header)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The RIFF size bounds the chunks (bytes after it are not part of the file); a size
  // that does not fit (0 or 0xFFFFFFFF from streaming writers, a truncated file) is ignored.
  const declared = view.getUint32(4, true);
  const end = declared >= 4 && 8 + declared <= bytes.length ? 8 + declared : bytes.length;
  let at = 12;
  let fmt: Fmt | null = null;
  while (at + 8 <= end) {
    const id = fourcc(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (body + size > end) return fail('the fmt chunk runs past the end of the file');
      const read = readFmt(view, body, size);
      if (typeof read === 'string') return fail(read);
      fmt = read;
    } else if (id === 'data') {
      if (fmt === null) return fail('no fmt chunk before the data chunk');
      const encoding = checkFmt(fmt);
      if (encoding === 'pcm16' || encoding === 'ulaw' || encoding === 'alaw') {
        if (body + size > end) return fail(`the data chunk is truncated (${size} bytes declared, ${end - body} present)`);
        const samples = decode(encoding, bytes.subarray(body, body + size));
        if (samples.length === 0) return fail('the data chunk holds no samples');
        return { ok: true, samples, encoding, rate: fmt.rate };
      }
      return fail(encoding);
    }
    at = body + size + (size & 1);
  }
  return fail(fmt === null ? 'no fmt chunk' : 'no data chunk');
}

/** A 16-bit PCM mono WAVE file (44-byte canonical header) holding `samples` at `rate` Hz. */
export function buildWav(samples: Int16Array, rate: number = PROMPT_RATE): Uint8Array {
  const dataBytes = samples.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const ascii = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, FORMAT_PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) view.setInt16(44 + i * 2, samples[i] ?? 0, true);
  return out;
}

/** Length of `samples` at {@link PROMPT_RATE}, in milliseconds. */
export function durationMs(samples: Int16Array | { readonly length: number }): number {
  return Math.round((samples.length * 1000) / PROMPT_RATE);
}
