/**
 * Reads and validates the `site:` section of a directory file
 * (docs/directory.md "site"). Defaults come from store/default-site.ts.
 */
import { isValidFeaturePrefix } from '../core/feature-code.js';
import { isIP } from 'node:net';
import type { IdentitySwitchPolicy, MultipleLoginPolicy, NetworkSettings, PinLockoutPolicy, SessionEndPolicy, SiteSettings, Transport } from '../core/model.js';
import { DEFAULT_PIN_LOCKOUT } from '../core/pin-guard.js';
import { isValidTimeZone } from '../core/session-end.js';
import { parseCidr } from '../protocols/cidr.js';
import { DEFAULT_POLL_MINUTES, defaultSite } from '../store/default-site.js';
import { SECRET_PLACEHOLDER } from './directory-types.js';
import { readVoice } from './parse-voice.js';
import type { At, YamlReader } from './yaml-reader.js';

const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

/** Minimum length of an API token (placeholder excepted). */
export const MIN_TOKEN_LENGTH = 8;

function readPinLockout(r: YamlReader, at: At): PinLockoutPolicy {
  const f = r.map(at, ['maxAttempts', 'windowSeconds', 'baseLockSeconds', 'maxLockSeconds']);
  if (!f) return { ...DEFAULT_PIN_LOCKOUT };
  const p: PinLockoutPolicy = {
    maxAttempts: r.int(f('maxAttempts'), { min: 1, max: 100 }) ?? DEFAULT_PIN_LOCKOUT.maxAttempts,
    windowSeconds: r.int(f('windowSeconds'), { min: 1, max: 604_800 }) ?? DEFAULT_PIN_LOCKOUT.windowSeconds,
    baseLockSeconds: r.int(f('baseLockSeconds'), { min: 1, max: 604_800 }) ?? DEFAULT_PIN_LOCKOUT.baseLockSeconds,
    maxLockSeconds: r.int(f('maxLockSeconds'), { min: 1, max: 2_592_000 }) ?? DEFAULT_PIN_LOCKOUT.maxLockSeconds,
  };
  if (p.maxLockSeconds < p.baseLockSeconds) r.fail(f('maxLockSeconds'), 'must be at least baseLockSeconds');
  return p;
}

function readSessions(r: YamlReader, at: At): SessionEndPolicy {
  const f = r.map(at, ['maxDurationMinutes', 'dailyLogoutTime']);
  if (!f) return {};
  const max = r.int(f('maxDurationMinutes'), { min: 1, max: 525_600 });
  const daily = r.str(f('dailyLogoutTime'));
  if (daily !== undefined && !HHMM.test(daily)) r.fail(f('dailyLogoutTime'), 'must be a 24-hour time HH:MM, e.g. "19:30"');
  return {
    ...(max !== undefined ? { maxDurationMinutes: max } : {}),
    ...(daily !== undefined && HHMM.test(daily) ? { dailyLogoutTime: daily } : {}),
  };
}

function readProvisioning(r: YamlReader, at: At): SiteSettings['provisioning'] {
  const f = r.map(at, ['bootstrap', 'autoEnrol', 'anonymousEnrolment', 'allowTftpSecrets', 'allowedNetworks', 'baseUrl', 'pollMinutes'], { required: true });
  const b = f ? r.map(f('bootstrap'), ['username', 'password'], { required: true }) : null;
  const username = b ? (r.str(b('username'), { required: true, nonEmpty: true }) ?? '') : '';
  const password = b ? (r.str(b('password'), { required: true, nonEmpty: true, secret: true }) ?? '') : '';
  if (!f)
    return {
      bootstrap: { username, password },
      autoEnrol: false,
      anonymousEnrolment: false,
      allowTftpSecrets: false,
      allowedNetworks: [],
      pollMinutes: DEFAULT_POLL_MINUTES,
    };
  const networks: string[] = [];
  for (const item of r.seq(f('allowedNetworks'))) {
    const v = r.str(item, { required: true });
    if (v === undefined) continue;
    try {
      parseCidr(v);
      networks.push(v.trim());
    } catch {
      r.fail(item, 'must be an address or network, e.g. "10.0.0.0/8" or "fd00::/8"');
    }
  }
  let baseUrl = r.str(f('baseUrl'));
  if (baseUrl !== undefined) {
    let ok = false;
    try {
      const u = new URL(baseUrl);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.search === '' && u.hash === '' && u.username === '' && u.password === '';
    } catch {
      ok = false;
    }
    if (!ok) r.fail(f('baseUrl'), 'must be an http:// or https:// URL without query or credentials, e.g. "http://10.0.0.5:8080"');
    baseUrl = baseUrl.replace(/\/+$/, '');
  }
  return {
    bootstrap: { username, password },
    autoEnrol: r.bool(f('autoEnrol'), false),
    anonymousEnrolment: r.bool(f('anonymousEnrolment'), false),
    allowTftpSecrets: r.bool(f('allowTftpSecrets'), false),
    allowedNetworks: networks,
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    pollMinutes: r.int(f('pollMinutes'), { min: 0, max: 10_080 }) ?? DEFAULT_POLL_MINUTES,
  };
}

