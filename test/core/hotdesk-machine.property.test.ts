/**
 * Property-style test: random command sequences over a small world (3 phones,
 * 3 users) applied to an in-test session table. Seeded PRNG: reproducible.
 */
import { describe, expect, it } from 'vitest';
import { decide, type DecidePolicy } from '../../agent/core/hotdesk-machine.js';
import { parseFeatureCode } from '../../agent/core/feature-code.js';
import { DEFAULT_PIN_LOCKOUT } from '../../agent/core/pin-guard.js';
import { EMPTY_LOCK, type DeskCommand, type DeskState, type LockCounter, type Session } from '../../agent/core/model.js';
import { mulberry32 } from '../helpers/prng.js';

const PHONES = [
  { mac: '001565000001', hotdesk: true },
  { mac: '001565000002', hotdesk: true },
  { mac: '001565000003', hotdesk: false }, // canteen
];
const USERS = [
  { ext: '101', name: 'Alice', hotdesk: true, hasPin: true },
  { ext: '102', name: 'Bob', hotdesk: true, hasPin: true },
  { ext: '007', name: 'Carol', hotdesk: false, hasPin: true },
];
const EXTS = ['101', '102', '007', '999'];
const PIN = '864209';

interface World {
  sessions: Session[];
  locks: Map<string, LockCounter>;
}

function randomCommand(rnd: () => number): DeskCommand {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const ext = pick(EXTS);
  const pinValid = rnd() < 0.7;
  switch (Math.floor(rnd() * 8)) {
    case 0:
      return { kind: 'dial', code: parseFeatureCode('*35') };
    case 1:
      return { kind: 'dial', code: parseFeatureCode(`*35*${ext}#`) };
    case 2:
    case 3:
      return { kind: 'dial', code: parseFeatureCode(`sip:*35*${ext}*${PIN}@pbx`), pinValid };
    case 4:
      return { kind: 'screen-login', ext, pinValid };
    case 5:
      return { kind: 'admin-login', ext };
    case 6:
      return { kind: 'logout', reason: pick(['logout', 'admin'] as const) };
    default:
      return { kind: 'expire', reason: pick(['max-duration', 'daily-logout'] as const) };
  }
}

function namedExt(c: DeskCommand): string | null {
  if (c.kind === 'screen-login' || c.kind === 'admin-login') return c.ext;
  if (c.kind === 'dial' && (c.code.kind === 'ext' || c.code.kind === 'ext-pin')) return c.code.ext;
  return null;
}

/** What the shell would load for one decision. */
function load(w: World, mac: string, ext: string | null): DeskState {
  const user = USERS.find((u) => u.ext === ext) ?? null;
  return {
    phone: PHONES.find((p) => p.mac === mac)!,
    phoneSession: w.sessions.find((s) => s.phoneMac === mac) ?? null,
    user,
    userSessions: user ? w.sessions.filter((s) => s.userExt === user.ext) : [],
    userLock: (ext !== null && w.locks.get(`user:${ext}`)) || EMPTY_LOCK,
    phoneLock: w.locks.get(`phone:${mac}`) ?? EMPTY_LOCK,
  };
}

const POLICIES: DecidePolicy[] = (['direct', 'strict'] as const).flatMap((identitySwitch) =>
  (['move', 'refuse', 'allow'] as const).map((multipleLogin) => ({ identitySwitch, multipleLogin, pinLockout: DEFAULT_PIN_LOCKOUT })),
);

