/**
 * Directory upload in the console: validate a YAML directory, show what an
 * import would change, then apply exactly that file (docs/console.md
 * "Directory").
 *
 * The preview applies the file inside a transaction that is rolled back
 * (like `hotdesk import --dry-run`), so it checks what only the store can
 * (kept secrets) and lists the real differences: users and phones added,
 * updated and removed, sessions that would end, phones re-provisioned.
 * Nothing is applied and no listener is told. Apply refuses with `conflict`
 * when the directory changed since the preview.
 */
import { createHash, randomBytes } from 'node:crypto';
import { HotdeskError, isHotdeskError } from '../../core/errors.js';
import type { DirectoryErrorEntry } from '../../directory/directory-types.js';
import { exportDirectory } from '../../directory/export-directory.js';
import { importDirectory, type ImportResult } from '../../directory/import-directory.js';
import { parseDirectory } from '../../directory/parse-directory.js';
import type { StoreApi } from '../../store/store-api.js';

/** A problem with the offending line of the uploaded text. */
export interface PositionedProblem extends DirectoryErrorEntry {
  /** The text of line `line` (empty when the problem has no position). */
  readonly source: string;
}

/** Names changed by an import, per kind. */
export interface ChangeList {
  readonly added: readonly string[];
  readonly updated: readonly string[];
  readonly removed: readonly string[];
}

/** What an import of the file would do. */
export interface DirectoryPreview {
  readonly users: ChangeList;
  readonly phones: ChangeList;
  /** Sessions that would end, as `ext on label`. */
  readonly sessionsEnded: readonly string[];
  readonly summary: ImportResult;
}

/** Codes of a directory that failed validation (reported per line). */
const DIRECTORY_CODES = new Set(['directory-invalid', 'yaml-syntax', 'too-many-keys', 'unknown-model', 'unsafe-value']);

class Rollback extends Error {}

/** The problems a directory error carries, each with its source line; null when `e` is no directory error. */
export function directoryProblems(e: unknown, text: string, file: string): PositionedProblem[] | null {
  if (!isHotdeskError(e) || !DIRECTORY_CODES.has(e.code)) return null;
  const lines = text.split(/\r?\n/);
  const list = Array.isArray(e.detail['errors']) ? (e.detail['errors'] as Partial<DirectoryErrorEntry>[]) : [];
  const out = list.map((p): PositionedProblem => {
    const line = typeof p.line === 'number' ? p.line : 0;
    return {
      file: typeof p.file === 'string' ? p.file : file,
      line,
      column: typeof p.column === 'number' ? p.column : 0,
      path: typeof p.path === 'string' ? p.path : '',
      message: typeof p.message === 'string' ? p.message : e.message,
      code: p.code ?? e.code,
      source: line > 0 ? (lines[line - 1] ?? '') : '',
    };
  });
  if (out.length === 0) out.push({ file, line: 0, column: 0, path: '', message: e.message, code: e.code, source: '' });
  return out;
}

function diff<T>(before: ReadonlyMap<string, T>, after: ReadonlyMap<string, T>, name: (k: string, v: T) => string): ChangeList {
  const added: string[] = [];
  const updated: string[] = [];
  const removed: string[] = [];
  for (const [k, v] of after) {
    const old = before.get(k);
    if (old === undefined) added.push(name(k, v));
    else if (JSON.stringify(old) !== JSON.stringify(v)) updated.push(name(k, v));
  }
  for (const [k, v] of before) if (!after.has(k)) removed.push(name(k, v));
  return { added, updated, removed };
}

/**
 * Validates `text` and computes what importing it would change, applying
 * nothing. Throws the directory error (`directory-invalid`, `yaml-syntax`, ...)
 * when the file is not valid.
 */
export async function previewDirectory(store: StoreApi, text: string, file: string, now: number): Promise<DirectoryPreview> {
  const dir = parseDirectory(text, file);
  let preview: DirectoryPreview | null = null;
  try {
    await store.transaction(async (tx) => {
      /** Users with a digest of their PIN (a changed PIN shows as an update, the PIN itself never). */
      const usersWithPins = async () => {
        const users = await tx.listUsers();
        const pins = await Promise.all(users.map((u) => tx.userPin(u.ext)));
        return new Map(
          users.map((u, i) => [
            u.ext,
            {
              ...u,
              pin: createHash('sha256')
                .update(pins[i] ?? '')
                .digest('hex'),
            },
          ]),
        );
      };
      const users0 = await usersWithPins();
      const phones0 = new Map((await tx.listPhones()).map((p) => [p.mac, p]));
      const sessions0 = await tx.listSessions();
      const summary = await importDirectory(store, dir, now);
      const users1 = await usersWithPins();
      const phones1 = new Map((await tx.listPhones()).map((p) => [p.mac, p]));
      const left = new Set((await tx.listSessions()).map((s) => `${s.phoneMac}/${s.userExt}`));
      const label = (mac: string): string => phones0.get(mac)?.label ?? mac;
      preview = {
        users: diff(users0, users1, (k, u) => `${k} ${u.name}`),
        phones: diff(phones0, phones1, (k, p) => `${p.label} (${k})`),
        sessionsEnded: sessions0.filter((s) => !left.has(`${s.phoneMac}/${s.userExt}`)).map((s) => `${s.userExt} on ${label(s.phoneMac)}`),
        summary,
      };
      throw new Rollback();
    });
  } catch (e) {
    if (!(e instanceof Rollback)) throw e;
  }
  if (preview === null) throw new HotdeskError('internal', 'preview produced nothing');
  return preview;
}

/** A fingerprint of the stored directory (changes with any import or edit). */
export async function directoryFingerprint(store: StoreApi): Promise<string> {
  return createHash('sha256')
    .update(await exportDirectory(store, { withSecrets: false }))
    .digest('hex');
}

/** An uploaded file waiting for Apply or Cancel. */
interface PendingImport {
  readonly text: string;
  readonly file: string;
  readonly owner: string;
  readonly fingerprint: string;
  readonly at: number;
}

/** Uploaded files between preview and apply, per session, for a bounded time. */
export class PendingImports {
  private readonly items = new Map<string, PendingImport>();
  constructor(
    private readonly ttlMs = 30 * 60_000,
    private readonly max = 50,
  ) {}

  /** Keeps an upload; returns its id. */
  put(p: PendingImport): string {
    for (const [id, x] of this.items) if (p.at - x.at > this.ttlMs || x.owner === p.owner) this.items.delete(id);
    if (this.items.size >= this.max) {
      const first = this.items.keys().next();
      if (!first.done) this.items.delete(first.value);
    }
    const id = randomBytes(16).toString('base64url');
    this.items.set(id, p);
    return id;
  }

  /** Takes an upload of `owner` out (null when unknown, expired or someone else's). */
  take(id: string, owner: string, now: number): PendingImport | null {
    const p = this.items.get(id);
    if (!p || p.owner !== owner) return null;
    this.items.delete(id);
    return now - p.at > this.ttlMs ? null : p;
  }
}
