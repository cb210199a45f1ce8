// TFTP under packet loss: a 1 MiB firmware file fetched through 0, 1 and 3 %
// random loss, from the agent and from tftpd-hpa in the same run, with atftp
// and with our own client (bench/tftp-client.mjs).
//
// The loss is an nftables rule the bench creates and removes: a table of its
// own (`inet hotdesk_bench_loss`) whose input-hook chain drops that fraction of
// the UDP datagrams to or from one dedicated loopback address (LOSS_HOST,
// 127.77.0.1), in each direction independently. Input, not output: a datagram
// dropped on output fails the sender's send() with EPERM, which no real
// network does (tftpd-hpa and atftp give up on it), while one dropped on input
// is silently lost, as on a wire. Only the servers of this
// scenario bind that address, so nothing else on the machine (other tests,
// the rest of the bench on 127.0.0.1) loses a packet. bench/run.sh removes the
// table on exit whatever happens (trap); this module removes it too.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync, linkSync } from 'node:fs';
import { join } from 'node:path';
import { directoryYaml } from './gen-directory.mjs';
import { firmwareBytes, freePort, ms, percentile, sleep, startProcess, stopProcess } from './lib.mjs';
import { tftpGet } from './tftp-client.mjs';

export const LOSS_HOST = '127.77.0.1';
export const LOSS_TABLE = 'hotdesk_bench_loss';
const NFT = (process.env.BENCH_NFT ?? 'nft').split(' ').filter(Boolean);
const FILE = 'fw-1m.rom';
const SIZE = 1024 * 1024;
const BLKSIZE = 1428;
const WINDOW = 16;
/** Fetches per cell, and how many run at once (the agent's default per-address limit is 4). */
const RUNS = Number(process.env.BENCH_LOSS_RUNS ?? 8);
const CONCURRENCY = 4;
/** A fetch still running after this long is killed and counted as not delivered. */
const CAP_MS = Number(process.env.BENCH_LOSS_CAP_S ?? 60) * 1000;

function exec(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024, ...opts }, (err, stdout, stderr) => {
      resolve({ ok: !err, code: err?.code ?? 0, killed: err?.killed ?? false, ms: performance.now() - t0, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
  });
}

const nft = (args, input) => exec(NFT[0], [...NFT.slice(1), ...args], input !== undefined ? { input } : {});

/** Removes the loss table (no error when it is not there). */
export async function clearLoss() {
  await nft(['delete', 'table', 'inet', LOSS_TABLE]);
}

/**
 * Installs the loss rule: `permille` ‰ of the UDP datagrams from or to
 * LOSS_HOST are dropped (0 installs the counters only). Counters tell how many
 * datagrams were seen and dropped.
 */
async function setLoss(permille) {
  await clearLoss();
  const script = `table inet ${LOSS_TABLE} {
  chain in {
    type filter hook input priority 0; policy accept;
    meta l4proto udp ip saddr ${LOSS_HOST} counter jump lossy
    meta l4proto udp ip daddr ${LOSS_HOST} counter jump lossy
  }
  chain lossy {
    numgen random mod 1000 < ${permille} counter drop
  }
}
`;
  const r = await nft(['-f', '-'], script);
  if (!r.ok) throw new Error(`nft could not install the loss rule (${(r.stderr || r.stdout).trim().slice(0, 300) || `exit ${r.code}`})`);
}

/** Datagrams seen and dropped by the rule since it was installed. */
async function lossCounters() {
  const r = await nft(['-j', 'list', 'table', 'inet', LOSS_TABLE]);
  if (!r.ok) return { seen: NaN, dropped: NaN };
  const rules = JSON.parse(r.stdout)
    .nftables.filter((x) => x.rule)
    .map((x) => x.rule);
  const packets = (rule) => rule.expr.find((e) => e.counter)?.counter.packets ?? 0;
  const seen = rules.filter((x) => x.chain === 'in').reduce((a, x) => a + packets(x), 0);
  const dropped = rules.filter((x) => x.chain === 'lossy').reduce((a, x) => a + packets(x), 0);
  return { seen, dropped };
}

