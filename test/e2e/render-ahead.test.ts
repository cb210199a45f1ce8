/**
 * Render-ahead in the real agent (built `hotdesk serve`, one render worker, the demo office): every
 * phone's files are rendered after start-up without a single fetch, and a login's new files are rendered
 * as soon as it commits; `--no-render-ahead` renders nothing until asked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, ensureBuilt } from '../cli/cli-harness.js';
import { demoDataDir, eventually } from '../helpers/agent-harness.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 180_000);
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function serve(...extra: string[]): Promise<{ base: string; log: () => string }> {
  const dir = await demoDataDir();
  dirs.push(dir);
  const env = { ...process.env };
  delete env['HOTDESK_DATA'];
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--data', dir, '--host', '127.0.0.1', '--http-port', '0', '--no-tftp', '--sip-port', '0', '--render-workers', '1', ...extra],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const base = await eventually(() => /HTTP {3}(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1], 30_000, `serve to start (output: ${out})`);
  return { base, log: () => out };
}

/** Files rendered ahead so far, from the agent's "files rendered ahead" log lines (the last one). */
function renderedAhead(log: string): number | undefined {
  const all = [...log.matchAll(/files rendered ahead\b.*?files[=:"\s]+(\d+)/g)];
  const last = all.at(-1);
  return last ? Number(last[1]) : undefined;
}

async function cacheBytes(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer demo-token' } })).text();
  return Number(/^hotdesk_render_cache_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
}

describe('render-ahead (hotdesk serve)', () => {
  it('renders every phone\u2019s files after start-up, and a phone\u2019s new files right after its login commits', async () => {
    const s = await serve();
    const first = await eventually(() => renderedAhead(s.log()), 20_000, 'the start-up pass to end');
    expect(first).toBeGreaterThanOrEqual(3); // the demo office: one phone per vendor at least, each with its own files
    expect(await cacheBytes(s.base)).toBeGreaterThan(0); // nothing was fetched: only render-ahead filled the cache
    const dial = await fetch(`${s.base}/api/v1/pbx/dial`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-token', 'content-type': 'application/json' },
      body: JSON.stringify({ mac: '001565aabb01', digits: '*35*001*1234' }),
    });
    expect(((await dial.json()) as { outcome: string }).outcome).toBe('logged-in');
    const second = await eventually(
      () => {
        const n = renderedAhead(s.log());
        return n !== undefined && n > first ? n : undefined;
      },
      20_000,
      'the login\u2019s files to be rendered ahead',
    );
    expect(second).toBeGreaterThan(first);
  });

  it('--no-render-ahead renders nothing until a phone asks', async () => {
    const s = await serve('--no-render-ahead');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(renderedAhead(s.log())).toBeUndefined();
    expect(await cacheBytes(s.base)).toBe(0);
  });
});
