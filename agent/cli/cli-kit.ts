/**
 * Shared plumbing for every `hotdesk` sub-command: argument parsing on
 * `node:util` `parseArgs` (strict), the exit-code table, the data directory,
 * and how results and errors are printed (readable text or `--json`).
 *
 * Exit codes (docs/cli.md "Exit codes"):
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | the operation failed (any other HotdeskError: invalid directory, unknown phone, storage...) |
 * | 2 | usage error (unknown command or option, missing or extra argument) |
 * | 3 | a hot-desk refusal (wrong PIN, locked, not allowed, unknown user, already logged in, not a hot-desk code, nobody logged in) |
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HotdeskError, isHotdeskError, type ErrorCode } from '../core/errors.js';
import { normalizeMac, type OutcomeCode } from '../core/model.js';
import { isPostgresUrl, isSqliteSetting } from '../store/store-url.js';

/** Process exit codes of the CLI. */
export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2, refused: 3 });

/** Outcome and error codes that are refusals of a hot-desk request (exit 3). */
export const REFUSAL_CODES: ReadonlySet<string> = new Set<OutcomeCode | ErrorCode>([
  'wrong-pin',
  'locked',
  'not-allowed',
  'unknown-user',
  'already-logged-in',
  'not-hotdesk-code',
  'not-logged-in',
]);

/** The exit-code table as printed by `--help` texts. */
export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  operation failed (invalid file, unknown phone, storage error, ...)
  2  usage error (unknown command or option, missing or extra argument)
  3  hot-desk refusal (wrong-pin, locked, not-allowed, unknown-user,
     already-logged-in, not-hotdesk-code, not-logged-in)`;

/** A wrong command line: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Where a command writes. Tests and the main entry use the process streams. */
export interface Io {
  /** Writes `text` to standard output exactly as given. */
  out(text: string): void;
  /** Writes `text` to standard error, adding a final newline when missing. */
  err(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** The process's own streams and environment. */
export function processIo(): Io {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** One sub-command (loaded on demand, see commands.ts). */
export interface Command {
  readonly name: string;
  /** Full `--help` text. */
  readonly help: string;
  run(argv: readonly string[], io: Io): Promise<number>;
}

/** Option declaration (subset of parseArgs' config). */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
}

/** Options every command takes. */
export const COMMON_OPTIONS = Object.freeze({
  data: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
}) satisfies Record<string, OptionSpec>;

/** `--json`, for commands that print results. */
export const JSON_OPTION = Object.freeze({ json: { type: 'boolean' } }) satisfies Record<string, OptionSpec>;

/** The help lines for the common options. */
export const COMMON_HELP = `  --data DIR   data directory (default: $HOTDESK_DATA, else ./data)
  -h, --help   show this help`;

/** `--store URL`, for commands that open the store. */
export const STORE_OPTION = Object.freeze({ store: { type: 'string' } }) satisfies Record<string, OptionSpec>;

/** The help lines of `--store` and the common options, for commands that open the store. */
export const STORE_HELP = `  --store URL  the store (default: $HOTDESK_STORE, else SQLite in the data
               directory): postgres://USER@HOST:PORT/DB for PostgreSQL, shared
               by several agents; the data directory still holds the data key
               (secret.key), the same file on every agent
${COMMON_HELP}`;

/** Parsed command line: option values and positionals. */
export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * Parses `argv` strictly (unknown options and missing option values are usage
 * errors). `positionals` bounds the number of positional arguments. When
 * `--help` is present the positional bounds are not checked.
 */
export function parseCommand(
  argv: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
  positionals: { readonly min: number; readonly max: number; readonly what?: string } = { min: 0, max: 0 },
): Parsed {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: { ...COMMON_OPTIONS, ...options } as Record<string, OptionSpec>, strict: true, allowPositionals: true }) as {
      values: Record<string, unknown>;
      positionals: string[];
    };
  } catch (e) {
    throw new UsageError(cleanParseMessage(e));
  }
  const values: Record<string, string | boolean | readonly string[] | undefined> = {};
  for (const [k, v] of Object.entries(parsed.values)) {
    if (typeof v === 'string' || typeof v === 'boolean') values[k] = v;
    else if (Array.isArray(v)) values[k] = v.filter((x): x is string => typeof x === 'string');
  }
  if (values['help'] !== true) {
    const n = parsed.positionals.length;
    const what = positionals.what ?? 'argument';
    if (n < positionals.min) throw new UsageError(`missing ${what}`);
    if (n > positionals.max) throw new UsageError(`unexpected argument '${parsed.positionals[positionals.max] ?? ''}'`);
  }
  return { values, positionals: parsed.positionals };
}

function cleanParseMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // node's messages end with advice about "--" which does not fit every case; keep the first sentence.
  return msg.split('. To specify')[0]?.replace(/\.$/, '') ?? msg;
}

/** A string option's value (undefined when absent). */
export function optString(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A boolean flag (false when absent). */
export function optFlag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

/** A required string option; usage error when missing or empty. */
export function requireString(p: Parsed, name: string): string {
  const v = optString(p, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

/** A non-negative integer option (undefined when absent). */
export function optInt(p: Parsed, name: string, min = 0): number | undefined {
  const v = optString(p, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}`);
  return Number(v);
}

