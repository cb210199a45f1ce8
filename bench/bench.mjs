// `make bench`: runs every scenario against the agent and the reference
// servers, prints one markdown table and writes bench/results.md.
// What each figure means and how to reproduce it by hand: bench/README.md.
//
// Environment knobs (defaults are what results.md is made with):
//   BENCH_PHONES=10000   users and phones in the store
//   BENCH_SECONDS=8      length of each timed HTTP / login run
//   BENCH_KEEP=1         keep bench/work/run (data dir, logs) after the run
//   BENCH_WORK=DIR       work directory instead of bench/work (import cache, run dir)
//   BENCH_ONLY=tftp-loss only the TFTP-under-loss rows (bench/tftp-loss.mjs); replaces
//                        that section of results.md and keeps the rest of the file
//   BENCH_ONLY=cold      only import, start-up and the cold first fetch of every phone file;
//                        prints its rows and leaves results.md alone
//   BENCH_ONLY=pg        only the login storm on two agents sharing one PostgreSQL
//                        (bench/pg-cluster.mjs); prints its rows and leaves results.md alone
//   BENCH_LOSS_RUNS=8    fetches per TFTP-under-loss cell
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, statSync, linkSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { Pool } from 'undici';
import { directoryYaml, benchPhone, benchUser, BENCH_BOOTSTRAP, BENCH_TOKEN } from './gen-directory.mjs';
import { runHttpLoad, parseChallenge, digestAuthorization } from './http-load.mjs';
import { phoneAddress, tftpBatch, tftpGet } from './tftp-client.mjs';
import { startSipPhones } from './sip-phones.mjs';
import { runLoginStorm } from './login-storm.mjs';
import { startNginx, startNodeStatic, startTftpd } from './servers.mjs';
import { lossSetupText, runTftpLoss } from './tftp-loss.mjs';
import { cpuSeconds, machineBusySeconds, startPgCluster } from './pg-cluster.mjs';
import { firmwareBytes, freePort, machineDescription, ms, percentile, rate, ratio, rssMiB, sleep, startProcess, stopProcess } from './lib.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WORK = process.env.BENCH_WORK ? resolve(process.env.BENCH_WORK) : join(REPO, 'bench', 'work');
const RUN = join(WORK, 'run');
const CLI = join(REPO, 'dist', 'agent', 'cli', 'main.js');
const N = Number(process.env.BENCH_PHONES ?? 10000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const DURATION = SECONDS * 1000;
const PHONE_SIP_PORT = 5060; // the store's default SIP port of a phone (phones.sip_port)
const TFTP_BLKSIZE = 1428;
const TFTP_WINDOW = 16;
const ONLY = process.env.BENCH_ONLY ?? '';

const log = (...a) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
const rows = []; // [scenario, ours, reference, ratio]
const notes = [];
const lossRows = []; // the TFTP-under-loss section, same columns
const lossNotes = [];
const cleanups = [];

function run(cmd, args, opts = {}) {
  return new Promise((resolveRun) => {
    const t0 = performance.now();
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...opts }, (err, stdout, stderr) => {
      resolveRun({ ok: !err, code: err?.code ?? 0, ms: performance.now() - t0, stdout, stderr });
    });
  });
}

const sha = (s) => createHash('sha256').update(s).digest('hex').slice(0, 12);

// ---------------------------------------------------------------------------
// Setup: directory, import (cached by content), data dir, firmware files
// ---------------------------------------------------------------------------

async function prepareData() {
  mkdirSync(WORK, { recursive: true });
  const yaml = directoryYaml(N);
  // The cache key is the directory text: a data dir imported by an older build is migrated
  // forward when the agent opens it, as in a real upgrade. `rm -rf bench/work` forces a fresh import.
  const key = sha(yaml);
  const cached = join(WORK, `data-${N}-${key}`);
  const marker = join(cached, '.bench-import.json');
  let importMs;
  if (existsSync(marker)) {
    importMs = JSON.parse(readFileSync(marker, 'utf8')).importMs;
    log(`reusing imported data dir ${cached} (import took ${(importMs / 1000).toFixed(1)} s when made)`);
  } else {
    rmSync(cached, { recursive: true, force: true });
    const file = join(WORK, `directory-${N}.yaml`);
    writeFileSync(file, yaml);
    log(`importing ${N} users and ${N} phones ...`);
    const r = await run('node', [CLI, 'import', file, '--data', cached]);
    if (!r.ok) throw new Error(`hotdesk import failed (exit ${r.code}): ${(r.stderr || r.stdout).slice(0, 2000)}`);
    importMs = r.ms;
    writeFileSync(marker, JSON.stringify({ importMs, at: new Date().toISOString() }));
    log(`import took ${(importMs / 1000).toFixed(1)} s`);
  }
  rmSync(RUN, { recursive: true, force: true });
  mkdirSync(RUN, { recursive: true });
  const data = join(RUN, 'data');
  cpSync(cached, data, { recursive: true });
  return { data, importMs };
}