/** Reads `site:`; problems are collected in `r`. */
export function readSite(r: YamlReader, at: At): SiteSettings {
  const f = r.map(at, ['name', 'timezone', 'pbx', 'featurePrefix', 'policies', 'pinLockout', 'sessions', 'provisioning', 'apiTokens', 'network', 'voice'], {
    required: true,
  });
  if (!f) return defaultSite('');
  const get = f;
  const name = r.str(get('name'), { required: true, nonEmpty: true }) ?? '';
  const timezone = r.str(get('timezone')) ?? 'UTC';
  if (!isValidTimeZone(timezone)) r.fail(get('timezone'), 'is not an IANA time zone this system knows, e.g. "Europe/Berlin"');
  const pbxF = r.map(get('pbx'), ['host', 'port', 'transport', 'realm'], { required: true });
  const realm = pbxF ? r.str(pbxF('realm'), { nonEmpty: true }) : undefined;
  if (pbxF && realm !== undefined && /[\x00-\x1f"\\]/.test(realm)) r.fail(pbxF('realm'), 'must not contain quotes, backslashes or control characters');
  const pbx = {
    host: pbxF ? (r.str(pbxF('host'), { required: true, nonEmpty: true }) ?? '') : '',
    port: pbxF ? (r.int(pbxF('port'), { min: 1, max: 65_535 }) ?? 5060) : 5060,
    transport: pbxF ? r.choice<Transport>(pbxF('transport'), ['udp', 'tcp', 'tls'], 'udp') : ('udp' as Transport),
    ...(realm !== undefined ? { realm } : {}),
  };
  const featurePrefix = r.str(get('featurePrefix')) ?? '*35';
  if (!isValidFeaturePrefix(featurePrefix)) r.fail(get('featurePrefix'), 'must be keypad symbols (*, #, digits), e.g. "*35" (quoted)');
  const pol = r.map(get('policies'), ['identitySwitch', 'multipleLogin']);
  const policies = {
    identitySwitch: pol ? r.choice<IdentitySwitchPolicy>(pol('identitySwitch'), ['direct', 'strict'], 'direct') : ('direct' as IdentitySwitchPolicy),
    multipleLogin: pol ? r.choice<MultipleLoginPolicy>(pol('multipleLogin'), ['move', 'refuse', 'allow'], 'move') : ('move' as MultipleLoginPolicy),
  };
  const apiTokens: string[] = [];
  for (const item of r.seq(get('apiTokens'))) {
    const t = r.str(item, { required: true, secret: true });
    if (t === undefined) continue;
    if (t !== SECRET_PLACEHOLDER && t.length < MIN_TOKEN_LENGTH) r.fail(item, `must be at least ${MIN_TOKEN_LENGTH} characters`);
    apiTokens.push(t);
  }
  return {
    name,
    timezone,
    pbx,
    featurePrefix,
    policies,
    pinLockout: readPinLockout(r, get('pinLockout')),
    sessions: readSessions(r, get('sessions')),
    provisioning: readProvisioning(r, get('provisioning')),
    apiTokens,
    ...readNetwork(r, get('network')),
    ...readVoice(r, get('voice')),
  };
}

/** Reads the optional `network:` block (listener defaults for `hotdesk serve`). */
function readNetwork(r: YamlReader, at: At): { network?: NetworkSettings } {
  const f = r.map(at, ['host', 'httpPort', 'tftpPort', 'sipPort', 'pnpPort']);
  if (!f) return {};
  const host = r.str(f('host'), { nonEmpty: true });
  if (host !== undefined && isIP(host) === 0) r.fail(f('host'), 'must be an IP address to bind, e.g. "0.0.0.0" or "10.0.0.5"');
  const network: { -readonly [K in keyof NetworkSettings]: NetworkSettings[K] } = {};
  if (host !== undefined) network.host = host;
  const httpPort = r.int(f('httpPort'), { min: 1, max: 65_535 });
  if (httpPort !== undefined) network.httpPort = httpPort;
  const tftpPort = r.int(f('tftpPort'), { min: 0, max: 65_535 });
  if (tftpPort !== undefined) network.tftpPort = tftpPort;
  const sipPort = r.int(f('sipPort'), { min: 1, max: 65_535 });
  if (sipPort !== undefined) network.sipPort = sipPort;
  const pnpPort = r.int(f('pnpPort'), { min: 1, max: 65_535 });
  if (pnpPort !== undefined) network.pnpPort = pnpPort;
  return { network };
}
