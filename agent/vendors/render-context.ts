/**
 * The typed, deep-frozen context every provisioning template sees
 * (docs/templates.md documents each variable). Built from a RenderInput, the
 * phone's firmware profile and its key layout; vendor-specific codes come in
 * through a small `VendorFlavor` given by each driver.
 *
 * Account slots and key slots are listed completely (every slot the model
 * has), so templates write cleared values for unused slots: phones keep the
 * last value of any parameter a new file leaves out (docs/vendors.md,
 * "File syntax and clearing accounts on logout").
 *
 * Pure module.
 */
import type { SipAccount, Transport, Vendor } from '../core/model.js';
import type { RenderInput } from './driver.js';
import type { FirmwareProfile } from './firmware-profile.js';
import { hotdeskLineContext, hotdeskLineSlotOf, type HotdeskLineContext } from './hotdesk-line.js';
import { keyCapacity, type KeyAssignment } from './key-layout.js';
import { type AccountSlot, clearedKeys, emptyAccount, emptyListSlot, indexZero, type KeySlot, type ListSlot } from './render-slots.js';

export type { AccountSlot, KeySlot, ListSlot } from './render-slots.js';

/** Vendor codes a driver supplies to the context builder. */
export interface VendorFlavor {
  /** Transport code written into files (Yealink `0|1|2`, Poly `UDPOnly|TCPOnly|TLS`, Snom `udp|tcp|tls`). */
  readonly transportCodes: Readonly<Record<Transport, string | number>>;
  /** File names of this phone, exposed as `files.*`. */
  readonly files: Readonly<Record<string, string>>;
}

/** One enhanced-feature-key entry (Poly). */
export interface SpeedDial {
  readonly efk: number;
  readonly label: string;
  readonly digits: string;
}

/** One busy-lamp-field entry (Poly attendant resource list). */
export interface BlfEntry {
  readonly blf: number;
  readonly label: string;
  readonly address: string;
}

