/**
 * Runs Debian's `sipp` (package sip-tester) as a UAS playing a phone's SIP
 * side, with one of the scenarios in test/fixtures/sipp/. A real SIP peer:
 * sipp exits 0 only when the scenario (including its header checks) passed.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SIPP_FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'sipp');

/** A UDP port that was free a moment ago (sipp needs a number). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function portBound(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => {
      s.close();
      resolve(true);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
}

export interface SippRun {
  readonly port: number;
  /** Resolves when sipp exits (code 0 = scenario passed). */
  readonly exit: Promise<{ code: number | null; out: string }>;
  kill(): void;
}

/**
 * Starts sipp with `scenario` on 127.0.0.1; `calls` scenarios are played
 * before it exits. Register `run.kill` with your cleanup.
 */
export async function startSipp(scenario: string, opts: { calls?: number; timeoutS?: number } = {}): Promise<SippRun> {
  const port = await freeUdpPort();
  const mp = await freeUdpPort();
  const cp = await freeUdpPort();
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'sipp-'));
  const child = spawn(
    'sipp',
    [
      '-sf',
      path.join(SIPP_FIXTURES, scenario),
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '-mp',
      String(mp),
      '-cp',
      String(cp),
      '-m',
      String(opts.calls ?? 1),
      '-nostdin',
      '-timeout',
      `${opts.timeoutS ?? 20}s`,
      '-timeout_error',
    ],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString('utf8')).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exit = new Promise<{ code: number | null; out: string }>((resolve) => {
    child.on('exit', (code) => {
      fs.rmSync(cwd, { recursive: true, force: true });
      resolve({ code, out });
    });
  });
  for (let i = 0; i < 100; i++) {
    if (await portBound(port)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    exit,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
