/**
 * The phone-facing HTTP routes at route level, against the real agent on
 * loopback (startHarness: real sockets, real SQLite): the XML-browser screens
 * under `/xml/<mac>/<token>/` (agent/shell/phone/screen-routes.ts) and the
 * provisioning file route with its Poly uploads
 * (agent/shell/provisioning/provisioning-http.ts). Status codes, problem
 * codes, headers and what changed in the store; the whole phone journeys are
 * test/e2e/phone-screens.test.ts and test/e2e/provisioning-http.test.ts.
 *
 * Requests go through node:http so the source address can be chosen
 * (127.0.0.2 is a second loopback source) and HTTP digest is answered here
 * from the challenge with the protocol module's `digestResponse`.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { digestResponse } from '../../../agent/protocols/digest.js';
import { DEMO_PHONES, startHarness, type Harness } from '../../helpers/agent-harness.js';

const { yealink, snom, poly } = DEMO_PHONES;
const LIFT = { mac: '001565aabb09', userAgent: 'Yealink SIP-T31G 124.86.0.40 00:15:65:aa:bb:09' };
const BOOT = { username: 'bootstrap', password: 'hotdesk-demo' };
const OTHER_SOURCE = '127.0.0.2';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function harness(): Promise<Harness> {
  const h = await startHarness();
  cleanups.push(async () => {
    await h.stop();
    fs.rmSync(h.dataDir, { recursive: true, force: true });
  });
  return h;
}

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

interface SendOptions {
  readonly method?: string;
  readonly ua?: string;
  readonly body?: Buffer;
  readonly from?: string;
  readonly authorization?: string;
}

/** One HTTP exchange over a fresh connection. */
function send(h: Harness, target: string, o: SendOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { connection: 'close' };
    if (o.ua !== undefined) headers['user-agent'] = o.ua;
    if (o.authorization !== undefined) headers.authorization = o.authorization;
    if (o.body !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = o.body.length;
    }
    let answered: Answer | undefined;
    const req = http.request(
      { host: '127.0.0.1', port: h.agent.http.port, path: target, method: o.method ?? 'GET', headers, ...(o.from ? { localAddress: o.from } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          answered = { status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') };
          resolve(answered);
        });
      },
    );
    // A server that refuses an upload early may close before the body is written: the answer is what counts.
    req.on('error', (e) => (answered ? undefined : reject(e)));
    req.end(o.body);
  });
}

/** The problem code of a refusal. */
function codeOf(a: Answer): string {
  return (JSON.parse(a.text) as { code: string }).code;
}

/** Answers the MD5 digest challenge of `challenge` for `method target` with `cred`. */
function digestAuthorization(challenge: Answer, method: string, target: string, cred: { username: string; password: string }): string {
  const header = challenge.headers['www-authenticate'];
  const first = (Array.isArray(header) ? header : [header ?? '']).find((v) => /algorithm=MD5\b/.test(v)) ?? '';
  const realm = /realm="([^"]+)"/.exec(first)?.[1];
  const nonce = /nonce="([^"]+)"/.exec(first)?.[1];
  if (!realm || !nonce) throw new Error(`no MD5 digest challenge in ${JSON.stringify(header)}`);
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const response = digestResponse({
    algorithm: 'MD5',
    username: cred.username,
    realm,
    password: cred.password,
    method,
    uri: target,
    nonce,
    qop: 'auth',
    nc,
    cnonce,
  });
  return `Digest username="${cred.username}", realm="${realm}", nonce="${nonce}", uri="${target}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}"`;
}

/** A request with digest credentials: a first request without body fetches the challenge (nonces are per source address). */
async function withDigest(h: Harness, target: string, cred: { username: string; password: string }, o: SendOptions = {}): Promise<Answer> {
  const method = o.method ?? 'GET';
  const challenge = await send(h, target, { ...o, method, ...(o.body ? { body: Buffer.alloc(0) } : {}) });
  expect(challenge.status, 'a challenge first').toBe(401);
  return send(h, target, { ...o, method, authorization: digestAuthorization(challenge, method, target, cred) });
}

function token(h: Harness, mac: string): string {
  const rt = h.agent.sqlite.phoneRuntime(mac);
  if (!rt) throw new Error(`no runtime for ${mac}`);
  return rt.screenToken;
}

const screen = (_h: Harness, mac: string, tok: string, rest = 'menu'): string => `/xml/${mac}/${encodeURIComponent(tok)}${rest === '' ? '' : `/${rest}`}`;

