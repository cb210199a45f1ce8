/**
 * The demo scenarios (docs/behaviour.md §2-§4) through the built `hotdesk` CLI, on a real
 * SQLite store in a temp data dir: import, dial (log in, log out, switch,
 * not allowed), admin login/logout, listings, audit, export, render.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, ensureBuilt, runCli, tempDir, type CliResult } from './cli-harness.js';

let tmp: string;
let data: string;

beforeAll(async () => {
  ensureBuilt();
  tmp = tempDir();
  data = join(tmp, 'data');
  const r = await runCli(['import', DEMO, '--data', data]);
  // The demo's desks have no device account: import warns (and only warns) about emergency calls.
  expect(r.stderr).toMatch(/^warning: \d+ hot-desk phones have no device account: .*emergency numbers \(112, 911, 999\)/);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.code).toBe(0);
}, 200_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--data', data], { cwd: tmp });

async function dialJson(mac: string, digits: string): Promise<{ code: number | null; out: Record<string, unknown> }> {
  const r = await cli('dial', '--phone', mac, digits, '--json');
  expect(r.stderr).toBe('');
  return { code: r.code, out: JSON.parse(r.stdout) as Record<string, unknown> };
}

const DESK1 = '001565aabb01';
const DESK2 = '000413aabb02';
const LIFT = '001565aabb09';

describe('import', () => {
  it('lists the demo users and phones after import', async () => {
    const users = JSON.parse((await cli('users', '--json')).stdout) as { ext: string }[];
    expect(users.map((u) => u.ext)).toEqual(['001', '101', '102', '200']);
    const phones = await cli('phones');
    expect(phones.code).toBe(0);
    expect(phones.stdout.split('\n')[0]).toMatch(/^MAC +VENDOR +MODEL +LABEL +HOTDESK +USER +SYNC +LINE +LAST SEEN +REV$/);
    expect(phones.stdout).toMatch(/^001565aabb09 +yealink +T31G +Lift +no /m);
    // Hot-desk phones have a hot-desk line, not registered before the phone boots; the lift has none.
    expect(phones.stdout).toMatch(/^001565aabb01 +yealink +T46U .* not registered /m);
    const json = JSON.parse((await cli('phones', '--json')).stdout) as { mac: string; hotdeskLine: { username: string; registered: boolean } | null }[];
    expect(json.find((p) => p.mac === '001565aabb01')?.hotdeskLine).toMatchObject({ username: 'hd-001565aabb01', registered: false });
    expect(json.find((p) => p.mac === '001565aabb09')?.hotdeskLine).toBeNull();
    expect(JSON.stringify(json)).not.toMatch(/password/i);
  });

  it('--dry-run validates, reports and applies nothing', async () => {
    const before = (await cli('export', '--with-secrets')).stdout;
    const auditBefore = JSON.parse((await cli('audit', '--json', '--kind', 'import')).stdout) as unknown[];
    const r = await cli('import', DEMO, '--dry-run', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, dryRun: true });
    expect((await cli('export', '--with-secrets')).stdout).toBe(before);
    expect(JSON.parse((await cli('audit', '--json', '--kind', 'import')).stdout)).toEqual(auditBefore);
  });

  it('a broken file prints FILE:LINE:COL per problem, exits 1 and changes nothing', async () => {
    const broken = readFileSync(DEMO, 'utf8')
      .replace('model: T46U', 'model: T99X')
      .replace('pin: "4321"', 'pin: "43"')
      .replace('name: Sam Example', 'name: Sam Changed');
    writeFileSync(join(tmp, 'broken.yaml'), broken);
    const before = (await cli('export', '--with-secrets')).stdout;
    const r = await cli('import', 'broken.yaml');
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    const pinLine = broken.split('\n').findIndex((l) => l.includes('pin: "43"')) + 1;
    const modelLine = broken.split('\n').findIndex((l) => l.includes('model: T99X')) + 1;
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^broken\\.yaml:${pinLine}:\\d+: `)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^broken\\.yaml:${modelLine}:\\d+: .*T99X`)));
    expect(lines.at(-1)).toMatch(/nothing was applied/);
    expect(r.stderr).not.toContain('43"'); // the bad PIN value is not echoed
    const after = (await cli('export', '--with-secrets')).stdout;
    expect(after).toBe(before);
    expect(after).not.toContain('Sam Changed');

    const json = await cli('import', 'broken.yaml', '--json');
    expect(json.code).toBe(1);
    const body = JSON.parse(json.stdout) as { error: { code: string }; problems: { file: string; line: number; column: number }[] };
    expect(body.error.code).toBe('directory-invalid');
    expect(body.problems.map((p) => p.line).sort((a, b) => a - b)).toEqual([pinLine, modelLine]);
  });

  it('a YAML syntax error is reported with its position', async () => {
    writeFileSync(join(tmp, 'syntax.yaml'), 'site:\n  name: [unclosed\n');
    const r = await cli('import', 'syntax.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^syntax\.yaml:\d+:\d+: /m);
    expect(r.stderr).toContain('yaml-syntax');
  });

  it('a missing file exits 1', async () => {
    const r = await cli('import', 'no-such.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not-found');
  });
});

describe('dial: the demo scenarios', () => {
  it('*35*001*1234 logs in, the same again logs out', async () => {
    const inR = await cli('dial', '--phone', DESK1, '*35*001*1234');
    expect(inR.code).toBe(0);
    expect(inR.stdout).toMatch(/^outcome: +logged-in$/m);
    expect(inR.stdout).toMatch(/^text: +Logged in as Reception \(001\)$/m);
    expect((await cli('sessions')).stdout).toMatch(new RegExp(`^${DESK1} +Desk 1 +001 +Reception +\\d{4}-`, 'm'));

    const out = await dialJson(DESK1, '*35*001*1234');
    expect(out.code).toBe(0);
    expect(out.out).toMatchObject({ outcome: 'logged-out', prompt: 'logged-out', phone: DESK1, user: '001', text: 'Reception (001) logged out' });
    expect(JSON.parse((await cli('sessions', '--json')).stdout)).toEqual([]);
  });

  it('*35*101*4321 then *35*102*8765 switches identity in one press', async () => {
    const a = await dialJson(DESK1, '*35*101*4321');
    expect(a.out).toMatchObject({ outcome: 'logged-in', user: '101' });
    const b = await dialJson('00:15:65:AA:BB:01', '*35*102*8765');
    expect(b.code).toBe(0);
    expect(b.out).toMatchObject({ outcome: 'switched', prompt: 'switched', user: '102', previousUser: '101', text: 'Switched to Alex Support (102)' });
    const sessions = JSON.parse((await cli('sessions', '--json')).stdout) as { phone: string; user: string }[];
    expect(sessions).toEqual([expect.objectContaining({ phone: DESK1, user: '102' })]);
  });

  it('the lift phone answers not-allowed (exit 3)', async () => {
    const r = await dialJson(LIFT, '*35*101*4321');
    expect(r.code).toBe(3);
    expect(r.out).toMatchObject({ outcome: 'not-allowed', prompt: 'not-allowed', text: 'Hot-desking is not allowed here' });
  });

  it('a wrong PIN exits 3 with attempts left; the PIN never appears', async () => {
    const r = await cli('dial', '--phone', DESK2, '*35*200*9911', '--json');
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'wrong-pin', prompt: 'wrong-pin', attemptsLeft: 4 });
    expect(r.stdout + r.stderr).not.toContain('9911');
  });

  it('*35 on an empty phone asks for the short number (exit 0); digits that are no code exit 3', async () => {
    const ask = await dialJson(DESK2, '*35');
    expect(ask.code).toBe(0);
    expect(ask.out).toMatchObject({ outcome: 'ask-extension', prompt: 'ask-extension', text: 'Enter your short number' });
    const other = await dialJson(DESK2, '0301234567');
    expect(other.code).toBe(3);
    expect(other.out).toMatchObject({ outcome: 'not-hotdesk-code' });
  });

  it('an unknown phone exits 1 with unknown-phone', async () => {
    const r = await cli('dial', '--phone', '00000000beef', '*35');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown-phone/);
    const j = await cli('dial', '--phone', '00000000beef', '*35', '--json');
    expect(JSON.parse(j.stdout)).toMatchObject({ error: { code: 'unknown-phone' } });
  });
});

describe('admin login and logout', () => {
  it('login moves the user from another phone; logout logs out; a second logout exits 3', async () => {
    // 102 is on desk 1 from the switch scenario.
    const r = await cli('login', '--phone', DESK2, '102', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'logged-in', user: '102', phone: DESK2, movedFrom: DESK1 });
    const users = JSON.parse((await cli('users', '--json')).stdout) as { ext: string; phones: string[] }[];
    expect(users.find((u) => u.ext === '102')?.phones).toEqual([DESK2]);

    const out = await cli('logout', '--phone', DESK2);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^outcome: +logged-out$/m);
    const again = await cli('logout', '--phone', DESK2, '--json');
    expect(again.code).toBe(3);
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: 'no-change' });
  });

  it('login of an unknown user exits 3; on the lift phone exits 3', async () => {
    const unknown = await cli('login', '--phone', DESK1, '999', '--json');
    expect(unknown.code).toBe(3);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ outcome: 'unknown-user' });
    const lift = await cli('login', '--phone', LIFT, '200', '--json');
    expect(lift.code).toBe(3);
    expect(JSON.parse(lift.stdout)).toMatchObject({ outcome: 'not-allowed' });
  });
});

describe('audit', () => {
  it('shows the events of the scenarios, filterable and pageable', async () => {
    const all = JSON.parse((await cli('audit', '--json', '--limit', '1000')).stdout) as { id: number; kind: string; phone?: string; user?: string }[];
    const kinds = all.map((e) => e.kind);
    for (const k of ['import', 'login', 'logout', 'switch', 'refused', 'wrong-pin']) expect(kinds).toContain(k);
    const ids = all.map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    const switches = JSON.parse((await cli('audit', '--json', '--kind', 'switch')).stdout) as { user?: string; phone?: string }[];
    expect(switches).toEqual([expect.objectContaining({ kind: 'switch', user: '102', phone: DESK1 })]);
    const lift = JSON.parse((await cli('audit', '--json', '--phone', '00-15-65-AA-BB-09')).stdout) as { phone?: string }[];
    expect(lift.length).toBeGreaterThan(0);
    expect(lift.every((e) => e.phone === LIFT)).toBe(true);
    const of001 = JSON.parse((await cli('audit', '--json', '--user', '001')).stdout) as { kind: string }[];
    expect(of001.map((e) => e.kind)).toEqual(['login', 'logout']);

    const third = ids[2] ?? 0;
    const after = JSON.parse((await cli('audit', '--json', '--since', String(third), '--limit', '2')).stdout) as { id: number }[];
    expect(after.map((e) => e.id)).toEqual(ids.slice(3, 5));

    const text = await cli('audit', '--kind', 'switch');
    expect(text.stdout).toMatch(/^ID +TIME +KIND +PHONE +USER +DETAIL$/m);
    expect(text.stdout).toMatch(new RegExp(`^\\d+ +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +switch +${DESK1} +102 +previousUser=101`, 'm'));
    // Ids and timestamps are numbers that may contain those digits by chance: look at everything else.
    const words = JSON.stringify(all.map(({ id: _id, at: _at, ...rest }: { id: number; at?: unknown }) => rest));
    for (const pin of ['1234', '4321', '8765']) expect(words).not.toContain(pin);
  });
});

describe('export', () => {
  it('hides secrets unless --with-secrets; -o writes a 0600 file', async () => {
    const plain = await cli('export');
    expect(plain.code).toBe(0);
    for (const s of ['reception-secret', 'alex-sales-secret', 'hotdesk-demo', 'demo-token', '"1234"', 'lift-secret']) expect(plain.stdout).not.toContain(s);
    expect(plain.stdout).toContain('********');
    const full = await cli('export', '--with-secrets');
    for (const s of ['reception-secret', 'alex-sales-secret', 'hotdesk-demo', 'demo-token', 'lift-secret']) expect(full.stdout).toContain(s);

    const r = await cli('export', '--with-secrets', '-o', 'out.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(join(tmp, 'out.yaml'), 'utf8')).toBe(full.stdout);
    expect(statSync(join(tmp, 'out.yaml')).mode & 0o777).toBe(0o600);
  });

  it('an export re-imports into a fresh data dir to the same export', async () => {
    const full = (await cli('export', '--with-secrets')).stdout;
    writeFileSync(join(tmp, 'roundtrip.yaml'), full);
    const other = join(tmp, 'data2');
    const imp = await runCli(['import', 'roundtrip.yaml', '--data', other], { cwd: tmp });
    expect(imp.code).toBe(0);
    expect((await runCli(['export', '--with-secrets', '--data', other])).stdout).toBe(full);
  });
});

describe('render', () => {
  it('lists the files a phone may request, one per line', async () => {
    const r = await cli('render', '--phone', DESK1);
    expect(r.code).toBe(0);
    const names = r.stdout.trim().split('\n');
    expect(names).toContain(`${DESK1}.cfg`);
    const snom = (await cli('render', '--phone', DESK2)).stdout.trim().split('\n');
    expect(snom).toContain('snomD785-000413AABB02.htm');
    const list = JSON.parse((await cli('render', '--phone', DESK1, '--json')).stdout) as { name: string; secret: boolean }[];
    expect(list.map((f) => f.name)).toEqual(names);
    expect(list.find((f) => f.name === `${DESK1}.cfg`)?.secret).toBe(true);
  });

  it('prints one file exactly as the phone receives it, without counting as a fetch', async () => {
    await cli('login', '--phone', DESK1, '101');
    const before = JSON.parse((await cli('phones', '--json')).stdout) as { mac: string; lastSeen: unknown; sync: unknown; revision: number }[];
    const r = await cli('render', '--phone', DESK1, '--file', `${DESK1}.cfg`);
    expect(r.code).toBe(0);
    const j = JSON.parse((await cli('render', '--phone', DESK1, '--file', `${DESK1}.cfg`, '--json')).stdout) as { body: string; secret: boolean };
    expect(r.stdout).toBe(j.body);
    expect(r.stdout).toContain('alex-sales-secret'); // the user's SIP account is in the phone's own file
    expect(r.stdout).toContain('*35*102*8765'); // identity key of 102
    expect(r.stdout).toMatch(new RegExp(`http://127\\.0\\.0\\.1:8080/xml/${DESK1}/[A-Za-z0-9_-]+/menu`));
    const after = JSON.parse((await cli('phones', '--json')).stdout) as typeof before;
    expect(after).toEqual(before);
    expect(after.find((p) => p.mac === DESK1)?.lastSeen).toBeNull();
  });

  it('--base changes the URLs; an unknown file exits 1', async () => {
    const r = await cli('render', '--phone', DESK1, '--file', `${DESK1}.cfg`, '--base', 'http://10.9.8.7:8088/');
    expect(r.stdout).toMatch(new RegExp(`http://10\\.9\\.8\\.7:8088/xml/${DESK1}/`));
    expect(r.stdout).not.toContain('127.0.0.1:8080');
    // the hot-desk line registers at the host of the base URL, on --sip-port (default 5070)
    expect(r.stdout).toContain('account.16.sip_server.1.address = 10.9.8.7\naccount.16.sip_server.1.port = 5070\n');
    const sip = await cli('render', '--phone', DESK1, '--file', `${DESK1}.cfg`, '--sip-port', '5099');
    expect(sip.stdout).toContain('account.16.sip_server.1.port = 5099\n');
    expect((await cli('render', '--phone', DESK1, '--sip-port', '0')).code).toBe(2);
    const bad = await cli('render', '--phone', DESK1, '--file', 'other.cfg');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown-file');
  });
});

describe('HOTDESK_DATA', () => {
  it('is used when --data is absent', async () => {
    const copy = join(tmp, 'env-data');
    const imp = await runCli(['import', DEMO], { cwd: tmp, env: { HOTDESK_DATA: copy } });
    expect(imp.code).toBe(0);
    const users = await runCli(['users', '--json'], { cwd: tmp, env: { HOTDESK_DATA: copy } });
    expect((JSON.parse(users.stdout) as unknown[]).length).toBe(4);
  });
});
