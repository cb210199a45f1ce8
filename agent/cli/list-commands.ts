/**
 * `hotdesk users`, `hotdesk phones`, `hotdesk sessions`: read-only listings
 * of the store, as aligned tables or `--json`. Never prints a secret (no SIP
 * password, no PIN, no provisioning credential).
 */
import {
  COMMON_HELP,
  EXIT,
  JSON_OPTION,
  dataDir,
  optFlag,
  printJson,
  defineCommand,
  type Command,
} from './cli-kit.js';
import { withStore } from './cli-store.js';
import { formatTable, formatTime } from './table.js';

const usersHelp = `Usage: hotdesk users [--json] [--data DIR]

List the users of the directory: short number, name, whether hot-desking is
enabled, SIP user, outbound number, and the phone each is logged in on.
Secrets (SIP passwords, PINs) are never printed.

Options:
  --json       print a JSON array
${COMMON_HELP}
`;

/** `hotdesk users`. */
export const usersCommand: Command = defineCommand({ name: 'users', help: usersHelp, options: JSON_OPTION }, async (p, io) => {
  return withStore(dataDir(p, io), (store) => {
    const sessions = store.listSessions();
    const phoneOf = new Map<string, string[]>();
    for (const s of sessions) phoneOf.set(s.userExt, [...(phoneOf.get(s.userExt) ?? []), s.phoneMac]);
    const users = store.listUsers().map((u) => ({
      ext: u.ext,
      name: u.name,
      hotdesk: u.hotdesk,
      sipUser: u.sip.user,
      displayName: u.sip.displayName,
      outboundCallerId: u.sip.outboundCallerId ?? null,
      phones: phoneOf.get(u.ext) ?? [],
    }));
    if (optFlag(p, 'json')) printJson(io, users);
    else
      io.out(
        formatTable(
          ['ext', 'name', 'hotdesk', 'sip user', 'outbound', 'logged in on'],
          users.map((u) => [u.ext, u.name, u.hotdesk, u.sipUser, u.outboundCallerId, u.phones.join(',')]),
        ),
      );
    return EXIT.ok;
  });
});

const phonesHelp = `Usage: hotdesk phones [--json] [--data DIR]

List the phones: MAC, vendor and model, label, hot-desk enabled, the user
logged in now, sync state (synced / pending), last seen, config revision.

Options:
  --json       print a JSON array
${COMMON_HELP}
`;

/** `hotdesk phones`. */
export const phonesCommand: Command = defineCommand({ name: 'phones', help: phonesHelp, options: JSON_OPTION }, async (p, io) => {
  return withStore(dataDir(p, io), (store) => {
    const tz = store.getSite().timezone;
    const phones = store.listPhones().map((ph) => {
      const rt = store.phoneRuntime(ph.mac);
      const session = store.sessionOf(ph.mac);
      return {
        mac: ph.mac,
        vendor: ph.vendor,
        model: ph.model,
        label: ph.label,
        location: ph.location ?? null,
        hotdesk: ph.hotdesk,
        user: session?.userExt ?? null,
        since: session?.startedAt ?? null,
        syncState: rt?.sync.state ?? null,
        lastSeen: rt?.lastSeen ?? null,
        lastIp: rt?.lastIp ?? null,
        revision: rt?.revision ?? null,
      };
    });
    if (optFlag(p, 'json')) printJson(io, phones);
    else
      io.out(
        formatTable(
          ['mac', 'vendor', 'model', 'label', 'hotdesk', 'user', 'sync', 'last seen', 'rev'],
          phones.map((ph) => [ph.mac, ph.vendor, ph.model, ph.label, ph.hotdesk, ph.user, ph.syncState, formatTime(ph.lastSeen, tz), ph.revision]),
        ),
      );
    return EXIT.ok;
  });
});

const sessionsHelp = `Usage: hotdesk sessions [--json] [--data DIR]

List the current hot-desk sessions: phone, user, start time.

Options:
  --json       print a JSON array
${COMMON_HELP}
`;

/** `hotdesk sessions`. */
export const sessionsCommand: Command = defineCommand({ name: 'sessions', help: sessionsHelp, options: JSON_OPTION }, async (p, io) => {
  return withStore(dataDir(p, io), (store) => {
    const tz = store.getSite().timezone;
    const sessions = store.listSessions().map((s) => {
      const phone = store.getPhone(s.phoneMac);
      const user = store.getUser(s.userExt);
      return { phone: s.phoneMac, phoneLabel: phone?.label ?? null, user: s.userExt, userName: user?.name ?? null, startedAt: s.startedAt };
    });
    if (optFlag(p, 'json')) printJson(io, sessions);
    else
      io.out(
        formatTable(
          ['phone', 'label', 'user', 'name', 'since'],
          sessions.map((s) => [s.phone, s.phoneLabel, s.user, s.userName, formatTime(s.startedAt, tz)]),
        ),
      );
    return EXIT.ok;
  });
});
