import { describe, expect, it } from 'vitest';
import { DEFAULT_DECIDE_POLICY, decide, type DecidePolicy } from '../../agent/core/hotdesk-machine.js';
import { parseFeatureCode } from '../../agent/core/feature-code.js';
import { EMPTY_LOCK, type DeskCommand, type DeskDecision, type DeskEffect, type DeskState, type LockCounter, type Session } from '../../agent/core/model.js';

const A = '001565aaaa01'; // the phone in front of the person
const B = '001565bbbb02'; // another phone
const NOW = Date.UTC(2025, 0, 6, 9, 0, 0);
const PIN = '987654'; // distinctive: must never appear in any decision
const ALICE = { ext: '101', name: 'Alice', hotdesk: true, hasPin: true } as const;
const BOB = { ext: '102', name: 'Bob', hotdesk: true, hasPin: true } as const;
const POL = DEFAULT_DECIDE_POLICY;

const on = (phoneMac: string, userExt: string, startedAt = NOW - 3_600_000): Session => ({ phoneMac, userExt, startedAt });

function state(over: Partial<DeskState> = {}): DeskState {
  return {
    phone: { mac: A, hotdesk: true },
    phoneSession: null,
    user: ALICE,
    userSessions: [],
    userLock: EMPTY_LOCK,
    phoneLock: EMPTY_LOCK,
    ...over,
  };
}

function dial(digits: string, pinValid?: boolean): DeskCommand {
  const code = parseFeatureCode(digits);
  return pinValid === undefined ? { kind: 'dial', code } : { kind: 'dial', code, pinValid };
}

function run(s: DeskState, c: DeskCommand, policy: DecidePolicy = POL): DeskDecision {
  const d = decide(s, c, NOW, policy);
  expect(JSON.stringify(d)).not.toContain(PIN);
  expect(decide(s, c, NOW, policy)).toEqual(d); // deterministic
  return d;
}

const of = <T extends DeskEffect['type']>(d: DeskDecision, type: T): Extract<DeskEffect, { type: T }>[] =>
  d.effects.filter((e): e is Extract<DeskEffect, { type: T }> => e.type === type);
const sessionEffects = (d: DeskDecision) => d.effects.filter((e) => e.type === 'session-start' || e.type === 'session-end');
const audits = (d: DeskDecision) => of(d, 'audit').map((e) => e.event.kind);
const reprovisioned = (d: DeskDecision) => of(d, 'reprovision').map((e) => e.mac);

describe('docs/behaviour.md §2 table, row *35', () => {
  it('free phone: ask for the short number, nothing changes', () => {
    const d = run(state({ user: null }), dial('*35'));
    expect(d.outcome).toMatchObject({ code: 'ask-extension', prompt: 'ask-extension', phone: A });
    expect(d.effects).toEqual([]);
  });

  it('phone with a user: log out', () => {
    const d = run(state({ user: null, phoneSession: on(A, '101') }), dial('*35#'));
    expect(d.outcome).toMatchObject({ code: 'logged-out', prompt: 'logged-out', user: '101' });
    expect(sessionEffects(d)).toEqual([{ type: 'session-end', session: on(A, '101'), reason: 'logout' }]);
    expect(reprovisioned(d)).toEqual([A]);
    expect(audits(d)).toEqual(['logout']);
  });
});

describe('docs/behaviour.md §2 table, row *35*<ext>', () => {
  it('free phone: ask for the PIN, the same answer for known and unknown users', () => {
    const known = run(state(), dial('*35*101'));
    const unknown = run(state({ user: null }), dial('*35*999'));
    expect(known.outcome).toMatchObject({ code: 'ask-pin', prompt: 'ask-pin' });
    expect(unknown).toEqual(known);
    expect(known.effects).toEqual([]);
  });

  it('phone with a user: log out (whoever the digits name)', () => {
    for (const ext of ['101', '102', '999']) {
      const d = run(state({ user: null, phoneSession: on(A, '101') }), dial(`*35*${ext}`));
      expect(d.outcome.code).toBe('logged-out');
      expect(sessionEffects(d)).toEqual([{ type: 'session-end', session: on(A, '101'), reason: 'logout' }]);
    }
  });
});

