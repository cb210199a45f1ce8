/**
 * Re-sync claims of several agents sharing one PostgreSQL database (pg-sync-queries.ts): concurrent
 * claims get disjoint phones, an abandoned claim is taken over after its lease, a pool claims only the
 * phones its LAN served, and a revision bump notifies `hotdesk_sync` at commit, never before.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { appendAudit, queryAudit } from '../../../agent/store/postgres/pg-audit-queries.js';
import { PgConnection } from '../../../agent/store/postgres/pg-db.js';
import { applyPgMigrations } from '../../../agent/store/postgres/pg-migrations.js';
import { bumpRevision, claimPendingSyncs, markSyncAttempt, recordFetch } from '../../../agent/store/postgres/pg-sync-queries.js';
import { type PgCluster, postgresUnavailable, startPostgres } from '../../helpers/postgres.js';

const why = postgresUnavailable();
if (why !== undefined) console.warn(`skipping PostgreSQL sync-claim tests: ${why}`);

const T0 = 1_700_000_000_000;
const LEASE = 30_000;
const noop = (): void => {};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The MAC of test phone `i`. */
const macOf = (i: number): string => `0015650000${i.toString(16).padStart(2, '0')}`;

/** A phone row with just its required columns (the directory queries are not under test here). */
async function insertPhone(db: PgConnection, mac: string): Promise<void> {
  await db.run(
    `INSERT INTO phones (mac, vendor, model, label, hotdesk, enrolled_via, created_at, prov_username, prov_password_enc, screen_token)
       VALUES ($1, 'yealink', 'T54W', $1, 0, 'directory', $2, $3, 'sealed', $4)`,
    [mac, T0, `prov-${mac}`, `token-${mac}`],
  );
}

/** A phone whose secret file an agent of `pool` served (authenticated), then re-provisioned: due at T0. */
async function pendingPhone(db: PgConnection, mac: string, pool: string): Promise<void> {
  await insertPhone(db, mac);
  await recordFetch(db, mac, { ip: '10.0.0.9', file: `${mac}.cfg`, authenticated: true, now: T0 - 1_000 }, pool);
  await bumpRevision(db, mac, T0, noop);
}

const claimedBy = async (db: PgConnection, mac: string): Promise<string | null> =>
  (await db.one<{ by: string | null }>('SELECT sync_claimed_by AS by FROM phones WHERE mac = $1', [mac]))?.by ?? null;

