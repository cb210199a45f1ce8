import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES_DIR } from '../../agent/paths.js';
import { MAIN, ensureBuilt, tempDir } from '../cli/cli-harness.js';
import { demoDataDir, eventually } from '../helpers/agent-harness.js';

interface Served {
  readonly child: ChildProcess;
  readonly base: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 180_000);
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs the built `hotdesk serve` on loopback with ephemeral ports; resolves once it printed its HTTP URL. */
async function serve(dataDir: string, ...extra: string[]): Promise<Served> {
  const env = { ...process.env };
  delete env['HOTDESK_DATA'];
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--data', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--no-tftp', '--sip-port', '0', '--render-workers', '0', ...extra],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = await eventually(() => /HTTP {3}(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1], 30_000, `serve to start (stderr: ${err})`);
  return { child, base, stdout: () => out, stderr: () => err, exited };
}

async function users(base: string): Promise<string[]> {
  const res = await fetch(`${base}/api/v1/users`, { headers: { authorization: 'Bearer demo-token' } });
  const body = (await res.json()) as { ext: string }[] | { users: { ext: string }[] };
  return (Array.isArray(body) ? body : body.users).map((u) => u.ext).sort();
}

describe('graceful life cycle of hotdesk serve', () => {
  it('SIGTERM during a request lets it complete, then exits 0', async () => {
    const dir = await demoDataDir();
    dirs.push(dir);
    const s = await serve(dir, '--shutdown-timeout', '10');
    const body = JSON.stringify({ mac: '001565aabb01', digits: '*35*001*1234' });
    const url = new URL('/api/v1/pbx/dial', s.base);
    const answer = new Promise<{ status: number; json: { outcome: string }; connection: string | undefined }>((resolve, reject) => {
      const req = http.request(url, {
        method: 'POST',
        headers: { authorization: 'Bearer demo-token', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
      });
      req.on('error', reject);
      // 100 Continue: the agent has parsed the head and handed the request to its handler.
      req.on('continue', () => {
        s.child.kill('SIGTERM');
        void eventually(() => s.stdout().includes('SIGTERM: stopping'), 10_000, 'the drain to start').then(() => req.end(body), reject);
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { outcome: string }, connection: res.headers.connection }));
      });
      req.flushHeaders();
    });
    const r = await answer;
    expect(r.status).toBe(200);
    expect(r.json.outcome).toBe('logged-in');
    expect(r.connection).toBe('close');
    expect(await s.exited).toBe(0);
    expect(s.stderr()).not.toMatch(/shutdown bound reached/);
  }, 60_000);

  it('a request that never finishes is cut at the bound and the agent still exits 0', async () => {
    const dir = await demoDataDir();
    dirs.push(dir);
    const s = await serve(dir, '--shutdown-timeout', '1');
    const req = http.request(new URL('/api/v1/pbx/dial', s.base), {
      method: 'POST',
      headers: { authorization: 'Bearer demo-token', 'content-type': 'application/json', 'content-length': '1000', expect: '100-continue' },
    });
    const cut = new Promise<void>((resolve) => req.on('error', () => resolve()).on('close', () => resolve()));
    req.on('continue', () => s.child.kill('SIGTERM'));
    req.flushHeaders();
    expect(await s.exited).toBe(0);
    await cut;
    expect(s.stderr()).toMatch(/shutdown bound reached/);
  }, 60_000);

  it('SIGHUP reopens --log-file (after logrotate moved it away)', async () => {
    const dir = await demoDataDir();
    dirs.push(dir);
    const log = join(dir, 'agent.log');
    const s = await serve(dir, '--log-file', log);
    renameSync(log, `${log}.1`);
    s.child.kill('SIGHUP');
    await eventually(() => existsSync(log) && readFileSync(log, 'utf8').includes('logs reopened'), 15_000, 'a fresh log file');
    expect(readFileSync(`${log}.1`, 'utf8')).not.toContain('logs reopened');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  }, 60_000);

  it('SIGHUP re-reads --directory: a broken file applies nothing, a valid changed file applies', async () => {
    const dir = tempDir('hotdesk-hup-');
    dirs.push(dir);
    const file = join(dir, 'directory.yaml');
    copyFileSync(join(EXAMPLES_DIR, 'demo.yaml'), file);
    const s = await serve(join(dir, 'data'), '--directory', file);
    const initial = await users(s.base);
    expect(initial).toContain('001');
    const demo = readFileSync(file, 'utf8');

    // Broken: a PIN that is not 4-12 digits.
    writeFileSync(file, demo.replace('pin: "1234"', 'pin: "12"'));
    s.child.kill('SIGHUP');
    await eventually(() => s.stderr().includes('directory not applied'), 15_000, 'the broken file to be rejected');
    expect(s.stderr()).toMatch(/users\[0\]\.pin: must be 4 to 12 digits/);
    expect(s.stderr()).not.toMatch(/reception-secret|hotdesk-demo/);
    expect(await users(s.base)).toEqual(initial);

    // Valid and changed: one more user.
    writeFileSync(
      file,
      demo.replace(
        '\nusers:\n',
        '\nusers:\n  - ext: "777"\n    name: New Person\n    pin: "7777"\n    sip:\n      user: "777"\n      password: new-person-pw\n',
      ),
    );
    s.child.kill('SIGHUP');
    await eventually(() => (s.stderr().match(/directory applied/g) ?? []).length >= 2, 15_000, 'the valid file to be applied');
    expect(await users(s.base)).toEqual([...initial, '777'].sort());
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  }, 60_000);
});