/** The full template context. */
export interface RenderContext {
  readonly revision: number;
  readonly state: 'logged-in' | 'logged-out';
  readonly site: {
    readonly name: string;
    readonly featurePrefix: string;
    readonly pollMinutes: number;
    readonly pollSeconds: number;
    readonly pbx: { readonly host: string; readonly port: number; readonly transport: Transport };
  };
  readonly phone: {
    readonly mac: string;
    readonly macUpper: string;
    readonly vendor: Vendor;
    readonly model: string;
    readonly fileModel: string;
    readonly label: string;
    readonly location: string;
    readonly hotdesk: boolean;
    readonly hasDeviceAccount: boolean;
  };
  readonly user: { readonly ext: string; readonly name: string } | null;
  readonly accounts: readonly AccountSlot[];
  /** The phone's hot-desk line now (also listed in `accounts` with source `hotdesk`); null when it has none. */
  readonly hotdeskLine: HotdeskLineContext | null;
  readonly keys: readonly KeySlot[];
  readonly softKeys: readonly KeySlot[];
  readonly speedDials: readonly SpeedDial[];
  readonly blfs: readonly BlfEntry[];
  /** Every EFK list index 1..key capacity, used or cleared (Poly `efk.efklist.N`). */
  readonly efkList: readonly ListSlot[];
  /** Every attendant resource-list index 1..key capacity, used or cleared (Poly BLF). */
  readonly resourceList: readonly ListSlot[];
  readonly urls: {
    readonly provisioning: string;
    readonly provisioningDir: string;
    /** `provisioningDir` without its `scheme://` (Poly `device.prov.serverName`, scheme in `serverType`). */
    readonly provisioningHostPath: string;
    /** `HTTP` or `HTTPS`: the scheme of `provisioning` (Poly `device.prov.serverType`). */
    readonly provisioningScheme: 'HTTP' | 'HTTPS';
    readonly screens: string;
    readonly actionUrl: string;
    readonly outgoingCallUrl: string;
    readonly telNotification: string;
    readonly firmware: string;
  };
  readonly credential: { readonly username: string; readonly password: string };
  readonly capabilities: FirmwareProfile['capabilities'];
  readonly files: Readonly<Record<string, string>>;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    if (Array.isArray(v)) for (const x of v) deepFreeze(x);
    else for (const x of Object.values(v as Record<string, unknown>)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function account(index: number, sip: SipAccount, source: 'user' | 'device', input: RenderInput, flavor: VendorFlavor): AccountSlot {
  const { host, port, transport } = input.site.pbx;
  return {
    index,
    active: true,
    source,
    user: sip.user,
    authName: sip.authName,
    password: sip.password,
    displayName: sip.displayName,
    label: sip.displayName !== '' ? sip.displayName : sip.user,
    outboundCallerId: sip.outboundCallerId ?? '',
    voicemailNumber: sip.voicemailNumber ?? '',
    host,
    port,
    hostPort: `${host}:${port}`,
    transport,
    transportCode: flavor.transportCodes[transport],
    mwi: true,
  };
}

/** Slot H carrying the hot-desk line `h` (no voicemail, no message-waiting subscription). */
function hotdeskAccount(h: HotdeskLineContext): AccountSlot {
  return {
    index: h.index,
    active: true,
    source: 'hotdesk',
    user: h.username,
    authName: h.username,
    password: h.password,
    displayName: h.label,
    label: h.label,
    outboundCallerId: '',
    voicemailNumber: '',
    host: h.host,
    port: h.port,
    hostPort: h.hostPort,
    transport: h.transport,
    transportCode: h.transportCode,
    mwi: false,
  };
}

/** `<base>?mac=$mac&remote=$remote` (or `&` when the base has a query): the phone fills `$mac` and `$remote`. */
export function outgoingCallUrl(actionUrl: string): string {
  return `${actionUrl}${actionUrl.includes('?') ? '&' : '?'}mac=$mac&remote=$remote`;
}

/**
 * Builds the deep-frozen template context for `input` (see docs/templates.md).
 * `layout` is the phone's key layout from keyLayout().
 */
export function buildRenderContext(input: RenderInput, profile: FirmwareProfile, layout: readonly KeyAssignment[], flavor: VendorFlavor): RenderContext {
  const { site, phone, user } = input;
  const accounts: AccountSlot[] = [];
  for (let i = 1; i <= profile.accounts; i += 1) accounts.push(emptyAccount(i));
  if (user) accounts[0] = account(1, user.sip, 'user', input, flavor);
  else if (phone.deviceAccount) accounts[0] = account(1, phone.deviceAccount, 'device', input, flavor);
  const slot = hotdeskLineSlotOf(input);
  const hotdeskLine = slot === null ? null : hotdeskLineContext(input, slot, flavor.transportCodes.udp, accounts[0]?.active === true);
  if (hotdeskLine) accounts[hotdeskLine.index - 1] = hotdeskAccount(hotdeskLine);

  const idKeys = new Map(input.identityKeys.map((k) => [k.ext, k]));
  let efk = 0;
  let blf = 0;
  const speedDials: SpeedDial[] = [];
  const blfs: BlfEntry[] = [];
  const toSlot = (a: KeyAssignment): KeySlot => {
    let label = a.label;
    let value = a.value;
    if (a.role === 'identity') {
      const id = idKeys.get(a.value);
      label = id && id.label !== '' ? id.label : a.value;
      value = id ? `${site.featurePrefix}*${a.value}*${id.pin}` : `${site.featurePrefix}*${a.value}`;
    } else if (a.role === 'hotdesk') {
      value = site.featurePrefix;
    } else if (a.role === 'hotdesk-menu') {
      value = input.urls.screens;
    }
    const dial = a.role === 'identity' || a.role === 'hotdesk' || a.role === 'speed';
    if (dial) {
      efk += 1;
      speedDials.push({ efk, label, digits: value });
    }
    if (a.role === 'blf') {
      blf += 1;
      blfs.push({ blf, label, address: value });
    }
    const typeName = a.role === 'identity' || a.role === 'hotdesk' ? 'speed' : a.role === 'hotdesk-menu' ? 'url' : a.role;
    return {
      slot: a.slot,
      index0: indexZero(profile, a),
      area: a.area,
      module: a.module,
      position: a.position,
      used: true,
      role: a.role,
      type: profile.keyTypes[typeName],
      label,
      value,
      line: a.line,
      onHotdeskLine: hotdeskLine !== null && a.line === hotdeskLine.index,
      efk: dial ? efk : 0,
      blf: a.role === 'blf' ? blf : 0,
    };
  };
  const hard = new Map<number, KeySlot>();
  for (const k of layout.filter((a) => a.area !== 'soft').map(toSlot)) if (!hard.has(k.slot)) hard.set(k.slot, k);
  const keys: KeySlot[] = [];
  const cleared = clearedKeys(profile);
  const capacity = keyCapacity(profile);
  for (let slot = 1; slot <= capacity; slot += 1) {
    const used = hard.get(slot);
    if (used) {
      keys.push(used);
      continue;
    }
    keys.push(cleared.key(slot));
  }
  const softUsed = layout.filter((a) => a.area === 'soft').map(toSlot);
  const softKeys: KeySlot[] = [];
  for (let n = 1; n <= profile.softKeys; n += 1) {
    softKeys.push(softUsed.find((k) => k.slot === n) ?? cleared.soft(n));
  }
  const efkList: ListSlot[] = [];
  const resourceList: ListSlot[] = [];
  for (let i = 1; i <= capacity; i += 1) {
    const d = speedDials[i - 1];
    efkList.push(d ? { index: i, used: true, label: d.label, value: d.digits } : emptyListSlot(i));
    const b = blfs[i - 1];
    resourceList.push(b ? { index: i, used: true, label: b.label, value: b.address } : emptyListSlot(i));
  }

  const ctx: RenderContext = {
    revision: input.revision,
    state: user ? 'logged-in' : 'logged-out',
    site: {
      name: site.name,
      featurePrefix: site.featurePrefix,
      pollMinutes: site.provisioning.pollMinutes,
      pollSeconds: site.provisioning.pollMinutes * 60,
      pbx: { host: site.pbx.host, port: site.pbx.port, transport: site.pbx.transport },
    },
    phone: {
      mac: phone.mac,
      macUpper: phone.mac.toUpperCase(),
      vendor: phone.vendor,
      model: profile.model,
      fileModel: profile.fileModelName,
      label: phone.label,
      location: phone.location ?? '',
      hotdesk: phone.hotdesk,
      hasDeviceAccount: phone.deviceAccount !== undefined,
    },
    user: user ? { ext: user.ext, name: user.name } : null,
    accounts,
    hotdeskLine,
    keys,
    softKeys,
    speedDials,
    blfs,
    efkList,
    resourceList,
    urls: {
      provisioning: input.urls.provisioning,
      provisioningDir: `${input.urls.provisioning}/`,
      provisioningHostPath: `${input.urls.provisioning.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')}/`,
      provisioningScheme: /^https:/i.test(input.urls.provisioning) ? 'HTTPS' : 'HTTP',
      screens: input.urls.screens,
      actionUrl: input.urls.actionUrl,
      outgoingCallUrl: outgoingCallUrl(input.urls.actionUrl),
      telNotification: input.urls.telNotification,
      firmware: input.urls.firmware ?? '',
    },
    credential: { username: input.credential.username, password: input.credential.password },
    capabilities: { ...profile.capabilities },
    files: { ...flavor.files },
  };
  return deepFreeze(ctx);
}
