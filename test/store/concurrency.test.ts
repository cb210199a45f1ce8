/**
 * Two separate OS processes race to put sessions into the same SQLite file
 * with the store's SQL and no application-level check: the schema alone must
 * keep one session per user (exclusive) and one per phone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { DB_FILE } from '../../agent/store/store.js';
import { demoStore, POLY, SNOM, YEALINK } from './helpers.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/race-session.mjs', import.meta.url));
const children: ChildProcess[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill();
  for (const c of cleanups.splice(0)) c();
});

interface RaceResult {
  ok: boolean;
  code?: string;
}

/** Starts one child per insert, waits until all are ready, releases them together. */
async function race(dbPath: string, inserts: { mac: string; ext: string; exclusive: boolean }[]): Promise<RaceResult[]> {
  const procs = inserts.map((i, n) => {
    const child = spawn(process.execPath, [SCRIPT, dbPath, i.mac, i.ext, String(1000 + n), i.exclusive ? '1' : '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n')) resolve();
      });
      child.on('exit', () => reject(new Error(`child exited early: ${out}`)));
    });
    const done = new Promise<RaceResult>((resolve, reject) => {
      child.on('exit', (code) => {
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (code !== 0 || !line) reject(new Error(`child failed (${code}): ${out}`));
        else resolve(JSON.parse(line) as RaceResult);
      });
    });
    return { child, ready, done };
  });
  await Promise.all(procs.map((p) => p.ready));
  for (const p of procs) p.child.stdin?.write('go\n');
  return Promise.all(procs.map((p) => p.done));
}

describe('two processes, one database', () => {
  test('same user on two phones at once (move/refuse): exactly one insert wins, the UNIQUE index rejects the other', async () => {
    const d = await demoStore();
    cleanups.push(d.cleanup);
    const dbPath = join(d.dir, DB_FILE);
    for (const [round, ext] of ['101', '102', '200', '001'].entries()) {
      const phones = round % 2 ? [SNOM, POLY] : [YEALINK, SNOM];
      for (const mac of [YEALINK, SNOM, POLY]) {
        const s = d.store.sessionOf(mac);
        if (s) d.store.endSession(s);
      }
      const results = await race(
        dbPath,
        phones.map((mac) => ({ mac, ext, exclusive: true })),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok).map((r) => r.code)).toEqual(['SQLITE_CONSTRAINT_UNIQUE']);
      expect(d.store.sessionsOfUser(ext)).toHaveLength(1);
    }
  });

  test('two users on the same phone at once: the primary key lets exactly one in', async () => {
    const d = await demoStore();
    cleanups.push(d.cleanup);
    const results = await race(join(d.dir, DB_FILE), [
      { mac: YEALINK, ext: '101', exclusive: true },
      { mac: YEALINK, ext: '200', exclusive: true },
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)?.code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    expect(d.store.listSessions()).toHaveLength(1);
  });

  test('under multipleLogin allow (exclusive_user NULL) both inserts succeed: the index only binds exclusive sessions', async () => {
    const d = await demoStore();
    cleanups.push(d.cleanup);
    const results = await race(join(d.dir, DB_FILE), [
      { mac: YEALINK, ext: '200', exclusive: false },
      { mac: SNOM, ext: '200', exclusive: false },
    ]);
    expect(results).toEqual([{ ok: true }, { ok: true }]);
    expect(d.store.sessionsOfUser('200')).toHaveLength(2);
  });
});