/** Firmware-sized files, the same bytes in the agent's `<data>/firmware/` and tftpd-hpa's root. */
function makeFirmware(data) {
  const tftpRoot = join(RUN, 'tftp-root');
  mkdirSync(join(tftpRoot, 'firmware'), { recursive: true });
  mkdirSync(join(data, 'firmware'), { recursive: true });
  const files = { big1: 'fw-1m.rom', big30: 'fw-30m.rom' };
  const make = (name, size) => {
    writeFileSync(join(data, 'firmware', name), firmwareBytes(name, size));
    linkSync(join(data, 'firmware', name), join(tftpRoot, 'firmware', name));
  };
  make(files.big1, 1024 * 1024);
  make(files.big30, 30 * 1024 * 1024);
  return { tftpRoot, files };
}

// ---------------------------------------------------------------------------
// The agent
// ---------------------------------------------------------------------------

/** Starts `hotdesk serve` on `data` (plus `extraArgs`, e.g. `--store URL`), logging to `<run>/<logName>`. */
async function startAgentProcess(data, { extraArgs = [], logName = 'agent.log' } = {}) {
  const ports = { http: await freePort(), tftp: await freePort(), sip: await freePort() };
  const t0 = performance.now();
  const spawnedAt = Date.now();
  const child = startProcess(
    'node',
    [
      CLI,
      'serve',
      '--data',
      data,
      '--host',
      '127.0.0.1',
      '--http-port',
      String(ports.http),
      '--tftp-port',
      String(ports.tftp),
      '--sip-port',
      String(ports.sip),
      ...extraArgs,
    ],
    {
      logFile: join(RUN, logName),
    },
  );
  let exited = null;
  child.once('exit', (code, sig) => (exited = `exit ${code ?? sig}`));
  // "answers" = the first HTTP response (the service description), not just an open port
  const origin = `http://127.0.0.1:${ports.http}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`hotdesk serve ${exited} at start (see bench/work/run/${logName})`);
    try {
      const res = await fetch(`${origin}/.well-known/hotdesk.json`);
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stopProcess(child);
        throw new Error(`hotdesk serve did not answer within 60 s (see bench/work/run/${logName})`);
      }
      await sleep(5);
    }
  }
  const startupMs = performance.now() - t0;
  return { child, pid: child.pid, ports, origin, startupMs, spawnedAt, stop: () => stopProcess(child) };
}

/** Waits for the agent's "files rendered ahead" log line: time since the agent was spawned and files rendered. */
async function renderedAhead(agent, logFile, timeoutMs) {
  const t0 = agent.spawnedAt;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = readFileSync(logFile, 'utf8');
    const line = text.split('\n').find((l) => l.includes('files rendered ahead'));
    if (line) {
      const at = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(line) ?? /"time":"([^"]+)"/.exec(line);
      const files = Number(/files[=:"\s]+(\d+)/.exec(line.split('files rendered ahead')[1] ?? '')?.[1] ?? NaN);
      return { ms: at ? Date.parse(at[1]) - t0 : NaN, files };
    }
    await sleep(50);
  }
  return null;
}

function vmHwmMiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

const phones = Array.from({ length: N }, (_, i) => benchPhone(i));
const targets = phones.map((p) => ({ path: `/${p.file}`, userAgent: p.userAgent, mac: p.mac }));

/**
 * Every file a phone fetches at boot, in boot order: `<mac>.boot`, its model's common `y0000000000NN.cfg`
 * and `<mac>.cfg` (the names `hotdesk render --phone` lists for one phone of each model, without the
 * generic `y000000000000.boot` a phone asks for only when its own boot file is missing).
 */
async function bootTargets(data) {
  const byModel = new Map();
  for (const p of phones) {
    if (byModel.has(p.model)) continue;
    const r = await run('node', [CLI, 'render', '--phone', p.mac, '--data', data]);
    if (!r.ok) throw new Error(`hotdesk render --phone ${p.mac} failed: ${r.stderr}`);
    const names = r.stdout.split('\n').filter((n) => n && (n.includes(p.mac) || !n.endsWith('.boot')));
    byModel.set(
      p.model,
      names.map((n) => n.replace(p.mac, '{mac}')),
    );
  }
  return phones.flatMap((p) => byModel.get(p.model).map((n) => ({ path: `/${n.replace('{mac}', p.mac)}`, userAgent: p.userAgent, mac: p.mac })));
}

function httpCell(r) {
  return `${rate(r.perSecond)} · p50 ${ms(r.p50)} · p99 ${ms(r.p99)}${r.errors ? ` · ${r.errors} errors ${JSON.stringify(r.status)}` : ''}`;
}

async function httpStorms(agent, nginxOrigin, nodeOrigin) {
  const results = {};
  for (const c of [64, 256]) {
    log(`HTTP boot storm, ${c} clients: nginx, bare node:http, hotdesk (cached nonce), hotdesk (challenge+response)`);
    const ref = await runHttpLoad({ origin: nginxOrigin, targets, concurrency: c, durationMs: DURATION, auth: 'none' });
    const bare = await runHttpLoad({ origin: nodeOrigin, targets, concurrency: c, durationMs: DURATION, auth: 'none' });
    const reuse = await runHttpLoad({ origin: agent.origin, targets, concurrency: c, durationMs: DURATION, auth: 'reuse', credential: BENCH_BOOTSTRAP });
    const chal = await runHttpLoad({ origin: agent.origin, targets, concurrency: c, durationMs: DURATION, auth: 'challenge', credential: BENCH_BOOTSTRAP });
    results[c] = { ref, reuse, chal };
    const p99 = (r) => (Number.isFinite(r.p99) && Number.isFinite(ref.p99) ? `, p99 ${ratio(r.p99, ref.p99)}` : '');
    const ofBare = (r) => `; ${ratio(r.perSecond, bare.perSecond)} bare node:http's throughput`;
    rows.push([
      `HTTP, ${c} clients, the same files from a bare \`node:http\` server (bench/node-static.mjs: from memory, no auth, no logging; Node's own ceiling on this machine)`,
      `bare node:http: ${httpCell(bare)}`,
      `nginx static: ${httpCell(ref)}`,
      `${ratio(bare.perSecond, ref.perSecond)} throughput${p99(bare)}`,
    ]);
    rows.push([
      `HTTP boot storm, ${c} clients, digest with cached nonce (1 request/fetch)`,
      httpCell(reuse),
      `nginx static: ${httpCell(ref)}`,
      `${ratio(reuse.perSecond, ref.perSecond)} throughput${p99(reuse)}${ofBare(reuse)}`,
    ]);
    rows.push([
      `HTTP boot storm, ${c} clients, digest challenge+response (2 requests/fetch)`,
      httpCell(chal),
      `nginx static: ${httpCell(ref)}`,
      `${ratio(chal.perSecond, ref.perSecond)} throughput${p99(chal)}${ofBare(chal)}`,
    ]);
  }
  return results;
}

