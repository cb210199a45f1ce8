#!/usr/bin/env node
/**
 * `hotdesk`: the command-line entry point (package.json `bin`).
 *
 * Dispatches to one sub-command (see commands.ts and docs/cli.md); prints the
 * command list for `hotdesk`, `hotdesk help` and `hotdesk --help`, the
 * version for `--version`. Sets the process exit code from the command
 * (table in cli-kit.ts) and lets the process end by itself once the command
 * has closed what it opened.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, EXIT_CODES_HELP, processIo, type Io } from './cli-kit.js';
import { COMMANDS, findCommand } from './commands.js';
import { PROJECT_ROOT } from '../paths.js';

/** The package version from package.json (`0.0.0` when unreadable). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The top-level help: every command with its one-line summary. */
export function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `hotdesk - hot-desking provisioning agent for Yealink, Snom and Poly desk phones

Usage: hotdesk <command> [options]

Commands:
${lines.join('\n')}
  ${'help'.padEnd(width)}  show this list, or 'hotdesk help <command>' for one command

Global options:
  --version    print the version and exit
  -h, --help   show this help

Every command takes --data DIR (default: $HOTDESK_DATA, else ./data) and --help.
Commands that use the store take --store URL (default: $HOTDESK_STORE, else
SQLite in the data directory): postgres://USER@HOST:PORT/DB for PostgreSQL.

${EXIT_CODES_HELP}
`;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    io.out(topHelp());
    return EXIT.ok;
  }
  if (first === '--version' || first === '-V') {
    io.out(`${version()}\n`);
    return EXIT.ok;
  }
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      io.out(topHelp());
      return EXIT.ok;
    }
    const cmd = findCommand(topic);
    if (!cmd) {
      io.err(`hotdesk: unknown command '${topic}'`);
      io.err(topHelp());
      return EXIT.usage;
    }
    return (await cmd.load()).run(['--help'], io);
  }
  const cmd = findCommand(first);
  if (!cmd) {
    io.err(`hotdesk: unknown command '${first}'\n`);
    io.err(topHelp());
    return EXIT.usage;
  }
  return (await cmd.load()).run(rest, io);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    // npm's bin link is a symlink: compare real paths.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`hotdesk: internal: ${e instanceof Error ? e.name : 'error'}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
