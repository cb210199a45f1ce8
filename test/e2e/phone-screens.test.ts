/**
 * Phone-screen hot desking, end to end on loopback. Each
 * phone is a real HTTP client with its vendor's User-Agent acting as its XML
 * browser (test/e2e/phone-browser.ts): it finds the hot-desk menu URL in its
 * own secret config file, opens the menu, follows links and submits forms by
 * its vendor's convention; the test checks via the admin API and the phone's
 * next config file that the session, the revision and the SIP lines changed.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importDirectory } from '../../agent/directory/import-directory.js';
import { parseDirectory } from '../../agent/directory/parse-directory.js';
import { EXAMPLES_DIR } from '../../agent/paths.js';
import { openSqliteStore } from '../../agent/store/sqlite-store.js';
import { DEMO_PHONES, startHarness, type DemoPhone, type Harness } from '../helpers/agent-harness.js';
import { menuUrlFromConfig, PhoneBrowser, parseScreen, polyHomeUrl, submitUrl, type Opened, type Screen } from './phone-browser.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function harness(dataDir?: string): Promise<Harness> {
  const h = await startHarness(dataDir !== undefined ? { dataDir } : {});
  cleanups.push(() => h.stop());
  return h;
}

const LIFT = { mac: '001565aabb09', userAgent: 'Yealink SIP-T31G 124.86.0.40 00:15:65:aa:bb:09', secretFile: '001565aabb09.cfg' };
const SECRETS = { '001': 'reception-secret', '101': 'alex-sales-secret', '102': 'alex-support-secret', '200': 'sam-secret' } as const;

interface PhoneView {
  readonly revision: number;
  readonly user: { readonly ext: string } | null;
}

async function view(h: Harness, mac: string): Promise<PhoneView> {
  const r = await h.api('GET', `/api/v1/phones/${mac}`);
  expect(r.status).toBe(200);
  return r.json as PhoneView;
}

function fileRevision(body: string): number {
  const m = /hotdesk revision (\d+)/.exec(body);
  if (!m) throw new Error('no revision marker in the file');
  return Number(m[1]);
}

/** Boots the phone (fetches its secret file) and returns its menu URL as programmed there. */
async function bootMenuUrl(h: Harness, phone: DemoPhone): Promise<string> {
  const file = await h.fetchAs(phone);
  expect(file.status).toBe(200);
  const url = menuUrlFromConfig(phone.vendor, file.body);
  expect(url, 'the config programs a hot-desk menu key').toBeDefined();
  if (phone.vendor === 'poly') expect(polyHomeUrl(file.body)).toBe(url);
  return url as string;
}

/** After a step: the API shows `ext` (or nobody), the revision went up, and the phone's next file agrees. */
async function expectProvisioned(h: Harness, phone: DemoPhone, before: number, ext: keyof typeof SECRETS | null): Promise<number> {
  const v = await view(h, phone.mac);
  expect(v.user?.ext ?? null).toBe(ext);
  expect(v.revision).toBeGreaterThan(before);
  const file = await h.fetchAs(phone);
  expect(file.status).toBe(200);
  expect(fileRevision(file.body)).toBe(v.revision);
  for (const [e, secret] of Object.entries(SECRETS)) {
    if (e === ext) expect(file.body, `${e}'s line`).toContain(secret);
    else expect(file.body, `no ${e} line`).not.toContain(secret);
  }
  if (ext === null) expect(file.body).toMatch(phone.slotOneCleared);
  else expect(file.body).not.toMatch(phone.slotOneCleared);
  return v.revision;
}

function texts(s: Screen): string[] {
  return s.links.map((l) => l.text);
}

function resultText(s: Screen): string {
  expect(s.kind).toBe('text');
  return s.kind === 'text' ? s.text : '';
}

/** Fills a login form (one screen or, on Snom, one screen per field) until a result. */
async function fillForms(b: PhoneBrowser, start: Opened, values: Record<string, string>, fieldsPerScreen: number[]): Promise<Opened> {
  let s = start;
  for (const n of fieldsPerScreen) {
    expect(s.kind).toBe('form');
    if (s.kind !== 'form') break;
    expect(s.fields).toHaveLength(n);
    expect(s.action, 'fixed parts are path segments, so appending ?k=v always works').not.toContain('?');
    expect(s.fields.find((f) => f.name === 'pin')?.password ?? true).toBe(true);
    s = await b.submit(s, values);
  }
  return s;
}

