/**
 * WAVE parsing and building, against files written by a real peer (sox) as
 * well as hand-built edge cases: PCM 16-bit, G.711 μ-law and A-law, unknown
 * and odd-sized chunks, WAVE_FORMAT_EXTENSIBLE, and the refusals a site sees
 * when it records a prompt in the wrong format.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeALaw, decodeMuLaw, encodeALaw, encodeMuLaw } from '../../agent/protocols/g711.js';
import { buildWav, durationMs, parseWav, type WavParse } from '../../agent/protocols/wav.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hotdesk-wav-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 440 Hz tone at 8 kHz, `n` samples. */
function tone(n: number, amplitude = 12000): Int16Array {
  const s = new Int16Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / 8000));
  return s;
}

/** Runs sox on `input` (a file in `dir`) with output options, returns the output file's bytes. */
function sox(input: string, output: string, outputOptions: string[], effects: string[] = []): Uint8Array {
  const out = join(dir, output);
  execFileSync('sox', ['-D', '-V1', join(dir, input), ...outputOptions, out, ...effects]);
  return readFileSync(out);
}

/** Interleaved chunks after `RIFF <size> WAVE`. */
function riff(...chunks: Uint8Array[]): Uint8Array {
  const body = Buffer.concat([Buffer.from('WAVE'), ...chunks]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

function chunk(id: string, data: Uint8Array): Uint8Array {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, Buffer.alloc(data.length & 1)]);
}

function fmt(tag: number, channels: number, rate: number, bits: number): Uint8Array {
  const b = Buffer.alloc(16);
  const block = (channels * bits) / 8;
  b.writeUInt16LE(tag, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE(rate * block, 8);
  b.writeUInt16LE(block, 12);
  b.writeUInt16LE(bits, 14);
  return b;
}

function pcmBytes(s: Int16Array): Uint8Array {
  const b = Buffer.alloc(s.length * 2);
  for (const [i, v] of s.entries()) b.writeInt16LE(v, i * 2);
  return b;
}

function ok(r: WavParse): Extract<WavParse, { ok: true }> {
  if (!r.ok) throw new Error(r.error);
  return r;
}

function error(r: WavParse): string {
  if (r.ok) throw new Error('parsed although it should not');
  return r.error;
}

describe('buildWav', () => {
  it('writes the canonical 44-byte PCM header that sox reads back sample for sample', () => {
    const s = tone(800);
    const bytes = buildWav(s);
    expect(bytes.length).toBe(44 + 1600);
    writeFileSync(join(dir, 'built.wav'), bytes);
    const info = execFileSync('soxi', [join(dir, 'built.wav')], { encoding: 'utf8' });
    expect(info).toMatch(/Channels\s+: 1/);
    expect(info).toMatch(/Sample Rate\s+: 8000/);
    expect(info).toMatch(/16-bit Signed Integer PCM/);
    expect(info).toMatch(/= 800 samples/);
    const raw = sox('built.wav', 'built.raw', ['-t', 'raw', '-e', 'signed-integer', '-b', '16', '-L']);
    expect(new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2)).toEqual(s);
  });

  it('round-trips through parseWav, at another rate too', () => {
    const s = tone(321);
    expect(ok(parseWav(buildWav(s))).samples).toEqual(s);
    expect(error(parseWav(buildWav(s, 16000)))).toBe('16000 Hz: prompts must be 8000 Hz mono, 16-bit PCM, mu-law or A-law');
  });

  it('durationMs counts 8 kHz samples', () => {
    expect(durationMs(new Int16Array(8000))).toBe(1000);
    expect(durationMs(tone(1200))).toBe(150);
  });
});

describe('parseWav on files written by sox', () => {
  beforeAll(() => writeFileSync(join(dir, 'tone.wav'), buildWav(tone(4000))));

  it('reads 16-bit PCM', () => {
    const r = ok(parseWav(sox('tone.wav', 'pcm.wav', ['-e', 'signed-integer', '-b', '16'])));
    expect(r.encoding).toBe('pcm16');
    expect(r.samples).toEqual(tone(4000));
  });

  it.each([
    ['mu-law', 'u-law', 'ulaw', decodeMuLaw],
    ['A-law', 'a-law', 'alaw', decodeALaw],
  ] as const)('reads %s and decodes it as G.711 (same samples as sox decodes)', (_name, soxEncoding, encoding, decode) => {
    const bytes = sox('tone.wav', `${encoding}.wav`, ['-e', soxEncoding, '-b', '8']);
    expect(Buffer.from(bytes).readUInt16LE(20)).toBe(encoding === 'ulaw' ? 7 : 6); // format tag in the file
    const r = ok(parseWav(bytes));
    expect(r.encoding).toBe(encoding);
    expect(r.samples.length).toBe(4000);
    // sox's own decoding of its file, as 16-bit PCM
    const ref = sox(`${encoding}.wav`, `${encoding}-decoded.raw`, ['-t', 'raw', '-e', 'signed-integer', '-b', '16', '-L']);
    expect(r.samples).toEqual(new Int16Array(ref.buffer.slice(ref.byteOffset, ref.byteOffset + ref.length)));
    // ... and the same as protocols/g711.ts decodes those bytes
    expect(r.samples).toEqual(decode(Buffer.from(bytes).subarray(bytes.length - 4000)));
  });

  it('skips an odd-sized LIST chunk spliced in after the fmt chunk', () => {
    const bytes = Buffer.from(sox('tone.wav', 'pcm.wav', ['-e', 'signed-integer', '-b', '16']));
    const fmtEnd = 12 + 8 + bytes.readUInt32LE(16);
    const list = chunk('LIST', Buffer.from('INFOICMT\x09\x00\x00\x00recorded!', 'latin1'));
    const file = Buffer.concat([bytes.subarray(0, fmtEnd), list, bytes.subarray(fmtEnd)]);
    file.writeUInt32LE(file.length - 8, 4);
    expect(list.length % 2).toBe(0);
    expect(ok(parseWav(file)).samples).toEqual(tone(4000));
  });

  it.each([
    ['a CD-quality recording', ['-r', '44100', '-e', 'signed-integer', '-b', '16'], '44100 Hz: prompts must be 8000 Hz mono'],
    ['stereo', ['-c', '2', '-e', 'signed-integer', '-b', '16'], '2 channels: prompts must be 8000 Hz mono'],
    ['24-bit PCM', ['-e', 'signed-integer', '-b', '24'], 'PCM 24-bit: prompts must be'],
    ['8-bit unsigned PCM', ['-e', 'unsigned-integer', '-b', '8'], 'PCM 8-bit: prompts must be'],
    ['32-bit float', ['-e', 'floating-point', '-b', '32'], 'IEEE float 32-bit: prompts must be'],
    ['IMA ADPCM', ['-e', 'ima-adpcm'], 'IMA ADPCM 4-bit: prompts must be'],
    ['GSM', ['-e', 'gsm-full-rate'], 'GSM 6.10'],
  ])('refuses %s with a reason', (_name, options, reason) => {
    expect(error(parseWav(sox('tone.wav', 'refused.wav', ['-t', 'wav', ...options])))).toContain(reason);
  });
});

