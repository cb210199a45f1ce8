/**
 * Thin adapters from the store to the narrow ports the shell's loops
 * use (sync worker, audit tail), so those loops stay testable on their own.
 */
import type { SiteSettings } from '../../core/model.js';
import type { StoreApi, StoreData } from '../../store/store-api.js';
import type { PendingSync as WorkerPending, SyncStore } from './sync-worker.js';
import type { PendingSync as StorePending } from '../../store/store-types.js';
import type { AuditReader } from '../api/event-stream.js';

/** The sync worker's view of the store: adds the SIP identity NOTIFY uses. */
export function syncStoreAdapter(store: StoreApi): SyncStore {
  /** Adds the SIP identity a NOTIFY uses (only for phones about to be notified: it decrypts). */
  const enrich = async (p: StorePending, now: number, site: () => Promise<SiteSettings>): Promise<WorkerPending> => {
    // A phone whose hot-desk line is registered is notified at the address its REGISTER came
    // from (authenticated with the line's own password), as the line's user: the phone then
    // trusts the NOTIFY as coming from its registrar (docs/voice.md "Check-sync").
    const line = await store.getHotdeskLine(p.mac);
    const reg = line?.registration;
    if (line && reg && reg.expiresAt > now) {
      return {
        mac: p.mac,
        vendor: p.vendor,
        notifyIp: reg.address,
        sipPort: reg.port,
        revision: p.revision,
        attempts: p.attempts,
        requestedAt: p.requestedAt,
        requestUser: line.username,
        credentials: { username: line.username, password: line.password },
        anyRealm: true,
      };
    }
    // Only the line the phone carries now: the logged-in user's, else the phone's device account.
    const session = await store.sessionOf(p.mac);
    const user = session ? await store.getUser(session.userExt) : undefined;
    const account = user?.sip ?? (await store.getPhone(p.mac))?.deviceAccount;
    const realm = (await site()).pbx.realm;
    return {
      mac: p.mac,
      vendor: p.vendor,
      notifyIp: p.ip,
      sipPort: p.sipPort,
      revision: p.revision,
      attempts: p.attempts,
      requestedAt: p.requestedAt,
      requestUser: account?.user ?? p.mac,
      ...(account ? { credentials: { username: account.authName, password: account.password } } : {}),
      ...(account && realm !== undefined ? { realm } : {}),
    };
  };
  /** The site settings, read at most once per call (only when a phone needs the PBX realm). */
  const siteOnce = (): (() => Promise<SiteSettings>) => {
    let site: Promise<SiteSettings> | undefined;
    return () => (site ??= store.getSite());
  };
  const enrichAll = (due: readonly StorePending[], now: number): Promise<WorkerPending[]> => {
    const site = siteOnce();
    return Promise.all(due.map((p) => enrich(p, now, site)));
  };
  return {
    async pendingSyncs(now, limit, skip) {
      const due = (await store.claimSyncs(now, limit + skip.size)).filter((p) => !skip.has(p.mac)).slice(0, limit);
      // Only the phones about to be notified pay for session/account lookups (decryption).
      return enrichAll(due, now);
    },
    async pendingFor(macs, now) {
      const due = await store.claimSyncs(now, macs.length, macs);
      return enrichAll(due, now);
    },
    markSyncAttempt: (mac, a) => store.markSyncAttempt(mac, a),
    markUnreachable: (mac, now) => store.markUnreachable(mac, now),
    // sync-sent entries: nobody waits for them, they are written behind (store write-behind.ts).
    appendAudit: (e) => store.queueAudit(e),
    // SQLite: one commit per pass. PostgreSQL: the claim is its own READ COMMITTED statement with
    // SKIP LOCKED (a surrounding SERIALIZABLE transaction would make it conflict), attempts commit alone.
    ...(store.kind === 'sqlite' ? { batch: <T>(fn: () => Promise<T>) => store.transaction(() => fn()) } : {}),
  };
}

/** Reads audit rows after an id, oldest first. */
export function auditReader(store: Pick<StoreData, 'queryAudit'>): AuditReader {
  return (afterId, limit) => store.queryAudit({ afterId, limit });
}

/** Id of the newest audit row (0 when empty). */
export async function lastAuditId(store: Pick<StoreData, 'queryAudit'>): Promise<number> {
  return (await store.queryAudit({ limit: 1 })).at(-1)?.id ?? 0;
}
