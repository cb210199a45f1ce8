import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDirectory } from '../../agent/directory/import-directory.js';
import { parseDirectory } from '../../agent/directory/parse-directory.js';
import { openSqliteStore } from '../../agent/store/sqlite-store.js';
import { openStore } from '../../agent/store/store.js';
import { ensureBuilt, runCli, tempDir } from '../cli/cli-harness.js';
import { startHarness, type Harness } from '../helpers/agent-harness.js';
import { directoryYaml, extOf, macOf, pinOf } from './ops-fixtures.js';

const PEOPLE = 40;
/** Extra desks logged in and out by the admin API for as long as the backup runs (writes during the copy). */
const CHURN = 6;
let h: Harness;
const dirs: string[] = [];

beforeAll(async () => {
  ensureBuilt();
  const dataDir = tempDir('hotdesk-backup-src-');
  dirs.push(dataDir);
  const store = openSqliteStore(dataDir);
  try {
    await importDirectory(store, parseDirectory(directoryYaml(PEOPLE + CHURN), 'storm.yaml'), Date.now());
  } finally {
    await store.close();
  }
  mkdirSync(join(dataDir, 'templates', 'yealink'), { recursive: true });
  writeFileSync(join(dataDir, 'templates', 'yealink', 'site-note.liquid'), '# site override kept by backups\n');
  h = await startHarness({ dataDir });
}, 120_000);

afterAll(async () => {
  await h?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** POSTs one hot-desk dial as the PBX would; resolves with the outcome code. */
async function dial(i: number): Promise<string> {
  const res = await fetch(`${h.base}/api/v1/pbx/dial`, {
    method: 'POST',
    headers: { authorization: 'Bearer demo-token', 'content-type': 'application/json' },
    body: JSON.stringify({ mac: macOf(i), digits: `*35*${extOf(i)}*${pinOf(i)}` }),
  });
  return ((await res.json()) as { outcome: string }).outcome;
}

describe('hotdesk backup / restore', () => {
  it('backs up from a second process during a login storm; the restore holds every login acknowledged before the backup started', async () => {
    const out = tempDir('hotdesk-backup-out-');
    dirs.push(out);
    const file = join(out, 'site.sqlite');
    const acknowledged = new Set<number>();
    let next = 0;
    let ackedAtBackupStart: Set<number> | null = null;
    let backup: ReturnType<typeof runCli> | null = null;
    const worker = async (): Promise<void> => {
      for (;;) {
        const i = next++;
        if (i >= PEOPLE) return;
        const outcome = await dial(i);
        expect(outcome).toBe('logged-in');
        acknowledged.add(i);
        if (backup === null && acknowledged.size >= PEOPLE / 4) {
          ackedAtBackupStart = new Set(acknowledged);
          backup = runCli(['backup', file, '--data', h.dataDir, '--with-key', '--json']);
        }
      }
    };
    let backupDone = false;
    let churned = 0;
    const churn = async (c: number): Promise<void> => {
      const mac = macOf(PEOPLE + c);
      const headers = { authorization: 'Bearer demo-token', 'content-type': 'application/json' };
      while (!backupDone) {
        await fetch(`${h.base}/api/v1/phones/${mac}/login`, { method: 'POST', headers, body: JSON.stringify({ ext: extOf(PEOPLE + c) }) }).then((r) =>
          r.text(),
        );
        await fetch(`${h.base}/api/v1/phones/${mac}/logout`, { method: 'POST', headers }).then((r) => r.text());
        churned++;
      }
    };
    const churners = Array.from({ length: CHURN }, (_, c) => churn(c));
    await Promise.all(Array.from({ length: 6 }, () => worker()));
    expect(backup).not.toBeNull();
    void backup!.finally(() => (backupDone = true));
    await backup;
    await Promise.all(churners);
    expect(churned).toBeGreaterThan(0);
    expect(backup).not.toBeNull();
    const b = await backup!;
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    const summary = JSON.parse(b.stdout) as { ok: boolean; keyIncluded: boolean; sessions: number; templates: number; phones: number };
    expect(summary).toMatchObject({ ok: true, keyIncluded: true, phones: PEOPLE + CHURN, templates: 1 });
    expect(summary.sessions).toBeGreaterThanOrEqual(ackedAtBackupStart!.size);
    expect(acknowledged.size).toBe(PEOPLE);
    expect(statSync(file).mode & 0o077).toBe(0);

    const restored = join(out, 'restored');
    const r = await runCli(['restore', file, '--data', restored, '--json']);
    expect(r.code).toBe(0);
    const store = openStore(restored);
    try {
      const sessions = new Set(store.listSessions().map((s) => `${s.phoneMac}/${s.userExt}`));
      for (const i of ackedAtBackupStart!) expect(sessions.has(`${macOf(i)}/${extOf(i)}`)).toBe(true);
      // Secrets open with the restored key.
      expect(store.getUser(extOf(3))?.sip.password).toBe('secret-3-pw');
      expect(store.verifyPin(extOf(3), pinOf(3))).toBe(true);
    } finally {
      store.close();
    }
    expect(existsSync(join(restored, 'templates', 'yealink', 'site-note.liquid'))).toBe(true);
    expect(statSync(join(restored, 'secret.key')).mode & 0o077).toBe(0);

    // A non-empty data directory is refused (nothing changed) unless --force.
    const before = readdirSync(restored).sort();
    const refused = await runCli(['restore', file, '--data', restored, '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).error.code).toBe('data-dir-not-empty');
    expect(readdirSync(restored).sort()).toEqual(before);
    expect((await runCli(['restore', file, '--data', restored, '--force'])).code).toBe(0);
  }, 120_000);

  it('without --with-key the backup holds no key: restore needs --key and refuses a wrong one', async () => {
    const out = tempDir('hotdesk-backup-nokey-');
    dirs.push(out);
    const file = join(out, 'sealed.sqlite');
    const b = await runCli(['backup', file, '--data', h.dataDir]);
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/NOT inside/);

    const missing = await runCli(['restore', file, '--data', join(out, 'a'), '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error.code).toBe('backup-invalid');
    expect(existsSync(join(out, 'a'))).toBe(false);

    const wrongKey = join(out, 'wrong.key');
    writeFileSync(wrongKey, Buffer.alloc(32, 7));
    const wrong = await runCli(['restore', file, '--data', join(out, 'b'), '--key', wrongKey, '--json']);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout).error.code).toBe('backup-invalid');
    expect(existsSync(join(out, 'b', 'hotdesk.sqlite'))).toBe(false);

    const keyCopy = join(out, 'secret.key.copy');
    copyFileSync(join(h.dataDir, 'secret.key'), keyCopy);
    const ok = await runCli(['restore', file, '--data', join(out, 'c'), '--key', keyCopy]);
    expect(ok.code).toBe(0);
    const store = openStore(join(out, 'c'));
    try {
      expect(store.listPhones()).toHaveLength(PEOPLE + CHURN);
    } finally {
      store.close();
    }

    const notBackup = join(out, 'not-a-backup.sqlite');
    writeFileSync(notBackup, 'hello');
    const bad = await runCli(['restore', notBackup, '--data', join(out, 'd'), '--json']);
    expect(JSON.parse(bad.stdout).error.code).toBe('backup-invalid');
  }, 120_000);
});
