/**
 * Parses and validates a directory file (docs/directory.md) completely
 * before anything is applied: YAML syntax, fields and types, short numbers
 * and PINs, MACs, duplicates, references between phones and users, known
 * vendor/model (firmware profiles) and whether the keys fit the model
 * (vendors/key-layout.ts). Every problem carries file, line and column.
 */
import { LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { HotdeskError, isHotdeskError, type ErrorCode } from '../core/errors.js';
import { isValidExt } from '../core/feature-code.js';
import type { KeyKind, KeySpec, Phone, SipAccount, Vendor } from '../core/model.js';
import { normalizeMac, VENDORS, voiceSettings } from '../core/model.js';
import { loadFirmwareProfiles, type FirmwareProfiles } from '../vendors/firmware-profile.js';
import { hotdeskLineSlot } from '../vendors/hotdesk-line.js';
import { deadKeyKinds, keyLayout } from '../vendors/key-layout.js';
import type { Directory, DirectoryErrorEntry, DirectoryUser } from './directory-types.js';
import { formatDirectoryError, SECRET_PLACEHOLDER } from './directory-types.js';
import { readSite } from './parse-site.js';
import { YamlReader, type At } from './yaml-reader.js';
import { DEFAULT_SIP_PORT } from '../store/store-rows.js';

/** Options of {@link parseDirectory}. */
export interface ParseDirectoryOptions {
  /** Firmware profiles to check models and key counts against (default: the shipped ones). */
  readonly profiles?: FirmwareProfiles;
}

const KEY_KINDS: readonly KeyKind[] = ['speed', 'blf', 'line', 'url', 'hotdesk-menu', 'identity'];
const PIN_RE = /^[0-9]{4,12}$/;

let shippedProfiles: FirmwareProfiles | undefined;

/** The shipped firmware profiles, loaded once. */
function shipped(): FirmwareProfiles {
  shippedProfiles ??= loadFirmwareProfiles();
  return shippedProfiles;
}

interface ReadUser {
  readonly user: DirectoryUser;
  readonly ext: At;
}
interface ReadPhone {
  readonly phone: Phone;
  readonly at: At;
  readonly mac: At;
  readonly model: At;
  readonly identities: readonly At[];
  readonly keys: readonly { readonly spec: KeySpec; readonly at: At }[];
}

function readSip(r: YamlReader, at: At, defaults: { user?: string; displayName: string }, required: boolean): SipAccount | undefined {
  const f = r.map(at, ['user', 'authName', 'password', 'displayName', 'outboundCallerId', 'voicemailNumber'], { required });
  if (!f) return undefined;
  const user = r.str(f('user'), { required: defaults.user === undefined, nonEmpty: true }) ?? defaults.user ?? '';
  const authName = r.str(f('authName'), { nonEmpty: true }) ?? user;
  const password = r.str(f('password'), { required: true, nonEmpty: true, secret: true }) ?? '';
  const displayName = r.str(f('displayName')) ?? defaults.displayName;
  const outbound = r.str(f('outboundCallerId'), { nonEmpty: true });
  const voicemail = r.str(f('voicemailNumber'), { nonEmpty: true });
  return {
    user,
    authName,
    password,
    displayName,
    ...(outbound !== undefined ? { outboundCallerId: outbound } : {}),
    ...(voicemail !== undefined ? { voicemailNumber: voicemail } : {}),
  };
}

function readUser(r: YamlReader, at: At): ReadUser | null {
  const f = r.map(at, ['ext', 'name', 'pin', 'hotdesk', 'sip'], { required: true });
  if (!f) return null;
  const extAt = f('ext');
  const ext = r.str(extAt, { required: true });
  if (ext !== undefined && !isValidExt(ext)) r.fail(extAt, 'must be 1 to 15 digits, quoted, e.g. "001"');
  const name = r.str(f('name'), { required: true, nonEmpty: true }) ?? '';
  const pin = r.str(f('pin'), { secret: true });
  if (pin !== undefined && pin !== SECRET_PLACEHOLDER && !PIN_RE.test(pin)) r.fail(f('pin'), 'must be 4 to 12 digits, quoted');
  const hotdesk = r.bool(f('hotdesk'), true);
  const sip = readSip(r, f('sip'), { user: ext ?? '', displayName: name }, true);
  if (ext === undefined || !isValidExt(ext) || !sip) return null;
  return { user: { ext, name, hotdesk, sip, ...(pin !== undefined ? { pin } : {}) }, ext: extAt };
}

function readKey(r: YamlReader, at: At): KeySpec | null {
  const f = r.map(at, ['kind', 'label', 'value', 'line'], { required: true });
  if (!f) return null;
  const kind = r.choice<KeyKind>(f('kind'), KEY_KINDS, 'speed');
  if (YamlReader.absent(f('kind').node)) r.fail(f('kind'), `is required (one of: ${KEY_KINDS.join(', ')})`);
  const label = r.str(f('label'), { required: true }) ?? '';
  const value = r.str(f('value'), { required: kind !== 'hotdesk-menu', nonEmpty: kind !== 'hotdesk-menu' }) ?? '';
  if (kind === 'url' && value !== '' && !/^https?:\/\//.test(value)) r.fail(f('value'), 'must be an http:// or https:// URL');
  const line = r.int(f('line'), { min: 1, max: 16 });
  return { kind, label, value, ...(line !== undefined ? { line } : {}) };
}

function readPhone(r: YamlReader, at: At): ReadPhone | null {
  const f = r.map(at, ['mac', 'vendor', 'model', 'label', 'location', 'hotdesk', 'deviceAccount', 'identities', 'keys', 'sipPort'], { required: true });
  if (!f) return null;
  const macAt = f('mac');
  const rawMac = r.str(macAt, { required: true });
  const mac = rawMac !== undefined ? normalizeMac(rawMac) : null;
  if (rawMac !== undefined && mac === null) r.fail(macAt, 'must be a MAC address: 12 hex digits, e.g. "001565aabb01" or "00:15:65:aa:bb:01"');
  const vendorAt = f('vendor');
  const vendor = r.choice<Vendor | ''>(vendorAt, VENDORS, '');
  if (YamlReader.absent(vendorAt.node)) r.fail(vendorAt, `is required (one of: ${VENDORS.join(', ')})`);
  const model = r.str(f('model'), { required: true, nonEmpty: true });
  const label = r.str(f('label'), { nonEmpty: true });
  const location = r.str(f('location'), { nonEmpty: true });
  const hotdesk = r.bool(f('hotdesk'), true);
  const sipPort = r.int(f('sipPort'), { min: 1, max: 65_535 });
  const deviceAccount = readSip(r, f('deviceAccount'), { displayName: label ?? mac ?? '' }, false);
  const identities = r.seq(f('identities'));
  const identityExts: string[] = [];
  for (const item of identities) {
    const ext = r.str(item, { required: true });
    if (ext === undefined) continue;
    if (!isValidExt(ext)) r.fail(item, 'must be a short number (digits, quoted), e.g. "101"');
    identityExts.push(ext);
  }
  const keys: { spec: KeySpec; at: At }[] = [];
  for (const item of r.seq(f('keys'))) {
    const spec = readKey(r, item);
    if (spec) keys.push({ spec, at: item });
  }
  if (mac === null || vendor === '' || model === undefined) return null;
  const phone: Phone = {
    mac,
    vendor,
    model,
    label: label ?? mac,
    ...(location !== undefined ? { location } : {}),
    hotdesk,
    ...(deviceAccount ? { deviceAccount } : {}),
    identities: identityExts,
    keys: keys.map((k) => k.spec),
    ...(sipPort !== undefined && sipPort !== DEFAULT_SIP_PORT ? { sipPort } : {}),
  };
  return { phone, at, mac: macAt, model: f('model'), identities, keys };
}

/** Why a key kind is refused on a model (see deadKeyKinds). */
function deadKeyMessage(kind: KeyKind, model: string): string {
  return kind === 'hotdesk-menu' || kind === 'url'
    ? `${kind} key: ${model} has no XML browser (hot-desk there with identity keys and the feature code)`
    : `${kind} key: ${model} has no one-touch (EFK) line keys (hot-desk there with the feature code)`;
}

function checkReferences(r: YamlReader, users: readonly ReadUser[], phones: ReadPhone[], profiles: FirmwareProfiles, lineKey: boolean): void {
  const byExt = new Map<string, ReadUser>();
  for (const u of users) {
    const first = byExt.get(u.user.ext);
    if (first) r.fail(u.ext, `short number "${u.user.ext}" is listed twice (first at ${first.ext.path})`);
    else byExt.set(u.user.ext, u);
  }
  const byMac = new Map<string, ReadPhone>();
  for (const p of phones) {
    const first = byMac.get(p.phone.mac);
    if (first) r.fail(p.mac, `MAC ${p.phone.mac} is listed twice (first at ${first.mac.path})`);
    else byMac.set(p.phone.mac, p);
  }
  phones.forEach((p, i) => {
    const seen = new Set<string>();
    p.phone.identities.forEach((ext, j) => {
      const at = p.identities[j] ?? p.at;
      const u = byExt.get(ext)?.user;
      if (seen.has(ext)) r.fail(at, `identity "${ext}" is listed twice`);
      seen.add(ext);
      if (!u) r.fail(at, `no user with short number "${ext}" in users`);
      else if (u.pin === undefined) r.fail(at, `user "${ext}" has no PIN; a one-touch identity key needs one`);
      else if (!u.hotdesk) r.fail(at, `user "${ext}" has hot-desking off`);
    });
    if (p.phone.identities.length > 0 && !p.phone.hotdesk) r.fail(p.identities[0] ?? p.at, 'identity keys need hotdesk: true on this phone');
    for (const k of p.keys) {
      if (k.spec.kind === 'identity' && !byExt.has(k.spec.value)) r.fail(k.at, `identity key: no user with short number "${k.spec.value}" in users`);
    }
    const profile = profiles.find(p.phone.vendor, p.phone.model);
    if (!profile) {
      const known = profiles
        .all()
        .filter((x) => x.vendor === p.phone.vendor)
        .map((x) => x.model);
      r.fail(
        p.model,
        `no firmware profile for ${p.phone.vendor} ${p.phone.model}; known ${p.phone.vendor} models: ${known.join(', ') || 'none'}`,
        'unknown-model',
      );
      return;
    }
    const phone: Phone = { ...p.phone, model: profile.model };
    phones[i] = { ...p, phone };
    const dead = deadKeyKinds(profile);
    for (const k of p.keys) {
      if (k.spec.line !== undefined && k.spec.line > profile.accounts)
        r.fail(k.at, `line ${k.spec.line} does not exist: ${profile.model} has ${profile.accounts} accounts`);
      if (dead.includes(k.spec.kind)) r.fail(k.at, deadKeyMessage(k.spec.kind, profile.model));
    }
    if (dead.includes('identity') && p.phone.identities.length > 0) r.fail(p.identities[0] ?? p.at, deadKeyMessage('identity', profile.model));
    try {
      // Logged out is the state with the most keys: the hot-desk line (and its optional line key) is there whenever it is at all.
      const slot = phone.hotdesk ? hotdeskLineSlot(profile, { loggedIn: false, hasDeviceAccount: phone.deviceAccount !== undefined }) : null;
      keyLayout(phone, profile, { hotdeskMenu: phone.hotdesk, hotdeskKey: phone.hotdesk, hotdeskLine: slot === null ? null : { slot, lineKey } });
    } catch (e) {
      if (!isHotdeskError(e)) throw e;
      r.fail(p.at, e.message, e.code);
    }
  });
}

/**
 * Parses and validates directory `text` (named `fileName` in messages).
 * Throws HotdeskError `yaml-syntax` (not YAML) or, when any check fails,
 * `unknown-model` / `too-many-keys` if every problem is of that one kind and
 * `directory-invalid` otherwise; `detail.errors` lists every problem as
 * {@link DirectoryErrorEntry} (file, line, column, path, message, code). No
 * message contains a secret value.
 */
export function parseDirectory(text: string, fileName: string, options: ParseDirectoryOptions = {}): Directory {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: true, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const errors: DirectoryErrorEntry[] = doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
      return { file: fileName, line: pos.line, column: pos.col, path: '', message: e.message.split('\n')[0] ?? e.code, code: 'yaml-syntax' };
    });
    throw failure('yaml-syntax', errors);
  }
  const r = new YamlReader(fileName, text, lines);
  const rootNode = (doc.contents ?? undefined) as YamlNode | undefined;
  if (YamlReader.absent(rootNode)) {
    r.error(undefined, '', 'the file is empty; it needs at least a site: section');
    throw failure('directory-invalid', r.errors);
  }
  const top = r.map({ node: rootNode, path: '', parent: undefined }, ['site', 'users', 'phones'], { required: true });
  if (!top) throw failure('directory-invalid', r.errors);
  const site = readSite(r, top('site'));
  const users = r.seq(top('users')).flatMap((at) => readUser(r, at) ?? []);
  const phones = r.seq(top('phones')).flatMap((at) => readPhone(r, at) ?? []);
  const profiles = options.profiles ?? shipped();
  checkReferences(r, users, phones, profiles, voiceSettings(site).lineKey);
  if (r.errors.length > 0) {
    const codes = new Set(r.errors.map((e) => e.code));
    const only = codes.size === 1 ? [...codes][0] : undefined;
    throw failure(only === 'unknown-model' || only === 'too-many-keys' ? only : 'directory-invalid', r.errors);
  }
  return { file: fileName, site, users: users.map((u) => u.user), phones: phones.map((p) => p.phone) };
}

function failure(code: ErrorCode, errors: readonly DirectoryErrorEntry[]): HotdeskError {
  const sorted = [...errors].sort((a, b) => a.line - b.line || a.column - b.column);
  const head = sorted.slice(0, 5).map(formatDirectoryError).join('\n');
  const more = sorted.length > 5 ? `\n(+${sorted.length - 5} more)` : '';
  const title =
    code === 'yaml-syntax'
      ? 'the directory file is not valid YAML'
      : `the directory file has ${sorted.length} problem${sorted.length === 1 ? '' : 's'}; nothing was applied`;
  return new HotdeskError(code, `${title}:\n${head}${more}`, { errors: sorted });
}