describe.skipIf(why !== undefined)('sync claims of several agents', () => {
  let cluster: PgCluster;
  let a: PgConnection;
  let b: PgConnection;
  let url: string;

  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  beforeEach(async () => {
    url = await cluster.createDatabase('claims');
    a = new PgConnection({ url, agentId: 'agent-a' });
    b = new PgConnection({ url, agentId: 'agent-b' });
    await applyPgMigrations(a, T0);
  });
  afterEach(async () => {
    await a?.close();
    await b?.close();
  });

  test('agents claiming at once get disjoint sets that cover every due phone', async () => {
    const macs = Array.from({ length: 60 }, (_, i) => macOf(i));
    for (const mac of macs) await pendingPhone(a, mac, 'lan1');
    // four claims at once, two per agent, more room than phones: each phone goes to exactly one
    const claims = await Promise.all(
      [a, b, a, b].map((db) => claimPendingSyncs(db, { now: T0, limit: 20, pool: 'lan1', leaseMs: LEASE }).then((got) => ({ db, got }))),
    );
    const all = claims.flatMap((c) => c.got.map((p) => p.mac));
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBeLessThanOrEqual(macs.length);
    // a phone a concurrent claim skipped was claimed by the other; whatever is left is claimed next
    const rest = await claimPendingSyncs(a, { now: T0, limit: 100, pool: 'lan1', leaseMs: LEASE });
    expect([...all, ...rest.map((p) => p.mac)].sort()).toEqual(macs);
    for (const { db, got } of claims) {
      for (const p of got) expect(await claimedBy(db, p.mac)).toBe(db.agentId);
    }
    // claimed phones are not due again before the lease ends
    expect(await claimPendingSyncs(b, { now: T0 + LEASE - 1, limit: 100, pool: 'lan1', leaseMs: LEASE })).toEqual([]);
  });

  test('a claim returns pending syncs in pendingSyncs order with their details', async () => {
    for (const i of [3, 1, 2]) await pendingPhone(a, macOf(i), 'lan1');
    await a.run('UPDATE phones SET sync_attempts = 1 WHERE mac = $1', [macOf(1)]);
    const got = await claimPendingSyncs(a, { now: T0, limit: 10, pool: 'lan1', leaseMs: LEASE });
    expect(got.map((p) => p.mac)).toEqual([macOf(2), macOf(3), macOf(1)]);
    expect(got[0]).toEqual({ mac: macOf(2), vendor: 'yealink', model: 'T54W', ip: '10.0.0.9', sipPort: 5060, revision: 2, requestedAt: T0, attempts: 0 });
    // only the named phones when `macs` is given (any notation)
    await bumpRevision(a, macOf(2), T0, noop);
    await bumpRevision(a, macOf(3), T0, noop);
    const only = await claimPendingSyncs(b, { now: T0, limit: 10, pool: 'lan1', leaseMs: LEASE, macs: ['00:15:65:00:00:03', 'not a mac'] });
    expect(only.map((p) => p.mac)).toEqual([macOf(3)]);
  });

  test('a claim not followed by markSyncAttempt is taken over by another agent after the lease', async () => {
    const [m1, m2] = [macOf(1), macOf(2)];
    await pendingPhone(a, m1, 'lan1');
    await pendingPhone(a, m2, 'lan1');
    const first = await claimPendingSyncs(a, { now: T0, limit: 10, pool: 'lan1', leaseMs: LEASE });
    expect(first.map((p) => p.mac)).toEqual([m1, m2]);
    // agent a sends m2's NOTIFY and schedules the retry well after the lease; it dies before doing m1
    await markSyncAttempt(a, m2, { now: T0, nextAt: T0 + 5 * LEASE });
    expect(await claimPendingSyncs(b, { now: T0 + LEASE - 1, limit: 10, pool: 'lan1', leaseMs: LEASE })).toEqual([]);
    const takeover = await claimPendingSyncs(b, { now: T0 + LEASE, limit: 10, pool: 'lan1', leaseMs: LEASE });
    expect(takeover.map((p) => ({ mac: p.mac, attempts: p.attempts }))).toEqual([{ mac: m1, attempts: 0 }]);
    expect(await claimedBy(b, m1)).toBe('agent-b');
    // a bump releases the claim and makes the phone due at once for either agent
    await bumpRevision(b, m1, T0 + LEASE + 10, noop);
    expect(await claimedBy(a, m1)).toBeNull();
    expect((await claimPendingSyncs(a, { now: T0 + LEASE + 10, limit: 10, pool: 'lan1', leaseMs: LEASE })).map((p) => p.mac)).toEqual([m1]);
  });

  test('pending phones another pool served are left to that pool; phones no pool served yet go to any', async () => {
    await pendingPhone(a, macOf(1), 'lan1');
    await pendingPhone(a, macOf(2), 'lan2');
    await pendingPhone(a, macOf(3), 'lan2');
    await insertPhone(a, macOf(4));
    await a.run("UPDATE phones SET notify_ip = '10.0.0.4' WHERE mac = $1", [macOf(4)]);
    await bumpRevision(a, macOf(4), T0, noop);
    const lan1 = await claimPendingSyncs(a, { now: T0, limit: 10, pool: 'lan1', leaseMs: LEASE });
    expect(lan1.map((p) => p.mac)).toEqual([macOf(1), macOf(4)]);
    const lan2 = await claimPendingSyncs(b, { now: T0, limit: 10, pool: 'lan2', leaseMs: LEASE });
    expect(lan2.map((p) => p.mac)).toEqual([macOf(2), macOf(3)]);
    // an authenticated fetch served by lan1 moves the phone to lan1
    await recordFetch(b, macOf(2), { ip: '10.0.0.2', file: 'x.cfg', authenticated: true, now: T0 }, 'lan1');
    await recordFetch(b, macOf(3), { ip: '10.0.0.3', file: 'x.cfg', authenticated: false, now: T0 }, 'lan1');
    expect(await a.query('SELECT mac, served_pool, notify_ip FROM phones WHERE mac IN ($1, $2) ORDER BY mac', [macOf(2), macOf(3)])).toEqual([
      { mac: macOf(2), served_pool: 'lan1', notify_ip: '10.0.0.2' },
      { mac: macOf(3), served_pool: 'lan2', notify_ip: '10.0.0.9' },
    ]);
  });

  test('a revision bump notifies hotdesk_sync at commit, never before and never on rollback', async () => {
    const mac = macOf(7);
    await insertPhone(a, mac);
    const heard: string[] = [];
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    try {
      listener.on('notification', (n) => {
        if (n.channel === 'hotdesk_sync') heard.push(n.payload ?? '');
      });
      await listener.query('LISTEN hotdesk_sync');
      const changed: string[] = [];
      await a.transaction(async () => {
        expect(await bumpRevision(a, mac.toUpperCase(), T0, (m) => changed.push(m))).toBe(2);
        await sleep(200);
        expect(heard).toEqual([]); // not yet committed
      });
      expect(changed).toEqual([mac]);
      for (let i = 0; i < 100 && heard.length === 0; i++) await sleep(20);
      expect(heard).toEqual([mac]);
      // rolled back: nobody hears
      await expect(
        a.transaction(async () => {
          await bumpRevision(a, mac, T0, noop);
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      await bumpRevision(b, macOf(7), T0 + 1, noop); // outside a transaction: delivered at once
      for (let i = 0; i < 100 && heard.length < 2; i++) await sleep(20);
      expect(heard).toEqual([mac, mac]);
      expect((await a.one<{ revision: number }>('SELECT revision FROM phones WHERE mac = $1', [mac]))?.revision).toBe(3);
    } finally {
      await listener.end();
    }
  });

  test('audit rows name the agent that wrote them and wake hotdesk_audit listeners', async () => {
    const mac = macOf(8);
    await pendingPhone(a, mac, 'lan1');
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    let woken = 0;
    try {
      listener.on('notification', (n) => {
        if (n.channel === 'hotdesk_audit') woken++;
      });
      await listener.query('LISTEN hotdesk_audit');
      const r = await recordFetch(b, mac, { ip: '10.0.0.8', file: `${mac}.cfg`, revision: 2, authenticated: true, now: T0 + 500 }, 'lan1');
      expect(r).toEqual({ confirmed: true, elapsedMs: 500 });
      await appendAudit(a, { kind: 'sync-sent', at: T0 + 600, phone: mac });
      for (let i = 0; i < 100 && woken < 2; i++) await sleep(20);
      expect(woken).toBe(2);
    } finally {
      await listener.end();
    }
    expect(await queryAudit(a, { phone: mac })).toEqual([
      { id: 1, at: T0 + 500, kind: 'sync-confirmed', phone: mac, detail: { revision: 2, elapsedMs: 500, attempts: 0 }, agent: 'agent-b' },
      { id: 2, at: T0 + 600, kind: 'sync-sent', phone: mac, agent: 'agent-a' },
    ]);
  });
});
