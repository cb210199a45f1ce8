/**
 * ITU-T G.711 companding of 16-bit linear PCM at 8000 Hz: μ-law (RTP payload
 * type 0, `PCMU`) and A-law (payload type 8, `PCMA`), RFC 3551 §4.5.14 and
 * table 4 for the RTP names and numbers.
 *
 * G.711 defines μ-law on 14-bit and A-law on 13-bit sign-magnitude samples;
 * here both take and give 16-bit samples (the low bits are dropped on encode,
 * the decoded value is scaled back up), the usual convention for 16-bit PCM.
 * Encoding truncates to the segment's step and decoding returns the middle of
 * the step, so the round-trip error is at most half a step (8 at the smallest
 * segments, 512 at the largest), plus clipping at the extremes (μ-law tops out
 * at ±32124, A-law at ±32256).
 *
 * Both directions are table lookups: 64 Ki-entry encode tables and 256-entry
 * decode tables, computed once when the module loads.
 *
 * Pure module: no I/O.
 */

/** The two G.711 codecs by their RTP encoding names (RFC 3551 table 4). */
export type G711Codec = 'PCMU' | 'PCMA';

/** Static RTP payload types of G.711 (RFC 3551 table 4). */
export const G711_PAYLOAD_TYPE: Readonly<Record<G711Codec, number>> = { PCMU: 0, PCMA: 8 };

/** The μ-law code of linear 0 (`0xFF`): μ-law silence. */
export const MU_LAW_SILENCE = 0xff;
/** The A-law code nearest linear 0 (`0xD5`, decodes to +8): A-law silence. */
export const A_LAW_SILENCE = 0xd5;

/** μ-law bias added to the magnitude before the segment search (G.711 §2, scaled to 16 bits). */
const MU_BIAS = 0x84;
/** Largest magnitude μ-law encodes without overflowing the top segment. */
const MU_CLIP = 32635;

/** Index of the highest set bit of a positive integer below 2^31. */
function highBit(n: number): number {
  return 31 - Math.clz32(n);
}

/** μ-law code of one 16-bit sample (computed; the exported path uses the table). */
function computeMuLaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(sample < 0 ? -sample : sample, MU_CLIP) + MU_BIAS;
  const exponent = highBit(magnitude) - 7;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** 16-bit sample of one μ-law code. */
function computeMuLawInverse(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + MU_BIAS) << exponent) - MU_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

/** A-law code of one 16-bit sample (even bits inverted, G.711 §3). */
function computeALaw(sample: number): number {
  // A-law has no zero: non-negative samples carry the sign bit set.
  const mask = sample >= 0 ? 0xd5 : 0x55;
  const magnitude = (sample >= 0 ? sample : -sample - 1) >> 3;
  if (magnitude < 32) return (magnitude >> 1) ^ mask;
  const segment = highBit(magnitude) - 4;
  return ((segment << 4) | ((magnitude >> segment) & 0x0f)) ^ mask;
}

/** 16-bit sample of one A-law code. */
function computeALawInverse(code: number): number {
  const a = code ^ 0x55;
  const segment = (a >> 4) & 0x07;
  const mantissa = (a & 0x0f) << 4;
  const magnitude = segment === 0 ? mantissa + 8 : (mantissa + 0x108) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

function buildEncodeTable(encode: (sample: number) => number): Uint8Array {
  const table = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = encode(i >= 32768 ? i - 65536 : i);
  return table;
}

function buildDecodeTable(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let c = 0; c < 256; c++) table[c] = decode(c);
  return table;
}

const MU_ENCODE = buildEncodeTable(computeMuLaw);
const MU_DECODE = buildDecodeTable(computeMuLawInverse);
const A_ENCODE = buildEncodeTable(computeALaw);
const A_DECODE = buildDecodeTable(computeALawInverse);

/** μ-law code (0-255) of one sample; the sample is clamped to the 16-bit range and truncated to an integer. */
export function linearToMuLaw(sample: number): number {
  return MU_ENCODE[clamp16(sample) & 0xffff] ?? MU_LAW_SILENCE;
}

/** 16-bit sample of one μ-law code (only the low 8 bits of `code` are used). */
export function muLawToLinear(code: number): number {
  return MU_DECODE[code & 0xff] ?? 0;
}

/** A-law code (0-255) of one sample; the sample is clamped to the 16-bit range and truncated to an integer. */
export function linearToALaw(sample: number): number {
  return A_ENCODE[clamp16(sample) & 0xffff] ?? A_LAW_SILENCE;
}

/** 16-bit sample of one A-law code (only the low 8 bits of `code` are used). */
export function aLawToLinear(code: number): number {
  return A_DECODE[code & 0xff] ?? 0;
}

function clamp16(sample: number): number {
  if (!(sample > -32768)) return -32768; // also NaN
  if (sample > 32767) return 32767;
  return Math.trunc(sample);
}

function encodeWith(table: Uint8Array, pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = table[(pcm[i] ?? 0) & 0xffff] ?? 0;
  return out;
}

function decodeWith(table: Int16Array, bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i] ?? 0] ?? 0;
  return out;
}

/** Encodes 16-bit linear PCM to μ-law, one byte per sample (ITU-T G.711 table 2a). */
export function encodeMuLaw(pcm: Int16Array): Uint8Array {
  return encodeWith(MU_ENCODE, pcm);
}

/** Decodes μ-law bytes to 16-bit linear PCM (ITU-T G.711 table 2a). */
export function decodeMuLaw(bytes: Uint8Array): Int16Array {
  return decodeWith(MU_DECODE, bytes);
}

/** Encodes 16-bit linear PCM to A-law, one byte per sample (ITU-T G.711 table 1a). */
export function encodeALaw(pcm: Int16Array): Uint8Array {
  return encodeWith(A_ENCODE, pcm);
}

/** Decodes A-law bytes to 16-bit linear PCM (ITU-T G.711 table 1a). */
export function decodeALaw(bytes: Uint8Array): Int16Array {
  return decodeWith(A_DECODE, bytes);
}

/** Encodes with the named codec. */
export function encodeG711(codec: G711Codec, pcm: Int16Array): Uint8Array {
  return codec === 'PCMU' ? encodeMuLaw(pcm) : encodeALaw(pcm);
}

/** Decodes with the named codec. */
export function decodeG711(codec: G711Codec, bytes: Uint8Array): Int16Array {
  return codec === 'PCMU' ? decodeMuLaw(bytes) : decodeALaw(bytes);
}
