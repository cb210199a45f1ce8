/**
 * HTTPS when a certificate is configured: the agent serves phone files over
 * TLS (curl, the phone's User-Agent, digest auth) and the files it renders
 * point phones back at the https:// base URL.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PHONES, startHarness, type Harness } from '../helpers/agent-harness.js';

let h: Harness;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotdesk-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  h = await startHarness({ tls: { certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') } });
});

afterAll(async () => {
  await h?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const run = promisify(execFile);

/** curl as a separate process (async: the agent shares this process's event loop). */
async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout: out } = await run('curl', ['-s', '--cacert', path.join(dir, 'cert.pem'), '-w', '\n%{http_code}', ...args], { encoding: 'utf8' }).catch(
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? '\n0' }),
  );
  const i = out.lastIndexOf('\n');
  return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
}

describe('HTTPS provisioning', () => {
  it('serves the secret file over TLS with digest auth and points the phone at https', async () => {
    const phone = DEMO_PHONES.yealink;
    expect(h.agent.http.secure).toBe(true);
    const url = `https://127.0.0.1:${h.agent.http.port}/${phone.secretFile}`;
    expect((await curl(['-A', phone.userAgent, url])).status).toBe(401);
    const r = await curl(['--digest', '-u', 'bootstrap:hotdesk-demo', '-A', phone.userAgent, url]);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(new RegExp(`^static\\.auto_provision\\.server\\.url = https://127\\.0\\.0\\.1:${h.agent.http.port}/`, 'm'));
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    const r = await curl(['--max-time', '5', `http://127.0.0.1:${h.agent.http.port}/${DEMO_PHONES.yealink.secretFile}`]);
    expect(r.status === 0 || r.status === 400).toBe(true);
    expect(r.body).not.toContain('reception-secret');
  });
});
