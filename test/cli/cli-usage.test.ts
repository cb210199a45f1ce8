/**
 * `hotdesk` command line surface: help texts, version, usage errors (exit 2).
 * Runs the built CLI as a real process.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt, runCli, tempDir } from './cli-harness.js';

const COMMANDS = [
  'serve',
  'import',
  'export',
  'users',
  'phones',
  'sessions',
  'login',
  'logout',
  'dial',
  'audit',
  'render',
  'discover',
  'doctor',
  'backup',
  'restore',
  'admin',
];
let dir: string;

beforeAll(() => {
  ensureBuilt();
  dir = tempDir();
}, 200_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hotdesk help', () => {
  it.each([[[]], [['help']], [['--help']], [['-h']]])('%j lists every command with exit 0', async (args) => {
    const r = await runCli(args);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    expect(r.stdout).toContain('Exit codes:');
  });

  it.each(COMMANDS)('%s --help prints its usage and exits 0', async (cmd) => {
    const r = await runCli([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`hotdesk ${cmd}`);
    expect(r.stderr).toBe('');
  });

  it.each(COMMANDS.filter((c) => c !== 'serve'))('help %s equals its -h', async (cmd) => {
    const a = await runCli(['help', cmd]);
    const b = await runCli([cmd, '-h']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toMatch(/^Usage: hotdesk /);
    expect(a.stdout).toContain('--data DIR');
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe('usage errors exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['help for an unknown command', ['help', 'frobnicate'], /unknown command 'frobnicate'/],
    ['unknown option', ['users', '--nope'], /--nope/],
    ['missing --phone', ['dial', '*35'], /--phone is required/],
    ['missing digits', ['dial', '--phone', '001565aabb01'], /missing DIGITS/],
    ['extra argument', ['dial', '--phone', '001565aabb01', '*35', 'more'], /unexpected argument 'more'/],
    ['not a MAC', ['logout', '--phone', 'desk-1'], /not a MAC/],
    ['option without value', ['render', '--phone'], /--phone/],
    ['login without ext', ['login', '--phone', '001565aabb01'], /missing EXT/],
    ['login with a non-numeric ext', ['login', '--phone', '001565aabb01', 'alice'], /short number/],
    ['import without file', ['import'], /missing FILE/],
    ['bad --limit', ['audit', '--limit', 'ten'], /--limit/],
    ['bad --kind', ['audit', '--kind', 'party'], /--kind must be one of/],
    ['bad --timeout', ['discover', '--timeout', '-5'], /timeout/],
    ['bad --base', ['render', '--phone', '001565aabb01', '--base', 'ftp://x'], /--base/],
    ['serve with a bad --agent-id', ['serve', '--agent-id', 'agent one'], /--agent-id: 1 to 64 letters/],
    ['serve with a bad --pool', ['serve', '--pool', 'ams/1'], /--pool: 1 to 64 letters/],
    ['serve with an over-long --agent-id', ['serve', '--agent-id', 'a'.repeat(65)], /--agent-id: 1 to 64 letters/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const r = await runCli([...args, '--data', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('a usage error with --json also prints a JSON error on stdout', async () => {
    const r = await runCli(['dial', '--json', '--data', dir, '*35']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'usage', message: '--phone is required' } });
  });
});

describe('data directory', () => {
  it('a read command on a missing data dir fails with exit 1 and a hint, creating nothing', async () => {
    const missing = join(dir, 'nothing-here');
    const r = await runCli(['users', '--data', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not-found: .*does not exist.*hotdesk import/);
    expect(existsSync(missing)).toBe(false);
    const again = await runCli(['users'], { cwd: dir, env: { HOTDESK_DATA: missing } });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(missing);
  });
});
