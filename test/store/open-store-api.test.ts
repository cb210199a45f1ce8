/**
 * Opening the store contract from a store setting (open-store-api.ts, store-url.ts): SQLite in the data
 * directory by default, PostgreSQL for a postgres:// URL (on a real server when one can run here), and
 * a URL's password never in an error.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../agent/core/errors.js';
import { openStoreApi } from '../../agent/store/open-store-api.js';
import { isPostgresUrl, isSqliteSetting, redactInText, redactStoreUrl } from '../../agent/store/store-url.js';
import { type PgCluster, postgresUnavailable, startPostgres } from '../helpers/postgres.js';

const PASSWORD = 'Sup3r-s3cret-pw';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hotdesk-open-store-'));
  dirs.push(d);
  return d;
}

/** The error `p` rejects with. */
async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('store settings', () => {
  it('tells PostgreSQL URLs from the SQLite default', () => {
    for (const u of ['postgres://h/db', 'postgresql://u:p@h:5432/db', ' POSTGRES://h/db']) expect(isPostgresUrl(u)).toBe(true);
    for (const u of [undefined, '', 'sqlite', 'mysql://h/db', 'postgres:/h', '/var/lib/hotdesk']) expect(isPostgresUrl(u)).toBe(false);
    for (const u of [undefined, '', '  ', 'sqlite', 'SQLite']) expect(isSqliteSetting(u)).toBe(true);
    expect(isSqliteSetting('postgres://h/db')).toBe(false);
  });

  it('redacts the password and the query string, keeps the rest', () => {
    expect(redactStoreUrl(`postgres://hotdesk:${PASSWORD}@db.example:5432/hotdesk`)).toBe('postgres://hotdesk:***@db.example:5432/hotdesk');
    expect(redactStoreUrl('postgresql://db.example/hotdesk')).toBe('postgresql://db.example/hotdesk');
    expect(redactStoreUrl(`postgres://db/x?password=${PASSWORD}`)).toBe('postgres://db/x?***');
    expect(redactStoreUrl(`postgres://u:${PASSWORD}@[bad`)).toBe('postgres://***');
  });

  it('cuts every spelling of the password out of a text', () => {
    const url = `postgres://hotdesk:${encodeURIComponent('p@ss w0rd!')}@db/x`;
    const text = `connect ${url} failed: password "p@ss w0rd!" rejected (p%40ss%20w0rd!)`;
    const out = redactInText(text, url);
    expect(out).not.toContain('p@ss w0rd!');
    expect(out).not.toContain('p%40ss%20w0rd!');
    expect(out).toContain('postgres://hotdesk:***@db/x');
    expect(redactInText('the password ab was refused', 'postgres://u:ab@db/x')).not.toContain('ab ');
  });
});

describe('openStoreApi', () => {
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });

  it('opens SQLite in the data directory without a setting (or with sqlite)', async () => {
    for (const store of [undefined, '', 'sqlite']) {
      const dir = dataDir();
      const s = await openStoreApi({ store, dataDir: dir });
      opened.push(s);
      expect(s.kind).toBe('sqlite');
      await s.ping();
      expect((await s.getSite()).name).toEqual(expect.any(String));
      expect(existsSync(join(dir, 'secret.key'))).toBe(true);
    }
  });

  it('refuses another kind of URL without printing it', async () => {
    const e = await failure(openStoreApi({ store: `mysql://root:${PASSWORD}@db/x`, dataDir: dataDir() }));
    expect(isHotdeskError(e, 'storage-error')).toBe(true);
    expect(JSON.stringify(e) + String(e)).not.toContain(PASSWORD);
  });

  it('a PostgreSQL server that does not answer is store-unavailable without the password', async () => {
    const e = await failure(openStoreApi({ store: `postgres://hotdesk:${PASSWORD}@127.0.0.1:1/hotdesk`, dataDir: dataDir() }));
    expect(isHotdeskError(e, 'store-unavailable')).toBe(true);
    expect(JSON.stringify(e) + String(e)).not.toContain(PASSWORD);
  }, 30_000);
});

const why = postgresUnavailable();

describe.skipIf(why !== undefined)('openStoreApi on a real PostgreSQL', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 120_000);
  afterAll(async () => cluster?.stop());

  it('opens the PostgreSQL store, the data key in the data directory', async () => {
    const url = await cluster.createDatabase('open');
    const dir = dataDir();
    const s = await openStoreApi({ store: url, dataDir: dir, agentId: 'test-agent' });
    try {
      expect(s.kind).toBe('postgres');
      await s.ping();
      expect(existsSync(join(dir, 'secret.key'))).toBe(true);
    } finally {
      await s.close();
    }
    // Another data key for the same database is refused, with the URL's password nowhere.
    const withPassword = url.replace('postgres@', `postgres:${PASSWORD}@`);
    const e = await failure(openStoreApi({ store: withPassword, dataDir: dataDir() }));
    expect(isHotdeskError(e, 'storage-error')).toBe(true);
    expect(JSON.stringify(e) + String(e)).not.toContain(PASSWORD);
  }, 60_000);
});