describe('docs/behaviour.md §2 table, row *35*<ext>*<pin>', () => {
  it('free phone: one-touch login', () => {
    const d = run(state(), dial(`*35*101*${PIN}`, true));
    expect(d.outcome).toMatchObject({ code: 'logged-in', prompt: 'logged-in', user: '101', userName: 'Alice' });
    expect(d.outcome.movedFrom).toBeUndefined();
    expect(sessionEffects(d)).toEqual([{ type: 'session-start', session: { phoneMac: A, userExt: '101', startedAt: NOW } }]);
    expect(reprovisioned(d)).toEqual([A]);
    expect(audits(d)).toEqual(['login']);
    expect(of(d, 'lock-set')).toEqual([]); // counters were clean: nothing to write
  });

  it('<ext> is the current user: log out without checking the PIN', () => {
    const d = run(state({ phoneSession: on(A, '101') }), dial(`*35*101*${PIN}`, false));
    expect(d.outcome).toMatchObject({ code: 'logged-out', user: '101', userName: 'Alice' });
    expect(of(d, 'lock-set')).toEqual([]);
    expect(sessionEffects(d)).toHaveLength(1);
  });

  it('another user, valid PIN, identitySwitch direct: switch in one step', () => {
    const d = run(state({ user: BOB, phoneSession: on(A, '101') }), dial(`*35*102*${PIN}`, true));
    expect(d.outcome).toMatchObject({ code: 'switched', prompt: 'switched', user: '102', userName: 'Bob', previousUser: '101' });
    expect(sessionEffects(d)).toEqual([
      { type: 'session-end', session: on(A, '101'), reason: 'switched' },
      { type: 'session-start', session: { phoneMac: A, userExt: '102', startedAt: NOW } },
    ]);
    expect(reprovisioned(d)).toEqual([A]); // ONE re-provision
    expect(audits(d)).toEqual(['switch']);
  });

  it('another user, valid PIN, identitySwitch strict: log out instead', () => {
    const d = run(state({ user: BOB, phoneSession: on(A, '101') }), dial(`*35*102*${PIN}`, true), { ...POL, identitySwitch: 'strict' });
    expect(d.outcome).toMatchObject({ code: 'logged-out', user: '101' });
    expect(sessionEffects(d)).toEqual([{ type: 'session-end', session: on(A, '101'), reason: 'logout' }]);
    expect(reprovisioned(d)).toEqual([A]);
  });

  it('another user, wrong PIN: nothing changes on the phone', () => {
    for (const identitySwitch of ['direct', 'strict'] as const) {
      const d = run(state({ user: BOB, phoneSession: on(A, '101') }), dial(`*35*102*${PIN}`, false), { ...POL, identitySwitch });
      expect(d.outcome.code).toBe('wrong-pin');
      expect(sessionEffects(d)).toEqual([]);
      expect(reprovisioned(d)).toEqual([]);
    }
  });

  it('pinValid missing counts as a wrong PIN', () => {
    expect(run(state(), dial(`*35*101*${PIN}`)).outcome.code).toBe('wrong-pin');
  });
});

describe('not a hot-desk code', () => {
  it('answers not-hotdesk-code with no effects, even on a disabled phone', () => {
    for (const hotdesk of [true, false]) {
      const d = run(state({ phone: { mac: A, hotdesk } }), dial('0301234'));
      expect(d.outcome).toMatchObject({ code: 'not-hotdesk-code', prompt: 'not-hotdesk-code' });
      expect(d.effects).toEqual([]);
    }
  });
});

