/**
 * The hot-desk state machine (DESIGN.md §2) as one pure, total function:
 * `decide(state, command, now, policy) -> { outcome, effects }`.
 *
 * The shell loads a {@link DeskState} inside one store transaction, calls
 * {@link decide}, applies the effects in order in the same transaction, and
 * answers the person with `outcome`. Effects come in this order: lock
 * counters, session ends, the session start, re-provisioning (one per phone
 * whose files change, never twice), audit events. Session ends precede the
 * start, so a store enforcing "one session per phone / per user" never sees
 * an intermediate violation.
 *
 * Choices this module makes where DESIGN.md leaves room (tested):
 * - `*35*<ext>` on a free phone always answers `ask-pin`, whether or not the
 *   user exists, so the short-number step does not enumerate users; the
 *   check happens at the PIN step.
 * - Login checks run in this order: phone locked, unknown user (counts a
 *   failure on the phone counter only: guessing short numbers is guessing
 *   too), user locked, user not enabled / no PIN, wrong PIN (counts on both
 *   counters), success (resets both). The phone lock is checked first so that
 *   a locked phone answers every attempt the same way (no enumeration while
 *   locked, and no failure counted against it).
 * - A screen login is the dialled `*35*<ext>*<pin>`, including "same user:
 *   log out" and the identity-switch policy.
 * - An admin login needs no PIN, ignores locks, always switches directly,
 *   answers `no-change` when the user already is on this phone, and follows
 *   `multipleLogin`.
 * - A phone with hot-desking off refuses dial, screen and admin logins with
 *   `not-allowed`; `logout` and `expire` still end an existing session.
 * - Under `multipleLogin: refuse` a correct PIN still resets the counters
 *   (the PIN was verified), but no session changes.
 *
 * No PIN ever appears in an outcome, effect or audit event: the PIN digits in
 * a `dial` command are never copied (the shell verified them into `pinValid`).
 */
import type {
  AuditEvent,
  AuditKind,
  DeskCommand,
  DeskDecision,
  DeskEffect,
  DeskOutcome,
  DeskState,
  EndReason,
  IdentitySwitchPolicy,
  LockCounter,
  MultipleLoginPolicy,
  OutcomeCode,
  PinLockoutPolicy,
  PromptId,
  Session,
} from './model.js';
import { isValidExt } from './feature-code.js';
import { DEFAULT_PIN_LOCKOUT, isLocked, recordFailure, recordSuccess, sameCounter } from './pin-guard.js';

/** The policies one decision needs (from the site settings). */
export interface DecidePolicy {
  readonly identitySwitch: IdentitySwitchPolicy;
  readonly multipleLogin: MultipleLoginPolicy;
  readonly pinLockout: PinLockoutPolicy;
}

/** DESIGN.md defaults: direct identity switch, a user moves between phones, 5 PIN failures lock. */
export const DEFAULT_DECIDE_POLICY: DecidePolicy = Object.freeze({
  identitySwitch: 'direct',
  multipleLogin: 'move',
  pinLockout: DEFAULT_PIN_LOCKOUT,
});

type Detail = Readonly<Record<string, string | number | boolean | null>>;
type Extra = Partial<Omit<DeskOutcome, 'code' | 'prompt' | 'phone' | 'message'>>;
type KnownUser = NonNullable<DeskState['user']>;

/** Effects collected during one decision, emitted in a fixed order. */
class Draft {
  private readonly locks: DeskEffect[] = [];
  private readonly sessions: DeskEffect[] = [];
  private readonly reprovisions: string[] = [];
  private readonly audits: DeskEffect[] = [];

  constructor(
    private readonly state: DeskState,
    private readonly now: number,
  ) {}

  lock(scope: 'user' | 'phone', subject: string, before: LockCounter, after: LockCounter): void {
    if (!sameCounter(before, after)) this.locks.push({ type: 'lock-set', scope, subject, counter: after });
  }

  end(session: Session, reason: EndReason): void {
    this.sessions.push({ type: 'session-end', session, reason });
    this.reprovision(session.phoneMac);
  }

  start(session: Session): void {
    this.sessions.push({ type: 'session-start', session });
    this.reprovision(session.phoneMac);
  }

  reprovision(mac: string): void {
    if (!this.reprovisions.includes(mac)) this.reprovisions.push(mac);
  }

  audit(kind: AuditKind, user: string | undefined, detail?: Detail, phone: string = this.state.phone.mac): void {
    const event: AuditEvent = {
      kind,
      at: this.now,
      phone,
      ...(user !== undefined && isValidExt(user) ? { user } : {}),
      ...(detail !== undefined ? { detail } : {}),
    };
    this.audits.push({ type: 'audit', event });
  }

  finish(code: OutcomeCode, prompt: PromptId | null, message: string, extra: Extra = {}): DeskDecision {
    const outcome: DeskOutcome = { code, prompt, phone: this.state.phone.mac, message, ...extra };
    const effects: DeskEffect[] = [
      ...this.locks,
      ...this.sessions,
      ...this.reprovisions.map((mac): DeskEffect => ({ type: 'reprovision', mac })),
      ...this.audits,
    ];
    return { outcome, effects };
  }
}