/** A small data dir (10 phones) with the 1 MiB firmware file, for an agent bound to LOSS_HOST. */
async function prepareAgentData(cli, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const yaml = join(dir, 'office.yaml');
  writeFileSync(yaml, directoryYaml(10));
  const data = join(dir, 'data');
  const r = await exec('node', [cli, 'import', yaml, '--data', data]);
  if (!r.ok) throw new Error(`hotdesk import (loss scenario) failed: ${(r.stderr || r.stdout).slice(0, 500)}`);
  mkdirSync(join(data, 'firmware'), { recursive: true });
  writeFileSync(join(data, 'firmware', FILE), firmwareBytes(FILE, SIZE));
  const root = join(dir, 'tftp-root');
  mkdirSync(join(root, 'firmware'), { recursive: true });
  linkSync(join(data, 'firmware', FILE), join(root, 'firmware', FILE));
  return { data, root };
}

async function startAgent(cli, data, logFile) {
  const ports = { http: await freePort(), tftp: await freePort(), sip: await freePort() };
  // atftp cannot choose its source address, so every fetch comes from 127.0.0.1: the per-address
  // limit (4 by default, one phone fetching its files) is raised so that a transfer still resending
  // its last block to a client that has left (its final ACK lost) does not refuse the next fetch.
  const args = [
    'serve',
    '--data',
    data,
    '--host',
    LOSS_HOST,
    '--http-port',
    String(ports.http),
    '--tftp-port',
    String(ports.tftp),
    '--sip-port',
    String(ports.sip),
    '--tftp-per-source',
    '64',
  ];
  const child = startProcess('node', [cli, ...args], { logFile });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hotdesk serve (loss scenario) exited at start (see ${logFile})`);
    try {
      const res = await fetch(`http://${LOSS_HOST}:${ports.http}/.well-known/hotdesk.json`);
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('hotdesk serve (loss scenario) did not answer within 60 s');
      await sleep(20);
    }
  }
  return { port: ports.tftp, stop: () => stopProcess(child) };
}

/** One atftp fetch: wall time of the client process; delivered when the file has the full size. */
async function atftpOnce(port, options, out) {
  const args = ['-g', '-r', `firmware/${FILE}`, '-l', out];
  for (const o of options) args.push('--option', o);
  args.push(LOSS_HOST, String(port));
  const r = await exec('atftp', args, { timeout: CAP_MS, killSignal: 'SIGKILL' });
  const size = existsSync(out) ? statSync(out).size : -1;
  rmSync(out, { force: true });
  return { ok: r.ok && size === SIZE, ms: r.ms, why: r.killed ? `killed after ${CAP_MS / 1000} s` : r.ok ? `got ${size} bytes` : `exit ${r.code}` };
}

/** One fetch with our client (from 127.0.0.1). */
async function oursOnce(port, windowsize) {
  const t0 = performance.now();
  try {
    const r = await tftpGet({ host: LOSS_HOST, port, file: `firmware/${FILE}`, blksize: BLKSIZE, windowsize, giveUpMs: Math.min(CAP_MS, 30_000) });
    return { ok: r.bytes === SIZE, ms: r.ms, why: `got ${r.bytes} bytes` };
  } catch (e) {
    return { ok: false, ms: performance.now() - t0, why: String(e.message ?? e) };
  }
}

/** RUNS fetches, CONCURRENCY at a time; delivered count, median and worst time of the delivered ones. */
async function cell(fetchOne) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < RUNS) {
      const i = next++;
      results[i] = await fetchOne(i);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const times = results.filter((r) => r.ok).map((r) => r.ms);
  const failed = results.filter((r) => !r.ok);
  return {
    delivered: times.length,
    runs: RUNS,
    median: percentile(times, 50),
    max: times.length ? Math.max(...times) : NaN,
    firstFailure: failed[0]?.why ?? null,
  };
}

function cellText(c, lossless) {
  if (c.delivered === 0) return `0/${c.runs} delivered (${c.firstFailure})`;
  const rel = Number.isFinite(lossless) && lossless > 0 ? ` (${(c.max / lossless).toFixed(1)}× lossless)` : '';
  return `${c.delivered}/${c.runs} delivered · median ${ms(c.median)} · max ${ms(c.max)}${rel}${c.delivered < c.runs ? ` · failed: ${c.firstFailure}` : ''}`;
}

/**
 * Runs the whole scenario. `cli` is dist/agent/cli/main.js, `workDir` a
 * scratch directory. Resolves with table rows and notes; the loss rule is
 * removed before it returns or throws.
 */
