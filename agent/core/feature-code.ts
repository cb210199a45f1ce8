/**
 * Feature-code parser: dialled digits -> hot-desk command (docs/behaviour.md §2).
 *
 * Grammar, with the default prefix `*35` (the prefix is configurable):
 *
 * ```text
 * <prefix>                 toggle   (ask for short number / log out)
 * <prefix>*<ext>           ext      (ask for PIN / log out)
 * <prefix>*<ext>*<pin>     ext-pin  (one-touch login, switch or log out)
 * ```
 *
 * A trailing `#` (the "send" key) is ignored. Short numbers keep their
 * leading zeros (`001` is not `1`). Digits reach the agent from the PBX, from
 * the CLI, or from a phone's outgoing-call action URL, where `$remote` is a SIP
 * URI that may be URL-encoded (`sip:%2A35%2A101%2A1234%40pbx`, see
 * docs/vendors.md "Action URLs"); the URI scheme (RFC 3261 §19.1
 * `sip:`/`sips:`, RFC 3966 `tel:`), the `@host` part and any URI parameters
 * are stripped before parsing.
 *
 * Pure module. Reasons in `not-hotdesk` results never echo the input, so a
 * PIN typed by mistake cannot leak through a log of the reason.
 */
import { HotdeskError } from './errors.js';
import type { FeatureCode } from './model.js';

/** The default feature-code prefix (docs/behaviour.md §2). */
export const DEFAULT_FEATURE_PREFIX = '*35';

/** Short numbers: 1..15 digits (E.164 length bound), leading zeros kept. */
const EXT_RE = /^[0-9]{1,15}$/;
/** PINs: 1..12 digits. */
const PIN_RE = /^[0-9]{1,12}$/;
/** A prefix is any non-empty string of keypad symbols. */
const PREFIX_RE = /^[*#0-9]{1,16}$/;
/** Longer inputs are not dialled digits (bounded work for hostile input). */
const MAX_INPUT = 512;

/** True when `prefix` is a usable feature-code prefix (`*`, `#`, digits). */
export function isValidFeaturePrefix(prefix: string): boolean {
  return PREFIX_RE.test(prefix);
}

/** True for a syntactically valid short number (digits only, 1..15). */
export function isValidExt(ext: string): boolean {
  return EXT_RE.test(ext);
}

/** True for a syntactically valid PIN (digits only, 1..12). */
export function isValidPin(pin: string): boolean {
  return PIN_RE.test(pin);
}

function notHotdesk(reason: string): FeatureCode {
  return { kind: 'not-hotdesk', reason };
}

/**
 * Reduces a dial string or SIP/tel URI to its dialled-digits part, or returns
 * null when it cannot be decoded. Steps: trim, percent-decode (RFC 3986 §2.1),
 * strip `<...>`, strip the scheme, cut at `@` (host), `;` (URI params) or `?`
 * (headers).
 */
function userPart(input: string): string | null {
  let s = input.trim();
  if (s.includes('%')) {
    try {
      s = decodeURIComponent(s);
    } catch {
      return null;
    }
    s = s.trim();
  }
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1).trim();
  const scheme = /^(sips?|tel):/i.exec(s);
  if (scheme) s = s.slice(scheme[0].length);
  const cut = s.search(/[@;?]/);
  if (cut >= 0) s = s.slice(0, cut);
  return s.trim();
}

/**
 * Parses dialled digits into a {@link FeatureCode}. Total: never throws; any
 * input that is not a hot-desk code (a normal number, `*351`, letters, empty,
 * too many `*` segments, an invalid prefix) gives `{kind:'not-hotdesk'}` with
 * a short reason.
 *
 * @param digits what was dialled, or a `sip:`/`sips:`/`tel:` URI carrying it
 * @param prefix the site's feature-code prefix (`*35` by default)
 */
export function parseFeatureCode(digits: string, prefix = DEFAULT_FEATURE_PREFIX): FeatureCode {
  if (typeof digits !== 'string' || typeof prefix !== 'string') return notHotdesk('not a string');
  if (!PREFIX_RE.test(prefix)) return notHotdesk('invalid feature prefix');
  if (digits.length > MAX_INPUT) return notHotdesk('too long');
  const decoded = userPart(digits);
  if (decoded === null) return notHotdesk('bad URL encoding');
  let s = decoded;
  if (s.endsWith('#') && s !== prefix) s = s.slice(0, -1);
  if (s === '') return notHotdesk('empty');
  if (!/^[*#0-9]+$/.test(s)) return notHotdesk('not keypad digits');
  if (!s.startsWith(prefix)) return notHotdesk('no feature prefix');
  const rest = s.slice(prefix.length);
  if (rest === '') return { kind: 'toggle' };
  if (!rest.startsWith('*')) return notHotdesk('prefix not followed by * or end');
  const parts = rest.slice(1).split('*');
  if (parts.length > 2) return notHotdesk('too many segments');
  const [ext = '', pin] = parts;
  if (!EXT_RE.test(ext)) return notHotdesk(ext === '' ? 'empty short number' : 'invalid short number');
  if (pin === undefined) return { kind: 'ext', ext };
  if (!PIN_RE.test(pin)) return notHotdesk(pin === '' ? 'empty PIN' : 'invalid PIN');
  return { kind: 'ext-pin', ext, pin };
}

/**
 * Builds the dial string a one-touch key sends: `<prefix>*<ext>` or
 * `<prefix>*<ext>*<pin>`. The result parses back to the same code with
 * {@link parseFeatureCode}. Throws `bad-request` (without echoing the PIN)
 * when a part is not valid.
 */
export function formatFeatureCode(prefix: string, ext: string, pin?: string): string {
  if (!PREFIX_RE.test(prefix)) throw new HotdeskError('bad-request', 'invalid feature prefix');
  if (!EXT_RE.test(ext)) throw new HotdeskError('bad-request', 'invalid short number (digits only, 1 to 15)');
  if (pin === undefined) return `${prefix}*${ext}`;
  if (!PIN_RE.test(pin)) throw new HotdeskError('bad-request', 'invalid PIN (digits only, 1 to 12)');
  return `${prefix}*${ext}*${pin}`;
}
