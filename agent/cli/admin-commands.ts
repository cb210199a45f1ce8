/**
 * `hotdesk admin add|list|remove`: the web console's accounts
 * (docs/console.md). Passwords are read from a prompt on a terminal (asked
 * twice, not echoed) or, for scripts, as the first line of standard input with
 * `--password-stdin`; never from the command line, where other users of the
 * host could read them in the process list. Only the scrypt hash is stored.
 */
import { HotdeskError } from '../core/errors.js';
import type { AdminRole } from '../store/admin-queries.js';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../shell/console/password-hash.js';
import { isConsoleRole } from '../shell/console/roles.js';
import {
  EXIT,
  JSON_OPTION,
  STORE_HELP,
  STORE_OPTION,
  UsageError,
  dataDir,
  defineCommand,
  optFlag,
  optString,
  printJson,
  storeSetting,
  type Command,
} from './cli-kit.js';
import { withStore } from './cli-store.js';
import { formatTable, formatTime } from './table.js';

const help = `Usage: hotdesk admin add NAME --role admin|helpdesk [--password-stdin] [--store URL] [--data DIR]
       hotdesk admin list [--json] [--store URL] [--data DIR]
       hotdesk admin remove NAME [--store URL] [--data DIR]

Accounts of the web console (http://AGENT:8080/admin/).

  add      create an account; the password is asked twice on the terminal, or
           read from the first line of standard input with --password-stdin
           (at least ${MIN_PASSWORD_LENGTH} characters). There is no --password option: a
           password on the command line is visible to every user of the host.
  list     the accounts and their roles (never a password or hash)
  remove   delete an account; its console sessions end at once

Roles:
  admin     everything: phones, people, directory import and export with secrets
  helpdesk  status, log users in and out, unlock, re-sync; no secrets, no import

Options:
  --role ROLE        admin or helpdesk (add)
  --password-stdin   read the password from standard input (add)
  --json             print JSON (list)
${STORE_HELP}
Examples:
  hotdesk admin add alice --role admin
  printf '%s\\n' "$PW" | hotdesk admin add desk1 --role helpdesk --password-stdin
  hotdesk admin remove desk1
`;

/** Reads all of standard input (for --password-stdin). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (chunks.reduce((n, b) => n + b.length, 0) > 64 * 1024) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks for a line on the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          done();
          process.stderr.write('\n');
          reject(new UsageError('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on('data', onData);
  });
}

async function readPassword(fromStdin: boolean): Promise<string> {
  let pw: string;
  if (fromStdin) pw = (await readStdin()).split(/\r?\n/)[0] ?? '';
  else if (process.stdin.isTTY) {
    pw = await promptHidden('Password: ');
    const again = await promptHidden('Password again: ');
    if (again !== pw) throw new UsageError('the passwords differ');
  } else throw new UsageError('no terminal to ask the password on: use --password-stdin');
  if (pw.length < MIN_PASSWORD_LENGTH) throw new UsageError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  if (pw.length > MAX_PASSWORD_LENGTH) throw new UsageError(`the password must have at most ${MAX_PASSWORD_LENGTH} characters`);
  return pw;
}

/** `hotdesk admin`. */
export const adminCommand: Command = defineCommand(
  {
    name: 'admin',
    help,
    options: { ...JSON_OPTION, ...STORE_OPTION, role: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
    positionals: { min: 1, max: 2, what: 'action (add, list or remove)' },
  },
  async (p, io) => {
    const [action, name] = p.positionals;
    if (action !== 'add' && action !== 'list' && action !== 'remove') throw new UsageError(`unknown action '${action ?? ''}' (add, list or remove)`);
    if (action !== 'list' && name === undefined) throw new UsageError(`missing NAME for '${action}'`);
    if (action === 'list' && name !== undefined) throw new UsageError(`unexpected argument '${name}'`);
    const dir = dataDir(p, io);
    const store = storeSetting(p, io);
    if (action === 'add') {
      const role = optString(p, 'role');
      if (!isConsoleRole(role)) throw new UsageError('--role must be admin or helpdesk');
      const password = await readPassword(optFlag(p, 'password-stdin'));
      const started = performance.now();
      const passwordHash = await hashPassword(password);
      const ms = Math.round(performance.now() - started);
      return withStore(
        dir,
        async (s) => {
          await s.addAdmin({ name: name ?? '', role: role as AdminRole, passwordHash }, Date.now());
          io.out(`added console account ${name ?? ''} (${role}); password hashed with scrypt N=2^15 in ${ms} ms\n`);
          return EXIT.ok;
        },
        { create: true, store },
      );
    }
    return withStore(
      dir,
      async (s) => {
        if (action === 'remove') {
          if (!(await s.removeAdmin(name ?? ''))) throw new HotdeskError('not-found', `no console account named "${name ?? ''}"`, { name });
          io.out(`removed console account ${name ?? ''}; its sessions ended\n`);
          return EXIT.ok;
        }
        const rows = (await s.listAdmins()).map((a) => ({ name: a.name, role: a.role, createdAt: a.createdAt }));
        if (optFlag(p, 'json')) printJson(io, rows);
        else if (rows.length === 0) io.out("no console accounts: add one with 'hotdesk admin add NAME --role admin'\n");
        else {
          const tz = (await s.getSite()).timezone;
          io.out(
            formatTable(
              ['name', 'role', 'created'],
              rows.map((r) => [r.name, r.role, formatTime(r.createdAt, tz)]),
            ),
          );
        }
        return EXIT.ok;
      },
      { store },
    );
  },
);