export async function runTftpLoss({ cli, workDir, log }) {
  const rows = [];
  const notes = [];
  const { data, root } = await prepareAgentData(cli, join(workDir, 'tftp-loss'));
  const tftpdPort = await freePort();
  const agent = await startAgent(cli, data, join(workDir, 'tftp-loss', 'agent.log'));
  const tftpd = startProcess('in.tftpd', ['-L', '-a', `${LOSS_HOST}:${tftpdPort}`, '-s', root], { logFile: join(workDir, 'tftp-loss', 'tftpd.log') });
  const out = (server, i) => join(workDir, 'tftp-loss', `${server}-${i}.out`);
  const clients = [
    { label: `atftp, blksize ${BLKSIZE}`, fetch: (port, server) => (i) => atftpOnce(port, [`blksize ${BLKSIZE}`], out(server, i)) },
    { label: `our client, blksize ${BLKSIZE}`, fetch: (port) => () => oursOnce(port, 1) },
    // tftpd-hpa has no windowsize: it would run the lock-step row again, so that row's figures are shown.
    {
      label: `our client, blksize ${BLKSIZE} + windowsize ${WINDOW}`,
      fetch: (port) => () => oursOnce(port, WINDOW),
      refFrom: `our client, blksize ${BLKSIZE}`,
      refNote: ' (no windowsize: the lock-step row above)',
    },
  ];
  const lossless = new Map();
  const refCells = new Map(); // `${percent}|${client label}` → tftpd-hpa's measurement
  try {
    await sleep(200); // UDP: nothing to connect to; give in.tftpd a moment to bind
    if (tftpd.exitCode !== null) throw new Error('in.tftpd exited at start (see tftp-loss/tftpd.log)');
    for (const percent of [0, 1, 3]) {
      for (const client of clients) {
        const measured = {};
        for (const [server, port] of [
          ['hotdesk', agent.port],
          ['tftpd-hpa', tftpdPort],
        ]) {
          const reused = server === 'tftpd-hpa' && client.refFrom ? refCells.get(`${percent}|${client.refFrom}`) : undefined;
          if (reused) {
            measured[server] = reused;
            lossless.set(`${server}|${client.label}`, lossless.get(`${server}|${client.refFrom}`));
            continue;
          }
          log(`TFTP 1 MiB through ${percent} % loss: ${server}, ${client.label}`);
          await setLoss(percent * 10);
          const c = await cell(client.fetch(port, server));
          const counters = await lossCounters();
          await clearLoss();
          if (percent === 0) lossless.set(`${server}|${client.label}`, c.median);
          measured[server] = { c, counters };
          if (server === 'tftpd-hpa') refCells.set(`${percent}|${client.label}`, measured[server]);
        }
        const ours = measured['hotdesk'];
        const ref = measured['tftpd-hpa'];
        const text = (server) => cellText(measured[server].c, lossless.get(`${server}|${client.label}`));
        const medianRatio =
          Number.isFinite(ours.c.median) && Number.isFinite(ref.c.median) ? `${(ours.c.median / ref.c.median).toFixed(2)}× median time` : 'n/a';
        rows.push([
          `TFTP 1 MiB through ${percent} % loss (${client.label}), ${RUNS} fetches, ${CONCURRENCY} at a time`,
          text('hotdesk'),
          `tftpd-hpa${client.refNote ?? ''}: ${text('tftpd-hpa')}`,
          medianRatio,
        ]);
        if (percent > 0) {
          const share = (k) => `${measured[k].counters.dropped} of ${measured[k].counters.seen} datagrams dropped`;
          notes.push(`${percent} % loss, ${client.label}: hotdesk ${share('hotdesk')}${client.refFrom ? '' : `, tftpd-hpa ${share('tftpd-hpa')}`}.`);
        }
      }
    }
  } finally {
    await clearLoss();
    await agent.stop();
    await stopProcess(tftpd);
  }
  return { rows, notes };
}

/** The setup paragraph printed above the loss table in results.md. */
export function lossSetupText() {
  return `A 1 MiB firmware file (incompressible) in the agent's \`<data>/firmware/\` and the same inode in
tftpd-hpa's root, both servers bound to ${LOSS_HOST}; an nftables rule drops the given share of the UDP
datagrams to or from that address at random (each datagram, each direction, independently; requests,
OACKs and ACKs included; dropped on input, so the sender does not notice). ${RUNS} fetches per cell,
${CONCURRENCY} at a time, all from 127.0.0.1 (the agent runs with \`--tftp-per-source 64\` for that); a fetch still running after ${CAP_MS / 1000} s is killed and not delivered. Times are per fetch
(atftp: wall time of the client process), median and worst of the delivered ones; "× lossless" is the
worst fetch over the median of the same client and server at 0 % loss. atftp keeps its own default
client timeout (5 s) for its request. Our client's resend timer adapts to the measured round trip.`;
}