const LOGIN_FIELDS: Record<DemoPhone['vendor'], number[]> = { yealink: [2], snom: [1, 1], poly: [2] };
const MENU_ROOT: Record<DemoPhone['vendor'], string> = { yealink: 'YealinkIPPhoneTextMenu', snom: 'SnomIPPhoneMenu', poly: 'html' };

describe.each(Object.values(DEMO_PHONES))('$vendor phone screens', (phone) => {
  it('log in -> switch identity -> log out from the menu; each step re-provisions the phone', async () => {
    const h = await harness();
    const b = new PhoneBrowser(phone.vendor, phone.userAgent);
    const menuUrl = await bootMenuUrl(h, phone);
    let rev = (await view(h, phone.mac)).revision;

    // The menu of an empty desk: its label, log in, one entry per identity, no log out.
    const menu = await b.open(menuUrl);
    expect(menu.root).toBe(MENU_ROOT[phone.vendor]);
    expect(menu.fetched.contentType).toMatch(phone.vendor === 'poly' ? /^text\/html/ : /^text\/xml/);
    expect(menu.title).toContain('Desk');
    expect(texts(menu)).toEqual(expect.arrayContaining(['Log in', 'Alex Sales (101)', 'Alex Support (102)']));
    expect(texts(menu).some((t) => /log out/i.test(t))).toBe(false);

    // Log in as 101 with short number and PIN.
    const form = await b.follow(menu, /^Log in$/);
    const loggedIn = await fillForms(b, form, { ext: '101', pin: '4321' }, LOGIN_FIELDS[phone.vendor]);
    expect(resultText(loggedIn)).toBe('Logged in as Alex Sales (101)');
    rev = await expectProvisioned(h, phone, rev, '101');

    // Switch to 102 via the identity entry and its PIN form.
    const menu2 = await b.open(menuUrl);
    expect(menu2.title).toContain('Alex Sales (101)');
    const pinForm = await b.follow(menu2, /\(102\)$/);
    const switched = await fillForms(b, pinForm, { pin: '8765' }, [1]);
    expect(resultText(switched)).toBe('Switched to Alex Support (102)');
    rev = await expectProvisioned(h, phone, rev, '102');

    // Log out from the menu.
    const menu3 = await b.open(menuUrl);
    const out = await b.follow(menu3, /^Log out/);
    expect(resultText(out)).toBe('Alex Support (102) logged out');
    await expectProvisioned(h, phone, rev, null);

    const audit = (await h.api('GET', `/api/v1/audit?phone=${phone.mac}&limit=100`)).json as { events: { kind: string }[] };
    expect(audit.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['login', 'logout']));
  });

  it('every link on every screen resolves to a screen, and result screens lead back to the menu', async () => {
    const h = await harness();
    const b = new PhoneBrowser(phone.vendor, phone.userAgent);
    const menuUrl = await bootMenuUrl(h, phone);
    const menuBase = menuUrl.replace(/\/menu$/, '');
    const isMenu = (u: string): boolean => u === menuUrl || u === menuBase;
    // Crawl twice: an empty desk, then with 200 logged in (so the log-out entry exists).
    for (const round of [0, 1]) {
      if (round === 1) expect((await h.api('POST', `/api/v1/phones/${phone.mac}/login`, { ext: '200' })).status).toBe(200);
      const seen = new Set<string>();
      const queue = [menuUrl];
      const roots = new Set<string>();
      while (queue.length > 0 && seen.size < 60) {
        const url = queue.shift() as string;
        if (seen.has(url)) continue;
        seen.add(url);
        const f = await b.get(url);
        expect(f.status, url).toBe(200);
        const s = parseScreen(phone.vendor, f.body);
        roots.add(s.root);
        if (s.kind === 'text')
          expect(
            s.links.some((l) => isMenu(l.url)),
            `${s.root} links back to the menu`,
          ).toBe(true);
        if (s.kind === 'form') expect(s.links.every((l) => l.url !== '')).toBe(true);
        for (const l of s.links) queue.push(l.url);
        // Forms: submit as the phone does, with a known short number and a wrong PIN.
        if (s.kind === 'form') queue.push(submitUrl(phone.vendor, s, { ext: '200', pin: '9999' }));
      }
      expect(queue.filter((u) => !seen.has(u))).toEqual([]);
      expect(roots.size, [...roots].join(',')).toBeGreaterThanOrEqual(phone.vendor === 'poly' ? 1 : 3);
      expect(seen.size).toBeGreaterThanOrEqual(round === 0 ? 6 : 7);
    }
  });
});

