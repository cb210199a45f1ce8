/**
 * A 1 MiB firmware-sized transfer through 3 % packet loss (both directions,
 * seeded) with Debian's atftp against the TFTP server on its default timers:
 * the adaptive retransmission timeout repairs each loss with about one resend,
 * never a storm. No wall-clock assertion (timing is `make bench`'s business):
 * what is checked is delivery, byte for byte, and the server's own count of
 * datagrams it had to send again against the datagrams the relay dropped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HotdeskError } from '../../agent/core/errors.js';
import { startTftpServer, type TftpServer } from '../../agent/shell/tftp/tftp-server.js';
import { startLossyUdpRelay, type LossyRelay } from '../helpers/lossy-udp-relay.js';

const HOST = '127.0.0.1';
const firmware = randomBytes(1024 * 1024);
let tmp: string;
const children = new Set<ChildProcess>();
const closers: Array<{ close(): Promise<void> }> = [];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hotdesk-tftp-loss-'));
});
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  while (closers.length) await closers.pop()?.close();
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function serverBehindRelay(seed: number, dropRate: number): Promise<{ server: TftpServer; relay: LossyRelay }> {
  // Default limits: the timers under test are the product's own.
  const server = await startTftpServer({
    host: HOST,
    port: 0,
    resolve: async (req) => (req.path === 'firmware/fw.rom' ? { data: firmware } : { error: new HotdeskError('unknown-file') }),
  });
  closers.push(server);
  const relay = await startLossyUdpRelay({ target: { host: HOST, port: server.port }, dropRate, seed });
  closers.push(relay);
  return { server, relay };
}

function atftp(port: number, out: string, options: string[]): Promise<number | null> {
  // atftp's own resend timer is 1 s here: it resends its request when that is lost, and re-ACKs
  // after a second of silence (it answers repeated DATA with one extra ACK only).
  const child = spawn(
    'atftp',
    ['-g', '-r', 'firmware/fw.rom', '-l', out, ...options.flatMap((o) => ['--option', o]), '--tftp-timeout', '1', HOST, String(port)],
    { stdio: 'ignore' },
  );
  children.add(child);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
}

async function settled(server: TftpServer): Promise<void> {
  for (let i = 0; i < 500 && server.stats().transfersOk + server.stats().transfersFailed === 0; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('TFTP through 3 % packet loss with a real client (adaptive retransmission)', () => {
  it('atftp, blksize 1428: 1 MiB delivered byte-exact with about one resend per dropped datagram', async () => {
    const { server, relay } = await serverBehindRelay(3, 0.03);
    const out = path.join(tmp, 'lockstep.rom');
    expect(await atftp(relay.port, out, ['blksize 1428'])).toBe(0);
    expect(fs.readFileSync(out).equals(firmware)).toBe(true);
    await settled(server);
    const stats = server.stats();
    const dropped = relay.stats().dropped;
    expect(stats).toMatchObject({ transfersOk: 1, transfersFailed: 0 });
    // 735 blocks and as many ACKs through 3 % loss: a few dozen datagrams dropped.
    expect(dropped).toBeGreaterThan(20);
    // Lock-step: a lost DATA or ACK costs one resend; a lost resend one more. A server that
    // answered duplicate ACKs (or whose timer fired far too early) would resend hundreds.
    expect(stats.resent).toBeGreaterThan(0);
    expect(stats.resent).toBeLessThanOrEqual(2 * dropped);
    expect(stats.bytesSent - stats.bytesOk).toBeLessThanOrEqual(stats.resent * 1428);
  }, 120_000);

  it('atftp, blksize 1428 + windowsize 8: delivered byte-exact, each loss resends at most one window', async () => {
    const { server, relay } = await serverBehindRelay(7, 0.03);
    const out = path.join(tmp, 'window.rom');
    expect(await atftp(relay.port, out, ['blksize 1428', 'windowsize 8'])).toBe(0);
    expect(fs.readFileSync(out).equals(firmware)).toBe(true);
    await settled(server);
    const stats = server.stats();
    const dropped = relay.stats().dropped;
    expect(stats).toMatchObject({ transfersOk: 1, transfersFailed: 0 });
    expect(dropped).toBeGreaterThan(5);
    // Resends start at the first unacknowledged block: at most a window (8) per loss.
    expect(stats.resent).toBeGreaterThan(0);
    expect(stats.resent).toBeLessThanOrEqual(8 * dropped);
  }, 120_000);
});