async function atftpTime(port, file, options, out) {
  const args = ['-g', '-r', file, '-l', out];
  for (const o of options) args.push('--option', o);
  args.push('127.0.0.1', String(port));
  const r = await run('atftp', args);
  const size = existsSync(out) ? statSync(out).size : -1;
  rmSync(out, { force: true });
  return { ...r, size };
}

/** Median of 3 atftp runs (wall time of the client process, including its start). */
async function atftpMedian(port, file, options, expectSize) {
  const times = [];
  let err = null;
  for (let i = 0; i < 3; i++) {
    const r = await atftpTime(port, file, options, join(RUN, 'atftp.out'));
    if (!r.ok || r.size !== expectSize)
      err ??= `atftp ${r.ok ? `got ${r.size} of ${expectSize} bytes` : `exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 200)}`}`;
    else times.push(r.ms);
  }
  return { ms: times.length ? percentile(times, 50) : NaN, err };
}

async function tftpScenarios(agent, tftpPort, fw, smallFiles) {
  const blk = `blksize ${TFTP_BLKSIZE}`;
  const win = `windowsize ${TFTP_WINDOW}`;
  for (const [label, name, size] of [
    ['1 MB', fw.files.big1, 1024 * 1024],
    ['30 MB', fw.files.big30, 30 * 1024 * 1024],
  ]) {
    log(`TFTP ${label}: tftpd-hpa, hotdesk, hotdesk + windowsize`);
    const ref = await atftpMedian(tftpPort, `firmware/${name}`, [blk], size);
    const ours = await atftpMedian(agent.ports.tftp, `firmware/${name}`, [blk], size);
    const oursWin = await atftpMedian(agent.ports.tftp, `firmware/${name}`, [blk, win], size);
    const cell = (r) => (r.err ? `failed: ${r.err}` : ms(r.ms));
    rows.push([`TFTP ${label} file (atftp, blksize ${TFTP_BLKSIZE}), time`, cell(ours), `tftpd-hpa: ${cell(ref)}`, `${ratio(ours.ms, ref.ms)} time`]);
    rows.push([
      `TFTP ${label} file (atftp, blksize ${TFTP_BLKSIZE} + windowsize ${TFTP_WINDOW}), time`,
      cell(oursWin),
      `tftpd-hpa (no windowsize): ${cell(ref)}`,
      `${ratio(oursWin.ms, ref.ms)} time`,
    ]);
  }
  log(`TFTP 200 concurrent small-file fetches (${smallFiles.label})`);
  const batch = (port) => tftpBatch({ host: '127.0.0.1', port, files: smallFiles.names, concurrency: 200, blksize: TFTP_BLKSIZE });
  const ref = await batch(tftpPort);
  const ours = await batch(agent.ports.tftp);
  const cell = (r) =>
    `${ms(r.ms)} for all · p50 ${ms(percentile(r.latencies, 50))} · p99 ${ms(percentile(r.latencies, 99))}${r.errors ? ` · ${r.errors} failed (${r.firstError})` : ''}`;
  rows.push([
    `TFTP 200 concurrent small-file fetches (${smallFiles.label}, blksize ${TFTP_BLKSIZE}), time`,
    cell(ours),
    `tftpd-hpa: ${cell(ref)}`,
    `${ratio(ours.ms, ref.ms)} time`,
  ]);
}

/** The phone's answer to a NOTIFY: fetch its own file again (cached nonce), which confirms the sync. */
function refetcher(origin) {
  const pool = new Pool(origin, { connections: 16, pipelining: 1 });
  let challenge = null;
  let nc = 0;
  const fetchOne = async (phone) => {
    const path = `/${phone.file}`;
    const headers = { 'user-agent': phone.userAgent };
    if (challenge) headers.authorization = digestAuthorization(BENCH_BOOTSTRAP, challenge, 'GET', path, ++nc);
    const res = await pool.request({ method: 'GET', path, headers });
    await res.body.arrayBuffer();
    if (res.statusCode === 401) {
      challenge = parseChallenge(res.headers['www-authenticate']);
      nc = 0;
      const again = await pool.request({
        method: 'GET',
        path,
        headers: { ...headers, authorization: digestAuthorization(BENCH_BOOTSTRAP, challenge, 'GET', path, ++nc) },
      });
      await again.body.arrayBuffer();
    }
  };
  return {
    fetch: (phone) => void fetchOne(phone).catch(() => {}),
    close: () => pool.close(),
  };
}

