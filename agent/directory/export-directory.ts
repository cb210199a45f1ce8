/**
 * Writes the store back as a directory file (docs/directory.md). Without
 * secrets every PIN, password and API token becomes {@link SECRET_PLACEHOLDER},
 * which a re-import reads as "keep the stored value"; with secrets the file
 * re-imports to exactly the same state (no revision changes).
 */
import { Document, isMap, isSeq } from 'yaml';
import type { KeySpec, Phone, SipAccount } from '../core/model.js';
import type { StoreData } from '../store/store-api.js';
import { SECRET_PLACEHOLDER } from './directory-types.js';

/** Options of {@link exportDirectory}. */
export interface ExportOptions {
  /** Write clear PINs, passwords and tokens (handle the file like a password). */
  readonly withSecrets: boolean;
}

function sipOut(a: SipAccount, secret: (s: string) => string): Record<string, unknown> {
  return {
    user: a.user,
    authName: a.authName,
    password: secret(a.password),
    displayName: a.displayName,
    ...(a.outboundCallerId !== undefined ? { outboundCallerId: a.outboundCallerId } : {}),
    ...(a.voicemailNumber !== undefined ? { voicemailNumber: a.voicemailNumber } : {}),
  };
}

function keyOut(k: KeySpec): Record<string, unknown> {
  return { kind: k.kind, label: k.label, value: k.value, ...(k.line !== undefined ? { line: k.line } : {}) };
}

function phoneOut(p: Phone, secret: (s: string) => string): Record<string, unknown> {
  return {
    mac: p.mac,
    vendor: p.vendor,
    model: p.model,
    label: p.label,
    ...(p.location !== undefined ? { location: p.location } : {}),
    hotdesk: p.hotdesk,
    ...(p.deviceAccount ? { deviceAccount: sipOut(p.deviceAccount, secret) } : {}),
    identities: [...p.identities],
    keys: p.keys.map(keyOut),
    ...(p.sipPort !== undefined ? { sipPort: p.sipPort } : {}),
  };
}

/**
 * The directory as YAML text (site, users, phones; no sessions or runtime state). Reads outside a
 * transaction: give a transaction's `tx` for one consistent snapshot on PostgreSQL.
 */
export async function exportDirectory(store: StoreData, options: ExportOptions): Promise<string> {
  const secret = (s: string): string => (options.withSecrets ? s : SECRET_PLACEHOLDER);
  const [site, phones, userList] = await Promise.all([store.getSite(), store.listPhones(), store.listUsers()]);
  const [pins, runtimes] = await Promise.all([
    Promise.all(userList.map((u) => store.userPin(u.ext))),
    Promise.all(phones.map((p) => store.phoneRuntime(p.mac))),
  ]);
  const data = {
    site: {
      ...site,
      provisioning: {
        ...site.provisioning,
        bootstrap: { username: site.provisioning.bootstrap.username, password: secret(site.provisioning.bootstrap.password) },
      },
      apiTokens: site.apiTokens.map(secret),
    },
    users: userList.map((u, i) => {
      const pin = pins[i];
      return { ext: u.ext, name: u.name, ...(pin !== undefined ? { pin: secret(pin) } : {}), hotdesk: u.hotdesk, sip: sipOut(u.sip, secret) };
    }),
    phones: phones.map((p) => phoneOut(p, secret)),
  };
  const doc = new Document(data);
  doc.commentBefore = options.withSecrets
    ? ' hotdesk directory export WITH SECRETS: PINs and passwords below are in clear text.\n Keep this file like a password.'
    : ` hotdesk directory export. Secrets are written as "${SECRET_PLACEHOLDER}": importing this file keeps\n the stored values; replace a placeholder to change a secret.`;
  const phoneSeq = isMap(doc.contents) ? doc.contents.get('phones', true) : undefined;
  if (isSeq(phoneSeq)) {
    runtimes.forEach((rt, i) => {
      const item = phoneSeq.items[i];
      if (rt?.enrolledVia === 'auto' && isMap(item)) {
        item.commentBefore = ' auto-enrolled on first contact; edit and keep, or delete';
      }
    });
  }
  return doc.toString({ lineWidth: 0 });
}
