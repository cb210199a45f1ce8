/**
 * The hot-desk domain model shared by every part of the agent.
 *
 * Pure types (plus tiny pure helpers): no I/O, no clock. Times are epoch
 * milliseconds passed in by the shell. MAC addresses are always 12 lowercase
 * hex digits inside the agent (`normalizeMac`).
 */

export type Vendor = 'yealink' | 'snom' | 'poly';
export const VENDORS: readonly Vendor[] = ['yealink', 'snom', 'poly'];

export type Transport = 'udp' | 'tcp' | 'tls';

/** docs/behaviour.md §3: what `*35*<ext>*<pin>` does when another user is logged in. */
export type IdentitySwitchPolicy = 'direct' | 'strict';
/** docs/behaviour.md §3: may a user be logged in on several phones. */
export type MultipleLoginPolicy = 'move' | 'refuse' | 'allow';

/** A SIP account kept by the PBX. `password` is clear text only in memory. */
export interface SipAccount {
  readonly user: string;
  readonly authName: string;
  readonly password: string;
  readonly displayName: string;
  /** Number presented outbound (caller id), where the vendor has a field. */
  readonly outboundCallerId?: string;
  readonly voicemailNumber?: string;
}

/** A person (or one identity of a person) who can hot-desk. */
export interface User {
  /** Short number; leading zeros are significant (`001` is not `1`). */
  readonly ext: string;
  readonly name: string;
  /** Hot-desking enabled for this user. A user without PIN cannot log in. */
  readonly hotdesk: boolean;
  readonly sip: SipAccount;
}

/** Kinds of key IT may put on a phone (beyond the generated identity keys). */
export type KeyKind = 'speed' | 'blf' | 'line' | 'url' | 'hotdesk-menu' | 'identity';

/** A programmable key on a phone, in the order IT listed them. */
export interface KeySpec {
  readonly kind: KeyKind;
  readonly label: string;
  /** Number, URI or URL; for `identity` the user's short number. */
  readonly value: string;
  /** Account/line index (1-based) the key uses, where relevant. */
  readonly line?: number;
}

/** A desk phone as IT describes it. */
export interface Phone {
  /** 12 lowercase hex digits, no separators. */
  readonly mac: string;
  readonly vendor: Vendor;
  /** Model id as used by firmware profiles, e.g. `T46U`, `D785`, `VVX450`. */
  readonly model: string;
  readonly label: string;
  readonly location?: string;
  /** Hot-desking enabled on this phone (false: lift, canteen, reception). */
  readonly hotdesk: boolean;
  /** Account carried while nobody is logged in (PBX restricts it). */
  readonly deviceAccount?: SipAccount;
  /** Short numbers of the identities whose one-touch keys this phone carries. */
  readonly identities: readonly string[];
  /** Extra keys IT configured, after the identity keys. */
  readonly keys: readonly KeySpec[];
  /** UDP port the phone takes check-sync NOTIFYs on, when not 5060. */
  readonly sipPort?: number;
}

/** A user logged in on a phone. At most one per phone. */
export interface Session {
  readonly phoneMac: string;
  readonly userExt: string;
  /** Epoch ms. */
  readonly startedAt: number;
}

/** Site-wide settings from the directory file. */
export interface SiteSettings {
  readonly name: string;
  /** IANA time zone for the daily logout time, e.g. `Europe/Berlin`. */
  readonly timezone: string;
  readonly pbx: PbxSettings;
  /** Feature-code prefix, `*35` by default. */
  readonly featurePrefix: string;
  readonly policies: {
    readonly identitySwitch: IdentitySwitchPolicy;
    readonly multipleLogin: MultipleLoginPolicy;
  };
  readonly pinLockout: PinLockoutPolicy;
  readonly sessions: SessionEndPolicy;
  readonly provisioning: ProvisioningSettings;
  /** Admin and PBX API tokens (never logged). */
  readonly apiTokens: readonly string[];
  /** Where `hotdesk serve` listens when no command-line flag says otherwise. */
  readonly network?: NetworkSettings;
  /** The hot-desk line and the agent's own voice (docs/directory.md "voice"); absent = {@link DEFAULT_VOICE_SETTINGS}. */
  readonly voice?: VoiceSettings;
}

/** Languages the agent's spoken prompts exist in. */
export type VoiceLanguage = 'en' | 'nl' | 'de';
export const VOICE_LANGUAGES: readonly VoiceLanguage[] = ['en', 'nl', 'de'];

/**
 * The hot-desk line: one extra SIP account on every hot-desk phone,
 * registered to the agent, which answers calls on it in its own voice
 * (docs/directory.md "voice", docs/vendors.md "The hot-desk line").
 */
export interface VoiceSettings {
  /** Language of the spoken prompts. */
  readonly language: VoiceLanguage;
  /** Numbers the phones must never send to the hot-desk line (digits only). */
  readonly emergencyNumbers: readonly string[];
  /** Give the hot-desk line a line key of its own on the phones. */
  readonly lineKey: boolean;
  /** Digest realm the agent challenges the hot-desk line's REGISTER and INVITE with. */
  readonly realm: string;
  /** Addresses or networks (CIDR) of PBXes allowed to forward feature-code calls to the agent. */
  readonly pbxAddresses: readonly string[];
}

