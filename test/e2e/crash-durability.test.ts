/**
 * Crash durability of what the agent acknowledged: served-file records are written behind
 * (store/write-behind.ts), so this runs the built `hotdesk serve` as a child process, has a
 * phone fetch its new revision with curl, waits until the API reports the phone synced and
 * the `secret-served` audit entry, kills the agent with SIGKILL (no flush, no close) and
 * reopens the data directory: whatever the API showed must be there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../agent/store/store.js';
import { MAIN, ensureBuilt } from '../cli/cli-harness.js';
import { DEMO_PHONES, demoDataDir, eventually } from '../helpers/agent-harness.js';
import { curl } from './provisioning-kit.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 180_000);
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** `hotdesk serve` on loopback with ephemeral ports; resolves with its base URL once it printed it. */
async function serve(dataDir: string): Promise<{ child: ChildProcess; base: string; exited: Promise<unknown> }> {
  const env = { ...process.env };
  delete env['HOTDESK_DATA'];
  const args = [MAIN, 'serve', '--data', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--no-tftp', '--sip-port', '0', '--render-workers', '0'];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const base = await eventually(() => /HTTP {3}(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1], 30_000, `serve to start (stderr: ${err})`);
  return { child, base, exited };
}

const auth = { authorization: 'Bearer demo-token' };

async function api<T>(base: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${base}${path}`, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

interface PhoneView {
  readonly sync: { readonly state: string; readonly revision: number };
}

describe('crash durability (kill -9 after the API reported it)', () => {
  it('the fetch that confirmed a sync and its secret-served audit entry survive SIGKILL', async () => {
    const dir = await demoDataDir();
    dirs.push(dir);
    const phone = DEMO_PHONES.yealink;
    const s = await serve(dir);

    // A login bumps the phone's revision: the phone must fetch the new one.
    const login = await api<{ outcome: string }>(s.base, '/api/v1/pbx/dial', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mac: phone.mac, digits: '*35*001*1234' }),
    });
    expect(login.outcome).toBe('logged-in');
    const pending = await api<PhoneView>(s.base, `/api/v1/phones/${phone.mac}`);
    expect(pending.sync.state).toBe('pending');
    const revision = pending.sync.revision;

    // The phone fetches it (curl, HTTP digest with the site's bootstrap credential).
    const fetched = await curl(`${s.base}/${phone.mac}.cfg`, { userAgent: phone.userAgent, digest: 'bootstrap:hotdesk-demo' });
    expect(fetched.status).toBe(200);

    // Acknowledged: the API reports the sync confirmed and the audit entry of the secret file.
    await eventually(async () => (await api<PhoneView>(s.base, `/api/v1/phones/${phone.mac}`)).sync.state === 'synced', 10_000, 'synced');
    const audit = await eventually(
      async () => {
        const { events } = await api<{ events: { kind: string; detail?: { revision?: number } }[] }>(s.base, `/api/v1/audit?phone=${phone.mac}&limit=50`);
        const kinds = events.map((e) => e.kind);
        return kinds.includes('secret-served') && kinds.includes('sync-confirmed') ? events : undefined;
      },
      10_000,
      'the audit entries',
    );
    expect(audit.find((e) => e.kind === 'secret-served')?.detail?.revision).toBe(revision);

    s.child.kill('SIGKILL');
    await s.exited;

    const store = openStore(dir);
    try {
      const rt = store.phoneRuntime(phone.mac);
      expect(rt?.sync.state).toBe('synced');
      expect(rt?.sync.revision).toBe(revision);
      expect(rt?.lastFile).toBe(`${phone.mac}.cfg`);
      expect(rt?.notifyIp).toBe('127.0.0.1');
      const served = store.queryAudit({ phone: phone.mac, kinds: ['secret-served'] });
      expect(served.map((e) => e.detail?.['revision'])).toContain(revision);
      expect(store.queryAudit({ phone: phone.mac, kinds: ['sync-confirmed'] }).map((e) => e.detail?.['revision'])).toContain(revision);
    } finally {
      store.close();
    }
  }, 60_000);
});