describe('wrong PINs on the screens', () => {
  it.each(Object.values(DEMO_PHONES))('$vendor: wrong PIN screens count toward the lockout exactly as the feature code', async (phone) => {
    // The same five wrong PINs through the PBX feature-code endpoint on a fresh agent ...
    const ref = await harness();
    const viaDial: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const r = await ref.api('POST', '/api/v1/pbx/dial', { mac: phone.mac, digits: `*35*101*000${i}` });
      viaDial.push((r.json as { text: string }).text);
    }
    expect(viaDial.slice(0, 4)).toEqual([
      'Wrong PIN. 4 attempts left',
      'Wrong PIN. 3 attempts left',
      'Wrong PIN. 2 attempts left',
      'Wrong PIN. 1 attempts left',
    ]);
    expect(viaDial[4]).toMatch(/^Too many wrong PINs\. Locked until \d\d:\d\d$/);

    // ... and through the phone's screens on another.
    const h = await harness();
    const b = new PhoneBrowser(phone.vendor, phone.userAgent);
    const menuUrl = await bootMenuUrl(h, phone);
    const rev = (await view(h, phone.mac)).revision;
    const viaScreen: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const menu = await b.open(menuUrl);
      const pinForm = await b.follow(menu, /\(101\)$/);
      viaScreen.push(resultText(await fillForms(b, pinForm, { pin: `000${i}` }, [1])));
    }
    expect(viaScreen.slice(0, 4)).toEqual(viaDial.slice(0, 4));
    expect(viaScreen[4]).toMatch(/^Too many wrong PINs\. Locked until \d\d:\d\d$/);

    // Shared counters: the feature code now answers locked too, even with the right PIN.
    const dial = await h.api('POST', '/api/v1/pbx/dial', { mac: phone.mac, digits: '*35*101*4321' });
    expect(dial.json).toMatchObject({ outcome: 'locked' });
    const until = (dial.json as { text: string }).text.replace(/^.* until /, '');
    expect(viaScreen[4]).toBe(`Too many wrong PINs. Locked until ${until}`);
    // And the right PIN on the screen is refused while locked.
    const menu = await b.open(menuUrl);
    const locked = await fillForms(b, await b.follow(menu, /^Log in$/), { ext: '101', pin: '4321' }, LOGIN_FIELDS[phone.vendor]);
    expect(resultText(locked)).toMatch(/^Too many wrong PINs\. Locked until/);
    const v = await view(h, phone.mac);
    expect(v.user).toBeNull();
    expect(v.revision).toBe(rev);
  });

  it('wrong PINs mixed between the screen and the feature code share one counter', async () => {
    const h = await harness();
    const phone = DEMO_PHONES.yealink;
    const b = new PhoneBrowser(phone.vendor, phone.userAgent);
    const menuUrl = await bootMenuUrl(h, phone);
    const form = await b.follow(await b.open(menuUrl), /^Log in$/);
    expect(resultText(await b.submit(form, { ext: '200', pin: '1111' }))).toBe('Wrong PIN. 4 attempts left');
    const d = await h.api('POST', '/api/v1/pbx/dial', { mac: phone.mac, digits: '*35*200*1112' });
    expect(d.json).toMatchObject({ outcome: 'wrong-pin', attemptsLeft: 3 });
    expect(resultText(await b.submit(form, { ext: '200', pin: '1113' }))).toBe('Wrong PIN. 2 attempts left');
    // A malformed short number is refused without counting.
    expect(resultText(await b.submit(form, { ext: '2x', pin: '1114' }))).toBe('Enter your short number');
    expect(resultText(await b.submit(form, { ext: '200', pin: '2000' }))).toBe('Logged in as Sam Example (200)');
  });
});

