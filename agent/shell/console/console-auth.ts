/**
 * Console sign-in, sessions and request checks (docs/console.md "Security").
 *
 * - Sign-in verifies the scrypt hash (password-hash.ts); an unknown name
 *   costs the same work and gets the same `sign-in-failed` answer.
 * - Failed sign-ins are limited per source address and per account name
 *   ({@link FailureLimiter}); a limited attempt is refused with
 *   `rate-limited` before its password is looked at.
 * - A session is a server-side row (revocable: sign-out, `hotdesk admin
 *   remove`), with idle and absolute timeouts (console-session.ts).
 * - Every state-changing request must carry the session's CSRF token and,
 *   when the browser sends one, an `Origin`/`Referer` of this host.
 */
import { randomBytes } from 'node:crypto';
import { HotdeskError } from '../../core/errors.js';
import type { StoreData } from '../../store/store-api.js';
import { FailureLimiter, type RateLimitPolicy } from '../http/rate-limiter.js';
import { MAX_PASSWORD_LENGTH, verifyNobody, verifyPassword } from './password-hash.js';
import { csrfTokenMatches, DEFAULT_SESSION_POLICY, newToken, sameOrigin, sessionKey, sessionState, type SessionPolicy } from './console-session.js';
import type { Viewer } from './layout.js';

/** Per account name: 5 wrong passwords in 15 minutes pause sign-in to it for 15 minutes. */
export const ACCOUNT_SIGN_IN_LIMIT: RateLimitPolicy = { maxFailures: 5, windowMs: 15 * 60_000, blockMs: 15 * 60_000 };
/** Per source address: 20 wrong sign-ins in 15 minutes pause that address for 15 minutes. */
export const SOURCE_SIGN_IN_LIMIT: RateLimitPolicy = { maxFailures: 20, windowMs: 15 * 60_000, blockMs: 15 * 60_000 };

/** The console accounts and sessions of the store that {@link ConsoleAuth} uses. */
export type ConsoleAccounts = Pick<
  StoreData,
  'getAdmin' | 'createConsoleSession' | 'getConsoleSession' | 'touchConsoleSession' | 'deleteConsoleSession' | 'pruneConsoleSessions'
>;

/** What {@link ConsoleAuth} needs. */
export interface ConsoleAuthDeps {
  readonly admins: ConsoleAccounts;
  readonly clock: () => number;
  readonly random?: (n: number) => Buffer;
  readonly policy?: SessionPolicy;
  readonly accountLimit?: RateLimitPolicy;
  readonly sourceLimit?: RateLimitPolicy;
}

/** A signed-in session as a request sees it. */
export interface ConsoleSession extends Viewer {
  readonly key: string;
  readonly createdAt: number;
}

/** Sign-in, session lookup and sign-out. */
export class ConsoleAuth {
  readonly policy: SessionPolicy;
  private readonly random: (n: number) => Buffer;
  private readonly byAccount: FailureLimiter;
  private readonly bySource: FailureLimiter;

  constructor(private readonly deps: ConsoleAuthDeps) {
    this.policy = deps.policy ?? DEFAULT_SESSION_POLICY;
    this.random = deps.random ?? randomBytes;
    this.byAccount = new FailureLimiter(deps.accountLimit ?? ACCOUNT_SIGN_IN_LIMIT, 10_000);
    this.bySource = new FailureLimiter(deps.sourceLimit ?? SOURCE_SIGN_IN_LIMIT, 10_000);
  }

  /**
   * Checks a name and password; on success stores a new session and returns
   * the cookie value (given to the browser, never stored) and the session.
   */
  async signIn(name: string, password: string, source: string): Promise<{ cookie: string; session: ConsoleSession }> {
    const account = name.trim().toLowerCase();
    const now = this.deps.clock();
    if (this.bySource.blocked(source, now) || this.byAccount.blocked(account, now)) {
      throw new HotdeskError('rate-limited', 'too many wrong sign-ins: wait 15 minutes', {
        retryAfterSeconds: Math.ceil((this.deps.accountLimit ?? ACCOUNT_SIGN_IN_LIMIT).blockMs / 1000),
      });
    }
    const admin = name.length <= 64 ? await this.deps.admins.getAdmin(name.trim()) : undefined;
    const ok = admin && password.length <= MAX_PASSWORD_LENGTH ? await verifyPassword(password, admin.passwordHash) : await verifyNobody(password);
    if (!admin || !ok) {
      const later = this.deps.clock();
      this.byAccount.fail(account, later);
      this.bySource.fail(source, later);
      throw new HotdeskError('sign-in-failed');
    }
    this.byAccount.reset(account);
    const cookie = newToken(this.random);
    const csrfToken = newToken(this.random);
    const key = sessionKey(cookie);
    const at = this.deps.clock();
    await this.deps.admins.createConsoleSession({ key, admin: admin.name, csrfToken, now: at, source });
    await this.deps.admins.pruneConsoleSessions(at - this.policy.absoluteMs, at - this.policy.idleMs);
    return { cookie, session: { key, name: admin.name, role: admin.role, csrfToken, createdAt: at } };
  }

  /** The live session of a cookie value (its use noted), or null; an expired one is deleted. */
  async lookup(cookie: string | undefined, touch = true): Promise<ConsoleSession | null> {
    if (cookie === undefined || cookie.length === 0 || cookie.length > 100) return null;
    const key = sessionKey(cookie);
    const row = await this.deps.admins.getConsoleSession(key);
    if (!row) return null;
    const now = this.deps.clock();
    if (sessionState(row, now, this.policy) !== 'live') {
      await this.deps.admins.deleteConsoleSession(key);
      return null;
    }
    if (touch) await this.deps.admins.touchConsoleSession(key, now);
    return { key, name: row.admin, role: row.role, csrfToken: row.csrfToken, createdAt: row.createdAt };
  }

  /** Ends the session of a cookie value (no-op when none). */
  async signOut(cookie: string | undefined): Promise<void> {
    if (cookie) await this.deps.admins.deleteConsoleSession(sessionKey(cookie));
  }

  /** Seconds the cookie may live (the absolute deadline; the idle one is enforced server-side). */
  cookieMaxAge(s: ConsoleSession): number {
    return Math.max(1, Math.floor((s.createdAt + this.policy.absoluteMs - this.deps.clock()) / 1000));
  }
}

/** The headers and body field a state-changing request is checked with. */
export interface CsrfInput {
  readonly method: string;
  readonly headerToken: string | undefined;
  readonly fieldToken: string | undefined;
  readonly origin: string | undefined;
  readonly referer: string | undefined;
  readonly host: string | undefined;
}

/** Throws `csrf-failed` when a state-changing request lacks the session's token or comes from another origin. */
export function checkCsrf(session: Pick<ConsoleSession, 'csrfToken'>, r: CsrfInput): void {
  if (r.method === 'GET' || r.method === 'HEAD') return;
  if (!sameOrigin(r.origin, r.referer, r.host)) throw new HotdeskError('csrf-failed', 'the request came from another site');
  if (!csrfTokenMatches(session.csrfToken, r.headerToken ?? r.fieldToken)) throw new HotdeskError('csrf-failed');
}