describe('per-phone and per-user enable', () => {
  const off = { mac: A, hotdesk: false };

  it('a phone without hot-desking refuses every dial form and screen/admin login', () => {
    const cmds: DeskCommand[] = [
      dial('*35'),
      dial('*35*101'),
      dial(`*35*101*${PIN}`, true),
      { kind: 'screen-login', ext: '101', pinValid: true },
      { kind: 'admin-login', ext: '101' },
    ];
    for (const phoneSession of [null, on(A, '102')]) {
      for (const c of cmds) {
        const d = run(state({ phone: off, phoneSession }), c);
        expect(d.outcome).toMatchObject({ code: 'not-allowed', prompt: 'not-allowed' });
        expect(d.effects).toEqual([
          expect.objectContaining({ type: 'audit', event: expect.objectContaining({ kind: 'refused', detail: { reason: 'phone-disabled' } }) }),
        ]);
      }
    }
  });

  it('logout and expire still end a session on a disabled phone', () => {
    const s = state({ phone: off, phoneSession: on(A, '101') });
    expect(run(s, { kind: 'logout', reason: 'admin' }).outcome.code).toBe('logged-out');
    expect(run(s, { kind: 'expire', reason: 'daily-logout' }).outcome.code).toBe('logged-out');
  });

  it('a user without hot-desking is not allowed after a correct PIN (no failure counted)', () => {
    const d = run(state({ user: { ...ALICE, hotdesk: false } }), dial(`*35*101*${PIN}`, true));
    expect(d.outcome).toMatchObject({ code: 'not-allowed', user: '101' });
    expect(of(d, 'lock-set')).toEqual([]);
    expect(sessionEffects(d)).toEqual([]);
    expect(audits(d)).toEqual(['refused']);
  });

  it('a user without a PIN cannot log in by PIN: answered and counted like a wrong PIN', () => {
    const d = run(state({ user: { ...ALICE, hasPin: false } }), dial(`*35*101*${PIN}`, true));
    expect(d.outcome).toMatchObject({ code: 'wrong-pin', attemptsLeft: 4 });
    expect(of(d, 'lock-set')).toHaveLength(2);
    expect(sessionEffects(d)).toEqual([]);
    expect(of(d, 'audit')[0]!.event.detail).toMatchObject({ reason: 'no-pin' });
  });
});

