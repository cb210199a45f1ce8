import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auth, LIFT, POLY, SNOM, startApiFixture, TOKEN, YEALINK, YEALINK2, type ApiFixture } from './api-fixture.js';
import { EVENTS_PATH } from '../../../agent/shell/api/event-socket.js';
import { AUDIT_KINDS } from '../../../agent/core/model.js';
import { FailureLimiter } from '../../../agent/shell/http/rate-limiter.js';

let fx: ApiFixture;
beforeEach(async () => {
  fx = await startApiFixture();
});
afterEach(async () => {
  await fx.close();
});

const get = (path: string, headers: Record<string, string> = auth()) => fetch(`${fx.base}${path}`, { headers });
const post = (path: string, body?: unknown, headers: Record<string, string> = auth()) =>
  fetch(`${fx.base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
const code = async (r: Response) => ((await r.json()) as { code: string }).code;

/** Every secret the fixture holds; no API answer may contain one. */
const SECRETS = [
  'reception-secret',
  'alex-sales-secret',
  'alex-support-secret',
  'sam-secret',
  'lift-secret',
  'device-secret-pw',
  '4321',
  '8765',
  'hotdesk-demo',
  TOKEN,
];
const noSecrets = (text: string) => {
  for (const s of SECRETS) expect(text).not.toContain(s);
};

/** The token-protected API endpoints the fixture's server registered (method, path with `{mac}`). */
function protectedEndpoints(): Array<[string, string]> {
  const open = new Set(['/api/v1/openapi.json', EVENTS_PATH]);
  return fx.http.routes
    .filter((r) => !r.hidden && !r.guard && r.url.startsWith('/api/') && !open.has(r.url))
    .flatMap((r) => r.methods.filter((m) => m !== 'HEAD').map((m): [string, string] => [m, r.url.replace(/:(\w+)/g, '{$1}')]));
}

describe('admin API auth', () => {
  it('every registered API endpoint refuses a missing or wrong token with 401', async () => {
    const endpoints = protectedEndpoints();
    expect(endpoints.length).toBeGreaterThanOrEqual(12);
    for (const [method, path] of endpoints) {
      const url = `${fx.base}${path.replace('{mac}', YEALINK)}`;
      const missing = await fetch(url, { method });
      expect(missing.status, `${method} ${path}`).toBe(401);
      expect(await code(missing)).toBe('token-required');
      const wrong = await fetch(url, { method, headers: { Authorization: 'Bearer nope' } });
      expect(wrong.status, `${method} ${path}`).toBe(401);
      expect(await code(wrong)).toBe('token-invalid');
    }
  });

  it('does not accept ?token= for REST', async () => {
    expect((await get(`/api/v1/phones?token=${TOKEN}`, {})).status).toBe(401);
  });

  it('rate-limits a source after too many wrong tokens (shared limiter); missing tokens do not count', async () => {
    const limited = await startApiFixture({ limiter: new FailureLimiter({ maxFailures: 3, windowMs: 60_000, blockMs: 60_000 }) });
    try {
      const at = (headers: Record<string, string>) => fetch(`${limited.base}/api/v1/phones`, { headers });
      for (let i = 0; i < 5; i++) expect((await at({})).status).toBe(401);
      for (let i = 0; i < 3; i++) expect((await at({ Authorization: 'Bearer nope' })).status).toBe(401);
      const blocked = await at(auth());
      expect(blocked.status).toBe(429);
      expect(await code(blocked)).toBe('rate-limited');
    } finally {
      await limited.close();
    }
  });
});

describe('phones, users, sessions', () => {
  it('lists phones with sync state, last seen and current user, without secrets', async () => {
    await post(`/api/v1/phones/${YEALINK}/login`, { ext: '101' });
    const r = await get('/api/v1/phones');
    expect(r.status).toBe(200);
    const text = await r.text();
    noSecrets(text);
    expect(text).not.toContain(fx.screenToken(YEALINK));
    const { phones } = JSON.parse(text) as { phones: Array<Record<string, unknown>> };
    expect(phones.map((p) => p['mac'])).toEqual([SNOM, POLY, YEALINK, YEALINK2, LIFT]);
    const p1 = phones.find((p) => p['mac'] === YEALINK);
    expect(p1).toMatchObject({
      vendor: 'yealink',
      model: 'T46U',
      hotdesk: true,
      user: { ext: '101', name: 'Alex Sales' },
      lastSeen: null,
      sync: { state: 'pending' },
    });
    expect(phones.find((p) => p['mac'] === YEALINK2)).toMatchObject({ user: null, deviceSipUser: 'desk02' });
  });

  it('gets one phone by MAC in any notation; unknown is 404, garbage is 400', async () => {
    const r = await get('/api/v1/phones/00:15:65:AA:BB:01');
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ mac: YEALINK, user: null });
    const u = await get('/api/v1/phones/001565000099');
    expect(u.status).toBe(404);
    expect(await code(u)).toBe('unknown-phone');
    expect((await get('/api/v1/phones/not-a-mac')).status).toBe(400);
  });

  it('lists users without secrets, with the phones they are on', async () => {
    await post(`/api/v1/phones/${YEALINK2}/login`, { ext: '001' });
    const r = await get('/api/v1/users');
    const text = await r.text();
    noSecrets(text);
    expect(text).not.toMatch(/pin|password|authName/i);
    const { users } = JSON.parse(text) as { users: Array<Record<string, unknown>> };
    expect(users.map((u) => u['ext'])).toEqual(['001', '101', '102', '200']);
    expect(users[0]).toMatchObject({ ext: '001', name: 'Reception', sipUser: '001', outboundCallerId: '+4930123450', phones: [YEALINK2] });
  });

  it('admin login, session list, logout, force logout', async () => {
    let r = await post(`/api/v1/phones/${YEALINK}/login`, { ext: '102' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ outcome: 'logged-in', user: '102', phone: YEALINK });
    r = await post(`/api/v1/phones/${YEALINK2}/login`, { ext: '001' });
    expect(r.status).toBe(200);

    const sessions = ((await (await get('/api/v1/sessions')).json()) as { sessions: Array<Record<string, unknown>> }).sessions;
    expect(sessions.map((s) => [s['phone'], s['user']]).sort()).toEqual([
      [YEALINK, '102'],
      [YEALINK2, '001'],
    ]);
    expect(sessions[0]).toHaveProperty('startedAt', fx.now());

    r = await post(`/api/v1/phones/${YEALINK}/logout`);
    expect(await r.json()).toMatchObject({ outcome: 'logged-out', user: '102' });
    expect(fx.store.sessionOf(YEALINK)).toBeUndefined();

    r = await fetch(`${fx.base}/api/v1/sessions/${YEALINK2}`, { method: 'DELETE', headers: auth() });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ outcome: 'logged-out', user: '001' });
    expect(fx.store.listSessions()).toHaveLength(0);

    const admin = fx.store.queryAudit({ kinds: ['logout'], afterId: fx.auditBaseline });
    expect(admin).toHaveLength(2);
  });

  it('logout without a session is 409 not-logged-in', async () => {
    const r = await post(`/api/v1/phones/${YEALINK}/logout`);
    expect(r.status).toBe(409);
    expect(await code(r)).toBe('not-logged-in');
    const d = await fetch(`${fx.base}/api/v1/sessions/${YEALINK}`, { method: 'DELETE', headers: auth() });
    expect(d.status).toBe(409);
  });

  it('login refusals are problems: unknown user 404, bad body 400', async () => {
    const u = await post(`/api/v1/phones/${YEALINK}/login`, { ext: '999' });
    expect(u.status).toBe(404);
    expect(await code(u)).toBe('unknown-user');
    expect(await code(await post(`/api/v1/phones/${YEALINK}/login`, '{"ext":'))).toBe('bad-request');
    expect(await code(await post(`/api/v1/phones/${YEALINK}/login`, { ext: 101 }))).toBe('bad-request');
    expect(await code(await post(`/api/v1/phones/${YEALINK}/login`, []))).toBe('bad-request');
    expect((await post(`/api/v1/phones/001565000099/login`, { ext: '101' })).status).toBe(404);
  });

  it('calls onCommitted after a change so the tail publishes at once', async () => {
    const seen: string[] = [];
    fx.tail.subscribe((e) => seen.push(e.kind));
    await post(`/api/v1/phones/${YEALINK}/login`, { ext: '101' });
    expect(seen).toEqual(['login']);
  });

  it('reset-enrolment gives the phone a new provisioning credential', async () => {
    fx.store.markOwnCredentialUsed(YEALINK);
    const before = fx.store.phoneRuntime(YEALINK);
    expect(before?.ownCredentialUsed).toBe(true);
    const r = await post(`/api/v1/phones/${YEALINK}/reset-enrolment`);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).not.toContain(before?.provPassword ?? 'x');
    const after = fx.store.phoneRuntime(YEALINK);
    expect(after?.ownCredentialUsed).toBe(false);
    expect(after?.provUsername).not.toBe(before?.provUsername);
    expect((await post(`/api/v1/phones/001565000099/reset-enrolment`)).status).toBe(404);
  });
});

describe('audit', () => {
  it('filters by phone, user, kind, time and id, oldest first', async () => {
    await post(`/api/v1/phones/${YEALINK}/login`, { ext: '101' });
    fx.advance(1000);
    const t1 = fx.now();
    await post(`/api/v1/phones/${YEALINK2}/login`, { ext: '102' });
    fx.advance(1000);
    await post(`/api/v1/phones/${YEALINK}/logout`);

    const all = ((await (await get(`/api/v1/audit?after=${fx.auditBaseline}`)).json()) as { events: Array<Record<string, unknown>> }).events;
    expect(all.map((e) => e['kind'])).toEqual(['login', 'login', 'logout']);
    expect(all[0]).toMatchObject({ kind: 'login', phone: YEALINK, user: '101' });
    expect(typeof all[0]?.['id']).toBe('number');

    const ev = async (q: string) => ((await (await get(`/api/v1/audit?${q}`)).json()) as { events: Array<Record<string, unknown>> }).events;
    expect((await ev(`phone=${YEALINK}`)).map((e) => e['kind'])).toEqual(['login', 'logout']);
    expect((await ev('user=102')).map((e) => e['phone'])).toEqual([YEALINK2]);
    expect((await ev('kind=logout')).length).toBe(1);
    expect((await ev('kind=login,logout')).length).toBe(3);
    expect((await ev('kind=login&kind=logout')).length).toBe(3);
    expect((await ev(`since=${t1}`)).length).toBe(2);
    expect((await ev(`since=${new Date(t1).toISOString()}`)).length).toBe(2);
    expect((await ev(`after=${String(all[0]?.['id'])}&limit=1`)).map((e) => e['id'])).toEqual([all[1]?.['id']]);
    expect((await ev('limit=1')).map((e) => e['kind'])).toEqual(['logout']);
  });

  it.each(['kind=bogus', 'limit=0', 'limit=abc', 'since=yesterday', 'phone=xyz', 'after=-1'])('answers 400 for %s', async (q) => {
    const r = await get(`/api/v1/audit?${q}`);
    expect(r.status).toBe(400);
    expect(await code(r)).toBe('bad-request');
  });
});

describe('routing', () => {
  it('answers 404 problem JSON for unknown paths under /api', async () => {
    for (const path of ['/api/v1/nope', '/api/v2/phones', '/api', '/api/v1/phones/001565aabb01/extra']) {
      const r = await get(path);
      expect(r.status).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await code(r)).toBe('not-found');
    }
  });

  it('answers 405 with Allow for a known path and wrong method', async () => {
    const r = await fetch(`${fx.base}/api/v1/phones`, { method: 'DELETE', headers: auth() });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET');
  });

  it('tolerates a trailing slash', async () => {
    expect((await get('/api/v1/phones/')).status).toBe(200);
  });

  it('says a plain GET of the event stream needs an upgrade', async () => {
    const r = await get(EVENTS_PATH);
    expect(r.status).toBe(400);
  });
});

describe('OpenAPI document', () => {
  it('is served without a token and is OpenAPI 3.1', async () => {
    const r = await get('/api/v1/openapi.json', {});
    expect(r.status).toBe(200);
    const doc = (await r.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
  });

  it('lists every audit kind in the event schema', async () => {
    const doc = (await (await get('/api/v1/openapi.json')).json()) as { components: { schemas: { AuditEvent: { properties: { kind: { enum: string[] } } } } } };
    expect(doc.components.schemas.AuditEvent.properties.kind.enum).toEqual([...AUDIT_KINDS]);
  });
});
