/**
 * The prompt library on real files: the shipped prompts of the package, site
 * recordings in a temporary data directory (valid ones used, bad ones refused
 * with a warning and the shipped audio kept), English fallback, sequences
 * with gaps, reload.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import { VOICE_PROMPT_IDS } from '../../../agent/core/voice-prompts.js';
import { decodeMuLaw, encodeMuLaw } from '../../../agent/protocols/g711.js';
import { buildWav, parseWav } from '../../../agent/protocols/wav.js';
import type { LogFields, Logger } from '../../../agent/shell/logger.js';
import { PromptLibrary, SEQUENCE_GAP_SAMPLES, SHIPPED_PROMPTS_DIR, loadPromptTexts } from '../../../agent/shell/voice/prompt-library.js';

let data: string;
beforeEach(() => {
  data = mkdtempSync(join(tmpdir(), 'hotdesk-prompts-'));
});
afterEach(() => rmSync(data, { recursive: true, force: true }));

/** A logger that keeps the warnings. */
function recorder(): Logger & { warnings: { msg: string; fields: LogFields }[] } {
  const warnings: { msg: string; fields: LogFields }[] = [];
  const none = (): void => {};
  return { warnings, debug: none, info: none, error: none, warn: (msg, fields = {}) => void warnings.push({ msg, fields }) };
}

function shipped(lang: string, id: string): Int16Array {
  const r = parseWav(readFileSync(join(SHIPPED_PROMPTS_DIR, lang, `${id}.wav`)));
  if (!r.ok) throw new Error(r.error);
  return r.samples;
}

