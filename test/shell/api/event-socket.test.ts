import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { auth, startApiFixture, TOKEN, YEALINK, YEALINK2, type ApiFixture } from './api-fixture.js';

let fx: ApiFixture;
const sockets: WebSocket[] = [];
beforeEach(async () => {
  fx = await startApiFixture();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await fx.close();
});

interface Ev {
  id: number;
  kind: string;
  at: number;
  phone?: string;
  user?: string;
  detail?: Record<string, unknown>;
}

/** Opens a client and collects its messages; resolves once open. */
function connect(query = '', headers: Record<string, string> = auth()): Promise<{ ws: WebSocket; events: Ev[]; next: (n: number) => Promise<Ev[]> }> {
  const ws = new WebSocket(`${fx.base.replace('http', 'ws')}/api/v1/events${query}`, { headers });
  sockets.push(ws);
  const events: Ev[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    events.push(JSON.parse(String(data)) as Ev);
    for (const w of waiters.splice(0)) w();
  });
  const next = (n: number): Promise<Ev[]> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (events.length >= n) resolve(events.slice(0, n));
        else waiters.push(check);
      };
      ws.once('close', () => reject(new Error(`closed with ${events.length} of ${n} events`)));
      check();
    });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, events, next }));
    ws.once('error', reject);
  });
}

/** Attempts a connection that must be refused; resolves with the HTTP status. */
function refusedStatus(query = '', headers: Record<string, string> = {}): Promise<number> {
  const ws = new WebSocket(`${fx.base.replace('http', 'ws')}/api/v1/events${query}`, { headers });
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('open', () => reject(new Error('upgrade was accepted')));
    ws.once('error', () => {});
  });
}

const login = (mac: string, ext: string) =>
  fetch(`${fx.base}/api/v1/phones/${mac}/login`, { method: 'POST', headers: auth({ 'Content-Type': 'application/json' }), body: JSON.stringify({ ext }) });
const logout = (mac: string) => fetch(`${fx.base}/api/v1/phones/${mac}/logout`, { method: 'POST', headers: auth() });

describe('event stream auth', () => {
  it('refuses a missing token with HTTP 401', async () => {
    expect(await refusedStatus()).toBe(401);
  });

  it('refuses a wrong token with HTTP 401 (header and query)', async () => {
    expect(await refusedStatus('', { Authorization: 'Bearer wrong' })).toBe(401);
    expect(await refusedStatus('?token=wrong')).toBe(401);
  });

  it('accepts ?token= for browsers and X-Hotdesk-Token', async () => {
    const a = await connect(`?token=${encodeURIComponent(TOKEN)}`, {});
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    const b = await connect('', { 'X-Hotdesk-Token': TOKEN });
    expect(b.ws.readyState).toBe(WebSocket.OPEN);
    expect(fx.events.clients()).toBe(2);
  });

  it('refuses a bad since with 400, and other paths with 404', async () => {
    expect(await refusedStatus('?since=abc', auth())).toBe(400);
    const ws = new WebSocket(`${fx.base.replace('http', 'ws')}/api/v1/other`, { headers: auth() });
    sockets.push(ws);
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => {});
    });
    expect(status).toBe(404);
  });
});

describe('live events', () => {
  it('delivers every event in order: login then logout, to every client', async () => {
    const a = await connect();
    const b = await connect();
    await login(YEALINK, '101');
    await logout(YEALINK);
    const ea = await a.next(2);
    const eb = await b.next(2);
    expect(ea.map((e) => [e.kind, e.phone, e.user])).toEqual([
      ['login', YEALINK, '101'],
      ['logout', YEALINK, '101'],
    ]);
    expect(ea[1]!.id).toBeGreaterThan(ea[0]!.id);
    expect(eb).toEqual(ea);
    expect(typeof ea[0]!.at).toBe('number');
  });

  it('publishes events committed by another writer once the tail drains', async () => {
    const c = await connect();
    await fx.service.adminLogin(YEALINK2, '102');
    await fx.tail.drain();
    expect((await c.next(1))[0]).toMatchObject({ kind: 'login', phone: YEALINK2, user: '102' });
  });

  it('stops sending to a closed client and unsubscribes it', async () => {
    const c = await connect();
    expect(fx.events.clients()).toBe(1);
    c.ws.close();
    await new Promise<void>((r) => c.ws.once('close', () => r()));
    await login(YEALINK, '101');
    for (let i = 0; i < 50 && fx.events.clients() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(fx.events.clients()).toBe(0);
  });
});

describe('replay with since', () => {
  it('replays stored events after the id, then continues live without gaps or duplicates', async () => {
    await login(YEALINK, '101');
    await login(YEALINK2, '102');
    await logout(YEALINK);
    const stored = fx.store.queryAudit({ afterId: fx.auditBaseline });
    expect(stored.map((e) => e.kind)).toEqual(['login', 'login', 'logout']);
    const firstId = stored[0]!.id;

    const c = await connect(`?since=${firstId}`);
    const replayed = await c.next(2);
    expect(replayed.map((e) => e.id)).toEqual([stored[1]!.id, stored[2]!.id]);

    await logout(YEALINK2);
    const all = await c.next(3);
    expect(all.map((e) => e.kind)).toEqual(['login', 'logout', 'logout']);
    expect(new Set(all.map((e) => e.id)).size).toBe(3);
  });

  it('does not duplicate events the tail publishes after the replay already sent them', async () => {
    // Commit without draining: the tail is behind the database.
    await fx.service.adminLogin(YEALINK, '101');
    await fx.service.logout(YEALINK, 'admin');
    const c = await connect(`?since=${fx.auditBaseline}`);
    await c.next(2);
    await fx.tail.drain(); // publishes the same two rows now
    await login(YEALINK2, '001');
    const all = await c.next(3);
    expect(all.map((e) => e.kind)).toEqual(['login', 'logout', 'login']);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.events).toHaveLength(3);
  });

  it('replays nothing for since = the latest id', async () => {
    await login(YEALINK, '101');
    const last = fx.store.queryAudit({}).at(-1)!.id;
    const c = await connect(`?since=${last}`);
    await logout(YEALINK);
    const [e] = await c.next(1);
    expect(e).toMatchObject({ kind: 'logout' });
    expect(e!.id).toBeGreaterThan(last);
  });
});