describe('screen routes', () => {
  it.each([
    { phone: yealink, label: 'Desk 1', type: /^text\/xml/, root: /<YealinkIPPhoneTextMenu\b/ },
    { phone: snom, label: 'Desk 2', type: /^text\/xml/, root: /<SnomIPPhoneMenu\b/ },
    { phone: poly, label: 'Desk 3', type: /^text\/html/, root: /<html\b/i },
  ])('$phone.vendor: the menu with the phone\u2019s token, in its dialect, not cached', async ({ phone, label, type, root }) => {
    const h = await harness();
    const tok = token(h, phone.mac);
    for (const rest of ['menu', '']) {
      const r = await send(h, screen(h, phone.mac, tok, rest), { ua: phone.userAgent });
      expect(r.status, rest).toBe(200);
      expect(r.headers['content-type']).toMatch(type);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.text).toMatch(root);
      expect(r.text).toContain(`Hot desk: ${label}`);
      expect(r.text).toContain('Alex Sales (101)');
      // Its links stay under this phone's screen base (token included).
      expect(r.text).toContain(`${h.base}/xml/${phone.mac}/${encodeURIComponent(tok)}/login`);
    }
    // The MAC may be spelt with colons or capitals in the URL.
    const colons = phone.mac.toUpperCase().match(/../g)?.join(':') ?? '';
    expect((await send(h, screen(h, colons, tok), { ua: phone.userAgent })).status).toBe(200);
    // POST is how some phones follow a form: the same screen.
    expect((await send(h, screen(h, phone.mac, tok), { method: 'POST', ua: phone.userAgent, body: Buffer.from('x=1') })).status).toBe(200);
  });

  it('refuses a wrong token, another phone\u2019s token and an unknown MAC alike (screen-token-invalid), without acting', async () => {
    const h = await harness();
    const tok = token(h, yealink.mac);
    const refusals = [
      screen(h, yealink.mac, 'not-the-token-0000000000'),
      screen(h, yealink.mac, tok.slice(0, -1)),
      screen(h, yealink.mac, ''),
      // Snom's own token on the Yealink's MAC.
      screen(h, yealink.mac, token(h, snom.mac)),
      screen(h, yealink.mac, token(h, snom.mac), 'submit?ext=101&pin=4321'),
      screen(h, yealink.mac, token(h, snom.mac), 'logout'),
      screen(h, '001565ffff01', tok),
      screen(h, 'not-a-mac', tok),
    ];
    for (const target of refusals) {
      const r = await send(h, target, { ua: yealink.userAgent });
      expect(r.status, target).toBe(403);
      expect(codeOf(r), target).toBe('screen-token-invalid');
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.text, 'the refusal never echoes a token').not.toContain(tok);
    }
    expect(h.agent.sqlite.sessionOf(yealink.mac)).toBeUndefined();
    expect(h.agent.sqlite.queryAudit({ kinds: ['login'] })).toEqual([]);
    // Not even counted as a PIN attempt: the form was never reached.
    expect(h.agent.sqlite.getLock('phone', yealink.mac).failures).toEqual([]);
  });

  it('counts token refusals towards the per-source failure limit: the source is then blocked, others are not', async () => {
    const h = await harness();
    const tok = token(h, yealink.mac);
    // DEFAULT_RATE_LIMIT: 20 failures in the window block the source.
    for (let i = 0; i < 20; i++) {
      const r = await send(h, screen(h, yealink.mac, `guess-${i}-0000000000`), { ua: yealink.userAgent });
      expect(r.status).toBe(403);
    }
    const blocked = await send(h, screen(h, yealink.mac, tok), { ua: yealink.userAgent });
    expect(blocked.status).toBe(429);
    expect(codeOf(blocked)).toBe('rate-limited');
    // The limit is shared with the provisioning files of the same source.
    expect(codeOf(await send(h, `/${yealink.mac}.boot`, { ua: yealink.userAgent }))).toBe('rate-limited');
    // Another source still gets the menu.
    const other = await send(h, screen(h, yealink.mac, tok), { ua: yealink.userAgent, from: OTHER_SOURCE });
    expect(other.status).toBe(200);
  });

  it('login form: the form, a submit with the right PIN logs in and re-provisions; a wrong PIN changes nothing', async () => {
    const h = await harness();
    const tok = token(h, yealink.mac);
    const store = h.agent.sqlite;
    const form = await send(h, screen(h, yealink.mac, tok, 'login'), { ua: yealink.userAgent });
    expect(form.status).toBe(200);
    expect(form.text).toMatch(/<YealinkIPPhoneInputScreen\b/);
    expect(form.text).toContain(`${h.base}/xml/${yealink.mac}/${encodeURIComponent(tok)}/submit`);
    const pinForm = await send(h, screen(h, yealink.mac, tok, 'login/101'), { ua: yealink.userAgent });
    expect(pinForm.status).toBe(200);
    expect(pinForm.text).toContain('/submit/101');

    const rev = store.phoneRuntime(yealink.mac)?.revision ?? 0;
    const wrong = await send(h, screen(h, yealink.mac, tok, 'submit?ext=101&pin=0000'), { ua: yealink.userAgent });
    expect(wrong.status).toBe(200);
    expect(wrong.headers['cache-control']).toBe('no-store');
    expect(wrong.text).toContain('<Text>Wrong PIN. 4 attempts left</Text>');
    expect(wrong.text).not.toContain('Logged in');
    expect(store.sessionOf(yealink.mac)).toBeUndefined();
    expect(store.phoneRuntime(yealink.mac)?.revision).toBe(rev);
    // The PIN is never echoed back.
    expect(wrong.text).not.toMatch(/\b0000\b/);

    // Not digits: asked again, nothing decided.
    const junk = await send(h, screen(h, yealink.mac, tok, 'submit?ext=abc&pin=4321'), { ua: yealink.userAgent });
    expect(junk.status).toBe(200);
    expect(junk.text).toContain('<Text>Enter your short number</Text>');
    expect(store.sessionOf(yealink.mac)).toBeUndefined();

    const ok = await send(h, screen(h, yealink.mac, tok, 'submit?ext=101&pin=4321'), { ua: yealink.userAgent });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('Logged in as Alex Sales (101)');
    expect(store.sessionOf(yealink.mac)?.userExt).toBe('101');
    expect(store.phoneRuntime(yealink.mac)?.revision).toBeGreaterThan(rev);
    // The menu now shows who is logged in and offers the log-out.
    const menu = await send(h, screen(h, yealink.mac, tok), { ua: yealink.userAgent });
    expect(menu.text).toContain('Hot desk: Alex Sales (101)');
    expect(menu.text).toContain(`${h.base}/xml/${yealink.mac}/${encodeURIComponent(tok)}/logout`);
  });

  it('Snom PIN form submit (`submit/<ext>?pin=`) and logout', async () => {
    const h = await harness();
    const tok = token(h, snom.mac);
    const ok = await send(h, screen(h, snom.mac, tok, 'submit/102?pin=8765'), { ua: snom.userAgent });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('Logged in as Alex Support (102)');
    expect(h.agent.sqlite.sessionOf(snom.mac)?.userExt).toBe('102');
    const out = await send(h, screen(h, snom.mac, tok, 'logout'), { ua: snom.userAgent });
    expect(out.status).toBe(200);
    expect(out.text).toContain('Alex Support (102) logged out');
    expect(h.agent.sqlite.sessionOf(snom.mac)).toBeUndefined();
  });

  it('wrong PINs count towards the per-source failure limit as well', async () => {
    const h = await harness();
    const tok = token(h, poly.mac);
    // Spread over users so the per-user PIN lockout is not what stops them.
    const exts = ['001', '101', '102', '200'];
    for (let i = 0; i < 20; i++) {
      const r = await send(h, screen(h, poly.mac, tok, `submit?ext=${exts[i % 4]}&pin=99${String(i).padStart(2, '0')}`), { ua: poly.userAgent });
      expect(r.status).toBe(200);
    }
    expect(codeOf(await send(h, screen(h, poly.mac, tok), { ua: poly.userAgent }))).toBe('rate-limited');
    expect(h.agent.sqlite.sessionOf(poly.mac)).toBeUndefined();
  });

  it('a phone without hot-desking shows "not allowed"; unknown screens are 404, other methods 405', async () => {
    const h = await harness();
    const tok = token(h, LIFT.mac);
    for (const rest of ['menu', 'login', 'submit?ext=101&pin=4321']) {
      const r = await send(h, screen(h, LIFT.mac, tok, rest), { ua: LIFT.userAgent });
      expect(r.status, rest).toBe(200);
      expect(r.text.toLowerCase(), rest).toContain('not allowed');
      expect(r.text, rest).not.toContain('Log in');
    }
    expect(h.agent.sqlite.sessionOf(LIFT.mac)).toBeUndefined();

    const yTok = token(h, yealink.mac);
    const unknown = await send(h, screen(h, yealink.mac, yTok, 'reboot'), { ua: yealink.userAgent });
    expect(unknown.status).toBe(404);
    expect(codeOf(unknown)).toBe('not-found');
    const del = await send(h, screen(h, yealink.mac, yTok), { method: 'DELETE', ua: yealink.userAgent });
    expect(del.status).toBe(405);
    expect(codeOf(del)).toBe('method-not-allowed');
  });
});

