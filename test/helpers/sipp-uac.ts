/**
 * Runs Debian's `sipp` (package sip-tester) as a calling phone: a UAC
 * scenario from test/fixtures/sipp/ against `remote`, with digest
 * credentials (`-au`/`-ap`), the dialled number (`-s`), scenario keys
 * (`-key`, used as `[name]` in messages), global variables (`-set`, declared
 * `<Global>` in a scenario) and an optional out-of-call scenario (`-oocsf`)
 * for requests that belong to no call of the main one (the agent's NOTIFY).
 * sipp exits 0 only when the scenario, with every `check_it`, passed; the
 * run's error and message logs are returned with the exit code.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeUdpPort, SIPP_FIXTURES } from './sipp.js';

export interface SippUacOptions {
  /** Scenario file name in test/fixtures/sipp/. */
  readonly scenario: string;
  /** `host:port` to send to. */
  readonly remote: string;
  /** The dialled number, `[service]`. */
  readonly service?: string;
  readonly auth?: { readonly username: string; readonly password: string };
  readonly keys?: Readonly<Record<string, string>>;
  readonly globals?: Readonly<Record<string, string>>;
  /** Out-of-call scenario file name in test/fixtures/sipp/. */
  readonly ooc?: string;
  /** Local address for SIP (default 127.0.0.1). */
  readonly localIp?: string;
  /** Media address, `[media_ip]` in the SDP and where sipp plays from (default: `localIp`). */
  readonly mediaIp?: string;
  /** Global timeout in seconds (default 30); running out fails the run. */
  readonly timeoutS?: number;
  /** Local SIP port (default: a free one); a phone that registered keeps its port for its calls. */
  readonly port?: number;
  /**
   * The digest `uri` (`-auth_uri`, without `sip:`). sipp computes it as
   * `<remote_ip>:<remote_port>` otherwise, which is right for a REGISTER but
   * not for an INVITE, whose digest uri must be its Request-URI (RFC 2617
   * §3.2.2.5, RFC 3261 §22.4).
   */
  readonly authUri?: string;
}

export interface SippUacRun {
  /** Local SIP port. */
  readonly port: number;
  /** Local media port (where sipp plays DTMF from). */
  readonly mediaPort: number;
  /** Resolves when sipp exits: code 0 = scenario passed; `out` holds its output and logs. */
  readonly exit: Promise<{ code: number | null; out: string }>;
  kill(): void;
}

function tail(file: string, max: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.length > max ? `…${text.slice(-max)}` : text;
  } catch {
    return '';
  }
}

/** Starts sipp as a UAC; register `run.kill` with your cleanup. */
export async function startSippUac(o: SippUacOptions): Promise<SippUacRun> {
  const port = o.port ?? (await freeUdpPort());
  const mediaPort = await freeUdpPort();
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'sipp-uac-'));
  const ip = o.localIp ?? '127.0.0.1';
  const args = [
    o.remote,
    '-sf',
    path.join(SIPP_FIXTURES, o.scenario),
    ...(o.ooc ? ['-oocsf', path.join(SIPP_FIXTURES, o.ooc)] : []),
    '-i',
    ip,
    '-mi',
    o.mediaIp ?? ip,
    '-p',
    String(port),
    '-mp',
    String(mediaPort),
    '-m',
    '1',
    '-l',
    '1',
    '-nostdin',
    '-timeout',
    `${o.timeoutS ?? 30}s`,
    '-timeout_error',
    '-trace_err',
    '-trace_msg',
    ...(o.service !== undefined ? ['-s', o.service] : []),
    ...(o.auth ? ['-au', o.auth.username, '-ap', o.auth.password] : []),
    ...(o.authUri !== undefined ? ['-auth_uri', o.authUri] : []),
    ...Object.entries(o.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
    ...Object.entries(o.globals ?? {}).flatMap(([k, v]) => ['-set', k, v]),
  ];
  const child = spawn('sipp', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString('utf8')).slice(-3000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exit = new Promise<{ code: number | null; out: string }>((resolve) => {
    child.on('exit', (code) => {
      const logs = fs
        .readdirSync(cwd)
        .filter((f) => f.endsWith('.log'))
        .map((f) => `--- ${f}\n${tail(path.join(cwd, f), f.includes('messages') ? 6000 : 3000)}`)
        .join('\n');
      fs.rmSync(cwd, { recursive: true, force: true });
      resolve({ code, out: `sipp ${args.join(' ')}\n${out}\n${logs}` });
    });
  });
  return {
    port,
    mediaPort,
    exit,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
