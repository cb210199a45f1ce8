import { afterEach, describe, expect, test } from 'vitest';
import { decide } from '../../agent/core/hotdesk-machine.js';
import { DEFAULT_PIN_LOCKOUT, recentFailures } from '../../agent/core/pin-guard.js';
import type { DeskDecision } from '../../agent/core/model.js';
import { importDirectory } from '../../agent/directory/import-directory.js';
import { parseDirectory } from '../../agent/directory/parse-directory.js';
import { HotdeskService, type DecideFn } from '../../agent/shell/hotdesk-service.js';
import { sqliteStore } from '../../agent/store/sqlite-store.js';
import { openStore, type Store } from '../../agent/store/store.js';
import { demoStore, demoText, LIFT, POLY, SNOM, YEALINK } from '../store/helpers.js';

const T0 = Date.UTC(2025, 0, 6, 8, 0); // Monday 09:00 Berlin
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function setup(text?: string) {
  const d = await demoStore(T0 - 1000);
  cleanups.push(d.cleanup);
  if (text !== undefined) await importDirectory(sqliteStore(d.store), parseDirectory(text, 'x.yaml'), T0 - 500);
  let now = T0;
  const clock = { set: (t: number) => (now = t), advance: (ms: number) => (now += ms) };
  const service = new HotdeskService(sqliteStore(d.store), () => now);
  const heard: string[][] = [];
  d.store.onChange((m) => heard.push([...m]));
  return { ...d, service, clock, heard, rev: (mac: string) => d.store.phoneRuntime(mac)?.revision };
}

const auditKinds = (store: Store) =>
  store
    .queryAudit({ limit: 10_000 })
    .filter((e) => e.kind !== 'import')
    .map((e) => e.kind);

