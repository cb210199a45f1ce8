/**
 * Runs the BUILT `hotdesk` CLI as a real process (node dist/agent/cli/main.js).
 * `ensureBuilt` rebuilds dist/ with tsc when it is missing or older than any
 * source file (`make test` builds first, so usually this does nothing); a
 * lock directory keeps parallel test files from building at the same time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'agent', 'cli', 'main.js');
export const DEMO = join(ROOT, 'examples', 'demo.yaml');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  try {
    return statSync(MAIN).mtimeMs < newestSource(join(ROOT, 'agent'));
  } catch {
    return true;
  }
}

const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Builds dist/ when it is missing or stale, at most once per test run (the
 * vitest main process is our parent): rebuilding while another test file of
 * the same run executes the CLI would swap files under it. tsc emits even
 * when other files have type errors.
 */
export function ensureBuilt(): void {
  const tag = `hotdesk-cli-${Buffer.from(ROOT).toString('hex').slice(-24)}`;
  const done = join(tmpdir(), `${tag}-built-${process.ppid}`);
  if (existsSync(done) && existsSync(MAIN)) return;
  const lock = join(tmpdir(), `${tag}.lock`);
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      sleep(250);
    }
  }
  try {
    if (!existsSync(done)) {
      if (isStale()) spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore', timeout: 170_000 });
      writeFileSync(done, '');
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  statSync(MAIN); // throws when the build produced no CLI
}

/** Result of one CLI run. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `hotdesk ...args` in `cwd` (default: a fresh temp dir) with HOTDESK_DATA and HOTDESK_STORE unset unless given. */
export function runCli(args: readonly string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  for (const name of ['HOTDESK_DATA', 'HOTDESK_STORE']) if (!opts.env || !(name in opts.env)) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fresh temp directory (caller removes it). */
export function tempDir(prefix = 'hotdesk-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
