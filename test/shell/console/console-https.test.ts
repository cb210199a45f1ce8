/**
 * Under HTTPS (`--tls-cert/--tls-key`) the console's session cookie is also
 * `Secure`, so a browser never sends it over plain HTTP.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/agent-harness.js';
import { addAccount } from '../../helpers/console-client.js';

let h: Harness;
let dir: string;
let dispatcher: Agent;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotdesk-console-tls-'));
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
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  h = await startHarness({ tls: { certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') } });
  dispatcher = new Agent({ connect: { ca: fs.readFileSync(path.join(dir, 'cert.pem')) } });
  await addAccount(h.agent.sqlite, 'root', 'admin', 'root-password-1');
});
afterAll(async () => {
  await dispatcher?.close();
  await h?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('console over HTTPS', () => {
  it('marks the session cookie Secure', async () => {
    const base = `https://127.0.0.1:${h.agent.http.port}`;
    const form = await undiciFetch(`${base}/admin/login`, { dispatcher });
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const pre = form.headers.getSetCookie().find((c) => c.startsWith('hotdesk_signin=')) ?? '';
    expect(pre).toMatch(/; Secure/i);
    const res = await undiciFetch(`${base}/admin/login`, {
      dispatcher,
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: pre.split(';')[0] ?? '' },
      body: new URLSearchParams({ _csrf: token, name: 'root', password: 'root-password-1' }).toString(),
    });
    expect(res.status).toBe(303);
    const session = res.headers.getSetCookie().find((c) => c.startsWith('hotdesk_console=')) ?? '';
    expect(session).toMatch(/; Secure/i);
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Strict/i);
  });
});
