/**
 * Shared helpers of the provisioning end-to-end tests (provisioning over HTTP and
 * TFTP against the full running agent): real clients (curl, tftp-hpa, atftp),
 * raw sockets, demo data dirs with modified site settings, and the secrets of
 * the demo office that must never leave in a refusal or a log line.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { importDirectory } from '../../agent/directory/import-directory.js';
import { loadDirectoryFile } from '../../agent/directory/load-directory.js';
import { EXAMPLES_DIR } from '../../agent/paths.js';
import { openSqliteStore } from '../../agent/store/sqlite-store.js';
import { afterEach } from 'vitest';
import { startHarness, type DemoPhone, type Harness } from '../helpers/agent-harness.js';

/** Secrets of the demo office (SIP passwords, the bootstrap password). */
export const DEMO_SECRETS = ['reception-secret', 'alex-sales-secret', 'alex-support-secret', 'sam-secret', 'lift-secret', 'hotdesk-demo'];
/** PINs of the demo users, matched as whole words. */
export const DEMO_PINS = ['1234', '4321', '8765', '2000'];

/** Asserts-free check: returns the secrets found in `text` (empty when clean). */
export function secretsIn(text: string, extra: readonly string[] = []): string[] {
  const found = [...DEMO_SECRETS, ...extra].filter((s) => s !== '' && text.includes(s));
  for (const pin of DEMO_PINS) if (new RegExp(`(?<![0-9A-Za-z])${pin}(?![0-9A-Za-z])`).test(text)) found.push(pin);
  return found;
}

/** Temp dirs made by the helpers; removed by {@link removeTempDirs}. */
const tempDirs: string[] = [];

/** A fresh temp dir (removed by {@link removeTempDirs}). */
export function tempDir(prefix = 'hotdesk-prov-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every temp dir made so far. */
export function removeTempDirs(): void {
  while (tempDirs.length) fs.rmSync(tempDirs.pop() ?? '', { recursive: true, force: true });
}

/**
 * Starts agents for the tests of the calling file: registers an `afterEach`
 * that stops every agent started during the test (last first) and then
 * removes the temp dirs; returns the starter (same options as `startHarness`).
 * Call once, at the top level of a test file.
 */
export function useHarness(): (opts?: Parameters<typeof startHarness>[0]) => Promise<Harness> {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
    removeTempDirs();
  });
  return async (opts = {}) => {
    const h = await startHarness(opts);
    cleanups.push(() => h.stop());
    return h;
  };
}

/**
 * A data dir holding the demo office with its YAML changed by `edit` (e.g.
 * `autoEnrol: false`): the modified copy is written to a temp dir and imported.
 */
export async function demoDataDirWith(edit: (yaml: string) => string): Promise<string> {
  const src = fs.readFileSync(path.join(EXAMPLES_DIR, 'demo.yaml'), 'utf8');
  const changed = edit(src);
  if (changed === src) throw new Error('demoDataDirWith: the edit changed nothing');
  const yamlFile = path.join(tempDir('hotdesk-yaml-'), 'demo.yaml');
  fs.writeFileSync(yamlFile, changed);
  const dir = tempDir('hotdesk-e2e-');
  const store = openSqliteStore(dir);
  try {
    await importDirectory(store, loadDirectoryFile(yamlFile), Date.now());
  } finally {
    await store.close();
  }
  return dir;
}

/** One curl exchange. */
export interface CurlResult {
  readonly status: number;
  /** Every header block curl saw (a digest exchange shows the 401 first). */
  readonly headers: string;
  readonly body: Buffer;
  readonly text: string;
}

/** What curl sends (all optional). */
export interface CurlOptions {
  readonly userAgent?: string;
  /** `user:password` for HTTP digest. */
  readonly digest?: string;
  readonly method?: string;
  /** File to upload (`--data-binary @file`). */
  readonly uploadFile?: string;
  /** Source address to bind (`--interface`), e.g. `127.0.0.2`. */
  readonly from?: string;
  readonly pathAsIs?: boolean;
}

