import { describe, expect, it } from 'vitest';
import {
  A_LAW_SILENCE,
  aLawToLinear,
  decodeALaw,
  decodeG711,
  decodeMuLaw,
  encodeALaw,
  encodeG711,
  encodeMuLaw,
  G711_PAYLOAD_TYPE,
  linearToALaw,
  linearToMuLaw,
  MU_LAW_SILENCE,
  muLawToLinear,
} from '../../agent/protocols/g711.js';

/** Every 16-bit sample, -32768 .. 32767. */
const ALL = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

describe('G.711 μ-law (PCMU)', () => {
  it('encodes the reference points of ITU-T G.711 table 2a', () => {
    expect(MU_LAW_SILENCE).toBe(0xff);
    expect(linearToMuLaw(0)).toBe(0xff);
    expect(linearToMuLaw(32767)).toBe(0x80); // positive full scale
    expect(linearToMuLaw(-32768)).toBe(0x00); // negative full scale
    expect(linearToMuLaw(1000)).toBe(0xce);
    expect(linearToMuLaw(-1000)).toBe(0x4e);
    expect(muLawToLinear(0xff)).toBe(0);
    expect(muLawToLinear(0x7f)).toBe(0); // "negative zero"
    expect(muLawToLinear(0x80)).toBe(32124); // 8031 in 14-bit units, times 4
    expect(muLawToLinear(0x00)).toBe(-32124);
    expect(muLawToLinear(0xce)).toBe(988);
  });

  it('is odd-symmetric: the sign bit alone tells x from -x', () => {
    for (let x = 1; x <= 32767; x++) expect(linearToMuLaw(-x) ^ linearToMuLaw(x)).toBe(0x80);
    for (let c = 0; c < 256; c++) expect(muLawToLinear(c ^ 0x80)).toBe(0 - muLawToLinear(c));
  });

  it('round-trips every code, and every sample within half a quantisation step', () => {
    for (let c = 0; c < 256; c++) if (c !== 0x7f) expect(linearToMuLaw(muLawToLinear(c))).toBe(c);
    const decoded = decodeMuLaw(encodeMuLaw(ALL));
    let worst = 0;
    for (let i = 0; i < ALL.length; i++) {
      const x = ALL[i] ?? 0;
      const err = Math.abs(x - (decoded[i] ?? 0));
      const magnitude = Math.min(Math.abs(x), 32635) + 0x84;
      const halfStep = 2 ** (31 - Math.clz32(magnitude) - 7 + 3) / 2;
      if (Math.abs(x) <= 32124) expect(err, `x=${x}`).toBeLessThanOrEqual(halfStep);
      worst = Math.max(worst, err);
    }
    expect(worst).toBe(32768 - 32124); // clipping at the negative extreme
  });

  it('is monotonic (non-decreasing decoded value as the input grows)', () => {
    const decoded = decodeMuLaw(encodeMuLaw(ALL));
    for (let i = 1; i < decoded.length; i++) expect(decoded[i] ?? 0).toBeGreaterThanOrEqual(decoded[i - 1] ?? 0);
  });
});

describe('G.711 A-law (PCMA)', () => {
  it('encodes the reference points of ITU-T G.711 table 1a', () => {
    expect(A_LAW_SILENCE).toBe(0xd5);
    expect(linearToALaw(0)).toBe(0xd5);
    expect(linearToALaw(-1)).toBe(0x55);
    expect(linearToALaw(32767)).toBe(0xaa); // positive full scale
    expect(linearToALaw(-32768)).toBe(0x2a); // negative full scale
    expect(linearToALaw(1000)).toBe(0xfa);
    expect(aLawToLinear(0xd5)).toBe(8); // A-law has no zero: the first step is ±1 in 13-bit units
    expect(aLawToLinear(0x55)).toBe(-8);
    expect(aLawToLinear(0xaa)).toBe(32256); // 4032 in 13-bit units, times 8
    expect(aLawToLinear(0x2a)).toBe(-32256);
    expect(aLawToLinear(0xfa)).toBe(1008);
  });

  it('is symmetric around -1/2: x and -x-1 differ only in the sign bit', () => {
    for (let x = 0; x <= 32767; x++) expect(linearToALaw(-x - 1) ^ linearToALaw(x)).toBe(0x80);
    for (let c = 0; c < 256; c++) expect(aLawToLinear(c ^ 0x80)).toBe(0 - aLawToLinear(c));
  });

  it('round-trips every code, and every sample within half a quantisation step', () => {
    for (let c = 0; c < 256; c++) expect(linearToALaw(aLawToLinear(c))).toBe(c);
    const decoded = decodeALaw(encodeALaw(ALL));
    let worst = 0;
    for (let i = 0; i < ALL.length; i++) {
      const x = ALL[i] ?? 0;
      const err = Math.abs(x - (decoded[i] ?? 0));
      const m = (x >= 0 ? x : -x - 1) >> 3;
      const halfStep = m < 32 ? 8 : 2 ** (31 - Math.clz32(m) - 4 + 3) / 2;
      if (Math.abs(x) <= 32256) expect(err, `x=${x}`).toBeLessThanOrEqual(halfStep);
      worst = Math.max(worst, err);
    }
    expect(worst).toBe(32768 - 32256);
  });

  it('is monotonic', () => {
    const decoded = decodeALaw(encodeALaw(ALL));
    for (let i = 1; i < decoded.length; i++) expect(decoded[i] ?? 0).toBeGreaterThanOrEqual(decoded[i - 1] ?? 0);
  });
});

describe('G.711 buffers', () => {
  it('maps the RTP names to static payload types 0 and 8 (RFC 3551 table 4)', () => {
    expect(G711_PAYLOAD_TYPE).toEqual({ PCMU: 0, PCMA: 8 });
  });

  it('encodes and decodes whole frames with either codec, agreeing with the per-sample functions', () => {
    const frame = Int16Array.from({ length: 160 }, (_, i) => Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
    const mu = encodeG711('PCMU', frame);
    const a = encodeG711('PCMA', frame);
    expect(mu).toHaveLength(160);
    expect([...mu]).toEqual([...frame].map(linearToMuLaw));
    expect([...a]).toEqual([...frame].map(linearToALaw));
    expect([...decodeG711('PCMU', mu)]).toEqual([...mu].map(muLawToLinear));
    expect([...decodeG711('PCMA', a)]).toEqual([...a].map(aLawToLinear));
    expect(encodeG711('PCMU', new Int16Array(0))).toHaveLength(0);
  });

  it('clamps out-of-range and non-integer single samples', () => {
    expect(linearToMuLaw(1e9)).toBe(linearToMuLaw(32767));
    expect(linearToALaw(-1e9)).toBe(linearToALaw(-32768));
    expect(linearToMuLaw(Number.NaN)).toBe(linearToMuLaw(-32768));
    expect(linearToALaw(999.9)).toBe(linearToALaw(999));
  });
});
