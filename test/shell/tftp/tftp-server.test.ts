/**
 * The TFTP server against real clients (tftp-hpa, atftp, curl) on 127.0.0.1.
 *
 * `resolve` here serves from an in-memory map: it stands in for the
 * provisioning pipeline (identification, rendering, authorisation), which is
 * tested on its own. What is under test is the TFTP side: codec, transfer
 * machine, TIDs, path refusal, error mapping, robustness.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HotdeskError } from '../../../agent/core/errors.js';
import { decodeTftpPacket, encodeTftpPacket, type TftpPacket } from '../../../agent/protocols/tftp-packet.js';
import { startTftpServer, type TftpResolveRequest, type TftpServer, type TftpServerLimits } from '../../../agent/shell/tftp/tftp-server.js';
import { startLossyUdpRelay } from '../../helpers/lossy-udp-relay.js';

const HOST = '127.0.0.1';
const MiB = 1024 * 1024;
const oneMiB = randomBytes(MiB);
const files = new Map<string, Buffer>([
  ['one-mib.bin', oneMiB],
  ['small.cfg', Buffer.from('account.1.enable = 0\n')],
  ['exact-1024.bin', randomBytes(1024)],
  ['empty.cfg', Buffer.alloc(0)],
  ['secret.cfg', Buffer.from('account.1.password = hunter2\n')],
]);
const bigFile = Buffer.alloc(64 * MiB, 0x5a);
let wrapFile: Buffer | undefined;

let tmp: string;
const children = new Set<ChildProcess>();
const servers = new Set<{ close(): Promise<void> }>();

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hotdesk-tftp-'));
});
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  await Promise.all([...servers].map((s) => s.close()));
  servers.clear();
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Started {
  server: TftpServer;
  requests: TftpResolveRequest[];
  logs: { level: string; msg: string; fields: Readonly<Record<string, unknown>> }[];
}

async function start(limits: TftpServerLimits = {}): Promise<Started> {
  const requests: TftpResolveRequest[] = [];
  const logs: Started['logs'] = [];
  const server = await startTftpServer({
    host: HOST,
    port: 0,
    limits: { timeoutMs: 200, ...limits },
    log: (level, msg, fields) => logs.push({ level, msg, fields }),
    resolve: async (req) => {
      requests.push(req);
      if (req.path === 'big.bin') return { data: bigFile };
      if (req.path === 'wrap.bin') {
        wrapFile ??= randomBytes(32 * MiB + 1000);
        return { data: wrapFile };
      }
      if (req.path === 'secret.cfg') return { error: new HotdeskError('secret-over-tftp', 'account.1.password = hunter2 must not leak') };
      if (req.path === 'throws.cfg') throw new Error('boom with internal detail');
      const data = files.get(req.path);
      return data ? { data } : { error: new HotdeskError('unknown-file') };
    },
  });
  servers.add(server);
  return { server, requests, logs };
}

function run(cmd: string, args: string[], opts: { input?: string } = {}): { child: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn(cmd, args, { cwd: tmp, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  else child.stdin?.end();
  const done = new Promise<{ code: number | null; out: string }>((resolve) => {
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, out });
    });
  });
  return { child, done };
}

function local(name: string): string {
  const p = path.join(tmp, `${name}-${Math.random().toString(36).slice(2)}`);
  return p;
}
function readIfAny(p: string): Buffer | null {
  return fs.existsSync(p) ? fs.readFileSync(p) : null;
}

async function waitFor(cond: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function tftpHpaGet(port: number, remote: string, out: string) {
  return run('tftp', ['-m', 'binary', HOST, String(port), '-c', 'get', remote, out]);
}
function atftpGet(port: number, remote: string, out: string, options: string[] = [], extra: string[] = []) {
  return run('atftp', ['-g', '-r', remote, '-l', out, ...options.flatMap((o) => ['--option', o]), ...extra, HOST, String(port)]);
}

/** A raw socket that sends datagrams and collects replies. */
async function rawSocket(
  address = HOST,
): Promise<{ sock: dgram.Socket; next: (limitMs?: number) => Promise<{ packet: TftpPacket; port: number } | null>; close: () => void }> {
  const sock = dgram.createSocket('udp4');
  const queue: { packet: TftpPacket; port: number }[] = [];
  let waiter: (() => void) | null = null;
  sock.on('message', (msg, rinfo) => {
    const r = decodeTftpPacket(msg);
    queue.push({ packet: r.ok ? r.packet : { op: 'error', code: -1, message: r.reason }, port: rinfo.port });
    waiter?.();
  });
  await new Promise<void>((r) => sock.bind(0, address, r));
  const next = async (limitMs = 3000) => {
    if (queue.length === 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, limitMs);
        waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      waiter = null;
    }
    return queue.shift() ?? null;
  };
  return { sock, next, close: () => sock.close() };
}