/** A login storm's table cell. */
function loginCell(r) {
  return (
    `${rate(r.perSecond, ' logins/s')} · answer p99 ${ms(r.answerP99)} · request→NOTIFY p50 ${ms(r.notifyP50)} · p99 ${ms(r.notifyP99)}` +
    ` · ${r.missing} NOTIFY missing${r.logins < r.used ? ` · outcomes ${JSON.stringify(r.outcomes)}` : ''}`
  );
}

/** The login storm's users: user i logs in on phone i; the last 200 phones are left out (their address is the TFTP one). */
const loginPairs = () => Array.from({ length: Math.max(0, N - 200) }, (_, i) => ({ ...benchUser(i), mac: phones[i].mac, phone: phones[i] }));

async function loginStorms(agent, sip, stormAlone) {
  const pairs = loginPairs();
  const re = refetcher(agent.origin);
  const common = {
    origin: agent.origin,
    token: BENCH_TOKEN,
    concurrency: 16,
    durationMs: DURATION,
    setNotifyHandler: (h) => sip.setHandler(h),
    onNotified: (pair) => re.fetch(pair.phone),
  };
  log('login storm (PBX endpoint), alone');
  const alone = await runLoginStorm({ ...common, pairs });
  const cell = loginCell;
  rows.push([`Login storm, ${N.toLocaleString('en-US')} users/phones in the store (16 PBX requests in flight)`, cell(alone), '—', '—']);
  if (alone.firstError) notes.push(`Login storm: first non-login answer: ${alone.firstError}`);
  const aloneRowEnd = rows.length; // the PostgreSQL row goes here, beside this one

  log('login storm during an HTTP boot storm (64 clients)');
  const rest = pairs.slice(alone.used);
  const [during, storm] = await Promise.all([
    runLoginStorm({ ...common, pairs: rest }),
    runHttpLoad({ origin: agent.origin, targets, concurrency: 64, durationMs: DURATION, auth: 'reuse', credential: BENCH_BOOTSTRAP }),
  ]);
  rows.push([
    `Login storm during an HTTP boot storm (64 clients, cached nonce)`,
    `${cell(during)}; boot storm meanwhile: ${httpCell(storm)}`,
    stormAlone ? `boot storm alone: ${httpCell(stormAlone)}` : '—',
    `${ratio(during.perSecond, alone.perSecond)} logins/s, ${ratio(storm.perSecond, stormAlone?.perSecond)} boot-storm fetches/s`,
  ]);
  if (during.firstError) notes.push(`Login storm during boot storm: first non-login answer: ${during.firstError}`);
  await re.close();
  return { alone, aloneRowEnd };
}

/** One snapshot of the bench database's counters (pg_stat_database, pg_stat_wal). */
async function pgCounters(cluster, db) {
  const [d] = await cluster.query(
    `SELECT xact_commit::float8 AS commits, xact_rollback::float8 AS rollbacks, deadlocks::float8 AS deadlocks,
            (SELECT wal_sync::float8 FROM pg_stat_wal) AS wal_syncs, (SELECT wal_sync_time FROM pg_stat_wal) AS wal_sync_ms
       FROM pg_stat_database WHERE datname = $1`,
    [db],
  );
  return d;
}

/**
 * Login storm, two agents on PostgreSQL: a throwaway PostgreSQL server (durable settings), the
 * bench directory imported into a fresh database, two agents of one pool on it (the second with
 * a copy of the first's data key), one authenticated fetch of every storm phone (alternating
 * agents: records the phone's NOTIFY address and pool), then the login storm of the SQLite row
 * with the requests alternating between the two agents. `reference` is the SQLite row's result.
 */
