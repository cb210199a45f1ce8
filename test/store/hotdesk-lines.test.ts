/**
 * The hot-desk line of each phone in the store (docs/voice.md): created for every
 * hot-desk phone (import, enrolment, accepted sighting, and existing phones by the upgrade to
 * schema 7), stable across re-imports, dropped with the phone or its hot-desking, sealed at
 * rest, never exported; registration bookkeeping with audit and change notification only
 * when the line goes registered <-> not; kept by a backup and its restore.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../agent/core/errors.js';
import type { Phone } from '../../agent/core/model.js';
import { exportDirectory } from '../../agent/directory/export-directory.js';
import { importDirectory } from '../../agent/directory/import-directory.js';
import { parseDirectory } from '../../agent/directory/parse-directory.js';
import { backupDataDir, restoreDataDir } from '../../agent/store/backup.js';
import { loadOrCreateDataKey } from '../../agent/store/data-key.js';
import { LINE_PASSWORD_ALPHABET, LINE_PASSWORD_LENGTH, newLinePassword } from '../../agent/store/hotdesk-line-queries.js';
import { applyMigrations, MIGRATIONS, schemaVersion } from '../../agent/store/migrations.js';
import { seal } from '../../agent/store/secret-box.js';
import { sqliteStore } from '../../agent/store/sqlite-store.js';
import { DB_FILE, openDatabase, openStore, type Store } from '../../agent/store/store.js';
import type { LineRegistration } from '../../agent/store/store-types.js';
import { demoStore, demoText, LIFT, POLY, rawBytes, SNOM, tempDir, YEALINK } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function temp(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
async function demo(now = 1_000_000): Promise<{ store: Store; dir: string }> {
  const d = await demoStore(now);
  cleanups.push(d.cleanup);
  return d;
}
async function reimport(store: Store, text: string, now: number): Promise<void> {
  await importDirectory(sqliteStore(store), parseDirectory(text, 'demo.yaml'), now);
}
const REG: LineRegistration = {
  contact: 'sip:hd-001565aabb01@10.0.0.21:5062',
  address: '10.0.0.21',
  port: 5062,
  transport: 'udp',
  userAgent: 'Yealink SIP-T46U 108.86.0.45',
  callId: 'abc@10.0.0.21',
  cseq: 1,
  registeredAt: 2_000_000,
  expiresAt: 2_000_000 + 3_600_000,
};

describe('line passwords', () => {
  it('are 24 characters of letters and digits, uniformly random', () => {
    const seen = new Set<string>();
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i += 1) {
      const p = newLinePassword();
      expect(p).toMatch(/^[A-Za-z0-9]{24}$/);
      seen.add(p);
      for (const c of p) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(LINE_PASSWORD_LENGTH).toBe(24);
    expect(seen.size).toBe(400);
    // 9,600 draws over 62 characters: every character shows up (expected ~155 each)
    expect(counts.size).toBe(LINE_PASSWORD_ALPHABET.length);
    expect(Math.min(...counts.values())).toBeGreaterThan(80);
  });
});

describe('which phones have a line', () => {
  it('import gives every hot-desk phone its line and the lift none', async () => {
    const { store } = await demo();
    for (const mac of [YEALINK, SNOM, POLY]) {
      const line = store.getHotdeskLine(mac);
      expect(line, mac).toMatchObject({ mac, username: `hd-${mac}`, registration: null });
      expect(line?.password).toMatch(/^[A-Za-z0-9]{24}$/);
      expect(store.findHotdeskLine(`hd-${mac}`)).toEqual(line);
    }
    expect(store.getHotdeskLine(LIFT)).toBeUndefined();
    expect(store.getHotdeskLine('00:15:65:AA:BB:01')?.mac).toBe(YEALINK);
    expect(store.findHotdeskLine('hd-nobody')).toBeUndefined();
    expect(new Set([YEALINK, SNOM, POLY].map((m) => store.getHotdeskLine(m)?.password)).size).toBe(3);
    expect(store.listLineRegistrations()).toEqual([POLY, SNOM, YEALINK].sort().map((mac) => ({ mac, username: `hd-${mac}`, registration: null })));
  });

  it('re-imports keep the credentials (same file, and a file that changes the phone)', async () => {
    const { store } = await demo();
    const before = store.getHotdeskLine(YEALINK);
    await reimport(store, demoText(), 2_000_000);
    expect(store.getHotdeskLine(YEALINK)).toEqual(before);
    await reimport(store, demoText().replace('label: Desk 1', 'label: Desk one'), 3_000_000);
    expect(store.getPhone(YEALINK)?.label).toBe('Desk one');
    expect(store.getHotdeskLine(YEALINK)).toEqual(before);
  });

  it('turning hot-desking off drops the line; on again gives a new one; removing the phone drops it', async () => {
    const { store } = await demo();
    const old = store.getHotdeskLine(SNOM)?.password;
    const snomBlock = '    label: Desk 2\n    location: 2nd floor, middle\n    identities: ["101", "102"]\n';
    expect(demoText()).toContain(snomBlock);
    const off = demoText().replace(snomBlock, '    label: Desk 2\n    hotdesk: false\n');
    await reimport(store, off, 2_000_000);
    expect(store.getPhone(SNOM)?.hotdesk).toBe(false);
    expect(store.getHotdeskLine(SNOM)).toBeUndefined();
    await reimport(store, demoText(), 3_000_000);
    expect(store.getHotdeskLine(SNOM)?.password).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(store.getHotdeskLine(SNOM)?.password).not.toBe(old);
    store.deletePhone(POLY);
    expect(store.getHotdeskLine(POLY)).toBeUndefined();
    expect(store.db.prepare('SELECT count(*) AS n FROM hotdesk_lines WHERE mac = ?').get(POLY)).toEqual({ n: 0 });
  });

  it('auto-enrolment and an accepted sighting create the line', async () => {
    const { store } = await demo();
    store.enrolPhone({ mac: '001565000001', vendor: 'yealink', model: 'T46U' }, 5);
    expect(store.getHotdeskLine('001565000001')?.username).toBe('hd-001565000001');
    store.recordSighting({ mac: '001565000002', ip: '10.0.0.9', vendor: 'yealink', model: 'T46U', at: 6, via: 'http' });
    store.acceptSighting('001565000002', (_v, m) => m, 7);
    expect(store.getHotdeskLine('001565000002')?.username).toBe('hd-001565000002');
  });

  it('the password is sealed at rest, and never exported (not even with secrets)', async () => {
    const { store, dir } = await demo();
    const password = store.getHotdeskLine(YEALINK)?.password ?? '';
    expect(password.length).toBe(24);
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(rawBytes(dir).includes(Buffer.from(password))).toBe(false);
    for (const withSecrets of [false, true]) expect(await exportDirectory(sqliteStore(store), { withSecrets })).not.toContain(password);
  });
});

describe('upgrade from schema 6', () => {
  function phoneRow(db: ReturnType<typeof openDatabase>, key: Buffer, mac: string, hotdesk: boolean): void {
    db.prepare(
      `INSERT INTO phones (mac, vendor, model, label, hotdesk, enrolled_via, created_at, prov_username, prov_password_enc, screen_token, revision, sync_state, sync_revision)
       VALUES (?, 'yealink', 'T46U', ?, ?, 'directory', 1, ?, ?, ?, 3, 'synced', 3)`,
    ).run(mac, `desk ${mac}`, hotdesk ? 1 : 0, `hd-prov-${mac}`, seal(key, 'prov-pw'), `token-${mac}`);
  }

  it('gives existing hot-desk phones their line and a re-sync, and leaves the others alone', () => {
    const dir = temp();
    const { key } = loadOrCreateDataKey(dir);
    const db = openDatabase(join(dir, DB_FILE));
    expect(applyMigrations(db, MIGRATIONS.slice(0, 6))).toEqual([1, 2, 3, 4, 5, 6]);
    phoneRow(db, key, '001565000010', true);
    phoneRow(db, key, '001565000011', false);
    db.close();
    const before = Date.now();
    const store = openStore(dir);
    cleanups.push(() => store.close());
    expect(schemaVersion(store.db)).toBe(7);
    expect(store.getHotdeskLine('001565000010')).toMatchObject({ username: 'hd-001565000010', registration: null });
    expect(store.getHotdeskLine('001565000011')).toBeUndefined();
    const hot = store.phoneRuntime('001565000010');
    expect(hot?.revision).toBe(4);
    expect(hot?.sync).toMatchObject({ state: 'pending', revision: 4, attempts: 0 });
    expect(hot?.sync.requestedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(store.phoneRuntime('001565000011')).toMatchObject({ revision: 3, sync: { state: 'synced' } });
    // opening again changes nothing
    const password = store.getHotdeskLine('001565000010')?.password;
    store.close();
    const again = openStore(dir);
    cleanups.push(() => again.close());
    expect(again.getHotdeskLine('001565000010')?.password).toBe(password);
    expect(again.phoneRuntime('001565000010')?.revision).toBe(4);
  });
});

describe('registration', () => {
  it('registered, refreshed, unchanged, unregistered: audited and notified only on a change of state', async () => {
    const { store } = await demo();
    const heard: string[][] = [];
    store.onChange((macs) => heard.push([...macs]));
    const auditCount = (): number => store.queryAudit({ kinds: ['line-registered', 'line-unregistered'] }).length;

    expect(store.setLineRegistration(YEALINK, REG, 2_000_000)).toBe('registered');
    expect(store.getHotdeskLine(YEALINK)?.registration).toEqual(REG);
    expect(heard).toEqual([[YEALINK]]);
    const [reg] = store.queryAudit({ kinds: ['line-registered'] });
    expect(reg).toMatchObject({
      kind: 'line-registered',
      phone: YEALINK,
      at: 2_000_000,
      detail: { address: '10.0.0.21', port: 5062, transport: 'udp', expiresAt: REG.expiresAt, userAgent: REG.userAgent },
    });
    expect(JSON.stringify(reg)).not.toContain(store.getHotdeskLine(YEALINK)?.password ?? 'x');

    expect(store.setLineRegistration(YEALINK, REG, 2_000_500)).toBe('unchanged');
    const refresh = { ...REG, cseq: 2, registeredAt: 2_500_000, expiresAt: 2_500_000 + 3_600_000 };
    expect(store.setLineRegistration(YEALINK, refresh, 2_500_000)).toBe('refreshed');
    expect(store.getHotdeskLine(YEALINK)?.registration).toEqual(refresh);
    expect(store.listLineRegistrations().find((l) => l.mac === YEALINK)?.registration).toEqual(refresh);
    expect(auditCount()).toBe(1);
    expect(heard).toHaveLength(1);

    expect(store.setLineRegistration(YEALINK, null, 3_000_000)).toBe('unregistered');
    expect(store.getHotdeskLine(YEALINK)?.registration).toBeNull();
    expect(store.queryAudit({ kinds: ['line-unregistered'] })[0]).toMatchObject({ phone: YEALINK, detail: { reason: 'unregistered' } });
    expect(store.setLineRegistration(YEALINK, null, 3_000_001)).toBe('unchanged');
    expect(auditCount()).toBe(2);
    expect(heard).toEqual([[YEALINK], [YEALINK]]);
  });

  it('a binding that lapsed counts as not registered', async () => {
    const { store } = await demo();
    const { userAgent: _ua, ...noUa } = REG;
    expect(store.setLineRegistration(SNOM, noUa, 2_000_000)).toBe('registered');
    expect(store.getHotdeskLine(SNOM)?.registration).toEqual(noUa);
    const later = REG.expiresAt + 1;
    expect(store.setLineRegistration(SNOM, { ...noUa, cseq: 9, registeredAt: later, expiresAt: later + 60_000 }, later)).toBe('registered');
    expect(store.setLineRegistration(SNOM, null, later + 120_000)).toBe('unregistered');
    const kinds = store.queryAudit({ phone: SNOM, kinds: ['line-registered', 'line-unregistered'], limit: 10 });
    expect(kinds.map((e) => [e.kind, e.detail?.['reason'] ?? null])).toEqual([
      ['line-registered', null],
      ['line-registered', null],
      ['line-unregistered', 'expired'],
    ]);
  });

  it('refuses a phone without a line, and a rolled-back transaction notifies nobody', async () => {
    const { store } = await demo();
    let err: unknown;
    try {
      store.setLineRegistration(LIFT, REG, 1);
    } catch (e) {
      err = e;
    }
    expect(isHotdeskError(err, 'unknown-phone')).toBe(true);
    const heard: string[][] = [];
    store.onChange((macs) => heard.push([...macs]));
    expect(() =>
      store.transaction(() => {
        store.setLineRegistration(POLY, REG, 1);
        throw new Error('roll back');
      }),
    ).toThrow('roll back');
    expect(heard).toEqual([]);
    expect(store.getHotdeskLine(POLY)?.registration).toBeNull();
    expect(store.queryAudit({ kinds: ['line-registered'] })).toEqual([]);
  });
});

describe('backup and restore', () => {
  it('keep every line with its password and registration', async () => {
    const { store, dir } = await demo();
    store.setLineRegistration(YEALINK, REG, 2_000_000);
    const lines = [YEALINK, SNOM, POLY].map((m) => store.getHotdeskLine(m));
    const file = join(temp(), 'b.sqlite');
    await backupDataDir(dir, file, { withKey: true });
    const target = join(temp(), 'restored');
    restoreDataDir(file, target);
    const restored = openStore(target);
    cleanups.push(() => restored.close());
    expect([YEALINK, SNOM, POLY].map((m) => restored.getHotdeskLine(m))).toEqual(lines);
  });
});

describe('a phone written directly', () => {
  it('putPhone keeps the line of a phone that stays hot-desk', async () => {
    const { store } = await demo();
    const p = store.getPhone(POLY) as Phone;
    const before = store.getHotdeskLine(POLY);
    store.transaction(() => store.putPhone({ ...p, label: 'renamed' }, 'directory', 9));
    expect(store.getHotdeskLine(POLY)).toEqual(before);
    store.transaction(() => store.putPhone({ ...p, hotdesk: false, identities: [] }, 'directory', 10));
    expect(store.getHotdeskLine(POLY)).toBeUndefined();
  });
});
