// A minimal read-only TFTP client (RFC 1350 with the blksize, tsize and
// windowsize options of RFC 2348/2349/7440), used to run many concurrent
// small-file fetches from one process. Big files are timed with Debian's
// atftp instead (see bench.mjs), so this client only has to be correct, not fast.
import dgram from 'node:dgram';

const OP = { RRQ: 1, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 };

function rrq(file, options) {
  const parts = [Buffer.from([0, OP.RRQ]), Buffer.from(`${file}\0octet\0`, 'latin1')];
  for (const [k, v] of Object.entries(options)) parts.push(Buffer.from(`${k}\0${v}\0`, 'latin1'));
  return Buffer.concat(parts);
}

function ack(block) {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(OP.ACK, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}

function parseOack(msg) {
  const fields = msg.subarray(2).toString('latin1').split('\0');
  const out = {};
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]) out[fields[i].toLowerCase()] = fields[i + 1];
  return out;
}

/**
 * Retransmission timer of one transfer, RFC 6298 style: smoothed round-trip
 * time and variance from measured round trips (our ACK or RRQ sent → the next
 * DATA), RTO = SRTT + 4·RTTVAR clamped to [minMs, maxMs], doubled on each
 * consecutive timeout and reset by progress. Karn's rule: a round trip whose
 * request was retransmitted is ambiguous and never sampled. `cached` (SRTT and
 * RTTVAR of an earlier transfer with the same server) replaces the 1 s initial
 * RTO: RFC 6298 §2.1 uses the initial value only until the path between the
 * two hosts has been measured, and RFC 9040 §5 shares those measurements
 * between connections to the same host, as TCP stacks do.
 */
export class RetransmitTimer {
  constructor({ initialMs = 1000, minMs = 5, maxMs = 3000, cached = null } = {}) {
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.rto = initialMs;
    this.srtt = null;
    this.rttvar = 0;
    this.backoff = 0;
    if (cached) {
      this.srtt = cached.srtt;
      this.rttvar = cached.rttvar;
      this.rto = Math.min(this.maxMs, Math.max(this.minMs, this.srtt + 4 * this.rttvar));
    }
  }
  /** One round-trip sample (ms). */
  sample(r) {
    const rtt = Math.max(0, r);
    if (this.srtt === null) {
      this.srtt = rtt;
      this.rttvar = rtt / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rtt);
      this.srtt = 0.875 * this.srtt + 0.125 * rtt;
    }
    this.rto = Math.min(this.maxMs, Math.max(this.minMs, this.srtt + 4 * this.rttvar));
  }
  /** The wait before the next resend: the RTO doubled per consecutive timeout, capped. */
  waitMs() {
    return Math.min(this.rto * 2 ** this.backoff, Math.max(this.rto, this.maxMs));
  }
}

/** Round-trip estimates of finished transfers, by server `host:port` (see {@link RetransmitTimer}). */
const rttByServer = new Map();

/**
 * Fetches one file; resolves with { bytes, ms, resends, data? } or rejects on ERROR/timeout.
 * `keep: true` also returns the file content as `data`; `localAddress` binds
 * the client to that source address (any 127.x.y.z works on Linux loopback).
 * The resend timer adapts to the measured round trip ({@link RetransmitTimer}),
 * starting from the last transfer's estimate for the same server;
 * `timeoutMs` is the first wait (before any round trip is measured) and
 * `giveUpMs` how long the client waits without progress before giving up.
 * @param {{host:string, port:number, file:string, blksize?:number, windowsize?:number, timeoutMs?:number, giveUpMs?:number, keep?:boolean, localAddress?:string}} o
 */
