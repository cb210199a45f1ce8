/**
 * `hotdesk prompts list|export`, run as the built CLI: help, listing with a
 * site recording, exports for Asterisk and FreeSWITCH (every file a valid
 * 8 kHz 16-bit PCM WAV that sox reads, named like the PBX endpoint's audio
 * names), usage errors.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMPTS } from '../../agent/core/prompts.js';
import { VOICE_PROMPT_IDS } from '../../agent/core/voice-prompts.js';
import { buildWav, parseWav } from '../../agent/protocols/wav.js';
import { ROOT, ensureBuilt, runCli, tempDir } from './cli-harness.js';

let dir: string;
let data: string;

beforeAll(() => {
  ensureBuilt();
  dir = tempDir();
  data = join(dir, 'data');
  mkdirSync(join(data, 'prompts', 'nl'), { recursive: true });
  // the site recorded its own Dutch goodbye (1 s), and one in the wrong format
  writeFileSync(join(data, 'prompts', 'nl', 'goodbye.wav'), buildWav(Int16Array.from({ length: 8000 }, (_v, i) => (i % 50) * 100)));
  writeFileSync(join(data, 'prompts', 'nl', 'as.wav'), 'not a wav');
}, 200_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function shippedBytesEqual(file: string, lang: string, id: string): boolean {
  const a = parseWav(readFileSync(file));
  const b = parseWav(readFileSync(join(ROOT, 'prompts', lang, `${id}.wav`)));
  return a.ok && b.ok && a.samples.length === b.samples.length && a.samples.every((v, i) => v === b.samples[i]);
}

describe('hotdesk prompts --help', () => {
  it.each([[['prompts', '--help']], [['help', 'prompts']], [['prompts', 'export', '-h']]])('%j prints the usage of both actions', async (args) => {
    const r = await runCli(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: hotdesk prompts list/);
    expect(r.stdout).toContain('hotdesk prompts export --format asterisk|freeswitch');
    expect(r.stdout).toContain('DIR/<lang>/hotdesk/8000/hotdesk-<id>.wav');
    expect(r.stdout).toContain('--data DIR');
    expect(r.stderr).toBe('');
  });

  it('is in the command list', async () => {
    const r = await runCli(['help']);
    expect(r.stdout).toMatch(/^ {2}prompts +voice prompts/m);
  });
});

describe('hotdesk prompts list', () => {
  it('lists every prompt with source, length and wording, the site recording included', async () => {
    const r = await runCli(['prompts', 'list', '--lang', 'nl', '--data', data, '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { lang: string; id: string; source: string; durationMs: number; text: string | null }[];
    expect(rows.map((x) => x.id)).toEqual([...VOICE_PROMPT_IDS]);
    expect(rows.find((x) => x.id === 'goodbye')).toMatchObject({ lang: 'nl', source: 'override', durationMs: 1000, text: null });
    expect(rows.find((x) => x.id === 'logged-in')).toMatchObject({ source: 'shipped', text: 'U bent aangemeld' });
    // the refused recording is named on stderr and the shipped prompt is listed
    expect(rows.find((x) => x.id === 'as')).toMatchObject({ source: 'shipped', text: 'als' });
    expect(r.stderr).toMatch(/warning: voice prompt recording refused.*prompts\/nl\/as\.wav.*not a WAV file/);
  });

  it('prints a table for every shipped language by default', async () => {
    const r = await runCli(['prompts', 'list', '--data', join(dir, 'no-data-here')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^LANG +ID +SOURCE +LENGTH +TEXT/);
    expect(r.stdout).toMatch(/^de +logged-in +shipped +\d\.\d\d s +Sie sind angemeldet$/m);
    expect(r.stdout).toMatch(/^en +as +shipped +\d\.\d\d s +as$/m);
    expect(r.stdout).toMatch(/^nl +digit-1 +shipped +\d\.\d\d s +één$/m);
    expect(r.stdout.trim().split('\n')).toHaveLength(1 + 3 * VOICE_PROMPT_IDS.length);
  });
});

describe('hotdesk prompts export', () => {
  it('writes the Asterisk layout: <lang>/hotdesk/hotdesk-<id>.wav, 8 kHz 16-bit PCM', async () => {
    const out = join(dir, 'asterisk');
    const r = await runCli(['prompts', 'export', '--format', 'asterisk', '--lang', 'nl', '--data', data, out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`nl: ${VOICE_PROMPT_IDS.length + 1} files in ${join(out, 'nl', 'hotdesk')}`);
    expect(readdirSync(out)).toEqual(['nl']);
    const files = readdirSync(join(out, 'nl', 'hotdesk')).sort();
    expect(files).toEqual([...VOICE_PROMPT_IDS.map((id) => `hotdesk-${id}.wav`), 'hotdesk-error.wav'].sort());
    // every audio name the PBX endpoint answers has its file
    for (const p of Object.values(PROMPTS)) expect(files).toContain(`${p.audio}.wav`);
    for (const f of files) {
      const bytes = readFileSync(join(out, 'nl', 'hotdesk', f));
      const w = parseWav(bytes);
      expect(w.ok && w.encoding, f).toBe('pcm16');
      expect(Buffer.from(bytes).readUInt16LE(20), f).toBe(1);
    }
    const info = execFileSync('soxi', [join(out, 'nl', 'hotdesk', 'hotdesk-ask-pin.wav')], { encoding: 'utf8' });
    expect(info).toMatch(/Channels\s+: 1[\s\S]*Sample Rate\s+: 8000[\s\S]*16-bit Signed Integer PCM/);
    expect(shippedBytesEqual(join(out, 'nl', 'hotdesk', 'hotdesk-ask-pin.wav'), 'nl', 'ask-pin')).toBe(true);
    expect(shippedBytesEqual(join(out, 'nl', 'hotdesk', 'hotdesk-error.wav'), 'nl', 'unavailable')).toBe(true);
    // the site's own recording is exported
    const goodbye = parseWav(readFileSync(join(out, 'nl', 'hotdesk', 'hotdesk-goodbye.wav')));
    expect(goodbye.ok && goodbye.samples.length).toBe(8000);
  });

  it('writes the FreeSWITCH layout for every shipped language: <lang>/hotdesk/8000/hotdesk-<id>.wav', async () => {
    const out = join(dir, 'freeswitch');
    const r = await runCli(['prompts', 'export', '--format', 'freeswitch', '--json', '--data', data, out]);
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.stdout) as { format: string; files: string[] };
    expect(answer.format).toBe('freeswitch');
    expect(answer.files).toHaveLength(3 * (VOICE_PROMPT_IDS.length + 1));
    expect(readdirSync(out).sort()).toEqual(['de', 'en', 'nl']);
    for (const lang of ['de', 'en', 'nl']) {
      const files = readdirSync(join(out, lang, 'hotdesk', '8000'));
      expect(files).toHaveLength(VOICE_PROMPT_IDS.length + 1);
      expect(shippedBytesEqual(join(out, lang, 'hotdesk', '8000', 'hotdesk-logged-in.wav'), lang, 'logged-in')).toBe(true);
    }
    const info = execFileSync('soxi', [join(out, 'de', 'hotdesk', '8000', 'hotdesk-digit-2.wav')], { encoding: 'utf8' });
    expect(info).toMatch(/Sample Rate\s+: 8000[\s\S]*16-bit Signed Integer PCM/);
  });

  it.each([
    ['no action', ['prompts'], /missing action/],
    ['an unknown action', ['prompts', 'play'], /unknown action 'play'/],
    ['export without --format', ['prompts', 'export', 'out'], /--format is required/],
    ['an unknown format', ['prompts', 'export', '--format', 'yate', 'out'], /--format must be asterisk or freeswitch/],
    ['export without DIR', ['prompts', 'export', '--format', 'asterisk'], /missing DIR/],
    ['a bad language', ['prompts', 'list', '--lang', 'Dutch'], /--lang must be a language code/],
    ['list with a DIR', ['prompts', 'list', 'out'], /unexpected argument 'out'/],
  ])('%s is a usage error', async (_name, args, message) => {
    const r = await runCli([...args, '--data', data], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(dir, 'out'))).toBe(false); // nothing written
  });
});
