/**
 * Group commit (agent/shell/group-commit.ts) on a real store: dials queued together share one
 * transaction, each decided on the state the earlier ones left, answers come after the commit,
 * a failing dial rolls back alone, and a failed commit rolls back (and undoes) every dial.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { GroupCommit } from '../../agent/shell/group-commit.js';
import { HotdeskService } from '../../agent/shell/hotdesk-service.js';
import { sqliteStore } from '../../agent/store/sqlite-store.js';
import { DB_FILE } from '../../agent/store/store.js';
import { demoStore, SNOM, YEALINK } from '../store/helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function setup() {
  const d = await demoStore(1000);
  const other = new Database(join(d.dir, DB_FILE), { readonly: true });
  cleanups.push(() => {
    other.close();
    d.cleanup();
  });
  const turns: (() => void)[] = [];
  const group = new GroupCommit(sqliteStore(d.store), (fn) => void turns.push(fn));
  const service = new HotdeskService(sqliteStore(d.store), () => 2000);
  const committedSessions = (): string[] =>
    (other.prepare('SELECT phone_mac FROM sessions ORDER BY phone_mac').all() as { phone_mac: string }[]).map((r) => r.phone_mac);
  return { ...d, group, service, turns, committedSessions };
}

describe('group commit', () => {
  test('dials queued together commit once, each on the state of the earlier ones, answered after the commit', async () => {
    const { store, group, service, turns, committedSessions } = await setup();
    const commits: string[][] = [];
    store.onChange((macs) => commits.push([...macs]));
    let answered = 0;
    const count = <T>(o: T): T => {
      answered++;
      return o;
    };
    const a = group.run(() => service.dial(YEALINK, '*35*001*1234')).then(count);
    // The same user on another phone: under the demo's policy the second login moves them.
    const b = group.run(() => service.dial(SNOM, '*35*001*1234')).then(count);
    expect(turns).toHaveLength(1);
    await Promise.resolve();
    expect(answered).toBe(0);
    expect(committedSessions()).toEqual([]);
    turns[0]?.();
    const [oa, ob] = await Promise.all([a, b]);
    expect(answered).toBe(2);
    expect(oa.code).toBe('logged-in');
    expect(ob.code).toBe('logged-in');
    // `move`: the second login saw the first one's session and moved the user off YEALINK.
    expect(store.sessionsOfUser('001').map((s) => s.phoneMac)).toEqual([SNOM]);
    // One commit for both: the listeners heard every bumped phone at once.
    expect(commits).toHaveLength(1);
    expect(commits[0]).toEqual(expect.arrayContaining([YEALINK, SNOM]));
    expect(committedSessions()).toEqual([SNOM]);
  });

  test('a failing dial rolls back alone; the others commit', async () => {
    const { group, service, turns, committedSessions } = await setup();
    const bad = group.run(async () => {
      await service.dial(SNOM, '*35*001*1234');
      throw new Error('boom');
    });
    const good = group.run(() => service.dial(YEALINK, '*35*001*1234'));
    turns[0]?.();
    await expect(bad).rejects.toThrow('boom');
    expect((await good).code).toBe('logged-in');
    expect(committedSessions()).toEqual([YEALINK]);
  });

  test('a failed commit rejects every dial and undoes what each returned', async () => {
    const { store, group, service, turns, committedSessions } = await setup();
    const undone: string[] = [];
    const a = group.run(
      () => service.dial(YEALINK, '*35*001*1234'),
      (o) => undone.push(o.phone),
    );
    // Deferred foreign keys make the commit itself fail.
    const b = group.run(async () => {
      store.db.pragma('defer_foreign_keys = ON');
      store.db.prepare("INSERT INTO sessions (phone_mac, user_ext, started_at) VALUES ('ffffffffffff', '001', 1)").run();
      return 'orphan';
    });
    turns[0]?.();
    await expect(a).rejects.toThrow();
    await expect(b).rejects.toThrow();
    expect(undone).toEqual([YEALINK]);
    expect(committedSessions()).toEqual([]);
    expect(store.sessionOf(YEALINK)).toBeUndefined();
  });
});
