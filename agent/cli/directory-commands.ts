/**
 * `hotdesk import FILE` and `hotdesk export`: the directory file (site,
 * users, phones, keys) in and out of the store.
 *
 * Import is all or nothing: the whole file is validated first and every
 * problem is printed as `FILE:LINE:COL: message` (one per line, the format
 * editors and CI annotate); on any error nothing is applied (exit 1).
 * Export prints YAML that import accepts; secrets (SIP passwords, PINs,
 * bootstrap credential, API tokens) are left out unless `--with-secrets`.
 */
import { resolve } from 'node:path';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ERROR_CODES, HotdeskError, isHotdeskError, type ErrorCode } from '../core/errors.js';
import { formatDirectoryError, type DirectoryErrorEntry } from '../directory/directory-types.js';
import { exportDirectory } from '../directory/export-directory.js';
import { importDirectory, type ImportResult } from '../directory/import-directory.js';
import { parseDirectory } from '../directory/parse-directory.js';
import { directoryWarnings, type DirectoryWarning } from '../directory/directory-warnings.js';
import {
  EXIT,
  JSON_OPTION,
  STORE_HELP,
  STORE_OPTION,
  dataDir,
  optFlag,
  optString,
  printJson,
  defineCommand,
  storeSetting,
  type Command,
  type Io,
} from './cli-kit.js';
import { withStore } from './cli-store.js';

/** The positioned problems a directory error carries (at least one). */
export function problemsOf(e: HotdeskError, file: string): DirectoryErrorEntry[] {
  const list = e.detail['errors'];
  const out: DirectoryErrorEntry[] = [];
  if (Array.isArray(list)) {
    for (const item of list as unknown[]) {
      if (item === null || typeof item !== 'object') continue;
      const o = item as Partial<Record<keyof DirectoryErrorEntry, unknown>>;
      out.push({
        file: typeof o.file === 'string' ? o.file : file,
        line: typeof o.line === 'number' ? o.line : 1,
        column: typeof o.column === 'number' ? o.column : 1,
        path: typeof o.path === 'string' ? o.path : '',
        message: typeof o.message === 'string' ? o.message : e.message,
        code: isErrorCode(o.code) ? o.code : e.code,
      });
    }
  }
  if (out.length === 0) out.push({ file, line: 1, column: 1, path: '', message: e.message, code: e.code });
  return out;
}

function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);
}

/** Error codes of a directory that failed validation (reported as FILE:LINE:COL lines). */
const DIRECTORY_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'directory-invalid',
  'yaml-syntax',
  'too-many-keys',
  'unknown-model',
  'unsafe-value',
]);

/** Thrown inside the dry-run transaction to roll it back. */
class DryRunRollback extends Error {}

const importHelp = `Usage: hotdesk import FILE [--dry-run] [--json] [--store URL] [--data DIR]

Validate the directory file FILE (YAML: site, users, phones, keys) and apply
it to the store. Validation covers the whole file (syntax, fields, short
numbers, MACs, models and key counts against the firmware profiles) before
anything changes: on any error every problem is printed as

  FILE:LINE:COL: message

and nothing is applied (exit 1). Phones whose files change are re-provisioned.

Options:
  --dry-run    validate only, apply nothing
  --json       print {"ok", "dryRun", "summary", "warnings"} or {"error", "problems"}

Warnings (printed, nothing refused): hot-desk phones without a device account
rely on the PBX accepting the emergency calls the agent redirects to it.
${STORE_HELP}

Example:
  hotdesk import examples/demo.yaml --data ./data
`;

