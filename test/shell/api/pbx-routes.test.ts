import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auth, startApiFixture, TOKEN, YEALINK, YEALINK2, type ApiFixture } from './api-fixture.js';
import { parseDialRequest } from '../../../agent/shell/api/pbx-routes.js';
import { outcomeLine } from '../../../agent/shell/api/views.js';

let fx: ApiFixture;
beforeEach(async () => {
  fx = await startApiFixture();
});
afterEach(async () => {
  await fx.close();
});

const dialJson = (body: Record<string, string>, headers: Record<string, string> = auth()) =>
  fetch(`${fx.base}/api/v1/pbx/dial`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

const dialForm = (body: string, query = '', headers: Record<string, string> = auth()) =>
  fetch(`${fx.base}/api/v1/pbx/dial${query}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body });

describe('POST /api/v1/pbx/dial: auth', () => {
  it('refuses a missing token with 401 token-required and a Bearer challenge', async () => {
    const r = await dialJson({ mac: YEALINK, digits: '*35*101*4321' }, {});
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await r.json()) as { code: string }).code).toBe('token-required');
    expect(fx.store.sessionOf(YEALINK)).toBeUndefined();
  });

  it('refuses a wrong token with 401 token-invalid and acts on nothing', async () => {
    const r = await dialJson({ mac: YEALINK, digits: '*35*101*4321' }, { Authorization: `Bearer ${TOKEN}x` });
    expect(r.status).toBe(401);
    expect(((await r.json()) as { code: string }).code).toBe('token-invalid');
    expect(fx.store.sessionOf(YEALINK)).toBeUndefined();
  });

  it('accepts the X-Hotdesk-Token header', async () => {
    const r = await dialJson({ mac: YEALINK, digits: '*35' }, { 'X-Hotdesk-Token': TOKEN });
    expect(r.status).toBe(200);
  });

  it('does not accept ?token= on the PBX endpoint', async () => {
    const r = await dialForm(`mac=${YEALINK}&digits=*35`, `?token=${TOKEN}`, {});
    expect(r.status).toBe(401);
  });

  it('reads tokens per request: a site change takes effect at once', async () => {
    fx.store.putSite({ ...fx.store.getSite(), apiTokens: ['other-token'] }, fx.now());
    expect((await dialJson({ mac: YEALINK, digits: '*35' })).status).toBe(401);
    expect((await dialJson({ mac: YEALINK, digits: '*35' }, { Authorization: 'Bearer other-token' })).status).toBe(200);
  });
});

describe('POST /api/v1/pbx/dial: hot-desk flows', () => {
  it('logs in, switches and logs out with JSON requests; every outcome is 200', async () => {
    let r = await dialJson({ mac: YEALINK, digits: '*35*101*4321' });
    expect(r.status).toBe(200);
    const login = (await r.json()) as Record<string, unknown>;
    expect(login).toMatchObject({
      outcome: 'logged-in',
      prompt: 'logged-in',
      audio: 'hotdesk-logged-in',
      phone: YEALINK,
      user: '101',
      userName: 'Alex Sales',
      duplicate: false,
    });
    expect(JSON.stringify(login)).not.toContain('4321');
    expect(fx.store.sessionOf(YEALINK)?.userExt).toBe('101');

    fx.advance(11_000);
    r = await dialJson({ mac: YEALINK, digits: '*35*102*8765' });
    expect(await r.json()).toMatchObject({ outcome: 'switched', prompt: 'switched', user: '102', previousUser: '101' });
    expect(fx.store.sessionOf(YEALINK)?.userExt).toBe('102');

    fx.advance(11_000);
    r = await dialJson({ mac: YEALINK, digits: '*35' });
    expect(await r.json()).toMatchObject({ outcome: 'logged-out', prompt: 'logged-out', audio: 'hotdesk-logged-out', user: '102' });
    expect(fx.store.sessionOf(YEALINK)).toBeUndefined();
  });

  it('answers wrong PIN as a 200 outcome with attempts left', async () => {
    const r = await dialJson({ mac: YEALINK, digits: '*35*001*9999' });
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ outcome: 'wrong-pin', prompt: 'wrong-pin', audio: 'hotdesk-wrong-pin' });
    expect(typeof body['attemptsLeft']).toBe('number');
    expect(JSON.stringify(body)).not.toContain('9999');
  });

  it('keeps leading zeros: 001 logs in as 001', async () => {
    const r = await dialForm(`mac=${YEALINK}&digits=${encodeURIComponent('*35*001*1234')}`);
    expect(await r.json()).toMatchObject({ outcome: 'logged-in', user: '001' });
  });

  it('asks for the short number, then the PIN (the dialplan re-posts longer digits)', async () => {
    expect(await (await dialForm(`mac=${YEALINK}&digits=*35`)).json()).toMatchObject({
      outcome: 'ask-extension',
      prompt: 'ask-extension',
      audio: 'hotdesk-ask-extension',
    });
    expect(await (await dialForm(`mac=${YEALINK}&digits=*35*101`)).json()).toMatchObject({ outcome: 'ask-pin', audio: 'hotdesk-ask-pin' });
    expect(await (await dialForm(`mac=${YEALINK}&digits=*35*101*4321`)).json()).toMatchObject({ outcome: 'logged-in', user: '101' });
  });

  it('answers an ordinary number with not-hotdesk-code (200) and changes nothing', async () => {
    const r = await dialJson({ mac: YEALINK, digits: '0123456789' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ outcome: 'not-hotdesk-code' });
  });

  it('moves a user from phone A to phone B (default policy) and says where from', async () => {
    await dialJson({ mac: YEALINK, digits: '*35*101*4321' });
    const r = await dialJson({ mac: YEALINK2, digits: '*35*101*4321' });
    expect(await r.json()).toMatchObject({ outcome: 'logged-in', user: '101', movedFrom: YEALINK });
    expect(fx.store.sessionOf(YEALINK)).toBeUndefined();
    expect(fx.store.sessionOf(YEALINK2)?.userExt).toBe('101');
  });
});

describe('POST /api/v1/pbx/dial: caller identification', () => {
  it('finds the phone by its device account SIP user', async () => {
    const r = await dialForm(`caller=desk02&digits=${encodeURIComponent('*35*102*8765')}`);
    expect(await r.json()).toMatchObject({ outcome: 'logged-in', phone: YEALINK2, user: '102' });
  });

  it('finds the phone by the SIP user of the user logged in on it (sip: URI form too)', async () => {
    await dialJson({ mac: YEALINK, digits: '*35*101*4321' });
    const r = await dialJson({ caller: 'sip:101@pbx.example', digits: '*35' });
    expect(await r.json()).toMatchObject({ outcome: 'logged-out', phone: YEALINK, user: '101' });
  });

  it('answers 404 unknown-phone for an unknown caller and MAC', async () => {
    const a = await dialJson({ caller: 'nobody', digits: '*35' });
    expect(a.status).toBe(404);
    expect(((await a.json()) as { code: string }).code).toBe('unknown-phone');
    const b = await dialJson({ mac: '00:15:65:00:00:99', digits: '*35' });
    expect(b.status).toBe(404);
  });
});

describe('POST /api/v1/pbx/dial: text variant', () => {
  it('answers one CUT()-friendly line with ?format=text', async () => {
    const r = await dialForm(`mac=${YEALINK}&digits=${encodeURIComponent('*35*101*4321')}`, '?format=text');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await r.text()).toBe('logged-in,logged-in,hotdesk-logged-in,101');
  });

  it('answers text for Accept: text/plain, with empty fields kept', async () => {
    const r = await dialForm(`mac=${YEALINK}&digits=*35`, '', auth({ Accept: 'text/plain' }));
    expect(await r.text()).toBe('ask-extension,ask-extension,hotdesk-ask-extension,');
  });

  it('answers errors in text form too, with the HTTP status', async () => {
    const r = await dialForm(`caller=nobody&digits=*35`, '?format=text');
    expect(r.status).toBe(404);
    expect(await r.text()).toBe('error,unknown-phone,,');
  });

  it('treats a body without content type as form data (as Asterisk CURL() may send)', async () => {
    const r = await fetch(`${fx.base}/api/v1/pbx/dial?format=text`, {
      method: 'POST',
      headers: auth(),
      body: new Blob([`mac=${YEALINK}&digits=${encodeURIComponent('*35*102*8765')}`]),
    });
    expect(await r.text()).toBe('logged-in,logged-in,hotdesk-logged-in,102');
  });
});

describe('POST /api/v1/pbx/dial: bad requests', () => {
  it.each([
    ['invalid JSON', 'application/json', '{"mac": '],
    ['a JSON array', 'application/json', '[]'],
    ['no digits', 'application/json', JSON.stringify({ mac: YEALINK })],
    ['neither mac nor caller', 'application/json', JSON.stringify({ digits: '*35' })],
    ['a non-string digits', 'application/json', JSON.stringify({ mac: YEALINK, digits: 35 })],
    ['a bad MAC', 'application/x-www-form-urlencoded', 'mac=zz&digits=*35'],
    ['an unsupported type', 'application/xml', '<a/>'],
  ])('answers 400 bad-request for %s', async (_name, type, body) => {
    const r = await fetch(`${fx.base}/api/v1/pbx/dial`, { method: 'POST', headers: auth({ 'Content-Type': type }), body });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { code: string }).code).toBe('bad-request');
  });

  it('answers 405 for GET', async () => {
    const r = await fetch(`${fx.base}/api/v1/pbx/dial`, { headers: auth() });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
  });

  it('answers 413 for an oversized body', async () => {
    const r = await dialForm(`mac=${YEALINK}&digits=${'1'.repeat(8000)}`);
    expect(r.status).toBe(413);
  });
});

describe('parseDialRequest / outcomeLine', () => {
  it('parses form fields and ignores others', () => {
    expect(parseDialRequest('application/x-www-form-urlencoded; charset=utf-8', Buffer.from('caller=101&digits=%2A35&x=1'))).toEqual({
      caller: '101',
      digits: '*35',
    });
  });

  it('strips commas and line breaks from text fields', () => {
    expect(outcomeLine({ code: 'no-change', prompt: null, phone: YEALINK, message: 'x', user: '1,2\n' })).toBe('no-change,,,12');
  });
});

// ---------------------------------------------------------------------------
// The Kamailio snippet of docs/pbx.md, run in a real Kamailio against the
// agent, driven by sipp as the phone. Skipped where kamailio (with the
// http_client module from kamailio-utils-modules) or sipp is not installed.
// ---------------------------------------------------------------------------

const KAMAILIO_MODULES = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules', '/usr/local/lib64/kamailio/modules'];
const kamailioModules = KAMAILIO_MODULES.find((d) => existsSync(join(d, 'http_client.so')));
const haveTools = kamailioModules !== undefined && spawnSync('sipp', ['-v']).error === undefined && spawnSync('kamailio', ['-v']).error === undefined;

/** The Kamailio block of docs/pbx.md (after its marker comment). */
function kamailioSnippet(): string {
  const doc = readFileSync(new URL('../../../docs/pbx.md', import.meta.url), 'utf8');
  const m = /<!-- kamailio-snippet[^>]*-->\s*```text\n([\s\S]*?)```/.exec(doc);
  if (!m?.[1]) throw new Error('Kamailio snippet not found in docs/pbx.md');
  return m[1];
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A one-INVITE sipp scenario from `fromUser` that expects final response `expect`. */
function scenario(fromUser: string, expect: number): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="hotdesk dial">
  <send>
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:${fromUser}@[local_ip]>;tag=[pid]hd[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:${fromUser}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="${expect}"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:${fromUser}@[local_ip]>;tag=[pid]hd[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
</scenario>
`;
}

describe.skipIf(!haveTools)('docs/pbx.md Kamailio snippet in a real Kamailio', () => {
  let kamailio: ChildProcess | null = null;
  let dir = '';
  let sipPort = 0;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotdesk-kam-'));
    sipPort = await freeUdpPort();
    const snippet = kamailioSnippet()
      .replace(/^#!substdef "!HOTDESK_URL!.*$/m, `#!substdef "!HOTDESK_URL!${fx.base}/api/v1/pbx/dial?format=text!g"`)
      .replace(/^#!substdef "!HOTDESK_TOKEN!.*$/m, `#!substdef "!HOTDESK_TOKEN!${TOKEN}!g"`);
    const cfg = `#!KAMAILIO
debug=2
log_stderror=yes
fork=no
children=1
listen=udp:127.0.0.1:${sipPort}
mpath="${kamailioModules}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
loadmodule "siputils.so"
${snippet}
request_route {
    if (is_method("ACK")) {
        exit;
    }
    if (is_method("INVITE") && !has_totag()) {
        route(HOTDESK_RESTRICT);
        if ($rU =~ "^\\*35") {
            route(HOTDESK);
        }
    }
    sl_send_reply("404", "No routing in this test");
}
`;
    writeFileSync(join(dir, 'kamailio.cfg'), cfg);
    kamailio = spawn('kamailio', ['-f', join(dir, 'kamailio.cfg'), '-DD', '-E', '-Y', dir, '-P', join(dir, 'k.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    kamailio.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    // Ready once the SIP worker is up; fail fast on a config error.
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (/INFO:.*(udp_init|init_child|main.c)/.test(log) || /listening on/i.test(log)) {
          clearInterval(t);
          resolve();
        }
      }, 50);
      kamailio?.once('exit', (code) => {
        clearInterval(t);
        reject(new Error(`kamailio exited (${String(code)}): ${log.slice(-2000)}`));
      });
    });
  });

  afterEach(async () => {
    if (kamailio && kamailio.exitCode === null) {
      const exited = new Promise((r) => kamailio?.once('exit', r));
      kamailio.kill('SIGTERM');
      await exited;
    }
    kamailio = null;
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Sends one INVITE through Kamailio; resolves with sipp's exit code (0 = the
   * expected reply came). Asynchronous: the agent answering Kamailio runs in
   * this process.
   */
  const call = (fromUser: string, digits: string, expect: number): Promise<number> => {
    const file = join(dir, `scenario-${fromUser}-${expect}.xml`);
    writeFileSync(file, scenario(fromUser, expect));
    const args = [
      `127.0.0.1:${sipPort}`,
      '-sf',
      file,
      '-s',
      digits,
      '-m',
      '1',
      '-l',
      '1',
      '-i',
      '127.0.0.1',
      '-p',
      '0',
      '-timeout',
      '10s',
      '-timeout_error',
      '-recv_timeout',
      '8000',
      '-nostdin',
    ];
    return new Promise((resolve) => {
      const p = spawn('sipp', args, { cwd: dir, stdio: 'ignore' });
      p.once('exit', (code) => resolve(code ?? -1));
    });
  };

  it('logs a device-account phone in with a one-touch dial (480 "Logged in"), then out', async () => {
    expect(await call('desk02', '*35*102*8765', 480)).toBe(0);
    expect(fx.store.sessionOf(YEALINK2)?.userExt).toBe('102');
    fx.advance(11_000);
    // Now the phone carries 102's account: the agent finds it by that SIP user.
    expect(await call('102', '*35', 480)).toBe(0);
    expect(fx.store.sessionOf(YEALINK2)).toBeUndefined();
  });

  it('answers 484 when the short number and PIN are missing, 403 for a wrong PIN', async () => {
    expect(await call('desk02', '*35', 484)).toBe(0);
    expect(await call('desk02', '*35*101*0000', 403)).toBe(0);
    expect(fx.store.sessionOf(YEALINK2)).toBeUndefined();
  });

  it('keeps device accounts to the feature code and emergency numbers', async () => {
    expect(await call('desk02', '0123456789', 403)).toBe(0);
    expect(await call('desk02', '112', 404)).toBe(0); // passes the restriction; this test has no emergency routing
  });

  it('answers 503 when the agent refuses (unknown caller)', async () => {
    expect(await call('nobody', '*35', 503)).toBe(0);
  });
});