export function tftpGet(o) {
  const { host, port, file } = o;
  const giveUpMs = o.giveUpMs ?? 15_000;
  const options = {};
  if (o.blksize) options.blksize = String(o.blksize);
  if (o.windowsize && o.windowsize > 1) options.windowsize = String(o.windowsize);
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const t0 = performance.now();
    const server = `${host}:${port}`;
    const rto = new RetransmitTimer({ initialMs: o.timeoutMs ?? 1000, cached: rttByServer.get(server) ?? null });
    const remember = () => {
      if (rto.srtt !== null) rttByServer.set(server, { srtt: rto.srtt, rttvar: rto.rttvar });
    };
    let blksize = 512;
    let windowsize = 1;
    let expected = 1; // next block number wanted (wraps at 65536)
    let received = 0; // blocks received since the last ACK
    let bytes = 0;
    let resends = 0;
    const chunks = o.keep ? [] : null;
    let peer = null;
    let lastSent = rrq(file, options);
    let sentAt = 0; // when lastSent was first sent
    let resent = false; // lastSent went out more than once (Karn: no sample)
    let progressAt = t0;
    let gapAcked = false; // the ACK asking for `expected` again went out since the last in-order block
    let timer = null;
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve({ bytes, ms: performance.now() - t0, resends, ...(chunks ? { data: Buffer.concat(chunks) } : {}) });
    };
    const send = (buf) => {
      lastSent = buf;
      sentAt = performance.now();
      resent = false;
      sock.send(buf, peer?.port ?? port, peer?.address ?? host);
      arm();
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (performance.now() - progressAt >= giveUpMs) return finish(new Error(`tftp timeout fetching ${file}`));
        rto.backoff++;
        resends++;
        resent = true;
        sock.send(lastSent, peer?.port ?? port, peer?.address ?? host);
        arm();
      }, rto.waitMs());
    };
    /** Progress: a round trip completed (sampled unless its request was resent) and the backoff resets. */
    const progress = () => {
      const now = performance.now();
      if (!resent) rto.sample(now - sentAt);
      resent = true; // one sample per request
      rto.backoff = 0;
      progressAt = now;
    };
    sock.on('error', (e) => finish(e));
    sock.on('message', (msg, rinfo) => {
      if (done) return;
      if (peer === null) peer = { address: rinfo.address, port: rinfo.port };
      else if (rinfo.port !== peer.port) return; // stray packet from another TID (RFC 1350 §4)
      const op = msg.readUInt16BE(0);
      if (op === OP.ERROR) return finish(new Error(`tftp error ${msg.readUInt16BE(2)}: ${msg.subarray(4).toString('latin1').replace(/\0.*$/, '')}`));
      if (op === OP.OACK) {
        if (expected !== 1) return; // a resent OACK after DATA started: stale
        const acc = parseOack(msg);
        if (acc.blksize) blksize = Number(acc.blksize);
        if (acc.windowsize) windowsize = Number(acc.windowsize);
        progress();
        return send(ack(0));
      }
      if (op !== OP.DATA) return;
      const block = msg.readUInt16BE(2);
      if (block !== (expected & 0xffff)) {
        // A gap (lost packet inside a window) or a duplicate: ask once from the last good
        // block (RFC 7440 §4); further out-of-order blocks wait for the timer, so one loss
        // never becomes a burst of identical ACKs.
        if (gapAcked) return;
        gapAcked = true;
        received = 0;
        return send(ack((expected - 1) & 0xffff));
      }
      gapAcked = false;
      if (received === 0) progress(); // first block answering our last ACK
      const len = msg.length - 4;
      bytes += len;
      chunks?.push(msg.subarray(4));
      expected++;
      received++;
      if (len < blksize) {
        // Last block: the fetch is complete once the final ACK is on the wire. The socket then
        // dallies (RFC 1350 §6) for a second, answering a resent last block with the ACK again,
        // so a lost final ACK does not leave the server resending to a closed port.
        clearTimeout(timer);
        const last = ack(block);
        sock.send(last, peer.port, peer.address, () => {
          if (done) return;
          done = true;
          remember();
          const result = { bytes, ms: performance.now() - t0, resends, ...(chunks ? { data: Buffer.concat(chunks) } : {}) };
          sock.removeAllListeners('message');
          sock.on('message', (m, r) => {
            if (r.port === peer.port && m.length >= 4 && m.readUInt16BE(0) === OP.DATA && m.readUInt16BE(2) === block) sock.send(last, peer.port, peer.address);
          });
          setTimeout(() => sock.close(), 1000).unref();
          resolve(result);
        });
        return;
      }
      if (received >= windowsize) {
        received = 0;
        send(ack(block));
      } else {
        arm();
      }
    });
    const first = () => send(lastSent);
    if (o.localAddress) sock.bind({ address: o.localAddress, port: 0 }, first);
    else first();
  });
}

/** The i-th simulated phone's own loopback address: 127.0.1.1, 127.0.1.2, ... (distinct sources, like real phones). */
export function phoneAddress(i) {
  return `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/**
 * Runs the fetches with at most `concurrency` in flight, fetch i from its own
 * source address (`phoneAddress(i)`: servers may bound transfers per source,
 * and 200 phones have 200 addresses); returns the wall time of the whole
 * batch and the per-fetch latencies.
 */
export async function tftpBatch({ host, port, files, concurrency, blksize, windowsize }) {
  const latencies = [];
  let next = 0;
  let errors = 0;
  let firstError = null;
  const t0 = performance.now();
  async function worker() {
    while (next < files.length) {
      const i = next++;
      const file = files[i];
      try {
        const r = await tftpGet({ host, port, file, blksize, windowsize, localAddress: phoneAddress(i) });
        latencies.push(r.ms);
      } catch (e) {
        errors++;
        firstError ??= String(e.message ?? e);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ms: performance.now() - t0, ok: latencies.length, errors, firstError, latencies };
}