describe('PIN checks and lockout', () => {
  /** `n` failures `gapMs` apart, the last one `agoMs` before NOW. */
  const counter = (n: number, agoMs = 60_000, lockouts = 0, lockedUntil = 0, gapMs = 1000): LockCounter => ({
    failures: Array.from({ length: n }, (_, i) => NOW - agoMs - (n - 1 - i) * gapMs),
    lockouts,
    lockedUntil,
  });
  const W = POL.pinLockout.windowSeconds * 1000;
  /** The outcome as a requester sees it: everything but the free-text message ... which must match too. */
  const answer = (d: DeskDecision) => d.outcome;

  it('unknown user: the wrong-PIN answer, counted on the short number and the phone', () => {
    const d = run(state({ user: null }), dial(`*35*999*${PIN}`, false));
    expect(d.outcome).toEqual({ code: 'wrong-pin', prompt: 'wrong-pin', phone: A, message: 'wrong PIN, 4 attempts left', attemptsLeft: 4 });
    expect(of(d, 'lock-set')).toEqual([
      { type: 'lock-set', scope: 'user', subject: '999', counter: { failures: [NOW], lockouts: 0, lockedUntil: 0 } },
      { type: 'lock-set', scope: 'phone', subject: A, counter: { failures: [NOW], lockouts: 0, lockedUntil: 0 } },
    ]);
    // The audit log keeps the truth.
    expect(of(d, 'audit').map((a) => a.event)).toEqual([
      { kind: 'refused', at: NOW, phone: A, user: '999', detail: { reason: 'unknown-user', attemptsLeft: 4 } },
    ]);
  });

  it('unknown short number and wrong PIN give identical answers and identical counter changes, in every counter state', () => {
    const counters = [
      EMPTY_LOCK,
      counter(1),
      counter(3, 1000),
      counter(4),
      counter(4, W - 1),
      counter(5, 10_000),
      counter(0, 0, 2, NOW + 5000),
      counter(2, 1000, 3, NOW - 1),
    ];
    for (const ul of counters) {
      for (const pl of counters) {
        for (const kind of ['dial', 'screen'] as const) {
          const cmd = (ext: string): DeskCommand => (kind === 'dial' ? dial(`*35*${ext}*${PIN}`, false) : { kind: 'screen-login', ext, pinValid: false });
          const known = run(state({ userLock: ul, phoneLock: pl }), cmd('101'));
          const unknown = run(state({ user: null, userLock: ul, phoneLock: pl }), cmd('101'));
          const noPin = run(state({ user: { ...ALICE, hasPin: false }, userLock: ul, phoneLock: pl }), cmd('101'));
          const disabled = run(state({ user: { ...ALICE, hotdesk: false }, userLock: ul, phoneLock: pl }), cmd('101'));
          expect(answer(unknown)).toEqual(answer(known));
          expect(answer(noPin)).toEqual(answer(known));
          expect(answer(disabled)).toEqual(answer(known));
          expect(of(unknown, 'lock-set')).toEqual(of(known, 'lock-set'));
          expect(of(noPin, 'lock-set')).toEqual(of(known, 'lock-set'));
          expect(['wrong-pin', 'locked']).toContain(known.outcome.code);
          expect(known.outcome.user).toBeUndefined();
          expect(known.outcome.userName).toBeUndefined();
        }
      }
    }
  });

  it('unknown user can lock the phone and the short number', () => {
    const d = run(state({ user: null, phoneLock: counter(4) }), dial(`*35*999*${PIN}`, false));
    expect(d.outcome).toEqual({ code: 'locked', prompt: 'locked', phone: A, message: 'too many wrong PINs: locked', lockedUntil: NOW - 60_000 - 3000 + W });
    expect(audits(d)).toEqual(['refused', 'lockout']);
    const n = run(state({ user: null, userLock: counter(4) }), dial(`*35*999*${PIN}`, false));
    expect(n.outcome.code).toBe('locked');
    expect(of(n, 'audit')[1]!.event).toMatchObject({ kind: 'lockout', user: '999', detail: { scope: 'user', lockouts: 1 } });
  });

  it('wrong PIN: counts on user and phone, attemptsLeft is the smaller, no user named in the answer', () => {
    const d = run(state({ userLock: counter(1), phoneLock: counter(3) }), dial(`*35*101*${PIN}`, false));
    expect(d.outcome).toEqual({ code: 'wrong-pin', prompt: 'wrong-pin', phone: A, message: 'wrong PIN, 1 attempts left', attemptsLeft: 1 });
    const locks = of(d, 'lock-set');
    expect(locks.map((l) => [l.scope, l.subject, l.counter.failures.length])).toEqual([
      ['user', '101', 2],
      ['phone', A, 4],
    ]);
    const wp = of(d, 'audit')[0]!.event;
    expect(wp).toMatchObject({ kind: 'wrong-pin', phone: A, user: '101', at: NOW, detail: { attemptsLeft: 1 } });
  });

  it('the 5th wrong PIN within the window locks the user (and the phone when its count reaches 5)', () => {
    const d = run(state({ userLock: counter(4), phoneLock: counter(2) }), dial(`*35*101*${PIN}`, false));
    // Locked until the oldest of the five leaves the window (later than the 60 s lock).
    expect(d.outcome).toMatchObject({ code: 'locked', prompt: 'locked', lockedUntil: NOW - 60_000 - 3000 + W });
    expect(audits(d)).toEqual(['wrong-pin', 'lockout']);
    expect(of(d, 'audit')[1]!.event.detail).toMatchObject({ scope: 'user', lockouts: 1 });
    const both = run(state({ userLock: counter(4, 1000, 5), phoneLock: counter(4) }), dial(`*35*101*${PIN}`, false));
    expect(audits(both)).toEqual(['wrong-pin', 'lockout', 'lockout']);
    expect(both.outcome.lockedUntil).toBe(NOW + 1_920_000); // user's sixth lockout: 60 s * 2^5 outlasts the window
  });

  it('a locked user is refused even with the right PIN; lock time reported, nobody named', () => {
    const d = run(state({ userLock: counter(0, 0, 1, NOW + 30_000) }), dial(`*35*101*${PIN}`, true));
    expect(d.outcome).toEqual({ code: 'locked', prompt: 'locked', phone: A, message: 'too many wrong PINs: locked', lockedUntil: NOW + 30_000 });
    expect(sessionEffects(d)).toEqual([]);
    expect(of(d, 'lock-set')).toEqual([]);
    // Five failures in the window lock by themselves (no explicit lock needed).
    const w = run(state({ userLock: counter(5, 1000) }), dial(`*35*101*${PIN}`, true));
    expect(w.outcome).toMatchObject({ code: 'locked', lockedUntil: NOW - 1000 - 4000 + W });
  });

  it('a locked phone refuses everyone, and answers the same for unknown users', () => {
    const phoneLock = counter(0, 0, 1, NOW + 30_000);
    const d = run(state({ phoneLock }), dial(`*35*101*${PIN}`, true));
    expect(d.outcome).toMatchObject({ code: 'locked', lockedUntil: NOW + 30_000 });
    const u = run(state({ phoneLock, user: null }), dial(`*35*999*${PIN}`, true));
    expect(u.outcome).toEqual(d.outcome);
    expect(of(u, 'lock-set')).toEqual([]);
  });

  it('an expired lock with the window clear no longer refuses', () => {
    const d = run(state({ userLock: counter(0, 0, 1, NOW) }), dial(`*35*101*${PIN}`, true));
    expect(d.outcome.code).toBe('logged-in');
  });

  it("success changes no counter: neither the user's nor the phone's (a guesser logging in as themselves clears nothing)", () => {
    const d = run(state({ userLock: counter(3, 1000, 1), phoneLock: counter(4) }), dial(`*35*101*${PIN}`, true));
    expect(d.outcome.code).toBe('logged-in');
    expect(of(d, 'lock-set')).toEqual([]);
  });

  it("another user's success does not reset the phone: the guesser's next unknown number still locks it", () => {
    // Round 1: four unknown short numbers on phone A.
    let phoneLock = EMPTY_LOCK;
    let t = NOW;
    for (const ext of ['900', '901', '902', '903']) {
      const d = decide(state({ user: null, phoneLock }), dial(`*35*${ext}*${PIN}`, false), t, POL);
      expect(d.outcome.code).toBe('wrong-pin');
      phoneLock = of(d, 'lock-set').find((l) => l.scope === 'phone')!.counter;
      t += 1000;
    }
    // The guesser logs in as themselves (Alice's correct PIN) and out again.
    const ok = decide(state({ phoneLock }), dial(`*35*101*${PIN}`, true), t, POL);
    expect(ok.outcome.code).toBe('logged-in');
    expect(of(ok, 'lock-set')).toEqual([]);
    // Round 2: the fifth unknown number locks the phone; the sixth is refused before any check.
    const fifth = decide(state({ user: null, phoneLock }), dial(`*35*904*${PIN}`, false), t + 1000, POL);
    expect(fifth.outcome.code).toBe('locked');
    phoneLock = of(fifth, 'lock-set').find((l) => l.scope === 'phone')!.counter;
    const sixth = decide(state({ user: null, phoneLock }), dial(`*35*905*${PIN}`, false), t + 2000, POL);
    expect(sixth.outcome.code).toBe('locked');
    expect(of(sixth, 'lock-set')).toEqual([]);
  });

  it('a disabled user hears not-allowed only after proving the PIN', () => {
    const d = run(state({ user: { ...ALICE, hotdesk: false } }), dial(`*35*101*${PIN}`, true));
    expect(d.outcome).toMatchObject({ code: 'not-allowed', user: '101' });
    expect(of(d, 'lock-set')).toEqual([]);
  });
});

