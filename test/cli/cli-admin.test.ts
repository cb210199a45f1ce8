/**
 * `hotdesk admin add|list|remove` through the built CLI (stdin piped for
 * `--password-stdin`), and the demo account and console line of
 * `hotdesk serve --demo` on an empty data directory.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, MAIN, ensureBuilt, tempDir } from './cli-harness.js';

let tmp: string;
let data: string;

beforeAll(() => {
  ensureBuilt();
  tmp = tempDir();
  data = join(tmp, 'data');
}, 200_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: readonly string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args, '--data', data], { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    if (stdin !== undefined) child.stdin?.end(stdin);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('hotdesk admin', () => {
  it('adds an account from standard input, lists it without any hash, refuses a duplicate', async () => {
    const add = await run(['admin', 'add', 'alice', '--role', 'admin', '--password-stdin'], 'alice-password-1\n');
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/added console account alice \(admin\); password hashed with scrypt N=2\^15 in \d+ ms/);
    const list = await run(['admin', 'list', '--json']);
    const rows = JSON.parse(list.stdout) as Record<string, unknown>[];
    expect(rows).toEqual([{ name: 'alice', role: 'admin', createdAt: expect.any(Number) }]);
    expect(list.stdout).not.toContain('scrypt');
    const dup = await run(['admin', 'add', 'alice', '--role', 'helpdesk', '--password-stdin'], 'another-password\n');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('conflict');
  });

  it('refuses bad input with usage errors and never takes the password as an argument', async () => {
    expect((await run(['admin', 'add', 'bob', '--role', 'root', '--password-stdin'], 'long-enough-pw\n')).code).toBe(2);
    expect((await run(['admin', 'add', 'bob', '--role', 'helpdesk', '--password-stdin'], 'short\n')).code).toBe(2);
    const noTty = await run(['admin', 'add', 'bob', '--role', 'helpdesk']);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('--password-stdin');
    expect((await run(['admin', 'add', 'bob', '--role', 'helpdesk', '--password', 'x'])).code).toBe(2);
    expect((await run(['admin', 'frobnicate'])).code).toBe(2);
    const help = await run(['admin', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: hotdesk admin add NAME --role admin|helpdesk');
  });

  it('removes an account, then says there is none', async () => {
    expect((await run(['admin', 'remove', 'alice'])).code).toBe(0);
    const again = await run(['admin', 'remove', 'alice']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not-found');
    expect((await run(['admin', 'list'])).stdout).toContain('no console accounts');
  });
});

describe('hotdesk serve --demo', () => {
  it('creates the demo-only console account and prints the console URL', async () => {
    const dir = join(tmp, 'demo-data');
    const child = spawn(
      process.execPath,
      [MAIN, 'serve', '--data', dir, '--demo', DEMO, '--host', '127.0.0.1', '--http-port', '0', '--no-tftp', '--sip-port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 25_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('  API ')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
    expect(out).toContain('console account admin / hotdesk-demo created (demo only');
    expect(out).toMatch(/ {2}Console http:\/\/127\.0\.0\.1:\d+\/admin\/ {4}1 account/);
  }, 40_000);
});
