/**
 * `hotdesk users`, `hotdesk phones`, `hotdesk sessions`: read-only listings
 * of the store, as aligned tables or `--json`. Never prints a secret (no SIP
 * password, no PIN, no provisioning credential). `--json` prints the same views
 * as the REST API (shell/api/views.ts).
 */
import { EXIT, JSON_OPTION, STORE_HELP, STORE_OPTION, dataDir, optFlag, printJson, defineCommand, storeSetting, type Command } from './cli-kit.js';
import { phoneViews, sessionViews, userViews } from '../shell/api/views.js';
import { withStore } from './cli-store.js';
import { formatTable, formatTime } from './table.js';

const usersHelp = `Usage: hotdesk users [--json] [--store URL] [--data DIR]

List the users of the directory: short number, name, whether hot-desking is
enabled, SIP user, outbound number, and the phone each is logged in on.
Secrets (SIP passwords, PINs) are never printed.

Options:
  --json       print a JSON array
${STORE_HELP}
`;

/** `hotdesk users`. */
export const usersCommand: Command = defineCommand({ name: 'users', help: usersHelp, options: { ...JSON_OPTION, ...STORE_OPTION } }, async (p, io) => {
  return withStore(
    dataDir(p, io),
    async (store) => {
      const users = await userViews(store);
      if (optFlag(p, 'json')) printJson(io, users);
      else
        io.out(
          formatTable(
            ['ext', 'name', 'hotdesk', 'sip user', 'outbound', 'logged in on'],
            users.map((u) => [u.ext, u.name, u.hotdesk, u.sipUser, u.outboundCallerId, u.phones.join(',')]),
          ),
        );
      return EXIT.ok;
    },
    { store: storeSetting(p, io) },
  );
});

const phonesHelp = `Usage: hotdesk phones [--json] [--store URL] [--data DIR]

List the phones: MAC, vendor and model, label, hot-desk enabled, the user
logged in now, sync state (synced / pending), whether its hot-desk line is
registered at the agent, last seen, config revision.

Options:
  --json       print a JSON array
${STORE_HELP}
`;

/** `hotdesk phones`. */
export const phonesCommand: Command = defineCommand({ name: 'phones', help: phonesHelp, options: { ...JSON_OPTION, ...STORE_OPTION } }, async (p, io) => {
  return withStore(
    dataDir(p, io),
    async (store) => {
      const tz = (await store.getSite()).timezone;
      const phones = await phoneViews(store);
      if (optFlag(p, 'json')) printJson(io, phones);
      else
        io.out(
          formatTable(
            ['mac', 'vendor', 'model', 'label', 'hotdesk', 'user', 'sync', 'line', 'last seen', 'rev'],
            phones.map((ph) => [
              ph.mac,
              ph.vendor,
              ph.model,
              ph.label,
              ph.hotdesk,
              ph.user?.ext,
              ph.sync?.state,
              ph.hotdeskLine ? (ph.hotdeskLine.registered ? 'registered' : 'not registered') : undefined,
              formatTime(ph.lastSeen, tz),
              ph.revision,
            ]),
          ),
        );
      return EXIT.ok;
    },
    { store: storeSetting(p, io) },
  );
});

const sessionsHelp = `Usage: hotdesk sessions [--json] [--store URL] [--data DIR]

List the current hot-desk sessions: phone, user, start time.

Options:
  --json       print a JSON array
${STORE_HELP}
`;

/** `hotdesk sessions`. */
export const sessionsCommand: Command = defineCommand({ name: 'sessions', help: sessionsHelp, options: { ...JSON_OPTION, ...STORE_OPTION } }, async (p, io) => {
  return withStore(
    dataDir(p, io),
    async (store) => {
      const tz = (await store.getSite()).timezone;
      const sessions = await sessionViews(store);
      if (optFlag(p, 'json')) printJson(io, sessions);
      else
        io.out(
          formatTable(
            ['phone', 'label', 'user', 'name', 'since'],
            sessions.map((s) => [s.phone, s.phoneLabel, s.user, s.userName, formatTime(s.startedAt, tz)]),
          ),
        );
      return EXIT.ok;
    },
    { store: storeSetting(p, io) },
  );
});