function record(lang: string, id: string, bytes: Uint8Array): string {
  const dir = join(data, 'prompts', lang);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${id}.wav`);
  writeFileSync(file, bytes);
  return file;
}

const ramp = (n: number): Int16Array => Int16Array.from({ length: n }, (_v, i) => (i * 37) % 20000);

describe('shipped prompts', () => {
  it('loads every prompt of the site language from the package', async () => {
    const lib = await PromptLibrary.load({ language: 'nl', dataDir: data });
    expect(lib.language).toBe('nl');
    expect(lib.get('logged-in')).toEqual(shipped('nl', 'logged-in'));
    expect(lib.get('digit-1')).not.toEqual(shipped('en', 'digit-1'));
    expect(lib.sources().map((s) => s.id)).toEqual([...VOICE_PROMPT_IDS]);
    expect(new Set(lib.sources().map((s) => `${s.origin}/${s.language}`))).toEqual(new Set(['shipped/nl']));
    expect(lib.languages()).toEqual(['de', 'en', 'nl']);
  });

  it('defaults to English without a data directory', async () => {
    const lib = await PromptLibrary.load();
    expect(lib.language).toBe('en');
    expect(lib.get('goodbye')).toEqual(shipped('en', 'goodbye'));
  });

  it('ships the wording with the audio', async () => {
    const texts = await loadPromptTexts();
    expect(texts['logged-in']?.['nl']).toBe('U bent aangemeld');
  });

  it('refuses a language that could name another directory', async () => {
    const err = await PromptLibrary.load({ language: '../en' }).catch((e: unknown) => e);
    expect(isHotdeskError(err) && err.code).toBe('bad-request');
  });
});

describe('site recordings', () => {
  it('uses a valid 16-bit PCM or mu-law recording instead of the shipped prompt', async () => {
    const pcm = ramp(4000);
    const pcmFile = record('de', 'goodbye', buildWav(pcm));
    const mu = encodeMuLaw(ramp(3000));
    // sox writes the mu-law file: a real recorder's header, not ours
    const raw = join(data, 'mu.raw');
    writeFileSync(raw, mu);
    mkdirSync(join(data, 'prompts', 'de'), { recursive: true });
    execFileSync('sox', ['-t', 'raw', '-r', '8000', '-c', '1', '-e', 'u-law', '-b', '8', raw, join(data, 'prompts', 'de', 'as.wav')]);
    const log = recorder();
    const lib = await PromptLibrary.load({ language: 'de', dataDir: data, log });
    expect(lib.get('goodbye')).toEqual(pcm);
    expect(lib.get('as')).toEqual(decodeMuLaw(mu));
    expect(lib.get('try-again')).toEqual(shipped('de', 'try-again'));
    const byId = new Map(lib.sources().map((s) => [s.id, s]));
    expect(byId.get('goodbye')).toMatchObject({ origin: 'override', language: 'de', file: pcmFile, encoding: 'pcm16', durationMs: 500 });
    expect(byId.get('as')).toMatchObject({ origin: 'override', encoding: 'ulaw' });
    expect(log.warnings).toEqual([]);
  });

  it('refuses a recording in another format with a warning naming file and reason, and keeps the shipped prompt', async () => {
    const cd = join(data, 'cd.wav');
    writeFileSync(cd, buildWav(ramp(8000)));
    mkdirSync(join(data, 'prompts', 'nl'), { recursive: true });
    const bad = join(data, 'prompts', 'nl', 'ask-pin.wav');
    execFileSync('sox', ['-D', cd, '-r', '44100', '-c', '2', bad]);
    const mp3ish = record('nl', 'goodbye', Buffer.from('ID3 not a wav at all'));
    const log = recorder();
    const lib = await PromptLibrary.load({ language: 'nl', dataDir: data, log });
    expect(lib.get('ask-pin')).toEqual(shipped('nl', 'ask-pin'));
    expect(lib.get('goodbye')).toEqual(shipped('nl', 'goodbye'));
    expect(lib.sources().find((s) => s.id === 'ask-pin')).toMatchObject({ origin: 'shipped', language: 'nl' });
    expect(log.warnings).toEqual([
      {
        msg: expect.stringContaining('refused'),
        fields: { file: bad, reason: expect.stringContaining('44100 Hz: prompts must be 8000 Hz mono'), prompt: 'ask-pin' },
      },
      { msg: expect.stringContaining('refused'), fields: { file: mp3ish, reason: expect.stringContaining('not a WAV file'), prompt: 'goodbye' } },
    ]);
  });

  it('reports a file that is no prompt id and ignores it', async () => {
    record('en', 'goodby', buildWav(ramp(100)));
    const log = recorder();
    await PromptLibrary.load({ language: 'en', dataDir: data, log });
    expect(log.warnings).toEqual([
      { msg: expect.stringContaining('ignored'), fields: expect.objectContaining({ file: join(data, 'prompts', 'en', 'goodby.wav') }) },
    ]);
  });

  it('picks up new recordings on reload', async () => {
    const lib = await PromptLibrary.load({ language: 'en', dataDir: data });
    const before = lib.get('locked');
    expect(before).toEqual(shipped('en', 'locked'));
    record('en', 'locked', buildWav(ramp(800)));
    expect(lib.get('locked')).toBe(before); // cached until reload
    await lib.reload();
    expect(lib.get('locked')).toEqual(ramp(800));
  });
});

describe('English fallback', () => {
  it('uses the English prompt for an id a language does not ship', async () => {
    const shippedDir = join(data, 'package-prompts');
    for (const lang of ['en', 'nl']) cpSync(join(SHIPPED_PROMPTS_DIR, lang), join(shippedDir, lang), { recursive: true });
    unlinkSync(join(shippedDir, 'nl', 'no-input.wav'));
    const lib = await PromptLibrary.load({ language: 'nl', dataDir: data, shippedDir });
    expect(lib.get('no-input')).toEqual(shipped('en', 'no-input'));
    expect(lib.sources().find((s) => s.id === 'no-input')).toMatchObject({ origin: 'shipped', language: 'en' });
    expect(lib.get('goodbye')).toEqual(shipped('nl', 'goodbye'));
    // a site recording in English wins over the shipped English one
    record('en', 'no-input', buildWav(ramp(200)));
    await lib.reload();
    expect(lib.get('no-input')).toEqual(ramp(200));
  });

  it('serves a language the package does not ship from site recordings, the rest in English', async () => {
    record('fr', 'goodbye', buildWav(ramp(300)));
    const log = recorder();
    const lib = await PromptLibrary.load({ language: 'fr', dataDir: data, log });
    expect(lib.get('goodbye')).toEqual(ramp(300));
    expect(lib.get('ask-pin')).toEqual(shipped('en', 'ask-pin'));
    expect(log.warnings).toEqual([{ msg: expect.stringContaining('no shipped voice prompts'), fields: { language: 'fr' } }]);
  });

  it('fails clearly when a prompt has no usable audio at all', async () => {
    const shippedDir = join(data, 'package-prompts');
    cpSync(join(SHIPPED_PROMPTS_DIR, 'en'), join(shippedDir, 'en'), { recursive: true });
    unlinkSync(join(shippedDir, 'en', 'digit-7.wav'));
    const err = await PromptLibrary.load({ language: 'en', shippedDir }).catch((e: unknown) => e);
    expect(isHotdeskError(err) && err.code).toBe('not-found');
    expect(String((err as Error).message)).toContain("'digit-7'");
  });
});

describe('sequence', () => {
  it('concatenates the parts with 150 ms of silence between them', async () => {
    const lib = await PromptLibrary.load({ language: 'en' });
    const parts = ['logged-in', 'as', 'digit-1', 'digit-0'] as const;
    const seq = lib.sequence(parts);
    expect(SEQUENCE_GAP_SAMPLES).toBe(1200);
    let at = 0;
    for (const [i, id] of parts.entries()) {
      if (i > 0) {
        expect(seq.subarray(at, at + SEQUENCE_GAP_SAMPLES).every((v) => v === 0)).toBe(true);
        at += SEQUENCE_GAP_SAMPLES;
      }
      const p = lib.get(id);
      expect(seq.subarray(at, at + p.length)).toEqual(p);
      at += p.length;
    }
    expect(seq.length).toBe(at);
    expect(lib.sequence([])).toEqual(new Int16Array(0));
    expect(lib.sequence(['goodbye'])).toEqual(lib.get('goodbye'));
  });
});