/** `hotdesk import`. */
export const importCommand: Command = defineCommand(
  {
    name: 'import',
    help: importHelp,
    options: { ...JSON_OPTION, ...STORE_OPTION, 'dry-run': { type: 'boolean' } },
    positionals: { min: 1, max: 1, what: 'FILE' },
  },
  async (p, io) => {
    const fileArg = p.positionals[0] ?? '';
    const json = optFlag(p, 'json');
    const dryRun = optFlag(p, 'dry-run');
    let text: string;
    try {
      text = readFileSync(resolve(io.cwd, fileArg), 'utf8');
    } catch {
      throw new HotdeskError('not-found', `cannot read ${fileArg}`, { file: fileArg });
    }
    const dataPath = dataDir(p, io);
    const store = storeSetting(p, io);
    try {
      const dir = parseDirectory(text, fileArg);
      const warnings = directoryWarnings(dir);
      if (!json) for (const w of warnings) io.err(`warning: ${w.message}`);
      if (dryRun && !existsSync(dataPath)) {
        // Nothing stored yet: the file on its own is all there is to check.
        report(io, json, fileArg, true, null, warnings);
        return EXIT.ok;
      }
      return await withStore(
        dataPath,
        async (s) => {
          let summary: ImportResult | null = null;
          if (dryRun) {
            // Apply inside a transaction and roll it back: checks what only the store can (kept secrets).
            try {
              await s.transaction(async () => {
                summary = await importDirectory(s, dir, Date.now());
                throw new DryRunRollback();
              });
            } catch (e) {
              if (!(e instanceof DryRunRollback)) throw e;
            }
          } else summary = await importDirectory(s, dir, Date.now());
          report(io, json, fileArg, dryRun, summary, warnings);
          return EXIT.ok;
        },
        { create: true, store },
      );
    } catch (e) {
      if (!isHotdeskError(e) || !DIRECTORY_ERROR_CODES.has(e.code)) throw e;
      return reportProblems(io, e, fileArg, json);
    }
  },
);

function report(io: Io, json: boolean, file: string, dryRun: boolean, summary: ImportResult | null, warnings: readonly DirectoryWarning[]): void {
  if (json) {
    printJson(io, { ok: true, dryRun, file, ...(summary ? { summary } : {}), warnings });
    return;
  }
  io.out(`${dryRun ? 'valid (dry run, nothing applied)' : 'imported'}: ${file}\n`);
  if (!summary) return;
  const s: ImportResult = summary;
  const rows: [string, string][] = [
    ['users', `${s.usersAdded} added, ${s.usersUpdated} updated, ${s.usersRemoved} removed`],
    ['phones', `${s.phonesAdded} added, ${s.phonesUpdated} updated, ${s.phonesRemoved} removed`],
    ['sessions ended', String(s.sessionsEnded)],
    ['re-provisioned', s.reprovisioned.length ? s.reprovisioned.join(', ') : '-'],
  ];
  io.out(rows.map(([k, v]) => `  ${`${k}:`.padEnd(16)}${v}\n`).join(''));
}

function reportProblems(io: Io, e: HotdeskError, file: string, json: boolean): number {
  const problems = problemsOf(e, file);
  const summary = `${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was applied`;
  if (json) printJson(io, { error: { code: e.code, message: summary }, problems });
  else io.err(problems.map(formatDirectoryError).join('\n'));
  if (!json) io.err(`hotdesk: ${e.code}: ${summary}`);
  return EXIT.failed;
}

const exportHelp = `Usage: hotdesk export [--with-secrets] [-o FILE] [--store URL] [--data DIR]

Print the directory (site, users, phones, keys) as YAML that 'hotdesk import'
accepts. Secrets (SIP passwords, PINs, the bootstrap credential, API tokens)
are left out unless --with-secrets is given; a file written with secrets is
created with mode 0600.

Options:
  --with-secrets   include secrets (PINs only where the store can recover them)
  -o, --output FILE
                   write to FILE instead of standard output
${STORE_HELP}
`;

/** `hotdesk export`. */
export const exportCommand: Command = defineCommand(
  { name: 'export', help: exportHelp, options: { ...STORE_OPTION, 'with-secrets': { type: 'boolean' }, output: { type: 'string', short: 'o' } } },
  async (p, io) => {
    const withSecrets = optFlag(p, 'with-secrets');
    const output = optString(p, 'output');
    return withStore(
      dataDir(p, io),
      async (store) => {
        const yaml = await exportDirectory(store, { withSecrets });
        if (output === undefined) io.out(yaml);
        else {
          const path = resolve(io.cwd, output);
          writeFileSync(path, yaml, { encoding: 'utf8', mode: withSecrets ? 0o600 : 0o644 });
          // mode applies only to a new file: tighten an existing one too.
          if (withSecrets) chmodSync(path, 0o600);
        }
        return EXIT.ok;
      },
      { store: storeSetting(p, io) },
    );
  },
);
