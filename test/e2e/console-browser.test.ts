/**
 * The web console in a real browser: Debian's chromium, headless, driven by
 * playwright-core (nothing downloaded), against a real agent on the demo
 * office. Sign-in, the four demo phones, a login from the console seen live
 * on the phones page (pending, then synced when the phone fetches its file,
 * without a reload), directory import with an error and then a valid change,
 * helpdesk without secrets or import, a cross-site form without the CSRF
 * token, the sign-in limit. Takes the screenshots of docs/img/ (written there with HOTDESK_SCREENSHOTS=1).
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DEMO_PHONES, startHarness, type Harness } from '../helpers/agent-harness.js';
import { addAccount } from '../helpers/console-client.js';
import { addDemoAdmin, DEMO_ADMIN } from '../../agent/shell/console/demo-admin.js';
import { exportDirectory } from '../../agent/directory/export-directory.js';

const CHROMIUM = '/usr/bin/chromium';
// The screenshots in docs/img/ are refreshed with HOTDESK_SCREENSHOTS=1; a normal run writes them to a temp dir
// (still taken, so the pages render), leaving the work tree untouched.
const IMG = process.env['HOTDESK_SCREENSHOTS'] === '1' ? join(import.meta.dirname, '../../docs/img') : mkdtempSync(join(tmpdir(), 'hotdesk-shots-'));
const DESK1 = DEMO_PHONES.yealink;

let h: Harness;
let browser: Browser;
let evil: Server;

async function signIn(page: Page, name: string, password: string): Promise<void> {
  await page.goto(`${h.base}/admin/`);
  await page.getByLabel('Account').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(IMG, `console-${name}.png`) });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error('chromium missing: run scripts/install-test-peers.sh');
  mkdirSync(IMG, { recursive: true });
  h = await startHarness();
  await addDemoAdmin(h.agent.store, Date.now());
  await addAccount(h.agent.sqlite, 'desk', 'helpdesk', 'desk-password-1');
  await addAccount(h.agent.sqlite, 'temp', 'admin', 'temp-password-1');
  // The phone has made contact once (it is "synced", not "never seen").
  expect((await h.fetchAs(DESK1)).status).toBe(200);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  // Another site (another origin) whose page posts a form to the console without the token.
  evil = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<form id="f" method="post" action="${h.base}/admin/phones/${DESK1.mac}/logout"></form><script>document.getElementById('f').submit()</script>`);
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  evil?.close();
  await h?.stop();
});

describe('web console in chromium', () => {
  it('signs in as admin and shows the overview and the four demo phones', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await signIn(page, DEMO_ADMIN.name, DEMO_ADMIN.password);
    await page.waitForURL(`${h.base}/admin/`);
    await expect.poll(() => page.locator('#live').textContent()).toBe('live');
    // Keyboard first: Tab reaches the skip link, then the navigation.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Phones');
    await shot(page, 'overview');
    await page.getByRole('link', { name: 'Phones', exact: true }).click();
    await expect.poll(() => page.locator('#phones tbody tr').count()).toBe(4);
    for (const label of ['Desk 1', 'Desk 2', 'Desk 3', 'Lift']) expect(await page.locator('#phones').textContent()).toContain(label);
    await ctx.close();
  });

  it('logs 101 in on Desk 1 from the console; the phones page shows pending, then synced after the fetch, without a reload', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const phones = await ctx.newPage();
    await signIn(phones, DEMO_ADMIN.name, DEMO_ADMIN.password);
    await phones.goto(`${h.base}/admin/phones`);
    await expect.poll(() => phones.locator('#live').textContent()).toBe('live');
    const row = phones.locator(`#phone-${DESK1.mac}`);
    expect(await row.getAttribute('data-state')).toBe('synced');
    await phones.evaluate('window.marker = 42');

    const people = await ctx.newPage();
    await people.goto(`${h.base}/admin/people`);
    await people.getByLabel('Short number').fill('101');
    await people.getByLabel('Phone', { exact: true }).selectOption(DESK1.mac);
    await people.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => people.locator('#flash').textContent()).toContain('101 logged in on Desk 1');

    await expect.poll(() => row.getAttribute('data-state'), { timeout: 10_000 }).toBe('pending');
    expect(await row.textContent()).toContain('101');
    const fetched = await h.fetchAs(DESK1);
    expect(fetched.status).toBe(200);
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 10_000 }).toBe('synced');
    expect(await phones.evaluate('window.marker')).toBe(42);
    await shot(phones, 'phones');

    await expect.poll(() => people.locator('#sessions').textContent()).toContain('101');
    await shot(people, 'people');
    await phones.goto(`${h.base}/admin/phones/${DESK1.mac}`);
    expect(await phones.locator('main').textContent()).toContain('Keys as the phone shows them');
    expect(await phones.content()).not.toContain('hotdesk-demo');
    // The secret file as the phone gets it, with every secret masked.
    await phones.locator('summary', { hasText: DESK1.secretFile }).click();
    const body = (await phones.locator('details[open] pre').textContent()) ?? '';
    expect(body).toContain('********');
    expect(body).toMatch(/^account\.1\.user_name = /m);
    const stored = h.agent.sqlite.getUser('101')?.sip.password ?? 'none';
    expect(body).not.toContain(stored);
    await shot(phones, 'phone-detail');
    await phones.goto(`${h.base}/admin/audit?kind=login`);
    await shot(phones, 'audit');
    await ctx.close();
  });

  it('shows a directory error with its line and applies nothing; previews and applies a valid change', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    await signIn(page, DEMO_ADMIN.name, DEMO_ADMIN.password);
    await page.goto(`${h.base}/admin/directory`);
    const current = await exportDirectory(h.agent.store, { withSecrets: false });
    const bad = current.replace('model: T46U', 'model: NOPE9');
    const badLine = bad.split('\n').findIndex((l) => l.includes('NOPE9')) + 1;
    await page.getByLabel('File name (for messages)').fill('office.yaml');
    await page.getByLabel('Directory (YAML)').fill(bad);
    await page.getByRole('button', { name: 'Check and preview' }).click();
    const problems = page.locator('#result .problems');
    await expect.poll(() => problems.textContent()).toContain(`office.yaml:${badLine}:`);
    expect(await problems.textContent()).toContain('model: NOPE9');
    expect(await exportDirectory(h.agent.store, { withSecrets: false })).toBe(current);

    await page.getByLabel('Directory (YAML)').fill(current.replace('label: Desk 3', 'label: Desk 3 (corner)'));
    await page.getByRole('button', { name: 'Check and preview' }).click();
    await expect.poll(() => page.locator('#preview').textContent()).toContain('updated: Desk 3 (corner)');
    expect(h.agent.sqlite.getPhone(DEMO_PHONES.poly.mac)?.label).toBe('Desk 3');
    await shot(page, 'directory-preview');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('#result').textContent()).toContain('Imported office.yaml');
    expect(h.agent.sqlite.getPhone(DEMO_PHONES.poly.mac)?.label).toBe('Desk 3 (corner)');
    await ctx.close();
  });

  it('gives a helpdesk account no secrets and no import', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, 'desk', 'desk-password-1');
    await page.goto(`${h.base}/admin/directory`);
    expect(await page.locator('#upload').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Download with secrets' }).count()).toBe(0);
    await page.goto(`${h.base}/admin/phones/${DESK1.mac}`);
    const html = await page.content();
    expect(html).not.toContain('hotdesk-demo');
    expect(await page.getByRole('button', { name: /Reset enrolment/ }).count()).toBe(0);
    await ctx.close();
  });

  it('refuses a form posted from another site without the CSRF token', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, DEMO_ADMIN.name, DEMO_ADMIN.password);
    expect(h.agent.sqlite.sessionOf(DESK1.mac)?.userExt).toBe('101');
    const answer = page.waitForResponse((r) => r.url().endsWith(`/admin/phones/${DESK1.mac}/logout`));
    await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
    expect((await answer).status()).toBe(403);
    await expect.poll(() => page.locator('main').textContent()).toContain('csrf-failed');
    expect(h.agent.sqlite.sessionOf(DESK1.mac)?.userExt).toBe('101');
    await ctx.close();
  });

  it('rate-limits an account after five wrong passwords', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    for (let i = 0; i < 5; i++) {
      await signIn(page, 'temp', 'not-the-password');
      await expect.poll(() => page.locator('[role=alert]').textContent()).toContain('name or password is wrong');
    }
    await signIn(page, 'temp', 'temp-password-1');
    await expect.poll(() => page.locator('[role=alert]').textContent()).toContain('wait');
    expect(page.url()).toContain('/admin/login');
    await ctx.close();
  });
});
