/**
 * Applies a validated directory to the store in ONE transaction: site,
 * users and phones are upserted, users and directory phones no longer listed
 * are removed (their sessions ended and audited), live sessions of remaining
 * users on remaining phones are kept, and the revision of every phone whose
 * rendered inputs changed is bumped, and only those: importing the same file
 * twice changes no revision. Any error rolls everything back. Everything is
 * checked (secret placeholders resolved) before the first write; the
 * transaction touches nothing but the store, so PostgreSQL may re-run it.
 *
 * Auto-enrolled phones that the file does not list are kept (they would
 * re-enrol on their next fetch anyway); listing one turns it into a
 * directory phone.
 */
import { createHash } from 'node:crypto';
import { HotdeskError } from '../core/errors.js';
import { voiceSettings, type Phone, type Session, type SiteSettings } from '../core/model.js';
import type { StoreApi, StoreData } from '../store/store-api.js';
import type { Directory, DirectoryErrorEntry, DirectoryUser } from './directory-types.js';
import { formatDirectoryError, SECRET_PLACEHOLDER } from './directory-types.js';

/** What an import did. */
export interface ImportResult {
  readonly usersAdded: number;
  readonly usersUpdated: number;
  readonly usersRemoved: number;
  readonly phonesAdded: number;
  readonly phonesUpdated: number;
  readonly phonesRemoved: number;
  /** Sessions ended because their user or phone went away or lost hot-desking, or by a policy change. */
  readonly sessionsEnded: number;
  /** Phones whose revision was bumped (existing phones whose files change). */
  readonly reprovisioned: readonly string[];
}

/** JSON with sorted keys, so equal values give equal text whatever the key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * Digest of everything a phone's files are rendered from (site minus API tokens and the voice settings
 * no file holds, phone, its user, its identity keys). The hot-desk line's credentials never change
 * while the phone stays hot-desk.
 */
export async function renderInputsDigest(store: StoreData, site: SiteSettings, mac: string): Promise<string> {
  const [session, phone, identityKeys] = await Promise.all([store.sessionOf(mac), store.getPhone(mac), store.identityKeysFor(mac)]);
  const voice = voiceSettings(site);
  const inputs = {
    site: { ...site, apiTokens: [], voice: { emergencyNumbers: voice.emergencyNumbers, lineKey: voice.lineKey } },
    phone: phone ?? null,
    user: session ? ((await store.getUser(session.userExt)) ?? null) : null,
    identityKeys,
  };
  return createHash('sha256').update(canonical(inputs)).digest('hex');
}

function unresolved(dir: Directory, problems: string[]): HotdeskError {
  const errors: DirectoryErrorEntry[] = problems.map((path) => ({
    file: dir.file,
    line: 0,
    column: 0,
    path,
    message: `is the placeholder ${SECRET_PLACEHOLDER} but no value is stored to keep; write the real value`,
    code: 'directory-invalid',
  }));
  return new HotdeskError(
    'directory-invalid',
    `the directory file has ${errors.length} problem(s); nothing was applied:\n${errors.map(formatDirectoryError).join('\n')}`,
    { errors },
  );
}

/** Digests of the phones `macs` (see {@link renderInputsDigest}), by MAC. */
async function digestsOf(store: StoreData, site: SiteSettings, macs: readonly string[]): Promise<Map<string, string>> {
  const digests = await Promise.all(macs.map((mac) => renderInputsDigest(store, site, mac)));
  return new Map(macs.map((mac, i) => [mac, digests[i] ?? '']));
}

/** Replaces placeholders by the stored secrets (export without secrets, edited, re-imported). */
async function resolveSecrets(store: StoreData, dir: Directory): Promise<{ site: SiteSettings; users: DirectoryUser[]; phones: Phone[] }> {
  const problems: string[] = [];
  const current = await store.getSite();
  let bootstrap = dir.site.provisioning.bootstrap;
  if (bootstrap.password === SECRET_PLACEHOLDER) bootstrap = { ...bootstrap, password: current.provisioning.bootstrap.password };
  const apiTokens = dir.site.apiTokens.map((t, i) => {
    if (t !== SECRET_PLACEHOLDER) return t;
    const kept = current.apiTokens[i];
    if (kept === undefined) problems.push(`site.apiTokens[${i}]`);
    return kept ?? t;
  });
  const site: SiteSettings = { ...dir.site, provisioning: { ...dir.site.provisioning, bootstrap }, apiTokens };
  const users: DirectoryUser[] = [];
  for (const [i, u] of dir.users.entries()) {
    let out = u;
    if (u.pin === SECRET_PLACEHOLDER) {
      const pin = await store.userPin(u.ext);
      if (pin === undefined) problems.push(`users[${i}].pin`);
      else out = { ...out, pin };
    }
    if (u.sip.password === SECRET_PLACEHOLDER) {
      const old = await store.getUser(u.ext);
      if (!old) problems.push(`users[${i}].sip.password`);
      else out = { ...out, sip: { ...out.sip, password: old.sip.password } };
    }
    users.push(out);
  }
  const phones: Phone[] = [];
  for (const [i, p] of dir.phones.entries()) {
    if (p.deviceAccount?.password !== SECRET_PLACEHOLDER) {
      phones.push(p);
      continue;
    }
    const old = (await store.getPhone(p.mac))?.deviceAccount;
    if (!old) {
      problems.push(`phones[${i}].deviceAccount.password`);
      phones.push(p);
      continue;
    }
    phones.push({ ...p, deviceAccount: { ...p.deviceAccount, password: old.password } });
  }
  if (problems.length > 0) throw unresolved(dir, problems);
  return { site, users, phones };
}

