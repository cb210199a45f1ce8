/**
 * The list of `hotdesk` sub-commands, in the order `hotdesk help` prints them.
 */
import type { Command, Io } from './cli-kit.js';
import { auditCommand } from './audit-command.js';
import { exportCommand, importCommand } from './directory-commands.js';
import { dialCommand, loginCommand, logoutCommand } from './desk-commands.js';
import { discoverCommand } from './discover-command.js';
import { phonesCommand, sessionsCommand, usersCommand } from './list-commands.js';
import { renderCommand } from './render-command.js';
import { runServe } from './serve-command.js';

/** `serve`: the lead's serve-command.ts parses its own options and prints its own help. */
const serveCommand: Command = {
  name: 'serve',
  help: "Usage: hotdesk serve [options]\nRun 'hotdesk serve --help' for the options.\n",
  run: (argv: readonly string[], _io: Io) => runServe([...argv]),
};

/** Every command. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  importCommand,
  exportCommand,
  usersCommand,
  phonesCommand,
  sessionsCommand,
  loginCommand,
  logoutCommand,
  dialCommand,
  auditCommand,
  renderCommand,
  discoverCommand,
];

/** The command named `name`, if any. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