async function pgLoginStorm(sip, reference) {
  log('PostgreSQL: starting a throwaway server');
  const cluster = await startPgCluster({ log });
  cleanups.push(() => cluster.stop());
  const agents = [];
  const DB = 'hotdesk_bench';
  try {
    const url = await cluster.createDatabase(DB);
    const dirs = ['pg-a', 'pg-b'].map((d) => join(RUN, d));
    for (const d of dirs) mkdirSync(d, { recursive: true });
    const file = join(RUN, `directory-${N}.yaml`);
    writeFileSync(file, directoryYaml(N));
    log(`PostgreSQL ${cluster.version}: importing ${N} users and ${N} phones ...`);
    const imp = await run('node', [CLI, 'import', file, '--store', url, '--data', dirs[0]]);
    if (!imp.ok) throw new Error(`hotdesk import --store failed (exit ${imp.code}): ${(imp.stderr || imp.stdout).slice(0, 2000)}`);
    log(`import into PostgreSQL took ${(imp.ms / 1000).toFixed(1)} s`);
    // every agent needs the same data key
    copyFileSync(join(dirs[0], 'secret.key'), join(dirs[1], 'secret.key'));
    chmodSync(join(dirs[1], 'secret.key'), 0o600);
    for (const [i, name] of ['a', 'b'].entries()) {
      log(`starting agent ${name} on PostgreSQL`);
      const a = await startAgentProcess(dirs[i], {
        extraArgs: ['--store', url, '--agent-id', `bench-${name}`, '--pool', 'bench'],
        logName: `agent-pg-${name}.log`,
      });
      agents.push(a);
      cleanups.push(() => a.stop());
    }
    const origins = agents.map((a) => a.origin);
    /** Where the time goes: CPU of each part, the database's counters and the serialization failures it logged. */
    const snapshot = async () => ({
      counters: await pgCounters(cluster, DB),
      wall: performance.now(),
      pg: cluster.cpuSeconds(),
      agents: agents.map((a) => cpuSeconds(a.pid)),
      bench: process.cpuUsage(),
      machine: machineBusySeconds(),
      serialization: (cluster.log().match(/could not serialize access/g) ?? []).length,
    });
    const since = async (b) => {
      const wall = (performance.now() - b.wall) / 1000;
      const u = process.cpuUsage(b.bench);
      return {
        wall,
        cpu: {
          pg: cluster.cpuSeconds() - b.pg,
          agents: agents.map((a, i) => cpuSeconds(a.pid) - b.agents[i]),
          bench: (u.user + u.system) / 1e6,
          machine: machineBusySeconds() - b.machine,
        },
        counters: await pgCounters(cluster, DB).then((c) => Object.fromEntries(Object.keys(c).map((k) => [k, c[k] - b.counters[k]]))),
        serialization: (cluster.log().match(/could not serialize access/g) ?? []).length - b.serialization,
      };
    };

    // The phones' first contact: each fetches its own file once, alternating agents (both of pool
    // "bench"), which records its NOTIFY address; a fetch answered with an error is tried again.
    const pairs = loginPairs();
    log(`first fetch of the ${pairs.length} storm phones' files through both agents`);
    const primeStart = await snapshot();
    let todo = targets.slice(0, pairs.length);
    const primeStatus = {};
    for (let pass = 1; todo.length > 0 && pass <= 3; pass++) {
      const done = new Set();
      const results = await Promise.all(
        origins.map((origin, k) => {
          const mine = todo.filter((_, i) => i % origins.length === k);
          return runHttpLoad({
            origin,
            targets: mine,
            concurrency: 32,
            durationMs: 600_000,
            maxFetches: mine.length,
            auth: 'reuse',
            credential: BENCH_BOOTSTRAP,
            onBody: (t) => done.add(t),
          });
        }),
      );
      for (const r of results) for (const [k, v] of Object.entries(r.status)) primeStatus[k] = (primeStatus[k] ?? 0) + v;
      todo = todo.filter((t) => !done.has(t));
      if (todo.length) log(`${todo.length} first fetches failed (${results.map((r) => JSON.stringify(r.status)).join(' ')}), trying them again`);
    }
    if (todo.length)
      throw new Error(`${todo.length} of ${pairs.length} phone files could not be fetched through the PostgreSQL agents: ${JSON.stringify(primeStatus)}`);
    const prime = await since(primeStart);
    const primeErrors = Object.entries(primeStatus).filter(([k]) => k !== '200');

    const refetchers = origins.map((o) => refetcher(o));
    let turn = 0;
    const stormStart = await snapshot();
    log(`login storm (PBX endpoint), two agents on PostgreSQL, requests alternating`);
    const r = await runLoginStorm({
      origins,
      pairs,
      token: BENCH_TOKEN,
      concurrency: 16,
      durationMs: DURATION,
      setNotifyHandler: (h) => sip.setHandler(h),
      onNotified: (pair) => refetchers[turn++ % refetchers.length].fetch(pair.phone),
    });
    await sleep(300); // the last re-fetches
    const storm = await since(stormStart);
    for (const x of refetchers) await x.close();

    rows.push([
      `Login storm, two agents on one PostgreSQL (${N.toLocaleString('en-US')} users/phones, 16 PBX requests in flight, alternating agents)`,
      loginCell(r),
      reference
        ? `SQLite, one agent (row above): ${rate(reference.perSecond, ' logins/s')} · request→NOTIFY p50 ${ms(reference.notifyP50)} · p99 ${ms(reference.notifyP99)}`
        : '—',
      reference ? `${ratio(r.perSecond, reference.perSecond)} logins/s, NOTIFY p99 ${ratio(r.notifyP99, reference.notifyP99)}` : '—',
    ]);
    const cores = os.cpus().length;
    /** One line of where the time went in a measured step. */
    const profile = (m) => {
      const c = m.counters;
      const pct = (x) => `${((x / m.wall) * 100).toFixed(0)} %`;
      return (
        `CPU over ${m.wall.toFixed(1)} s (100 % = one core): PostgreSQL ${pct(m.cpu.pg)}, agents ${m.cpu.agents.map(pct).join(' + ')}, ` +
        `load generator ${pct(m.cpu.bench)}, whole machine (anything running on it) ${pct(m.cpu.machine)} of ${cores * 100} %; ` +
        `${c.commits.toLocaleString('en-US')} commits, ${c.rollbacks.toLocaleString('en-US')} rollbacks (${m.serialization} serialization failures logged), ` +
        `${c.deadlocks} deadlocks; ${c.wal_syncs.toLocaleString('en-US')} WAL fsyncs, ${(c.wal_sync_ms / 1000).toFixed(1)} s in them`
      );
    };
    notes.push(
      `Login storm on PostgreSQL: 2 agents (one pool) and 1 PostgreSQL ${cluster.version.split(' ')[0]} on the same ${cores}-core box as the load generator, ` +
        `fsync on (durable settings: \`synchronous_commit\` and \`full_page_writes\` on too), a freshly imported database; logins per agent ${r.loginsPerOrigin.join(' / ')}.`,
    );
    notes.push(`Login storm on PostgreSQL, where the time went: ${profile(storm)}.`);
    notes.push(
      `Before the storm on PostgreSQL: \`hotdesk import --store\` ${(imp.ms / 1000).toFixed(1)} s; the first fetch of the ${pairs.length.toLocaleString('en-US')} storm phones' files ` +
        `(32 clients per agent) ${Math.round(pairs.length / prime.wall).toLocaleString('en-US')}/s` +
        `${primeErrors.length ? ` (errors answered and retried: ${primeErrors.map(([k, v]) => `${v}× ${k}`).join(', ')})` : ''}; ${profile(prime)}.`,
    );
    if (r.firstError) notes.push(`Login storm on PostgreSQL: first non-login answer: ${r.firstError}`);
    return r;
  } catch (e) {
    if (agents.length) log('agent logs: bench/work/run/agent-pg-a.log and agent-pg-b.log (BENCH_KEEP=1 keeps them)');
    const tail = cluster.log().slice(-1500);
    if (tail) log(`PostgreSQL log tail:\n${tail}`);
    throw e;
  } finally {
    for (const a of agents) await a.stop();
    await cluster.stop();
  }
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

function table(body = rows) {
  const esc = (s) =>
    String(s)
      .replace(/\s*\n\s*/g, ' ')
      .replace(/\|/g, '\\|');
  const lines = ['| scenario | hotdesk | reference | ratio (hotdesk / reference) |', '|---|---|---|---|'];
  for (const r of body) lines.push(`| ${r.map(esc).join(' | ')} |`);
  return lines.join('\n');
}

const LOSS_START = '<!-- tftp-loss: start (make bench; BENCH_ONLY=tftp-loss make bench redoes this section alone) -->';
const LOSS_END = '<!-- tftp-loss: end -->';

/** The TFTP-under-loss section of results.md, between its markers. */
function lossSection(machine, loadBefore) {
  return `${LOSS_START}
## TFTP under packet loss

- date: ${machine.date}; hotdesk commit: ${machine.commit}; load average when it started: ${loadBefore}
- software: Node ${machine.node}, tftpd-hpa ${machine.tftpd}, atftp client, nftables for the loss

${lossSetupText()}

${table(lossRows)}
${lossNotes.length ? `\nNotes:\n\n${lossNotes.map((n) => `- ${n}`).join('\n')}\n` : ''}${LOSS_END}
`;
}

/** BENCH_ONLY=tftp-loss: replaces that section of results.md (or appends it), keeping the rest. */
function writeLossOnly(machine, loadBefore) {
  const file = join(REPO, 'bench', 'results.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const section = lossSection(machine, loadBefore);
  const a = old.indexOf(LOSS_START);
  const b = old.indexOf(LOSS_END);
  const md = a >= 0 && b > a ? `${old.slice(0, a)}${section}${old.slice(b + LOSS_END.length + 1)}` : `${old.replace(/\n*$/, '\n')}\n${section}`;
  writeFileSync(file, md);
  return section;
}

function writeResults(machine, loadBefore) {
  const md = `# Benchmark results

Generated by \`make bench\` (bench/run.sh → bench/bench.mjs); what each row measures and how to
reproduce it by hand: [README.md](README.md). Do not edit: re-run \`make bench\`.

- date: ${machine.date}
- machine: ${machine.cpu}, ${machine.memory} RAM, ${machine.os}
- load average when the bench started: ${loadBefore}
- software: Node ${machine.node}, nginx ${machine.nginx} (1 worker), tftpd-hpa ${machine.tftpd}, atftp client
- hotdesk commit: ${machine.commit}
- store: ${N.toLocaleString('en-US')} users and ${N.toLocaleString('en-US')} phones; each timed run ${SECONDS} s; everything on 127.0.0.1

${table()}
${notes.length ? `\nNotes:\n\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}
${lossSection(machine, loadBefore)}`;
  writeFileSync(join(REPO, 'bench', 'results.md'), md);
  return md;
}

async function main() {
  const machine = machineDescription(REPO);
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const benchStart = performance.now();
  if (!existsSync(CLI)) throw new Error('dist/agent/cli/main.js is missing: run `make build` (make bench does)');
  if (ONLY === 'tftp-loss') {
    rmSync(RUN, { recursive: true, force: true });
    mkdirSync(RUN, { recursive: true });
    await tftpLoss();
    const section = writeLossOnly(machine, loadBefore);
    process.stdout.write(`\n${section}`);
    return;
  }
  if (ONLY === 'pg') {
    rmSync(RUN, { recursive: true, force: true });
    mkdirSync(RUN, { recursive: true });
    const sip = await startPhoneSockets();
    await pgLoginStorm(sip, null);
    process.stdout.write(
      `\n- ${machine.date}, ${machine.cpu}, hotdesk commit ${machine.commit}, load average when it started: ${loadBefore}\n\n` +
        `${table()}\n\nNotes:\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`,
    );
    return;
  }
  if (ONLY && ONLY !== 'cold') throw new Error(`BENCH_ONLY=${ONLY}: the partial runs are tftp-loss, cold and pg`);

  const { data, importMs } = await prepareData();
  rows.push([
    `Import ${N.toLocaleString('en-US')} users + ${N.toLocaleString('en-US')} phones (\`hotdesk import\`, once; cached by content)`,
    `${(importMs / 1000).toFixed(1)} s`,
    '—',
    '—',
  ]);
  const fw = makeFirmware(data);

  // The cold row: an agent that renders only what is asked (--no-render-ahead), so every file is rendered
  // for its first fetch. It also records each phone's address (for NOTIFY) in the data dir.
  log('starting the agent without render-ahead (cold first fetch)');
  const coldAgent = await startAgentProcess(data, { extraArgs: ['--no-render-ahead'], logName: 'agent-cold.log' });
  cleanups.push(() => coldAgent.stop());
  await sleep(1000);
  const rssIdle = rssMiB(coldAgent.pid);
  rows.push([`Start-up with ${N.toLocaleString('en-US')} phones/users, until HTTP answers`, ms(coldAgent.startupMs), '—', '—']);
  const boot = await bootTargets(data);
  const kinds = boot.length / N;
  log(`first fetch of all ${N} phones' ${boot.length} boot files (cold)`);
  const cold = await runHttpLoad({
    origin: coldAgent.origin,
    targets: boot,
    concurrency: 64,
    durationMs: 600_000,
    maxFetches: boot.length,
    auth: 'reuse',
    credential: BENCH_BOOTSTRAP,
  });
  if (cold.fetches < boot.length)
    throw new Error(`only ${cold.fetches} of ${boot.length} boot files could be fetched: ${JSON.stringify(cold.status)} (see bench/work/run/agent-cold.log)`);
  const bootKinds = `${boot.length.toLocaleString('en-US')} files: each phone's \`<mac>.boot\`, its model's common \`y0000000000NN.cfg\`, \`<mac>.cfg\``;
  rows.push([
    `Cold boot storm of all ${N.toLocaleString('en-US')} phones (${bootKinds}; 64 clients, digest; \`--no-render-ahead\`)`,
    `${httpCell(cold)} · all in ${ms(cold.elapsedMs)}`,
    '—',
    '—',
  ]);
  if (kinds !== 3) notes.push(`Cold boot storm: ${kinds} files per phone (the names \`hotdesk render --phone\` listed).`);
  if (ONLY === 'cold') {
    await sleep(500);
    rows.push([
      `Memory (RSS) of the agent after the cold fetch: idle after start / now / peak`,
      `${rssIdle.toFixed(0)} / ${rssMiB(coldAgent.pid).toFixed(0)} / ${vmHwmMiB(coldAgent.pid).toFixed(0)} MiB`,
      '—',
      '—',
    ]);
    process.stdout.write(`\n${table()}\n`);
    return;
  }
  await coldAgent.stop();

  // Every other row: the agent with its defaults, render-ahead included (every phone's files rendered
  // on idle workers after start-up, a phone's new files as soon as its revision changes).
  log('starting the agent (defaults: render-ahead on)');
  const agent = await startAgentProcess(data);
  cleanups.push(() => agent.stop());
  const sip = await startPhoneSockets();
  const ahead = await renderedAhead(agent, join(RUN, 'agent.log'), 120_000);
  rows.push([
    `Render-ahead after start-up: every phone's files rendered before any fetch (until the agent logs it)`,
    ahead ? `${ms(ahead.ms)} after start · ${ahead.files.toLocaleString('en-US')} files` : 'not seen within 120 s',
    '—',
    '—',
  ]);

  // A first pass over every phone (records each phone's address again and copies the very bytes
  // served into nginx's root): with render-ahead, the boot storm of an office whose agent was up first.
  log(`first fetch of all ${N} phones' ${boot.length} boot files after render-ahead, copying them for nginx`);
  const www = join(RUN, 'www');
  mkdirSync(www, { recursive: true });
  const first = await runHttpLoad({
    origin: agent.origin,
    targets: boot,
    concurrency: 64,
    durationMs: 600_000,
    maxFetches: boot.length,
    auth: 'reuse',
    credential: BENCH_BOOTSTRAP,
    onBody: (t, body) => writeFileSync(join(www, t.path.slice(1)), Buffer.from(body)),
  });
  if (first.fetches < boot.length)
    throw new Error(`only ${first.fetches} of ${boot.length} boot files could be fetched: ${JSON.stringify(first.status)} (see bench/work/run/agent.log)`);
  rows.push([
    `Boot storm of all ${N.toLocaleString('en-US')} phones after the start-up render-ahead (${bootKinds}; 64 clients, digest)`,
    `${httpCell(first)} · all in ${ms(first.elapsedMs)}`,
    '—',
    '—',
  ]);

  const nginxPort = await freePort();
  const nginx = await startNginx({ root: www, port: nginxPort, workDir: RUN });
  cleanups.push(() => nginx.stop());
  const nodePort = await freePort();
  const bareNode = await startNodeStatic({ root: www, port: nodePort, workDir: RUN });
  cleanups.push(() => bareNode.stop());
  const storms = await httpStorms(agent, `http://127.0.0.1:${nginxPort}`, `http://127.0.0.1:${nodePort}`);
  await nginx.stop();
  await bareNode.stop();

  const tftpPort = await freePort();
  const tftpd = await startTftpd({ root: fw.tftpRoot, port: tftpPort, workDir: RUN });
  cleanups.push(() => tftpd.stop());
  const smallFiles = await pickSmallTftpFiles(agent, fw.tftpRoot);
  await tftpScenarios(agent, tftpPort, fw, smallFiles);
  await tftpd.stop();
  await tftpLoss();

  const sqliteLogins = await loginStorms(agent, sip, storms[64]?.reuse);

  await sleep(500);
  rows.push([
    `Memory (RSS) of the agent with ${N.toLocaleString('en-US')} phones/users: idle after start / after all scenarios / peak`,
    `${rssIdle.toFixed(0)} / ${rssMiB(agent.pid).toFixed(0)} / ${vmHwmMiB(agent.pid).toFixed(0)} MiB`,
    '—',
    '—',
  ]);

  // The PostgreSQL row needs the machine to itself (and no late NOTIFY retry of the SQLite agent
  // to the same SIP users): the SQLite agent stops first. Its row goes beside the SQLite login storm.
  await agent.stop();
  const before = rows.length;
  try {
    await pgLoginStorm(sip, sqliteLogins.alone);
  } catch (e) {
    log(`login storm on PostgreSQL failed: ${e.message ?? e}`);
    rows.push(['Login storm, two agents on one PostgreSQL', `not measured: ${String(e.message ?? e).split('\n')[0]}`, '—', '—']);
  }
  rows.splice(sqliteLogins.aloneRowEnd, 0, ...rows.splice(before));
  notes.push(`Whole bench took ${((performance.now() - benchStart) / 1000).toFixed(0)} s.`);
  const md = writeResults(machine, loadBefore);
  process.stdout.write(`\n${md}`);
}