/**
 * Applies `dir` (from parseDirectory) at `now`, all or nothing, in one
 * transaction. Audits `import` (with counts) and a `logout` for each session
 * it ends. Throws `directory-invalid` when a secret placeholder has no stored
 * value to keep (before anything is written).
 */
export async function importDirectory(store: StoreApi, dir: Directory, now: number): Promise<ImportResult> {
  return store.transaction(async (tx) => {
    const { site, users, phones } = await resolveSecrets(tx, dir);
    const [oldSite, oldPhoneList, oldUserList] = await Promise.all([tx.getSite(), tx.listPhones(), tx.listUsers()]);
    const before = await digestsOf(
      tx,
      oldSite,
      oldPhoneList.map((p) => p.mac),
    );

    const newUsers = new Map(users.map((u) => [u.ext, u]));
    const newPhones = new Map(phones.map((p) => [p.mac, p]));
    const oldUsers = new Set(oldUserList.map((u) => u.ext));
    const unlisted = oldPhoneList.filter((p) => !newPhones.has(p.mac));
    const runtimes = await Promise.all(unlisted.map((p) => tx.phoneRuntime(p.mac)));
    const removablePhones = new Set(unlisted.filter((_, i) => runtimes[i]?.enrolledVia === 'directory').map((p) => p.mac));

    let sessionsEnded = 0;
    const end = async (s: Session, why: string): Promise<void> => {
      if (!(await tx.endSession(s))) return;
      sessionsEnded++;
      await tx.appendAudit({ kind: 'logout', at: now, phone: s.phoneMac, user: s.userExt, detail: { reason: 'admin', why } });
    };
    for (const s of await tx.listSessions()) {
      const u = newUsers.get(s.userExt);
      const p = newPhones.get(s.phoneMac);
      if (!u) await end(s, 'user removed from directory');
      else if (removablePhones.has(s.phoneMac)) await end(s, 'phone removed from directory');
      else if (!u.hotdesk) await end(s, 'hot-desking turned off for the user');
      else if (p && !p.hotdesk) await end(s, 'hot-desking turned off for the phone');
    }
    const exclusive = site.policies.multipleLogin !== 'allow';
    if (exclusive) {
      const newest = new Map<string, Session>();
      for (const s of await tx.listSessions()) {
        const seen = newest.get(s.userExt);
        if (!seen) newest.set(s.userExt, s);
        else if (s.startedAt >= seen.startedAt) {
          await end(seen, 'policy allows one phone per user');
          newest.set(s.userExt, s);
        } else await end(s, 'policy allows one phone per user');
      }
    }
    await tx.setSessionsExclusive(exclusive);

    for (const ext of oldUsers) if (!newUsers.has(ext)) await tx.deleteUser(ext);
    for (const mac of removablePhones) await tx.deletePhone(mac);
    await tx.putSite(site, now);
    for (const u of users) {
      const { pin, ...user } = u;
      await tx.putUser(user, pin ?? null, now);
    }
    for (const p of phones) await tx.putPhone(p, 'directory', now);

    const kept = [...before.keys()].filter((mac) => !removablePhones.has(mac));
    const after = await digestsOf(tx, site, kept);
    const reprovisioned: string[] = [];
    for (const mac of kept) {
      if (after.get(mac) !== before.get(mac)) {
        await tx.bumpRevision(mac, now);
        reprovisioned.push(mac);
      }
    }
    const result: ImportResult = {
      usersAdded: users.filter((u) => !oldUsers.has(u.ext)).length,
      usersUpdated: users.filter((u) => oldUsers.has(u.ext)).length,
      usersRemoved: [...oldUsers].filter((e) => !newUsers.has(e)).length,
      phonesAdded: phones.filter((p) => !before.has(p.mac)).length,
      phonesUpdated: phones.filter((p) => before.has(p.mac)).length,
      phonesRemoved: removablePhones.size,
      sessionsEnded,
      reprovisioned,
    };
    await tx.appendAudit({
      kind: 'import',
      at: now,
      detail: {
        file: dir.file,
        users: users.length,
        phones: phones.length,
        usersAdded: result.usersAdded,
        usersRemoved: result.usersRemoved,
        phonesAdded: result.phonesAdded,
        phonesRemoved: result.phonesRemoved,
        sessionsEnded,
        reprovisioned: reprovisioned.length,
      },
    });
    return result;
  });
}
