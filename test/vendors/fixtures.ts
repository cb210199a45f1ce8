/**
 * Hand-built render inputs for vendor tests (types from agent/core/model.ts).
 */
import type { Phone, SipAccount, SiteSettings, User, Vendor } from '../../agent/core/model.js';
import type { HotdeskLineInput, IdentityKey, RenderInput } from '../../agent/vendors/driver.js';
import { loadFirmwareProfiles, type FirmwareProfile } from '../../agent/vendors/firmware-profile.js';
import { createDriverRegistry } from '../../agent/vendors/registry.js';
import { loadTemplateSources } from '../../agent/vendors/template-loader.js';

export const profiles = loadFirmwareProfiles();
export const registry = createDriverRegistry({ profiles, sources: loadTemplateSources() });

export const SITE: SiteSettings = {
  name: 'Demo office',
  timezone: 'Europe/Berlin',
  pbx: { host: 'pbx.example.test', port: 5060, transport: 'udp' },
  featurePrefix: '*35',
  policies: { identitySwitch: 'direct', multipleLogin: 'move' },
  pinLockout: { maxAttempts: 5, windowSeconds: 300, baseLockSeconds: 60, maxLockSeconds: 3600 },
  sessions: {},
  provisioning: {
    bootstrap: { username: 'bootstrap', password: 'boot-secret' },
    autoEnrol: true,
    anonymousEnrolment: false,
    allowTftpSecrets: false,
    allowedNetworks: [],
    pollMinutes: 60,
  },
  apiTokens: [],
};

function sip(user: string, name: string, password: string, voicemail?: string): SipAccount {
  return { user, authName: user, password, displayName: name, outboundCallerId: `+4930123${user}`, ...(voicemail ? { voicemailNumber: voicemail } : {}) };
}

export const USER_101: User = { ext: '101', name: 'Alice Example', hotdesk: true, sip: sip('101', 'Alice Example', 'alice-sip-pw', '*97') };
export const USER_102: User = { ext: '102', name: 'Bob Example', hotdesk: true, sip: sip('102', 'Bob Example', 'bob-sip-pw', '*97') };
export const DEVICE_ACCOUNT: SipAccount = { user: 'dev-lobby', authName: 'dev-lobby', password: 'dev-pw', displayName: 'Desk 3.14' };

export const MACS: Record<Vendor, string> = { yealink: '001565aabb01', snom: '000413922d24', poly: '0004f2aabb03' };
export const MODELS: Record<Vendor, string> = { yealink: 'T46U', snom: 'D785', poly: 'VVX450' };

/** A phone of `vendor`/`model` with identities 101 and 102, one BLF and one speed key. */
export function phone(vendor: Vendor, model = MODELS[vendor], extra: Partial<Phone> = {}): Phone {
  return {
    mac: MACS[vendor],
    vendor,
    model,
    label: 'Desk 3.14',
    location: 'Floor 3',
    hotdesk: true,
    identities: ['101', '102'],
    keys: [
      { kind: 'blf', label: 'Reception', value: '100' },
      { kind: 'speed', label: 'Support', value: '200' },
    ],
    ...extra,
  };
}

export const IDENTITY_KEYS: readonly IdentityKey[] = [
  { ext: '101', label: 'Alice', pin: '1234' },
  { ext: '102', label: 'Bob', pin: '5678' },
];

export function profileOf(vendor: Vendor, model: string): FirmwareProfile {
  const p = profiles.find(vendor, model);
  if (!p) throw new Error(`no profile ${vendor} ${model}`);
  return p;
}

/** The password of every fixture phone's hot-desk line. */
export const LINE_PASSWORD = 'HotLinePw0rd4Fixture9xyz';

/** The hot-desk line of phone `p`, registering at 10.0.0.5:5070. */
export function lineOf(p: Phone): HotdeskLineInput {
  return { username: `hd-${p.mac}`, password: LINE_PASSWORD, host: '10.0.0.5', port: 5070, transport: 'udp' };
}

/** A render input; `user` null = logged out; a hot-desk phone gets its hot-desk line unless `hotdeskLine` says otherwise. */
export function input(
  p: Phone,
  user: User | null,
  revision = 7,
  identityKeys: readonly IdentityKey[] = IDENTITY_KEYS,
  hotdeskLine: HotdeskLineInput | null = p.hotdesk ? lineOf(p) : null,
): RenderInput {
  return {
    site: SITE,
    phone: p,
    profile: profileOf(p.vendor, p.model),
    user,
    identityKeys,
    revision,
    credential: { username: `hd-${p.mac}`, password: 'phone-prov-pw' },
    urls: {
      provisioning: 'http://10.0.0.5:8080',
      screens: `http://10.0.0.5:8080/xml/${p.mac}/tok123`,
      actionUrl: `http://10.0.0.5:8080/action/${p.mac}/tok123/outgoing`,
      telNotification: `http://10.0.0.5:8080/action/${p.mac}/tok123/poly`,
    },
    hotdeskLine,
  };
}
