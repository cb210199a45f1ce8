/**
 * `npm pack` + `npm install -g --prefix TMP` of the tarball, then `hotdesk`
 * from an unrelated directory: templates, profiles and examples are found
 * relative to the installed package, the data directory relative to the cwd.
 *
 * better-sqlite3 has no prebuilt binary reachable here and compiling it takes
 * minutes, so the install gets this checkout's compiled binary as a
 * prebuild-install "local prebuild" (the same mechanism docs/service.md gives
 * for offline boxes). Packages come from the npm cache when possible.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt, tempDir } from '../cli/cli-harness.js';
import { eventually } from '../helpers/agent-harness.js';

const run = promisify(execFile);
const NATIVE = join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
const why = existsSync(NATIVE) ? null : 'better-sqlite3 is not built in node_modules (npm ci first)';
const work = tempDir('hotdesk-pack-');
let child: ChildProcess | null = null;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('installable package', () => {
  it('declares what an installed copy needs and builds dist before packing', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      files: string[];
      scripts: Record<string, string>;
      bin: Record<string, string>;
    };
    for (const f of ['dist', 'provisioning-templates', 'firmware-profiles', 'examples']) expect(pkg.files).toContain(f);
    expect(pkg.scripts['prepack']).toMatch(/tsc -p tsconfig\.build\.json/);
    expect(pkg.bin['hotdesk']).toBe('dist/agent/cli/main.js');
  });

  it.skipIf(why !== null)(
    'packs, installs into a prefix and serves a phone file from an unrelated directory',
    async () => {
      ensureBuilt();
      // dist is fresh (ensureBuilt): skip prepack's second compile to stay quick.
      const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
      const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
      const paths = info!.files.map((f) => f.path);
      for (const p of [
        'dist/agent/cli/main.js',
        'dist/agent/shell/provisioning/render-worker.js',
        'examples/demo.yaml',
        'packaging/hotdesk.service',
        'docs/service.md',
      ])
        expect(paths).toContain(p);
      expect(paths.some((p) => p.startsWith('provisioning-templates/yealink/'))).toBe(true);
      expect(paths.some((p) => p.startsWith('firmware-profiles/'))).toBe(true);
      expect(paths.some((p) => p.startsWith('test/') || p.startsWith('agent/') || p.startsWith('node_modules/'))).toBe(false);

      // better-sqlite3's install script looks for <name>-v<version>-node-v<abi>-<platform>-<arch>.tar.gz here first.
      const prebuilds = join(work, 'prebuilds');
      const stage = join(work, 'stage');
      mkdirSync(join(stage, 'build', 'Release'), { recursive: true });
      await run('cp', [NATIVE, join(stage, 'build', 'Release')]);
      mkdirSync(prebuilds);
      const version = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }).version;
      await run('tar', [
        'czf',
        join(prebuilds, `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`),
        '-C',
        stage,
        'build',
      ]);

      const prefix = join(work, 'prefix');
      // The project's own install pins `cookie` 1.x through `overrides` (engine-strict); an installed package's
      // overrides do not apply, so a global install gets cookie 2.x, whose engines field says Node >= 22 but which
      // loads and runs on Node 20: npm only warns (as it would for a user), and this test proves the result serves.
      await run(
        'npm',
        [
          'install',
          '-g',
          '--prefix',
          prefix,
          '--engine-strict=false',
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          '--allow-scripts=better-sqlite3',
          join(work, info!.filename),
        ],
        {
          cwd: tmpdir(),
          env: { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuilds },
          timeout: 50_000,
        },
      );
      const bin = join(prefix, 'bin', 'hotdesk');
      expect(existsSync(bin)).toBe(true);
      const installed = join(prefix, 'lib', 'node_modules', 'hotdesk');

      // Interactive default: ./data under the (unrelated) working directory.
      const elsewhere = join(work, 'elsewhere');
      mkdirSync(elsewhere);
      const env = { ...process.env };
      delete env['HOTDESK_DATA'];
      delete env['INVOCATION_ID'];
      child = spawn(
        bin,
        [
          'serve',
          '--demo',
          join(installed, 'examples', 'demo.yaml'),
          '--host',
          '127.0.0.1',
          '--http-port',
          '0',
          '--no-tftp',
          '--sip-port',
          '0',
          '--render-workers',
          '1',
        ],
        { cwd: elsewhere, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      const base = await eventually(() => /HTTP {3}(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1], 30_000, `the installed agent to start (${err})`);
      expect(existsSync(join(elsewhere, 'data', 'hotdesk.sqlite'))).toBe(true);

      const { stdout: file } = await run('curl', [
        '-s',
        '--digest',
        '-u',
        'bootstrap:hotdesk-demo',
        '-A',
        'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:01',
        '-w',
        '\n%{http_code}',
        `${base}/001565aabb01.cfg`,
      ]);
      expect(file.slice(file.lastIndexOf('\n') + 1)).toBe('200');
      expect(file).toMatch(/^#!version:1\.0\.0\.1/m);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const exited = new Promise<number | null>((r) => child!.on('exit', (c) => r(c)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    },
    90_000,
  );
});
