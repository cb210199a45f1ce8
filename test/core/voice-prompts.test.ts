/**
 * The voice prompt ids, their wording in every shipped language, the shipped
 * audio for each, and what the agent says for every hot-desk outcome, checked
 * against the real state machine (a PIN attempt for a missing number must
 * sound exactly like a wrong PIN; no PIN is ever spoken).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFeatureCode } from '../../agent/core/feature-code.js';
import { DEFAULT_DECIDE_POLICY, decide } from '../../agent/core/hotdesk-machine.js';
import { EMPTY_LOCK, type DeskOutcome, type DeskState, type OutcomeCode } from '../../agent/core/model.js';
import { PROMPTS } from '../../agent/core/prompts.js';
import {
  digitsSpeech,
  isVoicePromptId,
  outcomeSpeech,
  VOICE_LANGUAGES,
  VOICE_PROMPT_IDS,
  VOICE_PROMPT_TEXT,
  type VoicePromptId,
} from '../../agent/core/voice-prompts.js';
import { PROJECT_ROOT } from '../../agent/paths.js';
import { parseWav } from '../../agent/protocols/wav.js';

const PROMPTS_DIR = join(PROJECT_ROOT, 'prompts');
const TEXTS = JSON.parse(readFileSync(join(PROMPTS_DIR, 'texts.json'), 'utf8')) as Record<string, Record<string, string>>;
const OUTCOMES: OutcomeCode[] = [...(Object.keys(PROMPTS) as OutcomeCode[]), 'no-change'];
const PHONE = '001565aaaa01';
const NOW = Date.UTC(2025, 0, 6, 9, 0, 0);

const outcome = (code: OutcomeCode, extra: Partial<DeskOutcome> = {}): DeskOutcome => ({
  code,
  prompt: code === 'no-change' ? null : code,
  phone: PHONE,
  message: 'x',
  ...extra,
});

describe('voice prompt ids', () => {
  it('are unique, kebab-case, and include every screen prompt id', () => {
    expect(new Set(VOICE_PROMPT_IDS).size).toBe(VOICE_PROMPT_IDS.length);
    for (const id of VOICE_PROMPT_IDS) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    for (const id of Object.keys(PROMPTS)) expect(isVoicePromptId(id)).toBe(true);
    for (const id of ['no-user', 'try-again', 'no-input', 'unavailable', 'goodbye', 'as', 'digit-0', 'digit-9']) expect(isVoicePromptId(id)).toBe(true);
    expect(isVoicePromptId('digit-10')).toBe(false);
    expect(isVoicePromptId('hotdesk-logged-in')).toBe(false);
  });

  it('reads the digits of a short number one by one', () => {
    expect(digitsSpeech('001')).toEqual(['digit-0', 'digit-0', 'digit-1']);
    expect(digitsSpeech('9a*5')).toEqual(['digit-9', 'digit-5']);
    expect(digitsSpeech('')).toEqual([]);
  });
});

describe('outcomeSpeech', () => {
  it.each(OUTCOMES)('%s is spoken with known ids, with and without a user', (code) => {
    for (const o of [outcome(code), outcome(code, { user: '205', userName: 'Alex' })]) {
      const speech = outcomeSpeech(o);
      expect(speech.length).toBeGreaterThan(0);
      for (const id of speech) expect(isVoicePromptId(id)).toBe(true);
    }
  });

  it('names the user by digits where the sentence names them', () => {
    expect(outcomeSpeech(outcome('logged-in', { user: '101' }))).toEqual(['logged-in', 'as', 'digit-1', 'digit-0', 'digit-1']);
    expect(outcomeSpeech(outcome('switched', { user: '007', previousUser: '101' }))).toEqual(['switched', 'as', 'digit-0', 'digit-0', 'digit-7']);
    expect(outcomeSpeech(outcome('logged-out', { user: '42' }))).toEqual(['digit-4', 'digit-2', 'is-logged-out']);
    expect(outcomeSpeech(outcome('no-change', { user: '42' }))).toEqual(['logged-in', 'as', 'digit-4', 'digit-2']);
  });

  it('says a whole sentence when no user is named', () => {
    expect(outcomeSpeech(outcome('logged-in'))).toEqual(['logged-in']);
    expect(outcomeSpeech(outcome('logged-out'))).toEqual(['logged-out']);
    expect(outcomeSpeech(outcome('no-change'))).toEqual(['no-user']);
    expect(outcomeSpeech(outcome('ask-pin'))).toEqual(['ask-pin']);
    expect(outcomeSpeech(outcome('locked', { lockedUntil: NOW }))).toEqual(['locked']);
  });

  it('speaks an unknown-user outcome exactly like a wrong PIN', () => {
    expect(outcomeSpeech(outcome('unknown-user'))).toEqual(outcomeSpeech(outcome('wrong-pin', { attemptsLeft: 4 })));
    expect(outcomeSpeech(outcome('wrong-pin', { attemptsLeft: 1 }))).toEqual(['wrong-pin', 'try-again']);
  });

  describe('on decisions of the real state machine', () => {
    const alice = { ext: '101', name: 'Alice', hotdesk: true, hasPin: true } as const;
    const state = (user: DeskState['user']): DeskState => ({
      phone: { mac: PHONE, hotdesk: true },
      phoneSession: null,
      user,
      userSessions: [],
      userLock: EMPTY_LOCK,
      phoneLock: EMPTY_LOCK,
    });
    const speak = (user: DeskState['user'], digits: string, pinValid: boolean): VoicePromptId[] =>
      outcomeSpeech(decide(state(user), { kind: 'dial', code: parseFeatureCode(digits), pinValid }, NOW, DEFAULT_DECIDE_POLICY).outcome);

    it('a PIN for a missing number, a PIN-less user and a wrong PIN sound the same, without any digit', () => {
      const wrong = speak(alice, '*35*101*4321', false);
      expect(speak(null, '*35*555*4321', false)).toEqual(wrong);
      expect(speak({ ...alice, hasPin: false }, '*35*101*4321', false)).toEqual(wrong);
      expect(wrong.some((id) => id.startsWith('digit-'))).toBe(false);
    });

    it('a login names the user and never the PIN', () => {
      const speech = speak(alice, '*35*101*4321', true);
      expect(speech).toEqual(['logged-in', 'as', 'digit-1', 'digit-0', 'digit-1']);
      expect(speech).not.toContain('digit-4');
    });
  });
});

describe('prompts/texts.json', () => {
  it('has exactly the voice prompt ids', () => {
    expect(Object.keys(TEXTS).sort()).toEqual([...VOICE_PROMPT_IDS].sort());
  });

  it.each(VOICE_LANGUAGES)('has a non-empty text in %s for every id', (lang) => {
    for (const id of VOICE_PROMPT_IDS) {
      expect(TEXTS[id]?.[lang]?.trim() ?? '', `${lang}/${id}`).not.toBe('');
      expect(TEXTS[id]?.[lang], `${lang}/${id}`).not.toMatch(/[0-9]/); // digits are read as words
    }
  });

  it('says in English what VOICE_PROMPT_TEXT documents', () => {
    for (const id of VOICE_PROMPT_IDS) expect(TEXTS[id]?.['en'], id).toBe(VOICE_PROMPT_TEXT[id]);
  });

  it('uses polite Dutch and German (u / Sie), never the informal forms', () => {
    for (const id of VOICE_PROMPT_IDS) {
      expect(TEXTS[id]?.['nl'], id).not.toMatch(/\b(je|jij|jouw)\b/i);
      expect(TEXTS[id]?.['de'], id).not.toMatch(/\b(du|dein|deine)\b/i);
    }
  });
});

describe('shipped audio', () => {
  const peak = (s: Int16Array): number => s.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const rms = (s: Int16Array): number => Math.sqrt(s.reduce((a, v) => a + v * v, 0) / s.length);

  it.each(VOICE_LANGUAGES)('%s: every id is an 8 kHz mono 16-bit PCM file, trimmed, normalised and not silent', (lang) => {
    for (const id of VOICE_PROMPT_IDS) {
      const bytes = readFileSync(join(PROMPTS_DIR, lang, `${id}.wav`));
      // The header itself says PCM (1), mono, 8000 Hz, 16 bits.
      expect([bytes.readUInt16LE(20), bytes.readUInt16LE(22), bytes.readUInt32LE(24), bytes.readUInt16LE(34)], `${lang}/${id}`).toEqual([1, 1, 8000, 16]);
      const wav = parseWav(bytes);
      if (!wav.ok) throw new Error(`${lang}/${id}: ${wav.error}`);
      expect(wav.encoding).toBe('pcm16');
      const s = wav.samples;
      expect(s.length / 8000, `${lang}/${id} seconds`).toBeGreaterThan(0.25);
      expect(s.length / 8000, `${lang}/${id} seconds`).toBeLessThan(8);
      // normalised to about -3 dBFS (0.708 of full scale)
      expect(peak(s) / 32768, `${lang}/${id} peak`).toBeGreaterThan(0.6);
      expect(peak(s) / 32768, `${lang}/${id} peak`).toBeLessThan(0.75);
      expect(rms(s), `${lang}/${id} rms`).toBeGreaterThan(1000);
      // speech starts within 20 ms; the last 80 ms are the kept silent tail
      expect(peak(s.subarray(0, 160)), `${lang}/${id} lead`).toBeGreaterThan(300);
      expect(peak(s.subarray(s.length - 640)), `${lang}/${id} tail`).toBeLessThan(200);
    }
  });

  it('ships nothing but the ids per language, under 3 MB in total', () => {
    let total = 0;
    for (const lang of VOICE_LANGUAGES) {
      const files = readdirSync(join(PROMPTS_DIR, lang)).sort();
      expect(files).toEqual(VOICE_PROMPT_IDS.map((id) => `${id}.wav`).sort());
      for (const f of files) total += statSync(join(PROMPTS_DIR, lang, f)).size;
    }
    expect(total).toBeLessThan(3 * 1024 * 1024);
  });
});