function label(ext: string, name: string | undefined): string {
  return name !== undefined && name !== '' ? `${name} (${ext})` : ext;
}

/** Name of `ext` when the state's user is that user. */
function nameOf(state: DeskState, ext: string): Extra {
  return state.user !== null && state.user.ext === ext ? { userName: state.user.name } : {};
}

/** Ends the session on this phone (logout, admin logout, expiry, strict switch). */
function endCurrent(state: DeskState, d: Draft, reason: EndReason, auditKind: AuditKind): DeskDecision {
  const s = state.phoneSession;
  if (s === null) return d.finish('no-change', null, 'nobody is logged in');
  d.end(s, reason);
  d.audit(auditKind, s.userExt, { reason });
  const extra = nameOf(state, s.userExt);
  return d.finish('logged-out', 'logged-out', `${label(s.userExt, extra.userName)} logged out`, { user: s.userExt, ...extra });
}

function refusePhone(d: Draft, ext: string | undefined): DeskDecision {
  d.audit('refused', ext, { reason: 'phone-disabled' });
  return d.finish('not-allowed', 'not-allowed', 'hot-desking is not enabled on this phone');
}

/**
 * PIN checks for a login as `ext`. Returns the failure decision, or the
 * verified user (with counter resets recorded in `d`).
 */
function checkPin(state: DeskState, d: Draft, ext: string, pinValid: boolean, now: number, policy: PinLockoutPolicy): DeskDecision | KnownUser {
  const mac = state.phone.mac;
  const pl = state.phoneLock;
  const ul = state.userLock;
  if (isLocked(pl, now)) {
    d.audit('refused', ext, { reason: 'locked', scope: 'phone' });
    return d.finish('locked', 'locked', 'this phone is locked after too many wrong PINs', { lockedUntil: pl.lockedUntil });
  }
  const user = state.user;
  if (user === null || user.ext !== ext) {
    const r = recordFailure(pl, policy, now);
    d.lock('phone', mac, pl, r.counter);
    d.audit('refused', ext, { reason: 'unknown-user' });
    if (r.lockedNow) {
      d.audit('lockout', undefined, { scope: 'phone', until: r.counter.lockedUntil, lockouts: r.counter.lockouts });
      return d.finish('locked', 'locked', 'this phone is locked after too many failed attempts', { lockedUntil: r.counter.lockedUntil });
    }
    return d.finish('unknown-user', 'unknown-user', 'unknown short number');
  }
  const who = { user: user.ext, userName: user.name };
  if (isLocked(ul, now)) {
    d.audit('refused', user.ext, { reason: 'locked', scope: 'user' });
    return d.finish('locked', 'locked', `${label(user.ext, user.name)} is locked after too many wrong PINs`, { ...who, lockedUntil: ul.lockedUntil });
  }
  if (!user.hotdesk || !user.hasPin) {
    d.audit('refused', user.ext, { reason: user.hotdesk ? 'no-pin' : 'user-disabled' });
    return d.finish('not-allowed', 'not-allowed', `hot-desking is not enabled for ${label(user.ext, user.name)}`, who);
  }
  if (!pinValid) {
    const ru = recordFailure(ul, policy, now);
    const rp = recordFailure(pl, policy, now);
    d.lock('user', user.ext, ul, ru.counter);
    d.lock('phone', mac, pl, rp.counter);
    const attemptsLeft = Math.min(ru.attemptsLeft, rp.attemptsLeft);
    d.audit('wrong-pin', user.ext, { attemptsLeft });
    const until: number[] = [];
    if (ru.lockedNow) {
      d.audit('lockout', user.ext, { scope: 'user', until: ru.counter.lockedUntil, lockouts: ru.counter.lockouts });
      until.push(ru.counter.lockedUntil);
    }
    if (rp.lockedNow) {
      d.audit('lockout', undefined, { scope: 'phone', until: rp.counter.lockedUntil, lockouts: rp.counter.lockouts });
      until.push(rp.counter.lockedUntil);
    }
    if (until.length > 0) {
      return d.finish('locked', 'locked', 'wrong PIN: locked after too many attempts', { ...who, lockedUntil: Math.max(...until) });
    }
    return d.finish('wrong-pin', 'wrong-pin', `wrong PIN, ${attemptsLeft} attempts left`, { ...who, attemptsLeft });
  }
  d.lock('user', user.ext, ul, recordSuccess(ul));
  d.lock('phone', mac, pl, recordSuccess(pl));
  return user;
}