/** Data directory of the agent run as a service (systemd `StateDirectory=hotdesk`). */
export const SERVICE_DATA_DIR = '/var/lib/hotdesk';

/** True when running as a service: `--service`, or started by systemd (`INVOCATION_ID` set). */
export function serviceMode(p: Parsed, io: Io): boolean {
  return p.values['service'] === true || (io.env['INVOCATION_ID'] ?? '') !== '';
}

/**
 * The data directory: `--data`, else `$HOTDESK_DATA`, else as a service
 * `$STATE_DIRECTORY` (set by systemd) or {@link SERVICE_DATA_DIR}, else `./data` (absolute).
 */
export function dataDir(p: Parsed, io: Io): string {
  const service = serviceMode(p, io) ? io.env['STATE_DIRECTORY']?.split(':')[0] || SERVICE_DATA_DIR : undefined;
  const d = optString(p, 'data') ?? io.env['HOTDESK_DATA'] ?? service ?? 'data';
  if (d === '') throw new UsageError('--data must not be empty');
  return resolve(io.cwd, d);
}

/**
 * The store setting: `--store`, else `$HOTDESK_STORE`; undefined (SQLite in the data directory)
 * when neither is set or it is empty or `sqlite`. A usage error for anything but a
 * `postgres://` / `postgresql://` URL (the value is not echoed: it may hold a password).
 */
export function storeSetting(p: Parsed, io: Io): string | undefined {
  const fromOption = optString(p, 'store');
  const v = fromOption ?? io.env['HOTDESK_STORE'];
  if (isSqliteSetting(v)) return undefined;
  if (!isPostgresUrl(v)) {
    throw new UsageError(`${fromOption !== undefined ? '--store' : 'HOTDESK_STORE'} must be a postgres:// or postgresql:// URL (or sqlite)`);
  }
  return v.trim();
}

/** Prints a value as pretty JSON. */
export function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** Exit code for an outcome or error code. */
export function exitFor(code: string): number {
  return REFUSAL_CODES.has(code) ? EXIT.refused : EXIT.ok;
}

/**
 * Reports an error thrown by a command and returns the exit code. With
 * `json`, the error goes to stdout as `{"error":{code,message,detail}}` so
 * scripts parse one stream; otherwise `hotdesk: <code>: <message>` on stderr.
 */
export function reportError(io: Io, e: unknown, json: boolean, command?: Command): number {
  if (e instanceof UsageError) {
    if (json) printJson(io, { error: { code: 'usage', message: e.message } });
    io.err(`hotdesk${command ? ` ${command.name}` : ''}: ${e.message}`);
    if (command) io.err(`Run 'hotdesk ${command.name} --help' for usage.`);
    return EXIT.usage;
  }
  const err = isHotdeskError(e) ? e : new HotdeskError('internal', internalMessage(e), {}, { cause: e });
  if (json) printJson(io, { error: err.toJSON() });
  else io.err(`hotdesk: ${err.code}: ${err.message}`);
  return REFUSAL_CODES.has(err.code) ? EXIT.refused : EXIT.failed;
}

function internalMessage(e: unknown): string {
  // Unexpected errors: name the type only. Their messages may quote input (and so a secret).
  if (e instanceof Error) return `internal error (${e.name})`;
  return 'internal error';
}

/** True when `--json` is among the raw arguments (used before parsing succeeded). */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

/**
 * Runs a command body with uniform error handling: usage errors print the
 * hint and exit 2; HotdeskErrors exit 1 (or 3 for refusals).
 */
export async function runGuarded(command: Command, argv: readonly string[], io: Io, body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (e) {
    return reportError(io, e, wantsJson(argv), command);
  }
}

/** Name, help text and accepted arguments of a sub-command, for {@link defineCommand}. */
export interface CommandSpec {
  readonly name: string;
  /** Full `--help` text. */
  readonly help: string;
  /** The command's own options (the common ones are always accepted). */
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Positional arguments accepted (default: none). */
  readonly positionals?: { readonly min: number; readonly max: number; readonly what?: string };
}

/**
 * A sub-command with the uniform skeleton: parses `argv` against the spec,
 * prints the help text on `--help`, else runs `body` with the parsed
 * arguments, all under {@link runGuarded} (usage errors exit 2, HotdeskErrors 1 or 3).
 */
export function defineCommand(spec: CommandSpec, body: (p: Parsed, io: Io) => Promise<number> | number): Command {
  const command: Command = {
    name: spec.name,
    help: spec.help,
    run: (argv, io) =>
      runGuarded(command, argv, io, () => {
        const p = parseCommand(argv, spec.options, spec.positionals);
        return optFlag(p, 'help') ? showHelp(io, spec.help) : body(p, io);
      }),
  };
  return command;
}

/** Prints a command's help text; exit 0. */
export function showHelp(io: Io, text: string): number {
  io.out(text);
  return EXIT.ok;
}

/** The `--phone MAC` option, normalised (any common MAC spelling); usage error when missing or not a MAC. */
export function phoneOption(p: Parsed): string {
  const raw = requireString(p, 'phone');
  const mac = normalizeMac(raw);
  if (!mac) throw new UsageError(`--phone: '${raw}' is not a MAC address (12 hex digits)`);
  return mac;
}
