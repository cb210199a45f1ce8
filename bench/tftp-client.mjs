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
 * Fetches one file; resolves with { bytes, ms, data? } or rejects on ERROR/timeout.
 * `keep: true` also returns the file content as `data`; `localAddress` binds
 * the client to that source address (any 127.x.y.z works on Linux loopback).
 * @param {{host:string, port:number, file:string, blksize?:number, windowsize?:number, timeoutMs?:number, retries?:number, keep?:boolean, localAddress?:string}} o
 */
export function tftpGet(o) {
  const { host, port, file } = o;
  const timeoutMs = o.timeoutMs ?? 1000;
  const retries = o.retries ?? 5;
  const options = {};
  if (o.blksize) options.blksize = String(o.blksize);
  if (o.windowsize && o.windowsize > 1) options.windowsize = String(o.windowsize);
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const t0 = performance.now();
    let blksize = 512;
    let windowsize = 1;
    let expected = 1; // next block number wanted (wraps at 65536)
    let received = 0; // blocks received since the last ACK
    let bytes = 0;
    const chunks = o.keep ? [] : null;
    let peer = null;
    let lastSent = rrq(file, options);
    let tries = 0;
    let timer = null;
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve({ bytes, ms: performance.now() - t0, ...(chunks ? { data: Buffer.concat(chunks) } : {}) });
    };
    const send = (buf) => {
      lastSent = buf;
      sock.send(buf, peer?.port ?? port, peer?.address ?? host);
      arm();
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (++tries > retries) return finish(new Error(`tftp timeout fetching ${file}`));
        sock.send(lastSent, peer?.port ?? port, peer?.address ?? host);
        arm();
      }, timeoutMs);
    };
    sock.on('error', (e) => finish(e));
    sock.on('message', (msg, rinfo) => {
      if (done) return;
      if (peer === null) peer = { address: rinfo.address, port: rinfo.port };
      else if (rinfo.port !== peer.port) return; // stray packet from another TID (RFC 1350 §4)
      const op = msg.readUInt16BE(0);
      if (op === OP.ERROR) return finish(new Error(`tftp error ${msg.readUInt16BE(2)}: ${msg.subarray(4).toString('latin1').replace(/\0.*$/, '')}`));
      if (op === OP.OACK) {
        const acc = parseOack(msg);
        if (acc.blksize) blksize = Number(acc.blksize);
        if (acc.windowsize) windowsize = Number(acc.windowsize);
        tries = 0;
        return send(ack(0));
      }
      if (op !== OP.DATA) return;
      const block = msg.readUInt16BE(2);
      if (block !== (expected & 0xffff)) {
        // out of order (lost packet inside a window): ask again from the last good block (RFC 7440 §4)
        return send(ack((expected - 1) & 0xffff));
      }
      const len = msg.length - 4;
      bytes += len;
      chunks?.push(msg.subarray(4));
      expected++;
      received++;
      tries = 0;
      if (len < blksize) {
        // last block: close only once the final ACK is on the wire, or the server never hears it
        clearTimeout(timer);
        sock.send(ack(block), peer.port, peer.address, () => finish());
        return;
      }
      if (received >= windowsize) {
        received = 0;
        send(ack(block));
      } else {
        arm();
      }
    });
    if (o.localAddress) sock.bind({ address: o.localAddress, port: 0 }, () => send(lastSent));
    else send(lastSent);
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