describe('multipleLogin policy', () => {
  const elsewhere = state({ userSessions: [on(B, '101')] });

  it('move (default): logs the user out of the other phone and re-provisions both', () => {
    const d = run(elsewhere, dial(`*35*101*${PIN}`, true));
    expect(d.outcome).toMatchObject({ code: 'logged-in', movedFrom: B, user: '101' });
    expect(sessionEffects(d)).toEqual([
      { type: 'session-end', session: on(B, '101'), reason: 'moved' },
      { type: 'session-start', session: { phoneMac: A, userExt: '101', startedAt: NOW } },
    ]);
    expect(reprovisioned(d)).toEqual([B, A]);
    const logout = of(d, 'audit').find((a) => a.event.kind === 'logout')!.event;
    expect(logout).toMatchObject({ phone: B, user: '101', detail: { reason: 'moved', to: A } });
  });

  it('refuse: already-logged-in, no session changes', () => {
    const d = run(elsewhere, dial(`*35*101*${PIN}`, true), { ...POL, multipleLogin: 'refuse' });
    expect(d.outcome).toMatchObject({ code: 'already-logged-in', prompt: 'already-logged-in', user: '101' });
    expect(sessionEffects(d)).toEqual([]);
    expect(reprovisioned(d)).toEqual([]);
    expect(audits(d)).toEqual(['refused']);
  });

  it('allow: keeps the other session', () => {
    const d = run(elsewhere, dial(`*35*101*${PIN}`, true), { ...POL, multipleLogin: 'allow' });
    expect(d.outcome.code).toBe('logged-in');
    expect(d.outcome.movedFrom).toBeUndefined();
    expect(sessionEffects(d)).toEqual([{ type: 'session-start', session: { phoneMac: A, userExt: '101', startedAt: NOW } }]);
    expect(reprovisioned(d)).toEqual([A]);
  });

  it('move combined with a direct switch: each phone re-provisioned once', () => {
    const s = state({ phoneSession: on(A, '102'), userSessions: [on(B, '101')] });
    const d = run(s, dial(`*35*101*${PIN}`, true));
    expect(d.outcome).toMatchObject({ code: 'switched', previousUser: '102', movedFrom: B });
    expect(sessionEffects(d).map((e) => e.type)).toEqual(['session-end', 'session-end', 'session-start']);
    expect(reprovisioned(d)).toEqual([B, A]);
  });
});

