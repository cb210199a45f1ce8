/**
 * The hot-desk service: one decision = one store transaction (docs/behaviour.md §1,
 * §9). For each command it loads the {@link DeskState} inside the transaction
 * (SQLite `BEGIN IMMEDIATE`; PostgreSQL READ COMMITTED holding advisory locks on the
 * phone, then the user: docs/scaling.md), verifies the PIN against
 * its keyed HMAC (pin-hash.ts), calls the pure `decide`, applies every effect
 * (sessions, lock counters, revision bumps, audit) and commits; the store's
 * change listeners then hear which phones to re-sync.
 *
 * The schema is the last line of defence: a second session on a phone or
 * (under `move`/`refuse`) of a user violates a PRIMARY KEY / UNIQUE index.
 * Such a rejection (or a serialization failure the store did not absorb: see
 * `isConflict`) retries the whole transaction once on fresh state, then fails
 * with `conflict`. Outcomes never contain the PIN.
 */
import { HotdeskError } from '../core/errors.js';
import { parseFeatureCode } from '../core/feature-code.js';
import { decide as coreDecide, type DecidePolicy } from '../core/hotdesk-machine.js';
import { LOCKOUT_MEMORY_SECONDS, windowMsOf } from '../core/pin-guard.js';
import type { DeskCommand, DeskDecision, DeskOutcome, DeskState, Session, SiteSettings } from '../core/model.js';
import { EMPTY_LOCK, normalizeMac } from '../core/model.js';
import { sessionEndReason } from '../core/session-end.js';
import { isConflict, type StoreApi } from '../store/store-api.js';

/** The decision function (injectable for tests). */
export type DecideFn = (state: DeskState, command: DeskCommand, now: number, policy: DecidePolicy) => DeskDecision;

/** Options of {@link HotdeskService}. */
export interface HotdeskServiceOptions {
  /** Replaces the core state machine (tests only). */
  readonly decide?: DecideFn;
  /** True while the phone is in a call (sessions are not expired mid-call). */
  readonly inCall?: (mac: string) => boolean;
}

/** What a command names besides the phone: a user and maybe a PIN to verify. */
interface Named {
  readonly ext: string | null;
  readonly pin?: string;
}

/** What a command asks, given the site settings read in its transaction. */
type Plan = (site: SiteSettings) => { named: Named; command: (pinValid: boolean | undefined) => DeskCommand };

/** Internal: the store state changed under us (retry once). */
class StaleState extends Error {}

function isRetryable(e: unknown): boolean {
  return e instanceof StaleState || isConflict(e);
}

/** Runs hot-desk commands against the store, each as one transaction. */
export class HotdeskService {
  private readonly decideFn: DecideFn;
  private readonly inCall: (mac: string) => boolean;

  /**
   * @param store the open store
   * @param clock epoch ms now (injected for tests)
   */
  constructor(
    private readonly store: StoreApi,
    private readonly clock: () => number,
    options: HotdeskServiceOptions = {},
  ) {
    this.decideFn = options.decide ?? coreDecide;
    this.inCall = options.inCall ?? (() => false);
  }

  /**
   * Digits dialled on a phone (PBX, action URL, CLI). Parsed with the site's
   * feature prefix; digits that are not a hot-desk code give the outcome
   * `not-hotdesk-code` (no throw, no change). Throws `unknown-phone`.
   */
  dial(phoneMac: string, digits: string): Promise<DeskOutcome> {
    return this.run(phoneMac, (site) => {
      const code = parseFeatureCode(digits, site.featurePrefix);
      if (code.kind === 'ext-pin')
        return { named: { ext: code.ext, pin: code.pin }, command: (pinValid) => ({ kind: 'dial', code, pinValid: pinValid === true }) };
      if (code.kind === 'ext') return { named: { ext: code.ext }, command: () => ({ kind: 'dial', code }) };
      return { named: { ext: null }, command: () => ({ kind: 'dial', code }) };
    });
  }

  /** Short number + PIN entered on the phone screen (XML browser). Throws `unknown-phone`. */
  screenLogin(mac: string, ext: string, pin: string): Promise<DeskOutcome> {
    return this.run(mac, () => ({ named: { ext, pin }, command: (pinValid) => ({ kind: 'screen-login', ext, pinValid: pinValid === true }) }));
  }

  /** Admin/CLI login without PIN (policies still apply). Throws `unknown-phone`. */
  adminLogin(mac: string, ext: string): Promise<DeskOutcome> {
    return this.run(mac, () => ({ named: { ext }, command: () => ({ kind: 'admin-login', ext }) }));
  }

  /** Logs out whoever is on the phone (`no-change` when nobody). Throws `unknown-phone`. */
  logout(mac: string, reason: 'logout' | 'admin' = 'logout'): Promise<DeskOutcome> {
    return this.run(mac, () => ({ named: { ext: null }, command: () => ({ kind: 'logout', reason }) }));
  }

