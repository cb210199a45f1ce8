/**
 * Vendor-neutral screen wording (English) shared by the renderers.
 *
 * Pure module.
 */
import type { DeskOutcome } from '../../core/model.js';
import type { ScreenContext, ScreenIdentity } from '../driver.js';

/** Fixed screen strings. */
export const SCREEN_TEXT = Object.freeze({
  title: 'Hot desk',
  login: 'Log in',
  logout: 'Log out',
  ext: 'Short number',
  pin: 'PIN',
  back: 'Back to menu',
  exit: 'Exit',
});

/**
 * Most characters of a directory name or label shown on a screen: phone
 * displays show a few dozen, and an unbounded name would push a Yealink
 * object past its 10,000-byte limit.
 */
export const MAX_SCREEN_NAME_CHARS = 64;

/** `s` cut to `max` characters (code points), ending in `…` when cut. */
export function clipText(s: string, max: number = MAX_SCREEN_NAME_CHARS): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** `outcome` with its user name clipped for a screen (never touches anything else). */
export function screenOutcome(outcome: DeskOutcome): DeskOutcome {
  return outcome.userName === undefined ? outcome : { ...outcome, userName: clipText(outcome.userName) };
}

/** Menu title: who is logged in, or the phone's label. */
export function menuTitle(ctx: ScreenContext): string {
  return ctx.currentUser
    ? `${SCREEN_TEXT.title}: ${clipText(ctx.currentUser.name)} (${ctx.currentUser.ext})`
    : `${SCREEN_TEXT.title}: ${clipText(ctx.phoneLabel)}`;
}

/** Text of an identity entry. */
export function identityText(id: ScreenIdentity): string {
  return id.label !== '' && id.label !== id.ext ? `${clipText(id.label)} (${id.ext})` : id.ext;
}

/** Text of the logout entry. */
export function logoutText(ctx: ScreenContext): string {
  return ctx.currentUser ? `${SCREEN_TEXT.logout} ${clipText(ctx.currentUser.name)} (${ctx.currentUser.ext})` : SCREEN_TEXT.logout;
}

/**
 * Adds `items` to a document one by one while its byte length stays within
 * `limit` (Yealink: 10,000 bytes per XML object); returns the items kept.
 */
export function fitItems(render: (items: readonly string[]) => string, items: readonly string[], limit: number): string {
  let kept: string[] = [];
  for (const it of items) {
    const next = [...kept, it];
    if (utf8Length(render(next)) > limit) break;
    kept = next;
  }
  return render(kept);
}

const encoder = new TextEncoder();

/** UTF-8 byte length of `s`. */
export function utf8Length(s: string): number {
  return encoder.encode(s).length;
}