function rrq(filename: string, options: Record<string, string> = {}): Buffer {
  return encodeTftpPacket({ op: 'rrq', filename, mode: 'octet', options });
}

describe('tftp server with real clients', () => {
  it('tftp-hpa (no options, 512-byte lock-step) fetches 1 MiB byte-exact', async () => {
    const { server } = await start();
    const out = local('hpa');
    const r = await tftpHpaGet(server.port, 'one-mib.bin', out).done;
    expect(r.code).toBe(0);
    expect(readIfAny(out)?.equals(oneMiB)).toBe(true);
    await waitFor(() => server.stats().transfersOk === 1, 'transfer counted');
    expect(server.stats()).toMatchObject({ active: 0, sockets: 0, transfersOk: 1, transfersFailed: 0, bytesOk: MiB });
  });

  it('tftp-hpa: small, empty and exact-multiple files; a leading slash is accepted', async () => {
    const { server, requests } = await start();
    for (const name of ['small.cfg', 'empty.cfg', 'exact-1024.bin']) {
      const out = local(name);
      expect((await tftpHpaGet(server.port, `/${name}`, out).done).code).toBe(0);
      expect(readIfAny(out)?.equals(files.get(name)!)).toBe(true);
    }
    expect(requests.map((r) => r.path)).toEqual(['small.cfg', 'empty.cfg', 'exact-1024.bin']);
  });

  it('tftp-hpa: a missing file gives File not found (exit 0, so the file is checked)', async () => {
    const { server } = await start();
    const out = local('missing');
    const r = await tftpHpaGet(server.port, 'nope.cfg', out).done;
    expect(r.out).toContain('Error code 1');
    expect(readIfAny(out)?.length ?? 0).toBe(0);
  });

  it('tftp-hpa fetches a file of more than 65535 blocks (block numbers wrap to 0) byte-exact', async () => {
    const { server } = await start();
    const out = local('wrap');
    const r = await tftpHpaGet(server.port, 'wrap.bin', out).done;
    expect(r.code).toBe(0);
    const got = readIfAny(out);
    expect(got?.length).toBe(32 * MiB + 1000); // 65538 blocks of 512 bytes
    expect(got?.equals(wrapFile!)).toBe(true);
  }, 120_000);

  it('atftp without options fetches 1 MiB byte-exact', async () => {
    const { server } = await start();
    const out = local('atftp-plain');
    expect((await atftpGet(server.port, 'one-mib.bin', out).done).code).toBe(0);
    expect(readIfAny(out)?.equals(oneMiB)).toBe(true);
  });

  it('atftp with blksize 1428 and tsize 0 fetches 1 MiB byte-exact', async () => {
    const { server, requests } = await start();
    const out = local('atftp-opts');
    const r = await atftpGet(server.port, 'one-mib.bin', out, ['blksize 1428', 'tsize 0']).done;
    expect(r.code).toBe(0);
    expect(readIfAny(out)?.equals(oneMiB)).toBe(true);
    expect(requests[0]?.options).toMatchObject({ blksize: '1428', tsize: '0' });
    await waitFor(() => server.stats().transfersOk === 1, 'transfer counted');
    // Lossless loopback: every byte once, give or take a resend when atftp is scheduled out
    // for longer than the few-millisecond RTO on a busy machine.
    const done = server.stats();
    expect(done.bytesSent).toBeGreaterThanOrEqual(MiB);
    expect(done.bytesSent - MiB).toBeLessThanOrEqual(done.resent * 1428);
    expect(done.resent).toBeLessThan(20);
  });

  it('atftp with windowsize 8 fetches 1 MiB byte-exact', async () => {
    const { server } = await start();
    const out = local('atftp-window');
    const r = await atftpGet(server.port, 'one-mib.bin', out, ['blksize 1428', 'windowsize 8', 'tsize 0']).done;
    expect(r.code).toBe(0);
    expect(readIfAny(out)?.equals(oneMiB)).toBe(true);
  });

  it('curl with --tftp-blksize, and with --tftp-no-options, fetches 1 MiB byte-exact', async () => {
    const { server } = await start();
    const a = local('curl-blk');
    const r = await run('curl', ['-sS', '--tftp-blksize', '1024', '-o', a, `tftp://${HOST}:${server.port}/one-mib.bin`]).done;
    expect(r.code).toBe(0);
    expect(readIfAny(a)?.equals(oneMiB)).toBe(true);
    const b = local('curl-noopt');
    const r2 = await run('curl', ['-sS', '--tftp-no-options', '-o', b, `tftp://${HOST}:${server.port}/one-mib.bin`]).done;
    expect(r2.code).toBe(0);
    expect(readIfAny(b)?.equals(oneMiB)).toBe(true);
  });

  it('curl: a refused file is an error for the client and the message names only the code', async () => {
    const { server, logs } = await start();
    const out = local('curl-secret');
    const r = await run('curl', ['-sS', '-o', out, `tftp://${HOST}:${server.port}/secret.cfg`]).done;
    expect(r.code).not.toBe(0);
    expect(readIfAny(out)?.length ?? 0).toBe(0);
    // The client is told "secret-over-tftp", never the resolver's own message.
    const raw = await rawSocket();
    raw.sock.send(rrq('secret.cfg'), server.port, HOST);
    const reply = await raw.next();
    raw.close();
    expect(reply?.packet).toEqual({ op: 'error', code: 2, message: expect.stringMatching(/^secret-over-tftp: /) });
    expect(JSON.stringify(reply)).not.toContain('hunter2');
    expect(JSON.stringify(logs)).not.toContain('hunter2');
  });

  it('atftp through a lossy relay (4% loss both ways) completes 1 MiB byte-exact', async () => {
    const { server } = await start({ timeoutMs: 100, maxTimeoutMs: 2000, maxRetries: 12 });
    const relay = await startLossyUdpRelay({ target: { host: HOST, port: server.port }, dropRate: 0.04, seed: 1234 });
    servers.add(relay);
    const out = local('lossy');
    // atftp answers a repeated DATA with one extra ACK only, then re-ACKs only after its own
    // timeout of silence (default 5 s); the server's doubling resend interval (capped at 2 s
    // here) leaves such silences for a 1 s client timeout. Seed 1234 loses an ACK and its extra ACK.
    const r = await atftpGet(relay.port, 'one-mib.bin', out, ['blksize 1428', 'tsize 0'], ['--tftp-timeout', '1']).done;
    expect(r.code).toBe(0);
    expect(readIfAny(out)?.equals(oneMiB)).toBe(true);
    expect(relay.stats().dropped).toBeGreaterThan(0);
  }, 120_000);

  it('atftp with windowsize 8 through the lossy relay completes 1 MiB byte-exact', async () => {
    const { server } = await start({ timeoutMs: 100, maxTimeoutMs: 2000, maxRetries: 12 });
    const relay = await startLossyUdpRelay({ target: { host: HOST, port: server.port }, dropRate: 0.03, seed: 99 });
    servers.add(relay);
    const out = local('lossy-window');
    const r = await atftpGet(relay.port, 'one-mib.bin', out, ['blksize 1428', 'windowsize 8'], ['--tftp-timeout', '1']).done;
    expect(r.code).toBe(0);
    expect(readIfAny(out)?.equals(oneMiB)).toBe(true);
    expect(relay.stats().dropped).toBeGreaterThan(0);
  }, 120_000);

  it('a client killed mid-transfer: the server gives up, frees the socket and keeps serving', async () => {
    const { server, logs } = await start({ timeoutMs: 50, maxRetries: 3 });
    const out = local('killed');
    const c = tftpHpaGet(server.port, 'big.bin', out);
    await waitFor(() => server.stats().sockets === 1 && (readIfAny(out)?.length ?? 0) > 0, 'transfer under way');
    c.child.kill('SIGKILL');
    await c.done;
    await waitFor(() => server.stats().active === 0, 'transfer dropped');
    expect(server.stats()).toMatchObject({ active: 0, sockets: 0, transfersFailed: 1, transfersOk: 0 });
    expect(logs.some((l) => l.msg === 'tftp transfer failed' && l.fields['reason'] === 'timeout')).toBe(true);
    const next = local('after-kill');
    expect((await atftpGet(server.port, 'small.cfg', next).done).code).toBe(0);
    expect(readIfAny(next)?.equals(files.get('small.cfg')!)).toBe(true);
  });

  it('refuses WRQ (atftp --put) with an access violation and stores nothing', async () => {
    const { server, requests } = await start();
    const src = local('upload');
    fs.writeFileSync(src, 'evil');
    const r = await run('atftp', ['-p', '-l', src, '-r', 'upload.cfg', HOST, String(server.port)]).done;
    expect(r.code).not.toBe(0);
    expect(requests).toEqual([]);
    const raw = await rawSocket();
    raw.sock.send(encodeTftpPacket({ op: 'wrq', filename: 'x.cfg', mode: 'octet', options: {} }), server.port, HOST);
    const reply = await raw.next();
    raw.close();
    expect(reply?.packet).toMatchObject({ op: 'error', code: 2, message: expect.stringMatching(/^write-refused/) });
  });

  it('refuses traversal spellings with ERROR 2 before resolve is called', async () => {
    const { server, requests } = await start();
    const raw = await rawSocket();
    for (const name of ['../etc/passwd', '..%2f..%2fetc%2fpasswd', '..\\..\\x', '//etc/passwd', 'a/../../b', '%2e%2e/x', 'C:/boot.ini']) {
      raw.sock.send(rrq(name), server.port, HOST);
      const reply = await raw.next();
      expect(reply?.packet, name).toMatchObject({ op: 'error', code: 2, message: expect.stringMatching(/^path-traversal/) });
    }
    expect(requests).toEqual([]);
    // `/etc/passwd` is a name relative to the served tree: resolve sees `etc/passwd` and has no such file.
    raw.sock.send(rrq('/etc/passwd'), server.port, HOST);
    expect((await raw.next())?.packet).toMatchObject({ op: 'error', code: 1 });
    expect(requests.map((r) => r.path)).toEqual(['etc/passwd']);
    raw.close();
    // And with a real client.
    const out = local('trav');
    const r = await atftpGet(server.port, '../etc/passwd', out).done;
    expect(r.code).not.toBe(0);
    expect(readIfAny(out)?.length ?? 0).toBe(0);
    expect(requests.length).toBe(1);
  });

  it('answers garbage on the listening port with ERROR 4 (or ignores it) and keeps serving', async () => {
    const { server } = await start();
    const raw = await rawSocket();
    const garbage = [
      Buffer.concat([Buffer.from([0xff, 0xfe]), randomBytes(62)]), // random bytes, no valid opcode
      Buffer.from('\x00\x01abc', 'latin1'), // truncated RRQ
      Buffer.from('\x00\x01abc\x00', 'latin1'), // RRQ without mode
      Buffer.from([0, 9, 0, 1]), // unknown opcode
      Buffer.from([0, 3, 0]), // truncated DATA
    ];
    for (const g of garbage) {
      if (g[0] === 0 && g[1] !== undefined && g[1] >= 1 && g[1] <= 6) {
        // Well-formed-looking junk: an ERROR reply is required.
        raw.sock.send(g, server.port, HOST);
        expect((await raw.next())?.packet, g.toString('hex')).toMatchObject({ op: 'error' });
      } else {
        raw.sock.send(g, server.port, HOST);
        const reply = await raw.next(500);
        if (reply) expect(reply.packet).toMatchObject({ op: 'error', code: 4 });
      }
    }
    raw.sock.send(Buffer.from([1]), server.port, HOST); // one byte: ignored
    raw.sock.send(encodeTftpPacket({ op: 'rrq', filename: 'small.cfg', mode: 'mail', options: {} }), server.port, HOST);
    expect((await raw.next())?.packet).toMatchObject({ op: 'error', code: 4 });
    raw.sock.send(encodeTftpPacket({ op: 'ack', block: 1 }), server.port, HOST);
    expect((await raw.next())?.packet).toMatchObject({ op: 'error', code: 5 });
    raw.close();
    const out = local('after-garbage');
    expect((await tftpHpaGet(server.port, 'small.cfg', out).done).code).toBe(0);
    expect(readIfAny(out)?.equals(files.get('small.cfg')!)).toBe(true);
  });

  it('answers a stranger on a transfer port with ERROR 5 without disturbing the transfer', async () => {
    const { server } = await start();
    const client = await rawSocket();
    const stranger = await rawSocket();
    client.sock.send(rrq('exact-1024.bin'), server.port, HOST);
    const first = await client.next();
    expect(first?.packet).toMatchObject({ op: 'data', block: 1 });
    const tid = first!.port;
    expect(tid).not.toBe(server.port);
    stranger.sock.send(encodeTftpPacket({ op: 'ack', block: 1 }), tid, HOST);
    expect((await stranger.next())?.packet).toMatchObject({ op: 'error', code: 5 });
    const got: Buffer[] = [first!.packet.op === 'data' ? first!.packet.data : Buffer.alloc(0)];
    let block = 1;
    for (;;) {
      client.sock.send(encodeTftpPacket({ op: 'ack', block }), tid, HOST);
      const n = await client.next();
      if (!n) break;
      expect(n.port).toBe(tid);
      if (n.packet.op !== 'data') throw new Error(`unexpected ${n.packet.op}`);
      // Duplicate ACKs are not answered: only new blocks arrive.
      expect(n.packet.block).toBe(block + 1);
      got.push(n.packet.data);
      block = n.packet.block;
      if (n.packet.data.length < 512) {
        client.sock.send(encodeTftpPacket({ op: 'ack', block }), tid, HOST);
        break;
      }
    }
    expect(Buffer.concat(got).equals(files.get('exact-1024.bin')!)).toBe(true);
    expect(block).toBe(3);
    await waitFor(() => server.stats().transfersOk === 1, 'transfer done');
    client.close();
    stranger.close();
  });

  it('answers a repeated request with the OACK again, and never resends the OACK on its own timer', async () => {
    const { server } = await start({ timeoutMs: 100 });
    const client = await rawSocket();
    client.sock.send(rrq('exact-1024.bin', { blksize: '1000' }), server.port, HOST);
    const oack = await client.next();
    expect(oack?.packet).toEqual({ op: 'oack', options: { blksize: '1000' } });
    // Silence well past the 100 ms timer: no second OACK (atftp aborts on one when its ACK 0 was lost).
    expect(await client.next(400)).toBeNull();
    // The same client TID repeats its request (its OACK was lost): the transfer answers, from its own port.
    client.sock.send(rrq('exact-1024.bin', { blksize: '1000' }), server.port, HOST);
    const again = await client.next();
    expect(again).toEqual({ packet: { op: 'oack', options: { blksize: '1000' } }, port: oack!.port });
    client.sock.send(encodeTftpPacket({ op: 'ack', block: 0 }), oack!.port, HOST);
    expect((await client.next())?.packet).toMatchObject({ op: 'data', block: 1 });
    client.sock.send(encodeTftpPacket({ op: 'ack', block: 1 }), oack!.port, HOST);
    expect((await client.next())?.packet).toMatchObject({ op: 'data', block: 2 });
    client.sock.send(encodeTftpPacket({ op: 'ack', block: 2 }), oack!.port, HOST);
    await waitFor(() => server.stats().transfersOk === 1, 'transfer done');
    expect(server.stats()).toMatchObject({ transfersOk: 1, resent: 1, refused: 0 });
    client.close();
  });

  it('maps a throwing resolver to ERROR 0 without leaking its message', async () => {
    const { server } = await start();
    const raw = await rawSocket();
    raw.sock.send(rrq('throws.cfg'), server.port, HOST);
    const reply = await raw.next();
    raw.close();
    expect(reply?.packet).toMatchObject({ op: 'error', code: 0, message: expect.stringMatching(/^internal: /) });
    expect(JSON.stringify(reply)).not.toContain('boom');
  });

  it('limits concurrent transfers per source', async () => {
    const { server } = await start({ maxPerSource: 1, timeoutMs: 5000 });
    const a = await rawSocket();
    const b = await rawSocket();
    a.sock.send(rrq('exact-1024.bin'), server.port, HOST);
    expect((await a.next())?.packet).toMatchObject({ op: 'data', block: 1 });
    b.sock.send(rrq('exact-1024.bin'), server.port, HOST);
    expect((await b.next())?.packet).toMatchObject({ op: 'error', code: 0, message: 'busy: too many transfers in progress from this address' });
    // A repeated RRQ from the same client TID is not a second transfer.
    a.sock.send(rrq('exact-1024.bin'), server.port, HOST);
    expect(await a.next(300)).toBeNull();
    expect(server.stats().active).toBe(1);
    a.close();
    b.close();
  });

  it('limits concurrent transfers overall', async () => {
    const { server } = await start({ maxTransfers: 1, timeoutMs: 5000 });
    const a = await rawSocket();
    const b = await rawSocket();
    a.sock.send(rrq('exact-1024.bin'), server.port, HOST);
    expect((await a.next())?.packet).toMatchObject({ op: 'data', block: 1 });
    b.sock.send(rrq('small.cfg'), server.port, HOST);
    // Same address as the only transfer: nothing fair to evict.
    expect((await b.next())?.packet).toMatchObject({ op: 'error', code: 0, message: 'busy: server busy, retry' });
    a.close();
    b.close();
  });

  it('close() ends running transfers and frees every socket', async () => {
    const { server } = await start({ timeoutMs: 5000 });
    const a = await rawSocket();
    a.sock.send(rrq('one-mib.bin'), server.port, HOST);
    expect((await a.next())?.packet).toMatchObject({ op: 'data', block: 1 });
    expect(server.stats().sockets).toBe(1);
    await server.close();
    servers.delete(server);
    expect(server.stats()).toMatchObject({ sockets: 0, active: 0, transfersFailed: 1 });
    a.close();
  });

  it('reports a taken port as port-in-use', async () => {
    const { server } = await start();
    await expect(startTftpServer({ host: HOST, port: server.port, resolve: async () => ({ data: Buffer.alloc(0) }) })).rejects.toMatchObject({
      code: 'port-in-use',
    });
  });
});
