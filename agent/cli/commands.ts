/**
 * The list of `hotdesk` sub-commands, in the order `hotdesk help` prints
 * them. Each command's module is imported only when that command runs, so
 * `hotdesk --help`, `--version` and usage errors start fast and a command
 * loads only what it needs (no SQLite for `discover`, no templates for `users`).
 */
import type { Command, Io } from './cli-kit.js';

/** A command as the registry knows it before loading it. */
export interface CommandEntry {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  load(): Promise<Command>;
}

/** `serve`: serve-command.ts parses its own options and prints its own help. */
async function loadServe(): Promise<Command> {
  const { runServe } = await import('./serve-command.js');
  return {
    name: 'serve',
    help: "Usage: hotdesk serve [options]\nRun 'hotdesk serve --help' for the options.\n",
    run: (argv: readonly string[], _io: Io) => runServe([...argv]),
  };
}

/** Every command. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'serve', summary: 'run the agent: HTTP/TFTP provisioning, phone screens, SIP check-sync', load: loadServe },
  {
    name: 'import',
    summary: 'validate and apply a directory file (all or nothing)',
    load: async () => (await import('./directory-commands.js')).importCommand,
  },
  {
    name: 'export',
    summary: 'print the directory as YAML (secrets only with --with-secrets)',
    load: async () => (await import('./directory-commands.js')).exportCommand,
  },
  { name: 'users', summary: 'list users (short number, name, hot-desk, current phone)', load: async () => (await import('./list-commands.js')).usersCommand },
  {
    name: 'phones',
    summary: 'list phones (current user, sync state, last seen, revision)',
    load: async () => (await import('./list-commands.js')).phonesCommand,
  },
  { name: 'sessions', summary: 'list who is logged in where, since when', load: async () => (await import('./list-commands.js')).sessionsCommand },
  { name: 'login', summary: 'log a user in on a phone as administrator (no PIN)', load: async () => (await import('./desk-commands.js')).loginCommand },
  { name: 'logout', summary: 'log out the user on a phone', load: async () => (await import('./desk-commands.js')).logoutCommand },
  {
    name: 'dial',
    summary: "feed digits as a phone would (e.g. '*35*001*1234'); prints the outcome",
    load: async () => (await import('./desk-commands.js')).dialCommand,
  },
  {
    name: 'audit',
    summary: 'show audit events (filter by phone, user, kind; page with --since)',
    load: async () => (await import('./audit-command.js')).auditCommand,
  },
  {
    name: 'render',
    summary: "list a phone's files, or print one as the phone would receive it",
    load: async () => (await import('./render-command.js')).renderCommand,
  },
  {
    name: 'sightings',
    summary: 'unknown phones in quarantine (PnP, anonymous first contact): list, accept, dismiss',
    load: async () => (await import('./sightings-command.js')).sightingsCommand,
  },
  {
    name: 'discover',
    summary: 'find hotdesk agents on the LAN (SSDP) and print their URLs',
    load: async () => (await import('./discover-command.js')).discoverCommand,
  },
  {
    name: 'doctor',
    summary: 'check a running site: ports, PBX, phones never seen or not synced, templates',
    load: async () => (await import('./doctor-command.js')).doctorCommand,
  },
  {
    name: 'backup',
    summary: 'write a consistent backup of the data directory (online, while serving)',
    load: async () => (await import('./backup-commands.js')).backupCommand,
  },
  { name: 'restore', summary: 'restore a backup into an empty data directory', load: async () => (await import('./backup-commands.js')).restoreCommand },
  {
    name: 'migrate',
    summary: 'bring the store schema up to this version (SQLite or the shared PostgreSQL), print before/after',
    load: async () => (await import('./migrate-command.js')).migrateCommand,
  },
  {
    name: 'admin',
    summary: 'web console accounts: add NAME --role admin|helpdesk, list, remove NAME',
    load: async () => (await import('./admin-commands.js')).adminCommand,
  },
  {
    name: 'prompts',
    summary: 'voice prompts of the hot-desk line: list (source, wording), export for Asterisk/FreeSWITCH',
    load: async () => (await import('./prompts-command.js')).promptsCommand,
  },
];

/** The command entry named `name`, if any. */
export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}