describe('screen login = dialled *35*<ext>*<pin>', () => {
  const states: DeskState[] = [
    state(),
    state({ phoneSession: on(A, '101') }),
    state({ user: BOB, phoneSession: on(A, '101') }),
    state({ user: null }),
    state({ userLock: { failures: [NOW - 4, NOW - 3, NOW - 2, NOW - 1], lockouts: 0, lockedUntil: 0 } }),
    state({ userSessions: [on(B, '101')] }),
  ];
  it.each(states.map((s, i) => [i, s] as const))('state %i', (_i, s) => {
    for (const pinValid of [true, false]) {
      for (const policy of [POL, { ...POL, identitySwitch: 'strict' as const }, { ...POL, multipleLogin: 'refuse' as const }]) {
        const ext = s.user?.ext ?? '999';
        expect(run(s, { kind: 'screen-login', ext, pinValid }, policy)).toEqual(run(s, dial(`*35*${ext}*${PIN}`, pinValid), policy));
      }
    }
  });
});

describe('admin login', () => {
  it('no PIN, ignores locks', () => {
    const locked = { failures: [], lockouts: 3, lockedUntil: NOW + 1e6 };
    const d = run(state({ userLock: locked, phoneLock: locked, user: { ...ALICE, hasPin: false } }), { kind: 'admin-login', ext: '101' });
    expect(d.outcome).toMatchObject({ code: 'logged-in', user: '101' });
    expect(of(d, 'lock-set')).toEqual([]);
    expect(of(d, 'audit')[0]!.event).toMatchObject({ kind: 'login', detail: { via: 'admin' } });
  });

  it('unknown user and disabled user', () => {
    const u = run(state({ user: null }), { kind: 'admin-login', ext: '999' });
    expect(u.outcome.code).toBe('unknown-user');
    expect(u.effects).toEqual([]);
    expect(run(state({ user: { ...ALICE, hotdesk: false } }), { kind: 'admin-login', ext: '101' }).outcome.code).toBe('not-allowed');
  });

  it('switches directly even under strict; same user is no-change', () => {
    const s = state({ user: BOB, phoneSession: on(A, '101') });
    const d = run(s, { kind: 'admin-login', ext: '102' }, { ...POL, identitySwitch: 'strict' });
    expect(d.outcome).toMatchObject({ code: 'switched', previousUser: '101' });
    const same = run(state({ phoneSession: on(A, '101') }), { kind: 'admin-login', ext: '101' });
    expect(same.outcome).toMatchObject({ code: 'no-change', prompt: null });
    expect(same.effects).toEqual([]);
  });

  it('multipleLogin applies', () => {
    const s = state({ userSessions: [on(B, '101')] });
    expect(run(s, { kind: 'admin-login', ext: '101' }, { ...POL, multipleLogin: 'refuse' }).outcome.code).toBe('already-logged-in');
    expect(run(s, { kind: 'admin-login', ext: '101' }).outcome.movedFrom).toBe(B);
  });
});

