/**
 * Site settings used before the first directory import. Auto-enrolment is
 * off and the bootstrap password is random, so a fresh agent serves no
 * secret to anyone until IT imports a directory.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_FEATURE_PREFIX } from '../core/feature-code.js';
import type { SiteSettings } from '../core/model.js';
import { DEFAULT_PIN_LOCKOUT } from '../core/pin-guard.js';

/** Default poll interval written into phone files (minutes). */
export const DEFAULT_POLL_MINUTES = 60;

/** The defaults of every optional site field (the directory loader uses the same). */
export function defaultSite(bootstrapPassword: string = randomBytes(18).toString('base64url')): SiteSettings {
  return {
    name: 'hotdesk',
    timezone: 'UTC',
    pbx: { host: '127.0.0.1', port: 5060, transport: 'udp' },
    featurePrefix: DEFAULT_FEATURE_PREFIX,
    policies: { identitySwitch: 'direct', multipleLogin: 'move' },
    pinLockout: { ...DEFAULT_PIN_LOCKOUT },
    sessions: {},
    provisioning: {
      bootstrap: { username: 'bootstrap', password: bootstrapPassword },
      autoEnrol: false,
      anonymousEnrolment: false,
      allowTftpSecrets: false,
      allowedNetworks: [],
      pollMinutes: DEFAULT_POLL_MINUTES,
    },
    apiTokens: [],
  };
}