/** Puts `user` on this phone (login or switch), applying `multipleLogin`. */
function login(state: DeskState, d: Draft, user: KnownUser, now: number, multipleLogin: MultipleLoginPolicy, via: 'pin' | 'admin'): DeskDecision {
  const mac = state.phone.mac;
  const who = { user: user.ext, userName: user.name };
  const others = state.userSessions.filter((s) => s.userExt === user.ext && s.phoneMac !== mac);
  const first = others[0];
  if (first !== undefined && multipleLogin === 'refuse') {
    d.audit('refused', user.ext, { reason: 'already-logged-in', on: first.phoneMac });
    return d.finish('already-logged-in', 'already-logged-in', `${label(user.ext, user.name)} is logged in on another phone`, who);
  }
  let movedFrom: Extra = {};
  if (first !== undefined && multipleLogin !== 'allow') {
    for (const s of others) {
      d.end(s, 'moved');
      d.audit('logout', s.userExt, { reason: 'moved', to: mac }, s.phoneMac);
    }
    movedFrom = { movedFrom: first.phoneMac };
  }
  const current = state.phoneSession;
  if (current !== null) d.end(current, 'switched');
  d.start({ phoneMac: mac, userExt: user.ext, startedAt: now });
  if (current !== null) {
    d.audit('switch', user.ext, { previousUser: current.userExt, via });
    return d.finish('switched', 'switched', `switched from ${current.userExt} to ${label(user.ext, user.name)}`, {
      ...who,
      previousUser: current.userExt,
      ...movedFrom,
    });
  }
  d.audit('login', user.ext, { via });
  return d.finish('logged-in', 'logged-in', `logged in as ${label(user.ext, user.name)}`, { ...who, ...movedFrom });
}

/** `*35*<ext>*<pin>` and screen login. */
function loginWithPin(state: DeskState, d: Draft, ext: string, pinValid: boolean, now: number, policy: DecidePolicy): DeskDecision {
  const current = state.phoneSession;
  if (current !== null && current.userExt === ext) return endCurrent(state, d, 'logout', 'logout');
  const checked = checkPin(state, d, ext, pinValid, now, policy.pinLockout);
  if (!('ext' in checked)) return checked;
  if (current !== null && policy.identitySwitch === 'strict') return endCurrent(state, d, 'logout', 'logout');
  return login(state, d, checked, now, policy.multipleLogin, 'pin');
}

function adminLogin(state: DeskState, d: Draft, ext: string, now: number, policy: DecidePolicy): DeskDecision {
  const user = state.user;
  if (user === null || user.ext !== ext) return d.finish('unknown-user', 'unknown-user', 'unknown short number');
  const who = { user: user.ext, userName: user.name };
  if (!user.hotdesk) {
    d.audit('refused', user.ext, { reason: 'user-disabled', via: 'admin' });
    return d.finish('not-allowed', 'not-allowed', `hot-desking is not enabled for ${label(user.ext, user.name)}`, who);
  }
  if (state.phoneSession !== null && state.phoneSession.userExt === ext) {
    return d.finish('no-change', null, `${label(user.ext, user.name)} is already logged in on this phone`, who);
  }
  return login(state, d, user, now, policy.multipleLogin, 'admin');
}

/**
 * Decides what one command does to one phone (DESIGN.md §2 table and rules).
 * Pure, deterministic and total: never throws, for any state and command.
 *
 * @param state  the slice of the world loaded by the shell for this phone and named user
 * @param command what the person, PBX, admin or timer asked for
 * @param now    epoch ms (session start time, lock arithmetic, audit time)
 * @param policy identity-switch, multiple-login and PIN-lockout policies
 */
export function decide(state: DeskState, command: DeskCommand, now: number, policy: DecidePolicy): DeskDecision {
  const d = new Draft(state, now);
  switch (command.kind) {
    case 'logout':
      return endCurrent(state, d, command.reason === 'admin' ? 'admin' : 'logout', 'logout');
    case 'expire':
      return endCurrent(state, d, command.reason === 'daily-logout' ? 'daily-logout' : 'max-duration', 'auto-logout');
    case 'dial': {
      const code = command.code;
      if (code.kind === 'not-hotdesk') return d.finish('not-hotdesk-code', 'not-hotdesk-code', `not a hot-desk code: ${code.reason}`);
      if (!state.phone.hotdesk) return refusePhone(d, code.kind === 'toggle' ? undefined : code.ext);
      if (code.kind === 'ext-pin') return loginWithPin(state, d, code.ext, command.pinValid === true, now, policy);
      if (state.phoneSession !== null) return endCurrent(state, d, 'logout', 'logout');
      if (code.kind === 'toggle') return d.finish('ask-extension', 'ask-extension', 'enter your short number');
      return d.finish('ask-pin', 'ask-pin', 'enter your PIN');
    }
    case 'screen-login':
      if (!state.phone.hotdesk) return refusePhone(d, command.ext);
      return loginWithPin(state, d, command.ext, command.pinValid === true, now, policy);
    case 'admin-login':
      if (!state.phone.hotdesk) return refusePhone(d, command.ext);
      return adminLogin(state, d, command.ext, now, policy);
    default:
      return d.finish('no-change', null, 'unknown command');
  }
}
