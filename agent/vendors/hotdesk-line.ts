/**
 * The hot-desk line in a phone's files (docs/vendors.md "The hot-desk line",
 * docs/voice.md): which account slot carries it, and the values the
 * templates write for it.
 *
 * Slot H is the model's last account slot (`profile.accounts`), so the
 * user's line and the device account keep slot 1. A model with a single
 * account slot carries the line only while that slot is otherwise empty
 * (nobody logged in and no device account): the device account stays for
 * emergency calls, the user's line is the phone's purpose.
 *
 * Typed feature codes reach the line through the phone's own dial plan where
 * the vendor documents one that can choose an account: the Yealink global
 * digit map, whose element suffix `<An>` picks account n (Yealink AG, "Digit
 * Map": "123<A2>" uses the second account; the digit-map syntax is RFC 3435
 * §2.1.5). Snom and Poly document no such routing for a typed number.
 *
 * Pure module.
 */
import { voiceSettings } from '../core/model.js';
import type { RenderInput } from './driver.js';
import type { FirmwareProfile } from './firmware-profile.js';

/** Label of the hot-desk line on the phone (account label, idle text). */
export const HOTDESK_LINE_LABEL = 'Hot desk';
/** RTP payload type of telephone-event (RFC 4733) the phones offer on the hot-desk line (the vendors' default). */
export const HOTDESK_DTMF_PAYLOAD = 101;
/** Codecs enabled on the hot-desk line: G.711 µ-law and A-law, which the agent's prompts are in. */
export const HOTDESK_CODECS: readonly string[] = ['pcmu', 'pcma'];

/**
 * The account slot of the hot-desk line on `profile` in the given state, or
 * null when the model carries none then (see module doc).
 */
export function hotdeskLineSlot(profile: Pick<FirmwareProfile, 'accounts'>, state: { loggedIn: boolean; hasDeviceAccount: boolean }): number | null {
  if (profile.accounts >= 2) return profile.accounts;
  if (profile.accounts === 1 && !state.loggedIn && !state.hasDeviceAccount) return 1;
  return null;
}

/** The slot of the hot-desk line in `input` (null: no line, the phone is not hot-desk, or the model has no slot for it now). */
export function hotdeskLineSlotOf(input: Pick<RenderInput, 'hotdeskLine' | 'phone' | 'profile' | 'user'>): number | null {
  if (input.hotdeskLine === null || !input.phone.hotdesk) return null;
  return hotdeskLineSlot(input.profile, { loggedIn: input.user !== null, hasDeviceAccount: input.phone.deviceAccount !== undefined });
}

/** The layout options for the hot-desk line of `input` (key-layout.ts). */
export function hotdeskLineLayout(input: Pick<RenderInput, 'hotdeskLine' | 'phone' | 'profile' | 'user' | 'site'>): { slot: number; lineKey: boolean } | null {
  const slot = hotdeskLineSlotOf(input);
  return slot === null ? null : { slot, lineKey: voiceSettings(input.site).lineKey };
}

/**
 * The Yealink global digit map that sends typed feature codes to account
 * `slot` and the site's emergency numbers to account 1 (the PBX account),
 * elements separated by `|`:
 * - `<n>T<A1>` per emergency number, only when account 1 carries an account
 *   (`emergencyAccount`); the timer keeps longer numbers that start with the
 *   same digits dialable,
 * - `<prefix>T<AH>` (the bare prefix, then a pause) and `<prefix>*[x*].T<AH>`
 *   (`*<ext>`, `*<ext>*<pin>`),
 * - `[x*#+].T`: everything else, on the default account, after the pause.
 */
export function yealinkDigitMap(o: { prefix: string; slot: number; emergencyNumbers: readonly string[]; emergencyAccount: boolean }): string {
  const line = `<A${o.slot}>`;
  const emergency = o.emergencyAccount ? o.emergencyNumbers.map((n) => `${n}T<A1>`) : [];
  return [...emergency, `${o.prefix}T${line}`, `${o.prefix}*[x*].T${line}`, '[x*#+].T'].join('|');
}

/** The `hotdeskLine` template variable (docs/templates.md "hotdeskLine"). */
export interface HotdeskLineContext {
  /** Account slot H (Yealink account, Snom identity, Poly registration). */
  readonly index: number;
  readonly label: string;
  readonly username: string;
  /** Clear text: the phone's own secret file only. */
  readonly password: string;
  /** The agent's SIP address: host of the provisioning URL, SIP UDP port. */
  readonly host: string;
  readonly port: number;
  readonly hostPort: string;
  readonly transport: 'udp';
  /** Vendor transport code of `transport`. */
  readonly transportCode: string | number;
  /** True while nobody is logged in: the line should then be the phone's default account. */
  readonly isDefault: boolean;
  /** Codecs to enable (`pcmu`, `pcma`). */
  readonly codecs: readonly string[];
  /** Snom `codec_priority_list` form: the codecs, then `telephone-event`. */
  readonly codecList: string;
  /** RTP payload type of telephone-event (RFC 4733 DTMF). */
  readonly dtmfPayload: number;
  /** The site's emergency numbers (never sent to this line). */
  readonly emergencyNumbers: readonly string[];
  /** Account 1 carries a PBX account now (user or device), so emergency numbers can be pinned to it. */
  readonly emergencyAccount: boolean;
  /** Yealink global digit map ({@link yealinkDigitMap}). */
  readonly digitMap: string;
}

/**
 * The `hotdeskLine` variable of `input` with the line in `slot`;
 * `accountOneActive`: slot 1 carries the user's or the device account.
 */
export function hotdeskLineContext(input: RenderInput, slot: number, transportCode: string | number, accountOneActive: boolean): HotdeskLineContext | null {
  const line = input.hotdeskLine;
  if (line === null) return null;
  const voice = voiceSettings(input.site);
  const emergencyAccount = accountOneActive && slot !== 1;
  return {
    index: slot,
    label: HOTDESK_LINE_LABEL,
    username: line.username,
    password: line.password,
    host: line.host,
    port: line.port,
    hostPort: `${line.host}:${line.port}`,
    transport: line.transport,
    transportCode,
    isDefault: input.user === null,
    codecs: [...HOTDESK_CODECS],
    codecList: [...HOTDESK_CODECS, 'telephone-event'].join(','),
    dtmfPayload: HOTDESK_DTMF_PAYLOAD,
    emergencyNumbers: [...voice.emergencyNumbers],
    emergencyAccount,
    digitMap: yealinkDigitMap({ prefix: input.site.featurePrefix, slot, emergencyNumbers: voice.emergencyNumbers, emergencyAccount }),
  };
}