describe('logout and expire', () => {
  it('nobody logged in: no-change without prompt', () => {
    for (const c of [
      { kind: 'logout', reason: 'logout' },
      { kind: 'expire', reason: 'max-duration' },
    ] as const) {
      const d = run(state(), c);
      expect(d.outcome).toMatchObject({ code: 'no-change', prompt: null, message: 'nobody is logged in' });
      expect(d.effects).toEqual([]);
    }
  });

  it('logout ends with reason logout or admin', () => {
    for (const reason of ['logout', 'admin'] as const) {
      const d = run(state({ phoneSession: on(A, '101') }), { kind: 'logout', reason });
      expect(sessionEffects(d)).toEqual([{ type: 'session-end', session: on(A, '101'), reason }]);
      expect(reprovisioned(d)).toEqual([A]);
      expect(of(d, 'audit')[0]!.event).toMatchObject({ kind: 'logout', phone: A, user: '101', detail: { reason } });
    }
  });

  it('expire ends with its reason and an auto-logout audit', () => {
    for (const reason of ['max-duration', 'daily-logout'] as const) {
      const d = run(state({ phoneSession: on(A, '101') }), { kind: 'expire', reason });
      expect(d.outcome.code).toBe('logged-out');
      expect(sessionEffects(d)).toEqual([{ type: 'session-end', session: on(A, '101'), reason }]);
      expect(audits(d)).toEqual(['auto-logout']);
    }
  });
});

describe('totality', () => {
  it('an unknown command kind gives no-change instead of throwing', () => {
    const d = decide(state(), { kind: 'bogus' } as unknown as DeskCommand, NOW, POL);
    expect(d).toEqual({ outcome: { code: 'no-change', prompt: null, phone: A, message: 'unknown command' }, effects: [] });
  });

  it('garbage in a screen-login ext never reaches an audit event', () => {
    const d = run(state({ user: null }), { kind: 'screen-login', ext: 'x; DROP', pinValid: false });
    expect(d.outcome.code).toBe('wrong-pin');
    expect(of(d, 'lock-set').map((l) => l.scope)).toEqual(['phone']);
    for (const a of of(d, 'audit')) expect(a.event.user).toBeUndefined();
  });
});