/** The phones' SIP side on 127.0.0.1:5060 (bench/sip-phones.mjs); `setHandler` picks who hears each NOTIFY. */
async function startPhoneSockets() {
  const handler = { fn: null };
  const sip = await startSipPhones({ port: PHONE_SIP_PORT, onNotify: (n) => handler.fn?.(n) });
  sip.setHandler = (h) => (handler.fn = h);
  cleanups.push(() => sip.close());
  return sip;
}

/** The TFTP-under-loss rows (bench/tftp-loss.mjs); a machine without nftables gets a note instead. */
async function tftpLoss() {
  try {
    const r = await runTftpLoss({ cli: CLI, workDir: RUN, log });
    lossRows.push(...r.rows);
    lossNotes.push(...r.notes);
  } catch (e) {
    log(`TFTP under loss failed: ${e.message ?? e}`);
    lossNotes.push(`Not measured: ${e.message ?? e}`);
    if (ONLY) throw e;
  }
}

/**
 * The 200 small files for the concurrent TFTP fetch: 200 phones' own boot
 * files (`<mac>.boot`, personalised, no secrets), fetched once from the agent
 * so tftpd-hpa serves the very same bytes; small firmware files if the agent
 * does not serve them over TFTP.
 */
async function pickSmallTftpFiles(agent, tftpRoot) {
  // The last 200 phones: their fetches come from their own addresses (127.0.1.x), which then
  // become their last-known addresses; the login storm uses the other phones (127.0.0.1).
  const names = phones.slice(-200).map((p) => `${p.mac}.boot`);
  try {
    let bytes = 0;
    for (const [i, name] of names.entries()) {
      const got = await tftpGet({
        host: '127.0.0.1',
        port: agent.ports.tftp,
        file: name,
        blksize: TFTP_BLKSIZE,
        giveUpMs: 3000,
        keep: true,
        localAddress: phoneAddress(i),
      });
      writeFileSync(join(tftpRoot, name), got.data);
      bytes += got.bytes;
    }
    return { label: `200 phones' \`<mac>.boot\`, ${Math.round(bytes / names.length)} bytes each`, names };
  } catch (e) {
    notes.push(
      `TFTP small files: the agent did not serve \`<mac>.boot\` over TFTP (${e.message}); 200 distinct 4 KiB firmware-directory files are used instead.`,
    );
  }
  const fw = [];
  for (let i = 0; i < 200; i++) {
    const name = `boot-${String(i).padStart(3, '0')}.bin`;
    const buf = Buffer.alloc(4096, i & 0xff);
    writeFileSync(join(RUN, 'data', 'firmware', name), buf);
    writeFileSync(join(tftpRoot, 'firmware', name), buf);
    fw.push(`firmware/${name}`);
  }
  return { label: '200 distinct 4 KiB firmware files', names: fw };
}

try {
  await main();
} catch (e) {
  log(`FAILED: ${e.message ?? e}`);
  if (rows.length) process.stdout.write(`\nPartial results:\n\n${table()}\n`);
  if (lossRows.length) process.stdout.write(`\nPartial TFTP-under-loss results:\n\n${table(lossRows)}\n`);
  process.exitCode = 1;
} finally {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {}
  }
  if (!process.env.BENCH_KEEP) rmSync(RUN, { recursive: true, force: true });
}
