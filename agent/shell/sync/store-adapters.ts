/**
 * Thin adapters from the SQLite store to the narrow ports the shell's loops
 * use (sync worker, audit tail), so those loops stay testable on their own.
 */
import type { Store } from '../../store/store.js';
import type { PendingSync as WorkerPending, SyncStore } from './sync-worker.js';
import type { PendingSync as StorePending } from '../../store/store-types.js';
import type { AuditReader } from '../api/event-stream.js';

/** The sync worker's view of the store: adds the SIP identity NOTIFY uses. */
export function syncStoreAdapter(store: Store): SyncStore {
  /** Adds the SIP identity a NOTIFY uses (only for phones about to be notified: it decrypts). */
  const enrich = (p: StorePending, now: number): WorkerPending => {
    // A phone whose hot-desk line is registered is notified at the address its REGISTER came
    // from (authenticated with the line's own password), as the line's user: the phone then
    // trusts the NOTIFY as coming from its registrar (docs/voice.md "Check-sync").
    const line = store.getHotdeskLine(p.mac);
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
    const session = store.sessionOf(p.mac);
    const user = session ? store.getUser(session.userExt) : undefined;
    const account = user?.sip ?? store.getPhone(p.mac)?.deviceAccount;
    const realm = store.getSite().pbx.realm;
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
  return {
    pendingSyncs(now, limit, skip) {
      const due = store
        .pendingSyncs(now, limit + skip.size)
        .filter((p) => !skip.has(p.mac))
        .slice(0, limit);
      // Only the phones about to be notified pay for session/account lookups (decryption).
      return due.map((p) => enrich(p, now));
    },
    pendingFor(macs, now) {
      const due: StorePending[] = [];
      for (const mac of macs) {
        const p = store.pendingSyncOf(mac, now);
        if (p) due.push(p);
      }
      return due.map((p) => enrich(p, now));
    },
    markSyncAttempt: (mac, a) => store.markSyncAttempt(mac, a),
    markUnreachable: (mac, now) => store.markUnreachable(mac, now),
    // sync-sent entries: nobody waits for them, they are written behind (store write-behind.ts).
    appendAudit: (e) => store.queueAudit(e),
    batch: (fn) => store.transaction(fn),
  };
}

/** Reads audit rows after an id, oldest first. */
export function auditReader(store: Store): AuditReader {
  return (afterId, limit) => store.queryAudit({ afterId, limit });
}

/** Id of the newest audit row (0 when empty). */
export function lastAuditId(store: Store): number {
  return store.queryAudit({ limit: 1 }).at(-1)?.id ?? 0;
}