describe('a phone without hot-desking (the lift)', () => {
  it('programs no menu key, and its menu and login answer not allowed without changing anything', async () => {
    const h = await harness();
    const liftPhone: DemoPhone = { ...DEMO_PHONES.yealink, ...LIFT };
    const file = await h.fetchAs(liftPhone);
    expect(file.status).toBe(200);
    expect(menuUrlFromConfig('yealink', file.body)).toBeUndefined();
    expect(file.body).not.toContain('/xml/');
    // Even with its own token (read from the store: the file does not carry it), nothing opens.
    const token = h.agent.sqlite.phoneRuntime(LIFT.mac)?.screenToken;
    expect(token).toEqual(expect.any(String));
    const base = `${h.base}/xml/${LIFT.mac}/${encodeURIComponent(token as string)}`;
    const before = await view(h, LIFT.mac);
    const b = new PhoneBrowser('yealink', LIFT.userAgent);
    const menu = await b.open(`${base}/menu`);
    expect(resultText(menu)).toBe('Hot-desking is not allowed here');
    const form = await b.open(`${base}/login`);
    expect(resultText(form)).toBe('Hot-desking is not allowed here');
    expect(resultText(await b.open(`${base}/submit?ext=001&pin=1234`))).toBe('Hot-desking is not allowed here');
    expect(resultText(await b.open(`${base}/submit/001?pin=1234`))).toBe('Hot-desking is not allowed here');
    const after = await view(h, LIFT.mac);
    expect(after.user).toBeNull();
    expect(after.revision).toBe(before.revision);
    expect((await view(h, '001565aabb01')).user).toBeNull();
  });
});

