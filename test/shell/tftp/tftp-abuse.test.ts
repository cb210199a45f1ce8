/**
 * The TFTP server under slot-exhaustion abuse, on loopback with real sockets:
 * read requests that are never acknowledged, sent from many 127.0.0.x
 * addresses, must not lock a phone out. Covers the per-address cap, fair
 * eviction when the table is full, the first-ACK deadline (with an injected
 * clock) and the `busy` texts; the phone is a real client (tftp-hpa, atftp).
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { HotdeskError } from '../../../agent/core/errors.js';
import { encodeTftpPacket } from '../../../agent/protocols/tftp-packet.js';
import { startTftpServer, type TftpServer, type TftpServerLimits } from '../../../agent/shell/tftp/tftp-server.js';
import { atftpGet, killChildren, removeTempDirs, tempDir, tftpHpaGet, written } from '../../e2e/provisioning-kit.js';
import { loopbackAddresses, rawTftpClient, rrq, stalledRequests, type RawTftpClient } from '../../helpers/tftp-raw-client.js';

const BOOT = randomBytes(3000);
const BIG = randomBytes(256 * 1024);
const SOURCE_BUSY = 'busy: too many transfers in progress from this address';
const SERVER_BUSY = 'busy: server busy, retry';

const servers: TftpServer[] = [];
const clients: RawTftpClient[] = [];
afterEach(async () => {
  killChildren();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  removeTempDirs();
});

interface Started {
  server: TftpServer;
  logs: { msg: string; fields: Readonly<Record<string, unknown>> }[];
}

async function start(limits: TftpServerLimits = {}, clock?: () => number): Promise<Started> {
  const logs: Started['logs'] = [];
  const server = await startTftpServer({
    host: '127.0.0.1',
    port: 0,
    limits,
    ...(clock ? { clock } : {}),
    log: (_level, msg, fields) => logs.push({ msg, fields }),
    resolve: async (req) => {
      if (req.path === 'boot.cfg') return { data: BOOT };
      if (req.path === 'big.bin') return { data: BIG };
      return { error: new HotdeskError('unknown-file') };
    },
  });
  servers.push(server);
  return { server, logs };
}

async function client(address: string): Promise<RawTftpClient> {
  const c = await rawTftpClient(address);
  clients.push(c);
  return c;
}

async function waitFor(cond: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const firstReply = (c: RawTftpClient) => c.received[0]?.packet;

/** The attack, then a real phone from 127.0.0.1 fetching its boot file with tftp-hpa and atftp (blksize/tsize). */
async function attackThenBoot(server: TftpServer): Promise<RawTftpClient[]> {
  const stalled = await stalledRequests(server.port, 'boot.cfg', loopbackAddresses(2, 26), 10);
  clients.push(...stalled);
  expect(stalled).toHaveLength(260);
  expect(stalled.every((c) => c.received.length > 0)).toBe(true);
  const dir = tempDir('hotdesk-tftp-abuse-');
  const hpa = path.join(dir, 'boot.hpa');
  await tftpHpaGet(server.port, 'boot.cfg', hpa);
  expect(written(hpa)?.equals(BOOT)).toBe(true);
  const at = path.join(dir, 'boot.atftp');
  expect((await atftpGet(server.port, 'boot.cfg', at, ['blksize 1428', 'tsize 0'])).code).toBe(0);
  expect(written(at)?.equals(BOOT)).toBe(true);
  return stalled;
}

