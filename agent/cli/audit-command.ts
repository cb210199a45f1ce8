/**
 * `hotdesk audit`: the audit log (logins, logouts, switches, wrong PINs,
 * lockouts, sync, secrets served, imports), oldest first, filtered. Audit
 * events never hold secrets (core/model.ts `AuditEvent`).
 */
import { AUDIT_KINDS, normalizeMac, type AuditKind } from '../core/model.js';
import {
  EXIT,
  JSON_OPTION,
  STORE_HELP,
  STORE_OPTION,
  UsageError,
  dataDir,
  optFlag,
  optInt,
  optString,
  printJson,
  defineCommand,
  storeSetting,
  type Command,
} from './cli-kit.js';
import { withStore } from './cli-store.js';
import { formatTable, formatTime } from './table.js';

const DEFAULT_LIMIT = 100;

const auditHelp = `Usage: hotdesk audit [--since ID] [--limit N] [--phone MAC] [--user EXT] [--kind K] [--json]
                     [--store URL] [--data DIR]

Print audit events, oldest first: id, time, kind, phone, user, detail.
Without --since: the most recent N events. With --since ID: the first N
events after ID (page forward with the last id printed).

Options:
  --since ID   only events with an id greater than ID
  --limit N    at most N events (default ${DEFAULT_LIMIT}, at most 10000)
  --phone MAC  only events of this phone
  --user EXT   only events of this user (short number)
  --kind K     only events of this kind, one of:
               ${AUDIT_KINDS.join(', ')}
  --json       print a JSON array of {id, at, kind, phone, user, detail, agent}
               (agent: on a shared PostgreSQL store, the agent that wrote it)
${STORE_HELP}
`;

/** `hotdesk audit`. */
export const auditCommand: Command = defineCommand(
  {
    name: 'audit',
    help: auditHelp,
    options: {
      ...JSON_OPTION,
      ...STORE_OPTION,
      since: { type: 'string' },
      limit: { type: 'string' },
      phone: { type: 'string' },
      user: { type: 'string' },
      kind: { type: 'string' },
    },
  },
  async (p, io) => {
    const since = optInt(p, 'since');
    const limit = optInt(p, 'limit', 1) ?? DEFAULT_LIMIT;
    const rawPhone = optString(p, 'phone');
    const phone = rawPhone === undefined ? undefined : normalizeMac(rawPhone);
    if (phone === null) throw new UsageError(`--phone: '${rawPhone ?? ''}' is not a MAC address`);
    const user = optString(p, 'user');
    const kind = optString(p, 'kind');
    if (kind !== undefined && !(AUDIT_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be one of: ${AUDIT_KINDS.join(', ')}`);
    return withStore(
      dataDir(p, io),
      async (store) => {
        const tz = (await store.getSite()).timezone;
        const events = await store.queryAudit({
          limit,
          ...(since !== undefined ? { afterId: since } : {}),
          ...(phone !== undefined ? { phone } : {}),
          ...(user !== undefined ? { user } : {}),
          ...(kind !== undefined ? { kinds: [kind as AuditKind] } : {}),
        });
        if (optFlag(p, 'json')) printJson(io, events);
        else if (events.some((e) => e.agent !== undefined))
          // A shared PostgreSQL store: say which agent wrote each event.
          io.out(
            formatTable(
              ['id', 'time', 'agent', 'kind', 'phone', 'user', 'detail'],
              events.map((e) => [e.id, formatTime(e.at, tz), e.agent, e.kind, e.phone, e.user, detailText(e.detail)]),
            ),
          );
        else
          io.out(
            formatTable(
              ['id', 'time', 'kind', 'phone', 'user', 'detail'],
              events.map((e) => [e.id, formatTime(e.at, tz), e.kind, e.phone, e.user, detailText(e.detail)]),
            ),
          );
        return EXIT.ok;
      },
      { store: storeSetting(p, io) },
    );
  },
);

function detailText(detail: Readonly<Record<string, unknown>> | undefined): string {
  if (!detail) return '';
  return Object.entries(detail)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}
