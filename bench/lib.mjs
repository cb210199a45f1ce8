// Small helpers shared by the bench scripts: percentiles, child processes,
// waiting for ports, machine description. Plain Node, no dependencies.
import { createHash } from 'node:crypto';
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

/** Percentile (0..100) of an array of numbers (nearest-rank); NaN when empty. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Formats milliseconds with sensible precision. */
export function ms(v) {
  if (!Number.isFinite(v)) return 'n/a';
  if (v < 10) return `${v.toFixed(2)} ms`;
  if (v < 100) return `${v.toFixed(1)} ms`;
  return `${Math.round(v)} ms`;
}

/** Formats a rate. */
export function rate(v, unit = '/s') {
  if (!Number.isFinite(v)) return 'n/a';
  return `${Math.round(v).toLocaleString('en-US')}${unit}`;
}

/** Ratio a/b to two decimals ("n/a" when either is missing). */
export function ratio(a, b) {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  return `${(a / b).toFixed(2)}×`;
}

export const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** A free TCP port on 127.0.0.1 (also used for UDP: we ask the kernel, then bind). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves when a TCP connect to host:port succeeds; rejects after timeoutMs. */
export async function waitForTcp(port, host = '127.0.0.1', timeoutMs = 30_000, intervalMs = 5) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = net.connect({ port, host });
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing answers on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** Starts a child process; stdout and stderr go straight to `logFile` (appended) when given. */
export function startProcess(cmd, args, { logFile, env, cwd } = {}) {
  const fd = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: env ?? process.env, cwd });
  if (typeof fd === 'number') closeSync(fd);
  return child;
}

/** Stops a child we started (SIGTERM, then SIGKILL after 3 s). */
export function stopProcess(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Resident set size of a process in MiB (VmRSS from /proc), NaN if gone. */
export function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** One-paragraph description of the machine the figures were taken on. */
export function machineDescription(repoDir) {
  const cpus = os.cpus();
  const nproc = tryRun('nproc', []) || String(cpus.length);
  const mem =
    tryRun('free', ['-g'])
      .split('\n')
      .find((l) => l.startsWith('Mem:'))
      ?.split(/\s+/)[1] ?? '?';
  // BENCH_COMMIT names the build when the tree is not a git checkout (or not committed yet)
  const commit = process.env.BENCH_COMMIT || tryRun('git', ['-C', repoDir, 'rev-parse', '--short', 'HEAD']) || 'unknown';
  const osName = /PRETTY_NAME="([^"]+)"/.exec(tryRun('cat', ['/etc/os-release']))?.[1] ?? os.platform();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu: `${nproc} × ${cpus[0]?.model?.trim() ?? 'unknown CPU'}`,
    memory: `${mem} GiB`,
    os: `${osName}, kernel ${os.release()}`,
    node: process.version,
    nginx: (tryRun('sh', ['-c', 'nginx -v 2>&1']).split('/')[1] ?? '?').trim(),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format string, not a template
    tftpd: tryRun('dpkg-query', ['-W', '-f=${Version}', 'tftpd-hpa']) || '?',
    commit,
  };
}

/** Deterministic pseudo-random bytes named `name` (incompressible, like a firmware image). */
export function firmwareBytes(name, size) {
  const buf = Buffer.alloc(size);
  let block = createHash('sha256').update(name).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(buf, off);
    block = createHash('sha256').update(block).digest();
  }
  return buf;
}