/** The one place the voice defaults live (directory loader, renderer and voice server read them from here). */
export const DEFAULT_VOICE_SETTINGS: VoiceSettings = Object.freeze({
  language: 'en',
  emergencyNumbers: Object.freeze(['112', '911', '999']) as readonly string[],
  lineKey: false,
  realm: 'hotdesk',
  pbxAddresses: Object.freeze([]) as readonly string[],
});

/** The site's voice settings with every default filled in. */
export function voiceSettings(site: Pick<SiteSettings, 'voice'>): VoiceSettings {
  return site.voice ?? DEFAULT_VOICE_SETTINGS;
}

/** The site's PBX (SIP registrar of the users' lines). */
export interface PbxSettings {
  readonly host: string;
  readonly port: number;
  readonly transport: Transport;
  /**
   * Digest realm of the PBX. A check-sync NOTIFY challenged with 401/407 is
   * answered with line credentials only when the challenge names this realm;
   * absent = never answer a challenge.
   */
  readonly realm?: string;
}

/** Listener settings a site may pin in its directory file (flags win). */
export interface NetworkSettings {
  readonly host?: string;
  readonly httpPort?: number;
  /** TFTP port; 0 turns TFTP off. */
  readonly tftpPort?: number;
  /** Local UDP port check-sync NOTIFYs are sent from. */
  readonly sipPort?: number;
  /** SIP PnP responder port; absent = off. */
  readonly pnpPort?: number;
}

export interface PinLockoutPolicy {
  /** Failures within `windowSeconds` that trigger a lock (default 5). */
  readonly maxAttempts: number;
  readonly windowSeconds: number;
  /** First lock length; doubles with each further lockout up to `maxLockSeconds`. */
  readonly baseLockSeconds: number;
  readonly maxLockSeconds: number;
}

export interface SessionEndPolicy {
  /** Maximum session length in minutes; absent = unlimited. */
  readonly maxDurationMinutes?: number;
  /** Local time `HH:MM` (site time zone) at which every session ends; absent = none. */
  readonly dailyLogoutTime?: string;
}

export interface ProvisioningSettings {
  /** Site bootstrap HTTP digest credential (before a phone has its own). */
  readonly bootstrap: { readonly username: string; readonly password: string };
  /**
   * Enrol an unknown phone of a known model when it fetches its own secret file
   * authenticated with the bootstrap credential (hot-desk on, logged out).
   */
  readonly autoEnrol: boolean;
  /**
   * Record unauthenticated first contacts of unknown phones (HTTP, TFTP, PnP) as
   * quarantined sightings, capped per source and in total, that an admin accepts
   * (`hotdesk phones accept`). Off: such contacts are refused and only counted.
   */
  readonly anonymousEnrolment: boolean;
  /** Serve files holding secrets over TFTP (legacy phones only). */
  readonly allowTftpSecrets: boolean;
  /** CIDR allow-list for phone-facing requests; empty = everyone. */
  readonly allowedNetworks: readonly string[];
  /** Base URL phones use to reach the agent over HTTP, e.g. `http://10.0.0.5:8080`. Absent: derived at serve time. */
  readonly baseUrl?: string;
  /** Poll interval written into phone files as a safety net (minutes). */
  readonly pollMinutes: number;
}

// ---------------------------------------------------------------------------
// Hot-desk state machine contract (implemented in core/hotdesk-machine.ts)
// ---------------------------------------------------------------------------

/** Prompt ids the voice and screen layers turn into audio or text. */
export type PromptId =
  | 'ask-extension'
  | 'ask-pin'
  | 'logged-in'
  | 'logged-out'
  | 'switched'
  | 'wrong-pin'
  | 'locked'
  | 'not-allowed'
  | 'unknown-user'
  | 'already-logged-in'
  | 'not-hotdesk-code';

/** What happened, one per decision: a prompt's outcome, or nothing changed. */
export type OutcomeCode = PromptId | 'no-change';

/** Result of parsing dialled digits (core/feature-code.ts). */
export type FeatureCode =
  | { readonly kind: 'toggle' } // *35
  | { readonly kind: 'ext'; readonly ext: string } // *35*<ext>
  | { readonly kind: 'ext-pin'; readonly ext: string; readonly pin: string } // *35*<ext>*<pin>
  | { readonly kind: 'not-hotdesk'; readonly reason: string };

/**
 * Failure record for PIN guessing, per short number and per phone
 * (core/pin-guard.ts): the times of recent failures (a sliding window) and
 * the lock they caused.
 */
export interface LockCounter {
  /**
   * Epoch ms of recorded failures, oldest first. Only those younger than the
   * policy window count; the guard keeps at most `maxAttempts` of them.
   */
  readonly failures: readonly number[];
  /** How many times this subject was locked (drives the growing lock time). */
  readonly lockouts: number;
  /** Epoch ms until which the subject is locked (0 = never locked). */
  readonly lockedUntil: number;
}