describe('parseWav edge cases', () => {
  const s = tone(100);

  it('honours the pad byte of odd-sized chunks before the data', () => {
    const odd = chunk('junk', Buffer.from('abc')); // 3 bytes + 1 pad
    expect(odd.length).toBe(12);
    expect(ok(parseWav(riff(chunk('fmt ', fmt(1, 1, 8000, 16)), odd, chunk('fact', Buffer.alloc(4)), chunk('data', pcmBytes(s))))).samples).toEqual(s);
  });

  it('ignores an odd trailing byte of 16-bit data and anything after the RIFF size', () => {
    const data = Buffer.concat([pcmBytes(s), Buffer.from([0x7f])]);
    const file = Buffer.concat([riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('data', data)), Buffer.from('trailing junk')]);
    expect(ok(parseWav(file)).samples).toEqual(s);
  });

  it('tolerates a streaming writer’s RIFF size (0xFFFFFFFF)', () => {
    const file = Buffer.from(riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('data', pcmBytes(s))));
    file.writeUInt32LE(0xffffffff, 4);
    expect(ok(parseWav(file)).samples).toEqual(s);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE with a PCM or mu-law sub-format', () => {
    const ext = (tag: number, bits: number): Uint8Array => {
      const b = Buffer.alloc(40);
      Buffer.from(fmt(0xfffe, 1, 8000, bits)).copy(b, 0);
      b.writeUInt16LE(22, 16); // cbSize
      b.writeUInt16LE(bits, 18); // valid bits
      b.writeUInt32LE(4, 20); // channel mask: front centre
      b.writeUInt16LE(tag, 24); // sub-format GUID, first two bytes
      Buffer.from('000000001000800000aa00389b71', 'hex').copy(b, 26);
      return b;
    };
    expect(ok(parseWav(riff(chunk('fmt ', ext(1, 16)), chunk('data', pcmBytes(s))))).samples).toEqual(s);
    const mu = encodeMuLaw(s);
    const r = ok(parseWav(riff(chunk('fmt ', ext(7, 8)), chunk('data', mu))));
    expect([r.encoding, r.samples]).toEqual(['ulaw', decodeMuLaw(mu)]);
    expect(error(parseWav(riff(chunk('fmt ', ext(3, 32)), chunk('data', Buffer.alloc(8)))))).toContain('IEEE float 32-bit');
  });

  it.each([
    ['an empty file', Buffer.alloc(0), 'not a WAV file'],
    ['an MP3 file', Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00rest of an mp3 file'), 'not a WAV file'],
    ['a big-endian RIFX file', Buffer.from('RIFX\x00\x00\x00\x04WAVE'), 'big-endian'],
    ['a file without chunks', riff(), 'no fmt chunk'],
    ['data before fmt', riff(chunk('data', pcmBytes(s)), chunk('fmt ', fmt(1, 1, 8000, 16))), 'no fmt chunk before the data chunk'],
    ['fmt without data', riff(chunk('fmt ', fmt(1, 1, 8000, 16))), 'no data chunk'],
    ['a short fmt chunk', riff(chunk('fmt ', Buffer.alloc(14)), chunk('data', pcmBytes(s))), 'shorter than 16'],
    ['empty data', riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('data', Buffer.alloc(0))), 'no samples'],
  ])('refuses %s', (_name, bytes, reason) => {
    expect(error(parseWav(bytes))).toContain(reason);
  });

  it('refuses a truncated data chunk', () => {
    const file = riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('data', pcmBytes(s)));
    expect(error(parseWav(file.subarray(0, file.length - 10)))).toBe('the data chunk is truncated (200 bytes declared, 190 present)');
  });

  it('reads a file that sits inside a larger buffer', () => {
    const file = riff(chunk('fmt ', fmt(6, 1, 8000, 8)), chunk('data', encodeALaw(s)));
    const big = new Uint8Array(file.length + 7);
    big.set(file, 7);
    expect(ok(parseWav(big.subarray(7))).samples).toEqual(decodeALaw(encodeALaw(s)));
  });
});