/** GET from a chosen loopback source address (the limiter counts per source). */
function getFrom(localAddress: string, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, headers: { 'user-agent': DEMO_PHONES.snom.userAgent, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('forged screen requests', () => {
  it('another MAC, a missing, wrong or truncated token: 403 and no state change; repeated forgeries: 429 for that source', async () => {
    const h = await harness();
    const yealink = DEMO_PHONES.yealink;
    const snom = DEMO_PHONES.snom;
    const yMenu = await bootMenuUrl(h, yealink);
    const sMenu = await bootMenuUrl(h, snom);
    const [, yMac, yToken] = /\/xml\/([^/]+)\/([^/]+)\/menu$/.exec(yMenu) ?? [];
    const [, sMac, sToken] = /\/xml\/([^/]+)\/([^/]+)\/menu$/.exec(sMenu) ?? [];
    expect(yMac).toBe(yealink.mac);
    expect(sMac).toBe(snom.mac);
    expect(yToken).not.toBe(sToken);
    const yTok = yToken as string;
    const before = { y: await view(h, yealink.mac), s: await view(h, snom.mac) };

    const flip = (t: string): string => (t.startsWith('A') ? `B${t.slice(1)}` : `A${t.slice(1)}`);
    const forged = [
      // The Yealink's token with the Snom's MAC (also in other spellings of the MAC).
      `${h.base}/xml/${snom.mac}/${yTok}/menu`,
      `${h.base}/xml/${snom.mac}/${yTok}/submit?ext=101&pin=4321`,
      `${h.base}/xml/${snom.mac}/${yTok}/submit/101?pin=4321`,
      `${h.base}/xml/00:04:13:AA:BB:02/${yTok}/submit?ext=101&pin=4321`,
      `${h.base}/xml/${snom.mac}/${yTok}/logout`,
      // Missing token.
      `${h.base}/xml/${yealink.mac}/menu`,
      `${h.base}/xml/${yealink.mac}/`,
      `${h.base}/xml/${yealink.mac}//submit?ext=101&pin=4321`,
      `${h.base}/xml/${yealink.mac}/submit?ext=101&pin=4321`,
      // Wrong and truncated tokens.
      `${h.base}/xml/${yealink.mac}/${flip(yTok)}/submit?ext=101&pin=4321`,
      `${h.base}/xml/${yealink.mac}/${yTok.slice(0, -1)}/submit?ext=101&pin=4321`,
      `${h.base}/xml/${yealink.mac}/${yTok.slice(0, 8)}/menu`,
      `${h.base}/xml/${yealink.mac}/${yTok}x/logout`,
    ];
    const b = new PhoneBrowser('snom', snom.userAgent);
    for (const url of forged) {
      const r = await b.get(url);
      expect(r.status, url).toBe(403);
      expect(r.body).not.toContain(yTok);
    }
    expect(forged.length).toBeLessThan(20);
    const after = { y: await view(h, yealink.mac), s: await view(h, snom.mac) };
    expect(after).toEqual(before);

    // The real URL still works from this source (13 failures are under the limit).
    expect((await b.get(sMenu)).status).toBe(200);

    // Keep forging: the per-source limiter blocks this source, even for its real URLs ...
    let status = 0;
    for (let i = 0; i < 30 && status !== 429; i++) status = (await b.get(`${h.base}/xml/${snom.mac}/${yTok}/menu`)).status;
    expect(status).toBe(429);
    expect((await b.get(sMenu)).status).toBe(429);
    // ... but not another source; and still nothing changed.
    expect((await getFrom('127.0.0.2', sMenu)).status).toBe(200);
    const y = await getFrom('127.0.0.2', `${h.base}/api/v1/phones/${yealink.mac}`, { authorization: 'Bearer demo-token' });
    expect(y.status).toBe(200);
    expect(JSON.parse(y.body)).toEqual(before.y);
  });
});

/** A data dir holding the demo office with a long desk label, a name that needs escaping and many identities. */
async function stressDataDir(): Promise<string> {
  let text = fs.readFileSync(path.join(EXAMPLES_DIR, 'demo.yaml'), 'utf8');
  const longLabel = `Desk ${'L'.repeat(12_000)}`;
  text = text.replace('label: Desk 1', `label: "${longLabel}"`);
  text = text.replace('name: Alex Sales', 'name: "Alex <&>\\"\' Sales"');
  const extra = Array.from({ length: 40 }, (_v, i) => `3${String(i).padStart(2, '0')}`);
  text = text.replace('identities: ["101", "102"]\n    keys:', `identities: ["101", "102", ${extra.map((e) => `"${e}"`).join(', ')}]\n    keys:`);
  const users = extra
    .map(
      (e) =>
        `  - ext: "${e}"\n    name: "${e === '300' ? 'N'.repeat(12_000) : `User ${e} ${'&'.repeat(150)}`}"\n    pin: "${e}0"\n    sip:\n      user: "${e}"\n      password: pw-${e}\n`,
    )
    .join('');
  text = text.replace('\nphones:\n', `\n${users}\nphones:\n`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotdesk-e2e-'));
  const store = openSqliteStore(dir);
  try {
    await importDirectory(store, parseDirectory(text, 'demo.yaml'), Date.now());
  } finally {
    await store.close();
  }
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('vendor limits and escaping', () => {
  it('Yealink screens stay within 10,000 bytes with a long label and names; text is escaped on every vendor', async () => {
    const h = await harness(await stressDataDir());
    const yealink = DEMO_PHONES.yealink;
    const b = new PhoneBrowser('yealink', yealink.userAgent);
    const menuUrl = await bootMenuUrl(h, yealink);
    const check = async (url: string): Promise<Opened> => {
      const s = await b.open(url);
      expect(s.fetched.bytes, url).toBeLessThanOrEqual(10_000);
      return s;
    };
    const menu = await check(menuUrl);
    expect(menu.title.startsWith('Hot desk: Desk LLL')).toBe(true);
    expect(texts(menu)).toContain('Log in');
    expect(texts(menu)).toContain('Alex <&>"\' Sales (101)');
    // 42 identities do not fit in one object: the menu keeps what fits (and its fixed entries).
    const shown = texts(menu).filter((t) => /\(\d{3}\)$/.test(t)).length;
    expect(shown).toBeGreaterThan(2);
    expect(shown).toBeLessThan(42);
    expect(menu.fetched.bytes).toBeGreaterThan(9_000);
    await check((await b.follow(menu, /\(101\)$/)).fetched.url);
    // The user with the 12,000-character name logs in: result and menu still fit.
    const loggedIn = await b.submit(await b.follow(menu, /^Log in$/), { ext: '300', pin: '3000' });
    expect(loggedIn.fetched.bytes).toBeLessThanOrEqual(10_000);
    expect(resultText(loggedIn)).toBe(`Logged in as ${'N'.repeat(63)}… (300)`);
    const menu2 = await check(menuUrl);
    expect(texts(menu2).some((t) => t.startsWith('Log out'))).toBe(true);
    const out = await b.follow(menu2, /^Log out/);
    expect(out.fetched.bytes).toBeLessThanOrEqual(10_000);

    // The escaped name on every vendor: parses back to the raw text in menu, result and title.
    for (const phone of [DEMO_PHONES.snom, DEMO_PHONES.poly, yealink]) {
      const pb = new PhoneBrowser(phone.vendor, phone.userAgent);
      const url = await bootMenuUrl(h, phone);
      const m = await pb.open(url);
      expect(texts(m)).toContain('Alex <&>"\' Sales (101)');
      const r = await fillForms(pb, await pb.follow(m, /\(101\)$/), { pin: '4321' }, [1]);
      expect(resultText(r)).toBe('Logged in as Alex <&>"\' Sales (101)');
      expect((await pb.open(url)).title).toBe('Hot desk: Alex <&>"\' Sales (101)');
      expect(r.fetched.body).not.toContain('<&>');
    }
  });
});
