/**
 * `hotdesk login`, `hotdesk logout`, `hotdesk dial`: hot-desk operations from
 * the command line, through the same service (and so the same state machine,
 * policies, PIN lockout and audit trail) as the phones and the PBX use.
 *
 * Each prints the outcome code, the prompt id and the prompt text the person
 * at the phone would see or hear (core/prompts.ts). Refusals exit 3.
 */
import type { DeskOutcome } from '../core/model.js';
import { promptText } from '../core/prompts.js';
import { HotdeskService } from '../shell/hotdesk-service.js';
import type { StoreApi } from '../store/store-api.js';
import {
  EXIT,
  EXIT_CODES_HELP,
  JSON_OPTION,
  STORE_HELP,
  STORE_OPTION,
  UsageError,
  dataDir,
  exitFor,
  optFlag,
  printJson,
  defineCommand,
  storeSetting,
  type Command,
  type Io,
  type Parsed,
  phoneOption,
} from './cli-kit.js';
import { outcomeBody } from '../shell/api/views.js';
import { withStore } from './cli-store.js';
import { formatTime } from './table.js';

/** Prints an outcome (text or JSON) and returns its exit code. */
async function printOutcome(io: Io, p: Parsed, store: StoreApi, o: DeskOutcome, exitCode: number): Promise<number> {
  const tz = (await store.getSite()).timezone;
  const text = promptText(o, { timezone: tz });
  if (optFlag(p, 'json')) {
    // The same view as the REST API and the PBX endpoint.
    printJson(io, outcomeBody(o, tz));
    return exitCode;
  }
  const rows: [string, string][] = [
    ['outcome', o.code],
    ['prompt', o.prompt ?? '-'],
    ['text', text],
    ['phone', o.phone],
  ];
  if (o.user !== undefined) rows.push(['user', o.userName !== undefined ? `${o.user} (${o.userName})` : o.user]);
  if (o.previousUser !== undefined) rows.push(['previous user', o.previousUser]);
  if (o.movedFrom !== undefined) rows.push(['moved from', o.movedFrom]);
  if (o.attemptsLeft !== undefined) rows.push(['attempts left', String(o.attemptsLeft)]);
  if (o.lockedUntil !== undefined) rows.push(['locked until', formatTime(o.lockedUntil, tz)]);
  const w = Math.max(...rows.map(([k]) => k.length));
  io.out(`${rows.map(([k, v]) => `${`${k}:`.padEnd(w + 1)}  ${v}`).join('\n')}\n`);
  return exitCode;
}

const clock = (): number => Date.now();

const dialHelp = `Usage: hotdesk dial --phone MAC DIGITS [--json] [--store URL] [--data DIR]

Feed DIGITS to the hot-desk service as if they were dialled on the phone
(quote them: the shell treats * specially). The feature code is *35 by
default (site setting featurePrefix):

  *35                 no user: ask for the short number; a user: log out
  *35*<ext>           no user: ask for the PIN;          a user: log out
  *35*<ext>*<pin>     log in (one touch); the same user again logs out;
                      another user switches identity in one step

Prints the outcome code, the prompt id and the prompt text the phone shows.

Options:
  --phone MAC  the phone (00:15:65:aa:bb:01, 001565AABB01, ...)
  --json       print {"outcome", "prompt", "text", "phone", "user", ...}
${STORE_HELP}

Example:
  hotdesk dial --phone 001565aabb01 '*35*001*1234'

${EXIT_CODES_HELP}
`;

/** `hotdesk dial`. */
export const dialCommand: Command = defineCommand(
  { name: 'dial', help: dialHelp, options: { ...JSON_OPTION, ...STORE_OPTION, phone: { type: 'string' } }, positionals: { min: 1, max: 1, what: 'DIGITS' } },
  async (p, io) => {
    const mac = phoneOption(p);
    const digits = p.positionals[0] ?? '';
    return withStore(
      dataDir(p, io),
      async (store) => {
        const outcome = await new HotdeskService(store, clock).dial(mac, digits);
        return printOutcome(io, p, store, outcome, exitFor(outcome.code));
      },
      { store: storeSetting(p, io) },
    );
  },
);

const loginHelp = `Usage: hotdesk login --phone MAC EXT [--json] [--store URL] [--data DIR]

Log the user with short number EXT in on the phone, as an administrator (no
PIN). The site policies still apply: a user logged in elsewhere is moved
(multipleLogin: move) or refused (refuse); a phone or user without
hot-desking is refused.

Options:
  --phone MAC  the phone
  --json       print {"outcome", "prompt", "text", "phone", "user", ...}
${STORE_HELP}

Example:
  hotdesk login --phone 001565aabb01 001

${EXIT_CODES_HELP}
`;

/** `hotdesk login` (admin login). */
export const loginCommand: Command = defineCommand(
  {
    name: 'login',
    help: loginHelp,
    options: { ...JSON_OPTION, ...STORE_OPTION, phone: { type: 'string' } },
    positionals: { min: 1, max: 1, what: 'EXT (short number)' },
  },
  async (p, io) => {
    const mac = phoneOption(p);
    const ext = p.positionals[0] ?? '';
    if (!/^[0-9]{1,15}$/.test(ext)) throw new UsageError(`EXT must be a short number (digits), got '${ext}'`);
    return withStore(
      dataDir(p, io),
      async (store) => {
        const outcome = await new HotdeskService(store, clock).adminLogin(mac, ext);
        return printOutcome(io, p, store, outcome, exitFor(outcome.code));
      },
      { store: storeSetting(p, io) },
    );
  },
);

const logoutHelp = `Usage: hotdesk logout --phone MAC [--json] [--store URL] [--data DIR]

Log out whoever is logged in on the phone (administrator logout). The phone
is re-provisioned to its logged-out state. Exits 3 when nobody is logged in.

Options:
  --phone MAC  the phone
  --json       print {"outcome", "prompt", "text", "phone", "user", ...}
${STORE_HELP}

Example:
  hotdesk logout --phone 001565aabb01

${EXIT_CODES_HELP}
`;

/** `hotdesk logout` (admin logout). */
export const logoutCommand: Command = defineCommand(
  { name: 'logout', help: logoutHelp, options: { ...JSON_OPTION, ...STORE_OPTION, phone: { type: 'string' } } },
  async (p, io) => {
    const mac = phoneOption(p);
    return withStore(
      dataDir(p, io),
      async (store) => {
        const outcome = await new HotdeskService(store, clock).logout(mac, 'admin');
        // Nobody was logged in: nothing to do is a refusal of the request.
        const code = outcome.code === 'no-change' ? EXIT.refused : exitFor(outcome.code);
        return printOutcome(io, p, store, outcome, code);
      },
      { store: storeSetting(p, io) },
    );
  },
);