describe('tftp server under slot exhaustion', () => {
  it('260 never-acknowledged requests from 26 addresses: each address gets 4 slots, the rest a true busy text, and a fresh phone boots', async () => {
    const { server } = await start(); // default limits: 256 slots, 4 per address
    const stalled = await attackThenBoot(server);
    for (const a of loopbackAddresses(2, 26)) {
      const mine = stalled.filter((c) => c.address === a);
      expect(
        mine.filter((c) => firstReply(c)?.op === 'data'),
        a,
      ).toHaveLength(4);
      for (const c of mine.filter((x) => firstReply(x)?.op !== 'data')) expect(firstReply(c), a).toMatchObject({ op: 'error', code: 0, message: SOURCE_BUSY });
    }
    const text = JSON.stringify(stalled.map((c) => c.received));
    expect(text).not.toContain('rate-limited');
    expect(server.stats()).toMatchObject({ refusedBusy: 156, evicted: 0, transfersOk: 2 });
    expect(server.stats().sources).toBeLessThanOrEqual(26);
  });

  it('with a per-address cap raised for NAT (10), the full table still gives the fresh phone a slot by eviction', async () => {
    const { server } = await start({ maxPerSource: 10 });
    const stalled = await attackThenBoot(server);
    const stats = server.stats();
    // The table fills at 256: the last four attack requests (their address holds fewer than the
    // busiest) and the phone's requests each evicted a never-started transfer.
    expect(stats.evicted).toBeGreaterThanOrEqual(4);
    expect(stats.transfersOk).toBe(2);
    expect(stats.active).toBeLessThanOrEqual(256);
    expect(stats.sources).toBeLessThanOrEqual(27);
    const told = stalled.filter((c) => c.received.some((r) => r.packet.op === 'error' && r.packet.message === SERVER_BUSY));
    expect(told.length).toBe(stats.evicted);
  });

  it('refuses the fifth concurrent request from one address with the per-address text; another address is still served', async () => {
    const { server } = await start({ timeoutMs: 5000 });
    const same = await Promise.all([1, 2, 3, 4, 5].map(() => client('127.0.0.2')));
    for (const c of same) {
      c.send(rrq('big.bin'), server.port);
      await c.next();
    }
    expect(same.slice(0, 4).map((c) => firstReply(c)?.op)).toEqual(['data', 'data', 'data', 'data']);
    expect(firstReply(same[4]!)).toMatchObject({ op: 'error', code: 0, message: SOURCE_BUSY });
    const other = await client('127.0.0.3');
    other.send(rrq('big.bin'), server.port);
    expect((await other.next())?.packet).toMatchObject({ op: 'data', block: 1 });
    expect(server.stats()).toMatchObject({ active: 5, sources: 2, refusedBusy: 1 });
  });

  it('a full table: a new address evicts the oldest never-started transfer of the busiest address, never a started one', async () => {
    const { server, logs } = await start({ maxTransfers: 3, maxPerSource: 3, timeoutMs: 5000 });
    const started = await client('127.0.0.2');
    started.send(rrq('big.bin'), server.port);
    const d1 = await started.next();
    expect(d1?.packet).toMatchObject({ op: 'data', block: 1 });
    started.send(encodeTftpPacket({ op: 'ack', block: 1 }), d1!.port);
    expect((await started.next())?.packet).toMatchObject({ op: 'data', block: 2 });
    const [old, young] = [await client('127.0.0.2'), await client('127.0.0.2')];
    for (const c of [old, young]) {
      c.send(rrq('big.bin'), server.port);
      expect((await c.next())?.packet).toMatchObject({ op: 'data', block: 1 });
    }

    const newcomer = await client('127.0.0.3');
    newcomer.send(rrq('boot.cfg'), server.port);
    expect((await newcomer.next())?.packet).toMatchObject({ op: 'data', block: 1 });
    expect((await old.next())?.packet).toMatchObject({ op: 'error', code: 0, message: SERVER_BUSY });
    expect(server.stats()).toMatchObject({ active: 3, evicted: 1 });
    expect(logs.some((l) => l.msg === 'tftp transfer failed' && l.fields['reason'] === 'evicted')).toBe(true);
    // The started transfer carries on.
    started.send(encodeTftpPacket({ op: 'ack', block: 2 }), d1!.port);
    expect((await started.next())?.packet).toMatchObject({ op: 'data', block: 3 });
    // 127.0.0.2 now holds 2 slots and 127.0.0.3 one: a third from 127.0.0.2 finds nothing fair to evict.
    const greedy = await client('127.0.0.2');
    greedy.send(rrq('boot.cfg'), server.port);
    expect((await greedy.next())?.packet).toMatchObject({ op: 'error', code: 0, message: SERVER_BUSY });
    expect(young.received.some((r) => r.packet.op === 'error')).toBe(false);
    expect(server.stats()).toMatchObject({ active: 3, evicted: 1, sources: 2 });
  });

  it('drops a transfer whose client never acknowledged once the injected clock passes the first-ACK deadline; a started one keeps retrying', async () => {
    let skew = 0;
    const clock = (): number => Date.now() + skew;
    const { server, logs } = await start({ timeoutMs: 100, maxTimeoutMs: 200, maxRetries: 1000, firstAckTimeoutMs: 60_000 }, clock);
    const silent = await client('127.0.0.2');
    silent.send(rrq('big.bin'), server.port);
    expect((await silent.next())?.packet).toMatchObject({ op: 'data', block: 1 });
    const live = await client('127.0.0.3');
    live.send(rrq('big.bin'), server.port);
    const d1 = await live.next();
    live.send(encodeTftpPacket({ op: 'ack', block: 1 }), d1!.port);
    await waitFor(() => live.received.some((r) => r.packet.op === 'data' && r.packet.block === 2), 'DATA 2');
    // Far below the in-progress budget (1000 retries), both are still there.
    await waitFor(() => silent.received.length >= 3, 'resends to the silent client');
    expect(server.stats()).toMatchObject({ active: 2, transfersFailed: 0 });

    skew = 61_000;
    await waitFor(() => server.stats().transfersFailed === 1, 'the never-started transfer dropped');
    expect(logs.find((l) => l.msg === 'tftp transfer failed')?.fields).toMatchObject({
      reason: 'no first ack',
      remote: expect.stringMatching(/^127\.0\.0\.2:/),
    });
    expect(server.stats()).toMatchObject({ active: 1, sockets: 1, sources: 1 });
    const before = live.received.length;
    await waitFor(() => live.received.length > before, 'the started transfer still resending');
    live.send(encodeTftpPacket({ op: 'ack', block: 2 }), d1!.port);
    await waitFor(() => live.received.some((r) => r.packet.op === 'data' && r.packet.block === 3), 'DATA 3');
  });
});
