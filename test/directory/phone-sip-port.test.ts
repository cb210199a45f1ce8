import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDirectory } from '../../agent/directory/parse-directory.js';
import { importDirectory } from '../../agent/directory/import-directory.js';
import { exportDirectory } from '../../agent/directory/export-directory.js';
import { sqliteStore } from '../../agent/store/sqlite-store.js';
import { openStore, type Store } from '../../agent/store/store.js';
import { EXAMPLES_DIR } from '../../agent/paths.js';

const stores: Store[] = [];
afterEach(() => {
  while (stores.length) stores.pop()?.close();
});

function store(): Store {
  const s = openStore(fs.mkdtempSync(path.join(os.tmpdir(), 'hotdesk-sipport-')));
  stores.push(s);
  return s;
}

const demo = fs.readFileSync(path.join(EXAMPLES_DIR, 'demo.yaml'), 'utf8');
const withPort = demo.replace(/(\n\s+- mac: "001565aabb01"[^\n]*\n)/, '$1    sipPort: 5062\n');

describe('phone sipPort in the directory', () => {
  it('sets where check-sync NOTIFYs go, exports it, and re-imports to the same state', async () => {
    expect(withPort).not.toBe(demo);
    const s = store();
    await importDirectory(sqliteStore(s), parseDirectory(withPort, 'demo.yaml'), 1_000);
    expect(s.phoneRuntime('001565aabb01')?.sipPort).toBe(5062);
    expect(s.phoneRuntime('000413aabb02')?.sipPort).toBe(5060);
    const out = await exportDirectory(sqliteStore(s), { withSecrets: true });
    expect(out).toMatch(/sipPort: 5062/);
    const s2 = store();
    await importDirectory(sqliteStore(s2), parseDirectory(out, 'export.yaml'), 2_000);
    expect(s2.phoneRuntime('001565aabb01')?.sipPort).toBe(5062);
    expect(await exportDirectory(sqliteStore(s2), { withSecrets: true })).toBe(out);
  });

  it('refuses a port out of range with its line', () => {
    expect(() => parseDirectory(withPort.replace('sipPort: 5062', 'sipPort: 70000'), 'demo.yaml')).toThrow(/demo\.yaml:\d+:\d+: .*sipPort/);
  });
});
