/**
 * The render worker pool, run from the BUILT dist/ (a worker thread cannot
 * start a .ts file): same bytes as in-thread rendering, HotdeskErrors cross the
 * thread boundary intact, a killed worker rejects its job and is replaced; and
 * end to end, the built `hotdesk serve` (which renders on workers from dist/)
 * serves the same secret file as `hotdesk render`.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HotdeskError } from '../../../agent/core/errors.js';
import { cutChunks } from '../../../agent/shell/provisioning/chunk-pool.js';
import type { RenderInput, VendorDriver } from '../../../agent/vendors/driver.js';
import { loadFirmwareProfiles } from '../../../agent/vendors/firmware-profile.js';
import { createDriverRegistry } from '../../../agent/vendors/registry.js';
import { loadTemplateSources } from '../../../agent/vendors/template-loader.js';
import { phoneRenderFor } from '../../../agent/cli/render-command.js';
import { sqliteStore } from '../../../agent/store/sqlite-store.js';
import { openStore } from '../../../agent/store/store.js';
import { ROOT, MAIN, ensureBuilt, runCli } from '../../cli/cli-harness.js';
import { DEMO_PHONES, demoDataDir } from '../../helpers/agent-harness.js';
import type * as PoolModule from '../../../agent/shell/provisioning/render-pool.js';

const run = promisify(execFile);
const BASE = 'http://127.0.0.1:8080';

interface Case {
  readonly driver: VendorDriver;
  readonly input: RenderInput;
  readonly file: string;
}

let dataDir = '';
let pool: PoolModule.RenderPool | null = null;
let pools: typeof PoolModule;
const cases: Record<'yealink' | 'snom' | 'poly', Case> = {} as Record<'yealink' | 'snom' | 'poly', Case>;

beforeAll(async () => {
  ensureBuilt();
  pools = (await import(pathToFileURL(path.join(ROOT, 'dist', 'agent', 'shell', 'provisioning', 'render-pool.js')).href)) as typeof PoolModule;
  dataDir = await demoDataDir();
  const profiles = loadFirmwareProfiles();
  const registry = createDriverRegistry({ profiles, sources: loadTemplateSources({ siteDir: path.join(dataDir, 'templates') }) });
  const store = openStore(dataDir);
  try {
    for (const demo of Object.values(DEMO_PHONES)) {
      const phone = store.getPhone(demo.mac);
      const profile = phone ? profiles.find(phone.vendor, phone.model) : undefined;
      if (!phone || !profile) throw new Error(`demo phone ${demo.mac} missing`);
      const { driver, input } = await phoneRenderFor(sqliteStore(store), phone, profile, registry.driverFor(phone.vendor), BASE);
      cases[demo.vendor] = { driver, input, file: demo.secretFile };
    }
  } finally {
    store.close();
  }
  pool = new pools.RenderPool({ size: 2, siteTemplateDir: path.join(dataDir, 'templates') });
}, 200_000);

afterAll(async () => {
  await pool?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('RenderPool (from dist/)', () => {
  it('finds the compiled worker next to the built module', () => {
    expect(pools.renderWorkerAvailable()).toBe(true);
    expect(pool?.workers).toBe(2);
  });

  it.each(['yealink', 'snom', 'poly'] as const)('renders the %s secret file byte for byte as in-thread rendering', async (vendor) => {
    const c = cases[vendor];
    const local = c.driver.render(c.input, c.file);
    const remote = await pool!.render(vendor, c.input, c.file);
    expect(local).not.toBeNull();
    // Encoded and cut in the worker, moved to this thread: the same bytes, chunk ends and hashes as here.
    const { body, ...meta } = local!;
    expect(remote!.meta).toEqual(meta);
    expect(Buffer.isBuffer(remote!.bytes)).toBe(true);
    expect(remote!.bytes.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(remote!.cuts).toEqual(cutChunks(Buffer.from(body, 'utf8')));
    expect(remote!.meta.secret).toBe(true);
  });

  it('answers null for a name that is not one of the phone\u2019s files', async () => {
    const c = cases.yealink;
    expect(c.driver.render(c.input, '001565aabb99.cfg')).toBeNull();
    await expect(pool!.render('yealink', c.input, '001565aabb99.cfg')).resolves.toBeNull();
  });

  it('returns a HotdeskError thrown in the worker as the same HotdeskError', async () => {
    const c = cases.yealink;
    const key = c.input.identityKeys[0];
    expect(key).toBeDefined();
    const bad: RenderInput = { ...c.input, identityKeys: [{ ...key!, label: 'Front\rdesk' }, ...c.input.identityKeys.slice(1)] };
    let local: unknown;
    try {
      c.driver.render(bad, c.file);
    } catch (e) {
      local = e;
    }
    expect(local).toBeInstanceOf(HotdeskError);
    expect((local as HotdeskError).code).toBe('unsafe-value');
    const remote = await pool!.render('yealink', bad, c.file).then(
      () => null,
      (e: unknown) => e,
    );
    // The pool module comes from dist/: its HotdeskError class is dist's, so compare fields.
    expect(remote).toBeInstanceOf(Error);
    const err = remote as HotdeskError;
    expect(err.name).toBe('HotdeskError');
    expect(err.code).toBe('unsafe-value');
    expect(err.message).toBe((local as HotdeskError).message);
    expect(err.detail).toEqual((local as HotdeskError).detail);
  });

  it('rejects the job of a killed worker with internal, replaces the worker and renders the next job', async () => {
    const c = cases.snom;
    const p = new pools.RenderPool({ size: 1 });
    try {
      // Let the worker start, then kill it: the job sent to it right after is in flight when it dies.
      await p.render('snom', c.input, c.file);
      const before = p.threads[0];
      const stopped = before!.terminate();
      const job = p.render('snom', c.input, c.file).then(
        () => null,
        (e: unknown) => e,
      );
      await stopped;
      const err = (await job) as HotdeskError | null;
      expect(err).not.toBeNull();
      expect(err!.code).toBe('internal');
      expect(p.workers).toBe(1);
      expect(p.threads[0]).not.toBe(before);
      const next = await p.render('snom', c.input, c.file);
      expect(next?.bytes.toString()).toBe(c.driver.render(c.input, c.file)?.body);
    } finally {
      await p.close();
    }
  });

  it('keeps DEFAULT_PER_WORKER jobs in flight on a worker before jobs wait in the queue (perWorker overrides it)', async () => {
    const c = cases.poly;
    expect(pools.DEFAULT_PER_WORKER).toBeGreaterThan(2);
    for (const [perWorker, inFlight] of [
      [undefined, pools.DEFAULT_PER_WORKER],
      [2, 2],
    ] as const) {
      const p = new pools.RenderPool({ size: 1, ...(perWorker !== undefined ? { perWorker } : {}) });
      try {
        // Sent in one synchronous run: nothing has come back yet, so only the limit decides what waits.
        const jobs = Array.from({ length: inFlight + 3 }, () => p.render('poly', c.input, c.file));
        expect(p.queued).toBe(3);
        const files = await Promise.all(jobs);
        expect(p.queued).toBe(0);
        expect(new Set(files.map((f) => f?.bytes.toString())).size).toBe(1);
      } finally {
        await p.close();
      }
    }
  });

  it('rejects jobs after close', async () => {
    const p = new pools.RenderPool({ size: 1 });
    await p.close();
    await expect(p.render('poly', cases.poly.input, cases.poly.file)).rejects.toMatchObject({ code: 'internal' });
  });
});

describe('hotdesk serve from dist/ renders on workers', () => {
  let child: ChildProcess | null = null;
  let dir = '';

  afterAll(() => {
    child?.kill('SIGKILL');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the Yealink secret file (digest, bootstrap) with the same bytes as hotdesk render', async () => {
    dir = await demoDataDir();
    const proc = spawn(
      process.execPath,
      [MAIN, 'serve', '--data', dir, '--host', '127.0.0.1', '--http-port', '0', '--no-tftp', '--sip-port', '0', '--render-workers', '2', '--log-level', 'warn'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = proc;
    // The banner names the HTTP base and the bound SIP port (the hot-desk line registers there).
    const [base, sipPort] = await new Promise<[string, string]>((resolve, reject) => {
      let out = '';
      let err = '';
      proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /HTTP\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
        const sip = /SIP\s+udp\s+127\.0\.0\.1:(\d+)/.exec(out);
        if (m?.[1] && sip?.[1]) resolve([m[1], sip[1]]);
      });
      proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      proc.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    const phone = DEMO_PHONES.yealink;
    const outFile = path.join(dir, 'fetched.cfg');
    const { stdout } = await run('curl', [
      '-s',
      '--digest',
      '-u',
      'bootstrap:hotdesk-demo',
      '-A',
      phone.userAgent,
      '-o',
      outFile,
      '-w',
      '%{http_code}',
      `${base}/${phone.secretFile}`,
    ]);
    expect(stdout).toBe('200');
    const rendered = await runCli(['render', '--phone', phone.mac, '--file', phone.secretFile, '--data', dir, '--base', base, '--sip-port', sipPort]);
    expect(rendered.code).toBe(0);
    const served = fs.readFileSync(outFile);
    expect(served.length).toBeGreaterThan(1000);
    expect(served.toString('utf8')).toContain(`sip_server.1.port = ${sipPort}\n`);
    expect(served.equals(Buffer.from(rendered.stdout, 'utf8'))).toBe(true);
  }, 60_000);
});
