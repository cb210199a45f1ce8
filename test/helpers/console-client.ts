/**
 * A console client for route tests without a browser: accounts added to the
 * running agent's store, sign-in through the real form (pre-sign-in cookie,
 * hidden token), then requests with the session cookie and CSRF token.
 */
import { AdminStore, type AdminRole } from '../../agent/store/admin-queries.js';
import type { Store } from '../../agent/store/store.js';
import { hashPassword } from '../../agent/shell/console/password-hash.js';

/** Cheaper scrypt cost for test accounts (the cost travels in the hash). */
export const TEST_COST = { logN: 10, r: 8, p: 1 };

/** Adds a console account with a cheap hash. */
export async function addAccount(store: Store, name: string, role: AdminRole, password: string): Promise<void> {
  new AdminStore(store.db).addAdmin({ name, role, passwordHash: await hashPassword(password, TEST_COST) }, Date.now());
}

function cookiesOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair?.indexOf('=') ?? -1;
    if (pair && i > 0) out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/** Answer of a raw sign-in attempt. */
export async function trySignIn(base: string, name: string, password: string): Promise<Response> {
  const form = await fetch(`${base}/admin/login`);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const pre = cookiesOf(form)['hotdesk_signin'] ?? '';
  return fetch(`${base}/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `hotdesk_signin=${pre}` },
    body: new URLSearchParams({ _csrf: token, name, password, next: '/admin/' }).toString(),
  });
}

/** A signed-in console client. */
export interface ConsoleClient {
  readonly cookie: string;
  readonly csrf: string;
  readonly setCookie: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  /** Form POST; `_csrf` is added unless `csrf: false`. */
  post(path: string, fields?: Record<string, string>, o?: { csrf?: boolean; htmx?: boolean; headers?: Record<string, string> }): Promise<Response>;
}

/** Signs in (throws when refused). */
export async function signIn(base: string, name: string, password: string): Promise<ConsoleClient> {
  const res = await trySignIn(base, name, password);
  if (res.status !== 303) throw new Error(`sign-in refused: ${res.status} ${await res.text()}`);
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('hotdesk_console=')) ?? '';
  const cookie = `hotdesk_console=${cookiesOf(res)['hotdesk_console'] ?? ''}`;
  const home = await (await fetch(`${base}/admin/`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(home)?.[1] ?? '';
  return {
    cookie,
    csrf,
    setCookie,
    get: (path, headers = {}) => fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie, accept: 'text/html', ...headers } }),
    post: (path, fields = {}, o = {}) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...(o.htmx ? { 'hx-request': 'true' } : {}), ...(o.headers ?? {}) },
        body: new URLSearchParams({ ...(o.csrf === false ? {} : { _csrf: csrf }), ...fields }).toString(),
      }),
  };
}
