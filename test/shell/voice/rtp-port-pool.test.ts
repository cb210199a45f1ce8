import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import { type RtpPortLease, RtpPortPool } from '../../../agent/shell/voice/rtp-port-pool.js';

const HOST = '127.0.0.1';

async function bindOn(port: number): Promise<dgram.Socket | null> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => {
      s.close();
      resolve(null);
    });
    s.bind({ port, address: HOST, exclusive: true }, () => resolve(s));
  });
}

/** An even base port such that `count` even ports from it are free right now. */
async function freeEvenRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + 2 * Math.floor(Math.random() * 15000);
    const held: dgram.Socket[] = [];
    for (let i = 0; i < count; i++) {
      const s = await bindOn(base + 2 * i);
      if (!s) break;
      held.push(s);
    }
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (held.length === count) return base;
  }
  throw new Error('no free port range');
}

const leases: RtpPortLease[] = [];
const others: dgram.Socket[] = [];
afterEach(() => {
  for (const l of leases.splice(0)) l.release();
  for (const s of others.splice(0)) s.close();
});

async function take(pool: RtpPortPool): Promise<RtpPortLease> {
  const l = await pool.allocate();
  leases.push(l);
  return l;
}

describe('RTP port pool', () => {
  it('hands out even ports of the range, each a bound socket that receives', async () => {
    const base = await freeEvenRange(3);
    const pool = new RtpPortPool({ address: HOST, min: base - 1, max: base + 4 }); // odd min rounds up to base
    expect(pool.min).toBe(base);
    const a = await take(pool);
    const b = await take(pool);
    expect([a.port, b.port]).toEqual([base, base + 2]);
    expect(a.socket.address()).toMatchObject({ address: HOST, port: base });
    expect(pool.inUse).toBe(2);
    const got = new Promise<string>((r) => b.socket.once('message', (m) => r(m.toString())));
    const probe = dgram.createSocket('udp4');
    others.push(probe);
    probe.send('hello', b.port, HOST);
    expect(await got).toBe('hello');
  });

  it('skips a port another process holds', async () => {
    const base = await freeEvenRange(3);
    const squatter = await bindOn(base);
    if (squatter) others.push(squatter);
    const pool = new RtpPortPool({ address: HOST, min: base, max: base + 4 });
    expect((await take(pool)).port).toBe(base + 2);
    expect(pool.inUse).toBe(1);
  });

  it('throws busy when the range is exhausted, and recovers when a port is released', async () => {
    const base = await freeEvenRange(2);
    const pool = new RtpPortPool({ address: HOST, min: base, max: base + 3 });
    const a = await take(pool);
    await take(pool);
    const err = await pool.allocate().catch((e: unknown) => e);
    expect(isHotdeskError(err, 'busy')).toBe(true);
    a.release();
    a.release(); // idempotent
    expect(pool.inUse).toBe(1);
    expect((await take(pool)).port).toBe(a.port);
  });

  it('reuses a released port last (rotating cursor), and frees it for other processes', async () => {
    const base = await freeEvenRange(3);
    const pool = new RtpPortPool({ address: HOST, min: base, max: base + 4 });
    const a = await take(pool);
    a.release();
    expect((await take(pool)).port).toBe(base + 2);
    expect((await take(pool)).port).toBe(base + 4);
    expect((await take(pool)).port).toBe(base);
    const leasesBefore = leases.splice(0);
    for (const l of leasesBefore) l.release();
    const again = await bindOn(base + 2);
    expect(again).not.toBeNull();
    if (again) others.push(again);
  });

  it('gives concurrent callers distinct ports', async () => {
    const base = await freeEvenRange(4);
    const pool = new RtpPortPool({ address: HOST, min: base, max: base + 6 });
    const got = await Promise.all([take(pool), take(pool), take(pool), take(pool)]);
    expect(got.map((l) => l.port).sort()).toEqual([base, base + 2, base + 4, base + 6]);
  });

  it('refuses a range without an even port', () => {
    for (const [min, max] of [
      [5001, 5001],
      [6000, 5000],
      [0, 10],
      [65535, 65535],
      [1.5, 10],
    ] as const) {
      expect(() => new RtpPortPool({ min, max }), `${min}-${max}`).toThrow(expect.objectContaining({ code: 'bad-request' }));
    }
  });
});
