/** Test helpers: temp data directories, the demo directory, raw file reading. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDirectory } from '../../agent/directory/parse-directory.js';
import { importDirectory } from '../../agent/directory/import-directory.js';
import type { Directory } from '../../agent/directory/directory-types.js';
import { EXAMPLES_DIR } from '../../agent/paths.js';
import { sqliteStore } from '../../agent/store/sqlite-store.js';
import { openStore, type Store } from '../../agent/store/store.js';

/** A fresh temp directory; remove it with `cleanup`. */
export function tempDir(prefix = 'hotdesk-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The text of examples/demo.yaml. */
export function demoText(): string {
  return readFileSync(join(EXAMPLES_DIR, 'demo.yaml'), 'utf8');
}

/** examples/demo.yaml parsed. */
export function demoDirectory(): Directory {
  return parseDirectory(demoText(), 'demo.yaml');
}

/** A store in a fresh temp dir with the demo directory imported at `now`. */
export async function demoStore(now = 1_700_000_000_000): Promise<{ store: Store; dir: string; cleanup: () => void }> {
  const t = tempDir();
  const store = openStore(t.dir);
  await importDirectory(sqliteStore(store), demoDirectory(), now);
  return {
    store,
    dir: t.dir,
    cleanup: () => {
      if (store.db.open) store.close();
      t.cleanup();
    },
  };
}

/** Every byte of every file in `dir` (database, WAL, shared memory), concatenated. */
export function rawBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

export const YEALINK = '001565aabb01';
export const SNOM = '000413aabb02';
export const POLY = '0004f2aabb03';
export const LIFT = '001565aabb09';