describe('HotdeskService through a real SQLite file', () => {
  test('one-touch login: session, revision bump, notification, audit; the PIN appears nowhere', async () => {
    const { store, service, heard, rev } = await setup();
    const out = await service.dial('00:15:65:AA:BB:01', '*35*101*4321#');
    expect(out).toMatchObject({ code: 'logged-in', prompt: 'logged-in', phone: YEALINK, user: '101', userName: 'Alex Sales' });
    expect(JSON.stringify(out)).not.toContain('4321');
    expect(store.sessionOf(YEALINK)).toEqual({ phoneMac: YEALINK, userExt: '101', startedAt: T0 });
    expect(rev(YEALINK)).toBe(2);
    expect(store.phoneRuntime(YEALINK)?.sync).toMatchObject({ state: 'pending', revision: 2, requestedAt: T0 });
    expect(heard).toEqual([[YEALINK]]);
    expect(auditKinds(store)).toEqual(['login']);
    expect(JSON.stringify(store.queryAudit({ limit: 10_000 }))).not.toContain('4321');
  });

  test('move, switch and logout with the same key', async () => {
    const { store, service, heard, rev } = await setup();
    await service.dial(YEALINK, '*35*101*4321');
    const moved = await service.dial(SNOM, '*35*101*4321');
    expect(moved).toMatchObject({ code: 'logged-in', user: '101', movedFrom: YEALINK });
    expect(store.sessionOf(YEALINK)).toBeUndefined();
    expect(store.sessionsOfUser('101').map((s) => s.phoneMac)).toEqual([SNOM]);
    expect(heard[1]?.sort()).toEqual([YEALINK, SNOM].sort());
    const switched = await service.dial(SNOM, 'sip:%2A35%2A102%2A8765@pbx');
    expect(switched).toMatchObject({ code: 'switched', user: '102', previousUser: '101' });
    expect(store.sessionOf(SNOM)?.userExt).toBe('102');
    const out = await service.dial(SNOM, '*35*102*8765');
    expect(out).toMatchObject({ code: 'logged-out', user: '102' });
    expect(store.listSessions()).toEqual([]);
    expect(rev(SNOM)).toBe(4);
    expect(auditKinds(store)).toEqual(['login', 'logout', 'login', 'switch', 'logout']);
  });

  test('prompts: *35 asks for the short number, *35*<ext> for the PIN, *35 on a busy phone logs out', async () => {
    const { store, service } = await setup();
    expect((await service.dial(POLY, '*35')).code).toBe('ask-extension');
    expect((await service.dial(POLY, '*35*200')).code).toBe('ask-pin');
    expect((await service.dial(POLY, '*35*200*2000')).code).toBe('logged-in');
    expect(await service.dial(POLY, '*35')).toMatchObject({ code: 'logged-out', user: '200', userName: 'Sam Example' });
    expect(store.listSessions()).toEqual([]);
  });

  test('wrong PINs count on user and phone, then lock; the right PIN is refused while locked', async () => {
    const { store, service, clock, rev } = await setup();
    for (let i = 4; i >= 1; i--) {
      expect(await service.dial(YEALINK, '*35*200*9999')).toMatchObject({ code: 'wrong-pin', attemptsLeft: i });
      clock.advance(1000);
    }
    const locked = await service.dial(YEALINK, '*35*200*9999');
    expect(locked.code).toBe('locked');
    expect(store.getLock('user', '200').lockedUntil).toBe(locked.lockedUntil);
    expect((await service.dial(YEALINK, '*35*200*2000')).code).toBe('locked');
    expect(rev(YEALINK)).toBe(1);
    // Locked until the first failure leaves the 15-minute window, not after 60 s.
    expect(locked.lockedUntil).toBe(T0 + 900_000);
    clock.advance(61_000);
    expect((await service.dial(YEALINK, '*35*200*2000')).code).toBe('locked');
    clock.set(T0 + 900_000);
    expect((await service.dial(YEALINK, '*35*200*2000')).code).toBe('logged-in');
    // The success cleared nothing: the four later failures still count until they age out.
    expect(recentFailures(store.getLock('user', '200'), DEFAULT_PIN_LOCKOUT, T0 + 900_000)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000, T0 + 4000]);
    expect(auditKinds(store).filter((k) => k === 'wrong-pin')).toHaveLength(5);
    expect(auditKinds(store)).toContain('lockout');
  });

  test('unknown short numbers get the wrong-PIN answer, count on the phone and on the number, and the table stays bounded', async () => {
    const { store, service, clock } = await setup();
    const unknown = await service.dial(YEALINK, '*35*999*1234');
    clock.advance(1000);
    const wrong = await service.dial(SNOM, '*35*200*9999');
    expect(unknown).toEqual({ ...wrong, phone: YEALINK });
    expect(store.getLock('user', '999').failures).toEqual([T0]);
    expect(store.getLock('phone', YEALINK).failures).toEqual([T0]);
    // The audit log keeps the truth.
    expect(store.queryAudit({ kinds: ['refused', 'wrong-pin'], limit: 10 }).map((e) => [e.kind, e.detail?.['reason'] ?? null])).toEqual([
      ['refused', 'unknown-user'],
      ['wrong-pin', null],
    ]);
    // Hours of guessing on every phone: rows never exceed what the window holds.
    for (let i = 0; i < 400; i++) {
      clock.advance(37_000);
      await service.dial(i % 2 ? YEALINK : SNOM, `*35*${5000 + i}*1234`);
      const n = store.lockRowCounts().failures;
      expect(n).toBeLessThanOrEqual(2 * 5 * 2);
    }
  });

  test('refusals: unknown user, phone without hot-desking, not a hot-desk code, unknown phone', async () => {
    const { store, service } = await setup();
    expect((await service.dial(YEALINK, '*35*999*1234')).code).toBe('wrong-pin');
    expect((await service.dial(LIFT, '*35*101*4321')).code).toBe('not-allowed');
    const auditBefore = store.queryAudit({ limit: 10_000 }).length;
    expect(await service.dial(YEALINK, '030123456')).toMatchObject({ code: 'not-hotdesk-code', phone: YEALINK });
    expect(await service.dial(YEALINK, '*351')).toMatchObject({ code: 'not-hotdesk-code' });
    expect(store.queryAudit({ limit: 10_000 })).toHaveLength(auditBefore);
    await expect(service.dial('ffffffffffff', '*35')).rejects.toThrow(expect.objectContaining({ code: 'unknown-phone' }));
    await expect(service.dial('not a mac', '*35')).rejects.toThrow(expect.objectContaining({ code: 'unknown-phone' }));
    expect(store.listSessions()).toEqual([]);
  });

  test('screen login, admin login and logout', async () => {
    const { store, service } = await setup();
    expect((await service.screenLogin(POLY, '001', '0000')).code).toBe('wrong-pin');
    expect(await service.screenLogin(POLY, '001', '1234')).toMatchObject({ code: 'logged-in', user: '001' });
    expect((await service.adminLogin(POLY, '001')).code).toBe('no-change');
    expect(await service.adminLogin(POLY, '200')).toMatchObject({ code: 'switched', user: '200', previousUser: '001' });
    expect((await service.adminLogin(YEALINK, '999')).code).toBe('unknown-user');
    expect(await service.logout(POLY, 'admin')).toMatchObject({ code: 'logged-out', user: '200', userName: 'Sam Example' });
    expect((await service.logout(POLY)).code).toBe('no-change');
    expect(store.listSessions()).toEqual([]);
  });

  test('the site prefix and policies come from the store', async () => {
    const { store, service } = await setup(
      demoText().replace('featurePrefix: "*35"', 'featurePrefix: "*44"').replace('multipleLogin: move', 'multipleLogin: refuse'),
    );
    expect((await service.dial(YEALINK, '*35*101*4321')).code).toBe('not-hotdesk-code');
    expect((await service.dial(YEALINK, '*44*101*4321')).code).toBe('logged-in');
    expect((await service.dial(SNOM, '*44*101*4321')).code).toBe('already-logged-in');
    expect(store.sessionsOfUser('101').map((s) => s.phoneMac)).toEqual([YEALINK]);
  });

  test('under allow a user holds two phones (exclusive_user NULL)', async () => {
    const { store, service } = await setup(demoText().replace('multipleLogin: move', 'multipleLogin: allow'));
    expect((await service.dial(YEALINK, '*35*101*4321')).code).toBe('logged-in');
    expect((await service.dial(SNOM, '*35*101*4321')).code).toBe('logged-in');
    expect(store.sessionsOfUser('101')).toHaveLength(2);
  });

  test('expireDue ends sessions past the maximum duration or the daily logout time, not mid-call', async () => {
    const { store, service, clock } = await setup();
    await service.dial(YEALINK, '*35*101*4321'); // 09:00 Berlin
    clock.advance(2 * 60 * 60_000);
    await service.dial(SNOM, '*35*200*2000'); // 11:00
    expect(await service.expireDue(T0 + 11 * 3600_000)).toEqual([]);
    const first = await service.expireDue(T0 + 12 * 3600_000); // 21:00: 12 h since 09:00
    expect(first).toEqual([expect.objectContaining({ code: 'logged-out', phone: YEALINK, user: '101' })]);
    const inCall = new HotdeskService(sqliteStore(store), () => T0, { inCall: (mac) => mac === SNOM });
    expect(await inCall.expireDue(T0 + 14 * 3600_000)).toEqual([]);
    const second = await service.expireDue(T0 + 14 * 3600_000); // 23:00: past the 22:00 daily logout (before its 12 h)
    expect(second).toEqual([expect.objectContaining({ code: 'logged-out', phone: SNOM, user: '200' })]);
    expect(store.queryAudit({ kinds: ['auto-logout'] }).map((e) => e.detail?.['reason'])).toEqual(['max-duration', 'daily-logout']);
  });

  test('two Store instances on the same file: each decision sees the other’s commits', async () => {
    const { dir, service } = await setup();
    const other = openStore(dir);
    cleanups.push(() => other.close());
    const service2 = new HotdeskService(sqliteStore(other), () => T0 + 5);
    expect((await service.dial(YEALINK, '*35*200*2000')).code).toBe('logged-in');
    expect(await service2.dial(SNOM, '*35*200*2000')).toMatchObject({ code: 'logged-in', movedFrom: YEALINK });
    expect(await service.dial(POLY, '*35*200*2000')).toMatchObject({ code: 'logged-in', movedFrom: SNOM });
    expect(other.sessionsOfUser('200').map((s) => s.phoneMac)).toEqual([POLY]);
    expect(other.phoneRuntime(SNOM)?.revision).toBe(3);
  });

  test('a constraint violation retries once on fresh state, then fails with conflict and applies nothing', async () => {
    const { store, service } = await setup();
    await service.dial(YEALINK, '*35*200*2000');
    const auditBefore = store.queryAudit({ limit: 10_000 }).length;
    let calls = 0;
    // A broken decision: starts 101 on YEALINK without ending 200's session there.
    const broken: DecideFn = (state, command, now, policy): DeskDecision => {
      calls++;
      const d = decide(state, command, now, policy);
      return {
        ...d,
        effects: [
          { type: 'audit', event: { kind: 'login', at: now } },
          { type: 'session-start', session: { phoneMac: YEALINK, userExt: '101', startedAt: now } },
        ],
      };
    };
    const bad = new HotdeskService(sqliteStore(store), () => T0, { decide: broken });
    await expect(bad.dial(YEALINK, '*35*101*4321')).rejects.toThrow(expect.objectContaining({ code: 'conflict' }));
    expect(calls).toBe(2);
    expect(store.queryAudit({ limit: 10_000 })).toHaveLength(auditBefore);
    expect(store.sessionOf(YEALINK)?.userExt).toBe('200');
    // fails once, then the retry decides on fresh state and succeeds
    let first = true;
    const flaky: DecideFn = (state, command, now, policy) => {
      if (first) {
        first = false;
        return {
          outcome: decide(state, command, now, policy).outcome,
          effects: [{ type: 'session-end', session: { phoneMac: SNOM, userExt: '101', startedAt: 1 }, reason: 'logout' }],
        };
      }
      return decide(state, command, now, policy);
    };
    const retried = new HotdeskService(sqliteStore(store), () => T0, { decide: flaky });
    expect((await retried.dial(SNOM, '*35*101*4321')).code).toBe('logged-in');
    expect(store.sessionOf(SNOM)?.userExt).toBe('101');
  });
});