describe('provisioning file route', () => {
  it('HEAD answers like GET without a body; a secret file still asks for credentials', async () => {
    const h = await harness();
    const target = `/${yealink.mac}.boot`;
    const get = await send(h, target, { ua: yealink.userAgent });
    expect(get.status).toBe(200);
    expect(get.body.length).toBeGreaterThan(0);
    const head = await send(h, target, { method: 'HEAD', ua: yealink.userAgent });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['cache-control']).toBe('no-store');
    expect(Number(head.headers['content-length'])).toBe(get.body.length);

    const secret = await send(h, `/${yealink.secretFile}`, { method: 'HEAD', ua: yealink.userAgent });
    expect(secret.status).toBe(401);
    expect(String(secret.headers['www-authenticate'])).toMatch(/^Digest /);
    const authed = await withDigest(h, `/${yealink.secretFile}`, BOOT, { method: 'HEAD', ua: yealink.userAgent });
    expect(authed.status).toBe(200);
    expect(authed.body.length).toBe(0);
    expect(Number(authed.headers['content-length'])).toBeGreaterThan(0);
  });

  it('maps pipeline refusals to their status and code', async () => {
    const h = await harness();
    const cases: Array<[string, string | undefined, number, string]> = [
      ['/..%2f..%2fetc%2fpasswd', yealink.userAgent, 400, 'path-traversal'],
      ['/index.html', yealink.userAgent, 404, 'unknown-file'],
      [`/${yealink.mac}.boot`, 'Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:09', 403, 'mac-mismatch'],
      ['/001565ffff01.boot', 'Yealink SIP-T46U 108.86.0.45 00:15:65:ff:ff:01', 404, 'unknown-phone'],
      [`/${yealink.secretFile}`, yealink.userAgent, 401, 'auth-required'],
    ];
    for (const [target, ua, status, code] of cases) {
      const r = await send(h, target, { ...(ua !== undefined ? { ua } : {}) });
      expect(r.status, target).toBe(status);
      expect(codeOf(r), target).toBe(code);
    }
    const bad = await withDigest(h, `/${yealink.secretFile}`, { username: 'bootstrap', password: 'wrong' }, { ua: yealink.userAgent });
    expect(bad.status).toBe(401);
    expect(codeOf(bad)).toBe('auth-failed');
  });

  it('PUT: a Poly log name is stored with credentials; without them 401; other names write-refused', async () => {
    const h = await harness();
    const name = `${poly.mac}-app.log`;
    const stored = path.join(h.dataDir, 'uploads', poly.mac, name);
    const log = Buffer.from('0101000000|boot  |5|00|route test\n'.repeat(20));

    const anon = await send(h, `/${name}`, { method: 'PUT', ua: poly.userAgent, body: log });
    expect(anon.status).toBe(401);
    expect(codeOf(anon)).toBe('auth-required');
    expect(fs.existsSync(stored)).toBe(false);

    const ok = await withDigest(h, `/${name}`, BOOT, { method: 'PUT', ua: poly.userAgent, body: log });
    expect(ok.status).toBe(201);
    expect(fs.readFileSync(stored).equals(log)).toBe(true);

    for (const other of [`${poly.mac}-hotdesk.cfg`, `${poly.mac}.cfg`, 'evil.txt', `${poly.mac}-app.log.sh`, `${yealink.mac}.cfg`]) {
      // Refused from the name alone, before any credential is asked for.
      const r = await send(h, `/${other}`, { method: 'PUT', ua: poly.userAgent, body: log });
      expect(r.status, other).toBe(405);
      expect(codeOf(r), other).toBe('write-refused');
    }
    const traversal = await send(h, '/..%2fevil.log', { method: 'PUT', ua: poly.userAgent, body: log });
    expect(codeOf(traversal)).toBe('path-traversal');
    expect(fs.readdirSync(path.join(h.dataDir, 'uploads'))).toEqual([poly.mac]);
    expect(fs.readdirSync(path.join(h.dataDir, 'uploads', poly.mac))).toEqual([name]);
  });

  it('PUT: an upload over the limit is too-large and nothing is stored', async () => {
    const h = await harness();
    const name = `${poly.mac}-boot.log`;
    const big = randomBytes(1024 * 1024 + 10);
    const r = await withDigest(h, `/${name}`, BOOT, { method: 'PUT', ua: poly.userAgent, body: big });
    expect(r.status).toBe(413);
    expect(codeOf(r)).toBe('too-large');
    expect(fs.existsSync(path.join(h.dataDir, 'uploads', poly.mac, name))).toBe(false);
    // A PUT for a phone the agent does not know is refused as such.
    const unknown = await send(h, '/0004f2ffff99-app.log', { method: 'PUT', ua: poly.userAgent, body: Buffer.from('x') });
    expect(unknown.status).toBe(404);
    expect(codeOf(unknown)).toBe('unknown-phone');
  });
});
