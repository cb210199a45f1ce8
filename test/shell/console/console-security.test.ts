/**
 * The console's pure security parts: scrypt password hashing, session expiry
 * with an injected clock, the CSRF check, roles, HTML escaping; and the
 * sign-in limits and revocation of ConsoleAuth over a real store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import { AdminStore } from '../../../agent/store/admin-queries.js';
import { openStore, type Store } from '../../../agent/store/store.js';
import { sqliteStore } from '../../../agent/store/sqlite-store.js';
import { ConsoleAuth, checkCsrf } from '../../../agent/shell/console/console-auth.js';
import { csrfTokenMatches, sameOrigin, sessionState, type SessionPolicy } from '../../../agent/shell/console/console-session.js';
import { escapeHtml, html, raw } from '../../../agent/shell/console/html.js';
import { DEFAULT_SCRYPT_COST, hashPassword, parsePasswordHash, verifyPassword } from '../../../agent/shell/console/password-hash.js';
import { requireRole, roleAllows } from '../../../agent/shell/console/roles.js';
import { auditCsv } from '../../../agent/shell/console/audit-view.js';

const FAST = { logN: 10, r: 8, p: 1 };

describe('password hashing (scrypt)', () => {
  it('hashes with the default work factor N=2^15, r=8, p=1 and a per-password salt, and verifies', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).not.toBe(b);
    const parsed = parsePasswordHash(a);
    expect(parsed?.cost).toEqual(DEFAULT_SCRYPT_COST);
    expect(DEFAULT_SCRYPT_COST.logN).toBeGreaterThanOrEqual(15);
    expect(parsed?.salt.length).toBe(16);
    expect(a).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
  });

  it('verifies with the cost stored in the hash, and refuses malformed hashes and huge passwords', async () => {
    const h = await hashPassword('pässwörd-1', FAST, Buffer.alloc(16, 7));
    expect(h.startsWith('scrypt$10$8$1$')).toBe(true);
    expect(await verifyPassword('pässwörd-1', h)).toBe(true);
    expect(await verifyPassword('pässwörd-1'.normalize('NFD'), h)).toBe(true);
    expect(await verifyPassword('x', 'plain-text')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$40$8$1$AA==$AA==')).toBe(false);
    expect(await verifyPassword('a'.repeat(5000), h)).toBe(false);
  });
});

describe('session expiry', () => {
  const policy: SessionPolicy = { idleMs: 1000, absoluteMs: 5000 };
  it('is live while used, idle after the idle timeout, expired after the absolute one however used', () => {
    expect(sessionState({ createdAt: 0, lastSeenAt: 0 }, 999, policy)).toBe('live');
    expect(sessionState({ createdAt: 0, lastSeenAt: 0 }, 1000, policy)).toBe('idle');
    expect(sessionState({ createdAt: 0, lastSeenAt: 4500 }, 4900, policy)).toBe('live');
    expect(sessionState({ createdAt: 0, lastSeenAt: 4999 }, 5000, policy)).toBe('expired');
  });
});

describe('CSRF check', () => {
  const session = { csrfToken: 'tok-123456' };
  const base = { method: 'POST', headerToken: undefined, fieldToken: undefined, origin: undefined, referer: undefined, host: 'agent:8080' };
  const refused = (f: () => void): string | undefined => {
    try {
      f();
      return undefined;
    } catch (e) {
      return isHotdeskError(e) ? e.code : 'other';
    }
  };
  it('accepts the token from the header or the form field; refuses none, a wrong one, or another origin', () => {
    expect(refused(() => checkCsrf(session, { ...base, headerToken: 'tok-123456' }))).toBeUndefined();
    expect(refused(() => checkCsrf(session, { ...base, fieldToken: 'tok-123456', origin: 'http://agent:8080' }))).toBeUndefined();
    expect(refused(() => checkCsrf(session, base))).toBe('csrf-failed');
    expect(refused(() => checkCsrf(session, { ...base, fieldToken: 'tok-12345' }))).toBe('csrf-failed');
    expect(refused(() => checkCsrf(session, { ...base, fieldToken: 'tok-123456', origin: 'http://evil.example' }))).toBe('csrf-failed');
    expect(refused(() => checkCsrf(session, { ...base, method: 'GET' }))).toBeUndefined();
  });
  it('compares tokens exactly, never matching an empty one', () => {
    expect(csrfTokenMatches('abc', 'abc')).toBe(true);
    expect(csrfTokenMatches('abc', '')).toBe(false);
    expect(csrfTokenMatches('', '')).toBe(false);
    expect(csrfTokenMatches('abc', undefined)).toBe(false);
    expect(sameOrigin(undefined, 'http://agent:8080/admin/phones', 'agent:8080')).toBe(true);
    expect(sameOrigin('null', undefined, 'agent:8080')).toBe(false);
  });
});

describe('roles', () => {
  it('gives admin everything and helpdesk status and desk actions only', () => {
    for (const a of ['view', 'desk', 'reset-enrolment', 'import', 'secrets'] as const) expect(roleAllows('admin', a)).toBe(true);
    expect(roleAllows('helpdesk', 'view')).toBe(true);
    expect(roleAllows('helpdesk', 'desk')).toBe(true);
    expect(roleAllows('helpdesk', 'import')).toBe(false);
    expect(roleAllows('helpdesk', 'secrets')).toBe(false);
    expect(roleAllows('helpdesk', 'reset-enrolment')).toBe(false);
    expect(() => requireRole('helpdesk', 'import')).toThrow(expect.objectContaining({ code: 'role-forbidden' }));
  });
});

describe('html escaping and CSV', () => {
  it('escapes interpolations unless they are markup built by html``', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;');
    const label = '<script>alert(1)</script>';
    expect(html`<td>${label}</td>${html`<b>${'&'}</b>`}${raw('<i>')}${[1, null, false, 'x']}`.text).toBe(
      '<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><b>&amp;</b><i>1x',
    );
  });
  it('quotes CSV fields and neutralises spreadsheet formulas', () => {
    const csv = auditCsv([{ id: 1, at: 0, kind: 'login', phone: '001565aabb01', user: '=1+1', detail: { why: 'a, "b"' } }]);
    expect(csv).toBe(`id,time,kind,phone,user,detail\r\n1,1970-01-01T00:00:00.000Z,login,001565aabb01,'=1+1,"{""why"":""a, \\""b\\""""}"\r\n`);
  });
});

describe('ConsoleAuth over a store', () => {
  let dir = '';
  let store: Store | null = null;
  afterEach(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  async function setup(now: { t: number }, sourceFailures = 20): Promise<{ auth: ConsoleAuth; admins: AdminStore }> {
    dir = mkdtempSync(join(tmpdir(), 'hotdesk-console-'));
    store = openStore(dir);
    const admins = new AdminStore(store.db);
    admins.addAdmin({ name: 'alice', role: 'admin', passwordHash: await hashPassword('alice-password', FAST) }, 0);
    admins.addAdmin({ name: 'bob', role: 'helpdesk', passwordHash: await hashPassword('bob-password', FAST) }, 0);
    const auth = new ConsoleAuth({
      admins: sqliteStore(store),
      clock: () => now.t,
      policy: { idleMs: 1000, absoluteMs: 10_000 },
      sourceLimit: { maxFailures: sourceFailures, windowMs: 60_000, blockMs: 60_000 },
    });
    return { auth, admins };
  }
  const code = async (p: Promise<unknown>): Promise<string | undefined> =>
    p.then(
      () => undefined,
      (e: unknown) => (isHotdeskError(e) ? e.code : 'other'),
    );

  it('signs in, stores only a hash of the cookie, expires idle sessions with the injected clock, and revokes on sign-out', async () => {
    const now = { t: 100 };
    const { auth, admins } = await setup(now);
    const { cookie, session } = await auth.signIn('alice', 'alice-password', '10.0.0.1');
    expect(session.role).toBe('admin');
    expect(admins.getSession(cookie)).toBeUndefined();
    now.t = 900;
    expect((await auth.lookup(cookie))?.name).toBe('alice');
    now.t = 1800; // 900 ms after the last use: still live
    expect((await auth.lookup(cookie))?.name).toBe('alice');
    now.t = 2800; // 1000 ms idle
    expect(await auth.lookup(cookie)).toBeNull();
    const again = await auth.signIn('alice', 'alice-password', '10.0.0.1');
    await auth.signOut(again.cookie);
    expect(await auth.lookup(again.cookie)).toBeNull();
    const third = await auth.signIn('alice', 'alice-password', '10.0.0.1');
    expect(admins.removeAdmin('alice')).toBe(true);
    expect(await auth.lookup(third.cookie)).toBeNull();
  });

  it('ends a session at the absolute timeout however busy', async () => {
    const now = { t: 0 };
    const { auth } = await setup(now);
    const { cookie } = await auth.signIn('bob', 'bob-password', '10.0.0.1');
    for (now.t = 500; now.t < 10_000; now.t += 500) expect((await auth.lookup(cookie))?.role).toBe('helpdesk');
    now.t = 10_000;
    expect(await auth.lookup(cookie)).toBeNull();
  });

  it('answers a wrong password and an unknown name alike, and pauses an account after five wrong passwords', async () => {
    const now = { t: 0 };
    const { auth } = await setup(now);
    expect(await code(auth.signIn('nobody', 'x', '10.0.0.2'))).toBe('sign-in-failed');
    for (let i = 0; i < 5; i++) expect(await code(auth.signIn('alice', 'wrong', `10.0.0.${10 + i}`))).toBe('sign-in-failed');
    expect(await code(auth.signIn('alice', 'alice-password', '10.0.0.99'))).toBe('rate-limited');
    expect(await code(auth.signIn('bob', 'bob-password', '10.0.0.99'))).toBeUndefined();
    now.t = 15 * 60_000 + 1;
    expect(await code(auth.signIn('alice', 'alice-password', '10.0.0.99'))).toBeUndefined();
  });

  it('pauses a source address after its budget of wrong sign-ins, whatever the names', async () => {
    const now = { t: 0 };
    const { auth } = await setup(now, 3);
    for (let i = 0; i < 3; i++) await code(auth.signIn(`user${i}`, 'x', '10.9.9.9'));
    expect(await code(auth.signIn('bob', 'bob-password', '10.9.9.9'))).toBe('rate-limited');
    expect(await code(auth.signIn('bob', 'bob-password', '10.9.9.8'))).toBeUndefined();
  });
});
