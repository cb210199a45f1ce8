/**
 * The hot-desk state machine as one pure, total function:
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
 * Choices this module makes (tested):
 * - `*35*<ext>` on a free phone always answers `ask-pin`, whether or not the
 *   user exists, so the short-number step does not enumerate users.
 * - The PIN step does not enumerate users either: an unknown short number, a
 *   user without a PIN and a wrong PIN get the same `wrong-pin` answer and
 *   count the same failures (on the short number and on the phone); a user
 *   with hot-desking off is told `not-allowed` only after a correct PIN.
 *   Checks run in this order: phone locked, short number locked, PIN, user
 *   allowed. A locked phone or number answers `locked` before any PIN check,
 *   so locked attempts neither count nor reveal anything.
 * - Failures are counted in a sliding window (core/pin-guard.ts) that no
 *   lock and no success resets.
 * - A screen login is the dialled `*35*<ext>*<pin>`, including "same user:
 *   log out" and the identity-switch policy.
 * - An admin login needs no PIN, ignores locks, always switches directly,
 *   answers `no-change` when the user already is on this phone, and follows
 *   `multipleLogin`.
 * - A phone with hot-desking off refuses dial, screen and admin logins with
 *   `not-allowed`; `logout` and `expire` still end an existing session.
 * - Under `multipleLogin: refuse` a correct PIN changes no session.
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
import { DEFAULT_PIN_LOCKOUT, lockedUntilOf, recordFailure, sameCounter } from './pin-guard.js';

/** The policies one decision needs (from the site settings). */
export interface DecidePolicy {
  readonly identitySwitch: IdentitySwitchPolicy;
  readonly multipleLogin: MultipleLoginPolicy;
  readonly pinLockout: PinLockoutPolicy;
}

/** Defaults: direct identity switch, a user moves between phones, 5 PIN failures lock. */
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
 * True for the answers to a refused PIN attempt (`wrong-pin`, `locked`): the
 * phone-facing routes also count these against the requesting address.
 */
export function isPinRefusal(o: DeskOutcome): boolean {
  return o.code === 'wrong-pin' || o.code === 'locked';
}

/** The locked answer: the same for a locked phone and a locked short number, known or not. */
function lockedAnswer(d: Draft, lockedUntil: number): DeskDecision {
  return d.finish('locked', 'locked', 'too many wrong PINs: locked', { lockedUntil });
}

/**
 * PIN checks for a login as `ext`. Returns the refusal, or the verified user.
 *
 * Every refusal before the PIN is proven gives one of two answers, `locked`
 * or `wrong-pin` (with attempts left), built from the same counters whether
 * or not `ext` belongs to a user, whether that user has a PIN or may
 * hot-desk: a guesser learns nothing about which short numbers exist. Only
 * the audit log records the real reason. Failures count on the short
 * number's counter (kept for unknown numbers too) and on the phone's; a
 * success changes no counter (see core/pin-guard.ts).
 */
function checkPin(state: DeskState, d: Draft, ext: string, pinValid: boolean, now: number, policy: PinLockoutPolicy): DeskDecision | KnownUser {
  const mac = state.phone.mac;
  const pl = state.phoneLock;
  const ul = state.userLock;
  const user = state.user !== null && state.user.ext === ext ? state.user : null;
  const phoneUntil = lockedUntilOf(pl, policy, now);
  if (phoneUntil > 0) {
    d.audit('refused', ext, { reason: 'locked', scope: 'phone' });
    return lockedAnswer(d, phoneUntil);
  }
  // A malformed short number (screens) cannot be anybody: it counts on the phone only.
  const countsExt = isValidExt(ext);
  const userUntil = countsExt ? lockedUntilOf(ul, policy, now) : 0;
  if (userUntil > 0) {
    d.audit('refused', ext, { reason: 'locked', scope: 'user' });
    return lockedAnswer(d, userUntil);
  }
  if (user?.hasPin && pinValid) {
    if (!user.hotdesk) {
      d.audit('refused', user.ext, { reason: 'user-disabled' });
      return d.finish('not-allowed', 'not-allowed', `hot-desking is not enabled for ${label(user.ext, user.name)}`, { user: user.ext, userName: user.name });
    }
    return user;
  }
  const ru = countsExt ? recordFailure(ul, policy, now) : null;
  const rp = recordFailure(pl, policy, now);
  if (ru !== null) d.lock('user', ext, ul, ru.counter);
  d.lock('phone', mac, pl, rp.counter);
  const attemptsLeft = Math.min(ru?.attemptsLeft ?? rp.attemptsLeft, rp.attemptsLeft);
  if (user === null) d.audit('refused', ext, { reason: 'unknown-user', attemptsLeft });
  else if (!user.hasPin) d.audit('refused', ext, { reason: 'no-pin', attemptsLeft });
  else d.audit('wrong-pin', ext, { attemptsLeft });
  const until: number[] = [];
  if (ru?.lockedNow === true) {
    d.audit('lockout', ext, { scope: 'user', until: ru.counter.lockedUntil, lockouts: ru.counter.lockouts });
    until.push(ru.counter.lockedUntil);
  }
  if (rp.lockedNow) {
    d.audit('lockout', undefined, { scope: 'phone', until: rp.counter.lockedUntil, lockouts: rp.counter.lockouts });
    until.push(rp.counter.lockedUntil);
  }
  if (until.length > 0) return lockedAnswer(d, Math.max(...until));
  return d.finish('wrong-pin', 'wrong-pin', `wrong PIN, ${attemptsLeft} attempts left`, { attemptsLeft });
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
 * Decides what one command does to one phone (the hot-desk table and rules).
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