/** Runs curl against `url` and returns status, headers and the body bytes. */
export async function curl(url: string, o: CurlOptions = {}): Promise<CurlResult> {
  const dir = tempDir('hotdesk-curl-');
  const headerFile = path.join(dir, 'headers');
  const bodyFile = path.join(dir, 'body');
  const args = ['-s', '-D', headerFile, '-o', bodyFile, '-w', '%{http_code}', '--max-time', '20'];
  if (o.userAgent !== undefined) args.push('-A', o.userAgent);
  if (o.digest !== undefined) args.push('--digest', '-u', o.digest);
  if (o.method === 'HEAD') args.push('-I');
  else if (o.method !== undefined) args.push('-X', o.method);
  if (o.uploadFile !== undefined) args.push('--data-binary', `@${o.uploadFile}`, '-H', 'Content-Type: application/octet-stream');
  if (o.from !== undefined) args.push('--interface', o.from);
  if (o.pathAsIs) args.push('--path-as-is');
  args.push(url);
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('curl', args, (err, out) => (err && !out ? reject(err) : resolve(out)));
  });
  const body = fs.existsSync(bodyFile) ? fs.readFileSync(bodyFile) : Buffer.alloc(0);
  const headers = fs.existsSync(headerFile) ? fs.readFileSync(headerFile, 'utf8') : '';
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: Number(stdout.trim()), headers, body, text: body.toString('utf8') };
}

/** A phone's own provisioning credential (`user:password`) as its secret file installs it. */
export function ownCredentialIn(phone: DemoPhone, body: string): string {
  const pick: Record<DemoPhone['vendor'], [RegExp, RegExp]> = {
    yealink: [/^static\.auto_provision\.server\.username = (\S+)$/m, /^static\.auto_provision\.server\.password = (\S+)$/m],
    snom: [/<http_client_user[^>]*>([^<]+)<\/http_client_user>/, /<http_client_pass[^>]*>([^<]+)<\/http_client_pass>/],
    poly: [/device\.prov\.user="([^"]+)"/, /device\.prov\.password="([^"]+)"/],
  };
  const [u, p] = pick[phone.vendor];
  const user = u.exec(body)?.[1];
  const pass = p.exec(body)?.[1];
  if (!user || !pass) throw new Error(`no provisioning credential in ${phone.vendor} file`);
  return `${user}:${pass}`;
}

/** Sends raw bytes over TCP and collects the answer until the peer closes. */
export function rawHttp(port: number, request: string | Buffer, limitMs = 10_000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      finish();
    }, limitMs);
    const finish = (): void => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m?.[1] ? Number(m[1]) : 0, text });
    };
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('end', () => {
      sock.end();
    });
    sock.on('close', finish);
    sock.on('error', (e: NodeJS.ErrnoException) => {
      // A server that answers and closes while we still write may reset us: keep what arrived.
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return;
      clearTimeout(timer);
      reject(e);
    });
    sock.write(request);
  });
}

/** A child process run to completion: exit code and all output. */
export interface RunResult {
  readonly code: number | null;
  readonly out: string;
}

const children = new Set<ChildProcess>();

/** Runs a command (stdin closed) with a time limit; the process is killed when the limit passes. */
export function runCommand(cmd: string, args: readonly string[], cwd: string, limitMs = 30_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, [...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, out });
    });
  });
}

/** Kills any client still running (test clean-up). */
export function killChildren(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
}

/** tftp-hpa `get` (it exits 0 even on errors: check the output file). */
export function tftpHpaGet(port: number, remote: string, local: string): Promise<RunResult> {
  return runCommand('tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', remote, local], path.dirname(local));
}

/** tftp-hpa `put`. */
export function tftpHpaPut(port: number, local: string, remote: string): Promise<RunResult> {
  return runCommand('tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'put', local, remote], path.dirname(local));
}

/** atftp get, optionally with RFC 2347 options such as `blksize 1428`, `tsize 0`. */
export function atftpGet(port: number, remote: string, local: string, options: readonly string[] = []): Promise<RunResult> {
  return runCommand('atftp', ['-g', '-r', remote, '-l', local, ...options.flatMap((o) => ['--option', o]), '127.0.0.1', String(port)], path.dirname(local));
}

/** atftp put. */
export function atftpPut(port: number, local: string, remote: string): Promise<RunResult> {
  return runCommand('atftp', ['-p', '-l', local, '-r', remote, '127.0.0.1', String(port)], path.dirname(local));
}

/** The bytes a client wrote, or null when it wrote no file (an empty file counts as nothing written). */
export function written(file: string): Buffer | null {
  if (!fs.existsSync(file)) return null;
  const data = fs.readFileSync(file);
  return data.length > 0 ? data : null;
}