describe('hot-desk invariants under random command sequences', () => {
  it.each(POLICIES.map((p) => [`${p.identitySwitch}/${p.multipleLogin}`, p] as const))('%s', (_name, policy) => {
    const rnd = mulberry32(0xc0ffee ^ policy.identitySwitch.length ^ (policy.multipleLogin.length << 4));
    const seen = new Set<string>();
    let maxPerUser = 0;
    for (let run = 0; run < 150; run++) {
      const w: World = { sessions: [], locks: new Map() };
      const failures = new Map<string, number[]>();
      let now = Date.UTC(2025, 0, 6, 8, 0, 0);
      for (let step = 0; step < 40; step++) {
        now += Math.floor(rnd() * 120_000);
        const mac = PHONES[Math.floor(rnd() * PHONES.length)]!.mac;
        const cmd = randomCommand(rnd);
        const st = load(w, mac, namedExt(cmd));
        const before = w.sessions.map((s) => `${s.phoneMac}:${s.userExt}`);
        const d = decide(st, cmd, now, policy);
        seen.add(d.outcome.code);
        expect(JSON.stringify(d)).not.toContain(PIN);
        // Only an admin may learn that a short number does not exist.
        if (cmd.kind !== 'admin-login') expect(d.outcome.code).not.toBe('unknown-user');
        for (const e of d.effects) {
          if (e.type !== 'audit') continue;
          const reason = e.event.detail?.['reason'];
          if (e.event.kind !== 'wrong-pin' && !(e.event.kind === 'refused' && (reason === 'unknown-user' || reason === 'no-pin'))) continue;
          for (const key of [`user:${e.event.user ?? '?'}`, `phone:${mac}`]) failures.set(key, [...(failures.get(key) ?? []), now]);
        }
        expect(d.outcome.phone).toBe(mac);

        // Apply the effects like the store would, checking each one is applicable.
        const reprov: string[] = [];
        for (const e of d.effects) {
          if (e.type === 'session-end') {
            const i = w.sessions.findIndex((s) => s.phoneMac === e.session.phoneMac && s.userExt === e.session.userExt);
            expect(i).toBeGreaterThanOrEqual(0);
            w.sessions.splice(i, 1);
          } else if (e.type === 'session-start') {
            expect(w.sessions.some((s) => s.phoneMac === e.session.phoneMac)).toBe(false);
            expect(e.session.startedAt).toBe(now);
            w.sessions.push(e.session);
          } else if (e.type === 'lock-set') {
            w.locks.set(`${e.scope}:${e.subject}`, e.counter);
          } else if (e.type === 'reprovision') {
            reprov.push(e.mac);
          } else {
            expect(e.event.at).toBe(now);
          }
        }

        // Invariant: at most one session per phone; per user under move/refuse.
        const phones = w.sessions.map((s) => s.phoneMac);
        expect(new Set(phones).size).toBe(phones.length);
        const users = w.sessions.map((s) => s.userExt);
        if (policy.multipleLogin !== 'allow') expect(new Set(users).size).toBe(users.length);
        for (const u of users) maxPerUser = Math.max(maxPerUser, users.filter((x) => x === u).length);
        // The canteen phone (hot-desking off) never carries a session.
        expect(w.sessions.some((s) => s.phoneMac === '001565000003')).toBe(false);
        // Disabled user never gets a session.
        expect(w.sessions.some((s) => s.userExt === '007')).toBe(false);

        // Re-provision exactly the phones whose session changed, each once.
        const after = new Set(w.sessions.map((s) => `${s.phoneMac}:${s.userExt}`));
        const changed = new Set<string>();
        for (const k of before) if (!after.has(k)) changed.add(k.split(':')[0]!);
        for (const k of after) if (!before.includes(k)) changed.add(k.split(':')[0]!);
        expect(new Set(reprov).size).toBe(reprov.length);
        expect(new Set(reprov)).toEqual(changed);

        // The outcome agrees with the resulting table.
        const here = w.sessions.find((s) => s.phoneMac === mac);
        if (d.outcome.code === 'logged-in' || d.outcome.code === 'switched') expect(here?.userExt).toBe(d.outcome.user);
        if (d.outcome.code === 'logged-out') expect(here).toBeUndefined();
      }
      // Sliding window: no short number and no phone collects more than 5 failures in any 15 minutes.
      for (const [key, at] of failures) {
        for (let i = 0; i < at.length; i++) {
          const inWindow = at.filter((t) => t >= (at[i] ?? 0) && t - (at[i] ?? 0) < 900_000).length;
          expect(inWindow, key).toBeLessThanOrEqual(5);
        }
      }
    }
    // The random walk actually reached the interesting outcomes.
    const expected = ['logged-in', 'logged-out', 'wrong-pin', 'locked', 'not-allowed', 'unknown-user', 'ask-pin', 'ask-extension'];
    if (policy.identitySwitch === 'direct') expected.push('switched');
    if (policy.multipleLogin === 'refuse') expected.push('already-logged-in');
    for (const code of expected) expect(seen).toContain(code);
    // Under allow the walk did put one user on two phones (the policy is exercised).
    expect(maxPerUser).toBe(policy.multipleLogin === 'allow' ? 2 : 1);
  });
});