export const EMPTY_LOCK: LockCounter = Object.freeze({ failures: Object.freeze([]) as readonly number[], lockouts: 0, lockedUntil: 0 });

/** The slice of the world one decision needs; loaded by the shell inside one transaction. */
export interface DeskState {
  readonly phone: { readonly mac: string; readonly hotdesk: boolean };
  /** The session on this phone, if any, with its user's ext. */
  readonly phoneSession: Session | null;
  /** The user named by the digits/command (null when none named or unknown). */
  readonly user: { readonly ext: string; readonly name: string; readonly hotdesk: boolean; readonly hasPin: boolean } | null;
  /** Every session of `user` (on any phone). */
  readonly userSessions: readonly Session[];
  /** Failure record of the short number the command names, whether or not a user has it. */
  readonly userLock: LockCounter;
  readonly phoneLock: LockCounter;
}

/** Why a session ended. */
export type EndReason = 'logout' | 'moved' | 'switched' | 'max-duration' | 'daily-logout' | 'admin';

/** A command fed to the state machine. */
export type DeskCommand =
  /** Digits dialled on the phone (from PBX, action URL or `hotdesk dial`). `pinValid` is set by the shell when a PIN was given and the user exists. */
  | { readonly kind: 'dial'; readonly code: FeatureCode; readonly pinValid?: boolean }
  /** Phone-screen login (short number + PIN entered on the screen). */
  | { readonly kind: 'screen-login'; readonly ext: string; readonly pinValid: boolean }
  /** Admin login (REST/CLI): no PIN needed, policies still apply. */
  | { readonly kind: 'admin-login'; readonly ext: string }
  /** Logout from screen, admin or CLI. */
  | { readonly kind: 'logout'; readonly reason: 'logout' | 'admin' }
  /** Automatic end decided by `sessionShouldEnd`. */
  | { readonly kind: 'expire'; readonly reason: 'max-duration' | 'daily-logout' };

/** Every audit event kind, in one list (also the live event stream's `kind` values). */
export const AUDIT_KINDS = [
  'login',
  'logout',
  'switch',
  'auto-logout',
  'wrong-pin',
  'lockout',
  'refused',
  'enrolment',
  'sync-sent',
  'sync-confirmed',
  'sync-failed',
  'secret-served',
  'auth-failure',
  'import',
  'pnp-sighting',
  'line-registered',
  'line-unregistered',
] as const;

/** Audit event kinds (also the live event stream's `type`). */
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** One audit event. Never holds a secret. */
export interface AuditEvent {
  readonly kind: AuditKind;
  /** Epoch ms. */
  readonly at: number;
  readonly phone?: string;
  readonly user?: string;
  readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
}

/** Side effects of one decision, applied by the store in the same transaction. */
export type DeskEffect =
  | { readonly type: 'session-start'; readonly session: Session }
  | { readonly type: 'session-end'; readonly session: Session; readonly reason: EndReason }
  /** The phone's files change: bump its config revision and mark it pending sync. */
  | { readonly type: 'reprovision'; readonly mac: string }
  | { readonly type: 'lock-set'; readonly scope: 'user' | 'phone'; readonly subject: string; readonly counter: LockCounter }
  | { readonly type: 'audit'; readonly event: AuditEvent };

/** The answer to the person at the phone. */
export interface DeskOutcome {
  readonly code: OutcomeCode;
  readonly prompt: PromptId | null;
  readonly phone: string;
  /** The user now logged in (login/switch) or just logged out. */
  readonly user?: string;
  readonly userName?: string;
  /** For switch/move: the user or phone that was replaced. */
  readonly previousUser?: string;
  readonly movedFrom?: string;
  /** For wrong-pin: attempts left before a lock. */
  readonly attemptsLeft?: number;
  /** For locked: epoch ms until the lock ends. */
  readonly lockedUntil?: number;
  /** Short human text (English) for CLI and screens; never a secret. */
  readonly message: string;
}

/** What `decide` returns. */
export interface DeskDecision {
  readonly outcome: DeskOutcome;
  readonly effects: readonly DeskEffect[];
}

// ---------------------------------------------------------------------------
// Small pure helpers
// ---------------------------------------------------------------------------

const MAC_RE = /^[0-9a-f]{12}$/;

/** Normalises `00:15:65:AA:BB:CC`, `0015.65aa.bbcc`, `001565AABBCC` to `001565aabbcc`; null if not a MAC. */
export function normalizeMac(input: string): string | null {
  const hex = input
    .trim()
    .toLowerCase()
    .replace(/[:\-.]/g, '');
  return MAC_RE.test(hex) ? hex : null;
}

/** True for a normalised MAC. */
export function isMac(s: string): boolean {
  return MAC_RE.test(s);
}

/** One identity key on the phone: dials `<prefix>*<ext>*<pin>`. */
export interface IdentityKey {
  readonly ext: string;
  readonly label: string;
  /** Clear PIN, decrypted by the shell only for rendering this phone's own file. */
  readonly pin: string;
  readonly outboundCallerId?: string;
}
