import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteStore } from '../../../agent/store/sqlite-store.js';
import { openStore, type Store } from '../../../agent/store/store.js';
import { syncStoreAdapter } from '../../../agent/shell/sync/store-adapters.js';
import { demoDataDir } from '../../helpers/agent-harness.js';

const opened: Array<{ store: Store; dir: string }> = [];
afterEach(() => {
  for (const o of opened.splice(0)) {
    o.store.close();
    fs.rmSync(o.dir, { recursive: true, force: true });
  }
});

async function demoStore(): Promise<Store> {
  const dir = await demoDataDir();
  const store = openStore(dir);
  opened.push({ store, dir });
  return store;
}

describe('syncStoreAdapter', () => {
  it('offers fresh requests before retries, skips phones in flight, and respects the limit', async () => {
    const s = await demoStore();
    const macs = ['001565aabb01', '000413aabb02', '0004f2aabb03'];
    for (const mac of macs) s.recordFetch(mac, { ip: '127.0.0.1', file: 'x', authenticated: true, now: 1 });
    for (const mac of macs) s.bumpRevision(mac, 10);
    // two phones already had attempts (retries of silent phones)
    s.markSyncAttempt('001565aabb01', { now: 10, nextAt: 10 });
    s.markSyncAttempt('001565aabb01', { now: 10, nextAt: 10 });
    s.markSyncAttempt('000413aabb02', { now: 10, nextAt: 10 });
    const a = syncStoreAdapter(sqliteStore(s));
    expect((await a.pendingSyncs(20, 1, new Set())).map((p) => p.mac)).toEqual(['0004f2aabb03']);
    expect((await a.pendingSyncs(20, 3, new Set())).map((p) => p.mac)).toEqual(['0004f2aabb03', '000413aabb02', '001565aabb01']);
    expect((await a.pendingSyncs(20, 3, new Set(['0004f2aabb03']))).map((p) => p.mac)).toEqual(['000413aabb02', '001565aabb01']);
  });

  it("addresses the NOTIFY to the logged-in user's line with its credentials, else the MAC", async () => {
    const s = await demoStore();
    s.recordFetch('001565aabb01', { ip: '127.0.0.1', file: 'x', authenticated: true, now: 1 });
    s.bumpRevision('001565aabb01', 10);
    const a = syncStoreAdapter(sqliteStore(s));
    expect((await a.pendingSyncs(20, 5, new Set()))[0]).toMatchObject({ requestUser: '001565aabb01', notifyIp: '127.0.0.1' });
    s.startSession({ phoneMac: '001565aabb01', userExt: '001', startedAt: 5 }, true);
    const p = (await a.pendingSyncs(20, 5, new Set()))[0]!;
    const user = s.getUser('001')!;
    expect(p.requestUser).toBe(user.sip.user);
    expect(p.credentials).toEqual({ username: user.sip.authName, password: user.sip.password });
  });
});
