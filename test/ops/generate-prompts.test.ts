/**
 * scripts/generate-prompts.sh with the real espeak-ng and sox: the files it
 * writes are in the format the agent plays, `--lang`/`--only`/`--out`/`--texts`
 * select what is spoken, and a machine without the tools gets a clear message.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../agent/paths.js';
import { parseWav } from '../../agent/protocols/wav.js';

const SCRIPT = join(PROJECT_ROOT, 'scripts', 'generate-prompts.sh');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hotdesk-genprompts-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: NodeJS.ProcessEnv = process.env): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function samples(file: string): Int16Array {
  const w = parseWav(readFileSync(file));
  if (!w.ok) throw new Error(`${file}: ${w.error}`);
  expect(w.encoding).toBe('pcm16');
  return w.samples;
}

describe('generate-prompts.sh', () => {
  it('--help explains the options and the packages it needs', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const s of ['--lang LANG', '--only ID', '--out DIR', 'apt-get install espeak-ng sox']) expect(r.stdout).toContain(s);
  });

  it('speaks the selected prompts into DIR/<lang>/<id>.wav as 8 kHz 16-bit PCM, like the shipped ones', () => {
    const out = join(dir, 'out');
    const r = run(['--lang', 'nl', '--lang', 'de', '--only', 'goodbye', '--only', 'digit-7', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('wrote 4 prompt(s)');
    expect(readdirSync(out).sort()).toEqual(['de', 'nl']);
    for (const lang of ['de', 'nl']) {
      expect(readdirSync(join(out, lang)).sort()).toEqual(['digit-7.wav', 'goodbye.wav']);
      for (const id of ['digit-7', 'goodbye']) {
        const made = samples(join(out, lang, `${id}.wav`));
        const ship = samples(join(PROJECT_ROOT, 'prompts', lang, `${id}.wav`));
        expect(Math.abs(made.length - ship.length) / ship.length, `${lang}/${id}`).toBeLessThan(0.2);
        const peak = made.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 32768;
        expect(peak).toBeGreaterThan(0.65); // -3 dBFS = 0.708
        expect(peak).toBeLessThan(0.72);
      }
    }
  });

  it('speaks a site wording from --texts', () => {
    const texts = join(dir, 'texts.json');
    writeFileSync(texts, JSON.stringify({ goodbye: { nl: 'Bedankt voor het bellen en nog een hele fijne dag verder.' } }));
    const out = join(dir, 'site');
    const r = run(['--texts', texts, '--out', out]);
    expect(r.code).toBe(0);
    const longer = samples(join(out, 'nl', 'goodbye.wav'));
    expect(longer.length).toBeGreaterThan(2 * samples(join(PROJECT_ROOT, 'prompts', 'nl', 'goodbye.wav')).length);
  });

  it.each([
    ['an unknown id', ['--only', 'goodby'], /unknown prompt id goodby/],
    ['a language without texts', ['--lang', 'fr'], /no texts for language fr/],
    ['an unknown option', ['--voice', 'x'], /unknown argument '--voice'/],
  ])('fails on %s', (_name, args, message) => {
    const r = run([...args, '--out', join(dir, 'never')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(readdirSync(dir)).not.toContain('never');
  });

  it('says which tools are missing and how to install them', () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['bash', 'dirname', 'node']) {
      const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(found, join(bin, tool));
    }
    const r = run(['--out', join(dir, 'never')], { ...process.env, PATH: bin });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("espeak-ng sox not found: install with 'apt-get install espeak-ng sox'");
  });
});
