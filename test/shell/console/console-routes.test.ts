/**
 * The console's routes over real HTTP against a real agent on the demo office
 * (no browser): sign-in, cookie attributes, sessions, CSRF, roles, phone and
 * people actions, directory preview/apply, audit CSV, errors as pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/agent-harness.js';
import { addAccount, signIn, trySignIn, type ConsoleClient } from '../../helpers/console-client.js';
import { exportDirectory } from '../../../agent/directory/export-directory.js';

let h: Harness;
let admin: ConsoleClient;
let desk: ConsoleClient;
const DESK1 = '001565aabb01';

beforeAll(async () => {
  h = await startHarness();
  await addAccount(h.agent.sqlite, 'root', 'admin', 'root-password-1');
  await addAccount(h.agent.sqlite, 'desk', 'helpdesk', 'desk-password-1');
  await addAccount(h.agent.sqlite, 'victim', 'admin', 'victim-password');
  admin = await signIn(h.base, 'root', 'root-password-1');
  desk = await signIn(h.base, 'desk', 'desk-password-1');
});
afterAll(async () => {
  await h?.stop();
});

describe('sign-in and sessions', () => {
  it('sends an anonymous browser to the sign-in page, and serves assets and htmx from the agent', async () => {
    const res = await fetch(`${h.base}/admin/phones`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Fphones');
    const api = await fetch(`${h.base}/admin/phones`, { redirect: 'manual' });
    expect(api.status).toBe(401);
    const js = await fetch(`${h.base}/admin/assets/htmx.min.js`);
    expect(js.status).toBe(200);
    expect(await js.text()).toContain('htmx');
    const login = await fetch(`${h.base}/admin/login`);
    expect(login.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await login.text()).not.toMatch(/https?:\/\/(?!127)/);
  });

  it('sets an HttpOnly, SameSite=Strict session cookie scoped to /admin (no Secure over plain HTTP)', () => {
    expect(admin.setCookie).toMatch(/HttpOnly/i);
    expect(admin.setCookie).toMatch(/SameSite=Strict/i);
    expect(admin.setCookie).toMatch(/Path=\/admin/);
    expect(admin.setCookie).not.toMatch(/Secure/i);
    expect(admin.csrf.length).toBeGreaterThan(20);
  });

  it('refuses a wrong password with a page saying what to do, and pauses the account after five', async () => {
    const first = await trySignIn(h.base, 'victim', 'wrong');
    expect(first.status).toBe(401);
    const page = await first.text();
    expect(page).toContain('The console account name or password is wrong.');
    expect(page.slice(page.indexOf('<body'))).not.toContain('{"');
    for (let i = 0; i < 4; i++) expect((await trySignIn(h.base, 'victim', 'wrong')).status).toBe(401);
    const limited = await trySignIn(h.base, 'victim', 'victim-password');
    expect(limited.status).toBe(429);
    expect(await limited.text()).toContain('wait');
  });

  it('refuses a sign-in form posted without its token', async () => {
    const res = await fetch(`${h.base}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=root&password=root-password-1',
    });
    expect(res.status).toBe(403);
  });

  it('ends the session on sign-out: the old cookie opens nothing', async () => {
    const c = await signIn(h.base, 'root', 'root-password-1');
    expect((await c.get('/admin/')).status).toBe(200);
    expect((await c.post('/admin/logout')).status).toBe(303);
    expect((await c.get('/admin/')).status).toBe(303);
  });
});

describe('live events', () => {
  it('streams audit events to a signed-in browser only, without their detail', async () => {
    expect((await fetch(`${h.base}/admin/events`)).status).toBe(401);
    const ac = new AbortController();
    const res = await fetch(`${h.base}/admin/events`, { headers: { cookie: admin.cookie }, signal: ac.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body?.getReader();
    await h.api('POST', '/api/v1/phones/0004f2aabb03/login', { ext: '200' });
    let text = '';
    while (!text.includes('"kind":"login"')) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    ac.abort();
    expect(text).toMatch(/event: audit\ndata: \{"id":\d+,"kind":"login","at":\d+,"phone":"0004f2aabb03","user":"200"\}/);
    expect(text).not.toContain('detail');
  });
});

describe('CSRF', () => {
  it('refuses a state-changing request without the token or from another origin, changing nothing', async () => {
    await h.api('POST', `/api/v1/phones/${DESK1}/login`, { ext: '102' });
    const noToken = await admin.post(`/admin/phones/${DESK1}/logout`, {}, { csrf: false });
    expect(noToken.status).toBe(403);
    expect(await noToken.text()).toContain('csrf-failed');
    const foreign = await admin.post(`/admin/phones/${DESK1}/logout`, {}, { headers: { origin: 'http://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(h.agent.sqlite.sessionOf(DESK1)?.userExt).toBe('102');
    const ok = await admin.post(`/admin/phones/${DESK1}/logout`, {}, { htmx: true });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('102 logged out of Desk 1');
    expect(h.agent.sqlite.sessionOf(DESK1)).toBeUndefined();
  });
});

describe('roles', () => {
  it('shows a helpdesk account no import form and refuses it import, secrets and enrolment reset', async () => {
    const page = await (await desk.get('/admin/directory')).text();
    expect(page).not.toContain('id="upload"');
    expect(page).not.toContain('with secrets');
    const preview = await desk.post('/admin/directory/preview', { text: 'site: {}', file: 'x.yaml' }, { htmx: true });
    expect(preview.status).toBe(403);
    expect(await preview.text()).toContain('Your console role does not allow this action.');
    expect((await desk.post('/admin/directory/export-secrets', { confirm: 'yes' })).status).toBe(403);
    expect((await desk.post(`/admin/phones/${DESK1}/reset-enrolment`)).status).toBe(403);
    const exported = await (await desk.get('/admin/directory/export')).text();
    expect(exported).toContain('********');
    expect(exported).not.toContain('hotdesk-demo');
    const detail = await (await desk.get(`/admin/phones/${DESK1}`)).text();
    expect(detail).not.toContain('hotdesk-demo');
    expect(detail).toContain('holds secrets (masked)');
    // the hot-desk line is shown as the phone gets it (agent SIP port), its password masked
    const line = h.agent.sqlite.getHotdeskLine(DESK1);
    expect(detail).toContain(`account.16.user_name = ${line?.username}`);
    expect(detail).toContain(`account.16.sip_server.1.port = ${h.agent.sipPort}`);
    expect(detail).not.toContain(line?.password ?? 'missing');
    // and its registration state: not registered until the phone registers, then from where
    expect(detail).toMatch(new RegExp(`<dt>Hot-desk line</dt><dd class="mono">${line?.username} not registered</dd>`));
    const now = Date.now();
    h.agent.sqlite.setLineRegistration(
      DESK1,
      {
        contact: 'sip:x@10.0.0.21:5062',
        address: '10.0.0.21',
        port: 5062,
        transport: 'udp',
        callId: 'c',
        cseq: 1,
        registeredAt: now,
        expiresAt: now + 600_000,
      },
      now,
    );
    const summary = await (await desk.get(`/admin/phones/${DESK1}/summary`)).text();
    expect(summary).toContain(`${line?.username} registered from 10.0.0.21:5062 until`);
  });

  it('lets a helpdesk account log a user in, re-sync and unlock', async () => {
    const login = await desk.post('/admin/people/login', { ext: '101', phone: DESK1 }, { htmx: true });
    expect(await login.text()).toContain('101 logged in on Desk 1');
    expect(h.agent.sqlite.sessionOf(DESK1)?.userExt).toBe('101');
    const rev = h.agent.sqlite.phoneRuntime(DESK1)?.revision ?? 0;
    expect((await desk.post(`/admin/phones/${DESK1}/resync`, {}, { htmx: true })).status).toBe(200);
    expect(h.agent.sqlite.phoneRuntime(DESK1)?.revision).toBe(rev + 1);
    h.agent.sqlite.setLock('user', '102', { failures: [Date.now()], lockouts: 1, lockedUntil: Date.now() + 60_000 });
    expect(await (await desk.get('/admin/people')).text()).toContain('until');
    await desk.post('/admin/people/unlock', { scope: 'user', subject: '102' }, { htmx: true });
    expect(h.agent.sqlite.getLock('user', '102').lockedUntil).toBe(0);
  });

  it('lets an admin download the directory with secrets only on explicit request', async () => {
    expect((await admin.post('/admin/directory/export-secrets', {})).status).toBe(400);
    const res = await admin.post('/admin/directory/export-secrets', { confirm: 'yes' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('hotdesk-demo');
  });
});

describe('errors are shown to people, not as JSON', () => {
  it('answers an unknown user with the title and what to do, into the flash area for htmx', async () => {
    const res = await admin.post('/admin/people/login', { ext: '999', phone: DESK1 }, { htmx: true });
    expect(res.status).toBe(404);
    expect(res.headers.get('hx-retarget')).toBe('#flash');
    const text = await res.text();
    expect(text).toContain('No user has this short number.');
    expect(text).toContain('Check the short number');
    const missing = await admin.get('/admin/no-such-page');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('<h1>Something went wrong</h1>');
  });
});

describe('directory', () => {
  it('shows validation errors with line:col and the offending line, applying nothing', async () => {
    const before = await exportDirectory(h.agent.store, { withSecrets: true });
    const text = (await exportDirectory(h.agent.store, { withSecrets: false })).replace('model: T46U', 'model: NOPE9');
    const line = text.split('\n').findIndex((l) => l.includes('NOPE9')) + 1;
    const res = await admin.post('/admin/directory/preview', { text, file: 'bad.yaml' }, { htmx: true });
    const body = await res.text();
    expect(body).toMatch(new RegExp(`bad\\.yaml:${line}:\\d+`));
    expect(body).toContain('model: NOPE9');
    expect(body).toContain('nothing was applied');
    expect(await exportDirectory(h.agent.store, { withSecrets: true })).toBe(before);
  });

  it('previews a valid change, applies nothing until Apply, then applies exactly it', async () => {
    const text = (await exportDirectory(h.agent.store, { withSecrets: false })).replace('label: Desk 2', 'label: Desk 2 (window)');
    const res = await admin.post('/admin/directory/preview', { text, file: 'new.yaml' }, { htmx: true });
    const body = await res.text();
    expect(body).toContain('updated: Desk 2 (window) (000413aabb02)');
    expect(h.agent.sqlite.getPhone('000413aabb02')?.label).toBe('Desk 2');
    const id = /name="id" value="([^"]+)"/.exec(body)?.[1] ?? '';
    expect((await desk.post('/admin/directory/apply', { id }, { htmx: true })).status).toBe(403);
    const applied = await admin.post('/admin/directory/apply', { id }, { htmx: true });
    expect(await applied.text()).toContain('Imported new.yaml');
    expect(h.agent.sqlite.getPhone('000413aabb02')?.label).toBe('Desk 2 (window)');
    expect((await admin.post('/admin/directory/apply', { id }, { htmx: true })).status).toBe(404);
  });
});

describe('audit', () => {
  it('filters by kind and exports CSV', async () => {
    const page = await (await admin.get('/admin/audit?kind=login')).text();
    expect(page).toContain('<td>login</td>');
    expect(page).not.toContain('<td>import</td>');
    const csv = await admin.get('/admin/audit.csv?kind=login');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('id,time,kind,phone,user,detail');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.slice(1).every((l) => l.split(',')[2] === 'login')).toBe(true);
  });
});