  /**
   * Ends every session due by the site's session rules at `now` (maximum
   * duration, daily logout time; never a phone in a call). Each session ends
   * in its own transaction, re-checked on fresh state. Returns the outcomes.
   */
  async expireDue(now: number): Promise<DeskOutcome[]> {
    const [site, sessions] = await Promise.all([this.store.getSite(), this.store.listSessions()]);
    const out: DeskOutcome[] = [];
    for (const s of sessions) {
      const reason = sessionEndReason(s, site.sessions, site.timezone, now, this.inCall(s.phoneMac));
      if (reason === null) continue;
      const outcome = await this.run(
        s.phoneMac,
        () => ({ named: { ext: null }, command: () => ({ kind: 'expire', reason }) }),
        (current) => current !== undefined && current.userExt === s.userExt && current.startedAt === s.startedAt,
        now,
      );
      if (outcome.code === 'logged-out') out.push(outcome);
    }
    return out;
  }

  /**
   * One decision in one transaction; a constraint violation retries once on
   * fresh state, then throws `conflict`.
   */
  private async run(rawMac: string, plan: Plan, precondition?: (session: Session | undefined) => boolean, at?: number): Promise<DeskOutcome> {
    const mac = normalizeMac(rawMac);
    if (mac === null) throw new HotdeskError('unknown-phone', 'not a MAC address');
    for (let attempt = 1; ; attempt++) {
      try {
        // The whole decision (reads, decide, effects) is one transaction; nothing in it leaves the store.
        // On PostgreSQL the phone's lock, then the user's (once known, in once()), serialise decisions
        // about the same phone or user across every agent (store-api.ts TransactionOptions).
        return await this.store.transaction(async () => this.once(mac, plan, precondition, at ?? this.clock()), { locks: [`phone:${mac}`] });
      } catch (e) {
        if (!isRetryable(e)) throw e;
        if (attempt >= 2) throw new HotdeskError('conflict', 'a concurrent change won; try again', { phone: mac });
      }
    }
  }

  private async once(mac: string, plan: Plan, precondition: ((session: Session | undefined) => boolean) | undefined, now: number): Promise<DeskOutcome> {
    const store = this.store;
    const [phone, current, site] = await Promise.all([store.getPhone(mac), store.sessionOf(mac), store.getSite()]);
    if (!phone) throw new HotdeskError('unknown-phone', 'unknown phone', { phone: mac });
    const phoneSession = current ?? null;
    if (precondition && !precondition(phoneSession ?? undefined)) {
      return { code: 'no-change', prompt: null, phone: mac, message: 'the session already ended' };
    }
    const policy: DecidePolicy = { identitySwitch: site.policies.identitySwitch, multipleLogin: site.policies.multipleLogin, pinLockout: site.pinLockout };
    const { named, command } = plan(site);
    // A command naming nobody concerns the phone's current user (for names in the outcome).
    const ext = named.ext ?? phoneSession?.userExt ?? null;
    // Lock order is always phone, then user: decisions never wait for each other in a cycle.
    if (ext !== null) await store.lockKeys([`user:${ext}`]);
    const [user, userLock, phoneLock] = await Promise.all([
      ext !== null ? store.getUser(ext) : undefined,
      // The named short number's failure record, kept whether or not a user has it.
      ext !== null ? store.getLock('user', ext) : EMPTY_LOCK,
      store.getLock('phone', mac),
    ]);
    const [pinValid, hasPin, userSessions] = await Promise.all([
      named.pin !== undefined && user !== undefined ? store.verifyPin(user.ext, named.pin) : named.pin !== undefined ? false : undefined,
      user ? store.userHasPin(user.ext) : false,
      user ? store.sessionsOfUser(user.ext) : [],
    ]);
    const state: DeskState = {
      phone: { mac, hotdesk: phone.hotdesk },
      phoneSession,
      user: user ? { ext: user.ext, name: user.name, hotdesk: user.hotdesk, hasPin } : null,
      userSessions,
      userLock,
      phoneLock,
    };
    const decision = this.decideFn(state, command(pinValid), now, policy);
    const exclusive = policy.multipleLogin !== 'allow';
    let failuresChanged = false;
    for (const effect of decision.effects) {
      switch (effect.type) {
        case 'session-end':
          if (!(await store.endSession(effect.session))) throw new StaleState('session already ended');
          break;
        case 'session-start':
          await store.startSession(effect.session, exclusive);
          break;
        case 'reprovision':
          await store.bumpRevision(effect.mac, now);
          break;
        case 'lock-set':
          await store.setLock(effect.scope, effect.subject, effect.counter);
          failuresChanged = true;
          break;
        case 'audit':
          await store.appendAudit(effect.event);
          break;
      }
    }
    // Keep the failure table bounded: drop what no longer counts, in the same transaction.
    if (failuresChanged) await store.pruneLocks(now - windowMsOf(policy.pinLockout), now - LOCKOUT_MEMORY_SECONDS * 1000);
    return decision.outcome;
  }
}
